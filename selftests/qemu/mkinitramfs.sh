#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# selftests/qemu/mkinitramfs.sh - the initramfs of the L2 guest that the qemu
# suite boots under nested KVM: busybox, the virtio-pci and virtio-net modules
# of KVER, ethtool with its libraries, and selftests/qemu/l2-init as /init.
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
mods=$(for m in virtio_pci virtio_net; do
	modprobe -S "$KVER" --show-depends "$m" | awk '$1 == "insmod" { print $2 }'
done | awk '!seen[$0]++')
for f in $mods; do
	mkdir -p "$root$(dirname "$f")"
	cp "$f" "$root$f"
done
echo "$mods" > "$root/modules"

# ethtool (for `ethtool -L` and `-l` in the multiqueue case), with its libraries.
if [ -x /usr/sbin/ethtool ]; then
	cp /usr/sbin/ethtool "$root/usr/sbin/ethtool"
	for lib in $(ldd /usr/sbin/ethtool | awk '/=>/ { print $3 } /^\t\// { print $1 }'); do
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
	# ld.so is found through /lib64 on Debian.
	[ -e "$root/lib64" ] || ln -s lib "$root/lib64" 2>/dev/null || true
fi

cp "$HERE/l2-init" "$root/init"
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc 2>/dev/null | gzip -1 > "$OUT.tmp")
mv "$OUT.tmp" "$OUT"
echo "$OUT"
