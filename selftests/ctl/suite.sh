# SPDX-License-Identifier: GPL-2.0
# selftests/ctl: the management plane, checked against the traffic that
# really went through: vhostxctl's counters against what a guest sent and
# against the tracepoints, the netlink family's permissions, its answers to
# malformed requests, a 1000-device dump, and the broken-queue event.
# Sourced by run_suite.sh. Built on the host:
#   make ctl && make -C selftests/ctl   (-> build/ctl/vhostxctl, build/selftests/nl_test)
# VHX_CTL and VHX_NL_TEST override the binaries. Leaves vhostx unloaded.

CTL_BIN=${VHX_CTL:-$TOP/build/ctl/vhostxctl}
CTL_NL=${VHX_NL_TEST:-$TOP/build/selftests/nl_test}
CTL_TMP=$(mktemp -d /tmp/ctl.XXXXXX)
CTL_TRACEFS=/sys/kernel/tracing
# Packets per direction: exact counts (cases 1 and 3) and the burst (case 2).
CTL_N=${VHX_CTL_N:-1000}
CTL_BURST=${VHX_CTL_BURST:-20000}
CTL_DEVS=${VHX_CTL_DEVS:-1000}

ctl_built()
{
	[ -x "$CTL_BIN" ] || fail "$CTL_BIN missing: run 'make ctl' on the host"
	[ -x "$CTL_NL" ] || fail "$CTL_NL missing: run 'make -C selftests/ctl' on the host"
	command -v python3 >/dev/null || fail "python3 missing"
}

ctl_load()
{
	[ -f "$VHX_KO" ] || skip "$VHX_KO not built"
	vhx_load || fail "insmod $VHX_KO"
	wait_node "$VHX_NODE" || fail "$VHX_NODE did not appear"
	ctl_wait_no_devices
}

# Cases start from no devices (a previous case's helper may still be closing).
ctl_wait_no_devices()
{
	for _ in $(seq 50); do
		[ "$("$CTL_BIN" -j dev list)" = "[]" ] && return 0
		sleep 0.1
	done
	"$CTL_BIN" dev list
	fail "devices left over from an earlier case"
}

# ctl_wait_line FILE REGEX SECONDS [PID]: until a line of FILE matches; fails
# early when PID (the writer) has exited.
ctl_wait_line()
{
	local f=$1 re=$2 n=$(($3 * 10)) pid=${4:-}

	for _ in $(seq "$n"); do
		grep -qE "$re" "$f" 2>/dev/null && return 0
		if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
			grep -qE "$re" "$f" 2>/dev/null && return 0
			return 1
		fi
		sleep 0.1
	done
	return 1
}

# ctl_hold NAME CMD...: run CMD in the background with its standard input a
# FIFO that fd 9 of this (case) shell holds open; its output goes to
# $CTL_TMP/NAME.out. Waits for its "ready" line. The devices it holds live
# until ctl_release, or until the case's shell exits (fd 9 closes). (A FIFO:
# the test guest has no /dev/fd for process substitution.)
ctl_hold()
{
	local fifo=$CTL_TMP/$1.in ready=${CTL_READY:-^ready}

	CTL_OUT=$CTL_TMP/$1.out
	shift
	: > "$CTL_OUT"
	rm -f "$fifo"
	mkfifo "$fifo"
	exec 9<> "$fifo"
	"$@" < "$fifo" > "$CTL_OUT" 2>&1 9>&- &
	CTL_PID=$!
	if ! ctl_wait_line "$CTL_OUT" "$ready" 120 "$CTL_PID"; then
		cat "$CTL_OUT"
		fail "$(basename "$1") $2: not ready"
	fi
	# What the helper did, now: the checks that follow may end the case.
	sed "/$ready/q" "$CTL_OUT"
}

# Close the helper's standard input, wait for it to clean up, print its output.
ctl_release()
{
	exec 9>&-
	for _ in $(seq 300); do
		kill -0 "$CTL_PID" 2>/dev/null || break
		sleep 0.1
	done
	sed '1,/^ready/d' "$CTL_OUT"
	grep -q '^done' "$CTL_OUT" || fail "helper did not finish cleanly"
}

# ctl_kv KEY: the value of KEY=VALUE in the helper's output.
ctl_kv()
{
	grep -oE "(^| )$1=[^ ]*" "$CTL_OUT" | head -n 1 | sed 's/^ //; s/^[^=]*=//'
}

# ---- 1: counters count exactly what the guest sent and received ----

