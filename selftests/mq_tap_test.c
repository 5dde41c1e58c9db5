// SPDX-License-Identifier: GPL-2.0
/*
 * mq_tap_test.c - each queue fd of an IFF_MULTI_QUEUE tap as the backend
 * of its own vhost fd, as QEMU runs queues=N: every fd's tx reaches the
 * tap, and every frame the tap spreads over its queues reaches a guest
 * ring exactly once. Run on /dev/vhost-net and /dev/vhost-mq alike.
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

#define MAX_QUEUES	8
#define FRAMES	64
#define HDR	12

struct pair {
	int fd;
	struct vmq_gpair gp;
};

static int pair_open(struct pair *p, const char *path, int tapfd)
{
	uint64_t features = (1ULL << VIRTIO_F_VERSION_1) |
			    (1ULL << VIRTIO_NET_F_MRG_RXBUF) |
			    (1ULL << VIRTIO_RING_F_EVENT_IDX);

	p->fd = open(path, O_RDWR | O_CLOEXEC);
	if (p->fd < 0)
		return -errno;
	return vmq_gpair_start(&p->gp, p->fd, features, 8 << 20,
			       0x80000000ULL, 256, tapfd);
}

static void queues_each_carry_traffic(struct __test_metadata *_metadata,
				      const char *path, int nq)
{
	static unsigned char frame[300], got[400];
	struct pair pairs[MAX_QUEUES];
	char worker[32];
	struct vmq_gbuf buf;
	struct vmq_tap tap;
	int q, i, seen[FRAMES] = { 0 }, total = 0;
	unsigned int flow;
	unsigned char *p;
	uint32_t len, seq;

	vmq_kmsg_mark(_metadata->name, path);
	ASSERT_EQ(0, vmq_netns_enter());
	ASSERT_EQ(0, vmq_tap_open(&tap, "vmq0", nq, HDR, 0));
	for (q = 0; q < nq; q++)
		ASSERT_EQ(0, pair_open(&pairs[q], path, tap.fd[q]))
			TH_LOG("queue %d", q);

	/* one worker thread per fd */
	snprintf(worker, sizeof(worker),
		 strcmp(path, VHOST_MQ_PATH) ? "vhost-%d" : "vhost-mq-%d-0",
		 getpid());
	EXPECT_EQ(nq, vmq_count_tasks_named(worker));
	if (!strcmp(path, VHOST_MQ_PATH)) {
		int tids[MAX_QUEUES], k;

		for (q = 0; q < nq; q++) {
			struct vhost_mq_worker w = { 0 };

			ASSERT_EQ(0, ioctl(pairs[q].fd, VHOST_MQ_GET_WORKER, &w));
			tids[q] = w.tid;
			for (k = 0; k < q; k++)
				EXPECT_NE(tids[k], tids[q]);
		}
	}

	/* tx from every pair reaches the tap */
	for (q = 0; q < nq; q++) {
		vmq_frame_fill(frame, sizeof(frame), 100 + q);
		p = vmq_guest_alloc(&pairs[q].gp.g, HDR + sizeof(frame), 8);
		memcpy(p + HDR, frame, sizeof(frame));
		buf = (struct vmq_gbuf){ p, HDR + sizeof(frame) };
		ASSERT_EQ(0, vmq_gvq_add(&pairs[q].gp.tx, &buf, 1, 0, p, false));
		vmq_gvq_kick(&pairs[q].gp.tx);
		ASSERT_EQ((ssize_t)sizeof(frame),
			  vmq_pkt_recv(tap.pkt, got, sizeof(got), 5000))
			TH_LOG("queue %d", q);
		EXPECT_EQ(0, memcmp(frame, got, sizeof(frame)));
	}

	/* rx: frames of many flows, spread by the tap, each arrives once */
	for (q = 0; q < nq; q++) {
		for (i = 0; i < FRAMES; i++) {
			p = vmq_guest_alloc(&pairs[q].gp.g, 2048, 8);
			buf = (struct vmq_gbuf){ p, 2048 };
			ASSERT_EQ(0, vmq_gvq_add(&pairs[q].gp.rx, &buf, 0, 1, p,
						 false));
		}
		vmq_gvq_kick(&pairs[q].gp.rx);
	}
	for (i = 0; i < FRAMES; i++)
		ASSERT_EQ(0, vmq_udp_send(tap.pkt, tap.ifindex, i, i,
					  sizeof(frame)));
	usleep(300000);
	for (q = 0; q < nq; q++) {
		while ((p = vmq_gvq_get_wait(&pairs[q].gp.rx, &len, 200))) {
			ASSERT_EQ(HDR + sizeof(frame), len);
			ASSERT_TRUE(vmq_udp_frame_ok(p + HDR, len - HDR,
						     &flow, &seq));
			ASSERT_LT(seq, FRAMES);
			EXPECT_EQ(seq, flow);
			seen[seq]++;
			total++;
		}
	}
	EXPECT_EQ(FRAMES, total);
	for (i = 0; i < FRAMES; i++)
		EXPECT_EQ(1, seen[i]) TH_LOG("frame %d", i);
	for (q = 0; q < nq; q++) {
		close(pairs[q].fd);
		vmq_gpair_destroy(&pairs[q].gp);
	}
	vmq_tap_close(&tap);
}

#define MQ_TAP_TEST(dev, path, n)					\
	TEST(dev##_##n##_fds_over_a_##n##_queue_tap)			\
	{								\
		queues_each_carry_traffic(_metadata, path, n);		\
	}

MQ_TAP_TEST(vhost_net, VHOST_NET_PATH, 1)
MQ_TAP_TEST(vhost_mq, VHOST_MQ_PATH, 1)
MQ_TAP_TEST(vhost_net, VHOST_NET_PATH, 2)
MQ_TAP_TEST(vhost_mq, VHOST_MQ_PATH, 2)
MQ_TAP_TEST(vhost_net, VHOST_NET_PATH, 4)
MQ_TAP_TEST(vhost_mq, VHOST_MQ_PATH, 4)
MQ_TAP_TEST(vhost_net, VHOST_NET_PATH, 8)
MQ_TAP_TEST(vhost_mq, VHOST_MQ_PATH, 8)

TEST_HARNESS_MAIN
