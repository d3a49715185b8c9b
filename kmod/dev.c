// SPDX-License-Identifier: GPL-2.0
/*
 * vhostx: one open file of /dev/vhostx-net. Ownership, features, the memory
 * table, ioctl dispatch, and the order things stop in on reset and release.
 *
 * Every ioctl that vhost-net has behaves as it does there: same number,
 * struct, errno, and the same ownership rule (the owner is the mm that called
 * SET_OWNER; everything else but the feature ioctls needs it).
 */
#include <linux/cred.h>
#include <linux/eventfd.h>
#include <linux/nsproxy.h>
#include <linux/xarray.h>
#include <linux/nospec.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/vhost.h>
#include <net/net_namespace.h>

#include "compat.h"
#include "dev.h"
#include "mem.h"
#include "net.h"
#include "objs.h"
#include "workers.h"

DEFINE_MUTEX(vhx_devices_lock);
/* Ids start at 1: 0 means "no device" to tools. */
static DEFINE_XARRAY_ALLOC1(vhx_devices);

/* Memory tables, counted while they live (objs.h). */
static struct vhx_mem *vhx_dev_mem_new(const struct vhost_memory_region *r,
				       u32 n, int *err)
{
	struct vhx_mem *mem = vhx_mem_new(r, n, err);

	if (mem)
		vhx_obj_get(VHX_OBJ_MEM);
	return mem;
}

static void vhx_dev_mem_free(struct vhx_mem *mem)
{
	if (!mem)
		return;
	vhx_mem_free(mem);
	vhx_obj_put(VHX_OBJ_MEM);
}

/* The device with the lowest id >= *id, or NULL; vhx_devices_lock held. */
struct vhx_dev *vhx_dev_find(unsigned long *id)
{
	lockdep_assert_held(&vhx_devices_lock);
	return xa_find(&vhx_devices, id, ULONG_MAX, XA_PRESENT);
}

int vhx_dev_open(struct inode *inode, struct file *f)
{
	struct vhx_dev *d;
	int ret, i;

	d = kvzalloc(sizeof(*d), GFP_KERNEL_ACCOUNT);
	if (!d)
		return -ENOMEM;
	d->weight_packets = VHX_WEIGHT_PACKETS;
	d->weight_bytes = VHX_WEIGHT_BYTES;
	d->worker_mode = vhx_workers_default_mode();
	d->net = get_net(current->nsproxy->net_ns);
	d->uid = f->f_cred->euid;
	mutex_init(&d->mutex);
	for (i = 0; i < VHX_NVQS; i++) {
		ret = vhx_vq_init(&d->vqs[i], d, i,
				  i == VHX_VQ_TX ? vhx_net_handle_tx :
						   vhx_net_handle_rx,
				  i == VHX_VQ_TX);
		if (ret)
			goto err_vqs;
	}
	mutex_lock(&vhx_devices_lock);
	ret = xa_alloc(&vhx_devices, &d->id, d, XA_LIMIT(1, INT_MAX),
		       GFP_KERNEL);
	mutex_unlock(&vhx_devices_lock);
	if (ret)
		goto err_vqs;
	vhx_obj_get(VHX_OBJ_DEV);
	f->private_data = d;
	return 0;

err_vqs:
	while (i--)
		vhx_vq_cleanup(&d->vqs[i]);
	put_net(d->net);
	kvfree(d);
	return ret;
}

static bool vhx_dev_is_owner(const struct vhx_dev *d)
{
	return d->mm && d->mm == current->mm;
}

static void vhx_dev_set_vq_mem(struct vhx_dev *d, struct vhx_mem *mem)
{
	int i;

	/* The worker touches vq->mem only under vq->mutex. */
	for (i = 0; i < VHX_NVQS; i++) {
		mutex_lock(&d->vqs[i].mutex);
		d->vqs[i].mem = mem;
		mutex_unlock(&d->vqs[i].mutex);
	}
}

/*
 * The memory table starts out missing: until the first SET_MEM_TABLE a
 * backend cannot be attached (EFAULT), as with vhost-net. RESET_OWNER leaves
 * an empty table behind, as vhost-net does.
 */
