//! `footprint demo`.

use crate::{Format, validate};
use anyhow::Context;
use reference::embedded;
use std::path::Path;
use std::process::ExitCode;

/// The demonstration's synthetic England: a hundredth of England, generated in seconds.
pub const DEMO_SCALE: f64 = 0.01;

pub fn run(out: &Path, format: Format, progress: bool, scale: f64) -> anyhow::Result<ExitCode> {
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
    if result.is_ok() && format == Format::Text {
        let report = synth::report(&synthetic).context("reporting the calibration")?;
        crate::output::emit(&format!(
            "\n{report}\nplanted signals: {}\nnext: `footprint validate {}` checks your own data the same way\n",
            synthetic.join("truth.toml").display(),
            dir.display()
        ));
    }
    Ok(code)
}
