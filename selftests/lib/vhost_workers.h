/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The worker ioctls of 6.5 (include/uapi/linux/vhost.h, vhost-scsi's) and the
 * worker modes of 6.17, for build hosts whose <linux/vhost.h> predates them:
 * same numbers and layout. The module has its own copy in kmod/compat.h.
 * And helpers: does the kernel have task workers, where is a thread.
 */
#ifndef _VHX_SELFTESTS_VHOST_WORKERS_H
#define _VHX_SELFTESTS_VHOST_WORKERS_H

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <linux/vhost.h>

#ifndef VHOST_NEW_WORKER
struct vhost_worker_state {
	unsigned int worker_id;
};

struct vhost_vring_worker {
	unsigned int index;
	unsigned int worker_id;
};

#define VHOST_NEW_WORKER _IOR(VHOST_VIRTIO, 0x8, struct vhost_worker_state)
#define VHOST_FREE_WORKER _IOW(VHOST_VIRTIO, 0x9, struct vhost_worker_state)
#define VHOST_ATTACH_VRING_WORKER _IOW(VHOST_VIRTIO, 0x15, struct vhost_vring_worker)
#define VHOST_GET_VRING_WORKER _IOWR(VHOST_VIRTIO, 0x16, struct vhost_vring_worker)
#endif

/* 6.17's worker modes (0x84 and 0x85 since "vhost: Fix ioctl # for ..."). */
#ifndef VHOST_SET_FORK_FROM_OWNER
#define VHOST_FORK_OWNER_KTHREAD 0
#define VHOST_FORK_OWNER_TASK 1
#define VHOST_SET_FORK_FROM_OWNER _IOW(VHOST_VIRTIO, 0x84, __u8)
#define VHOST_GET_FORK_FROM_OWNER _IOR(VHOST_VIRTIO, 0x85, __u8)
#endif

/*
 * Does the running kernel have vhost_task, so that vhostx takes
 * VHOST_FORK_OWNER_TASK? vhostx builds it on 6.12 and later (kmod/compat.h).
 */
static inline bool vw_kernel_has_tasks(void)
{
	struct utsname u;
	unsigned int maj = 0, min = 0;

	if (uname(&u) || sscanf(u.release, "%u.%u", &maj, &min) != 2)
		return false;
	return maj > 6 || (maj == 6 && min >= 12);
}

/*
 * Is there a thread named @comm among @dir's entries (/proc for every
 * process, /proc/self/task for this process's threads)? Its id, or 0.
 */
static inline pid_t vw_find_thread(const char *dir, const char *comm)
{
	char path[600], buf[64];
	struct dirent *e;
	pid_t found = 0;
	DIR *d;
	FILE *f;

	d = opendir(dir);
	if (!d)
		return 0;
	while (!found && (e = readdir(d))) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "%s/%s/comm", dir, e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(buf, sizeof(buf), f)) {
			buf[strcspn(buf, "\n")] = 0;
			if (!strcmp(buf, comm))
				found = atoi(e->d_name);
		}
		fclose(f);
	}
	closedir(d);
	return found;
}

/* Wait up to a second for thread @comm to be (@want) or not be in @dir. */
static inline bool vw_thread_is(const char *dir, const char *comm, bool want)
{
	int i;

	for (i = 0; i < 100; i++) {
		if ((vw_find_thread(dir, comm) != 0) == want)
			return true;
		usleep(10000);
	}
	return false;
}

#endif /* _VHX_SELFTESTS_VHOST_WORKERS_H */
