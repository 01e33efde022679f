//! The statistics matched, case by case, to the reference vectors produced by the NHS's own R
//! implementations (see `tests/data/README.md`).

mod vectors;

mod funnel;
mod phe;
mod spc;
