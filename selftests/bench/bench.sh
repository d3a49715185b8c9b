#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# selftests/bench/bench.sh - make bench and make bench-check, on the host.
#   bench.sh            the simulator table (sim.sh) in the test VM
#   bench.sh --quick    one short round of each
#   bench.sh --check    the quick simulator table; exit 1 when vhostx is
#                       below 0.9x vhost_net in any row
# JSON goes to build/vm/out/bench-sim.json.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
OUT=${BUILD:-$TOP/build}/vm/out
SECS=4 ROUNDS=3 CHECK=0
for a in "$@"; do
	case "$a" in
	--quick) SECS=2 ROUNDS=1 ;;
	--check) SECS=2 ROUNDS=1 CHECK=1 ;;
	*) echo "bench.sh: unknown argument '$a' (expected --quick or --check)" >&2; exit 2 ;;
	esac
done
mkdir -p "$OUT"
VHX_BENCH_JSON=$OUT/bench-sim.json "$TOP/selftests/vm/run.sh" \
	"$HERE/sim.sh" "$SECS" "$ROUNDS"
[ "$CHECK" = 1 ] || exit 0
python3 - "$OUT/bench-sim.json" <<'PY'
import json, sys
rows = json.load(open(sys.argv[1]))["rows"]
low = [r for r in rows if r["ratio"] < 0.9]
for r in low:
    print(f"bench-check: {r['test']}: vhostx {r['vhostx']} pps is {r['ratio']:.2f}x vhost_net {r['vhost_net']} (< 0.9)")
print(f"bench-check: {len(rows) - len(low)} of {len(rows)} rows at or above 0.9x vhost_net")
sys.exit(1 if low or not rows else 0)
PY
