#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""report.py: turn the raw lines of bench/pps-bench.sh and bench/e2e-bench.sh
into bench/RESULTS.md (medians, spread, ratios to upstream vhost-net) and
PNG plots drawn by gnuplot.

  report.py --pps PPS.txt --e2e E2E.txt --meta META.txt --out bench/RESULTS.md
            --plots bench/

Every figure is the median of the runs; the spread is min..max. A ratio is
median(ours) / median(upstream), both measured in the same VM boot.
"""
import argparse
import os
import statistics
import subprocess
import sys
from collections import defaultdict

DEVICES = ["vhost-net", "vhost-mq", "vhost-mq-dev"]
DEV_NAMES = {
    "vhost-net": "vhost-net (upstream)",
    "vhost-mq": "vhost-mq compat",
    "vhost-mq-dev": "vhost-mq device mode",
}
# vhost-mq's device mode again, set up through its vhost-vdpa frontend as
# QEMU 7.2 does (every address an IOVA): the plain tx and rx rows only
VDPA = "vhost-mq-vdpa"
# vhost-mq compat on packed rings: tx and rx of 64 and 1500 B, 1 and 2 pairs
PACKED = "vhost-mq-packed"
BACKENDS = ["vhost-mq", "vhost-net", "off"]
BACKEND_NAMES = {
    "vhost-mq": "vhost-mq",
    "vhost-net": "vhost-net (upstream)",
    "off": "QEMU vhost=off",
}


def med(xs):
    return statistics.median(xs) if xs else None


def spread(xs):
    if not xs:
        return "-"
    return "%s..%s" % (fmt(min(xs)), fmt(max(xs)))


def fmt(x):
    if x is None:
        return "-"
    if x >= 100000:
        return "%.0fk" % (x / 1000)
    if x >= 10000:
        return "%.1fk" % (x / 1000)
    if x >= 100:
        return "%.0f" % x
    return "%.2f" % x


def ratio(a, b):
    if a is None or not b:
        return "-"
    return "%.2fx" % (a / b)


def read_pps(path):
    """(dev, dir, pairs, size) -> {"fps": [...], "gbps": [...], "ns": [...]}"""
    data = defaultdict(lambda: defaultdict(list))
    if not path or not os.path.exists(path):
        return data
    for line in open(path):
        f = line.split()
        if len(f) != 9 or f[0] != "pps":
            continue
        key = (f[1], f[2], int(f[3]), int(f[4]))
        data[key]["fps"].append(float(f[6]))
        data[key]["gbps"].append(float(f[7]))
        data[key]["ns"].append(float(f[8]))
    return data


def read_e2e(path):
    """(backend, mode, sessions) -> {"v": [...], "p50": [...], "p99": [...]}"""
    data = defaultdict(lambda: defaultdict(list))
    if not path or not os.path.exists(path):
        return data
    for line in open(path):
        f = line.split()
        if len(f) != 8 or f[0] != "e2e":
            continue
        key = (f[1], f[2], int(f[3]))
        data[key]["v"].append(float(f[5]))
        data[key]["p50"].append(float(f[6]))
        data[key]["p99"].append(float(f[7]))
    return data


def read_urr(path):
    """(dev, pairs, outstanding, busy_us) -> {"rt", "p50", "p99", "p999", "ns": [...]}"""
    data = defaultdict(lambda: defaultdict(list))
    if not path or not os.path.exists(path):
        return data
    for line in open(path):
        f = line.split()
        if len(f) != 11 or f[0] != "urr":
            continue
        key = (f[1], int(f[2]), int(f[3]), int(f[4]))
        for i, k in enumerate(("rt", "p50", "p99", "p999", "ns")):
            data[key][k].append(float(f[6 + i]))
    return data


def urr_tables(urr):
    """Round trips/s, latency and worker CPU per round trip, per device."""
    rows = sorted({k[1:] for k in urr})
    if not rows:
        return ["No request/response results.", ""]
    out = ["| pairs | outstanding | busy poll us | vhost-net round trips/s | "
           "vhost-mq compat | ratio | vhost-mq device | ratio | "
           "p50 / p99 / p999 us (net) | (compat) | (device) | "
           "worker ns/round trip (net / compat / device) | runs |",
           "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for w in rows:
        m = {dev: {k: med(urr[(dev,) + w][k]) for k in ("rt", "p50", "p99", "p999", "ns")}
             for dev in DEVICES}
        lat = ["%s / %s / %s" % (fmt(m[dev]["p50"]), fmt(m[dev]["p99"]), fmt(m[dev]["p999"]))
               for dev in DEVICES]
        runs = min(len(urr[(dev,) + w]["rt"]) for dev in DEVICES)
        out.append("| %d | %d | %d | %s (%s) | %s (%s) | **%s** | %s (%s) | **%s** | "
                   "%s | %s | %s | %s / %s / %s | %d |" % (
                       w[0], w[1], w[2],
                       fmt(m["vhost-net"]["rt"]), spread(urr[("vhost-net",) + w]["rt"]),
                       fmt(m["vhost-mq"]["rt"]), spread(urr[("vhost-mq",) + w]["rt"]),
                       ratio(m["vhost-mq"]["rt"], m["vhost-net"]["rt"]),
                       fmt(m["vhost-mq-dev"]["rt"]), spread(urr[("vhost-mq-dev",) + w]["rt"]),
                       ratio(m["vhost-mq-dev"]["rt"], m["vhost-net"]["rt"]),
                       lat[0], lat[1], lat[2],
                       fmt(m["vhost-net"]["ns"]), fmt(m["vhost-mq"]["ns"]),
                       fmt(m["vhost-mq-dev"]["ns"]), runs))
    out.append("")
    return out


def pps_tables(pps):
    out = []
    workloads = sorted({k[1:] for k in pps},
                       key=lambda w: (w[0], w[1], w[2]))
    if not workloads:
        return ["No packet-rate results.", ""]
    out.append("| direction | pairs | frame B | vhost-net frames/s | vhost-mq compat | "
               "ratio | vhost-mq device | ratio | vhost-mq vhost-vdpa | ratio | "
               "Gbit/s (net / mq / dev) | worker ns/frame (net / mq / dev / vdpa) | runs |")
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for w in workloads:
        d, p, s = w
        m = {dev: med(pps[(dev,) + w]["fps"]) for dev in DEVICES}
        g = {dev: med(pps[(dev,) + w]["gbps"]) for dev in DEVICES}
        ns = {dev: med(pps[(dev,) + w]["ns"]) for dev in DEVICES + [VDPA]}
        vdpa = med(pps[(VDPA,) + w]["fps"])
        runs = min(len(pps[(dev,) + w]["fps"]) for dev in DEVICES)
        out.append("| %s | %d | %d | %s (%s) | %s (%s) | **%s** | %s (%s) | **%s** | %s (%s) | **%s** | %s / %s / %s | %s / %s / %s / %s | %d |" % (
            d, p, s,
            fmt(m["vhost-net"]), spread(pps[("vhost-net",) + w]["fps"]),
            fmt(m["vhost-mq"]), spread(pps[("vhost-mq",) + w]["fps"]),
            ratio(m["vhost-mq"], m["vhost-net"]),
            fmt(m["vhost-mq-dev"]), spread(pps[("vhost-mq-dev",) + w]["fps"]),
            ratio(m["vhost-mq-dev"], m["vhost-net"]),
            fmt(vdpa), spread(pps[(VDPA,) + w]["fps"]), ratio(vdpa, m["vhost-net"]),
            fmt(g["vhost-net"]), fmt(g["vhost-mq"]), fmt(g["vhost-mq-dev"]),
            fmt(ns["vhost-net"]), fmt(ns["vhost-mq"]), fmt(ns["vhost-mq-dev"]),
            fmt(ns[VDPA]), runs))
    out.append("")
    # scaling: aggregate at N pairs over 1 pair, 64-byte frames
    out.append("Scaling, 64-byte frames, aggregate frames/s at N pairs over 1 pair "
               "(the rig VM has 2 vCPUs):")
    out.append("")
    out.append("| direction | pairs | vhost-net | vhost-mq compat | vhost-mq device |")
    out.append("|---|---:|---:|---:|---:|")
    for d in ("tx", "rx"):
        for p in (2, 4):
            cells = []
            for dev in DEVICES:
                one = med(pps[(dev, d, 1, 64)]["fps"])
                n = med(pps[(dev, d, p, 64)]["fps"])
                cells.append(ratio(n, one))
            if any(c != "-" for c in cells):
                out.append("| %s | 1 -> %d | %s |" % (d, p, " | ".join(cells)))
    out.append("")
    # the device IOTLB's cost: the same workload with ACCESS_PLATFORM over without
    out.append("The device IOTLB (VIRTIO_F_ACCESS_PLATFORM, all memory in one static "
               "mapping): frames/s with it over frames/s without, 1 pair (target: "
               "vhost-mq not below 0.90x):")
    out.append("")
    out.append("| direction | frame B | vhost-net | vhost-mq compat | vhost-mq device | "
               "vhost-mq / vhost-net with the IOTLB |")
    out.append("|---|---:|---:|---:|---:|---:|")
    for d in ("tx", "rx"):
        for s in (64, 1500):
            cells = []
            for dev in DEVICES:
                cells.append(ratio(med(pps[(dev, d + "-iotlb", 1, s)]["fps"]),
                                   med(pps[(dev, d, 1, s)]["fps"])))
            both = ratio(med(pps[("vhost-mq", d + "-iotlb", 1, s)]["fps"]),
                         med(pps[("vhost-net", d + "-iotlb", 1, s)]["fps"]))
            if any(c != "-" for c in cells):
                out.append("| %s | %d | %s | %s |" % (d, s, " | ".join(cells), both))
    out.append("")
    out += packed_table(pps)
    return out


def packed_table(pps):
    """vhost-mq compat on packed rings against its split rings and vhost-net's."""
    rows = sorted({k[1:] for k in pps if k[0] == PACKED},
                  key=lambda w: (w[0], w[1], w[2]))
    if not rows:
        return []
    out = ["Packed rings (VIRTIO_F_RING_PACKED, vhost-mq compat; vhost-net has none): "
           "frames/s and the workers' CPU per frame against vhost-mq's split rings "
           "and vhost-net's (target: tx 64 B worker ns/frame packed at most 0.75x "
           "of split):", ""]
    out.append("| direction | pairs | frame B | vhost-mq packed frames/s | / vhost-mq split | "
               "/ vhost-net | worker ns/frame (packed / split / net) | ns packed / split | runs |")
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for w in rows:
        d, p, sz = w
        f = {dev: med(pps[(dev,) + w]["fps"]) for dev in (PACKED, "vhost-mq", "vhost-net")}
        ns = {dev: med(pps[(dev,) + w]["ns"]) for dev in (PACKED, "vhost-mq", "vhost-net")}
        runs = len(pps[(PACKED,) + w]["fps"])
        out.append("| %s | %d | %d | %s (%s) | **%s** | %s | %s / %s / %s | **%s** | %d |" % (
            d, p, sz, fmt(f[PACKED]), spread(pps[(PACKED,) + w]["fps"]),
            ratio(f[PACKED], f["vhost-mq"]), ratio(f[PACKED], f["vhost-net"]),
            fmt(ns[PACKED]), fmt(ns["vhost-mq"]), fmt(ns["vhost-net"]),
            ratio(ns[PACKED], ns["vhost-mq"]), runs))
    out.append("")
    return out


