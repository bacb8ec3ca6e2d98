//! `funnel run`: evaluate a rule set over contact data and write the results, the
//! membership lists and a summary a marketer can read.

use super::rules::{DataArgs, OutFormat, PlanArgs, data_files, load_data, now, out_format, plan};
use super::{ColorChoice, Exit, Stream, UsageError, emit};
use crate::engine::atomic::write_atomic;
use crate::engine::columnar;
use crate::engine::data::Rejected;
use crate::engine::results::csv_field;
use crate::engine::timings::timed;
use crate::engine::{Column, ColumnKind, Results, Table};
use crate::plan::display::number;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Arguments of `funnel run`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub source: PlanArgs,
    #[command(flatten)]
    pub data: DataArgs,
    /// Where to write the contacts' results, `.csv`, `.ndjson`/`.jsonl` or `.parquet`
    /// [default: stdout].
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Where to write the accounts' results, `.csv`, `.ndjson`/`.jsonl` or `.parquet`.
    #[arg(long, value_name = "FILE")]
    pub accounts_output: Option<PathBuf>,
    /// The format of the results, whatever the files are called [default: from each
    /// file's extension; CSV on stdout].
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<OutFormat>,
    /// A folder to write one membership list per segment, tier and persona into.
    #[arg(long, value_name = "DIR")]
    pub lists: Option<PathBuf>,
    /// Skip bad data rows instead of stopping, writing each with its reason to the
    /// rejects file.
    #[arg(long)]
    pub skip_bad_rows: bool,
    /// The rejects file for --skip-bad-rows.
    #[arg(long, value_name = "FILE", default_value = "rejects.csv")]
    pub rejects: PathBuf,
    /// Print no summary.
    #[arg(short, long, conflicts_with = "summary")]
    pub quiet: bool,
    /// The summary: `human` on stderr, or `json` on stdout (with `-o`, so that stdout is
    /// free of results).
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = SummaryFormat::Human)]
    pub summary: SummaryFormat,
    /// The engine; both give the same results.
    #[arg(long, value_enum, default_value_t = Engine::Columnar)]
    pub engine: Engine,
}

/// Which engine runs the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Engine {
    /// Events in columns, every core (the default)
    Columnar,
    /// The straightforward engine the columnar one is tested against
    Reference,
}

/// How the summary is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SummaryFormat {
    /// Text for people, on stderr
    Human,
    /// One JSON document on stdout (needs `-o`)
    Json,
}

/// Runs `funnel run`.
pub fn run(args: &Args, color: ColorChoice) -> Result<Exit, UsageError> {
    let plan = match plan(&args.source, color)? {
        Ok(p) => p,
        Err(exit) => return Ok(exit),
    };
    let files = data_files(&args.data)?;
    for out in [&args.output, &args.accounts_output].into_iter().flatten() {
        out_format(out, args.format)?;
    }
    if args.format == Some(OutFormat::Parquet) && args.output.is_none() {
        return Err(UsageError(
            "Parquet is not written to stdout: give `-o FILE` with `--format parquet`".into(),
        ));
    }
    if args.summary == SummaryFormat::Json && args.output.is_none() {
        return Err(UsageError(
            "`--summary json` is written to stdout, where the results go without `-o`: \
             give `-o FILE` for the results"
                .into(),
        ));
    }
    let (loaded, events, results) = evaluate(&plan, &files, args)?;
    if args.skip_bad_rows && !loaded.rejected.is_empty() {
        Rejected::write_csv(&loaded.rejected, &args.rejects)
            .map_err(|e| UsageError(format!("cannot write `{}`: {e}", args.rejects.display())))?;
    }
    timed("writing", || write_outputs(args, &results))?;
    if !args.quiet {
        let d = &loaded.dataset;
        let summary = RunSummary {
            as_of: results
                .now
                .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
            contacts: d.contacts.len(),
            events,
            accounts: d.accounts.len(),
            skipped_rows: args.skip_bad_rows.then_some(loaded.rejected.len()),
            rejects: (args.skip_bad_rows && !loaded.rejected.is_empty())
                .then(|| args.rejects.display().to_string()),
            contact_results: TableSummary::of(&results.contacts),
            account_results: (!results.accounts.columns.is_empty())
                .then(|| TableSummary::of(&results.accounts)),
        };
        match args.summary {
            SummaryFormat::Human => emit(Stream::Stderr, &summary.human()),
            SummaryFormat::Json => emit(
                Stream::Stdout,
                &(serde_json::to_string_pretty(&summary).unwrap_or_default() + "\n"),
            ),
        }
    }
    crate::engine::free::drop_later((loaded, results));
    Ok(Exit::Clean)
}

