/* SPDX-License-Identifier: GPL-2.0 */
/*
 * iotlb.h - the device IOTLB: with VIRTIO_F_ACCESS_PLATFORM acked, every
 * address the guest gives (ring areas, descriptors, buffers) is an I/O
 * virtual address, which the VMM maps for us to its own addresses with
 * VHOST_IOTLB_UPDATE messages written to the fd, and unmaps with
 * VHOST_IOTLB_INVALIDATE. What we lack we ask for with VHOST_IOTLB_MISS
 * messages the VMM reads from the fd.
 */
#ifndef VMQ_IOTLB_H
#define VMQ_IOTLB_H

#include <linux/list.h>
#include <linux/poll.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/uio.h>
#include <linux/wait.h>

struct vhost_iotlb;
struct vhost_iotlb_msg;

/*
 * A vring's request for a translation: at most one per vring, embedded in
 * it, so a guest that misses at every kick costs nothing but a message
 * the VMM reads. Linked on unread until the VMM reads it, then on asked
 * until an update covers its address.
 */
struct vmq_iotlb_miss {
	struct list_head node;		/* empty: no request */
	u64 iova;
	u8 perm;			/* VHOST_ACCESS_* */
	bool asked;			/* read by the VMM */
};

struct vmq_iotlb {
	/*
	 * Guards tlb, gen and the lists. Translations take it for the
	 * length of one range; updates and invalidations for one message.
	 */
	spinlock_t lock;
	struct vhost_iotlb *tlb;	/* NULL: ACCESS_PLATFORM not acked */
	/* bumped when a mapping goes: cached ring translations are stale */
	unsigned int gen;
	struct list_head unread;
	struct list_head asked;
	wait_queue_head_t wait;		/* read() and poll() */
	bool v2;			/* VHOST_BACKEND_F_IOTLB_MSG_V2 acked */
};

extern unsigned int vmq_iotlb_entries;

void vmq_iotlb_init(struct vmq_iotlb *io);
int vmq_iotlb_enable(struct vmq_iotlb *io, bool on);

int vmq_iotlb_translate(struct vmq_iotlb *io, struct vmq_iotlb_miss *miss,
			u64 iova, u64 len, u8 perm, struct iovec *iov,
			int iov_max);
bool vmq_iotlb_cancel(struct vmq_iotlb *io, struct vmq_iotlb_miss *miss);

ssize_t vmq_iotlb_parse(struct iov_iter *from, struct vhost_iotlb_msg *msg);
bool vmq_iotlb_mapped(struct vmq_iotlb *io, u64 start, u64 last);
int vmq_iotlb_process(struct vmq_iotlb *io, const struct vhost_iotlb_msg *msg,
		      bool batch, bool *unmapped);
ssize_t vmq_iotlb_read(struct vmq_iotlb *io, struct iov_iter *to,
		       bool nonblock);
__poll_t vmq_iotlb_poll(struct vmq_iotlb *io, struct file *file,
			poll_table *wait);

#endif /* VMQ_IOTLB_H */
