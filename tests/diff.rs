//! `funnel diff`: a rule set against itself changes nothing; with one threshold moved,
//! exactly the contacts that cross it enter and leave (checked against two runs); the
//! output in every format is snapshotted.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use funnel::engine::data::{DataFiles, LoadOptions, load};
use funnel::plan::types::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

const AS_OF: &str = "2026-11-20T00:00:00Z";

/// `old/` holds the B2B example's rule files and `new/` the same with `edit` applied to
/// each file's text; returns the folder holding both.
fn versions(name: &str, edit: impl Fn(&str, String) -> String) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("diff")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    for side in ["old", "new"] {
        std::fs::create_dir_all(dir.join(side)).unwrap();
    }
    for f in ["schema.funnel", "scores.funnel", "rules.funnel"] {
        let text = std::fs::read_to_string(common::root().join("examples/b2b").join(f)).unwrap();
        std::fs::write(dir.join("old").join(f), &text).unwrap();
        let edited = edit(f, text.clone());
        std::fs::write(dir.join("new").join(f), edited).unwrap();
    }
    dir
}

/// `funnel diff OLD NEW` in `dir` over the B2B data; stdout.
fn diff(dir: &Path, old: &str, new: &str, format: &str) -> String {
    let data = common::root().join("examples/b2b/data");
    let out = Command::new(env!("CARGO_BIN_EXE_funnel"))
        .args(["--color", "never", "diff", old, new, "--format", format])
        .arg("--data")
        .arg(&data)
        .args(["--as-of", AS_OF])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn moved_threshold(file: &str, text: String) -> String {
    match file {
        "scores.funnel" => {
            let t = text.replace("middle 31..75, high 76..100", "middle 31..50, high 51..100");
            assert_ne!(t, text);
            t
        }
        _ => text,
    }
}

/// Per contact id, the value of a column in a run of `rules`.
fn column(rules: &Path, name: &str) -> Vec<(String, Option<Value>)> {
    let loaded = funnel::syntax::load_paths(rules, rules.parent().unwrap()).unwrap();
    let plan = funnel::plan::lower(&funnel::check::check(&loaded).program.unwrap());
    let files = DataFiles::from_dir(&common::root().join("examples/b2b/data")).unwrap();
    let data = load(&plan.schema, &files, &LoadOptions::default()).unwrap();
    let r = funnel::engine::reference::run(&plan, &data.dataset, AS_OF.parse().unwrap()).unwrap();
    let col = r.contacts.column(name).unwrap();
    r.contacts.ids.iter().cloned().zip(col.values()).collect()
}

fn ids(v: &serde_json::Value) -> BTreeSet<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_rule_set_against_itself_changes_nothing() {
    let dir = versions("same", |_, t| t);
    let human = diff(&dir, "old/rules.funnel", "new/rules.funnel", "human");
    assert_eq!(human.lines().nth(1), Some("  no change"), "{human}");
    let json: serde_json::Value = serde_json::from_str(&diff(&dir, "old", "new", "json")).unwrap();
    let entries = json["entries"].as_array().unwrap();
    // schema.funnel defines nothing to compare.
    assert_eq!(entries.len(), 2);
    for e in entries {
        assert_eq!(e["changed"], false, "{e}");
        assert!(e["moves"].as_array().unwrap().is_empty());
        assert!(e["scores"].as_array().unwrap().is_empty());
    }
}

#[test]
fn a_moved_threshold_moves_exactly_the_contacts_that_cross_it() {
    let dir = versions("threshold", moved_threshold);
    let json: serde_json::Value =
        serde_json::from_str(&diff(&dir, "old/rules.funnel", "new/rules.funnel", "json")).unwrap();
    let entry = &json["entries"][0];
    let before = column(&dir.join("old/rules.funnel"), "readiness");
    let after = column(&dir.join("new/rules.funnel"), "readiness");
    let high = Some(Value::Text("high".into()));
    let crossed: BTreeSet<String> = before
        .iter()
        .zip(&after)
        .filter(|((_, a), (_, b))| *a != high && *b == high)
        .map(|((id, _), _)| id.clone())
        .collect();
    assert!(!crossed.is_empty(), "the edit should move someone");
    // Nobody fell out of `high`: its lower bound only went down.
    assert!(
        before
            .iter()
            .zip(&after)
            .all(|((_, a), (_, b))| *a != high || *b == high)
    );
    let find = |group: &str| {
        entry["moves"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["definition"] == "readiness" && m["group"] == group)
            .unwrap_or_else(|| panic!("no move of readiness = {group}: {entry}"))
            .clone()
    };
    let high_move = find("high");
    assert_eq!(ids(&high_move["entered"]), crossed);
    assert!(ids(&high_move["left"]).is_empty());
    let middle = find("middle");
    assert_eq!(ids(&middle["left"]), crossed);
    assert!(ids(&middle["entered"]).is_empty());
    // The score itself did not change, and neither did any other definition but the tiers.
    assert!(entry["scores"].as_array().unwrap().is_empty());
    assert_eq!(
        entry["definitions"]["changed"],
        serde_json::json!(["readiness"])
    );
}

#[test]
fn renamed_definitions_are_found() {
    let dir = versions("renamed", |_, t| {
        t.replace("segment gone_quiet", "segment went_quiet")
    });
    let json: serde_json::Value =
        serde_json::from_str(&diff(&dir, "old/rules.funnel", "new/rules.funnel", "json")).unwrap();
    let defs = &json["entries"][0]["definitions"];
    assert_eq!(
        defs["renamed"],
        serde_json::json!([["gone_quiet", "went_quiet"]])
    );
    assert_eq!(defs["added"], serde_json::json!([]));
}

fn edited(file: &str, text: String) -> String {
    let mut text = moved_threshold(file, text);
    let edits: &[(&str, &str, &str)] = &[
        (
            "scores.funnel",
            "+4 per readiness_page",
            "+6 per readiness_page",
        ),
        ("rules.funnel", "lead_quality >= 90", "lead_quality >= 80"),
        (
            "rules.funnel",
            "segment mqls = lead_stage = mql\n",
            "segment sqls = lead_stage = sql\n",
        ),
    ];
    for (in_file, from, to) in edits {
        if file.ends_with(in_file) {
            assert!(
                text.contains(from),
                "`{from}` is no longer in {file}: update this test"
            );
            text = text.replace(from, to);
        }
    }
    text
}

#[test]
fn snapshots_of_every_format() {
    let dir = versions("formats", edited);
    for format in ["human", "json", "markdown"] {
        let out = diff(&dir, "old", "new", format);
        insta::assert_snapshot!(format!("diff_{format}"), out);
    }
}
