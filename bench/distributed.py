#!/usr/bin/env python3
"""Benchmark: the indicator engine embedded against a Ballista cluster on this machine.

Builds footprint with the `distributed` feature (release), then for each scale (a synthetic
England made with `footprint synth --scale S` if missing, in target/bench/synth-S):

  embedded   `footprint indicators compute DIR --out OUT` in one process;
  1 executor and 2 executors
             the same with `--engine df://127.0.0.1:PORT`, against `footprint cluster
             scheduler` and one or two `footprint cluster executor` processes started for the
             run (each executor gets --concurrency equal to the cores / executors, so the
             cluster never has more task slots than the machine has cores), stopped after it.

Each is run --runs times; the median wall time is reported, with peak resident memory: the
client's (from wait4) and the executors' (VmHWM of each executor process, summed), and what
the executors still hold on disk when the run ends (shuffle files not yet cleaned up). The
published tables of every run are compared with the embedded one row by row (values to
1e-9, the same suppression); the script fails if they differ.

--what catalogue (every indicator) or headline (the three headline indicators).

usage: python3 bench/distributed.py [--scales 1] [--runs 3] [--what catalogue]
"""
import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peers import ROOT, WORK, ensure, measure_full  # noqa: E402

HEADLINE = ["emergency_admissions_rate", "readmissions_30d", "emergency_admissions_isr"]


def free_pair():
    """A free loopback port whose next port is free too (an executor takes both)."""
    while True:
        a = socket.socket()
        a.bind(("127.0.0.1", 0))
        port = a.getsockname()[1]
        b = socket.socket()
        try:
            b.bind(("127.0.0.1", port + 1))
            return port
        except OSError:
            pass
        finally:
            a.close()
            b.close()


def wait_for(port, procs):
    start = time.time()
    while True:
        for p in procs:
            if p.poll() is not None:
                raise SystemExit(f"a cluster process exited ({p.returncode}) before port {port} listened")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            if time.time() - start > 60:
                raise SystemExit(f"nothing listened on {port}")
            time.sleep(0.1)


def hwm_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


