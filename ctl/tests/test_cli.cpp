// SPDX-License-Identifier: GPL-2.0
// vhostxctl end to end, with the kernel replaced by a fake netlink::Api that
// serves devices parsed from libnl-built replies, and a fake clock.
#include <catch2/catch.hpp>

#include <cerrno>
#include <deque>
#include <sstream>

#include "nl_build.hpp"
#include "vhostx/cli.hpp"
#include "vhostx/netlink.hpp"

using namespace vhostx;

namespace {

struct Fake {
	// dump_devices() returns these in turn, the last one forever.
	std::deque<std::vector<DevInfo>> snapshots;
	std::optional<SysError> fail;	     // thrown by every call
	std::optional<SysError> connect_fail; // thrown by connect
	int connects = 0;
	std::vector<std::string> calls;
	std::optional<DevSettings> settings;
	std::optional<WorkerPin> pin;
	double clock = 100.0;
	std::vector<double> sleeps;

	std::vector<DevInfo> next()
	{
		auto devs = snapshots.front();
		if (snapshots.size() > 1)
			snapshots.pop_front();
		return devs;
	}
};

class FakeApi : public netlink::Api {
public:
	explicit FakeApi(Fake &f) : f_(f) {}
	std::vector<DevInfo> dump_devices() override
	{
		f_.calls.push_back("dump");
		if (f_.fail)
			throw *f_.fail;
		return f_.next();
	}
	DevInfo get_device(uint32_t id) override
	{
		f_.calls.push_back("get " + std::to_string(id));
		if (f_.fail)
			throw *f_.fail;
		for (auto &d : f_.next())
			if (d.id == id)
				return d;
		throw SysError(ENODEV, "get device " + std::to_string(id), "No such device",
			       "no vhostx device with this id");
	}
	void set_device(uint32_t id, const DevSettings &s) override
	{
		f_.calls.push_back("set " + std::to_string(id));
		if (f_.fail)
			throw *f_.fail;
		f_.settings = s;
	}
	void set_worker(uint32_t id, const WorkerPin &pin) override
	{
		f_.calls.push_back("pin " + std::to_string(id));
		if (f_.fail)
			throw *f_.fail;
		f_.pin = pin;
	}

private:
	Fake &f_;
};

std::vector<DevInfo> devices()
{
	std::vector<DevInfo> devs;
	for (const auto &d : testing::sample_devices())
		devs.push_back(netlink::parse_dev(testing::encode_dev(d, NLM_F_MULTI)));
	return devs;
}

struct Result {
	int rc;
	std::string out, err;
};

Result run(std::vector<std::string> args, Fake &f)
{
	cli::Env env;
	env.connect = [&f]() -> std::unique_ptr<netlink::Api> {
		f.connects++;
		if (f.connect_fail)
			throw *f.connect_fail;
		return std::make_unique<FakeApi>(f);
	};
	env.sleep = [&f](double s) {
		f.sleeps.push_back(s);
		f.clock += s + 0.25; // the sleep overshoots: rates use measured time
	};
	env.now = [&f] { return f.clock; };
	std::ostringstream out, err;
	args.insert(args.begin(), "vhostxctl");
	int rc = cli::run(args, out, err, env);
	return {rc, out.str(), err.str()};
}

Result run(std::vector<std::string> args)
{
	Fake f;
	f.snapshots.push_back(devices());
	return run(std::move(args), f);
}

// A usage error: exit 2, exactly this message, and the kernel never asked.
void check_usage(std::vector<std::string> args, const std::string &message)
{
	Fake f;
	f.snapshots.push_back(devices());
	auto r = run(args, f);
	INFO("args: " << Catch::Detail::stringify(args));
	CHECK(r.rc == 2);
	CHECK(r.err == "vhostxctl: " + message + "\n");
	CHECK(r.out.empty());
	CHECK(f.connects == 0);
}

} // namespace

TEST_CASE("option --version prints the version and exits 0")
{
	auto r = run({"--version"});
	CHECK(r.rc == 0);
	CHECK(r.out == std::string("vhostxctl ") + VHX_VERSION + "\n");
}

TEST_CASE("option --help describes the tool and exits 0")
{
	auto r = run({"--help"});
	CHECK(r.rc == 0);
	CHECK(r.out.find("vhostxctl") != std::string::npos);
	CHECK(r.out.find("--json") != std::string::npos);
	for (const char *cmd : {"dev", "stats", "set"})
		CHECK(r.out.find(cmd) != std::string::npos);
}

