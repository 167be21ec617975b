#!/usr/bin/env bash
# Processing throughput (issue 5): the whole replica pre-filled in a fresh
# 3-partition topic, then `logmon process -until-caught-up` with 1 and with
# 2 instances of a fresh group, alternating, BENCH_ROUNDS rounds each: wall
# time to every input and loopback record committed, events/s, peak RSS,
# CPU seconds of the processor and of the brokers, Kafka records produced
# and consumed per input event, state on disk. Needs a running cluster (`bin/logmon stack up`); never
# starts or stops it.
#
# BENCH_BASELINE=<git revision> adds a fourth variant, one instance of that
# revision's `logmon process`, in the same rounds (to measure a change side
# by side); BENCH_VARIANTS picks variants: any of "paced nopace two base".
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${BENCH_ROUNDS:-3}"
work=benchmarks/.work/process
mkdir -p "$work"
go build -o "$work/logmon" ./cmd/logmon
bin="$work/logmon"
variants="${BENCH_VARIANTS:-paced nopace two${BENCH_BASELINE:+ base}}"
if [ -n "${BENCH_BASELINE:-}" ]; then
  rm -rf "$work/baseline-src"
  git worktree add --detach -f "$work/baseline-src" "$BENCH_BASELINE" >/dev/null
  (cd "$work/baseline-src" && go build -o "../logmon-baseline" ./cmd/logmon)
  git worktree remove --force "$work/baseline-src"
fi
run_id=$(date -u +%Y%m%dT%H%M%SZ)
out="benchmarks/results/process-$run_id"
mkdir -p "$out"
replica="$work/SSH.log"
[ -f "$replica" ] || gzip -dc ../shared/data/ssh-replica/SSH.log.gz > "$replica"
lines=$(wc -l < "$replica")
topic="bench-process-$run_id-input"
# Every topic of the run (input, groups' tables and loopbacks, outputs) is
# deleted at exit: replays of the replica fill the brokers' disks fast.
# BENCH_PREFILL=baseline fills the input with the baseline's ingest instead:
# a revision before the exactly-once ingest cannot tell when it has caught
# up with a topic written in transactions (its lag never reaches 0 for the
# commit markers), so it needs an input written without them.
kafka_libs="${KAFKA_LIBS:-${LOGMON_STACK_DIR:-/var/tmp/logmon-stack}/cache/kafka-4.4.0/libs}"
cleanup() {
  java -cp "$kafka_libs/*" org.apache.kafka.tools.TopicCommand --bootstrap-server "${KAFKA_BROKERS:-127.0.0.1:9092}" \
    --delete --if-exists --topic "bench-process-$run_id-.*" >/dev/null 2>&1 || echo "could not delete the topics bench-process-$run_id-*"
}
trap cleanup EXIT
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, load $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$out/summary.txt"
prefill="$bin"
[ "${BENCH_PREFILL:-}" = baseline ] && prefill="$work/logmon-baseline"
"$prefill" ingest -once -from-start -globs "$replica" -year 2015 -source-tz Asia/Seoul -topic "$topic" \
  -registry "$work/registry-$run_id.json" -metrics-addr "" -log-level warn

