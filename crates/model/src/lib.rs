//! Footprint's domain vocabulary: the kinds of organisation, the NHS period grains, the
//! enumerations of the data contract, and the [`Diagnostic`] every data-quality problem is
//! reported as.
//!
//! This crate does no IO and knows nothing about file formats beyond the spelling of the
//! contract's values.
//!
//! ```
//! use model::{OrgKind, Period};
//!
//! let q: Period = "FY2023-Q1".parse().unwrap();
//! assert_eq!(q.first_month().to_string(), "2023-04");
//! assert_eq!(q.last_month().to_string(), "2023-06");
//! assert!(OrgKind::AcuteTrust.is_provider());
//! ```

mod diagnostic;
mod org;
mod period;
pub mod vocab;

pub use diagnostic::{Diagnostic, Location, Severity};
pub use org::{OrgKind, UnknownKind};
pub use period::{Grain, Month, Period, PeriodError, format_date, parse_date};
