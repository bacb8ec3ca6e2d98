"""What the hand-written DuckDB queries of the benchmark share: the evaluation moment,
windows, decay, caps, rounding and tiers as docs/semantics.md defines them, and the
command line of every query script:

    python3 benches/duckdb_NAME.py DATA_DIR FORMAT OUT.csv [THREADS]

reads DATA_DIR/{contacts,events,accounts,changes}.FORMAT (csv or parquet), runs the
query and writes its rows to OUT.csv. Prints the seconds it took.
"""

import sys
import time

import duckdb

NOW_S = 1795132800  # 2026-11-20T00:00:00Z, the moment of every benchmark run
US = 1_000_000
DAY = 86_400 * US
WEEK = 7 * DAY
NOW = NOW_S * US


def within(days, m):
    """`within Nd` seen from moment m: m - N days <= at <= m."""
    return f"(ts >= {m - days * DAY} AND ts <= {m})"


def upto(m):
    """No window (`ever`): every event up to moment m."""
    return f"(ts <= {m})"


def between(a, b, m):
    """[a, b) seen from moment m (b < m here)."""
    return f"(ts >= {a} AND ts < {b} AND ts <= {m})"


def half_life(days, m):
    """An event's decay factor under `decay half_life Nd` at moment m."""
    return f"pow(0.5, ({m} - ts) / 1e6 / {days * 86400})"


def step(pct, days, m):
    """An event's decay factor under `decay P% every Nd` at moment m."""
    return f"pow({1 - pct / 100}, floor(({m} - ts) / 1e6 / {days * 86400}))"


def cap(x, c):
    """A rule's `, at most C`: bounds the magnitude of its total."""
    return f"greatest(-{c}, least({c}, {x}))"


def r2(x):
    """A score's rounding: half away from zero, like Funnel's round(x * 100) / 100."""
    return f"(round(({x}) * 100) / 100)"


def tier(score, bands):
    """A tier set over `score`: the band whose whole-number range holds the score rounded
    to a whole number (half away from zero); NULL in no band. `bands` is
    [(name, lo, hi), ...]."""
    r = f"round({score})"
    whens = " ".join(f"WHEN {r} BETWEEN {lo} AND {hi} THEN '{name}'" for name, lo, hi in bands)
    return f"CASE {whens} END"


def main(query):
    """Runs `query(src)` on the command line's data and writes it as CSV; `src(table)` is
    the SQL that reads one of the data's tables."""
    data, fmt, out = sys.argv[1], sys.argv[2], sys.argv[3]
    threads = int(sys.argv[4]) if len(sys.argv) > 4 else 2
    if fmt == "parquet":
        def src(t):
            return f"read_parquet('{data}/{t}.parquet')"
    else:
        def src(t):
            return f"read_csv('{data}/{t}.csv', header = true)"
    con = duckdb.connect()
    con.execute(f"SET threads = {threads}")
    con.execute("SET preserve_insertion_order = false")
    start = time.perf_counter()
    con.execute(f"COPY ({query(src)}) TO '{out}' (HEADER, DELIMITER ',')")
    print(f"{time.perf_counter() - start:.3f}")