class Cluster:
    def __init__(self, binary, executors, logs):
        self.procs = []
        self.executors = []
        self.work = []
        port = free_pair()
        self.url = f"df://127.0.0.1:{port}"
        log = open(os.path.join(logs, "scheduler.log"), "w")
        self.procs.append(subprocess.Popen([binary, "cluster", "scheduler", "--bind", f"127.0.0.1:{port}"],
                                           stdout=subprocess.DEVNULL, stderr=log))
        wait_for(port, self.procs)
        slots = max(1, (os.cpu_count() or 2) // executors)
        for i in range(executors):
            p = free_pair()
            work = os.path.join(logs, f"executor{i}")
            os.makedirs(work, exist_ok=True)
            self.work.append(work)
            log = open(os.path.join(logs, f"executor{i}.log"), "w")
            e = subprocess.Popen([binary, "cluster", "executor", "--scheduler", f"127.0.0.1:{port}",
                                  "--bind", f"127.0.0.1:{p}", "--concurrency", str(slots), "--work-dir", work],
                                 stdout=subprocess.DEVNULL, stderr=log)
            self.procs.append(e)
            self.executors.append(e)
            wait_for(p, self.procs)
        time.sleep(1.0)  # the executors' registration with the scheduler

    def executors_peak(self):
        return sum(hwm_mib(e.pid) for e in self.executors)

    def shuffle_mib(self):
        """What the executors hold on disk (shuffle files not yet cleaned up)."""
        total = 0
        for d in self.work:
            for root, _, files in os.walk(d):
                total += sum(os.path.getsize(os.path.join(root, f)) for f in files)
        return total / 2**20

    def stop(self):
        for p in self.procs:
            p.kill()
            p.wait()
        for d in self.work:
            shutil.rmtree(d, ignore_errors=True)


def read(path):
    import pyarrow.parquet as pq
    t = pq.read_table(path).to_pylist()
    return {(r["indicator_id"], r["entity_kind"], r["entity_code"], r["level"], r["grain"], r["period"]): r for r in t}


def same(a, b):
    if a.keys() != b.keys():
        raise SystemExit(f"the cluster published {len(b)} rows, embedded {len(a)}")
    for k, ra in a.items():
        rb = b[k]
        if ra["suppressed"] != rb["suppressed"]:
            raise SystemExit(f"{k}: suppressed differently")
        for c in ["numerator", "denominator", "value", "lower_95", "upper_95", "lower_998", "upper_998"]:
            x, y = ra[c], rb[c]
            if (x is None) != (y is None) or (x is not None and abs(x - y) > 1e-9 * max(1.0, abs(x))):
                raise SystemExit(f"{k} {c}: embedded {x}, cluster {y}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scales", default="1")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--what", choices=["catalogue", "headline"], default="catalogue")
    ap.add_argument("--compare", nargs=2, metavar=("EMBEDDED", "CLUSTER"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.compare:
        same(read(args.compare[0]), read(args.compare[1]))
        return
    ensure("pyarrow")

    subprocess.check_call(["cargo", "build", "--release", "--quiet", "--features", "distributed"], cwd=ROOT)
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    binary = os.path.join(target, "release", "footprint")
    env = dict(os.environ, FOOTPRINT_LOG="info", NO_COLOR="1")
    print("| scale | rows (spells, outpatient, A&E, patients) | engine | median wall | client peak | executors' peak | executors' disk at the end | ratio to embedded |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for scale in [float(s) for s in args.scales.split(",")]:
        data = os.path.join(WORK, f"synth-{scale}")
        if not os.path.exists(os.path.join(data, "truth.toml")):
            subprocess.check_call([binary, "synth", "--quiet", "--out", data, "--scale", str(scale)])
        if not os.path.exists(os.path.join(data, ".footprint", "validated.toml")):
            subprocess.check_call([binary, "validate", "--quiet", "--receipt", data])
        import pyarrow.parquet as pq
        rows = [pq.ParquetFile(os.path.join(data, f"{t}.parquet")).metadata.num_rows
                for t in ["admissions", "outpatients", "ae_attendances", "patients"]]
        rows_text = ", ".join(f"{r / 1e6:.1f} M" for r in rows)
        which = [] if args.what == "catalogue" else [a for i in HEADLINE for a in ("--indicator", i)]
        reference = None  # the embedded run's published table
        embedded = None
        for executors in [0, 1, 2]:
            logs = os.path.join(WORK, f"distributed-{scale}-{executors}")
            os.makedirs(logs, exist_ok=True)
            out = os.path.join(logs, "out")
            walls, peaks, epeaks, disk = [], [], [], []
            for _ in range(args.runs):
                cluster = Cluster(binary, executors, logs) if executors else None
                engine = cluster.url if cluster else "embedded"
                try:
                    wall, peak, _, _ = measure_full([binary, "indicators", "compute", "--quiet", "--engine", engine,
                                                     "--out", out, *which, data], env)
                    epeaks.append(cluster.executors_peak() if cluster else 0.0)
                    disk.append(cluster.shuffle_mib() if cluster else 0.0)
                finally:
                    if cluster:
                        cluster.stop()
                walls.append(wall)
                peaks.append(peak)
            # Compared in a child process: a child forked from a Python holding two tables
            # would report Python's resident memory as its own peak (Linux carries the
            # high-water mark across exec), so this process never loads them.
            table = os.path.join(out, "indicators.parquet")
            if reference is None:
                reference = os.path.join(logs, "embedded.parquet")
                shutil.copyfile(table, reference)
            else:
                subprocess.check_call([sys.executable, os.path.abspath(__file__), "--compare", reference, table])
            w = statistics.median(walls)
            if executors == 0:
                embedded = w
            name = "embedded" if executors == 0 else f"{executors} executor{'s' if executors > 1 else ''}"
            ep = f"{max(epeaks):.0f} MiB" if executors else "-"
            dk = f"{max(disk):.0f} MiB" if executors else "-"
            print(f"| {scale} | {rows_text} | {name} | {w:.1f} s | {max(peaks):.0f} MiB | {ep} | {dk} | {w / embedded:.2f} |",
                  flush=True)
    print(f"\n{args.what}; {args.runs} runs each; {os.cpu_count()} cores; published tables equal to 1e-9 in every run")


if __name__ == "__main__":
    main()
