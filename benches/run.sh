#!/usr/bin/env bash
# Funnel against DuckDB on two rule sets and on files written three ways
# (see docs/performance.md, "The benchmark against DuckDB").
#
#   benches/run.sh            # 100k and 1M contacts, 20 events each on average
#   benches/run.sh 10000      # any sizes (a quick smoke run)
#   FUNNEL_BENCH_RUNS=3 benches/run.sh   # the fastest of 3 runs of each command
#
# For each size: generates the data once as CSV and Parquet (`funnel gen`, seed 1) and
# rewrites it the way DuckDB and pyarrow write files (benches/duckdb_files.py: DuckDB's
# CSV with timestamps as `2024-11-01 00:01:04`, DuckDB's Parquet, pyarrow's Parquet).
# Then, for each rule set — the b2b example (examples/b2b/rules.funnel, the DuckDB query
# benches/duckdb_b2b.py) and the light one (benches/light/rules.funnel,
# benches/duckdb_light.py) — and each of the five copies of the data, runs `funnel run`
# and the DuckDB query on the same files with 2 threads, checks that both give the same
# results (benches/compare.py, row by row) and prints wall time, peak memory (max RSS)
# and the ratios. From Parquet it also times `funnel report` (12 weekly trend steps, the
# default) and `funnel diff OLD NEW` (OLD: the rules with a few thresholds changed,
# benches/light/rules_old.funnel and benches/b2b_old.sed) against `funnel run` on the
# same data. At the largest size: Funnel from Parquet on 1 thread (the 2-core speed-up)
# and the time and memory of each phase (`FUNNEL_TIMINGS`); with two sizes or more, how
# the time grows with the data. Exits 1 when any answers disagree or a command fails.
# Needs: cargo, python3 with duckdb (`pip install duckdb`; pyarrow for the pyarrow
# files, skipped without it), GNU time (/usr/bin/time).
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -eq 0 ] && sizes=(100000 1000000)
work=${FUNNEL_BENCH_DIR:-target/bench-data}
asof=2026-11-20T00:00:00Z
cargo build --profile profiling --quiet
mkdir -p "$work"
# A copy, so that rebuilding during a long run does not change what is measured.
cp target/profiling/funnel "$work/funnel"
funnel=$work/funnel
python3 -c 'import duckdb' || { echo "benches/run.sh: needs python3 with duckdb (pip install duckdb)" >&2; exit 2; }
export RAYON_NUM_THREADS=2

# The rule sets: name, rule file, DuckDB query, the old version for `funnel diff`.
rule_sets=(b2b light)
declare -A rules=([b2b]=examples/b2b/rules.funnel [light]=benches/light/rules.funnel)
declare -A query=([b2b]=benches/duckdb_b2b.py [light]=benches/duckdb_light.py)
declare -A old=([b2b]=$work/b2b-old/rules.funnel [light]=benches/light/rules_old.funnel)
# The b2b example with a few thresholds changed (benches/b2b_old.sed), beside copies of
# the files it uses; a change of the example that leaves a line of the script without
# effect stops the run here.
mkdir -p "$work/b2b-old"
for f in schema scores rules; do
  sed -f benches/b2b_old.sed "examples/b2b/$f.funnel" >"$work/b2b-old/$f.funnel"
done
edits=$(cat examples/b2b/{schema,scores,rules}.funnel | diff - <(cat "$work"/b2b-old/{schema,scores,rules}.funnel) | grep -c '^>' || true)
want=$(grep -c '^s' benches/b2b_old.sed)
[ "$edits" = "$want" ] || { echo "benches/run.sh: benches/b2b_old.sed changed $edits lines of examples/b2b, not $want" >&2; exit 2; }

datas=(parquet csv duckdb-parquet duckdb-csv)
python3 -c 'import pyarrow' 2>/dev/null && datas+=(pyarrow-parquet)

# measure COMMAND...: runs the command under GNU time FUNNEL_BENCH_RUNS times (default
# 1) and prints "seconds maxrss_kb" of the fastest run (on a shared machine the fastest
# of a few runs is the figure least disturbed by others), or "failed -" when it fails.
runs=${FUNNEL_BENCH_RUNS:-1}
failures=0
measure() {
  local log best=""
  log=$(mktemp)
  for _ in $(seq "$runs"); do
    if ! /usr/bin/time -f '%e %M' -o "$log" "$@" >/dev/null 2>"$log.err"; then
      echo "benches/run.sh: failed: $*" >&2
      head -20 "$log.err" >&2
      best="failed -"
      break
    fi
    if [ -z "$best" ] || [ "$(echo "$(cut -d' ' -f1 "$log") < ${best%% *}" | bc -l)" = 1 ]; then
      best=$(cat "$log")
    fi
  done
  echo "$best"
  rm -f "$log" "$log.err"
}
# ratio A B: A / B to 2 decimals, `-` when either is not a positive number.
ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else printf "-" }'
}
# mb KB: KiB to MiB, `-` when not a number.
mb() {
  awk -v k="$1" 'BEGIN { if (k + 0 > 0) printf "%d", k / 1024; else printf "-" }'
}

declare -A time_run
printf '%-9s %-6s %-16s %9s %9s %9s %9s %8s %8s  %s\n' contacts rules data funnel_s duckdb_s \
  funnel_MB duckdb_MB speedup mem_ratio agree
