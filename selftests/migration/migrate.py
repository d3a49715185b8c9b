#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""selftests/migration/migrate.py - one live migration, driven over QMP.

  migrate.py SRC_QMP DST_QMP URI GUEST_IP [--cancel-after SECS]
             [--bandwidth BPS] [--timeout SECS]

Pings GUEST_IP every 10 ms from here, has the source QEMU (SRC_QMP) migrate to
URI (the destination QEMU, started with -incoming URI, answers on DST_QMP),
waits until the migration completes and the destination runs, and keeps
pinging for 2 s more. With --cancel-after, cancels the migration that many
seconds after it became active and waits until the source runs again.

Prints key=value lines: status, QEMU's own numbers (total_ms, downtime_ms,
ram_transferred, dirty_syncs) and what the guest showed: pings sent and
answered, and gap_ms, the longest time without a reply while the migration
ran (the guest-visible downtime, within 10 ms). Exit 0 when the migration
ended as asked (completed, or cancelled with --cancel-after) with the guest
answering afterwards; 1 otherwise.
"""
import json
import os
import socket
import struct
import sys
import threading
import time


class Qmp:
    def __init__(self, path, timeout=30):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        end = time.monotonic() + timeout
        while True:
            try:
                self.s.connect(path)
                break
            except OSError:
                if time.monotonic() > end:
                    raise
                time.sleep(0.2)
        self.f = self.s.makefile("r")
        self._reply()
        self.cmd("qmp_capabilities")

    def _reply(self):
        while True:
            line = self.f.readline()
            if not line:
                raise OSError("QMP connection closed")
            msg = json.loads(line)
            if "event" not in msg:
                return msg

    def cmd(self, name, args=None):
        req = {"execute": name}
        if args is not None:
            req["arguments"] = args
        self.s.sendall((json.dumps(req) + "\n").encode())
        msg = self._reply()
        if "error" in msg:
            raise RuntimeError(f"{name}: {msg['error'].get('desc', msg['error'])}")
        return msg.get("return")


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


class Pinger(threading.Thread):
    """ICMP echo every 10 ms; records when each reply came."""

    def __init__(self, ip):
        super().__init__(daemon=True)
        self.ip = ip
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        self.sock.settimeout(0.01)
        self.icmp_id = os.getpid() & 0xFFFF
        self.sent = 0
        self.replies = []  # monotonic times
        self.stop = False

    def run(self):
        seq, nxt = 0, time.monotonic()
        while not self.stop:
            now = time.monotonic()
            if now >= nxt:
                seq = (seq + 1) & 0xFFFF
                hdr = struct.pack("!BBHHH", 8, 0, 0, self.icmp_id, seq)
                pkt = struct.pack("!BBHHH", 8, 0, csum(hdr + b"vhx" * 8), self.icmp_id, seq) + b"vhx" * 8
                try:
                    self.sock.sendto(pkt, (self.ip, 0))
                    self.sent += 1
                except OSError:
                    pass
                nxt += 0.01
                if nxt < now:
                    nxt = now + 0.01
            try:
                data, addr = self.sock.recvfrom(2048)
            except (socket.timeout, OSError):
                continue
            ihl = (data[0] & 0x0F) * 4
            if addr[0] == self.ip and len(data) >= ihl + 8:
                typ, _, _, ident, _ = struct.unpack("!BBHHH", data[ihl:ihl + 8])
                if typ == 0 and ident == self.icmp_id:
                    self.replies.append(time.monotonic())

    def gap(self, t0, t1):
        """Longest time without a reply within [t0, t1]."""
        pts = [t0] + [t for t in self.replies if t0 <= t <= t1] + [t1]
        return max(b - a for a, b in zip(pts, pts[1:]))

    def answered_since(self, t):
        return sum(1 for r in self.replies if r >= t)


def opt(a, name, conv, default):
    if name in a:
        i = a.index(name)
        v = conv(a[i + 1])
        del a[i:i + 2]
        return v
    return default


def main():
    a = sys.argv[1:]
    cancel = opt(a, "--cancel-after", float, None)
    bw = opt(a, "--bandwidth", int, None)
    timeout = opt(a, "--timeout", float, 600.0)
    if len(a) != 4:
        sys.exit(__doc__)
    src_path, dst_path, uri, ip = a
    src, dst = Qmp(src_path), Qmp(dst_path)
    pinger = Pinger(ip)
    pinger.start()
    time.sleep(1)
    out = {"pings_before": pinger.answered_since(0)}
    if bw:
        src.cmd("migrate-set-parameters", {"max-bandwidth": bw})
    t0 = time.monotonic()
    src.cmd("migrate", {"uri": uri})
    active_at, cancelled, info = None, False, {}
    while time.monotonic() - t0 < timeout:
        info = src.cmd("query-migrate")
        st = info.get("status")
        if st == "active" and active_at is None:
            active_at = time.monotonic()
        if cancel is not None and not cancelled and active_at and \
                time.monotonic() - active_at >= cancel:
            src.cmd("migrate_cancel")
            cancelled = True
        if st in ("completed", "failed", "cancelled"):
            # QEMU sets the state a moment before its final numbers.
            time.sleep(0.5)
            info = src.cmd("query-migrate")
            break
        time.sleep(0.2)
    t1 = time.monotonic()
    st = info.get("status")
    ok = st == ("cancelled" if cancel is not None else "completed")
    # The guest runs on: the destination after a migration, else the source.
    run = dst if st == "completed" else src
    for _ in range(100):
        if run.cmd("query-status").get("status") == "running":
            break
        time.sleep(0.1)
    else:
        ok = False
    time.sleep(2)
    t2 = time.monotonic()
    pinger.stop = True
    pinger.join()
    ram = info.get("ram", {})
    out.update(status=st, total_ms=info.get("total-time", 0),
               downtime_ms=info.get("downtime", 0),
               ram_transferred=ram.get("transferred", 0),
               dirty_syncs=ram.get("dirty-sync-count", 0),
               pings_sent=pinger.sent, pings_answered=len(pinger.replies),
               gap_ms=int(pinger.gap(t0, t2) * 1000),
               answered_after=pinger.answered_since(t1 + 1),
               secs=f"{t1 - t0:.1f}")
    if st == "failed":
        out["error"] = json.dumps(info.get("error-desc", ""))
    if out["answered_after"] == 0:
        ok = False
    for k, v in out.items():
        print(f"{k}={v}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
