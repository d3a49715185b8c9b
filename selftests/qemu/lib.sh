# SPDX-License-Identifier: GPL-2.0
# selftests/qemu/lib.sh - run a QEMU/KVM L2 guest inside the test VM and talk
# to it. Sourced by selftests/qemu/suite.sh (after ktap.sh and common.sh).
#
# One guest at a time ("instance"), with its state in $L2_STATE/NAME so that
# every case (each runs in a subshell) can reach a guest that an earlier case
# started:
#   l2_start NAME NODE [QUEUES [SMP]]  boot a guest whose vhost fds are opened
#                                      on NODE (/dev/vhostx-net, /dev/vhost-net)
#   l2_wait_ready NAME [OLD_BOOT_ID]   wait for the guest's agent
#   l2_cmd NAME TIMEOUT COMMAND        run COMMAND in the guest (sh -c), print
#                                      its output, return its status
#   l2_send NAME COMMAND               start COMMAND in the guest (waits for
#                                      its ack only); l2_wait_done waits for it
#   l2_xfer NAME BYTES                 BYTES over TCP each way, MD5-checked
#   l2_ping NAME                       three pings each way, all answered
#   l2_diag NAME                       what each side saw last (on failures)
#   l2_kill NAME [SIGNAL]              stop QEMU (SIGKILL by default), wait for it
#   l2_pid NAME
# The guest's eth0 is $L2_GUEST_IP, the tap on this side is $L2_HOST_IP.
#
# The agent (selftests/qemu/l2-init) listens on a virtio-serial port of its
# own (l2_agent_args), not on a serial console: nothing else writes to it and
# no tty echoes or edits what crosses it. Each command carries a sequence
# number; the agent acks it before it runs it and never runs a number twice,
# so a command the host saw no ack for can be sent again safely, and the host
# always knows whether a command started, finished or never arrived.

L2_DIR=$SELFTESTS/qemu
L2_KVER=$("$TOP/scripts/kver.sh")
L2_VMLINUX=${VHX_L2_VMLINUX:-$TOP/build/vm/vmlinux-$L2_KVER}
L2_INITRD=${VHX_L2_INITRD:-$TOP/build/l2/initramfs-$L2_KVER.cpio.gz}
L2_STATE=${L2_STATE:-/tmp/vhx-qemu}
L2_HOST_IP=10.77.0.1
L2_GUEST_IP=10.77.0.2
L2_MAC=52:54:00:77:00:02
L2_MEM=${VHX_L2_MEM:-256M}
L2_BOOT_TIMEOUT=${VHX_L2_BOOT_TIMEOUT:-90}
L2_PY=/usr/bin/python3

# Make sure an initramfs for L2 exists: the host's cache (see
# mkinitramfs.sh) when it is current, else a fresh one under /tmp.
l2_prepare_initrd()
{
	if [ -s "$L2_INITRD" ] && [ "$L2_INITRD" -nt "$L2_DIR/l2-init" ] &&
		[ "$L2_INITRD" -nt "$L2_DIR/mkinitramfs.sh" ] &&
		[ "$L2_INITRD" -nt "$TOP/selftests/bench/l2-guest.sh" ]; then
		return 0
	fi
	ktap_diag "L2 initramfs $L2_INITRD missing or stale: building one in /tmp" \
		"(run selftests/qemu/mkinitramfs.sh on the host to cache it)"
	L2_INITRD=$L2_STATE/initramfs.cpio.gz
	"$L2_DIR/mkinitramfs.sh" "$L2_INITRD" >/dev/null
}

