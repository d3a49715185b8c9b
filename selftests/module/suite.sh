# SPDX-License-Identifier: GPL-2.0
# selftests/module: load, device node, open/close, unload, coexistence with vhost_net.
# Sourced by run_suite.sh; every case leaves vhostx unloaded.

mod_load_unload()
{
	vhx_unload
	vhx_deps || fail "modprobe tun tap"
	insmod "$VHX_KO" || fail "insmod $VHX_KO"
	vhx_loaded || fail "/sys/module/vhostx missing after insmod"
	dmesg | grep -q "vhostx .*: /dev/vhostx-net ready" || fail "no banner in dmesg"
	rmmod vhostx || fail "rmmod"
	! vhx_loaded || fail "/sys/module/vhostx still there after rmmod"
}

mod_modinfo()
{
	local f
	for f in license description version author; do
		[ -n "$(modinfo -F $f "$VHX_KO")" ] || fail "modinfo has no $f"
	done
	[ "$(modinfo -F license "$VHX_KO")" = GPL ] || fail "license is not GPL"
	[ "$(modinfo -F version "$VHX_KO")" = "$(cat "$TOP/VERSION")" ] || fail "version differs from VERSION"
}

mod_node()
{
	local st
	vhx_load
	wait_node $VHX_NODE || fail "$VHX_NODE did not appear"
	st=$(stat -c '%F %a %U %G' $VHX_NODE)
	echo "$VHX_NODE: $st"
	[ "$st" = "character special file 600 root root" ] || fail "unexpected node: $st"
	grep -qw vhostx-net /proc/misc || fail "not in /proc/misc"
	vhx_unload
	[ ! -e $VHX_NODE ] || fail "$VHX_NODE still there after rmmod"
}

mod_open_close()
{
	vhx_load
	wait_node $VHX_NODE || fail "no node"
	exec 3<>$VHX_NODE || fail "open 1"
	exec 4<>$VHX_NODE || fail "open 2"
	exec 3>&- 4>&-
	# A non-root caller cannot open the 0600 node.
	! setpriv --reuid=65534 --regid=65534 --clear-groups sh -c "exec 3<>$VHX_NODE" 2>/dev/null ||
		fail "nobody opened $VHX_NODE"
	vhx_unload
}

mod_busy_while_open()
{
	vhx_load
	wait_node $VHX_NODE || fail "no node"
	exec 3<>$VHX_NODE
	! rmmod vhostx 2>/dev/null || fail "rmmod succeeded with an open file"
	[ "$(cat /sys/module/vhostx/refcnt)" = 1 ] || fail "refcnt $(cat /sys/module/vhostx/refcnt), want 1"
	exec 3>&-
	[ "$(cat /sys/module/vhostx/refcnt)" = 0 ] || fail "refcnt not back to 0"
	vhx_unload
}

mod_reload_20()
{
	local i
	vhx_deps || fail "modprobe tun tap"
	for i in $(seq 20); do
		insmod "$VHX_KO" || fail "insmod #$i"
		wait_node $VHX_NODE || fail "no node #$i"
		exec 3<>$VHX_NODE || fail "open #$i"
		exec 3>&-
		rmmod vhostx || fail "rmmod #$i"
	done
}

# The module's live-object counts (debugfs vhostx/objects) with 32 devices
# open, and zero again once they are closed. The datapath and qemu suites
# check the other kinds (owners, workers, eventfds, sockets) after use.
mod_objects()
{
	local fds=() fd i n
	vhx_load || fail "insmod"
	wait_node $VHX_NODE || fail "no node"
	debugfs_ready || fail "no vhostx debugfs"
	vhx_objects_zero 1 || fail "objects live before any open"
	for i in $(seq 32); do
		exec {fd}<>$VHX_NODE || fail "open #$i"
		fds+=("$fd")
	done
	n=$(awk '$1 == "devices" { print $2 }' $VHX_OBJECTS)
	[ "$n" = 32 ] || fail "devices $n with 32 open"
	n=$(awk '$1 == "vq_buffers" { print $2 }' $VHX_OBJECTS)
	[ "$n" = 64 ] || fail "vq_buffers $n with 32 open (2 queues each)"
	for fd in "${fds[@]}"; do exec {fd}>&-; done
	vhx_objects_zero 2 || fail "objects left after close"
	rmmod vhostx || fail "rmmod"
}

