#!/bin/sh
# run-e2e.sh: the end-to-end tests, in a rig VM of their own (they boot a
# nested guest, minutes under TCG): an unmodified QEMU through
# vhost-mq-qemu with 4 queue pairs, ethtool -L through 1, 2, 4, 3, 1 under
# traffic, on /dev/vhost-mq and on /dev/vhost-net as the reference; then
# the same behind an emulated Intel IOMMU (q35, device IOTLB, ATS, the
# guest in strict mode) on both, and with iommu_platform=on and no vIOMMU
# (the confidential-guest shape) on /dev/vhost-mq.
set -u
[ -n "${RIG:-}" ] || { echo "run-e2e.sh runs inside the VM: use 'make check'" >&2; exit 2; }
. selftests/tap.sh

results=$JOBDIR/tap
mkdir -p "$results"
for dev in vhost-mq vhost-net; do
	echo "[rig] test script e2e on /dev/$dev"
	TAP_TIMEOUT=${E2E_TIMEOUT:-1200} tap_run "$results" "e2e-$dev" \
		sh qemu-glue/e2e.sh -d "/dev/$dev" -q 4 -s "1 2 4 3 1"
done
for dev in vhost-mq vhost-net; do
	echo "[rig] test script e2e on /dev/$dev behind a vIOMMU"
	TAP_TIMEOUT=${E2E_TIMEOUT:-1200} tap_run "$results" "e2e-$dev-viommu" \
		sh qemu-glue/e2e.sh -d "/dev/$dev" -i viommu -q 4 -s "1 2 4 3 1"
done
echo "[rig] test script e2e on /dev/vhost-mq with iommu_platform=on, no vIOMMU"
TAP_TIMEOUT=${E2E_TIMEOUT:-1200} tap_run "$results" "e2e-vhost-mq-platform" \
	sh qemu-glue/e2e.sh -d /dev/vhost-mq -i platform -q 4 -s "1 2 4 3 1"
