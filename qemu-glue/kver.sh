# kver.sh, sourced: set KVER to the Debian kernel the VM boots (the newest
# installed /boot/vmlinuz-*-amd64) unless the caller set it.
if [ -z "${KVER:-}" ]; then
	KVER=$(ls /boot/vmlinuz-*-amd64 2>/dev/null | sed 's|^/boot/vmlinuz-||' |
		sort -V | tail -n 1)
fi
[ -n "$KVER" ] || {
	echo "no Debian kernel in /boot: run 'make deps'" >&2
	exit 1
}
