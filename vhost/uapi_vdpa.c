// SPDX-License-Identifier: GPL-2.0
/*
 * uapi_vdpa.c - the vhost-vdpa frontend: a device-mode core driven
 * through Linux 6.1's vhost-vdpa uAPI, so that an unmodified QEMU hands
 * us a whole virtio-net device, control vq included (vhost_mq.h,
 * "vhost-vdpa mode"). Debian's kernel has no vDPA bus, so the file speaks
 * the uAPI itself; the errnos are those of drivers/vhost/vdpa.c.
 *
 * What a vDPA parent keeps is kept here: status, the driver's features,
 * config space, which vrings are enabled. DRIVER_OK attaches the enabled
 * vrings to the tap queues given at VHOST_MQ_SET_VDPA; reset (status 0)
 * detaches them and keeps the rest.
 */
#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/if_tun.h>
#include <linux/net.h>
#include <linux/nospec.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/uio.h>
#include <linux/vhost.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>
#include <uapi/linux/vhost_mq.h>

#include "dev.h"
#include "mem.h"

/*
 * What the guest is offered. The tap does checksums and segmentation of
 * what the guest sends, and hands the guest what its GUEST_* bits take
 * (TUNSETOFFLOAD at DRIVER_OK).
 */
#define VMQ_VDPA_FEATURES	(BIT_ULL(VIRTIO_NET_F_CSUM) | \
				 BIT_ULL(VIRTIO_NET_F_GUEST_CSUM) | \
				 BIT_ULL(VIRTIO_NET_F_GUEST_TSO4) | \
				 BIT_ULL(VIRTIO_NET_F_GUEST_TSO6) | \
				 BIT_ULL(VIRTIO_NET_F_GUEST_ECN) | \
				 BIT_ULL(VIRTIO_NET_F_GUEST_UFO) | \
				 BIT_ULL(VIRTIO_NET_F_MAC) | \
				 BIT_ULL(VIRTIO_NET_F_HOST_TSO4) | \
				 BIT_ULL(VIRTIO_NET_F_HOST_TSO6) | \
				 BIT_ULL(VIRTIO_NET_F_HOST_ECN) | \
				 BIT_ULL(VIRTIO_NET_F_MRG_RXBUF) | \
				 BIT_ULL(VIRTIO_NET_F_STATUS) | \
				 BIT_ULL(VIRTIO_NET_F_CTRL_VQ) | \
				 BIT_ULL(VIRTIO_NET_F_MQ) | \
				 BIT_ULL(VIRTIO_RING_F_INDIRECT_DESC) | \
				 BIT_ULL(VIRTIO_RING_F_EVENT_IDX) | \
				 BIT_ULL(VIRTIO_F_VERSION_1) | \
				 BIT_ULL(VIRTIO_F_ACCESS_PLATFORM) | \
				 BIT_ULL(VIRTIO_F_RING_PACKED))

/* the largest ring a VMM should make (VHOST_VDPA_GET_VRING_NUM) */
#define VMQ_VDPA_VRING_NUM	1024

struct vmq_vdpa {
	unsigned int npairs;
	struct file **taps;		/* queue k's file, held */
	u64 offered;
	u64 features;			/* the driver's, as last set */
	/* vring 2 is the control vq (no MQ negotiated): swap it with 2N */
	bool swap_cvq;
	u8 status;
	bool running;			/* vrings attached at DRIVER_OK */
	unsigned long ready[BITS_TO_LONGS(2 * VMQ_PAIRS_MAX + 1)];
	struct virtio_net_config config;
	struct eventfd_ctx *config_ctx;
};

static int vmq_vdpa_set_offloads(struct vmq_vdpa *v, unsigned long o);

void vmq_vdpa_free(struct vmq_vdpa *v)
{
	unsigned int i;

	if (!v)
		return;
	/* a tap that outlives us (persistent) is left as we found it */
	if (v->running)
		vmq_vdpa_set_offloads(v, 0);
	for (i = 0; i < v->npairs; i++)
		if (v->taps[i])
			fput(v->taps[i]);
	if (v->config_ctx)
		eventfd_ctx_put(v->config_ctx);
	kfree(v->taps);
	kfree(v);
}

