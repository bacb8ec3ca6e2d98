//! `funnel sql` on the command line: dialect names, views, dbt folders, mappings.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::Command;

fn funnel(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_funnel"))
        .args(args)
        .current_dir(common::root())
        .output()
        .unwrap()
}

const RULES: &str = "examples/b2b/rules.funnel";
const AS_OF: &str = "--as-of=2026-11-20T00:00:00Z";

#[test]
fn unknown_dialect_is_a_usage_error() {
    let out = funnel(&["sql", RULES, "--dialect", "oracle", AS_OF]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("invalid value 'oracle'"), "{err}");
    assert!(
        err.contains("[possible values: duckdb, postgres, spark, bigquery, snowflake, trino]"),
        "{err}"
    );
}

#[test]
fn view_names_both_statements() {
    let out = funnel(&[
        "sql",
        RULES,
        "--dialect",
        "postgres",
        AS_OF,
        "--view",
        "leads",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let sql = String::from_utf8(out.stdout).unwrap();
    assert!(
        sql.starts_with("CREATE VIEW \"leads\" AS\nWITH "),
        "{}",
        &sql[..80]
    );
    assert!(sql.contains("CREATE VIEW \"leads_accounts\" AS\nWITH "));
}

#[test]
fn table_flags_and_mapping_rename_tables_and_columns() {
    let dir = std::env::temp_dir().join(format!("funnel-sql-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mapping = dir.join("tables.toml");
    std::fs::write(
        &mapping,
        "[contacts]\ntable = \"crm.people\"\ncolumns = { id = \"person_id\" }\n",
    )
    .unwrap();
    let out = funnel(&[
        "sql",
        RULES,
        "--dialect",
        "duckdb",
        AS_OF,
        "--tables",
        mapping.to_str().unwrap(),
        "--table-events",
        "web.hits",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let sql = String::from_utf8(out.stdout).unwrap();
    assert!(sql.contains("FROM \"crm\".\"people\" AS c"));
    assert!(sql.contains("c.\"person_id\" AS \"id\""));
    assert!(sql.contains("FROM \"web\".\"hits\" AS e"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn dbt_writes_models_and_schema() {
    let dir = std::env::temp_dir().join(format!("funnel-sql-dbt-{}", std::process::id()));
    let out = funnel(&[
        "sql",
        RULES,
        "--dialect",
        "snowflake",
        "--as-of-param",
        "--dbt",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let model = std::fs::read_to_string(dir.join("rules.sql")).unwrap();
    assert!(model.contains(":as_of"));
    let schema = std::fs::read_to_string(dir.join("schema.yml")).unwrap();
    assert!(schema.contains("  - name: \"rules\"\n"));
    assert!(schema.contains("  - name: \"rules_accounts\"\n"));
    assert!(schema.contains("      - name: \"lead_quality\"\n"));
    std::fs::remove_dir_all(&dir).unwrap();
}
