// SPDX-License-Identifier: GPL-2.0
#include <catch2/catch.hpp>

#include <cerrno>

#include "vhostx/device.hpp"
#include "vhostx/error.hpp"

TEST_CASE("Device::open on a missing node names the path and errno")
{
	try {
		vhostx::Device::open("/nonexistent/vhostx-net");
		FAIL("no throw");
	} catch (const vhostx::SysError &e) {
		CHECK(e.err() == ENOENT);
		CHECK(e.op() == "open /nonexistent/vhostx-net");
	}
}

TEST_CASE("Device ioctls on a non-vhost file fail with the ioctl's name")
{
	auto dev = vhostx::Device::open("/dev/null");
	try {
		dev.get_features();
		FAIL("no throw");
	} catch (const vhostx::SysError &e) {
		CHECK(e.err() == ENOTTY);
		CHECK(e.op() == "VHOST_GET_FEATURES");
	}
}
