/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel-version shims, in one place. The module targets Debian 12's 6.1
 * first, then 6.12 and newer.
 */
#ifndef _VHX_COMPAT_H
#define _VHX_COMPAT_H

#include <linux/version.h>
#include <linux/uio.h>
#include <linux/eventfd.h>

/* 6.2 renamed the iov_iter directions; the values are READ/WRITE. */
#ifndef ITER_SOURCE
#define ITER_SOURCE WRITE	/* data flows out of the iterator */
#define ITER_DEST READ		/* data flows into the iterator */
#endif

/* 6.8 dropped eventfd_signal()'s count argument. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 8, 0)
#define vhx_eventfd_signal(ctx) eventfd_signal(ctx)
#else
#define vhx_eventfd_signal(ctx) eventfd_signal(ctx, 1)
#endif

/*
 * genlmsg_multicast_allns() took a gfp_t (and stopped needing the RCU read
 * lock) in 6.8; 6.1's allocates with GFP_ATOMIC under rcu_read_lock().
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 8, 0)
#define vhx_genl_multicast_allns(family, skb, group) \
	genlmsg_multicast_allns(family, skb, 0, group, GFP_KERNEL)
#else
#define vhx_genl_multicast_allns(family, skb, group)               \
	({                                                           \
		int __ret;                                           \
		rcu_read_lock();                                     \
		__ret = genlmsg_multicast_allns(family, skb, 0, group); \
		rcu_read_unlock();                                   \
		__ret;                                               \
	})
#endif

#endif /* _VHX_COMPAT_H */
