#!/bin/sh
# lib.sh: what the matrices of `make bench` (pps-bench.sh, urr-bench.sh)
# share, sourced by them inside the rig VM.

# bench_args NAME "$@": -r RUNS (3) -t SECONDS (3) OUT into runs, secs, out
bench_args() {
	name=$1
	shift
	runs=3
	secs=3
	OPTIND=1
	while getopts r:t: o; do
		case $o in
		r) runs=$OPTARG ;;
		t) secs=$OPTARG ;;
		*) echo "usage: $name [-r RUNS] [-t SECONDS] OUT" >&2; exit 2 ;;
		esac
	done
	shift $((OPTIND - 1))
	[ $# = 1 ] || { echo "usage: $name [-r RUNS] [-t SECONDS] OUT" >&2; exit 2; }
	out=$1
}

# bench_order "LIST" RUN: LIST rotated so that run r starts with item r
# (mod its length): each device goes first in turn
bench_order() {
	order=$1
	i=1
	while [ "$i" -lt "$2" ]; do
		order="${order#* } ${order%% *}"
		i=$((i + 1))
	done
	echo "$order"
}

# bench_matrix "DEVICES" "WORKLOADS" FN: for each run 1..runs, each
# workload A:B:C and each device in that run's order (bench_order), FN
# RUN DEVICE A B C; done_n counts the calls
bench_matrix() {
	done_n=0
	run=1
	while [ "$run" -le "$runs" ]; do
		order=$(bench_order "$1" "$run")
		for w in $2; do
			rest=${w#*:}
			for d in $order; do
				done_n=$((done_n + 1))
				"$3" "$run" "$d" "${w%%:*}" "${rest%%:*}" "${rest#*:}"
			done
		done
		run=$((run + 1))
	done
}
