// SPDX-License-Identifier: GPL-2.0
// qmp::Client against a fake QEMU monitor in a thread (fake_qemu.hpp).
#include <catch2/catch.hpp>

#include <optional>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fake_qemu.hpp"
#include "vhostx/error.hpp"
#include "vhostx/qmp.hpp"

using namespace vhostx;
using testing::FakeQemu;
using testing::json;

TEST_CASE("qmp: greeting, then qmp_capabilities")
{
	FakeQemu fake([](const std::string &, const json &, FakeQemu &) { return testing::ok(); });
	qmp::Client c(fake.take_client());
	json g = c.handshake();
	CHECK(g["version"]["qemu"]["major"] == 7);
	CHECK(g["capabilities"][0] == "oob");
	c.execute("query-status");
	{
		qmp::Client gone = std::move(c);
	}
	fake.join();
	CHECK(fake.commands() == std::vector<std::string>{"qmp_capabilities", "query-status"});
}

TEST_CASE("qmp: a socket that does not greet with QMP is refused")
{
	FakeQemu fake([](const std::string &, const json &, FakeQemu &) { return testing::ok(); },
		      json{{"hello", 1}});
	qmp::Client c(fake.take_client());
	try {
		c.handshake();
		FAIL("no exception");
	} catch (const SysError &e) {
		CHECK(e.err() == EPROTO);
		CHECK(std::string(e.what()).find("no QMP greeting") != std::string::npos);
	}
}

TEST_CASE("qmp: return values and arguments travel")
{
	FakeQemu fake([](const std::string &cmd, const json &args, FakeQemu &) {
		if (cmd == "qom-get")
			return testing::ok(args["path"].get<std::string>() + "/" +
					   args["property"].get<std::string>());
		return testing::ok();
	});
	qmp::Client c(fake.take_client());
	c.handshake();
	CHECK(c.execute("qom-get", {{"path", "/machine"}, {"property", "type"}}) == "/machine/type");
}

TEST_CASE("qmp: an error reply carries QEMU's class and desc")
{
	FakeQemu fake([](const std::string &cmd, const json &, FakeQemu &) {
		if (cmd == "device_add")
			return testing::refuse("Duplicate device ID 'vhx0'");
		return testing::ok();
	});
	qmp::Client c(fake.take_client());
	c.handshake();
	try {
		c.execute("device_add", {{"driver", "virtio-net-pci"}, {"id", "vhx0"}});
		FAIL("no exception");
	} catch (const qmp::Error &e) {
		CHECK(e.command() == "device_add");
		CHECK(e.cls() == "GenericError");
		CHECK(e.desc() == "Duplicate device ID 'vhx0'");
		CHECK(std::string(e.what()) == "device_add: Duplicate device ID 'vhx0'");
	}
	// The connection stays usable after a refusal.
	CHECK(c.execute("query-status") == json::object());
}

TEST_CASE("qmp: events before a reply are kept, and wait_event finds them")
{
	FakeQemu fake([](const std::string &cmd, const json &args, FakeQemu &f) {
		if (cmd == "device_del") {
			f.send({{"event", "NIC_RX_FILTER_CHANGED"}, {"data", {{"name", "x"}}}});
			f.send({{"event", "DEVICE_DELETED"},
				{"data", {{"path", "/machine/peripheral/" + args["id"].get<std::string>() +
							  "/virtio-backend"}}}});
			f.send({{"event", "DEVICE_DELETED"},
				{"data", {{"device", args["id"]}, {"path", "/machine/peripheral/x"}}}});
		}
		return testing::ok();
	});
	qmp::Client c(fake.take_client());
	c.handshake();
	CHECK(c.execute("device_del", {{"id", "x"}}) == json::object());
	REQUIRE(c.events().size() == 3);
	auto ev = c.wait_event(
		"DEVICE_DELETED", [](const json &d) { return d.value("device", "") == "x"; }, 1000);
	REQUIRE(ev);
	CHECK((*ev)["data"]["path"] == "/machine/peripheral/x");
	CHECK(c.events().size() == 2);
	// Nothing more comes: a timeout, not an error.
	CHECK_FALSE(c.wait_event(
		"DEVICE_DELETED", [](const json &d) { return d.value("device", "") == "x"; }, 100));
}

