# SPDX-License-Identifier: GPL-2.0
# selftests/migration: live migration of a QEMU/KVM L2 guest whose NIC is
# served by vhostx (dirty logging: VHOST_F_LOG_ALL, VHOST_SET_LOG_BASE), and
# between vhost_net and vhostx both ways. Source and destination QEMU run in
# the test VM side by side, the destination with -incoming unix:PATH, each on
# its own tap; both taps are ports of one bridge that holds $L2_HOST_IP, so
# the guest keeps its address and peers wherever it runs.
#
# While each migration runs, TCP streams flow both ways through the NIC at a
# steady pace (xfer.py --rate): into the guest, whose RX buffers the device
# writes (every page of them must reach the destination: a page written
# after it was copied and not logged arrives stale and changes the MD5), and
# out of it, whose used ring the device writes. The MD5s of both are
# compared at the end, and ping runs every 10 ms throughout: the longest gap
# is the downtime the guest's peers saw.
#
# One guest travels: vhostx -> vhostx -> vhost_net -> vhostx, then a
# migration that is cancelled halfway (logging off again, the guest runs on
# where it was); then a 2-queue-pair guest (one vCPU) migrates vhostx -> vhostx.
# Sourced by run_suite.sh; see Documentation/qemu.md, "Live migration".

# shellcheck source=lib.sh
. "$SELFTESTS/migration/lib.sh"

rm -rf "$L2_STATE"
mkdir -p "$L2_STATE"

mg_need_setup()
{
	[ -f "$MG_OK" ] || skip "no nested KVM, no L2 image or no bridge (see the setup case)"
}

# The guest must be running on instance $1 (an earlier case moved it there).
mg_need()
{
	mg_need_setup
	[ -n "$(l2_pid "$1")" ] && ! pid_gone "$(l2_pid "$1")" ||
		skip "the guest is not running on '$1' (an earlier case failed)"
}

mg_setup()
{
	l2_setup
	modprobe -a tun tap bridge || fail "modprobe tun tap bridge"
	modprobe vhost_net && wait_node /dev/vhost-net || fail "modprobe vhost_net"
	vhx_load && wait_node $VHX_NODE || fail "insmod vhostx"
	mg_bridge || fail "bridge $MG_BR"
	touch "$MG_OK"
}

# mg_case SRC SRCNODE DST DSTNODE QUEUES SMP: migrate the guest from SRC to a
# new QEMU DST with streams running; checks and reports. SRC must be up
# (booted by the caller or the destination of the previous case).
mg_case()
{
	local src=$1 snode=$2 dst=$3 dnode=$4 q=$5 smp=$6 o logged rc
	mg_need "$src"
	mg_step "$src -> $dst: destination"
	mg_qemu "$dst" "$dnode" "$q" "$smp" incoming || fail "destination QEMU"
	mg_step "$src -> $dst: streams"
	mg_streams_start "$src" "$q" || { mg_streams_kill "$src"; fail "streams"; }
	mg_step "$src -> $dst: migrating"
	o=$L2_STATE/$dst/migrate.out
	mg_migrate "$src" "$dst" && rc=0 || rc=$?
	sed 's/^/  /' "$o"
	mg_step "$src -> $dst: migration ended: $(tr '\n' ' ' < "$o")"
	logged=$(mg_logged "$(l2_pid "$src")")
	[ $rc = 0 ] || { l2_diag "$dst"; mg_streams_kill "$src"; fail "migration $src -> $dst: $(mg_kv "$o" status)"; }
	# The guest and its agent run on DST now; its commands are numbered on.
	cp "$L2_STATE/$src/seq" "$L2_STATE/$src/boot_id" "$L2_STATE/$dst/"
	mg_step "$src -> $dst: ending the streams"
	mg_streams_end "$dst" "$src" "$q" || { mg_streams_kill "$src"; fail "the streams across the migration"; }
	mg_serves "$dst" "$dnode" "$q" || fail "destination NIC"
	l2_qemu_err_clean "$dst" || fail "destination QEMU reported a vhost problem"
	l2_ping "$dst" || fail "ping after the migration"
	mg_same_boot "$dst" || fail "the guest did not survive the migration"
	echo "$src ($snode) -> $dst ($dnode): migration $(mg_kv "$o" secs) s, QEMU downtime $(mg_kv "$o" downtime_ms) ms," \
		"guest-visible gap $(mg_kv "$o" gap_ms) ms, RAM $(($(mg_kv "$o" ram_transferred) >> 20)) MiB," \
		"pages the source device logged: $logged"
	echo "$(basename "$snode")->$(basename "$dnode") q$q $(mg_kv "$o" secs) $(mg_kv "$o" downtime_ms) $(mg_kv "$o" gap_ms) ${logged%% *}" \
		>> "$MG_RESULTS"
	l2_kill "$src" >/dev/null || fail "source QEMU did not exit"
	mg_ndev_is "$([ "$dnode" = $VHX_NODE ] && echo "$q" || echo 0)" ||
		fail "the source's vhostx devices were not freed"
}

