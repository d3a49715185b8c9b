// SPDX-License-Identifier: GPL-2.0
// attach/detach against a fake QEMU monitor: the QMP sequence, the fds that
// reach QEMU, and the rollback after a failure injected at each step; and
// the command line's argument checks.
#include <catch2/catch.hpp>

#include <map>
#include <sstream>
#include <sys/eventfd.h>
#include <unistd.h>

#include "fake_qemu.hpp"
#include "vhostx/attach.hpp"
#include "vhostx/cli.hpp"
#include "vhostx/error.hpp"

using namespace vhostx;
using testing::FakeQemu;
using testing::json;

namespace {

// A QEMU that accepts everything, with knobs.
struct Qemu {
	std::string machine = "pc-i440fx-7.2-machine";
	json pci = json::array({{{"bus", 0}, {"devices", json::array()}}});
	std::string fail_cmd;		// refuse this command ...
	int fail_nth = 0;		// ... its n-th time (0-based)
	bool started = true;		// x-query-virtio-status: vhost-started
	bool release = true;		// device_del: send DEVICE_DELETED
	std::map<std::string, int> seen;
	std::string info_network;

	json handle(const std::string &cmd, const json &args, FakeQemu &f)
	{
		int n = seen[cmd]++;
		if (cmd == fail_cmd && n == fail_nth)
			return testing::refuse("injected: " + cmd + " refused");
		if (cmd == "qom-get" && args["path"] == "/machine")
			return testing::ok(machine);
		if (cmd == "qom-get" && args["property"] == "mac")
			return testing::ok("52:54:00:12:34:56");
		if (cmd == "qom-get" && args["property"] == "netdev")
			return testing::ok(args["path"].get<std::string>().substr(20) + "-net");
		if (cmd == "qom-list")
			return testing::ok(json::array({{{"name", "vhx0"}, {"type", "child<virtio-net-pci>"}}}));
		if (cmd == "query-pci")
			return testing::ok(pci);
		if (cmd == "x-query-virtio-status")
			return testing::ok({{"vhost-started", started}});
		if (cmd == "closefd")
			return testing::refuse("File descriptor named '" + args["fdname"].get<std::string>() +
					       "' not found");
		if (cmd == "human-monitor-command")
			return testing::ok(info_network);
		if (cmd == "device_del" && release)
			f.send({{"event", "DEVICE_DELETED"}, {"data", {{"device", args["id"]}}}});
		return testing::ok();
	}
};

struct FakeSys {
	double clock = 0;
	int vhost_opened = 0;
	int tap_opened = 0;
	std::optional<std::vector<DevInfo>> devices; // nullopt: no vhostx
	std::function<void(FakeSys &)> on_poll;	      // called by vhostx_devices

	attach::Sys sys()
	{
		attach::Sys s;
		s.open_vhost = [this](const std::string &) {
			vhost_opened++;
			return UniqueFd(::eventfd(0, EFD_CLOEXEC));
		};
		s.open_tap = [this](const std::string &, uint32_t q) {
			attach::TapFds t;
			for (uint32_t i = 0; i < q; i++) {
				tap_opened++;
				t.fds.emplace_back(::eventfd(0, EFD_CLOEXEC));
			}
			t.created = false;
			return t;
		};
		s.vhostx_devices = [this]() {
			if (on_poll)
				on_poll(*this);
			return devices;
		};
		s.fd_ifname = [](pid_t, int fd) { return fd == 23 ? std::string("vxt0") : std::string(); };
		s.sleep = [this](double d) { clock += d; };
		s.now = [this] { return clock; };
		return s;
	}
};

attach::Options opts(uint32_t queues = 1)
{
	attach::Options o;
	o.tap = "vxt0";
	o.queues = queues;
	o.id = "net1";
	o.timeout_s = 5;
	return o;
}

// Run attach against qemu; returns the fake's command log (capabilities
// excluded) and, through err, the failure's text.
std::vector<std::string> run_attach(Qemu &q, FakeSys &fs, const attach::Options &o, std::string *err,
				    attach::Result *res = nullptr)
{
	auto fake = std::make_unique<FakeQemu>(
		[&q](const std::string &c, const json &a, FakeQemu &f) { return q.handle(c, a, f); });
	{
		qmp::Client c(fake->take_client());
		c.handshake();
		try {
			auto r = attach::attach(c, o, fs.sys());
			if (res)
				*res = r;
		} catch (const std::exception &e) {
			if (err)
				*err = e.what();
		}
	}
	fake->join();
	auto cmds = fake->commands();
	cmds.erase(cmds.begin());
	return cmds;
}

std::vector<std::string> without_queries(std::vector<std::string> v)
{
	std::erase_if(v, [](const std::string &c) {
		return c == "qom-get" || c == "qom-list" || c == "query-pci" || c == "x-query-virtio-status";
	});
	return v;
}

} // namespace

