// SPDX-License-Identifier: GPL-2.0
/*
 * vhost_dev_test.c - the device-level ioctls (features, ownership, the
 * worker, unknown ioctls), run against /dev/vhost-net as the reference and
 * against /dev/vhost-mq, which must answer the same way.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <linux/vhost.h>
#include <linux/vhost_mq.h>

#include "vmq_test.h"
#include "kselftest_harness.h"

#define VIRTIO_F_ACCESS_PLATFORM_BIT	33
#define VHOST_BACKEND_F_IOTLB_MSG_V2_BIT	1

/* an ioctl number neither device knows, in vhost's own magic */
#define UNKNOWN_IOCTL	_IOW(VHOST_VIRTIO, 0x7f, __u32)

FIXTURE(vdev) {
	int fd;
};

FIXTURE_VARIANT(vdev) {
	const char *path;
	const char *worker_fmt;		/* comm of the worker, by owner pid */
	uint64_t backend_features;
	uint64_t features;		/* the set it offers and accepts */
};

FIXTURE_VARIANT_ADD(vdev, vhost_net) {
	.path = VHOST_NET_PATH,
	.worker_fmt = "vhost-%d",
	.backend_features = 1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2_BIT,
	/* vhost-net never got packed rings */
	.features = VHOST_MQ_FEATURES & ~(1ULL << VIRTIO_F_RING_PACKED),
};

FIXTURE_VARIANT_ADD(vdev, vhost_mq) {
	.path = VHOST_MQ_PATH,
	.worker_fmt = "vhost-mq-%d-0",
	.backend_features = VHOST_MQ_BACKEND_FEATURES,
	.features = VHOST_MQ_FEATURES,
};

FIXTURE_SETUP(vdev)
{
	vmq_kmsg_mark(_metadata->name, variant->path);
	self->fd = open(variant->path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", variant->path,
				       strerror(errno));
}

FIXTURE_TEARDOWN(vdev)
{
	close(self->fd);
}

/* ioctl() as errno: 0 on success */
static int xioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) < 0 ? errno : 0;
}

static void worker_name(char *buf, size_t len, const char *fmt, pid_t pid)
{
	snprintf(buf, len, fmt, pid);
}

TEST_F(vdev, get_features_needs_no_owner_and_offers_the_common_set)
{
	uint64_t features = 0;

	ASSERT_EQ(0, xioctl(self->fd, VHOST_GET_FEATURES, &features));
	EXPECT_EQ(variant->features, features & VHOST_MQ_FEATURES);
}

TEST_F(vdev, get_features_to_bad_pointer_is_efault)
{
	EXPECT_EQ(EFAULT, xioctl(self->fd, VHOST_GET_FEATURES, NULL));
}

TEST_F(vdev, set_features_offered_set_is_accepted_without_owner)
{
	uint64_t features = variant->features;

	EXPECT_EQ(0, xioctl(self->fd, VHOST_SET_FEATURES, &features));
}

TEST_F(vdev, set_features_unknown_bit_is_eopnotsupp)
{
	uint64_t features = 1ULL << 63;

	EXPECT_EQ(EOPNOTSUPP, xioctl(self->fd, VHOST_SET_FEATURES, &features));
}

TEST_F(vdev, set_features_from_bad_pointer_is_efault)
{
	EXPECT_EQ(EFAULT, xioctl(self->fd, VHOST_SET_FEATURES, NULL));
}

TEST_F(vdev, backend_features_offered_and_unknown_refused)
{
	uint64_t features = ~0ULL;

	ASSERT_EQ(0, xioctl(self->fd, VHOST_GET_BACKEND_FEATURES, &features));
	EXPECT_EQ(variant->backend_features, features);
	EXPECT_EQ(0, xioctl(self->fd, VHOST_SET_BACKEND_FEATURES, &features));
	features = 1ULL << 40;
	EXPECT_EQ(EOPNOTSUPP,
		  xioctl(self->fd, VHOST_SET_BACKEND_FEATURES, &features));
}