static long vhx_dev_set_owner(struct vhx_dev *d)
{
	struct mm_struct *mm;
	int ret;

	mutex_lock(&d->mutex);
	ret = -EBUSY;
	if (d->mm)
		goto out;
	ret = -EINVAL;
	mm = get_task_mm(current);
	if (!mm)
		goto out;
	ret = vhx_workers_start(d, mm);
	if (ret) {
		mmput(mm);
		goto out;
	}
	vhx_obj_get(VHX_OBJ_MM);
	d->mm = mm;
	d->owner_tgid = current->tgid;
out:
	mutex_unlock(&d->mutex);
	return ret;
}

/*
 * Stop everything and forget the owner: backends detached, polls unhooked,
 * worker gone, queues back to their initial state. dev->mutex held.
 */
static void vhx_dev_teardown(struct vhx_dev *d)
{
	int i;

	vhx_net_stop(d);
	for (i = 0; i < VHX_NVQS; i++) {
		mutex_lock(&d->vqs[i].mutex);
		vhx_poll_stop(&d->vqs[i].kick_poll);
		mutex_unlock(&d->vqs[i].mutex);
	}
	vhx_workers_stop(d);
	for (i = 0; i < VHX_NVQS; i++) {
		mutex_lock(&d->vqs[i].mutex);
		vhx_vq_reset(&d->vqs[i]);
		mutex_unlock(&d->vqs[i].mutex);
	}
	vhx_dev_mem_free(d->mem);
	d->mem = NULL;
	/* vhx_vq_reset() forgot every vq->log_ctx. */
	if (d->log_ctx) {
		eventfd_ctx_put(d->log_ctx);
		vhx_obj_put(VHX_OBJ_EVENTFD);
	}
	d->log_ctx = NULL;
	if (d->mm) {
		mmput(d->mm);
		vhx_obj_put(VHX_OBJ_MM);
	}
	d->mm = NULL;
	d->owner_tgid = 0;
	d->features = 0;
	d->backend_features = 0;
	d->worker_mode = vhx_workers_default_mode();
}

static long vhx_dev_reset_owner(struct vhx_dev *d)
{
	struct vhx_mem *empty;
	int ret = -EPERM;

	mutex_lock(&d->mutex);
	if (!vhx_dev_is_owner(d))
		goto out;
	empty = vhx_dev_mem_new(NULL, 0, &ret);
	if (!empty)
		goto out;
	vhx_dev_teardown(d);
	d->mem = empty;
	vhx_dev_set_vq_mem(d, empty);
out:
	mutex_unlock(&d->mutex);
	return ret;
}

int vhx_dev_release(struct inode *inode, struct file *f)
{
	struct vhx_dev *d = f->private_data;
	int i;

	mutex_lock(&vhx_devices_lock);
	xa_erase(&vhx_devices, d->id);
	mutex_unlock(&vhx_devices_lock);

	mutex_lock(&d->mutex);
	vhx_dev_teardown(d);
	mutex_unlock(&d->mutex);
	for (i = 0; i < VHX_NVQS; i++)
		vhx_vq_cleanup(&d->vqs[i]);
	mutex_destroy(&d->mutex);
	put_net(d->net);
	kvfree(d);
	vhx_obj_put(VHX_OBJ_DEV);
	return 0;
}

/*
 * Could every running queue log all of guest memory? vhost's
 * vhost_log_access_ok(), checked before VHOST_F_LOG_ALL is acked: each queue
 * with a backend against its own log base. dev->mutex held.
 */
static bool vhx_dev_log_all_ok(struct vhx_dev *d)
{
	bool ok = true;
	int i;

	for (i = 0; i < VHX_NVQS && ok; i++) {
		struct vhx_vq *vq = &d->vqs[i];

		mutex_lock(&vq->mutex);
		if (vq->sock)
			ok = vhx_vq_log_mem_ok(vq->mem, vq->log.base);
		mutex_unlock(&vq->mutex);
	}
	return ok;
}

