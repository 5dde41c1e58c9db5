#!/bin/sh
# e2e.sh [-a ACCEL] [-d DEVICE] [-q PAIRS] [-s "STAGES"] [-t SECONDS]: an unmodified
# QEMU, started through vhost-mq-qemu, boots a guest (the rig's Debian
# kernel, an initramfs of busybox, ethtool, ip and iperf3, a 9p share for
# the script and the results) with a PAIRS-queue virtio-net (mq=on) on a multiqueue tap served
# by DEVICE (/dev/vhost-mq, or /dev/vhost-net as the reference). The guest
# walks `ethtool -L eth0 combined` through STAGES while ping, iperf3 and
# sha256-verified transfers run both ways. Prints TAP lines, then a
# per-pair table per stage. Runs inside the rig VM, as root. Link-local
# addresses only: 169.254.77.1 (the VM's tap) and .2 (the guest).
set -u
dev=/dev/vhost-mq
pairs=4
stages="1 2 4 3 1"
secs=3
accel=tcg,thread=multi
while getopts a:d:q:s:t: o; do
	case $o in
	a) accel=$OPTARG ;;
	d) dev=$OPTARG ;;
	q) pairs=$OPTARG ;;
	s) stages=$OPTARG ;;
	t) secs=$OPTARG ;;
	*) echo "usage: $0 [-a ACCEL] [-d DEVICE] [-q PAIRS] [-s STAGES] [-t SECONDS]" >&2
	   exit 2 ;;
	esac
done
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
kver=$(uname -r)
W=$(mktemp -d "${E2E_DIR:-/tmp}/e2e.XXXXXX")
S=$W/share
mkdir -p "$S"
tap=vmqe0
vmip=169.254.77.1
gip=169.254.77.2
name=$(basename "$dev")
n=0
failed=0
pids=
xfer=$top/build/vhost-mq-xfer

check() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n $name: $2"; else
		echo "not ok $n $name: $2"; failed=1; fi
}

cleanup() {
	[ -d "$S" ] && touch "$S/stop"
	for p in $pids; do kill "$p" 2>/dev/null; done
	[ -n "${qpid:-}" ] && kill "$qpid" 2>/dev/null
	pkill -f "iperf3 -s -p 520" 2>/dev/null
	pkill -f "$xfer" 2>/dev/null
	sleep 1
}
trap cleanup EXIT

# wait_for FILE SECONDS
wait_for() {
	w=0
	while [ ! -e "$1" ]; do
		[ $w -ge $(($2 * 5)) ] && return 1
		if [ -n "${qpid:-}" ] && ! kill -0 "$qpid" 2>/dev/null; then
			return 1
		fi
		sleep 0.2
		w=$((w + 1))
	done
}

# pair counters of the device, "PAIR rx|tx PACKETS" per line, and
# "PAIR cpu TICKS LAST_CPU" of its worker (vhost-mq)
module_counters() {
	"$top/build/vhost-mq-stat" "$qpid" 2>/dev/null | awk '
		/^\/dev\/vhost-mq fd/ { k++ }
		/worker tid/ { sub(/.*worker tid /, ""); sub(/[^0-9].*/, "");
			       print k - 1, "tid", $0 }
		/^ +rx0_packets:/ { print k - 1, "rx", $2 }
		/^ +tx0_packets:/ { print k - 1, "tx", $2 }' >"$W/mod.tmp"
	awk '$2 != "tid"' "$W/mod.tmp"
	awk '$2 == "tid" { print $1, $3 }' "$W/mod.tmp" | while read -r k t; do
		# utime + stime, and the CPU it last ran on
		awk -v k="$k" '{ sub(/^.*\) /, ""); print k, "cpu", $12 + $13, $37 }' \
			"/proc/$t/stat" 2>/dev/null
	done
}

# delta QUEUE rx|tx BEFORE AFTER: packets moved by the guest's queue
guest_delta() {
	b=$(sed -n "s/^ *$2_queue_$1_packets: //p" "$3")
	a=$(sed -n "s/^ *$2_queue_$1_packets: //p" "$4")
	echo $((${a:-0} - ${b:-0}))
}

