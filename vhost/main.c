// SPDX-License-Identifier: GPL-2.0
/*
 * main.c - module entry points and the /dev/vhost-mq character device.
 *
 * vhost-mq is an in-kernel virtio-net backend in the manner of vhost-net:
 * a VMM hands it virtqueue layouts and a tap or macvtap queue, and kernel
 * workers move frames between guest memory and the tap.
 */
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <uapi/linux/vhost_mq.h>

#include "dev.h"

static int vmq_open(struct inode *inode, struct file *file)
{
	struct vmq_dev *dev;

	dev = vmq_dev_alloc();
	if (!dev)
		return -ENOMEM;
	file->private_data = dev;
	return 0;
}

static int vmq_release(struct inode *inode, struct file *file)
{
	struct vmq_dev *dev = file->private_data;
	struct vmq_vdpa *vdpa = dev->vdpa;

	/* the device lets go of the taps before the vdpa state drops them */
	vmq_dev_free(dev);
	vmq_vdpa_free(vdpa);
	return 0;
}

/* Our own ioctls first, then those of the uAPI the file speaks. */
static long vmq_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct vmq_dev *dev = file->private_data;
	void __user *argp = (void __user *)arg;
	long r;

	r = vmq_mq_ioctl(dev, cmd, argp);
	if (r != -ENOIOCTLCMD)
		return r;
	/* dev->vdpa is set once, before the file has an owner */
	if (READ_ONCE(dev->vdpa))
		return vmq_vdpa_ioctl(dev, cmd, argp);
	return vmq_net_ioctl(dev, cmd, argp);
}

/* Device IOTLB messages: the VMM writes updates and reads misses. */
static ssize_t vmq_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	struct vmq_dev *dev = iocb->ki_filp->private_data;

	if (READ_ONCE(dev->vdpa))
		return vmq_vdpa_write(dev, from);
	return vmq_net_write(dev, from);
}

static ssize_t vmq_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct file *file = iocb->ki_filp;
	struct vmq_dev *dev = file->private_data;

	return vmq_iotlb_read(&dev->iotlb, to, file->f_flags & O_NONBLOCK);
}

static __poll_t vmq_poll(struct file *file, poll_table *wait)
{
	struct vmq_dev *dev = file->private_data;

	return vmq_iotlb_poll(&dev->iotlb, file, wait);
}

static const struct file_operations vmq_fops = {
	.owner		= THIS_MODULE,
	.open		= vmq_open,
	.release	= vmq_release,
	.read_iter	= vmq_read_iter,
	.write_iter	= vmq_write_iter,
	.poll		= vmq_poll,
	.unlocked_ioctl	= vmq_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice vmq_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= VHOST_MQ_DEVICE_NAME,
	.fops	= &vmq_fops,
};

static int __init vmq_init(void)
{
	return misc_register(&vmq_misc);
}
module_init(vmq_init);

static void __exit vmq_exit(void)
{
	misc_deregister(&vmq_misc);
}
module_exit(vmq_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The vhost-mq developers");
MODULE_DESCRIPTION("Multiqueue in-kernel virtio-net backend, a superset of vhost-net");
MODULE_VERSION("0.1");
