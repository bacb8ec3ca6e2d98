//! Rendering diagnostics: for people ([`Format::Human`], ariadne reports) and for
//! machines ([`Format::Json`], [`Format::Github`] workflow commands, [`Format::Sarif`]).

mod github;
mod human;
mod json;
mod sarif;

use super::{Diagnostic, Severity};
use crate::syntax::span::{SourceMap, Span};

/// An output format for diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Source excerpts with labels, for a terminal.
    Human,
    /// One JSON document with every diagnostic and a summary.
    Json,
    /// GitHub Actions workflow commands (`::error file=…::message`), one per line.
    Github,
    /// A SARIF 2.1.0 log, for code scanning.
    Sarif,
}

/// Counts over one run, reported with the diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct Summary {
    pub errors: usize,
    pub warnings: usize,
    /// How many source files were checked.
    pub files: usize,
}

impl Summary {
    /// Counts the errors and warnings among `diagnostics`.
    pub fn of(diagnostics: &[Diagnostic], files: usize) -> Summary {
        let errors = diagnostics.iter().filter(|d| d.is_error()).count();
        Summary {
            errors,
            warnings: diagnostics.len() - errors,
            files,
        }
    }
}

/// Renders `diagnostics`, whose spans point into `sources`, in one format. `color`
/// applies to [`Format::Human`] only; machine formats never contain colour.
pub fn render(
    format: Format,
    diagnostics: &[Diagnostic],
    sources: &SourceMap,
    summary: Summary,
    color: bool,
) -> String {
    match format {
        Format::Human => human::render(diagnostics, sources, color),
        Format::Json => json::render(diagnostics, sources, summary),
        Format::Github => github::render(diagnostics, sources),
        Format::Sarif => sarif::render(diagnostics, sources),
    }
}

/// Where a span is, as people count: the file's name and 1-based lines and columns (in
/// characters); the end is the position just after the span.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
struct Location<'a> {
    file: &'a str,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
}

impl Location<'_> {
    fn of(span: Span, sources: &SourceMap) -> Location<'_> {
        match sources.get(span.file) {
            Some(f) => {
                let (line, column) = f.line_col(span.start as usize);
                let (end_line, end_column) = f.line_col(span.end as usize);
                Location {
                    file: &f.name,
                    line,
                    column,
                    end_line,
                    end_column,
                }
            }
            None => Location {
                file: "<unknown>",
                line: 1,
                column: 1,
                end_line: 1,
                end_column: 1,
            },
        }
    }
}

/// The severity as a lowercase word.
fn severity_name(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}
