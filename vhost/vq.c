// SPDX-License-Identifier: GPL-2.0
/*
 * vq.c - virtqueues in the owner's memory, split or packed: the vring
 * ioctls, chain fetching, used-ring publishing, notification suppression
 * and the dirty log of ring writes. The handlers see one interface; the
 * layouts differ only in here (the packed ring's rules are in
 * virtio/packed_ring.h, shared with userspace).
 *
 * Every access to the ring goes through uaccess in the owner's mm (the
 * worker has adopted it); the ring's addresses were checked with
 * access_ok() when the backend was attached. Guest errors never crash or
 * stall the host: they mark this queue broken, count the reason and
 * signal the vring's error eventfd, and the queue stays stopped until the
 * VMM sets its base again.
 */
#include <linux/file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vhost.h>
#include <linux/virtio_config.h>

#include "log.h"
#include "mem.h"
#include "packed_ring.h"
#include "split_ring.h"
#include "vq.h"

void vmq_vq_init(struct vmq_vq *vq, unsigned int index, vmq_work_fn_t kick)
{
	mutex_init(&vq->mutex);
	vq->index = index;
	INIT_LIST_HEAD(&vq->miss.node);
	vmq_poll_init(&vq->poll, kick, EPOLLIN);
}

/* Only the scratch buffers: the ring's setup and features stay. */
void vmq_vq_free_scratch(struct vmq_vq *vq)
{
	kfree(vq->iov);
	kfree(vq->heads);
	kfree(vq->log);
	bitmap_free(vq->ids);
	kfree(vq->taken);
	vq->iov = NULL;
	vq->heads = NULL;
	vq->log = NULL;
	vq->ids = NULL;
	vq->taken = NULL;
}

int vmq_vq_alloc_scratch(struct vmq_vq *vq)
{
	vq->iov = kmalloc_array(UIO_MAXIOV, sizeof(*vq->iov),
				GFP_KERNEL_ACCOUNT);
	vq->heads = kmalloc_array(VMQ_HEADS_MAX, sizeof(*vq->heads),
				  GFP_KERNEL_ACCOUNT);
	vq->log = kmalloc_array(UIO_MAXIOV, sizeof(*vq->log),
				GFP_KERNEL_ACCOUNT);
	if (vq->iov && vq->heads && vq->log)
		return 0;
	vmq_vq_free_scratch(vq);
	return -ENOMEM;
}

/*
 * A ring area the device IOTLB maps in several pieces of the owner's
 * memory: contiguous in IOVA space (the guest's one DMA allocation), not
 * in ours, as a vIOMMU's page-by-page mappings of a ring over a page make
 * it. The pieces are in the area's order, the first at offset 0.
 */
struct vmq_ring_piece {
	u32 off;			/* where it starts in the area */
	u32 len;
	void __user *hva;
};

struct vmq_ring_pieces {
	unsigned int n;
	struct vmq_ring_piece p[];
};

/* Forget where the ring areas are; under the vq mutex. */
static void vmq_vq_unmap_rings(struct vmq_vq *vq)
{
	int a;

	vq->rings_mapped = false;
	for (a = 0; a < VMQ_RING_AREAS; a++) {
		kfree(vq->pieces[a]);
		vq->pieces[a] = NULL;
		vq->ring[a] = NULL;
	}
}

static void vmq_ctx_put(struct eventfd_ctx **ctx)
{
	if (*ctx)
		eventfd_ctx_put(*ctx);
	*ctx = NULL;
}

/*
 * Back to the state of a fresh open. The caller has detached the backend
 * and flushed the worker; the memory table and log eventfd belong to the
 * device and are only forgotten here.
 */
void vmq_vq_reset(struct vmq_vq *vq)
{
	vmq_work_fn_t kick = vq->poll.work.fn;

	vmq_poll_stop(&vq->poll);
	if (vq->iotlb)
		vmq_iotlb_cancel(vq->iotlb, &vq->miss);
	if (vq->kick)
		fput(vq->kick);
	vmq_ctx_put(&vq->call_ctx);
	vmq_ctx_put(&vq->error_ctx);
	vmq_vq_free_scratch(vq);
	vmq_vq_unmap_rings(vq);
	memset_startat(vq, 0, num);
	vmq_poll_init(&vq->poll, kick, EPOLLIN);
}

/* offsets in the avail and used areas; entry num is the event index */
#define VMQ_AVAIL_FLAGS		offsetof(struct vring_avail, flags)
#define VMQ_AVAIL_IDX		offsetof(struct vring_avail, idx)
#define VMQ_USED_FLAGS		offsetof(struct vring_used, flags)
#define VMQ_USED_IDX		offsetof(struct vring_used, idx)

static u32 vmq_avail_entry(u32 i)
{
	return offsetof(struct vring_avail, ring) + i * sizeof(__virtio16);
}

static u32 vmq_used_entry(u32 i)
{
	return offsetof(struct vring_used, ring) +
	       i * sizeof(struct vring_used_elem);
}

enum vmq_pieces_op {
	VMQ_PIECES_READ,
	VMQ_PIECES_WRITE,
	VMQ_PIECES_LOG,
};

static int vmq_vq_log_hva(struct vmq_vq *vq, u64 hva, u64 len);

/*
 * Is ring area @a scattered (its pieces listed) rather than in place at
 * vq->ring[a]? Asked of pieces[], never of ring[]: 0 is an address a VMM
 * may give, directly or as an IOTLB mapping's, and faults where it is used.
 */
static bool vmq_ring_scattered(const struct vmq_vq *vq, enum vmq_ring_area a)
{
	return unlikely(vq->pieces[a]);
}

/*
 * Read, write or log the bytes [off, off + len) of scattered ring area @a,
 * piece by piece; the range lies inside the area, whose whole size was
 * translated.
 */
static int vmq_pieces_access(struct vmq_vq *vq, enum vmq_ring_area a,
			     u32 off, void *buf, u32 len, enum vmq_pieces_op op)
{
	const struct vmq_ring_pieces *ps = vq->pieces[a];
	const struct vmq_ring_piece *p;
	unsigned int lo = 0, hi = ps->n, mid;
	u32 in, chunk;
	int err;

	/* the last piece starting at or before off */
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (ps->p[mid].off <= off)
			lo = mid;
		else
			hi = mid;
	}
	for (p = &ps->p[lo]; len && p < ps->p + ps->n; p++) {
		in = off - p->off;
		chunk = min(len, p->len - in);
		if (op == VMQ_PIECES_READ)
			err = copy_from_user(buf, p->hva + in, chunk);
		else if (op == VMQ_PIECES_WRITE)
			err = copy_to_user(p->hva + in, buf, chunk);
		else
			err = vmq_vq_log_hva(vq, (unsigned long)p->hva + in,
					     chunk);
		if (err)
			return -EFAULT;
		if (op != VMQ_PIECES_LOG)
			buf += chunk;
		off += chunk;
		len -= chunk;
	}
	return len ? -EFAULT : 0;
}

/* Ring accesses by area and offset: in place, or piece by piece. */
static int vmq_ring_read(struct vmq_vq *vq, enum vmq_ring_area a, u32 off,
			 void *buf, u32 len)
{
	if (!vmq_ring_scattered(vq, a))
		return copy_from_user(buf, vq->ring[a] + off, len) ? -EFAULT : 0;
	return vmq_pieces_access(vq, a, off, buf, len, VMQ_PIECES_READ);
}

static int vmq_ring_write(struct vmq_vq *vq, enum vmq_ring_area a, u32 off,
			  const void *buf, u32 len)
{
	if (!vmq_ring_scattered(vq, a))
		return copy_to_user(vq->ring[a] + off, buf, len) ? -EFAULT : 0;
	return vmq_pieces_access(vq, a, off, (void *)buf, len,
				 VMQ_PIECES_WRITE);
}

static int vmq_ring_get16(struct vmq_vq *vq, enum vmq_ring_area a, u32 off,
			  u16 *v)
{
	__virtio16 raw;

	if (!vmq_ring_scattered(vq, a)) {
		if (get_user(raw, (__virtio16 __user *)(vq->ring[a] + off)))
			return -EFAULT;
	} else if (vmq_pieces_access(vq, a, off, &raw, sizeof(raw),
				     VMQ_PIECES_READ)) {
		return -EFAULT;
	}
	*v = vq16_to_cpu(raw);
	return 0;
}

