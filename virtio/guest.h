/* SPDX-License-Identifier: GPL-2.0 */
/*
 * guest.h - a userspace "guest": guest memory, a split-ring driver (post
 * buffers, kick, reap, event idx) and the VMM's side of a vhost device
 * (memory table, vring setup, backend). Used by the selftests and the
 * benchmarks to drive /dev/vhost-net and /dev/vhost-mq alike.
 */
#ifndef VMQ_GUEST_H
#define VMQ_GUEST_H

#include <linux/virtio_ring.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Guest memory: one anonymous mapping, seen by the device at guest
 * physical address gpa (deliberately not its virtual address, so a
 * missing translation shows). Allocation is a bump pointer.
 *
 * With VIRTIO_F_ACCESS_PLATFORM (platform) the device is given I/O
 * virtual addresses instead, iova + offset: VMQ_GUEST_IOVA_OFFSET above
 * the guest-physical ones unless a test moves them, and the start
 * functions map them all with one IOTLB update (a static IOTLB).
 */
#define VMQ_GUEST_IOVA_OFFSET	(1ULL << 40)

struct vmq_guest {
	uint8_t *base;
	uint64_t gpa;
	size_t size;
	size_t used;
	bool platform;
	uint64_t iova;
};

int vmq_guest_init(struct vmq_guest *g, size_t size, uint64_t gpa);
void vmq_guest_destroy(struct vmq_guest *g);
void *vmq_guest_alloc(struct vmq_guest *g, size_t size, size_t align);
/* the address the device is given for @p: guest-physical or an IOVA */
uint64_t vmq_gpa(const struct vmq_guest *g, const void *p);

/* one buffer of a chain: guest memory and its length */
struct vmq_gbuf {
	void *addr;
	uint32_t len;
};

/* the driver's side of one split virtqueue */
struct vmq_gvq {
	struct vmq_guest *g;
	unsigned int index;
	uint32_t num;
	struct vring vring;
	bool event_idx;
	uint16_t free_head;
	uint16_t num_free;
	uint16_t avail_idx;		/* next avail idx to publish */
	uint16_t kicked_idx;		/* avail idx at the last kick check */
	uint16_t last_used;		/* next used entry to reap */
	void **token;			/* per head */
	uint16_t *ndesc;		/* descriptors per head */
	struct vring_desc **indirect;	/* per head, if any */
	unsigned int *indirect_cap;	/* entries of each indirect table */
	int kick_fd, call_fd, err_fd;
	unsigned long kicks;		/* eventfd writes we made */
};

int vmq_gvq_init(struct vmq_gvq *vq, struct vmq_guest *g, unsigned int index,
		 uint32_t num, bool event_idx);
void vmq_gvq_destroy(struct vmq_gvq *vq);
int vmq_gvq_add(struct vmq_gvq *vq, const struct vmq_gbuf *bufs,
		unsigned int out, unsigned int in, void *token, bool indirect);
bool vmq_gvq_kick(struct vmq_gvq *vq);
void *vmq_gvq_get(struct vmq_gvq *vq, uint32_t *len);
void vmq_gvq_enable_cb(struct vmq_gvq *vq);
void vmq_gvq_disable_cb(struct vmq_gvq *vq);
int vmq_gvq_wait(struct vmq_gvq *vq, int timeout_ms);
void *vmq_gvq_get_wait(struct vmq_gvq *vq, uint32_t *len, int timeout_ms);
uint64_t vmq_eventfd_read(int fd);

/* the VMM's side: configure a vhost fd for the guest */
int vmq_vhost_set_mem(int fd, const struct vmq_guest *g);
int vmq_vhost_setup_vq(int fd, struct vmq_gvq *vq);
int vmq_vhost_set_backend(int fd, unsigned int index, int backend_fd);

/*
 * The device IOTLB (VIRTIO_F_ACCESS_PLATFORM): write one vhost_msg_v2 of
 * @type (VHOST_IOTLB_UPDATE, _INVALIDATE, ...): 0 or -errno. Read one MISS
 * within @timeout_ms: 0 with its iova and perm, or -errno (-ETIMEDOUT).
 */
