//! Times SPC over many series and a funnel over many units, on data written by
//! `bench/stats.py` (which runs this and the NumPy port on the same data and compares).
//!
//! usage: cargo bench -p stats --bench stats -- DIR RUNS
//!
//! DIR holds `spc.f64` (row-major series, little-endian f64), `spc.shape` (`series points`),
//! `funnel_sr_o.f64`, `funnel_sr_e.f64`, `funnel_pr_o.f64` and `funnel_pr_n.f64`. Prints one
//! JSON object: the median seconds of each task and checksums the peer must reproduce.

use stats::funnel::{DataType, Options as FunnelOptions, SrMethod, funnel};
use stats::spc::{Options, SpecialCause, xmr};
use std::time::Instant;

fn read(dir: &str, name: &str) -> Vec<f64> {
    let bytes = std::fs::read(format!("{dir}/{name}")).unwrap_or_else(|e| panic!("{dir}/{name}: {e}"));
    bytes
        .chunks_exact(8)
        .map(|b| f64::from_le_bytes(b.try_into().unwrap()))
        .collect()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().filter(|a| a != "--bench").collect();
    let Some(dir) = args.get(1) else {
        eprintln!("usage: cargo bench -p stats --bench stats -- DIR RUNS (see bench/stats.py)");
        return;
    };
    let runs: usize = args.get(2).and_then(|r| r.parse().ok()).unwrap_or(5);
    let shape = std::fs::read_to_string(format!("{dir}/spc.shape")).unwrap();
    let mut shape = shape.split_whitespace().map(|s| s.parse::<usize>().unwrap());
    let (series, points) = (shape.next().unwrap(), shape.next().unwrap());
    let y: Vec<Option<f64>> = read(dir, "spc.f64").into_iter().map(Some).collect();
    assert_eq!(y.len(), series * points);
    let options = Options::default();

    let mut spc_times = Vec::new();
    let mut counts = [0u64; 5];
    for _ in 0..runs {
        counts = [0; 5];
        let start = Instant::now();
        for s in y.chunks_exact(points) {
            let chart = xmr(s, &options).unwrap();
            for p in &chart.points {
                let k = match p.special_cause.unwrap() {
                    SpecialCause::CommonCause => 0,
                    SpecialCause::AboveUcl | SpecialCause::BelowLcl => 1,
                    SpecialCause::TrendIncreasing | SpecialCause::TrendDecreasing => 2,
                    SpecialCause::TwoInThreeAbove | SpecialCause::TwoInThreeBelow => 3,
                    SpecialCause::RunAbove | SpecialCause::RunBelow => 4,
                };
                counts[k] += 1;
            }
        }
        spc_times.push(start.elapsed().as_secs_f64());
    }

    let mut funnel_times = Vec::new();
    let mut checks = Vec::new();
    let inputs = [
        (
            "sr",
            read(dir, "funnel_sr_o.f64"),
            read(dir, "funnel_sr_e.f64"),
            DataType::Ratio(SrMethod::Shmi),
        ),
        (
            "pr",
            read(dir, "funnel_pr_o.f64"),
            read(dir, "funnel_pr_n.f64"),
            DataType::Proportion,
        ),
    ];
    for _ in 0..runs {
        checks.clear();
        let start = Instant::now();
        for (name, o, e, data_type) in &inputs {
            let f = funnel(
                o,
                e,
                &FunnelOptions {
                    data_type: *data_type,
                    ..FunnelOptions::default()
                },
            )
            .unwrap();
            let outliers = f.units.iter().filter(|u| u.outlier998).count();
            let upper: f64 = f.units.iter().map(|u| u.poisson.upper998).sum();
            checks.push(format!(
                r#""{name}": {{"units": {}, "phi": {}, "tau2": {}, "outliers998": {outliers}, "sum_poisson_ucl998": {upper}}}"#,
                o.len(),
                f.phi,
                f.tau2
            ));
        }
        funnel_times.push(start.elapsed().as_secs_f64());
    }
    println!(
        r#"{{"spc_series": {series}, "spc_points": {points}, "spc_median_s": {}, "spc_counts": {{"common": {}, "outside": {}, "trend": {}, "two_in_three": {}, "run": {}}}, "funnel_median_s": {}, {}}}"#,
        median(spc_times),
        counts[0],
        counts[1],
        counts[2],
        counts[3],
        counts[4],
        median(funnel_times),
        checks.join(", ")
    );
}
