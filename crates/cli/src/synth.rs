//! `footprint synth`: generate a synthetic England, or report a generated one's calibration.

use anyhow::Context;
use std::path::Path;
use std::process::ExitCode;

/// The options of `footprint synth --out`.
#[derive(Debug, Clone)]
pub struct Generate {
    pub config: synth::Config,
    pub threads: Option<usize>,
}

/// Generates with a progress bar on stderr (unless `progress` is off).
pub fn run_generator(
    out: &Path,
    config: &synth::Config,
    threads: Option<usize>,
    progress: bool,
) -> anyhow::Result<synth::Summary> {
    let bar = progress.then(|| {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{msg:>12} [{bar:30}] {pos}/{len} practices, {elapsed} (eta {eta})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar.set_message("generating");
        bar
    });
    let report = |done: usize, total: usize| {
        if let Some(bar) = &bar {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        }
    };
    let summary = synth::generate(out, config, threads, Some(&report))
        .with_context(|| format!("generating a synthetic England in {}", out.display()))?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(summary)
}

pub fn generate(out: &Path, options: &Generate, progress: bool) -> anyhow::Result<ExitCode> {
    let started = std::time::Instant::now();
    let summary = run_generator(out, &options.config, options.threads, progress)?;
    let seconds = started.elapsed().as_secs_f64();
    let rows: u64 = summary.rows.iter().map(|(_, n)| n).sum();
    let mut text = format!(
        "wrote a synthetic England (scale {}, seed {}, {} to {}) to {}\n",
        options.config.scale,
        options.config.seed,
        options.config.from,
        options.config.to,
        out.display()
    );
    for (table, n) in &summary.rows {
        text.push_str(&format!("  {table:<16} {n:>12} rows\n"));
    }
    text.push_str(&format!(
        "{rows} rows in {seconds:.1} s ({:.0} rows/s); planted signals in {}\n",
        rows as f64 / seconds.max(1e-9),
        out.join("truth.toml").display()
    ));
    crate::output::emit(&text);
    Ok(ExitCode::SUCCESS)
}

pub fn report(dir: &Path) -> anyhow::Result<ExitCode> {
    let report =
        synth::report(dir).with_context(|| format!("reporting the calibration of {}", dir.display()))?;
    crate::output::emit(&report.to_string());
    Ok(ExitCode::SUCCESS)
}
