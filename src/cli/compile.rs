//! `funnel compile RULES [-o plan.json]`: check the rules and write their plan.

use super::rules::{PlanArgs, plan};
use super::{ColorChoice, Exit, Stream, UsageError, emit};
use crate::engine::atomic::write_atomic;
use std::path::PathBuf;

/// Arguments of `funnel compile`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The rule file to compile (with its `use` imports); `-` reads it from stdin.
    #[arg(value_name = "RULES")]
    pub rules: PathBuf,
    /// Where to write the plan (JSON) [default: stdout].
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Runs `funnel compile`.
pub fn run(args: &Args, color: ColorChoice) -> Result<Exit, UsageError> {
    let source = PlanArgs {
        rules: Some(args.rules.clone()),
        plan: None,
    };
    let plan = match plan(&source, color)? {
        Ok(p) => p,
        Err(exit) => return Ok(exit),
    };
    let json = plan.to_json() + "\n";
    match &args.output {
        Some(path) => write_atomic(path, |w| w.write_all(json.as_bytes()))
            .map_err(|e| UsageError(format!("cannot write `{}`: {e}", path.display())))?,
        None => emit(Stream::Stdout, &json),
    }
    Ok(Exit::Clean)
}
