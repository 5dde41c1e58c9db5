// SPDX-License-Identifier: GPL-2.0
/*
 * stats_test.c - vhost-mq's extension ioctls (uapi/linux/vhost_mq.h):
 * per-vring counters that match the traffic and say why frames were
 * dropped and why a guest broke a ring; the worker's thread id and CPU
 * pinning; and vhost-mq-stat reading them from outside. vhost-net has no
 * such ioctls, so these run on /dev/vhost-mq only.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <linux/vhost.h>
#include <linux/vhost_mq.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>

#include "guest.h"
#include "vmq_net.h"
#include "vmq_test.h"
#include "kselftest_harness.h"

#define HDR	12

FIXTURE(st) {
	int fd;
	struct vmq_gpair gp;
	struct vmq_tap tap;
	unsigned char frame[2000];
};

FIXTURE_SETUP(st)
{
	uint64_t features = (1ULL << VIRTIO_F_VERSION_1) |
			    (1ULL << VIRTIO_RING_F_EVENT_IDX);

	vmq_kmsg_mark(_metadata->name, VHOST_MQ_PATH);
	ASSERT_EQ(0, vmq_netns_enter());
	ASSERT_EQ(0, vmq_tap_open(&self->tap, "vmq0", 1, HDR, 0));
	self->fd = open(VHOST_MQ_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
	/* no MRG_RXBUF: each frame must fit one rx chain */
	ASSERT_EQ(0, vmq_gpair_start(&self->gp, self->fd, features, 8 << 20,
				     0x80000000ULL, 64, self->tap.fd[0]));
}

FIXTURE_TEARDOWN(st)
{
	close(self->fd);
	vmq_gpair_destroy(&self->gp);
	vmq_tap_close(&self->tap);
}

static int stats(int fd, unsigned int index, struct vhost_mq_vring_stats *s)
{
	memset(s, 0, sizeof(*s));
	s->index = index;
	return ioctl(fd, VHOST_MQ_GET_VRING_STATS, s) ? errno : 0;
}

static void tx(FIXTURE_DATA(st) *self, size_t len, uint32_t seq)
{
	unsigned char *p = vmq_guest_alloc(&self->gp.g, HDR + len, 8);
	struct vmq_gbuf b = { p, HDR + len };

	vmq_frame_fill(p + HDR, len, seq);
	vmq_gvq_add(&self->gp.tx, &b, 1, 0, p, false);
	vmq_gvq_kick(&self->gp.tx);
}

static void rx_post(FIXTURE_DATA(st) *self, size_t len)
{
	unsigned char *p = vmq_guest_alloc(&self->gp.g, len, 8);
	struct vmq_gbuf b = { p, len };

	vmq_gvq_add(&self->gp.rx, &b, 0, 1, p, false);
	vmq_gvq_kick(&self->gp.rx);
}

static void rx_send(FIXTURE_DATA(st) *self, size_t len, uint32_t seq)
{
	vmq_frame_fill(self->frame, len, seq);
	vmq_pkt_send(self->tap.pkt, self->tap.ifindex, self->frame, len);
}

TEST_F(st, counters_match_the_traffic)
{
	struct vhost_mq_vring_stats s;
	int i;

	for (i = 0; i < 5; i++) {
		tx(self, 100 + i, i);
		ASSERT_EQ(100 + i, vmq_pkt_recv(self->tap.pkt, self->frame,
						sizeof(self->frame), 5000));
	}
	for (i = 0; i < 3; i++) {
		rx_post(self, 2048);
		rx_send(self, 200, i);
		ASSERT_NE(NULL, vmq_gvq_get_wait(&self->gp.rx, NULL, 5000));
	}
	ASSERT_EQ(0, stats(self->fd, 1, &s));
	EXPECT_EQ(5, s.packets);
	EXPECT_EQ(100 + 101 + 102 + 103 + 104, s.bytes);
	EXPECT_LE(1, s.kicks);
	EXPECT_LE(1, s.wakeups);
	EXPECT_EQ(0, s.errors);
	ASSERT_EQ(0, stats(self->fd, 0, &s));
	EXPECT_EQ(3, s.packets);
	EXPECT_EQ(600, s.bytes);
	/* at least the first: later ones depend on when the guest asked */
	EXPECT_LE(1, s.interrupts);
	EXPECT_EQ(0, s.drops[VHOST_MQ_DROP_TOO_BIG]);
}

