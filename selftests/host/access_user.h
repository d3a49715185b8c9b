/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The userspace half of kmod/access.h (built with -DVHX_USERSPACE): the
 * kernel types and helpers that ring_split.c and mem.c use, and "user memory"
 * that is only what a test registered with vhx_user_map(). Every accessor
 * checks the whole range against the registered ones and returns -EFAULT
 * instead of touching anything else, so a stray guest address becomes an
 * error the test can assert, never a segfault. Usable from C11 and C++20.
 */
#ifndef _VHX_ACCESS_USER_H
#define _VHX_ACCESS_USER_H

#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#ifndef __cplusplus
#include <stdbool.h>
#endif

#include <linux/types.h>
/* Only the virtio 1.x layout; the legacy vring_init() is not valid C++. */
#define VIRTIO_RING_NO_LEGACY
#include <linux/virtio_ring.h>
#include <linux/vhost_types.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef __s64 s64;

#define __user
#define __force
#define __must_check __attribute__((warn_unused_result))

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define min_t(type, a, b) ((type)(a) < (type)(b) ? (type)(a) : (type)(b))
#define max_t(type, a, b) ((type)(a) > (type)(b) ? (type)(a) : (type)(b))
#define READ_ONCE(x) (*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))
#define check_add_overflow(a, b, d) __builtin_add_overflow(a, b, d)
#define check_mul_overflow(a, b, d) __builtin_mul_overflow(a, b, d)
/* No speculation to worry about here; keep the clamp's semantics. */
#define array_index_nospec(i, n) ((i) < (n) ? (i) : 0)

#define vhx16_to_cpu(v) le16toh(v)
#define vhx32_to_cpu(v) le32toh(v)
#define vhx64_to_cpu(v) le64toh(v)
#define cpu_to_vhx16(v) ((__virtio16)htole16(v))
#define cpu_to_vhx32(v) ((__virtio32)htole32(v))

/* --- "user memory": ranges a test registers ------------------------------ */

#define VHX_USER_R 1
#define VHX_USER_W 2
#define VHX_USER_RW (VHX_USER_R | VHX_USER_W)
#define VHX_USER_MAX_MAPS 16

struct vhx_user_stats {
	unsigned long reads; /* successful get_user/copy_from_user */
	unsigned long writes; /* successful put_user/copy_to_user */
	unsigned long faults; /* accesses refused with -EFAULT */
};

extern struct vhx_user_stats vhx_user_stats;

/* Forget every mapping and zero the stats. */
void vhx_user_reset(void);
/* Make [base, base + len) accessible with @prot; 0 or -ENOSPC. */
int vhx_user_map(const void *base, size_t len, int prot);
/* 0 if [addr, addr + n) lies inside one mapping that allows @prot. */
int vhx_user_check(const void *addr, size_t n, int prot);
int vhx_user_read(void *dst, const void *src, size_t n);
int vhx_user_write(void *dst, const void *src, size_t n);

/* 0 or -EFAULT; on failure the destination is zeroed, as in the kernel. */
#define vhx_get_user(x, ptr)                                                \
	__extension__({                                                     \
		__typeof__(*(ptr)) __gu_v;                                  \
		int __gu_e = vhx_user_read(&__gu_v, (ptr), sizeof(__gu_v)); \
		if (__gu_e)                                                 \
			memset(&__gu_v, 0, sizeof(__gu_v));                 \
		(x) = __gu_v;                                               \
		__gu_e;                                                     \
	})

#define vhx_put_user(x, ptr)                                    \
	__extension__({                                         \
		__typeof__(*(ptr)) __pu_v = (x);                \
		vhx_user_write((ptr), &__pu_v, sizeof(__pu_v)); \
	})

static inline int vhx_copy_from_user(void *dst, const void *src, size_t n)
{
	return vhx_user_read(dst, src, n);
}

static inline int vhx_copy_to_user(void *dst, const void *src, size_t n)
{
	return vhx_user_write(dst, src, n);
}

/* A 47-bit user address space, as on x86-64 with 4-level paging. */
#define VHX_USER_TOP (1ULL << 47)
#define vhx_access_ok(uaddr, size)                      \
	((uint64_t)(uintptr_t)(uaddr) < VHX_USER_TOP && \
	 (uint64_t)(size) <= VHX_USER_TOP - (uint64_t)(uintptr_t)(uaddr))

#define vhx_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define vhx_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)
#define vhx_mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)

#define vhx_kvmalloc(size) malloc(size)
#define vhx_kvfree(p) free(p)
#define vhx_sort(base, n, size, cmp) qsort(base, n, size, cmp)

/*
 * The dirty log as the host tests see it: the bitmap is ordinary memory of
 * @size bytes (log base 0), so vhx_log_write() (kmod/log.h) sets bits in it
 * and fails with -EFAULT for a byte past the end, as the module does for one
 * outside the owner's memory. @fail_at: the marks after which every write
 * fails (0: never), to test what a fault in the middle does.
 */
struct vhx_log {
	uint8_t *bitmap;
	size_t size;
	u64 marks;
	u64 fail_at;
};

/* Quiet by default; VHX_USER_VERBOSE=1 in the environment prints. */
__attribute__((format(printf, 1, 2))) void vhx_user_log(const char *fmt, ...);
#define pr_err(...) vhx_user_log(__VA_ARGS__)
#define pr_warn(...) vhx_user_log(__VA_ARGS__)
#define pr_info(...) vhx_user_log(__VA_ARGS__)
#define pr_debug(...) vhx_user_log(__VA_ARGS__)
#define pr_err_ratelimited(...) vhx_user_log(__VA_ARGS__)
#define pr_warn_ratelimited(...) vhx_user_log(__VA_ARGS__)

#ifdef __cplusplus
}
#endif

#endif /* _VHX_ACCESS_USER_H */
