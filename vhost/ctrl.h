/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ctrl.h - the control virtqueue served in the kernel, and the number of
 * queue pairs in use that its VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET chooses.
 * It knows the pairs it steers, not the frontend that made it.
 */
#ifndef VMQ_CTRL_H
#define VMQ_CTRL_H

#include <linux/eventfd.h>
#include <linux/types.h>

#include "net.h"
#include "vq.h"

struct vmq_ctrl {
	/* vring 2N; its mutex also guards active, changes and notify */
	struct vmq_vq vq;
	struct vmq_pair *pairs;
	unsigned int npairs;
	unsigned int active;		/* pairs in use, 1..npairs */
	u64 changes;			/* times the guest changed active */
	/* told of every change of active; NULL: nobody asked */
	struct eventfd_ctx *notify;
};

void vmq_ctrl_init(struct vmq_ctrl *ctrl);
void vmq_ctrl_set_pairs(struct vmq_ctrl *ctrl, struct vmq_pair *pairs,
			unsigned int npairs);
int vmq_ctrl_attach(struct vmq_ctrl *ctrl, bool run,
		    struct eventfd_ctx *notify);
void vmq_ctrl_stop(struct vmq_ctrl *ctrl);
void vmq_ctrl_set_active(struct vmq_ctrl *ctrl, unsigned int n, bool reset);

#endif /* VMQ_CTRL_H */