TEST_CASE("attach: one queue pair, the QMP sequence and the fds QEMU gets")
{
	Qemu q;
	FakeSys fs;
	auto fake = std::make_unique<FakeQemu>(
		[&q](const std::string &c, const json &a, FakeQemu &f) { return q.handle(c, a, f); });
	attach::Result r;
	{
		qmp::Client c(fake->take_client());
		c.handshake();
		r = attach::attach(c, opts(), fs.sys());
	}
	fake->join();
	auto cmds = fake->commands();
	CHECK(without_queries(cmds) ==
	      std::vector<std::string>{"qmp_capabilities", "getfd", "getfd", "netdev_add", "device_add"});
	CHECK(fake->args("getfd", 0)["fdname"] == "vhx.net1.tap0");
	CHECK(fake->args("getfd", 1)["fdname"] == "vhx.net1.vhost0");
	for (const auto &rx : fake->received())
		if (rx.command == "getfd")
			CHECK(rx.fds.size() == 1);
		else
			CHECK(rx.fds.empty());
	json nd = fake->args("netdev_add");
	CHECK(nd == json{{"type", "tap"}, {"id", "net1-net"}, {"vhost", true}, {"fd", "vhx.net1.tap0"},
			 {"vhostfd", "vhx.net1.vhost0"}});
	json dev = fake->args("device_add");
	CHECK(dev == json{{"driver", "virtio-net-pci"}, {"id", "net1"}, {"netdev", "net1-net"}});
	CHECK(r.id == "net1");
	CHECK(r.mac == "52:54:00:12:34:56");
	CHECK(r.bus.empty());
	CHECK(r.waited_on == "QEMU x-query-virtio-status: vhost-started");
	CHECK(fs.vhost_opened == 1);
	CHECK(fs.tap_opened == 1);
}

TEST_CASE("attach: two queue pairs use fds=/vhostfds=, mq and 6 vectors; MAC passed")
{
	Qemu q;
	FakeSys fs;
	FakeQemu fake([&q](const std::string &c, const json &a, FakeQemu &f) { return q.handle(c, a, f); });
	{
		qmp::Client c(fake.take_client());
		c.handshake();
		auto o = opts(2);
		o.mac = "52:54:00:aa:bb:cc";
		attach::attach(c, o, fs.sys());
	}
	fake.join();
	CHECK(fake.args("netdev_add")["fds"] == "vhx.net1.tap0:vhx.net1.tap1");
	CHECK(fake.args("netdev_add")["vhostfds"] == "vhx.net1.vhost0:vhx.net1.vhost1");
	CHECK_FALSE(fake.args("netdev_add").contains("fd"));
	json dev = fake.args("device_add");
	CHECK(dev["mq"] == true);
	CHECK(dev["vectors"] == 6);
	CHECK(dev["mac"] == "52:54:00:aa:bb:cc");
	CHECK(fs.vhost_opened == 2);
	CHECK(fs.tap_opened == 2);
}

TEST_CASE("attach: no --id takes the first free vhxN")
{
	Qemu q;
	FakeSys fs;
	auto o = opts();
	o.id.clear();
	attach::Result r;
	std::string err;
	run_attach(q, fs, o, &err, &r);
	CHECK(err.empty());
	CHECK(r.id == "vhx1");	// the fake has a vhx0 already
	CHECK(r.netdev == "vhx1-net");
}

TEST_CASE("attach: on q35 the device goes on a free root port")
{
	Qemu q;
	q.machine = "pc-q35-7.2-machine";
	json busy = {{"qdev_id", "rp0"}, {"pci_bridge", {{"devices", json::array({{{"qdev_id", "x"}}})}}}};
	json free = {{"qdev_id", "rp1"}, {"pci_bridge", {{"devices", json::array()}}}};
	q.pci = json::array({{{"bus", 0}, {"devices", json::array({busy, free})}}});
	FakeSys fs;
	FakeQemu fake([&q](const std::string &c, const json &a, FakeQemu &f) { return q.handle(c, a, f); });
	{
		qmp::Client c(fake.take_client());
		c.handshake();
		attach::attach(c, opts(), fs.sys());
	}
	fake.join();
	CHECK(fake.args("device_add")["bus"] == "rp1");
}

