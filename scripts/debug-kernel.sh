#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/debug-kernel.sh [build|version|path] - the debug kernel: Debian's
# 6.1 source (linux-source-6.1) with KASAN, lockdep, kmemleak, UBSAN,
# DEBUG_LIST, SLUB debug and KCOV, configured from allnoconfig plus
# scripts/debug-kernel.config (only what the test VM and the quick-tier suites
# need), built once and cached outside the clone, installed the way the tests
# find kernels: /boot/vmlinuz-V, /lib/modules/V (modules, build -> the tree).
#
#   build    (default) build it unless the cache holds this source and config,
#            install it, print its version (6.1.N-vhxdebug) on stdout
#   version  print the installed debug kernel's version (exit 1: none)
#   path     print the cache directory
#
# Environment: VHX_CACHE (default /var/cache/vhostx), JOBS (default nproc).
# The build log is $VHX_CACHE/debug-kernel/build.log.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
# Run from `make check` (a recursive make), the kernel's make would inherit
# -w and print "Entering directory" lines into the version this script
# prints, and the parent's jobserver: it gets neither.
unset MAKEFLAGS MFLAGS MAKELEVEL
cache=${VHX_CACHE:-/var/cache/vhostx}/debug-kernel
frag=$top/scripts/debug-kernel.config
tarball=/usr/src/linux-source-6.1.tar.xz
jobs=${JOBS:-$(nproc)}
log=$cache/build.log
src=$cache/linux

die() { echo "debug-kernel: $*" >&2; exit 1; }

# The installed debug kernel: an image, its modules and a build tree.
installed()
{
	local k
	for k in $(ls /lib/modules 2>/dev/null | grep -E -- '-vhxdebug$' | sort -V); do
		[ -f "/boot/vmlinuz-$k" ] && [ -f "/lib/modules/$k/build/Module.symvers" ] && echo "$k"
	done | tail -n 1 | grep .
}

# Keys for what is built: the source package's version (the tree), and
# that with the fragment and this script (the installed kernel).
src_stamp()
{
	dpkg-query -W -f='${Version}\n' linux-source-6.1
}

stamp()
{
	{ src_stamp; cat "$frag" "$0"; } | sha256sum | cut -c1-16
}

# 6.1's PVH entry code (xen_prepare_pvh, which the test VM's boot through
# PVH runs first) is built with KASAN and runs before KASAN's shadow memory
# exists: the kernel faults on the shadow and QEMU resets it, silently.
# Leave that file uninstrumented, as arch/x86/kernel/head64.c is, and keep
# it from calling lib/string.c's instrumented memcmp() (through
# xen_cpuid_base()) when the kernel has no Xen support anyway.
patch_tree()
{
	local mk=$src/arch/x86/platform/pvh/Makefile c=$src/arch/x86/platform/pvh/enlighten.c
	grep -q '^KASAN_SANITIZE' "$mk" ||
		printf '%s\n' 'KASAN_SANITIZE := n' 'KCOV_INSTRUMENT := n' 'UBSAN_SANITIZE := n' >> "$mk"
	sed -i 's/^\tu32 msr = xen_cpuid_base();$/\tu32 msr = IS_ENABLED(CONFIG_XEN) ? xen_cpuid_base() : 0;/' "$c"
	grep -q 'IS_ENABLED(CONFIG_XEN) ? xen_cpuid_base()' "$c"
}

configure()
{
	local want got name
	make -C "$src" -s KCONFIG_ALLCONFIG="$frag" allnoconfig >> "$log" 2>&1
	make -C "$src" -s olddefconfig >> "$log" 2>&1
	# Every option the fragment sets must have survived Kconfig's
	# dependencies: a silently dropped KASAN would make this kernel a lie.
	while read -r want; do
		name=${want%%=*}
		case $want in
		*=n) grep -qxE "# $name is not set|$name=n" "$src/.config" || return 1 ;;
		*) got=$(grep -E "^$name=" "$src/.config" || true)
		   [ "$got" = "$want" ] || { echo "debug-kernel: $want did not hold (got '${got:-unset}')" >&2; return 1; } ;;
		esac
	done < <(grep -E '^CONFIG_' "$frag")
}

build()
{
	local st ver
	st=$(stamp)
	if [ -f "$cache/stamp" ] && [ "$(cat "$cache/stamp")" = "$st" ] && ver=$(installed); then
		echo "$ver"
		return 0
	fi
	[ -f "$tarball" ] || die "$tarball missing (apt-get install linux-source-6.1; make deps does)"
	mkdir -p "$cache"
	: > "$log"
	rm -f "$cache/stamp"
	# A new source package: a new tree. A new fragment: the same tree,
	# configured again and rebuilt incrementally.
	if [ "$(cat "$cache/src-stamp" 2>/dev/null)" != "$(src_stamp)" ]; then
		rm -rf "$src" "$cache/src-stamp"
		echo "debug-kernel: unpacking $tarball into $cache" >&2
		mkdir -p "$src"
		tar -xJf "$tarball" -C "$src" --strip-components=1
		src_stamp > "$cache/src-stamp"
	fi
	patch_tree || die "cannot patch the PVH entry code of $src"
	configure || die "the configuration did not hold; see $log and $src/.config"
	echo "debug-kernel: building $(make -C "$src" -s --no-print-directory kernelrelease) with $jobs jobs (log: $log)" >&2
	make -C "$src" -j "$jobs" bzImage modules >> "$log" 2>&1 ||
		{ tail -n 40 "$log" >&2; die "build failed; see $log"; }
	ver=$(make -C "$src" -s --no-print-directory kernelrelease)
	install_kernel "$ver" || die "install failed"
	echo "$st" > "$cache/stamp"
	echo "$ver"
}

# /boot and /lib/modules as a Debian kernel package lays them out; the
# build tree stays in the cache (the build link points there), so kbuild
# builds vhostx against it.
install_kernel()
{
	local ver=$1
	rm -rf "/lib/modules/$ver"
	make -C "$src" -s INSTALL_MOD_STRIP=1 modules_install >> "$log" 2>&1 || return 1
	# (called in an || list, where set -e does not stop at a failure)
	ln -sfn "$src" "/lib/modules/$ver/build" &&
		install -m 0644 "$src/arch/x86/boot/bzImage" "/boot/vmlinuz-$ver" &&
		install -m 0644 "$src/System.map" "/boot/System.map-$ver" &&
		install -m 0644 "$src/.config" "/boot/config-$ver" &&
		depmod "$ver" || return 1
	# the test VM's cached vmlinux of an older build of this version
	rm -f "${BUILD:-$top/build}/vm/vmlinux-$ver" "${BUILD:-$top/build}/vm/initramfs-$ver.cpio.gz"
}

case ${1:-build} in
build) build ;;
version) installed ;;
path) echo "$cache" ;;
*) sed -n '4,19p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
