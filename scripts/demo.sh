#!/usr/bin/env bash
# The main job on a fresh machine: brings up the local Kafka + Elasticsearch
# when none is configured, creates topics and index templates, runs the
# pipeline on the bundled sample, and prints where to look.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/bin:$PATH"
go build -o bin/logmon ./cmd/logmon

step() { printf '\n== %s\n' "$*"; }
demo_dir="${LOGMON_DATA_DIR:-data}/demo"
replay=(-year 2015 -source-tz Asia/Seoul)

# A previous demo's console and agent stop first (they hold the ports).
scripts/demo-stop.sh -keep-stack

if [ -z "${KAFKA_BROKERS:-}" ]; then
  step "local stack (Kafka 3 brokers + Elasticsearch + Mailpit); stop it with: bin/logmon stack down"
  logmon stack up
fi

step "topics and index templates"
logmon setup

step "the bundled sample: demo/ssh-labsz.log.gz (20,000 lines of one server, Dec 10-11; replayed as 2015, Asia/Seoul)"
mkdir -p "$demo_dir"
gzip -dc demo/ssh-labsz.log.gz > "$demo_dir/ssh-labsz.log.tmp"
# Replace the file only when it changed, so a second demo run publishes nothing twice.
if ! cmp -s "$demo_dir/ssh-labsz.log.tmp" "$demo_dir/ssh-labsz.log" 2>/dev/null; then
  mv "$demo_dir/ssh-labsz.log.tmp" "$demo_dir/ssh-labsz.log"
else
  rm "$demo_dir/ssh-labsz.log.tmp"
fi
logmon parse -summary "${replay[@]}" "$demo_dir/ssh-labsz.log" | head -n 6

step "ingest: tail -> parse -> Kafka ssh-log exactly once (transactions; positions in Kafka), stopping when the file is published"
logmon ingest -once -from-start "${replay[@]}" -globs "$demo_dir/ssh-*.log" -metrics-addr ""

step "agent: this machine's CPU, memory, disks and network every 2 s into system-metrics (logmon agent)"
agent_log="$demo_dir/logmon-agent.log"
logmon agent -interval 2s -spool-dir "$demo_dir/agent-spool" -metrics-addr "" -log-level warn > "$agent_log" 2>&1 &
agent_pid=$!
trap 'kill -INT $agent_pid 2>/dev/null || true' EXIT
sleep 3

# The local Goka state (data/process, data/api) is a cache of Kafka's
# tables. With no table in Kafka (a new cluster, or after `logmon stack
# reset`) an old cache contradicts it and goka refuses to start: drop it.
if ! logmon topics -list 2>/dev/null | grep -q '^logmon-tracker-table '; then
  rm -rf "${LOGMON_DATA_DIR:-data}/process" "${LOGMON_DATA_DIR:-data}/api"
fi

step "process: the Goka groups (per-IP, per-user, per-day and per-host state) raise alerts and fill metrics-daily"
logmon process -until-caught-up -metrics-addr "" -log-level warn

step "index: ssh-log, ssh-alerts and metrics-daily into Elasticsearch (logmon index), until every event is searchable"
es="${ELASTICSEARCH_URLS:-http://127.0.0.1:9200}"
es="${es%%,*}"
index_log="$demo_dir/logmon-index.log"
logmon index -metrics-addr "" -log-level warn > "$index_log" 2>&1 &
index_pid=$!
trap 'kill -INT $index_pid $agent_pid 2>/dev/null || true' EXIT
# ssh-log holds each line once; its offsets also count transaction markers.
events=$(awk 'END {print NR}' "$demo_dir"/ssh-*.log)
count() { curl -fs "$es/$1/_count" 2>/dev/null | grep -o '"count":[0-9]*' | cut -d: -f2; }
for _ in $(seq 1 240); do
  [ "$(count ssh-log || echo 0)" = "$events" ] && break
  kill -0 $index_pid 2>/dev/null || { echo "logmon index exited; its log:"; cat "$index_log"; exit 1; }
  sleep 0.5
done
curl -fs -XPOST "$es/ssh-log,ssh-alerts,metrics-daily/_refresh" > /dev/null || true
echo "Elasticsearch: ssh-log $(count ssh-log) documents (Kafka ssh-log: $events), ssh-alerts $(count ssh-alerts), metrics-daily $(count metrics-daily)"
kill -INT $index_pid; wait $index_pid || true
trap 'kill -INT $agent_pid 2>/dev/null || true' EXIT

