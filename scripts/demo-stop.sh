#!/usr/bin/env bash
# Stops what `make demo` left running: the console's `logmon all` and the
# agent (their PIDs are in <data>/demo/demo.pids), then the local stack
# unless -keep-stack is given or KAFKA_BROKERS names another cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
pids="${LOGMON_DATA_DIR:-data}/demo/demo.pids"
if [ -f "$pids" ]; then
  while read -r pid; do
    [ -n "$pid" ] && kill -INT "$pid" 2>/dev/null || true
  done < "$pids"
  for _ in $(seq 1 60); do
    alive=0
    while read -r pid; do [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && alive=1; done < "$pids"
    [ "$alive" = 0 ] && break
    sleep 0.5
  done
  while read -r pid; do [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true; done < "$pids"
  rm -f "$pids"
  echo "demo: console and agent stopped"
fi
if [ "${1:-}" != "-keep-stack" ] && [ -z "${KAFKA_BROKERS:-}" ] && [ -x bin/logmon ]; then
  bin/logmon stack down
fi
