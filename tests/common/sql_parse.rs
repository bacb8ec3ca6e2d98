//! Parsing emitted SQL back with `sqlparser`, in the dialect matching each of Funnel's
//! (Generic for Trino, Databricks for Spark): the independent check that a script is
//! read as one statement per query, with every literal where it was put.

use sqlparser::dialect::{
    BigQueryDialect, DatabricksDialect, Dialect as ParserDialect, DuckDbDialect, GenericDialect,
    PostgreSqlDialect, SnowflakeDialect,
};
use sqlparser::parser::Parser;

/// The `sqlparser` dialect for one of Funnel's dialects.
pub fn parser_dialect(name: &str) -> Box<dyn ParserDialect> {
    match name {
        "duckdb" => Box::new(DuckDbDialect {}),
        "postgres" => Box::new(PostgreSqlDialect {}),
        "spark" => Box::new(DatabricksDialect {}),
        "bigquery" => Box::new(BigQueryDialect {}),
        "snowflake" => Box::new(SnowflakeDialect {}),
        _ => Box::new(GenericDialect {}),
    }
}

/// Panics unless `text` parses in `dialect`'s `sqlparser` dialect.
pub fn assert_parses(dialect: &str, text: &str) {
    let parsed = Parser::parse_sql(parser_dialect(dialect).as_ref(), text);
    assert!(
        parsed.is_ok(),
        "the {dialect} SQL does not parse: {:?}\n{text}",
        parsed.err()
    );
}
