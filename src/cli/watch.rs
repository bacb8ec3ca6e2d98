//! `funnel watch`: load the data, then read inputs (one JSON object a line) from stdin
//! or a file and write one JSON line per membership change, as it happens.

use super::rules::{DataArgs, PlanArgs, data_files, plan};
use super::{ColorChoice, Exit, Stream, UsageError, emit};
use crate::engine::data::{self, LoadOptions};
use crate::engine::live::{Change, Input, Live};
use chrono::{DateTime, Utc};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

/// Arguments of `funnel watch`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub source: PlanArgs,
    #[command(flatten)]
    pub data: DataArgs,
    /// Read inputs from this file instead of stdin.
    #[arg(long, value_name = "FILE")]
    pub input: Option<PathBuf>,
    /// Keep reading the input file as it grows (like `tail -f`), until interrupted.
    #[arg(long, requires = "input")]
    pub follow: bool,
    /// Where time comes from: `real` (the system clock: time-driven changes are written
    /// when they happen) or `replay` (the inputs' own times: deterministic).
    #[arg(long, value_enum, default_value_t = ClockKind::Real)]
    pub clock: ClockKind,
    /// With `--clock replay`: after the last input, move the clock on to this moment
    /// (RFC 3339), writing the changes time makes until then.
    #[arg(long, value_name = "TIME")]
    pub until: Option<DateTime<Utc>>,
}

/// Where `watch` takes time from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ClockKind {
    /// The system clock
    Real,
    /// The inputs' times
    Replay,
}

/// One line read from the input, or the reason reading stopped.
enum Line {
    Text(u64, Result<String, String>),
    Failed(String),
}

/// Runs `funnel watch`.
pub fn run(args: &Args, color: ColorChoice) -> Result<Exit, UsageError> {
    let plan = match plan(&args.source, color)? {
        Ok(p) => p,
        Err(exit) => return Ok(exit),
    };
    if args.until.is_some() && args.clock != ClockKind::Replay {
        return Err(UsageError(
            "`--until` moves a replayed clock: give it with `--clock replay`".into(),
        ));
    }
    let files = data_files(&args.data)?;
    let loaded = data::load(&plan.schema, &files, &LoadOptions::default())
        .map_err(|e| UsageError(e.to_string()))?;
    let name = match &args.input {
        Some(p) => p.display().to_string(),
        None => "stdin".to_owned(),
    };
    let reader: Box<dyn Read + Send> = match &args.input {
        Some(p) => crate::limits::regular_file(p)
            .and_then(|()| std::fs::File::open(p))
            .map(|f| Box::new(f) as Box<dyn Read + Send>)
            .map_err(|e| UsageError(format!("cannot read `{name}`: {e}")))?,
        None => Box::new(std::io::stdin()),
    };
    let lines = spawn_reader(reader, args.follow);
    let mut pending: Option<Line> = None;
    let start = match (args.data.as_of, args.clock) {
        (Some(t), _) => t,
        (None, ClockKind::Real) => Utc::now(),
        (None, ClockKind::Replay) => {
            pending = lines.recv().ok();
            let first = match &pending {
                Some(Line::Text(_, Ok(text))) => Input::from_json(text).ok().and_then(|i| i.at()),
                _ => None,
            };
            first.ok_or_else(|| {
                UsageError(
                    "`--clock replay` starts at `--as-of`, or at the first input's `at`; the first input has none: give `--as-of`".into(),
                )
            })?
        }
    };
    let live = Live::new(plan, loaded.dataset, start).map_err(|e| UsageError(e.to_string()))?;
    // Each input re-evaluates one group, a few contacts: on one thread, without handing
    // work between threads (the start above used them all).
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .map_err(|e| UsageError(format!("cannot start a thread: {e}")))?;
    one.install(move || follow(args, &name, live, lines, pending))
}

