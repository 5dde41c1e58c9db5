/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dev.h - one open file of /dev/vhost-mq: its owner, memory table, dirty
 * log and queue pairs.
 */
#ifndef VMQ_DEV_H
#define VMQ_DEV_H

#include <linux/mutex.h>
#include <linux/types.h>

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

	unsigned int npairs;
	unsigned int nvqs;		/* 2 * npairs */
	struct vmq_pair *pairs;
};

struct vmq_dev *vmq_dev_alloc(void);
void vmq_dev_free(struct vmq_dev *dev);
long vmq_dev_ioctl(struct vmq_dev *dev, unsigned int cmd, void __user *argp);
int vmq_dev_check_owner(struct vmq_dev *dev);

static inline struct vmq_net_vq *vmq_dev_nvq(struct vmq_dev *dev,
					     unsigned int idx)
{
	return &dev->pairs[idx / 2].nvq[idx % 2];
}

#endif /* VMQ_DEV_H */
