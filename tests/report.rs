//! `funnel report`: the history a report draws is what separate `run --as-of` runs at
//! each step give, and the numbers it shows are the run's.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use chrono::{DateTime, Utc};
use funnel::engine::context::Context;
use funnel::engine::data::{DataFiles, Dataset, LoadOptions, load};
use funnel::engine::run::evaluate;
use funnel::engine::{Results, Table, time};
use funnel::plan::types::{Dur, DurationUnit, Scope, Value};
use funnel::plan::{Plan, with_history};
use funnel::report::{self, Inputs};

fn now() -> DateTime<Utc> {
    "2026-11-20T00:00:00Z".parse().unwrap()
}

fn b2b() -> (Plan, Dataset) {
    let root = common::root();
    let loaded =
        funnel::syntax::load_paths(&root.join("examples/b2b/rules.funnel"), &root).unwrap();
    let plan = funnel::plan::lower(&funnel::check::check(&loaded).program.unwrap());
    let files = DataFiles::from_dir(&root.join("examples/b2b/data")).unwrap();
    let data = load(&plan.schema, &files, &LoadOptions::default()).unwrap();
    (plan, data.dataset)
}

fn table(r: &Results, scope: Scope) -> &Table {
    match scope {
        Scope::Contact => &r.contacts,
        Scope::Account => &r.accounts,
    }
}

fn steps(amount: i64, unit: DurationUnit, count: u32) -> Vec<Dur> {
    report::steps(Dur { amount, unit }, count)
}

/// Every output column at every step of one history run equals the column of a
/// separate run as of that step.
fn history_equals_separate_runs(plan: &Plan, data: &Dataset, history: &[Dur]) {
    let h = with_history(plan, history);
    let ctx = Context::new(&h.plan, data, now()).unwrap();
    let st = evaluate(&ctx);
    let mut compared = 0;
    for (k, step) in history.iter().enumerate() {
        let separate = funnel::engine::run(plan, data, time::sub(now(), *step)).unwrap();
        for scope in [Scope::Contact, Scope::Account] {
            for (id, node) in plan.outputs(scope) {
                let expected: Vec<_> = table(&separate, scope)
                    .column(&node.name)
                    .unwrap()
                    .values()
                    .collect();
                let got = &st.nodes[h.steps[k][id]].to_values();
                let wrong: Vec<_> = (0..expected.len().max(got.len()))
                    .filter(|&i| got.get(i) != expected.get(i))
                    .take(3)
                    .map(|i| (i, got.get(i), expected.get(i)))
                    .collect();
                assert!(
                    wrong.is_empty(),
                    "`{}` at step {k} ({step:?}): (row, history, separate run) {wrong:?}",
                    node.name
                );
                compared += 1;
            }
        }
    }
    assert!(
        compared > history.len() * 40,
        "compared only {compared} columns"
    );
}

#[test]
fn weekly_history_equals_separate_runs() {
    let (plan, data) = b2b();
    history_equals_separate_runs(&plan, &data, &steps(1, DurationUnit::Week, 12));
}

#[test]
fn monthly_and_daily_histories_equal_separate_runs() {
    let (plan, data) = b2b();
    history_equals_separate_runs(&plan, &data, &steps(1, DurationUnit::Month, 6));
    history_equals_separate_runs(&plan, &data, &steps(10, DurationUnit::Day, 3));
}

