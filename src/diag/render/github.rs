//! GitHub Actions output: one workflow command per diagnostic, which GitHub shows as an
//! annotation on the file and line.

use super::{Location, severity_name};
use crate::diag::Diagnostic;
use crate::syntax::span::SourceMap;

/// Renders `::error file=…,line=…,col=…,endLine=…,endColumn=…,title=CODE::message`
/// (`::warning` for warnings), one line each; the help follows the message.
pub(super) fn render(diagnostics: &[Diagnostic], sources: &SourceMap) -> String {
    let mut out = String::new();
    for d in diagnostics {
        let at = Location::of(d.span, sources);
        let mut message = d.message.clone();
        if let Some(help) = &d.help {
            message.push_str("\nhelp: ");
            message.push_str(help);
        }
        out.push_str(&format!(
            "::{} file={},line={},col={},endLine={},endColumn={},title={}::{}\n",
            severity_name(d.severity),
            property(at.file),
            at.line,
            at.column,
            at.end_line,
            at.end_column,
            property(d.code.as_str()),
            data(&message),
        ));
    }
    out
}

/// Escapes a command's message: `%`, carriage return and newline.
fn data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value: as [`data`], plus `:` and `,`.
fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_data_and_properties() {
        assert_eq!(data("50% a\r\nb: c, d"), "50%25 a%0D%0Ab: c, d");
        assert_eq!(property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
    }
}
