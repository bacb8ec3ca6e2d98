//! The property test's generated programs and data (`tests/common/generate.rs`), compiled
//! to SQL and run on DuckDB and PostgreSQL, compared with the native engine. A fixed
//! seed and a modest number of cases, all in one engine session each.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::cases::table_json;
use common::generate::{SCHEMA, data, now, program};
use common::sql_data::{self, Job};
use funnel::sql::{AsOf, Options};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;

const CASES: usize = 48;

fn generated_on(engine: &str) {
    let dialect = funnel::sql::by_name(engine).unwrap();
    let tables = sql_data::tables();
    let mut runner = TestRunner::deterministic();
    let strategy = (program(), data());
    let mut jobs = Vec::new();
    let mut natives = Vec::new();
    for i in 0..CASES {
        let (src, data) = strategy.new_tree(&mut runner).unwrap().current();
        let program = common::check_with_schema(SCHEMA, &src).unwrap();
        let plan = funnel::plan::lower(&program);
        let script = funnel::sql::compile(
            &plan,
            Options {
                dialect,
                tables: &tables,
                as_of: AsOf::Fixed(now()),
            },
        )
        .unwrap_or_else(|e| panic!("{e}\n{src}"));
        let native = funnel::engine::run(&plan, &data, now()).unwrap();
        let mut queries = vec![script.contacts];
        queries.extend(script.accounts);
        jobs.push(Job {
            name: format!("generated {i}:\n{src}"),
            setup: sql_data::setup(sql_data::style(engine), &plan.schema, &data),
            queries,
        });
        natives.push((table_json(&native.contacts), table_json(&native.accounts)));
    }
    let outcomes = sql_data::run(engine, &jobs);
    let mut report = Vec::new();
    for ((job, outcome), (contacts, accounts)) in jobs.iter().zip(&outcomes).zip(&natives) {
        let Some(results) = &outcome.results else {
            report.push(format!(
                "{}\n{engine} error: {}",
                job.name,
                outcome.error.as_deref().unwrap_or("?")
            ));
            continue;
        };
        let mut d = common::sql_data::diff("contacts", contacts, &results[0]);
        if let Some(rows) = results.get(1) {
            d.extend(common::sql_data::diff("accounts", accounts, rows));
        }
        if !d.is_empty() {
            report.push(format!("{}\n  {}", job.name, d.join("\n  ")));
        }
    }
    assert!(
        report.is_empty(),
        "{} of {CASES} programs differ on {engine}:\n{}",
        report.len(),
        report.join("\n\n")
    );
}

/// Each engine's run, skipped (visibly) when the engine is missing.
fn main() {
    let trials = ["duckdb", "postgres"]
        .map(|engine| {
            common::external::needing(
                &format!("generated_programs_on_{engine}"),
                move || sql_data::missing(engine),
                move || generated_on(engine),
            )
        })
        .into();
    common::external::run(trials)
}
