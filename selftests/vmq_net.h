/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmq_net.h - the host side of the datapath selftests: a private network
 * namespace, a tap (optionally multiqueue) and a packet socket on it.
 */
#ifndef VMQ_NET_H
#define VMQ_NET_H

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/ethernet.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* a local experimental EtherType: nothing else in the namespace uses it */
#define VMQ_ETH_P_TEST	0x88b5
#define VMQ_TAP_MAX_QUEUES	16

struct vmq_tap {
	char name[IFNAMSIZ];
	int ifindex;
	int nqueues;
	int fd[VMQ_TAP_MAX_QUEUES];
	int pkt;		/* AF_PACKET socket bound to the tap */
};

static inline int vmq_write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ok;

	if (fd < 0)
		return -errno;
	ok = write(fd, val, strlen(val)) == (ssize_t)strlen(val);
	close(fd);
	return ok ? 0 : -EIO;
}

/*
 * A network namespace of our own: it dies with the test's process, and
 * without IPv6 nothing but the test sends on its links.
 */
static inline int vmq_netns_enter(void)
{
	if (unshare(CLONE_NEWNET))
		return -errno;
	vmq_write_file("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
	vmq_write_file("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
	return 0;
}

static inline int vmq_if_index(const char *name)
{
	struct ifreq ifr = { 0 };
	int s, r;

	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
	r = ioctl(s, SIOCGIFINDEX, &ifr) ? -errno : ifr.ifr_ifindex;
	close(s);
	return r;
}

static inline int vmq_if_set(const char *name, int mtu, bool up)
{
	struct ifreq ifr = { 0 };
	int s, r = 0;

	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
	if (mtu) {
		ifr.ifr_mtu = mtu;
		if (ioctl(s, SIOCSIFMTU, &ifr))
			r = -errno;
	}
	if (!r && ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags = up ? ifr.ifr_flags | IFF_UP
				   : ifr.ifr_flags & ~IFF_UP;
		if (ioctl(s, SIOCSIFFLAGS, &ifr))
			r = -errno;
	}
	close(s);
	return r;
}

/* A packet socket for our EtherType on @ifindex. */
static inline int vmq_packet_socket(int ifindex)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(VMQ_ETH_P_TEST),
		.sll_ifindex = ifindex,
	};
	int s;

	s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(VMQ_ETH_P_TEST));
	if (s < 0)
		return -errno;
	if (bind(s, (struct sockaddr *)&sll, sizeof(sll))) {
		close(s);
		return -errno;
	}
	return s;
}

/*
 * Create tap @name with @nqueues queue fds (IFF_MULTI_QUEUE when more
 * than one), a vnet header of @hdr_len bytes (0: none), MTU @mtu, up.
 */
static inline int vmq_tap_open(struct vmq_tap *t, const char *name,
			       int nqueues, int hdr_len, int mtu)
{
	struct ifreq ifr = { 0 };
	int i;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < VMQ_TAP_MAX_QUEUES; i++)
		t->fd[i] = -1;
	t->pkt = -1;
	strncpy(t->name, name, IFNAMSIZ - 1);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI |
			(hdr_len ? IFF_VNET_HDR : 0) |
			(nqueues > 1 ? IFF_MULTI_QUEUE : 0);
	strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
	for (i = 0; i < nqueues; i++) {
		t->fd[i] = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
		if (t->fd[i] < 0)
			return -errno;
		if (ioctl(t->fd[i], TUNSETIFF, &ifr))
			return -errno;
		if (hdr_len && ioctl(t->fd[i], TUNSETVNETHDRSZ, &hdr_len))
			return -errno;
	}
	t->nqueues = nqueues;
	if (vmq_if_set(name, mtu, true))
		return -errno;
	t->ifindex = vmq_if_index(name);
	if (t->ifindex < 0)
		return t->ifindex;
	t->pkt = vmq_packet_socket(t->ifindex);
	return t->pkt < 0 ? t->pkt : 0;
}