mg_first()
{
	mg_need_setup
	mg_boot "$@" || fail "boot"
	l2_ping "$1" || fail "ping"
}

# mg_case_reset_retry SRC SNODE DST DNODE Q SMP: mg_case, and if it failed
# because the guest reset itself silently on either side (a triple fault:
# no panic or oops on its console), the whole case once more with a fresh
# guest booted on SNODE. Under this harness's nested KVM inside TCG, loaded
# 2-vCPU guests triple-fault on vhost_net as on vhostx, with no migration
# (Documentation/qemu.md, "L2 triple faults"). Any other failure, or a
# second reset, fails the case.
mg_case_reset_retry()
{
	local src=$1 dst=$3 rc
	set +e
	(set -e; mg_case "$@")
	rc=$?
	set -e
	[ "$rc" != 0 ] || return 0
	[ "$(l2_silent_resets "$src")" -gt 0 ] || [ "$(l2_silent_resets "$dst" incoming)" -gt 0 ] ||
		return "$rc"
	echo "the guest reset itself with no panic or oops on its console (a triple fault): once more with a fresh guest"
	cp "$L2_STATE/$src/console.log" "$L2_STATE/$src-reset-console.log" 2>/dev/null || true
	cp "$L2_STATE/$dst/console.log" "$L2_STATE/$dst-reset-console.log" 2>/dev/null || true
	mg_streams_kill "$src"
	l2_kill "$src" >/dev/null || true
	l2_kill "$dst" >/dev/null || true
	mg_boot "${src}2" "$2" "$5" "$6" || fail "boot of the fresh guest"
	shift
	mg_case "${src}2" "$1" "${dst}2" "${@:3}"
}

# A migration cancelled halfway: with the bandwidth held low it cannot
# finish, and 5 s after it started QEMU cancels it. The guest runs on at the
# source, whose device logs no more: logging off on both queues, and the
# log counters stand still while more traffic flows.
mg_cancel()
{
	local src=$1 dst=$2 o pid a b rc f z
	mg_need "$src"
	pid=$(l2_pid "$src")
	z=$(mg_logged "$pid")
	mg_qemu "$dst" $VHX_NODE 1 1 incoming || fail "destination QEMU"
	mg_streams_start "$src" 1 || { mg_streams_kill "$src"; fail "streams"; }
	o=$L2_STATE/$dst/migrate.out
	mg_migrate "$src" "$dst" --cancel-after 5 --bandwidth 4000000 && rc=0 || rc=$?
	sed 's/^/  /' "$o"
	[ $rc = 0 ] || { mg_streams_kill "$src"; fail "migration not cancelled as asked: $(mg_kv "$o" status)"; }
	a=$(mg_logged "$pid")
	echo "pages logged: $z before the migration, $a after the cancel"
	[ "${a%% *}" -gt "${z%% *}" ] || { mg_streams_kill "$src"; fail "the device logged nothing while the migration ran"; }
	mg_streams_end "$src" "$src" 1 || { mg_streams_kill "$src"; fail "the streams across the cancelled migration"; }
	awk -v p="$pid" '$1 == "dev" && $4 == p { print "  device", $2, "features", $6 }' $VHX_DEBUGFS
	f=$(vhx_owned_features "$pid")
	[ $((f & (1 << 26))) = 0 ] || fail "VHOST_F_LOG_ALL still acked after the cancel ($f)"
	! grep -A0 '^  vq' $VHX_DEBUGFS | grep -q 'log_used yes' || fail "a used ring is still logged"
	a=$(mg_logged "$pid")
	l2_xfer "$src" $((2 << 20)) >/dev/null || fail "transfer after the cancel"
	b=$(mg_logged "$pid")
	echo "pages logged around a 2 MiB transfer after the cancel: $a -> $b"
	[ "$a" = "$b" ] || fail "the device still logs after the cancel"
	mg_serves "$src" $VHX_NODE 1 || fail "source NIC"
	l2_kill "$dst" >/dev/null || true
	echo "cancel $(mg_kv "$o" secs) - - ${a%% *}" >> "$MG_RESULTS"
}

