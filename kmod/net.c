// SPDX-License-Identifier: GPL-2.0
/*
 * vhostx: the virtio-net data path between a device's queues and its tap.
 *
 * TX: guest chain -> iov (ring_split.c, mem.c) -> tap sendmsg, which copies
 * it once into an skb. RX: tap recvmsg copies the skb once straight into the
 * guest's buffers. Both run in the device's worker, with vq->mutex held for
 * the whole run, and stop after a packet and byte budget (then requeue).
 *
 * The vnet header: with VHOST_NET_F_VIRTIO_NET_HDR the device strips it on TX
 * and writes an empty one on RX (vq->vhost_hlen); otherwise the tap was set
 * up with IFF_VNET_HDR and passes it through (vq->sock_hlen).
 *
 * Dirty logging (live migration): with VHOST_F_LOG_ALL acked, every RX
 * buffer a packet was written to is marked in the log after the write; the
 * ring code marks its used-ring writes. A run ends with vhx_vq_log_end(),
 * which unpins the bitmap and signals the log eventfd, so when a backend
 * detach returns (QEMU's last step before its final log sync) everything the
 * device wrote is in the log.
 */
#include <linux/file.h>
#include <linux/if_tap.h>
#include <linux/if_tun.h>
#include <linux/if_vlan.h>
#include <linux/net.h>
#include <linux/sched/clock.h>
#include <linux/seq_file.h>
#include <linux/skbuff.h>
#include <linux/socket.h>
#include <net/sock.h>

#include "compat.h"
#include "dev.h"
#include "net.h"
#include "workers.h"
#include "objs.h"
#include "trace.h"
#include "rx_batch.h"
#include "tx_batch.h"
#include "vq.h"

/* Stop this run? Then the handler is queued again behind other work. */
static bool vhx_net_over_weight(struct vhx_vq *vq, unsigned int pkts,
				size_t bytes)
{
	/* Read without a lock: netlink may change them at any time. */
	if (pkts < READ_ONCE(vq->dev->weight_packets) &&
	    bytes < READ_ONCE(vq->dev->weight_bytes))
		return false;
	vhx_work_queue(vq->worker, &vq->work);
	vhx_vq_count(vq, VHOSTX_CNT_REQUEUES, 1);
	return true;
}

/*
 * The ioctl takes any u32, as vhost's does, but one spin never lasts more
 * than a second: the worker holds vq->mutex meanwhile.
 */
#define VHX_BUSYPOLL_MAX_US USEC_PER_SEC

static u64 vhx_net_busy_deadline(struct vhx_vq *vq)
{
	u64 us = min_t(u64, vq->busyloop_timeout, VHX_BUSYPOLL_MAX_US);

	return local_clock() + us * NSEC_PER_USEC;
}

/*
 * Spin for up to busyloop_timeout microseconds until @ready says there is
 * work; never past need_resched() or other work for the worker
 * (a flush, the other queue). True if there is.
 */
static bool vhx_net_busy_poll(struct vhx_vq *vq, bool (*ready)(struct vhx_vq *))
{
	u64 end, spins = 0;
	bool found = false;

	if (!vq->busyloop_timeout)
		return false;
	end = vhx_net_busy_deadline(vq);
	while (!need_resched() && local_clock() < end &&
	       !vhx_worker_has_work(vq->worker)) {
		spins++;
		if (ready(vq)) {
			found = true;
			break;
		}
		cpu_relax();
	}
	vhx_vq_count(vq, VHOSTX_CNT_BUSYPOLL_SPINS, spins);
	return found;
}

static bool vhx_net_ring_ready(struct vhx_vq *vq)
{
	/* An error counts as ready: the next pop reports it. */
	return vhx_ring_avail(&vq->ring) != 0;
}

/*
 * Take the next chain, in direction @dir, into vq->iov + @seg. When the ring
 * is empty, busy-poll if asked, then re-enable kicks and look once more so
 * that a buffer added meanwhile is not missed. 1: got one; 0: empty (kicks
 * on); negative: the queue is broken.
 */
static int vhx_net_pop(struct vhx_vq *vq, enum vhx_dir dir, unsigned int seg,
		       struct vhx_chain *c, bool busy)
{
	/* Only RX writes into buffers, so only RX needs their gpas. */
	u64 *gpa = dir == VHX_DIR_IN && vhx_vq_logs_all(vq) ?
			   vq->iov_gpa + seg : NULL;
	int ret;

