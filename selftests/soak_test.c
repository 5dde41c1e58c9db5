// SPDX-License-Identifier: GPL-2.0
/*
 * soak_test.c - millions of sequenced frames both ways through a 4-pair
 * device-mode /dev/vhost-mq while the guest keeps changing its active
 * pairs. Host -> guest frames come from pktgen (one pktgen device per
 * tap queue, each numbering its own frames); guest -> host frames carry
 * their pair and a sequence number and are read back from a packet
 * socket. Every frame must arrive intact exactly once, or be counted as
 * dropped by the device or by the packet socket. (A frame the tap drops
 * because its queue is full is not numbered: tun tells pktgen, which
 * sends the same number again.) SOAK_FRAMES (default 10000000) is the
 * total of both ways.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <linux/vhost.h>
#include <linux/vhost_mq.h>
#include <linux/virtio_net.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include "guest.h"
#include "vmq_net.h"
#include "vmq_test.h"
#include "kselftest_harness.h"

#define F(bit)		(1ULL << (bit))
#define PAIRS		4
#define NUM		1024
#define HDR		12
#define FRAME		60
#define RXBUF		256
#define PG_MAGIC	0xbe9be955u
#define TAP		"soak0"
#define DEADLINE_S	1500

struct soak {
	struct vmq_gdev d;
	struct vmq_tap tap;
	int fd;
	unsigned long rx_per_pair, tx_per_pair;
	atomic_uint active;
	atomic_bool stop, pktgen_done;
	/* guest rx: per pktgen device (= tap queue), frames seen */
	uint8_t *rx_seen[PAIRS];
	atomic_ulong rx_got, rx_bad, rx_dup;
	/* guest tx: per pair, frames posted and completed */
	void **tx_bufs[PAIRS];
	atomic_ulong tx_posted, tx_done;
	/* host sink */
	uint8_t *tx_seen[PAIRS];
	atomic_ulong sunk, sunk_bad, sunk_dup;
	int sink;
};

static int pg(const char *file, const char *fmt, unsigned long a)
{
	char path[128], val[96];

	snprintf(path, sizeof(path), "/proc/net/pktgen/%s", file);
	snprintf(val, sizeof(val), fmt, a);
	return vmq_write_file(path, val);
}

/* one pktgen device per tap queue, numbering its own frames from 1 */
static int pktgen_setup(struct soak *s)
{
	char dev[32], thr[32];
	unsigned int k;
	int r = 0;

	r |= pg("kpktgend_0", "rem_device_all", 0);
	r |= pg("kpktgend_1", "rem_device_all", 0);
	for (k = 0; k < PAIRS; k++) {
		snprintf(thr, sizeof(thr), "kpktgend_%u", k % 2);
		snprintf(dev, sizeof(dev), TAP "@%u", k);
		r |= pg(thr, "add_device " TAP "@%lu", k);
		r |= pg(dev, "count %lu", s->rx_per_pair);
		r |= pg(dev, "pkt_size %lu", FRAME);
		/* paced: a tap queue holds 1000; what overflows is counted */
		r |= pg(dev, "delay %lu", 20000);
		r |= pg(dev, "queue_map_min %lu", k);
		r |= pg(dev, "queue_map_max %lu", k);
		r |= pg(dev, "dst 169.254.2.%lu", 2 + k);
		r |= pg(dev, "dst_mac 02:00:00:00:00:%02lx", 0x10 + k);
		r |= pg(dev, "udp_src_min %lu", 1000 + k);
		r |= pg(dev, "udp_src_max %lu", 1000 + k);
	}
	return r;
}

static void *pktgen_run(void *arg)
{
	struct soak *s = arg;

	/* returns when every device has sent its count (or on "stop") */
	vmq_write_file("/proc/net/pktgen/pgctrl", "start\n");
	atomic_store(&s->pktgen_done, true);
	return NULL;
}

/* the tap's transmit drops: pktgen frames refused by a full queue */
static unsigned long tap_tx_dropped(void)
{
	unsigned long v[12] = { 0 };
	char line[512];
	FILE *f = fopen("/proc/net/dev", "re");

	while (f && fgets(line, sizeof(line), f)) {
		char *p = strstr(line, TAP ":");

		if (p && sscanf(p + strlen(TAP ":"),
				"%lu %lu %lu %lu %lu %lu %lu %lu %lu %lu %lu %lu",
				&v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
				&v[7], &v[8], &v[9], &v[10], &v[11]) == 12)
			break;
	}
	if (f)
		fclose(f);
	return v[11];
}

