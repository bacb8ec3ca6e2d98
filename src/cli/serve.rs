//! `funnel serve`: the rules kept live behind Segment's HTTP Tracking API (see
//! docs/live.md, "funnel serve"; the server is in `crate::serve`).

use super::rules::{PlanArgs, plan};
use super::{ColorChoice, Exit, UsageError};
use crate::engine::data::DataFiles;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Arguments of `funnel serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub source: PlanArgs,
    /// The data folder to start from (read only when the state folder is new).
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,
    /// The address to listen on; a non-loopback address needs --allow-remote.
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8088")]
    pub listen: SocketAddr,
    /// Listen on an address other machines can reach (put TLS in front of it).
    #[arg(long)]
    pub allow_remote: bool,
    /// The write key clients authenticate with (HTTP Basic user name, empty password).
    #[arg(long, value_name = "KEY")]
    pub write_key: String,
    /// The folder for the write-ahead log, the snapshots and the change log (created
    /// if needed; one server at a time).
    #[arg(long, value_name = "DIR")]
    pub state: PathBuf,
    /// Write a snapshot (and start a new log file) after this many requests.
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    pub snapshot_every: u64,
}

/// The shortest write key taken.
const MIN_KEY: usize = 8;

/// Runs `funnel serve` until the process is stopped.
pub fn run(args: &Args, color: ColorChoice) -> Result<Exit, UsageError> {
    if args.write_key.chars().count() < MIN_KEY || args.write_key.chars().any(char::is_control) {
        return Err(UsageError(format!(
            "`--write-key` needs at least {MIN_KEY} characters and no control characters"
        )));
    }
    if !args.listen.ip().is_loopback() && !args.allow_remote {
        return Err(UsageError(format!(
            "`{}` can be reached from other machines; give --allow-remote to listen there \
             (and put TLS in front: the write key travels in every request)",
            args.listen
        )));
    }
    if !args.data.is_dir() {
        return Err(UsageError(format!(
            "there is no folder `{}` (given to --data)",
            args.data.display()
        )));
    }
    let data = DataFiles::from_dir(&args.data).map_err(|e| UsageError(e.to_string()))?;
    let plan = match plan(&args.source, color)? {
        Ok(p) => p,
        Err(exit) => return Ok(exit),
    };
    crate::serve::run(crate::serve::Config {
        plan,
        data,
        listen: args.listen,
        write_key: args.write_key.clone(),
        state: args.state.clone(),
        snapshot_every: args.snapshot_every,
    })
    .map_err(UsageError)?;
    Ok(Exit::Clean)
}
