#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# selftests/run_suite.sh - the in-VM suite: every selftests/*/suite.sh in one
# TAP stream, in one boot. Run it inside the test guest (make check-vm does):
#   selftests/vm/run.sh selftests/run_suite.sh [SUITE...]
# With SUITE names (directories under selftests/), only those run.
set -u
SELFTESTS=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$SELFTESTS/.." && pwd)
export SELFTESTS TOP
# shellcheck source=lib/ktap.sh
. "$SELFTESTS/lib/ktap.sh"
# shellcheck source=lib/common.sh
. "$SELFTESTS/lib/common.sh"

if [ $# -gt 0 ]; then suites=("$@"); else
	suites=()
	for f in "$SELFTESTS"/*/suite.sh; do suites+=("$(basename "$(dirname "$f")")"); done
fi

# On a kernel with kmemleak (the debug kernel, scripts/debug-kernel.sh):
# forget what boot left, and after the suites scan for objects that nothing
# points to any more. kmemleak reports an object once it is 5 s old and two
# scans agree, hence the pause and the second scan.
KMEMLEAK=/sys/kernel/debug/kmemleak
kmemleak_check()
{
	local n
	echo scan > $KMEMLEAK || fail "kmemleak scan"
	sleep 6
	echo scan > $KMEMLEAK || fail "kmemleak scan"
	cat $KMEMLEAK > /tmp/kmemleak.txt
	n=$(grep -c '^unreferenced object' /tmp/kmemleak.txt || true)
	echo "kmemleak: $n unreferenced object(s)"
	[ "$n" = 0 ] && return 0
	head -n 120 /tmp/kmemleak.txt
	return 1
}

ktap_begin
[ -w $KMEMLEAK ] && echo clear > $KMEMLEAK
for s in "${suites[@]}"; do
	[ -f "$SELFTESTS/$s/suite.sh" ] || { echo "run_suite: no suite '$s'" >&2; exit 2; }
	ktap_diag "suite $s"
	# shellcheck source=/dev/null
	. "$SELFTESTS/$s/suite.sh"
done
[ -w $KMEMLEAK ] && ktap_case "kernel: kmemleak finds no leaked object after the suites" kmemleak_check
ktap_end
