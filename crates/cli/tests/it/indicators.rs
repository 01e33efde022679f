//! `footprint indicators` and `footprint import sitrep`, end to end.

use super::{footprint, root};
use predicates::prelude::*;

fn copy_contract(to: &std::path::Path, skip: &[&str]) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(root().join("data/england/contract")).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if !skip.contains(&name.as_str()) {
            std::fs::copy(&p, to.join(&name)).unwrap();
        }
    }
}

#[test]
fn the_bundled_sitrep_imports_to_the_checked_in_table_and_computes() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("england");
    copy_contract(&data, &["ae_monthly.csv"]);
    // Take the independent sites out of organisations.csv: the import adds them back.
    let orgs = std::fs::read_to_string(data.join("organisations.csv")).unwrap();
    let kept: Vec<&str> = orgs
        .lines()
        .filter(|l| !l.contains(",independent_provider,"))
        .collect();
    let removed = orgs.lines().count() - kept.len();
    assert!(removed > 40, "{removed}");
    std::fs::write(data.join("organisations.csv"), kept.join("\n") + "\n").unwrap();
    let mut files: Vec<_> = std::fs::read_dir(root().join("data/england/raw/ae_monthly_2024_25"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    footprint()
        .args(["import", "sitrep", "--into"])
        .arg(&data)
        .args(&files)
        .assert()
        .success()
        .stdout(predicate::str::contains("(2024-06 to 2025-06)"))
        .stdout(predicate::str::contains(format!("added {removed} sites")));
    assert_eq!(
        std::fs::read(data.join("ae_monthly.csv")).unwrap(),
        std::fs::read(root().join("data/england/contract/ae_monthly.csv")).unwrap()
    );
    footprint()
        .args(["validate", "--quiet"])
        .arg(&data)
        .assert()
        .success();
    let out = dir.path().join("out");
    footprint()
        .args([
            "indicators",
            "compute",
            "--quiet",
            "--indicator",
            "ae_4h",
            "--grain",
            "rolling_12_months",
            "--out",
        ])
        .arg(&out)
        .arg(&data)
        .assert()
        .success()
        .stdout(predicate::str::contains("ae_4h"));
    let csv = std::fs::read_to_string(out.join("indicators.csv")).unwrap();
    let england = csv
        .lines()
        .find(|l| l.contains(",england,E92000001,") && l.contains("2024-07 to 2025-06"))
        .expect("England row");
    assert!(england.starts_with("ae_4h,england,"), "{england}");
    assert!(out.join("indicator_signals.parquet").is_file());
}

#[test]
fn a_window_that_does_not_cover_the_sitrep_is_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("england");
    copy_contract(&data, &["ae_monthly.csv"]);
    let manifest = std::fs::read_to_string(data.join("manifest.toml"))
        .unwrap()
        .replace("from = \"2024-06\"", "from = \"2024-09\"");
    std::fs::write(data.join("manifest.toml"), manifest).unwrap();
    let file = root().join("data/england/raw/ae_monthly_2024_25/Monthly-AE-June-2024_copy.csv");
    footprint()
        .args(["import", "sitrep", "--into"])
        .arg(&data)
        .arg(&file)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "does not cover the SitRep's 2024-06..2024-06",
        ));
    assert!(!data.join("ae_monthly.csv").exists());
}

#[test]
fn indicators_list_names_the_default_catalogue() {
    footprint()
        .args(["indicators", "list"])
        .assert()
        .success()
        .stdout(predicate::str::contains("emergency_admissions_isr"))
        .stdout(predicate::str::contains("27 indicators"));
    let out = footprint()
        .args(["indicators", "list", "--format", "json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 27);
}

#[test]
fn a_bad_catalogue_folder_is_refused_with_the_file_and_rule() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("x.toml"), "format = 1\nid = \"x\"\n").unwrap();
    footprint()
        .args(["indicators", "list", "--catalogue"])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "x.toml: line 1, column 1: missing field `title`",
        ));
}

#[test]
fn a_bad_engine_address_is_refused_with_the_form_it_takes() {
    for (engine, why) in [
        (
            "ballista://host:50050",
            "expected `embedded` or a Ballista scheduler's df://HOST:PORT",
        ),
        (
            "df://host",
            "expected df://HOST:PORT, with a port from 1 to 65535",
        ),
        (
            "df://host:0",
            "expected df://HOST:PORT, with a port from 1 to 65535",
        ),
        (
            "df://:50050",
            "expected df://HOST:PORT, with a port from 1 to 65535",
        ),
    ] {
        footprint()
            .args([
                "indicators",
                "compute",
                "--out",
                "never-written",
                "--engine",
                engine,
                "no-dataset",
            ])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(why));
    }
    assert!(!std::path::Path::new("never-written").exists());
}

/// Without the `distributed` feature the cluster commands and `--engine df://` say what to
/// build, before any work is done.
#[cfg(not(feature = "distributed"))]
#[test]
fn a_build_without_the_distributed_feature_says_how_to_get_it() {
    for role in ["scheduler", "executor"] {
        footprint()
            .args(["cluster", role])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("this build has no distributed engine"))
            .stderr(predicate::str::contains("--features distributed"));
    }
    // A copy: computing leaves a validation receipt in the dataset's folder.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    for e in std::fs::read_dir(super::fixture("valid")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), data.join(e.file_name())).unwrap();
    }
    let out = dir.path().join("out");
    footprint()
        .args([
            "indicators",
            "compute",
            "--quiet",
            "--engine",
            "df://127.0.0.1:50050",
            "--out",
        ])
        .arg(&out)
        .arg(&data)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("this build has no distributed engine"));
    assert!(!out.join("indicators.parquet").exists());
}
