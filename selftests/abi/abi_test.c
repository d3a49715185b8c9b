// SPDX-License-Identifier: GPL-2.0
/*
 * abi_test - vhost-net ioctl ABI conformance checks.
 *
 *   abi_test --dev PATH [--impl vhost-net|vhostx] list
 *   abi_test --dev PATH [--impl vhost-net|vhostx] run CASE
 *   abi_test --dev PATH [--impl vhost-net|vhostx] all
 *
 * The same checks run against /dev/vhost-net (Linux's vhost_net, the oracle)
 * and /dev/vhostx-net. Every expectation comes from Linux 6.1's
 * drivers/vhost/{vhost.c,net.c}; where vhostx differs on purpose the
 * expectation depends on --impl (default: "vhostx" when the device path
 * contains "vhostx", "vhost-net" otherwise) and the difference is listed in
 * Documentation/abi.md.
 *
 * Exit status of "run": 0 pass, 1 fail, 4 skip, 2 usage. A failure prints
 * "FAIL: IOCTL (context): expected E..., got E..." on stderr; diagnostics go
 * to stdout.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <linux/if_ether.h>
#include <linux/if_tun.h>
#include <linux/vhost.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include "../lib/vhost_workers.h"

enum { PASS = 0, FAIL = 1, USAGE = 2, SKIP = 4 };

#define BIT(n) (1ULL << (n))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define PAGE 4096UL

/* Linux 6.1 drivers/vhost: VHOST_NET_FEATURES and VHOST_NET_BACKEND_FEATURES. */
#define VHOST_NET_6_1_FEATURES                                                  \
	(BIT(VIRTIO_F_NOTIFY_ON_EMPTY) | BIT(VIRTIO_RING_F_INDIRECT_DESC) |     \
	 BIT(VIRTIO_RING_F_EVENT_IDX) | BIT(VHOST_F_LOG_ALL) |                  \
	 BIT(VIRTIO_F_ANY_LAYOUT) | BIT(VIRTIO_F_VERSION_1) |                   \
	 BIT(VHOST_NET_F_VIRTIO_NET_HDR) | BIT(VIRTIO_NET_F_MRG_RXBUF) |        \
	 BIT(VIRTIO_F_ACCESS_PLATFORM))
#define VHOST_NET_6_1_BACKEND_FEATURES BIT(VHOST_BACKEND_F_IOTLB_MSG_V2)

/* What any virtio-net VMM needs; vhostx must offer all of it. */
#define REQUIRED_FEATURES                                                       \
	(BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_F_ANY_LAYOUT) |                   \
	 BIT(VIRTIO_F_NOTIFY_ON_EMPTY) | BIT(VIRTIO_RING_F_INDIRECT_DESC) |     \
	 BIT(VIRTIO_RING_F_EVENT_IDX) | BIT(VIRTIO_NET_F_MRG_RXBUF) |           \
	 BIT(VHOST_NET_F_VIRTIO_NET_HDR))
/* Not built in vhostx yet: the device IOTLB. */
#define VHOSTX_ABSENT_FEATURES BIT(VIRTIO_F_ACCESS_PLATFORM)

/* vhost's default max_mem_regions module parameter. */
#define MAX_MEM_REGIONS 64

/* Addresses that no user mapping can have on x86-64 (4- or 5-level paging). */
#define KERNEL_ADDR 0xffff888000000000ULL
#define KERNEL_TEXT 0xffffffff81000000ULL

static const char *g_dev;
static bool g_vhostx;
static int g_failed;

/* ---------------------------------------------------------------- reporting */

static const char *errname(int e)
{
	switch (e) {
	case 0: return "success";
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EIO: return "EIO";
	case ENXIO: return "ENXIO";
	case E2BIG: return "E2BIG";
	case EBADF: return "EBADF";
	case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EFAULT: return "EFAULT";
	case EBUSY: return "EBUSY";
	case ENODEV: return "ENODEV";
	case EINVAL: return "EINVAL";
	case ENOSPC: return "ENOSPC";
	case ENOTTY: return "ENOTTY";
	case ERANGE: return "ERANGE";
	case ENOSYS: return "ENOSYS";
	case ENOBUFS: return "ENOBUFS";
	case ENOTSOCK: return "ENOTSOCK";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case ESOCKTNOSUPPORT: return "ESOCKTNOSUPPORT";
	case EPFNOSUPPORT: return "EPFNOSUPPORT";
	case EAFNOSUPPORT: return "EAFNOSUPPORT";
	case EBADFD: return "EBADFD";
	case EOVERFLOW: return "EOVERFLOW";
	default: return "E?";
	}
}

/* "EINVAL (22)"; a few rotating buffers so one printf can hold several. */
static const char *errstr(int e)
{
	static char buf[4][32];
	static int i;
	char *b = buf[i++ & 3];

	snprintf(b, sizeof(buf[0]), "%s (%d)", errname(e), e);
	return b;
}

static void vfailf(int line, const char *fmt, va_list ap)
{
	fprintf(stderr, "FAIL: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "  [abi_test.c:%d]\n", line);
	fflush(stderr);
	g_failed = 1;
}

static void failf_at(int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfailf(line, fmt, ap);
	va_end(ap);
}
#define failf(...) failf_at(__LINE__, __VA_ARGS__)

static void diag(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static bool check_at(int line, bool cond, const char *fmt, ...)
{
	va_list ap;

	if (cond)
		return true;
	va_start(ap, fmt);
	vfailf(line, fmt, ap);
	va_end(ap);
	return false;
}
#define CHECK(cond, ...) check_at(__LINE__, (cond), __VA_ARGS__)

/* Issue one ioctl; return 0 or the errno it failed with. */
static int xioctl(int fd, unsigned long req, void *arg)
{
	int r;

	errno = 0;
	r = ioctl(fd, req, arg);
	if (r == -1)
		return errno ? errno : -1;
	return 0;
}

/*
 * Issue an ioctl and compare the result (0 or an errno) with @want. On a
 * mismatch print the ioctl's name, the context, the expected and the actual
 * errno. Returns true when it matched.
 */
static bool expect_ioctl(int line, int fd, unsigned long req, const char *name,
			 void *arg, int want, const char *fmt, ...)
{
	char what[256];
	va_list ap;
	int r, got;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	errno = 0;
	r = ioctl(fd, req, arg);
	got = r == -1 ? errno : 0;
	if (r > 0) {
		failf_at(line, "%s (%s): returned %d, expected %s", name, what, r,
			 errstr(want));
		return false;
	}
	if (got != want) {
		failf_at(line, "%s (%s): expected %s, got %s", name, what,
			 errstr(want), errstr(got));
		return false;
	}
	return true;
}

#define EXPECT(fd, req, arg, want, ...)                                        \
	expect_ioctl(__LINE__, (fd), (req), #req, (void *)(uintptr_t)(arg),    \
		     (want), __VA_ARGS__)
/* A step the rest of the case depends on: on failure the case fails now. */
#define MUST(fd, req, arg, ...)                                                \
	do {                                                                   \
		if (!expect_ioctl(__LINE__, (fd), (req), #req,                 \
				  (void *)(uintptr_t)(arg), 0, __VA_ARGS__))   \
			return FAIL;                                           \
	} while (0)
#define REQUIRE(cond, ...)                                                     \
	do {                                                                   \
		if (!CHECK(cond, __VA_ARGS__))                                 \
			return FAIL;                                           \
	} while (0)

static int result(void)
{
	return g_failed ? FAIL : PASS;
}

/* ------------------------------------------------------------------ helpers */

static int open_dev(void)
{
	int fd = open(g_dev, O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		failf("open %s: %s", g_dev, strerror(errno));
		exit(FAIL);
	}
	return fd;
}

static int open_owned(void)
{
	int fd = open_dev();

	if (!EXPECT(fd, VHOST_SET_OWNER, NULL, 0, "fresh fd"))
		exit(FAIL);
	return fd;
}

static int new_eventfd(void)
{
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	if (fd < 0) {
		failf("eventfd: %s", strerror(errno));
		exit(FAIL);
	}
	return fd;
}

/* A descriptor number that is certainly not open. */
static int closed_fd(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		failf("open /dev/null: %s", strerror(errno));
		exit(FAIL);
	}
	close(fd);
	return fd;
}

static int open_null(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		failf("open /dev/null: %s", strerror(errno));
		exit(FAIL);
	}
	return fd;
}

/* A tap interface (IFF_TAP | IFF_NO_PI), as a VMM would pass it. */
static int open_tap(void)
{
	struct ifreq ifr;
	int fd;

	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "SKIP: /dev/net/tun: %s\n", strerror(errno));
		exit(SKIP);
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "vhxabi%%d");
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		failf("TUNSETIFF IFF_TAP|IFF_NO_PI: %s", strerror(errno));
		exit(FAIL);
	}
	return fd;
}

static void *map(size_t len, int prot)
{
	void *p = mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED) {
		failf("mmap %zu bytes: %s", len, strerror(errno));
		exit(FAIL);
	}
	return p;
}

/* A split ring of @num entries in this process: desc, avail and used on their own pages. */
struct ring {
	unsigned int num;
	uint8_t *mem;
	size_t len;
	uint64_t desc, avail, used;
};

static size_t page_up(size_t n)
{
	return (n + PAGE - 1) & ~(PAGE - 1);
}

static void ring_alloc(struct ring *r, unsigned int num)
{
	size_t d = page_up(16UL * num), a = page_up(6 + 2UL * num), u = page_up(6 + 8UL * num);

	r->num = num;
	r->len = d + a + u;
	r->mem = map(r->len, PROT_READ | PROT_WRITE);
	r->desc = (uintptr_t)r->mem;
	r->avail = r->desc + d;
	r->used = r->avail + a;
}

static struct vhost_vring_addr ring_addr(const struct ring *r, unsigned int idx)
{
	struct vhost_vring_addr a = {
		.index = idx,
		.desc_user_addr = r->desc,
		.avail_user_addr = r->avail,
		.used_user_addr = r->used,
		.log_guest_addr = 0,
	};
	return a;
}

/* SET_VRING_NUM, SET_VRING_BASE 0 and SET_VRING_ADDR for vq @idx. */
static bool vq_setup(int fd, unsigned int idx, const struct ring *r)
{
	struct vhost_vring_state s = { .index = idx, .num = r->num };
	struct vhost_vring_addr a = ring_addr(r, idx);

	if (!EXPECT(fd, VHOST_SET_VRING_NUM, &s, 0, "setup vq %u num %u", idx, r->num))
		return false;
	s.num = 0;
	if (!EXPECT(fd, VHOST_SET_VRING_BASE, &s, 0, "setup vq %u base 0", idx))
		return false;
	return EXPECT(fd, VHOST_SET_VRING_ADDR, &a, 0, "setup vq %u", idx);
}

/* A memory table with @n regions. Free with free(). */
static struct vhost_memory *mem_new(uint32_t n)
{
	struct vhost_memory *m = calloc(1, sizeof(*m) + n * sizeof(m->regions[0]));

	if (!m) {
		failf("calloc: %s", strerror(errno));
		exit(FAIL);
	}
	m->nregions = n;
	return m;
}

static int set_mem1(int fd, uint64_t gpa, uint64_t size, uint64_t uaddr)
{
	struct vhost_memory *m = mem_new(1);
	int r;

	m->regions[0].guest_phys_addr = gpa;
	m->regions[0].memory_size = size;
	m->regions[0].userspace_addr = uaddr;
	r = xioctl(fd, VHOST_SET_MEM_TABLE, m);
	free(m);
	return r;
}

/*
 * An owned fd with a memory table covering @r (guest address 0) and both
 * rings set up on @r's memory (the two vqs share it; nothing runs on them).
 */
static int open_ready(struct ring *r)
{
	int fd = open_owned();
	int e;

	ring_alloc(r, 256);
	e = set_mem1(fd, 0, r->len, (uintptr_t)r->mem);
	if (e) {
		failf("VHOST_SET_MEM_TABLE (one region over the rings): expected %s, got %s",
		      errstr(0), errstr(e));
		exit(FAIL);
	}
	if (!vq_setup(fd, 0, r) || !vq_setup(fd, 1, r))
		exit(FAIL);
	return fd;
}

static bool set_backend(int fd, unsigned int idx, int sock, int want, const char *what)
{
	struct vhost_vring_file f = { .index = idx, .fd = sock };

	return EXPECT(fd, VHOST_NET_SET_BACKEND, &f, want, "vq %u, %s", idx, what);
}

/* Wait for a child that ran checks; fold its result into ours. */
static int wait_child(pid_t pid, const char *what)
{
	int st;

	if (waitpid(pid, &st, 0) != pid) {
		failf("waitpid (%s): %s", what, strerror(errno));
		return FAIL;
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return PASS;
	if (WIFEXITED(st))
		failf("child (%s) failed with status %d", what, WEXITSTATUS(st));
	else
		failf("child (%s) died of signal %d", what, WTERMSIG(st));
	return FAIL;
}

static long status_kb(const char *key)
{
	char line[256];
	size_t n = strlen(key);
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ':')
			v = strtol(line + n + 1, NULL, 10);
	fclose(f);
	return v;
}

static uint64_t get_features(int fd)
{
	uint64_t f = 0;

	if (!EXPECT(fd, VHOST_GET_FEATURES, &f, 0, "read offered features"))
		exit(FAIL);
	return f;
}

