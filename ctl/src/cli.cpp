// SPDX-License-Identifier: GPL-2.0
// vhostxctl's command line: iproute2-style "OBJECT VERB [ARGS]" grammar.
#include "vhostx/cli.hpp"

#include <CLI/CLI.hpp>

#include "vhostx/error.hpp"

namespace vhostx::cli {

namespace {

struct Options {
	bool json = false;
};

} // namespace

int run(const std::vector<std::string> &args, std::ostream &out, std::ostream &err)
{
	CLI::App app{"vhostxctl - control the vhostx in-kernel virtio-net data path",
		     args.empty() ? "vhostxctl" : args[0]};
	Options opt;

	app.set_version_flag("-V,--version", std::string("vhostxctl ") + VHX_VERSION);
	app.add_flag("-j,--json", opt.json, "print JSON instead of tables");
	app.require_subcommand(0, 1);

	std::vector<const char *> argv;
	for (const auto &a : args)
		argv.push_back(a.c_str());
	try {
		app.parse(static_cast<int>(argv.size()), argv.data());
	} catch (const CLI::ParseError &e) {
		return app.exit(e, out, err);
	}

	if (app.get_subcommands().empty()) {
		out << app.help();
		return 0;
	}
	return 0;
}

} // namespace vhostx::cli
