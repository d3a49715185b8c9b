// SPDX-License-Identifier: GPL-2.0
/*
 * vhostx: the guest memory table (VHOST_SET_MEM_TABLE) and gpa -> user
 * address translation.
 *
 * Reaches the kernel only through access.h, so the same file builds into the
 * module and into the host tests and fuzzer (selftests/host).
 *
 * The built table is sorted by gpa and made disjoint: where regions overlap,
 * the region with the lowest gpa owns the overlap (on equal gpa, the longer
 * one, then the lower uaddr), so a later region is clipped at its start or,
 * if fully covered, dropped. Because every earlier region starts at or below
 * a region's gpa, the covered part of a region is always a prefix of it, so
 * clipping never splits a region. A lookup is then a plain binary search and
 * gives the same answer as "lowest-gpa region containing the address".
 */
#include "mem.h"

static int vhx_mem_cmp(const void *a, const void *b)
{
	const struct vhx_mem_region *x = a, *y = b;

	if (x->gpa != y->gpa)
		return x->gpa < y->gpa ? -1 : 1;
	/* Equal start: the longer region first, so that it wins. */
	if (x->last != y->last)
		return x->last > y->last ? -1 : 1;
	if (x->uaddr != y->uaddr)
		return x->uaddr < y->uaddr ? -1 : 1;
	return 0;
}

/*
 * Check one region as vhost_set_memory() + vhost_iotlb_add_range() (last must
 * not be below start) and vq_memory_access_ok() (the userspace range must not
 * wrap and must be user memory) do, and convert it.
 *
 * vhost computes last = gpa + size - 1: size 0 with gpa != 0 gives last < gpa
 * and -EFAULT, but size 0 with gpa 0 gives last = U64_MAX and maps the whole
 * guest-physical space onto userspace_addr. We take the safe reading: a
 * region of size 0 is -EFAULT whatever its gpa. (With gpa 0 and uaddr 0 no
 * overflow check below would catch it, so the explicit test is needed.)
 */
static int vhx_mem_region_init(struct vhx_mem_region *dst,
			       const struct vhost_memory_region *src)
{
	u64 size = src->memory_size;
	u64 gpa = src->guest_phys_addr;
	u64 uaddr = src->userspace_addr;
	u64 ulast;

	if (!size)
		return -EFAULT;
	if (check_add_overflow(gpa, size - 1, &dst->last))
		return -EFAULT;
	if (check_add_overflow(uaddr, size - 1, &ulast))
		return -EFAULT;
	/* Both ends must fit the address type before access_ok sees them. */
	if (uaddr != (uintptr_t)uaddr || ulast != (uintptr_t)ulast ||
	    size != (size_t)size)
		return -EFAULT;
	if (!vhx_access_ok((void __user *)(uintptr_t)uaddr, (size_t)size))
		return -EFAULT;
	dst->gpa = gpa;
	dst->uaddr = uaddr;
	return 0;
}

/* Make sorted regions disjoint (see the top of the file); returns the count. */
static u32 vhx_mem_clip(struct vhx_mem_region *r, u32 n)
{
	u64 covered = 0; /* last byte owned so far, valid if out > 0 */
	u32 i, out = 0;

	for (i = 0; i < n; i++) {
		struct vhx_mem_region reg = r[i];

		if (out) {
			if (reg.last <= covered)
				continue; /* fully covered: dropped */
			if (reg.gpa <= covered) {
				/* covered < reg.last, so no overflow */
				reg.uaddr += covered + 1 - reg.gpa;
				reg.gpa = covered + 1;
			}
		}
		covered = reg.last;
		r[out++] = reg;
	}
	return out;
}

struct vhx_mem *vhx_mem_new(const struct vhost_memory_region *regions, u32 n,
			    int *err)
{
	struct vhx_mem *mem;
	size_t size;
	u32 i;
	int ret;

	if (n > VHX_MEM_MAX_REGIONS) {
		/* The caller returns E2BIG first; this is only a backstop. */
		*err = -E2BIG;
		return NULL;
	}
	size = sizeof(*mem) + (size_t)n * sizeof(mem->regions[0]);
	mem = vhx_kvmalloc(size);
	if (!mem) {
		*err = -ENOMEM;
		return NULL;
	}
	for (i = 0; i < n; i++) {
		ret = vhx_mem_region_init(&mem->regions[i], &regions[i]);
		if (ret) {
			vhx_kvfree(mem);
			*err = ret;
			return NULL;
		}
	}
	if (n)
		vhx_sort(mem->regions, n, sizeof(mem->regions[0]), vhx_mem_cmp);
	mem->nregions = vhx_mem_clip(mem->regions, n);
	*err = 0;
	return mem;
}

void vhx_mem_free(struct vhx_mem *mem)
{
	vhx_kvfree(mem);
}

/* The region that contains @gpa, or NULL. Regions are sorted and disjoint. */
static const struct vhx_mem_region *vhx_mem_find(const struct vhx_mem *mem,
						 u64 gpa)
{
	u32 lo = 0, hi = mem->nregions;

	/* Find the first region whose gpa is above @gpa. */
	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;

		if (mem->regions[mid].gpa <= gpa)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo || mem->regions[lo - 1].last < gpa)
		return NULL;
	return &mem->regions[lo - 1];
}

/*
 * Besides the contract in mem.h: on -ENOBUFS, iov[0..iov_max) hold the
 * leading segments of the range (ring_split.c reads indirect tables in
 * pieces this way), and -EFAULT is preferred over -ENOBUFS when the first
 * byte that does not fit is also untranslatable.
 */
int vhx_mem_translate(const struct vhx_mem *mem, u64 gpa, u64 len,
		      struct iovec *iov, unsigned int iov_max)
{
	const struct vhx_mem_region *reg;
	unsigned int n = 0;
	u64 last, seg_last;

	if (!len)
		return 0;
	if (check_add_overflow(gpa, len - 1, &last))
		return -EFAULT;
	for (;;) {
		reg = vhx_mem_find(mem, gpa);
		if (!reg)
			return -EFAULT;
		if (n >= iov_max)
			return -ENOBUFS;
		seg_last = min_t(u64, last, reg->last);
		/* Both fit: the region's user range was checked at creation. */
		iov[n].iov_base = (void __user *)(uintptr_t)(reg->uaddr +
							     (gpa - reg->gpa));
		iov[n].iov_len = (size_t)(seg_last - gpa + 1);
		n++;
		if (seg_last == last)
			return n;
		gpa = seg_last + 1;
	}
}