static const char *feature_name(unsigned int bit)
{
	switch (bit) {
	case VIRTIO_NET_F_MRG_RXBUF: return "MRG_RXBUF";
	case VIRTIO_F_NOTIFY_ON_EMPTY: return "NOTIFY_ON_EMPTY";
	case VHOST_F_LOG_ALL: return "VHOST_F_LOG_ALL";
	case VIRTIO_F_ANY_LAYOUT: return "ANY_LAYOUT/VHOST_NET_F_VIRTIO_NET_HDR";
	case VIRTIO_RING_F_INDIRECT_DESC: return "INDIRECT_DESC";
	case VIRTIO_RING_F_EVENT_IDX: return "EVENT_IDX";
	case VIRTIO_F_VERSION_1: return "VERSION_1";
	case VIRTIO_F_ACCESS_PLATFORM: return "ACCESS_PLATFORM";
	case VIRTIO_F_RING_PACKED: return "RING_PACKED";
	case VIRTIO_F_IN_ORDER: return "IN_ORDER";
	case VIRTIO_F_RING_RESET: return "RING_RESET";
	default: return "?";
	}
}

static void print_features(const char *label, uint64_t f)
{
	char buf[512] = "";
	size_t len = 0;
	unsigned int b;

	for (b = 0; b < 64; b++)
		if (f & BIT(b))
			len += snprintf(buf + len, sizeof(buf) - len, "%s%u:%s",
					len ? " " : "", b, feature_name(b));
	diag("%s 0x%016llx = %s", label, (unsigned long long)f, buf);
}

/* ---------------------------------------------------- owner-only ioctl table */

/* Valid arguments for every ioctl that vhost lets only the owner issue. */
struct owner_args {
	struct ring ring;
	struct vhost_memory *mem;
	uint64_t log_base;
	int log_fd;
	struct vhost_vring_state num, base, get_base, endian, get_endian, busy, get_busy;
	struct vhost_vring_addr addr;
	struct vhost_vring_file kick, call, err, backend;
	uint8_t unknown[256];
	uint8_t log[PAGE];
};

struct owner_op {
	unsigned long req;
	const char *name;
	void *arg;
};

#define OP(req, arg) { req, #req, arg }

static size_t owner_ops(struct owner_args *a, struct owner_op *ops)
{
	size_t n = 0;
	int efd = new_eventfd();

	memset(a, 0, sizeof(*a));
	ring_alloc(&a->ring, 256);
	a->mem = mem_new(1);
	a->mem->regions[0].memory_size = a->ring.len;
	a->mem->regions[0].userspace_addr = (uintptr_t)a->ring.mem;
	a->log_base = (uintptr_t)a->log;
	a->log_fd = efd;
	a->num.num = 256;
	a->busy.num = 10;
	a->addr = ring_addr(&a->ring, 0);
	a->kick.fd = a->call.fd = a->err.fd = efd;
	a->backend.fd = -1;

	ops[n++] = (struct owner_op)OP(VHOST_SET_MEM_TABLE, a->mem);
	ops[n++] = (struct owner_op)OP(VHOST_SET_LOG_BASE, &a->log_base);
	ops[n++] = (struct owner_op)OP(VHOST_SET_LOG_FD, &a->log_fd);
	ops[n++] = (struct owner_op)OP(VHOST_SET_VRING_NUM, &a->num);
	ops[n++] = (struct owner_op)OP(VHOST_SET_VRING_ADDR, &a->addr);
	ops[n++] = (struct owner_op)OP(VHOST_SET_VRING_BASE, &a->base);
	ops[n++] = (struct owner_op)OP(VHOST_GET_VRING_BASE, &a->get_base);
	ops[n++] = (struct owner_op)OP(VHOST_SET_VRING_KICK, &a->kick);
	ops[n++] = (struct owner_op)OP(VHOST_SET_VRING_CALL, &a->call);
	ops[n++] = (struct owner_op)OP(VHOST_SET_VRING_ERR, &a->err);
	ops[n++] = (struct owner_op)OP(VHOST_SET_VRING_ENDIAN, &a->endian);
	ops[n++] = (struct owner_op)OP(VHOST_GET_VRING_ENDIAN, &a->get_endian);
	ops[n++] = (struct owner_op)OP(VHOST_SET_VRING_BUSYLOOP_TIMEOUT, &a->busy);
	ops[n++] = (struct owner_op)OP(VHOST_GET_VRING_BUSYLOOP_TIMEOUT, &a->get_busy);
	ops[n++] = (struct owner_op)OP(VHOST_NET_SET_BACKEND, &a->backend);
	ops[n++] = (struct owner_op)OP(VHOST_RESET_OWNER, NULL);
	/* vhost checks ownership before it even looks at the ioctl number. */
	ops[n++] = (struct owner_op)OP(_IOW(VHOST_VIRTIO, 0x0f, __u64), a->unknown);
	return n;
}

static void expect_owner_ops(int fd, int want, const char *who)
{
	struct owner_args *a = calloc(1, sizeof(*a));
	struct owner_op ops[32];
	size_t i, n;

	if (!a)
		exit(FAIL);
	n = owner_ops(a, ops);
	for (i = 0; i < n; i++)
		expect_ioctl(__LINE__, fd, ops[i].req, ops[i].name, ops[i].arg, want,
			     "%s", who);
	diag("%zu owner-only ioctls checked (%s)", n, who);
}

/* Ioctls that vhost_net answers without checking the owner. */
static void expect_ownerless_ops(int fd, const char *who)
{
	uint64_t f = 0, bf = 0;

	EXPECT(fd, VHOST_GET_FEATURES, &f, 0, "%s", who);
	EXPECT(fd, VHOST_GET_BACKEND_FEATURES, &bf, 0, "%s", who);
	f = 0;
	EXPECT(fd, VHOST_SET_FEATURES, &f, 0, "features 0, %s", who);
	bf = 0;
	EXPECT(fd, VHOST_SET_BACKEND_FEATURES, &bf, 0, "backend features 0, %s", who);
}

/* -------------------------------------------------------------------- cases */

/* Before SET_OWNER: everything but the feature ioctls and SET_OWNER -> EPERM. */
static int case_owner_required(void)
{
	int fd = open_dev();

	expect_owner_ops(fd, EPERM, "before VHOST_SET_OWNER");
	expect_ownerless_ops(fd, "before VHOST_SET_OWNER");
	/* ownership is checked before the vring index */
	struct vhost_vring_state s = { .index = 5, .num = 256 };
	struct vhost_vring_file b = { .index = 5, .fd = -1 };
	EXPECT(fd, VHOST_SET_VRING_NUM, &s, EPERM, "index 5, before VHOST_SET_OWNER");
	EXPECT(fd, VHOST_NET_SET_BACKEND, &b, EPERM, "index 5, before VHOST_SET_OWNER");
	EXPECT(fd, VHOST_SET_OWNER, NULL, 0, "after the refused ioctls");
	close(fd);
	return result();
}

/* GET/SET_FEATURES and GET/SET_BACKEND_FEATURES need no owner, before or after SET_OWNER. */
static int case_owner_not_required(void)
{
	int fd = open_dev();
	uint64_t before, after, all;

	before = get_features(fd);
	expect_ownerless_ops(fd, "no owner");
	all = before;
	EXPECT(fd, VHOST_SET_FEATURES, &all, 0, "all offered features, no owner");
	MUST(fd, VHOST_SET_OWNER, NULL, "");
	after = get_features(fd);
	CHECK(before == after, "VHOST_GET_FEATURES changed with SET_OWNER: 0x%llx -> 0x%llx",
	      (unsigned long long)before, (unsigned long long)after);
	expect_ownerless_ops(fd, "owner");
	close(fd);
	return result();
}

static int case_set_owner_twice(void)
{
	int fd = open_dev();

	MUST(fd, VHOST_SET_OWNER, NULL, "first");
	EXPECT(fd, VHOST_SET_OWNER, NULL, EBUSY, "second, same process");
	EXPECT(fd, VHOST_SET_OWNER, NULL, EBUSY, "third, same process");
	/* still the owner */
	struct vhost_vring_state s = { .index = 0 };
	EXPECT(fd, VHOST_GET_VRING_BASE, &s, 0, "after the refused SET_OWNERs");
	close(fd);
	return result();
}

/*
 * A forked child shares the fd but has its own mm: SET_OWNER -> EBUSY, every
 * owner-only ioctl -> EPERM, the feature ioctls still work. The parent stays
 * the owner.
 */
static int case_owner_other_process(void)
{
	int fd = open_owned();
	struct vhost_vring_state s = { .index = 1, .num = 77 };
	pid_t pid;
	int rc;

	MUST(fd, VHOST_SET_VRING_BASE, &s, "parent, vq 1 base 77");
	pid = fork();
	if (pid < 0)
		return FAIL;
	if (pid == 0) {
		EXPECT(fd, VHOST_SET_OWNER, NULL, EBUSY, "child of the owner");
		expect_owner_ops(fd, EPERM, "child of the owner, other mm");
		uint64_t f = 0, bf = 0;
		EXPECT(fd, VHOST_GET_FEATURES, &f, 0, "child of the owner");
		EXPECT(fd, VHOST_GET_BACKEND_FEATURES, &bf, 0, "child of the owner");
		_exit(g_failed);
	}
	rc = wait_child(pid, "non-owner checks");
	s.num = 0;
	EXPECT(fd, VHOST_GET_VRING_BASE, &s, 0, "parent after the child");
	CHECK(s.num == 77, "VHOST_GET_VRING_BASE vq 1: %u after the child's attempts, want 77", s.num);
	/* the child's RESET_OWNER was refused, so the parent still owns the fd */
	EXPECT(fd, VHOST_SET_OWNER, NULL, EBUSY, "parent, still the owner");
	close(fd);
	return rc == PASS ? result() : FAIL;
}

/*
 * The first process to call SET_OWNER owns the fd, even when it is a child;
 * after it exits the fd stays owned by its (dead) mm until RESET_OWNER by
 * the owner, which can no longer come: only close() frees it.
 */
static int case_owner_exited(void)
{
	int fd = open_dev();
	struct vhost_vring_state s = { .index = 0, .num = 5 };
	pid_t pid;
	int rc;

	pid = fork();
	if (pid < 0)
		return FAIL;
	if (pid == 0) {
		EXPECT(fd, VHOST_SET_OWNER, NULL, 0, "child, fresh fd");
		EXPECT(fd, VHOST_SET_VRING_BASE, &s, 0, "child owner");
		_exit(g_failed);
	}
	rc = wait_child(pid, "child takes ownership and exits");
	EXPECT(fd, VHOST_SET_OWNER, NULL, EBUSY, "parent after the owning child exited");
	EXPECT(fd, VHOST_GET_VRING_BASE, &s, EPERM, "parent, not the owner");
	EXPECT(fd, VHOST_RESET_OWNER, NULL, EPERM, "parent, not the owner");
	close(fd);
	/* a new fd is unaffected */
	fd = open_dev();
	EXPECT(fd, VHOST_SET_OWNER, NULL, 0, "new fd");
	close(fd);
	return rc == PASS ? result() : FAIL;
}

struct thread_arg {
	int fd;
	int r_owner, r_get;
	struct vhost_vring_state s;
};

static void *owner_thread(void *p)
{
	struct thread_arg *t = p;

	t->r_owner = xioctl(t->fd, VHOST_SET_OWNER, NULL);
	return NULL;
}

static void *getbase_thread(void *p)
{
	struct thread_arg *t = p;

	t->r_get = xioctl(t->fd, VHOST_GET_VRING_BASE, &t->s);
	return NULL;
}

/* Ownership belongs to the mm: any thread of the owning process may issue owner-only ioctls. */
static int case_owner_thread(void)
{
	struct thread_arg t = { .fd = open_dev() };
	struct vhost_vring_state s = { .index = 1, .num = 99 };
	pthread_t th;

	REQUIRE(!pthread_create(&th, NULL, owner_thread, &t), "pthread_create");
	pthread_join(th, NULL);
	CHECK(t.r_owner == 0, "VHOST_SET_OWNER (from a second thread): expected %s, got %s",
	      errstr(0), errstr(t.r_owner));
	EXPECT(t.fd, VHOST_SET_VRING_BASE, &s, 0, "main thread, owner is another thread of this process");
	EXPECT(t.fd, VHOST_SET_OWNER, NULL, EBUSY, "main thread");
	t.s.index = 1;
	REQUIRE(!pthread_create(&th, NULL, getbase_thread, &t), "pthread_create");
	pthread_join(th, NULL);
	CHECK(t.r_get == 0, "VHOST_GET_VRING_BASE (from a third thread): expected %s, got %s",
	      errstr(0), errstr(t.r_get));
	CHECK(t.s.num == 99, "VHOST_GET_VRING_BASE (third thread): num %u, want 99", t.s.num);
	close(t.fd);
	return result();
}

/*
 * RESET_OWNER drops the owner and resets the vrings; a new SET_OWNER works,
 * also from another process.
 */