def e2e_tables(e2e):
    out = []
    if not e2e:
        return ["No end-to-end results.", ""]
    out.append("| workload | sessions | vhost-mq | vhost-net | QEMU vhost=off | "
               "mq / net | mq / off | p50 / p99 us (mq) | p50 / p99 us (net) | "
               "p50 / p99 us (off) | runs |")
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for mode in ("rr", "crr", "stream"):
        sess = sorted({k[2] for k in e2e if k[1] == mode})
        for n in sess:
            v = {b: med(e2e[(b, mode, n)]["v"]) for b in BACKENDS}
            lat = {}
            for b in BACKENDS:
                if mode == "stream" or not e2e[(b, mode, n)]["v"]:
                    lat[b] = "-"
                else:
                    lat[b] = "%.0f / %.0f" % (med(e2e[(b, mode, n)]["p50"]),
                                              med(e2e[(b, mode, n)]["p99"]))
            runs = min(len(e2e[(b, mode, n)]["v"]) for b in BACKENDS)
            unit = " Mbit/s" if mode == "stream" else " tps"
            label = {"rr": "TCP_RR 1/1 B", "crr": "TCP_CRR 1/1 B",
                     "stream": "TCP stream (iperf3)"}[mode]
            out.append("| %s | %d | %s | %s | %s | **%s** | **%s** | %s | %s | %s | %d |" % (
                label, n,
                "%s%s (%s)" % (fmt(v["vhost-mq"]), unit, spread(e2e[("vhost-mq", mode, n)]["v"])),
                "%s (%s)" % (fmt(v["vhost-net"]), spread(e2e[("vhost-net", mode, n)]["v"])),
                "%s (%s)" % (fmt(v["off"]), spread(e2e[("off", mode, n)]["v"])),
                ratio(v["vhost-mq"], v["vhost-net"]),
                ratio(v["vhost-mq"], v["off"]),
                lat["vhost-mq"], lat["vhost-net"], lat["off"], runs))
    out.append("")
    return out


