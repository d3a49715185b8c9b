// SPDX-License-Identifier: GPL-2.0
/*
 * vhostx: one open file of /dev/vhostx-net.
 */
#include <linux/slab.h>
#include <linux/mutex.h>

#include "dev.h"

/* One open file. f->private_data owns it; it dies with the last fput(). */
struct vhx_dev {
	struct mutex mutex;	/* serialises ioctls */
};

int vhx_dev_open(struct inode *inode, struct file *f)
{
	struct vhx_dev *d;

	d = kzalloc(sizeof(*d), GFP_KERNEL_ACCOUNT);
	if (!d)
		return -ENOMEM;
	mutex_init(&d->mutex);
	f->private_data = d;
	return 0;
}

int vhx_dev_release(struct inode *inode, struct file *f)
{
	struct vhx_dev *d = f->private_data;

	mutex_destroy(&d->mutex);
	kfree(d);
	return 0;
}

long vhx_dev_ioctl(struct file *f, unsigned int ioctl, unsigned long arg)
{
	return -ENOIOCTLCMD;
}
