#!/bin/sh
# e2e-bench.sh [-b "BACKENDS"] [-q PAIRS] [-n "SESSIONS"] [-r RUNS] [-t SECONDS] OUT:
# TCP_RR, TCP_CRR (bench/rr) and an iperf3 stream between the rig VM and
# a nested QEMU guest (the e2e guest of qemu-glue/e2e.sh, PAIRS queue
# pairs, all enabled with ethtool -L), one guest boot per backend and run:
#   vhost-mq   -netdev tap,vhost=on through vhost-mq-qemu and /dev/vhost-mq
#   vhost-net  the same through /dev/vhost-net (upstream)
#   off        QEMU's own virtio-net datapath (vhost=off), no wrapper
# The guest serves (rr -s, iperf3 -s); the VM side is the client. Each
# workload runs RUNS times, once per boot; the backends boot in turn, the
# order rotating every round. Appends one line per run to OUT:
#   e2e BACKEND rr|crr SESSIONS RUN TPS P50_US P99_US
#   e2e BACKEND stream 1 RUN MBITS 0 0
# Runs inside the rig VM, as root. Link-local addresses only.
set -u
backends="vhost-mq vhost-net off"
pairs=2
sessions="1 20 50"
runs=3
secs=5
while getopts b:q:n:r:t: o; do
	case $o in
	b) backends=$OPTARG ;;
	q) pairs=$OPTARG ;;
	n) sessions=$OPTARG ;;
	r) runs=$OPTARG ;;
	t) secs=$OPTARG ;;
	*) echo "usage: $0 [-b BACKENDS] [-q PAIRS] [-n SESSIONS] [-r RUNS] [-t SECONDS] OUT" >&2
	   exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# = 1 ] || { echo "usage: $0 [options] OUT" >&2; exit 2; }
out=$1
top=$(cd "$(dirname "$0")/.." && pwd)
kver=$(uname -r)
initrd=$top/build/e2e-guest-$kver.cpio.gz
rr=$top/build/bench/rr
tap=vmqb0
vmip=169.254.78.1
gip=169.254.78.2
[ -r "$initrd" ] && [ -x "$rr" ] || { echo "e2e-bench: run 'make' first" >&2; exit 1; }

say() { echo "[bench] $*"; }

# wait_for FILE SECONDS
wait_for() {
	w=0
	while [ ! -e "$1" ]; do
		[ "$w" -ge $(($2 * 5)) ] && return 1
		kill -0 "$qpid" 2>/dev/null || return 1
		sleep 0.2
		w=$((w + 1))
	done
}

# boot BACKEND: start the guest and wait until it serves
boot() {
	W=$(mktemp -d /tmp/e2eb.XXXXXX)
	S=$W/share
	mkdir -p "$S"
	cat >"$S/guest.sh" <<EOF
ip link set lo up
ip link set eth0 up && ip addr add $gip/24 dev eth0 || exit 1
ethtool -L eth0 combined $pairs || exit 1
$rr -s -P 12865 >/tmp/rr.log 2>&1 &
iperf3 -s -p 5301 -D
touch /tmp/share/up
while [ ! -e /tmp/share/stop ]; do sleep 1; done
EOF
	case $1 in
	vhost-mq) wrap="$top/build/vhost-mq-qemu --device /dev/vhost-mq" v=on ;;
	vhost-net) wrap="$top/build/vhost-mq-qemu --device /dev/vhost-net" v=on ;;
	off) wrap= v=off ;;	# QEMU opens (and creates) the tap itself
	esac
	# shellcheck disable=SC2086
	$wrap qemu-system-x86_64 \
		-accel tcg,thread=multi -cpu max -smp 2 -m 1024 -nodefaults \
		-display none -no-reboot -nic none \
		-kernel "/boot/vmlinuz-$kver" -initrd "$initrd" \
		-append "console=ttyS0 quiet panic=-1" \
		-serial "file:$W/console.log" \
		-virtfs "local,path=$S,mount_tag=share,security_model=none,multidevs=remap" \
		-netdev "tap,id=n0,ifname=$tap,queues=$pairs,vhost=$v,script=no,downscript=no" \
		-device "virtio-net-pci,netdev=n0,mq=on,vectors=$((2 * pairs + 2)),mac=02:00:00:00:78:02" \
		>"$W/qemu.log" 2>&1 &
	qpid=$!
	i=0
	while [ ! -e "/sys/class/net/$tap" ] && [ $i -lt 600 ]; do
		kill -0 "$qpid" 2>/dev/null || break
		sleep 0.2
		i=$((i + 1))
	done
	if ! ip addr add "$vmip/24" dev "$tap" || ! ip link set "$tap" up; then
		say "$1: no tap $tap after $((i / 5))s"
		cat "$W/qemu.log" >&2
		return 1
	fi
	if ! wait_for "$S/up" 400; then
		say "$1: the guest did not say it serves"
		cat "$W/qemu.log" "$W/console.log" >&2
		return 1
	fi
	if grep -qi "vhost.*\(fail\|error\)\|falling back" "$W/qemu.log"; then
		cat "$W/qemu.log" >&2
		return 1
	fi
	# the first transactions warm ARP and the guest's caches (nested
	# TCG is slow: give it a few tries)
	i=0
	until "$rr" -c "$gip" -m rr -l 3 -q >/dev/null; do
		i=$((i + 1))
		[ $i -lt 5 ] || { say "$1: rr gets no answer from the guest"; return 1; }
	done
}

halt() {
	touch "$S/stop"
	i=0
	while kill -0 "$qpid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.2; i=$((i + 1)); done
	kill "$qpid" 2>/dev/null
	wait "$qpid" 2>/dev/null
	ip link del "$tap" 2>/dev/null
	rm -rf "$W"
}

# one round per run, a boot per backend in each; the order rotates from
# round to round, so that no backend always boots first (or last)
status=0
run=1
while [ $run -le "$runs" ]; do
	order=$(echo $backends | awk -v r=$run '{ for (i = 0; i < NF; i++)
		printf "%s ", $((i + r - 1) % NF + 1) }')
	for b in $order; do
		t0=$(date +%s)
		say "$b: round $run, booting the nested guest ($pairs pairs)"
		if ! boot "$b"; then
			say "$b: the guest did not come up"
			status=1
			halt
			continue
		fi
		say "$b: guest serving after $(($(date +%s) - t0))s"
		for m in rr crr; do
			for n in $sessions; do
				line=$("$rr" -c "$gip" -m "$m" -n "$n" -l "$secs" -q)
				tps=$(echo "$line" | sed -n 's/.* tps=\([0-9.]*\).*/\1/p')
				p50=$(echo "$line" | sed -n 's/.* p50_us=\([0-9]*\).*/\1/p')
				p99=$(echo "$line" | sed -n 's/.* p99_us=\([0-9]*\).*/\1/p')
				[ -n "$tps" ] || { say "$b $m $n: $line"; status=1; continue; }
				echo "e2e $b $m $n $run $tps $p50 $p99" | tee -a "$out"
			done
		done
		mb=$(iperf3 -c "$gip" -p 5301 -t "$secs" -f m 2>&1 |
			awk '/receiver/ { print $7 }')
		[ -n "$mb" ] || { say "$b stream: no result"; status=1; }
		echo "e2e $b stream 1 $run ${mb:-0} 0 0" | tee -a "$out"
		halt
	done
	run=$((run + 1))
done
exit $status
