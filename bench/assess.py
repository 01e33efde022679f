#!/usr/bin/env python3
"""Benchmark: assessing every organisation and system for one period (the policy packs).

Needs a synthetic England (made with `footprint synth` if missing) and its indicators: this
script computes the whole catalogue once with --unsuppressed (not timed here; see
bench/indicators.py), then runs `footprint assess` with all four shipped packs --runs times and
reports the median wall time and peak memory, with the phases from the log.

usage: python3 bench/assess.py [--scale 1] [--runs 3]
"""
import argparse
import os
import re
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peers import ROOT, WORK, measure_full  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    subprocess.check_call(["cargo", "build", "--release", "--quiet"], cwd=ROOT)
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    binary = os.path.join(target, "release", "footprint")
    data = os.path.join(WORK, f"synth-{args.scale}")
    if not os.path.exists(os.path.join(data, "truth.toml")):
        subprocess.check_call([binary, "synth", "--quiet", "--out", data, "--scale", str(args.scale)])
    env = dict(os.environ, FOOTPRINT_LOG="info", NO_COLOR="1")
    ind = os.path.join(WORK, f"assess-indicators-{args.scale}")
    wall, peak, out, _ = measure_full([binary, "indicators", "compute", "--quiet", "--unsuppressed", "--out", ind, data], env)
    rows = int(re.search(r"\(([0-9]+) rows\)", out).group(1))
    print(f"indicators: {rows:,} rows in {wall:.1f} s", file=sys.stderr)
    runs = []
    for _ in range(args.runs):
        wall, peak, out, err = measure_full(
            [binary, "assess", "--indicators", ind, "--dataset", data, "--pack", "sof-2016", "--pack", "nof-2025",
             "--pack", "ccg-iaf-2016", "--pack", "system-2015", "--out", os.path.join(WORK, f"assess-{args.scale}")], env)
        phases = {m.group(1): float(m.group(2)) for m in re.finditer(r"INFO ([a-z ,]+) seconds=([0-9.]+)", err)}
        runs.append((wall, peak, phases, out))
        print(f"assess: {wall:.2f} s, {peak:.0f} MiB {phases}", file=sys.stderr)
    wall = statistics.median(r[0] for r in runs)
    peak = statistics.median(r[1] for r in runs)
    counts = [l for l in runs[0][3].splitlines() if ":" in l and "assessed" in l]
    assessed = sum(int(re.search(r": (\d+) assessed", l).group(1)) for l in counts)
    print("\n| what | data | median wall time | peak memory |")
    print("| --- | --- | --- | --- |")
    print(f"| `assess`, four packs (sof-2016, nof-2025, ccg-iaf-2016, system-2015) | {rows:,} indicator rows; {assessed} assessments | {wall:.2f} s | {peak:,.0f} MiB |")
    for l in counts:
        print(f"  {l}")


if __name__ == "__main__":
    main()
