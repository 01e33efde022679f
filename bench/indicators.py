#!/usr/bin/env python3
"""Benchmark: the indicator catalogue on a synthetic England, Footprint against DuckDB and Polars.

Needs a synthetic dataset (made with `footprint synth --scale S --out DIR` if missing), then:

  catalogue  `footprint indicators compute DIR --out OUT --quiet`: every default indicator,
             every entity and period; wall time, the compute time (after the dataset is
             validated, which `footprint validate` measures on its own) and peak memory.
  headline   the three headline queries, timed inside the same Footprint run (its log gives
             each indicator's seconds) and, --runs times, as DuckDB SQL and as Polars lazy
             queries over the same Parquet files:
               emergency admissions per 1,000 registered by commissioner and month;
               30-day emergency readmission rate by provider (NHS Outcomes Framework 3b);
               indirectly age-sex standardised emergency admission ratio by commissioner.
             Footprint's versions do more (every level, intervals), so the ratios are upper bounds.

The script fails unless all three agree on England's 2024/25 readmission rate and every
commissioner's 2024/25 standardised ratio, to 1e-6. DuckDB and Polars are benchmark peers only, in a
private virtual environment under target/bench.

usage: python3 bench/indicators.py [--scale 1] [--runs 3]
"""
import argparse
import csv
import os
import re
import resource
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peers import ROOT, WORK, ensure, measure_full  # noqa: E402

HEADLINE = ["emergency_admissions_rate", "readmissions_30d", "emergency_admissions_isr"]
GRAIN = {"emergency_admissions_rate": "month", "readmissions_30d": "financial_year",
         "emergency_admissions_isr": "financial_year"}


def duckdb_queries(d, last_day):
    org = f"(SELECT org_code, parent_code FROM read_csv('{d}/organisations.csv', all_varchar = true) WHERE kind = 'gp_practice')"
    band = "CASE WHEN age >= 90 THEN '90+' ELSE CAST((age // 5) * 5 AS VARCHAR) || '-' || CAST((age // 5) * 5 + 4 AS VARCHAR) END"
    return {
        "emergency_admissions_rate": f"""
            WITH num AS (
              SELECT o.parent_code AS c, strftime(a.admission_date, '%Y-%m') AS m, count(*) AS n
              FROM '{d}/admissions.parquet' a JOIN '{d}/patients.parquet' p USING (patient_id)
              JOIN {org} o ON o.org_code = p.practice_code
              WHERE a.method = 'emergency' GROUP BY 1, 2),
            den AS (
              SELECT o.parent_code AS c, p.period AS m, sum(persons) AS persons
              FROM '{d}/population.parquet' p JOIN {org} o ON o.org_code = p.practice_code GROUP BY 1, 2)
            SELECT den.c, den.m, coalesce(n, 0) * 12000.0 / persons AS rate FROM den LEFT JOIN num USING (c, m)""",
        "readmissions_30d": f"""
            WITH a AS (SELECT spell_id, patient_id, provider_code, admission_date, discharge_date, method, discharge_destination
                       FROM '{d}/admissions.parquet'),
            idx AS (SELECT * FROM a WHERE method <> 'maternity' AND discharge_destination <> 'died'
                    AND discharge_date <= DATE '{last_day}' - INTERVAL 30 DAY
                    AND discharge_date BETWEEN DATE '2024-04-01' AND DATE '2025-03-31'),
            hit AS (SELECT DISTINCT i.spell_id FROM idx i JOIN a e ON e.patient_id = i.patient_id AND e.method = 'emergency'
                    AND e.spell_id <> i.spell_id AND e.admission_date BETWEEN i.discharge_date AND i.discharge_date + INTERVAL 30 DAY)
            SELECT provider_code, count(hit.spell_id) AS readmitted, count(*) AS spells FROM idx LEFT JOIN hit USING (spell_id) GROUP BY 1""",
        "emergency_admissions_isr": f"""
            WITH obs AS (
              SELECT o.parent_code AS c, {band.replace('age', '(year(a.admission_date) - p.birth_year)')} AS b, p.sex AS s, count(*) AS n
              FROM '{d}/admissions.parquet' a JOIN '{d}/patients.parquet' p USING (patient_id)
              JOIN {org} o ON o.org_code = p.practice_code WHERE a.method = 'emergency'
              AND a.admission_date BETWEEN DATE '2024-04-01' AND DATE '2025-03-31' GROUP BY 1, 2, 3),
            pop AS (
              SELECT o.parent_code AS c, p.age_band AS b, p.sex AS s, sum(persons) AS persons
              FROM '{d}/population.parquet' p JOIN {org} o ON o.org_code = p.practice_code
              WHERE p.period BETWEEN '2024-04' AND '2025-03' GROUP BY 1, 2, 3),
            ref AS (SELECT pop.b, pop.s, sum(coalesce(n, 0)) / sum(persons) AS r FROM pop LEFT JOIN obs USING (c, b, s) GROUP BY 1, 2)
            SELECT pop.c, 100.0 * sum(coalesce(n, 0)) / sum(persons * r) AS isr
            FROM pop LEFT JOIN obs USING (c, b, s) JOIN ref USING (b, s) GROUP BY 1""",
    }


