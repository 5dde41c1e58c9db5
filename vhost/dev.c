// SPDX-License-Identifier: GPL-2.0
/*
 * dev.c - the device core of one /dev/vhost-mq file: its owner and
 * workers, the device-wide state (memory table, dirty log, features, the
 * device IOTLB), the queue pairs and the control vq. The frontends
 * (uapi_*.c) call it with dev->mutex held and check what their uAPI asks
 * of the caller; the errnos here are those both uAPIs share.
 */
#include <linux/eventfd.h>
#include <linux/moduleparam.h>
#include <linux/net.h>
#include <linux/nospec.h>
#include <linux/cpumask.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vhost.h>
#include <linux/virtio_net.h>
#include <uapi/linux/vhost_mq.h>

#include "dev.h"
#include "mem.h"
#include "worker.h"

/* compat mode: one queue pair per file, as vhost-net */
#define VMQ_COMPAT_PAIRS	1

static unsigned int vmq_max_queue_pairs = 16;
module_param_named(max_queue_pairs, vmq_max_queue_pairs, uint, 0444);
MODULE_PARM_DESC(max_queue_pairs,
		 "Most queue pairs one VMM process may have, over all its fds (default 16, at most 64)");

/*
 * Every owned device, so that SET_OWNER can count the pairs its caller's
 * mm holds already: max_queue_pairs bounds the workers one VMM process
 * starts, whether in one fd (device mode) or in one fd a pair (compat
 * mode, as libvirt and QEMU open them). Only the mm's identity is used,
 * and the owner's reference (dev->mm) keeps it alive while listed.
 */
static DEFINE_SPINLOCK(vmq_owners_lock);
static LIST_HEAD(vmq_owners);

/* Most pairs a device, or one owner's devices, may have: the parameter, capped. */
unsigned int vmq_dev_max_pairs(void)
{
	return min_t(unsigned int, vmq_max_queue_pairs, VMQ_PAIRS_MAX);
}

struct vmq_dev *vmq_dev_alloc(void)
{
	struct vmq_dev *dev;
	unsigned int i;

	dev = kzalloc(sizeof(*dev), GFP_KERNEL_ACCOUNT);
	if (!dev)
		return NULL;
	dev->pairs = kvcalloc(VMQ_COMPAT_PAIRS, sizeof(*dev->pairs),
			      GFP_KERNEL_ACCOUNT);
	if (!dev->pairs) {
		kfree(dev);
		return NULL;
	}
	mutex_init(&dev->mutex);
	INIT_LIST_HEAD(&dev->owner_link);
	vmq_iotlb_init(&dev->iotlb);
	dev->npairs = VMQ_COMPAT_PAIRS;
	dev->nvqs = 2 * dev->npairs;
	for (i = 0; i < dev->npairs; i++)
		vmq_pair_init(&dev->pairs[i], i, dev->npairs);
	vmq_ctrl_init(&dev->ctrl);
	vmq_ctrl_set_pairs(&dev->ctrl, dev->pairs, dev->npairs);
	return dev;
}

/*
 * List @dev as owned by @mm unless the pairs @mm holds, with these, would
 * pass max_queue_pairs: then -EUSERS, the device stays unowned and a
 * line in the kernel log names the limit.
 */
static int vmq_dev_list_owner(struct vmq_dev *dev, struct mm_struct *mm)
{
	unsigned int held = 0, max = vmq_dev_max_pairs();
	struct vmq_dev *d;

	lockdep_assert_held(&dev->mutex);
	spin_lock(&vmq_owners_lock);
	list_for_each_entry(d, &vmq_owners, owner_link)
		if (d->mm == mm)
			held += d->npairs;
	if (held + dev->npairs > max) {
		spin_unlock(&vmq_owners_lock);
		pr_warn_ratelimited("vhost-mq: %s[%d] asks for queue pairs %u..%u, past max_queue_pairs=%u\n",
				    current->comm, task_tgid_nr(current),
				    held + 1, held + dev->npairs, max);
		return -EUSERS;
	}
	dev->mm = mm;
	list_add(&dev->owner_link, &vmq_owners);
	spin_unlock(&vmq_owners_lock);
	return 0;
}

