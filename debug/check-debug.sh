#!/bin/sh
# check-debug.sh: what `make check-debug` runs. Builds the debug kernel
# once (debug/build-kernel.sh: KASAN, lockdep, kmemleak, atomic-sleep
# checks, failslab), builds vhost_mq.ko against it, and runs every VM
# selftest under it. Fails on a failed test and on any kernel report:
# KASAN, lockdep, WARN, BUG, hung task, or an object kmemleak finds
# unreferenced at the end (qemu-glue/vm-run.sh reads them). Ends with one
# line "N passed, N failed". Results in build/results-debug/. The soak
# moves DEBUG_SOAK_FRAMES (1000000) frames here, not 10 million, and the
# memory table is replaced DEBUG_MEMTABLE_SWAPS (40) times under traffic,
# not 200: each replacement waits for the worker's run, which this kernel
# makes 40-70 times slower for both devices (measured with
# RIG_ONLY=lifecycle_test: vhost-net 131 ms a table, vhost-mq about 230;
# on Debian's kernel 3.2 and 3.4 ms), so 200 do not fit the harness's 30 s.
# The ioctl fuzzer runs DEBUG_FUZZ_SECS (300) on each device, 10 minutes.
# RIG_ONLY="datapath_test ..." runs only those programs.
set -u
cd "$(dirname "$0")/.."
. selftests/tap.sh

cache=$(debug/build-kernel.sh) || { echo "check-debug: no debug kernel" >&2; exit 1; }
. "$cache/env"
echo "== debug kernel $DBG_KVER ($cache)"

# our module, built against it in a copy of the sources (kbuild writes
# its objects beside them, and the plain build's are in vhost/)
src=$PWD/build/debug/src
rm -rf "$src"
mkdir -p "$src"
cp Kbuild "$src/"
for d in vhost virtio uapi/linux; do
	mkdir -p "$src/$d"
	cp "$d"/*.h "$src/$d/"
	[ "$d" = vhost ] && cp vhost/*.c vhost/Kbuild "$src/$d/"
done
make -s -C "$DBG_KDIR" M="$src" modules || { echo "check-debug: module build failed" >&2; exit 1; }

results=build/results-debug
rm -rf "$results"
mkdir -p "$results"
echo "== selftests under the debug kernel (VM; slower: KASAN and lockdep under TCG)"
vmjob=$results/vm
if VM_DEBUG_KERNEL=$cache VM_MODULE=$src/vhost/vhost_mq.ko \
	VM_TIMEOUT=${DEBUG_VM_TIMEOUT:-4800} VM_JOBDIR=$vmjob \
	qemu-glue/vm-run.sh "RIG_ONLY='${RIG_ONLY:-}' VMQ_KO=$src/vhost/vhost_mq.ko SOAK_FRAMES=${DEBUG_SOAK_FRAMES:-1000000} IOCTL_FUZZ_SECS=${DEBUG_FUZZ_SECS:-300} MEMTABLE_SWAPS=${DEBUG_MEMTABLE_SWAPS:-40} RIG_TEST_TIMEOUT=1500 selftests/run-vm.sh"; then
	tap_line "$results" rig ok "debug VM run: no hang, no panic, no KASAN/lockdep/kmemleak/WARN report"
else
	tap_line "$results" rig "not ok" "debug VM run: see the [rig] FAIL lines above"
fi
cp "$vmjob"/tap/*.tap "$results/" 2>/dev/null
echo "== summary (debug kernel)"
tap_summary "$results"
