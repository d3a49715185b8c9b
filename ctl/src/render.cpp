// SPDX-License-Identifier: GPL-2.0
#include "vhostx/render.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

#include <linux/vhost_types.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include "vhostx/json.hpp"

namespace vhostx::render {

void Table::print(std::ostream &out, std::string_view indent, bool header) const
{
	std::vector<std::size_t> width(columns_.size());
	for (std::size_t c = 0; c < columns_.size() && header; c++)
		width[c] = columns_[c].title.size();
	for (const auto &row : rows_)
		for (std::size_t c = 0; c < row.size() && c < width.size(); c++)
			width[c] = std::max(width[c], row[c].size());

	auto line = [&](auto cell) {
		std::string s(indent);
		for (std::size_t c = 0; c < columns_.size(); c++) {
			const std::string &text = cell(c);
			std::string pad(width[c] - std::min(width[c], text.size()), ' ');
			if (c)
				s += "  ";
			if (columns_[c].align == Align::right)
				s += pad + text;
			else
				s += text + pad;
		}
		while (!s.empty() && s.back() == ' ')
			s.pop_back();
		out << s << '\n';
	};
	if (header)
		line([&](std::size_t c) -> const std::string & { return columns_[c].title; });
	static const std::string empty;
	for (const auto &row : rows_)
		line([&](std::size_t c) -> const std::string & { return c < row.size() ? row[c] : empty; });
}

namespace {

using A = Table::Align;

std::string num(uint64_t v)
{
	return std::to_string(v);
}

std::string or_dash(uint32_t v)
{
	return v ? num(v) : "-";
}

std::string or_dash(const std::string &s)
{
	return s.empty() ? "-" : s;
}

std::string backend_text(const DevInfo &d)
{
	if (d.backend_ifname.empty() && !d.backend_ifindex)
		return "none";
	std::string s = or_dash(d.backend_ifname);
	if (d.backend_ifindex)
		s += " (ifindex " + num(d.backend_ifindex) + ")";
	return s;
}

std::string broken_text(uint32_t reason, const std::string &text)
{
	std::string s = "broken: " + std::string(broken_reason_name(reason));
	if (!text.empty())
		s += " (" + text + ")";
	return s;
}

std::string queue_state(const QueueInfo &q)
{
	if (!q.broken)
		return q.enabled ? "ok" : "-";
	return broken_text(q.broken_reason, q.broken_text);
}

std::string dev_heading(uint32_t id, const std::string &ifname)
{
	return "dev " + num(id) + " (" + (ifname.empty() ? "no backend" : ifname) + ")";
}

void json_optional(json::Writer &w, std::string_view key, uint32_t v)
{
	w.key(key);
	if (v)
		w.value(v);
	else
		w.null();
}

void json_optional(json::Writer &w, std::string_view key, const std::string &s)
{
	w.key(key);
	if (!s.empty())
		w.value(s);
	else
		w.null();
}

void json_counters(json::Writer &w, const Counters &c)
{
	w.begin_object();
	for (std::size_t i = 0; i < kNumCounters; i++)
		w.key(kCounterNames[i]).value(c[i]);
	w.end_object();
}

} // namespace

std::string_view dev_state(const DevInfo &d)
{
	bool up = false;
	for (const auto &q : d.queues) {
		if (q.broken)
			return "broken";
		up = up || q.enabled;
	}
	return up ? "up" : "down";
}

std::string features_text(uint64_t features)
{
	static constexpr struct {
		unsigned bit;
		const char *name;
	} known[] = {
		{15, "mrg_rxbuf"}, // VIRTIO_NET_F_MRG_RXBUF; <linux/virtio_net.h> is not C++
		{VIRTIO_F_NOTIFY_ON_EMPTY, "notify_on_empty"},
		{VHOST_F_LOG_ALL, "log_all"},
		{VIRTIO_F_ANY_LAYOUT, "any_layout"},
		{VIRTIO_RING_F_INDIRECT_DESC, "indirect_desc"},
		{VIRTIO_RING_F_EVENT_IDX, "event_idx"},
		{VIRTIO_F_VERSION_1, "version_1"},
		{VIRTIO_F_ACCESS_PLATFORM, "access_platform"},
		{VIRTIO_F_RING_PACKED, "ring_packed"},
		{VIRTIO_F_IN_ORDER, "in_order"},
	};
	char hex[32];
	std::snprintf(hex, sizeof(hex), "0x%llx", static_cast<unsigned long long>(features));
	std::string s = hex;
	std::string names;
	uint64_t rest = features;
	for (const auto &k : known) {
		if (features & (1ULL << k.bit)) {
			names += names.empty() ? "" : " ";
			names += k.name;
			rest &= ~(1ULL << k.bit);
		}
	}
	if (rest) {
		std::snprintf(hex, sizeof(hex), "0x%llx", static_cast<unsigned long long>(rest));
		names += names.empty() ? "" : " ";
		names += std::string("other ") + hex;
	}
	if (!names.empty())
		s += " (" + names + ")";
	return s;
}

void dev_table(std::ostream &out, const std::vector<DevInfo> &devs)
{
	if (devs.empty())
		return;
	Table t({{"ID", A::right},
		 {"OWNER", A::right},
		 {"BACKEND"},
		 {"BUSYPOLL_US", A::right},
		 {"WEIGHT_PACKETS", A::right},
		 {"WEIGHT_BYTES", A::right},
		 {"STATE"}});
	for (const auto &d : devs)
		t.add({num(d.id), or_dash(d.owner_pid), or_dash(d.backend_ifname), num(d.busypoll_us),
		       num(d.weight_packets), num(d.weight_bytes), std::string(dev_state(d))});
	t.print(out);
}

void dev_detail(std::ostream &out, const DevInfo &d)
{
	out << "dev " << d.id << ": " << dev_state(d) << '\n';
	Table kv({{""}, {""}});
	kv.add({"owner pid", or_dash(d.owner_pid)});
	kv.add({"backend", backend_text(d)});
	kv.add({"features", features_text(d.features)});
	kv.add({"logging", d.logging ? "on" : "off"});
	kv.add({"busypoll-us", num(d.busypoll_us)});
	kv.add({"weight-packets", num(d.weight_packets)});
	kv.add({"weight-bytes", num(d.weight_bytes)});
	kv.print(out, "  ", false);

	if (d.queues.empty())
		return;
	// The WORKER column only when the module says (an owner, workers).
	const bool workers = !d.workers.empty();
	std::vector<Table::Column> cols{{"QUEUE"},	      {"NUM", A::right},
					{"LAST_AVAIL", A::right}, {"USED_IDX", A::right},
					{"ENABLED"},	      {"LOG_USED"},
					{"BUSYPOLL_US", A::right}};
	if (workers)
		cols.push_back({"WORKER", A::right});
	cols.push_back({"STATE"});
	Table q(std::move(cols));
	for (const auto &vq : d.queues) {
		std::vector<std::string> row{queue_name(vq.index),	num(vq.num),
					     num(vq.last_avail),	num(vq.used_idx),
					     vq.enabled ? "yes" : "no", vq.log_used ? "yes" : "no",
					     num(vq.busypoll_us)};
		if (workers)
			row.push_back(vq.worker_id ? num(*vq.worker_id) : "-");
		row.push_back(queue_state(vq));
		q.add(std::move(row));
	}
	out << '\n';
	q.print(out, "  ");

	if (d.workers.empty())
		return;
	Table w({{"WORKER", A::right},
		 {"PID", A::right},
		 {"QUEUES", A::right},
		 {"CPU", A::right},
		 {"CPU_MS", A::right},
		 {"CPUS"},
		 {"MODE"}});
	for (const auto &wk : d.workers)
		w.add({num(wk.id), num(wk.pid), num(wk.queues), num(wk.cpu), num(wk.cpu_ns / 1000000),
		       wk.cpus, wk.task ? "task" : "kthread"});
	out << '\n';
	w.print(out, "  ");
}

void dev_json(std::ostream &out, const std::vector<DevInfo> &devs)
{
	json::Writer w(out);
	w.begin_array();
	for (const auto &d : devs) {
		w.begin_object();
		w.key("id").value(d.id);
		w.key("owner_pid").value(d.owner_pid);
		w.key("features").value(d.features);
		w.key("logging").value(d.logging);
		w.key("state").value(dev_state(d));
		json_optional(w, "backend_ifindex", d.backend_ifindex);
		json_optional(w, "backend_ifname", d.backend_ifname);
		w.key("busypoll_us").value(d.busypoll_us);
		w.key("weight_packets").value(d.weight_packets);
		w.key("weight_bytes").value(d.weight_bytes);
		w.key("queues").begin_array();
		for (const auto &q : d.queues) {
			w.begin_object();
			w.key("index").value(q.index);
			w.key("name").value(queue_name(q.index));
			w.key("num").value(q.num);
			w.key("last_avail").value(q.last_avail);
			w.key("used_idx").value(q.used_idx);
			w.key("enabled").value(q.enabled);
			w.key("log_used").value(q.log_used);
			w.key("broken").value(q.broken);
			w.key("broken_reason").value(broken_reason_name(q.broken_reason));
			json_optional(w, "broken_text", q.broken_text);
			w.key("busypoll_us").value(q.busypoll_us);
			if (q.worker_id)
				w.key("worker").value(*q.worker_id);
			w.key("counters");
			json_counters(w, q.counters);
			w.end_object();
		}
		w.end_array();
		// Present with an owner on modules that have workers.
		if (!d.workers.empty())
			w.key("workers").begin_array();
		for (const auto &wk : d.workers) {
			w.begin_object();
			w.key("id").value(wk.id);
			w.key("pid").value(wk.pid);
			w.key("queues").value(wk.queues);
			w.key("cpu").value(wk.cpu);
			w.key("cpu_ns").value(wk.cpu_ns);
			w.key("cpus").value(wk.cpus);
			w.key("mode").value(wk.task ? "task" : "kthread");
			w.end_object();
		}
		if (!d.workers.empty())
			w.end_array();
		w.end_object();
	}
	w.end_array();
	out << '\n';
}

namespace {

// One block per device: a row per counter, a column per queue.
template <typename Dev, typename Cell>
void counter_blocks(std::ostream &out, const std::vector<Dev> &devs, std::string_view suffix,
		    Cell cell)
{
	bool first = true;
	for (const auto &d : devs) {
		if (!first)
			out << '\n';
		first = false;
		out << dev_heading(d.id, d.backend_ifname) << '\n';
		std::vector<Table::Column> cols{{"COUNTER"}};
		for (const auto &q : d.queues) {
			std::string title = queue_name(q.index);
			std::transform(title.begin(), title.end(), title.begin(),
				       [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
			cols.push_back({title + std::string(suffix), A::right});
		}
		Table t(std::move(cols));
		for (std::size_t i = 0; i < kNumCounters; i++) {
			std::vector<std::string> row{std::string(kCounterNames[i])};
			for (const auto &q : d.queues)
				row.push_back(cell(q, i));
			t.add(std::move(row));
		}
		t.print(out);
	}
}

} // namespace

void stats_table(std::ostream &out, const std::vector<DevInfo> &devs)
{
	counter_blocks(out, devs, "", [](const QueueInfo &q, std::size_t i) { return num(q.counters[i]); });
}

void stats_json(std::ostream &out, const std::vector<DevInfo> &devs)
{
	json::Writer w(out);
	w.begin_array();
	for (const auto &d : devs) {
		w.begin_object();
		w.key("id").value(d.id);
		json_optional(w, "backend_ifname", d.backend_ifname);
		w.key("queues").begin_array();
		for (const auto &q : d.queues) {
			w.begin_object();
			w.key("index").value(q.index);
			w.key("name").value(queue_name(q.index));
			w.key("counters");
			json_counters(w, q.counters);
			w.end_object();
		}
		w.end_array();
		w.end_object();
	}
	w.end_array();
	out << '\n';
}

std::vector<DevRates> compute_rates(const std::vector<DevInfo> &prev,
				    const std::vector<DevInfo> &cur, double seconds)
{
	std::vector<DevRates> rates;
	for (const auto &d : cur) {
		auto p = std::find_if(prev.begin(), prev.end(),
				      [&](const DevInfo &x) { return x.id == d.id; });
		if (p == prev.end())
			continue;
		DevRates r{d.id, d.backend_ifname, {}};
		for (const auto &q : d.queues) {
			auto pq = std::find_if(p->queues.begin(), p->queues.end(),
					       [&](const QueueInfo &x) { return x.index == q.index; });
			if (pq == p->queues.end())
				continue;
			QueueRates qr{q.index, {}};
			for (std::size_t i = 0; i < kNumCounters; i++) {
				uint64_t now = q.counters[i], then = pq->counters[i];
				uint64_t delta = now >= then ? now - then : now;
				qr.per_sec[i] = static_cast<double>(delta) / seconds;
			}
			r.queues.push_back(qr);
		}
		rates.push_back(std::move(r));
	}
	return rates;
}

void rates_table(std::ostream &out, const std::vector<DevRates> &rates)
{
	counter_blocks(out, rates, "/s", [](const QueueRates &q, std::size_t i) {
		return num(static_cast<uint64_t>(std::llround(q.per_sec[i])));
	});
}

void rates_json(std::ostream &out, const std::vector<DevRates> &rates, double seconds)
{
	json::Writer w(out);
	w.begin_object();
	w.key("interval_s").fixed(seconds, 3);
	w.key("devices").begin_array();
	for (const auto &d : rates) {
		w.begin_object();
		w.key("id").value(d.id);
		json_optional(w, "backend_ifname", d.backend_ifname);
		w.key("queues").begin_array();
		for (const auto &q : d.queues) {
			w.begin_object();
			w.key("index").value(q.index);
			w.key("name").value(queue_name(q.index));
			w.key("rates").begin_object();
			for (std::size_t i = 0; i < kNumCounters; i++)
				w.key(kCounterNames[i]).fixed(q.per_sec[i], 2);
			w.end_object();
			w.end_object();
		}
		w.end_array();
		w.end_object();
	}
	w.end_array();
	w.end_object();
	out << '\n';
}

void event_line(std::ostream &out, const QueueBrokenEvent &ev)
{
	out << "dev " << ev.dev_id << ' ' << queue_name(ev.queue_index) << ": "
	    << broken_text(ev.reason, ev.text) << '\n';
}

void event_json(std::ostream &out, const QueueBrokenEvent &ev)
{
	json::Writer w(out);
	w.begin_object();
	w.key("event").value("queue_broken");
	w.key("id").value(ev.dev_id);
	w.key("index").value(ev.queue_index);
	w.key("name").value(queue_name(ev.queue_index));
	w.key("broken_reason").value(broken_reason_name(ev.reason));
	json_optional(w, "broken_text", ev.text);
	w.end_object();
	out << '\n';
}

} // namespace vhostx::render
