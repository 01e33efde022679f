//! Reading the raw CSV files by column name.

use crate::{Error, Result};
use std::collections::HashMap;
use std::path::Path;

/// A CSV file read whole, with its header (or given column names for headerless files).
pub(crate) struct RawCsv {
    pub(crate) rows: Vec<Vec<String>>,
    pub(crate) lines: Vec<u64>,
    columns: HashMap<String, usize>,
    path: std::path::PathBuf,
}

impl RawCsv {
    pub(crate) fn read(path: &Path, names: Option<&[&str]>) -> Result<RawCsv> {
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
            path: path.into(),
            source,
        })?;
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(bytes.as_slice());
        let mut rows = Vec::new();
        let mut lines = Vec::new();
        for record in reader.records() {
            let record = record.map_err(|e| Error::Csv {
                path: path.into(),
                line: e.position().map_or(0, |p| p.line()),
                message: e.to_string(),
            })?;
            lines.push(record.position().map_or(0, |p| p.line()));
            rows.push(record.iter().map(|f| f.trim().to_string()).collect::<Vec<_>>());
        }
        let header: Vec<String> = match names {
            Some(names) => names.iter().map(|s| s.to_string()).collect(),
            None => {
                if rows.is_empty() {
                    return Err(Error::Csv {
                        path: path.into(),
                        line: 1,
                        message: "file is empty".into(),
                    });
                }
                lines.remove(0);
                rows.remove(0)
                    .into_iter()
                    .map(|h| h.trim_start_matches('\u{feff}').to_string())
                    .collect()
            }
        };
        let mut columns = HashMap::new();
        for (i, h) in header.into_iter().enumerate() {
            columns.entry(h).or_insert(i);
        }
        Ok(RawCsv {
            rows,
            lines,
            columns,
            path: path.into(),
        })
    }

    pub(crate) fn col(&self, name: &str) -> Result<usize> {
        self.columns.get(name).copied().ok_or_else(|| Error::Column {
            path: self.path.clone(),
            column: name.into(),
        })
    }

    /// The value of column `c` in `row`, or empty if the row is short.
    pub(crate) fn get<'a>(&self, row: &'a [String], c: usize) -> &'a str {
        row.get(c).map_or("", String::as_str)
    }
}