	for (;;) {
		ret = vhx_ring_pop(&vq->ring, vq->mem, dir, vq->iov + seg, gpa,
				   VHX_IOV_MAX - seg, c);
		if (ret)
			break;
		if (busy && vhx_net_busy_poll(vq, vhx_net_ring_ready)) {
			busy = false;
			continue;
		}
		ret = vhx_ring_kick_enable(&vq->ring);
		if (ret <= 0)
			break;
		vhx_ring_kick_disable(&vq->ring);
	}
	if (ret < 0)
		vhx_vq_break(vq, vq->ring.err);
	return ret;
}

/* Send what is batched, and count it. */
static void vhx_net_tx_flush(struct vhx_vq *vq, struct socket *sock)
{
	struct vhx_tx_batch *b = vq->batch;
	u64 n = b->n, bytes = b->bytes, copied = b->copied;

	if (!n)
		return;
	if (vhx_tx_batch_flush(b, sock) < 0) {
		vhx_vq_count(vq, VHOSTX_CNT_DROPS, n);
		vhx_vq_count(vq, VHOSTX_CNT_ERR_SOCK, 1);
		return;
	}
	vhx_vq_count(vq, VHOSTX_CNT_PACKETS, n);
	vhx_vq_count(vq, VHOSTX_CNT_BYTES, bytes);
	vhx_vq_count(vq, VHOSTX_CNT_BYTES_COPIED, copied);
}

/*
 * Copy one packet into the TX batch. 1: batched; 0: send it the ordinary
 * way (the batch was flushed first, to keep order); -EAGAIN: no memory,
 * try later; -EFAULT: guest memory was not there.
 */
static int vhx_net_tx_batch(struct vhx_vq *vq, struct socket *sock,
			    struct iov_iter *from)
{
	int ret;

	if (!vq->batching)
		return 0;
	ret = vhx_tx_batch_add(vq->batch, sock, from, vq->sock_hlen);
	if (!ret) {
		if (vq->batch->n == VHX_TX_BATCH)
			vhx_net_tx_flush(vq, sock);
		return 1;
	}
	vhx_net_tx_flush(vq, sock);
	if (ret == -ENOSPC)
		return 0;
	return ret == -ENOMEM ? -EAGAIN : ret;
}

/* Count what sendmsg() did with a @len-byte packet. */
static void vhx_net_tx_count(struct vhx_vq *vq, int ret, size_t len)
{
	if (ret == len) {
		vhx_vq_count(vq, VHOSTX_CNT_PACKETS, 1);
		vhx_vq_count(vq, VHOSTX_CNT_BYTES, len - vq->sock_hlen);
		vhx_vq_count(vq, VHOSTX_CNT_BYTES_COPIED, len);
		return;
	}
	/* The tap refused it (malformed, or the tap went away). */
	vhx_vq_count(vq, VHOSTX_CNT_DROPS, 1);
	if (ret < 0)
		vhx_vq_count(vq, VHOSTX_CNT_ERR_SOCK, 1);
}

/*
 * No tap takes a packet this long (tun's skb has at most MAX_SKB_FRAGS
 * fragments of 32 KiB), and past INT_MAX tun's int lengths wrap: a packet of
 * 4 GiB - 11 bytes reached copy_page_from_iter() as -11 and WARNed (the
 * in-VM fuzzer's second find, with vhost_net's path the same). Longer chains
 * are dropped here, counted, and completed, as the tap would drop them.
 */
#define VHX_TX_MAX_PACKET (1U << 20)

