#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# selftests/bench/l2bench.sh - the L2 benchmark. Runs INSIDE the test VM:
#   selftests/vm/run.sh selftests/bench/l2bench.sh [--quick]
# One Linux L2 guest under nested KVM (selftests/qemu/lib.sh), the same tap
# setup, four virtio-net backends in turn:
#   qemu-noioev  QEMU's userspace virtio-net, ioeventfd=off (a kick is an exit to QEMU)
#   qemu         QEMU's userspace virtio-net, ioeventfd on (QEMU's default)
#   vhost_net    vhost=on, vhostfd on /dev/vhost-net
#   vhostx       vhost=on, vhostfd on /dev/vhostx-net
# and six loads on each: pktgen in the guest (TX, 64- and 1514-byte frames,
# counted at the tap), pktgen here toward the tap (RX, counted in the guest and
# at the tap), iperf3 TCP guest -> here and here -> guest. Over each
# measurement window it records kvm_exit by reason, kvm_userspace_exit,
# kvm_apic_accept_irq and kvm_inj_virq (tracefs histogram triggers), the
# guest's virtio interrupts, on-CPU time of every QEMU thread and of the
# vhost worker (schedstat), bytes copied per thread on the tap's read and
# write paths (kprobes) and by QEMU's iov_from_buf_full / iov_to_buf_full
# (uretprobes), and vhostx's own counters.
# Normal mode: 3 rounds (backends interleaved in each round), 4 s windows;
# --quick (make demo's): 1 round, 2 s windows, 64-byte pktgen TX and RX
# only. Prints the table; writes
# $VHX_BENCH_DIR/l2bench.json (default build/vm/out) and the raw samples
# as l2bench-raw.tar.gz. See Documentation/benchmarks.md.
set -u
SELFTESTS=$(cd "$(dirname "$0")/.." && pwd)
TOP=$(cd "$SELFTESTS/.." && pwd)
export SELFTESTS TOP
# shellcheck source=../lib/ktap.sh
. "$SELFTESTS/lib/ktap.sh"
# shellcheck source=../lib/common.sh
. "$SELFTESTS/lib/common.sh"
L2_STATE=/tmp/vhx-l2bench
# shellcheck source=../qemu/lib.sh
. "$SELFTESTS/qemu/lib.sh"

OUT=${VHX_BENCH_DIR:-$TOP/build/vm/out}
ROUNDS=3 SECS=4 WARM=1 MODE=normal
ALL_TESTS="tx64 tx1500 rx64 rx1500 tcp_tx tcp_rx"
for a in "$@"; do
	case "$a" in
	--quick) ROUNDS=1 SECS=2 WARM=1 MODE=quick ALL_TESTS="tx64 rx64" ;;
	*) echo "l2bench.sh: unknown argument '$a' (expected --quick)" >&2; exit 2 ;;
	esac
done
# Overrides for experiments: VHX_BENCH_ROUNDS, VHX_BENCH_SECS,
# VHX_BENCH_BACKENDS, VHX_BENCH_TESTS, VHX_BENCH_COPYPROBES=0.
ROUNDS=${VHX_BENCH_ROUNDS:-$ROUNDS}
SECS=${VHX_BENCH_SECS:-$SECS}
BACKENDS=${VHX_BENCH_BACKENDS:-qemu-noioev qemu vhost_net vhostx}
TESTS=${VHX_BENCH_TESTS:-$ALL_TESTS}
RAW=/tmp/l2bench-raw
TR=/sys/kernel/tracing
NAME=b
TAP=vxt-$NAME
WATCH= WATCH_T=
say() { echo "l2bench: [$(($(date +%s) - T0))s] $*" >&2; }
T0=$(date +%s)
die() { say "$*"; exit 1; }

rm -rf "$RAW" "$L2_STATE"
mkdir -p "$RAW" "$L2_STATE" "$OUT" || die "cannot create $RAW or $OUT"

