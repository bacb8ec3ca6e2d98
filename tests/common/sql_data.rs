//! Loading a dataset into a SQL engine for the differential tests: `CREATE TABLE` and
//! `INSERT` statements of the canonical tables (`docs/sql.md`), with an order column for
//! events and changes, and running compiled SQL through `tests/sql/driver.py`.

use super::cases::values_match;
use funnel::engine::data::Dataset;
use funnel::plan::schema::{Schema, Type};
use funnel::plan::types::Value;
use funnel::sql::Tables;
use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};

/// The mapping the tests use: canonical tables, with `seq` as the order column.
pub fn tables() -> Tables {
    let mut t = Tables::default();
    t.events.order = Some("seq".into());
    t.changes.order = Some("seq".into());
    t
}

/// How the tables are made: `CREATE TABLE` + `INSERT` (DuckDB, PostgreSQL), or
/// temporary views over `VALUES` (Spark, which has no cheap in-memory tables).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Tables,
    SparkViews,
}

fn sql_type(t: &Type) -> &'static str {
    match t {
        Type::Int | Type::Duration => "BIGINT",
        Type::Number => "DOUBLE PRECISION",
        Type::Bool => "BOOLEAN",
        Type::Date => "DATE",
        Type::Timestamp => "TIMESTAMP",
        Type::Text | Type::Enum(_) | Type::AccountLink => "VARCHAR",
    }
}

/// A text literal, valid in every engine the tests use (backslashes are escapes in
/// Spark, so texts with one are spelled with `CHR`).
fn text(s: &str) -> String {
    if s.contains('\\') {
        let parts: Vec<String> = s.split('\\').map(text).collect();
        return format!("CONCAT({})", parts.join(", CHR(92), "));
    }
    format!("'{}'", s.replace('\'', "''"))
}

fn lit(v: &Option<Value>) -> String {
    match v {
        None => "NULL".into(),
        Some(Value::Int(i) | Value::Duration(i)) => i.to_string(),
        Some(Value::Number(n)) => format!("{n:e}"),
        Some(Value::Text(s)) => text(s),
        Some(Value::Bool(b)) => b.to_string().to_uppercase(),
        Some(Value::Date(d)) => format!("DATE '{d}'"),
        Some(Value::Timestamp(t)) => format!("TIMESTAMP '{}'", t.format("%Y-%m-%d %H:%M:%S%.6f")),
    }
}

/// A change-log value as the text the `value` column holds.
fn as_text(v: &Option<Value>) -> String {
    match v {
        None => "NULL".into(),
        Some(Value::Int(i) | Value::Duration(i)) => text(&i.to_string()),
        Some(Value::Number(n)) => text(&format!("{n:?}")),
        Some(Value::Text(s)) => text(s),
        Some(Value::Bool(b)) => text(&b.to_string()),
        Some(Value::Date(d)) => text(&d.to_string()),
        Some(Value::Timestamp(t)) => text(&t.format("%Y-%m-%d %H:%M:%S%.6f").to_string()),
    }
}

fn create(
    style: Style,
    name: &str,
    cols: &[(String, &str)],
    rows: &[Vec<String>],
    out: &mut Vec<String>,
) {
    match style {
        Style::Tables => {
            let q = |c: &str| format!("\"{}\"", c.replace('"', "\"\""));
            let defs: Vec<String> = cols.iter().map(|(c, t)| format!("{} {t}", q(c))).collect();
            out.push(format!("CREATE TABLE {name} ({})", defs.join(", ")));
            for chunk in rows.chunks(500) {
                let values: Vec<String> = chunk
                    .iter()
                    .map(|r| format!("({})", r.join(", ")))
                    .collect();
                out.push(format!("INSERT INTO {name} VALUES {}", values.join(", ")));
            }
        }
        Style::SparkViews => {
            fn spark_type(t: &str) -> &str {
                match t {
                    "VARCHAR" => "STRING",
                    "DOUBLE PRECISION" => "DOUBLE",
                    other => other,
                }
            }
            let select: Vec<String> = cols
                .iter()
                .enumerate()
                .map(|(i, (c, t))| {
                    let from = if rows.is_empty() {
                        "NULL".to_string()
                    } else {
                        format!("v{i}")
                    };
                    format!("CAST({from} AS {}) AS `{c}`", spark_type(t))
                })
                .collect();
            let source = if rows.is_empty() {
                "WHERE FALSE".to_string()
            } else {
                let values: Vec<String> =
                    rows.iter().map(|r| format!("({})", r.join(", "))).collect();
                let names: Vec<String> = (0..cols.len()).map(|i| format!("v{i}")).collect();
                format!(
                    "FROM VALUES {} AS t({})",
                    values.join(", "),
                    names.join(", ")
                )
            };
            out.push(format!(
                "CREATE OR REPLACE TEMPORARY VIEW {name} AS SELECT {} {source}",
                select.join(", ")
            ));
        }
    }
}

