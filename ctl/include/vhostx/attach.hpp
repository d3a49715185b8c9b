// SPDX-License-Identifier: GPL-2.0
// Attach a vhost-backed virtio-net device to a QEMU that is already running,
// over QMP, and take it away again (vhostxctl attach / detach).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <sys/types.h>
#include <vector>

#include "vhostx/device.hpp"
#include "vhostx/fd.hpp"
#include "vhostx/model.hpp"
#include "vhostx/qmp.hpp"

namespace vhostx::attach {

// tun allows at most 256 queues per tap (MAX_TAP_QUEUES).
inline constexpr uint32_t kMaxQueues = 256;

struct Options {
	std::string tap;		// tap interface; created when missing
	uint32_t queues = 1;		// queue pairs
	std::string mac;		// empty: QEMU picks one
	std::string id;			// device id; empty: the first free vhxN
	std::string bus;		// empty: QEMU's default, or a free root port on q35
	std::string node = kDefaultNode; // the vhost device node
	double timeout_s = 30;		// for the guest driver, and for device_del
};

// The taps this process opened: one fd per queue.
struct TapFds {
	std::vector<UniqueFd> fds;
	bool created = false;		// the interface did not exist before
};

// Everything attach/detach do besides QMP; tests replace it.
struct Sys {
	// Open the vhost node (SysError on failure).
	std::function<UniqueFd(const std::string &node)> open_vhost;
	// Open `queues` queues of tap `name` (TUNSETIFF), creating it if missing.
	std::function<TapFds(const std::string &name, uint32_t queues)> open_tap;
	// vhostx's devices over netlink; nullopt when the family is absent.
	std::function<std::optional<std::vector<DevInfo>>()> vhostx_devices;
	// The interface a process's fd is a tun queue of ("" if none).
	std::function<std::string(pid_t pid, int fd)> fd_ifname;
	// The vhostx device id behind one of our fds ("vhostx-id:" in its
	// fdinfo); nullopt for other nodes. May be left empty (tests).
	std::function<std::optional<uint32_t>(int fd)> vhostx_id;
	std::function<void(double)> sleep;
	std::function<double()> now;
};

Sys system_sys();

struct Result {
	std::string id;
	std::string netdev;
	std::string tap;
	bool tap_created = false;
	uint32_t queues = 0;
	std::string mac;		// as QEMU reports it
	std::string bus;		// "" for the default bus
	std::string node;
	pid_t qemu_pid = 0;
	std::vector<uint32_t> vhostx_devices; // ids, empty when not vhostx
	std::string waited_on;		// what told us the guest started the queues
};

struct DetachResult {
	std::string id;
	std::string netdev;
	std::string tap;		// "" when QEMU did not show it
	pid_t qemu_pid = 0;
	std::vector<uint32_t> freed;	// vhostx devices that went away
	std::vector<std::string> closed_fds; // getfd names still held, now closed
	bool vhostx_checked = false;	// the netlink family was there to ask
};

// The getfd names attach uses for device `id`: vhx.ID.tapN, vhx.ID.vhostN.
std::string fd_name(const std::string &id, const char *kind, uint32_t index);

// The free bus a new device should go on: "" when QEMU's default does, else
// the id of a free PCIe root port (q35). Throws std::runtime_error when q35
// has none.
std::string choose_bus(qmp::Client &qmp);

// Attach; on any failure everything done so far is undone before the
// exception leaves. Progress goes to log (may be null).
Result attach(qmp::Client &qmp, const Options &opt, const Sys &sys, std::ostream *log = nullptr);

DetachResult detach(qmp::Client &qmp, const std::string &id, double timeout_s, const Sys &sys,
		    std::ostream *log = nullptr);

// A step of attach/detach that did not work out: what() says what and why.
class Failure : public std::runtime_error {
public:
	using std::runtime_error::runtime_error;
};

} // namespace vhostx::attach
