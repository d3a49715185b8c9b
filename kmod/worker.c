// SPDX-License-Identifier: GPL-2.0
/*
 * vhostx: a device's worker threads (kthreads, or tasks of the owner) and
 * their wake-up hooks.
 *
 * Ordering rule: a work item is queued at most once at a time. Its QUEUED bit
 * is cleared (with a full barrier) before its function runs, so a wake-up that
 * arrives while the function runs queues it again and nothing is missed.
 */
#include <linux/cgroup.h>
#include <linux/completion.h>
#include <linux/kcov.h>
#include <linux/kthread.h>
#include <linux/sched/mm.h>
#include <linux/sched/task.h>
#include <linux/slab.h>

#include "compat.h"
#include "objs.h"
#include "worker.h"

enum { VHX_WORK_QUEUED = 0 };

void vhx_work_init(struct vhx_work *work, vhx_work_fn_t fn)
{
	clear_bit(VHX_WORK_QUEUED, &work->flags);
	work->fn = fn;
}

static void vhx_worker_wake(struct vhx_worker *worker)
{
#if VHX_HAVE_VHOST_TASK
	if (worker->vtsk) {
		vhost_task_wake(worker->vtsk);
		return;
	}
#endif
	wake_up_process(worker->task);
}

/*
 * Queue @work unless it already is; wake the worker. Any context. False if
 * it was queued already, or the worker is dead (the owner was killed).
 */
bool vhx_work_queue(struct vhx_worker *worker, struct vhx_work *work)
{
	bool queued = false;

	if (!worker)
		return false;
	/* The thread outlives this section: see vhx_worker_killed(). */
	rcu_read_lock();
	if (READ_ONCE(worker->dead))
		goto out;
	if (test_and_set_bit(VHX_WORK_QUEUED, &work->flags))
		goto out;
	/* llist_add is a full barrier: the worker sees the item. */
	llist_add(&work->node, &worker->list);
	vhx_worker_wake(worker);
	queued = true;
out:
	rcu_read_unlock();
	return queued;
}

/* Run what is queued, in order; false if nothing was. */
static bool vhx_worker_run(struct vhx_worker *worker)
{
	struct vhx_work *work, *next;
	struct llist_node *node;

	node = llist_del_all(&worker->list);
	if (!node)
		return false;
	__set_current_state(TASK_RUNNING);
	node = llist_reverse_order(node);
	llist_for_each_entry_safe(work, next, node, node) {
		clear_bit(VHX_WORK_QUEUED, &work->flags);
		/*
		 * Clear before running: a wake-up that races with fn()
		 * re-queues the work; pairs with the barrier in
		 * test_and_set_bit() in vhx_work_queue().
		 */
		smp_mb__after_atomic();
		kcov_remote_start_common(worker->kcov_handle);
		work->fn(work);
		kcov_remote_stop();
		cond_resched();
	}
	return true;
}

static int vhx_worker_kthread_fn(void *data)
{
	struct vhx_worker *worker = data;

	kthread_use_mm(worker->mm);
	for (;;) {
		/* Pairs with wake_up_process() in vhx_work_queue(). */
		set_current_state(TASK_INTERRUPTIBLE);
		if (kthread_should_stop()) {
			__set_current_state(TASK_RUNNING);
			break;
		}
		if (!vhx_worker_run(worker))
			schedule();
	}
	kthread_unuse_mm(worker->mm);
	return 0;
}

/* Kthread mode: joins the caller's cgroups, so its CPU time is charged there. */
static int vhx_worker_start_kthread(struct vhx_worker *worker, const char *name)
{
	struct task_struct *task;
	int ret;

	task = kthread_create(vhx_worker_kthread_fn, worker, "%s", name);
	if (IS_ERR(task))
		return PTR_ERR(task);
	ret = cgroup_attach_task_all(current, task);
	if (ret) {
		kthread_stop(task);
		return ret;
	}
	worker->task = task;
	wake_up_process(task);
	return 0;
}

#if VHX_HAVE_VHOST_TASK
/*
 * Task mode. vhost_task's loop calls this in TASK_INTERRUPTIBLE and sleeps
 * when it returns false; the first call names the thread for netlink.
 */
