// SPDX-License-Identifier: GPL-2.0
#pragma once

#include <string>
#include <system_error>

namespace vhostx {

// A failed system call or ioctl: the errno and the operation that failed.
// what() reads "OPERATION: strerror(errno)".
class SysError : public std::system_error {
public:
	SysError(int err, std::string op);

	int err() const noexcept { return code().value(); }
	const std::string &op() const noexcept { return op_; }

private:
	std::string op_;
};

// Throw SysError(errno, op). Call right after the failing system call.
[[noreturn]] void throw_errno(const std::string &op);

} // namespace vhostx
