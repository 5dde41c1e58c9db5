// SPDX-License-Identifier: GPL-2.0
/*
 * macvtap_test.c - a macvtap queue as the backend: frames from the guest
 * leave through the macvtap's lower device (a veth, seen at its peer),
 * frames to the macvtap's address reach the guest. Run on /dev/vhost-net
 * and /dev/vhost-mq alike.
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

static int sh(const char *cmd)
{
	return system(cmd);
}

static int if_mac(const char *name, unsigned char *mac)
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r;

	strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
	r = ioctl(s, SIOCGIFHWADDR, &ifr);
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(s);
	return r;
}

static void macvtap_moves_frames(struct __test_metadata *_metadata,
				 const char *path)
{
	uint64_t features = (1ULL << VIRTIO_F_VERSION_1) |
			    (1ULL << VIRTIO_NET_F_MRG_RXBUF) |
			    (1ULL << VIRTIO_RING_F_EVENT_IDX);
	unsigned char frame[1000], got[1100], mac[6], *p;
	struct vmq_gbuf bufs[2];
	struct vmq_gpair gp;
	char dev[32];
	int fd, tapfd, pkt, hdr = 12, idx;
	uint32_t len;

	vmq_kmsg_mark(_metadata->name, path);
	ASSERT_EQ(0, vmq_netns_enter());
	ASSERT_EQ(0, sh("ip link add veth0 type veth peer name veth1 &&"
			"ip link add link veth0 name mvt0 type macvtap mode bridge &&"
			"ip link set veth0 up && ip link set veth1 up &&"
			"ip link set mvt0 up"));
	idx = vmq_if_index("mvt0");
	ASSERT_LT(0, idx);
	snprintf(dev, sizeof(dev), "/dev/tap%d", idx);
	tapfd = open(dev, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, tapfd) TH_LOG("%s: %s", dev, strerror(errno));
	ASSERT_EQ(0, ioctl(tapfd, TUNSETVNETHDRSZ, &hdr));
	ASSERT_EQ(0, if_mac("mvt0", mac));
	pkt = vmq_packet_socket(vmq_if_index("veth1"));
	ASSERT_LE(0, pkt);

	fd = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, vmq_gpair_start(&gp, fd, features, 8 << 20,
				     0x80000000ULL, 64, tapfd));

	/* guest -> macvtap -> veth0 -> veth1 */
	vmq_frame_fill(frame, sizeof(frame), 1);
	p = vmq_guest_alloc(&gp.g, hdr + sizeof(frame), 8);
	memcpy(p + hdr, frame, sizeof(frame));
	bufs[0] = (struct vmq_gbuf){ p, hdr + sizeof(frame) };
	ASSERT_EQ(0, vmq_gvq_add(&gp.tx, bufs, 1, 0, p, false));
	vmq_gvq_kick(&gp.tx);
	ASSERT_EQ((ssize_t)sizeof(frame), vmq_pkt_recv(pkt, got, sizeof(got),
						       5000));
	EXPECT_EQ(0, memcmp(frame, got, sizeof(frame)));
	EXPECT_EQ(p, vmq_gvq_get_wait(&gp.tx, NULL, 5000));

	/* veth1 -> veth0 -> macvtap (its own address) -> guest */
	p = vmq_guest_alloc(&gp.g, 2048, 8);
	bufs[0] = (struct vmq_gbuf){ p, 2048 };
	ASSERT_EQ(0, vmq_gvq_add(&gp.rx, bufs, 0, 1, p, false));
	vmq_gvq_kick(&gp.rx);
	vmq_frame_fill(frame, sizeof(frame), 2);
	memcpy(frame, mac, 6);
	ASSERT_EQ((ssize_t)sizeof(frame),
		  vmq_pkt_send(pkt, vmq_if_index("veth1"), frame,
			       sizeof(frame)));
	ASSERT_EQ(p, vmq_gvq_get_wait(&gp.rx, &len, 5000));
	ASSERT_EQ(hdr + sizeof(frame), len);
	EXPECT_EQ(0, memcmp(frame, p + hdr, sizeof(frame)));
	EXPECT_EQ(1, ((struct virtio_net_hdr_mrg_rxbuf *)p)->num_buffers);

	close(fd);
	vmq_gpair_destroy(&gp);
	close(tapfd);
	close(pkt);
}

TEST(vhost_net_over_macvtap)
{
	macvtap_moves_frames(_metadata, VHOST_NET_PATH);
}

TEST(vhost_mq_over_macvtap)
{
	macvtap_moves_frames(_metadata, VHOST_MQ_PATH);
}

TEST_HARNESS_MAIN
