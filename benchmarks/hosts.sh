#!/usr/bin/env bash
# Host metrics at scale (issue 15): BENCH_HOSTS (1000) simulated hosts send a
# sample every BENCH_INTERVAL (10s) for BENCH_DURATION (2m) to a topic of
# the run's own; `logmon process` runs the host stage on it. Prints the host
# group's lag every 5 s (flat = it keeps up), the time to catch up after the
# last send, GET /v1/hosts p50/p99 through `logmon api`, and the peak RSS
# and CPU seconds of `logmon process`.
# Needs a running cluster (`bin/logmon stack up`); never starts or stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
hosts="${BENCH_HOSTS:-1000}"
interval="${BENCH_INTERVAL:-10s}"
duration="${BENCH_DURATION:-2m}"
work=benchmarks/.work/hosts
mkdir -p "$work"
go build -o "$work/logmon" ./cmd/logmon
go build -o "$work/hostsbench" ./benchmarks/cmd/hostsbench
bin="$work/logmon"
run_id=$(date -u +%Y%m%dT%H%M%SZ)
out="benchmarks/results/hosts-$run_id"
mkdir -p "$out"
group="bench-hosts-$run_id"
suffix=$(echo "$group" | tr "[:upper:]" "[:lower:]") # index names are lower case
http_addr=127.0.0.1:18081
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, load $(cut -d' ' -f1-3 /proc/loadavg) (shared: expect noise)" | tee "$out/summary.txt"

/usr/bin/time -v -o "$out/process.time" "$bin" process -group "$group" -input "$group-ssh-log" -alerts "$group-alerts" \
  -metrics-topic "$group-metrics" -hosts-input "$group-system-metrics" -data-dir "$work/$group-process" \
  -metrics-addr "" -log-level warn 2> "$out/process.log" &
time_pid=$!
"$bin" api -group "$group" -alerts "$group-alerts" -grpc-addr 127.0.0.1:19091 -http-addr "$http_addr" \
  -metrics-addr "" -rate-limit 0 -data-dir "$work/$group-api" -log-level warn 2> "$out/api.log" &
api_pid=$!
index_pid=""
stop() {
  kill -INT $api_pid $index_pid 2>/dev/null || true
  pkill -INT -P $time_pid 2>/dev/null || true # /usr/bin/time ignores SIGINT: signal its child
  wait $time_pid 2>/dev/null || true
}
trap stop EXIT
until curl -fs "http://$http_addr/v1/ready" > /dev/null; do
  kill -0 $api_pid 2>/dev/null || { echo "logmon api exited; see $out/api.log"; exit 1; }
  sleep 0.5
done
"$bin" index -group "$group-index" -events-topic "$group-ssh-log" -alerts-topic "$group-alerts" -metrics-topic "$group-metrics" \
  -hosts-topic "$group-system-metrics" -dlq-topic "$group-dlq" -index-suffix "$suffix" -index-layout single \
  -metrics-addr "" -log-level warn 2> "$out/index.log" &
index_pid=$!
"$work/hostsbench" -topic "$group-system-metrics" -group "$group-hosts" -hosts "$hosts" -interval "$interval" \
  -duration "$duration" -api "http://$http_addr" | tee -a "$out/summary.txt"
sleep 5 # the sink's last batch
es="${ELASTICSEARCH_URLS:-http://127.0.0.1:9200}"; es="${es%%,*}"
curl -fs -XPOST "$es/system-metrics-$suffix/_refresh" > /dev/null
curl -fs -XPOST "$es/system-metrics-$suffix/_forcemerge?max_num_segments=1" > /dev/null
stats=$(curl -fs "$es/system-metrics-$suffix/_stats/docs,store")
stop
trap - EXIT
python3 - "$stats" "$hosts" "$interval" "$duration" <<'PY' | tee -a "$out/summary.txt"
import json, re, sys
s = json.loads(sys.argv[1])["_all"]["primaries"]
hosts = int(sys.argv[2])
sec = lambda d: float(re.sub(r"[a-z]+$", "", d)) * {"s": 1, "m": 60, "h": 3600}[re.search(r"[a-z]+$", d).group()]
samples_per_day = 86400 / sec(sys.argv[3])
docs, size = s["docs"]["count"], s["store"]["size_in_bytes"]
samples = hosts * sec(sys.argv[4]) / sec(sys.argv[3])
print(f"system-metrics index: {docs} documents, {size/2**20:.1f} MiB after a force merge, "
      f"{size/samples:.0f} bytes per sample: {size/samples*samples_per_day/2**20:.1f} MiB per host per day at this interval")
PY
awk -F': ' '/Maximum resident/ {rss=$2} /User time/ {u=$2} /System time/ {s=$2}
  END {printf "logmon process: peak RSS %d MiB, CPU %.1f s\n", rss/1024, u+s}' "$out/process.time" | tee -a "$out/summary.txt"
echo "results in $out"