# Each open file's fdinfo names its device, the id netlink and debugfs use.
mod_fdinfo()
{
	local a b ida idb
	vhx_load || fail "insmod"
	wait_node $VHX_NODE || fail "no node"
	exec {a}<>$VHX_NODE || fail "open a"
	exec {b}<>$VHX_NODE || fail "open b"
	ida=$(awk '$1 == "vhostx-id:" { print $2 }' /proc/$BASHPID/fdinfo/$a)
	idb=$(awk '$1 == "vhostx-id:" { print $2 }' /proc/$BASHPID/fdinfo/$b)
	echo "fdinfo: fd $a -> device $ida, fd $b -> device $idb"
	[ -n "$ida" ] && [ -n "$idb" ] || fail "no vhostx-id in fdinfo"
	[ "$ida" != "$idb" ] || fail "two files, one id"
	grep -q "^dev $ida " $VHX_DEBUGFS || fail "device $ida not in debugfs"
	grep -q "^dev $idb " $VHX_DEBUGFS || fail "device $idb not in debugfs"
	exec {a}>&- {b}>&-
	rmmod vhostx || fail "rmmod"
}

# cgroup v2 with the memory controller for child groups, or skip the case.
memcg_ready()
{
	local cg=/sys/fs/cgroup
	mountpoint -q $cg || mount -t cgroup2 none $cg || skip "no cgroup2"
	grep -qw memory $cg/cgroup.controllers || skip "no memory controller"
	echo +memory > $cg/cgroup.subtree_control || fail "enable the memory controller"
}

# memcg_open_charge NODE N: in a memory cgroup of its own, open NODE N times;
# print the cgroup's memory.current before, with the files open, and after
# they are closed (bytes).
memcg_open_charge()
{
	local node=$1 n=$2 g=/sys/fs/cgroup/vhx-memcg fds=() fd i a b c

	mkdir -p $g || return 1
	(
		echo $BASHPID > $g/cgroup.procs || exit 1
		read -r a < $g/memory.current
		for ((i = 0; i < n; i++)); do
			exec {fd}<>"$node" || exit 1
			fds+=("$fd")
		done
		read -r b < $g/memory.current
		for fd in "${fds[@]}"; do exec {fd}>&-; done
		read -r c < $g/memory.current
		echo "$a $b $c"
	)
	i=$?
	rmdir $g 2>/dev/null
	return $i
}

# A device's allocations (the device, its queues' iovec and head arrays, its
# workers, its memory table) are charged to the memory cgroup of the process
# that opened it (GFP_KERNEL_ACCOUNT) and uncharged on close: 64 devices
# raise the cgroup's memory.current by more than 1 MiB, and closing them
# gives it back (within the per-CPU charge stock, 64 pages). vhost_net's
# figure is printed for comparison: 6.1's allocates with GFP_KERNEL and
# charges nothing (Documentation/differences.md).
mod_memcg()
{
	local n=64 a b c out
	memcg_ready
	if [ "${VHX_ORACLE:-1}" != 0 ] && modprobe vhost_net 2>/dev/null &&
		wait_node /dev/vhost-net; then
		out=$(memcg_open_charge /dev/vhost-net $n) || fail "vhost_net in a memcg"
		read -r a b c <<< "$out"
		echo "vhost_net: $n opens charge $(((b - a) / 1024)) KiB ($(((b - a) / n)) bytes each), close leaves $(((c - a) / 1024)) KiB"
		modprobe -r vhost_net 2>/dev/null || true
	fi
	vhx_load || fail "insmod"
	wait_node $VHX_NODE || fail "no node"
	out=$(memcg_open_charge $VHX_NODE $n) || fail "vhostx in a memcg"
	read -r a b c <<< "$out"
	echo "vhostx: $n opens charge $(((b - a) / 1024)) KiB ($(((b - a) / n)) bytes each), close leaves $(((c - a) / 1024)) KiB"
	[ $((b - a)) -gt $((1 << 20)) ] || fail "$n devices charged $((b - a)) bytes to their opener's memcg"
	[ $((c - a)) -lt $((512 << 10)) ] || fail "$((c - a)) bytes still charged after close"
	vhx_unload
}

