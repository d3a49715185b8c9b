// SPDX-License-Identifier: GPL-2.0
#include "vhostx/error.hpp"

#include <cerrno>

namespace vhostx {

SysError::SysError(int err, std::string op)
	: std::system_error(err, std::generic_category(), op), op_(std::move(op))
{
}

void throw_errno(const std::string &op)
{
	throw SysError(errno, op);
}

} // namespace vhostx
