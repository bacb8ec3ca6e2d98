#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Checker unit cases: resolution, typing and lowering, asserted on the program shape.

use funnel::check::program::*;
use funnel::check::{Checked, Type, check};
use funnel::syntax::load_source;
use funnel::syntax::loader::MemoryFs;
use std::path::Path;

const SCHEMA: &str = include_str!("fixtures/schema.funnel");

/// Checks `rules` with the fixture schema imported.
fn run(rules: &str) -> Checked {
    let mut fs = MemoryFs::new();
    fs.insert("/p/schema.funnel", SCHEMA);
    let text = format!("use \"schema.funnel\"\n{rules}");
    let loaded = load_source(
        &fs,
        Path::new("/p"),
        Path::new("/p/main.funnel"),
        "main.funnel",
        &text,
    );
    check(&loaded)
}

fn codes(c: &Checked) -> Vec<String> {
    c.diagnostics
        .iter()
        .map(|d| format!("{} {}", d.code, d.message))
        .collect()
}

fn program(rules: &str) -> Program {
    let c = run(rules);
    let errors: Vec<_> = c.diagnostics.iter().filter(|d| d.is_error()).collect();
    assert!(errors.is_empty(), "unexpected errors: {errors:#?}");
    c.program.expect("a program")
}

#[test]
fn fixtures_check_clean() {
    let c = run(include_str!("fixtures/rules.funnel").trim_start_matches("use \"schema.funnel\""));
    assert_eq!(codes(&c), Vec::<String>::new());
    assert!(c.program.is_some());
}

fn segment<'p>(p: &'p Program, name: &str) -> &'p Expr {
    match &p.def(name).expect("defined").kind {
        DefKind::Segment(e) => e,
        other => panic!("not a segment: {other:?}"),
    }
}

fn stream(event: &str, label: &str, window: Window) -> Stream {
    Stream {
        label: label.into(),
        event: EventSel::Type(event.into()),
        filter: None,
        window,
    }
}

#[test]
fn signals_are_inlined_with_their_filters_joined() {
    let p = program(
        "signal sc = email_clicked where link contains \"service\"\n\
         segment s = sc where campaign = \"x\" within 30d",
    );
    let ExprKind::Exists(s) = &segment(&p, "s").kind else {
        panic!("not exists")
    };
    assert_eq!(s.label, "sc");
    assert_eq!(s.event, EventSel::Type("email_clicked".into()));
    assert_eq!(
        s.window,
        Window::Within(Dur {
            amount: 30,
            unit: funnel::syntax::ast::DurationUnit::Day
        })
    );
    let f = s.filter.as_deref().expect("filter");
    let ExprKind::And(parts) = &f.kind else {
        panic!("filters not joined: {f:?}")
    };
    assert!(matches!(parts[0].kind, ExprKind::Text { .. }));
    assert!(matches!(parts[1].kind, ExprKind::Binary { .. }));
    assert_eq!(p.signals.len(), 1);
}

#[test]
fn bare_events_exist_ever_and_no_negates() {
    let p = program("segment a = email_clicked\nsegment b = no email_sent within 60d");
    assert_eq!(
        segment(&p, "a").kind,
        ExprKind::Exists(stream("email_clicked", "email_clicked", Window::Ever))
    );
    let ExprKind::Not(inner) = &segment(&p, "b").kind else {
        panic!("not negated")
    };
    assert!(matches!(inner.kind, ExprKind::Exists(_)));
}

#[test]
fn frequencies_windows_on_dates_and_as_of() {
    let p = program(
        "segment f = email_bounced where kind = soft at least 4 times\n\
         segment d = last_purchase within 90d\n\
         score s = 1\n\
         segment r = s(30d ago) < s",
    );
    let ExprKind::Freq { stream, freq } = &segment(&p, "f").kind else {
        panic!("not freq")
    };
    assert_eq!(*freq, Freq::AtLeast(4));
    let filter = stream.filter.as_deref().expect("filter");
    let ExprKind::Binary { rhs, .. } = &filter.kind else {
        panic!("not a comparison")
    };
    assert_eq!(rhs.kind, ExprKind::Lit(Value::Text("soft".into())));
    assert_eq!(rhs.ty, Type::Enum(vec!["hard".into(), "soft".into()]));
    let ExprKind::InWindow { expr, .. } = &segment(&p, "d").kind else {
        panic!("not in-window")
    };
    assert_eq!(expr.kind, ExprKind::Attr("last_purchase".into()));
    let ExprKind::Binary { lhs, .. } = &segment(&p, "r").kind else {
        panic!("not a comparison")
    };
    let ExprKind::AsOf { expr, at } = &lhs.kind else {
        panic!("not as-of")
    };
    assert_eq!(expr.kind, ExprKind::Ref("s".into()));
    assert!(matches!(at, TimeRef::Ago(_)));
}

