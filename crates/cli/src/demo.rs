//! `footprint demo`.

use crate::{Format, validate};
use anyhow::Context;
use reference::embedded;
use std::path::Path;
use std::process::ExitCode;

pub fn run(out: &Path, format: Format, progress: bool) -> anyhow::Result<ExitCode> {
    let dir = out.join("england");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    for (name, bytes) in embedded::FILES {
        let path = dir.join(name);
        if std::fs::read(&path).ok().as_deref() != Some(*bytes) {
            std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
        }
    }
    tracing::info!("wrote the England reference dataset to {}", dir.display());
    let bars = crate::progress::Bars::default();
    let options = dataset::Options {
        progress: progress.then_some(&bars as &dyn dataset::Progress),
        ..Default::default()
    };
    let result = dataset::load(&dir, &options);
    let code = validate::print(&result, format);
    if result.is_ok() && format == Format::Text {
        crate::output::emit(&format!(
            "\nnext: `footprint validate {}` checks your own data the same way\n",
            dir.display()
        ));
    }
    Ok(code)
}