# ctl_exact SIZES: mixed (60..1514 bytes: TX batched into the tap as XDP
# buffers, RX in one mergeable buffer) or big (60..9000 bytes: TX above
# about 3.6 KB goes one by one through sendmsg, RX spans several buffers).
ctl_exact()
{
	local id

	ctl_hold exact "$CTL_NL" traffic --tx "$CTL_N" --rx "$CTL_N" --size "$1"
	id=$(ctl_kv dev)
	"$CTL_BIN" -j stats "$id" > "$CTL_TMP/exact.json" || fail "vhostxctl -j stats $id"
	python3 - "$CTL_TMP/exact.json" "$id" "$CTL_N" "$CTL_OUT" <<'EOF'
import json, re, sys
stats, dev, n, out = json.load(open(sys.argv[1])), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
g = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", open(out).read())}
assert len(stats) == 1 and stats[0]["id"] == dev, f"stats {dev}: {stats}"
q = {x["name"]: x["counters"] for x in stats[0]["queues"]}
tx, rx = q["tx"], q["rx"]
print(f"guest: TX {g['tx_packets']} frames {g['tx_bytes']} bytes, {g['guest_tx_kicks']} kicks; "
      f"RX {g['rx_packets']} frames ({g['rx_strays']} not ours, {g['rx_multi_buffer']} in several buffers) "
      f"{g['rx_bytes']} bytes, {g['guest_rx_kicks']} kicks")
for name, c in (("tx", tx), ("rx", rx)):
    print(f"device {name}: packets {c['packets']} bytes {c['bytes']} kicks {c['kicks']} "
          f"irqs {c['irqs']} irqs_suppressed {c['irqs_suppressed']} batches {c['batches']} "
          f"bytes_copied {c['bytes_copied']} drops {c['drops']}")
bad = []
def check(ok, what):
    if not ok:
        bad.append(what)
check(g["tx_packets"] == n, f"the guest completed {g['tx_packets']} TX packets, not {n}")
check(tx["packets"] == n, f"TX packets {tx['packets']} != {n} sent")
check(tx["bytes"] == g["tx_bytes"], f"TX bytes {tx['bytes']} != {g['tx_bytes']}, the frames' sum (no vnet header)")
check(tx["kicks"] <= n, f"TX kicks {tx['kicks']} > {n} packets")
check(tx["kicks"] == g["guest_tx_kicks"], f"TX kicks {tx['kicks']} != {g['guest_tx_kicks']} kick eventfd writes")
check(g["rx_injected"] == n and g["rx_packets"] - g["rx_strays"] == n, "the guest did not receive every RX frame")
check(rx["packets"] == g["rx_packets"], f"RX packets {rx['packets']} != {g['rx_packets']} frames the guest received")
check(rx["bytes"] == g["rx_bytes"], f"RX bytes {rx['bytes']} != {g['rx_bytes']}, the frames' sum (no vnet header)")
check(rx["kicks"] == g["guest_rx_kicks"], f"RX kicks {rx['kicks']} != {g['guest_rx_kicks']} kick eventfd writes")
for name, c in (("tx", tx), ("rx", rx)):
    for k in ("drops", "err_ring", "err_sock"):
        check(c[k] == 0, f"{name} {k} = {c[k]}")
for b in bad:
    print("FAIL: " + b)
sys.exit(1 if bad else 0)
EOF
	ctl_release
}

# ---- 2: EVENT_IDX: few interrupts under a burst ----

ctl_event_idx()
{
	local id

	ctl_hold burst "$CTL_NL" traffic --tx "$CTL_BURST" --rx "$CTL_BURST" --size 256
	id=$(ctl_kv dev)
	"$CTL_BIN" -j stats "$id" > "$CTL_TMP/burst.json" || fail "vhostxctl -j stats $id"
	grep -E '^(seconds|guest)' "$CTL_OUT"
	# Two bounds. The coarse one: irqs < packets/4. The exact one: the guest
	# asks for an interrupt only when it goes idle (used_event = last_used);
	# while busy it sets used_event = last_used - 1, which a device that
	# follows the spec crosses only once per 65536 entries. So a queue gets
	# at most one interrupt per idle period (cb_enables), one for its first
	# used-ring publication (no signal recorded yet), and one per 65536.
	python3 - "$CTL_TMP/burst.json" "$CTL_BURST" "$CTL_OUT" <<'EOF'
import json, re, sys
stats, n = json.load(open(sys.argv[1])), int(sys.argv[2])
g = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", open(sys.argv[3]).read())}
bad = []
for q in stats[0]["queues"]:
    c, name = q["counters"], q["name"]
    p, irqs, sup = c["packets"], c["irqs"], c["irqs_suppressed"]
    bound = g[f"guest_{name}_cb_enables"] + 2 + p // 65536
    print(f"{name}: {p} packets, {c['batches']} used-ring publications, {irqs} irqs "
          f"({irqs / max(p, 1):.4f} per packet; bounds: packets/4 = {p // 4}, "
          f"idle periods + 2 + packets/65536 = {bound}), {sup} suppressed, {c['kicks']} kicks")
    if p < n:
        bad.append(f"{name}: {p} packets, expected at least {n}")
    if not irqs < p / 4:
        bad.append(f"{name}: {irqs} irqs is not below packets/4 = {p / 4:.0f}")
    if irqs > bound:
        bad.append(f"{name}: {irqs} irqs, more than the guest asked for ({bound})")
    if not sup > 0:
        bad.append(f"{name}: no interrupt was suppressed")
for b in bad:
    print("FAIL: " + b)
sys.exit(1 if bad else 0)
EOF
	ctl_release
}

# ---- 3: counters against the tracepoints, for a fresh device ----

ctl_trace_off()
{
	echo 0 > $CTL_TRACEFS/tracing_on
	echo 0 > $CTL_TRACEFS/events/vhostx/enable
}

