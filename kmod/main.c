// SPDX-License-Identifier: GPL-2.0
/*
 * vhostx: an in-kernel virtio-net data path, driven with the vhost-net ioctls.
 *
 * This file registers the misc device /dev/vhostx-net; everything an open
 * file does lives in dev.c.
 */
#include <linux/module.h>
#include <linux/miscdevice.h>
#include <linux/fs.h>
#include <linux/seq_file.h>

#include <linux/vhostx.h>

#include "debugfs.h"
#include "dev.h"
#include "netlink.h"
#include "objs.h"

/*
 * /proc/PID/fdinfo/FD names the device behind an open file, so a tool that
 * opened it (vhostxctl attach) knows its netlink id without guessing.
 */
static void vhx_show_fdinfo(struct seq_file *m, struct file *f)
{
	struct vhx_dev *d = f->private_data;

	seq_printf(m, "vhostx-id:\t%u\n", d->id);
}

static const struct file_operations vhx_fops = {
	.owner = THIS_MODULE,
	.show_fdinfo = vhx_show_fdinfo,
	.open = vhx_dev_open,
	.release = vhx_dev_release,
	.unlocked_ioctl = vhx_dev_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice vhx_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = VHOSTX_DEV_NAME,
	.fops = &vhx_fops,
	.mode = 0600,
};

static int __init vhx_init(void)
{
	int ret;

	ret = vhx_nl_init();
	if (ret)
		return ret;
	ret = misc_register(&vhx_misc);
	if (ret)
		goto err_nl;
	vhx_debugfs_init();
	pr_info("vhostx %s: /dev/%s ready\n", VHX_VERSION, vhx_misc.name);
	return 0;

err_nl:
	vhx_nl_exit();
	return ret;
}

static void __exit vhx_exit(void)
{
	vhx_debugfs_exit();
	misc_deregister(&vhx_misc);
	vhx_nl_exit();
	vhx_objs_check();
}

module_init(vhx_init);
module_exit(vhx_exit);

MODULE_LICENSE("GPL");
MODULE_VERSION(VHX_VERSION);
MODULE_AUTHOR("The vhostx authors");
MODULE_DESCRIPTION("vhostx: in-kernel virtio-net accelerator, vhost-net compatible");