TEST_CASE("no command prints the help")
{
	auto r = run({});
	CHECK(r.rc == 0);
	CHECK(r.out.find("Subcommands:") != std::string::npos);
}

TEST_CASE("--help of a command documents its arguments, --count stays hidden")
{
	auto r = run({"stats", "--help"});
	CHECK(r.rc == 0);
	CHECK(r.out.find("--watch SECONDS") != std::string::npos);
	CHECK(r.out.find("--count") == std::string::npos);
	r = run({"set", "--help"});
	CHECK(r.out.find("busypoll-us N | weight-packets N | weight-bytes N") != std::string::npos);
}

TEST_CASE("an unknown option is an error that names it")
{
	auto r = run({"--bogus"});
	CHECK(r.rc == 2);
	CHECK(r.err.find("vhostxctl: ") == 0);
	CHECK(r.err.find("--bogus") != std::string::npos);
}

TEST_CASE("unknown commands, verbs and extra arguments are usage errors")
{
	for (std::vector<std::string> args : {std::vector<std::string>{"bogus"},
					     {"dev", "bogus"},
					     {"dev", "list", "extra"},
					     {"dev", "show"},
					     {"set"},
					     {"stats", "1", "2"}}) {
		Fake f;
		auto r = run(args, f);
		INFO(Catch::Detail::stringify(args));
		CHECK(r.rc == 2);
		CHECK(r.err.find("vhostxctl: ") == 0);
		CHECK(f.connects == 0);
	}
	CHECK(run({"dev", "show"}).err.find("ID is required") != std::string::npos);
	CHECK(run({"set"}).err.find("ID is required") != std::string::npos);
}

TEST_CASE("bad IDs name the argument and why")
{
	check_usage({"dev", "show", "abc"}, "ID: 'abc' is not a number");
	check_usage({"dev", "show", "-1"}, "ID: '-1' is not a number");
	check_usage({"dev", "show", "1x"}, "ID: '1x' is not a number");
	check_usage({"dev", "show", "0x10"}, "ID: '0x10' is not a number");
	check_usage({"dev", "show", "4294967296"}, "ID: '4294967296' is out of range (0-4294967295)");
	check_usage({"dev", "show", "99999999999999999999999"},
		    "ID: '99999999999999999999999' is out of range (0-4294967295)");
	check_usage({"stats", "tap0"}, "ID: 'tap0' is not a number");
	check_usage({"set", "x", "busypoll-us", "1"}, "ID: 'x' is not a number");
}

TEST_CASE("set: every argument error")
{
	check_usage({"set", "3"}, "set: no setting given (busypoll-us, weight-packets, weight-bytes)");
	check_usage({"set", "3", "foo", "1"},
		    "set: unknown setting 'foo' (busypoll-us, weight-packets, weight-bytes)");
	check_usage({"set", "3", "busypoll-us", "1", "weight", "1"},
		    "set: unknown setting 'weight' (busypoll-us, weight-packets, weight-bytes)");
	check_usage({"set", "3", "busypoll-us"}, "busypoll-us: missing value");
	check_usage({"set", "3", "weight-packets", "1", "weight-bytes"}, "weight-bytes: missing value");
	check_usage({"set", "3", "busypoll-us", "abc"}, "busypoll-us: 'abc' is not a number");
	check_usage({"set", "3", "busypoll-us", ""}, "busypoll-us: '' is not a number");
	check_usage({"set", "3", "busypoll-us", "-5"}, "busypoll-us: '-5' is not a number");
	check_usage({"set", "3", "busypoll-us", "1.5"}, "busypoll-us: '1.5' is not a number");
	check_usage({"set", "3", "weight-bytes", "4294967296"},
		    "weight-bytes: '4294967296' is out of range (0-4294967295)");
	check_usage({"set", "3", "weight-packets", "0"}, "weight-packets: must be at least 1");
	check_usage({"set", "3", "weight-bytes", "0"}, "weight-bytes: must be at least 1");
	check_usage({"set", "3", "busypoll-us", "1", "busypoll-us", "2"}, "busypoll-us: given more than once");
}

