// SPDX-License-Identifier: GPL-2.0
/*
 * nl_test: the management-plane helper of selftests/ctl/suite.sh.
 *
 * It talks raw generic netlink to the "vhostx" family (no libnl: every byte
 * of a malformed request is ours) and plays a guest with selftests/lib's
 * guestdrv, so the suite can compare what the module reports with what was
 * really sent.
 *
 *   nl_test family                 family id and the "events" group id
 *   nl_test dump                   DEV_GET dump: devices, ids, message parts
 *   nl_test malformed list|NAME    one malformed request; must be refused
 *   nl_test open N                 open N devices, hold them
 *   nl_test traffic [--tx N] [--rx N] [--size S|mixed|big] [--num R]
 *                   [--window W] [--no-event-idx] [--split-workers]
 *                                  one device, N frames each way, hold it;
 *                                  --split-workers: RX on worker 1, and
 *                                  "pin" then wait for a line before traffic
 *   nl_test hostile                one device; on "go" break its TX queue
 *                                  (head index >= num), check the event
 *
 * Commands that hold devices print "ready" once they are set up, keep the
 * devices until standard input reaches end of file, and print "done" after
 * closing them. "key=value" lines carry results for the suite. Exit status:
 * 0 pass, 1 fail, 4 skip (kselftest).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/vhost.h>
#include <linux/vhostx.h>

#include "guestdrv.h"

#define KSFT_PASS 0
#define KSFT_FAIL 1
#define KSFT_SKIP 4

/* Extended ACK attributes that older UAPI headers lack. */
#ifndef NLMSGERR_ATTR_MISS_TYPE
#define NLMSGERR_ATTR_POLICY 4
#define NLMSGERR_ATTR_MISS_TYPE 5
#define NLMSGERR_ATTR_MISS_NEST 6
#endif
#ifndef NL_POLICY_TYPE_ATTR_MIN_VALUE_U
#define NL_POLICY_TYPE_ATTR_MIN_VALUE_U 4
#define NL_POLICY_TYPE_ATTR_MAX_VALUE_U 5
#endif
#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

#define NT_ETHERTYPE	0x88b5		/* IEEE local experimental */
#define NT_MAGIC	0x4e4c5431u	/* "NLT1" */
#define NT_BUF		2048		/* bytes per RX buffer (mergeable) */
#define NT_TX_SLOT	16384		/* bytes per TX slot: header and frame */
#define NT_MTU		9000		/* the tap's: frames up to 9014 bytes */
#define NT_BIG_MAX	9000		/* --size big: 60..9000 bytes */
#define NT_SIZE_MIXED	0		/* --size mixed: 60..1514 bytes */
#define NT_SIZE_BIG	UINT32_MAX

static const char *g_devpath = "/dev/vhostx-net";
static const uint8_t mac_guest[6] = { 0x02, 0x56, 0x48, 0x58, 0x01, 0x01 };
static const uint8_t mac_host[6] = { 0x02, 0x56, 0x48, 0x58, 0x01, 0x02 };

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("FAIL: ", stderr);
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

	fflush(stdout);
	fputs("SKIP: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return KSFT_SKIP;
}

#define TRY(expr) do { int __r = (expr); if (__r) return __r; } while (0)

static uint32_t mix32(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352d;
	x ^= x >> 15;
	x *= 0x846ca68b;
	x ^= x >> 16;
	return x;
}

/* ---- raw generic netlink ---- */

struct nl_req {
	union {
		struct nlmsghdr nh;
		uint8_t buf[4096];
	};
};

static struct genlmsghdr *req_genl(struct nl_req *r)
{
	return NLMSG_DATA(&r->nh);
}

static void req_init(struct nl_req *r, uint16_t family, uint16_t flags, uint8_t cmd)
{
	static uint32_t seq = 1;

	memset(r, 0, sizeof(*r));
	r->nh.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
	r->nh.nlmsg_type = family;
	r->nh.nlmsg_flags = NLM_F_REQUEST | flags;
	r->nh.nlmsg_seq = seq++;
	req_genl(r)->cmd = cmd;
	req_genl(r)->version = VHOSTX_GENL_VERSION;
}

static void req_put(struct nl_req *r, uint16_t type, const void *data, uint16_t len)
{
	struct nlattr *a = (struct nlattr *)(r->buf + NLMSG_ALIGN(r->nh.nlmsg_len));

	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + len;
	memcpy((uint8_t *)a + NLA_HDRLEN, data, len);
	r->nh.nlmsg_len = NLMSG_ALIGN(r->nh.nlmsg_len) + NLA_ALIGN(a->nla_len);
}

static void req_put_u32(struct nl_req *r, uint16_t type, uint32_t v)
{
	req_put(r, type, &v, sizeof(v));
}

/* Attributes: first, next, and a lookup by type. */
static struct nlattr *attr_first(const void *data, int len, int *rem)
{
	*rem = len;
	return (struct nlattr *)data;
}

static bool attr_ok(const struct nlattr *a, int rem)
{
	return rem >= (int)sizeof(*a) && a->nla_len >= sizeof(*a) && a->nla_len <= rem;
}

static struct nlattr *attr_next(const struct nlattr *a, int *rem)
{
	int l = NLA_ALIGN(a->nla_len);

	*rem -= l;
	return (struct nlattr *)((const uint8_t *)a + l);
}

#define for_each_attr(a, data, len, rem) \
	for (a = attr_first(data, len, &rem); attr_ok(a, rem); a = attr_next(a, &rem))

static void *attr_data(const struct nlattr *a)
{
	return (uint8_t *)a + NLA_HDRLEN;
}

static int attr_len(const struct nlattr *a)
{
	return a->nla_len - NLA_HDRLEN;
}

static const struct nlattr *attr_find(const void *data, int len, int type)
{
	struct nlattr *a;
	int rem;

	for_each_attr(a, data, len, rem)
		if ((a->nla_type & NLA_TYPE_MASK) == type)
			return a;
	return NULL;
}

static bool attr_u32(const void *data, int len, int type, uint32_t *v)
{
	const struct nlattr *a = attr_find(data, len, type);

	if (!a || attr_len(a) < 4)
		return false;
	memcpy(v, attr_data(a), 4);
	return true;
}

/* What the kernel answered: the error and its extended ACK. */
struct nl_ack {
	int error;			/* positive errno, 0 for an ACK */
	char msg[256];			/* NLMSGERR_ATTR_MSG, "" if none */
	int64_t offs;			/* NLMSGERR_ATTR_OFFS, -1 if none */
	int64_t miss_type;		/* NLMSGERR_ATTR_MISS_TYPE, -1 if none */
	bool has_range;			/* NLMSGERR_ATTR_POLICY with a range */
	uint64_t min, max;
};

