#!/bin/sh
# e2e.sh [-a ACCEL] [-d DEVICE] [-i IOMMU] [-k KERNEL] [-l] [-m MODE] [-n] [-p] [-R] [-q PAIRS] [-s "STAGES"] [-t SECONDS]: an unmodified
# QEMU, started through vhost-mq-qemu (or by libvirt: -l), boots a guest (a
# kernel, an initramfs of busybox, ethtool, ip and iperf3, a 9p share for
# the script and the results) with a PAIRS-queue virtio-net (mq=on) on a multiqueue tap served
# by DEVICE (/dev/vhost-mq, or /dev/vhost-net as the reference). The guest
# walks `ethtool -L eth0 combined` through STAGES while ping, iperf3 and
# sha256-verified transfers run both ways. IOMMU: "none" (the default: a
# pc machine, ACCESS_PLATFORM off), "viommu" (q35 with an emulated Intel
# IOMMU, device IOTLB and ATS, the guest in strict mode: every buffer the
# device touches is an IOVA QEMU translates into the device's IOTLB) or
# "platform" (iommu_platform=on and no vIOMMU: the shape of an SEV/TDX
# guest, where QEMU gives the device guest-physical addresses). MODE:
# "compat" (the default: -netdev tap,vhost=on, QEMU keeps the control vq)
# or "device" (vhost-mq-qemu --device-mode: -netdev vhost-vdpa on one
# /dev/vhost-mq fd, the kernel answers the guest's control vq; then also
# stop/cont in the middle of a stage, a system_reset after the stages
# with the rebooted guest's traffic checked, QEMU killed and nothing of
# it left in the module). -n: the NIC has mq=off, so the guest has one
# pair on the PAIRS-queue tap (STAGES must be "1"; in device mode the
# frames of the tap's other queues must fold onto pair 0). -p: the NIC has
# packed=on (virtio 1.1 packed rings), and the guest must have negotiated
# them (bit 34 of its features). -l: libvirt starts QEMU instead of the
# wrapper, from a KVM domain whose interface asks for DEVICE with
# <backend vhost=DEVICE/> (compat mode; qemu-glue/libvirt-domain.sh; the
# daemons started by qemu-glue/libvirt-up.sh); the guest stays up until
# `virsh destroy`, which must leave no fd, worker, tap or module
# reference behind. KERNEL: "builtin" (the default once `make e2e-kernel`
# has built it: build/e2e-bzImage, linux-source-6.1 with what the guest
# needs built in, qemu-glue/e2e-kernel.config, which boots in a fraction
# of the time) or "debian" (the rig's own Debian kernel, its modules
# loaded from the initramfs). -R: device mode without the
# system_reset (the stages, stop/cont and the kill only). Prints TAP lines, then a
# per-pair table per stage. Runs inside the rig VM, as root. Link-local
# addresses only: 169.254.77.1 (the VM's tap) and .2 (the guest).
# Progress lines (+seconds since QEMU started) go out as it runs; on a
# failure, or when killed, it prints the guest's timeline and the ends of
# its console and QEMU's log (E2E_TRACE=1: the timeline in any case;
# E2E_KEEP=DIR: the run's folder, console and QEMU log whole, is copied to DIR).
set -u
dev=/dev/vhost-mq
pairs=4
stages="1 2 4 3 1"
secs=3
accel=tcg,thread=multi
iommu=none
mode=compat
mq=on
packed=off
reset=on
launch=wrapper
kernel=builtin
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
[ -e "$top/build/e2e-bzImage" ] && [ -e "$top/build/e2e-guest-builtin.cpio.gz" ] ||
	kernel=debian
while getopts a:d:i:k:lm:npRq:s:t: o; do
	case $o in
	a) accel=$OPTARG ;;
	d) dev=$OPTARG ;;
	i) iommu=$OPTARG ;;
	k) kernel=$OPTARG ;;
	l) launch=libvirt ;;
	m) mode=$OPTARG ;;
	n) mq=off ;;
	p) packed=on ;;
	R) reset=off ;;
	q) pairs=$OPTARG ;;
	s) stages=$OPTARG ;;
	t) secs=$OPTARG ;;
	*) echo "usage: $0 [-a ACCEL] [-d DEVICE] [-i none|viommu|platform] [-k builtin|debian] [-l] [-m compat|device] [-n] [-p] [-R] [-q PAIRS] [-s STAGES] [-t SECONDS]" >&2
	   exit 2 ;;
	esac
