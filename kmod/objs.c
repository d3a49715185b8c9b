// SPDX-License-Identifier: GPL-2.0
/*
 * vhostx: live-object counts (see objs.h). Plain atomics: they are touched
 * on open, release and the control-plane ioctls, never per packet.
 */
#include <linux/printk.h>

#include "objs.h"

atomic_long_t vhx_objs[__VHX_OBJ_MAX];

const char *const vhx_obj_names[__VHX_OBJ_MAX] = {
	[VHX_OBJ_DEV] = "devices",
	[VHX_OBJ_VQ_BUFS] = "vq_buffers",
	[VHX_OBJ_MEM] = "mem_tables",
	[VHX_OBJ_MM] = "mm_refs",
	[VHX_OBJ_WORKER] = "workers",
	[VHX_OBJ_KICK] = "kick_files",
	[VHX_OBJ_EVENTFD] = "eventfd_ctxs",
	[VHX_OBJ_SOCK] = "sockets",
};

void vhx_objs_check(void)
{
	long n;
	int i;

	for (i = 0; i < __VHX_OBJ_MAX; i++) {
		n = atomic_long_read(&vhx_objs[i]);
		if (n)
			pr_err("vhostx: %ld %s still counted at unload\n", n,
			       vhx_obj_names[i]);
	}
}
