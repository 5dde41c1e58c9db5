// SPDX-License-Identifier: GPL-2.0
/*
 * iotlb.c - the device IOTLB of VIRTIO_F_ACCESS_PLATFORM, on the kernel's
 * vhost_iotlb interval tree.
 *
 * The VMM writes struct vhost_msg or vhost_msg_v2 to the fd: UPDATE maps
 * [iova, iova + size) to its own address uaddr with a permission,
 * INVALIDATE unmaps a range, BATCH_BEGIN/END (with
 * VHOST_BACKEND_F_IOTLB_BATCH) bracket a group of them. A vring that
 * meets an address it has no mapping for queues a MISS the VMM reads
 * from the fd (poll() says when), stops its run without taking the chain,
 * and is run again when an update covers the address.
 *
 * Rules, against Linux 6.1's vhost-net (drivers/vhost/vhost.c):
 *  - the errno of each malformed message is vhost-net's: EINVAL for an
 *    unknown format, a short message and an UPDATE of size 0; EFAULT for
 *    everything the processing refuses (an unknown type, no IOTLB, an
 *    unreachable uaddr, a range whose end wraps). An INVALIDATE of size
 *    0 at iova 0 is of everything, as there. Stricter on purpose:
 *    unknown permission bits, and an INVALIDATE whose range wraps (size 0
 *    elsewhere than at 0 too), are EFAULT (vhost-net takes the first and
 *    does nothing for the second, while saying it did).
 *  - an INVALIDATE is in force when write() returns: no vring reads or
 *    writes through the old mapping after that, because every vring run
 *    that may still hold a translation has ended (each one holds its
 *    vring's mutex, which the invalidation takes in turn).
 *  - a vring has at most one miss outstanding, and an update that covers
 *    a miss not yet read withdraws it (vhost-net queues one message per
 *    miss, and answers only those already read). A new table (SET_FEATURES
 *    again) runs every waiting vring again, to ask it.
 *  - read() into an unwritable buffer fails with EFAULT and the request
 *    stays to be read (vhost-net returns what it copied and drops it).
 *  - a MISS is written in the format negotiated when it is read
 *    (vhost-net: when it was raised); both are the same size, and a VMM
 *    that changes VHOST_SET_BACKEND_FEATURES with misses pending reads
 *    them in the format it now expects.
 */
#include <linux/fs.h>
#include <linux/moduleparam.h>
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vhost.h>
#include <linux/vhost_iotlb.h>

#include "iotlb.h"
#include "vq.h"

unsigned int vmq_iotlb_entries = 2048;
module_param_named(iotlb_entries, vmq_iotlb_entries, uint, 0444);
MODULE_PARM_DESC(iotlb_entries,
		 "Most device IOTLB entries per fd; the oldest goes first (default 2048, as vhost-net)");

void vmq_iotlb_init(struct vmq_iotlb *io)
{
	spin_lock_init(&io->lock);
	INIT_LIST_HEAD(&io->unread);
	INIT_LIST_HEAD(&io->asked);
	init_waitqueue_head(&io->wait);
}

/*
 * Every request goes, read or not, and its vring runs again, to ask the
 * new table (or to go without one); io->lock held.
 */
static void vmq_iotlb_rerun_misses(struct vmq_iotlb *io)
	__must_hold(&io->lock)
{
	struct vmq_iotlb_miss *m, *tmp;
	struct vmq_vq *vq;

	lockdep_assert_held(&io->lock);
	list_splice_init(&io->asked, &io->unread);
	list_for_each_entry_safe(m, tmp, &io->unread, node) {
		list_del_init(&m->node);
		vq = container_of(m, struct vmq_vq, miss);
		if (READ_ONCE(vq->poll.worker))
			vmq_poll_queue(&vq->poll);
	}
}

/*
 * A fresh, empty table when ACCESS_PLATFORM is acked (vhost-net makes a
 * new one at every VHOST_SET_FEATURES that has the bit), none when it is
 * not. The caller holds the device mutex and points the vrings at it.
 */
