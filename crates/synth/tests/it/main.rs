//! Synthetic England: determinism, validity, calibration and every planted signal, checked
//! from the files (as another tool would read them), not from the generator's memory.

mod data;
mod determinism;
mod signals;
mod types;
mod validity;
