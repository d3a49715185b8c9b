#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The demo, run inside the test guest by `make demo`: load vhostx, push
# traffic through it with the userspace guest driver, show the counters, and
# compare with vhost_net in the same boot.
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
CTL=$TOP/build/ctl/vhostxctl
DP=$TOP/build/selftests/dp_test
step() { printf '\n== %s\n' "$*"; }

step "1. load vhostx (guest kernel $(uname -r))"
modprobe -a tun tap	# vhostx attaches to tap devices, like vhost_net
insmod "$TOP/kmod/vhostx.ko"
dmesg | grep 'vhostx .*ready' | tail -n 1
modinfo "$TOP/kmod/vhostx.ko" | grep -E '^(version|description|license):'
ls -l /dev/vhostx-net

step "2. a 'guest' sends 64-byte frames through vhostx for 6 s"
cat <<'EOF'
   dp_test plays the guest's virtio-net driver over memory in its own process:
   it hands vhostx its memory table and split rings, kicks through an eventfd
   (KVM's ioeventfd in a real VM) and waits for the call eventfd (KVM's irqfd).
   vhostx's worker moves each frame from the ring into a tap, in the kernel.
EOF
"$DP" --dev /dev/vhostx-net bench tx --size 64 --seconds 6 > /tmp/demo-bench.txt &
BENCH=$!
sleep 3

step "3. vhostxctl: the devices and their per-queue counters, live"
"$CTL" dev list
echo
"$CTL" stats
cat <<'EOF'

   kicks            guest notifications that reached vhostx (each one is a VM exit in a real VM)
   irqs             interrupts vhostx sent; irqs_suppressed: used-ring updates the guest did not want one for
   packets / bytes  frames moved; batches: used-ring publications (one index write for many frames)
   bytes_copied     bytes copied between guest memory and the tap: one copy per byte, no bounce buffer
EOF
wait $BENCH
echo
sed 's/^/   /' /tmp/demo-bench.txt

step "4. vhostx beside vhost_net, same boot, same guest driver (1 round of 3 s each)"
modprobe vhost_net
"$TOP/selftests/bench/sim.sh" 3 1
echo "   (the host here is emulated: absolute numbers are small; the ratio is what counts)"

step "5. unload"
rmmod vhostx
echo "tainted: $(cat /proc/sys/kernel/tainted) (4096=O out-of-tree, 8192=E unsigned; anything else is a bug)"
