//! Beds and formulas against reference values computed independently with SciPy
//! (`bench/capacity_reference.py`: Erlang B as the truncated Poisson ratio, the Poisson peak
//! from `poisson.sf`), kept in `tests/data/reference.json`.

use capacity::beds::{self, BedsRequest, erlang_b, erlang_b_beds};
use serde_json::Value;

fn reference() -> Value {
    serde_json::from_str(include_str!("../data/reference.json")).expect("reference JSON")
}

fn close(field: &str, got: f64, want: f64, case: &Value) {
    let tol = if field.contains("blocking") || field.contains("exceedance") {
        1e-8
    } else {
        1e-6 * want.abs().max(1.0)
    };
    assert!(
        (got - want).abs() <= tol,
        "{field}: got {got}, want {want} in {case}"
    );
}

#[test]
fn beds_match_scipy_on_every_reference_case() {
    let r = reference();
    let cases = r["beds"].as_array().expect("cases");
    assert!(cases.len() >= 10);
    for case in cases {
        let req: BedsRequest = serde_json::from_value(case["request"].clone()).expect("request");
        let got = serde_json::to_value(beds::beds(&req).expect("answers")).expect("json");
        for (field, want) in case["response"].as_object().expect("response") {
            let g = &got[field];
            if want.is_u64() {
                assert_eq!(g.as_u64(), want.as_u64(), "{field} in {case}");
            } else {
                close(
                    field,
                    g.as_f64().expect("number"),
                    want.as_f64().expect("number"),
                    case,
                );
            }
        }
    }
}

#[test]
fn formulas_match_the_nhp_model_on_every_reference_case() {
    let r = reference();
    for case in r["formula"].as_array().expect("cases") {
        let name = case["name"].as_str().expect("name");
        let got = capacity::formula::answer(name, &case["request"]).expect("answers");
        for (field, want) in case["response"].as_object().expect("response") {
            if want.is_u64() {
                assert_eq!(got[field].as_u64(), want.as_u64(), "{field} in {case}");
            } else {
                close(
                    field,
                    got[field].as_f64().expect("number"),
                    want.as_f64().expect("number"),
                    case,
                );
            }
        }
    }
}

#[test]
fn bed_scaling_rounds_half_to_even_as_numpy_does() {
    // 92 × 100 / (100 × 0.92) = 100 exactly; 50.5 and 51.5 → 50 and 52.
    let ans = |model: f64| {
        capacity::formula::answer(
            "nhp_bed_scaling",
            &serde_json::json!({"model_mean_daily_beddays": model, "kh03_occupied": 1.0,
                "baseline_mean_daily_beddays": 1.0, "target_occupancy": 1.0}),
        )
        .expect("answers")["beds_rounded"]
            .as_u64()
    };
    assert_eq!(ans(50.5), Some(50));
    assert_eq!(ans(51.5), Some(52));
    assert_eq!(ans(2.5), Some(2));
}

#[test]
fn bad_requests_name_the_field_and_the_rule() {
    let bad = |json: Value| {
        let r: BedsRequest = serde_json::from_value(json).expect("shape");
        beds::beds(&r).expect_err("refused").to_string()
    };
    let e = bad(serde_json::json!({"admissions_per_year": -1, "mean_los_days": 2}));
    assert!(e.starts_with("admissions_per_year: -1:"), "{e}");
    let e = bad(serde_json::json!({"admissions_per_year": 10, "mean_los_days": 2, "target_occupancy": 1.5}));
    assert!(e.contains("target_occupancy") && e.contains("at most 1"), "{e}");
    let e = bad(
        serde_json::json!({"admissions_per_year": 10, "mean_los_days": 2, "erlang_b_target_blocking": 0}),
    );
    assert!(e.contains("erlang_b_target_blocking"), "{e}");
    let e = bad(serde_json::json!({"admissions_per_year": 1e12, "mean_los_days": 2}));
    assert!(e.contains("mean_occupied_beds"), "{e}");
    // Unknown fields are refused, not ignored.
    assert!(
        serde_json::from_value::<BedsRequest>(
            serde_json::json!({"admissions_per_year": 1, "mean_los_days": 1, "occupancy": 0.9})
        )
        .is_err()
    );
    let e = capacity::formula::answer(
        "nhp_aae_spaces",
        &serde_json::json!({"attendances": 1, "assumed_los_mins": 1,
        "operating_weeks_per_year": 52, "operating_hours_per_week": 200, "utilisation_rate": 0.8}),
    )
    .expect_err("refused")
    .to_string();
    assert!(e.contains("operating_hours_per_week: 200"), "{e}");
    assert!(capacity::formula::answer("nhp_nothing", &serde_json::json!({})).is_err());
}

#[test]
fn one_pooled_queue_understates_the_beds_of_separate_pools() {
    // Four pools of different sizes: sizing the footprint as one Erlang queue needs fewer beds
    // than the pools need, which is why requirements are summed over pools and providers.
    let loads = [12.0, 35.0, 80.0, 240.0];
    let separate: u64 = loads.iter().map(|&a| erlang_b_beds(a, 0.01).0).sum();
    let pooled = erlang_b_beds(loads.iter().sum(), 0.01).0;
    assert!(separate > pooled, "separate {separate}, pooled {pooled}");
    // Blocking falls as beds are added, and the answer is the first that meets the target.
    let (n, b) = erlang_b_beds(80.0, 0.01);
    assert!(b <= 0.01 && erlang_b(n - 1, 80.0) > 0.01);
    for k in 1..200 {
        assert!(erlang_b(k, 80.0) < erlang_b(k - 1, 80.0));
    }
}
