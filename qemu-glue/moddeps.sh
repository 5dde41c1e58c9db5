#!/bin/sh
# moddeps.sh KVER MODULE...: print the paths of MODULE and everything it
# depends on, dependencies first, each once, as `modinfo -k KVER` resolves
# them. The host runs another kernel, so modprobe cannot be used here.
set -eu

[ $# -ge 2 ] || { echo "usage: $0 KVER MODULE..." >&2; exit 2; }
kver=$1
shift
seen=" "

visit() {
	case "$seen" in *" $1 "*) return 0 ;; esac
	seen="$seen$1 "
	deps=$(modinfo -k "$kver" -F depends "$1") || {
		echo "moddeps: no module $1 for kernel $kver" >&2
		exit 1
	}
	for d in $(echo "$deps" | tr ',' ' '); do
		visit "$d"
	done
	modinfo -k "$kver" -n "$1"
}

for m in "$@"; do
	visit "$m"
done
