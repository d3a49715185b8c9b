/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _VHX_DEV_H
#define _VHX_DEV_H

#include <linux/fs.h>

int vhx_dev_open(struct inode *inode, struct file *f);
int vhx_dev_release(struct inode *inode, struct file *f);
long vhx_dev_ioctl(struct file *f, unsigned int ioctl, unsigned long arg);

#endif /* _VHX_DEV_H */
