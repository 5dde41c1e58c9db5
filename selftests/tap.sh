# tap.sh, sourced: record test programs' TAP results in one folder.
#
# tap_run DIR NAME CMD...   run CMD, show and keep its TAP output as
#                           DIR/NAME.tap; a program that dies or times out
#                           before it reports a failure is itself a failure
# tap_line DIR NAME OK TEXT record one result ("ok" or "not ok")
# tap_summary DIR           print "N passed, N failed[, N skipped]"; fail
#                           when anything failed or nothing ran

tap_run() {
	dir=$1 name=$2
	shift 2
	out=$dir/$name.tap
	{
		timeout -k 10 "${TAP_TIMEOUT:-600}" "$@" 2>&1
		echo "$?" >"$out.rc"
	} | tee "$out"
	rc=$(cat "$out.rc")
	rm -f "$out.rc"
	if [ "$rc" != 0 ] && ! grep -q '^not ok' "$out"; then
		case $rc in
		124 | 137) why="timed out" ;;
		*) why="exited with status $rc" ;;
		esac
		tap_line "$dir" "$name" "not ok" "$name $why"
	fi
	return 0
}

tap_line() {
	echo "$3 - $4" | tee -a "$1/$2.result.tap"
}

tap_summary() {
	cat "$1"/*.tap 2>/dev/null | awk '
		/^ok .*# *[Ss][Kk][Ii][Pp]/ { skip++; next }
		/^ok / { pass++ }
		/^not ok / { fail++ }
		END {
			line = sprintf("%d passed, %d failed", pass, fail)
			if (skip) line = line sprintf(", %d skipped", skip)
			print line
			exit (fail || pass + skip == 0) ? 1 : 0
		}'
}
