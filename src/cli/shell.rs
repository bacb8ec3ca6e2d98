//! `funnel completions SHELL` and `funnel man`: the shell completion script and the
//! manual page, both made from the command line's own definition, so that they never
//! fall behind it.

use super::{Cli, Exit, Stream, UsageError, emit};
use clap::CommandFactory;

/// Arguments of `funnel completions`.
#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

/// Arguments of `funnel man` (none).
#[derive(Debug, clap::Args)]
pub struct ManArgs {}

/// Prints the completion script for a shell.
pub fn completions(args: &CompletionsArgs) -> Result<Exit, UsageError> {
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "funnel", &mut out);
    emit(Stream::Stdout, &String::from_utf8_lossy(&out));
    Ok(Exit::Clean)
}

/// Prints the manual page of `funnel`, its commands listed.
pub fn man(_args: &ManArgs) -> Result<Exit, UsageError> {
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut out)
        .map_err(|e| UsageError(format!("cannot write the manual page: {e}")))?;
    emit(Stream::Stdout, &String::from_utf8_lossy(&out));
    Ok(Exit::Clean)
}
