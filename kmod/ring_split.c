// SPDX-License-Identifier: GPL-2.0
/*
 * vhostx: the split virtqueue, device side (virtio 1.x, 2.7).
 *
 * Semantics follow vhost (vhost_get_vq_desc, vhost_add_used_n, vhost_notify,
 * vhost_enable_notify) with stricter checks and a named error class for every
 * way a guest can break a ring. Every value read from guest memory is copied
 * once into a local and only the copy is used. Reaches the kernel and guest
 * memory only through access.h.
 *
 * Error conventions: the first violation is recorded in r->err and never
 * overwritten. Once a ring is broken, vhx_ring_pop(), vhx_ring_avail() and
 * vhx_ring_kick_enable() return -EIO without touching guest memory;
 * vhx_ring_push_used() and vhx_ring_need_signal() keep working, so chains
 * taken before the error can still be completed. vhx_ring_start() clears the
 * error.
 *
 * Choices where vhost is silent or laxer:
 * - VRING_DESC_F_INDIRECT without VIRTIO_RING_F_INDIRECT_DESC negotiated is
 *   VHX_RERR_INDIRECT_NESTED: "an indirect descriptor where none may be",
 *   exactly like one inside an indirect table.
 * - INDIRECT together with NEXT is VHX_RERR_INDIRECT_NEXT (the spec forbids
 *   it; vhost follows the NEXT). So an indirect descriptor always ends the
 *   chain, which also bounds the work per chain to num + 65536 descriptors.
 * - An indirect table of more than 65536 entries is VHX_RERR_INDIRECT_LEN
 *   (vhost: -E2BIG); a 16-bit next field cannot reach further.
 * - The direction rule counts descriptors, not iov entries: a zero-length
 *   WRITE descriptor on a TX (VHX_DIR_OUT) queue is an error, where vhost
 *   lets it through because it adds no iov entry.
 * - The WRITE flag of a descriptor that points to an indirect table is
 *   ignored, as the spec requires.
 * - The whole indirect table must translate before any entry is used.
 */
#include "ring.h"

/* Largest indirect table: a 16-bit next field addresses 65536 entries. */
#define VHX_INDIRECT_MAX 65536u

static const char *const vhx_ring_err_names[VHX_RERR_MAX] = {
	[VHX_RERR_NONE] = "none",
	[VHX_RERR_ACCESS] = "ring memory not accessible",
	[VHX_RERR_AVAIL_IDX] = "avail idx moved by more than the ring size",
	[VHX_RERR_HEAD] = "avail ring entry out of range",
	[VHX_RERR_NEXT] = "descriptor next out of range",
	[VHX_RERR_CHAIN_LEN] = "descriptor chain loops",
	[VHX_RERR_INDIRECT_NESTED] =
		"indirect descriptor not allowed here (nested or not negotiated)",
	[VHX_RERR_INDIRECT_LEN] = "bad indirect table length",
	[VHX_RERR_INDIRECT_NEXT] = "indirect descriptor with NEXT",
	[VHX_RERR_ADDR] = "descriptor address outside guest memory",
	[VHX_RERR_DIR] = "descriptor direction not allowed",
	[VHX_RERR_IOV_FULL] = "chain has too many segments",
	[VHX_RERR_USED] = "used ring write failed",
	[VHX_RERR_LOG] = "dirty log write failed",
};

const char *vhx_ring_err_str(enum vhx_ring_err err)
{
	if ((unsigned int)err >= VHX_RERR_MAX)
		return "unknown";
	return vhx_ring_err_names[err];
}

/* Record the first violation; returns @ret for the caller to pass on. */
static int vhx_ring_fail(struct vhx_ring *r, enum vhx_ring_err err, int ret)
{
	if (r->err == VHX_RERR_NONE)
		r->err = err;
	return ret;
}

/* Where the event-idx words live: after the avail and the used ring. */
static __virtio16 __user *vhx_used_event(const struct vhx_ring *r)
{
	return &r->avail->ring[r->num];
}

static __virtio16 __user *vhx_avail_event(const struct vhx_ring *r)
{
	return (__virtio16 __user *)&r->used->ring[r->num];
}

