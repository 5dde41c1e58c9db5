/* SPDX-License-Identifier: GPL-2.0 */
/*
 * worker.h - a kernel thread that runs work items in the owner's address
 * space and cgroups. One worker serves one queue pair.
 */
#ifndef VMQ_WORKER_H
#define VMQ_WORKER_H

#include <linux/llist.h>
#include <linux/mm_types.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/wait.h>

struct vmq_work;
typedef void (*vmq_work_fn_t)(struct vmq_work *work);

/*
 * A work item. Queueing an item that is already queued does nothing, so
 * wakeups from any context collapse into one run.
 */
struct vmq_work {
	struct llist_node node;
	vmq_work_fn_t fn;
	unsigned long flags;	/* VMQ_WORK_QUEUED */
};

#define VMQ_WORK_QUEUED	0

struct vmq_worker {
	struct task_struct *task;
	struct mm_struct *mm;		/* owner's mm; the caller holds a user */
	struct llist_head work_list;	/* lock-free: any context may queue */
};

void vmq_work_init(struct vmq_work *work, vmq_work_fn_t fn);
void vmq_work_queue(struct vmq_worker *worker, struct vmq_work *work);
void vmq_worker_flush(struct vmq_worker *worker);

static inline bool vmq_worker_has_work(struct vmq_worker *worker)
{
	return !llist_empty(&worker->work_list);
}

struct vmq_worker *vmq_worker_create(struct mm_struct *mm, pid_t owner_pid,
				     unsigned int pair);
void vmq_worker_destroy(struct vmq_worker *worker);

/*
 * Queues a work item whenever a file's wait queue wakes with an event in
 * mask: a kick eventfd, or a tap's socket. Start and stop under the lock
 * of whatever owns the poll; the worker must outlive a started poll.
 */
struct vmq_poll {
	poll_table table;
	wait_queue_head_t *wqh;		/* non-NULL while started */
	wait_queue_entry_t wait;
	bool paused;			/* started, but off wqh for now */
	struct vmq_work work;
	__poll_t mask;
	struct vmq_worker *worker;
};

void vmq_poll_init(struct vmq_poll *poll, vmq_work_fn_t fn, __poll_t mask);
int vmq_poll_start(struct vmq_poll *poll, struct file *file);
void vmq_poll_stop(struct vmq_poll *poll);
void vmq_poll_pause(struct vmq_poll *poll);
void vmq_poll_resume(struct vmq_poll *poll);
void vmq_poll_queue(struct vmq_poll *poll);

#endif /* VMQ_WORKER_H */
