#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""selftests/qemu/xfer.py - the L1 end of the L2 suites' TCP transfers.

  xfer.py send HOST PORT BYTES [TIMEOUT]
      connect (retrying until the deadline while the guest's nc is not
      listening yet), send BYTES of pseudo-random data, half-close, wait for
      the peer's close.
  xfer.py recv PORT READYFILE [TIMEOUT]
      listen on PORT, create READYFILE, accept one connection, read to EOF.

TIMEOUT (default 60 s) is one deadline for the whole transfer, counted from
the start, not per socket call. On success both print one line:
  "md5 HEX bytes N secs S"          (S: connect/accept to EOF)
and exit 0. When the transfer does not finish, they print what this end saw:
  "FAIL send: <what> after N of M bytes, S s; last progress at T s"
and exit 1, so a failed case says which side stopped and where.
The data is a random 1 MiB block, rotated differently for every MiB, so a
lost, repeated or reordered chunk changes the checksum.
"""
import hashlib
import os
import socket
import sys
import time

CHUNK = 1 << 20


class Progress:
    def __init__(self, role, want, timeout):
        self.role = role
        self.want = want
        self.t0 = time.monotonic()
        self.deadline = self.t0 + timeout
        self.n = 0
        self.last = self.t0

    def left(self):
        t = self.deadline - time.monotonic()
        if t <= 0:
            raise TimeoutError("deadline passed")
        return t

    def add(self, k):
        self.n += k
        self.last = time.monotonic()

    def fail(self, what):
        now = time.monotonic()
        want = f" of {self.want}" if self.want is not None else ""
        print(f"FAIL {self.role}: {what} after {self.n}{want} bytes, "
              f"{now - self.t0:.1f} s; last progress at {self.last - self.t0:.1f} s",
              flush=True)
        sys.exit(1)


def connect(host, port, p):
    while True:
        try:
            return socket.create_connection((host, port), timeout=min(5, p.left()))
        except OSError:
            if p.deadline - time.monotonic() < 0.2:
                raise
            time.sleep(0.2)


def send(host, port, nbytes, timeout=60.0):
    p = Progress("send", nbytes, timeout)
    try:
        s = connect(host, port, p)
    except (OSError, TimeoutError) as e:
        p.fail(f"no connection to {host}:{port} ({e})")
    t0 = time.monotonic()
    block = os.urandom(CHUNK)
    md5 = hashlib.md5()
    i = 0
    try:
        while p.n < nbytes:
            k = (i * 4099) % CHUNK
            buf = (block[k:] + block[:k])[:nbytes - p.n]
            md5.update(buf)
            view = memoryview(buf)
            while view:
                s.settimeout(p.left())
                sent = s.send(view)
                view = view[sent:]
                p.add(sent)
            i += 1
        s.shutdown(socket.SHUT_WR)
        while True:
            s.settimeout(p.left())
            if not s.recv(65536):
                break
    except (OSError, TimeoutError) as e:
        p.fail(f"peer stopped ({e})")
    secs = time.monotonic() - t0
    s.close()
    print(f"md5 {md5.hexdigest()} bytes {nbytes} secs {secs:.2f}")


def recv(port, ready, timeout=60.0):
    p = Progress("recv", None, timeout)
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("0.0.0.0", port))
    ls.listen(1)
    open(ready, "w").close()
    try:
        ls.settimeout(p.left())
        s, _ = ls.accept()
    except (OSError, TimeoutError) as e:
        p.fail(f"no connection on port {port} ({e})")
    t0 = time.monotonic()
    md5 = hashlib.md5()
    try:
        while True:
            s.settimeout(p.left())
            b = s.recv(1 << 18)
            if not b:
                break
            md5.update(b)
            p.add(len(b))
    except (OSError, TimeoutError) as e:
        p.fail(f"peer stopped sending ({e})")
    secs = time.monotonic() - t0
    s.close()
    print(f"md5 {md5.hexdigest()} bytes {p.n} secs {secs:.2f}")


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
