#!/bin/sh
# check.sh: everything `make check` runs, after the build: userspace unit
# tests, lint, then the selftests inside the rig VM. Ends with one line
# "N passed, N failed[, N skipped]" over all of them; exits 1 on a failure.
set -u
cd "$(dirname "$0")/.."
. selftests/tap.sh

results=build/results
rm -rf "$results"
mkdir -p "$results"

echo "== unit tests (host)"
for t in build/unit/*_test; do
	[ -x "$t" ] || continue
	tap_run "$results" "unit-$(basename "$t")" "$t"
done

echo "== fuzz (host, ${CHECK_FUZZ_SECS:-30} s of libFuzzer over virtio/)"
if make --no-print-directory fuzz FUZZ_SECS="${CHECK_FUZZ_SECS:-30}" >"$results/fuzz.log" 2>&1; then
	runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' build/fuzz/fuzz.log)
	tap_line "$results" fuzz ok "fuzz: chain walker and control rules, ${runs:-?} inputs, no crash"
else
	tail -40 "$results/fuzz.log"
	tap_line "$results" fuzz "not ok" "fuzz: a crash or a broken invariant (above; input in build/fuzz/)"
fi

echo "== lint"
for l in sparse checkpatch; do
	if make --no-print-directory "$l" >"$results/$l.log" 2>&1; then
		tap_line "$results" lint ok "lint: $l clean"
	else
		cat "$results/$l.log"
		tap_line "$results" lint "not ok" "lint: $l reported problems (above)"
	fi
done

echo "== install (host, into a scratch folder)"
dest=$(mktemp -d)
if make --no-print-directory install DESTDIR="$dest" >"$results/install.log" 2>&1 &&
	[ -x "$dest/usr/local/bin/vhost-mq-qemu" ] &&
	[ -x "$dest/usr/local/bin/vhost-mq-stat" ] &&
	[ -f "$dest/etc/udev/rules.d/60-vhost-mq.rules" ] &&
	[ -f "$dest/etc/modprobe.d/vhost-mq.conf" ] &&
	[ -f "$dest/usr/local/include/linux/vhost_mq.h" ] &&
	[ -f "$dest/usr/local/share/vhost-mq/selinux/vhost_mq.cil" ] &&
	grep -q '^  /dev/vhost-mq rw,' "$dest/etc/apparmor.d/abstractions/vhost-mq" &&
	grep -qx '#include <abstractions/vhost-mq>' "$dest/etc/apparmor.d/local/abstractions/libvirt-qemu" &&
	find "$dest/lib/modules" -name vhost_mq.ko | grep -q .; then
	tap_line "$results" install ok "make install puts module, wrapper, CLI, header, udev rule, modprobe.d, AppArmor and SELinux files for libvirt in place"
else
	cat "$results/install.log"
	tap_line "$results" install "not ok" "make install (log above)"
fi
rm -rf "$dest"
# the wrapper's rewriting, without QEMU: wrapper_rewrites WHAT EXPECTED [FLAG]
wrapper_rewrites() {
	# shellcheck disable=SC2086 # $3: no flag or one
	out=$(build/vhost-mq-qemu --dry-run ${3:-} qemu-system-x86_64 -m 1G \
		-netdev tap,id=n0,ifname=t0,queues=4,vhost=on,script=no,downscript=no \
		-device virtio-net-pci,netdev=n0,mq=on -netdev user,id=u0)
	if [ "$out" = "qemu-system-x86_64 -m 1G $2 -device virtio-net-pci,netdev=n0,mq=on -netdev user,id=u0" ]; then
		tap_line "$results" wrapper ok "vhost-mq-qemu --dry-run ${3:-}${3:+ }$1"
	else
		echo "$out"
		tap_line "$results" wrapper "not ok" "vhost-mq-qemu --dry-run ${3:-} output (above)"
	fi
}
wrapper_rewrites "rewrites a 4-queue tap netdev and nothing else" \
	"-netdev tap,id=n0,fds=100:101:102:103,vhostfds=200:201:202:203,vhost=on,vhostforce=on"
wrapper_rewrites "makes a 4-queue tap netdev one vhost-vdpa netdev" \
	"-netdev vhost-vdpa,id=n0,vhostfd=200" --device-mode

echo "== selftests (VM)"
vmjob=$results/vm
if VM_TIMEOUT=1800 VM_JOBDIR=$vmjob qemu-glue/vm-run.sh 'selftests/run-vm.sh'; then
	tap_line "$results" rig ok "VM run: no hang, no panic, kernel log clean"
else
	tap_line "$results" rig "not ok" "VM run: see the [rig] FAIL lines above"
fi
cp "$vmjob"/tap/*.tap "$results/" 2>/dev/null

echo "== end-to-end: a QEMU guest with 4 queue pairs, in device mode, in compat mode, behind a vIOMMU (VM)"
e2ejob=$results/e2e
if VM_TIMEOUT=3000 VM_JOBDIR=$e2ejob qemu-glue/vm-run.sh 'selftests/run-e2e.sh'; then
	tap_line "$results" rig-e2e ok "end-to-end VM run: no hang, no panic, kernel log clean"
else
	tap_line "$results" rig-e2e "not ok" "end-to-end VM run: see the [rig] FAIL lines above"
fi
for f in "$e2ejob"/tap/*.tap; do
	[ -e "$f" ] && cp "$f" "$results/e2e-$(basename "$f")"
done

echo "== summary"
tap_summary "$results"
