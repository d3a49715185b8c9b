# SPDX-License-Identifier: GPL-2.0
# selftests/datapath: packets through the device, checked one by one.
# Sourced by run_suite.sh. Every case of dp_test runs against /dev/vhost-net
# (the reference) and then /dev/vhostx-net. dp_test is built on the host:
#   make -C selftests            (-> build/selftests/dp_test; VHX_DP_TEST overrides)
# dp_test's output becomes TAP diagnostics; where its BEHAVIOUR: lines differ
# between the two devices, the last case lists them (see Documentation/differences.md).
# Leaves vhostx unloaded.

DP_TEST=${VHX_DP_TEST:-$TOP/build/selftests/dp_test}
DP_DIAG=$(mktemp -d /tmp/dp-diag.XXXXXX)
DP_VHX_SKIP=

dp_built()
{
	[ -x "$DP_TEST" ] || fail "$DP_TEST missing: run 'make -C selftests' on the host"
	"$DP_TEST" list >/dev/null || fail "$DP_TEST list failed"
}

dp_vhost_net_setup()
{
	modprobe vhost_net || fail "modprobe vhost_net"
	wait_node /dev/vhost-net || fail "/dev/vhost-net did not appear"
}

dp_vhostx_setup()
{
	[ -f "$VHX_KO" ] || skip "$VHX_KO not built"
	vhx_load || fail "insmod $VHX_KO"
	wait_node $VHX_NODE || fail "$VHX_NODE did not appear"
}

# Does vhostx speak the ioctls yet? An ENOTTY makes dp_test skip (exit 4).
dp_vhostx_probe()
{
	local out rc=0

	[ -c $VHX_NODE ] || { DP_VHX_SKIP="$VHX_NODE missing"; return; }
	out=$("$DP_TEST" --dev $VHX_NODE run tx_one 2>&1) || rc=$?
	if [ "$rc" = "$KSFT_SKIP" ]; then
		DP_VHX_SKIP=$(printf '%s\n' "$out" | sed -n 's/^SKIP: //p' | tail -n 1)
		[ -n "$DP_VHX_SKIP" ] || DP_VHX_SKIP="dp_test skipped"
	fi
}

# dp_case DEV CASE: run one dp_test case; keep its DIAG lines for the comparison.
dp_case()
{
	local dev=$1 c=$2 tag=${1##*/} rc=0 out

	[ "$dev" != $VHX_NODE ] || [ -z "$DP_VHX_SKIP" ] || skip "$DP_VHX_SKIP"
	[ -c "$dev" ] || fail "$dev missing"
	[ -d "$DP_DIAG/$tag" ] || mkdir -p "$DP_DIAG/$tag"
	"$DP_TEST" --dev "$dev" run "$c" > "$DP_DIAG/$tag/$c" 2>&1 || rc=$?
	mapfile -t out < "$DP_DIAG/$tag/$c"
	[ ${#out[@]} -eq 0 ] || printf '%s\n' "${out[@]}"
	return $rc
}

# The owner died with SIGKILL: afterwards the module must unload (no leaked
# references) and load again.
dp_case_owner_killed()
{
	local dev=$1

	dp_case "$dev" owner_killed
	if [ "$dev" = $VHX_NODE ]; then
		rmmod vhostx || fail "rmmod vhostx after the owner was killed"
		vhx_load || fail "insmod after rmmod"
		wait_node $VHX_NODE || fail "no node after reload"
	else
		modprobe -r vhost_net || fail "modprobe -r vhost_net after the owner was killed"
		modprobe vhost_net || fail "modprobe vhost_net after unload"
		wait_node /dev/vhost-net || fail "no node after reload"
	fi
}

dp_differences()
{
	local c a b n=0

	[ -z "$DP_VHX_SKIP" ] || skip "vhostx cases skipped: $DP_VHX_SKIP"
	[ "${VHX_ORACLE:-1}" != 0 ] || skip "VHX_ORACLE=0: vhostx alone (compared on the default kernel)"
	for a in "$DP_DIAG"/vhost-net/*; do
		c=${a##*/}
		b=$DP_DIAG/vhostx-net/$c
		[ -f "$b" ] || continue
		grep '^BEHAVIOUR:' "$a" > "$DP_DIAG/a" || true
		grep '^BEHAVIOUR:' "$b" > "$DP_DIAG/b" || true
		if ! cmp -s "$DP_DIAG/a" "$DP_DIAG/b"; then
			n=$((n + 1))
			echo "difference in $c:"
			sed 's/^BEHAVIOUR:/  vhost_net:/' "$DP_DIAG/a"
			sed 's/^BEHAVIOUR:/  vhostx:   /' "$DP_DIAG/b"
		fi
	done
	echo "$n case(s) where vhostx behaves differently from vhost_net (see Documentation/differences.md)"
}

# After every case, hostile rings and killed owners included, nothing the
# module counts is still alive.
dp_unload()
{
	vhx_objects_zero 5 || fail "objects leaked by the datapath cases"
	vhx_unload || fail "rmmod vhostx at the end of the suite"
}

ktap_case "datapath: dp_test is built" dp_built
if [ -x "$DP_TEST" ]; then
	ktap_case "datapath: vhost_net loads" dp_vhost_net_setup
	ktap_case "datapath: vhostx loads" dp_vhostx_setup
	dp_vhostx_probe
	[ -z "$DP_VHX_SKIP" ] || ktap_diag "vhostx datapath cases skip: $DP_VHX_SKIP"
	dp_devs=$(vhx_test_devices)
	for dp_c in $("$DP_TEST" list); do
		for dp_dev in $dp_devs; do
			dp_fn=dp_case
			[ "$dp_c" != owner_killed ] || dp_fn=dp_case_owner_killed
			if [ "$dp_c" = owner_killed ]; then
				ktap_case "datapath: ${dp_dev##*/}: $dp_c" $dp_fn "$dp_dev"
			else
				ktap_case "datapath: ${dp_dev##*/}: $dp_c" $dp_fn "$dp_dev" "$dp_c"
			fi
		done
	done
	ktap_case "datapath: differences between vhost_net and vhostx" dp_differences
	ktap_case "datapath: vhostx: no live objects left, unloads" dp_unload
fi
rm -rf "$DP_DIAG"
