//! For test suites: the slowest end-to-end tests (a synthetic England through the whole
//! pipeline, compiled without full optimisation) run only when `FOOTPRINT_TEST_FULL` is set,
//! as the PostgreSQL and Chromium suites run only when a variable names their service.
//! `.ci/run` sets it and refuses a run that printed `SKIPPED:`.

use std::io::Write;

/// Whether the full end-to-end tests run (`FOOTPRINT_TEST_FULL` set and not empty).
/// Otherwise prints `SKIPPED: <test> …` where `cargo test` shows it and returns `false`.
pub fn full(test: &str) -> bool {
    if std::env::var_os("FOOTPRINT_TEST_FULL").is_some_and(|v| !v.is_empty()) {
        return true;
    }
    skipped(&format!(
        "{test} (a synthetic England end to end; set FOOTPRINT_TEST_FULL=1)"
    ));
    false
}

/// Prints `SKIPPED: <what>` on the process's standard error itself, not through `eprintln!`,
/// which the test harness captures and shows only for a failing test; `.ci/run` looks for
/// the line in `cargo test`'s output.
pub fn skipped(what: &str) {
    let _ = writeln!(std::io::stderr().lock(), "SKIPPED: {what}");
}
