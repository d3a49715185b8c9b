#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The demo, run inside the test VM by `make demo` (scripts/demo.sh): load
# vhostx, start a Linux guest under QEMU/KVM with no network card, attach a
# vhostx-backed virtio-net to it at runtime with `vhostxctl attach`, move
# traffic, show the counters, compare with vhost_net and QEMU's own virtio-net
# when the benchmark script is in the tree, and take everything down again.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
SELFTESTS=$TOP/selftests
export TOP SELFTESTS
CTL=$TOP/build/ctl/vhostxctl
L2_STATE=/tmp/vhx-demo
MB=${VHX_DEMO_MB:-16}
T0=$(date +%s)

ktap_diag() { echo "   $*"; }
# shellcheck source=../selftests/lib/common.sh
. "$SELFTESTS/lib/common.sh"
# shellcheck source=../selftests/qemu/lib.sh
. "$SELFTESTS/qemu/lib.sh"

step() { printf '\n== %s  [%ss]\n' "$*" $(($(date +%s) - T0)); }
say() { sed 's/^/   /'; }
die() { echo "demo: $*" >&2; exit 1; }

cleanup()
{
	l2_kill_all >/dev/null 2>&1 || true
	ip link del vxd0 2>/dev/null || true
	vhx_unload 2>/dev/null || true
}
trap cleanup EXIT

step "1. the test VM is up (kernel $(uname -r), $(nproc) vCPUs, emulated by TCG)"
cat <<'EOF' | say
This whole demo runs inside a throw-away VM. Inside it, a second, nested
guest (L2) runs under QEMU with KVM: that guest is the "virtual machine"
whose network vhostx will serve.
EOF

step "2. load vhostx"
modprobe -a tun tap	# vhostx attaches to tap devices, like vhost_net
insmod "$TOP/kmod/vhostx.ko"
wait_node $VHX_NODE || die "no $VHX_NODE"
modinfo "$TOP/kmod/vhostx.ko" | grep -E '^(version|description):' | say
ls -l $VHX_NODE | say

step "3. start a Linux guest under QEMU/KVM with NO network card, only a QMP socket"
if grep -qw svm /proc/cpuinfo; then modprobe kvm_amd; else modprobe kvm_intel; fi
wait_node /dev/kvm || die "no /dev/kvm: nested virtualization unavailable"
rm -rf "$L2_STATE"
mkdir -p "$L2_STATE"
l2_prepare_initrd >/dev/null || die "no L2 initramfs"
l2_start_qmp demo 2 || die "cannot start QEMU"
l2_wait_ready demo || die "the guest did not boot"
echo "QEMU pid $(l2_pid demo): $(cut -c1-150 "$L2_STATE/demo/cmdline") ..." | say
echo "guest booted; its network interfaces: $(l2_cmd demo 20 'echo $(ls /sys/class/net)') (no eth0)" | say

