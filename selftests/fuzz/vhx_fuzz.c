// SPDX-License-Identifier: GPL-2.0
/*
 * vhx_fuzz: an in-VM fuzzer of vhostx's whole user interface: the vhost-net
 * ioctls on /dev/vhostx-net, running rings with hostile guest memory, taps,
 * an owner killed mid-run, and the "vhostx" generic netlink family.
 *
 *   vhx_fuzz [-d DEV] [-s SEED] [-t SECONDS] [-r ROUNDS] [-j THREADS]
 *            [-n OPS_PER_ROUND] [-R RSEED:ROUND] [-v]
 *
 * Work comes in rounds. A round's plan is one 64-bit round seed: its low 32
 * bits build the world (ops.c), bits 32-59 seed every thread's op stream,
 * bits 60-63 scale the number of ops. A fresh round seed derives from
 * (SEED, round); with KCOV, half the rounds instead mutate a round seed of
 * the corpus (rounds that found new PCs). The "# round" lines and a failure
 * report print the round seed; -R replays that one round (with the same -j
 * and -n). Threads race, so a replay repeats the ops, not their interleaving.
 *
 * After each round: the kernel log (/dev/kmsg, from where it was at start)
 * must show none of the patterns in kmsg_pattern, and the taint must not
 * have gained bits beyond O and E. A watchdog fails the run if any op has
 * not returned for 60 s. On a failure the report holds the seeds and the
 * last 64 ops of every thread, and the exit code is 1.
 *
 * KCOV: each op thread traces its own syscalls (KCOV_ENABLE). The main
 * thread also does KCOV_REMOTE_ENABLE with a common handle before it starts
 * any thread: threads inherit the handle (kcov_task_init), so a worker that
 * a thread creates with SET_OWNER and that runs under
 * kcov_remote_start_common() reports into the main thread's area. A task in
 * remote mode does not trace its own syscalls, hence the two kinds.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <regex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <linux/kcov.h>

#include "fuzz.h"

#include <linux/vhostx.h>

/* Remote coverage (5.5): for UAPI headers older than that. */
#ifndef KCOV_REMOTE_ENABLE
struct kcov_remote_arg {
	__u32 trace_mode;
	__u32 area_size;
	__u32 num_handles;
	__aligned_u64 common_handle;
	__aligned_u64 handles[];
};
#define KCOV_REMOTE_ENABLE	_IOW('c', 102, struct kcov_remote_arg)
#define KCOV_SUBSYSTEM_COMMON	(0x00ull << 56)
static inline __u64 kcov_remote_handle(__u64 subsys, __u64 inst)
{
	return subsys | inst;
}
#endif

#define FZ_COVER	(64u << 10)	/* KCOV entries per area */
#define FZ_CORPUS	64
#define FZ_BUF		(16u << 10)
#define TAINT_OK	((1ul << 12) | (1ul << 13))	/* O (out-of-tree), E (unsigned) */
#define PROGRESS_NS	(10ull * 1000000000ull)

/* Round-seed fields (see the top of the file). */
#define RS_WORLD(rs)	((rs) & 0xffffffffull)
#define RS_OPS(rs)	(((rs) >> 32) & 0x0fffffffull)
#define RS_SCALE(rs)	((unsigned int)((rs) >> 60))
#define RS_OPS_MASK	(0x0fffffffull << 32)

static struct {
	const char *dev;
	uint64_t seed;
	unsigned int seconds, rounds, threads, nops;
	bool verbose, replay;
	uint64_t replay_rseed;
	unsigned long replay_round;
} opt = { .dev = "/dev/vhostx-net", .threads = 4, .nops = 300 };

/* ---- PRNG ---- */

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint64_t mix64(uint64_t x)
{
	return splitmix64(&x);
}

void rng_seed(struct rng *r, uint64_t seed)
{
	unsigned int i;

	for (i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s, res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return res;
}

uint64_t rng_below(struct rng *r, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)rng_next(r) * n) >> 64);
}

bool rng_pct(struct rng *r, unsigned int pct)
{
	return rng_below(r, 100) < pct;
}

/* ---- time ---- */

