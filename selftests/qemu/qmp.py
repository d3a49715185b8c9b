#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""selftests/qemu/qmp.py - one QMP command from a shell script.

  qmp.py SOCKET COMMAND [ARGUMENTS-JSON]

Prints the command's "return" value as JSON (a string return, such as
human-monitor-command's, is printed as is) and exits 0; prints QEMU's
"desc" on stderr and exits 1 when QEMU refuses.
"""
import json
import socket
import sys


def main():
    path, cmd = sys.argv[1], sys.argv[2]
    args = json.loads(sys.argv[3]) if len(sys.argv) > 3 else None
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(30)
    s.connect(path)
    f = s.makefile("r")

    def reply():
        while True:
            msg = json.loads(f.readline())
            if "event" not in msg:
                return msg

    reply()  # greeting
    s.sendall(b'{"execute": "qmp_capabilities"}\n')
    reply()
    req = {"execute": cmd}
    if args is not None:
        req["arguments"] = args
    s.sendall((json.dumps(req) + "\n").encode())
    msg = reply()
    if "error" in msg:
        print(msg["error"].get("desc", ""), file=sys.stderr)
        return 1
    ret = msg.get("return")
    print(ret if isinstance(ret, str) else json.dumps(ret))
    return 0


if __name__ == "__main__":
    sys.exit(main())