static void ack_tlvs(struct nl_ack *ack, const void *data, int len)
{
	struct nlattr *a, *p;
	int rem, prem;

	for_each_attr(a, data, len, rem) {
		switch (a->nla_type & NLA_TYPE_MASK) {
		case NLMSGERR_ATTR_MSG:
			snprintf(ack->msg, sizeof(ack->msg), "%.*s", attr_len(a),
				 (const char *)attr_data(a));
			break;
		case NLMSGERR_ATTR_OFFS:
			if (attr_len(a) >= 4)
				ack->offs = *(uint32_t *)attr_data(a);
			break;
		case NLMSGERR_ATTR_MISS_TYPE:
			if (attr_len(a) >= 4)
				ack->miss_type = *(uint32_t *)attr_data(a);
			break;
		case NLMSGERR_ATTR_POLICY:
			for_each_attr(p, attr_data(a), attr_len(a), prem) {
				uint64_t v = 0;

				if (attr_len(p) != 8)
					continue;
				memcpy(&v, attr_data(p), 8);
				if ((p->nla_type & NLA_TYPE_MASK) == NL_POLICY_TYPE_ATTR_MIN_VALUE_U) {
					ack->min = v;
					ack->has_range = true;
				} else if ((p->nla_type & NLA_TYPE_MASK) ==
					   NL_POLICY_TYPE_ATTR_MAX_VALUE_U) {
					ack->max = v;
					ack->has_range = true;
				}
			}
			break;
		}
	}
}

static int nl_open(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int fd, one = 1, big = 1 << 20;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

typedef void (*nl_msg_fn)(const struct nlmsghdr *nh, void *arg);

/*
 * Send r, hand every reply to fn, stop at the ACK, the error or NLMSG_DONE.
 * *parts counts the recv() calls that brought replies (a dump's parts).
 * Returns 0 with *ack filled in, or a negative errno for a socket failure.
 */
static int nl_transact(int fd, struct nl_req *r, nl_msg_fn fn, void *arg, struct nl_ack *ack,
		       unsigned int *parts)
{
	static uint8_t buf[1 << 16];
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };

	memset(ack, 0, sizeof(*ack));
	ack->offs = ack->miss_type = -1;
	if (parts)
		*parts = 0;
	if (sendto(fd, r->buf, r->nh.nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		struct nlmsghdr *nh;
		bool data = false;
		ssize_t n;
		int len;

		if (poll(&p, 1, 10000) <= 0)
			return -ETIMEDOUT;
		n = recv(fd, buf, sizeof(buf), MSG_TRUNC);
		if (n < 0)
			return -errno;
		if ((size_t)n > sizeof(buf))
			return -EMSGSIZE;
		len = (int)n;
		for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, len); nh = NLMSG_NEXT(nh, len)) {
			if (nh->nlmsg_seq != r->nh.nlmsg_seq)
				continue;
			if (nh->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(nh);
				size_t off = NLMSG_HDRLEN + sizeof(*e);

				ack->error = -e->error;
				if (!(nh->nlmsg_flags & NLM_F_CAPPED))
					off += NLMSG_ALIGN(e->msg.nlmsg_len) - NLMSG_HDRLEN;
				if ((nh->nlmsg_flags & NLM_F_ACK_TLVS) && off < nh->nlmsg_len)
					ack_tlvs(ack, (uint8_t *)nh + off, (int)(nh->nlmsg_len - off));
				return 0;
			}
			if (nh->nlmsg_type == NLMSG_DONE) {
				int err = 0;

				if (nh->nlmsg_len >= NLMSG_LENGTH(sizeof(int)))
					memcpy(&err, NLMSG_DATA(nh), sizeof(int));
				ack->error = -err;
				if ((nh->nlmsg_flags & NLM_F_ACK_TLVS) &&
				    nh->nlmsg_len > NLMSG_LENGTH(sizeof(int)))
					ack_tlvs(ack, (uint8_t *)NLMSG_DATA(nh) + sizeof(int),
						 (int)(nh->nlmsg_len - NLMSG_LENGTH(sizeof(int))));
				return 0;
			}
			data = true;
			if (fn)
				fn(nh, arg);
		}
		if (data && parts)
			(*parts)++;
	}
}

struct family {
	uint16_t id;
	uint32_t events;		/* multicast group id, 0 if not found */
};

static void family_parse(const struct nlmsghdr *nh, void *arg)
{
	struct family *f = arg;
	const void *attrs = (const uint8_t *)NLMSG_DATA(nh) + GENL_HDRLEN;
	int len = (int)(nh->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN));
	const struct nlattr *a, *grps;
	struct nlattr *g;
	int rem;

	a = attr_find(attrs, len, CTRL_ATTR_FAMILY_ID);
	if (a && attr_len(a) >= 2)
		f->id = *(uint16_t *)attr_data(a);
	grps = attr_find(attrs, len, CTRL_ATTR_MCAST_GROUPS);
	if (!grps)
		return;
	for_each_attr(g, attr_data(grps), attr_len(grps), rem) {
		const struct nlattr *name = attr_find(attr_data(g), attr_len(g),
						      CTRL_ATTR_MCAST_GRP_NAME);
		uint32_t id;

		if (name && !strcmp(attr_data(name), VHOSTX_MCGRP_EVENTS) &&
		    attr_u32(attr_data(g), attr_len(g), CTRL_ATTR_MCAST_GRP_ID, &id))
			f->events = id;
	}
}

/* The "vhostx" family; skip when the module is not loaded. */
static int family_get(int fd, struct family *f)
{
	struct nl_req r;
	struct nl_ack ack;
	int e;

	memset(f, 0, sizeof(*f));
	req_init(&r, GENL_ID_CTRL, NLM_F_ACK, CTRL_CMD_GETFAMILY);
	req_genl(&r)->version = 1;
	req_put(&r, CTRL_ATTR_FAMILY_NAME, VHOSTX_GENL_NAME, sizeof(VHOSTX_GENL_NAME));
	e = nl_transact(fd, &r, family_parse, f, &ack, NULL);
	if (e)
		return fail("CTRL_CMD_GETFAMILY: %s", strerror(-e));
	if (ack.error == ENOENT)
		return skip("no generic netlink family " VHOSTX_GENL_NAME ": module not loaded");
	if (ack.error || !f->id)
		return fail("CTRL_CMD_GETFAMILY " VHOSTX_GENL_NAME ": %s", strerror(ack.error));
	if (!f->events)
		return fail("family " VHOSTX_GENL_NAME " has no \"" VHOSTX_MCGRP_EVENTS "\" group");
	return 0;
}

/* ---- DEV_GET dump ---- */

#define MAX_DEVS 65536

struct dump {
	unsigned int n;
	uint32_t id[MAX_DEVS];
	uint32_t owner[MAX_DEVS];
	unsigned int bad;		/* messages without an id */
};

static void dump_parse(const struct nlmsghdr *nh, void *arg)
{
	struct dump *d = arg;
	const void *attrs = (const uint8_t *)NLMSG_DATA(nh) + GENL_HDRLEN;
	int len = (int)(nh->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN));
	uint32_t id, owner = 0;

	if (!attr_u32(attrs, len, VHOSTX_A_DEV_ID, &id) || d->n >= MAX_DEVS) {
		d->bad++;
		return;
	}
	attr_u32(attrs, len, VHOSTX_A_DEV_OWNER_PID, &owner);
	d->id[d->n] = id;
	d->owner[d->n] = owner;
	d->n++;
}

