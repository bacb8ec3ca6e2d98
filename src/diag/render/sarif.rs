//! SARIF 2.1.0 output, for code scanning (GitHub and other SARIF viewers).

use super::{Location, severity_name};
use crate::diag::{Code, Diagnostic};
use crate::syntax::span::{SourceMap, Span};
use serde::Serialize;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// The project's home, from `repository` in Cargo.toml; links are left out while empty.
const REPOSITORY: &str = env!("CARGO_PKG_REPOSITORY");

#[derive(Serialize)]
struct Log {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run; 1],
}

#[derive(Serialize)]
struct Run {
    tool: Tool,
    results: Vec<SarifResult>,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    version: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    information_uri: Option<&'static str>,
    rules: Vec<Rule>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    id: &'static str,
    short_description: Text,
    #[serde(skip_serializing_if = "Option::is_none")]
    help_uri: Option<String>,
    default_configuration: Configuration,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: &'static str,
    rule_index: usize,
    level: &'static str,
    message: Text,
    locations: [Place; 1],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related_locations: Vec<RelatedPlace>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Place {
    physical_location: Physical,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RelatedPlace {
    id: usize,
    physical_location: Physical,
    message: Text,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Physical {
    artifact_location: Artifact,
    region: Region,
}

#[derive(Serialize)]
struct Artifact {
    uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: usize,
    start_column: usize,
    end_line: usize,
    end_column: usize,
}

/// Renders one SARIF log with one run: the rules of the codes used, and one result per
/// diagnostic.
pub(super) fn render(diagnostics: &[Diagnostic], sources: &SourceMap) -> String {
    let mut codes: Vec<Code> = diagnostics.iter().map(|d| d.code).collect();
    codes.sort();
    codes.dedup();
    let log = Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: [Run {
            tool: Tool {
                driver: Driver {
                    name: "funnel",
                    version: env!("CARGO_PKG_VERSION"),
                    information_uri: (!REPOSITORY.is_empty()).then_some(REPOSITORY),
                    rules: codes.iter().map(|&c| rule(c)).collect(),
                },
            },
            results: diagnostics
                .iter()
                .map(|d| result(d, &codes, sources))
                .collect(),
        }],
    };
    let mut out = serde_json::to_string_pretty(&log).unwrap_or_default();
    out.push('\n');
    out
}

fn rule(code: Code) -> Rule {
    Rule {
        id: code.as_str(),
        short_description: Text {
            text: code.title().to_string(),
        },
        help_uri: (!REPOSITORY.is_empty()).then(|| {
            format!(
                "{REPOSITORY}/blob/main/docs/diagnostics.md#{}",
                code.as_str().to_lowercase()
            )
        }),
        default_configuration: Configuration {
            level: severity_name(code.severity()),
        },
    }
}

fn result(d: &Diagnostic, codes: &[Code], sources: &SourceMap) -> SarifResult {
    let mut text = d.message.clone();
    if let Some(help) = &d.help {
        text.push_str("\nhelp: ");
        text.push_str(help);
    }
    SarifResult {
        rule_id: d.code.as_str(),
        rule_index: codes.iter().position(|&c| c == d.code).unwrap_or(0),
        level: severity_name(d.severity),
        message: Text { text },
        locations: [Place {
            physical_location: physical(d.span, sources),
        }],
        related_locations: d
            .related
            .iter()
            .enumerate()
            .map(|(id, l)| RelatedPlace {
                id,
                physical_location: physical(l.span, sources),
                message: Text {
                    text: l.message.clone(),
                },
            })
            .collect(),
    }
}

fn physical(span: Span, sources: &SourceMap) -> Physical {
    let at = Location::of(span, sources);
    Physical {
        artifact_location: Artifact { uri: uri(at.file) },
        region: Region {
            start_line: at.line,
            start_column: at.column,
            end_line: at.end_line,
            end_column: at.end_column,
        },
    }
}

/// A file name as a URI reference: relative names stay relative (SARIF viewers resolve
/// them against the checkout), absolute ones become `file://` URIs.
fn uri(name: &str) -> String {
    let path = name.replace('\\', "/");
    let mut out = String::new();
    if path.starts_with('/') {
        out.push_str("file://");
    }
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::uri;

    #[test]
    fn uris_are_percent_encoded() {
        assert_eq!(uri("rules/hot leads.funnel"), "rules/hot%20leads.funnel");
        assert_eq!(uri("/tmp/a#b.funnel"), "file:///tmp/a%23b.funnel");
        assert_eq!(uri("<stdin>"), "%3Cstdin%3E");
        assert_eq!(uri("é.funnel"), "%C3%A9.funnel");
    }
}
