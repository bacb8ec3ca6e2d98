//! Every difference between SQL dialects, in one place: capability flags and function
//! overrides. The defaults are the portable forms; a dialect overrides what it spells
//! differently, and returns `None` for what it cannot express (the compiler turns that
//! into a typed error naming the rule).

use super::ir::{Expr, SqlType};

/// How a `matches` test can be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegexFlags {
    pub case_insensitive: bool,
}

/// A SQL dialect.
pub trait Dialect {
    /// The dialect's name as given to `--dialect`.
    fn name(&self) -> &'static str;

    /// Whether this dialect is run by the tests on a real engine (otherwise the emitted
    /// SQL is only parsed).
    fn engine_tested(&self) -> bool {
        false
    }

    /// The identifier quote character.
    fn quote(&self) -> char {
        '"'
    }

    /// Whether aggregates take `FILTER (WHERE …)`; otherwise the filter moves into a
    /// `CASE` inside the aggregate.
    fn filter_clause(&self) -> bool {
        false
    }

    /// Whether `QUALIFY` exists. Funnel keeps every contact and marks the `top N` with
    /// `ROW_NUMBER()` in a `CASE`, so it never needs it; the flag is informational.
    fn qualify(&self) -> bool {
        false
    }

    /// A collation that orders ids by bytes, when the default one may not.
    fn byte_collation(&self) -> Option<&'static str> {
        None
    }

    /// The name of a column type.
    fn type_name(&self, t: SqlType) -> &'static str {
        match t {
            SqlType::Text => "VARCHAR",
            SqlType::BigInt => "BIGINT",
            SqlType::Double => "DOUBLE",
            SqlType::Bool => "BOOLEAN",
            SqlType::Date => "DATE",
            SqlType::Timestamp => "TIMESTAMP",
        }
    }

    /// A text literal.
    fn string_literal(&self, s: &str) -> String {
        format!("'{}'", s.replace('\'', "''"))
    }

    /// A UTC timestamp literal from `YYYY-MM-DD HH:MM:SS.ffffff`.
    fn timestamp_literal(&self, s: &str) -> String {
        format!("TIMESTAMP '{s}'")
    }

    /// The placeholder of the `--as-of-param` moment.
    fn param(&self) -> &'static str {
        "?"
    }

    /// True when any row's `e` is true (a boolean aggregate).
    fn bool_or(&self, e: Expr) -> Expr {
        Expr::func("BOOL_OR", vec![e])
    }

    /// Text lower-cased for case-insensitive comparison.
    fn lower(&self, e: Expr) -> Expr {
        Expr::func("LOWER", vec![e])
    }

    /// Whether `s` matches the regular expression anywhere; `None` when the dialect
    /// cannot express the flags.
    fn regex_match(&self, s: Expr, pattern: &str, flags: RegexFlags) -> Option<Expr> {
        let p = if flags.case_insensitive {
            format!("(?i){pattern}")
        } else {
            pattern.to_string()
        };
        Some(Expr::func("REGEXP_LIKE", vec![s, Expr::str(&p)]))
    }

    /// Fractional seconds from `from` to `to` (never a count of unit boundaries).
    fn seconds_between(&self, from: Expr, to: Expr) -> Expr;

    /// `t` moved back by a fixed number of seconds.
    fn sub_seconds(&self, t: Expr, secs: i64) -> Expr {
        t.bin(
            "-",
            Expr::Interval {
                value: secs,
                quoted: true,
                unit: "SECOND",
            },
        )
    }

    /// `t` moved back by calendar months, the day clamped to the end of a shorter month.
    fn sub_months(&self, t: Expr, months: i64) -> Option<Expr> {
        Some(t.bin(
            "-",
            Expr::Interval {
                value: months,
                quoted: true,
                unit: "MONTH",
            },
        ))
    }

    /// Whether `s` contains `p` (both already lower-cased).
    fn contains(&self, s: Expr, p: Expr) -> Expr {
        Expr::func("STRPOS", vec![s, p]).bin(">", Expr::int(0))
    }

    /// Whether `s` starts with `p` (both already lower-cased).
    fn starts_with(&self, s: Expr, p: Expr) -> Expr {
        Expr::func("STARTS_WITH", vec![s, p])
    }

    /// Whether `s` ends with `p` (both already lower-cased); `n` is `p`'s length.
    fn ends_with(&self, s: Expr, p: Expr, n: i64) -> Expr {
        Expr::func("RIGHT", vec![s, Expr::int(n)]).bin("=", p)
    }
}

