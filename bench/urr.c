// SPDX-License-Identifier: GPL-2.0
/*
 * urr - UDP request/response through a vhost device: round trips a second
 * and their latency, bounded by the backend rather than by a guest kernel.
 *
 *   urr [-d /dev/vhost-net|/dev/vhost-mq] [-m compat|device|vdpa] [-p PAIRS]
 *       [-n OUTSTANDING] [-s FRAME_BYTES] [-t SECONDS] [-b BUSYLOOP_US]
 *       [-a] [-P]
 *
 * A fake guest (virtio/guest.c) on each pair keeps OUTSTANDING requests in
 * flight: a small IPv4/UDP frame on the tx ring to 169.254.3.1:7777, the
 * address of a multiqueue tap in a network namespace of our own, where one
 * UDP socket echoes every datagram back (recvmmsg/sendmmsg); the echo
 * comes back through the tap and the device onto the pair's rx ring. The
 * guest thread blocks on the rx ring's call eventfd, and for each reply
 * takes the round trip's time and sends that slot's next request. Each
 * pair's requests come from a port of its own, so the tap's flow table
 * steers its replies back to the queue they came in on.
 *
 * Prints one key=value line: round trips a second in all and per pair,
 * their latency (p50, p99, p999, microseconds, over every round trip of
 * the interval after one second of warmup), and the workers' CPU (each
 * worker's schedstat runtime) per round trip. A reply that is not one of
 * the requests outstanding counts as bad; a slot with no reply within a
 * second counts as lost and is sent again. Exits 1 if any was bad or lost.
 *
 * compat/device/vdpa, -b, -a and -P as for pps (bench/bench.h): -a pins
 * pair k's worker to CPU k + 1, its guest thread and the responder to CPU
 * k (the responder: CPU 0).
 */
#include "bench.h"

#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <netinet/in.h>

#define HDR		12
#define RING		256
#define MAX_OUT		64
#define TAP		"urr0"
#define PORT		7777
#define GUEST_IP	"169.254.3.2"
#define HOST_IP		"169.254.3.1"
#define GUEST_MAC	"\x02\x00\x00\x00\x03\x02"
#define MAX_SAMPLES	(1U << 21)

/* what a request carries, echoed back as it is */
struct req {
	uint32_t magic;
	uint16_t pair;
	uint16_t slot;
	uint32_t seq;
	uint64_t sent_ns;
} __attribute__((packed));

#define REQ_MAGIC	0x75727221
#define REQ_OFF		(HDR + 42)

struct rr_pair {
	struct vmq_gvq *rx, *tx;
	unsigned int index, outstanding, size;
	uint8_t tap_mac[6];
	uint32_t seq[MAX_OUT];		/* per slot: the request in flight */
	uint64_t sent[MAX_OUT];		/* per slot: when it went out */
	unsigned char *txbuf[RING];
	unsigned int next_tx;
	atomic_ulong done, bad, lost;
	uint32_t *lat;			/* round trips measured, ns */
	atomic_uint nlat;
	int cpu;
};

static atomic_bool stop, measuring;

