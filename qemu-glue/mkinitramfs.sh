#!/bin/sh
# mkinitramfs.sh KVER OUT [INIT [MODULE...]]: build an initramfs: static
# busybox, INIT as /init (default: the rig's vm-init.sh), and MODULE...
# with their dependencies, loaded in order by /init from /boot-modules
# (default: the virtio/9p modules needed to mount the host's root; "-":
# none, for a kernel that has them built in).
# INITRAMFS_BINS="/usr/sbin/ethtool ...": also those programs, with the
# shared libraries ldd names for them, at their own paths (and one outside
# the system's folders also as /bin/NAME).
set -eu

[ $# -ge 2 ] || {
	echo "usage: $0 KVER OUT.cpio.gz [INIT [MODULE...]]" >&2
	exit 2
}
kver=$1
out=$2
here=$(cd "$(dirname "$0")" && pwd)
init=${3:-$here/vm-init.sh}
shift 2
[ $# -gt 0 ] && shift
[ $# -gt 0 ] || set -- virtio_pci 9pnet_virtio 9p
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
cp "$init" "$stage/init"
chmod 755 "$stage/init"

: >"$stage/boot-modules"
[ "$*" = - ] && set --
for path in ${1:+$("$here/moddeps.sh" "$kver" "$@")}; do
	name=$(basename "$path")
	cp "$path" "$stage/lib/modules/$name"
	echo "$name" >>"$stage/boot-modules"
done

for bin in ${INITRAMFS_BINS:-}; do
	for f in "$bin" $(ldd "$bin" | grep -o '/[^ ]*'); do
		mkdir -p "$stage$(dirname "$f")"
		cp -L "$f" "$stage$f"
	done
	# one from a build folder is also /bin/NAME: the guest finds it
	# whichever checkout built the initramfs
	case $bin in
	/bin/* | /sbin/* | /usr/*) ;;
	*) ln -sf "$bin" "$stage/bin/$(basename "$bin")" ;;
	esac
done

(cd "$stage" && find . | cpio -o -H newc --quiet) | gzip -1 >"$out.tmp"
mv "$out.tmp" "$out"