static long vhx_dev_set_features(struct vhx_dev *d, u64 __user *argp)
{
	u64 features;
	int i;

	if (copy_from_user(&features, argp, sizeof(features)))
		return -EFAULT;
	if (features & ~VHX_FEATURES)
		return -EOPNOTSUPP;
	mutex_lock(&d->mutex);
	if ((features & BIT_ULL(VHOST_F_LOG_ALL)) && !vhx_dev_log_all_ok(d)) {
		mutex_unlock(&d->mutex);
		return -EFAULT;
	}
	/*
	 * Switching VHOST_F_LOG_ALL on or off while the queues run is how a
	 * migration starts and ends: the next run of each queue sees it.
	 */
	d->features = features;
	for (i = 0; i < VHX_NVQS; i++)
		vhx_vq_set_features(&d->vqs[i], features);
	mutex_unlock(&d->mutex);
	return 0;
}

static long vhx_dev_backend_features(struct vhx_dev *d, unsigned int ioctl,
				     u64 __user *argp)
{
	u64 features = 0;

	/* No IOTLB yet, so no backend feature is offered. */
	if (ioctl == VHOST_GET_BACKEND_FEATURES)
		return copy_to_user(argp, &features, sizeof(features)) ?
			       -EFAULT : 0;
	if (copy_from_user(&features, argp, sizeof(features)))
		return -EFAULT;
	if (features)
		return -EOPNOTSUPP;
	mutex_lock(&d->mutex);
	d->backend_features = features;
	mutex_unlock(&d->mutex);
	return 0;
}

/*
 * With logging on, a new table must be covered by each running queue's
 * bitmap too (vhost's memory_access_ok() in vhost_set_memory()).
 */
static bool vhx_dev_mem_log_ok(struct vhx_dev *d, const struct vhx_mem *mem)
{
	bool ok = true;
	int i;

	for (i = 0; i < VHX_NVQS && ok; i++) {
		struct vhx_vq *vq = &d->vqs[i];

		mutex_lock(&vq->mutex);
		if (vq->sock && vhx_vq_logs_all(vq))
			ok = vhx_vq_log_mem_ok(mem, vq->log.base);
		mutex_unlock(&vq->mutex);
	}
	return ok;
}

/* VHOST_SET_MEM_TABLE; dev->mutex held. */
static long vhx_dev_set_mem(struct vhx_dev *d, struct vhost_memory __user *m)
{
	struct vhost_memory hdr;
	struct vhost_memory_region *regions;
	struct vhx_mem *mem, *old;
	int ret;

	if (copy_from_user(&hdr, m, sizeof(hdr)))
		return -EFAULT;
	if (hdr.padding)
		return -EOPNOTSUPP;
	if (hdr.nregions > VHX_MEM_MAX_REGIONS)
		return -E2BIG;
	regions = memdup_user(m->regions, hdr.nregions * sizeof(*regions));
	if (IS_ERR(regions))
		return PTR_ERR(regions);
	mem = vhx_dev_mem_new(regions, hdr.nregions, &ret);
	kfree(regions);
	if (!mem)
		return ret;
	if (!vhx_dev_mem_log_ok(d, mem)) {
		vhx_dev_mem_free(mem);
		return -EFAULT;
	}
	old = d->mem;
	d->mem = mem;
	vhx_dev_set_vq_mem(d, mem);
	vhx_dev_mem_free(old);
	return 0;
}

/*
 * VHOST_SET_LOG_BASE, as vhost does it: each queue with a backend must be
 * able to log through the new bitmap, else -EFAULT and that queue keeps its
 * old base (the others take the new one). dev->mutex held.
 */
static long vhx_dev_set_log_base(struct vhx_dev *d, u64 __user *argp)
{
	long ret = 0;
	u64 base;
	int i;

	if (copy_from_user(&base, argp, sizeof(base)))
		return -EFAULT;
	if ((u64)(unsigned long)base != base)
		return -EFAULT;
	for (i = 0; i < VHX_NVQS; i++) {
		struct vhx_vq *vq = &d->vqs[i];

		/* No run is going: it would hold the mutex, and a page. */
		mutex_lock(&vq->mutex);
		if (vq->sock && !vhx_vq_log_access_ok(vq, base))
			ret = -EFAULT;
		else
			vq->log.base = base;
		mutex_unlock(&vq->mutex);
	}
	return ret;
}

