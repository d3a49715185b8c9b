#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/vm-qemu.sh - provide the QEMU that runs the test VM (selftests/vm).
#
# The VM needs QEMU 10 from bookworm-backports, while Debian 12's QEMU 7.2
# stays the installed /usr/bin/qemu-system-x86_64 (the tests drive it inside
# the VM). So QEMU 10 is never installed with dpkg: its packages (and any
# dependency bookworm cannot satisfy) are unpacked with dpkg-deb into
# ${VHX_CACHE:-/var/cache/vhostx}/qemu-<version>/, next to a wrapper that
# points the private binary at its own modules and firmware. Libraries that
# bookworm has but are not installed are apt-get installed from bookworm.
#
# Prints the wrapper's absolute path as the last line of stdout. Idempotent:
# once the cache exists this only prints the path (no apt at all). The cache
# is built in a temporary directory and renamed into place when complete.
# With --path it never builds: it prints the path when the cache is complete
# and fails otherwise (selftests/vm/run.sh asks this way).
set -eu

QEMU_VERSION=1:10.0.2+ds-2+deb13u1~bpo12+1
SUITE=bookworm-backports
# the QEMU packages unpacked privately; the modules packages are there because
# QEMU also looks in the system module directory, where it would find 7.2's
# builds of the same modules and refuse them (or abort, on `-device help`)
QEMU_PKGS="qemu-system-x86 qemu-system-common qemu-system-data
	qemu-system-modules-opengl qemu-system-modules-spice"
ARCH_LIBDIR=x86_64-linux-gnu

