#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# selftests/qemu/mkinitramfs.sh - the initramfs of the L2 guest that the qemu
# suite boots under nested KVM: busybox, the virtio-pci, virtio-net and
# virtio-console (the agent's port) modules of KVER, ethtool with its
# libraries, and selftests/qemu/l2-init as /init.
# For the benchmark (selftests/bench/l2bench.sh): pktgen.ko (not loaded at
# boot; the benchmark loads it from /bench-modules), iperf3 with its
# libraries, and selftests/bench/l2-guest.sh as /bench-guest.
#
# usage: selftests/qemu/mkinitramfs.sh [OUTPUT]
#   default OUTPUT: build/l2/initramfs-$KVER.cpio.gz (the suite's cache).
# Run it on the host before the suite: the suite uses the cached file when it
# is newer than this script and l2-init, else builds its own copy in /tmp.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
KVER=${KVER:-$("$TOP/scripts/kver.sh")}
OUT=${1:-$TOP/build/l2/initramfs-$KVER.cpio.gz}

[ -n "$KVER" ] || { echo "mkinitramfs: no kernel version" >&2; exit 1; }
mkdir -p "$(dirname "$OUT")"
root=$(mktemp -d "${TMPDIR:-/tmp}/l2root.XXXXXX")
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,run,etc}

cp /bin/busybox "$root/bin/busybox"
mods=$(for m in virtio_pci virtio_net virtio_console; do
	modprobe -S "$KVER" --show-depends "$m" | awk '$1 == "insmod" { print $2 }'
done | awk '!seen[$0]++')
# shellcheck disable=SC2086
"$TOP/scripts/modcopy.sh" "$root" $mods > "$root/modules"

# pktgen for the benchmark: its module and dependencies, in load order, listed
# in /bench-modules (l2-init loads only /modules).
bmods=$(modprobe -S "$KVER" --show-depends pktgen | awk '$1 == "insmod" { print $2 }')
# shellcheck disable=SC2086
"$TOP/scripts/modcopy.sh" "$root" $bmods > "$root/bench-modules"

# copy_bin PATH: a dynamically linked program with its libraries.
copy_bin()
{
	local lib
	mkdir -p "$root$(dirname "$1")"
	cp "$1" "$root$1"
	for lib in $(ldd "$1" | awk '/=>/ { print $3 } /^\t\// { print $1 }'); do
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
	# ld.so is found through /lib64 on Debian.
	[ -e "$root/lib64" ] || ln -s lib "$root/lib64" 2>/dev/null || true
}

# ethtool (for `ethtool -L` and `-l` in the multiqueue case); iperf3 (the
# benchmark's TCP case).
[ ! -x /usr/sbin/ethtool ] || copy_bin /usr/sbin/ethtool
[ ! -x /usr/bin/iperf3 ] || copy_bin /usr/bin/iperf3

cp "$HERE/l2-init" "$root/init"
chmod +x "$root/init"
cp "$TOP/selftests/bench/l2-guest.sh" "$root/bench-guest"
chmod +x "$root/bench-guest"
(cd "$root" && find . | cpio -o -H newc 2>/dev/null | gzip -1 > "$OUT.tmp")
mv "$OUT.tmp" "$OUT"
echo "$OUT"
