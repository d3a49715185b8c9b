// SPDX-License-Identifier: GPL-2.0
#include <catch2/catch.hpp>

#include <cerrno>
#include <fcntl.h>
#include <string>

#include "vhostx/error.hpp"
#include "vhostx/fd.hpp"

using vhostx::SysError;
using vhostx::UniqueFd;

TEST_CASE("SysError carries the errno and the operation")
{
	SysError e(ENOTTY, "VHOST_SET_OWNER");
	CHECK(e.err() == ENOTTY);
	CHECK(e.op() == "VHOST_SET_OWNER");
	CHECK(std::string(e.what()).find("VHOST_SET_OWNER") == 0);
	CHECK(std::string(e.what()).find("Inappropriate ioctl") != std::string::npos);
}

TEST_CASE("throw_errno uses the current errno")
{
	errno = EPERM;
	try {
		vhostx::throw_errno("op");
		FAIL("no throw");
	} catch (const SysError &e) {
		CHECK(e.err() == EPERM);
	}
}

static bool fd_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

TEST_CASE("UniqueFd closes on destruction and moves ownership")
{
	int raw = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
	REQUIRE(raw >= 0);
	{
		UniqueFd a(raw);
		CHECK(a.get() == raw);
		UniqueFd b(std::move(a));
		CHECK(!a);
		CHECK(b.get() == raw);
		UniqueFd c;
		c = std::move(b);
		CHECK(fd_open(raw));
	}
	CHECK(!fd_open(raw));
}

TEST_CASE("UniqueFd::release gives up ownership")
{
	int raw = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
	REQUIRE(raw >= 0);
	{
		UniqueFd a(raw);
		CHECK(a.release() == raw);
	}
	CHECK(fd_open(raw));
	::close(raw);
}
