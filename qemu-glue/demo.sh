#!/bin/sh
# demo.sh: the main job (`make run`). In the rig VM, an unmodified QEMU
# started through vhost-mq-qemu --device-mode boots a guest with a
# 4-queue-pair virtio-net whose whole device, control vq included, is
# /dev/vhost-mq in vhost-vdpa mode; the guest walks `ethtool -L eth0
# combined` through 1, 2, 4, 3, 1 under traffic, answered in the kernel,
# and a table shows what each pair moved (guest and module counters),
# where its worker ran, and what the kernel's control vq answered; QEMU's
# stop/cont, a system_reset and a kill follow. Then the comparison runs:
# the same guest in compat mode (QEMU keeps the control vq) on
# /dev/vhost-mq and on upstream /dev/vhost-net, and a throughput line.
set -eu
cd "$(dirname "$0")/.."
VM_TIMEOUT=${VM_TIMEOUT:-3900} qemu-glue/vm-run.sh '
	echo "== devices"
	ls -l /dev/vhost-net /dev/vhost-mq
	echo "== a 4-pair guest on /dev/vhost-mq in device mode (vhost-vdpa: the kernel serves the control vq)"
	E2E_SUMMARY=$JOBDIR/vdpa.tput sh qemu-glue/e2e.sh -m device -d /dev/vhost-mq -q 4 \
		-s "1 2 4 3 1" | grep -v "^ok "
	for d in vhost-mq vhost-net; do
		echo "== for comparison, the same guest in compat mode on /dev/$d"
		E2E_SUMMARY=$JOBDIR/$d.tput sh qemu-glue/e2e.sh -d /dev/$d -q 4 \
			-s "1 2 4 3 1" | grep -v "^ok "
	done
	echo "== throughput, vhost-mq (device mode, compat mode) against vhost-net (same VM boot, iperf3 -P 4"
	echo "   each way, 3 s per stage; a guest under TCG inside TCG moves a few Mbit/s and the ratios are"
	echo "   noise: bench/ measures)"
	printf "%-6s %-7s %-32s %-32s\n" stage pairs "guest->host Mbit/s (dev/mq/net)" "host->guest Mbit/s (dev/mq/net)"
	paste $JOBDIR/vdpa.tput $JOBDIR/vhost-mq.tput $JOBDIR/vhost-net.tput | awk "{
		printf \"%-6s %-7s %6.2f / %6.2f / %-6.2f        %6.2f / %6.2f / %-6.2f\n\",
			\$2, \$3, \$4, \$9, \$14, \$5, \$10, \$15 }"
'
