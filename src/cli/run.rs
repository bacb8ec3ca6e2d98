//! `funnel run`: evaluate a rule set over contact data and write the results, the
//! membership lists and a summary a marketer can read.

use super::rules::{DataArgs, PlanArgs, data_files, is_ndjson, load_data, now, plan};
use super::{ColorChoice, Exit, Stream, UsageError, emit};
use crate::engine::atomic::write_atomic;
use crate::engine::data::Rejected;
use crate::engine::{Column, ColumnKind, Results, Table};
use crate::plan::display::number;
use crate::plan::types::Value;
use std::path::{Path, PathBuf};

/// Arguments of `funnel run`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub source: PlanArgs,
    #[command(flatten)]
    pub data: DataArgs,
    /// Where to write the contacts' results, `.csv` or `.ndjson` [default: CSV on stdout].
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Where to write the accounts' results, `.csv` or `.ndjson`.
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
}

/// Runs `funnel run`.
pub fn run(args: &Args, color: ColorChoice) -> Result<Exit, UsageError> {
    let plan = match plan(&args.source, color)? {
        Ok(p) => p,
        Err(exit) => return Ok(exit),
    };
    let files = data_files(&args.data)?;
    for out in [&args.output, &args.accounts_output].into_iter().flatten() {
        is_ndjson(out)?;
    }
    let loaded = load_data(&plan, &files, args.skip_bad_rows)?;
    if args.skip_bad_rows && !loaded.rejected.is_empty() {
        Rejected::write_csv(&loaded.rejected, &args.rejects)
            .map_err(|e| UsageError(format!("cannot write `{}`: {e}", args.rejects.display())))?;
    }
    let results = crate::engine::run(&plan, &loaded.dataset, now(&args.data))
        .map_err(|e| UsageError(e.to_string()))?;
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
        write_lists(dir, &results)?;
    }
    if !args.quiet {
        let d = &loaded.dataset;
        let mut text = format!(
            "evaluated {} contacts, {} events, {} accounts as of {}\n",
            d.contacts.len(),
            d.events.len(),
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

fn write_table(path: &Path, table: &Table) -> Result<(), UsageError> {
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