ctl_tracepoints()
{
	local id f

	[ -d $CTL_TRACEFS/events/vhostx ] || skip "no $CTL_TRACEFS/events/vhostx (tracefs not mounted?)"
	trap ctl_trace_off EXIT
	echo 0 > $CTL_TRACEFS/tracing_on
	echo 8192 > $CTL_TRACEFS/buffer_size_kb
	echo > $CTL_TRACEFS/trace
	echo 1 > $CTL_TRACEFS/events/vhostx/enable
	echo 1 > $CTL_TRACEFS/tracing_on

	# A small window: the guest idles often, so there are many kicks and irqs.
	ctl_hold trace "$CTL_NL" traffic --tx "$CTL_N" --rx "$CTL_N" --size mixed --window 16
	id=$(ctl_kv dev)
	"$CTL_BIN" -j stats "$id" > "$CTL_TMP/trace1.json" || fail "vhostxctl -j stats $id"
	ctl_trace_off
	# The device was idle: nothing may have moved while tracing stopped.
	"$CTL_BIN" -j stats "$id" > "$CTL_TMP/trace2.json" || fail "vhostxctl -j stats $id"
	cmp -s "$CTL_TMP/trace1.json" "$CTL_TMP/trace2.json" ||
		fail "the counters moved after the traffic ended"
	for f in "$CTL_TRACEFS"/per_cpu/cpu*/stats; do
		grep -qE '^overrun: 0$' "$f" || fail "trace buffer overrun ($f): $(grep overrun "$f")"
	done
	cp $CTL_TRACEFS/trace "$CTL_TMP/trace.txt"
	echo "$(grep -c vhostx_ "$CTL_TMP/trace.txt") vhostx events in the trace"
	python3 - "$CTL_TMP/trace1.json" "$id" "$CTL_TMP/trace.txt" <<'EOF'
import collections, json, re, sys
stats, dev, trace = json.load(open(sys.argv[1])), int(sys.argv[2]), sys.argv[3]
ev = re.compile(r"\s(vhostx_\w+): dev=(\d+) vq=(\d+)(.*)$")
t = collections.Counter()
other = 0
for line in open(trace):
    m = ev.search(line)
    if not m:
        continue
    name, d, vq, rest = m.group(1), int(m.group(2)), int(m.group(3)), m.group(4)
    if d != dev:
        other += 1
        continue
    if name == "vhostx_kick":
        t[vq, "kicks"] += 1
    elif name == "vhostx_signal":
        t[vq, "irqs" if rest.endswith(" sent") else "irqs_suppressed"] += 1
    elif name in ("vhostx_tx_batch", "vhostx_rx_batch"):
        b = dict(kv.split("=") for kv in rest.split())
        if (name == "vhostx_tx_batch") != (vq == 1):
            print(f"FAIL: {name} on vq {vq}")
            sys.exit(1)
        t[vq, "packets"] += int(b["packets"])
        t[vq, "bytes"] += int(b["bytes"])
        t[vq, "runs"] += 1
    elif name == "vhostx_queue_error":
        t[vq, "err_ring"] += 1
print(f"{other} events of other devices ignored")
bad = []
for q in stats[0]["queues"]:
    c, i = q["counters"], q["index"]
    print(f"{q['name']}: " + ", ".join(
        f"{k} {c[k]}/{t[i, k]}" for k in ("kicks", "irqs", "irqs_suppressed", "packets", "bytes", "err_ring"))
        + f" (counter/trace; {t[i, 'runs']} runs moved packets)")
    for k in ("kicks", "irqs", "irqs_suppressed", "packets", "bytes", "err_ring"):
        if c[k] != t[i, k]:
            bad.append(f"{q['name']} {k}: counter {c[k]}, tracepoints {t[i, k]}")
    if c["packets"] == 0:
        bad.append(f"{q['name']}: no packets")
for b in bad:
    print("FAIL: " + b)
sys.exit(1 if bad else 0)
EOF
	ctl_release
}

# ---- 4: who may set what ----

ctl_nobody()
{
	setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
}

ctl_permissions()
{
	local id rc out missing

	command -v setpriv >/dev/null || skip "setpriv missing"
	ctl_hold perm "$CTL_NL" traffic
	id=$(ctl_kv dev)

	rc=0
	out=$(ctl_nobody "$CTL_BIN" set "$id" busypoll-us 10 2>&1) || rc=$?
	echo "as nobody: vhostxctl set $id busypoll-us 10: exit $rc: $out"
	[ "$rc" -ne 0 ] || fail "nobody changed a setting"
	printf '%s\n' "$out" | grep -qi 'permission denied' || fail "no 'permission denied'"
	# Another user's device does not exist for nobody.
	rc=0
	out=$(ctl_nobody "$CTL_BIN" -j dev show "$id" 2>&1) || rc=$?
	echo "as nobody: vhostxctl dev show $id: exit $rc: $out"
	[ "$rc" = 1 ] && printf '%s\n' "$out" | grep -q 'no such device' ||
		fail "nobody read root's device (exit $rc)"
	"$CTL_BIN" -j dev show "$id" > "$CTL_TMP/perm0.json" || fail "dev show $id"

	"$CTL_BIN" set "$id" busypoll-us 10 || fail "root: vhostxctl set $id busypoll-us 10"
	"$CTL_BIN" -j dev show "$id" > "$CTL_TMP/perm1.json" || fail "dev show $id"
	"$CTL_BIN" set "$id" weight-packets 64 weight-bytes 65536 || fail "root: set weights"
	"$CTL_BIN" -j dev show "$id" > "$CTL_TMP/perm2.json" || fail "dev show $id"
	python3 - "$CTL_TMP" <<'EOF'
import json, sys
d = [json.load(open(f"{sys.argv[1]}/perm{i}.json"))[0] for i in range(3)]
bad = []
def expect(dev, what, busypoll, wp, wb):
    got = (dev["busypoll_us"], [q["busypoll_us"] for q in dev["queues"]], dev["weight_packets"], dev["weight_bytes"])
    want = (busypoll, [busypoll] * len(dev["queues"]), wp, wb)
    print(f"{what}: busypoll_us {got[0]} (queues {got[1]}), weight_packets {got[2]}, weight_bytes {got[3]}")
    if got != want:
        bad.append(f"{what}: {got}, expected {want}")
expect(d[0], "after nobody's attempt", 0, 256, 524288)
expect(d[1], "after root's busypoll-us 10", 10, 256, 524288)
expect(d[2], "after root's weights", 10, 64, 65536)
for b in bad:
    print("FAIL: " + b)
sys.exit(1 if bad else 0)
EOF
	missing=$(("$id" + 100000))
	for cmd in "dev show $missing" "set $missing busypoll-us 10" "stats $missing"; do
		rc=0
		# shellcheck disable=SC2086
		out=$("$CTL_BIN" $cmd 2>&1) || rc=$?
		echo "vhostxctl $cmd: exit $rc: $out"
		[ "$rc" = 1 ] || fail "vhostxctl $cmd: exit $rc, expected 1"
		printf '%s\n' "$out" | grep -q 'no such device' || fail "vhostxctl $cmd: no 'no such device'"
	done
	ctl_release
}

