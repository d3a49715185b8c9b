// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for kmod/ring_split.c and kmod/mem.c.
 *
 * The input is a ring configuration, a memory table, a guest memory image
 * and a program of device and guest operations (see struct fuzz_in below;
 * fuzz_seeds.c writes well-formed examples). The image is the only
 * registered "user memory", allocated to its exact size so that ASan sees
 * any access that bypasses the checked accessors. Invariants are checked
 * with FUZZ_ASSERT (abort -> libFuzzer reports a crash):
 *  - vhx_mem_new accepts exactly the tables a reference check accepts, and
 *    vhx_mem_translate agrees with a linear "lowest gpa wins" reference;
 *  - a pop returns 1, 0 or a negative errno; on 1 the chain is consistent
 *    (head < num, direction, iov totals == out_len/in_len, segments inside
 *    the table's user ranges, last_avail_idx + 1); on 0 nothing changed; on
 *    error r->err is set and nothing was consumed;
 *  - vhx_ring_avail is 0..num or an error with r->err set;
 *  - r->err, once set, only changes through vhx_ring_start;
 *  - pop and need_signal never write guest memory;
 *  - every operation terminates (bounded program, libFuzzer -timeout).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ring.h"
#include "fuzz_input.h"

#define FUZZ_ASSERT(c)                                                   \
	do {                                                             \
		if (!(c)) {                                              \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", \
				__FILE__, __LINE__, #c);                 \
			abort();                                         \
		}                                                        \
	} while (0)

struct cursor {
	const u8 *p;
	size_t left;
};

static u64 take(struct cursor *c, unsigned int bytes)
{
	u64 v = 0;
	unsigned int i;

	for (i = 0; i < bytes && c->left; i++, c->left--)
		v |= (u64)*c->p++ << (8 * i);
	return v;
}

struct fuzz {
	u8 *img;
	size_t img_len;
	struct vhost_memory_region regs[FUZZ_MAX_REGIONS];
	u32 nregs;
	struct vhx_mem *mem;
	struct vhx_ring r;
	struct iovec iov[FUZZ_MAX_IOV];
	u64 gpa[FUZZ_MAX_IOV];
	unsigned int iov_max;
	u16 popped[FUZZ_MAX_NUM]; /* popped, not yet pushed */
	unsigned int npopped;
};

/* --- memory table reference -------------------------------------------- */

static int ref_region_err(const struct vhost_memory_region *r)
{
	u64 last, ulast;

	if (!r->memory_size)
		return -EFAULT;
	if (__builtin_add_overflow(r->guest_phys_addr, r->memory_size - 1,
				   &last))
		return -EFAULT;
	if (__builtin_add_overflow(r->userspace_addr, r->memory_size - 1,
				   &ulast))
		return -EFAULT;
	if (ulast >= VHX_USER_TOP)
		return -EFAULT;
	return 0;
}

static const struct vhost_memory_region *ref_owner(const struct fuzz *f, u64 p)
{
	const struct vhost_memory_region *best = NULL, *r;
	u32 i;

	for (i = 0; i < f->nregs; i++) {
		r = &f->regs[i];
		if (p < r->guest_phys_addr ||
		    p - r->guest_phys_addr > r->memory_size - 1)
			continue;
		if (!best || r->guest_phys_addr < best->guest_phys_addr)
			best = r;
		else if (r->guest_phys_addr == best->guest_phys_addr &&
			 (r->memory_size > best->memory_size ||
			  (r->memory_size == best->memory_size &&
			   r->userspace_addr < best->userspace_addr)))
			best = r;
	}
	return best;
}

static void check_translate(struct fuzz *f, u64 gpa, u64 len)
{
	struct iovec got[FUZZ_MAX_REGIONS + 1], want[FUZZ_MAX_REGIONS + 1];
	u64 p = gpa, last;
	int ret, n = 0, i;

	ret = vhx_mem_translate(f->mem, gpa, len, got, FUZZ_MAX_REGIONS + 1);
	if (!len) {
		FUZZ_ASSERT(ret == 0);
		return;
	}
	if (__builtin_add_overflow(gpa, len - 1, &last)) {
		FUZZ_ASSERT(ret == -EFAULT);
		return;
	}
	/* A range crosses each region at most once: n stays <= nregs. */
	for (;;) {
		const struct vhost_memory_region *o = ref_owner(f, p);
		u64 olast, seg_last;

		if (!o) {
			FUZZ_ASSERT(ret == -EFAULT);
			return;
		}
		FUZZ_ASSERT(n < FUZZ_MAX_REGIONS);
		olast = o->guest_phys_addr + o->memory_size - 1;
		seg_last = last < olast ? last : olast;
		want[n].iov_base =
			(void *)(uintptr_t)(o->userspace_addr +
					    (p - o->guest_phys_addr));
		want[n].iov_len = seg_last - p + 1;
		n++;
		if (seg_last == last)
			break;
		p = seg_last + 1;
	}
	FUZZ_ASSERT(ret == n);
	for (i = 0; i < n; i++) {
		FUZZ_ASSERT(got[i].iov_base == want[i].iov_base);
		FUZZ_ASSERT(got[i].iov_len == want[i].iov_len);
	}
}

/* --- device operations and their invariants ---------------------------- */

static bool seg_in_table(const struct fuzz *f, const struct iovec *v)
{
	uintptr_t b = (uintptr_t)v->iov_base;
	u32 i;

	for (i = 0; i < f->nregs; i++) {
		u64 u = f->regs[i].userspace_addr;

		if (b >= u && b - u < f->regs[i].memory_size &&
		    v->iov_len <= f->regs[i].memory_size - (b - u))
			return true;
	}
	return false;
}

static void check_chain(const struct fuzz *f, const struct vhx_chain *c,
			enum vhx_dir dir)
{
	u64 out = 0, in = 0;
	unsigned int i;

	FUZZ_ASSERT(c->head < f->r.num);
	FUZZ_ASSERT(c->out + c->in <= f->iov_max);
	if (dir == VHX_DIR_OUT)
		FUZZ_ASSERT(c->in == 0 && c->in_len == 0);
	else
		FUZZ_ASSERT(c->out == 0 && c->out_len == 0);
	for (i = 0; i < c->out + c->in; i++) {
		struct iovec back;

		FUZZ_ASSERT(f->iov[i].iov_len > 0);
		FUZZ_ASSERT(seg_in_table(f, &f->iov[i]));
		/* gpa[i] is where iov[i] is in the guest (what a log marks). */
		FUZZ_ASSERT(vhx_mem_translate(f->mem, f->gpa[i], f->iov[i].iov_len,
					      &back, 1) == 1);
		FUZZ_ASSERT(back.iov_base == f->iov[i].iov_base);
		if (i < c->out)
			out += f->iov[i].iov_len;
		else
			in += f->iov[i].iov_len;
	}
	FUZZ_ASSERT(out == c->out_len);
	FUZZ_ASSERT(in == c->in_len);
}

static void op_pop(struct fuzz *f, enum vhx_dir dir)
{
	u16 last = f->r.last_avail_idx;
	enum vhx_ring_err err = f->r.err;
	unsigned long writes;
	struct vhx_chain c;
	int ret;

	if (f->npopped >= f->r.num)
		return;
	writes = vhx_user_stats.writes;
	ret = vhx_ring_pop(&f->r, f->mem, dir, f->iov, f->gpa, f->iov_max, &c);
	FUZZ_ASSERT(vhx_user_stats.writes == writes); /* pop only reads */
	if (ret == 1) {
		FUZZ_ASSERT(err == VHX_RERR_NONE && f->r.err == VHX_RERR_NONE);
		FUZZ_ASSERT(f->r.last_avail_idx == (u16)(last + 1));
		check_chain(f, &c, dir);
		f->popped[f->npopped++] = c.head;
		return;
	}
	FUZZ_ASSERT(f->r.last_avail_idx == last);
	if (ret == 0) {
		FUZZ_ASSERT(f->r.err == VHX_RERR_NONE);
		return;
	}
	FUZZ_ASSERT(ret < 0);
	FUZZ_ASSERT(f->r.err > VHX_RERR_NONE && f->r.err < VHX_RERR_MAX);
	if (err != VHX_RERR_NONE)
		FUZZ_ASSERT(ret == -EIO);
}

static void op_push(struct fuzz *f, u32 len)
{
	struct vring_used_elem e[FUZZ_MAX_NUM];
	u16 used = f->r.last_used_idx;
	unsigned int i;
	int ret;

	for (i = 0; i < f->npopped; i++) {
		e[i].id = cpu_to_vhx32(f->popped[i]);
		e[i].len = cpu_to_vhx32(len);
	}
	ret = vhx_ring_push_used(&f->r, e, f->npopped);
	if (ret == 0) {
		FUZZ_ASSERT(f->r.last_used_idx == (u16)(used + f->npopped));
	} else {
		FUZZ_ASSERT(ret == -EFAULT && f->r.err != VHX_RERR_NONE);
		FUZZ_ASSERT(f->r.last_used_idx == used);
	}
	f->npopped = 0;
}

static void op_unpop(struct fuzz *f, unsigned int n)
{
	n = n % (f->npopped + 1);
	vhx_ring_unpop(&f->r, n);
	f->npopped -= n;
}

static void op_avail(struct fuzz *f)
{
	enum vhx_ring_err err = f->r.err;
	int ret = vhx_ring_avail(&f->r);

	if (ret >= 0) {
		FUZZ_ASSERT(err == VHX_RERR_NONE);
		FUZZ_ASSERT((unsigned int)ret <= f->r.num);
	} else {
		FUZZ_ASSERT(f->r.err != VHX_RERR_NONE);
	}
}

static void op_kick_enable(struct fuzz *f)
{
	int ret = vhx_ring_kick_enable(&f->r);

	FUZZ_ASSERT(ret == 0 || ret == 1 || f->r.err != VHX_RERR_NONE);
	if (ret >= 0)
		FUZZ_ASSERT(!(f->r.used_flags & VRING_USED_F_NO_NOTIFY));
}

/* --- guest operations: write into the image, never outside it ---------- */

static void *img_at(struct fuzz *f, uintptr_t addr, size_t n)
{
	uintptr_t b = (uintptr_t)f->img;

	if (addr < b || addr - b > f->img_len || n > f->img_len - (addr - b))
		return NULL;
	return (void *)addr;
}

static void guest_write(struct fuzz *f, uintptr_t addr, const void *src,
			size_t n)
{
	void *dst = img_at(f, addr, n);

	if (dst)
		memcpy(dst, src, n);
}

static void guest_desc(struct fuzz *f, struct cursor *c)
{
	unsigned int i = take(c, 2) & (f->r.num - 1);
	struct vring_desc d;

	d.addr = take(c, 8);
	d.len = take(c, 4);
	d.flags = take(c, 2);
	d.next = take(c, 2);
	guest_write(f, (uintptr_t)(f->r.desc + i), &d, sizeof(d));
}

static void guest_publish(struct fuzz *f, struct cursor *c)
{
	__virtio16 idx, head = take(c, 2);
	void *p = img_at(f, (uintptr_t)&f->r.avail->idx, 2);

	if (!p)
		return;
	memcpy(&idx, p, 2);
	guest_write(f, (uintptr_t)&f->r.avail->ring[idx & (f->r.num - 1)],
		    &head, 2);
	idx++;
	memcpy(p, &idx, 2);
}

static void guest_poke(struct fuzz *f, struct cursor *c)
{
	size_t off = take(c, 2);
	u16 v = take(c, 2);

	if (f->img_len >= 2)
		memcpy(f->img + off % (f->img_len - 1), &v, 2);
}

/* --- setup ----------------------------------------------------------- */

static void setup_mem(struct fuzz *f, struct cursor *c)
{
	int want = 0, err;
	u32 i;

	f->nregs = take(c, 1) % (FUZZ_MAX_REGIONS + 1);
	for (i = 0; i < f->nregs; i++) {
		struct vhost_memory_region *r = &f->regs[i];
		u64 uoff;

		r->guest_phys_addr = take(c, 8);
		r->memory_size = take(c, 8);
		uoff = take(c, 8);
		if (uoff & FUZZ_UADDR_RAW)
			r->userspace_addr = uoff & (FUZZ_UADDR_RAW - 1);
		else
			r->userspace_addr =
				(uintptr_t)f->img + (uoff & FUZZ_UOFF_MASK);
		r->flags_padding = 0;
		if (!want)
			want = ref_region_err(r);
	}
	f->mem = vhx_mem_new(f->regs, f->nregs, &err);
	FUZZ_ASSERT(err == want);
	FUZZ_ASSERT(!f->mem == !!err);
	if (!f->mem) {
		/* Run the ring against an empty table instead. */
		f->nregs = 0;
		f->mem = vhx_mem_new(NULL, 0, &err);
		FUZZ_ASSERT(f->mem && !err);
	}
	FUZZ_ASSERT(f->mem->nregions <= f->nregs);
	for (i = 1; i < f->mem->nregions; i++)
		FUZZ_ASSERT(f->mem->regions[i].gpa >
			    f->mem->regions[i - 1].last);
}

static void setup_ring(struct fuzz *f, struct cursor *c)
{
	unsigned int flags;
	uintptr_t b;

	f->r.num = 1u << (take(c, 1) % (FUZZ_MAX_NUM_LOG2 + 1));
	flags = take(c, 1);
	f->r.event_idx = flags & 1;
	f->r.indirect = flags & 2;
	f->r.notify_on_empty = flags & 4;
	f->r.used_flags = flags & 8 ? VRING_USED_F_NO_NOTIFY : 0;
	f->iov_max = take(c, 1) % (FUZZ_MAX_IOV + 1);
	f->r.last_avail_idx = take(c, 2);
	/* Aligned as SET_VRING_ADDR requires; may lie outside the image. */
	b = (uintptr_t)f->img;
	f->r.desc = (vring_desc_t *)(b + (take(c, 4) & FUZZ_UOFF_MASK & ~15u));
	f->r.avail = (vring_avail_t *)(b + (take(c, 4) & FUZZ_UOFF_MASK & ~1u));
	f->r.used = (vring_used_t *)(b + (take(c, 4) & FUZZ_UOFF_MASK & ~3u));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cursor c = { data, size };
	struct fuzz *f = calloc(1, sizeof(*f));
	unsigned int step;
	size_t img_len;

	if (!f)
		return 0;
	/* The image: length, then bytes (missing ones are zero). */
	img_len = take(&c, 2) % (FUZZ_MAX_IMAGE + 1);
	f->img_len = img_len;
	f->img = calloc(1, img_len ? img_len : 1);
	if (!f->img) {
		free(f);
		return 0;
	}
	memcpy(f->img, c.p, img_len < c.left ? img_len : c.left);
	c.p += img_len < c.left ? img_len : c.left;
	c.left -= img_len < c.left ? img_len : c.left;

	vhx_user_reset();
	if (img_len)
		vhx_user_map(f->img, img_len, VHX_USER_RW);
	setup_ring(f, &c);
	setup_mem(f, &c);
	vhx_ring_start(&f->r);

	for (step = 0; step < FUZZ_MAX_STEPS && c.left; step++) {
		enum vhx_ring_err err = f->r.err;
		unsigned int op = take(&c, 1);
		bool restart = false;

		switch (op % FUZZ_OP_MAX) {
		case FUZZ_OP_POP_OUT:
			op_pop(f, VHX_DIR_OUT);
			break;
		case FUZZ_OP_POP_IN:
			op_pop(f, VHX_DIR_IN);
			break;
		case FUZZ_OP_PUSH:
			op_push(f, take(&c, 4));
			break;
		case FUZZ_OP_UNPOP:
			op_unpop(f, take(&c, 1));
			break;
		case FUZZ_OP_SIGNAL: {
			unsigned long writes = vhx_user_stats.writes;

			vhx_ring_need_signal(&f->r);
			FUZZ_ASSERT(vhx_user_stats.writes == writes);
			break;
		}
		case FUZZ_OP_KICK_ENABLE:
			op_kick_enable(f);
			break;
		case FUZZ_OP_KICK_DISABLE:
			vhx_ring_kick_disable(&f->r);
			FUZZ_ASSERT(f->r.used_flags & VRING_USED_F_NO_NOTIFY);
			break;
		case FUZZ_OP_AVAIL:
			op_avail(f);
			break;
		case FUZZ_OP_GUEST_DESC:
			guest_desc(f, &c);
			break;
		case FUZZ_OP_GUEST_PUBLISH:
			guest_publish(f, &c);
			break;
		case FUZZ_OP_GUEST_POKE:
			guest_poke(f, &c);
			break;
		case FUZZ_OP_TRANSLATE: {
			u32 k = take(&c, 1);
			u64 base =
				f->nregs ?
					f->regs[k % f->nregs].guest_phys_addr :
					0;

			check_translate(f, base + (s64)(int16_t)take(&c, 2),
					take(&c, 2));
			break;
		}
		case FUZZ_OP_START:
			vhx_ring_start(&f->r);
			f->npopped = 0;
			restart = true;
			break;
		}
		if (err != VHX_RERR_NONE && !restart)
			FUZZ_ASSERT(f->r.err == err);
	}
	vhx_mem_free(f->mem);
	vhx_user_reset();
	free(f->img);
	free(f);
	return 0;
}
