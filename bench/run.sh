#!/bin/sh
# run.sh: what `make bench` runs, after the build: the packet-rate matrix
# (bench/pps-bench.sh) in one rig VM boot, then the nested-guest RR/CRR and
# stream runs (bench/e2e-bench.sh) in another, then bench/report.py writes
# bench/RESULTS.md and the plots. Progress lines start with [bench].
# Raw results stay in build/bench-results/.
#
# Environment: BENCH_RUNS (3), BENCH_SECS (3, pps), BENCH_E2E_SECS (5),
# BENCH_ONLY (pps or e2e: only that part; the report uses what is there).
set -eu
cd "$(dirname "$0")/.."
runs=${BENCH_RUNS:-3}
secs=${BENCH_SECS:-3}
esecs=${BENCH_E2E_SECS:-5}
only=${BENCH_ONLY:-}
res=build/bench-results
mkdir -p "$res"
# what is measured is what was built: the commit as the run starts
commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' (with local changes)')"
. qemu-glue/kver.sh
status=0

# part_meta FILE LABEL CMD: which command measured a part, at which
# commit and when; BENCH_ONLY re-runs one part and keeps the other's
part_meta() {
	echo "$2: \`$3\` in the rig VM at $commit, $(date -u '+%Y-%m-%d %H:%M UTC')" >"$res/meta-$1.txt"
}

if [ "$only" != e2e ]; then
	rm -f "$res/pps.txt"
	# 22 workloads on 3 devices, 14 of them on vhost-vdpa mode too and 8
	# on packed rings
	echo "[bench] packet rates: 22 workloads x 3 devices + 14 in vhost-vdpa mode + 8 on packed rings, x $runs runs of ${secs}s (about $((88 * runs * (secs + 2) / 60 + 1)) min)"
	VM_TIMEOUT=$((88 * runs * (secs + 10) + 300)) VM_JOBDIR=$res/pps-vm \
		qemu-glue/vm-run.sh "sh bench/pps-bench.sh -r $runs -t $secs \$JOBDIR/pps.txt" ||
		status=1
	cp "$res/pps-vm/pps.txt" "$res/pps.txt" 2>/dev/null || true
	part_meta pps "packet rates" "sh bench/pps-bench.sh -r $runs -t $secs"
fi
if [ "$only" != pps ]; then
	rm -f "$res/e2e.txt"
	echo "[bench] nested guest: 3 backends x $runs rounds, one boot (1-2 min) each for RR and CRR at 1, 20, 50 sessions and a stream, ${esecs}s each"
	VM_TIMEOUT=$((3 * runs * (600 + 7 * (esecs + 10)) + 300)) VM_JOBDIR=$res/e2e-vm \
		qemu-glue/vm-run.sh "sh bench/e2e-bench.sh -r $runs -t $esecs \$JOBDIR/e2e.txt" ||
		status=1
	cp "$res/e2e-vm/e2e.txt" "$res/e2e.txt" 2>/dev/null || true
	part_meta e2e "nested guest" "sh bench/e2e-bench.sh -r $runs -t $esecs"
fi

{
	echo "report: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "rig kernel: Debian $KVER under QEMU TCG, 2 vCPUs, 4 GiB; nested guest: the same kernel, 2 vCPUs, 1 GiB"
	echo "QEMU: $(qemu-system-x86_64 --version | head -1)"
	echo "host: $(nproc) cores, $(uname -r)"
	echo "commands: \`make bench\` = \`bench/run.sh\` (\`qemu-glue/vm-run.sh\` boots the rig VM), then \`bench/report.py\`"
	cat "$res/meta-pps.txt" "$res/meta-e2e.txt" 2>/dev/null || true
	[ $status = 0 ] || echo "**this run had failures: see the [bench] lines of its log**"
} >"$res/meta.txt"
python3 bench/report.py --pps "$res/pps.txt" --e2e "$res/e2e.txt" \
	--meta "$res/meta.txt" --out bench/RESULTS.md --plots bench
exit $status
