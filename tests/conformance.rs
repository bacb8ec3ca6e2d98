//! Runs the conformance corpus (`tests/conformance/**/*.case`, format in
//! `tests/conformance/README.md`) through the native engine and compares every expected
//! value. Other engines run the same files.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use funnel::engine::data::{Format, LoadOptions, Source, Sources, load_readers};
use funnel::syntax::loader::{MemoryFs, load_source};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A parsed `.case` file: section name → body.
fn sections(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("=== ") {
            current = Some(name.trim().to_string());
            out.entry(name.trim().to_string())
                .or_insert_with(String::new);
        } else if let Some(name) = &current {
            let body = out.get_mut(name).unwrap();
            body.push_str(line);
            body.push('\n');
        }
    }
    out
}

fn cases(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            cases(&path, out);
        } else if path.extension().is_some_and(|e| e == "case") {
            out.push(path);
        }
    }
}

fn values_match(expected: &serde_json::Value, actual: &serde_json::Value) -> bool {
    match (expected, actual) {
        (serde_json::Value::Number(a), serde_json::Value::Number(b)) => {
            (a.as_f64().unwrap() - b.as_f64().unwrap()).abs() < 1e-9
        }
        (a, b) => a == b,
    }
}

/// Runs one case; returns its failures.
fn run_case(path: &Path, root: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let s = sections(&text);
    let rules = s.get("rules").cloned().unwrap_or_default();
    let schema = std::fs::read_to_string(root.join("schema.funnel")).unwrap();
    let mut fs = MemoryFs::new();
    fs.insert("/corpus/schema.funnel", schema);
    let entry = Path::new("/corpus/case/rules.funnel");
    let loaded = load_source(&fs, Path::new("/corpus"), entry, "rules.funnel", &rules);
    let checked = funnel::check::check(&loaded);
    let Some(program) = checked.program else {
        return vec![format!("does not check: {:?}", checked.diagnostics)];
    };
    let plan = funnel::plan::lower(&program);
    let now = chrono::DateTime::parse_from_rfc3339(s.get("now").map(|n| n.trim()).unwrap_or(""))
        .expect("=== now must be RFC 3339")
        .with_timezone(&chrono::Utc);
    let table = |name: &str| {
        s.get(name).filter(|b| !b.trim().is_empty()).map(|b| {
            Source::new(
                name,
                Format::Ndjson,
                std::io::Cursor::new(b.clone().into_bytes()),
            )
        })
    };
    let sources = Sources {
        contacts: table("contacts.ndjson")
            .unwrap_or_else(|| Source::new("contacts.ndjson", Format::Ndjson, std::io::empty())),
        events: table("events.ndjson"),
        accounts: table("accounts.ndjson"),
        changes: table("changes.ndjson"),
    };
    let data = match load_readers(&plan.schema, sources, &LoadOptions::default()) {
        Ok(d) => d.dataset,
        Err(e) => return vec![format!("data does not load: {e}")],
    };
    let results = funnel::engine::run(&plan, &data, now).unwrap();
    let mut failures = Vec::new();
    for (section, table) in [
        ("expect contacts.ndjson", &results.contacts),
        ("expect accounts.ndjson", &results.accounts),
    ] {
        let mut buf = Vec::new();
        table.write_ndjson(&mut buf).unwrap();
        let actual: BTreeMap<String, serde_json::Value> = String::from_utf8(buf)
            .unwrap()
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                (v["id"].as_str().unwrap().to_string(), v)
            })
            .collect();
        for line in s.get(section).map(String::as_str).unwrap_or("").lines() {
            if line.trim().is_empty() {
                continue;
            }
            let want: serde_json::Value = serde_json::from_str(line).unwrap();
            let id = want["id"].as_str().unwrap();
            let Some(got) = actual.get(id) else {
                failures.push(format!("{section}: no row `{id}`"));
                continue;
            };
            for (k, v) in want.as_object().unwrap() {
                let g = got.get(k).unwrap_or(&serde_json::Value::Null);
                if !values_match(v, g) {
                    failures.push(format!("{section}: `{id}`.`{k}`: expected {v}, got {g}"));
                }
            }
        }
    }
    failures
}

#[test]
fn conformance_corpus() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance");
    let mut files = Vec::new();
    cases(&root, &mut files);
    files.sort();
    assert!(
        files.len() >= 40,
        "the corpus has only {} cases",
        files.len()
    );
    let mut report = Vec::new();
    for f in &files {
        for failure in run_case(f, &root) {
            report.push(format!(
                "{}: {failure}",
                f.strip_prefix(&root).unwrap().display()
            ));
        }
    }
    assert!(
        report.is_empty(),
        "{} failures:\n{}",
        report.len(),
        report.join("\n")
    );
}
