// SPDX-License-Identifier: GPL-2.0
// vhostxctl's output: aligned tables for people, stable JSON for programs
// (schema: Documentation/vhostxctl.md), and the per-second rates of --watch.
#pragma once

#include <array>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "vhostx/model.hpp"

namespace vhostx::render {

// Columns padded to their widest cell, two spaces apart, no trailing blanks.
class Table {
public:
	enum class Align { left, right };
	struct Column {
		std::string title;
		Align align = Align::left;
	};

	explicit Table(std::vector<Column> columns) : columns_(std::move(columns)) {}
	void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
	void print(std::ostream &out, std::string_view indent = {}, bool header = true) const;

private:
	std::vector<Column> columns_;
	std::vector<std::vector<std::string>> rows_;
};

// "up" (a backend is attached), "down" (none) or "broken" (a queue stopped).
std::string_view dev_state(const DevInfo &d);
// "0x130008000 (version_1 mrg_rxbuf ...)": the known vhost/virtio bits named.
std::string features_text(uint64_t features);

// dev list / dev show
void dev_table(std::ostream &out, const std::vector<DevInfo> &devs);
void dev_detail(std::ostream &out, const DevInfo &d);
void dev_json(std::ostream &out, const std::vector<DevInfo> &devs);

// stats: absolute counters
void stats_table(std::ostream &out, const std::vector<DevInfo> &devs);
void stats_json(std::ostream &out, const std::vector<DevInfo> &devs);

// stats --watch: per-second rates between two samples.
struct QueueRates {
	uint32_t index = 0;
	std::array<double, kNumCounters> per_sec{};
};
struct DevRates {
	uint32_t id = 0;
	std::string backend_ifname;
	std::vector<QueueRates> queues;
};

// Rates of every (device, queue) present in both samples, in cur's order.
// A counter that went backwards (device re-created) counts from zero.
// seconds must be > 0.
std::vector<DevRates> compute_rates(const std::vector<DevInfo> &prev,
				    const std::vector<DevInfo> &cur, double seconds);
void rates_table(std::ostream &out, const std::vector<DevRates> &rates);
void rates_json(std::ostream &out, const std::vector<DevRates> &rates, double seconds);

// monitor: one line per VHOSTX_CMD_QUEUE_BROKEN notification.
// "dev 3 tx: broken: head (avail ring entry out of range)"
void event_line(std::ostream &out, const QueueBrokenEvent &ev);
// {"event":"queue_broken","id":3,"index":1,"name":"tx","broken_reason":"head",
//  "broken_text":"..."}
void event_json(std::ostream &out, const QueueBrokenEvent &ev);

} // namespace vhostx::render