/* Sizes as vhost's vq_access_ok() computes them. */
static bool vhx_ring_areas_ok(const struct vhx_ring *r)
{
	size_t ev = r->event_idx ? sizeof(__virtio16) : 0;
	size_t desc = r->num * sizeof(*r->desc);
	size_t avail = sizeof(*r->avail) + r->num * sizeof(__virtio16) + ev;
	size_t used =
		sizeof(*r->used) + r->num * sizeof(struct vring_used_elem) + ev;

	return vhx_access_ok(r->desc, desc) && vhx_access_ok(r->avail, avail) &&
	       vhx_access_ok(r->used, used);
}

/*
 * Mark @len bytes at @off in the used ring dirty, when the ring is logged.
 * Called after the write, so the bit follows the data.
 */
static int vhx_ring_log_used(struct vhx_ring *r, size_t off, size_t len)
{
	u64 gpa;

	if (!r->log)
		return 0;
	if (check_add_overflow(r->log_addr, (u64)off, &gpa) ||
	    vhx_log_write(r->log, gpa, len))
		return vhx_ring_fail(r, VHX_RERR_LOG, -EFAULT);
	return 0;
}

static int vhx_ring_write_used_flags(struct vhx_ring *r)
{
	if (vhx_put_user(cpu_to_vhx16(r->used_flags), &r->used->flags))
		return vhx_ring_fail(r, VHX_RERR_USED, -EFAULT);
	return vhx_ring_log_used(r, offsetof(struct vring_used, flags),
				 sizeof(r->used->flags));
}

/*
 * Besides what ring.h says: a num that is not a power of two in 1..32768 is
 * -EINVAL, and rings outside the user address space are -EFAULT (vq.c checks
 * both when they are configured; this is a backstop, the ring code masks
 * indices with num - 1). avail_idx restarts from last_avail_idx, so avail->idx
 * is read afresh. Clears r->err.
 */
int vhx_ring_start(struct vhx_ring *r)
{
	__virtio16 idx;

	r->err = VHX_RERR_NONE;
	r->signalled_used_valid = false;
	r->avail_idx = r->last_avail_idx;
	if (!r->num || r->num > 32768 || (r->num & (r->num - 1)))
		return -EINVAL;
	if (!vhx_ring_areas_ok(r))
		return vhx_ring_fail(r, VHX_RERR_ACCESS, -EFAULT);
	if (vhx_ring_write_used_flags(r))
		return -EFAULT;
	if (vhx_get_user(idx, &r->used->idx))
		return vhx_ring_fail(r, VHX_RERR_ACCESS, -EFAULT);
	r->last_used_idx = vhx16_to_cpu(idx);
	return 0;
}

/*
 * Read avail->idx, check it, cache it and order the ring reads after it.
 * Returns the number of chains not yet popped (0..num) or a negative errno.
 */
static int vhx_ring_read_avail_idx(struct vhx_ring *r)
{
	__virtio16 v;
	u16 idx, pending;

	if (vhx_get_user(v, &r->avail->idx))
		return vhx_ring_fail(r, VHX_RERR_ACCESS, -EFAULT);
	idx = vhx16_to_cpu(v);
	pending = (u16)(idx - r->last_avail_idx);
	if (pending > r->num)
		return vhx_ring_fail(r, VHX_RERR_AVAIL_IDX, -EINVAL);
	r->avail_idx = idx;
	/* Ring entries and descriptors are read after the index. */
	vhx_rmb();
	return pending;
}

int vhx_ring_avail(struct vhx_ring *r)
{
	if (r->err)
		return -EIO;
	return vhx_ring_read_avail_idx(r);
}

/* One chain being walked into an iov. */
struct vhx_walk {
	const struct vhx_mem *mem;
	enum vhx_dir dir;
	struct iovec *iov;
	u64 *gpa;		/* NULL, or gpa[i] for each iov[i] */
	unsigned int iov_max;
	struct vhx_chain *c;
};