static int vmq_ring_put16(struct vmq_vq *vq, enum vmq_ring_area a, u32 off,
			  u16 v)
{
	__virtio16 raw = cpu_to_vq16(v);

	if (!vmq_ring_scattered(vq, a))
		return put_user(raw, (__virtio16 __user *)(vq->ring[a] + off));
	return vmq_pieces_access(vq, a, off, &raw, sizeof(raw),
				 VMQ_PIECES_WRITE);
}

/* the size of each ring area (by enum vmq_ring_area) for @num entries */
static size_t vmq_vq_area_size(struct vmq_vq *vq, enum vmq_ring_area a,
			       u32 num)
{
	bool event_idx = vmq_vq_has(vq, VIRTIO_RING_F_EVENT_IDX);

	if (a == VMQ_RING_DESC)
		return vmq_desc_table_size(num);
	if (vmq_vq_packed(vq))
		return VMQ_PACKED_EVENT_SIZE;
	return a == VMQ_RING_AVAIL ? vmq_avail_ring_size(num, event_idx) :
				     vmq_used_ring_size(num, event_idx);
}

static size_t vmq_vq_used_size(struct vmq_vq *vq, u32 num)
{
	return vmq_vq_area_size(vq, VMQ_RING_USED, num);
}

bool vmq_vq_log_access_ok(struct vmq_vq *vq, void __user *log_base)
{
	lockdep_assert_held(&vq->mutex);
	if (!vmq_mem_access_ok(vq->mem, log_base,
			       vmq_vq_has(vq, VHOST_F_LOG_ALL)))
		return false;
	/* with an IOTLB the used ring's log goes by its translation */
	return !vq->log_used || vq->iotlb ||
	       vmq_log_access_ok(log_base, vq->log_addr,
				 vmq_vq_used_size(vq, vq->num));
}

static bool vmq_ring_access_ok(struct vmq_vq *vq, u32 num, void __user *desc,
			       void __user *avail, void __user *used)
{
	/* IOVAs: each translation is checked, the VMM's uaddr at its UPDATE */
	if (vq->iotlb)
		return true;
	return access_ok(desc, vmq_vq_area_size(vq, VMQ_RING_DESC, num)) &&
	       access_ok(avail, vmq_vq_area_size(vq, VMQ_RING_AVAIL, num)) &&
	       access_ok(used, vmq_vq_area_size(vq, VMQ_RING_USED, num));
}

/* May the ring and its log be used? Checked when a backend attaches. */
bool vmq_vq_access_ok(struct vmq_vq *vq)
{
	lockdep_assert_held(&vq->mutex);
	return vmq_vq_log_access_ok(vq, vq->log_base) &&
	       vmq_ring_access_ok(vq, vq->num, vq->ring[VMQ_RING_DESC],
				  vq->ring[VMQ_RING_AVAIL],
				  vq->ring[VMQ_RING_USED]);
}

/*
 * Mark every guest-physical page the owner's range [hva, hva + len) is
 * seen at: regions may alias the same memory (vhost-net logs them all).
 */
static int vmq_log_hva_aliases(struct vmq_vq *vq, u64 hva, u64 len)
{
	const struct vmq_mem_region *r;
	u64 start, end;
	u32 i;

	for (i = 0; i < vq->mem->nregions; i++) {
		r = &vq->mem->regions[i];
		start = max(hva, r->hva);
		end = min(hva + len - 1, r->hva + r->size - 1);
		if (start > end)
			continue;
		if (vmq_log_write(vq->log_base, r->gpa + (start - r->hva),
				  end - start + 1))
			return -EFAULT;
	}
	return 0;
}

/*
 * Log a write to the owner's address @hva, with a device IOTLB: the
 * memory table says which guest-physical pages it is (vhost-net's rule).
 * A write outside every region cannot be logged: EFAULT.
 */
static int vmq_vq_log_hva(struct vmq_vq *vq, u64 hva, u64 len)
{
	const struct vmq_mem_region *r;
	u64 chunk;

	while (len) {
		r = vmq_mem_find_hva(vq->mem, hva);
		if (!r)
			return -EFAULT;
		chunk = min(len, r->size - (hva - r->hva));
		if (vmq_log_hva_aliases(vq, hva, chunk))
			return -EFAULT;
		hva += chunk;
		len -= chunk;
	}
	return 0;
}

static int vmq_vq_log_used(struct vmq_vq *vq, u32 offset, u32 len)
{
	void __user *used = vq->ring[VMQ_RING_USED];

	if (!vq->log_used)
		return 0;
	if (!vq->iotlb)
		return vmq_log_write(vq->log_base, vq->log_addr + offset, len);
	if (!vmq_ring_scattered(vq, VMQ_RING_USED))
		return vmq_vq_log_hva(vq, (unsigned long)used + offset, len);
	return vmq_pieces_access(vq, VMQ_RING_USED, offset, NULL, len,
				 VMQ_PIECES_LOG);
}

static void vmq_vq_log_signal(struct vmq_vq *vq)
{
	if (vq->log_ctx)
		eventfd_signal(vq->log_ctx, 1);
}

/*
 * A packed ring's device area: kicks off (DISABLE), on (ENABLE), or with
 * EVENT_IDX once the guest makes available the slot past those we have
 * seen (DESC). One 4-byte write, the position with the flags.
 */
static int vmq_packed_put_event(struct vmq_vq *vq)
{
	u16 flags = VMQ_PACKED_EVENT_ENABLE;
	__virtio16 ev[2];

	if (vq->used_flags & VRING_USED_F_NO_NOTIFY)
		flags = VMQ_PACKED_EVENT_DISABLE;
	else if (vmq_vq_has(vq, VIRTIO_RING_F_EVENT_IDX))
		flags = VMQ_PACKED_EVENT_DESC;
	ev[0] = cpu_to_vq16(vq->avail_idx);
	ev[1] = cpu_to_vq16(flags);
	return vmq_ring_write(vq, VMQ_RING_USED, 0, ev, sizeof(ev));
}

/* Our notification flags (a packed ring: its device area), logged. */
static int vmq_vq_put_used_flags(struct vmq_vq *vq)
{
	bool packed = vmq_vq_packed(vq);
	int err;

	if (packed)
		err = vmq_packed_put_event(vq);
	else
		err = vmq_ring_put16(vq, VMQ_RING_USED, VMQ_USED_FLAGS,
				     vq->used_flags);
	if (err)
		return -EFAULT;
	if (vq->log_used) {
		/* flags before log: pairs with the VMM's read of the log */
		smp_wmb();
		if (packed ?
		    vmq_vq_log_used(vq, 0, VMQ_PACKED_EVENT_SIZE) :
		    vmq_vq_log_used(vq, VMQ_USED_FLAGS, sizeof(__virtio16)))
			return -EFAULT;
		vmq_vq_log_signal(vq);
	}
	return 0;
}

/*
 * Stop the vring for @why: counted once, however many accesses fail on
 * the way out, until the VMM restarts it. From here on no chain is taken
 * (vmq_vq_next_chain() refuses) and the handler undoes the frame it was
 * on; the error eventfd fires when the handler publishes what it had
 * finished before the stop (vmq_vq_flush_used(), which every run ends
 * with), so that nothing reaches the ring after the signal.
 */
static void vmq_vq_stop(struct vmq_vq *vq, enum vmq_chain_error why)
{
	if (vq->broken)
		return;
	vq->broken = true;
	vq->error_pending = true;
	vq->stats.errors++;
	if (why > VMQ_CHAIN_OK && why < VMQ_CHAIN_NR_ERRORS)
		vq->stats.chain_errors[why]++;
}

/* Ring or buffer memory the device cannot read or write. */
void vmq_vq_fault(struct vmq_vq *vq, const char *what)
{
	lockdep_assert_held(&vq->mutex);
	pr_debug_ratelimited("vhost-mq: vring %u stopped: %s\n", vq->index,
			     what);
	vmq_vq_stop(vq, VMQ_CHAIN_MEM_FAULT);
}

/* The guest broke a rule of the ring: stop the queue, count why. */
void vmq_vq_error(struct vmq_vq *vq, enum vmq_chain_error why)
{
	lockdep_assert_held(&vq->mutex);
	pr_debug_ratelimited("vhost-mq: vring %u stopped: chain error %d\n",
			     vq->index, why);
	vmq_vq_stop(vq, why);
}

