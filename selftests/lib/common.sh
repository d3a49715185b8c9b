# SPDX-License-Identifier: GPL-2.0
# selftests/lib/common.sh - helpers shared by the in-VM suites.

VHX_KO=${VHX_KO:-$TOP/kmod/vhostx.ko}
VHX_NODE=/dev/vhostx-net

vhx_loaded()
{
	[ -d /sys/module/vhostx ]
}

# insmod does not resolve dependencies: vhostx needs tun and tap (for
# tun_get_socket/tap_get_socket), as vhost_net does.
vhx_deps()
{
	modprobe -a tun tap
}

vhx_load()
{
	vhx_deps && { vhx_loaded || insmod "$VHX_KO" "$@"; }
}

vhx_unload()
{
	! vhx_loaded || rmmod vhostx
}

# Wait up to ~2 s for a device node to appear (devtmpfs creates it at register).
wait_node()
{
	local i
	for i in $(seq 20); do
		[ -c "$1" ] && return 0
		sleep 0.1
	done
	return 1
}