/* frames the device counted dropped, over the rx or the tx rings */
static unsigned long device_drops(struct soak *s, bool rx)
{
	unsigned long sum = 0;
	unsigned int k, i;

	for (k = 0; k < PAIRS; k++) {
		struct vhost_mq_vring_stats st = { .index = 2 * k + !rx };

		if (ioctl(s->fd, VHOST_MQ_GET_VRING_STATS, &st))
			return ~0UL;
		for (i = 0; i < VHOST_MQ_DROP_MAX; i++)
			sum += st.drops[i];
	}
	return sum;
}

struct pair_arg {
	struct soak *s;
	unsigned int k;
};

/* guest rx on ring k: check each frame, count it once, repost */
static void *guest_rx(void *arg)
{
	struct pair_arg *a = arg;
	struct soak *s = a->s;
	struct vmq_gvq *vq = &s->d.rx[a->k];
	struct vmq_gbuf b = { .len = RXBUF };
	uint32_t len;
	void *tok;

	while (!atomic_load(&s->stop)) {
		unsigned long n = 0;

		while ((tok = vmq_gvq_get(vq, &len))) {
			unsigned char *f = (unsigned char *)tok + HDR;
			uint32_t magic, seq;
			unsigned int dev;

			n++;
			memcpy(&magic, f + 42, 4);
			memcpy(&seq, f + 46, 4);
			magic = ntohl(magic);
			seq = ntohl(seq);
			dev = ((f[34] << 8) | f[35]) - 1000;
			if (len != HDR + FRAME || magic != PG_MAGIC ||
			    dev >= PAIRS || f[12] != 0x08 || f[13] != 0x00 ||
			    f[5] != 0x10 + dev || !seq || seq > s->rx_per_pair)
				atomic_fetch_add(&s->rx_bad, 1);
			else if (__atomic_fetch_add(&s->rx_seen[dev][seq - 1], 1,
						    __ATOMIC_RELAXED))
				atomic_fetch_add(&s->rx_dup, 1);
			else
				atomic_fetch_add(&s->rx_got, 1);
			b.addr = tok;
			vmq_gvq_add(vq, &b, 0, 1, tok, false);
		}
		if (n)
			vmq_gvq_kick(vq);
		else
			usleep(300);
	}
	return NULL;
}

/* guest tx on pair k while it is active: frames numbered per pair */
static void *guest_tx(void *arg)
{
	struct pair_arg *a = arg;
	struct soak *s = a->s;
	struct vmq_gvq *vq = &s->d.tx[a->k];
	void **free_bufs = s->tx_bufs[a->k];
	unsigned int nfree = NUM;
	unsigned long seq = 0;
	struct vmq_gbuf b = { .len = HDR + FRAME };
	void *tok;

	while (!atomic_load(&s->stop)) {
		unsigned long done = 0, posted = 0;

		while ((tok = vmq_gvq_get(vq, NULL))) {
			free_bufs[nfree++] = tok;
			done++;
		}
		while (nfree && seq < s->tx_per_pair &&
		       a->k < atomic_load(&s->active)) {
			b.addr = free_bufs[--nfree];
			memset(b.addr, 0, HDR);
			vmq_udp_frame((unsigned char *)b.addr + HDR, FRAME, a->k,
				      seq++);
			vmq_gvq_add(vq, &b, 1, 0, b.addr, false);
			posted++;
		}
		atomic_fetch_add(&s->tx_done, done);
		atomic_fetch_add(&s->tx_posted, posted);
		if (posted)
			vmq_gvq_kick(vq);
		if (!done && !posted)
			usleep(300);
	}
	return NULL;
}

