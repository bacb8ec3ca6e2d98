#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Loading contact data: good CSV and NDJSON data sets, every kind of bad row (stopping
//! the load, or skipped with `skip_bad_rows`), file-level errors, the rejects file and
//! the atomic writer.

use chrono::{NaiveDate, TimeZone, Utc};
use funnel::engine::atomic::write_atomic;
use funnel::engine::data::{
    DataError, DataFiles, Dataset, Format, LoadOptions, Loaded, Rejected, Source, Sources, load,
    load_readers,
};
use funnel::plan::schema::{EventType, Field, Schema, Type};
use funnel::plan::types::Value;
use std::io;
use std::path::{Path, PathBuf};

fn field(name: &str, ty: Type, optional: bool) -> Field {
    Field {
        name: name.into(),
        ty,
        optional,
        history: false,
        range: None,
    }
}

fn one_of(values: &[&str]) -> Type {
    Type::Enum(values.iter().map(|v| (*v).to_owned()).collect())
}

fn schema() -> Schema {
    let mut lead_stage = field("lead_stage", one_of(&["lead", "mql", "sql"]), false);
    lead_stage.history = true;
    let mut age = field("age", Type::Int, true);
    age.range = Some((0.0, 130.0));
    let mut percent = field("percent", Type::Number, false);
    percent.range = Some((0.0, 1.0));
    let event = |name: &str, fields: Vec<Field>| EventType {
        name: name.into(),
        fields,
    };
    Schema {
        contact: vec![
            field("job_title", Type::Text, true),
            field("company_size", Type::Int, true),
            field("region", one_of(&["emea", "amer", "apac"]), false),
            field("existing_client", Type::Bool, false),
            lead_stage,
            field("account", Type::AccountLink, true),
            field("last_purchase", Type::Date, true),
            field("lifetime_value", Type::Number, true),
            age,
            field("signed_up", Type::Timestamp, true),
            field("avg_session", Type::Duration, true),
        ],
        account: vec![
            field("name", Type::Text, false),
            field("industry", Type::Text, true),
        ],
        events: vec![
            event("email_sent", vec![field("campaign", Type::Text, false)]),
            event(
                "email_clicked",
                vec![
                    field("campaign", Type::Text, false),
                    field("link", Type::Text, false),
                ],
            ),
            event(
                "email_bounced",
                vec![field("kind", one_of(&["hard", "soft"]), false)],
            ),
            event(
                "video_watched",
                vec![field("video", Type::Text, false), percent],
            ),
            event(
                "page_viewed",
                vec![
                    field("url", Type::Text, false),
                    field("seconds", Type::Int, true),
                ],
            ),
        ],
    }
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

/// The good fixture file of `table` in `format`, as (file name, text).
fn fixture(format: Format, table: &str) -> (String, String) {
    let (dir, ext) = match (format, table) {
        (Format::Csv, _) => ("good_csv", "csv"),
        (Format::Ndjson, "events") => ("good_ndjson", "jsonl"),
        (Format::Ndjson, _) => ("good_ndjson", "ndjson"),
        #[cfg(feature = "parquet")]
        (Format::Parquet, _) => unreachable!("the fixtures are text"),
    };
    let text =
        std::fs::read_to_string(fixtures().join(dir).join(format!("{table}.{ext}"))).unwrap();
    (format!("data/{table}.{ext}"), text)
}

/// Loads the good fixtures in `format`, with `extra` appended to `table`'s file.
fn load_with(
    format: Format,
    table: &str,
    extra: &str,
    skip_bad_rows: bool,
) -> Result<Loaded, DataError> {
    let source = |name: &str| {
        let (file, mut text) = fixture(format, name);
        if name == table {
            text.push_str(extra);
            text.push('\n');
        }
        Source::new(file, format, io::Cursor::new(text))
    };
    let sources = Sources {
        contacts: source("contacts"),
        events: Some(source("events")),
        accounts: Some(source("accounts")),
        changes: Some(source("changes")),
    };
    load_readers(&schema(), sources, &LoadOptions { skip_bad_rows })
}

fn good(format: Format) -> Dataset {
    let loaded = load_with(format, "", "", false).unwrap();
    assert!(loaded.rejected.is_empty());
    loaded.dataset
}

fn ts(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> Value {
    Value::Timestamp(Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap())
}

fn text(s: &str) -> Option<Value> {
    Some(Value::Text(s.into()))
}

#[test]
fn good_csv_loads_every_type() {
    let data = good(Format::Csv);
    let ids: Vec<&str> = data.contacts.ids().collect();
    assert_eq!(ids, ["c1", "c2", "c3"]);
    assert_eq!(
        data.contacts.row(0).unwrap().attrs,
        vec![
            text("Direktør"),
            Some(Value::Int(250)),
            text("emea"),
            Some(Value::Bool(true)),
            text("mql"),
            text("acme"),
            Some(Value::Date(NaiveDate::from_ymd_opt(2025, 11, 3).unwrap())),
            Some(Value::Number(1200.5)),
            Some(Value::Int(47)),
            Some(ts(2025, 1, 15, 9, 30, 0)),
            Some(Value::Duration(90)),
        ]
    );
    assert_eq!(
        data.contacts.row(1).unwrap().attrs,
        vec![
            None,
            Some(Value::Int(12)),
            text("amer"),
            Some(Value::Bool(false)),
            text("lead"),
            None,
            None,
            Some(Value::Number(0.0)),
            None,
            Some(ts(2025, 2, 1, 8, 0, 0)),
            Some(Value::Duration(3600)),
        ]
    );
    let c3 = &data.contacts.row(2).unwrap().attrs;
    assert_eq!(c3[0], text("Head of \"Growth\",\nEMEA"));
    assert_eq!(c3[3], Some(Value::Bool(true)));
    assert_eq!(c3[7], Some(Value::Number(-350.0)));
    assert_eq!(
        c3[9],
        Some(ts(2025, 3, 1, 8, 0, 0)),
        "offsets are converted to UTC"
    );
    assert_eq!(c3[10], Some(Value::Duration(7200)));

    assert_eq!(data.accounts.len(), 2);
    assert_eq!(data.accounts[1].id, "nord");
    assert_eq!(data.accounts[1].attrs, vec![text("Nordlys ehf."), None]);

    let events: Vec<(u32, u32)> = data.events.iter().map(|e| (e.contact, e.event)).collect();
    assert_eq!(events, [(0, 1), (1, 2), (0, 3), (2, 4), (2, 4), (1, 0)]);
    assert_eq!(
        data.events[0].fields,
        vec![text("jan"), text("/service/crm")]
    );
    assert_eq!(
        Value::Timestamp(data.events[1].at),
        ts(2026, 1, 6, 11, 0, 0)
    );
    assert_eq!(data.events[1].fields, vec![text("soft")]);
    assert_eq!(
        Value::Timestamp(data.events[2].at),
        ts(2026, 1, 7, 12, 0, 0)
    );
    assert_eq!(
        data.events[2].fields,
        vec![text("intro"), Some(Value::Number(0.75))]
    );
    assert_eq!(
        Value::Timestamp(data.events[3].at),
        ts(2026, 1, 8, 0, 0, 0),
        "a date is 00:00 UTC"
    );
    assert_eq!(data.events[3].fields, vec![text("/pricing"), None]);
    let fractional =
        Utc.with_ymd_and_hms(2026, 1, 8, 8, 0, 0).unwrap() + chrono::Duration::milliseconds(500);
    assert_eq!(data.events[4].at, fractional);
    assert_eq!(
        data.events[4].fields,
        vec![text("/blog"), Some(Value::Int(30))]
    );
    assert_eq!(data.events[5].fields, vec![text("feb")]);

    assert_eq!(data.changes.len(), 2);
    assert_eq!((data.changes[0].contact, data.changes[0].attr), (0, 4));
    assert_eq!(data.changes[0].value, text("lead"));
    assert_eq!(
        Value::Timestamp(data.changes[1].at),
        ts(2025, 9, 1, 0, 0, 0)
    );
}

#[test]
fn ndjson_loads_the_same_data_as_csv() {
    assert_eq!(good(Format::Ndjson), good(Format::Csv));
}

#[test]
fn files_are_found_in_a_data_folder_and_loaded() {
    let dir = fixtures().join("good_ndjson");
    let files = DataFiles::from_dir(&dir).unwrap();
    assert_eq!(files.contacts, dir.join("contacts.ndjson"));
    assert_eq!(files.events, Some(dir.join("events.jsonl")));
    assert_eq!(files.accounts, Some(dir.join("accounts.ndjson")));
    assert_eq!(files.changes, Some(dir.join("changes.ndjson")));
    let loaded = load(&schema(), &files, &LoadOptions::default()).unwrap();
    assert_eq!(loaded.dataset, good(Format::Csv));
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_data_folder_needs_one_contacts_file() {
    let dir = temp_dir("data_folder_two_formats");
    std::fs::write(dir.join("contacts.csv"), "id\n").unwrap();
    std::fs::write(dir.join("contacts.jsonl"), "").unwrap();
    let err = DataFiles::from_dir(&dir).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}: `contacts.csv`, `contacts.jsonl` hold the same table, expected one file for contacts",
            dir.display()
        )
    );
    let dir = temp_dir("data_folder_no_contacts");
    std::fs::write(dir.join("events.csv"), "contact_id,event,at\n").unwrap();
    let err = DataFiles::from_dir(&dir).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}: no contacts file, expected `contacts.csv`, `contacts.ndjson`, `contacts.jsonl`{}",
            dir.display(),
            if cfg!(feature = "parquet") {
                ", `contacts.parquet`"
            } else {
                ""
            }
        )
    );
}

