// SPDX-License-Identifier: GPL-2.0
/*
 * guestdrv: a virtio-net guest driver over memory in this process.
 * See guestdrv.h.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "guestdrv.h"

#define smp_mb()	__atomic_thread_fence(__ATOMIC_SEQ_CST)
#define READ16(p)	__atomic_load_n((p), __ATOMIC_ACQUIRE)
#define WRITE16(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELEASE)

uint64_t gd_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

const char *gd_errname(int err)
{
	static char buf[64];
	const char *n = strerrorname_np(err < 0 ? -err : err);

	snprintf(buf, sizeof(buf), "%s", n ? n : "?");
	return buf;
}

/* ---- guest memory ---- */

int gd_mem_init(struct gd_mem *m, unsigned int nr, uint64_t base, uint64_t size, uint64_t gap)
{
	unsigned int i;

	if (!nr || nr > GD_MEM_MAX_REGIONS)
		return -EINVAL;
	memset(m, 0, sizeof(*m));
	for (i = 0; i < nr; i++) {
		void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

		if (p == MAP_FAILED) {
			int err = -errno;

			gd_mem_free(m);
			return err;
		}
		m->r[i].hva = p;
		m->r[i].size = size;
		m->r[i].gpa = base + i * (size + gap);
		m->nr = i + 1;
	}
	return 0;
}

int gd_mem_add(struct gd_mem *m, uint64_t gpa, uint64_t size)
{
	void *p;

	if (m->nr >= GD_MEM_MAX_REGIONS)
		return -ENOSPC;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	m->r[m->nr].hva = p;
	m->r[m->nr].size = size;
	m->r[m->nr].gpa = gpa;
	m->r[m->nr].brk = 0;
	m->nr++;
	return 0;
}

void gd_mem_free(struct gd_mem *m)
{
	unsigned int i;

	for (i = 0; i < m->nr; i++)
		munmap(m->r[i].hva, m->r[i].size);
	m->nr = 0;
}

uint64_t gd_mem_alloc(struct gd_mem *m, uint64_t len, uint64_t align)
{
	unsigned int i;

	if (!align)
		align = 1;
	for (i = 0; i < m->nr; i++) {
		struct gd_region *r = &m->r[i];
		uint64_t off = (r->brk + align - 1) & ~(align - 1);

		if (off + len <= r->size) {
			r->brk = off + len;
			return r->gpa + off;
		}
	}
	return GD_BAD_GPA;
}

static const struct gd_region *gd_mem_find(const struct gd_mem *m, uint64_t gpa)
{
	unsigned int i;

	for (i = 0; i < m->nr; i++)
		if (gpa >= m->r[i].gpa && gpa - m->r[i].gpa < m->r[i].size)
			return &m->r[i];
	return NULL;
}

void *gd_mem_ptr(const struct gd_mem *m, uint64_t gpa, uint64_t len)
{
	const struct gd_region *r = gd_mem_find(m, gpa);

	if (!r || len > r->size - (gpa - r->gpa))
		return NULL;
	return r->hva + (gpa - r->gpa);
}

static int gd_mem_copy(const struct gd_mem *m, uint64_t gpa, void *buf, uint64_t len, bool to)
{
	uint8_t *b = buf;

	while (len) {
		const struct gd_region *r = gd_mem_find(m, gpa);
		uint64_t off, n;

		if (!r)
			return -EFAULT;
		off = gpa - r->gpa;
		n = r->size - off;
		if (n > len)
			n = len;
		if (to)
			memcpy(r->hva + off, b, n);
		else
			memcpy(b, r->hva + off, n);
		gpa += n;
		b += n;
		len -= n;
	}
	return 0;
}

int gd_mem_write(const struct gd_mem *m, uint64_t gpa, const void *src, uint64_t len)
{
	return gd_mem_copy(m, gpa, (void *)src, len, true);
}

int gd_mem_read(const struct gd_mem *m, uint64_t gpa, void *dst, uint64_t len)
{
	return gd_mem_copy(m, gpa, dst, len, false);
}

uint64_t gd_mem_hva_to_gpa(const struct gd_mem *m, const void *hva)
{
	const uint8_t *p = hva;
	unsigned int i;

	for (i = 0; i < m->nr; i++)
		if (p >= m->r[i].hva && p < m->r[i].hva + m->r[i].size)
			return m->r[i].gpa + (uint64_t)(p - m->r[i].hva);
	return GD_BAD_GPA;
}

