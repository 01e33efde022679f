//! Reading and validating a Footprint dataset folder.
//!
//! A dataset is one folder of CSV and Parquet files laid out as the data contract
//! (`docs/data-contract.md`) says. [`load`] checks every file against every rule before
//! anything is used, and either returns a [`Dataset`] or refuses the whole folder with a
//! [`Report`] of `file:line:column: value: rule` diagnostics. Nothing is ever half-loaded,
//! and nothing is written.
//!
//! ```
//! let dir = tempfile::tempdir().unwrap();
//! let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
//! write("manifest.toml", "name = \"tiny\"\nsource = \"synthetic\"\nlicence = \"OGL-3.0\"\nfrom = \"2024-04\"\nto = \"2024-06\"\n");
//! write("regions.csv", "region_code,name\nY56,London\n");
//! write("systems.csv", "system_code,name,region_code\nQMJ,North Central London,Y56\n");
//! write("organisations.csv", "org_code,name,kind,system_code,parent_code,opened\n\
//!        93C,NHS North Central London,commissioner,QMJ,,2013-04-01\n\
//!        F83004,Archway Medical Centre,gp_practice,QMJ,93C,1974-04-01\n");
//! let loaded = dataset::load(dir.path(), &dataset::Options::default()).unwrap();
//! assert_eq!(loaded.dataset.organisations.len(), 2);
//!
//! write("beds.csv", "period,provider_code,beds_available,beds_occupied\n2024-05,F83004,ten,9\n");
//! let refused = dataset::load(dir.path(), &dataset::Options::default()).unwrap_err();
//! assert_eq!(refused.errors[0].to_string(), "beds.csv:2:beds_available: \"ten\": not a number ≥ 0");
//! ```

mod cell;
mod check;
mod chunk;
mod csvfile;
mod inspect;
mod manifest;
mod parquetfile;
pub mod receipt;
mod refs;
mod report;
pub mod schema;
mod source;

pub use cell::format_timestamp;
pub use check::Tally;
pub use chunk::{Chunk, Lines};
pub use inspect::{Found, Inspection, inspect};
pub use manifest::Manifest;
pub use refs::{Lsoa, Organisation, Region, System};
pub use report::{DEFAULT_SHOWN, Report};
pub use source::{Form, Source};

use arrow::record_batch::RecordBatch;
use check::Checker;
use csvfile::CsvTable;
use model::{Diagnostic, Location, Month, OrgKind};
use parquetfile::ParquetTable;
use refs::Refs;
use schema::TableSpec;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Reports progress while tables are read; the CLI draws progress bars with it.
pub trait Progress: Sync {
    /// A table starts; `total` is its size in rows (Parquet) or bytes (CSV) if known.
    fn start(&self, table: &str, total: u64, unit: Unit);
    fn advance(&self, n: u64);
    fn finish(&self, table: &str);
}

/// What a progress total counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Rows,
    Bytes,
}

/// How to load a dataset.
#[derive(Clone, Copy)]
pub struct Options<'a> {
    /// A CSV line longer than this stops that file with an error (default 1 MiB).
    pub max_line_bytes: u64,
    /// How many diagnostics of each severity to keep for printing (all are counted).
    pub shown: usize,
    pub progress: Option<&'a dyn Progress>,
    /// Skip the full checks of the activity tables when the dataset's validation receipt
    /// (see [`receipt`]) matches every file exactly. Reference tables are always checked.
    pub trust_receipt: bool,
}

impl Default for Options<'_> {
    fn default() -> Self {
        Options {
            max_line_bytes: 1 << 20,
            shown: DEFAULT_SHOWN,
            progress: None,
            trust_receipt: false,
        }
    }
}

impl std::fmt::Debug for Options<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("max_line_bytes", &self.max_line_bytes)
            .field("shown", &self.shown)
            .finish_non_exhaustive()
    }
}

/// A table of a loaded dataset.
#[derive(Debug, Clone)]
pub struct Table {
    pub spec: &'static TableSpec,
    pub source: Source,
    pub tally: Tally,
}

/// A dataset that passed every rule.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub root: PathBuf,
    pub manifest: Manifest,
    /// The tables present, by name.
    pub tables: BTreeMap<&'static str, Table>,
    pub regions: Vec<Region>,
    pub systems: Vec<System>,
    pub organisations: Vec<Organisation>,
    pub lsoas: Vec<Lsoa>,
}

/// A loaded dataset and what was noticed but did not stop it.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub dataset: Dataset,
    /// Warnings and notes only (a dataset with errors is never loaded).
    pub report: Report,
    /// The activity tables were not read: a validation receipt matched every file.
    pub from_receipt: bool,
}

