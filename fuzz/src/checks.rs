//! What every fuzz target asserts about one input. Shared by the cargo-fuzz targets
//! (`fuzz/fuzz_targets/*.rs`) and by `tests/fuzz_corpus.rs`, which replays the committed
//! corpus (`fuzz/corpus/<target>/`) through the same checks on every `cargo test`.
//!
//! A check panics (a finding) when Funnel panics, when a diagnostic points outside its
//! file, when `fmt` loses a comment or changes the program or is not idempotent, or when
//! generated SQL does not re-parse or holds a control character.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::generate;
use arbitrary::Unstructured;
use funnel::engine::data::{Format, LoadOptions, Source, Sources, load_readers};
use funnel::plan::Plan;
use funnel::syntax::loader::MemoryFs;
use std::path::Path;
use std::sync::LazyLock;

// The same dialect mapping as the SQL tests'.
#[allow(dead_code)]
#[path = "../../tests/common/sql_parse.rs"]
mod sql_parse;

/// A check: panics on a finding.
pub type Check = fn(&[u8]);

/// The fuzz targets, by the name of their corpus folder.
pub const TARGETS: &[(&str, Check)] = &[
    ("parse_and_check", parse_and_check),
    ("rules_gen", rules_gen),
    ("fmt", fmt),
    ("plan_json", plan_json),
    ("data_readers", data_readers),
    ("sql_gen", sql_gen),
];

const SCHEMA: &str = include_str!("../../examples/b2b/schema.funnel");
const SCORES: &str = include_str!("../../examples/b2b/scores.funnel");
const RULES: &str = include_str!("../../examples/b2b/rules.funnel");
const CONTACTS: &str = include_str!("../data/contacts.csv");
const EVENTS: &str = include_str!("../data/events.csv");
const ACCOUNTS: &str = include_str!("../data/accounts.csv");
const CHANGES: &str = include_str!("../data/changes.csv");

fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(1_795_132_800, 0).unwrap_or_default()
}

/// The B2B example's plan, which the data of `fuzz/data` fits.
static B2B: LazyLock<Plan> = LazyLock::new(|| {
    let root = Path::new("/project");
    let fs = b2b_fs();
    let loaded =
        funnel::syntax::load_source(&fs, root, &root.join("rules.funnel"), "rules.funnel", RULES);
    let checked = funnel::check::check(&loaded);
    funnel::plan::lower(&checked.program.expect("the B2B example checks"))
});

fn b2b_fs() -> MemoryFs {
    let root = Path::new("/project");
    let mut fs = MemoryFs::new();
    fs.insert(root.join("schema.funnel"), SCHEMA);
    fs.insert(root.join("scores.funnel"), SCORES);
    fs
}

/// Arbitrary text as a rule file next to the B2B example's files: loader, parser,
/// checker; every diagnostic's span lies inside its file on character boundaries.
pub fn parse_and_check(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    check_rules(text, true);
}

/// A rule file generated from the grammar: checked, lowered, formatted.
pub fn rules_gen(data: &[u8]) {
    let Ok(text) = generate::rule_file(&mut Unstructured::new(data)) else {
        return;
    };
    check_rules(&text, false);
    check_fmt(&text);
}

/// `fmt` over arbitrary text: keeps the program and every comment, and is idempotent.
pub fn fmt(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    check_fmt(text);
}

fn check_rules(text: &str, with_b2b: bool) -> Option<Plan> {
    let root = Path::new("/project");
    let fs = if with_b2b { b2b_fs() } else { MemoryFs::new() };
    let loaded =
        funnel::syntax::load_source(&fs, root, &root.join("fuzz.funnel"), "fuzz.funnel", text);
    let checked = funnel::check::check(&loaded);
    for d in &checked.diagnostics {
        for span in std::iter::once(d.span).chain(d.related.iter().map(|l| l.span)) {
            let file = loaded
                .sources
                .get(span.file)
                .expect("a span in an unknown file");
            let r = span.range();
            assert!(
                r.start <= r.end && r.end <= file.text.len(),
                "span outside its file: {d:?}"
            );
            assert!(
                file.text.is_char_boundary(r.start) && file.text.is_char_boundary(r.end),
                "{d:?}"
            );
        }
    }
    let program = checked.program?;
    let plan = funnel::plan::lower(&program);
    let again = Plan::from_json(&plan.to_json()).expect("a compiled plan loads again");
    assert_eq!(
        plan.to_json(),
        again.to_json(),
        "the plan changes through JSON"
    );
    Some(plan)
}

