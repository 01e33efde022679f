use crate::vectors::{cases, close, tolerance};
use serde_json::Value;
use stats::spc::{Direction, Options, xmr};

fn options(o: &Value) -> Options {
    Options {
        direction: match o["improvement_direction"].as_str().unwrap() {
            "increase" => Direction::Increase,
            "decrease" => Direction::Decrease,
            _ => Direction::Neutral,
        },
        screen_outliers: o["screen_outliers"].as_bool().unwrap(),
        fix_after_n_points: o["fix_after_n_points"].as_u64().map(|n| n as usize),
        rebase_indices: o["rebase_indices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i.as_u64().unwrap() as usize)
            .collect(),
        target: o["target"].as_f64(),
        ..Options::default()
    }
}

#[test]
fn every_spc_vector_matches() {
    let (_, cases) = cases("spc.json");
    assert_eq!(cases.len(), 16);
    for case in &cases {
        let id = case["id"].as_str().unwrap();
        let y: Vec<Option<f64>> = case["inputs"]["y"]
            .as_array()
            .unwrap()
            .iter()
            .map(Value::as_f64)
            .collect();
        let opts = options(&case["options"]);
        let chart = xmr(&y, &opts).unwrap();
        let want = &case["expected"]["per_point"];
        let tol = tolerance(case);
        for (i, p) in chart.points.iter().enumerate() {
            let at = |field: &str| format!("{id}[{i}].{field}");
            close(&at("mean"), p.mean, &want["mean"][i], tol);
            close(&at("lpl"), p.lpl, &want["lpl"][i], tol);
            close(&at("upl"), p.upl, &want["upl"][i], tol);
            assert_eq!(
                p.outside_limits.map(Value::from).unwrap_or(Value::Null),
                want["outside_limits"][i],
                "{}",
                at("outside_limits")
            );
            assert_eq!(
                p.close_to_limits.map(Value::from).unwrap_or(Value::Null),
                want["close_to_limits"][i],
                "{}",
                at("close_to_limits")
            );
            assert_eq!(
                p.relative_to_mean.map(Value::from).unwrap_or(Value::Null),
                want["relative_to_mean"][i],
                "{}",
                at("relative_to_mean")
            );
            assert_eq!(
                p.special_cause.unwrap().label(&opts),
                want["special_cause_type"][i],
                "{}",
                at("special_cause_type")
            );
            assert_eq!(
                p.point_type.unwrap().name(),
                want["point_type"][i],
                "{}",
                at("point_type")
            );
            assert_eq!(
                Value::from(p.rebase_group),
                want["rebase_group"][i],
                "{}",
                at("rebase_group")
            );
            assert_eq!(
                Value::from(p.short_group_warning),
                want["short_group_warning"][i],
                "{}",
                at("short_group_warning")
            );
        }
        assert_eq!(chart.points.len(), y.len());
        let s = &case["expected"]["summary"];
        assert_eq!(chart.summary.last_point_type.name(), s["last_point_type"], "{id}");
        assert_eq!(chart.summary.variation_icon.name(), s["variation_icon"], "{id}");
        assert_eq!(
            chart
                .summary
                .assurance
                .map(|a| Value::from(a.name()))
                .unwrap_or(Value::Null),
            s["assurance_type"],
            "{id}"
        );
    }
}
