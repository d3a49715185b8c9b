/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The only ways ring_split.c and mem.c reach guest memory and the kernel.
 *
 * In the module, guest memory is the owner's address space: the worker runs
 * under kthread_use_mm(), so these are plain uaccess calls that fail with
 * -EFAULT instead of faulting. Built with -DVHX_USERSPACE, the same names come
 * from selftests/host/access_user.h, so ring_split.c and mem.c compile
 * unchanged into host unit tests and a fuzzer.
 */
#ifndef _VHX_ACCESS_H
#define _VHX_ACCESS_H

#ifdef VHX_USERSPACE
#include "access_user.h"
#else
#include <linux/types.h>
#include <linux/errno.h>
#include <linux/uaccess.h>
#include <linux/uio.h>
#include <linux/overflow.h>
#include <linux/nospec.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/printk.h>
#include <uapi/linux/virtio_ring.h>
#include <uapi/linux/vhost_types.h>

/* Rings are little-endian: virtio 1.0, and legacy virtio on x86. */
#define vhx16_to_cpu(v) le16_to_cpu((__force __le16)(v))
#define vhx32_to_cpu(v) le32_to_cpu((__force __le32)(v))
#define vhx64_to_cpu(v) le64_to_cpu((__force __le64)(v))
#define cpu_to_vhx16(v) ((__force __virtio16)cpu_to_le16(v))
#define cpu_to_vhx32(v) ((__force __virtio32)cpu_to_le32(v))

/* 0 or -EFAULT, like the kernel's own. */
#define vhx_get_user(x, ptr) get_user(x, ptr)
#define vhx_put_user(x, ptr) put_user(x, ptr)

static inline int vhx_copy_from_user(void *dst, const void __user *src,
				     size_t n)
{
	return copy_from_user(dst, src, n) ? -EFAULT : 0;
}

static inline int vhx_copy_to_user(void __user *dst, const void *src, size_t n)
{
	return copy_to_user(dst, src, n) ? -EFAULT : 0;
}

/* Is [uaddr, uaddr + size) inside the user address space? */
#define vhx_access_ok(uaddr, size) access_ok(uaddr, size)

/* Ordering against the guest, which runs on other CPUs. */
#define vhx_rmb() smp_rmb()
#define vhx_wmb() smp_wmb()
#define vhx_mb() smp_mb()

#define vhx_kvmalloc(size) kvmalloc(size, GFP_KERNEL_ACCOUNT)
#define vhx_kvfree(p) kvfree(p)
#define vhx_sort(base, n, size, cmp) sort(base, n, size, cmp, NULL)

#endif /* VHX_USERSPACE */
#endif /* _VHX_ACCESS_H */