# The setup case of a suite that boots L2 guests: nested KVM (kvm_amd or
# kvm_intel, then /dev/kvm), the L2 kernel and initramfs. Fails the case
# (ktap's fail) when one is missing; records the initramfs for later cases.
l2_setup()
{
	local m
	if grep -qw svm /proc/cpuinfo; then m=kvm_amd; else m=kvm_intel; fi
	# VHX_KVM_OPTS: module parameters for it, for experiments (e.g. vgif=0).
	# shellcheck disable=SC2086
	if ! modprobe $m ${VHX_KVM_OPTS:-}; then
		# 6.12-rt: "kvm: RT requires X86_FEATURE_CONSTANT_TSC", which
		# QEMU's TCG (the test VM's CPU) cannot offer (no invtsc).
		! dmesg | grep -q 'RT requires X86_FEATURE_CONSTANT_TSC' ||
			skip "KVM does not load on a PREEMPT_RT kernel without a constant TSC, and the test VM's TCG CPU has none (no invtsc)"
		fail "modprobe $m"
	fi
	wait_node /dev/kvm || fail "no /dev/kvm after modprobe $m: no nested virtualization"
	[ -s "$L2_VMLINUX" ] || fail "$L2_VMLINUX missing (selftests/vm/run.sh extracts it)"
	l2_prepare_initrd || fail "cannot build the L2 initramfs"
	[ -s "$L2_INITRD" ] || fail "no L2 initramfs"
	echo "$L2_INITRD" > "$L2_STATE/initrd"
	echo "L2: $L2_VMLINUX + $L2_INITRD, -m $L2_MEM, /dev/kvm via $m"
	qemu-system-x86_64 --version | head -n 1
	l2_kvm_keeper || fail "cannot hold a KVM VM open"
}

# Hold one KVM VM open (with one vCPU that never runs) until l2_kvm_keeper_stop.
# KVM flips the preempt-notifier static key, patching __schedule, whenever
# the number of VMs goes between 0 and 1. Under TCG that patch twice never
# finished in the 20 attach/kill cycles (both CPUs going round between
# __schedule+0x2ab and the int3 handler, seen through run.sh's monitor).
# With one VM always there, starting and killing QEMUs does not flip it.
# The VM also has one vCPU whose local APIC is never enabled: KVM's
# apic_sw_disabled key is on while any vCPU has its APIC software-disabled,
# so every L2 vCPU created (APIC off) and started (APIC on) flipped it and
# rewrote 11 sites in kvm.ko each way, about 19 times per qemu suite
# (make check-flaky's text-patch count). With a vCPU that stays off, the
# key stays on.
l2_kvm_keeper()
{
	local f=$L2_STATE/kvm-keeper.pid i
	[ -f "$f" ] && ! pid_gone "$(cat "$f")" && return 0
	$L2_PY -c 'import fcntl, os, signal
k = os.open("/dev/kvm", os.O_RDWR)
vm = fcntl.ioctl(k, 0xAE01, 0)		# KVM_CREATE_VM
fcntl.ioctl(vm, 0xAE60, 0)		# KVM_CREATE_IRQCHIP
vcpu = fcntl.ioctl(vm, 0xAE41, 0)	# KVM_CREATE_VCPU: an APIC that stays off
print("ready", vm, vcpu, flush=True)
signal.pause()' > "$L2_STATE/kvm-keeper.out" 2>&1 &
	echo $! > "$f"
	disown $! 2>/dev/null
	for i in $(seq 100); do grep -q '^ready' "$L2_STATE/kvm-keeper.out" && return 0; sleep 0.1; done
	cat "$L2_STATE/kvm-keeper.out"
	return 1
}

l2_kvm_keeper_stop()
{
	local f=$L2_STATE/kvm-keeper.pid
	[ -f "$f" ] || return 0
	kill "$(cat "$f")" 2>/dev/null
	rm -f "$f"
}

l2_pid()
{
	cat "$L2_STATE/$1/pid" 2>/dev/null
}

# Is process PID gone (or a zombie, which has closed its files)?
pid_gone()
{
	local st
	st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null) || return 0
	[ "${st%% *}" = Z ]
}

# l2_start NAME NODE [QUEUES [SMP]]: create tap vxt-NAME (multi_queue when
# QUEUES > 1) with $L2_HOST_IP, start QEMU in the background with vhostfd(s)
# on NODE. Does not wait for the guest: see l2_wait_ready.
# L2_VHOST=off (single queue only): QEMU's own userspace virtio-net on the
# tap, no vhost fd (NODE is ignored). L2_DEV_OPTS: more virtio-net-pci
# properties, e.g. "ioeventfd=off". L2_QEMU: the QEMU binary to run.
# L2_QMP=1: a QMP socket at $L2_STATE/NAME/qmp.sock. L2_EXTRA: more QEMU
# arguments (word-split), e.g. "-incoming unix:PATH" for a migration target.
# The L2 guest's CPU: the host's, without a PMU. Twice the test VM stopped
# for good in the 20 attach/kill cycles; caught once through run.sh's
# monitor, both CPUs went round between __schedule+0x2ab and the int3
# handler, i.e. a text patch of __schedule under TCG that never finished.
# The likely patcher: with a PMU, each L2 boot (its NMI watchdog) makes KVM
# create perf events in the test VM and each kill frees them, which flips
# perf's static key in __schedule. Without a PMU, KVM creates none.
L2_CPU="host,pmu=off"

