//! `funnel run`: evaluate a rule set over contact data and write the results, the
//! membership lists and a summary a marketer can read.

use super::rules::{DataArgs, PlanArgs, data_files, is_ndjson, load_data, now, plan};
use super::{ColorChoice, Exit, Stream, UsageError, emit};
use crate::engine::atomic::write_atomic;
use crate::engine::columnar;
use crate::engine::data::Rejected;
use crate::engine::timings::timed;
use crate::engine::{Column, ColumnKind, Results, Table};
use crate::plan::display::number;
use crate::plan::types::Value;
use std::io::IsTerminal;
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
    if args.skip_bad_rows && !loaded.rejected.is_empty() {
        Rejected::write_csv(&loaded.rejected, &args.rejects)
            .map_err(|e| UsageError(format!("cannot write `{}`: {e}", args.rejects.display())))?;
    }
    timed("writing", || write_outputs(args, &results))?;
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
        emit(Stream::Stderr, &text);
    }
    Ok(Exit::Clean)
}

/// Writes the contacts' results (to stdout without `--output`), the accounts' results
/// and the membership lists that the flags ask for.
fn write_outputs(args: &Args, results: &Results) -> Result<(), UsageError> {
    match &args.output {
        Some(path) => write_table(path, &results.contacts)?,
        None => {
            let mut buf = Vec::new();
            results
                .contacts
                .write_csv(&mut buf)
                .map_err(|e| UsageError(e.to_string()))?;
            emit(Stream::Stdout, &String::from_utf8_lossy(&buf));
        }
    }
    if let Some(path) = &args.accounts_output {
        write_table(path, &results.accounts)?;
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

/// Whether a path names a Parquet file (`.parquet`).
fn is_parquet(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()) == Some("parquet")
}

fn write_table(path: &Path, table: &Table) -> Result<(), UsageError> {
    if is_parquet(path) {
        return write_parquet(path, table);
    }
    let ndjson = is_ndjson(path)?;
    write_atomic(path, |w| {
        if ndjson {
            table.write_ndjson(w)
        } else {
            table.write_csv(w)
        }
    })
    .map_err(|e| UsageError(format!("cannot write `{}`: {e}", path.display())))
}

/// One CSV of ids per segment (`segment.NAME.csv`), tier band (`tier.NAME.BAND.csv`)
/// and persona (`persona.NAME.PERSONA.csv`); account lists are prefixed `account.`.
fn write_lists(dir: &Path, results: &Results) -> Result<(), UsageError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| UsageError(format!("cannot create `{}`: {e}", dir.display())))?;
    for (prefix, table) in [("", &results.contacts), ("account.", &results.accounts)] {
        for col in &table.columns {
            for (file, ids) in lists(prefix, table, col) {
                let path = dir.join(file);
                write_atomic(&path, |w| {
                    writeln!(w, "id")?;
                    for id in &ids {
                        writeln!(w, "{}", csv_field(id))?;
                    }
                    Ok(())
                })
                .map_err(|e| UsageError(format!("cannot write `{}`: {e}", path.display())))?;
            }
        }
    }
    Ok(())
}

