/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One open file of /dev/vhostx-net: a virtio-net device with an RX and a TX
 * queue, an owner (the process whose memory holds the rings) and its workers.
 *
 * Locking: dev->mutex serialises the ioctls and guards owner, mm, mem,
 * features and the backends; vq->mutex (inner) guards each queue. The
 * device's lifetime is the file's: release runs after the last ioctl.
 */
#ifndef _VHX_DEV_H
#define _VHX_DEV_H

#include <linux/fs.h>
#include <linux/mutex.h>
#include <linux/uidgid.h>

#include "vq.h"
#include "worker.h"

/* Workers per device: ids 0..VHX_MAX_WORKERS-1. */
#define VHX_MAX_WORKERS 16

enum {
	VHX_VQ_RX = 0,
	VHX_VQ_TX = 1,
	VHX_NVQS = 2,
};

struct vhx_dev {
	struct mutex mutex;
	u32 id;				/* unique while open; netlink's handle */
	struct mm_struct *mm;		/* owner's mm (mmget); NULL: no owner */
	pid_t owner_tgid;
	/*
	 * Who opened the file, for netlink's permission checks: the network
	 * namespace it was opened in (a reference, dropped at release) and
	 * the opener's effective uid.
	 */
	struct net *net;
	kuid_t uid;
	/* VHOST_SET_FORK_FROM_OWNER's, for workers created from now on */
	u8 worker_mode;
	/* [0] from SET_OWNER, more from VHOST_NEW_WORKER (workers.c) */
	struct vhx_worker *workers[VHX_MAX_WORKERS];
	struct vhx_mem *mem;		/* every vq->mem points here */
	u64 features;
	u64 backend_features;
	struct eventfd_ctx *log_ctx;	/* VHOST_SET_LOG_FD, as vq->log_ctx */
	u32 weight_packets;		/* per run, then requeue (netlink) */
	u32 weight_bytes;
	struct vhx_vq vqs[VHX_NVQS];
};

/*
 * Every open device, by id. A device found under vhx_devices_lock stays
 * alive until the lock is dropped: release unpublishes it first, under the
 * lock. Lock order: vhx_devices_lock, dev->mutex, vq->mutex.
 */
extern struct mutex vhx_devices_lock;
struct vhx_dev *vhx_dev_find(unsigned long *id);

int vhx_dev_open(struct inode *inode, struct file *f);
int vhx_dev_release(struct inode *inode, struct file *f);
long vhx_dev_ioctl(struct file *f, unsigned int ioctl, unsigned long arg);

#endif /* _VHX_DEV_H */