#[test]
fn a_missing_file_is_an_error() {
    let files = DataFiles {
        contacts: fixtures().join("nowhere/contacts.csv"),
        events: None,
        accounts: None,
        changes: None,
    };
    let err = load(
        &schema(),
        &files,
        &LoadOptions {
            skip_bad_rows: true,
        },
    )
    .unwrap_err();
    assert!(matches!(err, DataError::Io { .. }), "{err:?}");
    assert!(
        err.to_string()
            .starts_with(&format!("{}: cannot read: ", files.contacts.display()))
    );
}

/// Appends `row` to `table`'s good fixture: the load stops with `message`; with
/// `skip_bad_rows` the row is rejected with the same message and the good rows remain.
#[track_caller]
fn bad(format: Format, table: &str, row: &str, message: &str) {
    let err = load_with(format, table, row, false).unwrap_err();
    assert!(matches!(err, DataError::BadRow(_)), "{err:?}");
    assert_eq!(err.to_string(), message);
    let loaded = load_with(format, table, row, true).unwrap();
    assert_eq!(loaded.rejected.len(), 1, "{:?}", loaded.rejected);
    let rejected = &loaded.rejected[0];
    assert_eq!(rejected.to_string(), message);
    assert_eq!(rejected.raw, row);
    assert_eq!(loaded.dataset, good(format));
}

