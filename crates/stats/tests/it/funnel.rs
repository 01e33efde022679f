use crate::vectors::{cases, close, numbers, tolerance};
use serde_json::Value;
use stats::funnel::{CqcLimits, DataType, Funnel, Limits, Options, SrMethod, funnel};

fn options(o: &Value, cqc_limits: CqcLimits) -> Options {
    Options {
        data_type: match (o["data_type"].as_str().unwrap(), o["sr_method"].as_str()) {
            ("SR", Some("CQC")) => DataType::Ratio(SrMethod::Cqc),
            ("SR", _) => DataType::Ratio(SrMethod::Shmi),
            ("PR", _) => DataType::Proportion,
            _ => DataType::RatioOfCounts,
        },
        trim_by: o["trim_by"].as_f64().unwrap(),
        multiplier: o["multiplier"].as_f64().unwrap(),
        cqc_limits,
        poisson_limits: true,
    }
}

fn run(case: &Value, cqc_limits: CqcLimits) -> Funnel {
    let o = numbers(&case["inputs"]["numerator"]);
    let d = numbers(&case["inputs"]["denominator"]);
    funnel(&o, &d, &options(&case["options"], cqc_limits)).unwrap()
}

#[track_caller]
fn limits(
    id: &str,
    which: [&str; 4],
    got: impl Fn(usize) -> Limits,
    want: &Value,
    n: usize,
    tol: (f64, f64),
) {
    for i in 0..n {
        let l = got(i);
        close(
            &format!("{id}[{i}].{}", which[0]),
            Some(l.lower95),
            &want[which[0]][i],
            tol,
        );
        close(
            &format!("{id}[{i}].{}", which[1]),
            Some(l.upper95),
            &want[which[1]][i],
            tol,
        );
        close(
            &format!("{id}[{i}].{}", which[2]),
            Some(l.lower998),
            &want[which[2]][i],
            tol,
        );
        close(
            &format!("{id}[{i}].{}", which[3]),
            Some(l.upper998),
            &want[which[3]][i],
            tol,
        );
    }
}

/// FunnelPlotR's own output, including its unsquared CQC limits.
#[test]
fn every_funnel_vector_matches_funnelplotr() {
    let (_, cases) = cases("funnel.json");
    assert_eq!(cases.len(), 4);
    for case in &cases {
        let id = case["id"].as_str().unwrap();
        let f = run(case, CqcLimits::FunnelPlotR);
        let e = &case["expected"];
        let tol = tolerance(case);
        close(&format!("{id}.target"), Some(f.target), &e["target"], tol);
        close(&format!("{id}.phi"), Some(f.phi), &e["phi"], tol);
        close(&format!("{id}.tau2"), Some(f.tau2), &e["tau2"], tol);
        assert_eq!(Value::from(f.n_used_for_phi), e["n_used_for_phi"], "{id}");
        assert_eq!(
            Value::from(f.od_adjust_effective()),
            e["od_adjust_effective"],
            "{id}"
        );
        let pu = &e["per_unit"];
        let n = f.units.len();
        assert_eq!(n, pu["group"].as_array().unwrap().len());
        for (i, u) in f.units.iter().enumerate() {
            close(&format!("{id}[{i}].rr"), Some(u.rr), &pu["rr"][i], tol);
            close(&format!("{id}[{i}].Y"), Some(u.y), &pu["Y"][i], tol);
            close(&format!("{id}[{i}].s"), Some(u.s), &pu["s"][i], tol);
            close(
                &format!("{id}[{i}].Uzscore"),
                Some(u.uzscore),
                &pu["Uzscore"][i],
                tol,
            );
            close(
                &format!("{id}[{i}].Wuzscore"),
                u.wuzscore,
                &pu["Wuzscore"][i],
                tol,
            );
            assert_eq!(
                Value::from(u8::from(u.outlier95)),
                pu["outlier95"][i],
                "{id}[{i}].outlier95"
            );
            assert_eq!(
                Value::from(u8::from(u.outlier998)),
                pu["outlier99"][i],
                "{id}[{i}].outlier99"
            );
        }
        limits(
            id,
            ["LCL95", "UCL95", "LCL99", "UCL99"],
            |i| f.units[i].poisson,
            pu,
            n,
            tol,
        );
        limits(
            id,
            ["OD95LCL", "OD95UCL", "OD99LCL", "OD99UCL"],
            |i| f.units[i].overdispersed,
            pu,
            n,
            tol,
        );
    }
}

/// Footprint's default squares the CQC limits back to the ratio scale; the vectors give
/// those limits too, and they differ from FunnelPlotR's.
#[test]
fn cqc_limits_are_squared_back_by_default() {
    let (_, cases) = cases("funnel.json");
    let case = cases.iter().find(|c| c["id"] == "sr_cqc_small_10").unwrap();
    let fixed = run(case, CqcLimits::Squared);
    let package = run(case, CqcLimits::FunnelPlotR);
    let alt = &case["alt_squared_limits"];
    let n = fixed.units.len();
    limits(
        "sr_cqc_small_10 squared",
        ["OD95LCL", "OD95UCL", "OD99LCL", "OD99UCL"],
        |i| fixed.units[i].overdispersed,
        alt,
        n,
        tolerance(case),
    );
    // The difference matters: U03 (rr 1.242) is an outlier against the unsquared upper
    // 95% limit (1.198) but not against the squared one (1.436).
    assert!(package.units[3].outlier95);
    assert!(!fixed.units[3].outlier95);
    assert!(
        (fixed.units[3].overdispersed.upper95 - package.units[3].overdispersed.upper95.powi(2)).abs() < 1e-12
    );
    // Everything else is the same.
    assert_eq!(fixed.phi, package.phi);
    assert_eq!(fixed.tau2, package.tau2);
}

/// For the other methods the choice of CQC limits changes nothing.
#[test]
fn non_cqc_funnels_ignore_the_cqc_choice() {
    let (_, cases) = cases("funnel.json");
    for case in cases.iter().filter(|c| c["options"]["sr_method"] != "CQC") {
        assert_eq!(run(case, CqcLimits::Squared), run(case, CqcLimits::FunnelPlotR));
    }
}

/// Leaving out the Poisson limits that do not judge changes no outlier flag, z-score or
/// over-dispersed limit, and leaves them out only where τ² > 0.
#[test]
fn unjudging_poisson_limits_can_be_left_out() {
    let (_, cases) = cases("funnel.json");
    let mut left_out = 0;
    for case in &cases {
        let o = numbers(&case["inputs"]["numerator"]);
        let d = numbers(&case["inputs"]["denominator"]);
        let all = options(&case["options"], CqcLimits::Squared);
        let some = Options {
            poisson_limits: false,
            ..all
        };
        let (a, b) = (funnel(&o, &d, &all).unwrap(), funnel(&o, &d, &some).unwrap());
        assert_eq!(a.tau2, b.tau2);
        for (x, y) in a.units.iter().zip(&b.units) {
            assert_eq!((x.outlier95, x.outlier998), (y.outlier95, y.outlier998));
            assert_eq!((x.uzscore, x.wuzscore), (y.uzscore, y.wuzscore));
            assert_eq!(x.overdispersed, y.overdispersed);
            if a.tau2 > 0.0 {
                assert!(y.poisson.lower95.is_nan() && y.poisson.upper998.is_nan());
                left_out += 1;
            } else {
                assert_eq!(x.poisson, y.poisson);
            }
        }
    }
    assert!(left_out > 0, "no vector case is over-dispersed");
}
