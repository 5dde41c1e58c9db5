// SPDX-License-Identifier: GPL-2.0
/*
 * ctrl.c - device mode's control virtqueue (vring 2N), served in the
 * kernel. VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET chooses how many pairs the
 * guest uses; every other command is answered VIRTIO_NET_ERR. What a
 * command looks like and what it is answered is decided by the shared
 * virtio/net_ctrl.h; this file moves it between the ring and the pairs.
 *
 * A frontend starts and stops the queue (vmq_ctrl_attach) and may give an
 * eventfd to be told whenever the number of active pairs changes: in
 * device mode VHOST_NET_SET_BACKEND on vring 2N does both.
 */
#include <linux/eventfd.h>
#include <linux/uio.h>
#include <linux/vhost.h>
#include <linux/virtio_net.h>

#include "ctrl.h"
#include "net_ctrl.h"

/* commands served per run before the others get the worker */
#define VMQ_CTRL_WEIGHT		64

/*
 * Serve pairs 0..n-1. @reset: the owner was just set, so apply even an
 * unchanged count (it sets up the folding) and count no change.
 */
void vmq_ctrl_set_active(struct vmq_ctrl *ctrl, unsigned int n, bool reset)
{
	lockdep_assert_held(&ctrl->vq.mutex);
	if (n == ctrl->active && !reset)
		return;
	vmq_pairs_set_active(ctrl->pairs, n);
	ctrl->active = n;
	if (reset)
		return;
	ctrl->changes++;
	if (ctrl->notify)
		eventfd_signal(ctrl->notify, 1);
}

/* Answer one command chain; false if it stopped the queue. */
static bool vmq_ctrl_one(struct vmq_ctrl *ctrl, const struct vmq_vq_chain *c)
{
	struct vmq_vq *vq = &ctrl->vq;
	u8 buf[VMQ_CTRL_READ_MAX], ack;
	enum vmq_chain_error why;
	struct iov_iter it;
	size_t have;
	u32 n;

	lockdep_assert_held(&ctrl->vq.mutex);
	/*
	 * Whatever stops the queue here leaves its base at this chain, as
	 * for the walker's errors: once the VMM restarts the ring the command
	 * is fetched again and answered, and the guest (which waits for the
	 * answer holding RTNL, in Linux) goes on.
	 */
	why = vmq_ctrl_check(c->out_len, c->in_len);
	if (why) {
		vmq_vq_discard(vq, 1);
		vmq_vq_error(vq, why);
		return false;
	}
	have = min_t(u64, c->out_len, sizeof(buf));
	iov_iter_init(&it, ITER_SOURCE, vq->iov, c->out, c->out_len);
	if (copy_from_iter(buf, have, &it) != have) {
		vmq_vq_discard(vq, 1);
		vmq_vq_fault(vq, "control command unreadable");
		return false;
	}
	ack = vmq_ctrl_decide(buf, have, vmq_vq_has(vq, VIRTIO_NET_F_MQ),
			      ctrl->npairs, &n);
	/* the ack first: a chain we cannot answer changes nothing */
	iov_iter_init(&it, ITER_DEST, vq->iov + c->out, c->in, c->in_len);
	if (copy_to_iter(&ack, sizeof(ack), &it) != sizeof(ack)) {
		vmq_vq_discard(vq, 1);
		vmq_vq_fault(vq, "control ack unwritable");
		return false;
	}
	/* an ack the VMM's log misses is not given: nothing changes either */
	if (unlikely(vmq_vq_has(vq, VHOST_F_LOG_ALL)) &&
	    vmq_vq_log_written(vq, sizeof(ack))) {
		vmq_vq_discard(vq, 1);
		return false;
	}
	/* in effect before the guest can see the ack in the used ring */
	if (n)
		vmq_ctrl_set_active(ctrl, n, false);
	vmq_vq_push_head(vq, c, sizeof(ack));
	vq->stats.packets++;
	vq->stats.bytes += c->out_len;
	if (ack != VMQ_CTRL_OK)
		vq->stats.drops[VHOST_MQ_DROP_CTRL_REJECTED]++;
	return true;
}