step "4. vhostxctl attach: hot-plug a virtio-net backed by vhostx into the running QEMU"
ip tuntap add dev vxd0 mode tap multi_queue vnet_hdr
ip addr add $L2_HOST_IP/24 dev vxd0
ip link set vxd0 up
cat <<'EOF' | say
vhostxctl opens /dev/vhostx-net and the tap (one of each per queue pair),
hands the fds to QEMU over QMP (getfd, SCM_RIGHTS), then runs netdev_add
(tap, vhost=on) and device_add virtio-net-pci, and waits until the guest's
driver has started the queues (seen through vhostx's netlink counters).
EOF
echo "\$ vhostxctl attach --qmp $L2_STATE/demo/qmp.sock --tap vxd0 --queues 2 --mac $L2_MAC --id net0" | say
"$CTL" attach --qmp "$L2_STATE/demo/qmp.sock" --tap vxd0 --queues 2 --mac $L2_MAC --id net0 \
	--timeout 180 | say
l2_cmd demo 60 "i=0; while [ ! -e /sys/class/net/eth0 ] && [ \$i -lt 300 ]; do sleep 0.1; i=\$((i+1)); done
	ip addr add $L2_GUEST_IP/24 dev eth0; ip link set eth0 up; sleep 1
	echo guest: eth0 \$(cat /sys/class/net/eth0/address), driver \$(basename \$(readlink /sys/class/net/eth0/device/driver)), queues: \$(ls /sys/class/net/eth0/queues | tr '\n' ' ')" | say
echo | say
"$CTL" dev list | say

step "5. traffic: ping both ways, then ${MB} MiB over TCP each way (MD5 checked)"
busybox ping -c 3 -W 5 $L2_GUEST_IP | tail -n 2 | say
l2_cmd demo 30 "ping -c 3 -W 5 $L2_HOST_IP" | tail -n 2 | say
echo "(in: host -> guest, out: the same bytes back; MD5 at both ends)" | say
l2_xfer demo $((MB << 20)) > "$L2_STATE/xfer" 2>&1 && rc=0 || rc=$?
say < "$L2_STATE/xfer"
[ $rc = 0 ] || die "transfer failed"
if l2_cmd demo 10 "command -v iperf3" >/dev/null 2>&1; then
	iperf3 -s -1 -B $L2_HOST_IP >/dev/null 2>&1 &
	sleep 1
	l2_cmd demo 60 "iperf3 -c $L2_HOST_IP -t 5 -f m | tail -n 4" | say || true
	wait || true
else
	echo "(no iperf3 in this L2 initramfs: the TCP transfers above are the throughput test)" | say
fi
cat <<'EOF' | say
(everything here is emulated: the host CPU is TCG and the guest runs nested,
so absolute speeds are far below real hardware)
EOF

step "6. vhostxctl stats: what vhostx counted for this guest"
"$CTL" stats | say
cat <<'EOF' | say

Each queue pair is one vhostx device (rx = host -> guest, tx = guest -> host).
  kicks            guest notifications (each one is a VM exit on a real host)
  irqs             interrupts vhostx injected; irqs_suppressed: used-ring
                   updates the guest did not ask to be interrupted for
  packets / bytes  frames moved by vhostx's worker, in the kernel, without QEMU
  bytes_copied     one copy per byte between guest memory and the tap
EOF
"$CTL" -j stats | python3 -c '
import json, sys
tot = {}
for d in json.load(sys.stdin):
    for q in d["queues"]:
        c = tot.setdefault(q["name"], {})
        for k, v in q["counters"].items():
            c[k] = c.get(k, 0) + v
tx, rx = tot.get("tx"), tot.get("rx")
if tx and tx["packets"]:
    print("guest -> host: %d packets for %d kicks (VM exits on a real host): %.1f packets per exit"
          % (tx["packets"], tx["kicks"], tx["packets"] / max(tx["kicks"], 1)))
if rx and rx["packets"]:
    print("host -> guest: %d packets for %d interrupts: %.1f packets per interrupt"
          % (rx["packets"], rx["irqs"], rx["packets"] / max(rx["irqs"], 1)))' | say
echo "(with QEMU's own virtio-net each kick is an exit into QEMU's userspace, and RX copies" | say
echo " each packet twice, into a bounce buffer and then into the guest; here QEMU is not" | say
echo " on the packet path at all)" | say

step "7. vhostxctl detach: unplug it again; the guest keeps running"
"$CTL" detach --qmp "$L2_STATE/demo/qmp.sock" --id net0 --timeout 180 | say
echo "guest still answers; its interfaces now: $(l2_cmd demo 20 'echo $(ls /sys/class/net)')" | say
echo "vhostx devices left: $(vhx_ndev)" | say
pid=$(l2_pid demo)
l2_kill demo TERM >/dev/null || true	# (l2_kill is not written for set -e)
pid_gone "$pid" || die "QEMU $pid did not stop"
ip link del vxd0
rmmod vhostx || die "rmmod vhostx"
echo "QEMU stopped, tap removed, vhostx unloaded: kernel taint $(cat /proc/sys/kernel/tainted) (4096 = O out-of-tree, 8192 = E unsigned; anything else would be a bug)" | say
step "8. vhostx beside vhost_net and QEMU's userspace virtio-net"
if [ -x "$TOP/selftests/bench/l2bench.sh" ]; then
	# It boots its own L2 guest and loads what it needs; it runs after the
	# teardown above because it uses the same addresses.
	"$TOP/selftests/bench/l2bench.sh" --quick
	l2_kill_all >/dev/null 2>&1 || true
	vhx_unload || die "rmmod vhostx after the benchmark"
else
	echo "The comparison table (selftests/bench/l2bench.sh --quick) is not available in this tree." | say
fi

trap - EXIT
echo
echo "demo finished in $(($(date +%s) - T0)) s"