static int case_reset_owner(void)
{
	int fd = open_dev();
	struct vhost_vring_state s = { .index = 0, .num = 7 };
	struct vhost_vring_state b = { .index = 1, .num = 100 };
	pid_t pid;
	int rc;

	EXPECT(fd, VHOST_RESET_OWNER, NULL, EPERM, "fresh fd, no owner yet");
	MUST(fd, VHOST_SET_OWNER, NULL, "");
	MUST(fd, VHOST_SET_VRING_BASE, &s, "vq 0 base 7");
	MUST(fd, VHOST_SET_VRING_BUSYLOOP_TIMEOUT, &b, "vq 1 busyloop 100");
	MUST(fd, VHOST_RESET_OWNER, NULL, "owner");
	EXPECT(fd, VHOST_RESET_OWNER, NULL, EPERM, "second RESET_OWNER, no owner any more");
	EXPECT(fd, VHOST_GET_VRING_BASE, &s, EPERM, "after RESET_OWNER");
	MUST(fd, VHOST_SET_OWNER, NULL, "after RESET_OWNER");
	s.num = 12345;
	EXPECT(fd, VHOST_GET_VRING_BASE, &s, 0, "vq 0 after reset");
	CHECK(s.num == 0, "VHOST_GET_VRING_BASE vq 0 after RESET_OWNER: %u, want 0 (reset)", s.num);
	b.num = 12345;
	EXPECT(fd, VHOST_GET_VRING_BUSYLOOP_TIMEOUT, &b, 0, "vq 1 after reset");
	CHECK(b.num == 0, "VHOST_GET_VRING_BUSYLOOP_TIMEOUT vq 1 after RESET_OWNER: %u, want 0", b.num);

	/* reset again, and let a child become the owner */
	MUST(fd, VHOST_RESET_OWNER, NULL, "second cycle");
	pid = fork();
	if (pid < 0)
		return FAIL;
	if (pid == 0) {
		struct vhost_vring_state c = { .index = 0, .num = 3 };

		EXPECT(fd, VHOST_SET_OWNER, NULL, 0, "child after the parent's RESET_OWNER");
		EXPECT(fd, VHOST_SET_VRING_BASE, &c, 0, "child owner");
		EXPECT(fd, VHOST_RESET_OWNER, NULL, 0, "child owner gives the fd back");
		_exit(g_failed);
	}
	rc = wait_child(pid, "child owner cycle");
	EXPECT(fd, VHOST_SET_OWNER, NULL, 0, "parent after the child's RESET_OWNER");
	close(fd);
	return rc == PASS ? result() : FAIL;
}

/* RESET_OWNER with attached backends detaches them. */
static int case_reset_owner_backend(void)
{
	struct ring r;
	int fd = open_ready(&r), tap = open_tap();
	struct vhost_vring_state s = { .index = 0, .num = 64 };

	if (!set_backend(fd, 0, tap, 0, "tap") || !set_backend(fd, 1, tap, 0, "tap"))
		return FAIL;
	EXPECT(fd, VHOST_SET_VRING_NUM, &s, EBUSY, "backend attached");
	MUST(fd, VHOST_RESET_OWNER, NULL, "with backends attached");
	MUST(fd, VHOST_SET_OWNER, NULL, "after RESET_OWNER");
	EXPECT(fd, VHOST_SET_VRING_NUM, &s, 0, "vq 0 after RESET_OWNER: backend gone");
	s.index = 1;
	EXPECT(fd, VHOST_SET_VRING_NUM, &s, 0, "vq 1 after RESET_OWNER: backend gone");
	close(fd);
	close(tap);
	return result();
}

/* The running kernel as major * 1000 + minor (0 if uname fails). */
static unsigned int kernel_version(void)
{
	struct utsname u;
	unsigned int major, minor;

	if (uname(&u) || sscanf(u.release, "%u.%u", &major, &minor) != 2)
		return 0;
	return major * 1000 + minor;
}

/*
 * What this kernel's vhost_net offers: 6.1's source, plus VIRTIO_F_RING_RESET
 * from the release after it that took "vhost-net: support
 * VIRTIO_F_RING_RESET" (6.12's offers it; kmod/compat.h).
 */
static uint64_t vhost_net_features_here(void)
{
	uint64_t f = VHOST_NET_6_1_FEATURES;

	if (kernel_version() >= 6002)
		f |= BIT(VIRTIO_F_RING_RESET);
	return f;
}

/*
 * GET_FEATURES: the required set; exactly what this kernel's vhost_net
 * offers, and for vhostx the same without ACCESS_PLATFORM (no IOTLB yet).
 */
static int case_get_features(void)
{
	int fd = open_dev();
	uint64_t f = get_features(fd), f2 = get_features(fd);
	uint64_t missing = REQUIRED_FEATURES & ~f;
	uint64_t want = vhost_net_features_here();

	print_features(g_vhostx ? "vhostx offers" : "vhost_net offers", f);
	CHECK(f == f2, "VHOST_GET_FEATURES not stable: 0x%llx then 0x%llx",
	      (unsigned long long)f, (unsigned long long)f2);
	CHECK(!missing, "VHOST_GET_FEATURES: required bits missing: 0x%llx",
	      (unsigned long long)missing);
	if (g_vhostx)
		CHECK(f == (want & ~VHOSTX_ABSENT_FEATURES),
		      "VHOST_GET_FEATURES: vhostx offers 0x%llx, this kernel's vhost_net less ACCESS_PLATFORM is 0x%llx",
		      (unsigned long long)f,
		      (unsigned long long)(want & ~VHOSTX_ABSENT_FEATURES));
	else
		CHECK(f == want,
		      "VHOST_GET_FEATURES: vhost_net offers 0x%llx, its source for this kernel says 0x%llx",
		      (unsigned long long)f, (unsigned long long)want);
	close(fd);
	return result();
}

/* SET_FEATURES: any bit not offered -> EOPNOTSUPP; 0, each offered bit and all offered bits -> 0. */
static int case_set_features(void)
{
	int fd = open_dev(), owned;
	uint64_t offered = get_features(fd), v;
	unsigned int b, refused = 0, accepted = 0;

	for (owned = 0; owned < 2; owned++) {
		if (owned)
			MUST(fd, VHOST_SET_OWNER, NULL, "");
		for (b = 0; b < 64; b++) {
			if (offered & BIT(b)) {
				v = BIT(b);
				accepted += EXPECT(fd, VHOST_SET_FEATURES, &v, 0,
						   "offered bit %u alone, %s", b, owned ? "owner" : "no owner");
				continue;
			}
			v = BIT(b);
			refused += EXPECT(fd, VHOST_SET_FEATURES, &v, EOPNOTSUPP,
					  "unknown bit %u alone, %s", b, owned ? "owner" : "no owner");
			v = offered | BIT(b);
			EXPECT(fd, VHOST_SET_FEATURES, &v, EOPNOTSUPP,
			       "offered | unknown bit %u, %s", b, owned ? "owner" : "no owner");
		}
		v = 0;
		EXPECT(fd, VHOST_SET_FEATURES, &v, 0, "0");
		v = offered;
		EXPECT(fd, VHOST_SET_FEATURES, &v, 0, "everything offered");
		v = REQUIRED_FEATURES;
		EXPECT(fd, VHOST_SET_FEATURES, &v, 0, "VERSION_1|ANY_LAYOUT|...|MRG_RXBUF|VIRTIO_NET_HDR");
	}
	diag("%u unknown bits refused with EOPNOTSUPP, %u offered bits accepted", refused, accepted);
	/* Dirty logging, with nothing attached: nothing to check. */
	v = BIT(VHOST_F_LOG_ALL);
	EXPECT(fd, VHOST_SET_FEATURES, &v, 0, "VHOST_F_LOG_ALL");
	close(fd);
	return result();
}

/* GET/SET_BACKEND_FEATURES: vhost_net offers IOTLB_MSG_V2; unknown bits -> EOPNOTSUPP. */
static int case_backend_features(void)
{
	int fd = open_dev();
	uint64_t offered = 0, v;
	unsigned int b;

	MUST(fd, VHOST_GET_BACKEND_FEATURES, &offered, "");
	diag("backend features offered: 0x%llx", (unsigned long long)offered);
	if (g_vhostx)
		CHECK(!(offered & ~VHOST_NET_6_1_BACKEND_FEATURES),
		      "VHOST_GET_BACKEND_FEATURES: vhostx offers 0x%llx, more than vhost_net's 0x%llx",
		      (unsigned long long)offered, (unsigned long long)VHOST_NET_6_1_BACKEND_FEATURES);
	else
		CHECK(offered == VHOST_NET_6_1_BACKEND_FEATURES,
		      "VHOST_GET_BACKEND_FEATURES: 0x%llx, Linux 6.1 source says 0x%llx",
		      (unsigned long long)offered, (unsigned long long)VHOST_NET_6_1_BACKEND_FEATURES);
	v = offered;
	EXPECT(fd, VHOST_SET_BACKEND_FEATURES, &v, 0, "everything offered");
	v = 0;
	EXPECT(fd, VHOST_SET_BACKEND_FEATURES, &v, 0, "0");
	for (b = 0; b < 64; b++) {
		if (offered & BIT(b))
			continue;
		v = BIT(b);
		EXPECT(fd, VHOST_SET_BACKEND_FEATURES, &v, EOPNOTSUPP, "unknown bit %u", b);
	}
	MUST(fd, VHOST_SET_OWNER, NULL, "");
	v = offered;
	EXPECT(fd, VHOST_SET_BACKEND_FEATURES, &v, 0, "everything offered, owner");
	v = BIT(VHOST_BACKEND_F_IOTLB_BATCH);
	EXPECT(fd, VHOST_SET_BACKEND_FEATURES, &v, EOPNOTSUPP, "IOTLB_BATCH, owner");
	close(fd);
	return result();
}

/* SET_MEM_TABLE header checks: padding, nregions bounds. */
static int case_mem_table_limits(void)
{
	int fd = open_owned();
	struct vhost_memory *m = mem_new(MAX_MEM_REGIONS + 1);
	uint8_t *mem = map(MAX_MEM_REGIONS * PAGE, PROT_READ | PROT_WRITE);
	uint32_t i;

	for (i = 0; i <= MAX_MEM_REGIONS; i++) {
		m->regions[i].guest_phys_addr = (uint64_t)i * 0x100000;
		m->regions[i].memory_size = PAGE;
		m->regions[i].userspace_addr = (uintptr_t)(mem + (i % MAX_MEM_REGIONS) * PAGE);
	}
	m->nregions = 1;
	m->padding = 1;
	EXPECT(fd, VHOST_SET_MEM_TABLE, m, EOPNOTSUPP, "padding 1");
	m->padding = 0x80000000;
	EXPECT(fd, VHOST_SET_MEM_TABLE, m, EOPNOTSUPP, "padding 0x80000000");
	m->padding = 0;
	m->nregions = MAX_MEM_REGIONS + 1;
	EXPECT(fd, VHOST_SET_MEM_TABLE, m, E2BIG, "nregions %d", MAX_MEM_REGIONS + 1);
	m->nregions = 0xffffffff;
	EXPECT(fd, VHOST_SET_MEM_TABLE, m, E2BIG, "nregions 0xffffffff");
	m->nregions = MAX_MEM_REGIONS;
	EXPECT(fd, VHOST_SET_MEM_TABLE, m, 0, "nregions %d", MAX_MEM_REGIONS);
	m->nregions = 1;
	EXPECT(fd, VHOST_SET_MEM_TABLE, m, 0, "nregions 1, replacing 64");
	m->nregions = 0;
	EXPECT(fd, VHOST_SET_MEM_TABLE, m, 0, "nregions 0");
	EXPECT(fd, VHOST_SET_MEM_TABLE, m, 0, "nregions 0 again");
	free(m);
	close(fd);
	return result();
}

/* Regions that cannot describe a range: size 0, gpa + size past 2^64. */
static int case_mem_table_bad_region(void)
{
	int fd = open_owned();
	uint8_t *mem = map(2 * PAGE, PROT_READ | PROT_WRITE);
	uint64_t ua = (uintptr_t)mem;
	struct vhost_memory *m;
	int e;

	e = set_mem1(fd, 0x1000, 0, ua);
	CHECK(e == EFAULT, "VHOST_SET_MEM_TABLE (memory_size 0 at gpa 0x1000): expected %s, got %s",
	      errstr(EFAULT), errstr(e));
	e = set_mem1(fd, 0xfffffffffffff000ULL, 0x2000, ua);
	CHECK(e == EFAULT, "VHOST_SET_MEM_TABLE (gpa 0xfffffffffffff000 + size 0x2000 wraps): expected %s, got %s",
	      errstr(EFAULT), errstr(e));
	e = set_mem1(fd, 0x8000000000000000ULL, 0x8000000000000001ULL, ua);
	CHECK(e == EFAULT, "VHOST_SET_MEM_TABLE (gpa 2^63 + size 2^63+1 wraps): expected %s, got %s",
	      errstr(EFAULT), errstr(e));
	e = set_mem1(fd, 0xfffffffffffff000ULL, 0x1000, ua);
	CHECK(e == 0, "VHOST_SET_MEM_TABLE (gpa 0xfffffffffffff000 + size 0x1000 ends exactly at 2^64): expected %s, got %s",
	      errstr(0), errstr(e));

	/* one bad region among good ones refuses the whole table */
	m = mem_new(3);
	m->regions[0] = (struct vhost_memory_region){ 0, PAGE, ua, 0 };
	m->regions[1] = (struct vhost_memory_region){ 0x100000, 0, ua, 0 };
	m->regions[2] = (struct vhost_memory_region){ 0x200000, PAGE, ua + PAGE, 0 };
	EXPECT(fd, VHOST_SET_MEM_TABLE, m, EFAULT, "second of 3 regions has memory_size 0");
	free(m);

	/* vhost maps [0, 2^64-1] for size 0 at gpa 0 (last = gpa + size - 1 wraps); vhostx refuses (abi.md). */
	e = set_mem1(fd, 0, 0, ua);
	CHECK(e == (g_vhostx ? EFAULT : 0), "VHOST_SET_MEM_TABLE (memory_size 0 at gpa 0): expected %s, got %s",
	      errstr(g_vhostx ? EFAULT : 0), errstr(e));
	/* Not asserted (no VMM relies on it): printed for the record. */
	m = mem_new(2);
	m->regions[0] = (struct vhost_memory_region){ 0, 2 * PAGE, ua, 0 };
	m->regions[1] = (struct vhost_memory_region){ PAGE, 2 * PAGE, ua, 0 };
	diag("diag: overlapping regions -> %s", errstr(xioctl(fd, VHOST_SET_MEM_TABLE, m)));
	free(m);
	close(fd);
	return result();
}