/* The core's vring for the VMM's index @idx (< nvqs). */
static u32 vmq_vdpa_vring(struct vmq_dev *dev, u32 idx)
{
	u32 cvq = 2 * dev->npairs;

	lockdep_assert_held(&dev->mutex);
	if (dev->vdpa->swap_cvq && (idx == 2 || idx == cvq))
		return idx == 2 ? cvq : 2;
	return idx;
}

/*
 * Without VIRTIO_NET_F_MQ the guest has pair 0 alone, but the tap still
 * spreads flows over all N queues: the rx vrings of pairs 1..N-1, which
 * the guest does not have, take their tap queues for folding only, and
 * pair 0 delivers those frames too. Does core vring @idx fold so?
 */
static bool vmq_vdpa_folds(struct vmq_dev *dev, u32 idx)
{
	lockdep_assert_held(&dev->mutex);
	return !(dev->vdpa->features & BIT_ULL(VIRTIO_NET_F_MQ)) &&
	       idx >= 2 && idx < 2 * dev->npairs && idx % 2 == VMQ_VQ_RX &&
	       !test_bit(idx, dev->vdpa->ready);
}

/*
 * Give core vring @idx what it is to have now: while the device runs, its
 * tap queue (or the control vq) if the vring is enabled, or its tap queue
 * for folding only (vmq_vdpa_folds()); else nothing.
 */
static int vmq_vdpa_sync(struct vmq_dev *dev, u32 idx)
{
	struct vmq_vdpa *v = dev->vdpa;
	bool ready = v->running && test_bit(idx, v->ready);
	bool fold = v->running && vmq_vdpa_folds(dev, idx);
	struct socket *sock = NULL;

	lockdep_assert_held(&dev->mutex);
	if (idx == 2 * dev->npairs)
		return vmq_dev_set_ctrl(dev, ready, NULL);
	if (ready || fold) {
		sock = vmq_net_file_socket(get_file(v->taps[idx / 2]));
		if (IS_ERR(sock))
			return PTR_ERR(sock);
	}
	return fold ? vmq_dev_set_fold_sock(dev, idx, sock) :
		      vmq_dev_set_sock(dev, idx, sock);
}

/*
 * May the VMM make @n pairs active (VHOST_MQ_SET_ACTIVE)? More than one
 * only with MQ negotiated: the pairs that fold need stay inactive.
 */
bool vmq_vdpa_active_ok(struct vmq_dev *dev, unsigned int n)
{
	lockdep_assert_held(&dev->mutex);
	return n == 1 || (dev->vdpa->features & BIT_ULL(VIRTIO_NET_F_MQ));
}

/* The tap offloads (TUN_F_*) the driver's GUEST_* features take. */
static unsigned long vmq_vdpa_tun_offloads(u64 f)
{
	unsigned long o = 0;

	if (!(f & BIT_ULL(VIRTIO_NET_F_GUEST_CSUM)))
		return 0;
	o |= TUN_F_CSUM;
	if (f & BIT_ULL(VIRTIO_NET_F_GUEST_TSO4))
		o |= TUN_F_TSO4;
	if (f & BIT_ULL(VIRTIO_NET_F_GUEST_TSO6))
		o |= TUN_F_TSO6;
	if ((o & (TUN_F_TSO4 | TUN_F_TSO6)) &&
	    (f & BIT_ULL(VIRTIO_NET_F_GUEST_ECN)))
		o |= TUN_F_TSO_ECN;
	if (f & BIT_ULL(VIRTIO_NET_F_GUEST_UFO))
		o |= TUN_F_UFO;
	return o;
}

/*
 * What tun or macvtap may hand us unsegmented, on every queue: their
 * TUNSETOFFLOAD takes its argument by value, so it is called as the VMM
 * would call it (QEMU does, for a tap it drives itself).
 */
static int vmq_vdpa_set_offloads(struct vmq_vdpa *v, unsigned long o)
{
	unsigned int i;
	long r;

	for (i = 0; i < v->npairs; i++) {
		r = v->taps[i]->f_op->unlocked_ioctl(v->taps[i], TUNSETOFFLOAD,
						     o);
		if (r)
			return r;
	}
	return 0;
}

