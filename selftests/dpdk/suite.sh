# SPDX-License-Identifier: GPL-2.0
# selftests/dpdk: a real client. DPDK's testpmd drives the backend through
# virtio-user (vhost-kernel mode: it opens the node given as path= and a tap
# given as iface=, and issues the /dev/vhost-net ioctls itself), first on
# /dev/vhost-net (the oracle), then on /dev/vhostx-net, in the same boot.
# Sourced by run_suite.sh. Needs dpdk-testpmd (Debian: dpdk, dpdk-dev) and
# the frame injector, built on the host:
#   make -C selftests/dpdk        (-> build/selftests/tapframes)
# testpmd runs with --no-huge -m 128 (RSS about 250 MB; two at once in the
# summary): the default VM_MEM=2G is enough.
#
# Per device:
#   txonly  testpmd sends 64-byte frames for $DPDK_SECONDS s; every frame it
#           put on its TX ring reaches the tap:
#           testpmd TX-packets == tap rx_packets + tap rx_dropped (+ vhostx's
#           tx-queue drops), and for vhostx also == tx packets + drops.
#   rxonly  $DPDK_FRAMES numbered frames injected into the tap from the host
#           (AF_PACKET) all reach testpmd: RX-packets == N exactly.
#   io      the same frames, forwarded back by testpmd (io mode, port
#           looped to itself), all come back into the tap exactly once and
#           intact.
# After each case testpmd has exited cleanly, the module's refcount is 0 and
# (vhostx) its device is gone from debugfs. Then a side-by-side pps summary
# (informational; the test host is TCG-emulated) and rmmod vhostx.
# Leaves vhostx unloaded.

# shellcheck source=lib.sh
. "$SELFTESTS/dpdk/lib.sh"

rm -rf "$DPDK_STATE"
mkdir -p "$DPDK_STATE"
DPDK_SKIP=

dpdk_probe()
{
	command -v "$DPDK_TESTPMD" >/dev/null || { DPDK_SKIP="$DPDK_TESTPMD not installed (Debian: dpdk-dev)"; return; }
	[ "$(nproc)" -ge 2 ] || { DPDK_SKIP="testpmd needs 2 CPUs (VM_SMP>=2)"; return; }
	local avail
	avail=$(awk '/^MemAvailable:/ { print int($2 / 1024) }' /proc/meminfo)
	# Two testpmd at once in the summary, each about DPDK_MEM_MB + 120 MB.
	[ "$avail" -ge $((DPDK_MEM_MB * 2 + 512)) ] ||
		DPDK_SKIP="only ${avail} MB available; the suite needs $((DPDK_MEM_MB * 2 + 512)) MB"
}

dpdk_prereq()
{
	[ -z "$DPDK_SKIP" ] || skip "$DPDK_SKIP"
	[ -x "$DPDK_TAPFRAMES" ] || fail "$DPDK_TAPFRAMES missing: run 'make -C selftests/dpdk' on the host"
	echo "$(command -v "$DPDK_TESTPMD"), DPDK $(dpkg-query -W -f='${Version}' dpdk 2>/dev/null || echo '?')"
	echo "memory available: $(awk '/^MemAvailable:/ { print int($2 / 1024) }' /proc/meminfo) MB, $(nproc) CPUs"
}

dpdk_vhost_net_setup()
{
	[ -z "$DPDK_SKIP" ] || skip "$DPDK_SKIP"
	modprobe -a tun tap vhost_net || fail "modprobe tun tap vhost_net"
	wait_node /dev/vhost-net || fail "/dev/vhost-net did not appear"
}

dpdk_vhostx_setup()
{
	[ -z "$DPDK_SKIP" ] || skip "$DPDK_SKIP"
	[ -f "$VHX_KO" ] || fail "$VHX_KO not built"
	vhx_load || fail "insmod $VHX_KO"
	wait_node "$VHX_NODE" || fail "$VHX_NODE did not appear"
	debugfs_ready || fail "no /sys/kernel/debug/vhostx"
	[ "$(vhx_ndev)" = 0 ] || fail "vhostx devices exist before the suite"
}

dpdk_pre()
{
	local node=$1
	[ -z "$DPDK_SKIP" ] || skip "$DPDK_SKIP"
	[ -c "$node" ] || fail "$node missing"
	[ -x "$DPDK_TAPFRAMES" ] || fail "$DPDK_TAPFRAMES missing"
}

