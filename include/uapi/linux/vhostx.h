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

/* Generic netlink family (see Documentation/netlink/specs/vhostx.yaml). */
#define VHOSTX_GENL_NAME "vhostx"
#define VHOSTX_GENL_VERSION 1

#endif /* _UAPI_LINUX_VHOSTX_H */