static void vmq_vdpa_stop(struct vmq_dev *dev)
{
	bool was = dev->vdpa->running;
	unsigned int i;

	lockdep_assert_held(&dev->mutex);
	dev->vdpa->running = false;
	for (i = 0; i < dev->nvqs; i++)
		vmq_vdpa_sync(dev, i);
	if (was)
		vmq_vdpa_set_offloads(dev->vdpa, 0);
}

static int vmq_vdpa_start(struct vmq_dev *dev)
{
	struct vmq_vdpa *v = dev->vdpa;
	unsigned int i;
	int r;

	lockdep_assert_held(&dev->mutex);
	if (!dev->mm)
		return -EPERM;
	r = vmq_vdpa_set_offloads(v, vmq_vdpa_tun_offloads(v->features));
	if (r) {
		pr_warn_ratelimited("vhost-mq: vdpa tap offloads refused (%d): the device needs a reset\n",
				    r);
		vmq_vdpa_set_offloads(v, 0);
		return r;
	}
	v->running = true;
	/* the guest chose its pairs with MQ only (folding needs this) */
	if (!(v->features & BIT_ULL(VIRTIO_NET_F_MQ))) {
		mutex_lock(&dev->ctrl.vq.mutex);
		vmq_ctrl_set_active(&dev->ctrl, 1, false);
		mutex_unlock(&dev->ctrl.vq.mutex);
	}
	for (i = 0; i < dev->nvqs; i++) {
		r = vmq_vdpa_sync(dev, i);
		if (!r)
			continue;
		pr_warn_ratelimited("vhost-mq: vdpa vring %u does not start (%d): the device needs a reset\n",
				    i, r);
		vmq_vdpa_stop(dev);
		return r;
	}
	return 0;
}

static long vmq_vdpa_set_status(struct vmq_dev *dev, u8 status)
{
	struct vmq_vdpa *v = dev->vdpa;
	u8 add = status & ~v->status;

	lockdep_assert_held(&dev->mutex);
	if (!status) {
		/* reset: bases, rings and the guest's pairs stay */
		vmq_vdpa_stop(dev);
		bitmap_zero(v->ready, dev->nvqs);
		v->status = 0;
		v->features = 0;
		return 0;
	}
	if (v->status & ~status)
		return -EINVAL;
	/* a device refuses FEATURES_OK by not keeping the bit (spec 3.1.1) */
	if ((add & VIRTIO_CONFIG_S_FEATURES_OK) &&
	    !(v->features & BIT_ULL(VIRTIO_F_VERSION_1)))
		status &= ~VIRTIO_CONFIG_S_FEATURES_OK;
	if (add & VIRTIO_CONFIG_S_DRIVER_OK) {
		if (!(status & VIRTIO_CONFIG_S_FEATURES_OK) ||
		    vmq_vdpa_start(dev))
			status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	}
	v->status = status;
	return 0;
}

static long vmq_vdpa_set_features(struct vmq_dev *dev, u64 __user *argp)
{
	struct vmq_vdpa *v = dev->vdpa;
	u64 features, core;
	int r;

	lockdep_assert_held(&dev->mutex);
	if (v->status & VIRTIO_CONFIG_S_FEATURES_OK)
		return -EBUSY;
	if (copy_from_user(&features, argp, sizeof(features)))
		return -EFAULT;
	if (features & ~v->offered)
		return -EINVAL;
	if ((features & BIT_ULL(VIRTIO_NET_F_MQ)) &&
	    !(features & BIT_ULL(VIRTIO_NET_F_CTRL_VQ)))
		return -EINVAL;
	/* the ring layout for the core; addresses are IOVAs whatever */
	core = (features & vmq_dev_features(dev)) |
	       BIT_ULL(VIRTIO_F_ACCESS_PLATFORM);
	r = vmq_dev_set_features(dev, core);
	if (r)
		return r;
	v->features = features;
	v->swap_cvq = dev->npairs > 1 &&
		      (features & BIT_ULL(VIRTIO_NET_F_CTRL_VQ)) &&
		      !(features & BIT_ULL(VIRTIO_NET_F_MQ));
	return 0;
}