static int dump_devices(int fd, const struct family *f, struct dump *d, unsigned int *parts)
{
	struct nl_req r;
	struct nl_ack ack;
	int e;

	memset(d, 0, sizeof(*d));
	req_init(&r, f->id, NLM_F_DUMP, VHOSTX_CMD_DEV_GET);
	e = nl_transact(fd, &r, dump_parse, d, &ack, parts);
	if (e)
		return fail("DEV_GET dump: %s", strerror(-e));
	if (ack.error)
		return fail("DEV_GET dump: %s%s%s", strerror(ack.error), ack.msg[0] ? ": " : "",
			    ack.msg);
	if (d->bad)
		return fail("DEV_GET dump: %u messages without a device id", d->bad);
	return 0;
}

static int cmd_family(void)
{
	struct family f;
	int fd = nl_open();

	if (fd < 0)
		return fail("netlink socket: %s", strerror(-fd));
	TRY(family_get(fd, &f));
	printf("family=%u events_group=%u\n", f.id, f.events);
	close(fd);
	return 0;
}

static int cmd_dump(void)
{
	static struct dump d;
	struct family f;
	unsigned int parts, i;
	int fd = nl_open();

	if (fd < 0)
		return fail("netlink socket: %s", strerror(-fd));
	TRY(family_get(fd, &f));
	TRY(dump_devices(fd, &f, &d, &parts));
	printf("devices=%u parts=%u\n", d.n, parts);
	printf("ids=");
	for (i = 0; i < d.n; i++)
		printf("%s%u", i ? "," : "", d.id[i]);
	printf("\n");
	close(fd);
	return 0;
}

/* ---- malformed requests ---- */

struct bad_req {
	const char *name;
	const char *what;
	void (*build)(struct nl_req *r, uint16_t family);
	int err[3];			/* acceptable errnos; 0 ends the list */
	bool extack;			/* the kernel explains (message or missing type) */
	int64_t miss_type;		/* expected NLMSGERR_ATTR_MISS_TYPE, -1: none */
	int64_t bad_attr;		/* type of the attribute OFFS points at, -1: any */
};

/* A device id nobody has: DEV_SET requests that get through fail ENODEV. */
#define NO_DEV 0x7ffffff0u

static void b_get_no_id(struct nl_req *r, uint16_t fam)
{
	req_init(r, fam, NLM_F_ACK, VHOSTX_CMD_DEV_GET);
}

static void b_get_id_short(struct nl_req *r, uint16_t fam)
{
	uint16_t v = 1;

	req_init(r, fam, NLM_F_ACK, VHOSTX_CMD_DEV_GET);
	req_put(r, VHOSTX_A_DEV_ID, &v, sizeof(v));
}

static void b_get_id_u64(struct nl_req *r, uint16_t fam)
{
	uint64_t v = 1;

	req_init(r, fam, NLM_F_ACK, VHOSTX_CMD_DEV_GET);
	req_put(r, VHOSTX_A_DEV_ID, &v, sizeof(v));
}

static void b_get_id_string(struct nl_req *r, uint16_t fam)
{
	req_init(r, fam, NLM_F_ACK, VHOSTX_CMD_DEV_GET);
	req_put(r, VHOSTX_A_DEV_ID, "1", 2);
}

static void b_set_weight_u16(struct nl_req *r, uint16_t fam)
{
	uint16_t v = 64;

	req_init(r, fam, NLM_F_ACK, VHOSTX_CMD_DEV_SET);
	req_put_u32(r, VHOSTX_A_DEV_ID, NO_DEV);
	req_put(r, VHOSTX_A_DEV_WEIGHT_PACKETS, &v, sizeof(v));
}

static void b_set_busypoll_big(struct nl_req *r, uint16_t fam)
{
	req_init(r, fam, NLM_F_ACK, VHOSTX_CMD_DEV_SET);
	req_put_u32(r, VHOSTX_A_DEV_ID, NO_DEV);
	req_put_u32(r, VHOSTX_A_DEV_BUSYPOLL_US, 1000001);
}

static void b_set_busypoll_max(struct nl_req *r, uint16_t fam)
{
	req_init(r, fam, NLM_F_ACK, VHOSTX_CMD_DEV_SET);
	req_put_u32(r, VHOSTX_A_DEV_ID, NO_DEV);
	req_put_u32(r, VHOSTX_A_DEV_BUSYPOLL_US, 1000000);
}

static void b_set_weight_packets_0(struct nl_req *r, uint16_t fam)
{
	req_init(r, fam, NLM_F_ACK, VHOSTX_CMD_DEV_SET);
	req_put_u32(r, VHOSTX_A_DEV_ID, NO_DEV);
	req_put_u32(r, VHOSTX_A_DEV_WEIGHT_PACKETS, 0);
}

static void b_set_weight_bytes_0(struct nl_req *r, uint16_t fam)
{
	req_init(r, fam, NLM_F_ACK, VHOSTX_CMD_DEV_SET);
	req_put_u32(r, VHOSTX_A_DEV_ID, NO_DEV);
	req_put_u32(r, VHOSTX_A_DEV_WEIGHT_BYTES, 0);
}

static void b_set_no_id(struct nl_req *r, uint16_t fam)
{
	req_init(r, fam, NLM_F_ACK, VHOSTX_CMD_DEV_SET);
	req_put_u32(r, VHOSTX_A_DEV_BUSYPOLL_US, 10);
}

static void b_get_unknown_attr(struct nl_req *r, uint16_t fam)
{
	req_init(r, fam, NLM_F_ACK, VHOSTX_CMD_DEV_GET);
	req_put_u32(r, VHOSTX_A_DEV_ID, NO_DEV);
	req_put_u32(r, 42, 7);
}

static void b_get_unspec_attr(struct nl_req *r, uint16_t fam)
{
	req_init(r, fam, NLM_F_ACK, VHOSTX_CMD_DEV_GET);
	req_put_u32(r, VHOSTX_A_DEV_UNSPEC, 7);
	req_put_u32(r, VHOSTX_A_DEV_ID, NO_DEV);
}

static void b_unknown_cmd(struct nl_req *r, uint16_t fam)
{
	req_init(r, fam, NLM_F_ACK, 99);
	req_put_u32(r, VHOSTX_A_DEV_ID, NO_DEV);
}

static void b_event_cmd(struct nl_req *r, uint16_t fam)
{
	req_init(r, fam, NLM_F_ACK, VHOSTX_CMD_QUEUE_BROKEN);
	req_put_u32(r, VHOSTX_A_QUEUE_DEV_ID, NO_DEV);
}

static void b_get_missing_dev(struct nl_req *r, uint16_t fam)
{
	req_init(r, fam, NLM_F_ACK, VHOSTX_CMD_DEV_GET);
	req_put_u32(r, VHOSTX_A_DEV_ID, NO_DEV);
}

