/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmq_dm.h - a device-mode /dev/vhost-mq fd with its guest (virtio/guest.h
 * vmq_gdev) and its multiqueue tap, in a network namespace of the test's
 * own, and the few things the device-mode tests do with it.
 */
#ifndef VMQ_DM_H
#define VMQ_DM_H

#include <stdint.h>
#include <linux/vhost.h>
#include <linux/vhost_mq.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>

#include "guest.h"
#include "vmq_net.h"
#include "vmq_test.h"

#define HDR		12
#define MAX_PAIRS	8
#define RXBUF		2048
#define FRAME		200
#define WAIT_MS		5000

#define F_BASE		((1ULL << VIRTIO_F_VERSION_1) | \
			 (1ULL << VIRTIO_NET_F_MRG_RXBUF) | \
			 (1ULL << VIRTIO_RING_F_EVENT_IDX))
#define F_MQ		((1ULL << VIRTIO_NET_F_CTRL_VQ) | \
			 (1ULL << VIRTIO_NET_F_MQ))

/* a device-mode fd, its guest and its tap, in a namespace of our own */
struct dm {
	int fd;
	unsigned int n;
	struct vmq_tap tap;
	struct vmq_gdev d;
};

/* A namespace of our own, its tap of @n queues and a /dev/vhost-mq fd. */
static inline int dm_open(struct dm *m, unsigned int n)
{
	int r;

	m->n = n;
	m->fd = -1;
	memset(&m->d, 0, sizeof(m->d));
	m->d.change_fd = -1;
	r = vmq_netns_enter();
	if (!r)
		r = vmq_tap_open(&m->tap, "vmq0", n, HDR, 0);
	if (r)
		return r;
	m->fd = open(VHOST_MQ_PATH, O_RDWR | O_CLOEXEC);
	return m->fd < 0 ? -errno : 0;
}

static inline int dm_start(struct dm *m, unsigned int n, uint64_t features,
		    uint32_t num)
{
	int r = dm_open(m, n);

	if (r)
		return r;
	return vmq_gdev_start(&m->d, m->fd, n, features, 32 << 20,
			      0x80000000ULL, num, m->tap.fd);
}

/* the mac the vhost-vdpa tests give their device */
static const uint8_t dm_mac[6] = { 0x02, 0x56, 0x4d, 0x51, 0x00, 0x01 };

/* The same device in vhost-vdpa mode, driven as QEMU 7.2 drives it. */
static inline int dm_start_vdpa(struct dm *m, unsigned int n,
				uint64_t features, uint32_t num)
{
	int r = dm_open(m, n);

	if (r)
		return r;
	return vmq_gdev_start_vdpa(&m->d, m->fd, n, features, 32 << 20,
				   0x80000000ULL, num, m->tap.fd, dm_mac);
}

static inline void dm_stop(struct dm *m)
{
	if (m->fd >= 0)
		close(m->fd);
	vmq_gdev_destroy(&m->d);
	vmq_tap_close(&m->tap);
}

static inline struct vhost_mq_active dm_active(struct dm *m)
{
	struct vhost_mq_active a = { 0 };

	if (ioctl(m->fd, VHOST_MQ_GET_ACTIVE, &a))
		a.pairs = a.active = 0xdead;
	return a;
}

static inline struct vhost_mq_vring_stats dm_stats(struct dm *m, unsigned int idx)
{
	struct vhost_mq_vring_stats s = { .index = idx };

	if (ioctl(m->fd, VHOST_MQ_GET_VRING_STATS, &s))
		s.packets = ~0ULL;
	return s;
}

static inline struct vhost_mq_pair dm_pair(struct dm *m, unsigned int k)
{
	struct vhost_mq_pair p = { .pair = k };

	if (ioctl(m->fd, VHOST_MQ_GET_PAIR, &p))
		p.flags = ~0U;
	return p;
}

/* Post @count rx buffers on pair @k's ring. */
static inline int dm_post_rx(struct dm *m, unsigned int k, unsigned int count)
{
	struct vmq_gbuf b;
	unsigned int i;

	for (i = 0; i < count; i++) {
		b.addr = vmq_guest_alloc(&m->d.g, RXBUF, 8);
		b.len = RXBUF;
		if (!b.addr || vmq_gvq_add(&m->d.rx[k], &b, 0, 1, b.addr, false))
			return -ENOSPC;
	}
	vmq_gvq_kick(&m->d.rx[k]);
	return 0;
}

/* Post one test frame (seq @seq) on pair @k's tx ring and kick. */
static inline int dm_tx(struct dm *m, unsigned int k, uint32_t seq)
{
	unsigned char *p = vmq_guest_alloc(&m->d.g, HDR + FRAME, 8);
	struct vmq_gbuf b = { p, HDR + FRAME };

	if (!p)
		return -ENOMEM;
	memset(p, 0, HDR);
	vmq_frame_fill(p + HDR, FRAME, seq);
	if (vmq_gvq_add(&m->d.tx[k], &b, 1, 0, p, false))
		return -ENOSPC;
	vmq_gvq_kick(&m->d.tx[k]);
	return 0;
}

static inline int send_udp(struct dm *m, unsigned int flow, uint32_t seq)
{
	return vmq_udp_send(m->tap.pkt, m->tap.ifindex, flow, seq, FRAME);
}

/*
 * Take one received frame from pair @k's rx ring, if any, and give the
 * buffer back. 1 with flow/seq of an intact frame, 0 if none, -1 if what
 * arrived is damaged.
 */
static inline int dm_rx_one(struct dm *m, unsigned int k, unsigned int *flow,
		     uint32_t *seq)
{
	struct vmq_gbuf b;
	unsigned char *p;
	uint32_t len;
	int ok;

	p = vmq_gvq_get(&m->d.rx[k], &len);
	if (!p)
		return 0;
	ok = len == HDR + FRAME &&
	     vmq_udp_frame_ok(p + HDR, len - HDR, flow, seq);
	b = (struct vmq_gbuf){ p, RXBUF };
	vmq_gvq_add(&m->d.rx[k], &b, 0, 1, p, false);
	vmq_gvq_kick(&m->d.rx[k]);
	return ok ? 1 : -1;
}

/* Sum of the rx vrings' packets (folded: their folded counters). */
static inline uint64_t sum_rx(struct dm *m, bool folded)
{
	uint64_t sum = 0;
	unsigned int k;

	for (k = 0; k < m->n; k++) {
		struct vhost_mq_vring_stats s = dm_stats(m, 2 * k);

		sum += folded ? s.folded : s.packets;
	}
	return sum;
}

/* Does a tx frame of @seq reach the tap within @ms? */
static inline bool tx_arrives(struct dm *m, uint32_t seq, int ms)
{
	unsigned char want[FRAME], got[FRAME + 64];

	vmq_frame_fill(want, FRAME, seq);
	for (;;) {
		ssize_t len = vmq_pkt_recv(m->tap.pkt, got, sizeof(got), ms);

		if (len < 0)
			return false;
		if (len == FRAME && !memcmp(want, got, FRAME))
			return true;
	}
}

/* Does eventfd @fd fire within @ms? (reads it) */
static inline bool wait_eventfd(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1 && vmq_eventfd_read(fd) > 0;
}

/* A kick whether or not the device asked for one, as a guest may. */
static inline void dm_force_kick(struct vmq_gvq *vq)
{
	uint64_t one = 1;

	if (write(vq->kick_fd, &one, sizeof(one)) != sizeof(one))
		perror("kick");
}

#endif /* VMQ_DM_H */
