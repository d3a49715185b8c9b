# SPDX-License-Identifier: GPL-2.0
# selftests/attach: vhostxctl attach/detach against a QEMU that is already
# running. Each L2 guest (nested KVM, the qemu suite's kernel and busybox
# initramfs) starts with no NIC and only a QMP socket; vhostxctl hot-plugs a
# virtio-net-pci whose tap netdev uses vhost fds it opened on /dev/vhostx-net
# (or /dev/vhost-net), and takes it away again. Sourced by run_suite.sh:
#   selftests/vm/run.sh selftests/run_suite.sh attach
# Leaves vhostx and vhost_net unloaded.

# shellcheck source=../qemu/lib.sh
. "$SELFTESTS/qemu/lib.sh"

AT_CTL=$TOP/build/ctl/vhostxctl
AT_OK=$L2_STATE/attach-setup-ok
AT_TIMEOUT=${VHX_ATTACH_TIMEOUT:-180}	# attach/detach --timeout: nested TCG is slow
AT_MB=${VHX_ATTACH_MB:-8}

rm -rf "$L2_STATE"
mkdir -p "$L2_STATE"

at_need_setup()
{
	[ -f "$AT_OK" ] || skip "no nested KVM or no L2 image (see the setup case)"
}

# Guest NAME must be running (an earlier case started it).
at_need()
{
	at_need_setup
	[ -n "$(l2_pid "$1")" ] && ! pid_gone "$(l2_pid "$1")" ||
		skip "guest '$1' is not running (an earlier case failed)"
}

at_setup()
{
	l2_setup
	[ -x "$AT_CTL" ] || fail "$AT_CTL missing: run 'make ctl' on the host"
	modprobe -a tun tap || fail "modprobe tun tap"
	modprobe -r vhost_net 2>/dev/null || true
	vhx_load && wait_node $VHX_NODE || fail "insmod vhostx"
	debugfs_ready || fail "no vhostx debugfs"
	touch "$AT_OK"
}

# at_tap NAME [multi_queue]: a fresh persistent tap with $L2_HOST_IP, up.
at_tap()
{
	ip link del "$1" 2>/dev/null
	# shellcheck disable=SC2086
	ip tuntap add dev "$1" mode tap vnet_hdr ${2:-} || return 1
	ip addr add $L2_HOST_IP/24 dev "$1" && ip link set "$1" up
}

# at_boot NAME [SMP [MACHINE]]: start a NIC-less guest, wait for its agent.
at_boot()
{
	local name=$1 out
	at_need_setup
	L2_INITRD=$(cat "$L2_STATE/initrd")
	l2_start_qmp "$@" || fail "cannot start QEMU"
	l2_wait_ready "$name" || fail "guest did not boot"
	echo "guest $name up in $(echo "$(cat "$L2_STATE/$name/t_ready") - $(cat "$L2_STATE/$name/t_start")" | bc) s (QEMU pid $(l2_pid "$name"))"
	out=$(l2_cmd "$name" 60 'echo $(ls /sys/class/net)') || fail "guest agent: $out"
	echo "guest interfaces before attach: $out"
	[ "$out" = lo ] || fail "the guest has a NIC before attach"
	[ -z "$(l2_pci_nics "$name")" ] || fail "QEMU has a NIC before attach"
}

