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
	[ -d /sys/module/tun ] && [ -d /sys/module/tap ] && return 0
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
	for ((i = 0; i < 20; i++)); do
		[ -c "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

# --- vhostx's debugfs view -------------------------------------------------

VHX_DEBUGFS=/sys/kernel/debug/vhostx/devices
VHX_OBJECTS=/sys/kernel/debug/vhostx/objects

debugfs_ready()
{
	[ -d /sys/kernel/debug/vhostx ] && return 0
	mountpoint -q /sys/kernel/debug || mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
	[ -d /sys/kernel/debug/vhostx ]
}

vhx_devices()
{
	cat $VHX_DEBUGFS
}

# Number of vhostx devices (open files).
vhx_ndev()
{
	local n
	n=$(grep -c '^dev ' "$VHX_DEBUGFS" 2>/dev/null) || true
	echo "${n:-0}"
}

# Wait up to $1 s (default 5) for the last vhostx device to go; on timeout
# list the devices that are left and fail.
vhx_ndev_zero()
{
	local i
	for ((i = 0; i < ${1:-5} * 10; i++)); do
		[ "$(vhx_ndev)" = 0 ] && return 0
		sleep 0.1
	done
	echo "$(vhx_ndev) vhostx devices left:"
	vhx_devices
	return 1
}

# The module's live-object counts that are not zero, as "name count" lines.
vhx_objects_left()
{
	awk '$2 != 0' "$VHX_OBJECTS"
}

# Wait up to $1 s (default 5) for every live-object count to reach zero;
# on timeout print what is left and fail.
vhx_objects_zero()
{
	local i left
	debugfs_ready || { echo "no vhostx debugfs"; return 1; }
	for ((i = 0; i < ${1:-5} * 10; i++)); do
		left=$(vhx_objects_left)
		[ -z "$left" ] && return 0
		sleep 0.1
	done
	echo "vhostx objects still live:" $left
	return 1
}

# The devices a suite with an oracle runs its cases on: vhost_net (the
# reference) then vhostx; only vhostx with VHX_ORACLE=0, as on the debug
# kernel, where the oracle was already compared on the default kernel and a
# report from vhost_net's own code is not vhostx's to fix.
vhx_test_devices()
{
	[ "${VHX_ORACLE:-1}" = 0 ] || echo /dev/vhost-net
	echo "$VHX_NODE"
}
