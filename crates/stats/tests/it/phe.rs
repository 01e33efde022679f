use crate::vectors::{cases, close, numbers, tolerance};
use serde_json::Value;
use stats::standardise::{ESP2013, ESP2013_BANDS, dsr, israte, isratio};
use stats::{proportion, rate};

/// PHEindicatormethods' suffix for a confidence level: 0.95 → `95_0`, 0.998 → `99_8`.
fn suffix(c: f64) -> String {
    let pct = c * 100.0;
    format!(
        "{}_{}",
        pct.trunc() as u32,
        ((pct - pct.trunc()) * 10.0).round() as u32
    )
}

fn levels(o: &Value) -> Vec<f64> {
    match &o["confidence"] {
        Value::Array(a) => a.iter().map(|c| c.as_f64().unwrap()).collect(),
        c => vec![c.as_f64().unwrap()],
    }
}

#[track_caller]
fn check_limits(id: &str, e: &Value, conf: &[f64], limits: &[(f64, f64)], tol: (f64, f64)) {
    for (c, (lo, hi)) in conf.iter().zip(limits) {
        let s = suffix(*c);
        close(
            &format!("{id}.lower{s}cl"),
            Some(*lo),
            &e[format!("lower{s}cl")],
            tol,
        );
        close(
            &format!("{id}.upper{s}cl"),
            Some(*hi),
            &e[format!("upper{s}cl")],
            tol,
        );
    }
}

#[test]
fn the_standard_population_is_esp2013() {
    let (doc, _) = cases("phe_methods.json");
    assert_eq!(numbers(&doc["esp2013"]), ESP2013);
    let bands: Vec<&str> = doc["esp2013_bands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_str().unwrap())
        .collect();
    assert_eq!(bands, ESP2013_BANDS);
}

#[test]
fn every_phe_vector_matches() {
    let (_, cases) = cases("phe_methods.json");
    assert_eq!(cases.len(), 19);
    let mut seen = std::collections::BTreeMap::new();
    for case in &cases {
        let id = case["id"].as_str().unwrap();
        let method = case["method"].as_str().unwrap();
        *seen.entry(method.to_string()).or_insert(0) += 1;
        let (i, o, e) = (&case["inputs"], &case["options"], &case["expected"]);
        let tol = tolerance(case);
        let conf = levels(o);
        match method {
            "wilson_proportion" => {
                let p =
                    proportion::wilson(i["x"].as_f64().unwrap(), i["n"].as_f64().unwrap(), conf[0]).unwrap();
                let m = o["multiplier"].as_f64().unwrap();
                close(&format!("{id}.value"), Some(p.value * m), &e["value"], tol);
                close(&format!("{id}.lowercl"), Some(p.lower * m), &e["lowercl"], tol);
                close(&format!("{id}.uppercl"), Some(p.upper * m), &e["uppercl"], tol);
            }
            "crude_rate_byars_or_exact" => {
                let (x, n, m) = (
                    i["x"].as_f64().unwrap(),
                    i["n"].as_f64().unwrap(),
                    o["multiplier"].as_f64().unwrap(),
                );
                let rs: Vec<rate::Interval> = conf
                    .iter()
                    .map(|&c| rate::crude_rate(x, n, c, m).unwrap())
                    .collect();
                close(&format!("{id}.value"), Some(rs[0].value), &e["value"], tol);
                let limits: Vec<(f64, f64)> = rs.iter().map(|r| (r.lower, r.upper)).collect();
                check_limits(id, e, &conf, &limits, tol);
                assert_eq!(rs[0].method.name(), e["method"], "{id}");
            }
            "dsr_dobson" => {
                let d = dsr(
                    &numbers(&i["x"]),
                    &numbers(&i["n"]),
                    &numbers(&i["stdpop"]),
                    &conf,
                    o["multiplier"].as_f64().unwrap(),
                )
                .unwrap();
                close(
                    &format!("{id}.total_count"),
                    Some(d.total_count),
                    &e["total_count"],
                    tol,
                );
                close(
                    &format!("{id}.total_pop"),
                    Some(d.total_pop),
                    &e["total_pop"],
                    tol,
                );
                match &d.estimate {
                    Some((value, limits)) => {
                        close(&format!("{id}.value"), Some(*value), &e["value"], tol);
                        check_limits(id, e, &conf, limits, tol);
                    }
                    None => {
                        assert!(
                            e["value"].is_null() && e["lower95_0cl"].is_null() && e["upper99_8cl"].is_null(),
                            "{id}"
                        );
                    }
                }
            }
            "isratio" | "israte" => {
                let args = (
                    numbers(&i["x"]),
                    numbers(&i["n"]),
                    numbers(&i["x_ref"]),
                    numbers(&i["n_ref"]),
                );
                let r = if method == "isratio" {
                    isratio(
                        &args.0,
                        &args.1,
                        &args.2,
                        &args.3,
                        &conf,
                        o["refvalue"].as_f64().unwrap(),
                    )
                    .unwrap()
                } else {
                    israte(
                        &args.0,
                        &args.1,
                        &args.2,
                        &args.3,
                        &conf,
                        o["multiplier"].as_f64().unwrap(),
                    )
                    .unwrap()
                };
                close(&format!("{id}.observed"), Some(r.observed), &e["observed"], tol);
                close(&format!("{id}.expected"), Some(r.expected), &e["expected"], tol);
                close(&format!("{id}.ref_rate"), r.ref_rate, &e["ref_rate"], tol);
                close(&format!("{id}.value"), Some(r.value), &e["value"], tol);
                check_limits(id, e, &conf, &r.limits, tol);
                assert_eq!(r.method.name(), e["method"], "{id}");
            }
            other => panic!("{id}: unknown method {other}"),
        }
    }
    // Every method of the file was exercised.
    assert_eq!(seen.len(), 5, "{seen:?}");
}
