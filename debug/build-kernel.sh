#!/bin/sh
# build-kernel.sh [debug|e2e]: build (once) a kernel from Debian's
# linux-source-6.1 with a config fragment merged over tinyconfig, and print
# the path of its cache folder: "debug" (the default) is the debug kernel
# of issue #7 (debug/kernel.config), "e2e" the nested guest's kernel of
# the end-to-end runs (qemu-glue/e2e-kernel.config, everything built in).
# The build is kept outside the work tree, keyed by the source package
# version, the config fragment and this script, so only the first run
# pays; an interrupted build resumes where it stopped.
#
# The cache folder holds: src/ (the built tree, KDIR for our module),
# mods/ (modules_install root, for modinfo -b; empty without modules), and
# env, a shell fragment setting DBG_KVER, DBG_KDIR, DBG_IMAGE and
# DBG_MODROOT.
#
# Environment: VMQ_CACHE (default /var/cache/vhost-mq), JOBS (nproc).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
kind=${1:-debug}
case $kind in
debug) frag=$here/kernel.config ;;
e2e) frag=$(dirname "$here")/qemu-glue/e2e-kernel.config ;;
*) echo "usage: $0 [debug|e2e]" >&2; exit 2 ;;
esac
tar=/usr/src/linux-source-6.1.tar.xz
[ -r "$tar" ] || { echo "build-kernel: $tar missing: run 'make deps'" >&2; exit 1; }
srcver=$(dpkg-query -W -f='${Version}' linux-source-6.1)
key=$( (echo "$srcver"; cat "$frag" "$0") | sha256sum | cut -c1-12)
cache=${VMQ_CACHE:-/var/cache/vhost-mq}/$kind-kernel-$key
jobs=${JOBS:-$(nproc)}

if [ -r "$cache/env" ]; then
	echo "$cache"
	exit 0
fi

log() { echo "[$kind-kernel] $*" >&2; }
mkdir -p "$cache"
if [ ! -r "$cache/src/.extracted" ]; then
	log "extracting linux-source $srcver into $cache/src"
	rm -rf "$cache/src"
	mkdir -p "$cache/src"
	tar -xf "$tar" -C "$cache/src" --strip-components=1
	touch "$cache/src/.extracted"
fi
cd "$cache/src"
if [ ! -r .config ] || [ ! -r .config-merged ]; then
	log "configuring: tinyconfig + $frag"
	make -s tinyconfig >&2
	scripts/kconfig/merge_config.sh -m .config "$frag" >/dev/null
	make -s olddefconfig >&2
	# Every option the fragment sets must have survived olddefconfig.
	missing=$(grep -E '^CONFIG_[A-Z0-9_]+=' "$frag" | while IFS= read -r l; do
		opt=${l%%=*}
		val=${l#*=}
		if [ "$val" = n ]; then
			if grep -q "^$opt=" .config; then echo "$l"; fi
		elif ! grep -qxF "$l" .config; then
			echo "$l"
		fi
	done)
	if [ -n "$missing" ]; then
		log "options the kernel did not take (dependencies missing?):"
		echo "$missing" >&2
		exit 1
	fi
	touch .config-merged
fi
log "building with $jobs jobs (the first build takes a while; later runs reuse it)"
rm -rf "$cache/mods"
mkdir -p "$cache/mods"
if grep -q '^CONFIG_MODULES=y' .config; then
	make -s -j"$jobs" bzImage modules >&2
	make -s INSTALL_MOD_PATH="$cache/mods" INSTALL_MOD_STRIP=1 modules_install >&2
else
	make -s -j"$jobs" bzImage >&2
fi
kver=$(make -s kernelrelease)
cat >"$cache/env.tmp" <<ENV
DBG_KVER='$kver'
DBG_KDIR='$cache/src'
DBG_IMAGE='$cache/src/arch/x86/boot/bzImage'
DBG_MODROOT='$cache/mods'
ENV
mv "$cache/env.tmp" "$cache/env"
log "done: $kver"
echo "$cache"