# Who sees which device: its opener's user in the namespace it was opened
# in, and the host's root. (A container's root, CAP_NET_ADMIN over a
# non-initial namespace: ctl_container.)
ctl_visibility()
{
	local id mine mode pid out rc

	command -v setpriv >/dev/null || skip "setpriv missing"
	command -v unshare >/dev/null || skip "unshare missing"
	ctl_hold vis "$CTL_NL" traffic
	id=$(ctl_kv dev)
	# a device of nobody's own: it opens the node and holds the owner
	mode=$(stat -c %a $VHX_NODE)
	chmod 0666 $VHX_NODE
	# setpriv execs python: $! is the owner's pid
	setpriv --reuid=65534 --regid=65534 --clear-groups python3 -c '
import fcntl, os, time
fd = os.open("/dev/vhostx-net", os.O_RDWR)
fcntl.ioctl(fd, 0xAF01)	# VHOST_SET_OWNER
print("held", flush=True)
time.sleep(120)' > "$CTL_TMP/vis.out" 2>&1 &
	pid=$!
	for _ in $(seq 300); do
		grep -q held "$CTL_TMP/vis.out" && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	chmod "$mode" $VHX_NODE
	grep -q held "$CTL_TMP/vis.out" || { cat "$CTL_TMP/vis.out"; fail "nobody could not open a device"; }
	rc=0
	ctl_nobody "$CTL_BIN" -j dev list > "$CTL_TMP/vis-nobody.json" || rc=1
	"$CTL_BIN" -j dev list > "$CTL_TMP/vis-root.json" || rc=1
	# nobody, and root, in a network namespace of their own
	unshare -n setpriv --reuid=65534 --regid=65534 --clear-groups "$CTL_BIN" -j dev list \
		> "$CTL_TMP/vis-nobody_netns.json" || rc=1
	unshare -n "$CTL_BIN" -j dev list > "$CTL_TMP/vis-root_netns.json" || rc=1
	[ $rc = 0 ] || fail "vhostxctl dev list failed"
	python3 - "$CTL_TMP" "$id" "$pid" <<'EOF' || rc=1
import json, sys
tmp, root_dev, pid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
who = ("nobody", "root", "nobody_netns", "root_netns")
seen = {w: {d["id"]: d["owner_pid"] for d in json.load(open(f"{tmp}/vis-{w}.json"))} for w in who}
for w in who:
    print(f"{w} sees devices {sorted(seen[w])}")
mine = [i for i, p in seen["root"].items() if p == pid]
bad = []
if len(mine) != 1:
    bad.append(f"root does not see nobody's device (owner pid {pid})")
if root_dev not in seen["root"]:
    bad.append("root does not see the device it opened")
if mine and set(seen["nobody"]) != set(mine):
    bad.append(f"nobody sees {sorted(seen['nobody'])}, expected only its own {mine}")
if seen["nobody_netns"]:
    bad.append(f"nobody in another network namespace sees {sorted(seen['nobody_netns'])}")
if set(seen["root_netns"]) != set(seen["root"]):
    bad.append("root in another network namespace does not see every device")
for b in bad:
    print("FAIL: " + b)
sys.exit(1 if bad else 0)
EOF
	mine=$(python3 -c 'import json,sys; print(" ".join(str(d["id"]) for d in json.load(open(sys.argv[1])) if d["owner_pid"] == int(sys.argv[2])))' \
		"$CTL_TMP/vis-root.json" "$pid")
	# nobody cannot change even its own device: that takes CAP_NET_ADMIN
	if [ -n "$mine" ]; then
		out=$(ctl_nobody "$CTL_BIN" set "$mine" busypoll-us 10 2>&1) && rc=1
		echo "as nobody: vhostxctl set $mine busypoll-us 10: $out"
		printf '%s\n' "$out" | grep -q 'permission denied' || rc=1
	fi
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	ctl_release
	return $rc
}

