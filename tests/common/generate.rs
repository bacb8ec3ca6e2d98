//! Random rule programs and data sets over one small schema, for the differential
//! tests: the engine against the reference evaluator (`tests/differential.rs`) and the
//! compiled SQL against the engine (`tests/sql_generated.rs`).

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use funnel::check::program::Value;
use funnel::engine::data::{AccountRow, ChangeRow, ContactRow, Dataset, EventRow};
use proptest::prelude::*;

/// The schema every generated program uses (as `schema.funnel`).
pub const SCHEMA: &str = r#"
contact {
  plan: one of (free, pro, team)
  age: int?
  title: text?
  active: bool
  signup: date?
  stage: one of (lead, mql, sql) with history
  account: account?
}
account { tier: one of (smb, ent), seats: int? }
event visit { url: text, secs: int? }
event click { link: text }
event buy { amount: number }
"#;

/// The moment generated programs run at.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 30, 12, 0, 0).unwrap()
}

/// A random condition over the schema, referring only to `segs` (earlier segments) and
/// `scores` (earlier scores).
fn cond(depth: u32, segs: Vec<String>, scores: Vec<String>) -> BoxedStrategy<String> {
    let days = prop_oneof![Just(1u32), Just(7), Just(30), Just(60), Just(90), Just(180)];
    let mut atoms: Vec<BoxedStrategy<String>> = vec![
        days.clone()
            .prop_map(|d| format!("visit within {d}d"))
            .boxed(),
        (
            days.clone(),
            prop_oneof![Just("pri"), Just("blog"), Just("X")],
        )
            .prop_map(|(d, s)| format!("click where link contains \"{s}\" within {d}d"))
            .boxed(),
        days.clone()
            .prop_map(|d| format!("no visit within {d}d"))
            .boxed(),
        (0u32..4)
            .prop_map(|n| format!("buy at least {n} times"))
            .boxed(),
        (0u32..3, days.clone())
            .prop_map(|(n, d)| format!("visit at most {n} times within {d}d"))
            .boxed(),
        (0u32..30, 0u32..4)
            .prop_map(|(k, n)| format!("count(visit where secs > {k}) >= {n}"))
            .boxed(),
        (days.clone(), 0u32..300)
            .prop_map(|(d, x)| format!("sum(buy.amount within {d}d) > {x}"))
            .boxed(),
        (18u32..70).prop_map(|a| format!("age > {a}")).boxed(),
        Just("age is missing".to_string()).boxed(),
        Just("not (age >= 40)".to_string()).boxed(),
        Just("title contains \"ce\"".to_string()).boxed(),
        Just("title matches /^(ceo|cto)$/i".to_string()).boxed(),
        Just("plan in (free, pro)".to_string()).boxed(),
        Just("plan != team".to_string()).boxed(),
        Just("active".to_string()).boxed(),
        days.clone()
            .prop_map(|d| format!("signup within {d}d"))
            .boxed(),
        days.clone()
            .prop_map(|d| format!("stage was mql within {d}d"))
            .boxed(),
        days.clone()
            .prop_map(|d| format!("stage changed to sql within {d}d"))
            .boxed(),
        Just("stage changed from mql to sql".to_string()).boxed(),
        Just("stage(30d ago) = mql".to_string()).boxed(),
        (1u32..4, 2u32..6)
            .prop_map(|(k, m)| format!("visit in at least {} of the last {m} weeks", k.min(m)))
            .boxed(),
        days.clone()
            .prop_map(|d| format!("time_since(last_time(visit)) > {d}d"))
            .boxed(),
        (0u32..60)
            .prop_map(|n| format!("max(visit.secs) >= {n}"))
            .boxed(),
        Just("avg(visit.secs within 90d) < 20".to_string()).boxed(),
        Just("most_frequent(click.link) = \"pricing\"".to_string()).boxed(),
        Just("count_distinct(visit.url) >= 2".to_string()).boxed(),
        Just("visit between 60d ago and 30d ago".to_string()).boxed(),
        Just("click between 7d ago and now".to_string()).boxed(),
        Just("click between 2026-05-01 and 2026-05-31".to_string()).boxed(),
        Just("buy since 2026-06-01".to_string()).boxed(),
        Just("visit before 90d ago".to_string()).boxed(),
        Just("visit within 1mo".to_string()).boxed(),
        Just("account.tier = ent".to_string()).boxed(),
        Just("account.seats > 10".to_string()).boxed(),
    ];
    for s in &segs {
        atoms.push(Just(s.clone()).boxed());
        atoms.push(Just(format!("{s}(30d ago)")).boxed());
    }
    for s in &scores {
        atoms.push(
            (0u32..60)
                .prop_map({
                    let s = s.clone();
                    move |n| format!("{s} > {n}")
                })
                .boxed(),
        );
        atoms.push(Just(format!("{s} - {s}(30d ago) >= 5")).boxed());
        atoms.push(Just(format!("{s} < {s}(60d ago)")).boxed());
    }
    let atom = proptest::strategy::Union::new(atoms).boxed();
    if depth == 0 {
        return atom;
    }
    let sub = cond(depth - 1, segs, scores);
    prop_oneof![
        3 => atom,
        1 => (sub.clone(), sub.clone()).prop_map(|(a, b)| format!("({a} and {b})")),
        1 => (sub.clone(), sub.clone()).prop_map(|(a, b)| format!("({a} or {b})")),
        1 => sub.prop_map(|a| format!("not ({a})")),
    ]
    .boxed()
}

