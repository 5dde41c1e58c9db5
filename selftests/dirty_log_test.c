// SPDX-License-Identifier: GPL-2.0
/*
 * dirty_log_test.c - with VHOST_F_LOG_ALL, every guest page the backend
 * writes on rx (the buffer bytes it fills, the used ring; on a packed
 * ring the descriptor it writes back) is marked in the log bitmap and the
 * log eventfd fires; no other page is marked.
 * With VIRTIO_F_ACCESS_PLATFORM the device is given IOVAs (far above guest
 * memory), and the log still marks the guest-physical pages.
 * Run on /dev/vhost-net and /dev/vhost-mq alike.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <linux/vhost.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>

#include "guest.h"
#include "vmq_net.h"
#include "vmq_test.h"
#include "kselftest_harness.h"

#define PAGE		4096UL
#define GUEST_GPA	0x40000000ULL
#define GUEST_MEM	(4UL << 20)
/* one bit per page from guest address 0 to the end of guest memory */
#define LOG_BYTES	((GUEST_GPA + GUEST_MEM) / PAGE / 8)

static bool logged(const uint8_t *log, uint64_t gpa)
{
	uint64_t page = gpa / PAGE;

	return log[page / 8] & (1 << (page % 8));
}

/* is @gpa in the page at @page? */
static bool in_page(uint64_t page, uint64_t gpa)
{
	return gpa / PAGE == page / PAGE;
}

/* the guest-physical address of @p, whatever the device is given */
static uint64_t gpa_of(const struct vmq_guest *g, const void *p)
{
	return g->gpa + ((const uint8_t *)p - g->base);
}

/* as vmq_vhost_setup_vq() gives the ring: VMM addresses, or IOVAs */
static uint64_t ring_addr(const struct vmq_guest *g, const void *p)
{
	return g->platform ? vmq_gpa(g, p) : (uintptr_t)p;
}

/* the area the device writes: a split ring's used ring, a packed one's
 * device event area (QEMU's log_guest_addr for both)
 */
static const void *used_area(const struct vmq_gvq *vq)
{
	return vq->packed ? (const void *)vq->device : (const void *)vq->vring.used;
}

static int log_used_ring(int fd, struct vmq_gvq *vq)
{
	struct vhost_vring_addr a = {
		.index = vq->index,
		.flags = 1 << VHOST_VRING_F_LOG,
		.desc_user_addr = ring_addr(vq->g, vq->packed ?
					    (void *)vq->desc : vq->vring.desc),
		.avail_user_addr = ring_addr(vq->g, vq->packed ?
					     (void *)vq->driver :
					     vq->vring.avail),
		.used_user_addr = ring_addr(vq->g, used_area(vq)),
		.log_guest_addr = vmq_gpa(vq->g, used_area(vq)),
	};

	return ioctl(fd, VHOST_SET_VRING_ADDR, &a) ? -errno : 0;
}

