#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# selftests/bench/sim.sh - the simulator benchmark: the userspace guest
# driver (dp_test bench) against vhost_net and vhostx, side by side in one
# boot, TX and RX, 64- and 1500-byte frames. Run it in the test guest:
#   selftests/vm/run.sh selftests/bench/sim.sh [SECONDS] [ROUNDS]
# Prints a table of packets/s (median of ROUNDS, with min..max) and the
# vhostx/vhost_net ratio; writes JSON to $VHX_BENCH_JSON if set.
# A benchmark, not a test: timings under TCG are noisy; only the ratio
# measured in the same run means anything.
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

declare -A RES
for dir in tx rx; do
	for size in 64 1500; do
		for dev in vhost-net vhostx-net; do
			: > /tmp/bench.$$
			for _ in $(seq "$ROUNDS"); do
				"$DP" --dev /dev/$dev bench $dir --size $size --seconds "$SECS" |
					sed -n 's/.* pps=\([0-9]*\).*/\1/p' >> /tmp/bench.$$
			done
			RES[$dir.$size.$dev]=$(stats < /tmp/bench.$$)
		done
	done
done
rm -f /tmp/bench.$$

printf '%-10s %14s %22s %14s %22s %7s\n' test vhost_net "(min..max)" vhostx "(min..max)" ratio
[ -n "$JSON" ] && echo '{"unit": "packets/s", "rows": [' > "$JSON"
first=1
for dir in tx rx; do
	for size in 64 1500; do
		read -r a amin amax <<< "${RES[$dir.$size.vhost-net]}"
		read -r b bmin bmax <<< "${RES[$dir.$size.vhostx-net]}"
		ratio=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", a ? b / a : 0 }')
		printf '%-10s %14d %22s %14d %22s %7s\n' "$dir-$size" "$a" "($amin..$amax)" \
			"$b" "($bmin..$bmax)" "$ratio"
		if [ -n "$JSON" ]; then
			[ $first = 1 ] || echo , >> "$JSON"
			first=0
			printf '{"test": "%s-%s", "vhost_net": %d, "vhostx": %d, "ratio": %s}' \
				"$dir" "$size" "$a" "$b" "$ratio" >> "$JSON"
		fi
	done
done
[ -n "$JSON" ] && echo ']}' >> "$JSON"
exit 0
