#!/bin/sh
# urr-bench.sh [-r RUNS] [-t SECONDS] OUT: the request/response matrix of
# `make bench`, inside the rig VM: build/bench/urr (a fake guest's UDP
# requests through the tx ring, a host-side echo socket on the tap, the
# replies through the rx ring, the guest asleep on its call eventfd) for
# each workload on upstream vhost-net (a vhost fd per pair, as QEMU),
# vhost-mq the same way (compat) and vhost-mq in device mode, back to back
# per workload, the whole matrix RUNS times, which device goes first
# rotating from one run to the next. Every run pins (urr -a) pair k's
# worker to CPU k+1 and its guest thread to CPU k. Workloads: 1, 8 and 32
# requests outstanding per pair, on 1 and 2 pairs, 64-byte frames, without
# busy polling and with VHOST_SET_VRING_BUSYLOOP_TIMEOUT of 50 us.
# Appends one line per run to OUT:
#   urr DEVICE PAIRS OUTSTANDING BUSY_US RUN RT_PER_S P50_US P99_US P999_US WORKER_NS_PER_RT
set -u
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_args urr-bench.sh "$@"
urr=$(cd "$(dirname "$0")/.." && pwd)/build/bench/urr
[ -x "$urr" ] || { echo "urr-bench: run 'make' first" >&2; exit 1; }

# URR_WORKLOADS: another list, PAIRS:OUTSTANDING:BUSY_US
workloads="1:1:0 1:8:0 1:32:0 2:1:0 2:8:0 2:32:0
1:1:50 1:8:50 1:32:50 2:1:50 2:8:50 2:32:50"
[ -n "${URR_WORKLOADS:-}" ] && workloads=$URR_WORKLOADS
devices="vhost-net vhost-mq vhost-mq-dev"
total=$(($(echo "$workloads" | wc -w) * 3 * runs))
status=0
# one_run RUN DEVICE PAIRS OUTSTANDING BUSY_US
one_run() {
	case $2 in
	vhost-net) args="-d /dev/vhost-net -m compat" ;;
	vhost-mq) args="-d /dev/vhost-mq -m compat" ;;
	vhost-mq-dev) args="-d /dev/vhost-mq -m device" ;;
	esac
	# shellcheck disable=SC2086
	line=$("$urr" -a $args -p "$3" -n "$4" -b "$5" -t "$secs")
	rc=$?
	rt=$(v rt_per_s)
	if [ $rc != 0 ] || [ -z "$rt" ]; then
		echo "[bench] FAILED: urr $args -p $3 -n $4 -b $5: $line"
		status=1
		return
	fi
	echo "urr $2 $3 $4 $5 $1 $rt $(v p50_us) $(v p99_us) $(v p999_us) $(v worker_ns_per_rt)" >>"$out"
	echo "[bench $done_n/$total] run $1 $2 urr pairs=$3 outstanding=$4 busy=${5}us: $rt round trips/s, p99 $(v p99_us) us"
}
# v KEY: KEY's value in the last line
v() { echo "$line" | sed -n "s/.* $1=\([0-9.]*\).*/\1/p"; }
bench_matrix "$devices" "$workloads" one_run
exit $status
