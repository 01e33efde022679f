//! Turns the real England reference files (ODS, ONS, NHS England's A&E SitRep) into the data
//! contract's reference tables: `regions`, `systems`, `organisations`, `lsoa` and
//! `ae_monthly`, with a `manifest.toml`.
//!
//! The raw files leave gaps (no trust type, codes that changed in 2022, SitRep sites that
//! are not trusts). Each is bridged by a rule in `rules.toml` or documented in
//! `docs/reference-data.md`; nothing is edited by hand. The output is deterministic: the
//! same inputs give the same bytes.

mod build;
pub mod embedded;
pub mod import;
mod raw;
mod rules;
pub mod sitrep;

pub use build::{Bridged, Contract, OutTable, build};
pub use rules::Rules;

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    Csv {
        path: PathBuf,
        line: u64,
        message: String,
    },
    #[error("{path}: required column {column} is missing")]
    Column { path: PathBuf, column: String },
    #[error("{path}: {message}")]
    Rules { path: PathBuf, message: String },
    #[error("{path}: {message}")]
    Inconsistent { path: PathBuf, message: String },
    /// A bad cell: `file:line:column: value: rule`, or `file:sheet!cell: value: rule`.
    #[error("{path}:{at}: {value}: {rule}")]
    Cell {
        path: PathBuf,
        at: String,
        value: String,
        rule: String,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
