// SPDX-License-Identifier: GPL-2.0
/* The registered "user memory" behind access_user.h, and a dirty log. */
#include <stdarg.h>

#include "access_user.h"
#include "log.h"

struct vhx_user_map {
	uintptr_t base;
	size_t len;
	int prot;
};

static struct vhx_user_map maps[VHX_USER_MAX_MAPS];
static unsigned int nmaps;
struct vhx_user_stats vhx_user_stats;

void vhx_user_reset(void)
{
	nmaps = 0;
	memset(&vhx_user_stats, 0, sizeof(vhx_user_stats));
}

int vhx_user_map(const void *base, size_t len, int prot)
{
	if (nmaps >= VHX_USER_MAX_MAPS)
		return -ENOSPC;
	maps[nmaps].base = (uintptr_t)base;
	maps[nmaps].len = len;
	maps[nmaps].prot = prot;
	nmaps++;
	return 0;
}

int vhx_user_check(const void *addr, size_t n, int prot)
{
	uintptr_t a = (uintptr_t)addr;
	unsigned int i;

	if (!n)
		return 0; /* like the kernel: nothing to copy, nothing to check */
	for (i = 0; i < nmaps; i++) {
		const struct vhx_user_map *m = &maps[i];

		if ((m->prot & prot) != prot || a < m->base)
			continue;
		if (a - m->base <= m->len && n <= m->len - (a - m->base))
			return 0;
	}
	return -EFAULT;
}

int vhx_user_read(void *dst, const void *src, size_t n)
{
	if (vhx_user_check(src, n, VHX_USER_R)) {
		vhx_user_stats.faults++;
		return -EFAULT;
	}
	if (n)
		memcpy(dst, src, n);
	vhx_user_stats.reads++;
	return 0;
}

int vhx_user_write(void *dst, const void *src, size_t n)
{
	if (vhx_user_check(dst, n, VHX_USER_W)) {
		vhx_user_stats.faults++;
		return -EFAULT;
	}
	if (n)
		memcpy(dst, src, n);
	vhx_user_stats.writes++;
	return 0;
}

void vhx_user_log(const char *fmt, ...)
{
	static int verbose = -1;
	va_list ap;

	if (verbose < 0) {
		const char *v = getenv("VHX_USER_VERBOSE");

		verbose = v && *v && *v != '0';
	}
	if (!verbose)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

/* The host tests' half of kmod/log.h: the bitmap is @log->bitmap. */
int vhx_log_write(struct vhx_log *log, u64 gpa, u64 len)
{
	u64 first, n, pfn, last;

	if (!len)
		return 0;
	if (!vhx_log_bytes(0, gpa, len, &first, &n))
		return -EFAULT;
	last = (gpa + len - 1) >> VHX_LOG_PAGE_SHIFT;
	for (pfn = gpa >> VHX_LOG_PAGE_SHIFT; pfn <= last; pfn++) {
		if (pfn / 8 >= log->size ||
		    (log->fail_at && log->marks >= log->fail_at))
			return -EFAULT;
		__atomic_fetch_or(&log->bitmap[pfn / 8], (uint8_t)(1u << (pfn % 8)),
				  __ATOMIC_RELAXED);
		log->marks++;
	}
	return 0;
}