/* Huge regions that are reserved but not backed, or not mapped at all, are accepted without pinning. */
static int case_mem_table_unbacked(void)
{
	const size_t huge = 64ULL << 30;
	int fd = open_owned();
	long rss0, rss1, pin0, pin1;
	uint8_t *res, *hole;
	struct vhost_memory *m = mem_new(2);
	int e;

	res = map(huge, PROT_NONE);
	hole = map(huge, PROT_NONE);
	munmap(hole, huge); /* an address range with nothing mapped */
	rss0 = status_kb("VmRSS");
	pin0 = status_kb("VmPin");
	m->nregions = 1;
	m->regions[0] = (struct vhost_memory_region){ 0, huge, (uintptr_t)res, 0 };
	e = xioctl(fd, VHOST_SET_MEM_TABLE, m);
	CHECK(e == 0, "VHOST_SET_MEM_TABLE (64 GiB PROT_NONE reservation): expected %s, got %s",
	      errstr(0), errstr(e));
	m->regions[0].userspace_addr = (uintptr_t)hole;
	e = xioctl(fd, VHOST_SET_MEM_TABLE, m);
	CHECK(e == 0, "VHOST_SET_MEM_TABLE (64 GiB unmapped range): expected %s, got %s",
	      errstr(0), errstr(e));
	m->nregions = 2;
	m->regions[0].userspace_addr = (uintptr_t)res;
	m->regions[1] = (struct vhost_memory_region){ huge, huge, (uintptr_t)hole, 0 };
	e = xioctl(fd, VHOST_SET_MEM_TABLE, m);
	CHECK(e == 0, "VHOST_SET_MEM_TABLE (128 GiB in two unbacked regions): expected %s, got %s",
	      errstr(0), errstr(e));
	rss1 = status_kb("VmRSS");
	pin1 = status_kb("VmPin");
	diag("VmRSS %ld -> %ld kB, VmPin %ld -> %ld kB", rss0, rss1, pin0, pin1);
	CHECK(rss1 - rss0 < 64 * 1024, "VmRSS grew by %ld kB: the table was populated", rss1 - rss0);
	CHECK(pin1 == pin0, "VmPin grew by %ld kB: the table was pinned", pin1 - pin0);
	free(m);
	close(fd);
	munmap(res, huge);
	return result();
}

/*
 * A userspace_addr outside the user address space. vhost checks the table
 * with access_ok() only against vqs that have a backend: without one the
 * table is accepted and the check happens at NET_SET_BACKEND; with one it is
 * refused at SET_MEM_TABLE. vhostx refuses it at SET_MEM_TABLE always.
 */
static int case_mem_table_kernel_addr(void)
{
	struct ring r;
	int fd = open_ready(&r), tap = open_tap(), e, want;
	uint64_t good = (uintptr_t)r.mem;

	/* vhost_net defers the check to NET_SET_BACKEND; vhostx checks every table at once (abi.md). */
	want = g_vhostx ? EFAULT : 0;
	e = set_mem1(fd, 0, PAGE, KERNEL_ADDR);
	CHECK(e == want, "VHOST_SET_MEM_TABLE (userspace_addr 0x%llx, no backend yet): expected %s, got %s",
	      KERNEL_ADDR, errstr(want), errstr(e));
	if (!g_vhostx) {
		set_backend(fd, 0, tap, EFAULT, "tap, the memory table has a kernel address");
		set_backend(fd, 1, -1, EFAULT, "fd -1, the memory table has a kernel address");
	} else {
		/* the refused table left the previous one in place */
		set_backend(fd, 0, tap, 0, "tap, after a refused SET_MEM_TABLE");
		set_backend(fd, 0, -1, 0, "detach");
	}

	e = set_mem1(fd, 0, r.len, good);
	REQUIRE(e == 0, "VHOST_SET_MEM_TABLE (the rings): expected %s, got %s", errstr(0), errstr(e));
	if (!set_backend(fd, 0, tap, 0, "tap"))
		return FAIL;
	e = set_mem1(fd, 0, PAGE, KERNEL_ADDR);
	CHECK(e == EFAULT, "VHOST_SET_MEM_TABLE (userspace_addr 0x%llx, backend attached): expected %s, got %s",
	      KERNEL_ADDR, errstr(EFAULT), errstr(e));
	e = set_mem1(fd, 0, PAGE, KERNEL_TEXT);
	CHECK(e == EFAULT, "VHOST_SET_MEM_TABLE (userspace_addr 0x%llx, backend attached): expected %s, got %s",
	      KERNEL_TEXT, errstr(EFAULT), errstr(e));
	e = set_mem1(fd, 0, 0x2000, 0xfffffffffffff000ULL);
	CHECK(e == EFAULT, "VHOST_SET_MEM_TABLE (userspace_addr + size wraps, backend attached): expected %s, got %s",
	      errstr(EFAULT), errstr(e));
	e = set_mem1(fd, 0, r.len, good);
	CHECK(e == 0, "VHOST_SET_MEM_TABLE (good table, backend attached): expected %s, got %s",
	      errstr(0), errstr(e));
	set_backend(fd, 0, -1, 0, "detach");
	close(fd);
	close(tap);
	return result();
}

/* SET_VRING_NUM: 0, not a power of 2, > 0xffff -> EINVAL; powers of 2 up to 32768 -> 0. */
static int case_vring_num(void)
{
	static const unsigned int bad[] = { 0, 3, 6, 255, 257, 0xffff, 0x10000, 0x20000, 0x80000000, 0xffffffff };
	static const unsigned int good[] = { 1, 2, 4, 64, 256, 1024, 4096, 32768 };
	int fd = open_owned();
	struct vhost_vring_state s;
	unsigned int i, q;

	for (q = 0; q < 2; q++) {
		for (i = 0; i < ARRAY_SIZE(bad); i++) {
			s = (struct vhost_vring_state){ .index = q, .num = bad[i] };
			EXPECT(fd, VHOST_SET_VRING_NUM, &s, EINVAL, "vq %u, num %u", q, bad[i]);
		}
		for (i = 0; i < ARRAY_SIZE(good); i++) {
			s = (struct vhost_vring_state){ .index = q, .num = good[i] };
			EXPECT(fd, VHOST_SET_VRING_NUM, &s, 0, "vq %u, num %u", q, good[i]);
		}
	}
	close(fd);
	return result();
}

/* Every vring ioctl and NET_SET_BACKEND with index >= 2 -> ENOBUFS. */
static int case_vring_index(void)
{
	static const uint32_t idx[] = { 2, 3, 256, 0x80000000, 0xffffffff };
	int fd = open_owned(), efd = new_eventfd();
	struct ring r;
	unsigned int i;

	ring_alloc(&r, 256);
	for (i = 0; i < ARRAY_SIZE(idx); i++) {
		uint32_t q = idx[i];
		struct vhost_vring_state s = { .index = q, .num = 256 };
		struct vhost_vring_addr a = ring_addr(&r, q);
		struct vhost_vring_file f = { .index = q, .fd = efd };
		struct vhost_vring_file nb = { .index = q, .fd = -1 };

		EXPECT(fd, VHOST_SET_VRING_NUM, &s, ENOBUFS, "index %u", q);
		EXPECT(fd, VHOST_SET_VRING_ADDR, &a, ENOBUFS, "index %u", q);
		s.num = 0;
		EXPECT(fd, VHOST_SET_VRING_BASE, &s, ENOBUFS, "index %u", q);
		EXPECT(fd, VHOST_GET_VRING_BASE, &s, ENOBUFS, "index %u", q);
		EXPECT(fd, VHOST_SET_VRING_KICK, &f, ENOBUFS, "index %u, eventfd", q);
		EXPECT(fd, VHOST_SET_VRING_CALL, &f, ENOBUFS, "index %u, eventfd", q);
		EXPECT(fd, VHOST_SET_VRING_ERR, &f, ENOBUFS, "index %u, eventfd", q);
		EXPECT(fd, VHOST_SET_VRING_BUSYLOOP_TIMEOUT, &s, ENOBUFS, "index %u", q);
		EXPECT(fd, VHOST_GET_VRING_BUSYLOOP_TIMEOUT, &s, ENOBUFS, "index %u", q);
		EXPECT(fd, VHOST_SET_VRING_ENDIAN, &s, ENOBUFS, "index %u", q);
		EXPECT(fd, VHOST_GET_VRING_ENDIAN, &s, ENOBUFS, "index %u", q);
		EXPECT(fd, VHOST_NET_SET_BACKEND, &nb, ENOBUFS, "index %u, fd -1", q);
	}
	close(efd);
	close(fd);
	return result();
}

/* SET_VRING_ADDR: flag and alignment checks. */
static int case_vring_addr(void)
{
	struct ring r;
	int fd = open_owned();
	struct vhost_vring_addr a;
	unsigned int q;

	ring_alloc(&r, 256);
	for (q = 0; q < 2; q++) {
		a = ring_addr(&r, q);
		EXPECT(fd, VHOST_SET_VRING_ADDR, &a, 0, "vq %u, aligned", q);
		a.flags = BIT(1);
		EXPECT(fd, VHOST_SET_VRING_ADDR, &a, EOPNOTSUPP, "vq %u, flags 0x2", q);
		a.flags = 0x80000000;
		EXPECT(fd, VHOST_SET_VRING_ADDR, &a, EOPNOTSUPP, "vq %u, flags 0x80000000", q);
		a.flags = 0;
		a.avail_user_addr = r.avail + 1;
		EXPECT(fd, VHOST_SET_VRING_ADDR, &a, EINVAL, "vq %u, avail 1 byte off 2-alignment", q);
		a.avail_user_addr = r.avail + 2;
		EXPECT(fd, VHOST_SET_VRING_ADDR, &a, 0, "vq %u, avail 2-aligned", q);
		a.avail_user_addr = r.avail;
		a.used_user_addr = r.used + 2;
		EXPECT(fd, VHOST_SET_VRING_ADDR, &a, EINVAL, "vq %u, used 2 bytes off 4-alignment", q);
		a.used_user_addr = r.used + 1;
		EXPECT(fd, VHOST_SET_VRING_ADDR, &a, EINVAL, "vq %u, used 1 byte off 4-alignment", q);
		a.used_user_addr = r.used + 4;
		EXPECT(fd, VHOST_SET_VRING_ADDR, &a, 0, "vq %u, used 4-aligned", q);
		a.used_user_addr = r.used;
		a.log_guest_addr = 2;
		EXPECT(fd, VHOST_SET_VRING_ADDR, &a, EINVAL, "vq %u, log_guest_addr 2 (not 4-aligned), no log flag", q);
		a.log_guest_addr = 0x1000;
		/* Without a backend, vhost does not check the addresses themselves. */
		a.desc_user_addr = KERNEL_ADDR;
		EXPECT(fd, VHOST_SET_VRING_ADDR, &a, 0, "vq %u, desc at a kernel address, no backend: checked at attach", q);
		a = ring_addr(&r, q);
		a.flags = BIT(VHOST_VRING_F_LOG);
		EXPECT(fd, VHOST_SET_VRING_ADDR, &a, 0, "vq %u, flags VHOST_VRING_F_LOG (dirty logging)", q);
		a.flags = BIT(VHOST_VRING_F_LOG) << 1;
		EXPECT(fd, VHOST_SET_VRING_ADDR, &a, EOPNOTSUPP, "vq %u, an unknown vring flag", q);
		a = ring_addr(&r, q);
		EXPECT(fd, VHOST_SET_VRING_ADDR, &a, 0, "vq %u, restore", q);
	}
	a = ring_addr(&r, 0);
	a.desc_user_addr = r.desc + 8;
	diag("diag: desc 8 bytes off 16-alignment -> %s (vhost does not check desc alignment)",
	     errstr(xioctl(fd, VHOST_SET_VRING_ADDR, &a)));
	close(fd);
	return result();
}

/* SET_VRING_BASE > 0xffff -> EINVAL; GET_VRING_BASE returns what SET set, per vq, with its index. */
static int case_vring_base(void)
{
	int fd = open_owned();
	struct vhost_vring_state s;
	static const unsigned int bad[] = { 0x10000, 0x12345, 0xffffffff };
	unsigned int i, q;

	for (q = 0; q < 2; q++) {
		s = (struct vhost_vring_state){ .index = q, .num = 0xdead };
		EXPECT(fd, VHOST_GET_VRING_BASE, &s, 0, "vq %u, fresh", q);
		CHECK(s.num == 0 && s.index == q, "VHOST_GET_VRING_BASE vq %u fresh: index %u num %u, want index %u num 0",
		      q, s.index, s.num, q);
		for (i = 0; i < ARRAY_SIZE(bad); i++) {
			s = (struct vhost_vring_state){ .index = q, .num = bad[i] };
			EXPECT(fd, VHOST_SET_VRING_BASE, &s, EINVAL, "vq %u, num 0x%x", q, bad[i]);
		}
	}
	s = (struct vhost_vring_state){ .index = 0, .num = 0xffff };
	EXPECT(fd, VHOST_SET_VRING_BASE, &s, 0, "vq 0, num 0xffff");
	s = (struct vhost_vring_state){ .index = 1, .num = 1234 };
	EXPECT(fd, VHOST_SET_VRING_BASE, &s, 0, "vq 1, num 1234");
	s = (struct vhost_vring_state){ .index = 0, .num = 0 };
	EXPECT(fd, VHOST_GET_VRING_BASE, &s, 0, "vq 0");
	CHECK(s.index == 0 && s.num == 0xffff, "VHOST_GET_VRING_BASE vq 0: index %u num %u, want index 0 num 65535",
	      s.index, s.num);
	s = (struct vhost_vring_state){ .index = 1, .num = 0 };
	EXPECT(fd, VHOST_GET_VRING_BASE, &s, 0, "vq 1");
	CHECK(s.index == 1 && s.num == 1234, "VHOST_GET_VRING_BASE vq 1: index %u num %u, want index 1 num 1234",
	      s.index, s.num);
	/* the refused value did not stick */
	s = (struct vhost_vring_state){ .index = 1, .num = 0x10000 };
	EXPECT(fd, VHOST_SET_VRING_BASE, &s, EINVAL, "vq 1, num 0x10000");
	EXPECT(fd, VHOST_GET_VRING_BASE, &s, 0, "vq 1 after a refused SET");
	CHECK(s.num == 1234, "VHOST_GET_VRING_BASE vq 1 after refused SET 0x10000: %u, want 1234", s.num);
	close(fd);
	return result();
}

