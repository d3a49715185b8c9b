/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _VHX_NETLINK_H
#define _VHX_NETLINK_H

struct vhx_vq;

int vhx_nl_init(void);
void vhx_nl_exit(void);
void vhx_nl_notify_broken(struct vhx_vq *vq);

#endif /* _VHX_NETLINK_H */
