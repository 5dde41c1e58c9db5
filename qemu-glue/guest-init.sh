#!/bin/busybox sh
# /init of the nested test guest (qemu-glue/e2e.sh). Its initramfs holds
# busybox, the modules, and ethtool, ip and iperf3 with their libraries;
# the test's share (read-write 9p, tag share) brings guest.sh and takes
# back the results. Runs guest.sh, records its exit status, powers off.
set -u
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
exec </dev/console >/dev/console 2>&1

# when each module was in (a slow boot shows where it spent its time)
for m in $(cat /boot-modules); do
	insmod "/lib/modules/$m" || echo "guest: cannot load $m"
	read -r up _ </proc/uptime
	echo "guest: $m in at ${up}s"
done
mkdir -p /tmp/share
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 share /tmp/share ||
	{ echo "guest: no share"; poweroff -f; }
echo "guest: up after $(cut -d' ' -f1 /proc/uptime)s"
HOME=/tmp sh /tmp/share/guest.sh >/tmp/share/guest.log 2>&1 </dev/null
echo "$?" >/tmp/share/guest.rc
sync
umount /tmp/share
poweroff -f