fn check_fmt(text: &str) {
    use funnel::syntax::{FileId, FormatError, format_source};
    let out = match format_source(FileId(0), text) {
        Ok(out) => out,
        Err(FormatError::Syntax(_)) => return,
        Err(FormatError::Unstable) => panic!("fmt changed the program or lost a comment:\n{text}"),
    };
    match format_source(FileId(0), &out) {
        Ok(twice) => assert_eq!(out, twice, "fmt is not idempotent"),
        Err(e) => panic!("formatted text does not format again: {e:?}\n{out}"),
    }
    let before = funnel::check::check_text("fuzz.funnel", text)
        .program
        .map(|p| funnel::plan::lower(&p).to_json());
    let after = funnel::check::check_text("fuzz.funnel", &out)
        .program
        .map(|p| funnel::plan::lower(&p).to_json());
    assert_eq!(before, after, "fmt changed what the rules compile to");
}

/// Arbitrary JSON as a plan: loading it, running it over the B2B data (both engines),
/// explaining a contact and compiling it to SQL must not panic.
pub fn plan_json(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(plan) = Plan::from_json(text) else {
        return;
    };
    for dialect in funnel::sql::dialect::NAMES {
        if let Some(d) = funnel::sql::by_name(dialect) {
            let opts = funnel::sql::Options {
                dialect: d,
                tables: &funnel::sql::Tables::default(),
                as_of: funnel::sql::AsOf::Fixed(now()),
            };
            if let Ok(script) = funnel::sql::compile(&plan, opts) {
                let _ = script.to_text(d, Some("v"));
            }
        }
    }
    let Ok(loaded) = load(&plan, None, false) else {
        return;
    };
    run_all(&plan, &loaded.dataset);
}

fn run_all(plan: &Plan, data: &funnel::engine::data::Dataset) {
    let _ = funnel::engine::run(plan, data, now());
    let _ = funnel::engine::reference::run(plan, data, now());
    if let Ok(ev) = funnel::engine::columnar::evaluate_dataset(plan, data, now())
        && !data.contacts.is_empty()
    {
        let _ = funnel::engine::explain::explain(&ev.ctx, &ev.state, 0);
    }
}

/// Loads the data of `fuzz/data`, with one table replaced by `(table, format, bytes)`.
fn load<'a>(
    plan: &Plan,
    replace: Option<(usize, Format, &'a [u8])>,
    skip_bad_rows: bool,
) -> Result<funnel::engine::data::Loaded, funnel::engine::data::DataError> {
    let texts = [CONTACTS, EVENTS, ACCOUNTS, CHANGES];
    let mut sources: Vec<Source<'a>> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| Source::new(format!("t{i}.csv"), Format::Csv, t.as_bytes()))
        .collect();
    if let Some((i, format, bytes)) = replace {
        sources[i] = Source::new(format!("t{i}"), format, bytes);
    }
    let mut it = sources.into_iter();
    let (Some(contacts), events, accounts, changes) = (it.next(), it.next(), it.next(), it.next())
    else {
        unreachable!()
    };
    load_readers(
        &plan.schema,
        Sources {
            contacts,
            events,
            accounts,
            changes,
        },
        &LoadOptions { skip_bad_rows },
    )
}

/// Arbitrary bytes as one table of the B2B data (the first byte picks the table, the
/// format and `--skip-bad-rows`): loading must not panic, and what loads must run.
pub fn data_readers(data: &[u8]) {
    let Some((&head, bytes)) = data.split_first() else {
        return;
    };
    let table = usize::from(head & 3);
    let format = match (head >> 2) & 3 {
        0 | 3 => Format::Csv,
        1 => Format::Ndjson,
        _ => Format::Parquet,
    };
    let skip = head & 16 != 0;
    let plan = &*B2B;
    if let Ok(loaded) = load(plan, Some((table, format, bytes)), skip) {
        for r in &loaded.rejected {
            let _ = r.to_string();
        }
        run_all(plan, &loaded.dataset);
    }
}

/// A rule file generated from the grammar, compiled to SQL in every dialect: every
/// script re-parses with `sqlparser` and holds no control character but newline.
pub fn sql_gen(data: &[u8]) {
    let Ok(text) = generate::rule_file(&mut Unstructured::new(data)) else {
        return;
    };
    let Some(plan) = check_rules(&text, false) else {
        return;
    };
    for name in funnel::sql::dialect::NAMES {
        let Some(dialect) = funnel::sql::by_name(name) else {
            continue;
        };
        for as_of in [funnel::sql::AsOf::Fixed(now()), funnel::sql::AsOf::Param] {
            let opts = funnel::sql::Options {
                dialect,
                tables: &funnel::sql::Tables::default(),
                as_of,
            };
            let Ok(script) = funnel::sql::compile(&plan, opts) else {
                continue;
            };
            let sql = script.to_text(dialect, Some("funnel_results"));
            if let Some(c) = sql.chars().find(|c| c.is_control() && *c != '\n') {
                panic!("{name} SQL holds control character {c:?}:\n{text}\n---\n{sql}");
            }
            if let Err(e) =
                sqlparser::parser::Parser::parse_sql(sql_parse::parser_dialect(name).as_ref(), &sql)
            {
                panic!("{name} SQL does not re-parse: {e}\n{text}\n---\n{sql}");
            }
        }
    }
}