/* Append one (direct or indirect-table) descriptor's buffer to the iov. */
static int vhx_walk_add(struct vhx_ring *r, struct vhx_walk *w,
			const struct vring_desc *d)
{
	bool write = vhx16_to_cpu(d->flags) & VRING_DESC_F_WRITE;
	u32 len = vhx32_to_cpu(d->len);
	bool want_write = w->dir == VHX_DIR_IN;
	struct vhx_chain *c = w->c;
	unsigned int used = c->out + c->in;
	u64 addr = vhx64_to_cpu(d->addr);
	int i, n;

	/*
	 * TX takes readable descriptors only, RX writable ones only; that
	 * already rules out readable-after-writable, checked here anyway.
	 */
	if (write != want_write || (!write && c->in))
		return vhx_ring_fail(r, VHX_RERR_DIR, -EINVAL);
	n = vhx_mem_translate(w->mem, addr, len, w->iov + used,
			      w->iov_max - used);
	if (n == -ENOBUFS)
		return vhx_ring_fail(r, VHX_RERR_IOV_FULL, -ENOBUFS);
	if (n < 0)
		return vhx_ring_fail(r, VHX_RERR_ADDR, -EFAULT);
	/* The segments are consecutive in the guest: the range translated. */
	for (i = 0; w->gpa && i < n; i++) {
		w->gpa[used + i] = addr;
		addr += w->iov[used + i].iov_len;
	}
	if (write) {
		c->in += n;
		c->in_len += len;
	} else {
		c->out += n;
		c->out_len += len;
	}
	return 0;
}

/*
 * Copy guest-physical [gpa, gpa + len) to @dst, or with @dst NULL only check
 * that all of it translates. The range may cross any number of regions.
 */
static int vhx_ring_read_gpa(struct vhx_ring *r, const struct vhx_mem *mem,
			     u64 gpa, u64 len, u8 *dst)
{
	struct iovec seg[2];
	int i, n;

	while (len) {
		n = vhx_mem_translate(mem, gpa, len, seg, ARRAY_SIZE(seg));
		if (n == -ENOBUFS)
			n = ARRAY_SIZE(seg); /* seg[] holds the first pieces */
		else if (n < 0)
			return vhx_ring_fail(r, VHX_RERR_ADDR, -EFAULT);
		for (i = 0; i < n; i++) {
			if (dst) {
				if (vhx_copy_from_user(dst, seg[i].iov_base,
						       seg[i].iov_len))
					return vhx_ring_fail(r, VHX_RERR_ACCESS,
							     -EFAULT);
				dst += seg[i].iov_len;
			}
			gpa += seg[i].iov_len;
			len -= seg[i].iov_len;
		}
	}
	return 0;
}

/* Check an indirect descriptor; returns its table's entry count or -errno. */
static int vhx_indirect_check(struct vhx_ring *r, const struct vhx_walk *w,
			      const struct vring_desc *ind)
{
	u16 flags = vhx16_to_cpu(ind->flags);
	u32 len = vhx32_to_cpu(ind->len);
	int ret;

	if (!r->indirect)
		return vhx_ring_fail(r, VHX_RERR_INDIRECT_NESTED, -EINVAL);
	if (flags & VRING_DESC_F_NEXT)
		return vhx_ring_fail(r, VHX_RERR_INDIRECT_NEXT, -EINVAL);
	if (!len || len % sizeof(struct vring_desc) ||
	    len / sizeof(struct vring_desc) > VHX_INDIRECT_MAX)
		return vhx_ring_fail(r, VHX_RERR_INDIRECT_LEN, -EINVAL);
	ret = vhx_ring_read_gpa(r, w->mem, vhx64_to_cpu(ind->addr), len, NULL);
	if (ret)
		return ret;
	return len / sizeof(struct vring_desc);
}

