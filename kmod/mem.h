/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest memory table: guest-physical ranges mapped into the owner's address
 * space (VHOST_SET_MEM_TABLE). Immutable once built; a new table replaces the
 * old one (see vq.c for who may free it and when).
 */
#ifndef _VHX_MEM_H
#define _VHX_MEM_H

#include "access.h"

/* vhost's max_mem_regions default: more regions -> E2BIG. */
#define VHX_MEM_MAX_REGIONS 64

struct vhx_mem_region {
	u64 gpa;	/* first guest-physical byte */
	u64 last;	/* last guest-physical byte (inclusive: gpa + size - 1) */
	u64 uaddr;	/* owner's virtual address of gpa */
};

struct vhx_mem {
	u32 nregions;
	struct vhx_mem_region regions[];	/* sorted by gpa */
};

/*
 * vhx_mem_new - build a table from VHOST_SET_MEM_TABLE's regions.
 * @regions: the caller's copy of the array (already copied from userspace)
 * @n: number of regions, <= VHX_MEM_MAX_REGIONS (the caller checks)
 *
 * Validates as vhost does: memory_size 0 with gpa != 0, gpa + size or
 * uaddr + size wrapping, or a userspace range outside the user address space
 * -> -EFAULT. Overlapping regions are accepted (vhost accepts them); a lookup
 * uses the lowest-gpa region that contains the address. Nothing is pinned and
 * nothing is touched: regions may be huge and mostly unbacked.
 *
 * Returns the table or an ERR_PTR-style negative errno via *err and NULL.
 */
struct vhx_mem *vhx_mem_new(const struct vhost_memory_region *regions, u32 n,
			    int *err);
void vhx_mem_free(struct vhx_mem *mem);

/*
 * vhx_mem_translate - map [gpa, gpa + len) to owner virtual addresses.
 * @iov: filled with one entry per region crossed
 * @iov_max: room in @iov
 *
 * Returns the number of entries used (0 for len 0), -EFAULT if gpa + len
 * wraps or any byte is outside the table, -ENOBUFS if @iov is too small.
 */
int vhx_mem_translate(const struct vhx_mem *mem, u64 gpa, u64 len,
		      struct iovec *iov, unsigned int iov_max);

#endif /* _VHX_MEM_H */
