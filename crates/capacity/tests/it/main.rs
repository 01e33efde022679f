//! The capacity crate's tests: reference values from an independent implementation (SciPy),
//! hand-computed projections, determinism, and a plan checked on a synthetic England.

mod calculators;
mod planner;
mod published;
mod synthetic;
