#!/bin/sh
# mkinitramfs.sh KVER OUT: build the rig's initramfs: static busybox, our
# /init, and the virtio/9p modules needed to mount the host's root.
set -eu

[ $# -eq 2 ] || { echo "usage: $0 KVER OUT.cpio.gz" >&2; exit 2; }
kver=$1
out=$2
here=$(cd "$(dirname "$0")" && pwd)
busybox=/bin/busybox

# A dynamic busybox would need an interpreter the initramfs does not have.
[ -x "$busybox" ] && ! readelf -l "$busybox" | grep -q INTERP || {
	echo "mkinitramfs: $busybox is not static: install busybox-static" >&2
	exit 1
}

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/lib/modules" "$stage/proc" "$stage/sys" \
	"$stage/dev" "$stage/tmp"
cp "$busybox" "$stage/bin/busybox"
mknod -m 600 "$stage/dev/console" c 5 1
cp "$here/vm-init.sh" "$stage/init"
chmod 755 "$stage/init"

: >"$stage/boot-modules"
for path in $("$here/moddeps.sh" "$kver" virtio_pci 9pnet_virtio 9p); do
	name=$(basename "$path")
	cp "$path" "$stage/lib/modules/$name"
	echo "$name" >>"$stage/boot-modules"
done

(cd "$stage" && find . | cpio -o -H newc --quiet) | gzip -1 >"$out.tmp"
mv "$out.tmp" "$out"