# l2_agent_args DIR: QEMU's arguments for the agent's port: a virtio-serial
# port named vhx.agent on the FIFOs DIR/ctl.in and DIR/ctl.out (made here).
# QEMU also logs every CPU reset with the registers before it into
# DIR/qemu-resets.log: a guest that reboots without a word on its console
# (a triple fault) shows there. (The caller word-splits the output: DIR has
# no blanks.)
l2_agent_args()
{
	[ -p "$1/ctl.in" ] || mkfifo "$1/ctl.in" "$1/ctl.out" || return 1
	echo "-device virtio-serial-pci,id=vser0 -chardev pipe,id=ctl,path=$1/ctl" \
		"-device virtserialport,bus=vser0.0,chardev=ctl,name=vhx.agent" \
		"-d cpu_reset -D $1/qemu-resets.log"
}

l2_start()
{
	local name=$1 node=$2 queues=${3:-1} smp=${4:-1} d tap pid netdev dev
	local vhost=${L2_VHOST:-on}
	d=$L2_STATE/$name
	tap=vxt-$name
	rm -rf "$d" && mkdir -p "$d" || return 1
	# L2_OWN_TAP=0: the caller made the tap and will delete it.
	if [ "${L2_OWN_TAP:-1}" = 1 ]; then
		ip link del "$tap" 2>/dev/null
		if [ "$queues" -gt 1 ]; then
			ip tuntap add dev "$tap" mode tap multi_queue vnet_hdr || return 1
		else
			ip tuntap add dev "$tap" mode tap vnet_hdr || return 1
		fi
		ip addr add $L2_HOST_IP/24 dev "$tap" && ip link set "$tap" up || return 1
		echo "$tap" > "$d/tap"
	fi
	echo 0 > "$d/seq"
	dev=virtio-net-pci,netdev=n0,mac=$L2_MAC
	if [ "$queues" -gt 1 ]; then
		netdev=tap,id=n0,fds=@FDS@,vhost=on,vhostfds=@VHOSTFDS@
		dev=$dev,mq=on,vectors=$((2 * queues + 2))
	elif [ "$vhost" = on ]; then
		netdev=tap,id=n0,ifname=$tap,script=no,downscript=no,vhost=on,vhostfd=5
	else
		netdev=tap,id=n0,ifname=$tap,script=no,downscript=no,vhost=off
	fi
	[ -z "${L2_DEV_OPTS:-}" ] || dev=$dev,$L2_DEV_OPTS
	# shellcheck disable=SC2046
	set -- "${L2_QEMU:-qemu-system-x86_64}" -name "l2-$name,debug-threads=on" -accel kvm -cpu "$L2_CPU" -smp "$smp" -m "$L2_MEM" \
		-nodefaults -no-user-config -display none -vga none -monitor none \
		-kernel "$L2_VMLINUX" -initrd "$L2_INITRD" \
		-append "console=ttyS0 quiet loglevel=5 panic=-1 vhx.ip=$L2_GUEST_IP/24" \
		-serial "file:$d/console.log" $(l2_agent_args "$d") \
		-netdev "$netdev" -device "$dev"
	[ "${L2_QMP:-0}" = 0 ] || set -- "$@" -qmp "unix:$d/qmp.sock,server=on,wait=off"
	# shellcheck disable=SC2086
	[ -z "${L2_EXTRA:-}" ] || set -- "$@" $L2_EXTRA
	echo "$*" > "$d/cmdline"
	# The vhost fd is opened for QEMU alone: a copy in this shell would keep
	# the device alive after QEMU dies.
	if [ "$queues" -gt 1 ]; then
		$L2_PY "$L2_DIR/tapfds.py" "$tap" "$queues" "$node" "$@" \
			</dev/null >"$d/qemu.out" 2>"$d/qemu.err" &
	elif [ "$vhost" = on ]; then
		"$@" 5<>"$node" </dev/null >"$d/qemu.out" 2>"$d/qemu.err" &
	else
		"$@" </dev/null >"$d/qemu.out" 2>"$d/qemu.err" &
	fi
	pid=$!
	disown $pid 2>/dev/null
	echo $pid > "$d/pid"
	date +%s.%N > "$d/t_start"
}