static void vmq_ctrl_handle_kick(struct vmq_work *work)
{
	struct vmq_ctrl *ctrl = container_of(work, struct vmq_ctrl,
					     vq.poll.work);
	struct vmq_vq *vq = &ctrl->vq;
	struct vmq_vq_chain c;
	int done = 0, r;

	mutex_lock(&vq->mutex);
	vq->stats.kicks++;
	if (!vq->backend || !vmq_vq_start_run(vq))
		goto out;
	vq->stats.wakeups++;
	vmq_vq_disable_notify(vq);
	for (;;) {
		r = vmq_vq_next_chain(vq, 0, &c);
		if (r < 0)
			break;
		if (!r) {
			if (unlikely(vmq_vq_enable_notify(vq))) {
				vmq_vq_disable_notify(vq);
				continue;
			}
			break;
		}
		if (!vmq_ctrl_one(ctrl, &c))
			break;
		if (++done >= VMQ_CTRL_WEIGHT ||
		    vq->run_descs >= VMQ_WEIGHT_DESCS) {
			vmq_poll_queue(&vq->poll);
			break;
		}
		cond_resched();
	}
	vmq_vq_flush_used(vq);
out:
	mutex_unlock(&vq->mutex);
}

/*
 * The control vq's mutex is held while the data vqs' are taken (to
 * change the active pairs): a lock class of its own, so lockdep sees an
 * order, not recursion.
 */
static struct lock_class_key vmq_cvq_mutex_key;

void vmq_ctrl_init(struct vmq_ctrl *ctrl)
{
	vmq_vq_init(&ctrl->vq, 0, vmq_ctrl_handle_kick);
	lockdep_set_class(&ctrl->vq.mutex, &vmq_cvq_mutex_key);
	ctrl->active = 1;
}

/* The pairs it steers; while stopped. Its vring follows their 2N. */
void vmq_ctrl_set_pairs(struct vmq_ctrl *ctrl, struct vmq_pair *pairs,
			unsigned int npairs)
{
	ctrl->pairs = pairs;
	ctrl->npairs = npairs;
	ctrl->vq.index = 2 * npairs;
}

/*
 * Start (@run) or stop serving the ring, with @notify to be told of
 * changes (consumed, NULL for none). Errors as for a tap's vring: EFAULT
 * if the ring is not accessible or its used index not readable.
 */
int vmq_ctrl_attach(struct vmq_ctrl *ctrl, bool run,
		    struct eventfd_ctx *notify)
{
	struct vmq_vq *vq = &ctrl->vq;
	struct eventfd_ctx *old;
	void *old_backend;
	int r = 0;

	mutex_lock(&vq->mutex);
	if (!vmq_vq_access_ok(vq)) {
		old = notify;
		r = -EFAULT;
		goto out;
	}
	old = ctrl->notify;
	old_backend = vq->backend;
	vq->backend = run ? ctrl : NULL;
	ctrl->notify = run ? notify : NULL;
	r = vmq_vq_init_access(vq);
	if (r) {
		vq->backend = old_backend;
		ctrl->notify = old;
		old = notify;
	} else if (run) {
		/* commands the guest queued while we were stopped */
		vmq_poll_queue(&vq->poll);
	} else if (notify) {
		eventfd_ctx_put(notify);
	}
out:
	/* the handler only uses the eventfd under the mutex */
	if (old)
		eventfd_ctx_put(old);
	mutex_unlock(&vq->mutex);
	return r;
}

/* Stop serving and stop watching the kick; the caller resets the ring. */
void vmq_ctrl_stop(struct vmq_ctrl *ctrl)
{
	struct vmq_vq *vq = &ctrl->vq;

	mutex_lock(&vq->mutex);
	vmq_poll_stop(&vq->poll);
	if (ctrl->notify)
		eventfd_ctx_put(ctrl->notify);
	ctrl->notify = NULL;
	vq->backend = NULL;
	mutex_unlock(&vq->mutex);
}
