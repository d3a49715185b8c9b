#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Fuzz kmod/ring_split.c and kmod/mem.c for a while.
#
#   selftests/host/fuzz.sh [SECONDS] [extra libFuzzer args...]
#
# Builds build/host (or $BUILD/host) with clang's libFuzzer, seeds a corpus
# that persists across runs in build/host/fuzz-corpus, and fuzzes on all CPUs
# (-fork) for SECONDS (default 300). Crashes land in build/host/fuzz-artifacts/;
# reproduce one with: build/host/fuzz_ring build/host/fuzz-artifacts/crash-...
set -eu

secs=${1:-300}
[ $# -gt 0 ] && shift
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out=${BUILD:-$top/build}/host

cmake -S "$here" -B "$out" -DVHX_FUZZ=ON >/dev/null
cmake --build "$out" --target fuzz_ring fuzz_seeds -j "$(nproc)"
[ -x "$out/fuzz_ring" ] || { echo "fuzz.sh: clang/libFuzzer unavailable" >&2; exit 1; }

"$out/fuzz_seeds" "$out/fuzz-corpus"
mkdir -p "$out/fuzz-artifacts"
jobs=$(nproc)
exec "$out/fuzz_ring" -max_total_time="$secs" -timeout=10 -print_final_stats=1 \
	-fork="$jobs" \
	-artifact_prefix="$out/fuzz-artifacts/" "$@" "$out/fuzz-corpus"
