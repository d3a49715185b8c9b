#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
# /bench-guest in the L2 guest's initramfs (selftests/qemu/mkinitramfs.sh):
# one measurement window of selftests/bench/l2bench.sh, on the guest's side.
#   bench-guest tx WARM SECS SIZE DST_MAC DST_IP   pktgen on eth0 (SIZE: pkt_size)
#   bench-guest rx WARM SECS                       only count (the load comes from L1)
#   bench-guest tcp_tx|tcp_rx WARM SECS SERVER_IP  iperf3 client (tcp_rx: -R)
# Prints, after the window, two lines
#   "G UPTIME TX_PACKETS RX_PACKETS TX_BYTES RX_BYTES IRQ_IN IRQ_OUT"
# read at its start and end (1 vCPU: column 2 of /proc/interrupts), and for
# TCP iperf3's summary. Nothing is written to the control serial port during
# the window (each byte there is an exit to QEMU), and the counters are read
# with shell builtins (a busy 1-vCPU guest forks slowly).
mode=$1 warm=$2 secs=$3

gs() {
	local s=/sys/class/net/eth0/statistics u tp rp tb rb i=0 o=0 n c rest
	read -r u rest < /proc/uptime
	read -r tp < $s/tx_packets; read -r rp < $s/rx_packets
	read -r tb < $s/tx_bytes; read -r rb < $s/rx_bytes
	while read -r n c rest; do
		case $rest in
		*virtio*-input*) i=$((i + c)) ;;
		*virtio*-output*) o=$((o + c)) ;;
		esac
	done < /proc/interrupts
	echo "G $u $tp $rp $tb $rb $i $o"
}

pg() { echo "$2" > "/proc/net/pktgen/$1"; }

rm -f /tmp/g /tmp/iperf
case $mode in
tx)
	pg kpktgend_0 rem_device_all
	pg kpktgend_0 "add_device eth0"
	pg eth0 "count 0"; pg eth0 "clone_skb 0"; pg eth0 "delay 0"; pg eth0 "pkt_size $4"
	pg eth0 "dst $6"; pg eth0 "dst_mac $5"; pg eth0 "udp_dst_min 9"; pg eth0 "udp_dst_max 9"
	(echo start > /proc/net/pktgen/pgctrl) &
	;;
tcp_tx)
	iperf3 -c "$4" -p 5201 -t $((warm + secs + 2)) -f m > /tmp/iperf 2>&1 &
	;;
tcp_rx)
	iperf3 -c "$4" -p 5201 -t $((warm + secs + 2)) -f m -R > /tmp/iperf 2>&1 &
	;;
esac
sleep "$warm"; gs >> /tmp/g; sleep "$secs"; gs >> /tmp/g
# the load goes on a little longer, for the end of L1's window
[ "$mode" != tx ] || { sleep 1; echo stop > /proc/net/pktgen/pgctrl; }
wait
cat /tmp/g
[ ! -f /tmp/iperf ] || grep -E "sender|receiver" /tmp/iperf
