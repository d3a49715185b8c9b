// SPDX-License-Identifier: GPL-2.0
/*
 * vhostx: one virtqueue's configuration ioctls, eventfds, used-ring batching
 * and failure handling. The data path itself is in net.c.
 */
#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/nospec.h>
#include <linux/ratelimit.h>
#include <linux/slab.h>
#include <linux/vhost.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>

#include "compat.h"
#include "dev.h"
#include "netlink.h"
#include "objs.h"
#include "trace.h"
#include "rx_batch.h"
#include "tx_batch.h"
#include "vq.h"

static const char *const vhx_qerr_names[] = {
	[VHX_QERR_HDR - VHX_RERR_MAX] = "no packet (TX) or no room (RX) after the vnet header",
	[VHX_QERR_START - VHX_RERR_MAX] = "used ring not accessible at start",
};

const char *vhx_vq_err_str(unsigned int reason)
{
	if (reason < VHX_RERR_MAX)
		return vhx_ring_err_str(reason);
	if (reason < VHX_QERR_MAX)
		return vhx_qerr_names[reason - VHX_RERR_MAX];
	return "unknown";
}

static void vhx_vq_kick_wake(struct vhx_poll *poll)
{
	struct vhx_vq *vq = container_of(poll, struct vhx_vq, kick_poll);

	atomic64_inc(&vq->kicks);
	trace_vhostx_kick(vq->dev->id, vq->index);
}

/* Drop a kick file or call/err context the queue held (counted, objs.h). */
static void vhx_vq_put_kick(struct file *kick)
{
	fput(kick);
	vhx_obj_put(VHX_OBJ_KICK);
}

static void vhx_vq_put_ctx(struct eventfd_ctx *ctx)
{
	eventfd_ctx_put(ctx);
	vhx_obj_put(VHX_OBJ_EVENTFD);
}

static void vhx_vq_work(struct vhx_work *work)
{
	struct vhx_vq *vq = container_of(work, struct vhx_vq, work);

	vq->handle(vq);
}

int vhx_vq_init(struct vhx_vq *vq, struct vhx_dev *dev, unsigned int index,
		void (*handle)(struct vhx_vq *vq), bool tx)
{
	vq->iov = kmalloc_array(VHX_IOV_MAX, sizeof(*vq->iov),
				GFP_KERNEL_ACCOUNT);
	vq->heads = kmalloc_array(VHX_IOV_MAX, sizeof(*vq->heads),
				  GFP_KERNEL_ACCOUNT);
	if (tx) {
		vq->batch = kzalloc(sizeof(*vq->batch), GFP_KERNEL_ACCOUNT);
	} else {
		vq->rxb = kzalloc(sizeof(*vq->rxb), GFP_KERNEL_ACCOUNT);
		vq->iov_gpa = kmalloc_array(VHX_IOV_MAX, sizeof(*vq->iov_gpa),
					    GFP_KERNEL_ACCOUNT);
	}
	if (!vq->iov || !vq->heads || (!vq->batch && !vq->rxb) ||
	    (vq->rxb && !vq->iov_gpa)) {
		kfree(vq->iov);
		kfree(vq->heads);
		kfree(vq->batch);
		kfree(vq->rxb);
		kfree(vq->iov_gpa);
		return -ENOMEM;
	}
	vhx_obj_get(VHX_OBJ_VQ_BUFS);
	mutex_init(&vq->mutex);
	vq->dev = dev;
	vq->index = index;
	vq->handle = handle;
	u64_stats_init(&vq->stats.syncp);
	vhx_work_init(&vq->work, vhx_vq_work);
	/* The worker comes with the owner (workers.c). */
	vhx_poll_init(&vq->kick_poll, NULL, &vq->work, EPOLLIN);
	vq->kick_poll.on_wake = vhx_vq_kick_wake;
	vhx_vq_reset(vq);
	return 0;
}

/*
 * Back to the state of a fresh open, as RESET_OWNER wants. The queue must be
 * stopped: no backend, no kick poll, the worker idle or gone.
 */
