#!/usr/bin/env bash
# Every test of log_monitor: formatting, vet, unit tests, and the integration
# tests against real Kafka and Elasticsearch. Without KAFKA_BROKERS set, the
# local stack is brought up for the run and stopped afterwards (unless it was
# already running before, in which case it is left running).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/bin:$PATH"

step() { printf '\n== %s\n' "$*"; }

step "gofmt"
unformatted=$(find . -name '*.go' -not -path './.git/*' -not -name '*.pb.go' -not -name '*.pb.gw.go' -print0 | xargs -0 gofmt -l)
if [ -n "$unformatted" ]; then
  echo "unformatted Go files (run gofmt -w):"; echo "$unformatted"; exit 1
fi

step "go vet"
go vet ./...

step "build"
go build -o bin/logmon ./cmd/logmon

step "console: type check, and the embedded bundle is what its sources build"
npm ci --prefix console --no-audit --no-fund --loglevel=error
(cd console && npx --no-install tsc --noEmit -p .)
go run ./console/build -check

step "Chromium for the console's browser tests"
LOGMON_CHROMIUM=$(scripts/chromium.sh)
export LOGMON_CHROMIUM
"$LOGMON_CHROMIUM" --version || true

stop_stack=0
if [ -z "${KAFKA_BROKERS:-}" ]; then
  if ! logmon stack status | grep -q running; then stop_stack=1; fi
  step "local stack up (Kafka + Elasticsearch + Mailpit)"
  logmon stack up
  if [ "$stop_stack" = 1 ]; then
    trap 'printf "\n== local stack down\n"; logmon stack down' EXIT
  fi
fi

step "go test (unit + integration against the real services)"
# The components the tests start publish heartbeats to a topic of their
# own, not to the one a local `logmon all` or the demo watches.
export LOGMON_HEARTBEATS_TOPIC="${LOGMON_HEARTBEATS_TOPIC:-logmon-heartbeats-tests}"
# -p 1: packages run one at a time, so a test that kills a broker or stops
# Elasticsearch never disturbs another package's test.
LOGMON_INTEGRATION=1 go test -p 1 -count=1 -timeout 75m "$@" ./...

# Short fuzzing runs of every fuzz target (the corpus in testdata/fuzz is
# replayed by the go test run above as well).
for target in $(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -r dirname | sort -u); do
  for fn in $(grep -h -o '^func Fuzz[A-Za-z0-9_]*' "$target"/*_test.go | sed 's/^func //'); do
    step "fuzz $target $fn (${FUZZTIME:-15s})"
    go test -run='^$' -fuzz="^$fn\$" -fuzztime="${FUZZTIME:-15s}" "$target"
  done
done

step "all tests passed"
