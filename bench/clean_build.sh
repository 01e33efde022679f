#!/usr/bin/env bash
# A new user's first build, measured: `cargo build --release` (or the command given) from an
# empty target folder and an empty cargo registry (downloads included), with `--timings`.
#
#   bash bench/clean_build.sh                       # cargo build --release
#   bash bench/clean_build.sh test --workspace --no-run
#
# Run it alone on the machine. WORK (default /var/tmp/footprint-clean-build) holds the fresh
# CARGO_HOME and target folder; it is emptied first and left for inspection (the timings
# report is WORK/target/cargo-timings/cargo-timing.html).
set -euo pipefail
cd "$(dirname "$0")/.."
work=${WORK:-/var/tmp/footprint-clean-build}
args=("$@")
[ ${#args[@]} -gt 0 ] || args=(build --release)
rm -rf "$work"
mkdir -p "$work"
echo "clean build: cargo ${args[*]} --timings (CARGO_HOME and target under $work)"
export CARGO_HOME="$work/cargo-home" CARGO_TARGET_DIR="$work/target"
/usr/bin/time -f '%e s wall, %U s user, %S s system, peak %M KiB' \
    cargo "${args[@]}" --timings 2>&1 | grep -v '^\s*\(Compiling\|Downloaded\|Downloading\)' | tail -5
