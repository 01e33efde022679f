//! The patients mart (`engine::mart`): looking each row's patient up gives every indicator
//! exactly what joining the patients table gives, including dropping rows whose patient is
//! not in the table; a stale mart is not used, and text ids get none.

use crate::{close, rows};
use arrow::array::{AsArray, BooleanArray};
use arrow::datatypes::Int64Type;
use std::path::Path;

/// A synthetic England at a small scale with every 29th patient removed from the patients
/// table, so some activity refers to no patient.
fn dataset() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary folder");
    let config = synth::Config {
        scale: 0.002,
        seed: 13,
        ..synth::Config::default()
    };
    synth::generate(dir.path(), &config, None, None).expect("generates");
    let path = dir.path().join("patients.parquet");
    let file = std::fs::File::open(&path).expect("patients");
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .expect("parquet")
        .build()
        .expect("reader");
    let batches: Vec<_> = reader.map(|b| b.expect("batch")).collect();
    let schema = batches[0].schema();
    let out = std::fs::File::create(dir.path().join("patients.part")).expect("write");
    let mut w = parquet::arrow::ArrowWriter::try_new(out, schema, None).expect("writer");
    let mut dropped = 0;
    for b in &batches {
        let ids = arrow::compute::cast(b.column(0), &arrow::datatypes::DataType::Int64).expect("ids");
        let keep: BooleanArray = ids
            .as_primitive::<Int64Type>()
            .iter()
            .map(|id| Some(id.is_none_or(|id| id % 29 != 0)))
            .collect();
        dropped += keep.false_count();
        w.write(&arrow::compute::filter_record_batch(b, &keep).expect("filter"))
            .expect("write");
    }
    w.close().expect("close");
    std::fs::rename(dir.path().join("patients.part"), &path).expect("rename");
    assert!(dropped > 100, "{dropped}");
    dir
}

fn load(dir: &Path) -> dataset::Dataset {
    dataset::load(dir, &dataset::Options::default())
        .expect("valid")
        .dataset
}

#[test]
fn looking_patients_up_gives_what_joining_them_gives() {
    if !synth::testing::full("engine: looking patients up gives what joining them gives") {
        return;
    }
    let dir = dataset();
    let ds = load(dir.path());
    let catalogue = engine::Catalogue::default_catalogue().expect("catalogue");
    let options = engine::Options::default();
    assert!(!engine::Engine::new(&ds).expect("engine").looks_patients_up());
    let joined = engine::compute(&ds, &catalogue, &options, &|_| {}).expect("computes");

    let written = engine::mart::write(&ds).expect("writes");
    assert!(written.is_some_and(|p| p.join("practice.u16").exists()));
    assert!(engine::mart::current(&ds));
    let e = engine::Engine::new(&ds).expect("engine");
    assert!(e.looks_patients_up());
    // Every patient's columns as the table has them, and nothing for an id not in it.
    let differ = e
        .query(
            "SELECT count(*) FROM patients WHERE (NOT fp_patient_known(patient_id)) \
             OR (fp_patient_practice(patient_id) IS DISTINCT FROM CAST(practice_code AS VARCHAR)) \
             OR (fp_patient_birth_year(patient_id) IS DISTINCT FROM CAST(birth_year AS BIGINT)) \
             OR (fp_patient_sex(patient_id) IS DISTINCT FROM CAST(sex AS VARCHAR))",
        )
        .expect("query");
    assert_eq!(differ[0].column(0).as_primitive::<Int64Type>().value(0), 0);
    let unknown = e
        .query(
            "SELECT fp_patient_known(CAST(29 AS BIGINT)), fp_patient_known(CAST(-1 AS BIGINT)), \
             fp_patient_known(CAST(NULL AS BIGINT)), fp_patient_practice(CAST(29 AS BIGINT)), \
             fp_patient_sex(CAST(29 AS BIGINT))",
        )
        .expect("query");
    let b = &unknown[0];
    for c in 0..3 {
        assert!(!b.column(c).as_boolean().value(0), "column {c}");
    }
    assert!(b.column(3).is_null(0) && b.column(4).is_null(0));
    // Some admissions refer to a removed patient: the join drops them, and so must the
    // lookup.
    let orphans = e
        .query("SELECT count(*) FROM admissions WHERE NOT fp_patient_known(patient_id)")
        .expect("query");
    assert!(orphans[0].column(0).as_primitive::<Int64Type>().value(0) > 0);

    let looked = engine::compute(&ds, &catalogue, &options, &|_| {}).expect("computes");
    let (a, b) = (rows(&joined.unsuppressed), rows(&looked.unsuppressed));
    assert_eq!(a.len(), b.len());
    // Rows of practices and commissioners: what the registered path gives.
    let practices: std::collections::BTreeSet<&str> = ds
        .organisations
        .iter()
        .filter(|o| matches!(o.kind, model::OrgKind::GpPractice | model::OrgKind::Commissioner))
        .map(|o| o.code.as_str())
        .collect();
    let mut registered = std::collections::BTreeSet::new();
    for (key, x) in &a {
        let y = b
            .get(key)
            .unwrap_or_else(|| panic!("no row {key:?} with the mart"));
        for (p, q) in [
            (x.numerator, y.numerator),
            (x.denominator, y.denominator),
            (x.value, y.value),
            (x.lower_95, y.lower_95),
            (x.upper_998, y.upper_998),
        ] {
            assert!(
                p.zip(q).map_or(p.is_none() && q.is_none(), |(p, q)| close(p, q)),
                "{key:?}: {x:?} against {y:?}"
            );
        }
        if practices.contains(key.1.as_str()) {
            registered.insert(key.0.clone());
        }
    }
    for id in [
        "emergency_admissions_rate",
        "emergency_admissions_isr",
        "readmissions_30d",
    ] {
        assert!(registered.contains(id), "{registered:?}");
    }

    // A column cut short is not read: the plans join, and the next use makes it again.
    let sex = dir.path().join(engine::mart::DIR).join("sex.u8");
    let bytes = std::fs::read(&sex).expect("read");
    std::fs::write(&sex, &bytes[..bytes.len() - 1]).expect("write");
    assert!(!engine::mart::current(&ds));
    assert!(!engine::Engine::new(&ds).expect("engine").looks_patients_up());
}

#[test]
fn a_stale_mart_is_not_used_and_text_ids_get_none() {
    let dir = tempfile::tempdir().expect("temporary folder");
    for e in std::fs::read_dir(crate::data("tiny")).expect("fixture") {
        let e = e.expect("entry");
        std::fs::copy(e.path(), dir.path().join(e.file_name())).expect("copy");
    }
    let ds = load(dir.path());
    assert!(!engine::mart::current(&ds));
    // Text ids (P1, P2, …): no arrays, and a record of why, so no run tries again.
    assert_eq!(engine::mart::write(&ds).expect("writes"), None);
    assert!(engine::mart::current(&ds));
    assert!(engine::mart::Mart::open(&ds).is_none());
    assert!(!engine::Engine::new(&ds).expect("engine").looks_patients_up());
    // A patients file changed since: the record no longer matches.
    let patients = dir.path().join("patients.csv");
    let text = std::fs::read_to_string(&patients).expect("read");
    std::fs::write(
        &patients,
        format!("{text}P99,F83004,1970,M,E01002687,2010-01-01,\n"),
    )
    .expect("write");
    let ds = load(dir.path());
    assert!(!engine::mart::current(&ds));
}