static void b_truncated(struct nl_req *r, uint16_t fam)
{
	req_init(r, fam, NLM_F_ACK, VHOSTX_CMD_DEV_GET);
	r->nh.nlmsg_len = NLMSG_LENGTH(2);	/* half a genlmsghdr */
}

static const struct bad_req bad_reqs[] = {
	{ "get_no_id", "DEV_GET do without VHOSTX_A_DEV_ID", b_get_no_id,
	  { EINVAL }, true, VHOSTX_A_DEV_ID, -1 },
	{ "set_no_id", "DEV_SET without VHOSTX_A_DEV_ID", b_set_no_id,
	  { EINVAL }, true, VHOSTX_A_DEV_ID, -1 },
	{ "get_id_u16", "DEV_GET with a 2-byte id (u32 expected)", b_get_id_short,
	  { EINVAL, ERANGE }, true, -1, VHOSTX_A_DEV_ID },
	{ "get_id_u64", "DEV_GET with an 8-byte id (u32 expected)", b_get_id_u64,
	  { EINVAL, ERANGE }, true, -1, VHOSTX_A_DEV_ID },
	{ "get_id_string", "DEV_GET with the id as the string \"1\"", b_get_id_string,
	  { EINVAL, ERANGE }, true, -1, VHOSTX_A_DEV_ID },
	{ "set_weight_u16", "DEV_SET with a 2-byte weight-packets", b_set_weight_u16,
	  { EINVAL, ERANGE }, true, -1, VHOSTX_A_DEV_WEIGHT_PACKETS },
	{ "set_busypoll_1000001", "DEV_SET busypoll-us 1000001 (max 1000000)", b_set_busypoll_big,
	  { ERANGE, EINVAL }, true, -1, VHOSTX_A_DEV_BUSYPOLL_US },
	{ "set_weight_packets_0", "DEV_SET weight-packets 0 (min 1)", b_set_weight_packets_0,
	  { ERANGE, EINVAL }, true, -1, VHOSTX_A_DEV_WEIGHT_PACKETS },
	{ "set_weight_bytes_0", "DEV_SET weight-bytes 0 (min 1)", b_set_weight_bytes_0,
	  { ERANGE, EINVAL }, true, -1, VHOSTX_A_DEV_WEIGHT_BYTES },
	{ "get_unknown_attr", "DEV_GET with attribute type 42", b_get_unknown_attr,
	  { EINVAL }, true, -1, 42 },
	{ "get_unspec_attr", "DEV_GET with attribute type 0", b_get_unspec_attr,
	  { EINVAL }, true, -1, VHOSTX_A_DEV_UNSPEC },
	{ "unknown_cmd", "command 99", b_unknown_cmd,
	  { EOPNOTSUPP }, false, -1, -1 },
	{ "event_cmd", "VHOSTX_CMD_QUEUE_BROKEN as a request (notification only)", b_event_cmd,
	  { EOPNOTSUPP }, false, -1, -1 },
	{ "truncated", "nlmsg_len shorter than the generic netlink header", b_truncated,
	  { EINVAL }, false, -1, -1 },
	/* Not malformed, but refused: the id names no device. */
	{ "get_missing_dev", "DEV_GET of a device that does not exist", b_get_missing_dev,
	  { ENODEV }, true, -1, VHOSTX_A_DEV_ID },
	/* The range's top is allowed: the request reaches the handler (ENODEV). */
	{ "set_busypoll_1000000", "DEV_SET busypoll-us 1000000 passes the policy",
	  b_set_busypoll_max, { ENODEV }, true, -1, VHOSTX_A_DEV_ID },
};

static const char *errname(int e)
{
	switch (e) {
	case 0: return "0";
	case EINVAL: return "EINVAL";
	case ERANGE: return "ERANGE";
	case ENODEV: return "ENODEV";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EMSGSIZE: return "EMSGSIZE";
	default: return "?";
	}
}

/* The type of the attribute that starts at byte off of the request, or -1. */
static int attr_at(const struct nl_req *r, int64_t off)
{
	uint32_t pos = NLMSG_LENGTH(GENL_HDRLEN);

	while (pos + NLA_HDRLEN <= r->nh.nlmsg_len) {
		const struct nlattr *a = (const struct nlattr *)(r->buf + pos);

		if (pos == off)
			return a->nla_type & NLA_TYPE_MASK;
		if (a->nla_len < NLA_HDRLEN)
			break;
		pos += NLA_ALIGN(a->nla_len);
	}
	return -1;
}

static int cmd_malformed(const char *name)
{
	const struct bad_req *b = NULL;
	struct family f;
	struct nl_req r;
	struct nl_ack ack;
	unsigned int i;
	bool ok_err = false;
	int fd, e, at = -1;

	for (i = 0; i < sizeof(bad_reqs) / sizeof(bad_reqs[0]); i++) {
		if (!strcmp(name, "list"))
			printf("%s\n", bad_reqs[i].name);
		else if (!strcmp(name, bad_reqs[i].name))
			b = &bad_reqs[i];
	}
	if (!strcmp(name, "list"))
		return 0;
	if (!b) {
		fprintf(stderr, "nl_test: no malformed request '%s'\n", name);
		return 2;
	}
	fd = nl_open();
	if (fd < 0)
		return fail("netlink socket: %s", strerror(-fd));
	TRY(family_get(fd, &f));
	b->build(&r, f.id);
	e = nl_transact(fd, &r, NULL, NULL, &ack, NULL);
	close(fd);
	if (e)
		return fail("%s: no answer: %s", b->what, strerror(-e));
	if (ack.offs >= 0)
		at = attr_at(&r, ack.offs);
	printf("request: %s\n", b->what);
	printf("error: %s (%s)\n", errname(ack.error), ack.error ? strerror(ack.error) : "accepted");
	printf("extack: %s%s%s\n", ack.msg[0] ? "\"" : "", ack.msg[0] ? ack.msg : "(no message)",
	       ack.msg[0] ? "\"" : "");
	if (ack.offs >= 0)
		printf("extack: bad attribute at offset %lld: type %d\n", (long long)ack.offs, at);
	if (ack.miss_type >= 0)
		printf("extack: missing attribute type %lld\n", (long long)ack.miss_type);
	if (ack.has_range)
		printf("extack: policy range %llu-%llu\n", (unsigned long long)ack.min,
		       (unsigned long long)ack.max);
	for (i = 0; i < 3 && b->err[i]; i++)
		ok_err |= ack.error == b->err[i];
	if (!ok_err)
		return fail("%s: error %s (%s), expected %s", b->what, errname(ack.error),
			    ack.error ? strerror(ack.error) : "accepted", errname(b->err[0]));
	if (b->extack && !ack.msg[0] && ack.miss_type < 0)
		return fail("%s: no extended ACK (neither a message nor a missing attribute)",
			    b->what);
	if (b->miss_type >= 0 && ack.miss_type != b->miss_type && !ack.msg[0])
		return fail("%s: missing-attribute type %lld, expected %lld", b->what,
			    (long long)ack.miss_type, (long long)b->miss_type);
	if (b->bad_attr >= 0 && ack.offs >= 0 && at != b->bad_attr)
		return fail("%s: the extack points at attribute type %d, expected %lld", b->what,
			    at, (long long)b->bad_attr);
	return 0;
}

