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
	# (6.12's are compressed, tun.ko.xz: whatever the suffix)
	cp /lib/modules/$KVER_RUN/kernel/drivers/net/{tun,tap}.ko* $m/kernel/drivers/net/
	cp /lib/modules/$KVER_RUN/modules.builtin* $m/
	make -s -C "$TOP" install DESTDIR=$INST_ROOT KVER="$KVER_RUN" KO="$VHX_KO" >/tmp/install.log 2>&1 ||
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

# dkms: the tree copied to /usr/src/vhostx-VERSION (the VM's root is an
# overlay, so this is writable and thrown away), then dkms add, build (in the
# VM, over 9p: slow), install, a load of the installed module, and remove.
# --no-depmod: depmod over the whole shared /lib/modules takes minutes here;
# the depmod side is what the make install case checks. The build runs under
# TCG with the compiler read over 9p: it took 764 s in one run (the module
# builds in well under a minute on the host). VHX_DKMS=0 skips the case.
inst_dkms()
{
	local ver src kv=$KVER_RUN ko t0
	[ "${VHX_DKMS:-1}" != 0 ] || skip "VHX_DKMS=0"
	command -v dkms >/dev/null || skip "dkms not installed"
	[ -d /lib/modules/$kv/build ] || skip "no kernel headers for $kv"
	# dkms reads <(...), which needs /dev/fd (a bare devtmpfs lacks it).
	if [ ! -e /dev/fd ]; then
		ln -s /proc/self/fd /dev/fd || fail "no /dev/fd"
		trap 'rm -f /dev/fd' EXIT
	fi
	ver=$(cat "$TOP/VERSION")
	grep -q "^PACKAGE_VERSION=\"$ver\"$" "$TOP/dkms.conf" ||
		fail "dkms.conf's PACKAGE_VERSION is not VERSION ($ver)"
	src=/usr/src/vhostx-$ver
	dkms remove -m vhostx -v "$ver" --all --no-depmod >/dev/null 2>&1 || true
	rm -rf "$src" && mkdir -p "$src" || fail "mkdir $src"
	cp -r "$TOP/Kbuild" "$TOP/dkms.conf" "$TOP/VERSION" "$TOP/kmod" "$TOP/include" "$src/" ||
		fail "copy the source"
	find "$src" \( -name '*.o' -o -name '*.ko' -o -name '*.mod' -o -name '*.mod.c' -o \
		-name '.*.cmd' -o -name modules.order -o -name Module.symvers \) -delete
	vhx_unload
	dkms add -m vhostx -v "$ver" || fail "dkms add"
	t0=$(date +%s)
	if ! dkms build -m vhostx -v "$ver" -k "$kv" >/tmp/dkms-build.out 2>&1; then
		cat /tmp/dkms-build.out
		tail -n 30 /var/lib/dkms/vhostx/"$ver"/build/make.log 2>/dev/null
		fail "dkms build"
	fi
	echo "dkms build: $(($(date +%s) - t0)) s"
	dkms install -m vhostx -v "$ver" -k "$kv" --no-depmod >/tmp/dkms-install.out 2>&1 ||
		{ cat /tmp/dkms-install.out; fail "dkms install"; }
	dkms status -m vhostx
	dkms status -m vhostx -v "$ver" -k "$kv" | grep -q ": installed" || fail "dkms status: not installed"
	ko=$(ls /lib/modules/$kv/updates/dkms/vhostx.ko* 2>/dev/null | head -n 1)
	[ -n "$ko" ] || fail "no vhostx.ko under /lib/modules/$kv/updates/dkms"
	modinfo -F version "$ko" | grep -qx "$ver" || fail "modinfo version: $(modinfo -F version "$ko")"
	vhx_deps && insmod "$ko" || fail "insmod the dkms-built module"
	wait_node $VHX_NODE || fail "no $VHX_NODE"
	rmmod vhostx || fail "rmmod"
	dkms remove -m vhostx -v "$ver" --all --no-depmod >/dev/null || fail "dkms remove"
	[ ! -e "$ko" ] || fail "dkms remove left $ko"
	! dkms status -m vhostx | grep -q . || fail "dkms still lists vhostx: $(dkms status -m vhostx)"
	rm -rf "$src"
}

ktap_case "install: make install puts module, udev rule, vhostxctl, man page, completion" inst_install
ktap_case "install: modprobe vhostx by name; /dev/vhostx-net is kvm 0660" inst_modprobe_udev
ktap_case "install: make uninstall removes them" inst_uninstall
ktap_case "install: dkms add, build, install from /usr/src/vhostx-VERSION; the module loads; dkms remove" inst_dkms
