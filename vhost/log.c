// SPDX-License-Identifier: GPL-2.0
/*
 * log.c - marking guest pages dirty in the VMM's log bitmap.
 *
 * The VMM clears bits while we set them, so bits are set with atomic
 * bit operations on the pinned bitmap page, never by read-modify-write
 * through uaccess.
 */
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/uaccess.h>

#include "log.h"

/* Does the bitmap at @log_base cover the guest range [gpa, gpa + size)? */
bool vmq_log_access_ok(void __user *log_base, u64 gpa, u64 size)
{
	u64 first = gpa / VMQ_LOG_PAGE_SIZE / 8;
	unsigned long base = (unsigned long)log_base;

	if (first > ULONG_MAX - base)
		return false;
	return access_ok((void __user *)(base + first),
			 (size + VMQ_LOG_PAGE_SIZE * 8 - 1) /
			 VMQ_LOG_PAGE_SIZE / 8);
}

/* Set bits [first, last] of the bitmap, all within one bitmap page. */
static int vmq_log_set_bits(unsigned long page_addr, u64 first, u64 last)
{
	struct page *page;
	unsigned long *map;
	int r;

	r = pin_user_pages_fast(page_addr, 1, FOLL_WRITE, &page);
	if (r < 0)
		return r;
	if (r != 1)
		return -EFAULT;
	map = kmap_local_page(page);
	for (; first <= last; first++)
		set_bit(first, map);
	kunmap_local(map);
	unpin_user_pages_dirty_lock(&page, 1, true);
	return 0;
}

/* Mark every guest page of [gpa, gpa + len) dirty. */
int vmq_log_write(void __user *log_base, u64 gpa, u64 len)
{
	unsigned long base = (unsigned long)log_base;
	unsigned long byte, page;
	u64 bit, last, nr, count;
	int r;

	if (!len)
		return 0;
	bit = gpa / VMQ_LOG_PAGE_SIZE;
	last = (gpa + len - 1) / VMQ_LOG_PAGE_SIZE;
	while (bit <= last) {
		if (bit / 8 > ULONG_MAX - base)
			return -EFAULT;
		byte = base + bit / 8;
		page = byte & PAGE_MASK;
		/* bit's number within its bitmap page, and how many follow */
		nr = (u64)(byte - page) * 8 + bit % 8;
		count = min(last - bit + 1, (u64)PAGE_SIZE * 8 - nr);
		r = vmq_log_set_bits(page, nr, nr + count - 1);
		if (r)
			return r;
		bit += count;
	}
	return 0;
}
