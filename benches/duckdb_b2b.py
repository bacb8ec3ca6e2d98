"""The example rule set (examples/b2b/rules.funnel + scores.funnel) as one hand-written
DuckDB query with the same semantics (docs/semantics.md; the query is
benches/b2b_handwritten.py's), for the benchmark.

    python3 benches/duckdb_b2b.py DATA_DIR FORMAT OUT.csv [THREADS]

reads DATA_DIR/{contacts,events,accounts,changes}.FORMAT (csv or parquet), evaluates
every contact-level definition at 2026-11-20T00:00:00Z and writes one row per contact
(id, then the columns `funnel run` writes) to OUT.csv. Prints the seconds it took.
"""

from b2b_handwritten import query
from duckdb_common import main
from handwritten import DuckDB

if __name__ == "__main__":
    main(lambda src: query(src, DuckDB(), ts_text=True))
