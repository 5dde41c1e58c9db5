// SPDX-License-Identifier: GPL-2.0
/*
 * vdpa_test.c - /dev/vhost-mq in vhost-vdpa mode (VHOST_MQ_SET_VDPA): the
 * device-mode core driven through Linux 6.1's vhost-vdpa uAPI, as QEMU
 * 7.2 drives -netdev vhost-vdpa. The userspace guest plays QEMU and the
 * guest: status, features, vrings, the IOTLB batch, DRIVER_OK; traffic on
 * every pair and the kernel's control vq; resets under traffic; status
 * and ioctl errors with vhost-vdpa's errnos. /dev/vhost-mq only.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "vmq_dm.h"
#include "kselftest_harness.h"
#include "vmq_dm_checks.h"

#define F_VDPA		(F_BASE | F_MQ | (1ULL << VIRTIO_F_ACCESS_PLATFORM))
#define NFLOWS		32
#define S_ACK_DRIVER	(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER)

static int vdpa_get_status(int fd)
{
	uint8_t s;

	return ioctl(fd, VHOST_VDPA_GET_STATUS, &s) ? -errno : s;
}

/* errno of SET_STATUS @s, 0 if it was taken */
static int vdpa_set_status(int fd, uint8_t s)
{
	return ioctl(fd, VHOST_VDPA_SET_STATUS, &s) ? errno : 0;
}

static int vdpa_reset(int fd)
{
	return vdpa_set_status(fd, 0);
}

/* errno of an ioctl, 0 if it succeeded */
static int err_of(int r)
{
	return r ? errno : 0;
}

static int set_vdpa(int fd, struct vhost_mq_vdpa *a)
{
	return err_of(ioctl(fd, VHOST_MQ_SET_VDPA, a));
}

/* Frames of pair @k's tx ring @first..@first+@n-1, all sent and kicked. */
static int tx_burst(struct dm *m, unsigned int k, uint32_t first,
		    unsigned int n)
{
	unsigned int i;
	int r = 0;

	for (i = 0; i < n && !r; i++)
		r = dm_tx(m, k, first + i);
	return r;
}

/* Collect @n tx frames of seq first..first+n-1 from the tap, each once. */
static unsigned int tx_collect(struct dm *m, uint32_t first, unsigned int n,
			       unsigned int *dups)
{
	unsigned char got[FRAME + 64], want[FRAME];
	unsigned int have = 0, i;
	char *seen = calloc(n, 1);
	ssize_t len;

	*dups = 0;
	while (seen && have < n) {
		len = vmq_pkt_recv(m->tap.pkt, got, sizeof(got), WAIT_MS);
		if (len < 0)
			break;
		if (len != FRAME)
			continue;
		for (i = 0; i < n; i++) {
			vmq_frame_fill(want, FRAME, first + i);
			if (memcmp(want, got, FRAME))
				continue;
			if (seen[i])
				(*dups)++;
			else
				have++;
			seen[i] = 1;
			break;
		}
	}
	free(seen);
	return have;
}

/* ---- a 4-pair device under the guest's control ------------------------ */

static void pairs_carry_traffic(struct __test_metadata *_metadata,
				unsigned int n, uint64_t extra)
{
	unsigned int flow, a = n > 1 ? n / 2 : 1;
	int ring[NFLOWS];
	struct vhost_mq_active act;
	struct dm m;

	vmq_kmsg_mark(_metadata->name, VHOST_MQ_PATH);
	ASSERT_EQ(0, dm_start_vdpa(&m, n, F_VDPA | extra, 256));
	EXPECT_EQ(!!extra, m.d.ctrl.packed && m.d.rx[n - 1].packed);
	EXPECT_EQ(S_ACK_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK |
		  VIRTIO_CONFIG_S_DRIVER_OK, vdpa_get_status(m.fd));

	/* one pair until the guest's command, as the spec says */
	act = dm_active(&m);
	EXPECT_EQ(n, act.pairs);
	EXPECT_EQ(1, act.active);
	ASSERT_EQ(VIRTIO_NET_OK, vmq_gctrl_set_pairs(&m.d, n, WAIT_MS));
	EXPECT_EQ(n, dm_active(&m).active);

	every_pair_moves_frames(_metadata, &m, NFLOWS, ring);
	if (n == 1)
		goto out;

	/* fewer pairs: inactive queues fold onto k % a, nothing is lost */
	ASSERT_EQ(VIRTIO_NET_OK, vmq_gctrl_set_pairs(&m.d, a, WAIT_MS));
	act = dm_active(&m);
	EXPECT_EQ(a, act.active);
	EXPECT_EQ(2, act.changes);
	flows_round(_metadata, &m, NFLOWS, 100, ring);
	for (flow = 0; flow < NFLOWS; flow++)
		EXPECT_GT(a, (unsigned int)ring[flow]) TH_LOG("flow %u", flow);
	EXPECT_LT(0, sum_rx(&m, true));
	/* a frame queued on an inactive pair's tx ring still goes out */
	ASSERT_EQ(0, dm_tx(&m, n - 1, 500));
	EXPECT_TRUE(tx_arrives(&m, 500, WAIT_MS)) TH_LOG("inactive pair held");
	/* and back up */
	ASSERT_EQ(VIRTIO_NET_OK, vmq_gctrl_set_pairs(&m.d, n, WAIT_MS));
	ASSERT_EQ(0, dm_tx(&m, n - 1, 501));
	EXPECT_TRUE(tx_arrives(&m, 501, WAIT_MS));
	/* the control vq answered every command, none rejected */
	EXPECT_EQ(3, dm_stats(&m, 2 * n).packets);
	EXPECT_EQ(0, dm_stats(&m, 2 * n).drops[VHOST_MQ_DROP_CTRL_REJECTED]);
out:
	dm_stop(&m);
}

