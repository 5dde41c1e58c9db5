// SPDX-License-Identifier: GPL-2.0
/*
 * pps - guest -> host packet rate through a vhost device, per queue pair.
 *
 *   pps [-d /dev/vhost-net|/dev/vhost-mq] [-m compat|device] [-p PAIRS]
 *       [-s FRAME_BYTES] [-t SECONDS] [-a]
 *
 * A fake guest (virtio/guest.c) keeps every pair's tx ring full of frames
 * of one size, IPv4/UDP on 16 flows of each pair's own; the device copies
 * them into the queues of a multiqueue tap in a network namespace of our
 * own, where IPv4 drops them at once (unicast to a MAC nobody has). compat: one vhost fd per pair, as QEMU
 * does; device: one /dev/vhost-mq fd in device mode, all pairs active.
 * The guest threads sleep between refills, so the workers get the CPUs.
 * -a pins pair k's worker to CPU k % ncpus (vhost-mq's affinity ioctl).
 * Prints one line: pairs, frame size, total and per-pair frames/s, from
 * the used rings over the measured interval (after one second of warmup).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sched.h>
#include <time.h>
#include <linux/vhost_mq.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>

#include "guest.h"
#include "vmq_net.h"

#define HDR		12
#define RING		4096
#define MAX_PAIRS	VMQ_GDEV_MAX_PAIRS

struct pair {
	struct vmq_gvq *tx;
	struct vmq_gpair gp;		/* compat mode */
	atomic_ulong done;
	unsigned int size;
	unsigned int index;
};

static atomic_bool stop;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Keep the ring full: reap what the device used, post it again, kick. */
static void *blast(void *arg)
{
	struct pair *p = arg;
	struct vmq_gvq *vq = p->tx;
	struct vmq_gbuf b;
	unsigned int i;
	void *tok;

	for (i = 0; i < RING; i++) {
		b.addr = vmq_guest_alloc(vq->g, HDR + p->size, 64);
		b.len = HDR + p->size;
		if (!b.addr)
			return NULL;
		memset(b.addr, 0, HDR);
		/* 16 flows of this pair's own; unicast to a MAC nobody has */
		vmq_udp_frame((unsigned char *)b.addr + HDR, p->size,
			      p->index * 16 + i % 16, i);
		memcpy((unsigned char *)b.addr + HDR, "\x02\x00\x00\x00\x00\x99", 6);
		if (vmq_gvq_add(vq, &b, 1, 0, b.addr, false))
			break;
	}
	vmq_gvq_kick(vq);
	while (!atomic_load(&stop)) {
		unsigned long n = 0;

		while ((tok = vmq_gvq_get(vq, NULL))) {
			b.addr = tok;
			b.len = HDR + p->size;
			vmq_gvq_add(vq, &b, 1, 0, tok, false);
			n++;
		}
		if (n) {
			atomic_fetch_add(&p->done, n);
			vmq_gvq_kick(vq);
		}
		usleep(4000);
	}
	return NULL;
}

/* Pin the worker of pair @pair of vhost-mq fd @fd to CPU @cpu. */
static int pin_worker(int fd, unsigned int pair, unsigned int cpu)
{
	cpu_set_t set;
	struct vhost_mq_worker_affinity a = {
		.pair = pair,
		.size = sizeof(set),
		.mask = (uintptr_t)&set,
	};

	CPU_ZERO(&set);
	CPU_SET(cpu % sysconf(_SC_NPROCESSORS_ONLN), &set);
	return ioctl(fd, VHOST_MQ_SET_WORKER_AFFINITY, &a) ? -errno : 0;
}

/*
 * CPU ticks used so far by the device's workers (vhost-<pid> for
 * vhost-net, vhost-mq-<pid>-<k> for us), and by all CPUs but idle.
 */
static unsigned long worker_ticks(void)
{
	char path[300], comm[32], a[32], b[32];
	unsigned long ticks = 0, ut, st;
	struct dirent *de;
	DIR *proc;
	FILE *f;

	snprintf(a, sizeof(a), "vhost-%d", getpid());
	snprintf(b, sizeof(b), "vhost-mq-%d-", getpid());
	proc = opendir("/proc");
	while (proc && (de = readdir(proc))) {
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fscanf(f, "%*d (%31[^)]) %*c %*d %*d %*d %*d %*d %*u %*u %*u "
			   "%*u %*u %lu %lu", comm, &ut, &st) == 3 &&
		    (!strcmp(comm, a) || !strncmp(comm, b, strlen(b))))
			ticks += ut + st;
		fclose(f);
	}
	if (proc)
		closedir(proc);
	return ticks;
}

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

