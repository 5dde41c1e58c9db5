// SPDX-License-Identifier: GPL-2.0
/*
 * mem.c - the guest memory table and address translation.
 *
 * VHOST_SET_MEM_TABLE gives regions of guest-physical memory and where
 * each one lives in the owner's address space. Guest buffers are reached
 * by translating their guest-physical ranges into iovecs of the owner's
 * mm, which the worker has adopted; nothing is pinned or mapped here.
 */
#include <linux/moduleparam.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/uaccess.h>
#include <linux/vhost.h>

#include "log.h"
#include "mem.h"

unsigned short vmq_max_mem_regions = 64;
module_param_named(max_mem_regions, vmq_max_mem_regions, ushort, 0444);
MODULE_PARM_DESC(max_mem_regions,
		 "Maximum number of memory regions in the memory table (default 64)");

void vmq_mem_free(struct vmq_mem *mem)
{
	kvfree(mem);
}

static int vmq_region_cmp(const void *a, const void *b)
{
	const struct vmq_mem_region *ra = a, *rb = b;

	if (ra->gpa != rb->gpa)
		return ra->gpa < rb->gpa ? -1 : 1;
	return 0;
}

/*
 * Build a table from a struct vhost_memory in user memory. The errno of
 * each failure is vhost-net's: EFAULT for unreadable input and for a
 * region whose end wraps, EOPNOTSUPP for non-zero padding, E2BIG for too
 * many regions. A region of size 0 at gpa 0 maps nothing and is dropped.
 */
long vmq_mem_from_user(void __user *argp, struct vmq_mem **memp)
{
	struct vhost_memory __user *um = argp;
	struct vhost_memory_region ur;
	struct vhost_memory hdr;
	struct vmq_mem *mem;
	u32 i, n = 0;

	if (copy_from_user(&hdr, um, offsetof(struct vhost_memory, regions)))
		return -EFAULT;
	if (hdr.padding)
		return -EOPNOTSUPP;
	if (hdr.nregions > vmq_max_mem_regions)
		return -E2BIG;
	mem = kvzalloc(struct_size(mem, regions, hdr.nregions),
		       GFP_KERNEL_ACCOUNT);
	if (!mem)
		return -ENOMEM;
	for (i = 0; i < hdr.nregions; i++) {
		if (copy_from_user(&ur, &um->regions[i], sizeof(ur)))
			goto fault;
		if (!ur.memory_size && !ur.guest_phys_addr)
			continue;
		if (!ur.memory_size ||
		    ur.guest_phys_addr + ur.memory_size - 1 < ur.guest_phys_addr)
			goto fault;
		mem->regions[n].gpa = ur.guest_phys_addr;
		mem->regions[n].size = ur.memory_size;
		mem->regions[n].hva = ur.userspace_addr;
		n++;
	}
	mem->nregions = n;
	sort(mem->regions, n, sizeof(mem->regions[0]), vmq_region_cmp, NULL);
	*memp = mem;
	return 0;

fault:
	kvfree(mem);
	return -EFAULT;
}

static bool vmq_range_overflows(u64 addr, u64 size)
{
	if (addr > ULONG_MAX || size > ULONG_MAX)
		return true;
	return size && addr > ULONG_MAX - size + 1;
}

/*
 * Can the owner's mm hold every region, and (when logging) does the log
 * cover them? Checked when a ring becomes active and when the table or
 * the log changes while one is.
 */
bool vmq_mem_access_ok(const struct vmq_mem *mem, void __user *log_base,
		       bool log_all)
{
	const struct vmq_mem_region *r;
	u32 i;

	if (!mem)
		return false;
	for (i = 0; i < mem->nregions; i++) {
		r = &mem->regions[i];
		if (vmq_range_overflows(r->hva, r->size))
			return false;
		if (!access_ok((void __user *)(unsigned long)r->hva, r->size))
			return false;
		if (log_all && !vmq_log_access_ok(log_base, r->gpa, r->size))
			return false;
	}
	return true;
}

/* The region holding @gpa, or NULL. Overlapping regions are allowed. */
const struct vmq_mem_region *vmq_mem_find(const struct vmq_mem *mem,
					  u64 gpa)
{
	const struct vmq_mem_region *r;
	u32 lo = 0, hi = mem->nregions;

	/* the last region starting at or below gpa */
	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;

		if (mem->regions[mid].gpa <= gpa)
			lo = mid + 1;
		else
			hi = mid;
	}
	while (lo--) {
		r = &mem->regions[lo];
		if (gpa - r->gpa < r->size)
			return r;
	}
	return NULL;
}

/*
 * The region holding the owner's address @hva, or NULL: the way back from
 * a device IOTLB translation to the guest-physical page the dirty log
 * marks. A linear search: it serves only logging under an IOTLB.
 */
const struct vmq_mem_region *vmq_mem_find_hva(const struct vmq_mem *mem,
					      u64 hva)
{
	const struct vmq_mem_region *r;
	u32 i;

	for (i = 0; mem && i < mem->nregions; i++) {
		r = &mem->regions[i];
		if (hva - r->hva < r->size)
			return r;
	}
	return NULL;
}

/*
 * Translate [gpa, gpa + len) into at most @iov_max iovecs. Returns the
 * number used, -EFAULT if a byte lies outside guest memory, -ENOBUFS if
 * the range needs more iovecs.
 */
int vmq_mem_translate(const struct vmq_mem *mem, u64 gpa, u64 len,
		      struct iovec *iov, int iov_max)
{
	const struct vmq_mem_region *r;
	int n = 0;
	u64 chunk;

	while (len) {
		if (n == iov_max)
			return -ENOBUFS;
		r = vmq_mem_find(mem, gpa);
		if (!r)
			return -EFAULT;
		chunk = min(len, r->size - (gpa - r->gpa));
		iov[n].iov_base = (void __user *)(unsigned long)
				  (r->hva + (gpa - r->gpa));
		iov[n].iov_len = chunk;
		n++;
		gpa += chunk;
		len -= chunk;
	}
	return n;
}