/* Undo vmq_dev_list_owner(); the caller puts the mm's reference. */
static void vmq_dev_unlist_owner(struct vmq_dev *dev)
{
	lockdep_assert_held(&dev->mutex);
	spin_lock(&vmq_owners_lock);
	list_del(&dev->owner_link);
	dev->mm = NULL;
	spin_unlock(&vmq_owners_lock);
}

/*
 * Detach every backend, stop the workers and let go of the owner: the
 * device is as freshly opened. The order matters: no poll may queue work
 * once its worker is gone, and no handler may run once its socket is.
 */
static void vmq_dev_drop_owner(struct vmq_dev *dev)
{
	struct mm_struct *mm = dev->mm;
	struct vmq_net_vq *nvq;
	unsigned int i;

	lockdep_assert_held(&dev->mutex);
	if (!mm)
		return;
	/*
	 * Every pair first: with queue folding a worker may serve another
	 * pair's tap queue, so no socket goes before every worker is idle.
	 */
	vmq_ctrl_stop(&dev->ctrl);
	for (i = 0; i < dev->npairs; i++)
		vmq_pair_stop(&dev->pairs[i]);
	vmq_dev_flush(dev);
	for (i = 0; i < dev->npairs; i++)
		vmq_pair_put_socks(&dev->pairs[i]);
	for (i = 0; i < dev->nvqs; i++)
		vmq_vq_reset(vmq_dev_vq(dev, i));
	for (i = 0; i < 2 * dev->npairs; i++) {
		nvq = vmq_dev_nvq(dev, i);
		/* no header at all until features are set again */
		nvq->vhost_hlen = 0;
		nvq->sock_hlen = 0;
	}
	for (i = 0; i < dev->npairs; i++) {
		vmq_worker_destroy(dev->pairs[i].worker);
		vmq_pair_set_worker(&dev->pairs[i], NULL);
	}
	/* the vrings forgot it in vmq_vq_reset(), with their misses */
	vmq_iotlb_enable(&dev->iotlb, false);
	vmq_mem_free(dev->mem);
	dev->mem = NULL;
	if (dev->log_ctx)
		eventfd_ctx_put(dev->log_ctx);
	dev->log_ctx = NULL;
	vmq_dev_unlist_owner(dev);
	mmput(mm);
	dev->acked_features = 0;
	dev->backend_features = 0;
	dev->iotlb.v2 = false;
	mutex_lock(&dev->ctrl.vq.mutex);
	dev->ctrl.active = 1;
	dev->ctrl.changes = 0;
	mutex_unlock(&dev->ctrl.vq.mutex);
}

void vmq_dev_free(struct vmq_dev *dev)
{
	mutex_lock(&dev->mutex);
	vmq_dev_drop_owner(dev);
	/* ACCESS_PLATFORM may have been acked by a file never owned */
	vmq_iotlb_enable(&dev->iotlb, false);
	/* and vhost-vdpa mode sets its (empty) memory table unowned */
	vmq_mem_free(dev->mem);
	dev->mem = NULL;
	mutex_unlock(&dev->mutex);
	mutex_destroy(&dev->mutex);
	kvfree(dev->pairs);
	kfree(dev);
}

int vmq_dev_check_owner(struct vmq_dev *dev)
{
	lockdep_assert_held(&dev->mutex);
	/* Any thread sharing the owner's mm may act for it, as in vhost. */
	return dev->mm && dev->mm == current->mm ? 0 : -EPERM;
}

/* Wait for the work queued so far on every worker; none while unowned. */
void vmq_dev_flush(struct vmq_dev *dev)
{
	unsigned int i;

	lockdep_assert_held(&dev->mutex);
	if (!dev->mm)
		return;
	for (i = 0; i < dev->npairs; i++)
		vmq_worker_flush(dev->pairs[i].worker);
}

