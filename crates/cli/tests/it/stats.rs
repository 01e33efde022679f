//! `footprint stats`: every reference vector case through the JSON interface, and bad
//! requests refused with a clear message and exit code 2.

use super::{footprint, root};
use serde_json::{Value, json};

fn vectors(file: &str) -> Vec<Value> {
    let path = root().join("crates/stats/tests/data").join(file);
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    doc["cases"].as_array().unwrap().clone()
}

/// Runs `footprint stats METHOD` on `request`, returning the parsed response.
#[track_caller]
fn ask(method: &str, request: &Value) -> Value {
    let out = footprint()
        .args(["stats", method])
        .write_stdin(request.to_string())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{method}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Runs a bad request, returning stderr.
#[track_caller]
fn refuse(method: &str, request: &str) -> String {
    let out = footprint()
        .args(["stats", method])
        .write_stdin(request)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{method} {request}: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(out.stdout.is_empty());
    String::from_utf8(out.stderr).unwrap()
}

/// Compares every field of `want` with `got`: numbers within tolerance, the rest exactly.
#[track_caller]
fn matches(path: &str, got: &Value, want: &Value, (rel, abs): (f64, f64)) {
    match want {
        Value::Object(fields) => {
            for (k, w) in fields {
                matches(&format!("{path}.{k}"), &got[k], w, (rel, abs));
            }
        }
        Value::Array(items) => {
            let g = got
                .as_array()
                .unwrap_or_else(|| panic!("{path}: got {got}, want an array"));
            assert_eq!(g.len(), items.len(), "{path}: length");
            for (i, (g, w)) in g.iter().zip(items).enumerate() {
                matches(&format!("{path}[{i}]"), g, w, (rel, abs));
            }
        }
        Value::Number(w) if got.is_number() => {
            let (g, w) = (got.as_f64().unwrap(), w.as_f64().unwrap());
            assert!(
                (g - w).abs() <= abs.max(rel * w.abs()),
                "{path}: got {g:e}, want {w:e}"
            );
        }
        _ => assert_eq!(got, want, "{path}"),
    }
}

fn tolerance(case: &Value) -> (f64, f64) {
    let t = &case["tolerance"];
    (t["rel"].as_f64().unwrap_or(0.0), t["abs"].as_f64().unwrap_or(0.0))
}

/// The vector's inputs merged with its options.
fn request(case: &Value) -> Value {
    let mut r = case["inputs"].as_object().unwrap().clone();
    for (k, v) in case["options"].as_object().unwrap() {
        if !v.is_null() {
            r.insert(k.clone(), v.clone());
        }
    }
    Value::Object(r)
}

#[test]
fn every_spc_vector_through_the_cli() {
    for case in vectors("spc.json") {
        let got = ask("spc", &request(&case));
        matches(
            case["id"].as_str().unwrap(),
            &got,
            &case["expected"],
            tolerance(&case),
        );
    }
}

#[test]
fn every_funnel_vector_through_the_cli() {
    for case in vectors("funnel.json") {
        let id = case["id"].as_str().unwrap();
        let mut r = request(&case);
        r["cqc_limits"] = json!("funnelplotr");
        matches(id, &ask("funnel", &r), &case["expected"], tolerance(&case));
        if let Some(alt) = case.get("alt_squared_limits") {
            // The default squares the CQC limits back to the ratio scale.
            let got = ask("funnel", &request(&case));
            matches(&format!("{id} squared"), &got["per_unit"], alt, tolerance(&case));
        }
    }
}

#[test]
fn every_phe_vector_through_the_cli() {
    let mut seen = 0;
    for case in vectors("phe_methods.json") {
        let method = match case["method"].as_str().unwrap() {
            "wilson_proportion" => "proportion",
            "crude_rate_byars_or_exact" => "rate",
            "dsr_dobson" => "dsr",
            other => other,
        }
        .to_string();
        let got = ask(&method, &request(&case));
        let id = case["id"].as_str().unwrap();
        matches(id, &got, &case["expected"], tolerance(&case));
        // Exactly the expected fields, no more.
        assert_eq!(
            got.as_object().unwrap().len(),
            case["expected"].as_object().unwrap().len(),
            "{id}: {got}"
        );
        seen += 1;
    }
    assert_eq!(seen, 19);
}

#[test]
fn stats_defaults_need_only_the_data() {
    let got = ask("spc", &json!({"values": [1, 2, 3, null, 2, 1, 2]}));
    assert_eq!(got["per_point"]["short_group_warning"][0], true);
    assert_eq!(got["per_point"]["special_cause_type"][3], Value::Null);
    let got = ask("dsr", &json!({"x": vec![5; 19], "n": vec![1000; 19]}));
    assert!((got["value"].as_f64().unwrap() - 500.0).abs() < 1e-9);
    assert_eq!(got["statistic"], "dsr per 100000");
}

#[test]
fn disclose_suppresses_and_rounds() {
    let got = ask("disclose", &json!({"cells": [[3, 20, 40], [30, 25, 50]]}));
    assert_eq!(got["cells"], json!([[null, null, 40], [null, null, 50]]));
    assert_eq!(got["suppressed"][0], json!([true, true, false]));
    assert_eq!(got["row_totals"], json!([65, 105]));
    assert_eq!(got["grand_total"], 170);
    let got = ask("disclose", &json!({"cells": [[3, 20]], "national": true}));
    assert_eq!(got["cells"], json!([[3, 20]]));
}

#[test]
fn bad_stats_requests_are_refused_clearly() {
    let cases = [
        ("spc", r#"{"values": []}"#, "values is empty"),
        (
            "spc",
            r#"{"values": ["a"]}"#,
            "invalid type: string \"a\", expected f64",
        ),
        (
            "spc",
            r#"{"values": [1], "improvement_direction": "up"}"#,
            "improvement_direction is \"up\"",
        ),
        (
            "spc",
            r#"{"values": [1], "screen_outlier": true}"#,
            "unknown field `screen_outlier`",
        ),
        (
            "funnel",
            r#"{"numerator": [1, -2], "denominator": [3, 4], "data_type": "PR"}"#,
            "numerator[1] is -2",
        ),
        (
            "funnel",
            r#"{"numerator": [1, 2], "denominator": [3, 0], "data_type": "RC"}"#,
            "denominator[1] is 0",
        ),
        (
            "funnel",
            r#"{"numerator": [1], "denominator": [3], "data_type": "XX"}"#,
            "data_type is \"XX\"",
        ),
        (
            "proportion",
            r#"{"x": 3, "n": 0}"#,
            "n[0] is 0: the denominator must be greater than 0",
        ),
        (
            "proportion",
            r#"{"x": 3, "n": 10, "confidence": 1.5}"#,
            "confidence is 1.5: must lie strictly between 0 and 1",
        ),
        ("rate", r#"{"x": -1, "n": 10}"#, "x[0] is -1"),
        ("dsr", r#"{"x": [1, 2], "n": [10]}"#, "n has 1 values but x has 2"),
        (
            "isratio",
            r#"{"x": [1], "n": [10], "x_ref": [1], "n_ref": [0]}"#,
            "n_ref[0] is 0",
        ),
        ("rate", "not json", "expected ident"),
        (
            "disclose",
            r#"{"cells": [[1, 2], [3]]}"#,
            "cells[1] has 1 values but cells[0] has 2",
        ),
    ];
    for (method, request, message) in cases {
        let err = refuse(method, request);
        assert!(err.starts_with("error: "), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(message), "{method} {request}: {err}");
    }
}