static bool vhx_worker_task_fn(void *data)
{
	struct vhx_worker *worker = data;

	if (unlikely(!worker->task)) {
		worker->task = get_task_struct(current);
		complete(&worker->started);
	}
	return vhx_worker_run(worker);
}

/*
 * The owner got SIGKILL: this thread exits with it, before the device's file
 * is released. Refuse new work, wait out the wakers that did not see that
 * (they hold rcu_read_lock()), run what they queued (a flush among it), and
 * let flushes that come later return at once.
 */
static void vhx_worker_killed(void *data)
{
	struct vhx_worker *worker = data;

	WRITE_ONCE(worker->dead, true);
	synchronize_rcu();
	while (vhx_worker_run(worker))
		;
	complete_all(&worker->drained);
}

static int vhx_worker_start_task(struct vhx_worker *worker, const char *name)
{
	struct vhost_task *vtsk;

	vtsk = vhost_task_create(vhx_worker_task_fn, vhx_worker_killed, worker,
				 name);
	if (IS_ERR_OR_NULL(vtsk))
		return vtsk ? PTR_ERR(vtsk) : -ENOMEM;
	worker->vtsk = vtsk;
	vhost_task_start(vtsk);
	wait_for_completion(&worker->started);
	return 0;
}
#else
static int vhx_worker_start_task(struct vhx_worker *worker, const char *name)
{
	return -EINVAL;
}
#endif

/* Can workers run in @mode on this kernel? */
bool vhx_worker_mode_ok(unsigned int mode)
{
	return mode == VHX_WORKER_KTHREAD ||
	       (mode == VHX_WORKER_TASK && VHX_HAVE_VHOST_TASK);
}

/*
 * Start a worker for an owner whose mm the caller holds (mmget) for the
 * worker's whole life; in task mode the caller is the owner. Named
 * vhostx-<owner pid>, and -<id> after it for the workers beyond the first.
 */
struct vhx_worker *vhx_worker_create(struct mm_struct *mm, pid_t owner, u32 id,
				     enum vhx_worker_mode mode)
{
	char name[32];		/* the thread's comm keeps TASK_COMM_LEN - 1 */
	struct vhx_worker *worker;
	int ret;

	worker = kzalloc(sizeof(*worker), GFP_KERNEL_ACCOUNT);
	if (!worker)
		return ERR_PTR(-ENOMEM);
	if (!zalloc_cpumask_var(&worker->allowed, GFP_KERNEL_ACCOUNT)) {
		ret = -ENOMEM;
		goto err_free;
	}
	init_llist_head(&worker->list);
	init_completion(&worker->drained);
	init_completion(&worker->started);
	worker->mm = mm;
	worker->id = id;
	worker->kcov_handle = kcov_common_handle();
	if (id)
		snprintf(name, sizeof(name), "vhostx-%d-%u", owner, id);
	else
		snprintf(name, sizeof(name), "vhostx-%d", owner);
	if (mode == VHX_WORKER_TASK)
		ret = vhx_worker_start_task(worker, name);
	else
		ret = vhx_worker_start_kthread(worker, name);
	if (ret)
		goto err_mask;
	/*
	 * What pinning may choose from: a kthread's CPUs after it joined the
	 * owner's cpuset, a task's as it inherited them from the caller.
	 */
	cpumask_copy(worker->allowed, worker->task->cpus_ptr);
	vhx_obj_get(VHX_OBJ_WORKER);
	return worker;

err_mask:
	free_cpumask_var(worker->allowed);
err_free:
	kfree(worker);
	return ERR_PTR(ret);
}

/*
 * A snapshot for netlink. The thread runs meanwhile: the CPU is where it last
 * ran and the time is what the scheduler accounted at its last update.
 */
void vhx_worker_info(const struct vhx_worker *worker, struct vhx_worker_info *info)
{
	struct task_struct *task = worker->task;

	info->pid = task_pid_nr(task);
	info->cpu = task_cpu(task);
	info->cpu_ns = READ_ONCE(task->se.sum_exec_runtime);
}