TEST_F(st, a_frame_too_big_for_the_buffers_is_dropped_and_counted)
{
	struct vhost_mq_vring_stats s;
	uint32_t len;

	rx_post(self, 500);
	rx_send(self, 1000, 1);
	rx_send(self, 300, 2);
	/* the big one is dropped, the small one takes the buffer */
	ASSERT_NE(NULL, vmq_gvq_get_wait(&self->gp.rx, &len, 5000));
	EXPECT_EQ(HDR + 300, len);
	ASSERT_EQ(0, stats(self->fd, 0, &s));
	EXPECT_EQ(1, s.drops[VHOST_MQ_DROP_TOO_BIG]);
	EXPECT_EQ(1, s.packets);
}

TEST_F(st, a_broken_chain_is_counted_by_its_reason)
{
	struct vhost_mq_vring_stats s;
	uint16_t head;

	tx(self, 100, 1);
	ASSERT_EQ(100, vmq_pkt_recv(self->tap.pkt, self->frame,
				    sizeof(self->frame), 5000));
	/* a chain looping back on itself */
	head = self->gp.tx.free_head;
	self->gp.tx.vring.desc[head].flags = VRING_DESC_F_NEXT;
	self->gp.tx.vring.desc[head].next = head;
	self->gp.tx.vring.avail->ring[self->gp.tx.avail_idx & 63] = head;
	__atomic_store_n(&self->gp.tx.vring.avail->idx,
			 ++self->gp.tx.avail_idx, __ATOMIC_RELEASE);
	vmq_gvq_kick(&self->gp.tx);
	usleep(200000);
	ASSERT_EQ(0, stats(self->fd, 1, &s));
	EXPECT_EQ(1, s.errors);
	EXPECT_EQ(1, s.chain_errors[VHOST_MQ_CHAIN_LOOP]);
	EXPECT_LT(0, vmq_eventfd_read(self->gp.tx.err_fd));
}

TEST_F(st, stats_ioctl_checks_its_argument)
{
	struct vhost_mq_vring_stats s = { .index = 2 };
	int fresh;

	EXPECT_EQ(-1, ioctl(self->fd, VHOST_MQ_GET_VRING_STATS, &s));
	EXPECT_EQ(ENOBUFS, errno);
	s.index = 0;
	s.padding = 1;
	EXPECT_EQ(-1, ioctl(self->fd, VHOST_MQ_GET_VRING_STATS, &s));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->fd, VHOST_MQ_GET_VRING_STATS, NULL));
	EXPECT_EQ(EFAULT, errno);
	/* no owner needed, and a fresh device counts nothing */
	fresh = open(VHOST_MQ_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_EQ(0, stats(fresh, 1, &s));
	EXPECT_EQ(0, s.packets + s.kicks + s.wakeups);
	close(fresh);
}

static int worker_tid(int fd, unsigned int pair)
{
	struct vhost_mq_worker w = { .pair = pair };

	return ioctl(fd, VHOST_MQ_GET_WORKER, &w) ? -errno : w.tid;
}

static int cpus_allowed(int tid, char *buf, size_t len)
{
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", tid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "Cpus_allowed_list:", 18)) {
			snprintf(buf, len, "%s", line + 18 + strspn(line + 18, " \t"));
			buf[strcspn(buf, "\n")] = '\0';
			fclose(f);
			return 0;
		}
	fclose(f);
	return -ENOENT;
}

