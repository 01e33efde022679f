#!/usr/bin/env bash
# Portfolio selection at the issue's size (269 bids, 10 quotas): HiGHS (SciPy milp) solves and
# times each instance, then Footprint's selection solves the same instances, checks every total
# value against HiGHS's, and reports medians and the ratio. Peak memory from /usr/bin/time.
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-25}"
tmp="$(mktemp -d)"
python3 bench/programme_reference.py --bench "$tmp/instances.json" "$n"
cargo bench -p programme --no-default-features --bench select --no-run >/dev/null 2>&1
bin="$(ls -t "${CARGO_TARGET_DIR:-target}"/release/deps/select-* | grep -v '\.d$' | head -1)"
/usr/bin/time -f "peak memory: %M KiB" "$bin" "$tmp/instances.json"
rm -rf "$tmp"
