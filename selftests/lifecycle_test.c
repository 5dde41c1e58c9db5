// SPDX-License-Identifier: GPL-2.0
/*
 * lifecycle_test.c - the VMM and the host pulling things away while frames
 * move, on /dev/vhost-net and /dev/vhost-mq: the VMM SIGKILLed mid-traffic
 * (100 times), the tap deleted, macvtap's lower device deleted, the memory
 * table replaced and RESET_OWNER, all under traffic; and (on a kernel with
 * fault injection) every allocation of the setup path failed in turn.
 * After each: no worker thread left, the module's reference count back
 * at its baseline, nothing hung; kmemleak (make check-debug) sees leaks.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
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
#define FEATURES	(F(VIRTIO_F_VERSION_1) | F(VIRTIO_NET_F_MRG_RXBUF) | \
			 F(VIRTIO_RING_F_EVENT_IDX))
#define GUEST_MEM	(16UL << 20)
#define GUEST_GPA	0x40000000ULL
#define HDR		12
#define FRAME		60
#define NUM		256
#define WAIT_MS		3000

FIXTURE(lc) {
	int refcnt;			/* the module's, before the test */
	long sunreclaim_kb;
};

FIXTURE_VARIANT(lc) {
	const char *path;
	bool ours;
	int kills;
};

FIXTURE_VARIANT_ADD(lc, net) {
	.path = VHOST_NET_PATH,
	.kills = 30,
};

FIXTURE_VARIANT_ADD(lc, mq) {
	.path = VHOST_MQ_PATH,
	.ours = true,
	.kills = 100,
};

static int module_refcnt(void)
{
	return vmq_module_refcnt("vhost_mq");
}

