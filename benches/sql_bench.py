"""The SQL `funnel sql` generates against a hand-written equivalent, on DuckDB and
PostgreSQL, with the same answers checked row by row (issue 20, docs/performance.md).

    python3 benches/sql_bench.py ENGINE RULESET CONTACTS [--runs N]

ENGINE is `duckdb` (the PyPI wheel, 2 threads) or `postgres` (psql on PGHOST/PGPORT/
PGUSER, e.g. under .ci/with-postgres); RULESET is `light` (benches/sql/light.funnel,
hand-written in benches/sql/light_handwritten.sql) or `b2b` (examples/b2b, hand-written
in benches/b2b_handwritten.py, the DuckDB query benches/run.sh runs on files, here over
the tables in either engine's dialect).
Generates CONTACTS contacts with `funnel gen` (seed 1, 20 events each on average),
loads them into the canonical tables (docs/sql.md), runs both queries N times (default
1), checks every value of every row agrees, and prints the fastest time of each and
the ratio. Needs a release build (`cargo build --release`).
"""

import csv
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FUNNEL = os.environ.get("FUNNEL_BIN", os.path.join(ROOT, "target", "release", "funnel"))
NOW = "2026-11-20T00:00:00Z"
NOW_SQL = "TIMESTAMP '2026-11-20 00:00:00'"
RULES = {
    "light": os.path.join(ROOT, "benches", "sql", "light.funnel"),
    "b2b": os.path.join(ROOT, "examples", "b2b", "rules.funnel"),
}
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def funnel(*args):
    return subprocess.run([FUNNEL, *args], check=True, capture_output=True, text=True).stdout


def sql_type(ty):
    return {"int": "BIGINT", "duration": "BIGINT", "number": "DOUBLE PRECISION", "bool": "BOOLEAN",
            "date": "DATE", "timestamp": "TIMESTAMP"}.get(ty if isinstance(ty, str) else "", "VARCHAR")


def seconds(cell):
    """A duration cell (`90d`) as seconds; calendar units are left missing."""
    if not cell:
        return None
    digits = cell.rstrip("smhdw")
    return int(digits) * UNITS[cell[len(digits):]] if digits.isdigit() and cell[len(digits):] in UNITS else None


def tables(plan):
    """Canonical table name -> [(column, SQL type, is duration)]."""
    s = plan["schema"]
    contacts = [("id", "VARCHAR", False)] + [(f["name"], sql_type(f["ty"]), f["ty"] == "duration") for f in s["contact"]]
    accounts = [("id", "VARCHAR", False)] + [(f["name"], sql_type(f["ty"]), f["ty"] == "duration") for f in s["account"]]
    fields = {}
    for e in s["events"]:
        for f in e["fields"]:
            fields.setdefault(f["name"], (sql_type(f["ty"]), f["ty"] == "duration"))
    events = [("contact_id", "VARCHAR", False), ("event", "VARCHAR", False), ("at", "TIMESTAMP", False)]
    events += [(n, t, d) for n, (t, d) in fields.items()]
    changes = [("contact_id", "VARCHAR", False), ("attribute", "VARCHAR", False), ("value", "VARCHAR", False),
               ("at", "TIMESTAMP", False)]
    return {"contacts": contacts, "accounts": accounts, "events": events, "changes": changes}


def typed_csv(src, dst, cols):
    """The CSV with the canonical columns in order, durations as seconds, missing empty."""
    with open(src, newline="") as f, open(dst, "w", newline="") as g:
        r = csv.DictReader(f)
        w = csv.writer(g)
        for row in r:
            out = []
            for name, _, duration in cols:
                v = row.get(name, "") or ""
                if duration:
                    v = seconds(v)
                    v = "" if v is None else str(v)
                if v.endswith("Z") and "T" in v:
                    v = v[:-1].replace("T", " ")
                out.append(v)
            w.writerow(out)


def load_duckdb(con, data, schema):
    for name, cols in schema.items():
        defs = ", ".join(f'"{c}" {t}' for c, t, _ in cols)
        con.execute(f'CREATE TABLE {name} ({defs})')
        path = os.path.join(data, f"{name}.typed.csv")
        if os.path.exists(path):
            con.execute(f"COPY {name} FROM '{path}' (HEADER false, NULLSTR '')")


def psql(sql, *flags):
    return subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", "postgres", *flags],
                          input=sql, capture_output=True, text=True, check=True).stdout