/*
 * Translate a guest range needing @perm into iovecs of the owner's memory:
 * through the device IOTLB with ACCESS_PLATFORM, else the memory table.
 * Returns the number of iovecs or a VMQ_CHAIN_* code as a negative number:
 * -VMQ_CHAIN_RETRY (a miss was asked for), -VMQ_CHAIN_IOTLB_PERM,
 * -VMQ_CHAIN_TOO_MANY_SEGS (more than @iov_max), -VMQ_CHAIN_BAD_ADDR.
 */
static int vmq_vq_translate(struct vmq_vq *vq, u64 addr, u64 len, u8 perm,
			    struct iovec *iov, int iov_max)
{
	int n;

	if (!vq->iotlb) {
		n = vmq_mem_translate(vq->mem, addr, len, iov, iov_max);
		if (n >= 0)
			return n;
		return n == -ENOBUFS ? -VMQ_CHAIN_TOO_MANY_SEGS :
				       -VMQ_CHAIN_BAD_ADDR;
	}
	n = vmq_iotlb_translate(vq->iotlb, &vq->miss, addr, len, perm, iov,
				iov_max);
	if (n >= 0)
		return n;
	switch (n) {
	case -EAGAIN:
		vq->stats.iotlb_misses++;
		return -VMQ_CHAIN_RETRY;
	case -EPERM:
		return -VMQ_CHAIN_IOTLB_PERM;
	case -ENOBUFS:
		return -VMQ_CHAIN_TOO_MANY_SEGS;
	default:
		return -VMQ_CHAIN_BAD_ADDR;
	}
}

/*
 * Map ring area @a through the device IOTLB: in place when it is one
 * piece of the owner's memory, else as a list of up to UIO_MAXIOV pieces
 * (the handler's iovecs hold the translation: no chain is being read).
 * Returns 0, -EAGAIN while a miss is asked for, or -EFAULT after stopping
 * the vring.
 */
static int vmq_vq_map_area(struct vmq_vq *vq, enum vmq_ring_area a, u64 iova,
			   size_t size, u8 perm)
{
	struct vmq_ring_pieces *ps;
	u32 off = 0;
	int n, i;

	n = vmq_vq_translate(vq, iova, size, perm, vq->iov, UIO_MAXIOV);
	if (n == 1) {
		vq->ring[a] = vq->iov[0].iov_base;
		return 0;
	}
	if (n == -VMQ_CHAIN_RETRY)
		return -EAGAIN;
	if (n == -VMQ_CHAIN_IOTLB_PERM) {
		vmq_vq_error(vq, VMQ_CHAIN_IOTLB_PERM);
		return -EFAULT;
	}
	if (n < 0) {
		vmq_vq_fault(vq, "ring area not mapped");
		return -EFAULT;
	}
	ps = kmalloc(struct_size(ps, p, n), GFP_KERNEL_ACCOUNT);
	if (!ps) {
		vmq_vq_fault(vq, "no memory for a scattered ring area");
		return -EFAULT;
	}
	ps->n = n;
	for (i = 0; i < n; i++) {
		ps->p[i].off = off;
		ps->p[i].len = vq->iov[i].iov_len;
		ps->p[i].hva = vq->iov[i].iov_base;
		off += vq->iov[i].iov_len;
	}
	vq->pieces[a] = ps;
	return 0;
}

/*
 * Where the handler will find the ring in this run. With a device IOTLB,
 * the three areas are translated again after any mapping went away.
 */
static int vmq_vq_map_rings(struct vmq_vq *vq)
{
	/* a packed ring's descriptors are written back in place */
	u8 desc_perm = vmq_vq_packed(vq) ? VHOST_ACCESS_RW : VHOST_ACCESS_RO;
	unsigned int gen;
	int err;

	lockdep_assert_held(&vq->mutex);
	if (!vq->iotlb)
		return 0;
	gen = READ_ONCE(vq->iotlb->gen);
	if (vq->rings_mapped && vq->rings_gen == gen)
		return 0;
	vmq_vq_unmap_rings(vq);
	err = vmq_vq_map_area(vq, VMQ_RING_DESC, vq->desc_addr,
			      vmq_vq_area_size(vq, VMQ_RING_DESC, vq->num),
			      desc_perm);
	if (!err)
		err = vmq_vq_map_area(vq, VMQ_RING_AVAIL, vq->avail_addr,
				      vmq_vq_area_size(vq, VMQ_RING_AVAIL,
						       vq->num),
				      VHOST_ACCESS_RO);
	if (!err)
		err = vmq_vq_map_area(vq, VMQ_RING_USED, vq->used_addr,
				      vmq_vq_area_size(vq, VMQ_RING_USED,
						       vq->num),
				      VHOST_ACCESS_WO);
	if (err)
		return err;
	vq->rings_mapped = true;
	vq->rings_gen = gen;
	return 0;
}

/*
 * The ring's areas as the VMM gave them, or (IOVAs) to be translated.
 * Called under the vq mutex when the addresses or the IOTLB change.
 */
static void vmq_vq_reset_rings(struct vmq_vq *vq)
{
	vmq_vq_unmap_rings(vq);
	if (vq->iotlb)
		return;
	vq->ring[VMQ_RING_DESC] = u64_to_user_ptr(vq->desc_addr);
	vq->ring[VMQ_RING_AVAIL] = u64_to_user_ptr(vq->avail_addr);
	vq->ring[VMQ_RING_USED] = u64_to_user_ptr(vq->used_addr);
}

/* ACCESS_PLATFORM acked (@iotlb) or not (NULL); under the vq mutex. */
void vmq_vq_set_iotlb(struct vmq_vq *vq, struct vmq_iotlb *iotlb)
{
	lockdep_assert_held(&vq->mutex);
	/* a vring that waited for the old table runs again without it */
	if (vq->iotlb && vq->iotlb != iotlb &&
	    vmq_iotlb_cancel(vq->iotlb, &vq->miss) && vq->poll.worker)
		vmq_poll_queue(&vq->poll);
	vq->iotlb = iotlb;
	vmq_vq_reset_rings(vq);
}

/*
 * A handler's run begins, under the vq mutex: false if it cannot (the
 * vring is stopped, or waits for a translation of its rings).
 */
bool vmq_vq_start_run(struct vmq_vq *vq)
{
	lockdep_assert_held(&vq->mutex);
	if (unlikely(vq->broken))
		return false;
	vq->run_descs = 0;
	if (likely(!vmq_vq_map_rings(vq)))
		return true;
	/* stopped (not just waiting): the error eventfd fires now */
	if (vq->broken)
		vmq_vq_flush_used(vq);
	return false;
}

/*
 * The packed ring's part of an attach: its positions must fit the ring
 * (a packed ring has at most 2^15 entries: 15 bits of index), the id
 * bitmap and the history of taken chains exist and are empty, and the
 * device area says whether we want kicks. The used position is the
 * VMM's base: a packed ring has no used index in memory.
 */
static int vmq_packed_init_access(struct vmq_vq *vq)
{
	if (vq->num > VMQ_PACKED_MAX_NUM ||
	    !vmq_packed_pos_valid(vq->last_avail_idx, vq->num) ||
	    !vmq_packed_pos_valid(vq->last_used_idx, vq->num) ||
	    vmq_packed_dist(vq->last_used_idx, vq->last_avail_idx,
			    vq->num) > vq->num)
		return -EINVAL;
	if (!vq->ids)
		vq->ids = bitmap_zalloc(VMQ_PACKED_MAX_NUM, GFP_KERNEL_ACCOUNT);
	if (!vq->taken)
		vq->taken = kmalloc_array(VMQ_HEADS_MAX, sizeof(*vq->taken),
					  GFP_KERNEL_ACCOUNT);
	if (!vq->ids || !vq->taken)
		return -ENOMEM;
	bitmap_zero(vq->ids, vq->num);
	vq->ntaken = 0;
	vq->held = vmq_packed_dist(vq->last_used_idx, vq->last_avail_idx,
				   vq->num);
	vq->avail_idx = vq->last_avail_idx;
	/* the device area must be mapped already, as a split used header */
	if (vq->iotlb) {
		struct iovec iov;

		vmq_vq_unmap_rings(vq);
		if (vmq_vq_translate(vq, vq->used_addr, VMQ_PACKED_EVENT_SIZE,
				     VHOST_ACCESS_WO, &iov, 1) != 1)
			return -EFAULT;
		vq->ring[VMQ_RING_USED] = iov.iov_base;
	}
	if (!access_ok(vq->ring[VMQ_RING_USED], VMQ_PACKED_EVENT_SIZE) ||
	    vmq_vq_put_used_flags(vq))
		return -EFAULT;
	vq->signalled_used_valid = false;
	return 0;
}