static int pin(int fd, unsigned int pair, int cpu)
{
	struct vhost_mq_worker_affinity a = { .pair = pair };
	cpu_set_t set;

	CPU_ZERO(&set);
	if (cpu >= 0)
		CPU_SET(cpu, &set);
	a.size = sizeof(set);
	a.mask = (uintptr_t)&set;
	return ioctl(fd, VHOST_MQ_SET_WORKER_AFFINITY, &a) ? errno : 0;
}

TEST_F(st, the_worker_can_be_found_and_pinned)
{
	char comm[32], path[64], buf[64];
	int tid, status, fresh;
	pid_t pid;
	FILE *f;

	tid = worker_tid(self->fd, 0);
	ASSERT_LT(0, tid);
	snprintf(path, sizeof(path), "/proc/%d/comm", tid);
	f = fopen(path, "re");
	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, fgets(buf, sizeof(buf), f));
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	snprintf(comm, sizeof(comm), "vhost-mq-%d-0", getpid());
	EXPECT_EQ(0, strncmp(buf, comm, 15)) TH_LOG("comm %s", buf);
	EXPECT_EQ(-ENOBUFS, worker_tid(self->fd, 1));

	ASSERT_EQ(0, pin(self->fd, 0, 0));
	ASSERT_EQ(0, cpus_allowed(tid, buf, sizeof(buf)));
	EXPECT_STREQ("0", buf);
	if (sysconf(_SC_NPROCESSORS_ONLN) > 1) {
		ASSERT_EQ(0, pin(self->fd, 0, 1));
		ASSERT_EQ(0, cpus_allowed(tid, buf, sizeof(buf)));
		EXPECT_STREQ("1", buf);
	}
	EXPECT_EQ(EINVAL, pin(self->fd, 0, -1));
	EXPECT_EQ(ENOBUFS, pin(self->fd, 1, 0));
	/* traffic still flows on the pinned worker */
	tx(self, 64, 9);
	EXPECT_EQ(64, vmq_pkt_recv(self->tap.pkt, self->frame,
				   sizeof(self->frame), 5000));

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(pin(self->fd, 0, 0) == EPERM ? 0 : 1);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("a non-owner pinned it");
	fresh = open(VHOST_MQ_PATH, O_RDWR | O_CLOEXEC);
	EXPECT_EQ(-EPERM, worker_tid(fresh, 0));
	close(fresh);
}

static int pin_mask(int fd, unsigned int pair, const cpu_set_t *set)
{
	struct vhost_mq_worker_affinity a = {
		.pair = pair, .size = sizeof(*set), .mask = (uintptr_t)set,
	};

	return ioctl(fd, VHOST_MQ_SET_WORKER_AFFINITY, &a) ? errno : 0;
}

/*
 * In a cgroup2 cpuset of CPU 0 the owner cannot move itself to CPU 1, nor
 * may it move its worker there; asked for CPUs 0 and 1, the worker gets 0.
 * The child exits with the number of the step that went wrong.
 */
static int cpuset_child(const char *cg)
{
	char path[300], pid[16], buf[64];
	cpu_set_t set;
	int fd, tid;

	snprintf(path, sizeof(path), "%s/vmq/cpuset.cpus", cg);
	if (vmq_write_file(path, "0"))
		return 10;
	snprintf(path, sizeof(path), "%s/vmq/cpuset.mems", cg);
	if (vmq_write_file(path, "0"))
		return 11;
	snprintf(path, sizeof(path), "%s/vmq/cgroup.procs", cg);
	snprintf(pid, sizeof(pid), "%d", getpid());
	if (vmq_write_file(path, pid))
		return 12;
	CPU_ZERO(&set);
	CPU_SET(1, &set);
	if (!sched_setaffinity(0, sizeof(set), &set) || errno != EINVAL)
		return 13;
	fd = open(VHOST_MQ_PATH, O_RDWR | O_CLOEXEC);
	if (fd < 0 || ioctl(fd, VHOST_SET_OWNER, NULL))
		return 14;
	tid = worker_tid(fd, 0);
	if (tid <= 0 || cpus_allowed(tid, buf, sizeof(buf)) || strcmp(buf, "0"))
		return 15;
	if (pin_mask(fd, 0, &set) != EINVAL)
		return 16;
	CPU_SET(0, &set);
	if (pin_mask(fd, 0, &set))
		return 17;
	if (cpus_allowed(tid, buf, sizeof(buf)) || strcmp(buf, "0"))
		return 18;
	close(fd);
	return 0;
}