TEST_F(vdev, set_owner_twice_is_ebusy)
{
	ASSERT_EQ(0, xioctl(self->fd, VHOST_SET_OWNER, NULL));
	EXPECT_EQ(EBUSY, xioctl(self->fd, VHOST_SET_OWNER, NULL));
}

TEST_F(vdev, set_owner_starts_one_named_worker_that_close_stops)
{
	char name[32];

	worker_name(name, sizeof(name), variant->worker_fmt, getpid());
	ASSERT_EQ(0, vmq_count_tasks_named(name));
	ASSERT_EQ(0, xioctl(self->fd, VHOST_SET_OWNER, NULL));
	EXPECT_EQ(1, vmq_count_tasks_named(name)) TH_LOG("worker %s", name);
	close(self->fd);
	self->fd = open("/dev/null", O_RDONLY);
	EXPECT_EQ(0, vmq_wait_tasks_named(name, 0, 2000));
}

TEST_F(vdev, reset_owner_without_owner_is_eperm)
{
	EXPECT_EQ(EPERM, xioctl(self->fd, VHOST_RESET_OWNER, NULL));
}

TEST_F(vdev, reset_owner_stops_the_worker_and_a_new_owner_may_come)
{
	char name[32];

	worker_name(name, sizeof(name), variant->worker_fmt, getpid());
	ASSERT_EQ(0, xioctl(self->fd, VHOST_SET_OWNER, NULL));
	ASSERT_EQ(0, xioctl(self->fd, VHOST_RESET_OWNER, NULL));
	EXPECT_EQ(0, vmq_wait_tasks_named(name, 0, 2000));
	EXPECT_EQ(EPERM, xioctl(self->fd, VHOST_RESET_OWNER, NULL));
	EXPECT_EQ(0, xioctl(self->fd, VHOST_SET_OWNER, NULL));
	EXPECT_EQ(1, vmq_count_tasks_named(name));
}

static void *reset_owner_thread(void *arg)
{
	return (void *)(intptr_t)xioctl(*(int *)arg, VHOST_RESET_OWNER, NULL);
}

TEST_F(vdev, a_thread_of_the_owner_may_act_as_owner)
{
	pthread_t thread;
	void *ret;

	ASSERT_EQ(0, xioctl(self->fd, VHOST_SET_OWNER, NULL));
	ASSERT_EQ(0, pthread_create(&thread, NULL, reset_owner_thread,
				    &self->fd));
	ASSERT_EQ(0, pthread_join(thread, &ret));
	EXPECT_EQ(0, (intptr_t)ret);
}

/*
 * A forked child shares the fd but not the owner's mm: it cannot take the
 * device over (EBUSY) nor act as its owner (EPERM).
 */
TEST_F(vdev, another_process_is_not_the_owner)
{
	uint32_t idx = 0;
	int status;
	pid_t pid;

	ASSERT_EQ(0, xioctl(self->fd, VHOST_SET_OWNER, NULL));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int bad = 0;

		bad |= (xioctl(self->fd, VHOST_SET_OWNER, NULL) != EBUSY) << 0;
		bad |= (xioctl(self->fd, VHOST_RESET_OWNER, NULL) != EPERM) << 1;
		bad |= (xioctl(self->fd, UNKNOWN_IOCTL, &idx) != EPERM) << 2;
		_exit(bad);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("wrong errno: bit0 SET_OWNER, bit1 RESET_OWNER, bit2 other");
	/* and the real owner still is */
	EXPECT_EQ(0, xioctl(self->fd, VHOST_RESET_OWNER, NULL));
}

TEST_F(vdev, unknown_ioctl_without_owner_is_eperm)
{
	uint32_t idx = 0;

	EXPECT_EQ(EPERM, xioctl(self->fd, UNKNOWN_IOCTL, &idx));
}

