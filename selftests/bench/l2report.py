#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""selftests/bench/l2report.py - turn l2bench.sh's raw samples into numbers.

  l2report.py RAWDIR JSON        parse RAWDIR, write JSON, print the table
  l2report.py --md JSON [SIMJSON]  a markdown snippet (both tables) on stdout
  l2report.py --plotdata JSON DIR  gnuplot data files in DIR
  l2report.py --table JSON       the table again, from the JSON
  l2report.py --simtable SIMJSON   sim.sh's table, from its JSON

Every figure comes from the raw samples of one VM run: counters read at the
start and the end of a measurement window (tap statistics, schedstat,
vhostx's debugfs, the guest's own counters) and tracefs histograms armed over
that window. Figures that are not measured carry the label "derived".
"""
import glob
import json
import os
import re
import statistics
import sys

BACKENDS = ["qemu-noioev", "qemu", "vhost_net", "vhostx"]
TESTS = ["tx64", "tx1500", "rx64", "rx1500", "tcp_tx", "tcp_rx"]
VNET_HDR = 12   # QEMU sets the tap's vnet header size to 12 (virtio 1.0)
MIB = 1 << 20


def read(path, default=""):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return default


def exit_names():
    """SVM and VMX exit reason numbers -> names, from the kernel's UAPI headers."""
    names = {"svm": {}, "vmx": {}}
    for f in glob.glob("/usr/src/linux-headers-*/arch/x86/include/uapi/asm/svm.h"):
        for m in re.finditer(r"#define\s+SVM_EXIT_(\w+)\s+(0x[0-9a-fA-F]+|\d+)", read(f)):
            names["svm"].setdefault(int(m.group(2), 0), m.group(1).lower())
    for f in glob.glob("/usr/src/linux-headers-*/arch/x86/include/uapi/asm/vmx.h"):
        for m in re.finditer(r"#define\s+EXIT_REASON_(\w+)\s+(\d+)", read(f)):
            names["vmx"].setdefault(int(m.group(2)), m.group(1).lower())
    return names


KVM_EXIT_REASONS = {  # <linux/kvm.h> KVM_EXIT_*
    0: "unknown", 1: "exception", 2: "io", 3: "hypercall", 4: "debug", 5: "hlt",
    6: "mmio", 7: "irq_window_open", 8: "shutdown", 9: "fail_entry", 10: "intr",
    11: "set_tpr", 12: "tpr_access", 17: "internal_error", 24: "system_event",
}


def parse_hist(text):
    """tracefs hist output -> list of (key string, {val: number})."""
    rows = []
    for line in text.splitlines():
        m = re.match(r"^\{\s*(.*?)\s*\}\s+(.*)$", line)
        if not m:
            continue
        vals = {k: int(v) for k, v in re.findall(r"(\w+):\s*(-?\d+)", m.group(2))}
        rows.append((m.group(1), vals))
    return rows


def hist_by_field(text):
    out = {}
    for key, vals in parse_hist(text):
        k = key.split(":", 1)[1].strip()
        out[k] = out.get(k, 0) + vals.get("hitcount", 0)
    return out


def hist_by_pid(text):
    """{pid: (comm, hits, bytes)}"""
    out = {}
    for key, vals in parse_hist(text):
        m = re.match(r"common_pid:\s*(.*?)\s*\[\s*(\d+)\]", key)
        if m:
            out[int(m.group(2))] = (m.group(1), vals.get("hitcount", 0), vals.get("bytes", 0))
    return out


def hist_dropped(text):
    m = re.search(r"Dropped:\s*(\d+)", text)
    return int(m.group(1)) if m else 0


# The histograms are cumulative over the run: a window is B - A.
def field_delta(d, name):
    a, b = hist_by_field(read(d + "/A/" + name)), hist_by_field(read(d + "/B/" + name))
    return {k: n - a.get(k, 0) for k, n in b.items() if n - a.get(k, 0)}


def pid_delta(d, name):
    a, b = hist_by_pid(read(d + "/A/" + name)), hist_by_pid(read(d + "/B/" + name))
    out = {}
    for pid, (comm, h, by) in b.items():
        ah, ab = a.get(pid, (comm, 0, 0))[1:]
        if h - ah:
            out[pid] = (comm, h - ah, by - ab)
    return out


