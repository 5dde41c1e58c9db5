// SPDX-License-Identifier: GPL-2.0
/*
 * iotlb_test.c - VIRTIO_F_ACCESS_PLATFORM and the device IOTLB, on
 * /dev/vhost-net (the reference) and /dev/vhost-mq with the same code:
 * the features offered, the errno of every malformed message, read() and
 * poll() of MISS messages, a miss answered page by page until traffic
 * resumes without a kick, read-only and write-only mappings refused,
 * rings scattered over pieces of the VMM's memory,
 * invalidation under traffic (no frame through a mapping after its
 * invalidation returned), device mode through IOVAs, and a VMM killed
 * with misses pending.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
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
#define PAGE		4096UL
#define GUEST_MEM	(64UL << 20)
#define GUEST_GPA	0x40000000ULL
#define HDR		12
#define FRAME		600
#define WAIT_MS		5000
#define FEATURES	(F(VIRTIO_F_VERSION_1) | F(VIRTIO_NET_F_MRG_RXBUF) | \
			 F(VIRTIO_RING_F_EVENT_IDX) | \
			 F(VIRTIO_F_ACCESS_PLATFORM))
#define BF(bit)		(1ULL << (bit))

FIXTURE(io) {
	struct vmq_gpair gp;
	struct vmq_tap tap;
	int fd;
	bool ours;
	unsigned char frame[9000], got[9100];
};

FIXTURE_VARIANT(io) {
	const char *path;
};

FIXTURE_VARIANT_ADD(io, net) {
	.path = VHOST_NET_PATH,
};

FIXTURE_VARIANT_ADD(io, mq) {
	.path = VHOST_MQ_PATH,
};

FIXTURE_SETUP(io)
{
	vmq_kmsg_mark(_metadata->name, variant->path);
	self->ours = !strcmp(variant->path, VHOST_MQ_PATH);
	ASSERT_EQ(0, vmq_netns_enter());
	ASSERT_EQ(0, vmq_tap_open(&self->tap, "vmq0", 1, HDR, 9000));
	self->fd = open(variant->path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, vmq_gpair_start(&self->gp, self->fd, FEATURES, GUEST_MEM,
				     GUEST_GPA, 256, self->tap.fd[0]));
	ASSERT_TRUE(self->gp.g.platform);
}

FIXTURE_TEARDOWN(io)
{
	close(self->fd);
	vmq_gpair_destroy(&self->gp);
	vmq_tap_close(&self->tap);
}

static struct vhost_mq_vring_stats vring_stats(FIXTURE_DATA(io) *self,
					       unsigned int index)
{
	struct vhost_mq_vring_stats s = { .index = index };

	if (ioctl(self->fd, VHOST_MQ_GET_VRING_STATS, &s))
		memset(&s, 0xff, sizeof(s));
	return s;
}

/* the IOVA the device is given for @p, and the VMM's address of it */
static uint64_t iova_of(FIXTURE_DATA(io) *self, const void *p)
{
	return vmq_gpa(&self->gp.g, p);
}

static uint64_t hva_of_iova(FIXTURE_DATA(io) *self, uint64_t iova)
{
	return (uintptr_t)self->gp.g.base + (iova - self->gp.g.iova);
}

/* Post header + frame @seq of FRAME bytes on tx and kick. */
static int tx_post(FIXTURE_DATA(io) *self, uint32_t seq)
{
	struct vmq_gbuf b[2];
	unsigned char *p;

	p = vmq_guest_alloc(&self->gp.g, HDR + FRAME, 8);
	if (!p)
		return -ENOMEM;
	vmq_frame_fill(p + HDR, FRAME, seq);
	b[0] = (struct vmq_gbuf){ p, HDR };
	b[1] = (struct vmq_gbuf){ p + HDR, FRAME };
	if (vmq_gvq_add(&self->gp.tx, b, 2, 0, p, false))
		return -ENOSPC;
	vmq_gvq_kick(&self->gp.tx);
	return 0;
}

/* Has frame @seq arrived at the tap, byte for byte, within @ms? */
static bool tx_arrived(FIXTURE_DATA(io) *self, uint32_t seq, int ms)
{
	vmq_frame_fill(self->frame, FRAME, seq);
	return vmq_pkt_recv(self->tap.pkt, self->got, sizeof(self->got), ms) ==
	       FRAME && !memcmp(self->frame, self->got, FRAME);
}

static bool eventfd_fires(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1 && vmq_eventfd_read(fd) > 0;
}

/* ------------------------------------------------ features and errno */

TEST_F(io, features_offer_access_platform_and_iotlb_msg_v2)
{
	uint64_t f = 0, bf = 0, asid = BF(VHOST_BACKEND_F_IOTLB_ASID);

	ASSERT_EQ(0, ioctl(self->fd, VHOST_GET_FEATURES, &f));
	EXPECT_TRUE(f & F(VIRTIO_F_ACCESS_PLATFORM));
	ASSERT_EQ(0, ioctl(self->fd, VHOST_GET_BACKEND_FEATURES, &bf));
	EXPECT_TRUE(bf & BF(VHOST_BACKEND_F_IOTLB_MSG_V2));
	/* batches are ours (for vhost-vdpa clients); vhost-net has none */
	EXPECT_EQ(self->ours, !!(bf & BF(VHOST_BACKEND_F_IOTLB_BATCH)));
	EXPECT_EQ(-1, ioctl(self->fd, VHOST_SET_BACKEND_FEATURES, &asid));
	EXPECT_EQ(EOPNOTSUPP, errno);
}