def target_row(what, got, want):
    """One target: the measured ratios (compat / device or a single one)."""
    vals = [g for g in got if g is not None]
    if not vals:
        return "| %s | - | %.1fx | not measured |" % (what, want)
    met = all(v >= want for v in vals)
    return "| %s | %s | %.1fx | %s |" % (
        what, " / ".join("%.2fx" % v for v in vals), want,
        "met" if met else "**not met**")


def targets(pps, e2e):
    """The issue's targets, each a median ratio from this run's data."""
    def r(num, den):
        return num / den if num is not None and den else None

    def pm(dev, d, p, s):
        return med(pps[(dev, d, p, s)]["fps"])

    out = ["| target | measured (compat / device mode) | wanted | |",
           "|---|---:|---:|---|"]
    for d, label in (("tx", "guest -> host"), ("rx", "host -> guest")):
        for size, want in ((64, 1.5), (1500, 1.0)):
            out.append(target_row(
                "%d-byte frames, %s, 1 pair, over vhost-net" % (size, label),
                [r(pm(dev, d, 1, size), pm("vhost-net", d, 1, size))
                 for dev in ("vhost-mq", "vhost-mq-dev")], want))
    for d in ("tx", "rx"):
        out.append(target_row(
            "1 -> 2 pairs, 64-byte frames, %s, aggregate (vhost-net: %s)" % (
                d, ratio(pm("vhost-net", d, 2, 64), pm("vhost-net", d, 1, 64))),
            [r(pm(dev, d, 2, 64), pm(dev, d, 1, 64))
             for dev in ("vhost-mq", "vhost-mq-dev")], 1.9))
    for mode, label in (("rr", "TCP_RR"), ("crr", "TCP_CRR")):
        for n in (1, 20, 50):
            v = {b: med(e2e[(b, mode, n)]["v"]) for b in BACKENDS}
            out.append(target_row("nested guest %s, %d session%s, over vhost-net" % (label, n, "s" if n > 1 else ""),
                                  [r(v["vhost-mq"], v["vhost-net"])], 1.0))
            out.append(target_row("nested guest %s, %d session%s, over QEMU vhost=off" % (label, n, "s" if n > 1 else ""),
                                  [r(v["vhost-mq"], v["off"])], 3.0))
    out.append("")
    return out