CACHE_ROOT=${VHX_CACHE:-/var/cache/vhostx}
VER=${QEMU_VERSION#*:}		# no epoch: ':' would break LD_LIBRARY_PATH
DIR=$CACHE_ROOT/qemu-$VER
WRAPPER=$DIR/qemu-system-x86_64

if [ -x "$WRAPPER" ]; then
	echo "$WRAPPER"
	exit 0
fi
# --path: only say where it is; fail (quietly) when it is not there yet
[ "${1-}" != --path ] || exit 1

die() { echo "vm-qemu: $*" >&2; exit 1; }

if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || die "must run as root (no sudo to get there)"
	exec sudo VHX_CACHE="$CACHE_ROOT" DEBIAN_FRONTEND=noninteractive \
		"$(readlink -f "$0")" "$@"
fi

export DEBIAN_FRONTEND=noninteractive LC_ALL=C
umask 022
case $CACHE_ROOT in /*) ;; *) die "VHX_CACHE must be an absolute path" ;; esac
mkdir -p "$CACHE_ROOT" || die "cannot create $CACHE_ROOT"

# one builder at a time; a second one waits and then finds the cache done
exec 9>"$CACHE_ROOT/.qemu.lock"
flock 9
if [ -x "$WRAPPER" ]; then
	echo "$WRAPPER"
	exit 0
fi
rm -rf "$CACHE_ROOT"/.qemu-*.tmp.*	# left by an interrupted run
STAGE=$(mktemp -d "$CACHE_ROOT/.qemu-$VER.tmp.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT
trap 'exit 130' INT TERM HUP
ROOT=$STAGE/root
LOG=$STAGE/log
mkdir "$ROOT" "$STAGE/debs"

echo "vm-qemu: fetching QEMU $VER from $SUITE into $DIR" >&2

# run CMD...: quiet, but show its output when it fails
run() {
	: > "$LOG"
	"$@" < /dev/null >> "$LOG" 2>&1 && return 0
	{ grep -E '^(E|W):' "$LOG" || tail -n 20 "$LOG"; } | sed 's/^/  /' >&2
	return 1
}

# -- apt must know the backports suite ----------------------------------------
if ! grep -Eqs '^[^#]*[[:space:]]bookworm-backports([[:space:]]|$)' \
	/etc/apt/sources.list /etc/apt/sources.list.d/*.list \
	/etc/apt/sources.list.d/*.sources; then
	cat > /etc/apt/sources.list.d/vhostx-backports.sources <<-EOF
	Types: deb
	URIs: http://deb.debian.org/debian
	Suites: bookworm-backports
	Components: main
	Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
	EOF
fi
# known: does apt know qemu-system-x86 $QEMU_VERSION (from $SUITE)?
known() {
	apt-cache madison qemu-system-x86 2>/dev/null |
		awk -F' *[|] *' -v v="$QEMU_VERSION" -v s="$SUITE" \
			'$2 == v && index($3, s) { f = 1 } END { exit !f }'
}
if ! known; then
	apt-get update -q < /dev/null > "$LOG" 2>&1 || true
	if ! known; then
		grep -E '^(W|E):' "$LOG" | sed 's/^/  /' >&2 || true
		die "qemu-system-x86 $QEMU_VERSION is not available from $SUITE" \
			"(no network to deb.debian.org, or the version left the archive)"
	fi
fi
# Backports is NotAutomatic/ButAutomaticUpgrades: knowing it upgrades nothing.
if apt-get -s upgrade 2>/dev/null | grep -E '^Inst ' | grep -q backports; then
	die "apt-get upgrade would pull packages from $SUITE; check the apt pinning"
fi

# -- which packages: QEMU's, plus whatever they need that is missing -----------
declare -A INST		# installed package -> version
declare -A PRIV		# package (or what it provides) -> version, unpacked
while IFS='|' read -r st pkg ver; do
	[ "$st" = "ii " ] && INST[$pkg]=$ver
done < <(dpkg-query -W -f='${db:Status-Abbrev}|${Package}|${Version}\n')

# satisfied NAME [OP VERSION]: by the private set or an installed package
satisfied() {
	local v
	for v in "${PRIV[$1]-}" "${INST[$1]-}"; do
		[ -n "$v" ] || continue
		[ $# -eq 1 ] && return 0
		dpkg --compare-versions "$v" "$2" "$3" && return 0
	done
	return 1
}

# pick NAME [OP VERSION]: print "host VER" for the newest non-backports
# version that fits, else "private VER" for a backports one
pick() {
	local name=$1 op=${2-} want=${3-} v where
	while IFS='|' read -r _ v where; do
		v=${v// /}
		case $where in *backports*) continue ;; esac
		if [ -z "$op" ] || dpkg --compare-versions "$v" "$op" "$want"; then
			echo "host $v"; return 0
		fi
	done < <(apt-cache madison "$name" 2>/dev/null)
	while IFS='|' read -r _ v where; do
		v=${v// /}
		case $where in *"$SUITE"*) ;; *) continue ;; esac
		if [ -z "$op" ] || dpkg --compare-versions "$v" "$op" "$want"; then
			echo "private $v"; return 0
		fi
	done < <(apt-cache madison "$name" 2>/dev/null)
	return 1
}

HOST=()			# pkg=ver to apt-get install from bookworm
MANIFEST=()
todo=()
for p in $QEMU_PKGS; do todo+=("$p=$QEMU_VERSION"); done
while [ ${#todo[@]} -gt 0 ]; do
	(cd "$STAGE/debs" && run apt-get download -q -o APT::Sandbox::User=root "${todo[@]}") ||
		die "download from $SUITE failed (network?): ${todo[*]}"
	new=()
	for spec in "${todo[@]}"; do
		f=$(echo "$STAGE/debs/${spec%%=*}"_*.deb)
		[ -f "$f" ] || die "apt-get download gave no file for $spec"
		PRIV[${spec%%=*}]=${spec#*=}
		IFS=, read -ra prov <<< "$(dpkg-deb -f "$f" Provides)"
		for p in "${prov[@]}"; do
			read -r pn pv <<< "${p//[()=]/ }"
			[ -n "$pn" ] && PRIV[$pn]=${pv:-${spec#*=}}
		done
		new+=("$f")
	done
	todo=()
	for f in "${new[@]}"; do
		from=$(dpkg-deb -f "$f" Package)
		IFS=, read -ra deps <<< "$(dpkg-deb -f "$f" Pre-Depends Depends |
			sed 's/^[A-Za-z-]*: //' | paste -sd, -)"
		for clause in "${deps[@]}"; do
			[ -n "${clause// /}" ] || continue
			ok=0
			IFS='|' read -ra alts <<< "$clause"
			for a in "${alts[@]}"; do
				read -r n op v <<< "${a//[()]/ }"
				satisfied "${n%%:*}" ${op:+"$op" "$v"} && { ok=1; break; }
			done
			[ $ok = 1 ] && continue
			for a in "${alts[@]}"; do
				read -r n op v <<< "${a//[()]/ }"
				n=${n%%:*}
				a=${op:+"$n ($op $v)"}; a=${a:-$n}
				got=$(pick "$n" ${op:+"$op" "$v"}) || continue
				if [ "${got%% *}" = host ]; then
					HOST+=("$n=${got#* }")
					INST[$n]=${got#* }
					MANIFEST+=("$n=${got#* } host (bookworm): $from needs $a")
				else
					todo+=("$n=${got#* }")
					PRIV[$n]=${got#* }
					MANIFEST+=("$n=${got#* } private ($SUITE): $from needs $a")
				fi
				ok=1
				break
			done
			[ $ok = 1 ] || die "nothing in bookworm or $SUITE satisfies '$clause' (for $from)"
		done
	done
done

if [ ${#HOST[@]} -gt 0 ]; then
	apt-get -s install --no-install-recommends "${HOST[@]}" 2>/dev/null |
		grep -E '^Inst ' | grep -q backports &&
		die "installing ${HOST[*]} would pull packages from $SUITE"
	echo "vm-qemu: installing from bookworm: ${HOST[*]}" >&2
	run apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=600 \
		"${HOST[@]}" || die "apt-get install ${HOST[*]} failed"
fi

# -- unpack -------------------------------------------------------------------
for f in "$STAGE"/debs/*.deb; do
	dpkg-deb -x "$f" "$ROOT" || die "cannot unpack ${f##*/}"
	MANIFEST+=("$(dpkg-deb -f "$f" Package)=$(dpkg-deb -f "$f" Version) unpacked")