static long sunreclaim_kb(void)
{
	char line[128];
	long kb = -1;
	FILE *f = fopen("/proc/meminfo", "re");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "SUnreclaim: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

/* vhost worker threads alive: vhost-mq-<pid>-<k> and vhost-<pid> */
static int workers(void)
{
	return vmq_find_tasks_prefixed("vhost-", 6, NULL);
}

/*
 * Back at the baseline: no worker, module references as before (devices
 * die with their last file reference, workers a moment later).
 */
static bool at_baseline(FIXTURE_DATA(lc) *self)
{
	int i;

	for (i = 0; i < 100; i++) {
		if (module_refcnt() == self->refcnt && !workers())
			return true;
		usleep(50000);
	}
	return false;
}

FIXTURE_SETUP(lc)
{
	vmq_kmsg_mark(_metadata->name, variant->path);
	self->refcnt = module_refcnt();
	ASSERT_LE(0, self->refcnt);
	ASSERT_EQ(0, workers()) TH_LOG("workers left by an earlier test");
	self->sunreclaim_kb = sunreclaim_kb();
}

FIXTURE_TEARDOWN(lc)
{
	EXPECT_TRUE(at_baseline(self));
	TH_LOG("unreclaimable slab %+ld kB over the test",
	       sunreclaim_kb() - self->sunreclaim_kb);
}

/* ------------------------------------------------- traffic both ways */

struct traffic {
	struct vmq_gpair *gp;
	struct vmq_tap *tap;
	int pkt, ifindex;		/* where rx frames come from */
	atomic_bool stop;
	atomic_ulong tx_used, rx_used;
	pthread_t tx, rx, gen;
};

/* Keep ring @tx or rx of the pair full: reap, repost, kick, count. */
static void ring_loop(struct traffic *t, bool tx)
{
	struct vmq_gvq *vq = tx ? &t->gp->tx : &t->gp->rx;
	size_t len = tx ? HDR + FRAME : 2048;
	unsigned char *p = vmq_guest_alloc(&t->gp->g, len * (NUM / 2), 64);
	struct vmq_gbuf b = { .len = len };
	unsigned int i;
	void *tok;

	for (i = 0; i < NUM / 2; i++) {
		b.addr = p + i * len;
		memset(b.addr, 0, HDR);
		if (tx)
			vmq_frame_fill(b.addr + HDR, FRAME, i);
		vmq_gvq_add(vq, &b, tx, !tx, b.addr, false);
	}
	vmq_gvq_kick(vq);
	while (!atomic_load(&t->stop)) {
		unsigned long n = 0;

		while ((tok = vmq_gvq_get(vq, NULL))) {
			b.addr = tok;
			vmq_gvq_add(vq, &b, tx, !tx, tok, false);
			n++;
		}
		atomic_fetch_add(tx ? &t->tx_used : &t->rx_used, n);
		vmq_gvq_kick(vq);
		usleep(500);
	}
}

static void *tx_loop(void *arg)
{
	ring_loop(arg, true);
	return NULL;
}

static void *rx_loop(void *arg)
{
	ring_loop(arg, false);
	return NULL;
}

/* frames towards the guest, as fast as the packet socket takes them */
static void *gen_loop(void *arg)
{
	struct traffic *t = arg;
	unsigned char f[FRAME];
	uint32_t seq = 0;

	while (!atomic_load(&t->stop)) {
		vmq_frame_fill(f, FRAME, seq++);
		if (vmq_pkt_send(t->pkt, t->ifindex, f, FRAME) < 0)
			usleep(1000);
		if (!(seq & 63))
			usleep(200);
	}
	return NULL;
}

static void traffic_start(struct traffic *t, struct vmq_gpair *gp, int pkt,
			  int ifindex)
{
	memset(t, 0, sizeof(*t));
	t->gp = gp;
	t->pkt = pkt;
	t->ifindex = ifindex;
	pthread_create(&t->tx, NULL, tx_loop, t);
	pthread_create(&t->rx, NULL, rx_loop, t);
	pthread_create(&t->gen, NULL, gen_loop, t);
}

static void traffic_stop(struct traffic *t)
{
	atomic_store(&t->stop, true);
	pthread_join(t->tx, NULL);
	pthread_join(t->rx, NULL);
	pthread_join(t->gen, NULL);
}

/* Both directions moved frames within a second? */
static bool traffic_flows(struct traffic *t)
{
	unsigned long tx = atomic_load(&t->tx_used), rx = atomic_load(&t->rx_used);
	int i;

	for (i = 0; i < 100; i++) {
		usleep(20000);
		if (atomic_load(&t->tx_used) > tx + 10 &&
		    atomic_load(&t->rx_used) > rx + 10)
			return true;
	}
	return false;
}

/* ---------------------------------------------------------- the cases */

/*
 * A VMM process that sets up a pair (a device-mode fd of 2 pairs every
 * other time on vhost-mq), starts traffic and is SIGKILLed at a random
 * moment: its fds close in exit, workers stop, everything goes.
 */
static void vmm_child(const char *path, bool device_mode)
{
	static struct vmq_gpair gp;
	static struct vmq_gdev dev;
	struct traffic t;
	struct vmq_tap tap;
	int fd;

	if (vmq_netns_enter() ||
	    vmq_tap_open(&tap, "vmq0", device_mode ? 2 : 1, HDR, 0))
		_exit(2);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		_exit(3);
	if (device_mode) {
		if (vmq_gdev_start(&dev, fd, 2, FEATURES | F(VIRTIO_NET_F_CTRL_VQ) |
				   F(VIRTIO_NET_F_MQ), GUEST_MEM, GUEST_GPA, NUM,
				   tap.fd) ||
		    vmq_gctrl_set_pairs(&dev, 2, WAIT_MS))
			_exit(4);
		/* pair 0's rings carry the traffic; pair 1 gets folded
		 * and unfolded below while it runs */
		gp.g = dev.g;
		gp.rx = dev.rx[0];
		gp.tx = dev.tx[0];
	} else if (vmq_gpair_start(&gp, fd, FEATURES, GUEST_MEM, GUEST_GPA,
				   NUM, tap.fd[0])) {
		_exit(5);
	}
	traffic_start(&t, &gp, tap.pkt, tap.ifindex);
	for (;;) {
		if (device_mode)
			vmq_gctrl_set_pairs(&dev, 1 + (rand() & 1), WAIT_MS);
		usleep(5000);
	}
}

/* a hundred VMMs, each a few hundred ms */
TEST_F_TIMEOUT(lc, vmm_sigkilled_mid_traffic, 1200)
{
	int i, status;

	srand(time(NULL));
	for (i = 0; i < variant->kills; i++) {
		pid_t pid = fork();

		ASSERT_LE(0, pid);
		if (!pid)
			vmm_child(variant->path, variant->ours && (i & 1));
		usleep(100000 + rand() % 300000);
		kill(pid, SIGKILL);
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		/* it was killed, not failed on its own */
		ASSERT_TRUE(WIFSIGNALED(status)) TH_LOG("kill %d: child exited %d", i,
						       WEXITSTATUS(status));
	}
	EXPECT_TRUE(at_baseline(self)) TH_LOG("after %d kills", variant->kills);
}

/* The tap deleted (ip link del) while both directions run. */
TEST_F(lc, tap_deleted_under_traffic)
{
	struct vmq_gpair gp;
	struct vmq_tap tap;
	struct traffic t;
	int fd;

	ASSERT_EQ(0, vmq_netns_enter());
	ASSERT_EQ(0, vmq_tap_open(&tap, "vmq0", 1, HDR, 0));
	fd = open(variant->path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, vmq_gpair_start(&gp, fd, FEATURES, GUEST_MEM, GUEST_GPA,
				     NUM, tap.fd[0]));
	traffic_start(&t, &gp, tap.pkt, tap.ifindex);
	ASSERT_TRUE(traffic_flows(&t));
	ASSERT_EQ(0, system("ip link del vmq0"));
	usleep(500000);
	/* the device has nowhere to send: no crash, no hang; the VMM may
	 * still detach and close */
	traffic_stop(&t);
	EXPECT_EQ(0, vmq_vhost_set_backend(fd, 0, -1));
	EXPECT_EQ(0, vmq_vhost_set_backend(fd, 1, -1));
	close(fd);
	vmq_gpair_destroy(&gp);
	vmq_tap_close(&tap);
}

/* macvtap's lower device (a veth) deleted while frames move. */
TEST_F(lc, macvtap_lower_device_deleted_under_traffic)
{
	struct vmq_gpair gp;
	struct traffic t;
	char path[64];
	int fd, tapfd, ifindex, hdr = HDR, pkt;

	ASSERT_EQ(0, vmq_netns_enter());
	ASSERT_EQ(0, system("ip link add veth0 type veth peer name veth1 && "
			    "ip link add link veth0 name mvt0 type macvtap mode bridge && "
			    "ip link set veth1 up && ip link set veth0 up && "
			    "ip link set mvt0 up"));
	ifindex = vmq_if_index("mvt0");
	ASSERT_LT(0, ifindex);
	snprintf(path, sizeof(path), "/dev/tap%d", ifindex);
	tapfd = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, tapfd) TH_LOG("%s: %s", path, strerror(errno));
	ASSERT_EQ(0, ioctl(tapfd, TUNSETVNETHDRSZ, &hdr));
	pkt = vmq_packet_socket(vmq_if_index("veth1"));
	ASSERT_LE(0, pkt);
	fd = open(variant->path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, vmq_gpair_start(&gp, fd, FEATURES, GUEST_MEM, GUEST_GPA,
				     NUM, tapfd));
	traffic_start(&t, &gp, pkt, vmq_if_index("veth1"));
	usleep(300000);
	ASSERT_EQ(0, system("ip link del veth0"));
	usleep(500000);
	traffic_stop(&t);
	close(fd);
	close(tapfd);
	close(pkt);
	vmq_gpair_destroy(&gp);
}

