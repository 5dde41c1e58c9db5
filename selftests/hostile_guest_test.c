// SPDX-License-Identifier: GPL-2.0
/*
 * hostile_guest_test.c - a guest that breaks every rule of the split ring,
 * against /dev/vhost-net and /dev/vhost-mq alike, and of the packed ring
 * (fixture pk, vhost-mq only: vhost-net has no packed rings).
 *
 * The guest here writes its rings by hand (no driver library between it
 * and the device), so a case can put anything anywhere: loops, indices
 * past the table, indirect tables of bad size, nested or looping, buffers
 * outside or across memory regions, lengths of 0 and near 4 GiB, avail
 * index jumps, writable buffers on tx and read-only ones on rx, and the
 * VMM pulling ring memory away.
 *
 * For a malformed chain every case checks the same things: the device
 * does not take it (no frame leaves, none lands), the vring's error
 * eventfd fires, vhost-mq counts the reason, the other direction and a
 * second device fd keep moving frames, a good chain queued behind the bad
 * one waits, and the VMM's reset (skip the chain with SET_VRING_BASE,
 * restart the backend) brings it through. Cases where the rules allow
 * what looks odd (unaligned indirect tables, buffers across two memory
 * regions, headers split anywhere, tiny mergeable buffers) must move
 * their frames intact.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
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
#define GUEST_MEM	(64UL << 20)
#define GUEST_GPA	0x40000000ULL
#define NUM		256
#define HDR		12
#define FRAME		60
#define WAIT_MS		3000
#define NONE_MS		300
#define TX		1
#define RX		0

#define BOTH_STOP	0	/* upstream stops at the chain too */
#define NET_SENDS	1	/* upstream takes the chain as if it were fine */
#define NET_SKIPS	2	/* upstream drops it unused and goes on */

#define FEATURES (F(VIRTIO_F_VERSION_1) | F(VIRTIO_NET_F_MRG_RXBUF) | \
		  F(VIRTIO_RING_F_EVENT_IDX) | F(VIRTIO_RING_F_INDIRECT_DESC))

FIXTURE(hg) {
	struct vmq_gpair gp, other;	/* the victim pair, a second fd */
	struct vmq_tap tap, tap2;
	int fd, fd2;
	uint16_t next_desc[2];		/* per ring: next free descriptor */
	bool table_used;		/* the bad chain took every descriptor */
	unsigned char frame[2048], got[2048];
};

FIXTURE_VARIANT(hg) {
	const char *path;
	bool ours;
};

FIXTURE_VARIANT_ADD(hg, net) {
	.path = VHOST_NET_PATH,
};

FIXTURE_VARIANT_ADD(hg, mq) {
	.path = VHOST_MQ_PATH,
	.ours = true,
};

/* The victim pair and the second fd, on @path, with rings of @features. */
static void hg_open(struct __test_metadata *_metadata, FIXTURE_DATA(hg) *self,
		    const char *path, uint64_t features)
{
	vmq_kmsg_mark(_metadata->name, path);
	ASSERT_EQ(0, vmq_netns_enter());
	ASSERT_EQ(0, vmq_tap_open(&self->tap, "vmq0", 1, HDR, 0));
	ASSERT_EQ(0, vmq_tap_open(&self->tap2, "vmq1", 1, HDR, 0));
	self->fd = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, vmq_gpair_start(&self->gp, self->fd, features, GUEST_MEM,
				     GUEST_GPA, NUM, self->tap.fd[0]));
	self->fd2 = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd2);
	ASSERT_EQ(0, vmq_gpair_start(&self->other, self->fd2, features,
				     4 << 20, GUEST_GPA, 64, self->tap2.fd[0]));
}

static void hg_close(FIXTURE_DATA(hg) *self)
{
	close(self->fd2);
	close(self->fd);
	vmq_gpair_destroy(&self->other);
	vmq_gpair_destroy(&self->gp);
	vmq_tap_close(&self->tap2);
	vmq_tap_close(&self->tap);
}

FIXTURE_SETUP(hg)
{
	hg_open(_metadata, self, variant->path, FEATURES);
}

FIXTURE_TEARDOWN(hg)
{
	hg_close(self);
}

/* ---------------------------------------------------- the hand-made ring */

static struct vmq_gvq *ring(FIXTURE_DATA(hg) *self, int dir)
{
	return dir == TX ? &self->gp.tx : &self->gp.rx;
}

static uint64_t gpa(FIXTURE_DATA(hg) *self, const void *p)
{
	return vmq_gpa(&self->gp.g, p);
}

static void *galloc(FIXTURE_DATA(hg) *self, size_t len, size_t align)
{
	void *p = vmq_guest_alloc(&self->gp.g, len, align);

	if (p)
		memset(p, 0, len);
	return p;
}

/* Descriptor @i of ring @dir's table, written as the guest likes. */
static void put(FIXTURE_DATA(hg) *self, int dir, uint16_t i, uint64_t addr,
		uint32_t len, uint16_t flags, uint16_t next)
{
	struct vring_desc *d = &ring(self, dir)->vring.desc[i % NUM];

	d->addr = addr;
	d->len = len;
	d->flags = flags;
	d->next = next;
}

/* A fresh descriptor index of ring @dir (the hand-made guest never reuses
 * one within a test: NUM is plenty). */
static uint16_t fresh(FIXTURE_DATA(hg) *self, int dir)
{
	return self->next_desc[dir]++ % NUM;
}

