#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# selftests/bench/vm-bench.sh SECS ROUNDS [--quick] - make bench inside the
# test VM: the L2 benchmark, then the simulator table, in one boot.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
secs=$1 rounds=$2
shift 2
"$HERE/l2bench.sh" "$@"
rc=$?
echo
echo "Userspace guest driver, no L2 (sim.sh, $rounds round(s) x $secs s):"
"$HERE/sim.sh" "$secs" "$rounds" || rc=1
exit $rc