/// Writes the contacts' results (to stdout without `--output`), the accounts' results
/// and the membership lists that the flags ask for.
fn write_outputs(args: &Args, results: &Results) -> Result<(), UsageError> {
    match &args.output {
        Some(path) => write_table(path, out_format(path, args.format)?, &results.contacts)?,
        None => {
            // Like `emit`: a write error (a closed pipe) has no one left to tell.
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            let written = if args.format == Some(OutFormat::Ndjson) {
                results.contacts.write_ndjson(&mut out)
            } else {
                results.contacts.write_csv(&mut out)
            };
            let _ = written.and_then(|()| out.flush());
        }
    }
    if let Some(path) = &args.accounts_output {
        write_table(path, out_format(path, args.format)?, &results.accounts)?;
    }
    if let Some(dir) = &args.lists {
        write_lists(dir, results)?;
    }
    Ok(())
}

/// Loads the data and runs the plan: with the columnar engine (events loaded into
/// columns), or with `engine::run` when the plan needs it (see
/// `engine::columnar::supports`) or `--engine reference` says so. Also gives the
/// number of events.
fn evaluate(
    plan: &crate::plan::Plan,
    files: &crate::engine::data::DataFiles,
    args: &Args,
) -> Result<(crate::engine::data::Loaded, usize, Results), UsageError> {
    let now = now(&args.data);
    let usage = |e: &dyn std::fmt::Display| UsageError(e.to_string());
    if args.engine == Engine::Columnar && columnar::supports(plan) {
        let opts = crate::engine::data::LoadOptions {
            skip_bad_rows: args.skip_bad_rows,
        };
        let (loaded, events) =
            timed("loading", || columnar::load(plan, files, &opts)).map_err(|e| usage(&e))?;
        let n_events = events.len();
        let progress = !args.quiet && n_events > 1_000_000 && std::io::stderr().is_terminal();
        if let Some(results) = columnar::run_columns(plan, &loaded.dataset, events, now, progress)
            .map_err(|e| usage(&e))?
        {
            return Ok((loaded, n_events, results));
        }
    }
    let loaded = load_data(plan, files, args.skip_bad_rows)?;
    let results = crate::engine::run(plan, &loaded.dataset, now).map_err(|e| usage(&e))?;
    let events = loaded.dataset.events.len();
    Ok((loaded, events, results))
}

fn write_table(path: &Path, format: OutFormat, table: &Table) -> Result<(), UsageError> {
    if format == OutFormat::Parquet {
        return write_parquet(path, table);
    }
    write_atomic(path, |w| {
        if format == OutFormat::Ndjson {
            table.write_ndjson(w)
        } else {
            table.write_csv(w)
        }
    })
    .map_err(|e| UsageError(format!("cannot write `{}`: {e}", path.display())))
}

/// One CSV of ids per segment (`segment.NAME.csv`), tier band (`tier.NAME.BAND.csv`)
/// and persona (`persona.NAME.PERSONA.csv`); account lists are prefixed `account.`.
/// The files are written in parallel, each atomically.
fn write_lists(dir: &Path, results: &Results) -> Result<(), UsageError> {
    use rayon::prelude::*;
    std::fs::create_dir_all(dir)
        .map_err(|e| UsageError(format!("cannot create `{}`: {e}", dir.display())))?;
    let columns: Vec<_> = [("", &results.contacts), ("account.", &results.accounts)]
        .into_iter()
        .flat_map(|(prefix, table)| table.columns.iter().map(move |c| (prefix, table, c)))
        .collect();
    let files: Vec<_> = columns
        .into_par_iter()
        .flat_map_iter(|(prefix, table, col)| {
            lists(prefix, col)
                .into_iter()
                .map(move |(f, rows)| (f, table, rows))
        })
        .collect();
    files.into_par_iter().try_for_each(|(file, table, rows)| {
        let path = dir.join(file);
        let mut text = b"id\n".to_vec();
        for id in rows.iter().filter_map(|&r| table.ids.get(r)) {
            csv_field(&mut text, id);
            text.push(b'\n');
        }
        write_atomic(&path, |w| w.write_all(&text))
            .map_err(|e| UsageError(format!("cannot write `{}`: {e}", path.display())))
    })
}

