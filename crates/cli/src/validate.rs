//! `footprint validate`.

use crate::progress::Bars;
use crate::{Format, output};
use std::path::Path;
use std::process::ExitCode;

pub fn run(
    dir: &Path,
    format: Format,
    max_shown: usize,
    receipt: bool,
    progress: bool,
) -> anyhow::Result<ExitCode> {
    let bars = Bars::default();
    let options = dataset::Options {
        shown: max_shown,
        progress: progress.then_some(&bars as &dyn dataset::Progress),
        ..Default::default()
    };
    let started = std::time::Instant::now();
    let result = dataset::load(dir, &options);
    if let Ok(loaded) = &result
        && receipt
    {
        remember(loaded);
    }
    tracing::info!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "validated {}",
        dir.display()
    );
    Ok(print(&result, format))
}

/// Loads a dataset to compute from: when its validation receipt matches every file, only
/// the reference tables are checked again; a full validation that passes leaves a receipt.
pub fn load_for_use(dir: &Path, options: &dataset::Options<'_>) -> Result<dataset::Loaded, dataset::Report> {
    let options = dataset::Options {
        trust_receipt: true,
        ..*options
    };
    let result = dataset::load(dir, &options);
    match &result {
        Ok(loaded) if !loaded.from_receipt => remember(loaded),
        // Validated before it had a patients mart, or its mart is stale.
        Ok(loaded) if !engine::mart::current(&loaded.dataset) => mart(&loaded.dataset),
        _ => {}
    }
    result
}

/// Writes the receipt of a dataset that passed, and its patients mart (`engine::mart`); a
/// folder that cannot be written to only means the next run validates in full again, and
/// a missing mart that registered-population indicators join patients.
fn remember(loaded: &dataset::Loaded) {
    match dataset::receipt::write(loaded) {
        Ok(path) => tracing::info!("validation receipt written to {}", path.display()),
        Err(e) => tracing::warn!("no validation receipt written ({e}); the next run validates in full"),
    }
    mart(&loaded.dataset);
}

/// Writes a dataset's patients mart, logging where or why not.
fn mart(ds: &dataset::Dataset) {
    let started = std::time::Instant::now();
    match engine::mart::write(ds) {
        Ok(Some(path)) => tracing::info!(
            seconds = started.elapsed().as_secs_f64(),
            "patients mart written to {}",
            path.display()
        ),
        Ok(None) => {}
        Err(e) => {
            tracing::warn!("no patients mart written ({e}); registered-population indicators join patients")
        }
    }
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
