// SPDX-License-Identifier: GPL-2.0
/*
 * pps - packet rate through a vhost device, per queue pair, either way.
 *
 *   pps [-d /dev/vhost-net|/dev/vhost-mq] [-m compat|device|vdpa] [-p PAIRS]
 *       [-r tx|rx] [-g pktgen|uring] [-k drop|uring] [-s FRAME_BYTES]
 *       [-t SECONDS] [-a]
 *
 * A fake guest (virtio/guest.c) drives the device; the host side is a
 * multiqueue tap in a network namespace of our own.
 *
 * -r tx (guest -> host): the guest keeps every pair's tx ring full of
 * IPv4/UDP frames of one size on 16 flows of each pair's own. With -k drop
 * the namespace's IPv4 drops them at once (unicast to a MAC nobody has);
 * with -k uring a sink reads them back from a packet socket on the tap
 * through io_uring (batched READ_FIXED into registered buffers) and checks
 * every byte, so the rate is that of frames seen intact.
 *
 * -r rx (host -> guest): the guest keeps every rx ring full of buffers and
 * counts the frames the device writes. With -g pktgen, Debian's pktgen
 * puts frames on tap queue k from kernel thread k % ncpus (taps take no
 * clone_skb or burst); with -g uring a generator thread writes prebuilt
 * frames to a packet socket on the tap through io_uring (WRITE_FIXED from
 * registered buffers, 64 per submit), and the tap spreads their flows over
 * its queues.
 *
 * compat: one vhost fd per pair, as QEMU does; device: one /dev/vhost-mq
 * fd in device mode, all pairs active; vdpa: the same device in vhost-vdpa
 * mode (VHOST_MQ_SET_VDPA), set up as QEMU 7.2 does, every address an IOVA
 * of its IOTLB as there. The guest threads sleep between
 * refills, so the workers get the CPUs. -a pins pair k's worker to CPU
 * (k + 1) % ncpus and its guest thread (and pktgen's thread) to CPU k, on
 * either device (sched_setaffinity on the worker threads).
 *
 * Prints one line of key=value: frames/s in all and per pair and Gbit/s
 * of frame bytes, measured on the used rings over the interval (after
 * one second of warmup), and the CPU the workers and the whole machine
 * used, with the workers' CPU time per frame. -P: packed rings
 * (VIRTIO_F_RING_PACKED) on every queue instead of split ones.
 */
#include "bench.h"

#include <getopt.h>
#include <liburing.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <linux/vhost_mq.h>

#define HDR		12
#define RING		4096
#define MAX_PAIRS	BENCH_MAX_PAIRS
#define BATCH		64
#define TAP		"pps0"
#define NOBODY_MAC	"\x02\x00\x00\x00\x00\x99"

struct pair {
	struct vmq_gvq *vq;		/* tx or rx ring, by direction */
	atomic_ulong done;		/* frames the device moved */
	atomic_ulong bad;		/* rx: frames of the wrong length */
	unsigned int size;
	unsigned int index;
};

static atomic_bool stop;
static atomic_ulong sunk, sunk_bad;	/* -k uring */
static atomic_ulong generated;		/* -g uring */

static void die(const char *what, int err)
{
	bench_die("pps", what, err);
}

/* Fill the ring with @n buffers of @len bytes; tx ones carry frames. */
static int fill(struct pair *p, bool tx, unsigned int len)
{
	struct vmq_gvq *vq = p->vq;
	struct vmq_gbuf b;
	unsigned int i;

	for (i = 0; i < RING; i++) {
		b.addr = vmq_guest_alloc(vq->g, len, 64);
		b.len = len;
		if (!b.addr)
			return -ENOMEM;
		memset(b.addr, 0, HDR);
		if (tx) {
			/* 16 flows of this pair's own; to a MAC nobody has */
			vmq_udp_frame((unsigned char *)b.addr + HDR, p->size,
				      p->index * 16 + i % 16, i);
			memcpy((unsigned char *)b.addr + HDR, NOBODY_MAC, 6);
		}
		if (vmq_gvq_add(p->vq, &b, tx, !tx, b.addr, false))
			break;
	}
	vmq_gvq_kick(vq);
	return 0;
}

