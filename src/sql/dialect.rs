//! Every difference between SQL dialects, in one place: capability flags and function
//! overrides. The defaults are the portable forms; a dialect overrides what it spells
//! differently, and returns `None` for what it cannot express (the compiler turns that
//! into a typed error naming the rule).

use super::ir::{Expr, SqlType};
use super::regex::Flavour;
use super::text;

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

    /// What ends a stage that must be computed once per row: without it the engine may
    /// inline the stage into the stage reading it and evaluate its expressions again at
    /// every reference (PostgreSQL does: a score's total is read by its rounding, its
    /// tiers and the segments over it; an event condition by every aggregate of it).
    fn fence(&self) -> Option<&'static str> {
        None
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
            SqlType::Decimal => "DECIMAL(38, 20)",
        }
    }

    /// A text literal holding no control or invisible character (see [`text`]): by
    /// default safe runs in standard quotes joined to `CHR(n)` of the others.
    fn string_literal(&self, s: &str) -> String {
        text::chr_concat(s, text::standard)
    }

    /// Why the dialect cannot hold the text `s` as a value, if it cannot.
    fn check_text(&self, _s: &str) -> Result<(), &'static str> {
        Ok(())
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

    /// Text `e` (data) folded as Rust's `str::to_lowercase` folds it, for a comparison
    /// that can observe the dotted capital I (`dotted_i`: U+0130 lower-cases to `i`
    /// and U+0307) and the final-sigma rule (`sigma`: `Σ` lower-cases to `ς` at the
    /// end of a word); `None` when the dialect cannot fold such text exactly.
    ///
    /// The default assumes a `LOWER` that maps each character on its own (DuckDB's;
    /// exact for the others too whatever their `LOWER` does): U+0130 is replaced
    /// first, and text holding a capital sigma stops the query with an error
    /// ([`Dialect::raise`]) where the sigma rule matters.
    fn fold(&self, e: Expr, dotted_i: bool, sigma: bool) -> Option<Expr> {
        let x = if dotted_i {
            Expr::func(
                "REPLACE",
                vec![e.clone(), Expr::str("\u{130}"), Expr::str("i\u{307}")],
            )
        } else {
            e.clone()
        };
        let lower = Expr::func("LOWER", vec![x]);
        if !sigma {
            return Some(lower);
        }
        let stop = self.raise(
            "funnel: text holding a capital sigma is compared case-insensitively; this engine cannot apply Unicode's final-sigma rule (docs/sql.md)",
        )?;
        Some(Expr::iff(self.contains(e, Expr::str("Σ")), stop, lower))
    }

    /// An expression that stops the query with `message`, if the dialect has one.
    fn raise(&self, _message: &str) -> Option<Expr> {
        None
    }

    /// The syntax of the dialect's regexes.
    fn regex_flavour(&self) -> Flavour {
        Flavour::Java
    }

    /// Whether `s` matches `pattern` (already in the dialect's syntax, see
    /// [`super::regex`]) anywhere.
    fn regex_match(&self, s: Expr, pattern: &str) -> Expr {
        Expr::func("REGEXP_LIKE", vec![s, Expr::str(pattern)])
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
    fn regex_flavour(&self) -> Flavour {
        Flavour::Re2
    }
    fn regex_match(&self, s: Expr, pattern: &str) -> Expr {
        Expr::func("REGEXP_MATCHES", vec![s, Expr::str(pattern)])
    }
    fn raise(&self, message: &str) -> Option<Expr> {
        Some(Expr::func("ERROR", vec![Expr::str(message)]))
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
    /// `OFFSET 0` keeps the planner from pulling the stage up into the next (a
    /// `MATERIALIZED` CTE would also write every row out).
    fn fence(&self) -> Option<&'static str> {
        Some("OFFSET 0 -- computed once, not inlined")
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
    /// Plain quotes, or an escape string (`E'…\u000A…'`) when the text holds a
    /// character that must not appear raw: `psql` reads a raw NUL as the end of the line.
    fn string_literal(&self, s: &str) -> String {
        if s.chars().any(text::is_unsafe) {
            text::backslash_escaped(s, "E", "''", true)
        } else {
            text::standard(s)
        }
    }
    fn check_text(&self, s: &str) -> Result<(), &'static str> {
        if s.contains('\0') {
            Err("a NUL character in text (PostgreSQL text cannot hold one)")
        } else {
            Ok(())
        }
    }
    fn regex_flavour(&self) -> Flavour {
        Flavour::Postgres
    }
    /// ICU's root-locale lower-casing is Unicode's full mapping, with the dotted I and
    /// the final-sigma rule (the database's own locale may map each character alone,
    /// or ASCII only under `C`).
    fn fold(&self, e: Expr, _dotted_i: bool, _sigma: bool) -> Option<Expr> {
        Some(Expr::func(
            "LOWER",
            vec![Expr::Collate {
                expr: Box::new(e),
                collation: "\"und-x-icu\"",
            }],
        ))
    }
    fn regex_match(&self, s: Expr, pattern: &str) -> Expr {
        s.bin("~", Expr::str(pattern))
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
        text::backslash_escaped(s, "", "\\'", false)
    }
    fn param(&self) -> &'static str {
        ":as_of"
    }
    fn regex_match(&self, s: Expr, pattern: &str) -> Expr {
        s.bin("RLIKE", Expr::str(pattern))
    }
    /// Java's `String.toLowerCase` (Spark's `LOWER` beyond ASCII) applies Unicode's full
    /// mapping, with the dotted I and the final-sigma rule, in any locale but Turkish,
    /// Azeri and Lithuanian.
    fn fold(&self, e: Expr, _dotted_i: bool, _sigma: bool) -> Option<Expr> {
        Some(Expr::func("LOWER", vec![e]))
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
            SqlType::Decimal => "BIGNUMERIC",
            other => DuckDb.type_name(other),
        }
    }
    fn string_literal(&self, s: &str) -> String {
        text::backslash_escaped(s, "", "\\'", true)
    }
    fn param(&self) -> &'static str {
        "@as_of"
    }
    fn bool_or(&self, e: Expr) -> Expr {
        Expr::func("LOGICAL_OR", vec![e])
    }
    fn regex_flavour(&self) -> Flavour {
        Flavour::Re2
    }
    fn regex_match(&self, s: Expr, pattern: &str) -> Expr {
        Expr::func("REGEXP_CONTAINS", vec![s, Expr::str(pattern)])
    }
    fn raise(&self, message: &str) -> Option<Expr> {
        Some(Expr::func("ERROR", vec![Expr::str(message)]))
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
        text::chr_concat(s, |t| text::standard(&t.replace('\\', "\\\\")))
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
    fn regex_flavour(&self) -> Flavour {
        Flavour::Posix
    }
    fn regex_match(&self, s: Expr, pattern: &str) -> Expr {
        let args = vec![
            s,
            Expr::str(pattern),
            Expr::int(1),
            Expr::int(1),
            Expr::int(0),
            Expr::str("c"),
        ];
        Expr::func("REGEXP_INSTR", args).bin(">", Expr::int(0))
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
    fn raise(&self, message: &str) -> Option<Expr> {
        Some(Expr::func("FAIL", vec![Expr::str(message)]))
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
