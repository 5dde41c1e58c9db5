/* SPDX-License-Identifier: GPL-2.0 */
/*
 * packed_ring.h - layout, positions and event rules of a packed virtqueue
 * (virtio 1.1 section 2.8), written once for the module and for userspace
 * (unit tests, the guest-driver library, fuzzers).
 *
 * One table of num 16-byte descriptors (addr, len, id, flags) is both the
 * driver's and the device's: the driver makes a descriptor available by
 * setting its AVAIL flag to the driver's wrap counter and its USED flag to
 * the inverse; the device returns a buffer by writing a descriptor, at its
 * own used position, whose AVAIL and USED flags both equal the device's
 * wrap counter. Each side's wrap counter starts at 1 and flips whenever
 * its position passes the end of the table.
 *
 * A position here is what QEMU's vring base carries per side: bits 0-14
 * the index into the table, bit 15 the wrap counter.
 */
#ifndef VMQ_PACKED_RING_H
#define VMQ_PACKED_RING_H

#include "vmq_types.h"

/* descriptor flags a packed ring adds to NEXT, WRITE and INDIRECT */
#define VMQ_PACKED_F_AVAIL	BIT(7)
#define VMQ_PACKED_F_USED	BIT(15)

/*
 * The event suppression areas (the driver area, VHOST_SET_VRING_ADDR's
 * avail address: when the device interrupts; the device area, its used
 * address: when the driver kicks): off_wrap (a position), then flags.
 */
#define VMQ_PACKED_EVENT_SIZE	4U
#define VMQ_PACKED_EVENT_OFF_WRAP	0U
#define VMQ_PACKED_EVENT_FLAGS	2U
#define VMQ_PACKED_EVENT_ENABLE	0U	/* notify at every change */
#define VMQ_PACKED_EVENT_DISABLE 1U	/* never */
#define VMQ_PACKED_EVENT_DESC	2U	/* when off_wrap is reached (EVENT_IDX) */

#define VMQ_PACKED_WRAP		BIT(15)
#define VMQ_PACKED_IDX_MASK	(VMQ_PACKED_WRAP - 1)

/* a packed ring has at most 2^15 entries: 15 bits of index */
#define VMQ_PACKED_MAX_NUM	VMQ_PACKED_WRAP

/* Where both sides start: index 0, wrap counter 1. */
#define VMQ_PACKED_START	VMQ_PACKED_WRAP

/* offsets in a descriptor: the chain walker reads id and flags */
#define VMQ_PACKED_DESC_LEN	8U
#define VMQ_PACKED_DESC_ID	12U
#define VMQ_PACKED_DESC_FLAGS	14U

static __always_inline u16 vmq_packed_idx(u16 pos)
{
	return pos & VMQ_PACKED_IDX_MASK;
}

static __always_inline bool vmq_packed_wrap(u16 pos)
{
	return pos & VMQ_PACKED_WRAP;
}

/*
 * A position is valid for a ring of @num entries when its index is in the
 * table (the VMM's base is checked so; a guest's event offset need not be).
 */
static __always_inline bool vmq_packed_pos_valid(u16 pos, u32 num)
{
	return vmq_packed_idx(pos) < num;
}

/*
 * A position as a count modulo 2 * num: index plus num in the laps whose
 * wrap counter is 0. Moving on by one slot adds one, so differences of
 * these give distances, whatever laps lie between.
 */
static __always_inline u32 vmq_packed_lin(u16 pos, u32 num)
{
	u32 i = vmq_packed_idx(pos) % num;

	return vmq_packed_wrap(pos) ? i : i + num;
}

/* Slots from @from on to @to (0 .. 2 * num - 1). */
static __always_inline u32 vmq_packed_dist(u16 from, u16 to, u32 num)
{
	return (vmq_packed_lin(to, num) + 2 * num -
		vmq_packed_lin(from, num)) % (2 * num);
}

/* @pos moved on by @n slots (n <= num); the wrap counter flips at the end. */
static __always_inline u16 vmq_packed_add(u16 pos, u32 n, u32 num)
{
	u32 i = vmq_packed_idx(pos) + n;
	u16 wrap = pos & VMQ_PACKED_WRAP;

	if (i >= num) {
		i -= num;
		wrap ^= VMQ_PACKED_WRAP;
	}
	return (u16)i | wrap;
}

/* @pos moved back by @n slots (n <= num). */
static __always_inline u16 vmq_packed_sub(u16 pos, u32 n, u32 num)
{
	u32 i = vmq_packed_idx(pos);
	u16 wrap = pos & VMQ_PACKED_WRAP;

	if (i < n) {
		i += num;
		wrap ^= VMQ_PACKED_WRAP;
	}
	return (u16)(i - n) | wrap;
}

/* What the device finds at its next available position. */
enum vmq_packed_state {
	VMQ_PACKED_EMPTY,	/* nothing made available there yet */
	VMQ_PACKED_AVAIL,	/* a chain starts here */
	VMQ_PACKED_INCONSISTENT, /* flagged used in a lap the device never wrote */
};

/*
 * The descriptor at the device's next available position, of flags
 * @flags, in the lap of wrap counter @wrap: available when AVAIL is the
 * lap's counter and USED is not. Left from the lap before (an available
 * descriptor the device took, or a used one it wrote): AVAIL is not the
 * lap's counter. AVAIL and USED both the lap's counter is what the device
 * writes, but it never writes at or past its available position in the
 * same lap: a guest that claims so is broken.
 */
static __always_inline enum vmq_packed_state vmq_packed_state(u16 flags, bool wrap)
{
	bool avail = flags & VMQ_PACKED_F_AVAIL, used = flags & VMQ_PACKED_F_USED;

	if (avail != wrap)
		return VMQ_PACKED_EMPTY;
	return used != wrap ? VMQ_PACKED_AVAIL : VMQ_PACKED_INCONSISTENT;
}

/* The flags of a used descriptor written in the lap of counter @wrap. */
static __always_inline u16 vmq_packed_used_flags(bool wrap)
{
	return wrap ? VMQ_PACKED_F_AVAIL | VMQ_PACKED_F_USED : 0;
}

/* The flags of a used descriptor written at position @pos. */
static __always_inline u16 vmq_packed_used_flags_at(u16 pos)
{
	return vmq_packed_used_flags(vmq_packed_wrap(pos));
}

/*
 * EVENT_IDX on a packed ring: notify when the other side's event position
 * @event lies in the slots published since the last notification,
 * [old, new). @event comes from the guest: any value is safe here.
 */
static __always_inline bool vmq_packed_need_event(u16 event, u16 new_pos,
						  u16 old, u32 num)
{
	u32 lin = vmq_packed_lin(event, num);
	u32 span = vmq_packed_dist(old, new_pos, num);
	u32 off = (lin + 2 * num - vmq_packed_lin(old, num)) % (2 * num);

	return off < span;
}

#endif /* VMQ_PACKED_RING_H */
