/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The dirty log (VHOST_F_LOG_ALL, VHOST_SET_LOG_BASE): a bitmap in the
 * owner's memory with one bit per 4 KiB guest-physical page, bit (gpa / 4096)
 * % 8 of byte (gpa / 4096 / 8) from the log base, as vhost defines it. The
 * VMM clears bits while the device sets them, and other devices share the
 * bitmap, so every bit is set with an atomic operation, after the guest write
 * it stands for is visible.
 *
 * ring_split.c logs its used-ring writes here and net.c its RX buffers. The
 * module's implementation is log.c; the host tests bring their own (the
 * bitmap is then ordinary memory), so only the contract below is shared.
 *
 * Locking: a struct vhx_log belongs to one vq and is used with its mutex held.
 */
#ifndef _VHX_LOG_H
#define _VHX_LOG_H

#include "access.h"

/* vhost's VHOST_PAGE_SIZE: the log's page is 4 KiB on every architecture. */
#define VHX_LOG_PAGE_SHIFT 12
#define VHX_LOG_PAGE_SIZE (1ULL << VHX_LOG_PAGE_SHIFT)

struct vhx_log;

/*
 * vhx_log_write - mark the pages of guest-physical [gpa, gpa + len) dirty.
 * 0 (also for len 0, or a log without a base), or -EFAULT when the range
 * wraps, its bitmap bytes lie outside the address space, or the bitmap is
 * not writable memory of the owner. Nothing outside the bitmap is written.
 */
int vhx_log_write(struct vhx_log *log, u64 gpa, u64 len);

/*
 * vhx_log_bytes - the bitmap bytes that cover guest-physical [gpa, gpa + len):
 * *first = base + (gpa >> 12) / 8, *n bytes from there. False if len is 0,
 * gpa + len wraps or the bytes wrap the address space. The writer's bound,
 * shared with the host tests' log.
 */
static inline bool vhx_log_bytes(u64 base, u64 gpa, u64 len, u64 *first, u64 *n)
{
	u64 last, lo, hi;

	if (!len || check_add_overflow(gpa, len - 1, &last))
		return false;
	lo = (gpa >> VHX_LOG_PAGE_SHIFT) / 8;
	hi = (last >> VHX_LOG_PAGE_SHIFT) / 8;
	if (check_add_overflow(base, hi, &hi))
		return false;
	*first = base + lo;	/* <= base + hi: no overflow */
	*n = hi - *first + 1;
	return true;
}

#ifndef VHX_USERSPACE
#include <linux/eventfd.h>
#include <linux/mm_types.h>

/*
 * One queue's view of the log. The base comes from VHOST_SET_LOG_BASE (0 until
 * then: nothing can be logged and nothing is). A run pins the bitmap page it
 * writes and keeps it until vhx_log_end(): a run's writes mostly fall into
 * one bitmap page (128 MiB of guest memory), so it costs one pin per page per
 * run, where vhost pins per bit.
 */
struct vhx_log {
	u64 base;			/* bitmap's user address, 0: none */
	struct page *page;		/* bitmap page pinned by this run */
	unsigned long page_addr;	/* its user address */
	u64 marks;			/* pages marked since vhx_log_end() */
};

/*
 * Do the bitmap bytes for guest-physical [gpa, gpa + size) lie in the user
 * address space? What the ioctls check, as vhost's log_access_ok() does;
 * whether they are mapped and writable is known only when a bit is set.
 */
bool vhx_log_range_ok(u64 base, u64 gpa, u64 size);

/* End of a run: unpin the bitmap page; returns the pages marked since. */
u64 vhx_log_end(struct vhx_log *log);
#endif

#endif /* _VHX_LOG_H */
