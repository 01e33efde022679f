//! Reading a contract table from Parquet into canonical chunks.
//!
//! Only the contract's columns are decoded. Each column may arrive in any sensible Arrow
//! type (dictionary or large strings, narrower integers, dates as timestamps, numbers or
//! dates as text) and is converted to the table's canonical type; values that do not
//! convert are reported with their row number.

use crate::cell::Builder;
use crate::chunk::{Chunk, Lines};
use crate::report::Report;
use crate::schema::{ColType, ColumnSpec, Presence, TableSpec};
use arrow::array::{
    Array, ArrayRef, AsArray, Float64Array, Int64Array, Int64Builder, StringArray, new_null_array,
};
use arrow::buffer::{Buffer, OffsetBuffer};
use arrow::compute::{CastOptions, cast, cast_with_options};
use arrow::datatypes::{DataType, Int64Type, Schema};
use arrow::record_batch::RecordBatch;
use model::{Diagnostic, Location};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use std::fs::File;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::Arc;

const BATCH_ROWS: usize = 65_536;

/// The number of rows a Parquet file declares, if its footer can be read.
pub(crate) fn row_count(path: &Path) -> Option<u64> {
    let f = File::open(path).ok()?;
    let b = catch_unwind(AssertUnwindSafe(|| ParquetRecordBatchReaderBuilder::try_new(f)))
        .ok()?
        .ok()?;
    u64::try_from(b.metadata().file_metadata().num_rows()).ok()
}

pub(crate) struct ParquetTable {
    spec: &'static TableSpec,
    name: String,
    file: usize,
    reader: ParquetRecordBatchReader,
    next_row: u64,
    pub(crate) rows: u64,
    pub(crate) types: Vec<Option<DataType>>,
    done: bool,
}

/// Integers as their decimal text, nulls kept: what `cast(Int64 → Utf8)` gives, without a
/// formatter call per value. `None` when the text could pass 32-bit offsets (then Arrow's
/// cast reports it).
fn int64_to_text(src: &Int64Array) -> Option<StringArray> {
    let mut digits = itoa::Buffer::new();
    let mut offsets = Vec::with_capacity(src.len() + 1);
    let mut bytes = Vec::with_capacity(src.len() * 8);
    offsets.push(0i32);
    for (row, v) in src.values().iter().enumerate() {
        if src.is_valid(row) {
            bytes.extend_from_slice(digits.format(*v).as_bytes());
        }
        offsets.push(i32::try_from(bytes.len()).ok()?);
    }
    StringArray::try_new(
        OffsetBuffer::new(offsets.into()),
        Buffer::from_vec(bytes),
        src.nulls().cloned(),
    )
    .ok()
}

fn is_string(t: &DataType) -> bool {
    match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Dictionary(_, v) => is_string(v),
        _ => false,
    }
}

fn is_integer(t: &DataType) -> bool {
    t.is_integer() || matches!(t, DataType::Dictionary(_, v) if v.is_integer())
}

fn is_float(t: &DataType) -> bool {
    t.is_floating() || matches!(t, DataType::Decimal128(..) | DataType::Decimal256(..))
}

/// Whether a column stored as `src` can be read as `ty`.
fn compatible(src: &DataType, ty: ColType) -> bool {
    if is_string(src) || src == &DataType::Null {
        return true;
    }
    match ty {
        ColType::Id | ColType::Code(_) | ColType::Enum(_) => is_integer(src),
        ColType::Text | ColType::Period(_) | ColType::Icd10 => false,
        ColType::Date => matches!(
            src,
            DataType::Date32 | DataType::Date64 | DataType::Timestamp(_, None)
        ),
        ColType::Timestamp => matches!(
            src,
            DataType::Date32 | DataType::Date64 | DataType::Timestamp(_, None)
        ),
        ColType::Bool => src == &DataType::Boolean,
        ColType::Int { .. } => is_integer(src) || src.is_floating(),
        ColType::NonNeg | ColType::Amount => is_integer(src) || is_float(src),
    }
}