static void die(const char *what, int err)
{
	bench_die("urr", what, err);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static uint16_t ip_csum(const unsigned char *h)
{
	uint32_t sum = 0;
	int i;

	for (i = 0; i < 20; i += 2)
		sum += (h[i] << 8) | h[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

/* pair @k's request frame of @len bytes to the tap, UDP checksum 0 */
static void req_frame(unsigned char *f, size_t len, const uint8_t *tap_mac,
		      unsigned int k)
{
	uint16_t c;

	memset(f, 0, len);
	memcpy(f, tap_mac, 6);
	memcpy(f + 6, GUEST_MAC, 6);
	f[12] = 0x08;
	f[14] = 0x45;
	f[16] = (len - 14) >> 8;
	f[17] = (len - 14) & 0xff;
	f[22] = 64;
	f[23] = 17;
	inet_pton(AF_INET, GUEST_IP, f + 26);
	inet_pton(AF_INET, HOST_IP, f + 30);
	c = ip_csum(f + 14);
	f[24] = c >> 8;
	f[25] = c & 0xff;
	f[34] = (30000 + k) >> 8;
	f[35] = (30000 + k) & 0xff;
	f[36] = PORT >> 8;
	f[37] = PORT & 0xff;
	f[38] = (len - 34) >> 8;
	f[39] = (len - 34) & 0xff;
}

/* Reap the tx ring's used buffers: the frames are rebuilt as they go. */
static void reap_tx(struct rr_pair *p)
{
	uint32_t len;

	while (vmq_gvq_get(p->tx, &len))
		;
}

static void send_req(struct rr_pair *p, unsigned int slot)
{
	unsigned char *b = p->txbuf[p->next_tx++ % RING];
	struct vmq_gbuf g = { b, HDR + p->size };
	struct req r = {
		.magic = REQ_MAGIC, .pair = p->index, .slot = slot,
		.seq = ++p->seq[slot],
	};

	r.sent_ns = p->sent[slot] = now_ns();
	memcpy(b + REQ_OFF, &r, sizeof(r));
	while (vmq_gvq_add(p->tx, &g, 1, 0, b, false) == -ENOSPC) {
		vmq_gvq_kick(p->tx);
		reap_tx(p);
	}
}

/* One reply of @len bytes in @b: a request of ours outstanding? */
static void got_reply(struct rr_pair *p, const unsigned char *b, uint32_t len)
{
	uint64_t t = now_ns();
	struct req r;

	if (len != HDR + p->size) {
		atomic_fetch_add(&p->bad, 1);
		return;
	}
	memcpy(&r, b + REQ_OFF, sizeof(r));
	if (r.magic != REQ_MAGIC || r.pair != p->index ||
	    r.slot >= p->outstanding) {
		atomic_fetch_add(&p->bad, 1);
		return;
	}
	/* the echo of a request already given up on and sent again */
	if (r.seq != p->seq[r.slot])
		return;
	if (atomic_load(&measuring)) {
		unsigned int n = atomic_load(&p->nlat);

		if (n < MAX_SAMPLES) {
			p->lat[n] = t - r.sent_ns > UINT32_MAX ?
				    UINT32_MAX : t - r.sent_ns;
			atomic_store(&p->nlat, n + 1);
		}
		atomic_fetch_add(&p->done, 1);
	}
	send_req(p, r.slot);
}

/*
 * The rx ring full of buffers and a frame built in each tx buffer, before
 * the threads start (a device-mode guest's memory is one bump allocator).
 */
static void setup_pair(struct rr_pair *p)
{
	unsigned int len = HDR + p->size + 64, i;
	struct vmq_gbuf b = { .len = len };

	for (i = 0; i < RING; i++) {
		b.addr = vmq_guest_alloc(p->rx->g, len, 64);
		p->txbuf[i] = vmq_guest_alloc(p->tx->g, HDR + p->size, 64);
		if (!b.addr || !p->txbuf[i])
			die("guest memory", ENOMEM);
		req_frame(p->txbuf[i] + HDR, p->size, p->tap_mac, p->index);
		if (vmq_gvq_add(p->rx, &b, 0, 1, b.addr, false))
			break;
	}
	/* tx buffers are reaped as the guest goes: no tx interrupts */
	vmq_gvq_disable_cb(p->tx);
}

static void *guest(void *arg)
{
	struct rr_pair *p = arg;
	struct vmq_gbuf b = { .len = HDR + p->size + 64 };
	unsigned char *buf;
	unsigned int i;
	uint32_t used;

	if (p->cpu >= 0)
		bench_pin(0, p->cpu);
	vmq_gvq_kick(p->rx);
	for (i = 0; i < p->outstanding; i++)
		send_req(p, i);
	vmq_gvq_kick(p->tx);
	while (!atomic_load(&stop)) {
		unsigned int n = 0;
		uint64_t t;

		reap_tx(p);
		buf = vmq_gvq_get_wait(p->rx, &used, 100);
		for (; buf; buf = vmq_gvq_get(p->rx, &used)) {
			got_reply(p, buf, used);
			b.addr = buf;
			vmq_gvq_add(p->rx, &b, 0, 1, buf, false);
			n++;
		}
		if (n) {
			vmq_gvq_kick(p->rx);
			vmq_gvq_kick(p->tx);
		}
		/* a slot a second without its reply: lost, sent again */
		t = now_ns();
		for (i = 0, n = 0; i < p->outstanding; i++) {
			if (t - p->sent[i] < 1000000000ULL)
				continue;
			atomic_fetch_add(&p->lost, 1);
			send_req(p, i);
			n++;
		}
		if (n)
			vmq_gvq_kick(p->tx);
	}
	return NULL;
}

/* the host's side: one UDP socket that echoes every datagram back */
static void *responder(void *arg)
{
	struct sockaddr_in from[64];
	struct mmsghdr m[64];
	struct iovec iov[64];
	static char bufs[64][2048];
	int s = *(int *)arg, n, i, r;

	for (i = 0; i < 64; i++) {
		iov[i] = (struct iovec){ bufs[i], sizeof(bufs[i]) };
		m[i].msg_hdr = (struct msghdr){
			.msg_name = &from[i], .msg_iov = &iov[i],
			.msg_iovlen = 1,
		};
	}
	while (!atomic_load(&stop)) {
		for (i = 0; i < 64; i++) {
			m[i].msg_hdr.msg_namelen = sizeof(from[i]);
			iov[i].iov_len = sizeof(bufs[i]);
		}
		n = recvmmsg(s, m, 64, MSG_WAITFORONE, NULL);
		if (n <= 0)
			continue;	/* SO_RCVTIMEO: look at stop */
		for (i = 0; i < n; i++)
			iov[i].iov_len = m[i].msg_len;
		for (i = 0; i < n; i += r) {
			r = sendmmsg(s, m + i, n - i, 0);
			if (r <= 0)
				break;
		}
	}
	return NULL;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int run(const char *cmd)
{
	int r = system(cmd);

	return r ? -EIO : 0;
}

/* the tap's address and MAC, the guest's neighbour entry, the echo socket */
static int host_side(uint8_t *mac)
{
	struct timeval tv = { .tv_usec = 100000 };
	struct sockaddr_in a = {
		.sin_family = AF_INET, .sin_port = htons(PORT),
	};
	struct ifreq ifr = { 0 };
	int s;

	if (run("ip addr add " HOST_IP "/24 dev " TAP) ||
	    run("ip neigh replace " GUEST_IP " lladdr 02:00:00:00:03:02 "
		"nud permanent dev " TAP))
		die("ip addr/neigh on " TAP, EIO);
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		die("socket", errno);
	strncpy(ifr.ifr_name, TAP, IFNAMSIZ - 1);
	if (ioctl(s, SIOCGIFHWADDR, &ifr))
		die("SIOCGIFHWADDR", errno);
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	inet_pton(AF_INET, HOST_IP, &a.sin_addr);
	if (bind(s, (struct sockaddr *)&a, sizeof(a)))
		die("bind " HOST_IP, errno);
	if (setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)))
		die("SO_RCVTIMEO", errno);
	return s;
}

static void usage(void)
{
	fprintf(stderr, "usage: urr [-d DEV] [-m compat|device|vdpa] [-p PAIRS] "
		"[-n OUTSTANDING] [-s BYTES] [-t SECONDS] [-b BUSYLOOP_US] "
		"[-a] [-P]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	uint64_t features = (1ULL << VIRTIO_F_VERSION_1) |
			    (1ULL << VIRTIO_RING_F_EVENT_IDX);
	const char *path = "/dev/vhost-mq", *mode = "compat", *what;
	unsigned int npairs = 1, out = 1, size = 64, seconds = 5, busy_us = 0;
	unsigned long done[BENCH_MAX_PAIRS], total = 0, bad = 0, lost = 0;
	static struct rr_pair pairs[BENCH_MAX_PAIRS];
	static struct bench_dev bdev;
	pthread_t threads[BENCH_MAX_PAIRS], resp;
	unsigned long long wt;
	uint32_t *all;
	size_t nall = 0;
	struct vmq_tap tap;
	uint8_t mac[6];
	bool pin = false;
	unsigned int k;
	double t0, t1;
	int c, r, s;

	while ((c = getopt(argc, argv, "ab:d:m:n:Pp:s:t:")) != -1) {
		switch (c) {
		case 'a': pin = true; break;
		case 'b': busy_us = atoi(optarg); break;
		case 'd': path = optarg; break;
		case 'm': mode = optarg; break;
		case 'n': out = atoi(optarg); break;
		case 'P': features |= 1ULL << VIRTIO_F_RING_PACKED; break;
		case 'p': npairs = atoi(optarg); break;
		case 's': size = atoi(optarg); break;
		case 't': seconds = atoi(optarg); break;
		default: usage();
		}
	}
	if (!npairs || npairs > BENCH_MAX_PAIRS || !out || out > MAX_OUT ||
	    size < 64 || size > 1500 || !seconds || !bench_mode_ok(mode))
		usage();
	r = vmq_netns_enter();
	if (!r)
		r = vmq_tap_open(&tap, TAP, npairs, HDR, 0);
	if (r)
		die("tap", r);
	s = host_side(mac);
	r = bench_dev_start(&bdev, path, mode, npairs, features, RING, &tap,
			    &what);
	if (r)
		die(what, r);
	if (busy_us && (r = bench_dev_busyloop(&bdev, busy_us)))
		die("busyloop timeout", r);
	if (pin && (r = bench_pin_workers(npairs)))
		die("pinning the workers", r);
	for (k = 0; k < npairs; k++) {
		struct rr_pair *p = &pairs[k];

		p->rx = bdev.rx[k];
		p->tx = bdev.tx[k];
		p->index = k;
		p->outstanding = out;
		p->size = size;
		p->cpu = pin ? (int)k : -1;
		memcpy(p->tap_mac, mac, 6);
		p->lat = calloc(MAX_SAMPLES, sizeof(*p->lat));
		if (!p->lat)
			die("calloc", ENOMEM);
		setup_pair(p);
	}
	for (k = 0; k < npairs; k++)
		pthread_create(&threads[k], NULL, guest, &pairs[k]);
	pthread_create(&resp, NULL, responder, &s);
	if (pin) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(0, &set);
		pthread_setaffinity_np(resp, sizeof(set), &set);
	}
	sleep(1);
	wt = bench_worker_ns();
	t0 = bench_now();
	atomic_store(&measuring, true);
	sleep(seconds);
	atomic_store(&measuring, false);
	t1 = bench_now();
	wt = bench_worker_ns() - wt;
	atomic_store(&stop, true);
	for (k = 0; k < npairs; k++)
		pthread_join(threads[k], NULL);
	pthread_join(resp, NULL);

	all = malloc(npairs * (size_t)MAX_SAMPLES * sizeof(*all));
	if (!all)
		die("malloc", ENOMEM);
	for (k = 0; k < npairs; k++) {
		done[k] = atomic_load(&pairs[k].done);
		total += done[k];
		bad += atomic_load(&pairs[k].bad);
		lost += atomic_load(&pairs[k].lost);
		memcpy(all + nall, pairs[k].lat,
		       atomic_load(&pairs[k].nlat) * sizeof(*all));
		nall += atomic_load(&pairs[k].nlat);
	}
	qsort(all, nall, sizeof(*all), cmp_u32);
	printf("urr dev=%s mode=%s pairs=%u outstanding=%u size=%u busy_us=%u "
	       "rt_per_s=%.0f per_pair=", path, mode, npairs, out, size,
	       busy_us, total / (t1 - t0));
	for (k = 0; k < npairs; k++)
		printf("%s%.0f", k ? "," : "", done[k] / (t1 - t0));
	printf(" p50_us=%.1f p99_us=%.1f p999_us=%.1f",
	       nall ? all[nall / 2] / 1e3 : 0.0,
	       nall ? all[nall * 99 / 100] / 1e3 : 0.0,
	       nall ? all[nall * 999 / 1000] / 1e3 : 0.0);
	printf(" workers_cpu=%.2f worker_ns_per_rt=%.0f bad=%lu lost=%lu\n",
	       wt / 1e9 / (t1 - t0), total ? (double)wt / total : 0.0, bad,
	       lost);
	return bad || lost || !total ? 1 : 0;
}
