//! Synthetic England: a full Footprint dataset, generated on the real England skeleton
//! (regions, systems, organisations, LSOAs and the real A&E SitRep), calibrated to national
//! figures, with known signals planted and written to `truth.toml`.
//!
//! Generation is deterministic: every practice draws from its own random stream, blocks of
//! practices are generated in parallel and written in a fixed order, so the same seed and
//! scale give byte-identical files whatever the number of threads.

pub mod calibration;
mod columns;
mod finance;
mod generate;
mod params;
mod people;
mod report;
mod rng;
mod signals;
mod skeleton;
mod tables;
pub mod testing;
mod truth;
mod world;

pub use calibration::{Figure, Report};
pub use finance::{
    Metrics as FinanceMetrics, Row as FinanceRow, breaches as finance_breaches, metrics as finance_metrics,
    sum as finance_sum,
};
pub use report::report;
pub use truth::Truth;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use model::Month;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: cannot write Parquet: {message}")]
    Parquet { path: PathBuf, message: String },
    #[error("{path}: cannot read: {message}")]
    Read { path: PathBuf, message: String },
    #[error("{0}")]
    Reference(String),
    #[error("{0}")]
    Config(String),
}

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Config {
    /// 1 = England's 63.9 million registered patients.
    pub scale: f64,
    pub seed: u64,
    pub from: Month,
    pub to: Month,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            scale: 0.01,
            seed: 1,
            from: default_from(),
            to: default_to(),
        }
    }
}

/// The default window: the two years that end with the real SitRep's last month.
pub fn default_from() -> Month {
    Month::new(2023, 7).unwrap_or_else(|| unreachable!("a valid month"))
}

pub fn default_to() -> Month {
    Month::new(2025, 6).unwrap_or_else(|| unreachable!("a valid month"))
}

/// The largest scale accepted (ten Englands).
pub const MAX_SCALE: f64 = 10.0;

impl Config {
    pub fn check(&self) -> Result<(), Error> {
        if !(self.scale > 0.0 && self.scale <= MAX_SCALE) {
            return Err(Error::Config(format!(
                "--scale {}: must be above 0 and at most {MAX_SCALE} (1 = England's 63.9 million registered patients)",
                self.scale
            )));
        }
        let months = self.from.months_until(self.to) + 1;
        if !(12..=120).contains(&months) {
            return Err(Error::Config(format!(
                "--from {} --to {}: the window must be 12 to 120 months long (it is {months})",
                self.from, self.to
            )));
        }
        Ok(())
    }
}

/// Rows written per table.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub rows: Vec<(&'static str, u64)>,
    pub patients: u64,
}

/// Called with (practices done, practices in all).
pub type Progress<'a> = &'a (dyn Fn(usize, usize) + Sync);

/// Display names shared by the generator's tables.
#[derive(Debug)]
pub struct Names {
    pub practices: Vec<String>,
    pub lsoas: Vec<String>,
    pub providers: Vec<String>,
    pub commissioners: Vec<String>,
    pub months: Vec<String>,
    pub bands: Vec<String>,
    /// Financial years overlapping the window, as `2024/25`.
    pub years: Vec<String>,
}

/// Files that a previous run may have left and a new run replaces.
pub const OUTPUTS: [&str; 22] = [
    "manifest.toml",
    "truth.toml",
    "regions.csv",
    "systems.csv",
    "organisations.csv",
    "lsoa.csv",
    "population.parquet",
    "patients.parquet",
    "conditions.parquet",
    "admissions.parquet",
    "outpatients.parquet",
    "ae_attendances.parquet",
    "survey.parquet",
    "ae_monthly.csv",
    "rtt.csv",
    "beds.csv",
    "workforce.csv",
    "finance.csv",
    "allocations.csv",
    "spend.csv",
    "contracts.csv",
    "cqc_ratings.csv",
];

/// Practices per block: the unit of parallel work and of output order.
const BLOCK: usize = 16;

/// Generates a dataset into `out` (created if missing; it must hold nothing but a previous
/// synthetic dataset, which is replaced).
///
/// `threads` sets the number of generating threads (default: one per core); the output is
/// the same whatever it is.
pub fn generate(
    out: &Path,
    config: &Config,
    threads: Option<usize>,
    progress: Option<Progress<'_>>,
) -> Result<Summary, Error> {
    config.check()?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.unwrap_or(0))
        .build()
        .map_err(|e| Error::Config(format!("cannot start {threads:?} threads: {e}")))?;
    pool.install(|| generate_here(out, config, progress))
}