int vmq_iotlb_enable(struct vmq_iotlb *io, bool on)
{
	struct vhost_iotlb *tlb = NULL, *old;

	if (on) {
		tlb = vhost_iotlb_alloc(vmq_iotlb_entries,
					VHOST_IOTLB_FLAG_RETIRE);
		if (!tlb)
			return -ENOMEM;
	}
	spin_lock(&io->lock);
	old = io->tlb;
	io->tlb = tlb;
	io->gen++;
	vmq_iotlb_rerun_misses(io);
	spin_unlock(&io->lock);
	/* a blocked reader learns that there is no table any more */
	wake_up_interruptible_poll(&io->wait, EPOLLIN | EPOLLRDNORM);
	if (old)
		vhost_iotlb_free(old);
	return 0;
}

/*
 * Ask the VMM for a mapping of @iova; io->lock held. A vring that misses
 * again asks again (the VMM may have dropped the request, as QEMU does
 * when its vIOMMU has no translation), but never has two requests.
 */
static void vmq_iotlb_ask(struct vmq_iotlb *io, struct vmq_iotlb_miss *miss,
			  u64 iova, u8 perm)
	__must_hold(&io->lock)
{
	lockdep_assert_held(&io->lock);
	miss->iova = iova;
	miss->perm = perm;
	miss->asked = false;
	list_del(&miss->node);
	list_add_tail(&miss->node, &io->unread);
	wake_up_interruptible_poll(&io->wait, EPOLLIN | EPOLLRDNORM);
}

/* The vring no longer waits; true if it did. */
bool vmq_iotlb_cancel(struct vmq_iotlb *io, struct vmq_iotlb_miss *miss)
{
	bool waited;

	spin_lock(&io->lock);
	waited = !list_empty(&miss->node);
	list_del_init(&miss->node);
	spin_unlock(&io->lock);
	return waited;
}

/*
 * Translate [iova, iova + len), len > 0, needing @perm, into at most
 * @iov_max iovecs of the owner's addresses; neighbouring mappings that
 * are contiguous in the owner's memory share one. Returns the number of
 * iovecs, -EAGAIN after asking the VMM for a missing mapping (@miss),
 * -EPERM if a mapping lacks @perm, -EFAULT if the range wraps, -ENOBUFS
 * if it needs more iovecs.
 */
int vmq_iotlb_translate(struct vmq_iotlb *io, struct vmq_iotlb_miss *miss,
			u64 iova, u64 len, u8 perm, struct iovec *iov,
			int iov_max)
{
	struct vhost_iotlb_map *map;
	u64 last = iova + len - 1, chunk, hva;
	int n = 0, ret;

	if (!len)
		return 0;
	if (last < iova)
		return -EFAULT;
	spin_lock(&io->lock);
	if (unlikely(!io->tlb)) {
		ret = -EFAULT;
		goto out;
	}
	for (;;) {
		map = vhost_iotlb_itree_first(io->tlb, iova, iova);
		if (!map) {
			vmq_iotlb_ask(io, miss, iova, perm);
			ret = -EAGAIN;
			goto out;
		}
		if ((map->perm & perm) != perm) {
			ret = -EPERM;
			goto out;
		}
		hva = map->addr + (iova - map->start);
		/* up to the end of the range or of the mapping, no overflow */
		chunk = min(last, map->last) - iova + 1;
		if (n && (u64)(unsigned long)iov[n - 1].iov_base +
			 iov[n - 1].iov_len == hva) {
			iov[n - 1].iov_len += chunk;
		} else {
			if (n == iov_max) {
				ret = -ENOBUFS;
				goto out;
			}
			iov[n].iov_base = (void __user *)(unsigned long)hva;
			iov[n].iov_len = chunk;
			n++;
		}
		if (map->last >= last)
			break;
		iova = map->last + 1;
	}
	ret = n;
out:
	spin_unlock(&io->lock);
	return ret;
}

