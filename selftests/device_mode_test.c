// SPDX-License-Identifier: GPL-2.0
/*
 * device_mode_test.c - one /dev/vhost-mq fd as a whole multiqueue
 * virtio-net device (VHOST_MQ_SET_PAIRS): N pairs on the N queues of a
 * multiqueue tap, a worker each, and the control vq served in the kernel.
 * The guest picks the active pairs with VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET;
 * only those are served, and the frames the tap hashes onto an inactive
 * pair's queue are folded into an active pair's ring. vhost-net has no
 * device mode, so this runs on /dev/vhost-mq only.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/wait.h>

#include "vmq_dm.h"
#include "kselftest_harness.h"
#include "vmq_dm_checks.h"

#define NFLOWS		32

static void pairs_carry_traffic(struct __test_metadata *_metadata,
				unsigned int n, uint64_t extra)
{
	unsigned int k, flow, a = n > 1 ? n / 2 : 1, nfold;
	int ring[NFLOWS], ring2[NFLOWS], tids[MAX_PAIRS];
	uint64_t features, folded[MAX_PAIRS] = { 0 };
	struct vhost_mq_active act;
	struct dm m;
	char name[32];

	vmq_kmsg_mark(_metadata->name, VHOST_MQ_PATH);
	ASSERT_EQ(0, dm_start(&m, n, F_BASE | F_MQ | extra, 256));
	ASSERT_EQ(0, ioctl(m.fd, VHOST_GET_FEATURES, &features));
	EXPECT_EQ(F_MQ | extra, features & (F_MQ | extra));
	/* every ring of the device, the control vq's too, of one layout */
	for (k = 0; k < n; k++) {
		EXPECT_EQ(!!extra, m.d.rx[k].packed);
		EXPECT_EQ(!!extra, m.d.tx[k].packed);
	}
	EXPECT_EQ(!!extra, m.d.ctrl.packed);

	/* a worker per pair, named for it, each a thread of its own */
	for (k = 0; k < n; k++) {
		struct vhost_mq_worker w = { .pair = k };
		unsigned int j;

		ASSERT_EQ(0, ioctl(m.fd, VHOST_MQ_GET_WORKER, &w));
		tids[k] = w.tid;
		for (j = 0; j < k; j++)
			EXPECT_NE(tids[j], tids[k]);
		snprintf(name, sizeof(name), "vhost-mq-%d-%u", getpid(), k);
		EXPECT_EQ(1, vmq_count_tasks_named(name)) TH_LOG("%s", name);
	}

	/* the spec's default: one pair until the guest says otherwise */
	act = dm_active(&m);
	EXPECT_EQ(n, act.pairs);
	EXPECT_EQ(1, act.active);
	EXPECT_EQ(0, act.changes);
	ASSERT_EQ(VIRTIO_NET_OK, vmq_gctrl_set_pairs(&m.d, n, WAIT_MS));
	act = dm_active(&m);
	EXPECT_EQ(n, act.active);
	EXPECT_EQ(n > 1, act.changes);
	EXPECT_EQ(n > 1, vmq_eventfd_read(m.d.change_fd));

	every_pair_moves_frames(_metadata, &m, NFLOWS, ring);
	if (n == 1)
		goto out;

	/* the guest goes down to a = n/2 pairs */
	ASSERT_EQ(VIRTIO_NET_OK, vmq_gctrl_set_pairs(&m.d, a, WAIT_MS));
	EXPECT_EQ(a, dm_active(&m).active);
	EXPECT_EQ(1, vmq_eventfd_read(m.d.change_fd));
	for (k = 0; k < n; k++) {
		struct vhost_mq_pair p = dm_pair(&m, k);

		EXPECT_EQ(k < a, !!(p.flags & VHOST_MQ_PAIR_ACTIVE));
		EXPECT_EQ(k % a, p.target);
		EXPECT_TRUE(p.flags & VHOST_MQ_PAIR_RX_ATTACHED);
	}
	/*
	 * tx rings are served whatever the choice: a frame the guest's stack
	 * queued on an inactive pair before it saw the change goes out
	 */
	ASSERT_EQ(0, dm_tx(&m, n - 1, 1000));
	EXPECT_TRUE(tx_arrives(&m, 1000, WAIT_MS)) TH_LOG("inactive pair held");
	EXPECT_EQ(2, dm_stats(&m, 2 * (n - 1) + 1).packets);
	ASSERT_EQ(0, dm_tx(&m, 0, 1001));
	EXPECT_TRUE(tx_arrives(&m, 1001, WAIT_MS));

	/*
	 * The same flows again: the tap still hashes them onto all n queues;
	 * those of an inactive queue q arrive folded into ring q % a
	 */
	for (k = a; k < n; k++)
		dm_force_kick(&m.d.rx[k]);	/* buffers there, and a kick */
	flows_round(_metadata, &m, NFLOWS, 100, ring2);
	for (flow = 0, nfold = 0; flow < NFLOWS; flow++) {
		EXPECT_EQ(ring[flow] % a, ring2[flow]) TH_LOG("flow %u", flow);
		if ((unsigned int)ring[flow] >= a) {
			folded[ring[flow] % a]++;
			nfold++;
		}
	}
	for (k = 0; k < n; k++)
		EXPECT_EQ(folded[k], dm_stats(&m, 2 * k).folded) TH_LOG("%u", k);
	EXPECT_EQ(2 * NFLOWS, sum_rx(&m, false));
	EXPECT_LT(0, nfold) TH_LOG("no flow on an inactive queue to fold");

	if (n == 4) {
		/* and an admin sees it all with vhost-mq-stat */
		char cmd[64], out[16384] = "";
		size_t len;
		FILE *p;

		snprintf(cmd, sizeof(cmd), "build/vhost-mq-stat %d", getpid());
		p = popen(cmd, "r");
		ASSERT_NE(NULL, p);
		len = fread(out, 1, sizeof(out) - 1, p);
		out[len] = '\0';
		EXPECT_EQ(0, pclose(p));
		EXPECT_NE(NULL, strstr(out, "2 of 4 pairs active, 2 changes"))
			TH_LOG("%s", out);
		EXPECT_NE(NULL, strstr(out, "pair 3: inactive (rx folded into pair 1)"));
		EXPECT_NE(NULL, strstr(out, "pair 1: active"));
		EXPECT_NE(NULL, strstr(out, "ctrl_packets: 2\n"));
	}

	/* all n again */
	ASSERT_EQ(VIRTIO_NET_OK, vmq_gctrl_set_pairs(&m.d, n, WAIT_MS));
	ASSERT_EQ(0, dm_tx(&m, n - 1, 1002));
	EXPECT_TRUE(tx_arrives(&m, 1002, WAIT_MS));
	EXPECT_EQ(3, dm_active(&m).changes);
