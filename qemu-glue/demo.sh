#!/bin/sh
# demo.sh: the main job (`make run`). Today: boot the rig VM with the
# module loaded and show /dev/vhost-mq beside /dev/vhost-net. The 4-pair
# multiqueue guest arrives with the QEMU glue issue.
set -eu
cd "$(dirname "$0")/.."
VM_TIMEOUT=${VM_TIMEOUT:-300} qemu-glue/vm-run.sh '
	echo "== devices"
	ls -l /dev/vhost-net /dev/vhost-mq
	echo "== module"
	grep -E "^(vhost_mq|vhost_net) " /proc/modules
	modinfo -F description vhost/vhost_mq.ko
	echo
	echo "vhost-mq: the multiqueue guest demo (4 pairs, ethtool -L) is not implemented yet"
'