TEST_CASE("stats: every --watch and --count error")
{
	check_usage({"stats", "--watch", "abc"}, "--watch: 'abc' is not a number");
	check_usage({"stats", "--watch", "1s"}, "--watch: '1s' is not a number");
	check_usage({"stats", "--watch", "inf"}, "--watch: 'inf' is not a number");
	check_usage({"stats", "--watch", "0"}, "--watch: must be more than 0");
	check_usage({"stats", "--watch", "-1"}, "--watch: must be more than 0");
	check_usage({"stats", "--watch", "nan"}, "--watch: 'nan' is not a number");
	check_usage({"stats", "--watch", "0.0"}, "--watch: must be more than 0");
	check_usage({"stats", "--count", "2"}, "--count: needs --watch");
	check_usage({"stats", "--watch", "1", "--count", "0"}, "--count: must be at least 1");
	check_usage({"stats", "--watch", "1", "--count", "x"}, "--count: 'x' is not a number");
	auto r = run({"stats", "--watch"});
	CHECK(r.rc == 2);
	CHECK(r.err.find("--watch") != std::string::npos);
}

TEST_CASE("the parsers directly")
{
	CHECK(cli::parse_u32("X", "0") == 0);
	CHECK(cli::parse_u32("X", "4294967295") == 4294967295u);
	CHECK(cli::parse_seconds("X", "0.5") == 0.5);
	CHECK(cli::parse_seconds("X", "2") == 2.0);
	DevSettings s = cli::parse_settings({"weight-bytes", "65536", "busypoll-us", "0"});
	CHECK(s.weight_bytes == 65536u);
	CHECK(s.busypoll_us == 0u);
	CHECK_FALSE(s.weight_packets);
	CHECK_THROWS_AS(cli::parse_settings({"x"}), cli::UsageError);
}

TEST_CASE("dev list, and dev alone, print the device table")
{
	for (std::vector<std::string> args : {std::vector<std::string>{"dev", "list"}, {"dev"}}) {
		Fake f;
		f.snapshots.push_back(devices());
		auto r = run(args, f);
		CHECK(r.rc == 0);
		CHECK(r.err.empty());
		CHECK(r.out == "ID  OWNER  BACKEND  BUSYPOLL_US  WEIGHT_PACKETS  WEIGHT_BYTES  STATE\n"
			       " 3   4242  tap0              50             256        524288  up\n"
			       " 5    777  tap1               0              64         65536  broken\n");
		CHECK(f.calls == std::vector<std::string>{"dump"});
	}
}

TEST_CASE("option -j works before and after the command")
{
	auto a = run({"-j", "dev", "list"});
	auto b = run({"dev", "list", "-j"});
	auto c = run({"dev", "--json"});
	CHECK(a.rc == 0);
	CHECK(a.out.rfind("[{\"id\":3,", 0) == 0);
	CHECK(a.out.back() == '\n');
	CHECK(a.out == b.out);
	CHECK(a.out == c.out);
}

TEST_CASE("dev show ID asks for that device")
{
	Fake f;
	f.snapshots.push_back(devices());
	auto r = run({"dev", "show", "5"}, f);
	CHECK(r.rc == 0);
	CHECK(f.calls == std::vector<std::string>{"get 5"});
	CHECK(r.out.rfind("dev 5: broken\n", 0) == 0);
	CHECK(r.out.find("broken: head (head index out of range)") != std::string::npos);

	r = run({"-j", "dev", "show", "3"});
	CHECK(r.out.rfind("[{\"id\":3,\"owner_pid\":4242,", 0) == 0);
	CHECK(r.out.find("{\"id\":5") == std::string::npos);
}

TEST_CASE("stats prints the counters of all devices, or of one")
{
	Fake f;
	f.snapshots.push_back(devices());
	auto r = run({"stats"}, f);
	CHECK(r.rc == 0);
	CHECK(f.calls == std::vector<std::string>{"dump"});
	CHECK(r.out.rfind("dev 3 (tap0)\nCOUNTER           RX       TX\nkicks            100  1000000\n", 0) == 0);
	CHECK(r.out.find("dev 5 (tap1)") != std::string::npos);

	Fake g;
	g.snapshots.push_back(devices());
	r = run({"stats", "5", "-j"}, g);
	CHECK(g.calls == std::vector<std::string>{"get 5"});
	CHECK(r.out.rfind("[{\"id\":5,\"backend_ifname\":\"tap1\",\"queues\":[", 0) == 0);
}