/* vhost-vdpa's checks: EINVAL for any range not inside the config */
static long vmq_vdpa_config_args(struct vhost_vdpa_config __user *c,
				 struct vhost_vdpa_config *hdr)
{
	if (copy_from_user(hdr, c, offsetof(struct vhost_vdpa_config, buf)))
		return -EFAULT;
	if (!hdr->len || hdr->off > sizeof(struct virtio_net_config) ||
	    hdr->len > sizeof(struct virtio_net_config) - hdr->off)
		return -EINVAL;
	return 0;
}

static long vmq_vdpa_get_config(struct vmq_vdpa *v,
				struct vhost_vdpa_config __user *c)
{
	struct vhost_vdpa_config hdr;
	long r;

	r = vmq_vdpa_config_args(c, &hdr);
	if (r)
		return r;
	if (copy_to_user(c->buf, (u8 *)&v->config + hdr.off, hdr.len))
		return -EFAULT;
	return 0;
}

/* Only the mac is the driver's to write. */
static long vmq_vdpa_set_config(struct vmq_vdpa *v,
				struct vhost_vdpa_config __user *c)
{
	u8 buf[sizeof(struct virtio_net_config)];
	struct vhost_vdpa_config hdr;
	u32 end;
	long r;

	r = vmq_vdpa_config_args(c, &hdr);
	if (r)
		return r;
	if (copy_from_user(buf, c->buf, hdr.len))
		return -EFAULT;
	end = min_t(u32, hdr.off + hdr.len, sizeof(v->config.mac));
	if (hdr.off < end)
		memcpy(v->config.mac + hdr.off, buf, end - hdr.off);
	return 0;
}

static long vmq_vdpa_set_config_call(struct vmq_vdpa *v, int __user *argp)
{
	struct eventfd_ctx *ctx = vmq_eventfd_from_user(argp);

	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	swap(ctx, v->config_ctx);
	if (ctx)
		eventfd_ctx_put(ctx);
	return 0;
}

static long vmq_vdpa_vring_ioctl(struct vmq_dev *dev, unsigned int cmd,
				 void __user *argp)
{
	struct vmq_vdpa *v = dev->vdpa;
	struct vhost_vring_state s;
	u32 idx;

	lockdep_assert_held(&dev->mutex);
	if (get_user(idx, (u32 __user *)argp))
		return -EFAULT;
	if (idx >= dev->nvqs)
		return -ENOBUFS;
	idx = vmq_vdpa_vring(dev, array_index_nospec(idx, dev->nvqs));
	switch (cmd) {
	case VHOST_VDPA_SET_VRING_ENABLE:
		if (copy_from_user(&s, argp, sizeof(s)))
			return -EFAULT;
		if (!s.num == !test_bit(idx, v->ready))
			return 0;
		assign_bit(idx, v->ready, s.num);
		/* a vring enabled or disabled while running: at once */
		if (v->running && vmq_vdpa_sync(dev, idx)) {
			vmq_vdpa_stop(dev);
			v->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
		}
		return 0;
	case VHOST_VDPA_GET_VRING_GROUP:
		s.index = idx;
		s.num = 0;
		return copy_to_user(argp, &s, sizeof(s)) ? -EFAULT : 0;
	case VHOST_VDPA_SET_GROUP_ASID:
		if (copy_from_user(&s, argp, sizeof(s)))
			return -EFAULT;
		/* one group, one address space, nothing to change */
		if (idx >= 1 || s.num >= 1)
			return -EINVAL;
		return -EOPNOTSUPP;
	default:
		return vmq_dev_vring_ioctl(dev, idx, cmd, argp);
	}
}

/* What needs the owner: vhost_dev_ioctl's and the vring ioctls. */
static long vmq_vdpa_owned_ioctl(struct vmq_dev *dev, unsigned int cmd,
				 void __user *argp)
{
	struct vmq_mem *mem;
	long r;

	lockdep_assert_held(&dev->mutex);
	r = vmq_dev_check_owner(dev);
	if (r)
		return r;
	switch (cmd) {
	case VHOST_RESET_OWNER:
		vmq_vdpa_stop(dev);
		return vmq_dev_reset_owner(dev);
	case VHOST_SET_MEM_TABLE:
		/* unused (the IOTLB translates), but checked as vhost does */
		r = vmq_mem_from_user(argp, &mem);
		return r ? r : vmq_dev_set_mem(dev, mem);
	default:
		return vmq_vdpa_vring_ioctl(dev, cmd, argp);
	}
}

