//! `funnel gen`: the same seed gives the same files; events come in time order; the
//! activity is skewed; CSV, NDJSON and Parquet hold the same data (they give the same
//! results); a bad Parquet value is reported with its row group and row.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg(feature = "parquet")]

use chrono::{TimeZone, Utc};
use funnel::engine::columnar;
use funnel::engine::data::{DataFiles, LoadOptions};
use funnel::r#gen::{Options, generate, table::OutFormat};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

fn plan() -> funnel::plan::Plan {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/b2b");
    let loaded = funnel::syntax::load_paths(&root.join("rules.funnel"), &root).unwrap();
    funnel::plan::lower(&funnel::check::check(&loaded).program.unwrap())
}

fn opts(seed: u64) -> Options {
    Options {
        contacts: 300,
        events_per_contact: 20.0,
        seed,
        end: Utc
            .with_ymd_and_hms(2026, 11, 20, 0, 0, 0)
            .unwrap()
            .timestamp(),
    }
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("funnel-gen-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn formats() -> Vec<OutFormat> {
    vec![OutFormat::Csv, OutFormat::Ndjson, OutFormat::Parquet]
}

#[test]
fn same_seed_same_files_and_time_ordered_skewed_events() {
    let plan = plan();
    let (a, b, c) = (temp("a"), temp("b"), temp("c"));
    generate(&plan.schema, &opts(7), &a, &[OutFormat::Csv]).unwrap();
    generate(&plan.schema, &opts(7), &b, &[OutFormat::Csv]).unwrap();
    generate(&plan.schema, &opts(8), &c, &[OutFormat::Csv]).unwrap();
    for table in ["contacts", "events", "accounts", "changes"] {
        let file = format!("{table}.csv");
        let (x, y) = (
            std::fs::read(a.join(&file)).unwrap(),
            std::fs::read(b.join(&file)).unwrap(),
        );
        assert_eq!(x, y, "{file} differs between runs with the same seed");
    }
    assert_ne!(
        std::fs::read(a.join("events.csv")).unwrap(),
        std::fs::read(c.join("events.csv")).unwrap()
    );
    let files = DataFiles::from_dir(&a).unwrap();
    let loaded = funnel::engine::data::load(&plan.schema, &files, &LoadOptions::default()).unwrap();
    let events = &loaded.dataset.events;
    assert!(events.len() > 4000, "{} events", events.len());
    assert!(
        events.windows(2).all(|w| w[0].at <= w[1].at),
        "not in time order"
    );
    // Not grouped by contact: consecutive events mostly belong to different contacts.
    let switches = events
        .windows(2)
        .filter(|w| w[0].contact != w[1].contact)
        .count();
    assert!(switches * 2 > events.len());
    let mut per: HashMap<u32, usize> = HashMap::new();
    for e in events {
        *per.entry(e.contact).or_default() += 1;
    }
    let silent = 300 - per.len();
    let max = per.values().copied().max().unwrap();
    assert!(silent >= 30, "{silent} contacts without events");
    assert!(max >= 200, "the busiest contact has only {max} events");
    let span = events.last().unwrap().at - events.first().unwrap().at;
    assert!(
        span.num_days() > 600,
        "history spans {} days",
        span.num_days()
    );
    for d in [a, b, c] {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[test]
fn every_format_gives_the_same_results() {
    let plan = plan();
    let dir = temp("formats");
    generate(&plan.schema, &opts(3), &dir, &formats()).unwrap();
    let now = Utc.with_ymd_and_hms(2026, 11, 20, 0, 0, 0).unwrap();
    let mut outputs = Vec::new();
    for f in ["csv", "ndjson", "parquet"] {
        let files = DataFiles::from_dir(&dir.join(f)).unwrap();
        let opts = LoadOptions::default();
        let (rest, cols) = columnar::load(&plan, &files, &opts).unwrap();
        let results = columnar::evaluate(
            &plan,
            &rest.dataset,
            cols,
            now,
            columnar::Keep::Nodes,
            false,
        )
        .unwrap()
        .results();
        let rows = funnel::engine::data::load(&plan.schema, &files, &opts).unwrap();
        let reference = funnel::engine::reference::run(&plan, &rows.dataset, now).unwrap();
        assert_eq!(format!("{results:?}"), format!("{reference:?}"), "{f}");
        outputs.push(format!("{results:?}"));
    }
    assert_eq!(outputs[0], outputs[1]);
    assert_eq!(outputs[0], outputs[2]);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_bad_parquet_value_names_its_row_group_and_row() {
    use arrow_array::{ArrayRef, RecordBatch, StringArray};
    use std::sync::Arc;
    let plan = plan();
    let dir = temp("bad");
    generate(&plan.schema, &opts(1), &dir, &[OutFormat::Parquet]).unwrap();
    // Accounts whose `tier` is not a declared value on the third row.
    let ids = StringArray::from(vec!["a1", "a2", "a3"]);
    let names = StringArray::from(vec!["A", "B", "C"]);
    let tiers = StringArray::from(vec![Some("key"), None, Some("gold")]);
    let batch = RecordBatch::try_from_iter([
        ("id", Arc::new(ids) as ArrayRef),
        ("name", Arc::new(names) as ArrayRef),
        ("tier", Arc::new(tiers) as ArrayRef),
    ])
    .unwrap();
    let file = std::fs::File::create(dir.join("accounts.parquet")).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    let files = DataFiles::from_dir(&dir).unwrap();
    let err = columnar::load(&plan, &files, &LoadOptions::default()).unwrap_err();
    let shown = err.to_string();
    assert!(
        shown.ends_with(
            "accounts.parquet[row group 1]:3: tier: `gold` is not a declared value, expected one of `strategic`, `key`, `standard`"
        ),
        "{shown}"
    );
    let _ = std::fs::remove_dir_all(dir);
}
