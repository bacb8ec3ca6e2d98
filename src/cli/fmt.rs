//! `funnel fmt [PATHS…]`: rewrite rule and schema files in the canonical layout
//! (`docs/formatting.md`). A file that does not parse is left as it is.

use super::{ColorChoice, Exit, Stream, UsageError, emit};
use crate::diag::render::{Format, Summary, render};
use crate::engine::atomic::write_atomic;
use crate::syntax::loader::io_reason;
use crate::syntax::span::SourceMap;
use crate::syntax::{FormatError, format_source};
use std::path::{Path, PathBuf};

/// Arguments of `funnel fmt`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Files or folders to format; a folder means every `*.funnel` file under it, and
    /// `-` formats stdin to stdout.
    #[arg(value_name = "PATHS", default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Change nothing: list the files that would change, with a diff, and exit 1 if any.
    #[arg(long)]
    pub check: bool,
}

/// What happened to one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Unchanged,
    Changed,
    Broken,
}

/// Runs `funnel fmt`.
pub fn run(args: &Args, color: ColorChoice) -> Result<Exit, UsageError> {
    let mut files = Vec::new();
    for path in &args.paths {
        if path.as_os_str() == "-" {
            files.push(None);
            continue;
        }
        let meta = std::fs::metadata(path).map_err(|e| cannot_read(path, &e))?;
        if meta.is_dir() {
            let mut found = Vec::new();
            super::check::funnel_files(path, &mut found)?;
            found.sort();
            files.extend(found.into_iter().map(Some));
        } else {
            files.push(Some(path.clone()));
        }
    }
    let mut changed = 0;
    let mut broken = 0;
    for file in &files {
        let outcome = match file {
            None => stdin(args.check, color)?,
            Some(path) => one_file(path, args.check, color)?,
        };
        match outcome {
            Outcome::Unchanged => {}
            Outcome::Changed => changed += 1,
            Outcome::Broken => broken += 1,
        }
    }
    if args.check && changed > 0 {
        let s = if changed == 1 { "" } else { "s" };
        emit(
            Stream::Stderr,
            &format!("{changed} file{s} would be reformatted\n"),
        );
    }
    Ok(if broken > 0 || (args.check && changed > 0) {
        Exit::Problems
    } else {
        Exit::Clean
    })
}

fn one_file(path: &Path, check: bool, color: ColorChoice) -> Result<Outcome, UsageError> {
    let text = crate::limits::read_file(path, crate::limits::SOURCE_BYTES)
        .map_err(|e| cannot_read(path, &e))?;
    let name = path.display().to_string();
    let Some(formatted) = format_text(&name, &text, color)? else {
        return Ok(Outcome::Broken);
    };
    if formatted == text {
        return Ok(Outcome::Unchanged);
    }
    if check {
        emit(Stream::Stderr, &format!("would reformat {name}\n"));
        emit(Stream::Stdout, &diff(&name, &text, &formatted));
    } else {
        write_atomic(path, |w| w.write_all(formatted.as_bytes()))
            .map_err(|e| UsageError(format!("cannot write `{name}`: {}", io_reason(&e))))?;
        emit(Stream::Stderr, &format!("formatted {name}\n"));
    }
    Ok(Outcome::Changed)
}

fn stdin(check: bool, color: ColorChoice) -> Result<Outcome, UsageError> {
    let text = crate::limits::read_to_string(std::io::stdin(), crate::limits::SOURCE_BYTES)
        .map_err(|e| UsageError(format!("cannot read stdin: {}", io_reason(&e))))?;
    let name = "<stdin>";
    let Some(formatted) = format_text(name, &text, color)? else {
        return Ok(Outcome::Broken);
    };
    if check {
        if formatted == text {
            return Ok(Outcome::Unchanged);
        }
        emit(Stream::Stdout, &diff(name, &text, &formatted));
        return Ok(Outcome::Changed);
    }
    emit(Stream::Stdout, &formatted);
    Ok(if formatted == text {
        Outcome::Unchanged
    } else {
        Outcome::Changed
    })
}

/// The formatted text, or `None` (diagnostics printed) when the file does not parse.
fn format_text(name: &str, text: &str, color: ColorChoice) -> Result<Option<String>, UsageError> {
    let mut sources = SourceMap::new();
    let id = sources.add(name, text);
    match format_source(id, text) {
        Ok(formatted) => Ok(Some(formatted)),
        Err(FormatError::Syntax(diagnostics)) => {
            let summary = Summary::of(&diagnostics, 1);
            let rendered = render(
                Format::Human,
                &diagnostics,
                &sources,
                summary,
                color.enabled_for(Stream::Stderr),
            );
            emit(
                Stream::Stderr,
                &format!("{rendered}`{name}` does not parse, left as it is\n"),
            );
            Ok(None)
        }
        Err(FormatError::Unstable) => Err(UsageError(format!(
            "formatting `{name}` would change what it means; left as it is (a bug in funnel fmt, please report it)"
        ))),
    }
}

/// A unified diff from the file as it is to the file formatted.
pub fn diff(name: &str, old: &str, new: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .header(name, &format!("{name} (formatted)"))
        .to_string()
}

fn cannot_read(path: &Path, e: &std::io::Error) -> UsageError {
    UsageError(format!(
        "cannot read `{}`: {}",
        path.display(),
        io_reason(e)
    ))
}