/* ---- holding devices open ---- */

/* Block until standard input ends (the suite closes its end). */
static void hold(void)
{
	char buf[256];

	while (read(0, buf, sizeof(buf)) > 0)
		;
}

static void ready_and_hold(void)
{
	printf("ready\n");
	fflush(stdout);
	hold();
}

/* Read one line from standard input; false at end of file. */
static bool read_line(char *buf, size_t len)
{
	size_t n = 0;
	char c;

	while (n + 1 < len && read(0, &c, 1) == 1) {
		if (c == '\n')
			break;
		buf[n++] = c;
	}
	buf[n] = 0;
	return n > 0;
}

static int cmd_open(unsigned int n)
{
	struct rlimit rl = { n + 64, n + 64 };
	int *fds, r = 0;
	unsigned int i;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < n + 64) {
		rl.rlim_cur = n + 64;
		if (rl.rlim_max < rl.rlim_cur)
			rl.rlim_max = rl.rlim_cur;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			return fail("RLIMIT_NOFILE %u: %s", n + 64, strerror(errno));
	}
	fds = calloc(n, sizeof(*fds));
	if (!fds)
		return fail("calloc");
	for (i = 0; i < n; i++) {
		fds[i] = open(g_devpath, O_RDWR | O_CLOEXEC);
		if (fds[i] < 0) {
			r = fail("open %s #%u: %s", g_devpath, i + 1, strerror(errno));
			break;
		}
	}
	if (!r) {
		printf("opened=%u\n", n);
		ready_and_hold();
	}
	while (i--)
		close(fds[i]);
	free(fds);
	if (!r)
		printf("done\n");
	return r;
}

/*
 * One owned device with two workers: a new one (id 1) for the RX queue, TX
 * left on worker 0; with @task, both threads of this process
 * (VHOST_FORK_OWNER_TASK). Held until standard input closes.
 */
static int cmd_workers(bool task)
{
	struct vhost_worker_state st = { 0 };
	struct vhost_vring_worker vw = { .index = 0 };
	int fd = open(g_devpath, O_RDWR | O_CLOEXEC);
	uint8_t mode = VHOST_FORK_OWNER_TASK;

	if (fd < 0)
		return fail("open %s: %s", g_devpath, strerror(errno));
	if (task && ioctl(fd, VHOST_SET_FORK_FROM_OWNER, &mode) < 0) {
		close(fd);
		return fail("SET_FORK_FROM_OWNER task: %s", strerror(errno));
	}
	if (ioctl(fd, VHOST_SET_OWNER) < 0 || ioctl(fd, VHOST_NEW_WORKER, &st) < 0) {
		close(fd);
		return fail("SET_OWNER, NEW_WORKER: %s", strerror(errno));
	}
	vw.worker_id = st.worker_id;
	if (ioctl(fd, VHOST_ATTACH_VRING_WORKER, &vw) < 0) {
		close(fd);
		return fail("ATTACH_VRING_WORKER rx %u: %s", st.worker_id, strerror(errno));
	}
	printf("owner=%d worker=%u\n", getpid(), st.worker_id);
	ready_and_hold();
	close(fd);
	printf("done\n");
	return 0;
}

/* ---- one device with a tap, as a guest uses it ---- */

struct nt {
	struct gd_mem mem;
	struct gd_dev dev;
	struct gd_tap tap;
	unsigned int num;
	uint64_t tx_slots, rx_slots;
	uint32_t id;
	uint8_t frame[NT_TX_SLOT];
	/* RX reassembly of a frame in several mergeable buffers */
	uint32_t rx_want, rx_bufs, rx_have, rx_multi;
	/* traffic */
	uint64_t tx_sent, tx_used, tx_bytes, tx_captured;
	uint64_t rx_sent, rx_bytes_sent, rx_frames, rx_bytes, rx_ours, rx_strays;
	uint64_t tx_cb_enables, rx_cb_enables;	/* interrupts asked for */
};

static struct gd_vq *TXQ(struct nt *t) { return &t->dev.vq[GD_TX]; }
static struct gd_vq *RXQ(struct nt *t) { return &t->dev.vq[GD_RX]; }

static int nt_rx_fill(struct nt *t)
{
	struct gd_vq *vq = RXQ(t);
	bool added = false;
	int head;

	while ((head = gd_vq_next_head(vq)) >= 0 && gd_vq_free_descs(vq) > 0) {
		struct gd_sg sg = { t->rx_slots + (uint64_t)head * NT_BUF, NT_BUF, true };

		head = gd_vq_add(vq, &sg, 1, false, (uint64_t)head);
		if (head < 0)
			return fail("RX add: %s", strerror(-head));
		added = true;
	}
	if (added)
		gd_vq_notify(vq);
	return 0;
}

/* Our device's id: the one whose owner is this process. */
static int nt_find_id(struct nt *t)
{
	static struct dump d;
	struct family f;
	unsigned int i, found = 0;
	int fd = nl_open();

	if (fd < 0)
		return fail("netlink socket: %s", strerror(-fd));
	TRY(family_get(fd, &f));
	TRY(dump_devices(fd, &f, &d, NULL));
	close(fd);
	for (i = 0; i < d.n; i++) {
		if (d.owner[i] == (uint32_t)getpid()) {
			t->id = d.id[i];
			found++;
		}
	}
	if (found != 1)
		return fail("%u devices owned by pid %d in the dump, expected 1", found, getpid());
	return 0;
}

/* RX on a worker of its own (VHOST_NEW_WORKER), TX left on worker 0. */
static int nt_split_workers(struct nt *t)
{
	struct vhost_worker_state st = { 0 };
	struct vhost_vring_worker vw = { .index = GD_RX };

	if (ioctl(t->dev.fd, VHOST_NEW_WORKER, &st) < 0)
		return fail("NEW_WORKER: %s", strerror(errno));
	vw.worker_id = st.worker_id;
	if (ioctl(t->dev.fd, VHOST_ATTACH_VRING_WORKER, &vw) < 0)
		return fail("ATTACH_VRING_WORKER rx %u: %s", st.worker_id, strerror(errno));
	return 0;
}