/*
 * VHOST_SET_LOG_FD: the eventfd signalled after a run that logged; -1
 * unbinds it. The device holds the one reference. dev->mutex held.
 */
static long vhx_dev_set_log_fd(struct vhx_dev *d, int __user *argp)
{
	struct eventfd_ctx *ctx = NULL;
	int fd, i;

	if (get_user(fd, argp))
		return -EFAULT;
	if (fd != VHOST_FILE_UNBIND) {
		ctx = eventfd_ctx_fdget(fd);
		if (IS_ERR(ctx))
			return PTR_ERR(ctx);
		vhx_obj_get(VHX_OBJ_EVENTFD);
	}
	for (i = 0; i < VHX_NVQS; i++) {
		mutex_lock(&d->vqs[i].mutex);
		d->vqs[i].log_ctx = ctx;
		mutex_unlock(&d->vqs[i].mutex);
	}
	swap(ctx, d->log_ctx);
	if (ctx) {
		eventfd_ctx_put(ctx);
		vhx_obj_put(VHX_OBJ_EVENTFD);
	}
	return 0;
}

/* A VHOST_*_VRING_* ioctl: the queue index comes first in every argument. */
static long vhx_dev_vring_ioctl(struct vhx_dev *d, unsigned int ioctl,
				void __user *argp)
{
	u32 idx;

	if (get_user(idx, (u32 __user *)argp))
		return -EFAULT;
	if (idx >= VHX_NVQS)
		return -ENOBUFS;
	idx = array_index_nospec(idx, VHX_NVQS);
	return vhx_vq_ioctl(&d->vqs[idx], ioctl, argp);
}

/* Everything that needs the caller to be the owner. */
static long vhx_dev_owner_ioctl(struct vhx_dev *d, unsigned int ioctl,
				void __user *argp)
{
	long ret;

	mutex_lock(&d->mutex);
	if (!vhx_dev_is_owner(d)) {
		ret = -EPERM;
		goto out;
	}
	switch (ioctl) {
	case VHOST_SET_MEM_TABLE:
		ret = vhx_dev_set_mem(d, argp);
		break;
	case VHOST_SET_LOG_BASE:
		ret = vhx_dev_set_log_base(d, argp);
		break;
	case VHOST_SET_LOG_FD:
		ret = vhx_dev_set_log_fd(d, argp);
		break;
	default:
		ret = vhx_dev_vring_ioctl(d, ioctl, argp);
		break;
	}
out:
	mutex_unlock(&d->mutex);
	return ret;
}

long vhx_dev_ioctl(struct file *f, unsigned int ioctl, unsigned long arg)
{
	struct vhx_dev *d = f->private_data;
	void __user *argp = (void __user *)arg;
	struct vhost_vring_file backend;
	u64 features = VHX_FEATURES;

	switch (ioctl) {
	case VHOST_GET_FEATURES:
		return copy_to_user(argp, &features, sizeof(features)) ?
			       -EFAULT : 0;
	case VHOST_SET_FEATURES:
		return vhx_dev_set_features(d, argp);
	case VHOST_GET_BACKEND_FEATURES:
	case VHOST_SET_BACKEND_FEATURES:
		return vhx_dev_backend_features(d, ioctl, argp);
	case VHOST_SET_OWNER:
		return vhx_dev_set_owner(d);
	case VHOST_RESET_OWNER:
		return vhx_dev_reset_owner(d);
	case VHOST_NET_SET_BACKEND:
		if (copy_from_user(&backend, argp, sizeof(backend)))
			return -EFAULT;
		return vhx_net_set_backend(d, backend.index, backend.fd);
	case VHOST_NEW_WORKER:
	case VHOST_FREE_WORKER:
	case VHOST_ATTACH_VRING_WORKER:
	case VHOST_GET_VRING_WORKER:
		return vhx_workers_ioctl(d, ioctl, argp);
	case VHOST_SET_FORK_FROM_OWNER:
	case VHOST_GET_FORK_FROM_OWNER:
		return vhx_workers_mode_ioctl(d, ioctl, argp);
	default:
		return vhx_dev_owner_ioctl(d, ioctl, argp);
	}
}
