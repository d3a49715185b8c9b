# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash disable=SC2034
# selftests/dpdk/lib.sh - drive DPDK's testpmd (virtio-user, vhost-kernel
# backend) against /dev/vhost-net or /dev/vhostx-net, and read the counters
# on both sides. Sourced by selftests/dpdk/suite.sh after ktap.sh and
# common.sh. Every case runs in a subshell, so state that a later case needs
# (the pps summary) lives in files under $DPDK_STATE.
#
#   tp_start NODE [TAP]    create the tap, start testpmd -i on NODE in the background
#   tp_cmd CMD [TIMEOUT]   type CMD at testpmd's prompt, wait for the next prompt
#   tp_save NAME, tp_use NAME   keep several testpmd instances apart: tp_save
#                          files the current one (TP_*) under NAME, tp_use
#                          makes NAME the current one again
#   tp_port_stats          "show port stats 0"; sets TP_RX TP_RX_MISSED TP_RX_ERR
#                          TP_RX_NOMBUF TP_TX TP_TX_ERR, and TP_RX_PPS TP_TX_PPS
#                          (the rates since the previous show, by testpmd's clock)
#   tp_quit                "quit", wait for testpmd to exit; fails if it does not
#   tp_no_leak NODE        the backend's device is gone and its module unused
#   tap_stat NAME          /sys/class/net/$TP_TAP/statistics/NAME
#   vhx_vq_stat VQ NAME    a counter of queue VQ (0 rx, 1 tx) of the one vhostx device

# Settings (VHX_* variables reach the guest through run.sh).
DPDK_TESTPMD=${VHX_TESTPMD:-dpdk-testpmd}
DPDK_TAPFRAMES=${VHX_TAPFRAMES:-${BUILD:-$TOP/build}/selftests/tapframes}
DPDK_TAP=${VHX_DPDK_TAP:-vxdpdk0}
DPDK_STATE=${DPDK_STATE:-/tmp/vhx-dpdk}
DPDK_SECONDS=${VHX_DPDK_SECONDS:-5}	# txonly run time
DPDK_FRAMES=${VHX_DPDK_FRAMES:-20000}	# frames injected by rxonly and io
DPDK_WINDOW=${VHX_DPDK_WINDOW:-256}	# frames in flight at most (tap queue: 1000)
DPDK_PPS_ROUNDS=${VHX_DPDK_PPS_ROUNDS:-3}	# the side-by-side summary
DPDK_PPS_SECONDS=${VHX_DPDK_PPS_SECONDS:-2}
DPDK_PPS_FRAMES=${VHX_DPDK_PPS_FRAMES:-10000}
DPDK_MEM_MB=${VHX_DPDK_MEM_MB:-128}	# testpmd -m (--no-huge); RSS ~250 MB
DPDK_MBUFS=${VHX_DPDK_MBUFS:-16384}
DPDK_STARTUP_TIMEOUT=${VHX_DPDK_STARTUP_TIMEOUT:-120}

dpdk_tag()
{
	case $1 in
	*vhostx*) echo vhostx ;;
	*) echo vhost_net ;;
	esac
}

# The module behind a node, for its reference count.
dpdk_module()
{
	case $1 in
	*vhostx*) echo vhostx ;;
	*) echo vhost_net ;;
	esac
}

# vhx_vq_stat VQ NAME: counter NAME of queue VQ of the (only) vhostx device.
vhx_vq_stat()
{
	awk -v vq="$1" -v name="$2" '
		$1 == "vq" { cur = $2; next }
		cur == vq && $1 == "kicks" {
			for (i = 1; i < NF; i += 2) if ($i == name) { print $(i + 1); exit }
		}' "$VHX_DEBUGFS"
}

tap_stat()
{
	cat "/sys/class/net/$TP_TAP/statistics/$1"
}

# A persistent tap for virtio-user to attach to, so that its counters are
# there before testpmd starts and after it exits. TUNSETIFF on an existing tap
# takes the attaching fd's IFF_VNET_HDR/IFF_NO_PI; only IFF_MULTI_QUEUE must
# match: a plain tap serves queues=1. IPv6 is off before the link
# comes up: no router solicitations or MLD reports reach testpmd.
tap_create()
{
	tap_delete "$1"
	ip tuntap add dev "$1" mode tap || fail "ip tuntap add $1"
	sysctl -qw "net.ipv6.conf.$1.disable_ipv6=1" 2>/dev/null || true
	ip link set "$1" up || fail "ip link set $1 up"
}

tap_delete()
{
	[ ! -e "/sys/class/net/$1" ] || ip tuntap del dev "$1" mode tap
}

# Polling is kept cheap on purpose: under TCG every fork costs milliseconds,
# and the polling shell shares the guest's CPUs with testpmd's main lcore and
# the backend's worker. One tail per poll; the rest are bash builtins.

