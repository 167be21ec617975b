#!/usr/bin/env bash
# The console (issue 18): page load times in headless Chromium, the pages'
# JavaScript heap and transfer, and the API's memory, against the console
# `make demo` leaves running (or CONSOLE_URL). Flags go to
# benchmarks/cmd/consolebench (-rounds, -width, -pages).
set -euo pipefail
cd "$(dirname "$0")/.."
url="${CONSOLE_URL:-http://127.0.0.1:8080}"
curl -fs "$url/v1/ready" > /dev/null || { echo "no API at $url: run make demo first (or set CONSOLE_URL)"; exit 1; }
pid=$(head -1 "${LOGMON_DATA_DIR:-data}/demo/demo.pids" 2>/dev/null || echo 0)
run_id=$(date -u +%Y%m%dT%H%M%SZ)
out="benchmarks/results/console-$run_id"
mkdir -p "$out"
{
  echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, load $(cut -d' ' -f1-3 /proc/loadavg) (shared: expect noise)"
  echo "bundle: $(wc -c < console/dist/app.js) bytes app.js, $(wc -c < console/dist/app.css) bytes app.css, gzip -9: $(cat console/dist/app.js console/dist/app.css | gzip -9 | wc -c) bytes"
} | tee "$out/summary.txt"
go run ./benchmarks/cmd/consolebench -url "$url" -api-pid "$pid" "$@" 2>&1 | tee -a "$out/summary.txt"
echo "results in $out"