use Format::{Csv, Ndjson};

const AT: &str = "2026-01-10T00:00:00Z";

#[test]
fn wrong_type() {
    bad(
        Csv,
        "events",
        &format!("c1,page_viewed,{AT},,,,,,/x,many"),
        "data/events.csv:8: seconds: `many` is not an int, expected a whole number like `42`",
    );
    bad(
        Ndjson,
        "events",
        &format!(
            r#"{{"contact_id": "c1", "event": "page_viewed", "at": "{AT}", "url": "/x", "seconds": 1.5}}"#
        ),
        "data/events.jsonl:7: seconds: `1.5` is not an int, expected a whole number like `42`",
    );
    bad(
        Ndjson,
        "events",
        &format!(r#"{{"contact_id": "c1", "event": "email_sent", "at": "{AT}", "campaign": 7}}"#),
        "data/events.jsonl:7: campaign: `7` is not text, expected a string",
    );
    bad(
        Csv,
        "events",
        "c1,email_sent,2026-13-01,jan,,,,,,",
        "data/events.csv:8: at: `2026-13-01` is not a timestamp, expected RFC 3339 like `2026-01-31T09:00:00Z` or `2026-01-31 09:00:00`",
    );
    bad(
        Csv,
        "contacts",
        "c9,,,emea,maybe,lead,,,,,,",
        "data/contacts.csv:6: existing_client: `maybe` is not a bool, expected `true` or `false`",
    );
    bad(
        Csv,
        "contacts",
        "c9,,,emea,true,lead,,2025-1-5,,,,",
        "data/contacts.csv:6: last_purchase: `2025-1-5` is not a date, expected a date like `2026-01-31`",
    );
    bad(
        Csv,
        "contacts",
        "c9,,,emea,true,lead,,,NaN,,,",
        "data/contacts.csv:6: lifetime_value: `NaN` is not a number, expected a number like `42` or `3.5`",
    );
    bad(
        Csv,
        "contacts",
        "c9,,,emea,true,lead,,,,,,soon",
        "data/contacts.csv:6: avg_session: `soon` is not a duration, expected seconds like `3600` or a length like `90s`, `12h`, `30d`, `2w`",
    );
    bad(
        Csv,
        "contacts",
        "c9,,,emea,true,lead,,,,,,1mo",
        "data/contacts.csv:6: avg_session: `1mo` is not a fixed length, expected seconds or `s`, `h`, `d`, `w` (months and years vary in length)",
    );
    bad(
        Ndjson,
        "contacts",
        r#"{"id": "c9", "region": "emea", "existing_client": true, "lead_stage": ["lead"]}"#,
        "data/contacts.ndjson:5: lead_stage: an array is not a declared value, expected one of `lead`, `mql`, `sql`",
    );
}

#[test]
fn value_out_of_range() {
    bad(
        Csv,
        "contacts",
        "c9,,,emea,true,lead,,,,131,,",
        "data/contacts.csv:6: age: `131` is out of range, expected a value in `0..130`",
    );
    bad(
        Ndjson,
        "events",
        &format!(
            r#"{{"contact_id": "c1", "event": "video_watched", "at": "{AT}", "video": "v", "percent": 1.5}}"#
        ),
        "data/events.jsonl:7: percent: `1.5` is out of range, expected a value in `0..1`",
    );
}

#[test]
fn unknown_event_type() {
    let message = "unknown event type `email_clikced`, expected one of `email_sent`, `email_clicked`, `email_bounced`, `video_watched`, `page_viewed` (did you mean `email_clicked`?)";
    bad(
        Csv,
        "events",
        &format!("c1,email_clikced,{AT},jan,/x,,,,,"),
        &format!("data/events.csv:8: event: {message}"),
    );
    bad(
        Ndjson,
        "events",
        &format!(r#"{{"contact_id": "c1", "event": "email_clikced", "at": "{AT}"}}"#),
        &format!("data/events.jsonl:7: event: {message}"),
    );
}

#[test]
fn unknown_enum_value() {
    bad(
        Csv,
        "contacts",
        "c9,,,EMA,true,lead,,,,,,",
        "data/contacts.csv:6: region: `EMA` is not a declared value, expected one of `emea`, `amer`, `apac` (did you mean `emea`?)",
    );
    bad(
        Ndjson,
        "events",
        &format!(
            r#"{{"contact_id": "c1", "event": "email_bounced", "at": "{AT}", "kind": "bounced"}}"#
        ),
        "data/events.jsonl:7: kind: `bounced` is not a declared value, expected one of `hard`, `soft`",
    );
}

/// Enum values in data are matched in any case, as in rules, and read as the declared
/// spelling (docs/data.md, docs/semantics.md).
#[test]
fn enum_values_in_any_case_are_the_declared_value() {
    let loaded = contacts_only(
        "id,region,existing_client,lead_stage\nc1,EMEA,true,MQL\nc2,Amer,true,lead\n",
        false,
    )
    .unwrap();
    let contacts = &loaded.dataset.contacts;
    // The schema's third and fifth attributes.
    let (region, stage) = (2, 4);
    assert_eq!(contacts.get(0, region).cloned(), text("emea"));
    assert_eq!(contacts.get(0, stage).cloned(), text("mql"));
    assert_eq!(contacts.get(1, region).cloned(), text("amer"));
}

#[test]
fn missing_required_field() {
    bad(
        Csv,
        "contacts",
        "c9,,,emea,,lead,,,,,,",
        "data/contacts.csv:6: existing_client: missing required field, expected a value of type `bool`",
    );
    bad(
        Ndjson,
        "contacts",
        r#"{"id": "c9", "region": "emea", "lead_stage": "lead"}"#,
        "data/contacts.ndjson:5: existing_client: missing required field, expected a value of type `bool`",
    );
    bad(
        Csv,
        "events",
        &format!("c1,email_clicked,{AT},jan,,,,,,"),
        "data/events.csv:8: link: missing required field, expected a value of type `text`",
    );
    bad(
        Ndjson,
        "events",
        r#"{"contact_id": "c1", "event": "email_sent", "campaign": "x"}"#,
        "data/events.jsonl:7: at: missing required field, expected a value of type `timestamp`",
    );
    bad(
        Csv,
        "contacts",
        ",,,emea,true,lead,,,,,,",
        "data/contacts.csv:6: id: missing contact id, expected a non-empty id",
    );
}

#[test]
fn event_for_unknown_contact() {
    bad(
        Csv,
        "events",
        &format!("c404,email_sent,{AT},jan,,,,,,"),
        "data/events.csv:8: contact_id: unknown contact `c404`, expected an id from `data/contacts.csv`",
    );
    bad(
        Ndjson,
        "events",
        &format!(r#"{{"contact_id": 404, "event": "email_sent", "at": "{AT}", "campaign": "x"}}"#),
        "data/events.jsonl:7: contact_id: unknown contact `404`, expected an id from `data/contacts.ndjson`",
    );
}

#[test]
fn change_for_unknown_contact() {
    bad(
        Csv,
        "changes",
        "c404,lead_stage,sql,2025-10-01T00:00:00Z",
        "data/changes.csv:4: contact_id: unknown contact `c404`, expected an id from `data/contacts.csv`",
    );
}

#[test]
fn bad_change() {
    bad(
        Csv,
        "changes",
        "c1,region,amer,2025-10-01T00:00:00Z",
        "data/changes.csv:4: attribute: attribute `region` has no history, expected one declared `with history` (`lead_stage`)",
    );
    bad(
        Ndjson,
        "changes",
        r#"{"contact_id": "c1", "attribute": "lead_stag", "value": "sql", "at": "2025-10-01"}"#,
        "data/changes.ndjson:3: attribute: unknown attribute `lead_stag`, expected one declared `with history` (`lead_stage`) (did you mean `lead_stage`?)",
    );
    bad(
        Csv,
        "changes",
        "c1,lead_stage,customer,2025-10-01T00:00:00Z",
        "data/changes.csv:4: value: `customer` is not a declared value, expected one of `lead`, `mql`, `sql`",
    );
    bad(
        Csv,
        "changes",
        "c1,lead_stage,,2025-10-01T00:00:00Z",
        "data/changes.csv:4: value: missing required field, expected a value of type `one of (lead, mql, sql)`",
    );
}

#[test]
fn duplicate_contact_id_keeps_the_first() {
    bad(
        Csv,
        "contacts",
        "c1,,,amer,false,lead,,,,,,",
        "data/contacts.csv:6: id: duplicate contact id `c1`, expected each id once (first on line 2)",
    );
    bad(
        Ndjson,
        "contacts",
        r#"{"id": "c2", "region": "amer", "existing_client": false, "lead_stage": "lead"}"#,
        "data/contacts.ndjson:5: id: duplicate contact id `c2`, expected each id once (first on line 3)",
    );
}

#[test]
fn duplicate_account_id() {
    bad(
        Csv,
        "accounts",
        "acme,Acme Inc.,",
        "data/accounts.csv:4: id: duplicate account id `acme`, expected each id once (first on line 2)",
    );
}

#[test]
fn contact_linking_to_unknown_account() {
    bad(
        Csv,
        "contacts",
        "c9,,,emea,true,lead,globex,,,,,",
        "data/contacts.csv:6: account: unknown account `globex`, expected an id from `data/accounts.csv`",
    );
}

#[test]
fn links_are_not_checked_without_an_accounts_file() {
    let (name, contacts) = fixture(Csv, "contacts");
    let sources = Sources {
        contacts: Source::new(name, Csv, io::Cursor::new(contacts)),
        events: None,
        accounts: None,
        changes: None,
    };
    let loaded = load_readers(&schema(), sources, &LoadOptions::default()).unwrap();
    assert_eq!(
        loaded.dataset.contacts.row(0).unwrap().attrs[5],
        text("acme")
    );
    assert!(loaded.dataset.accounts.is_empty());
}

#[test]
fn field_of_another_event_type() {
    bad(
        Csv,
        "events",
        &format!("c1,email_sent,{AT},jan,/x,,,,,"),
        "data/events.csv:8: link: field `link` does not belong to event `email_sent`, expected only its fields (`campaign`)",
    );
    bad(
        Ndjson,
        "events",
        &format!(
            r#"{{"contact_id": "c1", "event": "email_bounced", "at": "{AT}", "kind": "hard", "url": "/x"}}"#
        ),
        "data/events.jsonl:7: url: field `url` does not belong to event `email_bounced`, expected only its fields (`kind`)",
    );
}

#[test]
fn unknown_key() {
    bad(
        Ndjson,
        "contacts",
        r#"{"id": "c9", "region": "emea", "existing_client": true, "lead_stage": "lead", "jobtitle": "CEO"}"#,
        "data/contacts.ndjson:5: jobtitle: unknown key `jobtitle`, expected one of `id`, `job_title`, `company_size`, `region`, `existing_client`, `lead_stage`, `account`, `last_purchase`, `lifetime_value`, `age`, `signed_up`, `avg_session` (did you mean `job_title`?)",
    );
}

#[test]
fn malformed_csv_row() {
    bad(
        Csv,
        "events",
        "c1,email_sent,2026-01-10T00:00:00Z,jan",
        "data/events.csv:8: malformed row: 4 cells, expected 10 like the header",
    );
}

#[test]
fn invalid_json_line() {
    bad(
        Ndjson,
        "events",
        r#"{"contact_id": "c1", "event": "email_sent""#,
        "data/events.jsonl:7: invalid JSON at column 42: EOF while parsing an object, expected one JSON object per line",
    );
    bad(
        Ndjson,
        "events",
        "[1, 2]",
        "data/events.jsonl:7: an array is not a row, expected one JSON object per line",
    );
}

#[test]
fn a_multi_line_record_reports_its_first_line() {
    bad(
        Csv,
        "contacts",
        "c9,\"two\nlines\",,emea,true,nope,,,,,,",
        "data/contacts.csv:6: lead_stage: `nope` is not a declared value, expected one of `lead`, `mql`, `sql`",
    );
}

#[test]
fn skipping_collects_every_bad_row_and_their_consequences() {
    let (_, contacts) = fixture(Csv, "contacts");
    let contacts = format!("{contacts}c1,,,amer,false,lead,,,,,,\nc9,,,apac,yes,lead,,,,,,\n");
    let events =
        format!("contact_id,event,at,campaign\nc9,email_sent,{AT},x\nc1,email_sent,{AT},y\n");
    let sources = Sources {
        contacts: Source::new("contacts.csv", Csv, io::Cursor::new(contacts)),
        events: Some(Source::new("events.csv", Csv, io::Cursor::new(events))),
        accounts: None,
        changes: None,
    };
    let loaded = load_readers(
        &schema(),
        sources,
        &LoadOptions {
            skip_bad_rows: true,
        },
    )
    .unwrap();
    let rejected: Vec<String> = loaded.rejected.iter().map(ToString::to_string).collect();
    assert_eq!(
        rejected,
        [
            "contacts.csv:6: id: duplicate contact id `c1`, expected each id once (first on line 2)",
            "contacts.csv:7: existing_client: `yes` is not a bool, expected `true` or `false`",
            "events.csv:2: contact_id: unknown contact `c9`, expected an id from `contacts.csv`",
        ]
    );
    assert_eq!(loaded.dataset.contacts.len(), 3);
    assert_eq!(loaded.dataset.events.len(), 1);
    assert_eq!(loaded.dataset.events[0].fields, vec![text("y")]);
}

/// Loads `contacts` (CSV text) alone.
fn contacts_only(contacts: &str, skip_bad_rows: bool) -> Result<Loaded, DataError> {
    let sources = Sources {
        contacts: Source::new(
            "data/contacts.csv",
            Csv,
            io::Cursor::new(contacts.to_owned()),
        ),
        events: None,
        accounts: None,
        changes: None,
    };
    load_readers(&schema(), sources, &LoadOptions { skip_bad_rows })
}

#[track_caller]
fn bad_file(contacts: &str, message: &str) {
    for skip in [false, true] {
        let err = contacts_only(contacts, skip).unwrap_err();
        assert!(matches!(err, DataError::File { .. }), "{err:?}");
        assert_eq!(err.to_string(), message);
    }
}

#[test]
fn header_problems_are_always_errors() {
    bad_file(
        "id,jobtitle,region,existing_client,lead_stage\n",
        "data/contacts.csv:1: unknown column `jobtitle`, expected one of `id`, `job_title`, `company_size`, `region`, `existing_client`, `lead_stage`, `account`, `last_purchase`, `lifetime_value`, `age`, `signed_up`, `avg_session` (did you mean `job_title`?)",
    );
    bad_file(
        "id,region,lead_stage\n",
        "data/contacts.csv:1: missing column `existing_client`, expected a column for each required field",
    );
    bad_file(
        "id,region,existing_client,lead_stage,region\n",
        "data/contacts.csv:1: duplicate column `region`, expected each column once",
    );
    bad_file("", "data/contacts.csv: empty file, expected a header row");
}

#[test]
fn optional_columns_may_be_left_out_and_headers_are_trimmed() {
    let err = contacts_only(
        "\u{feff}id,region,existing_client,lead_stage\n\nc1,amer,1,lead\nc2,emea,-1,lead\n",
        false,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "data/contacts.csv:4: existing_client: `-1` is not a bool, expected `true` or `false`"
    );
    let loaded = contacts_only(
        "\u{feff}id, region ,existing_client,lead_stage\r\nc1,emea,0,lead\r\n",
        false,
    )
    .unwrap();
    let attrs = &loaded.dataset.contacts.row(0).unwrap().attrs;
    assert_eq!(attrs[2], text("emea"));
    assert_eq!(attrs[3], Some(Value::Bool(false)));
    assert_eq!(attrs.iter().filter(|a| a.is_none()).count(), 8);
}

#[test]
fn rejects_file_lists_every_rejected_row() {
    let loaded = load_with(
        Csv,
        "events",
        "c1,email_sent,2026-13-01,\"a, b\",,,,,,",
        true,
    )
    .unwrap();
    let dir = temp_dir("rejects_file");
    let path = dir.join("rejects.csv");
    Rejected::write_csv(&loaded.rejected, &path).unwrap();
    let written = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        written,
        "file,line,column,reason,raw\n\
         data/events.csv,8,at,\"`2026-13-01` is not a timestamp, expected RFC 3339 like `2026-01-31T09:00:00Z` or `2026-01-31 09:00:00`\",\"c1,email_sent,2026-13-01,\"\"a, b\"\",,,,,,\"\n"
    );
    assert_eq!(listing(&dir), ["rejects.csv"]);
}

#[test]
fn atomic_write_replaces_the_whole_file() {
    let dir = temp_dir("atomic_ok");
    let path = dir.join("out.csv");
    std::fs::write(&path, "old").unwrap();
    write_atomic(&path, |w| w.write_all(b"new contents")).unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "new contents");
    assert_eq!(listing(&dir), ["out.csv"]);
}

#[test]
fn failed_atomic_write_leaves_nothing_behind() {
    let dir = temp_dir("atomic_fail");
    let path = dir.join("out.csv");
    let err = write_atomic(&path, |w| {
        w.write_all(b"half of it")?;
        Err(io::Error::other("disk on fire"))
    })
    .unwrap_err();
    assert_eq!(err.to_string(), "disk on fire");
    assert!(listing(&dir).is_empty(), "{:?}", listing(&dir));

    std::fs::write(&path, "old").unwrap();
    write_atomic(&path, |_| Err(io::Error::other("again"))).unwrap_err();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "old");
    assert_eq!(listing(&dir), ["out.csv"]);
}