def targets2(pps, urr):
    """Performance round 2's targets: worker CPU per frame, frames/s and
    request/response, each a ratio of vhost-net's median over ours (CPU,
    latency) or ours over vhost-net's (rates), so that higher is better."""
    def r(num, den):
        return num / den if num is not None and den else None

    def pm(dev, d, s, k="fps"):
        return med(pps[(dev, d, 1, s)][k])

    def um(dev, busy, k="rt"):
        return med(urr[(dev, 1, 1, busy)][k])

    both = ("vhost-mq", "vhost-mq-dev")
    out = ["| target | measured (compat / device mode) | wanted | |",
           "|---|---:|---:|---|"]
    out.append(target_row("tx 64 B, 1 pair: vhost-net's worker ns/frame over ours",
                          [r(pm("vhost-net", "tx", 64, "ns"), pm(d, "tx", 64, "ns")) for d in both], 1.5))
    out.append(target_row("tx 64 B, 1 pair: frames/s over vhost-net",
                          [r(pm(d, "tx", 64), pm("vhost-net", "tx", 64)) for d in both], 1.5))
    for s in (64, 1500):
        out.append(target_row("rx %d B, 1 pair: vhost-net's worker ns/frame over ours" % s,
                              [r(pm("vhost-net", "rx", s, "ns"), pm(d, "rx", s, "ns")) for d in both], 1.3))
        out.append(target_row("rx %d B, 1 pair: frames/s over vhost-net" % s,
                              [r(pm(d, "rx", s), pm("vhost-net", "rx", s)) for d in both], 1.0))
    out.append(target_row("request/response, 1 outstanding, 1 pair: round trips/s over vhost-net",
                          [r(um(d, 0), um("vhost-net", 0)) for d in both], 1.2))
    out.append(target_row("request/response, 1 outstanding, 1 pair: vhost-net's p99 over ours",
                          [r(um("vhost-net", 0, "p99"), um(d, 0, "p99")) for d in both], 1.0))
    out.append(target_row("request/response, 1 outstanding, 1 pair, busy poll 50 us: round "
                          "trips/s over vhost-net's with busy poll",
                          [r(um(d, 50), um("vhost-net", 50)) for d in both], 1.2))
    out.append("")
    return out


