// SPDX-License-Identifier: GPL-2.0
/*
 * vhostx: RX batching from a tap's ptr_ring (see rx_batch.h).
 *
 * The ring holds skbs, or XDP frames tagged by tun (tun_is_xdp_frame()).
 * Whatever is taken off the ring is either given to recvmsg, which consumes
 * it, or put back with ptr_ring_unconsume() when the queue detaches, so a
 * packet is never lost or delivered twice.
 */
#include <linux/if_tap.h>
#include <linux/if_tun.h>
#include <linux/if_vlan.h>
#include <linux/ptr_ring.h>
#include <linux/skbuff.h>
#include <net/xdp.h>

#include "rx_batch.h"

void vhx_rx_batch_attach(struct vhx_rx_batch *b, struct file *file)
{
	struct ptr_ring *ring = tun_get_tx_ring(file);

	if (IS_ERR(ring))
		ring = tap_get_ptr_ring(file);
	b->ring = IS_ERR(ring) ? NULL : ring;
	b->head = 0;
	b->tail = 0;
}

/* Give back what was taken and not received; the tap frees any excess. */
void vhx_rx_batch_detach(struct vhx_rx_batch *b)
{
	if (b->ring && b->tail > b->head)
		ptr_ring_unconsume(b->ring, b->buf + b->head,
				   b->tail - b->head, tun_ptr_free);
	b->ring = NULL;
	b->head = 0;
	b->tail = 0;
}

static int vhx_rx_batch_len(void *ptr)
{
	struct sk_buff *skb = ptr;
	int len;

	if (tun_is_xdp_frame(ptr))
		return tun_ptr_to_xdp(ptr)->len;
	len = skb->len;
	if (skb_vlan_tag_present(skb))
		len += VLAN_HLEN;
	return len;
}

/*
 * Length of the next packet, refilling from the ring when the batch is
 * used up: 0 if there is none, -ENOENT if there is no ring to batch from.
 */
int vhx_rx_batch_peek(struct vhx_rx_batch *b)
{
	if (!b->ring)
		return -ENOENT;
	if (b->head == b->tail) {
		b->head = 0;
		b->tail = ptr_ring_consume_batched(b->ring, b->buf,
						   VHX_RX_BATCH);
		if (!b->tail)
			return 0;
	}
	return vhx_rx_batch_len(b->buf[b->head]);
}

/* The packet vhx_rx_batch_peek() measured, for recvmsg's msg_control. */
void *vhx_rx_batch_take(struct vhx_rx_batch *b)
{
	if (!b->ring || b->head == b->tail)
		return NULL;
	return b->buf[b->head++];
}