def kv_file(path):
    out = {}
    for line in read(path).splitlines():
        p = line.split()
        if len(p) >= 2:
            out[p[0]] = int(p[1])
    return out


def cpu_file(path):
    """{tid: (source, ns, comm)}"""
    out = {}
    for line in read(path).splitlines():
        p = line.split(None, 3)
        if len(p) == 4 and p[2].isdigit():
            out[int(p[1])] = (p[0], int(p[2]), p[3])
    return out


def vhx_file(path, owner):
    """vhostx debugfs -> {"rx": {counter: n}, "tx": {...}} for the devices of owner."""
    out = {}
    mine = False
    q = None
    for line in read(path).splitlines():
        p = line.split()
        if not p:
            continue
        if p[0] == "dev":
            mine = len(p) > 3 and p[3] == str(owner)
        elif p[0] == "vq" and mine:
            q = p[2]
        elif mine and q and p[0] == "kicks":
            d = out.setdefault(q, {})
            for i in range(0, len(p) - 1, 2):
                d[p[i]] = d.get(p[i], 0) + int(p[i + 1])
            q = None
    return out


def guest_window(text):
    g = [line.split() for line in text.splitlines() if line.startswith("G ")]
    if len(g) < 2:
        return None
    a, b = g[0], g[-1]
    f = lambda i: int(b[i]) - int(a[i])
    return {"secs": float(b[1]) - float(a[1]), "tx_packets": f(2), "rx_packets": f(3),
            "tx_bytes": f(4), "rx_bytes": f(5), "irq_in": f(6), "irq_out": f(7)}


def classify(tid, comm, qpid, qtids):
    if tid in qtids:
        if re.match(r"CPU \d+/KVM", comm):
            return "qemu_vcpu"
        return "qemu_main" if tid == qpid else "qemu_other"
    if comm in ("vhost-%d" % qpid, "vhostx-%d" % qpid):
        return "worker"
    if comm.startswith("kpktgend_"):
        return "pktgen"
    if comm.startswith("ksoftirqd/"):
        return "ksoftirqd"
    if comm == "iperf3":
        return "iperf3"
    return "other"


DATAPATH = ("qemu_vcpu", "qemu_main", "qemu_other", "worker")


