//! A quick look at a dataset folder without validating it.

use crate::report::Report;
use crate::schema::TABLES;
use crate::source::{self, Form, Source};
use crate::{Manifest, manifest};
use std::io::Read;
use std::path::Path;

/// One table as found on disk.
#[derive(Debug, Clone)]
pub struct Found {
    pub table: &'static str,
    pub source: Source,
    /// Column names as stored (CSV header or Parquet schema).
    pub columns: Vec<String>,
    /// Data rows (Parquet metadata, or CSV lines less the header), if readable.
    pub rows: Option<u64>,
}

/// What `inspect` saw.
#[derive(Debug, Clone)]
pub struct Inspection {
    pub manifest: Option<Manifest>,
    pub tables: Vec<Found>,
    pub absent: Vec<&'static str>,
    /// Problems seen on the way (a full check needs [`crate::load`]).
    pub report: Report,
}

/// Describes the folder: manifest, each table's files, columns and row count.
pub fn inspect(dir: &Path) -> Inspection {
    let mut report = Report::new(crate::DEFAULT_SHOWN);
    let manifest = manifest::read(dir, &mut report);
    let (sources, unknown) = source::discover(dir, &mut report);
    for name in unknown {
        report
            .notes
            .push(format!("{name}: not a table of the data contract; ignored"));
    }
    let mut tables = Vec::new();
    let mut absent = Vec::new();
    for (spec, src) in sources {
        let Some(src) = src else {
            absent.push(spec.name);
            continue;
        };
        let (columns, rows) = match src.form {
            Form::Csv => csv_shape(&src.files[0]),
            Form::Parquet | Form::Parts => {
                let mut columns = Vec::new();
                let mut rows = Some(0u64);
                for f in &src.files {
                    match parquet_shape(f) {
                        Some((c, r)) => {
                            if columns.is_empty() {
                                columns = c;
                            }
                            rows = rows.map(|n| n + r);
                        }
                        None => rows = None,
                    }
                }
                (columns, rows)
            }
        };
        tables.push(Found {
            table: spec.name,
            source: src,
            columns,
            rows,
        });
    }
    debug_assert!(tables.len() + absent.len() <= TABLES.len());
    Inspection {
        manifest,
        tables,
        absent,
        report,
    }
}

fn csv_shape(path: &Path) -> (Vec<String>, Option<u64>) {
    let Ok(file) = std::fs::File::open(path) else {
        return (Vec::new(), None);
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(file.take(1 << 20));
    let mut header = csv::StringRecord::new();
    let columns = match reader.read_record(&mut header) {
        Ok(true) => header
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').trim().to_string())
            .collect(),
        _ => Vec::new(),
    };
    let Ok(mut file) = std::fs::File::open(path) else {
        return (columns, None);
    };
    let mut buf = vec![0u8; 1 << 16];
    let (mut lines, mut last) = (0u64, b'\n');
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                lines += buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
                last = buf[n - 1];
            }
            Err(_) => return (columns, None),
        }
    }
    if last != b'\n' {
        lines += 1;
    }
    (columns, Some(lines.saturating_sub(1)))
}

fn parquet_shape(path: &Path) -> Option<(Vec<String>, u64)> {
    let file = std::fs::File::open(path).ok()?;
    let builder = std::panic::catch_unwind(|| {
        parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
    })
    .ok()?
    .ok()?;
    let columns = builder
        .schema()
        .fields()
        .iter()
        .map(|f| format!("{} ({})", f.name(), f.data_type()))
        .collect();
    Some((
        columns,
        builder.metadata().file_metadata().num_rows().max(0) as u64,
    ))
}
