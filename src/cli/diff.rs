//! `funnel diff`: run two versions of a rule set over the same data and say who enters
//! and leaves each segment, tier and persona, how scores shift and why.

use super::rules::{DataArgs, PlanArgs, data_files, load_data, now, plan};
use super::{ColorChoice, Exit, Stream, UsageError, emit};
use crate::diff::{Diff, Side, diff, render};
use crate::engine::columnar;
use crate::engine::data::{DataFiles, LoadOptions};
use crate::engine::timings::timed;
use crate::plan::Plan;
use crate::syntax::loader::io_reason;
use chrono::{DateTime, Utc};
use clap::ValueEnum;
use std::path::{Path, PathBuf};

/// Arguments of `funnel diff`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The old version: a rule file, or a folder of them.
    #[arg(value_name = "OLD")]
    pub old: PathBuf,
    /// The new version: a rule file, or a folder (files are paired by relative path).
    #[arg(value_name = "NEW")]
    pub new: PathBuf,
    #[command(flatten)]
    pub data: DataArgs,
    /// How to write the differences.
    #[arg(long, value_enum, default_value_t = DiffFormat::Human)]
    pub format: DiffFormat,
    /// Exit with 1 when anything differs — a definition, a member, a score — like
    /// `git diff --exit-code`, to fail a CI step on a change.
    #[arg(long)]
    pub exit_code: bool,
}

/// Output formats of `funnel diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// Text for a terminal.
    Human,
    /// One JSON document.
    Json,
    /// Markdown for a pull request comment.
    Markdown,
}

/// The entry files to compare: (name, old path, new path); a missing side is `None`.
type Pairs = Vec<(String, Option<PathBuf>, Option<PathBuf>)>;

fn pairs(old: &Path, new: &Path) -> Result<Pairs, UsageError> {
    match (old.is_dir(), new.is_dir()) {
        (false, false) => Ok(vec![(
            crate::syntax::loader::display_name(new),
            Some(old.to_path_buf()),
            Some(new.to_path_buf()),
        )]),
        (true, true) => {
            let (a, b) = (funnel_files(old)?, funnel_files(new)?);
            let mut names: Vec<&PathBuf> = a.iter().chain(&b).collect();
            names.sort();
            names.dedup();
            Ok(names
                .into_iter()
                .map(|rel| {
                    (
                        rel.display().to_string(),
                        a.contains(rel).then(|| old.join(rel)),
                        b.contains(rel).then(|| new.join(rel)),
                    )
                })
                .collect())
        }
        _ => Err(UsageError(format!(
            "`{}` and `{}` must both be rule files or both be folders",
            old.display(),
            new.display()
        ))),
    }
}

/// Every `.funnel` file under a folder, relative to it.
fn funnel_files(dir: &Path) -> Result<Vec<PathBuf>, UsageError> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d)
            .map_err(|e| UsageError(format!("cannot read `{}`: {}", d.display(), io_reason(&e))))?;
        for entry in entries.flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "funnel")
                && let Ok(rel) = p.strip_prefix(dir)
            {
                out.push(rel.to_path_buf());
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The plan of one side of an entry (`None` when the side does not exist or has no
/// outputs); `Err(exit)` when its rules have errors.
fn side_plan(
    path: Option<&PathBuf>,
    color: ColorChoice,
) -> Result<Result<Option<Plan>, Exit>, UsageError> {
    let Some(path) = path else {
        return Ok(Ok(None));
    };
    let args = PlanArgs {
        rules: Some(path.clone()),
        plan: None,
    };
    Ok(plan(&args, color)?.map(|p| p.nodes.iter().any(|n| n.output).then_some(p)))
}

/// Both sides of an entry evaluated: over one load of the data when they share a
/// schema (what either reads), else each over its own.
fn evaluate_pair(
    old: Option<Plan>,
    new: Option<Plan>,
    files: &DataFiles,
    at: DateTime<Utc>,
) -> Result<(Side, Side), UsageError> {
    let engine = |e: crate::engine::EngineError| UsageError(e.to_string());
    let data = |e: crate::engine::data::DataError| UsageError(e.to_string());
    let opts = LoadOptions::default();
    match (old, new) {
        (Some(a), Some(b)) if a.schema == b.schema => {
            let (loaded, events) =
                timed("loading", || columnar::load_for(&a, &[&b], files, &opts)).map_err(data)?;
            let a = Side::evaluate(a, &loaded.dataset, events.clone(), at).map_err(engine)?;
            let b = Side::evaluate(b, &loaded.dataset, events, at).map_err(engine)?;
            Ok((a, b))
        }
        (a, b) => {
            let one = |p: Option<Plan>| match p {
                None => Ok(Side::absent(at)),
                Some(p) => {
                    let (loaded, events) = load_data(&p, files, false)?;
                    Side::evaluate(p, &loaded.dataset, events, at).map_err(engine)
                }
            };
            Ok((one(a)?, one(b)?))
        }
    }
}

/// Runs `funnel diff`.
pub fn run(args: &Args, color: ColorChoice) -> Result<Exit, UsageError> {
    let files = data_files(&args.data)?;
    let at = now(&args.data);
    let mut entries: Vec<(String, Diff)> = Vec::new();
    for (name, old, new) in pairs(&args.old, &args.new)? {
        let a = match side_plan(old.as_ref(), color)? {
            Ok(p) => p,
            Err(exit) => return Ok(exit),
        };
        let b = match side_plan(new.as_ref(), color)? {
            Ok(p) => p,
            Err(exit) => return Ok(exit),
        };
        if a.is_none() && b.is_none() {
            continue;
        }
        let (a, b) = evaluate_pair(a, b, &files, at)?;
        entries.push((name, diff(&a, &b)));
    }
    let text = match args.format {
        DiffFormat::Human => render::human(&entries, color.enabled_for(Stream::Stdout)),
        DiffFormat::Json => render::json(&entries),
        DiffFormat::Markdown => render::markdown(&entries),
    };
    emit(Stream::Stdout, &text);
    if args.exit_code && entries.iter().any(|(_, d)| differs(d)) {
        return Ok(Exit::Problems);
    }
    Ok(Exit::Clean)
}

/// Whether a comparison found any difference: a definition added, removed, renamed or
/// changed, a row entering or leaving a group, a score that moved.
fn differs(d: &Diff) -> bool {
    let defs = &d.definitions;
    !(defs.added.is_empty()
        && defs.removed.is_empty()
        && defs.renamed.is_empty()
        && defs.changed.is_empty()
        && d.moves.is_empty()
        && d.scores.is_empty())
}
