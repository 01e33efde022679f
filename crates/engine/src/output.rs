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
            Column::Number(a) if !a.is_null(row) => number(out, a.value(row)),
            Column::Flag(a) if !a.is_null(row) => write!(out, "{}", a.value(row)),
            Column::Other(a) if !a.is_null(row) => write!(out, "<{}>", a.data_type()),
            _ if json => out.write_all(b"null"),
            _ => Ok(()),
        }
    }
}

/// Writes a number exactly as `Display` does (the shortest digits that read back as the
/// same number, in plain decimal notation; whole numbers without a point), at about twice
/// its speed: whole numbers below 2^53 through `itoa`, other finite numbers through `ryu`,
/// whose digits are the same shortest round-trip digits except where two are equally near.
/// `Display` rounds such a tie up and `ryu` to even, so a number exactly halfway (its binary
/// fraction one decimal place longer than `ryu`'s digits) and any number `ryu` would write
/// with an exponent go through `Display` itself. Writing the CSV of the whole catalogue was
/// mostly number formatting.
fn number(out: &mut impl Write, v: f64) -> std::io::Result<()> {
    if v.fract() == 0.0 {
        if v.abs() < 9_007_199_254_740_992.0 && !(v == 0.0 && v.is_sign_negative()) {
            return out.write_all(itoa::Buffer::new().format(v as i64).as_bytes());
        }
    } else if v.is_finite() {
        let mut buffer = ryu::Buffer::new();
        let text = buffer.format_finite(v);
        let decimals = text.split_once('.').map(|(_, f)| f.len());
        if let Some(decimals) = decimals.filter(|_| !text.contains('e')) {
            // v = mantissa × 2^exponent, whose exact decimal form has as many decimals as
            // the binary fraction has bits.
            let bits = v.to_bits();
            let biased = ((bits >> 52) & 0x7ff) as i32;
            let mantissa = (bits & ((1 << 52) - 1)) | if biased == 0 { 0 } else { 1 << 52 };
            let exponent = if biased == 0 { -1074 } else { biased - 1075 };
            let fraction_bits = -(exponent + mantissa.trailing_zeros() as i32);
            if i64::from(fraction_bits) != decimals as i64 + 1 {
                return out.write_all(text.as_bytes());
            }
        }
    }
    write!(out, "{v}")
}

/// Writes `name.parquet` and `name.csv` (and `name.jsonl` when `json`) in `dir`.
pub fn write(
    dir: &Path,
    name: &str,
    schema: &SchemaRef,
    batches: &[RecordBatch],
    json: bool,
) -> Result<(), Error> {
    write_parquet(dir, name, schema, batches)?;
    write_text(dir, name, schema, batches, json)
}

/// Writes `name.parquet` in `dir` (half of `write`: the two halves may run side by side).
pub fn write_parquet(
    dir: &Path,
    name: &str,
    schema: &SchemaRef,
    batches: &[RecordBatch],
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
    Ok(())
}

/// Writes `name.csv` (and `name.jsonl` when `json`) in `dir` (the other half of `write`).
pub fn write_text(
    dir: &Path,
    name: &str,
    schema: &SchemaRef,
    batches: &[RecordBatch],
    json: bool,
) -> Result<(), Error> {
    std::fs::create_dir_all(dir).map_err(io(dir))?;
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

    fn written(v: f64) -> String {
        let mut out = Vec::new();
        number(&mut out, v).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn numbers_are_written_as_display_writes_them() {
        for v in [
            0.0,
            -0.0,
            5.0,
            -5.0,
            0.1 + 0.2,
            1e-7,
            1.5e-5,
            123456.789,
            1e15,
            1e16,
            1e300,
            -1e-300,
            f64::MAX,
            f64::MIN_POSITIVE,
            5e-324,
            0.3,
            2.0 / 3.0,
            99.99999999999999,
            4503599627370497.0,
            9007199254740993.0,
            15413990992801.0 + 0.5625,
            999999999.0 + 1.0 / 256.0,
            2f64.powi(60),
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ] {
            assert_eq!(written(v), format!("{v}"), "{v:e}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_number_is_written_as_display_writes_it(bits in proptest::num::u64::ANY) {
            let v = f64::from_bits(bits);
            proptest::prop_assert_eq!(written(v), format!("{v}"));
        }

        #[test]
        fn halfway_numbers_are_written_as_display_writes_them(
            whole in proptest::num::u64::ANY, shift in 11u32..60, halvings in 1i32..30
        ) {
            // Few binary places, so the exact decimal form is short and often a tie.
            let v = (whole >> shift) as f64 / 2f64.powi(halvings);
            proptest::prop_assert_eq!(written(v), format!("{v}"));
        }

        #[test]
        fn rates_and_counts_are_written_as_display_writes_them(
            count in 0u32..10_000_000, per in 1u32..100_000, scale in -3i32..6
        ) {
            let v = f64::from(count) / f64::from(per) * 10f64.powi(scale);
            proptest::prop_assert_eq!(written(v), format!("{v}"));
            proptest::prop_assert_eq!(written(f64::from(count)), format!("{}", f64::from(count)));
        }
    }

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