struct bad_msg {
	const char *what;
	uint32_t format;
	uint8_t type, perm;
	uint64_t iova, size, uaddr;
	size_t len;		/* bytes written; 0: the whole v2 message */
	int err_net, err_mq;	/* 0: accepted */
};

static ssize_t write_msg(int fd, const struct bad_msg *m, uint64_t uaddr)
{
	struct vhost_msg_v2 v2;

	memset(&v2, 0, sizeof(v2));
	v2.type = m->format;
	v2.iotlb.type = m->type;
	v2.iotlb.iova = m->iova;
	v2.iotlb.size = m->size;
	v2.iotlb.uaddr = m->uaddr ? m->uaddr : uaddr;
	v2.iotlb.perm = m->perm;
	return write(fd, &v2, m->len ? m->len : sizeof(v2));
}

TEST_F(io, malformed_messages_get_vhost_nets_errno)
{
	const uint64_t far = 1ULL << 46, top = ~0ULL - PAGE + 1;
	const struct bad_msg msgs[] = {
		{ "3 bytes", VHOST_IOTLB_MSG_V2, VHOST_IOTLB_UPDATE,
		  VHOST_ACCESS_RW, far, PAGE, 0, 3, EINVAL, EINVAL },
		{ "unknown format 7", 7, VHOST_IOTLB_UPDATE, VHOST_ACCESS_RW,
		  far, PAGE, 0, 0, EINVAL, EINVAL },
		{ "v2 cut short", VHOST_IOTLB_MSG_V2, VHOST_IOTLB_UPDATE,
		  VHOST_ACCESS_RW, far, PAGE, 0, 8 + 20, EINVAL, EINVAL },
		{ "UPDATE of size 0", VHOST_IOTLB_MSG_V2, VHOST_IOTLB_UPDATE,
		  VHOST_ACCESS_RW, far, 0, 0, 0, EINVAL, EINVAL },
		/* vhost-net: a no-op that says it worked; ours: it wraps */
		{ "INVALIDATE of size 0 at an iova above 0",
		  VHOST_IOTLB_MSG_V2, VHOST_IOTLB_INVALIDATE, 0, far, 0, 0, 0,
		  0, EFAULT },
		{ "unknown type 9", VHOST_IOTLB_MSG_V2, 9, VHOST_ACCESS_RW,
		  far, PAGE, 0, 0, EFAULT, EFAULT },
		{ "a MISS written", VHOST_IOTLB_MSG_V2, VHOST_IOTLB_MISS,
		  VHOST_ACCESS_RW, far, PAGE, 0, 0, EFAULT, EFAULT },
		{ "an ACCESS_FAIL written", VHOST_IOTLB_MSG_V2,
		  VHOST_IOTLB_ACCESS_FAIL, VHOST_ACCESS_RW, far, PAGE, 0, 0,
		  EFAULT, EFAULT },
		{ "BATCH_BEGIN without IOTLB_BATCH", VHOST_IOTLB_MSG_V2,
		  VHOST_IOTLB_BATCH_BEGIN, 0, 0, 0, 0, 0, EFAULT, EFAULT },
		{ "UPDATE whose range wraps", VHOST_IOTLB_MSG_V2,
		  VHOST_IOTLB_UPDATE, VHOST_ACCESS_RW, top, 2 * PAGE, 0, 0,
		  EFAULT, EFAULT },
		{ "UPDATE of a kernel address", VHOST_IOTLB_MSG_V2,
		  VHOST_IOTLB_UPDATE, VHOST_ACCESS_RW, far, PAGE,
		  0xffff888000000000ULL, 0, EFAULT, EFAULT },
		{ "UPDATE whose uaddr wraps", VHOST_IOTLB_MSG_V2,
		  VHOST_IOTLB_UPDATE, VHOST_ACCESS_RO, far, 2 * PAGE, top, 0,
		  EFAULT, EFAULT },
		/* vhost-net takes both of these; we refuse them */
		{ "UPDATE with permission bit 0x4", VHOST_IOTLB_MSG_V2,
		  VHOST_IOTLB_UPDATE, 0x4 | VHOST_ACCESS_RO, far, PAGE, 0, 0,
		  0, EFAULT },
		{ "INVALIDATE whose range wraps", VHOST_IOTLB_MSG_V2,
		  VHOST_IOTLB_INVALIDATE, 0, top, 2 * PAGE, 0, 0, 0, EFAULT },
	};
	uint64_t uaddr = (uintptr_t)self->gp.g.base;
	struct vhost_msg v1;
	unsigned int i;
	ssize_t n;
	int want;

	for (i = 0; i < ARRAY_SIZE(msgs); i++) {
		want = self->ours ? msgs[i].err_mq : msgs[i].err_net;
		n = write_msg(self->fd, &msgs[i], uaddr);
		if (want) {
			EXPECT_EQ(-1, n) TH_LOG("%s: accepted", msgs[i].what);
			EXPECT_EQ(want, errno) TH_LOG("%s: errno %d, want %d",
						      msgs[i].what, errno, want);
		} else {
			EXPECT_EQ((ssize_t)sizeof(struct vhost_msg_v2), n)
				TH_LOG("%s: errno %d", msgs[i].what, errno);
		}
	}
	/* both formats are taken, whatever was negotiated; each says its size */
	memset(&v1, 0, sizeof(v1));
	v1.type = VHOST_IOTLB_MSG;
	v1.iotlb.type = VHOST_IOTLB_UPDATE;
	v1.iotlb.iova = far;
	v1.iotlb.size = PAGE;
	v1.iotlb.uaddr = uaddr;
	v1.iotlb.perm = VHOST_ACCESS_RW;
	EXPECT_EQ((ssize_t)sizeof(v1), write(self->fd, &v1, sizeof(v1)));
	/* nothing was lost: the device still moves a frame */
	ASSERT_EQ(0, tx_post(self, 7));
	EXPECT_TRUE(tx_arrived(self, 7, WAIT_MS));
}

