/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The split virtqueue as the device sees it (virtio 1.x, 2.7).
 *
 * Everything read from the ring is the guest's and therefore hostile: every
 * index, descriptor, length and flag is checked before use. A violation sets
 * ring->err (the first one wins) and the calling queue must stop; the ring
 * code never loops without bound, never touches memory outside the rings and
 * the memory table, and never trusts a value it read twice.
 *
 * Locking: a struct vhx_ring belongs to one vq and is only used with that
 * vq's mutex held (by the worker, or by an ioctl while the worker is idle).
 */
#ifndef _VHX_RING_H
#define _VHX_RING_H

#include "access.h"
#include "log.h"
#include "mem.h"

/* Why a ring was declared broken; reported over netlink and in the log. */
enum vhx_ring_err {
	VHX_RERR_NONE = 0,
	VHX_RERR_ACCESS,	/* desc/avail/used memory not accessible */
	VHX_RERR_AVAIL_IDX,	/* avail->idx moved by more than num */
	VHX_RERR_HEAD,		/* avail ring entry (head) >= num */
	VHX_RERR_NEXT,		/* desc.next >= num (or >= indirect count) */
	VHX_RERR_CHAIN_LEN,	/* chain longer than the ring: a loop */
	VHX_RERR_INDIRECT_NESTED, /* INDIRECT inside an indirect table */
	VHX_RERR_INDIRECT_LEN,	/* table length 0 or not a multiple of 16 */
	VHX_RERR_INDIRECT_NEXT,	/* INDIRECT together with NEXT (spec: must not) */
	VHX_RERR_ADDR,		/* addr + len wraps or is outside the memory table */
	VHX_RERR_DIR,		/* write-only on TX, read-only on RX, out after in */
	VHX_RERR_IOV_FULL,	/* more segments than the caller's iov holds */
	VHX_RERR_USED,		/* used ring write failed */
	VHX_RERR_LOG,		/* dirty log write failed */
	VHX_RERR_MAX,
};

const char *vhx_ring_err_str(enum vhx_ring_err err);

struct vhx_ring {
	/* configuration, set by ioctls while the queue is stopped */
	unsigned int num;		/* power of two, 1..32768 */
	vring_desc_t __user *desc;
	vring_avail_t __user *avail;
	vring_used_t __user *used;
	bool event_idx;			/* VIRTIO_RING_F_EVENT_IDX */
	bool indirect;			/* VIRTIO_RING_F_INDIRECT_DESC */
	bool notify_on_empty;		/* VIRTIO_F_NOTIFY_ON_EMPTY */
	/*
	 * Dirty logging of the used ring (VHOST_VRING_F_LOG): every write to
	 * it is marked in @log at guest-physical @log_addr + offset. NULL:
	 * not logged.
	 */
	struct vhx_log *log;
	u64 log_addr;

	/* state */
	u16 last_avail_idx;	/* next avail->ring[] slot to consume */
	u16 avail_idx;		/* avail->idx as last read (cache) */
	u16 last_used_idx;	/* used->idx as last written by us */
	u16 used_flags;		/* used->flags as last written by us */
	u16 signalled_used;	/* used idx at the last interrupt */
	bool signalled_used_valid;
	enum vhx_ring_err err;	/* first violation; VHX_RERR_NONE if healthy */
};

/* A chain taken from the ring: iov[0..out) readable, iov[out..out+in) writable. */
struct vhx_chain {
	u16 head;		/* id to report in the used ring */
	unsigned int out;	/* readable (device reads) iov entries */
	unsigned int in;	/* writable (device writes) iov entries */
	u64 out_len;		/* bytes in the readable part */
	u64 in_len;		/* bytes in the writable part */
};

/* Direction a queue expects: TX chains are all readable, RX all writable. */
enum vhx_dir {
	VHX_DIR_OUT,	/* device reads only (TX) */
	VHX_DIR_IN,	/* device writes only (RX) */
};

/*
 * vhx_ring_start - (re)start a configured ring, as vhost_vq_init_access does:
 * write used->flags (our used_flags), read used->idx into last_used_idx,
 * forget the last signalled index. -EFAULT if the used ring is inaccessible.
 */
int vhx_ring_start(struct vhx_ring *r);

/*
 * vhx_ring_pop - take the next available chain.
 * @mem: the memory table descriptor addresses are translated through
 * @dir: which direction every descriptor of the chain must have
 * @iov, @iov_max: where the translated segments go
 * @gpa: NULL, or room for @iov_max guest-physical addresses: gpa[i] is where
 *       iov[i] starts in the guest (what a dirty log needs)
 *
 * Returns 1 with *c and iov filled, 0 if the ring has nothing new, or a
 * negative errno with r->err set when the ring is malformed.
 */
int vhx_ring_pop(struct vhx_ring *r, const struct vhx_mem *mem,
		 enum vhx_dir dir, struct iovec *iov, u64 *gpa,
		 unsigned int iov_max, struct vhx_chain *c);

/* Give back the last @n popped chains (e.g. the socket had no room). */
void vhx_ring_unpop(struct vhx_ring *r, unsigned int n);

/*
 * vhx_ring_push_used - publish @n used elements and then used->idx (after a
 * write barrier). 0, or -EFAULT with r->err = VHX_RERR_USED (or
 * VHX_RERR_LOG when the write could not be logged).
 */
int vhx_ring_push_used(struct vhx_ring *r, const struct vring_used_elem *e,
		       unsigned int n);

/*
 * vhx_ring_need_signal - must the guest be interrupted for what was pushed
 * since the last signal? Honours EVENT_IDX (used_event) or
 * VRING_AVAIL_F_NO_INTERRUPT, and NOTIFY_ON_EMPTY. With EVENT_IDX it records
 * the used index it decided at, as vhost does. A read failure answers true
 * (a spurious interrupt is safe).
 */
bool vhx_ring_need_signal(struct vhx_ring *r);

/*
 * vhx_ring_kick_enable - ask the guest to kick again (clear
 * VRING_USED_F_NO_NOTIFY, or write avail_event = avail idx with EVENT_IDX),
 * then recheck. Returns 1 if buffers arrived meanwhile (the caller should
 * disable and keep going), 0 if the ring is empty, negative on error.
 */
int vhx_ring_kick_enable(struct vhx_ring *r);

/* vhx_ring_kick_disable - tell the guest not to kick (best effort). */
void vhx_ring_kick_disable(struct vhx_ring *r);

/*
 * vhx_ring_avail - number of chains the guest has made available and we
 * have not popped: 0..num, or a negative errno (ring broken).
 */
int vhx_ring_avail(struct vhx_ring *r);

#endif /* _VHX_RING_H */
