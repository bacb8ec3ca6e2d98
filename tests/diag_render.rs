//! Snapshots of every output format on hand-built diagnostics, and a structural check
//! of the SARIF log.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use funnel::diag::render::{Format, Summary, render};
use funnel::diag::{Code, Diagnostic};
use funnel::syntax::{SourceMap, Span};
use serde_json::Value;

const RULES: &str = "use \"schema.funnel\"\n\n\
segment hot = service_click within 30d\n\
segment hot = café_visit and not hard_bounce\n";

/// Two files; a duplicate definition (secondary label, help, a non-ASCII line) and a
/// warning whose message needs escaping in workflow commands.
fn sample() -> (SourceMap, Vec<Diagnostic>) {
    let mut sources = SourceMap::new();
    sources.add("schema.funnel", "contact { owner: text? }\n");
    let rules = sources.add("rules, 100%: draft.funnel", RULES);
    let first = RULES.find("hot").unwrap();
    let second = RULES.rfind("hot").unwrap();
    let cafe = RULES.find("café_visit").unwrap();
    let diagnostics = vec![
        Diagnostic::new(
            Code::Duplicate,
            Span::new(rules, second, second + 3),
            "`hot` is defined twice",
        )
        .with_label("defined again here")
        .with_related(Span::new(rules, first, first + 3), "first defined here")
        .with_help("rename one of the two segments"),
        Diagnostic::new(
            Code::UnusedSignal,
            Span::new(rules, cafe, cafe + "café_visit".len()),
            "signal `café_visit` is never used\n(100% sure)",
        ),
    ];
    (sources, diagnostics)
}

fn rendered(format: Format) -> String {
    let (sources, diagnostics) = sample();
    let summary = Summary::of(&diagnostics, 2);
    render(format, &diagnostics, &sources, summary, false)
}

#[test]
fn human() {
    insta::assert_snapshot!(rendered(Format::Human));
}

#[test]
fn human_colour_is_a_parameter() {
    let (sources, diagnostics) = sample();
    let summary = Summary::of(&diagnostics, 2);
    let coloured = render(Format::Human, &diagnostics, &sources, summary, true);
    assert!(coloured.contains('\u{1b}'));
    assert!(!rendered(Format::Human).contains('\u{1b}'));
}

#[test]
fn json() {
    insta::assert_snapshot!(rendered(Format::Json));
}

#[test]
fn github() {
    insta::assert_snapshot!(rendered(Format::Github));
}

#[test]
fn sarif() {
    insta::assert_snapshot!(rendered(Format::Sarif));
}

#[test]
fn summary_counts() {
    let (_, diagnostics) = sample();
    assert_eq!(
        Summary::of(&diagnostics, 2),
        Summary {
            errors: 1,
            warnings: 1,
            files: 2
        }
    );
}

#[test]
fn json_positions_are_one_based_characters() {
    let doc: Value = serde_json::from_str(&rendered(Format::Json)).unwrap();
    let warning = &doc["diagnostics"][1];
    // `segment hot = café_visit`: the name starts at character 15 of line 4 and is 10
    // characters long, though `é` takes two bytes
    assert_eq!(warning["line"], 4);
    assert_eq!(warning["column"], 15);
    assert_eq!(warning["end_column"], 25);
    assert_eq!(
        warning["end_byte"].as_u64().unwrap() - warning["start_byte"].as_u64().unwrap(),
        11
    );
    assert_eq!(doc["diagnostics"][0]["related"][0]["line"], 3);
}

fn object<'a>(v: &'a Value, keys: &[&str]) -> &'a serde_json::Map<String, Value> {
    let obj = v
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"));
    for k in keys {
        assert!(obj.contains_key(*k), "missing `{k}` in {v}");
    }
    obj
}

#[test]
fn sarif_structure() {
    let log: Value = serde_json::from_str(&rendered(Format::Sarif)).unwrap();
    object(&log, &["$schema", "version", "runs"]);
    assert_eq!(log["version"], "2.1.0");
    let runs = log["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    object(run, &["tool", "results"]);
    let driver = object(&run["tool"]["driver"], &["name", "version", "rules"]);
    assert_eq!(driver["name"], "funnel");
    let rules: Vec<&str> = driver["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            object(r, &["id", "shortDescription"]);
            assert!(r["shortDescription"]["text"].is_string());
            r["id"].as_str().unwrap()
        })
        .collect();
    assert_eq!(rules, ["E0302", "W0101"]);
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    for r in results {
        object(r, &["ruleId", "level", "message", "locations"]);
        let index = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(r["ruleId"], rules[index]);
        assert!(["error", "warning", "note", "none"].contains(&r["level"].as_str().unwrap()));
        assert!(r["message"]["text"].is_string());
        let places = r["locations"]
            .as_array()
            .unwrap()
            .iter()
            .chain(r["relatedLocations"].as_array().into_iter().flatten());
        for place in places {
            let physical = object(&place["physicalLocation"], &["artifactLocation", "region"]);
            assert!(physical["artifactLocation"]["uri"].is_string());
            let region = object(
                &physical["region"],
                &["startLine", "startColumn", "endLine", "endColumn"],
            );
            for k in ["startLine", "startColumn", "endLine", "endColumn"] {
                assert!(region[k].as_u64().unwrap() >= 1, "{k} is 1-based");
            }
        }
    }
    assert_eq!(results[0]["level"], "error");
    assert_eq!(results[1]["level"], "warning");
    assert_eq!(
        results[0]["message"]["text"],
        "`hot` is defined twice\nhelp: rename one of the two segments"
    );
}
