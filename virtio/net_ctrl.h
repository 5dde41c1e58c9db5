/* SPDX-License-Identifier: GPL-2.0 */
/*
 * net_ctrl.h - virtio-net control virtqueue commands (virtio 1.x, 5.1.6.5):
 * what a command chain must hold and what the device answers. Pure code
 * shared by the module and userspace (unit tests, the fuzzer).
 *
 * A command is one chain: device-readable { u8 class; u8 command; data },
 * then device-writable { u8 ack }. A chain without the two header bytes or
 * without a writable byte is malformed (the queue stops, as QEMU's device
 * does); a well-formed chain with a command we do not know, or with bad
 * data, is answered VMQ_CTRL_ERR and changes nothing.
 */
#ifndef VMQ_NET_CTRL_H
#define VMQ_NET_CTRL_H

#include "desc.h"
#include "vmq_types.h"

#define VMQ_CTRL_OK			0
#define VMQ_CTRL_ERR			1

#define VMQ_CTRL_CLASS_MQ		4
#define VMQ_CTRL_MQ_VQ_PAIRS_SET	0

/* readable bytes a command is decided on: class, command, le16 pairs */
#define VMQ_CTRL_READ_MAX		4

/* Is the chain shaped like a command at all? */
static inline enum vmq_chain_error vmq_ctrl_check(u64 out_len, u64 in_len)
{
	if (out_len < 2)
		return VMQ_CHAIN_CTRL_NO_HEADER;
	if (in_len < 1)
		return VMQ_CHAIN_CTRL_NO_ACK;
	return VMQ_CHAIN_OK;
}

/*
 * Decide a well-formed command from the first @have bytes of its readable
 * part (@have = min(readable length, VMQ_CTRL_READ_MAX)). @mq: the guest
 * negotiated VIRTIO_NET_F_MQ; @max_pairs: the pairs the device has.
 * Returns the ack; *pairs is the count to switch to (VQ_PAIRS_SET
 * accepted) or 0 (nothing to change).
 */
static inline u8 vmq_ctrl_decide(const u8 *buf, u32 have, bool mq,
				 u32 max_pairs, u32 *pairs)
{
	u32 n;

	*pairs = 0;
	if (have < 2 || !mq || buf[0] != VMQ_CTRL_CLASS_MQ ||
	    buf[1] != VMQ_CTRL_MQ_VQ_PAIRS_SET)
		return VMQ_CTRL_ERR;
	/* data shorter than the le16 it must hold: as QEMU, ERR */
	if (have < 4)
		return VMQ_CTRL_ERR;
	n = buf[2] | (u32)buf[3] << 8;
	if (n < 1 || n > max_pairs)
		return VMQ_CTRL_ERR;
	*pairs = n;
	return VMQ_CTRL_OK;
}

/* Which pair serves pair @k while @active pairs are (queue folding). */
static inline u32 vmq_ctrl_pair_target(u32 k, u32 active)
{
	return k < active ? k : k % active;
}

#endif /* VMQ_NET_CTRL_H */
