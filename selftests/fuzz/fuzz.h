/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vhx_fuzz: what the fuzzer's files share.
 *
 *   vhx_fuzz.c  the driver: options, rounds and their plans, corpus, KCOV
 *               coverage, the kernel-log and taint checks, the watchdog, reports
 *   ops.c       a round's world (devices, guest memory, taps, eventfds) and
 *               the ioctl operations on it
 *   ring.c      running rings: queue set-up and traffic through guestdrv, the
 *               scribbler, guest-memory remaps, the owner killed mid-run
 *   genl.c      raw generic-netlink messages to the "vhostx" family
 *
 * Safety rule for every address handed to the kernel: the device may write
 * wherever a ring address, a memory-table region or the dirty log points, in
 * this very process. So those addresses are only ever inside a device's arena
 * (guest memory, PROT_NONE gaps, the log page and its guard), or not user
 * memory at all (low unmapped addresses, kernel addresses). Never the heap.
 */
#ifndef VHX_FUZZ_H
#define VHX_FUZZ_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <net/if.h>

#include "guestdrv.h"

#define FZ_MAX_THREADS	16
#define FZ_MAX_DEVS	3
#define FZ_MAX_TAPS	2
#define FZ_LOG_LEN	64	/* operations remembered per thread */
#define FZ_NERR		134	/* errno histogram buckets; the last one is "other" */
#define FZ_MAX_DUPS	4	/* dup()ed device fds a thread holds at once */
#define FZ_MAX_WORKERS	8	/* VHOST_NEW_WORKER ids remembered per device */
#define FZ_HANG_NS	(60ull * 1000000000ull)

/* Addresses that are never user memory, for the 30 % of invalid arguments. */
#define FZ_KERNEL_ADDR	0xffff888000000000ull
#define FZ_LOW_ADDR	0x10000ull

/* ---- PRNG: xoshiro256**, seeded through splitmix64 ---- */

struct rng {
	uint64_t s[4];
};

uint64_t mix64(uint64_t x);
void rng_seed(struct rng *r, uint64_t seed);
uint64_t rng_next(struct rng *r);
uint64_t rng_below(struct rng *r, uint64_t n);	/* [0, n), n > 0 */
bool rng_pct(struct rng *r, unsigned int pct);	/* true pct % of the time */
/* The 30 % branch of "mostly valid arguments". */
static inline bool rng_bad(struct rng *r)
{
	return rng_pct(r, 30);
}

/* ---- operations and their log ---- */

struct fz_thread;
struct fz_rec;

struct fz_op {
	const char *name;
	const char *args;	/* names of a[0..2], comma-separated, for the log */
	unsigned int weight;
	long (*fn)(struct fz_thread *t, struct fz_rec *r);	/* >= 0 or -errno */
	_Atomic unsigned int hist[FZ_NERR];	/* [0]: success, [e]: errno e */
};

struct fz_rec {
	const struct fz_op *op;
	int dev;		/* device index, -1 if none */
	long ret;
	uint64_t a[3];
};

/* ---- a round's world ---- */

/* One device fd with its guest memory and the rings guestdrv lays out in it. */
struct fz_dev {
	int fd;			/* a fixed slot: replaced with dup2(), closed at teardown */
	uint8_t *arena;		/* PROT_NONE reservation holding all of the below */
	size_t arena_len;
	uint8_t *log;		/* one RW page of dirty bitmap, then a PROT_NONE guard */
	struct gd_mem mem;	/* regions inside the arena (not gd_mem_init's) */
	struct gd_dev gd;	/* rings and kick/call/err eventfds, for the round */
	uint64_t offered;	/* VHOST_GET_FEATURES at set-up */
	uint64_t tx_slots, rx_slots;	/* gpa of the per-head packet buffers */
	uint64_t scratch_gpa;	/* 4 KiB for the scribbler's indirect tables */
	unsigned int slot_len;
	pthread_mutex_t lock;	/* guestdrv's driver state: run and traffic ops */
	pthread_rwlock_t memlock;	/* write-held while guest memory is remapped */
	bool running;		/* under lock: the run op set the queues up */
	_Atomic unsigned int worker_id[FZ_MAX_WORKERS];
	_Atomic unsigned int nworkers;
};

struct fz_tap {
	int fd;			/* a fixed slot, like fz_dev.fd */
	_Atomic int ifindex;
	_Atomic int hdrsz;	/* the tap's vnet header size, 10 or 12 */
};

struct world {
	const char *path;
	unsigned int ndev, ntap;
	struct fz_dev dev[FZ_MAX_DEVS];
	struct fz_tap tap[FZ_MAX_TAPS];
	int inj;		/* AF_PACKET: frames sent on a tap reach the guest's RX */
	int udp;		/* a socket that is no tap */
	int pipe[2];
	int closed_fd;		/* was an eventfd; closed (the number may come back) */
	int log_efd;
	/* the plan's choices beyond the ops */
	bool scribble, netlink, owner_kill;
	_Atomic bool stop;	/* the op threads are done: helpers stop */
};

/* One thread's state: op threads, and the netlink, scribbler and main threads. */
struct fz_thread {
	const char *name;
	pthread_t tid;
	struct world *w;
	struct rng rng;
	unsigned long nops;	/* ops to run (op threads) */
	unsigned long done;	/* ops run, and log records written */
	struct fz_rec log[FZ_LOG_LEN];
	_Atomic uint64_t op_start_ns;	/* 0 between ops: what the watchdog watches */
	int dups[FZ_MAX_DUPS];	/* dup()ed device fds this thread owns */
	unsigned int ndups;
	uint8_t *buf;		/* 16 KiB for ioctl arguments */
	void *priv;		/* genl.c's socket state */
	/* KCOV of the thread's own syscalls */
	int kcov_fd;
	uint64_t *kcov_area;
};

/* vhx_fuzz.c */
uint64_t fz_now_ns(void);
void fz_sleep_us(uint64_t us);
/* Run one op and log it (KCOV, the watchdog's clock, the errno histogram). */
long fz_do(struct fz_thread *t, struct fz_op *op);
struct fz_op *fz_pick(struct fz_thread *t, struct fz_op *ops, unsigned int n);
const char *fz_errname(long ret);

/* ops.c */
extern struct fz_op fz_dev_ops[];
extern const unsigned int fz_ndev_ops;
int fz_world_setup(struct world *w, const char *path, uint64_t seed, struct fz_thread *main_t);
void fz_world_teardown(struct world *w);
int fz_tap_open(struct rng *r, int *ifindex, int *hdrsz);
struct fz_dev *fz_pick_dev(struct fz_thread *t, struct fz_rec *r);
int fz_dev_fd(struct fz_thread *t, struct fz_dev *d);
void fz_drop_dups(struct fz_thread *t);
/* A guest-physical address: mostly in a region, else in a hole or far out. */
uint64_t fz_pick_gpa(struct rng *r, const struct gd_mem *m);

/* ring.c */
long fz_op_run(struct fz_thread *t, struct fz_rec *r);
long fz_op_traffic(struct fz_thread *t, struct fz_rec *r);
long fz_op_remap(struct fz_thread *t, struct fz_rec *r);
long fz_op_kick(struct fz_thread *t, struct fz_rec *r);
void *fz_scribbler(void *arg);
pid_t fz_owner_child(const char *path, uint64_t seed);

/* genl.c: the socket state is opened once per run, NULL without the family */
void *fz_nl_open(void);
void fz_nl_close(void *nl);
void *fz_netlink(void *arg);
extern struct fz_op fz_nl_ops[];
extern const unsigned int fz_nnl_ops;

#endif /* VHX_FUZZ_H */