TEST_F(io, messages_without_access_platform_fail_with_efault)
{
	uint64_t features = F(VIRTIO_F_VERSION_1);
	int fd = open(variant->path, O_RDWR | O_CLOEXEC);
	char buf[sizeof(struct vhost_msg_v2)];

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioctl(fd, VHOST_SET_FEATURES, &features));
	EXPECT_EQ(-EFAULT, vmq_vhost_iotlb(fd, VHOST_IOTLB_UPDATE, 0, PAGE,
					   (uintptr_t)self->gp.g.base,
					   VHOST_ACCESS_RW));
	EXPECT_EQ(-EFAULT, vmq_vhost_iotlb(fd, VHOST_IOTLB_INVALIDATE, 0, PAGE,
					   0, 0));
	/* a blocking reader of a device without an IOTLB is told so */
	EXPECT_EQ(-1, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(EBADFD, errno);
	close(fd);
}

TEST_F(io, batches_are_taken_once_negotiated)
{
	uint64_t bf = BF(VHOST_BACKEND_F_IOTLB_MSG_V2) |
		      BF(VHOST_BACKEND_F_IOTLB_BATCH);
	struct vmq_guest *g = &self->gp.g;

	if (!self->ours)
		SKIP(return, "vhost-net offers no IOTLB_BATCH");
	ASSERT_EQ(0, ioctl(self->fd, VHOST_SET_BACKEND_FEATURES, &bf));
	/* the whole memory moves to a new IOVA inside one batch */
	ASSERT_EQ(0, vmq_vhost_iotlb(self->fd, VHOST_IOTLB_BATCH_BEGIN, 0, 0,
				     0, 0));
	ASSERT_EQ(0, vmq_vhost_iotlb(self->fd, VHOST_IOTLB_INVALIDATE,
				     g->iova, g->size, 0, 0));
	ASSERT_EQ(0, vmq_vhost_iotlb(self->fd, VHOST_IOTLB_UPDATE, g->iova,
				     g->size, (uintptr_t)g->base,
				     VHOST_ACCESS_RW));
	ASSERT_EQ(0, vmq_vhost_iotlb(self->fd, VHOST_IOTLB_BATCH_END, 0, 0,
				     0, 0));
	ASSERT_EQ(0, tx_post(self, 3));
	EXPECT_TRUE(tx_arrived(self, 3, WAIT_MS));
}

/* ------------------------------------------------ misses */

TEST_F(io, reads_and_polls_follow_vhost_net)
{
	struct pollfd p = { .fd = self->fd, .events = POLLIN };
	char small[16], buf[sizeof(struct vhost_msg_v2)];
	int fl = fcntl(self->fd, F_GETFL);

	EXPECT_EQ(0, poll(&p, 1, 0));
	EXPECT_EQ(0, read(self->fd, small, sizeof(small)));
	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, fl | O_NONBLOCK));
	EXPECT_EQ(-1, read(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(EAGAIN, errno);
	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, fl));
}

/*
 * Answer MISS messages with one page each, as a vIOMMU of 4 KiB pages
 * would, until @done says the traffic went through. Returns the number of
 * misses answered, or -errno.
 */
static int answer_misses(FIXTURE_DATA(io) *self,
			 bool (*done)(FIXTURE_DATA(io) *self),
			 struct __test_metadata *_metadata)
{
	struct vmq_guest *g = &self->gp.g;
	uint64_t iova, page;
	int n = 0, r;
	uint8_t perm;

	while (!done(self)) {
		if (n == 64)
			return -ELOOP;
		r = vmq_vhost_iotlb_miss(self->fd, &iova, &perm, WAIT_MS);
		if (r)
			return r;
		EXPECT_TRUE(perm >= VHOST_ACCESS_RO && perm <= VHOST_ACCESS_RW)
			TH_LOG("perm %u", perm);
		if (iova < g->iova || iova - g->iova >= g->size)
			return -ERANGE;
		page = iova & ~(PAGE - 1);
		r = vmq_vhost_iotlb(self->fd, VHOST_IOTLB_UPDATE, page, PAGE,
				    hva_of_iova(self, page), VHOST_ACCESS_RW);
		if (r)
			return r;
		n++;
	}
	return n;
}