/* SET/GET_VRING_BUSYLOOP_TIMEOUT round trip, per vq; any u32 accepted. */
static int case_vring_busyloop(void)
{
	static const unsigned int vals[] = { 0, 1, 50, 1000000, 0xffffffff };
	int fd = open_owned();
	struct vhost_vring_state s;
	unsigned int i, q;

	for (q = 0; q < 2; q++) {
		s = (struct vhost_vring_state){ .index = q, .num = 0xdead };
		EXPECT(fd, VHOST_GET_VRING_BUSYLOOP_TIMEOUT, &s, 0, "vq %u, fresh", q);
		CHECK(s.index == q && s.num == 0, "VHOST_GET_VRING_BUSYLOOP_TIMEOUT vq %u fresh: index %u num %u, want 0",
		      q, s.index, s.num);
	}
	for (i = 0; i < ARRAY_SIZE(vals); i++) {
		for (q = 0; q < 2; q++) {
			s = (struct vhost_vring_state){ .index = q, .num = vals[i] + q };
			EXPECT(fd, VHOST_SET_VRING_BUSYLOOP_TIMEOUT, &s, 0, "vq %u, %u", q, vals[i] + q);
		}
		for (q = 0; q < 2; q++) {
			s = (struct vhost_vring_state){ .index = q, .num = 0xdead };
			EXPECT(fd, VHOST_GET_VRING_BUSYLOOP_TIMEOUT, &s, 0, "vq %u", q);
			CHECK(s.index == q && s.num == vals[i] + q,
			      "VHOST_GET_VRING_BUSYLOOP_TIMEOUT vq %u: index %u num %u, want %u",
			      q, s.index, s.num, vals[i] + q);
		}
	}
	close(fd);
	return result();
}

static bool cross_endian_legacy(void)
{
	struct utsname u;
	char path[300], line[256];
	bool y = false;
	FILE *f;

	if (uname(&u))
		return false;
	snprintf(path, sizeof(path), "/boot/config-%s", u.release);
	f = fopen(path, "r");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (!strcmp(line, "CONFIG_VHOST_CROSS_ENDIAN_LEGACY=y\n"))
			y = true;
	fclose(f);
	return y;
}

/* SET/GET_VRING_ENDIAN: without CONFIG_VHOST_CROSS_ENDIAN_LEGACY vhost answers -ENOIOCTLCMD = ENOTTY. */
static int case_vring_endian(void)
{
	int fd, q;
	struct vhost_vring_state s;

	if (!g_vhostx && cross_endian_legacy()) {
		fprintf(stderr, "SKIP: this kernel has CONFIG_VHOST_CROSS_ENDIAN_LEGACY=y\n");
		return SKIP;
	}
	fd = open_owned();
	for (q = 0; q < 2; q++) {
		s = (struct vhost_vring_state){ .index = q, .num = VHOST_VRING_LITTLE_ENDIAN };
		EXPECT(fd, VHOST_SET_VRING_ENDIAN, &s, ENOTTY, "vq %d, little endian", q);
		s.num = VHOST_VRING_BIG_ENDIAN;
		EXPECT(fd, VHOST_SET_VRING_ENDIAN, &s, ENOTTY, "vq %d, big endian", q);
		s.num = 7;
		EXPECT(fd, VHOST_SET_VRING_ENDIAN, &s, ENOTTY, "vq %d, 7", q);
		EXPECT(fd, VHOST_GET_VRING_ENDIAN, &s, ENOTTY, "vq %d", q);
	}
	close(fd);
	return result();
}

/* SET_VRING_KICK/CALL/ERR: eventfd ok, -1 unbinds, non-eventfd -> EINVAL, bad fd -> EBADF. */
static int case_vring_eventfds(void)
{
	static const struct {
		unsigned long req;
		const char *name;
	} ops[] = {
		{ VHOST_SET_VRING_KICK, "VHOST_SET_VRING_KICK" },
		{ VHOST_SET_VRING_CALL, "VHOST_SET_VRING_CALL" },
		{ VHOST_SET_VRING_ERR, "VHOST_SET_VRING_ERR" },
	};
	int fd = open_owned(), e1 = new_eventfd(), e2 = new_eventfd(), null = open_null();
	int pfd[2], sock, bad;
	unsigned int i, q;

	if (pipe2(pfd, O_CLOEXEC) || (sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0) {
		failf("pipe/socket: %s", strerror(errno));
		return FAIL;
	}
	bad = closed_fd(); /* after every open of this case */
	for (i = 0; i < ARRAY_SIZE(ops); i++) {
		for (q = 0; q < 2; q++) {
			struct vhost_vring_file f = { .index = q };
#define EV(fdv, want, what)                                                             \
	do {                                                                            \
		f.fd = (fdv);                                                           \
		expect_ioctl(__LINE__, fd, ops[i].req, ops[i].name, &f, (want),        \
			     "vq %u, %s", q, (what));                                   \
	} while (0)
			EV(-1, 0, "-1, nothing bound");
			EV(e1, 0, "eventfd");
			EV(e1, 0, "the same eventfd again");
			EV(e2, 0, "another eventfd");
			EV(-1, 0, "-1 unbinds");
			EV(-1, 0, "-1 again");
			EV(null, EINVAL, "/dev/null");
			EV(pfd[0], EINVAL, "a pipe");
			EV(sock, EINVAL, "a UDP socket");
			EV(fd, EINVAL, "the vhost fd itself");
			EV(bad, EBADF, "a closed fd");
			EV(-2, EBADF, "-2");
			EV(INT_MAX, EBADF, "INT_MAX");
			EV(e1, 0, "eventfd after the refused ones");
#undef EV
		}
	}
	close(fd);
	close(e1);
	close(e2);
	close(null);
	close(pfd[0]);
	close(pfd[1]);
	close(sock);
	return result();
}

/* NET_SET_BACKEND with a tap: attach, re-attach, detach with -1, per vq. */
static int case_backend_tap(void)
{
	struct ring r;
	int fd = open_ready(&r), tap = open_tap(), tap2 = open_tap();
	unsigned int q;

	for (q = 0; q < 2; q++) {
		set_backend(fd, q, -1, 0, "-1, nothing attached");
		set_backend(fd, q, tap, 0, "tap");
		set_backend(fd, q, tap, 0, "the same tap again");
		set_backend(fd, q, tap2, 0, "another tap replaces it");
		set_backend(fd, q, -1, 0, "-1 detaches");
		set_backend(fd, q, -1, 0, "-1 again");
	}
	/* the usual VMM layout: one tap on both queues, then close the tap fd; vhost holds its own reference */
	set_backend(fd, 0, tap, 0, "tap on rx");
	set_backend(fd, 1, tap, 0, "tap on tx");
	close(tap);
	close(tap2);
	set_backend(fd, 0, -1, 0, "detach rx after the tap fd was closed");
	set_backend(fd, 1, -1, 0, "detach tx after the tap fd was closed");
	close(fd);
	return result();
}

/* With a backend attached: SET_VRING_NUM/BASE -> EBUSY; ADDR is checked; others still work. */
static int case_backend_busy(void)
{
	struct ring r;
	int fd = open_ready(&r), tap = open_tap(), efd = new_eventfd();
	struct vhost_vring_state s;
	struct vhost_vring_addr a;
	struct vhost_vring_file f = { .index = 0, .fd = efd };

	if (!set_backend(fd, 0, tap, 0, "tap"))
		return FAIL;
	s = (struct vhost_vring_state){ .index = 0, .num = 128 };
	EXPECT(fd, VHOST_SET_VRING_NUM, &s, EBUSY, "vq 0, backend attached");
	s.num = 256;
	EXPECT(fd, VHOST_SET_VRING_NUM, &s, EBUSY, "vq 0, same num, backend attached");
	s.num = 5;
	EXPECT(fd, VHOST_SET_VRING_BASE, &s, EBUSY, "vq 0, backend attached");
	s = (struct vhost_vring_state){ .index = 0, .num = 0xdead };
	EXPECT(fd, VHOST_GET_VRING_BASE, &s, 0, "vq 0, backend attached");
	CHECK(s.num == 0, "VHOST_GET_VRING_BASE vq 0 with backend: %u, want 0", s.num);
	s = (struct vhost_vring_state){ .index = 0, .num = 20 };
	EXPECT(fd, VHOST_SET_VRING_BUSYLOOP_TIMEOUT, &s, 0, "vq 0, backend attached");
	EXPECT(fd, VHOST_SET_VRING_KICK, &f, 0, "vq 0, backend attached");
	EXPECT(fd, VHOST_SET_VRING_CALL, &f, 0, "vq 0, backend attached");
	/* the other vq has no backend */
	s = (struct vhost_vring_state){ .index = 1, .num = 128 };
	EXPECT(fd, VHOST_SET_VRING_NUM, &s, 0, "vq 1, no backend");
	s.num = 256;
	EXPECT(fd, VHOST_SET_VRING_NUM, &s, 0, "vq 1, no backend");
	s.num = 3;
	EXPECT(fd, VHOST_SET_VRING_BASE, &s, 0, "vq 1, no backend");
	/* with a backend the new addresses must be accessible */
	a = ring_addr(&r, 0);
	EXPECT(fd, VHOST_SET_VRING_ADDR, &a, 0, "vq 0, same rings, backend attached");
	a.used_user_addr = KERNEL_ADDR;
	EXPECT(fd, VHOST_SET_VRING_ADDR, &a, EINVAL, "vq 0, used at a kernel address, backend attached");
	a = ring_addr(&r, 0);
	a.desc_user_addr = KERNEL_ADDR;
	EXPECT(fd, VHOST_SET_VRING_ADDR, &a, EINVAL, "vq 0, desc at a kernel address, backend attached");
	a = ring_addr(&r, 0);
	a.avail_user_addr = r.avail + 1;
	EXPECT(fd, VHOST_SET_VRING_ADDR, &a, EINVAL, "vq 0, avail misaligned, backend attached");
	/* detach: NUM and BASE are allowed again */
	if (!set_backend(fd, 0, -1, 0, "detach"))
		return FAIL;
	s = (struct vhost_vring_state){ .index = 0, .num = 128 };
	EXPECT(fd, VHOST_SET_VRING_NUM, &s, 0, "vq 0 after detach");
	s.num = 5;
	EXPECT(fd, VHOST_SET_VRING_BASE, &s, 0, "vq 0 after detach");
	close(fd);
	close(tap);
	close(efd);
	return result();
}

/* NET_SET_BACKEND with something that is neither a tap/macvtap nor a raw packet socket -> ENOTSOCK. */
static int case_backend_not_socket(void)
{
	struct ring r;
	int fd = open_ready(&r), efd = new_eventfd(), null = open_null(), bad;
	int reg, udp, unx, pdgram, tun_unattached;
	unsigned int q;

	reg = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	unx = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	pdgram = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ALL));
	REQUIRE(reg >= 0 && udp >= 0 && unx >= 0 && pdgram >= 0, "open/socket: %s", strerror(errno));
	bad = closed_fd(); /* after every open of this case */
	for (q = 0; q < 2; q++) {
		set_backend(fd, q, reg, ENOTSOCK, "a regular file");
		set_backend(fd, q, null, ENOTSOCK, "/dev/null");
		set_backend(fd, q, efd, ENOTSOCK, "an eventfd");
		set_backend(fd, q, fd, ENOTSOCK, "the vhost fd itself");
		set_backend(fd, q, udp, ENOTSOCK, "a UDP socket");
		set_backend(fd, q, unx, ENOTSOCK, "an AF_UNIX socket");
		set_backend(fd, q, pdgram, ENOTSOCK, "an AF_PACKET SOCK_DGRAM socket");
		set_backend(fd, q, bad, ENOTSOCK, "a closed fd");
		set_backend(fd, q, -2, ENOTSOCK, "-2");
		set_backend(fd, q, INT_MAX, ENOTSOCK, "INT_MAX");
	}
	/* nothing stuck: NUM still allowed */
	struct vhost_vring_state s = { .index = 0, .num = 128 };
	EXPECT(fd, VHOST_SET_VRING_NUM, &s, 0, "after refused backends");
	tun_unattached = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (tun_unattached >= 0) {
		struct vhost_vring_file f = { .index = 1, .fd = tun_unattached };
		int e = xioctl(fd, VHOST_NET_SET_BACKEND, &f);

		/* It polls as EPOLLERR: refused before it replaces anything. */
		CHECK(e == EINVAL, "VHOST_NET_SET_BACKEND (tun fd without TUNSETIFF): expected %s, got %s",
		      errstr(EINVAL), errstr(e));
		close(tun_unattached);
	}
	close(fd);
	close(efd);
	close(null);
	close(reg);
	close(udp);
	close(unx);
	close(pdgram);
	return result();
}

