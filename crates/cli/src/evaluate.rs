//! `footprint evaluate`: real-time evaluation of new care models (docs/evaluation.md).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;

use crate::output::{emit_json, read_text};

#[derive(Debug, Subcommand)]
pub enum EvaluateCommand {
    /// Synthetic control for one treated unit: one JSON request in (stdin or --input), one JSON
    /// response out (weights, synthetic path, gap, RMSPEs, placebo p-value).
    ///
    /// Example: echo '{"outcome": {"A": [1,2,3], "B": [1,2,2], "C": [2,2,4]}, "treated": "A",
    /// "donors": ["B", "C"], "pre_periods": 2, "placebo": true}' | footprint evaluate synth
    Synth {
        #[arg(long)]
        input: Option<PathBuf>,
    },
}

pub fn run(cmd: EvaluateCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        EvaluateCommand::Synth { input } => {
            // Parsed from the text, not through a JSON value: predictors pair with V's diagonal in
            // the order the request gives them.
            let text = read_text(input.as_deref())?;
            let r: evaluation::synth::Request =
                serde_json::from_str(&text).context("reading the synthetic control request")?;
            emit_json(&evaluation::synth::run(&r)?)
        }
    }
}