uint64_t fz_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void fz_sleep_us(uint64_t us)
{
	struct timespec ts = { .tv_sec = (time_t)(us / 1000000), .tv_nsec = (long)(us % 1000000) * 1000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* ---- coverage: a hash set of PCs, KCOV areas ---- */

static struct {
	bool on;
	int remote_fd;
	uint64_t *remote_area;
	pthread_mutex_t lock;
	uint64_t *set;		/* open addressing, 0 = empty */
	size_t cap, n;
} cov = { .remote_fd = -1, .lock = PTHREAD_MUTEX_INITIALIZER };

static void cov_insert(uint64_t pc)
{
	size_t i = mix64(pc) & (cov.cap - 1);

	while (cov.set[i] && cov.set[i] != pc)
		i = (i + 1) & (cov.cap - 1);
	if (!cov.set[i]) {
		cov.set[i] = pc;
		cov.n++;
	}
}

/* Double the set when half full; on ENOMEM keep the old one (probes still end). */
static void cov_grow(void)
{
	uint64_t *old = cov.set;
	size_t i, oldcap = cov.cap;
	uint64_t *set = calloc(oldcap ? 2 * oldcap : 1 << 16, sizeof(*set));

	if (!set)
		return;
	cov.set = set;
	cov.cap = oldcap ? 2 * oldcap : 1 << 16;
	cov.n = 0;
	for (i = 0; i < oldcap; i++)
		if (old[i])
			cov_insert(old[i]);
	free(old);
}

/* Add the PCs in a KCOV area, then empty it. */
static void cov_take(uint64_t *area)
{
	uint64_t i, n = __atomic_load_n(&area[0], __ATOMIC_RELAXED);

	if (n > FZ_COVER - 1)
		n = FZ_COVER - 1;
	pthread_mutex_lock(&cov.lock);
	for (i = 1; i <= n; i++) {
		if (2 * (cov.n + 1) > cov.cap)
			cov_grow();
		if (cov.n + 1 < cov.cap && area[i])
			cov_insert(area[i]);
	}
	pthread_mutex_unlock(&cov.lock);
	__atomic_store_n(&area[0], 0, __ATOMIC_RELAXED);
}

static size_t cov_count(void)
{
	size_t n;

	pthread_mutex_lock(&cov.lock);
	n = cov.n;
	pthread_mutex_unlock(&cov.lock);
	return n;
}

static int kcov_open(uint64_t **area)
{
	int fd = open("/sys/kernel/debug/kcov", O_RDWR | O_CLOEXEC), err;

	if (fd < 0)
		return -errno;
	if (ioctl(fd, KCOV_INIT_TRACE, (unsigned long)FZ_COVER) < 0)
		goto err;
	*area = mmap(NULL, FZ_COVER * sizeof(uint64_t), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (*area == MAP_FAILED)
		goto err;
	return fd;
err:
	err = -errno;
	*area = NULL;
	close(fd);
	return err;
}

static void kcov_close(int *fd, uint64_t **area)
{
	if (*area)
		munmap(*area, FZ_COVER * sizeof(uint64_t));
	if (*fd >= 0)
		close(*fd);
	*area = NULL;
	*fd = -1;
}

/* The main thread's remote area, before any thread exists (see the top). */
static void kcov_remote_init(void)
{
	struct kcov_remote_arg arg = {
		.trace_mode = KCOV_TRACE_PC,
		.area_size = FZ_COVER,
		.common_handle = kcov_remote_handle(KCOV_SUBSYSTEM_COMMON, (uint32_t)getpid()),
	};

	cov.remote_fd = kcov_open(&cov.remote_area);
	if (cov.remote_fd < 0 || ioctl(cov.remote_fd, KCOV_REMOTE_ENABLE, &arg) < 0) {
		printf("# kcov: KCOV_REMOTE_ENABLE: %s: worker coverage not collected\n",
		       strerror(cov.remote_fd < 0 ? -cov.remote_fd : errno));
		kcov_close(&cov.remote_fd, &cov.remote_area);
	}
}

static void kcov_init(struct fz_thread *th, unsigned int n)
{
	unsigned int i;
	int fd = kcov_open(&th[0].kcov_area);

	if (fd < 0) {
		printf("# kcov: /sys/kernel/debug/kcov: %s: running blind\n", strerror(-fd));
		return;
	}
	cov.on = true;
	th[0].kcov_fd = fd;
	for (i = 1; i < n; i++)
		th[i].kcov_fd = kcov_open(&th[i].kcov_area);
	kcov_remote_init();
	pthread_mutex_lock(&cov.lock);
	cov_grow();
	pthread_mutex_unlock(&cov.lock);
}

/* Trace this thread's own syscalls into its area, if it has one. */
static void kcov_enable(struct fz_thread *t, bool on)
{
	if (t->kcov_fd < 0)
		return;
	if (on)
		ioctl(t->kcov_fd, KCOV_ENABLE, KCOV_TRACE_PC);
	else
		ioctl(t->kcov_fd, KCOV_DISABLE, 0);
}

/* ---- running ops ---- */

const char *fz_errname(long ret)
{
	const char *n;

	if (ret >= 0)
		return "ok";
	n = strerrorname_np((int)-ret);
	return n ? n : "E?";
}

struct fz_op *fz_pick(struct fz_thread *t, struct fz_op *ops, unsigned int n)
{
	unsigned int i, total = 0, x;

	for (i = 0; i < n; i++)
		total += ops[i].weight;
	x = (unsigned int)rng_below(&t->rng, total);
	for (i = 0; x >= ops[i].weight; i++)
		x -= ops[i].weight;
	return &ops[i];
}

long fz_do(struct fz_thread *t, struct fz_op *op)
{
	struct fz_rec *r = &t->log[t->done % FZ_LOG_LEN];
	long e;

	memset(r, 0, sizeof(*r));
	r->op = op;
	r->dev = -1;
	atomic_store(&t->op_start_ns, fz_now_ns());
	r->ret = op->fn(t, r);
	atomic_store(&t->op_start_ns, 0);
	if (t->kcov_area)
		cov_take(t->kcov_area);
	t->done++;
	e = r->ret >= 0 ? 0 : -r->ret;
	atomic_fetch_add(&op->hist[e < FZ_NERR ? e : FZ_NERR - 1], 1);
	return r->ret;
}

/* ---- failure detection ---- */

static const char kmsg_pattern[] =
	"BUG:|WARNING:|KASAN|UBSAN|possible circular locking|possible recursive locking|"
	"inconsistent lock state|sleeping function called from invalid context|Oops|"
	"general protection|kernel BUG|list_add corruption|list_del corruption|refcount_t:|"
	"INFO: task .* blocked|soft lockup|RCU stall|detected stalls|self-detected stall|"
	"DEBUG_LOCKS_WARN_ON";
static int kmsg_fd = -1;
static regex_t kmsg_re;
static unsigned long taint_start;

static unsigned long taint_read(void)
{
	unsigned long t = 0;
	FILE *f = fopen("/proc/sys/kernel/tainted", "re");

	if (f) {
		if (fscanf(f, "%lu", &t) != 1)
			t = 0;
		fclose(f);
	}
	return t;
}

static void checks_init(void)
{
	taint_start = taint_read();
	regcomp(&kmsg_re, kmsg_pattern, REG_EXTENDED | REG_NOSUB);
	kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (kmsg_fd < 0)
		printf("# /dev/kmsg: %s: the kernel log is not checked\n", strerror(errno));
	else
		lseek(kmsg_fd, 0, SEEK_END);
}

/*
 * Kernel log records since the last call. Matching ones, with the 40 records
 * after each (the splat), are appended to @out. Returns how many matched.
 */
static unsigned int kmsg_scan(char *out, size_t outlen)
{
	unsigned int bad = 0, ctx = 0;
	size_t used = 0;
	char rec[8192];

	for (;;) {
		ssize_t n = read(kmsg_fd, rec, sizeof(rec) - 1);
		char *msg;

		if (n < 0 && errno == EPIPE)
			continue;	/* records overwritten meanwhile: go on */
		if (n <= 0)
			break;
		rec[n] = 0;
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		msg[strcspn(msg, "\n")] = 0;
		if (!regexec(&kmsg_re, msg, 0, NULL, 0)) {
			bad++;
			ctx = 41;
		}
		if (ctx && used < outlen) {
			ctx--;
			used += (size_t)snprintf(out + used, outlen - used, "# kernel: %s\n", msg);
		}
	}
	return bad;
}

/* ---- reports ---- */

static struct fz_thread *g_th;
static unsigned int g_nth;
static uint64_t g_rseed;
static unsigned long g_round;

static void print_rec(const struct fz_rec *r, uint64_t running_ns)
{
	char args[256] = "", names[64], *name, *save = NULL;
	size_t used = 0;
	unsigned int i = 0;

	snprintf(names, sizeof(names), "%s", r->op->args);
	for (name = strtok_r(names, ",", &save); name && i < 3; name = strtok_r(NULL, ",", &save), i++)
		if (strcmp(name, "-"))
			used += (size_t)snprintf(args + used, sizeof(args) - used, " %s=%#llx", name,
						 (unsigned long long)r->a[i]);
	if (running_ns)
		printf("#   %s dev=%d%s -> still running after %llu ms\n", r->op->name, r->dev, args,
		       (unsigned long long)(running_ns / 1000000));
	else
		printf("#   %s dev=%d%s -> %s\n", r->op->name, r->dev, args, fz_errname(r->ret));
}

static void print_thread(const struct fz_thread *t)
{
	uint64_t start = atomic_load(&t->op_start_ns);
	unsigned long i = t->done > FZ_LOG_LEN - 1 ? t->done - (FZ_LOG_LEN - 1) : 0;

	if (!t->done && !start)
		return;
	printf("# thread %s: last ops, oldest first:\n", t->name);
	for (; i < t->done; i++)
		print_rec(&t->log[i % FZ_LOG_LEN], 0);
	if (start)
		print_rec(&t->log[t->done % FZ_LOG_LEN], fz_now_ns() - start);
}

/* Print a failure: seeds, how to replay, every thread's last ops. */
static void report(const char *fmt, ...)
{
	static pthread_mutex_t once = PTHREAD_MUTEX_INITIALIZER;
	unsigned int i;
	va_list ap;

	pthread_mutex_lock(&once);	/* never unlocked: one report per run */
	printf("# FAIL: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n# seed=%#018llx round=%lu round_seed=%#018llx\n", (unsigned long long)opt.seed,
	       g_round, (unsigned long long)g_rseed);
	printf("# replay: vhx_fuzz -d %s -j %u -n %u -R %#llx:%lu\n", opt.dev, opt.threads, opt.nops,
	       (unsigned long long)g_rseed, g_round);
	for (i = 0; i < g_nth; i++)
		print_thread(&g_th[i]);
	fflush(stdout);
}

/* An op that does not return is a failure; the process cannot even exit then. */
static void *watchdog(void *arg)
{
	unsigned int i;

	(void)arg;
	for (;;) {
		fz_sleep_us(1000000);
		for (i = 0; i < g_nth; i++) {
			uint64_t s = atomic_load(&g_th[i].op_start_ns);

			if (s && fz_now_ns() - s > FZ_HANG_NS) {
				report("thread %s: an op has not returned for %llu s", g_th[i].name,
				       (unsigned long long)(FZ_HANG_NS / 1000000000ull));
				_exit(1);
			}
		}
	}
	return NULL;
}

/* ---- a round ---- */

static struct world g_world;
static uint64_t g_world_seed;

static long main_setup(struct fz_thread *t, struct fz_rec *r)
{
	r->a[0] = g_world_seed;
	return fz_world_setup(&g_world, opt.dev, g_world_seed, t);
}

static long main_teardown(struct fz_thread *t, struct fz_rec *r)
{
	(void)r;
	fz_world_teardown(t->w);
	return 0;
}

/* Fork an owner that floods its queues, SIGKILL it 0-200 ms later, reap it. */
static long main_owner_kill(struct fz_thread *t, struct fz_rec *r)
{
	pid_t pid = fz_owner_child(opt.dev, rng_next(&t->rng));

	if (pid < 0)
		return pid;
	r->a[0] = (uint64_t)pid;
	r->a[1] = rng_below(&t->rng, 200000);
	fz_sleep_us(r->a[1]);
	kill(pid, SIGKILL);
	return waitpid(pid, NULL, 0) < 0 ? -errno : 0;
}

static struct fz_op main_ops[] = {
	{ "world_setup", "seed", 0, main_setup, { 0 } },
	{ "world_teardown", "", 0, main_teardown, { 0 } },
	{ "owner_kill", "pid,delay_us", 0, main_owner_kill, { 0 } },
};

static void *op_thread(void *arg)
{
	struct fz_thread *t = arg;
	unsigned long i;

	kcov_enable(t, true);
	for (i = 0; i < t->nops; i++)
		fz_do(t, fz_pick(t, fz_dev_ops, fz_ndev_ops));
	fz_drop_dups(t);
	kcov_enable(t, false);
	return NULL;
}

static void *nl_thread(void *arg)
{
	kcov_enable(arg, true);
	fz_netlink(arg);
	kcov_enable(arg, false);
	return NULL;
}

/* Thread slots: op threads, then these. */
enum { SLOT_GENL, SLOT_SCRIBBLER, SLOT_MAIN, NR_EXTRA };

static void thread_arm(struct fz_thread *t, struct world *w, uint64_t seed, unsigned long nops)
{
	t->w = w;
	t->nops = nops;
	t->done = 0;
	rng_seed(&t->rng, seed);
}

/* One round; returns -errno if the world could not be built. */
static int run_round(uint64_t rs, void *nl)
{
	struct fz_thread *mt = &g_th[opt.threads + SLOT_MAIN];
	struct fz_thread *gt = &g_th[opt.threads + SLOT_GENL];
	struct fz_thread *st = &g_th[opt.threads + SLOT_SCRIBBLER];
	unsigned long nops = ((unsigned long)opt.nops * (RS_SCALE(rs) + 1) + 3) / 4;
	unsigned int i;
	long err;

	for (i = 0; i < g_nth; i++)
		thread_arm(&g_th[i], &g_world, mix64(RS_OPS(rs) ^ mix64(i + 1)), nops);
	g_world_seed = mix64(RS_WORLD(rs));
	err = fz_do(mt, &main_ops[0]);
	if (err)
		return (int)err;
	for (i = 0; i < opt.threads; i++)
		pthread_create(&g_th[i].tid, NULL, op_thread, &g_th[i]);
	gt->priv = nl;
	if (nl && g_world.netlink)
		pthread_create(&gt->tid, NULL, nl_thread, gt);
	if (g_world.scribble)
		pthread_create(&st->tid, NULL, fz_scribbler, st);
	if (g_world.owner_kill)
		fz_do(mt, &main_ops[2]);
	for (i = 0; i < opt.threads; i++)
		pthread_join(g_th[i].tid, NULL);
	atomic_store(&g_world.stop, true);
	if (nl && g_world.netlink)
		pthread_join(gt->tid, NULL);
	if (g_world.scribble)
		pthread_join(st->tid, NULL);
	fz_do(mt, &main_ops[1]);
	if (cov.remote_area)
		cov_take(cov.remote_area);
	return 0;
}

/* ---- the corpus ---- */

static uint64_t corpus[FZ_CORPUS];
static unsigned int ncorpus;
static struct rng drv;	/* the driver's own choices */

static uint64_t fresh_rseed(unsigned long round)
{
	uint64_t rs = mix64(opt.seed ^ mix64(round));

	return (rs & ~(0xfull << 60)) | 3ull << 60;	/* scale 3: -n ops */
}

/* The same world with other op streams, maybe more ops; or another world, same ops. */
static uint64_t mutate(uint64_t rs)
{
	uint64_t ops = (rng_next(&drv) << 32) & RS_OPS_MASK;
	unsigned int scale = RS_SCALE(rs);

	switch (rng_below(&drv, 3)) {
	case 0:
		return (rs & ~RS_OPS_MASK) | ops;
	case 1:
		scale = scale < 15 ? scale + 1 : scale;
		return (rs & ~(RS_OPS_MASK | 0xfull << 60)) | ops | (uint64_t)scale << 60;
	default:
		return (rs & ~0xffffffffull) | (rng_next(&drv) & 0xffffffffull);
	}
}

static uint64_t next_rseed(unsigned long round)
{
	if (ncorpus && rng_pct(&drv, 50))
		return mutate(corpus[rng_below(&drv, ncorpus)]);
	return fresh_rseed(round);
}

static void corpus_add(uint64_t rs)
{
	if (ncorpus < FZ_CORPUS)
		corpus[ncorpus++] = rs;
	else
		corpus[rng_below(&drv, FZ_CORPUS)] = rs;
}

/* ---- main ---- */

static void usage(void)
{
	fprintf(stderr,
		"usage: vhx_fuzz [-d DEV] [-s SEED] [-t SECONDS] [-r ROUNDS] [-j THREADS]\n"
		"                [-n OPS_PER_ROUND] [-R RSEED:ROUND] [-v]\n"
		"  -d DEV    device (default /dev/vhostx-net)\n"
		"  -s SEED   64-bit run seed (default: from the clock)\n"
		"  -t SECS   stop after SECS seconds (default 60, none with -r alone)\n"
		"  -r N      stop after N rounds\n"
		"  -j N      op threads (default 4, at most %d)\n"
		"  -n N      ops per thread and round (default 300)\n"
		"  -R RS:N   replay the one round N whose round seed is RS (as printed)\n"
		"  -v        a line per round\n", FZ_MAX_THREADS);
	exit(2);
}

static bool parse_u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	return !errno && end != s && !*end;
}

static unsigned int parse_uint(const char *s, unsigned int max)
{
	uint64_t v;

	if (!parse_u64(s, &v) || v > max)
		usage();
	return (unsigned int)v;
}

static void parse_replay(const char *s)
{
	char buf[64], *colon;
	uint64_t round;

	snprintf(buf, sizeof(buf), "%s", s);
	colon = strchr(buf, ':');
	if (!colon)
		usage();
	*colon = 0;
	if (!parse_u64(buf, &opt.replay_rseed) || !parse_u64(colon + 1, &round))
		usage();
	opt.replay_round = round;
	opt.replay = true;
}

static void parse_args(int argc, char **argv)
{
	bool seconds = false, seeded = false;
	int c;

	while ((c = getopt(argc, argv, "d:s:t:r:j:n:R:v")) != -1) {
		switch (c) {
		case 'd': opt.dev = optarg; break;
		case 's': if (!parse_u64(optarg, &opt.seed)) usage(); seeded = true; break;
		case 't': opt.seconds = parse_uint(optarg, 1u << 30); seconds = true; break;
		case 'r': opt.rounds = parse_uint(optarg, 1u << 30); break;
		case 'j': opt.threads = parse_uint(optarg, FZ_MAX_THREADS); break;
		case 'n': opt.nops = parse_uint(optarg, 1u << 20); break;
		case 'R': parse_replay(optarg); break;
		case 'v': opt.verbose = true; break;
		default: usage();
		}
	}
	if (optind != argc || !opt.threads || !opt.nops)
		usage();
	if (!seconds && !opt.rounds)
		opt.seconds = 60;
	if (!seeded)
		opt.seed = mix64(fz_now_ns() ^ (uint64_t)getpid() << 32);
}

/* "#   op: ok=N EBUSY=M ...", for ops that ran */
static void print_hist(struct fz_op *op)
{
	char line[1024];
	size_t used = 0;
	unsigned int e, n;

	for (e = 0; e < FZ_NERR; e++) {
		n = atomic_load(&op->hist[e]);
		if (n)
			used += (size_t)snprintf(line + used, sizeof(line) - used, " %s=%u",
						 e == FZ_NERR - 1 ? "other" : fz_errname(-(long)e), n);
		if (used >= sizeof(line))
			break;
	}
	if (used)
		printf("#   %s:%s\n", op->name, line);
}

static void print_summary(unsigned long rounds, unsigned long long ops)
{
	struct fz_op *tabs[] = { fz_dev_ops, fz_nl_ops };
	unsigned int ns[] = { fz_ndev_ops, fz_nnl_ops }, i, k, e;
	bool seen[FZ_NERR] = { false };
	unsigned int nerr = 0;

	if (cov.on)
		printf("# coverage: %zu pcs, corpus %u\n", cov_count(), ncorpus);
	for (k = 0; k < 2; k++)
		for (i = 0; i < ns[k]; i++)
			for (e = 1; e < FZ_NERR; e++)
				if (atomic_load(&tabs[k][i].hist[e]) && !seen[e]) {
					seen[e] = true;
					nerr++;
				}
	printf("# vhx_fuzz: %lu rounds, %llu ops, %u errnos seen:\n", rounds, ops, nerr);
	for (k = 0; k < 2; k++)
		for (i = 0; i < ns[k]; i++)
			print_hist(&tabs[k][i]);
}

/* Checks after a round: 0, or 1 with the report printed. */
static int round_check(void)
{
	static char klog[32768];
	unsigned long taint = taint_read();
	unsigned int bad;

	klog[0] = 0;
	bad = kmsg_fd >= 0 ? kmsg_scan(klog, sizeof(klog)) : 0;
	if (bad) {
		report("%u kernel log record(s) match the failure patterns", bad);
		fputs(klog, stdout);
		return 1;
	}
	if ((taint & ~taint_start) & ~TAINT_OK) {
		report("the kernel taint went from %#lx to %#lx", taint_start, taint);
		return 1;
	}
	return 0;
}

static const char *const slot_names[NR_EXTRA] = { "genl", "scribbler", "main" };

static void threads_init(void)
{
	static char names[FZ_MAX_THREADS][16];
	unsigned int i;

	g_nth = opt.threads + NR_EXTRA;
	g_th = calloc(g_nth, sizeof(*g_th));
	if (!g_th) {
		perror("calloc");
		exit(1);
	}
	for (i = 0; i < g_nth; i++) {
		g_th[i].kcov_fd = -1;
		g_th[i].buf = calloc(1, FZ_BUF);
		if (!g_th[i].buf) {
			perror("calloc");
			exit(1);
		}
		if (i < opt.threads) {
			snprintf(names[i], sizeof(names[i]), "op%u", i);
			g_th[i].name = names[i];
		} else {
			g_th[i].name = slot_names[i - opt.threads];
		}
	}
	/* KCOV for the op threads and genl; the scribbler makes no syscalls worth it */
	kcov_init(g_th, opt.threads + 1);
}

static void cleanup(void *nl)
{
	unsigned int i;

	for (i = 0; i < g_nth; i++) {
		kcov_close(&g_th[i].kcov_fd, &g_th[i].kcov_area);
		free(g_th[i].buf);
	}
	free(g_th);
	kcov_close(&cov.remote_fd, &cov.remote_area);
	free(cov.set);
	fz_nl_close(nl);
	if (kmsg_fd >= 0)
		close(kmsg_fd);
	regfree(&kmsg_re);
}

int main(int argc, char **argv)
{
	unsigned long long ops = 0;
	uint64_t t0, deadline, next_progress;
	unsigned long round, rounds = 0;
	pthread_t wd;
	void *nl;
	int fd, ret = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	parse_args(argc, argv);
	printf("# vhx_fuzz seed=%#018llx dev=%s threads=%u ops=%u\n", (unsigned long long)opt.seed,
	       opt.dev, opt.threads, opt.nops);
	fd = open(opt.dev, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		printf("# vhx_fuzz: open %s: %s (%s)\n", opt.dev, strerror(errno), strerrorname_np(errno));
		return 1;
	}
	close(fd);
	signal(SIGPIPE, SIG_IGN);
	rng_seed(&drv, opt.seed);
	checks_init();
	threads_init();		/* KCOV_REMOTE_ENABLE before any thread */
	nl = fz_nl_open();
	if (!nl)
		printf("# genl: no \"%s\" family: netlink ops skipped\n", VHOSTX_GENL_NAME);
	pthread_create(&wd, NULL, watchdog, NULL);
	pthread_detach(wd);

	t0 = fz_now_ns();
	deadline = opt.seconds ? t0 + opt.seconds * 1000000000ull : UINT64_MAX;
	next_progress = t0 + PROGRESS_NS;
	for (round = opt.replay ? opt.replay_round : 0; !ret; round++) {
		unsigned long long round_ops = 0;
		size_t pcs = cov_count();
		unsigned int i;
		int err;

		g_round = round;
		g_rseed = opt.replay ? opt.replay_rseed : next_rseed(round);
		err = run_round(g_rseed, nl);
		if (err) {
			report("round set-up: %s", strerror(-err));
			fz_world_teardown(&g_world);
			ret = 1;
			break;
		}
		for (i = 0; i < opt.threads; i++)
			round_ops += g_th[i].done;
		ops += round_ops;
		rounds++;
		ret = round_check();
		if (cov_count() > pcs)
			corpus_add(g_rseed);
		if (opt.verbose)
			printf("# round %lu seed=%#018llx ops=%llu new_pcs=%zu\n", round,
			       (unsigned long long)g_rseed, round_ops, cov_count() - pcs);
		if (fz_now_ns() >= next_progress) {
			printf("# %llu s: round %lu, ops %llu, pcs %zu, corpus %u\n",
			       (unsigned long long)((fz_now_ns() - t0) / 1000000000ull), round, ops,
			       cov_count(), ncorpus);
			next_progress += PROGRESS_NS;
		}
		if (opt.replay || (opt.rounds && rounds >= opt.rounds) || fz_now_ns() >= deadline)
			break;
	}
	print_summary(rounds, ops);
	cleanup(nl);
	return ret;
}