done
kver=$(uname -r)
case $kernel in
builtin)
	image=$top/build/e2e-bzImage initrd=$top/build/e2e-guest-builtin.cpio.gz
	[ -e "$image" ] && [ -e "$initrd" ] ||
		{ echo "e2e.sh: -k builtin needs 'make e2e-kernel'" >&2; exit 2; } ;;
debian) image=/boot/vmlinuz-$kver initrd=$top/build/e2e-guest-$kver.cpio.gz ;;
*) echo "e2e.sh: -k builtin or debian" >&2; exit 2 ;;
esac
W=$(mktemp -d "${E2E_DIR:-/tmp}/e2e.XXXXXX")
S=$W/share
mkdir -p "$S"
tap=vmqe0
vmip=169.254.77.1
gip=169.254.77.2
name=$(basename "$dev")
nic="virtio-net-pci,netdev=n0,mq=$mq,vectors=$((2 * pairs + 2)),mac=02:00:00:00:77:02"
# the pairs the guest can have
gpairs=$pairs
if [ $mq = off ]; then
	gpairs=1
	[ "$stages" = 1 ] || { echo "e2e.sh: -n needs -s 1" >&2; exit 2; }
	name="$name+mq=off"
fi
if [ $packed = on ]; then
	nic="$nic,packed=on"
	name="$name+packed"
fi
case $iommu in
none) machine='' append='' ;;
viommu)
	# the vIOMMU before every other device, the NIC behind a PCIe root
	# port (ATS is a PCIe capability)
	machine="-machine q35,kernel-irqchip=split
		-device intel-iommu,intremap=on,device-iotlb=on
		-device pcie-root-port,id=rp0,chassis=1"
	nic="$nic,bus=rp0,disable-legacy=on,iommu_platform=on,ats=on"
	append="intel_iommu=on iommu.strict=1"
	name="$name+viommu" ;;
platform)
	machine='' append=''
	nic="$nic,disable-legacy=on,iommu_platform=on"
	name="$name+platform" ;;
*) echo "e2e.sh: -i none, viommu or platform" >&2; exit 2 ;;
esac
# the wrapper's mode, and what QEMU does on a reset
wrap='' reboot=-no-reboot
case $mode in
compat) ;;
device)
	[ "$dev" = /dev/vhost-mq ] || { echo "e2e.sh: -m device needs /dev/vhost-mq" >&2; exit 2; }
	# a system_reset must reset, not end QEMU (a guest poweroff still does)
	wrap=--device-mode reboot="-action panic=shutdown"
	name="$name+vdpa" ;;
*) echo "e2e.sh: -m compat or device" >&2; exit 2 ;;
esac
# the guest stays up at the end for the host to end it
hold=off
[ $mode = device ] && hold=on
dom=vmq-e2e
if [ $launch = libvirt ]; then
	if [ $mode != compat ] || [ "$iommu" != none ] || [ $mq != on ] || [ $packed != off ]; then
		echo "e2e.sh: -l goes with compat mode and none of -i, -n, -p" >&2
		exit 2
	fi
	hold=on
	name="$name+libvirt"
	# the module whose references the domain holds
	kmod=$(basename "$dev" | tr - _)
fi
n=0
failed=0
pids=
xfer=$top/build/vhost-mq-xfer
# the guest's copy, in its initramfs (qemu-glue/mkinitramfs.sh)
gxfer=/bin/vhost-mq-xfer

check() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n $name: $2"; else
		echo "not ok $n $name: $2"; failed=1; fi
}