/* the host end of guest tx: every frame read back and checked */
static void *sink(void *arg)
{
	struct soak *s = arg;
	static unsigned char bufs[64][128];
	struct mmsghdr msgs[64];
	struct iovec iov[64];
	struct pollfd p = { .fd = s->sink, .events = POLLIN };
	int i, n;

	for (i = 0; i < 64; i++) {
		iov[i] = (struct iovec){ bufs[i], sizeof(bufs[i]) };
		memset(&msgs[i], 0, sizeof(msgs[i]));
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	while (!atomic_load(&s->stop)) {
		if (poll(&p, 1, 100) <= 0)
			continue;
		n = recvmmsg(s->sink, msgs, 64, MSG_DONTWAIT, NULL);
		for (i = 0; i < n; i++) {
			unsigned int flow;
			uint32_t seq;

			if (msgs[i].msg_len != FRAME ||
			    !vmq_udp_frame_ok(bufs[i], FRAME, &flow, &seq) ||
			    flow >= PAIRS || seq >= s->tx_per_pair)
				atomic_fetch_add(&s->sunk_bad, 1);
			else if (s->tx_seen[flow][seq]++)
				atomic_fetch_add(&s->sunk_dup, 1);
			else
				atomic_fetch_add(&s->sunk, 1);
		}
	}
	return NULL;
}

static unsigned long sink_drops(struct soak *s)
{
	struct tpacket_stats st = { 0 };
	socklen_t len = sizeof(st);

	getsockopt(s->sink, SOL_PACKET, PACKET_STATISTICS, &st, &len);
	return st.tp_drops;	/* since the last call */
}

FIXTURE(soak) {
	int unused;
};

FIXTURE_SETUP(soak)
{
}

FIXTURE_TEARDOWN(soak)
{
}

/* the ring layout every queue of the device uses */
FIXTURE_VARIANT(soak) {
	uint64_t ring;
};

FIXTURE_VARIANT_ADD(soak, split) {
	.ring = 0,
};

FIXTURE_VARIANT_ADD(soak, packed) {
	.ring = F(VIRTIO_F_RING_PACKED),
};

/* 10 million frames take a minute or two here, much more under KASAN */
TEST_F_TIMEOUT(soak, millions_of_frames_both_ways_while_pairs_change, 3000)
{
	static const unsigned int plan[] = { 4, 1, 3, 2, 4, 2, 1, 3 };
	static struct soak s;
	struct pair_arg args[PAIRS];

	(void)self;
	pthread_t rx[PAIRS], tx[PAIRS], pgt, snk;
	unsigned long total = 10000000, rx_total, tx_total, rx_drops = 0;
	unsigned long sink_dropped = 0, changes = 0, tap_full = 0;
	const char *env = getenv("SOAK_FRAMES");
	double t0, deadline, next_change;
	unsigned int k, i, phase = 0;
	int rcvbuf = 64 << 20;

	vmq_kmsg_mark(_metadata->name, VHOST_MQ_PATH);
	if (env)
		total = strtoul(env, NULL, 10);
	s.rx_per_pair = total / 2 / PAIRS;
	s.tx_per_pair = total / 2 / PAIRS;
	rx_total = s.rx_per_pair * PAIRS;
	tx_total = s.tx_per_pair * PAIRS;
	for (k = 0; k < PAIRS; k++) {
		s.rx_seen[k] = calloc(s.rx_per_pair, 1);
		s.tx_seen[k] = calloc(s.tx_per_pair, 1);
		s.tx_bufs[k] = calloc(NUM, sizeof(void *));
		ASSERT_TRUE(s.rx_seen[k] && s.tx_seen[k] && s.tx_bufs[k]);
	}
	ASSERT_EQ(0, vmq_netns_enter());
	ASSERT_EQ(0, vmq_tap_open(&s.tap, TAP, PAIRS, HDR, 0));
	s.fd = open(VHOST_MQ_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, s.fd);
	ASSERT_EQ(0, vmq_gdev_start(&s.d, s.fd, PAIRS,
				    F(VIRTIO_F_VERSION_1) | F(VIRTIO_NET_F_MRG_RXBUF) |
				    F(VIRTIO_RING_F_EVENT_IDX) | F(VIRTIO_NET_F_CTRL_VQ) |
				    F(VIRTIO_NET_F_MQ) | variant->ring, 64 << 20,
				    0x40000000ULL, NUM, s.tap.fd));
	ASSERT_EQ(!!variant->ring, s.d.tx[0].packed && s.d.rx[PAIRS - 1].packed);
	ASSERT_EQ(VIRTIO_NET_OK, vmq_gctrl_set_pairs(&s.d, PAIRS, 5000));
	atomic_store(&s.active, PAIRS);
	/* every buffer before any thread runs (the allocator is not shared) */
	for (k = 0; k < PAIRS; k++) {
		for (i = 0; i < NUM; i++) {
			struct vmq_gbuf b = { vmq_guest_alloc(&s.d.g, RXBUF, 64), RXBUF };

			ASSERT_NE(NULL, b.addr);
			ASSERT_EQ(0, vmq_gvq_add(&s.d.rx[k], &b, 0, 1, b.addr, false));
			s.tx_bufs[k][i] = vmq_guest_alloc(&s.d.g, HDR + FRAME, 64);
			ASSERT_NE(NULL, s.tx_bufs[k][i]);
		}
		vmq_gvq_kick(&s.d.rx[k]);
	}
	s.sink = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_IP));
	ASSERT_LE(0, s.sink);
	{
		struct sockaddr_ll sll = {
			.sll_family = AF_PACKET,
			.sll_protocol = htons(ETH_P_IP),
			.sll_ifindex = s.tap.ifindex,
		};

		ASSERT_EQ(0, bind(s.sink, (struct sockaddr *)&sll, sizeof(sll)));
	}
	setsockopt(s.sink, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
	sink_drops(&s);
	ASSERT_EQ(0, pktgen_setup(&s)) TH_LOG("pktgen (modprobe pktgen)");

	for (k = 0; k < PAIRS; k++) {
		args[k] = (struct pair_arg){ &s, k };
		pthread_create(&rx[k], NULL, guest_rx, &args[k]);
		pthread_create(&tx[k], NULL, guest_tx, &args[k]);
	}
	pthread_create(&snk, NULL, sink, &s);
	pthread_create(&pgt, NULL, pktgen_run, &s);
	t0 = vmq_now();
	deadline = t0 + DEADLINE_S;
	next_change = t0 + 0.3;
	for (;;) {
		bool rx_done, tx_done;

		usleep(20000);
		rx_drops = device_drops(&s, true);
		sink_dropped += sink_drops(&s);
		rx_done = atomic_load(&s.pktgen_done) &&
			  atomic_load(&s.rx_got) + atomic_load(&s.rx_bad) +
			  atomic_load(&s.rx_dup) + rx_drops >= rx_total;
		tx_done = atomic_load(&s.tx_posted) == tx_total &&
			  atomic_load(&s.tx_done) == tx_total &&
			  atomic_load(&s.sunk) + atomic_load(&s.sunk_bad) +
			  atomic_load(&s.sunk_dup) + sink_dropped +
			  device_drops(&s, false) >= tx_total;
		if (rx_done && tx_done)
			break;
		if (vmq_now() > deadline) {
			TH_LOG("deadline: rx %lu+%lu dropped of %lu, tx posted %lu "
			       "done %lu sunk %lu+%lu dropped of %lu",
			       atomic_load(&s.rx_got), rx_drops, rx_total,
			       atomic_load(&s.tx_posted), atomic_load(&s.tx_done),
			       atomic_load(&s.sunk), sink_dropped, tx_total);
			break;
		}
		/* the guest changes its mind; at the end all pairs again,
		 * so that every parked tx frame goes */
		if (vmq_now() >= next_change) {
			unsigned int want = atomic_load(&s.tx_posted) < tx_total * 9 / 10 ?
					    plan[phase++ % 8] : PAIRS;

			if (want != atomic_load(&s.active)) {
				/* fewer pairs: the guest stops posting first */
				if (want < atomic_load(&s.active))
					atomic_store(&s.active, want);
				ASSERT_EQ(VIRTIO_NET_OK,
					  vmq_gctrl_set_pairs(&s.d, want, 5000));
				atomic_store(&s.active, want);
				changes++;
			}
			next_change = vmq_now() + 0.3;
		}
	}
	vmq_write_file("/proc/net/pktgen/pgctrl", "stop\n");
	tap_full = tap_tx_dropped();
	atomic_store(&s.stop, true);
	for (k = 0; k < PAIRS; k++) {
		pthread_join(rx[k], NULL);
		pthread_join(tx[k], NULL);
	}
	pthread_join(snk, NULL);
	pthread_join(pgt, NULL);

	/* host -> guest: exactly once and intact, or dropped and counted */
	EXPECT_EQ(0, atomic_load(&s.rx_bad));
	EXPECT_EQ(0, atomic_load(&s.rx_dup));
	EXPECT_EQ(rx_total, atomic_load(&s.rx_got) + rx_drops);
	/* guest -> host likewise */
	EXPECT_EQ(tx_total, atomic_load(&s.tx_posted));
	EXPECT_EQ(0, atomic_load(&s.sunk_bad));
	EXPECT_EQ(0, atomic_load(&s.sunk_dup));
	EXPECT_EQ(tx_total, atomic_load(&s.sunk) + sink_dropped +
		  device_drops(&s, false));
	/* and it was a soak: most frames arrived, the pairs kept changing */
	EXPECT_LT(rx_total / 2, atomic_load(&s.rx_got));
	EXPECT_LT(tx_total / 2, atomic_load(&s.sunk));
	EXPECT_LT(10, changes);
	TH_LOG("%lu frames in %.0f s: host->guest %lu arrived, %lu dropped by "
	       "the device (%lu refused by a full tap queue and sent again); "
	       "guest->host %lu arrived, %lu dropped; %lu changes of the "
	       "active pairs", rx_total + tx_total, vmq_now() - t0,
	       atomic_load(&s.rx_got), rx_drops, tap_full, atomic_load(&s.sunk),
	       sink_dropped + device_drops(&s, false), changes);
	close(s.sink);
	close(s.fd);
	vmq_gdev_destroy(&s.d);
	vmq_tap_close(&s.tap);
}

TEST_HARNESS_MAIN
