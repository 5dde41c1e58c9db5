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
#define FRAME_LEN	300

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

/* Post FRAMES rx buffers on each of @nq pairs and kick. */
static void post_rx(struct __test_metadata *_metadata, struct pair *pairs,
		    int nq)
{
	struct vmq_gbuf buf;
	unsigned char *p;
	int q, i;

	for (q = 0; q < nq; q++) {
		for (i = 0; i < FRAMES; i++) {
			p = vmq_guest_alloc(&pairs[q].gp.g, 2048, 8);
			buf = (struct vmq_gbuf){ p, 2048 };
			ASSERT_EQ(0, vmq_gvq_add(&pairs[q].gp.rx, &buf, 0, 1, p,
						 false));
		}
		vmq_gvq_kick(&pairs[q].gp.rx);
	}
}

/*
 * Frames of FRAMES flows into the tap, which spreads them over its queues:
 * each reaches a guest ring exactly once. @per_queue gets how many each
 * pair's ring took.
 */
static void rx_spread(struct __test_metadata *_metadata, struct vmq_tap *tap,
		      struct pair *pairs, int nq, int *per_queue)
{
	int q, i, seen[FRAMES] = { 0 }, total = 0;
	unsigned char *p;
	unsigned int flow;
	uint32_t len, seq;

	for (i = 0; i < FRAMES; i++)
		ASSERT_EQ(0, vmq_udp_send(tap->pkt, tap->ifindex, i, i,
					  FRAME_LEN));
	usleep(300000);
	for (q = 0; q < nq; q++) {
		per_queue[q] = 0;
		while ((p = vmq_gvq_get_wait(&pairs[q].gp.rx, &len, 200))) {
			ASSERT_EQ(HDR + FRAME_LEN, len);
			ASSERT_TRUE(vmq_udp_frame_ok(p + HDR, len - HDR,
						     &flow, &seq));
			ASSERT_LT(seq, FRAMES);
			EXPECT_EQ(seq, flow);
			seen[seq]++;
			per_queue[q]++;
			total++;
		}
	}
	EXPECT_EQ(FRAMES, total);
	for (i = 0; i < FRAMES; i++)
		EXPECT_EQ(1, seen[i]) TH_LOG("frame %d", i);
}

static void queues_each_carry_traffic(struct __test_metadata *_metadata,
				      const char *path, int nq)
{
	static unsigned char frame[FRAME_LEN], got[400];
	int q, got_per_queue[MAX_QUEUES];
	struct pair pairs[MAX_QUEUES];
	char worker[32];
	struct vmq_gbuf buf;
	struct vmq_tap tap;
	unsigned char *p;

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
	post_rx(_metadata, pairs, nq);
	rx_spread(_metadata, &tap, pairs, nq, got_per_queue);
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

/*
 * QEMU detaches the tap queues of the pairs a guest does not use
 * (TUNSETQUEUE) and attaches them again when it asks for more: a queue
 * whose rx ring was kicked (its handler run) while it was detached wakes
 * its worker again once attached, and the frames the tap spreads over both
 * queues each reach a guest ring once.
 */
static void rx_after_detach(struct __test_metadata *_metadata,
			    const char *path)
{
	struct ifreq detach = { .ifr_flags = IFF_DETACH_QUEUE };
	struct ifreq attach = { .ifr_flags = IFF_ATTACH_QUEUE };
	int q, got_per_queue[2];
	struct pair pairs[2];
	struct vmq_tap tap;

	vmq_kmsg_mark(_metadata->name, path);
	ASSERT_EQ(0, vmq_netns_enter());
	ASSERT_EQ(0, vmq_tap_open(&tap, "vmq0", 2, HDR, 0));
	for (q = 0; q < 2; q++)
		ASSERT_EQ(0, pair_open(&pairs[q], path, tap.fd[q]));
	ASSERT_EQ(0, ioctl(tap.fd[1], TUNSETQUEUE, &detach));
	/* the kicks run both rx handlers, queue 1's while it is detached */
	post_rx(_metadata, pairs, 2);
	usleep(200000);
	ASSERT_EQ(0, ioctl(tap.fd[1], TUNSETQUEUE, &attach));
	rx_spread(_metadata, &tap, pairs, 2, got_per_queue);
	/* 64 flows over 2 queues: both take some (all on one: 2^-63) */
	EXPECT_LT(0, got_per_queue[0]);
	EXPECT_LT(0, got_per_queue[1]);
	for (q = 0; q < 2; q++) {
		close(pairs[q].fd);
		vmq_gpair_destroy(&pairs[q].gp);
	}
	vmq_tap_close(&tap);
}

TEST(vhost_mq_rx_after_a_queue_is_detached_and_attached_again)
{
	rx_after_detach(_metadata, VHOST_MQ_PATH);
}

TEST(vhost_net_rx_after_a_queue_is_detached_and_attached_again)
{
	rx_after_detach(_metadata, VHOST_NET_PATH);
}

TEST_HARNESS_MAIN
