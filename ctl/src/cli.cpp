// SPDX-License-Identifier: GPL-2.0
// vhostxctl's command line: iproute2-style "OBJECT VERB [ARGS]" grammar.
#include "vhostx/cli.hpp"

#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <optional>
#include <thread>

#include <CLI/CLI.hpp>

#include "vhostx/error.hpp"
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

std::string describe(const SysError &e)
{
	std::string reason;
	switch (e.err()) {
	case ENODEV:
		reason = "no such device";
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
	return env;
}

namespace {

struct Options {
	bool json = false;
	std::string id;
	std::string watch;
	std::string count;
	std::vector<std::string> settings;
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

int cmd_set(const Options &opt, const Env &env)
{
	uint32_t id = parse_u32("ID", opt.id);
	DevSettings s = parse_settings(opt.settings);
	auto api = env.connect();
	api->set_device(id, s);
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
			"busypoll-us N | weight-packets N | weight-bytes N, one or more")
		->type_name("");

	CLI::App *monitor = app.add_subcommand(
		"monitor", "print events (queues stopped by a malformed ring) as they happen");
	monitor->add_option("--count", opt.count, "exit after N events")->type_name("N");

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
	} catch (const UsageError &e) {
		err << "vhostxctl: " << e.what() << "\n";
		return kExitUsage;
	} catch (const SysError &e) {
		err << "vhostxctl: " << describe(e) << "\n";
		return kExitFailure;
	} catch (const std::exception &e) {
		err << "vhostxctl: " << e.what() << "\n";
		return kExitFailure;
	}

	out << app.help();
	return 0;
}

} // namespace vhostx::cli
