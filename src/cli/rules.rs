//! Shared by `compile`, `run` and `explain`: a plan from a rule file (checked, with
//! diagnostics on failure) or from a compiled plan file; data and `--as-of` flags.

use super::{ColorChoice, Exit, Stream, UsageError, emit};
use crate::check;
use crate::diag::render::{Format, Summary, render};
use crate::engine::columnar::{self, EventColumns};
use crate::engine::data::{self, DataFiles, LoadOptions};
use crate::engine::timings::timed;
use crate::plan::Plan;
use crate::syntax::loader::io_reason;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use std::path::{Path, PathBuf};

/// Where the plan comes from: one of a rule file and a plan file.
#[derive(Debug, Clone, clap::Args)]
#[group(required = true, multiple = false)]
pub struct PlanArgs {
    /// The rule file (with its `use` imports); `-` reads the rules from stdin.
    #[arg(value_name = "RULES")]
    pub rules: Option<PathBuf>,
    /// A plan compiled with `funnel compile`, instead of RULES.
    #[arg(long, value_name = "FILE", conflicts_with = "rules")]
    pub plan: Option<PathBuf>,
}

/// Where the data comes from.
#[derive(Debug, Clone, clap::Args)]
pub struct DataArgs {
    /// A folder with `contacts`, and optionally `events`, `accounts` and `changes`
    /// files (`.csv`, `.ndjson`, `.jsonl` or `.parquet`).
    #[arg(long, value_name = "DIR", required_unless_present = "contacts")]
    pub data: Option<PathBuf>,
    /// The contacts file (instead of --data).
    #[arg(long, value_name = "FILE", conflicts_with = "data")]
    pub contacts: Option<PathBuf>,
    /// The events file (with --contacts).
    #[arg(long, value_name = "FILE", requires = "contacts")]
    pub events: Option<PathBuf>,
    /// The accounts file (with --contacts).
    #[arg(long, value_name = "FILE", requires = "contacts")]
    pub accounts: Option<PathBuf>,
    /// The attribute change log (with --contacts).
    #[arg(long, value_name = "FILE", requires = "contacts")]
    pub changes: Option<PathBuf>,
    /// The moment to evaluate at: RFC 3339, `YYYY-MM-DD HH:MM:SS` (UTC) or a date
    /// (00:00 UTC) [default: now].
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub as_of: Option<DateTime<Utc>>,
}

/// Parses `--as-of`.
pub fn parse_time(s: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    for f in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return Ok(t.and_utc());
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(crate::engine::time::midnight(d));
    }
    Err(format!(
        "`{s}` is not a time; expected RFC 3339 like `2026-11-20T09:00:00Z`, `2026-11-20 09:00:00` or `2026-11-20`"
    ))
}

/// The plan: compiled from the rules (diagnostics printed; `Err(Exit::Problems)` on
/// errors) or read from a plan file.
pub fn plan(args: &PlanArgs, color: ColorChoice) -> Result<Result<Plan, Exit>, UsageError> {
    if let Some(path) = &args.plan {
        let text = crate::limits::read_file(path, crate::limits::PLAN_BYTES).map_err(|e| {
            UsageError(format!(
                "cannot read `{}`: {}",
                path.display(),
                io_reason(&e)
            ))
        })?;
        return Plan::from_json(&text)
            .map(Ok)
            .map_err(|e| UsageError(format!("`{}`: {e}", path.display())));
    }
    let Some(rules) = &args.rules else {
        return Err(UsageError("give a rule file or `--plan FILE`".into()));
    };
    let loaded = load_rules(rules)?;
    let checked = check::check(&loaded);
    if !checked.diagnostics.is_empty() {
        let summary = Summary::of(&checked.diagnostics, loaded.sources.iter().count());
        let text = render(
            Format::Human,
            &checked.diagnostics,
            &loaded.sources,
            summary,
            color.enabled_for(Stream::Stderr),
        );
        emit(Stream::Stderr, &text);
    }
    Ok(match checked.program {
        Some(program) => Ok(crate::plan::lower(&program)),
        None => Err(Exit::Problems),
    })
}

/// Loads a rule file and its imports; imports may not leave the default root (the
/// current folder if the file is inside it, else the file's folder). `-` reads the
/// rules from stdin, their imports relative to the current folder.
pub fn load_rules(rules: &Path) -> Result<crate::syntax::Loaded, UsageError> {
    let cwd = std::env::current_dir()
        .map_err(|e| UsageError(format!("cannot read the current folder: {}", io_reason(&e))))?;
    if rules.as_os_str() == "-" {
        return load_stdin(&cwd, &cwd);
    }
    let root = super::check::default_root(rules, &cwd);
    crate::syntax::load_paths(rules, &root).map_err(|e| {
        UsageError(format!(
            "cannot read `{}`: {}",
            rules.display(),
            io_reason(&e)
        ))
    })
}