static int nt_setup(struct nt *t, unsigned int num, bool event_idx, bool split)
{
	uint64_t offered, want, need, rs;
	char name[IFNAMSIZ];
	int r, i;

	memset(t, 0, sizeof(*t));
	t->num = num;
	t->dev.fd = -1;
	t->tap.fd = t->tap.cap = t->tap.inj = -1;
	need = 2 * (32ull * num + 3 * 4096) + (uint64_t)num * (NT_BUF + NT_TX_SLOT);
	rs = (need + (1 << 20) + 0xfffff) & ~0xfffffull;
	r = gd_mem_init(&t->mem, 1, 0x100000, rs, 0);
	if (r)
		return fail("guest memory: %s", strerror(-r));
	r = gd_dev_open(&t->dev, g_devpath);
	if (r)
		return fail("open %s: %s", g_devpath, strerror(-r));
	r = gd_dev_set_owner(&t->dev);
	if (r)
		return fail("VHOST_SET_OWNER: %s", strerror(-r));
	if (split)
		TRY(nt_split_workers(t));
	r = gd_dev_get_features(&t->dev, &offered);
	if (r)
		return fail("VHOST_GET_FEATURES: %s", strerror(-r));
	want = (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_NET_F_MRG_RXBUF);
	if (event_idx)
		want |= 1ull << VIRTIO_RING_F_EVENT_IDX;
	if ((offered & want) != want)
		return fail("features offered %#llx, need %#llx", (unsigned long long)offered,
			    (unsigned long long)want);
	r = gd_dev_set_features(&t->dev, want);
	if (r)
		return fail("VHOST_SET_FEATURES: %s", strerror(-r));
	r = gd_dev_set_mem(&t->dev, &t->mem);
	if (r)
		return fail("VHOST_SET_MEM_TABLE: %s", strerror(-r));
	for (i = 0; i < GD_NVQ; i++) {
		r = gd_vq_alloc(&t->dev, i, num, 0);
		if (!r)
			r = gd_vq_config(&t->dev.vq[i], 0);
		if (r)
			return fail("vq %d (num %u): %s", i, num, strerror(-r));
	}
	t->tx_slots = gd_mem_alloc(&t->mem, (uint64_t)num * NT_TX_SLOT, 64);
	t->rx_slots = gd_mem_alloc(&t->mem, (uint64_t)num * NT_BUF, 64);
	if (t->tx_slots == GD_BAD_GPA || t->rx_slots == GD_BAD_GPA)
		return fail("out of guest memory");
	snprintf(name, sizeof(name), "nlt%d", getpid() % 100000);
	r = gd_tap_create(&t->tap, name, GD_TAP_VNET_HDR | GD_TAP_OFFLOAD, (int)t->dev.hdr_len);
	if (r)
		return fail("tap %s: %s", name, strerror(-r));
	r = gd_tap_set_mtu(&t->tap, NT_MTU);
	if (r)
		return fail("tap %s mtu %d: %s", name, NT_MTU, strerror(-r));
	for (i = 0; i < GD_NVQ; i++) {
		r = gd_dev_set_backend(&t->dev, i, t->tap.fd);
		if (r)
			return fail("VHOST_NET_SET_BACKEND %d: %s", i, strerror(-r));
	}
	TRY(nt_rx_fill(t));
	return nt_find_id(t);
}

static void nt_teardown(struct nt *t)
{
	gd_dev_close(&t->dev);
	gd_tap_close(&t->tap);
	gd_mem_free(&t->mem);
}

/* The length of frame seq: fixed, or chosen by seq (mixed, big). */
static uint32_t frame_len(uint32_t size, uint32_t seq)
{
	if (size == NT_SIZE_MIXED)
		return 60 + mix32(seq) % 1455;
	if (size == NT_SIZE_BIG)
		return 60 + mix32(seq) % (NT_BIG_MAX - 60 + 1);
	return size;
}

static void frame_build(uint8_t *b, uint32_t seq, uint32_t len)
{
	uint32_t v = NT_MAGIC, i;

	memcpy(b, mac_host, 6);
	memcpy(b + 6, mac_guest, 6);
	b[12] = NT_ETHERTYPE >> 8;
	b[13] = NT_ETHERTYPE & 0xff;
	memcpy(b + 14, &v, 4);
	memcpy(b + 18, &seq, 4);
	for (i = 22; i < len; i++)
		b[i] = (uint8_t)(seq + i);
}

static bool frame_ours(const uint8_t *b, size_t n)
{
	uint32_t v;

	if (n < 22 || memcmp(b, mac_host, 6) || memcmp(b + 6, mac_guest, 6) ||
	    b[12] != (NT_ETHERTYPE >> 8) || b[13] != (NT_ETHERTYPE & 0xff))
		return false;
	memcpy(&v, b + 14, 4);
	return v == NT_MAGIC;
}

/* Queue TX frame seq; 1 when the ring is full. */
static int nt_tx_one(struct nt *t, uint32_t size, uint32_t seq)
{
	struct gd_vq *vq = TXQ(t);
	struct virtio_net_hdr_mrg_rxbuf hdr;
	uint32_t len = frame_len(size, seq), hl = (uint32_t)t->dev.hdr_len;
	struct gd_sg sg;
	uint64_t slot;
	int head;

	head = gd_vq_next_head(vq);
	if (head < 0 || gd_vq_free_descs(vq) < 1)
		return 1;
	memset(&hdr, 0, sizeof(hdr));
	hdr.hdr.gso_type = VIRTIO_NET_HDR_GSO_NONE;
	frame_build(t->frame, seq, len);
	slot = t->tx_slots + (uint64_t)head * NT_TX_SLOT;
	if (gd_mem_write(&t->mem, slot, &hdr, hl) || gd_mem_write(&t->mem, slot + hl, t->frame, len))
		return fail("TX slot write");
	sg = (struct gd_sg){ slot, hl + len, false };
	head = gd_vq_add(vq, &sg, 1, false, seq);
	if (head < 0)
		return fail("TX add: %s", strerror(-head));
	t->tx_bytes += len;
	return 0;
}

static uint64_t nt_capture(struct nt *t)
{
	uint64_t got = 0;
	ssize_t n;

	while ((n = gd_tap_capture(&t->tap, NULL, t->frame, sizeof(t->frame), 0)) > 0)
		if (frame_ours(t->frame, (size_t)n)) {
			t->tx_captured++;
			got++;
		}
	return got;
}

/*
 * Every complete RX frame in the used ring, its mergeable buffers put
 * together; all frames count, ours are told apart.
 */
static int nt_rx_reap(struct nt *t, uint64_t *got)
{
	struct gd_vq *vq = RXQ(t);
	uint32_t hl = (uint32_t)t->dev.hdr_len, len, off = 0;
	struct virtio_net_hdr_mrg_rxbuf hdr;
	uint64_t cookie;
	int r;

	*got = 0;
	while ((r = gd_vq_get_used(vq, &len, &cookie)) >= 0) {
		uint64_t slot = t->rx_slots + cookie * NT_BUF;

		if (len > NT_BUF)
			return fail("RX used length %u > buffer %u", len, NT_BUF);
		off = 0;
		if (!t->rx_want) {
			if (len < hl)
				return fail("RX used length %u < header %u", len, hl);
			gd_mem_read(&t->mem, slot, &hdr, hl);
			if (!hdr.num_buffers || hdr.num_buffers > vq->num)
				return fail("RX num_buffers %u", hdr.num_buffers);
			t->rx_want = hdr.num_buffers;
			t->rx_bufs = t->rx_have = 0;
			off = hl;
		}
		if (t->rx_have + len - off > sizeof(t->frame))
			return fail("RX frame longer than %zu bytes", sizeof(t->frame));
		gd_mem_read(&t->mem, slot + off, t->frame + t->rx_have, len - off);
		t->rx_have += len - off;
		if (++t->rx_bufs < t->rx_want)
			continue;
		t->rx_multi += t->rx_want > 1;
		t->rx_want = 0;
		t->rx_frames++;
		t->rx_bytes += t->rx_have;
		if (frame_ours(t->frame, t->rx_have))
			t->rx_ours++;
		else
			t->rx_strays++;
		(*got)++;
	}
	if (r != -EAGAIN)
		return fail("RX used ring: device bug (%d)", r);
	return nt_rx_fill(t);
}