def one_run(d, backend, test, isa, names):
    qpid = int(read(d + "/qpid", "0").strip() or 0)
    A, B = d + "/A", d + "/B"
    # The tap is read at the start and at the end of each snapshot; the
    # other counters in between: take the mean of the two reads.
    def mid(snap, name, alt):
        a, b = read(snap + "/" + name).strip(), read(snap + "/" + alt).strip()
        return (float(a) + float(b)) / 2 if b else float(a)

    def tapmid(snap):
        a, b = kv_file(snap + "/tap"), kv_file(snap + "/tap_end")
        return {k: (v + b[k]) / 2 if k in b else v for k, v in a.items()}
    secs = mid(B, "t", "t_end") - mid(A, "t", "t_end")
    ta, tb = tapmid(A), tapmid(B)
    tap = {k: round(tb.get(k, 0) - ta.get(k, 0)) for k in tb}
    tx = test.startswith("tx") or test == "tcp_tx"   # guest -> tap
    # The tap's rx side is what the guest sent; its tx side what the backend
    # took off the tap for the guest (tun_put_user counts it).
    packets = tap["rx_packets"] if tx else tap["tx_packets"]
    nbytes = tap["rx_bytes"] if tx else tap["tx_bytes"]
    r = {"backend": backend, "test": test, "secs": round(secs, 3), "packets": packets,
         "bytes": nbytes, "pps": packets / secs if secs > 0 else 0,
         "mbit_s": nbytes * 8 / secs / 1e6 if secs > 0 else 0, "tap": tap}
    g = guest_window(read(d + "/guest"))
    if g:
        gp = g["tx_packets"] if tx else g["rx_packets"]
        r["guest"] = g
        r["guest_pps"] = gp / g["secs"] if g["secs"] > 0 else 0
        r["guest_irqs"] = g["irq_in"] + g["irq_out"]
        r["guest_irqs_per_pkt"] = r["guest_irqs"] / gp if gp else None
    m = re.search(r"([\d.]+)\s+([KMG]?)bits/sec\s.*receiver", read(d + "/guest"))
    if m:
        r["iperf3_mbit_s"] = float(m.group(1)) * {"": 1e-6, "K": 1e-3, "M": 1, "G": 1e3}[m.group(2)]
    # normaliser: per packet for pktgen, per MiB for TCP
    per = packets if not test.startswith("tcp") else nbytes / MIB
    r["per"] = "pkt" if not test.startswith("tcp") else "MiB"
    div = lambda x: (x / per) if per else None

    ex = field_delta(d, "hist.kvm_kvm_exit")
    byname = {}
    for k, n in ex.items():
        try:
            code = int(k, 0)
        except ValueError:
            code = None
        nm = names.get(isa, {}).get(code, k) if code is not None else k
        byname[nm] = byname.get(nm, 0) + n
    r["exits"] = sum(ex.values())
    r["exits_by_reason"] = dict(sorted(byname.items(), key=lambda x: -x[1]))
    ue = field_delta(d, "hist.kvm_kvm_userspace_exit")
    r["uexits"] = sum(ue.values())
    r["uexits_by_reason"] = {KVM_EXIT_REASONS.get(int(k), k) if k.isdigit() else k: n for k, n in ue.items()}
    r["apic_accept_irq"] = sum(field_delta(d, "hist.kvm_kvm_apic_accept_irq").values())
    r["inj_virq"] = sum(field_delta(d, "hist.kvm_kvm_inj_virq").values())
    for k in ("exits", "uexits", "apic_accept_irq", "inj_virq"):
        r[k + "_per"] = div(r[k])

    # CPU time (schedstat ns) by thread class
    ca, cb = cpu_file(A + "/cpu"), cpu_file(B + "/cpu")
    qtids = {t for t, v in cb.items() if v[0] == "qemu"} | {t for t, v in ca.items() if v[0] == "qemu"}
    cpu = {}
    for t, (src, ns, comm) in cb.items():
        if t in ca:
            c = classify(t, comm, qpid, qtids)
            cpu[c] = cpu.get(c, 0) + ns - ca[t][1]
    r["cpu_ns"] = cpu
    r["cpu_us_per"] = {c: (ns / 1000 / per if per else None) for c, ns in cpu.items()}
    r["cpu_us_per_datapath"] = div(sum(cpu.get(c, 0) for c in DATAPATH) / 1000)

    # copies, by thread class
    comms = {t: v[2] for t, v in cb.items()}
    cop = {}
    for probe in ("rx", "tx", "xb", "qfb", "qtb"):
        fn = ("hist.vhxu_" if probe.startswith("q") else "hist.vhxb_") + probe
        if not os.path.exists(B + "/" + fn):
            continue
        r["hist_dropped"] = r.get("hist_dropped", 0) + hist_dropped(read(B + "/" + fn))
        for pid, (comm, hits, b) in pid_delta(d, fn).items():
            c = classify(pid, comms.get(pid, comm), qpid, qtids)
            e = cop.setdefault(probe, {}).setdefault(c, {"hits": 0, "bytes": 0})
            e["hits"] += hits
            e["bytes"] += b
    r["copy_probes"] = cop
    dp = lambda probe: sum(v["bytes"] for c, v in cop.get(probe, {}).items() if c in DATAPATH)
    dph = lambda probe: sum(v["hits"] for c, v in cop.get(probe, {}).items() if c in DATAPATH)
    notes = []
    if tx:
        # Payload only: tun_get_user and vhx_tx_batch_add see vnet header + frame.
        tgu = dp("tx") - VNET_HDR * dph("tx")
        xb = dp("xb") - VNET_HDR * dph("xb")
        if backend == "vhostx":
            # vhx_tx_batch_add sees every frame while batching; those it
            # refuses (bigger than a page) go on to tun_get_user.
            kern = max(tgu, xb)
        else:
            kern = tgu
        if backend == "vhost_net" and nbytes > kern:
            # vhost_net_build_xdp (inlined, no probe point) copies the frames
            # that do not go through tun_get_user, once each.
            notes.append("derived: vhost_net_build_xdp copies the %d bytes not seen by tun_get_user once" % (nbytes - kern))
            r["kernel_copy_derived"] = True
            kern = nbytes
        user = dp("qtb")
    else:
        kern = dp("rx")
        user = dp("qfb")
    if not os.path.exists(B + "/hist.vhxb_rx"):     # run with VHX_BENCH_COPYPROBES=0
        kern = user = None
        notes = ["not measured (VHX_BENCH_COPYPROBES=0)"]
        r.pop("kernel_copy_derived", None)
    if not os.path.exists(B + "/hist.vhxu_qfb"):
        user = None
    r["kernel_copy_bytes"] = kern
    r["user_copy_bytes"] = user
    r["kernel_copy_per_byte"] = kern / nbytes if nbytes and kern is not None else None
    r["user_copy_per_byte"] = user / nbytes if nbytes and user is not None else None
    r["copy_notes"] = notes

    if backend == "vhostx":
        va, vb = vhx_file(A + "/vhx", qpid), vhx_file(B + "/vhx", qpid)
        vd = {q: {k: vb[q][k] - va.get(q, {}).get(k, 0) for k in vb[q]} for q in vb}
        r["vhostx_counters"] = vd
        q = "tx" if tx else "rx"
        if q in vd:
            if tx:
                probe = max(dp("xb"), dp("tx"))
            else:
                probe = dp("rx") + VNET_HDR * dph("rx")
            r["vhostx_bytes_copied"] = vd[q].get("bytes_copied", 0)
            r["vhostx_probe_bytes"] = probe
            r["vhostx_counter_vs_probe"] = (vd[q].get("bytes_copied", 0) / probe) if probe else None
    missed = lambda t: sum(int(p[2]) for p in (line.split() for line in t.splitlines())
                           if len(p) == 3 and p[0].startswith("vhxb"))
    r["kprobe_missed"] = missed(read(B + "/kprobe_profile")) - missed(read(A + "/kprobe_profile"))
    return r