fn score_block(name: &str, cond: BoxedStrategy<String>) -> BoxedStrategy<String> {
    let name = name.to_string();
    let decay = prop_oneof![
        Just(String::new()),
        Just("decay half_life 30d".to_string()),
        Just("decay 25% every 14d".to_string()),
    ];
    let rule = prop_oneof![
        (1u32..20, prop_oneof![Just(""), Just(", at most 25")])
            .prop_map(|(p, cap)| format!("+{p} per visit where url starts with \"/p\"{cap}")),
        (1u32..5).prop_map(|p| format!("+{p} * amount per buy within 90d")),
        (1u32..10).prop_map(|p| format!("-{p} per click, at most 12")),
        (1u32..30, cond.clone()).prop_map(|(p, c)| format!("+{p} if {c}")),
        (1u32..30).prop_map(|p| format!("-{p} if no visit within 30d")),
    ];
    (
        decay,
        proptest::collection::vec(rule, 1..5),
        prop_oneof![Just(""), Just(" in 0..100")],
    )
        .prop_map(move |(d, rules, range)| {
            format!(
                "score {name}{range} {{\n  {d}\n  {}\n}}\n",
                rules.join("\n  ")
            )
        })
        .boxed()
}

/// A random rule file importing `schema.funnel`.
pub fn program() -> impl Strategy<Value = String> {
    let s0 = cond(2, vec![], vec![]);
    (
        s0,
        score_block("score0", cond(1, vec!["seg0".into()], vec![])),
    )
        .prop_flat_map(|(seg0, score0)| {
            let segs = vec!["seg0".to_string()];
            let scores = vec!["score0".to_string()];
            (
                Just(seg0),
                Just(score0),
                cond(2, segs.clone(), scores.clone()),
                cond(1, segs.clone(), scores.clone()),
                cond(1, segs, scores),
                1u64..6,
            )
        })
        .prop_map(|(seg0, score0, seg1, p1, p2, n)| {
            format!(
                "use \"schema.funnel\"\nsegment seg0 = {seg0}\n{score0}segment seg1 = {seg1}\n\
                 tiers band of score0 {{ low 0..30, mid 31..70, high 71..100 }}\n\
                 personas role {{\n  first = {p1}\n  second = {p2}\n}}\n\
                 segment leaders = top {n} by score0\n\
                 account score committee = sum(score0)\n\
                 account segment keen = count(contacts where seg1) >= 1 or avg(score0) > 20\n\
                 segment in_keen = account.keen\n\
                 value last_seen = last_time(visit)\n"
            )
        })
}

