#!/usr/bin/env bash
# benchmarks/run.sh (`make bench`): issue 4's figures on the replica
# (../shared/data/ssh-replica/SSH.log.gz, 655,147 lines), each tool measured
# side by side with a reference, alternating round by round:
#
#   1. parser, one core: the Go benchmarks (go test -bench BenchmarkParse),
#      exact allocations per line, and `logmon parse -summary` end to end
#      against `fail2ban-regex` with its stock sshd filter (also with --raw,
#      i.e. without its DNS lookups), all pinned to CPU 0;
#   2. file -> Kafka, acks=all, RF 3: `logmon ingest -once` against Kafka's own
#      ProducerPerformance sending the same JSON values (the ceiling), each
#      round on fresh topics that are deleted after the round; then one
#      in-process run of the ingest pipeline under pprof (where the time goes).
#
# It never starts, stops or resets the Kafka / Elasticsearch stack: Kafka must
# already be running (`bin/logmon stack up`, or KAFKA_BROKERS). Raw outputs go
# to benchmarks/results/<run id>/ (gitignored), scratch files to
# benchmarks/.work/; a compact summary is printed at the end. See
# benchmarks/README.md for the figures and the caveats.
#
# Settings (environment):
#   BENCH_ROUNDS         parse rounds, fail2ban included (default 3)
#   BENCH_INGEST_ROUNDS  file -> Kafka rounds (default 5)
#   BENCH_PARSE_RUNS     `logmon parse` runs per round (hyperfine; default 10)
#   BENCH_F2B_MODES      "stock raw" (default), "stock", "raw" or "" (skip fail2ban)
#   BENCH_PP_INFLIGHT1   1: also ProducerPerformance with max.in.flight.requests.per.connection=1
#   BENCH_PP_TXN         1 (default): also ProducerPerformance in transactions
#                        (--transactional-id, --transaction-duration-ms BENCH_PP_TXN_MS, default 250)
#   BENCH_BASELINE_BIN   also measure this older logmon binary's ingest (e.g. built from the
#                        commit before a change), in the same rounds
#   BENCH_WARMUP         1 (default): one unrecorded file -> Kafka round first
#   BENCH_SECTIONS       "parse ingest profile" (default), any subset
#   BENCH_DATA           the replica (default ../shared/data/ssh-replica/SSH.log.gz)
#   KAFKA_BROKERS        bootstrap brokers (default the local stack's three)
#   KAFKA_LIBS           Kafka 4.4.0 jars (default $LOGMON_STACK_DIR/cache/kafka-4.4.0/libs)
#   BENCH_BIN            measure this logmon binary instead of building ./cmd/logmon
#   BENCH_BUILD_TRIES    build attempts, 30 s apart (default 1)
#   BENCH_NO_HYPERFINE   1: time `logmon parse` with a loop of /usr/bin/time even if hyperfine is there
#   BENCH_NO_INSTALL     1: do not apt-get install fail2ban / hyperfine when missing
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

ROUNDS=${BENCH_ROUNDS:-3}
INGEST_ROUNDS=${BENCH_INGEST_ROUNDS:-5}
PARSE_RUNS=${BENCH_PARSE_RUNS:-10}
F2B_MODES=${BENCH_F2B_MODES-stock raw}
WARMUP=${BENCH_WARMUP:-1}
SECTIONS=${BENCH_SECTIONS:-parse ingest profile}
DATA_GZ=${BENCH_DATA:-$ROOT/../shared/data/ssh-replica/SSH.log.gz}
STACK_DIR=${LOGMON_STACK_DIR:-/var/tmp/logmon-stack}
KAFKA_LIBS=${KAFKA_LIBS:-$STACK_DIR/cache/kafka-4.4.0/libs}
BROKERS=${KAFKA_BROKERS:-127.0.0.1:9092,127.0.0.1:9093,127.0.0.1:9094}
YEAR=2015
TZ_SRC=Asia/Seoul
F2B_FILTER=/etc/fail2ban/filter.d/sshd.conf

