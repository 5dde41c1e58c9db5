#!/bin/sh
# vm-run.sh COMMAND: run COMMAND (one shell string) inside the rig VM, in
# the current directory of the host's root, and exit with its status.
#
# The VM boots Debian's own kernel under TCG, shares the host's root
# read-only over 9p and a job folder read-write, loads tun/tap/macvtap,
# upstream vhost_net, pktgen and our module, and runs COMMAND chrooted into
# the host root. The run fails when the command fails, when the VM hangs
# (timeout) or panics, and when the kernel log shows a BUG, WARNING, Oops,
# KASAN, UBSAN, lockdep or kmemleak report; the offending lines are printed.
#
# Environment:
#   KVER        kernel to boot (default: newest /boot/vmlinuz-*-amd64)
#   VM_DEBUG_KERNEL  a debug kernel's cache folder (debug/build-kernel.sh):
#               boot that kernel, with its modules, instead; kmemleak's
#               findings at the end of the job count as kernel reports
#   VM_TIMEOUT  seconds before the run counts as hung (default 600)
#   VM_MODULE   our module (default: vhost/vhost_mq.ko beside this folder;
#               empty: none)
#   VM_PARAMS   parameters for our module
#   VM_JOBDIR   job folder to use and keep (console.log, dmesg.txt, rc,
#               and whatever the command writes to $JOBDIR)
#   VM_SMP, VM_MEM  vCPUs (2) and memory (4096M)
#   VM_KVM      1: load kvm_amd, so that /dev/kvm works inside the VM
set -eu
extra_append=

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
[ $# -eq 1 ] || { echo "usage: $0 'COMMAND'" >&2; exit 2; }

if [ -n "${VM_DEBUG_KERNEL:-}" ]; then
	. "$VM_DEBUG_KERNEL/env"
	KVER=$DBG_KVER
	image=$DBG_IMAGE
	MODROOT=$DBG_MODROOT
	export MODROOT
	# KASAN and kmemleak under TCG: ACPI's interpreter alone holds a CPU
	# for half a minute at boot, where the lockup detector would fire
	# after 20 s. Lockups and stalls are still reported after 120 s.
	# and RCU waits 21 s before it calls a CPU stalled
	extra_append=" watchdog_thresh=60 rcupdate.rcu_cpu_stall_timeout=120"
else
	. "$here/kver.sh"
	image=/boot/vmlinuz-$KVER
fi
timeout_s=${VM_TIMEOUT:-600}
module=${VM_MODULE-$top/vhost/vhost_mq.ko}
initrd=$top/build/vm/initramfs-$KVER.cpio.gz

say() { echo "[rig] $*"; }
fail() { say "FAIL: $*"; }

[ -r "$image" ] || {
	echo "vm-run: $image missing: run 'make deps'" >&2
	exit 1
}
if [ -n "$module" ] && [ ! -r "$module" ]; then
	echo "vm-run: $module missing: run 'make'" >&2
	exit 1
fi
mkdir -p "$top/build/vm"
if [ ! -s "$initrd" ] || [ "$here/vm-init.sh" -nt "$initrd" ] ||
	[ "$here/mkinitramfs.sh" -nt "$initrd" ]; then
	"$here/mkinitramfs.sh" "$KVER" "$initrd"
fi

jobdir=${VM_JOBDIR:-$top/build/vm/job.$$}
rm -rf "$jobdir"
mkdir -p "$jobdir"
jobdir=$(cd "$jobdir" && pwd)
# VM_KVM=1: kvm_amd too. QEMU's TCG emulates AMD's SVM with nested paging
# (-cpu max), so /dev/kvm works inside the VM, for what needs KVM (libvirt
# opens no vhost fd for a TCG domain: make check-libvirt). Nested guests
# boot there in seconds rather than minutes; vm-init.sh holds one KVM VM
# for the whole job (see there). Off by default: the VM's kernel locked up
# or crashed in 3 of about 14 KVM runs before that hold (README).
kvm=
# shellcheck disable=SC2086
[ -n "${VM_KVM:-}" ] && modinfo ${MODROOT:+-b $MODROOT} -k "$KVER" -n kvm_amd >/dev/null 2>&1 &&
	kvm=kvm_amd
# shellcheck disable=SC2046,SC2086
modules=$("$here/moddeps.sh" "$KVER" tun tap macvtap veth vhost_net pktgen $kvm | tr '\n' ' ')
cat >"$jobdir/config" <<EOF
JOBDIR='$jobdir'
TOP='$top'
CWD='$(pwd)'
MODULES='$modules'
OUR_MODULE='$module'
OUR_PARAMS='${VM_PARAMS:-}'
KVM='$kvm'
EOF
printf '%s\n' "$1" >"$jobdir/job.sh"

say "booting $KVER (TCG, ${VM_SMP:-2} vCPUs, timeout ${timeout_s}s)"
start=$(date +%s)
{
	set +e
	timeout -k 5 "$timeout_s" qemu-system-x86_64 \
		-accel tcg,thread=multi -cpu max -smp "${VM_SMP:-2}" \
		-m "${VM_MEM:-4096}" -nodefaults -display none -no-reboot \
		-nic none -serial stdio -monitor none \
		-kernel "$image" -initrd "$initrd" \
		-append "console=ttyS0 quiet loglevel=3 panic=-1 oops=panic$extra_append" \
		-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
		-virtfs "local,path=$top,mount_tag=project,security_model=none,readonly=on,multidevs=remap" \
		-virtfs "local,path=$jobdir,mount_tag=job,security_model=none,multidevs=remap" \
		</dev/null 2>&1
	echo $? >"$jobdir/qemu.rc"
} | sed -u 's/\r$//' | tee "$jobdir/console.log"
say "VM finished after $(($(date +%s) - start))s"

status=0
qemu_rc=$(cat "$jobdir/qemu.rc")
if [ "$qemu_rc" = 124 ] || [ "$qemu_rc" = 137 ]; then
	fail "hang: the VM did not finish within ${timeout_s}s"
	status=1
elif grep -q 'Kernel panic' "$jobdir/console.log"; then
	fail "kernel panic:"
	grep -B2 -A30 'Kernel panic' "$jobdir/console.log" | head -60
	status=1
elif [ "$qemu_rc" != 0 ]; then
	fail "qemu exited with status $qemu_rc"
	status=1
fi

# Kernel reports: scan the whole log (dmesg when the job finished, else
# what reached the console) and name the test that was running.
log=$jobdir/dmesg.txt
[ -s "$log" ] || log=$jobdir/console.log
pattern='BUG:|WARNING:|Oops|KASAN|UBSAN|general protection fault|kernel BUG|possible (recursive|circular) locking|INFO: task .* blocked|unreferenced object|soft lockup|hard LOCKUP|RCU stall|rcu_sched self-detected|refcount_t:|list_(add|del) corruption'
if [ -s "$jobdir/kmemleak.txt" ]; then
	fail "kmemleak found unreferenced objects:"
	head -60 "$jobdir/kmemleak.txt" | sed 's/^/  /'
	status=1
fi
if grep -Eq "$pattern" "$log"; then
	fail "the kernel reported a problem:"
	awk -v pat="$pattern" '
		/rig: |#  RUN / { marker = $0 }
		$0 ~ pat && shown < 5 {
			print "  during: " (marker == "" ? "boot" : marker)
			ctx = 25; shown++
		}
		ctx > 0 { print "  " $0; ctx-- }' "$log"
	status=1
fi

if [ -r "$jobdir/rc" ]; then
	rc=$(cat "$jobdir/rc")
	say "command exit status $rc"
	[ "$rc" = 0 ] || status=$rc
else
	fail "the command did not finish"
	[ "$status" != 0 ] || status=1
fi
echo "$status" >"$jobdir/verdict"
[ -n "${VM_JOBDIR:-}" ] || rm -rf "$jobdir"
exit "$status"
