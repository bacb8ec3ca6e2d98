//! `funnel run`: evaluate a rule set over contact data and write the results, the
//! membership lists and a summary a marketer can read.

use super::output::Outputs;
use super::rules::{DataArgs, OutFormat, PlanArgs, data_files, load_data, now, out_format, plan};
use super::summary::{RunSummary, TableSummary};
use super::{ColorChoice, Exit, Stream, UsageError, emit};
use crate::engine::columnar::{self, Keep};
use crate::engine::data::Rejected;
use crate::engine::timings::timed;
use crate::engine::{Results, Table};
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
    timed("writing", || {
        write_outputs(args, &results, &loaded.rejected)
    })?;
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
        if results.contacts.columns.is_empty() && results.accounts.columns.is_empty() {
            emit(
                Stream::Stderr,
                "note: the rules define nothing to compute (no segment, score, value, tier or \
                 persona): only the ids were written\n",
            );
        }
        match args.summary {
            SummaryFormat::Human => emit(
                Stream::Stderr,
                &crate::diag::escape::lines(&summary.human()),
            ),
            SummaryFormat::Json => emit(
                Stream::Stdout,
                &(serde_json::to_string_pretty(&summary).unwrap_or_default() + "\n"),
            ),
        }
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
        write_table(
            &mut out,
            path,
            out_format(path, args.format)?,
            &results.contacts,
        )?;
    }
    if let Some(path) = &args.accounts_output {
        write_table(
            &mut out,
            path,
            out_format(path, args.format)?,
            &results.accounts,
        )?;
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
            let written = if args.format == Some(OutFormat::Ndjson) {
                results.contacts.write_ndjson(&mut out)
            } else {
                results.contacts.write_csv(&mut out)
            };
            let _ = written.and_then(|()| out.flush());
        }
    }
    Ok(())
}

/// Loads the data (only the attributes and fields the plan reads; events into
/// columns) and runs the plan. Also gives the number of events.
fn evaluate(
    plan: &crate::plan::Plan,
    files: &crate::engine::data::DataFiles,
    args: &Args,
) -> Result<(crate::engine::data::Loaded, usize, Results), UsageError> {
    let now = now(&args.data);
    let (loaded, events) = load_data(plan, files, args.skip_bad_rows)?;
    let n_events = events.len();
    let progress = !args.quiet && n_events > 1_000_000 && std::io::stderr().is_terminal();
    let results = columnar::evaluate(plan, &loaded.dataset, events, now, Keep::Nodes, progress)
        .map_err(|e| UsageError(e.to_string()))?
        .results();
    Ok((loaded, n_events, results))
}

fn write_table(
    out: &mut Outputs,
    path: &Path,
    format: OutFormat,
    table: &Table,
) -> Result<(), UsageError> {
    if format == OutFormat::Parquet {
        return write_parquet(out, path, table);
    }
    out.file(path, |w| {
        if format == OutFormat::Ndjson {
            table.write_ndjson(w)
        } else {
            table.write_csv(w)
        }
    })
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