for n in "${sizes[@]}"; do
  dir=$work/$n
  for fmt in csv parquet; do
    if [ ! -f "$dir/$fmt/events.$fmt" ]; then
      "$funnel" gen examples/b2b/rules.funnel --contacts "$n" --events-per-contact 20 --seed 1 \
        --format "$fmt" -o "$dir/$fmt" -q
    fi
  done
  if [ ! -f "$dir/duckdb-csv/events.csv" ] || { [[ " ${datas[*]} " == *" pyarrow-parquet "* ]] &&
    [ ! -f "$dir/pyarrow-parquet/events.parquet" ]; }; then
    python3 benches/duckdb_files.py "$dir/parquet" "$dir" >/dev/null
  fi
  for rs in "${rule_sets[@]}"; do
    for data in "${datas[@]}"; do
      fmt=${data##*-}
      out_f=$dir/funnel-$rs-$data.csv
      out_d=$dir/duckdb-$rs-$data.csv
      read -r tf mf < <(measure "$funnel" run "${rules[$rs]}" --data "$dir/$data" \
        --as-of "$asof" -q -o "$out_f")
      read -r td md < <(measure python3 "${query[$rs]}" "$dir/$data" "$fmt" "$out_d" 2)
      if [ "$tf" != failed ] && [ "$td" != failed ] &&
        python3 benches/compare.py "$out_f" "$out_d" >"$dir/compare-$rs-$data.txt"; then
        agree="yes ($(tail -1 "$dir/compare-$rs-$data.txt" | cut -d' ' -f1-4))"
      else
        agree="NO (see $dir/compare-$rs-$data.txt)"
        failures=$((failures + 1))
      fi
      printf '%-9s %-6s %-16s %9s %9s %9s %9s %8s %8s  %s\n' "$n" "$rs" "$data" "$tf" "$td" \
        "$(mb "$mf")" "$(mb "$md")" "$(ratio "$td" "$tf")" "$(ratio "$mf" "$md")" "$agree"
      time_run[$n $rs $data]=$tf
    done
  done
done

printf '\nreport (12 weekly trend steps) and diff (OLD: a few thresholds changed) against run, from Parquet:\n'
printf '%-9s %-6s %9s %9s %9s %8s %9s %9s %8s\n' contacts rules run_s report_s report_MB \
  rep/run diff_s diff_MB diff/run
for n in "${sizes[@]}"; do
  dir=$work/$n
  for rs in "${rule_sets[@]}"; do
    tr=${time_run[$n $rs parquet]}
    read -r tp mp < <(measure "$funnel" report "${rules[$rs]}" --data "$dir/parquet" \
      --as-of "$asof" -o "$dir/report-$rs.html")
    read -r tdf mdf < <(measure "$funnel" diff "${old[$rs]}" "${rules[$rs]}" \
      --data "$dir/parquet" --as-of "$asof" --color never)
    if [ "$tp" = failed ] || [ "$tdf" = failed ]; then
      failures=$((failures + 1))
    fi
    printf '%-9s %-6s %9s %9s %9s %8s %9s %9s %8s\n' "$n" "$rs" "$tr" "$tp" "$(mb "$mp")" \
      "$(ratio "$tp" "$tr")" "$tdf" "$(mb "$mdf")" "$(ratio "$tdf" "$tr")"
  done
done

n=${sizes[-1]}
printf '\n%s contacts from Parquet, 1 thread against 2:\n' "$n"
for rs in "${rule_sets[@]}"; do
  read -r t1 _ < <(RAYON_NUM_THREADS=1 measure "$funnel" run "${rules[$rs]}" \
    --data "$work/$n/parquet" --as-of "$asof" -q -o "$work/$n/funnel-$rs-1thread.csv")
  t2=${time_run[$n $rs parquet]}
  printf '  %-6s 1 thread %ss, 2 threads %ss, speed-up %s\n' "$rs" "$t1" "$t2" "$(ratio "$t1" "$t2")"
done

for rs in "${rule_sets[@]}"; do
  for data in parquet duckdb-csv; do
    printf '\nwhere the time goes, %s rules, %s contacts from %s (FUNNEL_TIMINGS, 2 threads):\n' \
      "$rs" "$n" "$data"
    FUNNEL_TIMINGS=1 "$funnel" run "${rules[$rs]}" --data "$work/$n/$data" --as-of "$asof" -q \
      -o "$work/$n/funnel-$rs-timed.csv" 2>&1 >/dev/null | sed 's/^funnel: /  /'
  done
done

if [ ${#sizes[@]} -ge 2 ]; then
  a=${sizes[-2]}
  printf '\nscaling from %s to %s contacts (%sx the data):\n' "$a" "$n" "$(ratio "$n" "$a")"
  for rs in "${rule_sets[@]}"; do
    for data in "${datas[@]}"; do
      printf '  %-6s %-16s %sx the time\n' "$rs" "$data" \
        "$(ratio "${time_run[$n $rs $data]}" "${time_run[$a $rs $data]}")"
    done
  done
fi

if [ "$failures" -gt 0 ]; then
  echo "benches/run.sh: $failures comparisons disagree or commands failed (see above)" >&2
  exit 1
fi
