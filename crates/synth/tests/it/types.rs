//! Every Parquet table's columns carry the Parquet types another tool needs to read them
//! right: read from the files' own Parquet schema (not the Arrow schema Footprint embeds),
//! as DuckDB, pandas or Polars would.

use crate::data::fixture;
use dataset::schema::{ColType, TABLES};
use parquet::arrow::arrow_reader::{ArrowReaderOptions, ParquetRecordBatchReaderBuilder};
use parquet::basic::{LogicalType, TimeUnit, TimestampType, Type as Physical};
use parquet::file::reader::{FileReader, SerializedFileReader};

/// What the Parquet schema alone must say for a contract column: (physical, logical) allowed.
fn acceptable(ty: ColType, physical: Physical, logical: Option<&LogicalType>) -> bool {
    match ty {
        // Identifiers and codes may be stored as integers; text must say it is a string.
        ColType::Id | ColType::Code(_) => {
            physical == Physical::INT64
                || (physical == Physical::BYTE_ARRAY && matches!(logical, Some(LogicalType::String)))
        }
        ColType::Text | ColType::Enum(_) | ColType::Period(_) | ColType::Icd10 => {
            physical == Physical::BYTE_ARRAY && matches!(logical, Some(LogicalType::String))
        }
        ColType::Date => physical == Physical::INT32 && matches!(logical, Some(LogicalType::Date)),
        ColType::Timestamp => {
            physical == Physical::INT64
                && matches!(
                    logical,
                    Some(LogicalType::Timestamp(TimestampType {
                        is_adjusted_to_u_t_c: false,
                        unit: TimeUnit::MILLIS | TimeUnit::MICROS,
                    }))
                )
        }
        ColType::Bool => physical == Physical::BOOLEAN,
        ColType::Int { .. } => {
            physical == Physical::INT64 && matches!(logical, None | Some(LogicalType::Integer(_)))
        }
        ColType::NonNeg | ColType::Amount => matches!(physical, Physical::DOUBLE | Physical::INT64),
    }
}

#[test]
fn every_parquet_column_has_its_parquet_type() {
    let f = fixture();
    let mut checked = 0;
    let mut tables = 0;
    let mut timestamps = 0;
    let mut wrong = Vec::new();
    for spec in TABLES {
        let path = f.path.join(format!("{}.parquet", spec.name));
        if !path.is_file() {
            continue;
        }
        tables += 1;
        let reader = SerializedFileReader::new(std::fs::File::open(&path).expect("opens")).expect("Parquet");
        let schema = reader.metadata().file_metadata().schema_descr();
        for col in spec.columns {
            let Some(i) = (0..schema.num_columns()).find(|&i| schema.column(i).name() == col.name) else {
                continue;
            };
            let c = schema.column(i);
            let logical = c.logical_type_ref();
            if !acceptable(col.ty, c.physical_type(), logical) {
                wrong.push(format!(
                    "{}.{}: stored as {:?} {:?}; the contract says {}",
                    spec.name,
                    col.name,
                    c.physical_type(),
                    logical,
                    col.ty.describe()
                ));
            }
            if col.ty == ColType::Timestamp {
                timestamps += 1;
            }
            checked += 1;
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // Every Parquet table the generator writes, every contract column in it.
    let files = std::fs::read_dir(&f.path)
        .expect("folder")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "parquet"))
        })
        .count();
    assert_eq!(tables, files);
    assert!(
        tables >= 5 && checked >= 45,
        "only {checked} columns of {tables} tables checked"
    );
    assert_eq!(timestamps, 3, "arrival, departure and decision_to_admit");
}

#[test]
fn timestamps_read_without_footprints_arrow_schema_are_the_real_times() {
    // Skip the embedded Arrow schema: the types come from Parquet's own, as any reader's do.
    let f = fixture();
    let file = std::fs::File::open(f.path.join("ae_attendances.parquet")).expect("opens");
    let options = ArrowReaderOptions::new().with_skip_arrow_metadata(true);
    let mut reader = ParquetRecordBatchReaderBuilder::try_new_with_options(file, options)
        .expect("Parquet")
        .with_batch_size(1_000)
        .build()
        .expect("reader");
    let batch = reader.next().expect("a batch").expect("decodes");
    for name in ["arrival", "departure", "decision_to_admit"] {
        assert_eq!(
            batch.column_by_name(name).expect(name).data_type(),
            &arrow::datatypes::DataType::Timestamp(arrow::datatypes::TimeUnit::Millisecond, None),
            "{name}"
        );
    }
    // Arrivals fall inside the dataset's window, read as times (not as seconds taken for ms).
    let arrival = batch
        .column_by_name("arrival")
        .expect("arrival")
        .as_any()
        .downcast_ref::<arrow::array::TimestampMillisecondArray>()
        .expect("milliseconds");
    let config = synth::Config::default();
    let (from, to) = (config.from, config.to);
    let lo = i64::from(from.first_day()) * 86_400_000;
    let hi = (i64::from(to.last_day()) + 1) * 86_400_000;
    for v in arrival.values().iter() {
        assert!((lo..hi).contains(v), "arrival {v} ms outside {from} to {to}");
    }
}
