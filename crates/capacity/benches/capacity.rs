//! Times the heads-and-beds projection for every system in England: 1,000 Monte Carlo runs,
//! every pool and staff group, then the plan check (a plan that cuts every acute trust's G&A
//! beds by a tenth).
//!
//! usage: cargo bench -p capacity --no-default-features --bench capacity -- [RUNS] [REPEATS] [THREADS]
//!
//! The baseline is built here at England's size rather than read from a dataset (reading is
//! the engine's cost, measured with the catalogue): 42 systems of five acute trusts and one
//! community trust, the acute trusts' sizes log-normal so that England carries about 95,000
//! occupied G&A beds (KH03), with England's age mix of spells. Prints one JSON object: the
//! median seconds, peak memory and a checksum that is the same whatever the thread count.

use std::collections::BTreeMap;
use std::time::Instant;

use capacity::assumptions::{Assumptions, POOLS, Pool};
use capacity::baseline::{Baseline, MAX_AGE, PoolBase, Provider};
use capacity::plan::{self, Plan};
use capacity::project::{self, Request};
use rand::{Rng, SeedableRng};

fn baseline() -> Baseline {
    let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(2016);
    let normal = rand_distr::StandardNormal;
    // Spells by age: England's G&A spells lean old (a third at 75 and over).
    let age_weight = |age: usize| -> f64 {
        match age {
            0..=15 => 0.4,
            16..=44 => 0.6,
            45..=64 => 1.0,
            65..=74 => 1.6,
            75..=84 => 2.2,
            _ => 2.0,
        }
    };
    let total_w: f64 = (0..=MAX_AGE).map(age_weight).sum();
    let mut providers = Vec::new();
    let mut systems = BTreeMap::new();
    let mut regions = BTreeMap::new();
    for r in 0..7 {
        regions.insert(format!("Y{r:02}"), format!("Region {r}"));
    }
    for s in 0..42 {
        let system = format!("QS{s:02}");
        let region = format!("Y{:02}", s % 7);
        systems.insert(system.clone(), (format!("System {s}"), region.clone()));
        for t in 0..6 {
            let community = t == 5;
            // Occupied G&A beds: log-normal around 420 (≈ 95,000 over 210 acute trusts).
            let z: f64 = rng.sample(normal);
            let occupied = if community { 60.0 } else { 400.0 * (0.45 * z).exp() };
            let mut pools: Vec<PoolBase> = POOLS.iter().map(|_| PoolBase::empty()).collect();
            let mut fill = |pool: Pool, nights: f64, los: f64, ages: &dyn Fn(usize) -> f64| {
                let w: f64 = (0..=MAX_AGE).map(ages).sum();
                let p = &mut pools[pool.index()];
                for age in 0..=MAX_AGE {
                    p.nights_by_age[age] = nights * ages(age) / w;
                    p.admissions_by_age[age] = nights / los * ages(age) / w;
                }
                p.peak_factor = 1.08;
            };
            if community {
                fill(Pool::Community, occupied * 365.0, 20.0, &|a| {
                    if a >= 65 { 1.0 } else { 0.1 }
                });
            } else {
                let adult = |a: usize| if a >= 16 { age_weight(a) / total_w } else { 0.0 };
                fill(Pool::GaNonElective, occupied * 365.0 * 0.85, 6.5, &adult);
                fill(Pool::GaElective, occupied * 365.0 * 0.15, 2.2, &adult);
                fill(Pool::Paediatric, occupied * 365.0 * 0.05, 1.6, &|a| {
                    if a < 16 { 1.0 } else { 0.0 }
                });
                fill(Pool::Maternity, occupied * 365.0 * 0.07, 2.3, &|a| {
                    if (16..45).contains(&a) { 1.0 } else { 0.0 }
                });
                pools[Pool::GaElective.index()].short_elective_nights = occupied * 365.0 * 0.15 * 0.3;
            }
            let mut wte = BTreeMap::new();
            for (g, per_bed) in [
                ("nursing", 2.6),
                ("medical", 0.9),
                ("other_clinical", 1.6),
                ("non_clinical", 2.0),
            ] {
                wte.insert(g.to_string(), occupied * per_bed);
            }
            providers.push(Provider {
                code: format!("R{s:02}{t}"),
                name: format!("Trust {s}-{t}"),
                kind: if community {
                    model::OrgKind::CommunityTrust
                } else {
                    model::OrgKind::AcuteTrust
                },
                system: Some(system.clone()),
                region: Some(region.clone()),
                pools,
                beds_available: Some(occupied * 1.2 / 0.92),
                beds_occupied: Some(occupied * 1.2),
                wte,
                catchment_by_age: Vec::new(),
            });
        }
    }
    Baseline {
        year: 2024,
        days: 365.0,
        providers,
        systems,
        regions,
        flows: Vec::new(),
        lists: BTreeMap::new(),
        bands: None,
    }
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let runs: usize = args.first().and_then(|r| r.parse().ok()).unwrap_or(1000);
    let repeats: usize = args.get(1).and_then(|r| r.parse().ok()).unwrap_or(5);
    let threads: usize = args.get(2).and_then(|r| r.parse().ok()).unwrap_or(0);
    if threads > 0 {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build_global()
            .expect("thread pool");
    }
    let a = Assumptions::default_set();
    let b = baseline();
    // The plan: every acute trust's G&A beds cut by a tenth.
    let mut text = String::from("period,org_code,measure,category,value\n");
    for p in b
        .providers
        .iter()
        .filter(|p| p.kind == model::OrgKind::AcuteTrust)
    {
        text.push_str(&format!(
            "2026/27,{},beds,ga,{:.0}\n",
            p.code,
            p.beds_available.unwrap_or(0.0) * 0.9 * 0.8
        ));
    }
    let orgs = b.providers.iter().map(|p| p.code.clone()).collect();
    let systems = b.systems.keys().cloned().collect();
    let plan = Plan::parse(text.as_bytes(), "bench.csv", &orgs, &systems).expect("plan");
    let mut times = Vec::new();
    let mut checksum = 0.0;
    let mut not_adding_up = 0;
    for _ in 0..repeats {
        let t = Instant::now();
        let proj = project::project(&Request {
            baseline: &b,
            assumptions: &a,
            care_models: &[],
            year: 2026,
            runs,
            seed: 1,
        });
        let report = plan::check(&b, &a, &proj, Some(&plan), 1);
        times.push(t.elapsed().as_secs_f64());
        checksum = proj.beds.iter().flatten().flatten().sum::<f64>();
        not_adding_up = report.england.systems - report.england.systems_adding_up;
    }
    times.sort_by(f64::total_cmp);
    let ga: f64 = b
        .providers
        .iter()
        .map(|p| (p.pools[0].nights() + p.pools[1].nights()) / 365.0)
        .sum();
    println!(
        "{}",
        serde_json::json!({
            "systems": b.systems.len(),
            "providers": b.providers.len(),
            "occupied_ga_beds": ga.round(),
            "runs": runs,
            "threads": rayon::current_num_threads(),
            "median_seconds": times[times.len() / 2],
            "times": times,
            "peak_rss_mib": peak_rss_mib(),
            "beds_checksum": checksum,
            "systems_not_adding_up": not_adding_up,
        })
    );
}
