//! `funnel report`: the history a report draws is what separate `run --as-of` runs at
//! each step give, and the numbers it shows are the run's.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use chrono::{DateTime, Utc};
use funnel::engine::columnar::{self, EventColumns};
use funnel::engine::data::{DataFiles, Dataset, LoadOptions, load};
use funnel::engine::reference;
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

/// The events of `data` as the engine holds them.
fn events(plan: &Plan, data: &Dataset) -> EventColumns {
    EventColumns::from_dataset(&plan.schema, data, &columnar::used_fields(plan))
}

/// The B2B example with one segment per lead stage, `at_STAGE`.
fn stage_plan(stages: &[&str]) -> Plan {
    let root = common::root();
    let mut rules = std::fs::read_to_string(root.join("examples/b2b/rules.funnel")).unwrap();
    for st in stages {
        rules.push_str(&format!("\nsegment at_{st} = lead_stage = {st}\n"));
    }
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("report_stages");
    std::fs::create_dir_all(&dir).unwrap();
    for f in ["schema.funnel", "scores.funnel"] {
        std::fs::copy(root.join("examples/b2b").join(f), dir.join(f)).unwrap();
    }
    std::fs::write(dir.join("rules.funnel"), rules).unwrap();
    let loaded = funnel::syntax::load_paths(&dir.join("rules.funnel"), &dir).unwrap();
    funnel::plan::lower(&funnel::check::check(&loaded).program.unwrap())
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

/// Every output column at every step of one history run (by the engine) equals the
/// column of a separate run as of that step (by the reference evaluator).
fn history_equals_separate_runs(plan: &Plan, data: &Dataset, history: &[Dur]) {
    let h = with_history(plan, history);
    let st = columnar::evaluate_dataset(&h.plan, data, now())
        .unwrap()
        .state;
    let mut compared = 0;
    for (k, step) in history.iter().enumerate() {
        let separate = reference::run(plan, data, time::sub(now(), *step)).unwrap();
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
    let r = report::build(
        &plan,
        &data,
        events(&plan, &data),
        now(),
        &history,
        inputs,
        report::MemberCount::Sample(20),
    )
    .unwrap();
    assert_eq!(r.trends.moments.len(), 7);
    assert_eq!(*r.trends.moments.last().unwrap(), now());
    // Per series, the rows in it at each moment, from a separate run as of that moment.
    let runs: Vec<Results> = r
        .trends
        .moments
        .iter()
        .map(|at| reference::run(&plan, &data, *at).unwrap())
        .collect();
    let kinds = [
        report::SeriesKind::Segment,
        report::SeriesKind::Tier,
        report::SeriesKind::Persona,
    ];
    for kind in kinds {
        assert!(
            r.trends.series.iter().any(|s| s.kind == kind),
            "no {kind:?} series"
        );
    }
    let mut moved = 0;
    for s in &r.trends.series {
        let members = |run: &Results| -> Vec<bool> {
            let col = table(run, s.scope).column(&s.name).unwrap();
            col.values()
                .map(|v| match (&s.band, v) {
                    (None, Some(Value::Bool(b))) => b,
                    (Some(band), Some(Value::Text(t))) => *t == **band,
                    _ => false,
                })
                .collect()
        };
        let at: Vec<Vec<bool>> = runs.iter().map(members).collect();
        for (k, m) in at.iter().enumerate() {
            let size = m.iter().filter(|x| **x).count();
            assert_eq!(s.sizes[k], size, "{} {:?} at step {k}", s.name, s.band);
        }
        for k in 1..at.len() {
            let pairs = at[k - 1].iter().zip(&at[k]);
            let entered = pairs.clone().filter(|(a, b)| !**a && **b).count();
            let left = pairs.filter(|(a, b)| **a && !**b).count();
            assert_eq!(
                (s.entered[k - 1], s.left[k - 1]),
                (entered, left),
                "{} {:?} entered and left before step {k}",
                s.name,
                s.band
            );
            moved += entered + left;
        }
    }
    assert!(moved > 100, "only {moved} moves: the example should move");

    // The overlap matrix is the run's pairs.
    let o = r.overlap.as_ref().unwrap();
    let now_run = runs.last().unwrap();
    for (i, a) in o.names.iter().enumerate() {
        for (j, b) in o.names.iter().enumerate() {
            let (ca, cb) = (
                now_run.contacts.column(a).unwrap(),
                now_run.contacts.column(b).unwrap(),
            );
            let both = (0..ca.len())
                .filter(|&x| ca.is_true(x) && cb.is_true(x))
                .count();
            assert_eq!(o.shared[i][j], both, "{a} and {b}");
        }
    }

    // The lifecycle funnels are what segments on the stage attribute give.
    let stage_names = [
        "subscriber",
        "lead",
        "mql",
        "sql",
        "opportunity",
        "customer",
    ];
    let lead = r
        .lifecycles
        .iter()
        .find(|l| l.attr == "lead_stage")
        .unwrap();
    assert_eq!(lead.stages, stage_names);
    assert!(r.lifecycles.iter().any(|l| l.attr == "opportunity_stage"));
    let stages = stage_plan(&stage_names);
    let stage_at = |at: DateTime<Utc>| -> Vec<Option<usize>> {
        let run = reference::run(&stages, &data, at).unwrap();
        let cols: Vec<_> = stage_names
            .iter()
            .map(|st| run.contacts.column(&format!("at_{st}")).unwrap())
            .collect();
        (0..run.contacts.ids.len())
            .map(|c| cols.iter().position(|col| col.is_true(c)))
            .collect()
    };
    let (first, last) = (
        stage_at(r.trends.moments[0]),
        stage_at(*r.trends.moments.last().unwrap()),
    );
    for (i, _) in stage_names.iter().enumerate() {
        let count = |v: &[Option<usize>]| v.iter().filter(|x| **x == Some(i)).count();
        assert_eq!(lead.start[i], count(&first), "lead_stage {i} at the start");
        assert_eq!(lead.now[i], count(&last), "lead_stage {i} now");
        let advanced = first
            .iter()
            .zip(&last)
            .filter(|(a, b)| **a == Some(i) && b.is_some_and(|b| b > i))
            .count();
        assert_eq!(lead.advanced[i], advanced, "lead_stage {i} moved on");
    }
    assert_eq!(
        lead.missing_start,
        first.iter().filter(|x| x.is_none()).count()
    );
    assert_eq!(lead.missing, last.iter().filter(|x| x.is_none()).count());
    assert!(lead.advanced.iter().sum::<usize>() > 10);
    // The stage lists are the report's own: not among the tier and persona shares.
    assert!(r.shares.iter().all(|s| s.name != "lead_stage"));
    assert!(r.trends.series.iter().all(|s| s.name != "lead_stage"));

    // Members: each sampled member is in its segment, samples are capped.
    for list in &r.members.lists {
        let t = table(now_run, list.scope);
        let col = t.column(&list.segment).unwrap();
        assert_eq!(
            list.total,
            (0..col.len()).filter(|&i| col.is_true(i)).count()
        );
        assert_eq!(list.rows.len(), list.total.min(20), "{}", list.segment);
        let attrs = match list.scope {
            Scope::Contact => &r.members.attrs,
            Scope::Account => &r.members.account_attrs,
        };
        for (id, values) in &list.rows {
            let row = t.ids.iter().position(|x| x == id).unwrap();
            assert!(col.is_true(row), "{id} is not in {}", list.segment);
            assert_eq!(values.len(), attrs.len());
        }
    }
    assert!(
        r.members.lists.iter().any(|l| l.scope == Scope::Account),
        "account segments list members too"
    );
    assert_eq!(r.members.account_attrs, ["industry", "tier"]);
    for attr in ["lead_stage", "job_title", "account"] {
        assert!(r.members.attrs.iter().any(|a| a == attr), "{attr} is read");
    }
    assert!(!r.members.attrs.iter().any(|a| a == "hobbies"), "not read");
    // The segment sizes are the run's at now.
    let run = now_run;
    for c in &r.segments {
        let col = table(run, c.scope).column(&c.name).unwrap();
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
        assert_eq!(
            d.bins.iter().sum::<usize>() + d.zeros + d.missing,
            rows,
            "{}",
            d.name
        );
        let zeros = table(now_run, d.scope)
            .column(&d.name)
            .unwrap()
            .numbers()
            .filter(|x| *x == Some(0.0))
            .count();
        let spike = zeros > *d.bins.iter().max().unwrap();
        assert_eq!(d.zeros, if spike { zeros } else { 0 }, "{}", d.name);
    }
    assert!(r.scores.iter().any(|d| d.zeros > 0), "a zero spike");
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
        events(&plan, &data),
        now(),
        &steps(1, DurationUnit::Week, 4),
        inputs,
        report::MemberCount::All,
    )
    .unwrap();
    let page = report::html::render(&r);
    assert_eq!(page.matches("<script").count(), 1, "one inline script");
    assert!(page.contains("<script>("), "the script is inline");
    for remote in ["http://", "https://", "<link", "src=", "@import", "url("] {
        let allowed = remote == "http://"
            && page.matches(remote).count() == page.matches("http://www.w3.org/2000/svg").count();
        assert!(
            allowed || !page.contains(remote),
            "the page fetches `{remote}`"
        );
    }
    assert_eq!(page, report::html::render(&r), "rendering is deterministic");
    // Folded parts, sections and tables are closed before the next one opens.
    for tag in ["details", "section", "table"] {
        let (open, close) = (format!("<{tag}"), format!("</{tag}>"));
        let mut depth = 0i32;
        for piece in page.split('<').skip(1) {
            let piece = format!("<{piece}");
            if piece.starts_with(&open) {
                depth += 1;
                assert_eq!(depth, 1, "a {tag} inside a {tag}");
            } else if piece.starts_with(&close) {
                depth -= 1;
                assert_eq!(depth, 0, "a {tag} closed twice");
            }
        }
        assert_eq!(depth, 0, "an unclosed {tag}");
    }
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
