// SPDX-License-Identifier: GPL-2.0
/*
 * net_ctrl_test.c - the shared control-command rules of virtio/net_ctrl.h,
 * run on the host: chain shapes, what each command is answered, and which
 * pair an inactive pair folds onto.
 */
#include "net_ctrl.h"
#include "kselftest_harness.h"

static u8 decide(u8 class, u8 cmd, int pairs, u32 have, bool mq, u32 max,
		 u32 *n)
{
	u8 buf[VMQ_CTRL_READ_MAX] = { class, cmd, pairs & 0xff, pairs >> 8 };

	return vmq_ctrl_decide(buf, have, mq, max, n);
}

TEST(a_chain_needs_two_header_bytes_and_an_ack_byte)
{
	EXPECT_EQ(VMQ_CHAIN_CTRL_NO_HEADER, vmq_ctrl_check(0, 1));
	EXPECT_EQ(VMQ_CHAIN_CTRL_NO_HEADER, vmq_ctrl_check(1, 1));
	EXPECT_EQ(VMQ_CHAIN_CTRL_NO_HEADER, vmq_ctrl_check(1, 0));
	EXPECT_EQ(VMQ_CHAIN_CTRL_NO_ACK, vmq_ctrl_check(2, 0));
	EXPECT_EQ(VMQ_CHAIN_CTRL_NO_ACK, vmq_ctrl_check(~0ULL, 0));
	EXPECT_EQ(VMQ_CHAIN_OK, vmq_ctrl_check(2, 1));
	EXPECT_EQ(VMQ_CHAIN_OK, vmq_ctrl_check(~0ULL, ~0ULL));
}

TEST(vq_pairs_set_takes_1_to_max)
{
	u32 n = 99;
	int p;

	for (p = 1; p <= 8; p++) {
		EXPECT_EQ(VMQ_CTRL_OK, decide(4, 0, p, 4, true, 8, &n));
		EXPECT_EQ((u32)p, n);
	}
	EXPECT_EQ(VMQ_CTRL_OK, decide(4, 0, 0x8000, 4, true, 0x8000, &n));
	EXPECT_EQ(0x8000U, n);
}

TEST(vq_pairs_set_out_of_range_is_err_and_asks_nothing)
{
	static const int bad[] = { 0, 9, 0x100, 0x8000, 0xffff };
	unsigned int i;
	u32 n;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = 99;
		EXPECT_EQ(VMQ_CTRL_ERR, decide(4, 0, bad[i], 4, true, 8, &n));
		EXPECT_EQ(0U, n);
	}
}

TEST(short_data_other_commands_and_no_mq_are_err)
{
	u32 n;

	EXPECT_EQ(VMQ_CTRL_ERR, decide(4, 0, 2, 3, true, 8, &n));
	EXPECT_EQ(VMQ_CTRL_ERR, decide(4, 0, 2, 2, true, 8, &n));
	EXPECT_EQ(VMQ_CTRL_ERR, decide(4, 0, 2, 1, true, 8, &n));
	EXPECT_EQ(VMQ_CTRL_ERR, decide(4, 0, 2, 0, true, 8, &n));
	EXPECT_EQ(VMQ_CTRL_ERR, decide(4, 0, 2, 4, false, 8, &n));
	EXPECT_EQ(VMQ_CTRL_ERR, decide(4, 1, 2, 4, true, 8, &n));
	EXPECT_EQ(VMQ_CTRL_ERR, decide(4, 2, 2, 4, true, 8, &n));
	EXPECT_EQ(VMQ_CTRL_ERR, decide(0, 0, 2, 4, true, 8, &n));
	EXPECT_EQ(VMQ_CTRL_ERR, decide(0xff, 0, 2, 4, true, 8, &n));
	EXPECT_EQ(0U, n);
}

TEST(inactive_pairs_fold_onto_k_mod_active)
{
	EXPECT_EQ(0U, vmq_ctrl_pair_target(0, 1));
	EXPECT_EQ(0U, vmq_ctrl_pair_target(7, 1));
	EXPECT_EQ(2U, vmq_ctrl_pair_target(2, 3));
	EXPECT_EQ(0U, vmq_ctrl_pair_target(3, 3));
	EXPECT_EQ(1U, vmq_ctrl_pair_target(7, 3));
	EXPECT_EQ(7U, vmq_ctrl_pair_target(7, 8));
}

TEST_HARNESS_MAIN
