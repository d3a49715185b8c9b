# SPDX-License-Identifier: GPL-2.0
# selftests/migration: live migration of a QEMU/KVM L2 guest whose NIC is
# served by vhostx (dirty logging: VHOST_F_LOG_ALL, VHOST_SET_LOG_BASE), and
# between vhost_net and vhostx both ways. Source and destination QEMU run in
# the test VM side by side, the destination with -incoming unix:PATH, each on
# its own tap; both taps are ports of one bridge that holds $L2_HOST_IP, so
# the guest keeps its address and peers wherever it runs.
#
# While each migration runs, TCP streams flow both ways through the NIC at a
# steady pace (xfer.py --rate): into the guest, whose RX buffers the device
# writes (every page of them must reach the destination: a page written
# after it was copied and not logged arrives stale and changes the MD5), and
# out of it, whose used ring the device writes. The MD5s of both are
# compared at the end, and ping runs every 10 ms throughout: the longest gap
# is the downtime the guest's peers saw.
#
# One guest travels: vhostx -> vhostx -> vhost_net -> vhostx, then a
# migration that is cancelled halfway (logging off again, the guest runs on
# where it was); then a 2-queue-pair guest migrates vhostx -> vhostx.
# Sourced by run_suite.sh; see Documentation/qemu.md, "Live migration".

# shellcheck source=../qemu/lib.sh
. "$SELFTESTS/qemu/lib.sh"

MG_OK=$L2_STATE/setup-ok
MG_BR=vxbr0
MG_RATE=${VHX_MIG_RATE:-400000}	# bytes/s each stream, while a migration runs
MG_TX_MB=${VHX_MIG_TX_MB:-24}	# the guest's file for the outgoing stream
MG_T=900			# one deadline for a case's streams, seconds
MG_RESULTS=$L2_STATE/results
MG_DIR=$SELFTESTS/migration

rm -rf "$L2_STATE"
mkdir -p "$L2_STATE"

mg_need_setup()
{
	[ -f "$MG_OK" ] || skip "no nested KVM, no L2 image or no bridge (see the setup case)"
}

# The guest must be running on instance $1 (an earlier case moved it there).
mg_need()
{
	mg_need_setup
	[ -n "$(l2_pid "$1")" ] && ! pid_gone "$(l2_pid "$1")" ||
		skip "the guest is not running on '$1' (an earlier case failed)"
}

mg_setup()
{
	l2_setup
	modprobe -a tun tap bridge || fail "modprobe tun tap bridge"
	modprobe vhost_net && wait_node /dev/vhost-net || fail "modprobe vhost_net"
	vhx_load && wait_node $VHX_NODE || fail "insmod vhostx"
	ip link del $MG_BR 2>/dev/null
	ip link add $MG_BR type bridge && ip addr add $L2_HOST_IP/24 dev $MG_BR &&
		ip link set $MG_BR up || fail "bridge $MG_BR"
	touch "$MG_OK"
}

# mg_tap NAME QUEUES: tap vxt-NAME, a port of the bridge.
mg_tap()
{
	local tap=vxt-$1
	ip link del "$tap" 2>/dev/null
	if [ "$2" -gt 1 ]; then
		ip tuntap add dev "$tap" mode tap multi_queue vnet_hdr || return 1
	else
		ip tuntap add dev "$tap" mode tap vnet_hdr || return 1
	fi
	ip link set "$tap" master $MG_BR up
}

