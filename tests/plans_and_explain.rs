//! The plans of the examples (snapshots, so plan changes show in review), and `explain`
//! agreeing with `run` for every contact and account of the bundled data.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use funnel::engine::data::{DataFiles, LoadOptions, load};
use funnel::engine::explain::{Explanation, explain};
use funnel::engine::results::json;
use funnel::plan::Plan;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn plan_of(rules: &str) -> Plan {
    let path = root().join(rules);
    let loaded = funnel::syntax::load_paths(&path, &root()).unwrap();
    let checked = funnel::check::check(&loaded);
    funnel::plan::lower(&checked.program.expect("the example checks"))
}

#[test]
fn plans_of_the_examples() {
    for rules in [
        "examples/b2b/rules.funnel",
        "examples/nordisk/regler.funnel",
    ] {
        let plan = plan_of(rules);
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_suffix(rules.replace(['/', '.'], "_"));
        let mut shown = plan.clone();
        shown.funnel_version = "[version]".into();
        settings.bind(|| insta::assert_json_snapshot!(shown));
        // The JSON reads back to the same plan.
        assert_eq!(Plan::from_json(&plan.to_json()).unwrap(), plan);
    }
}

#[test]
fn explain_agrees_with_run_for_every_contact_and_account() {
    let plan = plan_of("examples/b2b/rules.funnel");
    let files = DataFiles::from_dir(Path::new(&root().join("examples/b2b/data"))).unwrap();
    let data = load(&plan.schema, &files, &LoadOptions::default())
        .unwrap()
        .dataset;
    let now = chrono::DateTime::parse_from_rfc3339("2026-11-20T00:00:00Z")
        .unwrap()
        .to_utc();
    let results = funnel::engine::reference::run(&plan, &data, now).unwrap();
    let ev = funnel::engine::columnar::evaluate_dataset(&plan, &data, now).unwrap();
    let (ctx, st) = (&ev.ctx, &ev.state);
    let mut compared = 0;
    for (i, id) in results.contacts.ids.iter().enumerate() {
        let e = explain(ctx, st, i as u32);
        let row = results.contacts.row(id).unwrap();
        for x in &e.results {
            compared += 1;
            agree(x, |name| row.get(name).as_ref().map(json), id);
        }
        if let Some(a) = &e.account {
            let arow = results.accounts.row(a).unwrap();
            for x in &e.account_results {
                agree(x, |name| arow.get(name).as_ref().map(json), a);
            }
        }
    }
    assert!(compared > 300 * 40, "compared only {compared} results");
}

fn agree(x: &Explanation, got: impl Fn(&str) -> Option<serde_json::Value>, id: &str) {
    let (name, said) = match x {
        Explanation::Segment { name, member, .. } | Explanation::Top { name, member, .. } => {
            (name, Some(serde_json::Value::Bool(*member)))
        }
        Explanation::Score { name, value, .. } => (name, value.map(|v| serde_json::json!(v))),
        Explanation::Value { name, value } => {
            (name, Some(value.value.clone()).filter(|v| !v.is_null()))
        }
        Explanation::Tier { name, tier, .. } => (name, tier.clone().map(serde_json::Value::String)),
        Explanation::Personas { name, chosen, .. } => {
            (name, chosen.clone().map(serde_json::Value::String))
        }
    };
    assert_eq!(
        said,
        got(name),
        "`{id}`: explain and run disagree on `{name}`"
    );
}

/// A plan that reads a name its schema does not define (edited by hand, or written for
/// another schema) is refused with the name, not run with missing values.
#[test]
fn a_plan_reading_undefined_names_is_refused() {
    use funnel::plan::{Expr, NodeKind};
    let plan = plan_of("examples/b2b/rules.funnel");
    let data = funnel::engine::data::Dataset::default();
    let now = chrono::Utc::now();
    let mut attr = plan.clone();
    let segment = attr
        .nodes
        .iter_mut()
        .find_map(|n| match &mut n.kind {
            NodeKind::Segment(e) => Some(e),
            _ => None,
        })
        .unwrap();
    *segment = Expr::Attr {
        name: "shoe_size".into(),
        moment: 0,
    };
    let err = funnel::engine::run(&attr, &data, now)
        .unwrap_err()
        .to_string();
    assert!(err.contains("the contact attribute `shoe_size`"), "{err}");
    assert!(err.contains("funnel compile"), "{err}");
    let mut agg = plan.clone();
    agg.aggregates[0].event = funnel::plan::types::EventSel::Type("page_zoomed".into());
    let err = funnel::engine::run(&agg, &data, now)
        .unwrap_err()
        .to_string();
    assert!(err.contains("the event type `page_zoomed`"), "{err}");
    // An event filter that reads a contact attribute (the checker allows only event
    // fields): the engine names it instead of running something else.
    let mut filter = plan.clone();
    let a = filter
        .aggregates
        .iter_mut()
        .find(|a| a.filter.is_some())
        .unwrap();
    a.filter = Some(Expr::Attr {
        name: "job_title".into(),
        moment: 0,
    });
    let label = a.label.clone();
    let err = funnel::engine::run(&filter, &data, now)
        .unwrap_err()
        .to_string();
    assert!(err.contains("cannot run the filter of"), "{err}");
    assert!(err.contains(&label), "{err}");
    assert!(funnel::engine::run(&plan, &data, now).is_ok());
}