# shellcheck disable=SC2317 # called by the trap
cleanup() {
	[ -d "$S" ] && touch "$S/stop"
	for p in $pids; do kill "$p" 2>/dev/null; done
	[ -n "${qpid:-}" ] && kill "$qpid" 2>/dev/null
	[ $launch = libvirt ] && virsh -q destroy "$dom" >/dev/null 2>&1
	pkill -f "iperf3 -s -p 520" 2>/dev/null
	pkill -f "$xfer" 2>/dev/null
	sleep 1
}
trap cleanup EXIT
# killed from outside (tap_run's timeout): say where the run was
# shellcheck disable=SC2317 # called by the trap
killed() {
	echo "# $name: killed after $(elapsed)s, $phase"
	show_trace
	keep
	exit 143
}
trap killed TERM INT

# seconds since QEMU started
elapsed() {
	awk -v t="${t0:-0}" '{ printf "%.0f", $1 - t }' /proc/uptime
}
phase="before QEMU started"
progress() {
	phase=$*
	echo "# $name: +$(elapsed)s $phase"
}

# on a failure: what the guest did when, and the ends of its console and
# of QEMU's log
show_trace() {
	[ -e "$S/trace" ] && sed "s/^/# $name: guest at /" "$S/trace"
	[ -e "$W/console.log" ] && tail -n 15 "$W/console.log" | sed "s/^/# $name: console: /"
	[ -s "$W/qemu.log" ] && tail -n 15 "$W/qemu.log" | sed "s/^/# $name: qemu: /"
}

