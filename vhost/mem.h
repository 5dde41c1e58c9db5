/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mem.h - the guest memory table (guest-physical to owner-virtual) and
 * the translation of guest buffers into iovecs of the owner's mm.
 */
#ifndef VMQ_MEM_H
#define VMQ_MEM_H

#include <linux/types.h>
#include <linux/uio.h>

struct vmq_mem_region {
	u64 gpa;
	u64 size;	/* never 0 */
	u64 hva;
};

/*
 * An immutable table, sorted by gpa. SET_MEM_TABLE builds a new one and
 * swaps it into every virtqueue under that queue's mutex.
 */
struct vmq_mem {
	u32 nregions;
	struct vmq_mem_region regions[];
};

extern unsigned short vmq_max_mem_regions;

long vmq_mem_from_user(void __user *argp, struct vmq_mem **memp);
bool vmq_mem_access_ok(const struct vmq_mem *mem, void __user *log_base,
		       bool log_all);
void vmq_mem_free(struct vmq_mem *mem);

const struct vmq_mem_region *vmq_mem_find(const struct vmq_mem *mem,
					  u64 gpa);
const struct vmq_mem_region *vmq_mem_find_hva(const struct vmq_mem *mem,
					      u64 hva);
int vmq_mem_translate(const struct vmq_mem *mem, u64 gpa, u64 len,
		      struct iovec *iov, int iov_max);

#endif /* VMQ_MEM_H */
