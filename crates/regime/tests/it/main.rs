//! The regime crate's integration tests, one binary.

mod assessments;
mod diagnosis;
mod scenario;