TEST(one_pair_in_vdpa_mode)
{
	pairs_carry_traffic(_metadata, 1, 0);
}

TEST(four_pairs_in_vdpa_mode)
{
	pairs_carry_traffic(_metadata, 4, 0);
}

TEST(eight_pairs_in_vdpa_mode)
{
	pairs_carry_traffic(_metadata, 8, 0);
}

#define F_PACKED	(1ULL << VIRTIO_F_RING_PACKED)

TEST(four_pairs_in_vdpa_mode_on_packed_rings)
{
	pairs_carry_traffic(_metadata, 4, F_PACKED);
}

/* ---- control commands ------------------------------------------------- */

TEST(ctrl_commands_out_of_range_are_refused)
{
	uint8_t le[2];
	struct dm m;

	vmq_kmsg_mark(_metadata->name, VHOST_MQ_PATH);
	ASSERT_EQ(0, dm_start_vdpa(&m, 4, F_VDPA, 64));
	ASSERT_EQ(VIRTIO_NET_OK, vmq_gctrl_set_pairs(&m.d, 3, WAIT_MS));
	EXPECT_EQ(VIRTIO_NET_ERR, vmq_gctrl_set_pairs(&m.d, 0, WAIT_MS));
	EXPECT_EQ(VIRTIO_NET_ERR, vmq_gctrl_set_pairs(&m.d, 5, WAIT_MS));
	EXPECT_EQ(VIRTIO_NET_ERR, vmq_gctrl_set_pairs(&m.d, 0xffff, WAIT_MS));
	le[0] = 1;
	le[1] = 0;
	/* a class nobody knows, and MQ's RSS command we do not offer */
	EXPECT_EQ(VIRTIO_NET_ERR, vmq_gctrl_cmd(&m.d, 0x7f, 0, le, 2, WAIT_MS));
	EXPECT_EQ(VIRTIO_NET_ERR,
		  vmq_gctrl_cmd(&m.d, VIRTIO_NET_CTRL_MQ,
				VIRTIO_NET_CTRL_MQ_RSS_CONFIG, le, 2, WAIT_MS));
	EXPECT_EQ(3, dm_active(&m).active);
	EXPECT_EQ(1, dm_active(&m).changes);
	EXPECT_EQ(6, dm_stats(&m, 8).packets);
	EXPECT_EQ(5, dm_stats(&m, 8).drops[VHOST_MQ_DROP_CTRL_REJECTED]);
	EXPECT_EQ(0, dm_stats(&m, 8).errors);
	dm_stop(&m);
}

/* Without MQ the control vq is vring 2, and still answers in the kernel. */
TEST(without_mq_the_control_vq_is_vring_2)
{
	struct dm m;

	vmq_kmsg_mark(_metadata->name, VHOST_MQ_PATH);
	ASSERT_EQ(0, dm_start_vdpa(&m, 4, F_VDPA & ~(1ULL << VIRTIO_NET_F_MQ),
				   64));
	EXPECT_EQ(2, m.d.ctrl.index);
	/* VQ_PAIRS_SET needs MQ: refused, but answered */
	EXPECT_EQ(VIRTIO_NET_ERR, vmq_gctrl_set_pairs(&m.d, 2, WAIT_MS));
	EXPECT_EQ(1, dm_stats(&m, 8).packets);
	EXPECT_EQ(1, dm_active(&m).active);
	/* pair 0 carries traffic; pair 1's tx was never set up, nor attached */
	ASSERT_EQ(0, dm_tx(&m, 0, 9));
	EXPECT_TRUE(tx_arrives(&m, 9, WAIT_MS));
	EXPECT_FALSE(dm_pair(&m, 1).flags & VHOST_MQ_PAIR_TX_ATTACHED);
	dm_stop(&m);
}

/*
 * Without MQ the tap still spreads flows over its 4 queues: pair 0's ring
 * gets every frame of all of them, folded, and the VMM cannot make more
 * pairs active. A reset detaches the folding queues; the next DRIVER_OK
 * (with MQ now) serves every pair again.
 */