static uint32_t want_seq;

static bool tx_done(FIXTURE_DATA(io) *self)
{
	return tx_arrived(self, want_seq, 50);
}

TEST_F(io, a_tx_miss_is_asked_answered_and_traffic_resumes_without_a_kick)
{
	struct vmq_guest *g = &self->gp.g;
	struct pollfd p = { .fd = self->fd, .events = POLLIN };
	unsigned long kicks;
	uint64_t iova;
	uint8_t perm;
	int n;

	ASSERT_EQ(0, vmq_vhost_iotlb(self->fd, VHOST_IOTLB_INVALIDATE,
				     g->iova, g->size, 0, 0));
	ASSERT_EQ(0, tx_post(self, 11));
	kicks = self->gp.tx.kicks;
	EXPECT_EQ(1, poll(&p, 1, WAIT_MS)) TH_LOG("no MISS to read");
	EXPECT_FALSE(tx_arrived(self, 11, 100));
	want_seq = 11;
	n = answer_misses(self, tx_done, _metadata);
	EXPECT_LE(2, n) TH_LOG("misses answered: %d", n);
	EXPECT_EQ(kicks, self->gp.tx.kicks);
	EXPECT_NE(NULL, vmq_gvq_get_wait(&self->gp.tx, NULL, WAIT_MS));
	if (self->ours) {
		EXPECT_LE(1, vring_stats(self, 1).iotlb_misses);
		/* one request per vring, withdrawn once answered */
		EXPECT_EQ(0, poll(&p, 1, 0));
	} else {
		/* vhost-net may have asked twice for a page: drop those */
		while (poll(&p, 1, 0) == 1 && !vmq_vhost_iotlb_miss(self->fd, &iova,
								   &perm, 0))
			;
	}
	/* with all of memory mapped again the next frame asks for nothing */
	ASSERT_EQ(0, vmq_vhost_iotlb_map_guest(self->fd, g));
	ASSERT_EQ(0, tx_post(self, 12));
	EXPECT_TRUE(tx_arrived(self, 12, WAIT_MS));
	EXPECT_EQ(0, poll(&p, 1, 0));
}

static void *rx_buf;

static bool rx_done(FIXTURE_DATA(io) *self)
{
	uint32_t len;

	return vmq_gvq_get_wait(&self->gp.rx, &len, 50) == rx_buf &&
	       len == HDR + FRAME;
}

TEST_F(io, an_rx_miss_is_asked_answered_and_the_frame_delivered)
{
	struct vmq_guest *g = &self->gp.g;
	struct vmq_gbuf b;
	int n;

	rx_buf = vmq_guest_alloc(g, 2048, 8);
	b = (struct vmq_gbuf){ rx_buf, 2048 };
	ASSERT_EQ(0, vmq_vhost_iotlb(self->fd, VHOST_IOTLB_INVALIDATE,
				     g->iova, g->size, 0, 0));
	ASSERT_EQ(0, vmq_gvq_add(&self->gp.rx, &b, 0, 1, rx_buf, false));
	vmq_gvq_kick(&self->gp.rx);
	vmq_frame_fill(self->frame, FRAME, 21);
	ASSERT_EQ(FRAME, vmq_pkt_send(self->tap.pkt, self->tap.ifindex,
				      self->frame, FRAME));
	n = answer_misses(self, rx_done, _metadata);
	EXPECT_LE(2, n) TH_LOG("misses answered: %d", n);
	EXPECT_EQ(0, memcmp((unsigned char *)rx_buf + HDR, self->frame,
			    FRAME));
}

/* ------------------------------------------------ permissions */

/*
 * Map all of guest memory again but [p, p + len), which the caller maps
 * itself. An invalidation drops every mapping it touches whole (so does
 * vhost-net's), so the rest is mapped again in two pieces.
 */
static int map_around(FIXTURE_DATA(io) *self, unsigned char *p, size_t len)
{
	struct vmq_guest *g = &self->gp.g;
	size_t before = p - g->base, after = g->size - before - len;
	int r;

	r = vmq_vhost_iotlb(self->fd, VHOST_IOTLB_INVALIDATE, g->iova, g->size,
			    0, 0);
	if (!r && before)
		r = vmq_vhost_iotlb(self->fd, VHOST_IOTLB_UPDATE, g->iova,
				    before, (uintptr_t)g->base,
				    VHOST_ACCESS_RW);
	if (!r && after)
		r = vmq_vhost_iotlb(self->fd, VHOST_IOTLB_UPDATE,
				    iova_of(self, p + len), after,
				    (uintptr_t)(p + len), VHOST_ACCESS_RW);
	return r;
}

/* Map [p, p + len) with @perm only, the rest of guest memory as before. */
static int remap(FIXTURE_DATA(io) *self, unsigned char *p, size_t len,
		 uint8_t perm)
{
	int r = map_around(self, p, len);

	return r ? r : vmq_vhost_iotlb(self->fd, VHOST_IOTLB_UPDATE,
				       iova_of(self, p), len, (uintptr_t)p,
				       perm);
}