/// DuckDB (engine-tested).
pub struct DuckDb;
/// PostgreSQL 15 (engine-tested).
pub struct Postgres;
/// Spark SQL (engine-tested on PySpark's local mode).
pub struct Spark;
/// BigQuery Standard SQL.
pub struct BigQuery;
/// Snowflake.
pub struct Snowflake;
/// Trino (and Presto).
pub struct Trino;

/// The dialects by name, in the order of `--dialect`'s help.
pub const NAMES: [&str; 6] = [
    "duckdb",
    "postgres",
    "spark",
    "bigquery",
    "snowflake",
    "trino",
];

/// A dialect by name.
pub fn by_name(name: &str) -> Option<&'static dyn Dialect> {
    Some(match name {
        "duckdb" => &DuckDb,
        "postgres" | "postgresql" => &Postgres,
        "spark" => &Spark,
        "bigquery" => &BigQuery,
        "snowflake" => &Snowflake,
        "trino" => &Trino,
        _ => return None,
    })
}

impl Dialect for DuckDb {
    fn name(&self) -> &'static str {
        "duckdb"
    }
    fn engine_tested(&self) -> bool {
        true
    }
    fn filter_clause(&self) -> bool {
        true
    }
    fn qualify(&self) -> bool {
        true
    }
    fn param(&self) -> &'static str {
        "$as_of"
    }
    fn regex_match(&self, s: Expr, pattern: &str, flags: RegexFlags) -> Option<Expr> {
        let mut args = vec![s, Expr::str(pattern)];
        if flags.case_insensitive {
            args.push(Expr::str("i"));
        }
        Some(Expr::func("REGEXP_MATCHES", args))
    }
    fn seconds_between(&self, from: Expr, to: Expr) -> Expr {
        let us = |t: Expr| Expr::func("EPOCH_US", vec![t]);
        us(to)
            .bin("-", us(from))
            .bin("/", Expr::Lit(super::ir::Lit::Num(1e6)))
    }
    fn ends_with(&self, s: Expr, p: Expr, _n: i64) -> Expr {
        Expr::func("ENDS_WITH", vec![s, p])
    }
    /// In microseconds, not with an interval: DuckDB holds `INTERVAL '30' DAY` and
    /// `INTERVAL '1' MONTH` equal and merges such expressions, so `within 30d` and
    /// `within 1mo` in one query would share one window.
    fn sub_seconds(&self, t: Expr, secs: i64) -> Expr {
        let us =
            Expr::func("EPOCH_US", vec![t]).bin("-", Expr::int(secs.saturating_mul(1_000_000)));
        Expr::func("MAKE_TIMESTAMP", vec![us])
    }
}

impl Dialect for Postgres {
    fn name(&self) -> &'static str {
        "postgres"
    }
    fn engine_tested(&self) -> bool {
        true
    }
    fn filter_clause(&self) -> bool {
        true
    }
    fn byte_collation(&self) -> Option<&'static str> {
        Some("\"C\"")
    }
    fn type_name(&self, t: SqlType) -> &'static str {
        match t {
            SqlType::Double => "DOUBLE PRECISION",
            SqlType::Text => "TEXT",
            other => DuckDb.type_name(other),
        }
    }
    fn param(&self) -> &'static str {
        "$1"
    }
    fn regex_match(&self, s: Expr, pattern: &str, flags: RegexFlags) -> Option<Expr> {
        let op = if flags.case_insensitive { "~*" } else { "~" };
        Some(s.bin(op, Expr::str(&postgres_regex(pattern)?)))
    }
    fn seconds_between(&self, from: Expr, to: Expr) -> Expr {
        Expr::func("DATE_PART", vec![Expr::str("epoch"), to.bin("-", from)]).cast(SqlType::Double)
    }
}

