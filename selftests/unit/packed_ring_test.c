// SPDX-License-Identifier: GPL-2.0
/*
 * packed_ring_test.c - the shared packed-ring code of virtio/, run on the
 * host: positions and their wrap counters, what a descriptor's AVAIL and
 * USED flags say, the EVENT_IDX window, and the packed chain walker over
 * a ring in plain memory, good chains and hostile ones.
 */
#include <string.h>

#include "desc.h"
#include "packed_ring.h"

#define NUM		8
#define MAX_SEGS	8

/* guest memory: the ring, and one indirect table at 0x1000 */
struct vmq_chain_env {
	struct vmq_desc ring[NUM];
	struct vmq_desc ind[16];
	struct {
		u64 addr;
		u32 len;
		bool write;
	} seg[MAX_SEGS];
	int nseg;
	int reads;		/* ring slots read */
};

static int vmq_env_read_desc(struct vmq_chain_env *env, u32 i,
			     struct vmq_desc *desc)
{
	env->reads++;
	*desc = env->ring[i];
	return 0;
}

static int vmq_env_read_indirect(struct vmq_chain_env *env,
				 const struct vmq_desc *ind, u32 i,
				 struct vmq_desc *desc)
{
	if (ind->addr != 0x1000 || i >= 16)
		return VMQ_CHAIN_BAD_ADDR;
	*desc = env->ind[i];
	return 0;
}

static int vmq_env_add_seg(struct vmq_chain_env *env, u64 addr, u32 len,
			   bool write)
{
	if (env->nseg == MAX_SEGS)
		return VMQ_CHAIN_TOO_MANY_SEGS;
	env->seg[env->nseg].addr = addr;
	env->seg[env->nseg].len = len;
	env->seg[env->nseg].write = write;
	env->nseg++;
	return 0;
}

#include "desc_chain.h"
#include "kselftest_harness.h"

static void d(struct vmq_desc *t, u16 i, u64 addr, u32 len, u16 flags,
	      u16 id)
{
	t[i].addr = addr;
	t[i].len = len;
	t[i].flags = flags;
	t[i].id = id;
}

TEST(positions_wrap_at_the_ring_end_and_flip_the_counter)
{
	u16 p = VMQ_PACKED_START;

	EXPECT_EQ(0, vmq_packed_idx(p));
	EXPECT_TRUE(vmq_packed_wrap(p));
	p = vmq_packed_add(p, NUM - 1, NUM);
	EXPECT_EQ(NUM - 1, vmq_packed_idx(p));
	EXPECT_TRUE(vmq_packed_wrap(p));
	p = vmq_packed_add(p, 3, NUM);
	EXPECT_EQ(2, vmq_packed_idx(p));
	EXPECT_FALSE(vmq_packed_wrap(p));
	/* two laps: the counter is back */
	p = vmq_packed_add(p, NUM, NUM);
	EXPECT_EQ(2 | VMQ_PACKED_WRAP, p);
	/* back over the end flips it again */
	EXPECT_EQ(NUM - 1, vmq_packed_sub(VMQ_PACKED_START, 1, NUM));
	EXPECT_EQ(VMQ_PACKED_START,
		  vmq_packed_sub(vmq_packed_add(VMQ_PACKED_START, 5, NUM), 5,
				 NUM));
}

TEST(add_and_sub_undo_each_other_from_every_position)
{
	u32 i, n;
	u16 p;

	for (i = 0; i < 2 * NUM; i++) {
		p = vmq_packed_add(VMQ_PACKED_START, i % NUM, NUM);
		if (i >= NUM)
			p = vmq_packed_add(p, NUM, NUM);
		for (n = 0; n <= NUM; n++) {
			EXPECT_EQ(p, vmq_packed_sub(vmq_packed_add(p, n, NUM),
						    n, NUM));
			EXPECT_EQ(n, vmq_packed_dist(p, vmq_packed_add(p, n, NUM),
						     NUM));
		}
	}
}

TEST(distance_counts_slots_across_laps)
{
	u16 a = vmq_packed_add(VMQ_PACKED_START, 6, NUM);	/* 6, wrap 1 */
	u16 b = vmq_packed_add(a, 4, NUM);			/* 2, wrap 0 */

	EXPECT_EQ(2 | 0, b);
	EXPECT_EQ(4, vmq_packed_dist(a, b, NUM));
	EXPECT_EQ(2 * NUM - 4, vmq_packed_dist(b, a, NUM));
	EXPECT_EQ(0, vmq_packed_dist(a, a, NUM));
	/* num apart: same index, the other counter */
	EXPECT_EQ(NUM, vmq_packed_dist(VMQ_PACKED_START, 0, NUM));
	EXPECT_TRUE(vmq_packed_pos_valid(NUM - 1, NUM));
	EXPECT_FALSE(vmq_packed_pos_valid(NUM | VMQ_PACKED_WRAP, NUM));
}

