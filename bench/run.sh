#!/bin/sh
# run.sh: what `make bench` runs, after the build: the packet-rate matrix
# (bench/pps-bench.sh) in one rig VM boot, the request/response matrix
# (bench/urr-bench.sh) in another, then the nested-guest RR/CRR and stream
# runs (bench/e2e-bench.sh) in a third, then bench/report.py writes
# bench/RESULTS.md and the plots. Progress lines start with [bench].
# Raw results stay in build/bench-results/.
#
# Environment: BENCH_RUNS (3), BENCH_SECS (3, pps), BENCH_E2E_SECS (5),
# BENCH_ONLY (pps, urr or e2e: only that part; the report uses what is
# there).
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

# part NAME LABEL WHAT SECONDS ESTIMATE_S TIMEOUT_S: bench/NAME-bench.sh
# in a rig VM boot of its own, its raw lines into $res/NAME.txt
part() {
	rm -f "$res/$1.txt"
	echo "[bench] $2: $3 x $runs runs (about $(($5 / 60 + 1)) min)"
	VM_TIMEOUT=$6 VM_JOBDIR=$res/$1-vm \
		qemu-glue/vm-run.sh "sh bench/$1-bench.sh -r $runs -t $4 \$JOBDIR/$1.txt" ||
		status=1
	cp "$res/$1-vm/$1.txt" "$res/$1.txt" 2>/dev/null || true
	part_meta "$1" "$2" "sh bench/$1-bench.sh -r $runs -t $4"
}

# 22 workloads on 3 devices, 14 of them on vhost-vdpa mode too and 8 on
# packed rings
[ -z "$only" ] || [ "$only" = pps ] &&
	part pps "packet rates" "22 workloads x 3 devices + 14 in vhost-vdpa mode + 8 on packed rings, ${secs}s each" "$secs" \
		$((88 * runs * (secs + 2))) $((88 * runs * (secs + 10) + 300))
# 12 workloads on 3 devices
[ -z "$only" ] || [ "$only" = urr ] &&
	part urr "request/response" "12 workloads x 3 devices, ${secs}s each" "$secs" \
		$((36 * runs * (secs + 3))) $((36 * runs * (secs + 10) + 300))
# 3 backends, a boot each per round
[ -z "$only" ] || [ "$only" = e2e ] &&
	part e2e "nested guest" "3 backends, one boot (1-2 min) each for RR and CRR at 1, 20, 50 sessions and a stream, ${esecs}s each" "$esecs" \
		$((3 * runs * (150 + 7 * (esecs + 5)))) $((3 * runs * (600 + 7 * (esecs + 10)) + 300))

{
	echo "report: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "rig kernel: Debian $KVER under QEMU TCG, 2 vCPUs, 4 GiB; nested guest: the same kernel, 2 vCPUs, 1 GiB"
	echo "QEMU: $(qemu-system-x86_64 --version | head -1)"
	echo "host: $(nproc) cores, $(uname -r)"
	echo "commands: \`make bench\` = \`bench/run.sh\` (\`qemu-glue/vm-run.sh\` boots the rig VM), then \`bench/report.py\`"
	cat "$res/meta-pps.txt" "$res/meta-urr.txt" "$res/meta-e2e.txt" 2>/dev/null || true
	[ $status = 0 ] || echo "**this run had failures: see the [bench] lines of its log**"
} >"$res/meta.txt"
python3 bench/report.py --pps "$res/pps.txt" --urr "$res/urr.txt" --e2e "$res/e2e.txt" \
	--meta "$res/meta.txt" --out bench/RESULTS.md --plots bench
exit $status