void vhx_vq_reset(struct vhx_vq *vq)
{
	if (vq->kick)
		vhx_vq_put_kick(vq->kick);
	if (vq->call)
		vhx_vq_put_ctx(vq->call);
	if (vq->err)
		vhx_vq_put_ctx(vq->err);
	vq->kick = NULL;
	vq->call = NULL;
	vq->err = NULL;
	/* A run always ends with vhx_log_end(): no page is pinned here. */
	vq->log.base = 0;
	vq->log_ctx = NULL;
	vq->log_used = false;
	memset(&vq->ring, 0, sizeof(vq->ring));
	vq->mem = NULL;
	vq->features = 0;
	vq->vhost_hlen = 0;
	vq->sock_hlen = 0;
	vq->busyloop_timeout = 0;
	vq->broken = false;
	vq->broken_reason = VHX_RERR_NONE;
	vq->nused = 0;
}

void vhx_vq_cleanup(struct vhx_vq *vq)
{
	vhx_vq_reset(vq);
	if (vq->batch)
		vhx_tx_batch_release(vq->batch);
	kfree(vq->batch);
	kfree(vq->rxb);
	vq->batch = NULL;
	vq->rxb = NULL;
	kfree(vq->iov);
	kfree(vq->heads);
	kfree(vq->iov_gpa);
	vq->iov = NULL;
	vq->heads = NULL;
	vq->iov_gpa = NULL;
	vhx_obj_put(VHX_OBJ_VQ_BUFS);
	mutex_destroy(&vq->mutex);
}

void vhx_vq_set_features(struct vhx_vq *vq, u64 features)
{
	size_t hlen;

	hlen = features & (BIT_ULL(VIRTIO_NET_F_MRG_RXBUF) |
			   BIT_ULL(VIRTIO_F_VERSION_1)) ?
		       sizeof(struct virtio_net_hdr_mrg_rxbuf) :
		       sizeof(struct virtio_net_hdr);
	mutex_lock(&vq->mutex);
	vq->features = features;
	vq->ring.event_idx = features & BIT_ULL(VIRTIO_RING_F_EVENT_IDX);
	vq->ring.indirect = features & BIT_ULL(VIRTIO_RING_F_INDIRECT_DESC);
	vq->ring.notify_on_empty = features & BIT_ULL(VIRTIO_F_NOTIFY_ON_EMPTY);
	/* With VHOST_NET_F_VIRTIO_NET_HDR the device owns the header. */
	if (features & BIT_ULL(VHOST_NET_F_VIRTIO_NET_HDR)) {
		vq->vhost_hlen = hlen;
		vq->sock_hlen = 0;
	} else {
		vq->vhost_hlen = 0;
		vq->sock_hlen = hlen;
	}
	mutex_unlock(&vq->mutex);
}

void vhx_vq_read_stats(struct vhx_vq *vq, u64 *cnt)
{
	unsigned int start;

	do {
		start = u64_stats_fetch_begin(&vq->stats.syncp);
		memcpy(cnt, vq->stats.cnt, sizeof(vq->stats.cnt));
	} while (u64_stats_fetch_retry(&vq->stats.syncp, start));
	cnt[VHOSTX_CNT_KICKS] = atomic64_read(&vq->kicks);
}

/*
 * Stop a queue whose guest broke the rules: it does nothing more until its
 * ring is set up again. Tell the VMM through the err eventfd, log once.
 */
void vhx_vq_break(struct vhx_vq *vq, unsigned int reason)
{
	if (vq->broken)
		return;
	vq->broken = true;
	vq->broken_reason = reason;
	vq->nused = 0;
	vhx_vq_count(vq, VHOSTX_CNT_ERR_RING, 1);
	if (vq->err)
		vhx_eventfd_signal(vq->err);
	pr_warn_ratelimited("vhostx: device %u queue %u stopped: %s\n",
			    vq->dev->id, vq->index, vhx_vq_err_str(reason));
	trace_vhostx_queue_error(vq->dev->id, vq->index, reason,
				 vhx_vq_err_str(reason));
	vhx_nl_notify_broken(vq);
}

