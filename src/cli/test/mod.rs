//! `funnel test [PATHS…]`: run the tests of rule files (`*.funnel-test` files, see
//! `docs/testing.md`) and report them for people, as JSON, or as JUnit XML.

mod file;
mod run;

use super::{ColorChoice, Exit, Stream, UsageError, emit};
use run::{FileReport, TestReport, run_file};
use std::path::PathBuf;

/// The extension of test files.
pub const EXTENSION: &str = "funnel-test";

/// Output formats of `test`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Text for people
    Human,
    /// One JSON document
    Json,
    /// JUnit XML, for CI systems
    Junit,
}

/// Arguments of `funnel test`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Test files or folders; a folder means every `*.funnel-test` file under it.
    #[arg(value_name = "PATHS", default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Run only the tests whose name contains NAME.
    #[arg(long, value_name = "NAME")]
    pub filter: Option<String>,
    /// How to write the results.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

/// Counts over a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
struct Counts {
    tests: usize,
    passed: usize,
    failed: usize,
    /// Tests and test files that could not run.
    errors: usize,
}

impl Counts {
    fn of(reports: &[FileReport]) -> Counts {
        let mut c = Counts::default();
        for f in reports {
            if f.error.is_some() {
                c.errors += 1;
            }
            for t in &f.tests {
                c.tests += 1;
                if t.error.is_some() {
                    c.errors += 1;
                } else if t.failures.is_empty() {
                    c.passed += 1;
                } else {
                    c.failed += 1;
                }
            }
        }
        c
    }
}

/// Runs `funnel test`.
pub fn run(args: &Args, color: ColorChoice) -> Result<Exit, UsageError> {
    let mut files = Vec::new();
    for path in &args.paths {
        let meta = std::fs::metadata(path).map_err(|e| {
            UsageError(format!(
                "cannot read `{}`: {}",
                path.display(),
                crate::syntax::loader::io_reason(&e)
            ))
        })?;
        if meta.is_dir() {
            let mut found = Vec::new();
            super::check::files_with_extension(path, EXTENSION, &mut found)?;
            found.sort();
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    if files.is_empty() {
        return Err(UsageError(format!(
            "no `*.{EXTENSION}` test files found; see docs/testing.md"
        )));
    }
    let reports: Vec<FileReport> = files
        .iter()
        .map(|p| run_file(p, &p.display().to_string(), args.filter.as_deref()))
        .collect();
    let counts = Counts::of(&reports);
    let text = match args.format {
        Format::Human => human(&reports, counts, color.enabled_for(Stream::Stdout)),
        Format::Json => json(&reports, counts),
        Format::Junit => junit(&reports, counts),
    };
    emit(Stream::Stdout, &text);
    Ok(if counts.errors > 0 {
        Exit::Usage
    } else if counts.failed > 0 {
        Exit::Problems
    } else {
        Exit::Clean
    })
}

/// A failure's explanation as text, indented.
fn trace_text(f: &run::Failure, indent: &str) -> String {
    let Some(x) = &f.trace else {
        return String::new();
    };
    let mut text = String::new();
    super::explain::explanation(x, &mut text);
    text.trim_start_matches('\n')
        .lines()
        .map(|l| format!("{indent}{l}\n"))
        .collect()
}

/// `FILE:LINE: expectation`, what was expected and what came out.
fn failure_text(file: &str, f: &run::Failure) -> String {
    use crate::diag::escape::escape;
    format!(
        "{}:{}: {}\nexpected {}\n     got {} (at {})\n",
        escape(file),
        f.line,
        escape(&f.expectation),
        escape(&f.expected),
        escape(&f.actual),
        escape(&f.at)
    )
}

fn human(reports: &[FileReport], c: Counts, color: bool) -> String {
    let paint = |code: &str, s: &str| {
        if color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    };
    // Every text from a test file, rules or data is escaped: one line each, no
    // control character (see `diag::escape`).
    use crate::diag::escape::{escape, lines};
    let mut out = String::new();
    for f in reports {
        out.push_str(&format!("{}\n", escape(&f.file)));
        if let Some(e) = &f.error {
            out.push_str(&format!("  {} {}\n", paint("31", "error:"), lines(e)));
        }
        for t in &f.tests {
            out.push_str(&test_line(t, &paint));
            if let Some(e) = &t.error {
                out.push_str(&format!("      {} {}\n", paint("31", "error:"), lines(e)));
            }
            for fail in &t.failures {
                for l in failure_text(&f.file, fail).lines() {
                    out.push_str(&format!("      {l}\n"));
                }
                if fail.trace.is_some() {
                    out.push_str("      why:\n");
                    out.push_str(&lines(&trace_text(fail, "        ")));
                }
            }
        }
    }
    let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    out.push_str(&format!(
        "\n{}: {} passed, {} failed, {}\n",
        plural(c.tests, "test"),
        c.passed,
        c.failed,
        plural(c.errors, "error")
    ));
    out
}

fn test_line(t: &TestReport, paint: &dyn Fn(&str, &str) -> String) -> String {
    let mark = if t.error.is_some() {
        paint("31", "!")
    } else if t.passed() {
        paint("32", "✓")
    } else {
        paint("31", "✗")
    };
    format!("  {mark} {}\n", crate::diag::escape::escape(&t.name))
}

fn json(reports: &[FileReport], c: Counts) -> String {
    let files: Vec<serde_json::Value> = reports
        .iter()
        .map(|f| {
            let mut v = serde_json::to_value(f).unwrap_or_default();
            if let Some(tests) = v.get_mut("tests").and_then(|t| t.as_array_mut()) {
                for (t, report) in tests.iter_mut().zip(&f.tests) {
                    if let Some(obj) = t.as_object_mut() {
                        obj.insert("passed".into(), report.passed().into());
                    }
                    let fails = t.get_mut("failures").and_then(|x| x.as_array_mut());
                    for (fv, fail) in fails.into_iter().flatten().zip(&report.failures) {
                        if let Some(obj) = fv.as_object_mut() {
                            obj.insert("trace".into(), trace_text(fail, "").into());
                        }
                    }
                }
            }
            v
        })
        .collect();
    let doc = serde_json::json!({ "files": files, "summary": c });
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}

/// Escapes text for XML attributes and content; drops characters XML 1.0 cannot hold.
fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(ch),
            c if (c as u32) < 0x20 => {}
            c => out.push(c),
        }
    }
    out
}

