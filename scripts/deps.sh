#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Install every Debian package the project needs, the kernels of the test
# matrix (scripts/kernels.sh: image and headers of each, as Debian packages, so
# they land in /boot and /lib/modules where kbuild and the test VM look; this
# machine never boots them), then the test VM's private QEMU
# (scripts/vm-qemu.sh). Idempotent, and a quick no-op when everything is
# present (dpkg-query and a directory test, no apt at all).
set -eu

PKGS="build-essential gcc g++ make cmake pkg-config git kmod cpio bc python3 xz-utils zstd udev
	$("$(dirname "$0")/kernels.sh" packages)
	qemu-system-x86 busybox-static iproute2 ethtool
	libnl-3-dev libnl-genl-3-dev libcli11-dev catch2
	clang libclang-rt-14-dev dpdk dpdk-dev
	nlohmann-json3-dev dkms
	linux-source-6.1 bison flex libelf-dev libssl-dev
	iperf3 gnuplot-nox bpftrace linux-perf"

missing=
for p in $PKGS; do
	st=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
	case "$st" in ii*) ;; *) missing="$missing $p" ;; esac
done

if [ -n "$missing" ]; then
	echo "deps: installing:$missing"
	SUDO=
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -qq
	# INITRD=No: no initrd for the kernels; the test VM builds its own.
	# shellcheck disable=SC2086
	$SUDO env INITRD=No apt-get install -y -qq --no-install-recommends $missing
fi

# QEMU 10 for selftests/vm, unpacked privately (prints its wrapper's path)
"$(dirname "$0")/vm-qemu.sh" > /dev/null