# A container: a user namespace of nobody's, where it is root, with a network
# namespace of its own. Its root opens a device there, sees that device and
# no other, may change it (CAP_NET_ADMIN over the device's namespace:
# GENL_UNS_ADMIN_PERM and vhx_nl_may_change), and gets "no such device" for
# the host's.
ctl_container()
{
	local id mode out rc=0

	command -v setpriv >/dev/null || skip "setpriv missing"
	command -v unshare >/dev/null || skip "unshare missing"
	ctl_nobody unshare -U -r -n true 2>/dev/null || skip "no user namespaces for nobody here"
	ctl_hold cont "$CTL_NL" traffic
	id=$(ctl_kv dev)
	mode=$(stat -c %a $VHX_NODE)
	chmod 0666 $VHX_NODE
	cat > "$CTL_TMP/container.py" <<'EOF'
import fcntl, json, os, subprocess, sys
ctl, host_dev = sys.argv[1], int(sys.argv[2])
fd = os.open("/dev/vhostx-net", os.O_RDWR)
fcntl.ioctl(fd, 0xAF01)	# VHOST_SET_OWNER
own = next(int(l.split()[1]) for l in open(f"/proc/self/fdinfo/{fd}") if l.startswith("vhostx-id:"))
def run(*args):
    p = subprocess.run([ctl, *map(str, args)], capture_output=True, text=True)
    print(f"in the container: vhostxctl {' '.join(map(str, args))}: exit {p.returncode} {p.stderr.strip()}")
    return p
seen = sorted(d["id"] for d in json.loads(run("-j", "dev", "list").stdout))
print(f"the container's root (uid {os.getuid()}) opened device {own} and sees {seen}")
bad = []
if seen != [own]:
    bad.append(f"the container sees {seen}, expected only its own {own}")
if run("set", own, "busypoll-us", 10).returncode != 0:
    bad.append("the container's root could not change its own device")
dev = json.loads(run("-j", "dev", "show", own).stdout)
d = dev[0] if isinstance(dev, list) else dev
if d["busypoll_us"] != 10:
    bad.append(f"busypoll_us {d['busypoll_us']} after the container's set")
p = run("set", host_dev, "busypoll-us", 10)
if p.returncode == 0 or "no such device" not in p.stderr.lower():
    bad.append("the container reached the host's device")
for b in bad:
    print("FAIL: " + b)
sys.exit(1 if bad else 0)
EOF
	# the script comes on stdin: the container's root is nobody on the host
	out=$(ctl_nobody unshare -U -r -n python3 - "$CTL_BIN" "$id" \
		< "$CTL_TMP/container.py" 2>&1) || rc=1
	chmod "$mode" $VHX_NODE
	printf '%s\n' "$out"
	ctl_release
	return $rc
}

# ---- 5: malformed requests ----

ctl_malformed()
{
	"$CTL_NL" malformed "$1"
}

# ---- 6: a dump of many devices ----

# A device whose RX queue runs on a worker of its own: dev show lists both
# workers with the pids, names and CPUs /proc has; set ... worker W cpus LIST
# pins one (its Cpus_allowed_list follows) and refuses what it must.
ctl_workers()
{
	local dev pids p w c
	ctl_wait_no_devices
	ctl_hold workers "$CTL_NL" workers
	"$CTL_BIN" -j dev list > "$CTL_TMP/w.json" || fail "vhostxctl -j dev list"
	dev=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["id"])' "$CTL_TMP/w.json")
	"$CTL_BIN" dev show "$dev" | sed 's/^/  /'
	python3 - "$CTL_TMP/w.json" "$CTL_PID" <<'EOF' || fail "the workers vhostxctl shows"
import json, sys
d = json.load(open(sys.argv[1]))[0]
owner = int(sys.argv[2])
ws = {w["id"]: w for w in d.get("workers", [])}
q = {x["name"]: x.get("worker") for x in d["queues"]}
bad = []
if sorted(ws) != [0, 1]:
    bad.append(f"workers {sorted(ws)}, want [0, 1]")
if q != {"rx": 1, "tx": 0}:
    bad.append(f"queue workers {q}, want rx 1, tx 0")
for i, w in ws.items():
    if w.get("mode") != "kthread":
        bad.append(f"worker {i}: mode {w.get('mode')!r}, want 'kthread'")
    comm = open(f"/proc/{w['pid']}/comm").read().strip()
    want = f"vhostx-{owner}" + (f"-{i}" if i else "")
    if comm != want:
        bad.append(f"worker {i}: pid {w['pid']} is {comm!r}, want {want!r}")
    stat = open(f"/proc/{w['pid']}/stat").read().rsplit(")", 1)[1].split()
    if int(stat[36]) != w["cpu"]:
        bad.append(f"worker {i}: cpu {w['cpu']}, /proc says {stat[36]}")
    if w["queues"] != 1:
        bad.append(f"worker {i}: {w['queues']} queues, want 1")
print("workers:", ", ".join(f"{i}: pid {w['pid']} cpus {w['cpus']}" for i, w in ws.items()))
if bad:
    print("\n".join(bad))
    sys.exit(1)
EOF
	pids=$(python3 -c 'import json,sys; print(" ".join(str(w["pid"]) for w in json.load(open(sys.argv[1]))[0]["workers"]))' "$CTL_TMP/w.json")
	w=0
	for p in $pids; do
		c=$((w % $(nproc)))
		"$CTL_BIN" set dev "$dev" worker $w cpus $c || fail "set worker $w cpus $c"
		grep -q "^Cpus_allowed_list:[[:space:]]*$c\$" /proc/$p/status ||
			fail "worker $w: $(grep Cpus_allowed_list /proc/$p/status), want $c"
		"$CTL_BIN" -j dev show "$dev" | grep -q "\"id\":$w,\"pid\":$p,[^}]*\"cpus\":\"$c\"" ||
			fail "dev show -j does not show worker $w on CPU $c"
		w=$((w + 1))
	done
	ctl_expect_fail "set dev $dev worker 1 cpus $(nproc)" "names a CPU this machine does not have" \
		"$CTL_BIN" set dev "$dev" worker 1 cpus "$(nproc)"
	ctl_expect_fail "set dev $dev worker 7 cpus 0" "no worker with this id" \
		"$CTL_BIN" set dev "$dev" worker 7 cpus 0
	ctl_expect_fail "set dev 999999 worker 0 cpus 0" "no such device" \
		"$CTL_BIN" set dev 999999 worker 0 cpus 0
	ctl_expect_fail "set as nobody" "permission" \
		ctl_nobody "$CTL_BIN" set dev "$dev" worker 0 cpus 0
	grep -q "^Cpus_allowed_list:[[:space:]]*0\$" /proc/${pids%% *}/status ||
		fail "a refused request changed worker 0: $(grep Cpus_allowed_list /proc/${pids%% *}/status)"
	ctl_release
	ctl_workers_cpuset
}

