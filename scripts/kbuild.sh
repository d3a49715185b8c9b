#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# scripts/kbuild.sh VERSION - build vhostx.ko for kernel VERSION (W=1, -Werror)
# in $BUILD/kernels/VERSION/, leaving the in-tree build (kmod/, the default
# kernel's, what `make install` takes) alone, and print the .ko's path.
#
# kbuild writes objects next to the sources of an external module (6.1 has no
# separate output directory for M=), so each kernel gets a tree of symlinks
# to the sources: builds for several kernels never share an object, and a
# rebuild is incremental.
set -eu

ver=${1:?usage: kbuild.sh VERSION}
top=$(cd "$(dirname "$0")/.." && pwd)
out=${BUILD:-$top/build}/kernels/$ver
kdir=/lib/modules/$ver/build

[ -d "$kdir" ] || { echo "kbuild.sh: no headers for $ver ($kdir); run 'make deps'" >&2; exit 1; }
mkdir -p "$out/kmod"
# Sources removed or renamed since the last build must not linger.
find "$out/kmod" -maxdepth 1 -type l -exec rm -f {} +
# Sources only: the in-tree build's generated files (vhostx.mod.c) belong to
# its kernel, and modpost would write this kernel's through the link.
for f in "$top"/kmod/*.c "$top"/kmod/*.h "$top/kmod/Kbuild"; do
	case $f in *.mod.c) continue ;; esac
	ln -s "$f" "$out/kmod/"
done
ln -sfn "$top/include" "$out/include"
ln -sf "$top/VERSION" "$out/VERSION"
ln -sf "$top/Kbuild" "$out/Kbuild"
make -C "$kdir" M="$out" W=1 modules >&2
echo "$out/kmod/vhostx.ko"
