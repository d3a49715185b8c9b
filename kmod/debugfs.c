// SPDX-License-Identifier: GPL-2.0
/*
 * vhostx: /sys/kernel/debug/vhostx/devices, a plain-text view of every device,
 * its queues and counters, for tests and for a quick look. The stable
 * interface is generic netlink; this file's format may change.
 */
#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include "debugfs.h"
#include "dev.h"
#include "objs.h"

static const char *const vhx_cnt_names[__VHOSTX_CNT_MAX] = {
	[VHOSTX_CNT_KICKS] = "kicks",
	[VHOSTX_CNT_IRQS] = "irqs",
	[VHOSTX_CNT_IRQS_SUPPRESSED] = "irqs_suppressed",
	[VHOSTX_CNT_PACKETS] = "packets",
	[VHOSTX_CNT_BYTES] = "bytes",
	[VHOSTX_CNT_BATCHES] = "batches",
	[VHOSTX_CNT_BYTES_COPIED] = "bytes_copied",
	[VHOSTX_CNT_BUSYPOLL_SPINS] = "busypoll_spins",
	[VHOSTX_CNT_DROPS] = "drops",
	[VHOSTX_CNT_ERR_RING] = "err_ring",
	[VHOSTX_CNT_ERR_SOCK] = "err_sock",
	[VHOSTX_CNT_RX_NOBUF] = "rx_nobuf",
	[VHOSTX_CNT_REQUEUES] = "requeues",
	[VHOSTX_CNT_LOG_PAGES] = "log_pages",
};

static struct dentry *vhx_debugfs_dir;

static void vhx_debugfs_show_vq(struct seq_file *m, struct vhx_vq *vq)
{
	u64 cnt[__VHOSTX_CNT_MAX];
	int i;

	vhx_vq_read_stats(vq, cnt);
	mutex_lock(&vq->mutex);
	seq_printf(m, "  vq %u %s num %u last_avail %u last_used %u backend %s broken %s log_used %s",
		   vq->index, vq->index == VHX_VQ_TX ? "tx" : "rx",
		   vq->ring.num, vq->ring.last_avail_idx,
		   vq->ring.last_used_idx, vq->sock ? "yes" : "no",
		   vq->broken ? "yes" : "no", vq->log_used ? "yes" : "no");
	if (vq->broken)
		seq_printf(m, " reason \"%s\"", vhx_vq_err_str(vq->broken_reason));
	mutex_unlock(&vq->mutex);
	seq_puts(m, "\n   ");
	for (i = 0; i < __VHOSTX_CNT_MAX; i++)
		seq_printf(m, " %s %llu", vhx_cnt_names[i], cnt[i]);
	seq_putc(m, '\n');
}

static int vhx_debugfs_devices_show(struct seq_file *m, void *unused)
{
	unsigned long id = 0;
	struct vhx_dev *d;
	int i;

	mutex_lock(&vhx_devices_lock);
	for (; (d = vhx_dev_find(&id)); id++) {
		seq_printf(m, "dev %u owner %d features 0x%llx\n", d->id,
			   READ_ONCE(d->owner_tgid), READ_ONCE(d->features));
		for (i = 0; i < VHX_NVQS; i++)
			vhx_debugfs_show_vq(m, &d->vqs[i]);
	}
	mutex_unlock(&vhx_devices_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vhx_debugfs_devices);

/* One "name count" line per kind of live object (objs.h). */
static int vhx_debugfs_objects_show(struct seq_file *m, void *unused)
{
	int i;

	for (i = 0; i < __VHX_OBJ_MAX; i++)
		seq_printf(m, "%s %ld\n", vhx_obj_names[i],
			   atomic_long_read(&vhx_objs[i]));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vhx_debugfs_objects);

void vhx_debugfs_init(void)
{
	vhx_debugfs_dir = debugfs_create_dir("vhostx", NULL);
	debugfs_create_file("devices", 0400, vhx_debugfs_dir, NULL,
			    &vhx_debugfs_devices_fops);
	debugfs_create_file("objects", 0400, vhx_debugfs_dir, NULL,
			    &vhx_debugfs_objects_fops);
}

void vhx_debugfs_exit(void)
{
	debugfs_remove_recursive(vhx_debugfs_dir);
}
