#!/bin/sh
# run-vm.sh: run every selftest program inside the rig VM (vm-run.sh puts
# us in the project folder, with JOBDIR shared back to the host). Results
# go to $JOBDIR/tap/; failures are recorded there, not in the exit status.
# RIG_ONLY="soak_test dpdk_test ..." runs only the programs it names.
set -u
[ -n "${RIG:-}" ] || { echo "run-vm.sh runs inside the VM: use 'make selftests'" >&2; exit 2; }
. selftests/tap.sh

only() {
	case " ${RIG_ONLY:-$1} " in *" $1 "*) return 0 ;; esac
	return 1
}

results=$JOBDIR/tap
mkdir -p "$results"
# a program's time limit: datapath_test (160 cases, both devices) took
# 290 s alone in a quiet rig on the slower of the machines CI runs on
limit=${RIG_TEST_TIMEOUT:-600}
for t in build/selftests/*_test; do
	name=$(basename "$t")
	only "$name" || continue
	echo "[rig] test program $name"
	TAP_TIMEOUT=$limit tap_run "$results" "$name" "$t"
done
for t in selftests/*_test.sh; do
	[ -e "$t" ] || continue
	name=$(basename "$t" .sh)
	only "$name" || continue
	echo "[rig] test script $name"
	TAP_TIMEOUT=$limit tap_run "$results" "$name" sh "$t"
done