static void rx_pages_are_logged(struct __test_metadata *_metadata,
				const char *path, bool platform, bool packed)
{
	uint64_t features = (1ULL << VIRTIO_F_VERSION_1) |
			    (1ULL << VIRTIO_NET_F_MRG_RXBUF) |
			    (1ULL << VHOST_F_LOG_ALL) |
			    (platform ? 1ULL << VIRTIO_F_ACCESS_PLATFORM : 0) |
			    (packed ? 1ULL << VIRTIO_F_RING_PACKED : 0);
	uint64_t v2 = 1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2;
	struct vmq_gbuf buf;
	struct vmq_guest g;
	struct vmq_gvq rx, tx;
	struct vmq_tap tap;
	unsigned char frame[5000];
	uint64_t base, gpa, page;
	uint8_t *log;
	uint32_t len;
	int fd, logfd;

	vmq_kmsg_mark(_metadata->name, path);
	ASSERT_EQ(0, vmq_netns_enter());
	ASSERT_EQ(0, vmq_tap_open(&tap, "vmq0", 1, 12, 9000));
	log = aligned_alloc(PAGE, (LOG_BYTES + PAGE - 1) & ~(PAGE - 1));
	ASSERT_NE(NULL, log);
	memset(log, 0, LOG_BYTES);
	logfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	base = (uintptr_t)log;

	fd = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioctl(fd, VHOST_SET_OWNER, NULL));
	ASSERT_EQ(0, ioctl(fd, VHOST_SET_BACKEND_FEATURES, &v2));
	ASSERT_EQ(0, ioctl(fd, VHOST_SET_FEATURES, &features));
	ASSERT_EQ(0, vmq_guest_init(&g, GUEST_MEM, GUEST_GPA));
	if (platform) {
		g.platform = true;
		ASSERT_EQ(0, vmq_vhost_iotlb_map_guest(fd, &g));
	}
	if (packed) {
		ASSERT_EQ(0, vmq_gvq_init_packed(&rx, &g, 0, 64, false));
		ASSERT_EQ(0, vmq_gvq_init_packed(&tx, &g, 1, 64, false));
	} else {
		ASSERT_EQ(0, vmq_gvq_init(&rx, &g, 0, 64, false));
		ASSERT_EQ(0, vmq_gvq_init(&tx, &g, 1, 64, false));
	}
	ASSERT_EQ(0, vmq_vhost_set_mem(fd, &g));
	ASSERT_EQ(0, vmq_vhost_setup_vq(fd, &rx));
	ASSERT_EQ(0, vmq_vhost_setup_vq(fd, &tx));
	ASSERT_EQ(0, log_used_ring(fd, &rx));
	ASSERT_EQ(0, log_used_ring(fd, &tx));
	ASSERT_EQ(0, ioctl(fd, VHOST_SET_LOG_BASE, &base));
	ASSERT_EQ(0, ioctl(fd, VHOST_SET_LOG_FD, &logfd));
	ASSERT_EQ(0, vmq_vhost_set_backend(fd, 0, tap.fd[0]));
	ASSERT_EQ(0, vmq_vhost_set_backend(fd, 1, tap.fd[0]));

	/* a buffer of three pages; the frame fills the first two */
	buf.addr = vmq_guest_alloc(&g, 3 * PAGE, PAGE);
	buf.len = 3 * PAGE;
	ASSERT_EQ(0, vmq_gvq_add(&rx, &buf, 0, 1, &buf, false));
	vmq_gvq_kick(&rx);
	usleep(100000);
	memset(log, 0, LOG_BYTES);
	vmq_eventfd_read(logfd);

	vmq_frame_fill(frame, sizeof(frame), 1);
	ASSERT_EQ((ssize_t)sizeof(frame),
		  vmq_pkt_send(tap.pkt, tap.ifindex, frame, sizeof(frame)));
	ASSERT_EQ(&buf, vmq_gvq_get_wait(&rx, &len, 5000));
	ASSERT_EQ(12 + sizeof(frame), len);
	EXPECT_EQ(0, memcmp((uint8_t *)buf.addr + 12, frame, sizeof(frame)));
	EXPECT_LT(0, vmq_eventfd_read(logfd)) TH_LOG("log eventfd silent");

	/*
	 * written: both pages of the frame, the rx used ring (packed: the
	 * descriptor written back, in the page of the ring's first slot)
	 */
	gpa = gpa_of(&g, buf.addr);
	EXPECT_TRUE(logged(log, gpa));
	EXPECT_TRUE(logged(log, gpa + PAGE));
	if (packed) {
		EXPECT_TRUE(logged(log, gpa_of(&g, rx.desc))) TH_LOG("desc");
	} else {
		EXPECT_TRUE(logged(log, gpa_of(&g, rx.vring.used)));
	}
	/*
	 * Nothing else, but the tx used ring (packed: the device areas of
	 * both rings, tx's descriptors) the device may also write, and under
	 * an IOTLB on vhost-net the buffer's third page: it logs every byte
	 * of the buffers it wrote into, not the bytes written.
	 */
	for (page = 0; page < LOG_BYTES * 8; page++) {
		uint64_t a = page * PAGE;

		if (a == gpa || a == gpa + PAGE ||
		    in_page(a, gpa_of(&g, used_area(&rx))) ||
		    in_page(a, gpa_of(&g, used_area(&tx))))
			continue;
		if (packed && (in_page(a, gpa_of(&g, rx.desc)) ||
			       in_page(a, gpa_of(&g, tx.desc))))
			continue;
		if (platform && !strcmp(path, VHOST_NET_PATH) &&
		    a == gpa + 2 * PAGE)
			continue;
		EXPECT_FALSE(logged(log, a)) TH_LOG("gpa 0x%llx logged",
						     (unsigned long long)a);
	}
	close(fd);
	vmq_tap_close(&tap);
}

TEST(vhost_net_logs_exactly_the_pages_rx_writes)
{
	rx_pages_are_logged(_metadata, VHOST_NET_PATH, false, false);
}

TEST(vhost_mq_logs_exactly_the_pages_rx_writes)
{
	rx_pages_are_logged(_metadata, VHOST_MQ_PATH, false, false);
}

TEST(vhost_net_logs_guest_physical_pages_under_an_iotlb)
{
	rx_pages_are_logged(_metadata, VHOST_NET_PATH, true, false);
}

TEST(vhost_mq_logs_guest_physical_pages_under_an_iotlb)
{
	rx_pages_are_logged(_metadata, VHOST_MQ_PATH, true, false);
}

/* packed rings: vhost-net does not offer them, so vhost-mq alone */
TEST(vhost_mq_logs_the_descriptors_a_packed_ring_writes_back)
{
	rx_pages_are_logged(_metadata, VHOST_MQ_PATH, false, true);
}

TEST(vhost_mq_logs_a_packed_ring_under_an_iotlb)
{
	rx_pages_are_logged(_metadata, VHOST_MQ_PATH, true, true);
}

TEST_HARNESS_MAIN