# E2E_KEEP: a copy of the run's folder, without the monitor's socket
keep() {
	[ -n "${E2E_KEEP:-}" ] || return 0
	mkdir -p "$E2E_KEEP" && find "$W" ! -type s ! -type d |
		while read -r f; do
			mkdir -p "$E2E_KEEP/$(dirname "${f#"$W"/}")"
			cp "$f" "$E2E_KEEP/${f#"$W"/}"
		done
}

# wait_for FILE SECONDS: by the clock (a loaded VM sleeps longer than asked)
wait_for() {
	read -r now _ </proc/uptime
	end=$((${now%.*} + $2))
	while [ ! -e "$1" ]; do
		read -r now _ </proc/uptime
		[ "${now%.*}" -ge "$end" ] && return 1
		if [ -n "${qpid:-}" ] && ! kill -0 "$qpid" 2>/dev/null; then
			return 1
		fi
		sleep 0.2
	done
}

# hmp COMMAND: one command on QEMU's human monitor (device mode)
hmp() {
	python3 - "$W/mon" "$1" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.settimeout(30)
out = b""
def until(tok):
    global out
    while tok not in out:
        d = s.recv(4096)
        if not d:
            sys.exit(1)
        out += d
until(b"(qemu)")
out = b""
s.sendall(sys.argv[2].encode() + b"\n")
until(b"(qemu)")
PY
}

# pair counters of the device, "PAIR rx|tx PACKETS" per line, and
# "PAIR cpu TICKS LAST_CPU" of its worker (vhost-mq)
module_counters() {
	# one fd a pair (compat) or one fd of all pairs (device mode)
	"$top/build/vhost-mq-stat" "$qpid" 2>/dev/null | awk '
		/^\/dev\/vhost-mq fd/ { base = total }
		/^  pair [0-9]+:.*worker tid/ {
			p = $2; sub(/:/, "", p); total = base + p + 1
			t = $0; sub(/.*worker tid /, "", t); sub(/[^0-9].*/, "", t)
			print base + p, "tid", t }
		/^ +(rx|tx)[0-9]+_packets:/ {
			q = $1; d = substr(q, 1, 2); sub(/^(rx|tx)/, "", q)
			sub(/_packets:/, "", q); print base + q, d, $2 }' >"$W/mod.tmp"
	awk '$2 != "tid"' "$W/mod.tmp"
	awk '$2 == "tid" { print $1, $3 }' "$W/mod.tmp" | while read -r k t; do
		# utime + stime, and the CPU it last ran on
		awk -v k="$k" '{ sub(/^.*\) /, ""); print k, "cpu", $12 + $13, $37 }' \
			"/proc/$t/stat" 2>/dev/null
	done
}

# stage_table STAGE COMBINED: one row per pair of what it moved in the
# stage (guest ethtool -S before and after; on vhost-mq also the module's
# counters and the worker's CPU ticks, else "-"); succeeds when exactly
# pairs 0..COMBINED-1 moved frames. One awk: every program started costs
# under TCG.
stage_table() {
	mq=0 mb=/dev/null ma=/dev/null
	[ "$dev" = /dev/vhost-mq ] && mq=1 mb=$W/mod$1.before ma=$W/mod$1.after
	awk -v stage="$1" -v c="$2" -v pairs="$pairs" -v mq="$mq" \
		-v gb="$S/stage$1.before" -v ga="$S/stage$1.after" -v mb="$mb" -v ma="$ma" '
	FILENAME == gb || FILENAME == ga {
		if ($1 ~ /^(rx|tx)_queue_[0-9]+_packets:$/) {
			split($1, f, "_")
			g[FILENAME == ga, f[1], f[3]] = $2
		}
		next
	}
	{ m[FILENAME == ma, $2, $1] = $3; if ($2 == "cpu") last[$1] = $4 }
	END {
		ok = 1
		for (q = 0; q < pairs; q++) {
			grx = g[1, "rx", q] - g[0, "rx", q]
			gtx = g[1, "tx", q] - g[0, "tx", q]
			mrx = mtx = w = "-"
			if (mq) {
				mrx = m[1, "rx", q] - m[0, "rx", q]
				mtx = m[1, "tx", q] - m[0, "tx", q]
				w = (m[1, "cpu", q] - m[0, "cpu", q]) "t/cpu" last[q]
			}
			if (q < c) {
				if (grx + gtx <= 0 || (mq && mrx + mtx <= 0))
					ok = 0
			} else if (grx != 0 || gtx != 0 || (mq && (mrx != 0 || mtx != 0))) {
				ok = 0
			}
			printf "%5s %6s %4s %10s %10s %10s %10s %12s\n", stage, c, q, grx, gtx, mrx, mtx, w
		}
		exit !ok
	}' "$S/stage$1.before" "$S/stage$1.after" "$mb" "$ma"
}

# `make` builds the guest's initramfs; built here only if it has not
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
# what the guest did when, in its own uptime (shown on a failure, a kill
# or with E2E_TRACE=1)
# (shell builtins where it can: under TCG inside TCG every program the
# guest starts costs seconds, and more while the transfers run)
trace() { read -r up _ </proc/uptime; echo "\$up \$*" >>\$S/trace; }
wait_for() {
	w=0
	while [ ! -e "\$1" ]; do
		w=\$((w + 1))
		[ \$w -gt 300 ] && { echo "guest: no \$1"; exit 1; }
		sleep 1
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
if [ -e \$S/reset ]; then
	# booted again by system_reset (device mode): the device still works,
	# and takes a pair change
	trace "after the reset: eth0 up"
	ethtool -L eth0 combined $gpairs || { echo "guest: ethtool -L after reset failed"; exit 1; }
	cp \$S/payload /tmp/payload
	r=\$($gxfer recv 5203 /tmp/got >/dev/null 2>&1 && verify /tmp/got)
	$gxfer send $vmip 5204 /tmp/payload >/dev/null 2>&1 && r="\$r, sent"
	echo "\$r" >\$S/reset.sums
	trace "after the reset: \$r"
	[ "\$r" = "intact, sent" ] || exit 1
	touch \$S/reset.ok
	exit 0
fi
# what the guest negotiated (bit 33: ACCESS_PLATFORM), and whether its NIC
# sits behind an IOMMU
read -r f </sys/class/net/eth0/device/features
echo "\$f" >\$S/features
[ -e /sys/class/net/eth0/device/../iommu_group ] && touch \$S/iommu_group
trace "eth0 up"
touch \$S/up
wait_for \$S/go
# the payload from RAM, not through 9p
cp \$S/payload /tmp/payload
# transfers both ways, over and over, across the changes, every byte
# checked (vhost-mq-xfer: one TCP stream, all of it, then close); a pause
# after each, or checking them takes the guest's whole CPU from the stages
( while [ ! -e \$S/stop ]; do
	$gxfer send $vmip 5204 /tmp/payload >/dev/null 2>&1
	sleep 2
  done ) &
( while [ ! -e \$S/stop ]; do
	if $gxfer recv 5203 /tmp/got >/dev/null 2>&1; then
		verify /tmp/got >>\$S/sums.guest
	fi
	sleep 2
  done ) &
busybox ping -i 1 $vmip >\$S/ping.log 2>&1 &
ping=\$!
i=0
for c in $stages; do
	i=\$((i + 1))
	trace "stage \$i: ethtool -L eth0 combined \$c"
	ethtool -L eth0 combined \$c || { echo "guest: ethtool -L \$c failed"; exit 1; }
	trace "stage \$i: channels set"
	# the queues the guest's eth0 now has (what ethtool -l's combined
	# count sets), from sysfs
	set -- /sys/class/net/eth0/queues/tx-*
	t=\$#
	set -- /sys/class/net/eth0/queues/rx-*
	echo "tx \$t rx \$#" >\$S/stage\$i.channels
	ethtool -S eth0 >\$S/stage\$i.before
	trace "stage \$i: counters read"
	touch \$S/stage\$i.begin
	wait_for \$S/stage\$i.go
	trace "stage \$i: iperf3 both ways"
	# two clients, not one --bidir: a single iperf3 in this starved guest
	# sends and hardly receives; small windows keep the queues short
	iperf3 -c $vmip -p 5201 -P 4 -w 64K -t $secs -f m >\$S/stage\$i.tx 2>&1 &
	p=\$!
	iperf3 -c $vmip -p 5202 -P 4 -w 64K -t $secs -f m -R >\$S/stage\$i.rx 2>&1
	wait \$p
	trace "stage \$i: iperf3 done"
	ethtool -S eth0 >\$S/stage\$i.after
	trace "stage \$i: counters read"
	touch \$S/stage\$i.end
	wait_for \$S/stage\$i.done
done
kill -INT \$ping
sleep 1
trace finished
touch \$S/finished
# device mode and libvirt: the host resets or ends the guest from here
if [ $hold = on ]; then while :; do sleep 1; done; fi
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

refs=$(cat /sys/module/vhost_mq/refcnt 2>/dev/null)
if [ $launch = libvirt ]; then
	echo "# $name: starting QEMU through libvirt (virsh create), $pairs queue pairs"
	krefs=$(cat "/sys/module/$kmod/refcnt")
	sh "$here/libvirt-up.sh" || exit 1
	. "$here/libvirt-domain.sh"
	# QEMU runs as libvirt-qemu: it reads the kernel and writes the
	# console and the share (libvirt's DAC labelling chowns the files)
	cp "$image" "$W/vmlinuz" && cp "$initrd" "$W/initrd" || exit 1
	chmod 0755 "$W" && chmod 0777 "$S"
	libvirt_domain "$dom" "$W" "$tap" "$pairs" "$dev" >"$W/domain.xml"
	virsh -q create "$W/domain.xml" >"$W/virsh.log" 2>&1
	check $? "virsh create: the domain with <backend vhost='$dev'/> and $pairs queues started ($(tr '\n' ' ' <"$W/virsh.log"))"
	qpid=$(cat "/run/libvirt/qemu/$dom.pid" 2>/dev/null)
	[ -n "$qpid" ] || { show_trace; exit 1; }
	ln -sf "/var/log/libvirt/qemu/$dom.log" "$W/qemu.log"
	t0=$(cut -d' ' -f1 /proc/uptime)
	# QEMU holds the fds libvirt opened: one of DEVICE per queue pair
	held=$(find "/proc/$qpid/fd" -lname "$dev" 2>/dev/null | wc -l)
	[ "$held" = "$pairs" ] && tr '\0' ' ' <"/proc/$qpid/cmdline" | grep -q 'vhostfds'
	check $? "QEMU (pid $qpid, started by libvirt) holds $held fds of $dev and was given them as vhostfds"
	virsh -q domiflist "$dom" >"$W/domiflist" 2>&1
	grep -q "$tap .*virtio *02:00:00:00:77:02" "$W/domiflist"
	check $? "virsh domiflist: $(tr -s ' ' <"$W/domiflist")"
else
echo "# $name: starting QEMU ($accel, $kernel kernel) through vhost-mq-qemu, $pairs queue pairs"
# shellcheck disable=SC2086 # $wrap, $reboot: none or several arguments
"$top/build/vhost-mq-qemu" $wrap --device "$dev" qemu-system-x86_64 \
	-accel "$accel" -cpu max -smp 2 -m 1024 -nodefaults \
	-display none $reboot -nic none $machine \
	-monitor "unix:$W/mon,server=on,wait=off" \
	-kernel "$image" -initrd "$initrd" \
	-append "console=ttyS0 quiet panic=-1 $append" \
	-serial "file:$W/console.log" \
	-virtfs "local,path=$S,mount_tag=share,security_model=none,multidevs=remap" \
	-netdev "tap,id=n0,ifname=$tap,queues=$pairs,vhost=on,script=no,downscript=no" \
	-device "$nic" \
	>"$W/qemu.log" 2>&1 &
qpid=$!
t0=$(cut -d' ' -f1 /proc/uptime)
fi
phase="booting the guest"
i=0
while [ ! -e "/sys/class/net/$tap" ] && [ $i -lt 100 ]; do sleep 0.2; i=$((i + 1)); done
ip addr add "$vmip/24" dev "$tap" && ip link set "$tap" up
check $? "$([ $launch = libvirt ] && echo libvirt || echo the wrapper) created tap $tap and QEMU runs"

wait_for "$S/up" 300
check $? "the guest booted and brought eth0 up"
echo "# $name: guest up $(elapsed)s after QEMU started"
if [ $packed = on ]; then
	[ "$(cut -c35 "$S/features")" = 1 ]
	check $? "the guest negotiated packed rings (features: $(cat "$S/features"))"
fi
if [ "$iommu" != none ]; then
	[ "$(cut -c34 "$S/features")" = 1 ]
	check $? "the guest negotiated ACCESS_PLATFORM"
	if [ "$iommu" = viommu ]; then [ -e "$S/iommu_group" ]; else ! [ -e "$S/iommu_group" ]; fi
	check $? "the guest's NIC is behind an IOMMU: $([ -e "$S/iommu_group" ] && echo yes || echo no)"
fi
# guest -> VM verified transfers
( while [ ! -e "$S/stop" ]; do
	if "$xfer" recv 5204 "$W/got" >/dev/null 2>&1; then
		verify "$W/got" >>"$W/sums.vm"
	fi
  done ) &
pids="$pids $!"
touch "$S/go"

# device mode: stop/cont in the stage before the last
set -- $stages
stopstage=$(($# - 1))
i=0
for c in $stages; do
	i=$((i + 1))
	progress "stage $i: the guest sets $c combined channels"
	wait_for "$S/stage$i.begin" 180 || { check 1 "stage $i ($c pairs) began"; break; }
	[ "$dev" = /dev/vhost-mq ] && module_counters >"$W/mod$i.before"
	progress "stage $i: traffic on $c pairs"
	touch "$S/stage$i.go"
	if [ "$mode" = device ] && [ "$i" = "$stopstage" ]; then
		# QEMU's stop resets the device and reads the ring bases; cont
		# starts it again and does not resend the guest's pair count:
		# the guest's choice must hold without it
		sleep 1
		hmp stop && sleep 2 && hmp cont &&
			"$top/build/vhost-mq-stat" "$qpid" 2>/dev/null |
			grep -q ": $c of $pairs pairs active"
		check $? "stage $i: stop and cont on the monitor under traffic, still $c of $pairs pairs active"
	fi
	wait_for "$S/stage$i.end" 180 || { check 1 "stage $i ($c pairs) ended"; break; }
	[ "$dev" = /dev/vhost-mq ] && module_counters >"$W/mod$i.after"
	touch "$S/stage$i.done"
done
if [ "$iommu" = viommu ] && [ "$dev" = /dev/vhost-mq ]; then
	misses=$("$top/build/vhost-mq-stat" "$qpid" 2>/dev/null |
		awk '/_iotlb_misses:/ { s += $2 } END { print s + 0 }')
	[ "$misses" -gt 0 ]
	check $? "the device asked QEMU for $misses translations (IOTLB misses)"
fi
progress "the guest finishes"
wait_for "$S/finished" 60
check $? "the guest went through combined $stages"
if [ "$mode" = device ]; then
	# the kernel's control vq: every command answered, none refused
	"$top/build/vhost-mq-stat" "$qpid" >"$W/stat" 2>&1
	ctrl=$(awk '/ ctrl_packets:/ { p = $2 } / ctrl_errors:/ { e = $2 }
		/ ctrl_drops_ctrl_rejected:/ { r = $2 }
		/pairs active,/ { c = $(NF - 1) }
		END { print p + 0, e + 0, r + 0, c + 0 }' "$W/stat")
	set -- $ctrl
	if [ $mq = on ]; then
		[ "$1" -ge "$4" ] && [ "$4" -ge 4 ] && [ "$2" = 0 ] && [ "$3" = 0 ]
	else
		# no MQ, no pair command; the guest has pair 0 alone
		[ "$4" = 0 ] && [ "$2" = 0 ] && grep -q ": 1 of $pairs pairs active" "$W/stat"
	fi
	ctrl_line="the kernel's control vq answered $1 commands, $4 pair changes, $3 refused, $2 errors"
	check $? "$ctrl_line"
	if [ $mq = off ]; then
		# the host's iperf3 streams were hashed over all the tap's
		# queues: those of pairs 1.. reached the guest through pair 0
		folded=$(awk '/ rx0_folded:/ { print $2 }' "$W/stat")
		[ "${folded:-0}" -gt 0 ]
		check $? "without MQ the tap's other queues folded ${folded:-0} frames onto pair 0"
	fi
	if [ $reset = on ]; then
		progress "system_reset"
		touch "$S/reset"
		hmp system_reset
		check $? "system_reset on the monitor"
		# the second boot, under TCG in TCG, has taken from 100 to 250 s,
		# up to 2.4 times the first: the kernel's own boot, before any of
		# our device is used (console: each module's time), grows
		wait_for "$S/reset.ok" 900
		check $? "after system_reset the rebooted guest's traffic: $(cat "$S/reset.sums" 2>/dev/null) (guest: $(grep 'after the reset' "$S/trace" 2>/dev/null | tail -n 1); console: $(tail -n 1 "$W/console.log"))"
	fi
	progress "QEMU killed"
	touch "$S/stop"
	kill -9 "$qpid"
	wait "$qpid" 2>/dev/null
	i=0
	while [ "$(cat /sys/module/vhost_mq/refcnt)" != "$refs" ] && [ $i -lt 50 ]; do
		sleep 0.2; i=$((i + 1))
	done
	[ "$(cat /sys/module/vhost_mq/refcnt)" = "$refs" ] && ! grep -q "^vhost-mq-$qpid-" /proc/*/comm 2>/dev/null
	check $? "QEMU killed: module references back to $refs, no worker left"
	rmmod vhost_mq && insmod "$top/vhost/vhost_mq.ko"
	check $? "rmmod vhost_mq succeeds after it (and the module is back)"
elif [ $launch = libvirt ]; then
	if [ "$dev" = /dev/vhost-mq ]; then
		# every pair with its worker, and traffic both ways on each
		# pair some stage had active
		"$top/build/vhost-mq-stat" "$qpid" >"$W/stat" 2>&1
		np=$(grep -c '^  pair [0-9]*:.*worker tid' "$W/stat")
		top_c=$(echo "$stages" | tr ' ' '\n' | sort -n | tail -n 1)
		moved=$(module_counters | awk -v c="$top_c" '
			($2 == "rx" || $2 == "tx") && $1 < c && $3 > 0 { n++ }
			END { print n + 0 }')
		[ "$np" = "$pairs" ] && [ "$moved" = $((2 * top_c)) ]
		check $? "vhost-mq-stat $qpid: $np pairs with a worker each; $moved of the $((2 * top_c)) vrings of pairs 0..$((top_c - 1)) moved frames"
	fi
	progress "virsh destroy"
	touch "$S/stop"
	virsh -q destroy "$dom" >>"$W/virsh.log" 2>&1
	check $? "virsh destroy"
	i=0
	while { kill -0 "$qpid" 2>/dev/null ||
		[ "$(cat "/sys/module/$kmod/refcnt")" != "$krefs" ]; } && [ $i -lt 100 ]; do
		sleep 0.2; i=$((i + 1))
	done
	left=$(grep -l "^vhost-\(mq-\)\?$qpid" /proc/[0-9]*/comm 2>/dev/null | wc -l)
	! kill -0 "$qpid" 2>/dev/null && [ "$(cat "/sys/module/$kmod/refcnt")" = "$krefs" ] &&
		[ "$left" = 0 ] && [ ! -e "/sys/class/net/$tap" ] &&
		[ -z "$(virsh -q list --all 2>/dev/null)" ]
	check $? "after virsh destroy: QEMU gone, $kmod references back to $krefs ($(cat "/sys/module/$kmod/refcnt")), $left workers left, tap $tap $([ -e "/sys/class/net/$tap" ] && echo left || echo removed), no domain"
else
	progress "the guest powers off"
	touch "$S/stop"
	# the guest powers off by itself
	i=0
	while kill -0 "$qpid" 2>/dev/null && [ $i -lt 300 ]; do sleep 0.2; i=$((i + 1)); done
	kill -0 "$qpid" 2>/dev/null && kill "$qpid"
	check "$(cat "$S/guest.rc" 2>/dev/null || echo 1)" "the guest's script succeeded"
fi
! grep -qi "vhost.*\(fail\|error\)\|falling back" "$W/qemu.log"
check $? "QEMU used the vhost device without complaint"

# per stage: exactly the active pairs moved frames
i=0
table=
for c in $stages; do
	i=$((i + 1))
	[ -e "$S/stage$i.after" ] || break
	queues=$(cat "$S/stage$i.channels")
	[ "$queues" = "tx $c rx $c" ]
	check $? "stage $i: the guest runs $c combined channels ($queues queues)"
	stage_table "$i" "$c" >"$W/table$i"
	check $? "stage $i: pairs 0..$((c - 1)) carried traffic, the others none"
	table="$table$(cat "$W/table$i")
"
	tx=$(awk '/SUM.*sender/ { print $6 }' "$S/stage$i.tx")
	rx=$(awk '/SUM.*receiver/ { print $6 }' "$S/stage$i.rx")
	echo "# $name stage $i: $c pairs, guest->host ${tx:-?} Mbit/s, host->guest ${rx:-?} Mbit/s"
	[ -n "$tx" ] || echo "# $name stage $i: iperf3 guest->host: $(grep -m 1 -i 'error\|unable' "$S/stage$i.tx")"
	[ -n "$rx" ] || echo "# $name stage $i: iperf3 host->guest: $(grep -m 1 -i 'error\|unable' "$S/stage$i.rx")"
	echo "throughput $i $c ${tx:-0} ${rx:-0}" >>"$W/throughput"
done
# every echo answered (in any order, duplicates aside); the last one may
# still have been on its way when the guest stopped ping (replies take up
# to a second under TCG)
ping_lost=$(awk '/seq=/ { s = $0; sub(/.*seq=/, "", s); sub(/[^0-9].*/, "", s); got[s + 0] = 1 }
	/packets transmitted/ { t = $1 }
	END { for (i = 0; i < t - 1; i++) if (!(i in got)) m = m " " i
		if (t == "" || t < 2) print "no statistics"; else if (m != "") print "seq" m
		else print "none" }' "$S/ping.log")
[ "$ping_lost" = none ]
check $? "ping through every change without loss ($(grep -o '[0-9]* packets transmitted' "$S/ping.log"), unanswered before the last: ${ping_lost})"
case $ping_lost in seq*)
	m=${ping_lost#seq }; m=${m%% *}
	awk -v m="$m" '/seq=/ { s = $0; sub(/.*seq=/, "", s); sub(/[^0-9].*/, "", s)
		if (s + 0 >= m - 3 && s + 0 <= m + 3) print "# ping: " $0 }' "$S/ping.log"
esac
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
[ "$mode" = device ] && echo "# $name: ${ctrl_line:-the control vq was not read}"
[ -n "${E2E_SUMMARY:-}" ] && cp "$W/throughput" "$E2E_SUMMARY"
if [ "$failed" != 0 ] || [ -n "${E2E_TRACE:-}" ]; then show_trace; fi
keep
rm -rf "$W"
echo "1..$n"
exit $failed
