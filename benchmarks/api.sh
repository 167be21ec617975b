#!/usr/bin/env bash
# The API (issue 6): `logmon api` over the views of the whole replica.
#  - IP status at BENCH_RATE (1000) requests/s for BENCH_DURATION (30s), gRPC
#    (benchmarks/cmd/apiload, open loop) and REST (vegeta), BENCH_ROUNDS (3)
#    rounds alternating, p50/p99 and their medians. Target p99 < 5 ms.
#  - 100 WatchAlerts subscribers, 200 alerts produced to the alert topic:
#    latency from the produce call to each subscriber, p50/p99.
#  - RSS of `logmon api` with the replica's views loaded (and after the load).
# Needs a running cluster (`bin/logmon stack up`); never starts or stops it.
# Load tools are installed with `go install <module>@<exact version>` into
# $LOGMON_STACK_DIR/cache/gobin (outside the repository).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${BENCH_ROUNDS:-3}"
rate="${BENCH_RATE:-1000}"
duration="${BENCH_DURATION:-30s}"
work=benchmarks/.work/api
mkdir -p "$work"
gobin="${LOGMON_STACK_DIR:-/var/tmp/logmon-stack}/cache/gobin"
mkdir -p "$gobin"
[ -x "$gobin/vegeta" ] || GOBIN="$gobin" GOFLAGS=-mod=mod go install github.com/tsenart/vegeta/v12@v12.13.0
vegeta="$gobin/vegeta"
go build -o "$work/logmon" ./cmd/logmon
go build -o "$work/apiload" ./benchmarks/cmd/apiload
bin="$work/logmon"
run_id=$(date -u +%Y%m%dT%H%M%SZ)
out="benchmarks/results/api-$run_id"
mkdir -p "$out"
replica="$work/SSH.log"
[ -f "$replica" ] || gzip -dc ../shared/data/ssh-replica/SSH.log.gz > "$replica"
# BENCH_GROUP reuses the topics and group of an earlier run (skips ingest and process).
group="${BENCH_GROUP:-bench-api-$run_id}"
grpc_addr=127.0.0.1:19090 http_addr=127.0.0.1:18080 metrics_addr=127.0.0.1:19464
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, load $(cut -d' ' -f1-3 /proc/loadavg) (shared: expect noise)" | tee "$out/summary.txt"

# The replica through ingest and the tracker, in the run's own topics.
[ -n "${BENCH_GROUP:-}" ] || {
"$bin" ingest -once -from-start -globs "$replica" -year 2015 -source-tz Asia/Seoul -topic "$group-input" \
  -registry "$work/registry-$run_id.json" -metrics-addr "" -log-level warn
"$bin" process -until-caught-up -group "$group" -input "$group-input" -alerts "$group-alerts" \
  -metrics-topic "$group-metrics" -data-dir "$work/$group-process" -metrics-addr "" -log-level warn
}

# The API over them, its view recovering from scratch.
rm -rf "$work/$group-api"
start=$(date +%s.%N)
"$bin" api -group "$group" -alerts "$group-alerts" -grpc-addr "$grpc_addr" -http-addr "$http_addr" \
  -metrics-addr "$metrics_addr" -rate-limit 0 -data-dir "$work/$group-api" -log-level warn 2> "$out/api.log" &
api_pid=$!
trap 'kill -INT $api_pid 2>/dev/null || true' EXIT
until curl -fs "http://$http_addr/v1/ready" > /dev/null; do
  kill -0 $api_pid 2>/dev/null || { echo "logmon api exited; see $out/api.log"; exit 1; }
  sleep 0.2
done
ready=$(echo "$(date +%s.%N) - $start" | bc)
sleep 3
rss() { awk -v k="$1:" '$1==k {printf "%d", $2/1024}' /proc/$api_pid/status; }
printf 'logmon api: views recovered in %.1f s; RSS %s MiB with the replica views loaded\n' "$ready" "$(rss VmRSS)" | tee -a "$out/summary.txt"
alerts=$(curl -fs "http://$http_addr/v1/alerts?page_size=1000" | grep -o '"alert_id"' | wc -l)
ip=$(curl -fs "http://$http_addr/v1/alerts?rule=brute_force&until=2020-01-01T00:00:00Z&page_size=1" | grep -o '"ip":"[^"]*"' | head -1 | cut -d'"' -f4)
echo "alerts listed: $alerts; IP asked about: $ip" | tee -a "$out/summary.txt"
curl -fs "http://$http_addr/v1/ips/$ip" > "$out/ip-status.json"