# at_guest_net NAME: configure the hot-plugged eth0 in the guest and wait for
# its link; checks it is bound to virtio_net.
at_guest_net()
{
	local out
	out=$(l2_cmd "$1" 60 "i=0; while [ ! -e /sys/class/net/eth0 ] && [ \$i -lt 300 ]; do sleep 0.1; i=\$((i + 1)); done
		ip addr add $L2_GUEST_IP/24 dev eth0 && ip link set eth0 up || exit 1
		i=0; while [ \"\$(cat /sys/class/net/eth0/operstate)\" != up ] && [ \$i -lt 100 ]; do sleep 0.1; i=\$((i + 1)); done
		echo driver=\$(basename \$(readlink /sys/class/net/eth0/device/driver)) oper=\$(cat /sys/class/net/eth0/operstate) mac=\$(cat /sys/class/net/eth0/address)") ||
		{ echo "guest: $out"; return 1; }
	echo "guest eth0: $out"
	[ "$out" = "driver=virtio_net oper=up mac=$L2_MAC" ] || { echo "guest eth0 is not bound and up"; return 1; }
}

at_ping()
{
	local name=$1 out
	out=$(busybox ping -c 3 -W 5 $L2_GUEST_IP 2>&1)
	printf '%s\n' "$out" | tail -n 1
	printf '%s\n' "$out" | grep -q '3 packets transmitted, 3 packets received' ||
		{ echo "ping $L2_GUEST_IP: lost replies"; return 1; }
	out=$(l2_cmd "$name" 40 "ping -c 3 -W 5 $L2_HOST_IP")
	printf '%s\n' "$out" | tail -n 1
	printf '%s\n' "$out" | grep -q '3 packets transmitted, 3 packets received' ||
		{ echo "guest ping $L2_HOST_IP: lost replies"; return 1; }
}

# at_attach NAME ARGS...: vhostxctl -j attach to guest NAME; the JSON goes to
# $L2_STATE/NAME/attach.json, the text to stdout. --timeout is
# $AT_ATTACH_TIMEOUT, else $AT_TIMEOUT.
at_attach()
{
	local name=$1 rc t0
	shift
	t0=$(date +%s.%N)
	"$AT_CTL" -j attach --qmp "$L2_STATE/$name/qmp.sock" --timeout "${AT_ATTACH_TIMEOUT:-$AT_TIMEOUT}" "$@" \
		>"$L2_STATE/$name/attach.json" 2>"$L2_STATE/$name/attach.err"
	rc=$?
	echo "vhostxctl attach $* -> exit $rc in $(echo "$(date +%s.%N) - $t0" | bc | cut -c1-5) s"
	cat "$L2_STATE/$name/attach.json" "$L2_STATE/$name/attach.err"
	return $rc
}

# at_json FILE EXPR: a field of a JSON file (python expression on d).
at_json()
{
	$L2_PY -c "import json, sys; d = json.load(open(sys.argv[1])); print($2)" "$1"
}

# Nothing of ours left in QEMU (no NIC, no netdev) and N vhostx devices.
at_nothing_left()
{
	local name=$1 ndev=${2:-0} nics clients n
	nics=$(l2_pci_nics "$name")
	clients=$(l2_net_clients "$name")
	n=$(vhx_ndev)
	echo "left: QEMU NICs [$(echo $nics)], net clients [$(echo $clients)], vhostx devices $n"
	[ -z "$nics" ] || { echo "QEMU still has a NIC"; return 1; }
	[ -z "$clients" ] || { echo "QEMU still has a netdev"; return 1; }
	[ "$n" = "$ndev" ] || { vhx_devices; echo "$n vhostx devices, want $ndev"; return 1; }
}

# ---- the cases ---------------------------------------------------------------

at_first()
{
	local pid devs
	at_boot a
	at_tap vxa0 || fail "tap vxa0"
	pid=$(l2_pid a)
	at_attach a --tap vxa0 --mac $L2_MAC --id net0 || fail "attach"
	devs=$(at_json "$L2_STATE/a/attach.json" '" ".join(map(str, d["vhostx_devices"]))')
	[ "$(at_json "$L2_STATE/a/attach.json" 'd["qemu_pid"]')" = "$pid" ] || fail "qemu_pid is not $pid"
	[ -n "$devs" ] || fail "no vhostx devices reported"
	echo "vhostx devices $devs; debugfs:"
	vhx_devices | sed 's/^/  /'
	[ "$(awk -v p="$pid" '$1 == "dev" && $4 == p' $VHX_DEBUGFS | wc -l)" = 1 ] ||
		fail "QEMU does not own exactly one vhostx device"
	[ "$(vhx_vq_lines "$pid" | awk '$5 == "yes"' | wc -l)" = 2 ] || fail "both queues need a backend"
	pgrep -x "vhostx-$pid" >/dev/null || fail "no worker vhostx-$pid"
	[ "$(l2_pci_nics a)" = net0 ] || fail "QEMU's NICs: $(l2_pci_nics a)"
	at_guest_net a || fail "guest eth0"
	l2_qemu_err_clean a || fail "QEMU reported a vhost problem"
}

at_traffic()
{
	at_need a
	at_ping a || fail "ping"
	l2_xfer a $((AT_MB << 20)) || fail "transfer"
}

# vhostxctl stats -j: the attached device's counters cover the transfer.
at_counters()
{
	local dev out
	at_need a
	dev=$(at_json "$L2_STATE/a/attach.json" 'd["vhostx_devices"][0]')
	"$AT_CTL" stats "$dev" | sed 's/^/  /'
	out=$("$AT_CTL" -j stats "$dev" | $L2_PY -c '
import json, sys
q = {x["name"]: x["counters"] for x in json.load(sys.stdin)[0]["queues"]}
print(q["rx"]["packets"], q["rx"]["bytes"], q["tx"]["packets"], q["tx"]["bytes"], q["tx"]["kicks"], q["rx"]["irqs"])') ||
		fail "vhostxctl -j stats $dev"
	echo "rx packets/bytes, tx packets/bytes, tx kicks, rx irqs: $out"
	set -- $out
	[ "$2" -ge $((AT_MB << 20)) ] || fail "rx bytes $2 < the transfer"
	[ "$4" -ge $((AT_MB << 20)) ] || fail "tx bytes $4 < the transfer"
	[ "$1" -gt 0 ] && [ "$3" -gt 0 ] && [ "$5" -gt 0 ] && [ "$6" -gt 0 ] || fail "a counter did not move"
}

at_detach()
{
	local name=$1 id=$2 out
	at_need "$name"
	out=$("$AT_CTL" detach --qmp "$L2_STATE/$name/qmp.sock" --id "$id" --timeout "$AT_TIMEOUT" 2>&1) ||
		fail "detach: $out"
	echo "$out"
	out=$(l2_cmd "$name" 20 'echo $(ls /sys/class/net)') || fail "the guest's agent does not answer"
	echo "guest interfaces after detach: $out"
	[ "$out" = lo ] || fail "the guest still has eth0"
	at_nothing_left "$name" 0 || fail "something left"
	vhx_objects_zero 10 || fail "vhostx objects not zero"
	! pgrep '^vhostx-' >/dev/null || fail "vhostx workers left"
}

at_again()
{
	at_need a
	at_attach a --tap vxa0 --mac $L2_MAC --id net1 || fail "attach again"
	at_guest_net a || fail "guest eth0"
	at_ping a || fail "ping"
	l2_xfer a $((2 << 20)) || fail "transfer"
}

# 2 queue pairs, 2 vCPUs: one flow per vCPU each way; both vhostx devices
# move packets in both directions.
at_mq()
{
	local out pid devs d t ok=1
	ip link del vxa0 2>/dev/null || true
	at_boot m 2
	at_tap vxm0 multi_queue || fail "tap vxm0"
	pid=$(l2_pid m)
	at_attach m --tap vxm0 --mac $L2_MAC --id mq0 --queues 2 || fail "attach --queues 2"
	devs=$(at_json "$L2_STATE/m/attach.json" '" ".join(map(str, d["vhostx_devices"]))')
	[ "$(echo $devs | wc -w)" = 2 ] || fail "want 2 vhostx devices, got '$devs'"
	at_guest_net m || fail "guest eth0"
	out=$(l2_cmd m 20 'echo $(ls /sys/class/net/eth0/queues)')
	echo "guest queues: $out"
	[ "$out" = "rx-0 rx-1 tx-0 tx-1" ] || fail "the guest does not have two queue pairs"
	l2_cmd m 20 "ethtool -L eth0 combined 2" >/dev/null 2>&1 || true
	t=$(l2_deadline $((4 << 20)))	# two 2 MiB flows at once
	$L2_PY "$L2_DIR/xfer.py" send $L2_GUEST_IP 5101 $((2 << 20)) $t > "$L2_STATE/m/in1" 2>&1 &
	$L2_PY "$L2_DIR/xfer.py" send $L2_GUEST_IP 5102 $((2 << 20)) $t > "$L2_STATE/m/in2" 2>&1 &
	out=$(l2_cmd m $((t + 30)) "taskset 1 nc -l -p 5101 > /tmp/a & taskset 2 nc -l -p 5102 > /tmp/b & wait;
		md5sum /tmp/a /tmp/b; taskset 1 ping -c 2 $L2_HOST_IP >/dev/null; taskset 2 ping -c 2 $L2_HOST_IP >/dev/null") ||
		fail "guest receive: $out"
	wait
	for i in 1 2; do
		read -r _ d _ _ _ _ < "$L2_STATE/m/in$i" || true
		printf '%s\n' "$out" | grep -q "^$d " || { echo "flow $i: sent $d, guest: $out"; ok=0; }
	done
	[ $ok = 1 ] || fail "checksums differ"
	out=$("$AT_CTL" -j stats | $L2_PY -c '
import json, sys
want = set(int(x) for x in sys.argv[1].split())
for dev in json.load(sys.stdin):
    if dev["id"] in want:
        q = {x["name"]: x["counters"] for x in dev["queues"]}
        print(dev["id"], q["rx"]["packets"], q["tx"]["packets"])' "$devs")
	echo "dev rx_packets tx_packets:"
	printf '%s\n' "$out" | sed 's/^/  /'
	[ "$(printf '%s\n' "$out" | awk '$2 > 0 && $3 > 0' | wc -l)" = 2 ] || fail "a queue pair moved no packets"
	out=$(l2_cmd m 20 "ethtool -S eth0 | grep -E '(rx|tx)_queue_[01]_packets'")
	echo "guest:" $out
	[ "$(printf '%s\n' "$out" | awk '$2 > 0' | wc -l)" = 4 ] || fail "the guest did not use all four queues"
}

at_mq_detach()
{
	at_detach m mq0
	l2_kill m TERM >/dev/null || true
	ip link del vxm0 2>/dev/null || true
}

# ---- failures: exit status 1, a clear message, nothing left behind ----------

# at_must_fail NAME WANT ARGS...: attach must exit 1 and say WANT (ERE).
at_must_fail()
{
	local name=$1 want=$2 rc
	shift 2
	at_attach "$name" "$@" && rc=0 || rc=$?
	[ "$rc" = 1 ] || { echo "exit status $rc, want 1"; return 1; }
	grep -Eq "$want" "$L2_STATE/$name/attach.err" || { echo "message does not match /$want/"; return 1; }
}

at_fail_setup()
{
	at_boot f
	at_tap vxf0 || fail "tap vxf0"
}

at_fail_no_socket()
{
	local out rc
	at_need f
	out=$("$AT_CTL" attach --qmp /tmp/no-such-qmp.sock --tap vxf0 2>&1) && rc=0 || rc=$?
	echo "exit $rc: $out"
	[ "$rc" = 1 ] || fail "exit status $rc"
	[ "$out" = "vhostxctl: connect to QMP socket /tmp/no-such-qmp.sock: no such file or directory" ] ||
		fail "message"
	at_nothing_left f 0 || fail "something left"
}

# QEMU refuses device_add (no such bus): netdev_del and closefd undo the rest;
# the tap that attach created for it is gone again.
at_fail_refused_bus()
{
	at_need f
	at_must_fail f "QEMU refused device_add: Bus 'nosuchbus' not found" \
		--tap vxnew0 --id bad0 --bus nosuchbus || fail "attach"
	grep -q "undone: netdev_add bad0-net" "$L2_STATE/f/attach.err" || fail "no netdev_del reported"
	at_nothing_left f 0 || fail "something left"
	[ ! -e /sys/class/net/vxnew0 ] || fail "the tap attach created is still there"
	l2_cmd f 10 true || fail "the guest's agent does not answer"
}

# A duplicate --id: QEMU refuses netdev_add (the first device's netdev has
# the same id); the first device keeps working.
at_fail_duplicate()
{
	local n
	at_need f
	at_attach f --tap vxf0 --mac $L2_MAC --id dup0 || fail "first attach"
	n=$(vhx_ndev)
	ip tuntap add dev vxf1 mode tap vnet_hdr || fail "tap vxf1"
	at_must_fail f "QEMU refused netdev_add: Duplicate ID 'dup0-net'" --tap vxf1 --id dup0 ||
		{ ip link del vxf1; fail "second attach"; }
	ip link del vxf1
	[ "$(vhx_ndev)" = "$n" ] || fail "vhostx devices $n -> $(vhx_ndev)"
	[ "$(l2_pci_nics f)" = dup0 ] || fail "QEMU's NICs: $(l2_pci_nics f)"
	at_guest_net f || fail "guest eth0"
	at_ping f || fail "the first device stopped working"
	"$AT_CTL" detach --qmp "$L2_STATE/f/qmp.sock" --id dup0 --timeout "$AT_TIMEOUT" || fail "detach"
	at_nothing_left f 0 || fail "something left"
}

at_fail_no_module()
{
	at_need f
	vhx_unload || fail "rmmod vhostx"
	at_must_fail f "open /dev/vhostx-net: vhostx module not loaded \(modprobe vhostx\)" --tap vxf0 ||
		{ vhx_load; fail "attach"; }
	vhx_load && wait_node $VHX_NODE || fail "insmod vhostx"
	at_nothing_left f 0 || fail "something left"
}

# Another process holds the (single-queue) tap: TUNSETIFF says EBUSY.
at_fail_tap_busy()
{
	local holder ok=0
	at_need f
	$L2_PY -c '
import fcntl, os, struct, sys, time
fd = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(fd, 0x400454ca, struct.pack("16sH", b"vxf0", 0x0002 | 0x1000 | 0x4000))
open(sys.argv[1], "w").close()
time.sleep(600)' "$L2_STATE/f/held" &
	holder=$!
	for _ in $(seq 50); do [ -e "$L2_STATE/f/held" ] && break; sleep 0.1; done
	[ -e "$L2_STATE/f/held" ] || { kill $holder; fail "could not hold the tap"; }
	at_must_fail f "tap vxf0: TUNSETIFF: tap busy" --tap vxf0 && ok=1
	kill $holder
	wait $holder 2>/dev/null || true
	[ $ok = 1 ] || fail "attach"
	at_nothing_left f 0 || fail "something left"
}

# The guest has no virtio_net driver: the device is added but never started;
# attach times out and takes everything away again.
at_fail_no_driver()
{
	local ok=1
	at_need f
	l2_cmd f 20 "rmmod virtio_net" || fail "rmmod virtio_net in the guest"
	AT_ATTACH_TIMEOUT=20 at_must_fail f "did not start the device within 20 s" --tap vxf0 --id nodrv ||
		ok=0
	grep -q "undone: device_add nodrv" "$L2_STATE/f/attach.err" || { echo "no device_del reported"; ok=0; }
	at_nothing_left f 0 || ok=0
	# The next cases need the driver back, whatever happened here.
	l2_cmd f 20 'insmod $(grep virtio_net.ko /modules)' || fail "insmod virtio_net in the guest"
	[ $ok = 1 ] || fail "attach did not fail cleanly"
}

# The same attach and detach with vhost_net: QEMU's x-query-virtio-status
# (vhost-started) tells when the guest started the device.
at_vhost_net()
{
	local pid
	at_need f
	modprobe vhost_net || fail "modprobe vhost_net"
	pid=$(l2_pid f)
	at_attach f --tap vxf0 --mac $L2_MAC --id vn0 --device /dev/vhost-net || fail "attach"
	grep -q "x-query-virtio-status" "$L2_STATE/f/attach.json" || fail "waited on the wrong thing"
	vhost_worker_of "$pid" >/dev/null || fail "no vhost-$pid worker: vhost_net is not in use"
	[ "$(vhx_ndev)" = 0 ] || fail "vhostx devices appeared"
	at_guest_net f || fail "guest eth0"
	at_ping f || fail "ping"
	l2_xfer f $((2 << 20)) || fail "transfer"
	"$AT_CTL" detach --qmp "$L2_STATE/f/qmp.sock" --id vn0 --timeout "$AT_TIMEOUT" || fail "detach"
	at_nothing_left f 0 || fail "something left"
	for _ in $(seq 50); do vhost_worker_of "$pid" >/dev/null || break; sleep 0.1; done
	! vhost_worker_of "$pid" >/dev/null || fail "vhost_net's worker still there"
	modprobe -r vhost_net
}

# q35: the device goes on the free pcie-root-port (rp1) by itself.
at_q35()
{
	l2_kill f TERM >/dev/null || true
	at_boot q 1 q35
	at_attach q --tap vxf0 --mac $L2_MAC --id q0 || fail "attach"
	[ "$(at_json "$L2_STATE/q/attach.json" 'd["bus"]')" = rp1 ] || fail "not on rp1"
	at_guest_net q || fail "guest eth0"
	at_ping q || fail "ping"
	at_detach q q0
}

ktap_case "attach: setup: nested KVM, L2 image, vhostx loaded" at_setup
ktap_case "attach: a running NIC-less guest gets a virtio-net on vhostx (owner, backends, worker)" at_first
ktap_case "attach: ping both ways and ${AT_MB} MiB each way with matching MD5" at_traffic
ktap_case "attach: vhostxctl stats: the device's counters cover the transfer" at_counters
ktap_case "attach: detach: the guest keeps running, no NIC or netdev in QEMU, 0 vhostx devices, 0 objects" \
	at_detach a net0
ktap_case "attach: attach again to the same guest, traffic" at_again
ktap_case "attach: detach again" at_detach a net1
l2_kill a TERM >/dev/null
ktap_case "attach: --queues 2 on a 2-vCPU guest: both queue pairs carry packets" at_mq
ktap_case "attach: detach the multiqueue device" at_mq_detach
ktap_case "attach: failures: a guest for them" at_fail_setup
ktap_case "attach: fails: QMP socket missing" at_fail_no_socket
ktap_case "attach: fails: QEMU refuses device_add (bad bus): netdev and fds removed, created tap gone" \
	at_fail_refused_bus
ktap_case "attach: fails: duplicate --id refused by QEMU; the first device unharmed" at_fail_duplicate
ktap_case "attach: fails: vhostx not loaded" at_fail_no_module
ktap_case "attach: fails: tap busy (held by another process)" at_fail_tap_busy
ktap_case "attach: fails: the guest never starts the driver (timeout); device removed" at_fail_no_driver
ktap_case "attach: vhost_net: attach with --device /dev/vhost-net, traffic, detach" at_vhost_net
ktap_case "attach: q35: attach onto a free pcie-root-port, ping, detach" at_q35

l2_kill_all
l2_kvm_keeper_stop
for t in vxa0 vxm0 vxf0 vxf1 vxnew0; do
	ip link del "$t" 2>/dev/null
done
modprobe -r vhost_net 2>/dev/null
vhx_unload
