//! Portfolio selection at the size: 269 bids, 10 quotas, solved to proven optimality,
//! each instance's total value checked against SciPy's HiGHS on the same instance.
//!
//! `bash bench/programme_select.sh` writes the instances (with HiGHS's answers and times) and
//! runs this: `cargo bench -p programme --no-default-features --bench select -- INSTANCES.json`.

use programme::select::{Bid, Rules, select};

fn main() {
    let Some(path) = std::env::args().skip(1).find(|a| a.ends_with(".json")) else {
        eprintln!(
            "usage: cargo bench -p programme --no-default-features --bench select -- INSTANCES.json (see bench/programme_select.sh)"
        );
        std::process::exit(2);
    };
    let cases: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let mut ours = Vec::new();
    let mut highs = Vec::new();
    let mut solve_only = Vec::new();
    for c in &cases {
        let bids: Vec<Bid> = c["bids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| Bid {
                id: b["id"].as_str().unwrap().into(),
                model: b["model"].as_str().unwrap().into(),
                region_code: b["region_code"].as_str().unwrap().into(),
                cost: b["cost"].as_f64().unwrap(),
                value: b["value"].as_f64().unwrap(),
                fields: [(
                    "quintile".to_string(),
                    b["quintile"].as_str().unwrap().to_string(),
                )]
                .into(),
            })
            .collect();
        let rules: Rules = serde_json::from_value(c["rules"].clone()).unwrap();
        // The whole answer (selection and explanation), then the selection alone: what
        // "solves to proven optimality" measures.
        let t = std::time::Instant::now();
        let s = select(&bids, &rules).unwrap();
        let total = t.elapsed().as_secs_f64();
        let t = std::time::Instant::now();
        let _ = programme::select::solve_only(&bids, &rules).unwrap();
        solve_only.push(t.elapsed().as_secs_f64());
        match c["total_value"].as_f64() {
            Some(v) => {
                assert!(s.feasible && s.proven_optimal, "seed {}", c["seed"]);
                assert!(
                    (s.total_value - v).abs() < 1e-6,
                    "seed {}: {} vs HiGHS {v}",
                    c["seed"],
                    s.total_value
                );
            }
            None => assert!(!s.feasible, "seed {}", c["seed"]),
        }
        ours.push(total);
        highs.push(c["highs_seconds"].as_f64().unwrap());
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let max = |v: &[f64]| v.iter().copied().fold(0.0, f64::max);
    let (mo, ms, mh) = (
        median(&mut ours.clone()),
        median(&mut solve_only.clone()),
        median(&mut highs.clone()),
    );
    println!(
        "{} instances of 269 bids and 10 quotas, every total value equal to HiGHS's\n  solve to proven optimality: median {ms:.4} s, max {:.4} s\n  with the explanation (re-solves): median {mo:.4} s, max {:.4} s\n  HiGHS (SciPy milp): median {mh:.4} s\n  ratio (solve, ours / HiGHS): {:.2}",
        cases.len(),
        max(&solve_only),
        max(&ours),
        ms / mh
    );
}
