//! `funnel compile`, `run` and `explain` from the command line: outputs, summaries,
//! exit codes, atomic outputs, and agreement between run, compiled plans and explain.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};

const AS_OF: &str = "2026-11-20T00:00:00Z";

use common::{Ran as Out, root, show_run as show};

fn funnel_in(dir: &Path, args: &[&str]) -> Out {
    common::run_funnel_with(dir, args, std::process::Stdio::null())
}

fn funnel(args: &[&str]) -> Out {
    funnel_in(&root().join("tests/cli/run"), args)
}

/// A fresh empty folder.
fn scratch(name: &str) -> PathBuf {
    common::scratch("cli_run", name)
}

#[test]
fn run_prints_results_and_a_summary() {
    insta::assert_snapshot!(show(&funnel(&[
        "run",
        "rules.funnel",
        "--data",
        "data",
        "--as-of",
        AS_OF
    ])));
}

#[test]
fn explain_human() {
    insta::assert_snapshot!(show(&funnel(&[
        "explain",
        "rules.funnel",
        "--data",
        "data",
        "--as-of",
        AS_OF,
        "--contact",
        "c1"
    ])));
}

#[test]
fn explain_json() {
    let o = funnel(&[
        "explain",
        "rules.funnel",
        "--data",
        "data",
        "--as-of",
        AS_OF,
        "--contact",
        "c3",
        "--format",
        "json",
    ]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    insta::assert_json_snapshot!(v);
}

#[test]
fn explain_unknown_contact_is_a_usage_error() {
    let o = funnel(&[
        "explain",
        "rules.funnel",
        "--data",
        "data",
        "--as-of",
        AS_OF,
        "--contact",
        "nobody",
    ]);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("no contact `nobody`"), "{}", o.stderr);
}

#[test]
fn outputs_by_extension_and_lists() {
    let dir = scratch("outputs");
    let csv = dir.join("out.csv");
    let nd = dir.join("accounts.ndjson");
    let lists = dir.join("lists");
    let o = funnel(&[
        "run",
        "rules.funnel",
        "--data",
        "data",
        "--as-of",
        AS_OF,
        "-q",
        "-o",
        csv.to_str().unwrap(),
        "--accounts-output",
        nd.to_str().unwrap(),
        "--lists",
        lists.to_str().unwrap(),
    ]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.is_empty() && o.stderr.is_empty());
    let mut names: Vec<String> = std::fs::read_dir(&lists)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut listing = String::new();
    for n in &names {
        listing.push_str(&format!(
            "== {n}\n{}",
            std::fs::read_to_string(lists.join(n)).unwrap()
        ));
    }
    insta::assert_snapshot!(format!(
        "{}--- accounts\n{}--- lists\n{listing}",
        std::fs::read_to_string(&csv).unwrap(),
        std::fs::read_to_string(&nd).unwrap()
    ));
}

#[test]
fn an_unknown_output_extension_is_a_usage_error() {
    let o = funnel(&["run", "rules.funnel", "--data", "data", "-o", "out.xlsx"]);
    assert_eq!(o.code, 2);
    insta::assert_snapshot!(o.stderr);
    // `--format` names the format whatever the name.
    let out = scratch("format-flag").join("out.xlsx");
    let run = [
        "run",
        "rules.funnel",
        "--data",
        "data",
        "--as-of",
        AS_OF,
        "-q",
    ];
    let named = funnel(
        &[
            &run[..],
            &["--format", "ndjson", "-o", out.to_str().unwrap()],
        ]
        .concat(),
    );
    assert_eq!(named.code, 0, "{}", named.stderr);
    let text = std::fs::read_to_string(&out).unwrap();
    for line in text.lines() {
        let row: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(row.get("id").is_some(), "{line}");
    }
}

#[test]
fn rules_with_errors_exit_1_with_diagnostics() {
    let dir = scratch("bad-rules");
    std::fs::write(
        dir.join("r.funnel"),
        "contact { a: int }\nsegment s = b > 1\n",
    )
    .unwrap();
    let data = root().join("tests/cli/run/data");
    let o = funnel_in(&dir, &["run", "r.funnel", "--data", data.to_str().unwrap()]);
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("[E0301]"), "{}", o.stderr);
    assert!(o.stdout.is_empty());
}

