#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Not a test: the experiment behind Documentation/qemu.md, "L2 triple
# faults". Run in the test VM:
#
#   selftests/vm/run.sh selftests/migration/reset-stress.sh
#
# N rounds (VHX_RS_N, default 5); in each, one guest per node of VHX_RS_NODES
# (default: vhost_net, then vhostx) with VHX_RS_SMP vCPUs (2) and
# VHX_RS_QUEUES queue pairs (2) carries one TCP stream each way per queue
# pair at VHX_RS_RATE bytes/s each (0: full speed) for VHX_RS_SECS seconds
# (60), with no migration. A guest that resets is held paused
# (-action reboot=shutdown -action shutdown=pause), its status read every
# 5 s; its registers ("info registers -a"), console and a dump of its RAM go
# to build/vm/out/reset-stress/. VHX_KVM_OPTS are kvm_amd's (or kvm_intel's)
# module parameters (e.g. "vgif=0"). One line per guest:
#   RESULT ROUND NODE streams=RC survived|RESET
set -u
SELFTESTS=$(cd "$(dirname "$0")/.." && pwd)
TOP=$(cd "$SELFTESTS/.." && pwd)
export SELFTESTS TOP
# shellcheck source=../lib/ktap.sh
. "$SELFTESTS/lib/ktap.sh"
# shellcheck source=../lib/common.sh
. "$SELFTESTS/lib/common.sh"
L2_STATE=/tmp/vhx-reset-stress
# shellcheck source=lib.sh
. "$SELFTESTS/migration/lib.sh"
rm -rf "$L2_STATE"
mkdir -p "$L2_STATE"
N=${VHX_RS_N:-5} SMP=${VHX_RS_SMP:-2} Q=${VHX_RS_QUEUES:-2} SECS=${VHX_RS_SECS:-60}
NODES=${VHX_RS_NODES:-"/dev/vhost-net $VHX_NODE"}
MG_RATE=${VHX_RS_RATE:-0}
OUT=$TOP/build/vm/out/reset-stress
mkdir -p "$OUT"
export L2_APPEND=nokaslr
export MG_QEMU_EXTRA="-action reboot=shutdown -action shutdown=pause"
l2_setup
modprobe -a tun tap bridge vhost_net
wait_node /dev/vhost-net
vhx_load
wait_node $VHX_NODE
mg_bridge || exit 1
# nokaslr: the registers name kernel symbols this table has
sort /proc/kallsyms > "$OUT/kallsyms-$(uname -r).txt"
res=$OUT/results.txt
echo "$(uname -r) kvm: ${VHX_KVM_OPTS:-defaults}, $SMP vCPUs, $Q queue pairs, rate $MG_RATE, $SECS s" > "$res"
for i in $(seq "$N"); do
	for node in $NODES; do
		g=g$i$(case $node in *vhostx*) echo x ;; *) echo n ;; esac)
		if ! mg_boot "$g" "$node" "$Q" "$SMP" > "$L2_STATE/boot.txt" 2>&1; then
			echo "$i $node boot failed: $(tail -n 3 "$L2_STATE/boot.txt" | tr '\n' ' ')" | tee -a "$res"
			l2_kill_all
			continue
		fi
		if ! mg_streams_start "$g" "$Q"; then
			echo "$i $node streams failed" | tee -a "$res"
			mg_streams_kill "$g"
			l2_kill_all
			continue
		fi
		r=survived st=
		for s in $(seq $((SECS / 5))); do
			sleep 5
			st=$(l2_qmp "$g" query-status | tail -n 1)
			case $st in *'"status": "running"'*) ;; *) r=RESET; break ;; esac
		done
		if [ $r = RESET ]; then
			echo "$i $node: $st after $((s * 5)) s" >> "$res"
			l2_qmp "$g" human-monitor-command '{"command-line": "info registers -a"}' > "$OUT/$g-regs.txt"
			l2_qmp "$g" dump-guest-memory '{"paging": false, "protocol": "file:'"$OUT/$g.core"'"}' >/dev/null 2>&1
			cp "$L2_STATE/$g/console.log" "$OUT/$g-console.log"
			mg_streams_kill "$g"
			se=-
		else
			mg_streams_end "$g" "$g" "$Q" >> "$res" 2>&1 && se=0 || se=$?
		fi
		echo "RESULT $i $(basename "$node") streams=$se $r" | tee -a "$res"
		l2_kill_all >/dev/null 2>&1
		sleep 2
	done
done
grep RESULT "$res"
mg_cleanup