module_delta() {
	b=$(awk -v k="$1" -v d="$2" '$1 == k && $2 == d { print $3 }' "$3")
	a=$(awk -v k="$1" -v d="$2" '$1 == k && $2 == d { print $3 }' "$4")
	echo $((${a:-0} - ${b:-0}))
}

# `make` builds the guest's initramfs; built here only if it has not
initrd=$top/build/e2e-guest-$kver.cpio.gz
if [ ! -e "$initrd" ]; then
	echo "# $name: building the guest's initramfs"
	initrd=$W/guest.cpio.gz
	INITRAMFS_BINS="$(command -v ethtool) $(command -v ip) $(command -v iperf3) $xfer" \
		sh "$here/mkinitramfs.sh" "$kver" "$initrd" "$here/guest-init.sh" \
		virtio_pci 9pnet_virtio 9p virtio_net || exit 1
fi
head -c 200000 /dev/urandom >"$S/payload"
want=$(sha256sum <"$S/payload" | cut -d' ' -f1)

cat >"$S/guest.sh" <<EOF
set -u
S=/tmp/share
wait_for() {
	w=0
	while [ ! -e "\$1" ]; do
		w=\$((w + 1))
		[ \$w -gt 1500 ] && { echo "guest: no \$1"; exit 1; }
		sleep 0.2
	done
}
# every byte that arrived must be the payload's: "intact", or "prefix N"
# when iperf3 ended the test before writing all of it, or "damaged N"
verify() {
	n=\$(wc -c <"\$1")
	if [ "\$n" = 200000 ] && [ "\$(sha256sum <"\$1" | cut -d' ' -f1)" = $want ]; then
		echo intact
	elif [ "\$n" -gt 200000 ] && [ "\$(head -c 200000 "\$1" | sha256sum | cut -d' ' -f1)" = $want ]; then
		echo "overrun \$n"
	elif head -c "\$n" /tmp/payload >/tmp/prefix && cmp -s /tmp/prefix "\$1"; then
		echo "prefix \$n"
	else
		echo "damaged \$n \$(cmp /tmp/prefix "\$1" 2>&1 | head -1)"
		cp "\$1" "\$S/damaged.guest.\$\$.\$(date +%s)"
	fi
}
ip link set lo up
ip link set eth0 up && ip addr add $gip/24 dev eth0 || exit 1
touch \$S/up
wait_for \$S/go
# the payload from RAM, not through 9p
cp \$S/payload /tmp/payload
# transfers both ways, over and over, across the changes, every byte
# checked (vhost-mq-xfer: one TCP stream, all of it, then close)
( while [ ! -e \$S/stop ]; do
	$xfer send $vmip 5204 /tmp/payload >/dev/null 2>&1
	sleep 0.3
  done ) &
( while [ ! -e \$S/stop ]; do
	if $xfer recv 5203 /tmp/got >/dev/null 2>&1; then
		verify /tmp/got >>\$S/sums.guest
	fi
  done ) &
busybox ping -i 1 $vmip >\$S/ping.log 2>&1 &
ping=\$!
i=0
for c in $stages; do
	i=\$((i + 1))
	ethtool -L eth0 combined \$c || { echo "guest: ethtool -L \$c failed"; exit 1; }
	ethtool -l eth0 >\$S/stage\$i.channels
	ethtool -S eth0 >\$S/stage\$i.before
	touch \$S/stage\$i.begin
	wait_for \$S/stage\$i.go
	iperf3 -c $vmip -p 5201 -P 4 -t $secs -f m >\$S/stage\$i.tx 2>&1 &
	p=\$!
	iperf3 -c $vmip -p 5202 -P 4 -t $secs -f m -R >\$S/stage\$i.rx 2>&1
	wait \$p
	ethtool -S eth0 >\$S/stage\$i.after
	touch \$S/stage\$i.end
	wait_for \$S/stage\$i.done
