//! Loading reference vectors and comparing within their tolerances.

use serde_json::Value;

/// The cases of one vector file.
pub fn cases(file: &str) -> (Value, Vec<Value>) {
    let path = format!("{}/tests/data/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut doc: Value = serde_json::from_str(&text).unwrap();
    let cases = doc["cases"].as_array().cloned().unwrap();
    assert!(!cases.is_empty());
    doc["cases"] = Value::Null;
    (doc, cases)
}

/// A case's tolerance: `(relative, absolute)`.
pub fn tolerance(case: &Value) -> (f64, f64) {
    let t = &case["tolerance"];
    (t["rel"].as_f64().unwrap_or(0.0), t["abs"].as_f64().unwrap_or(0.0))
}

/// Whether `got` matches `want` within tolerance; `None` matches a JSON null.
#[track_caller]
pub fn close(what: &str, got: Option<f64>, want: &Value, (rel, abs): (f64, f64)) {
    match (got, want.as_f64()) {
        (None, None) => assert!(want.is_null(), "{what}: got null, want {want}"),
        (Some(g), Some(w)) => {
            let tol = abs.max(rel * w.abs());
            assert!(
                (g - w).abs() <= tol,
                "{what}: got {g:e}, want {w:e} (diff {:e}, tol {tol:e})",
                (g - w).abs()
            );
        }
        _ => panic!("{what}: got {got:?}, want {want}"),
    }
}

/// A number array of a case.
pub fn numbers(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}