TEST_CASE("stats --watch prints per-second rates, --count times")
{
	Fake f;
	auto s0 = devices(), s1 = s0, s2 = s0;
	s1[0].queues[0].counters[VHOSTX_CNT_PACKETS] += 1250; // over 1.25 s: 1000/s
	s2 = s1;
	s2[0].queues[0].counters[VHOSTX_CNT_PACKETS] += 2500; // 2000/s
	f.snapshots = {s0, s1, s2};
	auto r = run({"stats", "3", "--watch", "1", "--count", "2"}, f);
	CHECK(r.rc == 0);
	CHECK(r.err.empty());
	CHECK(f.sleeps == std::vector<double>{1.0, 1.0});
	CHECK(f.calls == std::vector<std::string>{"get 3", "get 3", "get 3"});

	std::string block1 = "dev 3 (tap0)\nCOUNTER          RX/s  TX/s\nkicks               0     0\n"
			     "irqs                0     0\nirqs_suppressed     0     0\n"
			     "packets          1000     0\n";
	CHECK(r.out.rfind(block1, 0) == 0);
	auto second = r.out.find("\n\ndev 3 (tap0)\n");
	REQUIRE(second != std::string::npos);
	CHECK(r.out.find("packets          2000     0\n", second) != std::string::npos);
}

TEST_CASE("stats --watch -j prints one JSON object per line")
{
	Fake f;
	auto s0 = devices(), s1 = s0;
	s1[1].queues[1].counters[VHOSTX_CNT_DROPS] += 5;
	f.snapshots = {s0, s1};
	auto r = run({"-j", "stats", "--watch", "0.5", "--count", "3"}, f);
	CHECK(r.rc == 0);
	CHECK(f.sleeps == std::vector<double>{0.5, 0.5, 0.5});
	std::istringstream lines(r.out);
	std::string line;
	int n = 0;
	while (std::getline(lines, line)) {
		n++;
		CHECK(line.rfind("{\"interval_s\":0.750,\"devices\":[{\"id\":3,", 0) == 0);
		// 5 drops over 0.75 s in the first interval, none after
		bool has = line.find("\"drops\":6.67") != std::string::npos;
		CHECK(has == (n == 1));
	}
	CHECK(n == 3);
}

TEST_CASE("set sends only the given settings")
{
	Fake f;
	auto r = run({"set", "3", "busypoll-us", "50", "weight-bytes", "65536"}, f);
	CHECK(r.rc == 0);
	CHECK(r.out.empty());
	CHECK(r.err.empty());
	CHECK(f.calls == std::vector<std::string>{"set 3"});
	REQUIRE(f.settings);
	CHECK(f.settings->busypoll_us == 50u);
	CHECK(f.settings->weight_bytes == 65536u);
	CHECK_FALSE(f.settings->weight_packets);

	Fake g;
	run({"set", "0", "weight-packets", "1"}, g);
	CHECK(g.calls == std::vector<std::string>{"set 0"});
	REQUIRE(g.settings);
	CHECK(g.settings->weight_packets == 1u);
}

TEST_CASE("set dev ID worker W cpus LIST pins a worker")
{
	Fake f;
	auto r = run({"set", "dev", "3", "worker", "1", "cpus", "2-3,6"}, f);
	CHECK(r.rc == 0);
	CHECK(r.err.empty());
	CHECK(f.calls == std::vector<std::string>{"pin 3"});
	REQUIRE(f.pin);
	CHECK(f.pin->worker == 1u);
	CHECK(f.pin->cpus == "2-3,6");

	Fake g;
	run({"set", "4", "worker", "0", "cpus", "1"}, g);
	CHECK(g.calls == std::vector<std::string>{"pin 4"});

	Fake h;
	run({"set", "dev", "5", "busypoll-us", "10"}, h);
	CHECK(h.calls == std::vector<std::string>{"set 5"});
}

TEST_CASE("describe: ENODEV for a missing worker says so")
{
	SysError e(ENODEV, "pin worker 7 of device 1 to CPUs 0", "No such device",
		   "worker-id: the device has no worker with this id");
	CHECK(cli::describe(e) == "pin worker 7 of device 1 to CPUs 0: no such device "
				  "(worker-id: the device has no worker with this id)");
	SysError d(ENODEV, "get device 9", "No such device", "id: no vhostx device with this id");
	CHECK(cli::describe(d) == "get device 9: no such device");
}

