#!/usr/bin/env python3
"""Reference values for `footprint capacity beds` and `footprint capacity formula`, computed
independently of Footprint with SciPy: Erlang B as the truncated Poisson ratio
pmf(N; A) / cdf(N; A) (not Footprint's recursion), the Poisson peak from scipy.stats.poisson.sf,
the NHP formulas as the NHP model writes them (NumPy's round-half-even).

    python3 bench/capacity_reference.py > crates/capacity/tests/data/reference.json

The capacity crate's tests read the file and match every case (integers exactly, floats to
1e-6 relative, probabilities to 1e-8)."""
import json
import math

import numpy as np
from scipy.stats import norm, poisson


def erlang_b(n, a):
    if a == 0:
        return 1.0 if n == 0 else 0.0
    # log-space truncated Poisson: B = pmf(n) / cdf(n)
    return float(math.exp(poisson.logpmf(n, a) - poisson.logcdf(n, a)))


def beds(r):
    bed_days = r["admissions_per_year"] * r["mean_los_days"]
    a = bed_days / r["days_per_year"]
    exact = a / r["target_occupancy"]
    ceil = math.ceil(exact)
    n = 0
    while erlang_b(n, a) > r["erlang_b_target_blocking"]:
        n += 1
    b = erlang_b(n, a)
    if a == 0:
        m = 0
    else:
        m = int(poisson.ppf(1 - r["poisson_exceedance_target"], a))
        # ppf is the smallest m with cdf(m) >= 1 - target; step to the exact definition
        while m > 0 and poisson.sf(m - 1, a) <= r["poisson_exceedance_target"]:
            m -= 1
        while poisson.sf(m, a) > r["poisson_exceedance_target"]:
            m += 1
    return {
        "bed_days": bed_days,
        "mean_occupied_beds": a,
        "beds_fixed_occupancy_exact": exact,
        "beds_fixed_occupancy_ceil": ceil,
        "beds_erlang_b": n,
        "erlang_b_blocking_at_beds_erlang_b": b,
        "erlang_b_blocking_at_fixed_occupancy_ceil": erlang_b(ceil, a),
        "implied_occupancy_erlang_b": a * (1 - b) / n if n else 0.0,
        "beds_poisson_peak": m,
        "poisson_exceedance_at_beds_poisson_peak": float(poisson.sf(m, a)) if a else 0.0,
    }


BEDS = [
    # (admissions, LOS, occupancy, blocking, exceedance, days): pools from a small
    # maternity unit to a very large acute trust, and the edges
    (40000, 5.5, 0.92, 0.01, 0.01, 365),
    (40000, 5.5, 0.85, 0.001, 0.001, 365),
    (3000, 2.5, 0.75, 0.01, 0.01, 365),
    (1500, 4.0, 0.80, 0.01, 0.005, 365),
    (5000, 1.8, 0.80, 0.02, 0.02, 366),
    (300000, 6.0, 0.92, 0.01, 0.01, 365),
    (10, 1.0, 0.85, 0.05, 0.05, 365),
    (0, 5.0, 0.85, 0.01, 0.01, 365),
    (12345, 3.3, 0.9, 0.03, 0.025, 365),
    (800, 10.0, 0.85, 0.1, 0.1, 365),
]


def main():
    out = {"beds": [], "formula": []}
    for adm, los, occ, blk, exc, days in BEDS:
        r = {
            "admissions_per_year": adm,
            "mean_los_days": los,
            "target_occupancy": occ,
            "erlang_b_target_blocking": blk,
            "poisson_exceedance_target": exc,
            "days_per_year": days,
        }
        out["beds"].append({"request": r, "response": beds(r)})
    for model, kh03, base, occ in [(420.0, 380.0, 400.0, 0.92), (55.5, 48.0, 50.0, 0.85), (1000.0, 0.0, 900.0, 0.9), (101.0, 92.0, 100.0, 0.92)]:
        v = model * kh03 / (base * occ)
        out["formula"].append({
            "name": "nhp_bed_scaling",
            "request": {"model_mean_daily_beddays": model, "kh03_occupied": kh03, "baseline_mean_daily_beddays": base, "target_occupancy": occ},
            "response": {"beds": v, "beds_rounded": int(np.round(v))},
        })
    for att, mins, weeks, hours, util in [(120000, 240, 52, 168, 0.85), (45000, 180, 52.14, 84, 0.75)]:
        out["formula"].append({
            "name": "nhp_aae_spaces",
            "request": {"attendances": att, "assumed_los_mins": mins, "operating_weeks_per_year": weeks, "operating_hours_per_week": hours, "utilisation_rate": util},
            "response": {"spaces": att * mins / 60 / (weeks * hours * util)},
        })
    q = 2 * norm.ppf(0.9)
    for lo, hi in [(0.01, 0.03), (-0.02, 0.05), (1.0, 1.0)]:
        out["formula"].append({
            "name": "nhp_interval_to_normal",
            "request": {"low_p10": lo, "high_p90": hi},
            # the NHP model's constant is 2.563103 (2·Φ⁻¹(0.9) to six places)
            "response": {"mean": (lo + hi) / 2, "sd": (hi - lo) / 2.563103},
            "sd_exact_quantile": (hi - lo) / q,
        })
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
