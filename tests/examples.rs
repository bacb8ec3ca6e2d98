//! Every `.funnel` file under `examples/` and `benches/` (the benchmark's rule sets)
//! loads, parses and checks as its own program with no error and no warning.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use funnel::syntax::load_paths;

#[test]
fn every_example_checks_clean() {
    let root = common::root();
    let files = common::files_with_ext(&root.join("examples"), "funnel");
    assert!(
        files.len() >= 5,
        "expected the example files, found {files:?}"
    );
    let benches = common::files_with_ext(&root.join("benches"), "funnel");
    assert!(
        benches.len() >= 2,
        "expected the benchmark's light rule set and its old version, found {benches:?}"
    );
    let mut report = String::new();
    for path in files.iter().chain(&benches) {
        let loaded = load_paths(path, &root).unwrap();
        let checked = funnel::check::check(&loaded);
        report.push_str(&common::show(&loaded.sources, &checked.diagnostics));
    }
    assert!(
        report.is_empty(),
        "diagnostics in the examples or benches:\n{report}"
    );
}

#[test]
fn examples_use_every_kind_of_item() {
    use funnel::syntax::ast::{ItemKind, Scope};
    let root = common::root();
    let loaded = load_paths(&root.join("examples/b2b/rules.funnel"), &root).unwrap();
    let mut seen = std::collections::BTreeSet::new();
    for (_, file) in &loaded.files {
        for item in &file.items {
            let kind = match &item.kind {
                ItemKind::Use(_) => "use",
                ItemKind::Contact(_) => "contact",
                ItemKind::Account(_) => "account",
                ItemKind::Event { .. } => "event",
                ItemKind::Signal { .. } => "signal",
                ItemKind::Segment {
                    scope: Scope::Account,
                    ..
                } => "account segment",
                ItemKind::Segment { .. } => "segment",
                ItemKind::Score {
                    scope: Scope::Account,
                    ..
                } => "account score",
                ItemKind::Score { .. } => "score",
                ItemKind::Value {
                    scope: Scope::Account,
                    ..
                } => "account value",
                ItemKind::Value { .. } => "value",
                ItemKind::Tiers { .. } => "tiers",
                ItemKind::Personas { .. } => "personas",
            };
            seen.insert(kind);
        }
    }
    assert_eq!(
        seen.len(),
        13,
        "item kinds used by the b2b example: {seen:?}"
    );
}
