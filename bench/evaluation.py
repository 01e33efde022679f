#!/usr/bin/env python3
"""Real-time evaluation at scale: every site x every outcome x every month since the start
(synthetic control with placebos, DiD and ITS), timed as a whole process, and the planted
vanguard effects of truth.toml set beside the estimates.

    python3 bench/evaluation.py --scale 1 --runs 3

Generates synthetic England at the scale (once, cached under /tmp), computes the published table
once (`indicators compute`), writes a sites file with the planted vanguards and null sites (whole
systems with no vanguard and no planted signal, and a list of practices of another commissioner),
then times `footprint evaluate sites --sites ... --results ... --history` over five monthly outcomes
`runs` times (median wall time, peak memory from /usr/bin/time). Prints one row for BENCHMARKS.md
and, for every site and outcome, the latest DiD effect with its 95% interval, the synthetic-control
effect and placebo p, the ITS effect, what each method calls, and whether the planted effect (zero
for a null site) is inside the DiD interval.
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
# Every monthly catalogue outcome a site can be evaluated on: emergency admissions (where the
# planted effect is) at practice level; readmissions at commissioner level; bed occupancy,
# delayed discharges and A&E four-hour performance at system level (for whole-system sites).
ap.add_argument("--outcome", action="append", default=None)
ap.add_argument("--null-systems", type=int, default=3)
ap.add_argument("--bin", default=os.path.join(os.environ.get("CARGO_TARGET_DIR", "target"), "release", "footprint"))
a = ap.parse_args()

root = f"/tmp/footprint-bench-evaluation-{a.scale}-{a.seed}"
data, results = os.path.join(root, "data"), os.path.join(root, "results")
if not os.path.exists(os.path.join(data, "truth.toml")):
    subprocess.run([a.bin, "-q", "synth", "--out", data, "--scale", str(a.scale), "--seed", str(a.seed)], check=True)
if not os.path.exists(os.path.join(results, "indicators.parquet")):
    subprocess.run([a.bin, "indicators", "compute", "--quiet", "--out", results, data], check=True,
                   stdout=subprocess.DEVNULL)

# The sites: the planted vanguards (truth.toml) and null sites with no planted effect, which no
# method should call: whole systems that host no vanguard and no planted signal, and a list of
# practices of a commissioner outside them.
truth_all = tomllib.load(open(os.path.join(data, "truth.toml"), "rb"))
vanguards = truth_all["vanguard"]
planted = {v["system_code"] for v in vanguards if "system_code" in v}
planted |= {c["system_code"] for c in truth_all.get("challenged_system", [])}
signal_orgs = {x.get("org_code") for k in ("step_change", "outlier") for x in truth_all.get(k, [])}
import csv
orgs = list(csv.DictReader(open(os.path.join(data, "organisations.csv"))))
system_orgs = {}
for o in orgs:
    if o["system_code"]:
        system_orgs.setdefault(o["system_code"], set()).add(o["org_code"])
vanguard_practices = {p for v in vanguards for p in v.get("practice_codes", [])}
quiet = sorted(sys_ for sys_, members in system_orgs.items()
               if sys_ not in planted and not (members & signal_orgs) and not (members & vanguard_practices))
null_systems = quiet[:: max(1, len(quiet) // a.null_systems)][: a.null_systems]
practice_commissioner = {o["org_code"]: o["parent_code"] for o in orgs if o["kind"] == "gp_practice"}
commissioners = sorted({c for p, c in practice_commissioner.items()
                        if c and any(c in system_orgs.get(x, set()) for x in quiet if x not in null_systems)})
by_commissioner = {}
for p, c in sorted(practice_commissioner.items()):
    by_commissioner.setdefault(c, []).append(p)
null_commissioner = next(c for c in commissioners if len(by_commissioner.get(c, [])) >= 20)
start = vanguards[0]["start"]
sites_path = os.path.join(root, "sites.toml")
with open(sites_path, "w") as f:
    f.write("format = 1\n")
    for i, v in enumerate(vanguards, start=1):
        f.write(f'\n[[site]]\nid = "vanguard-{i}"\nmodel = "{v["model"]}"\nstart = "{v["start"]}"\n')
        if "system_code" in v:
            f.write(f'system = "{v["system_code"]}"\n')
        else:
            f.write("practices = [" + ", ".join(f'"{p}"' for p in v["practice_codes"]) + "]\n")
    for sys_ in null_systems:
        f.write(f'\n[[site]]\nid = "null-{sys_}"\nmodel = "none"\nstart = "{start}"\nsystem = "{sys_}"\n')
    ps = by_commissioner[null_commissioner][:15]
    f.write(f'\n[[site]]\nid = "null-{null_commissioner}-practices"\nmodel = "none"\nstart = "{start}"\n'
            "practices = [" + ", ".join(f'"{p}"' for p in ps) + "]\n")

outcomes = a.outcome or ["emergency_admissions_rate", "readmissions_30d", "bed_occupancy",
                         "delayed_discharge_days", "ae_4h"]
walls, peaks, out = [], [], None
for _ in range(a.runs):
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-f", "%M", a.bin, "-q", "evaluate", "sites", data, "--results", results,
                        "--history", "--format", "json", "--sites", sites_path] + [x for o in outcomes for x in ("--outcome", o)],
                       capture_output=True, text=True, check=True)
    walls.append(time.perf_counter() - t0)
    peaks.append(int(p.stderr.strip().splitlines()[-1]))
    out = json.loads(p.stdout)

runs = out["runs"]
print(f"evaluate sites --history, scale {a.scale}: {len(out['sites'])} sites x {len(outcomes)} outcomes, "
      f"{len(out['protocols'])} protocols, {len(runs)} runs; median {statistics.median(walls):.1f} s "
      f"(runs {', '.join(f'{w:.1f}' for w in walls)}), peak {max(peaks) / 1024:.0f} MiB")
for p in out["problems"]:
    print(f"  not evaluated: {p}")
# The planted effect is on emergency admissions only; every other outcome should not be called.
sites = [(f"vanguard-{i}", v["model"], v["relative_effect"]) for i, v in enumerate(vanguards, start=1)]
sites += [(s_["id"], "none", 0.0) for s_ in out["sites"] if s_["id"].startswith("null-")]
for site, model, eff in sites:
    for outcome in outcomes:
        mine = [r for r in runs if r["site"] == site and r["outcome"] == outcome]
        if not mine:
            continue
        r = mine[-1]
        d, s, its = r["difference_in_differences"], r["synthetic_control"], r["interrupted_time_series"]
        planted = eff if outcome == "emergency_admissions_rate" else None
        line = f"{site} {model} {outcome} as of {r['as_of']}: planted {planted if planted is None else f'{planted:+.3f}'}"
        if d:
            line += f"; DiD {d['relative_effect']:+.3f} ({d['lower']:+.3f} to {d['upper']:+.3f})"
            if planted is not None:
                line += " inside" if d["lower"] <= planted <= d["upper"] else " OUTSIDE"
        if s:
            line += f"; SC {s['relative_effect']:+.3f} (p {s['p_value']:.3f})"
        if its:
            line += f"; ITS {its['relative_effect']:+.3f} ({its['lower']:+.3f} to {its['upper']:+.3f})"
        line += f"; called {sorted(k for k, v in r['significant'].items() if v)}"
        if r["problems"]:
            line += "; problems: " + "; ".join(r["problems"])
        print(line)
sys.exit(0)