/* ---- device ---- */

static int gd_ioctl(struct gd_dev *d, unsigned long req, void *arg)
{
	return ioctl(d->fd, req, arg) < 0 ? -errno : 0;
}

int gd_dev_open(struct gd_dev *d, const char *path)
{
	unsigned int i;

	memset(d, 0, sizeof(*d));
	snprintf(d->path, sizeof(d->path), "%s", path);
	for (i = 0; i < GD_NVQ; i++) {
		d->vq[i].kick_fd = d->vq[i].call_fd = d->vq[i].err_fd = -1;
		d->vq[i].dev = d;
		d->vq[i].index = i;
	}
	d->fd = open(path, O_RDWR | O_CLOEXEC);
	return d->fd < 0 ? -errno : 0;
}

void gd_dev_close(struct gd_dev *d)
{
	unsigned int i;

	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
	for (i = 0; i < GD_NVQ; i++)
		gd_vq_free(&d->vq[i]);
}

int gd_dev_set_owner(struct gd_dev *d)
{
	return gd_ioctl(d, VHOST_SET_OWNER, NULL);
}

int gd_dev_reset_owner(struct gd_dev *d)
{
	return gd_ioctl(d, VHOST_RESET_OWNER, NULL);
}

int gd_dev_get_features(struct gd_dev *d, uint64_t *features)
{
	return gd_ioctl(d, VHOST_GET_FEATURES, features);
}

int gd_dev_set_features(struct gd_dev *d, uint64_t features)
{
	int r = gd_ioctl(d, VHOST_SET_FEATURES, &features);

	if (r)
		return r;
	d->features = features;
	if (features & ((1ull << VIRTIO_NET_F_MRG_RXBUF) | (1ull << VIRTIO_F_VERSION_1)))
		d->hdr_len = sizeof(struct virtio_net_hdr_mrg_rxbuf);
	else
		d->hdr_len = sizeof(struct virtio_net_hdr);
	return 0;
}

bool gd_has(const struct gd_dev *d, unsigned int bit)
{
	return d->features & (1ull << bit);
}

int gd_dev_set_mem(struct gd_dev *d, struct gd_mem *m)
{
	struct vhost_memory *t;
	unsigned int i;
	int r;

	t = calloc(1, sizeof(*t) + m->nr * sizeof(t->regions[0]));
	if (!t)
		return -ENOMEM;
	t->nregions = m->nr;
	for (i = 0; i < m->nr; i++) {
		t->regions[i].guest_phys_addr = m->r[i].gpa;
		t->regions[i].memory_size = m->r[i].size;
		t->regions[i].userspace_addr = (uintptr_t)m->r[i].hva;
	}
	r = gd_ioctl(d, VHOST_SET_MEM_TABLE, t);
	free(t);
	if (!r)
		d->mem = m;
	return r;
}

int gd_dev_set_backend(struct gd_dev *d, unsigned int index, int fd)
{
	struct vhost_vring_file f = { .index = index, .fd = fd };

	return gd_ioctl(d, VHOST_NET_SET_BACKEND, &f);
}

/* ---- virtqueue setup ---- */

static void gd_vq_init_state(struct gd_vq *vq)
{
	unsigned int i;

	vq->avail_idx = vq->kicked_idx = vq->last_used = 0;
	vq->free_head = 0;
	vq->num_free = vq->num;
	for (i = 0; i < vq->num; i++) {
		vq->desc[i].next = (uint16_t)(i + 1);
		vq->cookie[i] = GD_NO_COOKIE;
		vq->chain_len[i] = 0;
	}
}