/* Write @n used entries and used->idx, then interrupt the guest if it wants. */
static void vhx_vq_publish(struct vhx_vq *vq, const struct vring_used_elem *e,
			   unsigned int n)
{
	if (vhx_ring_push_used(&vq->ring, e, n)) {
		vhx_vq_break(vq, vq->ring.err ?: VHX_RERR_USED);
		return;
	}
	vhx_vq_count(vq, VHOSTX_CNT_BATCHES, 1);
	if (!vhx_ring_need_signal(&vq->ring)) {
		vhx_vq_count(vq, VHOSTX_CNT_IRQS_SUPPRESSED, 1);
		trace_vhostx_signal(vq->dev->id, vq->index,
				    vq->ring.last_used_idx, false);
		return;
	}
	trace_vhostx_signal(vq->dev->id, vq->index, vq->ring.last_used_idx,
			    true);
	if (vq->call)
		vhx_eventfd_signal(vq->call);
	vhx_vq_count(vq, VHOSTX_CNT_IRQS, 1);
}

/* Publish what is batched in vq->used[]. */
void vhx_vq_flush_used(struct vhx_vq *vq)
{
	unsigned int n = vq->nused;

	vq->nused = 0;
	if (n && !vq->broken)
		vhx_vq_publish(vq, vq->used, n);
}

/*
 * Log the first @len bytes of what vq->iov[0..@nseg) points to: the RX
 * buffers a packet was just written to. 0, or -EFAULT with the queue broken.
 */
int vhx_vq_log_iov(struct vhx_vq *vq, unsigned int nseg, size_t len)
{
	unsigned int i;
	size_t n;

	for (i = 0; i < nseg && len; i++) {
		n = min(vq->iov[i].iov_len, len);
		if (vhx_log_write(&vq->log, vq->iov_gpa[i], n)) {
			vhx_vq_break(vq, VHX_RERR_LOG);
			return -EFAULT;
		}
		len -= n;
	}
	return 0;
}

/*
 * End of a run (or of an ioctl that wrote the ring): release the bitmap
 * page, count what was logged and tell the VMM.
 */
void vhx_vq_log_end(struct vhx_vq *vq)
{
	u64 marks = vhx_log_end(&vq->log);

	if (!marks)
		return;
	vhx_vq_count(vq, VHOSTX_CNT_LOG_PAGES, marks);
	trace_vhostx_log(vq->dev->id, vq->index, marks);
	if (vq->log_ctx)
		vhx_eventfd_signal(vq->log_ctx);
}

/*
 * Queue @n used entries that the guest must see together (one RX packet's
 * buffers): never split across two used->idx updates. 0, or -EIO once broken.
 */
int vhx_vq_add_used_n(struct vhx_vq *vq, const struct vring_used_elem *e,
		      unsigned int n)
{
	if (vq->nused + n > VHX_USED_BATCH)
		vhx_vq_flush_used(vq);
	if (n > VHX_USED_BATCH) {
		if (!vq->broken)
			vhx_vq_publish(vq, e, n);
	} else {
		memcpy(vq->used + vq->nused, e, n * sizeof(*e));
		vq->nused += n;
	}
	return vq->broken ? -EIO : 0;
}

int vhx_vq_add_used(struct vhx_vq *vq, u16 head, u32 len)
{
	struct vring_used_elem e = {
		.id = cpu_to_vhx32(head),
		.len = cpu_to_vhx32(len),
	};

	return vhx_vq_add_used_n(vq, &e, 1);
}

/* Sizes as vhost's vhost_get_used_size(). */
static size_t vhx_vq_used_size(const struct vhx_ring *r)
{
	return sizeof(struct vring_used) +
	       r->num * sizeof(struct vring_used_elem) +
	       (r->event_idx ? sizeof(__virtio16) : 0);
}

/* Do the three ring areas of @r lie in the user address space? */
bool vhx_vq_ring_access_ok(const struct vhx_ring *r)
{
	size_t num = r->num, event = r->event_idx ? sizeof(__virtio16) : 0;

	return vhx_access_ok(r->desc, num * sizeof(struct vring_desc)) &&
	       vhx_access_ok(r->avail, sizeof(struct vring_avail) +
					       num * sizeof(__virtio16) + event) &&
	       vhx_access_ok(r->used, vhx_vq_used_size(r));
}

