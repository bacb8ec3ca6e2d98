//! Every command that evaluates rules runs on the one engine, and what it writes is
//! byte for byte what the reference evaluator (`engine::reference`, the oracle) gives,
//! on generated data (`funnel gen`, skewed, with changes and accounts): `run`'s results,
//! `explain`'s trace, `diff`'s report.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use chrono::{DateTime, Utc};
use funnel::engine::context::Context;
use funnel::engine::data::{DataFiles, LoadOptions, load};
use funnel::engine::{explain, reference};
use funnel::plan::Plan;
use std::path::{Path, PathBuf};

const AS_OF: &str = "2026-11-20T00:00:00Z";

fn now() -> DateTime<Utc> {
    AS_OF.parse().unwrap()
}

fn rules() -> PathBuf {
    common::root().join("examples/b2b/rules.funnel")
}

/// Runs `funnel` in `dir`, which must succeed; its stdout.
fn funnel(args: &[&str], dir: &Path) -> String {
    let ran = common::run_funnel(dir, args, "");
    assert!(ran.code == 0, "funnel {args:?}: {}", ran.stderr);
    ran.stdout
}

/// A generated data set (CSV) in a folder of its own.
fn generated(name: &str, contacts: u32) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("one_engine")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let rules = rules();
    funnel(
        &[
            "gen",
            rules.to_str().unwrap(),
            "--contacts",
            &contacts.to_string(),
            "--events-per-contact",
            "15",
            "--seed",
            "7",
            "--format",
            "csv",
            "-o",
            "data",
            "-q",
        ],
        &dir,
    );
    dir
}

fn plan() -> Plan {
    let root = common::root();
    let loaded = funnel::syntax::load_paths(&rules(), &root).unwrap();
    funnel::plan::lower(&funnel::check::check(&loaded).program.unwrap())
}

#[test]
fn run_and_explain_write_what_the_reference_evaluator_gives() {
    let dir = generated("run_explain", 1500);
    let plan = plan();
    let files = DataFiles::from_dir(&dir.join("data")).unwrap();
    let data = load(&plan.schema, &files, &LoadOptions::default())
        .unwrap()
        .dataset;
    let rules = rules();
    let rules = rules.to_str().unwrap();

    let run = funnel(
        &["run", rules, "--data", "data", "--as-of", AS_OF, "-q"],
        &dir,
    );
    let mut expected = Vec::new();
    reference::run(&plan, &data, now())
        .unwrap()
        .contacts
        .write_csv(&mut expected)
        .unwrap();
    assert!(
        run.as_bytes() == expected,
        "`funnel run` differs from the reference"
    );

    let ctx = Context::new(&plan, &data, now()).unwrap();
    let st = reference::evaluate(&ctx);
    for c in [0u32, 1, 17, 999, 1499] {
        let id = data.contacts.ids().nth(c as usize).unwrap().to_string();
        let out = funnel(
            &[
                "explain",
                rules,
                "--data",
                "data",
                "--as-of",
                AS_OF,
                "--contact",
                &id,
                "--format",
                "json",
            ],
            &dir,
        );
        let expected =
            serde_json::to_string_pretty(&explain::explain(&ctx, &st, c)).unwrap() + "\n";
        assert_eq!(out, expected, "{id}");
    }
}

#[test]
fn diff_on_generated_data_is_the_difference_of_two_reference_runs() {
    let dir = generated("diff", 1200);
    let (old, new) = (dir.join("old"), dir.join("new"));
    for f in ["schema.funnel", "scores.funnel", "rules.funnel"] {
        let text = std::fs::read_to_string(common::root().join("examples/b2b").join(f)).unwrap();
        std::fs::create_dir_all(&new).unwrap();
        std::fs::write(new.join(f), &text).unwrap();
        let text = text
            .replace(
                "soft_bounce at least 4 times",
                "soft_bounce at least 3 times",
            )
            .replace("middle 31..75, high 76..100", "middle 31..50, high 51..100");
        std::fs::create_dir_all(&old).unwrap();
        std::fs::write(old.join(f), text).unwrap();
    }
    let out = funnel(
        &[
            "diff",
            "old/rules.funnel",
            "new/rules.funnel",
            "--data",
            "data",
            "--as-of",
            AS_OF,
            "--format",
            "json",
        ],
        &dir,
    );
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let entry = &json["entries"][0];
    let moves = entry["moves"].as_array().unwrap();
    assert!(!moves.is_empty(), "the edit should move someone: {entry}");
    // Every move is what two reference runs say.
    let old_plan = funnel::plan::lower(
        &funnel::check::check(
            &funnel::syntax::load_paths(&old.join("rules.funnel"), &old).unwrap(),
        )
        .program
        .unwrap(),
    );
    let files = DataFiles::from_dir(&dir.join("data")).unwrap();
    let data = load(&plan().schema, &files, &LoadOptions::default())
        .unwrap()
        .dataset;
    let before = reference::run(&old_plan, &data, now()).unwrap();
    let after = reference::run(&plan(), &data, now()).unwrap();
    for m in moves {
        let name = m["definition"].as_str().unwrap();
        let group = m["group"].as_str();
        let table = |r: &'_ funnel::engine::Results| match m["scope"].as_str() {
            Some("account") => r.accounts.clone(),
            _ => r.contacts.clone(),
        };
        let (before, after) = (table(&before), table(&after));
        let member = |t: &funnel::engine::Table, i: usize| {
            let col = t.column(name).unwrap();
            match group {
                None if m["kind"] == "segment" => col.is_true(i),
                g => col.label(i) == g,
            }
        };
        let mut entered = Vec::new();
        let mut left = Vec::new();
        for (i, id) in after.ids.iter().enumerate() {
            match (member(&before, i), member(&after, i)) {
                (false, true) => entered.push(id.clone()),
                (true, false) => left.push(id.clone()),
                _ => {}
            }
        }
        entered.sort();
        left.sort();
        assert_eq!(m["entered"], serde_json::json!(entered), "{name} {group:?}");
        assert_eq!(m["left"], serde_json::json!(left), "{name} {group:?}");
    }
    insta::assert_json_snapshot!("diff_generated", json);
}
