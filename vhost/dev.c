// SPDX-License-Identifier: GPL-2.0
/*
 * dev.c - ioctl dispatch and ownership of one /dev/vhost-mq file, and the
 * device-wide state: memory table, dirty log, features.
 *
 * The errno of every path follows Linux 6.1's vhost-net, including its
 * quirks: feature ioctls need no owner; any other ioctl from a task that
 * does not share the owner's mm fails with EPERM; an ioctl nobody knows is
 * treated as a vring ioctl, so its argument's first u32 is read as a vring
 * index (EFAULT if unreadable, ENOBUFS if out of range) before it ends in
 * ENOTTY.
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
		 "Most queue pairs one fd may serve in device mode (default 16, at most 64)");

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
	vmq_iotlb_init(&dev->iotlb);
	dev->npairs = VMQ_COMPAT_PAIRS;
	dev->nvqs = 2 * dev->npairs;
	for (i = 0; i < dev->npairs; i++)
		vmq_pair_init(&dev->pairs[i], i, dev->npairs);
	vmq_ctrl_init(dev);
	dev->active_pairs = 1;
	return dev;
}

/*
 * Detach every backend, stop the workers and let go of the owner: the
 * device is as freshly opened. The order matters: no poll may queue work
 * once its worker is gone, and no handler may run once its socket is.
 */
static void vmq_dev_drop_owner(struct vmq_dev *dev)
{
	struct vmq_net_vq *nvq;
	unsigned int i;

	lockdep_assert_held(&dev->mutex);
	if (!dev->mm)
		return;
	/*
	 * Every pair first: with queue folding a worker may serve another
	 * pair's tap queue, so no socket goes before every worker is idle.
	 */
	vmq_ctrl_stop(dev);
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
	mmput(dev->mm);
	dev->mm = NULL;
	dev->acked_features = 0;
	dev->backend_features = 0;
	dev->iotlb.v2 = false;
	mutex_lock(&dev->cvq.mutex);
	dev->active_pairs = 1;
	dev->pair_changes = 0;
	mutex_unlock(&dev->cvq.mutex);
}

