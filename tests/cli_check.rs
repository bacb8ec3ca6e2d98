//! Golden tests of `funnel check`: the binary runs in `tests/cli/` and each test
//! snapshots its exit code, stdout and stderr.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cli")
}

struct Output {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `funnel ARGS` in `tests/cli/` without colour, feeding `stdin`.
fn funnel(args: &[&str], stdin: &str) -> Output {
    let dir = fixtures();
    let out = common::run_funnel(&dir, args, stdin);
    // Absolute paths (in a few help texts) differ between machines.
    let stable = |text: String| text.replace(dir.to_str().unwrap(), "[CWD]");
    Output {
        code: out.code,
        stdout: stable(out.stdout),
        stderr: stable(out.stderr),
    }
}

/// The whole outcome of a run as one snapshot.
fn run(args: &[&str]) -> String {
    run_with_stdin(args, "")
}

fn run_with_stdin(args: &[&str], stdin: &str) -> String {
    let out = funnel(args, stdin);
    format!(
        "exit: {}\n--- stdout\n{}--- stderr\n{}",
        out.code, out.stdout, out.stderr
    )
}

#[test]
fn clean_file() {
    insta::assert_snapshot!(run(&["check", "ok/rules.funnel"]));
}

#[test]
fn folder() {
    insta::assert_snapshot!(run(&["check", "ok"]));
}

#[test]
fn current_folder_by_default() {
    let out = funnel(&["check", "--format", "json"], "");
    assert_eq!(out.code, 1);
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    // every `.funnel` file under tests/cli, fixtures and their imports alike
    fn count(dir: &std::path::Path) -> u64 {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .map(|p| match p.is_dir() {
                true => count(&p),
                false => u64::from(p.extension().is_some_and(|e| e == "funnel")),
            })
            .sum()
    }
    let expected = count(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cli"));
    assert!(expected >= 10);
    assert_eq!(doc["summary"]["files"], expected);
    let files: Vec<&str> = doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["file"].as_str().unwrap())
        .collect();
    let mut sorted = files.clone();
    sorted.sort();
    assert_eq!(files, sorted, "diagnostics are sorted by file");
    assert!(files.contains(&"errors/many.funnel"));
    assert!(files.contains(&"imports/missing/main.funnel"));
}

#[test]
fn stdin() {
    insta::assert_snapshot!(run_with_stdin(
        &["check", "-"],
        "use \"ok/schema.funnel\"\n\nsegment mqls = lead_stage = mql\n",
    ));
}

#[test]
fn stdin_with_error() {
    insta::assert_snapshot!(run_with_stdin(
        &["check", "-"],
        "use \"ok/schema.funnel\"\nsegment mqls = lead_stage = \n",
    ));
}

#[test]
fn syntax_error() {
    insta::assert_snapshot!(run(&["check", "errors/syntax.funnel"]));
}

#[test]
fn several_errors_in_one_file() {
    insta::assert_snapshot!(run(&["check", "errors/many.funnel"]));
}

#[test]
fn import_not_found() {
    insta::assert_snapshot!(run(&["check", "imports/missing"]));
}

#[test]
fn import_cycle() {
    insta::assert_snapshot!(run(&["check", "imports/cycle/a.funnel"]));
}

#[test]
fn import_outside_root() {
    insta::assert_snapshot!(run(&[
        "check",
        "--root",
        "outside/project",
        "outside/project/main.funnel"
    ]));
}

#[test]
fn shared_imports_are_reported_once() {
    // both files import `ok/schema.funnel`; its diagnostics (none) and the file itself
    // count once, and each entry's own errors appear once
    let out = funnel(&["check", "errors/syntax.funnel", "errors"], "");
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.ends_with("checked 3 files: 4 errors\n"),
        "{}",
        out.stderr
    );
}

#[test]
fn format_json() {
    insta::assert_snapshot!(run(&["check", "--format", "json", "errors", "ok"]));
}

#[test]
fn format_json_is_valid() {
    let out = funnel(&["check", "--format=json", "."], "");
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let n = doc["diagnostics"].as_array().unwrap().len();
    let counted =
        doc["summary"]["errors"].as_u64().unwrap() + doc["summary"]["warnings"].as_u64().unwrap();
    assert_eq!(counted as usize, n);
    assert!(doc["summary"]["warnings"].as_u64().unwrap() >= 1);
    assert!(out.stderr.is_empty());
}

#[test]
fn format_github() {
    insta::assert_snapshot!(run(&["check", "--format", "github", "errors", "imports"]));
}

#[test]
fn format_sarif() {
    insta::assert_snapshot!(run(&["check", "--format", "sarif", "errors/syntax.funnel"]));
}

#[test]
fn format_human_clean_machine_formats_quiet() {
    let out = funnel(&["check", "--format", "github", "ok"], "");
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (0, "", "")
    );
}

#[test]
fn deny_warnings() {
    // W0101 (unused signal) makes this exit 1 once the checker reports it
    insta::assert_snapshot!(run(&["check", "--deny-warnings", "warn"]));
}

#[test]
fn deny_warnings_exit_code_follows_warnings() {
    let json = funnel(&["check", "--format", "json", "warn"], "");
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let warnings = doc["summary"]["warnings"].as_u64().unwrap();
    assert_eq!(json.code, 0);
    let denied = funnel(&["check", "--deny-warnings", "warn"], "");
    assert_eq!(denied.code, if warnings > 0 { 1 } else { 0 });
}

#[test]
fn bad_flag() {
    insta::assert_snapshot!(run(&["check", "--frobnicate", "ok"]));
}

#[test]
fn bad_format() {
    insta::assert_snapshot!(run(&["check", "--format", "xml", "ok"]));
}

#[test]
fn missing_path() {
    insta::assert_snapshot!(run(&["check", "ok", "nope.funnel"]));
}

#[test]
fn folder_without_funnel_files() {
    insta::assert_snapshot!(run(&["check", "empty"]));
}

#[test]
fn root_must_be_a_folder() {
    insta::assert_snapshot!(run(&["check", "--root", "ok/rules.funnel", "ok"]));
}

#[test]
fn colour() {
    let always = funnel(&["check", "--color", "always", "errors/syntax.funnel"], "");
    assert!(always.stderr.contains('\u{1b}'));
    let never = funnel(&["check", "--color=never", "errors/syntax.funnel"], "");
    assert!(!never.stderr.contains('\u{1b}'));
    // auto: stderr is a pipe here
    let auto = funnel(&["check", "errors/syntax.funnel"], "");
    assert_eq!(auto.stderr, never.stderr);
}

#[test]
fn help_and_version_exit_0() {
    let help = funnel(&["check", "--help"], "");
    assert_eq!(help.code, 0);
    assert!(help.stdout.contains("--deny-warnings"));
    let version = funnel(&["--version"], "");
    assert_eq!(version.code, 0);
    let features = if cfg!(feature = "parquet") {
        "features: parquet"
    } else {
        "features: none; built without parquet"
    };
    assert_eq!(
        version.stdout,
        format!("funnel {} ({features})\n", env!("CARGO_PKG_VERSION"))
    );
}
