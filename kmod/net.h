/* SPDX-License-Identifier: GPL-2.0 */
/* The virtio-net data path: TX (guest -> tap) and RX (tap -> guest). */
#ifndef _VHX_NET_H
#define _VHX_NET_H

#include <linux/bits.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/vhost.h>

#include "compat.h"

struct vhx_dev;
struct vhx_vq;

/* Feature bits offered by VHOST_GET_FEATURES. */
#define VHX_FEATURES                                                        \
	(BIT_ULL(VIRTIO_F_NOTIFY_ON_EMPTY) |                                 \
	 BIT_ULL(VIRTIO_RING_F_INDIRECT_DESC) |                              \
	 BIT_ULL(VIRTIO_RING_F_EVENT_IDX) | BIT_ULL(VIRTIO_F_ANY_LAYOUT) |    \
	 BIT_ULL(VIRTIO_F_VERSION_1) | BIT_ULL(VHOST_NET_F_VIRTIO_NET_HDR) | \
	 BIT_ULL(VIRTIO_NET_F_MRG_RXBUF) | BIT_ULL(VHOST_F_LOG_ALL) |        \
	 VHX_FEATURES_KERNEL)

/* Default per-run limits, as vhost-net's: then the handler requeues itself. */
#define VHX_WEIGHT_PACKETS 256
#define VHX_WEIGHT_BYTES 0x80000

void vhx_net_handle_tx(struct vhx_vq *vq);
void vhx_net_handle_rx(struct vhx_vq *vq);
long vhx_net_set_backend(struct vhx_dev *d, unsigned int index, int fd);
void vhx_net_stop(struct vhx_dev *d);
int vhx_net_backend_dev(struct vhx_vq *vq, char *name);

#endif /* _VHX_NET_H */
