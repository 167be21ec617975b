#!/usr/bin/env bash
# The agent's own cost (issue 15): `logmon agent` at its default 10 s
# interval beside Prometheus' node_exporter (Debian's
# prometheus-node-exporter) scraped every 10 s, for BENCH_DURATION (180 s):
# CPU (% of one core, from /proc/<pid>/stat) and RSS (current and peak).
# Target for the agent: under 1% of a core and under 30 MiB.
# Needs a running cluster (`bin/logmon stack up`); never starts or stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${BENCH_DURATION:-180}"
work=benchmarks/.work/agent
mkdir -p "$work"
command -v prometheus-node-exporter > /dev/null || { echo "needs prometheus-node-exporter (apt-get install prometheus-node-exporter)"; exit 1; }
go build -o "$work/logmon" ./cmd/logmon
run_id=$(date -u +%Y%m%dT%H%M%SZ)
out="benchmarks/results/agent-$run_id"
mkdir -p "$out"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, load $(cut -d' ' -f1-3 /proc/loadavg) (shared: expect noise)" | tee "$out/summary.txt"

"$work/logmon" agent -interval 10s -topic "bench-agent-$run_id" -spool-dir "$work/spool-$run_id" \
  -metrics-addr "" -log-level warn 2> "$out/agent.log" &
agent=$!
prometheus-node-exporter --web.listen-address=127.0.0.1:19100 > "$out/node_exporter.log" 2>&1 &
nodex=$!
trap 'kill $agent $nodex 2>/dev/null || true' EXIT
sleep 2
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
a0=$(ticks $agent) n0=$(ticks $nodex)
end=$(( $(date +%s) + duration ))
while [ "$(date +%s)" -lt "$end" ]; do
  curl -fs http://127.0.0.1:19100/metrics > /dev/null
  sleep 10
done
a1=$(ticks $agent) n1=$(ticks $nodex)
hz=$(getconf CLK_TCK)
mem() { awk -v k="$2:" '$1==k {printf "%.1f", $2/1024}' "/proc/$1/status"; }
report() { # name pid ticks
  awk -v n="$1" -v t="$3" -v hz="$hz" -v d="$duration" -v rss="$(mem "$2" VmRSS)" -v hwm="$(mem "$2" VmHWM)" \
    'BEGIN {printf "%-28s CPU %.3f s in %d s = %.2f%% of one core; RSS %s MiB (peak %s MiB)\n", n, t/hz, d, 100*t/hz/d, rss, hwm}'
}
report "logmon agent (10 s)" $agent $((a1 - a0)) | tee -a "$out/summary.txt"
report "node_exporter (scraped 10 s)" $nodex $((n1 - n0)) | tee -a "$out/summary.txt"
echo "results in $out"
