// SPDX-License-Identifier: GPL-2.0
#include "vhostx/device.hpp"

#include <fcntl.h>
#include <linux/vhost.h>
#include <sys/ioctl.h>

#include "vhostx/error.hpp"

namespace vhostx {

Device Device::open(const std::string &path)
{
	int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
	if (fd < 0)
		throw_errno("open " + path);
	return Device(UniqueFd(fd), path);
}

uint64_t Device::get_features() const
{
	uint64_t f = 0;
	if (::ioctl(fd(), VHOST_GET_FEATURES, &f) < 0)
		throw_errno("VHOST_GET_FEATURES");
	return f;
}

void Device::set_features(uint64_t features) const
{
	if (::ioctl(fd(), VHOST_SET_FEATURES, &features) < 0)
		throw_errno("VHOST_SET_FEATURES");
}

void Device::set_owner() const
{
	if (::ioctl(fd(), VHOST_SET_OWNER, nullptr) < 0)
		throw_errno("VHOST_SET_OWNER");
}

void Device::reset_owner() const
{
	if (::ioctl(fd(), VHOST_RESET_OWNER, nullptr) < 0)
		throw_errno("VHOST_RESET_OWNER");
}

} // namespace vhostx
