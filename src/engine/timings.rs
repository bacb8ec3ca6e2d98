//! Phase timings for profiling runs: with `FUNNEL_TIMINGS` set in the environment,
//! each timed phase prints `funnel: PHASE took S s (resident R MB, peak P MB)` to
//! stderr (docs/performance.md); the memory figures are the process's at the end of
//! the phase, where the system reports them (Linux), and are left out elsewhere.

use std::sync::OnceLock;
use std::time::Instant;

fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("FUNNEL_TIMINGS").is_some())
}

/// Runs `f`, printing how long it took when `FUNNEL_TIMINGS` is set.
pub fn timed<T>(phase: &str, f: impl FnOnce() -> T) -> T {
    if !enabled() {
        return f();
    }
    let start = Instant::now();
    let out = f();
    eprintln!(
        "funnel: {phase} took {:.3} s{}",
        start.elapsed().as_secs_f64(),
        memory().unwrap_or_default()
    );
    out
}

/// ` (resident R MB, peak P MB)` from `/proc/self/status`, where there is one.
fn memory() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let mb = |key: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(key))?;
        let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb / 1024)
    };
    Some(format!(
        " (resident {} MB, peak {} MB)",
        mb("VmRSS:")?,
        mb("VmHWM:")?
    ))
}
