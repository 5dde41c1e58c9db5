#!/bin/sh
# ab.sh [pps options]: inside the rig VM, a quick A/B of one workload:
# upstream vhost-net and vhost-mq alternately, RUNS (3) times each, one
# build/bench/pps line per run prefixed with the device. For the log of
# optimisations (bench/LOG.md); make bench gives the figures that count.
#   make vm CMD='RUNS=5 sh bench/ab.sh -r rx -s 64 -t 4'
# MODE=device runs vhost-mq in device mode; ORDER="mq net" runs it first.
set -u
pps=$(cd "$(dirname "$0")/.." && pwd)/build/bench/pps
i=1
while [ "$i" -le "${RUNS:-3}" ]; do
	for d in ${ORDER:-net mq}; do
		m=compat
		[ $d = mq ] && m=${MODE:-compat}
		"$pps" -a -d /dev/vhost-$d -m $m "$@" | sed "s/^pps/$d/"
	done
	i=$((i + 1))
done
