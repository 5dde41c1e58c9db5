#!/bin/sh
# moddeps.sh KVER MODULE...: print the paths of MODULE and everything it
# depends on, dependencies first, each once, as `modinfo -k KVER` resolves
# them; modules built into the kernel are left out. The host runs another
# kernel, so modprobe cannot be used here. MODROOT: the folder holding
# lib/modules/KVER, when not / (the debug kernel's).
set -eu
base=${MODROOT:+-b $MODROOT}

[ $# -ge 2 ] || { echo "usage: $0 KVER MODULE..." >&2; exit 2; }
kver=$1
shift
seen=" "

visit() {
	case "$seen" in *" $1 "*) return 0 ;; esac
	seen="$seen$1 "
	# shellcheck disable=SC2086
	deps=$(modinfo $base -k "$kver" -F depends "$1") || {
		echo "moddeps: no module $1 for kernel $kver" >&2
		exit 1
	}
	for d in $(echo "$deps" | tr ',' ' '); do
		visit "$d"
	done
	# shellcheck disable=SC2086
	path=$(modinfo $base -k "$kver" -n "$1")
	[ "$path" = "(builtin)" ] || echo "$path"
}

for m in "$@"; do
	visit "$m"
done