TEST_F(vdev, unknown_ioctl_with_bad_pointer_is_efault)
{
	ASSERT_EQ(0, xioctl(self->fd, VHOST_SET_OWNER, NULL));
	EXPECT_EQ(EFAULT, xioctl(self->fd, UNKNOWN_IOCTL, NULL));
}

TEST_F(vdev, unknown_ioctl_with_vring_index_out_of_range_is_enobufs)
{
	uint32_t idx;

	ASSERT_EQ(0, xioctl(self->fd, VHOST_SET_OWNER, NULL));
	idx = 2;
	EXPECT_EQ(ENOBUFS, xioctl(self->fd, UNKNOWN_IOCTL, &idx));
	idx = 0xffffffff;
	EXPECT_EQ(ENOBUFS, xioctl(self->fd, UNKNOWN_IOCTL, &idx));
}

TEST_F(vdev, unknown_ioctl_with_valid_vring_index_is_enotty)
{
	uint32_t idx;

	ASSERT_EQ(0, xioctl(self->fd, VHOST_SET_OWNER, NULL));
	for (idx = 0; idx < 2; idx++) {
		EXPECT_EQ(ENOTTY, xioctl(self->fd, UNKNOWN_IOCTL, &idx));
		/* another magic goes the same way */
		EXPECT_EQ(ENOTTY, xioctl(self->fd, _IOW('T', 0x7f, __u32),
					 &idx));
	}
}

/* Compat mode offers vhost-net's features, ACCESS_PLATFORM too, and packed. */
TEST(features_are_vhost_nets)
{
	uint64_t net = 0, mq = 0;
	int fd_net, fd_mq;

	vmq_kmsg_mark(_metadata->name, "both devices");
	fd_net = open(VHOST_NET_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd_net);
	fd_mq = open(VHOST_MQ_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd_mq);
	ASSERT_EQ(0, xioctl(fd_net, VHOST_GET_FEATURES, &net));
	ASSERT_EQ(0, xioctl(fd_mq, VHOST_GET_FEATURES, &mq));
	EXPECT_TRUE(net & (1ULL << VIRTIO_F_ACCESS_PLATFORM_BIT));
	/* and packed rings, which vhost-net never got */
	EXPECT_FALSE(net & (1ULL << VIRTIO_F_RING_PACKED));
	EXPECT_TRUE(mq & (1ULL << VIRTIO_F_RING_PACKED));
	EXPECT_EQ(net, mq & ~(1ULL << VIRTIO_F_RING_PACKED));
	close(fd_net);
	close(fd_mq);
}

/* max_queue_pairs, from the module */
static unsigned int max_pairs(void)
{
	unsigned int n = 0;
	FILE *f = fopen("/sys/module/vhost_mq/parameters/max_queue_pairs", "re");

	if (f) {
		if (fscanf(f, "%u", &n) != 1)
			n = 0;
		fclose(f);
	}
	return n;
}

#define OWN_FDS	66	/* more than max_queue_pairs can be (64) */

static void *set_owner_thread(void *arg)
{
	return (void *)(intptr_t)xioctl(*(int *)arg, VHOST_SET_OWNER, NULL);
}

/*
 * max_queue_pairs bounds the pairs (and so the workers) one VMM process
 * holds over all its /dev/vhost-mq fds: libvirt opens one fd a pair and
 * QEMU owns them all. Past it SET_OWNER fails with EUSERS; a pair given
 * back (close, RESET_OWNER) may be taken again; another process counts
 * on its own; device mode counts its N. vhost-net has no such limit.
 */