TEST_F(io, an_rx_buffer_mapped_read_only_is_never_written)
{
	unsigned char *buf = vmq_guest_alloc(&self->gp.g, 2 * PAGE, PAGE);
	struct vmq_gbuf b = { buf, 2 * PAGE };
	size_t i, bad = 0;

	ASSERT_NE(NULL, buf);
	memset(buf, 0xaa, 2 * PAGE);
	ASSERT_EQ(0, remap(self, buf, 2 * PAGE, VHOST_ACCESS_RO));
	ASSERT_EQ(0, vmq_gvq_add(&self->gp.rx, &b, 0, 1, buf, false));
	vmq_gvq_kick(&self->gp.rx);
	vmq_frame_fill(self->frame, FRAME, 31);
	ASSERT_EQ(FRAME, vmq_pkt_send(self->tap.pkt, self->tap.ifindex,
				      self->frame, FRAME));
	EXPECT_TRUE(eventfd_fires(self->gp.rx.err_fd, WAIT_MS));
	EXPECT_EQ(NULL, vmq_gvq_get_wait(&self->gp.rx, NULL, 300));
	for (i = 0; i < 2 * PAGE; i++)
		bad += buf[i] != 0xaa;
	EXPECT_EQ(0, bad) TH_LOG("%zu bytes written through a read-only mapping",
				 bad);
	if (self->ours) {
		struct vhost_mq_vring_stats s = vring_stats(self, 0);

		EXPECT_EQ(1, s.chain_errors[VHOST_MQ_CHAIN_IOTLB_PERM]);
		EXPECT_EQ(1, s.errors);
	}
}

TEST_F(io, a_tx_buffer_mapped_write_only_is_never_sent)
{
	unsigned char *buf = vmq_guest_alloc(&self->gp.g, PAGE, PAGE);
	struct vmq_gbuf b[2] = { { buf, HDR }, { buf + HDR, FRAME } };

	ASSERT_NE(NULL, buf);
	vmq_frame_fill(buf + HDR, FRAME, 41);
	ASSERT_EQ(0, remap(self, buf, PAGE, VHOST_ACCESS_WO));
	ASSERT_EQ(0, vmq_gvq_add(&self->gp.tx, b, 2, 0, buf, false));
	vmq_gvq_kick(&self->gp.tx);
	EXPECT_TRUE(eventfd_fires(self->gp.tx.err_fd, WAIT_MS));
	EXPECT_FALSE(tx_arrived(self, 41, 300));
	if (self->ours)
		EXPECT_EQ(1, vring_stats(self, 1).chain_errors
			  [VHOST_MQ_CHAIN_IOTLB_PERM]);
}

/* ------------------------------------------------ invalidation */

#define SLOTS		64		/* frames per round */
#define LATE		16		/* of which posted after the remap */
#define SLOT		1024
#define POISON_SEQ	0xfffffu

static unsigned long env_frames(void)
{
	const char *s = getenv("IOTLB_FRAMES");

	return s ? strtoul(s, NULL, 0) : 100000;
}

/*
 * Fill @area with SLOTS slots of header + frame: frame seq0 + i, or the
 * poison frame in every slot.
 */
static void fill_slots(unsigned char *area, uint32_t seq0, bool poison)
{
	unsigned int i;

	for (i = 0; i < SLOTS; i++) {
		memset(area + i * SLOT, 0, HDR);
		vmq_frame_fill(area + i * SLOT + HDR, FRAME,
			       poison ? POISON_SEQ : seq0 + i);
	}
}

/* Post slot @i of the data area as the device sees it at IOVA @win. */
static int post_slot(FIXTURE_DATA(io) *self, unsigned char *area,
		     uint64_t win, unsigned int i)
{
	struct vmq_guest *g = &self->gp.g;
	uint64_t saved = g->iova;
	struct vmq_gbuf b[2] = {
		{ area + i * SLOT, HDR }, { area + i * SLOT + HDR, FRAME },
	};
	int r;

	g->iova = win - (area - g->base);
	r = vmq_gvq_add(&self->gp.tx, b, 2, 0, area + i * SLOT, false);
	g->iova = saved;
	return r;
}

/*
 * What a VMM does meanwhile: answer any MISS in the window [win, win +
 * size) with its present mapping (vhost-net wakes a vring only for a MISS
 * the VMM has read). How many there were.
 */
static int answer_window(FIXTURE_DATA(io) *self, uint64_t win, size_t size,
			 void *to)
{
	struct pollfd p = { .fd = self->fd, .events = POLLIN };
	uint64_t iova;
	uint8_t perm;
	int n = 0;

	while (poll(&p, 1, 0) == 1 &&
	       !vmq_vhost_iotlb_miss(self->fd, &iova, &perm, 0)) {
		n++;
		if (iova - win < size)
			vmq_vhost_iotlb(self->fd, VHOST_IOTLB_UPDATE, win, size,
					(uintptr_t)to, VHOST_ACCESS_RO);
	}
	return n;
}