/// A random data set of the schema.
pub fn data() -> impl Strategy<Value = Dataset> {
    let contact = (
        0usize..3,
        proptest::option::of(18i64..70),
        proptest::option::of(prop_oneof![
            Just("CEO"),
            Just("cto"),
            Just("Direktør"),
            Just("engineer")
        ]),
        any::<bool>(),
        proptest::option::of(0i64..400),
        0usize..3,
        proptest::option::of(0usize..4),
    );
    // Days back: often exactly a window length, so boundaries are exercised; seconds
    // off the day: often none, else just before or after.
    let days_back = prop_oneof![
        -5i64..400,
        Just(1),
        Just(7),
        Just(14),
        Just(30),
        Just(60),
        Just(90)
    ];
    let offset = prop_oneof![Just(0i64), Just(0), Just(1), Just(-1), Just(3600)];
    let event = (
        0usize..40,
        0u32..3,
        (days_back, offset),
        0usize..4,
        proptest::option::of(0i64..60),
        0u32..500,
    );
    let change = (0usize..40, 0usize..3, 0i64..200);
    (
        proptest::collection::vec(contact, 1..12),
        proptest::collection::vec(event, 0..80),
        proptest::collection::vec(change, 0..12),
        proptest::collection::vec((0usize..2, proptest::option::of(1i64..50)), 0..4),
    )
        .prop_map(|(contacts, events, changes, accounts)| {
            let n = contacts.len();
            let plans = ["free", "pro", "team"];
            let stages = ["lead", "mql", "sql"];
            let urls = ["/pricing", "/blog/a", "/product", "/p/x"];
            let day = |d: i64| now() - TimeDelta::days(d) + TimeDelta::hours(d % 7);
            Dataset {
                contacts: contacts
                    .into_iter()
                    .enumerate()
                    .map(
                        |(i, (plan, age, title, active, signup, stage, account))| ContactRow {
                            id: format!("c{i:02}"),
                            attrs: vec![
                                Some(Value::Text(plans[plan].into())),
                                age.map(Value::Int),
                                title.map(|t| Value::Text(t.into())),
                                Some(Value::Bool(active)),
                                signup.map(|d| Value::Date(day(d).date_naive())),
                                Some(Value::Text(stages[stage].into())),
                                account.map(|a| Value::Text(format!("a{a}").into())),
                            ],
                        },
                    )
                    .collect(),
                accounts: accounts
                    .into_iter()
                    .enumerate()
                    .map(|(i, (tier, seats))| AccountRow {
                        id: format!("a{i}"),
                        attrs: vec![
                            Some(Value::Text(["smb", "ent"][tier].into())),
                            seats.map(Value::Int),
                        ],
                    })
                    .collect(),
                events: events
                    .into_iter()
                    .map(|(c, ty, (d, off), url, secs, amount)| EventRow {
                        contact: (c % n) as u32,
                        event: ty,
                        at: now() - TimeDelta::days(d) + TimeDelta::seconds(off),
                        fields: match ty {
                            0 => vec![Some(Value::Text(urls[url].into())), secs.map(Value::Int)],
                            1 => vec![Some(Value::Text(["pricing", "blog", "x"][url % 3].into()))],
                            _ => vec![Some(Value::Number(amount as f64 / 4.0))],
                        },
                    })
                    .collect(),
                changes: changes
                    .into_iter()
                    .map(|(c, s, d)| ChangeRow {
                        contact: (c % n) as u32,
                        attr: 5,
                        value: Some(Value::Text(stages[s].into())),
                        at: day(d),
                    })
                    .collect(),
            }
        })
}
