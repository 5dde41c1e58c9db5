#!/bin/sh
# demo.sh: the main job (`make run`). In the rig VM, an unmodified QEMU
# started through vhost-mq-qemu boots a guest with a 4-queue-pair
# virtio-net on /dev/vhost-mq; the guest walks `ethtool -L eth0 combined`
# through 1, 2, 4, 3, 1 under traffic, and a table shows what each pair
# moved (guest and module counters) and where its worker ran. Then the
# same guest on upstream /dev/vhost-net, for a throughput line against it.
set -eu
cd "$(dirname "$0")/.."
VM_TIMEOUT=${VM_TIMEOUT:-2700} qemu-glue/vm-run.sh '
	echo "== devices"
	ls -l /dev/vhost-net /dev/vhost-mq
	for d in vhost-mq vhost-net; do
		echo "== a 4-pair guest on /dev/$d"
		E2E_SUMMARY=$JOBDIR/$d.tput sh qemu-glue/e2e.sh -d /dev/$d -q 4 \
			-s "1 2 4 3 1" | grep -v "^ok "
	done
	echo "== throughput, vhost-mq against vhost-net (same VM boot, iperf3 -P 4 each way, 3 s per stage;"
	echo "   a guest under TCG inside TCG moves a few Mbit/s and the ratios are noise: bench/ measures)"
	printf "%-6s %-7s %-25s %-25s\n" stage pairs "guest->host Mbit/s (mq / net)" "host->guest Mbit/s (mq / net)"
	paste $JOBDIR/vhost-mq.tput $JOBDIR/vhost-net.tput | awk "{
		printf \"%-6s %-7s %6.2f / %-6.2f %5.2fx   %6.2f / %-6.2f %5.2fx\n\",
			\$2, \$3, \$4, \$9, \$9 ? \$4 / \$9 : 0, \$5, \$10, \$10 ? \$5 / \$10 : 0 }"
'
