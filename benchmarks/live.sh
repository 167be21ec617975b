#!/usr/bin/env bash
# Live alert latency: from a line appended to a tailed file to the alert on
# the API's stream (what the console shows), side by side for the code
# before a change and now. Each variant runs a fresh `logmon all` (its own
# topics, new partitions) and benchmarks/cmd/livelatency times
# BENCH_ROUNDS attacks of new IPs; the variants alternate BENCH_REPEATS
# times. Needs a running local stack (`bin/logmon stack up`).
#
#   BENCH_BASELINE=<rev> BENCH_ROUNDS=6 BENCH_REPEATS=2 ./benchmarks/live.sh
set -euo pipefail
cd "$(dirname "$0")/.."
baseline="${BENCH_BASELINE:-HEAD~1}"
rounds="${BENCH_ROUNDS:-6}"
repeats="${BENCH_REPEATS:-2}"
work="benchmarks/.work/live"
run_id=$(date -u +%Y%m%dT%H%M%SZ)
out="benchmarks/results/live-$run_id"
mkdir -p "$work" "$out"
go build -o "$work/logmon-head" ./cmd/logmon
rm -rf "$work/base" && git worktree add -f -q --detach "$work/base" "$baseline"
(cd "$work/base" && go build -o "../logmon-base" ./cmd/logmon)
git worktree remove -f "$work/base"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, load $(cut -d' ' -f1-3 /proc/loadavg); baseline $(git rev-parse --short "$baseline"), head $(git rev-parse --short HEAD)" | tee "$out/summary.txt"
for rep in $(seq 1 "$repeats"); do
  for variant in base head; do
    dir=$(mktemp -d)
    touch "$dir/auth.log"
    prefix="live$RANDOM-"
    addr=127.0.0.1:$((18000 + RANDOM % 1000))
    "$work/logmon-$variant" all -name-prefix "$prefix" -globs "$dir/auth.log" -from-start -source-tz UTC -report-tz UTC \
      -data-dir "$dir/data" -metrics-addr "" -http-addr "$addr" -grpc-addr "127.0.0.1:$((19000 + RANDOM % 1000))" -log-level warn > "$dir/all.log" 2>&1 &
    pid=$!
    for _ in $(seq 1 120); do curl -fs "http://$addr/v1/ready" > /dev/null && break; sleep 0.5; done
    sleep 3
    echo "== $variant, repeat $rep" | tee -a "$out/summary.txt"
    go run ./benchmarks/cmd/livelatency -prefix "$prefix" -file "$dir/auth.log" -api "http://$addr" -rounds "$rounds" 2>&1 | tee -a "$out/summary.txt"
    kill -INT $pid; wait $pid || true
    rm -rf "$dir"
  done
done
echo "results in $out"