/* Wake the vrings whose miss [start, last] answers; io->lock held. */
static void vmq_iotlb_answer(struct vmq_iotlb *io, struct list_head *list,
			     u64 start, u64 last)
	__must_hold(&io->lock)
{
	struct vmq_iotlb_miss *m, *tmp;
	struct vmq_vq *vq;

	lockdep_assert_held(&io->lock);
	list_for_each_entry_safe(m, tmp, list, node) {
		if (m->iova < start || m->iova > last)
			continue;
		list_del_init(&m->node);
		vq = container_of(m, struct vmq_vq, miss);
		if (READ_ONCE(vq->poll.worker))
			vmq_poll_queue(&vq->poll);
	}
}

static bool vmq_iotlb_uaddr_ok(u64 uaddr, u64 size)
{
	if (uaddr > ULONG_MAX || size - 1 > ULONG_MAX - uaddr)
		return false;
	return access_ok((void __user *)(unsigned long)uaddr, size);
}

/*
 * One message, @batch if IOTLB_BATCH was negotiated. *unmapped: a mapping
 * went, so the caller waits for every vring run that may still use it
 * before it returns to the VMM.
 */
int vmq_iotlb_process(struct vmq_iotlb *io, const struct vhost_iotlb_msg *msg,
		      bool batch, bool *unmapped)
{
	u64 last = msg->iova + msg->size - 1;
	int ret = 0;

	switch (msg->type) {
	case VHOST_IOTLB_UPDATE:
		if (msg->perm & ~VHOST_ACCESS_RW || last < msg->iova ||
		    !vmq_iotlb_uaddr_ok(msg->uaddr, msg->size))
			return -EFAULT;
		spin_lock(&io->lock);
		if (!io->tlb) {
			ret = -EFAULT;
		} else if (vhost_iotlb_add_range(io->tlb, msg->iova, last,
						 msg->uaddr, msg->perm)) {
			ret = -EFAULT;
		} else {
			vmq_iotlb_answer(io, &io->asked, msg->iova, last);
			vmq_iotlb_answer(io, &io->unread, msg->iova, last);
		}
		spin_unlock(&io->lock);
		return ret;
	case VHOST_IOTLB_INVALIDATE:
		/* size 0 is 2^64: everything from iova 0, as in vhost-net */
		if (last < msg->iova && !(!msg->size && !msg->iova))
			return -EFAULT;
		if (!msg->size)
			last = U64_MAX;
		spin_lock(&io->lock);
		if (io->tlb) {
			vhost_iotlb_del_range(io->tlb, msg->iova, last);
			io->gen++;
		} else {
			ret = -EFAULT;
		}
		spin_unlock(&io->lock);
		*unmapped = !ret;
		return ret;
	case VHOST_IOTLB_BATCH_BEGIN:
	case VHOST_IOTLB_BATCH_END:
		/*
		 * Each update is in force as it is written, so a batch needs
		 * nothing more; without the feature these are unknown types.
		 */
		if (!batch)
			return -EINVAL;
		return io->tlb ? 0 : -EFAULT;
	default:
		return -EINVAL;
	}
}

/* Does any mapping meet [start, last]? */
bool vmq_iotlb_mapped(struct vmq_iotlb *io, u64 start, u64 last)
{
	bool ret;

	spin_lock(&io->lock);
	ret = io->tlb && vhost_iotlb_itree_first(io->tlb, start, last);
	spin_unlock(&io->lock);
	return ret;
}

/*
 * What write() gives: one message, in either format, whatever was
 * negotiated; its length, or EINVAL for a short or unknown one.
 */
ssize_t vmq_iotlb_parse(struct iov_iter *from, struct vhost_iotlb_msg *msg)
{
	u32 format;

	if (copy_from_iter(&format, sizeof(format), from) != sizeof(format))
		return -EINVAL;
	switch (format) {
	case VHOST_IOTLB_MSG:
		/* the hole after an int type, before the 8-aligned union */
		iov_iter_advance(from, offsetof(struct vhost_msg, iotlb) -
				 sizeof(format));
		break;
	case VHOST_IOTLB_MSG_V2:
		/* asid: only address space 0 exists without IOTLB_ASID */
		iov_iter_advance(from, sizeof(u32));
		break;
	default:
		return -EINVAL;
	}
	if (copy_from_iter(msg, sizeof(*msg), from) != sizeof(*msg))
		return -EINVAL;
	if (msg->type == VHOST_IOTLB_UPDATE && !msg->size)
		return -EINVAL;
	return format == VHOST_IOTLB_MSG ? sizeof(struct vhost_msg) :
					   sizeof(struct vhost_msg_v2);
}

