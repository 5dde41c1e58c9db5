#!/bin/sh
# quick-pps.sh: a quick packet-rate matrix inside the rig VM for A/B checks
# between full `make bench` runs: bench/pps-bench.sh on one pair, tx and
# rx of 64 and 1500 bytes, the four devices, 3 runs of 3 s, the order
# rotating; its lines go to $JOBDIR/pps.txt.
#   qemu-glue/vm-run.sh "sh bench/quick-pps.sh"
PPS_WORKLOADS="tx:1:64 tx:1:1500 rx:1:64 rx:1:1500" \
	exec sh "$(dirname "$0")/pps-bench.sh" -r 3 -t 3 "$JOBDIR/pps.txt"