/// `compile` then `run --plan` writes exactly what `run` on the rules writes.
#[test]
fn compiled_plan_runs_byte_identically() {
    let dir = scratch("compile");
    let plan = dir.join("plan.json");
    let ex = root().join("examples/b2b");
    let rules = ex.join("rules.funnel");
    let data = ex.join("data");
    let o = funnel(&[
        "compile",
        rules.to_str().unwrap(),
        "-o",
        plan.to_str().unwrap(),
    ]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let direct = funnel(&[
        "run",
        rules.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "--as-of",
        AS_OF,
    ]);
    let planned = funnel(&[
        "run",
        "--plan",
        plan.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "--as-of",
        AS_OF,
    ]);
    assert_eq!(direct.code, 0, "{}", direct.stderr);
    assert!(direct.stdout.lines().count() > 300);
    assert_eq!(direct.stdout, planned.stdout);
    assert_eq!(direct.stderr, planned.stderr);
}

#[test]
fn a_plan_of_another_format_version_is_refused() {
    let dir = scratch("old-plan");
    std::fs::write(dir.join("plan.json"), r#"{"format_version": 999}"#).unwrap();
    let data = root().join("tests/cli/run/data");
    let o = funnel_in(
        &dir,
        &[
            "run",
            "--plan",
            "plan.json",
            "--data",
            data.to_str().unwrap(),
        ],
    );
    assert_eq!(o.code, 2);
    assert!(
        o.stderr
            .contains("plan format version 999 is not supported"),
        "{}",
        o.stderr
    );
}

/// Copies the fixture data, replaces one file's content, runs with `-o`.
fn run_with_bad(file: &str, content: &str, extra: &[&str]) -> (Out, PathBuf) {
    run_with_bad_in(
        &format!("bad-{}", file.replace('.', "-")),
        file,
        content,
        extra,
    )
}

fn run_with_bad_in(name: &str, file: &str, content: &str, extra: &[&str]) -> (Out, PathBuf) {
    let dir = scratch(name);
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    for f in ["contacts.csv", "accounts.csv", "events.csv", "changes.csv"] {
        std::fs::copy(root().join("tests/cli/run/data").join(f), data.join(f)).unwrap();
    }
    std::fs::write(data.join(file), content).unwrap();
    let rules = root().join("tests/cli/run/rules.funnel");
    let mut args = vec![
        "run",
        rules.to_str().unwrap(),
        "--data",
        "data",
        "--as-of",
        AS_OF,
        "-o",
        "out.csv",
    ];
    args.extend_from_slice(extra);
    (funnel_in(&dir, &args), dir)
}

#[test]
fn every_kind_of_bad_row_stops_the_run_and_leaves_no_output() {
    let header = "contact_id,event,at,url,kind\n";
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "events.csv",
            format!("{header}c1,page_viewed,yesterday,/a,\n"),
            "data/events.csv:2: at: `yesterday` is not a timestamp",
        ),
        (
            "events.csv",
            format!("{header}c1,page_zoomed,2026-11-01T00:00:00Z,/a,\n"),
            "data/events.csv:2: event: unknown event type `page_zoomed`",
        ),
        (
            "events.csv",
            format!("{header}c3,email_bounced,2026-11-01T00:00:00Z,,medium\n"),
            "data/events.csv:2: kind: `medium` is not a declared value, expected one of `hard`, `soft`",
        ),
        (
            "events.csv",
            format!("{header}c1,page_viewed,2026-11-01T00:00:00Z,,\n"),
            "data/events.csv:2: url: missing required field",
        ),
        (
            "events.csv",
            format!("{header}c9,page_viewed,2026-11-01T00:00:00Z,/a,\n"),
            "data/events.csv:2: contact_id: unknown contact `c9`",
        ),
        (
            "contacts.csv",
            "id,job_title,lead_stage,account\nc1,CEO,mql,a1\nc1,CTO,lead,a2\n".into(),
            "data/contacts.csv:3: id: duplicate contact id `c1`",
        ),
        (
            "contacts.csv",
            "id,job_title,lead_stage,account\nc1,CEO,mql,a7\n".into(),
            "data/contacts.csv:2: account: unknown account `a7`",
        ),
    ];
    for (file, content, want) in cases {
        let (o, dir) = run_with_bad(file, &content, &[]);
        assert_eq!(o.code, 2, "{file}: {content}\n{}", o.stderr);
        assert!(
            o.stderr.contains(want),
            "expected `{want}` in:\n{}",
            o.stderr
        );
        assert!(
            !dir.join("out.csv").exists(),
            "a failed run left out.csv behind"
        );
        let leftovers: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            leftovers.len(),
            1,
            "only the data folder may remain: {leftovers:?}"
        );
    }
}

#[test]
fn skip_bad_rows_writes_rejects_and_reports_the_count() {
    let content = "contact_id,event,at,url,kind\nc1,page_viewed,2026-11-19T10:00:00Z,/pricing,\nc1,page_viewed,soon,/a,\nc9,page_viewed,2026-11-01T00:00:00Z,/a,\n";
    let (o, dir) = run_with_bad(
        "events.csv",
        content,
        &["--skip-bad-rows", "--rejects", "rejects.csv"],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        o.stderr
            .contains("skipped 2 bad rows (reasons in `rejects.csv`)"),
        "{}",
        o.stderr
    );
    assert!(dir.join("out.csv").exists());
    insta::assert_snapshot!(std::fs::read_to_string(dir.join("rejects.csv")).unwrap());
    let (quiet, _) = run_with_bad_in(
        "skip-quiet",
        "events.csv",
        content,
        &["--skip-bad-rows", "-q"],
    );
    assert_eq!(quiet.code, 0);
    assert!(quiet.stderr.is_empty(), "{}", quiet.stderr);
}
