//! What a new user meets in the first hour, from the command line: rules from stdin,
//! `diff --exit-code`, `explain --only`, suggestions for a mistyped contact, the
//! messages for a missing data folder and an unknown output extension, `run --summary
//! json`, `--version`, closed choices in `--help`, completions and the manual page.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

const AS_OF: &str = "2026-11-20";
const RULES: &str = "examples/b2b/rules.funnel";
const DATA: &str = "examples/b2b/data";

/// Runs Funnel in the repository root with `stdin` as its standard input.
fn funnel_with(args: &[&str], stdin: &str) -> common::Ran {
    common::run_funnel(&common::root(), args, stdin)
}

fn funnel(args: &[&str]) -> common::Ran {
    funnel_with(args, "")
}

/// A fresh empty folder for outputs.
fn scratch(name: &str) -> std::path::PathBuf {
    common::scratch("first_hour", name)
}

#[test]
fn run_explain_and_compile_read_rules_from_stdin() {
    let rules = "use \"examples/b2b/schema.funnel\"\nsegment clickers = email_clicked within 30d\n";
    let from_stdin = funnel_with(&["run", "-", "--data", DATA, "--as-of", AS_OF, "-q"], rules);
    assert_eq!(from_stdin.code, 0, "{}", from_stdin.stderr);
    let dir = scratch("stdin");
    let file = dir.join("rules.funnel");
    std::fs::write(&file, rules.replace("examples/", "../../../../examples/")).unwrap();
    let from_file = funnel(&[
        "run",
        file.to_str().unwrap(),
        "--data",
        DATA,
        "--as-of",
        AS_OF,
        "-q",
    ]);
    assert_eq!(from_stdin.stdout, from_file.stdout);
    let explained = funnel_with(
        &[
            "explain",
            "-",
            "--data",
            DATA,
            "--as-of",
            AS_OF,
            "--contact",
            "c005",
        ],
        rules,
    );
    assert_eq!(explained.code, 0, "{}", explained.stderr);
    assert!(explained.stdout.contains("segment clickers"));
    let compiled = funnel_with(&["compile", "-"], rules);
    assert_eq!(compiled.code, 0, "{}", compiled.stderr);
    assert!(compiled.stdout.contains("\"clickers\""));
    // Errors name `<stdin>`.
    let bad = funnel_with(&["compile", "-"], "segment x = nope\n");
    assert_eq!(bad.code, 1);
    assert!(bad.stderr.contains("<stdin>"), "{}", bad.stderr);
}

#[test]
fn diff_exit_code_fails_on_a_change_only() {
    let base = ["--data", DATA, "--as-of", AS_OF, "--exit-code"];
    let changed = funnel(&[&["diff", "examples/b2b/old_rules.funnel", RULES][..], &base].concat());
    assert_eq!(changed.code, 1, "{}", changed.stderr);
    assert!(changed.stdout.contains("soft_bounced_often"));
    let same = funnel(&[&["diff", RULES, RULES][..], &base].concat());
    assert_eq!(same.code, 0, "{}", same.stderr);
    let without = funnel(&[
        "diff",
        "examples/b2b/old_rules.funnel",
        RULES,
        "--data",
        DATA,
        "--as-of",
        AS_OF,
    ]);
    assert_eq!(without.code, 0);
}

#[test]
fn explain_only_shows_the_named_definitions_and_what_they_read() {
    let args = ["explain", RULES, "--data", DATA, "--as-of", AS_OF];
    let focused = funnel(
        &[
            &args[..],
            &["--contact", "c005", "--only", "service_campaign"],
        ]
        .concat(),
    );
    assert_eq!(focused.code, 0, "{}", focused.stderr);
    insta::assert_snapshot!(focused.stdout);
    let everything = funnel(&[&args[..], &["--contact", "c005"]].concat());
    assert!(everything.stdout.lines().count() > 10 * focused.stdout.lines().count());
    let unknown = funnel(
        &[
            &args[..],
            &["--contact", "c005", "--only", "servce_campaign"],
        ]
        .concat(),
    );
    assert_eq!(unknown.code, 2);
    insta::assert_snapshot!("explain_only_unknown", unknown.stderr);
}

#[test]
fn a_contact_in_the_wrong_case_gets_a_suggestion() {
    let o = funnel(&[
        "explain",
        RULES,
        "--data",
        DATA,
        "--as-of",
        AS_OF,
        "--contact",
        "C005",
    ]);
    assert_eq!(o.code, 2);
    insta::assert_snapshot!(o.stderr);
}