void vmq_dev_free(struct vmq_dev *dev)
{
	mutex_lock(&dev->mutex);
	vmq_dev_drop_owner(dev);
	/* ACCESS_PLATFORM may have been acked by a file never owned */
	vmq_iotlb_enable(&dev->iotlb, false);
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

void vmq_dev_flush(struct vmq_dev *dev)
{
	unsigned int i;

	for (i = 0; i < dev->npairs; i++)
		vmq_worker_flush(dev->pairs[i].worker);
}

/* Workers and scratch buffers for every pair; undone on failure. */
static int vmq_dev_start_pairs(struct vmq_dev *dev, struct mm_struct *mm)
{
	struct vmq_worker *worker;
	unsigned int i;
	int err = 0;

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
	dev->cvq.poll.worker = dev->pairs[0].worker;
	mutex_lock(&dev->cvq.mutex);
	vmq_ctrl_set_active(dev, 1, true);
	mutex_unlock(&dev->cvq.mutex);
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

static long vmq_set_owner(struct vmq_dev *dev)
{
	struct mm_struct *mm;
	long ret;

	mutex_lock(&dev->mutex);
	if (dev->mm) {
		ret = -EBUSY;
		goto out_unlock;
	}
	mm = get_task_mm(current);
	if (!mm) {
		ret = -EINVAL;
		goto out_unlock;
	}
	ret = vmq_dev_start_pairs(dev, mm);
	if (ret) {
		mmput(mm);
		goto out_unlock;
	}
	dev->mm = mm;
out_unlock:
	mutex_unlock(&dev->mutex);
	return ret;
}

static long vmq_reset_owner(struct vmq_dev *dev)
{
	long ret;

	mutex_lock(&dev->mutex);
	ret = vmq_dev_check_owner(dev);
	if (!ret)
		vmq_dev_drop_owner(dev);
	mutex_unlock(&dev->mutex);
	return ret;
}

static long vmq_put_u64(void __user *argp, u64 val)
{
	return copy_to_user(argp, &val, sizeof(val)) ? -EFAULT : 0;
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

/* What VHOST_GET_FEATURES offers: the control vq only in device mode. */
static u64 vmq_dev_features(struct vmq_dev *dev)
{
	return VHOST_MQ_FEATURES |
	       (READ_ONCE(dev->device_mode) ? VHOST_MQ_DEVICE_FEATURES : 0);
}

/* Point every vring at @io, or at none; dev->mutex held. */
static void vmq_dev_point_iotlb(struct vmq_dev *dev, struct vmq_iotlb *io)
{
	unsigned int i;

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

static long vmq_set_features(struct vmq_dev *dev, void __user *argp)
{
	u64 features;
	unsigned int i;
	long ret = 0;

	if (copy_from_user(&features, argp, sizeof(features)))
		return -EFAULT;
	mutex_lock(&dev->mutex);
	if (features & ~vmq_dev_features(dev)) {
		ret = -EOPNOTSUPP;
		goto out;
	}
	/* the spec's rule: MQ is meaningless without the control vq */
	if ((features & (1ULL << VIRTIO_NET_F_MQ)) &&
	    !(features & (1ULL << VIRTIO_NET_F_CTRL_VQ))) {
		ret = -EINVAL;
		goto out;
	}
	if ((features & (1ULL << VHOST_F_LOG_ALL)) &&
	    !vmq_dev_mem_ok(dev, dev->mem, true)) {
		ret = -EFAULT;
		goto out;
	}
	/* vhost-net's errno when it cannot make the IOTLB */
	if (vmq_dev_set_iotlb(dev, features &
			      (1ULL << VIRTIO_F_ACCESS_PLATFORM))) {
		ret = -EFAULT;
		goto out;
	}
	dev->acked_features = features;
	for (i = 0; i < dev->npairs; i++)
		vmq_pair_set_features(&dev->pairs[i], features);
	mutex_lock(&dev->cvq.mutex);
	dev->cvq.features = features;
	mutex_unlock(&dev->cvq.mutex);
out:
	mutex_unlock(&dev->mutex);
	return ret;
}

static long vmq_set_backend_features(struct vmq_dev *dev, void __user *argp)
{
	u64 features;

	if (copy_from_user(&features, argp, sizeof(features)))
		return -EFAULT;
	if (features & ~VHOST_MQ_BACKEND_FEATURES)
		return -EOPNOTSUPP;
	mutex_lock(&dev->mutex);
	dev->backend_features = features;
	spin_lock(&dev->iotlb.lock);
	dev->iotlb.v2 = features & (1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2);
	spin_unlock(&dev->iotlb.lock);
	mutex_unlock(&dev->mutex);
	return 0;
}

static long vmq_set_mem_table(struct vmq_dev *dev, void __user *argp)
{
	struct vmq_mem *mem;
	unsigned int i;
	long ret;

	ret = vmq_mem_from_user(argp, &mem);
	if (ret)
		return ret;
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
	return 0;
}

static long vmq_set_log_base(struct vmq_dev *dev, void __user *argp)
{
	void __user *base;
	unsigned int i;
	long ret = 0;
	u64 p;

	if (copy_from_user(&p, argp, sizeof(p)))
		return -EFAULT;
	if ((u64)(unsigned long)p != p)
		return -EFAULT;
	base = u64_to_user_ptr(p);
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
	return ret;
}

static long vmq_set_log_fd(struct vmq_dev *dev, void __user *argp)
{
	struct eventfd_ctx *ctx;
	unsigned int i;
	int fd;

	if (get_user(fd, (int __user *)argp))
		return -EFAULT;
	ctx = fd == VHOST_FILE_UNBIND ? NULL : eventfd_ctx_fdget(fd);
	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	swap(ctx, dev->log_ctx);
	for (i = 0; i < dev->nvqs; i++) {
		struct vmq_vq *vq = vmq_dev_vq(dev, i);

		mutex_lock(&vq->mutex);
		vq->log_ctx = dev->log_ctx;
		mutex_unlock(&vq->mutex);
	}
	if (ctx)
		eventfd_ctx_put(ctx);
	return 0;
}

/* Per-vring ioctls: the first u32 of the argument names the vring. */
static long vmq_vring_ioctl(struct vmq_dev *dev, unsigned int cmd,
			    void __user *argp)
{
	long ret;
	u32 idx;

	lockdep_assert_held(&dev->mutex);
	if (get_user(idx, (u32 __user *)argp))
		return -EFAULT;
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

/* Everything but the feature, owner and backend ioctls. */
static long vmq_owned_ioctl(struct vmq_dev *dev, unsigned int cmd,
			    void __user *argp)
{
	long ret;

	mutex_lock(&dev->mutex);
	ret = vmq_dev_check_owner(dev);
	if (ret)
		goto out;
	switch (cmd) {
	case VHOST_SET_MEM_TABLE:
		ret = vmq_set_mem_table(dev, argp);
		break;
	case VHOST_SET_LOG_BASE:
		ret = vmq_set_log_base(dev, argp);
		break;
	case VHOST_SET_LOG_FD:
		ret = vmq_set_log_fd(dev, argp);
		break;
	default:
		ret = vmq_vring_ioctl(dev, cmd, argp);
		goto out;
	}
	vmq_dev_flush(dev);
out:
	mutex_unlock(&dev->mutex);
	return ret;
}

/*
 * VHOST_MQ_SET_PAIRS: device mode with N pairs. Only while unowned, so no
 * worker, poll or backend refers to the pairs being replaced.
 */
static long vmq_set_pairs(struct vmq_dev *dev, void __user *argp)
{
	struct vmq_pair *pairs;
	unsigned int i;
	long ret = 0;
	u32 n;

	if (get_user(n, (u32 __user *)argp))
		return -EFAULT;
	if (!n || n > min_t(unsigned int, vmq_max_queue_pairs, VMQ_PAIRS_MAX))
		return -EINVAL;
	/* 16 pairs take an order-6 block: no need for it to be contiguous */
	pairs = kvcalloc(n, sizeof(*pairs), GFP_KERNEL_ACCOUNT);
	if (!pairs)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		vmq_pair_init(&pairs[i], i, n);
	mutex_lock(&dev->mutex);
	if (dev->mm) {
		ret = -EBUSY;
		goto out;
	}
	swap(pairs, dev->pairs);
	dev->npairs = n;
	dev->nvqs = 2 * n + 1;
	/* the cvq is unused until now: no lock but the device's needed */
	dev->cvq.index = 2 * n;
	WRITE_ONCE(dev->device_mode, true);
	/* features may have been set already: they hold for the new pairs */
	for (i = 0; i < n; i++)
		vmq_pair_set_features(&dev->pairs[i], dev->acked_features);
	vmq_dev_point_iotlb(dev, dev->iotlb.tlb ? &dev->iotlb : NULL);
out:
	mutex_unlock(&dev->mutex);
	kvfree(pairs);
	return ret;
}

/* VHOST_MQ_GET_VRING_STATS: a consistent snapshot, under the vq mutex. */
static long vmq_get_vring_stats(struct vmq_dev *dev, void __user *argp)
{
	struct vhost_mq_vring_stats st;
	struct vmq_vq *vq;
	long ret = 0;

	BUILD_BUG_ON((int)VMQ_CHAIN_NR_ERRORS > (int)VHOST_MQ_CHAIN_ERROR_MAX);
	BUILD_BUG_ON((int)VMQ_CHAIN_CTRL_NO_ACK !=
		     (int)VHOST_MQ_CHAIN_CTRL_NO_ACK);
	BUILD_BUG_ON((int)VMQ_CHAIN_MEM_FAULT !=
		     (int)VHOST_MQ_CHAIN_MEM_FAULT);
	BUILD_BUG_ON((int)VMQ_CHAIN_IOTLB_PERM !=
		     (int)VHOST_MQ_CHAIN_IOTLB_PERM);
	if (copy_from_user(&st, argp, sizeof(st)))
		return -EFAULT;
	if (st.padding)
		return -EINVAL;
	mutex_lock(&dev->mutex);
	if (st.index >= dev->nvqs) {
		ret = -ENOBUFS;
		goto out;
	}
	vq = vmq_dev_vq(dev, array_index_nospec(st.index, dev->nvqs));
	memset_startat(&st, 0, packets);
	mutex_lock(&vq->mutex);
	st.packets = vq->stats.packets;
	st.bytes = vq->stats.bytes;
	st.kicks = vq->stats.kicks;
	st.interrupts = vq->stats.interrupts;
	st.wakeups = vq->stats.wakeups;
	st.errors = vq->stats.errors;
	st.folded = vq->stats.folded;
	st.iotlb_misses = vq->stats.iotlb_misses;
	memcpy(st.drops, vq->stats.drops, sizeof(vq->stats.drops));
	memcpy(st.chain_errors, vq->stats.chain_errors,
	       sizeof(vq->stats.chain_errors));
	mutex_unlock(&vq->mutex);
	if (copy_to_user(argp, &st, sizeof(st)))
		ret = -EFAULT;
out:
	mutex_unlock(&dev->mutex);
	return ret;
}

/* The pair's worker, or an ERR_PTR; the caller holds dev->mutex. */
static struct vmq_worker *vmq_dev_worker(struct vmq_dev *dev, u32 pair)
{
	lockdep_assert_held(&dev->mutex);
	if (!dev->mm)
		return ERR_PTR(-EPERM);
	if (pair >= dev->npairs)
		return ERR_PTR(-ENOBUFS);
	return dev->pairs[array_index_nospec(pair, dev->npairs)].worker;
}

static long vmq_get_worker(struct vmq_dev *dev, void __user *argp)
{
	struct vhost_mq_worker w;
	struct vmq_worker *worker;
	long ret = 0;

	if (copy_from_user(&w, argp, sizeof(w)))
		return -EFAULT;
	mutex_lock(&dev->mutex);
	worker = vmq_dev_worker(dev, w.pair);
	if (IS_ERR(worker)) {
		ret = PTR_ERR(worker);
		goto out;
	}
	/*
	 * In the caller's pid namespace. The worker is a kthread of the
	 * initial namespace (6.1 has no user worker a module could fork from
	 * the owner), so a VMM in a namespace of its own cannot see it at
	 * all: ESRCH rather than a tid of 0. Pinning it still works.
	 */
	w.tid = task_pid_vnr(worker->task);
	if (!w.tid) {
		ret = -ESRCH;
		goto out;
	}
	if (copy_to_user(argp, &w, sizeof(w)))
		ret = -EFAULT;
out:
	mutex_unlock(&dev->mutex);
	return ret;
}

static long vmq_set_worker_affinity(struct vmq_dev *dev, void __user *argp)
{
	struct vhost_mq_worker_affinity a;
	struct vmq_worker *worker;
	cpumask_var_t mask;
	long ret;

	if (copy_from_user(&a, argp, sizeof(a)))
		return -EFAULT;
	if (!zalloc_cpumask_var(&mask, GFP_KERNEL))
		return -ENOMEM;
	if (copy_from_user(mask, u64_to_user_ptr(a.mask),
			   min_t(u32, a.size, cpumask_size()))) {
		ret = -EFAULT;
		goto out_free;
	}
	mutex_lock(&dev->mutex);
	ret = vmq_dev_check_owner(dev);
	if (ret)
		goto out;
	worker = vmq_dev_worker(dev, a.pair);
	if (IS_ERR(worker)) {
		ret = PTR_ERR(worker);
		goto out;
	}
	/*
	 * Nowhere the caller could not run itself: its mask is bounded by
	 * its cpuset, as the worker's (the worker joined the owner's cgroups)
	 * should be. The cpuset's own mask is not exported to modules
	 * (cpuset_cpus_allowed()), the caller's is as close as it gets.
	 */
	if (!cpumask_and(mask, mask, &current->cpus_mask)) {
		ret = -EINVAL;
		goto out;
	}
	ret = set_cpus_allowed_ptr(worker->task, mask);
out:
	mutex_unlock(&dev->mutex);
out_free:
	free_cpumask_var(mask);
	return ret;
}

static long vmq_get_active(struct vmq_dev *dev, void __user *argp)
{
	struct vhost_mq_active a;

	mutex_lock(&dev->mutex);
	mutex_lock(&dev->cvq.mutex);
	a.pairs = dev->npairs;
	a.active = dev->active_pairs;
	a.changes = dev->pair_changes;
	mutex_unlock(&dev->cvq.mutex);
	mutex_unlock(&dev->mutex);
	return copy_to_user(argp, &a, sizeof(a)) ? -EFAULT : 0;
}

static long vmq_set_active(struct vmq_dev *dev, void __user *argp)
{
	long ret;
	u32 n;

	if (get_user(n, (u32 __user *)argp))
		return -EFAULT;
	mutex_lock(&dev->mutex);
	ret = vmq_dev_check_owner(dev);
	if (ret)
		goto out;
	if (!n || n > dev->npairs) {
		ret = -EINVAL;
		goto out;
	}
	mutex_lock(&dev->cvq.mutex);
	vmq_ctrl_set_active(dev, n, false);
	mutex_unlock(&dev->cvq.mutex);
out:
	mutex_unlock(&dev->mutex);
	return ret;
}

static long vmq_get_pair(struct vmq_dev *dev, void __user *argp)
{
	struct vhost_mq_pair p;
	struct vmq_net_vq *nvq;
	long ret = 0;
	int i;

	if (copy_from_user(&p, argp, sizeof(p)))
		return -EFAULT;
	mutex_lock(&dev->mutex);
	if (p.pair >= dev->npairs) {
		ret = -ENOBUFS;
		goto out;
	}
	p.pair = array_index_nospec(p.pair, dev->npairs);
	p.flags = 0;
	p.padding = 0;
	for (i = 0; i < 2; i++) {
		nvq = &dev->pairs[p.pair].nvq[i];
		mutex_lock(&nvq->vq.mutex);
		if (i == VMQ_VQ_RX) {
			p.target = nvq->target;
			if (nvq->target == p.pair)
				p.flags |= VHOST_MQ_PAIR_ACTIVE;
		}
		if (nvq->vq.backend)
			p.flags |= i == VMQ_VQ_RX ? VHOST_MQ_PAIR_RX_ATTACHED :
						    VHOST_MQ_PAIR_TX_ATTACHED;
		if (nvq->vq.broken)
			p.flags |= i == VMQ_VQ_RX ? VHOST_MQ_PAIR_RX_STOPPED :
						    VHOST_MQ_PAIR_TX_STOPPED;
		mutex_unlock(&nvq->vq.mutex);
	}
	if (copy_to_user(argp, &p, sizeof(p)))
		ret = -EFAULT;
out:
	mutex_unlock(&dev->mutex);
	return ret;
}

long vmq_dev_ioctl(struct vmq_dev *dev, unsigned int cmd, void __user *argp)
{
	struct vhost_vring_file backend;

	switch (cmd) {
	case VHOST_NET_SET_BACKEND:
		if (copy_from_user(&backend, argp, sizeof(backend)))
			return -EFAULT;
		return vmq_net_set_backend(dev, backend.index, backend.fd);
	case VHOST_GET_FEATURES:
		return vmq_put_u64(argp, vmq_dev_features(dev));
	case VHOST_SET_FEATURES:
		return vmq_set_features(dev, argp);
	case VHOST_GET_BACKEND_FEATURES:
		return vmq_put_u64(argp, VHOST_MQ_BACKEND_FEATURES);
	case VHOST_SET_BACKEND_FEATURES:
		return vmq_set_backend_features(dev, argp);
	case VHOST_SET_OWNER:
		return vmq_set_owner(dev);
	case VHOST_RESET_OWNER:
		return vmq_reset_owner(dev);
	case VHOST_MQ_GET_VRING_STATS:
		return vmq_get_vring_stats(dev, argp);
	case VHOST_MQ_GET_WORKER:
		return vmq_get_worker(dev, argp);
	case VHOST_MQ_SET_WORKER_AFFINITY:
		return vmq_set_worker_affinity(dev, argp);
	case VHOST_MQ_SET_PAIRS:
		return vmq_set_pairs(dev, argp);
	case VHOST_MQ_GET_ACTIVE:
		return vmq_get_active(dev, argp);
	case VHOST_MQ_SET_ACTIVE:
		return vmq_set_active(dev, argp);
	case VHOST_MQ_GET_PAIR:
		return vmq_get_pair(dev, argp);
	default:
		return vmq_owned_ioctl(dev, cmd, argp);
	}
}
