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

pub mod cases;
pub mod external;
pub mod generate;
pub mod reference;
pub mod sql_data;

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