/* Workers and scratch buffers for every pair; undone on failure. */
static int vmq_dev_start_pairs(struct vmq_dev *dev, struct mm_struct *mm)
{
	struct vmq_worker *worker;
	unsigned int i;
	int err = 0;

	lockdep_assert_held(&dev->mutex);
	for (i = 0; i < dev->nvqs; i++) {
		err = vmq_vq_alloc_scratch(vmq_dev_vq(dev, i));
		if (err)
			goto undo;
	}
	for (i = 0; i < dev->npairs; i++) {
		worker = vmq_worker_create(mm, task_pid_nr(current), i);
		if (IS_ERR(worker)) {
			err = PTR_ERR(worker);
			goto undo;
		}
		vmq_pair_set_worker(&dev->pairs[i], worker);
	}
	/* the control vq shares pair 0's worker; one pair active (spec) */
	dev->ctrl.vq.poll.worker = dev->pairs[0].worker;
	mutex_lock(&dev->ctrl.vq.mutex);
	vmq_ctrl_set_active(&dev->ctrl, 1, true);
	mutex_unlock(&dev->ctrl.vq.mutex);
	return 0;

undo:
	for (i = 0; i < dev->npairs; i++) {
		vmq_worker_destroy(dev->pairs[i].worker);
		vmq_pair_set_worker(&dev->pairs[i], NULL);
	}
	/*
	 * Only what was made here goes: the features (and so the header
	 * lengths, EVENT_IDX, MRG_RXBUF, LOG_ALL of every vring) were set
	 * before and hold for the SET_OWNER that is tried next.
	 */
	for (i = 0; i < dev->nvqs; i++)
		vmq_vq_free_scratch(vmq_dev_vq(dev, i));
	return err;
}

int vmq_dev_set_owner(struct vmq_dev *dev)
{
	struct mm_struct *mm;
	int ret;

	lockdep_assert_held(&dev->mutex);
	if (dev->mm)
		return -EBUSY;
	mm = get_task_mm(current);
	if (!mm)
		return -EINVAL;
	/* listed (and dev->mm set) first, so that concurrent calls count it */
	ret = vmq_dev_list_owner(dev, mm);
	if (ret)
		goto put;
	ret = vmq_dev_start_pairs(dev, mm);
	if (!ret)
		return 0;
	vmq_dev_unlist_owner(dev);
put:
	mmput(mm);
	return ret;
}

int vmq_dev_reset_owner(struct vmq_dev *dev)
{
	int ret = vmq_dev_check_owner(dev);

	lockdep_assert_held(&dev->mutex);
	if (!ret)
		vmq_dev_drop_owner(dev);
	return ret;
}

/*
 * Would the memory table still be valid for every active ring if @log_all
 * were on? vhost-net asks before LOG_ALL is acked and before a table or
 * log change.
 */
static bool vmq_dev_mem_ok(struct vmq_dev *dev, const struct vmq_mem *mem,
			   bool log_all)
{
	unsigned int i;
	bool ok = true;

	lockdep_assert_held(&dev->mutex);
	for (i = 0; i < dev->nvqs; i++) {
		struct vmq_vq *vq = vmq_dev_vq(dev, i);

		mutex_lock(&vq->mutex);
		if (vq->backend)
			ok = vmq_mem_access_ok(mem, vq->log_base, log_all ||
					       vmq_vq_has(vq, VHOST_F_LOG_ALL));
		mutex_unlock(&vq->mutex);
		if (!ok)
			return false;
	}
	return true;
}

