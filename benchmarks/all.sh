#!/usr/bin/env bash
# `logmon all` on the replica (issue 14): one process running ingest,
# process, index and api (notify left out: no recipients), fresh topics,
# groups and indices each round (-name-prefix), from the first line to every
# event searchable in Elasticsearch. Reports per round the time until the
# ssh-log index counts every line, the peak RSS and the CPU seconds of the
# process. Needs a running stack (`bin/logmon stack up`); never starts or
# stops it.
#
# BENCH_BASELINE=<git revision> also runs that revision's `logmon all`, in the
# same rounds, alternating the order; BENCH_ROUNDS rounds (default 3).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${BENCH_ROUNDS:-3}"
es="${ELASTICSEARCH_URLS:-http://127.0.0.1:9200}"
work=benchmarks/.work/all
mkdir -p "$work"
go build -o "$work/logmon" ./cmd/logmon
variants="new"
if [ -n "${BENCH_BASELINE:-}" ]; then
  rm -rf "$work/baseline-src"
  git worktree add --detach -f "$work/baseline-src" "$BENCH_BASELINE" >/dev/null
  (cd "$work/baseline-src" && go build -o "../logmon-baseline" ./cmd/logmon)
  git worktree remove --force "$work/baseline-src"
  variants="new base"
fi
run_id=$(date -u +%Y%m%dt%H%M%Sz)
out="benchmarks/results/all-$run_id"
mkdir -p "$out"
replica="$work/SSH.log"
[ -f "$replica" ] || gzip -dc ../shared/data/ssh-replica/SSH.log.gz > "$replica"
lines=$(wc -l < "$replica")
kafka_libs="${KAFKA_LIBS:-${LOGMON_STACK_DIR:-/var/tmp/logmon-stack}/cache/kafka-4.4.0/libs}"
cleanup() {
  java -cp "$kafka_libs/*" org.apache.kafka.tools.TopicCommand --bootstrap-server "${KAFKA_BROKERS:-127.0.0.1:9092}" \
    --delete --if-exists --topic "bench-all-$run_id-.*" >/dev/null 2>&1 || echo "could not delete the topics bench-all-$run_id-*"
  for n in ssh-log ssh-alerts metrics-daily; do
    curl -s -X DELETE "$es/$n-bench-all-$run_id-*" >/dev/null || true
  done
}
trap cleanup EXIT
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, load $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$out/summary.txt"

count() { # index
  curl -s "$es/$1/_count" | sed -n 's/.*"count":\([0-9]*\).*/\1/p'
}

one() { # variant round
  local v=$1 r=$2 b="$work/logmon" prefix="bench-all-$run_id-$1-$2-" start end pid n secs
  [ "$v" = base ] && b="$work/logmon-baseline"
  local index="ssh-log-${prefix%-}"
  start=$(date +%s.%N)
  INGEST_ID="${prefix}ingest" /usr/bin/time -f "%M %U %S" -o "$out/$v-$r.rss" "$b" all -name-prefix "$prefix" -skip notify \
    -globs "$replica" -from-start -year 2015 -source-tz Asia/Seoul -data-dir "$work/$v-$r" \
    -metrics-addr "" -log-level warn 2> "$out/$v-$r.log" &
  pid=$!
  n=0
  while [ "${n:-0}" -lt "$lines" ]; do
    sleep 1
    kill -0 "$pid" 2>/dev/null || { echo "logmon all ($v) exited early; see $out/$v-$r.log"; exit 1; }
    curl -s -X POST "$es/$index/_refresh" >/dev/null || true
    n=$(count "$index")
  done
  end=$(date +%s.%N)
  # $pid is /usr/bin/time, which ignores SIGINT: signal logmon itself
  pkill -INT -P "$pid"
  wait "$pid" || true
  secs=$(echo "$end - $start" | bc)
  local rss cpu
  read -r rss u s < "$out/$v-$r.rss"
  cpu=$(echo "$u + $s" | bc)
  [ "$v" = base ] && v="baseline $BENCH_BASELINE"
  printf '%s round %d: every event searchable after %.1f s, peak RSS %d MiB, CPU %s s, load %s\n' \
    "$v" "$r" "$secs" $((rss / 1024)) "$cpu" "$(cut -d' ' -f1 /proc/loadavg)" | tee -a "$out/summary.txt"
  rm -rf "$work/$1-$r"
}
for r in $(seq 1 "$rounds"); do
  order=$variants
  [ $((r % 2)) = 1 ] || order=$(echo "$variants" | tr ' ' '\n' | tac | tr '\n' ' ')
  for v in $order; do one "$v" "$r"; done
done
for v in new "baseline ${BENCH_BASELINE:-}"; do
  rows=$(grep -F "$v round" "$out/summary.txt") || continue
  median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
  echo "median, $v: searchable after $(echo "$rows" | sed 's/.*after \([0-9.]*\) s.*/\1/' | median) s, peak RSS $(echo "$rows" | sed 's/.*RSS \([0-9]*\) MiB.*/\1/' | median) MiB" | tee -a "$out/summary.txt"
done
echo "results in $out"