# --- setup --------------------------------------------------------------------

setup()
{
	local m
	if grep -qw svm /proc/cpuinfo; then m=kvm_amd; else m=kvm_intel; fi
	modprobe $m || die "modprobe $m"
	wait_node /dev/kvm || die "no /dev/kvm: no nested virtualization"
	modprobe -a tun tap vhost_net pktgen || die "modprobe tun tap vhost_net pktgen"
	vhx_load || die "insmod $VHX_KO"
	wait_node $VHX_NODE && wait_node /dev/vhost-net || die "no vhost device nodes"
	debugfs_ready || die "no vhostx debugfs"
	[ -s "$L2_VMLINUX" ] || die "$L2_VMLINUX missing (selftests/vm/run.sh extracts it)"
	l2_prepare_initrd >&2 || die "no L2 initramfs"
	# QEMU runs from a tmpfs copy: uprobes need the file's own inode, and the
	# root here is an overlay (a probe on the overlay path never fires).
	# QEMU finds its data (BIOS, option ROMs) relative to its own directory
	# (bin/../share/qemu), hence the share and lib links.
	mkdir -p /dev/shm/l2bench/bin
	cp "$(command -v qemu-system-x86_64)" /dev/shm/l2bench/bin/ || die "copy qemu"
	ln -sfn /usr/share /dev/shm/l2bench/share
	ln -sfn /usr/lib /dev/shm/l2bench/lib
	export L2_QEMU=/dev/shm/l2bench/bin/qemu-system-x86_64
	KVM_MOD=$m
}

# tracefs: the events and their histogram triggers ("event|trigger").
HISTS=(
	"kvm/kvm_exit|hist:keys=exit_reason:vals=hitcount:size=256"
	"kvm/kvm_userspace_exit|hist:keys=reason:vals=hitcount"
	"kvm/kvm_apic_accept_irq|hist:keys=vec:vals=hitcount"
	"kvm/kvm_inj_virq|hist:keys=vector:vals=hitcount"
)
UPROBES=0
# VHX_BENCH_COPYPROBES=0: no copy probes (each costs the probed thread a
# little per packet, and vhost_net's TX path has none; see benchmarks.md).
COPYPROBES=${VHX_BENCH_COPYPROBES:-1}
PERF=${VHX_BENCH_PERF:-0}

