/* SPDX-License-Identifier: GPL-2.0 */
/*
 * TX batching into a tap: packets are copied from the guest into page
 * fragments laid out as XDP buffers and handed to tun/macvtap in one sendmsg
 * (TUN_MSG_PTR), which builds the skbs around them. Still one copy per
 * packet, but one call into the tap for up to VHX_TX_BATCH packets.
 *
 * Used by one TX queue, under its vq->mutex.
 */
#ifndef _VHX_TX_BATCH_H
#define _VHX_TX_BATCH_H

#include <linux/gfp.h>
#include <linux/mm_types.h>
#include <linux/uio.h>
#include <net/xdp.h>

struct socket;

#define VHX_TX_BATCH 64

struct vhx_tx_batch {
	struct xdp_buff xdp[VHX_TX_BATCH];
	unsigned int n;			/* buffers waiting in xdp[] */
	u64 bytes;			/* their frames' bytes */
	u64 copied;			/* bytes copied from the guest for them */
	struct page_frag_cache frags;	/* where the packets are copied */
};

bool vhx_tx_batch_usable(struct socket *sock);
int vhx_tx_batch_add(struct vhx_tx_batch *b, struct socket *sock,
		     struct iov_iter *from, size_t sock_hlen);
int vhx_tx_batch_flush(struct vhx_tx_batch *b, struct socket *sock);
void vhx_tx_batch_release(struct vhx_tx_batch *b);

#endif /* _VHX_TX_BATCH_H */
