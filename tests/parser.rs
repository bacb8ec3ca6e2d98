//! The parser: one test per grammar construct, asserting on the tree's shape and on
//! spans (by the source text they cover), plus recovery and error messages.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use funnel::diag::{Code, Diagnostic};
use funnel::syntax::ast::*;
use funnel::syntax::{FileId, Span, parse_file};

fn parse(src: &str) -> (File, Vec<Diagnostic>) {
    parse_file(FileId(0), src)
}

/// Parses text that must have no syntax error.
fn ok(src: &str) -> File {
    let (f, d) = parse(src);
    assert!(d.is_empty(), "unexpected diagnostics for {src:?}: {d:#?}");
    f
}

fn text(src: &str, span: Span) -> &str {
    &src[span.range()]
}

/// The body of the only segment in `src`.
fn seg(src: &str) -> Expr {
    let f = ok(src);
    match f.items.into_iter().next().map(|i| i.kind) {
        Some(ItemKind::Segment {
            body: SegmentBody::Expr(e),
            ..
        }) => e,
        other => panic!("not a segment: {other:?}"),
    }
}

/// The segment body of `segment s = <expr>` as an S-expression.
fn sx(expr: &str) -> String {
    let src = format!("segment s = {expr}");
    let e = seg(&src);
    show(&src, &e)
}

/// A compact S-expression of an expression, with leaves shown as their source text.
fn show(src: &str, e: &Expr) -> String {
    let t = |e: &Expr| show(src, e);
    match &e.kind {
        ExprKind::Lit(Literal::Duration(d)) => format!("{}{:?}", d.amount, d.unit),
        ExprKind::Lit(l) => format!("{l:?}"),
        ExprKind::Name(i) => i.name.clone(),
        ExprKind::Path(a, b) => format!("{}.{}", a.name, b.name),
        ExprKind::Stream(s) => format!("(stream {})", stream(src, s)),
        ExprKind::No(s) => format!("(no {})", stream(src, s)),
        ExprKind::AsOf { base, member, at } => format!(
            "(as_of {}{} {})",
            base.name,
            member
                .as_ref()
                .map(|m| format!(".{}", m.name))
                .unwrap_or_default(),
            text(src, at.span())
        ),
        ExprKind::Agg { func, arg, .. } => match arg {
            AggArg::Stream(s) => format!(
                "({} {}{}{}{})",
                func.name(),
                match &s.source {
                    StreamSource::AnyEvent(_) => "event".to_string(),
                    StreamSource::Named(i) => i.name.clone(),
                },
                s.field
                    .as_ref()
                    .map(|f| format!(".{}", f.name))
                    .unwrap_or_default(),
                s.filter
                    .as_ref()
                    .map(|f| format!(" where {}", t(f)))
                    .unwrap_or_default(),
                s.window
                    .as_ref()
                    .map(|w| format!(" [{}]", text(src, w.span())))
                    .unwrap_or_default(),
            ),
            AggArg::Expr(x) => format!("({} {})", func.name(), t(x)),
        },
        ExprKind::TimeSince(x) => format!("(time_since {})", t(x)),
        ExprKind::Not(x) => format!("(not {})", t(x)),
        ExprKind::Neg(x) => format!("(neg {})", t(x)),
        ExprKind::And(v) => format!("(and {})", v.iter().map(t).collect::<Vec<_>>().join(" ")),
        ExprKind::Or(v) => format!("(or {})", v.iter().map(t).collect::<Vec<_>>().join(" ")),
        ExprKind::Binary { op, lhs, rhs, .. } => format!("({} {} {})", op.symbol(), t(lhs), t(rhs)),
        ExprKind::InList {
            expr,
            negated,
            items,
        } => format!(
            "({} {} {})",
            if *negated { "not_in" } else { "in" },
            t(expr),
            items.iter().map(t).collect::<Vec<_>>().join(" ")
        ),
        ExprKind::InRange { expr, range } => {
            format!("(in_range {} {})", t(expr), text(src, range.span))
        }
        ExprKind::Text { expr, op, patterns } => format!(
            "({op:?} {} {:?})",
            t(expr),
            patterns
                .iter()
                .map(|p| p.value.as_str())
                .collect::<Vec<_>>()
        ),
        ExprKind::Matches {
            expr,
            pattern,
            flags,
            ..
        } => format!("(matches {} {pattern:?} {flags:?})", t(expr)),
        ExprKind::IsMissing { expr, negated } => {
            format!(
                "({} {})",
                if *negated { "is_present" } else { "is_missing" },
                t(expr)
            )
        }
        ExprKind::Paren(x) => format!("[{}]", t(x)),
    }
}