/// The membership lists of one column: file name and member rows; tier bands and
/// personas in name order, each only when it has members.
fn lists(prefix: &str, col: &Column) -> Vec<(String, Vec<usize>)> {
    let kind = match col.kind {
        ColumnKind::Segment => {
            let rows = (0..col.len()).filter(|&i| col.is_true(i)).collect();
            return vec![(format!("{prefix}segment.{}.csv", col.name), rows)];
        }
        ColumnKind::Tier => "tier",
        ColumnKind::Persona => "persona",
        ColumnKind::Score | ColumnKind::Value => return Vec::new(),
    };
    let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, label) in col.labels().enumerate() {
        if let Some(l) = label {
            groups.entry(l).or_default().push(i);
        }
    }
    groups
        .into_iter()
        .map(|(n, rows)| (format!("{prefix}{kind}.{}.{n}.csv", col.name), rows))
        .collect()
}

/// What `run` reports after a run: the data's size and each table's summary.
#[derive(Debug, Serialize)]
pub struct RunSummary {
    /// The evaluation moment (RFC 3339).
    pub as_of: String,
    pub contacts: usize,
    pub events: usize,
    pub accounts: usize,
    /// Bad rows skipped (with `--skip-bad-rows`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped_rows: Option<usize>,
    /// The file the skipped rows were written to, if any were.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejects: Option<String>,
    pub contact_results: TableSummary,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_results: Option<TableSummary>,
}

/// One results table in numbers: segment sizes, each score's min / median / max, the
/// size of each tier band and persona.
#[derive(Debug, Serialize)]
pub struct TableSummary {
    pub rows: usize,
    pub segments: Vec<Count>,
    pub scores: Vec<Spread>,
    pub tiers: Vec<Groups>,
    pub personas: Vec<Groups>,
}

/// How many rows are in a segment, band or persona, and their share of all rows (%).
#[derive(Debug, Serialize)]
pub struct Count {
    pub name: String,
    pub members: usize,
    pub percent: f64,
}

/// A score's min / median / max (rounded as results are); `None` when no row has one.
#[derive(Debug, Serialize)]
pub struct Spread {
    pub name: String,
    pub min: Option<f64>,
    pub median: Option<f64>,
    pub max: Option<f64>,
}

/// A tier set's bands or a persona list's personas, in declaration order, then
/// `(none)` when some rows have none.
#[derive(Debug, Serialize)]
pub struct Groups {
    pub name: String,
    pub groups: Vec<Count>,
}

impl TableSummary {
    /// The summary of one results table.
    pub fn of(table: &Table) -> TableSummary {
        let rows = table.ids.len();
        let count = |name: &str, members: usize| Count {
            name: name.to_string(),
            members,
            percent: if rows == 0 {
                0.0
            } else {
                (members as f64 * 1000.0 / rows as f64).round() / 10.0
            },
        };
        let of_kind = |kind: ColumnKind| table.columns.iter().filter(move |c| c.kind == kind);
        let segments = of_kind(ColumnKind::Segment)
            .map(|c| count(&c.name, (0..c.len()).filter(|&i| c.is_true(i)).count()))
            .collect();
        let scores = of_kind(ColumnKind::Score)
            .map(|c| {
                let mut xs: Vec<f64> = c.numbers().flatten().collect();
                xs.sort_by(f64::total_cmp);
                let median = match xs.len() {
                    0 => None,
                    n if n % 2 == 1 => xs.get(n / 2).copied(),
                    n => Some(
                        (xs.get(n / 2 - 1).copied().unwrap_or(0.0)
                            + xs.get(n / 2).copied().unwrap_or(0.0))
                            / 2.0,
                    ),
                };
                let round = |x: Option<f64>| x.map(crate::engine::value::round_score);
                Spread {
                    name: c.name.clone(),
                    min: round(xs.first().copied()),
                    median: round(median),
                    max: round(xs.last().copied()),
                }
            })
            .collect();
        let groups = |c: &Column| {
            let mut counts: Vec<(String, usize)> =
                c.categories.iter().map(|k| (k.clone(), 0)).collect();
            counts.push(("(none)".to_string(), 0));
            for label in c.labels() {
                let key = label.unwrap_or("(none)");
                if let Some((_, n)) = counts.iter_mut().find(|(k, _)| k == key) {
                    *n += 1;
                }
            }
            counts.retain(|(k, n)| *n > 0 || k != "(none)");
            Groups {
                name: c.name.clone(),
                groups: counts.iter().map(|(k, n)| count(k, *n)).collect(),
            }
        };
        TableSummary {
            rows,
            segments,
            scores,
            tiers: of_kind(ColumnKind::Tier).map(groups).collect(),
            personas: of_kind(ColumnKind::Persona).map(groups).collect(),
        }
    }

