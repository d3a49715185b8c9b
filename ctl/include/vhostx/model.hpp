// SPDX-License-Identifier: GPL-2.0
// What the kernel reports about vhostx devices (VHOSTX_CMD_DEV_GET), as plain
// values. Names are stable: they are the keys of vhostxctl's JSON output.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <linux/vhostx.h>

namespace vhostx {

inline constexpr std::size_t kNumCounters = __VHOSTX_CNT_MAX;
using Counters = std::array<uint64_t, kNumCounters>;

// snake_case counter names, indexed by enum vhostx_counter.
inline constexpr std::array<std::string_view, kNumCounters> kCounterNames = {
	"kicks",	  "irqs",	 "irqs_suppressed", "packets", "bytes",
	"batches",	  "bytes_copied", "busypoll_spins",  "drops",	"err_ring",
	"err_sock",	  "rx_nobuf",	 "requeues",	    "log_pages",
};

// snake_case name of a broken reason (enum vhostx_broken_reason); "unknown"
// for codes this build does not know.
std::string_view broken_reason_name(uint32_t reason);

// "rx" for queue 0, "tx" for queue 1, "qN" beyond.
std::string queue_name(uint32_t index);

struct QueueInfo {
	uint32_t index = 0;
	uint32_t num = 0;		// ring size, 0 if not set
	uint32_t last_avail = 0;
	uint32_t used_idx = 0;
	bool enabled = false;		// backend attached
	bool broken = false;		// stopped by a malformed ring
	uint32_t broken_reason = VHOSTX_BROKEN_NONE;
	std::string broken_text;
	uint32_t busypoll_us = 0;
	bool log_used = false;		// used ring writes dirty-logged (VHOST_VRING_F_LOG);
					// false from modules without dirty logging
	Counters counters{};
	std::optional<uint32_t> worker_id; // the worker that runs it; absent without
					   // an owner, or from modules without workers

	bool operator==(const QueueInfo &) const = default;
};

// One of a device's workers (kernel threads): 0 from SET_OWNER, others from
// VHOST_NEW_WORKER.
struct WorkerInfo {
	uint32_t id = 0;
	uint32_t pid = 0;		// the thread's pid
	uint32_t cpu = 0;		// the CPU it last ran on
	uint64_t cpu_ns = 0;		// CPU time used
	std::string cpus;		// CPUs it may run on, a CPU list ("0-3,8")
	uint32_t queues = 0;		// queues it runs
	bool task = false;		// a thread of the owner (VHOST_FORK_OWNER_TASK),
					// not a kthread; false from older modules

	bool operator==(const WorkerInfo &) const = default;
};

struct DevInfo {
	uint32_t id = 0;
	uint32_t owner_pid = 0;		// 0: no owner
	uint64_t features = 0;		// negotiated
	bool logging = false;		// dirty logging on (VHOST_F_LOG_ALL acked);
					// false from modules without dirty logging
	uint32_t backend_ifindex = 0;	// 0: no backend
	std::string backend_ifname;	// empty: no backend
	uint32_t busypoll_us = 0;
	uint32_t weight_packets = 0;
	uint32_t weight_bytes = 0;
	std::vector<QueueInfo> queues;
	std::vector<WorkerInfo> workers; // empty without an owner

	bool operator==(const DevInfo &) const = default;
};

// VHOSTX_CMD_DEV_SET: only the settings that are present are changed.
struct DevSettings {
	std::optional<uint32_t> busypoll_us;
	std::optional<uint32_t> weight_packets;
	std::optional<uint32_t> weight_bytes;

	bool empty() const noexcept { return !busypoll_us && !weight_packets && !weight_bytes; }
	bool operator==(const DevSettings &) const = default;
};

// VHOSTX_CMD_WORKER_SET: the CPUs one worker may run on.
struct WorkerPin {
	uint32_t worker = 0;
	std::string cpus;		// a CPU list, "0-3,8"

	bool operator==(const WorkerPin &) const = default;
};

// VHOSTX_CMD_QUEUE_BROKEN, multicast on the "events" group.
struct QueueBrokenEvent {
	uint32_t dev_id = 0;
	uint32_t queue_index = 0;
	uint32_t reason = VHOSTX_BROKEN_NONE;
	std::string text;

	bool operator==(const QueueBrokenEvent &) const = default;
};

} // namespace vhostx
