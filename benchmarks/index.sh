#!/usr/bin/env bash
# Elasticsearch sink (issue 7): the whole replica published once to a fresh
# 3-partition topic, then BENCH_ROUNDS rounds of (a) the sink (connectors/esindex,
# a fresh group and index each round) until Elasticsearch acknowledged every
# document, and (b) a plain sequential _bulk loop over the same records held in
# memory, same client and batch size (the ceiling); then the end-to-end lag
# from a record acknowledged in ssh-log to the document being searchable,
# with background events flowing. Needs a running cluster (`bin/logmon stack
# up`); never starts or stops it. Every topic and index it makes is named
# bench-<unix time>-... and deleted afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${BENCH_ROUNDS:-3}"
probes="${BENCH_LAG_PROBES:-40}"
rate="${BENCH_LAG_RATE:-1000}"
batch="${BENCH_BATCH:-5000}"
work=benchmarks/.work/index
mkdir -p "$work"
go build -o "$work/indexbench" ./benchmarks/cmd/indexbench
run_id=$(date -u +%Y%m%dT%H%M%SZ)
out="benchmarks/results/index-$run_id"
mkdir -p "$out"
replica="$work/SSH.log"
[ -f "$replica" ] || gzip -dc ../shared/data/ssh-replica/SSH.log.gz > "$replica"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, load $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$out/summary.txt"
"$work/indexbench" -replica "$replica" -rounds "$rounds" -batch "$batch" -probes "$probes" -rate "$rate" -work "$work" | tee -a "$out/summary.txt"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/summary.txt"
echo "results in $out"