# l2_read_until NAME ERE TIMEOUT: read the agent's channel until a line that
# matches ERE (anywhere in the line), or TIMEOUT seconds. Prints the lines
# before it, and the part of the matching line before the match (output that
# did not end in a newline); the match goes to $L2_LINE. Every line read is
# also appended to $d/agent.log, the host's record of the channel.
# The FIFOs are opened read-write so that the open cannot block when QEMU has
# died (or never started).
l2_read_until()
{
	local name=$1 re=$2 t=$3 d end line pid part='' pre
	d=$L2_STATE/$name
	pid=$(l2_pid "$name")
	end=$(($(date +%s) + t))
	L2_LINE=
	exec 8<>"$d/ctl.out" || return 1
	while :; do
		[ "$(date +%s)" -lt "$end" ] || { exec 8<&-; echo "timeout after ${t}s waiting for /$re/"; return 124; }
		# (no EOF on a FIFO opened read-write: look at QEMU every second)
		if IFS= read -r -t 1 line <&8; then
			line=$part$line
			part=
			printf '%s\n' "$line" >> "$d/agent.log"
			if [[ $line =~ $re ]]; then
				L2_LINE=${BASH_REMATCH[0]}
				pre=${line%%"$L2_LINE"*}
				[ -z "$pre" ] || printf '%s\n' "$pre"
				exec 8<&-
				return 0
			fi
			printf '%s\n' "$line"
		else
			part+=$line	# a timed-out read keeps what it got
			if [ -n "$pid" ] && pid_gone "$pid"; then
				exec 8<&-
				echo "QEMU (pid $pid) exited"
				return 1
			fi
		fi
	done
}

