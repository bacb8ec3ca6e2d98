//! `funnel report`: one self-contained HTML page of the audience a rule set picks out,
//! with trends over a history computed in the same engine run.

use super::rules::{DataArgs, PlanArgs, data_files, load_data, now, plan};
use super::{ColorChoice, Exit, Stream, UsageError, emit};
use crate::engine::atomic::write_atomic;
use crate::report::{self, Inputs};
use crate::syntax::loader::io_reason;
use crate::syntax::span::SourceMap;
use std::path::PathBuf;

/// Arguments of `funnel report`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub source: PlanArgs,
    #[command(flatten)]
    pub data: DataArgs,
    /// Where to write the HTML page.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// How far back the trends go (`12w`, `90d`, `6mo`; `0d` for none).
    #[arg(long, value_name = "DURATION", default_value = "12w", value_parser = parse_dur)]
    pub history: crate::plan::types::Dur,
    /// The distance between two points of a trend.
    #[arg(long, value_name = "DURATION", default_value = "1w", value_parser = parse_dur)]
    pub step: crate::plan::types::Dur,
    /// How many members each segment lists: a number, or `all`.
    #[arg(long, value_name = "N|all", default_value = "20", value_parser = parse_members)]
    pub members: report::MemberCount,
}

/// Parses `--members`: a whole number, or `all`.
pub fn parse_members(s: &str) -> Result<report::MemberCount, String> {
    if s == "all" {
        return Ok(report::MemberCount::All);
    }
    s.parse::<usize>()
        .map(report::MemberCount::Sample)
        .map_err(|_| {
            format!("`{s}` is not a number of members; write a number like `20`, or `all`")
        })
}

/// Parses a duration flag: a whole number and `h`, `d`, `w`, `mo` or `y`.
pub fn parse_dur(s: &str) -> Result<crate::plan::types::Dur, String> {
    use crate::plan::types::DurationUnit as U;
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let unit = match unit {
        "h" => U::Hour,
        "d" => U::Day,
        "w" => U::Week,
        "mo" => U::Month,
        "y" => U::Year,
        _ => {
            return Err(format!(
                "`{s}` is not a duration; write it like `12w`, `90d` or `6mo`"
            ));
        }
    };
    let amount = n
        .parse::<i64>()
        .map_err(|_| format!("`{s}` is not a duration; write it like `12w`, `90d` or `6mo`"))?;
    Ok(crate::plan::types::Dur { amount, unit })
}

/// How many steps of `step` fit in `history`.
fn step_count(
    history: crate::plan::types::Dur,
    step: crate::plan::types::Dur,
) -> Result<u32, UsageError> {
    if step.amount <= 0 {
        return Err(UsageError("`--step` must be longer than zero".into()));
    }
    use crate::plan::types::DurationUnit as U;
    let months = |d: crate::plan::types::Dur| match d.unit {
        U::Month => Some(d.amount),
        U::Year => Some(d.amount.saturating_mul(12)),
        _ => None,
    };
    let n = match (history.fixed_seconds(), step.fixed_seconds()) {
        (Some(h), Some(s)) => h / s,
        _ => match (months(history), months(step)) {
            (Some(h), Some(s)) => h / s,
            _ if history.amount == 0 => 0,
            _ => {
                return Err(UsageError(
                    "`--history` and `--step` must both be in h, d or w, or both in mo or y".into(),
                ));
            }
        },
    };
    u32::try_from(n.clamp(0, 520))
        .map_err(|_| UsageError("`--history` holds too many steps".into()))
}

