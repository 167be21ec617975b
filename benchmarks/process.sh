#!/usr/bin/env bash
# Processing throughput (issue 5): the whole replica pre-filled in a fresh
# 3-partition topic, then `logmon process -until-caught-up` with 1 and with
# 2 instances of a fresh group, alternating, BENCH_ROUNDS rounds each: wall
# time to every input and loopback record committed, events/s, peak RSS,
# state on disk. Needs a running cluster (`bin/logmon stack up`); never
# starts or stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${BENCH_ROUNDS:-3}"
work=benchmarks/.work/process
mkdir -p "$work"
go build -o "$work/logmon" ./cmd/logmon
bin="$work/logmon"
run_id=$(date -u +%Y%m%dT%H%M%SZ)
out="benchmarks/results/process-$run_id"
mkdir -p "$out"
replica="$work/SSH.log"
[ -f "$replica" ] || gzip -dc ../shared/data/ssh-replica/SSH.log.gz > "$replica"
lines=$(wc -l < "$replica")
topic="bench-process-$run_id-input"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, load $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$out/summary.txt"
"$bin" ingest -once -from-start -globs "$replica" -year 2015 -source-tz Asia/Seoul -topic "$topic" \
  -registry "$work/registry-$run_id.json" -metrics-addr "" -log-level warn

one() { # instances round [variant flag]
  local n=$1 r=$2 flag=${3:-} group="bench-process-$run_id-$1x-$2${3:+-nopace}"
  local start end pids=()
  start=$(date +%s.%N)
  for i in $(seq 1 "$n"); do
    /usr/bin/time -f "%M" -o "$out/$group-$i.rss" "$bin" process -until-caught-up $flag -group "$group" -input "$topic" \
      -alerts "$group-alerts" -metrics-topic "$group-metrics" -data-dir "$work/$group-$i" -metrics-addr "" -log-level warn \
      2> "$out/$group-$i.log" &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p"; done
  end=$(date +%s.%N)
  local secs rss disk
  secs=$(echo "$end - $start" | bc)
  rss=$(cat "$out/$group"-*.rss | sort -n | tail -1)
  disk=$(du -sk "$work/$group"-* | awk '{s+=$1} END {print s}')
  printf '%d instance(s)%s round %d: %.1f s, %.0f events/s, peak RSS %d MiB, state on disk %d MiB, load %s\n' \
    "$n" "${flag:+ $flag}" "$r" "$secs" "$(echo "$lines / $secs" | bc -l)" $((rss / 1024)) $((disk / 1024)) "$(cut -d' ' -f1 /proc/loadavg)" | tee -a "$out/summary.txt"
  rm -rf "$work/$group"-*
}
# Side by side, alternating the order each round: one instance (paced, the
# default), one instance with -no-pace, two instances.
for r in $(seq 1 "$rounds"); do
  if [ $((r % 2)) = 1 ]; then one 1 "$r"; one 1 "$r" -no-pace; one 2 "$r"; else one 2 "$r"; one 1 "$r" -no-pace; one 1 "$r"; fi
done
for v in "1 instance(s) round" "1 instance(s) -no-pace round" "2 instance(s) round"; do
  med=$(grep -F "$v" "$out/summary.txt" | sed 's/.*: \([0-9.]*\) s,.*/\1/' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  echo "median, ${v% round}: $med s" | tee -a "$out/summary.txt"
done
echo "results in $out (the time includes the final 2 s view settle and 0.5 s lag polling of -until-caught-up)"