impl ParquetTable {
    pub(crate) fn open(
        path: &Path,
        name: &str,
        file: usize,
        spec: &'static TableSpec,
        report: &mut Report,
    ) -> Option<ParquetTable> {
        let fail = |report: &mut Report, loc: Location, rule: String| {
            report.push(Diagnostic::error(loc, None, rule));
            None
        };
        let f = match File::open(path) {
            Ok(f) => f,
            Err(e) => return fail(report, Location::file(name), format!("cannot open file: {e}")),
        };
        let builder = match catch_unwind(AssertUnwindSafe(|| ParquetRecordBatchReaderBuilder::try_new(f))) {
            Ok(Ok(b)) => b,
            Ok(Err(e)) => {
                return fail(
                    report,
                    Location::file(name),
                    format!("not a readable Parquet file: {e}"),
                );
            }
            Err(_) => {
                return fail(
                    report,
                    Location::file(name),
                    "not a readable Parquet file (the decoder failed)".into(),
                );
            }
        };
        let schema: Arc<Schema> = builder.schema().clone();
        let rows = builder.metadata().file_metadata().num_rows().max(0) as u64;
        let mut ok = true;
        let mut roots = Vec::new();
        let mut types = Vec::new();
        for col in spec.columns {
            match schema.index_of(col.name) {
                Ok(i) => {
                    let t = schema.field(i).data_type();
                    if let DataType::Timestamp(_, Some(tz)) = t {
                        ok = false;
                        report.push(Diagnostic::error(
                            Location::file(name).column(col.name),
                            None,
                            format!("timestamps carry a time zone ({tz}); expected local time without one"),
                        ));
                    } else if !compatible(t, col.ty) {
                        ok = false;
                        report.push(Diagnostic::error(
                            Location::file(name).column(col.name),
                            None,
                            format!("column has type {t}; expected {}", col.ty.describe()),
                        ));
                    }
                    roots.push(i);
                    types.push(Some(t.clone()));
                }
                Err(_) if col.presence == Presence::Optional => types.push(None),
                Err(_) => {
                    ok = false;
                    let have: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
                    report.push(Diagnostic::error(
                        Location::file(name).column(col.name),
                        None,
                        format!("required column is missing (file has: {})", have.join(", ")),
                    ));
                    types.push(None);
                }
            }
        }
        if !ok {
            return None;
        }
        let mask = ProjectionMask::roots(builder.parquet_schema(), roots);
        let reader = match builder.with_projection(mask).with_batch_size(BATCH_ROWS).build() {
            Ok(r) => r,
            Err(e) => {
                return fail(
                    report,
                    Location::file(name),
                    format!("not a readable Parquet file: {e}"),
                );
            }
        };
        Some(ParquetTable {
            spec,
            name: name.to_string(),
            file,
            reader,
            next_row: 1,
            rows,
            types,
            done: false,
        })
    }

    pub(crate) fn next_chunk(&mut self, report: &mut Report) -> Option<Chunk> {
        if self.done {
            return None;
        }
        let batch = match catch_unwind(AssertUnwindSafe(|| self.reader.next())) {
            Ok(Some(Ok(b))) => b,
            Ok(None) => {
                self.done = true;
                return None;
            }
            Ok(Some(Err(e))) => {
                self.done = true;
                report.push(Diagnostic::error(
                    Location::file(&self.name).line(self.next_row),
                    None,
                    format!("cannot decode Parquet data: {e}"),
                ));
                return None;
            }
            Err(_) => {
                self.done = true;
                report.push(Diagnostic::error(
                    Location::file(&self.name).line(self.next_row),
                    None,
                    "cannot decode Parquet data (the decoder failed)",
                ));
                return None;
            }
        };
        let first = self.next_row;
        let n = batch.num_rows();
        self.next_row += n as u64;
        let mut columns = Vec::with_capacity(self.spec.columns.len());
        for col in self.spec.columns {
            let array = match batch.column_by_name(col.name) {
                Some(src) => self.convert(src, col, first, report),
                None => new_null_array(&col.ty.data_type(), n),
            };
            columns.push(array);
        }
        match RecordBatch::try_new(self.spec.schema(), columns) {
            Ok(data) => Some(Chunk {
                data,
                lines: Lines::From(first),
                file: self.file,
            }),
            Err(e) => {
                self.done = true;
                report.push(Diagnostic::error(
                    Location::file(&self.name),
                    None,
                    format!("internal error building rows ({e}); please report"),
                ));
                None
            }
        }
    }