int gd_vq_alloc(struct gd_dev *d, unsigned int index, unsigned int num, unsigned int flags)
{
	struct gd_vq *vq = &d->vq[index];
	struct gd_mem *m = d->mem;
	uint64_t dsz = 16ull * num, asz = 6 + 2ull * num, usz = 6 + 8ull * num;

	if (!m || index >= GD_NVQ || !num || num > 32768)
		return -EINVAL;
	gd_vq_free(vq);
	vq->num = num;
	vq->event_idx = gd_has(d, VIRTIO_RING_F_EVENT_IDX);
	vq->desc_gpa = gd_mem_alloc(m, dsz, 4096);
	vq->avail_gpa = gd_mem_alloc(m, asz, 64);
	vq->used_gpa = gd_mem_alloc(m, usz, 4096);
	if (vq->desc_gpa == GD_BAD_GPA || vq->avail_gpa == GD_BAD_GPA ||
	    vq->used_gpa == GD_BAD_GPA)
		return -ENOMEM;
	vq->desc = gd_mem_ptr(m, vq->desc_gpa, dsz);
	vq->avail = gd_mem_ptr(m, vq->avail_gpa, asz);
	vq->used = gd_mem_ptr(m, vq->used_gpa, usz);
	vq->ind_max = 0;
	if (flags & GD_VQ_INDIRECT) {
		vq->ind_max = 32;
		vq->ind_gpa = gd_mem_alloc(m, 16ull * vq->ind_max * num, 16);
		if (vq->ind_gpa == GD_BAD_GPA)
			return -ENOMEM;
	}
	vq->chain_len = calloc(num, sizeof(*vq->chain_len));
	vq->chain_wlen = calloc(num, sizeof(*vq->chain_wlen));
	vq->cookie = calloc(num, sizeof(*vq->cookie));
	if (!vq->chain_len || !vq->chain_wlen || !vq->cookie)
		return -ENOMEM;
	vq->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	vq->call_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	vq->err_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vq->kick_fd < 0 || vq->call_fd < 0 || vq->err_fd < 0)
		return -errno;
	gd_vq_reset_ring(vq);
	return 0;
}

void gd_vq_free(struct gd_vq *vq)
{
	free(vq->chain_len);
	free(vq->chain_wlen);
	free(vq->cookie);
	vq->chain_len = NULL;
	vq->chain_wlen = NULL;
	vq->cookie = NULL;
	if (vq->kick_fd >= 0)
		close(vq->kick_fd);
	if (vq->call_fd >= 0)
		close(vq->call_fd);
	if (vq->err_fd >= 0)
		close(vq->err_fd);
	vq->kick_fd = vq->call_fd = vq->err_fd = -1;
	vq->num = 0;
}

void gd_vq_reset_ring(struct gd_vq *vq)
{
	memset(vq->desc, 0, 16ull * vq->num);
	memset(vq->avail, 0, 6 + 2ull * vq->num);
	memset(vq->used, 0, 6 + 8ull * vq->num);
	gd_vq_init_state(vq);
}

int gd_vq_set_num(struct gd_vq *vq, unsigned int num)
{
	struct vhost_vring_state s = { .index = vq->index, .num = num };

	return gd_ioctl(vq->dev, VHOST_SET_VRING_NUM, &s);
}

int gd_vq_set_addr(struct gd_vq *vq, uint64_t desc, uint64_t avail, uint64_t used)
{
	struct vhost_vring_addr a = {
		.index = vq->index,
		.desc_user_addr = desc,
		.avail_user_addr = avail,
		.used_user_addr = used,
	};

	return gd_ioctl(vq->dev, VHOST_SET_VRING_ADDR, &a);
}

int gd_dev_set_log_base(struct gd_dev *d, const void *bitmap)
{
	uint64_t base = (uintptr_t)bitmap;

	return gd_ioctl(d, VHOST_SET_LOG_BASE, &base);
}

int gd_dev_set_log_fd(struct gd_dev *d, int fd)
{
	return gd_ioctl(d, VHOST_SET_LOG_FD, &fd);
}

int gd_vq_set_log(struct gd_vq *vq, bool on)
{
	struct vhost_vring_addr a = {
		.index = vq->index,
		.flags = on ? 1u << VHOST_VRING_F_LOG : 0,
		.desc_user_addr = (uintptr_t)vq->desc,
		.avail_user_addr = (uintptr_t)vq->avail,
		.used_user_addr = (uintptr_t)vq->used,
		.log_guest_addr = vq->used_gpa,
	};

	return gd_ioctl(vq->dev, VHOST_SET_VRING_ADDR, &a);
}

int gd_vq_set_base(struct gd_vq *vq, unsigned int base)
{
	struct vhost_vring_state s = { .index = vq->index, .num = base };

	return gd_ioctl(vq->dev, VHOST_SET_VRING_BASE, &s);
}

