/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dev.h - one open file of /dev/vhost-mq: its owner, memory table, dirty
 * log and queue pairs.
 */
#ifndef VMQ_DEV_H
#define VMQ_DEV_H

#include <linux/mutex.h>
#include <linux/types.h>

#include "iotlb.h"
#include "net.h"

struct mm_struct;
struct vmq_mem;

/* vrings of one queue pair, as in vhost-net */
#define VMQ_VQ_RX	0
#define VMQ_VQ_TX	1

struct vmq_dev {
	/*
	 * Serialises every ioctl and release against each other. Held while
	 * the owner, the workers, the memory table, the log or a backend
	 * change; taken before any virtqueue mutex.
	 */
	struct mutex mutex;

	/* Owner's address space, NULL while unowned. A user reference. */
	struct mm_struct *mm;

	struct vmq_mem *mem;		/* copied into each vq under its mutex */
	struct eventfd_ctx *log_ctx;	/* likewise */
	u64 acked_features;
	u64 backend_features;
	/* the device IOTLB, with VIRTIO_F_ACCESS_PLATFORM acked (iotlb.c) */
	struct vmq_iotlb iotlb;

	/* compat: one pair; device mode (VHOST_MQ_SET_PAIRS): N and a cvq */
	bool device_mode;
	unsigned int npairs;
	unsigned int nvqs;		/* 2 * npairs, + 1 in device mode */
	struct vmq_pair *pairs;

	/*
	 * Device mode's control vq, vring 2N, served on pair 0's worker. Its
	 * backend is an eventfd of the VMM, told of every change of
	 * active_pairs. cvq.mutex also guards active_pairs and changes.
	 */
	struct vmq_vq cvq;
	unsigned int active_pairs;
	u64 pair_changes;
};

struct vmq_dev *vmq_dev_alloc(void);
void vmq_dev_free(struct vmq_dev *dev);
long vmq_dev_ioctl(struct vmq_dev *dev, unsigned int cmd, void __user *argp);
int vmq_dev_check_owner(struct vmq_dev *dev);

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
	return idx < 2 * dev->npairs ? &vmq_dev_nvq(dev, idx)->vq : &dev->cvq;
}

/* ctrl.c */
void vmq_ctrl_init(struct vmq_dev *dev);
long vmq_ctrl_set_backend(struct vmq_dev *dev, int fd);
void vmq_ctrl_stop(struct vmq_dev *dev);
void vmq_ctrl_set_active(struct vmq_dev *dev, unsigned int n, bool reset);

#endif /* VMQ_DEV_H */
