// SPDX-License-Identifier: GPL-2.0
/*
 * offload_test.c - vnet-header offloads pass through untouched: a TSO
 * frame with a partial checksum goes guest -> tap and tap -> guest as one
 * 20 KB frame whose header keeps its GSO type, size and checksum offsets.
 * Run on /dev/vhost-net and /dev/vhost-mq alike; and in vhost-vdpa mode,
 * where the device sets the tap's offloads from the guest's GUEST_* bits.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <linux/vhost.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>

#include "guest.h"
#include "vmq_net.h"
#include "vmq_test.h"
#include "kselftest_harness.h"

#define PAYLOAD		20000
#define FRAME		(14 + 20 + 20 + PAYLOAD)
#define HDR		((int)sizeof(struct virtio_net_hdr_mrg_rxbuf))

/* Ethernet + IPv4 + TCP, link-local addresses, payload from @seed. */
static void tcp_frame(unsigned char *f, unsigned int seed)
{
	static const unsigned char ip[] = {
		0x45, 0, (FRAME - 14) >> 8, (FRAME - 14) & 0xff, 0, 1, 0x40, 0,
		64, 6, 0, 0, 169, 254, 0, 1, 169, 254, 0, 2,
	};
	int i;

	memset(f, 0, 54);
	memset(f, 0xff, 6);
	f[6] = 0x02; f[11] = seed;
	f[12] = 0x08;			/* IPv4 */
	memcpy(f + 14, ip, sizeof(ip));
	f[34] = 0x30; f[35] = 0x39;	/* ports 12345 -> 80 */
	f[37] = 80;
	f[46] = 5 << 4;			/* data offset */
	f[47] = 0x18;			/* PSH ACK */
	f[48] = 0xff;			/* window */
	for (i = 54; i < FRAME; i++)
		f[i] = (unsigned char)(seed + i * 13);
}

static struct virtio_net_hdr tso_hdr(void)
{
	return (struct virtio_net_hdr){
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		.gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
		.hdr_len = 54,
		.gso_size = 1448,
		.csum_start = 34,
		.csum_offset = 16,
	};
}

/* The offload fields arrived as they were sent. */
static void expect_tso(struct __test_metadata *_metadata,
		       const struct virtio_net_hdr *h,
		       const struct virtio_net_hdr *want)
{
	EXPECT_EQ(want->gso_type, h->gso_type);
	EXPECT_EQ(want->gso_size, h->gso_size);
	EXPECT_EQ(want->csum_start, h->csum_start);
	EXPECT_EQ(want->csum_offset, h->csum_offset);
	EXPECT_TRUE(h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM);
}

static int raw_socket(int ifindex)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_IP),
		.sll_ifindex = ifindex,
	};
	int s, one = 1;

	s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_IP));
	if (s < 0)
		return -errno;
	if (setsockopt(s, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) ||
	    bind(s, (struct sockaddr *)&sll, sizeof(sll))) {
		close(s);
		return -errno;
	}
	return s;
}

static void tso_both_ways(struct __test_metadata *_metadata,
			  const char *path)
{
	uint64_t features = (1ULL << VIRTIO_F_VERSION_1) |
			    (1ULL << VIRTIO_NET_F_MRG_RXBUF) |
			    (1ULL << VIRTIO_RING_F_EVENT_IDX);
	static unsigned char frame[FRAME], got[FRAME + 64];
	struct virtio_net_hdr want = tso_hdr();
	struct vmq_gbuf buf;
	struct vmq_gpair gp;
	struct vmq_tap tap;
	unsigned char *p;
	uint32_t len;
	int fd, s;

	vmq_kmsg_mark(_metadata->name, path);
	ASSERT_EQ(0, vmq_netns_enter());
	ASSERT_EQ(0, vmq_tap_open(&tap, "vmq0", 1, HDR, 0));
	/* the tap may hand TSO frames to us unsegmented */
	ASSERT_EQ(0, ioctl(tap.fd[0], TUNSETOFFLOAD,
			   TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6));
	s = raw_socket(tap.ifindex);
	ASSERT_LE(0, s);

	fd = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, vmq_gpair_start(&gp, fd, features, 16 << 20,
				     0x80000000ULL, 64, tap.fd[0]));

	/* guest -> tap: header and frame arrive as they left */
	tcp_frame(frame, 1);
	p = vmq_guest_alloc(&gp.g, HDR + FRAME, 8);
	memcpy(p, &want, sizeof(want));
	memcpy(p + HDR, frame, FRAME);
	buf = (struct vmq_gbuf){ p, HDR + FRAME };
	ASSERT_EQ(0, vmq_gvq_add(&gp.tx, &buf, 1, 0, p, false));
	vmq_gvq_kick(&gp.tx);
	ASSERT_EQ((ssize_t)(sizeof(want) + FRAME),
		  vmq_pkt_recv(s, got, sizeof(got), 5000));
	expect_tso(_metadata, (struct virtio_net_hdr *)got, &want);
	EXPECT_EQ(0, memcmp(frame, got + sizeof(want), FRAME));

	/* tap -> guest: one 20 KB frame, offload header intact */
	p = vmq_guest_alloc(&gp.g, HDR + FRAME, 8);
	buf = (struct vmq_gbuf){ p, HDR + FRAME };
	ASSERT_EQ(0, vmq_gvq_add(&gp.rx, &buf, 0, 1, p, false));
	vmq_gvq_kick(&gp.rx);
	tcp_frame(frame, 2);
	memcpy(got, &want, sizeof(want));
	memcpy(got + sizeof(want), frame, FRAME);
	{
		struct sockaddr_ll sll = {
			.sll_family = AF_PACKET,
			.sll_protocol = htons(ETH_P_IP),
			.sll_ifindex = tap.ifindex,
		};

		ASSERT_EQ((ssize_t)(sizeof(want) + FRAME),
			  sendto(s, got, sizeof(want) + FRAME, 0,
				 (struct sockaddr *)&sll, sizeof(sll)));
	}
	ASSERT_EQ(p, vmq_gvq_get_wait(&gp.rx, &len, 5000));
	ASSERT_EQ(HDR + FRAME, len);
	expect_tso(_metadata, (struct virtio_net_hdr *)p, &want);
	EXPECT_EQ(0, memcmp(frame, p + HDR, FRAME));

	close(fd);
	vmq_gpair_destroy(&gp);
	close(s);
	vmq_tap_close(&tap);
}

