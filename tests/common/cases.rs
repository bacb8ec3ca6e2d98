//! The conformance corpus's case files (`tests/conformance/**/*.case`, format in its
//! README): loading a case into a plan, a dataset and a moment, shared by every engine's
//! runner.

use funnel::engine::data::{Dataset, Format, LoadOptions, Source, Sources, load_readers};
use funnel::plan::Plan;
use funnel::syntax::loader::{MemoryFs, load_source};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The corpus folder.
pub fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance")
}

/// Every case file of the corpus, sorted.
pub fn case_files() -> Vec<PathBuf> {
    super::files_with_ext(&corpus_root(), "case")
}

/// A parsed `.case` file: section name → body.
pub fn sections(text: &str) -> BTreeMap<String, String> {
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

/// A loaded case.
pub struct Case {
    pub sections: BTreeMap<String, String>,
    pub plan: Plan,
    pub data: Dataset,
    pub now: chrono::DateTime<chrono::Utc>,
}

/// Loads a case: checks its rules against the shared schema, lowers them, loads its data.
pub fn load(path: &Path) -> Result<Case, String> {
    let root = corpus_root();
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
        return Err(format!("does not check: {:?}", checked.diagnostics));
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
    let data = load_readers(&plan.schema, sources, &LoadOptions::default())
        .map_err(|e| format!("data does not load: {e}"))?
        .dataset;
    Ok(Case {
        sections: s,
        plan,
        data,
        now,
    })
}

/// A result table as JSON objects by id (the NDJSON `run` writes).
pub fn table_json(table: &funnel::engine::results::Table) -> BTreeMap<String, serde_json::Value> {
    let mut buf = Vec::new();
    table.write_ndjson(&mut buf).unwrap();
    String::from_utf8(buf)
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (v["id"].as_str().unwrap().to_string(), v)
        })
        .collect()
}

/// Whether two result values agree: numbers within 1e-9, timestamps as instants.
pub fn values_match(expected: &serde_json::Value, actual: &serde_json::Value) -> bool {
    use serde_json::Value as J;
    match (expected, actual) {
        (J::Number(a), J::Number(b)) => (a.as_f64().unwrap() - b.as_f64().unwrap()).abs() < 1e-9,
        (J::String(a), J::String(b)) => a == b || instant(a).is_some_and(|x| instant(b) == Some(x)),
        (a, b) => a == b,
    }
}

/// An RFC 3339 timestamp, or a zone-less one read as UTC.
fn instant(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&chrono::Utc));
    }
    let s = s.replace(' ', "T");
    chrono::NaiveDateTime::parse_from_str(&s, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|t| t.and_utc())
}
