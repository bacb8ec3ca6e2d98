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

/// The grammar generator is only useful when most of what it makes checks (the planner,
/// formatter and SQL compiler see only programs that check): over 1000 pseudo-random
/// inputs of 16 to 1024 bytes, more than half must check.
#[test]
fn generated_rule_files_mostly_check() {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let (mut made, mut ok) = (0, 0);
    let mut why: std::collections::BTreeMap<String, usize> = Default::default();
    for _ in 0..1000 {
        let len = 16 + (next() % 1009) as usize;
        let bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        let Ok(text) = generate::rule_file(&mut arbitrary::Unstructured::new(&bytes)) else {
            continue;
        };
        made += 1;
        let checked = checks::check_generated(&text);
        if checked.program.is_some() {
            ok += 1;
        } else if let Some(d) = checked
            .diagnostics
            .iter()
            .find(|d| d.severity == funnel::diag::Severity::Error)
        {
            *why.entry(format!("{:?} {}", d.code, d.message))
                .or_default() += 1;
        }
    }
    let mut why: Vec<_> = why.into_iter().collect();
    why.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    for (w, n) in why.iter().take(40) {
        eprintln!("{n:5} {w}");
    }
    eprintln!("{ok} of {made} generated rule files check (of 1000 inputs)");
    assert!(
        ok * 2 > 1000,
        "only {ok} of 1000 generated rule files check"
    );
}

/// Writes plans of generated rule files that check, as compact JSON, into
/// `fuzz/corpus/plan_json/` as seeds (`cargo test --test fuzz_corpus -- --ignored
/// plan_seeds`): a corpus cut to its smallest inputs keeps mostly text that is not a
/// plan at all, and `plan_json` is only useful when most mutations start from a plan.
#[test]
#[ignore = "writes seeds into fuzz/corpus; run by hand"]
fn plan_seeds() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/plan_json");
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut written = 0;
    while written < 40 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let bytes: Vec<u8> = (0..64 + state % 512)
            .map(|i| (state.rotate_left(i as u32 % 64) ^ i.wrapping_mul(0x9e37_79b9)) as u8)
            .collect();
        let Ok(text) = generate::rule_file(&mut arbitrary::Unstructured::new(&bytes)) else {
            continue;
        };
        let Some(program) = checks::check_generated(&text).program else {
            continue;
        };
        let json = funnel::plan::lower(&program).to_json();
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        let compact = serde_json::to_string(&value).unwrap();
        assert!(funnel::plan::Plan::from_json(&compact).is_ok());
        std::fs::write(dir.join(format!("seed-gen-{written:02}.json")), compact).unwrap();
        written += 1;
    }
}