/// The SHA-256 of some bytes, as lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    use std::fmt::Write;
    sha2::Sha256::digest(bytes)
        .iter()
        .fold(String::with_capacity(64), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// The rule files of a program with their hashes (a compiled plan: the plan file).
fn rule_inputs(args: &PlanArgs) -> Result<Vec<(String, String)>, UsageError> {
    let read = |p: &PathBuf| {
        crate::limits::read_bytes(p, crate::limits::PLAN_BYTES)
            .map_err(|e| UsageError(format!("cannot read `{}`: {}", p.display(), io_reason(&e))))
    };
    if let Some(p) = &args.plan {
        return Ok(vec![(p.display().to_string(), sha256_hex(&read(p)?))]);
    }
    let Some(rules) = &args.rules else {
        return Ok(Vec::new());
    };
    Ok(hashes(&super::rules::load_rules(rules)?.sources))
}

fn hashes(sources: &SourceMap) -> Vec<(String, String)> {
    sources
        .iter()
        .map(|(_, f)| (f.name.clone(), sha256_hex(f.text.as_bytes())))
        .collect()
}

/// Runs `funnel report`.
pub fn run(args: &Args, color: ColorChoice) -> Result<Exit, UsageError> {
    let plan = match plan(&args.source, color)? {
        Ok(p) => p,
        Err(exit) => return Ok(exit),
    };
    let count = step_count(args.history, args.step)?;
    let files = data_files(&args.data)?;
    // What the report evaluates: the rules and the lifecycle stages it adds.
    let (staged, _) = report::lifecycle::with_stages(&plan);
    let (loaded, events) = load_data(&staged, &files, false)?;
    let d = &loaded.dataset;
    let mut data = vec![(files.contacts.display().to_string(), d.contacts.len())];
    for (path, rows) in [
        (&files.events, events.len()),
        (&files.accounts, d.accounts.len()),
        (&files.changes, d.changes.len()),
    ] {
        if let Some(p) = path {
            data.push((p.display().to_string(), rows));
        }
    }
    let inputs = Inputs {
        rules: rule_inputs(&args.source)?,
        data,
    };
    let steps = report::steps(args.step, count);
    let built = report::build(
        &plan,
        d,
        events,
        now(&args.data),
        &steps,
        inputs,
        args.members,
    )
    .map_err(|e| UsageError(e.to_string()))?;
    let page = report::html::render(&built);
    write_atomic(&args.output, |w| {
        std::io::Write::write_all(w, page.as_bytes())
    })
    .map_err(|e| UsageError(format!("cannot write `{}`: {e}", args.output.display())))?;
    emit(
        Stream::Stderr,
        &format!(
            "wrote `{}`: {} contacts, {} accounts, {} trend points\n",
            crate::diag::escape::escape(&args.output.display().to_string()),
            built.contacts,
            built.accounts,
            built.trends.moments.len()
        ),
    );
    Ok(Exit::Clean)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::types::{Dur, DurationUnit};

    fn d(amount: i64, unit: DurationUnit) -> Dur {
        Dur { amount, unit }
    }

    #[test]
    fn durations_and_steps() {
        assert_eq!(parse_dur("12w"), Ok(d(12, DurationUnit::Week)));
        assert_eq!(parse_dur("6mo"), Ok(d(6, DurationUnit::Month)));
        assert!(parse_dur("12").is_err());
        assert!(parse_dur("w").is_err());
        let count = |h, s| step_count(h, s).ok();
        assert_eq!(
            count(d(12, DurationUnit::Week), d(1, DurationUnit::Week)),
            Some(12)
        );
        assert_eq!(
            count(d(90, DurationUnit::Day), d(1, DurationUnit::Week)),
            Some(12)
        );
        assert_eq!(
            count(d(12, DurationUnit::Month), d(3, DurationUnit::Month)),
            Some(4)
        );
        assert_eq!(
            count(d(0, DurationUnit::Day), d(1, DurationUnit::Week)),
            Some(0)
        );
        assert_eq!(
            count(d(3, DurationUnit::Month), d(1, DurationUnit::Week)),
            None
        );
        assert_eq!(
            count(d(3, DurationUnit::Week), d(0, DurationUnit::Week)),
            None
        );
    }

    #[test]
    fn members_flag() {
        assert_eq!(parse_members("all"), Ok(report::MemberCount::All));
        assert_eq!(parse_members("5"), Ok(report::MemberCount::Sample(5)));
        assert!(parse_members("-1").is_err());
        assert!(parse_members("some").is_err());
    }

    #[test]
    fn sha256_of_abc() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