/* Has any vring a backend? (Backends attach under dev->mutex.) */
static bool vmq_dev_running(struct vmq_dev *dev)
{
	unsigned int i;
	bool running = false;

	lockdep_assert_held(&dev->mutex);
	for (i = 0; i < dev->nvqs && !running; i++) {
		struct vmq_vq *vq = vmq_dev_vq(dev, i);

		mutex_lock(&vq->mutex);
		running = !!vq->backend;
		mutex_unlock(&vq->mutex);
	}
	return running;
}

/* What VHOST_GET_FEATURES offers: the control vq only in device mode. */
u64 vmq_dev_features(struct vmq_dev *dev)
{
	return VHOST_MQ_FEATURES |
	       (READ_ONCE(dev->device_mode) ? VHOST_MQ_DEVICE_FEATURES : 0);
}

/* Point every vring at @io, or at none; dev->mutex held. */
static void vmq_dev_point_iotlb(struct vmq_dev *dev, struct vmq_iotlb *io)
{
	unsigned int i;

	lockdep_assert_held(&dev->mutex);
	for (i = 0; i < dev->nvqs; i++) {
		struct vmq_vq *vq = vmq_dev_vq(dev, i);

		mutex_lock(&vq->mutex);
		vmq_vq_set_iotlb(vq, io);
		mutex_unlock(&vq->mutex);
	}
}

/*
 * ACCESS_PLATFORM acked: a new, empty IOTLB, as vhost-net makes at every
 * VHOST_SET_FEATURES with the bit; not acked: none. The vrings stop
 * using the old one before it goes.
 */
static int vmq_dev_set_iotlb(struct vmq_dev *dev, bool on)
{
	int err;

	lockdep_assert_held(&dev->mutex);
	if (on && dev->iotlb_kept && dev->iotlb.tlb)
		return 0;
	if (!on) {
		if (!dev->iotlb.tlb)
			return 0;
		vmq_dev_point_iotlb(dev, NULL);
		return vmq_iotlb_enable(&dev->iotlb, false);
	}
	err = vmq_iotlb_enable(&dev->iotlb, true);
	if (!err)
		vmq_dev_point_iotlb(dev, &dev->iotlb);
	return err;
}

/*
 * EOPNOTSUPP for a bit not offered, EINVAL for MQ without CTRL_VQ, EBUSY
 * for a change of ring layout (RING_PACKED) while a ring runs: a ring
 * keeps the layout it was attached with.
 */
int vmq_dev_set_features(struct vmq_dev *dev, u64 features)
{
	unsigned int i;

	lockdep_assert_held(&dev->mutex);
	if (features & ~vmq_dev_features(dev))
		return -EOPNOTSUPP;
	if (((features ^ dev->acked_features) &
	     (1ULL << VIRTIO_F_RING_PACKED)) && vmq_dev_running(dev))
		return -EBUSY;
	/* the spec's rule: MQ is meaningless without the control vq */
	if ((features & (1ULL << VIRTIO_NET_F_MQ)) &&
	    !(features & (1ULL << VIRTIO_NET_F_CTRL_VQ)))
		return -EINVAL;
	if ((features & (1ULL << VHOST_F_LOG_ALL)) &&
	    !vmq_dev_mem_ok(dev, dev->mem, true))
		return -EFAULT;
	/* vhost-net's errno when it cannot make the IOTLB */
	if (vmq_dev_set_iotlb(dev, features &
			      (1ULL << VIRTIO_F_ACCESS_PLATFORM)))
		return -EFAULT;
	dev->acked_features = features;
	for (i = 0; i < dev->npairs; i++)
		vmq_pair_set_features(&dev->pairs[i], features);
	mutex_lock(&dev->ctrl.vq.mutex);
	dev->ctrl.vq.features = features;
	mutex_unlock(&dev->ctrl.vq.mutex);
	return 0;
}

int vmq_dev_set_backend_features(struct vmq_dev *dev, u64 features)
{
	lockdep_assert_held(&dev->mutex);
	if (features & ~VHOST_MQ_BACKEND_FEATURES)
		return -EOPNOTSUPP;
	dev->backend_features = features;
	spin_lock(&dev->iotlb.lock);
	dev->iotlb.v2 = features & (1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2);
	spin_unlock(&dev->iotlb.lock);
	return 0;
}

