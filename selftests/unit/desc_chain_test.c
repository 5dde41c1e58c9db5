// SPDX-License-Identifier: GPL-2.0
/*
 * desc_chain_test.c - the descriptor-chain walker the module runs
 * (virtio/desc_chain.h), here over a descriptor table in plain memory:
 * good chains, and every way a hostile guest can break one.
 */
#include <string.h>

#include "desc.h"

#define NUM		16
#define MAX_SEGS	8

/* guest memory: a ring's table, and indirect tables at "addresses" */
struct vmq_chain_env {
	struct vmq_desc ring[NUM];
	struct vmq_desc ind[2][64];	/* indirect table n at 0x1000 * (n + 1) */
	struct {
		u64 addr;
		u32 len;
		bool write;
	} seg[MAX_SEGS];
	int nseg;		/* segments handed to us */
	int limit;		/* then VMQ_CHAIN_TOO_MANY_SEGS */
};

static int vmq_env_read_desc(struct vmq_chain_env *env, u32 i,
			     struct vmq_desc *desc)
{
	*desc = env->ring[i];
	return 0;
}

static int vmq_env_read_indirect(struct vmq_chain_env *env,
				 const struct vmq_desc *ind, u32 i,
				 struct vmq_desc *desc)
{
	u64 table = ind->addr;

	if (table != 0x1000 && table != 0x2000)
		return VMQ_CHAIN_BAD_ADDR;
	*desc = env->ind[table / 0x1000 - 1][i];
	return 0;
}

static int vmq_env_add_seg(struct vmq_chain_env *env, u64 addr, u32 len,
			   bool write)
{
	if (addr >= 0x100000)
		return VMQ_CHAIN_BAD_ADDR;
	if (env->nseg == env->limit)
		return VMQ_CHAIN_TOO_MANY_SEGS;
	if (env->nseg < MAX_SEGS) {
		env->seg[env->nseg].addr = addr;
		env->seg[env->nseg].len = len;
		env->seg[env->nseg].write = write;
	}
	env->nseg++;
	return 0;
}

#include "desc_chain.h"
#include "kselftest_harness.h"

static void d(struct vmq_desc *t, u16 i, u64 addr, u32 len, u16 flags,
	      u16 next)
{
	t[i] = (struct vmq_desc){ .addr = addr, .len = len, .flags = flags,
				  .next = next };
}

FIXTURE(chain) {
	struct vmq_chain_env env;
	struct vmq_chain c;
};

FIXTURE_SETUP(chain)
{
	memset(&self->env, 0, sizeof(self->env));
	self->env.limit = MAX_SEGS;
}

FIXTURE_TEARDOWN(chain)
{
}

TEST_F(chain, readable_then_writable_chain_is_walked_in_order)
{
	d(self->env.ring, 3, 0x100, 12, VMQ_DESC_F_NEXT, 7);
	d(self->env.ring, 7, 0x200, 100, VMQ_DESC_F_NEXT, 1);
	d(self->env.ring, 1, 0x300, 50, VMQ_DESC_F_WRITE, 0);
	ASSERT_EQ(VMQ_CHAIN_OK, vmq_chain_walk(&self->env, 3, NUM, &self->c));
	EXPECT_EQ(2, self->c.out_descs);
	EXPECT_EQ(1, self->c.in_descs);
	EXPECT_EQ(112, self->c.out_len);
	EXPECT_EQ(50, self->c.in_len);
	ASSERT_EQ(3, self->env.nseg);
	EXPECT_EQ(0x200, self->env.seg[1].addr);
	EXPECT_TRUE(self->env.seg[2].write);
}

TEST_F(chain, head_past_the_ring_is_refused)
{
	EXPECT_EQ(VMQ_CHAIN_BAD_HEAD,
		  vmq_chain_walk(&self->env, NUM, NUM, &self->c));
	EXPECT_EQ(0, self->env.nseg);
}

TEST_F(chain, next_past_the_ring_is_refused)
{
	d(self->env.ring, 0, 0x100, 10, VMQ_DESC_F_NEXT, NUM);
	EXPECT_EQ(VMQ_CHAIN_BAD_NEXT,
		  vmq_chain_walk(&self->env, 0, NUM, &self->c));
}

TEST_F(chain, a_loop_is_caught_after_num_descriptors)
{
	d(self->env.ring, 0, 0x100, 1, VMQ_DESC_F_NEXT, 1);
	d(self->env.ring, 1, 0x100, 1, VMQ_DESC_F_NEXT, 0);
	self->env.limit = 1000;		/* room for the whole loop */
	EXPECT_EQ(VMQ_CHAIN_LOOP, vmq_chain_walk(&self->env, 0, NUM, &self->c));
	EXPECT_EQ(NUM, self->env.nseg);
}

