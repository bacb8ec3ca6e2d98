//! Tests that need a program from outside Cargo (Chromium, DuckDB, PostgreSQL, PySpark).
//! They run under `libtest-mimic` (`harness = false` in `Cargo.toml`) so that a missing
//! program is reported the way `cargo test` reports an `#[ignore]`d test — `ignored,
//! SKIPPED: … install …` on the test's line and in the `N ignored` count — instead of a
//! pass that did not run. With `CI=true` a missing program is a failure: `.ci/run`
//! installs every one of them.

use libtest_mimic::{Arguments, Completion, Failed, Trial};

/// A test that runs `body` when `missing()` finds nothing missing. Otherwise
/// `missing()`'s text (what is missing and how to install it) is the reason the test
/// is shown as skipped, or its failure under `CI=true`.
pub fn needing(
    name: &str,
    missing: impl FnOnce() -> Option<String> + Send + 'static,
    body: impl FnOnce() + Send + 'static,
) -> Trial {
    Trial::ignorable_test(name, move || {
        if let Some(what) = missing() {
            if std::env::var("CI").as_deref() == Ok("true") {
                return Err(Failed::from(format!(
                    "{what}; CI=true, so this is a failure: `.ci/run` installs it"
                )));
            }
            return Ok(Completion::ignored_with(format!("SKIPPED: {what}")));
        }
        body();
        Ok(Completion::Completed)
    })
}

/// Runs the tests with the command line `cargo test` passed (filters, `--list`, …)
/// and exits with the harness's exit code.
pub fn run(trials: Vec<Trial>) -> ! {
    libtest_mimic::run(&Arguments::from_args(), trials).exit()
}
