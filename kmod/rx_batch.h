/* SPDX-License-Identifier: GPL-2.0 */
/*
 * RX batching from a tap: packets are taken off the tap's ptr_ring up to
 * VHX_RX_BATCH at a time (one lock round trip), peeked at locally, and handed
 * back one by one to the tap's recvmsg (msg_control) for the copy into the
 * guest. Raw packet sockets have no ring: then every call falls through to
 * the socket's own peek and receive.
 *
 * Used by one RX queue, under its vq->mutex.
 */
#ifndef _VHX_RX_BATCH_H
#define _VHX_RX_BATCH_H

struct file;
struct ptr_ring;

#define VHX_RX_BATCH 64

struct vhx_rx_batch {
	struct ptr_ring *ring;		/* the tap's queue, NULL if none */
	void *buf[VHX_RX_BATCH];	/* taken off the ring, not yet received */
	unsigned int head, tail;	/* buf[head..tail) */
};

void vhx_rx_batch_attach(struct vhx_rx_batch *b, struct file *file);
void vhx_rx_batch_detach(struct vhx_rx_batch *b);
int vhx_rx_batch_peek(struct vhx_rx_batch *b);
void *vhx_rx_batch_take(struct vhx_rx_batch *b);

#endif /* _VHX_RX_BATCH_H */
