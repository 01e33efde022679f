//! Data-driven cases: each folder under `tests/data/cases/` changes the valid tiny dataset
//! (files in `files/` replace or add, names in `remove.txt` are deleted) and states every
//! error it must produce in `expected.txt`, in order (empty: the dataset must load), and
//! optionally its warnings in `warnings.txt`.

use crate::support::{copy_dir, data, load_messages, valid_copy};
use std::path::Path;

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .map(|s| s.lines().map(str::to_string).collect())
        .unwrap_or_default()
}

/// Runs one case and describes any mismatch.
fn check(case: &Path) -> Option<String> {
    let dir = valid_copy();
    if case.join("files").is_dir() {
        copy_dir(&case.join("files"), dir.path());
    }
    for name in lines(&case.join("remove.txt")) {
        std::fs::remove_file(dir.path().join(name)).unwrap();
    }
    let expected = lines(&case.join("expected.txt"));
    let expected_warnings = lines(&case.join("warnings.txt"));
    let (result, errors, warnings) = load_messages(dir.path());
    let mut problems = Vec::new();
    if expected.is_empty() != result.is_ok() {
        problems.push(format!(
            "loaded: {}, expected to load: {}",
            result.is_ok(),
            expected.is_empty()
        ));
    }
    if let Err(report) = &result
        && report.error_count != errors.len() as u64
    {
        problems.push(format!(
            "error_count {} but {} shown",
            report.error_count,
            errors.len()
        ));
    }
    if errors != expected {
        problems.push(format!(
            "errors:\n  got:      {errors:#?}\n  expected: {expected:#?}"
        ));
    }
    if warnings != expected_warnings {
        problems.push(format!(
            "warnings:\n  got:      {warnings:#?}\n  expected: {expected_warnings:#?}"
        ));
    }
    (!problems.is_empty()).then(|| format!("case {}:\n{}", case.display(), problems.join("\n")))
}

#[test]
fn the_valid_dataset_loads_every_table() {
    let (result, errors, warnings) = load_messages(&data().join("valid"));
    assert_eq!(errors, Vec::<String>::new());
    assert_eq!(warnings, Vec::<String>::new());
    let ds = result.unwrap().dataset;
    assert_eq!(
        ds.tables.len(),
        dataset::schema::TABLES.len(),
        "the fixture covers every table"
    );
    assert_eq!(ds.organisations.len(), 13);
    let nl7 = ds.organisations.iter().find(|o| o.code == "NL7").unwrap();
    assert_eq!(
        (nl7.system.as_deref(), nl7.region.as_deref()),
        (None, Some("Y60"))
    );
    let ral = ds.organisations.iter().find(|o| o.code == "RAL").unwrap();
    assert_eq!(
        ral.region.as_deref(),
        Some("Y56"),
        "a region is inherited from the system"
    );
    assert_eq!(ds.tables["admissions"].tally.rows, 2);
}

#[test]
fn suppressed_cells_load_as_null_not_zero() {
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::Int64Type;
    let ds = dataset::load(&data().join("valid"), &dataset::Options::default())
        .unwrap()
        .dataset;
    let batches = ds.scan("ae_monthly").unwrap();
    let col = batches[0]
        .column_by_name("emergency_admissions")
        .unwrap()
        .as_primitive::<Int64Type>();
    assert_eq!((col.value(0), col.is_null(1)), (2500, true));
}

#[test]
fn broken_datasets() {
    let mut dirs: Vec<_> = std::fs::read_dir(data().join("cases"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    let refused = dirs
        .iter()
        .filter(|d| !lines(&d.join("expected.txt")).is_empty())
        .count();
    assert!(refused >= 25, "at least 25 broken datasets, found {refused}");
    let failures: Vec<String> = dirs.iter().filter_map(|d| check(d)).collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n\n{}",
        failures.len(),
        dirs.len(),
        failures.join("\n\n")
    );
}

#[test]
fn a_missing_folder_is_an_error_not_a_panic() {
    let r = dataset::load(Path::new("/nonexistent/footprint"), &dataset::Options::default()).unwrap_err();
    assert_eq!(
        r.errors[0].to_string(),
        "/nonexistent/footprint: dataset folder does not exist"
    );
}

#[test]
fn only_the_first_problems_are_kept_but_all_are_counted() {
    let dir = valid_copy();
    let mut text = String::from("period,practice_code,age_band,sex,persons\n");
    for band in model::vocab::AGE_BANDS {
        for sex in ["F", "M"] {
            for month in ["2024-04", "2024-05", "2024-06"] {
                text.push_str(&format!("{month},F83004,{band},{sex},-1\n"));
            }
        }
    }
    std::fs::write(dir.path().join("population.csv"), text).unwrap();
    let r = dataset::load(dir.path(), &dataset::Options::default()).unwrap_err();
    assert_eq!(
        (r.errors.len(), r.error_count, r.errors_not_shown()),
        (50, 114, 64)
    );
}

#[test]
fn a_two_megabyte_line_stops_the_file_without_reading_it_into_memory() {
    let dir = valid_copy();
    let mut text = b"period,provider_code,beds_available,beds_occupied\n2024-04,RAL,900,".to_vec();
    text.extend(std::iter::repeat_n(b'9', 2 << 20));
    text.push(b'\n');
    std::fs::write(dir.path().join("beds.csv"), text).unwrap();
    let (_, errors, _) = load_messages(dir.path());
    assert_eq!(
        errors,
        ["beds.csv:2: line is longer than 1048576 bytes; is this a CSV file?"]
    );
}

#[test]
fn a_bom_and_crlf_line_endings_are_accepted() {
    let dir = valid_copy();
    std::fs::write(
        dir.path().join("beds.csv"),
        "\u{feff}period,provider_code,beds_available,beds_occupied\r\n2024-04,RAL,900,850\r\n",
    )
    .unwrap();
    let (result, errors, _) = load_messages(dir.path());
    assert_eq!(errors, Vec::<String>::new());
    assert_eq!(result.unwrap().dataset.tables["beds"].tally.rows, 1);
}
