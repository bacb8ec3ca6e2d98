//! Running one test file: check its rule file, load each test's fixtures against the
//! schema, run the engine at the test's `now` (and at each earlier moment asked for),
//! and compare every expectation; a failure carries the `explain` trace.

use super::file::{AsOf, Claim, Expect, Setup, Subject, Table, TestFile, parse};
use crate::check;
use crate::diag::render::{Format, Summary, render};
use crate::engine::data::{self, DataError, DataFiles, Dataset, LoadOptions, Source, Sources};
use crate::engine::explain::{Explanation, explain};
use crate::engine::results::{ColumnKind, Results, cell};
use crate::plan::Plan;
use crate::plan::display::number;
use crate::plan::types::Value;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::HashMap;
use std::path::Path;

/// The outcome of one test file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileReport {
    /// The test file as named on the command line (or found in a folder).
    pub file: String,
    /// Why the file could not be run at all (it does not parse, its rules do not check).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub tests: Vec<TestReport>,
}

/// The outcome of one test.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TestReport {
    pub name: String,
    pub line: usize,
    /// How long the test took, in seconds.
    pub time: f64,
    pub failures: Vec<Failure>,
    /// Why the test could not run (bad fixture rows, an unknown contact or definition).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl TestReport {
    /// Whether every expectation held.
    pub fn passed(&self) -> bool {
        self.failures.is_empty() && self.error.is_none()
    }
}

/// An expectation that did not hold.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Failure {
    /// The line of the expectation in the test file.
    pub line: usize,
    /// The expectation as written.
    pub expectation: String,
    pub expected: String,
    pub actual: String,
    /// The moment the result was computed at (RFC 3339).
    pub at: String,
    /// Why the result came out as it did (the `explain` trace of the definition).
    #[serde(skip)]
    pub trace: Option<Explanation>,
}

