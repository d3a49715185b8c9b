# SPDX-License-Identifier: GPL-2.0
#
# vhostx: the user's entry point.
#
#   make            build kmod/vhostx.ko and ctl/ (vhostxctl)
#   make check      host unit tests, then the kselftest-style suite in a QEMU guest
#                   on the default kernel, and its quick tier on the other kernels
#   make check-all KVERS="..."  every suite on every kernel of the matrix
#                   (scripts/kernels.sh), or on the versions in KVERS
#   make check-flaky SUITE=qemu N=10  one in-VM suite N times in one boot,
#                   pass counts per case (the harness's stress test)
#   make fuzz       fuzz the ring code for FUZZ_SECONDS (default 300)
#   make debug-kernel  build the debug kernel (KASAN, lockdep, kmemleak, UBSAN,
#                   KCOV) once, cached in VHX_CACHE (default /var/cache/vhostx)
#   make check-debug  the quick tier and a short fuzz on the debug kernel
#                   (about 45 minutes with a first build of the kernel)
#   make fuzz-kernel  fuzz the module's whole user interface on the debug
#                   kernel for FUZZ_SECONDS (selftests/fuzz)
#   make bench      vhostx vs vhost_net vs QEMU userspace under an L2 guest: exits, copies, pps
#   make bench-check  fail if vhostx < 0.9x vhost_net (quick simulator table)
#   make demo       boot a guest, load vhostx, show that it works
#   make deps       install the Debian packages the project needs (idempotent)
#   make install    (after make) the module, udev rule, vhostxctl, man page, completion
#   make uninstall  remove what make install put in place
#
# The target kernel is the matrix's default (scripts/kver.sh: Debian 12's 6.1);
# override with KVER=<version> or KDIR=<kernel build dir>.

SHELL := /bin/bash
TOP := $(CURDIR)
BUILD ?= $(TOP)/build
KVER ?= $(shell $(TOP)/scripts/kver.sh)
KDIR ?= /lib/modules/$(KVER)/build
CMAKE_BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)

export KVER KDIR BUILD

.PHONY: all module ctl selftests l2-initramfs host-tests deps check check-unit check-vm check-flaky demo \
	fuzz bench bench-check install uninstall clean help debug-kernel check-debug fuzz-kernel check-kernels

all: module ctl

help:
	@sed -n '3,27p' $(TOP)/Makefile | sed 's/^# \{0,1\}//'

module:
	@if [ -z "$(KVER)" ] || [ ! -d "$(KDIR)" ]; then \
		echo "error: no target kernel headers (KVER='$(KVER)' KDIR='$(KDIR)'); run 'make deps'" >&2; \
		exit 1; fi
	$(MAKE) -C $(KDIR) M=$(TOP) W=1 modules

ctl:
	cmake -S $(TOP)/ctl -B $(BUILD)/ctl -DCMAKE_BUILD_TYPE=$(CMAKE_BUILD_TYPE) >/dev/null
	cmake --build $(BUILD)/ctl -j $(JOBS)

# Userspace test programs the in-VM suites run (built here, never in the VM).
selftests:
	$(MAKE) -C $(TOP)/selftests BUILD=$(BUILD)
	$(MAKE) -C $(TOP)/selftests/abi BUILD=$(BUILD)
	$(MAKE) -C $(TOP)/selftests/ctl BUILD=$(BUILD)
	$(MAKE) -C $(TOP)/selftests/dpdk BUILD=$(BUILD)
	$(MAKE) -C $(TOP)/selftests/fuzz BUILD=$(BUILD)
	$(MAKE) l2-initramfs

# The busybox initramfs of the L2 guests the qemu suite boots under nested
# KVM (selftests/qemu/mkinitramfs.sh), rebuilt when its inputs change.
L2_INITRD := $(TOP)/build/l2/initramfs-$(KVER).cpio.gz
l2-initramfs: $(L2_INITRD)
$(L2_INITRD): $(TOP)/selftests/qemu/mkinitramfs.sh $(TOP)/selftests/qemu/l2-init \
		$(TOP)/selftests/bench/l2-guest.sh
	$< $@ >/dev/null

# The module's ring and memory-table code, compiled for userspace: Catch2
# tests under ASan/UBSan and a libFuzzer smoke run.
host-tests:
	cmake -S $(TOP)/selftests/host -B $(BUILD)/host -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD)/host -j $(JOBS)

# A longer fuzzing run: make fuzz FUZZ_SECONDS=600
FUZZ_SECONDS ?= 300
fuzz: host-tests
	$(TOP)/selftests/host/fuzz.sh $(FUZZ_SECONDS)

# Benchmarks (not tests; see Documentation/benchmarks.md). make bench
# BENCH_ARGS=--quick for one short run of each; make bench-check fails when
# vhostx falls below 0.9x vhost_net in the quick simulator table.
BENCH_ARGS ?=
bench: deps
	$(MAKE) module ctl selftests
	$(TOP)/selftests/bench/bench.sh $(BENCH_ARGS)

