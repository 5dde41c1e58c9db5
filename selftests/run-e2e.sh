#!/bin/sh
# run-e2e.sh: the end-to-end tests, in a rig VM of their own (they boot a
# nested guest, minutes under TCG): an unmodified QEMU through
# vhost-mq-qemu with 4 queue pairs, ethtool -L through 1, 2, 4, 3, 1 (the
# first run; 1, 4, 2 the others, but the guest without MQ: 1) under
# traffic: in device mode (vhost-vdpa, the kernel serves the control vq;
# with stop/cont, system_reset and a kill) on /dev/vhost-mq, there again
# on packed rings (packed=on), and with a guest that has no MQ (one pair,
# mq=off); in compat mode
# on /dev/vhost-mq and on /dev/vhost-net as the reference; and on
# /dev/vhost-mq behind an emulated Intel IOMMU (q35, device IOTLB, ATS, the
# guest in strict mode). E2E_ALL=1 (make check-e2e) adds the vIOMMU run on
# /dev/vhost-net and iommu_platform=on with no vIOMMU (the confidential-guest
# shape) on /dev/vhost-mq, which make check leaves out for CI's time, and
# walks all five stages in every run with more than one. The nested guests boot the kernel
# of `make e2e-kernel` (qemu-glue/e2e-kernel.config); under E2E_ALL the
# no-MQ one boots Debian's own.
set -u
[ -n "${RIG:-}" ] || { echo "run-e2e.sh runs inside the VM: use 'make check'" >&2; exit 2; }
. selftests/tap.sh

results=$JOBDIR/tap
mkdir -p "$results"
# With /dev/kvm in the rig VM (vm-run.sh's VM_KVM=1), the nested guests
# run on KVM: they boot in seconds rather than minutes
accel=
[ -c /dev/kvm ] && accel="-a kvm"
# e2e SECONDS LABEL ARGS...
e2e() {
	secs=$1 label=$2
	shift 2
	echo "[rig] test script e2e $label"
	# shellcheck disable=SC2086 # $accel: no option or one
	TAP_TIMEOUT=${E2E_TIMEOUT:-$secs} tap_run "$results" "e2e-$label" \
		sh qemu-glue/e2e.sh $accel -q 4 -s "1 2 4 3 1" "$@"
}
# The main run walks 1 2 4 3 1 with the system_reset (the guest boots
# twice); the others walk 1 4 2 (up and down, stop/cont in the middle
# one in device mode; the no-MQ one has one stage) and skip the second
# boot (-R): all of it, five stages each, under E2E_ALL (make check-e2e), for CI's time; there the
# no-MQ guest boots the rig's Debian kernel and its modules (-k debian),
# three minutes more
noreset=-R walk="1 4 2" nomqkernel='' t1=900 t2=900
[ -n "${E2E_ALL:-}" ] && noreset='' walk="1 2 4 3 1" nomqkernel="-k debian" t1=1200 t2=1500
e2e 1200 vhost-mq-vdpa -d /dev/vhost-mq -m device
# shellcheck disable=SC2086 # $noreset, $nomqkernel: no option or one
e2e $t1 vhost-mq-vdpa-packed -d /dev/vhost-mq -m device -p -s "$walk" $noreset
# a guest without MQ on the 4-queue tap: the other queues fold onto pair 0
# shellcheck disable=SC2086
e2e $t2 vhost-mq-vdpa-nomq -d /dev/vhost-mq -m device -n -s 1 $nomqkernel $noreset
e2e 900 vhost-mq -d /dev/vhost-mq -s "$walk"
e2e 900 vhost-net -d /dev/vhost-net -s "$walk"
e2e 900 vhost-mq-viommu -d /dev/vhost-mq -i viommu -s "$walk"
if [ -n "${E2E_ALL:-}" ]; then
	e2e 1200 vhost-net-viommu -d /dev/vhost-net -i viommu
	e2e 1200 vhost-mq-platform -d /dev/vhost-mq -i platform
fi