TEST(without_mq_every_tap_queue_reaches_pair_0)
{
	unsigned int flow, k, n = 4;
	int ring[NFLOWS];
	uint32_t two = 2;
	struct vhost_mq_pair p;
	struct dm m;

	vmq_kmsg_mark(_metadata->name, VHOST_MQ_PATH);
	ASSERT_EQ(0, dm_start_vdpa(&m, n, F_VDPA & ~(1ULL << VIRTIO_NET_F_MQ),
				   256));
	for (k = 1; k < n; k++) {
		p = dm_pair(&m, k);
		EXPECT_EQ(VHOST_MQ_PAIR_RX_ATTACHED, p.flags) TH_LOG("pair %u", k);
		EXPECT_EQ(0, p.target);
	}
	EXPECT_EQ(VHOST_MQ_PAIR_ACTIVE | VHOST_MQ_PAIR_RX_ATTACHED |
		  VHOST_MQ_PAIR_TX_ATTACHED, dm_pair(&m, 0).flags);
	ASSERT_EQ(0, dm_post_rx(&m, 0, 128));
	m.n = 1;	/* the guest has pair 0 alone */
	flows_round(_metadata, &m, NFLOWS, 0, ring);
	for (flow = 0; flow < NFLOWS; flow++)
		EXPECT_EQ(0, ring[flow]);
	/* the flows used more than one tap queue: those folded onto pair 0 */
	EXPECT_EQ(NFLOWS, dm_stats(&m, 0).packets);
	EXPECT_LT(0, dm_stats(&m, 0).folded);
	EXPECT_GT(NFLOWS, dm_stats(&m, 0).folded);
	for (k = 1; k < n; k++)
		EXPECT_EQ(0, dm_stats(&m, 2 * k).packets);
	EXPECT_EQ(EINVAL, err_of(ioctl(m.fd, VHOST_MQ_SET_ACTIVE, &two)));
	EXPECT_EQ(1, dm_active(&m).active);

	/* reset: nothing stays attached */
	ASSERT_EQ(0, vdpa_reset(m.fd));
	for (k = 0; k < n; k++)
		EXPECT_EQ(k ? 0 : VHOST_MQ_PAIR_ACTIVE, dm_pair(&m, k).flags)
			TH_LOG("pair %u", k);
	dm_stop(&m);

	/* a guest with MQ on the same queues: every pair its own */
	ASSERT_EQ(0, dm_start_vdpa(&m, n, F_VDPA, 256));
	ASSERT_EQ(VIRTIO_NET_OK, vmq_gctrl_set_pairs(&m.d, n, WAIT_MS));
	for (k = 0; k < n; k++)
		EXPECT_EQ(VHOST_MQ_PAIR_ACTIVE | VHOST_MQ_PAIR_RX_ATTACHED |
			  VHOST_MQ_PAIR_TX_ATTACHED, dm_pair(&m, k).flags);
	every_pair_moves_frames(_metadata, &m, NFLOWS, ring);
	dm_stop(&m);
}

#define W VRING_DESC_F_WRITE
#define R 0

/*
 * A chain without its header stops only the control vq, counted and
 * signalled; the VMM's reset with the base moved past it restarts it.
 */
TEST(malformed_ctrl_chain_stops_only_the_control_vq)
{
	struct raw_desc bad[2] = { { 0, 0, 1, R, -1 }, { 48, 0, 1, W, -1 } };
	struct vhost_vring_state base = { 8, 0 };
	struct vhost_mq_vring_stats s;
	struct dm m;

	vmq_kmsg_mark(_metadata->name, VHOST_MQ_PATH);
	ASSERT_EQ(0, dm_start_vdpa(&m, 4, F_VDPA, 64));
	ASSERT_EQ(VIRTIO_NET_OK, vmq_gctrl_set_pairs(&m.d, 2, WAIT_MS));
	raw_chain(&m.d, bad, 2, 3);
	EXPECT_TRUE(wait_eventfd(m.d.ctrl.err_fd, WAIT_MS));
	s = dm_stats(&m, 8);
	EXPECT_EQ(1, s.errors);
	EXPECT_EQ(1, s.chain_errors[VHOST_MQ_CHAIN_CTRL_NO_HEADER]);
	EXPECT_EQ(0xee, m.d.cmd[48]);
	EXPECT_EQ(2, dm_active(&m).active);
	/* the data pairs go on */
	ASSERT_EQ(0, dm_tx(&m, 1, 77));
	EXPECT_TRUE(tx_arrives(&m, 77, WAIT_MS));

	/* reset, skip the bad entry, start again as QEMU does */
	ASSERT_EQ(0, vmq_gdev_vdpa_stop(&m.d, m.fd));
	ASSERT_EQ(0, ioctl(m.fd, VHOST_GET_VRING_BASE, &base));
	EXPECT_EQ(1, base.num) TH_LOG("the bad chain was not taken");
	base.num = 2;
	ASSERT_EQ(0, ioctl(m.fd, VHOST_SET_VRING_BASE, &base));
	ASSERT_EQ(0, vmq_gdev_vdpa_run(&m.d, m.fd, F_VDPA));
	EXPECT_EQ(VIRTIO_NET_OK, vmq_gctrl_set_pairs(&m.d, 4, WAIT_MS));
	EXPECT_EQ(4, dm_active(&m).active);
	dm_stop(&m);
}

/* ---- reset under traffic ---------------------------------------------- */

/*
 * QEMU's stop/cont: reset with frames in flight, then the whole start
 * again. Every tx frame arrives exactly once, the guest's pairs stay, a
 * command answered before is not answered again, and rx goes on.
 */