TEST(owner_holds_at_most_max_queue_pairs_over_its_fds)
{
	unsigned int max = max_pairs(), i;
	int fds[OWN_FDS], extra, other, status, dm;
	uint32_t two = 2;
	pthread_t t[2];
	void *r[2];
	char name[32];
	pid_t pid;

	vmq_kmsg_mark(_metadata->name, "both devices");
	ASSERT_LE(2, max);
	ASSERT_GT(OWN_FDS, max);
	for (i = 0; i < max; i++) {
		fds[i] = open(VHOST_MQ_PATH, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, fds[i]);
		ASSERT_EQ(0, xioctl(fds[i], VHOST_SET_OWNER, NULL))
			TH_LOG("pair %u of %u", i + 1, max);
	}
	snprintf(name, sizeof(name), "vhost-mq-%d-0", getpid());
	EXPECT_EQ(max, vmq_count_tasks_named(name));
	extra = open(VHOST_MQ_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, extra);
	EXPECT_EQ(EUSERS, xioctl(extra, VHOST_SET_OWNER, NULL));
	/* refused, it stays unowned: no worker, and not the caller's */
	EXPECT_EQ(max, vmq_count_tasks_named(name));
	EXPECT_EQ(EPERM, xioctl(extra, VHOST_RESET_OWNER, NULL));

	/* another process has its own count */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		other = open(VHOST_MQ_PATH, O_RDWR | O_CLOEXEC);
		_exit(other < 0 || xioctl(other, VHOST_SET_OWNER, NULL));
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	/* a pair given back by RESET_OWNER, then by close, is free again */
	ASSERT_EQ(0, xioctl(fds[0], VHOST_RESET_OWNER, NULL));
	EXPECT_EQ(0, xioctl(extra, VHOST_SET_OWNER, NULL));
	EXPECT_EQ(EUSERS, xioctl(fds[0], VHOST_SET_OWNER, NULL));
	close(fds[1]);
	EXPECT_EQ(0, xioctl(fds[0], VHOST_SET_OWNER, NULL));

	/* device mode counts its pairs: 2 do not fit in 1, then in 2 */
	close(fds[2]);
	dm = open(VHOST_MQ_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, dm);
	ASSERT_EQ(0, xioctl(dm, VHOST_MQ_SET_PAIRS, &two));
	EXPECT_EQ(EUSERS, xioctl(dm, VHOST_SET_OWNER, NULL));
	close(fds[3]);
	EXPECT_EQ(0, xioctl(dm, VHOST_SET_OWNER, NULL));
	close(dm);

	/* two threads for the last pair: one gets it */
	fds[1] = open(VHOST_MQ_PATH, O_RDWR | O_CLOEXEC);
	fds[2] = open(VHOST_MQ_PATH, O_RDWR | O_CLOEXEC);
	fds[3] = open(VHOST_MQ_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fds[1]);
	ASSERT_LE(0, fds[2]);
	ASSERT_LE(0, fds[3]);
	ASSERT_EQ(0, xioctl(fds[3], VHOST_SET_OWNER, NULL));
	ASSERT_EQ(0, pthread_create(&t[0], NULL, set_owner_thread, &fds[1]));
	ASSERT_EQ(0, pthread_create(&t[1], NULL, set_owner_thread, &fds[2]));
	ASSERT_EQ(0, pthread_join(t[0], &r[0]));
	ASSERT_EQ(0, pthread_join(t[1], &r[1]));
	EXPECT_EQ(EUSERS, (intptr_t)r[0] + (intptr_t)r[1]);
	/* all taken now (the winner's worker is named by its thread's id) */
	other = open(VHOST_MQ_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, other);
	EXPECT_EQ(EUSERS, xioctl(other, VHOST_SET_OWNER, NULL));
	close(other);
	for (i = 0; i < max; i++)
		close(fds[i]);
	close(extra);
	EXPECT_EQ(0, vmq_wait_tasks_named(name, 0, 5000));

	/* vhost-net: no limit */
	for (i = 0; i < max + 1; i++) {
		fds[i] = open(VHOST_NET_PATH, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, fds[i]);
		EXPECT_EQ(0, xioctl(fds[i], VHOST_SET_OWNER, NULL));
	}
	for (i = 0; i < max + 1; i++)
		close(fds[i]);
}

TEST_HARNESS_MAIN