/*
 * A backend is attaching: write our flags and take the used index the
 * guest's ring starts from.
 */
int vmq_vq_init_access(struct vmq_vq *vq)
{
	u16 idx;

	lockdep_assert_held(&vq->mutex);
	if (!vq->backend)
		return 0;
	if (vmq_vq_packed(vq))
		return vmq_packed_init_access(vq);
	/*
	 * The used ring's flags and idx must be mapped already (QEMU maps
	 * the used ring's first page before it attaches a backend, as
	 * vhost-net needs too); the ring itself is mapped when the first run
	 * needs it. A miss here is asked for and the attach fails.
	 */
	if (vq->iotlb) {
		struct iovec iov;

		vmq_vq_unmap_rings(vq);
		if (vmq_vq_translate(vq, vq->used_addr, vmq_used_entry(0),
				     VHOST_ACCESS_RW, &iov, 1) != 1)
			return -EFAULT;
		vq->ring[VMQ_RING_USED] = iov.iov_base;
	}
	if (vmq_vq_put_used_flags(vq))
		return -EFAULT;
	vq->signalled_used_valid = false;
	vq->nahead = 0;
	if (!access_ok(vq->ring[VMQ_RING_USED] + VMQ_USED_IDX, sizeof(idx)))
		return -EFAULT;
	if (vmq_ring_get16(vq, VMQ_RING_USED, VMQ_USED_IDX, &idx))
		return -EFAULT;
	vq->last_used_idx = idx;
	return 0;
}

/* How the shared chain walker (virtio/desc_chain.h) reaches memory. */
struct vmq_chain_env {
	struct vmq_vq *vq;
	bool packed;		/* descriptors laid out addr, len, id, flags */
	int iov;		/* next free iovec */
	int out, in;		/* iovecs per direction */
	bool log;
	unsigned int descs;	/* descriptors read */
	/* the indirect table being read, translated once */
	struct vring_desc __user *ind;	/* NULL: not in one piece */
	/* a packed chain's first descriptor, read with its flags */
	bool have_first;
	struct vmq_desc first;
};

/*
 * A descriptor as read: a packed one (struct vring_packed_desc) has the
 * same size, with id where a split one has flags, and flags where it has
 * next.
 */
static void vmq_desc_from_ring(struct vmq_desc *desc,
			       const struct vring_desc *raw, bool packed)
{
	desc->addr = vq64_to_cpu(raw->addr);
	desc->len = vq32_to_cpu(raw->len);
	if (packed) {
		desc->flags = vq16_to_cpu(raw->next);
		desc->id = vq16_to_cpu(raw->flags);
	} else {
		desc->flags = vq16_to_cpu(raw->flags);
		desc->next = vq16_to_cpu(raw->next);
	}
}

/*
 * Each field read once: the guest may change the descriptor under us, we
 * use what we read. Four loads in one user access window (cheaper than a
 * copy_from_user() into the stack, which hardened usercopy checks).
 */
static int vmq_read_user_desc(const struct vring_desc __user *d,
			      struct vmq_desc *desc, bool packed)
{
	struct vring_desc raw;

	if (!user_access_begin(d, sizeof(*d)))
		return VMQ_CHAIN_EFAULT;
	unsafe_get_user(raw.addr, &d->addr, fault);
	unsafe_get_user(raw.len, &d->len, fault);
	unsafe_get_user(raw.flags, &d->flags, fault);
	unsafe_get_user(raw.next, &d->next, fault);
	user_access_end();
	vmq_desc_from_ring(desc, &raw, packed);
	return VMQ_CHAIN_OK;

fault:
	user_access_end();
	return VMQ_CHAIN_EFAULT;
}

static int vmq_env_read_desc(struct vmq_chain_env *env, u32 i,
			     struct vmq_desc *desc)
{
	struct vring_desc __user *table = env->vq->ring[VMQ_RING_DESC];
	struct vring_desc raw;

	env->descs++;
	if (env->have_first) {
		/* the walk starts where vmq_packed_take() read */
		env->have_first = false;
		*desc = env->first;
		return VMQ_CHAIN_OK;
	}
	if (!vmq_ring_scattered(env->vq, VMQ_RING_DESC))
		return vmq_read_user_desc(table + i, desc, env->packed);
	if (vmq_pieces_access(env->vq, VMQ_RING_DESC, i * sizeof(raw), &raw,
			      sizeof(raw), VMQ_PIECES_READ))
		return VMQ_CHAIN_EFAULT;
	vmq_desc_from_ring(desc, &raw, env->packed);
	return VMQ_CHAIN_OK;
}

/*
 * An indirect table is translated once, as a whole (as vhost-net does:
 * a table reaching outside guest memory is refused whatever the chain
 * uses of it), and read in place when it lies in one region; one that
 * spans regions is read entry by entry.
 */
static int vmq_env_read_indirect(struct vmq_chain_env *env,
				 const struct vmq_desc *ind, u32 i,
				 struct vmq_desc *desc)
{
	struct vring_desc raw;
	struct iovec iov[2];
	struct iov_iter iter;
	int n;

	env->descs++;
	/* every walk of a table starts at its entry 0 */
	if (!i) {
		n = vmq_vq_translate(env->vq, ind->addr, ind->len,
				     VHOST_ACCESS_RO, iov, 1);
		if (n < 0 && n != -VMQ_CHAIN_TOO_MANY_SEGS)
			return -n;
		env->ind = n == 1 ? iov[0].iov_base : NULL;
	}
	if (env->ind)
		return vmq_read_user_desc(env->ind + i, desc, env->packed);
	n = vmq_vq_translate(env->vq, ind->addr + (u64)i * sizeof(raw),
			     sizeof(raw), VHOST_ACCESS_RO, iov, ARRAY_SIZE(iov));
	if (n < 0)
		return n == -VMQ_CHAIN_TOO_MANY_SEGS ? VMQ_CHAIN_BAD_ADDR : -n;
	iov_iter_init(&iter, ITER_SOURCE, iov, n, sizeof(raw));
	if (copy_from_iter(&raw, sizeof(raw), &iter) != sizeof(raw))
		return VMQ_CHAIN_EFAULT;
	vmq_desc_from_ring(desc, &raw, env->packed);
	return VMQ_CHAIN_OK;
}

/*
 * Remember a writable buffer for the dirty log: its guest-physical range,
 * or with a device IOTLB its @n iovecs just translated. Entries never
 * outnumber iovecs (UIO_MAXIOV): each buffer took at least one.
 */
static void vmq_env_log_seg(struct vmq_chain_env *env, u64 addr, u32 len,
			    int n)
{
	struct vmq_vq *vq = env->vq;
	struct iovec *iov = vq->iov + env->iov;
	int i;

	if (!vq->iotlb) {
		vq->log[vq->nlog].addr = addr;
		vq->log[vq->nlog].len = len;
		vq->nlog++;
		return;
	}
	for (i = 0; i < n && vq->nlog < UIO_MAXIOV; i++) {
		vq->log[vq->nlog].addr = (unsigned long)iov[i].iov_base;
		vq->log[vq->nlog].len = iov[i].iov_len;
		vq->nlog++;
	}
}

static int vmq_env_add_seg(struct vmq_chain_env *env, u64 addr, u32 len,
			   bool write)
{
	struct vmq_vq *vq = env->vq;
	int n = 1;

	/*
	 * A buffer of length 0 takes an iovec of its own too, so no chain
	 * (and no rx frame) holds more than UIO_MAXIOV descriptors however
	 * short, and its direction counts like any other's.
	 */
	if (!len) {
		if (env->iov == UIO_MAXIOV)
			return VMQ_CHAIN_TOO_MANY_SEGS;
		vq->iov[env->iov].iov_base = NULL;
		vq->iov[env->iov].iov_len = 0;
	} else {
		n = vmq_vq_translate(vq, addr, len,
				     write ? VHOST_ACCESS_WO : VHOST_ACCESS_RO,
				     vq->iov + env->iov, UIO_MAXIOV - env->iov);
		if (n < 0)
			return -n;
	}
	if (write && env->log && len)
		vmq_env_log_seg(env, addr, len, n);
	env->iov += n;
	if (write)
		env->in += n;
	else
		env->out += n;
	return VMQ_CHAIN_OK;
}

#include "desc_chain.h"

