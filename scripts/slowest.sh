#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# scripts/slowest.sh [N] < LOG: the N (default 5) slowest cases of a TAP log
# from run_suite.sh (ktap_case prints "# time: MS ms" before each result).
awk '/^# time: [0-9]+ ms$/ { ms = $3; next }
	/^(not )?ok [0-9]+ - / && ms != "" {
		name = $0; sub(/^(not )?ok [0-9]+ - /, "", name)
		printf "%8.1f s  %s\n", ms / 1000, name; ms = "" }' |
	sort -rn | head -n "${1:-5}"
