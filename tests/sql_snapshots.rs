//! The SQL of every example rule file in every dialect: snapshot-tested, and parsed back
//! with the matching `sqlparser` dialect (Generic for Trino, Databricks for Spark).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use funnel::sql::{AsOf, Options, Tables};
use std::path::Path;

fn plan_of(entry: &Path) -> funnel::plan::Plan {
    let loaded = funnel::syntax::load_paths(entry, entry.parent().unwrap()).unwrap();
    let checked = funnel::check::check(&loaded);
    funnel::plan::lower(&checked.program.expect("the example checks"))
}

fn examples() -> Vec<(&'static str, &'static str)> {
    vec![
        ("b2b", "examples/b2b/rules.funnel"),
        ("nordisk", "examples/nordisk/regler.funnel"),
    ]
}

#[test]
fn example_sql_snapshots_and_reparse() {
    let as_of = chrono::DateTime::parse_from_rfc3339("2026-11-20T00:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    for (name, file) in examples() {
        let plan = plan_of(&common::root().join(file));
        for dialect_name in funnel::sql::dialect::NAMES {
            let dialect = funnel::sql::by_name(dialect_name).unwrap();
            for (suffix, as_of) in [("", AsOf::Fixed(as_of)), ("_param", AsOf::Param)] {
                let script = funnel::sql::compile(
                    &plan,
                    Options {
                        dialect,
                        tables: &Tables::default(),
                        as_of,
                    },
                )
                .unwrap_or_else(|e| panic!("{name} in {dialect_name}: {e}"));
                let text = script.to_text(dialect, Some("funnel_results"));
                common::sql_parse::assert_parses(dialect_name, &text);
                if suffix.is_empty() {
                    insta::assert_snapshot!(format!("{name}_{dialect_name}"), text);
                }
            }
        }
    }
}