    /// Converts one source column to its canonical type, reporting what does not convert.
    fn convert(&self, src: &ArrayRef, col: &ColumnSpec, first: u64, report: &mut Report) -> ArrayRef {
        let target = col.ty.data_type();
        let n = src.len();
        let loc = |row: usize| {
            Location::file(&self.name)
                .line(first + row as u64)
                .column(col.name)
        };
        // Text that must be parsed (dates, numbers and flags stored as strings).
        if is_string(src.data_type()) && target != DataType::Utf8 {
            let Ok(text) = cast(src, &DataType::Utf8) else {
                return new_null_array(&target, n);
            };
            let text = text.as_string::<i32>();
            let mut b = Builder::new(col.ty, n);
            for row in 0..n {
                let v = if text.is_null(row) {
                    ""
                } else {
                    text.value(row).trim()
                };
                if let Err(rule) = b.push_text(v, col) {
                    report.push(Diagnostic::error(loc(row), Some(v.to_string()), rule));
                }
            }
            return b.finish();
        }
        let converted = if src.data_type() == &target {
            src.clone()
        } else if target == DataType::Utf8
            && let Some(ints) = src.as_primitive_opt::<Int64Type>()
            && let Some(text) = int64_to_text(ints)
        {
            // Identifiers written as integers (patient and spell ids): tens of millions of
            // values in a national extract, so formatted here rather than through Arrow's
            // general cast, which goes through `Display` per value.
            Arc::new(text)
        } else if target == DataType::Int64 && src.data_type().is_floating() {
            // Whole numbers written as floats (as pandas does for integer columns with gaps).
            let f = match cast(src, &DataType::Float64) {
                Ok(f) => f,
                Err(_) => return new_null_array(&target, n),
            };
            let f = f
                .as_any()
                .downcast_ref::<Float64Array>()
                .cloned()
                .unwrap_or_else(|| Float64Array::from(vec![None; n]));
            let mut b = Int64Builder::with_capacity(n);
            for row in 0..n {
                if f.is_null(row) {
                    b.append_null();
                    continue;
                }
                let v = f.value(row);
                if v.fract() == 0.0 && v.abs() < 9.0e15 {
                    b.append_value(v as i64);
                } else {
                    b.append_null();
                    report.push(Diagnostic::error(
                        loc(row),
                        Some(v.to_string()),
                        format!("not {}", col.ty.describe()),
                    ));
                }
            }
            return Arc::new(b.finish());
        } else {
            match cast_with_options(
                src,
                &target,
                &CastOptions {
                    safe: false,
                    ..Default::default()
                },
            ) {
                Ok(a) => a,
                Err(e) => {
                    report.push(Diagnostic::error(
                        Location::file(&self.name).line(first).column(col.name),
                        None,
                        format!(
                            "values in this batch do not convert to {}: {e}",
                            col.ty.describe()
                        ),
                    ));
                    return new_null_array(&target, n);
                }
            }
        };
        if col.presence == Presence::Required && converted.null_count() > 0 {
            for row in 0..n {
                if converted.is_null(row) {
                    report.push(Diagnostic::error(
                        loc(row),
                        None,
                        "missing value; this column is required",
                    ));
                }
            }
        }
        converted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The loader's own formatting of integer identifiers gives what Arrow's cast gives,
    /// nulls, signs and both extremes included.
    #[test]
    fn integer_ids_as_text_match_arrows_cast() {
        let src = Int64Array::from(vec![
            Some(0),
            Some(7),
            None,
            Some(-42),
            Some(1_234_567_890_123),
            Some(i64::MIN),
            Some(i64::MAX),
            None,
        ]);
        let ours = int64_to_text(&src).expect("fits");
        let arrows = cast(&src, &DataType::Utf8).expect("casts");
        assert_eq!(&ours, arrows.as_string::<i32>());
        assert_eq!(ours.value(5), "-9223372036854775808");
        assert!(ours.is_null(2) && ours.is_null(7));
        let empty = int64_to_text(&Int64Array::from(Vec::<i64>::new())).expect("fits");
        assert_eq!(empty.len(), 0);
    }
}