impl Dialect for Spark {
    fn name(&self) -> &'static str {
        "spark"
    }
    fn engine_tested(&self) -> bool {
        true
    }
    fn quote(&self) -> char {
        '`'
    }
    fn filter_clause(&self) -> bool {
        true
    }
    fn qualify(&self) -> bool {
        true
    }
    fn type_name(&self, t: SqlType) -> &'static str {
        match t {
            SqlType::Text => "STRING",
            other => DuckDb.type_name(other),
        }
    }
    fn string_literal(&self, s: &str) -> String {
        format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
    }
    fn param(&self) -> &'static str {
        ":as_of"
    }
    fn regex_match(&self, s: Expr, pattern: &str, flags: RegexFlags) -> Option<Expr> {
        // Java's `(?i)` folds ASCII only; `u` makes it Unicode-aware like Rust's.
        let p = if flags.case_insensitive {
            format!("(?iu){pattern}")
        } else {
            pattern.to_string()
        };
        Some(s.bin("RLIKE", Expr::str(&p)))
    }
    fn seconds_between(&self, from: Expr, to: Expr) -> Expr {
        let us = |t: Expr| Expr::func("UNIX_MICROS", vec![t]);
        us(to)
            .bin("-", us(from))
            .bin("/", Expr::Lit(super::ir::Lit::Num(1e6)))
    }
    fn contains(&self, s: Expr, p: Expr) -> Expr {
        Expr::func("INSTR", vec![s, p]).bin(">", Expr::int(0))
    }
    fn starts_with(&self, s: Expr, p: Expr) -> Expr {
        Expr::func("STARTSWITH", vec![s, p])
    }
    fn ends_with(&self, s: Expr, p: Expr, _n: i64) -> Expr {
        Expr::func("ENDSWITH", vec![s, p])
    }
}

impl Dialect for BigQuery {
    fn name(&self) -> &'static str {
        "bigquery"
    }
    fn quote(&self) -> char {
        '`'
    }
    fn qualify(&self) -> bool {
        true
    }
    fn type_name(&self, t: SqlType) -> &'static str {
        match t {
            SqlType::Text => "STRING",
            SqlType::BigInt => "INT64",
            SqlType::Double => "FLOAT64",
            SqlType::Bool => "BOOL",
            other => DuckDb.type_name(other),
        }
    }
    fn string_literal(&self, s: &str) -> String {
        format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
    }
    fn param(&self) -> &'static str {
        "@as_of"
    }
    fn bool_or(&self, e: Expr) -> Expr {
        Expr::func("LOGICAL_OR", vec![e])
    }
    fn regex_match(&self, s: Expr, pattern: &str, flags: RegexFlags) -> Option<Expr> {
        let p = if flags.case_insensitive {
            format!("(?i){pattern}")
        } else {
            pattern.to_string()
        };
        Some(Expr::func("REGEXP_CONTAINS", vec![s, Expr::str(&p)]))
    }
    fn seconds_between(&self, from: Expr, to: Expr) -> Expr {
        Expr::func(
            "TIMESTAMP_DIFF",
            vec![to, from, Expr::Param("MICROSECOND".into())],
        )
        .bin("/", Expr::Lit(super::ir::Lit::Num(1e6)))
    }
    fn sub_seconds(&self, t: Expr, secs: i64) -> Expr {
        Expr::func(
            "TIMESTAMP_SUB",
            vec![
                t,
                Expr::Interval {
                    value: secs,
                    quoted: false,
                    unit: "SECOND",
                },
            ],
        )
    }
    fn sub_months(&self, t: Expr, months: i64) -> Option<Expr> {
        let dt = Expr::func("DATETIME", vec![t]);
        let back = Expr::func(
            "DATETIME_SUB",
            vec![
                dt,
                Expr::Interval {
                    value: months,
                    quoted: false,
                    unit: "MONTH",
                },
            ],
        );
        Some(Expr::func("TIMESTAMP", vec![back]))
    }
    fn ends_with(&self, s: Expr, p: Expr, _n: i64) -> Expr {
        Expr::func("ENDS_WITH", vec![s, p])
    }
}

