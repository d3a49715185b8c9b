#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# selftests/migration/bench.sh [ROUNDS] - live migration of the same L2 guest
# on vhost_net and on vhostx, side by side in one boot of the test VM (make
# bench runs it after l2bench.sh). Each round boots a 1-vCPU guest on one
# device, starts the migration suite's paced TCP streams both ways, migrates
# it to a fresh QEMU on the same device, checks the streams' MD5s, and
# records migrate.py's numbers: the migration's total time, QEMU's downtime,
# the longest time the guest answered no ping, and the pages the source
# device marked in the dirty log (vhostx counts them; vhost_net does not).
# The order of the two devices alternates per round. Medians and the ratio
# vhostx / vhost_net go to stdout and, as JSON, to $VHX_BENCH_DIR/migration.json.
set -u
SELFTESTS=$(cd "$(dirname "$0")/.." && pwd)
TOP=$(cd "$SELFTESTS/.." && pwd)
export SELFTESTS TOP
# shellcheck source=../lib/ktap.sh
. "$SELFTESTS/lib/ktap.sh"
# shellcheck source=../lib/common.sh
. "$SELFTESTS/lib/common.sh"
L2_STATE=/tmp/vhx-migbench
# shellcheck source=lib.sh
. "$SELFTESTS/migration/lib.sh"

ROUNDS=${1:-${VHX_BENCH_MIG_ROUNDS:-3}}
OUT=${VHX_BENCH_DIR:-$TOP/build/vm/out}
ROWS=$L2_STATE/rows

say() { echo "migbench: $*" >&2; }
die() { say "$*"; mg_cleanup; exit 1; }

rm -rf "$L2_STATE"
mkdir -p "$L2_STATE" "$OUT" || die "cannot create $L2_STATE or $OUT"

setup()
{
	local m
	if grep -qw svm /proc/cpuinfo; then m=kvm_amd; else m=kvm_intel; fi
	modprobe $m && wait_node /dev/kvm || die "no /dev/kvm: no nested virtualization"
	modprobe -a tun tap bridge vhost_net || die "modprobe tun tap bridge vhost_net"
	vhx_load && wait_node $VHX_NODE && wait_node /dev/vhost-net || die "no vhost device nodes"
	[ -s "$L2_VMLINUX" ] || die "$L2_VMLINUX missing (selftests/vm/run.sh extracts it)"
	l2_prepare_initrd >&2 || die "no L2 initramfs"
	echo "$L2_INITRD" > "$L2_STATE/initrd"
	l2_kvm_keeper || die "cannot hold a KVM VM open"
	mg_bridge || die "bridge $MG_BR"
}

# cpu_ticks PID: user + system clock ticks of process PID (every thread), or 0.
cpu_ticks()
{
	awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0
}

# worker_pid QEMU_PID: the device worker of that owner: vhost_net's
# (vhost_worker_of: a kthread, or on 6.12 a thread of QEMU) or vhostx's.
worker_pid()
{
	vhost_worker_of "$1" || pgrep -x "vhostx-$1" || echo 0
}

# l1_busy: busy and total ticks of the test VM's CPUs so far.
l1_busy()
{
	awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8 }' /proc/stat
}