int gd_vq_get_base(struct gd_vq *vq, unsigned int *base)
{
	struct vhost_vring_state s = { .index = vq->index };
	int r = gd_ioctl(vq->dev, VHOST_GET_VRING_BASE, &s);

	if (!r)
		*base = s.num;
	return r;
}

static int gd_vq_set_file(struct gd_vq *vq, unsigned long req, int fd)
{
	struct vhost_vring_file f = { .index = vq->index, .fd = fd };

	return gd_ioctl(vq->dev, req, &f);
}

int gd_vq_config(struct gd_vq *vq, uint16_t base)
{
	int r;

	r = gd_vq_set_num(vq, vq->num);
	if (!r)
		r = gd_vq_set_addr(vq, (uintptr_t)vq->desc, (uintptr_t)vq->avail,
				   (uintptr_t)vq->used);
	if (!r)
		r = gd_vq_set_base(vq, base);
	if (!r)
		r = gd_vq_set_file(vq, VHOST_SET_VRING_KICK, vq->kick_fd);
	if (!r)
		r = gd_vq_set_file(vq, VHOST_SET_VRING_CALL, vq->call_fd);
	if (!r)
		r = gd_vq_set_file(vq, VHOST_SET_VRING_ERR, vq->err_fd);
	return r;
}

int gd_vq_restart(struct gd_vq *vq, int backend_fd)
{
	unsigned int base;
	int r;

	r = gd_dev_set_backend(vq->dev, vq->index, -1);
	if (!r)
		r = gd_vq_get_base(vq, &base);
	if (r)
		return r;
	gd_vq_reset_ring(vq);
	r = gd_vq_set_addr(vq, (uintptr_t)vq->desc, (uintptr_t)vq->avail, (uintptr_t)vq->used);
	if (!r)
		r = gd_vq_set_base(vq, 0);
	if (!r && backend_fd >= 0)
		r = gd_dev_set_backend(vq->dev, vq->index, backend_fd);
	return r;
}

/* ---- datapath ---- */

static uint16_t *gd_used_event(struct gd_vq *vq)
{
	return &vq->avail->ring[vq->num];
}

static uint16_t *gd_avail_event(struct gd_vq *vq)
{
	return (uint16_t *)&vq->used->ring[vq->num];
}

unsigned int gd_vq_free_descs(const struct gd_vq *vq)
{
	return vq->num_free;
}

int gd_vq_next_head(const struct gd_vq *vq)
{
	return vq->num_free ? vq->free_head : -ENOSPC;
}

int gd_vq_add(struct gd_vq *vq, const struct gd_sg *sg, unsigned int n, bool indirect,
	      uint64_t cookie)
{
	unsigned int i, head, idx, need = indirect ? 1 : n;
	uint32_t wlen = 0;

	if (!n || vq->num_free < need)
		return -ENOSPC;
	if (indirect && n > vq->ind_max)
		return -E2BIG;
	head = vq->free_head;
	if (indirect) {
		struct vring_desc *t = gd_mem_ptr(vq->dev->mem, vq->ind_gpa + 16ull * vq->ind_max * head,
						  16ull * n);

		for (i = 0; i < n; i++) {
			t[i].addr = sg[i].gpa;
			t[i].len = sg[i].len;
			t[i].flags = (sg[i].write ? VRING_DESC_F_WRITE : 0) |
				     (i + 1 < n ? VRING_DESC_F_NEXT : 0);
			t[i].next = (uint16_t)(i + 1);
			if (sg[i].write)
				wlen += sg[i].len;
		}
		vq->desc[head].addr = vq->ind_gpa + 16ull * vq->ind_max * head;
		vq->desc[head].len = 16 * n;
		vq->desc[head].flags = VRING_DESC_F_INDIRECT;
		vq->free_head = vq->desc[head].next;
	} else {
		idx = head;
		for (i = 0; i < n; i++) {
			vq->desc[idx].addr = sg[i].gpa;
			vq->desc[idx].len = sg[i].len;
			vq->desc[idx].flags = (sg[i].write ? VRING_DESC_F_WRITE : 0) |
					      (i + 1 < n ? VRING_DESC_F_NEXT : 0);
			if (sg[i].write)
				wlen += sg[i].len;
			idx = vq->desc[idx].next;
		}
		vq->free_head = (uint16_t)idx;
	}
	vq->num_free -= need;
	vq->chain_len[head] = (uint16_t)need;
	vq->chain_wlen[head] = wlen;
	vq->cookie[head] = cookie;
	vq->avail->ring[vq->avail_idx & (vq->num - 1)] = (uint16_t)head;
	vq->avail_idx++;
	vq->added++;
	return (int)head;
}

