#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Print the default target kernel: the first kernel of the test matrix
# (scripts/kernels.sh; Debian 12's 6.1), whatever else is installed. On a
# machine without it (not Debian 12), the newest installed kernel that has
# both headers (/lib/modules/<ver>/build) and an image (/boot/vmlinuz-<ver>).
# Never `uname -r`: the machine that builds is not the one that runs the module.
# make KVER=<version> picks another.
d=$(dirname "$0")
"$d/kernels.sh" default 2>/dev/null || "$d/kernels.sh" newest