def gnuplot(script, plots):
    try:
        subprocess.run(["gnuplot"], input=script.encode(), check=True,
                       cwd=plots)
    except (OSError, subprocess.CalledProcessError) as e:
        print("report: gnuplot failed: %s" % e, file=sys.stderr)
        return False
    return True


def plots_pps(pps, plots):
    made = []
    # frames/s vs pairs, 64 B, and vs frame size, 1 pair
    for what, xs, keyf, xlabel, name in (
            ("pairs", (1, 2, 4), lambda dev, d, x: (dev, d, x, 64),
             "queue pairs (64-byte frames)", "pps-pairs.png"),
            ("size", (64, 512, 1500, 9000), lambda dev, d, x: (dev, d, 1, x),
             "frame bytes (1 pair)", "pps-size.png")):
        dat = os.path.join(plots, name.replace(".png", ".dat"))
        have = False
        with open(dat, "w") as f:
            f.write("# x " + " ".join("%s_%s" % (d, dev) for d in ("tx", "rx")
                                      for dev in DEVICES) + "\n")
            for x in xs:
                row = []
                for d in ("tx", "rx"):
                    for dev in DEVICES:
                        v = med(pps[keyf(dev, d, x)]["fps"])
                        have |= v is not None
                        row.append("%.0f" % v if v is not None else "NaN")
                f.write("%d %s\n" % (x, " ".join(row)))
        if not have:
            continue
        logx = "set logscale x 2\n" if what == "size" else ""
        script = """set terminal pngcairo size 1000,450 font ",10"
set output '%s'
set multiplot layout 1,2 title 'frames/s, median of runs, same VM boot (TCG)'
set grid
set key top right
set yrange [0:*]
%sset xlabel '%s'
set ylabel 'frames/s'
set xtics (%s)
set title 'guest -> host (tx)'
plot '%s' u 1:2 w lp lw 2 t 'vhost-net', '' u 1:3 w lp lw 2 t 'vhost-mq compat', '' u 1:4 w lp lw 2 t 'vhost-mq device'
set title 'host -> guest (rx, pktgen)'
plot '%s' u 1:5 w lp lw 2 t 'vhost-net', '' u 1:6 w lp lw 2 t 'vhost-mq compat', '' u 1:7 w lp lw 2 t 'vhost-mq device'
unset multiplot
""" % (name, logx, xlabel, ", ".join(str(x) for x in xs),
            os.path.basename(dat), os.path.basename(dat))
        if gnuplot(script, plots):
            made.append(name)
    return made