static void reset_under_traffic(struct __test_metadata *_metadata,
				uint64_t extra)
{
	struct vhost_vring_state base = { 8, 0 };
	unsigned int dups, k;
	int ring[NFLOWS];
	struct dm m;

	vmq_kmsg_mark(_metadata->name, VHOST_MQ_PATH);
	ASSERT_EQ(0, dm_start_vdpa(&m, 4, F_VDPA | extra, 256));
	ASSERT_EQ(VIRTIO_NET_OK, vmq_gctrl_set_pairs(&m.d, 2, WAIT_MS));
	for (k = 0; k < 4; k++)
		ASSERT_EQ(0, dm_post_rx(&m, k, 64));

	ASSERT_EQ(0, tx_burst(&m, 0, 0, 40));
	ASSERT_EQ(0, tx_burst(&m, 1, 40, 40));
	ASSERT_EQ(0, vmq_gdev_vdpa_stop(&m.d, m.fd));
	EXPECT_EQ(0, vdpa_get_status(m.fd));
	EXPECT_FALSE(dm_pair(&m, 0).flags & VHOST_MQ_PAIR_TX_ATTACHED);
	/* the control vq's base survives the reset (QEMU reads it after) */
	ASSERT_EQ(0, ioctl(m.fd, VHOST_GET_VRING_BASE, &base));
	/*
	 * packed: avail and used positions with their wrap counters (bit
	 * 15); the command's three descriptors took three slots
	 */
	EXPECT_EQ(extra ? 0x80038003U : 1U, base.num);
	/* frames posted while stopped wait for the start */
	ASSERT_EQ(0, tx_burst(&m, 0, 80, 20));
	ASSERT_EQ(0, vmq_gdev_vdpa_run(&m.d, m.fd, F_VDPA | extra));
	EXPECT_EQ(100, tx_collect(&m, 0, 100, &dups));
	EXPECT_EQ(0, dups);
	EXPECT_EQ(60, dm_stats(&m, 1).packets);
	EXPECT_EQ(40, dm_stats(&m, 3).packets);

	/* the guest's choice holds, and was not replayed */
	EXPECT_EQ(2, dm_active(&m).active);
	EXPECT_EQ(1, dm_active(&m).changes);
	EXPECT_EQ(1, dm_stats(&m, 8).packets);
	EXPECT_EQ(0, dm_pair(&m, 2).target);
	/* rx after the restart: folded as before */
	flows_round(_metadata, &m, NFLOWS, 0, ring);
	for (k = 0; k < NFLOWS; k++)
		EXPECT_GT(2, ring[k]);
	EXPECT_EQ(VIRTIO_NET_OK, vmq_gctrl_set_pairs(&m.d, 4, WAIT_MS));

	/* the guest rebooting: a reset, and a guest that starts from 0 */
	ASSERT_EQ(0, vdpa_reset(m.fd));
	dm_stop(&m);
}

TEST(reset_under_traffic_keeps_every_frame_and_the_pairs)
{
	reset_under_traffic(_metadata, 0);
}

TEST(reset_under_traffic_on_packed_rings)
{
	reset_under_traffic(_metadata, F_PACKED);
}

/* ---- status ------------------------------------------------------------ */

FIXTURE(status) {
	struct dm m;
};

FIXTURE_SETUP(status)
{
	struct vhost_mq_vdpa a = { .pairs = 2 };

	vmq_kmsg_mark(_metadata->name, VHOST_MQ_PATH);
	ASSERT_EQ(0, dm_open(&self->m, 2));
	a.fds = (uintptr_t)self->m.tap.fd;
	ASSERT_EQ(0, set_vdpa(self->m.fd, &a));
}

FIXTURE_TEARDOWN(status)
{
	dm_stop(&self->m);
}

TEST_F(status, bits_are_only_added_until_a_reset)
{
	int fd = self->m.fd;

	EXPECT_EQ(0, vdpa_get_status(fd));
	EXPECT_EQ(0, vdpa_set_status(fd, VIRTIO_CONFIG_S_ACKNOWLEDGE));
	EXPECT_EQ(0, vdpa_set_status(fd, S_ACK_DRIVER));
	EXPECT_EQ(EINVAL, vdpa_set_status(fd, VIRTIO_CONFIG_S_DRIVER));
	EXPECT_EQ(EINVAL, vdpa_set_status(fd, VIRTIO_CONFIG_S_ACKNOWLEDGE));
	EXPECT_EQ(S_ACK_DRIVER, vdpa_get_status(fd));
	EXPECT_EQ(0, vdpa_reset(fd));
	EXPECT_EQ(0, vdpa_get_status(fd));
	EXPECT_EQ(EFAULT, err_of(ioctl(fd, VHOST_VDPA_SET_STATUS, NULL)));
	EXPECT_EQ(EFAULT, err_of(ioctl(fd, VHOST_VDPA_GET_STATUS, NULL)));
}

