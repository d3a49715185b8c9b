#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# selftests/bench/bench.sh - make bench and make bench-check, on the host.
#   bench.sh            one boot of the test VM runs the L2 benchmark
#                       (l2bench.sh: QEMU userspace virtio-net with and without
#                       ioeventfd, vhost_net and vhostx under a nested-KVM
#                       guest, 3 rounds) and the simulator table (sim.sh);
#                       then the plots (gnuplot), build/vm/out/bench.md and
#                       the table
#   bench.sh --quick    the same with one short round of each
#   bench.sh --check    the quick simulator table only; exit 1 when vhostx is
#                       below 0.9x vhost_net in any row
# Output in build/vm/out: l2bench.json, bench-sim.json, l2bench-raw.tar.gz,
# bench.md, plots/*.png. See Documentation/benchmarks.md.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
OUT=${BUILD:-$TOP/build}/vm/out
SECS=4 ROUNDS=3 CHECK=0 L2ARGS=
for a in "$@"; do
	case "$a" in
	--quick) SECS=2 ROUNDS=1 L2ARGS=--quick ;;
	--check) SECS=2 ROUNDS=1 CHECK=1 ;;
	*) echo "bench.sh: unknown argument '$a' (expected --quick or --check)" >&2; exit 2 ;;
	esac
done
mkdir -p "$OUT"
if [ "$CHECK" = 1 ]; then
	VHX_BENCH_JSON=$OUT/bench-sim.json "$TOP/selftests/vm/run.sh" \
		"$HERE/sim.sh" "$SECS" "$ROUNDS"
	python3 - "$OUT/bench-sim.json" <<'PY'
import json, sys
rows = json.load(open(sys.argv[1]))["rows"]
low = [r for r in rows if r["ratio"] < 0.9]
for r in low:
    print(f"bench-check: {r['test']}: vhostx {r['vhostx']} pps is {r['ratio']:.2f}x vhost_net {r['vhost_net']} (< 0.9)")
print(f"bench-check: {len(rows) - len(low)} of {len(rows)} rows at or above 0.9x vhost_net")
sys.exit(1 if low or not rows else 0)
PY
	exit
fi

rm -f "$OUT/l2bench.json" "$OUT/bench-sim.json"
# The L2 guest's initramfs (pktgen, iperf3) is cached on the host.
make -s -C "$TOP" l2-initramfs
VM_MEM=${VM_MEM:-3G} VM_TIMEOUT=${VM_TIMEOUT:-1500} VHX_BENCH_DIR=$OUT \
	VHX_BENCH_JSON=$OUT/bench-sim.json "$TOP/selftests/vm/run.sh" \
	"$HERE/vm-bench.sh" "$SECS" "$ROUNDS" $L2ARGS
[ -s "$OUT/l2bench.json" ] || { echo "bench.sh: no l2bench.json" >&2; exit 1; }

python3 "$HERE/l2report.py" --plotdata "$OUT/l2bench.json" "$OUT/plots"
if command -v gnuplot >/dev/null; then
	(cd "$OUT/plots" && gnuplot "$HERE/plots.gp")
else
	echo "bench.sh: gnuplot missing (apt-get install gnuplot-nox): no plots" >&2
fi
python3 "$HERE/l2report.py" --md "$OUT/l2bench.json" "$OUT/bench-sim.json" > "$OUT/bench.md"
echo
python3 "$HERE/l2report.py" --table "$OUT/l2bench.json"
echo
[ ! -s "$OUT/bench-sim.json" ] || python3 "$HERE/l2report.py" --simtable "$OUT/bench-sim.json"
echo
echo "bench: $OUT/l2bench.json $OUT/bench-sim.json $OUT/bench.md $(ls "$OUT"/plots/*.png 2>/dev/null | tr '\n' ' ')"