/*
 * tx_n frames out, rx_n frames in, at most win of each in flight, the way a
 * NAPI driver does it: callbacks off while there is work, on only to sleep.
 */
static int nt_run(struct nt *t, uint32_t tx_n, uint32_t rx_n, uint32_t size, unsigned int win)
{
	uint64_t last = gd_now_ns(), deadline;

	while (t->tx_used < tx_n || t->rx_ours < rx_n) {
		uint64_t progress = 0, got;
		bool added = false;
		int r;

		while (gd_vq_get_used(TXQ(t), NULL, NULL) >= 0) {
			t->tx_used++;
			progress++;
		}
		while (t->tx_sent < tx_n && t->tx_sent - t->tx_used < win) {
			r = nt_tx_one(t, size, (uint32_t)t->tx_sent);
			if (r == 1)
				break;
			if (r)
				return r;
			t->tx_sent++;
			added = true;
		}
		if (added)
			gd_vq_notify(TXQ(t));
		progress += nt_capture(t);

		while (t->rx_sent < rx_n && t->rx_sent - t->rx_ours < win) {
			uint32_t len = frame_len(size, (uint32_t)t->rx_sent);

			frame_build(t->frame, (uint32_t)t->rx_sent, len);
			r = gd_tap_inject(&t->tap, NULL, t->frame, len);
			if (r)
				return fail("inject frame %llu: %s",
					    (unsigned long long)t->rx_sent, strerror(-r));
			t->rx_sent++;
			t->rx_bytes_sent += len;
			progress++;
		}
		TRY(nt_rx_reap(t, &got));
		progress += got;

		if (progress) {
			last = gd_now_ns();
			continue;
		}
		if (gd_now_ns() - last > 20000000000ull)
			return fail("stalled: TX sent %llu used %llu captured %llu; RX injected %llu received %llu",
				    (unsigned long long)t->tx_sent, (unsigned long long)t->tx_used,
				    (unsigned long long)t->tx_captured, (unsigned long long)t->rx_sent,
				    (unsigned long long)t->rx_ours);
		{
			struct pollfd p[3] = {
				{ .fd = TXQ(t)->call_fd, .events = POLLIN },
				{ .fd = RXQ(t)->call_fd, .events = POLLIN },
				{ .fd = t->tap.cap, .events = POLLIN },
			};
			bool tx_idle = gd_vq_enable_cb(TXQ(t));
			bool rx_idle = gd_vq_enable_cb(RXQ(t));

			t->tx_cb_enables++;
			t->rx_cb_enables++;

			if (tx_idle && rx_idle)
				poll(p, 3, 100);
			gd_vq_disable_cb(TXQ(t));
			gd_vq_disable_cb(RXQ(t));
			gd_vq_wait_call(TXQ(t), 0);
			gd_vq_wait_call(RXQ(t), 0);
		}
	}
	/* The capture socket may lag behind the used ring a little. */
	deadline = gd_now_ns() + 2000000000ull;
	while (t->tx_captured < tx_n && gd_now_ns() < deadline)
		if (!nt_capture(t))
			usleep(10000);
	return 0;
}

static int cmd_traffic(int argc, char **argv)
{
	uint32_t tx_n = 0, rx_n = 0, size = 0;
	unsigned int num = 256, win = 256;
	bool event_idx = true, split = false;
	char line[16];
	struct nt *t;
	uint64_t t0;
	double secs;
	int a, r;

	for (a = 0; a < argc; a++) {
		if (!strcmp(argv[a], "--tx") && a + 1 < argc)
			tx_n = (uint32_t)strtoul(argv[++a], NULL, 0);
		else if (!strcmp(argv[a], "--rx") && a + 1 < argc)
			rx_n = (uint32_t)strtoul(argv[++a], NULL, 0);
		else if (!strcmp(argv[a], "--size") && a + 1 < argc) {
			a++;
			if (!strcmp(argv[a], "mixed"))
				size = NT_SIZE_MIXED;
			else if (!strcmp(argv[a], "big"))
				size = NT_SIZE_BIG;
			else
				size = (uint32_t)strtoul(argv[a], NULL, 0);
		} else if (!strcmp(argv[a], "--num") && a + 1 < argc)
			num = (unsigned int)strtoul(argv[++a], NULL, 0);
		else if (!strcmp(argv[a], "--window") && a + 1 < argc)
			win = (unsigned int)strtoul(argv[++a], NULL, 0);
		else if (!strcmp(argv[a], "--no-event-idx"))
			event_idx = false;
		else if (!strcmp(argv[a], "--split-workers"))
			split = true;
		else
			return fprintf(stderr, "nl_test traffic: bad argument '%s'\n", argv[a]), 2;
	}
	if ((size != NT_SIZE_MIXED && size != NT_SIZE_BIG && (size < 60 || size > NT_BIG_MAX)) ||
	    !win || num < 2 || (num & (num - 1)))
		return fprintf(stderr, "nl_test traffic: bad --size, --window or --num\n"), 2;
	t = calloc(1, sizeof(*t));
	if (!t)
		return fail("calloc");
	r = gd_netns_private();
	if (r)
		return skip("private network namespace: %s", strerror(-r));
	r = nt_setup(t, num, event_idx, split);
	printf("dev=%u\n", t->id);
	if (!r && split) {
		/* The suite pins the two workers, then says go. */
		printf("pin\n");
		fflush(stdout);
		if (!read_line(line, sizeof(line)))
			r = fail("standard input closed before go");
	}
	t0 = gd_now_ns();
	if (!r)
		r = nt_run(t, tx_n, rx_n, size, win);
	secs = (gd_now_ns() - t0) / 1e9;
	if (!r) {
		/* What the guest sent and saw, for the suite to hold the counters to. */
		printf("tx_packets=%llu tx_bytes=%llu tx_captured=%llu capture_drops=%u\n",
		       (unsigned long long)t->tx_used, (unsigned long long)t->tx_bytes,
		       (unsigned long long)t->tx_captured, gd_tap_capture_drops(&t->tap));
		printf("rx_injected=%llu rx_injected_bytes=%llu rx_packets=%llu rx_bytes=%llu rx_strays=%llu rx_multi_buffer=%u\n",
		       (unsigned long long)t->rx_sent, (unsigned long long)t->rx_bytes_sent,
		       (unsigned long long)t->rx_frames, (unsigned long long)t->rx_bytes,
		       (unsigned long long)t->rx_strays, t->rx_multi);
		printf("guest_tx_kicks=%llu guest_tx_kicks_suppressed=%llu guest_rx_kicks=%llu guest_rx_kicks_suppressed=%llu\n",
		       (unsigned long long)TXQ(t)->kicks, (unsigned long long)TXQ(t)->kicks_suppressed,
		       (unsigned long long)RXQ(t)->kicks, (unsigned long long)RXQ(t)->kicks_suppressed);
		printf("guest_tx_cb_enables=%llu guest_rx_cb_enables=%llu\n",
		       (unsigned long long)t->tx_cb_enables, (unsigned long long)t->rx_cb_enables);
		printf("seconds=%.2f event_idx=%d\n", secs, event_idx);
		ready_and_hold();
	}
	nt_teardown(t);
	free(t);
	if (!r)
		printf("done\n");
	return r;
}

