//! The new care models programme office (docs/programme.md).
//!
//! - [`select`]: the portfolio of bids that maximises total value within a budget under
//!   quotas, solved exactly as a 0/1 integer programme, with what binds and what the best
//!   excluded bids would need.
//! - [`review`]: peer review of applications: self-review not counted, declared conflicts
//!   excluded and recorded, each reviewer's leniency normalised (z-scores by default; Borda
//!   and Eurovision-style points as options).
//! - [`fund`]: the transformation fund: eligibility rules as data (no deficit support, a
//!   decommissioning plan, running costs that end), Green Book appraisal, and drawdown of
//!   tranches against decommissioning milestones.
//! - [`coverage`]: how much of each footprint's population and spend is under capitated,
//!   alliance or pooled terms.
//! - [`office`]: care-model organisations, applications, reviews, selections, tranches,
//!   procurement waivers, legal advice and conflicts of interest on the register's store, every
//!   change audited.
//! - [`scenario`]: a programme on synthetic England, built from a dataset.

#[cfg(feature = "dataset")]
pub mod coverage;
pub mod fund;
pub mod input;
pub mod office;
pub mod review;
#[cfg(feature = "dataset")]
pub mod scenario;
pub mod select;

/// Why an input or a request was refused.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A value in a file that breaks a rule: `file:line:column: value: rule`.
    #[error("{file}:{line}:{column}: {value}: {rule}")]
    Cell {
        file: String,
        line: u64,
        column: u64,
        value: String,
        rule: String,
    },
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Refused(String),
    /// The change conflicts with the record as it stands (already recorded, already met,
    /// already released, a milestone not yet met).
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Store(#[from] store::Error),
    #[error("solver: {0}")]
    Solver(String),
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Error {
        Error::Store(store::Error::Db(e))
    }
}

pub type Result<T> = std::result::Result<T, Error>;
