// SPDX-License-Identifier: GPL-2.0
/*
 * uapi_net.c - the vhost-net frontend: VHOST_* and VHOST_NET_SET_BACKEND
 * as Linux 6.1's vhost-net answers them, and the device IOTLB's write().
 *
 * The errno of every path follows vhost-net, including its quirks:
 * feature ioctls need no owner; any other ioctl from a task that does not
 * share the owner's mm fails with EPERM; an ioctl nobody knows is treated
 * as a vring ioctl, so its argument's first u32 is read as a vring index
 * (EFAULT if unreadable, ENOBUFS if out of range) before it ends in
 * ENOTTY.
 */
#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/net.h>
#include <linux/uaccess.h>
#include <linux/uio.h>
#include <linux/vhost.h>
#include <uapi/linux/vhost_mq.h>

#include "dev.h"
#include "mem.h"

static long vmq_put_u64(void __user *argp, u64 val)
{
	return copy_to_user(argp, &val, sizeof(val)) ? -EFAULT : 0;
}

/*
 * VHOST_NET_SET_BACKEND: a tap or macvtap queue on a data vring, -1 to
 * detach; on device mode's control vq (2N) an eventfd told of pair
 * changes starts it, -1 stops it.
 */
static long vmq_net_set_backend(struct vmq_dev *dev, void __user *argp)
{
	struct vhost_vring_file f;
	struct eventfd_ctx *ctx = NULL;
	struct socket *sock;
	long r;

	if (copy_from_user(&f, argp, sizeof(f)))
		return -EFAULT;
	mutex_lock(&dev->mutex);
	r = vmq_dev_check_owner(dev);
	if (r)
		goto out;
	if (f.index >= dev->nvqs) {
		r = -ENOBUFS;
		goto out;
	}
	if (!vmq_dev_vring_access_ok(dev, f.index)) {
		r = -EFAULT;
		goto out;
	}
	if (f.index >= 2 * dev->npairs) {
		if (f.fd != -1) {
			ctx = eventfd_ctx_fdget(f.fd);
			if (IS_ERR(ctx)) {
				r = PTR_ERR(ctx);
				goto out;
			}
		}
		r = vmq_dev_set_ctrl(dev, f.fd != -1, ctx);
		goto out;
	}
	sock = vmq_net_get_socket(f.fd);
	if (IS_ERR(sock)) {
		r = PTR_ERR(sock);
		goto out;
	}
	r = vmq_dev_set_sock(dev, f.index, sock);
out:
	mutex_unlock(&dev->mutex);
	return r;
}

static long vmq_net_set_log_base(struct vmq_dev *dev, void __user *argp)
{
	u64 p;

	if (copy_from_user(&p, argp, sizeof(p)))
		return -EFAULT;
	if ((u64)(unsigned long)p != p)
		return -EFAULT;
	return vmq_dev_set_log_base(dev, u64_to_user_ptr(p));
}

/*
 * The eventfd of the fd at @argp, NULL for VHOST_FILE_UNBIND, or an
 * ERR_PTR: EFAULT, or eventfd_ctx_fdget()'s EBADF or EINVAL.
 */
struct eventfd_ctx *vmq_eventfd_from_user(int __user *argp)
{
	int fd;

	if (get_user(fd, argp))
		return ERR_PTR(-EFAULT);
	return fd == VHOST_FILE_UNBIND ? NULL : eventfd_ctx_fdget(fd);
}

static long vmq_net_set_log_fd(struct vmq_dev *dev, void __user *argp)
{
	struct eventfd_ctx *ctx = vmq_eventfd_from_user(argp);

	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	vmq_dev_set_log_ctx(dev, ctx);
	return 0;
}

/* Everything but the feature, owner and backend ioctls. */
static long vmq_net_owned_ioctl(struct vmq_dev *dev, unsigned int cmd,
				void __user *argp)
{
	struct vmq_mem *mem;
	long ret;
	u32 idx;

	mutex_lock(&dev->mutex);
	ret = vmq_dev_check_owner(dev);
	if (ret)
		goto out;
	switch (cmd) {
	case VHOST_SET_MEM_TABLE:
		ret = vmq_mem_from_user(argp, &mem);
		if (!ret)
			ret = vmq_dev_set_mem(dev, mem);
		break;
	case VHOST_SET_LOG_BASE:
		ret = vmq_net_set_log_base(dev, argp);
		break;
	case VHOST_SET_LOG_FD:
		ret = vmq_net_set_log_fd(dev, argp);
		break;
	default:
		/* the first u32 of the argument names the vring */
		if (get_user(idx, (u32 __user *)argp))
			ret = -EFAULT;
		else
			ret = vmq_dev_vring_ioctl(dev, idx, cmd, argp);
	}
out:
	mutex_unlock(&dev->mutex);
	return ret;
}

long vmq_net_ioctl(struct vmq_dev *dev, unsigned int cmd, void __user *argp)
{
	long ret;
	u64 f;

	switch (cmd) {
	case VHOST_NET_SET_BACKEND:
		return vmq_net_set_backend(dev, argp);
	case VHOST_GET_FEATURES:
		return vmq_put_u64(argp, vmq_dev_features(dev));
	case VHOST_SET_FEATURES:
	case VHOST_SET_BACKEND_FEATURES:
		if (copy_from_user(&f, argp, sizeof(f)))
			return -EFAULT;
		mutex_lock(&dev->mutex);
		ret = cmd == VHOST_SET_FEATURES ?
		      vmq_dev_set_features(dev, f) :
		      vmq_dev_set_backend_features(dev, f);
		mutex_unlock(&dev->mutex);
		return ret;
	case VHOST_GET_BACKEND_FEATURES:
		return vmq_put_u64(argp, VHOST_MQ_BACKEND_FEATURES);
	case VHOST_SET_OWNER:
	case VHOST_RESET_OWNER:
		mutex_lock(&dev->mutex);
		ret = cmd == VHOST_SET_OWNER ? vmq_dev_set_owner(dev) :
					       vmq_dev_reset_owner(dev);
		mutex_unlock(&dev->mutex);
		return ret;
	default:
		return vmq_net_owned_ioctl(dev, cmd, argp);
	}
}

/* A device IOTLB message; vhost-net's EFAULT for whatever it refuses. */
ssize_t vmq_net_write(struct vmq_dev *dev, struct iov_iter *from)
{
	struct vhost_iotlb_msg msg;
	ssize_t len;
	int ret;

	len = vmq_iotlb_parse(from, &msg);
	if (len < 0)
		return len;
	mutex_lock(&dev->mutex);
	ret = vmq_dev_iotlb_msg(dev, &msg);
	mutex_unlock(&dev->mutex);
	return ret ? -EFAULT : len;
}
