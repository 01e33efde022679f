//! The `footprint` binary end to end, on committed fixtures and temporary folders.

use assert_cmd::Command;
use predicates::prelude::*;
use std::path::{Path, PathBuf};

fn footprint() -> Command {
    let mut cmd = Command::cargo_bin("footprint").unwrap();
    cmd.env_remove("FOOTPRINT_LOG").env("NO_COLOR", "1");
    cmd
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fixture(name: &str) -> PathBuf {
    root().join("crates/dataset/tests/data").join(name)
}

#[test]
fn demo_writes_validates_and_summarises_england() {
    if !::synth::testing::full("cli: demo writes, validates and summarises England") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = footprint()
        .current_dir(dir.path())
        .args(["demo", "--format", "json", "--scale", "0.002", "--no-serve"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["valid"], true);
    let counts = &v["counts"];
    assert_eq!(
        (
            &counts["regions"],
            &counts["systems"],
            &counts["commissioners"],
            &counts["gp_practices"]
        ),
        (&7.into(), &42.into(), &106.into(), &6527.into())
    );
    assert_eq!(v["organisations_by_kind"]["acute_trust"], 135);
    assert!(
        dir.path()
            .join("footprint-demo/england/organisations.csv")
            .is_file()
    );
    // The synthetic England holds every table the generator writes, with activity (the
    // importers' own tables, such as gp_payments, come from real publications).
    let tables = v["tables"].as_array().expect("tables");
    assert_eq!(tables.len(), 20, "{tables:?}");
    let truth = dir.path().join("footprint-demo/synthetic/truth.toml");
    let written = std::fs::metadata(&truth).unwrap().modified().unwrap();
    // A second run reuses what exists, and reports the calibration.
    footprint()
        .current_dir(dir.path())
        .args(["demo", "--scale", "0.002", "--no-serve"])
        .assert()
        .success()
        .stdout(predicate::str::contains("gp_practices"))
        .stdout(predicate::str::contains("30-day emergency readmissions, %"))
        .stdout(predicate::str::contains("cases opened now"))
        .stdout(predicate::str::contains(" 0 cases opened now"));
    assert_eq!(std::fs::metadata(&truth).unwrap().modified().unwrap(), written);
    let demo = dir.path().join("footprint-demo");
    assert!(
        demo.join("results/indicators.parquet").is_file() && demo.join("results/indicators.csv").is_file()
    );
    let database = format!("sqlite://{}", demo.join("footprint.db").display());

    // Tokens: the secret once, only its hash kept.
    let out = footprint()
        .args([
            "tokens",
            "--database",
            &database,
            "create",
            "--name",
            "lead",
            "--role",
            "national",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let secret = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(secret.starts_with("fp_") && secret.len() == 67, "{secret}");
    footprint()
        .args([
            "tokens",
            "--database",
            &database,
            "create",
            "--name",
            "x",
            "--role",
            "system",
        ])
        .assert()
        .failure()
        .stderr(predicate::str::contains("a system token needs a scope"));
    footprint()
        .args(["tokens", "--database", &database, "list"])
        .assert()
        .success()
        .stdout(predicate::str::contains("lead"))
        .stdout(predicate::str::contains(&secret[3..]).not());

    // Serve the demo's results on a free port and ask for the systems and the conflicts.
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("footprint"))
        .args(["-q", "serve", "--dataset"])
        .arg(demo.join("synthetic"))
        .args(["--results"])
        .arg(demo.join("results"))
        .args(["--database", &database, "--addr", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .unwrap_or_else(|| panic!("{line}"))
        .to_string();
    let ask = |path: &str, token: Option<&str>| -> String {
        use std::io::{Read, Write};
        let mut c = std::net::TcpStream::connect(&addr).unwrap();
        let auth = token
            .map(|t| format!("Authorization: Bearer {t}\r\n"))
            .unwrap_or_default();
        write!(
            c,
            "GET {path} HTTP/1.1\r\nHost: x\r\n{auth}Connection: close\r\n\r\n"
        )
        .unwrap();
        let mut out = String::new();
        c.read_to_string(&mut out).unwrap();
        out
    };
    let systems = ask("/api/v1/systems", None);
    let conflicts_anonymous = ask("/api/v1/conflicts", None);
    let cases = ask("/api/v1/cases", Some(&secret));
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        systems.starts_with("HTTP/1.1 200") && systems.contains("\"category\":\"challenged\""),
        "{systems}"
    );
    assert!(
        conflicts_anonymous.starts_with("HTTP/1.1 401"),
        "{conflicts_anonymous}"
    );
    assert!(
        cases.starts_with("HTTP/1.1 200") && cases.contains("\"status\":\"open\""),
        "{cases}"
    );
}

#[test]
fn validate_prints_the_summary_of_a_valid_dataset() {
    footprint()
        .args(["validate", "--quiet"])
        .arg(fixture("valid"))
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "admissions       csv                        2 rows",
        ))
        .stdout(predicate::str::contains(
            "valid: every rule of the data contract holds",
        ));
}

#[test]
fn validate_refuses_a_broken_dataset_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(fixture("valid")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dir.path().join(e.file_name())).unwrap();
    }
    std::fs::write(
        dir.path().join("beds.csv"),
        "period,provider_code,beds_available,beds_occupied\n2024-04,RAL,ten,9\n",
    )
    .unwrap();
    footprint()
        .args(["validate", "--quiet"])
        .arg(dir.path())
        .assert()
        .code(2)
        .stdout("beds.csv:2:beds_available: \"ten\": not a number ≥ 0\ndataset refused: 1 problem; nothing was loaded\n");
    let out = footprint()
        .args(["validate", "-q", "--format", "json"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["errors"][0]["column"], "beds_available");
    assert_eq!(v["errors"][0]["line"], 2);
    assert_eq!(v["error_count"], 1);
}

#[test]
fn validate_of_a_missing_folder_is_a_clear_error() {
    footprint()
        .args(["validate", "/no/such/folder"])
        .assert()
        .code(2)
        .stdout(predicate::str::contains(
            "/no/such/folder: dataset folder does not exist",
        ));
}

#[test]
fn info_describes_tables_without_validating() {
    footprint()
        .arg("info")
        .arg(fixture("valid"))
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "organisations    csv                      13 rows",
        ))
        .stdout(predicate::str::contains("columns: spell_id, patient_id"));
}