union vmq_iotlb_out {
	struct vhost_msg v1;
	struct vhost_msg_v2 v2;
};

/* The oldest unread miss, moved to asked, as the message to read. */
static struct vmq_iotlb_miss *
vmq_iotlb_next_miss(struct vmq_iotlb *io, union vmq_iotlb_out *out,
		    size_t *size)
	__must_hold(&io->lock)
{
	struct vmq_iotlb_miss *m;
	struct vhost_iotlb_msg *msg;

	lockdep_assert_held(&io->lock);
	m = list_first_entry_or_null(&io->unread, struct vmq_iotlb_miss, node);
	if (!m)
		return NULL;
	memset(out, 0, sizeof(*out));
	if (io->v2) {
		out->v2.type = VHOST_IOTLB_MSG_V2;
		msg = &out->v2.iotlb;
		*size = sizeof(out->v2);
	} else {
		out->v1.type = VHOST_IOTLB_MSG;
		msg = &out->v1.iotlb;
		*size = sizeof(out->v1);
	}
	msg->type = VHOST_IOTLB_MISS;
	msg->iova = m->iova;
	msg->perm = m->perm;
	m->asked = true;
	list_move_tail(&m->node, &io->asked);
	return m;
}

static void vmq_iotlb_unread_again(struct vmq_iotlb *io,
				   struct vmq_iotlb_miss *m, u64 iova)
	__must_hold(&io->lock)
{
	struct vmq_iotlb_miss *x;

	lockdep_assert_held(&io->lock);
	list_for_each_entry(x, &io->asked, node) {
		if (x != m)
			continue;
		if (x->iova == iova) {
			x->asked = false;
			list_move(&x->node, &io->unread);
		}
		return;
	}
}

/*
 * read(): one MISS message, in the format negotiated (v2 with
 * VHOST_BACKEND_F_IOTLB_MSG_V2). As vhost-net: 0 for a buffer shorter
 * than a message, EAGAIN when none is waiting on a non-blocking fd,
 * EBADFD when a blocking reader waits for a device without an IOTLB.
 */
ssize_t vmq_iotlb_read(struct vmq_iotlb *io, struct iov_iter *to,
		       bool nonblock)
{
	struct vmq_iotlb_miss *m;
	union vmq_iotlb_out out;
	size_t size = 0;
	ssize_t ret;
	u64 iova = 0;

	if (iov_iter_count(to) < sizeof(struct vhost_msg))
		return 0;
	for (;;) {
		spin_lock(&io->lock);
		m = vmq_iotlb_next_miss(io, &out, &size);
		if (m)
			iova = m->iova;
		ret = io->tlb ? 0 : -EBADFD;
		spin_unlock(&io->lock);
		if (m)
			break;
		if (nonblock)
			return -EAGAIN;
		if (ret)
			return ret;
		ret = wait_event_interruptible(io->wait,
					       !list_empty_careful(&io->unread) ||
					       !READ_ONCE(io->tlb));
		if (ret)
			return ret;
	}
	ret = copy_to_iter(&out, size, to);
	if (ret == size)
		return ret;
	/*
	 * Not delivered: unread again, if it is still the request we took
	 * (the vring may have been reset, even freed, meanwhile: @m is only
	 * compared until it is found on the list).
	 */
	spin_lock(&io->lock);
	vmq_iotlb_unread_again(io, m, iova);
	spin_unlock(&io->lock);
	return -EFAULT;
}

__poll_t vmq_iotlb_poll(struct vmq_iotlb *io, struct file *file,
			poll_table *wait)
{
	__poll_t mask = 0;

	poll_wait(file, &io->wait, wait);
	spin_lock(&io->lock);
	if (!list_empty(&io->unread))
		mask |= EPOLLIN | EPOLLRDNORM;
	spin_unlock(&io->lock);
	return mask;
}
