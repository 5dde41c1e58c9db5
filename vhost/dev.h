/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dev.h - one open file of /dev/vhost-mq: its owner, features and workers.
 */
#ifndef VMQ_DEV_H
#define VMQ_DEV_H

#include <linux/mutex.h>
#include <linux/types.h>

struct mm_struct;
struct vmq_worker;

/* vrings of one queue pair in compat mode, as in vhost-net */
#define VMQ_VQ_RX	0
#define VMQ_VQ_TX	1
#define VMQ_COMPAT_NVQS	2

struct vmq_dev {
	/*
	 * Serialises every ioctl and release against each other. Held while
	 * the owner, the worker or the features change; taken before any
	 * per-virtqueue lock.
	 */
	struct mutex mutex;

	/* Owner's address space, NULL while unowned. A user reference. */
	struct mm_struct *mm;
	/* Worker of pair 0; non-NULL exactly when mm is. */
	struct vmq_worker *worker;

	u64 acked_features;
	u64 backend_features;
	unsigned int nvqs;
};

struct vmq_dev *vmq_dev_alloc(void);
void vmq_dev_free(struct vmq_dev *dev);
long vmq_dev_ioctl(struct vmq_dev *dev, unsigned int cmd, void __user *argp);

#endif /* VMQ_DEV_H */