/* vhost_net also takes an AF_PACKET SOCK_RAW socket as a backend (get_raw_socket). */
static int case_backend_packet_socket(void)
{
	struct ring r;
	int fd = open_ready(&r), ps;

	ps = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	REQUIRE(ps >= 0, "socket(AF_PACKET, SOCK_RAW): %s", strerror(errno));
	set_backend(fd, 0, ps, 0, "AF_PACKET SOCK_RAW socket");
	set_backend(fd, 1, ps, 0, "AF_PACKET SOCK_RAW socket");
	set_backend(fd, 1, -1, 0, "detach");
	set_backend(fd, 0, -1, 0, "detach");
	close(fd);
	close(ps);
	return result();
}

/*
 * NET_SET_BACKEND checks the rings first: with rings outside user memory or a
 * used ring the kernel cannot write, it fails with EFAULT. vhost_net also
 * fails with EFAULT before any SET_MEM_TABLE.
 */
static int case_backend_bad_ring(void)
{
	struct ring r;
	int fd = open_owned(), tap = open_tap(), e, want;
	uint8_t *none = map(PAGE, PROT_NONE);
	struct vhost_vring_addr a;

	ring_alloc(&r, 256);
	if (!vq_setup(fd, 0, &r) || !vq_setup(fd, 1, &r))
		return FAIL;
	/* No table yet means no vq can be accessed: EFAULT, even for -1. */
	want = EFAULT;
	set_backend(fd, 0, -1, want, "-1, no SET_MEM_TABLE yet");
	set_backend(fd, 0, tap, want, "tap, no SET_MEM_TABLE yet");
	e = set_mem1(fd, 0, r.len, (uintptr_t)r.mem);
	REQUIRE(e == 0, "VHOST_SET_MEM_TABLE: expected %s, got %s", errstr(0), errstr(e));

	a = ring_addr(&r, 0);
	a.used_user_addr = (uintptr_t)none;
	MUST(fd, VHOST_SET_VRING_ADDR, &a, "vq 0, used ring on a PROT_NONE page, no backend");
	set_backend(fd, 0, tap, EFAULT, "tap, used ring not writable");
	a.used_user_addr = KERNEL_ADDR;
	MUST(fd, VHOST_SET_VRING_ADDR, &a, "vq 0, used ring at a kernel address, no backend");
	set_backend(fd, 0, tap, EFAULT, "tap, used ring at a kernel address");
	a = ring_addr(&r, 0);
	a.desc_user_addr = KERNEL_ADDR;
	MUST(fd, VHOST_SET_VRING_ADDR, &a, "vq 0, desc at a kernel address, no backend");
	set_backend(fd, 0, tap, EFAULT, "tap, desc at a kernel address");
	/* fixed rings: attach works, so nothing was left half-attached */
	a = ring_addr(&r, 0);
	MUST(fd, VHOST_SET_VRING_ADDR, &a, "vq 0, good rings");
	struct vhost_vring_state s = { .index = 0, .num = 256 };
	EXPECT(fd, VHOST_SET_VRING_NUM, &s, 0, "vq 0, no backend after the failed attaches");
	set_backend(fd, 0, tap, 0, "tap, good rings");
	set_backend(fd, 0, -1, 0, "detach");
	close(fd);
	close(tap);
	return result();
}

/* vhostx's limit of workers per device (kmod/dev.h, VHX_MAX_WORKERS). */
#define VHX_MAX_WORKERS 16

/*
 * vhost_net never wired the worker ioctls (vhost-scsi has them, since 6.5):
 * on 6.1 and 6.12 they are unknown to it, ENOTTY. vhostx offers them
 * (differences.md); worker_ioctls checks them there.
 */
static int case_worker_ioctls_vhost_net(void)
{
	static const struct {
		unsigned long req;
		const char *what;
	} w[] = {
		{ VHOST_NEW_WORKER, "VHOST_NEW_WORKER" },
		{ VHOST_FREE_WORKER, "VHOST_FREE_WORKER" },
		{ VHOST_ATTACH_VRING_WORKER, "VHOST_ATTACH_VRING_WORKER" },
		{ VHOST_GET_VRING_WORKER, "VHOST_GET_VRING_WORKER" },
	};
	uint64_t buf[4];
	int fd = open_owned();
	unsigned int i;

	if (g_vhostx) {
		close(fd);
		fprintf(stderr, "SKIP: vhostx offers the worker ioctls (worker_ioctls)\n");
		return SKIP;
	}
	for (i = 0; i < ARRAY_SIZE(w); i++) {
		memset(buf, 0, sizeof(buf));
		expect_ioctl(__LINE__, fd, w[i].req, w[i].what, buf, ENOTTY, "owner, worker 0, vq 0");
	}
	close(fd);
	return result();
}

/*
 * vhostx's workers, with vhost-scsi's errnos (drivers/vhost/vhost.c, 6.5):
 * no owner EINVAL, another process EPERM, an unknown id ENODEV, freeing a
 * worker that serves a queue EBUSY, moving a queue that has a kick eventfd
 * or a backend EBUSY, a queue index out of range ENOBUFS, no id left EBUSY.
 */
static int case_worker_ioctls(void)
{
	struct vhost_worker_state st = { 0 };
	struct vhost_vring_worker vw = { 0 };
	struct vhost_vring_file kick;
	unsigned int i, n;
	int fd, efd, rc;
	pid_t pid;

	if (!g_vhostx) {
		fprintf(stderr, "SKIP: vhost_net has no worker ioctls (worker_ioctls_vhost_net)\n");
		return SKIP;
	}
	fd = open_dev();
	EXPECT(fd, VHOST_NEW_WORKER, &st, EINVAL, "no owner");
	EXPECT(fd, VHOST_GET_VRING_WORKER, &vw, EINVAL, "no owner");
	MUST(fd, VHOST_SET_OWNER, NULL, "");
	/* worker 0 came with SET_OWNER and serves both queues */
	for (i = 0; i < 2; i++) {
		vw = (struct vhost_vring_worker){ .index = i, .worker_id = 99 };
		EXPECT(fd, VHOST_GET_VRING_WORKER, &vw, 0, "vq %u", i);
		CHECK(vw.index == i && vw.worker_id == 0,
		      "GET_VRING_WORKER vq %u: index %u worker %u, want worker 0", i, vw.index, vw.worker_id);
	}
	vw.index = 2;
	EXPECT(fd, VHOST_GET_VRING_WORKER, &vw, ENOBUFS, "vq 2");
	EXPECT(fd, VHOST_GET_VRING_WORKER, NULL, EFAULT, "NULL argument");
	st.worker_id = 77;
	EXPECT(fd, VHOST_NEW_WORKER, &st, 0, "first new worker");
	CHECK(st.worker_id == 1, "NEW_WORKER: id %u, want 1", st.worker_id);
	EXPECT(fd, VHOST_NEW_WORKER, NULL, EFAULT, "NULL argument");
	/* the id EFAULT would have returned was freed again: the next is 2 */
	EXPECT(fd, VHOST_NEW_WORKER, &st, 0, "second new worker");
	CHECK(st.worker_id == 2, "NEW_WORKER: id %u, want 2", st.worker_id);
	vw = (struct vhost_vring_worker){ .index = 0, .worker_id = 1 };
	EXPECT(fd, VHOST_ATTACH_VRING_WORKER, &vw, 0, "vq 0 to worker 1");
	vw.worker_id = 99;
	EXPECT(fd, VHOST_GET_VRING_WORKER, &vw, 0, "vq 0");
	CHECK(vw.worker_id == 1, "GET_VRING_WORKER vq 0: worker %u after ATTACH 1", vw.worker_id);
	vw = (struct vhost_vring_worker){ .index = 1, .worker_id = 7 };
	EXPECT(fd, VHOST_ATTACH_VRING_WORKER, &vw, ENODEV, "unknown worker 7");
	vw.worker_id = 1000000;
	EXPECT(fd, VHOST_ATTACH_VRING_WORKER, &vw, ENODEV, "worker 1000000");
	vw = (struct vhost_vring_worker){ .index = 5, .worker_id = 1 };
	EXPECT(fd, VHOST_ATTACH_VRING_WORKER, &vw, ENOBUFS, "vq 5");
	st.worker_id = 1;
	EXPECT(fd, VHOST_FREE_WORKER, &st, EBUSY, "worker 1 serves vq 0");
	st.worker_id = 0;
	EXPECT(fd, VHOST_FREE_WORKER, &st, EBUSY, "worker 0 serves vq 1");
	st.worker_id = 2;
	EXPECT(fd, VHOST_FREE_WORKER, &st, 0, "worker 2, idle");
	EXPECT(fd, VHOST_FREE_WORKER, &st, ENODEV, "worker 2 again");
	st.worker_id = 16;
	EXPECT(fd, VHOST_FREE_WORKER, &st, ENODEV, "worker 16");
	EXPECT(fd, VHOST_FREE_WORKER, NULL, EFAULT, "NULL argument");
	/* a queue with a kick eventfd does not move */
	efd = eventfd(0, EFD_CLOEXEC);
	kick = (struct vhost_vring_file){ .index = 1, .fd = efd };
	MUST(fd, VHOST_SET_VRING_KICK, &kick, "vq 1");
	vw = (struct vhost_vring_worker){ .index = 1, .worker_id = 1 };
	EXPECT(fd, VHOST_ATTACH_VRING_WORKER, &vw, EBUSY, "vq 1 has a kick eventfd");
	kick.fd = -1;
	MUST(fd, VHOST_SET_VRING_KICK, &kick, "vq 1, no kick");
	EXPECT(fd, VHOST_ATTACH_VRING_WORKER, &vw, 0, "vq 1 to worker 1, kick gone");
	st.worker_id = 0;
	EXPECT(fd, VHOST_FREE_WORKER, &st, 0, "worker 0, no queue left on it");
	vw = (struct vhost_vring_worker){ .index = 1, .worker_id = 0 };
	EXPECT(fd, VHOST_ATTACH_VRING_WORKER, &vw, ENODEV, "worker 0, freed");
	close(efd);
	/* another process: EPERM */
	pid = fork();
	if (pid < 0)
		return FAIL;
	if (pid == 0) {
		struct vhost_worker_state cst = { 0 };

		EXPECT(fd, VHOST_NEW_WORKER, &cst, EPERM, "child of the owner");
		EXPECT(fd, VHOST_FREE_WORKER, &cst, EPERM, "child of the owner");
		_exit(g_failed);
	}
	rc = wait_child(pid, "non-owner worker ioctls");
	/* ids run out at VHX_MAX_WORKERS: EBUSY, as vhost's xa_alloc() */
	for (n = 1; n < VHX_MAX_WORKERS + 1; n++)
		if (xioctl(fd, VHOST_NEW_WORKER, &st))
			break;
	CHECK(n == VHX_MAX_WORKERS, "NEW_WORKER succeeded %u times with 1 worker left, want %u",
	      n - 1, VHX_MAX_WORKERS - 1);
	EXPECT(fd, VHOST_NEW_WORKER, &st, EBUSY, "every id taken");
	/* RESET_OWNER ends them all; SET_OWNER brings worker 0 back */
	MUST(fd, VHOST_RESET_OWNER, NULL, "");
	MUST(fd, VHOST_SET_OWNER, NULL, "again");
	vw = (struct vhost_vring_worker){ .index = 1, .worker_id = 99 };
	EXPECT(fd, VHOST_GET_VRING_WORKER, &vw, 0, "vq 1 after RESET_OWNER");
	CHECK(vw.worker_id == 0, "GET_VRING_WORKER vq 1 after RESET_OWNER: worker %u, want 0", vw.worker_id);
	close(fd);
	return rc == PASS ? result() : FAIL;
}

/* vhostx's fork_from_owner_default module parameter: Y or N. */
static bool vhx_param_task_default(void)
{
	char buf[8] = "";
	FILE *f = fopen("/sys/module/vhostx/parameters/fork_from_owner_default", "r");

	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = 0;
		fclose(f);
	}
	return buf[0] == 'Y';
}

/*
 * VHOST_SET/GET_FORK_FROM_OWNER (6.17; Debian backported them to 6.12):
 * GET by anyone at any time, SET before SET_OWNER only (EBUSY), 0 or 1 only
 * (EINVAL), RESET_OWNER brings the default back. A kthread worker is no
 * thread of the owner, a task worker is one: vhost-<pid> (vhost_net) or
 * vhostx-<pid>. vhostx takes 1 where the kernel has vhost_task (6.12+),
 * else EINVAL; its default is 0 unless fork_from_owner_default=Y, where
 * vhost_net's is 1 (differences.md). A vhost_net without them (6.1) answers
 * ENOTTY once owned.
 */
