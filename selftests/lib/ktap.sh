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
#
# The bookkeeping between cases starts no process: the case's one subshell
# is the only fork (a fork and exec costs about half a second on the debug
# kernel under TCG, where the old dmesg-grep-date pipeline between cases was
# most of a short case's time). The kernel log is followed into a file by one
# `dmesg -W` started by ktap_begin and stopped by ktap_end.

KSFT_SKIP=4
KTAP_TAINT_ALLOWED=$(((1 << 12) | (1 << 13)))
KTAP_N=0
KTAP_PASS=0
KTAP_FAIL=0
KTAP_SKIPPED=0

ktap_begin()
{
	echo "TAP version 13"
	ktap_klog_start
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

# What the kernel prints when a debug check fires (KASAN, UBSAN, lockdep,
# DEBUG_ATOMIC_SLEEP, DEBUG_LIST, hung tasks) or it hits a bug or a WARN.
KTAP_REPORT_RE='BUG: |UBSAN:|WARNING: |INFO: task .* blocked|list_(add|del) corruption|kernel BUG at|general protection fault|refcount_t: |DEBUG_LOCKS_WARN_ON|rcu_(sched|preempt) self-detected stall|kmemleak: [0-9]+ new suspected'
KTAP_TMP=${TMPDIR:-/tmp}/ktap.$$
KTAP_OUT=$KTAP_TMP.out
KTAP_KLOG=$KTAP_TMP.klog
KTAP_KLOG_PID=
KTAP_KLOG_SEEN=0

# Follow the kernel log from now on (only new messages) into $KTAP_KLOG. The
# follower is not a child of this shell, so a bare `wait` never waits for it.
ktap_klog_start()
{
	: > "$KTAP_KLOG"
	KTAP_KLOG_SEEN=0
	[ -r /dev/kmsg ] || return 0
	(dmesg -W > "$KTAP_KLOG" 2>/dev/null & echo $! > "$KTAP_TMP.pid")
	read -r KTAP_KLOG_PID < "$KTAP_TMP.pid"
}

ktap_klog_stop()
{
	[ -z "$KTAP_KLOG_PID" ] || kill "$KTAP_KLOG_PID" 2>/dev/null
	KTAP_KLOG_PID=
	rm -f "$KTAP_KLOG" "$KTAP_OUT" "$KTAP_TMP.pid"
}

# The kernel's report lines logged since the last call, with the 20 lines
# after each (60 lines at most), into the array KTAP_REPORTS.
ktap_reports()
{
	local lines i j=-1

	KTAP_REPORTS=()
	[ -f "$KTAP_KLOG" ] || return 0
	mapfile -t -s "$KTAP_KLOG_SEEN" lines < "$KTAP_KLOG"
	KTAP_KLOG_SEEN=$((KTAP_KLOG_SEEN + ${#lines[@]}))
	for i in "${!lines[@]}"; do
		[[ ${lines[i]} =~ $KTAP_REPORT_RE ]] && j=$((i + 20))
		[ "$i" -gt "$j" ] || [ ${#KTAP_REPORTS[@]} -ge 60 ] ||
			KTAP_REPORTS+=("${lines[i]}")
	done
}

ktap_case()
{
	local name=$1 out rc bad reason='' t0 t1 l
	shift
	KTAP_N=$((KTAP_N + 1))
	t0=${EPOCHREALTIME/[.,]/}
	(set -e; "$@") > "$KTAP_OUT" 2>&1
	rc=$?
	mapfile -t out < "$KTAP_OUT"
	[ ${#out[@]} -eq 0 ] || printf '# %s\n' "${out[@]}"
	read -r bad < /proc/sys/kernel/tainted
	if [ $((bad & ~KTAP_TAINT_ALLOWED)) -ne 0 ]; then
		echo "# kernel tainted beyond O/E: $bad"
		rc=1
	fi
	ktap_reports
	if [ ${#KTAP_REPORTS[@]} -gt 0 ]; then
		echo "# the kernel reported during this case:"
		printf '# %s\n' "${KTAP_REPORTS[@]}"
		rc=1
	fi
	t1=${EPOCHREALTIME/[.,]/}
	echo "# time: $(((t1 - t0) / 1000)) ms"
	case $rc in
	0) echo "ok $KTAP_N - $name"; KTAP_PASS=$((KTAP_PASS + 1)) ;;
	"$KSFT_SKIP")
		for l in "${out[@]}"; do
			[[ $l != "SKIP: "* ]] || reason=${l#SKIP: }
		done
		echo "ok $KTAP_N - $name # SKIP ${reason}"
		KTAP_SKIPPED=$((KTAP_SKIPPED + 1)) ;;
	*) echo "not ok $KTAP_N - $name"; KTAP_FAIL=$((KTAP_FAIL + 1)) ;;
	esac
}

ktap_end()
{
	ktap_klog_stop
	echo "1..$KTAP_N"
	[ "$KTAP_SKIPPED" -gt 0 ] && echo "# $KTAP_SKIPPED skipped"
	echo "$KTAP_PASS passed, $KTAP_FAIL failed"
	[ "$KTAP_FAIL" -eq 0 ]
}