/* A new table (consumed, even on failure): EFAULT if a ring falls out. */
int vmq_dev_set_mem(struct vmq_dev *dev, struct vmq_mem *mem)
{
	unsigned int i;

	lockdep_assert_held(&dev->mutex);
	if (!vmq_dev_mem_ok(dev, mem, false)) {
		vmq_mem_free(mem);
		return -EFAULT;
	}
	/* every translation happens under some vq mutex */
	for (i = 0; i < dev->nvqs; i++) {
		struct vmq_vq *vq = vmq_dev_vq(dev, i);

		mutex_lock(&vq->mutex);
		vq->mem = mem;
		mutex_unlock(&vq->mutex);
	}
	vmq_mem_free(dev->mem);
	dev->mem = mem;
	vmq_dev_flush(dev);
	return 0;
}

int vmq_dev_set_log_base(struct vmq_dev *dev, void __user *base)
{
	unsigned int i;
	int ret = 0;

	lockdep_assert_held(&dev->mutex);
	for (i = 0; i < dev->nvqs; i++) {
		struct vmq_vq *vq = vmq_dev_vq(dev, i);

		mutex_lock(&vq->mutex);
		/* an inactive ring is checked when it is attached */
		if (vq->backend && !vmq_vq_log_access_ok(vq, base))
			ret = -EFAULT;
		else
			vq->log_base = base;
		mutex_unlock(&vq->mutex);
	}
	vmq_dev_flush(dev);
	return ret;
}

/* The log eventfd (consumed), or none. */
void vmq_dev_set_log_ctx(struct vmq_dev *dev, struct eventfd_ctx *ctx)
{
	unsigned int i;

	lockdep_assert_held(&dev->mutex);
	swap(ctx, dev->log_ctx);
	for (i = 0; i < dev->nvqs; i++) {
		struct vmq_vq *vq = vmq_dev_vq(dev, i);

		mutex_lock(&vq->mutex);
		vq->log_ctx = dev->log_ctx;
		mutex_unlock(&vq->mutex);
	}
	vmq_dev_flush(dev);
	if (ctx)
		eventfd_ctx_put(ctx);
}

/*
 * A vring ioctl on vring @idx (the first u32 of @argp, read by the
 * caller): ENOBUFS if there is no such vring.
 */
long vmq_dev_vring_ioctl(struct vmq_dev *dev, u32 idx, unsigned int cmd,
			 void __user *argp)
{
	long ret;

	lockdep_assert_held(&dev->mutex);
	if (idx >= dev->nvqs)
		return -ENOBUFS;
	idx = array_index_nospec(idx, dev->nvqs);
	ret = vmq_vq_ioctl(vmq_dev_vq(dev, idx), cmd, argp);
	/* a kick poll may have stopped: let its queued work finish */
	if (cmd == VHOST_SET_VRING_KICK)
		vmq_worker_flush(dev->pairs[idx < 2 * dev->npairs ?
					    idx / 2 : 0].worker);
	return ret;
}

/* Could vring @idx (< nvqs) take a backend now? */
bool vmq_dev_vring_access_ok(struct vmq_dev *dev, u32 idx)
{
	struct vmq_vq *vq;
	bool ok;

	lockdep_assert_held(&dev->mutex);
	vq = vmq_dev_vq(dev, array_index_nospec(idx, dev->nvqs));
	mutex_lock(&vq->mutex);
	ok = vmq_vq_access_ok(vq);
	mutex_unlock(&vq->mutex);
	return ok;
}

