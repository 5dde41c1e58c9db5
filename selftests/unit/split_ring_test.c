// SPDX-License-Identifier: GPL-2.0
/*
 * split_ring_test.c - the shared split-ring arithmetic of virtio/, run on
 * the host: ring sizes, layout sizes and wrap-around of the u16 indices.
 */
#include "split_ring.h"
#include "kselftest_harness.h"

TEST(ring_num_accepts_powers_of_two_up_to_32768)
{
	u32 num;

	for (num = 1; num <= 32768; num <<= 1)
		EXPECT_TRUE(vmq_ring_num_valid(num));
}

TEST(ring_num_rejects_zero_non_powers_and_too_large)
{
	EXPECT_FALSE(vmq_ring_num_valid(0));
	EXPECT_FALSE(vmq_ring_num_valid(3));
	EXPECT_FALSE(vmq_ring_num_valid(255));
	EXPECT_FALSE(vmq_ring_num_valid(65535));
	EXPECT_FALSE(vmq_ring_num_valid(65536));
	EXPECT_FALSE(vmq_ring_num_valid(0x80000000U));
}

TEST(ring_part_sizes_follow_the_spec)
{
	EXPECT_EQ(16 * 256, vmq_desc_table_size(256));
	EXPECT_EQ(4 + 2 * 256, vmq_avail_ring_size(256, false));
	EXPECT_EQ(4 + 2 * 256 + 2, vmq_avail_ring_size(256, true));
	EXPECT_EQ(4 + 8 * 256, vmq_used_ring_size(256, false));
	EXPECT_EQ(4 + 8 * 32768 + 2, vmq_used_ring_size(32768, true));
}

TEST(avail_idx_may_run_at_most_num_ahead_across_wrap)
{
	EXPECT_TRUE(vmq_avail_idx_valid(0, 0, 256));
	EXPECT_TRUE(vmq_avail_idx_valid(256, 0, 256));
	EXPECT_FALSE(vmq_avail_idx_valid(257, 0, 256));
	EXPECT_TRUE(vmq_avail_idx_valid(10, 65530, 16));
	EXPECT_FALSE(vmq_avail_idx_valid(11, 65530, 16));
	/* going backwards is a huge step forwards */
	EXPECT_FALSE(vmq_avail_idx_valid(65535, 0, 32768));
}

TEST(need_event_fires_only_when_event_is_in_the_new_window)
{
	/* published entries 10..14 (old 10, new 15) */
	EXPECT_TRUE(vmq_need_event(10, 15, 10));
	EXPECT_TRUE(vmq_need_event(14, 15, 10));
	EXPECT_FALSE(vmq_need_event(15, 15, 10));
	EXPECT_FALSE(vmq_need_event(9, 15, 10));
	/* the same window across the u16 wrap */
	EXPECT_TRUE(vmq_need_event(65535, 3, 65534));
	EXPECT_TRUE(vmq_need_event(2, 3, 65534));
	EXPECT_FALSE(vmq_need_event(3, 3, 65534));
	/* nothing published: never */
	EXPECT_FALSE(vmq_need_event(7, 7, 7));
}

TEST_HARNESS_MAIN