/*
 * Does the bitmap at @base cover every region of @mem? vhost's
 * vq_memory_access_ok() with logging on; a missing table covers nothing.
 */
bool vhx_vq_log_mem_ok(const struct vhx_mem *mem, u64 base)
{
	u32 i;

	if (!mem)
		return false;
	for (i = 0; i < mem->nregions; i++) {
		const struct vhx_mem_region *m = &mem->regions[i];

		if (!vhx_log_range_ok(base, m->gpa, m->last - m->gpa + 1))
			return false;
	}
	return true;
}

static bool vhx_vq_log_used_ok(const struct vhx_vq *vq, u64 base,
			       bool log_used, u64 log_addr)
{
	return !log_used ||
	       vhx_log_range_ok(base, log_addr, vhx_vq_used_size(&vq->ring));
}

/*
 * Could a queue log with the bitmap at @base? vhost's vq_log_access_ok():
 * the guest's memory when VHOST_F_LOG_ALL is acked, the used ring when it
 * is logged. vq->mutex held.
 */
bool vhx_vq_log_access_ok(struct vhx_vq *vq, u64 base)
{
	if (vhx_vq_logs_all(vq) && !vhx_vq_log_mem_ok(vq->mem, base))
		return false;
	return vhx_vq_log_used_ok(vq, base, vq->log_used, vq->ring.log_addr);
}

static long vhx_vq_set_num(struct vhx_vq *vq, void __user *argp)
{
	struct vhost_vring_state s;

	if (vq->sock)
		return -EBUSY;
	if (copy_from_user(&s, argp, sizeof(s)))
		return -EFAULT;
	if (!s.num || s.num > 0xffff || (s.num & (s.num - 1)))
		return -EINVAL;
	vq->ring.num = s.num;
	vq->broken = false;
	return 0;
}

static long vhx_vq_set_addr(struct vhx_vq *vq, void __user *argp)
{
	struct vhost_vring_addr a;
	struct vhx_ring *r = &vq->ring, next;
	bool log_used;

	if (copy_from_user(&a, argp, sizeof(a)))
		return -EFAULT;
	log_used = a.flags & BIT(VHOST_VRING_F_LOG);
	if (a.flags & ~BIT(VHOST_VRING_F_LOG))
		return -EOPNOTSUPP;
	if ((u64)(unsigned long)a.desc_user_addr != a.desc_user_addr ||
	    (u64)(unsigned long)a.avail_user_addr != a.avail_user_addr ||
	    (u64)(unsigned long)a.used_user_addr != a.used_user_addr)
		return -EFAULT;
	if ((a.avail_user_addr & (VRING_AVAIL_ALIGN_SIZE - 1)) ||
	    (a.used_user_addr & (VRING_USED_ALIGN_SIZE - 1)) ||
	    (a.log_guest_addr & (VRING_USED_ALIGN_SIZE - 1)))
		return -EINVAL;
	next = *r;
	next.desc = u64_to_user_ptr(a.desc_user_addr);
	next.avail = u64_to_user_ptr(a.avail_user_addr);
	next.used = u64_to_user_ptr(a.used_user_addr);
	/* Sizes are known only once running; vhost checks then, too. */
	if (vq->sock && (!vhx_vq_ring_access_ok(&next) ||
			 !vhx_vq_log_used_ok(vq, vq->log.base, log_used,
					     a.log_guest_addr)))
		return -EINVAL;
	r->desc = next.desc;
	r->avail = next.avail;
	r->used = next.used;
	/* Logging the used ring starts and stops here, also while running. */
	vq->log_used = log_used;
	r->log_addr = a.log_guest_addr;
	r->log = log_used ? &vq->log : NULL;
	vq->broken = false;
	return 0;
}

static long vhx_vq_set_base(struct vhx_vq *vq, void __user *argp)
{
	struct vhost_vring_state s;

	if (vq->sock)
		return -EBUSY;
	if (copy_from_user(&s, argp, sizeof(s)))
		return -EFAULT;
	if (s.num > 0xffff)
		return -EINVAL;
	vq->ring.last_avail_idx = s.num;
	vq->ring.avail_idx = s.num;
	vq->broken = false;
	return 0;
}

