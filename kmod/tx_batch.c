// SPDX-License-Identifier: GPL-2.0
/*
 * vhostx: TX batching into tun/macvtap with XDP buffers (see tx_batch.h).
 *
 * Buffer layout, as tun_xdp_one() and tap_get_user_xdp() expect it:
 *
 *   data_hard_start: struct tun_xdp_hdr { buflen; virtio_net_hdr gso; }
 *   + pad:           the frame (data .. data_end)
 *   then:            room for struct skb_shared_info (build_skb)
 *
 * Each fragment holds one page reference, which the skb (or the tap's error
 * path) drops; the fragment cache keeps its own bias until release.
 */
#include <linux/if_tun.h>
#include <linux/if_ether.h>
#include <linux/net.h>
#include <linux/skbuff.h>
#include <linux/socket.h>
#include <linux/virtio_net.h>
#include <net/sock.h>

#include "compat.h"
#include "tx_batch.h"

#define VHX_TX_PAD (NET_IP_ALIGN + NET_SKB_PAD)

/*
 * vhost-net batches only when the socket's send buffer is unlimited: then the
 * tap never pushes back, and nothing needs to be retried.
 */
bool vhx_tx_batch_usable(struct socket *sock)
{
	return sock->sk->sk_sndbuf == INT_MAX;
}

/*
 * Copy one packet (the socket's vnet header, if any, then the frame) from
 * @from into a new buffer. 0: batched; -ENOSPC: it does not fit a page (send
 * it the ordinary way); -ENOMEM or -EFAULT: it could not be copied.
 */
int vhx_tx_batch_add(struct vhx_tx_batch *b, struct socket *sock,
		     struct iov_iter *from, size_t sock_hlen)
{
	size_t len = iov_iter_count(from);
	int headroom = sock_flag(sock->sk, SOCK_XDP) ? XDP_PACKET_HEADROOM : 0;
	int pad = SKB_DATA_ALIGN(VHX_TX_PAD + headroom + sock_hlen);
	struct xdp_buff *xdp = &b->xdp[b->n];
	struct tun_xdp_hdr *hdr;
	size_t buflen;
	void *buf;

	if (len < sock_hlen || len - sock_hlen < ETH_HLEN)
		return -ENOSPC;	/* let the tap judge and count it */
	/*
	 * In size_t: a chain of several descriptors of 4 GiB - 1 over a huge
	 * memory region is longer than any unsigned int (the fuzzer's find:
	 * a truncated buflen passed, and copy_from_iter() WARNed at > INT_MAX).
	 */
	buflen = SKB_DATA_ALIGN(len - sock_hlen + pad) +
		 SKB_DATA_ALIGN(sizeof(struct skb_shared_info));
	if (buflen > PAGE_SIZE)
		return -ENOSPC;
	buf = vhx_page_frag_alloc_align(&b->frags, buflen, GFP_KERNEL,
					SMP_CACHE_BYTES);
	if (!buf)
		return -ENOMEM;
	hdr = buf;
	memset(&hdr->gso, 0, sizeof(hdr->gso));
	if (copy_from_iter((u8 *)buf + offsetof(struct tun_xdp_hdr, gso),
			   sock_hlen, from) != sock_hlen)
		goto fault;
	len -= sock_hlen;
	if (copy_from_iter((u8 *)buf + pad, len, from) != len)
		goto fault;
	hdr->buflen = buflen;
	xdp_init_buff(xdp, buflen, NULL);
	xdp_prepare_buff(xdp, buf, pad, len, true);
	b->n++;
	b->bytes += len;
	b->copied += len + sock_hlen;
	return 0;

fault:
	page_frag_free(buf);
	return -EFAULT;
}

/*
 * Hand the batch to the tap. Returns its sendmsg result (<0: all dropped).
 * The caller reads n, bytes and copied before calling, for its counters.
 */
int vhx_tx_batch_flush(struct vhx_tx_batch *b, struct socket *sock)
{
	struct tun_msg_ctl ctl = {
		.type = TUN_MSG_PTR,
		.num = b->n,
		.ptr = b->xdp,
	};
	struct msghdr msg = {
		.msg_control = &ctl,
		.msg_controllen = sizeof(ctl),
		.msg_flags = MSG_DONTWAIT,
	};
	unsigned int i;
	int ret;

	if (!b->n)
		return 0;
	ret = sock->ops->sendmsg(sock, &msg, 0);
	if (ret < 0) {
		/* The tap took none of them (it went away): free them. */
		for (i = 0; i < b->n; i++)
			page_frag_free(b->xdp[i].data);
	}
	b->n = 0;
	b->bytes = 0;
	b->copied = 0;
	return ret;
}

/* Drop the fragment cache's page. The batch must be empty. */
void vhx_tx_batch_release(struct vhx_tx_batch *b)
{
	if (b->frags.va)
		__page_frag_cache_drain(virt_to_head_page(b->frags.va),
					b->frags.pagecnt_bias);
	b->frags.va = NULL;
}
