//! `footprint import rtt|workforce|gp-lists|gp-payments|fingertips` and `demo --real` end to
//! end on the real publications in `data/real`: the dataset validates afterwards, a damaged
//! file exits 2 and changes nothing.

use super::{footprint, root};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn real(sub: &str) -> PathBuf {
    root().join("data/real").join(sub)
}

/// The England skeleton `footprint demo` writes, with its window widened to April 2014.
fn skeleton() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(root().join("data/england/contract")).unwrap() {
        let p = entry.unwrap().path();
        let text = std::fs::read_to_string(&p)
            .unwrap()
            .replace("from = \"2024-06\"", "from = \"2014-04\"");
        std::fs::write(d.path().join(p.file_name().unwrap()), text).unwrap();
    }
    d
}

fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect()
}

#[test]
fn imports_of_real_files_validate_and_damaged_files_change_nothing() {
    let d = skeleton();
    let into = d.path().to_str().unwrap();
    let run = |args: &[&str]| {
        let out = footprint().args(args).output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let pay = real("gp_payments/gp-payments-14-15.csv");
    let (code, text) = run(&["import", "gp-payments", pay.to_str().unwrap(), "--into", into]);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains(
            "total gp_payments.registered_patients: published 56633982 · in the dataset 56633982 (equal)"
        ),
        "{text}"
    );
    let rtt = real("rtt/Incomplete-Commissioner-Apr15-revised-XLS-2101K.xls");
    let (code, text) = run(&["import", "rtt", rtt.to_str().unwrap(), "--into", into]);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("published 3022512 · in the dataset 3022512 (equal)"),
        "{text}"
    );
    let (code, text) = run(&["validate", into]);
    assert_eq!(code, Some(0), "{text}");

    // A damaged workbook: exit 2, nothing written.
    let before = snapshot(d.path());
    let work = tempfile::tempdir().unwrap();
    let bad = work.path().join("Incomplete-Commissioner-Mar15.xls");
    let bytes = std::fs::read(real("rtt/Incomplete-Commissioner-Mar15-revised-XLS-2357K.xls")).unwrap();
    std::fs::write(&bad, &bytes[..bytes.len() / 2]).unwrap();
    let (code, text) = run(&["import", "rtt", bad.to_str().unwrap(), "--into", into]);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("Incomplete-Commissioner-Mar15.xls"), "{text}");
    assert_eq!(snapshot(d.path()), before);

    // A payments file whose required column is missing: exit 2, the column named.
    let text22 = std::fs::read_to_string(real("gp_payments/gp-payments-22-23.csv")).unwrap();
    let bad = work.path().join("gp-payments-22-23.csv");
    std::fs::write(
        &bad,
        text22.replacen("Number of Registered Patients (Last Known Figure)", "Patients", 1),
    )
    .unwrap();
    let (code, text) = run(&["import", "gp-payments", bad.to_str().unwrap(), "--into", into]);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("registered_patients"), "{text}");
    assert_eq!(snapshot(d.path()), before);
}

#[test]
fn demo_real_builds_validates_and_computes_the_real_dataset() {
    let dir = tempfile::tempdir().unwrap();
    let out = footprint()
        .current_dir(dir.path())
        .args(["demo", "--real", "--no-serve", "--real-data"])
        .arg(root().join("data/real"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("valid: every rule of the data contract holds"),
        "{text}"
    );
    assert!(!text.contains("DIFFERENT"), "{text}");
    let real = dir.path().join("footprint-demo/real");
    for t in [
        "rtt",
        "rtt_specialty",
        "gp_payments",
        "code_crosswalk",
        "workforce",
        "population",
        "list_sizes",
        "external_indicators",
    ] {
        assert!(real.join(format!("{t}.csv")).exists(), "{t}");
    }
    // RTT from the 2015 workbooks computed at commissioner level.
    let results = dir.path().join("footprint-demo/results-real/indicators.csv");
    let csv = std::fs::read_to_string(results).unwrap();
    assert!(
        csv.lines()
            .any(|l| l.starts_with("rtt_18w,") && l.contains("2015-04")),
        "no rtt_18w for April 2015"
    );
    // Fingertips indicators beside the computed ones, as published: dementia prevalence of a
    // practice, and in the served catalogue with their source.
    assert!(
        csv.lines().any(|l| l.starts_with("fingertips_247,organisation,") && l.contains(",practice,financial_year,")),
        "no practice-level fingertips_247"
    );
    let catalogue =
        std::fs::read_to_string(dir.path().join("footprint-demo/results-real/catalogue.json")).unwrap();
    assert!(
        catalogue.contains("\"fingertips_93930\"") && catalogue.contains("OHID Fingertips, indicator 93930"),
        "{catalogue}"
    );
}

#[test]
fn capitated_budgets_from_the_published_weighted_list() {
    let d = skeleton();
    let into = d.path().to_str().unwrap();
    let pay = real("gp_payments/gp-payments-22-23.csv");
    let out = footprint()
        .args(["import", "gp-payments", pay.to_str().unwrap(), "--into", into])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = footprint()
        .args(["budgets", "weighted", into, "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // Computed independently (Python, csv module, the skeleton's practice → system map): every
    // practice with a weighted list, England £163.3874 per weighted patient; Lancashire and
    // South Cumbria (QE1) weighted 1,936,933.78, paid £315,398,078.86, target £316,470,614.48.
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-6 * b.abs();
    assert!(close(
        v["england_paid_per_weighted"].as_f64().unwrap(),
        163.387_420_751_847_97
    ));
    let qe1 = v["areas"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["area"] == "QE1")
        .unwrap();
    assert!(close(qe1["weighted"].as_f64().unwrap(), 1_936_933.78));
    assert!(close(qe1["paid"].as_f64().unwrap(), 315_398_078.86));
    assert!(close(qe1["target"].as_f64().unwrap(), 316_470_614.481_327_3));
    assert!(close(qe1["index"].as_f64().unwrap(), 0.996_610_947_202_523));
    // Without payments imported, a clear error.
    let empty = skeleton();
    let out = footprint()
        .args(["budgets", "weighted", empty.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("import gp-payments"));
}