TEST_CASE("attach: q35 without a free root port fails before anything is added")
{
	Qemu q;
	q.machine = "pc-q35-7.2-machine";
	FakeSys fs;
	std::string err;
	auto cmds = run_attach(q, fs, opts(), &err);
	CHECK(err.find("free pcie-root-port") != std::string::npos);
	CHECK(without_queries(cmds).empty());
	CHECK(fs.vhost_opened == 0);
}

TEST_CASE("attach: a failure at each step undoes exactly what was done")
{
	struct Step {
		std::string fail;
		int nth;
		std::vector<std::string> expect;
	};
	// With 2 queue pairs: getfd tap0, vhost0, tap1, vhost1, netdev_add, device_add.
	std::vector<Step> steps = {
		{"getfd", 0, {"getfd"}},
		{"getfd", 1, {"getfd", "getfd", "closefd"}},
		{"getfd", 3, {"getfd", "getfd", "getfd", "getfd", "closefd", "closefd", "closefd"}},
		{"netdev_add",
		 0,
		 {"getfd", "getfd", "getfd", "getfd", "netdev_add", "closefd", "closefd", "closefd", "closefd"}},
		{"device_add",
		 0,
		 {"getfd", "getfd", "getfd", "getfd", "netdev_add", "device_add", "netdev_del", "closefd",
		  "closefd", "closefd", "closefd"}},
	};
	for (const auto &s : steps) {
		DYNAMIC_SECTION(s.fail << " #" << s.nth << " refused")
		{
			Qemu q;
			q.fail_cmd = s.fail;
			q.fail_nth = s.nth;
			FakeSys fs;
			std::string err;
			auto cmds = run_attach(q, fs, opts(2), &err);
			CHECK(err == s.fail + ": injected: " + s.fail + " refused");
			CHECK(without_queries(cmds) == s.expect);
		}
	}
}

TEST_CASE("attach: the undo closes the names it passed, in reverse order")
{
	Qemu q;
	q.fail_cmd = "device_add";
	FakeSys fs;
	auto fake = std::make_unique<FakeQemu>(
		[&q](const std::string &c, const json &a, FakeQemu &f) { return q.handle(c, a, f); });
	{
		qmp::Client c(fake->take_client());
		c.handshake();
		CHECK_THROWS_AS(attach::attach(c, opts(), fs.sys()), qmp::Error);
	}
	fake->join();
	CHECK(fake->args("netdev_del")["id"] == "net1-net");
	CHECK(fake->args("closefd", 0)["fdname"] == "vhx.net1.vhost0");
	CHECK(fake->args("closefd", 1)["fdname"] == "vhx.net1.tap0");
}

TEST_CASE("attach: the guest never starts the driver: timeout, then device_del, netdev_del, closefd")
{
	Qemu q;
	q.started = false;
	FakeSys fs;
	std::string err;
	auto cmds = run_attach(q, fs, opts(), &err);
	CHECK(err.find("did not start the device within 5 s") != std::string::npos);
	CHECK(without_queries(cmds) == std::vector<std::string>{"getfd", "getfd", "netdev_add", "device_add",
								 "device_del", "netdev_del", "closefd",
								 "closefd"});
	CHECK(fs.clock >= 5);
}

TEST_CASE("attach: vhostx devices are found by netlink: ours, owned by QEMU, every queue enabled")
{
	Qemu q;
	q.started = false;	// only vhostx's view counts here
	FakeSys fs;
	DevInfo other;
	other.id = 1;
	other.owner_pid = 4242;
	fs.devices = std::vector<DevInfo>{other};
	int polls = 0;
	fs.on_poll = [&](FakeSys &s) {
		polls++;
		if (s.vhost_opened == 2 && s.devices->size() == 1) {
			// Our two opens created devices 2 and 3, without owner yet.
			for (uint32_t id : {2u, 3u}) {
				DevInfo d;
				d.id = id;
				d.queues.resize(2);
				s.devices->push_back(d);
			}
		}
		if (polls == 5) {	// QEMU took them, the guest started the driver
			for (auto &d : *s.devices)
				if (d.id > 1) {
					d.owner_pid = static_cast<uint32_t>(::getpid());
					d.backend_ifname = "vxt0";
					for (auto &qq : d.queues)
						qq.enabled = true;
				}
		}
	};
	attach::Result r;
	std::string err;
	run_attach(q, fs, opts(2), &err, &r);
	CHECK(err.empty());
	CHECK(r.vhostx_devices == std::vector<uint32_t>{2, 3});
	CHECK(r.waited_on.find("vhostx netlink") == 0);
}