static int vmq_dev_attach(struct vmq_dev *dev, u32 idx, struct socket *sock,
			  bool fold_only)
{
	struct socket *old = NULL;
	int r;

	lockdep_assert_held(&dev->mutex);
	if (idx >= 2 * dev->npairs) {
		if (sock)
			sockfd_put(sock);
		return -ENOBUFS;
	}
	r = vmq_nvq_attach(vmq_dev_nvq(dev, array_index_nospec(idx,
							       2 * dev->npairs)),
			   sock, fold_only, &old);
	if (old) {
		/* no handler (of any pair: folding) may still use it */
		vmq_dev_flush(dev);
		sockfd_put(old);
	}
	return r;
}

/*
 * Attach @sock (its reference is consumed), swap it or detach with NULL
 * on data vring @idx; ENOBUFS if there is none.
 */
int vmq_dev_set_sock(struct vmq_dev *dev, u32 idx, struct socket *sock)
{
	return vmq_dev_attach(dev, idx, sock, false);
}

/*
 * The same for the rx vring @idx of an inactive pair whose ring the guest
 * does not have: its tap queue's frames only fold onto an active pair.
 * EINVAL for a tx vring or an active pair's; vmq_dev_set_sock(NULL)
 * detaches it.
 */
int vmq_dev_set_fold_sock(struct vmq_dev *dev, u32 idx, struct socket *sock)
{
	return vmq_dev_attach(dev, idx, sock, true);
}

/* Start or stop the control vq; ENOBUFS if the device has none. */
int vmq_dev_set_ctrl(struct vmq_dev *dev, bool run,
		     struct eventfd_ctx *notify)
{
	lockdep_assert_held(&dev->mutex);
	if (!dev->device_mode) {
		if (notify)
			eventfd_ctx_put(notify);
		return -ENOBUFS;
	}
	return vmq_ctrl_attach(&dev->ctrl, run, notify);
}

/*
 * One device IOTLB message. An INVALIDATE is in force on return: every
 * vring run that may still hold a translation has ended (each holds its
 * vring's mutex, taken here in turn).
 */
int vmq_dev_iotlb_msg(struct vmq_dev *dev, const struct vhost_iotlb_msg *msg)
{
	bool unmapped = false;
	unsigned int i;
	int ret;

	lockdep_assert_held(&dev->mutex);
	ret = vmq_iotlb_process(&dev->iotlb, msg, dev->backend_features &
				(1ULL << VHOST_BACKEND_F_IOTLB_BATCH),
				&unmapped);
	for (i = 0; unmapped && i < dev->nvqs; i++) {
		struct vmq_vq *vq = vmq_dev_vq(dev, i);

		mutex_lock(&vq->mutex);
		mutex_unlock(&vq->mutex);
	}
	return ret;
}

/*
 * Device mode with @n pairs and a control vq. Only while unowned, so no
 * worker, poll or backend refers to the pairs being replaced.
 */
int vmq_dev_set_pairs(struct vmq_dev *dev, unsigned int n)
{
	struct vmq_pair *pairs;
	unsigned int i;

	lockdep_assert_held(&dev->mutex);
	if (!n || n > vmq_dev_max_pairs())
		return -EINVAL;
	if (dev->mm)
		return -EBUSY;
	/* 16 pairs take an order-6 block: no need for it to be contiguous */
	pairs = kvcalloc(n, sizeof(*pairs), GFP_KERNEL_ACCOUNT);
	if (!pairs)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		vmq_pair_init(&pairs[i], i, n);
	swap(pairs, dev->pairs);
	kvfree(pairs);
	dev->npairs = n;
	dev->nvqs = 2 * n + 1;
	/* the cvq is unused until now: no lock but the device's needed */
	vmq_ctrl_set_pairs(&dev->ctrl, dev->pairs, n);
	WRITE_ONCE(dev->device_mode, true);
	/* features may have been set already: they hold for the new pairs */
	for (i = 0; i < n; i++)
		vmq_pair_set_features(&dev->pairs[i], dev->acked_features);
	vmq_dev_point_iotlb(dev, dev->iotlb.tlb ? &dev->iotlb : NULL);
	return 0;
}
