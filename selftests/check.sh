#!/bin/sh
# check.sh: everything `make check` runs, after the build: userspace unit
# tests, lint, then the selftests inside the rig VM. Ends with one line
# "N passed, N failed[, N skipped]" over all of them; exits 1 on a failure.
set -u
cd "$(dirname "$0")/.."
. selftests/tap.sh

results=build/results
rm -rf "$results"
mkdir -p "$results"

echo "== unit tests (host)"
for t in build/unit/*_test; do
	[ -x "$t" ] || continue
	tap_run "$results" "unit-$(basename "$t")" "$t"
done

echo "== lint"
for l in sparse checkpatch; do
	if make --no-print-directory "$l" >"$results/$l.log" 2>&1; then
		tap_line "$results" lint ok "lint: $l clean"
	else
		cat "$results/$l.log"
		tap_line "$results" lint "not ok" "lint: $l reported problems (above)"
	fi
done

echo "== selftests (VM)"
vmjob=$results/vm
if VM_JOBDIR=$vmjob qemu-glue/vm-run.sh 'selftests/run-vm.sh'; then
	tap_line "$results" rig ok "VM run: no hang, no panic, kernel log clean"
else
	tap_line "$results" rig "not ok" "VM run: see the [rig] FAIL lines above"
fi
cp "$vmjob"/tap/*.tap "$results/" 2>/dev/null

echo "== summary"
tap_summary "$results"