#[test]
fn report_trends_and_numbers_are_the_runs() {
    let (plan, data) = b2b();
    let history = steps(2, DurationUnit::Week, 6);
    let inputs = Inputs {
        rules: Vec::new(),
        data: Vec::new(),
    };
    let r = report::build(&plan, &data, now(), &history, inputs).unwrap();
    assert_eq!(r.trends.moments.len(), 7);
    assert_eq!(*r.trends.moments.last().unwrap(), now());
    for (k, at) in r.trends.moments.iter().enumerate() {
        let run = funnel::engine::run(&plan, &data, *at).unwrap();
        for s in &r.trends.series {
            let col = table(&run, s.scope).column(&s.name).unwrap();
            let expected = col
                .values()
                .filter(|v| match (&s.band, v) {
                    (None, Some(Value::Bool(b))) => *b,
                    (Some(band), Some(Value::Text(t))) => **t == **band,
                    _ => false,
                })
                .count();
            assert_eq!(s.sizes[k], expected, "{} {:?} at {at}", s.name, s.band);
        }
    }
    // The segment sizes are the run's at now.
    let run = funnel::engine::run(&plan, &data, now()).unwrap();
    for c in &r.segments {
        let col = table(&run, c.scope).column(&c.name).unwrap();
        let n = col
            .values()
            .filter(|v| matches!(v, Some(Value::Bool(true))))
            .count();
        assert_eq!(c.count, n, "{}", c.name);
    }
    // Every histogram counts every scored row once.
    for d in &r.scores {
        let rows = match d.scope {
            Scope::Contact => r.contacts,
            Scope::Account => r.accounts,
        };
        assert_eq!(d.bins.iter().sum::<usize>() + d.missing, rows, "{}", d.name);
    }
    let tiers = r.scores.iter().find(|d| d.name == "sales_ready").unwrap();
    assert_eq!(tiers.bands.len(), 3);
    let top = &r.top_accounts[0];
    assert_eq!(top.score, "committee");
    assert!(top.rows.windows(2).all(|w| w[0].score >= w[1].score));
}

#[test]
fn page_is_self_contained() {
    let (plan, data) = b2b();
    let inputs = Inputs {
        rules: vec![("rules.funnel".into(), "ab".repeat(32))],
        data: vec![("contacts.csv".into(), data.contacts.len())],
    };
    let r = report::build(
        &plan,
        &data,
        now(),
        &steps(1, DurationUnit::Week, 4),
        inputs,
    )
    .unwrap();
    let page = report::html::render(&r);
    for remote in [
        "http://", "https://", "<script", "<link", "src=", "@import", "url(",
    ] {
        let allowed = remote == "http://"
            && page.matches(remote).count() == page.matches("http://www.w3.org/2000/svg").count();
        assert!(
            allowed || !page.contains(remote),
            "the page fetches `{remote}`"
        );
    }
    assert_eq!(page, report::html::render(&r), "rendering is deterministic");
    assert!(page.contains(&"ab".repeat(32)));
}

#[test]
fn doc_comments_reach_the_plan() {
    use funnel::syntax::load_source;
    use funnel::syntax::loader::MemoryFs;
    let mut fs = MemoryFs::new();
    fs.insert("/p/schema.funnel", include_str!("fixtures/schema.funnel"));
    let text = "use \"schema.funnel\"\n\
                # Section heading, then a blank line.\n\n\
                # First line of the doc,\n#\n  # and its second line.\n\
                segment a = true\n\
                segment b = true  # trailing, not a doc\n\
                # After b's line.\n\
                segment c = true\n";
    let loaded = load_source(
        &fs,
        std::path::Path::new("/p"),
        std::path::Path::new("/p/main.funnel"),
        "main.funnel",
        text,
    );
    let plan = funnel::plan::lower(&funnel::check::check(&loaded).program.unwrap());
    let doc = |name: &str| {
        plan.nodes
            .iter()
            .find(|n| n.name == name && n.output)
            .unwrap()
            .doc
            .clone()
    };
    assert_eq!(
        doc("a").as_deref(),
        Some("First line of the doc, and its second line.")
    );
    assert_eq!(doc("b"), None);
    assert_eq!(doc("c").as_deref(), Some("After b's line."));
    let (b2b, _) = b2b();
    let docs: Vec<_> = b2b.nodes.iter().filter(|n| n.doc.is_some()).collect();
    assert!(
        docs.iter().all(|n| n.output),
        "only output nodes carry docs"
    );
    assert!(docs.len() > 40, "{} documented definitions", docs.len());
}