/* Send one chain. 1: sent or dropped; 0: the tap is full; <0: stop. */
static int vhx_net_tx_one(struct vhx_vq *vq, struct socket *sock,
			  size_t *bytes)
{
	struct msghdr msg = { .msg_flags = MSG_DONTWAIT };
	struct vhx_chain c;
	bool batched;
	size_t len;
	int ret;

	ret = vhx_net_pop(vq, VHX_DIR_OUT, 0, &c, true);
	if (ret <= 0)
		return ret ? ret : -ENOENT;
	/*
	 * No packet after the header (a chain of length 0, or no more than
	 * the header the device strips): vhost_net signals the err eventfd
	 * and stops there, and so does vhostx, at the chain (not past it).
	 */
	if (c.out_len <= vq->vhost_hlen) {
		vhx_ring_unpop(&vq->ring, 1);
		vhx_vq_break(vq, VHX_QERR_HDR);
		return -EINVAL;
	}
	len = c.out_len - vq->vhost_hlen;
	if (len > VHX_TX_MAX_PACKET) {
		vhx_net_tx_count(vq, -EMSGSIZE, len);
		ret = vhx_vq_add_used(vq, c.head, 0);
		return ret ? ret : 1;
	}
	iov_iter_init(&msg.msg_iter, ITER_SOURCE, vq->iov, c.out, c.out_len);
	iov_iter_advance(&msg.msg_iter, vq->vhost_hlen);
	ret = vhx_net_tx_batch(vq, sock, &msg.msg_iter);
	batched = ret == 1;	/* then counted when the batch is sent */
	if (!ret)
		ret = sock->ops->sendmsg(sock, &msg, len);
	if (ret == -EAGAIN || ret == -ENOMEM || ret == -ENOBUFS) {
		/* Try this chain again once the tap has room. */
		vhx_ring_unpop(&vq->ring, 1);
		vhx_poll_start(&vq->sock_poll, sock->file);
		return 0;
	}
	if (!batched)
		vhx_net_tx_count(vq, ret, len);
	*bytes += len;
	ret = vhx_vq_add_used(vq, c.head, 0);
	return ret ? ret : 1;
}

/* What a run moved, for its tracepoint: counters at the start of the run. */
struct vhx_net_run {
	u64 packets;
	u64 bytes;
};

static void vhx_net_trace_run(struct vhx_vq *vq, const struct vhx_net_run *run,
			      void (*trace)(u32, u32, u32, u64))
{
	/* Only this worker writes the counters: plain reads are exact. */
	u64 packets = vq->stats.cnt[VHOSTX_CNT_PACKETS] - run->packets;

	if (packets)
		trace(vq->dev->id, vq->index, packets,
		      vq->stats.cnt[VHOSTX_CNT_BYTES] - run->bytes);
}

void vhx_net_handle_tx(struct vhx_vq *vq)
{
	struct vhx_net_run run;
	struct socket *sock;
	unsigned int pkts = 0;
	size_t bytes = 0;

	mutex_lock(&vq->mutex);
	sock = vq->sock;
	if (!sock || vq->broken)
		goto out;
	/* Re-armed only while the tap is full. */
	vhx_poll_stop(&vq->sock_poll);
	vhx_ring_kick_disable(&vq->ring);
	run.packets = vq->stats.cnt[VHOSTX_CNT_PACKETS];
	run.bytes = vq->stats.cnt[VHOSTX_CNT_BYTES];
	while (vhx_net_tx_one(vq, sock, &bytes) > 0) {
		if (vhx_net_over_weight(vq, ++pkts, bytes))
			break;
	}
	vhx_net_tx_flush(vq, sock);
	vhx_vq_flush_used(vq);
	vhx_vq_log_end(vq);
	vhx_net_trace_run(vq, &run, trace_vhostx_tx_batch);
out:
	mutex_unlock(&vq->mutex);
}

/* Length of the next packet waiting on the socket, 0 if none. */
static size_t vhx_net_peek(struct vhx_vq *vq, struct socket *sock)
{
	struct sock *sk = sock->sk;
	struct sk_buff *skb;
	unsigned long flags;
	int len;

	len = vhx_rx_batch_peek(vq->rxb);
	if (len >= 0)
		return len;
	if (sock->ops->peek_len)
		return max(sock->ops->peek_len(sock), 0);
	/* A raw packet socket. */
	spin_lock_irqsave(&sk->sk_receive_queue.lock, flags);
	skb = skb_peek(&sk->sk_receive_queue);
	len = 0;
	if (skb) {
		len = skb->len;
		if (skb_vlan_tag_present(skb))
			len += VLAN_HLEN;
	}
	spin_unlock_irqrestore(&sk->sk_receive_queue.lock, flags);
	return len;
}

static bool vhx_net_sock_ready(struct vhx_vq *vq)
{
	return vhx_net_peek(vq, vq->sock) != 0;
}

