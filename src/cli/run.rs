//! `funnel run`: evaluate a rule set over contact data and write the results, the
//! membership lists and a summary a marketer can read.

use super::rules::{DataArgs, OutFormat, PlanArgs, data_files, load_data, now, out_format, plan};
use super::summary::{RunSummary, TableSummary};
use super::{ColorChoice, Exit, Stream, UsageError, emit};
use crate::engine::atomic::write_atomic;
use crate::engine::columnar::{self, Keep};
use crate::engine::data::Rejected;
use crate::engine::results::csv_field;
use crate::engine::timings::timed;
use crate::engine::{Column, ColumnKind, Results, Table};
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
        if results.contacts.columns.is_empty() && results.accounts.columns.is_empty() {
            emit(
                Stream::Stderr,
                "note: the rules define nothing to compute (no segment, score, value, tier or \
                 persona): only the ids were written\n",
            );
        }
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
