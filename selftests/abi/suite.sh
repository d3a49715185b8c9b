# SPDX-License-Identifier: GPL-2.0
# selftests/abi: vhost-net ioctl ABI conformance. The same abi_test cases run
# against /dev/vhost-net (Linux's vhost_net, the reference) and then against
# /dev/vhostx-net; Documentation/abi.md lists where vhostx differs on purpose.
# Sourced by run_suite.sh. Leaves vhostx unloaded, and vhost_net as it found it.
#
# The binary comes from `make -C selftests/abi` ($BUILD/selftests/abi_test);
# VHX_ABI_TEST overrides its path.

ABI_TEST=${VHX_ABI_TEST:-${BUILD:-$TOP/build}/selftests/abi_test}

# abi_run DEV CASE: make sure DEV's module is loaded, then run one case.
abi_run()
{
	local dev=$1 case=$2

	# sysfs first: a modprobe per case was a good part of a case's time
	[ -d /sys/module/tun ] || modprobe tun 2>/dev/null || true
	case $dev in
	/dev/vhost-net)
		[ -d /sys/module/vhost_net ] || modprobe vhost_net ||
			skip "vhost_net not available"
		;;
	"$VHX_NODE")
		[ -f "$VHX_KO" ] || skip "$VHX_KO not built"
		vhx_load || fail "insmod $VHX_KO"
		;;
	esac
	wait_node "$dev" || fail "$dev did not appear"
	"$ABI_TEST" --dev "$dev" run "$case"
}

abi_suite()
{
	local dev case cases had_vhost_net=0

	if [ ! -x "$ABI_TEST" ]; then
		ktap_case "abi: abi_test is built" fail "$ABI_TEST missing; run 'make -C selftests/abi'"
		return 0
	fi
	cases=$("$ABI_TEST" list)
	[ -d /sys/module/vhost_net ] && had_vhost_net=1
	for dev in $(vhx_test_devices); do
		for case in $cases; do
			ktap_case "abi[${dev#/dev/}]: $case" abi_run "$dev" "$case"
		done
	done
	vhx_unload 2>/dev/null || ktap_diag "abi: rmmod vhostx failed"
	[ $had_vhost_net = 1 ] || modprobe -r vhost_net 2>/dev/null || true
}

abi_suite
