// SPDX-License-Identifier: GPL-2.0
#include "vhostx/error.hpp"

#include <cerrno>

namespace vhostx {

SysError::SysError(int err, std::string op)
	: SysError(err, std::move(op), std::generic_category().message(err))
{
}

SysError::SysError(int err, std::string op, std::string reason, std::string detail)
	: std::system_error(err, std::generic_category()), op_(std::move(op)),
	  reason_(std::move(reason)), detail_(std::move(detail))
{
	what_ = op_ + ": " + reason_;
	if (!detail_.empty())
		what_ += ": " + detail_;
}

void throw_errno(const std::string &op)
{
	throw SysError(errno, op);
}

} // namespace vhostx