# vhost_worker_of PID: the worker vhost_net runs for owner PID, named
# vhost-PID: a kthread (6.1, and kthread mode) or, where vhost_net makes its
# workers tasks of the owner (6.12's default), a thread of PID. Its id on
# stdout; false if there is none.
vhost_worker_of()
{
	local t
	pgrep -x "vhost-$1" && return 0
	for t in /proc/"$1"/task/*; do
		[ "$(cat "$t/comm" 2>/dev/null)" = "vhost-$1" ] || continue
		basename "$t"
		return 0
	done
	return 1
}

# l2_silent_resets NAME [INCOMING]: how many times guest NAME's kernel
# started again after its first boot, with no panic, oops or BUG on its
# console: 0 if it printed one. A new boot shows as the agent's "serving on"
# once more, or as the kernel's printk clock going back. With INCOMING (a
# migration destination, whose guest came running), every boot counts.
l2_silent_resets()
{
	local c=$L2_STATE/$1/console.log first=1
	[ -z "${2:-}" ] || first=0
	[ -f "$c" ] || { echo 0; return 0; }
	if grep -qE 'Kernel panic|Oops|BUG:|general protection fault' "$c"; then
		echo 0
		return 0
	fi
	awk -v first=$first '/vhx-agent: serving on/ { agent++ }
	     match($0, /^\[ *[0-9]+\.[0-9]+\]/) {
		t = substr($0, RSTART + 1, RLENGTH - 2) + 0
		if (seen && t < last) back++
		last = t; seen = 1
	     }
	     END { a = agent > first ? agent - first : 0; print (a > back ? a : back) + 0 }' "$c"
}

# l2_wait_ready NAME [OLD_BOOT_ID]: wait for the agent's "@@ready ID@@" with an
# ID other than OLD_BOOT_ID; the boot id goes to $d/boot_id.
l2_wait_ready()
{
	local name=$1 old=${2:-none} d id
	d=$L2_STATE/$name
	while :; do
		l2_read_until "$name" '^@@ready ([-0-9a-f]+)@@' "$L2_BOOT_TIMEOUT" >/dev/null || {
			echo "L2 guest $name did not come up in ${L2_BOOT_TIMEOUT}s"
			l2_diag "$name"
			return 1
		}
		id=${L2_LINE#@@ready }
		id=${id%@@}
		[ "$id" != "$old" ] && break
	done
	echo "$id" > "$d/boot_id"
	date +%s.%N > "$d/t_ready"
}

# How long to wait for the agent's ack of a command (it acks before it runs
# anything): one line through the port and a fork in the guest, a second or
# two under nested TCG; a command is sent at most L2_ACK_TRIES times.
L2_ACK_TIMEOUT=${VHX_L2_ACK_TIMEOUT:-20}
L2_ACK_TRIES=3

# l2_line NAME COMMAND: the agent's line for COMMAND under a new sequence
# number of guest NAME ($d/seq).
l2_line()
{
	local d=$L2_STATE/$1 seq
	shift
	seq=$(($(cat "$d/seq") + 1))
	echo $seq > "$d/seq"
	printf '@@%s %s\n' "$seq" "$(printf '%s' "$*" | base64 -w0)"
}

# l2_write NAME TEXT: write TEXT to guest NAME's agent channel.
l2_write()
{
	exec 7<>"$L2_STATE/$1/ctl.in" || return 1
	printf '%s' "$2" >&7
	exec 7>&-
}

# l2_send NAME COMMAND: start COMMAND in the guest under a new sequence
# number and return once the agent has acked it (reboot -f, or a command
# l2_wait_done waits for later). Sends it again (same number: the agent runs
# a number once) when no ack comes. Fails (124) when none ever comes.
l2_send()
{
	local name=$1 d seq line rc
	shift
	d=$L2_STATE/$name
	line=$(l2_line "$name" "$@")
	seq=$(cat "$d/seq")
	for _ in $(seq $L2_ACK_TRIES); do
		l2_write "$name" "$line"$'\n' || return 1
		# (cases run with set -e: no bare failing command here)
		l2_read_until "$name" "^@@(ack|dup) $seq@@|^@@ready [-0-9a-f]+@@" "$L2_ACK_TIMEOUT" >&2 &&
			rc=0 || rc=$?
		[ $rc = 1 ] && return 1				# QEMU is gone
		[[ $L2_LINE =~ ^@@(ack|dup) ]] && return 0
		# No ack (or the agent started over first): the command has not
		# started, so sending it again cannot run it twice.
		echo "(the guest's agent did not ack command $seq in ${L2_ACK_TIMEOUT}s; sent again)" >&2
	done
	echo "command $seq was never acknowledged by the guest's agent ($L2_ACK_TRIES tries)" >&2
	l2_diag "$name" >&2
	return 124
}

# l2_wait_done NAME TIMEOUT: wait for the command of the last l2_send to end;
# its output on stdout, its status returned (124: not done in time).
l2_wait_done()
{
	local name=$1 t=$2 seq rc id
	seq=$(cat "$L2_STATE/$name/seq")
	l2_read_until "$name" "@@done $seq rc=([0-9]+)@@\$|^@@ready [-0-9a-f]+@@" "$t" && rc=0 || rc=$?
	if [ $rc = 0 ] && [[ $L2_LINE =~ ^@@done ]]; then
		rc=${L2_LINE#*rc=}
		return "${rc%@@}"
	fi
	id=${L2_LINE#@@ready }
	if [ $rc = 0 ] && [ "${id%@@}" != "$(cat "$L2_STATE/$name/boot_id" 2>/dev/null)" ]; then
		echo "the guest rebooted while command $seq ran (new boot id; not sent again)"
	elif [ $rc = 0 ]; then
		echo "the guest's agent started over while command $seq ran (not sent again)"
	else
		echo "command $seq started in the guest but was not done in ${t}s"
	fi
	l2_diag "$name"
	return 124
}

# l2_cmd NAME TIMEOUT COMMAND: run COMMAND in the guest; its output on stdout,
# its status returned. TIMEOUT counts from the ack.
l2_cmd()
{
	local name=$1 t=$2
	shift 2
	l2_send "$name" "$@" || return 124
	l2_wait_done "$name" "$t"
}

# l2_diag NAME: what each side saw last, for a failure: QEMU, the guest's
# console (the agent logs there too), the agent's channel, the test VM's
# kernel.
l2_diag()
{
	local d=$L2_STATE/$1 pid
	pid=$(l2_pid "$1")
	echo "--- guest $1: what each side saw last"
	if [ -z "$pid" ]; then echo "QEMU: not started or already stopped"
	elif pid_gone "$pid"; then echo "QEMU: pid $pid has exited"
	else echo "QEMU: pid $pid running, state $(sed 's/^.*) //' "/proc/$pid/stat" | cut -d' ' -f1)"
	fi
	[ ! -s "$d/qemu.err" ] || { echo "QEMU stderr:"; tail -n 10 "$d/qemu.err" | sed 's/^/  /'; }
	[ ! -s "$d/qemu-resets.log" ] || echo "QEMU: $(grep -c 'CPU Reset' "$d/qemu-resets.log") CPU resets logged ($d/qemu-resets.log)"
	echo "guest console (tail):"
	tail -n 15 "$d/console.log" 2>/dev/null | sed 's/^/  /'
	echo "agent channel, last lines read here:"
	tail -n 5 "$d/agent.log" 2>/dev/null | sed 's/^/  /'
	echo "test VM kernel (tail):"
	dmesg | tail -n 8 | sed 's/^/  /'
	echo "---"
}

# --- transfers ----------------------------------------------------------------

# l2_deadline BYTES: seconds to allow for BYTES one way: ten times what the
# slowest transfer of this run so far ($L2_STATE/rate, bytes/s) predicts,
# plus 60 s; before any measurement, 250 KB/s (the slowest seen on a loaded
# host with nested TCG).
l2_deadline()
{
	local rate
	rate=$(cat "$L2_STATE/rate" 2>/dev/null)
	[ -n "$rate" ] && [ "$rate" -gt 0 ] || rate=250000
	echo $((60 + 10 * $1 / rate))
}

# l2_note_rate BYTES SECS: remember the rate of a transfer when it is the
# slowest so far.
l2_note_rate()
{
	local r old
	r=$(awk -v b="$1" -v s="$2" 'BEGIN { if (s < 0.01) s = 0.01; printf "%d", b / s }')
	old=$(cat "$L2_STATE/rate" 2>/dev/null)
	[ -n "$old" ] && [ "$old" -le "$r" ] || echo "$r" > "$L2_STATE/rate"
}

# l2_xfer_ended PID OUT L1FILE WHAT: wait for the L1 end (PID, its output in
# L1FILE) of one direction of a transfer whose guest end printed OUT; when
# either end did not finish cleanly, say what each saw and fail.
l2_xfer_ended()
{
	local src
	wait "$1" && src=0 || src=$?
	[ $src = 0 ] && [[ $2 == *"nc rc=0"* ]] && return 0
	echo "$4 failed; L1 end: $(cat "$3")"
	echo "guest end: $(printf '%s' "$2" | tr '\n' ' ')"
	return 1
}

# l2_xfer NAME BYTES: BYTES from here to guest NAME (xfer.py send -> guest nc
# -l), then the same bytes back (guest nc -> xfer.py recv). The MD5s and byte
# counts of both ends must match. Both ends stop at the deadline and say how
# many bytes they had seen. The seconds of each direction go to
# $L2_STATE/NAME/xfer.secs ("in S" and "out S").
l2_xfer()
{
	local name=$1 bytes=$2 d s out sum1 sum2 n secs t
	d=$L2_STATE/$name
	t=$(l2_deadline "$bytes")
	: > "$d/xfer.secs"
	# in: L1 -> guest
	$L2_PY "$L2_DIR/xfer.py" send $L2_GUEST_IP 5001 "$bytes" "$t" >"$d/xfer-in" 2>&1 &
	s=$!
	out=$(l2_cmd "$name" $((t + 30)) "timeout $t nc -l -p 5001 > /tmp/rx; echo nc rc=\$?;
		md5sum /tmp/rx; wc -c < /tmp/rx") || true
	l2_xfer_ended $s "$out" "$d/xfer-in" "L1 -> guest" || return 1
	read -r _ sum1 _ _ _ secs < "$d/xfer-in"
	sum2=$(printf '%s\n' "$out" | awk '/\/tmp\/rx/ { print $1 }')
	n=$(printf '%s\n' "$out" | tail -n 1)
	echo "in:  sent md5 $sum1, guest got md5 $sum2, $n bytes, ${secs}s"
	[ "$sum1" = "$sum2" ] && [ "$n" = "$bytes" ] || { echo "mismatch L1 -> guest"; return 1; }
	echo "in $secs" >> "$d/xfer.secs"
	l2_note_rate "$bytes" "$secs"
	# out: guest -> L1, the same bytes
	rm -f "$d/ready"
	$L2_PY "$L2_DIR/xfer.py" recv 5002 "$d/ready" "$t" >"$d/xfer-out" 2>&1 &
	s=$!
	for _ in $(seq 100); do [ -e "$d/ready" ] && break; sleep 0.1; done
	[ -e "$d/ready" ] || { kill $s 2>/dev/null; echo "receiver did not start: $(cat "$d/xfer-out")"; return 1; }
	out=$(l2_cmd "$name" $((t + 30)) "timeout $t nc $L2_HOST_IP 5002 < /tmp/rx; echo nc rc=\$?; rm -f /tmp/rx") || true
	l2_xfer_ended $s "$out" "$d/xfer-out" "guest -> L1" || return 1
	read -r _ sum2 _ n _ secs < "$d/xfer-out"
	echo "out: guest sent md5 $sum1, L1 got md5 $sum2, $n bytes, ${secs}s"
	[ "$sum1" = "$sum2" ] && [ "$n" = "$bytes" ] || { echo "mismatch guest -> L1"; return 1; }
	echo "out $secs" >> "$d/xfer.secs"
	l2_note_rate "$bytes" "$secs"
}

# l2_ping NAME: three pings each way between here and guest NAME, all
# answered.
l2_ping()
{
	local name=$1 out
	out=$(busybox ping -c 3 -W 5 $L2_GUEST_IP 2>&1)
	printf '%s\n' "$out" | tail -n 2
	printf '%s\n' "$out" | grep -q '3 packets transmitted, 3 packets received' ||
		{ echo "ping $L2_GUEST_IP: lost replies"; return 1; }
	out=$(l2_cmd "$name" 40 "ping -c 3 -W 5 $L2_HOST_IP")
	printf '%s\n' "$out" | tail -n 2
	printf '%s\n' "$out" | grep -q '3 packets transmitted, 3 packets received' ||
		{ echo "guest ping $L2_HOST_IP: lost replies"; return 1; }
}

# l2_kill NAME [SIGNAL]: signal QEMU, wait (10 s) until it is gone, remove the tap.
l2_kill()
{
	local name=$1 sig=${2:-KILL} pid i tap
	pid=$(l2_pid "$name")
	tap=$(cat "$L2_STATE/$name/tap" 2>/dev/null)
	if [ -n "$pid" ]; then
		kill -s "$sig" "$pid" 2>/dev/null || true	# (cases run with set -e)
		for i in $(seq 100); do
			pid_gone "$pid" && break
			sleep 0.1
		done
		pid_gone "$pid" || { echo "QEMU $pid still alive"; return 1; }
		rm -f "$L2_STATE/$name/pid"
	fi
	[ -z "$tap" ] || ip link del "$tap" 2>/dev/null
	return 0
}

# Kill every instance still running (the suite's cleanup).
l2_kill_all()
{
	local p
	for p in "$L2_STATE"/*/pid; do
		[ -f "$p" ] || continue
		l2_kill "$(basename "$(dirname "$p")")" >/dev/null
	done
}