/// The membership lists of one column: file name and member ids.
fn lists<'t>(prefix: &str, table: &'t Table, col: &Column) -> Vec<(String, Vec<&'t str>)> {
    let members = |keep: &dyn Fn(&Value) -> bool| -> Vec<&'t str> {
        table
            .ids
            .iter()
            .zip(&col.values)
            .filter(|(_, v)| v.as_ref().is_some_and(keep))
            .map(|(id, _)| id.as_str())
            .collect()
    };
    let kind = match col.kind {
        ColumnKind::Segment => {
            return vec![(
                format!("{prefix}segment.{}.csv", col.name),
                members(&|v| *v == Value::Bool(true)),
            )];
        }
        ColumnKind::Tier => "tier",
        ColumnKind::Persona => "persona",
        ColumnKind::Score | ColumnKind::Value => return Vec::new(),
    };
    let mut names: Vec<&str> = col
        .values
        .iter()
        .flatten()
        .filter_map(|v| match v {
            Value::Text(t) => Some(t.as_str()),
            _ => None,
        })
        .collect();
    names.sort_unstable();
    names.dedup();
    names
        .into_iter()
        .map(|n| {
            (
                format!("{prefix}{kind}.{}.{n}.csv", col.name),
                members(&|v| matches!(v, Value::Text(t) if t == n)),
            )
        })
        .collect()
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
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
            let n = c
                .values
                .iter()
                .filter(|v| **v == Some(Value::Bool(true)))
                .count();
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
            let mut xs: Vec<f64> = c
                .values
                .iter()
                .flatten()
                .filter_map(crate::engine::value::as_f64)
                .collect();
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
        for v in &c.values {
            let key = match v {
                Some(Value::Text(t)) => t.as_str(),
                _ => "(none)",
            };
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

/// Writes a results table as Parquet: `id`, then one typed column per definition
/// (segments as booleans, scores as doubles, tiers and personas as text; a value
/// column takes its values' type, numbers when whole and fractional mix, else text).
#[cfg(feature = "parquet")]
fn write_parquet(path: &Path, table: &Table) -> Result<(), UsageError> {
    use crate::r#gen::parquet::ParquetSink;
    use crate::r#gen::table::{Cell, ColType, RowSink};
    let fail = |e: std::io::Error| UsageError(format!("cannot write `{}`: {e}", path.display()));
    let col_type = |c: &Column| {
        let mut ty = None;
        for v in c.values.iter().flatten() {
            let t = match v {
                Value::Int(_) | Value::Duration(_) => ColType::Int,
                Value::Number(_) => ColType::Num,
                Value::Bool(_) => ColType::Bool,
                Value::Timestamp(_) => ColType::Time,
                Value::Date(_) => ColType::Date,
                Value::Text(_) => ColType::Text,
            };
            ty = Some(match (ty, t) {
                (None, t) => t,
                (Some(a), b) if a == b => a,
                (Some(ColType::Int | ColType::Num), ColType::Int | ColType::Num) => ColType::Num,
                _ => ColType::Text,
            });
        }
        ty.unwrap_or(match c.kind {
            ColumnKind::Segment => ColType::Bool,
            ColumnKind::Score => ColType::Num,
            _ => ColType::Text,
        })
    };
    let mut columns = vec![("id".to_string(), ColType::Text)];
    columns.extend(table.columns.iter().map(|c| (c.name.clone(), col_type(c))));
    let mut sink = ParquetSink::new(Vec::new(), &columns).map_err(fail)?;
    let mut row = Vec::with_capacity(columns.len());
    for (i, id) in table.ids.iter().enumerate() {
        row.clear();
        row.push(Cell::Text(id.clone()));
        for (c, (_, ty)) in table.columns.iter().zip(columns.iter().skip(1)) {
            let v = c.values.get(i).and_then(Option::as_ref);
            row.push(match (v, ty) {
                (None, _) => Cell::Missing,
                (Some(Value::Int(x) | Value::Duration(x)), ColType::Int) => Cell::Int(*x),
                (Some(v), ColType::Num) => {
                    crate::engine::value::as_f64(v).map_or(Cell::Missing, Cell::Num)
                }
                (Some(Value::Bool(b)), ColType::Bool) => Cell::Bool(*b),
                (Some(Value::Timestamp(t)), ColType::Time) => Cell::Time(t.timestamp_micros()),
                (Some(Value::Date(d)), ColType::Date) => Cell::Date(*d),
                (Some(v), _) => Cell::Text(crate::engine::results::cell(v)),
            });
        }
        sink.row(&row).map_err(fail)?;
    }
    let bytes = sink.into_inner().map_err(fail)?;
    write_atomic(path, |w| w.write_all(&bytes)).map_err(fail)
}

#[cfg(not(feature = "parquet"))]
fn write_parquet(path: &Path, _table: &Table) -> Result<(), UsageError> {
    Err(UsageError(format!(
        "cannot write `{}`: this Funnel was built without Parquet; rebuild with the `parquet` feature",
        path.display()
    )))
}