WORK=$ROOT/benchmarks/.work
RUN_ID=$(date -u +%Y%m%dT%H%M%SZ)
OUT=$ROOT/benchmarks/results/$RUN_ID
TOPIC_PREFIX=bench-$RUN_ID-
TOPIC_PREFIX=${TOPIC_PREFIX,,} # topic names: lower case only, for tidiness
mkdir -p "$WORK" "$OUT/parse" "$OUT/ingest" "$OUT/profile"

BIN=$WORK/logmon
FILE=$WORK/SSH.log
PAYLOAD=$WORK/payload.jsonl

has() { [[ " $SECTIONS " == *" $1 "* ]]; }
step() { printf '\n== %s  %s\n' "$(date -u +%H:%M:%S)" "$*"; }
note() { printf '   %s\n' "$*"; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

# record prints a command to commands.txt exactly as it is run.
record() {
  { printf '%s' "${RECORD_CWD:+(cd $RECORD_CWD && }"; printf '%q ' "$@"; printf '%s\n' "${RECORD_CWD:+)}"; } >>"$OUT/commands.txt"
}

# timed FILE CMD...: runs CMD, writes its wall/user/sys seconds and max RSS to FILE.
timed() {
  local f=$1; shift
  record "$@"
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -o "$f" -f 'wall_s=%e user_s=%U sys_s=%S maxrss_kb=%M exit=%x' "$@"
  else
    local TIMEFORMAT='wall_s=%R user_s=%U sys_s=%S'
    { time "$@" 2>&3; } 3>&2 2>"$f"
  fi
}

# PIN runs a command on CPU 0 (one core); empty without taskset.
PIN=()
command -v taskset >/dev/null && PIN=(taskset -c 0)

kafka_java() { java "${JAVA_OPTS_BENCH[@]}" -cp "$KAFKA_LIBS/*" "$@"; }
JAVA_OPTS_BENCH=(-Xmx256m)

topic_create() {
  record java -cp "$KAFKA_LIBS/*" org.apache.kafka.tools.TopicCommand --bootstrap-server "$BROKERS" --create --topic "$1" \
    --partitions 3 --replication-factor 3 --config min.insync.replicas=2
  kafka_java org.apache.kafka.tools.TopicCommand --bootstrap-server "$BROKERS" --create --topic "$1" \
    --partitions 3 --replication-factor 3 --config min.insync.replicas=2 >/dev/null
}

# topic_delete REGEX: deletes the matching benchmark topics (if any).
topic_delete() {
  record java -cp "$KAFKA_LIBS/*" org.apache.kafka.tools.TopicCommand --bootstrap-server "$BROKERS" --delete --if-exists --topic "$1"
  kafka_java org.apache.kafka.tools.TopicCommand --bootstrap-server "$BROKERS" --delete --if-exists --topic "$1" >/dev/null 2>&1 || true
}

topic_offsets() { # TOPIC OUTFILE: end offsets per partition (topic:partition:offset)
  kafka_java org.apache.kafka.tools.GetOffsetShell --bootstrap-server "$BROKERS" --topic "$1" --time -1 >"$2" 2>/dev/null || true
}

# broker_cpu: "PIDS TICKS": the local stack's brokers and the CPU they have
# used so far (from /proc); nothing when the brokers are not the local stack's.
broker_cpu() {
  local total=0 pids='' f pid t
  for f in "$STACK_DIR"/kafka-*/kafka-*.pid; do
    [ -r "$f" ] || continue
    pid=$(cat "$f")
    [ -r "/proc/$pid/stat" ] || continue
    t=$(sed 's/^.*) //' "/proc/$pid/stat" | awk '{print $12 + $13}')
    total=$((total + t))
    pids=$pids${pids:+,}$pid
  done
  [ "$total" -gt 0 ] && echo "$pids $total"
}
# broker_cpu_delta BEFORE AFTER OUTFILE: the brokers' CPU seconds in between,
# unless a broker restarted meanwhile (someone else's test may kill one).
broker_cpu_delta() {
  local p0=${1% *} p1=${2% *}
  if [ -n "$1" ] && [ -n "$2" ] && [ "$p0" = "$p1" ]; then
    awk -v a="${1#* }" -v b="${2#* }" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "broker_cpu_s=%.2f\n", (b - a) / hz }' >"$3"
  elif [ -n "$1" ]; then
    note "a broker restarted during the run (pids $p0 -> $p1): brokers' CPU not recorded"
  fi
}

