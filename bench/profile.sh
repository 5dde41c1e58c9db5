#!/bin/sh
# profile.sh DEVICE [pps options]: inside the rig VM, where the CPU goes
# while build/bench/pps runs one workload on /dev/vhost-DEVICE (net|mq):
# perf's cpu-clock samples of every CPU (TCG has no hardware counters)
# while pps measures (not its setup),
# top symbols per thread to $JOBDIR/profile-DEVICE.txt.
#   make vm CMD='sh bench/profile.sh mq -r rx -s 64 -t 6'
set -u
d=$1
shift
top=$(cd "$(dirname "$0")/.." && pwd)
out=${JOBDIR:-/tmp}/profile-$d.txt
# Only while pps measures, for its -t less a second: perf starts first,
# its events off, and pps once perf runs its workload (perf takes seconds
# to set up under TCG); perf is switched on when pps writes the mark.
secs=5 prev=
for a in "$@"; do
	[ "$prev" = -t ] && secs=$a
	prev=$a
done
tmp=$(mktemp -d)
mkfifo "$tmp/ctl" "$tmp/ack" "$tmp/stop"
: >"$tmp/mark"
perf record -q -D -1 --control "fifo:$tmp/ctl,$tmp/ack" -e cpu-clock \
	-F 1000 -a -o /tmp/perf-$d.data -- \
	sh -c "touch $tmp/ready; read x <$tmp/stop" &
perf=$!
while [ ! -e "$tmp/ready" ] && kill -0 $perf 2>/dev/null; do
	sleep 0.1
done
PPS_MARK=$tmp/mark "$top/build/bench/pps" -a -d /dev/vhost-$d "$@" \
	>"$out.pps" 2>&1 &
pid=$!
while [ ! -s "$tmp/mark" ] && kill -0 $pid 2>/dev/null; do
	sleep 0.1
done
echo enable >"$tmp/ctl" && head -c 5 "$tmp/ack" >/dev/null
sleep $((secs > 1 ? secs - 1 : 1))
echo disable >"$tmp/ctl" && head -c 5 "$tmp/ack" >/dev/null
echo >"$tmp/stop"
wait $pid $perf
rm -rf "$tmp"
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