static int case_fork_owner(void)
{
	bool tasks = g_vhostx ? vw_kernel_has_tasks() : true;
	char comm[32], comm1[40];
	struct vhost_worker_state st = { 0 };
	uint8_t m = 0xff, def;
	uint32_t z = 0;
	int fd, e, rc;
	pid_t pid;

	snprintf(comm, sizeof(comm), "%s-%d", g_vhostx ? "vhostx" : "vhost", getpid());
	snprintf(comm1, sizeof(comm1), "%s-1", comm);
	fd = open_dev();
	e = xioctl(fd, VHOST_GET_FORK_FROM_OWNER, &m);
	if (!g_vhostx && e) {
		printf("this kernel's vhost_net has no VHOST_GET_FORK_FROM_OWNER (%s before SET_OWNER)\n",
		       strerror(e));
		/*
		 * Owned, vhost sends an unknown ioctl on to its vring ioctls,
		 * which read a u32 queue index first: 0 here, so ENOTTY.
		 */
		MUST(fd, VHOST_SET_OWNER, NULL, "");
		EXPECT(fd, VHOST_GET_FORK_FROM_OWNER, &z, ENOTTY, "owner");
		EXPECT(fd, VHOST_SET_FORK_FROM_OWNER, &z, ENOTTY, "owner");
		close(fd);
		return result();
	}
	CHECK(e == 0, "GET_FORK_FROM_OWNER, no owner: %s", strerror(e));
	def = m;
	printf("default worker mode: %u (%s)\n", def, def ? "task" : "kthread");
	if (g_vhostx)
		CHECK(def == (vhx_param_task_default() && tasks),
		      "default mode %u, fork_from_owner_default=%c, kernel tasks %d", def,
		      vhx_param_task_default() ? 'Y' : 'N', tasks);
	EXPECT(fd, VHOST_GET_FORK_FROM_OWNER, NULL, EFAULT, "NULL argument");
	EXPECT(fd, VHOST_SET_FORK_FROM_OWNER, NULL, EFAULT, "NULL argument");
	m = 2;
	EXPECT(fd, VHOST_SET_FORK_FROM_OWNER, &m, EINVAL, "mode 2");
	m = 255;
	EXPECT(fd, VHOST_SET_FORK_FROM_OWNER, &m, EINVAL, "mode 255");
	m = VHOST_FORK_OWNER_KTHREAD;
	EXPECT(fd, VHOST_SET_FORK_FROM_OWNER, &m, 0, "kthread");
	EXPECT(fd, VHOST_GET_FORK_FROM_OWNER, &m, 0, "after SET 0");
	CHECK(m == 0, "GET after SET 0: %u", m);
	m = VHOST_FORK_OWNER_TASK;
	EXPECT(fd, VHOST_SET_FORK_FROM_OWNER, &m, tasks ? 0 : EINVAL, "task");
	EXPECT(fd, VHOST_GET_FORK_FROM_OWNER, &m, 0, "after SET 1");
	CHECK(m == tasks, "GET after SET 1: %u, want %u", m, tasks);
	MUST(fd, VHOST_SET_OWNER, NULL, "");
	CHECK(vw_thread_is("/proc/self/task", comm, tasks), "worker %s %s a thread of the owner", comm,
	      tasks ? "is not" : "is");
	CHECK(vw_thread_is("/proc", comm, !tasks), "kthread %s: %s", comm, tasks ? "there" : "missing");
	m = 0;
	EXPECT(fd, VHOST_SET_FORK_FROM_OWNER, &m, EBUSY, "owned");
	EXPECT(fd, VHOST_GET_FORK_FROM_OWNER, &m, 0, "owned");
	CHECK(m == tasks, "GET, owned: %u, want %u", m, tasks);
	pid = fork();
	if (pid < 0)
		return FAIL;
	if (pid == 0) {
		uint8_t cm = 0xff;

		EXPECT(fd, VHOST_GET_FORK_FROM_OWNER, &cm, 0, "child of the owner");
		CHECK(cm == tasks, "GET from a child: %u, want %u", cm, tasks);
		cm = 0;
		EXPECT(fd, VHOST_SET_FORK_FROM_OWNER, &cm, EBUSY, "child of the owner, owned");
		_exit(g_failed);
	}
	rc = wait_child(pid, "worker mode from another process");
	MUST(fd, VHOST_RESET_OWNER, NULL, "");
	CHECK(vw_thread_is("/proc/self/task", comm, false) && vw_thread_is("/proc", comm, false),
	      "worker %s left after RESET_OWNER", comm);
	EXPECT(fd, VHOST_GET_FORK_FROM_OWNER, &m, 0, "after RESET_OWNER");
	CHECK(m == def, "GET after RESET_OWNER: %u, want the default %u", m, def);
	if (g_vhostx && tasks) {
		/* workers beyond the first are threads of the owner too */
		m = VHOST_FORK_OWNER_TASK;
		MUST(fd, VHOST_SET_FORK_FROM_OWNER, &m, "task");
		MUST(fd, VHOST_SET_OWNER, NULL, "again");
		MUST(fd, VHOST_NEW_WORKER, &st, "task mode");
		CHECK(vw_thread_is("/proc/self/task", comm1, true), "worker %s is not a thread of the owner", comm1);
		EXPECT(fd, VHOST_FREE_WORKER, &st, 0, "task worker %u", st.worker_id);
		CHECK(vw_thread_is("/proc/self/task", comm1, false), "worker %s left after FREE_WORKER", comm1);
		CHECK(vw_thread_is("/proc/self/task", comm, true), "worker %s gone", comm);
	}
	close(fd);
	CHECK(vw_thread_is("/proc/self/task", comm, false) && vw_thread_is("/proc", comm, false),
	      "worker %s left after close", comm);
	return rc == PASS ? result() : FAIL;
}

/* Unknown ioctl numbers, and known numbers with the wrong size or direction -> ENOTTY. */
static int case_unknown_ioctl(void)
{
	static const struct {
		unsigned long req;
		const char *what;
	} unk[] = {
		{ _IO(VHOST_VIRTIO, 0x0f), "_IO(0xAF, 0x0f)" },
		{ _IOW(VHOST_VIRTIO, 0x05, __u64), "_IOW(0xAF, 0x05, u64)" },
		{ _IOWR(VHOST_VIRTIO, 0xff, __u64), "_IOWR(0xAF, 0xff, u64)" },
		{ _IOR(VHOST_VIRTIO, 0x00, __u32), "VHOST_GET_FEATURES with a 4-byte size" },
		{ _IOW(VHOST_VIRTIO, 0x00, __u32), "VHOST_SET_FEATURES with a 4-byte size" },
		{ _IOR(VHOST_VIRTIO, 0x10, struct vhost_vring_state), "VHOST_SET_VRING_NUM as _IOR" },
		{ _IOR(VHOST_VIRTIO, 0x30, struct vhost_vring_file), "VHOST_NET_SET_BACKEND as _IOR" },
		{ _IOR(VHOST_VIRTIO, 0x70, __u32), "VHOST_VDPA_GET_DEVICE_ID (vhost-vdpa only)" },
		{ _IOW(VHOST_VIRTIO, 0x60, __u64), "VHOST_VSOCK_SET_GUEST_CID (vhost-vsock only)" },
		{ TCGETS, "TCGETS (isatty)" },
		{ FIONREAD, "FIONREAD" },
		{ _IO('x', 1), "_IO('x', 1)" },
	};
	uint64_t buf[64];
	int fd = open_owned();
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(unk); i++) {
		memset(buf, 0, sizeof(buf));
		expect_ioctl(__LINE__, fd, unk[i].req, unk[i].what, buf, ENOTTY, "owner, zeroed argument");
	}
	/*
	 * vhost sends an unknown ioctl of an owned fd through
	 * vhost_vring_ioctl(), which reads a u32 vring index from the argument
	 * before it finds no match: an unreadable argument is EFAULT and an
	 * index >= 2 is ENOBUFS, whatever the ioctl. (isatty() on an owned fd
	 * thus fails with ENOBUFS or ENOTTY depending on its stack garbage.)
	 */
	expect_ioctl(__LINE__, fd, _IO(VHOST_VIRTIO, 0x0f), "_IO(0xAF, 0x0f)", NULL, EFAULT,
		     "owner, NULL argument: vhost reads a vring index first");
	memset(buf, 0, sizeof(buf));
	buf[0] = 2;
	expect_ioctl(__LINE__, fd, TCGETS, "TCGETS", buf, ENOBUFS,
		     "owner, argument starts with u32 2: vhost reads a vring index first");
	errno = 0;
	int tty = isatty(fd), tty_errno = errno;
	CHECK(!tty, "isatty on the device returned %d", tty);
	diag("isatty: 0, errno %s", errstr(tty_errno));
	/* the fd still works */
	struct vhost_vring_state s = { .index = 0 };
	EXPECT(fd, VHOST_GET_VRING_BASE, &s, 0, "after unknown ioctls");
	close(fd);
	return result();
}

/* Bad user pointers -> EFAULT: NULL, a kernel address, read-only memory for output. */
static int case_bad_pointer(void)
{
	static const void *ptrs[] = { NULL, (void *)(uintptr_t)KERNEL_ADDR, (void *)(uintptr_t)KERNEL_TEXT };
	int fd = open_dev();
	uint8_t *ro = map(PAGE, PROT_READ | PROT_WRITE);
	uint8_t *pair = map(2 * PAGE, PROT_READ | PROT_WRITE);
	struct vhost_memory *m;
	unsigned int i;

	memset(ro, 0, PAGE); /* index 0 in every vring struct */
	mprotect(ro, PAGE, PROT_READ);
	mprotect(pair + PAGE, PAGE, PROT_NONE);

	for (i = 0; i < ARRAY_SIZE(ptrs); i++) {
		const void *p = ptrs[i];

		/* no owner needed for these */
		EXPECT(fd, VHOST_GET_FEATURES, p, EFAULT, "pointer %p, no owner", p);
		EXPECT(fd, VHOST_SET_FEATURES, p, EFAULT, "pointer %p, no owner", p);
		EXPECT(fd, VHOST_GET_BACKEND_FEATURES, p, EFAULT, "pointer %p, no owner", p);
		EXPECT(fd, VHOST_SET_BACKEND_FEATURES, p, EFAULT, "pointer %p, no owner", p);
	}
	EXPECT(fd, VHOST_GET_FEATURES, ro, EFAULT, "read-only destination, no owner");
	EXPECT(fd, VHOST_GET_BACKEND_FEATURES, ro, EFAULT, "read-only destination, no owner");
	MUST(fd, VHOST_SET_OWNER, NULL, "");
	for (i = 0; i < ARRAY_SIZE(ptrs); i++) {
		const void *p = ptrs[i];

		EXPECT(fd, VHOST_SET_MEM_TABLE, p, EFAULT, "pointer %p", p);
		EXPECT(fd, VHOST_SET_VRING_NUM, p, EFAULT, "pointer %p", p);
		EXPECT(fd, VHOST_SET_VRING_ADDR, p, EFAULT, "pointer %p", p);
		EXPECT(fd, VHOST_SET_VRING_BASE, p, EFAULT, "pointer %p", p);
		EXPECT(fd, VHOST_GET_VRING_BASE, p, EFAULT, "pointer %p", p);
		EXPECT(fd, VHOST_SET_VRING_KICK, p, EFAULT, "pointer %p", p);
		EXPECT(fd, VHOST_SET_VRING_CALL, p, EFAULT, "pointer %p", p);
		EXPECT(fd, VHOST_SET_VRING_ERR, p, EFAULT, "pointer %p", p);
		EXPECT(fd, VHOST_SET_VRING_BUSYLOOP_TIMEOUT, p, EFAULT, "pointer %p", p);
		EXPECT(fd, VHOST_GET_VRING_BUSYLOOP_TIMEOUT, p, EFAULT, "pointer %p", p);
		EXPECT(fd, VHOST_NET_SET_BACKEND, p, EFAULT, "pointer %p", p);
		EXPECT(fd, VHOST_GET_FEATURES, p, EFAULT, "pointer %p, owner", p);
	}
	/* the index is readable but the result cannot be written back */
	EXPECT(fd, VHOST_GET_VRING_BASE, ro, EFAULT, "read-only struct (vq 0)");
	EXPECT(fd, VHOST_GET_VRING_BUSYLOOP_TIMEOUT, ro, EFAULT, "read-only struct (vq 0)");
	/* a memory table whose header is readable but whose regions are not */
	m = (struct vhost_memory *)(pair + PAGE - sizeof(*m));
	m->nregions = 1;
	m->padding = 0;
	EXPECT(fd, VHOST_SET_MEM_TABLE, m, EFAULT, "header readable, regions[0] on a PROT_NONE page");
	/* a struct that straddles into an unreadable page */
	struct vhost_vring_state *s = (struct vhost_vring_state *)(pair + PAGE - 4);
	s->index = 0;
	EXPECT(fd, VHOST_SET_VRING_NUM, s, EFAULT, "index readable, num on a PROT_NONE page");
	/* nothing changed */
	struct vhost_vring_state ok = { .index = 0, .num = 0xdead };
	EXPECT(fd, VHOST_GET_VRING_BASE, &ok, 0, "after the faults");
	CHECK(ok.num == 0, "VHOST_GET_VRING_BASE after faults: %u, want 0", ok.num);
	close(fd);
	return result();
}

/* Dirty logging's ioctls with nothing attached: nothing to check but the fd. */
static int case_log_ioctls(void)
{
	int fd = open_owned(), efd = new_eventfd(), null = open_null();
	uint8_t *log = map(PAGE, PROT_READ | PROT_WRITE);
	uint64_t base = (uintptr_t)log, f = 0;
	int lfd;

	f = get_features(fd);
	CHECK(f & BIT(VHOST_F_LOG_ALL), "VHOST_GET_FEATURES: VHOST_F_LOG_ALL absent");
	EXPECT(fd, VHOST_SET_LOG_BASE, &base, 0, "a mapped page");
	base = 0;
	EXPECT(fd, VHOST_SET_LOG_BASE, &base, 0, "0");
	base = KERNEL_ADDR;
	EXPECT(fd, VHOST_SET_LOG_BASE, &base, 0, "a kernel address, no backend: checked at attach");
	lfd = efd;
	EXPECT(fd, VHOST_SET_LOG_FD, &lfd, 0, "eventfd");
	EXPECT(fd, VHOST_SET_LOG_FD, &lfd, 0, "the same eventfd again");
	lfd = -1;
	EXPECT(fd, VHOST_SET_LOG_FD, &lfd, 0, "-1 unbinds");
	EXPECT(fd, VHOST_SET_LOG_FD, &lfd, 0, "-1 again");
	lfd = null;
	EXPECT(fd, VHOST_SET_LOG_FD, &lfd, EINVAL, "/dev/null");
	lfd = closed_fd();
	EXPECT(fd, VHOST_SET_LOG_FD, &lfd, EBADF, "a closed fd");
	lfd = efd;
	EXPECT(fd, VHOST_SET_LOG_FD, &lfd, 0, "eventfd, left bound at close");
	close(fd);
	close(efd);
	close(null);
	return result();
}

