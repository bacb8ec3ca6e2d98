//! Phase timings for profiling runs: with `FUNNEL_TIMINGS` set in the environment,
//! each timed phase prints `funnel: PHASE took S s` to stderr (docs/performance.md).

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
        "funnel: {phase} took {:.3} s",
        start.elapsed().as_secs_f64()
    );
    out
}
