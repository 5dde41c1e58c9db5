/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dev.h - the device core under every frontend of /dev/vhost-mq: its
 * owner, memory table, dirty log, device IOTLB, queue pairs and control
 * vq. A frontend (uapi_net.c: vhost-net's ioctls, uapi_mq.c: ours,
 * uapi_vdpa.c: vhost-vdpa's) turns the VMM's calls into these, holding
 * dev->mutex; nothing here reads a user pointer but the vring ioctls.
 */
#ifndef VMQ_DEV_H
#define VMQ_DEV_H

#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/types.h>

#include "ctrl.h"
#include "iotlb.h"
#include "net.h"

struct mm_struct;
struct vmq_mem;
struct vmq_vdpa;

struct vmq_dev {
	/*
	 * Serialises every ioctl and release against each other. Held while
	 * the owner, the workers, the memory table, the log or a backend
	 * change; taken before any virtqueue mutex.
	 */
	struct mutex mutex;

	/* Owner's address space, NULL while unowned. A user reference. */
	struct mm_struct *mm;
	/* on the list of owned devices while mm is set (dev.c) */
	struct list_head owner_link;

	struct vmq_mem *mem;		/* copied into each vq under its mutex */
	struct eventfd_ctx *log_ctx;	/* likewise */
	u64 acked_features;
	u64 backend_features;
	/* the device IOTLB, with VIRTIO_F_ACCESS_PLATFORM acked (iotlb.c) */
	struct vmq_iotlb iotlb;
	/*
	 * The IOTLB lives as long as the file (vhost-vdpa), rather than
	 * being made anew at every VHOST_SET_FEATURES (vhost-net).
	 */
	bool iotlb_kept;

	/* compat: one pair; device mode (VHOST_MQ_SET_PAIRS): N and a cvq */
	bool device_mode;
	unsigned int npairs;
	unsigned int nvqs;		/* 2 * npairs, + 1 in device mode */
	struct vmq_pair *pairs;

	/* device mode's control vq, vring 2N, served on pair 0's worker */
	struct vmq_ctrl ctrl;

	/* vhost-vdpa mode (uapi_vdpa.c), NULL otherwise */
	struct vmq_vdpa *vdpa;
};

unsigned int vmq_dev_max_pairs(void);
struct vmq_dev *vmq_dev_alloc(void);
void vmq_dev_free(struct vmq_dev *dev);

/* The caller holds dev->mutex for all of these. */
int vmq_dev_check_owner(struct vmq_dev *dev);
int vmq_dev_set_owner(struct vmq_dev *dev);
int vmq_dev_reset_owner(struct vmq_dev *dev);
int vmq_dev_set_pairs(struct vmq_dev *dev, unsigned int n);
u64 vmq_dev_features(struct vmq_dev *dev);
int vmq_dev_set_features(struct vmq_dev *dev, u64 features);
int vmq_dev_set_backend_features(struct vmq_dev *dev, u64 features);
int vmq_dev_set_mem(struct vmq_dev *dev, struct vmq_mem *mem);
int vmq_dev_set_log_base(struct vmq_dev *dev, void __user *base);
void vmq_dev_set_log_ctx(struct vmq_dev *dev, struct eventfd_ctx *ctx);
long vmq_dev_vring_ioctl(struct vmq_dev *dev, u32 idx, unsigned int cmd,
			 void __user *argp);
bool vmq_dev_vring_access_ok(struct vmq_dev *dev, u32 idx);
int vmq_dev_set_sock(struct vmq_dev *dev, u32 idx, struct socket *sock);
int vmq_dev_set_fold_sock(struct vmq_dev *dev, u32 idx, struct socket *sock);
int vmq_dev_set_ctrl(struct vmq_dev *dev, bool run,
		     struct eventfd_ctx *notify);
int vmq_dev_iotlb_msg(struct vmq_dev *dev, const struct vhost_iotlb_msg *msg);
void vmq_dev_flush(struct vmq_dev *dev);

/* A data vring, idx < 2 * npairs. */
static inline struct vmq_net_vq *vmq_dev_nvq(struct vmq_dev *dev,
					     unsigned int idx)
{
	return &dev->pairs[idx / 2].nvq[idx % 2];
}

/* Any vring, idx < nvqs: a data vring or the control vq. */
static inline struct vmq_vq *vmq_dev_vq(struct vmq_dev *dev,
					unsigned int idx)
{
	return idx < 2 * dev->npairs ? &vmq_dev_nvq(dev, idx)->vq :
				       &dev->ctrl.vq;
}

/* the frontends, dispatched from main.c */
long vmq_net_ioctl(struct vmq_dev *dev, unsigned int cmd, void __user *argp);
long vmq_mq_ioctl(struct vmq_dev *dev, unsigned int cmd, void __user *argp);
ssize_t vmq_net_write(struct vmq_dev *dev, struct iov_iter *from);
struct eventfd_ctx *vmq_eventfd_from_user(int __user *argp);

long vmq_vdpa_set_mode(struct vmq_dev *dev, void __user *argp);
long vmq_vdpa_ioctl(struct vmq_dev *dev, unsigned int cmd, void __user *argp);
bool vmq_vdpa_active_ok(struct vmq_dev *dev, unsigned int n);
ssize_t vmq_vdpa_write(struct vmq_dev *dev, struct iov_iter *from);
void vmq_vdpa_free(struct vmq_vdpa *vdpa);

#endif /* VMQ_DEV_H */