static inline void vmq_tap_close(struct vmq_tap *t)
{
	int i;

	for (i = 0; i < VMQ_TAP_MAX_QUEUES; i++)
		if (t->fd[i] >= 0)
			close(t->fd[i]);
	if (t->pkt >= 0)
		close(t->pkt);
}

/* Receive one frame from packet socket @s, waiting up to @ms. */
static inline ssize_t vmq_pkt_recv(int s, void *buf, size_t len, int ms)
{
	struct pollfd p = { .fd = s, .events = POLLIN };

	if (poll(&p, 1, ms) <= 0)
		return -ETIMEDOUT;
	return recv(s, buf, len, MSG_DONTWAIT);
}

static inline ssize_t vmq_pkt_send(int s, int ifindex, const void *buf,
				   size_t len)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(VMQ_ETH_P_TEST),
		.sll_ifindex = ifindex,
	};

	return sendto(s, buf, len, 0, (struct sockaddr *)&sll, sizeof(sll));
}

/*
 * A test frame: broadcast destination, a source naming the sender, our
 * EtherType, then a payload derived from @seq so a test can check every
 * byte of what arrives.
 */
static inline void vmq_frame_fill(unsigned char *f, size_t len, uint32_t seq)
{
	size_t i;

	memset(f, 0xff, 6);
	f[6] = 0x02; f[7] = 0x00; f[8] = 0x00;
	f[9] = seq >> 16; f[10] = seq >> 8; f[11] = seq;
	f[12] = VMQ_ETH_P_TEST >> 8;
	f[13] = VMQ_ETH_P_TEST & 0xff;
	for (i = 14; i < len; i++)
		f[i] = (unsigned char)(seq * 31 + i * 7 + (i >> 8));
}

/*
 * An IPv4/UDP test frame of flow @flow, so that the tap hashes each flow
 * onto some queue: link-local 169.254.1.1 -> 169.254.2.2 (in the test's
 * namespace it reaches nothing but the tap), source port 10000 + flow,
 * then @seq and a pattern derived from it. vmq_udp_frame_ok() checks one.
 */
static inline void vmq_udp_frame(unsigned char *f, size_t len,
				 unsigned int flow, uint32_t seq)
{
	size_t i;

	memset(f, 0xff, 6);
	memcpy(f + 6, "\x02\x00\x00\x00\x00\x01", 6);
	f[12] = 0x08;
	f[13] = 0x00;
	memset(f + 14, 0, 28);
	f[14] = 0x45;
	f[16] = (len - 14) >> 8;
	f[17] = (len - 14) & 0xff;
	f[22] = 64;
	f[23] = 17;
	memcpy(f + 26, "\xa9\xfe\x01\x01\xa9\xfe\x02\x02", 8);
	f[34] = (10000 + flow) >> 8;
	f[35] = (10000 + flow) & 0xff;
	f[36] = 20000 >> 8;
	f[37] = 20000 & 0xff;
	f[38] = (len - 34) >> 8;
	f[39] = (len - 34) & 0xff;
	memcpy(f + 42, &seq, 4);
	for (i = 46; i < len; i++)
		f[i] = (unsigned char)(seq * 13 + i);
}

/* Is @f an intact vmq_udp_frame() of @len bytes? Its flow and seq if so. */
static inline bool vmq_udp_frame_ok(const unsigned char *f, size_t len,
				    unsigned int *flow, uint32_t *seq)
{
	unsigned char want[2048];

	if (len < 46 || len > sizeof(want))
		return false;
	memcpy(seq, f + 42, 4);
	*flow = ((f[34] << 8) | f[35]) - 10000;
	vmq_udp_frame(want, len, *flow, *seq);
	return !memcmp(want, f, len);
}

/* Send a vmq_udp_frame() into the tap through packet socket @s. */
static inline int vmq_udp_send(int s, int ifindex, unsigned int flow,
			       uint32_t seq, size_t len)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_IP),
		.sll_ifindex = ifindex,
	};
	unsigned char f[2048];

	vmq_udp_frame(f, len, flow, seq);
	return sendto(s, f, len, 0, (struct sockaddr *)&sll,
		      sizeof(sll)) == (ssize_t)len ? 0 : -errno;
}

#endif /* VMQ_NET_H */