trace_setup()
{
	local q off h
	echo 0 > $TR/tracing_on
	if [ "$COPYPROBES" = 0 ]; then
		for h in "${HISTS[@]}"; do
			[ -e "$TR/events/${h%%|*}/trigger" ] || die "no trace event ${h%%|*}"
		done
		return 0
	fi
	HISTS+=("vhxb/rx|hist:keys=common_pid.execname:vals=hitcount,bytes:size=2048"
		"vhxb/tx|hist:keys=common_pid.execname:vals=hitcount,bytes:size=2048"
		"vhxb/xb|hist:keys=common_pid.execname:vals=hitcount,bytes:size=2048")
	local e
	for e in rx tx xb; do echo "-:vhxb/$e" >> $TR/kprobe_events; done 2>/dev/null
	# The kernel's copy routines (_copy_{from,to}_iter, copy_page_*) are
	# notrace on Debian's 6.1, so the probes sit on their callers, one per
	# path, each on a function that copies every byte it is given:
	#   rx  skb_copy_datagram_iter(skb, off, to, len): a tap reader (tun_put_user)
	#       copies a frame out of the skb into the reader's buffers
	#   tx  tun_get_user(.., from, ..): a write()/sendmsg() into the tap copies
	#       the iov (vnet header + frame) into a new skb (tun_build_skb or
	#       skb_copy_datagram_from_iter)
	#   xb  vhx_tx_batch_add(b, sock, from, hlen): vhostx copies the iov
	#       (vnet header + frame) into its XDP batch buffer
	# vhost_net's own TX copy (vhost_net_build_xdp, inlined into
	# handle_tx_copy) has no probe point: derived in the report.
	echo 'p:vhxb/rx skb_copy_datagram_iter bytes=$arg4:s32' >> $TR/kprobe_events || die "kprobe skb_copy_datagram_iter"
	echo 'p:vhxb/tx tun_get_user bytes=+16($arg4):u64' >> $TR/kprobe_events || die "kprobe tun_get_user"
	echo 'p:vhxb/xb vhx_tx_batch_add bytes=+16($arg3):u64' >> $TR/kprobe_events || die "kprobe vhx_tx_batch_add"
	# QEMU's own copies of packet data: iov_from_buf_full (RX: its bounce
	# buffer into guest buffers) and iov_to_buf_full, if exported.
	q=$L2_QEMU
	off=$(elf_offset "$q" iov_from_buf_full)
	if [ -n "$off" ]; then
		echo '-:vhxu/qfb' >> $TR/uprobe_events 2>/dev/null
		echo '-:vhxu/qtb' >> $TR/uprobe_events 2>/dev/null
		if echo "r:vhxu/qfb $q:$off bytes=\$retval:u64" >> $TR/uprobe_events &&
			off=$(elf_offset "$q" iov_to_buf_full) && [ -n "$off" ] &&
			echo "r:vhxu/qtb $q:$off bytes=\$retval:u64" >> $TR/uprobe_events; then
			UPROBES=1
			HISTS+=("vhxu/qfb|hist:keys=common_pid.execname:vals=hitcount,bytes:size=2048"
				"vhxu/qtb|hist:keys=common_pid.execname:vals=hitcount,bytes:size=2048")
		else
			say "uprobes on $q failed: QEMU's copies will be derived"
		fi
	fi
	for h in "${HISTS[@]}"; do
		[ -e "$TR/events/${h%%|*}/trigger" ] || die "no trace event ${h%%|*}"
	done
}