/*
 * Read the guest's avail idx. Returns false (queue stopped) if it cannot
 * be read, claims more new entries than the ring holds, or more buffers
 * outstanding than the ring holds: beyond the used idx we published, of
 * which the chains we took and have not returned yet are part.
 */
static bool vmq_vq_read_avail_idx(struct vmq_vq *vq)
{
	u16 idx;

	if (vmq_ring_get16(vq, VMQ_RING_AVAIL, VMQ_AVAIL_IDX, &idx)) {
		vmq_vq_fault(vq, "avail idx unreadable");
		return false;
	}
	if (!vmq_avail_idx_valid(idx, vq->last_avail_idx, vq->num) ||
	    !vmq_avail_idx_valid(idx, vq->last_used_idx, vq->num)) {
		vmq_vq_error(vq, VMQ_CHAIN_AVAIL_IDX);
		return false;
	}
	vq->avail_idx = idx;
	return true;
}

/*
 * The avail ring entry at last_avail_idx, which the guest has published:
 * from the entries read ahead, or read with the ones after it, up to
 * VMQ_AVAIL_AHEAD, the published end or the end of the ring.
 */
static int vmq_vq_avail_head(struct vmq_vq *vq, __virtio16 *head)
{
	u16 off = vq->last_avail_idx - vq->ahead_idx;
	u32 pos, n;

	if (off >= vq->nahead) {
		pos = vq->last_avail_idx & (vq->num - 1);
		n = min3((u32)(u16)(vq->avail_idx - vq->last_avail_idx),
			 vq->num - pos, (u32)VMQ_AVAIL_AHEAD);
		vq->nahead = 0;
		if (vmq_ring_read(vq, VMQ_RING_AVAIL, vmq_avail_entry(pos),
				  vq->ahead, n * sizeof(vq->ahead[0])))
			return -EFAULT;
		vq->ahead_idx = vq->last_avail_idx;
		vq->nahead = n;
		off = 0;
	}
	*head = vq->ahead[off];
	return 0;
}

/*
 * What a walk cost goes on the run's budget, refused or not. Returns 1
 * for a chain, -EAGAIN while waiting for the IOTLB (the chain stays, the
 * vring is not stopped), or -EINVAL after stopping the vring.
 */
static int vmq_vq_walked(struct vmq_vq *vq, struct vmq_chain_env *env,
			 int err)
{
	vq->run_descs += env->descs;
	if (err == VMQ_CHAIN_RETRY)
		return -EAGAIN;
	if (err) {
		vmq_vq_error(vq, err);
		return -EINVAL;
	}
	return 1;
}

/* A split ring's next chain: its head from the avail ring. */
static int vmq_split_take(struct vmq_vq *vq, struct vmq_chain_env *env,
			  struct vmq_chain *found, struct vmq_vq_chain *chain)
{
	__virtio16 raw;
	int r;

	if (vq->avail_idx == vq->last_avail_idx) {
		if (!vmq_vq_read_avail_idx(vq))
			return -EINVAL;
		if (vq->avail_idx == vq->last_avail_idx)
			return 0;
		/*
		 * Read ring entries only after the idx that covers them:
		 * pairs with the guest's write barrier between filling
		 * avail->ring and publishing avail->idx.
		 */
		smp_rmb();
	}
	if (vmq_vq_avail_head(vq, &raw)) {
		vmq_vq_fault(vq, "avail ring unreadable");
		return -EFAULT;
	}
	chain->head = vq16_to_cpu(raw);
	chain->ndescs = 1;
	r = vmq_vq_walked(vq, env, vmq_chain_walk(env, chain->head, vq->num,
						  found));
	if (r > 0)
		vq->last_avail_idx++;
	return r;
}

/*
 * What a packed ring holds at position @pos (enum vmq_packed_state), or
 * -EFAULT after stopping the vring.
 */
static int vmq_packed_peek(struct vmq_vq *vq, u16 pos)
{
	u32 off = vmq_packed_idx(pos) * sizeof(struct vring_packed_desc) +
		  VMQ_PACKED_DESC_FLAGS;
	u16 flags;

	if (vmq_ring_get16(vq, VMQ_RING_DESC, off, &flags)) {
		vmq_vq_fault(vq, "descriptor ring unreadable");
		return -EFAULT;
	}
	return vmq_packed_state(flags, vmq_packed_wrap(pos));
}

/*
 * The descriptor at our next position, whole when it is available: its
 * flags first, then (after a read barrier: pairs with the guest's write
 * barrier before it sets them) the rest, in one user access window.
 * Returns its enum vmq_packed_state, or -EFAULT after stopping the vring.
 */
static int vmq_packed_read_head(struct vmq_vq *vq, struct vmq_desc *desc)
{
	struct vring_packed_desc __user *d = vq->ring[VMQ_RING_DESC];
	u32 i = vmq_packed_idx(vq->last_avail_idx);
	struct vring_packed_desc raw;
	int r;

	if (vmq_ring_scattered(vq, VMQ_RING_DESC)) {
		/* scattered: the flags, then the descriptor piece by piece */
		r = vmq_packed_peek(vq, vq->last_avail_idx);
		if (r != VMQ_PACKED_AVAIL)
			return r;
		/* the descriptor after the flags that made it available */
		smp_rmb();
		if (vmq_pieces_access(vq, VMQ_RING_DESC, i * sizeof(raw), &raw,
				      sizeof(raw), VMQ_PIECES_READ))
			goto fault;
	} else {
		if (!user_access_begin(d + i, sizeof(*d)))
			goto fault;
		unsafe_get_user(raw.flags, &d[i].flags, efault);
		r = vmq_packed_state(le16_to_cpu(raw.flags),
				     vmq_packed_wrap(vq->last_avail_idx));
		if (r != VMQ_PACKED_AVAIL) {
			user_access_end();
			return r;
		}
		/* the descriptor after the flags that made it available */
		smp_rmb();
		unsafe_get_user(raw.addr, &d[i].addr, efault);
		unsafe_get_user(raw.len, &d[i].len, efault);
		unsafe_get_user(raw.id, &d[i].id, efault);
		user_access_end();
	}
	desc->addr = le64_to_cpu(raw.addr);
	desc->len = le32_to_cpu(raw.len);
	desc->flags = le16_to_cpu(raw.flags);
	desc->id = le16_to_cpu(raw.id);
	return VMQ_PACKED_AVAIL;

efault:
	user_access_end();
fault:
	vmq_vq_fault(vq, "descriptor ring unreadable");
	return -EFAULT;
}

/*
 * A packed ring's next chain: from our position on, if its first
 * descriptor is available in this lap. The guest may not make available
 * a slot we still hold (taken, not yet written back used) nor an id it
 * has outstanding with us.
 */
static int vmq_packed_take(struct vmq_vq *vq, struct vmq_chain_env *env,
			   struct vmq_chain *found,
			   struct vmq_vq_chain *chain)
{
	u16 pos = vq->last_avail_idx;
	u32 n = 0;
	int r;

	r = vmq_packed_read_head(vq, &env->first);
	if (r == VMQ_PACKED_EMPTY || r < 0)
		return r;
	if (r == VMQ_PACKED_INCONSISTENT) {
		vmq_vq_error(vq, VMQ_CHAIN_PACKED_FLAGS);
		return -EINVAL;
	}
	env->have_first = true;
	r = vmq_vq_walked(vq, env,
			  vmq_packed_chain_walk(env, vmq_packed_idx(pos),
						vq->num, found, &chain->head,
						&n));
	if (r < 0)
		return r;
	/* the slots from our used position on to the chain's end */
	if (vq->held + n > vq->num) {
		vmq_vq_error(vq, VMQ_CHAIN_AVAIL_IDX);
		return -EINVAL;
	}
	if (test_bit(chain->head, vq->ids)) {
		vmq_vq_error(vq, VMQ_CHAIN_ID_IN_USE);
		return -EINVAL;
	}
	__set_bit(chain->head, vq->ids);
	vq->taken[vq->ntaken] = chain->head | n << 16;
	vq->ntaken = vq->ntaken + 1 == VMQ_HEADS_MAX ? 0 : vq->ntaken + 1;
	chain->ndescs = n;
	vq->held += n;
	vq->last_avail_idx = vmq_packed_add(pos, n, vq->num);
	/* seen up to here, unless chains given back reached further */
	if (pos == vq->avail_idx ||
	    vmq_packed_dist(pos, vq->last_avail_idx, vq->num) >
	    vmq_packed_dist(pos, vq->avail_idx, vq->num))
		vq->avail_idx = vq->last_avail_idx;
	return 1;
}