done
rm -rf "$STAGE/debs"

# private shared libraries (from backports), if any, go first in the search
libdirs=()
for d in lib/$ARCH_LIBDIR usr/lib/$ARCH_LIBDIR; do
	compgen -G "$ROOT/$d/*.so*" > /dev/null && libdirs+=("$d")
done

# write_wrapper BASE OUT: a wrapper for the tree unpacked at BASE
write_wrapper() {
	local base=$1 out=$2 ld='' d
	for d in "${libdirs[@]}"; do ld=${ld:+$ld:}$base/$d; done
	{
		echo '#!/bin/sh'
		echo "# QEMU $VER from $SUITE, unpacked privately by scripts/vm-qemu.sh"
		# shellcheck disable=SC2016 # expanded by the wrapper
		[ -z "$ld" ] || printf 'export LD_LIBRARY_PATH=%q${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}\n' "$ld"
		printf 'export QEMU_MODULE_DIR=%q\n' "$base/usr/lib/$ARCH_LIBDIR/qemu"
		printf 'exec %q -L %q -L %q "$@"\n' "$base/usr/bin/qemu-system-x86_64" \
			"$base/usr/share/qemu" "$base/usr/share/seabios"
	} > "$out"
	chmod 755 "$out"
}

# -- check it before it goes into place ---------------------------------------
CHECK=$STAGE/check-qemu
write_wrapper "$ROOT" "$CHECK"
ldpath=
for d in "${libdirs[@]}"; do ldpath=${ldpath:+$ldpath:}$ROOT/$d; done
missing=$(for f in "$ROOT/usr/bin/qemu-system-x86_64" "$ROOT/usr/lib/$ARCH_LIBDIR/qemu"/*.so; do
	LD_LIBRARY_PATH=$ldpath ldd "$f" 2>&1 | sed -n "s|^\t*\(.*not found\)|${f##*/}: \1|p"
done)
[ -z "$missing" ] || die "unresolved libraries:"$'\n'"$missing"

want=${VER%%+*}
out=$("$CHECK" --version 2>&1 | head -n 1)
case $out in *"version $want "*) ;; *) die "wrapper --version says: $out" ;; esac
"$CHECK" -machine help 2>&1 | grep -q '^pc ' || die "wrapper -machine help lists no pc machine"
"$CHECK" -device help > "$STAGE/devices" 2> "$STAGE/devices.err" ||
	die "wrapper -device help failed: $(cat "$STAGE/devices.err")"
[ ! -s "$STAGE/devices.err" ] || die "wrapper -device help complains: $(cat "$STAGE/devices.err")"
grep -q '"virtio-9p-pci"' "$STAGE/devices" || die "no virtio-9p-pci device in QEMU $want"

# firmware the VM (and a plain pc boot) loads: the first match must be ours
mapfile -t datadirs < <("$CHECK" -L help)
for fw in bios-256k.bin linuxboot_dma.bin pvh.bin multiboot_dma.bin kvmvapic.bin \
	efi-virtio.rom; do
	hit=
	for d in "${datadirs[@]}"; do
		[ -r "$d/$fw" ] && { hit=$d; break; }
	done
	[ -n "$hit" ] || die "firmware $fw not found in: ${datadirs[*]}"
	case $fw:$hit in
	efi-*) ;;		# iPXE roms: bookworm's ipxe-qemu, as QEMU 10 accepts
	*:"$ROOT"/*) ;;
	*) die "firmware $fw would come from $hit, not from QEMU $want" ;;
	esac
done
rm -f "$CHECK" "$STAGE/devices" "$STAGE/devices.err" "$LOG"

# -- into place ---------------------------------------------------------------
printf '%s\n' "${MANIFEST[@]}" > "$ROOT/PACKAGES"
write_wrapper "$DIR" "$ROOT/qemu-system-x86_64"
chmod 755 "$ROOT"
mv -T "$ROOT" "$DIR" || die "cannot move the new cache to $DIR"
echo "$WRAPPER"
