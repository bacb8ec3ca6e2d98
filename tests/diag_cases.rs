#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! One `.funnel` file per diagnostic code in `tests/diag_cases/`, named after the code it
//! triggers (`E0301_unknown_name.funnel`). Each must produce its code; every diagnostic
//! it produces is snapshotted as data and as `funnel check` renders it (colour off).

use funnel::check::check;
use funnel::diag::{Code, Diagnostic};
use funnel::syntax::loader::MemoryFs;
use funnel::syntax::span::Span;
use funnel::syntax::{Loaded, load_paths, load_source};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

const DIR: &str = "tests/diag_cases";

fn case_files() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(DIR)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.extension().is_some_and(|e| e == "funnel")
                && p.file_stem().is_some_and(|s| s != "schema")
        })
        .collect();
    v.sort();
    v
}

/// Loads a case; the too-large case is padded past the limit in memory.
fn load(path: &Path) -> Loaded {
    let root = Path::new(DIR);
    let stem = path.file_stem().unwrap().to_str().unwrap();
    if stem.starts_with("E0104") {
        let mut text = std::fs::read_to_string(path).unwrap();
        text.push('#');
        text.push_str(&"x".repeat(funnel::syntax::parser::MAX_INPUT_BYTES));
        let mut fs = MemoryFs::new();
        fs.insert(
            root.join("schema.funnel"),
            std::fs::read_to_string(root.join("schema.funnel")).unwrap(),
        );
        return load_source(&fs, root, path, &path.display().to_string(), &text);
    }
    load_paths(path, root).unwrap()
}

fn at(loaded: &Loaded, span: Span) -> String {
    let f = loaded.sources.get(span.file).unwrap();
    let (l1, c1) = f.line_col(span.start as usize);
    let (l2, c2) = f.line_col(span.end as usize);
    format!(
        "{}:{l1}:{c1}-{l2}:{c2}",
        Path::new(&f.name).file_name().unwrap().to_str().unwrap()
    )
}

/// Diagnostics as plain text data, one field a line.
fn render(loaded: &Loaded, diags: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diags {
        let sev = if d.is_error() { "error" } else { "warning" };
        writeln!(out, "{} {sev} at {}", d.code, at(loaded, d.span)).unwrap();
        writeln!(out, "  message: {}", d.message).unwrap();
        if !d.label.is_empty() {
            writeln!(out, "  label: {}", d.label).unwrap();
        }
        for r in &d.related {
            writeln!(out, "  related {}: {}", at(loaded, r.span), r.message).unwrap();
        }
        if let Some(h) = &d.help {
            writeln!(out, "  help: {h}").unwrap();
        }
    }
    let cwd = std::env::current_dir().unwrap().display().to_string();
    out.replace(&cwd, "<crate>")
}

#[test]
fn each_case_produces_its_code() {
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_snapshot_path("diag_cases/snapshots");
    let _guard = settings.bind_to_scope();
    for path in case_files() {
        let stem = path.file_stem().unwrap().to_str().unwrap().to_string();
        let code = stem.split('_').next().unwrap();
        let loaded = load(&path);
        let checked = check(&loaded);
        assert!(
            checked.diagnostics.iter().any(|d| d.code.as_str() == code),
            "{stem} does not produce {code}: {:#?}",
            checked.diagnostics
        );
        insta::assert_snapshot!(stem.as_str(), render(&loaded, &checked.diagnostics));
        if !stem.starts_with("E0104") {
            insta::assert_snapshot!(
                format!("{stem}.rendered"),
                rendered(&loaded, &checked.diagnostics)
            );
        }
    }
}

/// Diagnostics as `funnel check` shows them to people, colour off.
fn rendered(loaded: &Loaded, diags: &[Diagnostic]) -> String {
    use funnel::diag::render::{Format, Summary, render};
    let summary = Summary::of(diags, loaded.sources.iter().count());
    let cwd = std::env::current_dir().unwrap().display().to_string();
    render(Format::Human, diags, &loaded.sources, summary, false).replace(&cwd, "<crate>")
}

#[test]
fn every_code_has_a_case_and_a_doc_section() {
    let files: Vec<String> = case_files()
        .iter()
        .map(|p| p.file_stem().unwrap().to_str().unwrap().to_string())
        .collect();
    let docs = std::fs::read_to_string("docs/diagnostics.md").unwrap();
    for code in Code::ALL {
        let c = code.as_str();
        assert!(
            files.iter().any(|f| f.starts_with(&format!("{c}_"))),
            "no case file for {c}"
        );
        assert!(
            docs.contains(&format!("\n## {c}: {}\n", code.title())),
            "no `## {c}: {}` section in docs/diagnostics.md",
            code.title()
        );
    }
}

#[test]
fn the_shared_schema_checks_clean() {
    let loaded = load_paths(&Path::new(DIR).join("schema.funnel"), Path::new(DIR)).unwrap();
    let checked = check(&loaded);
    assert!(checked.diagnostics.is_empty(), "{:#?}", checked.diagnostics);
}