def polars_queries(pl, d, last_day):
    import datetime
    org = (pl.scan_csv(f"{d}/organisations.csv", infer_schema=False)
           .filter(pl.col("kind") == "gp_practice").select(pl.col("org_code").alias("practice_code"), pl.col("parent_code").alias("c")))
    adm = pl.scan_parquet(f"{d}/admissions.parquet")
    pat = pl.scan_parquet(f"{d}/patients.parquet").select("patient_id", "practice_code", "birth_year", "sex")
    pop = pl.scan_parquet(f"{d}/population.parquet").join(org, on="practice_code")

    def rate():
        num = (adm.filter(pl.col("method") == "emergency").join(pat, on="patient_id").join(org, on="practice_code")
               .group_by("c", pl.col("admission_date").dt.strftime("%Y-%m").alias("m")).agg(pl.len().alias("n")))
        den = pop.group_by("c", pl.col("period").alias("m")).agg(pl.col("persons").sum())
        return den.join(num, on=["c", "m"], how="left").with_columns(
            (pl.col("n").fill_null(0) * 12000.0 / pl.col("persons")).alias("rate")).collect()

    def readmissions():
        last = datetime.date.fromisoformat(last_day) - datetime.timedelta(days=30)
        a = adm.select("spell_id", "patient_id", "provider_code", "admission_date", "discharge_date", "method", "discharge_destination")
        fy = (pl.col("discharge_date") >= datetime.date(2024, 4, 1)) & (pl.col("discharge_date") <= datetime.date(2025, 3, 31))
        idx = a.filter((pl.col("method") != "maternity") & (pl.col("discharge_destination") != "died") & (pl.col("discharge_date") <= last) & fy)
        e = a.filter(pl.col("method") == "emergency").select("patient_id", pl.col("spell_id").alias("e_id"), pl.col("admission_date").alias("e_adm"))
        hit = (idx.join(e, on="patient_id")
               .filter((pl.col("e_id") != pl.col("spell_id")) & (pl.col("e_adm") >= pl.col("discharge_date"))
                       & (pl.col("e_adm") <= pl.col("discharge_date") + pl.duration(days=30)))
               .select("spell_id").unique().with_columns(pl.lit(1).alias("hit")))
        return (idx.join(hit, on="spell_id", how="left").group_by("provider_code")
                .agg(pl.col("hit").sum().alias("readmitted"), pl.len().alias("spells")).collect())

    def isr():
        age = pl.col("admission_date").dt.year() - pl.col("birth_year")
        b = pl.when(age >= 90).then(pl.lit("90+")).otherwise(
            ((age // 5) * 5).cast(pl.Utf8) + pl.lit("-") + ((age // 5) * 5 + 4).cast(pl.Utf8))
        fy = (pl.col("admission_date") >= datetime.date(2024, 4, 1)) & (pl.col("admission_date") <= datetime.date(2025, 3, 31))
        obs = (adm.filter((pl.col("method") == "emergency") & fy).join(pat, on="patient_id").join(org, on="practice_code")
               .group_by("c", b.alias("b"), pl.col("sex").alias("s")).agg(pl.len().alias("n")))
        p = pop.filter((pl.col("period") >= "2024-04") & (pl.col("period") <= "2025-03")).group_by("c", pl.col("age_band").alias("b"), pl.col("sex").alias("s")).agg(pl.col("persons").sum())
        cells = p.join(obs, on=["c", "b", "s"], how="left").with_columns(pl.col("n").fill_null(0))
        ref = cells.group_by("b", "s").agg((pl.col("n").sum() / pl.col("persons").sum()).alias("r"))
        return (cells.join(ref, on=["b", "s"]).group_by("c")
                .agg((100.0 * pl.col("n").sum() / (pl.col("persons") * pl.col("r")).sum()).alias("isr")).collect())

    return {"emergency_admissions_rate": rate, "readmissions_30d": readmissions, "emergency_admissions_isr": isr}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    ensure("duckdb", "polars")
    import duckdb
    import polars as pl

    subprocess.check_call(["cargo", "build", "--release", "--quiet"], cwd=ROOT)
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    binary = os.path.join(target, "release", "footprint")
    data = os.path.join(WORK, f"synth-{args.scale}")
    if not os.path.exists(os.path.join(data, "truth.toml")):
        subprocess.check_call([binary, "synth", "--quiet", "--out", data, "--scale", str(args.scale)])
    last_day = "2025-06-30"

    env = dict(os.environ, FOOTPRINT_LOG="info", NO_COLOR="1")

    def run(cmd):
        return measure_full(cmd, env)

    # Validation on its own: every rule on every row, leaving the receipt that lets the
    # computations below check only the reference tables.
    receipt = os.path.join(data, ".footprint", "validated.toml")
    if os.path.exists(receipt):
        os.remove(receipt)
    v_wall, v_peak, _, _ = run([binary, "validate", "--quiet", "--receipt", data])
    print(f"validate: {v_wall:.1f} s, {v_peak:.0f} MiB", file=sys.stderr)

    # The whole catalogue once, logging each indicator's seconds.
    out = os.path.join(WORK, f"indicators-{args.scale}")
    wall, peak, stdout, stderr = run([binary, "indicators", "compute", "--unsuppressed", "--out", out, data])
    compute_s = float(re.search(r"in ([0-9.]+) s into", stdout).group(1))
    rows = int(re.search(r"\(([0-9]+) rows\)", stdout).group(1))
    print(f"catalogue: {wall:.1f} s wall, {compute_s:.1f} s computing, {peak:.0f} MiB, {rows:,} rows", file=sys.stderr)
    seconds = {m.group(1): float(m.group(2)) for m in re.finditer(r"computed indicator=(\w+) rows=\d+ seconds=([0-9.]+)", stderr)}
    for k, v in sorted(seconds.items(), key=lambda kv: -kv[1]):
        print(f"  {k}: {v:.2f} s", file=sys.stderr)

    # Like for like: each headline indicator alone at the peers' grain, as a whole process
    # (start-up, loading from the receipt, every level from practice to England), --runs times.
    times = {k: [] for k in HEADLINE}
    single = os.path.join(WORK, f"indicators-{args.scale}-single")
    for _ in range(args.runs):
        for ind in HEADLINE:
            w, _, _, _ = run([binary, "indicators", "compute", "--quiet", "--unsuppressed", "--indicator", ind,
                              "--grain", GRAIN[ind], "--out", single, data])
            times[ind].append(w)
    con = duckdb.connect()
    dq = duckdb_queries(data, last_day)
    pq = polars_queries(pl, data, last_day)
    peers = {"duckdb": {k: [] for k in HEADLINE}, "polars": {k: [] for k in HEADLINE}}
    answers = {}
    for run in range(args.runs):
        for ind in HEADLINE:
            t = time.perf_counter()
            answers[("duckdb", ind)] = con.execute(dq[ind]).fetchall()
            peers["duckdb"][ind].append(time.perf_counter() - t)
            t = time.perf_counter()
            answers[("polars", ind)] = pq[ind]()
            peers["polars"][ind].append(time.perf_counter() - t)

    # Agreement: England's readmission rate, and every commissioner's standardised ratio.
    def footprint_rows(ind):
        with open(os.path.join(out, "indicators_unsuppressed.csv")) as f:
            return [r for r in csv.DictReader(f) if r["indicator_id"] == ind]
    fr = [r for r in footprint_rows("readmissions_30d") if r["entity_kind"] == "england" and r["period"] == "2024/25"]
    dd = answers[("duckdb", "readmissions_30d")]
    f_rate, d_rate = float(fr[0]["value"]), 100.0 * sum(r[1] for r in dd) / sum(r[2] for r in dd)
    pp = answers[("polars", "readmissions_30d")]
    p_rate = 100.0 * pp["readmitted"].fill_null(0).sum() / pp["spells"].sum()
    isr_f = {r["entity_code"]: float(r["value"]) for r in footprint_rows("emergency_admissions_isr")
             if r["level"] == "commissioner" and r["period"] == "2024/25" and r["value"]}
    isr_d = {c: v for c, v in answers[("duckdb", "emergency_admissions_isr")]}
    isr_p = dict(zip(answers[("polars", "emergency_admissions_isr")]["c"], answers[("polars", "emergency_admissions_isr")]["isr"]))
    worst = max(max(abs(isr_f[c] - isr_d[c]), abs(isr_f[c] - isr_p[c])) for c in isr_f)
    print(f"check: England readmissions {f_rate:.6f} / {d_rate:.6f} / {p_rate:.6f} (footprint / duckdb / polars); "
          f"commissioners' ratios differ by at most {worst:.2e}", file=sys.stderr)
    if abs(f_rate - d_rate) > 1e-6 or abs(f_rate - p_rate) > 1e-6 or worst > 1e-6 or set(isr_f) != set(isr_d):
        raise SystemExit("the peers disagree with Footprint")

    print(f"\n| what | Footprint median (one indicator, one grain, every level; whole process) | DuckDB median | Polars median | ratio footprint / duckdb | ratio footprint / polars |")
    print("| --- | --- | --- | --- | --- | --- |")
    for ind in HEADLINE:
        f = statistics.median(times[ind])
        d = statistics.median(peers["duckdb"][ind])
        p = statistics.median(peers["polars"][ind])
        print(f"| {ind} | {f:.2f} s | {d:.2f} s | {p:.2f} s | {f / d:.2f} | {f / p:.2f} |")
    print(f"\nvalidate --receipt: {v_wall:.1f} s, peak {v_peak:.0f} MiB")
    print(f"catalogue: {rows:,} rows; {wall:.1f} s wall (from the receipt), {compute_s:.1f} s computing, peak {peak:.0f} MiB")
    print(f"duckdb {duckdb.__version__}, polars {pl.__version__}")


if __name__ == "__main__":
    main()