TEST_F(status, driver_ok_without_features_ok_needs_a_reset)
{
	int fd = self->m.fd;

	ASSERT_EQ(0, ioctl(fd, VHOST_SET_OWNER, NULL));
	EXPECT_EQ(0, vdpa_set_status(fd, S_ACK_DRIVER |
				     VIRTIO_CONFIG_S_DRIVER_OK));
	EXPECT_EQ(S_ACK_DRIVER | VIRTIO_CONFIG_S_DRIVER_OK |
		  VIRTIO_CONFIG_S_NEEDS_RESET, vdpa_get_status(fd));
	EXPECT_EQ(0, dm_pair(&self->m, 0).flags &
		  (VHOST_MQ_PAIR_RX_ATTACHED | VHOST_MQ_PAIR_TX_ATTACHED));
	EXPECT_EQ(0, vdpa_reset(fd));
	EXPECT_EQ(0, vdpa_get_status(fd));
}

TEST_F(status, driver_ok_without_an_owner_needs_a_reset)
{
	uint64_t f = F_VDPA;
	int fd = self->m.fd;

	EXPECT_EQ(0, vdpa_set_status(fd, S_ACK_DRIVER));
	ASSERT_EQ(0, ioctl(fd, VHOST_SET_FEATURES, &f));
	EXPECT_EQ(0, vmq_vdpa_status(fd, VIRTIO_CONFIG_S_FEATURES_OK));
	EXPECT_EQ(0, vdpa_set_status(fd, S_ACK_DRIVER |
				     VIRTIO_CONFIG_S_FEATURES_OK |
				     VIRTIO_CONFIG_S_DRIVER_OK));
	EXPECT_TRUE(vdpa_get_status(fd) & VIRTIO_CONFIG_S_NEEDS_RESET);
}

TEST_F(status, features_are_fixed_by_features_ok)
{
	uint64_t f = F_VDPA, mq = 1ULL << VIRTIO_NET_F_MQ | 1ULL << 32;
	uint64_t alien = 1ULL << VIRTIO_NET_F_CTRL_RX | 1ULL << 32;
	uint64_t legacy = F_MQ;
	int fd = self->m.fd;

	EXPECT_EQ(EINVAL, err_of(ioctl(fd, VHOST_SET_FEATURES, &alien)));
	EXPECT_EQ(EINVAL, err_of(ioctl(fd, VHOST_SET_FEATURES, &mq)));
	EXPECT_EQ(EFAULT, err_of(ioctl(fd, VHOST_SET_FEATURES, NULL)));
	/* without VERSION_1 the device does not keep FEATURES_OK */
	ASSERT_EQ(0, ioctl(fd, VHOST_SET_FEATURES, &legacy));
	EXPECT_EQ(-EIO, vmq_vdpa_status(fd, VIRTIO_CONFIG_S_FEATURES_OK));
	ASSERT_EQ(0, ioctl(fd, VHOST_SET_FEATURES, &f));
	EXPECT_EQ(0, vmq_vdpa_status(fd, VIRTIO_CONFIG_S_FEATURES_OK));
	EXPECT_EQ(EBUSY, err_of(ioctl(fd, VHOST_SET_FEATURES, &f)));
	EXPECT_EQ(0, vdpa_reset(fd));
	EXPECT_EQ(0, err_of(ioctl(fd, VHOST_SET_FEATURES, &f)));
}

/* ---- what the device says about itself --------------------------------- */

