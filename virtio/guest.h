/* SPDX-License-Identifier: GPL-2.0 */
/*
 * guest.h - a userspace "guest": guest memory, a virtqueue driver for split
 * and for packed (VIRTIO_F_RING_PACKED) rings (post buffers, kick, reap,
 * event idx) and the VMM's side of a vhost device (memory table, vring
 * setup, backend). Used by the selftests and the benchmarks to drive
 * /dev/vhost-net and /dev/vhost-mq alike.
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

/*
 * The driver's side of one virtqueue, split or packed (@packed). vring,
 * free_head, avail_idx, kicked_idx, last_used and indirect are the split
 * ring's alone; the per-buffer arrays token, ndesc and indirect_cap (per
 * head, or per id), num_free, the eventfds and kicks serve both layouts.
 *
 * A packed ring (virtio 1.1 section 2.7) is one table of num descriptors
 * (desc) the driver and the device both write, and two event suppression
 * areas: driver, which the driver writes to say when it wants interrupts,
 * and device, which the device writes to say when it wants kicks. The
 * driver tracks two positions, each an index into desc and a wrap counter
 * that starts at 1 and flips whenever the index passes the end: where the
 * next chain is made available (next_avail, avail_wrap) and where the
 * device writes the next used buffer (next_used, used_wrap). A buffer is
 * known by an id (0..num-1) from a free list; the device returns the id,
 * and the driver moves next_used on by the ring slots that id's chain took.
 */
struct vmq_gvq {
	struct vmq_guest *g;
	unsigned int index;
	uint32_t num;
	struct vring vring;		/* split: the ring (unused if packed) */
	bool event_idx;
	uint16_t free_head;		/* split: first free descriptor */
	uint16_t num_free;		/* free ring descriptors (both) */
	uint16_t avail_idx;		/* split: next avail idx to publish */
	uint16_t kicked_idx;		/* split: avail idx at the last kick */
	uint16_t last_used;		/* split: next used entry to reap */
	void **token;			/* per head (split) or id (packed) */
	uint16_t *ndesc;		/* ring descriptors per head or id */
	struct vring_desc **indirect;	/* split: per head, if any */
	unsigned int *indirect_cap;	/* entries of each indirect table */
	int kick_fd, call_fd, err_fd;
	unsigned long kicks;		/* eventfd writes we made */

	/*
	 * What VHOST_SET_VRING_BASE is given at the first setup: 0 for a
	 * split ring; for a packed one, as QEMU 7.2 encodes it, bits 0-14
	 * the avail index, bit 15 the avail wrap counter, bits 16-30 the
	 * used index, bit 31 the used wrap counter (VMQ_GVQ_PACKED_BASE).
	 */
	uint32_t base;

	/* packed ring state, meaningful only when packed is set */
	bool packed;			/* a packed ring: the fields below */
	/* the descriptor ring: num entries, 16-byte aligned */
	struct vring_packed_desc *desc;
	/* driver event suppression (we write it: interrupt us when) */
	struct vring_packed_desc_event *driver;
	/* device event suppression (the device writes it: kick it when) */
	struct vring_packed_desc_event *device;
	uint16_t next_avail;		/* slot the next chain starts at */
	bool avail_wrap;		/* avail wrap counter (starts 1) */
	uint16_t next_used;		/* slot of the next used one to reap */
	bool used_wrap;			/* used wrap counter (starts 1) */
	uint16_t free_id;		/* first free buffer id, num if none */
	uint16_t *id_next;		/* per id: the next free id (a list) */
	/* per id: its indirect table, if any (entries in indirect_cap) */
	struct vring_packed_desc **packed_indirect;
	/* avail position (index | wrap << 15) at the last kick check */
	uint16_t kicked_pos;
	/* ring slots made available since the last kick check */
	uint32_t kick_pending;
};

/* both wrap counters 1, both indices 0 */
#define VMQ_GVQ_PACKED_BASE	(0x8000U | (0x8000U << 16))

/*
 * vmq_gvq_init() makes a split ring, vmq_gvq_init_packed() a packed one
 * (num at most 32768, not necessarily a power of 2; -EINVAL otherwise), of
 * @num entries in @g's memory for vring @index, with event idx if
 * @event_idx; 0 or -errno. Every other vmq_gvq_* function works on both.
 *
 * vmq_gvq_add() posts @out device-readable then @in device-writable
 * buffers as one chain (1 ring descriptor with @indirect, out + in
 * without): 0, or -ENOSPC when the ring has too few free descriptors (or,
 * packed, no free id). vmq_gvq_kick() kicks the device if it asked for it
 * (flags or event idx) and says whether it did. vmq_gvq_get() reaps the
 * next used buffer: its token and the length the device wrote, or NULL;
 * it aborts if the device returns a buffer that is not outstanding.
 * vmq_gvq_enable_cb() asks for an interrupt at the next used buffer,
 * vmq_gvq_disable_cb() for none (split with event idx: a no-op, the
 * device interrupts no more once past the used event). vmq_gvq_wait()
 * waits for an interrupt, vmq_gvq_get_wait() for a used buffer.
 */
int vmq_gvq_init(struct vmq_gvq *vq, struct vmq_guest *g, unsigned int index,
		 uint32_t num, bool event_idx);
int vmq_gvq_init_packed(struct vmq_gvq *vq, struct vmq_guest *g,
			unsigned int index, uint32_t num, bool event_idx);
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

/*
 * The VMM's side: configure a vhost fd for the guest. vmq_vhost_setup_vq()
 * is SET_VRING_NUM, SET_VRING_BASE (vq->base), SET_VRING_ADDR, and the
 * kick, call and err eventfds. A packed ring's addresses go where QEMU
 * puts them: desc_user_addr the descriptor ring, avail_user_addr the
 * driver area, used_user_addr the device area, log_guest_addr the device
 * area's guest address.
 */
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
 * rings of @num (with event idx when @features has it, packed when it has
 * VIRTIO_F_RING_PACKED). 0 or -errno.
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
 * when the active pair count changes. Every vring (the control vq's too)
 * is packed when @features has VIRTIO_F_RING_PACKED.
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
 * features, each vring from the base the device kept (vq->base if it
 * reports 0, as a fresh device does) and enabled, the guest's memory
 * mapped in one IOTLB batch, DRIVER_OK. The control vq has no change
 * eventfd here (change_fd -1). The rings are packed when @features of
 * vmq_gdev_start_vdpa() has VIRTIO_F_RING_PACKED. vmq_gdev_vdpa_stop() is
 * QEMU's stop: a reset, then its memory listener unmaps the guest.
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