#[test]
fn reference_check_confirms_the_checked_in_contract_is_fresh() {
    footprint()
        .current_dir(root())
        .args(["reference", "--check"])
        .assert()
        .success()
        .stdout("data/england/contract is up to date\n");
}

#[test]
fn reference_writes_a_contract_that_validates() {
    let dir = tempfile::tempdir().unwrap();
    footprint()
        .current_dir(root())
        .args(["reference", "--out"])
        .arg(dir.path())
        .assert()
        .success();
    footprint()
        .arg("validate")
        .arg("-q")
        .arg(dir.path())
        .assert()
        .success();
}

#[test]
fn help_explains_the_commands() {
    footprint()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("validate"))
        .stdout(predicate::str::contains(
            "Check a dataset folder against every rule of the data contract",
        ));
}

/// Tidy: no stubs in the source tree.
#[test]
fn no_stubs_in_source() {
    let mut stack = vec![root().join("crates")];
    let mut found = Vec::new();
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&p).unwrap();
                for (i, line) in text.lines().enumerate() {
                    let stub = [
                        concat!("todo", "!("),
                        concat!("unimplemented", "!("),
                        concat!("TO", "DO"),
                        concat!("FIX", "ME"),
                    ];
                    if stub.iter().any(|s| line.contains(s)) {
                        found.push(format!("{}:{}", p.display(), i + 1));
                    }
                }
            }
        }
    }
    assert!(found.is_empty(), "stubs: {found:?}");
}

mod assess;
mod budgets;
mod capacity;
#[cfg(feature = "distributed")]
mod cluster;
mod evaluate;
mod import;
mod indicators;
mod programme;
mod regime;
mod stats;
mod synth;

#[test]
fn validate_writes_a_receipt_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(fixture("valid")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dir.path().join(e.file_name())).unwrap();
    }
    let receipt = dir.path().join(".footprint/validated.toml");
    footprint()
        .args(["validate", "--quiet"])
        .arg(dir.path())
        .assert()
        .success();
    assert!(!receipt.exists());
    footprint()
        .args(["validate", "--quiet", "--receipt"])
        .arg(dir.path())
        .assert()
        .success();
    let text = std::fs::read_to_string(&receipt).unwrap();
    assert!(text.contains("path = \"admissions.csv\""), "{text}");
}