TEST_CASE("attach: the fds' own device ids (fdinfo) win over a racing open by someone else")
{
	Qemu q;
	q.started = false;
	FakeSys fs;
	fs.devices = std::vector<DevInfo>{};
	int polls = 0;
	fs.on_poll = [&](FakeSys &s) {
		polls++;
		if (s.vhost_opened == 1 && s.devices->empty()) {
			// Ours is 7; another process opened 8 at the same moment.
			for (uint32_t id : {7u, 8u}) {
				DevInfo d;
				d.id = id;
				d.queues.resize(2);
				s.devices->push_back(d);
			}
		}
		// Both end up owned by QEMU on the same tap (a second attach racing
		// this one): only the fdinfo tells them apart.
		if (polls == 4)
			for (auto &d : *s.devices) {
					d.owner_pid = static_cast<uint32_t>(::getpid());
					d.backend_ifname = "vxt0";
					for (auto &qq : d.queues)
						qq.enabled = true;
			}
	};
	attach::Sys sys = fs.sys();
	attach::Options o = opts(1);
	auto fake = std::make_unique<FakeQemu>(
		[&q](const std::string &c, const json &a, FakeQemu &f) { return q.handle(c, a, f); });
	attach::Result r;
	{
		qmp::Client c(fake->take_client());
		c.handshake();
		sys.vhostx_id = [](int) { return std::optional<uint32_t>(7); };
		r = attach::attach(c, o, sys);
	}
	fake->join();
	CHECK(r.vhostx_devices == std::vector<uint32_t>{7});
	CHECK(r.waited_on.find("vhostx netlink") == 0);
	// Without the fdinfo ids the racing device is taken for ours.
	fs.devices = std::vector<DevInfo>{};
	polls = 0;
	fs.vhost_opened = 0;
	auto fake2 = std::make_unique<FakeQemu>(
		[&q](const std::string &c, const json &a, FakeQemu &f) { return q.handle(c, a, f); });
	{
		qmp::Client c(fake2->take_client());
		c.handshake();
		r = attach::attach(c, o, fs.sys());
	}
	fake2->join();
	CHECK(r.vhostx_devices == std::vector<uint32_t>{7, 8});
}

TEST_CASE("detach: device_del, wait for DEVICE_DELETED, netdev_del, close leftover names")
{
	Qemu q;
	q.info_network = "net1: index=0,type=nic,model=virtio-net-pci,macaddr=52:54:00:12:34:56\r\n"
			 " \\ net1-net: index=0,type=tap,fd=23\r\n";
	FakeSys fs;
	DevInfo d;
	d.id = 7;
	d.owner_pid = static_cast<uint32_t>(::getpid());
	d.backend_ifname = "vxt0";
	fs.devices = std::vector<DevInfo>{d};
	int polls = 0;
	fs.on_poll = [&](FakeSys &s) {
		if (++polls == 3)
			s.devices->clear();	// QEMU closed the fds
	};
	FakeQemu fake([&q](const std::string &c, const json &a, FakeQemu &f) { return q.handle(c, a, f); });
	attach::DetachResult r;
	{
		qmp::Client c(fake.take_client());
		c.handshake();
		r = attach::detach(c, "net1", 5, fs.sys());
	}
	fake.join();
	CHECK(fake.commands() == std::vector<std::string>{"qmp_capabilities", "qom-get",
							  "human-monitor-command", "device_del",
							  "netdev_del", "closefd", "closefd"});
	CHECK(fake.args("netdev_del")["id"] == "net1-net");
	CHECK(r.tap == "vxt0");
	CHECK(r.freed == std::vector<uint32_t>{7});
	CHECK(r.vhostx_checked);
}

TEST_CASE("detach: the guest does not release the device: an error, no netdev_del")
{
	Qemu q;
	q.release = false;
	FakeSys fs;
	FakeQemu fake([&q](const std::string &c, const json &a, FakeQemu &f) { return q.handle(c, a, f); });
	{
		qmp::Client c(fake.take_client());
		c.handshake();
		try {
			attach::detach(c, "net1", 0.2, fs.sys());
			FAIL("no exception");
		} catch (const attach::Failure &e) {
			CHECK(std::string(e.what()).find("no DEVICE_DELETED") != std::string::npos);
		}
	}
	fake.join();
	auto cmds = fake.commands();
	CHECK(std::find(cmds.begin(), cmds.end(), "netdev_del") == cmds.end());
}