static bool gd_need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

void gd_vq_kick(struct gd_vq *vq)
{
	uint64_t one = 1;

	if (write(vq->kick_fd, &one, sizeof(one)) == sizeof(one))
		vq->kicks++;
}

bool gd_vq_notify(struct gd_vq *vq)
{
	uint16_t old = vq->kicked_idx, new_idx = vq->avail_idx;
	bool need;

	WRITE16(&vq->avail->idx, new_idx);
	smp_mb();
	if (old == new_idx)
		return false;
	if (vq->event_idx)
		need = gd_need_event(READ16(gd_avail_event(vq)), new_idx, old);
	else
		need = !(READ16(&vq->used->flags) & VRING_USED_F_NO_NOTIFY);
	vq->kicked_idx = new_idx;
	if (need)
		gd_vq_kick(vq);
	else
		vq->kicks_suppressed++;
	return need;
}

uint16_t gd_vq_used_idx(const struct gd_vq *vq)
{
	return READ16(&vq->used->idx);
}

bool gd_vq_has_used(const struct gd_vq *vq)
{
	return gd_vq_used_idx(vq) != vq->last_used;
}

int gd_vq_get_used(struct gd_vq *vq, uint32_t *len, uint64_t *cookie)
{
	struct vring_used_elem e;
	unsigned int i, idx, n;

	if (!gd_vq_has_used(vq))
		return -EAGAIN;
	/* The acquire load of used->idx orders the element read after it. */
	e = vq->used->ring[vq->last_used & (vq->num - 1)];
	if (e.id >= vq->num || vq->cookie[e.id] == GD_NO_COOKIE) {
		fprintf(stderr, "guestdrv: vq %u: device returned bad used id %u at used idx %u\n",
			vq->index, e.id, vq->last_used);
		return -EIO;
	}
	if (e.len > vq->chain_wlen[e.id]) {
		fprintf(stderr, "guestdrv: vq %u: used len %u > writable %u for head %u\n",
			vq->index, e.len, vq->chain_wlen[e.id], e.id);
		return -EIO;
	}
	vq->last_used++;
	if (len)
		*len = e.len;
	if (cookie)
		*cookie = vq->cookie[e.id];
	vq->cookie[e.id] = GD_NO_COOKIE;
	/* return the chain to the free list */
	n = vq->chain_len[e.id];
	idx = e.id;
	for (i = 1; i < n; i++)
		idx = vq->desc[idx].next;
	vq->desc[idx].next = vq->free_head;
	vq->free_head = (uint16_t)e.id;
	vq->num_free += n;
	vq->completed++;
	return (int)e.id;
}

bool gd_vq_enable_cb(struct gd_vq *vq)
{
	if (vq->event_idx)
		WRITE16(gd_used_event(vq), vq->last_used);
	else
		WRITE16(&vq->avail->flags, 0);
	smp_mb();
	return !gd_vq_has_used(vq);
}

void gd_vq_disable_cb(struct gd_vq *vq)
{
	if (vq->event_idx)
		WRITE16(gd_used_event(vq), (uint16_t)(vq->last_used - 1));
	else
		WRITE16(&vq->avail->flags, VRING_AVAIL_F_NO_INTERRUPT);
}

static int gd_wait_fd(int fd, int timeout_ms, uint64_t *val)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int r;

	*val = 0;
	r = poll(&p, 1, timeout_ms);
	if (r < 0)
		return errno == EINTR ? 0 : -errno;
	if (r == 0)
		return 0;
	if (read(fd, val, sizeof(*val)) != sizeof(*val))
		return errno == EAGAIN ? 0 : -errno;
	return 1;
}

int gd_vq_wait_call(struct gd_vq *vq, int timeout_ms)
{
	uint64_t v;
	int r = gd_wait_fd(vq->call_fd, timeout_ms, &v);

	if (r > 0)
		vq->calls += v;
	return r;
}

