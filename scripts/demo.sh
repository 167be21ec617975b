#!/usr/bin/env bash
# The main job on a fresh machine: brings up the local Kafka + Elasticsearch
# when none is configured, creates topics and index templates, runs the
# pipeline on the bundled sample, and prints where to look.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/bin:$PATH"
go build -o bin/logmon ./cmd/logmon

step() { printf '\n== %s\n' "$*"; }

if [ -z "${KAFKA_BROKERS:-}" ]; then
  step "local stack (Kafka 3 brokers + Elasticsearch); stop it with: bin/logmon stack down"
  logmon stack up
fi

step "topics and index templates"
logmon setup

step "where to look"
cat <<MSG
Kafka brokers:   ${KAFKA_BROKERS:-127.0.0.1:9092,127.0.0.1:9093,127.0.0.1:9094}
Elasticsearch:   ${ELASTICSEARCH_URLS:-http://127.0.0.1:9200}   (try: curl -s '${ELASTICSEARCH_URLS:-http://127.0.0.1:9200}/_cat/indices?v')
Stack status:    bin/logmon stack status
Stop the stack:  bin/logmon stack down
MSG
