/* SPDX-License-Identifier: GPL-2.0 */
/*
 * desc_chain.h - walking a descriptor chain of a split ring or of a packed
 * one, written once for the module and for userspace (unit tests, fuzzers).
 *
 * Every field comes from the guest, so every one is checked: indices
 * against the table size, chain length against the table size (a chain
 * longer than its table must loop), indirect tables for length, nesting
 * and placement, and the rule that device-readable descriptors all come
 * before device-writable ones.
 *
 * The includer provides memory access by defining, as static functions:
 *
 *   int vmq_env_read_desc(struct vmq_chain_env *env, u32 i,
 *                         struct vmq_desc *desc);
 *	entry i of the ring's descriptor table (i < num is checked here);
 *   int vmq_env_read_indirect(struct vmq_chain_env *env,
 *                             const struct vmq_desc *ind, u32 i,
 *                             struct vmq_desc *desc);
 *	entry i of the indirect table that @ind describes (its address and
 *	length, checked here: i < ind->len / 16, which the includer may use
 *	to translate the whole table once);
 *   int vmq_env_add_seg(struct vmq_chain_env *env, u64 addr, u32 len,
 *                       bool write);
 *	one buffer of the chain, in order.
 *
 * Each returns 0 or a VMQ_CHAIN_* error, which ends the walk.
 */
#ifndef VMQ_DESC_CHAIN_H
#define VMQ_DESC_CHAIN_H

#include "desc.h"

struct vmq_chain_env;
static int vmq_env_read_desc(struct vmq_chain_env *env, u32 i,
			     struct vmq_desc *desc);
static int vmq_env_read_indirect(struct vmq_chain_env *env,
				 const struct vmq_desc *ind, u32 i,
				 struct vmq_desc *desc);
static int vmq_env_add_seg(struct vmq_chain_env *env, u64 addr, u32 len,
			   bool write);

static inline int vmq_chain_add(struct vmq_chain_env *env,
				struct vmq_chain *chain,
				const struct vmq_desc *desc)
{
	bool write = desc->flags & VMQ_DESC_F_WRITE;

	if (write) {
		chain->in_descs++;
		chain->in_len += desc->len;
	} else {
		if (chain->in_descs)
			return VMQ_CHAIN_OUT_AFTER_IN;
		chain->out_descs++;
		chain->out_len += desc->len;
	}
	return vmq_env_add_seg(env, desc->addr, desc->len, write);
}

static inline int vmq_chain_walk_indirect(struct vmq_chain_env *env,
					  struct vmq_chain *chain,
					  const struct vmq_desc *ind);

/*
 * Follow a chain from entry @i of a table of @count descriptors: the
 * ring's own table (@ind NULL) or the indirect table @ind points to, in
 * which a further indirect descriptor is refused.
 */
static inline int vmq_chain_walk_table(struct vmq_chain_env *env,
				       struct vmq_chain *chain,
				       const struct vmq_desc *ind, u32 i,
				       u32 count)
{
	struct vmq_desc desc;
	u32 seen = 0;
	int err;

	for (;;) {
		/* more descriptors than the table holds: it loops */
		if (++seen > count)
			return VMQ_CHAIN_LOOP;
		err = ind ? vmq_env_read_indirect(env, ind, i, &desc) :
			    vmq_env_read_desc(env, i, &desc);
		if (err)
			return err;
		if (ind && (desc.flags & VMQ_DESC_F_INDIRECT))
			return VMQ_CHAIN_NESTED_INDIRECT;
		if (desc.flags & VMQ_DESC_F_INDIRECT)
			err = vmq_chain_walk_indirect(env, chain, &desc);
		else
			err = vmq_chain_add(env, chain, &desc);
		if (err)
			return err;
		if (!(desc.flags & VMQ_DESC_F_NEXT))
			return VMQ_CHAIN_OK;
		i = desc.next;
		if (i >= count)
			return VMQ_CHAIN_BAD_NEXT;
	}
}

