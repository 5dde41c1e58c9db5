#!/bin/sh
# pps-bench.sh [-r RUNS] [-t SECONDS] OUT: the packet-rate matrix of
# `make bench`, inside the rig VM: build/bench/pps for each workload on
# upstream vhost-net (a vhost fd per pair, as QEMU), vhost-mq the same way
# (compat), vhost-mq in device mode and (tx and rx rows only) in vhost-vdpa
# mode as QEMU drives it, back to back for each workload and the whole
# matrix RUNS times, so that drift of the machine spreads over all of them
# alike; which goes first rotates from one run to the next. Every run pins (pps -a) pair k's worker
# to CPU k+1 and its guest and pktgen threads to CPU k. Workloads, both
# directions:
#   1 pair, frames of 64, 512, 1500 and 9000 bytes;
#   2 and 4 pairs of 64-byte frames, 2 pairs of 1500-byte frames;
#   1 pair of 64 and 1500 bytes with the io_uring generator/sink
#   (dir tx-uring, rx-uring) instead of IPv4 dropping / pktgen;
#   1 pair of 64 and 1500 bytes with VIRTIO_F_ACCESS_PLATFORM, every
#   address an IOVA of a static device IOTLB (dir tx-iotlb, rx-iotlb).
# vhost-mq compat on packed rings (pps -P) runs the plain tx and rx rows
# of 64 and 1500 bytes on 1 and 2 pairs (8 of the 22), beside its split.
# Appends one line per run to OUT:
#   pps DEVICE DIR PAIRS SIZE RUN FRAMES_PER_S GBIT_S WORKER_NS_PER_FRAME
# DEVICE: vhost-net, vhost-mq (compat), vhost-mq-dev (device mode),
# vhost-mq-vdpa (vhost-vdpa mode) or vhost-mq-packed (compat, packed rings).
set -u
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_args pps-bench.sh "$@"
pps=$(cd "$(dirname "$0")/.." && pwd)/build/bench/pps
[ -x "$pps" ] || { echo "pps-bench: run 'make' first" >&2; exit 1; }

# PPS_WORKLOADS: another list (bench/quick-pps.sh)
workloads=${PPS_WORKLOADS:-"tx:1:64 tx:1:512 tx:1:1500 tx:1:9000 tx:2:64 tx:4:64 tx:2:1500
rx:1:64 rx:1:512 rx:1:1500 rx:1:9000 rx:2:64 rx:4:64 rx:2:1500
tx-uring:1:64 tx-uring:1:1500 rx-uring:1:64 rx-uring:1:1500
tx-iotlb:1:64 tx-iotlb:1:1500 rx-iotlb:1:64 rx-iotlb:1:1500"}
devices="vhost-net vhost-mq vhost-mq-dev vhost-mq-vdpa vhost-mq-packed"
# vhost-vdpa mode on the plain tx and rx rows only (14 of the 22)
plain=$(echo "$workloads" | tr ' ' '\n' | grep -c '^[rt]x:')
# packed rings on those of 64 and 1500 bytes, 1 and 2 pairs
npacked=$(echo "$workloads" | tr ' ' '\n' | grep -Ec '^[rt]x:[12]:(64|1500)$')
total=$((($(echo $workloads | wc -w) * 3 + plain + npacked) * runs))
status=0
# one_run RUN DEVICE DIR PAIRS SIZE
one_run() {
	d=$2 dir=$3 pairs=$4 size=$5
	case $d:$dir in
	vhost-mq-vdpa:tx | vhost-mq-vdpa:rx) ;;
	vhost-mq-vdpa:*) return ;;
	esac
	case $d:$dir:$pairs:$size in
	vhost-mq-packed:[rt]x:[12]:64 | vhost-mq-packed:[rt]x:[12]:1500) ;;
	vhost-mq-packed:*) return ;;
	esac
	case $d in
	vhost-net) args="-d /dev/vhost-net -m compat" ;;
	vhost-mq) args="-d /dev/vhost-mq -m compat" ;;
	vhost-mq-dev) args="-d /dev/vhost-mq -m device" ;;
	vhost-mq-vdpa) args="-d /dev/vhost-mq -m vdpa" ;;
	vhost-mq-packed) args="-d /dev/vhost-mq -m compat -P" ;;
	esac
	case $dir in
	tx) args="$args -r tx" ;;
	rx) args="$args -r rx -g pktgen" ;;
	tx-uring) args="$args -r tx -k uring" ;;
	rx-uring) args="$args -r rx -g uring" ;;
	tx-iotlb) args="$args -r tx -i" ;;
	rx-iotlb) args="$args -r rx -g pktgen -i" ;;
	esac
	# shellcheck disable=SC2086
	line=$("$pps" -a $args -p "$pairs" -s "$size" -t "$secs")
	rc=$?
	n=$((n + 1))
	f=$(echo "$line" | sed -n 's/.* total=\([0-9]*\).*/\1/p')
	g=$(echo "$line" | sed -n 's/.* gbps=\([0-9.]*\).*/\1/p')
	c=$(echo "$line" | sed -n 's/.* worker_ns_per_frame=\([0-9]*\).*/\1/p')
	if [ $rc != 0 ] || [ -z "$f" ]; then
		echo "[bench] FAILED: pps $args -p $pairs -s $size: $line"
		status=1
		return
	fi
	echo "pps $d $dir $pairs $size $1 $f $g $c" >>"$out"
	echo "[bench $n/$total] run $1 $d $dir pairs=$pairs size=$size: $f frames/s"
}
# runs made (the matrix skips some device and workload pairs)
n=0
bench_matrix "$devices" "$workloads" one_run
exit $status