# An owner in a cpuset of CPU 0 alone: its workers start there, and pinning
# one to CPU 1 is refused, since it is outside the owner's cpuset.
ctl_workers_cpuset()
{
	local cg=/sys/fs/cgroup dev pid
	[ "$(nproc)" -ge 2 ] || fail "the test VM has one CPU"
	mountpoint -q $cg || mount -t cgroup2 none $cg || fail "mount cgroup2"
	echo +cpuset > $cg/cgroup.subtree_control || fail "enable the cpuset controller"
	mkdir -p $cg/vhx-ctl && echo 0 > $cg/vhx-ctl/cpuset.cpus || fail "cpuset of CPU 0"
	ctl_hold workers-cs sh -c "echo \$\$ > $cg/vhx-ctl/cgroup.procs && exec $CTL_NL workers"
	"$CTL_BIN" -j dev list > "$CTL_TMP/wc.json" || fail "vhostxctl -j dev list"
	dev=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["id"])' "$CTL_TMP/wc.json")
	pid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["workers"][1]["pid"])' "$CTL_TMP/wc.json")
	grep "Cpus_allowed_list" /proc/$pid/status | sed 's/^/  worker 1 in the cpuset: /'
	grep -q "^Cpus_allowed_list:[[:space:]]*0\$" /proc/$pid/status ||
		fail "worker 1 of an owner in cpuset 0: $(grep Cpus_allowed_list /proc/$pid/status)"
	ctl_expect_fail "set dev $dev worker 1 cpus 1 (cpuset 0)" "outside the CPUs of the owner's cpuset" \
		"$CTL_BIN" set dev "$dev" worker 1 cpus 1
	"$CTL_BIN" set dev "$dev" worker 1 cpus 0 || fail "set worker 1 cpus 0, inside the cpuset"
	ctl_release
	rmdir $cg/vhx-ctl 2>/dev/null || true
	ctl_workers_task
	ctl_workers_pinned
}

# TX and RX on two workers pinned to two CPUs while traffic runs: every
# frame counted on its queue, each worker ran on its CPU only and used CPU
# time there, as netlink and /proc say.
ctl_workers_pinned()
{
	local id n=$CTL_N
	CTL_READY='^pin' ctl_hold pinned "$CTL_NL" traffic --tx "$n" --rx "$n" --size mixed --split-workers
	id=$(ctl_kv dev)
	"$CTL_BIN" set dev "$id" worker 0 cpus 0 || fail "set worker 0 (tx) cpus 0"
	"$CTL_BIN" set dev "$id" worker 1 cpus 1 || fail "set worker 1 (rx) cpus 1"
	echo go >&9
	ctl_wait_line "$CTL_OUT" '^ready' 300 "$CTL_PID" || { cat "$CTL_OUT"; fail "traffic did not finish"; }
	"$CTL_BIN" -j dev show "$id" > "$CTL_TMP/pinned.json" || fail "vhostxctl -j dev show $id"
	"$CTL_BIN" dev show "$id" | sed -n '/^ *WORKER  *PID/,$ s/^/  /p'
	python3 - "$CTL_TMP/pinned.json" "$n" "$CTL_OUT" <<'EOF' || fail "pinned workers"
import json, re, sys
d, n = json.load(open(sys.argv[1]))[0], int(sys.argv[2])
g = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", open(sys.argv[3]).read())}
q = {x["name"]: x for x in d["queues"]}
ws = {w["id"]: w for w in d.get("workers", [])}
bad = []
want = {"tx": (0, "0"), "rx": (1, "1")}
for name, (wid, cpu) in want.items():
    c = q[name]["counters"]
    if q[name].get("worker") != wid:
        bad.append(f"{name} runs on worker {q[name].get('worker')}, want {wid}")
    w = ws.get(wid, {})
    stat = open(f"/proc/{w.get('pid', 0)}/stat").read().rsplit(")", 1)[1].split()
    print(f"{name}: worker {wid} pid {w.get('pid')} cpus {w.get('cpus')} last cpu {w.get('cpu')} "
          f"(/proc: {stat[36]}) cpu {w.get('cpu_ns', 0) / 1e6:.1f} ms, packets {c['packets']}")
    if w.get("cpus") != cpu or str(w.get("cpu")) != cpu or stat[36] != cpu:
        bad.append(f"worker {wid}: cpus {w.get('cpus')} last cpu {w.get('cpu')} /proc {stat[36]}, want {cpu}")
    if not w.get("cpu_ns"):
        bad.append(f"worker {wid} used no CPU time")
if q["tx"]["counters"]["packets"] != n or g.get("tx_packets") != n:
    bad.append(f"tx packets {q['tx']['counters']['packets']}, guest {g.get('tx_packets')}, want {n}")
if q["rx"]["counters"]["packets"] != g.get("rx_packets") or g.get("rx_packets", 0) - g.get("rx_strays", 0) != n:
    bad.append(f"rx packets {q['rx']['counters']['packets']}, guest {g.get('rx_packets')} ({g.get('rx_strays')} strays), want {n}")
print("\n".join(bad))
sys.exit(1 if bad else 0)
EOF
	ctl_release
}

