//! Compiling plans to warehouse SQL: plan → SQL IR ([`ir`], one CTE per stage) → text
//! for one [`Dialect`]. Reads only the plan. See `docs/sql.md`.

pub mod dialect;
pub mod ir;
pub mod lower;
pub mod regex;
pub mod tables;
pub mod text;

pub use dialect::{Dialect, by_name};
pub use lower::AsOf;
pub use tables::{TableMap, Tables};

use crate::plan::Plan;

/// Why a plan cannot be compiled to SQL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SqlError {
    /// A construct the dialect cannot express.
    #[error("`{rule}` cannot be compiled to {dialect} SQL: {what} is not supported")]
    Unsupported {
        /// The definition (or aggregate) that needs it.
        rule: String,
        dialect: &'static str,
        what: String,
    },
    /// The data cannot be laid out as the tables the SQL reads.
    #[error("{0}")]
    Mapping(String),
}

/// What to compile and how.
#[derive(Clone, Copy)]
pub struct Options<'a> {
    pub dialect: &'a dyn Dialect,
    pub tables: &'a Tables,
    pub as_of: AsOf,
}

/// The SQL of a plan: the contacts query, and the accounts query when the plan has
/// account results. Each is one statement without a final semicolon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    pub contacts: String,
    pub accounts: Option<String>,
}

/// Compiles `plan` to SQL.
pub fn compile(plan: &Plan, opts: Options<'_>) -> Result<Script, SqlError> {
    let q = lower::compile(plan, opts.dialect, opts.tables, opts.as_of)?;
    let p = ir::Printer {
        dialect: opts.dialect,
    };
    Ok(Script {
        contacts: p.query(&q.contacts),
        accounts: q.accounts.as_ref().map(|a| p.query(a)),
    })
}

impl Script {
    /// The statements as one script: `CREATE VIEW` statements when `view` is given
    /// (accounts as `<view>_accounts`), otherwise the bare queries; each ends with `;`.
    pub fn to_text(&self, dialect: &dyn Dialect, view: Option<&str>) -> String {
        let p = ir::Printer { dialect };
        let stmt = |name: Option<String>, q: &str| match name {
            Some(v) => format!("CREATE VIEW {} AS\n{q};\n", p.ident(&v)),
            None => format!("{q};\n"),
        };
        let mut out = stmt(view.map(str::to_string), &self.contacts);
        if let Some(a) = &self.accounts {
            out.push('\n');
            out.push_str(&stmt(view.map(|v| format!("{v}_accounts")), a));
        }
        out
    }
}
