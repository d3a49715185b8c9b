#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/check-kernels.sh quick|full [VERSION...] - the in-VM suites on the
# kernels of the matrix (scripts/kernels.sh), one test-VM boot per kernel,
# each booting that kernel with vhostx built for it (scripts/kbuild.sh) and
# that kernel's own vhost_net as the oracle.
#
#   quick  the quick tier (module, abi, datapath, ctl) on every installed
#          kernel of the matrix but the default one (make check runs every
#          suite there); with VERSIONs, on those
#   full   every suite on every kernel of the matrix, or on the VERSIONs
#          (make check-all KVERS="...")
#   debug  the quick tier and a short run of the in-VM fuzzer
#          (VHX_FUZZ_SECONDS, default 60) on the debug kernel, built first if
#          the cache has none (scripts/debug-kernel.sh)
#   fuzz   the in-VM fuzzer alone on the debug kernel, for VHX_FUZZ_SECONDS
#
# Ends with a table: kernel, tier, result, seconds; exits 1 if any kernel
# failed or was missing. The TAP of each kernel is in
# $BUILD/kernels/VERSION/check-TIER.log.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$top/build}
export BUILD
mode=${1:-}
shift || true
case $mode in
quick) suites="module abi datapath ctl" ;;
# Every suite, the migration suite's multiqueue pair included.
full) suites= && export VHX_MIG_CASES=${VHX_MIG_CASES:-all} ;;
debug) suites="module abi datapath ctl fuzz" ;;
fuzz) suites="fuzz" ;;
*) sed -n '4,22p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
export VHX_FUZZ_SECONDS=${VHX_FUZZ_SECONDS:-60}

if [ "$mode" = debug ] || [ "$mode" = fuzz ]; then
	t0=$(date +%s)
	v=$("$top/scripts/debug-kernel.sh" build) ||
		{ echo "check-kernels: the debug kernel did not build" >&2; exit 1; }
	echo "# check-kernels: the debug kernel $v, ready after $(($(date +%s) - t0)) s" >&2
	vers=("$v")
	# vhostx alone: vhost_net was the oracle on the default kernel
	export VHX_ORACLE=0
	# KASAN and lockdep slow everything down, the fuzzer runs for its time
	VM_TIMEOUT=${VM_TIMEOUT:-$((3600 + VHX_FUZZ_SECONDS))}
elif [ $# -gt 0 ]; then
	vers=("$@")
else
	mapfile -t vers < <("$top/scripts/kernels.sh" list | awk '{ print $2 }')
	if [ "$mode" = quick ]; then
		def=$("$top/scripts/kver.sh")
		mapfile -t vers < <(printf '%s\n' "${vers[@]}" | grep -vxF "$def")
	fi
	# Every name of the matrix must be installed: a missing one is a failure,
	# not a kernel silently left out.
	for n in $("$top/scripts/kernels.sh" names); do
		"$top/scripts/kernels.sh" version "$n" >/dev/null ||
			{ echo "check-kernels: kernel '$n' of the matrix is not installed; run 'make deps'" >&2; exit 1; }
	done
fi

summary=()
failed=0
for v in "${vers[@]}"; do
	[ -n "$v" ] || continue
	log=$BUILD/kernels/$v/check-$mode.log
	mkdir -p "$(dirname "$log")"
	t0=$(date +%s)
	echo "# check-kernels: $mode tier on $v" >&2
	if ! ko=$("$top/scripts/kbuild.sh" "$v"); then
		summary+=("$v $mode: the module did not build, $(($(date +%s) - t0)) s")
		failed=1
		continue
	fi
	if [ "$mode" = full ] && ! make -s -C "$top" l2-initramfs KVER="$v" >&2; then
		summary+=("$v $mode: no L2 initramfs, $(($(date +%s) - t0)) s")
		failed=1
		continue
	fi
	# shellcheck disable=SC2086
	KVER=$v VHX_KO=$ko VM_MEM=${VM_MEM:-3G} VM_TIMEOUT=${VM_TIMEOUT:-4500} \
		"$top/selftests/vm/run.sh" "$top/selftests/run_suite.sh" $suites 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	res=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	[ "$rc" = 0 ] || { failed=1; res="${res:-no result} (exit $rc)"; }
	summary+=("$v $mode: $res, $(($(date +%s) - t0)) s")
done

echo "# kernel matrix, $mode tier:"
for s in "${summary[@]}"; do echo "#   $s"; done
exit $failed
