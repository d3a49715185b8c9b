#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# scripts/modcopy.sh ROOT MODULE... - copy kernel modules into an initramfs
# tree at ROOT (same paths), decompressed: Debian's 6.12 ships .ko.xz, and
# busybox insmod loads only plain ELF. Prints each module's path in ROOT, in
# the order given (the load order).
set -eu
root=$1
shift
for f in "$@"; do
	case $f in
	*.ko.xz) p=${f%.xz}; dec="xz -dc" ;;
	*.ko.zst) p=${f%.zst}; dec="zstd -qdc" ;;
	*.ko.gz) p=${f%.gz}; dec="gzip -dc" ;;
	*) p=$f; dec=cat ;;
	esac
	mkdir -p "$root$(dirname "$p")"
	$dec "$f" > "$root$p"
	echo "$p"
done
