#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# selftests/bench/vm-bench.sh SECS ROUNDS [--quick] - make bench inside the
# test VM: the L2 benchmark, live migration on both devices, one worker
# against two, then the simulator table, in one boot.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
secs=$1 rounds=$2
shift 2
"$HERE/l2bench.sh" "$@"
rc=$?
echo
# Live migration on vhost_net and vhostx (selftests/migration/bench.sh).
mig_rounds=3
[ "${1:-}" != --quick ] || mig_rounds=1
"$HERE/../migration/bench.sh" "$mig_rounds" || rc=1
echo
# One worker per device against RX and TX on two (selftests/bench/workers.sh).
"$HERE/workers.sh" "$mig_rounds" || rc=1
echo
echo "Userspace guest driver, no L2 (sim.sh, $rounds round(s) x $secs s):"
"$HERE/sim.sh" "$secs" "$rounds" || rc=1
exit $rc
