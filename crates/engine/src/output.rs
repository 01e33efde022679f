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

/// A column as the writers read it, its type looked at once.
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

    /// Writes one cell. In CSV: empty when null, quoted when it holds a comma, a quote or
    /// a newline; in JSON: `null`, or a JSON string. Numbers in their shortest round-trip
    /// form (the same number reads back).
    fn write(&self, out: &mut impl Write, row: usize, json: bool) -> std::io::Result<()> {
        match self {
            Column::Text(a) if !a.is_null(row) => {
                let v = a.value(row);
                if json {
                    serde_json::to_writer(&mut *out, v).map_err(std::io::Error::other)
                } else if v.contains([',', '"', '\n']) {
                    write!(out, "\"{}\"", v.replace('"', "\"\""))
                } else {
                    out.write_all(v.as_bytes())
                }
            }
            Column::Number(a) if !a.is_null(row) => write!(out, "{}", a.value(row)),
            Column::Flag(a) if !a.is_null(row) => write!(out, "{}", a.value(row)),
            Column::Other(a) if !a.is_null(row) => write!(out, "<{}>", a.data_type()),
            _ if json => out.write_all(b"null"),
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
                column.write(&mut csv, row, false).map_err(io(&path))?;
            }
            csv.write_all(b"\n").map_err(io(&path))?;
        }
    }
    csv.flush().map_err(io(&path))?;

    if json {
        let path = dir.join(format!("{name}.jsonl"));
        let mut out = std::io::BufWriter::new(std::fs::File::create(&path).map_err(io(&path))?);
        let keys: Vec<String> = names
            .iter()
            .map(|n| serde_json::Value::String(n.to_string()).to_string())
            .collect();
        for b in batches {
            let columns: Vec<Column<'_>> = b.columns().iter().map(|a| Column::of(a.as_ref())).collect();
            for row in 0..b.num_rows() {
                out.write_all(b"{").map_err(io(&path))?;
                for (c, column) in columns.iter().enumerate() {
                    let sep = if c > 0 { "," } else { "" };
                    write!(out, "{sep}{}:", keys[c]).map_err(io(&path))?;
                    column.write(&mut out, row, true).map_err(io(&path))?;
                }
                out.write_all(b"}\n").map_err(io(&path))?;
            }
        }
        out.flush().map_err(io(&path))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{ArrayRef, BooleanArray, Float64Array, StringArray};
    use arrow::datatypes::{Field, Schema};
    use std::sync::Arc;

    #[test]
    fn csv_and_json_lines_write_every_cell() {
        let schema: SchemaRef = Arc::new(Schema::new(vec![
            Field::new("code", DataType::Utf8, true),
            Field::new("value", DataType::Float64, true),
            Field::new("suppressed", DataType::Boolean, false),
        ]));
        let columns: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(vec![Some("R0A"), Some("a, \"b\""), None])),
            Arc::new(Float64Array::from(vec![Some(0.1 + 0.2), None, Some(5.0)])),
            Arc::new(BooleanArray::from(vec![false, true, false])),
        ];
        let batch = RecordBatch::try_new(schema.clone(), columns).unwrap();
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "t", &schema, &[batch], true).unwrap();
        let csv = std::fs::read_to_string(dir.path().join("t.csv")).unwrap();
        assert_eq!(
            csv,
            "code,value,suppressed\nR0A,0.30000000000000004,false\n\"a, \"\"b\"\"\",,true\n,5,false\n"
        );
        let json = std::fs::read_to_string(dir.path().join("t.jsonl")).unwrap();
        assert_eq!(
            json,
            "{\"code\":\"R0A\",\"value\":0.30000000000000004,\"suppressed\":false}\n\
             {\"code\":\"a, \\\"b\\\"\",\"value\":null,\"suppressed\":true}\n\
             {\"code\":null,\"value\":5,\"suppressed\":false}\n"
        );
        for line in json.lines() {
            serde_json::from_str::<serde_json::Value>(line).unwrap();
        }
    }
}
