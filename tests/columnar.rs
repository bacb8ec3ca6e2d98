//! The columnar engine against the straightforward one (`engine::run`): random
//! programs full of aggregates (every kind, filters over several fields, windows,
//! decay, periods, as-of moments) over random data (events out of order, equal times,
//! events after `now`, mixed case text), and the conformance corpus and the example —
//! the results must be identical, bit for bit.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use funnel::check::program::Value;
use funnel::engine::columnar;
use funnel::engine::data::{ContactRow, Dataset, EventRow, LoadOptions};
use proptest::prelude::*;
use std::path::Path;

const SCHEMA: &str = r#"
contact {
  age: int?
  title: text?
}
event visit { url: text, secs: int?, kind: one of (web, app)? }
event click { link: text, at_time: timestamp? }
event buy { amount: number, product: one of (crm, email)?, qty: int? }
"#;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 30, 12, 0, 0).unwrap()
}

fn plan_of(src: &str) -> funnel::plan::Plan {
    funnel::plan::lower(&common::check_with_schema(SCHEMA, src).unwrap())
}

/// Both engines' results, as exact text (`{:?}` tells -0.0 from 0.0 and shows every
/// digit).
fn both(plan: &funnel::plan::Plan, data: &Dataset, now: DateTime<Utc>) -> (String, String) {
    let reference = funnel::engine::reference::run(plan, data, now).unwrap();
    let columnar = columnar::run(plan, data, now).unwrap();
    (format!("{reference:?}"), format!("{columnar:?}"))
}

fn window() -> BoxedStrategy<String> {
    prop_oneof![
        Just(String::new()),
        Just(" within 7d".to_string()),
        Just(" within 30d".to_string()),
        Just(" between 60d ago and 7d ago".to_string()),
        Just(" since 2026-06-01".to_string()),
        Just(" before 2026-06-15".to_string()),
    ]
    .boxed()
}

fn stream() -> BoxedStrategy<String> {
    prop_oneof![
        Just("visit".to_string()),
        Just("visit where url starts with \"/P\"".to_string()),
        Just("visit where secs > 10 and kind = web".to_string()),
        Just("visit where kind is missing or url matches /^\\/b/".to_string()),
        Just("click where link contains \"pri\"".to_string()),
        Just("buy where product = crm and qty >= 2".to_string()),
        Just("buy where amount > 20 or product is missing".to_string()),
    ]
    .boxed()
}

/// A value definition that reads one aggregate.
fn aggregate() -> BoxedStrategy<String> {
    let field = prop_oneof![
        Just(("visit", "url")),
        Just(("visit", "secs")),
        Just(("visit", "kind")),
        Just(("buy", "amount")),
        Just(("buy", "product")),
        Just(("buy", "qty")),
        Just(("click", "at_time")),
    ];
    let func = prop_oneof![
        Just("count_distinct"),
        Just("first"),
        Just("last"),
        Just("most_frequent"),
    ];
    let numeric = prop_oneof![
        Just(("visit", "secs")),
        Just(("buy", "amount")),
        Just(("buy", "qty"))
    ];
    let ordered = prop_oneof![
        Just(("visit", "secs")),
        Just(("buy", "amount")),
        Just(("click", "at_time"))
    ];
    prop_oneof![
        (stream(), window()).prop_map(|(s, w)| format!("count({s}{w})")),
        (prop_oneof![Just("min"), Just("max")], ordered, window())
            .prop_map(|(f, (e, x), w)| format!("{f}({e}.{x}{w})")),
        (stream(), window()).prop_map(|(s, w)| format!("first_time({s}{w})")),
        (stream(), window()).prop_map(|(s, w)| format!("last_time({s}{w})")),
        (func, field, window()).prop_map(|(f, (e, x), w)| format!("{f}({e}.{x}{w})")),
        (prop_oneof![Just("sum"), Just("avg")], numeric, window())
            .prop_map(|(f, (e, x), w)| format!("{f}({e}.{x}{w})")),
    ]
    .boxed()
}

fn segment() -> BoxedStrategy<String> {
    prop_oneof![
        (stream(), 1u32..3, 3u32..6)
            .prop_map(|(s, k, m)| format!("{s} in at least {k} of the last {m} weeks")),
        (stream(), 0u32..4).prop_map(|(s, n)| format!("{s} at least {n} times")),
        Just("active_score > active_score(30d ago)".to_string()),
        Just("active_score(2026-06-01) >= 5".to_string()),
    ]
    .boxed()
}

