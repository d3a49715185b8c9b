#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The demo, run inside the test guest by `make demo`: load vhostx and show
# what a user sees. It grows with the product.
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
step() { printf '\n== %s\n' "$*"; }

step "guest kernel: $(uname -r); loading vhostx"
modprobe -a tun tap   # vhostx attaches to tap devices, like vhost_net
insmod "$TOP/kmod/vhostx.ko"
dmesg | grep vhostx | tail -n 1
modinfo "$TOP/kmod/vhostx.ko" | grep -E '^(version|description|license):'

step "the device node a VMM opens (like /dev/vhost-net)"
ls -l /dev/vhostx-net
grep vhostx-net /proc/misc

step "vhost_net loads beside it: it is the reference we compare against"
modprobe vhost_net
ls -l /dev/vhost-net
lsmod | grep -E '^(vhostx|vhost_net|vhost) '

step "vhostxctl"
"$TOP/build/ctl/vhostxctl" --version

step "unload"
rmmod vhostx
echo "tainted: $(cat /proc/sys/kernel/tainted) (4096=O out-of-tree, 8192=E unsigned; anything else is a bug)"
