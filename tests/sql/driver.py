"""Runs Funnel's compiled SQL on a real engine for the differential tests.

Reads a JSON list of jobs from stdin: {"name", "setup": [sql], "queries": [sql]} and
writes a JSON list of {"name", "results": [[row objects]] | null, "error": str | null}.
Engines: `duckdb` (the PyPI wheel), `postgres` (psql on PGHOST/PGPORT/PGUSER) and
`spark` (PySpark in local mode, one session for all jobs).
"""
import datetime
import decimal
import json
import os
import subprocess
import sys


def plain(v):
    if isinstance(v, datetime.datetime):
        return v.isoformat()
    if isinstance(v, datetime.date):
        return v.isoformat()
    if isinstance(v, decimal.Decimal):
        return float(v)
    return v


def run_duckdb(jobs):
    import duckdb

    out = []
    for job in jobs:
        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        try:
            for stmt in job["setup"]:
                con.execute(stmt)
            results = []
            for q in job["queries"]:
                cur = con.execute(q)
                cols = [d[0] for d in cur.description]
                results.append([{c: plain(v) for c, v in zip(cols, row)} for row in cur.fetchall()])
            out.append({"name": job["name"], "results": results, "error": None})
        except Exception as e:  # reported per job, compared by the Rust test
            out.append({"name": job["name"], "results": None, "error": str(e)})
        finally:
            con.close()
    return out


def run_postgres(jobs):
    out = []
    for i, job in enumerate(jobs):
        schema = f"funnel_case_{i}"
        script = [
            "\\set ON_ERROR_STOP on",
            "SET client_min_messages = warning;",
            "SET TimeZone = 'UTC';",
            "SET jit = off;",
            f"DROP SCHEMA IF EXISTS {schema} CASCADE;",
            f"CREATE SCHEMA {schema};",
            f"SET search_path = {schema};",
        ]
        script += [s + ";" for s in job["setup"]]
        for q in job["queries"]:
            script.append(f"SELECT COALESCE(jsonb_agg(t), '[]'::jsonb) FROM ({q}) AS t;")
        script.append(f"DROP SCHEMA {schema} CASCADE;")
        p = subprocess.run(
            ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", "postgres"],
            input="\n".join(script),
            capture_output=True,
            text=True,
        )
        if p.returncode != 0:
            out.append({"name": job["name"], "results": None, "error": p.stderr.strip()})
            continue
        # split("\n"), not splitlines(): JSON may hold U+2028 or U+0085 raw.
        lines = [l for l in p.stdout.split("\n") if l.strip()]
        results = [json.loads(l) for l in lines[-len(job["queries"]):]] if job["queries"] else []
        out.append({"name": job["name"], "results": results, "error": None})
    return out


def run_spark(jobs):
    os.environ["TZ"] = "UTC"
    import time

    time.tzset()
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[2]")
        .appName("funnel-sql-tests")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.adaptive.enabled", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    out = []
    try:
        for job in jobs:
            try:
                for stmt in job["setup"]:
                    spark.sql(stmt)
                results = []
                for q in job["queries"]:
                    rows = spark.sql(q).collect()
                    results.append([{k: plain(v) for k, v in r.asDict().items()} for r in rows])
                out.append({"name": job["name"], "results": results, "error": None})
            except Exception as e:  # reported per job, compared by the Rust test
                out.append({"name": job["name"], "results": None, "error": str(e)[:2000]})
    finally:
        spark.stop()
    return out


def main():
    engine = sys.argv[1]
    jobs = json.load(sys.stdin)
    run = {"duckdb": run_duckdb, "postgres": run_postgres, "spark": run_spark}[engine]
    json.dump(run(jobs), sys.stdout)


if __name__ == "__main__":
    main()