impl Dataset {
    /// The tables present, in the contract's order.
    pub fn tables_in_order(&self) -> impl Iterator<Item = &Table> {
        schema::TABLES.iter().filter_map(|t| self.tables.get(t.name))
    }

    /// Organisations counted by kind.
    pub fn kinds(&self) -> BTreeMap<OrgKind, usize> {
        let mut counts = BTreeMap::new();
        for o in &self.organisations {
            *counts.entry(o.kind).or_insert(0) += 1;
        }
        counts
    }

    /// Reads a table again, in canonical form, chunk by chunk. The dataset was validated
    /// when loaded; if its files have changed since, this fails with the new problems.
    pub fn scan(&self, table: &str) -> Result<Vec<RecordBatch>, Report> {
        let mut report = Report::new(DEFAULT_SHOWN);
        let Some(t) = self.tables.get(table) else {
            report.push(Diagnostic::error(
                Location::file(table),
                None,
                "table is not in this dataset",
            ));
            return Err(report);
        };
        let mut out = Vec::new();
        read_chunks(t.spec, &t.source, &Options::default(), &mut report, |chunk, _| {
            out.push(chunk.data)
        });
        if report.has_errors() { Err(report) } else { Ok(out) }
    }
}

/// Reads every file of a table, handing each canonical chunk to `each`.
///
/// Decoding (CSV parsing or Parquet decompression and conversion) runs on its own thread,
/// one chunk ahead of the checks, so both cores work. Each chunk travels with the problems
/// found while decoding it, which are added to `report` just before the chunk is checked:
/// the order of diagnostics is the same as reading and checking in turn.
fn read_chunks(
    spec: &'static TableSpec,
    source: &Source,
    options: &Options<'_>,
    report: &mut Report,
    mut each: impl FnMut(Chunk, &mut Report),
) {
    let progress = options.progress;
    let shown = report.limit();
    let (tx, rx) = std::sync::mpsc::sync_channel::<(Option<Chunk>, Report)>(2);
    std::thread::scope(|scope| {
        scope.spawn(move || decode(spec, source, options.max_line_bytes, shown, progress, tx));
        for (chunk, decoded) in rx {
            report.absorb(decoded);
            if let Some(chunk) = chunk {
                if let Some(p) = progress {
                    p.advance(match source.form {
                        Form::Csv => 0,
                        _ => chunk.data.num_rows() as u64,
                    });
                }
                each(chunk, report);
            }
        }
    });
    if let Some(p) = progress {
        p.finish(spec.name);
    }
}

/// The decoding side of [`read_chunks`]: sends each chunk with the problems found in it, and
/// a final `None` with any problems found after the last chunk.
fn decode(
    spec: &'static TableSpec,
    source: &Source,
    max_line: u64,
    shown: usize,
    progress: Option<&dyn Progress>,
    tx: std::sync::mpsc::SyncSender<(Option<Chunk>, Report)>,
) {
    let mut first_types: Option<Vec<Option<arrow::datatypes::DataType>>> = None;
    let mut pending = Report::new(shown);
    let send = |chunk: Option<Chunk>, pending: &mut Report| {
        let r = std::mem::replace(pending, Report::new(shown));
        tx.send((chunk, r)).is_ok()
    };
    for (i, (path, name)) in source.files.iter().zip(&source.names).enumerate() {
        match source.form {
            Form::Csv => {
                if let Some(p) = progress {
                    p.start(spec.name, source.bytes, Unit::Bytes);
                }
                let Some(mut t) = CsvTable::open(path, name, i, spec, max_line, &mut pending) else {
                    continue;
                };
                let mut last_bytes = 0;
                while let Some(chunk) = t.next_chunk(&mut pending) {
                    if let Some(p) = progress {
                        let pos = t.bytes_read();
                        p.advance(pos - last_bytes);
                        last_bytes = pos;
                    }
                    if !send(Some(chunk), &mut pending) {
                        return;
                    }
                }
            }
            Form::Parquet | Form::Parts => {
                let Some(mut t) = ParquetTable::open(path, name, i, spec, &mut pending) else {
                    continue;
                };
                if let Some(p) = progress
                    && i == 0
                {
                    p.start(spec.name, t.rows, Unit::Rows);
                }
                match &first_types {
                    None => first_types = Some(t.types.clone()),
                    Some(first) if *first != t.types => {
                        let col = spec
                            .columns
                            .iter()
                            .zip(first.iter().zip(&t.types))
                            .find(|(_, (a, b))| a != b)
                            .map(|(c, _)| c.name)
                            .unwrap_or_default();
                        pending.push(Diagnostic::error(
                            Location::file(name.clone()).column(col),
                            None,
                            format!("part has a different schema from {}", source.names[0]),
                        ));
                        continue;
                    }
                    _ => {}
                }
                while let Some(chunk) = t.next_chunk(&mut pending) {
                    if !send(Some(chunk), &mut pending) {
                        return;
                    }
                }
            }
        }
    }
    send(None, &mut pending);
}