/* The next frame at the tap, answering misses while it waits. */
static ssize_t recv_answering(FIXTURE_DATA(io) *self, uint64_t win,
			      size_t size, void *to, int *misses)
{
	ssize_t n = -ETIMEDOUT;
	int waited;

	for (waited = 0; waited < WAIT_MS; waited += 100) {
		n = vmq_pkt_recv(self->tap.pkt, self->got, sizeof(self->got),
				 100);
		if (n != -ETIMEDOUT)
			break;
		*misses += answer_window(self, win, size, to);
	}
	return n;
}

/*
 * Each round maps the frames at a fresh IOVA, posts 48, and while the
 * device sends them invalidates that IOVA and maps it again onto poison
 * frames, then posts 16 more. Every frame that arrives is either its own
 * or the poison, never a mix; the own ones all come before the poison;
 * and the 16 posted after the invalidation returned are all poison.
 */
TEST_F_TIMEOUT(io, invalidation_under_traffic_never_uses_a_stale_mapping, 600)
{
	unsigned char *data = vmq_guest_alloc(&self->gp.g, SLOTS * SLOT, PAGE);
	unsigned char *poison = vmq_guest_alloc(&self->gp.g, SLOTS * SLOT,
						PAGE);
	unsigned long frames = env_frames(), sent = 0, own = 0, poisoned = 0;
	unsigned long late_own = 0, mixed = 0, order = 0, lost = 0;
	int misses = 0;
	const size_t size = SLOTS * SLOT;
	uint32_t seq0 = 0;
	unsigned int round, i;
	double t0 = vmq_now();

	ASSERT_NE(NULL, poison);
	fill_slots(poison, 0, true);
	for (round = 0; sent < frames; round++) {
		uint64_t win = (1ULL << 44) + (uint64_t)round * (1ULL << 24);
		bool seen_poison = false;

		fill_slots(data, seq0, false);
		ASSERT_EQ(0, vmq_vhost_iotlb(self->fd, VHOST_IOTLB_UPDATE, win,
					     size, (uintptr_t)data,
					     VHOST_ACCESS_RO));
		for (i = 0; i < SLOTS - LATE; i++)
			ASSERT_EQ(0, post_slot(self, data, win, i));
		vmq_gvq_kick(&self->gp.tx);
		ASSERT_EQ(0, vmq_vhost_iotlb(self->fd, VHOST_IOTLB_INVALIDATE,
					     win, size, 0, 0));
		ASSERT_EQ(0, vmq_vhost_iotlb(self->fd, VHOST_IOTLB_UPDATE, win,
					     size, (uintptr_t)poison,
					     VHOST_ACCESS_RO));
		for (; i < SLOTS; i++)
			ASSERT_EQ(0, post_slot(self, data, win, i));
		vmq_gvq_kick(&self->gp.tx);
		for (i = 0; i < SLOTS; i++) {
			ssize_t n = recv_answering(self, win, size, poison,
						   &misses);
			bool is_own, is_poison;

			if (n != FRAME) {
				lost++;
				break;
			}
			vmq_frame_fill(self->frame, FRAME, seq0 + i);
			is_own = !memcmp(self->got, self->frame, FRAME);
			vmq_frame_fill(self->frame, FRAME, POISON_SEQ);
			is_poison = !memcmp(self->got, self->frame, FRAME);
			if (is_own) {
				own++;
				order += seen_poison;
				late_own += i >= SLOTS - LATE;
			} else if (is_poison) {
				poisoned++;
				seen_poison = true;
			} else {
				mixed++;
			}
		}
		for (i = 0; i < SLOTS; i++)
			if (!vmq_gvq_get_wait(&self->gp.tx, NULL, WAIT_MS))
				break;
		ASSERT_EQ(SLOTS, i) TH_LOG("round %u: used entries missing",
					   round);
		ASSERT_EQ(0, lost) TH_LOG("round %u: a frame did not arrive",
					  round);
		ASSERT_EQ(0, vmq_vhost_iotlb(self->fd, VHOST_IOTLB_INVALIDATE,
					     win, size, 0, 0));
		sent += SLOTS;
		seq0 += SLOTS;
		ASSERT_EQ(0, late_own) TH_LOG("round %u: a frame posted after the invalidation was read through the old mapping",
					      round);
	}
	TH_LOG("%lu frames in %u rounds, %.1f s: %lu through the first mapping, %lu through the second, %d misses answered",
	       sent, round, vmq_now() - t0, own, poisoned, misses);
	EXPECT_EQ(0, mixed);
	EXPECT_EQ(0, order);
	EXPECT_LE(round * LATE, poisoned);
}

/* ------------------------------------------------ scattered rings */

/*
 * Where a guest's rings are contiguous in IOVA space but not in the VMM's
 * memory, as a vIOMMU that maps a ring of several pages page by page
 * makes them: the pages holding both rings move onto a memfd mapped
 * twice, and their IOVAs are mapped in pieces of 2050 and 2046 bytes
 * alternating between the two views. Descriptors and used elements
 * straddle pieces; no 16-bit field does (vhost-net refuses one that
 * straddles). The rest of memory stays mapped in place.
 */
struct scatter {
	unsigned char *start, *alias;
	size_t len;
	int memfd;
};

#define CUT	2050