/*
 * Keep the ring full: reap what the device used, post it again, kick.
 * tx: the frames again; rx: the buffers, counting what was written.
 */
static void *guest(void *arg, bool tx)
{
	struct pair *p = arg;
	/* rx: room for the frame and a little more, to see a wrong length */
	unsigned int len = HDR + (tx ? p->size : p->size + 64);
	struct vmq_gbuf b = { .len = len };
	uint32_t used;

	if (fill(p, tx, len))
		return NULL;
	while (!atomic_load(&stop)) {
		unsigned long n = 0, bad = 0;

		while ((b.addr = vmq_gvq_get(p->vq, &used))) {
			if (!tx && used != HDR + p->size)
				bad++;
			vmq_gvq_add(p->vq, &b, tx, !tx, b.addr, false);
			n++;
		}
		if (n) {
			atomic_fetch_add(&p->done, n);
			atomic_fetch_add(&p->bad, bad);
			vmq_gvq_kick(p->vq);
		}
		usleep(4000);
	}
	return NULL;
}

static void *guest_tx(void *arg)
{
	return guest(arg, true);
}

static void *guest_rx(void *arg)
{
	return guest(arg, false);
}

/* A packet socket on the tap for @proto, for io_uring to use. */
static int uring_socket(int ifindex, int proto)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(proto),
		.sll_ifindex = ifindex,
	};
	int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(proto));

	if (s < 0)
		die("packet socket", errno);
	if (bind(s, (struct sockaddr *)&sll, sizeof(sll)))
		die("bind packet socket", errno);
	return s;
}

struct uring_job {
	int ifindex;
	unsigned int size;
	unsigned int npairs;
};

/* Is @f, @len bytes, an intact frame of the guest's (vmq_udp_frame())? */
static bool guest_frame_ok(const unsigned char *f, unsigned int len)
{
	static __thread unsigned char want[9216];
	uint32_t seq;

	if (len < 46 || len > sizeof(want))
		return false;
	memcpy(&seq, f + 42, 4);
	vmq_udp_frame(want, len, ((f[34] << 8) | f[35]) - 10000, seq);
	memcpy(want, NOBODY_MAC, 6);
	return !memcmp(want, f, len);
}

/*
 * -k uring: read guest frames back from the tap, BATCH reads in flight
 * into registered buffers, and check each; -g uring: write prebuilt
 * frames into the tap, BATCH per submit. Both on one io_uring.
 */
