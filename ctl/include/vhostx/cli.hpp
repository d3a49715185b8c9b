// SPDX-License-Identifier: GPL-2.0
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace vhostx::cli {

// Run vhostxctl with argv-style arguments (args[0] is the program name).
// Normal output goes to out, errors to err. Returns the process exit status.
int run(const std::vector<std::string> &args, std::ostream &out, std::ostream &err);

} // namespace vhostx::cli
