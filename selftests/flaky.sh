#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# selftests/flaky.sh - run one in-VM suite N times in one boot and count, per
# case, how often it passed: the stress test of the harness itself.
#   selftests/vm/run.sh selftests/flaky.sh SUITE N     (make check-flaky)
# Each round is a fresh run_suite.sh SUITE (the suite sets up and tears down
# its own state); its TAP goes to $VHX_FLAKY_OUT/round-K.tap (default /tmp).
# Prints one line per round, then a table "PASSED/N  SKIPPED  CASE", the
# diagnostics of every failed case, and "P passed, F failed" over all rounds.
# It also counts, with kprobes, where the kernel patched its own text during
# the rounds (selftests/lib/textpoke.sh).
# Exit status 0 when every case passed in every round.
set -u
SELFTESTS=$(cd "$(dirname "$0")" && pwd)
[ $# = 2 ] && [ "$2" -gt 0 ] 2>/dev/null || { echo "usage: $0 SUITE N" >&2; exit 2; }
suite=$1 n=$2
out=${VHX_FLAKY_OUT:-/tmp/vhx-flaky}
mkdir -p "$out"
[ -f "$SELFTESTS/$suite/suite.sh" ] || { echo "flaky: no suite '$suite'" >&2; exit 2; }

# Where the kernel patches its text meanwhile (VHX_TEXT_POKE=0: not traced).
# shellcheck source=lib/textpoke.sh
. "$SELFTESTS/lib/textpoke.sh"
tp=0
[ "${VHX_TEXT_POKE:-1}" = 0 ] || { textpoke_start && tp=1; }

for k in $(seq "$n"); do
	t0=$(date +%s)
	"$SELFTESTS/run_suite.sh" "$suite" > "$out/round-$k.tap" 2>&1
	echo "# round $k/$n: $(tail -n 1 "$out/round-$k.tap") in $(($(date +%s) - t0)) s"
done

if [ $tp = 1 ]; then
	echo "# text patched by the kernel over the $n rounds (count, site, static key, new state):"
	textpoke_report 40 | sed 's/^/#   /'
fi

# Per case (by name, in first-seen order): rounds passed and skipped; the
# rest of the N rounds failed or never reached the case.
awk -v n="$n" '
	/^(not )?ok [0-9]+ - / {
		name = $0
		sub(/^(not )?ok [0-9]+ - /, "", name)
		skip = (name ~ / # SKIP/)
		sub(/ # SKIP.*$/, "", name)
		if (!(name in seen)) { seen[name] = 1; order[++m] = name }
		if ($1 != "not") { if (skip) skipped[name]++; else pass[name]++ }
	}
	END {
		printf "# %-7s %-7s %s\n", "passed", "skipped", "case"
		for (i = 1; i <= m; i++) {
			c = order[i]
			printf "# %3d/%-3d %-7d %s\n", pass[c], n, skipped[c], c
			P += pass[c]; F += n - pass[c] - skipped[c]	# failed or missing
		}
		printf "%d passed, %d failed\n", P, F
		exit F > 0
	}' "$out"/round-*.tap
rc=$?
for k in $(seq "$n"); do
	grep -q '^not ok' "$out/round-$k.tap" || continue
	echo "# --- round $k: failed cases with their diagnostics"
	awk '/^# / { buf = buf $0 "\n"; next }
		/^not ok/ { printf "%s%s\n", buf, $0 }
		/^ok / { buf = "" }' "$out/round-$k.tap" | tail -n 80
done
exit $rc
