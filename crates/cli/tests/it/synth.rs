//! `footprint synth`: generation, the calibration report, and refusals.

use super::footprint;
use predicates::prelude::*;

#[test]
fn generates_a_dataset_that_validates_and_reports_its_calibration() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("synthetic");
    footprint()
        .args(["synth", "--quiet", "--scale", "0.001", "--seed", "3", "--out"])
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains("admissions"))
        .stdout(predicate::str::contains("truth.toml"));
    let truth = std::fs::read_to_string(out.join("truth.toml")).unwrap();
    assert!(truth.contains("seed = 3"), "{truth}");
    assert!(truth.contains("[[challenged_system]]"));
    assert!(truth.contains("[cost_model.age_sex.female]"));
    footprint()
        .args(["validate", "--quiet"])
        .arg(&out)
        .assert()
        .success();
    footprint()
        .args(["synth", "--report"])
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains("calibration at scale 0.001"))
        .stdout(predicate::str::contains("emergency admissions a year"));
}

#[test]
fn bad_arguments_are_refused_with_the_rule() {
    footprint()
        .args(["synth", "--out", "never-written", "--scale", "0"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--scale 0: must be above 0"));
    footprint()
        .args(["synth", "--out", "never-written", "--from", "2024-13"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("2024-13"));
    // One of --out and --report is required, and they do not mix.
    footprint().arg("synth").assert().code(2);
    footprint()
        .args(["synth", "--report", "x", "--scale", "1"])
        .assert()
        .code(2);
    assert!(!std::path::Path::new("never-written").exists());
}

#[test]
fn report_of_a_folder_that_is_not_synthetic_says_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    footprint()
        .args(["synth", "--report"])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("truth.toml"));
}
