#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""selftests/qemu/xfer.py - the L1 end of the qemu suite's TCP transfers.

  xfer.py send HOST PORT BYTES [TIMEOUT]
      connect (retrying until TIMEOUT while the guest's nc is not listening
      yet), send BYTES of pseudo-random data, half-close, wait for the peer's
      close.
  xfer.py recv PORT READYFILE [TIMEOUT]
      listen on PORT, create READYFILE, accept one connection, read to EOF.

Both print one line: "md5 HEX bytes N secs S" (S: connect/accept to EOF).
The data is a random 1 MiB block, rotated differently for every MiB, so a
lost, repeated or reordered chunk changes the checksum.
"""
import hashlib
import os
import socket
import sys
import time

CHUNK = 1 << 20


def send(host, port, nbytes, timeout=60.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            s = socket.create_connection((host, port), timeout=5)
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    s.settimeout(timeout)
    t0 = time.monotonic()
    block = os.urandom(CHUNK)
    md5 = hashlib.md5()
    left, i = nbytes, 0
    while left > 0:
        k = (i * 4099) % CHUNK
        buf = (block[k:] + block[:k])[:left]
        md5.update(buf)
        s.sendall(buf)
        left -= len(buf)
        i += 1
    s.shutdown(socket.SHUT_WR)
    while s.recv(65536):
        pass
    secs = time.monotonic() - t0
    s.close()
    print(f"md5 {md5.hexdigest()} bytes {nbytes} secs {secs:.2f}")


def recv(port, ready, timeout=60.0):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("0.0.0.0", port))
    ls.listen(1)
    ls.settimeout(timeout)
    open(ready, "w").close()
    s, _ = ls.accept()
    s.settimeout(timeout)
    t0 = time.monotonic()
    md5 = hashlib.md5()
    n = 0
    while True:
        b = s.recv(1 << 18)
        if not b:
            break
        md5.update(b)
        n += len(b)
    secs = time.monotonic() - t0
    s.close()
    print(f"md5 {md5.hexdigest()} bytes {n} secs {secs:.2f}")


def main():
    a = sys.argv[1:]
    if a and a[0] == "send" and len(a) in (4, 5):
        send(a[1], int(a[2]), int(a[3]), *(float(x) for x in a[4:]))
    elif a and a[0] == "recv" and len(a) in (3, 4):
        recv(int(a[1]), a[2], *(float(x) for x in a[3:]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
