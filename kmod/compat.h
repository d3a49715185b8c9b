/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel-version shims, in one place. The module targets Debian 12's 6.1
 * first, then 6.12 and newer.
 */
#ifndef _VHX_COMPAT_H
#define _VHX_COMPAT_H

#include <linux/version.h>
#include <linux/uio.h>
#include <linux/eventfd.h>
#include <linux/vhost.h>

/*
 * "iov_iter: saner checks for attempt to copy to/from iterator" (6.2) named
 * the directions ITER_DEST/ITER_SOURCE; the values are READ/WRITE.
 */
#ifndef ITER_SOURCE
#define ITER_SOURCE WRITE	/* data flows out of the iterator */
#define ITER_DEST READ		/* data flows into the iterator */
#endif

/*
 * "eventfd: simplify eventfd_signal()" (6.8) dropped the count argument:
 * every caller added 1.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 8, 0)
#define vhx_eventfd_signal(ctx) eventfd_signal(ctx)
#else
#define vhx_eventfd_signal(ctx) eventfd_signal(ctx, 1)
#endif

/*
 * "tracing: Remove second parameter of __assign_str()" (6.10): the source is
 * the one __string() named.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 10, 0)
#define vhx_assign_str(dst, src) __assign_str(dst)
#else
#define vhx_assign_str(dst, src) __assign_str(dst, src)
#endif

/*
 * "mm/page_alloc: modify page_frag_alloc_align() to accept align as an
 * argument" (6.9): the alignment is a power of two, where it was a mask
 * (~(align - 1)); 6.12 warns on a mask.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
#define vhx_page_frag_alloc_align(nc, size, gfp, align) \
	page_frag_alloc_align(nc, size, gfp, align)
#else
#define vhx_page_frag_alloc_align(nc, size, gfp, align) \
	page_frag_alloc_align(nc, size, gfp, ~((align) - 1))
#endif

/*
 * Features whose offer follows the kernel's own vhost_net, which is the
 * oracle on each kernel. VIRTIO_F_RING_RESET: commit 313389be06ff
 * ("vhost-net: support VIRTIO_F_RING_RESET"), merged after 6.1 (Debian's 6.1
 * vhost_net offers 0x33d008000, its 6.12 0x1033d008000, both measured; the
 * release between them that took it is not verified here, 6.2 is the first
 * that can have); it
 * needs no new ioctl: a queue is reset by detaching its backend and set up
 * again with SET_VRING_NUM/BASE/ADDR/KICK/CALL and SET_BACKEND, which vhostx
 * takes per queue while the other one runs.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
#define VHX_FEATURES_KERNEL BIT_ULL(VIRTIO_F_RING_RESET)
#else
#define VHX_FEATURES_KERNEL 0
#endif

/*
 * "vhost: allow userspace to create workers" (6.5) put the worker ioctls and
 * their structs in the uapi, for vhost-scsi. vhostx offers them on every
 * kernel, so older headers get them here, with the same numbers and layout.
 */
#ifndef VHOST_NEW_WORKER
struct vhost_worker_state {
	unsigned int worker_id;
};

struct vhost_vring_worker {
	unsigned int index;
	unsigned int worker_id;
};

#define VHOST_NEW_WORKER _IOR(VHOST_VIRTIO, 0x8, struct vhost_worker_state)
#define VHOST_FREE_WORKER _IOW(VHOST_VIRTIO, 0x9, struct vhost_worker_state)
#define VHOST_ATTACH_VRING_WORKER \
	_IOW(VHOST_VIRTIO, 0x15, struct vhost_vring_worker)
#define VHOST_GET_VRING_WORKER \
	_IOWR(VHOST_VIRTIO, 0x16, struct vhost_vring_worker)
#endif

/*
 * Workers as tasks of the owner (VHOST_FORK_OWNER_TASK): the vhost_task API
 * ("vhost_task: Allow vhost layer to use copy_process", 6.4) in the shape
 * "vhost_task: Handle SIGKILL by flushing work and exiting" gave it (a
 * work function returning whether it did work, a kill callback). Verified
 * on 6.12, whose vhost_net has VHOST_SET/GET_FORK_FROM_OWNER (backported
 * from 6.17's "vhost: Reintroduce kthread API and add mode selection");
 * older kernels get kthread workers only. vhost_task_create() returns NULL
 * on failure on 6.12 and an ERR_PTR on later kernels: callers take both.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0) && IS_ENABLED(CONFIG_VHOST_TASK)
#define VHX_HAVE_VHOST_TASK 1
#include <linux/sched/vhost_task.h>
#else
#define VHX_HAVE_VHOST_TASK 0
struct vhost_task;
#endif

/*
 * VHOST_SET/GET_FORK_FROM_OWNER, with 6.17's numbers and values (0x84 and
 * 0x85 after "vhost: Fix ioctl # for VHOST_[GS]ET_FORK_FROM_OWNER"), for
 * headers that lack them; vhostx answers them on every kernel.
 */
#ifndef VHOST_SET_FORK_FROM_OWNER
#define VHOST_FORK_OWNER_KTHREAD 0
#define VHOST_FORK_OWNER_TASK 1
#define VHOST_SET_FORK_FROM_OWNER _IOW(VHOST_VIRTIO, 0x84, __u8)
#define VHOST_GET_FORK_FROM_OWNER _IOR(VHOST_VIRTIO, 0x85, __u8)
#endif

#endif /* _VHX_COMPAT_H */
