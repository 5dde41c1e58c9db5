// SPDX-License-Identifier: GPL-2.0
/*
 * chain_fuzz.c - libFuzzer target over the guest-facing parsing code the
 * module shares with userspace: the descriptor-chain walkers of split and
 * packed rings (virtio/desc_chain.h), the control-command rules
 * (virtio/net_ctrl.h), the split-ring index checks (virtio/split_ring.h)
 * and the packed-ring position arithmetic (virtio/packed_ring.h).
 *
 * The input is a guest: an 8-byte header (ring size, head, device
 * parameters; flags bit 1: a packed ring, whose descriptors are laid out
 * addr, len, id, flags), then the ring's descriptor table, then guest
 * memory, which
 * indirect tables and buffers must lie in. Besides the sanitizers' own
 * checks, every walk must end, hand over only buffers inside guest memory
 * in readable-then-writable order, count exactly what it handed over, and
 * the control rules must answer OK only with a pair count in range.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "desc.h"
#include "net_ctrl.h"
#include "packed_ring.h"
#include "split_ring.h"

#define MEM_GPA		0x10000ULL	/* guest memory: [MEM_GPA, +mem_len) */
#define MAX_SEGS	1024		/* UIO_MAXIOV, as the module */
#define MAX_STEPS	(4 * 1024 * 1024)

struct vmq_chain_env {
	const struct vmq_desc *table;	/* the ring's, num entries */
	const uint8_t *mem;
	size_t mem_len;
	u32 steps;			/* descriptors read */
	u32 ring_reads;			/* ring table entries read */
	u32 ind_reads, ind_entries;	/* of the current indirect table */
	u32 nseg;
	bool seen_write;
	u64 out_len, in_len;
	u8 ctrl[VMQ_CTRL_READ_MAX];	/* first readable bytes */
	u32 have;
	bool packed;
};

#define check(cond) do { if (!(cond)) abort(); } while (0)

/* a packed descriptor as copied raw: its id lies where flags would */
static void vmq_packed_from_raw(struct vmq_desc *desc)
{
	u16 id = desc->flags;

	desc->flags = desc->next;
	desc->id = id;
}

static bool in_mem(const struct vmq_chain_env *env, u64 addr, u64 len)
{
	return addr >= MEM_GPA && addr - MEM_GPA <= env->mem_len &&
	       len <= env->mem_len - (addr - MEM_GPA);
}

static int vmq_env_read_desc(struct vmq_chain_env *env, u32 i,
			     struct vmq_desc *desc)
{
	check(++env->steps <= MAX_STEPS);
	/* a walk reads no ring entry more often than the ring has entries */
	env->ring_reads++;
	*desc = env->table[i];
	if (env->packed)
		vmq_packed_from_raw(desc);
	env->ind_reads = 0;
	env->ind_entries = desc->flags & VMQ_DESC_F_INDIRECT ?
			   desc->len / sizeof(*desc) : 0;
	return VMQ_CHAIN_OK;
}

static int vmq_env_read_indirect(struct vmq_chain_env *env,
				 const struct vmq_desc *ind, u32 i,
				 struct vmq_desc *desc)
{
	u64 table = ind->addr;
	u64 at = table + (u64)i * sizeof(*desc);

	check(++env->steps <= MAX_STEPS);
	/* and no more entries of an indirect table than it has */
	check(i < env->ind_entries);
	check(++env->ind_reads <= env->ind_entries);
	if (at < table || !in_mem(env, at, sizeof(*desc)))
		return VMQ_CHAIN_BAD_ADDR;
	memcpy(desc, env->mem + (at - MEM_GPA), sizeof(*desc));
	if (env->packed)
		vmq_packed_from_raw(desc);
	return VMQ_CHAIN_OK;
}

static int vmq_env_add_seg(struct vmq_chain_env *env, u64 addr, u32 len,
			   bool write)
{
	u32 k;

	if (!in_mem(env, addr, len))
		return VMQ_CHAIN_BAD_ADDR;
	if (env->nseg == MAX_SEGS)
		return VMQ_CHAIN_TOO_MANY_SEGS;
	env->nseg++;
	/* the walker refuses readable after writable before it gets here */
	check(write || !env->seen_write);
	env->seen_write |= write;
	if (write) {
		env->in_len += len;
		return VMQ_CHAIN_OK;
	}
	env->out_len += len;
	for (k = 0; k < len && env->have < VMQ_CTRL_READ_MAX; k++)
		env->ctrl[env->have++] = env->mem[addr - MEM_GPA + k];
	return VMQ_CHAIN_OK;
}

#include "desc_chain.h"

struct header {
	u8 num_log2;	/* ring size 2^(num_log2 % 16), or 0 for invalid */
	u8 flags;	/* bit 0: MQ negotiated; bit 1: a packed ring */
	u16 head;
	u16 max_pairs;
	u16 avail_idx;	/* split-ring index checks */
};

