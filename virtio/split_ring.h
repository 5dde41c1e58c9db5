/* SPDX-License-Identifier: GPL-2.0 */
/*
 * split_ring.h - layout and index arithmetic of a split virtqueue (virtio
 * 1.x section 2.7), written once for the module and for userspace (unit
 * tests, the guest-driver library, fuzzers).
 */
#ifndef VMQ_SPLIT_RING_H
#define VMQ_SPLIT_RING_H

#include "vmq_types.h"

/* Largest ring vhost accepts: num is a power of two that fits in a u16. */
#define VMQ_RING_NUM_MAX	32768U

#define VMQ_DESC_SIZE		16U	/* addr, len, flags, next */
#define VMQ_USED_ELEM_SIZE	8U	/* id, len */

static inline bool vmq_ring_num_valid(u32 num)
{
	return num && num <= VMQ_RING_NUM_MAX && !(num & (num - 1));
}

static inline size_t vmq_desc_table_size(u32 num)
{
	return (size_t)VMQ_DESC_SIZE * num;
}

/* flags, idx, ring[num], and used_event when EVENT_IDX is negotiated */
static inline size_t vmq_avail_ring_size(u32 num, bool event_idx)
{
	return 4 + 2 * (size_t)num + (event_idx ? 2 : 0);
}

/* flags, idx, ring[num], and avail_event when EVENT_IDX is negotiated */
static inline size_t vmq_used_ring_size(u32 num, bool event_idx)
{
	return 4 + (size_t)VMQ_USED_ELEM_SIZE * num + (event_idx ? 2 : 0);
}

/*
 * The guest may only add buffers it has room for: a new avail idx more
 * than num entries ahead of @from is a broken or hostile guest. @from is
 * what the device consumed (the avail idx may not run past the ring), and
 * also what it returned in the used ring: a guest reuses a descriptor
 * only once it is used, so no more than num buffers are ever outstanding,
 * and the device never holds more used entries than the ring has room for.
 */
static inline bool vmq_avail_idx_valid(u16 avail_idx, u16 from, u32 num)
{
	return (u16)(avail_idx - from) <= num;
}

/*
 * EVENT_IDX: notify when the other side's event index lies in the window
 * of entries published since the last notification, [old, new_idx).
 */
static inline bool vmq_need_event(u16 event, u16 new_idx, u16 old)
{
	return (u16)(new_idx - event - 1) < (u16)(new_idx - old);
}

#endif /* VMQ_SPLIT_RING_H */
