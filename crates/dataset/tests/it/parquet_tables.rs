//! Parquet forms: type coercion, row numbering, parts, corrupt files.

use crate::support::{load_messages, valid_copy};
use arrow::array::{
    ArrayRef, Date32Array, DictionaryArray, Float64Array, Int32Array, Int64Array, StringArray,
};
use arrow::datatypes::Int32Type;
use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;
use std::path::Path;
use std::sync::Arc;

/// Admissions with `n` rows, in the narrowest types a writer might choose.
fn admissions(n: usize, first_id: usize) -> Vec<(&'static str, ArrayRef)> {
    let day = model::parse_date("2024-04-02").unwrap();
    let ids: Vec<String> = (first_id..first_id + n).map(|i| format!("S{i}")).collect();
    let keys = Int32Array::from((0..n as i32).map(|i| i % 2).collect::<Vec<_>>());
    let providers =
        DictionaryArray::<Int32Type>::try_new(keys, Arc::new(StringArray::from(vec!["RAL", "RRK"]))).unwrap();
    let commissioners: Vec<&str> = (0..n).map(|i| if i % 2 == 0 { "93C" } else { "15E" }).collect();
    vec![
        ("spell_id", Arc::new(StringArray::from(ids)) as ArrayRef),
        (
            "patient_id",
            Arc::new(Int64Array::from((0..n as i64).collect::<Vec<_>>())),
        ),
        ("provider_code", Arc::new(providers)),
        ("commissioner_code", Arc::new(StringArray::from(commissioners))),
        ("admission_date", Arc::new(Date32Array::from(vec![day; n]))),
        ("discharge_date", Arc::new(Date32Array::from(vec![day + 3; n]))),
        ("method", Arc::new(StringArray::from(vec!["emergency"; n]))),
        ("primary_diagnosis", Arc::new(StringArray::from(vec!["J18.9"; n]))),
        (
            "discharge_destination",
            Arc::new(StringArray::from(vec!["usual_residence"; n])),
        ),
        ("delayed_days", Arc::new(Int32Array::from(vec![0; n]))),
        ("cost", Arc::new(Float64Array::from(vec![1234.5; n]))),
    ]
}

