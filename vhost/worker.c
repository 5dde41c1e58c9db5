// SPDX-License-Identifier: GPL-2.0
/*
 * worker.c - per-queue-pair kernel threads.
 *
 * A worker is a kthread named vhost-mq-<owner pid>-<pair> that adopts the
 * owner's mm (so guest memory is reached with ordinary uaccess) and joins
 * the owner's cgroups (so its CPU time is charged where the VMM's is). It
 * runs queued work items in FIFO order until it is destroyed.
 */
#include <linux/cgroup.h>
#include <linux/completion.h>
#include <linux/file.h>
#include <linux/kthread.h>
#include <linux/slab.h>

#include "worker.h"

void vmq_work_init(struct vmq_work *work, vmq_work_fn_t fn)
{
	work->fn = fn;
	work->flags = 0;
}

void vmq_work_queue(struct vmq_worker *worker, struct vmq_work *work)
{
	/*
	 * The set bit is ordered before llist_add(); the worker clears it
	 * before running fn, so a wakeup that comes while fn runs queues the
	 * item again instead of being lost.
	 */
	if (test_and_set_bit(VMQ_WORK_QUEUED, &work->flags))
		return;
	llist_add(&work->node, &worker->work_list);
	wake_up_process(worker->task);
}

static void vmq_worker_run_list(struct llist_node *node)
{
	struct vmq_work *work, *next;

	node = llist_reverse_order(node);
	llist_for_each_entry_safe(work, next, node, node) {
		clear_bit(VMQ_WORK_QUEUED, &work->flags);
		/*
		 * Order the clear before fn reads any state: pairs with the
		 * full barrier of test_and_set_bit() in vmq_work_queue(), so a
		 * queuer either sees the bit clear and queues again, or its
		 * state is seen by this run of fn.
		 */
		smp_mb__after_atomic();
		work->fn(work);
		cond_resched();
	}
}

static int vmq_worker_fn(void *data)
{
	struct vmq_worker *worker = data;
	struct llist_node *node;

	kthread_use_mm(worker->mm);
	for (;;) {
		/* Pairs with the barrier implied by kthread_stop()'s wakeup. */
		set_current_state(TASK_INTERRUPTIBLE);
		if (kthread_should_stop()) {
			__set_current_state(TASK_RUNNING);
			break;
		}
		node = llist_del_all(&worker->work_list);
		if (!node) {
			schedule();
			continue;
		}
		__set_current_state(TASK_RUNNING);
		vmq_worker_run_list(node);
	}
	kthread_unuse_mm(worker->mm);
	return 0;
}

struct vmq_flush_work {
	struct vmq_work work;
	struct completion done;
};

static void vmq_flush_fn(struct vmq_work *work)
{
	struct vmq_flush_work *flush;

	flush = container_of(work, struct vmq_flush_work, work);
	complete(&flush->done);
}

/* Wait until every item queued before this call has run. */
void vmq_worker_flush(struct vmq_worker *worker)
{
	struct vmq_flush_work flush;

	init_completion(&flush.done);
	vmq_work_init(&flush.work, vmq_flush_fn);
	vmq_work_queue(worker, &flush.work);
	wait_for_completion(&flush.done);
}

struct vmq_cgroup_work {
	struct vmq_work work;
	struct task_struct *owner;
	int ret;
};

static void vmq_cgroup_fn(struct vmq_work *work)
{
	struct vmq_cgroup_work *cg;

	cg = container_of(work, struct vmq_cgroup_work, work);
	cg->ret = cgroup_attach_task_all(cg->owner, current);
}

/* Move the worker into the calling task's cgroups. */
static int vmq_worker_attach_cgroups(struct vmq_worker *worker)
{
	struct vmq_cgroup_work cg = { .owner = current };

	vmq_work_init(&cg.work, vmq_cgroup_fn);
	vmq_work_queue(worker, &cg.work);
	vmq_worker_flush(worker);
	return cg.ret;
}

/*
 * Start a worker for the calling task, which owns @mm. The caller keeps a
 * user reference on @mm for the worker's whole life.
 */
