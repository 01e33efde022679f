//! `footprint demo`.

use crate::{Format, validate};
use anyhow::Context;
use reference::embedded;
use std::path::Path;
use std::process::ExitCode;

/// The demonstration's synthetic England: a hundredth of England, generated in seconds.
pub const DEMO_SCALE: f64 = 0.01;

pub fn run(
    out: &Path,
    format: Format,
    progress: bool,
    scale: f64,
    serve: Option<&str>,
) -> anyhow::Result<ExitCode> {
    // The real England skeleton, as a starting point for your own data.
    let dir = out.join("england");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    for (name, bytes) in embedded::FILES {
        let path = dir.join(name);
        if std::fs::read(&path).ok().as_deref() != Some(*bytes) {
            std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
        }
    }
    tracing::info!("wrote the England reference dataset to {}", dir.display());

    // A synthetic England on it, generated once and reused.
    let synthetic = out.join("synthetic");
    let config = synth::Config {
        scale,
        ..synth::Config::default()
    };
    let reusable = synth::Truth::read(&synthetic).is_ok_and(|t| {
        t.generator.scale == config.scale
            && t.generator.seed == config.seed
            && t.generator.version == env!("CARGO_PKG_VERSION")
    });
    if reusable {
        tracing::info!("reusing the synthetic England in {}", synthetic.display());
    } else {
        crate::synth::run_generator(&synthetic, &config, None, progress)?;
        tracing::info!(
            "generated a synthetic England (scale {scale}) in {}",
            synthetic.display()
        );
    }

    let bars = crate::progress::Bars::default();
    let options = dataset::Options {
        progress: progress.then_some(&bars as &dyn dataset::Progress),
        ..Default::default()
    };
    let result = validate::load_for_use(&synthetic, &options);
    let code = validate::print(&result, format);
    if result.is_err() {
        return Ok(code);
    }
    drop(result);
    // Indicators, every shipped pack's assessments and the triggered system cases.
    let results = out.join("results");
    let database = format!("sqlite://{}", out.join("footprint.db").display());
    let synced = crate::serve::prepare(
        &synthetic,
        &results,
        &database,
        false,
        &engine::Place::Embedded,
        progress,
    )?;
    // The new care models programme: synthetic England's vanguards and a worked round of
    // applications, reviews, selection and drawdown (docs/programme.md).
    if let Some(p) = crate::programme::scenario_if_empty(&synthetic, &database)? {
        tracing::info!(
            "new care models programme: {} applications, {} refused, {} selected",
            p.applications,
            p.refused.len(),
            p.selected.len()
        );
    }
    if format == Format::Text {
        let report = synth::report(&synthetic).context("reporting the calibration")?;
        crate::output::emit(&format!(
            "\n{report}\nplanted signals: {}\nnext: `footprint validate {}` checks your own data the same way\n",
            synthetic.join("truth.toml").display(),
            dir.display()
        ));
        let s = &synced;
        crate::output::emit(&format!(
            "results in {} (indicators, assessments by sof-2016, nof-2025, ccg-iaf-2016 and system-2015); {} systems challenged, {} cases opened now, {} already open, in {}\n",
            results.display(),
            s.challenged.len(),
            s.opened.len(),
            s.already_open.len(),
            database
        ));
    }
    match serve {
        Some(addr) => crate::serve::serve(&results, &database, addr, server::Options::default(), None),
        None => Ok(code),
    }
}

/// `footprint demo --real`: the real England dataset from the shipped real publications,
/// validated, computed and served like the synthetic one.
pub fn run_real(
    out: &Path,
    real_data: &Path,
    format: Format,
    progress: bool,
    serve: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let dir = out.join("real");
    let done = reference::import::real::build(real_data, &dir)?;
    if format == Format::Text {
        for (what, imported) in &done {
            crate::output::emit(&format!("\n# import {what}\n{}", imported.summary(&dir)));
        }
    }
    let bars = crate::progress::Bars::default();
    let options = dataset::Options {
        progress: progress.then_some(&bars as &dyn dataset::Progress),
        ..Default::default()
    };
    let result = validate::load_for_use(&dir, &options);
    let code = validate::print(&result, format);
    if result.is_err() {
        return Ok(code);
    }
    drop(result);
    let results = out.join("results-real");
    let database = format!("sqlite://{}", out.join("footprint-real.db").display());
    crate::serve::prepare(
        &dir,
        &results,
        &database,
        false,
        &engine::Place::Embedded,
        progress,
    )?;
    if format == Format::Text {
        crate::output::emit(&format!(
            "\nthe real England dataset is in {}; results in {}\n",
            dir.display(),
            results.display()
        ));
    }
    match serve {
        Some(addr) => crate::serve::serve(&results, &database, addr, server::Options::default(), None),
        None => Ok(code),
    }
}