/*
 * The memory table replaced again and again under traffic (the same
 * memory, as one region or split in two): frames keep moving.
 */
TEST_F(lc, memory_table_replaced_under_traffic)
{
	struct {
		struct vhost_memory hdr;
		struct vhost_memory_region r[2];
	} m;
	const char *env = getenv("MEMTABLE_SWAPS");
	int fd, i, swaps = env ? atoi(env) : 200;
	double t0, t1, worst = 0;
	struct vmq_gpair gp;
	struct vmq_tap tap;
	struct traffic t;

	ASSERT_EQ(0, vmq_netns_enter());
	ASSERT_EQ(0, vmq_tap_open(&tap, "vmq0", 1, HDR, 0));
	fd = open(variant->path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, vmq_gpair_start(&gp, fd, FEATURES, GUEST_MEM, GUEST_GPA,
				     NUM, tap.fd[0]));
	traffic_start(&t, &gp, tap.pkt, tap.ifindex);
	t0 = vmq_now();
	for (i = 0; i < swaps; i++) {
		memset(&m, 0, sizeof(m));
		m.hdr.nregions = 1 + (i & 1);
		m.r[0] = (struct vhost_memory_region){ GUEST_GPA,
			i & 1 ? GUEST_MEM / 2 : GUEST_MEM,
			(uintptr_t)gp.g.base, 0 };
		m.r[1] = (struct vhost_memory_region){ GUEST_GPA + GUEST_MEM / 2,
			GUEST_MEM / 2, (uintptr_t)gp.g.base + GUEST_MEM / 2, 0 };
		t1 = vmq_now();
		ASSERT_EQ(0, ioctl(fd, VHOST_SET_MEM_TABLE, &m));
		if (vmq_now() - t1 > worst)
			worst = vmq_now() - t1;
		/* as it goes: a slow kernel may end the test by its timeout */
		if (i % 25 == 24)
			TH_LOG("%d tables in %.1f s", i + 1, vmq_now() - t0);
		usleep(2000);
	}
	/* what each replacement costs here: it waits for the worker's run */
	TH_LOG("%d tables in %.1f s under traffic: %.1f ms each, the longest %.1f ms",
	       swaps, vmq_now() - t0, (vmq_now() - t0) * 1e3 / swaps, worst * 1e3);
	EXPECT_TRUE(traffic_flows(&t));
	EXPECT_EQ(0, vmq_eventfd_read(gp.tx.err_fd));
	EXPECT_EQ(0, vmq_eventfd_read(gp.rx.err_fd));
	traffic_stop(&t);
	close(fd);
	vmq_gpair_destroy(&gp);
	vmq_tap_close(&tap);
}