done
kill -INT \$ping
sleep 1
touch \$S/finished
EOF

iperf3 -s -p 5201 -D >/dev/null 2>&1
iperf3 -s -p 5202 -D >/dev/null 2>&1
( while [ ! -e "$S/stop" ]; do
	"$xfer" send "$gip" 5203 "$S/payload" >/dev/null 2>&1
	sleep 0.3
  done ) &
pids="$pids $!"

verify() {
	sz=$(wc -c <"$1")
	if [ "$sz" = 200000 ] && [ "$(sha256sum <"$1" | cut -d' ' -f1)" = "$want" ]; then
		echo intact
	elif [ "$sz" -gt 200000 ] && [ "$(head -c 200000 "$1" | sha256sum | cut -d' ' -f1)" = "$want" ]; then
		echo "overrun $sz"
	elif head -c "$sz" "$S/payload" | cmp -s - "$1"; then
		echo "prefix $sz"
	else
		echo "damaged $sz $(head -c "$sz" "$S/payload" | cmp - "$1" 2>&1 | head -1)"
		cp "$1" "$W/damaged.vm.$(date +%s)"
	fi
}

echo "# $name: starting QEMU through vhost-mq-qemu, $pairs queue pairs"
"$top/build/vhost-mq-qemu" --device "$dev" qemu-system-x86_64 \
	-accel "$accel" -cpu max -smp 2 -m 1024 -nodefaults \
	-display none -no-reboot -nic none \
	-kernel "/boot/vmlinuz-$kver" -initrd "$initrd" \
	-append "console=ttyS0 quiet panic=-1" \
	-serial "file:$W/console.log" \
	-virtfs "local,path=$S,mount_tag=share,security_model=none,multidevs=remap" \
	-netdev "tap,id=n0,ifname=$tap,queues=$pairs,vhost=on,script=no,downscript=no" \
	-device "virtio-net-pci,netdev=n0,mq=on,vectors=$((2 * pairs + 2)),mac=02:00:00:00:77:02" \
	>"$W/qemu.log" 2>&1 &
qpid=$!
i=0
while [ ! -e "/sys/class/net/$tap" ] && [ $i -lt 100 ]; do sleep 0.2; i=$((i + 1)); done
ip addr add "$vmip/24" dev "$tap" && ip link set "$tap" up
check $? "the wrapper created tap $tap and QEMU runs"

t0=$(cut -d' ' -f1 /proc/uptime)
wait_for "$S/up" 300
check $? "the guest booted and brought eth0 up"
echo "# $name: guest up $(awk -v t="$t0" '{ printf "%.0f", $1 - t }' /proc/uptime)s after QEMU started"
# guest -> VM verified transfers
( while [ ! -e "$S/stop" ]; do
	if "$xfer" recv 5204 "$W/got" >/dev/null 2>&1; then
		verify "$W/got" >>"$W/sums.vm"
	fi
  done ) &
pids="$pids $!"
touch "$S/go"

i=0
for c in $stages; do
	i=$((i + 1))
	wait_for "$S/stage$i.begin" 120 || { check 1 "stage $i ($c pairs) began"; break; }
	[ "$dev" = /dev/vhost-mq ] && module_counters >"$W/mod$i.before"
	touch "$S/stage$i.go"
	wait_for "$S/stage$i.end" 120 || { check 1 "stage $i ($c pairs) ended"; break; }
	[ "$dev" = /dev/vhost-mq ] && module_counters >"$W/mod$i.after"
	touch "$S/stage$i.done"
done
wait_for "$S/finished" 60
check $? "the guest went through combined $stages"
touch "$S/stop"
# the guest powers off by itself
i=0
while kill -0 "$qpid" 2>/dev/null && [ $i -lt 300 ]; do sleep 0.2; i=$((i + 1)); done
kill -0 "$qpid" 2>/dev/null && kill "$qpid"
check "$(cat "$S/guest.rc" 2>/dev/null || echo 1)" "the guest's script succeeded"
! grep -qi "vhost.*\(fail\|error\)\|falling back" "$W/qemu.log"
check $? "QEMU used the vhost device without complaint"

