#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""selftests/qemu/xfer.py - the L1 end of the L2 suites' TCP transfers.

  xfer.py send HOST PORT BYTES [TIMEOUT] [--rate BPS] [--until FILE]
      connect (retrying until the deadline while the guest's nc is not
      listening yet), send BYTES of pseudo-random data, half-close, wait for
      the peer's close. BYTES 0 with --until: send until FILE exists.
  xfer.py recv PORT READYFILE [TIMEOUT] [--rate BPS] [--until FILE]
      listen on PORT, create READYFILE, accept one connection, read to EOF.

--rate paces this end to BPS bytes/s (a receiver that reads slowly slows
the sender down through TCP's window) until FILE exists, or throughout
without --until: the migration suite keeps streams going for as long as a
migration takes that way.

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
    def __init__(self, role, want, timeout, rate=0, until=None):
        self.role = role
        self.want = want
        self.t0 = time.monotonic()
        self.deadline = self.t0 + timeout
        self.n = 0
        self.last = self.t0
        self.rate = rate
        self.until = until
        self.paced_from = None  # (time, bytes) when pacing started

    def stop_asked(self):
        return self.until is not None and os.path.exists(self.until)

    def pace(self):
        """Sleep as long as this end is ahead of its --rate."""
        if not self.rate or self.stop_asked():
            return
        now = time.monotonic()
        if self.paced_from is None:
            self.paced_from = (now, self.n)
        t, n = self.paced_from
        ahead = (self.n - n) / self.rate - (now - t)
        if ahead > 0:
            time.sleep(min(ahead, 0.5))

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


def send(host, port, nbytes, timeout=60.0, rate=0, until=None):
    p = Progress("send", nbytes or None, timeout, rate, until)
    step = 1 << 16 if rate else CHUNK
    try:
        s = connect(host, port, p)
    except (OSError, TimeoutError) as e:
        p.fail(f"no connection to {host}:{port} ({e})")
    t0 = time.monotonic()
    block = os.urandom(CHUNK)
    md5 = hashlib.md5()
    i = 0
    try:
        while (p.n < nbytes) if nbytes else not p.stop_asked():
            k = (i * 4099) % CHUNK
            buf = (block[k:] + block[:k])[:step]
            if nbytes:
                buf = buf[:nbytes - p.n]
            md5.update(buf)
            view = memoryview(buf)
            while view:
                s.settimeout(p.left())
                sent = s.send(view)
                view = view[sent:]
                p.add(sent)
            p.pace()
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
    print(f"md5 {md5.hexdigest()} bytes {p.n} secs {secs:.2f}")


def recv(port, ready, timeout=60.0, rate=0, until=None):
    p = Progress("recv", None, timeout, rate, until)
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
            b = s.recv(1 << 14 if p.rate and not p.stop_asked() else 1 << 18)
            if not b:
                break
            md5.update(b)
            p.add(len(b))
            p.pace()
    except (OSError, TimeoutError) as e:
        p.fail(f"peer stopped sending ({e})")
    secs = time.monotonic() - t0
    s.close()
    print(f"md5 {md5.hexdigest()} bytes {p.n} secs {secs:.2f}")


def options(a):
    """Take --rate BPS and --until FILE out of @a."""
    opt = {}
    for name, conv in (("--rate", int), ("--until", str)):
        if name in a:
            i = a.index(name)
            if i + 1 >= len(a):
                sys.exit(__doc__)
            opt[name[2:]] = conv(a[i + 1])
            del a[i:i + 2]
    return opt


def main():
    a = sys.argv[1:]
    opt = options(a)
    if a and a[0] == "send" and len(a) in (4, 5):
        if int(a[3]) == 0 and "until" not in opt:
            sys.exit("send: BYTES 0 needs --until FILE")
        send(a[1], int(a[2]), int(a[3]), *(float(x) for x in a[4:]), **opt)
    elif a and a[0] == "recv" and len(a) in (3, 4):
        recv(int(a[1]), a[2], *(float(x) for x in a[3:]), **opt)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
