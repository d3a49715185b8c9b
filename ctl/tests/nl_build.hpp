// SPDX-License-Identifier: GPL-2.0
// Test helpers: netlink messages as the vhostx module would send them, built
// with libnl's message API, and hex dumps turned back into bytes.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string_view>
#include <vector>

#include <netlink/attr.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>

#include <linux/vhost_types.h>

#include "vhostx/model.hpp"
#include "vhostx/netlink.hpp"

namespace testing {

inline std::vector<uint8_t> from_hex(std::string_view hex)
{
	auto nibble = [](char c) -> uint8_t {
		if (c >= '0' && c <= '9')
			return static_cast<uint8_t>(c - '0');
		if (c >= 'a' && c <= 'f')
			return static_cast<uint8_t>(c - 'a' + 10);
		throw std::invalid_argument("bad hex");
	};
	std::vector<uint8_t> out;
	for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
		out.push_back(static_cast<uint8_t>(nibble(hex[i]) << 4 | nibble(hex[i + 1])));
	return out;
}

inline std::vector<uint8_t> bytes_of(nl_msg *msg)
{
	const nlmsghdr *h = nlmsg_hdr(msg);
	const auto *p = reinterpret_cast<const uint8_t *>(h);
	return {p, p + h->nlmsg_len};
}

inline vhostx::netlink::MsgPtr new_msg(uint8_t cmd, int flags = 0, int type = 0x20)
{
	vhostx::netlink::MsgPtr msg(nlmsg_alloc());
	if (!msg || !genlmsg_put(msg.get(), 1234, 7, type, 0, flags, cmd, VHOSTX_GENL_VERSION))
		throw std::runtime_error("genlmsg_put");
	return msg;
}

// The module a reply comes from: the current one, or one from before dirty
// logging (no VHOSTX_A_DEV_LOGGING, no VHOSTX_A_QUEUE_LOG_USED, no
// log_pages counter).
enum class Module { current, before_logging };

// A VHOSTX_CMD_DEV_GET reply, attribute for attribute like kmod/netlink.c:
// backend attributes only with a backend, broken reason/text only if broken.
inline std::vector<uint8_t> encode_dev(const vhostx::DevInfo &d, int flags = 0,
				       Module module = Module::current)
{
	const bool logging = module == Module::current;
	const std::size_t counters =
		logging ? vhostx::kNumCounters : std::size_t{VHOSTX_CNT_LOG_PAGES};
	auto msg = new_msg(VHOSTX_CMD_DEV_GET, flags);
	nl_msg *m = msg.get();
	nla_put_u32(m, VHOSTX_A_DEV_ID, d.id);
	nla_put_u32(m, VHOSTX_A_DEV_OWNER_PID, d.owner_pid);
	nla_put_u64(m, VHOSTX_A_DEV_FEATURES, d.features);
	nla_put_u32(m, VHOSTX_A_DEV_BUSYPOLL_US, d.busypoll_us);
	nla_put_u32(m, VHOSTX_A_DEV_WEIGHT_PACKETS, d.weight_packets);
	nla_put_u32(m, VHOSTX_A_DEV_WEIGHT_BYTES, d.weight_bytes);
	if (logging)
		nla_put_u8(m, VHOSTX_A_DEV_LOGGING, d.logging);
	if (d.backend_ifindex) {
		nla_put_u32(m, VHOSTX_A_DEV_BACKEND_IFINDEX, d.backend_ifindex);
		nla_put_string(m, VHOSTX_A_DEV_BACKEND_IFNAME, d.backend_ifname.c_str());
	}
	nlattr *queues = nla_nest_start(m, VHOSTX_A_DEV_QUEUES);
	for (const auto &q : d.queues) {
		nlattr *nest = nla_nest_start(m, VHOSTX_A_QUEUE);
		nla_put_u32(m, VHOSTX_A_QUEUE_INDEX, q.index);
		nla_put_u32(m, VHOSTX_A_QUEUE_NUM, q.num);
		nla_put_u32(m, VHOSTX_A_QUEUE_LAST_AVAIL, q.last_avail);
		nla_put_u32(m, VHOSTX_A_QUEUE_USED_IDX, q.used_idx);
		nla_put_u8(m, VHOSTX_A_QUEUE_ENABLED, q.enabled);
		nla_put_u8(m, VHOSTX_A_QUEUE_BROKEN, q.broken);
		nla_put_u32(m, VHOSTX_A_QUEUE_BUSYPOLL_US, q.busypoll_us);
		if (logging)
			nla_put_u8(m, VHOSTX_A_QUEUE_LOG_USED, q.log_used);
		if (q.worker_id)
			nla_put_u32(m, VHOSTX_A_QUEUE_WORKER_ID, *q.worker_id);
		if (q.broken) {
			nla_put_u32(m, VHOSTX_A_QUEUE_BROKEN_REASON, q.broken_reason);
			nla_put_string(m, VHOSTX_A_QUEUE_BROKEN_TEXT, q.broken_text.c_str());
		}
		nlattr *stats = nla_nest_start(m, VHOSTX_A_QUEUE_STATS);
		for (std::size_t i = 0; i < counters; i++)
			nla_put_u64(m, static_cast<int>(i + 1), q.counters[i]);
		nla_nest_end(m, stats);
		nla_nest_end(m, nest);
	}
	nla_nest_end(m, queues);
	if (!d.workers.empty()) {
		nlattr *workers = nla_nest_start(m, VHOSTX_A_DEV_WORKERS);
		for (const auto &w : d.workers) {
			nlattr *nest = nla_nest_start(m, VHOSTX_A_WORKER);
			nla_put_u32(m, VHOSTX_A_WORKER_ID, w.id);
			nla_put_u32(m, VHOSTX_A_WORKER_PID, w.pid);
			nla_put_u32(m, VHOSTX_A_WORKER_CPU, w.cpu);
			nla_put_u64(m, VHOSTX_A_WORKER_CPU_NS, w.cpu_ns);
			nla_put_string(m, VHOSTX_A_WORKER_CPUS, w.cpus.c_str());
			nla_put_u32(m, VHOSTX_A_WORKER_QUEUES, w.queues);
			nla_put_u32(m, VHOSTX_A_WORKER_MODE, w.task ? 1 : 0);
			nla_nest_end(m, nest);
		}
		nla_nest_end(m, workers);
	}
	return bytes_of(m);
}

inline std::vector<uint8_t> encode_queue_broken(const vhostx::QueueBrokenEvent &ev)
{
	auto msg = new_msg(VHOSTX_CMD_QUEUE_BROKEN);
	nl_msg *m = msg.get();
	nla_put_u32(m, VHOSTX_A_QUEUE_DEV_ID, ev.dev_id);
	nla_put_u32(m, VHOSTX_A_QUEUE_INDEX, ev.queue_index);
	nla_put_u32(m, VHOSTX_A_QUEUE_BROKEN_REASON, ev.reason);
	nla_put_string(m, VHOSTX_A_QUEUE_BROKEN_TEXT, ev.text.c_str());
	return bytes_of(m);
}

inline vhostx::Counters counters_from(uint64_t base)
{
	vhostx::Counters c{};
	for (std::size_t i = 0; i < c.size(); i++)
		c[i] = base + i;
	return c;
}

// Two devices a running VMM would show: 3 attached to tap0, busy and being
// migrated (dirty logging on, both used rings logged), 5 with a TX queue
// stopped by a bad head index.
inline std::vector<vhostx::DevInfo> sample_devices()
{
	using vhostx::DevInfo;
	using vhostx::QueueInfo;
	DevInfo a;
	a.id = 3;
	a.owner_pid = 4242;
	a.features = (1ULL << 32) | (1ULL << 29) | (1ULL << VHOST_F_LOG_ALL) | (1ULL << 15);
	a.logging = true;
	a.backend_ifindex = 7;
	a.backend_ifname = "tap0";
	a.busypoll_us = 50;
	a.weight_packets = 256;
	a.weight_bytes = 524288;
	QueueInfo rx{0, 256, 1000, 1000, true, false, 0, "", 50, true, counters_from(100), {}};
	QueueInfo tx{1, 256, 2000, 1999, true, false, 0, "", 50, true, counters_from(1000000), {}};
	a.queues = {rx, tx};

	DevInfo b;
	b.id = 5;
	b.owner_pid = 777;
	b.features = 1ULL << 32;
	b.backend_ifindex = 9;
	b.backend_ifname = "tap1";
	b.weight_packets = 64;
	b.weight_bytes = 65536;
	QueueInfo rx2{0, 128, 5, 5, true, false, 0, "", 0, false, {}, {}};
	QueueInfo tx2{1, 128, 17, 16, true, true, VHOSTX_BROKEN_HEAD, "head index out of range", 0,
		      false, {}, {}};
	tx2.counters[VHOSTX_CNT_ERR_RING] = 1;
	b.queues = {rx2, tx2};
	return {a, b};
}

} // namespace testing