/* Walk the chain inside the indirect table that @ind points to. */
static int vhx_walk_indirect(struct vhx_ring *r, struct vhx_walk *w,
			     const struct vring_desc *ind)
{
	u64 table = vhx64_to_cpu(ind->addr);
	unsigned int i = 0, found = 0;
	struct vring_desc d;
	int count, ret;

	count = vhx_indirect_check(r, w, ind);
	if (count < 0)
		return count;
	for (;;) {
		if (++found > (unsigned int)count)
			return vhx_ring_fail(r, VHX_RERR_CHAIN_LEN, -EINVAL);
		/* i < count and the table translated: no overflow here. */
		ret = vhx_ring_read_gpa(r, w->mem, table + (u64)i * sizeof(d),
					sizeof(d), (u8 *)&d);
		if (ret)
			return ret;
		if (vhx16_to_cpu(d.flags) & VRING_DESC_F_INDIRECT)
			return vhx_ring_fail(r, VHX_RERR_INDIRECT_NESTED,
					     -EINVAL);
		ret = vhx_walk_add(r, w, &d);
		if (ret)
			return ret;
		if (!(vhx16_to_cpu(d.flags) & VRING_DESC_F_NEXT))
			return 0;
		i = vhx16_to_cpu(d.next);
		if (i >= (unsigned int)count)
			return vhx_ring_fail(r, VHX_RERR_NEXT, -EINVAL);
	}
}

/* Walk the chain that starts at descriptor @head of the ring's table. */
static int vhx_walk_chain(struct vhx_ring *r, struct vhx_walk *w,
			  unsigned int head)
{
	unsigned int i = head, found = 0;
	struct vring_desc d;
	int ret;

	for (;;) {
		if (++found > r->num)
			return vhx_ring_fail(r, VHX_RERR_CHAIN_LEN, -EINVAL);
		i = array_index_nospec(i, r->num);
		if (vhx_copy_from_user(&d, r->desc + i, sizeof(d)))
			return vhx_ring_fail(r, VHX_RERR_ACCESS, -EFAULT);
		if (vhx16_to_cpu(d.flags) & VRING_DESC_F_INDIRECT)
			return vhx_walk_indirect(r, w, &d);
		ret = vhx_walk_add(r, w, &d);
		if (ret)
			return ret;
		if (!(vhx16_to_cpu(d.flags) & VRING_DESC_F_NEXT))
			return 0;
		i = vhx16_to_cpu(d.next);
		if (i >= r->num)
			return vhx_ring_fail(r, VHX_RERR_NEXT, -EINVAL);
	}
}

int vhx_ring_pop(struct vhx_ring *r, const struct vhx_mem *mem,
		 enum vhx_dir dir, struct iovec *iov, u64 *gpa,
		 unsigned int iov_max, struct vhx_chain *c)
{
	struct vhx_walk w = {
		.mem = mem,
		.dir = dir,
		.iov = iov,
		.gpa = gpa,
		.iov_max = iov_max,
		.c = c,
	};
	__virtio16 v;
	u16 head;
	int ret;

	if (r->err)
		return -EIO;
	if (r->avail_idx == r->last_avail_idx) {
		ret = vhx_ring_read_avail_idx(r);
		if (ret <= 0)
			return ret;
	}
	if (vhx_get_user(v, &r->avail->ring[r->last_avail_idx & (r->num - 1)]))
		return vhx_ring_fail(r, VHX_RERR_ACCESS, -EFAULT);
	head = vhx16_to_cpu(v);
	if (head >= r->num)
		return vhx_ring_fail(r, VHX_RERR_HEAD, -EINVAL);
	*c = (struct vhx_chain){ .head = head };
	ret = vhx_walk_chain(r, &w, head);
	if (ret)
		return ret;
	r->last_avail_idx++;
	return 1;
}

void vhx_ring_unpop(struct vhx_ring *r, unsigned int n)
{
	r->last_avail_idx -= (u16)n;
}

/* Write @n used elements starting at ring slot @start (no wrap inside). */
static int vhx_ring_put_used(struct vhx_ring *r, unsigned int start,
			     const struct vring_used_elem *e, unsigned int n)
{
	if (vhx_copy_to_user(&r->used->ring[start], e, n * sizeof(*e)))
		return vhx_ring_fail(r, VHX_RERR_USED, -EFAULT);
	return vhx_ring_log_used(r, offsetof(struct vring_used, ring) +
					    start * sizeof(*e),
				 n * sizeof(*e));
}