def spread(vals):
    v = [x for x in vals if x is not None]
    if not v:
        return None
    return {"median": statistics.median(v), "min": min(v), "max": max(v), "n": len(v)}


SUMMARY_KEYS = ["pps", "guest_pps", "mbit_s", "iperf3_mbit_s", "exits_per", "uexits_per", "apic_accept_irq_per",
                "inj_virq_per", "guest_irqs_per_pkt", "cpu_us_per_datapath", "kernel_copy_per_byte",
                "user_copy_per_byte", "vhostx_counter_vs_probe"]
CPU_CLASSES = ["qemu_vcpu", "qemu_main", "qemu_other", "worker", "pktgen", "iperf3", "ksoftirqd"]


def summarize(runs):
    out = []
    for t in TESTS:
        for b in BACKENDS:
            rs = [r for r in runs if r["backend"] == b and r["test"] == t]
            if not rs:
                continue
            s = {"backend": b, "test": t, "per": rs[0]["per"], "rounds": len(rs)}
            for k in SUMMARY_KEYS:
                s[k] = spread([r.get(k) for r in rs])
            s["cpu_us_per"] = {c: spread([r["cpu_us_per"].get(c, 0) for r in rs]) for c in CPU_CLASSES}
            s["kernel_copy_derived"] = any(r.get("kernel_copy_derived") for r in rs)
            reasons = {}
            for r in rs:
                for k, n in r["exits_by_reason"].items():
                    reasons.setdefault(k, []).append(n / r["packets"] if r["packets"] and r["per"] == "pkt" else None)
            s["exits_per_by_reason"] = {k: statistics.median([x for x in v if x is not None])
                                        for k, v in reasons.items() if any(x is not None for x in v)}
            ur = {}
            for r in rs:
                for k, n in r["uexits_by_reason"].items():
                    ur.setdefault(k, []).append(n / r["packets"] if r["packets"] and r["per"] == "pkt" else None)
            s["uexits_per_by_reason"] = {k: statistics.median([x for x in v if x is not None])
                                         for k, v in ur.items() if any(x is not None for x in v)}
            out.append(s)
    return out


def med(s, k):
    v = s.get(k)
    return v["median"] if v else None