/* RESET_OWNER while frames move; then a new owner makes it work again. */
TEST_F(lc, reset_owner_under_traffic)
{
	struct vmq_gpair gp, gp2;
	struct vmq_tap tap;
	struct traffic t;
	int fd;

	ASSERT_EQ(0, vmq_netns_enter());
	ASSERT_EQ(0, vmq_tap_open(&tap, "vmq0", 1, HDR, 0));
	fd = open(variant->path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, vmq_gpair_start(&gp, fd, FEATURES, GUEST_MEM, GUEST_GPA,
				     NUM, tap.fd[0]));
	traffic_start(&t, &gp, tap.pkt, tap.ifindex);
	ASSERT_TRUE(traffic_flows(&t));
	ASSERT_EQ(0, ioctl(fd, VHOST_RESET_OWNER, NULL));
	/* nothing is served any more; the rings are no longer the device's */
	traffic_stop(&t);
	ASSERT_EQ(0, workers());
	/* a new owner (this process again) starts from scratch */
	ASSERT_EQ(0, vmq_gpair_start(&gp2, fd, FEATURES, GUEST_MEM, GUEST_GPA,
				     NUM, tap.fd[0]));
	traffic_start(&t, &gp2, tap.pkt, tap.ifindex);
	EXPECT_TRUE(traffic_flows(&t));
	traffic_stop(&t);
	close(fd);
	vmq_gpair_destroy(&gp2);
	vmq_gpair_destroy(&gp);
	vmq_tap_close(&tap);
}