static void die(const char *what, int err)
{
	fprintf(stderr, "pps: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(1);
}

int main(int argc, char **argv)
{
	uint64_t features = (1ULL << VIRTIO_F_VERSION_1) |
			    (1ULL << VIRTIO_RING_F_EVENT_IDX);
	const char *path = "/dev/vhost-mq", *mode = "compat";
	unsigned int npairs = 1, size = 64, seconds = 5, k;
	static struct pair pairs[MAX_PAIRS];
	pthread_t threads[MAX_PAIRS];
	unsigned long before[MAX_PAIRS], total = 0; /* then: frames moved */
	unsigned long wt, bt, hz = sysconf(_SC_CLK_TCK);
	static struct vmq_gdev dev;
	struct vmq_tap tap;
	double t0, t1;
	int c, r, fd, fds[MAX_PAIRS];
	bool pin = false;

	while ((c = getopt(argc, argv, "ad:m:p:s:t:")) != -1) {
		switch (c) {
		case 'a': pin = true; break;
		case 'd': path = optarg; break;
		case 'm': mode = optarg; break;
		case 'p': npairs = atoi(optarg); break;
		case 's': size = atoi(optarg); break;
		case 't': seconds = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: pps [-d DEV] [-m compat|device] "
				"[-p PAIRS] [-s BYTES] [-t SECONDS]\n");
			return 2;
		}
	}
	if (!npairs || npairs > MAX_PAIRS || size < 60 || size > 9000)
		die("bad arguments", EINVAL);
	r = vmq_netns_enter();
	if (!r)
		r = vmq_tap_open(&tap, "pps0", npairs, HDR, size > 1500 ? 9000 : 0);
	if (r)
		die("tap", r);
	if (!strcmp(mode, "device")) {
		features |= (1ULL << VIRTIO_NET_F_CTRL_VQ) |
			    (1ULL << VIRTIO_NET_F_MQ);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			die(path, errno);
		r = vmq_gdev_start(&dev, fd, npairs, features, 256 << 20,
				   0x80000000ULL, RING, tap.fd);
		if (!r)
			r = vmq_gctrl_set_pairs(&dev, npairs, 5000);
		if (r)
			die("device mode", r < 0 ? r : EIO);
		for (k = 0; k < npairs; k++) {
			pairs[k].tx = &dev.tx[k];
			fds[k] = fd;
		}
	} else {
		for (k = 0; k < npairs; k++) {
			fd = open(path, O_RDWR | O_CLOEXEC);
			if (fd < 0)
				die(path, errno);
			r = vmq_gpair_start(&pairs[k].gp, fd, features, 256 << 20,
					    0x80000000ULL, RING, tap.fd[k]);
			if (r)
				die("compat pair", r);
			pairs[k].tx = &pairs[k].gp.tx;
			fds[k] = fd;
		}
	}
	for (k = 0; pin && k < npairs; k++) {
		r = pin_worker(fds[k], strcmp(mode, "device") ? 0 : k, k);
		if (r)
			die("pinning needs /dev/vhost-mq", r);
	}
	for (k = 0; k < npairs; k++) {
		pairs[k].size = size;
		pairs[k].index = k;
		pthread_create(&threads[k], NULL, blast, &pairs[k]);
	}
	sleep(1);
	t0 = now();
	wt = worker_ticks();
	bt = busy_ticks();
	for (k = 0; k < npairs; k++)
		before[k] = atomic_load(&pairs[k].done);
	sleep(seconds);
	t1 = now();
	wt = worker_ticks() - wt;
	bt = busy_ticks() - bt;
	for (k = 0; k < npairs; k++) {
		before[k] = atomic_load(&pairs[k].done) - before[k];
		total += before[k];
	}
	printf("pps dev=%s mode=%s pairs=%u size=%u total=%.0f per_pair=",
	       path, mode, npairs, size, total / (t1 - t0));
	for (k = 0; k < npairs; k++)
		printf("%s%.0f", k ? "," : "", before[k] / (t1 - t0));
	/* CPU: the workers' and the whole machine's, in CPUs busy */
	printf(" workers_cpu=%.2f all_cpu=%.2f worker_ns_per_frame=%.0f\n",
	       (double)wt / hz / (t1 - t0), (double)bt / hz / (t1 - t0),
	       total ? wt * 1e9 / hz / total : 0.0);
	atomic_store(&stop, true);
	for (k = 0; k < npairs; k++)
		pthread_join(threads[k], NULL);
	return 0;
}