impl Dialect for Snowflake {
    fn name(&self) -> &'static str {
        "snowflake"
    }
    fn string_literal(&self, s: &str) -> String {
        format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''"))
    }
    fn qualify(&self) -> bool {
        true
    }
    fn type_name(&self, t: SqlType) -> &'static str {
        match t {
            SqlType::Timestamp => "TIMESTAMP_NTZ",
            other => DuckDb.type_name(other),
        }
    }
    fn param(&self) -> &'static str {
        ":as_of"
    }
    fn bool_or(&self, e: Expr) -> Expr {
        Expr::func("BOOLOR_AGG", vec![e])
    }
    fn regex_match(&self, s: Expr, pattern: &str, flags: RegexFlags) -> Option<Expr> {
        let params = if flags.case_insensitive { "i" } else { "c" };
        Some(
            Expr::func(
                "REGEXP_INSTR",
                vec![
                    s,
                    Expr::str(pattern),
                    Expr::int(1),
                    Expr::int(1),
                    Expr::int(0),
                    Expr::str(params),
                ],
            )
            .bin(">", Expr::int(0)),
        )
    }
    fn seconds_between(&self, from: Expr, to: Expr) -> Expr {
        Expr::func(
            "DATEDIFF",
            vec![Expr::Param("MICROSECOND".into()), from, to],
        )
        .bin("/", Expr::Lit(super::ir::Lit::Num(1e6)))
    }
    fn sub_seconds(&self, t: Expr, secs: i64) -> Expr {
        Expr::func(
            "DATEADD",
            vec![Expr::Param("SECOND".into()), Expr::int(-secs), t],
        )
    }
    fn sub_months(&self, t: Expr, months: i64) -> Option<Expr> {
        Some(Expr::func(
            "DATEADD",
            vec![Expr::Param("MONTH".into()), Expr::int(-months), t],
        ))
    }
    fn contains(&self, s: Expr, p: Expr) -> Expr {
        Expr::func("CONTAINS", vec![s, p])
    }
    fn starts_with(&self, s: Expr, p: Expr) -> Expr {
        Expr::func("STARTSWITH", vec![s, p])
    }
    fn ends_with(&self, s: Expr, p: Expr, _n: i64) -> Expr {
        Expr::func("ENDSWITH", vec![s, p])
    }
}

impl Dialect for Trino {
    fn name(&self) -> &'static str {
        "trino"
    }
    fn filter_clause(&self) -> bool {
        true
    }
    fn seconds_between(&self, from: Expr, to: Expr) -> Expr {
        Expr::func("DATE_DIFF", vec![Expr::str("millisecond"), from, to])
            .bin("/", Expr::Lit(super::ir::Lit::Num(1e3)))
    }
    fn sub_months(&self, t: Expr, months: i64) -> Option<Expr> {
        Some(Expr::func(
            "DATE_ADD",
            vec![Expr::str("month"), Expr::int(-months), t],
        ))
    }
    fn ends_with(&self, s: Expr, p: Expr, n: i64) -> Expr {
        Expr::func("SUBSTR", vec![s, Expr::int(-n)]).bin("=", p)
    }
}

/// A Rust regex in PostgreSQL's ARE syntax: word boundaries are `\y` / `\Y` there (`\b`
/// is a backspace) and the end of text is `\Z`; Unicode classes (`\p{..}`) have no
/// equivalent. `None` when the pattern uses one.
fn postgres_regex(pattern: &str) -> Option<String> {
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('b') => out.push_str("\\y"),
            Some('B') => out.push_str("\\Y"),
            Some('z') => out.push_str("\\Z"),
            Some('p' | 'P') => return None,
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    Some(out)
}