TEST_F(chain, readable_after_writable_is_refused)
{
	d(self->env.ring, 0, 0x100, 10, VMQ_DESC_F_WRITE | VMQ_DESC_F_NEXT, 1);
	d(self->env.ring, 1, 0x200, 10, 0, 0);
	EXPECT_EQ(VMQ_CHAIN_OUT_AFTER_IN,
		  vmq_chain_walk(&self->env, 0, NUM, &self->c));
}

TEST_F(chain, indirect_table_is_walked)
{
	d(self->env.ring, 5, 0x1000, 3 * 16, VMQ_DESC_F_INDIRECT, 0);
	d(self->env.ind[0], 0, 0x100, 12, VMQ_DESC_F_NEXT, 2);
	d(self->env.ind[0], 2, 0x200, 30, VMQ_DESC_F_NEXT, 1);
	d(self->env.ind[0], 1, 0x300, 40, VMQ_DESC_F_WRITE, 0);
	ASSERT_EQ(VMQ_CHAIN_OK, vmq_chain_walk(&self->env, 5, NUM, &self->c));
	EXPECT_EQ(42, self->c.out_len);
	EXPECT_EQ(40, self->c.in_len);
	EXPECT_EQ(3, self->env.nseg);
}

TEST_F(chain, indirect_inside_indirect_is_refused)
{
	d(self->env.ring, 0, 0x1000, 16, VMQ_DESC_F_INDIRECT, 0);
	d(self->env.ind[0], 0, 0x2000, 16, VMQ_DESC_F_INDIRECT, 0);
	EXPECT_EQ(VMQ_CHAIN_NESTED_INDIRECT,
		  vmq_chain_walk(&self->env, 0, NUM, &self->c));
}

TEST_F(chain, indirect_of_bad_length_is_refused)
{
	d(self->env.ring, 0, 0x1000, 0, VMQ_DESC_F_INDIRECT, 0);
	EXPECT_EQ(VMQ_CHAIN_BAD_INDIRECT,
		  vmq_chain_walk(&self->env, 0, NUM, &self->c));
	d(self->env.ring, 0, 0x1000, 24, VMQ_DESC_F_INDIRECT, 0);
	EXPECT_EQ(VMQ_CHAIN_BAD_INDIRECT,
		  vmq_chain_walk(&self->env, 0, NUM, &self->c));
	d(self->env.ring, 0, 0x1000, 16 * 32769, VMQ_DESC_F_INDIRECT, 0);
	EXPECT_EQ(VMQ_CHAIN_BAD_INDIRECT,
		  vmq_chain_walk(&self->env, 0, NUM, &self->c));
}

TEST_F(chain, indirect_loop_and_next_past_its_table_are_refused)
{
	d(self->env.ring, 0, 0x1000, 2 * 16, VMQ_DESC_F_INDIRECT, 0);
	d(self->env.ind[0], 0, 0x100, 1, VMQ_DESC_F_NEXT, 1);
	d(self->env.ind[0], 1, 0x100, 1, VMQ_DESC_F_NEXT, 0);
	EXPECT_EQ(VMQ_CHAIN_LOOP, vmq_chain_walk(&self->env, 0, NUM, &self->c));
	self->env.nseg = 0;
	d(self->env.ind[0], 1, 0x100, 1, VMQ_DESC_F_NEXT, 2);
	EXPECT_EQ(VMQ_CHAIN_BAD_NEXT,
		  vmq_chain_walk(&self->env, 0, NUM, &self->c));
}

TEST_F(chain, translation_and_segment_limits_end_the_walk)
{
	int i;

	d(self->env.ring, 0, 0x200000, 10, 0, 0);
	EXPECT_EQ(VMQ_CHAIN_BAD_ADDR,
		  vmq_chain_walk(&self->env, 0, NUM, &self->c));
	d(self->env.ring, 0, 0x1234, 16, VMQ_DESC_F_INDIRECT, 0);
	EXPECT_EQ(VMQ_CHAIN_BAD_ADDR,
		  vmq_chain_walk(&self->env, 0, NUM, &self->c));
	for (i = 0; i < NUM; i++)
		d(self->env.ring, i, 0x100, 1, VMQ_DESC_F_NEXT, i + 1);
	self->env.ring[NUM - 1].flags = 0;
	EXPECT_EQ(VMQ_CHAIN_TOO_MANY_SEGS,
		  vmq_chain_walk(&self->env, 0, NUM, &self->c));
}

TEST_HARNESS_MAIN
