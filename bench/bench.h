/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bench.h - what the packet-rate (pps.c) and request/response (urr.c)
 * benchmarks share: a fake guest's pairs on one of the devices the way
 * each is driven, the workers' threads found, pinned and timed.
 */
#ifndef VMQ_BENCH_H
#define VMQ_BENCH_H

#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/vhost.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>

#include "guest.h"
#include "vmq_net.h"

#define BENCH_MAX_PAIRS	VMQ_GDEV_MAX_PAIRS

static inline double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline void bench_die(const char *prog, const char *what, int err)
{
	fprintf(stderr, "%s: %s: %s\n", prog, what,
		strerror(err < 0 ? -err : err));
	exit(1);
}

/*
 * A fake guest's @npairs pairs on @path, each pair's rings of @num
 * entries, backed by tap @tap: "compat", one vhost fd per pair with a
 * guest memory of its own, as QEMU drives vhost-net; "device", one
 * /dev/vhost-mq fd for all pairs (VHOST_MQ_SET_PAIRS) with the control
 * vq, all pairs made active; "vdpa", that device through its vhost-vdpa
 * frontend set up as QEMU 7.2 does, every address an IOVA of its IOTLB.
 * rx[k]/tx[k]: pair k's rings; fd[k]: the vhost fd they are on; base[k]:
 * the index of pair k's rx vring on that fd.
 */
struct bench_dev {
	unsigned int npairs;
	bool compat;
	int fd[BENCH_MAX_PAIRS];
	unsigned int base[BENCH_MAX_PAIRS];
	struct vmq_gvq *rx[BENCH_MAX_PAIRS], *tx[BENCH_MAX_PAIRS];
	struct vmq_gpair gp[BENCH_MAX_PAIRS];
	struct vmq_gdev dev;
};

static inline bool bench_mode_ok(const char *mode)
{
	return !strcmp(mode, "compat") || !strcmp(mode, "device") ||
	       !strcmp(mode, "vdpa");
}

/* 0, or -errno with @what[0] naming the step that failed */
static inline int bench_dev_start(struct bench_dev *b, const char *path,
				  const char *mode, unsigned int npairs,
				  uint64_t features, uint32_t num,
				  const struct vmq_tap *tap, const char **what)
{
	static const uint8_t mac[6] = { 0x02, 0x56, 0x4d, 0x51, 0, 2 };
	const size_t mem = 512 << 20;
	const uint64_t gpa = 0x80000000ULL;
	unsigned int k;
	int fd, r;

	memset(b, 0, sizeof(*b));
	b->npairs = npairs;
	b->compat = !strcmp(mode, "compat");
	*what = path;
	if (b->compat) {
		for (k = 0; k < npairs; k++) {
			fd = open(path, O_RDWR | O_CLOEXEC);
			if (fd < 0)
				return -errno;
			*what = "compat pair";
			r = vmq_gpair_start(&b->gp[k], fd, features, mem, gpa,
					    num, tap->fd[k]);
			if (r)
				return r;
			b->fd[k] = fd;
			b->rx[k] = &b->gp[k].rx;
			b->tx[k] = &b->gp[k].tx;
		}
		return 0;
	}
	features |= (1ULL << VIRTIO_NET_F_CTRL_VQ) | (1ULL << VIRTIO_NET_F_MQ);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	*what = "device mode";
	if (!strcmp(mode, "vdpa"))
		r = vmq_gdev_start_vdpa(&b->dev, fd, npairs, features |
					(1ULL << VIRTIO_F_ACCESS_PLATFORM),
					mem, gpa, num, tap->fd, mac);
	else
		r = vmq_gdev_start(&b->dev, fd, npairs, features, mem, gpa,
				   num, tap->fd);
	if (!r)
		r = vmq_gctrl_set_pairs(&b->dev, npairs, 5000);
	if (r)
		return r < 0 ? r : -EIO;
	for (k = 0; k < npairs; k++) {
		b->fd[k] = fd;
		b->base[k] = 2 * k;
		b->rx[k] = &b->dev.rx[k];
		b->tx[k] = &b->dev.tx[k];
	}
	return 0;
}

/* VHOST_SET_VRING_BUSYLOOP_TIMEOUT of @us on every pair's two vrings */
static inline int bench_dev_busyloop(struct bench_dev *b, unsigned int us)
{
	unsigned int k, i;

	for (k = 0; k < b->npairs; k++) {
		for (i = 0; i < 2; i++) {
			struct vhost_vring_state st = { b->base[k] + i, us };

			if (ioctl(b->fd[k], VHOST_SET_VRING_BUSYLOOP_TIMEOUT, &st))
				return -errno;
		}
	}
	return 0;
}

/*
 * The device's worker threads (vhost-<pid> for vhost-net,
 * vhost-mq-<pid>-<k> for ours): bench_is_worker() tells one by its /proc
 * entry, bench_worker_tids() gives at most @max of their tids, in the
 * order they were created, which is that of the pairs.
 */
static inline bool bench_is_worker(const char *entry)
{
	char path[300], comm[32], a[32], b[32];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%s/comm", entry);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = 0;
	fclose(f);
	comm[strcspn(comm, "\n")] = 0;
	snprintf(a, sizeof(a), "vhost-%d", getpid());
	snprintf(b, sizeof(b), "vhost-mq-%d-", getpid());
	return !strcmp(comm, a) || !strncmp(comm, b, strlen(b));
}

static inline int bench_cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

static inline int bench_worker_tids(int *tids, int max)
{
	struct dirent *de;
	DIR *proc;
	int n = 0;

	proc = opendir("/proc");
	while (proc && (de = readdir(proc)) && n < max)
		if (de->d_name[0] >= '0' && de->d_name[0] <= '9' &&
		    bench_is_worker(de->d_name))
			tids[n++] = atoi(de->d_name);
	if (proc)
		closedir(proc);
	qsort(tids, n, sizeof(*tids), bench_cmp_int);
	return n;
}

/*
 * The CPU time the workers have used, in nanoseconds: the first field of
 * each one's /proc/TID/schedstat, the scheduler's exact runtime, not
 * tick samples.
 */
static inline unsigned long long bench_worker_ns(void)
{
	unsigned long long ns = 0, run;
	int tids[64], n, i;
	char path[64];
	FILE *f;

	n = bench_worker_tids(tids, 64);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "/proc/%d/schedstat", tids[i]);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fscanf(f, "%llu", &run) == 1)
			ns += run;
		fclose(f);
	}
	return ns;
}

/* thread @tid (0: the caller) on CPU @cpu (modulo the CPUs online) */
static inline int bench_pin(pid_t tid, unsigned int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu % sysconf(_SC_NPROCESSORS_ONLN), &set);
	return sched_setaffinity(tid, sizeof(set), &set) ? -errno : 0;
}

/* pair k's worker on CPU k + 1: -ESRCH unless there is one per pair */
static inline int bench_pin_workers(unsigned int npairs)
{
	int tids[BENCH_MAX_PAIRS], r;
	unsigned int k;

	if (bench_worker_tids(tids, BENCH_MAX_PAIRS) != (int)npairs)
		return -ESRCH;
	for (k = 0; k < npairs; k++) {
		r = bench_pin(tids[k], k + 1);
		if (r)
			return r;
	}
	return 0;
}

#endif /* VMQ_BENCH_H */
