#!/bin/sh
# dpdk_test.sh: DPDK's virtio-user (dpdk-testpmd), a vhost-kernel client
# nobody here wrote, moves packets through /dev/vhost-mq as it does
# through /dev/vhost-net: txonly frames reach the tap, frames pktgen puts
# on the tap reach testpmd in rxonly. Runs in the rig VM; prints TAP and
# the packet rates as comments.
set -u
# a namespace of our own, without IPv6: nothing but pktgen sends on the tap
if [ -z "${VMQ_NETNS:-}" ]; then
	VMQ_NETNS=1 exec unshare --net sh "$0" "$@"
fi
echo 1 >/proc/sys/net/ipv6/conf/all/disable_ipv6
echo 1 >/proc/sys/net/ipv6/conf/default/disable_ipv6
n=0
failed=0
tmp=$JOBDIR/dpdk
mkdir -p "$tmp"

check() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n $2"; else echo "not ok $n $2"; failed=1; fi
}

# pktgen_script COUNT DELAY_NS: $tmp/during puts COUNT (0: endless) 60-byte
# frames on the tap, DELAY_NS apart, to a link-local address
pktgen_script() {
	{
		echo '#!/bin/sh'
		echo 'pg=/proc/net/pktgen'
		echo 'echo rem_device_all >$pg/kpktgend_0'
		echo 'echo add_device vmqdp0 >$pg/kpktgend_0'
		echo "echo count $1 >\$pg/vmqdp0"
		echo 'echo pkt_size 60 >$pg/vmqdp0'
		echo "echo delay $2 >\$pg/vmqdp0"
		echo 'echo dst 169.254.0.2 >$pg/vmqdp0'
		echo 'echo dst_mac 02:00:00:00:00:02 >$pg/vmqdp0'
		echo 'echo start >$pg/pgctrl'
	} >"$tmp/during"
	chmod +x "$tmp/during"
}

# testpmd --no-mlockall: testpmd's mlockall() populates its 1 GiB holding the
# mmap lock throughout (77 s under the debug kernel, where khugepaged then
# waited past the hung-task limit); virtio-user over vhost needs no locked
# memory, the worker faults guest pages in like any other access.
#
# testpmd DEVICE MODE SECONDS: run testpmd in MODE for SECONDS of
# forwarding, running $tmp/during (if any) meanwhile. Leaves testpmd's
# output in $tmp/out and the tap's rx/tx counters in $tmp/tap.
testpmd() {
	rm -f "$tmp/out" "$tmp/tap"
	{
		i=0
		while ! grep -q "testpmd>" "$tmp/out" 2>/dev/null &&
			[ $i -lt 120 ]; do sleep 0.5; i=$((i + 1)); done
		ip link set vmqdp0 up 2>/dev/null
		echo start
		if [ -x "$tmp/during" ]; then "$tmp/during" & fi
		sleep "$3"
		echo stop >/proc/net/pktgen/pgctrl 2>/dev/null
		echo stop
		sleep 2
		# /proc/net/dev is this namespace's; sysfs is the VM's
		sed -n 's/^ *vmqdp0://p' /proc/net/dev |
			awk '{ print $2; print $10 }' >"$tmp/tap"
		echo quit
	} | timeout 120 dpdk-testpmd -l 0-1 --no-huge -m 1024 --no-shconf \
		--no-pci --vdev="net_virtio_user0,path=$1,queues=1,queue_size=256,iface=vmqdp0" \
		-- -i --no-mlockall --total-num-mbufs=8192 --forward-mode="$2" >"$tmp/out" 2>&1
	wait
}

# stat NAME: a counter from testpmd's last forward statistics
stat() {
	sed -n "s/.*$1: *\([0-9]*\).*/\1/p" "$tmp/out" | tail -n 1
}

echo "TAP version 13"
echo "1..6"
echo "<6>rig: test dpdk_testpmd" >/dev/kmsg

for dev in /dev/vhost-net /dev/vhost-mq; do
	name=${dev#/dev/}
	rm -f "$tmp/during"
	testpmd "$dev" txonly 3
	tx=$(stat TX-packets)
	taprx=$(head -n 1 "$tmp/tap" 2>/dev/null)
	echo "# $dev txonly: testpmd sent ${tx:-?} in 3 s ($((${tx:-0} / 3)) pps), the tap got ${taprx:-?}"
	[ "${tx:-0}" -gt 0 ] && [ "${taprx:-0}" -ge $((${tx:-0} - 256)) ]
	check $? "txonly_frames_reach_the_tap_through_$name"

	# a known count, paced so the tap's queue never overflows
	pktgen_script 2000 200000
	testpmd "$dev" rxonly 2
	rx=$(stat RX-packets)
	echo "# $dev rxonly: testpmd received ${rx:-?} of the 2000 frames pktgen sent"
	[ "${rx:-0}" = 2000 ]
	check $? "rxonly_receives_every_frame_through_$name"

	# and flat out, for a rate
	pktgen_script 0 0
	testpmd "$dev" rxonly 3
	rx=$(stat RX-packets)
	echo "# $dev rxonly: testpmd received ${rx:-?} in 3 s ($((${rx:-0} / 3)) pps)"
	[ "${rx:-0}" -gt 0 ]
	check $? "rxonly_flat_out_moves_frames_through_$name"
done
exit $failed