#[test]
fn a_missing_data_folder_says_what_it_needs() {
    let o = funnel(&["run", RULES, "--data", "no/such/folder", "--as-of", AS_OF]);
    assert_eq!(o.code, 2);
    insta::assert_snapshot!(o.stderr);
}

#[test]
fn a_missing_data_file_is_named_with_its_flag() {
    let o = funnel(&[
        "run",
        RULES,
        "--contacts",
        "examples/b2b/data/contacts.csv",
        "--events",
        "no/such/events.csv",
        "--as-of",
        AS_OF,
    ]);
    assert_eq!(o.code, 2);
    assert_eq!(
        o.stderr,
        "error: there is no file `no/such/events.csv` (given to `--events`)\n"
    );
}

#[test]
fn run_summary_json() {
    let dir = scratch("summary");
    let out = dir.join("results.csv");
    let args = [
        "run",
        RULES,
        "--data",
        DATA,
        "--as-of",
        AS_OF,
        "--summary",
        "json",
    ];
    let o = funnel(&[&args[..], &["-o", out.to_str().unwrap()]].concat());
    assert_eq!(o.code, 0, "{}", o.stderr);
    let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    insta::assert_json_snapshot!(v);
    // Without `-o` stdout carries the results: the JSON summary needs it.
    let no_output = funnel(&args);
    assert_eq!(no_output.code, 2);
    insta::assert_snapshot!("run_summary_json_needs_output", no_output.stderr);
}

#[test]
fn the_human_summary_is_the_json_summary_as_text() {
    let o = funnel(&["run", RULES, "--data", DATA, "--as-of", AS_OF]);
    assert_eq!(o.code, 0);
    insta::assert_snapshot!(o.stderr);
}

#[test]
fn help_lists_closed_choices() {
    for (command, values) in [
        (
            "sql",
            "[possible values: duckdb, postgres, spark, bigquery, snowflake, trino]",
        ),
        ("run", "[possible values: csv, ndjson, parquet]"),
        ("explain", "[possible values: human, json]"),
        ("diff", "[possible values: human, json, markdown]"),
        ("gen", "[possible values: csv, ndjson, parquet, all]"),
        ("test", "[possible values: human, json, junit]"),
    ] {
        let o = funnel(&[command, "-h"]);
        assert!(o.stdout.contains(values), "{command}:\n{}", o.stdout);
    }
    // `gen` needs rules: its usage says so.
    let gen_help = funnel(&["gen", "-h"]);
    assert!(
        gen_help.stdout.contains("<RULES|--plan <FILE>>"),
        "{}",
        gen_help.stdout
    );
    let no_rules = funnel(&["gen", "-o", "x"]);
    assert_eq!(no_rules.code, 2);
    insta::assert_snapshot!("gen_without_rules", no_rules.stderr);
}

#[test]
fn completions_and_man_page() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let o = funnel(&["completions", shell]);
        assert_eq!(o.code, 0, "{shell}: {}", o.stderr);
        assert!(o.stdout.contains("explain"), "{shell}");
    }
    // Where the shell completes values, it completes the dialects.
    for shell in ["bash", "zsh", "fish"] {
        let o = funnel(&["completions", shell]);
        assert!(o.stdout.contains("postgres"), "{shell}: dialects complete");
    }
    let man = funnel(&["man"]);
    assert_eq!(man.code, 0);
    assert!(man.stdout.starts_with(".ie"), "{}", man.stdout);
    assert!(man.stdout.contains(".TH funnel 1"));
    assert!(man.stdout.contains("completions"));
}

#[test]
fn a_missing_import_is_the_one_error_reported() {
    let rules = "use \"missing.funnel\"\nsegment a = page_viewed within 30d and lead_stage = mql\n";
    let o = funnel_with(&["check", "-"], rules);
    assert_eq!(o.code, 1);
    insta::assert_snapshot!(o.stderr);
}

#[test]
fn running_a_schema_alone_says_there_is_nothing_to_compute() {
    let o = funnel(&[
        "run",
        "examples/b2b/schema.funnel",
        "--data",
        DATA,
        "--as-of",
        AS_OF,
    ]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        o.stderr
            .starts_with("note: the rules define nothing to compute"),
        "{}",
        o.stderr
    );
}