bench-check: deps
	$(MAKE) module ctl selftests
	$(TOP)/selftests/bench/bench.sh --check

deps:
	@$(TOP)/scripts/deps.sh

# deps may install the kernel headers, so the real work runs in a new make
# that sees them when it evaluates KVER.
check: deps
	$(MAKE) check-unit check-vm check-kernels check-debug

# The quick tier (module, abi, datapath, ctl) on the matrix's other kernels,
# each booted in its own test VM with vhostx built for it.
check-kernels: ctl selftests
	$(TOP)/scripts/check-kernels.sh quick

# The debug kernel: built from Debian's linux-source-6.1 on first use (see
# scripts/debug-kernel.sh for the time it takes), then taken from the cache.
debug-kernel: deps
	$(TOP)/scripts/debug-kernel.sh build

# The quick tier and VHX_FUZZ_SECONDS (default 60) of the in-VM fuzzer on the
# debug kernel, vhostx alone (VHX_ORACLE=0): any KASAN, UBSAN, lockdep or
# hung-task report, any kmemleak object and any taint fails it. Part of
# `make check`; its time and the first build's are in Documentation/testing.md.
check-debug: ctl selftests
	$(TOP)/scripts/check-kernels.sh debug

# The in-VM fuzzer alone on the debug kernel, for FUZZ_SECONDS.
fuzz-kernel: deps
	$(MAKE) ctl selftests
	VHX_FUZZ_SECONDS=$(FUZZ_SECONDS) $(TOP)/scripts/check-kernels.sh fuzz

# Every suite on every kernel (or on KVERS): what to run before a release.
KVERS ?=
check-all: deps
	$(MAKE) check-unit ctl selftests
	$(TOP)/scripts/check-kernels.sh full $(KVERS)

check-unit: ctl host-tests
	ctest --test-dir $(BUILD)/ctl --output-on-failure
	ctest --test-dir $(BUILD)/host --output-on-failure -j $(JOBS)

# One boot runs every suite: 12-15 minutes on a quiet 2-core host, 44 on one
# loaded by three other test VMs (VM_TIMEOUT leaves room for that), and the
# suites that start VMMs need memory (VM_MEM).
check-vm: module ctl selftests
	VM_MEM=$${VM_MEM:-3G} VM_TIMEOUT=$${VM_TIMEOUT:-4500} \
		$(TOP)/selftests/vm/run.sh $(TOP)/selftests/run_suite.sh

# One suite N times in one boot of the test VM (selftests/flaky.sh): pass
# counts per case. Up to 15 minutes a round on a loaded host.
SUITE ?= qemu
N ?= 10
check-flaky: deps
	$(MAKE) module ctl selftests
	VM_MEM=$${VM_MEM:-3G} VM_TIMEOUT=$${VM_TIMEOUT:-$$(( $(N) * 900 + 300 ))} \
		$(TOP)/selftests/vm/run.sh $(TOP)/selftests/flaky.sh $(SUITE) $(N)

demo: deps
	$(MAKE) module ctl selftests
	$(TOP)/scripts/demo.sh

# Install what `make` built; it builds nothing itself (run it with sudo).
DESTDIR ?=
PREFIX ?= /usr/local
UDEVDIR ?= /lib/udev/rules.d
MODDIR = $(DESTDIR)/lib/modules/$(KVER)/updates
# the module to install: the in-tree build, or (KO=) one scripts/kbuild.sh made
KO ?= $(TOP)/kmod/vhostx.ko
install:
	@test -f $(KO) -a -x $(BUILD)/ctl/vhostxctl || \
		{ echo "error: nothing built; run 'make' first" >&2; exit 1; }
	install -D -m 0644 $(KO) $(MODDIR)/vhostx.ko
	depmod $(if $(DESTDIR),-b $(DESTDIR)) $(KVER)
	install -D -m 0644 $(TOP)/udev/60-vhostx.rules $(DESTDIR)$(UDEVDIR)/60-vhostx.rules
	DESTDIR=$(DESTDIR) cmake --install $(BUILD)/ctl --prefix $(PREFIX)

uninstall:
	rm -f $(MODDIR)/vhostx.ko $(DESTDIR)$(UDEVDIR)/60-vhostx.rules
	depmod $(if $(DESTDIR),-b $(DESTDIR)) $(KVER)
	rm -f $(DESTDIR)$(PREFIX)/sbin/vhostxctl $(DESTDIR)$(PREFIX)/share/man/man8/vhostxctl.8 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/vhostxctl

clean:
	-$(MAKE) -C $(KDIR) M=$(TOP) clean 2>/dev/null
	rm -rf $(BUILD)