/* ---- a broken queue and its multicast event ---- */

struct event {
	bool seen;
	uint32_t dev, queue, reason;
	char text[128];
};

static int recv_event(int fd, struct event *ev, int timeout_ms)
{
	static uint8_t buf[8192];
	uint64_t end = gd_now_ns() + (uint64_t)timeout_ms * 1000000;

	memset(ev, 0, sizeof(*ev));
	while (gd_now_ns() < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		struct nlmsghdr *nh;
		ssize_t n;
		int len;

		if (poll(&p, 1, (int)((end - gd_now_ns()) / 1000000) + 1) <= 0)
			continue;
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0)
			continue;
		len = (int)n;
		for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, len); nh = NLMSG_NEXT(nh, len)) {
			const struct genlmsghdr *g = NLMSG_DATA(nh);
			const void *attrs = (const uint8_t *)g + GENL_HDRLEN;
			int alen = (int)(nh->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN));
			const struct nlattr *a;

			if (nh->nlmsg_len < NLMSG_LENGTH(GENL_HDRLEN) ||
			    g->cmd != VHOSTX_CMD_QUEUE_BROKEN)
				continue;
			if (!attr_u32(attrs, alen, VHOSTX_A_QUEUE_DEV_ID, &ev->dev) ||
			    !attr_u32(attrs, alen, VHOSTX_A_QUEUE_INDEX, &ev->queue) ||
			    !attr_u32(attrs, alen, VHOSTX_A_QUEUE_BROKEN_REASON, &ev->reason))
				return fail("QUEUE_BROKEN without dev id, queue or reason");
			a = attr_find(attrs, alen, VHOSTX_A_QUEUE_BROKEN_TEXT);
			if (a)
				snprintf(ev->text, sizeof(ev->text), "%.*s", attr_len(a),
					 (const char *)attr_data(a));
			ev->seen = true;
			return 0;
		}
	}
	return 0;
}

static int cmd_hostile(void)
{
	struct family f;
	struct event ev;
	struct gd_vq *vq;
	struct nt *t;
	char line[64];
	int fd, r, errs;
	uint32_t grp;

	t = calloc(1, sizeof(*t));
	if (!t)
		return fail("calloc");
	r = gd_netns_private();
	if (r)
		return skip("private network namespace: %s", strerror(-r));
	/* Listen from this private namespace: the event must reach every one. */
	fd = nl_open();
	if (fd < 0)
		return fail("netlink socket: %s", strerror(-fd));
	TRY(family_get(fd, &f));
	grp = f.events;
	if (setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &grp, sizeof(grp)) < 0)
		return fail("join group %u: %s", grp, strerror(errno));
	r = nt_setup(t, 256, true, false);
	printf("dev=%u events_group=%u\n", t->id, grp);
	if (r)
		goto out;
	vq = TXQ(t);
	printf("ready\n");
	fflush(stdout);
	if (!read_line(line, sizeof(line)) || strcmp(line, "go")) {
		r = fail("expected \"go\" on standard input");
		goto out;
	}
	/* A chain that is fine, behind a head index that is not: num. */
	gd_vq_raw_desc(vq, 0, t->tx_slots, 1500, 0, 0);
	gd_vq_raw_avail(vq, (uint16_t)vq->num);
	gd_vq_raw_set_avail_idx(vq, vq->avail_idx);
	gd_vq_kick(vq);
	errs = gd_vq_wait_err(vq, 5000);
	if (errs <= 0) {
		r = fail("the err eventfd was not signalled within 5 s");
		goto out;
	}
	r = recv_event(fd, &ev, 5000);
	if (r)
		goto out;
	if (!ev.seen) {
		r = fail("no QUEUE_BROKEN event within 5 s");
		goto out;
	}
	printf("event_dev=%u event_queue=%u event_reason=%u event_text=\"%s\"\n", ev.dev, ev.queue,
	       ev.reason, ev.text);
	if (ev.dev != t->id || ev.queue != GD_TX || ev.reason != VHOSTX_BROKEN_HEAD) {
		r = fail("event for dev %u queue %u reason %u, expected dev %u queue %u reason %u",
			 ev.dev, ev.queue, ev.reason, t->id, GD_TX, VHOSTX_BROKEN_HEAD);
		goto out;
	}
	/* Exactly one: the queue stays stopped, a second kick says nothing. */
	gd_vq_kick(vq);
	r = recv_event(fd, &ev, 500);
	if (!r && ev.seen)
		r = fail("a second QUEUE_BROKEN for dev %u queue %u", ev.dev, ev.queue);
	if (r)
		goto out;
	printf("broken\n");
	hold();
out:
	close(fd);
	nt_teardown(t);
	free(t);
	if (!r)
		printf("done\n");
	return r;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: nl_test [--dev PATH] family | dump | malformed list|NAME | open N |\n"
		"               traffic [--tx N] [--rx N] [--size S|mixed|big] [--num R] [--window W]\n"
		"                       [--no-event-idx] [--split-workers] | hostile | workers [task]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	int a = 1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (a + 1 < argc && !strcmp(argv[a], "--dev")) {
		g_devpath = argv[a + 1];
		a += 2;
	}
	if (a >= argc)
		usage();
	if (!strcmp(argv[a], "family"))
		return cmd_family();
	if (!strcmp(argv[a], "dump"))
		return cmd_dump();
	if (!strcmp(argv[a], "malformed") && a + 1 < argc)
		return cmd_malformed(argv[a + 1]);
	if (!strcmp(argv[a], "open") && a + 1 < argc)
		return cmd_open((unsigned int)strtoul(argv[a + 1], NULL, 0));
	if (!strcmp(argv[a], "traffic"))
		return cmd_traffic(argc - a - 1, argv + a + 1);
	if (!strcmp(argv[a], "hostile"))
		return cmd_hostile();
	if (!strcmp(argv[a], "workers"))
		return cmd_workers(a + 1 < argc && !strcmp(argv[a + 1], "task"));
	usage();
	return 2;
}