struct vmq_worker *vmq_worker_create(struct mm_struct *mm, pid_t owner_pid,
				     unsigned int pair)
{
	struct vmq_worker *worker;
	struct task_struct *task;
	int err;

	worker = kzalloc(sizeof(*worker), GFP_KERNEL_ACCOUNT);
	if (!worker)
		return ERR_PTR(-ENOMEM);
	worker->mm = mm;
	init_llist_head(&worker->work_list);

	task = kthread_create(vmq_worker_fn, worker, "vhost-mq-%d-%u",
			      owner_pid, pair);
	if (IS_ERR(task)) {
		err = PTR_ERR(task);
		goto err_free;
	}
	worker->task = task;
	wake_up_process(task);

	err = vmq_worker_attach_cgroups(worker);
	if (err)
		goto err_stop;
	return worker;

err_stop:
	kthread_stop(task);
err_free:
	kfree(worker);
	return ERR_PTR(err);
}

/* Stop the worker. Work still queued is not run; callers flush first. */
void vmq_worker_destroy(struct vmq_worker *worker)
{
	if (!worker)
		return;
	WARN_ON(!llist_empty(&worker->work_list));
	kthread_stop(worker->task);
	kfree(worker);
}

static int vmq_poll_wakeup(wait_queue_entry_t *wait, unsigned int mode,
			   int sync, void *key)
{
	struct vmq_poll *poll = container_of(wait, struct vmq_poll, wait);

	if (!(key_to_poll(key) & poll->mask))
		return 0;
	vmq_work_queue(READ_ONCE(poll->worker), &poll->work);
	return 0;
}

static void vmq_poll_func(struct file *file, wait_queue_head_t *wqh,
			  poll_table *table)
{
	struct vmq_poll *poll = container_of(table, struct vmq_poll, table);

	poll->wqh = wqh;
	add_wait_queue(wqh, &poll->wait);
}

void vmq_poll_init(struct vmq_poll *poll, vmq_work_fn_t fn, __poll_t mask)
{
	init_waitqueue_func_entry(&poll->wait, vmq_poll_wakeup);
	init_poll_funcptr(&poll->table, vmq_poll_func);
	poll->mask = mask;
	poll->wqh = NULL;
	poll->paused = false;
	vmq_work_init(&poll->work, fn);
}

/*
 * Hook into @file's wait queue; if it is ready already, queue the work
 * now. A file that reports an error cannot be polled: -EINVAL.
 */
int vmq_poll_start(struct vmq_poll *poll, struct file *file)
{
	__poll_t mask;

	if (poll->wqh)
		return 0;
	mask = vfs_poll(file, &poll->table);
	if (mask & poll->mask)
		vmq_work_queue(READ_ONCE(poll->worker), &poll->work);
	if (mask & EPOLLERR) {
		vmq_poll_stop(poll);
		return -EINVAL;
	}
	return 0;
}

void vmq_poll_stop(struct vmq_poll *poll)
{
	if (poll->wqh) {
		if (!poll->paused)
			remove_wait_queue(poll->wqh, &poll->wait);
		poll->paused = false;
		poll->wqh = NULL;
	}
}

/*
 * Off the wait queue while the caller drains the file anyway: the waker
 * then finds no waiter and skips the wait queue lock and our callback.
 * The wait queue head stays known (it lives as long as the file, which
 * the caller holds), so resuming needs no vfs_poll(): cheaper, and it
 * cannot fail (a tap whose device is gone answers EPOLLERR without
 * queueing us).
 */
void vmq_poll_pause(struct vmq_poll *poll)
{
	if (poll->wqh && !poll->paused) {
		remove_wait_queue(poll->wqh, &poll->wait);
		poll->paused = true;
	}
}

/*
 * Back on the wait queue. The caller looks at the file again afterwards:
 * whatever became ready while we were off it woke nobody.
 */
void vmq_poll_resume(struct vmq_poll *poll)
{
	if (!poll->paused)
		return;
	add_wait_queue(poll->wqh, &poll->wait);
	poll->paused = false;
	/*
	 * On the queue before the caller looks: pairs with the waker's full
	 * barrier between making the file ready and looking for waiters
	 * (skwq_has_sleeper()), so one of the two sees the other.
	 */
	smp_mb();
}

void vmq_poll_queue(struct vmq_poll *poll)
{
	vmq_work_queue(READ_ONCE(poll->worker), &poll->work);
}
