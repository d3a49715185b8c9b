# SPDX-License-Identifier: GPL-2.0
# selftests/install: make install / uninstall, then modprobe by name and the
# udev rule's group and mode. Sourced by run_suite.sh; needs `make` run on
# the host first.
#
# It installs with DESTDIR into a small module tree (tun and tap copied in,
# so depmod resolves vhostx's dependencies): depmod over the whole 9p-shared
# /lib/modules takes about three minutes under TCG, this takes a second.

UDEVD=/lib/systemd/systemd-udevd
KVER_RUN=$(uname -r)
INST_ROOT=/tmp/vhx-root

inst_install()
{
	local m=$INST_ROOT/lib/modules/$KVER_RUN f
	vhx_unload
	rm -rf $INST_ROOT
	mkdir -p $m/kernel/drivers/net
	cp /lib/modules/$KVER_RUN/kernel/drivers/net/{tun,tap}.ko $m/kernel/drivers/net/
	cp /lib/modules/$KVER_RUN/modules.builtin* $m/
	make -s -C "$TOP" install DESTDIR=$INST_ROOT KVER="$KVER_RUN" >/tmp/install.log 2>&1 ||
		{ cat /tmp/install.log; fail "make install"; }
	for f in lib/modules/$KVER_RUN/updates/vhostx.ko lib/udev/rules.d/60-vhostx.rules \
		usr/local/sbin/vhostxctl usr/local/share/man/man8/vhostxctl.8 \
		usr/local/share/bash-completion/completions/vhostxctl; do
		[ -e "$INST_ROOT/$f" ] || fail "make install did not put /$f in place"
	done
	grep -q '^updates/vhostx.ko: .*tun.ko' $m/modules.dep || fail "depmod: $(grep vhostx $m/modules.dep)"
	$INST_ROOT/usr/local/sbin/vhostxctl --version | grep -q "^vhostxctl $(cat "$TOP/VERSION")" ||
		fail "installed vhostxctl --version"
}

inst_udev_cleanup()
{
	pkill -f systemd-udevd
	rm -f /run/udev/rules.d/60-vhostx.rules
	modprobe -d $INST_ROOT -r vhostx 2>/dev/null || true
}

inst_modprobe_udev()
{
	local st
	[ -x $UDEVD ] || skip "no systemd-udevd"
	[ -f $INST_ROOT/lib/udev/rules.d/60-vhostx.rules ] || fail "not installed"
	getent group kvm >/dev/null || groupadd -r kvm
	# The case runs in a subshell: leave no udevd or rule behind, whatever happens.
	trap inst_udev_cleanup EXIT
	mkdir -p /run/udev/rules.d
	cp $INST_ROOT/lib/udev/rules.d/60-vhostx.rules /run/udev/rules.d/
	$UDEVD --daemon || fail "start udevd"
	vhx_unload
	modprobe -d $INST_ROOT vhostx || fail "modprobe vhostx by name, dependencies from depmod"
	wait_node $VHX_NODE || fail "no node"
	# udevadm settle refuses to run in a chroot: poll for udevd's change.
	for _ in $(seq 50); do
		st=$(stat -c '%G %a' $VHX_NODE)
		[ "$st" = "kvm 660" ] && break
		sleep 0.1
	done
	echo "$VHX_NODE: $st"
	[ "$st" = "kvm 660" ] || fail "node is '$st', want 'kvm 660'"
	grep -q "^vhostx " /proc/modules || fail "vhostx not loaded"
	modprobe -d $INST_ROOT -r vhostx || fail "modprobe -r"
}

inst_uninstall()
{
	local m=$INST_ROOT/lib/modules/$KVER_RUN
	make -s -C "$TOP" uninstall DESTDIR=$INST_ROOT KVER="$KVER_RUN" >/tmp/uninstall.log 2>&1 ||
		{ cat /tmp/uninstall.log; fail "make uninstall"; }
	[ ! -e $m/updates/vhostx.ko ] || fail "module still installed"
	[ ! -e $INST_ROOT/lib/udev/rules.d/60-vhostx.rules ] || fail "udev rule still installed"
	[ ! -e $INST_ROOT/usr/local/sbin/vhostxctl ] || fail "vhostxctl still installed"
	! grep -q vhostx $m/modules.dep || fail "modules.dep still lists vhostx"
	rm -rf $INST_ROOT
}

ktap_case "install: make install puts module, udev rule, vhostxctl, man page, completion" inst_install
ktap_case "install: modprobe vhostx by name; /dev/vhostx-net is kvm 0660" inst_modprobe_udev
ktap_case "install: make uninstall removes them" inst_uninstall
