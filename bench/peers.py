"""The benchmarks' Python peers, installed into a private virtual environment.

The peers (DuckDB, NumPy, SciPy) are for measuring Footprint against, never runtime
dependencies: they live in target/bench/venv, made on first use.
"""
import importlib
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.path.join(ROOT, "target", "bench")
VENV = os.path.join(WORK, "venv")


def ensure(*packages):
    """Returns once every package imports, re-running this script in the venv if need be."""
    try:
        for p in packages:
            importlib.import_module(p)
        return
    except ImportError:
        pass
    py = os.path.join(VENV, "bin", "python")
    if os.path.abspath(sys.executable) != os.path.abspath(py):
        if not os.path.exists(py):
            subprocess.check_call([sys.executable, "-m", "venv", VENV])
        subprocess.check_call([py, "-m", "pip", "install", "-q", *packages])
        os.execv(py, [py] + sys.argv)
    raise SystemExit(f"{', '.join(packages)} not importable even in the benchmark venv")


def measure(cmd):
    """Runs cmd; returns (wall seconds, peak resident memory in MiB from wait4, stdout text)."""
    elapsed, peak, out, _ = measure_full(cmd)
    return elapsed, peak, out


def measure_full(cmd, env=None):
    """Runs cmd; returns (wall seconds, peak MiB from wait4, stdout, stderr). Both pipes are
    drained at once, so a chatty log cannot fill one and stall the child."""
    import threading
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    err = []
    reader = threading.Thread(target=lambda: err.append(proc.stderr.read()))
    reader.start()
    out = proc.stdout.read()
    reader.join()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"{cmd[0]} failed ({code}):\n{out.decode()}\n{err[0].decode()}")
    return elapsed, usage.ru_maxrss / 1024.0, out.decode(), err[0].decode()
