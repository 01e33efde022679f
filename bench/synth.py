#!/usr/bin/env python3
"""Benchmark: generating a synthetic England with `footprint synth`.

For each --scales value, runs `footprint synth --quiet --out DIR --scale S` --runs times
(the same seed, so every run writes the same bytes) and reports the median wall time, the
rows written per second, the peak resident memory (from wait4) and the size on disk; then
runs `footprint synth --report DIR` once and prints the calibration report, failing if
any figure at scale 1 is outside its range.

The issue names no peer: nothing else generates this dataset.

usage: python3 bench/synth.py [--scales 0.1 1] [--runs 3]
"""
import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peers import ROOT, WORK, measure  # noqa: E402


def size_mib(path):
    return sum(os.path.getsize(os.path.join(path, f)) for f in os.listdir(path)) / 2**20


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scales", type=float, nargs="+", default=[0.1, 1.0])
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    subprocess.check_call(["cargo", "build", "--release", "--quiet"], cwd=ROOT)
    binary = os.path.join(ROOT, "target", "release", "footprint")
    rows_pattern = re.compile(r"^(\d+) rows in ")
    results = []
    for scale in args.scales:
        out = os.path.join(WORK, f"synth-{scale}")
        times, peaks, rows = [], [], None
        for run in range(args.runs):
            seconds, peak, stdout = measure([binary, "synth", "--quiet", "--out", out, "--scale", str(scale)])
            times.append(seconds)
            peaks.append(peak)
            rows = int(next(m.group(1) for line in stdout.splitlines() if (m := rows_pattern.match(line))))
            print(f"scale {scale} run {run + 1}: {seconds:.1f} s, {peak:.0f} MiB", file=sys.stderr)
        seconds_report, peak_report, report = measure([binary, "synth", "--report", out])
        print(report)
        median = statistics.median(times)
        results.append({
            "scale": scale,
            "rows": rows,
            "runs": args.runs,
            "median_s": round(median, 2),
            "rows_per_s": round(rows / median),
            "peak_mib": round(max(peaks)),
            "disk_mib": round(size_mib(out)),
            "report_s": round(seconds_report, 2),
            "report_peak_mib": round(peak_report),
            "all_inside": "every figure is inside its range" in report,
        })
        if scale == 1.0 and not results[-1]["all_inside"]:
            raise SystemExit("calibration at scale 1 has figures outside their range")
    print(json.dumps({"machine": f"{platform.machine()}, {os.cpu_count()} cores", "results": results}, indent=2))
    print("\n| scale | rows | median wall time | rows/s | peak memory | on disk | report |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for r in results:
        print(f"| {r['scale']} | {r['rows']:,} | {r['median_s']} s | {r['rows_per_s'] / 1e6:.2f} million | "
              f"{r['peak_mib']} MiB | {r['disk_mib']:,} MiB | {r['report_s']} s, {r['report_peak_mib']} MiB |")


if __name__ == "__main__":
    main()