# Workers as threads of the owner (VHOST_FORK_OWNER_TASK), where the kernel
# has them (6.12 and later): the mode and the thread ids dev show gives are
# those /proc has under the owner, and pinning works on them.
ctl_workers_task()
{
	local dev pid maj min
	IFS=. read -r maj min _ <<< "$(uname -r)"
	if [ "$maj" -lt 6 ] || { [ "$maj" = 6 ] && [ "$min" -lt 12 ]; }; then
		echo "  task workers: none on $(uname -r) (6.12 and later)"
		return 0
	fi
	ctl_hold workers-task "$CTL_NL" workers task
	"$CTL_BIN" -j dev list > "$CTL_TMP/wt.json" || fail "vhostxctl -j dev list"
	dev=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["id"])' "$CTL_TMP/wt.json")
	"$CTL_BIN" dev show "$dev" | sed -n '/^ *WORKER  *PID/,$ s/^/  /p'
	python3 - "$CTL_TMP/wt.json" "$CTL_PID" <<'EOF' || fail "the task workers vhostxctl shows"
import json, sys
d = json.load(open(sys.argv[1]))[0]
owner = int(sys.argv[2])
ws = d.get("workers", [])
bad = [] if len(ws) == 2 else [f"{len(ws)} workers, want 2"]
for w in ws:
    want = f"vhostx-{owner}" + (f"-{w['id']}" if w["id"] else "")
    if w.get("mode") != "task":
        bad.append(f"worker {w['id']}: mode {w.get('mode')!r}, want 'task'")
    try:
        comm = open(f"/proc/{owner}/task/{w['pid']}/comm").read().strip()
    except OSError:
        comm = None
    if comm != want:
        bad.append(f"worker {w['id']}: thread {w['pid']} of the owner is {comm!r}, want {want!r}")
print("\n".join(bad))
sys.exit(1 if bad else 0)
EOF
	pid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["workers"][1]["pid"])' "$CTL_TMP/wt.json")
	"$CTL_BIN" set dev "$dev" worker 1 cpus 1 || fail "set task worker 1 cpus 1"
	grep -q "^Cpus_allowed_list:[[:space:]]*1\$" /proc/$pid/status ||
		fail "task worker 1: $(grep Cpus_allowed_list /proc/$pid/status), want 1"
	ctl_release
}

# ctl_expect_fail WHAT WANT CMD...: CMD must exit 1 with WANT in its message.
ctl_expect_fail()
{
	local what=$1 want=$2 rc
	shift 2
	"$@" > "$CTL_TMP/ef.out" 2>&1 && rc=0 || rc=$?
	sed 's/^/  /' "$CTL_TMP/ef.out"
	[ "$rc" = 1 ] || fail "$what: exit $rc, want 1"
	grep -qi -- "$want" "$CTL_TMP/ef.out" || fail "$what: no '$want' in the message"
}

ctl_many()
{
	ctl_wait_no_devices
	ctl_hold many "$CTL_NL" open "$CTL_DEVS"
	"$CTL_BIN" -j dev list > "$CTL_TMP/many.json" || fail "vhostxctl -j dev list"
	"$CTL_NL" dump > "$CTL_TMP/many.dump" || fail "nl_test dump"
	head -c 200 "$CTL_TMP/many.dump"; echo
	python3 - "$CTL_TMP/many.json" "$CTL_TMP/many.dump" "$CTL_DEVS" <<'EOF'
import json, re, sys
devs, raw, n = json.load(open(sys.argv[1])), open(sys.argv[2]).read(), int(sys.argv[3])
ids = [d["id"] for d in devs]
raw_ids = [int(x) for x in re.search(r"ids=([\d,]*)", raw).group(1).split(",") if x]
parts = int(re.search(r"parts=(\d+)", raw).group(1))
print(f"vhostxctl: {len(ids)} devices, ids {min(ids, default=0)}..{max(ids, default=0)}; "
      f"nl_test: {len(raw_ids)} devices in {parts} dump parts")
bad = []
if len(ids) != n:
    bad.append(f"{len(ids)} devices listed, {n} open")
if len(set(ids)) != len(ids):
    dup = sorted({i for i in ids if ids.count(i) > 1})
    bad.append(f"ids listed more than once: {dup[:20]}")
if ids != sorted(ids):
    bad.append("ids not in ascending order")
if raw_ids != ids:
    bad.append("nl_test's raw dump differs from vhostxctl's list")
if parts < 2:
    bad.append(f"{n} devices came in {parts} part(s): no multi-part dump")
if any(d["owner_pid"] or d["state"] != "down" for d in devs):
    bad.append("a fresh device with an owner or not down")
for b in bad:
    print("FAIL: " + b)
sys.exit(1 if bad else 0)
EOF
	ctl_release
	[ "$("$CTL_BIN" -j dev list)" = "[]" ] || fail "devices listed after all were closed"
	"$CTL_NL" dump | head -n 1
}

# ---- 7: the broken-queue event ----

# Has process $1 joined generic netlink multicast group $2?
ctl_joined()
{
	local pid=$1 grp=$2 eth port groups n=0

	# sk Eth Pid(portid) Groups ...: libnl's portids are pid + (n << 22).
	while read -r _ eth port groups _; do
		if [ "$eth" != 16 ] || [ $((port & 0x3fffff)) != "$pid" ]; then
			continue
		fi
		n=$((n + 1))
		if [ "$grp" -le 32 ] && [ $(((0x$groups >> (grp - 1)) & 1)) = 1 ]; then
			return 0
		fi
	done < /proc/net/netlink
	# A group beyond the 32 that /proc shows: two sockets are as good as it gets.
	[ "$grp" -gt 32 ] && [ "$n" -ge 2 ] && sleep 1
}

