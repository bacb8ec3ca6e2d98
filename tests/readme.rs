//! Every command the README shows runs as written: the code blocks are read from
//! README.md, `cargo run --release --` and `funnel` are replaced by the binary under
//! test, and each command runs in a scratch copy of `examples/` (so that nothing is
//! written into the repository) and must succeed. A block of files (`# schema.funnel`,
//! `# rules.funnel`) is written out — and must be in `funnel fmt`'s layout — and a
//! `$ funnel …` line followed by output must print that output.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};

/// The `cargo` commands the README shows that this test does not run: building and
/// installing are what produced the binary under test, and `cargo test` is this run.
const NOT_RUN: &[&str] = &[
    "cargo test",
    "cargo install --path .",
    "cargo build --release",
    "cargo build --release --no-default-features",
    "cargo build --profile profiling",
];

/// One fenced code block of the README: its lines.
fn blocks(readme: &str) -> Vec<Vec<&str>> {
    let mut out = Vec::new();
    let mut current: Option<Vec<&str>> = None;
    for line in readme.lines() {
        if line.trim_start().starts_with("```") {
            match current.take() {
                Some(block) => out.push(block),
                None => current = Some(Vec::new()),
            }
        } else if let Some(block) = current.as_mut() {
            block.push(line);
        }
    }
    out
}

/// The arguments of a command line that runs Funnel, without the program.
fn funnel_args(line: &str) -> Option<Vec<&str>> {
    let rest = line
        .strip_prefix("cargo run --release -- ")
        .or_else(|| line.strip_prefix("funnel "))?;
    assert!(
        !rest.contains(['"', '\'', '|', '>', '<', '$', '*']),
        "the README command `{line}` needs a shell; this test runs commands as plain words"
    );
    Some(rest.split_whitespace().collect())
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A fresh scratch folder holding a copy of `examples/`.
fn workspace() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("readme");
    let _ = std::fs::remove_dir_all(&dir);
    copy_dir(&common::root().join("examples"), &dir.join("examples"));
    dir
}

#[test]
fn every_readme_command_runs_as_written() {
    let readme = std::fs::read_to_string(common::root().join("README.md")).unwrap();
    let dir = workspace();
    let mut ran = 0;
    for block in blocks(&readme) {
        // A file: `# name.funnel` on its first line.
        if let Some(name) = block.first().and_then(|l| l.strip_prefix("# "))
            && name.ends_with(".funnel")
        {
            std::fs::write(dir.join(name), block[1..].join("\n") + "\n").unwrap();
            continue;
        }
        let mut lines = block.iter().peekable();
        while let Some(line) = lines.next() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (shown, command) = match line.strip_prefix("$ ") {
                Some(c) => (true, c),
                None => (false, line),
            };
            let Some(args) = funnel_args(command) else {
                assert!(
                    NOT_RUN.contains(&command),
                    "the README shows `{command}`, which this test neither runs nor knows"
                );
                continue;
            };
            let common::Ran {
                code,
                stdout,
                stderr,
            } = common::run_funnel(&dir, &args, "");
            assert_eq!(
                code, 0,
                "README command `{command}` failed:\n{stdout}\n{stderr}"
            );
            if shown {
                let mut expected = String::new();
                while let Some(out) = lines.next_if(|l| !l.starts_with("$ ")) {
                    expected.push_str(out);
                    expected.push('\n');
                }
                assert_eq!(
                    stdout + &stderr,
                    expected,
                    "README command `{command}` printed something else than the README shows"
                );
            }
            ran += 1;
        }
    }
    assert!(ran >= 14, "only {ran} README commands found");
    // The files the README shows are in the canonical layout (`funnel fmt`).
    let fmt = common::run_funnel(
        &dir,
        &["fmt", "--check", "schema.funnel", "rules.funnel"],
        "",
    );
    assert_eq!(fmt.code, 0, "{}", fmt.stdout);
}
