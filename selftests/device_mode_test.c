// SPDX-License-Identifier: GPL-2.0
/*
 * device_mode_test.c - VHOST_MQ_SET_PAIRS: one /dev/vhost-mq fd serving
 * N queue pairs (vrings 2k/2k+1), each on its own queue of a multiqueue
 * tap and its own worker; and the ioctl's rules. vhost-net has no device
 * mode, so this runs on /dev/vhost-mq only.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <linux/vhost.h>
#include <linux/vhost_mq.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>

#include "guest.h"
#include "vmq_net.h"
#include "vmq_test.h"
#include "kselftest_harness.h"

#define HDR		12
#define MAX_PAIRS	8

static int set_pairs(int fd, uint32_t n)
{
	return ioctl(fd, VHOST_MQ_SET_PAIRS, &n) ? errno : 0;
}

static void pairs_carry_traffic(struct __test_metadata *_metadata,
				unsigned int n)
{
	uint64_t features = (1ULL << VIRTIO_F_VERSION_1) |
			    (1ULL << VIRTIO_NET_F_MRG_RXBUF) |
			    (1ULL << VIRTIO_RING_F_EVENT_IDX);
	struct vmq_gvq rx[MAX_PAIRS], tx[MAX_PAIRS];
	unsigned char frame[400], got[500], *p;
	int fd, tids[MAX_PAIRS];
	struct vmq_gbuf buf;
	struct vmq_guest g;
	struct vmq_tap tap;
	unsigned int k, j;
	char name[32];
	uint32_t len;

	vmq_kmsg_mark(_metadata->name, VHOST_MQ_PATH);
	ASSERT_EQ(0, vmq_netns_enter());
	ASSERT_EQ(0, vmq_tap_open(&tap, "vmq0", n, HDR, 0));
	fd = open(VHOST_MQ_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, set_pairs(fd, n));
	ASSERT_EQ(0, ioctl(fd, VHOST_SET_OWNER, NULL));
	ASSERT_EQ(0, ioctl(fd, VHOST_SET_FEATURES, &features));
	ASSERT_EQ(0, vmq_guest_init(&g, 16 << 20, 0x80000000ULL));
	for (k = 0; k < n; k++) {
		ASSERT_EQ(0, vmq_gvq_init(&rx[k], &g, 2 * k, 64, true));
		ASSERT_EQ(0, vmq_gvq_init(&tx[k], &g, 2 * k + 1, 64, true));
	}
	ASSERT_EQ(0, vmq_vhost_set_mem(fd, &g));
	for (k = 0; k < n; k++) {
		ASSERT_EQ(0, vmq_vhost_setup_vq(fd, &rx[k]));
		ASSERT_EQ(0, vmq_vhost_setup_vq(fd, &tx[k]));
		ASSERT_EQ(0, vmq_vhost_set_backend(fd, 2 * k, tap.fd[k]));
		ASSERT_EQ(0, vmq_vhost_set_backend(fd, 2 * k + 1, tap.fd[k]));
	}
	/* one more vring than the pairs have: none */
	EXPECT_EQ(-ENOBUFS, vmq_vhost_set_backend(fd, 2 * n, tap.fd[0]));

	/* a worker per pair, named for it, each a thread of its own */
	for (k = 0; k < n; k++) {
		struct vhost_mq_worker w = { .pair = k };

		ASSERT_EQ(0, ioctl(fd, VHOST_MQ_GET_WORKER, &w));
		tids[k] = w.tid;
		for (j = 0; j < k; j++)
			EXPECT_NE(tids[j], tids[k]);
		snprintf(name, sizeof(name), "vhost-mq-%d-%u", getpid(), k);
		EXPECT_EQ(1, vmq_count_tasks_named(name)) TH_LOG("%s", name);
	}

	/* tx on every pair reaches the tap; rx on every pair is served */
	for (k = 0; k < n; k++) {
		vmq_frame_fill(frame, sizeof(frame), k);
		p = vmq_guest_alloc(&g, HDR + sizeof(frame), 8);
		memcpy(p + HDR, frame, sizeof(frame));
		buf = (struct vmq_gbuf){ p, HDR + sizeof(frame) };
		ASSERT_EQ(0, vmq_gvq_add(&tx[k], &buf, 1, 0, p, false));
		vmq_gvq_kick(&tx[k]);
		ASSERT_EQ((ssize_t)sizeof(frame),
			  vmq_pkt_recv(tap.pkt, got, sizeof(got), 5000))
			TH_LOG("pair %u", k);
		EXPECT_EQ(0, memcmp(frame, got, sizeof(frame)));
		EXPECT_EQ(p, vmq_gvq_get_wait(&tx[k], NULL, 5000));
	}
	for (k = 0; k < n; k++) {
		struct vhost_mq_vring_stats s = { .index = 2 * k + 1 };

		ASSERT_EQ(0, ioctl(fd, VHOST_MQ_GET_VRING_STATS, &s));
		EXPECT_EQ(1, s.packets) TH_LOG("pair %u", k);
	}
	/*
	 * rx: the tap picks the queue by flow; n frames of one flow land on
	 * one queue, whichever it is, and its pair delivers them all
	 */
	for (k = 0; k < n; k++) {
		for (j = 0; j < n; j++) {
			p = vmq_guest_alloc(&g, 2048, 8);
			buf = (struct vmq_gbuf){ p, 2048 };
			ASSERT_EQ(0, vmq_gvq_add(&rx[k], &buf, 0, 1, p, false));
		}
		vmq_gvq_kick(&rx[k]);
	}
	for (k = 0; k < n; k++) {
		vmq_frame_fill(frame, sizeof(frame), 50 + k);
		ASSERT_EQ((ssize_t)sizeof(frame),
			  vmq_pkt_send(tap.pkt, tap.ifindex, frame, sizeof(frame)));
	}
	usleep(300000);
	for (k = 0, j = 0; k < n; k++)
		while ((p = vmq_gvq_get_wait(&rx[k], &len, 100))) {
			EXPECT_EQ(HDR + sizeof(frame), len);
			j++;
		}
	EXPECT_EQ(n, j);
	close(fd);
	vmq_tap_close(&tap);
}

