//! `funnel test`: snapshots of passing, failing and broken test files in every format,
//! the JUnit XML checked for the structure CI systems read, the examples' own tests,
//! and the b2b test file covering every definition of the b2b rules.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

struct Output {
    code: i32,
    stdout: String,
}

/// Runs `funnel test ARGS` in `dir`.
fn funnel_test(dir: &Path, args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_funnel"))
        .arg("test")
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    Output {
        code: out.status.code().unwrap(),
        stdout: String::from_utf8(out.stdout).unwrap(),
    }
}

fn fixtures() -> PathBuf {
    common::root().join("tests/rules_test")
}

const CASES: [(&str, i32); 5] = [
    ("pass", 0),
    ("fail", 1),
    ("broken_fixture", 2),
    ("broken_syntax", 2),
    ("broken_rules", 2),
];

#[test]
fn outputs_in_every_format() {
    // times differ from run to run
    let times = regex::Regex::new(r#"time(="|": )[0-9.e-]+"#).unwrap();
    for (case, code) in CASES {
        let file = format!("{case}.funnel-test");
        for format in ["human", "json", "junit"] {
            let out = funnel_test(&fixtures(), &[&file, "--format", format]);
            assert_eq!(out.code, code, "{case} as {format}:\n{}", out.stdout);
            let stable = times.replace_all(&out.stdout, "time${1}[T]");
            insta::assert_snapshot!(format!("{case}_{format}"), stable);
            if format == "junit" {
                junit_structure(&out.stdout);
            }
            if format == "json" {
                let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
                assert!(v["summary"]["tests"].is_u64(), "{v}");
            }
        }
    }
}

#[test]
fn a_failure_names_the_file_and_line_of_its_expectation() {
    let out = funnel_test(&fixtures(), &["fail.funnel-test"]);
    assert!(
        out.stdout
            .contains("fail.funnel-test:20: expect ann interest = 30"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("fail.funnel-test:21: expect ben in active"),
        "{}",
        out.stdout
    );
    // the explain trace of the definition
    assert!(out.stdout.contains("score interest = 10"), "{}", out.stdout);
}

#[test]
fn filter_keeps_tests_by_name() {
    let out = funnel_test(&fixtures(), &["fail.funnel-test", "--filter", "passing"]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert!(out.stdout.contains("1 test: 1 passed"), "{}", out.stdout);
}

#[test]
fn the_examples_pass_their_tests() {
    let out = funnel_test(&common::root(), &["examples"]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert!(out.stdout.contains("0 failed, 0 errors"), "{}", out.stdout);
}

/// Every segment, score, value, tier set and persona list of the b2b rules appears in
/// an expectation of its test file.
#[test]
fn the_b2b_tests_cover_every_definition() {
    let root = common::root();
    let loaded =
        funnel::syntax::load_paths(&root.join("examples/b2b/rules.funnel"), &root).unwrap();
    let program = funnel::check::check(&loaded).program.unwrap();
    let plan = funnel::plan::lower(&program);
    let tests = std::fs::read_to_string(root.join("examples/b2b/rules.funnel-test")).unwrap();
    let expected: std::collections::BTreeSet<&str> = tests
        .lines()
        .filter(|l| l.trim_start().starts_with("expect "))
        .flat_map(|l| l.split_whitespace())
        .collect();
    let missing: Vec<&str> = plan
        .nodes
        .iter()
        .filter(|n| n.output)
        .map(|n| n.name.as_str())
        .filter(|n| !expected.contains(n))
        .collect();
    assert!(missing.is_empty(), "not tested: {missing:?}");
}

/// Checks the JUnit XML structure that CI systems (Jenkins, GitLab, GitHub test
/// reporters) read: `testsuites` > `testsuite` > `testcase` > `failure` / `error`, with
/// their required attributes, and counts that add up.
fn junit_structure(text: &str) {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(text);
    let mut path: Vec<String> = Vec::new();
    let mut suites = 0;
    let mut declared: Option<(usize, usize, usize)> = None;
    let mut cases = 0;
    let mut failures = 0;
    let mut errors = 0;
    let attrs = |e: &quick_xml::events::BytesStart| -> std::collections::HashMap<String, String> {
        e.attributes()
            .map(|a| {
                let a = a.unwrap();
                (
                    a.key.as_ref().to_string(),
                    a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .unwrap()
                        .into_owned(),
                )
            })
            .collect()
    };
    let count = |a: &std::collections::HashMap<String, String>, k: &str| -> usize {
        a.get(k)
            .unwrap_or_else(|| panic!("missing `{k}` in {a:?}"))
            .parse()
            .unwrap()
    };
    loop {
        let event = reader.read_event().unwrap();
        let (e, empty) = match &event {
            Event::Start(e) => (e.clone(), false),
            Event::Empty(e) => (e.clone(), true),
            Event::End(_) => {
                path.pop();
                continue;
            }
            Event::Eof => break,
            _ => continue,
        };
        let name = e.name().as_ref().to_string();
        let a = attrs(&e);
        let parent = path.last().map(String::as_str);
        match name.as_str() {
            "testsuites" => {
                assert_eq!(parent, None);
                declared = Some((
                    count(&a, "tests"),
                    count(&a, "failures"),
                    count(&a, "errors"),
                ));
            }
            "testsuite" => {
                assert_eq!(parent, Some("testsuites"));
                assert!(a.contains_key("name"));
                for k in ["tests", "failures", "errors"] {
                    count(&a, k);
                }
                suites += 1;
            }
            "testcase" => {
                assert_eq!(parent, Some("testsuite"));
                assert!(
                    a.contains_key("name") && a.contains_key("classname"),
                    "{a:?}"
                );
                cases += 1;
            }
            "failure" | "error" => {
                assert_eq!(parent, Some("testcase"));
                assert!(a.contains_key("message") && a.contains_key("type"), "{a:?}");
                if name == "failure" {
                    failures += 1;
                } else {
                    errors += 1;
                }
            }
            other => panic!("unexpected element `{other}`"),
        }
        if !empty {
            path.push(name);
        }
    }
    assert!(path.is_empty(), "unclosed elements {path:?}");
    assert!(suites >= 1);
    let (tests, fails, errs) = declared.expect("no <testsuites>");
    assert_eq!(tests, cases, "testcase count");
    assert!(
        fails <= failures,
        "declared {fails} failing tests, found {failures} failures"
    );
    assert_eq!(errs, errors, "error count");
}

/// The CI recipe's commands run clean on the examples, as on a rules repository.
#[test]
fn the_ci_recipe_passes_on_the_examples() {
    let recipe = std::fs::read_to_string(common::root().join("docs/ci/funnel-rules.yml")).unwrap();
    let commands: Vec<&str> = recipe
        .lines()
        .filter_map(|l| l.trim().strip_prefix("run: funnel "))
        .collect();
    assert_eq!(commands.len(), 3, "{commands:?}");
    for command in commands {
        let args: Vec<&str> = command
            .split(" > ")
            .next()
            .unwrap()
            .split_whitespace()
            .collect();
        let out = Command::new(env!("CARGO_BIN_EXE_funnel"))
            .args(&args)
            .current_dir(common::root().join("examples"))
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "funnel {command}:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