# QEMU's stderr must not mention a vhost failure (QEMU says "vhost-net
# requested but could not be initialized", "falling back on userspace
# virtio", "vhost ... failed", "Operation not supported" and the like).
l2_qemu_err_clean()
{
	local f=$L2_STATE/$1/qemu.err
	if grep -Eiq 'vhost|falling back|failed|error' "$f"; then
		echo "QEMU stderr:"
		sed 's/^/  /' "$f"
		return 1
	fi
	return 0
}

# --- vhostx's debugfs view -------------------------------------------------

# vhx_owned_features PID: the features of the device(s) owned by PID (empty: none).
vhx_owned_features()
{
	awk -v p="$1" '$1 == "dev" && $4 == p { print $6 }' $VHX_DEBUGFS
}

# vhx_vq_lines PID: one line per queue of every device owned by PID:
#   "DEV VQ rx|tx backend yes|no broken yes|no packets N bytes N kicks N irqs N log_pages N"
vhx_vq_lines()
{
	awk -v p="$1" '
	$1 == "dev" { dev = $2; mine = ($4 == p); next }
	!mine { next }
	$1 == "vq" {
		q = $2 " " $3
		for (i = 4; i < NF; i++) {
			if ($i == "backend") be = $(i + 1)
			if ($i == "broken") br = $(i + 1)
		}
		next
	}
	$1 == "kicks" {
		for (i = 1; i < NF; i += 2) c[$i] = $(i + 1)
		print dev, q, "backend", be, "broken", br, "packets", c["packets"], "bytes", c["bytes"], "kicks", c["kicks"], "irqs", c["irqs"], "log_pages", c["log_pages"] + 0
	}' $VHX_DEBUGFS
}

