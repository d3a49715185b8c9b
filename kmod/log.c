// SPDX-License-Identifier: GPL-2.0
/*
 * vhostx: setting bits in the dirty log (see log.h for its layout).
 *
 * The bitmap is the owner's memory, so it is written through a pinned page:
 * the bit must be set atomically (QEMU clears bits with an atomic exchange
 * while we set them, and shares one bitmap between all its vhost devices),
 * and user memory has no atomic bit operation of its own. The worker runs in
 * the owner's mm (kthread_use_mm), which pin_user_pages_fast() uses.
 */
#include <linux/bitops.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/uaccess.h>

#include "log.h"

/*
 * The bytes vhost's log_access_ok() checks, so that the ioctls answer as
 * vhost_net's do: from base + gpa / 32768, ceil(size / 32768) of them, the
 * start overflow-checked. (For a range that does not start on a 32 KiB
 * boundary that may be one byte short of vhx_log_bytes(); the writer checks
 * every byte it sets, so this only decides an errno.)
 */
bool vhx_log_range_ok(u64 base, u64 gpa, u64 size)
{
	const u64 per_byte = VHX_LOG_PAGE_SIZE * BITS_PER_BYTE;
	u64 first, n = size / per_byte + !!(size % per_byte);

	if (check_add_overflow(base, gpa / per_byte, &first) ||
	    first != (unsigned long)first || n != (unsigned long)n)
		return false;
	return access_ok(u64_to_user_ptr(first), n);
}

static void vhx_log_unpin(struct vhx_log *log)
{
	if (!log->page)
		return;
	unpin_user_pages_dirty_lock(&log->page, 1, true);
	log->page = NULL;
}

u64 vhx_log_end(struct vhx_log *log)
{
	u64 marks = log->marks;

	vhx_log_unpin(log);
	log->marks = 0;
	return marks;
}

/* Set bit @bit (0..7) of the bitmap byte at user address @addr. */
static int vhx_log_set(struct vhx_log *log, u64 addr, unsigned int bit)
{
	unsigned long uaddr = addr, page_addr = uaddr & PAGE_MASK;
	void *map;
	int ret;

	if (uaddr != addr || !access_ok((void __user *)uaddr, 1))
		return -EFAULT;
	if (!log->page || log->page_addr != page_addr) {
		vhx_log_unpin(log);
		ret = pin_user_pages_fast(page_addr, 1, FOLL_WRITE, &log->page);
		if (ret != 1) {
			log->page = NULL;
			return -EFAULT;
		}
		log->page_addr = page_addr;
	}
	map = kmap_local_page(log->page);
	set_bit_le((uaddr - page_addr) * BITS_PER_BYTE + bit, map);
	kunmap_local(map);
	return 0;
}

int vhx_log_write(struct vhx_log *log, u64 gpa, u64 len)
{
	u64 first, n, pfn, last;
	int ret;

	if (!len || !log->base)
		return 0;
	if (!vhx_log_bytes(log->base, gpa, len, &first, &n))
		return -EFAULT;
	/* The guest write is visible before the bit that announces it. */
	smp_wmb();
	last = (gpa + len - 1) >> VHX_LOG_PAGE_SHIFT;
	for (pfn = gpa >> VHX_LOG_PAGE_SHIFT; pfn <= last; pfn++) {
		/* Below first + n: vhx_log_bytes() checked the whole range. */
		ret = vhx_log_set(log, log->base + pfn / BITS_PER_BYTE,
				  pfn % BITS_PER_BYTE);
		if (ret)
			return ret;
		log->marks++;
	}
	return 0;
}
