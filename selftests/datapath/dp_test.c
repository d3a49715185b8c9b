// SPDX-License-Identifier: GPL-2.0
/*
 * dp_test: the datapath suite's test program. It plays a virtio-net guest
 * (selftests/lib/guestdrv) against a vhost-net ABI device and checks every
 * packet that crosses it.
 *
 *   dp_test --dev PATH list
 *   dp_test --dev PATH run CASE
 *   dp_test --dev PATH bench tx|rx [--size N] [--seconds N]
 *   dp_test --dev none bench tx|rx [--size N] [--seconds N]   (the bare tap)
 *
 * Exit status: 0 pass, 1 fail (reason on stderr), 4 skip, 2 usage.
 * Lines starting with "DIAG:" report observed behaviour (printed as TAP
 * diagnostics by the suite).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "guestdrv.h"

#define KSFT_PASS 0
#define KSFT_FAIL 1
#define KSFT_SKIP 4

#define DP_ETHERTYPE	0x88b5		/* IEEE local experimental */
#define DP_MAGIC	0x56485831u	/* "VHX1" */
#define DP_STALE	0xffff0000u	/* seqs from here on are leftovers: skipped */
#define DP_GSO_MSS	1448
#define DP_BIG_MAX	65535		/* 14 + the tap's largest MTU, 65521 */
#define DP_PAT		(1u << 17)

static const char *g_devpath;
static bool g_vhostx;		/* device under test is vhostx: strict checks */
static bool g_nodev;		/* --dev none: bench the bare tap (no virtio) */
static const char *g_case = "";
static uint8_t g_pat[DP_PAT + DP_BIG_MAX];
static const uint8_t mac_guest[6] = { 0x02, 0x56, 0x48, 0x58, 0x00, 0x01 };
static const uint8_t mac_host[6] = { 0x02, 0x56, 0x48, 0x58, 0x00, 0x02 };

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "FAIL: %s: ", g_case);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return KSFT_FAIL;
}

static int skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int skip(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "SKIP: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return KSFT_SKIP;
}