TEST_F(status, config_space_and_device_facts)
{
	struct {
		struct vhost_vdpa_config hdr;
		uint8_t buf[32];
	} c = { .hdr = { 0, 24 } };
	struct virtio_net_config nc;
	struct vhost_vdpa_iova_range range;
	uint64_t f, bf;
	uint32_t u;
	uint16_t num;
	int fd = self->m.fd;

	ASSERT_EQ(0, ioctl(fd, VHOST_VDPA_GET_DEVICE_ID, &u));
	EXPECT_EQ(1, u);
	ASSERT_EQ(0, ioctl(fd, VHOST_VDPA_GET_CONFIG_SIZE, &u));
	EXPECT_EQ(24, u);
	ASSERT_EQ(0, ioctl(fd, VHOST_VDPA_GET_VQS_COUNT, &u));
	EXPECT_EQ(5, u);
	ASSERT_EQ(0, ioctl(fd, VHOST_VDPA_GET_GROUP_NUM, &u));
	EXPECT_EQ(1, u);
	ASSERT_EQ(0, ioctl(fd, VHOST_VDPA_GET_AS_NUM, &u));
	EXPECT_EQ(1, u);
	ASSERT_EQ(0, ioctl(fd, VHOST_VDPA_GET_VRING_NUM, &num));
	EXPECT_EQ(1024, num);
	ASSERT_EQ(0, ioctl(fd, VHOST_VDPA_GET_IOVA_RANGE, &range));
	EXPECT_EQ(0, range.first);
	EXPECT_EQ(~0ULL, range.last);
	ASSERT_EQ(0, ioctl(fd, VHOST_GET_FEATURES, &f));
	EXPECT_EQ(F_VDPA, f & F_VDPA);
	EXPECT_TRUE(f & (1ULL << VIRTIO_NET_F_STATUS));
	EXPECT_TRUE(f & (1ULL << VIRTIO_NET_F_MAC));
	EXPECT_FALSE(f & (1ULL << VIRTIO_NET_F_MTU)) TH_LOG("no mtu given");
	EXPECT_TRUE(f & (1ULL << VIRTIO_NET_F_GUEST_CSUM));
	EXPECT_TRUE(f & (1ULL << VIRTIO_NET_F_GUEST_TSO4));
	EXPECT_FALSE(f & (1ULL << VIRTIO_NET_F_CTRL_GUEST_OFFLOADS));
	ASSERT_EQ(0, ioctl(fd, VHOST_GET_BACKEND_FEATURES, &bf));
	EXPECT_EQ((1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2) |
		  (1ULL << VHOST_BACKEND_F_IOTLB_BATCH), bf);

	/* the whole config, no owner needed */
	ASSERT_EQ(0, ioctl(fd, VHOST_VDPA_GET_CONFIG, &c));
	memcpy(&nc, c.buf, sizeof(nc));
	EXPECT_EQ(0, memcmp(nc.mac, "\0\0\0\0\0\0", 6)) TH_LOG("no mac given");
	EXPECT_EQ(VIRTIO_NET_S_LINK_UP, nc.status);
	EXPECT_EQ(2, nc.max_virtqueue_pairs);
	/* QEMU writes the mac at realize; the rest is not the driver's */
	c.hdr.off = 0;
	c.hdr.len = 10;
	memcpy(c.buf, dm_mac, 6);
	c.buf[6] = 0;
	c.buf[7] = 0;
	c.buf[8] = 9;
	c.buf[9] = 0;
	ASSERT_EQ(0, ioctl(fd, VHOST_VDPA_SET_CONFIG, &c));
	c.hdr.off = 0;
	c.hdr.len = 10;
	memset(c.buf, 0, sizeof(c.buf));
	ASSERT_EQ(0, ioctl(fd, VHOST_VDPA_GET_CONFIG, &c));
	EXPECT_EQ(0, memcmp(c.buf, dm_mac, 6));
	EXPECT_EQ(VIRTIO_NET_S_LINK_UP, c.buf[6]);
	EXPECT_EQ(2, c.buf[8]);
	/* max_virtqueue_pairs alone, as QEMU reads it first */
	c.hdr.off = 8;
	c.hdr.len = 2;
	ASSERT_EQ(0, ioctl(fd, VHOST_VDPA_GET_CONFIG, &c));
	EXPECT_EQ(2, c.buf[0] | c.buf[1] << 8);
}

TEST(mac_and_mtu_of_set_vdpa_are_in_config_space)
{
	struct {
		struct vhost_vdpa_config hdr;
		uint8_t buf[24];
	} c = { .hdr = { 0, 24 } };
	struct virtio_net_config nc;
	uint64_t f;
	struct dm m;

	vmq_kmsg_mark(_metadata->name, VHOST_MQ_PATH);
	/* vmq_gdev_start_vdpa gives dm_mac and an mtu of 1500 */
	ASSERT_EQ(0, dm_start_vdpa(&m, 2, F_VDPA, 64));
	ASSERT_EQ(0, ioctl(m.fd, VHOST_VDPA_GET_CONFIG, &c));
	memcpy(&nc, c.buf, sizeof(nc));
	EXPECT_EQ(0, memcmp(nc.mac, dm_mac, 6));
	EXPECT_EQ(1500, nc.mtu);
	ASSERT_EQ(0, ioctl(m.fd, VHOST_GET_FEATURES, &f));
	EXPECT_TRUE(f & (1ULL << VIRTIO_NET_F_MTU));
	dm_stop(&m);
}

/* ---- bad arguments, with vhost-vdpa's errnos ---------------------------- */

static int config_errno(int fd, unsigned long cmd, uint32_t off, uint32_t len)
{
	struct {
		struct vhost_vdpa_config hdr;
		uint8_t buf[64];
	} c = { .hdr = { off, len } };

	return err_of(ioctl(fd, cmd, &c));
}