fn junit(reports: &[FileReport], c: Counts) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<testsuites name=\"funnel test\" tests=\"{}\" failures=\"{}\" errors=\"{}\">\n",
        c.tests + reports.iter().filter(|f| f.error.is_some()).count(),
        c.failed,
        c.errors
    ));
    for f in reports {
        let fc = Counts::of(std::slice::from_ref(f));
        let file = xml(&f.file);
        let time: f64 = f.tests.iter().map(|t| t.time).sum();
        out.push_str(&format!(
            "  <testsuite name=\"{file}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"0\" time=\"{time:.3}\">\n",
            fc.tests + usize::from(f.error.is_some()),
            fc.failed,
            fc.errors
        ));
        if let Some(e) = &f.error {
            out.push_str(&format!(
                "    <testcase name=\"{file}\" classname=\"{file}\" file=\"{file}\" time=\"0.000\">\n      <error message=\"{}\" type=\"broken test file\">{}</error>\n    </testcase>\n",
                xml(e.lines().next().unwrap_or_default()),
                xml(e)
            ));
        }
        for t in &f.tests {
            out.push_str(&format!(
                "    <testcase name=\"{}\" classname=\"{file}\" file=\"{file}\" line=\"{}\" time=\"{:.3}\"",
                xml(&t.name),
                t.line,
                t.time
            ));
            if t.passed() {
                out.push_str("/>\n");
                continue;
            }
            out.push_str(">\n");
            if let Some(e) = &t.error {
                out.push_str(&format!(
                    "      <error message=\"{}\" type=\"broken test\">{}</error>\n",
                    xml(e),
                    xml(e)
                ));
            }
            for fail in &t.failures {
                let body = format!("{}{}", failure_text(&f.file, fail), trace_text(fail, "  "));
                out.push_str(&format!(
                    "      <failure message=\"expected {}, got {}\" type=\"expectation\">{}</failure>\n",
                    xml(&fail.expected),
                    xml(&fail.actual),
                    xml(&body)
                ));
            }
            out.push_str("    </testcase>\n");
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}
