// SPDX-License-Identifier: GPL-2.0
// vhostxctl attach/detach: hot-plug a virtio-net-pci whose tap netdev uses
// vhost fds that this process opened, into a running QEMU, over QMP.
#include "vhostx/attach.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <fcntl.h>
#include <fstream>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <regex>
#include <set>
#include <sstream>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <thread>

#include "vhostx/error.hpp"
#include "vhostx/netlink.hpp"

namespace vhostx::attach {

namespace {

using json = qmp::json;

std::string virtio_path(const std::string &id)
{
	return "/machine/peripheral/" + id + "/virtio-backend";
}

bool iface_exists(const std::string &name)
{
	struct stat st;
	return ::stat(("/sys/class/net/" + name).c_str(), &st) == 0;
}

UniqueFd sys_open_vhost(const std::string &node)
{
	int fd = ::open(node.c_str(), O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		if (e == ENOENT && node == kDefaultNode)
			throw SysError(e, "open " + node,
				       "vhostx module not loaded (modprobe vhostx)");
		if (e == ENOENT && node == "/dev/vhost-net")
			throw SysError(e, "open " + node,
				       "vhost_net module not loaded (modprobe vhost_net)");
		throw SysError(e, "open " + node);
	}
	return UniqueFd(fd);
}

TapFds sys_open_tap(const std::string &name, uint32_t queues)
{
	TapFds t;
	if (name.empty() || name.size() >= IFNAMSIZ)
		throw SysError(EINVAL, "tap '" + name + "'", "name must be 1-15 characters");
	t.created = !iface_exists(name);
	for (uint32_t i = 0; i < queues; i++) {
		int fd = ::open("/dev/net/tun", O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			int e = errno;
			if (e == ENOENT)
				throw SysError(e, "open /dev/net/tun", "tun module not loaded (modprobe tun)");
			throw SysError(e, "open /dev/net/tun");
		}
		UniqueFd q(fd);
		ifreq ifr{};
		std::copy(name.begin(), name.end(), ifr.ifr_name);
		ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
		if (queues > 1)
			ifr.ifr_flags |= IFF_MULTI_QUEUE;
		if (::ioctl(q.get(), TUNSETIFF, &ifr) < 0) {
			int e = errno;
			std::string op = "tap " + name + ": TUNSETIFF";
			if (e == EBUSY)
				throw SysError(e, op,
					       "tap busy: another process holds it (a tap without "
					       "multi_queue has one queue)");
			if (e == EINVAL && !t.created)
				throw SysError(e, op,
					       std::string("the tap's multi_queue flag does not match: ") +
						       (queues > 1 ? "--queues > 1 needs a multi_queue tap"
								   : "a multi_queue tap needs --queues > 1"));
			if (e == EPERM)
				throw SysError(e, op, "permission denied (needs CAP_NET_ADMIN or the tap's owner)");
			throw SysError(e, op);
		}
		t.fds.push_back(std::move(q));
	}
	return t;
}

std::optional<std::vector<DevInfo>> sys_vhostx_devices()
{
	try {
		netlink::Client c;
		return c.dump_devices();
	} catch (const SysError &e) {
		if (e.err() == ENOENT)
			return std::nullopt;	// no "vhostx" family: module not loaded
		throw;
	}
}

std::string sys_fd_ifname(pid_t pid, int fd)
{
	std::ifstream in("/proc/" + std::to_string(pid) + "/fdinfo/" + std::to_string(fd));
	std::string line;
	while (std::getline(in, line))
		if (line.rfind("iff:", 0) == 0) {
			auto p = line.find_first_not_of(" \t", 4);
			return p == std::string::npos ? "" : line.substr(p);
		}
	return "";
}

std::optional<uint32_t> sys_vhostx_id(int fd)
{
	std::ifstream in("/proc/self/fdinfo/" + std::to_string(fd));
	std::string line;
	while (std::getline(in, line))
		if (line.rfind("vhostx-id:", 0) == 0)
			return static_cast<uint32_t>(std::stoul(line.substr(10)));
	return std::nullopt;
}

void say(std::ostream *log, const std::string &s)
{
	if (log)
		*log << s << "\n" << std::flush;
}

// The undo list: steps done so far, run in reverse unless committed.
// Failures while undoing are reported, never thrown (we are already failing).
class Undo {
public:
	explicit Undo(std::ostream *log) : log_(log) {}
	Undo(const Undo &) = delete;
	Undo &operator=(const Undo &) = delete;
	~Undo()
	{
		while (!steps_.empty()) {
			auto [what, fn] = std::move(steps_.back());
			steps_.pop_back();
			try {
				fn();
				say(log_, "  undone: " + what);
			} catch (const std::exception &e) {
				say(log_, "  undo " + what + " failed: " + e.what());
			}
		}
	}
	void push(std::string what, std::function<void()> fn)
	{
		steps_.emplace_back(std::move(what), std::move(fn));
	}
	void commit() { steps_.clear(); }

private:
	std::ostream *log_;
	std::vector<std::pair<std::string, std::function<void()>>> steps_;
};

std::set<uint32_t> ids_of(const std::vector<DevInfo> &devs)
{
	std::set<uint32_t> s;
	for (const auto &d : devs)
		s.insert(d.id);
	return s;
}

bool all_enabled(const DevInfo &d)
{
	return !d.queues.empty() &&
	       std::all_of(d.queues.begin(), d.queues.end(), [](const QueueInfo &q) { return q.enabled; });
}

// device_del, then wait for its DEVICE_DELETED (the guest has to let go).
void device_del(qmp::Client &qmp, const std::string &id, double timeout_s)
{
	qmp.execute("device_del", {{"id", id}});
	auto ev = qmp.wait_event(
		"DEVICE_DELETED",
		[&](const json &data) { return data.value("device", "") == id; },
		static_cast<int>(timeout_s * 1000));
	if (!ev)
		throw Failure("device_del " + id + ": no DEVICE_DELETED within " +
			      std::to_string(static_cast<int>(timeout_s)) +
			      " s (the guest did not release the device)");
}

// Try to close getfd names QEMU still holds for device id; returns those closed.
std::vector<std::string> close_leftover_fds(qmp::Client &qmp, const std::string &id, uint32_t max)
{
	std::vector<std::string> closed;
	for (const char *kind : {"tap", "vhost"}) {
		for (uint32_t i = 0; i < max; i++) {
			std::string name = fd_name(id, kind, i);
			try {
				qmp.execute("closefd", {{"fdname", name}});
				closed.push_back(name);
			} catch (const qmp::Error &) {
				break;	// not held: netdev_add took it, or never passed
			}
		}
	}
	return closed;
}

std::string first_free_id(qmp::Client &qmp)
{
	std::set<std::string> used;
	try {
		for (const auto &c : qmp.execute("qom-list", {{"path", "/machine/peripheral"}}))
			used.insert(c.value("name", ""));
	} catch (const qmp::Error &) {
	}
	for (int i = 0;; i++) {
		std::string id = "vhx" + std::to_string(i);
		if (!used.count(id))
			return id;
	}
}

// Bridges (root ports) with an id and nothing behind them, depth first.
void free_ports(const json &devices, std::vector<std::string> &out)
{
	for (const auto &d : devices) {
		auto br = d.find("pci_bridge");
		if (br == d.end())
			continue;
		const json kids = br->value("devices", json::array());
		std::string qid = d.value("qdev_id", "");
		if (kids.empty() && !qid.empty())
			out.push_back(qid);
		free_ports(kids, out);
	}
}

} // namespace

std::string fd_name(const std::string &id, const char *kind, uint32_t index)
{
	return "vhx." + id + "." + kind + std::to_string(index);
}

Sys system_sys()
{
	Sys s;
	s.open_vhost = sys_open_vhost;
	s.open_tap = sys_open_tap;
	s.vhostx_devices = sys_vhostx_devices;
	s.fd_ifname = sys_fd_ifname;
	s.vhostx_id = sys_vhostx_id;
	s.sleep = [](double sec) { std::this_thread::sleep_for(std::chrono::duration<double>(sec)); };
	s.now = [] {
		return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
			.count();
	};
	return s;
}

std::string choose_bus(qmp::Client &qmp)
{
	std::string type;
	try {
		type = qmp.execute("qom-get", {{"path", "/machine"}, {"property", "type"}}).get<std::string>();
	} catch (const std::exception &) {
		return "";
	}
	if (type.find("q35") == std::string::npos)
		return "";	// pc: hot-plug onto the root bus
	std::vector<std::string> ports;
	for (const auto &bus : qmp.execute("query-pci"))
		free_ports(bus.value("devices", json::array()), ports);
	if (ports.empty())
		throw Failure("q35 machine without a free pcie-root-port: start QEMU with "
			      "-device pcie-root-port,id=rp1,chassis=1 (one per device to hot-plug), "
			      "or name a bus with --bus");
	return ports.front();
}

Result attach(qmp::Client &qmp, const Options &opt, const Sys &sys, std::ostream *log)
{
	Result r;
	r.tap = opt.tap;
	r.queues = opt.queues;
	r.node = opt.node;
	r.qemu_pid = qmp.peer_pid();
	r.id = opt.id.empty() ? first_free_id(qmp) : opt.id;
	r.netdev = r.id + "-net";
	r.bus = opt.bus.empty() ? choose_bus(qmp) : opt.bus;

	// Open everything first: nothing is in QEMU yet if this fails.
	auto before = sys.vhostx_devices();
	std::vector<UniqueFd> vhost;
	for (uint32_t i = 0; i < opt.queues; i++)
		vhost.push_back(sys.open_vhost(opt.node));
	std::set<uint32_t> ours;
	// The module names each fd's device in its fdinfo: exact, no guessing.
	if (sys.vhostx_id)
		for (const auto &fd : vhost)
			if (auto id = sys.vhostx_id(fd.get()))
				ours.insert(*id);
	if (ours.size() != opt.queues)
		ours.clear();
	// Else: the devices that appeared, unowned, between two dumps.
	if (ours.empty() && before) {
		auto after = sys.vhostx_devices();
		if (after) {
			auto old = ids_of(*before);
			for (const auto &d : *after)
				if (!old.count(d.id) && d.owner_pid == 0)
					ours.insert(d.id);
		}
	}
	// Someone else opened devices at the same moment: match by owner and tap.
	bool ours_exact = ours.size() == opt.queues;
	bool is_vhostx = !ours.empty();
	TapFds tap = sys.open_tap(opt.tap, opt.queues);
	r.tap_created = tap.created;
	say(log, "opened " + std::to_string(opt.queues) + " x " + opt.node + " and " +
			 std::to_string(opt.queues) + " queue(s) of tap " + opt.tap +
			 (tap.created ? " (created)" : ""));

	Undo undo(log);
	std::vector<std::string> tapnames, vhostnames;
	for (uint32_t i = 0; i < opt.queues; i++) {
		for (const char *kind : {"tap", "vhost"}) {
			bool is_tap = kind[0] == 't';
			std::string name = fd_name(r.id, kind, i);
			int fd = is_tap ? tap.fds[i].get() : vhost[i].get();
			qmp.execute("getfd", {{"fdname", name}}, std::span<const int>(&fd, 1));
			undo.push("getfd " + name, [&qmp, name] {
				try {
					qmp.execute("closefd", {{"fdname", name}});
				} catch (const qmp::Error &) {
					// netdev_add took it over: netdev_del closed it
				}
			});
			(is_tap ? tapnames : vhostnames).push_back(name);
		}
	}

	auto join = [](const std::vector<std::string> &v) {
		std::string s;
		for (const auto &x : v)
			s += (s.empty() ? "" : ":") + x;
		return s;
	};
	json nd = {{"type", "tap"}, {"id", r.netdev}, {"vhost", true}};
	if (opt.queues == 1) {
		nd["fd"] = tapnames[0];
		nd["vhostfd"] = vhostnames[0];
	} else {
		nd["fds"] = join(tapnames);
		nd["vhostfds"] = join(vhostnames);
	}
	qmp.execute("netdev_add", nd);
	undo.push("netdev_add " + r.netdev, [&qmp, id = r.netdev] {
		qmp.execute("netdev_del", {{"id", id}});
	});
	say(log, "netdev_add " + nd.dump());

	json dev = {{"driver", "virtio-net-pci"}, {"id", r.id}, {"netdev", r.netdev}};
	if (!opt.mac.empty())
		dev["mac"] = opt.mac;
	if (!r.bus.empty())
		dev["bus"] = r.bus;
	if (opt.queues > 1) {
		dev["mq"] = true;
		dev["vectors"] = 2 * opt.queues + 2;
	}
	qmp.execute("device_add", dev);
	undo.push("device_add " + r.id, [&qmp, id = r.id, t = opt.timeout_s] { device_del(qmp, id, t); });
	say(log, "device_add " + dev.dump());
	try {
		r.mac = qmp.execute("qom-get", {{"path", "/machine/peripheral/" + r.id}, {"property", "mac"}})
				.get<std::string>();
	} catch (const std::exception &) {
		r.mac = opt.mac;
	}

	// Wait for the guest's driver: vhost starts at DRIVER_OK. vhostx shows
	// it (our devices owned by QEMU, every queue with a backend); for any
	// node QEMU's x-query-virtio-status has vhost-started.
	bool virtio_query = true;
	double deadline = sys.now() + opt.timeout_s;
	for (;;) {
		bool qemu_started = false;
		if (virtio_query) {
			try {
				auto st = qmp.execute("x-query-virtio-status", {{"path", virtio_path(r.id)}});
				qemu_started = st.value("vhost-started", false);
			} catch (const qmp::Error &e) {
				if (e.cls() != "CommandNotFound")
					throw;
				virtio_query = false;
			}
		}
		bool vhx_started = false;
		if (is_vhostx) {
			auto devs = sys.vhostx_devices();
			std::vector<uint32_t> started;
			for (const auto &d : devs ? *devs : std::vector<DevInfo>{}) {
				if (d.owner_pid != static_cast<uint32_t>(r.qemu_pid) || !all_enabled(d))
					continue;
				if (ours_exact ? ours.count(d.id) > 0 : d.backend_ifname == opt.tap)
					started.push_back(d.id);
			}
			vhx_started = started.size() >= opt.queues;
			if (vhx_started)
				r.vhostx_devices = started;
		}
		if (is_vhostx && vhx_started) {
			r.waited_on = "vhostx netlink: " + std::to_string(opt.queues) +
				      " device(s) owned by QEMU with a backend on every queue";
			break;
		}
		if (!is_vhostx && !virtio_query)
			throw Failure("cannot tell when the guest starts the device: QEMU lacks "
				      "x-query-virtio-status and " + opt.node + " is not vhostx");
		if (!is_vhostx && qemu_started) {
			r.waited_on = "QEMU x-query-virtio-status: vhost-started";
			break;
		}
		if (sys.now() >= deadline)
			throw Failure("the guest did not start the device within " +
				      std::to_string(static_cast<int>(opt.timeout_s)) +
				      " s (is the virtio_net driver loaded in the guest?)");
		sys.sleep(0.2);
	}
	std::sort(r.vhostx_devices.begin(), r.vhostx_devices.end());
	undo.commit();
	return r;
}

DetachResult detach(qmp::Client &qmp, const std::string &id, double timeout_s, const Sys &sys,
		    std::ostream *log)
{
	DetachResult r;
	r.id = id;
	r.qemu_pid = qmp.peer_pid();
	try {
		r.netdev = qmp.execute("qom-get", {{"path", "/machine/peripheral/" + id},
						   {"property", "netdev"}})
				   .get<std::string>();
	} catch (const qmp::Error &e) {
		throw Failure("no device '" + id + "' in QEMU (" + e.desc() + ")");
	}

	// The tap behind the netdev: QEMU shows its fds ("fd=N"), whose fdinfo
	// names the interface.
	try {
		std::string info = qmp.execute("human-monitor-command",
					       {{"command-line", "info network"}})
					   .get<std::string>();
		std::istringstream in(info);
		std::string line;
		std::regex re(" " + r.netdev + ": .*type=tap,fd=([0-9]+)");
		std::smatch m;
		while (r.tap.empty() && std::getline(in, line))
			if (std::regex_search(line, m, re))
				r.tap = sys.fd_ifname(r.qemu_pid, std::stoi(m[1]));
	} catch (const std::exception &) {
	}

	auto owned = [&](const std::vector<DevInfo> &devs) {
		std::set<uint32_t> s;
		for (const auto &d : devs)
			if (d.owner_pid == static_cast<uint32_t>(r.qemu_pid))
				s.insert(d.id);
		return s;
	};
	auto before = sys.vhostx_devices();
	std::set<uint32_t> mine;	// QEMU's devices with this tap as backend
	if (before)
		for (const auto &d : *before)
			if (d.owner_pid == static_cast<uint32_t>(r.qemu_pid) && !r.tap.empty() &&
			    d.backend_ifname == r.tap)
				mine.insert(d.id);

	device_del(qmp, id, timeout_s);
	say(log, "device_del " + id + ": DEVICE_DELETED");
	qmp.execute("netdev_del", {{"id", r.netdev}});
	say(log, "netdev_del " + r.netdev);
	r.closed_fds = close_leftover_fds(qmp, id, kMaxQueues);

	if (!before)
		return r;	// vhostx is not loaded: nothing of it to check
	r.vhostx_checked = true;
	double deadline = sys.now() + timeout_s;
	for (;;) {
		auto now = sys.vhostx_devices();
		std::set<uint32_t> left = now ? owned(*now) : std::set<uint32_t>{};
		bool tap_gone = std::none_of(mine.begin(), mine.end(),
					     [&](uint32_t d) { return left.count(d) > 0; });
		r.freed.clear();
		for (uint32_t d : owned(*before))
			if (!left.count(d))
				r.freed.push_back(d);
		if (tap_gone)
			break;
		if (sys.now() >= deadline)
			throw Failure("vhostx devices of " + r.netdev + " still exist " +
				      std::to_string(static_cast<int>(timeout_s)) +
				      " s after netdev_del (QEMU still holds their fds)");
		sys.sleep(0.1);
	}
	return r;
}

} // namespace vhostx::attach