/* Make @head available (as entry avail idx + @skip) and kick. */
static void publish(FIXTURE_DATA(hg) *self, int dir, uint16_t head,
		    uint16_t skip)
{
	struct vmq_gvq *vq = ring(self, dir);
	uint64_t one = 1;

	vq->vring.avail->ring[vq->avail_idx % NUM] = head;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	vq->avail_idx += 1 + skip;
	__atomic_store_n(&vq->vring.avail->idx, vq->avail_idx, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (write(vq->kick_fd, &one, sizeof(one)) != sizeof(one))
		abort();
}

static void kick(FIXTURE_DATA(hg) *self, int dir)
{
	uint64_t one = 1;

	if (write(ring(self, dir)->kick_fd, &one, sizeof(one)) != sizeof(one))
		abort();
}

/* The frame of @seq: a test frame of FRAME bytes behind a zero header. */
static unsigned char *tx_buf(FIXTURE_DATA(hg) *self, uint32_t seq)
{
	unsigned char *p = galloc(self, HDR + FRAME, 16);

	vmq_frame_fill(p + HDR, FRAME, seq);
	return p;
}

/* A good two-descriptor tx chain (header, frame) for frame @seq. */
static uint16_t tx_good_chain(FIXTURE_DATA(hg) *self, uint32_t seq)
{
	unsigned char *p = tx_buf(self, seq);
	uint16_t a = fresh(self, TX), b = fresh(self, TX);

	put(self, TX, a, gpa(self, p), HDR, VRING_DESC_F_NEXT, b);
	put(self, TX, b, gpa(self, p + HDR), FRAME, 0, 0);
	return a;
}

/* Did frame @seq reach the tap, intact, within @ms? */
static bool tx_arrived(FIXTURE_DATA(hg) *self, uint32_t seq, int ms)
{
	vmq_frame_fill(self->frame, FRAME, seq);
	return vmq_pkt_recv(self->tap.pkt, self->got, sizeof(self->got), ms) ==
	       FRAME && !memcmp(self->got, self->frame, FRAME);
}

/* A good rx chain: one writable buffer of @len bytes. */
static uint16_t rx_good_chain(FIXTURE_DATA(hg) *self, unsigned char **buf,
			      uint32_t len)
{
	uint16_t a = fresh(self, RX);

	*buf = galloc(self, len, 16);
	put(self, RX, a, gpa(self, *buf), len, VRING_DESC_F_WRITE, 0);
	return a;
}

/* The host sends frame @seq into the tap, towards the guest. */
static void rx_send(FIXTURE_DATA(hg) *self, uint32_t seq)
{
	vmq_frame_fill(self->frame, FRAME, seq);
	if (vmq_pkt_send(self->tap.pkt, self->tap.ifindex, self->frame,
			 FRAME) != FRAME)
		abort();
}

/* Wait for ring @dir's used idx to pass @idx; its entry, or -1. */
static int used_wait(FIXTURE_DATA(hg) *self, int dir, uint16_t idx,
		     uint32_t *len, int ms)
{
	struct vmq_gvq *vq = ring(self, dir);
	struct vring_used_elem *e;

	for (; ms > 0; ms -= 2) {
		if ((uint16_t)(__atomic_load_n(&vq->vring.used->idx,
					       __ATOMIC_ACQUIRE) - idx) > 0) {
			e = &vq->vring.used->ring[idx % NUM];
			if (len)
				*len = e->len;
			return e->id;
		}
		usleep(2000);
	}
	return -1;
}

/* Did frame @seq land in @buf, behind its header, within @ms? */
static bool rx_landed(FIXTURE_DATA(hg) *self, unsigned char *buf,
		      uint32_t seq, int ms)
{
	struct vmq_gvq *vq = ring(self, RX);
	uint32_t len = 0;
	int head = used_wait(self, RX, vq->last_used, &len, ms);

	if (head < 0)
		return false;
	vq->last_used++;
	vmq_frame_fill(self->frame, FRAME, seq);
	return len == HDR + FRAME && !memcmp(buf + HDR, self->frame, FRAME);
}

/* Has the error eventfd of ring @dir fired within @ms? */
static bool err_fired(FIXTURE_DATA(hg) *self, int dir, int ms)
{
	struct pollfd p = { .fd = ring(self, dir)->err_fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1 && vmq_eventfd_read(p.fd) > 0;
}

/* vhost-mq's counter of chain error @why on vring @dir (index = dir). */
static uint64_t chain_errors(FIXTURE_DATA(hg) *self, int dir, int why)
{
	struct vhost_mq_vring_stats s = { .index = dir };

	if (ioctl(self->fd, VHOST_MQ_GET_VRING_STATS, &s))
		return ~0ULL;
	return why < 0 ? s.errors : s.chain_errors[why];
}

/* vhost-mq's count of handler runs on vring @dir */
static uint64_t wakeups(FIXTURE_DATA(hg) *self, int dir)
{
	struct vhost_mq_vring_stats s = { .index = dir };

	if (ioctl(self->fd, VHOST_MQ_GET_VRING_STATS, &s))
		return ~0ULL;
	return s.wakeups;
}

static uint64_t drops(FIXTURE_DATA(hg) *self, int dir, int why)
{
	struct vhost_mq_vring_stats s = { .index = dir };

	if (ioctl(self->fd, VHOST_MQ_GET_VRING_STATS, &s))
		return ~0ULL;
	return s.drops[why];
}

/* The second fd still moves a frame each way. */
static bool other_fd_works(FIXTURE_DATA(hg) *self, uint32_t seq)
{
	struct vmq_gpair *o = &self->other;
	unsigned char *p = vmq_guest_alloc(&o->g, HDR + FRAME, 16);
	unsigned char *r = vmq_guest_alloc(&o->g, 2048, 16);
	struct vmq_gbuf b = { p, HDR + FRAME }, rb = { r, 2048 };
	uint32_t len;

	if (!p || !r)
		return false;
	memset(p, 0, HDR);
	vmq_frame_fill(p + HDR, FRAME, seq);
	vmq_gvq_add(&o->tx, &b, 1, 0, p, false);
	vmq_gvq_kick(&o->tx);
	vmq_frame_fill(self->frame, FRAME, seq);
	if (vmq_pkt_recv(self->tap2.pkt, self->got, sizeof(self->got),
			 WAIT_MS) != FRAME || memcmp(self->got, self->frame, FRAME))
		return false;
	if (vmq_gvq_get_wait(&o->tx, NULL, WAIT_MS) != p)
		return false;
	vmq_gvq_add(&o->rx, &rb, 0, 1, r, false);
	vmq_gvq_kick(&o->rx);
	vmq_frame_fill(self->frame, FRAME, seq + 1);
	vmq_pkt_send(self->tap2.pkt, self->tap2.ifindex, self->frame, FRAME);
	return vmq_gvq_get_wait(&o->rx, &len, WAIT_MS) == r &&
	       len == HDR + FRAME && !memcmp(r + HDR, self->frame, FRAME);
}

/* The other direction of the victim pair still works. */
static bool tx_works(FIXTURE_DATA(hg) *self, uint32_t seq)
{
	publish(self, TX, tx_good_chain(self, seq), 0);
	return tx_arrived(self, seq, WAIT_MS);
}

static bool rx_works(FIXTURE_DATA(hg) *self, uint32_t seq)
{
	unsigned char *buf;

	publish(self, RX, rx_good_chain(self, &buf, 2048), 0);
	rx_send(self, seq);
	return rx_landed(self, buf, seq, WAIT_MS);
}

/* The VMM's reset: stop ring @dir, skip @skip entries, restart it. */
static int vmm_skip(FIXTURE_DATA(hg) *self, int dir, unsigned int skip)
{
	struct vhost_vring_state s = { .index = dir };
	int backend = self->tap.fd[0];

	if (vmq_vhost_set_backend(self->fd, dir, -1) ||
	    ioctl(self->fd, VHOST_GET_VRING_BASE, &s))
		return -errno;
	s.num += skip;
	if (ioctl(self->fd, VHOST_SET_VRING_BASE, &s) ||
	    vmq_vhost_set_backend(self->fd, dir, backend))
		return -errno;
	return 0;
}

/*
 * The whole drill for a malformed chain on ring @dir whose head is
 * @head, published with @skip extra avail entries: nothing moves, the
 * error eventfd fires, vhost-mq counts @why, the rest keeps working, a
 * good chain behind it waits, and the VMM's reset brings that through.
 */
static void bad_chain(struct __test_metadata *_metadata,
		      FIXTURE_DATA(hg) *self, const FIXTURE_VARIANT(hg) *variant,
		      int dir, uint16_t head, uint16_t skip, int why,
		      int upstream)
{
	unsigned char *buf = NULL;
	uint16_t good;

	publish(self, dir, head, skip);
	if (dir == RX)
		rx_send(self, 100);
	if (upstream == NET_SENDS && !variant->ours) {
		/* upstream takes this chain: the frame goes, no error */
		EXPECT_TRUE(tx_arrived(self, 100, WAIT_MS));
		EXPECT_FALSE(err_fired(self, dir, 0));
		TH_LOG("upstream vhost-net sends this chain (vhost-mq refuses it)");
		return;
	}
	EXPECT_TRUE(err_fired(self, dir, WAIT_MS)) TH_LOG("no error signal");
	if (dir == TX) {
		EXPECT_FALSE(tx_arrived(self, 100, NONE_MS)) TH_LOG("a frame left");
	} else {
		EXPECT_EQ(-1, used_wait(self, RX, ring(self, RX)->last_used,
					NULL, NONE_MS)) TH_LOG("rx used it");
	}
	if (variant->ours) {
		struct vhost_mq_vring_stats st = { .index = dir };
		int k;

		EXPECT_EQ(1, chain_errors(self, dir, why));
		EXPECT_EQ(1, chain_errors(self, dir, -1));
		if (chain_errors(self, dir, why) != 1 &&
		    !ioctl(self->fd, VHOST_MQ_GET_VRING_STATS, &st))
			for (k = 0; k < VHOST_MQ_CHAIN_ERROR_MAX; k++)
				if (st.chain_errors[k])
					TH_LOG("counted: chain error %d: %llu", k,
					       (unsigned long long)st.chain_errors[k]);
	}
	/* the other direction, and another fd, are not touched */
	if (dir == TX) {
		EXPECT_TRUE(rx_works(self, 200)) TH_LOG("rx stopped too");
	} else {
		EXPECT_TRUE(tx_works(self, 200)) TH_LOG("tx stopped too");
	}
	EXPECT_TRUE(other_fd_works(self, 300)) TH_LOG("another fd stopped");

	if (upstream == NET_SKIPS && !variant->ours) {
		/* upstream drops the chain (never used) and carries on */
		if (dir == TX) {
			EXPECT_TRUE(tx_works(self, 101));
		} else {
			publish(self, RX, rx_good_chain(self, &buf, 2048), 0);
			EXPECT_TRUE(rx_landed(self, buf, 100, WAIT_MS));
		}
		TH_LOG("upstream vhost-net swallows this chain: its head never comes back");
		return;
	}
	/*
	 * A good chain behind the bad one waits (unless the bad one used
	 * every descriptor: then the good one comes after the reset).
	 */
	if (self->table_used) {
		ASSERT_EQ(0, vmm_skip(self, dir, 1));
		self->next_desc[TX] = NUM + 8;
		EXPECT_TRUE(tx_works(self, 101)) TH_LOG("no recovery");
		return;
	}
	if (dir == TX) {
		good = tx_good_chain(self, 101);
		publish(self, TX, good, 0);
		EXPECT_FALSE(tx_arrived(self, 101, NONE_MS));
	} else {
		good = rx_good_chain(self, &buf, 2048);
		publish(self, RX, good, 0);
		EXPECT_EQ(-1, used_wait(self, RX, ring(self, RX)->last_used,
					NULL, NONE_MS));
	}
	/* a guest that jumped its avail idx puts it back first */
	if (skip) {
		struct vmq_gvq *vq = ring(self, dir);

		vq->avail_idx -= skip;
		vq->vring.avail->ring[(vq->avail_idx - 1) % NUM] = good;
		vq->vring.avail->ring[(vq->avail_idx - 2) % NUM] = head;
		__atomic_store_n(&vq->vring.avail->idx, vq->avail_idx,
				 __ATOMIC_RELEASE);
	}
	/* the VMM skips the bad chain and restarts the ring */
	ASSERT_EQ(0, vmm_skip(self, dir, 1));
	kick(self, dir);
	if (dir == TX) {
		EXPECT_TRUE(tx_arrived(self, 101, WAIT_MS)) TH_LOG("no recovery");
	} else {
		/* the frame sent at the start waited in the tap */
		EXPECT_TRUE(rx_landed(self, buf, 100, WAIT_MS)) TH_LOG("no recovery");
	}
}

#define BAD_CASE(name, dir, why, upstream)				\
	static uint16_t build_##name(FIXTURE_DATA(hg) *self, uint16_t *skip); \
	TEST_F(hg, name)						\
	{								\
		uint16_t skip = 0, head = build_##name(self, &skip);	\
		bad_chain(_metadata, self, variant, dir, head, skip, why, \
			  upstream);					\
	}								\
	static uint16_t build_##name(FIXTURE_DATA(hg) *self, uint16_t *skip)

/* a chain both devices refuse */
#define BAD(name, dir, why)	BAD_CASE(name, dir, why, BOTH_STOP)
/* refused by vhost-mq; upstream vhost-net sends it or drops it (findings) */
#define BAD_NET_SENDS(name, dir, why)	BAD_CASE(name, dir, why, NET_SENDS)
#define BAD_NET_SKIPS(name, dir, why)	BAD_CASE(name, dir, why, NET_SKIPS)

#define UNUSED_SKIP	(void)skip

/* -------------------------------------------------------- tx chains */

BAD(tx_next_past_the_table, TX, VHOST_MQ_CHAIN_BAD_NEXT)
{
	uint16_t h = tx_good_chain(self, 100);

	UNUSED_SKIP;
	ring(self, TX)->vring.desc[h].next = NUM;
	return h;
}

BAD(tx_next_0xffff, TX, VHOST_MQ_CHAIN_BAD_NEXT)
{
	uint16_t h = tx_good_chain(self, 100);

	UNUSED_SKIP;
	ring(self, TX)->vring.desc[h].next = 0xffff;
	return h;
}

BAD(tx_descriptor_pointing_at_itself, TX, VHOST_MQ_CHAIN_LOOP)
{
	unsigned char *p = tx_buf(self, 100);
	uint16_t a = fresh(self, TX);

	UNUSED_SKIP;
	put(self, TX, a, gpa(self, p), HDR + FRAME, VRING_DESC_F_NEXT, a);
	return a;
}

BAD(tx_two_descriptor_loop, TX, VHOST_MQ_CHAIN_LOOP)
{
	uint16_t h = tx_good_chain(self, 100);
	struct vring_desc *d = ring(self, TX)->vring.desc;

	UNUSED_SKIP;
	d[d[h].next].flags |= VRING_DESC_F_NEXT;
	d[d[h].next].next = h;
	return h;
}

/* every descriptor of the table in one chain, then back to the start */
BAD(tx_chain_longer_than_the_ring, TX, VHOST_MQ_CHAIN_LOOP)
{
	unsigned char *p = tx_buf(self, 100);
	unsigned int i;

	UNUSED_SKIP;
	for (i = 0; i < NUM; i++)
		put(self, TX, i, gpa(self, p), 1, VRING_DESC_F_NEXT, (i + 1) % NUM);
	self->table_used = true;
	return 0;
}

BAD(tx_head_past_the_ring, TX, VHOST_MQ_CHAIN_BAD_HEAD)
{
	UNUSED_SKIP;
	tx_good_chain(self, 100);
	return NUM + 3;
}

BAD(tx_avail_idx_jumps_past_the_ring, TX, VHOST_MQ_CHAIN_AVAIL_IDX)
{
	*skip = NUM + 1;
	return tx_good_chain(self, 100);
}

BAD(tx_avail_idx_jumps_32768, TX, VHOST_MQ_CHAIN_AVAIL_IDX)
{
	*skip = 0x8000;
	return tx_good_chain(self, 100);
}

BAD(tx_buffer_beyond_guest_memory, TX, VHOST_MQ_CHAIN_BAD_ADDR)
{
	uint16_t h = tx_good_chain(self, 100);
	struct vring_desc *d = ring(self, TX)->vring.desc;

	UNUSED_SKIP;
	d[d[h].next].addr = GUEST_GPA + GUEST_MEM;
	return h;
}

BAD(tx_buffer_below_guest_memory, TX, VHOST_MQ_CHAIN_BAD_ADDR)
{
	uint16_t h = tx_good_chain(self, 100);

	UNUSED_SKIP;
	ring(self, TX)->vring.desc[h].addr = GUEST_GPA - HDR;
	return h;
}

BAD(tx_buffer_straddling_the_end_of_memory, TX, VHOST_MQ_CHAIN_BAD_ADDR)
{
	uint16_t h = tx_good_chain(self, 100);
	struct vring_desc *d = ring(self, TX)->vring.desc;

	UNUSED_SKIP;
	d[d[h].next].addr = GUEST_GPA + GUEST_MEM - FRAME / 2;
	return h;
}

BAD(tx_address_wrapping_past_2_64, TX, VHOST_MQ_CHAIN_BAD_ADDR)
{
	uint16_t h = tx_good_chain(self, 100);
	struct vring_desc *d = ring(self, TX)->vring.desc;

	UNUSED_SKIP;
	d[d[h].next].addr = 0xfffffffffffff000ULL;
	d[d[h].next].len = 0x2000;
	return h;
}

BAD(tx_length_near_4_gib, TX, VHOST_MQ_CHAIN_BAD_ADDR)
{
	uint16_t h = tx_good_chain(self, 100);
	struct vring_desc *d = ring(self, TX)->vring.desc;

	UNUSED_SKIP;
	d[d[h].next].len = 0xfffffff0;
	return h;
}

BAD_NET_SKIPS(tx_writable_descriptor, TX, VHOST_MQ_CHAIN_WRONG_DIRECTION)
{
	uint16_t h = tx_good_chain(self, 100);
	struct vring_desc *d = ring(self, TX)->vring.desc;

	UNUSED_SKIP;
	d[d[h].next].flags |= VRING_DESC_F_WRITE;
	return h;
}

/* a writable descriptor of length 0 is still writable (vhost-net maps no
 * iovec for it and so never sees its direction) */
BAD_NET_SENDS(tx_zero_length_writable_descriptor, TX,
	      VHOST_MQ_CHAIN_WRONG_DIRECTION)
{
	uint16_t h = tx_good_chain(self, 100);
	struct vring_desc *d = ring(self, TX)->vring.desc;
	uint16_t z = fresh(self, TX), f = d[h].next;

	UNUSED_SKIP;
	put(self, TX, z, gpa(self, tx_buf(self, 0)), 0, VRING_DESC_F_WRITE, 0);
	d[f].flags |= VRING_DESC_F_NEXT;
	d[f].next = z;
	return h;
}

BAD(tx_readable_after_writable, TX, VHOST_MQ_CHAIN_OUT_AFTER_IN)
{
	uint16_t h = tx_good_chain(self, 100);
	struct vring_desc *d = ring(self, TX)->vring.desc;

	UNUSED_SKIP;
	d[h].flags |= VRING_DESC_F_WRITE;
	return h;
}

/* an indirect table of @n entries at @table holding the good chain */
static uint16_t tx_indirect(FIXTURE_DATA(hg) *self, struct vring_desc *table,
			    uint32_t len)
{
	unsigned char *p = tx_buf(self, 100);
	uint16_t a = fresh(self, TX);

	table[0] = (struct vring_desc){ gpa(self, p), HDR, VRING_DESC_F_NEXT, 1 };
	table[1] = (struct vring_desc){ gpa(self, p + HDR), FRAME, 0, 0 };
	put(self, TX, a, gpa(self, table), len, VRING_DESC_F_INDIRECT, 0);
	return a;
}

BAD(tx_indirect_length_0, TX, VHOST_MQ_CHAIN_BAD_INDIRECT)
{
	UNUSED_SKIP;
	return tx_indirect(self, galloc(self, 64, 16), 0);
}

BAD(tx_indirect_length_not_a_multiple_of_16, TX, VHOST_MQ_CHAIN_BAD_INDIRECT)
{
	UNUSED_SKIP;
	return tx_indirect(self, galloc(self, 64, 16), 31);
}

BAD_NET_SENDS(tx_indirect_larger_than_32768_entries, TX,
	      VHOST_MQ_CHAIN_BAD_INDIRECT)
{
	struct vring_desc *t = galloc(self, 32769 * 16, 16);
	unsigned int i;

	UNUSED_SKIP;
	/* a real chain through all of it, so that only the size is wrong */
	for (i = 2; i < 32769; i++)
		t[i] = (struct vring_desc){ gpa(self, t), 1,
					    i + 1 < 32769 ? VRING_DESC_F_NEXT : 0,
					    i + 1 };
	return tx_indirect(self, t, 32769 * 16);
}

BAD(tx_indirect_table_outside_memory, TX, VHOST_MQ_CHAIN_BAD_ADDR)
{
	uint16_t h = tx_indirect(self, galloc(self, 64, 16), 32);

	UNUSED_SKIP;
	ring(self, TX)->vring.desc[h].addr = GUEST_GPA + GUEST_MEM + 4096;
	return h;
}

BAD(tx_indirect_table_straddling_the_end, TX, VHOST_MQ_CHAIN_BAD_ADDR)
{
	struct vring_desc *t = galloc(self, 64, 16);
	uint16_t h = tx_indirect(self, t, 32);

	UNUSED_SKIP;
	/* entry 0 (the header) is the last thing in memory, entry 1
	 * straddles the end */
	memcpy(self->gp.g.base + GUEST_MEM - 24, t, 24);
	ring(self, TX)->vring.desc[h].addr = GUEST_GPA + GUEST_MEM - 24;
	return h;
}

BAD(tx_nested_indirect, TX, VHOST_MQ_CHAIN_NESTED_INDIRECT)
{
	struct vring_desc *t = galloc(self, 64, 16);
	struct vring_desc *inner = galloc(self, 64, 16);
	uint16_t h = tx_indirect(self, t, 32);

	UNUSED_SKIP;
	inner[0] = t[0];
	inner[1] = t[1];
	t[0] = (struct vring_desc){ gpa(self, inner), 32, VRING_DESC_F_INDIRECT, 0 };
	return h;
}

BAD(tx_loop_inside_an_indirect_table, TX, VHOST_MQ_CHAIN_LOOP)
{
	struct vring_desc *t = galloc(self, 64, 16);
	uint16_t h = tx_indirect(self, t, 32);

	UNUSED_SKIP;
	t[1].flags = VRING_DESC_F_NEXT;
	t[1].next = 0;
	return h;
}

BAD_NET_SENDS(tx_next_past_an_indirect_table, TX, VHOST_MQ_CHAIN_BAD_NEXT)
{
	struct vring_desc *t = galloc(self, 64, 16);
	uint16_t h = tx_indirect(self, t, 32);

	UNUSED_SKIP;
	t[0].next = 2;
	return h;
}

BAD_NET_SKIPS(tx_writable_inside_an_indirect_table, TX,
	      VHOST_MQ_CHAIN_WRONG_DIRECTION)
{
	struct vring_desc *t = galloc(self, 64, 16);
	uint16_t h = tx_indirect(self, t, 32);

	UNUSED_SKIP;
	t[1].flags |= VRING_DESC_F_WRITE;
	return h;
}

/* more buffers than 1024 iovecs hold: 1025 one-byte pieces of a frame */
BAD(tx_chain_of_1025_buffers, TX, VHOST_MQ_CHAIN_TOO_MANY_SEGS)
{
	struct vring_desc *t = galloc(self, 1026 * 16, 16);
	unsigned char *p = tx_buf(self, 100);
	uint16_t a = fresh(self, TX);
	unsigned int i;

	UNUSED_SKIP;
	t[0] = (struct vring_desc){ gpa(self, p), HDR, VRING_DESC_F_NEXT, 1 };
	for (i = 1; i < 1026; i++)
		t[i] = (struct vring_desc){ gpa(self, p + HDR), 1,
					    i + 1 < 1026 ? VRING_DESC_F_NEXT : 0,
					    i + 1 };
	put(self, TX, a, gpa(self, t), 1026 * 16, VRING_DESC_F_INDIRECT, 0);
	return a;
}

/* ------------------------------------------------------------- rx chains */

BAD_NET_SKIPS(rx_read_only_buffer, RX, VHOST_MQ_CHAIN_WRONG_DIRECTION)
{
	unsigned char *buf;
	uint16_t h = rx_good_chain(self, &buf, 2048);

	UNUSED_SKIP;
	ring(self, RX)->vring.desc[h].flags = 0;
	return h;
}

BAD(rx_readable_after_writable, RX, VHOST_MQ_CHAIN_OUT_AFTER_IN)
{
	unsigned char *buf = galloc(self, 2048, 16);
	uint16_t a = fresh(self, RX), b = fresh(self, RX);

	UNUSED_SKIP;
	put(self, RX, a, gpa(self, buf), 1024, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, b);
	put(self, RX, b, gpa(self, buf + 1024), 1024, 0, 0);
	return a;
}

BAD(rx_buffer_beyond_guest_memory, RX, VHOST_MQ_CHAIN_BAD_ADDR)
{
	unsigned char *buf;
	uint16_t h = rx_good_chain(self, &buf, 2048);

	UNUSED_SKIP;
	ring(self, RX)->vring.desc[h].addr = GUEST_GPA + GUEST_MEM - 100;
	return h;
}

BAD(rx_length_near_4_gib, RX, VHOST_MQ_CHAIN_BAD_ADDR)
{
	unsigned char *buf;
	uint16_t h = rx_good_chain(self, &buf, 2048);

	UNUSED_SKIP;
	ring(self, RX)->vring.desc[h].len = 0xffffff00;
	return h;
}

BAD(rx_descriptor_loop, RX, VHOST_MQ_CHAIN_LOOP)
{
	unsigned char *buf;
	uint16_t h = rx_good_chain(self, &buf, 2048);

	UNUSED_SKIP;
	ring(self, RX)->vring.desc[h].flags |= VRING_DESC_F_NEXT;
	ring(self, RX)->vring.desc[h].next = h;
	return h;
}

BAD(rx_next_past_the_table, RX, VHOST_MQ_CHAIN_BAD_NEXT)
{
	unsigned char *buf;
	uint16_t h = rx_good_chain(self, &buf, 2048);

	UNUSED_SKIP;
	ring(self, RX)->vring.desc[h].flags |= VRING_DESC_F_NEXT;
	ring(self, RX)->vring.desc[h].next = NUM + 1;
	return h;
}

BAD(rx_head_past_the_ring, RX, VHOST_MQ_CHAIN_BAD_HEAD)
{
	unsigned char *buf;

	UNUSED_SKIP;
	rx_good_chain(self, &buf, 2048);
	return 0xffff;
}

BAD(rx_avail_idx_jumps_past_the_ring, RX, VHOST_MQ_CHAIN_AVAIL_IDX)
{
	unsigned char *buf;

	*skip = NUM + 1;
	return rx_good_chain(self, &buf, 2048);
}

BAD(rx_nested_indirect, RX, VHOST_MQ_CHAIN_NESTED_INDIRECT)
{
	struct vring_desc *t = galloc(self, 32, 16), *inner = galloc(self, 16, 16);
	unsigned char *buf = galloc(self, 2048, 16);
	uint16_t a = fresh(self, RX);

	UNUSED_SKIP;
	inner[0] = (struct vring_desc){ gpa(self, buf), 2048, VRING_DESC_F_WRITE, 0 };
	t[0] = (struct vring_desc){ gpa(self, inner), 16, VRING_DESC_F_INDIRECT, 0 };
	put(self, RX, a, gpa(self, t), 16, VRING_DESC_F_INDIRECT, 0);
	return a;
}

BAD(rx_indirect_length_not_a_multiple_of_16, RX, VHOST_MQ_CHAIN_BAD_INDIRECT)
{
	struct vring_desc *t = galloc(self, 32, 16);
	unsigned char *buf = galloc(self, 2048, 16);
	uint16_t a = fresh(self, RX);

	UNUSED_SKIP;
	t[0] = (struct vring_desc){ gpa(self, buf), 2048, VRING_DESC_F_WRITE, 0 };
	put(self, RX, a, gpa(self, t), 17, VRING_DESC_F_INDIRECT, 0);
	return a;
}

/* ------------------------------------------ odd but legal: must work */

/* the header split at every byte, tx: frames arrive intact */
TEST_F_TIMEOUT(hg, tx_header_split_at_every_byte, 600)
{
	unsigned int cut;

	for (cut = 1; cut < HDR + FRAME; cut++) {
		unsigned char *p = tx_buf(self, cut);
		uint16_t a = fresh(self, TX), b = fresh(self, TX);

		put(self, TX, a, gpa(self, p), cut, VRING_DESC_F_NEXT, b);
		put(self, TX, b, gpa(self, p + cut), HDR + FRAME - cut, 0, 0);
		publish(self, TX, a, 0);
		ASSERT_TRUE(tx_arrived(self, cut, WAIT_MS)) TH_LOG("cut at %u", cut);
	}
	if (variant->ours)
		EXPECT_EQ(0, chain_errors(self, TX, -1));
}

/* rx: the header lands across buffers cut at every byte */
TEST_F_TIMEOUT(hg, rx_header_split_at_every_byte, 600)
{
	unsigned int cut;

	for (cut = 1; cut < HDR + FRAME; cut++) {
		unsigned char *buf = galloc(self, HDR + FRAME, 16);
		uint16_t a = fresh(self, RX), b = fresh(self, RX);
		uint32_t len = 0;

		put(self, RX, a, gpa(self, buf), cut, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, b);
		put(self, RX, b, gpa(self, buf + cut), 2048, VRING_DESC_F_WRITE, 0);
		publish(self, RX, a, 0);
		rx_send(self, cut);
		ASSERT_EQ(a, used_wait(self, RX, ring(self, RX)->last_used, &len,
				       WAIT_MS)) TH_LOG("cut at %u", cut);
		ring(self, RX)->last_used++;
		EXPECT_EQ(HDR + FRAME, len);
		vmq_frame_fill(self->frame, FRAME, cut);
		EXPECT_EQ(0, memcmp(buf + HDR, self->frame, FRAME)) TH_LOG("cut at %u", cut);
		/* num_buffers: one chain */
		EXPECT_EQ(1, buf[10] | buf[11] << 8);
	}
}

/* mergeable rx: a 4-byte buffer (less than the header) and a big one */
TEST_F(hg, rx_mergeable_buffer_smaller_than_the_header)
{
	unsigned char *small = galloc(self, 4, 16), *big = galloc(self, 2048, 16);
	unsigned char whole[HDR + FRAME];
	uint16_t a = fresh(self, RX), b = fresh(self, RX);
	uint32_t l1 = 0, l2 = 0;

	put(self, RX, a, gpa(self, small), 4, VRING_DESC_F_WRITE, 0);
	publish(self, RX, a, 0);
	rx_send(self, 7);
	/* one 4-byte buffer cannot hold it: the frame waits, nothing breaks */
	EXPECT_EQ(-1, used_wait(self, RX, 0, NULL, NONE_MS));
	EXPECT_FALSE(err_fired(self, RX, 0));
	put(self, RX, b, gpa(self, big), 2048, VRING_DESC_F_WRITE, 0);
	publish(self, RX, b, 0);
	ASSERT_EQ(a, used_wait(self, RX, 0, &l1, WAIT_MS));
	ASSERT_EQ(b, used_wait(self, RX, 1, &l2, WAIT_MS));
	ASSERT_EQ(4, l1);
	ASSERT_EQ(HDR + FRAME - 4, l2);
	memcpy(whole, small, 4);
	memcpy(whole + 4, big, l2);
	EXPECT_EQ(2, whole[10] | whole[11] << 8);	/* num_buffers */
	vmq_frame_fill(self->frame, FRAME, 7);
	EXPECT_EQ(0, memcmp(whole + HDR, self->frame, FRAME));
}

/* an indirect table at an odd address: allowed, the frame goes */
TEST_F(hg, tx_indirect_table_at_an_unaligned_address)
{
	unsigned char *raw = galloc(self, 64, 16);
	struct vring_desc t[2];
	unsigned char *p = tx_buf(self, 9);
	uint16_t a = fresh(self, TX);

	t[0] = (struct vring_desc){ gpa(self, p), HDR, VRING_DESC_F_NEXT, 1 };
	t[1] = (struct vring_desc){ gpa(self, p + HDR), FRAME, 0, 0 };
	memcpy(raw + 3, t, sizeof(t));
	put(self, TX, a, gpa(self, raw + 3), 32, VRING_DESC_F_INDIRECT, 0);
	publish(self, TX, a, 0);
	EXPECT_TRUE(tx_arrived(self, 9, WAIT_MS));
	EXPECT_FALSE(err_fired(self, TX, 0));
}

/* a chain of exactly as many descriptors as the ring: legal */
TEST_F(hg, tx_chain_as_long_as_the_ring)
{
	unsigned char *p = tx_buf(self, 11);
	unsigned int i;

	put(self, TX, 0, gpa(self, p), HDR, VRING_DESC_F_NEXT, 1);
	for (i = 1; i < NUM; i++) {
		unsigned int off = (i - 1) * FRAME / (NUM - 1);
		unsigned int end = i * FRAME / (NUM - 1);

		put(self, TX, i, gpa(self, p + HDR + off), end - off,
		    i + 1 < NUM ? VRING_DESC_F_NEXT : 0, i + 1);
	}
	self->next_desc[TX] = NUM;
	publish(self, TX, 0, 0);
	EXPECT_TRUE(tx_arrived(self, 11, WAIT_MS));
	EXPECT_FALSE(err_fired(self, TX, 0));
}

/*
 * Two memory regions, contiguous in guest-physical space but mapped from
 * two different places in the VMM: a buffer across the boundary is read
 * from both. With a hole between them, the same buffer is refused.
 */
static int two_regions(FIXTURE_DATA(hg) *self, void *second, uint64_t hole)
{
	struct {
		struct vhost_memory hdr;
		struct vhost_memory_region r[2];
	} m = {
		.hdr.nregions = 2,
		.r = {
			{ GUEST_GPA, GUEST_MEM / 2, (uintptr_t)self->gp.g.base, 0 },
			{ GUEST_GPA + GUEST_MEM / 2 + hole, GUEST_MEM / 2,
			  (uintptr_t)second, 0 },
		},
	};

	return ioctl(self->fd, VHOST_SET_MEM_TABLE, &m) ? -errno : 0;
}

TEST_F(hg, tx_buffer_across_two_memory_regions)
{
	unsigned char *second = mmap(NULL, GUEST_MEM / 2, PROT_READ | PROT_WRITE,
				     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned char *hdr = galloc(self, HDR, 16);
	uint64_t edge = GUEST_GPA + GUEST_MEM / 2;
	uint16_t a = fresh(self, TX), b = fresh(self, TX);

	ASSERT_NE(MAP_FAILED, second);
	ASSERT_EQ(0, two_regions(self, second, 0));
	/* the frame: its first 20 bytes end the first region, the rest
	 * start the second mapping */
	vmq_frame_fill(self->frame, FRAME, 12);
	memcpy(self->gp.g.base + GUEST_MEM / 2 - 20, self->frame, 20);
	memcpy(second, self->frame + 20, FRAME - 20);
	put(self, TX, a, gpa(self, hdr), HDR, VRING_DESC_F_NEXT, b);
	put(self, TX, b, edge - 20, FRAME, 0, 0);
	publish(self, TX, a, 0);
	EXPECT_TRUE(tx_arrived(self, 12, WAIT_MS));
	EXPECT_FALSE(err_fired(self, TX, 0));
	munmap(second, GUEST_MEM / 2);
}

BAD(tx_buffer_across_a_hole_between_regions, TX, VHOST_MQ_CHAIN_BAD_ADDR)
{
	static unsigned char *second;
	unsigned char *hdr = galloc(self, HDR, 16);
	uint16_t a = fresh(self, TX), b = fresh(self, TX);

	UNUSED_SKIP;
	second = mmap(NULL, GUEST_MEM / 2, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (second == MAP_FAILED || two_regions(self, second, 1 << 20))
		abort();
	put(self, TX, a, gpa(self, hdr), HDR, VRING_DESC_F_NEXT, b);
	put(self, TX, b, GUEST_GPA + GUEST_MEM / 2 - 20, FRAME, 0, 0);
	return a;
}

/* ------------------------------------------ behaviour over time */

/*
 * A guest that keeps its tx ring full forever must not starve rx: the
 * worker's budget hands the CPU over. Frames sent towards the guest all
 * land while tx never runs dry.
 */
struct flood {
	FIXTURE_DATA(hg) *self;
	atomic_bool stop;
	unsigned long sent;
};

static void *tx_flood(void *arg)
{
	struct flood *f = arg;
	struct vmq_gvq *vq = &f->self->gp.tx;
	unsigned char *p = tx_buf(f->self, 5);
	uint16_t done = 0;
	unsigned int i;

	/* the whole ring: one frame each, reposted as soon as used */
	for (i = 0; i < NUM; i++)
		put(f->self, TX, i, gpa(f->self, p), HDR + FRAME, 0, 0);
	for (i = 0; i < NUM; i++)
		vq->vring.avail->ring[i] = i;
	vq->avail_idx = NUM;
	__atomic_store_n(&vq->vring.avail->idx, vq->avail_idx, __ATOMIC_RELEASE);
	kick(f->self, TX);
	while (!atomic_load(&f->stop)) {
		uint16_t used = __atomic_load_n(&vq->vring.used->idx, __ATOMIC_ACQUIRE);

		while (done != used) {
			vq->vring.avail->ring[vq->avail_idx % NUM] =
				vq->vring.used->ring[done % NUM].id;
			vq->avail_idx++;
			done++;
			f->sent++;
		}
		__atomic_store_n(&vq->vring.avail->idx, vq->avail_idx, __ATOMIC_RELEASE);
		kick(f->self, TX);
		usleep(100);
	}
	return NULL;
}

TEST_F_TIMEOUT(hg, tx_kept_full_forever_does_not_starve_rx, 600)
{
	struct flood f = { .self = self };
	unsigned char *bufs[64];
	unsigned int i, landed = 0;
	pthread_t t;

	self->next_desc[TX] = NUM;
	for (i = 0; i < 64; i++)
		publish(self, RX, rx_good_chain(self, &bufs[i], 2048), 0);
	ASSERT_EQ(0, pthread_create(&t, NULL, tx_flood, &f));
	usleep(300000);
	for (i = 0; i < 64; i++) {
		rx_send(self, 1000 + i);
		if (rx_landed(self, bufs[i], 1000 + i, WAIT_MS))
			landed++;
	}
	atomic_store(&f.stop, true);
	pthread_join(t, NULL);
	EXPECT_EQ(64, landed);
	EXPECT_LT(1000, f.sent) TH_LOG("the flood did not flow");
	EXPECT_FALSE(err_fired(self, TX, 0));
}

/*
 * A guest rewriting a descriptor while the device walks it: whatever the
 * device reads, it must neither crash nor hang; every chain ends as a
 * frame or as an error.
 */
struct flipper {
	struct vring_desc *d;
	atomic_bool stop;
};

static void *flip(void *arg)
{
	struct flipper *f = arg;
	unsigned int i = 0;

	while (!atomic_load(&f->stop)) {
		f->d->next = i & 1 ? 1 : 0xfff0;
		f->d->len = i & 2 ? 0xffffffff : HDR;
		f->d->flags = i & 4 ? VRING_DESC_F_NEXT : VRING_DESC_F_INDIRECT;
		i++;
	}
	return NULL;
}

TEST_F_TIMEOUT(hg, descriptors_rewritten_while_the_device_reads_them, 600)
{
	struct vmq_gvq *vq = ring(self, TX);
	unsigned int round, sent = 0, refused = 0;
	struct vhost_vring_state s = { .index = TX };
	struct flipper f;
	pthread_t t;

	for (round = 0; round < 100; round++) {
		uint16_t expect = vq->avail_idx + 1;
		uint16_t h = tx_good_chain(self, round);

		f.d = &vq->vring.desc[h];
		atomic_store(&f.stop, false);
		ASSERT_EQ(0, pthread_create(&t, NULL, flip, &f));
		publish(self, TX, h, 0);
		usleep(10000);
		atomic_store(&f.stop, true);
		pthread_join(t, NULL);
		/* the VMM looks: taken, or stuck at it (then skip it) */
		ASSERT_EQ(0, vmq_vhost_set_backend(self->fd, TX, -1));
		ASSERT_EQ(0, ioctl(self->fd, VHOST_GET_VRING_BASE, &s));
		if ((uint16_t)s.num == expect) {
			sent++;
		} else {
			ASSERT_EQ(expect - 1, (uint16_t)s.num);
			refused++;
			s.num = expect;
		}
		ASSERT_EQ(0, ioctl(self->fd, VHOST_SET_VRING_BASE, &s));
		ASSERT_EQ(0, vmq_vhost_set_backend(self->fd, TX, self->tap.fd[0]));
		vq->last_used = __atomic_load_n(&vq->vring.used->idx, __ATOMIC_ACQUIRE);
		vmq_eventfd_read(vq->err_fd);
		self->next_desc[TX] %= NUM - 2;
	}
	/* afterwards the ring works */
	while (vmq_pkt_recv(self->tap.pkt, self->got, sizeof(self->got), 0) > 0)
		;
	EXPECT_TRUE(tx_works(self, 4242));
	EXPECT_TRUE(rx_works(self, 4343));
	EXPECT_EQ(100, sent + refused);
	TH_LOG("%u chains sent, %u refused", sent, refused);
}

/* A million kicks on an empty ring: no hang, no error, still serving. */
TEST_F_TIMEOUT(hg, a_million_kicks_on_an_empty_ring, 600)
{
	unsigned int i;

	for (i = 0; i < 1000000; i++)
		kick(self, i & 1 ? TX : RX);
	EXPECT_FALSE(err_fired(self, TX, 0));
	EXPECT_FALSE(err_fired(self, RX, 0));
	EXPECT_TRUE(tx_works(self, 1));
	EXPECT_TRUE(rx_works(self, 2));
}

/* The same head made available twice: no crash, the ring keeps going. */
TEST_F(hg, the_same_head_twice_in_the_avail_ring)
{
	uint16_t h = tx_good_chain(self, 21);

	publish(self, TX, h, 0);
	publish(self, TX, h, 0);
	EXPECT_TRUE(tx_arrived(self, 21, WAIT_MS));
	EXPECT_TRUE(tx_arrived(self, 21, WAIT_MS));
	ring(self, TX)->last_used += 2;
	EXPECT_TRUE(tx_works(self, 22));
}

/* Garbage in used_event/avail_event: frames still move. */
TEST_F(hg, garbage_event_indices)
{
	struct vmq_gvq *tx = ring(self, TX), *rx = ring(self, RX);
	uint16_t v[3] = { 0x8123, 0xfffe, 0x4444 };

	memcpy(&tx->vring.avail->ring[NUM], &v[0], 2);	/* used_event */
	memcpy(&rx->vring.avail->ring[NUM], &v[1], 2);
	memcpy(&tx->vring.used->ring[NUM], &v[2], 2);	/* avail_event */
	EXPECT_TRUE(tx_works(self, 31));
	EXPECT_TRUE(rx_works(self, 32));
	EXPECT_FALSE(err_fired(self, TX, 0));
}

/* ------------------------------------ ring memory the VMM takes away */

/*
 * The used ring unmapped under the device: the write of a used entry
 * fails, the ring stops with an error, nothing else is hurt.
 */
TEST_F(hg, used_ring_unmapped_by_the_vmm)
{
	struct vmq_gvq *vq = ring(self, TX);
	uintptr_t page = (uintptr_t)vq->vring.used & ~4095UL;
	uint16_t h;

	/* the frame's buffers on pages of their own, past the used ring */
	galloc(self, 8192, 4096);
	h = tx_good_chain(self, 41);
	/* the descriptors and avail ring stay; only the used ring goes */
	ASSERT_NE(page, (uintptr_t)vq->vring.avail & ~4095UL);
	ASSERT_EQ(0, munmap((void *)page, 4096));
	publish(self, TX, h, 0);
	EXPECT_TRUE(err_fired(self, TX, WAIT_MS));
	if (variant->ours)
		EXPECT_EQ(1, chain_errors(self, TX, -1));
	EXPECT_TRUE(rx_works(self, 42));
	EXPECT_TRUE(other_fd_works(self, 43));
	/* give the page back (zeroed) so that teardown is ordinary */
	ASSERT_EQ((void *)page, mmap((void *)page, 4096, PROT_READ | PROT_WRITE,
				     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
}

/* The descriptor table made unreadable: EFAULT on the walk. */
TEST_F(hg, descriptor_table_unmapped_by_the_vmm)
{
	struct vmq_gvq *vq = ring(self, TX);
	struct vring_desc *table = galloc(self, 2 * 4096, 4096);
	struct vhost_vring_addr addr = {
		.index = TX,
		.used_user_addr = (uintptr_t)vq->vring.used,
		.avail_user_addr = (uintptr_t)vq->vring.avail,
		.log_guest_addr = gpa(self, vq->vring.used),
	};
	uintptr_t page = (uintptr_t)table;
	uint16_t h;

	/* the VMM moves the table to a page of its own (nothing else of
	 * the guest's on it), then takes the page away */
	ASSERT_EQ(0, vmq_vhost_set_backend(self->fd, TX, -1));
	addr.desc_user_addr = (uintptr_t)table;
	ASSERT_EQ(0, ioctl(self->fd, VHOST_SET_VRING_ADDR, &addr));
	ASSERT_EQ(0, vmq_vhost_set_backend(self->fd, TX, self->tap.fd[0]));
	vq->vring.desc = table;
	h = tx_good_chain(self, 51);
	ASSERT_EQ(0, mprotect((void *)page, 4096, PROT_NONE));
	publish(self, TX, h, 0);
	EXPECT_TRUE(err_fired(self, TX, WAIT_MS));
	EXPECT_FALSE(tx_arrived(self, 51, NONE_MS));
	if (variant->ours)
		EXPECT_EQ(1, chain_errors(self, TX, VHOST_MQ_CHAIN_EFAULT));
	EXPECT_TRUE(rx_works(self, 52));
	/* readable again, and the VMM restarts the ring: the chain goes */
	ASSERT_EQ(0, mprotect((void *)page, 4096, PROT_READ | PROT_WRITE));
	ASSERT_EQ(0, vmm_skip(self, TX, 0));
	kick(self, TX);
	EXPECT_TRUE(tx_arrived(self, 51, WAIT_MS));
}

/*
 * An rx buffer the VMM made read-only: the frame cannot be written. Both
 * devices drop that frame (vhost-mq counts it) and keep the buffer; once
 * writable again it takes the next frame.
 */
TEST_F(hg, rx_buffer_read_only_in_the_vmm)
{
	unsigned char *buf = galloc(self, 3 * 4096, 4096);
	uint16_t h = fresh(self, RX);

	put(self, RX, h, gpa(self, buf), 4096, VRING_DESC_F_WRITE, 0);
	ASSERT_EQ(0, mprotect(buf, 4096, PROT_READ));
	publish(self, RX, h, 0);
	rx_send(self, 61);
	EXPECT_EQ(-1, used_wait(self, RX, 0, NULL, NONE_MS * 3));
	if (variant->ours)
		EXPECT_EQ(1, drops(self, RX, VHOST_MQ_DROP_RECV_FAILED));
	EXPECT_TRUE(tx_works(self, 62));
	EXPECT_TRUE(other_fd_works(self, 63));
	ASSERT_EQ(0, mprotect(buf, 4096, PROT_READ | PROT_WRITE));
	rx_send(self, 64);
	EXPECT_TRUE(rx_landed(self, buf, 64, WAIT_MS));
	EXPECT_FALSE(err_fired(self, RX, 0));
}

/* rx: a frame larger than the one (non-mergeable-sized) chain: dropped */
TEST_F(hg, rx_frame_larger_than_all_posted_buffers_waits)
{
	unsigned char *buf;
	uint16_t h = rx_good_chain(self, &buf, 16);

	publish(self, RX, h, 0);
	rx_send(self, 71);
	/* mergeable: the device waits for more buffers, no error */
	EXPECT_EQ(-1, used_wait(self, RX, 0, NULL, NONE_MS));
	EXPECT_FALSE(err_fired(self, RX, 0));
	if (variant->ours) {
		uint64_t w = wakeups(self, RX);

		EXPECT_EQ(0, drops(self, RX, VHOST_MQ_DROP_TOO_BIG));
		/* and waits asleep, not retrying the frame */
		usleep(NONE_MS * 1000);
		EXPECT_GE(w + 1, wakeups(self, RX)) TH_LOG("the worker spins");
	}
	/* more room comes: the frame lands across both */
	{
		unsigned char *more;
		uint32_t l1, l2;
		uint16_t h2 = rx_good_chain(self, &more, 2048);

		publish(self, RX, h2, 0);
		ASSERT_EQ(h, used_wait(self, RX, 0, &l1, WAIT_MS));
		ASSERT_EQ(h2, used_wait(self, RX, 1, &l2, WAIT_MS));
		EXPECT_EQ(16, l1);
		EXPECT_EQ(HDR + FRAME - 16, l2);
		vmq_frame_fill(self->frame, FRAME, 71);
		EXPECT_EQ(0, memcmp(buf + HDR, self->frame, 4));
		EXPECT_EQ(0, memcmp(more, self->frame + 4, FRAME - 4));
	}
}

/* =================================================== packed rings (pk) */

/*
 * The same victim pair with packed rings, written by hand as well: a
 * descriptor is made available in place with the lap's AVAIL and USED
 * bits, the device writes it back used. Positions are index | wrap << 15
 * (both wrap counters start at 1), tracked here per ring for the guest's
 * side of each.
 */
FIXTURE(pk) {
	FIXTURE_DATA(hg) h;
	uint16_t pos[2];		/* per ring: where the next chain goes */
	uint16_t used[2];		/* per ring: the next used descriptor */
	uint32_t len[2];		/* the last chain's first length */
};

#define P_WRAP		0x8000
#define P_AVAIL		(1 << VRING_PACKED_DESC_F_AVAIL)
#define P_USED		(1 << VRING_PACKED_DESC_F_USED)

FIXTURE_SETUP(pk)
{
	hg_open(_metadata, &self->h, VHOST_MQ_PATH,
		FEATURES | F(VIRTIO_F_RING_PACKED));
	ASSERT_TRUE(self->h.gp.tx.packed && self->h.gp.rx.packed);
	self->pos[TX] = self->pos[RX] = P_WRAP;
	self->used[TX] = self->used[RX] = P_WRAP;
}

FIXTURE_TEARDOWN(pk)
{
	hg_close(&self->h);
}

/* @p moved on by @n slots, the wrap counter flipping at the end */
static uint16_t padd(uint16_t p, unsigned int n)
{
	unsigned int i = (p & ~P_WRAP) + n;
	uint16_t w = p & P_WRAP;

	for (; i >= NUM; i -= NUM)
		w ^= P_WRAP;
	return i | w;
}

static struct vring_packed_desc *pslot(FIXTURE_DATA(pk) *self, int dir,
				       uint16_t p)
{
	return &ring(&self->h, dir)->desc[p & ~P_WRAP];
}

/* AVAIL and USED of a descriptor made available at position @p */
static uint16_t pbits(uint16_t p)
{
	return p & P_WRAP ? P_AVAIL : P_USED;
}

/* one descriptor of a hand-made chain */
struct pd {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;			/* WRITE, INDIRECT; NEXT is added */
};

/*
 * Make @n descriptors available as one chain of buffer id @id from the
 * ring's position, its first one's flags last and XORed with @lie, and
 * kick. Returns the slots it took.
 */
static unsigned int pchain(FIXTURE_DATA(pk) *self, int dir,
			   const struct pd *d, unsigned int n, uint16_t id,
			   uint16_t lie)
{
	uint16_t p = self->pos[dir], first = p, ff = 0, fl;
	struct vring_packed_desc *slot;
	unsigned int i;

	for (i = 0; i < n; i++) {
		slot = pslot(self, dir, p);
		slot->addr = d[i].addr;
		slot->len = d[i].len;
		slot->id = id;
		fl = d[i].flags | (i + 1 < n ? VRING_DESC_F_NEXT : 0) | pbits(p);
		if (i)
			slot->flags = fl;
		else
			ff = fl ^ lie;
		p = padd(p, 1);
		if (!i)
			self->len[dir] = d[i].len;
	}
	__atomic_store_n(&pslot(self, dir, first)->flags, ff, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	self->pos[dir] = p;
	kick(&self->h, dir);
	return n;
}

/* A good tx chain for frame @seq: header, frame. */
static unsigned int ptx(FIXTURE_DATA(pk) *self, uint32_t seq, uint16_t id)
{
	unsigned char *b = tx_buf(&self->h, seq);
	struct pd d[2] = {
		{ gpa(&self->h, b), HDR, 0 },
		{ gpa(&self->h, b + HDR), FRAME, 0 },
	};

	return pchain(self, TX, d, 2, id, 0);
}

/* A good rx chain: one writable buffer of 2048 bytes, in *buf. */
static unsigned int prx(FIXTURE_DATA(pk) *self, unsigned char **buf,
			uint16_t id)
{
	struct pd d;

	*buf = galloc(&self->h, 2048, 16);
	d = (struct pd){ gpa(&self->h, *buf), 2048, VRING_DESC_F_WRITE };
	return pchain(self, RX, &d, 1, id, 0);
}

/*
 * Wait up to @ms for the device to write back ring @dir's next used
 * descriptor: its id (and *len), the guest's used position moved on by
 * the @slots its chain took; -1 if none came.
 */
static int pused(FIXTURE_DATA(pk) *self, int dir, unsigned int slots,
		 uint32_t *len, int ms)
{
	struct vring_packed_desc *d = pslot(self, dir, self->used[dir]);
	uint16_t want = self->used[dir] & P_WRAP ? P_AVAIL | P_USED : 0, fl;

	for (; ms >= 0; ms -= 2) {
		fl = __atomic_load_n(&d->flags, __ATOMIC_ACQUIRE);
		if ((fl & (P_AVAIL | P_USED)) == want) {
			if (len)
				*len = d->len;
			self->used[dir] = padd(self->used[dir], slots);
			return d->id;
		}
		usleep(2000);
	}
	return -1;
}

static bool ptx_works(FIXTURE_DATA(pk) *self, uint32_t seq, uint16_t id)
{
	unsigned int n = ptx(self, seq, id);

	return tx_arrived(&self->h, seq, WAIT_MS) &&
	       pused(self, TX, n, NULL, WAIT_MS) == id;
}

static bool prx_works(FIXTURE_DATA(pk) *self, uint32_t seq, uint16_t id)
{
	unsigned char *buf;
	uint32_t len = 0;

	prx(self, &buf, id);
	rx_send(&self->h, seq);
	if (pused(self, RX, 1, &len, WAIT_MS) != id)
		return false;
	vmq_frame_fill(self->h.frame, FRAME, seq);
	return len == HDR + FRAME && !memcmp(buf + HDR, self->h.frame, FRAME);
}

/* The VMM's reset: stop ring @dir, move both positions on @slots, restart. */
static int pvmm_skip(FIXTURE_DATA(pk) *self, int dir, unsigned int slots)
{
	struct vhost_vring_state s = { .index = dir };
	uint16_t a, u;

	if (vmq_vhost_set_backend(self->h.fd, dir, -1) ||
	    ioctl(self->h.fd, VHOST_GET_VRING_BASE, &s))
		return -errno;
	a = padd(s.num & 0xffff, slots);
	u = padd(s.num >> 16, slots);
	s.num = a | (uint32_t)u << 16;
	if (ioctl(self->h.fd, VHOST_SET_VRING_BASE, &s) ||
	    vmq_vhost_set_backend(self->h.fd, dir, self->h.tap.fd[0]))
		return -errno;
	self->used[dir] = padd(self->used[dir], slots);
	return 0;
}

/*
 * The drill for a malformed packed chain of @slots slots just made
 * available on ring @dir: nothing moves, the error eventfd fires, @why is
 * counted, the other direction and the other fd go on, a good chain
 * behind it waits, and the VMM's reset past it brings that through.
 */
static void pbad(struct __test_metadata *_metadata, FIXTURE_DATA(pk) *self,
		 int dir, unsigned int slots, int why)
{
	unsigned char *buf = NULL;
	uint32_t len = 0;

	if (dir == RX)
		rx_send(&self->h, 100);
	EXPECT_TRUE(err_fired(&self->h, dir, WAIT_MS)) TH_LOG("no error signal");
	if (dir == TX) {
		EXPECT_FALSE(tx_arrived(&self->h, 100, NONE_MS)) TH_LOG("a frame left");
	}
	if (pused(self, dir, 0, &len, NONE_MS) != -1) {
		/* a guest's lie of used flags: the device wrote no length */
		EXPECT_EQ(self->len[dir], len) TH_LOG("used it");
	}
	EXPECT_EQ(1, chain_errors(&self->h, dir, why));
	EXPECT_EQ(1, chain_errors(&self->h, dir, -1));
	if (dir == TX) {
		EXPECT_TRUE(prx_works(self, 200, 1)) TH_LOG("rx stopped too");
	} else {
		EXPECT_TRUE(ptx_works(self, 200, 1)) TH_LOG("tx stopped too");
	}
	EXPECT_TRUE(other_fd_works(&self->h, 300)) TH_LOG("another fd stopped");
	/* a good chain behind it waits, and goes after the VMM's reset */
	if (dir == TX) {
		ptx(self, 101, 2);
		EXPECT_FALSE(tx_arrived(&self->h, 101, NONE_MS));
	} else {
		prx(self, &buf, 2);
	}
	ASSERT_EQ(0, pvmm_skip(self, dir, slots));
	kick(&self->h, dir);
	if (dir == TX) {
		EXPECT_TRUE(tx_arrived(&self->h, 101, WAIT_MS)) TH_LOG("no recovery");
		EXPECT_EQ(2, pused(self, TX, 2, NULL, WAIT_MS));
	} else {
		/* the frame sent at the start waited in the tap */
		EXPECT_EQ(2, pused(self, RX, 1, &len, WAIT_MS)) TH_LOG("no recovery");
		vmq_frame_fill(self->h.frame, FRAME, 100);
		EXPECT_EQ(0, memcmp(buf + HDR, self->h.frame, FRAME));
	}
}

/* the lap's AVAIL and USED both set: what only the device may write */
TEST_F(pk, tx_descriptor_flagged_used_in_its_own_lap)
{
	unsigned char *b = tx_buf(&self->h, 100);
	struct pd d[2] = {
		{ gpa(&self->h, b), HDR, 0 },
		{ gpa(&self->h, b + HDR), FRAME, 0 },
	};

	/* USED flipped: it matches AVAIL, the lap's counter, in any lap */
	pchain(self, TX, d, 2, 0, P_USED);
	pbad(_metadata, self, TX, 2, VHOST_MQ_CHAIN_PACKED_FLAGS);
}

TEST_F(pk, rx_descriptor_flagged_used_in_its_own_lap)
{
	unsigned char *b = galloc(&self->h, 2048, 16);
	struct pd d = { gpa(&self->h, b), 2048, VRING_DESC_F_WRITE };

	pchain(self, RX, &d, 1, 0, P_USED);
	pbad(_metadata, self, RX, 1, VHOST_MQ_CHAIN_PACKED_FLAGS);
}

TEST_F(pk, tx_buffer_id_past_the_ring)
{
	unsigned char *b = tx_buf(&self->h, 100);
	struct pd d = { gpa(&self->h, b), HDR + FRAME, 0 };

	pchain(self, TX, &d, 1, NUM, 0);
	pbad(_metadata, self, TX, 1, VHOST_MQ_CHAIN_BAD_ID);
}

TEST_F(pk, rx_buffer_id_0xffff)
{
	unsigned char *b = galloc(&self->h, 2048, 16);
	struct pd d = { gpa(&self->h, b), 2048, VRING_DESC_F_WRITE };

	pchain(self, RX, &d, 1, 0xffff, 0);
	pbad(_metadata, self, RX, 1, VHOST_MQ_CHAIN_BAD_ID);
}

/*
 * An id made available again while the device still has it: two chains
 * of id 5 in one go (tx detached while they are written). The first goes
 * out; the device has not written it back when it reads the second.
 */
TEST_F(pk, tx_buffer_id_reused_while_outstanding)
{
	ASSERT_EQ(0, vmq_vhost_set_backend(self->h.fd, TX, -1));
	ptx(self, 90, 5);
	ptx(self, 100, 5);
	ASSERT_EQ(0, vmq_vhost_set_backend(self->h.fd, TX, self->h.tap.fd[0]));
	kick(&self->h, TX);
	EXPECT_TRUE(tx_arrived(&self->h, 90, WAIT_MS));
	/* the first one's used descriptor is written as the run ends */
	EXPECT_EQ(5, pused(self, TX, 2, NULL, WAIT_MS));
	pbad(_metadata, self, TX, 2, VHOST_MQ_CHAIN_ID_IN_USE);
}

/* rx: a mergeable frame over two buffers of the same id */
TEST_F(pk, rx_buffer_id_reused_within_one_frame)
{
	unsigned char *a = galloc(&self->h, 40, 16), *b = galloc(&self->h, 40, 16);
	struct pd da = { gpa(&self->h, a), 40, VRING_DESC_F_WRITE };
	struct pd db = { gpa(&self->h, b), 40, VRING_DESC_F_WRITE };

	pchain(self, RX, &da, 1, 9, 0);
	pchain(self, RX, &db, 1, 9, 0);
	/* neither was written back: the frame's buffers are given back */
	pbad(_metadata, self, RX, 2, VHOST_MQ_CHAIN_ID_IN_USE);
}

TEST_F(pk, tx_indirect_with_next)
{
	struct vring_packed_desc *t = galloc(&self->h, 32, 16);
	unsigned char *b = tx_buf(&self->h, 100);
	struct pd d[2] = {
		{ 0, 32, VRING_DESC_F_INDIRECT },
		{ gpa(&self->h, b), HDR + FRAME, 0 },
	};

	t[0] = (struct vring_packed_desc){ gpa(&self->h, b), HDR + FRAME, 0, 0 };
	d[0].addr = gpa(&self->h, t);
	pchain(self, TX, d, 2, 0, 0);
	pbad(_metadata, self, TX, 2, VHOST_MQ_CHAIN_BAD_INDIRECT);
}

TEST_F(pk, tx_indirect_table_of_15_bytes)
{
	struct vring_packed_desc *t = galloc(&self->h, 32, 16);
	struct pd d = { gpa(&self->h, t), 15, VRING_DESC_F_INDIRECT };

	pchain(self, TX, &d, 1, 0, 0);
	pbad(_metadata, self, TX, 1, VHOST_MQ_CHAIN_BAD_INDIRECT);
}

TEST_F(pk, rx_indirect_table_inside_an_indirect_table)
{
	struct vring_packed_desc *t = galloc(&self->h, 32, 16);
	unsigned char *b = galloc(&self->h, 2048, 16);
	struct pd d = { gpa(&self->h, t), 32, VRING_DESC_F_INDIRECT };

	t[0] = (struct vring_packed_desc){ gpa(&self->h, b), 1024,
					   0, VRING_DESC_F_WRITE };
	t[1] = (struct vring_packed_desc){ gpa(&self->h, t), 32, 0,
					   VRING_DESC_F_INDIRECT };
	pchain(self, RX, &d, 1, 0, 0);
	pbad(_metadata, self, RX, 1, VHOST_MQ_CHAIN_NESTED_INDIRECT);
}

TEST_F(pk, tx_indirect_table_beyond_guest_memory)
{
	struct pd d = { GUEST_GPA + GUEST_MEM - 16, 32, VRING_DESC_F_INDIRECT };

	pchain(self, TX, &d, 1, 0, 0);
	pbad(_metadata, self, TX, 1, VHOST_MQ_CHAIN_BAD_ADDR);
}

/* every slot of the ring flagged NEXT: the chain never ends */
TEST_F(pk, tx_chain_longer_than_the_ring)
{
	unsigned char *b = tx_buf(&self->h, 100);
	struct pd d[NUM];
	unsigned int i;

	/* the last one NEXT too, written before the first's flags */
	for (i = 0; i < NUM; i++)
		d[i] = (struct pd){ gpa(&self->h, b), 1, VRING_DESC_F_NEXT };
	pchain(self, TX, d, NUM, 0, 0);
	EXPECT_TRUE(err_fired(&self->h, TX, WAIT_MS));
	/* one lap: the chain took every slot, the VMM's reset skips them */
	EXPECT_EQ(1, chain_errors(&self->h, TX, VHOST_MQ_CHAIN_LOOP));
	EXPECT_TRUE(prx_works(self, 200, 1));
	ASSERT_EQ(0, pvmm_skip(self, TX, NUM));
	EXPECT_TRUE(ptx_works(self, 101, 2)) TH_LOG("no recovery");
}

TEST_F(pk, tx_writable_buffer)
{
	unsigned char *b = tx_buf(&self->h, 100);
	struct pd d = { gpa(&self->h, b), HDR + FRAME, VRING_DESC_F_WRITE };

	pchain(self, TX, &d, 1, 0, 0);
	pbad(_metadata, self, TX, 1, VHOST_MQ_CHAIN_WRONG_DIRECTION);
}

/*
 * Slots the device still holds, made available again: the VMM restarts
 * the ring with 250 of 256 slots outstanding (taken, never written back:
 * buffers never returned), and the guest posts a chain of 8 over them.
 */
TEST_F(pk, chain_over_slots_the_device_still_holds)
{
	struct vhost_vring_state s = { .index = TX };
	unsigned char *b = tx_buf(&self->h, 100);
	struct pd d[8];
	unsigned int i;

	ASSERT_EQ(0, vmq_vhost_set_backend(self->h.fd, TX, -1));
	ASSERT_EQ(0, ioctl(self->h.fd, VHOST_GET_VRING_BASE, &s));
	EXPECT_EQ(P_WRAP | P_WRAP << 16, s.num);
	/* avail 250 slots on, used where it was */
	self->pos[TX] = padd(self->pos[TX], 250);
	s.num = self->pos[TX] | (uint32_t)self->used[TX] << 16;
	ASSERT_EQ(0, ioctl(self->h.fd, VHOST_SET_VRING_BASE, &s));
	ASSERT_EQ(0, vmq_vhost_set_backend(self->h.fd, TX, self->h.tap.fd[0]));
	for (i = 0; i < 8; i++)
		d[i] = (struct pd){ gpa(&self->h, b), i ? 1 : HDR, 0 };
	pchain(self, TX, d, 8, 0, 0);
	EXPECT_TRUE(err_fired(&self->h, TX, WAIT_MS));
	EXPECT_FALSE(tx_arrived(&self->h, 100, NONE_MS));
	EXPECT_EQ(1, chain_errors(&self->h, TX, VHOST_MQ_CHAIN_AVAIL_IDX));
	EXPECT_TRUE(prx_works(self, 200, 1));
	EXPECT_TRUE(other_fd_works(&self->h, 300));
}

/*
 * A wrap counter that lies: the chain's first descriptor flagged for the
 * other lap. The device cannot tell it from an empty slot: it takes
 * nothing, stops nothing, counts nothing; told the truth, it goes.
 */
TEST_F(pk, wrap_counter_lies_and_nothing_is_taken)
{
	uint16_t first = self->pos[TX];
	struct vring_packed_desc *s0 = pslot(self, TX, first);
	unsigned char *b = tx_buf(&self->h, 100);
	struct pd d = { gpa(&self->h, b), HDR + FRAME, 0 };

	pchain(self, TX, &d, 1, 3, P_AVAIL | P_USED);
	EXPECT_FALSE(tx_arrived(&self->h, 100, NONE_MS));
	EXPECT_FALSE(err_fired(&self->h, TX, 0));
	EXPECT_EQ(0, chain_errors(&self->h, TX, -1));
	__atomic_store_n(&s0->flags, pbits(first), __ATOMIC_RELEASE);
	kick(&self->h, TX);
	EXPECT_TRUE(tx_arrived(&self->h, 100, WAIT_MS));
	EXPECT_EQ(3, pused(self, TX, 1, NULL, WAIT_MS));
}

/*
 * Chains across the ring's end, lap after lap: 3 laps of tx chains of 1,
 * 2 and 3 descriptors and of rx buffers, each frame intact, each id back
 * at the position that follows the last one's slots.
 */
TEST_F(pk, chains_across_the_end_of_the_ring_lap_after_lap)
{
	unsigned int slots = 0, n, k, seq;

	for (seq = 0; slots < 3 * NUM; seq++) {
		unsigned char *b = tx_buf(&self->h, seq);
		struct pd d[3];

		n = seq % 3 + 1;
		d[0] = (struct pd){ gpa(&self->h, b), n == 1 ? HDR + FRAME : HDR, 0 };
		for (k = 1; k < n; k++)
			d[k] = (struct pd){ gpa(&self->h, b + HDR + (k - 1) * 30),
					    n == 2 ? FRAME : 30, 0 };
		pchain(self, TX, d, n, seq % NUM, 0);
		ASSERT_TRUE(tx_arrived(&self->h, seq, WAIT_MS)) TH_LOG("frame %u", seq);
		ASSERT_EQ(seq % NUM, pused(self, TX, n, NULL, WAIT_MS));
		ASSERT_TRUE(prx_works(self, 1000 + seq, seq % NUM)) TH_LOG("rx %u", seq);
		slots += n;
	}
	EXPECT_EQ(0, chain_errors(&self->h, TX, -1));
	EXPECT_EQ(0, chain_errors(&self->h, RX, -1));
}

/*
 * rx: a frame larger than the one buffer posted (mergeable) waits for
 * more, asleep: the device gives the buffer back and asks to be kicked
 * for the slot after it (not for the one it gave back, which would wake
 * it at once, again and again); more room comes, the frame lands across
 * both buffers.
 */
TEST_F(pk, rx_frame_larger_than_the_posted_buffer_waits_asleep)
{
	struct vmq_gvq *rx = ring(&self->h, RX);
	unsigned char *small = galloc(&self->h, 16, 16), *more;
	struct pd d = { gpa(&self->h, small), 16, VRING_DESC_F_WRITE };
	uint32_t l1 = 0, l2 = 0;
	uint64_t w;

	pchain(self, RX, &d, 1, 5, 0);
	rx_send(&self->h, 71);
	EXPECT_EQ(-1, pused(self, RX, 1, NULL, NONE_MS));
	EXPECT_FALSE(err_fired(&self->h, RX, 0));
	EXPECT_EQ(0, drops(&self->h, RX, VHOST_MQ_DROP_TOO_BIG));
	w = wakeups(&self->h, RX);
	usleep(NONE_MS * 1000);
	EXPECT_GE(w + 1, wakeups(&self->h, RX)) TH_LOG("the worker spins");
	/* EVENT_IDX: kick me when the slot past the small buffer comes */
	EXPECT_EQ(VRING_PACKED_EVENT_FLAG_DESC,
		  __atomic_load_n(&rx->device->flags, __ATOMIC_ACQUIRE));
	EXPECT_EQ(self->pos[RX], rx->device->off_wrap);
	more = galloc(&self->h, 2048, 16);
	d = (struct pd){ gpa(&self->h, more), 2048, VRING_DESC_F_WRITE };
	pchain(self, RX, &d, 1, 6, 0);
	ASSERT_EQ(5, pused(self, RX, 1, &l1, WAIT_MS));
	ASSERT_EQ(6, pused(self, RX, 1, &l2, WAIT_MS));
	EXPECT_EQ(16, l1);
	EXPECT_EQ(HDR + FRAME - 16, l2);
	vmq_frame_fill(self->h.frame, FRAME, 71);
	EXPECT_EQ(0, memcmp(small + HDR, self->h.frame, 4));
	EXPECT_EQ(0, memcmp(more, self->h.frame + 4, FRAME - 4));
	EXPECT_EQ(0, chain_errors(&self->h, RX, -1));
}

/*
 * The VMM changes the ring layout (RING_PACKED) while the rings run:
 * refused with EBUSY, the rings go on; with no backend attached it may.
 */
TEST_F(pk, vmm_switches_the_layout_of_running_rings)
{
	uint64_t split = FEATURES, packed = FEATURES | F(VIRTIO_F_RING_PACKED);

	EXPECT_EQ(-1, ioctl(self->h.fd, VHOST_SET_FEATURES, &split));
	EXPECT_EQ(EBUSY, errno);
	/* one ring detached, the other still runs: still refused */
	ASSERT_EQ(0, vmq_vhost_set_backend(self->h.fd, TX, -1));
	EXPECT_EQ(-1, ioctl(self->h.fd, VHOST_SET_FEATURES, &split));
	EXPECT_EQ(EBUSY, errno);
	/* the same layout is no change (QEMU's LOG_ALL on migration) */
	EXPECT_EQ(0, ioctl(self->h.fd, VHOST_SET_FEATURES, &packed));
	ASSERT_EQ(0, vmq_vhost_set_backend(self->h.fd, TX, self->h.tap.fd[0]));
	EXPECT_TRUE(ptx_works(self, 40, 7));
	EXPECT_TRUE(prx_works(self, 41, 7));
	ASSERT_EQ(0, vmq_vhost_set_backend(self->h.fd, TX, -1));
	ASSERT_EQ(0, vmq_vhost_set_backend(self->h.fd, RX, -1));
	EXPECT_EQ(0, ioctl(self->h.fd, VHOST_SET_FEATURES, &split));
	EXPECT_EQ(0, ioctl(self->h.fd, VHOST_SET_FEATURES, &packed));
	ASSERT_EQ(0, vmq_vhost_set_backend(self->h.fd, TX, self->h.tap.fd[0]));
	ASSERT_EQ(0, vmq_vhost_set_backend(self->h.fd, RX, self->h.tap.fd[0]));
	EXPECT_TRUE(ptx_works(self, 42, 8));
	EXPECT_TRUE(prx_works(self, 43, 8));
	EXPECT_EQ(0, chain_errors(&self->h, TX, -1));
}

/* Garbage in both event areas: frames still move. */
TEST_F(pk, garbage_in_the_event_areas)
{
	struct vmq_gvq *tx = ring(&self->h, TX), *rx = ring(&self->h, RX);

	tx->driver->off_wrap = 0xfff3;
	tx->driver->flags = 3;
	rx->driver->off_wrap = 0x7fff;
	rx->driver->flags = 2;
	tx->device->off_wrap = 0x1234;
	EXPECT_TRUE(ptx_works(self, 31, 4));
	EXPECT_TRUE(prx_works(self, 32, 4));
	EXPECT_FALSE(err_fired(&self->h, TX, 0));
}

TEST_HARNESS_MAIN
