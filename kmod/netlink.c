// SPDX-License-Identifier: GPL-2.0
/*
 * vhostx: the "vhostx" generic netlink family. DEV_GET (do and dump) shows
 * devices, queues, workers and counters; DEV_SET tunes busy polling and the
 * per-run weights; WORKER_SET pins a worker; QUEUE_BROKEN is multicast when
 * a guest's malformed ring stops a queue. See
 * Documentation/netlink/specs/vhostx.yaml.
 *
 * Permissions. A device belongs to the network namespace its file was
 * opened in, as a WireGuard interface belongs to one. A caller sees the
 * devices of its own namespace that its user opened, or all of them with
 * CAP_NET_ADMIN over that namespace; changing one takes CAP_NET_ADMIN over
 * its namespace. CAP_NET_ADMIN in the initial user namespace (the host's
 * administrator, vhostxctl run as root) sees and changes every device. A
 * device the caller may not see does not exist for it: ENODEV, as for an
 * unknown id.
 */
#include <net/genetlink.h>

#include <linux/vhostx.h>

#include "compat.h"
#include "dev.h"
#include "net.h"
#include "netlink.h"
#include "workers.h"

/* Busy polling longer than a second per wake-up helps nobody. */
static struct netlink_range_validation vhx_nl_busypoll_range = {
	.min = 0,
	.max = USEC_PER_SEC,
};

static const struct nla_policy vhx_nl_dev_policy[VHOSTX_A_DEV_MAX + 1] = {
	[VHOSTX_A_DEV_ID] = { .type = NLA_U32 },
	[VHOSTX_A_DEV_BUSYPOLL_US] =
		NLA_POLICY_FULL_RANGE(NLA_U32, &vhx_nl_busypoll_range),
	[VHOSTX_A_DEV_WEIGHT_PACKETS] = NLA_POLICY_MIN(NLA_U32, 1),
	[VHOSTX_A_DEV_WEIGHT_BYTES] = NLA_POLICY_MIN(NLA_U32, 1),
	[VHOSTX_A_DEV_WORKER_ID] = { .type = NLA_U32 },
	[VHOSTX_A_DEV_WORKER_CPUS] = { .type = NLA_NUL_STRING, .len = 1024 },
};

static struct genl_family vhx_nl_family;

enum { VHX_NL_MCGRP_EVENTS };

static const struct genl_multicast_group vhx_nl_mcgrps[] = {
	[VHX_NL_MCGRP_EVENTS] = { .name = VHOSTX_MCGRP_EVENTS },
};

/*
 * The UAPI's reason code for an internal one: ring errors up to
 * VHX_RERR_USED have the UAPI's values, later ones were appended there.
 */
static u32 vhx_nl_reason(unsigned int reason)
{
	switch (reason) {
	case VHX_RERR_LOG:
		return VHOSTX_BROKEN_LOG;
	case VHX_QERR_HDR:
		return VHOSTX_BROKEN_HDR;
	case VHX_QERR_START:
		return VHOSTX_BROKEN_START;
	default:
		return reason;
	}
}

