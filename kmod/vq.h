/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One virtqueue: its configuration (size, ring addresses, base index,
 * kick/call/err eventfds), its ring state, its backend socket and counters.
 *
 * Locking: vq->mutex protects everything here except the counters. Those
 * are written only by the worker (u64_stats: readers retry), except `kicks`,
 * which the kick eventfd's wake-up increments atomically. The worker holds vq->mutex
 * for a whole run of the queue's handler; ioctls take it to change anything.
 * Lock order: dev->mutex, then vq->mutex.
 */
#ifndef _VHX_VQ_H
#define _VHX_VQ_H

#include <linux/mutex.h>
#include <linux/u64_stats_sync.h>
#include <linux/uio.h>
#include <linux/vhost.h>
#include <linux/vhostx.h>

#include "log.h"
#include "ring.h"
#include "worker.h"

struct vhx_dev;
struct vhx_tx_batch;
struct vhx_rx_batch;
struct socket;

/* Room for the longest chain vhost accepts, in one queue's iov array. */
#define VHX_IOV_MAX UIO_MAXIOV
/* Used elements published at once (one used->idx write, one signal). */
#define VHX_USED_BATCH 64

/* Why a queue stopped: a ring violation, or one of these. */
enum vhx_qerr {
	VHX_QERR_HDR = VHX_RERR_MAX,	/* TX: nothing after the header; RX: no room */
	VHX_QERR_START,			/* used ring unreachable at start */
	VHX_QERR_MAX,
};

struct vhx_vq_stats {
	u64 cnt[__VHOSTX_CNT_MAX];
	struct u64_stats_sync syncp;
};

struct vhx_vq {
	struct mutex mutex;
	struct vhx_dev *dev;
	unsigned int index;

	struct vhx_ring ring;
	struct vhx_mem *mem;		/* the device's table; see dev.c */
	u64 features;			/* acked features */
	size_t vhost_hlen;		/* vnet header the device adds/strips */
	size_t sock_hlen;		/* vnet header the socket adds/strips */
	u32 busyloop_timeout;		/* microseconds, 0 = off */

	struct file *kick;		/* eventfd the guest kicks */
	struct eventfd_ctx *call;	/* interrupts the guest */
	struct eventfd_ctx *err;	/* told when the queue breaks */
	struct vhx_poll kick_poll;
	struct socket *sock;		/* backend, NULL when detached */
	struct vhx_tx_batch *batch;	/* TX queue only: see tx_batch.h */
	struct vhx_rx_batch *rxb;	/* RX queue only: see rx_batch.h */
	bool batching;			/* sock takes batches */
	struct vhx_poll sock_poll;
	struct vhx_work work;		/* runs the handler */
	/* runs the work; set under dev->mutex and vq->mutex (workers.c) */
	struct vhx_worker *worker;
	void (*handle)(struct vhx_vq *vq);

	bool broken;			/* stopped by a malformed ring */
	unsigned int broken_reason;	/* enum vhx_ring_err or enum vhx_qerr */

	/*
	 * Dirty logging. log.base is VHOST_SET_LOG_BASE's, log_ctx the
	 * device's VHOST_SET_LOG_FD context (the device holds the reference).
	 * With log_used, ring.log points at log and the used ring is logged;
	 * with VHOST_F_LOG_ALL acked, RX buffers are logged too (iov_gpa).
	 */
	struct vhx_log log;
	struct eventfd_ctx *log_ctx;
	bool log_used;

	struct iovec *iov;		/* VHX_IOV_MAX entries */
	u64 *iov_gpa;			/* RX: gpa of each iov[i] */
	struct vring_used_elem *heads;	/* VHX_IOV_MAX: one RX packet's buffers */
	struct vring_used_elem used[VHX_USED_BATCH];
	unsigned int nused;		/* pending entries in used[] */
	struct vhx_vq_stats stats;
	atomic64_t kicks;
};

int vhx_vq_init(struct vhx_vq *vq, struct vhx_dev *dev, unsigned int index,
		void (*handle)(struct vhx_vq *vq), bool tx);
void vhx_vq_cleanup(struct vhx_vq *vq);
void vhx_vq_reset(struct vhx_vq *vq);
long vhx_vq_ioctl(struct vhx_vq *vq, unsigned int ioctl, void __user *argp);
void vhx_vq_set_features(struct vhx_vq *vq, u64 features);
bool vhx_vq_ring_access_ok(const struct vhx_ring *r);
bool vhx_vq_log_mem_ok(const struct vhx_mem *mem, u64 base);
bool vhx_vq_log_access_ok(struct vhx_vq *vq, u64 base);

static inline bool vhx_vq_logs_all(const struct vhx_vq *vq)
{
	return vq->features & BIT_ULL(VHOST_F_LOG_ALL);
}

/* Worker side, with vq->mutex held. */
void vhx_vq_break(struct vhx_vq *vq, unsigned int reason);
int vhx_vq_add_used(struct vhx_vq *vq, u16 head, u32 len);
int vhx_vq_add_used_n(struct vhx_vq *vq, const struct vring_used_elem *e,
		      unsigned int n);
void vhx_vq_flush_used(struct vhx_vq *vq);
int vhx_vq_log_iov(struct vhx_vq *vq, unsigned int nseg, size_t len);
void vhx_vq_log_end(struct vhx_vq *vq);
const char *vhx_vq_err_str(unsigned int reason);

static inline void vhx_vq_count(struct vhx_vq *vq, enum vhostx_counter c,
				u64 n)
{
	u64_stats_update_begin(&vq->stats.syncp);
	vq->stats.cnt[c] += n;
	u64_stats_update_end(&vq->stats.syncp);
}

void vhx_vq_read_stats(struct vhx_vq *vq, u64 *cnt);

#endif /* _VHX_VQ_H */
