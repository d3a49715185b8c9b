// SPDX-License-Identifier: GPL-2.0
/*
 * vhx_fuzz: rings that run. The run op sets a device's two queues up through
 * guestdrv (owner, features, memory table, ring addresses, eventfds, a tap as
 * backend) so that the worker really moves packets; the traffic op keeps RX
 * buffers and TX chains coming and frames arriving on the tap; the scribbler
 * rewrites ring memory under the worker's feet; the remap op takes guest
 * memory away while the device uses it.
 *
 * The driver side here never follows anything the device or the scribbler
 * wrote: head i always owns packet slot i, and the only value read back is
 * used->idx, to bound how much is posted. So no ring content can make this
 * process fault or loop. guestdrv's own reaping (gd_vq_get_used) walks
 * descriptor chains and is not used for that reason.
 *
 * Locking: fz_dev.lock orders the driver state (run and traffic ops);
 * fz_dev.memlock is read-held by whatever touches guest memory and
 * write-held by the remap op while memory is gone or read-only.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>

#include "fuzz.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define FZ_ETHERTYPE 0x88b5	/* IEEE local experimental: nobody handles it */

static const uint8_t fz_dst[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t fz_src[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x02 };

/* ---- posting ---- */

/* Free entries as far as the device's used->idx says; 0 if it lies. */
static unsigned int ring_room(const struct gd_vq *vq)
{
	uint16_t out = vq->avail_idx - __atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE);

	return out >= vq->num ? 0 : vq->num - out;
}

/* A TX chain's length: mostly a sane frame, sometimes around the header or huge. */
static uint32_t tx_len(struct rng *r, uint32_t hdr_len, uint32_t slot_len)
{
	uint32_t edge[] = { 0, hdr_len - 1, hdr_len, hdr_len + 1, slot_len, 65536 + 12, 0xffffffffu };
	uint32_t len = hdr_len + 60 + (uint32_t)rng_below(r, 1455);

	if (rng_pct(r, 15))
		return edge[rng_below(r, ARRAY_SIZE(edge))];
	return len < slot_len ? len : slot_len;
}

/* Post up to n one-descriptor chains on @vq, head i using slot i; notify. */
static unsigned int post(struct gd_vq *vq, uint64_t slots, uint32_t slot_len, unsigned int n,
			 struct rng *r, uint32_t hdr_len)
{
	bool rx = vq->index == GD_RX;
	unsigned int i, room = ring_room(vq);

	for (i = 0; i < n && i < room; i++) {
		unsigned int head = vq->avail_idx & (vq->num - 1);

		gd_vq_raw_desc(vq, head, slots + (uint64_t)head * slot_len,
			       rx ? slot_len : tx_len(r, hdr_len, slot_len),
			       rx ? VRING_DESC_F_WRITE : 0, 0);
		gd_vq_raw_avail(vq, head);
	}
	gd_vq_notify(vq);
	return i;
}

/* Each TX slot: a zero vnet header (no GSO, no csum) and an Ethernet frame. */
static void fill_tx(const struct gd_mem *m, uint64_t slots, unsigned int num, uint32_t slot_len)
{
	unsigned int i;

	for (i = 0; i < num; i++) {
		uint8_t *p = gd_mem_ptr(m, slots + (uint64_t)i * slot_len, slot_len);
		uint16_t type = htons(FZ_ETHERTYPE);

		if (!p)
			continue;
		memset(p, 0xa5, slot_len);
		memset(p, 0, 12);
		memcpy(p + 12, fz_dst, ETH_ALEN);
		memcpy(p + 12 + ETH_ALEN, fz_src, ETH_ALEN);
		memcpy(p + 12 + 2 * ETH_ALEN, &type, 2);
	}
}

