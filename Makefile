# SPDX-License-Identifier: GPL-2.0
# vhost-mq: build the module and the userspace programs, lint, test, run.
#
#   make            vhost_mq.ko and the userspace programs
#   make check      install what is missing, unit tests, lint, VM selftests
#   make run        the main job (demo VM)
#   make lint       sparse (C=2) and checkpatch --strict on the kernel code
#   make deps       install every Debian package the project needs
#   make vm CMD=... run a command inside the rig VM with the module loaded
#   make bench      benchmarks against upstream vhost-net: bench/RESULTS.md
#   make check-debug  the VM selftests under a KASAN/lockdep/kmemleak kernel
#   make check-e2e  every end-to-end run (make check runs six of the eight)
#   make fuzz       libFuzzer over the shared guest-facing parsing code

TOP := $(CURDIR)
BUILD := $(TOP)/build

# The kernel the rig VM boots: the newest Debian amd64 kernel installed.
KVER ?= $(shell ls /boot/vmlinuz-*-amd64 2>/dev/null | sed 's|^/boot/vmlinuz-||' | sort -V | tail -n 1)
# Build against the running kernel when its build tree is there (a real
# host), else against the headers of the kernel the VM boots.
KDIR ?= $(firstword $(wildcard /lib/modules/$(shell uname -r)/build) \
		    $(if $(KVER),/usr/src/linux-headers-$(KVER)))

DEB_PACKAGES := linux-image-amd64 linux-headers-amd64 linux-source-6.1 \
	qemu-system-x86 busybox-static liburing-dev sparse iproute2 ethtool \
	cpio kmod gcc make libc6-dev perl xz-utils gzip binutils procps \
	dpdk-dev librte-net-virtio23 librte-mempool-ring23 util-linux iperf3 \
	gnuplot-nox sockperf python3 clang libclang-rt-14-dev bison flex bc libelf-dev libssl-dev

KSRC_TAR := /usr/src/linux-source-6.1.tar.xz
KSRC := $(BUILD)/ksrc
KSRC_FILES := scripts/checkpatch.pl scripts/spelling.txt \
	scripts/const_structs.checkpatch \
	tools/testing/selftests/kselftest_harness.h \
	tools/testing/selftests/kselftest.h

CC ?= gcc
USER_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror \
	-I$(TOP)/uapi -I$(TOP)/virtio -I$(TOP)/selftests \
	-isystem $(KSRC)/tools/testing/selftests