# With memory.max at 1 MiB, a process cannot open 256 devices (16 MiB of
# charges): the memory controller stops it (an open fails with ENOMEM, or the
# cgroup's OOM killer ends it), memory.peak stays within the limit, and once
# it is gone nothing the module counts is left.
mod_memcg_limit()
{
	local g=/sys/fs/cgroup/vhx-memcg-max n=256 got peak ev
	memcg_ready
	vhx_load || fail "insmod"
	wait_node $VHX_NODE || fail "no node"
	debugfs_ready || fail "no vhostx debugfs"
	mkdir -p $g && echo $((1 << 20)) > $g/memory.max || fail "a memcg of 1 MiB"
	got=$(
		echo $BASHPID > $g/cgroup.procs || exit 1
		for ((i = 0; i < n; i++)); do
			exec {fd}<>$VHX_NODE || break
		done 2>/dev/null
		echo $i
	) || true	# killed by the cgroup's OOM killer: no count
	read -r peak < $g/memory.peak 2>/dev/null || peak=?
	ev=$(tr '\n' ' ' < $g/memory.events)
	echo "opened ${got:-? (killed)} of $n devices in 1 MiB; peak $peak; events: $ev"
	rmdir $g 2>/dev/null || true
	[ -z "$got" ] || [ "$got" -lt $n ] || fail "$n devices opened within 1 MiB"
	[[ $ev =~ max\ [1-9] ]] || fail "the limit was never hit: $ev"
	[ "$peak" = ? ] || [ "$peak" -le $((1 << 20)) ] || fail "peak $peak over the limit"
	vhx_objects_zero 5 || fail "objects left after the capped opener"
	vhx_unload
}

mod_with_vhost_net()
{
	modprobe vhost_net || skip "vhost_net not available"
	vhx_load || fail "vhostx does not load beside vhost_net"
	wait_node /dev/vhost-net && wait_node $VHX_NODE || fail "nodes missing"
	exec 3<>/dev/vhost-net 4<>$VHX_NODE || fail "open both"
	exec 3>&- 4>&-
	vhx_unload
	modprobe -r vhost_net || fail "unload vhost_net"
	# and the other order
	vhx_load
	modprobe vhost_net || fail "vhost_net does not load beside vhostx"
	modprobe -r vhost_net
	vhx_unload
}

ktap_case "module: load and unload" mod_load_unload
ktap_case "module: modinfo license, description, version, author" mod_modinfo
ktap_case "module: /dev/vhostx-net is a 0600 root char device" mod_node
ktap_case "module: open and close, non-root refused" mod_open_close
ktap_case "module: unload refused while a file is open" mod_busy_while_open
ktap_case "module: 20 load/open/close/unload cycles" mod_reload_20
ktap_case "module: live-object counts follow open and close" mod_objects
ktap_case "module: fdinfo names the device id" mod_fdinfo
ktap_case "module: loads beside vhost_net, in both orders" mod_with_vhost_net
ktap_case "module: a device's memory is charged to its opener's memory cgroup" mod_memcg
ktap_case "module: a memory cgroup's limit stops an opener of devices" mod_memcg_limit