fn stream(src: &str, s: &StreamTest) -> String {
    let mut out = match &s.source {
        StreamSource::AnyEvent(_) => "event".to_string(),
        StreamSource::Named(i) => i.name.clone(),
    };
    if let Some(f) = &s.field {
        out.push_str(&format!(".{}", f.name));
    }
    if let Some(f) = &s.filter {
        out.push_str(&format!(" where {}", show(src, f)));
    }
    if let Some(h) = &s.history {
        out.push_str(&format!(
            " {{{}}}",
            match h {
                HistoryTest::Was(_, sp) | HistoryTest::Changed { span: sp, .. } => text(src, *sp),
            }
        ));
    }
    for (name, span) in [
        ("window", s.window.as_ref().map(|w| w.span())),
        ("freq", s.freq.map(|f| f.span)),
        ("regular", s.regular.map(|r| r.span)),
    ] {
        if let Some(sp) = span {
            out.push_str(&format!(" {name}[{}]", text(src, sp)));
        }
    }
    out
}

// ------------------------------------------------------------------ items

#[test]
fn use_item() {
    let src = r#"use "schema.funnel""#;
    let f = ok(src);
    let ItemKind::Use(lit) = &f.items[0].kind else {
        panic!()
    };
    assert_eq!(lit.value, "schema.funnel");
    assert_eq!(text(src, lit.span), r#""schema.funnel""#);
    assert_eq!(text(src, f.items[0].span), src);
}

#[test]
fn schema_fields_every_type_and_modifier() {
    let src = "contact {\n  a: text\n  b: int? in 0..130\n  c: number in -1.5..2.5,\n  d: bool; e: date\n  f: timestamp\n  g: duration?\n  h: one of (x, \"y z\", `and`)? with history\n  i: account?\n}";
    let f = ok(src);
    let ItemKind::Contact(fields) = &f.items[0].kind else {
        panic!()
    };
    let names: Vec<&str> = fields.iter().map(|f| f.name.name.as_str()).collect();
    assert_eq!(names, ["a", "b", "c", "d", "e", "f", "g", "h", "i"]);
    let b = &fields[1];
    assert!(b.optional && !b.history);
    assert_eq!(text(src, b.span), "b: int? in 0..130");
    let r = b.range.unwrap();
    assert_eq!((r.lo.value, r.hi.value), (0.0, 130.0));
    let c = fields[2].range.unwrap();
    assert_eq!((c.lo.value, c.hi.value), (-1.5, 2.5));
    assert!(!c.lo.is_int);
    assert_eq!(text(src, c.lo.span), "-1.5");
    let h = &fields[7];
    assert!(h.optional && h.history);
    let TypeExpr::OneOf(values, span) = &h.ty else {
        panic!()
    };
    let vs: Vec<&str> = values.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(vs, ["x", "y z", "and"]);
    assert_eq!(text(src, *span), "one of (x, \"y z\", `and`)");
    let TypeExpr::Named(t) = &fields[8].ty else {
        panic!()
    };
    assert_eq!(t.name, "account");
}

#[test]
fn account_and_event_blocks() {
    let src = "account { name: text, industry: text? }\nevent page_viewed { url: text, seconds: int }\nevent ping";
    let f = ok(src);
    assert!(matches!(&f.items[0].kind, ItemKind::Account(v) if v.len() == 2));
    let ItemKind::Event { name, fields } = &f.items[1].kind else {
        panic!()
    };
    assert_eq!(name.name, "page_viewed");
    assert_eq!(fields.len(), 2);
    let ItemKind::Event { name, fields } = &f.items[2].kind else {
        panic!()
    };
    assert_eq!((name.name.as_str(), fields.len()), ("ping", 0));
}

#[test]
fn signal() {
    let src = "signal hard = email_bounced where kind = hard\nsignal any = event";
    let f = ok(src);
    let ItemKind::Signal {
        name,
        source,
        filter,
    } = &f.items[0].kind
    else {
        panic!()
    };
    assert_eq!(name.name, "hard");
    assert_eq!(text(src, source.span()), "email_bounced");
    assert_eq!(text(src, filter.as_ref().unwrap().span), "kind = hard");
    assert_eq!(
        text(src, f.items[0].span),
        "signal hard = email_bounced where kind = hard"
    );
    let ItemKind::Signal { source, filter, .. } = &f.items[1].kind else {
        panic!()
    };
    assert!(matches!(source, StreamSource::AnyEvent(_)) && filter.is_none());
}

#[test]
fn segment_and_top_n() {
    let src = "segment a = x\nsegment top_risers = top 50 by s - s(30d ago)";
    let f = ok(src);
    let ItemKind::Segment {
        scope,
        body: SegmentBody::Top { n, by, span },
        ..
    } = &f.items[1].kind
    else {
        panic!()
    };
    assert_eq!(*scope, Scope::Contact);
    assert_eq!(n.value, 50);
    assert_eq!(text(src, *span), "top 50 by s - s(30d ago)");
    assert_eq!(show(src, by), "(- s (as_of s 30d ago))");
}

#[test]
fn values_and_account_items() {
    let src = "value last = last_time(event)\naccount score c = sum(s)\naccount segment h = c >= 2\naccount value v = avg(fit)";
    let f = ok(src);
    assert!(matches!(
        &f.items[0].kind,
        ItemKind::Value {
            scope: Scope::Contact,
            ..
        }
    ));
    let ItemKind::Score {
        scope,
        name,
        body: ScoreBody::Expr(e),
        ..
    } = &f.items[1].kind
    else {
        panic!()
    };
    assert_eq!((*scope, name.name.as_str()), (Scope::Account, "c"));
    assert_eq!(show(src, e), "(sum s)");
    assert!(matches!(
        &f.items[2].kind,
        ItemKind::Segment {
            scope: Scope::Account,
            ..
        }
    ));
    let ItemKind::Value { scope, expr, .. } = &f.items[3].kind else {
        panic!()
    };
    assert_eq!(*scope, Scope::Account);
    assert_eq!(show(src, expr), "(avg fit)");
    assert_eq!(text(src, f.items[1].span), "account score c = sum(s)");
}

#[test]
fn score_block_rules_caps_groups_decay() {
    let src = "score s in 0..100 {\n  decay half_life 90d\n  +15 per a where t = \"w\", at most 45\n  +20 * percent per v\n  -10 if no event within 30d\n  group web at most 40 {\n    +2 per p within 7d\n    -1.5 per q\n  }\n}";
    let f = ok(src);
    let ItemKind::Score {
        range,
        body: ScoreBody::Rules(stmts),
        ..
    } = &f.items[0].kind
    else {
        panic!()
    };
    assert_eq!(text(src, range.unwrap().span), "0..100");
    assert_eq!(stmts.len(), 5);
    let ScoreStmt::Decay(Decay::HalfLife { half_life, span }) = &stmts[0] else {
        panic!()
    };
    assert_eq!((half_life.amount, half_life.unit), (90, DurationUnit::Day));
    assert_eq!(text(src, *span), "decay half_life 90d");
    let ScoreStmt::Rule(r) = &stmts[1] else {
        panic!()
    };
    assert_eq!(r.points.value, 15.0);
    assert_eq!(r.cap.unwrap().value, 45.0);
    assert_eq!(text(src, r.span), "+15 per a where t = \"w\", at most 45");
    let RuleKind::Per(st) = &r.kind else { panic!() };
    assert_eq!(text(src, st.filter.as_ref().unwrap().span), "t = \"w\"");
    let ScoreStmt::Rule(r) = &stmts[2] else {
        panic!()
    };
    assert_eq!(r.points.times_field.as_ref().unwrap().name, "percent");
    assert_eq!(text(src, r.points.span), "+20 * percent");
    let ScoreStmt::Rule(r) = &stmts[3] else {
        panic!()
    };
    assert_eq!(r.points.value, -10.0);
    let RuleKind::If(cond) = &r.kind else {
        panic!()
    };
    assert_eq!(show(src, cond), "(no event window[within 30d])");
    let ScoreStmt::Group {
        name,
        cap,
        rules,
        span,
    } = &stmts[4]
    else {
        panic!()
    };
    assert_eq!(
        (name.name.as_str(), cap.unwrap().value, rules.len()),
        ("web", 40.0, 2)
    );
    assert_eq!(rules[1].points.value, -1.5);
    let RuleKind::Per(st) = &rules[0].kind else {
        panic!()
    };
    assert!(matches!(st.window, Some(Window::Within(d, _)) if d.amount == 7));
    assert!(text(src, *span).starts_with("group web") && text(src, *span).ends_with('}'));
}

#[test]
fn step_decay_and_score_expr() {
    let src = "score c { decay 25% every 30d +10 per p }\nscore q in 0..150 = fit + engagement";
    let f = ok(src);
    let ItemKind::Score {
        body: ScoreBody::Rules(stmts),
        ..
    } = &f.items[0].kind
    else {
        panic!()
    };
    let ScoreStmt::Decay(Decay::Step { percent, every, .. }) = &stmts[0] else {
        panic!()
    };
    assert_eq!((percent.value, every.amount), (25.0, 30));
    let ItemKind::Score {
        body: ScoreBody::Expr(e),
        ..
    } = &f.items[1].kind
    else {
        panic!()
    };
    assert_eq!(show(src, e), "(+ fit engagement)");
}

#[test]
fn tiers_and_personas() {
    let src = "tiers stage of s { low 0..30, mid 31..75, high 76..100 }\npersonas role {\n  dm = t matches /ceo/i\n  champ = blog at least 5 times within 30d,\n  info = x\n}";
    let f = ok(src);
    let ItemKind::Tiers { name, score, bands } = &f.items[0].kind else {
        panic!()
    };
    assert_eq!((name.name.as_str(), score.name.as_str()), ("stage", "s"));
    let b: Vec<(&str, f64, f64)> = bands
        .iter()
        .map(|b| (b.name.name.as_str(), b.range.lo.value, b.range.hi.value))
        .collect();
    assert_eq!(
        b,
        [
            ("low", 0.0, 30.0),
            ("mid", 31.0, 75.0),
            ("high", 76.0, 100.0)
        ]
    );
    assert_eq!(text(src, bands[1].span), "mid 31..75");
    let ItemKind::Personas { name, personas } = &f.items[1].kind else {
        panic!()
    };
    assert_eq!(name.name, "role");
    let names: Vec<&str> = personas.iter().map(|p| p.name.name.as_str()).collect();
    assert_eq!(names, ["dm", "champ", "info"]);
    assert_eq!(
        text(src, personas[1].span),
        "champ = blog at least 5 times within 30d"
    );
    assert_eq!(text(src, personas[2].cond.span), "x");
}

// ------------------------------------------------------------------ expressions

#[test]
fn precedence() {
    assert_eq!(sx("a or b and c"), "(or a (and b c))");
    assert_eq!(sx("a and b or c and d"), "(or (and a b) (and c d))");
    assert_eq!(sx("not a and b"), "(and (not a) b)");
    assert_eq!(sx("not a = 1"), "(not (= a Int(1)))");
    assert_eq!(
        sx("a + b * c > d - e / f"),
        "(> (+ a (* b c)) (- d (/ e f)))"
    );
    assert_eq!(sx("a - b - c"), "(- (- a b) c)");
    assert_eq!(sx("-a * b"), "(* (neg a) b)");
    assert_eq!(sx("(a or b) and c"), "(and [(or a b)] c)");
    assert_eq!(sx("a and b and c"), "(and a b c)");
    assert_eq!(sx("a or b or c"), "(or a b c)");
    assert_eq!(sx("a + 1 in 1..5"), "(in_range (+ a Int(1)) 1..5)");
    assert_eq!(
        sx("x is missing or y is present"),
        "(or (is_missing x) (is_present y))"
    );
}

#[test]
fn postfix_operators() {
    assert_eq!(
        sx("r in (emea, \"x\", 3, -2)"),
        "(in r emea Text(\"x\") Int(3) Int(-2))"
    );
    assert_eq!(sx("r not in (a, b)"), "(not_in r a b)");
    assert_eq!(sx("age in 18..30"), "(in_range age 18..30)");
    assert_eq!(sx("u contains \"a\""), "(Contains u [\"a\"])");
    assert_eq!(
        sx("u starts with (\"/a\", \"/b\",)"),
        "(StartsWith u [\"/a\", \"/b\"])"
    );
    assert_eq!(sx("u ends with \".pdf\""), "(EndsWith u [\".pdf\"])");
    assert_eq!(sx("t matches /a\\/b|c/i"), "(matches t \"a/b|c\" \"i\")");
}

#[test]
fn streams_windows_frequency_regularity() {
    assert_eq!(sx("c within 30d"), "(stream c window[within 30d])");
    assert_eq!(
        sx("e where k = soft at least 4 times"),
        "(stream e where (= k soft) freq[at least 4 times])"
    );
    assert_eq!(
        sx("e at most 2 times within 90d"),
        "(stream e window[within 90d] freq[at most 2 times])"
    );
    assert_eq!(
        sx("e exactly 1 time ever"),
        "(stream e window[ever] freq[exactly 1 time])"
    );
    assert_eq!(
        sx("b in at least 3 of the last 4 weeks"),
        "(stream b regular[in at least 3 of the last 4 weeks])"
    );
    assert_eq!(
        sx("p between 90d ago and 30d ago"),
        "(stream p window[between 90d ago and 30d ago])"
    );
    assert_eq!(
        sx("p between 2026-01-01 and 2026-03-31T12:00:00Z"),
        "(stream p window[between 2026-01-01 and 2026-03-31T12:00:00Z])"
    );
    assert_eq!(
        sx("p since 2026-01-01"),
        "(stream p window[since 2026-01-01])"
    );
    assert_eq!(
        sx("p before 1 month ago"),
        "(stream p window[before 1 month ago])"
    );
    assert_eq!(sx("p since now"), "(stream p window[since now])");
    assert_eq!(sx("no event within 60d"), "(no event window[within 60d])");
    // a `where` condition extends as far as it can
    assert_eq!(
        sx("e where a = 1 and b = 2 within 7d"),
        "(stream e where (and (= a Int(1)) (= b Int(2))) window[within 7d])"
    );
    assert_eq!(
        sx("(e where a = 1) and b"),
        "(and [(stream e where (= a Int(1)))] b)"
    );
}

#[test]
fn stream_window_details() {
    let src = "segment s = p between 2026-01-01 and 30d ago";
    let e = seg(src);
    let ExprKind::Stream(t) = &e.kind else {
        panic!()
    };
    let Some(Window::Between(a, b, _)) = &t.window else {
        panic!()
    };
    assert!(matches!(a, TimePoint::Date(d, _) if d.to_string() == "2026-01-01"));
    assert!(matches!(b, TimePoint::Ago(d, _) if d.amount == 30 && d.unit == DurationUnit::Day));
    let e = seg("segment s = b in at least 2 of the last 3 months");
    let ExprKind::Stream(t) = &e.kind else {
        panic!()
    };
    let r = t.regular.unwrap();
    assert_eq!(
        (r.at_least.value, r.of_last.value, r.unit),
        (2, 3, DurationUnit::Month)
    );
}

#[test]
fn repeated_modifiers_are_kept_for_the_checker() {
    let src = "segment s = p within 7d within 30d";
    let e = seg(src);
    let ExprKind::Stream(t) = &e.kind else {
        panic!()
    };
    assert_eq!(t.extra.len(), 1);
    assert_eq!(text(src, t.extra[0]), "within 30d");
}

#[test]
fn history_tests() {
    assert_eq!(
        sx("stage was mql within 90d"),
        "(stream stage {was mql} window[within 90d])"
    );
    assert_eq!(
        sx("stage changed to sql"),
        "(stream stage {changed to sql})"
    );
    assert_eq!(
        sx("stage changed from lead to sql within 30d"),
        "(stream stage {changed from lead to sql} window[within 30d])"
    );
    let e = seg("segment s = stage changed from lead");
    let ExprKind::Stream(t) = &e.kind else {
        panic!()
    };
    let Some(HistoryTest::Changed { from, to, .. }) = &t.history else {
        panic!()
    };
    assert!(from.is_some() && to.is_none());
}

#[test]
fn aggregates_as_of_time_since_paths() {
    assert_eq!(
        sx("count(e where k = soft within 30d) >= 4"),
        "(>= (count e where (= k soft) [within 30d]) Int(4))"
    );
    assert_eq!(
        sx("sum(purchased.amount since 2026-01-01)"),
        "(sum purchased.amount [since 2026-01-01])"
    );
    assert_eq!(
        sx("count(contacts where role = dm)"),
        "(count contacts where (= role dm))"
    );
    assert_eq!(sx("sum(s * 2)"), "(sum (* s Int(2)))");
    for f in [
        "count_distinct",
        "min",
        "max",
        "avg",
        "first",
        "last",
        "most_frequent",
        "first_time",
        "last_time",
    ] {
        assert_eq!(sx(&format!("{f}(p.url)")), format!("({f} p.url)"));
    }
    assert_eq!(
        sx("time_since(last_time(event)) > 14d"),
        "(> (time_since (last_time event)) 14Day)"
    );
    assert_eq!(sx("s(30d ago)"), "(as_of s 30d ago)");
    assert_eq!(sx("account.c(2026-01-01)"), "(as_of account.c 2026-01-01)");
    assert_eq!(sx("account.industry"), "account.industry");
    // a name that looks like an aggregate is a name when not called
    assert_eq!(sx("count > 1"), "(> count Int(1))");
}

#[test]
fn literals_of_every_kind() {
    let e = seg(
        "segment s = x in (1, 2.5, -3, \"a\\\"b\\n\\u{e6}\", true, false, 2026-01-31, 2026-01-31T10:00:00Z, 2026-01-31T10:00, 30d, 12h, 2w, 3mo, 1y, 2 weeks, 1 month)",
    );
    let ExprKind::InList { items, .. } = e.kind else {
        panic!()
    };
    let lits: Vec<String> = items
        .iter()
        .map(|i| match &i.kind {
            ExprKind::Lit(Literal::Duration(d)) => format!("{}{:?}", d.amount, d.unit),
            ExprKind::Lit(l) => format!("{l:?}"),
            k => panic!("{k:?}"),
        })
        .collect();
    assert_eq!(
        lits,
        [
            "Int(1)",
            "Number(2.5)",
            "Int(-3)",
            "Text(\"a\\\"b\\næ\")",
            "Bool(true)",
            "Bool(false)",
            "Date(2026-01-31)",
            "Timestamp(2026-01-31T10:00:00Z)",
            "Timestamp(2026-01-31T10:00:00Z)",
            "30Day",
            "12Hour",
            "2Week",
            "3Month",
            "1Year",
            "2Week",
            "1Month",
        ]
    );
}

#[test]
fn timestamps_with_and_without_seconds_and_zone() {
    assert_eq!(
        sx("t > 2026-01-31T10:00:00+02:00"),
        "(> t Timestamp(2026-01-31T08:00:00Z))"
    );
    assert_eq!(
        sx("t > 2026-01-31T10:00+02:00"),
        "(> t Timestamp(2026-01-31T08:00:00Z))"
    );
    assert_eq!(
        sx("t > 2026-01-31T10:00Z"),
        "(> t Timestamp(2026-01-31T10:00:00Z))"
    );
    assert_eq!(
        sx("t > 2026-01-31T10:00:30.5Z"),
        "(> t Timestamp(2026-01-31T10:00:30.500Z))"
    );
    assert_eq!(
        sx("t > 2026-01-31T10:00:30"),
        "(> t Timestamp(2026-01-31T10:00:30Z))"
    );
    let d = one_error("segment a = t > 2026-01-31T25:00Z");
    assert_eq!(d.message, "`2026-01-31T25:00Z` is not a valid timestamp");
}

#[test]
fn unicode_and_backtick_identifiers() {
    let src =
        "segment Direktør = stilling = \"Direktør\" or `score` >= 9 or þjónusta_ævi within 30d";
    let f = ok(src);
    let ItemKind::Segment {
        name,
        body: SegmentBody::Expr(e),
        ..
    } = &f.items[0].kind
    else {
        panic!()
    };
    assert_eq!(name.name, "Direktør");
    assert_eq!(text(src, name.span), "Direktør");
    assert_eq!(
        show(src, e),
        "(or (= stilling Text(\"Direktør\")) (>= score Int(9)) (stream þjónusta_ævi window[within 30d]))"
    );
    let ExprKind::Or(v) = &e.kind else { panic!() };
    let ExprKind::Binary { lhs, .. } = &v[1].kind else {
        panic!()
    };
    assert_eq!(text(src, lhs.span), "`score`");
}

#[test]
fn keywords_need_backticks() {
    let (_, d) = parse("segment s = score > 1");
    assert_eq!(d.len(), 1);
    assert!(
        d[0].help.as_deref().unwrap().contains("reserved word"),
        "{d:?}"
    );
    // a keyword prefix does not make a name a keyword
    assert_eq!(
        sx("index and nothing and notes"),
        "(and index nothing notes)"
    );
}

#[test]
fn spans_cover_exact_text() {
    let src = "segment a =\n  x within 30d   # trailing comment\n  or not y   \n\nsegment b = z";
    let f = ok(src);
    assert_eq!(
        text(src, f.items[0].span),
        "segment a =\n  x within 30d   # trailing comment\n  or not y"
    );
    let ItemKind::Segment {
        body: SegmentBody::Expr(e),
        ..
    } = &f.items[0].kind
    else {
        panic!()
    };
    assert_eq!(
        text(src, e.span),
        "x within 30d   # trailing comment\n  or not y"
    );
    let ExprKind::Or(v) = &e.kind else { panic!() };
    assert_eq!(text(src, v[0].span), "x within 30d");
    assert_eq!(text(src, v[1].span), "not y");
    let ExprKind::Not(y) = &v[1].kind else {
        panic!()
    };
    assert_eq!(text(src, y.span), "y");
}

#[test]
fn comments_are_kept_with_spans() {
    let src = "# head\nsegment a = x # after a\n# between\nscore s {\n  # inside\n  +1 per e # rule\n}\n# tail";
    let f = ok(src);
    let cs: Vec<(&str, &str)> = f
        .comments
        .iter()
        .map(|c| (c.text.as_str(), text(src, c.span)))
        .collect();
    assert_eq!(
        cs,
        [
            (" head", "# head"),
            (" after a", "# after a"),
            (" between", "# between"),
            (" inside", "# inside"),
            (" rule", "# rule"),
            (" tail", "# tail"),
        ]
    );
    assert_eq!(f.items.len(), 2);
}

#[test]
fn byte_order_mark_and_crlf() {
    let f = ok("\u{feff}segment a = x\r\nsegment b = y\r\n");
    assert_eq!(f.items.len(), 2);
}

// ------------------------------------------------------------------ errors and recovery

#[test]
fn recovery_reports_every_error_and_keeps_later_items() {
    let src = "segment a = x ==  3\nsegment b = y and\nscore c { +5 per x where }\nsegment d = ok\nsegment e = (\nsegment f = fine";
    let (f, d) = parse(src);
    assert_eq!(d.len(), 4, "{d:#?}");
    assert!(d.iter().all(|d| d.code == Code::Syntax));
    let names: Vec<&str> = f
        .items
        .iter()
        .filter_map(|i| match &i.kind {
            ItemKind::Segment { name, .. } => Some(name.name.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(names, ["d", "f"]);
    // an unfinished definition is reported at the word that starts the next one
    let lines: Vec<usize> = d
        .iter()
        .map(|d| src[..d.span.start as usize].matches('\n').count() + 1)
        .collect();
    assert_eq!(lines, [1, 3, 3, 6]);
    assert!(d[1].help.as_deref().unwrap().contains("unfinished"));
}

fn one_error(src: &str) -> Diagnostic {
    let (_, d) = parse(src);
    assert_eq!(d.len(), 1, "{src:?}: {d:#?}");
    d.into_iter().next().unwrap()
}

#[test]
fn double_equals() {
    let src = "segment a = x == 3";
    let d = one_error(src);
    assert_eq!(d.help.as_deref(), Some("compare with a single `=`"));
    assert_eq!(text(src, d.span), "=");
    assert_eq!(d.span.start, 15);
}

#[test]
fn c_style_boolean_operators() {
    for op in ["&&", "||"] {
        let d = one_error(&format!("segment a = x {op} y"));
        assert_eq!(d.help.as_deref(), Some("write `and` / `or`"), "{op}");
        assert!(
            d.message.contains(&format!("found `{}`", &op[..1])),
            "{}",
            d.message
        );
    }
}

#[test]
fn single_quotes() {
    let d = one_error("segment a = t = 'CEO'");
    assert_eq!(
        d.help.as_deref(),
        Some("text is written in double quotes: `\"…\"`")
    );
    assert!(d.message.starts_with("expected "), "{}", d.message);
}

#[test]
fn unfinished_definition() {
    let src = "segment a =\nsegment b = y";
    let d = one_error(src);
    assert!(d.message.contains("found `segment`"), "{}", d.message);
    assert_eq!(
        d.help.as_deref(),
        Some(
            "the definition before `segment` is unfinished: complete it, or comment it out with `#`"
        )
    );
    assert_eq!(text(src, d.span), "segment");
}

#[test]
fn unfinished_at_end_of_file() {
    let d = one_error("segment a = x and");
    assert!(d.message.ends_with("found end of file"), "{}", d.message);
}

#[test]
fn a_misspelled_definition_keyword() {
    let d = one_error("segmnet a = x");
    assert_eq!(d.message, "expected a definition, found `segmnet`");
    assert_eq!(d.help.as_deref(), Some("did you mean `segment`?"));
    // After a complete definition, too (not "expected `and`, `or`, …").
    let d = one_error("segment a = x\nscroe s in 0..10 { +1 if x }");
    assert_eq!(d.help.as_deref(), Some("did you mean `score`?"));
}

#[test]
fn an_unterminated_text() {
    let d = one_error("segment a = x = \"abc\nsegment b = y");
    assert_eq!(d.message, "this text has no closing `\"`");
    // A closed text with an escaped quote is not unterminated.
    let d = one_error("segment a = x = \"a\\\"b\" +");
    assert_ne!(d.message, "this text has no closing `\"`");
}

#[test]
fn not_a_definition() {
    let d = one_error("frobnicate a = x");
    assert!(
        d.message.starts_with("expected a definition"),
        "{}",
        d.message
    );
    assert!(
        d.help
            .as_deref()
            .unwrap()
            .starts_with("each definition starts with")
    );
}

#[test]
fn invalid_literals() {
    let d = one_error("segment a = d > 2026-02-30");
    assert_eq!(d.code, Code::InvalidLiteral);
    assert_eq!(d.message, "`2026-02-30` is not a calendar date");
    let d = one_error("segment a = x in (\"\\u{110000}\")");
    assert_eq!(d.code, Code::InvalidLiteral);
    let d = one_error("segment a = n > 99999999999999999999");
    assert_eq!(d.code, Code::InvalidLiteral);
    let d = one_error("segment a = e within 1000000d");
    assert_eq!(d.code, Code::InvalidLiteral);
}

#[test]
fn limits() {
    let deep = format!("segment a = {}x{}", "(".repeat(100), ")".repeat(100));
    let d = one_error(&deep);
    assert_eq!(d.code, Code::TooDeep);
    let nots = format!("segment a = {}x", "not ".repeat(100));
    assert_eq!(one_error(&nots).code, Code::TooDeep);
    let big = "#".repeat(funnel::syntax::parser::MAX_INPUT_BYTES + 1);
    assert_eq!(one_error(&big).code, Code::TooLarge);
    // long flat chains are fine
    let chain = format!("segment a = x{}", " and x".repeat(2000));
    let f = ok(&chain);
    let ItemKind::Segment {
        body: SegmentBody::Expr(e),
        ..
    } = &f.items[0].kind
    else {
        panic!()
    };
    assert!(matches!(&e.kind, ExprKind::And(v) if v.len() == 2001));
}

#[test]
fn empty_and_comment_only_files() {
    assert!(ok("").items.is_empty());
    let f = ok("# only a comment\n\n   \n");
    assert_eq!((f.items.len(), f.comments.len()), (0, 1));
}

// ------------------------------------------------------------------ snapshots

#[test]
fn snapshot_sales_ready_score() {
    let src = "score sales_ready in 0..100 {\n  decay half_life 90d\n  +15 per asset_downloaded where asset_type = whitepaper, at most 45\n  +20 * percent per video_watched\n  -10 if no page_viewed within 30d\n}";
    let f = ok(src);
    insta::assert_debug_snapshot!(f.items[0]);
}

#[test]
fn snapshot_segment_tree() {
    let src = "segment hot =\n  (service_click within 30d or service_visit at least 3 times within 30d)\n  and not hard_bounce and lead_stage in (lead, mql) and sales_ready(30d ago) < 50";
    insta::assert_snapshot!(show(src, &seg(src)));
}