/*
 * Fetch the next available chain and translate its buffers into
 * vq->iov[iov_first...]. Returns 1 with @chain filled, 0 if the ring is
 * empty, or a negative errno after stopping the queue (-EAGAIN: waiting
 * for the IOTLB, not stopped).
 */
int vmq_vq_next_chain(struct vmq_vq *vq, int iov_first,
		      struct vmq_vq_chain *chain)
{
	struct vmq_chain_env env = {
		.vq = vq,
		.packed = vmq_vq_packed(vq),
		.iov = iov_first,
		.log = vmq_vq_has(vq, VHOST_F_LOG_ALL),
	};
	struct vmq_chain found;
	int r;

	lockdep_assert_held(&vq->mutex);
	/* stopped: not one more chain until the VMM restarts the ring */
	if (unlikely(vq->broken))
		return -EINVAL;
	/* a chain that starts a frame starts its dirty-log record too */
	if (!iov_first)
		vq->nlog = 0;
	if (env.packed)
		r = vmq_packed_take(vq, &env, &found, chain);
	else
		r = vmq_split_take(vq, &env, &found, chain);
	if (r <= 0)
		return r;
	chain->out = env.out;
	chain->in = env.in;
	chain->out_len = found.out_len;
	chain->in_len = found.in_len;
	return 1;
}

/* Give back the last @n chains taken; they will be fetched again. */
void vmq_vq_discard(struct vmq_vq *vq, unsigned int n)
{
	u32 e;

	lockdep_assert_held(&vq->mutex);
	if (!vmq_vq_packed(vq)) {
		vq->last_avail_idx -= n;
		return;
	}
	while (n--) {
		vq->ntaken = (vq->ntaken ?: VMQ_HEADS_MAX) - 1;
		e = vq->taken[vq->ntaken];
		__clear_bit(e & 0xffff, vq->ids);
		vq->held -= e >> 16;
		vq->last_avail_idx = vmq_packed_sub(vq->last_avail_idx,
						    e >> 16, vq->num);
	}
}

/* Has the guest made buffers available that we have not taken? */
bool vmq_vq_avail_empty(struct vmq_vq *vq)
{
	u16 idx;

	lockdep_assert_held(&vq->mutex);
	if (vmq_vq_packed(vq))
		return vmq_packed_peek(vq, vq->last_avail_idx) <=
		       VMQ_PACKED_EMPTY;
	if (vq->avail_idx != vq->last_avail_idx)
		return false;
	if (vmq_ring_get16(vq, VMQ_RING_AVAIL, VMQ_AVAIL_IDX, &idx))
		return true;
	return idx == vq->avail_idx;
}

/* Ask the guest not to kick us while we are draining the ring anyway. */
void vmq_vq_disable_notify(struct vmq_vq *vq)
{
	lockdep_assert_held(&vq->mutex);
	if (vq->used_flags & VRING_USED_F_NO_NOTIFY)
		return;
	vq->used_flags |= VRING_USED_F_NO_NOTIFY;
	/* with EVENT_IDX, not moving avail_event is enough */
	if (!vmq_vq_has(vq, VIRTIO_RING_F_EVENT_IDX) &&
	    vmq_vq_put_used_flags(vq))
		vmq_vq_fault(vq, "used flags unwritable");
}

/*
 * Ask for kicks again. Returns true if buffers came in meanwhile: the
 * caller then disables notification and goes on draining.
 */
bool vmq_vq_enable_notify(struct vmq_vq *vq)
{
	u16 idx;

	lockdep_assert_held(&vq->mutex);
	if (!(vq->used_flags & VRING_USED_F_NO_NOTIFY))
		return false;
	vq->used_flags &= ~VRING_USED_F_NO_NOTIFY;
	if (vmq_vq_packed(vq) || !vmq_vq_has(vq, VIRTIO_RING_F_EVENT_IDX)) {
		if (vmq_vq_put_used_flags(vq)) {
			vmq_vq_fault(vq, "used flags unwritable");
			return false;
		}
	} else {
		u32 event = vmq_used_entry(vq->num);

		if (vmq_ring_put16(vq, VMQ_RING_USED, event, vq->avail_idx)) {
			vmq_vq_fault(vq, "avail event unwritable");
			return false;
		}
		if (vq->log_used) {
			/* event before log */
			smp_wmb();
			if (vmq_vq_log_used(vq, event, sizeof(__virtio16))) {
				vmq_vq_fault(vq, "dirty log unwritable");
				return false;
			}
			vmq_vq_log_signal(vq);
		}
	}
	/*
	 * Our flags/event write must be visible before we look at avail idx
	 * again: pairs with the guest's full barrier between publishing a
	 * new avail idx and reading our flags or avail_event (a packed
	 * ring: between a descriptor's flags and our device area).
	 */
	smp_mb();
	/*
	 * A packed ring: new buffers past those seen (a frame that did not
	 * fit gave back chains, still there: waking for them would spin).
	 */
	if (vmq_vq_packed(vq))
		return vmq_packed_peek(vq, vq->avail_idx) > VMQ_PACKED_EMPTY;
	if (vmq_ring_get16(vq, VMQ_RING_AVAIL, VMQ_AVAIL_IDX, &idx)) {
		vmq_vq_fault(vq, "avail idx unreadable");
		return false;
	}
	return idx != vq->avail_idx;
}

/*
 * The packed ring's rule, from the driver area: never (DISABLE), always
 * (ENABLE, or a value it does not define), or with EVENT_IDX (DESC) when
 * the position it names was among those just written back.
 */
static bool vmq_packed_need_notify(struct vmq_vq *vq)
{
	u16 old = vq->signalled_used, new = vq->last_used_idx, flags;
	bool valid = vq->signalled_used_valid;
	__virtio16 ev[2];

	vq->signalled_used = new;
	vq->signalled_used_valid = true;
	if (vmq_ring_read(vq, VMQ_RING_AVAIL, 0, ev, sizeof(ev))) {
		vmq_vq_fault(vq, "driver event area unreadable");
		return true;
	}
	flags = vq16_to_cpu(ev[1]) & 3;
	if (flags == VMQ_PACKED_EVENT_DISABLE)
		return false;
	if (flags != VMQ_PACKED_EVENT_DESC || !valid ||
	    !vmq_vq_has(vq, VIRTIO_RING_F_EVENT_IDX))
		return true;
	return vmq_packed_need_event(vq16_to_cpu(ev[0]), new, old, vq->num);
}

/* Should the guest be interrupted for what flush published? */
static bool vmq_vq_need_notify(struct vmq_vq *vq)
{
	u16 old, new, v;
	bool valid;

	/*
	 * Used idx before the guest's flags/used_event: pairs with the
	 * guest's barrier between writing used_event and reading used idx.
	 */
	smp_mb();
	if (vmq_vq_packed(vq))
		return vmq_packed_need_notify(vq);
	if (vmq_vq_has(vq, VIRTIO_F_NOTIFY_ON_EMPTY) &&
	    unlikely(vq->avail_idx == vq->last_avail_idx))
		return true;
	if (!vmq_vq_has(vq, VIRTIO_RING_F_EVENT_IDX)) {
		if (vmq_ring_get16(vq, VMQ_RING_AVAIL, VMQ_AVAIL_FLAGS, &v)) {
			vmq_vq_fault(vq, "avail flags unreadable");
			return true;
		}
		return !(v & VRING_AVAIL_F_NO_INTERRUPT);
	}
	old = vq->signalled_used;
	valid = vq->signalled_used_valid;
	new = vq->last_used_idx;
	vq->signalled_used = new;
	vq->signalled_used_valid = true;
	if (unlikely(!valid))
		return true;
	if (vmq_ring_get16(vq, VMQ_RING_AVAIL, vmq_avail_entry(vq->num), &v)) {
		vmq_vq_fault(vq, "used event unreadable");
		return true;
	}
	return vmq_need_event(v, new, old);
}

static void vmq_vq_signal(struct vmq_vq *vq)
{
	if (vq->call_ctx && vmq_vq_need_notify(vq)) {
		eventfd_signal(vq->call_ctx, 1);
		vq->stats.interrupts++;
	}
}

/*
 * Queue a used entry; vmq_vq_flush_used() publishes the batch. A packed
 * ring's entry carries the slots its chain took, above the id.
 */
