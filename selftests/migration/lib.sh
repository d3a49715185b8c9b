# SPDX-License-Identifier: GPL-2.0
# selftests/migration/lib.sh - live-migrate an L2 guest between two QEMUs in
# the test VM (after ktap.sh and common.sh; brings in selftests/qemu/lib.sh).
# Used by the migration suite and by make bench (bench.sh). Helpers return
# non-zero with a message on stdout; the cases decide what fails.
#   mg_qemu NAME NODE QUEUES SMP [incoming]   a QEMU on a new bridge port
#   mg_boot NAME NODE QUEUES SMP               the guest's first home
#   mg_streams_start NAME N / mg_streams_end NAME SRC N
#                                              paced TCP streams across a migration
#   mg_migrate SRC DST [migrate.py options]    one migration, its numbers in
#                                              $L2_STATE/DST/migrate.out (mg_kv)

# shellcheck source=../qemu/lib.sh
. "$SELFTESTS/qemu/lib.sh"

MG_OK=$L2_STATE/setup-ok
MG_BR=vxbr0
MG_RATE=${VHX_MIG_RATE:-400000}	# bytes/s each stream, while a migration runs
MG_TX_MB=${VHX_MIG_TX_MB:-24}	# the guest's file for the outgoing stream
MG_T=900			# one deadline for a case's streams, seconds
MG_RESULTS=$L2_STATE/results
MG_DIR=$SELFTESTS/migration

# mg_step TEXT: progress into the test VM's kernel log, which its console
# shows live on the host (a case's own output appears when it ends).
mg_step()
{
	echo "vhx-migration: $*" > /dev/kmsg 2>/dev/null || true
}

# mg_tap NAME QUEUES: tap vxt-NAME, a port of the bridge.
mg_tap()
{
	local tap=vxt-$1
	ip link del "$tap" 2>/dev/null || true
	if [ "$2" -gt 1 ]; then
		ip tuntap add dev "$tap" mode tap multi_queue vnet_hdr || return 1
	else
		ip tuntap add dev "$tap" mode tap vnet_hdr || return 1
	fi
	ip link set "$tap" master $MG_BR up
}

# mg_qemu NAME NODE QUEUES SMP [INCOMING]: start QEMU (with QMP) on a new
# tap of the bridge, its vhost fds on NODE; with INCOMING, as a migration
# destination listening on unix:$L2_STATE/NAME/mig.sock. $MG_QEMU_EXTRA:
# more QEMU arguments (reset-stress.sh's -action).
mg_qemu()
{
	local name=$1 node=$2 queues=$3 smp=$4 extra=
	L2_INITRD=$(cat "$L2_STATE/initrd")
	mg_tap "$name" "$queues" || { echo "tap vxt-$name"; return 1; }
	[ -z "${5:-}" ] || extra="-incoming unix:$L2_STATE/$name/mig.sock"
	L2_OWN_TAP=0 L2_QMP=1 L2_EXTRA="$extra ${MG_QEMU_EXTRA:-}" l2_start "$name" "$node" "$queues" "$smp" ||
		{ echo "cannot start QEMU $name"; return 1; }
	echo "vxt-$name" > "$L2_STATE/$name/tap"
}