LOAD_PID=
cleanup() {
  if [ -n "$LOAD_PID" ]; then kill "$LOAD_PID" 2>/dev/null || true; fi
  if [ -n "${TOPICS_MADE:-}" ]; then topic_delete "${TOPIC_PREFIX}.*"; fi
}
trap cleanup EXIT

section_mark() { echo "$1 $(date +%s)" >>"$OUT/sections.txt"; }

# ---------------------------------------------------------------- tools
ensure_tool() { # COMMAND DEBIAN_PACKAGE
  command -v "$1" >/dev/null && return 0
  if [ "${BENCH_NO_INSTALL:-0}" != 1 ] && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    step "installing $2 (apt-get)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$2" >/dev/null 2>&1 ||
      { DEBIAN_FRONTEND=noninteractive apt-get update >/dev/null 2>&1 &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$2" >/dev/null 2>&1; } || true
  fi
  command -v "$1" >/dev/null
}

# build_all builds the binary under test and the helpers; BENCH_BUILD_TRIES
# retries (30 s apart) help when someone is editing the tree meanwhile.
build_all() {
  if [ -n "${BENCH_BIN:-}" ]; then cp "$BENCH_BIN" "$BIN"; else go build -o "$BIN" ./cmd/logmon; fi &&
    go build -o "$WORK/benchsum" ./benchmarks/cmd/benchsum &&
    go build -o "$WORK/parseallocs" ./benchmarks/cmd/parseallocs &&
    go build -o "$WORK/ingestprof" ./benchmarks/cmd/ingestprof &&
    go build -o "$WORK/kafkaprops" ./benchmarks/cmd/kafkaprops
}
step "build ($RUN_ID)"
tries=${BENCH_BUILD_TRIES:-1}
until build_all; do
  tries=$((tries - 1))
  [ "$tries" -gt 0 ] || die "build failed"
  note "build failed; trying again in 30 s ($tries left)"
  sleep 30
done
HAVE_HYPERFINE=0
if has parse; then
  if [ -n "$F2B_MODES" ] && ! ensure_tool fail2ban-regex fail2ban; then
    note "fail2ban-regex is missing and could not be installed: the fail2ban comparison is skipped"
    F2B_MODES=
  fi
  if [ "${BENCH_NO_HYPERFINE:-0}" != 1 ] && ensure_tool hyperfine hyperfine; then HAVE_HYPERFINE=1; else note "no hyperfine: timing logmon parse with a loop of /usr/bin/time"; fi
fi

# ---------------------------------------------------------------- data and machine
[ -r "$DATA_GZ" ] || die "replica not found: $DATA_GZ"
if [ ! -s "$FILE" ] || [ "$FILE" -ot "$DATA_GZ" ]; then
  gzip -dc "$DATA_GZ" >"$FILE.tmp" && mv "$FILE.tmp" "$FILE"
fi
LINES=$(wc -l <"$FILE")
BYTES=$(wc -c <"$FILE")
echo "lines=$LINES bytes=$BYTES gz_sha256=$(sha256sum "$DATA_GZ" | cut -d' ' -f1) file=$FILE" >"$OUT/data.txt"

{
  echo "machine: $(nproc) CPUs ($(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)), $(awk '/MemTotal/ {printf "%.1f GiB RAM", $2/1048576}' /proc/meminfo), $(uname -sr)"
  echo "software: $(go version | cut -d' ' -f3), $(java -version 2>&1 | head -1), Kafka $(basename "$(dirname "$KAFKA_LIBS")" | sed 's/^kafka-//'), fail2ban-regex $(fail2ban-regex --version 2>/dev/null | head -1 | awk '{print $NF}' || echo -), $(hyperfine --version 2>/dev/null || echo 'no hyperfine')"
  echo "logmon binary: built $(date -u -r "$BIN" +%FT%TZ) from the working tree, sha256 $(sha256sum "$BIN" | cut -c1-12)"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$OUT/machine.txt"
cat "$OUT/machine.txt"
( while :; do echo "$(date +%s) $(cut -d' ' -f1-3 /proc/loadavg)"; sleep 2; done ) >"$OUT/loadavg.tsv" &
LOAD_PID=$!

# ---------------------------------------------------------------- 1. parser
if has parse; then
  section_mark parse-start
  step "parser: go test -bench BenchmarkParse (-count=5 -cpu=1, pinned to CPU 0)"
  go test -c -o "$WORK/sshlog.test" ./connectors/sshlog/
  echo "# equivalent to: taskset -c 0 go test -run='^\$' -bench=BenchmarkParse -benchmem -count=5 -cpu=1 ./connectors/sshlog/" >>"$OUT/commands.txt"
  RECORD_CWD=connectors/sshlog record taskset -c 0 "$WORK/sshlog.test" -test.run='^$' -test.bench=BenchmarkParse -test.benchmem -test.count=5 -test.cpu=1
  (cd connectors/sshlog && "${PIN[@]}" "$WORK/sshlog.test" -test.run='^$' -test.bench=BenchmarkParse -test.benchmem -test.count=5 -test.cpu=1) | tee "$OUT/gobench.txt"

  step "parser: exact allocations per line (benchmarks/cmd/parseallocs)"
  : >"$OUT/parseallocs.txt"
  for j in false true; do
    record env GOMAXPROCS=1 taskset -c 0 "$WORK/parseallocs" -json=$j "$FILE"
    GOMAXPROCS=1 "${PIN[@]}" "$WORK/parseallocs" -json=$j "$FILE" | tee -a "$OUT/parseallocs.txt"
  done
  "${PIN[@]}" "$BIN" parse -summary -year $YEAR -source-tz $TZ_SRC "$FILE" >"$OUT/parse/logmon-summary.txt"

  run_logmon_parse() { # ROUND
    local r=$1
    note "round $r: logmon parse -summary ($PARSE_RUNS runs)"
    if [ "$HAVE_HYPERFINE" = 1 ]; then
      record hyperfine -N --style basic --warmup 2 --runs "$PARSE_RUNS" --export-json "$OUT/parse/r$r-logmon.json" \
        "${PIN[*]} $BIN parse -summary -year $YEAR -source-tz $TZ_SRC $FILE"
      hyperfine -N --style basic --warmup 2 --runs "$PARSE_RUNS" --export-json "$OUT/parse/r$r-logmon.json" \
        "${PIN[*]} $BIN parse -summary -year $YEAR -source-tz $TZ_SRC $FILE" | sed -n 's/^ *Time (mean ± σ): */     /p'
    else
      local i
      for i in $(seq "$PARSE_RUNS"); do
        timed "$WORK/parse-run-$i.time" "${PIN[@]}" "$BIN" parse -summary -year $YEAR -source-tz $TZ_SRC "$FILE" >/dev/null
      done
      # the median run (by wall time) stands for the round
      for i in $(seq "$PARSE_RUNS"); do echo "$(sed 's/.*wall_s=\([0-9.]*\).*/\1/' "$WORK/parse-run-$i.time") $i"; done |
        sort -n | awk -v n="$PARSE_RUNS" 'NR == int((n + 1) / 2) {print $2}' |
        { read -r i; cp "$WORK/parse-run-$i.time" "$OUT/parse/r$r-logmon.time"; }
      note "$(cat "$OUT/parse/r$r-logmon.time")"
    fi
  }
  run_f2b() { # ROUND MODE
    local r=$1 mode=$2 tool=fail2ban args=()
    if [ "$mode" = raw ]; then tool=fail2ban-raw; args=(--raw); fi
    note "round $r: fail2ban-regex ${args[*]} $F2B_FILTER"
    timed "$OUT/parse/r$r-$tool.time" "${PIN[@]}" fail2ban-regex "${args[@]}" "$FILE" "$F2B_FILTER" >"$OUT/parse/r$r-$tool.out" 2>&1
    note "     $(grep -E '^Lines:' "$OUT/parse/r$r-$tool.out" || true); $(cat "$OUT/parse/r$r-$tool.time")"
  }
  step "parser: logmon parse vs fail2ban-regex, $ROUNDS rounds alternating, pinned to CPU 0"
  for r in $(seq "$ROUNDS"); do
    if [ $((r % 2)) = 1 ]; then
      run_logmon_parse "$r"
      for m in $F2B_MODES; do run_f2b "$r" "$m"; done
    else
      for m in $(echo "$F2B_MODES" | tr ' ' '\n' | tac); do run_f2b "$r" "$m"; done
      run_logmon_parse "$r"
    fi
  done
  section_mark parse-end
fi

# ---------------------------------------------------------------- 2. file -> Kafka
kafka_reachable() {
  local b
  for b in ${BROKERS//,/ }; do
    timeout 2 bash -c "</dev/tcp/${b%:*}/${b##*:}" 2>/dev/null && return 0
  done
  return 1
}
if has ingest || has profile; then
  kafka_reachable || die "no Kafka broker answers at $BROKERS: start the stack first (bin/logmon stack up), this script never does"
  [ -d "$KAFKA_LIBS" ] || die "Kafka jars not found in $KAFKA_LIBS (set KAFKA_LIBS)"
fi

run_logmon_ingest() { # ROUND [NAME BINARY]
  local r=$1 name=${2:-logmon} bin=${3:-$BIN}
  local t=${TOPIC_PREFIX}r$1-$name b0 b1
  topic_create "$t"; TOPICS_MADE=1
  rm -f "$WORK/registry-r$r-$name.json"*
  b0=$(broker_cpu || true)
  # Each round's topic is new, so the exactly-once ingest's default identity
  # (host, topic, globs) has no positions yet; -registry is for older binaries.
  timed "$OUT/ingest/r$r-$name.time" "$bin" ingest -once -from-start -globs "$FILE" -year $YEAR -source-tz $TZ_SRC \
    -topic "$t" -registry "$WORK/registry-r$r-$name.json" -metrics-addr "" 2>"$OUT/ingest/r$r-$name.log"
  b1=$(broker_cpu || true)
  broker_cpu_delta "$b0" "$b1" "$OUT/ingest/r$r-$name.brokercpu"
  topic_offsets "$t" "$OUT/ingest/r$r-$name.offsets"
  note "round $r: $(printf '%-15s' "$name") $(cat "$OUT/ingest/r$r-$name.time"); in topic $(awk -F: '{s += $3} END {print s}' "$OUT/ingest/r$r-$name.offsets") offsets (transactional topics count markers too)"
}
run_logmon_baseline() { # ROUND
  if [ -n "${BENCH_BASELINE_BIN:-}" ]; then run_logmon_ingest "$1" logmon-base "$BENCH_BASELINE_BIN"; fi
}
run_pp() { # ROUND [TOOL EXTRA-PRODUCER-PROPERTY...]
  local r=$1 tool=${2:-pp} b0 b1
  shift; [ $# -gt 0 ] && shift
  local t=${TOPIC_PREFIX}r$r-$tool
  topic_create "$t"; TOPICS_MADE=1
  b0=$(broker_cpu || true)
  # -Xmx1g: the payload file (about 330 MB) is held in memory
  timed "$OUT/ingest/r$r-$tool.time" java -Xmx1g -cp "$KAFKA_LIBS/*" org.apache.kafka.tools.ProducerPerformance --bootstrap-server "$BROKERS" --topic "$t" \
    --num-records "$LINES" --throughput -1 --payload-file "$PAYLOAD" --payload-delimiter $'\n' \
    --command-property "${PP_PROPS[@]}" "$@" \
    >"$OUT/ingest/r$r-$tool.out" 2>&1
  b1=$(broker_cpu || true)
  broker_cpu_delta "$b0" "$b1" "$OUT/ingest/r$r-$tool.brokercpu"
  topic_offsets "$t" "$OUT/ingest/r$r-$tool.offsets"
  note "round $r: $(printf '%-15s' "$tool") $(cat "$OUT/ingest/r$r-$tool.time"); $(grep 'records sent' "$OUT/ingest/r$r-$tool.out" | tail -1 | cut -d, -f1-3); in topic $(awk -F: '{s += $3} END {print s}' "$OUT/ingest/r$r-$tool.offsets")"
}
# run_pp_variants ROUND: the optional ProducerPerformance variant
# (BENCH_PP_INFLIGHT1=1): one request in flight per broker, as Sarama's
# idempotent producer is limited to.
run_pp_variants() {
  if [ "${BENCH_PP_INFLIGHT1:-0}" = 1 ]; then run_pp "$1" pp-inflight1 max.in.flight.requests.per.connection=1; fi
  if [ "${BENCH_PP_TXN:-1}" = 1 ]; then
    run_pp "$1" pp-txn --transactional-id "bench-pp-txn-$RUN_ID-r$1" --transaction-duration-ms "${BENCH_PP_TXN_MS:-250}"
  fi
}

# ProducerPerformance gets the project's producer settings (benchmarks/cmd/kafkaprops
# reads them from kafkaconfig: acks, idempotence, compression, linger, batch size).
mapfile -t PP_PROPS < <("$WORK/kafkaprops")
echo "ProducerPerformance producer properties (from kafkaconfig): ${PP_PROPS[*]}" >>"$OUT/machine.txt"

if has ingest; then
  section_mark ingest-start
  step "file -> Kafka: payload for ProducerPerformance (the values logmon sends)"
  record "$BIN" parse -year $YEAR -source-tz $TZ_SRC "$FILE" '>' "$PAYLOAD"
  "$BIN" parse -year $YEAR -source-tz $TZ_SRC "$FILE" >"$PAYLOAD"
  note "$(wc -l <"$PAYLOAD") values, $(wc -c <"$PAYLOAD") bytes"
  first=1
  [ "$WARMUP" = 1 ] && first=0
  step "file -> Kafka: logmon ingest vs ProducerPerformance, $INGEST_ROUNDS rounds alternating$([ "$first" = 0 ] && echo ' (round 0: warm-up, not counted)')"
  for r in $(seq "$first" "$INGEST_ROUNDS"); do
    if [ $((r % 2)) = 1 ]; then run_logmon_ingest "$r"; run_logmon_baseline "$r"; run_pp "$r"; run_pp_variants "$r"
    else run_pp_variants "$r"; run_pp "$r"; run_logmon_baseline "$r"; run_logmon_ingest "$r"; fi
    topic_delete "${TOPIC_PREFIX}r$r-.*"
  done
  section_mark ingest-end
fi

# ---------------------------------------------------------------- 3. profile
if has profile; then
  section_mark profile-start
  step "file -> Kafka: one in-process ingest under pprof (benchmarks/cmd/ingestprof; not counted in the medians)"
  t=${TOPIC_PREFIX}profile
  topic_create "$t"; TOPICS_MADE=1
  b0=$(broker_cpu || true)
  record "$WORK/ingestprof" -brokers "$BROKERS" -file "$FILE" -topic "$t" -year $YEAR -source-tz $TZ_SRC \
    -cpuprofile "$OUT/profile/cpu.pprof" -memprofile "$OUT/profile/allocs.pprof"
  "$WORK/ingestprof" -brokers "$BROKERS" -file "$FILE" -topic "$t" -year $YEAR -source-tz $TZ_SRC \
    -cpuprofile "$OUT/profile/cpu.pprof" -memprofile "$OUT/profile/allocs.pprof" | tee "$OUT/profile/ingestprof.txt"
  b1=$(broker_cpu || true)
  broker_cpu_delta "$b0" "$b1" "$OUT/profile/brokercpu.txt"
  [ -s "$OUT/profile/brokercpu.txt" ] && note "brokers' CPU during the profiled run: $(cat "$OUT/profile/brokercpu.txt")"
  topic_delete "$t"
  go tool pprof -top -nodecount=40 "$WORK/ingestprof" "$OUT/profile/cpu.pprof" >"$OUT/profile/top.txt" 2>/dev/null || true
  go tool pprof -top -cum -nodecount=60 "$WORK/ingestprof" "$OUT/profile/cpu.pprof" >"$OUT/profile/top-cum.txt" 2>/dev/null || true
  sed -n '1,22p' "$OUT/profile/top.txt"
  if command -v perf >/dev/null; then
    step "parser end to end: where logmon parse -summary spends its time (perf, CPU 0)"
    record perf record -F 4999 -o "$WORK/parse.perf.data" -- "${PIN[@]}" "$BIN" parse -summary -year $YEAR -source-tz $TZ_SRC "$FILE"
    if perf record -F 4999 -o "$WORK/parse.perf.data" -- "${PIN[@]}" "$BIN" parse -summary -year $YEAR -source-tz $TZ_SRC "$FILE" \
      >/dev/null 2>"$OUT/profile/parse-perf.err"; then
      perf report -i "$WORK/parse.perf.data" --stdio --no-children --sort symbol 2>/dev/null | grep '%' | grep -v '^#' >"$OUT/profile/parse-perf-symbols.txt"
      # shares by area: the parser itself, the runtime's allocation and GC, the rest
      awk '{ p = $1; sub("%", "", p); g = "other"
             if ($0 ~ /sshlog|xxhash|isIPv4|indexbyte|stringslite|strings\./) g = "parser (sshlog, row hash, string search)"
             else if ($0 ~ /runtime\.(gc|scan|find|wb|bulk|tryDefer|greyobject|spanSet|heapBits|typePointers|mallocgc|memclr|\(\*mspan\)|\(\*gcWork\))|gcWriteBarrier/) g = "runtime: allocation and GC"
             else if ($0 ~ /mapassign|mapaccess|aeshash/) g = "summary maps"
             else if ($0 ~ /\[k\]/) g = "kernel (read, page faults)"
             else if ($0 ~ /main\.|bufio/) g = "main (read loop) and bufio"
             a[g] += p }
           END { for (k in a) printf "%5.1f%%  %s\n", a[k], k }' "$OUT/profile/parse-perf-symbols.txt" | sort -rn >"$OUT/profile/parse-perf-groups.txt"
      cat "$OUT/profile/parse-perf-groups.txt"
    fi
  fi
  section_mark profile-end
fi

# ---------------------------------------------------------------- summary
kill "$LOAD_PID" 2>/dev/null || true
LOAD_PID=
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/machine.txt"
ln -sfn "$RUN_ID" "$ROOT/benchmarks/results/latest"
"$WORK/benchsum" -md "$OUT" >"$OUT/summary.md"
echo
"$WORK/benchsum" "$OUT" | tee "$OUT/summary.txt"
echo
echo "raw outputs: benchmarks/results/$RUN_ID (commands.txt has every command as run)"