static long vmq_vdpa_put(void __user *argp, const void *val, size_t len)
{
	return copy_to_user(argp, val, len) ? -EFAULT : 0;
}

static long vmq_vdpa_locked_ioctl(struct vmq_dev *dev, unsigned int cmd,
				  void __user *argp)
{
	struct vmq_vdpa *v = dev->vdpa;
	struct vhost_vdpa_iova_range range = { 0, U64_MAX };
	u64 features = VHOST_MQ_BACKEND_FEATURES;
	u32 u = VIRTIO_ID_NET;
	u16 num = VMQ_VDPA_VRING_NUM;
	u8 status;

	lockdep_assert_held(&dev->mutex);
	switch (cmd) {
	case VHOST_VDPA_GET_DEVICE_ID:
		return vmq_vdpa_put(argp, &u, sizeof(u));
	case VHOST_VDPA_GET_STATUS:
		return vmq_vdpa_put(argp, &v->status, sizeof(v->status));
	case VHOST_VDPA_SET_STATUS:
		if (copy_from_user(&status, argp, sizeof(status)))
			return -EFAULT;
		return vmq_vdpa_set_status(dev, status);
	case VHOST_VDPA_GET_CONFIG:
		return vmq_vdpa_get_config(v, argp);
	case VHOST_VDPA_SET_CONFIG:
		return vmq_vdpa_set_config(v, argp);
	case VHOST_GET_FEATURES:
		return vmq_vdpa_put(argp, &v->offered, sizeof(v->offered));
	case VHOST_SET_FEATURES:
		return vmq_vdpa_set_features(dev, argp);
	case VHOST_VDPA_GET_VRING_NUM:
		return vmq_vdpa_put(argp, &num, sizeof(num));
	case VHOST_VDPA_GET_GROUP_NUM:
	case VHOST_VDPA_GET_AS_NUM:
		u = 1;
		return vmq_vdpa_put(argp, &u, sizeof(u));
	case VHOST_SET_LOG_BASE:
	case VHOST_SET_LOG_FD:
		return -ENOIOCTLCMD;
	case VHOST_VDPA_SET_CONFIG_CALL:
		return vmq_vdpa_set_config_call(v, argp);
	case VHOST_GET_BACKEND_FEATURES:
		return vmq_vdpa_put(argp, &features, sizeof(features));
	case VHOST_VDPA_GET_IOVA_RANGE:
		return vmq_vdpa_put(argp, &range, sizeof(range));
	case VHOST_VDPA_GET_CONFIG_SIZE:
		u = sizeof(struct virtio_net_config);
		return vmq_vdpa_put(argp, &u, sizeof(u));
	case VHOST_VDPA_GET_VQS_COUNT:
		u = dev->nvqs;
		return vmq_vdpa_put(argp, &u, sizeof(u));
	case VHOST_VDPA_SUSPEND:
		return -EOPNOTSUPP;
	case VHOST_SET_OWNER:
		return vmq_dev_set_owner(dev);
	default:
		return vmq_vdpa_owned_ioctl(dev, cmd, argp);
	}
}

long vmq_vdpa_ioctl(struct vmq_dev *dev, unsigned int cmd, void __user *argp)
{
	u64 features;
	long r;

	if (cmd == VHOST_SET_BACKEND_FEATURES) {
		if (copy_from_user(&features, argp, sizeof(features)))
			return -EFAULT;
		if (features & ~VHOST_MQ_BACKEND_FEATURES)
			return -EOPNOTSUPP;
	}
	mutex_lock(&dev->mutex);
	if (cmd == VHOST_SET_BACKEND_FEATURES)
		r = vmq_dev_set_backend_features(dev, features);
	else
		r = vmq_vdpa_locked_ioctl(dev, cmd, argp);
	mutex_unlock(&dev->mutex);
	return r;
}

/*
 * The IOTLB, as vhost-vdpa takes it: only from the owner, an UPDATE that
 * overlaps a mapping is refused, BATCH_BEGIN/END need no feature; each
 * failure is EFAULT.
 */
