// SPDX-License-Identifier: GPL-2.0
#include <catch2/catch.hpp>

#include <sstream>

#include "vhostx/cli.hpp"

namespace {

struct Result {
	int rc;
	std::string out, err;
};

Result run(std::vector<std::string> args)
{
	std::ostringstream out, err;
	args.insert(args.begin(), "vhostxctl");
	int rc = vhostx::cli::run(args, out, err);
	return {rc, out.str(), err.str()};
}

} // namespace

TEST_CASE("option --version prints the version and exits 0")
{
	auto r = run({"--version"});
	CHECK(r.rc == 0);
	CHECK(r.out == std::string("vhostxctl ") + VHX_VERSION + "\n");
}

TEST_CASE("option --help describes the tool and exits 0")
{
	auto r = run({"--help"});
	CHECK(r.rc == 0);
	CHECK(r.out.find("vhostxctl") != std::string::npos);
	CHECK(r.out.find("--json") != std::string::npos);
}

TEST_CASE("an unknown option is an error that names it")
{
	auto r = run({"--bogus"});
	CHECK(r.rc != 0);
	CHECK(r.err.find("--bogus") != std::string::npos);
}
