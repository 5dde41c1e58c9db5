/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vq.h - one virtqueue: its ring in the owner's memory, its eventfds, its
 * cursors, and the ring operations a device handler uses. Nothing here
 * knows about tap or networking.
 */
#ifndef VMQ_VQ_H
#define VMQ_VQ_H

#include <linux/eventfd.h>
#include <linux/mutex.h>
#include <linux/uio.h>
#include <linux/virtio_byteorder.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include <uapi/linux/vhost_mq.h>

#include "desc.h"
#include "iotlb.h"
#include "worker.h"

struct vmq_mem;
struct vmq_ring_pieces;

/*
 * The three areas of a ring. A packed ring has its descriptors in the
 * first, written back in place when used, and its event suppression
 * areas in the other two: the driver's (VHOST_SET_VRING_ADDR's avail
 * address) and the device's (its used address).
 */
enum vmq_ring_area {
	VMQ_RING_DESC,
	VMQ_RING_AVAIL,
	VMQ_RING_USED,
	VMQ_RING_AREAS
};

/* Guests of this module are little endian: virtio 1.x, or legacy on x86. */
#define vq16_to_cpu(v)		__virtio16_to_cpu(true, v)
#define vq32_to_cpu(v)		__virtio32_to_cpu(true, v)
#define vq64_to_cpu(v)		__virtio64_to_cpu(true, v)
#define cpu_to_vq16(v)		__cpu_to_virtio16(true, v)
#define cpu_to_vq32(v)		__cpu_to_virtio32(true, v)

/* avail ring entries read ahead in one copy */
#define VMQ_AVAIL_AHEAD		64

/* heads kept for one batched used-ring update; one packet may take 1024 */
#define VMQ_USED_BATCH		64
#define VMQ_HEADS_MAX		(UIO_MAXIOV + VMQ_USED_BATCH)

struct vmq_vq_stats {
	u64 packets;
	u64 bytes;
	u64 kicks;
	u64 interrupts;
	u64 wakeups;
	u64 folded;
	u64 iotlb_misses;
	u64 drops[VHOST_MQ_DROP_MAX];	/* by enum vhost_mq_drop */
	u64 errors;			/* sum of chain_errors and ring faults */
	u64 chain_errors[VMQ_CHAIN_NR_ERRORS];
};

/*
 * A guest range the device wrote, for the dirty log: a guest-physical
 * address, or with a device IOTLB the owner's address it translated to
 * (the log is of guest-physical pages: the memory table maps it back).
 */
struct vmq_log_entry {
	u64 addr;
	u64 len;
};

/* one chain as vmq_vq_next_chain() found it */
struct vmq_vq_chain {
	u16 head;			/* a packed ring's buffer id */
	u16 ndescs;			/* ring slots it took (packed) */
	int out, in;			/* iovecs of each direction */
	u64 out_len, in_len;		/* bytes of each direction */
};

struct vmq_vq {
	/*
	 * Held by the handler for a whole run and by every ioctl that
	 * touches the ring; nests inside the device mutex.
	 */
	struct mutex mutex;
	unsigned int index;
	/* our request to the device IOTLB, if we wait for one (iotlb.h) */
	struct vmq_iotlb_miss miss;

	/* Everything from here on is zeroed by vmq_vq_reset(). */

	/* The ring, as the VMM set it; fixed while a backend is attached. */
	u32 num;
	u64 desc_addr, avail_addr, used_addr;
	/*
	 * Where the ring areas are in the owner's memory (by enum
	 * vmq_ring_area): the addresses above as they are, or with a device
	 * IOTLB their translations, made when a run starts and kept while no
	 * mapping has gone (rings_gen). An area the IOTLB maps in several
	 * pieces of the owner's memory has no ring[] address: its pieces are
	 * listed instead, and every access to it goes piece by piece.
	 */
	void __user *ring[VMQ_RING_AREAS];
	struct vmq_ring_pieces *pieces[VMQ_RING_AREAS];
	bool rings_mapped;
	unsigned int rings_gen;
	bool log_used;			/* VHOST_VRING_F_LOG */
	u64 log_addr;			/* guest address of the used ring */
	void __user *log_base;
	struct eventfd_ctx *log_ctx;
	const struct vmq_mem *mem;	/* the device's table; see mem.h */
	/* with ACCESS_PLATFORM, the device's IOTLB: addresses are IOVAs */
	struct vmq_iotlb *iotlb;
	u64 features;
	u32 busyloop_timeout;		/* microseconds */

