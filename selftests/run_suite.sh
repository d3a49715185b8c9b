#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# selftests/run_suite.sh - the in-VM suite: every selftests/*/suite.sh in one
# TAP stream, in one boot. Run it inside the test guest (make check-vm does):
#   selftests/vm/run.sh selftests/run_suite.sh [SUITE...]
# With SUITE names (directories under selftests/), only those run.
set -u
SELFTESTS=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$SELFTESTS/.." && pwd)
export SELFTESTS TOP
# shellcheck source=lib/ktap.sh
. "$SELFTESTS/lib/ktap.sh"
# shellcheck source=lib/common.sh
. "$SELFTESTS/lib/common.sh"

if [ $# -gt 0 ]; then suites=("$@"); else
	suites=()
	for f in "$SELFTESTS"/*/suite.sh; do suites+=("$(basename "$(dirname "$f")")"); done
fi

ktap_begin
for s in "${suites[@]}"; do
	[ -f "$SELFTESTS/$s/suite.sh" ] || { echo "run_suite: no suite '$s'" >&2; exit 2; }
	ktap_diag "suite $s"
	# shellcheck source=/dev/null
	. "$SELFTESTS/$s/suite.sh"
done
ktap_end
