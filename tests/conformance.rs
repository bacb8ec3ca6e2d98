//! Runs the conformance corpus (`tests/conformance/**/*.case`, format in
//! `tests/conformance/README.md`) through the native engine and compares every expected
//! value. Other engines run the same files.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::cases::{self, table_json, values_match};
use std::path::Path;

/// Runs one case; returns its failures.
fn run_case(path: &Path) -> Vec<String> {
    let case = match cases::load(path) {
        Ok(c) => c,
        Err(e) => return vec![e],
    };
    let s = &case.sections;
    let results = funnel::engine::run(&case.plan, &case.data, case.now).unwrap();
    let mut failures = Vec::new();
    for (section, table) in [
        ("expect contacts.ndjson", &results.contacts),
        ("expect accounts.ndjson", &results.accounts),
    ] {
        let actual = table_json(table);
        for line in s.get(section).map(String::as_str).unwrap_or("").lines() {
            if line.trim().is_empty() {
                continue;
            }
            let want: serde_json::Value = serde_json::from_str(line).unwrap();
            let id = want["id"].as_str().unwrap();
            let Some(got) = actual.get(id) else {
                failures.push(format!("{section}: no row `{id}`"));
                continue;
            };
            for (k, v) in want.as_object().unwrap() {
                let g = got.get(k).unwrap_or(&serde_json::Value::Null);
                if !values_match(v, g) {
                    failures.push(format!("{section}: `{id}`.`{k}`: expected {v}, got {g}"));
                }
            }
        }
    }
    failures
}

#[test]
fn conformance_corpus() {
    let root = cases::corpus_root();
    let files = cases::case_files();
    assert!(
        files.len() >= 40,
        "the corpus has only {} cases",
        files.len()
    );
    let mut report = Vec::new();
    for f in &files {
        for failure in run_case(f) {
            report.push(format!(
                "{}: {failure}",
                f.strip_prefix(&root).unwrap().display()
            ));
        }
    }
    assert!(
        report.is_empty(),
        "{} failures:\n{}",
        report.len(),
        report.join("\n")
    );
}