TEST_F(status, bad_ioctl_arguments)
{
	struct vhost_vring_state s = { 0, 1 };
	struct vhost_vdpa_config *unmapped = (void *)16;
	uint64_t asid = 1ULL << VHOST_BACKEND_F_IOTLB_ASID;
	struct vhost_vdpa_config *ro;
	struct vhost_vring_file f = { 0, -1 };
	uint64_t base = 0;
	int fd = self->m.fd, i;
	pid_t pid;
	int st;

	unsigned long cfg[2] = { VHOST_VDPA_GET_CONFIG, VHOST_VDPA_SET_CONFIG };

	for (i = 0; i < 2; i++) {
		EXPECT_EQ(EINVAL, config_errno(fd, cfg[i], 0, 0));
		EXPECT_EQ(EINVAL, config_errno(fd, cfg[i], 25, 1));
		EXPECT_EQ(EINVAL, config_errno(fd, cfg[i], 20, 8));
		EXPECT_EQ(EINVAL, config_errno(fd, cfg[i], 0, 25));
		EXPECT_EQ(0, config_errno(fd, cfg[i], 23, 1));
		EXPECT_EQ(EFAULT, err_of(ioctl(fd, cfg[i], unmapped)));
	}
	/* a header we can read, a buffer we cannot reach */
	ro = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	ro->off = 0;
	ro->len = 24;
	ASSERT_EQ(0, mprotect(ro, 4096, PROT_READ));
	EXPECT_EQ(EFAULT, err_of(ioctl(fd, VHOST_VDPA_GET_CONFIG, ro)));
	munmap(ro, 4096);

	EXPECT_EQ(EOPNOTSUPP, err_of(ioctl(fd, VHOST_SET_BACKEND_FEATURES,
					   &asid)));
	EXPECT_EQ(EOPNOTSUPP, err_of(ioctl(fd, VHOST_VDPA_SUSPEND)));
	EXPECT_EQ(ENOTTY, err_of(ioctl(fd, VHOST_SET_LOG_BASE, &base)));
	EXPECT_EQ(ENOTTY, err_of(ioctl(fd, VHOST_SET_LOG_FD, &i)));

	/* vring ioctls need the owner, then a vring that exists */
	EXPECT_EQ(EPERM, err_of(ioctl(fd, VHOST_VDPA_SET_VRING_ENABLE, &s)));
	ASSERT_EQ(0, ioctl(fd, VHOST_SET_OWNER, NULL));
	EXPECT_EQ(EBUSY, err_of(ioctl(fd, VHOST_SET_OWNER, NULL)));
	s.index = 5;
	EXPECT_EQ(ENOBUFS, err_of(ioctl(fd, VHOST_VDPA_SET_VRING_ENABLE, &s)));
	EXPECT_EQ(ENOBUFS, err_of(ioctl(fd, VHOST_GET_VRING_BASE, &s)));
	s.index = 4;
	EXPECT_EQ(0, err_of(ioctl(fd, VHOST_VDPA_SET_VRING_ENABLE, &s)));
	EXPECT_EQ(0, err_of(ioctl(fd, VHOST_VDPA_GET_VRING_GROUP, &s)));
	EXPECT_EQ(4, s.index);
	EXPECT_EQ(0, s.num);
	s.index = 0;
	s.num = 1;
	EXPECT_EQ(EINVAL, err_of(ioctl(fd, VHOST_VDPA_SET_GROUP_ASID, &s)));
	s.index = 1;
	s.num = 0;
	EXPECT_EQ(EINVAL, err_of(ioctl(fd, VHOST_VDPA_SET_GROUP_ASID, &s)));
	EXPECT_EQ(EFAULT, err_of(ioctl(fd, VHOST_VDPA_SET_VRING_ENABLE, NULL)));
	/* vhost-net's backend ioctl means nothing here */
	EXPECT_EQ(ENOTTY, err_of(ioctl(fd, VHOST_NET_SET_BACKEND, &f)));
	/* our own pair count is fixed by SET_VDPA */
	i = 2;
	EXPECT_EQ(EBUSY, err_of(ioctl(fd, VHOST_MQ_SET_PAIRS, &i)));

	/* another process is not the owner: EPERM, and the IOTLB EFAULT */
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct vhost_msg_v2 msg = {
			.type = VHOST_IOTLB_MSG_V2,
			.iotlb = { .iova = 0, .size = 4096, .uaddr = 4096,
				   .perm = VHOST_ACCESS_RW,
				   .type = VHOST_IOTLB_UPDATE },
		};
		int bad = 0;

		s.index = 0;
		bad |= err_of(ioctl(fd, VHOST_GET_VRING_BASE, &s)) != EPERM;
		bad |= (write(fd, &msg, sizeof(msg)) != -1 || errno != EFAULT)
		       << 1;
		/* what needs no owner still answers */
		bad |= err_of(ioctl(fd, VHOST_VDPA_GET_DEVICE_ID, &i)) << 2;
		_exit(bad);
	}
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_EQ(0, WEXITSTATUS(st));
}

TEST_F(status, iotlb_updates_that_overlap_are_refused)
{
	void *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t ua = (uintptr_t)p;
	int fd = self->m.fd;

	ASSERT_NE(MAP_FAILED, p);
	/* the owner's only */
	EXPECT_EQ(-EFAULT, vmq_vhost_iotlb(fd, VHOST_IOTLB_UPDATE, 0x10000,
					   4096, ua, VHOST_ACCESS_RW));
	ASSERT_EQ(0, ioctl(fd, VHOST_SET_OWNER, NULL));
	/* batches need no backend feature here */
	EXPECT_EQ(0, vmq_vhost_iotlb(fd, VHOST_IOTLB_BATCH_BEGIN, 0, 0, 0, 0));
	EXPECT_EQ(0, vmq_vhost_iotlb(fd, VHOST_IOTLB_UPDATE, 0x10000, 4096,
				     ua, VHOST_ACCESS_RW));
	EXPECT_EQ(-EFAULT, vmq_vhost_iotlb(fd, VHOST_IOTLB_UPDATE, 0x10800,
					   4096, ua, VHOST_ACCESS_RW));
	EXPECT_EQ(-EFAULT, vmq_vhost_iotlb(fd, VHOST_IOTLB_UPDATE, 0x10000,
					   4096, ua, VHOST_ACCESS_RW));
	EXPECT_EQ(0, vmq_vhost_iotlb(fd, VHOST_IOTLB_UPDATE, 0x11000, 4096,
				     ua + 4096, VHOST_ACCESS_RW));
	EXPECT_EQ(0, vmq_vhost_iotlb(fd, VHOST_IOTLB_BATCH_END, 0, 0, 0, 0));
	/* invalidated, the range may be mapped again */
	EXPECT_EQ(0, vmq_vhost_iotlb(fd, VHOST_IOTLB_INVALIDATE, 0x10000, 4096,
				     0, 0));
	EXPECT_EQ(0, vmq_vhost_iotlb(fd, VHOST_IOTLB_UPDATE, 0x10000, 4096,
				     ua, VHOST_ACCESS_RW));
	munmap(p, 8192);
}

