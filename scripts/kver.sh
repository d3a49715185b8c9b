#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Print the target kernel: the newest installed kernel that has both headers
# (/lib/modules/<ver>/build) and an image (/boot/vmlinuz-<ver>).
# Never `uname -r`: the machine that builds is not the one that runs the module.
for k in $(ls /lib/modules 2>/dev/null | sort -V); do
	[ -d "/lib/modules/$k/build" ] && [ -f "/boot/vmlinuz-$k" ] && echo "$k"
done | tail -n 1