TEST_F(st, pinning_keeps_the_worker_in_the_owners_cpuset)
{
	char cg[] = "/tmp/vmq-cg-XXXXXX", path[300], ctl[256] = "";
	int status, i;
	pid_t pid;
	FILE *f;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		SKIP(return, "one CPU: no cpuset to escape");
	ASSERT_NE(NULL, mkdtemp(cg));
	if (mount("none", cg, "cgroup2", 0, NULL)) {
		rmdir(cg);
		SKIP(return, "no cgroup2 in this kernel");
	}
	snprintf(path, sizeof(path), "%s/cgroup.controllers", cg);
	f = fopen(path, "re");
	if (f) {
		if (!fgets(ctl, sizeof(ctl), f))
			ctl[0] = '\0';
		fclose(f);
	}
	if (!strstr(ctl, "cpuset")) {
		umount(cg);
		rmdir(cg);
		SKIP(return, "no cpuset controller in this kernel");
	}
	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", cg);
	ASSERT_EQ(0, vmq_write_file(path, "+cpuset"));
	snprintf(path, sizeof(path), "%s/vmq", cg);
	ASSERT_EQ(0, mkdir(path, 0755));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(cpuset_child(cg));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("step %d (16: the worker was pinned outside the cpuset)",
		       WEXITSTATUS(status));
	/* the worker leaves the cgroup a moment after its owner */
	for (i = 0; i < 100 && rmdir(path); i++)
		usleep(50000);
	EXPECT_EQ(0, umount(cg));
	rmdir(cg);
}

/*
 * A VMM in a pid namespace of its own cannot see its worker (a kernel
 * thread of the initial namespace): GET_WORKER says ESRCH instead of a
 * tid of 0, and pinning the worker still works.
 */
static int pidns_child(void)
{
	struct vhost_mq_worker w = { .pair = 0 };
	int fd;

	fd = open(VHOST_MQ_PATH, O_RDWR | O_CLOEXEC);
	if (fd < 0 || ioctl(fd, VHOST_SET_OWNER, NULL))
		return 10;
	if (!ioctl(fd, VHOST_MQ_GET_WORKER, &w))
		return w.tid ? 11 : 12;
	if (errno != ESRCH)
		return 13;
	if (pin(fd, 0, 0))
		return 14;
	close(fd);
	return 0;
}

TEST_F(st, get_worker_in_a_pid_namespace_says_esrch)
{
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (unshare(CLONE_NEWPID))
			_exit(20);
		pid = fork();
		if (pid < 0)
			_exit(21);
		if (pid == 0)
			_exit(pidns_child());
		if (waitpid(pid, &status, 0) != pid)
			_exit(22);
		_exit(WEXITSTATUS(status));
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("step %d (12: a tid of 0)", WEXITSTATUS(status));
}

TEST_F(st, vhost_mq_stat_shows_another_process_the_counters)
{
	char cmd[128], out[8192];
	size_t n;
	FILE *p;
	int i;

	for (i = 0; i < 4; i++) {
		tx(self, 70, i);
		ASSERT_EQ(70, vmq_pkt_recv(self->tap.pkt, self->frame,
					   sizeof(self->frame), 5000));
	}
	snprintf(cmd, sizeof(cmd), "build/vhost-mq-stat %d", getpid());
	p = popen(cmd, "r");
	ASSERT_NE(NULL, p);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	EXPECT_EQ(0, pclose(p)) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "tx0_packets: 4\n")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "tx0_bytes: 280\n"));
	EXPECT_NE(NULL, strstr(out, "rx0_packets: 0\n"));
	EXPECT_NE(NULL, strstr(out, "worker tid"));
}

TEST_HARNESS_MAIN