/*
 * Besides what ring.h says: @n above num is a caller bug and -EINVAL without
 * touching the ring.
 */
int vhx_ring_push_used(struct vhx_ring *r, const struct vring_used_elem *e,
		       unsigned int n)
{
	unsigned int start = r->last_used_idx & (r->num - 1);
	unsigned int first = min_t(unsigned int, n, r->num - start);
	u16 old = r->last_used_idx, new = old + (u16)n;

	if (!n)
		return 0;
	if (n > r->num)
		return -EINVAL;
	if (vhx_ring_put_used(r, start, e, first))
		return -EFAULT;
	if (n > first && vhx_ring_put_used(r, 0, e + first, n - first))
		return -EFAULT;
	/* The elements are visible before the index that publishes them. */
	vhx_wmb();
	if (vhx_put_user(cpu_to_vhx16(new), &r->used->idx))
		return vhx_ring_fail(r, VHX_RERR_USED, -EFAULT);
	r->last_used_idx = new;
	if (vhx_ring_log_used(r, offsetof(struct vring_used, idx),
			      sizeof(r->used->idx)))
		return -EFAULT;
	/*
	 * If the index lapped the last signalled value, the event-idx window
	 * is ambiguous: forget it so that the next check signals.
	 */
	if ((u16)(new - r->signalled_used) < (u16)(new - old))
		r->signalled_used_valid = false;
	return 0;
}

/*
 * With event idx, signalled_used becomes the used idx of every decision, not
 * only of those that signalled (as vhost does): a "no" means the guest's
 * used_event was not in [old, new), so the next window starts at new.
 */
bool vhx_ring_need_signal(struct vhx_ring *r)
{
	u16 old, new;
	__virtio16 v;
	bool valid;

	/* Our used idx is visible before we read the guest's wishes. */
	vhx_mb();
	if (r->notify_on_empty && r->avail_idx == r->last_avail_idx)
		goto yes;
	if (!r->event_idx) {
		if (vhx_get_user(v, &r->avail->flags))
			goto yes;
		if (vhx16_to_cpu(v) & VRING_AVAIL_F_NO_INTERRUPT)
			return false;
		goto yes;
	}
	old = r->signalled_used;
	valid = r->signalled_used_valid;
	new = r->last_used_idx;
	r->signalled_used = new;
	r->signalled_used_valid = true;
	if (!valid || vhx_get_user(v, vhx_used_event(r)))
		return true;
	return vring_need_event(vhx16_to_cpu(v), new, old);
yes:
	r->signalled_used = r->last_used_idx;
	r->signalled_used_valid = true;
	return true;
}

/*
 * Unlike vhost, this always writes and rechecks, also when notifications
 * were already enabled, and answers "anything not yet popped" rather than
 * "anything new since the last read".
 */
int vhx_ring_kick_enable(struct vhx_ring *r)
{
	int ret;

	if (r->err)
		return -EIO;
	r->used_flags &= ~VRING_USED_F_NO_NOTIFY;
	if (!r->event_idx)
		ret = vhx_ring_write_used_flags(r);
	else if (vhx_put_user(cpu_to_vhx16(r->avail_idx), vhx_avail_event(r)))
		ret = vhx_ring_fail(r, VHX_RERR_USED, -EFAULT);
	else
		ret = vhx_ring_log_used(r, (u8 __user *)vhx_avail_event(r) -
					   (u8 __user *)r->used,
					sizeof(__virtio16));
	if (ret)
		return ret;
	/* The guest may have added buffers before it saw our write. */
	vhx_mb();
	ret = vhx_ring_read_avail_idx(r);
	if (ret < 0)
		return ret;
	return ret > 0;
}

/* With event idx nothing is written: the guest stops at avail_event. */
void vhx_ring_kick_disable(struct vhx_ring *r)
{
	if (r->used_flags & VRING_USED_F_NO_NOTIFY)
		return;
	r->used_flags |= VRING_USED_F_NO_NOTIFY;
	if (!r->event_idx)
		vhx_ring_write_used_flags(r);
}
