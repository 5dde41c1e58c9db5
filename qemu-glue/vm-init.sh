#!/bin/busybox sh
# /init of the rig's initramfs: mount the host's root and the project
# (read-only 9p) and the job folder (read-write 9p), load the modules the job lists, run the job
# chrooted into the host root, save dmesg and the exit status, power off.
# Progress lines start with "[rig]"; vm-run.sh reads them from the console.
set -u
PATH=/bin:/sbin
/bin/busybox --install -s /bin

mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
exec </dev/console >/dev/console 2>&1

# Kernel warnings (level 4) reach the console from here on; info does not.
echo 5 >/proc/sys/kernel/printk
# A task stuck in D state or a CPU stuck in the kernel ends the run at once.
echo 1 >/proc/sys/kernel/hung_task_panic
echo 20 >/proc/sys/kernel/hung_task_timeout_secs
echo 1 >/proc/sys/kernel/softlockup_panic

die() {
	echo "[rig] init: $*"
	poweroff -f
}

for m in $(cat /boot-modules); do
	insmod "/lib/modules/$m" || die "cannot load $m"
done

mkdir -p /job /root
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 job /job ||
	die "cannot mount the job share"
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144,ro hostroot /root ||
	die "cannot mount the host root"

. /job/config
R=/root
mount -t proc proc $R/proc
mount -t sysfs sys $R/sys
mount -t devtmpfs dev $R/dev
mkdir -p $R/dev/pts $R/dev/shm
mount -t devpts devpts $R/dev/pts
mount -t tmpfs tmpfs $R/dev/shm
mount -t tmpfs tmpfs $R/tmp
mount -t tmpfs tmpfs $R/run
mount -t debugfs debugfs $R/sys/kernel/debug 2>/dev/null
# The project and the job folder may live below the tmpfs just mounted.
mkdir -p "$R$TOP" "$R$JOBDIR" 2>/dev/null
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144,ro project "$R$TOP" ||
	die "cannot mount the project share"
mount --bind /job "$R$JOBDIR" || die "cannot mount the job folder"

for m in $MODULES; do
	insmod "$R$m" || die "cannot load $m"
done
# Our module comes last and may take parameters from the job.
if [ -n "$OUR_MODULE" ]; then
	# shellcheck disable=SC2086
	insmod "$R$OUR_MODULE" $OUR_PARAMS || die "cannot load $OUR_MODULE"
fi
echo "[rig] modules loaded in $(cut -d' ' -f1 /proc/uptime)s of uptime"
# With kvm_amd (vm-run.sh, VM_KVM=1): one KVM VM held for the whole job, made now
# while the VM is idle. Every VM KVM creates or destroys switches the
# preempt-notifier static key, patched into the scheduler's
# finish_task_switch; under TCG, patching it while the other vCPU runs it
# locked the VM up (a CPU stuck at that int3). Held, the key stays on and
# the job's VMs only count.
if [ -n "${KVM:-}" ] && [ -c "$R/dev/kvm" ]; then
	chroot $R /usr/bin/python3 -c 'import fcntl, os, signal
fd = os.open("/dev/kvm", os.O_RDWR)
fcntl.ioctl(fd, 0xAE01, 0)  # KVM_CREATE_VM
signal.pause()' </dev/null &
fi
# A debug kernel's kmemleak: forget what boot left, report what the job leaks.
kml=$R/sys/kernel/debug/kmemleak
[ -w "$kml" ] && echo clear >"$kml"
echo "<6>rig: job start" >/dev/kmsg

chroot $R /usr/bin/env -i HOME=/root TERM=dumb \
	PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	RIG=1 JOBDIR="$JOBDIR" /bin/sh -c "cd '$CWD' && exec /bin/sh '$JOBDIR/job.sh'" \
	</dev/null
rc=$?

echo "<6>rig: job end, status $rc" >/dev/kmsg
if [ -w "$kml" ]; then
	# objects freed late are not leaks: let RCU and workers settle
	sleep 5
	echo scan >"$kml"
	sleep 5
	echo scan >"$kml"
	cat "$kml" >/job/kmemleak.txt
fi
dmesg >/job/dmesg.txt
echo "$rc" >/job/rc
sync
umount "$R$JOBDIR"
umount /job
echo "[rig] job exit status $rc"
poweroff -f
