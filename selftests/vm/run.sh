#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# selftests/vm/run.sh - run one command in a throw-away QEMU/TCG guest.
#
# usage: selftests/vm/run.sh [-v] COMMAND [ARGS...]
#
# The guest boots the Debian kernel (KVER, default: scripts/kver.sh) from its
# uncompressed vmlinux (PVH entry: no decompression under TCG). Its root is
# overlayfs(host "/" over 9p read-only, tmpfs), so every host binary, library,
# module and this source tree are visible at the same paths, and writes stay in
# guest RAM. VM_OUT is shared read-write at the same path; the command's
# status, dmesg and taint come back through it. The command runs with bash in
# the caller's directory; its stdout and stderr stream over the second serial
# port (~150 KB/s under TCG: put bulky output in a file under $VM_OUT).
#
# Exit status: the command's, or
#   124  the VM timed out (VM_TIMEOUT seconds)
#   125  the guest died without a status, hung (a soft lockup of 300 s or
#        more), froze (its heartbeat stopped for VM_STALL seconds), or the
#        kernel got tainted beyond O (out-of-tree) and E (unsigned): an
#        oops, a WARN, a bad page, ...
#   126  setup error on the host
#
# Environment:
#   VM_MEM=2G VM_SMP=2 VM_CPU=max VM_TIMEOUT=900 VM_STALL=180 VM_APPEND=
#   VM_QEMU_ARGS= VM_QEMU= (the QEMU that runs the test VM; default: the
#   private QEMU 10 that scripts/vm-qemu.sh unpacks, else qemu-system-x86_64)
#   VM_OUT=$BUILD/vm/out  VM_KEEP=0 (keep the run directory even on success)
#   Every variable named VHX_* is exported into the guest command.
set -u

TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$TOP/build}
KVER=${KVER:-$("$TOP/scripts/kver.sh")}
VMDIR=$BUILD/vm
VM_MEM=${VM_MEM:-2G}
VM_SMP=${VM_SMP:-2}
VM_CPU=${VM_CPU:-max}
VM_TIMEOUT=${VM_TIMEOUT:-900}
VM_STALL=${VM_STALL:-180}
VM_APPEND=${VM_APPEND:-}
VM_QEMU_ARGS=${VM_QEMU_ARGS:-}
VM_OUT=${VM_OUT:-$VMDIR/out}
VM_KEEP=${VM_KEEP:-0}
VERBOSE=0

# Taint bits a test may leave: O (12, out-of-tree) and E (13, unsigned).
TAINT_ALLOWED=$(((1 << 12) | (1 << 13)))

die() { echo "vm: $*" >&2; exit 126; }

