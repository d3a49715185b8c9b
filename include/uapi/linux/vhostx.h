/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * vhostx userspace API.
 *
 * vhostx speaks the vhost-net ioctl ABI: every ioctl, struct and feature bit
 * that vhost defines comes from <linux/vhost.h> and is never redefined here.
 * This header holds only what vhostx adds.
 */
#ifndef _UAPI_LINUX_VHOSTX_H
#define _UAPI_LINUX_VHOSTX_H

/* The misc device a VMM opens, in place of /dev/vhost-net. */
#define VHOSTX_DEV_NAME "vhostx-net"

/*
 * Generic netlink family "vhostx" (Documentation/netlink/specs/vhostx.yaml).
 *
 * VHOSTX_CMD_DEV_GET    do: one device (VHOSTX_A_DEV_ID); dump: every device.
 * VHOSTX_CMD_DEV_SET    needs CAP_NET_ADMIN: busy-poll timeout and per-run
 *                       weights of one device (VHOSTX_A_DEV_ID).
 * VHOSTX_CMD_WORKER_SET needs CAP_NET_ADMIN: the CPUs one worker
 *                       (VHOSTX_A_DEV_WORKER_ID) of a device may run on
 *                       (VHOSTX_A_DEV_WORKER_CPUS), within the owner's.
 * VHOSTX_CMD_QUEUE_BROKEN  notification on VHOSTX_MCGRP_EVENTS when a queue
 *                       is stopped by a malformed ring.
 */
#define VHOSTX_GENL_NAME "vhostx"
#define VHOSTX_GENL_VERSION 1
#define VHOSTX_MCGRP_EVENTS "events"

enum {
	VHOSTX_CMD_UNSPEC,
	VHOSTX_CMD_DEV_GET,
	VHOSTX_CMD_DEV_SET,
	VHOSTX_CMD_QUEUE_BROKEN,
	VHOSTX_CMD_WORKER_SET,
	__VHOSTX_CMD_MAX,
};
#define VHOSTX_CMD_MAX (__VHOSTX_CMD_MAX - 1)

/* Device attributes (top level). */
enum {
	VHOSTX_A_DEV_UNSPEC,
	VHOSTX_A_DEV_ID,		/* u32 */
	VHOSTX_A_DEV_OWNER_PID,		/* u32, 0 without owner */
	VHOSTX_A_DEV_FEATURES,		/* u64, negotiated */
	VHOSTX_A_DEV_BACKEND_IFINDEX,	/* u32, absent without backend */
	VHOSTX_A_DEV_BACKEND_IFNAME,	/* string */
	VHOSTX_A_DEV_QUEUES,		/* nest of VHOSTX_A_QUEUE, one per queue */
	VHOSTX_A_DEV_BUSYPOLL_US,	/* u32, set: both queues; get: TX queue's */
	VHOSTX_A_DEV_WEIGHT_PACKETS,	/* u32, packets per run before requeue */
	VHOSTX_A_DEV_WEIGHT_BYTES,	/* u32, bytes per run before requeue */
	VHOSTX_A_DEV_PAD,
	VHOSTX_A_DEV_LOGGING,		/* u8: dirty logging on (VHOST_F_LOG_ALL) */
	VHOSTX_A_DEV_WORKERS,		/* nest of VHOSTX_A_WORKER, one per worker */
	VHOSTX_A_DEV_WORKER_ID,		/* u32: the worker WORKER_SET changes */
	VHOSTX_A_DEV_WORKER_CPUS,	/* string, a CPU list ("0-3,8"): its affinity */
	__VHOSTX_A_DEV_MAX,
};
#define VHOSTX_A_DEV_MAX (__VHOSTX_A_DEV_MAX - 1)

/* VHOSTX_A_DEV_QUEUES holds one VHOSTX_A_QUEUE nest per queue. */
enum {
	VHOSTX_A_QUEUES_UNSPEC,
	VHOSTX_A_QUEUE,			/* nest of VHOSTX_A_QUEUE_* */
	__VHOSTX_A_QUEUES_MAX,
};

enum {
	VHOSTX_A_QUEUE_UNSPEC,
	VHOSTX_A_QUEUE_INDEX,		/* u32: 0 = RX, 1 = TX */
	VHOSTX_A_QUEUE_NUM,		/* u32: ring size, 0 if not set */
	VHOSTX_A_QUEUE_LAST_AVAIL,	/* u32: next avail entry the device reads */
	VHOSTX_A_QUEUE_USED_IDX,	/* u32: used->idx as the device wrote it */
	VHOSTX_A_QUEUE_ENABLED,		/* u8: backend attached */
	VHOSTX_A_QUEUE_BROKEN,		/* u8: stopped by a malformed ring */
	VHOSTX_A_QUEUE_BROKEN_REASON,	/* u32 reason code (see below) */
	VHOSTX_A_QUEUE_BROKEN_TEXT,	/* string */
	VHOSTX_A_QUEUE_BUSYPOLL_US,	/* u32 */
	VHOSTX_A_QUEUE_STATS,		/* nest: attribute type = counter id + 1, u64 */
	VHOSTX_A_QUEUE_DEV_ID,		/* u32, in VHOSTX_CMD_QUEUE_BROKEN */
	VHOSTX_A_QUEUE_PAD,
	VHOSTX_A_QUEUE_LOG_USED,	/* u8: used ring writes logged (VHOST_VRING_F_LOG) */
	VHOSTX_A_QUEUE_WORKER_ID,	/* u32: the worker that runs the queue */
	__VHOSTX_A_QUEUE_MAX,
};
#define VHOSTX_A_QUEUE_MAX (__VHOSTX_A_QUEUE_MAX - 1)