static int vhx_nl_put_stats(struct sk_buff *skb, struct vhx_vq *vq)
{
	u64 cnt[__VHOSTX_CNT_MAX];
	struct nlattr *nest;
	int i;

	vhx_vq_read_stats(vq, cnt);
	nest = nla_nest_start(skb, VHOSTX_A_QUEUE_STATS);
	if (!nest)
		return -EMSGSIZE;
	for (i = 0; i < __VHOSTX_CNT_MAX; i++)
		if (nla_put_u64_64bit(skb, i + 1, cnt[i], VHOSTX_A_QUEUE_PAD))
			return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

/* One VHOSTX_A_QUEUE nest; vq->mutex held. */
static int vhx_nl_put_queue(struct sk_buff *skb, struct vhx_vq *vq)
{
	struct nlattr *nest = nla_nest_start(skb, VHOSTX_A_QUEUE);

	if (!nest ||
	    nla_put_u32(skb, VHOSTX_A_QUEUE_INDEX, vq->index) ||
	    nla_put_u32(skb, VHOSTX_A_QUEUE_NUM, vq->ring.num) ||
	    nla_put_u32(skb, VHOSTX_A_QUEUE_LAST_AVAIL, vq->ring.last_avail_idx) ||
	    nla_put_u32(skb, VHOSTX_A_QUEUE_USED_IDX, vq->ring.last_used_idx) ||
	    nla_put_u8(skb, VHOSTX_A_QUEUE_ENABLED, !!vq->sock) ||
	    nla_put_u8(skb, VHOSTX_A_QUEUE_BROKEN, vq->broken) ||
	    nla_put_u32(skb, VHOSTX_A_QUEUE_BUSYPOLL_US,
			vq->busyloop_timeout) ||
	    nla_put_u8(skb, VHOSTX_A_QUEUE_LOG_USED, vq->log_used) ||
	    (vq->worker &&
	     nla_put_u32(skb, VHOSTX_A_QUEUE_WORKER_ID, vq->worker->id)))
		return -EMSGSIZE;
	if (vq->broken &&
	    (nla_put_u32(skb, VHOSTX_A_QUEUE_BROKEN_REASON,
				 vhx_nl_reason(vq->broken_reason)) ||
	     nla_put_string(skb, VHOSTX_A_QUEUE_BROKEN_TEXT,
			    vhx_vq_err_str(vq->broken_reason))))
		return -EMSGSIZE;
	if (vhx_nl_put_stats(skb, vq))
		return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

/* The backend's netdev: the TX queue's, else the RX queue's. vq mutexes held. */
static int vhx_nl_put_backend(struct sk_buff *skb, struct vhx_dev *d)
{
	char name[IFNAMSIZ];
	int ifindex;

	ifindex = vhx_net_backend_dev(&d->vqs[VHX_VQ_TX], name);
	if (!ifindex)
		ifindex = vhx_net_backend_dev(&d->vqs[VHX_VQ_RX], name);
	if (!ifindex)
		return 0;
	if (nla_put_u32(skb, VHOSTX_A_DEV_BACKEND_IFINDEX, ifindex) ||
	    nla_put_string(skb, VHOSTX_A_DEV_BACKEND_IFNAME, name))
		return -EMSGSIZE;
	return 0;
}

/* One VHOSTX_A_WORKER nest; dev->mutex held. */
static int vhx_nl_put_worker(struct sk_buff *skb, struct vhx_worker *w)
{
	struct nlattr *nest = nla_nest_start(skb, VHOSTX_A_WORKER);
	struct vhx_worker_info info;
	char cpus[256];

	vhx_worker_info(w, &info);
	scnprintf(cpus, sizeof(cpus), "%*pbl", cpumask_pr_args(vhx_worker_cpus(w)));
	if (!nest ||
	    nla_put_u32(skb, VHOSTX_A_WORKER_ID, w->id) ||
	    nla_put_u32(skb, VHOSTX_A_WORKER_PID, info.pid) ||
	    nla_put_u32(skb, VHOSTX_A_WORKER_CPU, info.cpu) ||
	    nla_put_u64_64bit(skb, VHOSTX_A_WORKER_CPU_NS, info.cpu_ns,
			      VHOSTX_A_WORKER_PAD) ||
	    nla_put_string(skb, VHOSTX_A_WORKER_CPUS, cpus) ||
	    nla_put_u32(skb, VHOSTX_A_WORKER_QUEUES, w->nattached) ||
	    nla_put_u32(skb, VHOSTX_A_WORKER_MODE,
			w->vtsk ? VHX_WORKER_TASK : VHX_WORKER_KTHREAD))
		return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

static int vhx_nl_put_workers(struct sk_buff *skb, struct vhx_dev *d)
{
	struct nlattr *nest;
	u32 id;

	if (!d->mm)
		return 0;
	nest = nla_nest_start(skb, VHOSTX_A_DEV_WORKERS);
	if (!nest)
		return -EMSGSIZE;
	for (id = 0; id < VHX_MAX_WORKERS; id++) {
		struct vhx_worker *w = vhx_workers_find(d, id);

		if (w && vhx_nl_put_worker(skb, w))
			return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}

static int vhx_nl_put_dev_attrs(struct sk_buff *skb, struct vhx_dev *d)
{
	struct nlattr *queues;
	int i;

	if (nla_put_u32(skb, VHOSTX_A_DEV_ID, d->id) ||
	    nla_put_u32(skb, VHOSTX_A_DEV_OWNER_PID, d->owner_tgid) ||
	    nla_put_u64_64bit(skb, VHOSTX_A_DEV_FEATURES, d->features,
			      VHOSTX_A_DEV_PAD) ||
	    nla_put_u32(skb, VHOSTX_A_DEV_BUSYPOLL_US,
			d->vqs[VHX_VQ_TX].busyloop_timeout) ||
	    nla_put_u32(skb, VHOSTX_A_DEV_WEIGHT_PACKETS, d->weight_packets) ||
	    nla_put_u32(skb, VHOSTX_A_DEV_WEIGHT_BYTES, d->weight_bytes) ||
	    nla_put_u8(skb, VHOSTX_A_DEV_LOGGING,
		       !!(d->features & BIT_ULL(VHOST_F_LOG_ALL))) ||
	    vhx_nl_put_backend(skb, d) || vhx_nl_put_workers(skb, d))
		return -EMSGSIZE;
	queues = nla_nest_start(skb, VHOSTX_A_DEV_QUEUES);
	if (!queues)
		return -EMSGSIZE;
	for (i = 0; i < VHX_NVQS; i++)
		if (vhx_nl_put_queue(skb, &d->vqs[i]))
			return -EMSGSIZE;
	nla_nest_end(skb, queues);
	return 0;
}

/*
 * One device message. Takes d->mutex and both vq mutexes, so the snapshot
 * is consistent; vhx_devices_lock is held by the caller (keeps @d alive).
 */
static int vhx_nl_fill_dev(struct sk_buff *skb, struct vhx_dev *d, u32 portid,
			   u32 seq, int flags)
{
	void *hdr;
	int ret, i;

	hdr = genlmsg_put(skb, portid, seq, &vhx_nl_family, flags,
			  VHOSTX_CMD_DEV_GET);
	if (!hdr)
		return -EMSGSIZE;
	mutex_lock(&d->mutex);
	for (i = 0; i < VHX_NVQS; i++)
		mutex_lock_nested(&d->vqs[i].mutex, i);
	ret = vhx_nl_put_dev_attrs(skb, d);
	for (i = VHX_NVQS - 1; i >= 0; i--)
		mutex_unlock(&d->vqs[i].mutex);
	mutex_unlock(&d->mutex);
	if (ret) {
		genlmsg_cancel(skb, hdr);
		return ret;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

/* May the sender of @req (a request skb) see @d? See the top of the file. */
static bool vhx_nl_may_see(const struct sk_buff *req, const struct vhx_dev *d)
{
	if (netlink_capable(req, CAP_NET_ADMIN))
		return true;
	if (!net_eq(sock_net(req->sk), d->net))
		return false;
	return uid_eq(current_euid(), d->uid) ||
	       netlink_ns_capable(req, d->net->user_ns, CAP_NET_ADMIN);
}

/* May the sender of @req change @d's settings? */
static bool vhx_nl_may_change(const struct sk_buff *req,
			      const struct vhx_dev *d)
{
	if (netlink_capable(req, CAP_NET_ADMIN))
		return true;
	return net_eq(sock_net(req->sk), d->net) &&
	       netlink_ns_capable(req, d->net->user_ns, CAP_NET_ADMIN);
}

/*
 * The device named by VHOSTX_A_DEV_ID, if the sender may see it (and with
 * @change, change it); vhx_devices_lock held.
 */
static struct vhx_dev *vhx_nl_lookup(struct sk_buff *req,
				     struct genl_info *info, bool change)
{
	unsigned long id;
	struct vhx_dev *d;

	if (GENL_REQ_ATTR_CHECK(info, VHOSTX_A_DEV_ID))
		return ERR_PTR(-EINVAL);
	id = nla_get_u32(info->attrs[VHOSTX_A_DEV_ID]);
	d = vhx_dev_find(&id);
	if (!d || d->id != nla_get_u32(info->attrs[VHOSTX_A_DEV_ID]) ||
	    !vhx_nl_may_see(req, d)) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[VHOSTX_A_DEV_ID],
				    "no vhostx device with this id");
		return ERR_PTR(-ENODEV);
	}
	if (change && !vhx_nl_may_change(req, d)) {
		NL_SET_ERR_MSG(info->extack,
			       "changing this device needs CAP_NET_ADMIN over its network namespace");
		return ERR_PTR(-EPERM);
	}
	return d;
}

static int vhx_nl_dev_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff *msg;
	struct vhx_dev *d;
	int ret;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	mutex_lock(&vhx_devices_lock);
	d = vhx_nl_lookup(skb, info, false);
	ret = PTR_ERR_OR_ZERO(d);
	if (!ret)
		ret = vhx_nl_fill_dev(msg, d, info->snd_portid, info->snd_seq, 0);
	mutex_unlock(&vhx_devices_lock);
	if (ret) {
		nlmsg_free(msg);
		return ret;
	}
	return genlmsg_reply(msg, info);
}

/* Dump in id order; cb->args[0] is the next id to show. */
static int vhx_nl_dev_get_dumpit(struct sk_buff *skb,
				 struct netlink_callback *cb)
{
	unsigned long id = cb->args[0];
	struct vhx_dev *d;
	int ret = 0;

	mutex_lock(&vhx_devices_lock);
	for (; (d = vhx_dev_find(&id)); id++) {
		if (!vhx_nl_may_see(cb->skb, d))
			continue;
		ret = vhx_nl_fill_dev(skb, d, NETLINK_CB(cb->skb).portid,
				      cb->nlh->nlmsg_seq, NLM_F_MULTI);
		if (ret)
			break;
	}
	mutex_unlock(&vhx_devices_lock);
	cb->args[0] = id;
	/* A full skb ends this part; the next call continues at @id. */
	if (ret == -EMSGSIZE && skb->len)
		ret = 0;
	return ret ?: skb->len;
}

static int vhx_nl_dev_set_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr **a = info->attrs;
	struct vhx_dev *d;
	int i;

	mutex_lock(&vhx_devices_lock);
	d = vhx_nl_lookup(skb, info, true);
	if (IS_ERR(d)) {
		mutex_unlock(&vhx_devices_lock);
		return PTR_ERR(d);
	}
	if (a[VHOSTX_A_DEV_BUSYPOLL_US]) {
		for (i = 0; i < VHX_NVQS; i++) {
			mutex_lock(&d->vqs[i].mutex);
			d->vqs[i].busyloop_timeout =
				nla_get_u32(a[VHOSTX_A_DEV_BUSYPOLL_US]);
			mutex_unlock(&d->vqs[i].mutex);
		}
	}
	if (a[VHOSTX_A_DEV_WEIGHT_PACKETS])
		WRITE_ONCE(d->weight_packets,
			   nla_get_u32(a[VHOSTX_A_DEV_WEIGHT_PACKETS]));
	if (a[VHOSTX_A_DEV_WEIGHT_BYTES])
		WRITE_ONCE(d->weight_bytes,
			   nla_get_u32(a[VHOSTX_A_DEV_WEIGHT_BYTES]));
	mutex_unlock(&vhx_devices_lock);
	return 0;
}

/*
 * Pin one worker of a device to a CPU list, within the CPUs the owner's
 * cpuset gave it. The worker cannot go away meanwhile: dev->mutex is held,
 * and RESET_OWNER and close take it to end workers.
 */
static int vhx_nl_worker_set_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr **a = info->attrs;
	struct vhx_worker *w;
	cpumask_var_t cpus;
	struct vhx_dev *d;
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, VHOSTX_A_DEV_WORKER_ID) ||
	    GENL_REQ_ATTR_CHECK(info, VHOSTX_A_DEV_WORKER_CPUS))
		return -EINVAL;
	if (!zalloc_cpumask_var(&cpus, GFP_KERNEL))
		return -ENOMEM;
	ret = cpulist_parse(nla_data(a[VHOSTX_A_DEV_WORKER_CPUS]), cpus);
	if (ret) {
		if (ret == -ERANGE)
			NL_SET_ERR_MSG_ATTR(info->extack, a[VHOSTX_A_DEV_WORKER_CPUS],
					    "names a CPU this machine does not have");
		else
			NL_SET_ERR_MSG_ATTR(info->extack, a[VHOSTX_A_DEV_WORKER_CPUS],
					    "not a CPU list");
		ret = -EINVAL;
		goto out_free;
	}
	mutex_lock(&vhx_devices_lock);
	d = vhx_nl_lookup(skb, info, true);
	ret = PTR_ERR_OR_ZERO(d);
	if (ret)
		goto out_unlock;
	mutex_lock(&d->mutex);
	w = vhx_workers_find(d, nla_get_u32(a[VHOSTX_A_DEV_WORKER_ID]));
	ret = -ENODEV;
	if (!w) {
		NL_SET_ERR_MSG_ATTR(info->extack, a[VHOSTX_A_DEV_WORKER_ID],
				    "the device has no worker with this id");
	} else {
		ret = vhx_worker_pin(w, cpus);
		if (ret == -EINVAL)
			NL_SET_ERR_MSG_ATTR(info->extack, a[VHOSTX_A_DEV_WORKER_CPUS],
					    "empty, offline, or outside the CPUs of the owner's cpuset");
	}
	mutex_unlock(&d->mutex);
