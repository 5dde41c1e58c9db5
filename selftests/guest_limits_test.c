// SPDX-License-Identifier: GPL-2.0
/*
 * guest_limits_test.c - guests that keep to the grammar of the split ring
 * but not to its limits, and vrings that must stay stopped once stopped,
 * against /dev/vhost-net and /dev/vhost-mq.
 *
 *  - more buffers outstanding than the ring holds: the guest publishes a
 *    head again before the device has used it. Userfaultfd makes it
 *    deterministic: every chain's indirect table lies on a page the
 *    guest has not filled yet, so the device stops on each chain until
 *    the test fills its page, and the test publishes the next chain
 *    before it does. A canary after each used ring says whether the
 *    device wrote past the ring's end (tx, mergeable rx, control vq);
 *  - a tx frame of nearly 4 GiB (all its buffers over the same memory);
 *  - descriptor floods: indirect tables of 32768 descriptors of length 0
 *    behind one head, and rx chains re-walked for every frame they are
 *    too small for;
 *  - a stop that must hold: a dirty log the device cannot write, a
 *    control command it cannot read or answer, an error eventfd set only
 *    after the stop.
 *
 * Where upstream vhost-net does otherwise the test says so (TH_LOG) and
 * checks what upstream does; the cases that would WARN or soft-lock a
 * host with vhost-net run on vhost-mq only.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <linux/userfaultfd.h>
#include <linux/vhost.h>
#include <linux/vhost_mq.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include "guest.h"
#include "vmq_net.h"
#include "vmq_test.h"
#include "kselftest_harness.h"

#define F(bit)		(1ULL << (bit))
#define GUEST_MEM	(96UL << 20)
#define GUEST_GPA	0x40000000ULL
#define PAGE		4096UL
#define HDR		12
#define FRAME		60
#define WAIT_MS		5000
#define NONE_MS		300
#define CANARY_LEN	1024
#define CANARY		0xa5
#define RX		0
#define TX		1
#define CVQ		2
#define SMALL		8		/* ring size of the outstanding cases */

#define BASE_F		(F(VIRTIO_F_VERSION_1) | F(VIRTIO_RING_F_EVENT_IDX) | \
			 F(VIRTIO_RING_F_INDIRECT_DESC))
#define MRG_F		(BASE_F | F(VIRTIO_NET_F_MRG_RXBUF))
#define CTRL_F		(F(VIRTIO_NET_F_CTRL_VQ) | F(VIRTIO_NET_F_MQ))

FIXTURE(gl) {
	struct vmq_tap tap;
	int fd;
	bool started, dm;
	struct vmq_guest g;
	struct vmq_gvq vq[3];		/* rx, tx, and the control vq (dm) */
	unsigned char *canary[3];	/* right after each used ring */
	int change_fd;
	uint8_t *log;
	size_t log_len;
	unsigned char frame[2048], got[2048];
};

FIXTURE_VARIANT(gl) {
	const char *path;
	bool ours;
};

FIXTURE_VARIANT_ADD(gl, net) {
	.path = VHOST_NET_PATH,
};

FIXTURE_VARIANT_ADD(gl, mq) {
	.path = VHOST_MQ_PATH,
	.ours = true,
};

