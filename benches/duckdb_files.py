"""Rewrites a generated data set the way other tools write it, for the benchmark.

    python3 benches/duckdb_files.py DATA_DIR OUT_DIR

reads DATA_DIR/{contacts,events,accounts,changes}.parquet (or .csv), as `funnel gen`
writes them, and writes the same tables three times:

- OUT_DIR/duckdb-csv/*.csv: DuckDB's `COPY … TO … (HEADER)`, timestamps written as
  `2024-11-01 00:01:04` (UTC, no offset: the tables' timestamps are cast to TIMESTAMP);
- OUT_DIR/duckdb-parquet/*.parquet: DuckDB's `COPY … (FORMAT parquet)` with its
  defaults (122,880-row groups, ids of many distinct values plain-encoded);
- OUT_DIR/pyarrow-parquet/*.parquet: pyarrow's `ParquetWriter` with its defaults
  (dictionary pages, row groups of up to 1,048,576 rows), when pyarrow is installed.

Every events table is one wide table, as `funnel gen` writes it: a column per field
name of every event type, null where an event's type lacks the field, so most cells of
the field columns are null. Rows keep their order. Prints what it wrote.
"""

import os
import sys

import duckdb

TABLES = ["contacts", "events", "accounts", "changes"]


def source(data, table):
    parquet = os.path.join(data, f"{table}.parquet")
    if os.path.exists(parquet):
        return f"read_parquet('{parquet}')"
    return f"read_csv('{os.path.join(data, table)}.csv', header = true)"


def select(con, data, table):
    """The table's rows with every timestamp as a plain (UTC) TIMESTAMP, the type DuckDB
    gives a timestamp without an offset and writes as `2024-11-01 00:01:04`."""
    src = source(data, table)
    cols = []
    for name, typ, *_ in con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall():
        quoted = '"' + name.replace('"', '""') + '"'
        if typ == "TIMESTAMP WITH TIME ZONE":
            cols.append(f"CAST({quoted} AS TIMESTAMP) AS {quoted}")
        else:
            cols.append(quoted)
    return f"SELECT {', '.join(cols)} FROM {src}"


def write_pyarrow(con, query, path):
    """pyarrow's own way of writing: its default row groups of up to 1,048,576 rows
    (DuckDB hands the rows over in smaller batches; each write is a row group of its
    own, so the batches are gathered first)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    group = 1 << 20
    reader = con.sql(query).to_arrow_reader(group)
    with pq.ParquetWriter(path, reader.schema) as writer:
        batches, rows = [], 0
        for batch in reader:
            batches.append(batch)
            rows += batch.num_rows
            if rows >= group:
                table = pa.Table.from_batches(batches)
                writer.write_table(table.slice(0, group))
                rest = table.slice(group)
                batches, rows = rest.to_batches(), rest.num_rows
        if rows:
            writer.write_table(pa.Table.from_batches(batches, reader.schema))


def main():
    data, out = sys.argv[1], sys.argv[2]
    try:
        import pyarrow  # noqa: F401

        kinds = ["duckdb-csv", "duckdb-parquet", "pyarrow-parquet"]
    except ImportError:
        print("pyarrow is not installed (pip install pyarrow): no pyarrow-parquet files")
        kinds = ["duckdb-csv", "duckdb-parquet"]
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for kind in kinds:
        os.makedirs(os.path.join(out, kind), exist_ok=True)
    for table in TABLES:
        query = select(con, data, table)
        for kind in kinds:
            ext = "csv" if kind.endswith("csv") else "parquet"
            path = os.path.join(out, kind, f"{table}.{ext}")
            if kind == "duckdb-csv":
                con.execute(f"COPY ({query}) TO '{path}' (HEADER)")
            elif kind == "duckdb-parquet":
                con.execute(f"COPY ({query}) TO '{path}' (FORMAT parquet)")
            else:
                write_pyarrow(con, query, path)
            print(f"  {path}")


if __name__ == "__main__":
    main()
