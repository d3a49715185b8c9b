/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vhostx: live-object counts. Every object the module allocates or every
 * reference it takes on something outside it is counted here while it lives,
 * so tests can prove a sequence of opens, attaches and kills returns to zero
 * without reading shared slab caches. Shown in debugfs (vhostx/objects).
 */
#ifndef _VHX_OBJS_H
#define _VHX_OBJS_H

#include <linux/atomic.h>

enum vhx_obj {
	VHX_OBJ_DEV,		/* struct vhx_dev, open file to release */
	VHX_OBJ_VQ_BUFS,	/* a vq's iov/heads/batch buffers */
	VHX_OBJ_MEM,		/* a memory table */
	VHX_OBJ_MM,		/* an owner mm reference (mmget) */
	VHX_OBJ_WORKER,		/* a worker kthread */
	VHX_OBJ_KICK,		/* a kick eventfd file reference */
	VHX_OBJ_EVENTFD,	/* a call or err eventfd context */
	VHX_OBJ_SOCK,		/* a backend socket's file reference */
	__VHX_OBJ_MAX
};

extern atomic_long_t vhx_objs[__VHX_OBJ_MAX];
extern const char *const vhx_obj_names[__VHX_OBJ_MAX];

static inline void vhx_obj_get(enum vhx_obj o)
{
	atomic_long_inc(&vhx_objs[o]);
}

static inline void vhx_obj_put(enum vhx_obj o)
{
	atomic_long_dec(&vhx_objs[o]);
}

/* At module exit: log any count that is not back to zero. */
void vhx_objs_check(void);

#endif /* _VHX_OBJS_H */
