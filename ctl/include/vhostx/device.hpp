// SPDX-License-Identifier: GPL-2.0
#pragma once

#include <cstdint>
#include <string>

#include "vhostx/fd.hpp"

namespace vhostx {

inline constexpr const char *kDefaultNode = "/dev/vhostx-net";

// One open vhost-net-compatible device (/dev/vhostx-net or /dev/vhost-net).
// Every method is one typed ioctl; failures throw SysError naming the ioctl.
class Device {
public:
	static Device open(const std::string &path = kDefaultNode);

	int fd() const noexcept { return fd_.get(); }
	const std::string &path() const noexcept { return path_; }

	uint64_t get_features() const;
	void set_features(uint64_t features) const;
	void set_owner() const;
	void reset_owner() const;

private:
	Device(UniqueFd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}

	UniqueFd fd_;
	std::string path_;
};

} // namespace vhostx
