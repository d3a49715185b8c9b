// SPDX-License-Identifier: GPL-2.0
#include <iostream>
#include <string>
#include <vector>

#include "vhostx/cli.hpp"
#include "vhostx/error.hpp"

int main(int argc, char **argv)
{
	std::vector<std::string> args(argv, argv + argc);

	try {
		return vhostx::cli::run(args, std::cout, std::cerr);
	} catch (const vhostx::SysError &e) {
		std::cerr << "vhostxctl: " << e.what() << "\n";
	} catch (const std::exception &e) {
		std::cerr << "vhostxctl: " << e.what() << "\n";
	}
	return 1;
}
