#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make demo, on the host: boot the test VM and run scripts/demo-guest.sh in
# it (load vhostx, start a NIC-less Linux guest under QEMU/KVM, attach vhostx
# to it at runtime with vhostxctl attach, traffic, counters, detach).
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
echo "make demo: booting the test VM (QEMU/TCG, Debian's kernel, this tree over 9p) ..."
VM_MEM=${VM_MEM:-3G} VM_TIMEOUT=${VM_TIMEOUT:-900} exec "$TOP/selftests/vm/run.sh" "$TOP/scripts/demo-guest.sh"
