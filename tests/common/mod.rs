//! Helpers shared by the integration tests: finding `.funnel` files and showing
//! diagnostics readably when an assertion fails.

#![allow(dead_code)]

use funnel::diag::Diagnostic;
use funnel::syntax::SourceMap;
use std::path::{Path, PathBuf};

/// The crate's root folder.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every file under `dir` (recursively) whose name ends with `ext`, sorted.
pub fn files_with_ext(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == ext) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// One line per diagnostic: `file:line:col: code message (help)`.
pub fn show(sources: &SourceMap, diags: &[Diagnostic]) -> String {
    diags
        .iter()
        .map(|d| {
            let (name, (line, col)) = match sources.get(d.span.file) {
                Some(f) => (f.name.as_str(), f.line_col(d.span.start as usize)),
                None => ("?", (0, 0)),
            };
            let help = d
                .help
                .as_deref()
                .map(|h| format!(" (help: {h})"))
                .unwrap_or_default();
            format!("{name}:{line}:{col}: {} {}{help}\n", d.code, d.message)
        })
        .collect()
}

/// What a run of the `funnel` binary gave: exit code, stdout, stderr.
pub struct Ran {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Ran {
    /// What a finished process gave.
    pub fn of(out: std::process::Output) -> Ran {
        Ran {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// Runs the `funnel` binary under test in `dir` without colour, with `stdin` as its
/// standard input.
pub fn run_funnel(dir: &Path, args: &[&str], stdin: &str) -> Ran {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = funnel_command(dir, args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    // A command that does not read stdin may close it first: that is no failure.
    let _ = input.write_all(stdin.as_bytes());
    drop(input);
    Ran::of(child.wait_with_output().unwrap())
}

/// Runs the `funnel` binary under test in `dir` without colour, with `stdin` (a file,
/// a device, nothing) as its standard input.
pub fn run_funnel_with(dir: &Path, args: &[&str], stdin: std::process::Stdio) -> Ran {
    Ran::of(funnel_command(dir, args).stdin(stdin).output().unwrap())
}

/// The `funnel` binary under test, in `dir`, without colour.
pub fn funnel_command(dir: &Path, args: &[&str]) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_funnel"));
    cmd.args(args).current_dir(dir).env("NO_COLOR", "1");
    cmd
}

/// A run's exit code and output, for a snapshot or a failed assertion.
pub fn show_run(r: &Ran) -> String {
    format!(
        "exit: {}\n--- stdout\n{}--- stderr\n{}",
        r.code, r.stdout, r.stderr
    )
}

/// A fresh empty folder `group/name` under the test target directory.
pub fn scratch(group: &str, name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(group)
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub mod cases;
pub mod external;
pub mod generate;
pub mod reference;
pub mod serve;
pub mod sql_data;
pub mod sql_parse;

/// Checks `rules` (which `use "schema.funnel"`) against the schema text `schema`: the
/// program, or the error diagnostics with the rules that caused them.
pub fn check_with_schema(schema: &str, rules: &str) -> Result<funnel::check::Program, String> {
    let mut fs = funnel::syntax::loader::MemoryFs::new();
    fs.insert("/p/schema.funnel", schema);
    let loaded = funnel::syntax::loader::load_source(
        &fs,
        Path::new("/p"),
        Path::new("/p/rules.funnel"),
        "rules.funnel",
        rules,
    );
    let checked = funnel::check::check(&loaded);
    let errors: Vec<_> = checked
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .collect();
    match checked.program {
        Some(p) if errors.is_empty() => Ok(p),
        _ => Err(format!("does not check:\n{rules}\n{errors:#?}")),
    }
}