/// The statements that create and fill the four tables.
pub fn setup(style: Style, schema: &Schema, data: &Dataset) -> Vec<String> {
    let mut out = Vec::new();
    let mut cols = vec![("id".to_string(), "VARCHAR")];
    cols.extend(
        schema
            .contact
            .iter()
            .map(|f| (f.name.clone(), sql_type(&f.ty))),
    );
    let rows: Vec<Vec<String>> = data
        .contacts
        .rows()
        .map(|c| {
            std::iter::once(text(&c.id))
                .chain(c.attrs.iter().map(lit))
                .collect()
        })
        .collect();
    create(style, "contacts", &cols, &rows, &mut out);

    let mut cols = vec![("id".to_string(), "VARCHAR")];
    cols.extend(
        schema
            .account
            .iter()
            .map(|f| (f.name.clone(), sql_type(&f.ty))),
    );
    let rows: Vec<Vec<String>> = data
        .accounts
        .iter()
        .map(|a| {
            std::iter::once(text(&a.id))
                .chain(a.attrs.iter().map(lit))
                .collect()
        })
        .collect();
    create(style, "accounts", &cols, &rows, &mut out);

    let mut fields: BTreeMap<&str, &Type> = BTreeMap::new();
    for e in &schema.events {
        for f in &e.fields {
            fields.entry(f.name.as_str()).or_insert(&f.ty);
        }
    }
    let mut cols = vec![
        ("contact_id".to_string(), "VARCHAR"),
        ("event".to_string(), "VARCHAR"),
        ("at".to_string(), "TIMESTAMP"),
        ("seq".to_string(), "BIGINT"),
    ];
    cols.extend(fields.iter().map(|(n, t)| (n.to_string(), sql_type(t))));
    let rows: Vec<Vec<String>> = data
        .events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let ty = &schema.events[e.event as usize];
            let mut row = vec![
                text(data.contacts.id(e.contact as usize).unwrap_or_default()),
                text(&ty.name),
                lit(&Some(Value::Timestamp(e.at))),
                i.to_string(),
            ];
            for name in fields.keys() {
                let v = ty
                    .fields
                    .iter()
                    .position(|f| f.name == *name)
                    .and_then(|p| e.fields[p].clone());
                row.push(lit(&v));
            }
            row
        })
        .collect();
    create(style, "events", &cols, &rows, &mut out);

    let cols = vec![
        ("contact_id".to_string(), "VARCHAR"),
        ("attribute".to_string(), "VARCHAR"),
        ("value".to_string(), "VARCHAR"),
        ("at".to_string(), "TIMESTAMP"),
        ("seq".to_string(), "BIGINT"),
    ];
    let rows: Vec<Vec<String>> = data
        .changes
        .iter()
        .enumerate()
        .map(|(i, c)| {
            vec![
                text(data.contacts.id(c.contact as usize).unwrap_or_default()),
                text(&schema.contact[c.attr as usize].name),
                as_text(&c.value),
                lit(&Some(Value::Timestamp(c.at))),
                i.to_string(),
            ]
        })
        .collect();
    create(style, "changes", &cols, &rows, &mut out);
    out
}

/// One engine job: setup statements, then queries.
#[derive(serde::Serialize)]
pub struct Job {
    pub name: String,
    pub setup: Vec<String>,
    pub queries: Vec<String>,
}

/// One job's outcome.
#[derive(serde::Deserialize, Debug)]
pub struct Outcome {
    pub name: String,
    pub results: Option<Vec<Vec<serde_json::Map<String, serde_json::Value>>>>,
    pub error: Option<String>,
}

/// The table style an engine needs.
pub fn style(engine: &str) -> Style {
    if engine == "spark" {
        Style::SparkViews
    } else {
        Style::Tables
    }
}

/// Runs jobs on `engine` (`duckdb`, `postgres`, `spark`) through the Python driver.
pub fn run(engine: &str, jobs: &[Job]) -> Vec<Outcome> {
    let driver = super::root().join("tests/sql/driver.py");
    let mut child = Command::new("python3")
        .arg(driver)
        .arg(engine)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let input = serde_json::to_vec(jobs).unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(out.status.success(), "the {engine} driver failed");
    serde_json::from_slice(&out.stdout).unwrap()
}

/// What is missing to run SQL on an engine (`duckdb`, `postgres`, `spark`) and how to
/// get it, or `None` when it is there: DuckDB's or PySpark's Python package, or a
/// PostgreSQL server that `psql` reaches through `PGHOST`. See `common::external`.
pub fn missing(engine: &str) -> Option<String> {
    let python = |module: &str| {
        Command::new("python3")
            .args(["-c", &format!("import {module}")])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    match engine {
        "duckdb" if !python("duckdb") => {
            Some("DuckDB's Python package is not installed: `python3 -m pip install duckdb`".into())
        }
        "spark" if !python("pyspark") => {
            Some("PySpark is not installed: `python3 -m pip install pyspark` (and Java 17)".into())
        }
        "postgres"
            if std::env::var_os("PGHOST").is_none()
                || !Command::new("psql")
                    .args(["-X", "-q", "-d", "postgres", "-c", "SELECT 1"])
                    .output()
                    .is_ok_and(|o| o.status.success()) =>
        {
            Some(
                "no PostgreSQL server: run the tests as `.ci/with-postgres cargo test`, \
                 which installs and starts a throwaway PostgreSQL"
                    .into(),
            )
        }
        _ => None,
    }
}

/// Compares the SQL rows of one table with the native table; returns the differences.
pub fn diff(
    what: &str,
    native: &BTreeMap<String, serde_json::Value>,
    rows: &[serde_json::Map<String, serde_json::Value>],
) -> Vec<String> {
    let mut out = Vec::new();
    let got: BTreeMap<String, &serde_json::Map<String, serde_json::Value>> = rows
        .iter()
        .map(|r| (r["id"].as_str().unwrap_or("").to_string(), r))
        .collect();
    if got.len() != native.len() || got.keys().ne(native.keys()) {
        out.push(format!(
            "{what}: rows {:?}, native {:?}",
            got.keys().collect::<Vec<_>>(),
            native.keys().collect::<Vec<_>>()
        ));
    }
    for (id, want) in native {
        let Some(row) = got.get(id) else { continue };
        for (k, v) in want.as_object().unwrap() {
            let g = row.get(k).unwrap_or(&serde_json::Value::Null);
            if !values_match(v, g) {
                out.push(format!("{what} `{id}`.`{k}`: native {v}, sql {g}"));
            }
        }
    }
    out
}
