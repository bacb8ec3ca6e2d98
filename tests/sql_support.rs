//! No silent gaps: every conformance case compiles in every dialect or yields the typed
//! "unsupported" error naming its rule; constructs SQL cannot express say so.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::cases;
use funnel::sql::{AsOf, Options, SqlError, Tables};
use funnel::syntax::loader::{MemoryFs, load_source};
use std::path::Path;

fn compile(rules: &str, dialect: &str) -> Result<funnel::sql::Script, SqlError> {
    let schema = std::fs::read_to_string(cases::corpus_root().join("schema.funnel")).unwrap();
    let mut fs = MemoryFs::new();
    fs.insert("/corpus/schema.funnel", schema);
    let entry = Path::new("/corpus/case/rules.funnel");
    let loaded = load_source(&fs, Path::new("/corpus"), entry, "rules.funnel", rules);
    let checked = funnel::check::check(&loaded);
    let plan = funnel::plan::lower(checked.program.as_ref().expect("the rules check"));
    funnel::sql::compile(
        &plan,
        Options {
            dialect: funnel::sql::by_name(dialect).unwrap(),
            tables: &Tables::default(),
            as_of: AsOf::Param,
        },
    )
}

#[test]
fn every_case_lowers_or_says_unsupported_in_every_dialect() {
    for path in cases::case_files() {
        let case = cases::load(&path).unwrap();
        for d in funnel::sql::dialect::NAMES {
            let opts = Options {
                dialect: funnel::sql::by_name(d).unwrap(),
                tables: &Tables::default(),
                as_of: AsOf::Param,
            };
            match funnel::sql::compile(&case.plan, opts) {
                Ok(s) => assert!(s.contacts.starts_with("WITH ")),
                Err(SqlError::Unsupported { rule, dialect, .. }) => {
                    assert_eq!(dialect, d);
                    assert!(case.plan.nodes.iter().any(|n| n.name == rule), "{rule}");
                }
                Err(e) => panic!("{}: {d}: {e}", path.display()),
            }
        }
    }
}

#[test]
fn calendar_regularity_is_unsupported_and_names_the_rule() {
    let rules = "use \"../schema.funnel\"\nsegment steady = page_viewed in at least 2 of the last 3 months\n";
    for d in funnel::sql::dialect::NAMES {
        let err = compile(rules, d).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "`steady` cannot be compiled to {d} SQL: regularity counted in calendar months or years is not supported"
            )
        );
    }
}

#[test]
fn regexes_compile_with_every_flag_or_name_the_rule() {
    let ok = "use \"../schema.funnel\"\nsegment multi = job_title matches /^vp$/misx\n";
    for d in funnel::sql::dialect::NAMES {
        assert!(compile(ok, d).is_ok(), "{d}");
    }
    // A word boundary between two letters can never hold, nor be spelled without
    // look-around: refused, naming the rule.
    let inner = "use \"../schema.funnel\"\nsegment inner = job_title matches /a\\bb/\n";
    for d in funnel::sql::dialect::NAMES {
        let err = compile(inner, d).unwrap_err();
        assert!(
            matches!(&err, SqlError::Unsupported { rule, .. } if rule == "inner"),
            "{d}: {err}"
        );
    }
}

#[test]
fn unicode_classes_compile_in_every_engine_tested_dialect() {
    let rules = "use \"../schema.funnel\"\nsegment letters = job_title matches /^\\p{L}+$/\n";
    for d in ["duckdb", "postgres", "spark", "bigquery", "trino"] {
        let s = compile(rules, d).unwrap();
        assert!(!s.contacts.contains("\\p{"), "{d}");
    }
}

#[test]
fn as_of_parameter_appears_once_per_query() {
    let rules = "use \"../schema.funnel\"\nsegment recent = page_viewed within 30d\nsegment earlier = recent(30d ago)\n";
    for (d, p) in [
        ("duckdb", "$as_of"),
        ("postgres", "$1"),
        ("trino", "?"),
        ("bigquery", "@as_of"),
    ] {
        let s = compile(rules, d).unwrap();
        assert_eq!(s.contacts.matches(p).count(), 1, "{d}");
    }
}

#[test]
fn engine_tested_dialects_are_the_ones_the_engine_tests_run() {
    let tested: Vec<&str> = funnel::sql::dialect::NAMES
        .into_iter()
        .filter(|d| funnel::sql::by_name(d).unwrap().engine_tested())
        .collect();
    assert_eq!(tested, ["duckdb", "postgres", "spark"]);
    let engines = std::fs::read_to_string(common::root().join("tests/sql_engines.rs")).unwrap();
    for d in tested {
        assert!(engines.contains(&format!("corpus_on(\"{d}\")")), "{d}");
    }
}