ctl_broken_event()
{
	local id grp mon rc

	command -v setpriv >/dev/null || skip "setpriv missing"
	ctl_hold hostile "$CTL_NL" hostile
	id=$(ctl_kv dev)
	grp=$(ctl_kv events_group)
	# Listening needs no privilege: the monitor runs as nobody (setpriv
	# execs it, so $! is its pid). Not holding fd 9: the helper must see its
	# end of file at ctl_release.
	setpriv --reuid=65534 --regid=65534 --clear-groups "$CTL_BIN" -j monitor --count 1 \
		> "$CTL_TMP/monitor.json" 2> "$CTL_TMP/monitor.err" 9>&- &
	mon=$!
	# shellcheck disable=SC2064
	trap "kill $mon 2>/dev/null || true" EXIT
	for _ in $(seq 100); do
		ctl_joined "$mon" "$grp" && break
		kill -0 "$mon" 2>/dev/null || break
		sleep 0.1
	done
	ctl_joined "$mon" "$grp" || { cat "$CTL_TMP/monitor.err"; fail "monitor did not join group $grp"; }
	echo "monitor (pid $mon) listening on group $grp; breaking TX of device $id"
	echo go >&9
	ctl_wait_line "$CTL_OUT" '^broken' 30 "$CTL_PID" || { cat "$CTL_OUT"; fail "the queue did not break"; }
	for _ in $(seq 100); do
		kill -0 "$mon" 2>/dev/null || break
		sleep 0.1
	done
	rc=0
	wait "$mon" || rc=$?
	echo "vhostxctl -j monitor --count 1: exit $rc"
	cat "$CTL_TMP/monitor.json" "$CTL_TMP/monitor.err"
	[ "$rc" = 0 ] || fail "monitor did not print its event and exit"
	"$CTL_BIN" -j dev show "$id" > "$CTL_TMP/broken.json" || fail "dev show $id"
	"$CTL_BIN" dev show "$id" | tee "$CTL_TMP/broken.txt"
	grep -qE '^  tx .*broken: head' "$CTL_TMP/broken.txt" || fail "dev show: no 'broken: head' for tx"
	python3 - "$CTL_TMP/monitor.json" "$CTL_TMP/broken.json" "$id" <<'EOF'
import json, sys
lines = [l for l in open(sys.argv[1]) if l.strip()]
dev, did = json.load(open(sys.argv[2]))[0], int(sys.argv[3])
bad = []
if len(lines) != 1:
    bad.append(f"monitor printed {len(lines)} lines")
else:
    ev = json.loads(lines[0])
    want = {"event": "queue_broken", "id": did, "index": 1, "name": "tx", "broken_reason": "head"}
    got = {k: ev.get(k) for k in want}
    if got != want:
        bad.append(f"event {ev}, expected {want}")
    if not ev.get("broken_text"):
        bad.append("event without broken_text")
q = {x["name"]: x for x in dev["queues"]}
print(f"dev show: state {dev['state']}; tx broken {q['tx']['broken']} reason {q['tx']['broken_reason']} "
      f"text {q['tx']['broken_text']!r} err_ring {q['tx']['counters']['err_ring']}; rx broken {q['rx']['broken']}")
if dev["state"] != "broken":
    bad.append(f"device state {dev['state']}")
if not (q["tx"]["broken"] and q["tx"]["broken_reason"] == "head" and q["tx"]["broken_text"]):
    bad.append("tx queue not shown broken for 'head'")
if q["tx"]["counters"]["err_ring"] != 1:
    bad.append(f"tx err_ring {q['tx']['counters']['err_ring']}, expected 1")
if q["rx"]["broken"]:
    bad.append("rx queue broken too")
for b in bad:
    print("FAIL: " + b)
sys.exit(1 if bad else 0)
EOF
	ctl_release
}

ctl_unload()
{
	local rc=0 out

	vhx_unload || fail "rmmod vhostx"
	out=$("$CTL_BIN" dev list 2>&1) || rc=$?
	echo "without the module: exit $rc: $out"
	[ "$rc" = 1 ] || fail "vhostxctl without the module: exit $rc, expected 1"
	printf '%s\n' "$out" | grep -q 'not loaded' || fail "no 'not loaded'"
}

ktap_case "ctl: vhostxctl and nl_test are built" ctl_built
if [ -x "$CTL_BIN" ] && [ -x "$CTL_NL" ]; then
	ktap_case "ctl: vhostx loads" ctl_load
	ktap_case "ctl: counters count exactly $CTL_N packets each way and their bytes, 60..1514-byte frames" \
		ctl_exact mixed
	ktap_case "ctl: counters count exactly $CTL_N packets each way and their bytes, 60..9000-byte frames" \
		ctl_exact big
	ktap_case "ctl: EVENT_IDX: irqs below packets/4 and some suppressed in a $CTL_BURST-packet burst" \
		ctl_event_idx
	ktap_case "ctl: counters equal the tracepoint counts for a fresh device" ctl_tracepoints
	ktap_case "ctl: set needs CAP_NET_ADMIN, root's set shows, a missing id is no such device" \
		ctl_permissions
	ktap_case "ctl: a device is seen by its opener's user in its namespace and by the host's root only" \
		ctl_visibility
	ktap_case "ctl: a container's root sees and changes its own device only" ctl_container
	for ctl_m in $("$CTL_NL" malformed list); do
		ktap_case "ctl: malformed request refused: $ctl_m" ctl_malformed "$ctl_m"
	done
	ktap_case "ctl: workers: dev show gives each one's pid and CPU as /proc does; set worker W cpus pins it" \
		ctl_workers
	ktap_case "ctl: a dump of $CTL_DEVS devices lists each exactly once" ctl_many
	ktap_case "ctl: a broken queue: monitor (as nobody) gets the event, dev show the reason" \
		ctl_broken_event
	ktap_case "ctl: vhostx unloads" ctl_unload
fi
rm -rf "$CTL_TMP"