TEST(avail_and_used_flags_say_available_empty_or_inconsistent)
{
	const u16 A = VMQ_PACKED_F_AVAIL, U = VMQ_PACKED_F_USED;

	/* the lap of counter 1 */
	EXPECT_EQ(VMQ_PACKED_AVAIL, vmq_packed_state(A, true));
	EXPECT_EQ(VMQ_PACKED_EMPTY, vmq_packed_state(0, true));
	EXPECT_EQ(VMQ_PACKED_EMPTY, vmq_packed_state(U, true));
	EXPECT_EQ(VMQ_PACKED_INCONSISTENT, vmq_packed_state(A | U, true));
	/* the lap of counter 0 */
	EXPECT_EQ(VMQ_PACKED_AVAIL, vmq_packed_state(U, false));
	EXPECT_EQ(VMQ_PACKED_EMPTY, vmq_packed_state(A | U, false));
	EXPECT_EQ(VMQ_PACKED_EMPTY, vmq_packed_state(A, false));
	EXPECT_EQ(VMQ_PACKED_INCONSISTENT, vmq_packed_state(0, false));
	/* other flags do not matter */
	EXPECT_EQ(VMQ_PACKED_AVAIL,
		  vmq_packed_state(A | VMQ_DESC_F_NEXT | VMQ_DESC_F_WRITE,
				   true));
	/* what the device writes reads as empty in the next lap */
	EXPECT_EQ(VMQ_PACKED_EMPTY,
		  vmq_packed_state(vmq_packed_used_flags(true), false));
	EXPECT_EQ(VMQ_PACKED_EMPTY,
		  vmq_packed_state(vmq_packed_used_flags(false), true));
}

TEST(event_idx_notifies_when_the_event_is_in_the_new_slots)
{
	u16 old = vmq_packed_add(VMQ_PACKED_START, 5, NUM);	/* 5, wrap 1 */
	u16 new = vmq_packed_add(old, 5, NUM);			/* 2, wrap 0 */

	EXPECT_TRUE(vmq_packed_need_event(old, new, old, NUM));
	EXPECT_TRUE(vmq_packed_need_event(7 | VMQ_PACKED_WRAP, new, old, NUM));
	EXPECT_TRUE(vmq_packed_need_event(1, new, old, NUM));
	/* the event at new is for the next one */
	EXPECT_FALSE(vmq_packed_need_event(new, new, old, NUM));
	EXPECT_FALSE(vmq_packed_need_event(4 | VMQ_PACKED_WRAP, new, old, NUM));
	/* index 1 of the wrong lap is not in the window */
	EXPECT_FALSE(vmq_packed_need_event(1 | VMQ_PACKED_WRAP, new, old,
					   NUM));
	/* nothing published: no event */
	EXPECT_FALSE(vmq_packed_need_event(old, old, old, NUM));
	/* a guest's offset past the ring is harmless */
	vmq_packed_need_event(0x7fff, new, old, NUM);
}

FIXTURE(pchain) {
	struct vmq_chain_env env;
	struct vmq_chain c;
	u16 id;
	u32 n;
};

/* a walk from @pos of the fixture's ring, into its chain, id and count */
#define walk(self, pos) \
	vmq_packed_chain_walk(&(self)->env, pos, NUM, &(self)->c, \
			      &(self)->id, &(self)->n)

FIXTURE_SETUP(pchain)
{
	memset(&self->env, 0, sizeof(self->env));
	self->id = 0xffff;
	self->n = 0;
}

FIXTURE_TEARDOWN(pchain)
{
}

TEST_F(pchain, a_chain_runs_on_past_the_ring_end)
{
	d(self->env.ring, NUM - 2, 0x100, 12, VMQ_DESC_F_NEXT, 0);
	d(self->env.ring, NUM - 1, 0x200, 60, VMQ_DESC_F_NEXT, 0);
	d(self->env.ring, 0, 0x300, 80, VMQ_DESC_F_WRITE, 5);
	ASSERT_EQ(VMQ_CHAIN_OK,
		  walk(self, NUM - 2));
	EXPECT_EQ(5, self->id);		/* the last descriptor's */
	EXPECT_EQ(3, self->n);
	EXPECT_EQ(72, self->c.out_len);
	EXPECT_EQ(80, self->c.in_len);
	ASSERT_EQ(3, self->env.nseg);
	EXPECT_EQ(0x300, self->env.seg[2].addr);
	EXPECT_TRUE(self->env.seg[2].write);
}

