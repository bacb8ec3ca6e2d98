#!/usr/bin/env bash
# Funnel against DuckDB on the example rule set (see docs/performance.md).
#
#   benches/run.sh            # 100k and 1M contacts, 20 events each on average
#   benches/run.sh 2000       # any sizes (a quick smoke run)
#   FUNNEL_BENCH_RUNS=3 benches/run.sh   # the fastest of 3 runs of each command
#
# For each size: generates the data once as CSV and Parquet (`funnel gen`, seed 1),
# runs `funnel run` and the DuckDB query (benches/duckdb_b2b.py) on the same files with
# 2 threads, checks that both give the same results (benches/compare.py, row by row),
# and prints wall time, peak memory (max RSS) and the ratios. At the largest size it
# also runs Funnel from Parquet on 1 thread, for the 2-core speed-up, and once more with
# FUNNEL_TIMINGS set, for the time and memory of each phase.
# Needs: cargo, python3 with duckdb (`pip install duckdb`), GNU time (/usr/bin/time).
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -eq 0 ] && sizes=(100000 1000000)
work=${FUNNEL_BENCH_DIR:-target/bench-data}
rules=examples/b2b/rules.funnel
asof=2026-11-20T00:00:00Z
cargo build --profile profiling --quiet
mkdir -p "$work"
# A copy, so that rebuilding during a long run does not change what is measured.
cp target/profiling/funnel "$work/funnel"
funnel=$work/funnel
python3 -c 'import duckdb' || { echo "benches/run.sh: needs python3 with duckdb (pip install duckdb)" >&2; exit 2; }

# measure COMMAND...: runs the command under GNU time FUNNEL_BENCH_RUNS times (default
# 1) and prints "seconds maxrss_kb" of the fastest run: on a shared machine the fastest
# of a few runs is the figure least disturbed by others.
runs=${FUNNEL_BENCH_RUNS:-1}
measure() {
  local log best=""
  log=$(mktemp)
  for _ in $(seq "$runs"); do
    /usr/bin/time -f '%e %M' -o "$log" "$@" >/dev/null
    if [ -z "$best" ] || [ "$(echo "$(cut -d' ' -f1 "$log") < ${best%% *}" | bc -l)" = 1 ]; then
      best=$(cat "$log")
    fi
  done
  echo "$best"
  rm -f "$log"
}

printf '%-9s %-8s %10s %10s %10s %10s %8s %8s  %s\n' contacts format funnel_s duckdb_s funnel_MB duckdb_MB speedup mem_ratio agree
results=()
for n in "${sizes[@]}"; do
  dir=$work/$n
  for fmt in csv parquet; do
    if [ ! -f "$dir/$fmt/events.$fmt" ]; then
      "$funnel" gen "$rules" --contacts "$n" --events-per-contact 20 --seed 1 \
        --format "$fmt" -o "$dir/$fmt" -q
    fi
  done
  for fmt in parquet csv; do
    out_f=$dir/funnel-$fmt.csv
    out_d=$dir/duckdb-$fmt.csv
    read -r tf mf < <(RAYON_NUM_THREADS=2 measure "$funnel" run "$rules" --data "$dir/$fmt" \
      --as-of "$asof" -q -o "$out_f")
    read -r td md < <(measure python3 benches/duckdb_b2b.py "$dir/$fmt" "$fmt" "$out_d" 2)
    if python3 benches/compare.py "$out_f" "$out_d" >"$dir/compare-$fmt.txt"; then
      agree=yes
    else
      agree="NO (see $dir/compare-$fmt.txt)"
    fi
    printf '%-9s %-8s %10s %10s %10d %10d %8.2f %8.2f  %s\n' "$n" "$fmt" "$tf" "$td" \
      $((mf / 1024)) $((md / 1024)) "$(echo "$td / $tf" | bc -l)" \
      "$(echo "$mf / $md" | bc -l)" "$agree"
    results+=("$n $fmt $tf")
  done
done
n=${sizes[-1]}
read -r t1 _ < <(RAYON_NUM_THREADS=1 measure "$funnel" run "$rules" --data "$work/$n/parquet" \
  --as-of "$asof" -q -o "$work/$n/funnel-1thread.csv")
t2=$(printf '%s\n' "${results[@]}" | awk -v n="$n" '$1 == n && $2 == "parquet" {print $3}')
printf '\n%s contacts from Parquet: 1 thread %ss, 2 threads %ss, speed-up %.2f\n' "$n" "$t1" "$t2" \
  "$(echo "$t1 / $t2" | bc -l)"
printf '\nwhere the time goes, %s contacts from Parquet (FUNNEL_TIMINGS, 2 threads):\n' "$n"
RAYON_NUM_THREADS=2 FUNNEL_TIMINGS=1 "$funnel" run "$rules" --data "$work/$n/parquet" \
  --as-of "$asof" -q -o "$work/$n/funnel-timed.csv" 2>&1 >/dev/null | sed 's/^funnel: /  /'
if [ ${#sizes[@]} -ge 2 ]; then
  a=${sizes[-2]}
  for fmt in parquet csv; do
    ta=$(printf '%s\n' "${results[@]}" | awk -v n="$a" -v f="$fmt" '$1 == n && $2 == f {print $3}')
    tb=$(printf '%s\n' "${results[@]}" | awk -v n="$n" -v f="$fmt" '$1 == n && $2 == f {print $3}')
    printf 'scaling %s: %sx the data takes %.2fx the time\n' "$fmt" "$((n / a))" \
      "$(echo "$tb / $ta" | bc -l)"
  done
fi
