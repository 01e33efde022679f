//! The same seed and scale give byte-identical files, whatever the number of threads.

use std::collections::BTreeMap;
use std::path::Path;
use synth::Config;

fn hashes(dir: &Path) -> BTreeMap<String, u64> {
    std::fs::read_dir(dir)
        .expect("folder")
        .map(|e| {
            let e = e.expect("entry");
            let bytes = std::fs::read(e.path()).expect("file");
            (
                e.file_name().to_string_lossy().into_owned(),
                xxhash_rust::xxh3::xxh3_64(&bytes),
            )
        })
        .collect()
}

#[test]
fn same_seed_same_bytes_whatever_the_threads() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let config = Config {
        scale: 0.003,
        seed: 11,
        ..Config::default()
    };
    let one = dir.path().join("one");
    let two = dir.path().join("two");
    synth::generate(&one, &config, Some(1), None).expect("one thread");
    synth::generate(&two, &config, Some(3), None).expect("three threads");
    let (a, b) = (hashes(&one), hashes(&two));
    assert_eq!(
        a.len(),
        synth::OUTPUTS.len(),
        "every table, the manifest and truth.toml: {:?}",
        a.keys()
    );
    assert_eq!(a, b);

    // Generating again into the same folder replaces it with the same bytes.
    synth::generate(&one, &config, Some(2), None).expect("again");
    assert_eq!(hashes(&one), b);

    // A different seed gives different people and activity (but the same skeleton).
    let other = dir.path().join("other");
    synth::generate(&other, &Config { seed: 12, ..config }, None, None).expect("seed 12");
    let c = hashes(&other);
    for table in [
        "patients.parquet",
        "admissions.parquet",
        "ae_attendances.parquet",
        "truth.toml",
    ] {
        assert_ne!(a[table], c[table], "{table} should depend on the seed");
    }
    for table in ["regions.csv", "systems.csv", "organisations.csv", "lsoa.csv"] {
        assert_eq!(a[table], c[table], "{table} is the real skeleton");
    }
}

#[test]
fn bad_configurations_are_refused_with_the_rule() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let bad = |config: Config| {
        synth::generate(dir.path(), &config, None, None)
            .expect_err("refused")
            .to_string()
    };
    assert!(
        bad(Config {
            scale: 0.0,
            ..Config::default()
        })
        .contains("--scale 0: must be above 0")
    );
    assert!(
        bad(Config {
            scale: f64::NAN,
            ..Config::default()
        })
        .contains("--scale NaN")
    );
    let month = |s: &str| s.parse().expect("month");
    let short = bad(Config {
        from: month("2024-01"),
        to: month("2024-06"),
        ..Config::default()
    });
    assert!(
        short.contains("the window must be 12 to 120 months long (it is 6)"),
        "{short}"
    );
    // Nothing was written by a refused run.
    assert_eq!(std::fs::read_dir(dir.path()).expect("folder").count(), 0);
}

#[test]
fn a_folder_holding_another_dataset_is_refused() {
    let dir = tempfile::tempdir().expect("temporary folder");
    std::fs::write(
        dir.path().join("manifest.toml"),
        "name = \"mine\"\nsource = \"hospital extract\"\n",
    )
    .expect("write");
    let e = synth::generate(
        dir.path(),
        &Config {
            scale: 0.001,
            ..Config::default()
        },
        None,
        None,
    )
    .expect_err("refused");
    assert!(
        e.to_string().contains("holds a dataset that is not synthetic"),
        "{e}"
    );
    assert!(
        std::fs::read_to_string(dir.path().join("manifest.toml"))
            .expect("kept")
            .contains("hospital extract")
    );
}