static int scatter_rings(FIXTURE_DATA(io) *self, struct scatter *sc)
{
	struct vmq_gvq *rx = &self->gp.rx, *tx = &self->gp.tx;
	uintptr_t lo = (uintptr_t)rx->vring.desc, hi;
	size_t off, piece;
	unsigned char *save, *view;
	int r;

	hi = (uintptr_t)&tx->vring.used->ring[tx->num] + 2;
	lo &= ~(PAGE - 1);
	hi = (hi + PAGE - 1) & ~(PAGE - 1);
	sc->start = (unsigned char *)lo;
	sc->len = hi - lo;
	sc->memfd = memfd_create("vmq-rings", MFD_CLOEXEC);
	if (sc->memfd < 0 || ftruncate(sc->memfd, sc->len))
		return -errno;
	save = malloc(sc->len);
	if (!save)
		return -ENOMEM;
	memcpy(save, sc->start, sc->len);
	if (mmap(sc->start, sc->len, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED, sc->memfd, 0) == MAP_FAILED)
		return -errno;
	memcpy(sc->start, save, sc->len);
	free(save);
	sc->alias = mmap(NULL, sc->len, PROT_READ | PROT_WRITE, MAP_SHARED,
			 sc->memfd, 0);
	if (sc->alias == MAP_FAILED)
		return -errno;

	r = map_around(self, sc->start, sc->len);
	for (off = 0; !r && off < sc->len; off += piece) {
		piece = off % PAGE ? PAGE - CUT : CUT;
		view = off % PAGE ? sc->alias : sc->start;
		r = vmq_vhost_iotlb(self->fd, VHOST_IOTLB_UPDATE,
				    iova_of(self, sc->start + off), piece,
				    (uintptr_t)(view + off), VHOST_ACCESS_RW);
	}
	return r;
}

static void unscatter(struct scatter *sc)
{
	if (sc->alias && sc->alias != MAP_FAILED)
		munmap(sc->alias, sc->len);
	if (sc->memfd >= 0)
		close(sc->memfd);
}

#define SCATTER_FRAMES	2000	/* each ring wraps several times */
#define POOL		64

TEST_F_TIMEOUT(io, rings_scattered_over_pieces_of_memory_move_every_byte, 300)
{
	struct vmq_guest *g = &self->gp.g;
	unsigned char *txb = vmq_guest_alloc(g, POOL * SLOT, PAGE);
	unsigned char *rxb = vmq_guest_alloc(g, POOL * 2048, PAGE);
	struct scatter sc = { .memfd = -1 };
	unsigned int seq, tx_bad = 0, rx_bad = 0, errs;
	uint32_t len;
	void *tok;

	ASSERT_NE(NULL, rxb);
	ASSERT_EQ(0, scatter_rings(self, &sc));
	TH_LOG("rings in %zu bytes, pieces of %u and %lu", sc.len, CUT,
	       PAGE - CUT);
	for (seq = 0; seq < SCATTER_FRAMES; seq++) {
		unsigned char *p = txb + (seq % POOL) * SLOT;
		struct vmq_gbuf b[2] = { { p, HDR }, { p + HDR, FRAME } };

		memset(p, 0, HDR);
		vmq_frame_fill(p + HDR, FRAME, seq);
		/* every third chain through an indirect table */
		ASSERT_EQ(0, vmq_gvq_add(&self->gp.tx, b, 2, 0, p,
					 seq % 3 == 0)) TH_LOG("tx %u", seq);
		vmq_gvq_kick(&self->gp.tx);
		if (!tx_arrived(self, seq, WAIT_MS) && tx_bad++ < 3)
			TH_LOG("tx frame %u missing or wrong", seq);
		tok = vmq_gvq_get_wait(&self->gp.tx, NULL, WAIT_MS);
		ASSERT_EQ(p, tok) TH_LOG("tx used entry %u", seq);
	}
	for (seq = 0; seq < SCATTER_FRAMES; seq++) {
		unsigned char *p = rxb + (seq % POOL) * 2048;
		struct vmq_gbuf b = { p, 2048 };

		memset(p, 0, 2048);
		ASSERT_EQ(0, vmq_gvq_add(&self->gp.rx, &b, 0, 1, p, false));
		vmq_gvq_kick(&self->gp.rx);
		vmq_frame_fill(self->frame, FRAME, 1u << 16 | seq);
		ASSERT_EQ(FRAME, vmq_pkt_send(self->tap.pkt, self->tap.ifindex,
					      self->frame, FRAME));
		tok = vmq_gvq_get_wait(&self->gp.rx, &len, WAIT_MS);
		ASSERT_EQ(p, tok) TH_LOG("rx used entry %u", seq);
		if ((len != HDR + FRAME ||
		     memcmp(p + HDR, self->frame, FRAME)) && rx_bad++ < 3)
			TH_LOG("rx frame %u: %u bytes or wrong", seq, len);
	}
	EXPECT_EQ(0, tx_bad);
	EXPECT_EQ(0, rx_bad);
	EXPECT_EQ(0, vmq_eventfd_read(self->gp.tx.err_fd));
	EXPECT_EQ(0, vmq_eventfd_read(self->gp.rx.err_fd));
	if (self->ours) {
		errs = vring_stats(self, 0).errors + vring_stats(self, 1).errors;
		EXPECT_EQ(0, errs);
	}
	unscatter(&sc);
}

