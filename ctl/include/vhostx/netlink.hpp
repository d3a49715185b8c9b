// SPDX-License-Identifier: GPL-2.0
// The "vhostx" generic netlink family (include/uapi/linux/vhostx.h,
// Documentation/netlink/specs/vhostx.yaml): a client on libnl-genl-3 and the
// pure parsers it uses, which tests feed with recorded replies.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "vhostx/model.hpp"

struct nl_sock;
struct nl_msg;
struct nl_cb;

namespace vhostx::netlink {

using Bytes = std::span<const uint8_t>;

// ---- Pure parsers: raw netlink message bytes in, values out. ----------------
// Each takes one whole message (struct nlmsghdr first) and throws SysError
// (EBADMSG, "parse ...") when it is truncated or lacks a required attribute.
// Attributes this build does not know are ignored (newer kernels).

// A VHOSTX_CMD_DEV_GET reply (do or one message of a dump).
DevInfo parse_dev(Bytes msg);

// A VHOSTX_CMD_QUEUE_BROKEN notification.
QueueBrokenEvent parse_queue_broken(Bytes msg);

// Every VHOSTX_CMD_DEV_GET message in a buffer of back-to-back messages (as
// recvmsg() returns them); stops at NLMSG_DONE. An NLMSG_ERROR with an error
// throws, like the kernel's answer would in Client.
std::vector<DevInfo> parse_dump(Bytes buf, const std::string &op = "dump devices");

// An NLMSG_ERROR message: the (positive) errno and, when the kernel sent
// extended ACK attributes, its message and the offset of the bad attribute
// in the request.
struct Ack {
	int error = 0;
	std::string message;
	std::optional<uint32_t> offset;
	// The bad attribute's allowed range (NLMSGERR_ATTR_POLICY), if sent.
	std::optional<uint64_t> min, max;
};
Ack parse_ack(Bytes msg);

// The type of the top-level attribute that starts offset bytes into a
// generic netlink request, if one does.
std::optional<int> attr_type_at(Bytes request, uint32_t offset);

// The spec's name of a VHOSTX_A_DEV_* attribute ("busypoll-us"), or "".
std::string_view dev_attr_name(int type);

// The kernel's extack message for a failed request, made specific: the
// attribute it points at named, its allowed range appended:
// "busypoll-us: integer out of range (0-1000000)". Empty without extack.
std::string ack_detail(const Ack &ack, Bytes request);

// Map a libnl error code (NLE_*, either sign) to an errno.
int nlerr_to_errno(int nlerr) noexcept;

// ---- The client. ------------------------------------------------------------

// What vhostxctl needs from the kernel; Client implements it, tests fake it.
class Api {
public:
	virtual ~Api() = default;
	virtual std::vector<DevInfo> dump_devices() = 0;
	virtual DevInfo get_device(uint32_t id) = 0;
	virtual void set_device(uint32_t id, const DevSettings &settings) = 0;
	// VHOSTX_CMD_WORKER_SET. The default throws SysError(EOPNOTSUPP).
	virtual void set_worker(uint32_t id, const WorkerPin &pin);
	// VHOSTX_CMD_QUEUE_BROKEN notifications (vhostxctl monitor): join the
	// "events" group, then take them one by one; nullopt when timeout_ms
	// passed without one (never with -1). Implementations that cannot
	// listen throw SysError(EOPNOTSUPP).
	virtual void subscribe_events();
	virtual std::optional<QueueBrokenEvent> next_event(int timeout_ms = -1);
};

namespace detail {
struct SockDeleter {
	void operator()(nl_sock *s) const noexcept;
};
struct MsgDeleter {
	void operator()(nl_msg *m) const noexcept;
};
struct CbDeleter {
	void operator()(nl_cb *c) const noexcept;
};
} // namespace detail
using SockPtr = std::unique_ptr<nl_sock, detail::SockDeleter>;
using MsgPtr = std::unique_ptr<nl_msg, detail::MsgDeleter>;
using CbPtr = std::unique_ptr<nl_cb, detail::CbDeleter>;

// A generic netlink socket bound to the "vhostx" family. Every failure throws
// SysError naming the operation ("get device 3", ...) with the kernel's errno
// and, in detail(), its extack message. Without the family the constructor
// throws SysError(ENOENT, ..., "vhostx module not loaded").
class Client final : public Api {
public:
	Client();
	~Client() override;
	Client(Client &&) noexcept;
	Client &operator=(Client &&) noexcept;

	int family_id() const noexcept { return family_; }

	std::vector<DevInfo> dump_devices() override;
	DevInfo get_device(uint32_t id) override;
	void set_device(uint32_t id, const DevSettings &settings) override;
	void set_worker(uint32_t id, const WorkerPin &pin) override;

	// Join the "events" multicast group (on a socket of its own, so requests
	// and notifications never mix). Idempotent.
	void subscribe_events() override;
	// The events socket's fd, for poll(); -1 before subscribe_events().
	int event_fd() const noexcept;
	// The next VHOSTX_CMD_QUEUE_BROKEN, waiting at most timeout_ms (-1:
	// forever); nullopt on timeout. Needs subscribe_events().
	std::optional<QueueBrokenEvent> next_event(int timeout_ms = -1) override;

private:
	std::vector<std::vector<uint8_t>> transact(nl_msg *msg, const std::string &op,
						   bool dump);

	SockPtr sock_;
	SockPtr events_;
	int family_ = -1;
	std::deque<QueueBrokenEvent> pending_;
};

} // namespace vhostx::netlink
