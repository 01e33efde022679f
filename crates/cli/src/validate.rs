//! `footprint validate`.

use crate::progress::Bars;
use crate::{Format, output};
use std::path::Path;
use std::process::ExitCode;

pub fn run(dir: &Path, format: Format, max_shown: usize, progress: bool) -> anyhow::Result<ExitCode> {
    let bars = Bars::default();
    let options = dataset::Options {
        shown: max_shown,
        progress: progress.then_some(&bars as &dyn dataset::Progress),
        ..Default::default()
    };
    let started = std::time::Instant::now();
    let result = dataset::load(dir, &options);
    tracing::info!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "validated {}",
        dir.display()
    );
    Ok(print(&result, format))
}

/// Prints a load result and returns the exit code it deserves.
pub fn print(result: &Result<dataset::Loaded, dataset::Report>, format: Format) -> ExitCode {
    match result {
        Ok(loaded) => {
            output::emit(&output::summary(&loaded.dataset, &loaded.report, format));
            ExitCode::SUCCESS
        }
        Err(report) => {
            output::emit(&output::refused(report, format));
            ExitCode::from(2)
        }
    }
}