# one NODE ROUND: boot, stream, migrate, check; a row in $ROWS. Around the
# migration: the source QEMU's CPU time, its device worker's, and how busy
# the test VM's CPUs were, which say where a slow migration's time went.
one()
{
	local node=$1 r=$2 src=s$r dst=d$r pid logged o wpid q0 w0 b0 t0 b1 t1
	mg_boot "$src" "$node" 1 1 >&2 || die "boot on $node: round $r"
	pid=$(l2_pid "$src")
	mg_qemu "$dst" "$node" 1 1 incoming >&2 || die "destination QEMU"
	mg_streams_start "$src" 1 >&2 || die "streams"
	wpid=$(worker_pid "$pid")
	q0=$(cpu_ticks "$pid") w0=$(cpu_ticks "$wpid")
	read -r b0 t0 <<< "$(l1_busy)"
	mg_migrate "$src" "$dst" || { cat "$L2_STATE/$dst/migrate.out" >&2; die "migration on $node"; }
	read -r b1 t1 <<< "$(l1_busy)"
	q0=$(($(cpu_ticks "$pid") - q0)) w0=$(($(cpu_ticks "$wpid") - w0))
	o=$L2_STATE/$dst/migrate.out
	logged=$(mg_logged "$pid")
	cp "$L2_STATE/$src/seq" "$L2_STATE/$src/boot_id" "$L2_STATE/$dst/"
	# (not in a subshell: it waits for this shell's stream processes)
	mg_streams_end "$dst" "$src" 1 > "$L2_STATE/streams.out" ||
		{ cat "$L2_STATE/streams.out" >&2; die "streams across the migration on $node"; }
	echo "$(basename "$node") $r $(mg_kv "$o" total_ms) $(mg_kv "$o" downtime_ms) $(mg_kv "$o" gap_ms)" \
		"$(mg_kv "$o" ram_transferred) ${logged%% *} $((q0 * 1000 / $(getconf CLK_TCK)))" \
		"$((w0 * 1000 / $(getconf CLK_TCK))) $(((b1 - b0) * 100 / (t1 - t0 + 1))) $(mg_kv "$o" dirty_syncs)" >> "$ROWS"
	say "round $r $(basename "$node"): total $(mg_kv "$o" total_ms) ms, downtime $(mg_kv "$o" downtime_ms) ms," \
		"gap $(mg_kv "$o" gap_ms) ms, pages logged $logged, source QEMU CPU $((q0 * 1000 / $(getconf CLK_TCK))) ms," \
		"worker CPU $((w0 * 1000 / $(getconf CLK_TCK))) ms, test VM busy $(((b1 - b0) * 100 / (t1 - t0 + 1)))%," \
		"dirty syncs $(mg_kv "$o" dirty_syncs)"
	l2_kill "$src" >/dev/null
	l2_kill "$dst" >/dev/null
}

setup
for r in $(seq "$ROUNDS"); do
	if [ $((r % 2)) = 1 ]; then order="/dev/vhost-net $VHX_NODE"; else order="$VHX_NODE /dev/vhost-net"; fi
	for node in $order; do
		one "$node" "$r"
	done
done
mg_cleanup
l2_kvm_keeper_stop
vhx_unload

python3 - "$ROWS" "$OUT/migration.json" <<'PY'
import json, statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
keys = ["total_ms", "downtime_ms", "gap_ms", "ram_bytes", "pages_logged", "qemu_cpu_ms",
        "worker_cpu_ms", "l1_busy_pct", "dirty_syncs"]
res = {}
for dev in ("vhost-net", "vhostx-net"):
    mine = [r for r in rows if r[0] == dev]
    res[dev] = {"rounds": [dict(zip(keys, (int(x) if x.isdigit() else None for x in r[2:]))) for r in mine]}
    for i, k in enumerate(keys):
        vals = [int(r[2 + i]) for r in mine if r[2 + i].isdigit()]
        res[dev]["median_" + k] = statistics.median(vals) if vals else None
print("Live migration, 1-vCPU guest with TCP streams both ways (medians of %d rounds):"
      % len(res["vhostx-net"]["rounds"]))
print("  %-22s %12s %12s %8s" % ("", "vhost_net", "vhostx", "ratio"))
for k, name in (("total_ms", "total time, ms"), ("downtime_ms", "QEMU downtime, ms"),
                ("gap_ms", "longest ping gap, ms"), ("qemu_cpu_ms", "source QEMU CPU, ms"),
                ("worker_cpu_ms", "device worker CPU, ms"), ("l1_busy_pct", "test VM CPUs busy, %"),
                ("dirty_syncs", "dirty syncs")):
    a, b = res["vhost-net"]["median_" + k], res["vhostx-net"]["median_" + k]
    ratio = "%.2f" % (b / a) if a and b is not None else "-"
    print("  %-22s %12s %12s %8s" % (name, a, b, ratio))
print("  %-22s %12s %12s" % ("pages logged (source)", "n/a", res["vhostx-net"]["median_pages_logged"]))
print("Rounds (device round total_ms downtime_ms gap_ms ram_bytes pages_logged qemu_cpu_ms worker_cpu_ms l1_busy_pct dirty_syncs):")
for r in rows:
    print("  " + " ".join(r))
json.dump(res, open(sys.argv[2], "w"), indent=1)
PY
