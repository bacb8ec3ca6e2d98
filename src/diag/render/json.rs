//! JSON output: one document with every diagnostic and a summary.

use super::{Location, Summary, severity_name};
use crate::diag::Diagnostic;
use crate::syntax::span::SourceMap;
use serde::Serialize;

#[derive(Serialize)]
struct Document<'a> {
    diagnostics: Vec<Entry<'a>>,
    summary: Summary,
}

#[derive(Serialize)]
struct Entry<'a> {
    code: &'static str,
    severity: &'static str,
    message: &'a str,
    #[serde(flatten)]
    at: Location<'a>,
    start_byte: u32,
    end_byte: u32,
    /// The text at the primary span; `null` when the message says it all.
    label: Option<&'a str>,
    help: Option<&'a str>,
    related: Vec<Related<'a>>,
}

#[derive(Serialize)]
struct Related<'a> {
    #[serde(flatten)]
    at: Location<'a>,
    message: &'a str,
}

/// Renders `{"diagnostics": […], "summary": {…}}`, pretty-printed, with a final newline.
pub(super) fn render(diagnostics: &[Diagnostic], sources: &SourceMap, summary: Summary) -> String {
    let doc = Document {
        diagnostics: diagnostics.iter().map(|d| entry(d, sources)).collect(),
        summary,
    };
    let mut out = serde_json::to_string_pretty(&doc).unwrap_or_default();
    out.push('\n');
    out
}

fn entry<'a>(d: &'a Diagnostic, sources: &'a SourceMap) -> Entry<'a> {
    Entry {
        code: d.code.as_str(),
        severity: severity_name(d.severity),
        message: &d.message,
        at: Location::of(d.span, sources),
        start_byte: d.span.start,
        end_byte: d.span.end,
        label: (!d.label.is_empty()).then_some(d.label.as_str()),
        help: d.help.as_deref(),
        related: d
            .related
            .iter()
            .map(|l| Related {
                at: Location::of(l.span, sources),
                message: &l.message,
            })
            .collect(),
    }
}
