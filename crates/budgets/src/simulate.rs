//! Monte Carlo stress tests of an arrangement: outturns drawn under demand and cost
//! uncertainty and shocks, each settled by the same rules as a real year.

use crate::settle::{Outturn, PartyOutturn, settle_recording};
use crate::terms::{Kind, Terms};
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Exp, Normal, Poisson};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// How outturns vary, as written under `[simulation]` in a terms file or built from a model.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Uncertainty {
    /// The expected outturn (default: the target; for a pooled budget, the baseline
    /// admissions).
    #[serde(default)]
    pub expected: Option<f64>,
    /// Coefficient of variation of demand (volume). With a fitted need model and a population
    /// size, `footprint budgets simulate --model` sets it from the model's dispersion:
    /// √(φ / (persons × mean cost)).
    #[serde(default)]
    pub demand_cv: f64,
    /// Coefficient of variation of unit costs (prices, pay awards).
    #[serde(default)]
    pub cost_cv: f64,
    /// Expected number of patients a year above the stop-loss attachment point, and the mean
    /// of their cost above it (exponential).
    #[serde(default)]
    pub high_cost_patients: f64,
    #[serde(default)]
    pub high_cost_mean_excess: f64,
    #[serde(default)]
    pub shock: Vec<Shock>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Shock {
    pub name: String,
    /// Chance in any one year.
    pub probability: f64,
    /// Effect on the outturn when it happens, as a share (0.03 = 3% more).
    pub size: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartyDistribution {
    pub party: String,
    pub expected_transfer: f64,
    pub sd: f64,
    pub p05: f64,
    pub p50: f64,
    pub p95: f64,
    /// Share of years in which the party pays.
    pub probability_pays: f64,
    /// Share of years in which a cap or collar limited its transfer.
    pub probability_capped: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Simulation {
    pub years: usize,
    pub seed: u64,
    pub mean_outturn: f64,
    pub parties: Vec<PartyDistribution>,
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

const BLOCK: usize = 1024;

/// One simulated year: the outturn, and each party's transfer and whether it was capped.
type Draw = (f64, Vec<(f64, bool)>);

/// Simulates `years` years. Deterministic for a seed whatever the number of threads: each
/// block of 1,024 years has its own stream.
pub fn simulate(terms: &Terms, u: &Uncertainty, years: usize, seed: u64) -> Result<Simulation, String> {
    let names = terms.party_names();
    let expected = u.expected.unwrap_or(match terms.kind {
        Kind::PooledBudget => terms.performance.as_ref().map_or(0.0, |p| p.baseline_admissions),
        _ => terms.target.unwrap_or(0.0),
    });
    // Alliance members' costs split as their payments are (fixed plus their share of the rest).
    let weights: Vec<f64> = if terms.kind == Kind::AllianceBudget {
        let variable = terms.variable.unwrap_or(0.0) + terms.quality.as_ref().map_or(0.0, |q| q.amount);
        let n = terms.party.len() as f64;
        let w: Vec<f64> = terms
            .party
            .iter()
            .map(|p| p.fixed.unwrap_or(0.0) + variable / n)
            .collect();
        let t: f64 = w.iter().sum();
        w.iter().map(|x| if t > 0.0 { x / t } else { 1.0 / n }).collect()
    } else {
        Vec::new()
    };
    let normal = Normal::new(0.0, 1.0).map_err(|e| e.to_string())?;
    let blocks: Vec<Result<Vec<Draw>, String>> = (0..years.div_ceil(BLOCK))
        .into_par_iter()
        .map(|b| {
            let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(splitmix(seed ^ splitmix(b as u64)));
            let mut out = Vec::with_capacity(BLOCK);
            for _ in b * BLOCK..((b + 1) * BLOCK).min(years) {
                let mut factor = (1.0 + u.demand_cv * normal.sample(&mut rng))
                    * (1.0 + u.cost_cv * normal.sample(&mut rng));
                for s in &u.shock {
                    if rng.random::<f64>() < s.probability {
                        factor *= 1.0 + s.size;
                    }
                }
                let total = (expected * factor).max(0.0);
                let mut o = Outturn::actual(total);
                if u.high_cost_patients > 0.0
                    && let Some(sl) = &terms.stop_loss
                {
                    let k = Poisson::new(u.high_cost_patients)
                        .map_err(|e| e.to_string())?
                        .sample(&mut rng) as usize;
                    let exp = Exp::new(1.0 / u.high_cost_mean_excess.max(1e-9)).map_err(|e| e.to_string())?;
                    o.high_cost = (0..k).map(|_| sl.attachment + exp.sample(&mut rng)).collect();
                }
                if terms.kind == Kind::AllianceBudget {
                    o.parties = terms
                        .party
                        .iter()
                        .zip(&weights)
                        .map(|(p, w)| PartyOutturn {
                            party: p.name.clone(),
                            outturn: total * w,
                            ..PartyOutturn::default()
                        })
                        .collect();
                }
                let s = settle_recording(terms, &o, false).map_err(|e| e.to_string())?;
                out.push((total, s.parties.iter().map(|p| (p.transfer, p.capped)).collect()));
            }
            Ok(out)
        })
        .collect();
    let mut draws = Vec::with_capacity(years);
    for b in blocks {
        draws.extend(b?);
    }
    let mean_outturn = draws.iter().map(|d| d.0).sum::<f64>() / years.max(1) as f64;
    let parties = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let mut t: Vec<f64> = draws.iter().map(|d| d.1.get(i).map_or(0.0, |x| x.0)).collect();
            let capped = draws.iter().filter(|d| d.1.get(i).is_some_and(|x| x.1)).count();
            let n = t.len().max(1) as f64;
            let mean = t.iter().sum::<f64>() / n;
            let sd = (t.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0).max(1.0)).sqrt();
            let pays = t.iter().filter(|x| **x < 0.0).count() as f64 / n;
            t.sort_by(f64::total_cmp);
            let q = |p: f64| {
                t.get(((t.len().max(1) - 1) as f64 * p).round() as usize)
                    .copied()
                    .unwrap_or(0.0)
            };
            PartyDistribution {
                party: name.clone(),
                expected_transfer: mean,
                sd,
                p05: q(0.05),
                p50: q(0.5),
                p95: q(0.95),
                probability_pays: pays,
                probability_capped: capped as f64 / n,
            }
        })
        .collect();
    Ok(Simulation {
        years,
        seed,
        mean_outturn,
        parties,
    })
}
