// SPDX-License-Identifier: GPL-2.0
/*
 * vhostx: a device's workers, and which queue each one serves.
 *
 * SET_OWNER creates worker 0 and gives it both queues, as vhost does.
 * VHOST_NEW_WORKER adds one (the lowest free id), VHOST_ATTACH_VRING_WORKER
 * moves a stopped queue to it, VHOST_GET_VRING_WORKER says which it is and
 * VHOST_FREE_WORKER ends one that serves no queue: vhost-scsi's ioctls, with
 * its numbers, structs and errnos (drivers/vhost/vhost.c, 6.5). Queues on
 * different workers run in parallel, each on its own thread.
 *
 * VHOST_SET_FORK_FROM_OWNER picks, before SET_OWNER, whether the workers are
 * kthreads or threads of the owner (6.17's ioctls; its errnos). vhostx's
 * default is the kthread on every kernel, fork_from_owner_default=1 makes it
 * the task where the kernel has them, as vhost_net's default is there.
 *
 * Locking: dev->workers[], vq->worker and worker->nattached change only under
 * dev->mutex, and a queue's worker only while the queue is stopped (no
 * backend, no kick eventfd) and under its vq->mutex too, so no wake-up can
 * race with the change: the polls that queue work are not hooked.
 */
#include <linux/moduleparam.h>
#include <linux/nospec.h>
#include <linux/uaccess.h>
#include <linux/vhost.h>

#include "compat.h"
#include "dev.h"
#include "workers.h"

static bool fork_from_owner_default;
module_param(fork_from_owner_default, bool, 0444);
MODULE_PARM_DESC(fork_from_owner_default,
		 "Workers are tasks of the owner unless VHOST_SET_FORK_FROM_OWNER says otherwise, where the kernel has them (default: N, kthreads)");

/*
 * For VMMs that never call VHOST_NEW_WORKER (QEMU, libvirt): every device
 * that gets an owner from now on starts with two workers, RX on worker 0 and
 * TX on worker 1, so the two directions run in parallel.
 */
static bool split_workers;
module_param(split_workers, bool, 0644);
MODULE_PARM_DESC(split_workers,
		 "Devices get RX and TX on workers of their own at SET_OWNER (default: N, one worker)");

/* The mode of a new device's workers, and after RESET_OWNER. */
u8 vhx_workers_default_mode(void)
{
	if (fork_from_owner_default && vhx_worker_mode_ok(VHX_WORKER_TASK))
		return VHX_WORKER_TASK;
	return VHX_WORKER_KTHREAD;
}

/*
 * VHOST_SET/GET_FORK_FROM_OWNER: GET from anyone at any time; SET before
 * SET_OWNER only (EBUSY after), 0 (kthread) or 1 (task) only (EINVAL), and 1
 * only where the kernel has vhost_task (EINVAL, the errno upstream gives a
 * mode it does not take).
 */
long vhx_workers_mode_ioctl(struct vhx_dev *d, unsigned int ioctl,
			    u8 __user *argp)
{
	long ret = 0;
	u8 mode;

	mutex_lock(&d->mutex);
	if (ioctl == VHOST_GET_FORK_FROM_OWNER) {
		ret = put_user(d->worker_mode, argp);
		goto out;
	}
	ret = -EBUSY;
	if (d->mm)
		goto out;
	ret = -EFAULT;
	if (get_user(mode, argp))
		goto out;
	ret = -EINVAL;
	if (!vhx_worker_mode_ok(mode))
		goto out;
	d->worker_mode = mode;
	ret = 0;
out:
	mutex_unlock(&d->mutex);
	return ret;
}

static void vhx_vq_set_worker(struct vhx_vq *vq, struct vhx_worker *worker)
{
	if (vq->worker)
		vq->worker->nattached--;
	if (worker)
		worker->nattached++;
	vq->worker = worker;
	vq->kick_poll.worker = worker;
}

/*
 * Worker 0, serving both queues; or with split_workers, worker 0 for RX and
 * worker 1 for TX. dev->mutex held; the owner's mm is @mm.
 */
int vhx_workers_start(struct vhx_dev *d, struct mm_struct *mm)
{
	struct vhx_worker *workers[2] = {}, *w;
	int i, ret, n = READ_ONCE(split_workers) ? 2 : 1;

	for (i = 0; i < n; i++) {
		w = vhx_worker_create(mm, current->tgid, i, d->worker_mode);
		if (IS_ERR(w)) {
			ret = PTR_ERR(w);
			goto err;
		}
		workers[i] = w;
	}
	for (i = 0; i < VHX_NVQS; i++) {
		w = workers[i == VHX_VQ_TX ? n - 1 : 0];
		mutex_lock(&d->vqs[i].mutex);
		vhx_vq_set_worker(&d->vqs[i], w);
		mutex_unlock(&d->vqs[i].mutex);
	}
	for (i = 0; i < n; i++)
		d->workers[i] = workers[i];
	return 0;

err:
	while (i--)
		vhx_worker_destroy(workers[i]);
	return ret;
}