def goals(summary):
    get = lambda b, t: next((s for s in summary if s["backend"] == b and s["test"] == t), None)
    g = []
    for t in ("tx64", "rx64"):
        x, n = get("vhostx", t), get("vhost_net", t)
        if not x or not n:
            continue
        key = "pps" if t.startswith("tx") else "guest_pps"
        a, b = med(x, key), med(n, key)
        if a is not None and b:
            g.append({"goal": "vhostx >= vhost_net, %s packets/s" % t, "vhostx": a, "vhost_net": b,
                      "ratio": a / b, "met": a >= b})
        ue = med(x, "uexits_per")
        if ue is not None:
            g.append({"goal": "vhostx exits to userspace per packet ~ 0, %s" % t, "vhostx": ue,
                      "met": ue < 0.01})
        for k, what in (("exits_per", "VM exits"), ("guest_irqs_per_pkt", "guest interrupts"),
                        ("inj_virq_per", "injected interrupts (kvm_inj_virq)")):
            a, b = med(x, k), med(n, k)
            if a is not None and b is not None:
                g.append({"goal": "vhostx %s per packet <= vhost_net's, %s" % (what, t), "vhostx": a,
                          "vhost_net": b, "met": a <= b * 1.0})
    return g


def sig(x):
    if x is None:
        return "-"
    return "%d" % round(x) if abs(x) >= 1000 else "%.3g" % x


def fmt(x, nd=2):
    if x is None:
        return "-"
    if abs(x) >= 1000:
        return "%d" % round(x)
    if abs(x) >= 100:
        return "%.0f" % x
    if abs(x) >= 10:
        return "%.1f" % x
    return ("%%.%df" % nd) % x


def rate(s):
    if s["test"].startswith("tcp"):
        v = s["mbit_s"]
        return fmt(v["median"]) + " Mb/s", "%s..%s" % (fmt(v["min"]), fmt(v["max"]))
    key = "guest_pps" if s["test"].startswith("rx") and s.get("guest_pps") else "pps"
    v = s[key]
    return "%d pps" % round(v["median"]), "%d..%d" % (round(v["min"]), round(v["max"]))


HEAD = ["test", "backend", "rate", "(min..max)", "per", "exits", "uexits", "g.irqs", "inj", "cpu_us", "vcpu",
        "main", "worker", "copy_k", "copy_u"]


def table_rows(summary):
    rows = []
    for s in summary:
        rt, rng = rate(s)
        c = s["cpu_us_per"]
        ck = fmt(med(s, "kernel_copy_per_byte")) + ("*" if s["kernel_copy_derived"] else "")
        rows.append([s["test"], s["backend"], rt, rng, s["per"], fmt(med(s, "exits_per")),
                     fmt(med(s, "uexits_per")), fmt(med(s, "guest_irqs_per_pkt")), fmt(med(s, "inj_virq_per")),
                     fmt(med(s, "cpu_us_per_datapath")),
                     fmt(c["qemu_vcpu"]["median"] if c["qemu_vcpu"] else None),
                     fmt(c["qemu_main"]["median"] if c["qemu_main"] else None),
                     fmt(c["worker"]["median"] if c["worker"] else None),
                     ck, fmt(med(s, "user_copy_per_byte"))])
    return rows


LEGEND = """rate: tx = frames/s the tap received from the guest; rx = frames/s the guest's eth0 received;
  tcp = Mbit/s of frames through the tap (iperf3, one stream). Median of the rounds, (min..max).
per: the unit of the next columns: per packet (pktgen) or per MiB (TCP).
exits: kvm_exit (all reasons); uexits: kvm_userspace_exit; g.irqs: the guest's virtio-net
  interrupts per packet the guest counted; inj: kvm_inj_virq (every injected interrupt, timer too).
cpu_us: on-CPU microseconds of QEMU's threads + the vhost worker (schedstat); vcpu/main/worker: split.
copy_k / copy_u: bytes copied per byte delivered, by the kernel on the tap path (kprobes) and by
  QEMU itself (uprobes on iov_from_buf_full / iov_to_buf_full); * = derived, see JSON."""