int vmq_vhost_iotlb(int fd, uint8_t type, uint64_t iova, uint64_t size,
		    uint64_t uaddr, uint8_t perm);
int vmq_vhost_iotlb_miss(int fd, uint64_t *iova, uint8_t *perm,
			 int timeout_ms);
/* Map all of @g's memory at its IOVAs, read and write. */
int vmq_vhost_iotlb_map_guest(int fd, const struct vmq_guest *g);

/*
 * A guest with one queue pair (vring 0 rx, 1 tx) wired through vhost fd
 * @fd to @backend: owner, @features, @mem bytes of guest memory at @gpa,
 * rings of @num (with event idx when @features has it). 0 or -errno.
 */
struct vmq_gpair {
	struct vmq_guest g;
	struct vmq_gvq rx, tx;
};

int vmq_gpair_start(struct vmq_gpair *p, int fd, uint64_t features,
		    size_t mem, uint64_t gpa, uint32_t num, int backend);
void vmq_gpair_destroy(struct vmq_gpair *p);

/*
 * A whole device-mode virtio-net device (/dev/vhost-mq, VHOST_MQ_SET_PAIRS):
 * pairs 0..npairs-1 on vrings 2k/2k+1, each on backends[k], and the control
 * vq on vring 2N whose backend is change_fd, an eventfd the device signals
 * when the active pair count changes.
 */
#define VMQ_GDEV_MAX_PAIRS	16

struct vmq_gdev {
	struct vmq_guest g;
	unsigned int npairs;
	struct vmq_gvq rx[VMQ_GDEV_MAX_PAIRS], tx[VMQ_GDEV_MAX_PAIRS];
	struct vmq_gvq ctrl;
	int change_fd;
	uint8_t *cmd;		/* command buffer: header, data, ack */
};

int vmq_gdev_start(struct vmq_gdev *d, int fd, unsigned int npairs,
		   uint64_t features, size_t mem, uint64_t gpa, uint32_t num,
		   const int *backends);
void vmq_gdev_destroy(struct vmq_gdev *d);

/*
 * The same device in vhost-vdpa mode (VHOST_MQ_SET_VDPA with @taps, one
 * tap queue fd per pair, and @mac): the VMM's side as QEMU 7.2 drives
 * it. vmq_gdev_vdpa_run() does what QEMU does at every start (also after
 * a reset, status 0): status ACK|DRIVER, @features, FEATURES_OK, backend
 * features, each vring from the base the device kept and enabled, the
 * guest's memory mapped in one IOTLB batch, DRIVER_OK. The control vq has
 * no change eventfd here (change_fd -1). vmq_gdev_vdpa_stop() is QEMU's
 * stop: a reset, then its memory listener unmaps the guest.
 */
int vmq_gdev_start_vdpa(struct vmq_gdev *d, int fd, unsigned int npairs,
			uint64_t features, size_t mem, uint64_t gpa,
			uint32_t num, const int *taps, const uint8_t *mac);
int vmq_gdev_vdpa_run(struct vmq_gdev *d, int fd, uint64_t features);
int vmq_gdev_vdpa_stop(struct vmq_gdev *d, int fd);
/* Add status bits as QEMU does (get, or, set, get): -EIO if they do not stick. */
int vmq_vdpa_status(int fd, uint8_t add);
int vmq_vdpa_enable(int fd, unsigned int idx, bool on);

/*
 * Send one control command (class, command, @len bytes of data) and wait
 * for its ack: VIRTIO_NET_OK (0) or VIRTIO_NET_ERR (1), or -ETIMEDOUT.
 */
int vmq_gctrl_cmd(struct vmq_gdev *d, uint8_t class, uint8_t cmd,
		  const void *data, size_t len, int timeout_ms);
int vmq_gctrl_set_pairs(struct vmq_gdev *d, uint16_t n, int timeout_ms);

#endif /* VMQ_GUEST_H */