out_unlock:
	mutex_unlock(&vhx_devices_lock);
out_free:
	free_cpumask_var(cpus);
	return ret;
}

static const struct genl_ops vhx_nl_ops[] = {
	{
		.cmd = VHOSTX_CMD_DEV_GET,
		.doit = vhx_nl_dev_get_doit,
		.dumpit = vhx_nl_dev_get_dumpit,
	},
	{
		.cmd = VHOSTX_CMD_DEV_SET,
		.doit = vhx_nl_dev_set_doit,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = VHOSTX_CMD_WORKER_SET,
		.doit = vhx_nl_worker_set_doit,
		.flags = GENL_UNS_ADMIN_PERM,
	},
};

static struct genl_family vhx_nl_family __ro_after_init = {
	.name = VHOSTX_GENL_NAME,
	.version = VHOSTX_GENL_VERSION,
	.maxattr = VHOSTX_A_DEV_MAX,
	.policy = vhx_nl_dev_policy,
	.netnsok = true,
	.module = THIS_MODULE,
	.ops = vhx_nl_ops,
	.n_ops = ARRAY_SIZE(vhx_nl_ops),
	.resv_start_op = VHOSTX_CMD_DEV_SET + 1,
	.mcgrps = vhx_nl_mcgrps,
	.n_mcgrps = ARRAY_SIZE(vhx_nl_mcgrps),
};