# Is testpmd still running (a zombie has closed its files: not running)?
tp_alive()
{
	local st
	[ -n "${TP_PID:-}" ] || return 1
	{ read -r st < "/proc/$TP_PID/stat"; } 2>/dev/null || return 1
	st=${st##*) }
	[ "${st%% *}" != Z ]
}

# Sleep without a fork: a read that times out on a FIFO nobody writes.
tp_nap()
{
	if [ -n "${TP_NAPFD:-}" ]; then
		read -r -t "$1" -u "$TP_NAPFD" _ || true
	else
		sleep "$1"
	fi
}

# tp_wait_prompt OFFSET TIMEOUT: wait until testpmd's output beyond byte
# OFFSET ends with a prompt (the command's echo, its output, then the prompt).
tp_wait_prompt()
{
	local off=$1 timeout=$2 end out
	end=$((SECONDS + timeout))
	while :; do
		out=$(tail -c +"$((off + 1))" "$TP_DIR/out")
		[[ $out == *"testpmd> " ]] && return 0
		tp_alive || { tail -n 30 "$TP_DIR/out"; fail "testpmd exited"; }
		[ "$SECONDS" -lt "$end" ] || { tail -n 30 "$TP_DIR/out"; fail "no testpmd prompt in ${timeout}s"; }
		tp_nap 0.1
	done
}

# tp_start NODE [TAP]: testpmd in interactive mode, commands through a FIFO,
# output line-buffered (stdbuf) into $TP_DIR/out so that it can be read live.
# Sets TP_PID, TP_DIR, TP_FD, TP_TAP, TP_NODE.
tp_start()
{
	local node=$1 tag t0

	tag=$(dpdk_tag "$node")
	TP_NODE=$node
	TP_TAP=${2:-$DPDK_TAP}
	TP_DIR=$(mktemp -d "$DPDK_STATE/tp-$tag.XXXXXX")
	mkfifo "$TP_DIR/cmd" "$TP_DIR/nap"
	[ -n "${TP_NAPFD:-}" ] || exec {TP_NAPFD}<> "$TP_DIR/nap"
	trap tp_cleanup_all EXIT
	tap_create "$TP_TAP"
	echo "testpmd on $node, tap $TP_TAP"
	stdbuf -oL -eL "$DPDK_TESTPMD" -l 0,1 --no-huge -m "$DPDK_MEM_MB" --no-pci \
		--log-level=lib.eal:4 --file-prefix="vhx-$tag-$$-$TP_TAP" \
		--vdev="virtio_user0,path=$node,queues=1,queue_size=256,iface=$TP_TAP" \
		-- -i --total-num-mbufs="$DPDK_MBUFS" --port-topology=loop \
		< "$TP_DIR/cmd" > "$TP_DIR/out" 2>&1 &
	TP_PID=$!
	exec {TP_FD}> "$TP_DIR/cmd"
	t0=$(date +%s.%N)
	tp_wait_prompt 0 "$DPDK_STARTUP_TIMEOUT"
	echo "testpmd pid $TP_PID ready in $(printf '%.1f' "$(secs_between "$t0" "$(date +%s.%N)")") s"
	grep -q 'Port 0: ' "$TP_DIR/out" || fail "testpmd has no port 0"
	tp_pin_worker
	if [ "$tag" = vhostx ]; then
		grep -q "^dev [0-9]* owner $TP_PID " "$VHX_DEBUGFS" ||
			{ cat "$VHX_DEBUGFS"; fail "no vhostx device owned by testpmd ($TP_PID)"; }
	fi
}

# Placement, the same for both devices: testpmd's forwarding lcore polls on
# CPU 1 (-l 0,1: the main lcore, idle at the prompt, is on CPU 0); the
# backend's worker (vhost_net: "vhost-PID", vhostx: "vhostx-PID"; kthreads,
# or threads of testpmd where 6.12's vhost_net makes them tasks) and the
# injector go to CPU 0. Left to the scheduler, the worker
# sometimes shares CPU 1 with the polling lcore and then runs only when the
# lcore is preempted, which turns pps numbers into a placement lottery.
tp_pin_worker()
{
	local pid comm
	for pid in $(pgrep -x "vhost-$TP_PID|vhostx-$TP_PID") $(grep -lxE "vhostx?-$TP_PID" /proc/"$TP_PID"/task/*/comm 2>/dev/null |
		cut -d/ -f5); do
		comm=$(cat "/proc/$pid/comm")
		taskset -pc 0 "$pid" >/dev/null || fail "cannot pin $comm to CPU 0"
		echo "backend worker $comm ($pid) pinned to CPU 0"
	done
}

declare -A TPI
TPI_NAMES=

tp_save()
{
	TPI[$1]="$TP_PID $TP_DIR $TP_FD $TP_TAP $TP_NODE"
	case " $TPI_NAMES " in *" $1 "*) ;; *) TPI_NAMES="$TPI_NAMES $1" ;; esac
}

tp_use()
{
	read -r TP_PID TP_DIR TP_FD TP_TAP TP_NODE <<< "${TPI[$1]}"
}

tp_cmd()
{
	local off
	off=$(stat -c %s "$TP_DIR/out")
	echo "$1" >&"$TP_FD"
	tp_wait_prompt "$off" "${2:-30}"
}

# The last "NIC statistics for port 0" block, as shell variables.
tp_port_stats()
{
	local blk
	tp_cmd "show port stats 0"
	blk=$(awk '/NIC statistics for port 0/ { b = "" } { b = b $0 "\n" } END { printf "%s", b }' "$TP_DIR/out")
	TP_RX=$(printf '%s' "$blk" | sed -n 's/.*RX-packets: *\([0-9]*\).*/\1/p' | head -n 1)
	TP_RX_MISSED=$(printf '%s' "$blk" | sed -n 's/.*RX-missed: *\([0-9]*\).*/\1/p' | head -n 1)
	TP_RX_ERR=$(printf '%s' "$blk" | sed -n 's/.*RX-errors: *\([0-9]*\).*/\1/p' | head -n 1)
	TP_RX_NOMBUF=$(printf '%s' "$blk" | sed -n 's/.*RX-nombuf: *\([0-9]*\).*/\1/p' | head -n 1)
	TP_TX=$(printf '%s' "$blk" | sed -n 's/.*TX-packets: *\([0-9]*\).*/\1/p' | head -n 1)
	TP_TX_ERR=$(printf '%s' "$blk" | sed -n 's/.*TX-errors: *\([0-9]*\).*/\1/p' | head -n 1)
	# "Throughput (since last show)": testpmd's own clock between two shows.
	TP_RX_PPS=$(printf '%s' "$blk" | sed -n 's/.*Rx-pps: *\([0-9]*\).*/\1/p' | head -n 1)
	TP_TX_PPS=$(printf '%s' "$blk" | sed -n 's/.*Tx-pps: *\([0-9]*\).*/\1/p' | head -n 1)
	[ -n "$TP_RX$TP_TX" ] || { tail -n 20 "$TP_DIR/out"; fail "cannot parse port stats"; }
}

tp_quit()
{
	local rc
	echo "testpmd $(grep -E '^Vm(HWM|RSS):' "/proc/$TP_PID/status" | tr -s ' \t' ' ' | paste -sd, -)"
	echo quit >&"$TP_FD"
	exec {TP_FD}>&-
	for _ in $(seq 300); do
		tp_alive || break
		tp_nap 0.1
	done
	if tp_alive; then
		tail -n 20 "$TP_DIR/out"
		fail "testpmd did not exit 30 s after quit"
	fi
	rc=0
	wait "$TP_PID" || rc=$?
	[ "$rc" = 0 ] || { tail -n 20 "$TP_DIR/out"; fail "testpmd exited with status $rc"; }
	grep -q 'Bye' "$TP_DIR/out" || { tail -n 20 "$TP_DIR/out"; fail "testpmd did not say Bye"; }
	TP_PID='' TP_FD=''
	tap_delete "$TP_TAP"
	rm -rf "$TP_DIR"
	TP_TAP='' TP_DIR=
}

# On any exit from a case: stop testpmd if it still runs, remove the tap.
tp_cleanup()
{
	set +e
	[ -z "${TP_FD:-}" ] || exec {TP_FD}>&-
	if tp_alive; then
		kill -INT "$TP_PID" 2>/dev/null
		for _ in $(seq 50); do tp_alive || break; tp_nap 0.1; done
		tp_alive && kill -KILL "$TP_PID" 2>/dev/null
		wait "$TP_PID" 2>/dev/null
	fi
	[ -z "${TP_TAP:-}" ] || tap_delete "$TP_TAP" 2>/dev/null
	[ -z "${TP_DIR:-}" ] || rm -rf "$TP_DIR"
	TP_PID='' TP_FD='' TP_TAP='' TP_DIR=
}

tp_cleanup_all()
{
	local n
	tp_cleanup
	for n in $TPI_NAMES; do
		tp_use "$n"
		tp_cleanup
	done
}

# tp_no_leak NODE: once testpmd exited, the backend holds nothing: vhostx's
# device left debugfs, and the module's reference count is 0.
tp_no_leak()
{
	local node=$1 mod n
	mod=$(dpdk_module "$node")
	for _ in $(seq 20); do
		[ "$(cat "/sys/module/$mod/refcnt")" = 0 ] && { [ "$mod" != vhostx ] || [ "$(vhx_ndev)" = 0 ]; } && break
		sleep 0.1
	done
	n=$(cat "/sys/module/$mod/refcnt")
	[ "$n" = 0 ] || fail "$mod refcnt $n after testpmd exited"
	if [ "$mod" = vhostx ]; then
		[ "$(vhx_ndev)" = 0 ] || { cat "$VHX_DEBUGFS"; fail "vhostx device still in debugfs after testpmd exited"; }
	fi
	echo "no leak: $mod refcnt 0${mod:+$([ "$mod" = vhostx ] && echo ", no device in debugfs")}"
}

# CPU seconds (user + system) the current testpmd has used.
tp_cpu_seconds()
{
	awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.1f", ($12 + $13) / hz }' "/proc/$TP_PID/stat"
}

# Seconds between two "date +%s.%N" stamps.
secs_between()
{
	echo "$2 - $1" | bc -l
}
