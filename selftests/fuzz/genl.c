// SPDX-License-Identifier: GPL-2.0
/*
 * vhx_fuzz: the "vhostx" generic netlink family, in parallel with the ioctls.
 *
 * Messages are built by hand on a raw NETLINK_GENERIC socket, so that they
 * can be wrong in every way a library would not allow: truncated attributes,
 * nla_len beyond the message, garbage nests, unknown types and commands,
 * missing attributes, a lying nlmsg_len. Every request asks for an ACK and
 * the replies are read until that ACK (or DONE, or a short timeout), so the
 * socket's queue never fills up and the thread never blocks for long.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/vhostx.h>

#include "fuzz.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define NL_MAX_IDS 16

struct nl {
	int fd;
	uint16_t family;
	uint32_t seq;
	_Atomic uint32_t ids[NL_MAX_IDS];	/* device ids the last dumps showed */
	_Atomic unsigned int nids;
	uint8_t rx[1 << 16];
};

struct msg {
	uint8_t b[4096];
	size_t len;
};

static struct nlmsghdr *msg_hdr(struct msg *m)
{
	return (struct nlmsghdr *)m->b;
}

static void msg_init(struct msg *m, uint16_t type, uint16_t flags, uint8_t cmd)
{
	struct genlmsghdr *g = (struct genlmsghdr *)(m->b + NLMSG_HDRLEN);

	memset(m->b, 0, NLMSG_HDRLEN + GENL_HDRLEN);
	msg_hdr(m)->nlmsg_type = type;
	msg_hdr(m)->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	g->cmd = cmd;
	g->version = VHOSTX_GENL_VERSION;
	m->len = NLMSG_HDRLEN + GENL_HDRLEN;
}

/* Append an attribute; payloads are small, so it always fits. */
static struct nlattr *put(struct msg *m, uint16_t type, const void *data, size_t len)
{
	struct nlattr *a = (struct nlattr *)(m->b + m->len);

	a->nla_type = type;
	a->nla_len = (uint16_t)(NLA_HDRLEN + len);
	memset((uint8_t *)a + NLA_HDRLEN, 0, NLA_ALIGN(len));
	if (data)
		memcpy((uint8_t *)a + NLA_HDRLEN, data, len);
	m->len += NLA_ALIGN(a->nla_len);
	return a;
}

static void put_u32(struct msg *m, uint16_t type, uint32_t v)
{
	put(m, type, &v, sizeof(v));
}

static void put_str(struct msg *m, uint16_t type, const char *s)
{
	put(m, type, s, strlen(s) + 1);
}

/* An attribute of a reply, bounds-checked against the message. */
static const struct nlattr *find_attr(const struct nlmsghdr *h, uint16_t type)
{
	const uint8_t *p = (const uint8_t *)h + NLMSG_HDRLEN + GENL_HDRLEN;
	const uint8_t *end = (const uint8_t *)h + h->nlmsg_len;

	while (p + NLA_HDRLEN <= end) {
		const struct nlattr *a = (const struct nlattr *)p;

		if (a->nla_len < NLA_HDRLEN || p + a->nla_len > end)
			break;
		if ((a->nla_type & NLA_TYPE_MASK) == type)
			return a;
		p += NLA_ALIGN(a->nla_len);
	}
	return NULL;
}

static uint32_t attr_u32(const struct nlattr *a)
{
	uint32_t v = 0;

	memcpy(&v, (const uint8_t *)a + NLA_HDRLEN,
	       a->nla_len - NLA_HDRLEN < 4 ? a->nla_len - NLA_HDRLEN : 4);
	return v;
}

static void nl_seen(struct nl *nl, const struct nlmsghdr *h)
{
	const struct nlattr *a = find_attr(h, VHOSTX_A_DEV_ID);

	if (h->nlmsg_type == nl->family && a)
		atomic_store(&nl->ids[atomic_fetch_add(&nl->nids, 1) % NL_MAX_IDS], attr_u32(a));
}

/*
 * Send @m (with nlmsg_len @len, which may lie) and read replies until the
 * ACK or DONE of this request, or the receive timeout. 0 or -errno.
 */
