//! The regime crate's integration tests, one binary.

mod diagnosis;
mod scenario;
mod assessments;
