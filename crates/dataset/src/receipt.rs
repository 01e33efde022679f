//! Validation receipts: a record, written after a dataset passed every rule, of exactly which
//! files passed (path, size and modification time) and what was tallied in them. A later
//! [`crate::load`] with [`crate::Options::trust_receipt`] that finds every file unchanged
//! checks only the small reference tables and takes the other tables' tallies from the
//! receipt, so a dataset validated once is not read end to end again before every
//! computation. Any difference (a file added, removed, resized or touched, or another
//! version of Footprint) and the whole dataset is validated again.
//!
//! The receipt lives at `.footprint/validated.toml` inside the dataset folder. [`crate::load`]
//! never writes it; the caller does, with [`write()`], after a load succeeded.

use crate::check::Tally;
use crate::{Dataset, Loaded};
use model::Period;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where a dataset's receipt is kept, relative to the dataset folder.
pub const RECEIPT: &str = ".footprint/validated.toml";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct FileStamp {
    path: String,
    bytes: u64,
    modified_ns: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct TableStamp {
    rows: u64,
    periods: Vec<String>,
    days: Option<(i32, i32)>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Receipt {
    /// The Footprint version whose rules the dataset passed.
    footprint: String,
    warnings: u64,
    files: Vec<FileStamp>,
    tables: BTreeMap<String, TableStamp>,
}

fn stamp(dir: &Path, file: &Path) -> Option<FileStamp> {
    let meta = std::fs::metadata(file).ok()?;
    let modified = meta.modified().ok()?.duration_since(std::time::UNIX_EPOCH).ok()?;
    Some(FileStamp {
        path: file.strip_prefix(dir).unwrap_or(file).display().to_string(),
        bytes: meta.len(),
        modified_ns: u64::try_from(modified.as_nanos()).ok()?,
    })
}

/// The stamps of the manifest and every table file, in a fixed order; `None` if one cannot
/// be read.
fn stamps(dir: &Path, files: &[PathBuf]) -> Option<Vec<FileStamp>> {
    let mut out = vec![stamp(dir, &dir.join("manifest.toml"))?];
    for f in files {
        out.push(stamp(dir, f)?);
    }
    Some(out)
}

/// The tallies of a receipt that matches `files` exactly, with its warning count.
pub(crate) fn trusted(dir: &Path, files: &[PathBuf]) -> Option<(BTreeMap<String, Tally>, u64)> {
    let text = std::fs::read_to_string(dir.join(RECEIPT)).ok()?;
    let receipt: Receipt = toml::from_str(&text).ok()?;
    if receipt.footprint != env!("CARGO_PKG_VERSION") || Some(receipt.files) != stamps(dir, files) {
        return None;
    }
    let mut tallies = BTreeMap::new();
    for (name, t) in receipt.tables {
        let periods = t
            .periods
            .iter()
            .map(|p| p.parse::<Period>().ok())
            .collect::<Option<_>>()?;
        tallies.insert(
            name,
            Tally {
                rows: t.rows,
                periods,
                days: t.days,
            },
        );
    }
    Some((tallies, receipt.warnings))
}

/// A fingerprint of one table's files as they are now (each file's path, size and
/// modification time, as a receipt records them), for anything kept beside the receipt that
/// is derived from that table and must be made again when it changes; `None` if the table
/// is absent or a file cannot be read.
pub fn table_stamp(ds: &Dataset, table: &str) -> Option<String> {
    let t = ds.tables.get(table)?;
    let mut out = String::new();
    for f in &t.source.files {
        let s = stamp(&ds.root, f)?;
        out.push_str(&format!("{} {} {};", s.path, s.bytes, s.modified_ns));
    }
    Some(out)
}

fn files(ds: &Dataset) -> Vec<PathBuf> {
    ds.tables_in_order()
        .flat_map(|t| t.source.files.iter().cloned())
        .collect()
}

/// Records that `loaded` passed every rule. Returns where the receipt was written.
pub fn write(loaded: &Loaded) -> std::io::Result<PathBuf> {
    let ds = &loaded.dataset;
    let files = stamps(&ds.root, &files(ds))
        .ok_or_else(|| std::io::Error::other("a dataset file can no longer be read"))?;
    let receipt = Receipt {
        footprint: env!("CARGO_PKG_VERSION").to_string(),
        warnings: loaded.report.warning_count,
        files,
        tables: ds
            .tables
            .iter()
            .map(|(name, t)| {
                let stamp = TableStamp {
                    rows: t.tally.rows,
                    periods: t.tally.periods.iter().map(|p| p.to_string()).collect(),
                    days: t.tally.days,
                };
                (name.to_string(), stamp)
            })
            .collect(),
    };
    let text = toml::to_string(&receipt).map_err(std::io::Error::other)?;
    let path = ds.root.join(RECEIPT);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    // Written aside and renamed, so a reader never sees half a receipt.
    let part = path.with_extension("toml.part");
    std::fs::write(&part, text)?;
    std::fs::rename(&part, &path)?;
    Ok(path)
}
