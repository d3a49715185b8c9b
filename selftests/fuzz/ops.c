// SPDX-License-Identifier: GPL-2.0
/*
 * vhx_fuzz: a round's world and the ioctl operations on it.
 *
 * The world is built on the main thread before the op threads start and torn
 * down after they end; during the round its fd numbers never change meaning
 * except through dup2() onto the same slot, so an op thread can always pass
 * any of them to the kernel (at worst it reaches a newer file, or EBADF).
 * No op closes an fd it did not open itself.
 *
 * Each op picks a device, builds arguments that are valid ~70 % of the time
 * and an edge or invalid value otherwise, and returns 0/-errno. Addresses
 * follow the rule in fuzz.h: inside the device's arena or not user memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <linux/if_tun.h>

#include "fuzz.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MIB (1ull << 20)
/* Gap before the log page and guard after it: the bitmap of any gpa below
 * 4 GiB (offset gpa / 32 KiB < 128 KiB) and any ring placed in the guard
 * (at most 512 KiB long) stay inside the arena. */
#define FZ_LOG_GUARD (2 * MIB)

static _Atomic unsigned int fz_ntaps;

static long xioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) < 0 ? -errno : 0;
}

/* ---- world ---- */

/* The tap's ifindex, and the link up (so frames sent on it get queued). */
static int fz_if_up(int s, struct ifreq *ifr, int *ifindex)
{
	if (ioctl(s, SIOCGIFINDEX, ifr) < 0)
		return -errno;
	*ifindex = ifr->ifr_ifindex;
	if (ioctl(s, SIOCGIFFLAGS, ifr) < 0)
		return -errno;
	ifr->ifr_flags |= IFF_UP;
	return ioctl(s, SIOCSIFFLAGS, ifr) < 0 ? -errno : 0;
}

int fz_tap_open(struct rng *r, int *ifindex, int *hdrsz)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR };
	unsigned int offload = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
	int fd, s, sz = 10, err;

	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	/* unique while this process lives: "vfz" + pid + "x" + n fits IFNAMSIZ */
	snprintf(ifr.ifr_name, IFNAMSIZ, "vfz%dx%u", getpid(), atomic_fetch_add(&fz_ntaps, 1) % 10000);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		goto err;
	if (rng_pct(r, 50)) {
		sz = rng_pct(r, 50) ? 10 : 12;
		if (ioctl(fd, TUNSETVNETHDRSZ, &sz) < 0)
			goto err;
	}
	if (rng_pct(r, 50) && ioctl(fd, TUNSETOFFLOAD, offload) < 0)
		goto err;
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		goto err;
	err = fz_if_up(s, &ifr, ifindex);
	close(s);
	if (err) {
		close(fd);
		return err;
	}
	*hdrsz = sz;
	return fd;
err:
	err = -errno;
	close(fd);
	return err;
}

/*
 * Guest memory: 1-8 MiB in 1-4 regions, mapped RW inside a PROT_NONE arena
 * with host gaps (so an oversized region or a stray ring faults instead of
 * reaching other memory) and guest-physical holes, sometimes 2 MiB ones.
 */