rest() { # round
  echo "GET http://$http_addr/v1/ips/$ip" | "$vegeta" attack -rate="$rate" -duration="$duration" -timeout=5s > "$out/rest-$1.bin"
  "$vegeta" report -type=json < "$out/rest-$1.bin" > "$out/rest-$1.json"
  python3 - "$out/rest-$1.json" "$1" <<'PY' | tee -a "$out/summary.txt"
import json, sys
r = json.load(open(sys.argv[1]))
l = r["latencies"]
print(f"REST round {sys.argv[2]}: {r['requests']} requests, {r['rate']:.0f}/s, success {r['success']*100:.2f}%, "
      f"p50 {l['50th']/1e6:.3f} ms, p90 {l['90th']/1e6:.3f} ms, p99 {l['99th']/1e6:.3f} ms, max {l['max']/1e6:.1f} ms, "
      f"load {open('/proc/loadavg').read().split()[0]}")
PY
}
grpc() { # round
  "$work/apiload" -mode ip -addr "$grpc_addr" -ip "$ip" -rate "$rate" -duration "$duration" > "$out/grpc-$1.json"
  python3 - "$out/grpc-$1.json" "$1" <<'PY' | tee -a "$out/summary.txt"
import json, sys
r = json.load(open(sys.argv[1]))
print(f"gRPC round {sys.argv[2]}: {r['requests']} requests, {r['achieved_rps']:.0f}/s, errors {r['errors']}, "
      f"p50 {r['p50_ms']:.3f} ms, p90 {r['p90_ms']:.3f} ms, p99 {r['p99_ms']:.3f} ms, max {r['max_ms']:.1f} ms, "
      f"load {open('/proc/loadavg').read().split()[0]}")
PY
}
for r in $(seq 1 "$rounds"); do
  if [ $((r % 2)) = 1 ]; then grpc "$r"; rest "$r"; else rest "$r"; grpc "$r"; fi
done
for kind in gRPC REST; do
  for q in p50 p99; do
    med=$(grep "^$kind round" "$out/summary.txt" | grep -o "$q [0-9.]* ms" | awk '{print $2}' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    echo "median $kind $q: $med ms" | tee -a "$out/summary.txt"
  done
done

"$work/apiload" -mode watch -addr "$grpc_addr" -subs 100 -alerts 200 -topic "$group-alerts" > "$out/watch.json"
python3 - "$out/watch.json" <<'PY' | tee -a "$out/summary.txt"
import json, sys
r = json.load(open(sys.argv[1]))
print(f"WatchAlerts: {r['subscribers']} subscribers x {r['alerts']} alerts: {r['count']} of {r['deliveries_expected']} delivered, "
      f"produce call to subscriber p50 {r['p50_ms']:.1f} ms, p90 {r['p90_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, max {r['max_ms']:.1f} ms; "
      f"producer ack to subscriber p50 {r['from_ack_p50_ms']:.1f} ms, p99 {r['from_ack_p99_ms']:.1f} ms")
PY
printf 'logmon api: RSS %s MiB after the load, peak %s MiB\n' "$(rss VmRSS)" "$(rss VmHWM)" | tee -a "$out/summary.txt"
stop=$(date +%s.%N)
kill -INT $api_pid
wait $api_pid || true
trap - EXIT
printf 'logmon api: stopped %.1f s after SIGINT\n' "$(echo "$(date +%s.%N) - $stop" | bc)" | tee -a "$out/summary.txt"
rm -rf "$work/$group"-* "$out"/*.bin
echo "BENCH_GROUP=$group reuses this run's topics and group"
echo "results in $out (topics $group-* are left in the cluster)"