/// Loads and validates the dataset in `dir`. Returns the dataset only if it breaks no rule;
/// otherwise the report of everything wrong with it.
pub fn load(dir: &Path, options: &Options<'_>) -> Result<Loaded, Report> {
    let mut report = Report::new(options.shown);
    if !dir.is_dir() {
        let rule = if dir.exists() {
            "not a folder; a dataset is a folder of files"
        } else {
            "dataset folder does not exist"
        };
        report.push(Diagnostic::error(
            Location::file(dir.display().to_string()),
            None,
            rule,
        ));
        return Err(report);
    }
    let manifest = manifest::read(dir, &mut report);
    let window: Option<(Month, Month)> = manifest.as_ref().map(|m| (m.from, m.to));
    let (sources, unknown) = source::discover(dir, &mut report);
    for name in unknown {
        report
            .notes
            .push(format!("{name}: not a table of the data contract; ignored"));
    }

    let mut trusted = None;
    if options.trust_receipt && manifest.is_some() && !report.has_errors() {
        let files: Vec<PathBuf> = sources
            .iter()
            .filter_map(|(_, s)| s.as_ref())
            .flat_map(|s| s.files.iter().cloned())
            .collect();
        trusted = receipt::trusted(dir, &files);
        if let Some((_, warnings)) = &trusted {
            report.notes.push(format!(
                "validated before and unchanged since ({}); the activity tables were not read \
                 again ({warnings} warnings then: `footprint validate` shows them)",
                receipt::RECEIPT
            ));
        }
    }

    let mut refs = Refs::default();
    let mut tables = BTreeMap::new();
    let (mut regions, mut systems, mut organisations, mut lsoas) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (spec, source) in sources {
        let Some(source) = source else { continue };
        let errors_before = report.error_count;
        let mut kept = Vec::new();
        let known = trusted
            .as_mut()
            .filter(|_| !spec.reference)
            .and_then(|(tallies, _)| tallies.remove(spec.name));
        let tally = if let Some(tally) = known {
            tally
        } else {
            let mut checker = Checker::new(spec, &source.names, &refs, window);
            if source.form != Form::Csv {
                checker.reserve(
                    source
                        .files
                        .iter()
                        .filter_map(|f| parquetfile::row_count(f))
                        .sum(),
                );
            }
            read_chunks(spec, &source, options, &mut report, |chunk, report| {
                checker.check(&chunk, report);
                if spec.reference {
                    kept.push(chunk);
                }
            });
            let dups = checker.duplicate_keys();
            if !dups.is_empty() {
                // Only when a key repeats: read the table again for the repeated values.
                let wanted = dups.iter().map(|d| d.0).collect();
                let mut values = std::collections::HashMap::new();
                let quiet = Options {
                    progress: None,
                    ..*options
                };
                read_chunks(spec, &source, &quiet, &mut Report::new(0), |chunk, _| {
                    checker.key_values(&chunk, &wanted, &mut values)
                });
                checker.report_duplicates(&dups, &values, &mut report);
            }
            checker.tally
        };
        if tally.rows == 0 && report.error_count == errors_before {
            report.push(Diagnostic::error(
                Location::file(source.names.first().cloned().unwrap_or_default()),
                None,
                "table has no rows",
            ));
        }
        match spec.name {
            "regions" => {
                regions = refs::regions(&kept);
                refs.regions = regions.iter().map(|r| r.code.clone()).collect();
            }
            "systems" => {
                systems = refs::systems(&kept);
                refs.systems = systems
                    .iter()
                    .map(|s| (s.code.clone(), s.region.clone()))
                    .collect();
            }
            "organisations" => {
                let mut rows = refs::organisations(&kept);
                refs.orgs = refs::org_kinds(&kept);
                refs::check_organisations(&mut rows, &source.names, &refs, &mut report);
                organisations = rows.into_iter().map(|(o, _, _)| o).collect();
            }
            "lsoa" => {
                lsoas = refs::lsoas(&kept);
                refs.lsoas = lsoas.iter().map(|l| l.code.clone()).collect();
            }
            _ => {}
        }
        tables.insert(spec.name, Table { spec, source, tally });
    }
    match manifest {
        Some(manifest) if !report.has_errors() => Ok(Loaded {
            dataset: Dataset {
                root: dir.to_path_buf(),
                manifest,
                tables,
                regions,
                systems,
                organisations,
                lsoas,
            },
            report,
            from_receipt: trusted.is_some(),
        }),
        _ => Err(report),
    }
}