/* A frame transmitted on the tap's netdev, which the tap queues for the guest. */
static long inject(int sock, int ifindex, struct rng *r)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_ifindex = ifindex,
		.sll_halen = ETH_ALEN,
	};
	uint8_t frame[1514];
	uint16_t type = htons(FZ_ETHERTYPE);
	size_t len = 60 + rng_below(r, sizeof(frame) - 59);

	memcpy(sll.sll_addr, fz_dst, ETH_ALEN);
	memset(frame, 0x5a, len);
	memcpy(frame, fz_dst, ETH_ALEN);
	memcpy(frame + ETH_ALEN, fz_src, ETH_ALEN);
	memcpy(frame + 2 * ETH_ALEN, &type, 2);
	if (sendto(sock, frame, len, MSG_DONTWAIT, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		return -errno;
	return 0;
}

/*
 * Features whose header matches the tap's vnet header (12 bytes: VERSION_1
 * or MRG_RXBUF; 10: neither), so that traffic is well formed, plus maybe
 * EVENT_IDX.
 */
static uint64_t run_features(struct rng *r, int hdrsz, uint64_t offered)
{
	uint64_t f = 0;

	if (hdrsz == 12)
		f |= rng_pct(r, 50) ? 1ull << VIRTIO_F_VERSION_1 : 1ull << VIRTIO_NET_F_MRG_RXBUF;
	if (rng_pct(r, 50))
		f |= 1ull << VIRTIO_RING_F_EVENT_IDX;
	return f & offered;
}

/* ---- the run op ---- */

/* Everything a VMM does to start a queue pair; d->lock and memlock held. */
static long run_locked(struct fz_thread *t, struct fz_dev *d, int tapfd, int hdrsz, uint64_t *feat)
{
	unsigned int q;
	long ret;

	ret = gd_dev_set_owner(&d->gd);
	if (ret && ret != -EBUSY)	/* EBUSY: some thread already made it ours */
		return ret;
	*feat = run_features(&t->rng, hdrsz, d->offered);
	ret = gd_dev_set_features(&d->gd, *feat);
	if (!ret)
		ret = gd_dev_set_mem(&d->gd, &d->mem);
	for (q = 0; q < GD_NVQ && !ret; q++) {
		struct gd_vq *vq = &d->gd.vq[q];

		gd_vq_reset_ring(vq);
		vq->event_idx = gd_has(&d->gd, VIRTIO_RING_F_EVENT_IDX);
		ret = gd_vq_config(vq, 0);
	}
	fill_tx(&d->mem, d->tx_slots, d->gd.vq[GD_TX].num, d->slot_len);
	for (q = 0; q < GD_NVQ && !ret; q++)
		ret = gd_dev_set_backend(&d->gd, q, tapfd);
	if (ret)
		return ret;
	post(&d->gd.vq[GD_RX], d->rx_slots, d->slot_len, ~0u, &t->rng, d->gd.hdr_len);
	post(&d->gd.vq[GD_TX], d->tx_slots, d->slot_len, 16, &t->rng, d->gd.hdr_len);
	return 0;
}

long fz_op_run(struct fz_thread *t, struct fz_rec *r)
{
	struct world *w = t->w;
	struct fz_dev *d = fz_pick_dev(t, r);
	struct fz_tap *tap = &w->tap[rng_below(&t->rng, w->ntap)];
	long ret;

	r->a[0] = (uint64_t)(tap - w->tap);
	pthread_mutex_lock(&d->lock);
	pthread_rwlock_rdlock(&d->memlock);
	ret = run_locked(t, d, tap->fd, atomic_load(&tap->hdrsz), &r->a[1]);
	d->running = !ret;
	pthread_rwlock_unlock(&d->memlock);
	pthread_mutex_unlock(&d->lock);
	return ret;
}

/* ---- traffic, kicks ---- */

static void drain(int efd)
{
	uint64_t v;

	if (read(efd, &v, sizeof(v)) < 0)
		return;	/* EAGAIN: nothing signalled */
}

long fz_op_traffic(struct fz_thread *t, struct fz_rec *r)
{
	struct world *w = t->w;
	struct fz_dev *d = fz_pick_dev(t, r);
	struct fz_tap *tap = &w->tap[rng_below(&t->rng, w->ntap)];
	unsigned int q, n = 1 + (unsigned int)rng_below(&t->rng, 8);
	long ret = 0;

	pthread_mutex_lock(&d->lock);
	if (d->running) {
		pthread_rwlock_rdlock(&d->memlock);
		r->a[0] = post(&d->gd.vq[GD_TX], d->tx_slots, d->slot_len,
			       1 + (unsigned int)rng_below(&t->rng, 32), &t->rng, d->gd.hdr_len);
		r->a[1] = post(&d->gd.vq[GD_RX], d->rx_slots, d->slot_len, ~0u, &t->rng,
			       d->gd.hdr_len);
		pthread_rwlock_unlock(&d->memlock);
	}
	pthread_mutex_unlock(&d->lock);
	for (q = 0; q < GD_NVQ; q++) {
		drain(d->gd.vq[q].call_fd);
		drain(d->gd.vq[q].err_fd);
	}
	for (r->a[2] = 0; r->a[2] < n && !ret; r->a[2]++)
		ret = inject(w->inj, atomic_load(&tap->ifindex), &t->rng);
	return ret;
}

long fz_op_kick(struct fz_thread *t, struct fz_rec *r)
{
	struct fz_dev *d = fz_pick_dev(t, r);
	uint64_t one = 1;

	r->a[0] = rng_below(&t->rng, GD_NVQ);
	return write(d->gd.vq[r->a[0]].kick_fd, &one, sizeof(one)) < 0 ? -errno : 0;
}

/* ---- guest memory taken away ---- */

long fz_op_remap(struct fz_thread *t, struct fz_rec *r)
{
	struct fz_dev *d = fz_pick_dev(t, r);
	struct gd_region *g = &d->mem.r[rng_below(&t->rng, d->mem.nr)];
	uint64_t hold_us = rng_below(&t->rng, 20000);
	long ret = 0;

	r->a[0] = (uint64_t)(g - d->mem.r);
	r->a[1] = rng_below(&t->rng, 4);
	pthread_rwlock_wrlock(&d->memlock);
	switch (r->a[1]) {
	case 0:		/* gone for a while */
	case 1:		/* read-only for a while: used-ring writes fail */
		if (mprotect(g->hva, g->size, r->a[1] ? PROT_READ : PROT_NONE))
			ret = -errno;
		fz_sleep_us(hold_us);
		break;
	case 2:		/* munmap + mmap in one step: no window for another mmap */
		if (mmap(g->hva, g->size, PROT_READ | PROT_WRITE,
			 MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0) == MAP_FAILED)
			ret = -errno;
		break;
	default:	/* pages dropped: they come back zeroed */
		if (madvise(g->hva, g->size, MADV_DONTNEED))
			ret = -errno;
		break;
	}
	if (mprotect(g->hva, g->size, PROT_READ | PROT_WRITE) && !ret)
		ret = -errno;
	pthread_rwlock_unlock(&d->memlock);
	return ret;
}

/* ---- the scribbler ---- */

static uint32_t hostile_len(struct rng *r)
{
	static const uint32_t lens[] = { 0, 1, 9, 10, 11, 12, 13, 16, 60, 1514, 65535, 65536,
					 65537, 0x7fffffff, 0xffffffff };

	return rng_pct(r, 80) ? lens[rng_below(r, ARRAY_SIZE(lens))] : (uint32_t)rng_next(r);
}

/* A descriptor table of n entries at the scratch gpa, maybe with nested INDIRECT. */
static void write_indirect(struct fz_dev *d, struct rng *r, unsigned int n, bool nest)
{
	struct vring_desc *tab = gd_mem_ptr(&d->mem, d->scratch_gpa, 4096);
	unsigned int i;

	for (i = 0; i < n && i < 4096 / sizeof(*tab); i++) {
		tab[i].addr = fz_pick_gpa(r, &d->mem);
		tab[i].len = hostile_len(r);
		tab[i].flags = (uint16_t)rng_below(r, 8);
		tab[i].next = (uint16_t)(rng_pct(r, 70) ? i + 1 : rng_next(r));
		if (nest && rng_pct(r, 50)) {
			tab[i].addr = d->scratch_gpa;
			tab[i].flags |= VRING_DESC_F_INDIRECT;
		}
	}
}

/* One hostile write to a ring's memory; memlock read-held. */
static void scribble(struct fz_dev *d, struct gd_vq *vq, struct rng *r, struct fz_rec *rec)
{
	unsigned int num = vq->num, i = rng_below(r, num), j = rng_below(r, num);
	uint16_t idx = vq->avail->idx;

	rec->a[0] = rng_below(r, 9);
	rec->a[2] = i;
	switch (rec->a[0]) {
	case 0:		/* avail idx jumps */
		idx += (uint16_t[]){ 1, num, num + 1, 0x8000, (uint16_t)rng_next(r) }[rng_below(r, 5)];
		__atomic_store_n(&vq->avail->idx, idx, __ATOMIC_RELEASE);
		rec->a[2] = idx;
		break;
	case 1:		/* a random descriptor, anywhere, any flags */
		gd_vq_raw_desc(vq, i, fz_pick_gpa(r, &d->mem), hostile_len(r),
			       (uint16_t)rng_below(r, 8), (uint16_t)(rng_pct(r, 50) ? j : rng_next(r)));
		break;
	case 2:		/* a NEXT loop, i == j included */
		vq->desc[i].flags |= VRING_DESC_F_NEXT;
		vq->desc[i].next = (uint16_t)j;
		vq->desc[j].flags |= VRING_DESC_F_NEXT;
		vq->desc[j].next = (uint16_t)i;
		break;
	case 3:		/* INDIRECT with a bad length, or together with NEXT */
	case 4:		/* indirect inside indirect */
		write_indirect(d, r, 1 + rng_below(r, 32), rec->a[0] == 4);
		gd_vq_raw_desc(vq, i, d->scratch_gpa,
			       rng_pct(r, 50) ? 16 * (1 + (uint32_t)rng_below(r, 32)) : hostile_len(r),
			       VRING_DESC_F_INDIRECT | (rng_pct(r, 20) ? VRING_DESC_F_NEXT : 0), 0);
		break;
	case 5:		/* a chain of lengths around the vnet header */
		gd_vq_raw_desc(vq, i, fz_pick_gpa(r, &d->mem), hostile_len(r), VRING_DESC_F_NEXT,
			       (uint16_t)((i + 1) % num));
		gd_vq_raw_desc(vq, (i + 1) % num, fz_pick_gpa(r, &d->mem), hostile_len(r),
			       (uint16_t)rng_below(r, 2) * VRING_DESC_F_WRITE, 0);
		break;
	case 6:		/* a head out of range, or someone else's */
		vq->avail->ring[i] = (uint16_t)(rng_pct(r, 50) ? j : rng_next(r));
		break;
	case 7:		/* the "guest" writes the device's used ring */
		vq->used->idx = (uint16_t)rng_next(r);
		vq->used->flags = (uint16_t)rng_below(r, 2);
		vq->used->ring[i].id = (uint32_t)rng_next(r);
		break;
	default:	/* notification suppression fields */
		idx = (uint16_t)rng_next(r);
		vq->avail->flags = (uint16_t)rng_below(r, 2);
		vq->avail->ring[num] = (uint16_t)rng_next(r);		/* used_event */
		memcpy(&vq->used->ring[num], &idx, sizeof(idx));	/* avail_event */
		break;
	}
}

static long op_scribble(struct fz_thread *t, struct fz_rec *r)
{
	struct fz_dev *d = fz_pick_dev(t, r);
	struct gd_vq *vq;
	uint64_t one = 1;

	r->a[1] = rng_below(&t->rng, GD_NVQ);
	vq = &d->gd.vq[r->a[1]];
	pthread_rwlock_rdlock(&d->memlock);
	scribble(d, vq, &t->rng, r);
	pthread_rwlock_unlock(&d->memlock);
	if (rng_pct(&t->rng, 30) && write(vq->kick_fd, &one, sizeof(one)) < 0)
		return -errno;
	return 0;
}

static struct fz_op fz_scribble_op = { "scribble", "kind,idx,val", 1, op_scribble, { 0 } };

/*
 * Rewrites the rings' memory while the worker reads them (double fetches,
 * TOCTOU) until the op threads are done.
 */
void *fz_scribbler(void *arg)
{
	struct fz_thread *t = arg;

	while (!atomic_load(&t->w->stop)) {
		fz_do(t, &fz_scribble_op);
		if (rng_pct(&t->rng, 10))
			fz_sleep_us(rng_below(&t->rng, 500));
	}
	return NULL;
}

/* ---- an owner killed mid-run ---- */

/* The child: a private device, ring and tap, flooded until SIGKILL. */
static void owner_child_run(const char *path, struct rng *r)
{
	const unsigned int num = 256, slot_len = 1024;
	struct gd_dev gd;
	struct gd_mem mem;
	uint64_t offered = 0, tx, rx;
	int tap, ifindex, hdrsz, inj;
	unsigned int q;

	if (gd_dev_open(&gd, path) || gd_dev_set_owner(&gd) ||
	    ioctl(gd.fd, VHOST_GET_FEATURES, &offered) < 0)
		return;
	tap = fz_tap_open(r, &ifindex, &hdrsz);
	inj = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (tap < 0 || inj < 0 || gd_mem_init(&mem, 1, 0, 2 << 20, 0) ||
	    gd_dev_set_features(&gd, run_features(r, hdrsz, offered)) ||
	    gd_dev_set_mem(&gd, &mem))
		return;
	for (q = 0; q < GD_NVQ; q++)
		if (gd_vq_alloc(&gd, q, num, 0) || gd_vq_config(&gd.vq[q], 0))
			return;
	tx = gd_mem_alloc(&mem, num * slot_len, 64);
	rx = gd_mem_alloc(&mem, num * slot_len, 64);
	if (tx == GD_BAD_GPA || rx == GD_BAD_GPA)
		return;
	fill_tx(&mem, tx, num, slot_len);
	for (q = 0; q < GD_NVQ; q++)
		if (gd_dev_set_backend(&gd, q, tap))
			return;
	for (;;) {
		post(&gd.vq[GD_RX], rx, slot_len, ~0u, r, gd.hdr_len);
		post(&gd.vq[GD_TX], tx, slot_len, 64, r, gd.hdr_len);
		gd_vq_kick(&gd.vq[GD_TX]);
		gd_vq_kick(&gd.vq[GD_RX]);
		inject(inj, ifindex, r);
	}
}

/* Fork the child; the parent kills it. Never returns in the child. */
pid_t fz_owner_child(const char *path, uint64_t seed)
{
	struct rng r;
	pid_t pid = fork();

	if (pid)
		return pid < 0 ? -errno : pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);	/* even if the parent dies first */
	rng_seed(&r, seed);
	owner_child_run(path, &r);
	_exit(1);
}