ssize_t vmq_vdpa_write(struct vmq_dev *dev, struct iov_iter *from)
{
	struct vhost_iotlb_msg msg;
	ssize_t len;
	int r;

	len = vmq_iotlb_parse(from, &msg);
	if (len < 0)
		return len;
	mutex_lock(&dev->mutex);
	r = vmq_dev_check_owner(dev);
	if (r)
		goto out;
	switch (msg.type) {
	case VHOST_IOTLB_BATCH_BEGIN:
	case VHOST_IOTLB_BATCH_END:
		break;
	case VHOST_IOTLB_UPDATE:
		if (msg.iova + msg.size - 1 >= msg.iova &&
		    vmq_iotlb_mapped(&dev->iotlb, msg.iova,
				     msg.iova + msg.size - 1)) {
			r = -EEXIST;
			break;
		}
		fallthrough;
	default:
		r = vmq_dev_iotlb_msg(dev, &msg);
	}
out:
	mutex_unlock(&dev->mutex);
	return r ? -EFAULT : len;
}

/* Take the N tap queues of VHOST_MQ_SET_VDPA; on failure drop them. */
static int vmq_vdpa_get_taps(struct vmq_vdpa *v, u64 uaddr)
{
	struct socket *sock;
	unsigned int i;
	int fd;

	for (i = 0; i < v->npairs; i++) {
		if (copy_from_user(&fd, u64_to_user_ptr(uaddr) +
				   i * sizeof(fd), sizeof(fd)))
			return -EFAULT;
		v->taps[i] = fget(fd);
		if (!v->taps[i])
			return -EBADF;
		/* a probe: the socket holds no reference of its own */
		sock = vmq_net_file_socket(get_file(v->taps[i]));
		if (IS_ERR(sock))
			return PTR_ERR(sock);
		sockfd_put(sock);
	}
	return 0;
}

/*
 * VHOST_MQ_SET_VDPA: EBUSY unless the file is fresh, then the arguments'
 * errnos in the order they are read.
 */
long vmq_vdpa_set_mode(struct vmq_dev *dev, void __user *argp)
{
	struct vmq_vdpa *v = NULL;
	struct vhost_mq_vdpa a;
	struct vmq_mem *mem = NULL;
	long r;

	mutex_lock(&dev->mutex);
	if (dev->vdpa || dev->device_mode || dev->mm) {
		r = -EBUSY;
		goto out;
	}
	r = -EFAULT;
	if (copy_from_user(&a, argp, sizeof(a)))
		goto out;
	r = -EINVAL;
	if (a.flags || a.padding || !a.pairs || a.pairs > vmq_dev_max_pairs())
		goto out;
	r = -ENOMEM;
	v = kzalloc(sizeof(*v), GFP_KERNEL_ACCOUNT);
	mem = kvzalloc(sizeof(*mem), GFP_KERNEL_ACCOUNT);
	if (!v || !mem)
		goto out;
	v->taps = kcalloc(a.pairs, sizeof(*v->taps), GFP_KERNEL_ACCOUNT);
	if (!v->taps)
		goto out;
	v->npairs = a.pairs;
	r = vmq_vdpa_get_taps(v, a.fds);
	if (r)
		goto out;
	v->offered = VMQ_VDPA_FEATURES |
		     (a.mtu ? BIT_ULL(VIRTIO_NET_F_MTU) : 0);
	memcpy(v->config.mac, a.mac, sizeof(a.mac));
	v->config.status = cpu_to_vq16(VIRTIO_NET_S_LINK_UP);
	v->config.max_virtqueue_pairs = cpu_to_vq16(a.pairs);
	v->config.mtu = cpu_to_vq16(a.mtu);

	r = vmq_dev_set_pairs(dev, a.pairs);
	if (r)
		goto out;
	/* one IOTLB for the file's life: QEMU's listener fills it */
	dev->iotlb_kept = true;
	r = vmq_dev_set_features(dev, BIT_ULL(VIRTIO_F_ACCESS_PLATFORM));
	if (r)
		goto out;
	/* no memory table: rings and buffers are reached by the IOTLB */
	r = vmq_dev_set_mem(dev, mem);
	mem = NULL;
	if (r)
		goto out;
	WRITE_ONCE(dev->vdpa, v);
	v = NULL;
out:
	mutex_unlock(&dev->mutex);
	kvfree(mem);
	vmq_vdpa_free(v);
	return r;
}