fn generate_here(out: &Path, config: &Config, progress: Option<Progress<'_>>) -> Result<Summary, Error> {
    prepare(out)?;
    let manifest = dataset::Manifest {
        name: format!("synthetic-england-scale-{}-seed-{}", config.scale, config.seed),
        source: "synthetic".into(),
        licence: "Synthetic rows: generated by Footprint (MIT). Reference tables: contains public sector information licensed under the Open Government Licence v3.0".into(),
        from: config.from,
        to: config.to,
    };
    let sk = skeleton::load(out, &manifest.to_toml(), config.from, config.to)?;
    let world = world::World::new(&sk, *config);
    let names = names(&world);

    let sinks = [
        ("patients", columns::PATIENTS.clone()),
        ("conditions", columns::CONDITIONS.clone()),
        ("admissions", columns::ADMISSIONS.clone()),
        ("ae_attendances", columns::AE.clone()),
        ("outpatients", columns::OUTPATIENTS.clone()),
        ("population", columns::POPULATION.clone()),
    ];
    let mut totals = generate::Totals::new(
        sk.providers.len(),
        world.months.len(),
        sk.commissioners.len(),
        names.years.len(),
    );
    let mut rows = [0u64; 6];
    let blocks: Vec<std::ops::Range<usize>> = (0..world.practices.len())
        .step_by(BLOCK)
        .map(|s| s..(s + BLOCK).min(world.practices.len()))
        .collect();
    let written = std::thread::scope(|scope| -> Result<(), Error> {
        let mut senders: Vec<SyncSender<RecordBatch>> = Vec::new();
        let mut handles = Vec::new();
        for (name, schema) in &sinks {
            let (tx, rx) = sync_channel::<RecordBatch>(4);
            let path = out.join(format!("{name}.parquet"));
            let schema = schema.clone();
            handles.push(scope.spawn(move || write_parquet(&path, schema, rx)));
            senders.push(tx);
        }
        let group = rayon::current_num_threads().max(1) * 2;
        let mut done = 0;
        let mut send_failed = false;
        for chunk in blocks.chunks(group) {
            let generated: Vec<generate::Block> = chunk
                .par_iter()
                .map(|r| generate::block(&world, &names, r.clone()))
                .collect();
            for (block, range) in generated.into_iter().zip(chunk) {
                totals.add(&block.totals);
                let batches = [
                    block.patients,
                    block.conditions,
                    generate::renumber(&block.admissions, rows[2] as i64 + 1),
                    generate::renumber(&block.ae_attendances, rows[3] as i64 + 1),
                    generate::renumber(&block.outpatients, rows[4] as i64 + 1),
                    block.population,
                ];
                for (i, batch) in batches.into_iter().enumerate() {
                    rows[i] += batch.num_rows() as u64;
                    if batch.num_rows() > 0 && senders[i].send(batch).is_err() {
                        send_failed = true;
                    }
                }
                done += range.len();
            }
            if let Some(progress) = progress {
                progress(done, world.practices.len());
            }
            if send_failed {
                break;
            }
        }
        drop(senders);
        for handle in handles {
            handle
                .join()
                .map_err(|_| Error::Config("a Parquet writer thread panicked".into()))??;
        }
        Ok(())
    });
    written?;

    let mut summary = Summary {
        patients: rows[0],
        ..Default::default()
    };
    for (i, (name, _)) in sinks.iter().enumerate() {
        summary.rows.push((name, rows[i]));
    }
    let finance = finance::generate(&world, &names, &totals);
    summary
        .rows
        .extend(tables::write(out, &world, &names, &totals, &finance)?);
    // A table with no rows (possible at tiny scales) is left out: the contract refuses empty files.
    for (name, rows) in &summary.rows {
        if *rows == 0 {
            for ext in ["parquet", "csv"] {
                let path = out.join(format!("{name}.{ext}"));
                if path.exists() {
                    std::fs::remove_file(&path).map_err(|source| Error::Io { path, source })?;
                }
            }
        }
    }
    truth::Truth::new(&world, &names, &finance).write(out)?;
    Ok(summary)
}

/// Creates `out`, or clears a previous synthetic dataset from it. Anything else in the
/// folder is left alone, and a folder holding another dataset is refused.
fn prepare(out: &Path) -> Result<(), Error> {
    let io = |source| Error::Io {
        path: out.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(out).map_err(io)?;
    let manifest = out.join("manifest.toml");
    if let Ok(text) = std::fs::read_to_string(&manifest)
        && !text.lines().any(|l| l.trim() == "source = \"synthetic\"")
    {
        return Err(Error::Config(format!(
            "{}: holds a dataset that is not synthetic; choose an empty folder",
            out.display()
        )));
    }
    for name in OUTPUTS {
        let path = out.join(name);
        if path.exists() {
            std::fs::remove_file(&path).map_err(|source| Error::Io { path, source })?;
        }
    }
    Ok(())
}

fn names(world: &world::World<'_>) -> Names {
    let sk = world.sk;
    let first = world.config.from.financial_year();
    let last = world.config.to.financial_year();
    Names {
        practices: sk.practices.iter().map(|p| p.code.clone()).collect(),
        lsoas: sk.dataset.lsoas.iter().map(|l| l.code.clone()).collect(),
        providers: sk.providers.iter().map(|p| p.code.clone()).collect(),
        commissioners: sk.commissioners.iter().map(|c| c.code.clone()).collect(),
        months: world.months.iter().map(|m| m.to_string()).collect(),
        bands: params::AGE_BANDS.iter().map(|b| b.to_string()).collect(),
        years: (first..=last)
            .map(|y| model::Period::Year(y).to_string())
            .collect(),
    }
}

/// Parquet settings: zstd level 1 (a good ratio at little cost), row groups of a million rows.
fn properties() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(1).unwrap_or_default()))
        .set_max_row_group_row_count(Some(1 << 20))
        .set_created_by("footprint synth".into())
        .build()
}

fn write_parquet(path: &Path, schema: SchemaRef, rx: Receiver<RecordBatch>) -> Result<(), Error> {
    let parquet = |e: parquet::errors::ParquetError| Error::Parquet {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let file = std::fs::File::create(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut writer =
        ArrowWriter::try_new(std::io::BufWriter::new(file), schema, Some(properties())).map_err(parquet)?;
    for batch in rx {
        writer.write(&batch).map_err(parquet)?;
    }
    writer.close().map_err(parquet)?;
    Ok(())
}

/// Writes one batch as a whole Parquet file (the smaller tables).
pub(crate) fn write_parquet_batch(path: &Path, batch: RecordBatch) -> Result<(), Error> {
    let (tx, rx) = sync_channel(1);
    let schema = batch.schema();
    // The receiver is alive until write_parquet returns, and it is called below.
    let _ = tx.send(batch);
    drop(tx);
    write_parquet(path, schema, rx)
}