static void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void diag(const char *fmt, ...)
{
	va_list ap;

	printf("DIAG: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/*
 * Observed behaviour that may legitimately differ between devices. The suite
 * compares these lines between vhost_net and vhostx; keep them free of
 * timings and counts that vary from run to run.
 */
static void behave(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void behave(const char *fmt, ...)
{
	va_list ap;

	printf("BEHAVIOUR: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

#define CHECK(cond, ...) do { if (!(cond)) return fail(__VA_ARGS__); } while (0)
#define TRY(expr) do { int __r = (expr); if (__r) return __r; } while (0)

static uint32_t mix32(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352du;
	x ^= x >> 15;
	x *= 0x846ca68bu;
	x ^= x >> 16;
	return x;
}

static void msleep(unsigned int ms)
{
	usleep(ms * 1000);
}

/* ---- frames ---- */

enum dp_sizes { SZ_FIXED, SZ_MIXED, SZ_MIXED_BIG };

struct dp_flow {
	enum dp_sizes sizes;
	uint32_t fixed;		/* SZ_FIXED */
	uint32_t salt;
	bool gso;		/* SZ_MIXED_BIG: big frames are GSO (TX only) */
};

static uint32_t flow_len(const struct dp_flow *f, uint32_t seq, bool *big)
{
	uint32_t h = mix32(seq ^ f->salt);

	*big = false;
	if (f->sizes == SZ_FIXED)
		return f->fixed;
	if (f->sizes == SZ_MIXED_BIG && (h & 63) == 0) {
		*big = true;
		return 60000 + (h >> 8) % (DP_BIG_MAX - 60000 + 1);
	}
	return 60 + (h >> 8) % 1455;
}

static uint16_t ip_csum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* Build frame seq of length len into b; GSO frames get IPv4/TCP headers. */
static void frame_build(uint8_t *b, uint32_t seq, uint32_t len, bool gso,
			struct virtio_net_hdr *h)
{
	uint32_t off = gso ? 54 : 14, v;

	memcpy(b, mac_host, 6);
	memcpy(b + 6, mac_guest, 6);
	if (h)
		memset(h, 0, sizeof(*h));
	if (gso) {
		uint8_t *ip = b + 14, *tcp = b + 34;
		uint16_t t;

		b[12] = 0x08;
		b[13] = 0x00;
		memset(ip, 0, 40);
		ip[0] = 0x45;
		t = htons((uint16_t)(len - 14));
		memcpy(ip + 2, &t, 2);
		ip[6] = 0x40;
		ip[8] = 64;
		ip[9] = 6;
		ip[12] = 10; ip[15] = 1;
		ip[16] = 10; ip[19] = 2;
		t = htons(ip_csum(ip, 20));
		memcpy(ip + 10, &t, 2);
		tcp[0] = 0x04; tcp[1] = 0xd2;
		tcp[2] = 0x16; tcp[3] = 0x2e;
		v = htonl(seq);
		memcpy(tcp + 4, &v, 4);
		tcp[12] = 5 << 4;
		tcp[13] = 0x10;
		tcp[14] = 0xff; tcp[15] = 0xff;
		if (h) {
			h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
			h->gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
			h->hdr_len = 54;
			h->gso_size = DP_GSO_MSS;
			h->csum_start = 34;
			h->csum_offset = 16;
		}
	} else {
		b[12] = DP_ETHERTYPE >> 8;
		b[13] = DP_ETHERTYPE & 0xff;
	}
	if (h && !gso)
		h->gso_type = VIRTIO_NET_HDR_GSO_NONE;
	v = DP_MAGIC;
	memcpy(b + off, &v, 4);
	memcpy(b + off + 4, &seq, 4);
	memcpy(b + off + 8, &len, 4);
	memcpy(b + off + 12, g_pat + (mix32(seq) & (DP_PAT - 1)), len - off - 12);
}

/*
 * 1: not one of ours (ignore), 0: ours and intact (*seq set),
 * -1: ours but damaged (message in why).
 */
static int frame_check(const uint8_t *b, uint32_t n, uint32_t *seq, char *why, size_t wl)
{
	uint32_t off, v, len;

	if (n < 60 || memcmp(b, mac_host, 6) || memcmp(b + 6, mac_guest, 6))
		return 1;
	if (b[12] == (DP_ETHERTYPE >> 8) && b[13] == (DP_ETHERTYPE & 0xff))
		off = 14;
	else if (b[12] == 0x08 && b[13] == 0 && n >= 66)
		off = 54;
	else
		return 1;
	memcpy(&v, b + off, 4);
	if (v != DP_MAGIC)
		return 1;
	memcpy(seq, b + off + 4, 4);
	memcpy(&len, b + off + 8, 4);
	if (len != n) {
		snprintf(why, wl, "seq %u: length %u, sent %u", *seq, n, len);
		return -1;
	}
	if (memcmp(b + off + 12, g_pat + (mix32(*seq) & (DP_PAT - 1)), len - off - 12)) {
		uint32_t i;

		for (i = off + 12; i < len; i++)
			if (b[i] != g_pat[(mix32(*seq) & (DP_PAT - 1)) + i - off - 12])
				break;
		snprintf(why, wl, "seq %u len %u: payload differs at byte %u", *seq, len, i);
		return -1;
	}
	return 0;
}

/* ---- one device with its tap ---- */

struct dp_cfg {
	unsigned int num;
	bool mrg, event_idx, indirect, vhost_hdr, v1;
	bool hdr_split;		/* the virtio-net header in its own descriptor */
	bool straddle;		/* buffers straddle GPA-adjacent regions */
	unsigned int rx_buf;	/* bytes per RX buffer, header included */
	unsigned int tx_buf;	/* bytes per TX slot, header included */
	bool mq;		/* the tap is multi-queue */
	bool task_workers;	/* VHOST_FORK_OWNER_TASK before SET_OWNER */
	const struct gd_tap *queue_of;	/* use another queue of this tap */
};

struct dp {
	struct dp_cfg cfg;
	struct gd_mem mem;
	struct gd_dev dev;
	struct gd_tap tap;
	uint64_t tx_slots, rx_slots;	/* gpa of per-head buffer slots */
	uint8_t *scratch;		/* frame assembly */
	uint8_t *seen;			/* RX seqs seen (any order), or NULL: in order */
	uint32_t seen_n;
	bool up;
	/* flow state */
	uint32_t tx_sent, tx_done, tx_used, rx_sent, rx_done;
	uint32_t strays, stale, kick_events;
	/* RX reassembly of a mergeable frame */
	uint32_t rx_have, rx_want_bufs, rx_got_bufs;
	struct virtio_net_hdr_mrg_rxbuf rx_hdr;
	struct dp_log *log;		/* dirty logging on, or NULL */
};

static void dp_log_written(struct dp *d, uint64_t gpa, uint32_t len);

static int g_ntap;

static struct dp_cfg dp_default(void)
{
	struct dp_cfg c = {
		.num = 256, .mrg = true, .event_idx = true, .indirect = true,
		.v1 = true, .rx_buf = 2048, .tx_buf = DP_BIG_MAX + 64,
	};
	return c;
}

static struct gd_vq *RXQ(struct dp *d) { return &d->dev.vq[GD_RX]; }
static struct gd_vq *TXQ(struct dp *d) { return &d->dev.vq[GD_TX]; }

static int dp_rx_fill(struct dp *d);

static int dp_open_dev(struct dp *d)
{
	uint64_t offered, want = 0;
	const struct dp_cfg *c = &d->cfg;
	int r;

	r = gd_dev_open(&d->dev, g_devpath);
	if (r)
		return fail("open %s: %s", g_devpath, strerror(-r));
	if (c->task_workers) {
		uint8_t m = VHOST_FORK_OWNER_TASK;

		if (ioctl(d->dev.fd, VHOST_SET_FORK_FROM_OWNER, &m) < 0)
			return fail("SET_FORK_FROM_OWNER task: %s", strerror(errno));
	}
	r = gd_dev_set_owner(&d->dev);
	if (r == -ENOTTY)
		return skip("%s: VHOST_SET_OWNER returns ENOTTY: the device does not implement the vhost ioctls yet",
			    g_devpath);
	if (r)
		return fail("VHOST_SET_OWNER: %s", strerror(-r));
	r = gd_dev_get_features(&d->dev, &offered);
	if (r)
		return fail("VHOST_GET_FEATURES: %s", strerror(-r));
	if (c->v1)
		want |= 1ull << VIRTIO_F_VERSION_1;
	if (c->mrg)
		want |= 1ull << VIRTIO_NET_F_MRG_RXBUF;
	if (c->event_idx)
		want |= 1ull << VIRTIO_RING_F_EVENT_IDX;
	if (c->indirect)
		want |= 1ull << VIRTIO_RING_F_INDIRECT_DESC;
	if (c->vhost_hdr)
		want |= 1ull << VHOST_NET_F_VIRTIO_NET_HDR;
	/*
	 * No VIRTIO_F_ANY_LAYOUT: it is bit 27, the same bit as
	 * VHOST_NET_F_VIRTIO_NET_HDR, and vhost reads it as the latter.
	 */
	if ((want & offered) != want)
		return fail("device offers features %#llx, test needs %#llx",
			    (unsigned long long)offered, (unsigned long long)want);
	r = gd_dev_set_features(&d->dev, want);
	if (r)
		return fail("VHOST_SET_FEATURES %#llx: %s", (unsigned long long)want, strerror(-r));
	r = gd_dev_set_mem(&d->dev, &d->mem);
	if (r)
		return fail("VHOST_SET_MEM_TABLE: %s", strerror(-r));
	return 0;
}

static int dp_attach(struct dp *d)
{
	int r, i;

	for (i = 0; i < GD_NVQ; i++) {
		r = gd_dev_set_backend(&d->dev, i, d->tap.fd);
		if (r)
			return fail("VHOST_NET_SET_BACKEND vq %d: %s", i, strerror(-r));
	}
	return 0;
}

static int dp_detach(struct dp *d)
{
	int r, i;

	for (i = 0; i < GD_NVQ; i++) {
		r = gd_dev_set_backend(&d->dev, i, -1);
		if (r)
			return fail("VHOST_NET_SET_BACKEND vq %d fd -1: %s", i, strerror(-r));
	}
	return 0;
}

static int dp_vqs(struct dp *d)
{
	int r, i;

	for (i = 0; i < GD_NVQ; i++) {
		r = gd_vq_alloc(&d->dev, i, d->cfg.num, d->cfg.indirect ? GD_VQ_INDIRECT : 0);
		if (r)
			return fail("vq %d alloc (num %u): %s", i, d->cfg.num, strerror(-r));
		r = gd_vq_config(&d->dev.vq[i], 0);
		if (r)
			return fail("vq %d config (num %u): %s", i, d->cfg.num, strerror(-r));
	}
	return 0;
}

static int dp_setup(struct dp *d, const struct dp_cfg *cfg)
{
	uint64_t need, rs;
	char name[IFNAMSIZ];
	unsigned int flags = 0;
	int r;

	memset(d, 0, sizeof(*d));
	d->cfg = *cfg;
	d->dev.fd = -1;
	d->tap.fd = d->tap.cap = d->tap.inj = -1;
	need = 2 * (32ull * cfg->num + 3 * 4096 + (cfg->indirect ? 512ull * cfg->num : 0)) +
	       (uint64_t)cfg->num * (cfg->rx_buf + cfg->tx_buf);
	rs = (need + (1 << 20) + 0xfffff) & ~0xfffffull;
	if (cfg->straddle) {
		/* r0|r1 adjacent, gap, r2|r3 adjacent: slots straddle each pair */
		r = gd_mem_init(&d->mem, 2, 0x100000, rs, 0);
		if (!r)
			r = gd_mem_add(&d->mem, 0x100000 + 2 * rs + (64 << 20), rs);
		if (!r)
			r = gd_mem_add(&d->mem, 0x100000 + 3 * rs + (64 << 20), rs);
	} else {
		r = gd_mem_init(&d->mem, 2, 0, rs, 16 << 20);
	}
	if (r)
		return fail("guest memory: %s", strerror(-r));
	d->scratch = malloc(DP_BIG_MAX + 4096);
	if (!d->scratch)
		return fail("malloc");
	TRY(dp_open_dev(d));
	TRY(dp_vqs(d));
	if (cfg->straddle) {
		d->tx_slots = d->mem.r[1].gpa - (uint64_t)cfg->tx_buf * (cfg->num / 2) - 7;
		d->rx_slots = d->mem.r[3].gpa - (uint64_t)cfg->rx_buf * (cfg->num / 2) - 3;
		if (d->mem.r[0].brk > d->tx_slots - d->mem.r[0].gpa)
			return fail("straddle layout does not fit");
	} else {
		d->tx_slots = gd_mem_alloc(&d->mem, (uint64_t)cfg->num * cfg->tx_buf, 64);
		d->rx_slots = gd_mem_alloc(&d->mem, (uint64_t)cfg->num * cfg->rx_buf, 64);
		if (d->tx_slots == GD_BAD_GPA || d->rx_slots == GD_BAD_GPA)
			return fail("out of guest memory for slots");
	}
	if (!cfg->vhost_hdr)
		flags = GD_TAP_VNET_HDR | GD_TAP_OFFLOAD;
	if (cfg->mq)
		flags |= GD_TAP_MULTI_QUEUE;
	if (cfg->queue_of) {
		r = gd_tap_open_queue(&d->tap, cfg->queue_of);
		if (r)
			return fail("another queue of tap %s: %s", cfg->queue_of->name,
				    strerror(-r));
	} else {
		snprintf(name, sizeof(name), "dpt%d", g_ntap++);
		r = gd_tap_create(&d->tap, name, flags, (int)d->dev.hdr_len);
		if (r)
			return fail("tap %s: %s", name, strerror(-r));
		r = gd_tap_set_mtu(&d->tap, DP_BIG_MAX - 14);
		if (r)
			return fail("tap mtu: %s", strerror(-r));
	}
	TRY(dp_attach(d));
	d->up = true;
	TRY(dp_rx_fill(d));
	return 0;
}

static void dp_teardown(struct dp *d)
{
	gd_dev_close(&d->dev);
	gd_tap_close(&d->tap);
	gd_mem_free(&d->mem);
	free(d->scratch);
	d->scratch = NULL;
}

/* ---- traffic ---- */

static bool use_indirect(const struct dp *d, uint32_t n)
{
	return d->cfg.indirect && (n & 1);
}

static int dp_rx_fill(struct dp *d)
{
	struct gd_vq *vq = RXQ(d);
	unsigned int per = d->cfg.hdr_split ? 2 : 1;
	bool added = false;

	for (;;) {
		struct gd_sg sg[2];
		bool ind = use_indirect(d, vq->added);
		int head = gd_vq_next_head(vq);
		uint64_t slot;

		if (head < 0 || gd_vq_free_descs(vq) < (ind ? 1 : per))
			break;
		slot = d->rx_slots + (uint64_t)head * d->cfg.rx_buf;
		if (per == 2) {
			sg[0] = (struct gd_sg){ slot, (uint32_t)d->dev.hdr_len, true };
			sg[1] = (struct gd_sg){ slot + d->dev.hdr_len,
						d->cfg.rx_buf - (uint32_t)d->dev.hdr_len, true };
		} else {
			sg[0] = (struct gd_sg){ slot, d->cfg.rx_buf, true };
		}
		head = gd_vq_add(vq, sg, per, ind, (uint64_t)head);
		if (head < 0)
			return fail("rx add: %s", strerror(-head));
		added = true;
	}
	if (added)
		gd_vq_notify(vq);
	return 0;
}

/* Queue TX packet seq; returns 1 if the ring is full. */
static int dp_tx_one(struct dp *d, const struct dp_flow *f, uint32_t seq)
{
	struct gd_vq *vq = TXQ(d);
	union { struct virtio_net_hdr_mrg_rxbuf m; struct virtio_net_hdr h; } hdr;
	uint32_t len, hl = (uint32_t)d->dev.hdr_len;
	bool big, ind = use_indirect(d, seq);
	unsigned int per = d->cfg.hdr_split ? 2 : 1;
	struct gd_sg sg[2];
	uint64_t slot;
	int head;

	head = gd_vq_next_head(vq);
	if (head < 0 || gd_vq_free_descs(vq) < (ind ? 1 : per))
		return 1;
	len = flow_len(f, seq, &big);
	memset(&hdr, 0, sizeof(hdr));
	frame_build(d->scratch, seq, len, big && f->gso, &hdr.h);
	slot = d->tx_slots + (uint64_t)head * d->cfg.tx_buf;
	if (gd_mem_write(&d->mem, slot, &hdr, hl) ||
	    gd_mem_write(&d->mem, slot + hl, d->scratch, len))
		return fail("tx slot write");
	if (per == 2) {
		sg[0] = (struct gd_sg){ slot, hl, false };
		sg[1] = (struct gd_sg){ slot + hl, len, false };
	} else {
		sg[0] = (struct gd_sg){ slot, hl + len, false };
	}
	head = gd_vq_add(vq, sg, per, ind, seq);
	if (head < 0)
		return fail("tx add: %s", strerror(-head));
	return 0;
}

static int dp_check_seq(struct dp *d, const char *dir, uint32_t got, uint32_t *expect)
{
	if (got >= DP_STALE) {
		d->stale++;
		return 0;
	}
	if (d->seen) {
		if (got >= d->seen_n)
			return fail("%s: seq %u was never sent", dir, got);
		if (d->seen[got]++)
			return fail("%s: seq %u arrived twice", dir, got);
		(*expect)++;
		return 0;
	}
	if (got != *expect)
		return fail("%s: got seq %u, expected %u (lost or reordered)", dir, got, *expect);
	(*expect)++;
	return 0;
}

static int dp_tx_capture(struct dp *d, const struct dp_flow *f, uint32_t *got)
{
	struct virtio_net_hdr h;
	char why[128];
	uint32_t seq;
	ssize_t n;
	int c;

	*got = 0;
	for (;;) {
		n = gd_tap_capture(&d->tap, &h, d->scratch, DP_BIG_MAX + 64, 0);
		if (n == 0)
			return 0;
		if (n < 0)
			return fail("capture: %s", strerror((int)-n));
		c = frame_check(d->scratch, (uint32_t)n, &seq, why, sizeof(why));
		if (c > 0) {
			d->strays++;
			continue;
		}
		if (c < 0)
			return fail("TX frame damaged: %s", why);
		if (seq < DP_STALE) {
			bool big;
			uint32_t len = flow_len(f, seq, &big);

			if (len != (uint32_t)n)
				return fail("TX seq %u: %zd bytes, sent %u", seq, n, len);
			if (big && f->gso && (h.gso_type != VIRTIO_NET_HDR_GSO_TCPV4 ||
					      h.gso_size != DP_GSO_MSS))
				return fail("TX seq %u: GSO lost: gso_type %u gso_size %u", seq,
					    h.gso_type, h.gso_size);
			if (!(big && f->gso) && h.gso_type != VIRTIO_NET_HDR_GSO_NONE)
				return fail("TX seq %u: unexpected gso_type %u", seq, h.gso_type);
		}
		TRY(dp_check_seq(d, "TX", seq, &d->tx_done));
		(*got)++;
	}
}

static int dp_tx_reap(struct dp *d, uint32_t *got)
{
	int r;

	*got = 0;
	while ((r = gd_vq_get_used(TXQ(d), NULL, NULL)) >= 0) {
		d->tx_used++;
		(*got)++;
	}
	return r == -EAGAIN ? 0 : fail("TX used ring: device bug");
}

static int dp_rx_inject(struct dp *d, const struct dp_flow *f, uint32_t seq)
{
	uint32_t len;
	bool big;
	int r;

	len = flow_len(f, seq, &big);
	frame_build(d->scratch, seq, len, false, NULL);
	r = gd_tap_inject(&d->tap, NULL, d->scratch, len);
	return r ? fail("inject seq %u len %u: %s", seq, len, strerror(-r)) : 0;
}

/* Consume one complete RX frame from the used ring if there is one. */
static int dp_rx_reap(struct dp *d, const struct dp_flow *f, uint32_t *got)
{
	struct gd_vq *vq = RXQ(d);
	uint32_t hl = (uint32_t)d->dev.hdr_len, len, seq;
	uint64_t cookie;
	char why[128];
	int r, c;

	*got = 0;
	while ((r = gd_vq_get_used(vq, &len, &cookie)) >= 0) {
		uint64_t slot = d->rx_slots + cookie * d->cfg.rx_buf;
		uint32_t data_off = 0;

		dp_log_written(d, slot, len);
		if (d->rx_want_bufs == 0) {
			/* first buffer of a frame: the header */
			if (len < hl)
				return fail("RX used len %u < header %u", len, hl);
			memset(&d->rx_hdr, 0, sizeof(d->rx_hdr));
			gd_mem_read(&d->mem, slot, &d->rx_hdr, hl);
			d->rx_want_bufs = d->cfg.mrg ? d->rx_hdr.num_buffers : 1;
			if (!d->rx_want_bufs || d->rx_want_bufs > vq->num)
				return fail("RX num_buffers %u", d->rx_want_bufs);
			d->rx_got_bufs = 0;
			d->rx_have = 0;
			data_off = hl;
			if (d->cfg.vhost_hdr && (d->rx_hdr.hdr.flags || d->rx_hdr.hdr.gso_type))
				return fail("RX header from the device not zeroed: flags %u gso %u",
					    d->rx_hdr.hdr.flags, d->rx_hdr.hdr.gso_type);
		}
		if (d->rx_have + len - data_off > DP_BIG_MAX + 64)
			return fail("RX frame too long (%u+)", d->rx_have + len - data_off);
		gd_mem_read(&d->mem, slot + data_off, d->scratch + d->rx_have, len - data_off);
		d->rx_have += len - data_off;
		d->rx_got_bufs++;
		if (d->rx_got_bufs < d->rx_want_bufs)
			continue;
		d->rx_want_bufs = 0;
		c = frame_check(d->scratch, d->rx_have, &seq, why, sizeof(why));
		if (c > 0) {
			if (getenv("DP_DEBUG"))
				fprintf(stderr, "RX stray: %u bytes, %u buffers: %02x%02x%02x%02x%02x%02x %02x%02x%02x%02x%02x%02x %02x%02x\n",
					d->rx_have, d->rx_got_bufs, d->scratch[0], d->scratch[1],
					d->scratch[2], d->scratch[3], d->scratch[4], d->scratch[5],
					d->scratch[6], d->scratch[7], d->scratch[8], d->scratch[9],
					d->scratch[10], d->scratch[11], d->scratch[12], d->scratch[13]);
			d->strays++;
			continue;
		}
		if (c < 0)
			return fail("RX frame damaged: %s", why);
		if (seq < DP_STALE) {
			bool big;

			if (flow_len(f, seq, &big) != d->rx_have)
				return fail("RX seq %u: %u bytes", seq, d->rx_have);
		}
		TRY(dp_check_seq(d, "RX", seq, &d->rx_done));
		(*got)++;
	}
	if (r != -EAGAIN)
		return fail("RX used ring: device bug");
	return dp_rx_fill(d);
}

struct dp_traffic {
	struct dp_flow tx, rx;
	uint32_t tx_n, rx_n;
	unsigned int tx_win, rx_win;
	int idle_ms;		/* fail after this long without progress */
	/* called every hook_every packets (sent in either direction) */
	int (*hook)(struct dp *d, void *arg);
	void *hook_arg;
	uint32_t hook_every;
	bool forever;
	bool skip_q[GD_NVQ];	/* leave this queue alone (it is broken on purpose) */
	int ready_fd;		/* written once traffic flows, then closed */
};

static void dp_traffic_init(struct dp_traffic *t, uint32_t tx_n, uint32_t rx_n)
{
	memset(t, 0, sizeof(*t));
	t->tx.sizes = t->rx.sizes = SZ_MIXED;
	t->tx.salt = 0x1234;
	t->rx.salt = 0x5678;
	t->tx_n = tx_n;
	t->rx_n = rx_n;
	t->tx_win = 512;
	t->rx_win = 512;
	t->idle_ms = 15000;
	t->ready_fd = -1;
}

/* /proc/net/dev of this namespace, for a stall's post-mortem */
static void dump_netdev(struct dp *d)
{
	char line[512];
	FILE *f = fopen("/proc/self/net/dev", "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "bytes") || strstr(line, d->tap.name))
			fprintf(stderr, "netdev: %s", line);
	fclose(f);
}

static int dp_run(struct dp *d, struct dp_traffic *t)
{
	uint32_t tx_base = d->tx_done, rx_base = d->rx_done, next_hook;
	uint64_t last_progress = gd_now_ns();

	d->tx_sent = d->tx_done;
	d->tx_used = d->tx_done;
	d->rx_sent = d->rx_done;
	next_hook = t->hook_every;
	for (;;) {
		uint32_t got, progress = 0;
		bool added = false;

		/* TX */
		got = 0;
		if (!t->skip_q[GD_TX])
			TRY(dp_tx_reap(d, &got));
		progress += got;
		while (!t->skip_q[GD_TX] && (t->forever || d->tx_sent - tx_base < t->tx_n) &&
		       d->tx_sent - d->tx_done < t->tx_win) {
			int r = dp_tx_one(d, &t->tx, d->tx_sent);

			if (r == 1)
				break;
			if (r)
				return r;
			d->tx_sent++;
			added = true;
		}
		if (added)
			gd_vq_notify(TXQ(d));
		TRY(dp_tx_capture(d, &t->tx, &got));
		progress += got;

		/* RX */
		while (!t->skip_q[GD_RX] && (t->forever || d->rx_sent - rx_base < t->rx_n) &&
		       d->rx_sent - d->rx_done < t->rx_win) {
			TRY(dp_rx_inject(d, &t->rx, d->rx_sent));
			d->rx_sent++;
			progress++;
		}
		got = 0;
		if (!t->skip_q[GD_RX])
			TRY(dp_rx_reap(d, &t->rx, &got));
		progress += got;

		if (t->ready_fd >= 0 && d->tx_done - tx_base > 10 && d->rx_done - rx_base > 10) {
			if (write(t->ready_fd, "r", 1) < 0)
				return fail("ready pipe");
			close(t->ready_fd);
			t->ready_fd = -1;
		}
		if (t->hook && (d->tx_sent - tx_base) + (d->rx_sent - rx_base) >= next_hook) {
			next_hook += t->hook_every;
			TRY(t->hook(d, t->hook_arg));
			progress++;
		}
		if (!t->forever && d->tx_done - tx_base >= t->tx_n && d->tx_used == d->tx_sent &&
		    d->rx_done - rx_base >= t->rx_n)
			break;
		if (progress) {
			last_progress = gd_now_ns();
			continue;
		}
		if ((gd_now_ns() - last_progress) / 1000000 > (uint64_t)t->idle_ms) {
			dump_netdev(d);
			return fail("stalled for %d ms: TX sent %u captured %u used %u; RX injected %u received %u; capture drops %u; %u stray frames",
				    t->idle_ms, d->tx_sent - tx_base, d->tx_done - tx_base,
				    d->tx_used - tx_base, d->rx_sent - rx_base, d->rx_done - rx_base,
				    gd_tap_capture_drops(&d->tap), d->strays);
		}
		/* nothing to do: sleep until an interrupt or a captured frame */
		{
			struct pollfd p[3] = {
				{ .fd = TXQ(d)->call_fd, .events = POLLIN },
				{ .fd = RXQ(d)->call_fd, .events = POLLIN },
				{ .fd = d->tap.cap, .events = POLLIN },
			};
			bool tx_ok = t->skip_q[GD_TX] || gd_vq_enable_cb(TXQ(d));
			bool rx_ok = t->skip_q[GD_RX] || gd_vq_enable_cb(RXQ(d));

			if (tx_ok && rx_ok)
				poll(p, 3, 100);
			if (!t->skip_q[GD_TX])
				gd_vq_disable_cb(TXQ(d));
			if (!t->skip_q[GD_RX])
				gd_vq_disable_cb(RXQ(d));
			if (p[0].revents & POLLIN)
				gd_vq_wait_call(TXQ(d), 0);
			if (p[1].revents & POLLIN)
				gd_vq_wait_call(RXQ(d), 0);
		}
	}
	return 0;
}

/* Simple bidirectional exchange of n small/mixed packets. */
static int dp_exchange(struct dp *d, uint32_t tx_n, uint32_t rx_n)
{
	struct dp_traffic t;

	dp_traffic_init(&t, tx_n, rx_n);
	return dp_run(d, &t);
}

/* A second device proves that other devices keep working. */
static int other_device_works(void)
{
	struct dp_cfg c = dp_default();
	struct dp b;
	int r;

	c.num = 64;
	r = dp_setup(&b, &c);
	if (!r)
		r = dp_exchange(&b, 20, 20);
	dp_teardown(&b);
	return r;
}

/* ---- cases: basic ---- */

static int t_tx_one(void)
{
	struct dp_cfg c = dp_default();
	struct dp d;
	int r;

	r = dp_setup(&d, &c);
	if (!r)
		r = dp_exchange(&d, 1, 0);
	if (!r && (TXQ(&d)->completed != 1))
		r = fail("TX used entries: %llu", (unsigned long long)TXQ(&d)->completed);
	dp_teardown(&d);
	return r;
}

static int t_rx_one(void)
{
	struct dp_cfg c = dp_default();
	struct dp d;
	int r;

	r = dp_setup(&d, &c);
	if (!r)
		r = dp_exchange(&d, 0, 1);
	if (!r && RXQ(&d)->completed != 1)
		r = fail("RX used entries: %llu", (unsigned long long)RXQ(&d)->completed);
	dp_teardown(&d);
	return r;
}

static uint32_t g_burst = 100000;

static int burst(bool tx)
{
	struct dp_cfg c = dp_default();
	struct dp_traffic t;
	struct dp d;
	uint64_t t0;
	int r;

	c.num = 1024;
	r = dp_setup(&d, &c);
	if (r)
		goto out;
	dp_traffic_init(&t, tx ? g_burst : 0, tx ? 0 : g_burst);
	t.tx.sizes = t.rx.sizes = SZ_MIXED_BIG;
	t.tx.gso = true;
	t0 = gd_now_ns();
	r = dp_run(&d, &t);
	if (!r)
		diag("%s burst: %u packets in %.1f s, %u stray frames ignored, %llu kicks (%llu suppressed), %llu calls",
		     tx ? "TX" : "RX", g_burst, (gd_now_ns() - t0) / 1e9, d.strays,
		     (unsigned long long)(tx ? TXQ(&d) : RXQ(&d))->kicks,
		     (unsigned long long)(tx ? TXQ(&d) : RXQ(&d))->kicks_suppressed,
		     (unsigned long long)(tx ? TXQ(&d) : RXQ(&d))->calls);
out:
	dp_teardown(&d);
	return r;
}

static int t_tx_burst(void) { return burst(true); }
static int t_rx_burst(void) { return burst(false); }

static int run_cfg(struct dp_cfg *c, uint32_t n, enum dp_sizes sz)
{
	struct dp_traffic t;
	struct dp d;
	int r;

	r = dp_setup(&d, c);
	if (r)
		goto out;
	dp_traffic_init(&t, n, n);
	t.tx.sizes = sz;
	t.rx.sizes = sz;
	t.tx.gso = !c->vhost_hdr;
	if (c->num < 512)
		t.tx_win = t.rx_win = c->num;
	r = dp_run(&d, &t);
	if (!r)
		diag("%u packets each way: TX kicks %llu (suppressed %llu) calls %llu; RX kicks %llu calls %llu",
		     n, (unsigned long long)TXQ(&d)->kicks,
		     (unsigned long long)TXQ(&d)->kicks_suppressed,
		     (unsigned long long)TXQ(&d)->calls, (unsigned long long)RXQ(&d)->kicks,
		     (unsigned long long)RXQ(&d)->calls);
out:
	dp_teardown(&d);
	return r;
}

static int t_rx_mergeable(void)
{
	struct dp_cfg c = dp_default();

	c.rx_buf = 256;		/* a 1514-byte frame spans 6+ buffers, a 64 KB one 256 */
	c.num = 512;
	return run_cfg(&c, 3000, SZ_MIXED_BIG);
}

static int t_indirect(void)
{
	struct dp_cfg c = dp_default();

	c.indirect = true;	/* every other chain is indirect */
	c.hdr_split = true;
	return run_cfg(&c, 3000, SZ_MIXED_BIG);
}

static int t_no_indirect(void)
{
	struct dp_cfg c = dp_default();

	c.indirect = false;
	return run_cfg(&c, 3000, SZ_MIXED_BIG);
}

static int t_event_idx(void)
{
	struct dp_cfg c = dp_default();

	c.event_idx = true;
	return run_cfg(&c, 5000, SZ_MIXED);
}

static int t_no_event_idx(void)
{
	struct dp_cfg c = dp_default();

	c.event_idx = false;
	return run_cfg(&c, 5000, SZ_MIXED);
}

static int t_vhost_hdr(void)
{
	struct dp_cfg c = dp_default();

	c.vhost_hdr = true;
	return run_cfg(&c, 3000, SZ_MIXED);
}

static int t_vhost_hdr_nomrg(void)
{
	struct dp_cfg c = dp_default();

	c.vhost_hdr = true;
	c.mrg = false;
	c.v1 = false;
	return run_cfg(&c, 3000, SZ_MIXED);
}

static int t_legacy_hdr(void)
{
	struct dp_cfg c = dp_default();

	/* no VERSION_1, no MRG_RXBUF: a 10-byte header, one big buffer per frame */
	c.mrg = false;
	c.v1 = false;
	return run_cfg(&c, 3000, SZ_MIXED);
}

static int t_nomrg_v1(void)
{
	struct dp_cfg c = dp_default();

	c.mrg = false;
	c.rx_buf = DP_BIG_MAX + 64;
	return run_cfg(&c, 2000, SZ_MIXED_BIG);
}

static int t_hdr_split(void)
{
	struct dp_cfg c = dp_default();

	c.hdr_split = true;
	c.indirect = false;
	return run_cfg(&c, 3000, SZ_MIXED_BIG);
}

static int t_mem_regions(void)
{
	struct dp_cfg c = dp_default();

	c.straddle = true;
	c.num = 64;
	return run_cfg(&c, 2000, SZ_MIXED_BIG);
}

static int ring_size(unsigned int num)
{
	struct dp_cfg c = dp_default();
	uint32_t n = num + num / 2 + 500;

	c.num = num;
	c.tx_buf = 1600;
	c.indirect = num <= 1024;
	return run_cfg(&c, n > 60000 ? 60000 : n, SZ_MIXED);
}

static int t_ring_64(void) { return ring_size(64); }
static int t_ring_128(void) { return ring_size(128); }
static int t_ring_256(void) { return ring_size(256); }
static int t_ring_512(void) { return ring_size(512); }
static int t_ring_1024(void) { return ring_size(1024); }
static int t_ring_32768(void) { return ring_size(32768); }

static int t_ring_invalid(void)
{
	static const unsigned int bad[] = { 0, 3, 100, 65536, 0x20000, 0xffffffff };
	struct dp_cfg c = dp_default();
	struct dp d;
	unsigned int i;
	int r;

	c.num = 64;
	r = dp_setup(&d, &c);
	if (r)
		goto out;
	/* resizing with a backend attached is refused */
	r = gd_vq_set_num(TXQ(&d), 128);
	if (r != -EBUSY) {
		r = fail("SET_VRING_NUM with a backend: %s, expected EBUSY", gd_errname(r));
		goto out;
	}
	r = gd_vq_set_base(TXQ(&d), 0);
	if (r != -EBUSY) {
		r = fail("SET_VRING_BASE with a backend: %s, expected EBUSY", gd_errname(r));
		goto out;
	}
	r = dp_detach(&d);
	if (r)
		goto out;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = gd_vq_set_num(TXQ(&d), bad[i]);
		if (r != -EINVAL) {
			r = fail("SET_VRING_NUM %u: %s, expected EINVAL", bad[i], gd_errname(r));
			goto out;
		}
	}
	r = gd_vq_set_base(TXQ(&d), 0x10000);
	if (r != -EINVAL) {
		r = fail("SET_VRING_BASE 0x10000: %s, expected EINVAL", gd_errname(r));
		goto out;
	}
	r = gd_vq_set_num(TXQ(&d), 64);
	if (!r)
		r = gd_vq_set_base(TXQ(&d), 0);
	if (r) {
		r = fail("restoring the ring: %s", gd_errname(r));
		goto out;
	}
	r = dp_attach(&d);
	if (!r)
		r = dp_exchange(&d, 100, 100);
out:
	dp_teardown(&d);
	return r;
}

/* stop/resume: detach, GET_VRING_BASE, SET_VRING_BASE, re-attach */
static int hook_stop_resume(struct dp *d, void *arg)
{
	bool check_base = arg != NULL;
	unsigned int base[GD_NVQ];
	int i, r;

	TRY(dp_detach(d));
	for (i = 0; i < GD_NVQ; i++) {
		struct gd_vq *vq = &d->dev.vq[i];
		uint16_t used = gd_vq_used_idx(vq);

		r = gd_vq_get_base(vq, &base[i]);
		if (r)
			return fail("GET_VRING_BASE %d: %s", i, strerror(-r));
		/* stopped: everything the device took is in the used ring */
		if (check_base && (uint16_t)base[i] != used)
			return fail("vq %d stopped at base %u but used idx is %u", i, base[i], used);
		if ((uint16_t)(vq->avail_idx - base[i]) > vq->num)
			return fail("vq %d base %u outside avail window (avail %u)", i, base[i],
				    vq->avail_idx);
	}
	for (i = 0; i < GD_NVQ; i++) {
		r = gd_vq_set_base(&d->dev.vq[i], base[i]);
		if (r)
			return fail("SET_VRING_BASE %d: %s", i, strerror(-r));
	}
	TRY(dp_attach(d));
	gd_vq_kick(TXQ(d));
	gd_vq_kick(RXQ(d));
	return 0;
}

static int t_stop_resume(void)
{
	struct dp_cfg c = dp_default();
	struct dp_traffic t;
	struct dp d;
	int r;

	r = dp_setup(&d, &c);
	if (r)
		goto out;
	dp_traffic_init(&t, 20000, 20000);
	t.hook = hook_stop_resume;
	t.hook_arg = &d;
	t.hook_every = 997;
	r = dp_run(&d, &t);
out:
	dp_teardown(&d);
	return r;
}

static int hook_flap(struct dp *d, void *arg)
{
	(void)arg;
	TRY(dp_detach(d));
	TRY(dp_attach(d));
	gd_vq_kick(TXQ(d));
	gd_vq_kick(RXQ(d));
	return 0;
}

static int t_backend_flap(void)
{
	struct dp_cfg c = dp_default();
	struct dp_traffic t;
	struct dp d;
	int r;

	r = dp_setup(&d, &c);
	if (r)
		goto out;
	dp_traffic_init(&t, 20000, 20000);
	t.hook = hook_flap;
	t.hook_every = 501;
	r = dp_run(&d, &t);
out:
	dp_teardown(&d);
	return r;
}

/*
 * One queue reset alone, as QEMU does it for VIRTIO_F_RING_RESET
 * (vhost_net_virtqueue_reset, then _restart): backend detached, GET_VRING_BASE,
 * the ring set up again from index 0, backend attached, while the other queue
 * keeps its rings, indices and the traffic in flight on it. RX, then TX,
 * twice; traffic both ways after each, checked.
 */
static int t_vq_reset(void)
{
	struct dp_cfg c = dp_default();
	struct dp d;
	int r, round, q;

	r = dp_setup(&d, &c);
	if (!r)
		r = dp_exchange(&d, 1000, 1000);
	for (round = 0; !r && round < 4; round++) {
		q = round % 2 ? GD_TX : GD_RX;
		r = gd_vq_restart(&d.dev.vq[q], d.tap.fd);
		if (r) {
			r = fail("reset of vq %d, round %d: %s", q, round, gd_errname(r));
			break;
		}
		gd_vq_kick(TXQ(&d));
		gd_vq_kick(RXQ(&d));
		r = dp_exchange(&d, 1000, 1000);
	}
	dp_teardown(&d);
	return r ? r : other_device_works();
}

/*
 * Move queue @q to worker @w as a VMM must: stopped first (no backend, no
 * kick eventfd), then attached, then started again.
 */
static int dp_move_queue(struct dp *d, unsigned int q, unsigned int w)
{
	struct vhost_vring_worker vw = { .index = q, .worker_id = w };
	struct vhost_vring_file kick = { .index = q, .fd = -1 };
	int r;

	r = gd_dev_set_backend(&d->dev, q, -1);
	if (r)
		return fail("SET_BACKEND vq %u fd -1: %s", q, strerror(-r));
	if (ioctl(d->dev.fd, VHOST_SET_VRING_KICK, &kick) < 0)
		return fail("SET_VRING_KICK vq %u -1: %s", q, strerror(errno));
	if (ioctl(d->dev.fd, VHOST_ATTACH_VRING_WORKER, &vw) < 0)
		return fail("ATTACH_VRING_WORKER vq %u worker %u: %s", q, w, strerror(errno));
	kick.fd = d->dev.vq[q].kick_fd;
	if (ioctl(d->dev.fd, VHOST_SET_VRING_KICK, &kick) < 0)
		return fail("SET_VRING_KICK vq %u: %s", q, strerror(errno));
	r = gd_dev_set_backend(&d->dev, q, d->tap.fd);
	if (r)
		return fail("SET_BACKEND vq %u: %s", q, strerror(-r));
	gd_vq_kick(&d->dev.vq[q]);
	return 0;
}

/*
 * vhostx only (vhost_net has no worker ioctls): RX on a worker of its own,
 * TX on worker 0, traffic both ways checked; both queues on the new worker
 * and worker 0 freed; then RX on a third worker. Each step with traffic.
 */
static int t_workers(void)
{
	struct dp_cfg c = dp_default();
	struct vhost_worker_state st;
	struct dp d;
	int r;

	if (!g_vhostx)
		return skip("vhost_net has no worker ioctls");
	r = dp_setup(&d, &c);
	if (!r)
		r = dp_exchange(&d, 500, 500);
	if (!r && ioctl(d.dev.fd, VHOST_NEW_WORKER, &st) < 0)
		r = fail("NEW_WORKER: %s", strerror(errno));
	if (!r)
		r = dp_move_queue(&d, GD_RX, st.worker_id);
	if (!r)
		r = dp_exchange(&d, 3000, 3000);
	if (!r)
		r = dp_move_queue(&d, GD_TX, st.worker_id);
	st.worker_id = 0;
	if (!r && ioctl(d.dev.fd, VHOST_FREE_WORKER, &st) < 0)
		r = fail("FREE_WORKER 0, no queue on it: %s", strerror(errno));
	if (!r)
		r = dp_exchange(&d, 3000, 3000);
	if (!r && ioctl(d.dev.fd, VHOST_NEW_WORKER, &st) < 0)
		r = fail("NEW_WORKER: %s", strerror(errno));
	if (!r)
		r = dp_move_queue(&d, GD_RX, st.worker_id);
	if (!r)
		r = dp_exchange(&d, 3000, 3000);
	dp_teardown(&d);
	return r ? r : other_device_works();
}

/* Can this device run its workers as tasks of the owner here? */
static int task_workers_here(void)
{
	uint8_t m = VHOST_FORK_OWNER_TASK;
	int fd, e = 0;

	fd = open(g_devpath, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return fail("open %s: %s", g_devpath, strerror(errno));
	if (ioctl(fd, VHOST_SET_FORK_FROM_OWNER, &m) < 0)
		e = errno;
	close(fd);
	if (!e)
		return 0;
	/* vhostx builds task mode where the kernel has vhost_task */
	if (g_vhostx && vw_kernel_has_tasks())
		return fail("SET_FORK_FROM_OWNER task on a kernel with vhost_task: %s", strerror(e));
	return skip("%s has no task workers on this kernel (SET_FORK_FROM_OWNER: %s)", g_devpath,
		    strerror(e));
}

/*
 * Workers as threads of the owner (VHOST_FORK_OWNER_TASK): traffic both ways;
 * on vhostx, RX moved to a second worker, also a thread of ours; no thread
 * left after close.
 */
static int t_task_workers(void)
{
	struct dp_cfg c = dp_default();
	struct vhost_worker_state st;
	char comm[32], comm1[40];
	struct dp d;
	int r;

	r = task_workers_here();
	if (r)
		return r;
	snprintf(comm, sizeof(comm), "%s-%d", g_vhostx ? "vhostx" : "vhost", getpid());
	snprintf(comm1, sizeof(comm1), "%s-1", comm);
	c.task_workers = true;
	r = dp_setup(&d, &c);
	if (!r && !vw_find_thread("/proc/self/task", comm))
		r = fail("no thread %s in this process", comm);
	if (!r)
		r = dp_exchange(&d, 3000, 3000);
	if (!r && g_vhostx) {
		if (ioctl(d.dev.fd, VHOST_NEW_WORKER, &st) < 0)
			r = fail("NEW_WORKER: %s", strerror(errno));
		if (!r)
			r = dp_move_queue(&d, GD_RX, st.worker_id);
		if (!r && !vw_find_thread("/proc/self/task", comm1))
			r = fail("no thread %s in this process", comm1);
		if (!r)
			r = dp_exchange(&d, 3000, 3000);
	}
	dp_teardown(&d);
	if (!r && !vw_thread_is("/proc/self/task", comm, false))
		r = fail("thread %s left after close", comm);
	return r ? r : other_device_works();
}

/* Write vhostx's module parameter @name; 0 or -errno. */
static int vhx_param_set(const char *name, const char *val)
{
	char path[128];
	int fd, r = 0;

	snprintf(path, sizeof(path), "/sys/module/vhostx/parameters/%s", name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		r = -errno;
	close(fd);
	return r;
}

/* The worker of queue @q, or -errno. */
static int vring_worker(struct dp *d, unsigned int q)
{
	struct vhost_vring_worker vw = { .index = q, .worker_id = 99 };

	if (ioctl(d->dev.fd, VHOST_GET_VRING_WORKER, &vw) < 0)
		return -errno;
	return (int)vw.worker_id;
}

/*
 * vhostx's split_workers=Y: a device gets RX on worker 0 and TX on worker 1
 * at SET_OWNER, with no worker ioctl (QEMU and libvirt never call them);
 * traffic both ways checked; with N again, one worker for both.
 */
static int t_split_workers(void)
{
	struct dp_cfg c = dp_default();
	char comm1[40];
	struct dp d;
	int r;

	if (!g_vhostx)
		return skip("a vhostx module parameter");
	r = vhx_param_set("split_workers", "Y");
	if (r)
		return fail("split_workers=Y: %s", strerror(-r));
	r = dp_setup(&d, &c);
	snprintf(comm1, sizeof(comm1), "vhostx-%d-1", getpid());
	if (!r && (vring_worker(&d, GD_RX) != 0 || vring_worker(&d, GD_TX) != 1))
		r = fail("split_workers: rx on worker %d, tx on worker %d, want 0 and 1",
			 vring_worker(&d, GD_RX), vring_worker(&d, GD_TX));
	if (!r && !vw_find_thread("/proc", comm1))
		r = fail("no thread %s", comm1);
	if (!r)
		r = dp_exchange(&d, 5000, 5000);
	dp_teardown(&d);
	vhx_param_set("split_workers", "N");
	if (r)
		return r;
	r = dp_setup(&d, &c);
	if (!r && (vring_worker(&d, GD_RX) != 0 || vring_worker(&d, GD_TX) != 0))
		r = fail("split_workers=N: rx on worker %d, tx on worker %d, want 0 and 0",
			 vring_worker(&d, GD_RX), vring_worker(&d, GD_TX));
	if (!r)
		r = dp_exchange(&d, 1000, 1000);
	dp_teardown(&d);
	return r;
}

/* Move the running queues to a fresh device, as a live migration would. */
static int t_migrate(void)
{
	struct dp_cfg c = dp_default();
	struct dp d;
	struct gd_dev old;
	unsigned int base[GD_NVQ];
	int i, r;

	r = dp_setup(&d, &c);
	if (!r)
		r = dp_exchange(&d, 3000, 3000);
	for (int round = 0; !r && round < 3; round++) {
		r = dp_detach(&d);
		for (i = 0; !r && i < GD_NVQ; i++)
			r = gd_vq_get_base(&d.dev.vq[i], &base[i]);
		if (r) {
			r = r == 1 ? r : fail("GET_VRING_BASE: %s", gd_errname(r));
			break;
		}
		/* keep the rings; open a new device and hand them over */
		old = d.dev;
		r = gd_dev_open(&d.dev, g_devpath);
		if (!r)
			r = gd_dev_set_owner(&d.dev);
		if (!r)
			r = gd_dev_set_features(&d.dev, old.features);
		if (!r)
			r = gd_dev_set_mem(&d.dev, &d.mem);
		for (i = 0; !r && i < GD_NVQ; i++) {
			d.dev.vq[i] = old.vq[i];
			d.dev.vq[i].dev = &d.dev;
			r = gd_vq_config(&d.dev.vq[i], (uint16_t)base[i]);
		}
		close(old.fd);
		if (r) {
			r = fail("setting up the new device: %s", gd_errname(r));
			break;
		}
		r = dp_attach(&d);
		if (r)
			break;
		gd_vq_kick(TXQ(&d));
		gd_vq_kick(RXQ(&d));
		r = dp_exchange(&d, 3000, 3000);
	}
	dp_teardown(&d);
	return r;
}

static int t_reset_owner(void)
{
	struct dp_cfg c = dp_default();
	struct dp d;
	int r, i;

	r = dp_setup(&d, &c);
	if (!r)
		r = dp_exchange(&d, 2000, 2000);
	if (r)
		goto out;
	/* traffic in flight */
	for (i = 0; i < 100; i++)
		dp_tx_one(&d, &(struct dp_flow){ .sizes = SZ_FIXED, .fixed = 1000 }, DP_STALE + i);
	gd_vq_notify(TXQ(&d));
	r = gd_dev_reset_owner(&d.dev);
	if (r) {
		r = fail("VHOST_RESET_OWNER: %s", strerror(-r));
		goto out;
	}
	/* the device forgot everything: an owner is needed again */
	r = gd_dev_set_owner(&d.dev);
	if (r) {
		r = fail("SET_OWNER after RESET_OWNER: %s", strerror(-r));
		goto out;
	}
	r = gd_dev_set_features(&d.dev, d.dev.features);
	if (!r)
		r = gd_dev_set_mem(&d.dev, &d.mem);
	for (i = 0; !r && i < GD_NVQ; i++) {
		gd_vq_reset_ring(&d.dev.vq[i]);
		r = gd_vq_config(&d.dev.vq[i], 0);
	}
	if (r) {
		r = fail("re-setup after RESET_OWNER: %s", strerror(-r));
		goto out;
	}
	r = dp_attach(&d);
	if (r)
		goto out;
	
/* drain frames that left before the reset */
	d.rx_want_bufs = 0;
	r = dp_rx_fill(&d);
	if (!r)
		r = dp_exchange(&d, 2000, 2000);
out:
	dp_teardown(&d);
	return r;
}

static int owner_killed(bool task)
{
	int pfd[2], st;
	pid_t pid;
	char ch;

	if (pipe(pfd))
		return fail("pipe");
	pid = fork();
	if (pid < 0)
		return fail("fork");
	if (pid == 0) {
		struct dp_cfg c = dp_default();
		struct dp_traffic t;
		struct dp d;

		close(pfd[0]);
		c.task_workers = task;
		if (dp_setup(&d, &c))
			_exit(1);
		dp_traffic_init(&t, 0, 0);
		t.forever = true;
		t.ready_fd = pfd[1];
		t.tx.sizes = SZ_MIXED_BIG;
		t.tx.gso = true;
		dp_run(&d, &t);
		_exit(1);
	}
	close(pfd[1]);
	if (read(pfd[0], &ch, 1) != 1) {
		waitpid(pid, &st, 0);
		return fail("child owner did not get traffic going (status %#x)", st);
	}
	msleep(300);
	kill(pid, SIGKILL);
	if (waitpid(pid, &st, 0) != pid)
		return fail("waitpid");
	if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL)
		return fail("child ended with status %#x, not by SIGKILL", st);
	close(pfd[0]);
	/* the device of the dead owner is gone; new ones work */
	return other_device_works();
}

static int t_owner_killed(void)
{
	return owner_killed(false);
}

/*
 * The same with the worker a thread of the owner: SIGKILL ends it first,
 * then the device's file is released without it.
 */
static int t_task_owner_killed(void)
{
	int r = task_workers_here();

	return r ? r : owner_killed(true);
}

static int t_close_running(void)
{
	struct dp_cfg c = dp_default();
	struct dp_flow f = { .sizes = SZ_MIXED_BIG, .gso = true, .salt = 99 };
	int round;

	for (round = 0; round < 4; round++) {
		struct dp d;
		uint64_t t0;
		uint32_t s;
		int r;

		r = dp_setup(&d, &c);
		if (!r)
			r = dp_exchange(&d, 50, 50);
		if (r) {
			dp_teardown(&d);
			return r;
		}
		for (s = 0; s < 200; s++) {
			if (dp_tx_one(&d, &f, DP_STALE + s))
				break;
			if (s < 150)
				dp_rx_inject(&d, &f, DP_STALE + s);
		}
		gd_vq_notify(TXQ(&d));
		msleep(round * 3);
		t0 = gd_now_ns();
		close(d.dev.fd);
		d.dev.fd = -1;
		if (gd_now_ns() - t0 > 5000000000ull) {
			dp_teardown(&d);
			return fail("close took %.1f s", (gd_now_ns() - t0) / 1e9);
		}
		dp_teardown(&d);
	}
	return other_device_works();
}

/*
 * Busy polling on both queues (VHOST_SET_VRING_BUSYLOOP_TIMEOUT): traffic
 * still flows and checks out, and a worker that spins stops in time for
 * close: the spin is bounded.
 */
/* ---- dirty logging (live migration) ---- */

/*
 * The bitmap covers 32 GiB of guest-physical space, one bit per 4 KiB page
 * (vhost's layout); every test layout lies below 1 GiB. @want holds the
 * pages the driver saw the device write (RX buffers, from the used ring):
 * each must be marked. Pages the device may write (the used rings, the RX
 * slots) may be marked; any other marked page is a bug.
 */
#define DP_LOG_BYTES (1u << 20)

struct dp_log {
	uint8_t *bits;		/* VHOST_SET_LOG_BASE */
	uint8_t *want;
	int efd;		/* VHOST_SET_LOG_FD */
	bool on;
	uint64_t features;	/* without VHOST_F_LOG_ALL */
};

static void log_set(uint8_t *b, uint64_t pfn)
{
	b[pfn / 8] |= (uint8_t)(1u << (pfn % 8));
}

static bool log_test(const uint8_t *b, uint64_t pfn)
{
	return b[pfn / 8] & (1u << (pfn % 8));
}

static void dp_log_written(struct dp *d, uint64_t gpa, uint32_t len)
{
	uint64_t p;

	if (!d->log || !d->log->on || !len)
		return;
	for (p = gpa >> 12; p <= (gpa + len - 1) >> 12; p++)
		log_set(d->log->want, p);
}

static int dp_log_init(struct dp *d, struct dp_log *l)
{
	memset(l, 0, sizeof(*l));
	l->bits = mmap(NULL, 2 * DP_LOG_BYTES, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (l->bits == MAP_FAILED)
		return fail("mmap log: %s", strerror(errno));
	l->want = l->bits + DP_LOG_BYTES;
	l->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (l->efd < 0)
		return fail("eventfd: %s", strerror(errno));
	l->features = d->dev.features & ~(1ull << VHOST_F_LOG_ALL);
	d->log = l;
	return 0;
}

static void dp_log_free(struct dp *d, struct dp_log *l)
{
	if (l->bits && l->bits != MAP_FAILED)
		munmap(l->bits, 2 * DP_LOG_BYTES);
	if (l->efd > 0)
		close(l->efd);
	d->log = NULL;
}

/* Switch logging on or off while the queues run, in QEMU's order. */
static int dp_log_switch(struct dp *d, bool on)
{
	struct dp_log *l = d->log;
	uint64_t f = l->features | (on ? 1ull << VHOST_F_LOG_ALL : 0);
	int i, r;

	if (on) {
		r = gd_dev_set_log_base(&d->dev, l->bits);
		if (r)
			return fail("VHOST_SET_LOG_BASE: %s", gd_errname(r));
		r = gd_dev_set_log_fd(&d->dev, l->efd);
		if (r)
			return fail("VHOST_SET_LOG_FD: %s", gd_errname(r));
		l->on = true;
	}
	r = gd_dev_set_features(&d->dev, f);
	if (r)
		return fail("VHOST_SET_FEATURES %#llx: %s", (unsigned long long)f, gd_errname(r));
	for (i = 0; i < GD_NVQ; i++) {
		r = gd_vq_set_log(&d->dev.vq[i], on);
		if (r)
			return fail("VHOST_SET_VRING_ADDR vq %d, log %s: %s", i, on ? "on" : "off",
				    gd_errname(r));
	}
	l->on = on;
	return 0;
}

static bool in_range(uint64_t pfn, uint64_t gpa, uint64_t len)
{
	return len && pfn >= gpa >> 12 && pfn <= (gpa + len - 1) >> 12;
}

/* May the device have written page @pfn? */
static bool dp_log_allowed(struct dp *d, uint64_t pfn)
{
	int i;

	for (i = 0; i < GD_NVQ; i++) {
		struct gd_vq *vq = &d->dev.vq[i];

		if (in_range(pfn, vq->used_gpa, 4 + 8ull * vq->num + 2))
			return true;
	}
	return in_range(pfn, d->rx_slots, (uint64_t)d->cfg.num * d->cfg.rx_buf);
}

/* QEMU's log sync: an atomic exchange, while the device may be setting bits. */
static void dp_log_clear(uint8_t *bits)
{
	unsigned int i;

	for (i = 0; i < DP_LOG_BYTES; i++)
		__atomic_exchange_n(&bits[i], 0, __ATOMIC_SEQ_CST);
}

/*
 * Compare the bitmap with what the driver saw, then clear both.
 * @quiet: the device was not logging, nothing may be marked.
 */
static int dp_log_check(struct dp *d, const char *phase, bool quiet, uint64_t *marked)
{
	struct dp_log *l = d->log;
	uint64_t pfn, n = 0, missing = 0, extra = 0, first_missing = 0, first_extra = 0;
	int i, idx_missing = -1;

	/* Each queue completed something, so it wrote its used ring's index. */
	for (i = 0; i < GD_NVQ && !quiet; i++)
		if (!log_test(l->bits, (d->dev.vq[i].used_gpa + 2) >> 12))
			idx_missing = i;
	for (pfn = 0; pfn < DP_LOG_BYTES * 8ull; pfn++) {
		bool got = log_test(l->bits, pfn);

		n += got;
		if (log_test(l->want, pfn) && !got && !quiet && !missing++)
			first_missing = pfn;
		if (got && (quiet || !dp_log_allowed(d, pfn)) && !extra++)
			first_extra = pfn;
	}
	dp_log_clear(l->bits);
	memset(l->want, 0, DP_LOG_BYTES);
	*marked = n;
	if (missing)
		return fail("%s: %llu pages the device wrote are not in the log, the first gpa %#llx",
			    phase, (unsigned long long)missing,
			    (unsigned long long)(first_missing << 12));
	if (extra)
		return fail("%s: %llu pages in the log the device %s, the first gpa %#llx", phase,
			    (unsigned long long)extra,
			    quiet ? "marked with logging off" : "may not have written",
			    (unsigned long long)(first_extra << 12));
	if (idx_missing >= 0)
		return fail("%s: vq %d's used->idx (gpa %#llx) is not in the log", phase, idx_missing,
			    (unsigned long long)d->dev.vq[idx_missing].used_gpa + 2);
	return 0;
}

static uint64_t efd_count(int fd)
{
	uint64_t v = 0;

	if (read(fd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

/*
 * Traffic both ways with logging switched on, off and on again while the
 * device runs: every page the device wrote is marked, nothing else is, and
 * with logging off nothing is marked at all. Each phase ends with a detach,
 * as QEMU's last log sync follows one: by then the device's last writes are
 * logged (during a phase a bit may trail its used entry, on vhost_net too).
 */
static int log_run(struct dp_cfg *c, uint32_t n, enum dp_sizes sz)
{
	struct dp_traffic t;
	struct dp_log l = { 0 };
	struct dp d;
	uint64_t marked[3] = { 0 }, sig[3] = { 0 };
	int r, phase;

	r = dp_setup(&d, c);
	if (!r)
		r = dp_log_init(&d, &l);
	for (phase = 0; !r && phase < 3; phase++) {
		bool on = phase != 1;

		if (phase)
			r = dp_attach(&d);
		if (!r)
			r = dp_log_switch(&d, on);
		if (r)
			break;
		/* What the attach logged before logging went off: a log sync. */
		if (!on)
			dp_log_clear(l.bits);
		efd_count(l.efd);
		gd_vq_kick(TXQ(&d));
		gd_vq_kick(RXQ(&d));
		dp_traffic_init(&t, n, n);
		t.tx.sizes = t.rx.sizes = sz;
		t.tx.gso = !c->vhost_hdr;
		if (c->num < 512)
			t.tx_win = t.rx_win = c->num;
		r = dp_run(&d, &t);
		if (!r)
			r = dp_detach(&d);
		if (!r)
			r = dp_log_check(&d, on ? "logging on" : "logging off", !on, &marked[phase]);
		sig[phase] = efd_count(l.efd);
		if (!r && on && !marked[phase])
			r = fail("logging on: nothing was logged");
		if (!r && on && !sig[phase])
			r = fail("logging on: the log eventfd was never signalled");
	}
	if (!r)
		diag("%u packets each way per phase: %llu, %llu, %llu pages marked (on, off, on); log eventfd %llu, %llu, %llu",
		     n, (unsigned long long)marked[0], (unsigned long long)marked[1],
		     (unsigned long long)marked[2], (unsigned long long)sig[0],
		     (unsigned long long)sig[1], (unsigned long long)sig[2]);
	dp_log_free(&d, &l);
	dp_teardown(&d);
	return r;
}

static int t_log(void)
{
	struct dp_cfg c = dp_default();

	return log_run(&c, 2000, SZ_MIXED_BIG);
}

static int t_log_mergeable(void)
{
	struct dp_cfg c = dp_default();

	c.rx_buf = 256;		/* frames over many buffers, a page each few */
	c.num = 512;
	return log_run(&c, 1000, SZ_MIXED_BIG);
}

static int t_log_multi_desc(void)
{
	struct dp_cfg c = dp_default();

	c.hdr_split = true;	/* two descriptors per buffer, every other one indirect */
	c.straddle = true;	/* buffers across region boundaries */
	return log_run(&c, 1000, SZ_MIXED_BIG);
}

static int t_log_no_event_idx(void)
{
	struct dp_cfg c = dp_default();

	c.event_idx = false;
	c.indirect = false;
	c.mrg = false;
	c.rx_buf = DP_BIG_MAX + 64;
	return log_run(&c, 500, SZ_MIXED_BIG);
}

/*
 * A bitmap the device cannot write (mapped read-only: the ioctls' range
 * checks pass). vhost_net ignores the failed bit and goes on; vhostx stops
 * the queue and signals its err eventfd, as for any ring it cannot write
 * (Documentation/differences.md). Either way nothing else is hurt: logging
 * off and the rings restarted, traffic flows, and other devices never noticed.
 */
static int t_log_fault(void)
{
	struct dp_cfg c = dp_default();
	struct dp_flow f = { .sizes = SZ_FIXED, .fixed = 200 };
	struct dp_log l = { 0 };
	struct dp d;
	int r, i, err[GD_NVQ];
	uint32_t got;

	c.tx_buf = 2048;
	r = dp_setup(&d, &c);
	if (!r)
		r = dp_exchange(&d, 10, 10);
	if (!r)
		r = dp_log_init(&d, &l);
	if (r)
		goto out;
	if (mprotect(l.bits, DP_LOG_BYTES, PROT_READ)) {
		r = fail("mprotect: %s", strerror(errno));
		goto out;
	}
	for (i = 0; i < GD_NVQ; i++)
		gd_vq_wait_err(&d.dev.vq[i], 0);
	r = dp_log_switch(&d, true);
	for (i = 0; !r && i < 8; i++) {
		r = dp_tx_one(&d, &f, DP_STALE + i);
		if (!r)
			r = dp_rx_inject(&d, &f, DP_STALE + i);
	}
	if (r)
		goto out;
	gd_vq_notify(TXQ(&d));
	for (i = 0; i < GD_NVQ; i++)
		err[i] = gd_vq_wait_err(&d.dev.vq[i], 2000);
	dp_tx_reap(&d, &got);
	behave("log bitmap read-only: TX err eventfd %s, RX err eventfd %s",
	       err[GD_TX] > 0 ? "signalled" : "quiet", err[GD_RX] > 0 ? "signalled" : "quiet");
	if (g_vhostx && (err[GD_TX] <= 0 || err[GD_RX] <= 0)) {
		r = fail("log bitmap read-only: err eventfd TX %d RX %d, want both signalled",
			 err[GD_TX], err[GD_RX]);
		goto out;
	}
	/* A cancelled migration: logging off, rings restarted, traffic again. */
	r = dp_log_switch(&d, false);
	for (i = 0; !r && i < GD_NVQ; i++) {
		r = gd_vq_restart(&d.dev.vq[i], d.tap.fd);
		if (r)
			r = fail("restart vq %d: %s", i, gd_errname(r));
	}
	if (!r)
		r = dp_exchange(&d, 50, 50);
	if (!r)
		r = other_device_works();
out:
	dp_log_free(&d, &l);
	dp_teardown(&d);
	return r;
}

static int t_busypoll(void)
{
	struct dp_cfg c = dp_default();
	struct vhost_vring_state st;
	uint64_t t0;
	struct dp d;
	int r, q;

	r = dp_setup(&d, &c);
	for (q = 0; !r && q < 2; q++) {
		st = (struct vhost_vring_state){ .index = q, .num = 50000 };
		if (ioctl(d.dev.fd, VHOST_SET_VRING_BUSYLOOP_TIMEOUT, &st) < 0)
			r = fail("SET_VRING_BUSYLOOP_TIMEOUT: %s", strerror(errno));
		st.num = 0;
		if (!r && ioctl(d.dev.fd, VHOST_GET_VRING_BUSYLOOP_TIMEOUT, &st) < 0)
			r = fail("GET_VRING_BUSYLOOP_TIMEOUT: %s", strerror(errno));
		if (!r && st.num != 50000)
			r = fail("busyloop timeout reads back %u", st.num);
	}
	if (!r)
		r = dp_exchange(&d, 500, 500);
	if (r) {
		dp_teardown(&d);
		return r;
	}
	t0 = gd_now_ns();
	close(d.dev.fd);
	d.dev.fd = -1;
	dp_teardown(&d);
	if (gd_now_ns() - t0 > 2000000000ull)
		return fail("close took %.1f s with busy polling on", (gd_now_ns() - t0) / 1e9);
	return other_device_works();
}

/* ---- cases: multi-queue RX ---- */

#define MQ_FLOWS 64
#define MQ_LEN 600

/* Frame seq as TCP over IPv4, in one of MQ_FLOWS flows (the source port). */
static int mq_inject(struct gd_tap *tap, uint8_t *b, uint32_t seq)
{
	uint16_t port = htons((uint16_t)(20000 + seq % MQ_FLOWS));
	int r;

	frame_build(b, seq, MQ_LEN, true, NULL);
	memcpy(b + 34, &port, 2);
	r = gd_tap_inject(tap, NULL, b, MQ_LEN);
	return r ? fail("inject seq %u: %s", seq, strerror(-r)) : 0;
}

/* Sleep until either device interrupts, for at most 100 ms. */
static void mq_wait(struct dp *q)
{
	struct pollfd p[2] = {
		{ .fd = RXQ(&q[0])->call_fd, .events = POLLIN },
		{ .fd = RXQ(&q[1])->call_fd, .events = POLLIN },
	};
	int i;

	if (gd_vq_enable_cb(RXQ(&q[0])) && gd_vq_enable_cb(RXQ(&q[1])))
		poll(p, 2, 100);
	for (i = 0; i < 2; i++) {
		gd_vq_disable_cb(RXQ(&q[i]));
		if (p[i].revents & POLLIN)
			gd_vq_wait_call(RXQ(&q[i]), 0);
	}
}

/*
 * Receive on both devices until @want frames in all came, or 15 s pass
 * without one. Injects up to @win frames ahead, from *sent to @n.
 */
static int mq_run(struct dp *q, const struct dp_flow *f, uint32_t *sent, uint32_t n,
		  uint32_t win, uint32_t want)
{
	uint64_t last = gd_now_ns();
	uint32_t got, done;

	for (;;) {
		done = q[0].rx_done + q[1].rx_done;
		if (done >= want)
			return 0;
		while (*sent < n && *sent - done < win)
			TRY(mq_inject(&q[0].tap, q[0].scratch, (*sent)++));
		TRY(dp_rx_reap(&q[0], f, &got));
		if (got)
			last = gd_now_ns();
		TRY(dp_rx_reap(&q[1], f, &got));
		if (got)
			last = gd_now_ns();
		if (q[0].rx_done + q[1].rx_done != done)
			continue;
		if (gd_now_ns() - last > 15000000000ull)
			return fail("stalled: %u frames sent, %u and %u received",
				    *sent, q[0].rx_done, q[1].rx_done);
		mq_wait(q);
	}
}

/*
 * QEMU's queues=2: two devices on the two queues of one multi-queue tap. The
 * tap spreads 64 TCP flows over both queues; every frame must arrive once,
 * on one of them. First a flood, twice as deep as the rings (the queues run
 * out of buffers and wait for kicks), then frames one at a time (each queue
 * goes idle and must wake up for the next).
 */
static int t_rx_mq(void)
{
	struct dp_flow f = { .sizes = SZ_FIXED, .fixed = MQ_LEN };
	struct dp_cfg c = dp_default();
	uint32_t n = g_burst / 2, trickle = 300, sent = 0, i;
	struct dp q[2];
	uint8_t *seen;
	int r;

	seen = calloc(n + trickle, 1);
	if (!seen)
		return fail("calloc");
	c.mq = true;
	r = dp_setup(&q[0], &c);
	if (r) {
		dp_teardown(&q[0]);
		free(seen);
		return r;
	}
	c.queue_of = &q[0].tap;
	r = dp_setup(&q[1], &c);
	for (i = 0; i < 2; i++) {
		q[i].seen = seen;
		q[i].seen_n = n + trickle;
	}
	if (!r)
		r = mq_run(q, &f, &sent, n, 2 * c.num, n);
	if (!r)
		diag("flood: %u frames, %u on queue 0, %u on queue 1", n, q[0].rx_done,
		     q[1].rx_done);
	if (!r && (!q[0].rx_done || !q[1].rx_done))
		r = fail("the tap used one queue only: the case tests nothing");
	for (i = 0; !r && i < trickle; i++)
		r = mq_run(q, &f, &sent, n + i + 1, 1, n + i + 1);
	if (!r)
		diag("one at a time: %u frames, then %u on queue 0, %u on queue 1", trickle,
		     q[0].rx_done, q[1].rx_done);
	dp_teardown(&q[1]);
	dp_teardown(&q[0]);
	free(seen);
	return r;
}

static int t_tap_deleted(void)
{
	struct dp_cfg c = dp_default();
	struct dp_flow f = { .sizes = SZ_MIXED, .salt = 7 };
	struct dp d;
	uint16_t used0;
	uint64_t t0;
	int r, s;

	r = dp_setup(&d, &c);
	if (!r)
		r = dp_exchange(&d, 500, 500);
	if (r)
		goto out;
	for (s = 0; s < 100; s++) {
		dp_tx_one(&d, &f, DP_STALE + s);
		dp_rx_inject(&d, &f, DP_STALE + s);
	}
	gd_vq_notify(TXQ(&d));
	r = gd_tap_delete_link(&d.tap);
	if (r) {
		r = fail("RTM_DELLINK %s: %s", d.tap.name, strerror(-r));
		goto out;
	}
	/* more TX after the link is gone */
	used0 = gd_vq_used_idx(TXQ(&d));
	for (s = 100; s < 150; s++)
		dp_tx_one(&d, &f, DP_STALE + s);
	gd_vq_notify(TXQ(&d));
	msleep(500);
	behave("after the tap's link was deleted the device completed %u more TX buffers (of %u pending)",
	     (uint16_t)(gd_vq_used_idx(TXQ(&d)) - used0), (uint16_t)(TXQ(&d)->avail_idx - used0));
	/* detach and close must work */
	r = gd_dev_set_backend(&d.dev, GD_TX, -1);
	if (!r)
		r = gd_dev_set_backend(&d.dev, GD_RX, -1);
	if (r) {
		r = fail("detach after link deletion: %s", strerror(-r));
		goto out;
	}
	t0 = gd_now_ns();
	gd_dev_close(&d.dev);
	if (gd_now_ns() - t0 > 5000000000ull) {
		r = fail("close took %.1f s", (gd_now_ns() - t0) / 1e9);
		goto out;
	}
	r = other_device_works();
out:
	dp_teardown(&d);
	return r;
}

#define NDEV 64
static int t_devices_64(void)
{
	struct dp_cfg c = dp_default();
	struct dp *d = calloc(NDEV, sizeof(*d));
	struct rlimit rl;
	int i, r = 0, n = 0;

	if (!d)
		return fail("calloc");
	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < 4096) {
		rl.rlim_cur = rl.rlim_max < 4096 ? rl.rlim_max : 4096;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	c.num = 64;
	c.tx_buf = 2048;
	for (i = 0; i < NDEV && !r; i++, n++)
		r = dp_setup(&d[i], &c);
	for (int round = 0; round < 2 && !r; round++)
		for (i = 0; i < NDEV && !r; i++)
			r = dp_exchange(&d[i], 20, 20);
	for (i = 0; i < n; i++)
		dp_teardown(&d[i]);
	free(d);
	return r;
}

/* ---- hostile guests ---- */

struct hostile {
	const char *what;
	int q;				/* the queue that gets the bad ring */
	unsigned int num;		/* ring size for this case, 0 = default */
	bool no_probe;			/* the builder uses every descriptor */
	/* write the bad descriptors and avail entries; do not publish */
	void (*build)(struct dp *d, struct gd_vq *vq);
};

static uint64_t hdr_gpa(struct dp *d, struct gd_vq *vq)
{
	return vq->index == GD_TX ? d->tx_slots : d->rx_slots;
}

static uint16_t wflag(struct gd_vq *vq)
{
	return vq->index == GD_RX ? VRING_DESC_F_WRITE : 0;
}

static void b_chain_too_long(struct dp *d, struct gd_vq *vq)
{
	unsigned int i;

	/* every descriptor in the table, the last one pointing back to the first */
	for (i = 0; i < vq->num; i++)
		gd_vq_raw_desc(vq, i, hdr_gpa(d, vq) + 64 * i, 64,
			       VRING_DESC_F_NEXT | wflag(vq), (uint16_t)((i + 1) % vq->num));
	gd_vq_raw_avail(vq, 0);
}

static void b_loop(struct dp *d, struct gd_vq *vq)
{
	gd_vq_raw_desc(vq, 0, hdr_gpa(d, vq), 64, VRING_DESC_F_NEXT | wflag(vq), 1);
	gd_vq_raw_desc(vq, 1, hdr_gpa(d, vq) + 64, 64, VRING_DESC_F_NEXT | wflag(vq), 2);
	gd_vq_raw_desc(vq, 2, hdr_gpa(d, vq) + 128, 64, VRING_DESC_F_NEXT | wflag(vq), 1);
	gd_vq_raw_avail(vq, 0);
}

static void b_next_oob(struct dp *d, struct gd_vq *vq)
{
	gd_vq_raw_desc(vq, 0, hdr_gpa(d, vq), 64, VRING_DESC_F_NEXT | wflag(vq),
		       (uint16_t)(vq->num + 3));
	gd_vq_raw_avail(vq, 0);
}

static void b_ind_nested(struct dp *d, struct gd_vq *vq)
{
	uint64_t t1 = vq->ind_gpa, t2 = vq->ind_gpa + 1024;
	struct vring_desc *a = gd_mem_ptr(&d->mem, t1, 64), *b = gd_mem_ptr(&d->mem, t2, 32);

	a[0] = (struct vring_desc){ hdr_gpa(d, vq), 64, VRING_DESC_F_NEXT | wflag(vq), 1 };
	a[1] = (struct vring_desc){ t2, 32, VRING_DESC_F_INDIRECT, 0 };
	b[0] = (struct vring_desc){ hdr_gpa(d, vq) + 64, 64, wflag(vq), 0 };
	b[1] = b[0];
	gd_vq_raw_desc(vq, 0, t1, 32, VRING_DESC_F_INDIRECT, 0);
	gd_vq_raw_avail(vq, 0);
}

static void b_ind_len(struct dp *d, struct gd_vq *vq)
{
	struct vring_desc *a = gd_mem_ptr(&d->mem, vq->ind_gpa, 64);

	a[0] = (struct vring_desc){ hdr_gpa(d, vq), 64, VRING_DESC_F_NEXT | wflag(vq), 1 };
	a[1] = (struct vring_desc){ hdr_gpa(d, vq) + 64, 64, wflag(vq), 0 };
	gd_vq_raw_desc(vq, 0, vq->ind_gpa, 24, VRING_DESC_F_INDIRECT, 0);
	gd_vq_raw_avail(vq, 0);
}

static void b_ind_loop(struct dp *d, struct gd_vq *vq)
{
	struct vring_desc *a = gd_mem_ptr(&d->mem, vq->ind_gpa, 64);

	a[0] = (struct vring_desc){ hdr_gpa(d, vq), 64, VRING_DESC_F_NEXT | wflag(vq), 1 };
	a[1] = (struct vring_desc){ hdr_gpa(d, vq) + 64, 64, VRING_DESC_F_NEXT | wflag(vq), 0 };
	gd_vq_raw_desc(vq, 0, vq->ind_gpa, 32, VRING_DESC_F_INDIRECT, 0);
	gd_vq_raw_avail(vq, 0);
}

static void b_overflow(struct dp *d, struct gd_vq *vq)
{
	(void)d;
	/* addr + len wraps around 2^64 */
	gd_vq_raw_desc(vq, 0, ~0ull - 15, 4096, wflag(vq), 0);
	gd_vq_raw_avail(vq, 0);
}

static void b_outside(struct dp *d, struct gd_vq *vq)
{
	/* starts in region 0, runs into the gap after it */
	uint64_t end = d->mem.r[0].gpa + d->mem.r[0].size;

	gd_vq_raw_desc(vq, 0, end - 100, 1000, wflag(vq), 0);
	gd_vq_raw_avail(vq, 0);
}

static void b_in_gap(struct dp *d, struct gd_vq *vq)
{
	uint64_t end = d->mem.r[0].gpa + d->mem.r[0].size;

	gd_vq_raw_desc(vq, 0, end + 4096, 1000, wflag(vq), 0);
	gd_vq_raw_avail(vq, 0);
}

static void b_wrong_dir(struct dp *d, struct gd_vq *vq)
{
	/* TX: device-writable; RX: device-readable */
	gd_vq_raw_desc(vq, 0, hdr_gpa(d, vq), 1500,
		       vq->index == GD_TX ? VRING_DESC_F_WRITE : 0, 0);
	gd_vq_raw_avail(vq, 0);
}

static void b_head_oob(struct dp *d, struct gd_vq *vq)
{
	gd_vq_raw_desc(vq, 0, hdr_gpa(d, vq), 1500, wflag(vq), 0);
	gd_vq_raw_avail(vq, (uint16_t)vq->num);
}

static void b_avail_jump(struct dp *d, struct gd_vq *vq)
{
	unsigned int i;

	for (i = 0; i < vq->num; i++) {
		gd_vq_raw_desc(vq, i, hdr_gpa(d, vq) + 64 * i, 64, wflag(vq), 0);
		vq->avail->ring[i] = (uint16_t)i;
	}
	vq->avail_idx = (uint16_t)(vq->num + 1);
}

/*
 * After a bad or odd chain on @vq: the device's other queue still works,
 * other devices do, and re-setting @vq's ring brings it back.
 */
static int queue_aftermath(struct dp *d, struct gd_vq *vq)
{
	struct dp_traffic t;
	int r;

	dp_traffic_init(&t, vq->index == GD_RX ? 20 : 0, vq->index == GD_TX ? 20 : 0);
	t.skip_q[vq->index] = true;
	r = dp_run(d, &t);
	if (r) {
		fprintf(stderr, "the other queue stopped working\n");
		return r;
	}
	r = other_device_works();
	if (r) {
		fprintf(stderr, "another device stopped working\n");
		return r;
	}
	r = gd_vq_restart(vq, d->tap.fd);
	if (r)
		return fail("restart after: %s", gd_errname(r));
	d->tx_sent = d->tx_used = d->tx_done;
	if (vq->index == GD_RX) {
		d->rx_want_bufs = 0;
		r = dp_rx_fill(d);
		if (r)
			return r;
	}
	gd_vq_kick(vq);
	r = dp_exchange(d, 50, 50);
	if (r)
		fprintf(stderr, "the queue did not recover after a ring reset\n");
	return r;
}

static int hostile_run(const struct hostile *h)
{
	struct dp_cfg c = dp_default();
	struct dp_flow f = { .sizes = SZ_FIXED, .fixed = 200 };
	struct gd_vq *vq;
	struct dp d;
	const char *probe = NULL;
	unsigned int base;
	uint16_t used0;
	int r, errs, errs2;
	bool stalled;

	if (h->num)
		c.num = h->num;
	c.tx_buf = 2048;
	r = dp_setup(&d, &c);
	if (!r)
		r = dp_exchange(&d, 10, 10);
	if (r)
		goto out;
	vq = &d.dev.vq[h->q];
	/* a clean ring from index 0, the backend attached */
	r = gd_vq_restart(vq, d.tap.fd);
	if (r) {
		r = fail("restart before: %s", gd_errname(r));
		goto out;
	}
	gd_vq_wait_err(vq, 0);
	h->build(&d, vq);
	used0 = gd_vq_used_idx(vq);
	gd_vq_raw_set_avail_idx(vq, vq->avail_idx);
	if (h->q == GD_RX) {
		/* RX only runs with a frame to deliver */
		r = dp_rx_inject(&d, &f, DP_STALE + 1);
		if (r)
			goto out;
	}
	gd_vq_kick(vq);
	errs = gd_vq_wait_err(vq, 2000);
	msleep(200);
	gd_vq_kick(vq);
	if (h->q == GD_RX)
		dp_rx_inject(&d, &f, DP_STALE + 2);
	errs2 = gd_vq_wait_err(vq, 500);
	stalled = gd_vq_used_idx(vq) == used0;
	r = gd_vq_get_base(vq, &base);
	if (r) {
		r = fail("GET_VRING_BASE on the broken queue: %s", gd_errname(r));
		goto out;
	}
	/* does a good chain behind the bad one get through? */
	if (stalled && !h->no_probe) {
		unsigned int g = vq->num - 1;

		gd_vq_raw_desc(vq, g, hdr_gpa(&d, vq) + 4096, 1500, wflag(vq), 0);
		if (h->q == GD_TX) {
			union { struct virtio_net_hdr_mrg_rxbuf m; struct virtio_net_hdr h; } hd;

			memset(&hd, 0, sizeof(hd));
			frame_build(d.scratch, DP_STALE + 3, 1500 - (uint32_t)d.dev.hdr_len, false,
				    &hd.h);
			gd_mem_write(&d.mem, hdr_gpa(&d, vq) + 4096, &hd, d.dev.hdr_len);
			gd_mem_write(&d.mem, hdr_gpa(&d, vq) + 4096 + d.dev.hdr_len, d.scratch,
				     1500 - d.dev.hdr_len);
		}
		gd_vq_raw_avail(vq, (uint16_t)g);
		gd_vq_raw_set_avail_idx(vq, vq->avail_idx);
		gd_vq_kick(vq);
		if (h->q == GD_RX)
			dp_rx_inject(&d, &f, DP_STALE + 3);
		msleep(500);
		probe = gd_vq_used_idx(vq) != used0 ? "a good chain queued behind it WAS consumed"
						   : "a good chain queued behind it was not consumed";
	}
	behave("%s %s: err eventfd %s (again on the next kick: %s), queue %s, last_avail_idx %u -> %u%s%s",
	       h->q == GD_TX ? "TX" : "RX", h->what,
	     errs > 0 ? "signalled" : "NOT signalled", errs2 > 0 ? "yes" : "no",
	       stalled ? "stalled" : "made progress", 0, base, probe ? ", " : "", probe ? probe : "");
	if (!stalled) {
		r = fail("the device consumed a hostile chain (used idx %u -> %u)", used0,
			 gd_vq_used_idx(vq));
		goto out;
	}
	if (g_vhostx && errs <= 0) {
		r = fail("vhostx did not signal the err eventfd");
		goto out;
	}
	if (g_vhostx && probe && gd_vq_used_idx(vq) != used0) {
		r = fail("vhostx went on using a queue after a bad chain");
		goto out;
	}
	r = queue_aftermath(&d, vq);
out:
	dp_teardown(&d);
	return r;
}

#define HOSTILE(fn, q_, what_, build_, num_)					\
	static int fn(void)							\
	{									\
		static const struct hostile h = { what_, q_, num_, num_ == 64, build_ }; \
		return hostile_run(&h);						\
	}

HOSTILE(t_h_tx_chain_too_long, GD_TX, "chain longer than the ring", b_chain_too_long, 64)
HOSTILE(t_h_rx_chain_too_long, GD_RX, "chain longer than the ring", b_chain_too_long, 64)
HOSTILE(t_h_tx_loop, GD_TX, "descriptor loop", b_loop, 0)
HOSTILE(t_h_rx_loop, GD_RX, "descriptor loop", b_loop, 0)
HOSTILE(t_h_tx_next_oob, GD_TX, "next index >= num", b_next_oob, 0)
HOSTILE(t_h_tx_ind_nested, GD_TX, "indirect inside indirect", b_ind_nested, 0)
HOSTILE(t_h_rx_ind_nested, GD_RX, "indirect inside indirect", b_ind_nested, 0)
HOSTILE(t_h_tx_ind_len, GD_TX, "indirect table length not a multiple of 16", b_ind_len, 0)
HOSTILE(t_h_tx_ind_loop, GD_TX, "loop inside an indirect table", b_ind_loop, 0)
HOSTILE(t_h_tx_overflow, GD_TX, "addr+len overflow", b_overflow, 0)
HOSTILE(t_h_rx_overflow, GD_RX, "addr+len overflow", b_overflow, 0)
HOSTILE(t_h_tx_outside, GD_TX, "buffer running past the memory table", b_outside, 0)
HOSTILE(t_h_rx_outside, GD_RX, "buffer running past the memory table", b_outside, 0)
HOSTILE(t_h_tx_in_gap, GD_TX, "address in a hole of the memory table", b_in_gap, 0)
HOSTILE(t_h_tx_write_desc, GD_TX, "write-only descriptor on TX", b_wrong_dir, 0)
HOSTILE(t_h_rx_read_desc, GD_RX, "read-only descriptor on RX", b_wrong_dir, 0)
HOSTILE(t_h_tx_head_oob, GD_TX, "head index >= num", b_head_oob, 0)
HOSTILE(t_h_rx_head_oob, GD_RX, "head index >= num", b_head_oob, 0)
HOSTILE(t_h_tx_avail_jump, GD_TX, "avail idx moved by more than num", b_avail_jump, 0)
HOSTILE(t_h_rx_avail_jump, GD_RX, "avail idx moved by more than num", b_avail_jump, 0)

/*
 * Length edges (issue 16): one chain whose total length sits at an edge of
 * what a packet can be, on TX or RX, with the tap passing the header
 * (sock_hlen 12, the default) or the device handling it (vhost_hdr: the tap
 * has no header, vhost_hlen 12). Unlike the hostile cases, a device may
 * legitimately complete such a chain (as a dropped packet); the case reports
 * what each device did, and fails only when the device harms the host or the
 * rest of the device: its worker spinning, the other queue or another device
 * stopping, the queue not coming back after a ring reset.
 */
struct edge {
	const char *what;
	unsigned int q;
	bool vhost_hdr;
	/* descriptor lengths: hdr_mult * header length + add */
	unsigned int nseg;
	struct { unsigned int hdr_mult; int add; } seg[3];
	/*
	 * Segments after the first lie in a region of EDGE_FAR_SIZE at
	 * EDGE_FAR_GPA (reserved, never touched): a chain longer than 4 GiB.
	 */
	bool far;
	/* what the chain does to vhost_net's tap: run on vhostx only */
	const char *oracle_harm;
};

#define EDGE_FAR_GPA (1ULL << 44)
#define EDGE_FAR_SIZE (9ULL << 30)

static uint32_t edge_len(const struct dp *d, const struct edge *e, unsigned int i)
{
	return (uint32_t)((int)(e->seg[i].hdr_mult * d->dev.hdr_len) + e->seg[i].add);
}

/* Lay the chain out at the queue's slot 0: the header (zero) then a frame. */
static void edge_build(struct dp *d, struct gd_vq *vq, const struct edge *e)
{
	uint64_t gpa = hdr_gpa(d, vq), total = 0;
	unsigned int i;

	for (i = 0; i < (e->far ? 1 : e->nseg); i++)
		total += edge_len(d, e, i);
	if (vq->index == GD_TX && total > d->dev.hdr_len) {
		struct virtio_net_hdr h;

		memset(d->scratch, 0, d->dev.hdr_len);
		/* frame_build() needs room for its own header: copy a prefix */
		frame_build(d->scratch + d->dev.hdr_len, DP_STALE + 9,
			    (uint32_t)(total - d->dev.hdr_len < 60 ? 60 : total - d->dev.hdr_len),
			    false, &h);
		gd_mem_write(&d->mem, gpa, d->scratch, total);
	}
	for (i = 0; i < e->nseg; i++) {
		uint32_t len = edge_len(d, e, i);
		bool more = i + 1 < e->nseg;

		gd_vq_raw_desc(vq, i, gpa, len, (more ? VRING_DESC_F_NEXT : 0) | wflag(vq),
			       (uint16_t)(i + 1));
		gpa = e->far && !i ? EDGE_FAR_GPA : gpa + len;
	}
	gd_vq_raw_avail(vq, 0);
}

/* CPU time (all CPUs, in clock ticks) spent outside idle and iowait. */
static unsigned long long busy_ticks(void)
{
	unsigned long long v[8] = { 0 };
	FILE *f = fopen("/proc/stat", "r");

	if (!f)
		return 0;
	if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
		   &v[3], &v[4], &v[5], &v[6], &v[7]) != 8)
		v[0] = v[1] = v[2] = v[5] = v[6] = v[7] = 0;
	fclose(f);
	return v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
}

/* Is something burning a CPU while this process sleeps for a second? */
static bool host_spinning(void)
{
	unsigned long long t0 = busy_ticks(), hz = (unsigned long long)sysconf(_SC_CLK_TCK);

	msleep(1000);
	return busy_ticks() - t0 > hz * 6 / 10;
}

static int edge_run(const struct edge *e)
{
	struct dp_cfg c = dp_default();
	struct dp_flow f = { .sizes = SZ_FIXED, .fixed = 200 };
	struct gd_vq *vq;
	struct dp d;
	uint16_t used0, used1;
	uint32_t ulen = 0;
	bool spinning;
	int r, errs;

	if (e->oracle_harm && !g_vhostx && !getenv("DP_HARM"))
		return skip("%s", e->oracle_harm);
	c.vhost_hdr = e->vhost_hdr;
	r = dp_setup(&d, &c);
	if (!r)
		r = dp_exchange(&d, 10, 10);
	if (r)
		goto out;
	vq = &d.dev.vq[e->q];
	if (e->far) {
		r = gd_mem_add(&d.mem, EDGE_FAR_GPA, EDGE_FAR_SIZE);
		if (!r)
			r = gd_dev_set_mem(&d.dev, &d.mem);
		if (r) {
			r = fail("a %llu GiB region: %s", EDGE_FAR_SIZE >> 30, gd_errname(r));
			goto out;
		}
	}
	r = gd_vq_restart(vq, d.tap.fd);
	if (r) {
		r = fail("restart before: %s", gd_errname(r));
		goto out;
	}
	gd_vq_wait_err(vq, 0);
	edge_build(&d, vq, e);
	used0 = gd_vq_used_idx(vq);
	gd_vq_raw_set_avail_idx(vq, vq->avail_idx);
	if (e->q == GD_RX) {
		r = dp_rx_inject(&d, &f, DP_STALE + 1);
		if (r)
			goto out;
	}
	gd_vq_kick(vq);
	errs = gd_vq_wait_err(vq, 1000);
	msleep(200);
	used1 = gd_vq_used_idx(vq);
	if (used1 != used0)
		ulen = vq->used->ring[used0 & (vq->num - 1)].len;
	spinning = host_spinning();
	behave("%s %s%s: err eventfd %s, %s, worker %s",
	       e->q == GD_TX ? "TX" : "RX", e->what, e->vhost_hdr ? " (vhost_hdr)" : "",
	       errs > 0 ? "signalled" : "not signalled",
	       used1 == used0 ? "chain not completed" : "chain completed",
	       spinning ? "SPINNING" : "idle");
	if (used1 != used0)
		diag("used entries %u, first len %u", (uint16_t)(used1 - used0), ulen);
	if (g_vhostx && spinning) {
		r = fail("a CPU stayed busy after the edge chain: the worker spins on it");
		goto out;
	}
	r = queue_aftermath(&d, vq);
out:
	dp_teardown(&d);
	return r;
}

/* hdr_mult, add: the length is hdr_mult * header + add */
#define EDGE(fn, q_, vh_, what_, n_, ...)					\
	static int fn(void)							\
	{									\
		static const struct edge e = { what_, q_, vh_, n_, { __VA_ARGS__ }, false, NULL }; \
		return edge_run(&e);						\
	}

EDGE(t_e_tx_zero, GD_TX, false, "total length 0", 1, { 0, 0 })
EDGE(t_e_tx_zero_vh, GD_TX, true, "total length 0", 1, { 0, 0 })
EDGE(t_e_tx_zero_two, GD_TX, false, "two descriptors of length 0", 2, { 0, 0 }, { 0, 0 })
EDGE(t_e_tx_short, GD_TX, false, "shorter than the header", 1, { 1, -2 })
EDGE(t_e_tx_short_vh, GD_TX, true, "shorter than the header", 1, { 1, -2 })
EDGE(t_e_tx_hdr, GD_TX, false, "exactly the header", 1, { 1, 0 })
EDGE(t_e_tx_hdr_vh, GD_TX, true, "exactly the header", 1, { 1, 0 })
EDGE(t_e_tx_runt, GD_TX, false, "header and a 13-byte frame", 1, { 1, 13 })
EDGE(t_e_tx_min, GD_TX, false, "header and a 14-byte frame", 2, { 1, 0 }, { 0, 14 })
EDGE(t_e_tx_huge, GD_TX, false, "header and 64 KiB + 1", 2, { 1, 0 }, { 0, 65537 })
EDGE(t_e_tx_huge_vh, GD_TX, true, "header and 64 KiB + 1", 2, { 1, 0 }, { 0, 65537 })
/*
 * Chains longer than 4 GiB, over a huge region after a packet; both were
 * the in-VM fuzzer's finds. 8 GiB: vhostx's TX batching truncated the
 * length to 32 bits and copy_from_iter() WARNed; vhost_net's tap sends the
 * first 58 bytes (tun_can_build_skb() takes an int), vhostx drops it. 4 GiB
 * - 11 bytes of frame: tun's int length is -11 and copy_page_from_iter()
 * WARNs, which vhost_net lets a guest do to its host; vhostx drops every
 * packet over 1 MiB before the tap sees it.
 */
#define EDGE_FAR(fn, vh_, what_, harm_, ...)					\
	static int fn(void)							\
	{									\
		static const struct edge e = {					\
			what_, GD_TX, vh_, 3, { __VA_ARGS__ }, true, harm_ };	\
		return edge_run(&e);						\
	}
EDGE_FAR(t_e_tx_8g, false, "a packet then 2 x (4 GiB - 1)", NULL,
	 { 1, 60 }, { 0, -1 }, { 0, -1 })
EDGE_FAR(t_e_tx_8g_vh, true, "a packet then 2 x (4 GiB - 1)", NULL,
	 { 1, 60 }, { 0, -1 }, { 0, -1 })
#define EDGE_WRAP_HARM "vhost_net passes it to tun, whose int length wraps to -11: a WARN"
EDGE_FAR(t_e_tx_4g_wrap, false, "a frame of 4 GiB - 11 bytes", EDGE_WRAP_HARM,
	 { 1, 60 }, { 0, INT_MIN }, { 0, INT_MAX - 70 })
EDGE_FAR(t_e_tx_4g_wrap_vh, true, "a frame of 4 GiB - 11 bytes", EDGE_WRAP_HARM,
	 { 1, 60 }, { 0, INT_MIN }, { 0, INT_MAX - 70 })
EDGE(t_e_rx_zero, GD_RX, false, "buffer of length 0", 1, { 0, 0 })
EDGE(t_e_rx_short, GD_RX, false, "buffer shorter than the header", 1, { 1, -2 })
EDGE(t_e_rx_short_vh, GD_RX, true, "buffer shorter than the header", 1, { 1, -2 })
EDGE(t_e_rx_hdr, GD_RX, false, "buffer of exactly the header", 1, { 1, 0 })
EDGE(t_e_rx_hdr_vh, GD_RX, true, "buffer of exactly the header", 1, { 1, 0 })
EDGE(t_e_rx_huge, GD_RX, false, "buffer of the header and 64 KiB + 1", 2, { 1, 0 }, { 0, 65537 })

/*
 * A guest that refills its TX ring forever must not take a CPU away from
 * the host (issue 16, CVE-2019-3900's class): the worker shares CPU 0 with
 * a spinning thread of this process, the flood's driver runs on CPU 1, and
 * the spinner must still get a fair part of CPU 0 while the worker is busy.
 */
static int bench(bool tx, uint32_t size, unsigned int seconds);
static volatile bool g_spin_stop;

static void *spin_fn(void *arg)
{
	uint64_t *loops = arg;

	while (!g_spin_stop)
		(*loops)++;
	return NULL;
}

/* Loops a thread pinned to CPU 0 makes in @ms milliseconds. */
static uint64_t spin_cpu0(unsigned int ms)
{
	uint64_t loops = 0;
	pthread_attr_t a;
	pthread_t th;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	pthread_attr_init(&a);
	pthread_attr_setaffinity_np(&a, sizeof(set), &set);
	g_spin_stop = false;
	if (pthread_create(&th, &a, spin_fn, &loops)) {
		pthread_attr_destroy(&a);
		return 0;
	}
	msleep(ms);
	g_spin_stop = true;
	pthread_join(th, NULL);
	pthread_attr_destroy(&a);
	return loops;
}

/* utime + stime of thread @tid, in clock ticks. */
static uint64_t thread_ticks(pid_t tid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut = 0, st = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", tid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
			 &ut, &st) != 2)
		return 0;
	return ut + st;
}

/* The device worker of process @owner: a kthread or a thread of @owner. */
static pid_t worker_of(pid_t owner)
{
	char comm[32], dir[64];
	pid_t tid;
	int i;

	snprintf(comm, sizeof(comm), "%s-%d", g_vhostx ? "vhostx" : "vhost", owner);
	snprintf(dir, sizeof(dir), "/proc/%d/task", owner);
	for (i = 0; i < 200; i++) {
		tid = vw_find_thread("/proc", comm);
		if (!tid)
			tid = vw_find_thread(dir, comm);
		if (tid)
			return tid;
		msleep(10);
	}
	return 0;
}

static int t_flood_fair(void)
{
	uint64_t base, loaded, t0, busy;
	long hz = sysconf(_SC_CLK_TCK);
	cpu_set_t set;
	pid_t child, w;
	int st, r = 0;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		return skip("needs 2 CPUs");
	base = spin_cpu0(1000);
	child = fork();
	if (child < 0)
		return fail("fork: %s", strerror(errno));
	if (!child) {
		CPU_ZERO(&set);
		CPU_SET(1, &set);
		sched_setaffinity(0, sizeof(set), &set);
		if (!freopen("/dev/null", "w", stdout))
			_exit(1);
		_exit(bench(true, 64, 6) ? 1 : 0);
	}
	w = worker_of(child);
	if (!w) {
		r = fail("no worker thread of pid %d", child);
		goto out;
	}
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	if (sched_setaffinity(w, sizeof(set), &set)) {
		r = fail("pin worker %d to CPU 0: %s", w, strerror(errno));
		goto out;
	}
	msleep(1000);		/* the flood is on */
	t0 = thread_ticks(w);
	loaded = spin_cpu0(2000);
	busy = thread_ticks(w) - t0;
	diag("spinner on CPU 0: %llu loops/s alone, %llu with the flooded worker there (%.0f%%); the worker used %.0f%% of a CPU meanwhile",
	     (unsigned long long)base, (unsigned long long)loaded / 2,
	     base ? 100.0 * loaded / 2 / base : 0, 100.0 * busy / (2.0 * hz));
	behave("TX flood: the host %s a thread sharing the worker's CPU",
	       loaded / 2 >= base / 4 ? "still schedules" : "STARVES");
	if (busy < (uint64_t)hz / 5)
		r = fail("the flood kept the worker busy only %.0f%% of the time: inconclusive",
			 100.0 * busy / (2.0 * hz));
	else if (loaded / 2 < base / 4)
		r = fail("the spinner got under a quarter of its CPU next to the flooded worker");
out:
	if (waitpid(child, &st, 0) == child && !r && (!WIFEXITED(st) || WEXITSTATUS(st)))
		r = fail("the flood's driver failed (status %#x)", st);
	return r;
}

static int t_h_unaligned(void)
{
	struct dp_cfg c = dp_default();
	struct gd_vq *vq;
	uintptr_t de, av, us;
	struct dp d;
	int r, i;

	r = dp_setup(&d, &c);
	if (r)
		goto out;
	vq = TXQ(&d);
	de = (uintptr_t)vq->desc;
	av = (uintptr_t)vq->avail;
	us = (uintptr_t)vq->used;
	/* attached (access checked) and detached */
	for (i = 0; i < 2; i++) {
		const char *st = i ? "detached" : "attached";

		r = gd_vq_set_addr(vq, de, av + 1, us);
		if (r != -EINVAL) {
			r = fail("%s: avail at +1: %s, expected EINVAL", st, gd_errname(r));
			goto out;
		}
		r = gd_vq_set_addr(vq, de, av, us + 2);
		if (r != -EINVAL) {
			r = fail("%s: used at +2: %s, expected EINVAL", st, gd_errname(r));
			goto out;
		}
		r = gd_vq_set_addr(vq, de, av, us + 1);
		if (r != -EINVAL) {
			r = fail("%s: used at +1: %s, expected EINVAL", st, gd_errname(r));
			goto out;
		}
		r = gd_vq_set_addr(vq, de + 8, av, us);
		behave("%s: desc table only 8-byte aligned: SET_VRING_ADDR returns %s", st,
		     r ? gd_errname(r) : "0");
		r = gd_vq_set_addr(vq, de, av, us);
		if (r) {
			r = fail("%s: restoring the addresses: %s", st, gd_errname(r));
			goto out;
		}
		if (!i) {
			r = dp_detach(&d);
			if (r)
				goto out;
		}
	}
	r = dp_attach(&d);
	if (!r)
		r = dp_exchange(&d, 100, 100);
out:
	dp_teardown(&d);
	return r;
}

/* ---- bench ---- */

static int bench(bool tx, uint32_t size, unsigned int seconds)
{
	struct dp_cfg c = dp_default();
	struct dp_flow f = { .sizes = SZ_FIXED, .fixed = size };
	struct dp_traffic t;
	struct dp d;
	uint64_t t0, end, pkts;
	int r;

	c.tx_buf = size + 64;
	c.indirect = false;
	r = dp_setup(&d, &c);
	if (r)
		goto out;
	t0 = gd_now_ns();
	end = t0 + seconds * 1000000000ull;
	if (tx) {
		/* completions are the measure; nothing reads the tap */
		struct gd_vq *vq = TXQ(&d);
		uint32_t seq = 0, got;

		close(d.tap.cap);
		d.tap.cap = -1;
		while (gd_now_ns() < end) {
			bool added = false;

			while (dp_tx_one(&d, &f, seq) == 0) {
				seq++;
				added = true;
			}
			if (added)
				gd_vq_notify(vq);
			TRY(dp_tx_reap(&d, &got));
			if (!got && gd_vq_enable_cb(vq))
				gd_vq_wait_call(vq, 100);
			gd_vq_disable_cb(vq);
		}
		pkts = d.tx_used;
	} else {
		dp_traffic_init(&t, 0, 0);
		t.forever = true;
		t.rx = f;
		t.tx_n = 0;
		t.hook = NULL;
		/* run in slices so the clock is checked */
		t.forever = false;
		t.rx_win = 512;
		pkts = 0;
		while (gd_now_ns() < end) {
			t.rx_n = 2000;
			r = dp_run(&d, &t);
			if (r)
				goto out;
			pkts += 2000;
		}
	}
	/* kicks sent and interrupts (call eventfd counts) seen, per queue */
	printf("bench %s size=%u seconds=%.2f packets=%llu pps=%.0f dev=%s kicks=%llu/%llu calls=%llu/%llu\n",
	       tx ? "tx" : "rx", size, (gd_now_ns() - t0) / 1e9, (unsigned long long)pkts,
	       pkts / ((gd_now_ns() - t0) / 1e9), g_devpath,
	       (unsigned long long)RXQ(&d)->kicks, (unsigned long long)TXQ(&d)->kicks,
	       (unsigned long long)RXQ(&d)->calls, (unsigned long long)TXQ(&d)->calls);
out:
	dp_teardown(&d);
	return r;
}

/*
 * ---- bench --dev none: the same frames through the tap, no virtio ----
 *
 * The "limit" row of selftests/bench/sim.sh: what the tap itself does with
 * the frames of "bench tx|rx", with no rings, descriptors, kicks or
 * interrupts. The tap is set up exactly as dp_setup() does (IFF_VNET_HDR with
 * the 12-byte header, offloads, MTU, txqlen, the two AF_PACKET sockets).
 *
 * TX: one process builds each frame as the guest driver does (frame_build(),
 * header in front) and write()s it to the tap fd: the tap's own path into
 * the stack, which is where the device's sendmsg() ends too. Nothing reads.
 *
 * RX: the injector is the one "bench rx" uses (dp_rx_inject(): AF_PACKET
 * sendmsg on the tap, one frame at a time) and keeps at most the same 512
 * frames in flight; a second process plays device and guest at once, read()s
 * each frame from the tap fd (the one copy the device does into guest memory)
 * and checks it with frame_check() as dp_rx_reap() does. With nothing to
 * read it sleeps in poll() on the tap, as the guest sleeps on the call
 * eventfd; the injector sleeps on an eventfd that the reader bumps after
 * each drained batch. Two processes, as the virtio bench keeps two CPUs busy
 * (dp_test and the device's worker).
 */
#define DP_LIMIT_WIN 512

struct dp_limit_shared {
	uint32_t done;		/* frames the reader received and checked */
	uint32_t stop;
};

static int bench_limit_tx(struct gd_tap *tap, uint32_t size, uint64_t end,
			  uint64_t *pkts)
{
	const size_t hl = sizeof(struct virtio_net_hdr_mrg_rxbuf);
	uint8_t *buf = malloc(hl + size);
	struct virtio_net_hdr_mrg_rxbuf *h = (void *)buf;
	uint32_t seq = 0, i;

	if (!buf)
		return fail("malloc");
	*pkts = 0;
	while (gd_now_ns() < end) {
		/* the clock is read every 64 frames, as cheap as the TX loop's */
		for (i = 0; i < 64; i++, seq++) {
			memset(h, 0, hl);
			frame_build(buf + hl, seq, size, false, &h->hdr);
			if (write(tap->fd, buf, hl + size) != (ssize_t)(hl + size)) {
				free(buf);
				return fail("tap write seq %u: %s", seq, strerror(errno));
			}
			(*pkts)++;
		}
	}
	free(buf);
	return 0;
}

/* The injector of bench_limit_rx(); never returns. */
static void bench_limit_inject(struct gd_tap *tap, struct dp_limit_shared *sh, int ev,
			       uint32_t size)
{
	struct dp_flow f = { .sizes = SZ_FIXED, .fixed = size };
	uint8_t *frame = malloc(DP_BIG_MAX);
	uint32_t sent = 0;
	uint64_t v;

	if (!frame)
		_exit(1);
	while (!__atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE)) {
		bool big;

		if (sent - __atomic_load_n(&sh->done, __ATOMIC_ACQUIRE) >= DP_LIMIT_WIN) {
			struct pollfd p = { .fd = ev, .events = POLLIN };

			if (poll(&p, 1, 100) > 0 && read(ev, &v, sizeof(v)) < 0)
				_exit(1);
			continue;
		}
		/* what dp_rx_inject() does */
		frame_build(frame, sent, flow_len(&f, sent, &big), false, NULL);
		if (gd_tap_inject(tap, NULL, frame, size))
			_exit(1);
		sent++;
	}
	_exit(0);
}

static int bench_limit_rx(struct gd_tap *tap, uint32_t size, uint64_t end,
			  uint64_t *pkts)
{
	const size_t hl = sizeof(struct virtio_net_hdr_mrg_rxbuf);
	struct dp_limit_shared *sh;
	uint8_t *buf = malloc(hl + DP_BIG_MAX);
	uint32_t seq, expect = 0;
	int ev, st, r = 0;
	char why[128];
	pid_t pid;

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ev = eventfd(0, EFD_CLOEXEC);
	if (!buf || sh == MAP_FAILED || ev < 0)
		return fail("bench setup: %s", strerror(errno));
	if (fcntl(tap->fd, F_SETFL, fcntl(tap->fd, F_GETFL) | O_NONBLOCK) < 0)
		return fail("O_NONBLOCK: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		return fail("fork: %s", strerror(errno));
	if (!pid)
		bench_limit_inject(tap, sh, ev, size);
	*pkts = 0;
	while (gd_now_ns() < end) {
		uint32_t got = 0;
		ssize_t n;
		int c;

		while ((n = read(tap->fd, buf, hl + DP_BIG_MAX)) > 0) {
			if ((size_t)n < hl) {
				r = fail("tap read: %zd bytes", n);
				goto out;
			}
			c = frame_check(buf + hl, (uint32_t)(n - hl), &seq, why, sizeof(why));
			if (c > 0)
				continue;	/* not ours */
			if (c < 0 || seq != expect || n - hl != size) {
				r = fail("RX frame seq %u (expected %u), %zd bytes: %s", seq, expect,
					 n - (ssize_t)hl, c < 0 ? why : "lost, reordered or resized");
				goto out;
			}
			expect++;
			got++;
			__atomic_store_n(&sh->done, expect, __ATOMIC_RELEASE);
		}
		if (n < 0 && errno != EAGAIN) {
			r = fail("tap read: %s", strerror(errno));
			goto out;
		}
		if (got) {
			uint64_t one = 1;

			*pkts += got;
			if (write(ev, &one, sizeof(one)) < 0) {
				r = fail("eventfd: %s", strerror(errno));
				goto out;
			}
		} else {
			struct pollfd p = { .fd = tap->fd, .events = POLLIN };

			poll(&p, 1, 100);
		}
	}
out:
	__atomic_store_n(&sh->stop, 1, __ATOMIC_RELEASE);
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	close(ev);
	munmap(sh, sizeof(*sh));
	free(buf);
	return r;
}

static int bench_limit(bool tx, uint32_t size, unsigned int seconds)
{
	struct gd_tap tap;
	uint64_t t0, pkts = 0;
	int r;

	r = gd_tap_create(&tap, "dpt0", GD_TAP_VNET_HDR | GD_TAP_OFFLOAD,
			  (int)sizeof(struct virtio_net_hdr_mrg_rxbuf));
	if (r)
		return fail("tap: %s", strerror(-r));
	r = gd_tap_set_mtu(&tap, DP_BIG_MAX - 14);
	if (r) {
		gd_tap_close(&tap);
		return fail("tap mtu: %s", strerror(-r));
	}
	if (tx) {
		/* as in bench(): nothing captures the TX frames */
		close(tap.cap);
		tap.cap = -1;
	}
	t0 = gd_now_ns();
	if (tx)
		r = bench_limit_tx(&tap, size, t0 + seconds * 1000000000ull, &pkts);
	else
		r = bench_limit_rx(&tap, size, t0 + seconds * 1000000000ull, &pkts);
	if (!r)
		printf("bench %s size=%u seconds=%.2f packets=%llu pps=%.0f dev=none\n",
		       tx ? "tx" : "rx", size, (gd_now_ns() - t0) / 1e9,
		       (unsigned long long)pkts, pkts / ((gd_now_ns() - t0) / 1e9));
	gd_tap_close(&tap);
	return r;
}

/* ---- main ---- */

struct dp_case {
	const char *name;
	int (*fn)(void);
	const char *desc;
};

static const struct dp_case cases[] = {
	{ "tx_one", t_tx_one, "one packet guest -> tap" },
	{ "rx_one", t_rx_one, "one packet tap -> guest" },
	{ "tx_burst", t_tx_burst, "100k TX packets 60-1514 B and 64 KB GSO, checked, in order" },
	{ "rx_burst", t_rx_burst, "100k RX packets 60-1514 B and 64 KB, checked, in order" },
	{ "rx_mq", t_rx_mq, "multi-queue tap, one device per queue: 50k frames of 64 flows, then one at a time" },
	{ "rx_mergeable", t_rx_mergeable, "mergeable RX, frames spanning many 256-byte buffers" },
	{ "indirect", t_indirect, "indirect descriptors (every other chain), header split" },
	{ "no_indirect", t_no_indirect, "without VIRTIO_RING_F_INDIRECT_DESC" },
	{ "event_idx", t_event_idx, "with VIRTIO_RING_F_EVENT_IDX" },
	{ "no_event_idx", t_no_event_idx, "without VIRTIO_RING_F_EVENT_IDX (flags)" },
	{ "vhost_hdr", t_vhost_hdr, "VHOST_NET_F_VIRTIO_NET_HDR: the device handles the header" },
	{ "vhost_hdr_legacy", t_vhost_hdr_nomrg, "VHOST_NET_F_VIRTIO_NET_HDR, 10-byte header" },
	{ "legacy_hdr", t_legacy_hdr, "no VERSION_1, no MRG_RXBUF: 10-byte header in the tap" },
	{ "nomrg_big", t_nomrg_v1, "VERSION_1 without MRG_RXBUF, 64 KB RX buffers" },
	{ "hdr_split", t_hdr_split, "the header in its own descriptor" },
	{ "mem_regions", t_mem_regions, "four regions, a hole, buffers straddling regions" },
	{ "ring_64", t_ring_64, "ring size 64" },
	{ "ring_128", t_ring_128, "ring size 128" },
	{ "ring_256", t_ring_256, "ring size 256" },
	{ "ring_512", t_ring_512, "ring size 512" },
	{ "ring_1024", t_ring_1024, "ring size 1024" },
	{ "ring_32768", t_ring_32768, "ring size 32768 (the largest)" },
	{ "ring_invalid", t_ring_invalid, "bad ring sizes and bases are refused" },
	{ "stop_resume", t_stop_resume, "GET/SET_VRING_BASE stop and resume with traffic" },
	{ "migrate", t_migrate, "rings handed over to a new device at GET_VRING_BASE" },
	{ "backend_flap", t_backend_flap, "backend detach (fd -1) and re-attach with traffic" },
	{ "workers", t_workers, "RX and TX on workers of their own (VHOST_NEW_WORKER), moved while traffic pauses" },
	{ "vq_reset", t_vq_reset, "one queue reset and set up again from 0 (RING_RESET), the other running" },
	{ "reset_owner", t_reset_owner, "RESET_OWNER with traffic, then a full re-setup" },
	{ "owner_killed", t_owner_killed, "owner process SIGKILLed mid-traffic" },
	{ "split_workers", t_split_workers, "split_workers=Y: RX and TX on two workers from SET_OWNER, traffic; N: one" },
	{ "task_workers", t_task_workers, "workers as threads of the owner (SET_FORK_FROM_OWNER task): traffic, a second worker" },
	{ "task_owner_killed", t_task_owner_killed, "owner SIGKILLed mid-traffic, its worker a thread of it" },
	{ "close_running", t_close_running, "close the device with traffic in flight" },
	{ "log", t_log, "dirty logging on, off, on while running: RX buffers and used rings marked, nothing else" },
	{ "log_mergeable", t_log_mergeable, "dirty logging, mergeable RX over 256-byte buffers" },
	{ "log_multi_desc", t_log_multi_desc, "dirty logging, header split, indirect, buffers across regions" },
	{ "log_no_event_idx", t_log_no_event_idx, "dirty logging without EVENT_IDX, MRG_RXBUF, INDIRECT" },
	{ "log_fault", t_log_fault, "a read-only log bitmap: the queue stops (vhostx), nothing else is hurt" },
	{ "busypoll", t_busypoll, "BUSYLOOP_TIMEOUT on both queues: traffic flows, close is prompt" },
	{ "tap_deleted", t_tap_deleted, "the tap's link deleted while attached" },
	{ "devices_64", t_devices_64, "64 devices at once" },
	{ "hostile_tx_chain_too_long", t_h_tx_chain_too_long, "" },
	{ "hostile_rx_chain_too_long", t_h_rx_chain_too_long, "" },
	{ "hostile_tx_loop", t_h_tx_loop, "" },
	{ "hostile_rx_loop", t_h_rx_loop, "" },
	{ "hostile_tx_next_oob", t_h_tx_next_oob, "" },
	{ "hostile_tx_indirect_nested", t_h_tx_ind_nested, "" },
	{ "hostile_rx_indirect_nested", t_h_rx_ind_nested, "" },
	{ "hostile_tx_indirect_len", t_h_tx_ind_len, "" },
	{ "hostile_tx_indirect_loop", t_h_tx_ind_loop, "" },
	{ "hostile_tx_addr_overflow", t_h_tx_overflow, "" },
	{ "hostile_rx_addr_overflow", t_h_rx_overflow, "" },
	{ "hostile_tx_outside_mem", t_h_tx_outside, "" },
	{ "hostile_rx_outside_mem", t_h_rx_outside, "" },
	{ "hostile_tx_mem_hole", t_h_tx_in_gap, "" },
	{ "hostile_tx_write_desc", t_h_tx_write_desc, "" },
	{ "hostile_rx_read_desc", t_h_rx_read_desc, "" },
	{ "hostile_tx_head_oob", t_h_tx_head_oob, "" },
	{ "hostile_rx_head_oob", t_h_rx_head_oob, "" },
	{ "hostile_tx_avail_jump", t_h_tx_avail_jump, "" },
	{ "hostile_rx_avail_jump", t_h_rx_avail_jump, "" },
	{ "edge_tx_zero", t_e_tx_zero, "" },
	{ "edge_tx_zero_vhost_hdr", t_e_tx_zero_vh, "" },
	{ "edge_tx_zero_two", t_e_tx_zero_two, "" },
	{ "edge_tx_short", t_e_tx_short, "" },
	{ "edge_tx_short_vhost_hdr", t_e_tx_short_vh, "" },
	{ "edge_tx_hdr", t_e_tx_hdr, "" },
	{ "edge_tx_hdr_vhost_hdr", t_e_tx_hdr_vh, "" },
	{ "edge_tx_runt", t_e_tx_runt, "" },
	{ "edge_tx_min", t_e_tx_min, "" },
	{ "edge_tx_huge", t_e_tx_huge, "" },
	{ "edge_tx_huge_vhost_hdr", t_e_tx_huge_vh, "" },
	{ "edge_tx_8g", t_e_tx_8g, "" },
	{ "edge_tx_8g_vhost_hdr", t_e_tx_8g_vh, "" },
	{ "edge_tx_4g_wrap", t_e_tx_4g_wrap, "" },
	{ "edge_tx_4g_wrap_vhost_hdr", t_e_tx_4g_wrap_vh, "" },
	{ "edge_rx_zero", t_e_rx_zero, "" },
	{ "edge_rx_short", t_e_rx_short, "" },
	{ "edge_rx_short_vhost_hdr", t_e_rx_short_vh, "" },
	{ "edge_rx_hdr", t_e_rx_hdr, "" },
	{ "edge_rx_hdr_vhost_hdr", t_e_rx_hdr_vh, "" },
	{ "edge_rx_huge", t_e_rx_huge, "" },
	{ "flood_fair", t_flood_fair, "a guest flooding TX forever: the worker shares its CPU fairly" },
	{ "hostile_unaligned", t_h_unaligned, "SET_VRING_ADDR refuses unaligned avail/used" },
};

static void usage(void)
{
	fprintf(stderr,
		"usage: dp_test --dev PATH list\n"
		"       dp_test --dev PATH [--count N] run CASE\n"
		"       dp_test --dev PATH bench tx|rx [--size N] [--seconds N]\n"
		"       dp_test --dev none bench tx|rx [--size N] [--seconds N]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	uint32_t size = 64;
	unsigned int seconds = 5, i;
	int a, r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "--dev") && a + 1 < argc)
			g_devpath = argv[++a];
		else if (!strcmp(argv[a], "--size") && a + 1 < argc)
			size = (uint32_t)atoi(argv[++a]);
		else if (!strcmp(argv[a], "--seconds") && a + 1 < argc)
			seconds = (unsigned int)atoi(argv[++a]);
		else if (!strcmp(argv[a], "--count") && a + 1 < argc)
			g_burst = (uint32_t)atoi(argv[++a]);
		else if (argv[a][0] == '-')
			usage();
		else
			break;
	}
	if (a >= argc)
		usage();
	if (!strcmp(argv[a], "list")) {
		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
			printf("%s\n", cases[i].name);
		return 0;
	}
	if (!g_devpath)
		usage();
	g_vhostx = strstr(g_devpath, "vhostx") != NULL;
	g_nodev = !strcmp(g_devpath, "none");
	for (i = 0; i < sizeof(g_pat); i++)
		g_pat[i] = (uint8_t)(mix32(i * 2654435761u) >> 13);
	signal(SIGPIPE, SIG_IGN);
	if (!g_nodev && access(g_devpath, R_OK | W_OK))
		return (fprintf(stderr, "FAIL: %s: %s\n", g_devpath, strerror(errno)), KSFT_FAIL);
	r = gd_netns_private();
	if (r)
		return skip("cannot make a private network namespace: %s", strerror(-r));

	if (!strcmp(argv[a], "bench")) {
		bool tx;

		if (a + 1 >= argc || (strcmp(argv[a + 1], "tx") && strcmp(argv[a + 1], "rx")))
			usage();
		tx = !strcmp(argv[a + 1], "tx");
		for (a += 2; a < argc; a++) {
			if (!strcmp(argv[a], "--size") && a + 1 < argc)
				size = (uint32_t)atoi(argv[++a]);
			else if (!strcmp(argv[a], "--seconds") && a + 1 < argc)
				seconds = (unsigned int)atoi(argv[++a]);
			else
				usage();
		}
		if (size < 60 || size > 65000 || !seconds)
			usage();
		g_case = "bench";
		return g_nodev ? bench_limit(tx, size, seconds) : bench(tx, size, seconds);
	}
	if (g_nodev)
		usage();
	if (strcmp(argv[a], "run") || a + 1 >= argc)
		usage();
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (strcmp(cases[i].name, argv[a + 1]))
			continue;
		g_case = cases[i].name;
		r = cases[i].fn();
		return r;
	}
	fprintf(stderr, "dp_test: no case '%s'\n", argv[a + 1]);
	return 2;
}