/// Runs the test file at `path` (shown as `name`), keeping the tests whose name
/// contains `filter`.
pub fn run_file(path: &Path, name: &str, filter: Option<&str>) -> FileReport {
    let mut report = FileReport {
        file: name.to_string(),
        error: None,
        tests: Vec::new(),
    };
    let text = match crate::limits::read_file(path, crate::limits::SOURCE_BYTES) {
        Ok(t) => t,
        Err(e) => {
            report.error = Some(format!(
                "{name}: cannot read: {}",
                crate::syntax::loader::io_reason(&e)
            ));
            return report;
        }
    };
    let file = match parse(&text) {
        Ok(f) => f,
        Err(e) => {
            report.error = Some(format!("{name}:{}: {}", e.line, e.message));
            return report;
        }
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    let plan = match rules(&file, dir, name) {
        Ok(p) => p,
        Err(e) => {
            report.error = Some(e);
            return report;
        }
    };
    for test in &file.tests {
        if filter.is_some_and(|f| !test.name.contains(f)) {
            continue;
        }
        let setup = merged(&file.setup, &test.setup);
        let started = std::time::Instant::now();
        let outcome = run_test(&plan, &setup, &test.expects, dir, name, test.line);
        let (failures, error) = match outcome {
            Ok(failures) => (failures, None),
            Err(e) => (Vec::new(), Some(e)),
        };
        report.tests.push(TestReport {
            name: test.name.clone(),
            line: test.line,
            time: started.elapsed().as_secs_f64(),
            failures,
            error,
        });
    }
    report
}

/// The plan of the rule file the test file names.
fn rules(file: &TestFile, dir: &Path, name: &str) -> Result<Plan, String> {
    let Some((rules, line)) = &file.rules else {
        return Err(format!(
            "{name}:1: no rule file named, expected a line like `rules \"rules.funnel\"`"
        ));
    };
    let path = dir.join(rules);
    // The rules, and their imports, may not leave the test file's project: the current
    // folder when the test file is in it, else the test file's folder; links followed.
    let cwd = std::env::current_dir().unwrap_or_else(|_| dir.to_path_buf());
    let test_dir = crate::syntax::loader::normalize(&cwd.join(dir));
    let root = if test_dir.starts_with(&cwd) {
        cwd.clone()
    } else {
        test_dir
    };
    let real = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let abs = crate::syntax::loader::normalize(&cwd.join(&path));
    if !abs.starts_with(&root) || !real(&abs).starts_with(real(&root)) {
        return Err(format!(
            "{name}:{line}: `{rules}` is outside the project folder `{}`; rule files must be inside it",
            root.display()
        ));
    }
    let loaded = crate::syntax::load_paths(&path, &root).map_err(|e| {
        format!(
            "{name}:{line}: cannot read `{}`: {}",
            path.display(),
            crate::syntax::loader::io_reason(&e)
        )
    })?;
    let checked = check::check(&loaded);
    match checked.program {
        Some(program) => Ok(crate::plan::lower(&program)),
        None => {
            let errors: Vec<_> = checked
                .diagnostics
                .into_iter()
                .filter(|d| d.is_error())
                .collect();
            let files = loaded.sources.iter().count();
            let text = render(
                Format::Human,
                &errors,
                &loaded.sources,
                Summary::of(&errors, files),
                false,
            );
            Err(format!(
                "{name}:{line}: the rules in `{rules}` do not check\n{}",
                text.trim_end()
            ))
        }
    }
}

/// The test's setup over the file's: each part the test gives replaces the file's.
fn merged(file: &Setup, test: &Setup) -> Setup {
    Setup {
        now: test.now.or(file.now),
        data: test.data.clone().or_else(|| file.data.clone()),
        contacts: test.contacts.clone().or_else(|| file.contacts.clone()),
        accounts: test.accounts.clone().or_else(|| file.accounts.clone()),
        events: test.events.clone().or_else(|| file.events.clone()),
        changes: test.changes.clone().or_else(|| file.changes.clone()),
    }
}

fn run_test(
    plan: &Plan,
    setup: &Setup,
    expects: &[Expect],
    dir: &Path,
    name: &str,
    line: usize,
) -> Result<Vec<Failure>, String> {
    let now = setup.now.ok_or_else(|| {
        format!(
            "{name}:{line}: no `now` for this test, expected a line like `now 2026-11-20T00:00:00Z`"
        )
    })?;
    let data = dataset(plan, setup, dir, name, line)?;
    let mut runs: HashMap<DateTime<Utc>, Results> = HashMap::new();
    let mut failures = Vec::new();
    for e in expects {
        let at = match e.as_of {
            None => now,
            Some(AsOf::At(t)) => t,
            Some(AsOf::Ago(d)) => now - d,
        };
        let results = match runs.get(&at) {
            Some(r) => r,
            None => {
                let r = crate::engine::run(plan, &data, at)
                    .map_err(|err| format!("{name}:{}: {err}", e.line))?;
                runs.entry(at).or_insert(r)
            }
        };
        if let Some(mut f) = compare(results, e).map_err(|m| format!("{name}:{}: {m}", e.line))? {
            f.at = at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
            f.trace = trace(plan, &data, at, e);
            failures.push(f);
        }
    }
    Ok(failures)
}

/// The test's data: its inline tables, or its data folder.
fn dataset(
    plan: &Plan,
    setup: &Setup,
    dir: &Path,
    name: &str,
    line: usize,
) -> Result<Dataset, String> {
    let opts = LoadOptions::default();
    let Some(contacts) = &setup.contacts else {
        let Some((folder, _)) = &setup.data else {
            return Err(format!(
                "{name}:{line}: no contacts for this test, expected a `contacts` table or a line like `data \"folder\"`"
            ));
        };
        let files = DataFiles::from_dir(&dir.join(folder)).map_err(|e| e.to_string())?;
        return data::load(&plan.schema, &files, &opts)
            .map(|l| l.dataset)
            .map_err(|e| e.to_string());
    };
    let tables: Vec<(&Table, String, Vec<usize>)> = [
        Some(contacts),
        setup.events.as_ref(),
        setup.accounts.as_ref(),
        setup.changes.as_ref(),
    ]
    .into_iter()
    .flatten()
    .map(|t| {
        let (csv, lines) = csv_text(t);
        (t, csv, lines)
    })
    .collect();
    let source = |i: usize| {
        tables
            .get(i)
            .map(|(_, csv, _)| Source::new(format!("#{i}"), data::Format::Csv, csv.as_bytes()))
    };
    // the tables present, in the order of `tables`
    let mut next = 1;
    let mut take = |present: bool| {
        if present {
            next += 1;
            source(next - 1)
        } else {
            None
        }
    };
    let sources = Sources {
        contacts: source(0).ok_or("no contacts")?,
        events: take(setup.events.is_some()),
        accounts: take(setup.accounts.is_some()),
        changes: take(setup.changes.is_some()),
    };
    // messages name a table by its index; point them at the test file's lines instead
    let at_line = |file: &str, l: u64| -> String {
        let line = file
            .strip_prefix('#')
            .and_then(|i| i.parse::<usize>().ok())
            .and_then(|i| tables.get(i))
            .and_then(|(t, _, lines)| {
                lines
                    .get((l as usize).saturating_sub(1))
                    .copied()
                    .or_else(|| t.lines.first().map(|(n, _)| *n))
            })
            .unwrap_or(line);
        format!("{name}:{line}")
    };
    data::load_readers(&plan.schema, sources, &opts)
        .map(|l| l.dataset)
        .map_err(|e| match e {
            DataError::BadRow(r) => {
                let column = r.column.map(|c| format!("{c}: ")).unwrap_or_default();
                format!("{}: {column}{}", at_line(&r.file, r.line), r.reason)
            }
            DataError::File {
                file,
                line,
                message,
            } => format!("{}: {message}", at_line(&file, line.unwrap_or(1))),
            DataError::Io { file, source } => format!("{}: {source}", at_line(&file, 1)),
        })
}

/// A table as CSV (cells trimmed, one record per line) and, per CSV line, its line in
/// the test file.
fn csv_text(t: &Table) -> (String, Vec<usize>) {
    let mut out = Vec::new();
    let mut lines = Vec::new();
    for (n, row) in &t.lines {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .trim(csv::Trim::All)
            .from_reader(row.as_bytes());
        let cells: Vec<String> = reader
            .records()
            .next()
            .and_then(Result::ok)
            .map(|r| r.iter().map(String::from).collect())
            .unwrap_or_default();
        let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
        if w.write_record(&cells).is_ok()
            && let Ok(bytes) = w.into_inner()
        {
            out.extend(bytes);
            lines.push(*n);
        }
    }
    (String::from_utf8(out).unwrap_or_default(), lines)
}

/// Compares one expectation with the results: `Ok(None)` when it holds, a failure when
/// it does not, `Err` when it cannot be checked (no such contact or definition).
fn compare(results: &Results, e: &Expect) -> Result<Option<Failure>, String> {
    let (table, what, id) = match &e.subject {
        Subject::Contact(id) => (&results.contacts, "contact", id),
        Subject::Account(id) => (&results.accounts, "account", id),
    };
    let row = table.row(id).ok_or_else(|| {
        format!(
            "no {what} `{id}` in the test data{}",
            super::super::did_you_mean(id, table.ids.iter().map(String::as_str))
        )
    })?;
    let column = table.column(&e.name).ok_or_else(|| {
        format!(
            "no {what} definition `{}` in the rules{}",
            e.name,
            super::super::did_you_mean(&e.name, table.columns.iter().map(|c| c.name.as_str()))
        )
    })?;
    let value = row.get(&e.name);
    let value = value.as_ref();
    let shown = |v: Option<&Value>| match v {
        None => "missing".to_string(),
        Some(Value::Number(n)) => number(*n),
        Some(v) => cell(v),
    };
    let numeric = value.and_then(|v| match v {
        Value::Number(n) => Some(*n),
        Value::Int(i) => Some(*i as f64),
        _ => None,
    });
    let n = &e.name;
    let (held, expected, actual) = match &e.claim {
        Claim::Member(want) => {
            if column.kind != ColumnKind::Segment {
                return Err(format!(
                    "`{n}` is not a segment; write `expect {id} {n} = VALUE`"
                ));
            }
            let is_in = row.in_segment(n);
            let say = |b: bool| {
                if b {
                    format!("in {n}")
                } else {
                    format!("not in {n}")
                }
            };
            (is_in == *want, say(*want), say(is_in))
        }
        Claim::Number {
            value: want,
            tolerance,
        } => {
            let held = numeric.is_some_and(|a| (a - want).abs() <= tolerance + 1e-9);
            let tol = if *tolerance > 0.0 {
                format!(" ± {}", number(*tolerance))
            } else {
                String::new()
            };
            (
                held,
                format!("{n} = {}{tol}", number(*want)),
                format!("{n} = {}", shown(value)),
            )
        }
        Claim::Range(lo, hi) => {
            let held = numeric.is_some_and(|a| a >= *lo - 1e-9 && a <= *hi + 1e-9);
            (
                held,
                format!("{n} in {}..{}", number(*lo), number(*hi)),
                format!("{n} = {}", shown(value)),
            )
        }
        Claim::Label(want) => {
            if column.kind == ColumnKind::Segment {
                return Err(format!(
                    "`{n}` is a segment; write `expect {id} in {n}` or `expect {id} not in {n}`"
                ));
            }
            let actual = shown(value);
            (
                value.is_some() && actual == *want,
                format!("{n} = {want}"),
                format!("{n} = {actual}"),
            )
        }
        Claim::Missing => (
            value.is_none(),
            format!("{n} is missing"),
            format!("{n} = {}", shown(value)),
        ),
    };
    Ok((!held).then(|| Failure {
        line: e.line,
        expectation: e.text.clone(),
        expected,
        actual,
        at: String::new(),
        trace: None,
    }))
}

/// The `explain` trace of the expectation's definition for its contact (for an account,
/// through one of the account's contacts).
fn trace(plan: &Plan, data: &Dataset, at: DateTime<Utc>, e: &Expect) -> Option<Explanation> {
    let ev = crate::engine::columnar::evaluate_dataset(plan, data, at).ok()?;
    let (ctx, st) = (&ev.ctx, &ev.state);
    let (contact, account_level) = match &e.subject {
        Subject::Contact(id) => (data.contacts.position(id)?, false),
        Subject::Account(id) => {
            let a = data.accounts.iter().position(|r| &r.id == id)?;
            let c = ctx.account_of.iter().position(|x| *x == Some(a as u32))?;
            (c, true)
        }
    };
    let x = explain(ctx, st, contact as u32);
    let list = if account_level {
        x.account_results
    } else {
        x.results
    };
    list.into_iter()
        .find(|r| super::super::explain::name_of(r) == e.name)
}