void vmq_vq_push_head(struct vmq_vq *vq, const struct vmq_vq_chain *chain,
		      u32 len)
{
	u32 id = chain->head;

	lockdep_assert_held(&vq->mutex);
	if (vmq_vq_packed(vq))
		id |= (u32)chain->ndescs << 16;
	vq->heads[vq->nheads].id = cpu_to_vq32(id);
	vq->heads[vq->nheads].len = cpu_to_vq32(len);
	vq->nheads++;
}

/* A write to a packed ring's descriptors, in the dirty log. */
static int vmq_packed_log_desc(struct vmq_vq *vq, u32 off, u32 len)
{
	void __user *desc = vq->ring[VMQ_RING_DESC];

	if (!vmq_ring_scattered(vq, VMQ_RING_DESC))
		return vmq_vq_log_hva(vq, (unsigned long)desc + off, len);
	return vmq_pieces_access(vq, VMQ_RING_DESC, off, NULL, len,
				 VMQ_PIECES_LOG);
}

/* where the used fields of a packed ring's slot at @pos are */
static u32 vmq_packed_used_off(u16 pos)
{
	return vmq_packed_idx(pos) * sizeof(struct vring_packed_desc) +
	       VMQ_PACKED_DESC_LEN;
}

/* what a used entry writes of a slot: len, id, flags */
#define VMQ_PACKED_USED_SIZE	8U

/* The batch of used entries of a scattered ring, entry by entry. */
static int vmq_packed_write_used_pieces(struct vmq_vq *vq, unsigned int n)
{
	u16 pos = vq->last_used_idx;
	struct {
		__virtio32 len;
		__virtio16 id;
		__virtio16 flags;
	} __packed u;
	unsigned int i;
	u32 e;

	for (i = 0; i < n; i++) {
		e = vq32_to_cpu(vq->heads[i].id);
		u.len = vq->heads[i].len;
		u.id = cpu_to_vq16(e & 0xffff);
		u.flags = cpu_to_vq16(vmq_packed_used_flags_at(pos));
		if (vmq_ring_write(vq, VMQ_RING_DESC, vmq_packed_used_off(pos),
				   &u, i ? sizeof(u) : offsetof(typeof(u), flags)))
			return -EFAULT;
		pos = vmq_packed_add(pos, e >> 16, vq->num);
	}
	/* every entry's len and id before the first one's flags */
	smp_wmb();
	pos = vq->last_used_idx;
	return vmq_ring_put16(vq, VMQ_RING_DESC,
			      vmq_packed_used_off(pos) + offsetof(typeof(u), flags),
			      vmq_packed_used_flags_at(pos));
}

/*
 * The batch of used entries, over the first slot of each chain: each
 * one's len, id and (but the first's) flags, then after a write barrier
 * the first one's flags, which publish all of them. In place, in one user
 * access window.
 */
static int vmq_packed_write_used(struct vmq_vq *vq, unsigned int n)
{
	struct vring_packed_desc __user *d = vq->ring[VMQ_RING_DESC];
	u16 pos = vq->last_used_idx;
	unsigned int i;
	__le16 flags;
	u32 e, slot;

	if (vmq_ring_scattered(vq, VMQ_RING_DESC))
		return vmq_packed_write_used_pieces(vq, n);
	if (!user_access_begin(d, vq->num * sizeof(*d)))
		return -EFAULT;
	for (i = 0; i < n; i++) {
		e = vq32_to_cpu(vq->heads[i].id);
		slot = vmq_packed_idx(pos);
		unsafe_put_user(cpu_to_le32(vq32_to_cpu(vq->heads[i].len)),
				&d[slot].len, fault);
		unsafe_put_user(cpu_to_le16(e & 0xffff), &d[slot].id, fault);
		flags = cpu_to_le16(vmq_packed_used_flags_at(pos));
		if (i)
			unsafe_put_user(flags, &d[slot].flags, fault);
		pos = vmq_packed_add(pos, e >> 16, vq->num);
	}
	/* every entry's len and id before the first one's flags */
	smp_wmb();
	pos = vq->last_used_idx;
	flags = cpu_to_le16(vmq_packed_used_flags_at(pos));
	unsafe_put_user(flags, &d[vmq_packed_idx(pos)].flags, fault);
	user_access_end();
	return 0;

fault:
	user_access_end();
	return -EFAULT;
}

/*
 * A packed ring's used entries go over the first slot of each chain: its
 * len, id and flags (the lap's AVAIL and USED). The first entry's flags
 * are written last, after a barrier: the guest reads entries in order
 * from there, so it sees none of the batch until all of it is complete.
 */
static void vmq_packed_publish(struct vmq_vq *vq)
{
	unsigned int n = vq->nheads, i;
	u16 pos, first = vq->last_used_idx;
	u32 e;

	vq->nheads = 0;
	if (vmq_packed_write_used(vq, n))
		goto fault;
	for (i = 0, pos = first; i < n; i++) {
		e = vq32_to_cpu(vq->heads[i].id);
		__clear_bit(e & 0xffff, vq->ids);
		vq->held -= e >> 16;
		pos = vmq_packed_add(pos, e >> 16, vq->num);
	}
	vq->last_used_idx = pos;
	if (vq->log_used) {
		/* entries before log */
		smp_wmb();
		for (i = 0, pos = first; i < n; i++) {
			if (vmq_packed_log_desc(vq, vmq_packed_used_off(pos),
						VMQ_PACKED_USED_SIZE))
				goto log_fault;
			pos = vmq_packed_add(pos,
					     vq32_to_cpu(vq->heads[i].id) >> 16,
					     vq->num);
		}
		vmq_vq_log_signal(vq);
	}
	/* interrupts not asked about had no window: start a new one */
	if (!vq->call_ctx)
		vq->signalled_used_valid = false;
	vmq_vq_signal(vq);
	return;

fault:
	vmq_vq_fault(vq, "descriptor ring unwritable");
	return;
log_fault:
	vmq_vq_fault(vq, "dirty log unwritable");
}

static int vmq_vq_write_used(struct vmq_vq *vq, u32 start,
			     struct vring_used_elem *heads, unsigned int n)
{
	u32 off = vmq_used_entry(start), len = n * sizeof(*heads);

	if (vmq_ring_write(vq, VMQ_RING_USED, off, heads, len))
		return -EFAULT;
	return vmq_vq_log_used(vq, off, len);
}

/* Publish the queued used entries and interrupt the guest if it asks. */
static void vmq_vq_publish(struct vmq_vq *vq)
{
	unsigned int n = vq->nheads, done, piece;
	u16 old = vq->last_used_idx, new = old + n;
	u32 start;

	if (vmq_vq_packed(vq)) {
		vmq_packed_publish(vq);
		return;
	}
	vq->nheads = 0;
	/*
	 * In pieces that each end at the ring's end at the latest: never a
	 * byte past it, however many entries there are (vmq_vq_next_chain()
	 * keeps them to num, unless the VMM left the used idx ahead of the
	 * base: then they wrap onto the ring's own entries).
	 */
	for (done = 0; done < n; done += piece) {
		start = (u16)(old + done) & (vq->num - 1);
		piece = min(n - done, vq->num - start);
		if (vmq_vq_write_used(vq, start, vq->heads + done, piece))
			goto fault;
	}
	vq->last_used_idx = new;
	/*
	 * Entries before the idx that publishes them: pairs with the guest's
	 * read barrier after it reads used->idx.
	 */
	smp_wmb();
	if (vmq_ring_put16(vq, VMQ_RING_USED, VMQ_USED_IDX, new))
		goto fault;
	if (vq->log_used) {
		/* idx before log */
		smp_wmb();
		if (vmq_vq_log_used(vq, VMQ_USED_IDX, sizeof(__virtio16)))
			goto log_fault;
		vmq_vq_log_signal(vq);
	}
	/* signalled_used fell out of the window if the idx wrapped past it */
	if (unlikely((u16)(new - vq->signalled_used) < (u16)(new - old)))
		vq->signalled_used_valid = false;
	vmq_vq_signal(vq);
	return;

fault:
	vmq_vq_fault(vq, "used ring unwritable");
	return;
log_fault:
	vmq_vq_fault(vq, "dirty log unwritable");
}

/*
 * Publish what the handler finished, then, if the vring stopped during
 * this run, tell the VMM: the error eventfd is the last thing it does.
 */