SELFTESTS := $(patsubst selftests/%.c,$(BUILD)/selftests/%,$(wildcard selftests/*_test.c))
UNITTESTS := $(patsubst selftests/unit/%.c,$(BUILD)/unit/%,$(wildcard selftests/unit/*_test.c))
USER_HEADERS := $(wildcard uapi/linux/*.h virtio/*.h selftests/*.h)
GUESTLIB := $(BUILD)/lib/libvmqguest.a

.PHONY: all module userspace deps deps-libvirt check-libvirt ksrc lint sparse checkpatch unit \
	selftests check check-debug check-e2e debug-kernel e2e-kernel run vm bench fuzz clean need-kdir install dkms-install

all: module userspace

need-kdir:
	@test -n "$(KDIR)" -a -d "$(KDIR)" || { \
		echo "No kernel build tree (KDIR='$(KDIR)'): run 'make deps'" >&2; exit 1; }

module: need-kdir
	$(MAKE) -C $(KDIR) M=$(TOP) modules

TOOLS := $(BUILD)/vhost-mq-stat $(BUILD)/vhost-mq-qemu $(BUILD)/vhost-mq-xfer
BENCH := $(patsubst bench/%.c,$(BUILD)/bench/%,$(wildcard bench/*.c))

userspace: $(SELFTESTS) $(UNITTESTS) $(TOOLS) $(BENCH) $(BUILD)/e2e-guest-$(KVER).cpio.gz \
	$(BUILD)/e2e-guest-builtin.cpio.gz

# the nested guest of the end-to-end runs (qemu-glue/e2e.sh): built here,
# where it takes seconds, rather than in the VM under TCG
E2E_BINS = $(shell command -v ethtool) $(shell command -v ip) $(shell command -v iperf3) \
	$(BUILD)/vhost-mq-xfer $(BUILD)/bench/rr
$(BUILD)/e2e-guest-$(KVER).cpio.gz: qemu-glue/guest-init.sh qemu-glue/mkinitramfs.sh \
		qemu-glue/moddeps.sh $(BUILD)/vhost-mq-xfer $(BUILD)/bench/rr
	@mkdir -p $(dir $@)
	INITRAMFS_BINS="$(E2E_BINS)" sh qemu-glue/mkinitramfs.sh $(KVER) $@ \
		qemu-glue/guest-init.sh virtio_pci 9pnet_virtio 9p virtio_net

# make e2e-kernel: the nested guest's own kernel (qemu-glue/e2e-kernel.config:
# Debian's linux-source-6.1, what the guest needs built in; built once by
# debug/build-kernel.sh and cached like the debug kernel), and its
# initramfs without modules. e2e.sh boots it when it is there.
# (build-kernel.sh is asked every time: it answers from its cache, and a new
# linux-source package gives a new kernel)
e2e-kernel: $(BUILD)/e2e-guest-builtin.cpio.gz
	@mkdir -p $(BUILD)
	@cache=$$(debug/build-kernel.sh e2e) && \
		{ cmp -s "$$cache/src/arch/x86/boot/bzImage" $(BUILD)/e2e-bzImage || \
		cp "$$cache/src/arch/x86/boot/bzImage" $(BUILD)/e2e-bzImage; }
$(BUILD)/e2e-guest-builtin.cpio.gz: qemu-glue/guest-init.sh qemu-glue/mkinitramfs.sh \
		$(BUILD)/vhost-mq-xfer $(BUILD)/bench/rr
	@mkdir -p $(dir $@)
	INITRAMFS_BINS="$(E2E_BINS)" sh qemu-glue/mkinitramfs.sh none $@ \
		qemu-glue/guest-init.sh -

$(BUILD)/bench/%: bench/%.c bench/bench.h $(GUESTLIB) $(KSRC)/.stamp $(USER_HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) -o $@ $< $(GUESTLIB) -lpthread -luring

# rr runs in the nested guest too: nothing but libc
$(BUILD)/bench/rr: bench/rr.c
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) -o $@ $<

$(BUILD)/vhost-mq-%: qemu-glue/vhost-mq-%.c uapi/linux/vhost_mq.h
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) -o $@ $<

$(BUILD)/selftests/%: selftests/%.c $(GUESTLIB) $(KSRC)/.stamp $(USER_HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) -o $@ $< $(GUESTLIB) -lpthread

# the userspace guest driver, shared by the selftests and the benchmarks
$(GUESTLIB): virtio/guest.c $(USER_HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) -c -o $(BUILD)/lib/guest.o $<
	$(AR) rcs $@ $(BUILD)/lib/guest.o
$(BUILD)/unit/%: selftests/unit/%.c $(KSRC)/.stamp $(USER_HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) -o $@ $<

# Files taken from Debian's kernel source at build time, never committed.
ksrc: $(KSRC)/.stamp
$(KSRC)/.stamp: | $(KSRC_TAR)
	@test -r $(KSRC_TAR) || { echo "$(KSRC_TAR) missing: run 'make deps'" >&2; exit 1; }
	@mkdir -p $(KSRC)
	tar -xJf $(KSRC_TAR) -C $(KSRC) --strip-components=1 \
		$(addprefix linux-source-6.1/,$(KSRC_FILES))
	@touch $@
$(KSRC_TAR):
	@echo "$(KSRC_TAR) missing: run 'make deps'" >&2; exit 1

# Idempotent: installs only when a package is missing.
deps:
	@missing=$$(for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${db:Status-Abbrev}' $$p 2>/dev/null | grep -q '^ii' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "Installing:" $$missing; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -q --no-install-recommends $(DEB_PACKAGES); \
	fi

# libvirt, for the libvirt end-to-end runs (make check, make check-libvirt):
# not in `make deps`, which a host's owner runs too. Without systemd as
# init (a container, the rig VM) the sysv flavour of its service files.
LIBVIRT_PACKAGES := libvirt-daemon-system libvirt-clients
deps-libvirt:
	@pkgs="$(LIBVIRT_PACKAGES)"; \
	[ -d /run/systemd/system ] || pkgs="$$pkgs libvirt-daemon-system-sysv"; \
	missing=$$(for p in $$pkgs; do \
		dpkg-query -W -f='$${db:Status-Abbrev}' $$p 2>/dev/null | grep -q '^ii' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "Installing:" $$missing; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -q --no-install-recommends $$pkgs; \
	fi

lint: sparse checkpatch

# kernel code, and the virtio/ headers the module compiles (guest.* is
# userspace only)
KERNEL_SOURCES := $(filter-out %.mod.c virtio/guest.h,\
	$(wildcard vhost/*.c vhost/*.h virtio/*.h uapi/linux/*.h))

sparse: need-kdir
	@mkdir -p $(BUILD)
	$(MAKE) -C $(KDIR) M=$(TOP) C=2 modules 2>&1 | tee $(BUILD)/sparse.log
	@! grep -E '(warning|error):' $(BUILD)/sparse.log || \
		{ echo "sparse is not clean" >&2; exit 1; }

checkpatch: $(KSRC)/.stamp
	perl $(KSRC)/scripts/checkpatch.pl --strict --no-tree --terse \
		--show-types -f $(KERNEL_SOURCES)

unit: $(UNITTESTS)
	@for t in $(UNITTESTS); do $$t || exit 1; done

# VM selftests only (the VM must be able to load the module).
selftests: module userspace
	VM_TIMEOUT=1800 VM_JOBDIR=$(BUILD)/results/vm qemu-glue/vm-run.sh 'selftests/run-vm.sh'

check: deps
	@$(MAKE) --no-print-directory all e2e-kernel
	selftests/check.sh

run: deps
	@$(MAKE) --no-print-directory all e2e-kernel
	qemu-glue/demo.sh

check-e2e: deps
	@$(MAKE) --no-print-directory all e2e-kernel
	VM_TIMEOUT=6000 VM_JOBDIR=$(BUILD)/results/e2e-all qemu-glue/vm-run.sh 'E2E_ALL=1 selftests/run-e2e.sh'
	@! grep -h '^not ok' $(BUILD)/results/e2e-all/tap/*.tap

# make check-libvirt: a libvirt domain on /dev/vhost-mq and on /dev/vhost-net
# (selftests/run-libvirt.sh); ends with "N passed, N failed"
check-libvirt: deps deps-libvirt
	@$(MAKE) --no-print-directory all
	@rm -rf $(BUILD)/results/libvirt
	-VM_KVM=1 VM_TIMEOUT=2400 VM_JOBDIR=$(BUILD)/results/libvirt \
		qemu-glue/vm-run.sh 'selftests/run-libvirt.sh'; \
		echo $$? >$(BUILD)/results/libvirt/vm.rc
	@. selftests/tap.sh; r=$(BUILD)/results/libvirt; mkdir -p $$r/tap; \
		[ "$$(cat $$r/vm.rc)" = 0 ] && tap_line $$r/tap rig ok "libvirt VM run: no hang, no panic, kernel log clean" || \
		tap_line $$r/tap rig "not ok" "libvirt VM run: see the [rig] FAIL lines above"; \
		tap_summary $$r/tap

vm: module
	qemu-glue/vm-run.sh '$(CMD)'

# make fuzz [FUZZ_SECS=300]: libFuzzer (clang, ASan, UBSan) over the shared
# guest-facing parsing code, from the seed corpus in fuzz/corpus (new
# inputs collect in build/fuzz/corpus); a crash leaves its input in
# build/fuzz/ and fails. make check runs it for 30 s.
FUZZ_SECS ?= 300
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-Wall -Wextra -Werror -I$(TOP)/virtio
$(BUILD)/fuzz/chain_fuzz: fuzz/chain_fuzz.c $(USER_HEADERS)
	@mkdir -p $(dir $@)
	clang $(FUZZ_FLAGS) -o $@ $<
fuzz: $(BUILD)/fuzz/chain_fuzz
	@mkdir -p $(BUILD)/fuzz/corpus
	cd $(BUILD)/fuzz && { ./chain_fuzz -max_total_time=$(FUZZ_SECS) -max_len=4096 \
		-print_final_stats=1 corpus $(TOP)/fuzz/corpus >fuzz.log 2>&1; \
		rc=$$?; grep -E -A20 '^(Done|==[0-9]+==|SUMMARY|Test unit written)' fuzz.log | \
		grep -v '^stat::\|^#' | head -40; exit $$rc; }

# make check-debug: every VM selftest under a debug kernel (KASAN, lockdep,
# kmemleak, failslab) built once from linux-source-6.1 and cached in
# /var/cache/vhost-mq (debug/); fails on any kernel report.
debug-kernel:
	debug/build-kernel.sh
check-debug: deps
	@$(MAKE) --no-print-directory all
	debug/check-debug.sh

# make bench: the benchmarks against upstream vhost-net (bench/README.md);
# writes bench/RESULTS.md and the plots. About an hour and a half.
bench: deps
	@$(MAKE) --no-print-directory all
	bench/run.sh

# make install [DESTDIR=...] [PREFIX=/usr/local]: the module for KDIR's
# kernel (updates/, then depmod), the wrapper, the CLI, the uapi header,
# the udev rule, and the modprobe.d example (kept if one is there).
PREFIX ?= /usr/local
VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)
KVER_OF_KDIR = $(shell sed -n 's/^\#define UTS_RELEASE "\(.*\)"/\1/p' \
	$(KDIR)/include/generated/utsrelease.h)

install: all
	$(MAKE) -C $(KDIR) M=$(TOP) INSTALL_MOD_PATH=$(DESTDIR) \
		INSTALL_MOD_DIR=updates modules_install
	-[ -n "$(DESTDIR)" ] || depmod $(KVER_OF_KDIR)
	install -D -m 755 $(BUILD)/vhost-mq-qemu $(DESTDIR)$(PREFIX)/bin/vhost-mq-qemu
	install -D -m 755 $(BUILD)/vhost-mq-stat $(DESTDIR)$(PREFIX)/bin/vhost-mq-stat
	install -D -m 644 uapi/linux/vhost_mq.h \
		$(DESTDIR)$(PREFIX)/include/linux/vhost_mq.h
	install -D -m 644 packaging/60-vhost-mq.rules \
		$(DESTDIR)/etc/udev/rules.d/60-vhost-mq.rules
	[ -e $(DESTDIR)/etc/modprobe.d/vhost-mq.conf ] || install -D -m 644 \
		packaging/vhost-mq.conf $(DESTDIR)/etc/modprobe.d/vhost-mq.conf
	-[ -n "$(DESTDIR)" ] || udevadm control --reload 2>/dev/null
	install -D -m 644 packaging/selinux/vhost_mq.cil \
		$(DESTDIR)$(PREFIX)/share/vhost-mq/selinux/vhost_mq.cil
	@# AppArmor (Debian, Ubuntu): where libvirt's profiles are, the rule
	@# for libvirt's guests, included once from the local override
	if [ -d /etc/apparmor.d/abstractions ] || [ -n "$(DESTDIR)" ]; then \
		install -D -m 644 packaging/apparmor/vhost-mq \
			$(DESTDIR)/etc/apparmor.d/abstractions/vhost-mq; \
		l=$(DESTDIR)/etc/apparmor.d/local/abstractions/libvirt-qemu; \
		mkdir -p $$(dirname $$l); \
		grep -qs '^#include <abstractions/vhost-mq>' $$l || \
			echo '#include <abstractions/vhost-mq>' >>$$l; \
	fi

# make dkms-install: the module sources under /usr/src, built and
# installed by DKMS now and for every kernel to come (needs dkms).
dkms-install:
	rm -rf $(DESTDIR)/usr/src/vhost-mq-$(VERSION)
	mkdir -p $(DESTDIR)/usr/src/vhost-mq-$(VERSION)
	cp -r Kbuild dkms.conf vhost virtio uapi \
		$(DESTDIR)/usr/src/vhost-mq-$(VERSION)/
	rm -f $(DESTDIR)/usr/src/vhost-mq-$(VERSION)/vhost/*.o \
		$(DESTDIR)/usr/src/vhost-mq-$(VERSION)/vhost/*.ko \
		$(DESTDIR)/usr/src/vhost-mq-$(VERSION)/vhost/*.mod*
	[ -n "$(DESTDIR)" ] || { dkms add vhost-mq/$(VERSION) && \
		dkms install vhost-mq/$(VERSION); }

clean:
	-$(MAKE) -C $(KDIR) M=$(TOP) clean 2>/dev/null
	rm -rf $(BUILD)