/* Walk the indirect table @ind points to. */
static inline int vmq_chain_walk_indirect(struct vmq_chain_env *env,
					  struct vmq_chain *chain,
					  const struct vmq_desc *ind)
{
	if (!ind->len || ind->len % sizeof(struct vmq_desc) ||
	    ind->len / sizeof(struct vmq_desc) > VMQ_INDIRECT_MAX)
		return VMQ_CHAIN_BAD_INDIRECT;
	return vmq_chain_walk_table(env, chain, ind, 0,
				    ind->len / sizeof(struct vmq_desc));
}

static inline void vmq_chain_clear(struct vmq_chain *chain)
{
	chain->out_descs = 0;
	chain->in_descs = 0;
	chain->out_len = 0;
	chain->in_len = 0;
}

/*
 * Walk the chain starting at @head of a ring of @num entries, handing each
 * buffer to vmq_env_add_seg(). On error the walk stops where it was.
 */
static inline int vmq_chain_walk(struct vmq_chain_env *env, u32 head,
				 u32 num, struct vmq_chain *chain)
{
	vmq_chain_clear(chain);
	if (head >= num)
		return VMQ_CHAIN_BAD_HEAD;
	return vmq_chain_walk_table(env, chain, NULL, head, num);
}

/*
 * A packed ring's indirect table is used whole and in order: len / 16
 * entries, of which only WRITE counts (NEXT is meaningless there).
 */
static inline int vmq_packed_walk_indirect(struct vmq_chain_env *env,
					   struct vmq_chain *chain,
					   const struct vmq_desc *ind)
{
	struct vmq_desc desc;
	u32 i, count;
	int err;

	if (!ind->len || ind->len % sizeof(struct vmq_desc) ||
	    ind->len / sizeof(struct vmq_desc) > VMQ_INDIRECT_MAX)
		return VMQ_CHAIN_BAD_INDIRECT;
	count = ind->len / sizeof(struct vmq_desc);
	for (i = 0; i < count; i++) {
		err = vmq_env_read_indirect(env, ind, i, &desc);
		if (err)
			return err;
		if (desc.flags & VMQ_DESC_F_INDIRECT)
			return VMQ_CHAIN_NESTED_INDIRECT;
		desc.flags &= VMQ_DESC_F_WRITE;
		err = vmq_chain_add(env, chain, &desc);
		if (err)
			return err;
	}
	return VMQ_CHAIN_OK;
}

/*
 * Walk the packed-ring chain that starts at slot @pos of a ring of @num
 * entries (vmq_env_read_desc() reads slot i, its id in desc->id): slot
 * after slot, on past the ring's end, while NEXT is set, num slots at
 * most. An indirect descriptor stands alone (with NEXT it is refused, as
 * the spec forbids). The buffer id is the last descriptor's, and must be
 * below num; @ndescs is the number of slots the chain takes.
 */
static inline int vmq_packed_chain_walk(struct vmq_chain_env *env, u32 pos,
					u32 num, struct vmq_chain *chain,
					u16 *id, u32 *ndescs)
{
	struct vmq_desc desc;
	u32 n = 0;
	int err;

	vmq_chain_clear(chain);
	if (pos >= num)
		return VMQ_CHAIN_BAD_HEAD;
	for (;;) {
		if (++n > num)
			return VMQ_CHAIN_LOOP;
		err = vmq_env_read_desc(env, pos, &desc);
		if (err)
			return err;
		if (desc.flags & VMQ_DESC_F_INDIRECT) {
			if (desc.flags & VMQ_DESC_F_NEXT)
				return VMQ_CHAIN_BAD_INDIRECT;
			err = vmq_packed_walk_indirect(env, chain, &desc);
		} else {
			err = vmq_chain_add(env, chain, &desc);
		}
		if (err)
			return err;
		if (!(desc.flags & VMQ_DESC_F_NEXT))
			break;
		pos = pos + 1 == num ? 0 : pos + 1;
	}
	if (desc.id >= num)
		return VMQ_CHAIN_BAD_ID;
	*id = desc.id;
	*ndescs = n;
	return VMQ_CHAIN_OK;
}

#endif /* VMQ_DESC_CHAIN_H */