# broker_cpu: CPU seconds the Kafka brokers on this machine have used so far.
broker_cpu() {
  local ticks=0 pid
  for pid in $(pgrep -f 'kafka.Kafka'); do
    ticks=$((ticks + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
  done
  echo "scale=1; $ticks / $(getconf CLK_TCK)" | bc
}
# records GROUP: "produced consumed" Kafka records of a run, from the end
# offsets of its topics: produced is every record its topics got;
# consumed is the input read by both stages, every loopback record, and
# what the emitter's view reads (the days topic, or the IP table before it).
records() {
  java -cp "$kafka_libs/*" org.apache.kafka.tools.GetOffsetShell --bootstrap-server "${KAFKA_BROKERS:-127.0.0.1:9092}" \
    --topic "$1-.*" 2>/dev/null | awk -F: -v lines="$lines" -v g="$1" '
      { n[$1] += $3 }
      END {
        for (t in n) { prod += n[t]; if (t ~ /-loop$/) loop += n[t] }
        view = (g "-days" in n) ? n[g "-days"] : n[g "-table"]
        printf "%d %d\n", prod, 2 * lines + loop + view
      }'
}
one() { # instances round [flag: -no-pace or baseline]
  # every variant's group has a tag of its own: the globs below must not
  # match another variant's files or topics
  local n=$1 r=$2 flag=${3:-} tag=${3:-paced} b="$bin"
  local group="bench-process-$run_id-$1x-$2-${tag#-}"
  local start end pids=() cpu0 cpu1
  if [ "$flag" = baseline ]; then b="$work/logmon-baseline" flag=""; fi
  cpu0=$(broker_cpu)
  start=$(date +%s.%N)
  for i in $(seq 1 "$n"); do
    /usr/bin/time -f "%M %U %S" -o "$out/$group-$i.rss" "$b" process -until-caught-up $flag -group "$group" -input "$topic" \
      -alerts "$group-alerts" -metrics-topic "$group-metrics" -data-dir "$work/$group-$i" -metrics-addr "" -log-level warn \
      2> "$out/$group-$i.log" &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p"; done
  end=$(date +%s.%N)
  cpu1=$(broker_cpu)
  local secs rss disk pcpu bcpu prod cons
  secs=$(echo "$end - $start" | bc)
  rss=$(cat "$out/$group"-*.rss | awk '{print $1}' | sort -n | tail -1)
  pcpu=$(cat "$out/$group"-*.rss | awk '{s += $2 + $3} END {printf "%.1f", s}')
  bcpu=$(echo "$cpu1 - $cpu0" | bc)
  read -r prod cons < <(records "$group")
  disk=$(du -sk "$work/$group"-* | awk '{s+=$1} END {print s}')
  [ "$b" = "$bin" ] || flag="baseline ${BENCH_BASELINE}"
  printf '%d instance(s)%s round %d: %.1f s, %.0f events/s, peak RSS %d MiB, CPU s processor %s brokers %s, records per event produced %.2f consumed %.2f, state on disk %d MiB, load %s\n' \
    "$n" "${flag:+ $flag}" "$r" "$secs" "$(echo "$lines / $secs" | bc -l)" $((rss / 1024)) "$pcpu" "$bcpu" \
    "$(echo "$prod / $lines" | bc -l)" "$(echo "$cons / $lines" | bc -l)" $((disk / 1024)) "$(cut -d' ' -f1 /proc/loadavg)" | tee -a "$out/summary.txt"
  rm -rf "$work/$group"-*
}
# Side by side, alternating the order each round: one instance (paced, the
# default), one instance with -no-pace, two instances (and the baseline).
variant() {
  case $1 in
    paced) one 1 "$2" ;;
    nopace) one 1 "$2" -no-pace ;;
    two) one 2 "$2" ;;
    base) one 1 "$2" baseline ;;
  esac
}
for r in $(seq 1 "$rounds"); do
  order=$variants
  [ $((r % 2)) = 1 ] || order=$(echo "$variants" | tr ' ' '\n' | tac | tr '\n' ' ')
  for v in $order; do variant "$v" "$r"; done
done
for v in "1 instance(s) round" "1 instance(s) -no-pace round" "2 instance(s) round" "1 instance(s) baseline ${BENCH_BASELINE:-} round"; do
  grep -qF "$v" "$out/summary.txt" || continue
  median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
  rows=$(grep -F "$v" "$out/summary.txt")
  med=$(echo "$rows" | sed 's/.*: \([0-9.]*\) s,.*/\1/' | median)
  mrss=$(echo "$rows" | sed 's/.*peak RSS \([0-9]*\) MiB.*/\1/' | median)
  mp=$(echo "$rows" | sed 's/.*processor \([0-9.]*\) brokers.*/\1/' | median)
  mb=$(echo "$rows" | sed 's/.*brokers \([0-9.]*\),.*/\1/' | median)
  echo "median, ${v% round}: $med s, peak RSS $mrss MiB, CPU s processor $mp brokers $mb" | tee -a "$out/summary.txt"
done
echo "results in $out (the time includes the final 2 s view settle and 0.5 s lag polling of -until-caught-up)"