def print_table(summary, gl, meta, out=sys.stdout):
    rows = table_rows(summary)
    w = [max(len(str(x)) for x in col) for col in zip(HEAD, *rows)]
    print("L2 guest benchmark (%s, %s rounds x %s s): %s" % (meta.get("mode"), meta.get("rounds"),
                                                             meta.get("secs"), meta.get("qemu", "")), file=out)
    for r in [HEAD] + rows:
        print("  ".join(str(x).rjust(w[i]) if i > 1 else str(x).ljust(w[i]) for i, x in enumerate(r)), file=out)
    print(LEGEND, file=out)
    for x in gl:
        print("goal: %-62s %s  %s" % (x["goal"], "MET " if x["met"] else "NOT MET",
                                       ", ".join("%s=%s" % (k, sig(x[k])) for k in ("vhostx", "vhost_net", "ratio") if k in x)),
              file=out)


def build(raw, out):
    meta = {}
    for line in read(raw + "/meta").splitlines():
        k, _, v = line.partition(" ")
        meta[k] = v
    isa = "svm" if meta.get("kvm_module") == "kvm_amd" else "vmx"
    names = exit_names()
    runs = []
    for d in sorted(glob.glob(raw + "/[0-9]*/*/*")):
        if not os.path.exists(d + "/B/t"):
            continue
        rnd, backend, test = d.split("/")[-3:]
        try:
            r = one_run(d, backend, test, isa, names)
        except (ValueError, KeyError, ZeroDivisionError) as e:
            print("l2report: %s: %s" % (d, e), file=sys.stderr)
            continue
        r["round"] = int(rnd)
        runs.append(r)
    summary = summarize(runs)
    gl = goals(summary)
    cmdlines = {b: read(raw + "/cmdline." + b).strip() for b in BACKENDS if os.path.exists(raw + "/cmdline." + b)}
    doc = {"meta": meta, "qemu_cmdlines": cmdlines, "summary": summary, "goals": gl, "runs": runs}
    with open(out, "w") as f:
        json.dump(doc, f, indent=1)
    print_table(summary, gl, meta)
    return 0 if runs else 1


def markdown(jpath, simpath=None):
    doc = json.load(open(jpath))
    meta = doc["meta"]
    print("<!-- generated by selftests/bench/l2report.py --md from one `make bench` run -->")
    print("Run: %s, mode %s, %s round(s) x %s s windows, git %s; test VM kernel %s, %s CPUs (%s), %s;"
          " L2 guest %s, 1 vCPU%s, /dev/kvm via %s under TCG." % (
              meta.get("date"), meta.get("mode"), meta.get("rounds"), meta.get("secs"), meta.get("git"),
              meta.get("kernel"), meta.get("ncpu"), meta.get("cpu"), meta.get("qemu"), meta.get("l2_mem"),
              " (its thread pinned to CPU %s)" % meta["vcpu_pinned_to"] if "vcpu_pinned_to" in meta else "",
              meta.get("kvm_module")))
    print()
    rows = table_rows(doc["summary"])
    print("| " + " | ".join(HEAD) + " |")
    print("|" + "|".join("---" for _ in HEAD) + "|")
    for r in rows:
        print("| " + " | ".join(str(x) for x in r) + " |")
    print()
    for x in doc["goals"]:
        print("- %s: **%s** (%s)" % (x["goal"], "met" if x["met"] else "not met",
                                    ", ".join("%s %s" % (k, sig(x[k])) for k in ("vhostx", "vhost_net", "ratio") if k in x)))
    print()
    # exit reasons per packet, 64-byte runs
    print("VM exits per packet by reason (median), 64-byte frames:")
    print()
    print("| test | backend | kvm_exit reasons per packet (top 5) | kvm_userspace_exit reasons per packet |")
    print("|---|---|---|---|")
    for s in doc["summary"]:
        if s["test"] in ("tx64", "rx64"):
            top = sorted(s["exits_per_by_reason"].items(), key=lambda x: -x[1])[:5]
            ue = sorted(s.get("uexits_per_by_reason", {}).items(), key=lambda x: -x[1])
            print("| %s | %s | %s | %s |" % (s["test"], s["backend"], ", ".join("%s %s" % (k, sig(v)) for k, v in top),
                                            ", ".join("%s %s" % (k, sig(v)) for k, v in ue) or "0"))
    print()
    x = [s for s in doc["summary"] if s["backend"] == "vhostx" and s.get("vhostx_counter_vs_probe")]
    if x:
        print("vhostx's own bytes_copied counter / the kprobe figure: " +
              ", ".join("%s %s" % (s["test"], fmt(med(s, "vhostx_counter_vs_probe"), 3)) for s in x))
        print()
    if simpath and os.path.exists(simpath):
        sim = json.load(open(simpath))
        print("Userspace guest driver, no L2 (selftests/bench/sim.sh), packets/s:")
        print()
        cols = [k for k in sim["rows"][0].keys() if k != "test"] if sim.get("rows") else []
        print("| test | " + " | ".join(cols) + " |")
        print("|---|" + "|".join("---" for _ in cols) + "|")
        for r in sim.get("rows", []):
            print("| %s | %s |" % (r["test"], " | ".join(str(r[c]) for c in cols)))
        print()