# elf_offset FILE SYMBOL: the file offset of a dynamic symbol (for uprobes).
elf_offset()
{
	local v _t off va _pa fsz _rest
	v=$(nm -D --defined-only "$1" 2>/dev/null | awk -v s="$2" '$3 == s { print $1; exit }')
	[ -n "$v" ] || return 0
	v=$((16#$v))
	# (a pipe: the test VM has no /dev/fd for process substitution)
	readelf -lW "$1" | while read -r _t off va _pa fsz _rest; do
		[ "$_t" = LOAD ] || continue
		if [ "$v" -ge $((va)) ] && [ "$v" -lt $((va + fsz)) ]; then
			printf '0x%x\n' $((v - va + off))
			break
		fi
	done
}

# The histogram triggers stay armed for the whole run: registering or
# removing one waits for an RCU grace period (seconds under TCG, and the
# window would not match the counters). Each window reads every histogram
# at its start and its end; the report takes the difference.
arm()
{
	local h
	for h in "${HISTS[@]}"; do
		echo "${h#*|}" >> "$TR/events/${h%%|*}/trigger" || die "trigger ${h%%|*}"
	done
}

disarm()
{
	local h
	for h in "${HISTS[@]}"; do
		echo "!${h#*|}" >> "$TR/events/${h%%|*}/trigger"
	done 2>/dev/null
}

# Everything a window reads, without forking (the test VM is itself emulated
# and busy: a fork costs milliseconds, pgrep seconds), counters first.
# save FILE SRC: copy a text file with shell builtins.
save()
{
	local lines
	mapfile -t lines < "$2" 2>/dev/null || return 0
	printf '%s\n' "${lines[@]}" > "$1"
}

read_hists()
{
	local h ev
	for h in "${HISTS[@]}"; do
		ev=${h%%|*}
		save "$1/hist.${ev//\//_}" "$TR/events/$ev/hist"
	done
}

# snap DIR: time, tap counters, histograms, vhostx, on-CPU ns of the threads
# that matter (QEMU's, $WATCH: the worker, pktgen, iperf3, ksoftirqd).
snap()
{
	local d=$1 t v p c ns rest
	mkdir -p "$d"
	printf '%s\n' "$EPOCHREALTIME" > "$d/t"
	for t in rx_packets rx_bytes tx_packets tx_bytes rx_dropped tx_dropped; do
		read -r v < /sys/class/net/$TAP/statistics/$t
		printf '%s %s\n' "$t" "$v"
	done > "$d/tap"
	read_hists "$d"
	save "$d/vhx" $VHX_DEBUGFS
	save "$d/kprobe_profile" $TR/kprobe_profile
	{
		for t in /proc/$QPID/task/*; do
			read -r ns rest < "$t/schedstat" || continue
			read -r c < "$t/comm"
			echo "qemu ${t##*/} $ns $c"
		done
		for p in $WATCH $WATCH_T; do
			read -r ns rest < "/proc/$p/schedstat" || continue
			read -r c < "/proc/$p/comm"
			echo "other $p $ns $c"
		done
	} > "$d/cpu" 2>/dev/null
	# the tap again: the report takes the mean of both reads, whose moment
	# is closer to when the histograms and vhostx's counters were read
	for t in rx_packets rx_bytes tx_packets tx_bytes rx_dropped tx_dropped; do
		read -r v < /sys/class/net/$TAP/statistics/$t
		printf '%s %s\n' "$t" "$v"
	done > "$d/tap_end"
	printf '%s\n' "$EPOCHREALTIME" > "$d/t_end"
}

# --- the guest's side ---------------------------------------------------------

# The guest's side of a window is /bench-guest in its initramfs
# (selftests/bench/l2-guest.sh): the command sent over the control serial
# port stays short, because every byte the guest reads there is an exit to
# QEMU, and the guest reads it while this side's window may already run.

# --- one measurement ------------------------------------------------------------

# measure DIR TEST: start the load, wait WARM, record a SECS window, stop.
measure()
{
	local d=$1 test=$2 size=0 srv=
	mkdir -p "$d"
	perf_start "$d"
	case $test in
	tx*)
		size=$((${test#tx} == 64 ? 60 : 1514))
		l2_send $NAME "/bench-guest tx $WARM $SECS $size $(cat /sys/class/net/$TAP/address) $L2_HOST_IP"
		;;
	rx*)
		size=$((${test#rx} == 64 ? 60 : 1514))
		pgset kpktgend_0 rem_device_all
		pgset kpktgend_0 "add_device $TAP"
		pgset $TAP "count 0"; pgset $TAP "clone_skb 0"; pgset $TAP "delay 0"
		pgset $TAP "pkt_size $size"; pgset $TAP "dst $L2_GUEST_IP"
		pgset $TAP "dst_mac $L2_MAC"; pgset $TAP "udp_dst_min 9"; pgset $TAP "udp_dst_max 9"
		(echo start > /proc/net/pktgen/pgctrl) 2>/dev/null &
		srv=$!
		l2_send $NAME "/bench-guest rx $WARM $SECS"
		;;
	tcp_*)
		iperf3 -s -1 -p 5201 > "$d/iperf-server" 2>&1 &
		srv=$!
		WATCH_T=$srv
		sleep 0.3
		l2_send $NAME "/bench-guest $test $WARM $SECS $L2_HOST_IP"
		;;
	esac
	# The guest may take a while to read its command and start: the window
	# counts from the first frames it sends (TX, TCP).
	case $test in tx*|tcp_*) wait_tap_rx 60 || say "$test: no frames from the guest after 60 s" ;; esac
	sleep "$WARM"
	snap "$d/A"
	sleep "$SECS"
	snap "$d/B"
	perf_stop
	l2_wait_done $NAME $((WARM + SECS + 60)) > "$d/guest" 2>&1 || say "$test: guest: $(tail -n 3 "$d/guest")"
	case $test in
	rx*)
		echo stop > /proc/net/pktgen/pgctrl
		wait $srv 2>/dev/null
		pgset kpktgend_0 rem_device_all
		;;
	tcp_*)
		wait $srv 2>/dev/null
		WATCH_T=
		;;
	esac
	echo "$test $size" > "$d/test"
}

# perf_start DIR / perf_stop: with VHX_BENCH_PERF=1, perf samples every CPU
# (cpu-clock: the test VM has no PMU) from before the load starts until the
# window ends, and DIR/perf.txt gets the top symbols per thread. perf takes
# seconds to start under TCG and costs CPU, so the rates drop.
perf_start()
{
	local i
	[ "$PERF" = 1 ] || return 0
	perf record -q -e cpu-clock -F 2000 -a -g -o "$1/perf.data" > /dev/null 2>&1 &
	PERF_PID=$!
	for i in $(seq 300); do [ -s "$1/perf.data" ] && break; sleep 0.1; done
	sleep 1
}

perf_stop()
{
	[ "$PERF" = 1 ] || return 0
	kill -INT "$PERF_PID" 2>/dev/null
	wait "$PERF_PID" 2>/dev/null
}

perf_report()
{
	local f
	for f in "$RAW"/*/*/*/perf.data; do
		[ -f "$f" ] || continue
		{
			echo "# by thread"
			perf report -q -i "$f" --stdio --no-children --sort comm -g none
			echo "# by thread and symbol"
			perf report -q -i "$f" --stdio --no-children --sort comm,sym -g none \
				--percent-limit 0.5
		} > "${f%.data}.txt" 2>/dev/null
		rm -f "$f"
	done
}

# wait_tap_rx SECONDS: until the tap has received 10 frames more than now.
wait_tap_rx()
{
	local n0 n i
	read -r n0 < /sys/class/net/$TAP/statistics/rx_packets
	for ((i = 0; i < $1 * 10; i++)); do
		read -r n < /sys/class/net/$TAP/statistics/rx_packets
		[ $((n - n0)) -lt 10 ] || return 0
		sleep 0.1
	done
	return 1
}

pgset()
{
	echo "$2" > "/proc/net/pktgen/$1" || say "pktgen $1: '$2' failed"
}

# backend_start BACKEND: boot the guest on BACKEND; sets QPID.
backend_start()
{
	local b=$1 node=/dev/vhost-net
	unset L2_VHOST L2_DEV_OPTS
	case $b in
	qemu-noioev) export L2_VHOST=off L2_DEV_OPTS=ioeventfd=off ;;
	qemu) export L2_VHOST=off ;;
	vhost_net) ;;
	vhostx) node=$VHX_NODE ;;
	esac
	l2_start $NAME $node || return 1
	QPID=$(l2_pid $NAME)
	say "$b: QEMU pid $QPID"
	l2_wait_ready $NAME >&2 || return 1
	l2_cmd $NAME 30 'for m in $(cat /bench-modules); do insmod $m 2>/dev/null; done;
		for i in $(seq 100); do [ "$(cat /sys/class/net/eth0/operstate)" = up ] && break; sleep 0.1; done;
		[ -d /proc/net/pktgen ] && cat /sys/class/net/eth0/operstate' > "$L2_STATE/up" ||
		{ say "$b: guest setup: $(cat "$L2_STATE/up")"; return 1; }
	# warm the path (ARP both ways)
	busybox ping -c 2 -W 2 $L2_GUEST_IP > /dev/null 2>&1
	case $b in
	vhost_net) pgrep -x "vhost-$QPID" > /dev/null || { say "no vhost-$QPID worker"; return 1; } ;;
	vhostx) pgrep -x "vhostx-$QPID" > /dev/null || { say "no vhostx-$QPID worker"; return 1; } ;;
	*) ! pgrep -x "vhostx?-$QPID" > /dev/null || { say "$b: a vhost worker exists"; return 1; } ;;
	esac
	# the threads whose CPU time each window records, besides QEMU's
	WATCH=$(pgrep -x "vhostx?-$QPID|kpktgend_[0-9]+|ksoftirqd/[0-9]+" | tr '\n' ' ')
	pin_vcpu || return 1
	return 0
}