/*
 * vhost-vdpa mode: the tap starts with no offloads (as vhost-mq-qemu
 * leaves it); a TSO frame reaches the guest whole if it negotiated
 * GUEST_CSUM and GUEST_TSO4, else cut into segments with full checksums.
 */
static void vdpa_rx_tso(struct __test_metadata *_metadata, bool guest_tso)
{
	static const uint8_t mac[6] = { 0x02, 0x56, 0x4d, 0x51, 0, 3 };
	uint64_t features = (1ULL << VIRTIO_F_VERSION_1) |
			    (1ULL << VIRTIO_NET_F_MRG_RXBUF) |
			    (1ULL << VIRTIO_F_ACCESS_PLATFORM) |
			    (guest_tso ? (1ULL << VIRTIO_NET_F_GUEST_CSUM) |
					 (1ULL << VIRTIO_NET_F_GUEST_TSO4) : 0);
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_protocol = htons(ETH_P_IP) };
	static unsigned char frame[FRAME], got[FRAME + 64];
	struct virtio_net_hdr want = tso_hdr(), *h;
	static struct vmq_gdev d;
	struct vmq_gbuf buf;
	struct vmq_tap tap;
	unsigned char *p;
	uint32_t len;
	int fd, s, i;

	vmq_kmsg_mark(_metadata->name, VHOST_MQ_PATH);
	ASSERT_EQ(0, vmq_netns_enter());
	ASSERT_EQ(0, vmq_tap_open(&tap, "vmq0", 1, HDR, 0));
	ASSERT_EQ(0, ioctl(tap.fd[0], TUNSETOFFLOAD, 0));
	s = raw_socket(tap.ifindex);
	ASSERT_LE(0, s);
	fd = open(VHOST_MQ_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, vmq_gdev_start_vdpa(&d, fd, 1, features, 16 << 20,
					 0x80000000ULL, 64, tap.fd, mac));
	for (i = 0; i < 32; i++) {
		p = vmq_guest_alloc(&d.g, HDR + FRAME, 8);
		buf = (struct vmq_gbuf){ p, HDR + FRAME };
		ASSERT_EQ(0, vmq_gvq_add(&d.rx[0], &buf, 0, 1, p, false));
	}
	vmq_gvq_kick(&d.rx[0]);
	tcp_frame(frame, 3);
	memcpy(got, &want, sizeof(want));
	memcpy(got + sizeof(want), frame, FRAME);
	sll.sll_ifindex = tap.ifindex;
	ASSERT_EQ((ssize_t)(sizeof(want) + FRAME),
		  sendto(s, got, sizeof(want) + FRAME, 0,
			 (struct sockaddr *)&sll, sizeof(sll)));
	p = vmq_gvq_get_wait(&d.rx[0], &len, 5000);
	ASSERT_NE(NULL, p);
	h = (struct virtio_net_hdr *)p;
	if (guest_tso) {
		ASSERT_EQ(HDR + FRAME, len);
		expect_tso(_metadata, h, &want);
		EXPECT_EQ(0, memcmp(frame, p + HDR, FRAME));
	} else {
		/* the first segment: headers and gso_size bytes, no offload */
		EXPECT_EQ(HDR + 54 + 1448, len);
		EXPECT_EQ(VIRTIO_NET_HDR_GSO_NONE, h->gso_type);
		EXPECT_FALSE(h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM);
		EXPECT_EQ(0, memcmp(frame + 54, p + HDR + 54, 1448));
	}
	/* a reset takes the offloads away again */
	ASSERT_EQ(0, vmq_gdev_vdpa_stop(&d, fd));
	close(fd);
	vmq_gdev_destroy(&d);
	close(s);
	vmq_tap_close(&tap);
}

TEST(vdpa_mode_gives_tso_to_a_guest_that_takes_it)
{
	vdpa_rx_tso(_metadata, true);
}

TEST(vdpa_mode_segments_for_a_guest_without_guest_tso)
{
	vdpa_rx_tso(_metadata, false);
}

TEST(vhost_net_passes_tso_and_partial_checksum_through)
{
	tso_both_ways(_metadata, VHOST_NET_PATH);
}

TEST(vhost_mq_passes_tso_and_partial_checksum_through)
{
	tso_both_ways(_metadata, VHOST_MQ_PATH);
}

TEST_HARNESS_MAIN