static int fz_arena_setup(struct fz_dev *d, struct rng *r)
{
	uint64_t total = (1 + rng_below(r, 8)) * MIB, nr, size, hgap, ggap, gpa, off = 0;
	unsigned int i;

	nr = 1 + rng_below(r, total / MIB < 4 ? total / MIB : 4);
	size = total / nr & ~0xfffull;
	hgap = rng_pct(r, 50) ? 0 : 2 * MIB;
	ggap = (uint64_t[]){ 0, 2 * MIB, 4096 * rng_below(r, 512) }[rng_below(r, 3)];
	gpa = rng_below(r, 256) * MIB;
	d->arena_len = nr * (size + hgap) + 2 * FZ_LOG_GUARD + 4096;
	d->arena = mmap(NULL, d->arena_len, PROT_NONE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (d->arena == MAP_FAILED) {
		d->arena = NULL;
		return -errno;
	}
	memset(&d->mem, 0, sizeof(d->mem));
	for (i = 0; i < nr; i++) {
		struct gd_region *g = &d->mem.r[i];

		g->hva = d->arena + off;
		g->size = size;
		g->gpa = gpa;
		if (mprotect(g->hva, size, PROT_READ | PROT_WRITE))
			return -errno;
		off += size + hgap;
		gpa += size + ggap;
	}
	d->mem.nr = nr;
	d->log = d->arena + off + FZ_LOG_GUARD;
	return mprotect(d->log, 4096, PROT_READ | PROT_WRITE) ? -errno : 0;
}

/* guestdrv's device, before anything can fail: no fd, no ring yet. */
static void fz_gd_init(struct fz_dev *d)
{
	unsigned int i;

	memset(&d->gd, 0, sizeof(d->gd));
	d->gd.fd = d->fd;
	d->gd.mem = &d->mem;
	for (i = 0; i < GD_NVQ; i++) {
		d->gd.vq[i].dev = &d->gd;
		d->gd.vq[i].index = i;
		d->gd.vq[i].kick_fd = d->gd.vq[i].call_fd = d->gd.vq[i].err_fd = -1;
	}
}

/* Rings, eventfds and packet slots, laid out by guestdrv in the arena. */
static int fz_rings_setup(struct fz_dev *d, struct rng *r)
{
	unsigned int i, num = 64u << rng_below(r, 3);
	int err;

	for (i = 0; i < GD_NVQ; i++) {
		err = gd_vq_alloc(&d->gd, i, num, 0);
		if (err)
			return err;
	}
	/* 256 KiB of slots per queue: fits the smallest memory */
	d->slot_len = (256 << 10) / num < 2048 ? (256 << 10) / num : 2048;
	d->tx_slots = gd_mem_alloc(&d->mem, (uint64_t)num * d->slot_len, 64);
	d->rx_slots = gd_mem_alloc(&d->mem, (uint64_t)num * d->slot_len, 64);
	d->scratch_gpa = gd_mem_alloc(&d->mem, 4096, 16);
	if (d->tx_slots == GD_BAD_GPA || d->rx_slots == GD_BAD_GPA || d->scratch_gpa == GD_BAD_GPA)
		return -ENOMEM;
	return 0;
}

static int fz_dev_setup(struct world *w, struct fz_dev *d, struct rng *r)
{
	int err;

	d->fd = open(w->path, O_RDWR | O_CLOEXEC);
	if (d->fd < 0)
		return -errno;
	pthread_mutex_init(&d->lock, NULL);
	pthread_rwlock_init(&d->memlock, NULL);
	fz_gd_init(d);
	if (ioctl(d->fd, VHOST_GET_FEATURES, &d->offered) < 0)
		d->offered = 0;
	err = fz_arena_setup(d, r);
	return err ? err : fz_rings_setup(d, r);
}

int fz_world_setup(struct world *w, const char *path, uint64_t seed, struct fz_thread *main_t)
{
	struct rng r;
	unsigned int i;
	int err;

	memset(w, 0, sizeof(*w));
	w->path = path;
	w->inj = w->udp = w->pipe[0] = w->pipe[1] = w->closed_fd = w->log_efd = -1;
	for (i = 0; i < FZ_MAX_DEVS; i++)
		w->dev[i].fd = -1;
	for (i = 0; i < FZ_MAX_TAPS; i++)
		w->tap[i].fd = -1;
	rng_seed(&r, seed);
	w->ndev = 1 + rng_below(&r, FZ_MAX_DEVS);
	w->ntap = 1 + rng_below(&r, FZ_MAX_TAPS);
	w->scribble = rng_pct(&r, 40);
	w->netlink = rng_pct(&r, 50);
	w->owner_kill = rng_pct(&r, 20);
	main_t->w = w;
	for (i = 0; i < w->ndev; i++) {
		err = fz_dev_setup(w, &w->dev[i], &r);
		if (err)
			return err;
	}
	for (i = 0; i < w->ntap; i++) {
		int ifindex, hdrsz;

		w->tap[i].fd = fz_tap_open(&r, &ifindex, &hdrsz);
		if (w->tap[i].fd < 0)
			return w->tap[i].fd;
		w->tap[i].ifindex = ifindex;
		w->tap[i].hdrsz = hdrsz;
	}
	w->inj = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	w->udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	w->log_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	w->closed_fd = eventfd(0, EFD_CLOEXEC);
	if (w->inj < 0 || w->udp < 0 || w->log_efd < 0 || w->closed_fd < 0 ||
	    pipe2(w->pipe, O_CLOEXEC | O_NONBLOCK))
		return -errno;
	close(w->closed_fd);
	return 0;
}

static void fz_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void fz_world_teardown(struct world *w)
{
	unsigned int i, q;

	for (i = 0; i < FZ_MAX_DEVS; i++) {
		struct fz_dev *d = &w->dev[i];

		if (d->fd < 0)
			continue;
		fz_close(&d->fd);
		for (q = 0; q < GD_NVQ; q++)
			gd_vq_free(&d->gd.vq[q]);
		if (d->arena)
			munmap(d->arena, d->arena_len);
		pthread_mutex_destroy(&d->lock);
		pthread_rwlock_destroy(&d->memlock);
	}
	for (i = 0; i < FZ_MAX_TAPS; i++)
		fz_close(&w->tap[i].fd);
	fz_close(&w->inj);
	fz_close(&w->udp);
	fz_close(&w->pipe[0]);
	fz_close(&w->pipe[1]);
	fz_close(&w->log_efd);
}

/* ---- argument helpers ---- */

struct fz_dev *fz_pick_dev(struct fz_thread *t, struct fz_rec *r)
{
	r->dev = (int)rng_below(&t->rng, t->w->ndev);
	return &t->w->dev[r->dev];
}

/* The device's slot, or now and then one of this thread's dup()s. */
int fz_dev_fd(struct fz_thread *t, struct fz_dev *d)
{
	if (t->ndups && rng_pct(&t->rng, 10))
		return t->dups[rng_below(&t->rng, t->ndups)];
	return d->fd;
}

void fz_drop_dups(struct fz_thread *t)
{
	while (t->ndups)
		close(t->dups[--t->ndups]);
}

/* A queue index: mostly 0 (RX) or 1 (TX). */
static uint32_t pick_idx(struct rng *r)
{
	static const uint32_t bad[] = { 2, 3, 0xffff, 0x80000000u, 0xffffffffu };

	return rng_pct(r, 10) ? bad[rng_below(r, ARRAY_SIZE(bad))] : (uint32_t)rng_below(r, 2);
}

/* An fd where the ioctl wants an eventfd. */
static int pick_efd(struct fz_thread *t, int good)
{
	struct world *w = t->w;

	if (!rng_bad(&t->rng))
		return good;
	switch (rng_below(&t->rng, 5)) {
	case 0: return -1;
	case 1: return w->closed_fd;
	case 2: return w->pipe[0];
	case 3: return w->tap[0].fd;
	default: return (int)rng_below(&t->rng, 1024);
	}
}

/* A user address that must not work, never one of this process's mappings. */
static uint64_t bad_addr(struct rng *r, const struct fz_dev *d)
{
	switch (rng_below(r, 4)) {
	case 0: return FZ_LOW_ADDR + rng_below(r, MIB);
	case 1: return FZ_KERNEL_ADDR + 4096 * rng_below(r, 1024);
	case 2: return (uintptr_t)d->log + 4096 + rng_below(r, 64 << 10);	/* guard */
	default: return 0;
	}
}

/* Somewhere in the arena, far enough from its end for any ring to fit. */
static uint64_t arena_addr(struct rng *r, const struct fz_dev *d)
{
	return (uintptr_t)d->arena + rng_below(r, d->arena_len - FZ_LOG_GUARD);
}

uint64_t fz_pick_gpa(struct rng *r, const struct gd_mem *m)
{
	const struct gd_region *g = &m->r[rng_below(r, m->nr)];

	if (!rng_bad(r))
		return g->gpa + rng_below(r, g->size);
	switch (rng_below(r, 4)) {
	case 0: return g->gpa + g->size + rng_below(r, 4096);
	case 1: return g->gpa - 1 - rng_below(r, 64);
	case 2: return ~0ull - rng_below(r, 4096);
	default: return rng_below(r, 4ull << 30);
	}
}

/* ---- owner and features ---- */

static long op_set_owner(struct fz_thread *t, struct fz_rec *r)
{
	return xioctl(fz_dev_fd(t, fz_pick_dev(t, r)), VHOST_SET_OWNER, NULL);
}

static long op_reset_owner(struct fz_thread *t, struct fz_rec *r)
{
	struct fz_dev *d = fz_pick_dev(t, r);
	long ret = xioctl(fz_dev_fd(t, d), VHOST_RESET_OWNER, NULL);

	if (!ret) {
		pthread_mutex_lock(&d->lock);
		d->running = false;
		pthread_mutex_unlock(&d->lock);
	}
	return ret;
}

static long op_get_features(struct fz_thread *t, struct fz_rec *r)
{
	return xioctl(fz_dev_fd(t, fz_pick_dev(t, r)), VHOST_GET_FEATURES, &r->a[0]);
}

/* Mostly a subset of what the device offers; else random or one bit too many. */
static uint64_t pick_features(struct rng *r, uint64_t offered)
{
	if (!rng_bad(r))
		return offered & rng_next(r);
	switch (rng_below(r, 3)) {
	case 0: return rng_next(r);
	case 1: return offered | 1ull << rng_below(r, 64);
	default: return offered | 1ull << VHOST_F_LOG_ALL;
	}
}

static long op_set_features(struct fz_thread *t, struct fz_rec *r)
{
	struct fz_dev *d = fz_pick_dev(t, r);

	r->a[0] = pick_features(&t->rng, d->offered);
	return xioctl(fz_dev_fd(t, d), VHOST_SET_FEATURES, &r->a[0]);
}

static long op_backend_features(struct fz_thread *t, struct fz_rec *r)
{
	int fd = fz_dev_fd(t, fz_pick_dev(t, r));
	uint64_t f = 0;
	long ret;

	r->a[0] = rng_below(&t->rng, 2);	/* 0 get, 1 set */
	ret = xioctl(fd, VHOST_GET_BACKEND_FEATURES, &f);
	if (ret || !r->a[0])
		return ret;
	r->a[1] = pick_features(&t->rng, f);
	return xioctl(fd, VHOST_SET_BACKEND_FEATURES, &r->a[1]);
}

/* ---- memory table ---- */

#define FZ_MEM_SLOTS 70

static void mem_valid(struct rng *r, const struct fz_dev *d, struct vhost_memory *m)
{
	unsigned int i;

	m->nregions = d->mem.nr;
	m->padding = 0;
	for (i = 0; i < d->mem.nr; i++) {
		m->regions[i].guest_phys_addr = d->mem.r[i].gpa;
		m->regions[i].memory_size = d->mem.r[i].size;
		m->regions[i].userspace_addr = (uintptr_t)d->mem.r[i].hva;
		m->regions[i].flags_padding = 0;
	}
	/* any order: the device sorts */
	if (m->nregions > 1 && rng_pct(r, 30)) {
		struct vhost_memory_region tmp = m->regions[0];

		m->regions[0] = m->regions[m->nregions - 1];
		m->regions[m->nregions - 1] = tmp;
	}
}

/* Spoil one region, or the count. Host ranges stay safe (see fuzz.h). */
static void mem_spoil(struct rng *r, const struct fz_dev *d, struct vhost_memory *m, uint64_t *kind)
{
	struct vhost_memory_region *g = &m->regions[rng_below(r, m->nregions)];
	unsigned int i, n;

	*kind = rng_below(r, 10);
	switch (*kind) {
	case 0:		/* overlap: a copy shifted by half its size */
		m->regions[m->nregions] = *g;
		m->regions[m->nregions].guest_phys_addr += g->memory_size / 2;
		m->nregions++;
		break;
	case 1:
		g->memory_size = 0;
		break;
	case 2:		/* huge, at addresses where it cannot reach our memory */
		if (rng_pct(r, 50)) {
			g->userspace_addr = FZ_LOW_ADDR;
			g->memory_size = 1ull << 39;
		} else {
			g->userspace_addr = FZ_KERNEL_ADDR;
			g->memory_size = (uint64_t[]){ 1ull << 40, 1ull << 63, ~0ull }[rng_below(r, 3)];
		}
		break;
	case 3:		/* gpa + size wraps */
		g->guest_phys_addr = ~0ull - rng_below(r, g->memory_size);
		break;
	case 4:		/* high but not wrapping */
		g->guest_phys_addr = 1ull << (62 + rng_below(r, 2));
		break;
	case 5:		/* unmapped or kernel: not the guard, a region would outgrow it */
		g->userspace_addr = (uint64_t[]){ 0, FZ_LOW_ADDR, FZ_KERNEL_ADDR }[rng_below(r, 3)];
		break;
	case 6:		/* more than any limit: aliases of valid memory at new gpas */
		n = 65 + (unsigned int)rng_below(r, FZ_MEM_SLOTS - 64);
		for (i = m->nregions; i < n; i++) {
			m->regions[i] = m->regions[i % d->mem.nr];
			m->regions[i].guest_phys_addr += (uint64_t)i * 16 * MIB;
		}
		m->nregions = n;
		break;
	case 7:		/* a count beyond the buffer: must be refused before the copy */
		m->nregions = (uint32_t[]){ 1000, 0x10000, 0xffffffffu }[rng_below(r, 3)];
		break;
	case 8:
		m->nregions = 0;
		break;
	default:
		m->padding = (uint32_t)rng_next(r);
		g->flags_padding = rng_next(r);
		break;
	}
}

static long op_set_mem_table(struct fz_thread *t, struct fz_rec *r)
{
	struct fz_dev *d = fz_pick_dev(t, r);
	struct vhost_memory *m = (struct vhost_memory *)t->buf;

	mem_valid(&t->rng, d, m);
	r->a[0] = ~0ull;	/* spoil kind, none */
	if (rng_bad(&t->rng))
		mem_spoil(&t->rng, d, m, &r->a[0]);
	r->a[1] = m->nregions;
	return xioctl(fz_dev_fd(t, d), VHOST_SET_MEM_TABLE, m);
}

/* ---- dirty log ---- */

static long op_set_log_base(struct fz_thread *t, struct fz_rec *r)
{
	struct fz_dev *d = fz_pick_dev(t, r);

	r->a[0] = (uintptr_t)d->log;
	if (rng_bad(&t->rng))
		r->a[0] = rng_pct(&t->rng, 25) ? r->a[0] + 1 : bad_addr(&t->rng, d);
	return xioctl(fz_dev_fd(t, d), VHOST_SET_LOG_BASE, &r->a[0]);
}

static long op_set_log_fd(struct fz_thread *t, struct fz_rec *r)
{
	struct fz_dev *d = fz_pick_dev(t, r);
	int fd = pick_efd(t, rng_pct(&t->rng, 20) ? -1 : t->w->log_efd);

	r->a[0] = (uint64_t)fd;
	return xioctl(fz_dev_fd(t, d), VHOST_SET_LOG_FD, &fd);
}

/* ---- vring configuration ---- */

static long vring_state(struct fz_thread *t, struct fz_rec *r, unsigned long req, uint32_t num)
{
	struct fz_dev *d = fz_pick_dev(t, r);
	struct vhost_vring_state s = { .index = pick_idx(&t->rng), .num = num };
	long ret;

	r->a[0] = s.index;
	r->a[1] = s.num;
	ret = xioctl(fz_dev_fd(t, d), req, &s);
	r->a[2] = s.num;	/* what a GET returned */
	return ret;
}

static long op_set_vring_num(struct fz_thread *t, struct fz_rec *r)
{
	static const uint32_t bad[] = { 0, 3, 100, 257, 65535, 65536, 0xffffffffu };
	uint32_t num = 1u << rng_below(&t->rng, 16);

	if (rng_bad(&t->rng))
		num = bad[rng_below(&t->rng, ARRAY_SIZE(bad))];
	return vring_state(t, r, VHOST_SET_VRING_NUM, num);
}

static long op_set_vring_base(struct fz_thread *t, struct fz_rec *r)
{
	uint32_t base = rng_pct(&t->rng, 50) ? 0 : (uint16_t)rng_next(&t->rng);

	if (rng_bad(&t->rng))
		base = 0x10000 + (uint32_t)rng_below(&t->rng, 0xffff0000u);
	return vring_state(t, r, VHOST_SET_VRING_BASE, base);
}

static long op_get_vring_base(struct fz_thread *t, struct fz_rec *r)
{
	return vring_state(t, r, VHOST_GET_VRING_BASE, 0);
}

static long op_busyloop(struct fz_thread *t, struct fz_rec *r)
{
	uint32_t us = (uint32_t)rng_below(&t->rng, 50);

	if (rng_pct(&t->rng, 50))
		return vring_state(t, r, VHOST_GET_VRING_BUSYLOOP_TIMEOUT, 0);
	if (rng_bad(&t->rng))
		us = (uint32_t[]){ 1000000, 0x7fffffffu, 0xffffffffu }[rng_below(&t->rng, 3)];
	return vring_state(t, r, VHOST_SET_VRING_BUSYLOOP_TIMEOUT, us);
}

/* Without cross-endian support vhost answers -ENOIOCTLCMD: ENOTTY here. */
static long op_endian(struct fz_thread *t, struct fz_rec *r)
{
	uint32_t v = rng_bad(&t->rng) ? (uint32_t)rng_next(&t->rng) : (uint32_t)rng_below(&t->rng, 2);

	if (rng_pct(&t->rng, 50))
		return vring_state(t, r, VHOST_GET_VRING_ENDIAN, 0);
	return vring_state(t, r, VHOST_SET_VRING_ENDIAN, v);
}

static long op_set_vring_addr(struct fz_thread *t, struct fz_rec *r)
{
	struct fz_dev *d = fz_pick_dev(t, r);
	struct vhost_vring_addr a = { .index = pick_idx(&t->rng) };
	struct gd_vq *vq = &d->gd.vq[a.index & 1];
	__u64 *which[] = { &a.desc_user_addr, &a.avail_user_addr, &a.used_user_addr };

	a.desc_user_addr = (uintptr_t)vq->desc;
	a.avail_user_addr = (uintptr_t)vq->avail;
	a.used_user_addr = (uintptr_t)vq->used;
	a.log_guest_addr = vq->used_gpa;
	if (rng_pct(&t->rng, 20))
		a.flags = 1u << VHOST_VRING_F_LOG;
	if (rng_bad(&t->rng)) {
		__u64 *p = which[rng_below(&t->rng, 3)];

		switch (rng_below(&t->rng, 5)) {
		case 0: *p += 1 + rng_below(&t->rng, 15); break;	/* unaligned */
		case 1: *p = arena_addr(&t->rng, d); break;	/* maybe a hole */
		case 2: *p = bad_addr(&t->rng, d); break;
		case 3: a.flags = (uint32_t)rng_next(&t->rng); break;
		default: a.log_guest_addr = fz_pick_gpa(&t->rng, &d->mem); break;
		}
	}
	r->a[0] = a.index;
	r->a[1] = a.flags;
	r->a[2] = a.used_user_addr;
	return xioctl(fz_dev_fd(t, d), VHOST_SET_VRING_ADDR, &a);
}

static long vring_file(struct fz_thread *t, struct fz_rec *r, unsigned long req, int which)
{
	struct fz_dev *d = fz_pick_dev(t, r);
	struct vhost_vring_file f = { .index = pick_idx(&t->rng) };
	struct gd_vq *vq = &d->gd.vq[f.index & 1];
	int good[] = { vq->kick_fd, vq->call_fd, vq->err_fd };

	f.fd = pick_efd(t, rng_pct(&t->rng, 10) ? -1 : good[which]);
	r->a[0] = f.index;
	r->a[1] = (uint64_t)f.fd;
	return xioctl(fz_dev_fd(t, d), req, &f);
}

static long op_set_vring_kick(struct fz_thread *t, struct fz_rec *r)
{
	return vring_file(t, r, VHOST_SET_VRING_KICK, 0);
}

static long op_set_vring_call(struct fz_thread *t, struct fz_rec *r)
{
	return vring_file(t, r, VHOST_SET_VRING_CALL, 1);
}

static long op_set_vring_err(struct fz_thread *t, struct fz_rec *r)
{
	return vring_file(t, r, VHOST_SET_VRING_ERR, 2);
}

/* A tap to attach, -1 to detach; else a socket that is no tap, a pipe, ... */
static long op_set_backend(struct fz_thread *t, struct fz_rec *r)
{
	struct world *w = t->w;
	struct fz_dev *d = fz_pick_dev(t, r);
	struct vhost_vring_file f = { .index = pick_idx(&t->rng) };

	f.fd = rng_pct(&t->rng, 25) ? -1 : w->tap[rng_below(&t->rng, w->ntap)].fd;
	if (rng_bad(&t->rng)) {
		int bad[] = { w->inj, w->udp, w->pipe[1], w->log_efd, w->closed_fd, d->fd };

		f.fd = bad[rng_below(&t->rng, ARRAY_SIZE(bad))];
	}
	r->a[0] = f.index;
	r->a[1] = (uint64_t)f.fd;
	return xioctl(fz_dev_fd(t, d), VHOST_NET_SET_BACKEND, &f);
}

/* ---- workers ---- */

static unsigned int pick_worker(struct rng *r, struct fz_dev *d)
{
	unsigned int n = atomic_load(&d->nworkers);

	if (n && !rng_bad(r))
		return atomic_load(&d->worker_id[rng_below(r, n < FZ_MAX_WORKERS ? n : FZ_MAX_WORKERS)]);
	return rng_pct(r, 50) ? (unsigned int)rng_below(r, 4) : (unsigned int)rng_next(r);
}

static long op_new_worker(struct fz_thread *t, struct fz_rec *r)
{
	struct fz_dev *d = fz_pick_dev(t, r);
	struct vhost_worker_state s = { 0 };
	long ret = xioctl(fz_dev_fd(t, d), VHOST_NEW_WORKER, &s);

	if (!ret) {
		unsigned int n = atomic_fetch_add(&d->nworkers, 1);

		atomic_store(&d->worker_id[n % FZ_MAX_WORKERS], s.worker_id);
	}
	r->a[0] = s.worker_id;
	return ret;
}

static long op_free_worker(struct fz_thread *t, struct fz_rec *r)
{
	struct fz_dev *d = fz_pick_dev(t, r);
	struct vhost_worker_state s = { .worker_id = pick_worker(&t->rng, d) };

	r->a[0] = s.worker_id;
	return xioctl(fz_dev_fd(t, d), VHOST_FREE_WORKER, &s);
}

static long op_vring_worker(struct fz_thread *t, struct fz_rec *r)
{
	struct fz_dev *d = fz_pick_dev(t, r);
	struct vhost_vring_worker w = { .index = pick_idx(&t->rng), .worker_id = pick_worker(&t->rng, d) };
	bool get = rng_pct(&t->rng, 40);
	long ret;

	r->a[0] = get;
	r->a[1] = w.index;
	r->a[2] = w.worker_id;
	ret = xioctl(fz_dev_fd(t, d), get ? VHOST_GET_VRING_WORKER : VHOST_ATTACH_VRING_WORKER, &w);
	if (get)
		r->a[2] = w.worker_id;
	return ret;
}

static long op_fork_owner(struct fz_thread *t, struct fz_rec *r)
{
	int fd = fz_dev_fd(t, fz_pick_dev(t, r));
	uint8_t mode = rng_bad(&t->rng) ? (uint8_t)rng_next(&t->rng) : (uint8_t)rng_below(&t->rng, 2);

	r->a[0] = rng_pct(&t->rng, 50);	/* 1 set, 0 get */
	r->a[1] = mode;
	if (r->a[0])
		return xioctl(fd, VHOST_SET_FORK_FROM_OWNER, &mode);
	return xioctl(fd, VHOST_GET_FORK_FROM_OWNER, &mode);
}

/* ---- unknown ioctls ---- */

/*
 * Random numbers in vhost's type 0xAF with random sizes and directions, but
 * never one the device knows: a known one would take the random bytes as
 * addresses and write there (see fuzz.h).
 */
static bool known_ioctl(unsigned long cmd)
{
	static const unsigned long known[] = {
		VHOST_GET_FEATURES, VHOST_SET_FEATURES, VHOST_SET_OWNER, VHOST_RESET_OWNER,
		VHOST_SET_MEM_TABLE, VHOST_SET_LOG_BASE, VHOST_SET_LOG_FD, VHOST_SET_VRING_NUM,
		VHOST_SET_VRING_ADDR, VHOST_SET_VRING_BASE, VHOST_GET_VRING_BASE,
		VHOST_SET_VRING_ENDIAN, VHOST_GET_VRING_ENDIAN, VHOST_SET_VRING_KICK,
		VHOST_SET_VRING_CALL, VHOST_SET_VRING_ERR, VHOST_SET_VRING_BUSYLOOP_TIMEOUT,
		VHOST_GET_VRING_BUSYLOOP_TIMEOUT, VHOST_SET_BACKEND_FEATURES,
		VHOST_GET_BACKEND_FEATURES, VHOST_NET_SET_BACKEND, VHOST_NEW_WORKER,
		VHOST_FREE_WORKER, VHOST_ATTACH_VRING_WORKER, VHOST_GET_VRING_WORKER,
		VHOST_SET_FORK_FROM_OWNER, VHOST_GET_FORK_FROM_OWNER,
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(known); i++)
		if (cmd == known[i])
			return true;
	return false;
}

static long op_unknown_ioctl(struct fz_thread *t, struct fz_rec *r)
{
	struct fz_dev *d = fz_pick_dev(t, r);
	unsigned long cmd;
	void *arg = t->buf;
	size_t i;

	do {
		size_t size = rng_pct(&t->rng, 80) ? rng_below(&t->rng, 64) : rng_below(&t->rng, 1u << 14);

		cmd = _IOC(rng_below(&t->rng, 4), VHOST_VIRTIO, rng_below(&t->rng, 256), size);
	} while (known_ioctl(cmd));
	for (i = 0; i < _IOC_SIZE(cmd); i += 8)
		*(uint64_t *)(t->buf + i) = rng_next(&t->rng);
	if (rng_pct(&t->rng, 20))
		arg = (void *)(uintptr_t)bad_addr(&t->rng, d);
	r->a[0] = cmd;
	r->a[1] = (uintptr_t)arg;
	return xioctl(fz_dev_fd(t, d), cmd, arg);
}

/* ---- fds: dup/close of devices, close and reopen of taps ---- */

static long op_dup(struct fz_thread *t, struct fz_rec *r)
{
	struct fz_dev *d = fz_pick_dev(t, r);
	int fd;

	if (t->ndups && (t->ndups == FZ_MAX_DUPS || rng_pct(&t->rng, 50))) {
		unsigned int i = rng_below(&t->rng, t->ndups);

		r->a[0] = 0;
		r->a[1] = (uint64_t)t->dups[i];
		close(t->dups[i]);
		t->dups[i] = t->dups[--t->ndups];
		return 0;
	}
	fd = dup(d->fd);
	r->a[0] = 1;
	r->a[1] = (uint64_t)fd;
	if (fd < 0)
		return -errno;
	t->dups[t->ndups++] = fd;
	return 0;
}

/*
 * Close a device fd while other threads use it: a fresh open is dup2()ed onto
 * the slot, so the old file goes once in-flight ioctls and dup()s let go.
 */
static long op_dev_reopen(struct fz_thread *t, struct fz_rec *r)
{
	struct fz_dev *d = fz_pick_dev(t, r);
	int fd = open(t->w->path, O_RDWR | O_CLOEXEC);
	long ret = 0;

	if (fd < 0)
		return -errno;
	pthread_mutex_lock(&d->lock);
	if (dup2(fd, d->fd) < 0)
		ret = -errno;
	d->running = false;
	atomic_store(&d->nworkers, 0);
	pthread_mutex_unlock(&d->lock);
	close(fd);
	return ret;
}

/* Close a tap, likely a backend, and open a new one on the same slot. */
static long op_tap_reopen(struct fz_thread *t, struct fz_rec *r)
{
	struct world *w = t->w;
	struct fz_tap *tap = &w->tap[rng_below(&t->rng, w->ntap)];
	int ifindex, hdrsz, fd = fz_tap_open(&t->rng, &ifindex, &hdrsz);
	long ret = 0;

	r->a[0] = (uint64_t)(tap - w->tap);
	if (fd < 0)
		return fd;
	if (dup2(fd, tap->fd) < 0)
		ret = -errno;
	atomic_store(&tap->ifindex, ifindex);
	atomic_store(&tap->hdrsz, hdrsz);
	close(fd);
	r->a[1] = (uint64_t)ifindex;
	return ret;
}

/* Frames into the tap's fd: they enter the host stack (the tap's TX side). */
static long op_tap_write(struct fz_thread *t, struct fz_rec *r)
{
	struct fz_tap *tap = &t->w->tap[rng_below(&t->rng, t->w->ntap)];
	size_t len = atomic_load(&tap->hdrsz) + 14 + rng_below(&t->rng, 1500), i;

	for (i = 0; i < len; i += 8)
		*(uint64_t *)(t->buf + i) = rng_next(&t->rng);
	if (!rng_bad(&t->rng))
		memset(t->buf, 0, 12);	/* a plain vnet header: no GSO, no csum */
	r->a[0] = len;
	return write(tap->fd, t->buf, len) < 0 ? -errno : 0;
}

/* Reads from the tap's fd race the device's RX for the same frames. */
static long op_tap_read(struct fz_thread *t, struct fz_rec *r)
{
	struct fz_tap *tap = &t->w->tap[rng_below(&t->rng, t->w->ntap)];
	ssize_t n = read(tap->fd, t->buf, 1 << 14);

	r->a[0] = (uint64_t)n;
	return n < 0 ? -errno : 0;
}

#define OP(n, a, w) { #n, a, w, op_##n, { 0 } }
#define ROP(n, a, w) { #n, a, w, fz_op_##n, { 0 } }

struct fz_op fz_dev_ops[] = {
	OP(set_owner, "", 4),
	OP(reset_owner, "", 2),
	OP(get_features, "features", 2),
	OP(set_features, "features", 5),
	OP(backend_features, "set,features", 2),
	OP(set_mem_table, "spoil,nregions", 6),
	OP(set_log_base, "base", 3),
	OP(set_log_fd, "fd", 2),
	OP(set_vring_num, "idx,num", 5),
	OP(set_vring_addr, "idx,flags,used", 6),
	OP(set_vring_base, "idx,base", 4),
	OP(get_vring_base, "idx,-,base", 4),
	OP(set_vring_kick, "idx,fd", 4),
	OP(set_vring_call, "idx,fd", 4),
	OP(set_vring_err, "idx,fd", 3),
	OP(set_backend, "idx,fd", 6),
	OP(busyloop, "idx,us,got", 2),
	OP(endian, "idx,val,got", 1),
	OP(new_worker, "id", 2),
	OP(free_worker, "id", 2),
	OP(vring_worker, "get,idx,id", 3),
	OP(fork_owner, "set,mode", 1),
	OP(unknown_ioctl, "cmd,arg", 3),
	OP(dup, "dup,fd", 2),
	OP(dev_reopen, "", 1),
	OP(tap_reopen, "tap,ifindex", 1),
	OP(tap_write, "len", 2),
	OP(tap_read, "len", 2),
	ROP(run, "tap,features", 6),
	ROP(traffic, "tx,rx,inject", 12),
	ROP(kick, "idx", 6),
	ROP(remap, "region,kind", 1),
};
const unsigned int fz_ndev_ops = ARRAY_SIZE(fz_dev_ops);