static void *uring_run(void *arg, bool sink)
{
	const struct uring_job *j = arg;
	unsigned char (*bufs)[9216];
	int s, r, i, nfree = BATCH, free_slot[BATCH];
	struct iovec iov[BATCH];
	struct io_uring ring;
	struct io_uring_cqe *cqe;

	/* registered buffers must be anonymous memory, not .bss */
	bufs = mmap(NULL, BATCH * sizeof(*bufs), PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (bufs == MAP_FAILED)
		die("mmap", errno);
	s = uring_socket(j->ifindex, ETH_P_IP);
	r = io_uring_queue_init(2 * BATCH, &ring, 0);
	if (r)
		die("io_uring_queue_init", r);
	for (i = 0; i < BATCH; i++) {
		free_slot[i] = i;
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = sizeof(bufs[i]);
		if (!sink) {
			vmq_udp_frame(bufs[i], j->size, i % (16 * j->npairs), i);
			memcpy(bufs[i], NOBODY_MAC, 6);
		}
	}
	r = io_uring_register_buffers(&ring, iov, BATCH);
	if (r)
		die("io_uring_register_buffers", r);
	r = io_uring_register_files(&ring, &s, 1);
	if (r)
		die("io_uring_register_files", r);
	while (!atomic_load(&stop)) {
		unsigned long ok = 0, bad = 0;
		unsigned int head, n = 0;

		/* every free slot gets an operation, one submit for all */
		while (nfree) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
			int slot = free_slot[--nfree];

			if (sink)
				io_uring_prep_read_fixed(sqe, 0, bufs[slot],
							 sizeof(bufs[slot]), 0, slot);
			else
				io_uring_prep_write_fixed(sqe, 0, bufs[slot],
							  j->size, 0, slot);
			sqe->flags |= IOSQE_FIXED_FILE;
			io_uring_sqe_set_data64(sqe, slot);
		}
		/* a bounded wait: the sink must see stop with nothing coming */
		r = io_uring_submit_and_wait_timeout(&ring, &cqe, 1,
			&(struct __kernel_timespec){ .tv_nsec = 100000000 }, NULL);
		if (r < 0 && r != -EINTR && r != -ETIME)
			die("io_uring_submit", r);
		io_uring_for_each_cqe(&ring, head, cqe) {
			free_slot[nfree++] = cqe->user_data;
			n++;
			if (cqe->res <= 0)
				continue;
			if (!sink || guest_frame_ok(bufs[cqe->user_data], cqe->res))
				ok++;
			else
				bad++;
		}
		io_uring_cq_advance(&ring, n);
		atomic_fetch_add(sink ? &sunk : &generated, ok);
		atomic_fetch_add(&sunk_bad, bad);
	}
	close(s);	/* ends the reads still in flight */
	io_uring_queue_exit(&ring);
	munmap(bufs, BATCH * sizeof(*bufs));
	return NULL;
}

static void *uring_sink(void *arg)
{
	return uring_run(arg, true);
}

static void *uring_gen(void *arg)
{
	return uring_run(arg, false);
}

/*
 * -g pktgen: tap queue k gets frames from pktgen thread k % ncpus, as
 * device TAP@k (one pktgen device per queue, queue_map pinned to k).
 */
static void pktgen_write(const char *file, const char *fmt, unsigned int a)
{
	char path[128], val[96];
	int r;

	snprintf(path, sizeof(path), "/proc/net/pktgen/%s", file);
	snprintf(val, sizeof(val), fmt, a);
	r = vmq_write_file(path, val);
	if (r)
		die(path, r);
}

static void pktgen_setup(unsigned int npairs, unsigned int size)
{
	unsigned int k, cpus = sysconf(_SC_NPROCESSORS_ONLN);
	char thr[32], dev[32];

	if (access("/proc/net/pktgen/pgctrl", W_OK))
		die("/proc/net/pktgen (modprobe pktgen)", errno);
	for (k = 0; k < cpus; k++) {
		snprintf(thr, sizeof(thr), "kpktgend_%u", k);
		pktgen_write(thr, "rem_device_all", 0);
	}
	for (k = 0; k < npairs; k++) {
		snprintf(thr, sizeof(thr), "kpktgend_%u", k % cpus);
		snprintf(dev, sizeof(dev), TAP "@%u", k);
		pktgen_write(thr, "add_device " TAP "@%u", k);
		pktgen_write(dev, "count %u", 0);
		pktgen_write(dev, "pkt_size %u", size);
		pktgen_write(dev, "delay %u", 0);
		pktgen_write(dev, "queue_map_min %u", k);
		pktgen_write(dev, "queue_map_max %u", k);
		pktgen_write(dev, "dst 169.254.2.%u", 2 + k);
		pktgen_write(dev, "dst_mac 02:00:00:00:00:%02x", 0x99);
		pktgen_write(dev, "udp_dst_min %u", 9);
		pktgen_write(dev, "udp_dst_max %u", 9);
	}
}

