#!/usr/bin/env bash
# Pipeline health (issue 16): `logmon status`'s answer time with 1,000
# partitions' exact lag to compute, and what heartbeats and status polling
# cost the brokers (records/s, CPU). Needs a running local stack
# (`bin/logmon stack up`); never starts or stops it. Flags go to
# benchmarks/cmd/statusbench (-partitions, -rounds, -publishers, -beat, -window).
set -euo pipefail
cd "$(dirname "$0")/.."
run_id=$(date -u +%Y%m%dT%H%M%SZ)
out="benchmarks/results/status-$run_id"
mkdir -p "$out"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, load $(cut -d' ' -f1-3 /proc/loadavg) (shared: expect noise)" | tee "$out/summary.txt"
go run ./benchmarks/cmd/statusbench "$@" 2>&1 | tee -a "$out/summary.txt"
echo "results in $out"
