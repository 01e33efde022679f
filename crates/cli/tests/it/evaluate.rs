//! `footprint evaluate`: the synthetic-control interface and the site runner with its
//! register of protocols.

use super::footprint;
use serde_json::{Value, json};

fn synth(request: &str) -> (i32, Value, String) {
    let out = footprint()
        .args(["-q", "evaluate", "synth"])
        .write_stdin(request.to_string())
        .output()
        .unwrap();
    let v = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (
        out.status.code().unwrap(),
        v,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn synth_answers_the_documented_shape() {
    let (code, v, err) = synth(
        r#"{"outcome": {"A": [2, 3, 10], "B": [1, 2, 4], "C": [3, 4, 6]}, "treated": "A", "donors": ["B", "C"], "pre_periods": 2, "placebo": true}"#,
    );
    assert_eq!(code, 0, "{err}");
    for d in ["B", "C"] {
        assert!((v["weights"][d].as_f64().unwrap() - 0.5).abs() < 1e-12);
    }
    assert!((v["gap"][2].as_f64().unwrap() - 5.0).abs() < 1e-12);
    assert!((v["att_mean_post_gap"].as_f64().unwrap() - 5.0).abs() < 1e-12);
    assert_eq!(v["unique"], json!(true));
    for k in [
        "synthetic",
        "pre_rmspe",
        "post_rmspe",
        "rmspe_ratio",
        "pre_mspe",
        "loss_w",
    ] {
        assert!(v.get(k).is_some(), "{k} missing");
    }
    assert!((v["placebo"]["p_value_rmspe_ratio"].as_f64().unwrap() - 1.0 / 3.0).abs() < 1e-12);
}

#[test]
fn predictors_pair_with_v_in_the_order_given() {
    // The same problem with the predictors listed in two orders and V's diagonal with them.
    let outcome =
        r#""outcome": {"T": [5, 6, 7, 9], "D1": [4, 5, 6, 7], "D2": [7, 8, 9, 9], "D3": [1, 2, 3, 4]}"#;
    let a = format!(
        r#"{{{outcome}, "treated": "T", "donors": ["D1", "D2", "D3"], "pre_periods": 3, "predictors": {{"zeta": {{"T": 1, "D1": 0, "D2": 3, "D3": 1}}, "alpha": {{"T": 10, "D1": 12, "D2": 9, "D3": 4}}}}, "v": [0.9, 0.1]}}"#
    );
    let b = format!(
        r#"{{{outcome}, "treated": "T", "donors": ["D1", "D2", "D3"], "pre_periods": 3, "predictors": {{"alpha": {{"T": 10, "D1": 12, "D2": 9, "D3": 4}}, "zeta": {{"T": 1, "D1": 0, "D2": 3, "D3": 1}}}}, "v": [0.1, 0.9]}}"#
    );
    let (ca, va, ea) = synth(&a);
    let (cb, vb, eb) = synth(&b);
    assert_eq!((ca, cb), (0, 0), "{ea}{eb}");
    for d in ["D1", "D2", "D3"] {
        let (x, y) = (
            va["weights"][d].as_f64().unwrap(),
            vb["weights"][d].as_f64().unwrap(),
        );
        assert!((x - y).abs() < 1e-12, "{d}: {x} vs {y}");
    }
    assert!((va["loss_w"].as_f64().unwrap() - vb["loss_w"].as_f64().unwrap()).abs() < 1e-12);
}

#[test]
fn synth_refuses_a_bad_request_with_the_reason() {
    let (code, _, err) =
        synth(r#"{"outcome": {"A": [1, 2]}, "treated": "A", "donors": ["B"], "pre_periods": 1}"#);
    assert_eq!(code, 2);
    assert!(err.contains("outcome: unit `B` has no series"), "{err}");
    let (code, _, err) = synth("not json");
    assert_eq!(code, 2);
    assert!(err.contains("reading the synthetic control request"), "{err}");
}

#[test]
fn sites_are_evaluated_under_registered_protocols() {
    if !::synth::testing::full("cli: sites are evaluated under registered protocols") {
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
    // The published table once (the whole catalogue, as published), read by both runs.
    let results = dir.path().join("results");
    footprint()
        .args(["indicators", "compute", "--quiet", "--out"])
        .arg(&results)
        .arg(&data)
        .assert()
        .success();
    let db = format!("sqlite://{}", dir.path().join("e.db").display());
    let run = |extra: &[&str]| -> Value {
        let out = footprint()
            .args(["-q", "evaluate", "sites"])
            .arg(&data)
            .arg("--results")
            .arg(&results)
            .args(["--database", &db, "--format", "json"])
            .args(extra)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let first = run(&["--as-of", "2024-12"]);
    let sites = first["sites"].as_array().unwrap();
    assert_eq!(sites.len(), 3, "the planted vanguards");
    let protocols = first["protocols"].as_array().unwrap();
    assert_eq!(protocols.len(), 3);
    for r in first["runs"].as_array().unwrap() {
        assert_eq!(r["as_of"], "2024-12");
        assert_eq!(r["post_months"], 6);
    }
    // The monthly re-run with all the data keeps each registered protocol (same hash).
    let later = run(&["--history"]);
    let hashes = |v: &Value| -> Vec<String> {
        let mut h: Vec<String> = v["runs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["protocol_hash"].as_str().unwrap().to_string())
            .collect();
        h.sort();
        h.dedup();
        h
    };
    assert_eq!(hashes(&first), hashes(&later));
    assert!(later["runs"].as_array().unwrap().len() >= first["runs"].as_array().unwrap().len() * 10);

    // A sites file with a system the dataset lacks is refused with the site and the reason.
    let bad = dir.path().join("sites.toml");
    std::fs::write(
        &bad,
        "format = 1\n[[site]]\nid = \"x\"\nmodel = \"primary_and_acute_care_system\"\nsystem = \"QQQ\"\nstart = \"2024-07\"\n",
    )
    .unwrap();
    let out = footprint()
        .args(["-q", "evaluate", "sites"])
        .arg(&data)
        .arg("--sites")
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("site x: system `QQQ` is not in the dataset"),
        "{err}"
    );
}
