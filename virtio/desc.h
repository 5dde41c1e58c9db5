/* SPDX-License-Identifier: GPL-2.0 */
/*
 * desc.h - descriptors and the ways a chain of them can be wrong, shared
 * by the module and userspace.
 */
#ifndef VMQ_DESC_H
#define VMQ_DESC_H

#include "vmq_types.h"

#define VMQ_DESC_F_NEXT		1
#define VMQ_DESC_F_WRITE	2
#define VMQ_DESC_F_INDIRECT	4

/* Largest indirect table: the spec's queue size limit. */
#define VMQ_INDIRECT_MAX	32768U

/*
 * A descriptor in CPU byte order: of a split ring (next), or of a packed
 * ring (its buffer id; the flags then carry AVAIL and USED too).
 */
struct vmq_desc {
	u64 addr;
	u32 len;
	u16 flags;
	union {
		u16 next;
		u16 id;
	};
};

/* Why a chain was refused; also the index of its error counter. */
enum vmq_chain_error {
	VMQ_CHAIN_OK = 0,
	VMQ_CHAIN_EFAULT,		/* a table could not be read */
	VMQ_CHAIN_BAD_HEAD,		/* head index >= ring size */
	VMQ_CHAIN_BAD_NEXT,		/* next index >= table size */
	VMQ_CHAIN_LOOP,			/* more descriptors than the table */
	VMQ_CHAIN_NESTED_INDIRECT,	/* indirect inside an indirect table */
	VMQ_CHAIN_BAD_INDIRECT,		/* indirect length 0, %16, too large */
	VMQ_CHAIN_OUT_AFTER_IN,		/* readable after a writable buffer */
	VMQ_CHAIN_TOO_MANY_SEGS,	/* more buffers (even empty) than iovecs */
	VMQ_CHAIN_BAD_ADDR,		/* buffer outside guest memory */
	VMQ_CHAIN_WRONG_DIRECTION,	/* tx chain writable, rx readable */
	VMQ_CHAIN_TOO_SHORT,		/* tx chain without a frame */
	VMQ_CHAIN_CTRL_NO_HEADER,	/* ctrl chain without class+command */
	VMQ_CHAIN_CTRL_NO_ACK,		/* ctrl chain without a writable ack */
	VMQ_CHAIN_AVAIL_IDX,		/* more than num buffers outstanding */
	VMQ_CHAIN_MEM_FAULT,		/* ring or buffer memory inaccessible */
	VMQ_CHAIN_IOTLB_PERM,		/* IOTLB mapping without the access */
	VMQ_CHAIN_BAD_ID,		/* packed: buffer id >= ring size */
	VMQ_CHAIN_ID_IN_USE,		/* packed: id of a buffer not returned */
	VMQ_CHAIN_PACKED_FLAGS,		/* packed: AVAIL and USED contradict */
	VMQ_CHAIN_NR_ERRORS
};

/*
 * Not an error: a translation is missing from the device IOTLB. The chain
 * is left where it is and walked again once the VMM has mapped it.
 */
#define VMQ_CHAIN_RETRY		0x40

/* What a walk found: buffer counts and byte totals per direction. */
struct vmq_chain {
	u32 out_descs, in_descs;
	u64 out_len, in_len;
};

#endif /* VMQ_DESC_H */
