#!/bin/sh
# run-libvirt.sh: the libvirt end-to-end runs (make check-libvirt), in a
# rig VM of their own, with the host's Debian libvirt (make deps-libvirt)
# started by qemu-glue/libvirt-up.sh: a KVM domain (libvirt opens no vhost
# fd for a TCG one; the rig VM has KVM on TCG's emulated SVM) whose
# interface says <backend vhost='DEVICE'/> with <driver queues='4'/>, its
# guest walking ethtool -L 1 2 4 3 1 under byte-checked traffic, then
# virsh destroy, on /dev/vhost-mq and on /dev/vhost-net as the reference;
# then the domains a user gets wrong (selftests/libvirt_limits.sh).
set -u
[ -n "${RIG:-}" ] || { echo "run-libvirt.sh runs inside the VM: use 'make check-libvirt'" >&2; exit 2; }
. selftests/tap.sh

results=$JOBDIR/tap
mkdir -p "$results"
[ -c /dev/kvm ] || tap_line "$results" kvm "not ok" "no /dev/kvm in the rig VM (kvm_amd)"
for dev in /dev/vhost-mq /dev/vhost-net; do
	echo "[rig] test script e2e libvirt $dev"
	TAP_TIMEOUT=900 tap_run "$results" "libvirt-$(basename "$dev")" \
		sh qemu-glue/e2e.sh -l -k debian -d "$dev" -q 4 -s "1 2 4 3 1"
done
echo "[rig] test script libvirt_limits"
TAP_TIMEOUT=600 tap_run "$results" libvirt-limits sh selftests/libvirt_limits.sh
