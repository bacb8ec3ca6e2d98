//! Differential tests on real engines: every conformance case is compiled to SQL, run on
//! DuckDB and PostgreSQL, and compared row by row with the native engine.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::cases::{self, table_json};
use common::sql_data::diff;
use common::sql_data::{self, Job};
use funnel::sql::{AsOf, Options, SqlError};

/// One program and data set to run natively and on an engine.
struct Run {
    name: String,
    plan: funnel::plan::Plan,
    data: funnel::engine::data::Dataset,
    now: chrono::DateTime<chrono::Utc>,
}

/// Compiles and runs every `run` on `engine`, compares with the native engine; returns
/// the number compared and the runs whose SQL the dialect cannot express.
fn compare_on(engine: &str, runs: &[Run]) -> (usize, Vec<String>) {
    let dialect = funnel::sql::by_name(engine).unwrap();
    let tables = sql_data::tables();
    let mut jobs = Vec::new();
    let mut natives = Vec::new();
    let mut unsupported = Vec::new();
    for r in runs {
        let opts = Options {
            dialect,
            tables: &tables,
            as_of: AsOf::Fixed(r.now),
        };
        let script = match funnel::sql::compile(&r.plan, opts) {
            Ok(s) => s,
            Err(e @ SqlError::Unsupported { .. }) => {
                unsupported.push(format!("{}: {e}", r.name));
                continue;
            }
            Err(e) => panic!("{}: {e}", r.name),
        };
        let native = funnel::engine::run(&r.plan, &r.data, r.now).unwrap();
        let mut queries = vec![script.contacts.clone()];
        queries.extend(script.accounts.clone());
        jobs.push(Job {
            name: r.name.clone(),
            setup: sql_data::setup(sql_data::style(engine), &r.plan.schema, &r.data),
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
    assert!(
        report.is_empty(),
        "{} differences on {engine}:\n{}",
        report.len(),
        report.join("\n")
    );
    (jobs.len(), unsupported)
}

fn corpus_runs() -> Vec<Run> {
    cases::case_files()
        .iter()
        .map(|path| {
            let case = cases::load(path).unwrap();
            Run {
                name: path
                    .strip_prefix(cases::corpus_root())
                    .unwrap()
                    .display()
                    .to_string(),
                plan: case.plan,
                data: case.data,
                now: case.now,
            }
        })
        .collect()
}

fn b2b_run() -> Run {
    let root = common::root().join("examples/b2b");
    let entry = root.join("rules.funnel");
    let loaded = funnel::syntax::load_paths(&entry, &root).unwrap();
    let plan = funnel::plan::lower(&funnel::check::check(&loaded).program.unwrap());
    let files = funnel::engine::data::DataFiles::from_dir(&root.join("data")).unwrap();
    let data = funnel::engine::data::load(&plan.schema, &files, &Default::default())
        .unwrap()
        .dataset;
    let now = chrono::DateTime::parse_from_rfc3339("2026-11-20T00:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    Run {
        name: "examples/b2b".into(),
        plan,
        data,
        now,
    }
}

/// The corpus and the bundled b2b example on `engine`, in one engine session.
fn corpus_on(engine: &str) {
    let mut runs = corpus_runs();
    runs.push(b2b_run());
    let (compared, unsupported) = compare_on(engine, &runs);
    eprintln!(
        "{engine}: {compared} runs compared, {} not expressible in SQL:\n  {}",
        unsupported.len(),
        unsupported.join("\n  ")
    );
    assert!(compared >= 80, "only {compared} runs compared");
}

/// Each engine's run, skipped (visibly) when the engine is missing; Spark is slow to
/// start and to plan, so one session runs everything.
fn main() {
    let on = |engine: &'static str, body: fn()| {
        common::external::needing(
            &format!("conformance_corpus_and_b2b_on_{engine}"),
            move || sql_data::missing(engine),
            body,
        )
    };
    common::external::run(vec![
        on("duckdb", || corpus_on("duckdb")),
        on("postgres", || corpus_on("postgres")),
        on("spark", || corpus_on("spark")),
    ])
}
