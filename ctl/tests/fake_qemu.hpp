// SPDX-License-Identifier: GPL-2.0
// A fake QEMU monitor for the QMP and attach tests: a thread at the other end
// of a socketpair that greets, reads one JSON command per line (with any fds
// passed by SCM_RIGHTS), records it, and answers through a handler.
#pragma once

#include <cstring>
#include <functional>
#include <mutex>
#include <string>
#include <sys/socket.h>
#include <sys/stat.h>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "vhostx/fd.hpp"
#include "vhostx/qmp.hpp"

namespace testing {

using nlohmann::json;

struct Received {
	std::string command;
	json arguments;
	std::vector<vhostx::UniqueFd> fds;	// what SCM_RIGHTS delivered
	std::vector<ino_t> fd_inodes;
};

class FakeQemu {
public:
	// handler(command, arguments, fake) -> the whole reply ({"return": ..} or
	// {"error": ..}); it may call send() first to interleave events.
	using Handler = std::function<json(const std::string &, const json &, FakeQemu &)>;

	explicit FakeQemu(Handler h, json greeting = default_greeting()) : handler_(std::move(h))
	{
		int sv[2];
		if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
			throw std::runtime_error("socketpair");
		server_.reset(sv[0]);
		client_.reset(sv[1]);
		greeting_ = std::move(greeting);
		thread_ = std::thread([this] { serve(); });
	}
	~FakeQemu()
	{
		client_.reset();
		if (thread_.joinable()) {
			::shutdown(server_.get(), SHUT_RDWR);
			thread_.join();
		}
	}

	static json default_greeting()
	{
		return {{"QMP",
			 {{"version", {{"qemu", {{"major", 7}, {"minor", 2}, {"micro", 0}}}, {"package", ""}}},
			  {"capabilities", json::array({"oob"})}}}};
	}

	// The client end, once.
	vhostx::UniqueFd take_client() { return std::move(client_); }

	// Wait until the client hung up and the server thread ended.
	void join()
	{
		if (thread_.joinable())
			thread_.join();
	}

	void send(const json &msg)
	{
		std::string s = msg.dump() + "\r\n";
		(void)!::send(server_.get(), s.data(), s.size(), MSG_NOSIGNAL);
	}

	// Every command received, in order ("getfd", "netdev_add", ...).
	std::vector<std::string> commands()
	{
		std::lock_guard<std::mutex> l(mu_);
		std::vector<std::string> v;
		for (const auto &r : received_)
			v.push_back(r.command);
		return v;
	}
	std::vector<Received> &received() { return received_; }
	// The arguments of the n-th command named cmd (0-based).
	json args(const std::string &cmd, std::size_t n = 0)
	{
		std::lock_guard<std::mutex> l(mu_);
		for (const auto &r : received_)
			if (r.command == cmd && n-- == 0)
				return r.arguments;
		return nullptr;
	}

private:
	void serve()
	{
		send(greeting_);
		std::string buf;
		std::vector<vhostx::UniqueFd> fds;
		for (;;) {
			char data[4096];
			char control[CMSG_SPACE(sizeof(int) * 16)];
			iovec iov{data, sizeof(data)};
			msghdr mh{};
			mh.msg_iov = &iov;
			mh.msg_iovlen = 1;
			mh.msg_control = control;
			mh.msg_controllen = sizeof(control);
			ssize_t n = ::recvmsg(server_.get(), &mh, MSG_CMSG_CLOEXEC);
			if (n <= 0)
				return;
			for (cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
				if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
					continue;
				std::size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
				for (std::size_t i = 0; i < k; i++) {
					int fd;
					std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
					fds.emplace_back(fd);
				}
			}
			buf.append(data, static_cast<std::size_t>(n));
			std::size_t nl;
			while ((nl = buf.find('\n')) != std::string::npos) {
				json req = json::parse(buf.substr(0, nl));
				buf.erase(0, nl + 1);
				Received r;
				r.command = req.value("execute", "");
				r.arguments = req.contains("arguments") ? req["arguments"] : json::object();
				for (auto &f : fds) {
					struct stat st;
					::fstat(f.get(), &st);
					r.fd_inodes.push_back(st.st_ino);
				}
				r.fds = std::move(fds);
				fds.clear();
				json reply;
				if (r.command == "qmp_capabilities")
					reply = {{"return", json::object()}};
				else
					reply = handler_(r.command, r.arguments, *this);
				{
					std::lock_guard<std::mutex> l(mu_);
					received_.push_back(std::move(r));
				}
				if (req.contains("id"))
					reply["id"] = req["id"];
				send(reply);
			}
		}
	}

	Handler handler_;
	json greeting_;
	vhostx::UniqueFd server_, client_;
	std::thread thread_;
	std::mutex mu_;
	std::vector<Received> received_;
};

inline json ok(json v = json::object())
{
	return {{"return", std::move(v)}};
}

inline json refuse(const std::string &desc, const std::string &cls = "GenericError")
{
	return {{"error", {{"class", cls}, {"desc", desc}}}};
}

} // namespace testing
