//! For test suites that run on both backends: a SQLite file always, and a fresh PostgreSQL
//! database when `FOOTPRINT_TEST_POSTGRES_URL` names a server. Without the variable it prints
//! `SKIPPED: <suite> on PostgreSQL …`, which `.ci/run` (where the variable is set) refuses.

/// Database URLs for one test: `sqlite://DIR/NAME.db`, and a new database `fp_NAME_…` on the
/// PostgreSQL server the variable names. Panics (it is for tests) when the server refuses.
pub async fn urls(dir: &std::path::Path, name: &str, suite: &str) -> Vec<String> {
    let mut out = vec![format!("sqlite://{}", dir.join(format!("{name}.db")).display())];
    match std::env::var("FOOTPRINT_TEST_POSTGRES_URL") {
        Ok(base) if !base.is_empty() => {
            sqlx::any::install_default_drivers();
            let db = format!(
                "fp_{name}_{}_{}",
                std::process::id(),
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos() % 1_000_000_000)
            );
            let mut admin = <sqlx::AnyConnection as sqlx::Connection>::connect(&base)
                .await
                .unwrap_or_else(|e| panic!("{base}: {e}"));
            sqlx::query(&format!("CREATE DATABASE {db}"))
                .execute(&mut admin)
                .await
                .unwrap_or_else(|e| panic!("creating {db}: {e}"));
            let head = base.rsplit_once('/').map_or(base.as_str(), |(h, _)| h);
            out.push(format!("{head}/{db}"));
        }
        // Written to the process's standard error itself: `println!` is captured by the test
        // harness and shown only for a failing test, and `.ci/run` looks for the line.
        _ => {
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr().lock(),
                "SKIPPED: {suite} on PostgreSQL (set FOOTPRINT_TEST_POSTGRES_URL)"
            );
        }
    }
    out
}
