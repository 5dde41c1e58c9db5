#!/bin/sh
# profile.sh DEVICE [pps options]: inside the rig VM, where the CPU goes
# while build/bench/pps runs one workload on /dev/vhost-DEVICE (net|mq):
# perf's cpu-clock samples of every CPU (TCG has no hardware counters),
# top symbols per thread to $JOBDIR/profile-DEVICE.txt.
#   make vm CMD='sh bench/profile.sh mq -r rx -s 64 -t 6'
set -u
d=$1
shift
top=$(cd "$(dirname "$0")/.." && pwd)
out=${JOBDIR:-/tmp}/profile-$d.txt
perf record -q -e cpu-clock -F 1000 -a -o /tmp/perf-$d.data -- \
	"$top/build/bench/pps" -a -d /dev/vhost-$d "$@" >"$out.pps" 2>&1
{
	cat "$out.pps"
	echo "# per CPU and thread"
	perf report -i /tmp/perf-$d.data --sort cpu,comm --stdio 2>/dev/null |
		grep '%' | head -20
	echo "# per thread and symbol"
	perf report -i /tmp/perf-$d.data --sort comm,sym --stdio 2>/dev/null |
		grep '%' | head -"${TOP:-60}"
} >"$out"
rm -f "$out.pps"