# The guest's vCPU thread on the last CPU, every backend alike; the rest
# (QEMU's other threads, the vhost worker) go where the scheduler puts them,
# in practice the other CPU, since pktgen and iperf3 keep the vCPU busy.
# Unpinned, vhostx's vCPU thread ran 4.3 s of a 4.6 s tx64 window in one
# round and 2.5 s in another, and the packet rate followed (23.4k, 8.7k pps).
pin_vcpu()
{
	local t c n=0 cpu=$(($(nproc) - 1))
	for t in /proc/$QPID/task/*; do
		read -r c < "$t/comm" || continue
		case $c in
		"CPU "*"/KVM") taskset -p -c $cpu "${t##*/}" > /dev/null && n=$((n + 1)) ;;
		esac
	done
	[ $n -gt 0 ] || { say "no vCPU thread in QEMU $QPID to pin"; return 1; }
}

# --- main -----------------------------------------------------------------------

T0=$(date +%s)
setup
trace_setup
# whatever happens: no guest left running, no probe left armed
trap 'l2_kill_all; disarm; for e in rx tx xb; do echo "-:vhxb/$e" >> $TR/kprobe_events; done 2>/dev/null' EXIT
arm
{
	echo "mode $MODE"
	echo "rounds $ROUNDS"
	echo "secs $SECS"
	echo "warm $WARM"
	echo "kernel $(uname -r)"
	echo "qemu $(qemu-system-x86_64 --version | head -n 1)"
	echo "cpu $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
	echo "ncpu $(nproc)"
	echo "vcpu_pinned_to $(($(nproc) - 1))"
	echo "mem_kb $(awk '/^MemTotal/ { print $2 }' /proc/meminfo)"
	echo "kvm_module $KVM_MOD"
	echo "l2_mem $L2_MEM"
	echo "uprobes $UPROBES"
	echo "copyprobes $COPYPROBES"
	echo "date $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "git $(git -C "$TOP" rev-parse --short HEAD 2>/dev/null || echo unknown)"
} > "$RAW/meta"

