//! The dataset crate's integration tests: one binary, one module per concern.

mod cases;
mod corruption;
mod docs;
mod parquet_tables;
mod receipt;
mod support;
