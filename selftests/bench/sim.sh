#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# selftests/bench/sim.sh - the simulator benchmark: the userspace guest
# driver (dp_test bench) against vhost_net and vhostx, side by side in one
# boot, TX and RX, 64- and 1500-byte frames. Run it in the test guest:
#   selftests/vm/run.sh selftests/bench/sim.sh [SECONDS] [ROUNDS]
# Prints a table of packets/s (median of ROUNDS, with min..max) and the
# vhostx/vhost_net ratio; writes JSON to $VHX_BENCH_JSON if set.
# A benchmark, not a test: timings under TCG are noisy; only the ratio
# measured in the same run means anything. Each round runs the contenders
# back to back (vhost_net, vhostx, limit), so that a slow patch of the host
# hits all of them alike.
#
# The "limit" column is the bare tap with no virtio at all (dp_test --dev none
# bench): for TX a process write()s the same frames to the tap fd; for RX the
# same injector as the RX bench keeps the same 512 frames in flight while a
# second process read()s and checks them from the tap fd. It is what the tap
# and the stack cost by themselves; see bench_limit() in dp_test.c.
set -eu
TOP=$(cd "$(dirname "$0")/../.." && pwd)
DP=${VHX_DP_TEST:-$TOP/build/selftests/dp_test}
SECS=${1:-4}
ROUNDS=${2:-3}
JSON=${VHX_BENCH_JSON:-}

modprobe -a tun tap vhost_net
lsmod | grep -q '^vhostx ' || insmod "$TOP/kmod/vhostx.ko"

# median and range of numbers on stdin
stats() { sort -n | awk '{ v[NR] = $1 } END { printf "%d %d %d", v[int((NR + 1) / 2)], v[1], v[NR] }'; }

DEVS="/dev/vhost-net /dev/vhostx-net none"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
declare -A RES
for dir in tx rx; do
	for size in 64 1500; do
		for _ in $(seq "$ROUNDS"); do
			for dev in $DEVS; do
				"$DP" --dev $dev bench $dir --size $size --seconds "$SECS" |
					sed -n 's/.* pps=\([0-9]*\).*/\1/p' >> "$TMP/${dev##*/}"
			done
		done
		for dev in $DEVS; do
			RES[$dir.$size.${dev##*/}]=$(stats < "$TMP/${dev##*/}")
			rm -f "$TMP/${dev##*/}"
		done
	done
done

printf '%-10s %12s %20s %12s %20s %7s %12s %20s\n' test vhost_net "(min..max)" \
	vhostx "(min..max)" ratio limit "(min..max)"
[ -n "$JSON" ] && echo '{"unit": "packets/s", "rows": [' > "$JSON"
first=1
for dir in tx rx; do
	for size in 64 1500; do
		read -r a amin amax <<< "${RES[$dir.$size.vhost-net]}"
		read -r b bmin bmax <<< "${RES[$dir.$size.vhostx-net]}"
		read -r l lmin lmax <<< "${RES[$dir.$size.none]}"
		ratio=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", a ? b / a : 0 }')
		printf '%-10s %12d %20s %12d %20s %7s %12d %20s\n' "$dir-$size" \
			"$a" "($amin..$amax)" "$b" "($bmin..$bmax)" "$ratio" "$l" "($lmin..$lmax)"
		if [ -n "$JSON" ]; then
			[ $first = 1 ] || echo , >> "$JSON"
			first=0
			printf '{"test": "%s-%s", "vhost_net": %d, "vhostx": %d, "ratio": %s, "limit": %d}' \
				"$dir" "$size" "$a" "$b" "$ratio" "$l" >> "$JSON"
		fi
	done
done
[ -n "$JSON" ] && echo ']}' >> "$JSON"
exit 0