#[test]
fn score_rules_labels_groups_and_decay() {
    let p = program(
        "score s in 0..100 {\n  decay half_life 90d\n  +15 per   asset_downloaded, at most 45\n  +20 * percent per video_watched\n  group g at most 10 { +1 if existing_client }\n}",
    );
    let DefKind::Score(score) = &p.def("s").unwrap().kind else {
        panic!("not a score")
    };
    assert_eq!(score.range, Some((0.0, 100.0)));
    let ScoreBody::Rules { decay, groups } = &score.body else {
        panic!("not rules")
    };
    assert!(matches!(decay, Some(Decay::HalfLife(_))));
    assert_eq!(groups[0].name, None);
    assert_eq!(
        groups[0].rules[0].label,
        "+15 per asset_downloaded, at most 45"
    );
    assert_eq!(groups[0].rules[0].cap, Some(45.0));
    assert!(matches!(
        &groups[0].rules[1].kind,
        RuleKind::Per { times_field: Some(f), .. } if f == "percent"
    ));
    assert_eq!(groups[1].name.as_deref(), Some("g"));
    assert_eq!(groups[1].cap, Some(10.0));
}

#[test]
fn definitions_are_sorted_by_dependency() {
    let p = program(
        "segment a = b and c\nsegment c = existing_client\nsegment b = c\nsegment z = existing_client",
    );
    let names: Vec<&str> = p.defs.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, ["c", "b", "a", "z"]);
}

#[test]
fn tiers_and_personas_are_enums() {
    let p = program(
        "score s in 0..10 = 1\ntiers t of s { lo 0..5, hi 6..10 }\n\
         personas role { boss = job_title = \"CEO\", other = true }\n\
         segment x = t = hi and role = boss\nvalue v = role",
    );
    let ExprKind::And(parts) = &segment(&p, "x").kind else {
        panic!("not and")
    };
    let ExprKind::Binary { lhs, rhs, .. } = &parts[0].kind else {
        panic!("not a comparison")
    };
    assert_eq!(lhs.ty, Type::Enum(vec!["lo".into(), "hi".into()]));
    assert_eq!(rhs.kind, ExprKind::Lit(Value::Text("hi".into())));
    let DefKind::Value(v) = &p.def("v").unwrap().kind else {
        panic!("not a value")
    };
    assert_eq!(v.ty, Type::Enum(vec!["boss".into(), "other".into()]));
}

#[test]
fn accounts_roll_up_and_down() {
    let p = program(
        "score s = 1\nsegment boss = job_title = \"CEO\"\n\
         account score committee = sum(s)\n\
         account segment hot = committee >= 2 and count(contacts where boss) >= 1 and count(boss) > 0\n\
         segment in_hot = account.hot and account.name = \"x\"",
    );
    let DefKind::Score(Score {
        body: ScoreBody::Expr(e),
        ..
    }) = &p.def("committee").unwrap().kind
    else {
        panic!("not an expression score")
    };
    assert!(matches!(
        &e.kind,
        ExprKind::ContactsAgg { expr: Some(x), filter: None, .. } if x.kind == ExprKind::Ref("s".into())
    ));
    let ExprKind::And(parts) = &segment(&p, "hot").kind else {
        panic!("not and")
    };
    for part in &parts[1..] {
        let ExprKind::Binary { lhs, .. } = &part.kind else {
            panic!("not a comparison")
        };
        assert!(matches!(
            &lhs.kind,
            ExprKind::ContactsAgg {
                expr: None,
                filter: Some(_),
                ..
            }
        ));
    }
    let ExprKind::And(parts) = &segment(&p, "in_hot").kind else {
        panic!("not and")
    };
    assert_eq!(parts[0].kind, ExprKind::AccountRef("hot".into()));
    assert_eq!(p.def("hot").unwrap().scope, Scope::Account);
    let order: Vec<&str> = p.defs.iter().map(|d| d.name.as_str()).collect();
    let pos = |n: &str| order.iter().position(|x| *x == n).unwrap();
    assert!(
        pos("s") < pos("committee") && pos("committee") < pos("hot") && pos("hot") < pos("in_hot")
    );
}

#[test]
fn ints_compare_with_numbers_and_dates_with_timestamps() {
    let p = program(
        "segment a = age > 2.5 and lifetime_value > 3\nsegment b = last_time(event) > 2026-01-01",
    );
    let ExprKind::Binary { rhs, .. } = &segment(&p, "b").kind else {
        panic!("not a comparison")
    };
    assert_eq!(rhs.ty, Type::Timestamp);
}

#[test]
fn misspelt_names_get_a_suggestion() {
    let c = run("signal service_click = email_clicked\nsegment s = service_clik");
    let d = c
        .diagnostics
        .iter()
        .find(|d| d.code.as_str() == "E0301")
        .unwrap();
    assert_eq!(d.help.as_deref(), Some("did you mean `service_click`?"));
    assert!(c.program.is_none());
}