# The vhostx tx (1) or rx (0) queue is healthy; prints its counters.
vhx_vq_show()
{
	local vq=$1
	grep -A1 "^  vq $vq " "$VHX_DEBUGFS" | sed 's/^ */vhostx: /'
	grep -q "^  vq $vq .* broken no" "$VHX_DEBUGFS" || fail "vhostx queue $vq is broken"
}

dpdk_txonly()
{
	local node=$1 tag rx0 rxd0 rx rxd drops=0 a b pps vpk

	dpdk_pre "$node"
	tag=$(dpdk_tag "$node")
	tp_start "$node"
	tp_cmd "set fwd txonly"
	tp_cmd "clear port stats all"
	rx0=$(tap_stat rx_packets)
	rxd0=$(tap_stat rx_dropped)
	tp_cmd start
	# The rate: TX-packets between two looks, DPDK_SECONDS apart, once
	# running, over the time between them by testpmd's clock (Tx-pps).
	sleep 0.5
	tp_port_stats
	a=$TP_TX
	sleep "$DPDK_SECONDS"
	tp_port_stats
	b=$TP_TX
	pps=$TP_TX_PPS
	tp_cmd stop
	tp_port_stats
	[ "$TP_TX" -gt 0 ] || fail "testpmd sent nothing"
	# The backend finishes what is left on the ring (it was kicked).
	for _ in $(seq 50); do
		rx=$(($(tap_stat rx_packets) - rx0))
		rxd=$(($(tap_stat rx_dropped) - rxd0))
		[ "$tag" != vhostx ] || drops=$(vhx_vq_stat 1 drops)
		[ $((rx + rxd + drops)) -lt "$TP_TX" ] || break
		sleep 0.1
	done
	echo "testpmd TX-packets $TP_TX TX-errors $TP_TX_ERR; tap rx_packets +$rx rx_dropped +$rxd$([ "$tag" = vhostx ] && echo "; vhostx tx drops $drops")"
	[ "$tag" != vhostx ] || vhx_vq_show 1
	[ "$TP_TX_ERR" = 0 ] || fail "testpmd TX-errors $TP_TX_ERR"
	[ "$TP_TX" = $((rx + rxd + drops)) ] ||
		fail "testpmd sent $TP_TX, the tap accounts for $((rx + rxd + drops)) (rx $rx + rx_dropped $rxd + drops $drops)"
	if [ "$tag" = vhostx ]; then
		vpk=$(vhx_vq_stat 1 packets)
		[ "$TP_TX" = $((vpk + drops)) ] ||
			fail "testpmd sent $TP_TX, vhostx counted packets $vpk + drops $drops"
	fi
	echo "txonly $tag: $pps pps ($((b - a)) packets between two looks ${DPDK_SECONDS} s apart)"
	tp_quit
	tp_no_leak "$node"
}