static long nl_xfer(struct nl *nl, struct msg *m, uint32_t len)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	uint32_t seq = ++nl->seq;
	int round;

	msg_hdr(m)->nlmsg_len = len;
	msg_hdr(m)->nlmsg_seq = seq;
	if (sendto(nl->fd, m->b, m->len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	for (round = 0; round < 256; round++) {
		ssize_t n = recv(nl->fd, nl->rx, sizeof(nl->rx), 0);
		struct nlmsghdr *h = (struct nlmsghdr *)nl->rx;

		if (n < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		for (; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq != seq)
				continue;	/* a late reply to an earlier request */
			if (h->nlmsg_type == NLMSG_ERROR)
				return ((struct nlmsgerr *)NLMSG_DATA(h))->error;
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			nl_seen(nl, h);
		}
	}
	return -ENOBUFS;
}

static long nl_send(struct nl *nl, struct msg *m)
{
	return nl_xfer(nl, m, (uint32_t)m->len);
}

/* ---- set-up ---- */

/* The socket and family id, once per run; NULL if there is no "vhostx". */
void *fz_nl_open(void)
{
	struct timeval tv = { .tv_usec = 50000 };
	int rcvbuf = 1 << 20;
	struct nl *nl = calloc(1, sizeof(*nl));
	const struct nlattr *a;
	struct msg m;

	if (!nl)
		return NULL;
	nl->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (nl->fd < 0 || setsockopt(nl->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(nl->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)))
		goto err;
	nl->family = GENL_ID_CTRL;
	msg_init(&m, GENL_ID_CTRL, 0, CTRL_CMD_GETFAMILY);
	put_str(&m, CTRL_ATTR_FAMILY_NAME, VHOSTX_GENL_NAME);
	msg_hdr(&m)->nlmsg_flags &= ~NLM_F_ACK;	/* the reply itself, then nothing */
	msg_hdr(&m)->nlmsg_len = (uint32_t)m.len;
	if (send(nl->fd, m.b, m.len, 0) < 0 || recv(nl->fd, nl->rx, sizeof(nl->rx), 0) < 0)
		goto err;
	a = find_attr((struct nlmsghdr *)nl->rx, CTRL_ATTR_FAMILY_ID);
	if (((struct nlmsghdr *)nl->rx)->nlmsg_type != GENL_ID_CTRL || !a)
		goto err;
	nl->family = (uint16_t)attr_u32(a);
	return nl;
err:
	if (nl->fd >= 0)
		close(nl->fd);
	free(nl);
	return NULL;
}

void fz_nl_close(void *priv)
{
	struct nl *nl = priv;

	if (!nl)
		return;
	close(nl->fd);
	free(nl);
}

/* ---- argument helpers ---- */

static uint32_t pick_id(struct fz_thread *t, struct nl *nl)
{
	unsigned int n = atomic_load(&nl->nids);

	if (n && !rng_bad(&t->rng))
		return atomic_load(&nl->ids[rng_below(&t->rng, n < NL_MAX_IDS ? n : NL_MAX_IDS)]);
	return (uint32_t[]){ 0, (uint32_t)rng_below(&t->rng, 16), ~0u }[rng_below(&t->rng, 3)];
}

static const char *pick_cpus(struct fz_thread *t)
{
	static const char *good[] = { "0", "1", "0-1", "0,1" };
	static const char *bad[] = { "", "x", "0-", "1-0", "4095", "0-100000", "0,,1", "-1" };
	static char longest[1100];

	if (!rng_bad(&t->rng))
		return good[rng_below(&t->rng, ARRAY_SIZE(good))];
	if (rng_pct(&t->rng, 20)) {	/* beyond the policy's 1024 */
		memset(longest, '0', sizeof(longest) - 1);
		return longest;
	}
	return bad[rng_below(&t->rng, ARRAY_SIZE(bad))];
}

/* ---- the ops ---- */

static long nl_dump(struct fz_thread *t, struct fz_rec *r)
{
	struct nl *nl = t->priv;
	struct msg m;

	msg_init(&m, nl->family, NLM_F_DUMP, VHOSTX_CMD_DEV_GET);
	r->a[0] = rng_pct(&t->rng, 20);
	if (r->a[0])	/* an attribute a dump does not take */
		put_u32(&m, VHOSTX_A_DEV_ID, pick_id(t, nl));
	return nl_send(nl, &m);
}

static long nl_get(struct fz_thread *t, struct fz_rec *r)
{
	struct nl *nl = t->priv;
	struct msg m;

	msg_init(&m, nl->family, 0, VHOSTX_CMD_DEV_GET);
	r->a[0] = pick_id(t, nl);
	if (!rng_pct(&t->rng, 10))
		put_u32(&m, VHOSTX_A_DEV_ID, (uint32_t)r->a[0]);
	return nl_send(nl, &m);
}

static long nl_set(struct fz_thread *t, struct fz_rec *r)
{
	struct nl *nl = t->priv;
	bool bad = rng_bad(&t->rng);
	struct msg m;

	msg_init(&m, nl->family, 0, VHOSTX_CMD_DEV_SET);
	put_u32(&m, VHOSTX_A_DEV_ID, pick_id(t, nl));
	r->a[0] = bad ? (uint32_t[]){ 1000000, 1000001, ~0u }[rng_below(&t->rng, 3)]
		      : rng_below(&t->rng, 100);
	r->a[1] = bad ? (uint32_t[]){ 0, ~0u }[rng_below(&t->rng, 2)] : 1 + rng_below(&t->rng, 4096);
	r->a[2] = bad ? (uint32_t[]){ 0, ~0u }[rng_below(&t->rng, 2)] : 1 + rng_below(&t->rng, 1 << 20);
	if (rng_pct(&t->rng, 60))
		put_u32(&m, VHOSTX_A_DEV_BUSYPOLL_US, (uint32_t)r->a[0]);
	if (rng_pct(&t->rng, 60))
		put_u32(&m, VHOSTX_A_DEV_WEIGHT_PACKETS, (uint32_t)r->a[1]);
	if (rng_pct(&t->rng, 60))
		put_u32(&m, VHOSTX_A_DEV_WEIGHT_BYTES, (uint32_t)r->a[2]);
	return nl_send(nl, &m);
}

static long nl_worker_set(struct fz_thread *t, struct fz_rec *r)
{
	struct nl *nl = t->priv;
	struct msg m;

	msg_init(&m, nl->family, 0, VHOSTX_CMD_WORKER_SET);
	r->a[0] = pick_id(t, nl);
	r->a[1] = rng_pct(&t->rng, 80) ? rng_below(&t->rng, 4) : (uint32_t)rng_next(&t->rng);
	put_u32(&m, VHOSTX_A_DEV_ID, (uint32_t)r->a[0]);
	put_u32(&m, VHOSTX_A_DEV_WORKER_ID, (uint32_t)r->a[1]);
	put_str(&m, VHOSTX_A_DEV_WORKER_CPUS, pick_cpus(t));
	return nl_send(nl, &m);
}

/* A request of a valid shape with one thing wrong in it. */
static long nl_malformed(struct fz_thread *t, struct fz_rec *r)
{
	static const uint8_t cmds[] = { VHOSTX_CMD_UNSPEC, VHOSTX_CMD_DEV_GET, VHOSTX_CMD_DEV_SET,
					VHOSTX_CMD_QUEUE_BROKEN, VHOSTX_CMD_WORKER_SET };
	struct nl *nl = t->priv;
	uint32_t len;
	struct nlattr *a;
	struct msg m;
	size_t i, n;

	msg_init(&m, nl->family, 0, cmds[rng_below(&t->rng, ARRAY_SIZE(cmds))]);
	put_u32(&m, VHOSTX_A_DEV_ID, pick_id(t, nl));
	len = (uint32_t)m.len;
	r->a[0] = rng_below(&t->rng, 9);
	r->a[1] = ((struct genlmsghdr *)(m.b + NLMSG_HDRLEN))->cmd;
	switch (r->a[0]) {
	case 0:		/* attribute shorter than its own header */
		a = put(&m, VHOSTX_A_DEV_BUSYPOLL_US, NULL, 4);
		a->nla_len = (uint16_t)rng_below(&t->rng, NLA_HDRLEN);
		len = (uint32_t)m.len;
		break;
	case 1:		/* nla_len beyond the message */
		a = put(&m, VHOSTX_A_DEV_WEIGHT_BYTES, NULL, 4);
		a->nla_len = (uint16_t)(NLA_HDRLEN + 4 + 1 + rng_below(&t->rng, 4000));
		len = (uint32_t)m.len;
		break;
	case 2:		/* unknown attribute types */
		put_u32(&m, (uint16_t)(VHOSTX_A_DEV_MAX + 1 + rng_below(&t->rng, NLA_TYPE_MASK - VHOSTX_A_DEV_MAX)),
			(uint32_t)rng_next(&t->rng));
		len = (uint32_t)m.len;
		break;
	case 3:		/* a nest full of garbage */
		n = 4 * (1 + rng_below(&t->rng, 64));
		a = put(&m, VHOSTX_A_DEV_QUEUES | NLA_F_NESTED, NULL, n);
		for (i = 0; i < n; i += 4)
			*(uint32_t *)((uint8_t *)a + NLA_HDRLEN + i) = (uint32_t)rng_next(&t->rng);
		len = (uint32_t)m.len;
		break;
	case 4:		/* a command nobody has */
		((struct genlmsghdr *)(m.b + NLMSG_HDRLEN))->cmd = (uint8_t)(VHOSTX_CMD_MAX + 1 +
							rng_below(&t->rng, 255 - VHOSTX_CMD_MAX));
		break;
	case 5:		/* wrong sizes: u32 as 1, 2 or 8 bytes; a string without its NUL */
		put(&m, VHOSTX_A_DEV_WEIGHT_PACKETS, t->buf, (size_t[]){ 1, 2, 8 }[rng_below(&t->rng, 3)]);
		put(&m, VHOSTX_A_DEV_WORKER_CPUS, "0-1", 3);
		len = (uint32_t)m.len;
		break;
	case 6:		/* nlmsg_len lies */
		len = (uint32_t[]){ 0, NLMSG_HDRLEN - 1, NLMSG_HDRLEN, (uint32_t)m.len - 3,
				    (uint32_t)m.len + 64 }[rng_below(&t->rng, 5)];
		break;
	case 7:		/* random bytes after the genl header */
		n = 4 * rng_below(&t->rng, 128);
		for (i = 0; i < n; i += 8)
			*(uint64_t *)(m.b + NLMSG_HDRLEN + GENL_HDRLEN + i) = rng_next(&t->rng);
		m.len = NLMSG_HDRLEN + GENL_HDRLEN + n;
		len = (uint32_t)m.len;
		break;
	default:	/* genl version and reserved field */
		((struct genlmsghdr *)(m.b + NLMSG_HDRLEN))->version = (uint8_t)rng_next(&t->rng);
		((struct genlmsghdr *)(m.b + NLMSG_HDRLEN))->reserved = (uint16_t)rng_next(&t->rng);
		break;
	}
	return nl_xfer(nl, &m, len);
}

#define NLOP(n, a, w) { #n, a, w, n, { 0 } }

struct fz_op fz_nl_ops[] = {
	NLOP(nl_dump, "extra", 3),
	NLOP(nl_get, "id", 3),
	NLOP(nl_set, "busypoll,wpkts,wbytes", 3),
	NLOP(nl_worker_set, "id,worker", 2),
	NLOP(nl_malformed, "kind,cmd", 4),
};
const unsigned int fz_nnl_ops = ARRAY_SIZE(fz_nl_ops);

/* Until the op threads are done: the round's netlink traffic. */
void *fz_netlink(void *arg)
{
	struct fz_thread *t = arg;

	while (!atomic_load(&t->w->stop))
		fz_do(t, fz_pick(t, fz_nl_ops, fz_nnl_ops));
	return NULL;
}