def plots_e2e(e2e, plots):
    dat = os.path.join(plots, "rr.dat")
    sess = sorted({k[2] for k in e2e if k[1] in ("rr", "crr")})
    if not sess:
        return []
    with open(dat, "w") as f:
        f.write("# sessions " + " ".join("%s_%s" % (m, b) for m in ("rr", "crr")
                                         for b in BACKENDS) + "\n")
        for n in sess:
            row = []
            for m in ("rr", "crr"):
                for b in BACKENDS:
                    v = med(e2e[(b, m, n)]["v"])
                    row.append("%.1f" % v if v is not None else "NaN")
            f.write("%d %s\n" % (n, " ".join(row)))
    script = """set terminal pngcairo size 1000,450 font ",10"
set output 'rr.png'
set multiplot layout 1,2 title 'transactions/s vs sessions, nested guest, median of runs (TCG in TCG)'
set grid
set key top left
set yrange [0:*]
set xlabel 'sessions'
set ylabel 'transactions/s'
set xtics (%s)
set title 'TCP\\_RR (1-byte request and response)'
plot 'rr.dat' u 1:2 w lp lw 2 t 'vhost-mq', '' u 1:3 w lp lw 2 t 'vhost-net', '' u 1:4 w lp lw 2 t 'QEMU vhost=off'
set title 'TCP\\_CRR (connect, request, response, close)'
plot 'rr.dat' u 1:5 w lp lw 2 t 'vhost-mq', '' u 1:6 w lp lw 2 t 'vhost-net', '' u 1:7 w lp lw 2 t 'QEMU vhost=off'
unset multiplot
""" % ", ".join(str(n) for n in sess)
    return ["rr.png"] if gnuplot(script, plots) else []


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pps")
    ap.add_argument("--e2e")
    ap.add_argument("--urr")
    ap.add_argument("--meta")
    ap.add_argument("--out", required=True)
    ap.add_argument("--plots", required=True)
    a = ap.parse_args()
    pps = read_pps(a.pps)
    e2e = read_e2e(a.e2e)
    urr = read_urr(a.urr)
    meta = open(a.meta).read().strip().splitlines() if a.meta and os.path.exists(a.meta) else []
    made = plots_pps(pps, a.plots) + plots_e2e(e2e, a.plots)

    md = ["# Benchmark results", ""]
    md.append("Written by `make bench` (bench/run.sh, bench/report.py). Every figure is the "
              "median of the runs, with min..max in brackets; every ratio is the median of "
              "ours over the median of upstream `vhost_net.ko`, measured in the same VM boot "
              "by the same tool. The rig VM runs under TCG on a 2-core machine shared with "
              "other work: absolute figures mean little, ratios are what to read.")
    md.append("")
    md += ["- " + m for m in meta]
    md.append("")
    md.append("## Targets (issue: beat upstream vhost-net)")
    md.append("")
    md.append("Each a ratio of medians from the tables below. What was tried, what each "
              "change gave and why some targets stay out of reach on this rig: "
              "[LOG.md](LOG.md).")
    md.append("")
    md += targets(pps, e2e)
    md.append("## Targets (issue: performance round 2)")
    md.append("")
    md.append("CPU and latency as vhost-net's median over ours, rates as ours over "
              "vhost-net's: higher is better everywhere.")
    md.append("")
    md += targets2(pps, urr)
    md.append("## Packet rate per queue pair (fake guest, `build/bench/pps`)")
    md.append("")
    md.append("tx: guest -> host, the frames dropped by IPv4 in the host's namespace; "
              "tx-uring: read back and checked byte by byte by an io_uring sink; "
              "rx: host -> guest, frames from pktgen (one kernel thread per tap queue); "
              "rx-uring: from an io_uring generator on a packet socket. Worker CPU per "
              "frame is the device threads' CPU time over the frames moved.")
    md.append("")
    md += pps_tables(pps)
    md.append("## Request/response through the backend (fake guest, `build/bench/urr`)")
    md.append("")
    md.append("The guest keeps N small UDP requests (64-byte frames) in flight per pair "
              "on its tx ring; one UDP socket in the host's namespace echoes each back "
              "through the tap; the guest sleeps on its rx call eventfd and sends a "
              "slot's next request when its reply arrives. Round trips/s, latency "
              "percentiles over every round trip of the interval, and the workers' "
              "CPU (schedstat runtime) per round trip; busy poll: "
              "`VHOST_SET_VRING_BUSYLOOP_TIMEOUT` on every vring.")
    md.append("")
    md += urr_tables(urr)
    md.append("## Nested guest: TCP_RR, TCP_CRR (`build/bench/rr`) and a TCP stream (iperf3)")
    md.append("")
    md.append("An unmodified QEMU (TCG inside the TCG rig VM) with a 2-pair virtio-net, "
              "`ethtool -L combined 2`; the guest serves, the rig VM is the client. "
              "vhost-mq and vhost-net go through `vhost-mq-qemu`; vhost=off is QEMU's own "
              "datapath.")
    md.append("")
    md += e2e_tables(e2e)
    if made:
        md.append("## Plots")
        md.append("")
        for p in made:
            md.append("![%s](%s)" % (p, p))
            md.append("")
    with open(a.out, "w") as f:
        f.write("\n".join(md).rstrip() + "\n")
    print("report: wrote %s and %d plots" % (a.out, len(made)))


if __name__ == "__main__":
    main()
