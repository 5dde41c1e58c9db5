// SPDX-License-Identifier: GPL-2.0
/*
 * dev.c - ioctl dispatch and ownership of one /dev/vhost-mq file.
 *
 * The errno of every path follows Linux 6.1's vhost-net, including its
 * quirks: feature ioctls need no owner; any other ioctl from a task that
 * does not share the owner's mm fails with EPERM; an ioctl nobody knows is
 * treated as a vring ioctl, so its argument's first u32 is read as a vring
 * index (EFAULT if unreadable, ENOBUFS if out of range) before it ends in
 * ENOTTY.
 */
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vhost.h>
#include <uapi/linux/vhost_mq.h>

#include "dev.h"
#include "worker.h"

struct vmq_dev *vmq_dev_alloc(void)
{
	struct vmq_dev *dev;

	dev = kzalloc(sizeof(*dev), GFP_KERNEL_ACCOUNT);
	if (!dev)
		return NULL;
	mutex_init(&dev->mutex);
	dev->nvqs = VMQ_COMPAT_NVQS;
	return dev;
}

/* Stop the worker and let go of the owner's mm. */
static void vmq_dev_drop_owner(struct vmq_dev *dev)
{
	lockdep_assert_held(&dev->mutex);
	if (!dev->mm)
		return;
	vmq_worker_flush(dev->worker);
	vmq_worker_destroy(dev->worker);
	dev->worker = NULL;
	mmput(dev->mm);
	dev->mm = NULL;
	dev->acked_features = 0;
	dev->backend_features = 0;
}

void vmq_dev_free(struct vmq_dev *dev)
{
	mutex_lock(&dev->mutex);
	vmq_dev_drop_owner(dev);
	mutex_unlock(&dev->mutex);
	mutex_destroy(&dev->mutex);
	kfree(dev);
}

static int vmq_check_owner(struct vmq_dev *dev)
{
	lockdep_assert_held(&dev->mutex);
	/* Any thread sharing the owner's mm may act for it, as in vhost. */
	return dev->mm && dev->mm == current->mm ? 0 : -EPERM;
}

static long vmq_set_owner(struct vmq_dev *dev)
{
	struct vmq_worker *worker;
	struct mm_struct *mm;
	long ret = 0;

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
	worker = vmq_worker_create(mm, task_pid_nr(current), 0);
	if (IS_ERR(worker)) {
		ret = PTR_ERR(worker);
		goto out_mmput;
	}
	dev->mm = mm;
	dev->worker = worker;
	mutex_unlock(&dev->mutex);
	return 0;

out_mmput:
	mmput(mm);
out_unlock:
	mutex_unlock(&dev->mutex);
	return ret;
}

static long vmq_reset_owner(struct vmq_dev *dev)
{
	long ret;

	mutex_lock(&dev->mutex);
	ret = vmq_check_owner(dev);
	if (!ret)
		vmq_dev_drop_owner(dev);
	mutex_unlock(&dev->mutex);
	return ret;
}

static long vmq_put_u64(void __user *argp, u64 val)
{
	return copy_to_user(argp, &val, sizeof(val)) ? -EFAULT : 0;
}

static long vmq_set_features(struct vmq_dev *dev, void __user *argp)
{
	u64 features;

	if (copy_from_user(&features, argp, sizeof(features)))
		return -EFAULT;
	if (features & ~VHOST_MQ_FEATURES)
		return -EOPNOTSUPP;
	mutex_lock(&dev->mutex);
	dev->acked_features = features;
	mutex_unlock(&dev->mutex);
	return 0;
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
	mutex_unlock(&dev->mutex);
	return 0;
}

/* Per-vring ioctls: the first u32 of the argument names the vring. */
static long vmq_vring_ioctl(struct vmq_dev *dev, unsigned int cmd,
			    void __user *argp)
{
	u32 idx;

	lockdep_assert_held(&dev->mutex);
	if (get_user(idx, (u32 __user *)argp))
		return -EFAULT;
	if (idx >= dev->nvqs)
		return -ENOBUFS;
	return -ENOIOCTLCMD;
}

/* Everything but the feature and owner ioctls needs the owner. */
static long vmq_owned_ioctl(struct vmq_dev *dev, unsigned int cmd,
			    void __user *argp)
{
	long ret;

	mutex_lock(&dev->mutex);
	ret = vmq_check_owner(dev);
	if (!ret)
		ret = vmq_vring_ioctl(dev, cmd, argp);
	mutex_unlock(&dev->mutex);
	return ret;
}

long vmq_dev_ioctl(struct vmq_dev *dev, unsigned int cmd, void __user *argp)
{
	switch (cmd) {
	case VHOST_GET_FEATURES:
		return vmq_put_u64(argp, VHOST_MQ_FEATURES);
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
	default:
		return vmq_owned_ioctl(dev, cmd, argp);
	}
}
