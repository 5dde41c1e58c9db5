// SPDX-License-Identifier: GPL-2.0
/*
 * uapi_mq.c - vhost-mq's own ioctls (uapi/linux/vhost_mq.h), beside
 * whichever frontend the file speaks: device mode, counters, workers,
 * the active pairs.
 */
#include <linux/cpumask.h>
#include <linux/nospec.h>
#include <linux/sched.h>
#include <linux/uaccess.h>
#include <uapi/linux/vhost_mq.h>

#include "dev.h"

/* VHOST_MQ_SET_PAIRS: device mode with N pairs, while unowned. */
static long vmq_set_pairs(struct vmq_dev *dev, void __user *argp)
{
	long ret;
	u32 n;

	if (get_user(n, (u32 __user *)argp))
		return -EFAULT;
	mutex_lock(&dev->mutex);
	/* a vhost-vdpa file has its pairs from VHOST_MQ_SET_VDPA */
	ret = dev->vdpa ? -EBUSY : vmq_dev_set_pairs(dev, n);
	mutex_unlock(&dev->mutex);
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
	BUILD_BUG_ON((int)VMQ_CHAIN_PACKED_FLAGS !=
		     (int)VHOST_MQ_CHAIN_PACKED_FLAGS);
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
	mutex_lock(&dev->ctrl.vq.mutex);
	a.pairs = dev->npairs;
	a.active = dev->ctrl.active;
	a.changes = dev->ctrl.changes;
	mutex_unlock(&dev->ctrl.vq.mutex);
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
	if (!n || n > dev->npairs ||
	    (dev->vdpa && !vmq_vdpa_active_ok(dev, n))) {
		ret = -EINVAL;
		goto out;
	}
	mutex_lock(&dev->ctrl.vq.mutex);
	vmq_ctrl_set_active(&dev->ctrl, n, false);
	mutex_unlock(&dev->ctrl.vq.mutex);
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

/* Ours, or ENOIOCTLCMD: the frontend's then. */
long vmq_mq_ioctl(struct vmq_dev *dev, unsigned int cmd, void __user *argp)
{
	switch (cmd) {
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
	case VHOST_MQ_SET_VDPA:
		return vmq_vdpa_set_mode(dev, argp);
	default:
		return -ENOIOCTLCMD;
	}
}