# per stage: exactly the active pairs moved frames
i=0
table=
for c in $stages; do
	i=$((i + 1))
	[ -e "$S/stage$i.after" ] || break
	cur=$(awk '/^Current/ { f = 1 } f && /^Combined:/ { print $2 }' "$S/stage$i.channels")
	[ "$cur" = "$c" ]
	check $? "stage $i: the guest runs $c combined channels"
	ok=0
	q=0
	while [ $q -lt "$pairs" ]; do
		grx=$(guest_delta $q rx "$S/stage$i.before" "$S/stage$i.after")
		gtx=$(guest_delta $q tx "$S/stage$i.before" "$S/stage$i.after")
		mrx=- mtx=- wcpu=-
		if [ "$dev" = /dev/vhost-mq ]; then
			mrx=$(module_delta $q rx "$W/mod$i.before" "$W/mod$i.after")
			mtx=$(module_delta $q tx "$W/mod$i.before" "$W/mod$i.after")
			wcpu="$(module_delta $q cpu "$W/mod$i.before" "$W/mod$i.after")t/cpu$(awk -v k=$q '$1 == k && $2 == "cpu" { print $4 }' "$W/mod$i.after")"
		fi
		if [ $q -lt "$c" ]; then
			[ $((grx + gtx)) -gt 0 ] || ok=1
			[ "$mrx" = - ] || [ $((mrx + mtx)) -gt 0 ] || ok=1
		else
			[ "$grx$gtx" = 00 ] || ok=1
			[ "$mrx" = - ] || [ "$mrx$mtx" = 00 ] || ok=1
		fi
		table="$table$(printf '%5s %6s %4s %10s %10s %10s %10s %12s' "$i" "$c" "$q" \
			"$grx" "$gtx" "$mrx" "$mtx" "$wcpu")
"
		q=$((q + 1))
	done
	check $ok "stage $i: pairs 0..$((c - 1)) carried traffic, the others none"
	tx=$(awk '/SUM.*sender/ { print $6 }' "$S/stage$i.tx")
	rx=$(awk '/SUM.*receiver/ { print $6 }' "$S/stage$i.rx")
	echo "# $name stage $i: $c pairs, guest->host ${tx:-?} Mbit/s, host->guest ${rx:-?} Mbit/s"
	echo "throughput $i $c ${tx:-0} ${rx:-0}" >>"$W/throughput"
done
grep -q " 0% packet loss" "$S/ping.log"
check $? "ping through every change without loss ($(grep -o '[0-9]* packets transmitted' "$S/ping.log"))"
touch "$S/sums.guest" "$W/sums.vm"
good=$(cat "$S/sums.guest" "$W/sums.vm" | grep -c '^intact')
part=$(cat "$S/sums.guest" "$W/sums.vm" | grep -c '^prefix\|^overrun')
bad=$(cat "$S/sums.guest" "$W/sums.vm" | grep -c '^damaged')
[ "$bad" = 0 ] && grep -q '^intact' "$S/sums.guest" && grep -q '^intact' "$W/sums.vm"
check $? "verified transfers both ways across the changes: $good intact (sha256), $part short but a correct prefix, $bad damaged"
cat "$S/sums.guest" "$W/sums.vm" | grep '^damaged' | sed 's/^/# /'

echo "# $name: frames per pair and stage (guest ethtool -S; module: vhost-mq-stat;"
echo "# worker: CPU ticks of the pair's worker in the stage / the CPU it last ran on)"
printf '# %5s %6s %4s %10s %10s %10s %10s %12s\n' stage active pair guest_rx guest_tx module_rx module_tx worker
printf '%s' "$table" | sed 's/^/# /'
[ -n "${E2E_SUMMARY:-}" ] && cp "$W/throughput" "$E2E_SUMMARY"
rm -rf "$W"
echo "1..$n"
exit $failed
