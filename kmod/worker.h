/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A device's workers, each running its queued work items in order: kernel
 * threads in the owner's mm and cgroups (VHOST_FORK_OWNER_KTHREAD, the
 * default), or threads of the owner process itself (VHOST_FORK_OWNER_TASK,
 * where the kernel has vhost_task). One per owned device to start with,
 * serving both queues; VHOST_NEW_WORKER adds more. Wake-ups come
 * from wait-queue callbacks (struct vhx_poll) on the kick eventfds and the
 * tap socket, so nothing on the wake path is a system call.
 */
#ifndef _VHX_WORKER_H
#define _VHX_WORKER_H

#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/llist.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/wait.h>

struct vhx_work;
typedef void (*vhx_work_fn_t)(struct vhx_work *work);

struct vhx_work {
	struct llist_node node;
	unsigned long flags;	/* VHX_WORK_QUEUED */
	vhx_work_fn_t fn;
};

/*
 * A worker belongs to one device (dev->workers[id]); id 0 is created at
 * SET_OWNER, the others by VHOST_NEW_WORKER. nattached counts the queues
 * whose vq->worker it is; it changes only under dev->mutex.
 */
struct vhx_worker {
	/* The thread (a reference is held in task mode); set before use. */
	struct task_struct *task;
	struct vhost_task *vtsk;	/* task mode only */
	struct llist_head list;		/* queued work, lock-free */
	struct mm_struct *mm;		/* owner's mm; the caller holds a reference */
	u32 id;
	unsigned int nattached;
	/*
	 * KCOV's handle of the task that made the worker: with KCOV, a
	 * fuzzer that enabled remote coverage (KCOV_REMOTE_ENABLE with a
	 * common handle) gets the coverage of the work it caused, as with
	 * vhost's workers. 0 without KCOV.
	 */
	u64 kcov_handle;
	/*
	 * Task mode: the owner got SIGKILL and the thread exits with it. Set
	 * once, by the thread; work queued before it ran (drained is then
	 * complete), work queued after it is refused. vhx_work_queue() reads
	 * it under rcu_read_lock(), and the thread waits for a grace period
	 * after setting it, so no waker touches the thread once it is gone.
	 */
	bool dead;
	struct completion drained;
	struct completion started;	/* task mode: ->task is set */
	/*
	 * The CPUs the owner's cpuset gave the thread when it joined the
	 * owner's cgroups: what pinning (vhx_worker_pin) may choose from.
	 */
	cpumask_var_t allowed;
};

/* What netlink shows of a worker. */
struct vhx_worker_info {
	pid_t pid;
	unsigned int cpu;	/* the CPU it last ran on */
	u64 cpu_ns;		/* CPU time used */
};

/* A wait-queue hook that queues @work when @file signals any of @mask. */
struct vhx_poll {
	poll_table table;
	wait_queue_head_t *wqh;		/* non-NULL while hooked */
	wait_queue_entry_t wait;
	struct vhx_worker *worker;
	struct vhx_work *work;
	__poll_t mask;
	/*
	 * While set, wake-ups are ignored but the entry stays hooked, so
	 * muting and unmuting never take the wait-queue lock. Written by the
	 * queue's owner (under its vq->mutex), read locklessly by the wake-up.
	 */
	bool muted;
	/*
	 * Called from the wake-up, under the wait-queue lock of the file
	 * being polled (so calls for one file never run concurrently).
	 */
	void (*on_wake)(struct vhx_poll *poll);
};

void vhx_work_init(struct vhx_work *work, vhx_work_fn_t fn);
bool vhx_work_queue(struct vhx_worker *worker, struct vhx_work *work);
static inline bool vhx_work_pending(const struct vhx_work *work)
{
	return test_bit(0, &work->flags);
}

/* Is other work waiting? Lets a busy-polling handler step aside. */
static inline bool vhx_worker_has_work(struct vhx_worker *worker)
{
	return !llist_empty(&worker->list);
}

/* The worker modes, VHOST_FORK_OWNER_{KTHREAD,TASK}'s values. */
enum vhx_worker_mode {
	VHX_WORKER_KTHREAD = 0,
	VHX_WORKER_TASK = 1,
};

bool vhx_worker_mode_ok(unsigned int mode);
struct vhx_worker *vhx_worker_create(struct mm_struct *mm, pid_t owner, u32 id,
				     enum vhx_worker_mode mode);
void vhx_worker_destroy(struct vhx_worker *worker);
void vhx_worker_flush(struct vhx_worker *worker);
void vhx_worker_info(const struct vhx_worker *worker, struct vhx_worker_info *info);
const struct cpumask *vhx_worker_cpus(const struct vhx_worker *worker);
int vhx_worker_pin(struct vhx_worker *worker, const struct cpumask *cpus);

void vhx_poll_init(struct vhx_poll *poll, struct vhx_worker *worker,
		   struct vhx_work *work, __poll_t mask);
int vhx_poll_start(struct vhx_poll *poll, struct file *file);
void vhx_poll_stop(struct vhx_poll *poll);

/*
 * Ignore wake-ups from now on, or take them again. After unmuting, the
 * caller must look at the file once more (the wake-up it ignored may have
 * been the last one): vhx_poll_unmute() orders that look after the flag, and
 * the waker orders its data before reading the flag (wq_has_sleeper()'s
 * barrier, for sockets), so at least one of them sees the other.
 */
static inline void vhx_poll_mute(struct vhx_poll *poll)
{
	WRITE_ONCE(poll->muted, true);
}

static inline void vhx_poll_unmute(struct vhx_poll *poll)
{
	WRITE_ONCE(poll->muted, false);
	/* The flag before the caller's look; pairs with the waker's barrier. */
	smp_mb();
}

#endif /* _VHX_WORKER_H */
