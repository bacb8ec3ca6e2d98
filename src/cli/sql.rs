//! `funnel sql RULES --dialect D`: compile the rules to one SQL script that computes the
//! same results as `funnel run`, in a warehouse (see `docs/sql.md`).

use super::rules::{PlanArgs, parse_time, plan};
use super::{ColorChoice, Exit, Stream, UsageError, emit};
use crate::sql::{self, AsOf, Options, Tables};
use std::path::{Path, PathBuf};

/// Arguments of `funnel sql`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The rule file to compile (with its `use` imports); `-` reads it from stdin.
    #[arg(value_name = "RULES")]
    pub rules: PathBuf,
    /// The SQL dialect.
    #[arg(long, value_name = "DIALECT",
          value_parser = clap::builder::PossibleValuesParser::new(sql::dialect::NAMES))]
    pub dialect: String,
    /// The evaluation moment written into the SQL (RFC 3339 or a date).
    #[arg(long, value_name = "TIME", conflicts_with = "as_of_param")]
    pub as_of: Option<String>,
    /// Leave the evaluation moment as a query parameter (for scheduled jobs).
    #[arg(long)]
    pub as_of_param: bool,
    /// Emit `CREATE VIEW NAME` (and `NAME_accounts`) instead of bare queries.
    #[arg(long, value_name = "NAME")]
    pub view: Option<String>,
    /// Write a dbt model folder (models and `schema.yml`) into DIR instead of stdout.
    #[arg(long, value_name = "DIR", conflicts_with = "view")]
    pub dbt: Option<PathBuf>,
    /// A table mapping file (TOML): table and column names of the warehouse.
    #[arg(long, value_name = "FILE")]
    pub tables: Option<PathBuf>,
    /// The contacts table [default: contacts].
    #[arg(long, value_name = "NAME")]
    pub table_contacts: Option<String>,
    /// The events table [default: events].
    #[arg(long, value_name = "NAME")]
    pub table_events: Option<String>,
    /// The accounts table [default: accounts].
    #[arg(long, value_name = "NAME")]
    pub table_accounts: Option<String>,
    /// The attribute change-log table [default: changes].
    #[arg(long, value_name = "NAME")]
    pub table_changes: Option<String>,
    /// Print only the accounts query.
    #[arg(long)]
    pub accounts: bool,
}

fn tables(args: &Args) -> Result<Tables, UsageError> {
    let mut t = match &args.tables {
        Some(path) => {
            let text = crate::limits::read_file(path, crate::limits::PLAN_BYTES)
                .map_err(|e| UsageError(format!("cannot read `{}`: {e}", path.display())))?;
            Tables::from_toml(&text).map_err(|e| {
                UsageError(format!(
                    "`{}` is not a table mapping: {}",
                    path.display(),
                    e.trim()
                ))
            })?
        }
        None => Tables::default(),
    };
    for (flag, map) in [
        (&args.table_contacts, &mut t.contacts),
        (&args.table_events, &mut t.events),
        (&args.table_accounts, &mut t.accounts),
        (&args.table_changes, &mut t.changes),
    ] {
        if let Some(name) = flag {
            map.table = Some(name.clone());
        }
    }
    Ok(t)
}

/// Runs `funnel sql`.
pub fn run(args: &Args, color: ColorChoice) -> Result<Exit, UsageError> {
    let dialect = sql::by_name(&args.dialect).ok_or_else(|| {
        UsageError(format!(
            "unknown dialect `{}`; expected one of {}",
            args.dialect,
            sql::dialect::NAMES.join(", ")
        ))
    })?;
    let as_of = match (&args.as_of, args.as_of_param) {
        (_, true) => AsOf::Param,
        (Some(t), false) => AsOf::Fixed(parse_time(t).map_err(UsageError)?),
        (None, false) => AsOf::Fixed(chrono::Utc::now()),
    };
    let tables = tables(args)?;
    let source = PlanArgs {
        rules: Some(args.rules.clone()),
        plan: None,
    };
    let plan = match plan(&source, color)? {
        Ok(p) => p,
        Err(exit) => return Ok(exit),
    };
    let script = match sql::compile(
        &plan,
        Options {
            dialect,
            tables: &tables,
            as_of,
        },
    ) {
        Ok(s) => s,
        Err(e) => {
            emit(Stream::Stderr, &format!("error: {e}\n"));
            return Ok(Exit::Problems);
        }
    };
    if let Some(dir) = &args.dbt {
        write_dbt(dir, &args.rules, &plan, &script)?;
        return Ok(Exit::Clean);
    }
    let text = if args.accounts {
        match &script.accounts {
            Some(a) => format!("{a};\n"),
            None => return Err(UsageError("the rules have no account results".into())),
        }
    } else {
        script.to_text(dialect, args.view.as_deref())
    };
    emit(Stream::Stdout, &text);
    Ok(Exit::Clean)
}

/// One dbt model per query (`<rules>.sql`, `<rules>_accounts.sql`) and a `schema.yml`
/// describing their columns: all of them, or none. Names and paths in `schema.yml` are
/// quoted (as JSON strings, which YAML reads as double-quoted scalars), so that no name
/// can change its structure.
fn write_dbt(
    dir: &Path,
    rules: &Path,
    plan: &crate::plan::Plan,
    script: &sql::Script,
) -> Result<(), UsageError> {
    let stem = rules
        .file_stem()
        .map(|s| {
            s.to_string_lossy()
                .replace(|c: char| !c.is_alphanumeric() && c != '_', "_")
        })
        .unwrap_or_else(|| "funnel".into());
    std::fs::create_dir_all(dir)
        .map_err(|e| UsageError(format!("cannot create `{}`: {e}", dir.display())))?;
    let mut out = super::output::Outputs::new();
    let mut write =
        |name: &str, text: &str| out.file(&dir.join(name), |w| w.write_all(text.as_bytes()));
    let quote = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let mut yml = String::from("version: 2\n\nmodels:\n");
    let mut model = |name: &str,
                     query: &str,
                     scope: crate::plan::types::Scope|
     -> Result<(), UsageError> {
        write(&format!("{name}.sql"), &format!("{query}\n"))?;
        yml.push_str(&format!(
            "  - name: {}\n    description: {}\n    columns:\n      - name: id\n        tests: [unique, not_null]\n",
            quote(name),
            quote(&format!("Compiled by funnel from {}", rules.display()))
        ));
        for (_, n) in plan.outputs(scope) {
            yml.push_str(&format!("      - name: {}\n", quote(&n.name)));
        }
        Ok(())
    };
    model(&stem, &script.contacts, crate::plan::types::Scope::Contact)?;
    if let Some(a) = &script.accounts {
        model(
            &format!("{stem}_accounts"),
            a,
            crate::plan::types::Scope::Account,
        )?;
    }
    write("schema.yml", &yml)?;
    out.commit()
}