# vhx_sum PID DIR COUNTER: the sum of COUNTER over PID's queues of DIR (rx|tx).
vhx_sum()
{
	vhx_vq_lines "$1" | awk -v dir="$2" -v c="$3" '
		$3 == dir { for (i = 4; i < NF; i++) if ($i == c) s += $(i + 1) }
		END { print s + 0 }'
}

# vhx_dev_sums PID: per device of PID: "DEV rxpackets rxbytes txpackets txbytes".
vhx_dev_sums()
{
	vhx_vq_lines "$1" | awk '
		{ for (i = 4; i < NF; i++) { if ($i == "packets") p[$1, $3] = $(i + 1); if ($i == "bytes") b[$1, $3] = $(i + 1) }
		  d[$1] = 1 }
		END { for (x in d) print x, p[x, "rx"] + 0, b[x, "rx"] + 0, p[x, "tx"] + 0, b[x, "tx"] + 0 }' | sort -n
}

# A snapshot of the kmalloc caches, "NAME ACTIVE_OBJS" lines. Shrinking each
# cache first flushes the per-cpu slabs, so the counts are exact.
slab_snapshot()
{
	local c
	for c in /sys/kernel/slab/kmalloc-*/shrink; do
		echo 1 > "$c"
	done 2>/dev/null
	awk '$1 ~ /^kmalloc-/ { print $1, $2 }' /proc/slabinfo | sort
}