/* Drop the next packet on the socket: it fits in no buffer we were given. */
static void vhx_net_rx_discard(struct vhx_vq *vq, struct socket *sock)
{
	char buf[sizeof(struct virtio_net_hdr_mrg_rxbuf)];
	struct kvec kv = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr msg = { .msg_control = vhx_rx_batch_take(vq->rxb) };

	iov_iter_kvec(&msg.msg_iter, ITER_DEST, &kv, 1, sizeof(buf));
	sock->ops->recvmsg(sock, &msg, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
	vhx_vq_count(vq, VHOSTX_CNT_DROPS, 1);
}

enum { VHX_RX_NOBUF, VHX_RX_OK, VHX_RX_TOO_SMALL };

/*
 * Gather guest buffers for a @need-byte packet into vq->iov and vq->heads:
 * as many chains as it takes with MRG_RXBUF, one chain without.
 * Returns VHX_RX_OK, VHX_RX_NOBUF (nothing taken; kicks re-enabled),
 * VHX_RX_TOO_SMALL (nothing taken) or a negative errno (queue broken).
 */
static int vhx_net_rx_bufs(struct vhx_vq *vq, size_t need,
			   unsigned int *nheads, unsigned int *nseg)
{
	bool mergeable = vq->features & BIT_ULL(VIRTIO_NET_F_MRG_RXBUF);
	unsigned int n = 0, seg = 0;
	struct vhx_chain c;
	size_t have = 0;
	int ret;

	while (have < need) {
		if (n == VHX_IOV_MAX || (!mergeable && n == 1)) {
			vhx_ring_unpop(&vq->ring, n);
			return VHX_RX_TOO_SMALL;
		}
		ret = vhx_net_pop(vq, VHX_DIR_IN, seg, &c, false);
		if (ret <= 0) {
			if (ret == 0)
				vhx_ring_unpop(&vq->ring, n);
			return ret ? ret : VHX_RX_NOBUF;
		}
		/*
		 * A buffer with no room at all: vhost_net signals the err
		 * eventfd and stops at it; vhostx too, once, at the buffer.
		 */
		if (!c.in_len) {
			vhx_ring_unpop(&vq->ring, n + 1);
			vhx_vq_break(vq, VHX_QERR_HDR);
			return -EINVAL;
		}
		vq->heads[n].id = cpu_to_vhx32(c.head);
		vq->heads[n].len = cpu_to_vhx32(min_t(u64, c.in_len, need - have));
		have += c.in_len;
		seg += c.in;
		n++;
	}
	*nheads = n;
	*nseg = seg;
	return VHX_RX_OK;
}

/*
 * Fill in what the socket did not: the vnet header when the device owns it,
 * and num_buffers whenever the header has that field (MRG_RXBUF or VERSION_1:
 * the spec wants 1 without MRG_RXBUF).
 */
static int vhx_net_rx_fixup(struct vhx_vq *vq, struct iov_iter *hdr,
			    unsigned int nheads)
{
	struct virtio_net_hdr gso = { .gso_type = VIRTIO_NET_HDR_GSO_NONE };
	__virtio16 num = cpu_to_vhx16(nheads);
	size_t hlen = vq->vhost_hlen ? vq->vhost_hlen : vq->sock_hlen;

	if (vq->vhost_hlen) {
		if (copy_to_iter(&gso, sizeof(gso), hdr) != sizeof(gso))
			return -EFAULT;
	} else {
		iov_iter_advance(hdr, sizeof(gso));
	}
	if (hlen < sizeof(struct virtio_net_hdr_mrg_rxbuf))
		return 0;
	return copy_to_iter(&num, sizeof(num), hdr) == sizeof(num) ? 0 :
								      -EFAULT;
}

/*
 * Receive one packet. 1: done (delivered or dropped); 0: the tap is empty;
 * -ENOBUFS: the guest gave no buffers (kicks are enabled); -EAGAIN: the
 * packet went away under us; other <0: the queue is broken.
 */
static int vhx_net_rx_one(struct vhx_vq *vq, struct socket *sock,
			  size_t *bytes)
{
	struct msghdr msg = {};
	unsigned int nheads, nseg;
	struct iov_iter hdr;
	size_t sock_len;
	int ret;

	sock_len = vhx_net_peek(vq, sock);
	if (!sock_len) {
		/* Look again only if busy polling saw something arrive. */
		if (!vhx_net_busy_poll(vq, vhx_net_sock_ready))
			return 0;
		sock_len = vhx_net_peek(vq, sock);
		if (!sock_len)
			return 0;
	}
	sock_len += vq->sock_hlen;
	ret = vhx_net_rx_bufs(vq, sock_len + vq->vhost_hlen, &nheads, &nseg);
	if (ret < 0)
		return ret;
	if (ret == VHX_RX_NOBUF) {
		vhx_vq_count(vq, VHOSTX_CNT_RX_NOBUF, 1);
		return -ENOBUFS;
	}
	if (ret == VHX_RX_TOO_SMALL) {
		vhx_net_rx_discard(vq, sock);
		return 1;
	}
	iov_iter_init(&msg.msg_iter, ITER_DEST, vq->iov, nseg,
		      sock_len + vq->vhost_hlen);
	hdr = msg.msg_iter;
	iov_iter_advance(&msg.msg_iter, vq->vhost_hlen);
	/* The packet just peeked at, if it came off the tap's ring. */
	msg.msg_control = vhx_rx_batch_take(vq->rxb);
	ret = sock->ops->recvmsg(sock, &msg, sock_len,
				 MSG_DONTWAIT | MSG_TRUNC);
	if (ret != sock_len) {
		/* Gone meanwhile, or guest memory was not there. */
		vhx_ring_unpop(&vq->ring, nheads);
		vhx_vq_count(vq, VHOSTX_CNT_ERR_SOCK, 1);
		return ret == -EAGAIN ? -EAGAIN : 1;
	}
	if (vhx_net_rx_fixup(vq, &hdr, nheads)) {
		vhx_vq_break(vq, VHX_RERR_ACCESS);
		return -EFAULT;
	}
	if (vhx_vq_logs_all(vq) &&
	    vhx_vq_log_iov(vq, nseg, sock_len + vq->vhost_hlen))
		return -EFAULT;
	vhx_vq_count(vq, VHOSTX_CNT_PACKETS, 1);
	vhx_vq_count(vq, VHOSTX_CNT_BYTES, sock_len - vq->sock_hlen);
	vhx_vq_count(vq, VHOSTX_CNT_BYTES_COPIED, sock_len);
	*bytes += sock_len;
	ret = vhx_vq_add_used_n(vq, vq->heads, nheads);
	return ret ? ret : 1;
}

/*
 * The tap's wake-ups (sock_poll) are muted while a run drains the tap: every
 * packet the tap queued would otherwise requeue, from the sender's CPU, a run
 * that is already going. They stay muted while the guest has no buffers,
 * too: then the guest's kick restarts the queue. Any other end of a run
 * unmutes them; when the run found the tap empty, the tap is looked at once
 * more, so that a packet queued in between is not missed (see
 * vhx_poll_unmute()).
 *
 * Muting, unlike unhooking from the wait queue (vhost_net's way), takes no
 * lock: the sender that woke us still holds the tap's wait-queue lock while
 * it wakes the worker, and removing the entry at the start of the run spun
 * on that lock for 0.7-1.7 ms on average per run in the test VM, for
 * vhost_net too. sock_poll is muted, unmuted, started and stopped only under
 * vq->mutex.
 */
void vhx_net_handle_rx(struct vhx_vq *vq)
{
	struct vhx_net_run run;
	struct socket *sock;
	unsigned int pkts = 0;
	size_t bytes = 0;
	int ret;

	mutex_lock(&vq->mutex);
	sock = vq->sock;
	if (!sock || vq->broken)
		goto out;
	vhx_ring_kick_disable(&vq->ring);
	vhx_poll_mute(&vq->sock_poll);
	run.packets = vq->stats.cnt[VHOSTX_CNT_PACKETS];
	run.bytes = vq->stats.cnt[VHOSTX_CNT_BYTES];
	while ((ret = vhx_net_rx_one(vq, sock, &bytes)) > 0) {
		if (vhx_net_over_weight(vq, ++pkts, bytes))
			break;
	}
	/*
	 * Over weight: requeued, still muted. No buffers: muted until the
	 * guest's kick. Otherwise listen again, and if the tap was seen empty
	 * look once more, for a packet that came while we were not listening.
	 * That requeue always has a packet to take, so it cannot spin.
	 */
	if (ret <= 0 && ret != -ENOBUFS) {
		vhx_poll_unmute(&vq->sock_poll);
		if (!ret && vhx_net_peek(vq, sock))
			vhx_work_queue(vq->worker, &vq->work);
	}
	vhx_vq_flush_used(vq);
	vhx_vq_log_end(vq);
	vhx_net_trace_run(vq, &run, trace_vhostx_rx_batch);
out:
	mutex_unlock(&vq->mutex);
}

static bool vhx_net_is_raw(struct socket *sock)
{
	return sock->sk->sk_family == AF_PACKET;
}

/* A raw AF_PACKET socket, as vhost-net accepts; NULL if @fd is not one. */
static struct socket *vhx_net_raw_socket(int fd)
{
	struct socket *sock;
	int err;

	sock = sockfd_lookup(fd, &err);
	if (!sock)
		return NULL;
	if (sock->sk->sk_type == SOCK_RAW && vhx_net_is_raw(sock))
		return sock;
	sockfd_put(sock);
	return NULL;
}

/* A tun or macvtap file's socket; NULL if @fd is neither. */
static struct socket *vhx_net_tap_socket(int fd)
{
	struct file *file = fget(fd);
	struct socket *sock;

	if (!file)
		return NULL;
	sock = tun_get_socket(file);
	if (!IS_ERR(sock))
		return sock;
	sock = tap_get_socket(file);
	if (!IS_ERR(sock))
		return sock;
	fput(file);
	return NULL;
}

/*
 * The socket behind @fd, holding a reference on its file; NULL for -1.
 * Anything else is -ENOTSOCK, as with vhost-net.
 */
static struct socket *vhx_net_get_socket(int fd)
{
	struct socket *sock;

	if (fd == -1)
		return NULL;
	sock = vhx_net_raw_socket(fd);
	if (!sock)
		sock = vhx_net_tap_socket(fd);
	if (!sock)
		return ERR_PTR(-ENOTSOCK);
	vhx_obj_get(VHX_OBJ_SOCK);
	return sock;
}

/* Unhook a queue from its socket; returns the socket for the caller to put. */
static struct socket *vhx_net_detach(struct vhx_vq *vq)
{
	struct socket *sock = vq->sock;

	vhx_poll_stop(&vq->sock_poll);
	if (vq->rxb)
		vhx_rx_batch_detach(vq->rxb);
	vq->sock = NULL;
	return sock;
}

/*
 * Hook @sock to @vq and start it. RX listens for packets on the tap except
 * while a run drains it or the guest has no buffers (the poll is muted then,
 * see vhx_net_handle_rx());
 * TX listens for room only while the tap is full. vq->mutex held.
 */
static int vhx_net_attach(struct vhx_vq *vq, struct socket *sock)
{
	int ret = vhx_ring_start(&vq->ring);

	/* used->flags was written, and logged if the ring is. */
	vhx_vq_log_end(vq);
	if (ret) {
		vhx_vq_break(vq, vq->ring.err == VHX_RERR_LOG ?
					 VHX_RERR_LOG : VHX_QERR_START);
		return -EFAULT;
	}
	vq->sock = sock;
	vq->batching = vq->batch && !vhx_net_is_raw(sock) &&
		       vhx_tx_batch_usable(sock);
	vq->broken = false;
	vq->nused = 0;
	vhx_poll_init(&vq->sock_poll, vq->worker, &vq->work,
		      vq->index == VHX_VQ_TX ? EPOLLOUT : EPOLLIN);
	if (vq->rxb) {
		vhx_rx_batch_attach(vq->rxb, sock->file);
		vhx_poll_start(&vq->sock_poll, sock->file);
	}
	/* Whatever the guest queued before the backend came counts as a kick. */
	vhx_work_queue(vq->worker, &vq->work);
	return 0;
}

/* Drop the file reference vhx_net_get_socket() took. */
static void vhx_net_put_socket(struct socket *sock)
{
	if (!sock)
		return;
	sockfd_put(sock);
	vhx_obj_put(VHX_OBJ_SOCK);
}

/*
 * A tap must be usable before it replaces the current backend: a tun file
 * not attached to a device polls as EPOLLERR, which vhost-net refuses with
 * EINVAL too.
 */
static int vhx_net_sock_check(struct socket *sock)
{
	return vfs_poll(sock->file, NULL) & EPOLLERR ? -EINVAL : 0;
}

/* Swap @vq's backend for @sock (NULL: detach); returns the old one. */
static struct socket *vhx_net_swap(struct vhx_vq *vq, struct socket *sock,
				   long *ret)
{
	struct socket *old = vhx_net_detach(vq);

	*ret = 0;
	if (!sock)
		return old;
	*ret = vhx_net_attach(vq, sock);
	if (!*ret)
		return old;
	/* As vhost-net does: keep the old backend when the new one fails. */
	vhx_net_put_socket(sock);
	if (old && vhx_net_attach(vq, old))
		return old;
	return NULL;
}

long vhx_net_set_backend(struct vhx_dev *d, unsigned int index, int fd)
{
	struct socket *sock, *old = NULL;
	struct vhx_vq *vq;
	long ret;

	mutex_lock(&d->mutex);
	ret = -EPERM;
	if (!d->mm || d->mm != current->mm)
		goto out;
	ret = -ENOBUFS;
	if (index >= VHX_NVQS)
		goto out;
	vq = &d->vqs[array_index_nospec(index, VHX_NVQS)];
	mutex_lock(&vq->mutex);
	/*
	 * No memory table yet, rings outside user memory, or (logging) a
	 * bitmap that cannot cover them: vhost's vhost_vq_access_ok().
	 */
	ret = -EFAULT;
	if (!vq->mem || !vhx_vq_ring_access_ok(&vq->ring) ||
	    !vhx_vq_log_access_ok(vq, vq->log.base))
		goto out_vq;
	sock = vhx_net_get_socket(fd);
	ret = PTR_ERR_OR_ZERO(sock);
	if (ret)
		goto out_vq;
	if (sock == vq->sock) {
		/* Same backend: drop the extra reference, change nothing. */
		vhx_net_put_socket(sock);
		goto out_vq;
	}
	ret = sock ? vhx_net_sock_check(sock) : 0;
	if (ret) {
		vhx_net_put_socket(sock);
		goto out_vq;
	}
	old = vhx_net_swap(vq, sock, &ret);
	mutex_unlock(&vq->mutex);
	if (old) {
		/* Let a run queued before the swap finish before the put. */
		vhx_worker_flush(vq->worker);
		vhx_net_put_socket(old);
	}
	mutex_unlock(&d->mutex);
	return ret;

out_vq:
	mutex_unlock(&vq->mutex);
out:
	mutex_unlock(&d->mutex);
	return ret;
}

/* Detach both queues and wait until no run uses the sockets. dev->mutex held. */
void vhx_net_stop(struct vhx_dev *d)
{
	struct socket *old[VHX_NVQS];
	int i;

	for (i = 0; i < VHX_NVQS; i++) {
		mutex_lock(&d->vqs[i].mutex);
		old[i] = vhx_net_detach(&d->vqs[i]);
		mutex_unlock(&d->vqs[i].mutex);
	}
	vhx_workers_flush(d);
	for (i = 0; i < VHX_NVQS; i++)
		vhx_net_put_socket(old[i]);
}

/*
 * The network device behind a queue's backend, for netlink. tun and macvtap
 * keep it private; both name it in ways a module can read: tun's fdinfo says
 * "iff:\t<name>", and a macvtap node is /dev/tap<ifindex>. Returns the
 * ifindex (0 if unknown) and copies the name. vq->mutex held.
 */
int vhx_net_backend_dev(struct vhx_vq *vq, char *name)
{
	struct file *file = vq->sock ? vq->sock->file : NULL;
	struct net *net;
	char buf[64] = "";
	struct seq_file m = { .buf = buf, .size = sizeof(buf) - 1 };
	struct net_device *ndev;
	int ifindex = 0;
	char *p;

	name[0] = '\0';
	if (!file)
		return 0;
	net = sock_net(vq->sock->sk);
	if (!IS_ERR(tun_get_socket(file)) && file->f_op->show_fdinfo) {
		file->f_op->show_fdinfo(&m, file);
		p = strnstr(buf, "iff:\t", sizeof(buf));
		if (!p)
			return 0;
		p += strlen("iff:\t");
		strscpy(name, p, min_t(size_t, IFNAMSIZ, strcspn(p, "\n") + 1));
		ndev = dev_get_by_name(net, name);
		if (ndev) {
			ifindex = ndev->ifindex;
			dev_put(ndev);
		}
		return ifindex;
	}
	if (!IS_ERR(tap_get_socket(file)) &&
	    sscanf(file->f_path.dentry->d_name.name, "tap%d", &ifindex) == 1) {
		ndev = dev_get_by_index(net, ifindex);
		if (!ndev)
			return 0;
		strscpy(name, ndev->name, IFNAMSIZ);
		dev_put(ndev);
	}
	return ifindex;
}