TEST_CASE("detach: an unknown id says so")
{
	Qemu q;
	q.fail_cmd = "qom-get";
	FakeSys fs;
	FakeQemu fake([&q](const std::string &c, const json &a, FakeQemu &f) { return q.handle(c, a, f); });
	qmp::Client c(fake.take_client());
	c.handshake();
	try {
		attach::detach(c, "nope", 1, fs.sys());
		FAIL("no exception");
	} catch (const attach::Failure &e) {
		CHECK(std::string(e.what()) == "no device 'nope' in QEMU (injected: qom-get refused)");
	}
}

// ---- the command line -----------------------------------------------------

namespace {

struct CliResult {
	int rc;
	std::string out, err;
	int connects;
};

CliResult run_cli(std::vector<std::string> args)
{
	args.insert(args.begin(), "vhostxctl");
	cli::Env env;
	int connects = 0;
	env.qmp_connect = [&](const std::string &path) -> qmp::Client {
		connects++;
		throw SysError(ENOENT, "connect to QMP socket " + path);
	};
	env.connect = [] { return std::unique_ptr<netlink::Api>(); };
	std::ostringstream out, err;
	int rc = cli::run(args, out, err, env);
	return {rc, out.str(), err.str(), connects};
}

} // namespace

TEST_CASE("cli attach: bad arguments are refused before QEMU is touched")
{
	struct Bad {
		std::vector<std::string> args;
		std::string msg;
	};
	std::vector<Bad> bad = {
		{{"attach", "--tap", "t0"}, "--qmp is required"},
		{{"attach", "--qmp", "/s"}, "--tap is required"},
		{{"attach", "--qmp", "/s", "--tap", "t0", "--mac", "52:54:00:12:34"},
		 "vhostxctl: --mac: '52:54:00:12:34' is not a MAC address (like 52:54:00:12:34:56)\n"},
		{{"attach", "--qmp", "/s", "--tap", "t0", "--mac", "52:54:00:12:34:zz"},
		 "is not a MAC address"},
		{{"attach", "--qmp", "/s", "--tap", "t0", "--mac", "01:00:5e:00:00:01"},
		 "vhostxctl: --mac: '01:00:5e:00:00:01' is a multicast address\n"},
		{{"attach", "--qmp", "/s", "--tap", "t0", "--queues", "0"},
		 "vhostxctl: --queues: '0' is out of range (1-256)\n"},
		{{"attach", "--qmp", "/s", "--tap", "t0", "--queues", "257"},
		 "vhostxctl: --queues: '257' is out of range (1-256)\n"},
		{{"attach", "--qmp", "/s", "--tap", "t0", "--queues", "two"},
		 "vhostxctl: --queues: 'two' is not a number\n"},
		{{"attach", "--qmp", "/s", "--tap", "t0", "--id", "1abc"}, "is not a QEMU id"},
		{{"attach", "--qmp", "/s", "--tap", "t0", "--timeout", "0"},
		 "vhostxctl: --timeout: must be more than 0\n"},
		{{"attach", "--qmp", "/s", "--tap", "this-name-is-too-long"}, "is not an interface name"},
		{{"detach", "--qmp", "/s"}, "--id is required"},
		{{"detach", "--id", "x"}, "--qmp is required"},
		{{"detach", "--qmp", "/s", "--id", "a b"}, "is not a QEMU id"},
	};
	for (const auto &b : bad) {
		auto r = run_cli(b.args);
		INFO(b.args.back() << ": " << r.err);
		CHECK(r.rc == cli::kExitUsage);
		CHECK(r.err.find(b.msg) != std::string::npos);
		CHECK(r.connects == 0);
		CHECK(r.out.empty());
	}
}

TEST_CASE("cli attach: good arguments reach QMP, a missing socket is a failure (1)")
{
	auto r = run_cli({"attach", "--qmp", "/run/q.sock", "--tap", "t0", "--queues", "2", "--mac",
			  "52:54:00:AA:bb:cc", "--id", "n0", "--timeout", "2.5"});
	CHECK(r.connects == 1);
	CHECK(r.rc == cli::kExitFailure);
	CHECK(r.err == "vhostxctl: connect to QMP socket /run/q.sock: no such file or directory\n");
}

TEST_CASE("cli: parse_mac normalises to lower case")
{
	CHECK(cli::parse_mac("52:54:00:AA:BB:CC") == "52:54:00:aa:bb:cc");
	CHECK_THROWS_AS(cli::parse_mac("52-54-00-aa-bb-cc"), cli::UsageError);
}
