//! Published tables as a grid of text cells, from CSV or from a spreadsheet (`.xls`, `.xlsx`,
//! `.ods`, read by calamine), with each cell's address for error messages.

use super::{cell_error, file_error};
use crate::{Error, Result};
use calamine::{Data, Reader};
use std::path::{Path, PathBuf};

/// One sheet or CSV file as rows of trimmed text.
#[derive(Debug, Clone)]
pub struct Grid {
    pub path: PathBuf,
    /// The sheet's name (spreadsheets only).
    pub sheet: Option<String>,
    pub rows: Vec<Vec<String>>,
    /// Spreadsheets: the 0-based row and column of `rows[0][0]`. CSV: unused.
    origin: (u32, u32),
    /// CSV: the file line of each row (1 = the first line).
    lines: Vec<u64>,
}

/// Whether a file is a spreadsheet by its extension.
pub fn is_spreadsheet(path: &Path) -> bool {
    matches!(
        path.extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some("xls" | "xlsx" | "xlsm" | "xlsb" | "ods")
    )
}

/// `A`, `B`, … `Z`, `AA` for a 0-based column.
pub fn column_letters(mut c: u32) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (c % 26) as u8);
        if c < 26 {
            break;
        }
        c = c / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

fn text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) => s.trim().to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => format!("{f}"),
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => b.to_string(),
        other => other.to_string().trim().to_string(),
    }
}

impl Grid {
    /// Reads a CSV file whole (a UTF-8 byte-order mark is dropped).
    pub fn csv(path: &Path) -> Result<Grid> {
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
            path: path.into(),
            source,
        })?;
        let bytes = bytes.strip_prefix(b"\xef\xbb\xbf".as_slice()).unwrap_or(&bytes);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(bytes);
        let mut rows = Vec::new();
        let mut lines = Vec::new();
        for record in reader.byte_records() {
            let record = record.map_err(|e| {
                cell_error(
                    path,
                    format!("{}:1", e.position().map_or(0, |p| p.line())),
                    "",
                    format!("not readable as CSV: {e}"),
                )
            })?;
            let line = record.position().map_or(0, |p| p.line());
            let mut row = Vec::with_capacity(record.len());
            for (i, f) in record.iter().enumerate() {
                let s = std::str::from_utf8(f).map_err(|_| {
                    cell_error(
                        path,
                        format!("{line}:{}", i + 1),
                        String::from_utf8_lossy(f),
                        "not UTF-8 text",
                    )
                })?;
                row.push(s.trim().to_string());
            }
            lines.push(line);
            rows.push(row);
        }
        Ok(Grid {
            path: path.into(),
            sheet: None,
            rows,
            origin: (0, 0),
            lines,
        })
    }

    /// Reads one sheet of a spreadsheet: the first of `names` the workbook has (compared
    /// without case), or the first sheet if `names` is empty.
    pub fn sheet(path: &Path, names: &[&str]) -> Result<Grid> {
        let mut wb = calamine::open_workbook_auto(path)
            .map_err(|e| file_error(path, format!("not a readable spreadsheet: {e}")))?;
        let all = wb.sheet_names().to_vec();
        let name = if names.is_empty() {
            all.first().cloned()
        } else {
            names
                .iter()
                .find_map(|n| all.iter().find(|a| a.trim().eq_ignore_ascii_case(n)).cloned())
        }
        .ok_or_else(|| {
            file_error(
                path,
                format!(
                    "has no sheet named {}; its sheets are {}",
                    names.join(" or "),
                    all.join(", ")
                ),
            )
        })?;
        let range = wb
            .worksheet_range(&name)
            .map_err(|e| file_error(path, format!("sheet {name}: {e}")))?;
        let origin = range.start().unwrap_or((0, 0));
        let rows = range.rows().map(|r| r.iter().map(text).collect()).collect();
        Ok(Grid {
            path: path.into(),
            sheet: Some(name),
            rows,
            origin,
            lines: Vec::new(),
        })
    }

    /// Reads a CSV file or the first matching sheet of a spreadsheet.
    pub fn read(path: &Path, sheets: &[&str]) -> Result<Grid> {
        if is_spreadsheet(path) {
            Grid::sheet(path, sheets)
        } else {
            Grid::csv(path)
        }
    }

    /// The address of a cell: `12:Practice Code` (CSV line and column name) or
    /// `Commissioner!G15` (sheet and cell).
    pub fn at(&self, row: usize, col: usize, name: &str) -> String {
        match &self.sheet {
            Some(sheet) => format!(
                "{sheet}!{}{}",
                column_letters(self.origin.1 + col as u32),
                self.origin.0 as usize + row + 1
            ),
            None => format!(
                "{}:{name}",
                self.lines.get(row).copied().unwrap_or(row as u64 + 1)
            ),
        }
    }

    pub fn get(&self, row: usize, col: usize) -> &str {
        self.rows
            .get(row)
            .and_then(|r| r.get(col))
            .map_or("", String::as_str)
    }

    /// The first row (from `start`) whose cells include every one of `names`, compared
    /// without case or surrounding spaces: the header row of a sheet that starts with a
    /// metadata block.
    pub fn find_header(&self, names: &[&str]) -> Option<usize> {
        self.rows.iter().position(|r| {
            names
                .iter()
                .all(|n| r.iter().any(|c| c.trim().eq_ignore_ascii_case(n.trim())))
        })
    }

    /// A bad cell's error.
    pub fn error(&self, row: usize, col: usize, name: &str, rule: impl Into<String>) -> Error {
        cell_error(&self.path, self.at(row, col, name), self.get(row, col), rule)
    }
}

/// The columns of a header row by name (compared without case or surrounding spaces).
#[derive(Debug, Clone)]
pub struct Header {
    pub names: Vec<String>,
    pub row: usize,
}

impl Header {
    pub fn new(grid: &Grid, row: usize) -> Header {
        Header {
            names: grid.rows.get(row).cloned().unwrap_or_default(),
            row,
        }
    }

    pub fn find(&self, name: &str) -> Option<usize> {
        let want = name.trim();
        self.names
            .iter()
            .position(|n| n.trim().eq_ignore_ascii_case(want))
    }

    /// The first of `names` present.
    pub fn find_any(&self, names: &[String]) -> Option<usize> {
        names.iter().find_map(|n| self.find(n))
    }
}