int gd_vq_wait_err(struct gd_vq *vq, int timeout_ms)
{
	uint64_t v;
	int r = gd_wait_fd(vq->err_fd, timeout_ms, &v);

	return r > 0 ? (int)(v > 1000 ? 1000 : v) : r;
}

void gd_vq_raw_desc(struct gd_vq *vq, unsigned int i, uint64_t gpa, uint32_t len,
		    uint16_t flags, uint16_t next)
{
	vq->desc[i].addr = gpa;
	vq->desc[i].len = len;
	vq->desc[i].flags = flags;
	vq->desc[i].next = next;
}

void gd_vq_raw_avail(struct gd_vq *vq, uint16_t head)
{
	vq->avail->ring[vq->avail_idx & (vq->num - 1)] = head;
	vq->avail_idx++;
}

void gd_vq_raw_set_avail_idx(struct gd_vq *vq, uint16_t idx)
{
	vq->avail_idx = idx;
	WRITE16(&vq->avail->idx, idx);
	smp_mb();
}

/* ---- network namespace and tap ---- */

static int gd_write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, s, strlen(s)) < 0)
		r = -errno;
	close(fd);
	return r;
}

int gd_netns_private(void)
{
	if (unshare(CLONE_NEWNET) < 0)
		return -errno;
	/* best effort: without IPv6 no router solicitations or DAD */
	gd_write_file("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
	gd_write_file("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
	return 0;
}

static int gd_packet_socket(struct gd_tap *t, int proto, bool capture)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(proto),
		.sll_ifindex = t->ifindex,
	};
	int one = 1, sz = 64 << 20, fd;

	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(proto));
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) < 0)
		goto err;
	if (capture) {
		if (setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) < 0)
			goto err;
		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
			setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	} else {
		if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) < 0)
			setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	}
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		goto err;
	return fd;
err:
	one = -errno;
	close(fd);
	return one;
}

/* Open /dev/net/tun as queue of tap @name (created if new): t->fd only. */
static int gd_tap_open_fd(struct gd_tap *t, const char *name, unsigned int flags,
			  int vnet_hdr_sz)
{
	struct ifreq ifr;
	int r;

	memset(t, 0, sizeof(*t));
	t->cap = t->inj = -1;
	t->flags = flags;
	t->fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (t->fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	if (flags & GD_TAP_VNET_HDR)
		ifr.ifr_flags |= IFF_VNET_HDR;
	if (flags & GD_TAP_MULTI_QUEUE)
		ifr.ifr_flags |= IFF_MULTI_QUEUE;
	if (ioctl(t->fd, TUNSETIFF, &ifr) < 0)
		goto err;
	snprintf(t->name, IFNAMSIZ, "%s", ifr.ifr_name);
	if (flags & GD_TAP_VNET_HDR) {
		t->vnet_hdr_sz = vnet_hdr_sz;
		if (ioctl(t->fd, TUNSETVNETHDRSZ, &vnet_hdr_sz) < 0)
			goto err;
	}
	if ((flags & GD_TAP_OFFLOAD) &&
	    ioctl(t->fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6) < 0)
		goto err;
	return 0;
err:
	r = -errno;
	close(t->fd);
	t->fd = -1;
	return r;
}

int gd_tap_open_queue(struct gd_tap *q, const struct gd_tap *of)
{
	int r;

	if (!(of->flags & GD_TAP_MULTI_QUEUE))
		return -EINVAL;
	r = gd_tap_open_fd(q, of->name, of->flags, of->vnet_hdr_sz);
	if (!r)
		q->ifindex = of->ifindex;
	return r;
}

int gd_tap_create(struct gd_tap *t, const char *name, unsigned int flags, int vnet_hdr_sz)
{
	struct ifreq ifr;
	int s, r;

	r = gd_tap_open_fd(t, name, flags, vnet_hdr_sz);
	if (r)
		return r;
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		r = -errno;
		gd_tap_close(t);
		return r;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", t->name);
	ifr.ifr_qlen = 8192;
	if (ioctl(s, SIOCSIFTXQLEN, &ifr) < 0)
		goto err_s;
	if (ioctl(s, SIOCGIFINDEX, &ifr) < 0)
		goto err_s;
	t->ifindex = ifr.ifr_ifindex;
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		goto err_s;
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		goto err_s;
	close(s);

	t->cap = gd_packet_socket(t, ETH_P_ALL, true);
	if (t->cap < 0) {
		r = t->cap;
		t->cap = -1;
		gd_tap_close(t);
		return r;
	}
	t->inj = gd_packet_socket(t, 0, false);
	if (t->inj < 0) {
		r = t->inj;
		t->inj = -1;
		gd_tap_close(t);
		return r;
	}
	return 0;
err_s:
	r = -errno;
	close(s);
	gd_tap_close(t);
	return r;
}

int gd_tap_set_mtu(struct gd_tap *t, int mtu)
{
	struct ifreq ifr;
	int s, r = 0;

	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", t->name);
	ifr.ifr_mtu = mtu;
	if (ioctl(s, SIOCSIFMTU, &ifr) < 0)
		r = -errno;
	close(s);
	return r;
}

void gd_tap_close(struct gd_tap *t)
{
	if (t->cap >= 0)
		close(t->cap);
	if (t->inj >= 0)
		close(t->inj);
	if (t->fd >= 0)
		close(t->fd);
	t->cap = t->inj = t->fd = -1;
}

int gd_tap_delete_link(const struct gd_tap *t)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
	} req = {
		.nh = {
			.nlmsg_len = sizeof(req),
			.nlmsg_type = RTM_DELLINK,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK,
			.nlmsg_seq = 1,
		},
		.ifi = { .ifi_family = AF_UNSPEC, .ifi_index = t->ifindex },
	};
	char buf[512];
	struct nlmsghdr *nh = (struct nlmsghdr *)buf;
	int fd, r = 0;
	ssize_t n;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (send(fd, &req, sizeof(req), 0) < 0) {
		r = -errno;
		goto out;
	}
	n = recv(fd, buf, sizeof(buf), 0);
	if (n < 0)
		r = -errno;
	else if ((size_t)n >= sizeof(*nh) && nh->nlmsg_type == NLMSG_ERROR)
		r = ((struct nlmsgerr *)NLMSG_DATA(nh))->error;
