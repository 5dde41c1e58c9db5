#!/bin/sh
# libvirt-up.sh: start Debian's libvirt daemons (virtlogd, libvirtd) inside
# the rig VM, as their sysv init scripts would, for the libvirt end-to-end
# runs (e2e.sh -l). The VM sees the host's root read-only, so libvirt's
# configuration and state folders get a tmpfs each, seeded with the
# installed files (owners and modes kept). Debian's defaults hold (QEMU
# runs as libvirt-qemu, libvirt's DAC labelling is on) but for two: udev's
# group and mode for /dev/kvm (kvm, 0660), which the rig has no udev to
# set, and QEMU's private /dev (qemu.conf namespaces), which libvirt
# cannot populate inside the rig's chroot (QEMU then fails with "Could not
# access KVM kernel module"). The vhost device is no part of that: libvirt
# opens its fds itself and passes them, QEMU never opens it. Idempotent.
set -eu
[ -n "${RIG:-}" ] || { echo "libvirt-up.sh runs inside the rig VM" >&2; exit 2; }
command -v libvirtd >/dev/null || {
	echo "libvirt-up.sh: no libvirtd: run 'make deps-libvirt' on the host" >&2
	exit 1
}
if virsh -c qemu:///system version >/dev/null 2>&1; then
	exit 0
fi
for d in /etc/libvirt /var/lib/libvirt /var/cache/libvirt /var/log/libvirt; do
	mountpoint -q "$d" && continue
	seed=$(mktemp -d)
	[ -d "$d" ] && cp -a "$d/." "$seed/"
	mkdir -p "$d" 2>/dev/null || true
	mount -t tmpfs -o mode=0755 tmpfs "$d"
	cp -a "$seed/." "$d/"
	rm -rf "$seed"
done
# no default NAT network (it would want a 192.168.122.0/24 bridge)
rm -f /etc/libvirt/qemu/networks/autostart/*.xml
echo 'namespaces = []' >>/etc/libvirt/qemu.conf
mkdir -p /var/log/libvirt/qemu /var/lib/libvirt/qemu /var/cache/libvirt/qemu
if [ -c /dev/kvm ] && getent group kvm >/dev/null; then
	chgrp kvm /dev/kvm && chmod 0660 /dev/kvm
fi
virtlogd -d
libvirtd -d
i=0
until virsh -c qemu:///system version >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -gt 300 ] && {
		echo "libvirt-up.sh: libvirtd did not answer within 60 s" >&2
		exit 1
	}
	sleep 0.2
done
