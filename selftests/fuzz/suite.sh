# SPDX-License-Identifier: GPL-2.0
# selftests/fuzz: vhx_fuzz against /dev/vhostx-net for ${VHX_FUZZ_SECONDS:-60} s,
# with vhost_net loaded side by side; afterwards nothing may be left: no live
# objects, no taps, and rmmod vhostx succeeds. Sourced by run_suite.sh.
# vhx_fuzz is built on the host:
#   make -C selftests/fuzz        (-> build/selftests/vhx_fuzz; VHX_FUZZ overrides)
# VHX_FUZZ_ARGS adds options, e.g. "-s SEED -v", or "-R RSEED:ROUND" to replay
# the round a failure report names. Leaves vhostx unloaded.

FZ_BIN=${VHX_FUZZ:-$TOP/build/selftests/vhx_fuzz}
FZ_SECONDS=${VHX_FUZZ_SECONDS:-60}

fz_built()
{
	[ -x "$FZ_BIN" ] || fail "$FZ_BIN missing: run 'make -C selftests/fuzz' on the host"
}

fz_setup()
{
	modprobe vhost_net || fail "modprobe vhost_net"
	wait_node /dev/vhost-net || fail "/dev/vhost-net did not appear"
	[ -f "$VHX_KO" ] || skip "$VHX_KO not built"
	vhx_load || fail "insmod $VHX_KO"
	wait_node "$VHX_NODE" || fail "$VHX_NODE did not appear"
}

# vhx_fuzz runs in the background against a deadline: an op stuck in the
# kernel keeps even a killed process from going away, and the suite goes on.
fz_run()
{
	local out pid rc=0 limit=$((FZ_SECONDS + 150))

	[ -c "$VHX_NODE" ] || skip "$VHX_NODE missing"
	out=$(mktemp /tmp/vhx_fuzz.XXXXXX)
	# shellcheck disable=SC2086 # VHX_FUZZ_ARGS is a list of options
	"$FZ_BIN" -d "$VHX_NODE" -t "$FZ_SECONDS" ${VHX_FUZZ_ARGS:-} > "$out" 2>&1 &
	pid=$!
	for _ in $(seq "$limit"); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null
		sed 's/^# //' "$out"
		rm -f "$out"
		fail "vhx_fuzz still running after ${limit} s: stuck in the kernel?"
	fi
	wait "$pid" || rc=$?
	sed 's/^# //' "$out"
	rm -f "$out"
	[ "$rc" = 0 ] || fail "vhx_fuzz exited with status $rc"
}

# Every fd the fuzzer had is closed: its taps (vfz<pid>x<n>) are gone, and so
# is everything the module counts; then it must unload.
fz_unload()
{
	local taps

	vhx_loaded || skip "vhostx is not loaded"
	for _ in $(seq 50); do
		taps=$(cd /sys/class/net && echo vfz*)
		[ "$taps" = 'vfz*' ] && break
		sleep 0.1
	done
	[ "$taps" = 'vfz*' ] || fail "taps left behind: $taps"
	vhx_objects_zero 10 || fail "objects leaked by the fuzzer"
	vhx_unload || fail "rmmod vhostx after the fuzzer"
}

ktap_case "fuzz: vhx_fuzz is built" fz_built
if [ -x "$FZ_BIN" ]; then
	ktap_case "fuzz: vhost_net and vhostx load" fz_setup
	ktap_case "fuzz: vhx_fuzz ${FZ_SECONDS} s on $VHX_NODE" fz_run
	ktap_case "fuzz: vhostx: nothing left behind, unloads" fz_unload
fi
