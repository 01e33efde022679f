#!/usr/bin/env bash
# Load benchmark for `footprint serve` (issue #8): p50 / p99 latency and throughput of the
# system page, an acute trust's page and the indicator API at 200 concurrent connections, loopback only, with wrk.
#
#   bash bench/serve.sh [SCALE ...]        default: 0.01 (the demo's scale) and 1.0
#
# Needs a release build (`cargo build --release`; CARGO_TARGET_DIR is honoured) and wrk
# (Debian: apt-get install wrk). Synthetic datasets are generated into target/bench/synth-SCALE
# when missing; the first start of the server computes its results (not timed here). Each
# URL is loaded for DURATION seconds (default 20) after a 3 s warm-up; the server's peak
# resident memory (VmHWM) is read from /proc at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-target}
bin="$target/release/footprint"
[ -x "$bin" ] || { echo "build first: cargo build --release" >&2; exit 1; }
command -v wrk >/dev/null || { echo "needs wrk (apt-get install wrk)" >&2; exit 1; }
duration=${DURATION:-20}
port=${PORT:-8181}
scales=("$@")
[ ${#scales[@]} -gt 0 ] || scales=(0.01 1.0)

echo "| what | scale | connections | requests/s | p50 ms | p99 ms | server peak RSS MiB |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
for scale in "${scales[@]}"; do
  data="target/bench/synth-$scale"
  [ -f "$data/truth.toml" ] || "$bin" -q synth --out "$data" --scale "$scale" >/dev/null
  db="target/bench/serve-$scale.db"
  "$bin" -q serve --dataset "$data" --database "sqlite://$db" --results "target/bench/serve-results-$scale" --addr "127.0.0.1:$port" >/tmp/footprint-serve.log 2>&1 &
  pid=$!
  trap 'kill $pid 2>/dev/null || true' EXIT
  for _ in $(seq 1 3600); do
    curl -fs "http://127.0.0.1:$port/api/v1/systems" >/dev/null 2>&1 && break
    kill -0 $pid 2>/dev/null || { cat /tmp/footprint-serve.log >&2; exit 1; }
    sleep 1
  done
  system=$(curl -fs "http://127.0.0.1:$port/api/v1/systems" | python3 -c 'import json,sys; s=json.load(sys.stdin)["systems"]; print(next((x["code"] for x in s if x["category"]=="challenged"), s[0]["code"]))')
  trust=$(curl -fs "http://127.0.0.1:$port/api/v1/organisations?kind=acute_trust&system=$system" | python3 -c 'import json,sys; print(json.load(sys.stdin)["organisations"][0]["code"])')
  for what in "system page|/systems/$system" "organisation page|/organisations/$trust" "indicator API|/api/v1/indicators/ae_4h?entity_kind=system&entity_code=$system"; do
    name=${what%%|*}
    path=${what#*|}
    wrk -t2 -c200 -d3s "http://127.0.0.1:$port$path" >/dev/null
    out=$(wrk -t2 -c200 -d"${duration}s" --latency "http://127.0.0.1:$port$path")
    rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
    p50=$(awk '$1=="50%" {print $2}' <<<"$out")
    p99=$(awk '$1=="99%" {print $2}' <<<"$out")
    errors=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
    [ -z "$errors" ] || { echo "non-2xx answers: $errors" >&2; exit 1; }
    ms() { python3 -c "import sys; v=sys.argv[1]; u=v.lstrip('0123456789.'); n=float(v[:len(v)-len(u)]); print(round(n*{'us':0.001,'ms':1,'s':1000}[u],2))" "$1"; }
    rss=$(awk '/VmHWM/ {printf "%.0f", $2/1024}' /proc/$pid/status)
    echo "| $name | $scale | 200 | $rps | $(ms "$p50") | $(ms "$p99") | $rss |"
  done
  kill $pid; wait $pid 2>/dev/null || true
  trap - EXIT
done