/* The QUEUE_BROKEN event of @vq, or NULL without memory. */
static struct sk_buff *vhx_nl_broken_msg(struct vhx_vq *vq)
{
	struct sk_buff *msg;
	void *hdr;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return NULL;
	hdr = genlmsg_put(msg, 0, 0, &vhx_nl_family, 0, VHOSTX_CMD_QUEUE_BROKEN);
	if (!hdr ||
	    nla_put_u32(msg, VHOSTX_A_QUEUE_DEV_ID, vq->dev->id) ||
	    nla_put_u32(msg, VHOSTX_A_QUEUE_INDEX, vq->index) ||
	    nla_put_u32(msg, VHOSTX_A_QUEUE_BROKEN_REASON,
				vhx_nl_reason(vq->broken_reason)) ||
	    nla_put_string(msg, VHOSTX_A_QUEUE_BROKEN_TEXT,
			   vhx_vq_err_str(vq->broken_reason))) {
		nlmsg_free(msg);
		return NULL;
	}
	genlmsg_end(msg, hdr);
	return msg;
}

/*
 * Tell listeners that @vq stopped: those in the device's namespace, and the
 * host's (the initial namespace), where vhostxctl monitor usually runs. The
 * event names the device and queue only. Worker context (may sleep),
 * vq->mutex held. Best effort; rare, so no check for listeners first.
 */
void vhx_nl_notify_broken(struct vhx_vq *vq)
{
	struct net *net = vq->dev->net;
	struct sk_buff *msg;

	msg = vhx_nl_broken_msg(vq);
	if (msg)
		genlmsg_multicast_netns(&vhx_nl_family, net, msg, 0,
					VHX_NL_MCGRP_EVENTS, GFP_KERNEL);
	if (net_eq(net, &init_net))
		return;
	msg = vhx_nl_broken_msg(vq);
	if (msg)
		genlmsg_multicast_netns(&vhx_nl_family, &init_net, msg, 0,
					VHX_NL_MCGRP_EVENTS, GFP_KERNEL);
}

int __init vhx_nl_init(void)
{
	/* Ring errors up to USED are the UAPI's, value for value. */
	BUILD_BUG_ON((int)VHX_RERR_USED != (int)VHOSTX_BROKEN_USED);
	return genl_register_family(&vhx_nl_family);
}

void vhx_nl_exit(void)
{
	genl_unregister_family(&vhx_nl_family);
}
