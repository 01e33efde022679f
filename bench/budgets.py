#!/usr/bin/env python3
"""Benchmark: the need model and risk-sharing simulation (issue: new payment systems).

  fit       `footprint budgets fit DIR` on a synthetic England (default scale 1, ~64 million
            registered people, about 61 million registered all year): reading the persons
            through DataFusion, fitting the Poisson GLM by IRLS, scoring everyone; seconds from
            its log, peak memory from wait4.
  simulate  `footprint budgets simulate` of a 10-party gain/loss share for 100,000 years.
  peers     scoring throughput against a NumPy port of the same model on arrays of the same
            size and shape (like for like: gather the age-sex coefficient, add deprivation and
            each condition's coefficient by bit, the count term, exp), and, for context, the
            Python CMS-HCC scorer hccpy on a few thousand people (if it installs).

usage: python3 bench/budgets.py [--scale 1] [--runs 3]
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peers import ROOT, WORK, ensure, measure_full  # noqa: E402

TERMS = """kind = "gain_loss_share"
name = "ten-party bench"
target = 500000000
dead_band = 0.01
dead_band_mode = "excess"
cap = 20000000
collar = 15000000
[minimum_savings_rate]
population = 250000
points = [[5000, 0.039], [10000, 0.030], [60000, 0.020]]
[stop_loss]
attachment = 100000
share = 0.9
funder = "P10"
""" + "".join(f"""[[party]]
name = "P{i}"
gain_share = 0.1
loss_share = 0.1
loss_cap = {1000000 * i}
""" for i in range(1, 10)) + """[[party]]
name = "P10"
remainder = true
[simulation]
demand_cv = 0.02
cost_cv = 0.015
high_cost_patients = 40
high_cost_mean_excess = 50000
[[simulation.shock]]
name = "pandemic"
probability = 0.02
size = 0.08
[[simulation.shock]]
name = "bad winter"
probability = 0.2
size = 0.02
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    ensure("numpy", "hccpy")
    import numpy as np

    subprocess.check_call(["cargo", "build", "--release", "--quiet"], cwd=ROOT)
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    binary = os.path.join(target, "release", "footprint")
    data = os.path.join(WORK, f"synth-{args.scale}")
    if not os.path.exists(os.path.join(data, "truth.toml")):
        subprocess.check_call([binary, "synth", "--quiet", "--out", data, "--scale", str(args.scale)])
    env = dict(os.environ, FOOTPRINT_LOG="info", NO_COLOR="1")
    # Validate once with a receipt, so the fits below read the data, not re-check it.
    measure_full([binary, "validate", "--quiet", "--receipt", data], env)

    fits = []
    for _ in range(args.runs):
        wall, peak, out, err = measure_full([binary, "budgets", "fit", data, "--out", os.path.join(WORK, f"need-{args.scale}")], env)
        m = re.search(r"persons=(\d+) read_s=([0-9.]+) fit_s=([0-9.]+) score_s=([0-9.]+)", err)
        fits.append((wall, peak, int(m.group(1)), float(m.group(2)), float(m.group(3)), float(m.group(4))))
        print(f"fit: {fits[-1]}", file=sys.stderr)
    persons = fits[0][2]
    med = lambda i: statistics.median(f[i] for f in fits)  # noqa: E731

    terms = os.path.join(WORK, "bench-terms.toml")
    with open(terms, "w") as f:
        f.write(TERMS)
    sims = []
    for _ in range(args.runs):
        wall, peak_sim, out, err = measure_full([binary, "budgets", "simulate", terms, "--years", "100000", "--seed", "3"], env)
        sims.append(wall)
    print(out, file=sys.stderr)

    # NumPy port of scoring, on arrays of the same size and shape as the persons.
    rng = np.random.default_rng(1)
    cell = rng.integers(0, 38, persons, dtype=np.uint8)
    dep = rng.random(persons, dtype=np.float32)
    mask = (rng.random((persons, 12)) < 0.08).astype(np.uint64) @ (1 << np.arange(12, dtype=np.uint64))
    base = rng.normal(6, 0.5, 38)
    cond = rng.normal(0.3, 0.2, 12)
    counts = np.array([0.0, 0.0, 0.02, 0.03, 0.04])
    np_times = []
    for _ in range(args.runs):
        t = time.perf_counter()
        eta = base[cell] + 0.45 * dep
        n = np.zeros(persons, dtype=np.int64)
        for k in range(12):
            bit = ((mask >> np.uint64(k)) & np.uint64(1)).astype(bool)
            eta = eta + cond[k] * bit
            n += bit
        eta = eta + counts[np.minimum(n, 4)]
        mu = np.exp(eta)
        np_times.append(time.perf_counter() - t)
        del mu
    np_score = statistics.median(np_times)

    hcc_rate = None
    try:
        from hccpy.hcc import HCCEngine
        he = HCCEngine(version="24")
        codes = ["E119", "I509", "J449", "N183", "F329", "I10", "C509", "F0390", "I4891", "J45909", "I252", "I639"]
        people = [[codes[(i * 7 + j) % 12] for j in range(i % 4)] for i in range(4000)]
        t = time.perf_counter()
        for i, dx in enumerate(people):
            he.profile(dx, age=40 + i % 50, sex="F" if i % 2 else "M", elig="CNA")
        hcc_rate = len(people) / (time.perf_counter() - t)
    except Exception as e:  # noqa: BLE001
        print(f"hccpy not measured: {e}", file=sys.stderr)

    score = med(5)
    print(f"\n| what | data | Footprint median | peak memory | peer | ratio |")
    print("| --- | --- | --- | --- | --- | --- |")
    print(f"| read persons (DataFusion: spells, appointments, conditions, patients) | {persons:,} persons | {med(3):.1f} s | | | |")
    print(f"| fit need model (IRLS) | {persons:,} persons | {med(4):.1f} s | | | |")
    print(f"| score every person | {persons:,} persons | {score:.2f} s ({persons / score / 1e6:.0f} M/s) | | NumPy port {np_score:.2f} s | {score / np_score:.2f} |")
    print(f"| `budgets fit`, whole process | {persons:,} persons | {med(0):.1f} s | {med(1):,.0f} MiB | | |")
    print(f"| simulate 10-party agreement | 100,000 years | {statistics.median(sims):.2f} s | {peak_sim:,.0f} MiB | | |")
    if hcc_rate:
        print(f"\nhccpy (CMS-HCC v24, single thread): {hcc_rate:,.0f} persons/s; Footprint scoring {persons / score:,.0f} persons/s "
              f"(ratio {hcc_rate / (persons / score):.2e}, a different and richer model)")
    print(f"numpy {np.__version__}")


if __name__ == "__main__":
    main()
