//! Interrupted time series against statsmodels (OLS, HAC Bartlett, no small-sample correction;
//! bench/evaluation_reference.py).

use serde_json::Value;

#[test]
fn matches_statsmodels_newey_west() {
    let v: Value = serde_json::from_str(include_str!("../data/its_reference.json")).unwrap();
    let cases = v["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 4);
    for (i, c) in cases.iter().enumerate() {
        let y: Vec<f64> = c["y"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        let months: Vec<u32> = c["months"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap() as u32)
            .collect();
        let s = c["start"].as_u64().unwrap() as usize;
        let fit = evaluation::its::fit(&y, &months, s, None, 0.95).unwrap();
        assert_eq!(fit.lag as u64, c["lag"].as_u64().unwrap(), "case {i}: lag");
        for (k, (a, b)) in fit
            .coefficients
            .iter()
            .zip(c["coefficients"].as_array().unwrap())
            .enumerate()
        {
            assert!(
                (a - b.as_f64().unwrap()).abs() < 1e-9,
                "case {i} coef {k}: {a} vs {b}"
            );
        }
        for (k, (a, b)) in fit.se.iter().zip(c["se"].as_array().unwrap()).enumerate() {
            let b = b.as_f64().unwrap();
            assert!((a - b).abs() < 1e-9 * (1.0 + b), "case {i} se {k}: {a} vs {b}");
        }
        let e = c["log_effect"].as_f64().unwrap();
        assert!((fit.log_effect - e).abs() < 1e-9, "case {i}: effect");
        let se = c["log_effect_se"].as_f64().unwrap();
        assert!((fit.log_effect_se - se).abs() < 1e-9, "case {i}: effect se");
        // The planted level change of −10% (log −0.1) is inside the interval.
        assert!(
            fit.lower < (-0.1f64).exp() - 1.0 + 0.05 && fit.upper > -0.2,
            "case {i}: {fit:?}"
        );
    }
}