TEST_CASE("set worker: every argument error")
{
	check_usage({"set", "dev"}, "set dev: missing device id");
	check_usage({"set", "dev", "x", "worker", "1", "cpus", "1"}, "ID: 'x' is not a number");
	check_usage({"set", "3", "worker", "1"}, "set: worker W cpus LIST (e.g. worker 1 cpus 2-3), on its own");
	check_usage({"set", "3", "worker", "1", "cpus", "1", "busypoll-us", "2"},
		    "set: worker W cpus LIST (e.g. worker 1 cpus 2-3), on its own");
	check_usage({"set", "3", "worker", "a", "cpus", "1"}, "worker: 'a' is not a number");
	check_usage({"set", "3", "worker", "1", "cpus", "x"}, "cpus: 'x' is not a CPU list (e.g. 2 or 0-3,8)");
	check_usage({"set", "3", "worker", "1", "cpus", "3-1"}, "cpus: '3-1' has a range that runs backwards");
	check_usage({"set", "3", "worker", "1", "cpus", "1,,2"}, "cpus: '1,,2' is not a CPU list (e.g. 2 or 0-3,8)");
	check_usage({"set", "3", "worker", "1", "cpus", "9000"}, "cpus: '9000' names a CPU above 8191");
}

TEST_CASE("parse_cpu_list takes the kernel's CPU list format")
{
	CHECK(cli::parse_cpu_list("cpus", "0") == "0");
	CHECK(cli::parse_cpu_list("cpus", "0-3,8,10-11") == "0-3,8,10-11");
	CHECK_THROWS_AS(cli::parse_cpu_list("cpus", ""), cli::UsageError);
	CHECK_THROWS_AS(cli::parse_cpu_list("cpus", "1-"), cli::UsageError);
	CHECK_THROWS_AS(cli::parse_cpu_list("cpus", ",1"), cli::UsageError);
	CHECK_THROWS_AS(cli::parse_cpu_list("cpus", "1,"), cli::UsageError);
	CHECK_THROWS_AS(cli::parse_cpu_list("cpus", "-1"), cli::UsageError);
}

TEST_CASE("kernel errors: what failed and why, exit 1")
{
	struct Case {
		std::vector<std::string> args;
		SysError error;
		std::string message;
	};
	const std::vector<Case> cases = {
		{{"dev", "show", "9"},
		 SysError(ENODEV, "get device 9", "No such device", "no vhostx device with this id"),
		 "get device 9: no such device"},
		{{"set", "3", "busypoll-us", "1"},
		 SysError(EPERM, "set device 3"),
		 "set device 3: permission denied (needs CAP_NET_ADMIN)"},
		{{"set", "3", "busypoll-us", "5000000"},
		 SysError(ERANGE, "set device 3", "Numerical result out of range",
			  "busypoll-us: integer out of range (0-1000000)"),
		 "set device 3: busypoll-us: integer out of range (0-1000000)"},
		{{"stats"}, SysError(EIO, "dump devices"), "dump devices: input/output error"},
	};
	for (const auto &c : cases) {
		Fake f;
		f.snapshots.push_back(devices());
		f.fail = c.error;
		auto r = run(c.args, f);
		INFO(Catch::Detail::stringify(c.args));
		CHECK(r.rc == 1);
		CHECK(r.out.empty());
		CHECK(r.err == "vhostxctl: " + c.message + "\n");
	}
}

TEST_CASE("a device missing from the fake is ENODEV like the kernel's")
{
	auto r = run({"stats", "42"});
	CHECK(r.rc == 1);
	CHECK(r.err == "vhostxctl: get device 42: no such device\n");
}

TEST_CASE("module not loaded")
{
	for (std::vector<std::string> args :
	     {std::vector<std::string>{"dev", "list"}, {"stats"}, {"set", "1", "busypoll-us", "1"}}) {
		Fake f;
		f.connect_fail = SysError(ENOENT, "generic netlink family vhostx", "vhostx module not loaded");
		auto r = run(args, f);
		CHECK(r.rc == 1);
		CHECK(r.err == "vhostxctl: generic netlink family vhostx: vhostx module not loaded\n");
	}
}

TEST_CASE("describe() words errors for people")
{
	CHECK(cli::describe(SysError(ENODEV, "get device 1")) == "get device 1: no such device");
	CHECK(cli::describe(SysError(EACCES, "x")) == "x: permission denied (needs CAP_NET_ADMIN)");
	CHECK(cli::describe(SysError(EINVAL, "x")) == "x: invalid argument");
	CHECK(cli::describe(SysError(EINVAL, "x", "Invalid argument", "Missing attribute")) ==
	      "x: missing attribute");
}
