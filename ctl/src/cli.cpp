// SPDX-License-Identifier: GPL-2.0
// vhostxctl's command line: iproute2-style "OBJECT VERB [ARGS]" grammar.
#include "vhostx/cli.hpp"

#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <optional>
#include <sstream>
#include <thread>

#include <CLI/CLI.hpp>

#include "vhostx/error.hpp"
#include "vhostx/json.hpp"
#include "vhostx/render.hpp"

namespace vhostx::cli {

namespace {

std::string squote(std::string_view s)
{
	return "'" + std::string(s) + "'";
}

} // namespace

uint32_t parse_u32(std::string_view name, std::string_view text)
{
	uint64_t v = 0;
	const char *end = text.data() + text.size();
	auto [p, ec] = std::from_chars(text.data(), end, v, 10);
	if (text.empty() || p != end || ec == std::errc::invalid_argument)
		throw UsageError(std::string(name) + ": " + squote(text) + " is not a number");
	if (ec == std::errc::result_out_of_range || v > UINT32_MAX)
		throw UsageError(std::string(name) + ": " + squote(text) +
				 " is out of range (0-4294967295)");
	return static_cast<uint32_t>(v);
}

double parse_seconds(std::string_view name, std::string_view text)
{
	double v = 0;
	const char *end = text.data() + text.size();
	auto [p, ec] = std::from_chars(text.data(), end, v, std::chars_format::fixed);
	if (text.empty() || p != end || ec != std::errc() || !std::isfinite(v))
		throw UsageError(std::string(name) + ": " + squote(text) + " is not a number");
	if (!(v > 0))
		throw UsageError(std::string(name) + ": must be more than 0");
	return v;
}

DevSettings parse_settings(const std::vector<std::string> &words)
{
	if (words.empty())
		throw UsageError("set: no setting given (busypoll-us, weight-packets, weight-bytes)");
	DevSettings s;
	for (std::size_t i = 0; i < words.size(); i += 2) {
		const std::string &key = words[i];
		std::optional<uint32_t> *slot;
		bool nonzero = false;
		if (key == "busypoll-us") {
			slot = &s.busypoll_us;
		} else if (key == "weight-packets") {
			slot = &s.weight_packets;
			nonzero = true;
		} else if (key == "weight-bytes") {
			slot = &s.weight_bytes;
			nonzero = true;
		} else {
			throw UsageError("set: unknown setting " + squote(key) +
					 " (busypoll-us, weight-packets, weight-bytes)");
		}
		if (i + 1 >= words.size())
			throw UsageError(key + ": missing value");
		if (*slot)
			throw UsageError(key + ": given more than once");
		uint32_t v = parse_u32(key, words[i + 1]);
		if (nonzero && v == 0)
			throw UsageError(key + ": must be at least 1");
		*slot = v;
	}
	return s;
}

std::string parse_cpu_list(std::string_view name, std::string_view text)
{
	constexpr unsigned kMaxCpu = 8191;
	auto bad = [&](const std::string &why) {
		return UsageError(std::string(name) + ": " + squote(text) + " " + why);
	};
	if (text.empty())
		throw bad("is not a CPU list (e.g. 2 or 0-3,8)");
	std::size_t pos = 0;
	while (pos <= text.size()) {
		std::size_t end = text.find(',', pos);
		std::string_view part = text.substr(pos, end == std::string_view::npos ? end : end - pos);
		std::size_t dash = part.find('-');
		std::string_view a = part.substr(0, dash);
		std::string_view b = dash == std::string_view::npos ? a : part.substr(dash + 1);
		unsigned lo = 0, hi = 0;
		auto num = [&](std::string_view s, unsigned &v) {
			auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
			return !s.empty() && ec == std::errc() && p == s.data() + s.size();
		};
		if (!num(a, lo) || !num(b, hi))
			throw bad("is not a CPU list (e.g. 2 or 0-3,8)");
		if (lo > hi)
			throw bad("has a range that runs backwards");
		if (hi > kMaxCpu)
			throw bad("names a CPU above " + std::to_string(kMaxCpu));
		if (end == std::string_view::npos)
			break;
		pos = end + 1;
	}
	return std::string(text);
}

SetRequest parse_set(const std::vector<std::string> &words)
{
	SetRequest r;
	if (words.empty() || words[0] != "worker") {
		r.dev = parse_settings(words);
		return r;
	}
	if (words.size() != 4 || words[2] != "cpus")
		throw UsageError("set: worker W cpus LIST (e.g. worker 1 cpus 2-3), on its own");
	WorkerPin pin;
	pin.worker = parse_u32("worker", words[1]);
	pin.cpus = parse_cpu_list("cpus", words[3]);
	r.pin = pin;
	return r;
}

std::string parse_mac(std::string_view text)
{
	static const char hex[] = "0123456789abcdef";
	std::string out;
	bool ok = text.size() == 17;
	for (std::size_t i = 0; ok && i < text.size(); i++) {
		char c = static_cast<char>(std::tolower(static_cast<unsigned char>(text[i])));
		if (i % 3 == 2)
			ok = c == ':';
		else
			ok = std::isxdigit(static_cast<unsigned char>(c)) != 0;
		out += c;
	}
	if (!ok)
		throw UsageError("--mac: " + squote(text) + " is not a MAC address (like 52:54:00:12:34:56)");
	int first = static_cast<int>(std::string_view(hex).find(out[1]));
	if (first & 1)
		throw UsageError("--mac: " + squote(text) + " is a multicast address");
	return out;
}

uint32_t parse_queues(std::string_view text)
{
	uint32_t n = parse_u32("--queues", text);
	if (n < 1 || n > attach::kMaxQueues)
		throw UsageError("--queues: " + squote(text) + " is out of range (1-" +
				 std::to_string(attach::kMaxQueues) + ")");
	return n;
}

std::string parse_qemu_id(std::string_view name, std::string_view text)
{
	bool ok = !text.empty() && std::isalpha(static_cast<unsigned char>(text[0]));
	for (char c : text)
		ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_');
	if (!ok)
		throw UsageError(std::string(name) + ": " + squote(text) +
				 " is not a QEMU id (a letter, then letters, digits, '-', '.', '_')");
	return std::string(text);
}

std::string describe(const SysError &e)
{
	std::string reason;
	switch (e.err()) {
	case ENODEV:
		reason = "no such device";
		// A worker missing, not the device: say so.
		if (e.detail().find("worker") != std::string::npos)
			reason += " (" + e.detail() + ")";
		break;
	case EPERM:
	case EACCES:
		reason = "permission denied (needs CAP_NET_ADMIN)";
		break;
	default:
		// The kernel's own words say more than strerror().
		reason = e.detail().empty() ? e.reason() : e.detail();
		if (!reason.empty())
			reason[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(reason[0])));
	}
	return e.op() + ": " + reason;
}