/*
 * Every worker of the device, ended. The caller stopped every poll and
 * detached every backend. dev->mutex held.
 */
void vhx_workers_stop(struct vhx_dev *d)
{
	int i;

	for (i = 0; i < VHX_NVQS; i++) {
		mutex_lock(&d->vqs[i].mutex);
		vhx_vq_set_worker(&d->vqs[i], NULL);
		mutex_unlock(&d->vqs[i].mutex);
	}
	for (i = 0; i < VHX_MAX_WORKERS; i++) {
		if (!d->workers[i])
			continue;
		vhx_worker_destroy(d->workers[i]);
		d->workers[i] = NULL;
	}
}

/* Wait until every work item queued on any of the device's workers ran. */
void vhx_workers_flush(struct vhx_dev *d)
{
	int i;

	for (i = 0; i < VHX_MAX_WORKERS; i++)
		if (d->workers[i])
			vhx_worker_flush(d->workers[i]);
}

/* Worker @id of @d, or NULL. dev->mutex held. */
struct vhx_worker *vhx_workers_find(struct vhx_dev *d, u32 id)
{
	if (id >= VHX_MAX_WORKERS)
		return NULL;
	return d->workers[array_index_nospec(id, VHX_MAX_WORKERS)];
}

static long vhx_workers_new(struct vhx_dev *d, void __user *argp)
{
	struct vhost_worker_state st = {};
	struct vhx_worker *worker;
	u32 id;

	for (id = 0; id < VHX_MAX_WORKERS && d->workers[id]; id++)
		;
	/* vhost's xa_alloc() answers EBUSY when no id is left. */
	if (id == VHX_MAX_WORKERS)
		return -EBUSY;
	worker = vhx_worker_create(d->mm, d->owner_tgid, id, d->worker_mode);
	if (IS_ERR(worker))
		return PTR_ERR(worker);
	st.worker_id = id;
	if (copy_to_user(argp, &st, sizeof(st))) {
		vhx_worker_destroy(worker);
		return -EFAULT;
	}
	d->workers[id] = worker;
	return 0;
}

static long vhx_workers_free(struct vhx_dev *d, void __user *argp)
{
	struct vhost_worker_state st;
	struct vhx_worker *worker;

	if (copy_from_user(&st, argp, sizeof(st)))
		return -EFAULT;
	worker = vhx_workers_find(d, st.worker_id);
	if (!worker)
		return -ENODEV;
	if (worker->nattached)
		return -EBUSY;
	d->workers[worker->id] = NULL;
	vhx_worker_destroy(worker);
	return 0;
}

/* ATTACH and GET for one queue; vq->mutex held. */
static long vhx_workers_vring(struct vhx_dev *d, struct vhx_vq *vq,
			      unsigned int ioctl, void __user *argp)
{
	struct vhost_vring_worker w;
	struct vhx_worker *worker;

	if (ioctl == VHOST_GET_VRING_WORKER) {
		w.index = vq->index;
		w.worker_id = vq->worker->id;
		return copy_to_user(argp, &w, sizeof(w)) ? -EFAULT : 0;
	}
	if (copy_from_user(&w, argp, sizeof(w)))
		return -EFAULT;
	/* Only a stopped queue moves: nothing can queue its work meanwhile. */
	if (vq->sock || vq->kick)
		return -EBUSY;
	worker = vhx_workers_find(d, w.worker_id);
	if (!worker)
		return -ENODEV;
	vhx_vq_set_worker(vq, worker);
	return 0;
}

/*
 * The worker ioctls. Without an owner EINVAL and from another process EPERM,
 * as vhost_worker_ioctl() answers; a queue index out of range is ENOBUFS.
 */
long vhx_workers_ioctl(struct vhx_dev *d, unsigned int ioctl,
		       void __user *argp)
{
	struct vhx_vq *vq;
	long ret;
	u32 idx;

	mutex_lock(&d->mutex);
	ret = -EINVAL;
	if (!d->mm)
		goto out;
	ret = -EPERM;
	if (d->mm != current->mm)
		goto out;
	switch (ioctl) {
	case VHOST_NEW_WORKER:
		ret = vhx_workers_new(d, argp);
		goto out;
	case VHOST_FREE_WORKER:
		ret = vhx_workers_free(d, argp);
		goto out;
	}
	ret = -EFAULT;
	if (get_user(idx, (u32 __user *)argp))
		goto out;
	ret = -ENOBUFS;
	if (idx >= VHX_NVQS)
		goto out;
	vq = &d->vqs[array_index_nospec(idx, VHX_NVQS)];
	mutex_lock(&vq->mutex);
	ret = vhx_workers_vring(d, vq, ioctl, argp);
	mutex_unlock(&vq->mutex);
out:
	mutex_unlock(&d->mutex);
	return ret;
}
