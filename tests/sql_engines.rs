//! Differential tests on real engines: every conformance case is compiled to SQL, run on
//! DuckDB and PostgreSQL, and compared row by row with the native engine.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::cases::{self, table_json, values_match};
use common::sql_data::{self, Job};
use funnel::sql::{AsOf, Options, SqlError};
use std::collections::BTreeMap;

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

fn corpus_on(engine: &str) {
    if !sql_data::available(engine) {
        return;
    }
    let dialect = funnel::sql::by_name(engine).unwrap();
    let tables = sql_data::tables();
    let mut jobs = Vec::new();
    let mut natives = Vec::new();
    let mut unsupported = Vec::new();
    for path in cases::case_files() {
        let name = path
            .strip_prefix(cases::corpus_root())
            .unwrap()
            .display()
            .to_string();
        let case = cases::load(&path).unwrap();
        let opts = Options {
            dialect,
            tables: &tables,
            as_of: AsOf::Fixed(case.now),
        };
        let script = match funnel::sql::compile(&case.plan, opts) {
            Ok(s) => s,
            Err(e @ SqlError::Unsupported { .. }) => {
                unsupported.push(format!("{name}: {e}"));
                continue;
            }
            Err(e) => panic!("{name}: {e}"),
        };
        let native = funnel::engine::run(&case.plan, &case.data, case.now).unwrap();
        let mut queries = vec![script.contacts.clone()];
        queries.extend(script.accounts.clone());
        jobs.push(Job {
            name: name.clone(),
            setup: sql_data::setup(&case.plan.schema, &case.data),
            queries,
        });
        natives.push((
            table_json(&native.contacts),
            script
                .accounts
                .is_some()
                .then(|| table_json(&native.accounts)),
        ));
    }
    let outcomes = sql_data::run(engine, &jobs);
    let mut report = Vec::new();
    for ((job, outcome), (contacts, accounts)) in jobs.iter().zip(&outcomes).zip(&natives) {
        assert_eq!(job.name, outcome.name);
        let Some(results) = &outcome.results else {
            report.push(format!(
                "{}: {engine} error: {}\n{}",
                job.name,
                outcome.error.as_deref().unwrap_or("?"),
                job.queries[0]
            ));
            continue;
        };
        for d in diff("contacts", contacts, &results[0]) {
            report.push(format!("{}: {d}", job.name));
        }
        if let (Some(a), Some(rows)) = (accounts, results.get(1)) {
            for d in diff("accounts", a, rows) {
                report.push(format!("{}: {d}", job.name));
            }
        }
    }
    eprintln!(
        "{engine}: {} cases compared, {} not expressible in SQL:\n  {}",
        jobs.len(),
        unsupported.len(),
        unsupported.join("\n  ")
    );
    assert!(jobs.len() >= 70, "only {} cases ran", jobs.len());
    assert!(
        report.is_empty(),
        "{} differences on {engine}:\n{}",
        report.len(),
        report.join("\n")
    );
}

#[test]
fn conformance_corpus_on_duckdb() {
    corpus_on("duckdb");
}

#[test]
fn conformance_corpus_on_postgres() {
    corpus_on("postgres");
}
