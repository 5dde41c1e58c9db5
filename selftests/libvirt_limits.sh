#!/bin/sh
# libvirt_limits.sh: what a libvirt user gets wrong, inside the rig VM (TAP).
# A domain whose <driver queues='N'/> is past vhost-mq's max_queue_pairs
# must fail to start with an error that names the cause, and one whose
# <backend vhost=.../> names no device must fail too; either way the host
# keeps nothing: no domain, no tap, no worker, no module reference.
set -u
[ -n "${RIG:-}" ] || { echo "libvirt_limits.sh runs inside the rig VM" >&2; exit 2; }
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/qemu-glue/libvirt-domain.sh"
n=0
failed=0
check() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n libvirt: $2"; else
		echo "not ok $n libvirt: $2"; failed=1; fi
}

sh "$top/qemu-glue/libvirt-up.sh"
check $? "libvirtd started"
W=$(mktemp -d)
mkdir -p "$W/share"
cp "/boot/vmlinuz-$(uname -r)" "$W/vmlinuz" && : >"$W/initrd"
chmod 0755 "$W" && chmod 0777 "$W/share"
tap=vmql0
refs=$(cat /sys/module/vhost_mq/refcnt)
max=$(cat /sys/module/vhost_mq/parameters/max_queue_pairs)

# nothing_left WHAT: no domain, no tap, no worker, references as before
nothing_left() {
	i=0
	while [ "$(cat /sys/module/vhost_mq/refcnt)" != "$refs" ] && [ $i -lt 50 ]; do
		sleep 0.2; i=$((i + 1))
	done
	workers=$(grep -l '^vhost-mq-' /proc/[0-9]*/comm 2>/dev/null | wc -l)
	[ -z "$(virsh -q list --all)" ] && [ ! -e "/sys/class/net/$tap" ] &&
		[ "$workers" = 0 ] && [ "$(cat /sys/module/vhost_mq/refcnt)" = "$refs" ]
	check $? "$1: nothing left (domains: $(virsh -q list --all | wc -l), tap $tap: $([ -e "/sys/class/net/$tap" ] && echo left || echo gone), workers: $workers, references $(cat /sys/module/vhost_mq/refcnt) of $refs)"
}

# more queues than max_queue_pairs: QEMU's SET_OWNER of the pair past it
# fails with EUSERS, QEMU exits and libvirt reports QEMU's words
q=$((max + 1))
klines=$(dmesg | wc -l)
libvirt_domain vmq-limits "$W" "$tap" "$q" /dev/vhost-mq >"$W/limits.xml"
virsh -q create "$W/limits.xml" >"$W/limits.out" 2>&1
rc=$?
sed 's/^/# virsh: /' "$W/limits.out" | cut -c1-400
[ $rc != 0 ] && grep -q 'vhost_set_owner failed: Too many users' "$W/limits.out"
check $? "a domain with $q queues (max_queue_pairs $max) fails to start: QEMU's vhost_set_owner failed: Too many users"
dmesg | tail -n +$((klines + 1)) | grep -q "past max_queue_pairs=$max"
check $? "and the kernel log names the limit: $(dmesg | tail -n +$((klines + 1)) | grep -m 1 -o 'vhost-mq: .*')"
nothing_left "after the refused domain"

# within the limit the same domain starts (so the refusal was the count)
libvirt_domain vmq-limits "$W" "$tap" "$max" /dev/vhost-mq >"$W/max.xml"
virsh -q create "$W/max.xml" >"$W/max.out" 2>&1
check $? "a domain with $max queues starts ($(tr '\n' ' ' <"$W/max.out"))"
virsh -q destroy vmq-limits >/dev/null 2>&1
nothing_left "after destroying it"

# a device that is not there
libvirt_domain vmq-missing "$W" "$tap" 2 /dev/vhost-mq-missing >"$W/missing.xml"
virsh -q create "$W/missing.xml" >"$W/missing.out" 2>&1
rc=$?
sed 's/^/# virsh: /' "$W/missing.out"
[ $rc != 0 ] && grep -q 'vhost-net was requested for an interface, but is unavailable' "$W/missing.out"
check $? "a domain whose backend vhost is missing fails to start"
nothing_left "after the missing device"

rm -rf "$W"
echo "1..$n"
exit $failed
