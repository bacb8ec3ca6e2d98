"""Compares Funnel's contact results with the DuckDB query's, row by row.

    python3 benches/compare.py FUNNEL.csv DUCKDB.csv

Every column of Funnel's file must be in DuckDB's: segments (true/false), tiers and
personas (text, empty when none) and timestamps must be equal; scores may differ by at
most 0.01 (the two sum floating-point terms in different orders, so a score that lands
on a rounding boundary can round either way). Prints segment sizes and score sums of
both and every column that disagrees; exits 1 when any does.
"""

import csv
import sys


def read(path):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return {r["id"]: r for r in rows}, (list(rows[0].keys()) if rows else [])


def number(s):
    return None if s == "" else float(s)


def main():
    funnel, columns = read(sys.argv[1])
    duck, _ = read(sys.argv[2])
    if set(funnel) != set(duck):
        print(f"different contacts: {len(funnel)} vs {len(duck)}")
        return 1
    bad = 0
    for col in columns[1:]:
        mismatches = 0
        sum_f = sum_d = 0.0
        true_f = true_d = 0
        numeric = True
        example = None
        for cid, row in funnel.items():
            a, b = row[col], duck[cid].get(col, "<absent>")
            if a in ("true", "false"):
                numeric = False
                true_f += a == "true"
                true_d += b == "true"
                same = a == b
            else:
                try:
                    x, y = number(a), number(b)
                    sum_f += x or 0.0
                    sum_d += y or 0.0
                    same = (x is None) == (y is None) and (x is None or abs(x - y) <= 0.0100001)
                except ValueError:
                    numeric = False
                    same = a == b
            if not same:
                mismatches += 1
                example = example or (cid, a, b)
        if numeric:
            summary = f"sum {sum_f:.2f} / {sum_d:.2f}"
        else:
            summary = f"true {true_f} / {true_d}" if true_f or true_d else "text"
        flag = "" if mismatches == 0 else f"  MISMATCH {mismatches} rows, e.g. {example}"
        print(f"  {col:<22} {summary}{flag}")
        bad += mismatches > 0
    print(f"{len(columns) - 1 - bad} of {len(columns) - 1} columns agree on {len(funnel)} contacts")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
