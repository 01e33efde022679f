"""Cross-check: how an independent reader (DuckDB) types every column of a synthetic England.

    python3 bench/parquet_types.py [DATASET]     default: target/bench/synth-0.01 (made if missing)

DuckDB reads each Parquet table from the file's own Parquet schema; every contract column must
come back in the type its values mean: timestamps as TIMESTAMP (not BIGINT seconds), dates as
DATE, text as VARCHAR, identifiers as BIGINT or VARCHAR, amounts as DOUBLE or BIGINT. It also
checks that the A&E arrival times fall inside the dataset's window when read as times.
Exit code 1 names every column read wrongly. DuckDB is a peer for checking, never a runtime
dependency: it is installed into target/bench/venv on first use (bench/peers.py).
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peers  # noqa: E402

peers.ensure("duckdb")
import duckdb  # noqa: E402

# What the contract's columns mean, for the synthetic Parquet tables (docs/data-contract.md).
TIMESTAMP = {"arrival", "departure", "decision_to_admit"}
DATE = {
    "registered_from", "registered_to", "diagnosed_on", "admission_date", "discharge_date",
    "date", "died_on", "responded_on",
}
IDS = {"patient_id", "spell_id", "attendance_id", "appointment_id", "response_id"}


def main():
    data = sys.argv[1] if len(sys.argv) > 1 else os.path.join(peers.WORK, "synth-0.01")
    if not os.path.exists(os.path.join(data, "truth.toml")):
        target = os.environ.get("CARGO_TARGET_DIR", os.path.join(peers.ROOT, "target"))
        exe = os.path.join(target, "release", "footprint")
        if not os.path.exists(exe):
            exe = os.path.join(target, "debug", "footprint")
        subprocess.check_call([exe, "-q", "synth", "--out", data, "--scale", "0.01"])
    con = duckdb.connect()
    wrong = []
    checked = 0
    for name in sorted(os.listdir(data)):
        if not name.endswith(".parquet"):
            continue
        path = os.path.join(data, name)
        for column, kind, *_ in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{path}')").fetchall():
            checked += 1
            if column in TIMESTAMP:
                ok = kind.startswith("TIMESTAMP") and "TIME ZONE" not in kind
            elif column in DATE:
                ok = kind == "DATE"
            elif column in IDS:
                ok = kind in ("BIGINT", "VARCHAR")
            elif kind in ("BIGINT", "DOUBLE", "BOOLEAN", "VARCHAR", "INTEGER"):
                ok = True
            else:
                ok = False
            print(f"{name:24} {column:22} {kind:12} {'ok' if ok else 'WRONG'}")
            if not ok:
                wrong.append(f"{name}.{column}: {kind}")
    lo, hi = con.execute(
        f"SELECT min(arrival), max(arrival) FROM read_parquet('{os.path.join(data, 'ae_attendances.parquet')}')"
    ).fetchone()
    print(f"arrivals from {lo} to {hi}")
    if not (1990 < lo.year and hi.year < 2100):
        wrong.append(f"arrival read as {lo}..{hi}")
    print(f"{checked} columns read by DuckDB {duckdb.__version__}; {len(wrong)} wrong")
    if wrong:
        print("\n".join(wrong), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