static long vhx_vq_get_base(struct vhx_vq *vq, void __user *argp)
{
	struct vhost_vring_state s = {
		.index = vq->index,
		.num = vq->ring.last_avail_idx,
	};

	return copy_to_user(argp, &s, sizeof(s)) ? -EFAULT : 0;
}

static long vhx_vq_set_kick(struct vhx_vq *vq, void __user *argp)
{
	struct vhost_vring_file f;
	struct file *kick = NULL;

	if (copy_from_user(&f, argp, sizeof(f)))
		return -EFAULT;
	if (f.fd != VHOST_FILE_UNBIND) {
		kick = eventfd_fget(f.fd);
		if (IS_ERR(kick))
			return PTR_ERR(kick);
		vhx_obj_get(VHX_OBJ_KICK);
	}
	if (kick == vq->kick) {
		if (kick)
			vhx_vq_put_kick(kick);
		return 0;
	}
	vhx_poll_stop(&vq->kick_poll);
	if (vq->kick)
		vhx_vq_put_kick(vq->kick);
	vq->kick = kick;
	return kick ? vhx_poll_start(&vq->kick_poll, kick) : 0;
}

/* SET_VRING_CALL and SET_VRING_ERR: swap an eventfd context. */
static long vhx_vq_set_ctx(struct eventfd_ctx **slot, void __user *argp)
{
	struct vhost_vring_file f;
	struct eventfd_ctx *ctx = NULL;

	if (copy_from_user(&f, argp, sizeof(f)))
		return -EFAULT;
	if (f.fd != VHOST_FILE_UNBIND) {
		ctx = eventfd_ctx_fdget(f.fd);
		if (IS_ERR(ctx))
			return PTR_ERR(ctx);
		vhx_obj_get(VHX_OBJ_EVENTFD);
	}
	swap(ctx, *slot);
	if (ctx)
		vhx_vq_put_ctx(ctx);
	return 0;
}

static long vhx_vq_busyloop(struct vhx_vq *vq, unsigned int ioctl,
			    void __user *argp)
{
	struct vhost_vring_state s;

	if (ioctl == VHOST_GET_VRING_BUSYLOOP_TIMEOUT) {
		s.index = vq->index;
		s.num = vq->busyloop_timeout;
		return copy_to_user(argp, &s, sizeof(s)) ? -EFAULT : 0;
	}
	if (copy_from_user(&s, argp, sizeof(s)))
		return -EFAULT;
	vq->busyloop_timeout = s.num;
	return 0;
}

/* A vring ioctl for this queue; the caller holds dev->mutex. */
long vhx_vq_ioctl(struct vhx_vq *vq, unsigned int ioctl, void __user *argp)
{
	long ret;

	mutex_lock(&vq->mutex);
	switch (ioctl) {
	case VHOST_SET_VRING_NUM:
		ret = vhx_vq_set_num(vq, argp);
		break;
	case VHOST_SET_VRING_ADDR:
		ret = vhx_vq_set_addr(vq, argp);
		break;
	case VHOST_SET_VRING_BASE:
		ret = vhx_vq_set_base(vq, argp);
		break;
	case VHOST_GET_VRING_BASE:
		ret = vhx_vq_get_base(vq, argp);
		break;
	case VHOST_SET_VRING_KICK:
		ret = vhx_vq_set_kick(vq, argp);
		break;
	case VHOST_SET_VRING_CALL:
		ret = vhx_vq_set_ctx(&vq->call, argp);
		break;
	case VHOST_SET_VRING_ERR:
		ret = vhx_vq_set_ctx(&vq->err, argp);
		break;
	case VHOST_SET_VRING_BUSYLOOP_TIMEOUT:
	case VHOST_GET_VRING_BUSYLOOP_TIMEOUT:
		ret = vhx_vq_busyloop(vq, ioctl, argp);
		break;
	default:
		ret = -ENOIOCTLCMD;
		break;
	}
	mutex_unlock(&vq->mutex);
	return ret;
}
