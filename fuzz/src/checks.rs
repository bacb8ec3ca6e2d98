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
use funnel::check::Schema;
use funnel::engine::data::{Dataset, Format, LoadOptions, Loaded, Source, Sources, load_readers};
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
/// The B2B example's data: contacts, events, accounts, changes.
const B2B_DATA: [&str; 4] = [
    include_str!("../data/contacts.csv"),
    include_str!("../data/events.csv"),
    include_str!("../data/accounts.csv"),
    include_str!("../data/changes.csv"),
];
/// Data for the generator's schema ([`generate::SCHEMA`]).
const GEN_DATA: [&str; 4] = [
    include_str!("../data/gen/contacts.csv"),
    include_str!("../data/gen/events.csv"),
    include_str!("../data/gen/accounts.csv"),
    include_str!("../data/gen/changes.csv"),
];

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
    check_rules(&b2b_fs(), text);
}

/// The file system a generated rule file sees: [`generate::SCHEMA`] as `schema.funnel`,
/// which every generated file `use`s (so that the fixed schema is neither formatted nor
/// parsed more than once per input).
fn gen_fs() -> MemoryFs {
    let mut fs = MemoryFs::new();
    fs.insert(Path::new("/project/schema.funnel"), generate::SCHEMA);
    fs
}

/// Checks a generated rule file (beside the generator's schema).
pub fn check_generated(text: &str) -> funnel::check::Checked {
    funnel::check::check(&load_rules(&gen_fs(), text))
}

fn load_rules(fs: &MemoryFs, text: &str) -> funnel::syntax::Loaded {
    let root = Path::new("/project");
    funnel::syntax::load_source(fs, root, &root.join("fuzz.funnel"), "fuzz.funnel", text)
}

/// A rule file generated from the grammar: checked, lowered, run over `fuzz/data/gen`
/// on both engines, formatted.
pub fn rules_gen(data: &[u8]) {
    let Ok(text) = generate::rule_file(&mut Unstructured::new(data)) else {
        return;
    };
    let fs = gen_fs();
    let plan = check_rules(&fs, &text);
    if let Some(plan) = &plan {
        with_data(plan, |data| run_all(plan, data));
    }
    check_fmt(&text, Some(plan.map(|p| p.to_json())), |out| {
        funnel::check::check(&load_rules(&fs, out)).program
    });
}

/// `fmt` over arbitrary text: keeps the program and every comment, and is idempotent.
pub fn fmt(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let check = |t: &str| funnel::check::check_text("fuzz.funnel", t).program;
    // Checked only when it formats (random text seldom parses).
    check_fmt(text, None, check);
}

/// Loads `text` as `fuzz.funnel` in `fs` and checks it: every diagnostic's span lies
/// inside its file on character boundaries, and a program that checks lowers to a plan
/// that goes through JSON unchanged.
fn check_rules(fs: &MemoryFs, text: &str) -> Option<Plan> {
    let loaded = load_rules(fs, text);
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
    let json = plan.to_json();
    let again = Plan::from_json(&json).expect("a compiled plan loads again");
    assert_eq!(json, again.to_json(), "the plan changes through JSON");
    Some(plan)
}

/// `fmt` keeps the program and every comment (`format_source` re-parses and compares),
/// is idempotent, and the formatted rules compile (`check`) to the same plan as the
/// original, whose plan (or `None`: it does not check) is `before` when the caller has
/// it already.
fn check_fmt(
    text: &str,
    before: Option<Option<String>>,
    check: impl Fn(&str) -> Option<funnel::check::Program>,
) {
    use funnel::syntax::{FileId, FormatError, format::format_file, format_source, parse_file};
    let out = match format_source(FileId(0), text) {
        Ok(out) => out,
        Err(FormatError::Syntax(_)) => return,
        Err(FormatError::Unstable) => panic!("fmt changed the program or lost a comment:\n{text}"),
    };
    // `format_source` parsed `out` cleanly and found the same tree; formatting that
    // tree again must change nothing.
    let (tree, _) = parse_file(FileId(0), &out);
    assert_eq!(out, format_file(&tree, &out), "fmt is not idempotent");
    let before = before.unwrap_or_else(|| check(text).map(|p| funnel::plan::lower(&p).to_json()));
    let after = check(&out).map(|p| funnel::plan::lower(&p).to_json());
    assert_eq!(before, after, "fmt changed what the rules compile to");
}