# mg_boot NAME NODE QUEUES SMP: the guest's first home; boots it.
mg_boot()
{
	local name=$1 out
	mg_qemu "$@" || return 1
	l2_wait_ready "$name" || return 1
	out=$(l2_cmd "$name" 20 'for i in $(seq 100); do [ "$(cat /sys/class/net/eth0/operstate)" = up ] && break; sleep 0.1; done;
		cat /sys/class/net/eth0/operstate') || { echo "guest: $out"; return 1; }
	[ "$out" = up ] || { echo "guest eth0 is $out"; return 1; }
	if [ "$3" -gt 1 ]; then
		l2_cmd "$name" 20 "ethtool -L eth0 combined $3" >/dev/null || { echo "ethtool -L"; return 1; }
	fi
	echo "guest up on $name ($2, $3 queue pair(s)), QEMU pid $(l2_pid "$name")"
}

# mg_streams_start NAME N: N streams each way between here and the guest on
# NAME, paced at $MG_RATE until $L2_STATE/NAME/stop exists. Stream i uses
# ports 51i1 (in) and 51i2 (out) and, with N > 1, the guest's vCPU i - 1.
mg_streams_start()
{
	local name=$1 n=$2 d i cmd='' cpu out
	d=$L2_STATE/$name
	rm -f "$d/stop" "$d"/ready* "$d"/s-* "$d"/txsum
	out=$(l2_cmd "$name" 120 "for i in \$(seq $n); do dd if=/dev/urandom of=/tmp/tx\$i bs=1M count=$MG_TX_MB 2>/dev/null; done;
		md5sum /tmp/tx*") || { echo "guest: $out"; return 1; }
	printf '%s\n' "$out" > "$d/txsum"
	for i in $(seq "$n"); do
		$L2_PY "$L2_DIR/xfer.py" recv "51${i}2" "$d/ready$i" $MG_T --rate $MG_RATE --until "$d/stop" \
			> "$d/s-out$i" 2>&1 &
		echo $! >> "$d/s-pids"
		$L2_PY "$L2_DIR/xfer.py" send $L2_GUEST_IP "51${i}1" 0 $MG_T --rate $MG_RATE --until "$d/stop" \
			> "$d/s-in$i" 2>&1 &
		echo $! >> "$d/s-pids"
		# With more streams than one, stream i on the guest's vCPU i - 1
		# (modulo the vCPUs it has).
		cpu=
		[ "$n" = 1 ] || cpu="taskset \$((1 << ($((i - 1)) % \$(grep -c ^processor /proc/cpuinfo))))"
		cmd+="($cpu timeout $MG_T nc -l -p 51${i}1 | md5sum > /tmp/rxsum$i) &
			($cpu timeout $MG_T nc $L2_HOST_IP 51${i}2 < /tmp/tx$i; echo tx$i rc=\$?) & "
	done
	for _ in $(seq 100); do
		[ "$(ls "$d"/ready* 2>/dev/null | wc -l)" = "$n" ] && break
		sleep 0.1
	done
	mg_step "$name: $n stream(s) each way"
	l2_send "$name" "$cmd wait; for i in \$(seq $n); do echo rx\$i \$(cat /tmp/rxsum\$i); done" >/dev/null ||
		{ echo "the guest did not take the stream command"; return 1; }
	# Both directions have started before anything else happens.
	sleep 3
}

# mg_streams_end NAME SRC N: stop the streams started on SRC (the guest now
# runs on NAME), wait for both ends, compare the checksums and byte counts.
mg_streams_end()
{
	local name=$1 s=$L2_STATE/$2 n=$3 out i ok=0 sum gsum got
	touch "$s/stop"
	mg_step "$name: stopping the streams"
	# What is left of the guest's file goes at full speed: minutes at most.
	out=$(l2_wait_done "$name" 300) || {
		echo "guest: $out"
		ok=1
		mg_streams_kill "$2"	# the L1 ends would wait for a peer that is gone
	}
	mg_step "$name: the guest's ends are done: $(printf '%s' "$out" | tr '\n' ' ')"
	# The L1 ends finish moments after the guest's: its last bytes and FINs.
	for _ in $(seq 120); do
		mg_alive "$s" || break
		sleep 0.5
	done
	if mg_alive "$s"; then
		echo "the L1 ends of the streams did not finish 60 s after the guest's:"
		head -n 3 "$s"/s-in* "$s"/s-out* 2>/dev/null | sed 's/^/  /'
		vhx_devices | sed 's/^/  /'
		mg_streams_kill "$2"
		ok=1
	fi
	for p in $(cat "$s/s-pids"); do wait "$p" || true; done
	for i in $(seq "$n"); do
		read -r _ sum _ got _ < "$s/s-in$i" || true
		gsum=$(printf '%s\n' "$out" | awk -v k="rx$i" '$1 == k { print $2 }')
		echo "stream $i in:  sent $got bytes md5 $sum, the guest got md5 $gsum ($(sed 's/.*secs/secs/' "$s/s-in$i"))"
		[ -n "$sum" ] && [ "$sum" = "$gsum" ] || { echo "  MISMATCH: $(cat "$s/s-in$i")"; ok=1; }
		read -r _ sum _ got _ < "$s/s-out$i" || true
		gsum=$(awk -v f="/tmp/tx$i" '$2 == f { print $1 }' "$s/txsum")
		echo "stream $i out: got $got bytes md5 $sum, the guest sent md5 $gsum"
		[ -n "$sum" ] && [ "$sum" = "$gsum" ] && [ "$got" = $((MG_TX_MB << 20)) ] ||
			{ echo "  MISMATCH: $(cat "$s/s-out$i")"; ok=1; }
		printf '%s\n' "$out" | grep -q "^tx$i rc=0" || { echo "  guest's sender $i: $(printf '%s\n' "$out" | grep "^tx$i")"; ok=1; }
	done
	return $ok
}

# mg_alive DIR: is one of the L1 stream processes in DIR/s-pids running?
mg_alive()
{
	local p
	for p in $(cat "$1/s-pids"); do
		kill -0 "$p" 2>/dev/null && return 0
	done
	return 1
}

# mg_streams_kill SRC: stop the L1 ends of SRC's streams at once (a failed
# case must not leave them running to their deadline).
mg_streams_kill()
{
	local s=$L2_STATE/$1
	touch "$s/stop"
	[ -f "$s/s-pids" ] || return 0
	# shellcheck disable=SC2046
	kill $(cat "$s/s-pids") 2>/dev/null || true
}

# mg_logged PID: the pages vhostx devices owned by PID marked in the dirty
# log, "TOTAL (rx R, tx T)"; "n/a" when PID owns none (vhost_net).
mg_logged()
{
	local rx tx
	[ -n "$(vhx_owned_features "$1")" ] || { echo "n/a (vhost_net counts nothing)"; return 0; }
	rx=$(vhx_sum "$1" rx log_pages)
	tx=$(vhx_sum "$1" tx log_pages)
	echo "$((rx + tx)) (rx $rx, tx $tx)"
}

# mg_kv FILE KEY: a value from migrate.py's output.
mg_kv()
{
	sed -n "s/^$2=//p" "$1"
}

# mg_serves NAME NODE NDEV: QEMU NAME's NIC runs on NODE (NDEV devices).
mg_serves()
{
	local pid
	pid=$(l2_pid "$1")
	if [ "$2" = $VHX_NODE ]; then
		n=$(awk -v p="$pid" '$1 == "dev" && $4 == p' $VHX_DEBUGFS | wc -l)
		[ "$n" = "$3" ] || { echo "$n vhostx devices owned by $1 ($pid), want $3"; return 1; }
		vhx_vq_lines "$pid" | awk '$5 != "yes" || $7 != "no" { bad = 1 } END { exit bad }' ||
			{ echo "queues of $1:"; vhx_vq_lines "$pid"; return 1; }
	else
		vhost_worker_of "$pid" >/dev/null || { echo "no vhost-$pid worker: vhost_net not in use by $1"; return 1; }
	fi
}

# mg_ndev_is N: wait up to 5 s until exactly N vhostx devices are open.
mg_ndev_is()
{
	for _ in $(seq 50); do
		[ "$(vhx_ndev)" = "$1" ] && return 0
		sleep 0.1
	done
	echo "$(vhx_ndev) vhostx devices open, want $1:"
	vhx_devices
	return 1
}

# mg_same_boot NAME: the guest on NAME still runs the boot it started with
# (after VHX_MIG_SETTLE seconds, default 0): a migration that ends in a
# reboot is a failed one.
mg_same_boot()
{
	local id
	sleep "${VHX_MIG_SETTLE:-0}"
	id=$(l2_cmd "$1" 20 'cat /proc/sys/kernel/random/boot_id') || { echo "guest: $id"; return 1; }
	[ "$id" = "$(cat "$L2_STATE/$1/boot_id")" ] || { echo "boot id $id, was $(cat "$L2_STATE/$1/boot_id")"; l2_diag "$1"; return 1; }
	echo "the guest runs the same boot ($id)"
}

# mg_bridge: the bridge both QEMUs' taps join, with $L2_HOST_IP.
mg_bridge()
{
	ip link del $MG_BR 2>/dev/null || true
	ip link add $MG_BR type bridge && ip addr add $L2_HOST_IP/24 dev $MG_BR &&
		ip link set $MG_BR up
}

# mg_migrate SRC DST [OPTIONS]: migrate.py from SRC's QEMU to DST's (started
# with mg_qemu ... incoming); its key=value output in $L2_STATE/DST/migrate.out.
mg_migrate()
{
	local src=$1 dst=$2
	shift 2
	$L2_PY "$MG_DIR/migrate.py" "$@" "$L2_STATE/$src/qmp.sock" "$L2_STATE/$dst/qmp.sock" \
		"unix:$L2_STATE/$dst/mig.sock" $L2_GUEST_IP > "$L2_STATE/$dst/migrate.out" 2>&1
}

# mg_cleanup: every QEMU, the taps and the bridge gone.
mg_cleanup()
{
	local t
	l2_kill_all
	for t in /sys/class/net/vxt-*; do
		[ -e "$t" ] && ip link del "$(basename "$t")"
	done
	ip link del $MG_BR 2>/dev/null || true
}