	struct file *kick;
	struct eventfd_ctx *call_ctx;
	struct eventfd_ctx *error_ctx;
	struct vmq_poll poll;		/* kick -> handler */

	void *backend;			/* the device's; NULL: inactive */
	bool broken;			/* a guest error stopped the queue */
	/* stopped in this run; the error eventfd fires as the run ends */
	bool error_pending;
	/* descriptors read in this run, for the handler's budget */
	unsigned int run_descs;

	/*
	 * Cursors, in ring index space (free-running u16); on a packed ring
	 * positions instead (virtio/packed_ring.h: index, wrap counter in
	 * bit 15), where avail_idx is the position past the chains seen (a
	 * discard does not move it back): what we ask to be kicked for.
	 */
	u16 last_avail_idx;		/* next entry we consume */
	u16 avail_idx;			/* guest's avail idx, last read */
	u16 last_used_idx;		/* next used entry we write */
	u16 signalled_used;		/* used idx at the last interrupt */
	bool signalled_used_valid;
	u16 used_flags;
	/*
	 * avail->ring entries from ahead_idx on, read ahead in one copy:
	 * entries the guest has published do not change until used, so
	 * what we read stays what we would read again (and a guest that
	 * breaks that rule only sees its own earlier value used). Forgotten
	 * whenever the VMM moves the ring or its base.
	 */
	u16 ahead_idx;
	u16 nahead;
	__virtio16 ahead[VMQ_AVAIL_AHEAD];

	/* scratch of the handler: iovecs, pending used heads, dirty log */
	struct iovec *iov;		/* UIO_MAXIOV */
	struct vring_used_elem *heads;	/* VMQ_HEADS_MAX */
	unsigned int nheads;
	struct vmq_log_entry *log;	/* UIO_MAXIOV */
	unsigned int nlog;
	/*
	 * A packed ring's: the buffer ids the guest has outstanding with us
	 * (num bits), and the chains taken last (id, slots << 16; a circle of
	 * VMQ_HEADS_MAX), which vmq_vq_discard() gives back. Allocated when
	 * a backend attaches to a packed ring.
	 */
	unsigned long *ids;
	u32 *taken;
	unsigned int ntaken;
	/* slots from last_used_idx to last_avail_idx: taken, not yet used */
	u32 held;

	struct vmq_vq_stats stats;
};

void vmq_vq_init(struct vmq_vq *vq, unsigned int index, vmq_work_fn_t kick);
int vmq_vq_alloc_scratch(struct vmq_vq *vq);
void vmq_vq_free_scratch(struct vmq_vq *vq);
void vmq_vq_reset(struct vmq_vq *vq);
long vmq_vq_ioctl(struct vmq_vq *vq, unsigned int cmd, void __user *argp);

static inline bool vmq_vq_has(const struct vmq_vq *vq, unsigned int bit)
{
	return vq->features & (1ULL << bit);
}

static inline bool vmq_vq_packed(const struct vmq_vq *vq)
{
	return vmq_vq_has(vq, VIRTIO_F_RING_PACKED);
}

bool vmq_vq_log_access_ok(struct vmq_vq *vq, void __user *log_base);
bool vmq_vq_access_ok(struct vmq_vq *vq);
int vmq_vq_init_access(struct vmq_vq *vq);
void vmq_vq_set_iotlb(struct vmq_vq *vq, struct vmq_iotlb *iotlb);
bool vmq_vq_start_run(struct vmq_vq *vq);

int vmq_vq_next_chain(struct vmq_vq *vq, int iov_first,
		      struct vmq_vq_chain *chain);
void vmq_vq_discard(struct vmq_vq *vq, unsigned int n);
void vmq_vq_error(struct vmq_vq *vq, enum vmq_chain_error why);
void vmq_vq_fault(struct vmq_vq *vq, const char *what);

void vmq_vq_disable_notify(struct vmq_vq *vq);
bool vmq_vq_enable_notify(struct vmq_vq *vq);
bool vmq_vq_avail_empty(struct vmq_vq *vq);

void vmq_vq_push_head(struct vmq_vq *vq, const struct vmq_vq_chain *chain,
		      u32 len);
void vmq_vq_flush_used(struct vmq_vq *vq);
int vmq_vq_log_written(struct vmq_vq *vq, u64 len);

#endif /* VMQ_VQ_H */
