# SPDX-License-Identifier: GPL-2.0
# selftests/lib/ktap.sh - a tiny kselftest-style TAP 13 producer for bash suites.
#
#   ktap_begin
#   ktap_case NAME FUNCTION [ARGS...]   ok / not ok / ok ... # SKIP
#   ktap_end                            prints "1..N" and "P passed, F failed"; returns 1 on failure
#
# A case function returns 0 (pass), $KSFT_SKIP (skip) or anything else (fail).
# It runs in a subshell, so it cannot break the suite's state; its output is
# turned into TAP diagnostics. After every case the kernel taint is checked:
# any bit beyond O (out-of-tree) and E (unsigned) fails that case. Each
# result line follows a diagnostic "# time: N ms" with the case's duration
# (scripts/slowest.sh lists the slowest cases of a run's log). So are the
# kernel's reports that come without a taint on some kernels (lockdep,
# UBSAN, hung tasks, list corruption): a new one in the kernel log during a
# case fails it (ktap_reports).

KSFT_SKIP=4
KTAP_TAINT_ALLOWED=$(((1 << 12) | (1 << 13)))
KTAP_N=0
KTAP_PASS=0
KTAP_FAIL=0
KTAP_SKIPPED=0

ktap_begin()
{
	echo "TAP version 13"
}

# Print to the TAP stream as a diagnostic.
ktap_diag()
{
	echo "# $*"
}

# Fail a case with a message: `cond || fail "why"`.
fail()
{
	echo "FAIL: $*" >&2
	return 1
}

skip()
{
	echo "SKIP: $*" >&2
	exit "$KSFT_SKIP"
}

ktap_taint_bad()
{
	local t
	t=$(cat /proc/sys/kernel/tainted)
	echo $((t & ~KTAP_TAINT_ALLOWED))
}

# What the kernel prints when a debug check fires (KASAN, UBSAN, lockdep,
# DEBUG_ATOMIC_SLEEP, DEBUG_LIST, hung tasks) or it hits a bug or a WARN.
KTAP_REPORT_RE='BUG: |UBSAN:|WARNING: |INFO: task .* blocked|list_(add|del) corruption|kernel BUG at|general protection fault|refcount_t: |DEBUG_LOCKS_WARN_ON|rcu_(sched|preempt) self-detected stall|kmemleak: [0-9]+ new suspected'
KTAP_KLOG_LINES=$(dmesg 2>/dev/null | wc -l)

# Print the kernel's report lines logged since the last call (with the 20
# lines after each), nothing if there were none.
ktap_reports()
{
	local n
	n=$(dmesg 2>/dev/null | wc -l)
	# a log buffer that wrapped: look at all of it
	[ "$n" -ge "$KTAP_KLOG_LINES" ] || KTAP_KLOG_LINES=0
	dmesg 2>/dev/null | tail -n +$((KTAP_KLOG_LINES + 1)) | grep -E -A20 "$KTAP_REPORT_RE" | head -60
	KTAP_KLOG_LINES=$n
}

ktap_case()
{
	local name=$1 out rc bad reports reason='' t0
	shift
	KTAP_N=$((KTAP_N + 1))
	t0=$(date +%s%N)
	out=$( (set -e; "$@") 2>&1)
	rc=$?
	[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/# /'
	bad=$(ktap_taint_bad)
	reports=$(ktap_reports)
	if [ "$bad" -ne 0 ]; then
		echo "# kernel tainted beyond O/E: $(cat /proc/sys/kernel/tainted)"
		rc=1
	fi
	if [ -n "$reports" ]; then
		echo "# the kernel reported during this case:"
		printf '%s\n' "$reports" | sed 's/^/# /'
		rc=1
	fi
	echo "# time: $((($(date +%s%N) - t0) / 1000000)) ms"
	case $rc in
	0) echo "ok $KTAP_N - $name"; KTAP_PASS=$((KTAP_PASS + 1)) ;;
	"$KSFT_SKIP")
		reason=$(printf '%s\n' "$out" | sed -n 's/^SKIP: //p' | tail -n 1)
		echo "ok $KTAP_N - $name # SKIP ${reason}"
		KTAP_SKIPPED=$((KTAP_SKIPPED + 1)) ;;
	*) echo "not ok $KTAP_N - $name"; KTAP_FAIL=$((KTAP_FAIL + 1)) ;;
	esac
}

ktap_end()
{
	echo "1..$KTAP_N"
	[ "$KTAP_SKIPPED" -gt 0 ] && echo "# $KTAP_SKIPPED skipped"
	echo "$KTAP_PASS passed, $KTAP_FAIL failed"
	[ "$KTAP_FAIL" -eq 0 ]
}
