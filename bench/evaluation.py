#!/usr/bin/env python3
"""Real-time evaluation at scale: every site x every outcome x every month since the start
(synthetic control with placebos, DiD and ITS), timed as a whole process, and the planted
vanguard effects of truth.toml set beside the estimates.

    python3 bench/evaluation.py --scale 1 --runs 3

Generates synthetic England at the scale (once, cached under /tmp), computes the published table
once (`indicators compute`), then times `footprint evaluate sites --results ... --history` `runs`
times (median wall time, peak memory from /usr/bin/time). Prints one row for BENCHMARKS.md and,
for every site, the latest DiD effect with its 95% interval, the synthetic-control effect and
placebo p, and whether the planted effect is inside the interval.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import tomllib

ap = argparse.ArgumentParser()
ap.add_argument("--scale", type=float, default=1.0)
ap.add_argument("--seed", type=int, default=7)
ap.add_argument("--runs", type=int, default=3)
ap.add_argument("--bin", default=os.path.join(os.environ.get("CARGO_TARGET_DIR", "target"), "release", "footprint"))
a = ap.parse_args()

root = f"/tmp/footprint-bench-evaluation-{a.scale}-{a.seed}"
data, results = os.path.join(root, "data"), os.path.join(root, "results")
if not os.path.exists(os.path.join(data, "truth.toml")):
    subprocess.run([a.bin, "-q", "synth", "--out", data, "--scale", str(a.scale), "--seed", str(a.seed)], check=True)
if not os.path.exists(os.path.join(results, "indicators.parquet")):
    subprocess.run([a.bin, "indicators", "compute", "--quiet", "--out", results, data], check=True,
                   stdout=subprocess.DEVNULL)

walls, peaks, out = [], [], None
for _ in range(a.runs):
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-f", "%M", a.bin, "-q", "evaluate", "sites", data, "--results", results,
                        "--history", "--format", "json"], capture_output=True, text=True, check=True)
    walls.append(time.perf_counter() - t0)
    peaks.append(int(p.stderr.strip().splitlines()[-1]))
    out = json.loads(p.stdout)

truth = tomllib.load(open(os.path.join(data, "truth.toml"), "rb"))["vanguard"]
runs = out["runs"]
print(f"evaluate sites --history, scale {a.scale}: {len(out['sites'])} sites, {len(out['protocols'])} protocols, "
      f"{len(runs)} runs; median {statistics.median(walls):.1f} s, peak {max(peaks) / 1024:.0f} MiB")
for i, t in enumerate(truth, start=1):
    site = f"vanguard-{i}"
    mine = [r for r in runs if r["site"] == site]
    if not mine:
        print(f"{site}: not evaluated")
        continue
    r = mine[-1]
    d, s = r["difference_in_differences"], r["synthetic_control"]
    eff = t["relative_effect"]
    line = f"{site} {t['model']}: planted {eff:+.3f}"
    if d:
        inside = d["lower"] <= eff <= d["upper"]
        line += f"; DiD {d['relative_effect']:+.3f} ({d['lower']:+.3f} to {d['upper']:+.3f}) {'inside' if inside else 'OUTSIDE'}"
    if s:
        line += f"; SC {s['relative_effect']:+.3f} (p {s['p_value']:.3f})"
    print(line + ("; problems: " + "; ".join(r["problems"]) if r["problems"] else ""))
sys.exit(0)