def plotdata(jpath, d):
    doc = json.load(open(jpath))
    os.makedirs(d, exist_ok=True)
    get = lambda b, t: next((s for s in doc["summary"] if s["backend"] == b and s["test"] == t), None)
    with open(d + "/pps.dat", "w") as f:
        f.write("# test " + " ".join("%s %s_min %s_max" % (b, b, b) for b in BACKENDS) + "\n")
        for t in ("tx64", "tx1500", "rx64", "rx1500"):
            vals = []
            for b in BACKENDS:
                s = get(b, t)
                key = "guest_pps" if t.startswith("rx") else "pps"
                v = s[key] if s and s.get(key) else None
                vals += [v["median"], v["min"], v["max"]] if v else [0, 0, 0]
            f.write(t + " " + " ".join("%.1f" % x for x in vals) + "\n")
    with open(d + "/tcp.dat", "w") as f:
        for t in ("tcp_tx", "tcp_rx"):
            vals = []
            for b in BACKENDS:
                s = get(b, t)
                v = s["mbit_s"] if s and s.get("mbit_s") else None
                vals += [v["median"], v["min"], v["max"]] if v else [0, 0, 0]
            f.write(t + " " + " ".join("%.2f" % x for x in vals) + "\n")
    with open(d + "/perpkt.dat", "w") as f:
        f.write("# test backend exits uexits guest_irqs inj_virq\n")
        for t in ("tx64", "rx64"):
            for b in BACKENDS:
                s = get(b, t)
                if s:
                    f.write("%s:%s %s\n" % (t, b, " ".join("%.3f" % (med(s, k) or 0) for k in
                                                          ("exits_per", "uexits_per", "guest_irqs_per_pkt", "inj_virq_per"))))
    with open(d + "/cpu.dat", "w") as f:
        f.write("# test:backend qemu_vcpu qemu_main qemu_other worker\n")
        for t in ("tx64", "rx64"):
            for b in BACKENDS:
                s = get(b, t)
                if s:
                    c = s["cpu_us_per"]
                    f.write("%s:%s %s\n" % (t, b, " ".join("%.2f" % (c[k]["median"] if c.get(k) else 0) for k in
                                                          ("qemu_vcpu", "qemu_main", "qemu_other", "worker"))))


def simtable(jpath):
    sim = json.load(open(jpath))
    rows = sim.get("rows", [])
    if not rows:
        return
    cols = list(rows[0].keys())
    w = [max(len(str(c)), max(len(str(r[c])) for r in rows)) for c in cols]
    print("Userspace guest driver, no L2 (sim.sh), %s:" % sim.get("unit", "packets/s"))
    for r in [dict(zip(cols, cols))] + rows:
        print("  ".join(str(r[c]).rjust(w[i]) for i, c in enumerate(cols)))


if __name__ == "__main__":
    a = sys.argv[1:]
    if a and a[0] == "--table":
        doc = json.load(open(a[1]))
        print_table(doc["summary"], doc["goals"], doc["meta"])
    elif a and a[0] == "--simtable":
        simtable(a[1])
    elif a and a[0] == "--md":
        markdown(a[1], a[2] if len(a) > 2 else None)
    elif a and a[0] == "--plotdata":
        plotdata(a[1], a[2])
    elif len(a) == 2:
        sys.exit(build(a[0], a[1]))
    else:
        sys.exit(__doc__)
