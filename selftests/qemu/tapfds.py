#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""selftests/qemu/tapfds.py - open a multiqueue tap and vhost fds, then exec QEMU.

usage: tapfds.py TAP QUEUES VHOST_NODE QEMU [ARGS...]

QEMU 7.2 takes vhostfds= only together with fds=, so the tap queues must be
opened by the caller: QUEUES fds on TAP (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR |
IFF_MULTI_QUEUE; TAP may already exist as a persistent multi_queue tap) and
QUEUES fds on VHOST_NODE (/dev/vhostx-net or /dev/vhost-net). In ARGS, @FDS@
and @VHOSTFDS@ become the colon-separated fd numbers. The exec keeps the pid,
so the caller's $! is QEMU's pid.
"""
import fcntl
import os
import struct
import sys

TUNSETIFF = 0x400454CA
IFF_TAP, IFF_NO_PI, IFF_VNET_HDR, IFF_MULTI_QUEUE = 0x0002, 0x1000, 0x4000, 0x0100


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    tap, queues, node = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | (IFF_MULTI_QUEUE if queues > 1 else 0)
    fds, vfds = [], []
    for _ in range(queues):
        fd = os.open("/dev/net/tun", os.O_RDWR)
        fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH22x", tap.encode(), flags))
        fds.append(fd)
    for _ in range(queues):
        vfds.append(os.open(node, os.O_RDWR))
    for fd in fds + vfds:
        os.set_inheritable(fd, True)
    sub = {"@FDS@": ":".join(map(str, fds)), "@VHOSTFDS@": ":".join(map(str, vfds))}
    args = []
    for a in sys.argv[4:]:
        for k, v in sub.items():
            a = a.replace(k, v)
        args.append(a)
    os.execvp(args[0], args)


if __name__ == "__main__":
    main()
