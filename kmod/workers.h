/* SPDX-License-Identifier: GPL-2.0 */
/* A device's workers and the worker ioctls (workers.c). */
#ifndef _VHX_WORKERS_H
#define _VHX_WORKERS_H

#include <linux/mm_types.h>

struct vhx_dev;

u8 vhx_workers_default_mode(void);
long vhx_workers_mode_ioctl(struct vhx_dev *d, unsigned int ioctl,
			    u8 __user *argp);
int vhx_workers_start(struct vhx_dev *d, struct mm_struct *mm);
void vhx_workers_stop(struct vhx_dev *d);
void vhx_workers_flush(struct vhx_dev *d);
struct vhx_worker *vhx_workers_find(struct vhx_dev *d, u32 id);
long vhx_workers_ioctl(struct vhx_dev *d, unsigned int ioctl,
		       void __user *argp);

#endif /* _VHX_WORKERS_H */