/* ---- VHOST_MQ_SET_VDPA itself ------------------------------------------ */

TEST(set_vdpa_rules)
{
	struct vhost_mq_vdpa a = { .pairs = 2 };
	int null_fds[2], bad_fds[2] = { -1, -1 };
	uint32_t n = 2;
	struct dm m;
	int fd;

	vmq_kmsg_mark(_metadata->name, VHOST_MQ_PATH);
	ASSERT_EQ(0, dm_open(&m, 2));
	fd = m.fd;
	a.fds = (uintptr_t)m.tap.fd;
	a.pairs = 0;
	EXPECT_EQ(EINVAL, set_vdpa(fd, &a));
	a.pairs = 17;	/* max_queue_pairs is 16 */
	EXPECT_EQ(EINVAL, set_vdpa(fd, &a));
	a.pairs = 2;
	a.flags = 1;
	EXPECT_EQ(EINVAL, set_vdpa(fd, &a));
	a.flags = 0;
	a.padding = 1;
	EXPECT_EQ(EINVAL, set_vdpa(fd, &a));
	a.padding = 0;
	EXPECT_EQ(EFAULT, err_of(ioctl(fd, VHOST_MQ_SET_VDPA, NULL)));
	a.fds = 16;
	EXPECT_EQ(EFAULT, set_vdpa(fd, &a));
	a.fds = (uintptr_t)bad_fds;
	EXPECT_EQ(EBADF, set_vdpa(fd, &a));
	null_fds[0] = m.tap.fd[0];
	null_fds[1] = open("/dev/null", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, null_fds[1]);
	a.fds = (uintptr_t)null_fds;
	EXPECT_EQ(ENOTSOCK, set_vdpa(fd, &a));
	close(null_fds[1]);
	/* after every failure the fd is as fresh: still vhost-net's */
	EXPECT_EQ(EPERM, err_of(ioctl(fd, VHOST_GET_VRING_BASE, &n)));
	a.fds = (uintptr_t)m.tap.fd;
	EXPECT_EQ(0, set_vdpa(fd, &a));
	EXPECT_EQ(EBUSY, set_vdpa(fd, &a));
	EXPECT_EQ(EBUSY, err_of(ioctl(fd, VHOST_MQ_SET_PAIRS, &n)));
	dm_stop(&m);

	/* a device-mode or owned fd is past choosing, whatever it asks */
	fd = open(VHOST_MQ_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioctl(fd, VHOST_MQ_SET_PAIRS, &n));
	a.fds = (uintptr_t)bad_fds;
	EXPECT_EQ(EBUSY, set_vdpa(fd, &a));
	close(fd);
	fd = open(VHOST_MQ_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioctl(fd, VHOST_SET_OWNER, NULL));
	EXPECT_EQ(EBUSY, set_vdpa(fd, &a));
	close(fd);
}

/* Closing the fd lets go of every tap queue, worker and module reference. */
TEST(release_leaves_nothing_behind)
{
	int base = vmq_module_refcnt("vhost_mq"), k;
	char name[32];
	struct dm m;

	vmq_kmsg_mark(_metadata->name, VHOST_MQ_PATH);
	ASSERT_EQ(0, dm_start_vdpa(&m, 4, F_VDPA, 64));
	ASSERT_EQ(VIRTIO_NET_OK, vmq_gctrl_set_pairs(&m.d, 4, WAIT_MS));
	ASSERT_EQ(0, dm_tx(&m, 3, 3));
	EXPECT_TRUE(tx_arrives(&m, 3, WAIT_MS));
	EXPECT_EQ(base + 1, vmq_module_refcnt("vhost_mq"));
	snprintf(name, sizeof(name), "vhost-mq-%d-0", getpid());
	EXPECT_EQ(1, vmq_count_tasks_named(name));
	close(m.fd);
	m.fd = -1;
	EXPECT_EQ(base, vmq_module_refcnt("vhost_mq"));
	EXPECT_EQ(0, vmq_wait_tasks_named(name, 0, WAIT_MS));
	/* ours were the only references: the tap goes with the test's fds */
	for (k = 0; k < 4; k++) {
		close(m.tap.fd[k]);
		m.tap.fd[k] = -1;
	}
	close(m.tap.pkt);
	m.tap.pkt = -1;
	EXPECT_GT(0, vmq_if_index("vmq0"));
	vmq_gdev_destroy(&m.d);
}

TEST_HARNESS_MAIN