out:
	close(fd);
	return r;
}

int gd_tap_inject(struct gd_tap *t, const struct virtio_net_hdr *h, const void *frame, size_t len)
{
	struct virtio_net_hdr none = { .gso_type = VIRTIO_NET_HDR_GSO_NONE };
	struct iovec iov[2] = {
		{ .iov_base = (void *)(h ? h : &none), .iov_len = sizeof(none) },
		{ .iov_base = (void *)frame, .iov_len = len },
	};
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };
	struct pollfd p = { .fd = t->inj, .events = POLLOUT };
	int tries;

	for (tries = 0; tries < 1000; tries++) {
		ssize_t n = sendmsg(t->inj, &msg, 0);

		if (n >= 0)
			return n == (ssize_t)(len + sizeof(none)) ? 0 : -EIO;
		if (errno != EAGAIN && errno != ENOBUFS)
			return -errno;
		poll(&p, 1, 10);
	}
	return -ETIMEDOUT;
}

ssize_t gd_tap_capture(struct gd_tap *t, struct virtio_net_hdr *h, void *buf, size_t cap,
		       int timeout_ms)
{
	struct virtio_net_hdr tmp;
	struct iovec iov[2] = {
		{ .iov_base = h ? h : &tmp, .iov_len = sizeof(tmp) },
		{ .iov_base = buf, .iov_len = cap },
	};
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };
	ssize_t n;

	n = recvmsg(t->cap, &msg, MSG_TRUNC);
	if (n < 0 && errno == EAGAIN && timeout_ms > 0) {
		struct pollfd p = { .fd = t->cap, .events = POLLIN };

		if (poll(&p, 1, timeout_ms) > 0)
			n = recvmsg(t->cap, &msg, MSG_TRUNC);
		else
			errno = EAGAIN;
	}
	if (n < 0)
		return errno == EAGAIN ? 0 : -errno;
	/* MSG_TRUNC: the frame's full length even when it did not fit */
	return n < (ssize_t)sizeof(tmp) ? -EIO : n - (ssize_t)sizeof(tmp);
}

unsigned int gd_tap_capture_drops(struct gd_tap *t)
{
	struct tpacket_stats st;
	socklen_t l = sizeof(st);

	if (getsockopt(t->cap, SOL_PACKET, PACKET_STATISTICS, &st, &l) < 0)
		return 0;
	return st.tp_drops;
}