Env system_env()
{
	Env env;
	env.connect = [] { return std::make_unique<netlink::Client>(); };
	env.sleep = [](double s) { std::this_thread::sleep_for(std::chrono::duration<double>(s)); };
	env.now = [] {
		return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
			.count();
	};
	env.qmp_connect = [](const std::string &path) {
		auto c = qmp::Client::connect(path);
		c.handshake();
		return c;
	};
	env.attach_sys = attach::system_sys();
	return env;
}

namespace {

struct Options {
	bool json = false;
	std::string id;
	std::string watch;
	std::string count;
	std::vector<std::string> settings;
	// attach, detach
	std::string qmp, tap, queues, mac, qid, bus, node, timeout;
};

std::vector<DevInfo> fetch(netlink::Api &api, std::optional<uint32_t> id)
{
	if (id)
		return {api.get_device(*id)};
	return api.dump_devices();
}

int cmd_dev_list(const Options &opt, std::ostream &out, const Env &env)
{
	auto api = env.connect();
	auto devs = api->dump_devices();
	if (opt.json)
		render::dev_json(out, devs);
	else
		render::dev_table(out, devs);
	return 0;
}

int cmd_dev_show(const Options &opt, std::ostream &out, const Env &env)
{
	uint32_t id = parse_u32("ID", opt.id);
	auto api = env.connect();
	DevInfo d = api->get_device(id);
	if (opt.json)
		render::dev_json(out, {d});
	else
		render::dev_detail(out, d);
	return 0;
}

int cmd_stats(const Options &opt, std::ostream &out, const Env &env)
{
	std::optional<uint32_t> id;
	if (!opt.id.empty())
		id = parse_u32("ID", opt.id);
	std::optional<double> interval;
	if (!opt.watch.empty())
		interval = parse_seconds("--watch", opt.watch);
	uint32_t count = 0; // forever
	if (!opt.count.empty()) {
		count = parse_u32("--count", opt.count);
		if (count == 0)
			throw UsageError("--count: must be at least 1");
		if (!interval)
			throw UsageError("--count: needs --watch");
	}

	auto api = env.connect();
	if (!interval) {
		auto devs = fetch(*api, id);
		if (opt.json)
			render::stats_json(out, devs);
		else
			render::stats_table(out, devs);
		return 0;
	}

	auto prev = fetch(*api, id);
	double then = env.now();
	for (uint32_t i = 0; count == 0 || i < count; i++) {
		env.sleep(*interval);
		auto cur = fetch(*api, id);
		double now = env.now();
		double elapsed = now > then ? now - then : *interval;
		auto rates = render::compute_rates(prev, cur, elapsed);
		if (opt.json) {
			render::rates_json(out, rates, elapsed);
		} else {
			if (i)
				out << '\n';
			render::rates_table(out, rates);
		}
		out.flush();
		prev = std::move(cur);
		then = now;
	}
	return 0;
}

// Print every VHOSTX_CMD_QUEUE_BROKEN as it comes, until interrupted or
// after --count events.
int cmd_monitor(const Options &opt, std::ostream &out, const Env &env)
{
	uint32_t count = 0; // forever
	if (!opt.count.empty()) {
		count = parse_u32("--count", opt.count);
		if (count == 0)
			throw UsageError("--count: must be at least 1");
	}
	auto api = env.connect();
	api->subscribe_events();
	for (uint32_t n = 0; count == 0 || n < count; n++) {
		auto ev = api->next_event(-1);
		if (!ev)
			break;
		if (opt.json)
			render::event_json(out, *ev);
		else
			render::event_line(out, *ev);
		out.flush();
	}
	return 0;
}

// "set ID ..." or, iproute2's way, "set dev ID ...".
int cmd_set(const Options &opt, const Env &env)
{
	std::string id_text = opt.id;
	std::vector<std::string> words = opt.settings;
	if (id_text == "dev") {
		if (words.empty())
			throw UsageError("set dev: missing device id");
		id_text = words.front();
		words.erase(words.begin());
	}
	uint32_t id = parse_u32("ID", id_text);
	SetRequest r = parse_set(words);
	auto api = env.connect();
	if (r.pin)
		api->set_worker(id, *r.pin);
	else
		api->set_device(id, r.dev);
	return 0;
}

std::string join_ids(const std::vector<uint32_t> &ids)
{
	std::string s;
	for (auto id : ids)
		s += (s.empty() ? "" : " ") + std::to_string(id);
	return s;
}

double parse_timeout(const std::string &text)
{
	return text.empty() ? 30.0 : parse_seconds("--timeout", text);
}

int cmd_attach(const Options &opt, std::ostream &out, std::ostream &err, const Env &env)
{
	attach::Options a;
	a.tap = opt.tap;
	if (a.tap.empty() || a.tap.size() > 15 || a.tap.find_first_of("/: ") != std::string::npos)
		throw UsageError("--tap: " + squote(a.tap) + " is not an interface name (1-15 characters)");
	if (!opt.queues.empty())
		a.queues = parse_queues(opt.queues);
	if (!opt.mac.empty())
		a.mac = parse_mac(opt.mac);
	if (!opt.qid.empty())
		a.id = parse_qemu_id("--id", opt.qid);
	if (!opt.bus.empty())
		a.bus = parse_qemu_id("--bus", opt.bus);
	if (!opt.node.empty())
		a.node = opt.node;
	a.timeout_s = parse_timeout(opt.timeout);

	auto qmp = env.qmp_connect(opt.qmp);
	std::ostringstream log;
	attach::Result r;
	try {
		r = attach::attach(qmp, a, env.attach_sys, &log);
	} catch (...) {
		// What was done and undone, so the user knows nothing is left.
		std::string l = log.str();
		if (l.find("undo") != std::string::npos)
			err << l;
		throw;
	}
	if (opt.json) {
		json::Writer w(out);
		w.begin_object();
		w.key("id").value(r.id);
		w.key("netdev").value(r.netdev);
		w.key("driver").value("virtio-net-pci");
		w.key("mac").value(r.mac);
		w.key("bus");
		if (r.bus.empty())
			w.null();
		else
			w.value(r.bus);
		w.key("tap").value(r.tap);
		w.key("tap_created").value(r.tap_created);
		w.key("queues").value(r.queues);
		w.key("vhost_node").value(r.node);
		w.key("qemu_pid").value(static_cast<uint64_t>(r.qemu_pid));
		w.key("vhostx_devices").begin_array();
		for (auto id : r.vhostx_devices)
			w.value(id);
		w.end_array();
		w.key("started_by").value(r.waited_on);
		w.end_object();
		out << "\n";
		return 0;
	}
	out << "attached " << r.id << ": virtio-net-pci, mac " << r.mac << ", bus "
	    << (r.bus.empty() ? "(default)" : r.bus) << "\n"
	    << "  netdev " << r.netdev << ": tap " << r.tap << (r.tap_created ? " (created)" : "")
	    << ", " << r.queues << " queue pair" << (r.queues > 1 ? "s" : "") << ", vhost on "
	    << r.node << "\n";
	if (!r.vhostx_devices.empty())
		out << "  vhostx devices " << join_ids(r.vhostx_devices) << ", owned by QEMU pid "
		    << r.qemu_pid << "\n";
	out << "  guest driver started (" << r.waited_on << ")\n";
	return 0;
}

int cmd_detach(const Options &opt, std::ostream &out, const Env &env)
{
	std::string id = parse_qemu_id("--id", opt.qid);
	double timeout = parse_timeout(opt.timeout);
	auto qmp = env.qmp_connect(opt.qmp);
	auto r = attach::detach(qmp, id, timeout, env.attach_sys);
	if (opt.json) {
		json::Writer w(out);
		w.begin_object();
		w.key("id").value(r.id);
		w.key("netdev").value(r.netdev);
		w.key("tap");
		if (r.tap.empty())
			w.null();
		else
			w.value(r.tap);
		w.key("qemu_pid").value(static_cast<uint64_t>(r.qemu_pid));
		w.key("vhostx_checked").value(r.vhostx_checked);
		w.key("vhostx_freed").begin_array();
		for (auto d : r.freed)
			w.value(d);
		w.end_array();
		w.key("closed_fds").begin_array();
		for (const auto &n : r.closed_fds)
			w.value(n);
		w.end_array();
		w.end_object();
		out << "\n";
		return 0;
	}
	out << "detached " << r.id << " (netdev " << r.netdev;
	if (!r.tap.empty())
		out << ", tap " << r.tap;
	out << ")\n";
	if (r.vhostx_checked)
		out << "  vhostx devices freed: " << (r.freed.empty() ? "none" : join_ids(r.freed)) << "\n";
	if (!r.closed_fds.empty()) {
		out << "  closed fds QEMU still held:";
		for (const auto &n : r.closed_fds)
			out << " " << n;
		out << "\n";
	}
	return 0;
}

} // namespace

