// SPDX-License-Identifier: GPL-2.0
#pragma once

#include <string>
#include <system_error>

namespace vhostx {

// A failed system call, ioctl or netlink request: the errno and the operation
// that failed. what() reads "OPERATION: REASON", where REASON is
// strerror(errno) unless a more precise reason was given, followed by
// ": DETAIL" when there is a detail (for netlink: the kernel's extack message).
class SysError : public std::system_error {
public:
	SysError(int err, std::string op);
	SysError(int err, std::string op, std::string reason, std::string detail = {});

	int err() const noexcept { return code().value(); }
	const std::string &op() const noexcept { return op_; }
	const std::string &reason() const noexcept { return reason_; }
	const std::string &detail() const noexcept { return detail_; }
	const char *what() const noexcept override { return what_.c_str(); }

private:
	std::string op_, reason_, detail_, what_;
};

// Throw SysError(errno, op). Call right after the failing system call.
[[noreturn]] void throw_errno(const std::string &op);

} // namespace vhostx
