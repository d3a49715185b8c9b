/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The worker ioctls of 6.5 (include/uapi/linux/vhost.h, vhost-scsi's), for
 * build hosts whose <linux/vhost.h> predates them: same numbers and layout.
 * The module has its own copy in kmod/compat.h.
 */
#ifndef _VHX_SELFTESTS_VHOST_WORKERS_H
#define _VHX_SELFTESTS_VHOST_WORKERS_H

#include <linux/vhost.h>

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
#define VHOST_ATTACH_VRING_WORKER _IOW(VHOST_VIRTIO, 0x15, struct vhost_vring_worker)
#define VHOST_GET_VRING_WORKER _IOWR(VHOST_VIRTIO, 0x16, struct vhost_vring_worker)
#endif

#endif /* _VHX_SELFTESTS_VHOST_WORKERS_H */
