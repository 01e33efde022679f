//! `footprint evaluate`: real-time evaluation of new care models (docs/evaluation.md).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Subcommand;

use crate::Format;
use crate::output::{emit_json, read_text};

#[derive(Debug, Subcommand)]
pub enum EvaluateCommand {
    /// Synthetic control for one treated unit: one JSON request in (stdin or --input), one JSON
    /// response out (weights, synthetic path, gap, RMSPEs, placebo p-value).
    ///
    /// Example: `echo '{"outcome": {"A": [1,2,3], "B": [1,2,2], "C": [2,2,4]}, "treated": "A",
    /// "donors": ["B", "C"], "pre_periods": 2, "placebo": true}' | footprint evaluate synth`
    Synth {
        #[arg(long)]
        input: Option<PathBuf>,
    },
    /// Evaluate every site (a sites file, else the dataset's truth.toml, else its contracts)
    /// on every outcome: synthetic control with placebos, DiD against matched practices and an
    /// interrupted time series, under pre-registered protocols, from the published indicator
    /// table.
    ///
    /// Example: footprint evaluate sites synthetic --history --database sqlite://footprint.db
    Sites {
        dataset: PathBuf,
        /// A sites file (TOML; see docs/evaluation.md).
        #[arg(long)]
        sites: Option<PathBuf>,
        /// The published table of an earlier run (`results` folder with indicators.parquet);
        /// computed from the dataset when absent.
        #[arg(long)]
        results: Option<PathBuf>,
        /// Outcomes (catalogue ids with a month grain); emergency_admissions_rate by default.
        #[arg(long = "outcome")]
        outcomes: Vec<String>,
        /// Use the data up to this month (YYYY-MM).
        #[arg(long)]
        as_of: Option<model::Month>,
        /// Run once for every month since each start (the monthly re-runs).
        #[arg(long)]
        history: bool,
        /// Register protocols and record runs in this register (sqlite://… or postgres://…);
        /// a site and outcome already registered is run under its stored protocol.
        #[arg(long)]
        database: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
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
        EvaluateCommand::Sites {
            dataset,
            sites,
            results,
            outcomes,
            as_of,
            history,
            database,
            format,
        } => {
            let loaded = match crate::validate::load_for_use(&dataset, &dataset::Options::default()) {
                Ok(l) => l,
                Err(report) => {
                    crate::validate::print(&Err(report), Format::Text);
                    bail!("{}: the dataset was refused (see above)", dataset.display());
                }
            };
            let ds = loaded.dataset;
            let st = evaluation::sites::Structure::of(&ds);
            let sites = evaluation::sites::discover(&ds, &st, sites.as_deref())?;
            if sites.is_empty() {
                bail!(
                    "{}: no sites to evaluate (give --sites FILE; the dataset has no truth.toml and no capitation or alliance contracts)",
                    dataset.display()
                );
            }
            let published = match &results {
                Some(dir) => read_published(&dir.join("indicators.parquet"))?,
                None => {
                    let catalogue = engine::Catalogue::default_catalogue()
                        .map_err(|p| anyhow::anyhow!("the built-in catalogue: {} problems", p.len()))?;
                    engine::compute(&ds, &catalogue, &engine::Options::default(), &|_| {})?.published
                }
            };
            let rt = crate::serve::runtime()?;
            let store = match &database {
                Some(url) => Some(
                    rt.block_on(store::Store::open(url))
                        .map_err(|e| anyhow::anyhow!("{url}: {e}"))?,
                ),
                None => None,
            };
            let stored = match &store {
                Some(s) => rt.block_on(evaluation::library::protocols(s))?,
                None => Vec::new(),
            };
            let done =
                evaluation::run::evaluate_all(&published, &sites, &st, &outcomes, &stored, as_of, history)?;
            if let Some(s) = &store {
                let synced = rt.block_on(evaluation::library::sync(s, &done, "footprint evaluate"))?;
                tracing::info!(
                    "{} protocols registered and {} runs recorded in the register",
                    synced.registered,
                    synced.recorded
                );
            }
            match format {
                Format::Json => emit_json(&done),
                Format::Text => {
                    crate::output::emit(&text(&done));
                    Ok(ExitCode::SUCCESS)
                }
            }
        }
    }
}

/// Reads a published indicator table (Parquet).
pub fn read_published(path: &std::path::Path) -> anyhow::Result<Vec<arrow::array::RecordBatch>> {
    let file = std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .with_context(|| format!("reading {}", path.display()))?
        .build()?;
    reader
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("reading {}", path.display()))
}

fn pct(x: f64) -> String {
    format!("{:+.1}%", 100.0 * x)
}

fn text(done: &evaluation::run::Evaluated) -> String {
    let mut out = String::new();
    // The latest run of each protocol.
    for p in &done.protocols {
        let Some(e) = done.runs.iter().rev().find(|r| r.protocol_hash == p.hash()) else {
            continue;
        };
        out.push_str(&format!(
            "{} {} (start {}, data to {}, {} months after; protocol {})\n",
            e.site,
            e.outcome,
            p.start,
            e.as_of,
            e.post_months,
            &e.protocol_hash[..12]
        ));
        if let Some(d) = &e.difference_in_differences {
            out.push_str(&format!(
                "  difference-in-differences: {} ({} to {}), {} {}s against {} matched{}\n",
                pct(d.relative_effect),
                pct(d.lower),
                pct(d.upper),
                d.treated_units,
                p.did_level,
                d.comparator_units,
                match d.site_level_sd {
                    Some(sd) => format!(
                        "; site-wide shocks SD {:.1}% from {} peer groups",
                        100.0 * sd,
                        d.peer_groups
                    ),
                    None => String::new(),
                }
            ));
        }
        if let Some(s) = &e.synthetic_control {
            out.push_str(&format!(
                "  synthetic control: {} (placebo p = {:.3}, {} donor {}s)\n",
                pct(s.relative_effect),
                s.p_value,
                s.donors,
                s.level
            ));
        }
        if let Some(i) = &e.interrupted_time_series {
            out.push_str(&format!(
                "  interrupted time series: {} ({} to {})\n",
                pct(i.relative_effect),
                pct(i.lower),
                pct(i.upper)
            ));
        }
        for x in e.problems.iter().chain(&e.diagnostics) {
            out.push_str(&format!("  note: {x}\n"));
        }
    }
    for p in &done.problems {
        out.push_str(&format!("not evaluated: {p}\n"));
    }
    out
}
