#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# scripts/kernels.sh - the kernel matrix: which kernels vhostx is built and
# tested against, the Debian packages that bring each, and which installed
# version each name stands for today.
#
#   kernels.sh names          the names of the matrix ($VHX_KERNELS, default below)
#   kernels.sh packages       the apt packages of every name (make deps installs them)
#   kernels.sh version NAME   the newest installed version of NAME (exit 1: none)
#   kernels.sh default        the default target kernel: the first name's version
#   kernels.sh list           "NAME VERSION" per name, for the installed ones
#   kernels.sh newest         the newest installed kernel of any name
#
# A name is one of:
#   6.1       Debian 12's own kernel (linux-image-amd64), 6.1.0-N-amd64
#   6.12      Debian 12's newest 6.12 (linux-image-6.12-amd64, from
#             bookworm-security; 6.12.N+deb12-amd64, or +bpo from backports)
#   6.12-rt   the same with PREEMPT_RT (linux-image-6.12-rt-amd64)
# The first name is the default target: `make`, `make install` and the full
# suites of `make check` use it; the others get the quick tier.
set -eu

NAMES=${VHX_KERNELS:-6.1 6.12 6.12-rt}

packages()
{
	case $1 in
	6.1) echo linux-image-amd64 linux-headers-amd64 ;;
	6.12) echo linux-image-6.12-amd64 linux-headers-6.12-amd64 ;;
	6.12-rt) echo linux-image-6.12-rt-amd64 linux-headers-6.12-rt-amd64 ;;
	*) echo "kernels.sh: unknown kernel name '$1' (6.1, 6.12, 6.12-rt)" >&2; return 1 ;;
	esac
}

pattern()
{
	case $1 in
	6.1) echo '^6\.1\.0-[0-9]+-amd64$' ;;
	6.12) echo '^6\.12\.[0-9]+\+(deb12|bpo)-amd64$' ;;
	6.12-rt) echo '^6\.12\.[0-9]+\+(deb12|bpo)-rt-amd64$' ;;
	*) packages "$1" ;;
	esac
}

# The newest installed kernel whose version matches the ERE $1. Installed:
# an image and headers, what the test VM boots and what kbuild builds against.
newest()
{
	local k
	for k in $(ls /lib/modules 2>/dev/null | grep -E "$1" | sort -V); do
		[ -d "/lib/modules/$k/build" ] && [ -f "/boot/vmlinuz-$k" ] && echo "$k"
	done | tail -n 1 | grep .
}

version()
{
	local re
	re=$(pattern "$1") || return 1
	newest "$re"
}

case ${1:-} in
names) echo $NAMES ;;
packages) for n in $NAMES; do packages "$n"; done | tr '\n' ' '; echo ;;
version) version "${2:?kernels.sh version NAME}" ;;
default) version "${NAMES%% *}" ;;
list) for n in $NAMES; do v=$(version "$n") && echo "$n $v"; done ;;
newest) newest . ;;
*) sed -n '4,21p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
