// SPDX-License-Identifier: GPL-2.0
// A small QMP (QEMU Machine Protocol) client: JSON messages over a unix
// socket, file descriptors passed with SCM_RIGHTS (for getfd), asynchronous
// events kept aside while waiting for a reply.
#pragma once

#include <deque>
#include <functional>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <sys/types.h>

#include <nlohmann/json.hpp>

#include "vhostx/fd.hpp"

namespace vhostx::qmp {

using json = nlohmann::json;

// QEMU answered a command with {"error": {"class": ..., "desc": ...}}.
// what() reads "COMMAND: DESC".
class Error : public std::runtime_error {
public:
	Error(std::string command, std::string cls, std::string desc);

	const std::string &command() const noexcept { return command_; }
	const std::string &cls() const noexcept { return cls_; }
	const std::string &desc() const noexcept { return desc_; }

private:
	std::string command_, cls_, desc_;
};

class Client {
public:
	// Connect to the QMP unix socket at path. Throws SysError ("connect to
	// QMP socket PATH") when it is missing or refuses.
	static Client connect(const std::string &path);
	// Use an already connected stream socket (tests use a socketpair).
	explicit Client(UniqueFd fd);

	Client(Client &&) noexcept = default;
	Client &operator=(Client &&) noexcept = default;

	// Every read waits at most this long (ms) for the peer; then SysError
	// (ETIMEDOUT). Default 60 s (a loaded host can be slow).
	void set_io_timeout(int ms) noexcept { io_timeout_ms_ = ms; }

	// Read the greeting and leave negotiation mode (qmp_capabilities).
	// Returns the greeting's "QMP" object (version, capabilities).
	json handshake();

	// Run a command and return its "return" value. fds travel with the
	// request in one SCM_RIGHTS message (getfd takes exactly one).
	// Throws qmp::Error when QEMU refuses, SysError on I/O failure.
	json execute(const std::string &command, const json &arguments = nullptr,
		     std::span<const int> fds = {});

	// Wait up to timeout_ms for an event named name for which match() is
	// true (or any, without match); events seen earlier count too. The
	// event is removed from the queue and returned; nullopt on timeout.
	std::optional<json> wait_event(const std::string &name,
				       const std::function<bool(const json &)> &match,
				       int timeout_ms);

	// Events received so far and not yet taken by wait_event().
	const std::deque<json> &events() const noexcept { return events_; }

	// The process at the other end (SO_PEERCRED): QEMU's pid.
	pid_t peer_pid() const;

	int fd() const noexcept { return fd_.get(); }

private:
	// The next message, waiting at most timeout_ms (-1: io_timeout_ms_);
	// nullopt only on timeout when allow_timeout is set.
	std::optional<json> read_message(int timeout_ms, bool allow_timeout);
	void send(const json &msg, std::span<const int> fds);

	UniqueFd fd_;
	std::string buf_;
	std::deque<json> events_;
	uint64_t next_id_ = 1;
	int io_timeout_ms_ = 60000;
};

} // namespace vhostx::qmp
