//! `funnel gen`: generate a deterministic data set for a program's schema, for trying
//! rules out and for benchmarks.

use super::rules::{PlanArgs, parse_time, plan};
use super::{ColorChoice, Exit, Stream, UsageError, emit};
use crate::r#gen::{Options, generate, table::OutFormat};
use chrono::{DateTime, Utc};
use std::path::PathBuf;

/// Output formats of `funnel gen`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GenFormat {
    Csv,
    Ndjson,
    /// Parquet (needs the `parquet` feature)
    Parquet,
    /// Every format, each in a subfolder named after it
    All,
}

/// Arguments of `funnel gen`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub source: PlanArgs,
    /// Number of contacts.
    #[arg(long, default_value_t = 1000)]
    pub contacts: u64,
    /// Average number of events per contact (the spread is skewed).
    #[arg(long, default_value_t = 20.0)]
    pub events_per_contact: f64,
    /// The random seed: the same seed gives the same files.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The end of the two years of history.
    #[arg(long, value_name = "TIME", value_parser = parse_time, default_value = "2026-11-20T00:00:00Z")]
    pub end: DateTime<Utc>,
    /// The folder to write into (created if needed).
    #[arg(short, long, value_name = "DIR")]
    pub output: PathBuf,
    /// The file format.
    #[arg(long, value_enum, default_value_t = GenFormat::Csv)]
    pub format: GenFormat,
    /// Print nothing.
    #[arg(short, long)]
    pub quiet: bool,
}

fn formats(f: GenFormat) -> Result<Vec<OutFormat>, UsageError> {
    Ok(match f {
        GenFormat::Csv => vec![OutFormat::Csv],
        GenFormat::Ndjson => vec![OutFormat::Ndjson],
        #[cfg(feature = "parquet")]
        GenFormat::Parquet => vec![OutFormat::Parquet],
        #[cfg(feature = "parquet")]
        GenFormat::All => vec![OutFormat::Csv, OutFormat::Ndjson, OutFormat::Parquet],
        #[cfg(not(feature = "parquet"))]
        GenFormat::Parquet => {
            return Err(UsageError(
                "this Funnel was built without Parquet; rebuild with the `parquet` feature".into(),
            ));
        }
        #[cfg(not(feature = "parquet"))]
        GenFormat::All => vec![OutFormat::Csv, OutFormat::Ndjson],
    })
}

/// Runs `funnel gen`.
pub fn run(args: &Args, color: ColorChoice) -> Result<Exit, UsageError> {
    let plan = match plan(&args.source, color)? {
        Ok(p) => p,
        Err(exit) => return Ok(exit),
    };
    if !args.events_per_contact.is_finite() || args.events_per_contact < 0.0 {
        return Err(UsageError(
            "`--events-per-contact` must be a number of at least 0".into(),
        ));
    }
    if args.contacts > u64::from(u32::MAX) {
        return Err(UsageError(format!(
            "`--contacts` must be at most {}",
            u32::MAX
        )));
    }
    let opts = Options {
        contacts: args.contacts,
        events_per_contact: args.events_per_contact,
        seed: args.seed,
        end: args.end.timestamp(),
    };
    let counts = generate(&plan.schema, &opts, &args.output, &formats(args.format)?)
        .map_err(|e| UsageError(format!("cannot write `{}`: {e}", args.output.display())))?;
    if !args.quiet {
        emit(
            Stream::Stderr,
            &format!(
                "wrote {} contacts, {} accounts, {} events, {} changes to `{}`\n",
                counts.contacts,
                counts.accounts,
                counts.events,
                counts.changes,
                args.output.display()
            ),
        );
    }
    Ok(Exit::Clean)
}