# tapframes' key=value output line: field NAME.
tf_field()
{
	printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

dpdk_rxonly()
{
	local node=$1 tag tx0 txd0 tx txd out rc=0 n=$DPDK_FRAMES vpk

	dpdk_pre "$node"
	tag=$(dpdk_tag "$node")
	tp_start "$node"
	tp_cmd "set fwd rxonly"
	tp_cmd "clear port stats all"
	tp_cmd start
	tx0=$(tap_stat tx_packets)
	txd0=$(tap_stat tx_dropped)
	out=$(taskset -c 0 "$DPDK_TAPFRAMES" inject "$TP_TAP" "$n" "$DPDK_WINDOW" 2>&1) || rc=$?
	echo "tapframes: $out"
	[ "$rc" = 0 ] || fail "tapframes inject failed ($rc)"
	# Let testpmd poll what the backend put on its ring.
	for _ in $(seq 25); do
		tp_port_stats
		[ "$TP_RX" -lt "$n" ] || break
		sleep 0.2
	done
	tp_cmd stop
	tp_port_stats
	tx=$(($(tap_stat tx_packets) - tx0))
	txd=$(($(tap_stat tx_dropped) - txd0))
	echo "injected $n; tap tx_packets +$tx tx_dropped +$txd; testpmd RX-packets $TP_RX RX-missed $TP_RX_MISSED RX-errors $TP_RX_ERR RX-nombuf $TP_RX_NOMBUF"
	[ "$tag" != vhostx ] || vhx_vq_show 0
	[ "$txd" = 0 ] || fail "the tap dropped $txd frames"
	[ "$tx" = "$n" ] || fail "the tap handed $tx frames to the backend, want $n"
	[ "$TP_RX" = "$n" ] || fail "testpmd received $TP_RX frames, want $n"
	[ "$TP_RX_ERR" = 0 ] || fail "testpmd RX-errors $TP_RX_ERR"
	if [ "$tag" = vhostx ]; then
		vpk=$(vhx_vq_stat 0 packets)
		[ "$vpk" = "$n" ] || fail "vhostx rx packets $vpk, want $n"
		[ "$(vhx_vq_stat 0 drops)" = 0 ] || fail "vhostx rx drops $(vhx_vq_stat 0 drops)"
	fi
	echo "rxonly $tag: $(tf_field "$out" pps) pps"
	tp_quit
	tp_no_leak "$node"
}

dpdk_io()
{
	local node=$1 tag rx0 tx0 rxd0 txd0 rx tx rxd txd out rc=0 n=$DPDK_FRAMES

	dpdk_pre "$node"
	tag=$(dpdk_tag "$node")
	tp_start "$node"
	tp_cmd "set fwd io"
	tp_cmd "clear port stats all"
	tp_cmd start
	rx0=$(tap_stat rx_packets)
	tx0=$(tap_stat tx_packets)
	rxd0=$(tap_stat rx_dropped)
	txd0=$(tap_stat tx_dropped)
	out=$(taskset -c 0 "$DPDK_TAPFRAMES" echo "$TP_TAP" "$n" "$DPDK_WINDOW" 2>&1) || rc=$?
	echo "tapframes: $out"
	tp_cmd stop
	tp_port_stats
	rx=$(($(tap_stat rx_packets) - rx0))
	tx=$(($(tap_stat tx_packets) - tx0))
	rxd=$(($(tap_stat rx_dropped) - rxd0))
	txd=$(($(tap_stat tx_dropped) - txd0))
	echo "tap tx_packets +$tx tx_dropped +$txd rx_packets +$rx rx_dropped +$rxd; testpmd RX-packets $TP_RX TX-packets $TP_TX"
	if [ "$tag" = vhostx ]; then
		vhx_vq_show 0
		vhx_vq_show 1
	fi
	[ "$rc" = 0 ] || fail "not every frame came back exactly once and intact (tapframes $rc)"
	[ "$tx,$txd" = "$n,0" ] || fail "tap tx_packets +$tx tx_dropped +$txd, want $n and 0"
	[ "$TP_RX" = "$n" ] || fail "testpmd received $TP_RX, want $n"
	[ "$TP_TX" = "$n" ] || fail "testpmd sent $TP_TX, want $n"
	[ "$rx,$rxd" = "$n,0" ] || fail "tap rx_packets +$rx rx_dropped +$rxd, want $n and 0"
	if [ "$tag" = vhostx ]; then
		[ "$(vhx_vq_stat 0 packets)" = "$n" ] || fail "vhostx rx packets $(vhx_vq_stat 0 packets), want $n"
		[ "$(vhx_vq_stat 1 packets)" = "$n" ] || fail "vhostx tx packets $(vhx_vq_stat 1 packets), want $n"
		[ "$(vhx_vq_stat 0 drops),$(vhx_vq_stat 1 drops)" = 0,0 ] || fail "vhostx drops (rx,tx): $(vhx_vq_stat 0 drops),$(vhx_vq_stat 1 drops)"
	fi
	echo "io $tag: $(tf_field "$out" pps) pps round trip"
	tp_quit
	tp_no_leak "$node"
}

# One txonly measurement on the current instance: testpmd's Tx-pps between
# two looks DPDK_PPS_SECONDS apart, once forwarding runs.
pps_txonly_once()
{
	tp_cmd start
	sleep 0.5
	tp_port_stats
	sleep "$DPDK_PPS_SECONDS"
	tp_port_stats
	tp_cmd stop
	echo "$TP_TX_PPS"
}

# One rxonly measurement: DPDK_PPS_FRAMES frames through the tap, paced.
pps_rxonly_once()
{
	local out
	tp_cmd start
	out=$(taskset -c 0 "$DPDK_TAPFRAMES" inject "$TP_TAP" "$DPDK_PPS_FRAMES" "$DPDK_WINDOW" 2>&1) ||
		fail "tapframes: $out"
	tp_cmd stop
	tf_field "$out" pps
}

median()
{
	tr ' ' '\n' | grep -v '^$' | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# Informational: never an assertion on speed. The test host is TCG-emulated
# and shared, so only the ratio within one run means anything. Both testpmd
# instances run at once (one forwarding at a time), and the rounds alternate
# which device goes first, so that a change in the host's load hits both.
dpdk_summary()
{
	local m r t order v a b ratio
	declare -A all

	[ -z "$DPDK_SKIP" ] || skip "$DPDK_SKIP"
	tp_start /dev/vhost-net vxdpdk1
	tp_save vhost_net
	tp_start "$VHX_NODE" vxdpdk2
	tp_save vhostx
	for m in txonly rxonly; do
		for t in vhost_net vhostx; do
			tp_use "$t"
			tp_cmd "set fwd $m"
			tp_cmd "clear port stats all"
		done
		for r in $(seq "$DPDK_PPS_ROUNDS"); do
			order="vhost_net vhostx"
			[ $((r % 2)) = 1 ] || order="vhostx vhost_net"
			for t in $order; do
				tp_use "$t"
				v=$("pps_$m"_once)
				all[$m-$t]="${all[$m-$t]:-} $v"
			done
		done
	done
	echo "packets/s, $DPDK_PPS_ROUNDS interleaved rounds each; TCG-emulated shared host: compare ratios only"
	printf '%-7s %-10s %9s   %s\n' mode device median rounds
	for m in txonly rxonly; do
		a=$(echo "${all[$m-vhost_net]}" | median)
		b=$(echo "${all[$m-vhostx]}" | median)
		printf '%-7s %-10s %9s  %s\n' "$m" vhost_net "$a" "${all[$m-vhost_net]}"
		printf '%-7s %-10s %9s  %s\n' "$m" vhostx "$b" "${all[$m-vhostx]}"
		ratio=-
		[ "${a:-0}" -gt 0 ] && ratio=$(printf '%.2f' "$(echo "$b / $a" | bc -l)")
		echo "$m vhostx/vhost_net: $ratio"
	done
	echo "(txonly: testpmd's Tx-pps over ${DPDK_PPS_SECONDS} s of forwarding, 64-byte frames;"
	echo " rxonly: $DPDK_PPS_FRAMES 64-byte frames injected from the host and taken by the backend,"
	echo " paced by the injector with at most $DPDK_WINDOW in flight)"
	for t in vhost_net vhostx; do
		tp_use "$t"
		echo "testpmd on $t: $(tp_cpu_seconds) s of CPU in its life"
		tp_quit
	done
	tp_no_leak /dev/vhost-net
	tp_no_leak "$VHX_NODE"
}

# Run a case and say how long it took (the suite's time budget is tight under TCG).
dpdk_timed()
{
	local t0=$SECONDS
	"$@"
	echo "case took $((SECONDS - t0)) s"
}

dpdk_unload()
{
	vhx_unload || fail "rmmod vhostx at the end of the suite"
	! vhx_loaded || fail "vhostx still loaded"
}

dpdk_probe
[ -z "$DPDK_SKIP" ] || ktap_diag "dpdk cases skip: $DPDK_SKIP"
ktap_case "dpdk: testpmd and tapframes are there" dpdk_prereq
ktap_case "dpdk: vhost_net loads" dpdk_vhost_net_setup
ktap_case "dpdk: vhostx loads" dpdk_vhostx_setup
for dpdk_m in txonly rxonly io; do
	for dpdk_dev in /dev/vhost-net $VHX_NODE; do
		ktap_case "dpdk: $(dpdk_tag "$dpdk_dev"): $dpdk_m" dpdk_timed dpdk_$dpdk_m "$dpdk_dev"
	done
done
ktap_case "dpdk: pps side by side, txonly and rxonly (informational)" dpdk_timed dpdk_summary
ktap_case "dpdk: vhostx unloads" dpdk_unload
rm -rf "$DPDK_STATE"