/* VHOSTX_A_DEV_WORKERS holds one VHOSTX_A_WORKER nest per worker. */
enum {
	VHOSTX_A_WORKERS_UNSPEC,
	VHOSTX_A_WORKER,		/* nest of VHOSTX_A_WORKER_* */
	__VHOSTX_A_WORKERS_MAX,
};

enum {
	VHOSTX_A_WORKER_UNSPEC,
	VHOSTX_A_WORKER_ID,		/* u32: VHOST_NEW_WORKER's id; 0 from SET_OWNER */
	VHOSTX_A_WORKER_PID,		/* u32: the thread's pid (a tid in task mode) */
	VHOSTX_A_WORKER_CPU,		/* u32: the CPU it last ran on */
	VHOSTX_A_WORKER_CPU_NS,		/* u64: CPU time it has used, ns */
	VHOSTX_A_WORKER_CPUS,		/* string: CPUs it may run on, a CPU list */
	VHOSTX_A_WORKER_QUEUES,		/* u32: how many queues it runs */
	VHOSTX_A_WORKER_PAD,
	VHOSTX_A_WORKER_MODE,		/* u32: VHOST_FORK_OWNER_KTHREAD (0) or _TASK (1) */
	__VHOSTX_A_WORKER_MAX,
};
#define VHOSTX_A_WORKER_MAX (__VHOSTX_A_WORKER_MAX - 1)

/* Why a queue stopped (VHOSTX_A_QUEUE_BROKEN_REASON). Stable ABI. */
enum vhostx_broken_reason {
	VHOSTX_BROKEN_NONE,
	VHOSTX_BROKEN_ACCESS,		/* ring memory not accessible */
	VHOSTX_BROKEN_AVAIL_IDX,	/* avail idx moved by more than num */
	VHOSTX_BROKEN_HEAD,		/* head index >= num */
	VHOSTX_BROKEN_NEXT,		/* next index out of range */
	VHOSTX_BROKEN_CHAIN_LEN,	/* chain longer than the ring (loop) */
	VHOSTX_BROKEN_INDIRECT_NESTED,	/* indirect inside indirect */
	VHOSTX_BROKEN_INDIRECT_LEN,	/* bad indirect table length */
	VHOSTX_BROKEN_INDIRECT_NEXT,	/* INDIRECT together with NEXT */
	VHOSTX_BROKEN_ADDR,		/* address outside the memory table */
	VHOSTX_BROKEN_DIR,		/* descriptor direction wrong for the queue */
	VHOSTX_BROKEN_IOV_FULL,		/* chain has too many segments */
	VHOSTX_BROKEN_USED,		/* used ring not writable */
	VHOSTX_BROKEN_HDR,		/* TX: no packet after the vnet header; RX: a buffer of 0 bytes */
	VHOSTX_BROKEN_START,		/* used ring not accessible at start */
	VHOSTX_BROKEN_LOG,		/* dirty log (VHOST_SET_LOG_BASE) not writable */
};

/*
 * Per-virtqueue counters. Each is a u64 that only the queue's worker writes
 * (kicks: the kick eventfd's wake-up, serialised by its wait-queue lock).
 * Ids are stable ABI: new counters are added at the end.
 */
enum vhostx_counter {
	VHOSTX_CNT_KICKS,		/* guest kicks (kick eventfd wake-ups) */
	VHOSTX_CNT_IRQS,		/* interrupts signalled (call eventfd) */
	VHOSTX_CNT_IRQS_SUPPRESSED,	/* used updates that needed no interrupt */
	VHOSTX_CNT_PACKETS,		/* packets moved */
	VHOSTX_CNT_BYTES,		/* payload bytes moved, without vnet header */
	VHOSTX_CNT_BATCHES,		/* used-ring publications */
	VHOSTX_CNT_BYTES_COPIED,	/* bytes copied between guest and skb */
	VHOSTX_CNT_BUSYPOLL_SPINS,	/* busy-poll iterations */
	VHOSTX_CNT_DROPS,		/* packets dropped (tap refused, no room) */
	VHOSTX_CNT_ERR_RING,		/* malformed ring: queue stopped */
	VHOSTX_CNT_ERR_SOCK,		/* socket errors other than "try again" */
	VHOSTX_CNT_RX_NOBUF,		/* RX waited for the guest to add buffers */
	VHOSTX_CNT_REQUEUES,		/* runs cut short by the weight limits */
	VHOSTX_CNT_LOG_PAGES,		/* pages marked in the dirty log (each time) */
	__VHOSTX_CNT_MAX,
};

#endif /* _UAPI_LINUX_VHOSTX_H */
