//! `funnel fmt` on the command line: rewriting files, `--check` with a diff and exit 1,
//! stdin to stdout, and files that do not parse left untouched (exit 1).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;

use common::Ran as Output;

/// Runs `funnel ARGS` in `dir` without colour, feeding `stdin`.
fn funnel(dir: &Path, args: &[&str], stdin: &str) -> Output {
    common::run_funnel(dir, args, stdin)
}

const MESSY: &str = "segment  a=x   within 30d # recent\n";
const TIDY: &str = "segment a = x within 30d  # recent\n";

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("funnel-fmt-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    dir
}

#[test]
fn check_lists_files_with_a_diff_and_changes_nothing() {
    let dir = temp_dir("check");
    std::fs::write(dir.join("sub/messy.funnel"), MESSY).unwrap();
    std::fs::write(dir.join("tidy.funnel"), TIDY).unwrap();
    let out = funnel(&dir, &["fmt", "--check", "."], "");
    assert_eq!(out.code, 1, "{}", out.stderr);
    insta::assert_snapshot!("check_stdout", out.stdout);
    insta::assert_snapshot!("check_stderr", out.stderr);
    assert_eq!(
        std::fs::read_to_string(dir.join("sub/messy.funnel")).unwrap(),
        MESSY
    );

    let out = funnel(&dir, &["fmt", "--check", "tidy.funnel"], "");
    assert_eq!((out.code, out.stdout.as_str()), (0, ""));
}

#[test]
fn fmt_rewrites_files_in_place() {
    let dir = temp_dir("write");
    std::fs::write(dir.join("sub/messy.funnel"), MESSY).unwrap();
    let out = funnel(&dir, &["fmt", "sub"], "");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stderr, "formatted sub/messy.funnel\n");
    assert_eq!(
        std::fs::read_to_string(dir.join("sub/messy.funnel")).unwrap(),
        TIDY
    );
    let out = funnel(&dir, &["fmt", "sub"], "");
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
}

#[test]
fn stdin_goes_to_stdout() {
    let dir = temp_dir("stdin");
    let out = funnel(&dir, &["fmt", "-"], MESSY);
    assert_eq!((out.code, out.stdout.as_str()), (0, TIDY));
    let out = funnel(&dir, &["fmt", "--check", "-"], MESSY);
    assert_eq!(out.code, 1);
    assert!(
        out.stdout.contains("+segment a = x within 30d  # recent"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_file_that_does_not_parse_is_left_untouched() {
    let dir = temp_dir("broken");
    let broken = "segment a = x ==  3\n";
    std::fs::write(dir.join("broken.funnel"), broken).unwrap();
    std::fs::write(dir.join("messy.funnel"), MESSY).unwrap();
    let out = funnel(&dir, &["fmt", "."], "");
    assert_eq!(out.code, 1);
    insta::assert_snapshot!("broken_stderr", out.stderr);
    assert_eq!(
        std::fs::read_to_string(dir.join("broken.funnel")).unwrap(),
        broken
    );
    // the other file is still formatted
    assert_eq!(
        std::fs::read_to_string(dir.join("messy.funnel")).unwrap(),
        TIDY
    );
}
