// SPDX-License-Identifier: GPL-2.0
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "vhostx/attach.hpp"
#include "vhostx/error.hpp"
#include "vhostx/model.hpp"
#include "vhostx/netlink.hpp"

namespace vhostx::cli {

// What run() needs from the outside world; tests substitute all of it.
struct Env {
	// Open the netlink client; called only by commands that need the kernel,
	// after the arguments have been checked.
	std::function<std::unique_ptr<netlink::Api>()> connect;
	// Sleep for this many seconds (stats --watch).
	std::function<void(double)> sleep;
	// A monotonic clock, in seconds.
	std::function<double()> now;
	// Connect to a QMP socket (attach, detach); called after the arguments
	// have been checked.
	std::function<qmp::Client(const std::string &path)> qmp_connect;
	// Taps, vhost nodes and vhostx's netlink for attach/detach.
	attach::Sys attach_sys;
};

// The real thing: netlink::Client, the steady clock, a real sleep.
Env system_env();

// Run vhostxctl with argv-style arguments (args[0] is the program name).
// Normal output goes to out, errors to err ("vhostxctl: WHAT: REASON").
// Returns the exit status: 0 success, 1 the operation failed, 2 bad usage.
int run(const std::vector<std::string> &args, std::ostream &out, std::ostream &err);
int run(const std::vector<std::string> &args, std::ostream &out, std::ostream &err,
	const Env &env);

inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// A bad command-line argument; what() is "ARGUMENT: WHY".
class UsageError : public std::runtime_error {
public:
	using std::runtime_error::runtime_error;
};

// The parsers behind the commands, each throwing UsageError.
uint32_t parse_u32(std::string_view name, std::string_view text);
double parse_seconds(std::string_view name, std::string_view text);
// "busypoll-us N weight-packets N weight-bytes N", any subset, any order.
DevSettings parse_settings(const std::vector<std::string> &words);
// A CPU list as the kernel writes it: "3", "0-3", "0-3,8,10-11"; ascending
// ranges, CPUs below 8192. Returned as given.
std::string parse_cpu_list(std::string_view name, std::string_view text);
// What `set` changes: device settings, or "worker W cpus LIST", not both.
struct SetRequest {
	DevSettings dev;
	std::optional<WorkerPin> pin;
};
SetRequest parse_set(const std::vector<std::string> &words);
// A unicast MAC address "52:54:00:12:34:56", returned in lower case.
std::string parse_mac(std::string_view text);
// attach --queues: 1 to attach::kMaxQueues.
uint32_t parse_queues(std::string_view text);
// A QEMU device id: a letter, then letters, digits, '-', '.', '_'.
std::string parse_qemu_id(std::string_view name, std::string_view text);

// The one-line description of a failure that run() prints after "vhostxctl: ".
std::string describe(const SysError &e);

} // namespace vhostx::cli
