//! The command line. Each subcommand lives in its own file with a clap `Args` struct and
//! a `run` function; this module parses the arguments, decides on colour, dispatches, and
//! maps the outcome to the process exit code.
//!
//! Exit codes (documented in `docs/cli.md`):
//! - 0: no errors (warnings allowed unless `--deny-warnings`),
//! - 1: the sources have errors (or warnings, with `--deny-warnings`),
//! - 2: the command could not do its job: a bad flag, an unreadable path, an I/O error.

pub mod check;
pub mod compile;
pub mod diff;
pub mod explain;
pub mod fmt;
pub mod r#gen;
pub mod output;
pub mod report;
pub mod rules;
pub mod run;
pub mod serve;
pub mod shell;
pub mod sql;
pub mod summary;
pub mod test;
pub mod watch;

use clap::{Parser, Subcommand, ValueEnum};
use std::io::{IsTerminal, Write};

/// `--version`: the version and the optional features this build has.
const VERSION: &str = if cfg!(feature = "parquet") {
    concat!(env!("CARGO_PKG_VERSION"), " (features: parquet)")
} else {
    concat!(
        env!("CARGO_PKG_VERSION"),
        " (features: none; built without parquet)"
    )
};

/// Funnel: marketing segments and lead scores as checked, declarative rules.
#[derive(Debug, Parser)]
#[command(name = "funnel", version = VERSION)]
pub struct Cli {
    /// When to colour the output.
    #[arg(long, value_enum, global = true, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check programs for errors and warnings without running them.
    #[command(after_help = EXIT_CODES)]
    Check(check::Args),
    /// Check a rule file and write its evaluation plan (JSON).
    Compile(compile::Args),
    /// Evaluate rules (or a plan) over contact data and write the results.
    Run(run::Args),
    /// Say why one contact is or is not in each segment, and how its scores were made.
    Explain(explain::Args),
    /// Write an HTML report of the audience: segments and who entered and left them, overlap, lifecycle, scores, members.
    Report(report::Args),
    /// Compare two versions of a rule set: who enters and leaves each segment, tier and persona.
    Diff(diff::Args),
    /// Rewrite rule and schema files in the canonical layout.
    Fmt(fmt::Args),
    /// Run the tests of rule files (`*.funnel-test`).
    Test(test::Args),
    /// Compile rules to warehouse SQL that computes the same results as `run`.
    Sql(sql::Args),
    /// Keep the rules live behind Segment's HTTP Tracking API: ingest, results, change stream.
    Serve(serve::Args),
    /// Generate a deterministic data set for a program's schema (for trials and benchmarks).
    Gen(r#gen::Args),
    /// Keep the rules live over a stream of inputs and write each change as it happens.
    Watch(watch::Args),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(shell::CompletionsArgs),
    /// Print the manual page (roff), for `man`.
    Man(shell::ManArgs),
}

/// The exit codes, as shown under `--help`.
const EXIT_CODES: &str = "Exit codes: 0 no errors (warnings allowed), 1 errors found (or warnings, \
with --deny-warnings), 2 bad usage or an unreadable file";

/// How a command ended; its value is the process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Nothing wrong (warnings allowed).
    Clean = 0,
    /// The sources have errors (or warnings, when they are denied).
    Problems = 1,
    /// Bad usage or an I/O problem: the command could not do its job.
    Usage = 2,
}

/// A usage or I/O problem, printed as `error: …` with exit code 2.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Whether to colour output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour when writing to a terminal and `NO_COLOR` is unset or empty.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// The stream a piece of output goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl ColorChoice {
    /// Whether output to `stream` should be coloured.
    pub fn enabled_for(self, stream: Stream) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
                let terminal = match stream {
                    Stream::Stdout => std::io::stdout().is_terminal(),
                    Stream::Stderr => std::io::stderr().is_terminal(),
                };
                terminal && !no_color
            }
        }
    }
}

/// Writes text to a stream. Write errors (a closed pipe) are ignored: there is no one
/// left to tell.
pub fn emit(stream: Stream, text: &str) {
    let _ = match stream {
        Stream::Stdout => std::io::stdout().lock().write_all(text.as_bytes()),
        Stream::Stderr => std::io::stderr().lock().write_all(text.as_bytes()),
    };
}

/// `` (did you mean `x`?)`` for the candidate nearest to `name`, case aside, when one is
/// near (a third of its letters or fewer differ); else nothing.
pub(crate) fn did_you_mean<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> String {
    let limit = (name.chars().count() / 3).max(1);
    let lower = name.to_lowercase();
    candidates
        .map(|c| (strsim::levenshtein(&lower, &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, c)| format!(" (did you mean `{c}`?)"))
        .unwrap_or_default()
}

/// Runs the command line and returns the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help and version to stdout (exit 0) and usage errors to stderr (exit 2).
            let _ = e.print();
            return e.exit_code();
        }
    };
    let outcome = match &cli.command {
        Command::Check(args) => check::run(args, cli.color),
        Command::Compile(args) => compile::run(args, cli.color),
        Command::Run(args) => run::run(args, cli.color),
        Command::Explain(args) => explain::run(args, cli.color),
        Command::Report(args) => report::run(args, cli.color),
        Command::Diff(args) => diff::run(args, cli.color),
        Command::Fmt(args) => fmt::run(args, cli.color),
        Command::Test(args) => test::run(args, cli.color),
        Command::Sql(args) => sql::run(args, cli.color),
        Command::Gen(args) => r#gen::run(args, cli.color),
        Command::Serve(args) => serve::run(args, cli.color),
        Command::Watch(args) => watch::run(args, cli.color),
        Command::Completions(args) => shell::completions(args),
        Command::Man(args) => shell::man(args),
    };
    match outcome {
        Ok(exit) => exit as i32,
        Err(e) => {
            // One line, whatever file names or data the message quotes.
            let e = e.to_string();
            emit(
                Stream::Stderr,
                &format!("error: {}\n", crate::diag::escape::escape(&e)),
            );
            Exit::Usage as i32
        }
    }
}