#[test]
fn blank_lines_are_skipped_and_counted() {
    let message = "data/contacts.csv:7: lead_stage: `vip` is not a declared value, expected one of `lead`, `mql`, `sql`";
    let lf = "\nid,region,existing_client,lead_stage\n\nc1,emea,true,lead\n\n\nc2,emea,true,vip\n";
    assert_eq!(contacts_only(lf, false).unwrap_err().to_string(), message);
    let crlf = lf.replace('\n', "\r\n");
    assert_eq!(
        contacts_only(&crlf, false).unwrap_err().to_string(),
        message
    );
}

/// Tables larger than one parallel chunk (8 MB of CSV) are read in parts: rows keep their
/// order and lines, a duplicate id across parts and a bad row in a later part are
/// reported at their line, as a sequential read reports them.
#[test]
fn large_csv_tables_read_in_parts_report_rows_at_their_lines() {
    let base = |table: &str| fixture(Format::Csv, table).1.lines().count() as u64;
    let many_contacts: String = (0..250_000)
        .map(|i| format!("x{i},,12,amer,false,lead,,,0,,2025-01-15T09:30:00Z,90s\n"))
        .collect();
    let dup = format!("{many_contacts}c2,,12,amer,false,lead,,,0,,2025-01-15T09:30:00Z,90s");
    let err = load_with(Format::Csv, "contacts", &dup, false).unwrap_err();
    let line = base("contacts") + 250_001;
    assert_eq!(
        err.to_string(),
        format!(
            "data/contacts.csv:{line}: id: duplicate contact id `c2`, expected each id once (first on line 3)"
        )
    );
    let loaded = load_with(Format::Csv, "contacts", &many_contacts, false).unwrap();
    let ids: Vec<&str> = loaded.dataset.contacts.ids().collect();
    assert_eq!(ids.len(), good(Format::Csv).contacts.len() + 250_000);
    assert_eq!(
        ids.get(ids.len() - 250_000..ids.len() - 249_998),
        Some(&["x0", "x1"][..])
    );
    assert_eq!(ids.last(), Some(&"x249999"));

    let many_events: String = (0..200_000)
        .map(|i| {
            format!(
                "c1,email_clicked,2026-01-05T10:00:{:02}Z,jan,/service/crm,,,,,\n",
                i % 60
            )
        })
        .collect();
    let bad = format!(
        "{many_events}c1,no_such_event,2026-01-05T10:00:00Z,,,,,,,\n{many_events}c1,nope,2026-01-05T10:00:00Z,,,,,,,"
    );
    let err = load_with(Format::Csv, "events", &bad, false)
        .unwrap_err()
        .to_string();
    let first_bad = base("events") + 200_001;
    assert!(
        err.starts_with(&format!(
            "data/events.csv:{first_bad}: event: unknown event type `no_such_event`"
        )),
        "{err}"
    );
    let skipped = load_with(Format::Csv, "events", &bad, true).unwrap();
    let lines: Vec<u64> = skipped.rejected.iter().map(|r| r.line).collect();
    assert_eq!(lines, [first_bad, first_bad + 200_001]);
    assert_eq!(
        skipped.dataset.events.len(),
        good(Format::Csv).events.len() + 400_000
    );
}