/* The last byte of the user address space on x86-64 (4-level paging): TASK_SIZE_MAX - 1. */
#define USER_LAST 0x7fffffffefffULL

static bool set_log_base(int fd, uint64_t base, int want, const char *what)
{
	return EXPECT(fd, VHOST_SET_LOG_BASE, &base, want, "%s", what);
}

static bool set_features(int fd, uint64_t f, int want, const char *what)
{
	return EXPECT(fd, VHOST_SET_FEATURES, &f, want, "%s", what);
}

/*
 * With backends attached, every log ioctl checks that the bitmap could be
 * written, as vhost's log_access_ok() does: the bitmap byte for guest page p
 * is at base + p / 8 and must lie in the user address space. The table maps
 * guest [0, r.len): one bitmap byte. Nothing is logged here (nothing runs).
 */
static int case_log_checks(void)
{
	struct ring r;
	int fd = open_ready(&r), tap = open_tap(), e;
	uint8_t *log = map(PAGE, PROT_READ | PROT_WRITE);
	uint64_t good = (uintptr_t)log, feat = REQUIRED_FEATURES;
	struct vhost_vring_addr a;
	struct vhost_memory *m;
	unsigned int q;

	set_features(fd, feat, 0, "no LOG_ALL");
	for (q = 0; q < 2; q++)
		set_backend(fd, q, tap, 0, "tap");

	/* Logging off: the memory is not checked, so any base will do. */
	set_log_base(fd, KERNEL_ADDR, 0, "a kernel address, logging off");
	set_features(fd, feat | BIT(VHOST_F_LOG_ALL), EFAULT, "LOG_ALL, log base at a kernel address");
	set_log_base(fd, 0, 0, "0, logging off");
	set_log_base(fd, good, 0, "a mapped page, logging off");
	set_features(fd, feat | BIT(VHOST_F_LOG_ALL), 0, "LOG_ALL, log base on a mapped page");

	/* Logging on: the table's bitmap byte must be user memory. */
	set_log_base(fd, KERNEL_ADDR, EFAULT, "a kernel address, logging on");
	set_log_base(fd, USER_LAST + 1, EFAULT, "the first byte past user memory, logging on");
	set_log_base(fd, USER_LAST, 0, "the last byte of user memory, logging on");
	set_log_base(fd, 0, 0, "0: byte 0 is a user address");

	/* The used ring's bitmap: checked while attached (EINVAL, as for the rings). */
	set_log_base(fd, USER_LAST, 0, "the last byte of user memory");
	for (q = 0; q < 2; q++) {
		a = ring_addr(&r, q);
		a.flags = BIT(VHOST_VRING_F_LOG);
		a.log_guest_addr = 0;
		EXPECT(fd, VHOST_SET_VRING_ADDR, &a, 0, "vq %u, used ring logged at gpa 0", q);
		a.log_guest_addr = 0x8000;	/* page 8: bitmap byte 1, past the end */
		EXPECT(fd, VHOST_SET_VRING_ADDR, &a, EINVAL, "vq %u, used ring logged at gpa 0x8000", q);
		a.log_guest_addr = ~3ULL;	/* the bitmap byte's address wraps */
		EXPECT(fd, VHOST_SET_VRING_ADDR, &a, EINVAL, "vq %u, log_guest_addr 0x%llx", q,
		       (unsigned long long)a.log_guest_addr);
		a.log_guest_addr = 0x8000;
		a.flags = 0;
		EXPECT(fd, VHOST_SET_VRING_ADDR, &a, 0, "vq %u, same address, log flag off", q);
		a.log_guest_addr = 0;
		a.flags = BIT(VHOST_VRING_F_LOG);
		EXPECT(fd, VHOST_SET_VRING_ADDR, &a, 0, "vq %u, logged at gpa 0 again", q);
	}

	/* A new memory table must fit the bitmap too; the old one stays. */
	m = mem_new(2);
	m->regions[0] = (struct vhost_memory_region){ 0, r.len, (uintptr_t)r.mem, 0 };
	m->regions[1] = (struct vhost_memory_region){ 1ULL << 30, PAGE, (uintptr_t)log, 0 };
	EXPECT(fd, VHOST_SET_MEM_TABLE, m, EFAULT, "a region at 1 GiB, bitmap of one byte");
	free(m);
	e = set_mem1(fd, 0, r.len, (uintptr_t)r.mem);
	CHECK(e == 0, "VHOST_SET_MEM_TABLE (the same table again, logging on): expected %s, got %s",
	      errstr(0), errstr(e));
	set_log_base(fd, good, 0, "a mapped page");
	m = mem_new(2);
	m->regions[0] = (struct vhost_memory_region){ 0, r.len, (uintptr_t)r.mem, 0 };
	m->regions[1] = (struct vhost_memory_region){ 1ULL << 30, PAGE, (uintptr_t)log, 0 };
	EXPECT(fd, VHOST_SET_MEM_TABLE, m, 0, "a region at 1 GiB, bitmap on a mapped page");
	free(m);

	/* Attach checks the bitmap as well, also for -1. */
	set_backend(fd, 0, -1, 0, "detach rx");
	a = ring_addr(&r, 0);
	a.flags = BIT(VHOST_VRING_F_LOG);
	a.log_guest_addr = 0;
	MUST(fd, VHOST_SET_VRING_ADDR, &a, "vq 0, logged at gpa 0, no backend");
	set_log_base(fd, KERNEL_ADDR, EFAULT, "a kernel address, tx still attached");
	set_log_base(fd, USER_LAST + 1, EFAULT, "past user memory, tx still attached");
	set_backend(fd, 0, tap, EFAULT, "tap, rx's log base past user memory");
	set_backend(fd, 0, -1, EFAULT, "-1, rx's log base past user memory");
	set_log_base(fd, good, 0, "a mapped page");
	set_backend(fd, 0, tap, 0, "tap");

	/* Logging off again (a cancelled migration): nothing is checked. */
	set_features(fd, feat, 0, "LOG_ALL off");
	for (q = 0; q < 2; q++) {
		a = ring_addr(&r, q);
		EXPECT(fd, VHOST_SET_VRING_ADDR, &a, 0, "vq %u, log flag off", q);
	}
	set_log_base(fd, KERNEL_ADDR, 0, "a kernel address, logging off again");
	for (q = 0; q < 2; q++)
		set_backend(fd, q, -1, 0, "detach");
	close(fd);
	close(tap);
	return result();
}

/* Closing an fd with everything configured and attached releases it; the device stays usable. */
static int case_release_busy(void)
{
	struct ring r;
	int fd = open_ready(&r), tap = open_tap(), efd = new_eventfd();
	struct vhost_vring_file f;
	unsigned int q;

	for (q = 0; q < 2; q++) {
		f = (struct vhost_vring_file){ .index = q, .fd = efd };
		MUST(fd, VHOST_SET_VRING_KICK, &f, "vq %u", q);
		MUST(fd, VHOST_SET_VRING_CALL, &f, "vq %u", q);
		MUST(fd, VHOST_SET_VRING_ERR, &f, "vq %u", q);
		if (!set_backend(fd, q, tap, 0, "tap"))
			return FAIL;
	}
	eventfd_write(efd, 1); /* a pending kick */
	REQUIRE(close(fd) == 0, "close with backends attached: %s", strerror(errno));
	/* the tap is free again: a new device fd can attach it */
	fd = open_ready(&r);
	set_backend(fd, 0, tap, 0, "tap, after the previous owner closed its fd");
	set_backend(fd, 0, -1, 0, "detach");
	close(fd);
	close(tap);
	close(efd);
	return result();
}

/* ------------------------------------------------------------------- driver */

struct test_case {
	const char *name;
	int (*fn)(void);
};

static const struct test_case cases[] = {
	{ "owner_required", case_owner_required },
	{ "owner_not_required", case_owner_not_required },
	{ "set_owner_twice", case_set_owner_twice },
	{ "owner_other_process", case_owner_other_process },
	{ "owner_exited", case_owner_exited },
	{ "owner_thread", case_owner_thread },
	{ "reset_owner", case_reset_owner },
	{ "reset_owner_backend", case_reset_owner_backend },
	{ "get_features", case_get_features },
	{ "set_features", case_set_features },
	{ "backend_features", case_backend_features },
	{ "mem_table_limits", case_mem_table_limits },
	{ "mem_table_bad_region", case_mem_table_bad_region },
	{ "mem_table_unbacked", case_mem_table_unbacked },
	{ "mem_table_kernel_addr", case_mem_table_kernel_addr },
	{ "vring_num", case_vring_num },
	{ "vring_index", case_vring_index },
	{ "vring_addr", case_vring_addr },
	{ "vring_base", case_vring_base },
	{ "vring_busyloop", case_vring_busyloop },
	{ "vring_endian", case_vring_endian },
	{ "vring_eventfds", case_vring_eventfds },
	{ "backend_tap", case_backend_tap },
	{ "backend_busy", case_backend_busy },
	{ "backend_not_socket", case_backend_not_socket },
	{ "backend_packet_socket", case_backend_packet_socket },
	{ "backend_bad_ring", case_backend_bad_ring },
	{ "unknown_ioctl", case_unknown_ioctl },
	{ "worker_ioctls_vhost_net", case_worker_ioctls_vhost_net },
	{ "worker_ioctls", case_worker_ioctls },
	{ "fork_owner", case_fork_owner },
	{ "bad_pointer", case_bad_pointer },
	{ "log_ioctls", case_log_ioctls },
	{ "log_checks", case_log_checks },
	{ "release_busy", case_release_busy },
};

/*
 * Can this device be tested at all? A missing node skips; a device that
 * answers ENOTTY to VHOST_GET_FEATURES has no vhost ioctls yet and skips
 * every case with that reason.
 */
static int preflight(void)
{
	uint64_t f;
	int fd, e;

	fd = open(g_dev, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		fprintf(stderr, "%s: open %s: %s\n", e == ENOENT ? "SKIP" : "FAIL", g_dev, strerror(e));
		return e == ENOENT ? SKIP : FAIL;
	}
	e = xioctl(fd, VHOST_GET_FEATURES, &f);
	close(fd);
	if (e == ENOTTY) {
		fprintf(stderr, "SKIP: %s answers ENOTTY to VHOST_GET_FEATURES: its vhost ioctls are not implemented yet\n",
			g_dev);
		return SKIP;
	}
	return PASS;
}

static int run_case(const struct test_case *c)
{
	int rc = preflight();

	if (rc != PASS)
		return rc;
	g_failed = 0;
	rc = c->fn();
	fflush(stdout);
	if (rc == PASS && g_failed)
		rc = FAIL;
	return rc;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: abi_test --dev PATH [--impl vhost-net|vhostx] list\n"
		"       abi_test --dev PATH [--impl vhost-net|vhostx] run CASE\n"
		"       abi_test --dev PATH [--impl vhost-net|vhostx] all\n"
		"exit status of run: 0 pass, 1 fail, 4 skip\n");
	return USAGE;
}

int main(int argc, char **argv)
{
	const char *impl = NULL;
	size_t i;
	int a = 1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while (a < argc && argv[a][0] == '-') {
		if (!strcmp(argv[a], "--dev") && a + 1 < argc) {
			g_dev = argv[a + 1];
			a += 2;
		} else if (!strcmp(argv[a], "--impl") && a + 1 < argc) {
			impl = argv[a + 1];
			a += 2;
		} else {
			return usage();
		}
	}
	if (a >= argc)
		return usage();
	if (!strcmp(argv[a], "list") && a + 1 == argc) {
		for (i = 0; i < ARRAY_SIZE(cases); i++)
			puts(cases[i].name);
		return 0;
	}
	if (!g_dev)
		return usage();
	if (impl) {
		if (strcmp(impl, "vhost-net") && strcmp(impl, "vhostx"))
			return usage();
		g_vhostx = !strcmp(impl, "vhostx");
	} else {
		g_vhostx = strstr(g_dev, "vhostx") != NULL;
	}

	if (!strcmp(argv[a], "run") && a + 2 == argc) {
		for (i = 0; i < ARRAY_SIZE(cases); i++)
			if (!strcmp(cases[i].name, argv[a + 1]))
				return run_case(&cases[i]);
		fprintf(stderr, "abi_test: no case '%s' (see 'list')\n", argv[a + 1]);
		return USAGE;
	}
	if (!strcmp(argv[a], "all") && a + 1 == argc) {
		int fails = 0;

		/* each case in its own process, as the suite runs them */
		for (i = 0; i < ARRAY_SIZE(cases); i++) {
			pid_t pid = fork();
			int st = 0, rc;

			if (pid == 0)
				_exit(run_case(&cases[i]));
			waitpid(pid, &st, 0);
			rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
			printf("%s %s%s\n", rc == PASS ? "ok" : rc == SKIP ? "ok" : "not ok",
			       cases[i].name, rc == SKIP ? " # SKIP" : "");
			fails += rc != PASS && rc != SKIP;
		}
		return fails ? FAIL : PASS;
	}
	return usage();
}
