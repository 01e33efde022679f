//! Reading a contract table from CSV into canonical chunks.
//!
//! Column order does not matter, extra columns are ignored, cells are trimmed, a leading
//! byte-order mark is dropped, and every cell that does not parse is reported with its line.
//! A line longer than the configured limit stops the file rather than exhausting memory.

use crate::cell::Builder;
use crate::chunk::{Chunk, Lines};
use crate::report::Report;
use crate::schema::{Presence, TableSpec};
use arrow::array::ArrayRef;
use arrow::record_batch::RecordBatch;
use model::{Diagnostic, Location};
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

/// Rows per chunk.
const CHUNK_ROWS: usize = 65_536;

/// A `Read` that fails once any line exceeds `max` bytes, so a 2 GB line never reaches
/// memory.
#[derive(Debug)]
struct LineGuard<R> {
    inner: R,
    max: u64,
    since_newline: u64,
    line: u64,
}

/// The error a [`LineGuard`] raises, recognised by its message.
#[derive(Debug)]
struct LineTooLong {
    line: u64,
}

impl std::fmt::Display for LineTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {} too long", self.line)
    }
}

impl std::error::Error for LineTooLong {}

impl<R: Read> Read for LineGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let data = &buf[..n];
        match data.iter().rposition(|&b| b == b'\n') {
            Some(last) => {
                self.line += data.iter().filter(|&&b| b == b'\n').count() as u64;
                self.since_newline = (n - last - 1) as u64;
            }
            None => self.since_newline += n as u64,
        }
        if self.since_newline > self.max {
            return Err(io::Error::other(LineTooLong { line: self.line + 1 }));
        }
        Ok(n)
    }
}

pub(crate) struct CsvTable {
    spec: &'static TableSpec,
    name: String,
    file: usize,
    reader: csv::Reader<LineGuard<BufReader<File>>>,
    /// For each spec column, its index in the file's header (None: an absent optional column).
    index: Vec<Option<usize>>,
    width: usize,
    record: csv::ByteRecord,
    max_line: u64,
    done: bool,
}

impl CsvTable {
    /// Opens the file and checks its header; `None` if the table cannot be read at all.
    pub(crate) fn open(
        path: &Path,
        name: &str,
        file: usize,
        spec: &'static TableSpec,
        max_line: u64,
        report: &mut Report,
    ) -> Option<CsvTable> {
        let fail = |report: &mut Report, rule: String| {
            report.push(Diagnostic::error(Location::file(name), None, rule));
            None
        };
        let f = match File::open(path) {
            Ok(f) => f,
            Err(e) => return fail(report, format!("cannot open file: {e}")),
        };
        let guard = LineGuard {
            inner: BufReader::with_capacity(1 << 16, f),
            max: max_line,
            since_newline: 0,
            line: 0,
        };
        // Records end at '\n' only. With the default (CRLF, CR or LF), a record ending "\r\n"
        // ends at the '\r' and the next one starts before the '\n' is counted, so every row
        // of a Windows or Python-written file was cited one line early. A trailing '\r' is
        // whitespace, trimmed from the last cell like any other.
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .trim(csv::Trim::All)
            .terminator(csv::Terminator::Any(b'\n'))
            .from_reader(guard);
        let mut header = csv::ByteRecord::new();
        match reader.read_byte_record(&mut header) {
            Ok(true) => {}
            Ok(false) => return fail(report, "file is empty; expected a header row".into()),
            Err(e) => return fail_read(report, name, e, max_line),
        }
        let mut names = Vec::with_capacity(header.len());
        for (i, field) in header.iter().enumerate() {
            let field = if i == 0 {
                field.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(field)
            } else {
                field
            };
            match std::str::from_utf8(field) {
                Ok(s) => names.push(s.trim().to_string()),
                Err(_) => {
                    report.push(Diagnostic::error(
                        Location::file(name).line(1),
                        Some(String::from_utf8_lossy(field).into_owned()),
                        "header is not valid UTF-8",
                    ));
                    return None;
                }
            }
        }
        let mut ok = true;
        for (i, n) in names.iter().enumerate() {
            if !n.is_empty() && names[..i].contains(n) {
                report.push(Diagnostic::error(
                    Location::file(name).line(1).column(n.clone()),
                    None,
                    "column appears twice in the header",
                ));
                ok = false;
            }
        }
        let mut index = Vec::with_capacity(spec.columns.len());
        for col in spec.columns {
            let at = names.iter().position(|n| n == col.name);
            if at.is_none() && col.presence != Presence::Optional {
                report.push(Diagnostic::error(
                    Location::file(name).line(1).column(col.name),
                    None,
                    format!("required column is missing (header has: {})", names.join(", ")),
                ));
                ok = false;
            }
            index.push(at);
        }
        if !ok {
            return None;
        }
        Some(CsvTable {
            spec,
            name: name.to_string(),
            file,
            reader,
            index,
            width: names.len(),
            record: csv::ByteRecord::new(),
            max_line,
            done: false,
        })
    }

