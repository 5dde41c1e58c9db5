// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-mq-stat PID...: the per-vring counters of every /dev/vhost-mq fd a
 * process holds (a VMM), in the style of `ethtool -S`. It borrows each fd
 * with pidfd_getfd(2), which needs the right to ptrace the process.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/vhost_mq.h>

static const char *const drop_names[] = {
	[VHOST_MQ_DROP_TAP_REFUSED] = "tap_refused",
	[VHOST_MQ_DROP_TOO_BIG] = "too_big",
	[VHOST_MQ_DROP_RECV_FAILED] = "recv_failed",
	[VHOST_MQ_DROP_TAP_GONE] = "tap_gone",
	[VHOST_MQ_DROP_CTRL_REJECTED] = "ctrl_rejected",
};

static const char *const chain_names[] = {
	[VHOST_MQ_CHAIN_EFAULT] = "table_unreadable",
	[VHOST_MQ_CHAIN_BAD_HEAD] = "bad_head",
	[VHOST_MQ_CHAIN_BAD_NEXT] = "bad_next",
	[VHOST_MQ_CHAIN_LOOP] = "loop",
	[VHOST_MQ_CHAIN_NESTED_INDIRECT] = "nested_indirect",
	[VHOST_MQ_CHAIN_BAD_INDIRECT] = "bad_indirect",
	[VHOST_MQ_CHAIN_OUT_AFTER_IN] = "out_after_in",
	[VHOST_MQ_CHAIN_TOO_MANY_SEGS] = "too_many_segs",
	[VHOST_MQ_CHAIN_BAD_ADDR] = "bad_addr",
	[VHOST_MQ_CHAIN_WRONG_DIRECTION] = "wrong_direction",
	[VHOST_MQ_CHAIN_TOO_SHORT] = "too_short",
	[VHOST_MQ_CHAIN_CTRL_NO_HEADER] = "ctrl_no_header",
	[VHOST_MQ_CHAIN_CTRL_NO_ACK] = "ctrl_no_ack",
	[VHOST_MQ_CHAIN_AVAIL_IDX] = "avail_idx",
	[VHOST_MQ_CHAIN_MEM_FAULT] = "mem_fault",
	[VHOST_MQ_CHAIN_IOTLB_PERM] = "iotlb_perm",
	[VHOST_MQ_CHAIN_BAD_ID] = "bad_id",
	[VHOST_MQ_CHAIN_ID_IN_USE] = "id_in_use",
	[VHOST_MQ_CHAIN_PACKED_FLAGS] = "packed_flags",
};

static void print_vring(const struct vhost_mq_vring_stats *s,
			unsigned int pairs)
{
	char q[16];
	unsigned int i;

	if (s->index == 2 * pairs)
		snprintf(q, sizeof(q), "ctrl");
	else
		snprintf(q, sizeof(q), "%s%u", s->index % 2 ? "tx" : "rx",
			 s->index / 2);
	printf("     %s_packets: %llu\n", q, (unsigned long long)s->packets);
	printf("     %s_bytes: %llu\n", q, (unsigned long long)s->bytes);
	printf("     %s_kicks: %llu\n", q, (unsigned long long)s->kicks);
	printf("     %s_interrupts: %llu\n", q,
	       (unsigned long long)s->interrupts);
	printf("     %s_wakeups: %llu\n", q, (unsigned long long)s->wakeups);
	printf("     %s_folded: %llu\n", q, (unsigned long long)s->folded);
	printf("     %s_iotlb_misses: %llu\n", q,
	       (unsigned long long)s->iotlb_misses);
	printf("     %s_errors: %llu\n", q, (unsigned long long)s->errors);
	for (i = 0; i < sizeof(drop_names) / sizeof(drop_names[0]); i++)
		printf("     %s_drops_%s: %llu\n", q, drop_names[i],
		       (unsigned long long)s->drops[i]);
	/* the reasons a guest broke the ring, when it did */
	for (i = 1; i < sizeof(chain_names) / sizeof(chain_names[0]); i++)
		if (s->chain_errors[i])
			printf("     %s_error_%s: %llu\n", q, chain_names[i],
			       (unsigned long long)s->chain_errors[i]);
}

static void print_fd(pid_t pid, int target, int fd)
{
	struct vhost_mq_active a = { .pairs = 1, .active = 1 };
	struct vhost_mq_vring_stats s;
	struct vhost_mq_worker w = { 0 };
	struct vhost_mq_pair p;
	unsigned int i;

	ioctl(fd, VHOST_MQ_GET_ACTIVE, &a);
	printf("/dev/vhost-mq fd %d of pid %d: %u of %u pairs active, "
	       "%llu changes\n", target, pid, a.active, a.pairs,
	       (unsigned long long)a.changes);
	for (i = 0; i < a.pairs; i++) {
		p = (struct vhost_mq_pair){ .pair = i };
		w = (struct vhost_mq_worker){ .pair = i };
		if (ioctl(fd, VHOST_MQ_GET_PAIR, &p))
			break;
		if (ioctl(fd, VHOST_MQ_GET_WORKER, &w))
			w.tid = 0;
		printf("  pair %u: %s", i,
		       p.flags & VHOST_MQ_PAIR_ACTIVE ? "active" : "inactive");
		if (!(p.flags & VHOST_MQ_PAIR_ACTIVE))
			printf(" (rx folded into pair %u)", p.target);
		printf(", worker tid %d%s%s\n", w.tid,
		       p.flags & VHOST_MQ_PAIR_RX_STOPPED ? ", rx stopped" : "",
		       p.flags & VHOST_MQ_PAIR_TX_STOPPED ? ", tx stopped" : "");
	}
	printf("NIC statistics:\n");
	for (i = 0;; i++) {
		memset(&s, 0, sizeof(s));
		s.index = i;
		if (ioctl(fd, VHOST_MQ_GET_VRING_STATS, &s))
			break;
		print_vring(&s, a.pairs);
	}
}

static int stat_pid(pid_t pid)
{
	char dir[64], link[PATH_MAX + 1], path[PATH_MAX];
	int pidfd, fd, found = 0;
	struct dirent *de;
	ssize_t n;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", pid);
	d = opendir(dir);
	if (!d) {
		fprintf(stderr, "vhost-mq-stat: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	pidfd = syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		fprintf(stderr, "vhost-mq-stat: pid %d: %s\n", pid,
			strerror(errno));
		closedir(d);
		return 1;
	}
	while ((de = readdir(d))) {
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n < 0)
			continue;
		link[n] = '\0';
		if (strcmp(link, "/dev/" VHOST_MQ_DEVICE_NAME))
			continue;
		fd = syscall(SYS_pidfd_getfd, pidfd, atoi(de->d_name), 0);
		if (fd < 0) {
			fprintf(stderr,
				"vhost-mq-stat: cannot borrow fd %s of pid %d: %s (run as root)\n",
				de->d_name, pid, strerror(errno));
			continue;
		}
		print_fd(pid, atoi(de->d_name), fd);
		close(fd);
		found++;
	}
	close(pidfd);
	closedir(d);
	if (!found)
		fprintf(stderr, "vhost-mq-stat: pid %d holds no /dev/vhost-mq\n",
			pid);
	return !found;
}

int main(int argc, char **argv)
{
	int i, ret = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: vhost-mq-stat PID...\n"
			"  counters of every /dev/vhost-mq fd the process holds\n");
		return 2;
	}
	for (i = 1; i < argc; i++)
		ret |= stat_pid(atoi(argv[i]));
	return ret;
}