def load_postgres(data, schema):
    script = ["DROP SCHEMA IF EXISTS funnel_bench CASCADE;", "CREATE SCHEMA funnel_bench;",
              "SET search_path = funnel_bench;"]
    for name, cols in schema.items():
        defs = ", ".join(f'"{c}" {t}' for c, t, _ in cols)
        script.append(f"CREATE TABLE {name} ({defs});")
        path = os.path.join(data, f"{name}.typed.csv")
        if os.path.exists(path):
            script.append(f"\\copy {name} FROM '{path}' WITH (FORMAT csv)")
        script.append(f"ANALYZE {name};")
    psql("\n".join(script))


def run_duckdb(con, query):
    t = time.perf_counter()
    cur = con.execute(query)
    cols = [d[0] for d in cur.description]
    rows = [dict(zip(cols, r)) for r in cur.fetchall()]
    return time.perf_counter() - t, rows


def run_postgres(query):
    wrapped = (f"SET search_path = funnel_bench; SET TimeZone = 'UTC'; SET jit = off;\n"
               f"SELECT COALESCE(jsonb_agg(t), '[]'::jsonb) FROM ({query}) AS t;")
    t = time.perf_counter()
    out = psql(wrapped, "-A", "-t")
    elapsed = time.perf_counter() - t
    lines = [l for l in out.split("\n") if l.strip()]
    return elapsed, json.loads(lines[-1])


def same(a, b):
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is None and b is None
        return math.isclose(float(a), float(b), abs_tol=1e-9)
    if hasattr(a, "isoformat"):
        a = a.isoformat()
    if hasattr(b, "isoformat"):
        b = b.isoformat()
    return a == b or str(a) == str(b)


def compare(what, got, want):
    """Every value of every row of `want` in `got` (by id); the differences, at most 10."""
    by_id = {r["id"]: r for r in got}
    diffs = []
    if set(by_id) != {r["id"] for r in want}:
        diffs.append(f"{what}: ids differ ({len(by_id)} vs {len(want)})")
    for r in want:
        g = by_id.get(r["id"], {})
        for k, v in r.items():
            if not same(g.get(k), v):
                diffs.append(f"{what} {r['id']}.{k}: generated {g.get(k)!r}, hand-written {v!r}")
    return diffs[:10]


def main():
    engine, ruleset, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    runs = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 1
    rules = RULES[ruleset]
    plan = json.loads(funnel("compile", rules))
    schema = tables(plan)
    work = tempfile.mkdtemp(prefix="funnel-sql-bench-")
    funnel("gen", rules, "-o", work, "--contacts", str(n))
    for name, cols in schema.items():
        src = os.path.join(work, f"{name}.csv")
        if os.path.exists(src):
            typed_csv(src, os.path.join(work, f"{name}.typed.csv"), cols)
    dialect = "postgres" if engine == "postgres" else "duckdb"
    generated = [q for q in funnel("sql", rules, "--dialect", dialect, "--as-of", NOW).split(";\n") if q.strip()]
    if ruleset == "light":
        text = open(os.path.join(ROOT, "benches", "sql", "light_handwritten.sql")).read().replace(":now", NOW_SQL)
        hand = text.split("-- accounts\n")
    else:
        sys.path.insert(0, os.path.join(ROOT, "benches"))
        from b2b_handwritten import query  # noqa: E402
        from handwritten import DIALECTS  # noqa: E402

        hand = [query(lambda table: table, DIALECTS[dialect], rows) for rows in ["contacts", "accounts"]]
    if engine == "duckdb":
        import duckdb
        con = duckdb.connect()
        con.execute("SET threads = 2")
        con.execute("SET TimeZone = 'UTC'")
        load_duckdb(con, work, schema)
        execute = lambda q: run_duckdb(con, q)  # noqa: E731
    else:
        load_postgres(work, schema)
        execute = run_postgres
    shutil.rmtree(work)
    results = {}
    for label, queries in [("generated", generated), ("hand-written", hand)]:
        best, rows = None, None
        for _ in range(runs):
            total, rows = 0.0, []
            for q in queries:
                t, r = execute(q)
                total += t
                rows.append(r)
            best = total if best is None else min(best, total)
        results[label] = (best, rows)
    diffs = []
    for i, what in enumerate(["contacts", "accounts"]):
        diffs += compare(what, results["generated"][1][i], results["hand-written"][1][i])
    g, h = results["generated"][0], results["hand-written"][0]
    print(f"{engine} {ruleset} {n} contacts: generated {g:.2f} s, hand-written {h:.2f} s, ratio {g / h:.2f}x")
    if diffs:
        print("answers differ:\n  " + "\n  ".join(diffs), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