TEST_CASE("qmp: an event that arrives while waiting")
{
	FakeQemu fake([](const std::string &cmd, const json &, FakeQemu &f) {
		if (cmd == "later") {
			std::thread([&f] {
				::usleep(50000);
				f.send({{"event", "DEVICE_DELETED"}, {"data", {{"device", "d"}}}});
			}).detach();
		}
		return testing::ok();
	});
	qmp::Client c(fake.take_client());
	c.handshake();
	c.execute("later");
	auto ev = c.wait_event("DEVICE_DELETED", nullptr, 5000);
	REQUIRE(ev);
	CHECK((*ev)["data"]["device"] == "d");
}

TEST_CASE("qmp: getfd passes the fd itself (SCM_RIGHTS)")
{
	FakeQemu fake([](const std::string &, const json &, FakeQemu &) { return testing::ok(); });
	qmp::Client c(fake.take_client());
	c.handshake();
	UniqueFd efd(::eventfd(0, EFD_CLOEXEC));
	REQUIRE(efd);
	struct stat st;
	REQUIRE(::fstat(efd.get(), &st) == 0);
	int fd = efd.get();
	c.execute("getfd", {{"fdname", "vhx.a.tap0"}}, std::span<const int>(&fd, 1));
	{
		qmp::Client gone = std::move(c);
	}
	fake.join();
	auto &rx = fake.received();
	REQUIRE(rx.size() == 2);
	CHECK(rx[1].command == "getfd");
	CHECK(rx[1].arguments["fdname"] == "vhx.a.tap0");
	REQUIRE(rx[1].fds.size() == 1);
	CHECK(rx[1].fd_inodes[0] == st.st_ino);
	// It is the same open file: a write at the server end is read here.
	uint64_t v = 7;
	REQUIRE(::write(rx[1].fds[0].get(), &v, sizeof(v)) == sizeof(v));
	uint64_t got = 0;
	REQUIRE(::read(efd.get(), &got, sizeof(got)) == sizeof(got));
	CHECK(got == 7);
}

TEST_CASE("qmp: QEMU going away is an error, not a hang")
{
	std::optional<FakeQemu> fake;
	fake.emplace([](const std::string &, const json &, FakeQemu &) { return testing::ok(); });
	qmp::Client c(fake->take_client());
	c.handshake();
	fake.reset();
	try {
		c.execute("query-status");
		FAIL("no exception");
	} catch (const SysError &e) {
		CHECK((e.err() == ECONNRESET || e.err() == EPIPE));
	}
}

TEST_CASE("qmp: connect to a missing socket names it")
{
	try {
		qmp::Client::connect("/nonexistent/qmp.sock");
		FAIL("no exception");
	} catch (const SysError &e) {
		CHECK(e.err() == ENOENT);
		CHECK(e.op() == "connect to QMP socket /nonexistent/qmp.sock");
	}
}

TEST_CASE("qmp: peer_pid is the process at the other end")
{
	FakeQemu fake([](const std::string &, const json &, FakeQemu &) { return testing::ok(); });
	qmp::Client c(fake.take_client());
	CHECK(c.peer_pid() == ::getpid());
}

TEST_CASE("qmp: a monitor that never greets (busy with another client) times out")
{
	int sv[2];
	REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	UniqueFd silent(sv[0]);
	qmp::Client c{UniqueFd(sv[1])};
	c.set_io_timeout(100);
	try {
		c.handshake();
		FAIL("no exception");
	} catch (const SysError &e) {
		CHECK(e.err() == ETIMEDOUT);
		CHECK(std::string(e.what()) == "QMP: read: QEMU did not answer in time");
	}
}
