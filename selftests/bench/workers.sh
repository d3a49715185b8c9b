#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# selftests/bench/workers.sh - one worker per device against two (RX and
# TX apart, split_workers=Y), under a bidirectional TCP load in an L2 guest.
# Runs INSIDE the test VM:
#   selftests/vm/run.sh selftests/bench/workers.sh [ROUNDS]
# or as part of make bench. Each round boots a 2-vCPU L2 guest with one
# queue pair on vhostx twice, once per setting, and runs iperf3 --bidir from
# the guest to here for VHX_BENCH_SECS (10) seconds. Per run: Mbit/s each
# way (iperf3's receiver side), each worker's CPU time over the run
# (netlink, as vhostxctl -j dev show gives it) and the device's per-queue
# packets, kicks and interrupts. Prints the table and the median ratio of
# total throughput, two workers over one; writes workers.json to
# $VHX_BENCH_DIR (build/vm/out). See Documentation/benchmarks.md.
set -u
SELFTESTS=$(cd "$(dirname "$0")/.." && pwd)
TOP=$(cd "$SELFTESTS/.." && pwd)
export SELFTESTS TOP
# shellcheck source=../lib/ktap.sh
. "$SELFTESTS/lib/ktap.sh"
# shellcheck source=../lib/common.sh
. "$SELFTESTS/lib/common.sh"
L2_STATE=/tmp/vhx-wbench
# shellcheck source=../qemu/lib.sh
. "$SELFTESTS/qemu/lib.sh"

ROUNDS=${1:-${VHX_BENCH_WORKER_ROUNDS:-3}}
SECS=${VHX_BENCH_SECS:-10}
OUT=${VHX_BENCH_DIR:-$TOP/build/vm/out}
CTL=${VHX_CTL:-$TOP/build/ctl/vhostxctl}
PARAM=/sys/module/vhostx/parameters/split_workers
ROWS=$L2_STATE/rows
say() { echo "workers-bench: $*" >&2; }
die() { say "$*"; l2_kill_all; exit 1; }

rm -rf "$L2_STATE"
mkdir -p "$L2_STATE" "$OUT"
l2_setup >&2 || die "setup"
modprobe -r vhost_net 2>/dev/null
vhx_load && wait_node $VHX_NODE || die "insmod vhostx"
[ -w "$PARAM" ] || die "vhostx has no split_workers parameter"
: > "$ROWS"

# one_run ROUND SPLIT: one guest, one iperf3 --bidir, one row.
one_run()
{
	local round=$1 split=$2 pid dev out
	echo "$split" > "$PARAM"
	L2_INITRD=$(cat "$L2_STATE/initrd")
	l2_start w $VHX_NODE 1 2 || die "cannot start QEMU"
	l2_wait_ready w || die "guest did not boot"
	pid=$(l2_pid w)
	dev=$("$CTL" -j dev list | python3 -c 'import json,sys
p = int(sys.argv[1])
print(next(d["id"] for d in json.load(sys.stdin) if d["owner_pid"] == p))' "$pid") ||
		die "no vhostx device of QEMU $pid"
	iperf3 -s -1 -p 5201 > "$L2_STATE/server" 2>&1 &
	sleep 0.5
	"$CTL" -j dev show "$dev" > "$L2_STATE/before.json"
	out=$(l2_cmd w $((SECS + 60)) "iperf3 -c $L2_HOST_IP -p 5201 --bidir -t $SECS -f m") ||
		die "iperf3 in the guest: $out"
	"$CTL" -j dev show "$dev" > "$L2_STATE/after.json"
	wait
	printf '%s\n' "$out" > "$L2_STATE/iperf-$round-$split"
	python3 - "$round" "$split" "$L2_STATE/before.json" "$L2_STATE/after.json" \
		"$L2_STATE/iperf-$round-$split" >> "$ROWS" <<'EOF' || die "parsing run $round $split"
import json, re, sys
rnd, split, b, a, ip = sys.argv[1:6]
b, a = json.load(open(b))[0], json.load(open(a))[0]
# the guest's view: TX-C is guest -> here, RX-C here -> guest; receiver lines
mb = {}
for line in open(ip):
    m = re.search(r"\]\[(TX|RX)-C\].*?([\d.]+) Mbits/sec.*receiver", line)
    if m:
        mb[m.group(1)] = float(m.group(2))
def cnt(d, q, k):
    return next(x for x in d["queues"] if x["name"] == q)["counters"][k]
def cpu(d):
    return {w["id"]: w["cpu_ns"] for w in d.get("workers", [])}
cb, ca = cpu(b), cpu(a)
row = {"round": int(rnd), "workers": 2 if split == "Y" else 1,
       "guest_tx_mbit": mb.get("TX"), "guest_rx_mbit": mb.get("RX"),
       "worker_cpu_ms": {str(k): round((ca[k] - cb.get(k, 0)) / 1e6, 1) for k in ca}}
for q in ("rx", "tx"):
    for k in ("packets", "kicks", "irqs"):
        row[f"{q}_{k}"] = cnt(a, q, k) - cnt(b, q, k)
print(json.dumps(row))
EOF
	l2_kill w || die "QEMU did not stop"
}

for r in $(seq "$ROUNDS"); do
	for s in N Y; do
		say "round $r, split_workers=$s"
		one_run "$r" "$s"
	done
done
echo N > "$PARAM"
l2_kill_all
vhx_unload
python3 - "$ROWS" "$OUT/workers.json" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
json.dump(rows, open(sys.argv[2], "w"), indent=1)
print(f"{'round':>5} {'workers':>7} {'guest TX Mbit/s':>15} {'guest RX Mbit/s':>15} "
      f"{'worker CPU ms':>20} {'tx pkts':>8} {'rx pkts':>8} {'tx kicks':>8} {'rx irqs':>8}")
for r in rows:
    cpu = " ".join(f"{k}:{v}" for k, v in sorted(r["worker_cpu_ms"].items()))
    print(f"{r['round']:>5} {r['workers']:>7} {r['guest_tx_mbit'] or 0:>15.1f} {r['guest_rx_mbit'] or 0:>15.1f} "
          f"{cpu:>20} {r['tx_packets']:>8} {r['rx_packets']:>8} {r['tx_kicks']:>8} {r['rx_irqs']:>8}")
ratios = []
for rnd in sorted({r["round"] for r in rows}):
    one = [r for r in rows if r["round"] == rnd and r["workers"] == 1]
    two = [r for r in rows if r["round"] == rnd and r["workers"] == 2]
    if one and two:
        t1 = (one[0]["guest_tx_mbit"] or 0) + (one[0]["guest_rx_mbit"] or 0)
        t2 = (two[0]["guest_tx_mbit"] or 0) + (two[0]["guest_rx_mbit"] or 0)
        if t1:
            ratios.append(t2 / t1)
if ratios:
    print(f"two workers / one, total Mbit/s, median of {len(ratios)} rounds: {statistics.median(ratios):.2f}"
          f" (rounds: {', '.join(f'{x:.2f}' for x in ratios)})")
EOF