    /// Bytes of the file consumed so far.
    pub(crate) fn bytes_read(&self) -> u64 {
        self.reader.position().byte()
    }

    /// Reads the next chunk; `None` at the end of the file or after an unrecoverable error.
    pub(crate) fn next_chunk(&mut self, report: &mut Report) -> Option<Chunk> {
        if self.done {
            return None;
        }
        let mut builders: Vec<Builder> = self
            .spec
            .columns
            .iter()
            .map(|c| Builder::new(c.ty, CHUNK_ROWS))
            .collect();
        let mut lines = Vec::with_capacity(CHUNK_ROWS);
        while lines.len() < CHUNK_ROWS {
            match self.reader.read_byte_record(&mut self.record) {
                Ok(true) => {}
                Ok(false) => {
                    self.done = true;
                    break;
                }
                Err(e) => {
                    fail_read::<()>(report, &self.name, e, self.max_line);
                    self.done = true;
                    break;
                }
            }
            let line = self.record.position().map_or(0, |p| p.line());
            if self.record.len() == 1 && self.record.get(0).is_some_and(<[u8]>::is_empty) {
                continue; // a blank line
            }
            if self.record.len() != self.width {
                report.push(Diagnostic::error(
                    Location::file(&self.name).line(line),
                    None,
                    format!(
                        "row has {} fields; the header has {}",
                        self.record.len(),
                        self.width
                    ),
                ));
                continue;
            }
            lines.push(line);
            for ((col, at), builder) in self.spec.columns.iter().zip(&self.index).zip(&mut builders) {
                let Some(at) = *at else {
                    builder.push_null();
                    continue;
                };
                let raw = self.record.get(at).unwrap_or_default();
                let text = match std::str::from_utf8(raw) {
                    Ok(t) => t,
                    Err(_) => {
                        builder.push_null();
                        report.push(Diagnostic::error(
                            Location::file(&self.name).line(line).column(col.name),
                            Some(String::from_utf8_lossy(raw).into_owned()),
                            "not valid UTF-8",
                        ));
                        continue;
                    }
                };
                if let Err(rule) = builder.push_text(text, col) {
                    report.push(Diagnostic::error(
                        Location::file(&self.name).line(line).column(col.name),
                        Some(text.to_string()),
                        rule,
                    ));
                }
            }
        }
        if lines.is_empty() {
            return None;
        }
        let columns: Vec<ArrayRef> = builders.iter_mut().map(Builder::finish).collect();
        let data = match RecordBatch::try_new(self.spec.schema(), columns) {
            Ok(data) => data,
            Err(e) => {
                report.push(Diagnostic::error(
                    Location::file(&self.name),
                    None,
                    format!("internal error building rows ({e}); please report"),
                ));
                self.done = true;
                return None;
            }
        };
        Some(Chunk {
            data,
            lines: Lines::Listed(lines),
            file: self.file,
        })
    }
}

fn fail_read<T>(report: &mut Report, name: &str, e: csv::Error, max_line: u64) -> Option<T> {
    let line = e.position().map(|p| p.line());
    let (line, rule) = match e.kind() {
        csv::ErrorKind::Io(io) => match io.get_ref().and_then(|inner| inner.downcast_ref::<LineTooLong>()) {
            Some(long) => (
                Some(long.line),
                format!("line is longer than {max_line} bytes; is this a CSV file?"),
            ),
            None => (line, format!("cannot read file: {io}")),
        },
        _ => (line, format!("not a readable CSV file: {e}")),
    };
    let mut loc = Location::file(name);
    loc.line = line;
    report.push(Diagnostic::error(loc, None, rule));
    None
}
