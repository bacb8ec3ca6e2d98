"""What the hand-written DuckDB queries of the benchmark share: the evaluation moment,
windows, decay, caps, rounding and tiers (DuckDB's, from benches/handwritten.py), and the
command line of every query script:

    python3 benches/duckdb_NAME.py DATA_DIR FORMAT OUT.csv [THREADS]

reads DATA_DIR/{contacts,events,accounts,changes}.FORMAT (csv or parquet), runs the
query and writes its rows to OUT.csv. Prints the seconds it took.
"""

import sys
import time

from handwritten import DAY, NOW, NOW_S, US, WEEK, DuckDB  # noqa: F401 - re-exported

_DUCKDB = DuckDB()
within, upto, between = _DUCKDB.within, _DUCKDB.upto, _DUCKDB.between
half_life, step, cap, r2, tier = _DUCKDB.half_life, _DUCKDB.step, _DUCKDB.cap, _DUCKDB.r2, _DUCKDB.tier


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
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET threads = {threads}")
    con.execute("SET preserve_insertion_order = false")
    start = time.perf_counter()
    con.execute(f"COPY ({query(src)}) TO '{out}' (HEADER, DELIMITER ',')")
    print(f"{time.perf_counter() - start:.3f}")
