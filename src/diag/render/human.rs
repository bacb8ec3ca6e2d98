//! Human output: one ariadne report per diagnostic.

use super::severity_name;
use crate::diag::{Diagnostic, Severity};
use crate::syntax::span::{FileId, SourceMap, Span};
use ariadne::{Cache, Color, Config, IndexType, Label, Report, ReportKind, Source};
use std::collections::HashMap;
use std::fmt;

/// Renders every diagnostic as an ariadne report, each followed by an empty line.
pub(super) fn render(diagnostics: &[Diagnostic], sources: &SourceMap, color: bool) -> String {
    let mut cache = Files::new(sources);
    let mut out = String::new();
    for d in diagnostics {
        out.push_str(&report(d, &mut cache, color));
        out.push('\n');
    }
    out
}

fn report(d: &Diagnostic, cache: &mut Files<'_>, color: bool) -> String {
    let kind_color = match d.severity {
        Severity::Error => Color::Red,
        Severity::Warning => Color::Yellow,
    };
    let config = Config::default()
        .with_color(color)
        .with_index_type(IndexType::Byte);
    use crate::diag::escape::escape;
    let primary = if d.label.is_empty() {
        escape(&d.message)
    } else {
        escape(&d.label)
    };
    // Labels in source order, the primary file first: ariadne starts a new excerpt
    // whenever a label goes back up the file.
    let mut labels: Vec<(Span, std::borrow::Cow<'_, str>, Color)> =
        vec![(d.span, primary, kind_color)];
    labels.extend(
        d.related
            .iter()
            .map(|l| (l.span, escape(&l.message), Color::Blue)),
    );
    labels.sort_by_key(|(s, _, _)| (s.file != d.span.file, s.file, s.start, s.end));
    let mut builder = Report::build(
        ReportKind::Custom(severity_name(d.severity), kind_color),
        at(d.span),
    )
    .with_config(config)
    .with_code(d.code)
    .with_message(escape(&d.message))
    .with_labels(
        labels
            .into_iter()
            .zip(0..)
            .map(|((span, text, color), order)| {
                Label::new(at(span))
                    .with_message(text)
                    .with_color(color)
                    .with_order(order)
            }),
    );
    if let Some(help) = &d.help {
        builder = builder.with_help(escape(help));
    }
    let mut bytes = Vec::new();
    // Writing to a Vec cannot fail; a source missing from the map only drops its excerpt.
    let _ = builder.finish().write(&mut *cache, &mut bytes);
    let text = String::from_utf8_lossy(&bytes).into_owned();
    if color { text } else { strip_sgr(&text) }
}

/// An ariadne span: a file and a byte range.
fn at(span: Span) -> (FileId, std::ops::Range<usize>) {
    (span.file, span.range())
}

/// Removes ANSI colour sequences (`ESC [ … m`). Ariadne paints a custom report kind
/// even with colour off, and only the header uses one.
fn strip_sgr(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The source map as an ariadne cache: sources by [`FileId`] (control characters
/// replaced, offsets kept: see [`crate::diag::escape::same_width`]), shown by file name.
struct Files<'a> {
    map: &'a SourceMap,
    parsed: HashMap<FileId, Source<String>>,
}

impl<'a> Files<'a> {
    fn new(map: &'a SourceMap) -> Files<'a> {
        Files {
            map,
            parsed: HashMap::new(),
        }
    }
}

impl<'a> Cache<FileId> for Files<'a> {
    type Storage = String;

    fn fetch(&mut self, id: &FileId) -> Result<&Source<String>, impl fmt::Debug> {
        let map = self.map;
        match map.get(*id) {
            Some(file) => Ok(self.parsed.entry(*id).or_insert_with(|| {
                Source::from(crate::diag::escape::same_width(&file.text).into_owned())
            })),
            None => Err(format!("no source file with id {}", id.0)),
        }
    }

    fn display<'b>(&self, id: &'b FileId) -> Option<impl fmt::Display + 'b> {
        self.map
            .get(*id)
            .map(|f| crate::diag::escape::escape(&f.name).into_owned())
    }
}