# mg_qemu NAME NODE QUEUES SMP [INCOMING]: start QEMU (with QMP) on a new
# tap of the bridge, its vhost fds on NODE; with INCOMING, as a migration
# destination listening on unix:$L2_STATE/NAME/mig.sock.
mg_qemu()
{
	local name=$1 node=$2 queues=$3 smp=$4 extra=
	L2_INITRD=$(cat "$L2_STATE/initrd")
	mg_tap "$name" "$queues" || { echo "tap vxt-$name"; return 1; }
	[ -z "${5:-}" ] || extra="-incoming unix:$L2_STATE/$name/mig.sock"
	L2_OWN_TAP=0 L2_QMP=1 L2_EXTRA=$extra l2_start "$name" "$node" "$queues" "$smp" ||
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
		cpu=
		[ "$n" = 1 ] || cpu="taskset $((1 << (i - 1)))"
		cmd+="($cpu timeout $MG_T nc -l -p 51${i}1 | md5sum > /tmp/rxsum$i) &
			($cpu timeout $MG_T nc $L2_HOST_IP 51${i}2 < /tmp/tx$i; echo tx$i rc=\$?) & "
	done
	for _ in $(seq 100); do
		[ "$(ls "$d"/ready* 2>/dev/null | wc -l)" = "$n" ] && break
		sleep 0.1
	done
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
	out=$(l2_wait_done "$name" $MG_T) || { echo "guest: $out"; ok=1; }
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

# mg_streams_kill SRC: stop the L1 ends of SRC's streams at once (a failed
# case must not leave them running to their deadline).
mg_streams_kill()
{
	local s=$L2_STATE/$1
	touch "$s/stop"
	[ -f "$s/s-pids" ] || return 0
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
		pgrep -x "vhost-$pid" >/dev/null || { echo "no vhost-$pid worker: vhost_net not in use by $1"; return 1; }
	fi
}

# mg_case SRC SRCNODE DST DSTNODE QUEUES SMP: migrate the guest from SRC to a
# new QEMU DST with streams running; checks and reports. SRC must be up
# (booted by the caller or the destination of the previous case).
mg_case()
{
	local src=$1 snode=$2 dst=$3 dnode=$4 q=$5 smp=$6 o logged rc
	mg_need "$src"
	mg_qemu "$dst" "$dnode" "$q" "$smp" incoming || fail "destination QEMU"
	mg_streams_start "$src" "$q" || { mg_streams_kill "$src"; fail "streams"; }
	o=$L2_STATE/$dst/migrate.out
	$L2_PY "$MG_DIR/migrate.py" "$L2_STATE/$src/qmp.sock" "$L2_STATE/$dst/qmp.sock" \
		"unix:$L2_STATE/$dst/mig.sock" $L2_GUEST_IP > "$o" 2>&1 && rc=0 || rc=$?
	sed 's/^/  /' "$o"
	logged=$(mg_logged "$(l2_pid "$src")")
	[ $rc = 0 ] || { l2_diag "$dst"; mg_streams_kill "$src"; fail "migration $src -> $dst: $(mg_kv "$o" status)"; }
	# The guest and its agent run on DST now; its commands are numbered on.
	cp "$L2_STATE/$src/seq" "$L2_STATE/$src/boot_id" "$L2_STATE/$dst/"
	mg_streams_end "$dst" "$src" "$q" || { mg_streams_kill "$src"; fail "the streams across the migration"; }
	mg_serves "$dst" "$dnode" "$q" || fail "destination NIC"
	l2_qemu_err_clean "$dst" || fail "destination QEMU reported a vhost problem"
	qm_ping_both "$dst" || fail "ping after the migration"
	echo "$src ($snode) -> $dst ($dnode): migration $(mg_kv "$o" secs) s, QEMU downtime $(mg_kv "$o" downtime_ms) ms," \
		"guest-visible gap $(mg_kv "$o" gap_ms) ms, RAM $(($(mg_kv "$o" ram_transferred) >> 20)) MiB," \
		"pages the source device logged: $logged"
	echo "$(basename "$snode")->$(basename "$dnode") q$q $(mg_kv "$o" secs) $(mg_kv "$o" downtime_ms) $(mg_kv "$o" gap_ms) ${logged%% *}" \
		>> "$MG_RESULTS"
	l2_kill "$src" >/dev/null || fail "source QEMU did not exit"
	mg_ndev_is "$([ "$dnode" = $VHX_NODE ] && echo "$q" || echo 0)" ||
		fail "the source's vhostx devices were not freed"
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

# Three pings each way through the bridge.
qm_ping_both()
{
	local name=$1 out
	out=$(busybox ping -c 3 -W 5 $L2_GUEST_IP 2>&1)
	printf '%s\n' "$out" | grep -q '3 packets transmitted, 3 packets received' ||
		{ echo "ping $L2_GUEST_IP: $out"; return 1; }
	out=$(l2_cmd "$name" 40 "ping -c 3 -W 5 $L2_HOST_IP")
	printf '%s\n' "$out" | grep -q '3 packets transmitted, 3 packets received' ||
		{ echo "guest ping $L2_HOST_IP: $out"; return 1; }
	echo "ping both ways: 3/3"
}

mg_first()
{
	mg_need_setup
	mg_boot "$@" || fail "boot"
	qm_ping_both "$1" || fail "ping"
}

# A migration cancelled halfway: with the bandwidth held low it cannot
# finish, and 5 s after it started QEMU cancels it. The guest runs on at the
# source, whose device logs no more: logging off on both queues, and the
# log counters stand still while more traffic flows.
mg_cancel()
{
	local src=$1 dst=$2 o pid a b rc f
	mg_need "$src"
	pid=$(l2_pid "$src")
	mg_qemu "$dst" $VHX_NODE 1 1 incoming || fail "destination QEMU"
	mg_streams_start "$src" 1 || { mg_streams_kill "$src"; fail "streams"; }
	o=$L2_STATE/$dst/migrate.out
	$L2_PY "$MG_DIR/migrate.py" --cancel-after 5 --bandwidth 4000000 "$L2_STATE/$src/qmp.sock" \
		"$L2_STATE/$dst/qmp.sock" "unix:$L2_STATE/$dst/mig.sock" $L2_GUEST_IP > "$o" 2>&1 && rc=0 || rc=$?
	sed 's/^/  /' "$o"
	[ $rc = 0 ] || { mg_streams_kill "$src"; fail "migration not cancelled as asked: $(mg_kv "$o" status)"; }
	a=$(mg_logged "$pid")
	echo "pages logged before the cancel: $a"
	[ "${a%% *}" -gt 0 ] || { mg_streams_kill "$src"; fail "the device logged nothing while the migration ran"; }
	mg_streams_end "$src" "$src" 1 || { mg_streams_kill "$src"; fail "the streams across the cancelled migration"; }
	awk -v p="$pid" '$1 == "dev" && $4 == p { print "  device", $2, "features", $6 }' $VHX_DEBUGFS
	f=$(vhx_owned_features "$pid")
	[ $((f & (1 << 26))) = 0 ] || fail "VHOST_F_LOG_ALL still acked after the cancel ($f)"
	! grep -A0 '^  vq' $VHX_DEBUGFS | grep -q 'log_used yes' || fail "a used ring is still logged"
	a=$(mg_logged "$pid")
	l2_xfer "$src" $((2 << 20)) >/dev/null || fail "transfer after the cancel"
	b=$(mg_logged "$pid")
	echo "pages logged around a 2 MiB transfer after the cancel: $a -> $b"
	[ "$a" = "$b" ] || fail "the device still logs after the cancel"
	mg_serves "$src" $VHX_NODE 1 || fail "source NIC"
	l2_kill "$dst" >/dev/null || true
	echo "cancel $(mg_kv "$o" secs) - - ${a%% *}" >> "$MG_RESULTS"
}

mg_unload()
{
	vhx_ndev_zero || fail "devices left"
	vhx_objects_zero 10 || fail "objects left"
	vhx_unload || fail "rmmod vhostx"
	modprobe -r vhost_net 2>/dev/null || true
}

ktap_case "migration: setup: nested KVM, L2 image, bridge, vhostx and vhost_net" mg_setup
ktap_case "migration: a guest boots on vhostx" mg_first a $VHX_NODE 1 1
ktap_case "migration: vhostx -> vhostx with TCP streams both ways, MD5s match" \
	mg_case a $VHX_NODE b $VHX_NODE 1 1
ktap_case "migration: vhostx -> vhost_net with TCP streams both ways, MD5s match" \
	mg_case b $VHX_NODE c /dev/vhost-net 1 1
ktap_case "migration: vhost_net -> vhostx with TCP streams both ways, MD5s match" \
	mg_case c /dev/vhost-net d $VHX_NODE 1 1
ktap_case "migration: vhostx, cancelled halfway: logging off, the guest runs on" mg_cancel d e
l2_kill_all
ktap_case "migration: a 2-queue-pair, 2-vCPU guest boots on vhostx" mg_first m $VHX_NODE 2 2
ktap_case "migration: multiqueue vhostx -> vhostx, two streams each way, MD5s match" \
	mg_case m $VHX_NODE n $VHX_NODE 2 2

if [ -s "$MG_RESULTS" ]; then
	ktap_diag "migrations (informational): case, seconds, QEMU downtime ms, guest-visible gap ms, pages logged"
	while read -r line; do ktap_diag "  $line"; done < "$MG_RESULTS"
fi
l2_kill_all
l2_kvm_keeper_stop
for t in /sys/class/net/vxt-*; do
	[ -e "$t" ] && ip link del "$(basename "$t")"
done
ip link del $MG_BR 2>/dev/null
ktap_case "migration: every device freed, vhostx unloads" mg_unload