    /// The summary as text for people; `what` names the rows (`contacts`).
    pub fn human(&self, what: &str) -> String {
        let names = self.segments.iter().map(|c| &c.name);
        let names = names.chain(self.scores.iter().map(|s| &s.name));
        let groups = self.tiers.iter().chain(&self.personas);
        let names =
            names
                .chain(groups.flat_map(|g| {
                    std::iter::once(&g.name).chain(g.groups.iter().map(|c| &c.name))
                }));
        let width = names.map(|n| n.chars().count()).max().unwrap_or(0).max(6) + 2;
        let line = |c: &Count| {
            format!(
                "  {:<width$}{:>8}  {:>5.1}%\n",
                c.name, c.members, c.percent
            )
        };
        let mut out = String::new();
        if !self.segments.is_empty() {
            out.push_str(&format!("\nsegments ({what})\n"));
            out.extend(self.segments.iter().map(line));
        }
        if !self.scores.is_empty() {
            out.push_str(&format!(
                "\nscores ({what})\n  {:<width$}{:>9} {:>9} {:>9}\n",
                "", "min", "median", "max"
            ));
            let show = |x: Option<f64>| x.map_or("-".to_string(), number);
            for s in &self.scores {
                out.push_str(&format!(
                    "  {:<width$}{:>9} {:>9} {:>9}\n",
                    s.name,
                    show(s.min),
                    show(s.median),
                    show(s.max)
                ));
            }
        }
        for (kind, list) in [("tiers", &self.tiers), ("personas", &self.personas)] {
            for g in list {
                out.push_str(&format!("\n{kind} {} ({what})\n", g.name));
                out.extend(g.groups.iter().map(line));
            }
        }
        out
    }
}

impl RunSummary {
    /// The summary as text for people.
    pub fn human(&self) -> String {
        let mut text = format!(
            "evaluated {} contacts, {} events, {} accounts as of {}\n",
            self.contacts, self.events, self.accounts, self.as_of
        );
        if let Some(n) = self.skipped_rows {
            text.push_str(&format!(
                "skipped {n} bad rows{}\n",
                self.rejects
                    .as_ref()
                    .map_or(String::new(), |f| format!(" (reasons in `{f}`)"))
            ));
        }
        text.push_str(&self.contact_results.human("contacts"));
        if let Some(a) = &self.account_results {
            text.push_str(&a.human("accounts"));
        }
        text
    }
}

/// Writes a results table as Parquet (see [`Table::to_parquet`]).
#[cfg(feature = "parquet")]
fn write_parquet(path: &Path, table: &Table) -> Result<(), UsageError> {
    let fail = |e: std::io::Error| UsageError(format!("cannot write `{}`: {e}", path.display()));
    let bytes = table.to_parquet().map_err(fail)?;
    write_atomic(path, |w| w.write_all(&bytes)).map_err(fail)
}

#[cfg(not(feature = "parquet"))]
fn write_parquet(path: &Path, _table: &Table) -> Result<(), UsageError> {
    Err(UsageError(format!(
        "cannot write `{}`: this Funnel was built without Parquet; rebuild with the `parquet` feature",
        path.display()
    )))
}