static void check_ring_math(const struct header *h, u32 num)
{
	u16 last = h->head, idx = h->avail_idx;

	/* avail idx: valid iff at most num entries ahead */
	check(vmq_avail_idx_valid(idx, last, num) ==
	      ((u32)(u16)(idx - last) <= num));
	/* event idx: notify iff event lies in [old, new) modulo 2^16 */
	{
		u16 event = h->max_pairs, old = last, new_idx = idx;
		u32 span = (u16)(new_idx - old), off = (u16)(event - old);

		check(vmq_need_event(event, new_idx, old) == (off < span));
	}
	if (vmq_ring_num_valid(num)) {
		check(vmq_desc_table_size(num) == 16ULL * num);
		check(vmq_avail_ring_size(num, true) == 6 + 2ULL * num);
	}
}

/* positions: adding and taking back, distances, the event window */
static void check_packed_math(const struct header *h, u32 num)
{
	u16 a = h->head, b = h->avail_idx, ev = h->max_pairs;
	u32 n = (u32)h->avail_idx % (num + 1);

	if (!vmq_packed_pos_valid(a, num))
		return;
	check(vmq_packed_pos_valid(vmq_packed_add(a, n, num), num));
	check(vmq_packed_sub(vmq_packed_add(a, n, num), n, num) == a);
	check(vmq_packed_dist(a, vmq_packed_add(a, n, num), num) == n);
	if (vmq_packed_pos_valid(b, num)) {
		u32 span = vmq_packed_dist(a, b, num);

		check(span < 2 * num);
		/* the event at the old position is in any non-empty window */
		check(vmq_packed_need_event(a, b, a, num) == (span > 0));
		check(!vmq_packed_need_event(b, b, a, num));
	}
	/* any event the guest writes is only compared */
	(void)vmq_packed_need_event(ev, b, a, num);
	check(vmq_packed_state(ev, true) != VMQ_PACKED_AVAIL ||
	      vmq_packed_state(ev, false) != VMQ_PACKED_AVAIL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vmq_chain_env env = { 0 };
	struct vmq_desc *table;
	struct vmq_chain chain;
	struct header h;
	u32 num, max_pairs, pairs, k;
	size_t tbytes;
	int err;
	u8 ack;

	if (size < sizeof(h))
		return 0;
	memcpy(&h, data, sizeof(h));
	data += sizeof(h);
	size -= sizeof(h);
	num = 1U << (h.num_log2 % 16);
	check_ring_math(&h, num);

	/* the table: as much of it as the input holds, the rest zero */
	table = calloc(num, sizeof(*table));
	if (!table)
		return 0;
	tbytes = size < num * sizeof(*table) ? size : num * sizeof(*table);
	memcpy(table, data, tbytes);
	env.table = table;
	env.mem = data + tbytes;
	env.mem_len = size - tbytes;

	env.packed = h.flags & 2;
	if (env.packed) {
		u16 id = 0xffff;
		u32 ndescs = 0;

		err = vmq_packed_chain_walk(&env, h.head % (2 * num), num,
					    &chain, &id, &ndescs);
		check_packed_math(&h, num);
		/* the slots it takes are the ones it read, the id in range */
		if (err == VMQ_CHAIN_OK)
			check(ndescs == env.ring_reads && id < num);
		else
			check(id == 0xffff && ndescs == 0);
	} else {
		err = vmq_chain_walk(&env, h.head % (2 * num), num, &chain);
	}
	check(err >= VMQ_CHAIN_OK && err < VMQ_CHAIN_NR_ERRORS);
	if (h.head % (2 * num) >= num)
		check(err == VMQ_CHAIN_BAD_HEAD);
	/* a walk reads at most num ring entries */
	check(env.ring_reads <= num);
	if (err == VMQ_CHAIN_OK) {
		check(chain.out_descs + chain.in_descs == env.nseg);
		check(chain.out_len == env.out_len);
		check(chain.in_len == env.in_len);
		check(env.have == (chain.out_len < VMQ_CTRL_READ_MAX ?
				   chain.out_len : VMQ_CTRL_READ_MAX));

		/* the same chain as a control command */
		max_pairs = h.max_pairs % 64 + 1;
		if (vmq_ctrl_check(chain.out_len, chain.in_len) == VMQ_CHAIN_OK) {
			ack = vmq_ctrl_decide(env.ctrl, env.have, h.flags & 1,
					      max_pairs, &pairs);
			check(ack == VMQ_CTRL_OK || ack == VMQ_CTRL_ERR);
			if (ack == VMQ_CTRL_OK) {
				check(h.flags & 1);
				check(pairs >= 1 && pairs <= max_pairs);
				check(env.ctrl[0] == VMQ_CTRL_CLASS_MQ);
				for (k = 0; k < max_pairs; k++)
					check(vmq_ctrl_pair_target(k, pairs) < pairs);
			} else {
				check(pairs == 0);
			}
		} else {
			check(chain.out_len < 2 || chain.in_len < 1);
		}
	}
	free(table);
	return 0;
}