/// The name stdin is shown under.
const STDIN_NAME: &str = "<stdin>";

/// Loads the program on stdin; its imports are relative to `cwd` and may not leave
/// `root`. Stdin is read once: a command that loads the rules twice (`report` hashes
/// them) sees the same text. It is read up to just past the parser's size limit, which
/// then reports it as too large.
pub fn load_stdin(root: &Path, cwd: &Path) -> Result<crate::syntax::Loaded, UsageError> {
    static TEXT: std::sync::OnceLock<Result<String, String>> = std::sync::OnceLock::new();
    let text = TEXT.get_or_init(|| {
        crate::limits::read_to_string(std::io::stdin().lock(), crate::limits::SOURCE_BYTES)
            .map_err(|e| io_reason(&e))
    });
    let text = text
        .as_ref()
        .map_err(|e| UsageError(format!("cannot read stdin: {e}")))?;
    Ok(crate::syntax::load_source(
        &crate::syntax::loader::DiskFs,
        root,
        &cwd.join(STDIN_NAME),
        STDIN_NAME,
        text,
    ))
}

/// The data files named by the flags.
pub fn data_files(args: &DataArgs) -> Result<DataFiles, UsageError> {
    match (&args.data, &args.contacts) {
        (Some(dir), _) if !dir.exists() => Err(UsageError(format!(
            "there is no folder `{}`; `--data` names a folder that holds {}",
            dir.display(),
            data_folder_needs()
        ))),
        (Some(dir), _) => DataFiles::from_dir(dir).map_err(|e| UsageError(e.to_string())),
        (None, Some(contacts)) => {
            let named = [
                ("--contacts", Some(contacts)),
                ("--events", args.events.as_ref()),
                ("--accounts", args.accounts.as_ref()),
                ("--changes", args.changes.as_ref()),
            ];
            for (flag, path) in named {
                if let Some(path) = path.filter(|p| !p.exists()) {
                    return Err(UsageError(format!(
                        "there is no file `{}` (given to `{flag}`)",
                        path.display()
                    )));
                }
            }
            Ok(DataFiles {
                contacts: contacts.clone(),
                events: args.events.clone(),
                accounts: args.accounts.clone(),
                changes: args.changes.clone(),
            })
        }
        (None, None) => Err(UsageError("give `--data DIR` or `--contacts FILE`".into())),
    }
}

/// What a `--data` folder holds, for messages.
fn data_folder_needs() -> String {
    let exts: Vec<String> = data::Format::EXTENSIONS
        .iter()
        .map(|(ext, _)| format!("`.{ext}`"))
        .collect();
    format!(
        "a `contacts` file and optionally `events`, `accounts` and `changes` files, each {} \
         (`funnel gen` writes such a folder; see docs/data.md)",
        join_or(&exts)
    )
}

/// `a, b or c`.
fn join_or(items: &[String]) -> String {
    match items {
        [init @ .., last] if !init.is_empty() => format!("{} or {last}", init.join(", ")),
        _ => items.join(""),
    }
}

/// Loads the data `plan` reads for the engine: contacts (only the attributes the plan
/// reads), accounts and changes as tables, events into columns (only the fields the
/// plan reads).
pub fn load_data(
    plan: &Plan,
    files: &DataFiles,
    skip_bad_rows: bool,
) -> Result<(data::Loaded, EventColumns), UsageError> {
    timed("loading", || {
        columnar::load(plan, files, &LoadOptions { skip_bad_rows })
    })
    .map_err(|e| UsageError(format!("{e}")))
}

/// The evaluation moment: `--as-of` or the current time.
pub fn now(args: &DataArgs) -> DateTime<Utc> {
    args.as_of.unwrap_or_else(Utc::now)
}

/// The format of a results file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutFormat {
    Csv,
    Ndjson,
    /// Parquet (needs the `parquet` feature)
    Parquet,
}

/// The format to write `path` in: `explicit` (`--format`), else the extension's;
/// an unknown extension is a usage error that says what to write.
pub fn out_format(path: &Path, explicit: Option<OutFormat>) -> Result<OutFormat, UsageError> {
    if let Some(f) = explicit {
        return Ok(f);
    }
    match path.extension().and_then(|e| e.to_str()) {
        Some("csv") => Ok(OutFormat::Csv),
        Some("ndjson" | "jsonl") => Ok(OutFormat::Ndjson),
        Some("parquet") => Ok(OutFormat::Parquet),
        _ => Err(UsageError(format!(
            "cannot tell the format of `{}` from its name: end it in `.csv`, `.ndjson`, \
             `.jsonl` or `.parquet`, or name the format with `--format csv|ndjson|parquet`",
            path.display()
        ))),
    }
}
