#!/usr/bin/env python3
"""Benchmark: the stats crate against a vectorised NumPy/SciPy port, on the same data.

  spc     XmR charts (Making Data Count rules, NHSRplotthedots defaults) over --series
          series of --points points each;
  funnel  funnel limits with over-dispersion over --units units, twice: a SHMI-style
          standardised ratio (log scale, truncation) and a proportion (arcsine scale,
          Winsorisation), each with exact Poisson and over-dispersed 95%/99.8% limits.

The data are generated here with NumPy (seed 1) and written as raw little-endian f64 files;
both sides read them, time only the computation (median of --runs), and report checksums
(special-cause counts by rule; phi, tau2, outliers and the sum of the Poisson limits), which
must agree, so the two sides provably did the same work. Peak memory is each process's
maximum resident set (wait4). NumPy and SciPy are benchmark peers only, installed into a
private virtual environment under target/bench; they are never runtime dependencies.

usage: python3 bench/stats.py [--series 100000] [--points 36] [--units 10000] [--runs 5]
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peers import ROOT, WORK, ensure, measure  # noqa: E402


def generate(d, series, points, units):
    import numpy as np
    rng = np.random.default_rng(1)
    os.makedirs(d, exist_ok=True)
    y = rng.normal(50.0, 5.0, size=(series, points))
    # Plant signals: a step up in the last 9 points of every 10th series, a trend in every
    # 17th, a spike in every 23rd.
    y[::10, -9:] += 9.0
    y[::17, 10:18] = 40.0 + 2.5 * np.arange(8)
    y[::23, 20] += 30.0
    y = np.round(y, 1)
    y.astype("<f8").tofile(os.path.join(d, "spc.f64"))
    with open(os.path.join(d, "spc.shape"), "w") as f:
        f.write(f"{series} {points}\n")
    e = np.round(rng.lognormal(np.log(400.0), 0.8, size=units), 2) + 5.0
    effect = rng.normal(1.0, 0.08, size=units)
    o = np.maximum(rng.poisson(e * effect), 1).astype(float)
    o.astype("<f8").tofile(os.path.join(d, "funnel_sr_o.f64"))
    e.astype("<f8").tofile(os.path.join(d, "funnel_sr_e.f64"))
    n = np.round(rng.lognormal(np.log(2000.0), 0.7, size=units)) + 20.0
    p = np.clip(rng.normal(0.11, 0.015, size=units), 0.01, 0.9)
    x = rng.binomial(n.astype(int), p).astype(float)
    x.astype("<f8").tofile(os.path.join(d, "funnel_pr_o.f64"))
    n.astype("<f8").tofile(os.path.join(d, "funnel_pr_n.f64"))


# --- The NumPy/SciPy port -------------------------------------------------------------


def spc_numpy(y):
    import numpy as np
    from numpy.lib.stride_tricks import sliding_window_view as win
    s, p = y.shape

    def mean(x, keep=None):
        # R's mean() (and Footprint's): sequential sum over the count, then the mean of the
        # residuals added, so values equal to the mean compare equal on both sides.
        keep = np.ones(x.shape, bool) if keep is None else keep
        k = keep.sum(1, keepdims=True)
        m = np.where(keep, x, 0.0).cumsum(1)[:, -1:] / k
        return m + np.where(keep, x - m, 0.0).cumsum(1)[:, -1:] / k

    mean_ = mean(y)
    mr = np.abs(np.diff(y, axis=1))
    amr = mean(mr)
    amr = mean(mr, mr < 3.267 * amr)
    mean = mean_
    lpl, upl = mean - 2.66 * amr, mean + 2.66 * amr
    c = 2 * (2.66 / 3)
    nlpl, nupl = mean - c * amr, mean + c * amr
    outside = (y > upl) | (y < lpl)
    rtm = np.sign(y - mean)
    near = ~outside & ((y < nlpl) | (y > nupl))

    def part_of(end, length):
        pad = np.concatenate([end, np.zeros((s, length - 1), bool)], 1)
        return win(pad, length, axis=1).any(2)

    d = np.sign(np.diff(y, axis=1))
    w = win(d, 6, axis=1)
    trend_end = np.zeros((s, p), bool)
    trend_end[:, 6:] = (w == 1).all(2) | (w == -1).all(2)
    in_trend = part_of(trend_end, 7)
    wr = win(rtm, 7, axis=1)
    run_end = np.zeros((s, p), bool)
    run_end[:, 6:] = (wr != 0).all(2) & (wr == wr[:, :, -1:]).all(2)
    in_run = part_of(run_end, 7)
    q = (win(near, 3, axis=1).sum(2) >= 2) & (np.abs(win(rtm, 3, axis=1).sum(2)) == 3)
    qp = np.concatenate([np.zeros((s, 2), bool), q, np.zeros((s, 2), bool)], 1)
    in_two = win(qp, 3, axis=1).any(2) & near
    cause = np.select([outside, in_trend, in_two, in_run], [1, 2, 3, 4], 0)
    return np.bincount(cause.ravel(), minlength=5)


def funnel_numpy(o, e, kind):
    import numpy as np
    from scipy.stats import chi2, rankdata
    rr = o / e
    if kind == "sr":
        target, tt = 1.0, 0.0
        s = 1 / np.sqrt(e)
        z = np.sqrt(e) * np.log(rr)
        k = 1 / 0.1
        sp = np.floor(rankdata(z) * k / (len(z) + 1))
        keep = (sp > 0) & (sp < k - 1)
        wz, sk = z[keep], s[keep]
    else:
        target = o.sum() / e.sum()
        tt = np.arcsin(np.sqrt(target))
        s = 1 / (2 * np.sqrt(e))
        z = (np.arcsin(np.sqrt(rr)) - tt) / s
        lz, uz = np.quantile(z, [0.1, 0.9])
        wz, sk = np.clip(z, lz, uz), s
    n = len(wz)
    phi = (wz ** 2).sum() / n
    if n * phi < n - 1:
        tau2 = 0.0
    else:
        w = 1 / sk ** 2
        tau2 = max(0.0, (n * phi - (n - 1)) / (w.sum() - (w ** 2).sum() / w.sum()))
    l998 = target * chi2.isf(0.999, 2 * e) / 2 / e
    u998 = target * chi2.isf(0.001, 2 * (e + 1)) / 2 / e
    sd = np.sqrt(s ** 2 + tau2)
    if kind == "sr":
        ol, ou = np.exp(tt - 3.090232 * sd), np.exp(tt + 3.090232 * sd)
    else:
        ol = np.sin(np.clip(tt - 3.090232 * sd, 0, np.pi / 2)) ** 2
        ou = np.sin(np.clip(tt + 3.090232 * sd, 0, np.pi / 2)) ** 2
    jl, ju = (ol, ou) if tau2 > 0 else (l998, u998)
    outliers = int(((rr < jl) | (rr > ju)).sum())
    return {"units": len(o), "phi": phi, "tau2": tau2, "outliers998": outliers,
            "sum_poisson_ucl998": float(u998.sum())}


def peer(d, runs):
    import numpy as np
    series, points = map(int, open(os.path.join(d, "spc.shape")).read().split())
    y = np.fromfile(os.path.join(d, "spc.f64"), dtype="<f8").reshape(series, points)
    f = {k: np.fromfile(os.path.join(d, f"funnel_{k}.f64"), dtype="<f8")
         for k in ["sr_o", "sr_e", "pr_o", "pr_n"]}
    spc_times, funnel_times = [], []
    for _ in range(runs):
        t = time.perf_counter()
        counts = spc_numpy(y)
        spc_times.append(time.perf_counter() - t)
        t = time.perf_counter()
        checks = {"sr": funnel_numpy(f["sr_o"], f["sr_e"], "sr"), "pr": funnel_numpy(f["pr_o"], f["pr_n"], "pr")}
        funnel_times.append(time.perf_counter() - t)
    out = {"spc_series": series, "spc_points": points, "spc_median_s": sorted(spc_times)[runs // 2],
           "spc_counts": dict(zip(["common", "outside", "trend", "two_in_three", "run"], map(int, counts))),
           "funnel_median_s": sorted(funnel_times)[runs // 2]}
    out.update(checks)
    print(json.dumps(out))


# --- The orchestration ---------------------------------------------------------------


def bench_binary():
    out = subprocess.check_output(
        ["cargo", "bench", "-p", "stats", "--bench", "stats", "--no-run", "--message-format=json"],
        cwd=ROOT, stderr=subprocess.DEVNULL)
    for line in out.decode().splitlines():
        msg = json.loads(line)
        if msg.get("reason") == "compiler-artifact" and msg.get("executable") and msg["target"]["name"] == "stats" \
                and "bench" in msg["target"]["kind"]:
            return msg["executable"]
    raise SystemExit("could not find the stats bench executable")


def measured(cmd):
    """Runs cmd, returns (parsed JSON stdout, peak RSS in MiB)."""
    _, peak, out = measure(cmd)
    return json.loads(out), peak


def close(a, b):
    return abs(a - b) <= 1e-9 * max(abs(a), abs(b), 1e-300)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--series", type=int, default=100_000)
    ap.add_argument("--points", type=int, default=36)
    ap.add_argument("--units", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--peer", nargs=2, metavar=("DIR", "RUNS"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    ensure("numpy", "scipy")
    if args.peer:
        return peer(args.peer[0], int(args.peer[1]))
    import numpy
    import scipy

    d = os.path.join(WORK, f"stats-{args.series}x{args.points}-{args.units}")
    if not os.path.exists(os.path.join(d, "spc.shape")):
        generate(d, args.series, args.points, args.units)
    binary = bench_binary()
    rust, rust_mib = measured([binary, d, str(args.runs)])
    numpy_out, numpy_mib = measured([sys.executable, os.path.abspath(__file__), "--peer", d, str(args.runs)])

    assert rust["spc_counts"] == numpy_out["spc_counts"], (rust["spc_counts"], numpy_out["spc_counts"])
    for kind in ["sr", "pr"]:
        for k in ["units", "outliers998"]:
            assert rust[kind][k] == numpy_out[kind][k], (kind, k, rust[kind], numpy_out[kind])
        for k in ["phi", "tau2", "sum_poisson_ucl998"]:
            assert close(rust[kind][k], numpy_out[kind][k]), (kind, k, rust[kind], numpy_out[kind])

    print(json.dumps({
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
                   f"numpy {numpy.__version__}, scipy {scipy.__version__}",
        "spc_series": args.series, "spc_points": args.points, "funnel_units": args.units, "runs": args.runs,
        "spc_counts": rust["spc_counts"],
        "footprint_spc_median_s": round(rust["spc_median_s"], 4),
        "numpy_spc_median_s": round(numpy_out["spc_median_s"], 4),
        "ratio_spc_footprint_over_numpy": round(rust["spc_median_s"] / numpy_out["spc_median_s"], 2),
        "footprint_funnel_median_s": round(rust["funnel_median_s"], 4),
        "numpy_funnel_median_s": round(numpy_out["funnel_median_s"], 4),
        "ratio_funnel_footprint_over_numpy": round(rust["funnel_median_s"] / numpy_out["funnel_median_s"], 2),
        "footprint_peak_mib": round(rust_mib),
        "numpy_peak_mib": round(numpy_mib),
        "checks_agree": True,
    }, indent=2))


if __name__ == "__main__":
    main()