/* The CPUs the thread may run on now. */
const struct cpumask *vhx_worker_cpus(const struct vhx_worker *worker)
{
	return worker->task->cpus_ptr;
}

/*
 * Run the thread on @cpus only: online CPUs of those the owner's cpuset gave
 * it, else -EINVAL and nothing changes.
 */
int vhx_worker_pin(struct vhx_worker *worker, const struct cpumask *cpus)
{
	if (cpumask_empty(cpus) || !cpumask_subset(cpus, worker->allowed) ||
	    !cpumask_subset(cpus, cpu_online_mask))
		return -EINVAL;
	return set_cpus_allowed_ptr(worker->task, cpus);
}

struct vhx_flush {
	struct vhx_work work;
	struct completion done;
};

static void vhx_flush_fn(struct vhx_work *work)
{
	struct vhx_flush *f = container_of(work, struct vhx_flush, work);

	complete(&f->done);
}

/* Wait until every work item queued before this call has run. */
void vhx_worker_flush(struct vhx_worker *worker)
{
	struct vhx_flush f;

	if (!worker)
		return;
	init_completion(&f.done);
	vhx_work_init(&f.work, vhx_flush_fn);
	if (vhx_work_queue(worker, &f.work))
		wait_for_completion(&f.done);
	else if (READ_ONCE(worker->dead))
		wait_for_completion(&worker->drained);
}

/*
 * Run what is queued, then end the thread and free the worker. The caller
 * stopped every poll that could queue work here, and no queue uses it.
 */
void vhx_worker_destroy(struct vhx_worker *worker)
{
	vhx_worker_flush(worker);
#if VHX_HAVE_VHOST_TASK
	if (worker->vtsk) {
		/* Returns once the thread exited, killed or not. */
		vhost_task_stop(worker->vtsk);
		put_task_struct(worker->task);
	} else {
		kthread_stop(worker->task);
	}
#else
	kthread_stop(worker->task);
#endif
	vhx_obj_put(VHX_OBJ_WORKER);
	WARN_ON(!llist_empty(&worker->list));
	free_cpumask_var(worker->allowed);
	kfree(worker);
}

static int vhx_poll_wake(wait_queue_entry_t *wait, unsigned int mode,
			 int sync, void *key)
{
	struct vhx_poll *poll = container_of(wait, struct vhx_poll, wait);

	if (key && !(key_to_poll(key) & poll->mask))
		return 0;
	if (READ_ONCE(poll->muted))
		return 0;
	if (poll->on_wake)
		poll->on_wake(poll);
	vhx_work_queue(poll->worker, poll->work);
	return 0;
}

static void vhx_poll_queue_proc(struct file *file, wait_queue_head_t *wqh,
				poll_table *pt)
{
	struct vhx_poll *poll = container_of(pt, struct vhx_poll, table);

	poll->wqh = wqh;
	add_wait_queue(wqh, &poll->wait);
}

void vhx_poll_init(struct vhx_poll *poll, struct vhx_worker *worker,
		   struct vhx_work *work, __poll_t mask)
{
	init_waitqueue_func_entry(&poll->wait, vhx_poll_wake);
	init_poll_funcptr(&poll->table, vhx_poll_queue_proc);
	poll->mask = mask;
	poll->muted = false;
	poll->worker = worker;
	poll->work = work;
	poll->wqh = NULL;
}

/*
 * Hook @poll onto @file's wait queue. The caller keeps @file referenced until
 * vhx_poll_stop(). If the file is ready already, the work is queued now.
 */
int vhx_poll_start(struct vhx_poll *poll, struct file *file)
{
	__poll_t mask;

	if (poll->wqh)
		return 0;
	mask = vfs_poll(file, &poll->table);
	/* Ready already: run the work, but this was no new wake-up. */
	if (mask & poll->mask)
		vhx_work_queue(poll->worker, poll->work);
	if (mask & EPOLLERR) {
		vhx_poll_stop(poll);
		return -EINVAL;
	}
	return 0;
}

void vhx_poll_stop(struct vhx_poll *poll)
{
	if (poll->wqh) {
		remove_wait_queue(poll->wqh, &poll->wait);
		poll->wqh = NULL;
	}
}
