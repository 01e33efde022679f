//! Real-time evaluation of new care models against comparators (docs/evaluation.md).
//!
//! - [`synth`]: synthetic control with exact weights ([`simplex`]), fixed or nested V, the
//!   de-meaned variant and in-space placebo inference.
//! - [`did`]: difference-in-differences against matched comparators, staggered adoption by
//!   cohort (never-treated comparators only), event study, unit-clustered intervals.
//! - [`its`]: interrupted time series (segmented regression with season, Newey–West errors).
//! - [`sites`], [`panel`], [`run`]: sites and their outcomes from the published table, evaluated
//!   under pre-registered protocols ([`run::Protocol`], hashed).
//! - [`library`]: protocols and runs on the register's store, and the learning library.

pub mod did;
pub mod its;
pub mod library;
pub mod linalg;
pub mod optim;
pub mod panel;
pub mod run;
pub mod simplex;
pub mod sites;
pub mod synth;

/// Why a request was refused.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Store(#[from] store::Error),
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Error {
        Error::Store(store::Error::Db(e))
    }
}

pub type Result<T> = std::result::Result<T, Error>;