/// Applies the inputs as they come, writing the changes.
fn follow(
    args: &Args,
    name: &str,
    mut live: Live,
    lines: mpsc::Receiver<Line>,
    pending: Option<Line>,
) -> Result<Exit, UsageError> {
    let mut pending = pending;
    let mut refused = 0u64;
    let mut next = move || pending.take().map(Ok).unwrap_or(Err(()));
    loop {
        let line = match next() {
            Ok(line) => Some(line),
            Err(()) => match args.clock {
                ClockKind::Replay => lines.recv().ok(),
                ClockKind::Real => {
                    let wait = live
                        .next_due()
                        .map(|t| (t - Utc::now()).to_std().unwrap_or(Duration::ZERO))
                        .unwrap_or(Duration::from_secs(3600));
                    match lines.recv_timeout(wait) {
                        Ok(line) => Some(line),
                        Err(mpsc::RecvTimeoutError::Timeout) => {
                            write(&live.advance(Utc::now()));
                            continue;
                        }
                        Err(mpsc::RecvTimeoutError::Disconnected) => None,
                    }
                }
            },
        };
        let Some(line) = line else { break };
        let (n, text) = match line {
            Line::Text(n, text) => (n, text),
            Line::Failed(reason) => {
                emit(Stream::Stderr, &format!("funnel: {name}: {reason}\n"));
                return Ok(Exit::Usage);
            }
        };
        if text.as_ref().is_ok_and(|t| t.trim().is_empty()) {
            continue;
        }
        let input = text
            .map_err(crate::engine::live::InputError::whole)
            .and_then(|text| Input::from_json(&text));
        let applied = input.and_then(|input| match args.clock {
            ClockKind::Replay => live.apply(&input),
            ClockKind::Real => live.apply_at(&input, Utc::now()),
        });
        match applied {
            Ok(changes) => write(&changes),
            Err(e) => {
                refused += 1;
                emit(
                    Stream::Stderr,
                    &format!("funnel: {}:{n}: {e}\n", crate::diag::escape::escape(name)),
                );
            }
        }
    }
    if let Some(until) = args.until {
        write(&live.advance(until));
    }
    if refused > 0 {
        emit(
            Stream::Stderr,
            &format!("funnel: {refused} input(s) refused, nothing of them applied\n"),
        );
        return Ok(Exit::Problems);
    }
    Ok(Exit::Clean)
}

/// Writes changes as JSON lines on stdout, flushed.
fn write(changes: &[Change]) {
    if changes.is_empty() {
        return;
    }
    let mut out = String::new();
    for c in changes {
        out.push_str(&serde_json::to_string(c).unwrap_or_default());
        out.push('\n');
    }
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(out.as_bytes());
    let _ = stdout.flush();
}

/// Reads lines (each at most the record limit) on a thread of its own; with `follow`,
/// waits for more at the end instead of stopping.
fn spawn_reader(reader: Box<dyn Read + Send>, follow: bool) -> mpsc::Receiver<Line> {
    let (tx, rx) = mpsc::sync_channel(1024);
    std::thread::spawn(move || {
        let limit = crate::limits::RECORD_BYTES;
        let max = limit.get() as u64;
        let mut reader = BufReader::new(reader);
        let mut buf = Vec::new();
        let mut n = 0u64;
        loop {
            let read = (&mut reader).take(max + 2).read_until(b'\n', &mut buf);
            match read {
                Err(e) => {
                    let _ = tx.send(Line::Failed(format!("cannot read: {e}")));
                    return;
                }
                Ok(0) if follow => {
                    std::thread::sleep(Duration::from_millis(100));
                    continue;
                }
                Ok(0) => return,
                Ok(_) => {}
            }
            if buf.len() as u64 > max + 1 {
                let _ = tx.send(Line::Failed(format!(
                    "line {}: a line longer than {}",
                    n + 1,
                    limit.describe()
                )));
                return;
            }
            if !buf.ends_with(b"\n") && follow {
                // A line still being written: wait for its end.
                std::thread::sleep(Duration::from_millis(20));
                continue;
            }
            n += 1;
            let text = match std::str::from_utf8(&buf) {
                Ok(t) => Ok(t.trim_end().to_owned()),
                Err(e) => Err(format!(
                    "not UTF-8 (a bad byte at column {}), expected one JSON object per line",
                    e.valid_up_to() + 1
                )),
            };
            buf.clear();
            if tx.send(Line::Text(n, text)).is_err() {
                return;
            }
        }
    });
    rx
}