/*
 * Every allocation of the setup path failed in turn (fail-nth, a kernel
 * with fault injection: make check-debug): each step either works or
 * fails cleanly, and closing the fd leaves nothing behind.
 */
static int fail_nth(int n)
{
	char path[64], val[16];

	snprintf(path, sizeof(path), "/proc/self/task/%d/fail-nth", gettid());
	snprintf(val, sizeof(val), "%d", n);
	return vmq_write_file(path, val);
}

static int fail_nth_left(void)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/task/%d/fail-nth", gettid());
	return vmq_read_int(path);
}

/* failslab fails GFP_KERNEL allocations too, and quietly */
static int failslab_quiet(void)
{
	return vmq_write_file("/sys/kernel/debug/failslab/ignore-gfp-wait", "N") ?:
	       vmq_write_file("/sys/kernel/debug/failslab/verbose", "0");
}

/* vhost-mq under a kernel with fault injection, or the test is skipped */
#define FAILSLAB_OR_SKIP() do {						\
	if (!variant->ours)						\
		SKIP(return, "upstream's allocation failures are not ours to test"); \
	if (fail_nth(0))						\
		SKIP(return, "no fault injection in this kernel (make check-debug has it)"); \
	ASSERT_EQ(0, failslab_quiet());					\
} while (0)

TEST_F_TIMEOUT(lc, every_setup_allocation_failed_in_turn, 1200)
{
	static struct vmq_gdev dev;
	struct vmq_tap tap;
	int n, fd, r, failed = 0;

	FAILSLAB_OR_SKIP();
	ASSERT_EQ(0, vmq_netns_enter());
	ASSERT_EQ(0, vmq_tap_open(&tap, "vmq0", 2, HDR, 0));
	for (n = 1; n < 2000; n++) {
		fd = -1;
		ASSERT_EQ(0, fail_nth(n));
		/* the whole setup: open, device mode, owner, memory, rings,
		 * backends, control vq, a pair count */
		fd = open(VHOST_MQ_PATH, O_RDWR | O_CLOEXEC);
		r = fd < 0 ? -errno :
		    vmq_gdev_start(&dev, fd, 2, FEATURES | F(VIRTIO_NET_F_CTRL_VQ) |
				   F(VIRTIO_NET_F_MQ), GUEST_MEM, GUEST_GPA, 64,
				   tap.fd);
		if (!r)
			r = vmq_gctrl_set_pairs(&dev, 2, WAIT_MS);
		/* fail-nth counts down to 0 when the n-th point was hit */
		if (fail_nth_left() > 0) {
			fail_nth(0);
			ASSERT_EQ(0, r) TH_LOG("failed with no fault injected");
			if (fd >= 0)
				close(fd);
			vmq_gdev_destroy(&dev);
			break;
		}
		fail_nth(0);
		/* an injected failure: an errno (or ERR from the control
		 * vq), never a crash or a hang; nothing left behind */
		if (r)
			failed++;
		if (fd >= 0)
			close(fd);
		vmq_gdev_destroy(&dev);
		ASSERT_TRUE(at_baseline(self)) TH_LOG("allocation %d", n);
	}
	TH_LOG("%d allocation points on the setup path, %d failed the setup",
	       n - 1, failed);
	EXPECT_LT(10, n);
	vmq_tap_close(&tap);
}

/*
 * A SET_OWNER that failed (an allocation, in turn each one it makes)
 * keeps what SET_FEATURES set: the next SET_OWNER's rings still merge rx
 * buffers, so a 1500-byte frame lands in two 1024-byte buffers with
 * num_buffers 2 (without MRG_RXBUF it would be dropped as too big).
 */
