//! Writing computed tables: Parquet, CSV and (on request) JSON lines.

use crate::Error;
use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Float64Type, SchemaRef};
use parquet::arrow::ArrowWriter;
use std::io::Write;
use std::path::Path;

fn io(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| Error::Runtime(format!("{}: {e}", path.display()))
}

fn cell(batch: &RecordBatch, column: usize, row: usize) -> Option<String> {
    let a = batch.column(column);
    if a.is_null(row) {
        return None;
    }
    Some(match a.data_type() {
        DataType::Utf8 => a.as_string::<i32>().value(row).to_string(),
        DataType::Float64 => {
            let v = a.as_primitive::<Float64Type>().value(row);
            // Shortest round-trip form: the same number reads back.
            format!("{v}")
        }
        DataType::Boolean => a.as_boolean().value(row).to_string(),
        other => format!("<{other}>"),
    })
}

/// A column as the CSV writer reads it, its type looked at once.
enum Column<'a> {
    Text(&'a arrow::array::StringArray),
    Number(&'a arrow::array::Float64Array),
    Flag(&'a arrow::array::BooleanArray),
    Other(&'a dyn Array),
}

impl<'a> Column<'a> {
    fn of(a: &'a dyn Array) -> Column<'a> {
        match a.data_type() {
            DataType::Utf8 => Column::Text(a.as_string::<i32>()),
            DataType::Float64 => Column::Number(a.as_primitive::<Float64Type>()),
            DataType::Boolean => Column::Flag(a.as_boolean()),
            _ => Column::Other(a),
        }
    }

    /// Writes one cell: empty when null, quoted when it holds a comma, a quote or a newline.
    fn write_csv(&self, out: &mut impl Write, row: usize) -> std::io::Result<()> {
        match self {
            Column::Text(a) if !a.is_null(row) => {
                let v = a.value(row);
                if v.contains([',', '"', '\n']) {
                    write!(out, "\"{}\"", v.replace('"', "\"\""))
                } else {
                    out.write_all(v.as_bytes())
                }
            }
            // Shortest round-trip form: the same number reads back.
            Column::Number(a) if !a.is_null(row) => write!(out, "{}", a.value(row)),
            Column::Flag(a) if !a.is_null(row) => write!(out, "{}", a.value(row)),
            Column::Other(a) if !a.is_null(row) => write!(out, "<{}>", a.data_type()),
            _ => Ok(()),
        }
    }
}

/// Writes `name.parquet` and `name.csv` (and `name.jsonl` when `json`) in `dir`.
pub fn write(
    dir: &Path,
    name: &str,
    schema: &SchemaRef,
    batches: &[RecordBatch],
    json: bool,
) -> Result<(), Error> {
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let path = dir.join(format!("{name}.parquet"));
    let file = std::fs::File::create(&path).map_err(io(&path))?;
    let parquet = |e: parquet::errors::ParquetError| Error::Runtime(format!("{}: {e}", path.display()));
    let props = parquet::file::properties::WriterProperties::builder()
        .set_compression(parquet::basic::Compression::ZSTD(
            parquet::basic::ZstdLevel::default(),
        ))
        .build();
    let mut writer = ArrowWriter::try_new(file, schema.clone(), Some(props)).map_err(parquet)?;
    for b in batches {
        writer.write(b).map_err(parquet)?;
    }
    writer.close().map_err(parquet)?;

    let path = dir.join(format!("{name}.csv"));
    let mut csv = std::io::BufWriter::new(std::fs::File::create(&path).map_err(io(&path))?);
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    writeln!(csv, "{}", names.join(",")).map_err(io(&path))?;
    for b in batches {
        let columns: Vec<Column<'_>> = b.columns().iter().map(|a| Column::of(a.as_ref())).collect();
        for row in 0..b.num_rows() {
            for (c, column) in columns.iter().enumerate() {
                if c > 0 {
                    csv.write_all(b",").map_err(io(&path))?;
                }
                column.write_csv(&mut csv, row).map_err(io(&path))?;
            }
            csv.write_all(b"\n").map_err(io(&path))?;
        }
    }
    csv.flush().map_err(io(&path))?;

    if json {
        let path = dir.join(format!("{name}.jsonl"));
        let mut out = std::io::BufWriter::new(std::fs::File::create(&path).map_err(io(&path))?);
        for b in batches {
            for row in 0..b.num_rows() {
                let fields: Vec<String> = (0..b.num_columns())
                    .map(|c| {
                        let v = match (cell(b, c, row), b.column(c).data_type()) {
                            (None, _) => "null".to_string(),
                            (Some(s), DataType::Utf8) => serde_json::Value::String(s).to_string(),
                            (Some(s), _) => s,
                        };
                        format!("{}:{v}", serde_json::Value::String(names[c].to_string()))
                    })
                    .collect();
                writeln!(out, "{{{}}}", fields.join(",")).map_err(io(&path))?;
            }
        }
        out.flush().map_err(io(&path))?;
    }
    Ok(())
}