fn program() -> impl Strategy<Value = String> {
    let decay = prop_oneof![
        Just(""),
        Just("decay half_life 10d"),
        Just("decay 25% every 7d")
    ];
    let rule = prop_oneof![
        (1u32..20, stream(), window()).prop_map(|(p, s, w)| format!("+{p} per {s}{w}")),
        (1u32..5).prop_map(|p| format!("+{p} * amount per buy, at most 40")),
        (1u32..9).prop_map(|p| format!("-{p} per click within 30d, at most 10")),
    ];
    (
        proptest::collection::vec(aggregate(), 1..6),
        proptest::collection::vec(segment(), 1..4),
        decay,
        proptest::collection::vec(rule, 1..4),
    )
        .prop_map(|(values, segments, decay, rules)| {
            let mut src = String::from("use \"schema.funnel\"\n");
            src.push_str(&format!(
                "score active_score {{\n  {decay}\n  {}\n}}\n",
                rules.join("\n  ")
            ));
            for (i, v) in values.iter().enumerate() {
                src.push_str(&format!("value v{i} = {v}\n"));
            }
            for (i, s) in segments.iter().enumerate() {
                src.push_str(&format!("segment s{i} = {s}\n"));
            }
            src
        })
}

fn data() -> impl Strategy<Value = Dataset> {
    let moment = prop_oneof![
        (-3i64..90).prop_map(|d| d * 86_400),
        Just(7 * 86_400),
        Just(30 * 86_400),
        (0i64..2_000_000),
    ];
    let event = (0usize..8, 0u32..3, moment, 0usize..6, 0i64..60, 0usize..3);
    (
        proptest::collection::vec(proptest::option::of(18i64..70), 1..8),
        proptest::collection::vec(event, 0..60),
    )
        .prop_map(|(contacts, events)| {
            let n = contacts.len();
            let urls = ["/pricing", "/Pricing", "/blog/a", "/b", "/PRODUCT", "/p/x"];
            Dataset {
                contacts: contacts
                    .into_iter()
                    .enumerate()
                    .map(|(i, age)| ContactRow {
                        id: format!("c{i}"),
                        attrs: vec![age.map(Value::Int), None],
                    })
                    .collect(),
                accounts: Vec::new(),
                events: events
                    .into_iter()
                    .map(|(c, ty, back, k, x, e)| {
                        let at = now() - TimeDelta::seconds(back);
                        let opt = |v: Value| (k % 3 != 0).then_some(v);
                        EventRow {
                            contact: (c % n) as u32,
                            event: ty,
                            at,
                            fields: match ty {
                                0 => vec![
                                    Some(Value::Text(urls[k].into())),
                                    opt(Value::Int(x)),
                                    opt(Value::Text(["web", "app"][e % 2].into())),
                                ],
                                1 => vec![
                                    Some(Value::Text(["pricing", "PRI", "x"][e].into())),
                                    opt(Value::Timestamp(at - TimeDelta::hours(x))),
                                ],
                                _ => vec![
                                    Some(Value::Number(x as f64 / 4.0 - 3.0)),
                                    opt(Value::Text(["crm", "email", "crm"][e].into())),
                                    opt(Value::Int(x % 4)),
                                ],
                            },
                        }
                    })
                    .collect(),
                changes: Vec::new(),
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn columnar_agrees_with_engine(src in program(), data in data()) {
        let plan = plan_of(&src);
        let (reference, columnar) = both(&plan, &data, now());
        prop_assert_eq!(reference, columnar, "in\n{}", src);
    }
}

/// Every conformance case runs the same on both engines.
#[test]
fn conformance_corpus_runs_the_same() {
    let files = common::cases::case_files();
    assert!(files.len() > 50, "found only {} cases", files.len());
    for path in files {
        let case = common::cases::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let (reference, columnar) = both(&case.plan, &case.data, case.now);
        assert_eq!(reference, columnar, "{}", path.display());
    }
}

/// The example, loaded both ways (rows, and events straight into columns), gives the
/// same results on both engines.
#[test]
fn example_runs_the_same() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/b2b");
    let loaded = funnel::syntax::load_paths(&root.join("rules.funnel"), &root).unwrap();
    let plan = funnel::plan::lower(&funnel::check::check(&loaded).program.unwrap());
    let files = funnel::engine::data::DataFiles::from_dir(&root.join("data")).unwrap();
    let opts = LoadOptions::default();
    let rows = funnel::engine::data::load(&plan.schema, &files, &opts).unwrap();
    let now = Utc.with_ymd_and_hms(2026, 11, 20, 0, 0, 0).unwrap();
    let reference = funnel::engine::reference::run(&plan, &rows.dataset, now).unwrap();
    let (rest, cols) = columnar::load(&plan, &files, &opts).unwrap();
    assert_eq!(cols.len(), rows.dataset.events.len());
    let fast = columnar::evaluate(
        &plan,
        &rest.dataset,
        cols,
        now,
        columnar::Keep::Nodes,
        false,
    )
    .unwrap()
    .results();
    assert_eq!(format!("{reference:?}"), format!("{fast:?}"));
}

/// Loading events into columns checks what the row loader checks, with the same
/// messages: unknown contacts (short and long ids), bad values of fields the rules read.
#[test]
fn columnar_loading_reports_bad_rows_like_the_row_loader() {
    let dir = std::env::temp_dir().join(format!("funnel-columnar-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let plan = plan_of(
        "use \"schema.funnel\"\nvalue n = count(visit where secs > 3)\nvalue m = count(click)\n",
    );
    let contacts = "id,age,title\nc1,30,CEO\na-contact-id-longer-than-15-bytes,,\n";
    let cases = [
        (
            "c1,visit,2026-06-01T00:00:00Z,/a,5,web,,\n\
             a-contact-id-longer-than-15-bytes,click,2026-06-02T00:00:00Z,,,,x,\n",
            None,
        ),
        (
            "c2,visit,2026-06-01T00:00:00Z,/a,5,web,,\n",
            Some("contact_id"),
        ),
        (
            "a-contact-id-longer-than-15-bytes-not,click,2026-06-02T00:00:00Z,,,,x,\n",
            Some("contact_id"),
        ),
        (
            "c1,visit,2026-06-01T00:00:00Z,/a,five,web,,\n",
            Some("secs"),
        ),
        ("c1,visit,yesterday,/a,5,web,,\n", Some("at")),
        ("c1,walk,2026-06-01T00:00:00Z,/a,5,web,,\n", Some("event")),
    ];
    for (events, bad) in cases {
        std::fs::write(dir.join("contacts.csv"), contacts).unwrap();
        std::fs::write(
            dir.join("events.csv"),
            format!("contact_id,event,at,url,secs,kind,link,at_time\n{events}"),
        )
        .unwrap();
        let files = funnel::engine::data::DataFiles::from_dir(&dir).unwrap();
        let opts = LoadOptions::default();
        let rows = funnel::engine::data::load(&plan.schema, &files, &opts);
        let cols = columnar::load(&plan, &files, &opts);
        match (rows, cols) {
            (Ok(rows), Ok((rest, cols))) => {
                assert!(bad.is_none(), "{events}");
                let reference =
                    funnel::engine::reference::run(&plan, &rows.dataset, now()).unwrap();
                let fast = columnar::evaluate(
                    &plan,
                    &rest.dataset,
                    cols.clone(),
                    now(),
                    columnar::Keep::Nodes,
                    false,
                )
                .unwrap()
                .results();
                assert_eq!(format!("{reference:?}"), format!("{fast:?}"));
            }
            (Err(a), Err(b)) => {
                assert_eq!(a.to_string(), b.to_string());
                let column = bad.unwrap();
                assert!(a.to_string().contains(&format!(": {column}: ")), "{a}");
            }
            (a, b) => panic!(
                "{events}: row loader {:?}, columns {:?}",
                a.is_ok(),
                b.is_ok()
            ),
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// Contact attributes the rules do not read are not looked at by the columnar loader
/// (they are missing in its table); those they read are checked like the row loader
/// checks them.
#[test]
fn columnar_loading_reads_only_the_contact_attributes_the_rules_read() {
    let dir = std::env::temp_dir().join(format!("funnel-attrs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let plan = plan_of("use \"schema.funnel\"\nsegment old = age > 40\n");
    assert_eq!(columnar::used_attrs(&plan), [true, false]);
    std::fs::write(dir.join("events.csv"), "contact_id,event,at\n").unwrap();
    let opts = LoadOptions::default();
    std::fs::write(dir.join("contacts.csv"), "id,age,title\nc1,50,CEO\nc2,,\n").unwrap();
    let files = funnel::engine::data::DataFiles::from_dir(&dir).unwrap();
    let (rest, _) = columnar::load(&plan, &files, &opts).unwrap();
    let contacts = &rest.dataset.contacts;
    assert_eq!(contacts.get(0, 0), Some(&Value::Int(50)));
    assert_eq!(contacts.get(0, 1), None);
    assert_eq!(contacts.ids().collect::<Vec<_>>(), ["c1", "c2"]);
    // A bad age is reported by both loaders, with the same message.
    std::fs::write(dir.join("contacts.csv"), "id,age,title\nc1,fifty,CEO\n").unwrap();
    let rows = funnel::engine::data::load(&plan.schema, &files, &opts).unwrap_err();
    let cols = columnar::load(&plan, &files, &opts).unwrap_err();
    assert_eq!(rows.to_string(), cols.to_string());
    assert!(rows.to_string().contains(":2: age: "), "{rows}");
    let _ = std::fs::remove_dir_all(dir);
}

/// An events CSV of `n` rows for the test schema, cut into batches by the loader: the
/// `bad` rows (by index) are broken in one of several ways, `blank` lines are empty,
/// and with `quoted` one cell is quoted (so the hand-split path gives up on its chunk).
fn events_csv(n: usize, bad: &[(usize, u8)], blank: &[usize], quoted: bool, crlf: bool) -> String {
    let mut out = String::from("contact_id,event,at,url,secs,kind,link,at_time\n");
    let end = if crlf { "\r\n" } else { "\n" };
    for i in 0..n {
        if blank.contains(&i) {
            out.push_str(end);
        }
        let contact = if i % 7 == 0 {
            "a-contact-id-longer-than-15-bytes"
        } else {
            "c1"
        };
        let day = 1 + i % 28;
        let mut row = match i % 3 {
            0 => format!(
                "{contact},visit,2026-06-{day:02}T00:00:{:02}Z,/p{},{},web,,",
                i % 60,
                i % 5,
                i % 9
            ),
            1 => format!(
                "{contact},click,2026-06-{day:02}T01:00:00Z,,,,l{},2026-05-01T00:00:00Z",
                i % 4
            ),
            _ => format!("{contact},visit,2026-06-{day:02}T02:00:00+02:00,/q,,,,"),
        };
        if let Some((_, how)) = bad.iter().find(|(b, _)| *b == i) {
            row = match how % 5 {
                0 => row.replacen(contact, "nobody", 1),
                1 => format!("{contact},visit,2026-06-01T00:00:00Z,/a,five,web,,"),
                2 => format!("{contact},visit,,/a,1,web,,"),
                3 => format!("{contact},visit,2026-06-01T00:00:00Z,/a,1,web,,,extra"),
                // `secs` (read by the rules) does not belong to `click`.
                _ => format!("{contact},click,2026-06-01T00:00:00Z,,7,,l,"),
            };
        }
        if quoted && i == n / 2 {
            row = row.replacen("c1", "\"c1\"", 1);
        }
        out.push_str(&row);
        out.push_str(end);
    }
    out
}

const CONTACTS: &str = "id,age,title\nc1,30,CEO\na-contact-id-longer-than-15-bytes,,\n";

/// [`CONTACTS`] and `events` (the events file, named `events_file`) load the same with
/// the row loader and in batches into columns: the same results, the same first error,
/// the same skipped rows and lines.
fn loaders_agree(events_file: &str, events: &[u8], skip: bool) -> Result<(), TestCaseError> {
    let dir = std::env::temp_dir().join(format!(
        "funnel-batched-{events_file}-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("contacts.csv"), CONTACTS).unwrap();
    std::fs::write(dir.join(events_file), events).unwrap();
    let agree = loaded_alike(&dir, skip);
    let _ = std::fs::remove_dir_all(dir);
    agree
}

/// The data in `dir` loads the same with both loaders (see [`loaders_agree`]).
fn loaded_alike(dir: &Path, skip: bool) -> Result<(), TestCaseError> {
    let plan = plan_of(
        "use \"schema.funnel\"\nvalue n = count(visit where secs > 3)\nvalue m = count(click where link = \"l1\")\nvalue t = last(click.at_time)\n",
    );
    let files = funnel::engine::data::DataFiles::from_dir(dir).unwrap();
    let opts = LoadOptions {
        skip_bad_rows: skip,
    };
    let rows = funnel::engine::data::load(&plan.schema, &files, &opts);
    let cols = columnar::load(&plan, &files, &opts);
    match (rows, cols) {
        (Ok(rows), Ok((rest, cols))) => {
            let reference = funnel::engine::reference::run(&plan, &rows.dataset, now()).unwrap();
            let fast = columnar::evaluate(
                &plan,
                &rest.dataset,
                cols,
                now(),
                columnar::Keep::Nodes,
                false,
            )
            .unwrap()
            .results();
            prop_assert_eq!(format!("{reference:?}"), format!("{fast:?}"));
            prop_assert_eq!(
                format!("{:?}", rows.rejected),
                format!("{:?}", rest.rejected)
            );
        }
        (Err(a), Err(b)) => prop_assert_eq!(a.to_string(), b.to_string()),
        (a, b) => prop_assert!(false, "row loader {:?}, columns {:?}", a.is_ok(), b.is_ok()),
    }
    Ok(())
}

/// The events of [`events_csv`] as a Parquet file of text columns in row groups of
/// `group` rows (dictionary-encoded, as the writer does by default); empty cells null.
#[cfg(feature = "parquet")]
fn events_parquet(csv: &str, group: usize) -> Vec<u8> {
    use arrow_array::{ArrayRef, RecordBatch, StringArray};
    use std::sync::Arc;
    let mut lines = csv.lines().filter(|l| !l.is_empty());
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let columns: Vec<(&str, ArrayRef)> = header
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let cells = rows
                .iter()
                .map(|r| r.get(i).copied().filter(|c| !c.is_empty()));
            (*name, Arc::new(StringArray::from_iter(cells)) as ArrayRef)
        })
        .collect();
    let batch = RecordBatch::try_from_iter(columns).unwrap();
    let props = parquet::file::properties::WriterProperties::builder()
        .set_max_row_group_row_count(Some(group))
        .build();
    let mut out = Vec::new();
    let mut writer =
        parquet::arrow::ArrowWriter::try_new(&mut out, batch.schema(), Some(props)).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]
    /// Events read in batches (hand-split CSV) load exactly as the row loader reads them:
    /// the same results, the same first error, the same skipped rows and lines — with
    /// bad rows anywhere, blank lines, quoted cells and CRLF line ends.
    #[test]
    fn batched_csv_loading_agrees_with_the_row_loader(
        n in 0usize..20_000,
        bad in proptest::collection::vec((0usize..20_000, 0u8..5), 0..3),
        blank in proptest::collection::vec(0usize..20_000, 0..3),
        quoted in any::<bool>(),
        crlf in any::<bool>(),
        skip in any::<bool>(),
    ) {
        let events = events_csv(n, &bad, &blank, quoted, crlf);
        loaders_agree("events.csv", events.as_bytes(), skip)?;
    }
}

#[cfg(feature = "parquet")]
proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]
    /// Events read from Parquet in batches (dictionary-encoded text) load exactly as the
    /// row loader reads them, with bad rows anywhere and several row groups.
    #[test]
    fn batched_parquet_loading_agrees_with_the_row_loader(
        n in 0usize..20_000,
        bad in proptest::collection::vec((0usize..20_000, 0u8..5), 0..3),
        group in 500usize..70_000,
        skip in any::<bool>(),
    ) {
        let csv = events_csv(n, &bad, &[], false, false);
        loaders_agree("events.parquet", &events_parquet(&csv, group), skip)?;
    }
}

/// Value fields share a laid-out slot only when no event type holds both and no
/// aggregate reading one accepts events that hold the other.
#[test]
fn value_fields_share_a_slot_only_when_no_event_mixes_them() {
    let plan = plan_of(
        "use \"schema.funnel\"\nvalue a = sum(visit.secs)\nvalue b = max(buy.amount)\n\
         value c = max(buy.qty)\nvalue d = max(click.at_time)\n",
    );
    let cols = columnar::EventColumns::new(&plan.schema, &columnar::used_fields(&plan));
    let filters = columnar::filters::compile(&plan, &cols, now())
        .ok()
        .unwrap();
    let preds = columnar::pass::Predicates::new(&plan, filters);
    let fields = columnar::pass::value_fields(&plan, &cols);
    let names: Vec<&str> = fields
        .iter()
        .map(|&f| cols.fields[f].name.as_str())
        .collect();
    assert_eq!(names, ["secs", "amount", "qty", "at_time"]);
    let slots = columnar::pass::value_slots(&plan, &cols, &preds, &fields);
    assert_eq!(slots, [0, 0, 1, 0]);
}

/// A filter over fields with so many distinct values that the table of every
/// combination would be too large is tabled over the combinations that occur: the same
/// results as the reference evaluator, no fall-back.
#[test]
fn filters_too_large_to_table_in_full_are_evaluated_per_occurring_combination() {
    let plan = plan_of(
        "use \"schema.funnel\"\nsegment s = visit where url starts with \"/p1\" and secs > 100 at least 2 times\n\
         value v = sum(visit.secs where url contains \"9\" and secs < 1500)\n\
         score sc in 0..1000 {\n  +1 per visit where url contains \"7\" and secs >= 3\n}\n",
    );
    let n = 2100;
    let contacts: Vec<ContactRow> = (0..50)
        .map(|i| ContactRow {
            id: format!("c{i}"),
            attrs: vec![None, None],
        })
        .collect();
    let events: Vec<EventRow> = (0..n)
        .map(|i| EventRow {
            contact: (i % 50) as u32,
            event: 0,
            at: now() - TimeDelta::hours(i as i64),
            fields: vec![
                Some(Value::Text(format!("/p{i}").into())),
                Some(Value::Int(i as i64)),
                None,
            ],
        })
        .collect();
    let data = Dataset {
        contacts: contacts.into(),
        accounts: Vec::new(),
        events,
        changes: Vec::new(),
    };
    let cols =
        columnar::EventColumns::from_dataset(&plan.schema, &data, &columnar::used_fields(&plan));
    let filters = columnar::filters::compile(&plan, &cols, now()).unwrap();
    assert!(
        filters.iter().flatten().any(|f| !f.is_dense()),
        "the test must reach the per-combination path"
    );
    let (reference, columnar) = both(&plan, &data, now());
    assert_eq!(reference, columnar);
    assert!(reference.contains("true"), "some contact is in `s`");
}

/// The changes file is read only when the rules read an attribute with history: a broken
/// one stops a plan that reads `lead_stage` (with history), not one that reads neither.
#[test]
fn the_change_log_is_read_only_for_rules_reading_an_attribute_with_history() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/b2b");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("columnar_changes");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("data")).unwrap();
    for f in ["contacts.csv", "events.csv", "accounts.csv"] {
        std::fs::copy(example.join("data").join(f), dir.join("data").join(f)).unwrap();
    }
    std::fs::write(
        dir.join("data/changes.csv"),
        "contact_id,attribute,value,at\nc001,lead_stage,mql,not a time\n",
    )
    .unwrap();
    std::fs::copy(example.join("schema.funnel"), dir.join("schema.funnel")).unwrap();
    let plan = |rules: &str| {
        std::fs::write(dir.join("rules.funnel"), rules).unwrap();
        let loaded = funnel::syntax::load_paths(&dir.join("rules.funnel"), &dir).unwrap();
        funnel::plan::lower(&funnel::check::check(&loaded).program.unwrap())
    };
    let files = funnel::engine::data::DataFiles::from_dir(&dir.join("data")).unwrap();
    let opts = LoadOptions::default();
    let without = plan("use \"schema.funnel\"\nsegment s = page_viewed within 30d\n");
    assert!(columnar::load(&without, &files, &opts).is_ok());
    let with = plan("use \"schema.funnel\"\nsegment s = lead_stage = mql\n");
    let err = columnar::load(&with, &files, &opts)
        .unwrap_err()
        .to_string();
    assert!(err.contains("changes.csv"), "{err}");
}