TEST_F_TIMEOUT(lc, a_failed_set_owner_keeps_the_features, 600)
{
	uint64_t features = FEATURES;
	struct vmq_gvq rx, tx;
	struct vmq_gbuf b[2];
	struct vmq_guest g;
	struct vmq_tap tap;
	unsigned char frame[1500];
	int n, fd, r, failed = 0;
	uint16_t nbufs;
	uint32_t len;

	FAILSLAB_OR_SKIP();
	ASSERT_EQ(0, vmq_netns_enter());
	ASSERT_EQ(0, vmq_tap_open(&tap, "vmq0", 1, HDR, 9000));
	for (n = 1; n < 500; n++) {
		fd = open(VHOST_MQ_PATH, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, ioctl(fd, VHOST_SET_FEATURES, &features));
		ASSERT_EQ(0, fail_nth(n));
		r = ioctl(fd, VHOST_SET_OWNER, NULL) ? -errno : 0;
		if (fail_nth_left() > 0) {
			/* no allocation point left to fail: all were tried */
			fail_nth(0);
			close(fd);
			break;
		}
		fail_nth(0);
		if (!r) {
			close(fd);
			continue;
		}
		failed++;
		/* the retry, then rings, memory and a tap: no SET_FEATURES */
		ASSERT_EQ(0, ioctl(fd, VHOST_SET_OWNER, NULL)) TH_LOG("allocation %d", n);
		ASSERT_EQ(0, vmq_guest_init(&g, GUEST_MEM, GUEST_GPA));
		ASSERT_EQ(0, vmq_gvq_init(&rx, &g, 0, NUM, true));
		ASSERT_EQ(0, vmq_gvq_init(&tx, &g, 1, NUM, true));
		ASSERT_EQ(0, vmq_vhost_set_mem(fd, &g));
		ASSERT_EQ(0, vmq_vhost_setup_vq(fd, &rx));
		ASSERT_EQ(0, vmq_vhost_setup_vq(fd, &tx));
		ASSERT_EQ(0, vmq_vhost_set_backend(fd, 0, tap.fd[0]));
		ASSERT_EQ(0, vmq_vhost_set_backend(fd, 1, tap.fd[0]));
		b[0] = (struct vmq_gbuf){ vmq_guest_alloc(&g, 1024, 64), 1024 };
		b[1] = (struct vmq_gbuf){ vmq_guest_alloc(&g, 1024, 64), 1024 };
		ASSERT_EQ(0, vmq_gvq_add(&rx, &b[0], 0, 1, b[0].addr, false));
		ASSERT_EQ(0, vmq_gvq_add(&rx, &b[1], 0, 1, b[1].addr, false));
		vmq_gvq_kick(&rx);
		vmq_frame_fill(frame, sizeof(frame), n);
		ASSERT_EQ((ssize_t)sizeof(frame),
			  vmq_pkt_send(tap.pkt, tap.ifindex, frame, sizeof(frame)));
		EXPECT_EQ(b[0].addr, vmq_gvq_get_wait(&rx, &len, WAIT_MS))
			TH_LOG("allocation %d: the frame did not land", n);
		memcpy(&nbufs, (uint8_t *)b[0].addr + 10, 2);
		EXPECT_EQ(2, nbufs) TH_LOG("allocation %d", n);
		EXPECT_EQ(1024, len);
		EXPECT_EQ(0, memcmp((uint8_t *)b[0].addr + HDR, frame, 1024 - HDR));
		close(fd);
		vmq_gvq_destroy(&rx);
		vmq_gvq_destroy(&tx);
		vmq_guest_destroy(&g);
		ASSERT_TRUE(at_baseline(self)) TH_LOG("allocation %d", n);
	}
	TH_LOG("%d allocation points in SET_OWNER, %d failed it", n - 1, failed);
	EXPECT_LT(0, failed);
	vmq_tap_close(&tap);
}

TEST_HARNESS_MAIN
