//! A chunk of canonical rows and where each came from.

use arrow::record_batch::RecordBatch;

/// Rows in the canonical schema of their table, with their line numbers.
#[derive(Debug, Clone)]
pub struct Chunk {
    pub data: RecordBatch,
    pub lines: Lines,
    /// Index into the table source's file names.
    pub file: usize,
}

/// The line of each row: CSV rows may span lines (quoted newlines), Parquet rows don't.
#[derive(Debug, Clone)]
pub enum Lines {
    /// Row `i` is at line `first + i`.
    From(u64),
    Listed(Vec<u64>),
}

impl Lines {
    pub fn line(&self, row: usize) -> u64 {
        match self {
            Lines::From(first) => first + row as u64,
            Lines::Listed(lines) => lines[row],
        }
    }
}