FIXTURE_SETUP(gl)
{
	vmq_kmsg_mark(_metadata->name, variant->path);
	self->change_fd = -1;
	ASSERT_EQ(0, vmq_netns_enter());
	ASSERT_EQ(0, vmq_tap_open(&self->tap, "vmq0", 1, HDR, 0));
	self->fd = open(variant->path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(gl)
{
	int i;

	close(self->fd);
	if (self->started) {
		for (i = 0; i < (self->dm ? 3 : 2); i++)
			vmq_gvq_destroy(&self->vq[i]);
		vmq_guest_destroy(&self->g);
	}
	if (self->change_fd >= 0)
		close(self->change_fd);
	if (self->log)
		munmap(self->log, self->log_len);
	vmq_tap_close(&self->tap);
}

/*
 * One pair on the tap (and in device mode @dm a control vq, vring 2),
 * rings of @num, a canary after each used ring. With VHOST_F_LOG_ALL the
 * dirty log is a bitmap the device may read but not write.
 */
static int start(FIXTURE_DATA(gl) *self, uint64_t features, uint32_t num,
		 bool dm)
{
	bool evidx = features & F(VIRTIO_RING_F_EVENT_IDX);
	uint32_t one = 1;
	int i, n = dm ? 3 : 2, r;
	uint64_t base;

	if (dm && ioctl(self->fd, VHOST_MQ_SET_PAIRS, &one))
		return -errno;
	if (ioctl(self->fd, VHOST_SET_OWNER, NULL) ||
	    ioctl(self->fd, VHOST_SET_FEATURES, &features))
		return -errno;
	r = vmq_guest_init(&self->g, GUEST_MEM, GUEST_GPA);
	if (r)
		return r;
	self->started = true;
	self->dm = dm;
	for (i = 0; i < n; i++) {
		r = vmq_gvq_init(&self->vq[i], &self->g, i, num, evidx);
		if (r)
			return r;
		self->canary[i] = vmq_guest_alloc(&self->g, CANARY_LEN, 1);
		if (!self->canary[i])
			return -ENOMEM;
		memset(self->canary[i], CANARY, CANARY_LEN);
	}
	r = vmq_vhost_set_mem(self->fd, &self->g);
	for (i = 0; !r && i < n; i++)
		r = vmq_vhost_setup_vq(self->fd, &self->vq[i]);
	if (r)
		return r;
	if (features & F(VHOST_F_LOG_ALL)) {
		self->log_len = ((GUEST_GPA + GUEST_MEM) / PAGE / 8 + PAGE) &
				~(PAGE - 1);
		self->log = mmap(NULL, self->log_len, PROT_READ,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (self->log == MAP_FAILED) {
			self->log = NULL;
			return -errno;
		}
		base = (uintptr_t)self->log;
		if (ioctl(self->fd, VHOST_SET_LOG_BASE, &base))
			return -errno;
	}
	r = vmq_vhost_set_backend(self->fd, RX, self->tap.fd[0]);
	if (!r)
		r = vmq_vhost_set_backend(self->fd, TX, self->tap.fd[0]);
	if (!r && dm) {
		self->change_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		r = vmq_vhost_set_backend(self->fd, CVQ, self->change_fd);
	}
	return r;
}

/* How many bytes past the used ring the device wrote (the last one). */
static int canary_damage(FIXTURE_DATA(gl) *self, int ring)
{
	int i;

	for (i = CANARY_LEN - 1; i >= 0; i--)
		if (self->canary[ring][i] != CANARY)
			return i + 1;
	return 0;
}

static struct vhost_mq_vring_stats stats(FIXTURE_DATA(gl) *self, int ring)
{
	struct vhost_mq_vring_stats s = { .index = ring };

	if (ioctl(self->fd, VHOST_MQ_GET_VRING_STATS, &s))
		memset(&s, 0xff, sizeof(s));
	return s;
}

static bool err_fired(int err_fd, int ms)
{
	struct pollfd p = { .fd = err_fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1 && vmq_eventfd_read(err_fd) > 0;
}

static uint16_t used_idx(struct vmq_gvq *vq)
{
	return __atomic_load_n(&vq->vring.used->idx, __ATOMIC_ACQUIRE);
}

/* Wait up to @ms for ring @vq's used idx to reach @want. */
static bool used_reaches(struct vmq_gvq *vq, uint16_t want, int ms)
{
	for (; ms > 0; ms -= 2) {
		if ((uint16_t)(used_idx(vq) - want) < 0x8000)
			return true;
		usleep(2000);
	}
	return false;
}

static void kick(struct vmq_gvq *vq)
{
	uint64_t one = 1;

	if (write(vq->kick_fd, &one, sizeof(one)) != sizeof(one))
		abort();
}

/* Publish @head as the next avail entry (the hand-made guest's way). */
static void publish(struct vmq_gvq *vq, uint16_t head)
{
	vq->vring.avail->ring[vq->avail_idx % vq->num] = head;
	vq->avail_idx++;
	__atomic_store_n(&vq->vring.avail->idx, vq->avail_idx,
			 __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* The VMM restarts vring @ring where the device left it. */
static int vmm_restart(FIXTURE_DATA(gl) *self, int ring, int backend)
{
	struct vhost_vring_state s = { .index = ring };

	if (vmq_vhost_set_backend(self->fd, ring, -1) ||
	    ioctl(self->fd, VHOST_GET_VRING_BASE, &s) ||
	    ioctl(self->fd, VHOST_SET_VRING_BASE, &s) ||
	    vmq_vhost_set_backend(self->fd, ring, backend))
		return -errno;
	return 0;
}

/* ------------------------------------ more buffers than the ring holds */

/*
 * Chain j of ring @vq is head j % num, an indirect descriptor whose table
 * is page j of @pages, missing until the device reads it; then @fill
 * writes the table and the test publishes chain j + num before it hands
 * the page over, so that the device, as long as it accepts them, never
 * runs out of chains within one run.
 */
struct flood {
	FIXTURE_DATA(gl) *self;
	struct vmq_gvq *vq;
	uint8_t *pages;			/* one table page per chain */
	uint8_t *data;			/* what the tables point at */
	unsigned int chains;
	unsigned int table_len;		/* descriptors in each table */
	void (*fill)(struct flood *f, struct vring_desc *table,
		     unsigned int j);
	void (*go)(struct flood *f);	/* once the first chains are out */
};

static uint64_t fgpa(struct flood *f, const void *p)
{
	return vmq_gpa(&f->self->g, p);
}

static int uffd_over(void *addr, size_t len)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = {
		.range = { .start = (uintptr_t)addr, .len = len },
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};
	int u;

	/*
	 * The pages go (guest memory comes populated): a fresh mapping at
	 * the same place (not madvise(), which tinyconfig kernels lack).
	 */
	if (mmap(addr, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != addr)
		return -errno;
	u = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (u < 0)
		return -errno;
	if (ioctl(u, UFFDIO_API, &api) || ioctl(u, UFFDIO_REGISTER, &reg)) {
		close(u);
		return -errno;
	}
	return u;
}

static bool uffd_missing(void)
{
	int u = syscall(SYS_userfaultfd, O_CLOEXEC);

	if (u >= 0)
		close(u);
	return u < 0 && errno == ENOSYS;
}

static void flood_chain(struct flood *f, unsigned int j)
{
	struct vring_desc *d = &f->vq->vring.desc[j % f->vq->num];

	d->addr = fgpa(f, f->pages + j * PAGE);
	d->len = f->table_len * sizeof(struct vring_desc);
	d->flags = VRING_DESC_F_INDIRECT;
	d->next = 0;
	publish(f->vq, j % f->vq->num);
}

/* Returns the chains the device read; *stopped: its error eventfd fired. */
static int flood_run(struct flood *f, bool *stopped)
{
	static uint8_t page[PAGE] __attribute__((aligned(PAGE)));
	unsigned int j, num = f->vq->num, faults = 0;
	struct uffdio_copy copy = { .len = PAGE };
	struct pollfd p[2];
	struct uffd_msg msg;
	int uffd;

	*stopped = false;
	uffd = uffd_over(f->pages, f->chains * PAGE);
	if (uffd < 0)
		return uffd;
	p[0] = (struct pollfd){ .fd = uffd, .events = POLLIN };
	p[1] = (struct pollfd){ .fd = f->vq->err_fd, .events = POLLIN };
	for (j = 0; j < num && j < f->chains; j++)
		flood_chain(f, j);
	kick(f->vq);
	if (f->go)
		f->go(f);
	while (poll(p, 2, WAIT_MS) > 0) {
		if (p[1].revents & POLLIN) {
			*stopped = vmq_eventfd_read(f->vq->err_fd) > 0;
			break;
		}
		if (read(uffd, &msg, sizeof(msg)) != sizeof(msg) ||
		    msg.event != UFFD_EVENT_PAGEFAULT)
			continue;
		j = ((uint8_t *)(uintptr_t)msg.arg.pagefault.address -
		     f->pages) / PAGE;
		memset(page, 0, sizeof(page));
		f->fill(f, (struct vring_desc *)page, j);
		/* the next chain first: the device waits for this page */
		if (j + num < f->chains)
			flood_chain(f, j + num);
		copy.dst = (uintptr_t)(f->pages + j * PAGE);
		copy.src = (uintptr_t)page;
		if (ioctl(uffd, UFFDIO_COPY, &copy))
			break;
		faults++;
		kick(f->vq);
	}
	/* the device may still be finishing its run */
	if (!*stopped)
		*stopped = err_fired(f->vq->err_fd, NONE_MS);
	close(uffd);
	return faults;
}

/*
 * What the guest sees in the end, and what the device wrote past the
 * ring. @upstream_overruns: vhost-net shares the defect here (it writes
 * the used entries of one batch with one split at the ring's end, however
 * many there are), which the net variant records.
 */
static void outstanding_case(struct __test_metadata *_metadata,
			     FIXTURE_DATA(gl) *self,
			     const FIXTURE_VARIANT(gl) *variant, int ring,
			     int faults, bool stopped, bool upstream_overruns)
{
	int damage = canary_damage(self, ring);

	TH_LOG("%s: %d chains read, %s, %d bytes written past the used ring",
	       variant->path, faults, stopped ? "stopped" : "not stopped",
	       damage);
	ASSERT_LE(SMALL, faults) TH_LOG("the flood did not start");
	if (!variant->ours && upstream_overruns) {
		EXPECT_LT(0, damage);
		TH_LOG("upstream vhost-net writes past the used ring here too");
		return;
	}
	EXPECT_EQ(0, damage) TH_LOG("the device wrote past the used ring");
	if (!variant->ours)
		return;
	/* a ring's worth of chains, then the stop at the first reuse */
	EXPECT_TRUE(stopped);
	EXPECT_EQ(SMALL, faults);
	EXPECT_EQ(1, stats(self, ring).chain_errors[VHOST_MQ_CHAIN_AVAIL_IDX]);
	EXPECT_EQ(1, stats(self, ring).errors);
}

/* tx: every chain is the same 5000-byte frame, each sent on its own */
static void tx_fill(struct flood *f, struct vring_desc *t, unsigned int j)
{
	(void)j;
	t[0].addr = fgpa(f, f->data);
	t[0].len = HDR + 5000;
}

TEST_F(gl, tx_heads_published_again_before_use_never_pass_the_used_ring)
{
	struct flood f = {
		.self = self, .vq = &self->vq[TX], .chains = 64,
		.table_len = 1, .fill = tx_fill,
	};
	bool stopped;
	int faults;

	if (uffd_missing())
		SKIP(return, "no userfaultfd in this kernel");
	ASSERT_EQ(0, start(self, BASE_F, SMALL, false));
	f.data = vmq_guest_alloc(&self->g, HDR + 5000, 64);
	f.pages = vmq_guest_alloc(&self->g, 64 * PAGE, 2 << 20);
	ASSERT_NE(NULL, f.pages);
	vmq_frame_fill(f.data + HDR, 5000, 1);
	faults = flood_run(&f, &stopped);
	outstanding_case(_metadata, self, variant, TX, faults, stopped, false);
	/* what was sent before the stop is returned, nothing after it */
	if (variant->ours)
		EXPECT_EQ(SMALL, used_idx(&self->vq[TX]));
}

/* mergeable rx: one 1500-byte frame in 8-byte buffers, 189 of them */
static void rx_fill(struct flood *f, struct vring_desc *t, unsigned int j)
{
	t[0].addr = fgpa(f, f->data + j * 8);
	t[0].len = 8;
	t[0].flags = VRING_DESC_F_WRITE;
}

static void rx_send_big(struct flood *f)
{
	vmq_frame_fill(f->self->frame, 1500, 7);
	if (vmq_pkt_send(f->self->tap.pkt, f->self->tap.ifindex,
			 f->self->frame, 1500) != 1500)
		abort();
}

TEST_F(gl, rx_mergeable_heads_published_again_before_use_never_pass_the_used_ring)
{
	struct flood f = {
		.self = self, .vq = &self->vq[RX], .chains = 200,
		.table_len = 1, .fill = rx_fill, .go = rx_send_big,
	};
	bool stopped;
	int faults;

	if (uffd_missing())
		SKIP(return, "no userfaultfd in this kernel");
	ASSERT_EQ(0, start(self, MRG_F, SMALL, false));
	f.data = vmq_guest_alloc(&self->g, 200 * 8, 64);
	f.pages = vmq_guest_alloc(&self->g, 200 * PAGE, 2 << 20);
	ASSERT_NE(NULL, f.pages);
	faults = flood_run(&f, &stopped);
	outstanding_case(_metadata, self, variant, RX, faults, stopped, true);
	/* the frame was not delivered in part: nothing published */
	if (variant->ours)
		EXPECT_EQ(0, used_idx(&self->vq[RX]));
}

/* control vq: commands nobody knows (class 0xff), each answered ERR */
static void cvq_fill(struct flood *f, struct vring_desc *t, unsigned int j)
{
	uint8_t *cmd = f->data + j * 16;

	cmd[0] = 0xff;
	cmd[1] = 0;
	t[0] = (struct vring_desc){ fgpa(f, cmd), 2, VRING_DESC_F_NEXT, 1 };
	t[1] = (struct vring_desc){ fgpa(f, cmd + 8), 1, VRING_DESC_F_WRITE, 0 };
}

TEST_F(gl, ctrl_heads_published_again_before_use_never_pass_the_used_ring)
{
	struct flood f = {
		.self = self, .vq = &self->vq[CVQ], .chains = 64,
		.table_len = 2, .fill = cvq_fill,
	};
	bool stopped;
	int faults;

	if (!variant->ours)
		SKIP(return, "device mode (the control vq) is vhost-mq's");
	if (uffd_missing())
		SKIP(return, "no userfaultfd in this kernel");
	ASSERT_EQ(0, start(self, BASE_F | CTRL_F, SMALL, true));
	f.data = vmq_guest_alloc(&self->g, 64 * 16, 64);
	f.pages = vmq_guest_alloc(&self->g, 64 * PAGE, 2 << 20);
	ASSERT_NE(NULL, f.pages);
	faults = flood_run(&f, &stopped);
	outstanding_case(_metadata, self, variant, CVQ, faults, stopped, false);
	/* the commands read before the stop are answered */
	EXPECT_EQ(SMALL, used_idx(&self->vq[CVQ]));
}

/* ---------------------------------------------- a tx frame of 4 GiB */

/*
 * 63 buffers of 64 MiB and one of 64 MiB - 384, all over the same guest
 * memory: 2^32 - 384 bytes, which an int holds as 64. Dropped and counted
 * without a byte copied; the frame behind it goes. (vhost-net WARNs in
 * tun on it: a host panic under panic_on_warn, so not run there.)
 */
TEST_F(gl, tx_frame_of_4_gib_less_384_is_dropped_uncopied)
{
	struct vmq_gvq *tx = &self->vq[TX];
	struct vring_desc *table;
	unsigned char *p;
	int i;

	if (!variant->ours)
		SKIP(return, "vhost-net WARNs in tun (check_copy_size) on this frame");
	ASSERT_EQ(0, start(self, BASE_F, 256, false));
	table = vmq_guest_alloc(&self->g, 64 * sizeof(*table), 16);
	for (i = 0; i < 64; i++)
		table[i] = (struct vring_desc){
			GUEST_GPA, i < 63 ? 64 << 20 : (64 << 20) - 384,
			i < 63 ? VRING_DESC_F_NEXT : 0, i + 1 };
	tx->vring.desc[0] = (struct vring_desc){
		vmq_gpa(&self->g, table), 64 * sizeof(*table),
		VRING_DESC_F_INDIRECT, 0 };
	p = vmq_guest_alloc(&self->g, HDR + FRAME, 16);
	vmq_frame_fill(p + HDR, FRAME, 5);
	tx->vring.desc[1] = (struct vring_desc){
		vmq_gpa(&self->g, p), HDR + FRAME, 0, 0 };
	publish(tx, 0);
	publish(tx, 1);
	kick(tx);
	vmq_frame_fill(self->frame, FRAME, 5);
	EXPECT_EQ(FRAME, vmq_pkt_recv(self->tap.pkt, self->got,
				      sizeof(self->got), WAIT_MS));
	EXPECT_EQ(0, memcmp(self->got, self->frame, FRAME));
	EXPECT_TRUE(used_reaches(tx, 2, WAIT_MS));
	EXPECT_EQ(1, stats(self, TX).drops[VHOST_MQ_DROP_TOO_BIG]);
	EXPECT_EQ(1, stats(self, TX).packets);
	EXPECT_EQ(0, stats(self, TX).errors);
	EXPECT_FALSE(err_fired(tx->err_fd, 0));
}

/* ------------------------------------------------ descriptor floods */

/* Longest wait of a vring ioctl while @ms pass, in milliseconds. */
static double ioctl_latency(int fd, int ring, int ms)
{
	struct vhost_vring_state s = { .index = ring };
	double end = vmq_now() + ms / 1e3, worst = 0, t;

	while (vmq_now() < end) {
		t = vmq_now();
		if (ioctl(fd, VHOST_GET_VRING_BASE, &s))
			return 1e9;
		t = vmq_now() - t;
		if (t > worst)
			worst = t;
		usleep(1000);
	}
	return worst * 1e3;
}

/*
 * 24 descriptors in the ring, each an indirect table of 32768 descriptors
 * of length 0 (one table, 512 KiB, 24 times): 786432 reads if nothing
 * caps a chain. Refused after 1024 buffers, counted, and the vring ioctls
 * never wait. (vhost-net soft-locks on it: not run there.)
 */
static void huge_chain(FIXTURE_DATA(gl) *self, struct vmq_gvq *vq,
		       uint16_t flags)
{
	struct vring_desc *table;
	unsigned int i;

	table = vmq_guest_alloc(&self->g, 32768 * sizeof(*table), 16);
	for (i = 0; i < 32768; i++)
		table[i] = (struct vring_desc){ vmq_gpa(&self->g, table), 0,
			flags | (i < 32767 ? VRING_DESC_F_NEXT : 0), i + 1 };
	for (i = 0; i < 24; i++)
		vq->vring.desc[i] = (struct vring_desc){
			vmq_gpa(&self->g, table), 32768 * sizeof(*table),
			VRING_DESC_F_INDIRECT | (i < 23 ? VRING_DESC_F_NEXT : 0),
			i + 1 };
	publish(vq, 0);
}

static void huge_chain_case(struct __test_metadata *_metadata,
			    FIXTURE_DATA(gl) *self, int ring)
{
	struct vmq_gvq *vq = &self->vq[ring];
	double worst;

	huge_chain(self, vq, ring == RX ? VRING_DESC_F_WRITE : 0);
	kick(vq);
	worst = ioctl_latency(self->fd, ring, 1000);
	TH_LOG("longest vring ioctl %.1f ms", worst);
	EXPECT_GT(100, worst);
	EXPECT_TRUE(err_fired(vq->err_fd, WAIT_MS));
	EXPECT_EQ(1, stats(self, ring).chain_errors[VHOST_MQ_CHAIN_TOO_MANY_SEGS]);
	EXPECT_EQ(0, used_idx(vq));
}

TEST_F(gl, tx_chain_of_24_indirect_tables_of_32768_is_refused_at_once)
{
	if (!variant->ours)
		SKIP(return, "vhost-net soft-locks on this chain");
	ASSERT_EQ(0, start(self, BASE_F, 256, false));
	huge_chain_case(_metadata, self, TX);
}

TEST_F(gl, rx_chain_of_24_indirect_tables_of_32768_is_refused_at_once)
{
	int i;

	if (!variant->ours)
		SKIP(return, "vhost-net soft-locks on this chain");
	ASSERT_EQ(0, start(self, BASE_F, 256, false));
	/* 80 frames wait, each of which would walk the chain again */
	for (i = 0; i < 80; i++) {
		vmq_frame_fill(self->frame, FRAME, i);
		ASSERT_EQ(FRAME, vmq_pkt_send(self->tap.pkt, self->tap.ifindex,
					      self->frame, FRAME));
	}
	huge_chain_case(_metadata, self, RX);
}

/*
 * An rx chain too small for every frame (1001 descriptors, 8 bytes in
 * all), without mergeable buffers: each of 80 waiting frames walks it and
 * is dropped. The walks count on the run's budget: 80 x 1002 reads take
 * five runs or more, not one, and vring ioctls get in between.
 */
TEST_F(gl, rx_walks_of_a_too_small_chain_count_on_the_budget)
{
	struct vmq_gvq *rx = &self->vq[RX];
	struct vring_desc *table;
	uint64_t before;
	unsigned char *b;
	double worst;
	int i;

	if (!variant->ours)
		SKIP(return, "vhost-net's budget counts frames and bytes only");
	ASSERT_EQ(0, start(self, BASE_F, 256, false));
	b = vmq_guest_alloc(&self->g, 8, 8);
	table = vmq_guest_alloc(&self->g, 1001 * sizeof(*table), 16);
	for (i = 0; i < 1001; i++)
		table[i] = (struct vring_desc){ vmq_gpa(&self->g, b),
			i < 1000 ? 0 : 8,
			VRING_DESC_F_WRITE | (i < 1000 ? VRING_DESC_F_NEXT : 0),
			i + 1 };
	rx->vring.desc[0] = (struct vring_desc){ vmq_gpa(&self->g, table),
		1001 * sizeof(*table), VRING_DESC_F_INDIRECT, 0 };
	/* the frames wait first (no buffer yet: each wakeup finds none) */
	for (i = 0; i < 80; i++) {
		vmq_frame_fill(self->frame, FRAME, i);
		ASSERT_EQ(FRAME, vmq_pkt_send(self->tap.pkt, self->tap.ifindex,
					      self->frame, FRAME));
	}
	usleep(200000);
	before = stats(self, RX).wakeups;
	publish(rx, 0);
	kick(rx);
	worst = ioctl_latency(self->fd, RX, 1000);
	for (i = 0; i < 500 && stats(self, RX).drops[VHOST_MQ_DROP_TOO_BIG] < 80; i++)
		usleep(10000);
	TH_LOG("%llu runs for 80 frames, longest vring ioctl %.1f ms",
	       (unsigned long long)(stats(self, RX).wakeups - before), worst);
	EXPECT_EQ(80, stats(self, RX).drops[VHOST_MQ_DROP_TOO_BIG]);
	EXPECT_LE(before + 5, stats(self, RX).wakeups);
	EXPECT_GT(100, worst);
	EXPECT_EQ(0, stats(self, RX).errors);
}

/* ------------------------------------------------ a stop that holds */

/* Frames @first.. of @n, each into one 2048-byte buffer, arrived in order. */
static int rx_post(FIXTURE_DATA(gl) *self, unsigned char **bufs, int n)
{
	struct vmq_gbuf b;
	int i;

	for (i = 0; i < n; i++) {
		bufs[i] = vmq_guest_alloc(&self->g, 2048, 64);
		b = (struct vmq_gbuf){ bufs[i], 2048 };
		if (vmq_gvq_add(&self->vq[RX], &b, 0, 1, bufs[i], false))
			return -ENOSPC;
	}
	vmq_gvq_kick(&self->vq[RX]);
	return 0;
}

static void rx_send(FIXTURE_DATA(gl) *self, uint32_t seq)
{
	vmq_frame_fill(self->frame, FRAME, seq);
	if (vmq_pkt_send(self->tap.pkt, self->tap.ifindex, self->frame,
			 FRAME) != FRAME)
		abort();
}

static bool rx_got(FIXTURE_DATA(gl) *self, uint32_t seq)
{
	unsigned char *buf;
	uint32_t len;

	buf = vmq_gvq_get_wait(&self->vq[RX], &len, WAIT_MS);
	vmq_frame_fill(self->frame, FRAME, seq);
	return buf && len == HDR + FRAME && !memcmp(buf + HDR, self->frame, FRAME);
}

/*
 * LOG_ALL with a log the device cannot write: the first frame's log write
 * fails, so that frame is not published, the vring stops at once and the
 * seven frames behind it stay in the tap. Once the VMM gives a writable
 * log and restarts the ring, they arrive, in order. (vhost-net ignores
 * the failed log write and delivers all eight: the migration misses them.)
 */
TEST_F(gl, rx_with_an_unwritable_dirty_log_stops_before_publishing)
{
	unsigned char *bufs[8];
	int i;

	ASSERT_EQ(0, start(self, MRG_F | F(VHOST_F_LOG_ALL), 64, false));
	ASSERT_EQ(0, rx_post(self, bufs, 8));
	for (i = 1; i <= 8; i++)
		rx_send(self, i);
	if (!variant->ours) {
		EXPECT_TRUE(used_reaches(&self->vq[RX], 8, WAIT_MS));
		TH_LOG("upstream vhost-net delivers every frame past a failed log write");
		return;
	}
	EXPECT_TRUE(err_fired(self->vq[RX].err_fd, WAIT_MS));
	usleep(NONE_MS * 1000);
	EXPECT_EQ(0, used_idx(&self->vq[RX])) TH_LOG("published after the stop");
	EXPECT_EQ(1, stats(self, RX).chain_errors[VHOST_MQ_CHAIN_MEM_FAULT]);
	EXPECT_EQ(1, stats(self, RX).drops[VHOST_MQ_DROP_LOG_FAULT]);
	EXPECT_EQ(0, stats(self, RX).packets) TH_LOG("counted as delivered");
	/* the VMM makes the log writable and restarts the ring */
	ASSERT_EQ(0, mprotect(self->log, self->log_len, PROT_READ | PROT_WRITE));
	ASSERT_EQ(0, vmm_restart(self, RX, self->tap.fd[0]));
	vmq_gvq_kick(&self->vq[RX]);
	for (i = 2; i <= 8; i++)
		EXPECT_TRUE(rx_got(self, i)) TH_LOG("frame %d", i);
	EXPECT_FALSE(err_fired(self->vq[RX].err_fd, 0));
}

/* Send one control command by hand: VQ_PAIRS_SET @n, the ack at @ack. */
static void cvq_pairs_set(FIXTURE_DATA(gl) *self, uint8_t *cmd, uint8_t *ack,
			  uint16_t n)
{
	struct vmq_gbuf b[2] = { { cmd, 4 }, { ack, 1 } };

	cmd[0] = VIRTIO_NET_CTRL_MQ;
	cmd[1] = VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET;
	memcpy(cmd + 2, &n, 2);
	if (vmq_gvq_add(&self->vq[CVQ], b, 1, 1, cmd, false))
		abort();
	vmq_gvq_kick(&self->vq[CVQ]);
}

static uint32_t active_pairs(FIXTURE_DATA(gl) *self)
{
	struct vhost_mq_active a = { 0 };

	return ioctl(self->fd, VHOST_MQ_GET_ACTIVE, &a) ? 0 : a.active;
}

/*
 * The ack byte lies on a page the VMM made read-only: the control vq
 * stops, nothing changes, and the command stays where it was; once the
 * page is writable and the VMM restarts the queue, the command is read
 * again and answered (a Linux guest waits for it holding RTNL).
 */
static void cvq_restart_answers(struct __test_metadata *_metadata,
				FIXTURE_DATA(gl) *self, uint8_t *ack,
				void *unprotect, size_t len)
{
	uint32_t got;

	EXPECT_TRUE(err_fired(self->vq[CVQ].err_fd, WAIT_MS));
	usleep(NONE_MS * 1000);
	EXPECT_EQ(0, used_idx(&self->vq[CVQ]));
	EXPECT_EQ(0, stats(self, CVQ).packets) TH_LOG("counted as answered");
	ASSERT_EQ(0, mprotect(unprotect, len, PROT_READ | PROT_WRITE));
	ASSERT_EQ(0, vmm_restart(self, CVQ, self->change_fd));
	EXPECT_TRUE(vmq_gvq_get_wait(&self->vq[CVQ], &got, WAIT_MS) != NULL)
		TH_LOG("the command was never answered");
	EXPECT_EQ(VIRTIO_NET_OK, *ack);
	EXPECT_EQ(1, got);
	/* one pair only: 1 is all VQ_PAIRS_SET may ask for */
	EXPECT_EQ(1, active_pairs(self));
	EXPECT_EQ(1, stats(self, CVQ).packets);
}

TEST_F(gl, ctrl_ack_unwritable_then_restart_answers_the_command)
{
	uint8_t *cmd, *ack;

	if (!variant->ours)
		SKIP(return, "device mode (the control vq) is vhost-mq's");
	ASSERT_EQ(0, start(self, BASE_F | CTRL_F, 64, true));
	cmd = vmq_guest_alloc(&self->g, 16, 16);
	ack = vmq_guest_alloc(&self->g, PAGE, PAGE);
	*ack = 0xee;
	ASSERT_EQ(0, mprotect(ack, PAGE, PROT_READ));
	cvq_pairs_set(self, cmd, ack, 1);
	cvq_restart_answers(_metadata, self, ack, ack, PAGE);
	EXPECT_EQ(1, stats(self, CVQ).chain_errors[VHOST_MQ_CHAIN_MEM_FAULT]);
}

TEST_F(gl, ctrl_with_an_unwritable_dirty_log_answers_only_after_restart)
{
	uint8_t *cmd, *ack;

	if (!variant->ours)
		SKIP(return, "device mode (the control vq) is vhost-mq's");
	ASSERT_EQ(0, start(self, BASE_F | CTRL_F | F(VHOST_F_LOG_ALL), 64, true));
	cmd = vmq_guest_alloc(&self->g, 16, 16);
	ack = vmq_guest_alloc(&self->g, 16, 16);
	*ack = 0xee;
	cvq_pairs_set(self, cmd, ack, 1);
	cvq_restart_answers(_metadata, self, ack, self->log, self->log_len);
	EXPECT_EQ(1, stats(self, CVQ).chain_errors[VHOST_MQ_CHAIN_MEM_FAULT]);
}

/*
 * An error eventfd the VMM sets only after the vring stopped still hears
 * of it: vhost-mq signals it at once, vhost-net at the next kick (it
 * reads the bad chain again at every kick and signals every time).
 */
TEST_F(gl, an_error_eventfd_set_after_the_stop_fires)
{
	struct vmq_gvq *tx = &self->vq[TX];
	struct vhost_vring_file f = { .index = TX };
	int late;

	ASSERT_EQ(0, start(self, BASE_F, 64, false));
	tx->vring.desc[0] = (struct vring_desc){ GUEST_GPA, 1, 0, 0 };
	publish(tx, 200);		/* a head past the ring */
	kick(tx);
	ASSERT_TRUE(err_fired(tx->err_fd, WAIT_MS));
	late = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ASSERT_LE(0, late);
	f.fd = late;
	ASSERT_EQ(0, ioctl(self->fd, VHOST_SET_VRING_ERR, &f));
	if (!variant->ours) {
		kick(tx);
		TH_LOG("upstream vhost-net signals the late eventfd at the next kick");
	}
	EXPECT_TRUE(err_fired(late, WAIT_MS));
	close(late);
}

TEST_HARNESS_MAIN