TEST_F(pchain, one_descriptor_is_a_chain_of_one_slot)
{
	d(self->env.ring, 3, 0x100, 1500, 0, NUM - 1);
	ASSERT_EQ(VMQ_CHAIN_OK,
		  walk(self, 3));
	EXPECT_EQ(NUM - 1, self->id);
	EXPECT_EQ(1, self->n);
	EXPECT_EQ(1, self->env.reads);
}

TEST_F(pchain, an_id_past_the_ring_is_refused)
{
	d(self->env.ring, 0, 0x100, 10, VMQ_DESC_F_NEXT, 0);
	d(self->env.ring, 1, 0x100, 10, 0, NUM);
	EXPECT_EQ(VMQ_CHAIN_BAD_ID,
		  walk(self, 0));
	EXPECT_EQ(0xffff, self->id);
}

TEST_F(pchain, a_start_past_the_ring_is_refused)
{
	EXPECT_EQ(VMQ_CHAIN_BAD_HEAD,
		  walk(self, NUM));
	EXPECT_EQ(0, self->env.reads);
}

TEST_F(pchain, next_in_every_slot_ends_after_num)
{
	int i;

	for (i = 0; i < NUM; i++)
		d(self->env.ring, i, 0x100, 0, VMQ_DESC_F_NEXT, 0);
	EXPECT_EQ(VMQ_CHAIN_LOOP,
		  walk(self, 4));
	EXPECT_EQ(NUM, self->env.reads);
}

TEST_F(pchain, readable_after_writable_is_refused)
{
	d(self->env.ring, 0, 0x100, 10, VMQ_DESC_F_WRITE | VMQ_DESC_F_NEXT, 0);
	d(self->env.ring, 1, 0x200, 10, 0, 0);
	EXPECT_EQ(VMQ_CHAIN_OUT_AFTER_IN,
		  walk(self, 0));
}

TEST_F(pchain, an_indirect_table_is_used_whole_and_in_order)
{
	/* NEXT in the table means nothing: every entry, in order */
	d(self->env.ring, 6, 0x1000, 3 * 16, VMQ_DESC_F_INDIRECT, 2);
	d(self->env.ind, 0, 0x100, 12, VMQ_DESC_F_NEXT, 9);
	d(self->env.ind, 1, 0x200, 30, 0, 9);
	d(self->env.ind, 2, 0x300, 40, VMQ_DESC_F_WRITE | VMQ_DESC_F_NEXT, 9);
	ASSERT_EQ(VMQ_CHAIN_OK,
		  walk(self, 6));
	EXPECT_EQ(2, self->id);
	EXPECT_EQ(1, self->n);
	EXPECT_EQ(42, self->c.out_len);
	EXPECT_EQ(40, self->c.in_len);
	ASSERT_EQ(3, self->env.nseg);
	EXPECT_EQ(0x200, self->env.seg[1].addr);
}

TEST_F(pchain, malformed_indirect_tables_are_refused)
{
	/* with NEXT: the spec forbids both */
	d(self->env.ring, 0, 0x1000, 16, VMQ_DESC_F_INDIRECT | VMQ_DESC_F_NEXT,
	  0);
	d(self->env.ring, 1, 0x100, 16, 0, 0);
	EXPECT_EQ(VMQ_CHAIN_BAD_INDIRECT,
		  walk(self, 0));
	d(self->env.ring, 0, 0x1000, 0, VMQ_DESC_F_INDIRECT, 0);
	EXPECT_EQ(VMQ_CHAIN_BAD_INDIRECT,
		  walk(self, 0));
	d(self->env.ring, 0, 0x1000, 20, VMQ_DESC_F_INDIRECT, 0);
	EXPECT_EQ(VMQ_CHAIN_BAD_INDIRECT,
		  walk(self, 0));
	/* an indirect entry inside */
	d(self->env.ring, 0, 0x1000, 32, VMQ_DESC_F_INDIRECT, 0);
	d(self->env.ind, 1, 0x1000, 16, VMQ_DESC_F_INDIRECT, 0);
	EXPECT_EQ(VMQ_CHAIN_NESTED_INDIRECT,
		  walk(self, 0));
	/* a table outside memory */
	d(self->env.ring, 0, 0x2000, 16, VMQ_DESC_F_INDIRECT, 0);
	EXPECT_EQ(VMQ_CHAIN_BAD_ADDR,
		  walk(self, 0));
}

TEST_HARNESS_MAIN