fn write(path: &Path, columns: Vec<(&'static str, ArrayRef)>) {
    let batch = RecordBatch::try_from_iter(columns).unwrap();
    let mut w = ArrowWriter::try_new(std::fs::File::create(path).unwrap(), batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

fn replace(columns: &mut [(&'static str, ArrayRef)], name: &str, array: ArrayRef) {
    columns.iter_mut().find(|(n, _)| *n == name).unwrap().1 = array;
}

#[test]
fn narrow_and_dictionary_types_are_read_as_canonical() {
    let dir = valid_copy();
    std::fs::remove_file(dir.path().join("admissions.csv")).unwrap();
    write(&dir.path().join("admissions.parquet"), admissions(100_000, 0));
    let (result, errors, _) = load_messages(dir.path());
    assert_eq!(errors, Vec::<String>::new());
    let ds = result.unwrap().dataset;
    assert_eq!(ds.tables["admissions"].tally.rows, 100_000);
    let batches = ds.scan("admissions").unwrap();
    let schema = batches[0].schema();
    assert_eq!(
        schema.field_with_name("patient_id").unwrap().data_type(),
        &arrow::datatypes::DataType::Utf8
    );
    assert_eq!(
        schema.field_with_name("delayed_days").unwrap().data_type(),
        &arrow::datatypes::DataType::Int64
    );
    assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 100_000);
}

#[test]
fn row_numbers_count_across_batches() {
    let dir = valid_copy();
    std::fs::remove_file(dir.path().join("admissions.csv")).unwrap();
    let mut cols = admissions(70_000, 0);
    let mut methods = vec!["emergency"; 70_000];
    methods[69_999] = "urgent";
    replace(&mut cols, "method", Arc::new(StringArray::from(methods)));
    write(&dir.path().join("admissions.parquet"), cols);
    let (_, errors, _) = load_messages(dir.path());
    assert_eq!(
        errors,
        [
            "admissions.parquet:70000:method: \"urgent\": unknown value; expected one of elective, emergency, maternity, transfer"
        ]
    );
}

#[test]
fn a_column_of_the_wrong_type_is_named() {
    let dir = valid_copy();
    std::fs::remove_file(dir.path().join("admissions.csv")).unwrap();
    let mut cols = admissions(3, 0);
    replace(
        &mut cols,
        "admission_date",
        Arc::new(Float64Array::from(vec![1.0; 3])),
    );
    write(&dir.path().join("admissions.parquet"), cols);
    let (_, errors, _) = load_messages(dir.path());
    assert_eq!(
        errors,
        ["admissions.parquet::admission_date: column has type Float64; expected a date (YYYY-MM-DD)"]
    );
}

#[test]
fn nulls_in_required_columns_and_text_dates_are_checked() {
    let dir = valid_copy();
    std::fs::remove_file(dir.path().join("admissions.csv")).unwrap();
    let mut cols = admissions(3, 0);
    replace(
        &mut cols,
        "commissioner_code",
        Arc::new(StringArray::from(vec![Some("93C"), None, Some("15E")])),
    );
    replace(
        &mut cols,
        "discharge_date",
        Arc::new(StringArray::from(vec!["2024-04-05", "2024-04-31", "2024-04-06"])),
    );
    replace(
        &mut cols,
        "cost",
        Arc::new(Float64Array::from(vec![Some(1.0), None, Some(-2.0)])),
    );
    write(&dir.path().join("admissions.parquet"), cols);
    let (_, errors, _) = load_messages(dir.path());
    assert_eq!(
        errors,
        [
            "admissions.parquet:2:commissioner_code: missing value; this column is required",
            "admissions.parquet:2:discharge_date: \"2024-04-31\": not a date (YYYY-MM-DD)",
            "admissions.parquet:3:cost: \"-2\": negative; must be zero or more",
        ]
    );
}

#[test]
fn parts_are_one_table_and_keys_are_unique_across_them() {
    let dir = valid_copy();
    std::fs::remove_file(dir.path().join("admissions.csv")).unwrap();
    std::fs::create_dir(dir.path().join("admissions")).unwrap();
    write(&dir.path().join("admissions/part-0.parquet"), admissions(10, 0));
    write(&dir.path().join("admissions/part-1.parquet"), admissions(10, 9));
    let (_, errors, _) = load_messages(dir.path());
    assert_eq!(
        errors,
        [
            "admissions/part-1.parquet:1:spell_id: \"S9\": duplicate key; first seen at admissions/part-0.parquet:10"
        ]
    );

    write(&dir.path().join("admissions/part-1.parquet"), admissions(10, 10));
    let (result, errors, _) = load_messages(dir.path());
    assert_eq!(errors, Vec::<String>::new());
    assert_eq!(result.unwrap().dataset.tables["admissions"].tally.rows, 20);
}

#[test]
fn parts_must_share_a_schema() {
    let dir = valid_copy();
    std::fs::remove_file(dir.path().join("admissions.csv")).unwrap();
    std::fs::create_dir(dir.path().join("admissions")).unwrap();
    write(&dir.path().join("admissions/part-0.parquet"), admissions(2, 0));
    let mut other = admissions(2, 2);
    replace(&mut other, "cost", Arc::new(Int64Array::from(vec![1, 2])));
    write(&dir.path().join("admissions/part-1.parquet"), other);
    let (_, errors, _) = load_messages(dir.path());
    assert_eq!(
        errors,
        ["admissions/part-1.parquet::cost: part has a different schema from admissions/part-0.parquet"]
    );
}

#[test]
fn a_corrupt_parquet_file_is_an_error_not_a_panic() {
    let dir = valid_copy();
    std::fs::remove_file(dir.path().join("admissions.csv")).unwrap();
    let path = dir.path().join("admissions.parquet");
    write(&path, admissions(1000, 0));
    let mut bytes = std::fs::read(&path).unwrap();
    // Keep the footer (so the file opens) and garble the column chunks.
    for b in bytes.iter_mut().skip(8).take(2000) {
        *b = b.wrapping_mul(31).wrapping_add(7);
    }
    std::fs::write(&path, &bytes).unwrap();
    let (result, errors, _) = load_messages(dir.path());
    assert!(result.is_err());
    assert!(errors[0].starts_with("admissions.parquet"), "{errors:?}");

    std::fs::write(&path, b"PAR1 this is not parquet").unwrap();
    let (_, errors, _) = load_messages(dir.path());
    assert!(
        errors[0].starts_with("admissions.parquet: not a readable Parquet file"),
        "{errors:?}"
    );
}
