//! `footprint capacity`: the calculators through their JSON interface (every reference case),
//! bad input refused with exit code 2, and a plan imported into a synthetic dataset and
//! checked.

use super::{footprint, root};
use serde_json::Value;

fn reference() -> Value {
    let path = root().join("crates/capacity/tests/data/reference.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[track_caller]
fn ask(args: &[&str], request: &Value) -> Value {
    let out = footprint()
        .args(args)
        .write_stdin(request.to_string())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn beds_and_formulas_answer_every_reference_case() {
    let r = reference();
    for case in r["beds"].as_array().unwrap() {
        let got = ask(&["capacity", "beds"], &case["request"]);
        for (k, want) in case["response"].as_object().unwrap() {
            if want.is_u64() {
                assert_eq!(got[k].as_u64(), want.as_u64(), "{k} in {case}");
            } else {
                let (g, w) = (got[k].as_f64().unwrap(), want.as_f64().unwrap());
                assert!((g - w).abs() <= 1e-8_f64.max(1e-6 * w.abs()), "{k}: {g} vs {w}");
            }
        }
    }
    for case in r["formula"].as_array().unwrap() {
        let got = ask(
            &["capacity", "formula", case["name"].as_str().unwrap()],
            &case["request"],
        );
        for (k, want) in case["response"].as_object().unwrap() {
            if want.is_u64() {
                assert_eq!(got[k].as_u64(), want.as_u64(), "{k} in {case}");
            } else {
                let (g, w) = (got[k].as_f64().unwrap(), want.as_f64().unwrap());
                assert!((g - w).abs() <= 1e-6 * w.abs().max(1.0), "{k}: {g} vs {w}");
            }
        }
    }
}

#[test]
fn bad_requests_exit_2_and_say_why() {
    let out = footprint()
        .args(["capacity", "beds"])
        .write_stdin(r#"{"admissions_per_year": 100, "mean_los_days": -2}"#)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("mean_los_days: -2: must be a number ≥ 0"), "{err}");
    let out = footprint()
        .args(["capacity", "formula", "nhp_magic"])
        .write_stdin("{}")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown formula"));
    let out = footprint()
        .args(["capacity", "beds"])
        .write_stdin("not json")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_plan_is_imported_validated_and_checked_on_a_synthetic_england() {
    if !::synth::testing::full("cli: a plan is imported, validated and checked on a synthetic England") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("synthetic");
    footprint()
        .args(["-q", "synth", "--out"])
        .arg(&data)
        .args(["--scale", "0.003", "--seed", "4"])
        .assert()
        .success();
    // The current capacity, to find a trust and the plan year.
    let out = footprint()
        .args(["-q", "capacity", "plan"])
        .arg(&data)
        .args(["--runs", "100", "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let year = r["plan_year"].as_str().unwrap().to_string();
    let (system, trust, beds) = r["systems"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| {
            s["providers"].as_array().unwrap().iter().filter_map(move |p| {
                let b = p["beds"].as_array()?.iter().find(|b| b["group"] == "ga")?;
                Some((
                    s["code"].as_str()?.to_string(),
                    p["code"].as_str()?.to_string(),
                    b["current_beds"].as_f64()?,
                ))
            })
        })
        .max_by(|a, b| a.2.total_cmp(&b.2))
        .unwrap();
    // A damaged plan is refused and the dataset is unchanged.
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        format!("period,org_code,measure,category,value\n{year},{trust},beds,surgery,4\n"),
    )
    .unwrap();
    let out = footprint()
        .args(["capacity", "import"])
        .arg(&bad)
        .arg("--into")
        .arg(&data)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("bad.csv:2:category: surgery"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!data.join("plans.csv").exists());
    // Half the trust's G&A beds: imported, validated, and it does not add up.
    let plan = dir.path().join("plan.csv");
    std::fs::write(
        &plan,
        format!(
            "period,org_code,measure,category,value\n{year},{trust},beds,ga,{:.1}\n",
            beds * 0.5
        ),
    )
    .unwrap();
    footprint()
        .args(["-q", "capacity", "import"])
        .arg(&plan)
        .arg("--into")
        .arg(&data)
        .assert()
        .success();
    footprint().args(["-q", "validate"]).arg(&data).assert().success();
    let out = footprint()
        .args(["-q", "capacity", "plan"])
        .arg(&data)
        .args(["--runs", "100", "--format", "json", "--system", &system])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let s = &r["systems"][0];
    assert_eq!(s["code"], system.as_str());
    assert_eq!(s["has_plan"], true);
    assert_eq!(s["adds_up"], false, "{s}");
    assert!(
        s["short"].as_array().unwrap().iter().any(|t| t == trust.as_str()),
        "{s}"
    );
    // The text report says so too.
    let out = footprint()
        .args(["-q", "capacity", "plan"])
        .arg(&data)
        .args(["--runs", "100", "--system", &system])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("DOES NOT ADD UP"), "{text}");
    // By default the output is computed from the published baseline; --exact uses the
    // spells as they are, and the two differ (rounded cells, stand-ins for small ones).
    let exact = footprint()
        .args(["-q", "capacity", "plan"])
        .arg(&data)
        .args([
            "--runs", "100", "--format", "json", "--system", &system, "--exact",
        ])
        .output()
        .unwrap();
    assert!(exact.status.success());
    let e: Value = serde_json::from_slice(&exact.stdout).unwrap();
    assert_eq!(e["systems"][0]["code"], system.as_str());
    assert_ne!(e["systems"][0]["beds"], r["systems"][0]["beds"]);
    // A register that cannot be opened (its folder is a file) is an error naming it, not an
    // empty set of commitments.
    let register = format!("sqlite://{}/fp.db", plan.display());
    let out = footprint()
        .args(["-q", "capacity", "plan"])
        .arg(&data)
        .args(["--runs", "10", "--register", &register])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&register),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