step "alerts (ssh-alerts) and daily metrics (metrics-daily)"
logmon show

step "API: the demo's worst attacker and the last day, over REST (logmon api)"
api_log="$demo_dir/logmon-api.log"
logmon api -metrics-addr "" -log-level warn > "$api_log" 2>&1 &
api_pid=$!
trap 'kill -INT $api_pid $agent_pid 2>/dev/null || true' EXIT
api="http://127.0.0.1:8080"
for _ in $(seq 1 120); do
  curl -fs "$api/v1/ready" > /dev/null && break
  kill -0 $api_pid 2>/dev/null || { echo "logmon api exited; its log:"; cat "$api_log"; exit 1; }
  sleep 0.5
done
attacker=$(curl -fs "$api/v1/alerts?rule=brute_force&page_size=1" | grep -o '"ip":"[^"]*"' | head -1 | cut -d'"' -f4)
last_day=$(curl -fs "$api/v1/metrics/daily" | grep -o '"[0-9]\{4\}-[0-9-]*"' | tail -1 | tr -d '"')
echo "GET /v1/ips/$attacker"; curl -fs "$api/v1/ips/$attacker" | head -c 1500; echo
echo "GET /v1/metrics/daily/$last_day"; curl -fs "$api/v1/metrics/daily/$last_day" | head -c 1500; echo
echo "GET /v1/metrics/daily/today"; curl -s "$api/v1/metrics/daily/today" | head -c 600; echo
echo "GET /v1/hosts (this machine, from the agent)"; curl -s "$api/v1/hosts" | head -c 1200; echo
kill -INT $api_pid; wait $api_pid || true
kill -INT $agent_pid; wait $agent_pid || true
trap - EXIT

step "Kafka topics"
logmon topics -list 2>/dev/null

step "the console: logmon all (ingest, process, index, api, watchdog) and logmon agent keep running in the background"
# setsid: they outlive this shell and its terminal; demo-stop.sh stops them.
pids="$demo_dir/demo.pids"
setsid logmon all "${replay[@]}" -globs "$demo_dir/ssh-*.log" -metrics-addr "" -log-level warn > "$demo_dir/logmon-all.log" 2>&1 < /dev/null &
echo $! > "$pids"
setsid logmon agent -interval 5s -spool-dir "$demo_dir/agent-spool" -metrics-addr "" -log-level warn > "$agent_log" 2>&1 < /dev/null &
echo $! >> "$pids"
for _ in $(seq 1 240); do
  curl -fs "$api/v1/ready" > /dev/null && break
  kill -0 "$(head -1 "$pids")" 2>/dev/null || { echo "logmon all exited; its log:"; cat "$demo_dir/logmon-all.log"; exit 1; }
  sleep 0.5
done
curl -fs "$api/" | grep -q 'app.js' && echo "console answers at $api/"
sleep 3 # a heartbeat from every part

step "pipeline health (logmon status)"
logmon status || true

step "where to look"
brokers="${KAFKA_BROKERS:-127.0.0.1:9092,127.0.0.1:9093,127.0.0.1:9094}"
es="${ELASTICSEARCH_URLS:-http://127.0.0.1:9200}"
cat <<MSG
Kafka brokers:   $brokers   (topic ssh-log holds the events; key row_hash, JSON value)
Elasticsearch:   $es   (try: curl -s '$es/_cat/indices?v')
Dry-run a log:   bin/logmon parse -summary /var/log/auth.log
Tail your logs:  bin/logmon ingest -globs '/var/log/auth.log' -from-start   (metrics on http://127.0.0.1:9464/metrics)
Watch a server:  bin/logmon agent -globs '/var/log/auth.log'   (resources every 10 s and its SSH log; -once prints one sample)
API:             bin/logmon api   then http://127.0.0.1:8080/v1/ips/<ip>, /v1/metrics/daily/today, /v1/hosts, /openapi.json; gRPC 127.0.0.1:9090
Mail (Mailpit):  http://127.0.0.1:8025   (bin/logmon notify mails the alerts; REPORT_RECIPIENTS / ALERT_RECIPIENTS)
Pipeline health: bin/logmon status   (-watch to refresh, -json for scripts; bin/logmon all also runs the watchdog's self-alerts)
Stack status:    bin/logmon stack status

Console:         $api/   (live incidents and alerts, IPs, days, hosts, pipeline; the demo's pipeline keeps running)
Stop the demo:   make demo-stop   (the console, the agent and the local stack)
MSG
