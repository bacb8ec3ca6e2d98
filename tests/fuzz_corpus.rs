//! Replays the committed fuzz corpus (`fuzz/corpus/<target>/`, minimized, with every
//! input a fuzzer once crashed on) through the same checks the cargo-fuzz targets make
//! (`fuzz/src/checks.rs`), so that `cargo test` keeps every finding fixed without a
//! nightly compiler. See `docs/fuzzing.md`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../fuzz/src/checks.rs"]
mod checks;
#[path = "../fuzz/src/generate.rs"]
mod generate;

use std::path::PathBuf;

fn replay(target: &str) {
    let (_, check) = checks::TARGETS
        .iter()
        .find(|(name, _)| *name == target)
        .unwrap();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no corpus in {}", dir.display());
    for file in files {
        let bytes = std::fs::read(&file).unwrap();
        let result = std::panic::catch_unwind(|| check(&bytes));
        assert!(result.is_ok(), "{} fails its check", file.display());
    }
}

#[test]
fn parse_and_check() {
    replay("parse_and_check");
}

#[test]
fn rules_gen() {
    replay("rules_gen");
}

#[test]
fn fmt() {
    replay("fmt");
}

#[test]
fn plan_json() {
    replay("plan_json");
}

#[test]
fn data_readers() {
    replay("data_readers");
}

#[test]
fn sql_gen() {
    replay("sql_gen");
}