#[test]
fn cycles_across_scopes_are_reported_once() {
    let c = run("segment a = account.hot\naccount segment hot = count(contacts where a) > 0");
    let cycles: Vec<_> = c
        .diagnostics
        .iter()
        .filter(|d| d.code.as_str() == "E0501")
        .collect();
    assert_eq!(cycles.len(), 1, "{:#?}", c.diagnostics);
    assert_eq!(
        cycles[0].message,
        "definitions depend on each other: `a` → `hot` → `a`"
    );
    assert_eq!(cycles[0].related.len(), 2);
}

#[test]
fn enum_values_are_checked() {
    let c = run("segment s = lead_stage in (lead, mqll)");
    let d = &c.diagnostics[0];
    assert_eq!(d.code.as_str(), "E0304");
    assert!(d.help.as_deref().unwrap().contains("did you mean `mql`?"));
}

fn has(c: &Checked, code: &str, needle: &str) -> bool {
    c.diagnostics
        .iter()
        .any(|d| d.code.as_str() == code && d.message.contains(needle))
}

#[test]
fn values_are_typed_before_their_first_use() {
    let p = program("segment big = total > 100\nvalue total = sum(purchased.amount)");
    assert_eq!(p.defs[0].name, "total");
    let DefKind::Value(v) = &p.def("total").unwrap().kind else {
        panic!("not a value")
    };
    assert_eq!(v.ty, Type::Number);
}

#[test]
fn tiers_report_values_outside_every_band_within_the_range() {
    let c =
        run("score s in 0..100 { +1 if existing_client }\ntiers t of s { low 5..30, high 31..90 }");
    assert!(has(&c, "E0502", "0..4 of `s`"), "{:#?}", c.diagnostics);
    assert!(has(&c, "E0502", "91..100 of `s`"), "{:#?}", c.diagnostics);
}

#[test]
fn whole_number_bounds_make_strict_int_comparisons_contradict() {
    let c = run("segment a = age > 5 and age < 6");
    assert!(
        has(&c, "E0504", "can never both be true"),
        "{:#?}",
        c.diagnostics
    );
    let c = run("segment a = lifetime_value > 5 and lifetime_value < 6");
    assert!(c.program.is_some(), "{:#?}", c.diagnostics);
}

#[test]
fn opens_through_signals_are_flagged_and_clicks_are_not() {
    let c = run("signal o = email_opened where campaign = \"x\"\nsegment s = o within 30d");
    assert!(has(&c, "W0102", "`s`"));
    let c = run("segment s = email_opened within 30d or email_clicked within 30d");
    assert!(!c.diagnostics.iter().any(|d| d.code.as_str() == "W0102"));
}

#[test]
fn inactivity_rules_stand_in_for_decay() {
    let c = run("score s { +5 per email_clicked\n -10 if no event within 30d }");
    assert!(c.diagnostics.is_empty(), "{:#?}", c.diagnostics);
    let c = run("score fit { +5 if existing_client }");
    assert!(c.diagnostics.is_empty(), "{:#?}", c.diagnostics);
}

#[test]
fn scopes_are_kept_apart() {
    let c = run("account segment a = existing_client");
    assert!(has(&c, "E0408", "contact attribute `existing_client`"));
    let c = run("account score x = 1\nsegment b = x > 0");
    let d = c
        .diagnostics
        .iter()
        .find(|d| d.code.as_str() == "E0408")
        .unwrap();
    assert_eq!(
        d.help.as_deref(),
        Some("read it through the contact's account: `account.x`")
    );
    let c = run("segment c = count(contacts) > 1");
    assert!(has(&c, "E0408", "`contacts`"));
}

#[test]
fn self_references_are_cycles() {
    let c = run("value a = a + 1");
    let cycles: Vec<_> = c.diagnostics.iter().map(|d| d.code.as_str()).collect();
    assert_eq!(cycles, ["E0501"]);
}

#[test]
fn multipliers_must_be_numeric_fields_of_the_rule_event() {
    let c = run(
        "score s { decay half_life 30d\n +1 * campaign per email_clicked\n +1 * prcent per video_watched }",
    );
    assert!(has(&c, "E0401", "`campaign`, which is text"));
    let d = c
        .diagnostics
        .iter()
        .find(|d| d.code.as_str() == "E0303")
        .unwrap();
    assert_eq!(d.help.as_deref(), Some("did you mean `percent`?"));
}

#[test]
fn history_tests_lower_to_was_and_changed() {
    let p = program(
        "segment a = lead_stage was mql within 90d\nsegment b = lead_stage changed from lead to \"SQL\"",
    );
    assert!(matches!(
        &segment(&p, "a").kind,
        ExprKind::Was { attr, value: Value::Text(v), window: Window::Within(_) } if attr == "lead_stage" && &**v == "mql"
    ));
    assert!(matches!(
        &segment(&p, "b").kind,
        ExprKind::Changed { from: Some(Value::Text(f)), to: Some(Value::Text(t)), window: Window::Ever, .. } if &**f == "lead" && &**t == "sql"
    ));
}
