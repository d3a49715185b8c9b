// SPDX-License-Identifier: GPL-2.0
#include "vhostx/qmp.hpp"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <vector>

#include "vhostx/error.hpp"

namespace vhostx::qmp {

namespace {

using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline)
{
	auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
	return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

std::string error_field(const json &err, const char *key)
{
	auto it = err.find(key);
	if (it == err.end() || !it->is_string())
		return {};
	return it->get<std::string>();
}

} // namespace

Error::Error(std::string command, std::string cls, std::string desc)
	: std::runtime_error(command + ": " + desc), command_(std::move(command)),
	  cls_(std::move(cls)), desc_(std::move(desc))
{
}

Client::Client(UniqueFd fd) : fd_(std::move(fd)) {}

Client Client::connect(const std::string &path)
{
	const std::string op = "connect to QMP socket " + path;
	sockaddr_un addr{};
	if (path.empty() || path.size() >= sizeof(addr.sun_path))
		throw SysError(ENAMETOOLONG, op);
	UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
	if (!fd)
		throw_errno(op);
	addr.sun_family = AF_UNIX;
	std::memcpy(addr.sun_path, path.data(), path.size());
	if (::connect(fd.get(), reinterpret_cast<sockaddr *>(&addr), sizeof(addr)) < 0)
		throw_errno(op);
	return Client(std::move(fd));
}

pid_t Client::peer_pid() const
{
	ucred cred{};
	socklen_t len = sizeof(cred);
	if (::getsockopt(fd_.get(), SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		throw_errno("QMP socket: SO_PEERCRED");
	return cred.pid;
}

void Client::send(const json &msg, std::span<const int> fds)
{
	std::string text = msg.dump() + "\n";
	iovec iov{text.data(), text.size()};
	msghdr mh{};
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	std::vector<char> control;
	if (!fds.empty()) {
		control.resize(CMSG_SPACE(sizeof(int) * fds.size()));
		mh.msg_control = control.data();
		mh.msg_controllen = control.size();
		cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
		std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
	}
	// The fds go with the first byte; the rest of a long message follows
	// without them.
	std::size_t off = 0;
	while (off < text.size()) {
		iov.iov_base = text.data() + off;
		iov.iov_len = text.size() - off;
		ssize_t n = ::sendmsg(fd_.get(), &mh, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			throw_errno("QMP: send");
		}
		off += static_cast<std::size_t>(n);
		mh.msg_control = nullptr;
		mh.msg_controllen = 0;
	}
}

std::optional<json> Client::read_message(int timeout_ms, bool allow_timeout)
{
	if (timeout_ms < 0)
		timeout_ms = io_timeout_ms_;
	auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
	for (;;) {
		auto nl = buf_.find('\n');
		if (nl != std::string::npos) {
			std::string line = buf_.substr(0, nl);
			buf_.erase(0, nl + 1);
			if (line.find_first_not_of(" \t\r") == std::string::npos)
				continue;
			json msg = json::parse(line, nullptr, false);
			if (msg.is_discarded() || !msg.is_object())
				throw SysError(EBADMSG, "QMP: read", "not a JSON object",
					       line.substr(0, 80));
			return msg;
		}
		pollfd p{fd_.get(), POLLIN, 0};
		int r = ::poll(&p, 1, remaining_ms(deadline));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			throw_errno("QMP: poll");
		}
		if (r == 0) {
			if (allow_timeout)
				return std::nullopt;
			throw SysError(ETIMEDOUT, "QMP: read", "QEMU did not answer in time");
		}
		char chunk[65536];
		ssize_t n = ::recv(fd_.get(), chunk, sizeof(chunk), 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			throw_errno("QMP: read");
		}
		if (n == 0)
			throw SysError(ECONNRESET, "QMP: read", "QEMU closed the connection");
		buf_.append(chunk, static_cast<std::size_t>(n));
	}
}

json Client::handshake()
{
	auto greeting = read_message(-1, false);
	if (!greeting->contains("QMP"))
		throw SysError(EPROTO, "QMP: greeting", "no QMP greeting (not a QMP socket?)");
	execute("qmp_capabilities");
	return (*greeting)["QMP"];
}

json Client::execute(const std::string &command, const json &arguments, std::span<const int> fds)
{
	json req = {{"execute", command}, {"id", next_id_++}};
	if (!arguments.is_null())
		req["arguments"] = arguments;
	send(req, fds);
	for (;;) {
		json msg = *read_message(-1, false);
		if (msg.contains("event")) {
			events_.push_back(std::move(msg));
			continue;
		}
		if (msg.contains("QMP"))	// a stray greeting
			continue;
		auto id = msg.find("id");
		if (id != msg.end() && *id != req["id"])
			continue;		// the answer to someone else's request
		if (auto err = msg.find("error"); err != msg.end())
			throw Error(command, error_field(*err, "class"), error_field(*err, "desc"));
		if (auto ret = msg.find("return"); ret != msg.end())
			return *ret;
		throw SysError(EPROTO, "QMP: " + command, "reply has neither return nor error",
			       msg.dump().substr(0, 80));
	}
}

std::optional<json> Client::wait_event(const std::string &name,
				       const std::function<bool(const json &)> &match, int timeout_ms)
{
	auto matches = [&](const json &ev) {
		if (ev.value("event", "") != name)
			return false;
		return !match || match(ev.contains("data") ? ev["data"] : json::object());
	};
	auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
	for (auto it = events_.begin(); it != events_.end(); ++it) {
		if (matches(*it)) {
			json ev = std::move(*it);
			events_.erase(it);
			return ev;
		}
	}
	for (;;) {
		auto msg = read_message(remaining_ms(deadline), true);
		if (!msg)
			return std::nullopt;
		if (!msg->contains("event"))
			continue;	// a late reply: nobody waits for it any more
		if (matches(*msg))
			return msg;
		events_.push_back(std::move(*msg));
	}
}

} // namespace vhostx::qmp