out:
	dm_stop(&m);
}

TEST(one_pair_in_device_mode)
{
	pairs_carry_traffic(_metadata, 1, 0);
}

TEST(two_pairs_in_device_mode)
{
	pairs_carry_traffic(_metadata, 2, 0);
}

TEST(four_pairs_in_device_mode)
{
	pairs_carry_traffic(_metadata, 4, 0);
}

TEST(eight_pairs_in_device_mode)
{
	pairs_carry_traffic(_metadata, 8, 0);
}

#define F_PACKED	(1ULL << VIRTIO_F_RING_PACKED)

TEST(one_pair_in_device_mode_on_packed_rings)
{
	pairs_carry_traffic(_metadata, 1, F_PACKED);
}

TEST(four_pairs_in_device_mode_on_packed_rings)
{
	pairs_carry_traffic(_metadata, 4, F_PACKED);
}

static int set_pairs(int fd, uint32_t n)
{
	return ioctl(fd, VHOST_MQ_SET_PAIRS, &n) ? errno : 0;
}

TEST(set_pairs_rules)
{
	uint64_t features = 1ULL << VIRTIO_F_VERSION_1, mq = F_MQ;
	int fd;

	vmq_kmsg_mark(_metadata->name, VHOST_MQ_PATH);
	fd = open(VHOST_MQ_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	/* compat mode neither offers nor takes the control vq */
	ASSERT_EQ(0, ioctl(fd, VHOST_GET_FEATURES, &features));
	EXPECT_EQ(0, features & F_MQ);
	EXPECT_EQ(-1, ioctl(fd, VHOST_SET_FEATURES, &mq));
	EXPECT_EQ(EOPNOTSUPP, errno);
	features = 1ULL << VIRTIO_F_VERSION_1;

	EXPECT_EQ(EINVAL, set_pairs(fd, 0));
	EXPECT_EQ(EINVAL, set_pairs(fd, 17));	/* max_queue_pairs is 16 */
	EXPECT_EQ(EINVAL, set_pairs(fd, 0xffffffff));
	EXPECT_EQ(EFAULT, ioctl(fd, VHOST_MQ_SET_PAIRS, NULL) ? errno : 0);
	/* features set before still hold; the mode may change until owned */
	ASSERT_EQ(0, ioctl(fd, VHOST_SET_FEATURES, &features));
	EXPECT_EQ(0, set_pairs(fd, 16));
	EXPECT_EQ(0, set_pairs(fd, 3));
	/* MQ needs CTRL_VQ */
	mq = 1ULL << VIRTIO_NET_F_MQ;
	EXPECT_EQ(-1, ioctl(fd, VHOST_SET_FEATURES, &mq));
	EXPECT_EQ(EINVAL, errno);
	mq = F_MQ;
	EXPECT_EQ(0, ioctl(fd, VHOST_SET_FEATURES, &mq));
	ASSERT_EQ(0, ioctl(fd, VHOST_SET_OWNER, NULL));
	EXPECT_EQ(EBUSY, set_pairs(fd, 2));
	{
		/* vrings 0..5 are the pairs', 6 the control vq's, 7 none */
		struct vhost_vring_state s = { 6, 64 };
		struct vhost_vring_state bad = { 7, 256 };

		EXPECT_EQ(0, ioctl(fd, VHOST_SET_VRING_NUM, &s));
		EXPECT_EQ(-1, ioctl(fd, VHOST_SET_VRING_NUM, &bad));
		EXPECT_EQ(ENOBUFS, errno);
	}
	/* after RESET_OWNER the pairs remain */
	ASSERT_EQ(0, ioctl(fd, VHOST_RESET_OWNER, NULL));
	ASSERT_EQ(0, ioctl(fd, VHOST_SET_OWNER, NULL));
	{
		struct vhost_mq_worker w = { .pair = 2 };

		EXPECT_EQ(0, ioctl(fd, VHOST_MQ_GET_WORKER, &w));
	}
	close(fd);
}

/* 4 pairs, of which the guest made 2 active */
static void two_of_four_setup(struct __test_metadata *_metadata, struct dm *m)
{
	vmq_kmsg_mark(_metadata->name, VHOST_MQ_PATH);
	ASSERT_EQ(0, dm_start(m, 4, F_BASE | F_MQ, 256));
	ASSERT_EQ(VIRTIO_NET_OK, vmq_gctrl_set_pairs(&m->d, 2, WAIT_MS));
	ASSERT_EQ(1, vmq_eventfd_read(m->d.change_fd));
}

FIXTURE(ctrl) {
	struct dm m;
};

FIXTURE_SETUP(ctrl)
{
	two_of_four_setup(_metadata, &self->m);
}

FIXTURE_TEARDOWN(ctrl)
{
	dm_stop(&self->m);
}

/* The command was answered ERR and nothing changed. */
static void rejected(struct __test_metadata *_metadata, struct dm *m,
		     uint64_t nth)
{
	struct vhost_mq_vring_stats s = dm_stats(m, 2 * m->n);
	struct vhost_mq_active a = dm_active(m);

	EXPECT_EQ(2, a.active);
	EXPECT_EQ(1, a.changes);
	EXPECT_EQ(0, vmq_eventfd_read(m->d.change_fd));
	EXPECT_EQ(nth, s.drops[VHOST_MQ_DROP_CTRL_REJECTED]);
	EXPECT_EQ(nth + 1, s.packets);
	EXPECT_EQ(0, s.errors);
}

TEST_F(ctrl, vq_pairs_set_out_of_range_is_err_and_changes_nothing)
{
	ASSERT_EQ(VIRTIO_NET_ERR, vmq_gctrl_set_pairs(&self->m.d, 0, WAIT_MS));
	rejected(_metadata, &self->m, 1);
	ASSERT_EQ(VIRTIO_NET_ERR, vmq_gctrl_set_pairs(&self->m.d, 5, WAIT_MS));
	rejected(_metadata, &self->m, 2);
	ASSERT_EQ(VIRTIO_NET_ERR,
		  vmq_gctrl_set_pairs(&self->m.d, 0xffff, WAIT_MS));
	rejected(_metadata, &self->m, 3);
	/* the edge that is in range */
	ASSERT_EQ(VIRTIO_NET_OK, vmq_gctrl_set_pairs(&self->m.d, 4, WAIT_MS));
	EXPECT_EQ(4, dm_active(&self->m).active);
	EXPECT_EQ(1, vmq_eventfd_read(self->m.d.change_fd));
	/* the same count again is OK and no change */
	ASSERT_EQ(VIRTIO_NET_OK, vmq_gctrl_set_pairs(&self->m.d, 4, WAIT_MS));
	EXPECT_EQ(2, dm_active(&self->m).changes);
	EXPECT_EQ(0, vmq_eventfd_read(self->m.d.change_fd));
}

TEST_F(ctrl, other_commands_are_err)
{
	uint8_t one = 1, rss[64] = { 0 };

	/* VIRTIO_NET_CTRL_RX_PROMISC: a class we do not implement */
	EXPECT_EQ(VIRTIO_NET_ERR,
		  vmq_gctrl_cmd(&self->m.d, VIRTIO_NET_CTRL_RX,
				VIRTIO_NET_CTRL_RX_PROMISC, &one, 1, WAIT_MS));
	rejected(_metadata, &self->m, 1);
	/* MQ, but RSS_CONFIG, and HASH_CONFIG */
	EXPECT_EQ(VIRTIO_NET_ERR,
		  vmq_gctrl_cmd(&self->m.d, VIRTIO_NET_CTRL_MQ,
				VIRTIO_NET_CTRL_MQ_RSS_CONFIG, rss, 32,
				WAIT_MS));
	rejected(_metadata, &self->m, 2);
	EXPECT_EQ(VIRTIO_NET_ERR,
		  vmq_gctrl_cmd(&self->m.d, VIRTIO_NET_CTRL_MQ,
				VIRTIO_NET_CTRL_MQ_HASH_CONFIG, rss, 32,
				WAIT_MS));
	rejected(_metadata, &self->m, 3);
	/* VQ_PAIRS_SET with one data byte instead of a le16; with none */
	EXPECT_EQ(VIRTIO_NET_ERR,
		  vmq_gctrl_cmd(&self->m.d, VIRTIO_NET_CTRL_MQ,
				VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, &one, 1,
				WAIT_MS));
	rejected(_metadata, &self->m, 4);
	EXPECT_EQ(VIRTIO_NET_ERR,
		  vmq_gctrl_cmd(&self->m.d, VIRTIO_NET_CTRL_MQ,
				VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, NULL, 0,
				WAIT_MS));
	rejected(_metadata, &self->m, 5);
	/* and a well-formed one still works */
	EXPECT_EQ(VIRTIO_NET_OK, vmq_gctrl_set_pairs(&self->m.d, 3, WAIT_MS));
	EXPECT_EQ(3, dm_active(&self->m).active);
}

/* The VMM's side: read and set the active pairs, read a pair's state. */
TEST_F(ctrl, vmm_reads_and_sets_the_active_pairs)
{
	struct vhost_mq_pair p = { .pair = 4 };
	uint32_t n;
	pid_t pid;
	int st;

	EXPECT_EQ(-1, ioctl(self->m.fd, VHOST_MQ_GET_PAIR, &p));
	EXPECT_EQ(ENOBUFS, errno);
	n = 0;
	EXPECT_EQ(-1, ioctl(self->m.fd, VHOST_MQ_SET_ACTIVE, &n));
	EXPECT_EQ(EINVAL, errno);
	n = 5;
	EXPECT_EQ(-1, ioctl(self->m.fd, VHOST_MQ_SET_ACTIVE, &n));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(2, dm_active(&self->m).active);
	/* only the owner sets it; anyone holding the fd reads it */
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct vhost_mq_active a;

		n = 1;
		_exit(ioctl(self->m.fd, VHOST_MQ_SET_ACTIVE, &n) == -1 &&
		      errno == EPERM &&
		      !ioctl(self->m.fd, VHOST_MQ_GET_ACTIVE, &a) &&
		      a.active == 2 ? 0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_EQ(0, st);
	/* a device reset: back to one pair, and the VMM is told too */
	n = 1;
	EXPECT_EQ(0, ioctl(self->m.fd, VHOST_MQ_SET_ACTIVE, &n));
	EXPECT_EQ(1, dm_active(&self->m).active);
	EXPECT_EQ(2, dm_active(&self->m).changes);
	EXPECT_EQ(1, vmq_eventfd_read(self->m.d.change_fd));
	p = dm_pair(&self->m, 3);
	EXPECT_EQ(0, p.target);
	EXPECT_EQ(VHOST_MQ_PAIR_RX_ATTACHED | VHOST_MQ_PAIR_TX_ATTACHED,
		  p.flags);
	p = dm_pair(&self->m, 0);
	EXPECT_EQ(VHOST_MQ_PAIR_ACTIVE | VHOST_MQ_PAIR_RX_ATTACHED |
		  VHOST_MQ_PAIR_TX_ATTACHED, p.flags);
}

/* Without VIRTIO_NET_F_MQ negotiated, VQ_PAIRS_SET is ERR. */
TEST(vq_pairs_set_needs_mq)
{
	uint64_t features = F_BASE | (1ULL << VIRTIO_NET_F_CTRL_VQ);
	struct dm m;

	vmq_kmsg_mark(_metadata->name, VHOST_MQ_PATH);
	ASSERT_EQ(0, dm_start(&m, 2, features, 64));
	EXPECT_EQ(VIRTIO_NET_ERR, vmq_gctrl_set_pairs(&m.d, 2, WAIT_MS));
	EXPECT_EQ(1, dm_active(&m).active);
	/* and the one active pair works */
	ASSERT_EQ(0, dm_tx(&m, 0, 7));
	EXPECT_TRUE(tx_arrives(&m, 7, WAIT_MS));
	dm_stop(&m);
}

/* ---- malformed control chains ---------------------------------------- */

#define W VRING_DESC_F_WRITE
#define R 0

FIXTURE(bad_ctrl) {
	struct dm m;
};

FIXTURE_SETUP(bad_ctrl)
{
	two_of_four_setup(_metadata, &self->m);
}

FIXTURE_TEARDOWN(bad_ctrl)
{
	dm_stop(&self->m);
}

FIXTURE_VARIANT(bad_ctrl) {
	struct raw_desc d[5];
	unsigned int n;
	int why;		/* enum vhost_mq_chain_error */
};

FIXTURE_VARIANT_ADD(bad_ctrl, short_header) {
	.d = { { 0, 0, 1, R, -1 }, { 48, 0, 1, W, -1 } }, .n = 2,
	.why = VHOST_MQ_CHAIN_CTRL_NO_HEADER,
};

FIXTURE_VARIANT_ADD(bad_ctrl, zero_lengths) {
	.d = { { 0, 0, 0, R, -1 }, { 48, 0, 0, W, -1 } }, .n = 2,
	.why = VHOST_MQ_CHAIN_CTRL_NO_HEADER,
};

FIXTURE_VARIANT_ADD(bad_ctrl, no_ack_buffer) {
	.d = { { 0, 0, 4, R, -1 } }, .n = 1,
	.why = VHOST_MQ_CHAIN_CTRL_NO_ACK,
};

FIXTURE_VARIANT_ADD(bad_ctrl, read_only_ack) {
	.d = { { 0, 0, 2, R, -1 }, { 2, 0, 2, R, -1 }, { 48, 0, 1, R, -1 } },
	.n = 3, .why = VHOST_MQ_CHAIN_CTRL_NO_ACK,
};

FIXTURE_VARIANT_ADD(bad_ctrl, zero_length_ack) {
	.d = { { 0, 0, 4, R, -1 }, { 48, 0, 0, W, -1 } }, .n = 2,
	.why = VHOST_MQ_CHAIN_CTRL_NO_ACK,
};

FIXTURE_VARIANT_ADD(bad_ctrl, ack_before_header) {
	.d = { { 48, 0, 1, W, -1 }, { 0, 0, 4, R, -1 } }, .n = 2,
	.why = VHOST_MQ_CHAIN_OUT_AFTER_IN,
};

FIXTURE_VARIANT_ADD(bad_ctrl, huge_header_length) {
	.d = { { 0, 0, 0xffffffff, R, -1 }, { 48, 0, 1, W, -1 } }, .n = 2,
	.why = VHOST_MQ_CHAIN_BAD_ADDR,
};

FIXTURE_VARIANT_ADD(bad_ctrl, huge_ack_length) {
	.d = { { 0, 0, 4, R, -1 }, { 48, 0, 0xffffffff, W, -1 } }, .n = 2,
	.why = VHOST_MQ_CHAIN_BAD_ADDR,
};

FIXTURE_VARIANT_ADD(bad_ctrl, header_outside_memory) {
	.d = { { -1, 0x1000, 4, R, -1 }, { 48, 0, 1, W, -1 } }, .n = 2,
	.why = VHOST_MQ_CHAIN_BAD_ADDR,
};

FIXTURE_VARIANT_ADD(bad_ctrl, descriptor_loop) {
	.d = { { 0, 0, 2, R, -1 }, { 2, 0, 2, R, 48 } }, .n = 2,
	.why = VHOST_MQ_CHAIN_LOOP,
};

FIXTURE_VARIANT_ADD(bad_ctrl, next_off_the_table) {
	.d = { { 0, 0, 4, R, 64 } }, .n = 1,
	.why = VHOST_MQ_CHAIN_BAD_NEXT,
};

/*
 * The control vq stops and says why on its error eventfd; the state does
 * not change; the data pairs go on; the VMM restarts the queue past the
 * bad chain and the next command works.
 */
TEST_F(bad_ctrl, stops_only_the_control_vq)
{
	struct vmq_gdev *d = &self->m.d;
	unsigned int cvq = 2 * self->m.n;
	struct vhost_vring_state base = { cvq, 0 };
	struct vhost_mq_vring_stats s;

	/* the setup's command took avail entry 0; this one is entry 1 */
	raw_chain(d, variant->d, variant->n, 3);
	EXPECT_TRUE(wait_eventfd(d->ctrl.err_fd, WAIT_MS));
	s = dm_stats(&self->m, cvq);
	EXPECT_EQ(1, s.errors);
	EXPECT_EQ(1, s.chain_errors[variant->why]);
	EXPECT_EQ(1, s.packets);
	EXPECT_EQ(0xee, d->cmd[48]);
	EXPECT_EQ(1, d->ctrl.vring.used->idx);
	EXPECT_EQ(2, dm_active(&self->m).active);
	EXPECT_EQ(0, vmq_eventfd_read(d->change_fd));
	EXPECT_TRUE(dm_pair(&self->m, 1).flags & VHOST_MQ_PAIR_ACTIVE);

	/* the data pairs do not care */
	ASSERT_EQ(0, dm_tx(&self->m, 1, 77));
	EXPECT_TRUE(tx_arrives(&self->m, 77, WAIT_MS));

	/* stopped: another command is not even looked at */
	{
		uint8_t le[2] = { 3, 0 };
		struct vmq_gbuf b[3] = {
			{ d->cmd + 56, 2 }, { d->cmd + 58, 2 }, { d->cmd + 60, 1 },
		};

		memcpy(d->cmd + 56, "\x04\x00", 2);
		memcpy(d->cmd + 58, le, 2);
		d->cmd[60] = 0xee;
		ASSERT_EQ(0, vmq_gvq_add(&d->ctrl, b, 2, 1, d->cmd + 60, false));
		vmq_gvq_kick(&d->ctrl);
		usleep(200000);
		EXPECT_EQ(0xee, d->cmd[60]);
		EXPECT_EQ(2, dm_active(&self->m).active);
	}

	/* the VMM: stop, skip the bad entry, start again */
	ASSERT_EQ(0, vmq_vhost_set_backend(self->m.fd, cvq, -1));
	ASSERT_EQ(0, ioctl(self->m.fd, VHOST_GET_VRING_BASE, &base));
	EXPECT_EQ(1, base.num) TH_LOG("the bad chain was consumed");
	base.num++;
	ASSERT_EQ(0, ioctl(self->m.fd, VHOST_SET_VRING_BASE, &base));
	ASSERT_EQ(0, vmq_vhost_set_backend(self->m.fd, cvq, d->change_fd));
	EXPECT_TRUE(vmq_gvq_get_wait(&d->ctrl, NULL, WAIT_MS) == d->cmd + 60);
	EXPECT_EQ(VIRTIO_NET_OK, d->cmd[60]);
	EXPECT_EQ(3, dm_active(&self->m).active);
	EXPECT_EQ(1, vmq_eventfd_read(d->change_fd));
}

/* Odd but well formed: every byte in a descriptor of its own; big data. */
TEST(ctrl_command_split_into_single_bytes)
{
	struct raw_desc split[5] = {
		{ 0, 0, 1, R, -1 }, { 1, 0, 1, R, -1 }, { 2, 0, 1, R, -1 },
		{ 3, 0, 1, R, -1 }, { 48, 0, 1, W, -1 },
	};
	struct raw_desc big[2] = {
		{ 0, 0, 16 << 10, R, -1 }, { 48, 0, 1 << 20, W, -1 },
	};
	struct dm m;

	vmq_kmsg_mark(_metadata->name, VHOST_MQ_PATH);
	ASSERT_EQ(0, dm_start(&m, 4, F_BASE | F_MQ, 64));
	raw_chain(&m.d, split, 5, 3);
	ASSERT_TRUE(vmq_gvq_wait(&m.d.ctrl, WAIT_MS));
	EXPECT_EQ(VIRTIO_NET_OK, m.d.cmd[48]);
	EXPECT_EQ(3, dm_active(&m).active);
	EXPECT_EQ(1, m.d.ctrl.vring.used->idx);
	/* 16 KiB of command data (only 2 bytes count), a 1 MiB ack buffer */
	raw_chain(&m.d, big, 2, 2);
	usleep(200000);
	EXPECT_EQ(2, m.d.ctrl.vring.used->idx);
	EXPECT_EQ(2, dm_active(&m).active);
	EXPECT_EQ(1, m.d.ctrl.vring.used->ring[1].len);
	EXPECT_EQ(0, dm_stats(&m, 8).errors);
	dm_stop(&m);
}

/*
 * Queue folding takes turns: with one pair active, 300 frames wait on its
 * own tap queue and 20 on the folded queue 1 (pair 0's rx stopped while
 * they come). Once it runs again the two queues alternate, 16 frames a
 * turn: every queue-1 frame is among the first 64 delivered, instead of
 * waiting behind all 300 (a flood on one queue starved the other until
 * tun dropped its frames).
 */
TEST(a_folded_queue_takes_turns_with_a_flooded_one)
{
	unsigned int flow, f[2] = { ~0U, ~0U }, pos = 0, first = ~0U, last = 0;
	unsigned int n1 = 0, i;
	int ring[NFLOWS], r, spins = 0;
	uint32_t seq;
	struct dm m;

	vmq_kmsg_mark(_metadata->name, VHOST_MQ_PATH);
	ASSERT_EQ(0, dm_start(&m, 2, F_BASE | F_MQ, 512));
	ASSERT_EQ(VIRTIO_NET_OK, vmq_gctrl_set_pairs(&m.d, 2, WAIT_MS));
	/* a flow the tap puts on each queue */
	ASSERT_EQ(0, dm_post_rx(&m, 0, 64));
	ASSERT_EQ(0, dm_post_rx(&m, 1, 64));
	flows_round(_metadata, &m, NFLOWS, 0, ring);
	for (flow = 0; flow < NFLOWS; flow++)
		if (f[ring[flow]] == ~0U)
			f[ring[flow]] = flow;
	ASSERT_NE(~0U, f[0]);
	ASSERT_NE(~0U, f[1]);
	/* one pair: queue 1 folds onto pair 0, whose rx stops meanwhile */
	ASSERT_EQ(VIRTIO_NET_OK, vmq_gctrl_set_pairs(&m.d, 1, WAIT_MS));
	ASSERT_EQ(0, vmq_vhost_set_backend(m.fd, 0, -1));
	for (i = 0; i < 300; i++)
		ASSERT_EQ(0, send_udp(&m, f[0], 1000 + i));
	for (i = 0; i < 20; i++)
		ASSERT_EQ(0, send_udp(&m, f[1], 2000 + i));
	ASSERT_EQ(0, dm_post_rx(&m, 0, 256));
	ASSERT_EQ(0, vmq_vhost_set_backend(m.fd, 0, m.tap.fd[0]));
	while (pos < 320 && spins < WAIT_MS) {
		r = dm_rx_one(&m, 0, &flow, &seq);
		if (!r) {
			usleep(1000);
			spins++;
			continue;
		}
		ASSERT_EQ(1, r) TH_LOG("damaged frame at %u", pos);
		if (flow == f[1]) {
			EXPECT_EQ(2000 + n1, seq) TH_LOG("out of order");
			n1++;
			if (first == ~0U)
				first = pos;
			last = pos;
		} else {
			EXPECT_EQ(f[0], flow);
		}
		pos++;
	}
	TH_LOG("queue 1's frames arrived at positions %u..%u of %u", first, last, pos);
	EXPECT_EQ(320, pos);
	EXPECT_EQ(20, n1);
	EXPECT_GE(32, first);
	EXPECT_GT(64, last);
	EXPECT_EQ(20, dm_stats(&m, 0).folded);
	dm_stop(&m);
}

TEST_HARNESS_MAIN