/* pgctrl "start\n" (it drops the last byte) returns when pktgen stops: a thread of its own. */
static void *pktgen_run(void *arg)
{
	int r = vmq_write_file("/proc/net/pktgen/pgctrl", "start\n");

	(void)arg;
	if (r && !atomic_load(&stop))
		die("pktgen start", r);
	return NULL;
}

/* CPU ticks used so far by all CPUs but idle */
static unsigned long busy_ticks(void)
{
	unsigned long v[8] = { 0 };
	FILE *f = fopen("/proc/stat", "re");

	if (!f)
		return 0;
	if (fscanf(f, "cpu %lu %lu %lu %lu %lu %lu %lu %lu", &v[0], &v[1],
		   &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) != 8)
		v[3] = v[4] = 0;
	fclose(f);
	return v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
}

static void usage(void)
{
	fprintf(stderr, "usage: pps [-d DEV] [-m compat|device|vdpa] [-p PAIRS] "
		"[-r tx|rx] [-g pktgen|uring] [-k drop|uring] [-s BYTES] "
		"[-t SECONDS] [-b BUSYLOOP_US] [-a] [-i] [-P]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	uint64_t features = (1ULL << VIRTIO_F_VERSION_1) |
			    (1ULL << VIRTIO_RING_F_EVENT_IDX);
	const char *path = "/dev/vhost-mq", *mode = "compat", *dir = "tx";
	const char *gen = "pktgen", *sink = "drop";
	unsigned int npairs = 1, size = 64, seconds = 5, busy_us = 0, k;
	static struct pair pairs[MAX_PAIRS];
	static struct bench_dev bdev;
	pthread_t threads[MAX_PAIRS], helper;
	unsigned long before[MAX_PAIRS], total = 0; /* then: frames moved */
	unsigned long long wt;
	unsigned long bt, hz = sysconf(_SC_CLK_TCK), bad = 0;
	unsigned long s0 = 0, g0 = 0;
	const char *what;
	struct uring_job job;
	struct vmq_tap tap;
	bool pin = false, tx, helped = false;
	double t0, t1;
	int c, r;

	while ((c = getopt(argc, argv, "ab:d:g:ik:m:Pp:r:s:t:")) != -1) {
		switch (c) {
		case 'a': pin = true; break;
		/* VIRTIO_F_ACCESS_PLATFORM, memory mapped by one IOTLB entry */
		case 'i': features |= 1ULL << VIRTIO_F_ACCESS_PLATFORM; break;
		case 'P': features |= 1ULL << VIRTIO_F_RING_PACKED; break;
		case 'b': busy_us = atoi(optarg); break;
		case 'd': path = optarg; break;
		case 'g': gen = optarg; break;
		case 'k': sink = optarg; break;
		case 'm': mode = optarg; break;
		case 'p': npairs = atoi(optarg); break;
		case 'r': dir = optarg; break;
		case 's': size = atoi(optarg); break;
		case 't': seconds = atoi(optarg); break;
		default: usage();
		}
	}
	tx = !strcmp(dir, "tx");
	if (!npairs || npairs > MAX_PAIRS || size < 60 || size > 9000 ||
	    (!tx && strcmp(dir, "rx")) ||
	    !bench_mode_ok(mode) || (strcmp(gen, "pktgen") && strcmp(gen, "uring")) ||
	    (strcmp(sink, "drop") && strcmp(sink, "uring")))
		usage();
	r = vmq_netns_enter();
	if (!r)
		r = vmq_tap_open(&tap, TAP, npairs, HDR, size > 1500 ? 9000 : 0);
	if (r)
		die("tap", r);
	r = bench_dev_start(&bdev, path, mode, npairs, features, RING, &tap,
			    &what);
	if (r)
		die(what, r);
	for (k = 0; k < npairs; k++)
		pairs[k].vq = tx ? bdev.tx[k] : bdev.rx[k];
	/* -b: every vring busy-polls for that long before it sleeps */
	if (busy_us && (r = bench_dev_busyloop(&bdev, busy_us)))
		die("busyloop timeout", r);
	/*
	 * -a: pair k's worker on CPU k + 1, its guest thread and pktgen
	 * thread on CPU k: with one pair the worker has a CPU of its own, on
	 * either device.
	 */
	if (pin && (r = bench_pin_workers(npairs)))
		die("pinning the workers", r);
	for (k = 0; k < npairs; k++) {
		pairs[k].size = size;
		pairs[k].index = k;
		pthread_create(&threads[k], NULL, tx ? guest_tx : guest_rx,
			       &pairs[k]);
		if (pin) {
			cpu_set_t set;

			CPU_ZERO(&set);
			CPU_SET(k % sysconf(_SC_NPROCESSORS_ONLN), &set);
			pthread_setaffinity_np(threads[k], sizeof(set), &set);
		}
	}
	job = (struct uring_job){ tap.ifindex, size, npairs };
	if (tx && !strcmp(sink, "uring")) {
		pthread_create(&helper, NULL, uring_sink, &job);
		helped = true;
	} else if (!tx && !strcmp(gen, "uring")) {
		pthread_create(&helper, NULL, uring_gen, &job);
		helped = true;
	} else if (!tx) {
		pktgen_setup(npairs, size);
		pthread_create(&helper, NULL, pktgen_run, NULL);
		helped = true;
	}
	sleep(1);
	t0 = bench_now();
	/* PPS_MARK=FILE: created when measuring starts (bench/profile.sh) */
	if (getenv("PPS_MARK"))
		vmq_write_file(getenv("PPS_MARK"), "measuring\n");
	wt = bench_worker_ns();
	bt = busy_ticks();
	s0 = atomic_load(&sunk);
	g0 = atomic_load(&generated);
	for (k = 0; k < npairs; k++)
		before[k] = atomic_load(&pairs[k].done);
	sleep(seconds);
	t1 = bench_now();
	wt = bench_worker_ns() - wt;
	bt = busy_ticks() - bt;
	s0 = atomic_load(&sunk) - s0;
	g0 = atomic_load(&generated) - g0;
	for (k = 0; k < npairs; k++) {
		before[k] = atomic_load(&pairs[k].done) - before[k];
		total += before[k];
		bad += atomic_load(&pairs[k].bad);
	}
	atomic_store(&stop, true);
	if (!tx && !strcmp(gen, "pktgen")) {
		vmq_write_file("/proc/net/pktgen/pgctrl", "stop\n");
		if (getenv("PPS_DEBUG"))
			system("cat /proc/net/pktgen/" TAP "@0; ip -s link show " TAP);
	}
	printf("pps dev=%s mode=%s dir=%s pairs=%u size=%u total=%.0f per_pair=",
	       path, mode, dir, npairs, size, total / (t1 - t0));
	for (k = 0; k < npairs; k++)
		printf("%s%.0f", k ? "," : "", before[k] / (t1 - t0));
	printf(" gbps=%.3f", total * size * 8.0 / (t1 - t0) / 1e9);
	/* CPU: the workers' and the whole machine's, in CPUs busy */
	printf(" workers_cpu=%.2f all_cpu=%.2f worker_ns_per_frame=%.0f",
	       wt / 1e9 / (t1 - t0), (double)bt / hz / (t1 - t0),
	       total ? (double)wt / total : 0.0);
	if (tx && !strcmp(sink, "uring"))
		printf(" sunk=%.0f", s0 / (t1 - t0));
	if (!tx && !strcmp(gen, "uring"))
		printf(" generated=%.0f", g0 / (t1 - t0));
	printf(" bad=%lu\n", bad + atomic_load(&sunk_bad));
	for (k = 0; k < npairs; k++)
		pthread_join(threads[k], NULL);
	if (helped)
		pthread_join(helper, NULL);
	return bad || atomic_load(&sunk_bad) ? 1 : 0;
}