int run(const std::vector<std::string> &args, std::ostream &out, std::ostream &err)
{
	return run(args, out, err, system_env());
}

int run(const std::vector<std::string> &args, std::ostream &out, std::ostream &err, const Env &env)
{
	CLI::App app{"vhostxctl - control the vhostx in-kernel virtio-net data path",
		     args.empty() ? "vhostxctl" : args[0]};
	Options opt;

	app.set_version_flag("-V,--version", std::string("vhostxctl ") + VHX_VERSION);
	app.add_flag("-j,--json", opt.json, "print JSON instead of tables");
	app.require_subcommand(0, 1);
	// Let global options (-j) follow the command: "vhostxctl stats -j".
	app.fallthrough();
	app.footer("See vhostxctl(8).");

	CLI::App *dev = app.add_subcommand("dev", "vhostx devices: list (default), show ID");
	dev->require_subcommand(0, 1);
	dev->add_subcommand("list", "one line per device");
	CLI::App *dev_show = dev->add_subcommand("show", "one device, its settings and queues");
	dev_show->add_option("ID", opt.id, "device id (see dev list)")->required()->type_name("");

	CLI::App *stats = app.add_subcommand("stats", "per-queue counters of every device, or of ID");
	stats->add_option("ID", opt.id, "device id (see dev list)")->type_name("");
	stats->add_option("--watch", opt.watch, "print per-second rates every SECONDS, until interrupted")
		->type_name("SECONDS");
	stats->add_option("--count", opt.count, "stop --watch after N reports")->group("");

	CLI::App *set = app.add_subcommand("set", "change a device's settings (needs CAP_NET_ADMIN)");
	set->add_option("ID", opt.id, "device id (see dev list)")->required()->type_name("");
	set->add_option("SETTINGS", opt.settings,
			"busypoll-us N | weight-packets N | weight-bytes N, one or more; "
			"or worker W cpus LIST")
		->type_name("");

	CLI::App *monitor = app.add_subcommand(
		"monitor", "print events (queues stopped by a malformed ring) as they happen");
	monitor->add_option("--count", opt.count, "exit after N events")->type_name("N");

	CLI::App *att = app.add_subcommand(
		"attach", "hot-plug a virtio-net backed by vhostx into a running QEMU (QMP)");
	att->add_option("--qmp", opt.qmp, "QEMU's QMP unix socket")->required()->type_name("SOCKET");
	att->add_option("--tap", opt.tap, "tap interface (created when missing)")
		->required()
		->type_name("IFNAME");
	att->add_option("--queues", opt.queues, "queue pairs (default 1)")->type_name("N");
	att->add_option("--mac", opt.mac, "the guest NIC's MAC address")->type_name("MAC");
	att->add_option("--id", opt.qid, "QEMU device id (default: the first free vhxN)")
		->type_name("NAME");
	att->add_option("--bus", opt.bus, "PCI bus or root port to plug into")->type_name("BUS");
	att->add_option("--device", opt.node, "vhost node (default /dev/vhostx-net)")
		->type_name("PATH");
	att->add_option("--timeout", opt.timeout,
			"seconds to wait for the guest driver, and for device_del (default 30)")
		->type_name("SEC");

	CLI::App *det = app.add_subcommand("detach", "unplug a device that attach added");
	det->add_option("--qmp", opt.qmp, "QEMU's QMP unix socket")->required()->type_name("SOCKET");
	det->add_option("--id", opt.qid, "the device id attach printed")->required()->type_name("NAME");
	det->add_option("--timeout", opt.timeout, "seconds to wait for the guest to release it (default 30)")
		->type_name("SEC");

	std::vector<const char *> argv;
	for (const auto &a : args)
		argv.push_back(a.c_str());
	try {
		app.parse(static_cast<int>(argv.size()), argv.data());
	} catch (const CLI::ParseError &e) {
		// --help and --version are "errors" too; they print to out.
		if (e.get_exit_code() == 0)
			return app.exit(e, out, err);
		err << "vhostxctl: " << e.what() << "\n"
		    << "Try 'vhostxctl --help' for more information.\n";
		return kExitUsage;
	}

	try {
		if (dev->parsed()) {
			if (dev_show->parsed())
				return cmd_dev_show(opt, out, env);
			return cmd_dev_list(opt, out, env);
		}
		if (stats->parsed())
			return cmd_stats(opt, out, env);
		if (set->parsed())
			return cmd_set(opt, env);
		if (monitor->parsed())
			return cmd_monitor(opt, out, env);
		if (att->parsed())
			return cmd_attach(opt, out, err, env);
		if (det->parsed())
			return cmd_detach(opt, out, env);
	} catch (const UsageError &e) {
		err << "vhostxctl: " << e.what() << "\n";
		return kExitUsage;
	} catch (const SysError &e) {
		err << "vhostxctl: " << describe(e) << "\n";
		return kExitFailure;
	} catch (const qmp::Error &e) {
		err << "vhostxctl: QEMU refused " << e.command() << ": " << e.desc() << "\n";
		return kExitFailure;
	} catch (const std::exception &e) {
		err << "vhostxctl: " << e.what() << "\n";
		return kExitFailure;
	}

	out << app.help();
	return 0;
}

} // namespace vhostx::cli