/* ------------------------------------------------ the VMM killed */

/*
 * A child VMM whose rings wait on misses (one read, one not) when it is
 * killed: its workers, module references and memory all go.
 */
TEST_F(io, sigkill_with_misses_pending_leaves_nothing_behind)
{
	const char *mod = self->ours ? "vhost_mq" : "vhost_net";
	int refs = vmq_module_refcnt(mod);
	int tasks = vmq_find_tasks_prefixed("vhost-", 6, NULL);
	int ready[2], k, st;
	pid_t pid;
	char c;

	ASSERT_LE(1, refs);
	ASSERT_EQ(0, pipe(ready));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct vmq_gpair gp;
		struct vmq_tap tap;
		struct vmq_gbuf b;
		uint64_t iova;
		uint8_t perm;
		int fd;

		if (vmq_tap_open(&tap, "vmq1", 1, HDR, 9000))
			_exit(1);
		fd = open(variant->path, O_RDWR | O_CLOEXEC);
		if (fd < 0 || vmq_gpair_start(&gp, fd, FEATURES, GUEST_MEM,
					      GUEST_GPA, 256, tap.fd[0]))
			_exit(2);
		if (vmq_vhost_iotlb(fd, VHOST_IOTLB_INVALIDATE, gp.g.iova,
				    gp.g.size, 0, 0))
			_exit(3);
		b = (struct vmq_gbuf){ vmq_guest_alloc(&gp.g, 2048, 8), 2048 };
		vmq_gvq_add(&gp.tx, &b, 1, 0, b.addr, false);
		vmq_gvq_kick(&gp.tx);
		if (vmq_vhost_iotlb_miss(fd, &iova, &perm, WAIT_MS))
			_exit(4);
		b = (struct vmq_gbuf){ vmq_guest_alloc(&gp.g, 2048, 8), 2048 };
		vmq_gvq_add(&gp.rx, &b, 0, 1, b.addr, false);
		vmq_gvq_kick(&gp.rx);
		if (write(ready[1], "r", 1) != 1)
			_exit(5);
		pause();
		_exit(0);
	}
	close(ready[1]);
	ASSERT_EQ(1, read(ready[0], &c, 1)) TH_LOG("the child failed to set up");
	/* let the rx ring meet its miss too */
	usleep(200000);
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_TRUE(WIFSIGNALED(st));
	for (k = 0; k < 100; k++) {
		if (vmq_module_refcnt(mod) == refs &&
		    vmq_find_tasks_prefixed("vhost-", 6, NULL) == tasks)
			break;
		usleep(50000);
	}
	EXPECT_EQ(refs, vmq_module_refcnt(mod));
	EXPECT_EQ(tasks, vmq_find_tasks_prefixed("vhost-", 6, NULL));
	close(ready[0]);
	/* and the survivor is untouched */
	ASSERT_EQ(0, tx_post(self, 51));
	EXPECT_TRUE(tx_arrived(self, 51, WAIT_MS));
}

/* ------------------------------------------------ device mode */

TEST(device_mode_moves_frames_and_commands_through_iovas)
{
	uint64_t features = FEATURES | F(VIRTIO_NET_F_CTRL_VQ) |
			    F(VIRTIO_NET_F_MQ);
	struct vhost_mq_active a;
	unsigned char got[2048];
	struct vmq_gdev d;
	struct vmq_tap tap;
	unsigned int k;
	int fd;

	vmq_kmsg_mark(_metadata->name, VHOST_MQ_PATH);
	ASSERT_EQ(0, vmq_netns_enter());
	ASSERT_EQ(0, vmq_tap_open(&tap, "vmq0", 2, HDR, 9000));
	fd = open(VHOST_MQ_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, vmq_gdev_start(&d, fd, 2, features, GUEST_MEM, GUEST_GPA,
				    256, tap.fd));
	ASSERT_EQ(0, vmq_gctrl_set_pairs(&d, 2, WAIT_MS));
	ASSERT_EQ(0, ioctl(fd, VHOST_MQ_GET_ACTIVE, &a));
	EXPECT_EQ(2, a.active);
	for (k = 0; k < 2; k++) {
		unsigned char *p = vmq_guest_alloc(&d.g, HDR + FRAME, 8);
		struct vmq_gbuf b[2] = { { p, HDR }, { p + HDR, FRAME } };

		vmq_frame_fill(p + HDR, FRAME, 60 + k);
		ASSERT_EQ(0, vmq_gvq_add(&d.tx[k], b, 2, 0, p, false));
		vmq_gvq_kick(&d.tx[k]);
		ASSERT_EQ(FRAME, vmq_pkt_recv(tap.pkt, got, sizeof(got),
					      WAIT_MS)) TH_LOG("pair %u", k);
		EXPECT_EQ(0, memcmp(got, p + HDR, FRAME));
	}
	close(fd);
	vmq_gdev_destroy(&d);
	vmq_tap_close(&tap);
}

TEST_HARNESS_MAIN