mg_unload()
{
	mg_need_setup
	vhx_ndev_zero || fail "devices left"
	vhx_objects_zero 10 || fail "objects left"
	vhx_unload || fail "rmmod vhostx"
	modprobe -r vhost_net 2>/dev/null || true
}

ktap_case "migration: setup: nested KVM, L2 image, bridge, vhostx and vhost_net" mg_setup
# VHX_MIG_CASES=all (the default), sq or mq: both, the single-queue cases,
# or the multiqueue pair.
MG_CASES=${VHX_MIG_CASES:-all}
if [ "$MG_CASES" != mq ]; then
	ktap_case "migration: a guest boots on vhostx" mg_first a $VHX_NODE 1 1
	ktap_case "migration: vhostx -> vhostx with TCP streams both ways, MD5s match" \
		mg_case a $VHX_NODE b $VHX_NODE 1 1
	ktap_case "migration: vhostx -> vhost_net with TCP streams both ways, MD5s match" \
		mg_case b $VHX_NODE c /dev/vhost-net 1 1
	ktap_case "migration: vhost_net -> vhostx with TCP streams both ways, MD5s match" \
		mg_case c /dev/vhost-net d $VHX_NODE 1 1
	ktap_case "migration: vhostx, cancelled halfway: logging off, the guest runs on" mg_cancel d e
	l2_kill_all
fi
# The multiqueue pair: 2 queue pairs on one vCPU, one more try after a silent
# guest reset (mg_case_reset_retry). VHX_MIG_MQ="NODE SMP QUEUES [DSTNODE]"
# runs it on another node, vCPU or queue count.
# shellcheck disable=SC2086
set -- ${VHX_MIG_MQ:-$VHX_NODE 1 2}
MG_MQ_NODE=$1 MG_MQ_SMP=$2 MG_MQ_Q=${3:-2} MG_MQ_DST=${4:-$1}
if [ "$MG_CASES" != sq ]; then
	ktap_case "migration: a $MG_MQ_Q-queue-pair, $MG_MQ_SMP-vCPU guest boots on $(basename $MG_MQ_NODE)" \
		mg_first m $MG_MQ_NODE $MG_MQ_Q $MG_MQ_SMP
	ktap_case "migration: multiqueue $(basename $MG_MQ_NODE) -> $(basename $MG_MQ_DST), $MG_MQ_Q streams each way, MD5s match" \
		mg_case_reset_retry m $MG_MQ_NODE n $MG_MQ_DST $MG_MQ_Q $MG_MQ_SMP
fi

if [ -s "$MG_RESULTS" ]; then
	ktap_diag "migrations (informational): case, seconds, QEMU downtime ms, guest-visible gap ms, pages logged"
	while read -r line; do ktap_diag "  $line"; done < "$MG_RESULTS"
fi
# VHX_MIG_SAVE=DIR (a directory the host can read, e.g. under build/vm/out):
# every instance's console, QEMU stderr and CPU reset log, for a post-mortem.
if [ -n "${VHX_MIG_SAVE:-}" ] && mkdir -p "$VHX_MIG_SAVE"; then
	for d in "$L2_STATE"/*/; do
		for f in console.log qemu.err qemu-resets.log agent.log migrate.out; do
			[ ! -f "$d$f" ] || cp "$d$f" "$VHX_MIG_SAVE/$(basename "$d")-$f"
		done
	done
fi
mg_cleanup
l2_kvm_keeper_stop
ktap_case "migration: every device freed, vhostx unloads" mg_unload
