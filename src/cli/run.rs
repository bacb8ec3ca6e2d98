//! `funnel run`: evaluate a rule set over contact data and write the results, the
//! membership lists and a summary a marketer can read.

use super::output::Outputs;
use super::rules::{DataArgs, PlanArgs, data_files, is_ndjson, load_data, now, plan};
use super::{ColorChoice, Exit, Stream, UsageError, emit};
use crate::engine::columnar;
use crate::engine::data::Rejected;
use crate::engine::timings::timed;
use crate::engine::{ColumnKind, Results, Table};
use crate::plan::display::number;
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
    /// Where to write the contacts' results, `.csv`, `.ndjson` or `.parquet` [default: CSV
    /// on stdout].
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Where to write the accounts' results, `.csv`, `.ndjson` or `.parquet`.
    #[arg(long, value_name = "FILE")]
    pub accounts_output: Option<PathBuf>,
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
    #[arg(short, long)]
    pub quiet: bool,
    /// The engine: `columnar` (fast, the default) or `reference` (the straightforward
    /// one); both give the same results.
    #[arg(long, value_enum, default_value_t = Engine::Columnar)]
    pub engine: Engine,
}

/// Which engine runs the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Engine {
    Columnar,
    Reference,
}

/// Runs `funnel run`.
pub fn run(args: &Args, color: ColorChoice) -> Result<Exit, UsageError> {
    let plan = match plan(&args.source, color)? {
        Ok(p) => p,
        Err(exit) => return Ok(exit),
    };
    let files = data_files(&args.data)?;
    for out in [&args.output, &args.accounts_output].into_iter().flatten() {
        if !is_parquet(out) {
            is_ndjson(out)?;
        }
    }
    let (loaded, events, results) = evaluate(&plan, &files, args)?;
    timed("writing", || {
        write_outputs(args, &results, &loaded.rejected)
    })?;
    if !args.quiet {
        let d = &loaded.dataset;
        let mut text = format!(
            "evaluated {} contacts, {} events, {} accounts as of {}\n",
            d.contacts.len(),
            events,
            d.accounts.len(),
            results
                .now
                .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
        );
        if args.skip_bad_rows {
            text.push_str(&format!(
                "skipped {} bad rows{}\n",
                loaded.rejected.len(),
                if loaded.rejected.is_empty() {
                    String::new()
                } else {
                    format!(" (reasons in `{}`)", args.rejects.display())
                }
            ));
        }
        text.push_str(&summary(&results.contacts, "contacts"));
        if !results.accounts.columns.is_empty() {
            text.push_str(&summary(&results.accounts, "accounts"));
        }
        emit(Stream::Stderr, &crate::diag::escape::lines(&text));
    }
    crate::engine::free::drop_later((loaded, results));
    Ok(Exit::Clean)
}

/// Writes the contacts' results (to stdout without `--output`), the accounts' results,
/// the membership lists and the rejects file that the flags ask for: all the files, or
/// (when one cannot be written) none of them. A clean run with `--skip-bad-rows`
/// removes an earlier run's rejects file.
fn write_outputs(args: &Args, results: &Results, rejected: &[Rejected]) -> Result<(), UsageError> {
    let mut out = Outputs::new();
    if args.skip_bad_rows {
        if rejected.is_empty() {
            out.remove(&args.rejects);
        } else {
            out.file(&args.rejects, |w| Rejected::to_csv(rejected, w))?;
        }
    }
    if let Some(path) = &args.output {
        write_table(&mut out, path, &results.contacts)?;
    }
    if let Some(path) = &args.accounts_output {
        write_table(&mut out, path, &results.accounts)?;
    }
    if let Some(dir) = &args.lists {
        out.lists(dir, results)?;
    }
    out.commit()?;
    match &args.output {
        Some(_) => {}
        None => {
            // Like `emit`: a write error (a closed pipe) has no one left to tell.
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            let _ = results
                .contacts
                .write_csv(&mut out)
                .and_then(|()| out.flush());
        }
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

/// Whether a path names a Parquet file (`.parquet`).
fn is_parquet(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()) == Some("parquet")
}

fn write_table(out: &mut Outputs, path: &Path, table: &Table) -> Result<(), UsageError> {
    if is_parquet(path) {
        return write_parquet(out, path, table);
    }
    let ndjson = is_ndjson(path)?;
    out.file(path, |w| {
        if ndjson {
            table.write_ndjson(w)
        } else {
            table.write_csv(w)
        }
    })
}

/// Sizes of segments, tiers and personas, and each score's min / median / max.
pub fn summary(table: &Table, what: &str) -> String {
    let total = table.ids.len();
    let share = |n: usize| {
        if total == 0 {
            0.0
        } else {
            n as f64 * 100.0 / total as f64
        }
    };
    let width = table
        .columns
        .iter()
        .flat_map(|c| std::iter::once(&c.name).chain(&c.categories))
        .map(|n| n.chars().count())
        .max()
        .unwrap_or(0)
        .max(6)
        + 2;
    let mut out = String::new();
    let segments: Vec<_> = table
        .columns
        .iter()
        .filter(|c| c.kind == ColumnKind::Segment)
        .collect();
    if !segments.is_empty() {
        out.push_str(&format!("\nsegments ({what})\n"));
        for c in segments {
            let n = (0..c.len()).filter(|&i| c.is_true(i)).count();
            out.push_str(&format!("  {:<width$}{n:>8}  {:>5.1}%\n", c.name, share(n)));
        }
    }
    let scores: Vec<_> = table
        .columns
        .iter()
        .filter(|c| c.kind == ColumnKind::Score)
        .collect();
    if !scores.is_empty() {
        out.push_str(&format!(
            "\nscores ({what})\n  {:<width$}{:>9} {:>9} {:>9}\n",
            "", "min", "median", "max"
        ));
        for c in scores {
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
            let show = |x: Option<f64>| {
                x.map_or("-".to_string(), |x| {
                    number(crate::engine::value::round_score(x))
                })
            };
            out.push_str(&format!(
                "  {:<width$}{:>9} {:>9} {:>9}\n",
                c.name,
                show(xs.first().copied()),
                show(median),
                show(xs.last().copied())
            ));
        }
    }
    for c in table
        .columns
        .iter()
        .filter(|c| matches!(c.kind, ColumnKind::Tier | ColumnKind::Persona))
    {
        let kind = if c.kind == ColumnKind::Tier {
            "tiers"
        } else {
            "personas"
        };
        out.push_str(&format!("\n{kind} {} ({what})\n", c.name));
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
        for (k, n) in counts {
            out.push_str(&format!("  {:<width$}{n:>8}  {:>5.1}%\n", k, share(n)));
        }
    }
    out
}

/// Writes a results table as Parquet (see [`Table::to_parquet`]).
#[cfg(feature = "parquet")]
fn write_parquet(out: &mut Outputs, path: &Path, table: &Table) -> Result<(), UsageError> {
    let bytes = table
        .to_parquet()
        .map_err(|e| UsageError(format!("cannot write `{}`: {e}", path.display())))?;
    out.file(path, |w| w.write_all(&bytes))
}

#[cfg(not(feature = "parquet"))]
fn write_parquet(_out: &mut Outputs, path: &Path, _table: &Table) -> Result<(), UsageError> {
    Err(UsageError(format!(
        "cannot write `{}`: this Funnel was built without Parquet; rebuild with the `parquet` feature",
        path.display()
    )))
}