[ "${1:-}" = "-v" ] && { VERBOSE=1; shift; }
[ $# -ge 1 ] || { sed -n '4,29p' "$0" | sed 's/^# \{0,1\}//'; exit 126; }
[ -n "$KVER" ] || die "no kernel with /boot/vmlinuz-* and headers; run 'make deps'"
if [ -z "${VM_QEMU:-}" ]; then
	VM_QEMU=$("$TOP/scripts/vm-qemu.sh" --path 2>/dev/null) || {
		VM_QEMU=qemu-system-x86_64
		echo "vm: no private QEMU 10 (make deps unpacks it); running the test VM on $($VM_QEMU --version 2>/dev/null | head -n 1)" >&2
	}
fi
command -v "$VM_QEMU" >/dev/null || die "$VM_QEMU missing; run 'make deps'"
[ -x /bin/busybox ] || die "/bin/busybox missing (busybox-static); run 'make deps'"

mkdir -p "$VMDIR" "$VM_OUT/runs" || die "cannot create $VMDIR"
VMLINUX=$VMDIR/vmlinux-$KVER
INITRD=$VMDIR/initramfs-$KVER.cpio.gz

# The bzImage payload (xz on 6.1, zstd on Debian's 6.12) is slow to
# decompress under TCG: boot the ELF vmlinux inside it instead. The setup
# header gives the payload's place (boot protocol 2.08+: payload_offset at
# 0x248, payload_length at 0x24c, from the protected-mode code at
# (setup_sects + 1) * 512); it ends with the 4-byte uncompressed size.
extract_vmlinux() {
	python3 - "/boot/vmlinuz-$KVER" "$VMLINUX.tmp" <<'EOF' && mv "$VMLINUX.tmp" "$VMLINUX"
import lzma, struct, subprocess, sys
data = open(sys.argv[1], "rb").read()
sects = data[0x1f1] or 4
off, size = struct.unpack_from("<II", data, 0x248)
payload = data[(sects + 1) * 512 + off:][:size - 4]
if payload.startswith(b"\xfd7zXZ\x00"):
    elf = lzma.LZMADecompressor().decompress(payload)
elif payload.startswith(b"\x28\xb5\x2f\xfd"):
    elf = subprocess.run(["zstd", "-qdc"], input=payload, stdout=subprocess.PIPE,
                         check=True).stdout
else:
    sys.exit("neither xz nor zstd payload in " + sys.argv[1])
if not elf.startswith(b"\x7fELF"):
    sys.exit("the payload of " + sys.argv[1] + " is not an ELF image")
open(sys.argv[2], "wb").write(elf)
EOF
}

build_initramfs() {
	local root f mods
	root=$(mktemp -d "$VMDIR/.initramfs.XXXXXX") || return 1
	mkdir -p "$root"/{bin,proc,sys,dev,lower,upper,newroot}
	cp /bin/busybox "$root/bin/busybox" || return 1
	mods=$(for m in virtio_pci 9pnet_virtio 9p overlay; do
		modprobe -S "$KVER" --show-depends "$m" | awk '$1 == "insmod" { print $2 }'
	done | awk '!seen[$0]++')
	# shellcheck disable=SC2086
	"$TOP/scripts/modcopy.sh" "$root" $mods > "$root/modules" || return 1
	cp "$TOP/selftests/vm/init" "$root/init" && chmod +x "$root/init" || return 1
	(cd "$root" && find . | cpio -o -H newc 2>/dev/null | gzip -1 > "$INITRD.tmp") &&
		mv "$INITRD.tmp" "$INITRD"
	rm -rf "$root"
}

if [ ! -s "$VMLINUX" ]; then
	extract_vmlinux || die "cannot extract vmlinux from /boot/vmlinuz-$KVER"
fi
if [ ! -s "$INITRD" ] || [ "$TOP/selftests/vm/init" -nt "$INITRD" ]; then
	build_initramfs || die "initramfs build failed"
fi

RUN=$(mktemp -d "$VM_OUT/runs/run.XXXXXX") || die "cannot create a run directory"
{
	for v in $(compgen -v VHX_); do printf 'export %s=%q\n' "$v" "${!v}"; done
	printf 'cd %q 2>/dev/null || cd /\n' "$PWD"
	printf '%q ' "$@"
	echo
} > "$RUN/cmd.sh"

T0=$(date +%s)
# loglevel 5: warnings reach the console, so a soft lockup or a WARN comes
# with its stack trace even when the guest dies before dmesg is saved.
# shellcheck disable=SC2086
timeout -k 10 "$VM_TIMEOUT" "$VM_QEMU" -accel tcg -cpu "$VM_CPU" \
	-smp "$VM_SMP" -m "$VM_MEM" \
	-nodefaults -no-user-config -nographic -no-reboot -vga none \
	-kernel "$VMLINUX" -initrd "$INITRD" \
	-append "console=ttyS0 panic=-1 loglevel=$((VERBOSE ? 7 : 5)) nokaslr edd=off vhx.run=$RUN vhx.out=$VM_OUT $VM_APPEND" \
	-serial "file:$RUN/console.log" \
	-chardev stdio,id=cmdout,signal=off -serial chardev:cmdout \
	-fsdev local,id=root,path=/,readonly=on,security_model=none,multidevs=remap \
	-device virtio-9p-pci,fsdev=root,mount_tag=hostroot \
	-fsdev "local,id=out,path=$VM_OUT,security_model=none" \
	-device virtio-9p-pci,fsdev=out,mount_tag=vmout \
	-monitor "unix:$RUN/monitor.sock,server=on,wait=off" \
	$VM_QEMU_ARGS </dev/null 2> "$RUN/qemu-stderr.log" &
QPID=$!
if [ $VERBOSE = 1 ]; then
	tail -n +1 --pid=$QPID -F "$RUN/console.log" 2>/dev/null | sed 's/^/[console] /' >&2 &
fi
# monitor CMD: one HMP command to the guest's QEMU (the socket is there for a
# person too: socat - UNIX-CONNECT:$RUN/monitor.sock).
monitor()
{
	python3 - "$RUN/monitor.sock" "$1" <<'PY' 2>/dev/null
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
time.sleep(1)
out = b""
try:
    while True:
        b = s.recv(65536)
        if not b:
            break
        out += b
except OSError:
    pass
sys.stdout.write(out.decode(errors="replace"))
PY
}

# Where each CPU of a guest that will not finish is: its registers and the
# kernel symbol of its RIP (from the kallsyms the guest's init saved), into
# $RUN/cpus.txt.
cpu_dump()
{
	monitor "info registers -a" > "$RUN/cpus.txt"
	python3 - "$VM_OUT/kallsyms-$KVER" "$RUN/cpus.txt" <<'PY' 2>/dev/null
import bisect, re, sys
syms = []
for line in open(sys.argv[1]):
    a, t, name = line.split()[:3]
    if t in "tTwW":
        syms.append((int(a, 16), name))
syms.sort()
addrs = [a for a, _ in syms]
with open(sys.argv[2], "a") as out:
    for rip in re.findall(r"RIP=([0-9a-f]+)", open(sys.argv[2]).read()):
        r = int(rip, 16)
        i = bisect.bisect_right(addrs, r) - 1
        where = f"{syms[i][1]}+{r - syms[i][0]:#x}" if i >= 0 else "?"
        out.write(f"RIP {rip}: {where}\n")
PY
}

# A guest that stops making progress does not come back: seen with nested
# KVM under TCG, every CPU of the test VM stuck with no vhostx code on its
# stack. Stop it as soon as that is clear, not at VM_TIMEOUT: a soft lockup
# of 300 s, or no heartbeat from its init (selftests/vm/init, every 10 s) for
# VM_STALL seconds (the first one may take that long plus a boot).
(
	t=0
	while kill -0 $QPID 2>/dev/null; do
		sleep 10
		t=$((t + 10))
		hb=$(stat -c %Y "$RUN/heartbeat" 2>/dev/null || echo "$T0")
		[ "$hb" -ge "$T0" ] || hb=$T0
		if [ $(($(date +%s) - hb)) -gt $((VM_STALL + (hb == T0 ? 120 : 0))) ]; then
			echo "$(($(date +%s) - hb))" > "$RUN/frozen"
			cpu_dump
			kill $QPID 2>/dev/null
			break
		fi
		# just before timeout(1) kills it: where is it stuck?
		[ $t -ne $(((VM_TIMEOUT - 15) / 10 * 10)) ] || cpu_dump
		if grep -qE 'soft lockup - CPU#[0-9]+ stuck for ([3-9][0-9]{2}|[0-9]{4,})s' \
			"$RUN/console.log" 2>/dev/null; then
			touch "$RUN/hung"
			cpu_dump
			kill $QPID 2>/dev/null
			break
		fi
	done
) &
WATCH=$!
wait $QPID
QRC=$?
kill $WATCH 2>/dev/null
wait $WATCH 2>/dev/null
WALL=$(($(date +%s) - T0))
[ -s "$RUN/qemu-stderr.log" ] && sed 's/^/[qemu] /' "$RUN/qemu-stderr.log" >&2

if [ ! -f "$RUN/rc" ]; then
	if [ -f "$RUN/frozen" ]; then
		echo "vm: FROZEN: no heartbeat from the guest for $(cat "$RUN/frozen") s (VM_STALL=$VM_STALL); stopped; console tail ($RUN/console.log):" >&2
		RC=125
	elif [ -f "$RUN/hung" ]; then
		echo "vm: HUNG: a CPU of the guest was stuck for 300 s or more (soft lockup); stopped; console tail ($RUN/console.log):" >&2
		RC=125
	elif [ $QRC = 124 ] || [ $QRC = 137 ]; then
		echo "vm: TIMEOUT: the guest did not finish in ${VM_TIMEOUT}s; console tail ($RUN/console.log):" >&2
		RC=124
	else
		echo "vm: the guest died without an exit status (qemu rc=$QRC); console tail ($RUN/console.log):" >&2
		RC=125
	fi
	tail -n 60 "$RUN/console.log" >&2
	[ ! -s "$RUN/cpus.txt" ] || { echo "vm: where the CPUs were:" >&2; grep '^RIP ' "$RUN/cpus.txt" >&2; }
	exit $RC
fi

RC=$(cat "$RUN/rc")
TAINT=$(cat "$RUN/tainted" 2>/dev/null || echo -1)
echo "vm: rc=$RC wall=${WALL}s tainted=$TAINT run=$RUN" >&2
if [ "$TAINT" -lt 0 ] || [ $((TAINT & ~TAINT_ALLOWED)) -ne 0 ]; then
	echo "vm: FAIL: kernel taint $TAINT has bits beyond O/E; see $RUN/dmesg.txt" >&2
	grep -E -A30 'BUG:|WARNING:|Oops|Call Trace|kmemleak' "$RUN/dmesg.txt" 2>/dev/null | head -80 >&2
	VM_KEEP=1
	[ "$RC" = 0 ] && RC=125
fi
# Reports that taint nothing on some kernels (lockdep, UBSAN, hung tasks):
# the same patterns selftests/lib/ktap.sh checks after every case.
REPORT_RE=$(sed -n "s/^KTAP_REPORT_RE='\(.*\)'$/\1/p" "$TOP/selftests/lib/ktap.sh")
if [ -n "$REPORT_RE" ] && grep -qE "$REPORT_RE" "$RUN/dmesg.txt" 2>/dev/null; then
	echo "vm: FAIL: the kernel reported a bug; see $RUN/dmesg.txt" >&2
	grep -E -A30 "$REPORT_RE" "$RUN/dmesg.txt" | head -80 >&2
	VM_KEEP=1
	[ "$RC" = 0 ] && RC=125
fi
[ "$RC" = 0 ] && [ "$VM_KEEP" != 1 ] && rm -rf "$RUN"
exit "$RC"