void vmq_vq_flush_used(struct vmq_vq *vq)
{
	lockdep_assert_held(&vq->mutex);
	if (vq->nheads)
		vmq_vq_publish(vq);
	if (unlikely(vq->error_pending)) {
		vq->error_pending = false;
		if (vq->error_ctx)
			eventfd_signal(vq->error_ctx, 1);
	}
}

/*
 * Mark the first @len bytes of the logged in-buffers dirty. On failure the
 * vring is stopped and the caller undoes the buffers: a write the VMM
 * cannot see in its log must not reach the guest's used ring.
 */
int vmq_vq_log_written(struct vmq_vq *vq, u64 len)
{
	unsigned int i;
	u64 l;

	lockdep_assert_held(&vq->mutex);
	/* data before log: pairs with the VMM's read of the log */
	smp_wmb();
	for (i = 0; i < vq->nlog && len; i++) {
		l = min(vq->log[i].len, len);
		if (vq->iotlb ? vmq_vq_log_hva(vq, vq->log[i].addr, l) :
				vmq_log_write(vq->log_base, vq->log[i].addr, l)) {
			vmq_vq_fault(vq, "dirty log unwritable");
			return -EFAULT;
		}
		len -= l;
	}
	vmq_vq_log_signal(vq);
	return 0;
}

static long vmq_vq_set_num(struct vmq_vq *vq, void __user *argp)
{
	struct vhost_vring_state s;

	/* resizing under an attached backend: vhost-net says EBUSY */
	if (vq->backend)
		return -EBUSY;
	if (copy_from_user(&s, argp, sizeof(s)))
		return -EFAULT;
	/* vhost-net's bounds: any power of two up to 0xffff */
	if (!s.num || s.num > 0xffff || (s.num & (s.num - 1)))
		return -EINVAL;
	vq->num = s.num;
	/* the translated ring areas were of the old size */
	vq->rings_mapped = false;
	return 0;
}

static bool vmq_addr_fits(u64 addr)
{
	return (u64)(unsigned long)addr == addr;
}

static long vmq_vq_set_addr(struct vmq_vq *vq, void __user *argp)
{
	struct vhost_vring_addr a;
	bool log;

	if (copy_from_user(&a, argp, sizeof(a)))
		return -EFAULT;
	if (a.flags & ~(1U << VHOST_VRING_F_LOG))
		return -EOPNOTSUPP;
	if (!vmq_addr_fits(a.desc_user_addr) ||
	    !vmq_addr_fits(a.used_user_addr) ||
	    !vmq_addr_fits(a.avail_user_addr))
		return -EFAULT;
	if ((a.avail_user_addr & (VRING_AVAIL_ALIGN_SIZE - 1)) ||
	    (a.used_user_addr & (VRING_USED_ALIGN_SIZE - 1)) ||
	    (a.log_guest_addr & (VRING_USED_ALIGN_SIZE - 1)))
		return -EINVAL;
	log = a.flags & (1U << VHOST_VRING_F_LOG);
	/* checked now only if a backend is on; else when one attaches */
	if (vq->backend) {
		if (!vmq_ring_access_ok(vq, vq->num,
					u64_to_user_ptr(a.desc_user_addr),
					u64_to_user_ptr(a.avail_user_addr),
					u64_to_user_ptr(a.used_user_addr)))
			return -EINVAL;
		if (log && !vmq_log_access_ok(vq->log_base, a.log_guest_addr,
					      vmq_vq_used_size(vq, vq->num)))
			return -EINVAL;
	}
	vq->log_used = log;
	vq->nahead = 0;
	vq->desc_addr = a.desc_user_addr;
	vq->avail_addr = a.avail_user_addr;
	vq->used_addr = a.used_user_addr;
	vmq_vq_reset_rings(vq);
	vq->log_addr = a.log_guest_addr;
	return 0;
}

static long vmq_vq_set_base(struct vmq_vq *vq, void __user *argp)
{
	struct vhost_vring_state s;

	if (vq->backend)
		return -EBUSY;
	if (copy_from_user(&s, argp, sizeof(s)))
		return -EFAULT;
	/*
	 * A packed ring's base is both positions, as QEMU 7.2 encodes them:
	 * avail in bits 0-15, used in bits 16-31 (each an index and its wrap
	 * counter in bit 15), checked against the ring when it attaches.
	 */
	if (vmq_vq_packed(vq))
		vq->last_used_idx = s.num >> 16;
	else if (s.num > 0xffff)
		return -EINVAL;
	vq->last_avail_idx = s.num;
	vq->avail_idx = s.num;
	vq->nahead = 0;
	/* the VMM restarts the ring: a guest error no longer holds it */
	vq->broken = false;
	return 0;
}

static long vmq_vq_get_base(struct vmq_vq *vq, void __user *argp)
{
	struct vhost_vring_state s = {
		.index = vq->index,
		.num = vq->last_avail_idx,
	};

	if (vmq_vq_packed(vq))
		s.num |= (u32)vq->last_used_idx << 16;

	return copy_to_user(argp, &s, sizeof(s)) ? -EFAULT : 0;
}

static long vmq_vq_set_kick(struct vmq_vq *vq, void __user *argp)
{
	struct vhost_vring_file f;
	struct file *file;

	if (copy_from_user(&f, argp, sizeof(f)))
		return -EFAULT;
	file = f.fd == VHOST_FILE_UNBIND ? NULL : eventfd_fget(f.fd);
	if (IS_ERR(file))
		return PTR_ERR(file);
	if (file == vq->kick) {
		if (file)
			fput(file);
		return 0;
	}
	if (vq->kick) {
		vmq_poll_stop(&vq->poll);
		fput(vq->kick);
	}
	vq->kick = file;
	return file ? vmq_poll_start(&vq->poll, file) : 0;
}

static long vmq_vq_set_ctx(struct eventfd_ctx **slot, void __user *argp)
{
	struct vhost_vring_file f;
	struct eventfd_ctx *ctx;

	if (copy_from_user(&f, argp, sizeof(f)))
		return -EFAULT;
	ctx = f.fd == VHOST_FILE_UNBIND ? NULL : eventfd_ctx_fdget(f.fd);
	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	swap(ctx, *slot);
	if (ctx)
		eventfd_ctx_put(ctx);
	return 0;
}

static long vmq_vq_busyloop(struct vmq_vq *vq, unsigned int cmd,
			    void __user *argp)
{
	struct vhost_vring_state s;

	if (cmd == VHOST_SET_VRING_BUSYLOOP_TIMEOUT) {
		if (copy_from_user(&s, argp, sizeof(s)))
			return -EFAULT;
		vq->busyloop_timeout = s.num;
		return 0;
	}
	s.index = vq->index;
	s.num = vq->busyloop_timeout;
	return copy_to_user(argp, &s, sizeof(s)) ? -EFAULT : 0;
}

/*
 * The per-vring ioctls, under vq->mutex, with vhost-net's errno for each
 * failure. The caller has checked ownership and the index.
 */
long vmq_vq_ioctl(struct vmq_vq *vq, unsigned int cmd, void __user *argp)
{
	long ret;

	mutex_lock(&vq->mutex);
	switch (cmd) {
	case VHOST_SET_VRING_NUM:
		ret = vmq_vq_set_num(vq, argp);
		break;
	case VHOST_SET_VRING_ADDR:
		ret = vmq_vq_set_addr(vq, argp);
		break;
	case VHOST_SET_VRING_BASE:
		ret = vmq_vq_set_base(vq, argp);
		break;
	case VHOST_GET_VRING_BASE:
		ret = vmq_vq_get_base(vq, argp);
		break;
	case VHOST_SET_VRING_KICK:
		ret = vmq_vq_set_kick(vq, argp);
		break;
	case VHOST_SET_VRING_CALL:
		ret = vmq_vq_set_ctx(&vq->call_ctx, argp);
		break;
	case VHOST_SET_VRING_ERR:
		ret = vmq_vq_set_ctx(&vq->error_ctx, argp);
		/* an eventfd set after the stop hears of it too */
		if (!ret && vq->broken && vq->error_ctx)
			eventfd_signal(vq->error_ctx, 1);
		break;
	case VHOST_SET_VRING_BUSYLOOP_TIMEOUT:
	case VHOST_GET_VRING_BUSYLOOP_TIMEOUT:
		ret = vmq_vq_busyloop(vq, cmd, argp);
		break;
	default:
		ret = -ENOIOCTLCMD;
	}
	mutex_unlock(&vq->mutex);
	return ret;
}