# --- guests without a NIC, driven over QMP (the attach suite) ---------------

# l2_start_qmp NAME [SMP [MACHINE]]: start QEMU like l2_start but with no NIC
# at all (-nic none) and a QMP socket at $L2_STATE/NAME/qmp.sock, for
# vhostxctl attach. MACHINE is pc (default) or q35; q35 gets one free
# pcie-root-port (rp1) for a hot-plugged device. $L2_APPEND is appended to
# the kernel command line. Does not wait for the guest: see l2_wait_ready.
l2_start_qmp()
{
	local name=$1 smp=${2:-1} machine=${3:-pc} d pid extra=
	d=$L2_STATE/$name
	rm -rf "$d" && mkdir -p "$d" || return 1
	echo 0 > "$d/seq"
	[ "$machine" != q35 ] || extra="-device pcie-root-port,id=rp1,chassis=1,bus=pcie.0"
	# shellcheck disable=SC2086,SC2046
	set -- qemu-system-x86_64 -name "l2-$name" -machine "$machine" -accel kvm -cpu "$L2_CPU" \
		-smp "$smp" -m "$L2_MEM" \
		-nodefaults -no-user-config -display none -vga none -monitor none -nic none \
		-kernel "$L2_VMLINUX" -initrd "$L2_INITRD" \
		-append "console=ttyS0 quiet loglevel=5 panic=-1 ${L2_APPEND:-}" \
		-serial "file:$d/console.log" $(l2_agent_args "$d") \
		-qmp "unix:$d/qmp.sock,server=on,wait=off" $extra
	echo "$*" > "$d/cmdline"
	"$@" </dev/null >"$d/qemu.out" 2>"$d/qemu.err" &
	pid=$!
	disown $pid 2>/dev/null
	echo $pid > "$d/pid"
	date +%s.%N > "$d/t_start"
}

# l2_qmp NAME COMMAND [ARGS-JSON]: one QMP command to guest NAME's QEMU; the
# return value (JSON, or the text of human-monitor-command) on stdout.
l2_qmp()
{
	local name=$1
	shift
	$L2_PY "$L2_DIR/qmp.py" "$L2_STATE/$name/qmp.sock" "$@"
}

# l2_pci_nics NAME: the network devices QEMU has (query-pci, PCI class
# 0x0200), one "qdev_id" per line, at any depth.
l2_pci_nics()
{
	l2_qmp "$1" query-pci | $L2_PY -c '
import json, sys
def walk(devs):
    for d in devs:
        if d.get("class_info", {}).get("class") == 0x200:
            print(d.get("qdev_id") or "(no id)")
        walk(d.get("pci_bridge", {}).get("devices", []))
for bus in json.load(sys.stdin):
    walk(bus.get("devices", []))'
}

# l2_net_clients NAME: every NIC and netdev QEMU has ("info network"), one
# name per line.
l2_net_clients()
{
	l2_qmp "$1" human-monitor-command '{"command-line": "info network"}' |
		tr -d '\r' | sed -n 's/^[ \\]*\([^: ]*\): index=.*/\1/p'
}