/// Arbitrary JSON as a plan: loading it, running it over the B2B data (both engines),
/// explaining a contact and compiling it to SQL (in one dialect, with a fixed or a
/// parameter `now`, chosen by a hash of the input) must not panic.
pub fn plan_json(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(plan) = Plan::from_json(text) else {
        return;
    };
    // FNV-1a: the same input always picks the same dialect, and the corpus covers all.
    let hash = data.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    let (name, as_of) = sql_choice(hash);
    if let Some(d) = funnel::sql::by_name(name) {
        let opts = funnel::sql::Options {
            dialect: d,
            tables: &funnel::sql::Tables::default(),
            as_of,
        };
        if let Ok(script) = funnel::sql::compile(&plan, opts) {
            let _ = script.to_text(d, Some("v"));
        }
    }
    with_data(&plan, |data| run_all(&plan, data));
}

/// The B2B data, loaded once.
static B2B_LOADED: LazyLock<Option<Loaded>> =
    LazyLock::new(|| load(&B2B, &B2B_DATA, None, false).ok());

/// The generator's schema (as a plan holds it) and its data, loaded once.
static GEN_LOADED: LazyLock<Option<(Schema, Loaded)>> = LazyLock::new(|| {
    let program = check_generated("use \"schema.funnel\"\nsegment s = client\n").program?;
    let plan = funnel::plan::lower(&program);
    let loaded = load(&plan, &GEN_DATA, None, false).ok()?;
    Some((plan.schema, loaded))
});

/// Calls `f` with the data `plan` runs on: the B2B example's, or the generator's when
/// the plan is for its schema (loaded once when the plan's schema is one of theirs,
/// which is nearly always: loading the same CSV again for every input would mostly
/// measure the CSV reader). Nothing when neither loads.
fn with_data(plan: &Plan, f: impl FnOnce(&Dataset)) {
    if plan.schema == B2B.schema {
        if let Some(loaded) = &*B2B_LOADED {
            f(&loaded.dataset);
        }
        return;
    }
    if let Some((schema, loaded)) = &*GEN_LOADED
        && plan.schema == *schema
    {
        f(&loaded.dataset);
        return;
    }
    if let Ok(loaded) =
        load(plan, &B2B_DATA, None, false).or_else(|_| load(plan, &GEN_DATA, None, false))
    {
        f(&loaded.dataset);
    }
}

/// One of the SQL dialects and a fixed or parameter `now`, by `n`.
fn sql_choice(n: u64) -> (&'static str, funnel::sql::AsOf) {
    let names = funnel::sql::dialect::NAMES;
    let len = names.len() as u64;
    let name = names[usize::try_from(n % len).unwrap_or(0)];
    let as_of = if (n / len).is_multiple_of(2) {
        funnel::sql::AsOf::Fixed(now())
    } else {
        funnel::sql::AsOf::Param
    };
    (name, as_of)
}

/// Runs `plan` over `data` on both engines (the columnar one once: explain and results
/// come from the same evaluation).
fn run_all(plan: &Plan, data: &Dataset) {
    let _ = funnel::engine::reference::run(plan, data, now());
    if let Ok(ev) = funnel::engine::columnar::evaluate_dataset(plan, data, now()) {
        if !data.contacts.is_empty() {
            let _ = funnel::engine::explain::explain(&ev.ctx, &ev.state, 0);
        }
        let _ = ev.results();
    }
}

/// Loads `texts` (CSV contacts, events, accounts, changes) with one table replaced by
/// `(table, format, bytes)`.
fn load<'a>(
    plan: &Plan,
    texts: &'a [&'a str; 4],
    replace: Option<(usize, Format, &'a [u8])>,
    skip_bad_rows: bool,
) -> Result<Loaded, funnel::engine::data::DataError> {
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
    if let Ok(loaded) = load(plan, &B2B_DATA, Some((table, format, bytes)), skip) {
        for r in &loaded.rejected {
            let _ = r.to_string();
        }
        run_all(plan, &loaded.dataset);
    }
}

/// A rule file generated from the grammar (from all but the first byte), compiled to
/// SQL in one dialect with a fixed or a parameter `now` (the first byte chooses): the
/// script re-parses with `sqlparser` and holds no control character but newline.
pub fn sql_gen(data: &[u8]) {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = generate::rule_file(&mut Unstructured::new(rest)) else {
        return;
    };
    let Some(program) = check_generated(&text).program else {
        return;
    };
    let plan = funnel::plan::lower(&program);
    let (name, as_of) = sql_choice(u64::from(first));
    let Some(dialect) = funnel::sql::by_name(name) else {
        return;
    };
    let opts = funnel::sql::Options {
        dialect,
        tables: &funnel::sql::Tables::default(),
        as_of,
    };
    let Ok(script) = funnel::sql::compile(&plan, opts) else {
        return;
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