for r in $(seq "$ROUNDS"); do
	for b in $BACKENDS; do
		say "round $r/$ROUNDS: $b"
		if ! backend_start "$b"; then
			say "$b: the guest did not come up; skipping it this round"
			l2_kill $NAME > /dev/null
			continue
		fi
		cp "$L2_STATE/$NAME/cmdline" "$RAW/cmdline.$b"
		for t in $TESTS; do
			say "  $t"
			measure "$RAW/$r/$b/$t" "$t"
			echo "$QPID" > "$RAW/$r/$b/$t/qpid"
		done
		l2_kill $NAME TERM > /dev/null || l2_kill $NAME > /dev/null
	done
done
echo "elapsed $(($(date +%s) - T0))" >> "$RAW/meta"
[ "$PERF" = 0 ] || perf_report

tar -C "$(dirname "$RAW")" -czf "$OUT/l2bench-raw.tar.gz" "$(basename "$RAW")"
python3 "$SELFTESTS/bench/l2report.py" "$RAW" "$OUT/l2bench.json"
rc=$?
trap - EXIT
l2_kill_all
disarm
[ "$COPYPROBES" = 0 ] || for e in rx tx xb; do echo "-:vhxb/$e" >> $TR/kprobe_events; done 2>/dev/null
[ $UPROBES = 0 ] || { echo "-:vhxu/qfb" >> $TR/uprobe_events; echo "-:vhxu/qtb" >> $TR/uprobe_events; } 2>/dev/null
exit $rc