TEST(one_pair_in_device_mode)
{
	pairs_carry_traffic(_metadata, 1);
}

TEST(two_pairs_in_device_mode)
{
	pairs_carry_traffic(_metadata, 2);
}

TEST(four_pairs_in_device_mode)
{
	pairs_carry_traffic(_metadata, 4);
}

TEST(eight_pairs_in_device_mode)
{
	pairs_carry_traffic(_metadata, 8);
}

TEST(set_pairs_rules)
{
	uint64_t features = 1ULL << VIRTIO_F_VERSION_1;
	int fd;

	vmq_kmsg_mark(_metadata->name, VHOST_MQ_PATH);
	fd = open(VHOST_MQ_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(EINVAL, set_pairs(fd, 0));
	EXPECT_EQ(EINVAL, set_pairs(fd, 17));	/* max_queue_pairs is 16 */
	EXPECT_EQ(EINVAL, set_pairs(fd, 0xffffffff));
	EXPECT_EQ(EFAULT, ioctl(fd, VHOST_MQ_SET_PAIRS, NULL) ? errno : 0);
	/* features set before still hold; the mode may change until owned */
	ASSERT_EQ(0, ioctl(fd, VHOST_SET_FEATURES, &features));
	EXPECT_EQ(0, set_pairs(fd, 16));
	EXPECT_EQ(0, set_pairs(fd, 3));
	ASSERT_EQ(0, ioctl(fd, VHOST_SET_OWNER, NULL));
	EXPECT_EQ(EBUSY, set_pairs(fd, 2));
	{
		struct vhost_vring_state s = { 5, 256 };
		struct vhost_vring_state bad = { 6, 256 };

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

TEST_HARNESS_MAIN
