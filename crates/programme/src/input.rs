//! CSV and TOML inputs read with their positions, so every refusal names the file, line,
//! column, value and rule.

use std::path::Path;

use crate::{Error, Result};

/// A CSV file read whole: its header and its rows, each with its line number.
#[derive(Debug, Clone)]
pub struct Table {
    pub file: String,
    pub header: Vec<String>,
    pub rows: Vec<(u64, Vec<String>)>,
}

/// A cell's place, for errors.
#[derive(Debug, Clone, Copy)]
pub struct At<'a> {
    pub table: &'a Table,
    pub line: u64,
    pub column: usize,
}

impl At<'_> {
    pub fn error(&self, value: &str, rule: impl Into<String>) -> Error {
        Error::Cell {
            file: self.table.file.clone(),
            line: self.line,
            column: self.column as u64 + 1,
            value: if value.is_empty() {
                "(empty)".into()
            } else {
                value.to_string()
            },
            rule: rule.into(),
        }
    }
}

impl Table {
    /// Reads a CSV file (a byte-order mark is ignored; cells are trimmed).
    pub fn read(path: &Path) -> Result<Table> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.display().to_string(),
            source,
        })?;
        Table::parse(&path.display().to_string(), &text)
    }

    /// Parses CSV text named `file` in errors.
    pub fn parse(file: &str, text: &str) -> Result<Table> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let bad = |line: u64, e: &csv::Error| Error::Cell {
            file: file.to_string(),
            line,
            column: 1,
            value: "(row)".into(),
            rule: format!("not CSV: {e}"),
        };
        let header: Vec<String> = reader
            .headers()
            .map_err(|e| bad(1, &e))?
            .iter()
            .map(|h| h.to_ascii_lowercase())
            .collect();
        if header.iter().all(|h| h.is_empty()) {
            return Err(Error::Cell {
                file: file.to_string(),
                line: 1,
                column: 1,
                value: "(empty)".into(),
                rule: "the file has no header row".into(),
            });
        }
        let mut rows = Vec::new();
        for record in reader.records() {
            let record = record.map_err(|e| bad(e.position().map_or(0, |p| p.line()), &e))?;
            let line = record.position().map_or(0, |p| p.line());
            if record.iter().all(str::is_empty) {
                continue;
            }
            if record.len() != header.len() {
                return Err(Error::Cell {
                    file: file.to_string(),
                    line,
                    column: record.len().min(header.len()) as u64 + 1,
                    value: format!("{} cells", record.len()),
                    rule: format!("the header has {} columns", header.len()),
                });
            }
            rows.push((line, record.iter().map(str::to_string).collect()));
        }
        Ok(Table {
            file: file.to_string(),
            header,
            rows,
        })
    }

    /// The index of a required column.
    pub fn column(&self, name: &str) -> Result<usize> {
        self.header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| Error::Cell {
                file: self.file.clone(),
                line: 1,
                column: self.header.len() as u64 + 1,
                value: name.to_string(),
                rule: format!(
                    "a required column is missing (the header has: {})",
                    self.header.join(", ")
                ),
            })
    }

    /// The index of an optional column.
    pub fn optional(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    pub fn at(&self, line: u64, column: usize) -> At<'_> {
        At {
            table: self,
            line,
            column,
        }
    }

    /// A non-empty text cell.
    pub fn text(&self, row: &(u64, Vec<String>), column: usize) -> Result<String> {
        let v = &row.1[column];
        if v.is_empty() {
            return Err(self
                .at(row.0, column)
                .error(v, format!("{} is required", self.header[column])));
        }
        Ok(v.clone())
    }

    /// A finite number, at least `min` when given.
    pub fn number(&self, row: &(u64, Vec<String>), column: usize, min: Option<f64>) -> Result<f64> {
        let v = &row.1[column];
        let at = self.at(row.0, column);
        let x: f64 = v
            .replace(',', "")
            .parse()
            .map_err(|_| at.error(v, format!("{} must be a number", self.header[column])))?;
        if !x.is_finite() {
            return Err(at.error(v, format!("{} must be a finite number", self.header[column])));
        }
        if let Some(m) = min
            && x < m
        {
            return Err(at.error(v, format!("{} must be at least {m}", self.header[column])));
        }
        Ok(x)
    }

    /// `true` or `false` (also `yes`/`no`, `1`/`0`, any case); empty is `false`.
    pub fn flag(&self, row: &(u64, Vec<String>), column: usize) -> Result<bool> {
        let v = &row.1[column];
        match v.to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" | "y" | "t" => Ok(true),
            "false" | "no" | "0" | "n" | "f" | "" => Ok(false),
            _ => Err(self
                .at(row.0, column)
                .error(v, format!("{} must be true or false", self.header[column]))),
        }
    }
}

/// Line and column (both from 1) of a byte offset in `text`.
pub fn line_column(text: &str, offset: usize) -> (u64, u64) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() as u64 + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u64 + 1;
    (line, column)
}

/// A TOML error as `file:line:column: value: rule`.
pub fn toml_error(file: &str, text: &str, e: &toml::de::Error) -> Error {
    let (line, column) = e.span().map_or((1, 1), |s| line_column(text, s.start));
    let value = e
        .span()
        .and_then(|s| text.get(s))
        .map(|s| s.lines().next().unwrap_or("").to_string())
        .unwrap_or_default();
    Error::Cell {
        file: file.to_string(),
        line,
        column,
        value: if value.is_empty() { "(file)".into() } else { value },
        rule: e.message().to_string(),
    }
}

/// Reads a file as text, with its path in the error.
pub fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.display().to_string(),
        source,
    })
}
