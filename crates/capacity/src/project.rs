//! The seeded Monte Carlo projection: demand per provider and pool, beds by each pool's
//! method, heads by staff group, and the waterfall from baseline to projection.
//!
//! Every run draws one value of every assumption (national assumptions: the same growth for
//! every system in a run, which keeps systems' uncertainties correlated as they are). Run `r`
//! draws from its own PCG-64 stream derived from the seed and `r`, so results do not depend
//! on the number of threads. Quantiles are of the runs' values (linear interpolation between
//! order statistics, NumPy's default).

use rand::SeedableRng;
use rand_distr::{Distribution, Normal};
use rayon::prelude::*;

use crate::assumptions::{Assumptions, Driver, HoursPerUnit, Interval, Method, POOLS, Pool};
use crate::baseline::{Baseline, MAX_AGE, PoolBase, Provider};
use crate::beds::{erlang_b_beds, poisson_peak_beds};
use crate::formula::interval_to_normal;

/// The care models covering part of a system's population.
#[derive(Debug, Clone, PartialEq)]
pub struct CareModel {
    pub system: String,
    pub care_model: String,
    /// Share of the system's population under it, 0–1.
    pub share: f64,
}

/// One run's draw of every assumption.
#[derive(Debug, Clone)]
pub struct Draw {
    pub non_demographic: [f64; 6],
    pub los_reduction: [f64; 6],
    pub day_case: [f64; 6],
    /// Growth by single year of age.
    pub demography: Vec<f64>,
    /// Admissions avoided per (mitigator index).
    pub avoided: Vec<f64>,
    /// Growth by single year of age per subnational area (`demography.area` index).
    pub areas: Vec<Vec<f64>>,
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn stream(seed: u64, run: u64) -> rand_pcg::Pcg64Mcg {
    let h = splitmix(splitmix(seed ^ 0xCA9A_C17E) ^ run);
    let lo = splitmix(h ^ 0x5851_F42D_4C95_7F2D);
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&h.to_le_bytes());
    bytes[8..].copy_from_slice(&lo.to_le_bytes());
    rand_pcg::Pcg64Mcg::from_seed(bytes)
}

/// Samples an 80% interval as the NHP model does, clamped to [lo, hi].
fn sample(rng: &mut rand_pcg::Pcg64Mcg, i: Interval, lo: f64, hi: f64) -> f64 {
    let (mean, sd) = interval_to_normal(i[0], i[1]);
    let v = if sd > 0.0 {
        Normal::new(mean, sd).map_or(mean, |n| n.sample(rng))
    } else {
        mean
    };
    v.clamp(lo, hi)
}

impl Draw {
    /// The central draw: every interval at its mean.
    pub fn central(a: &Assumptions) -> Draw {
        Draw::make(a, &mut |i, _, _| (i[0] + i[1]) / 2.0)
    }

    /// Run `run`'s draw for `seed`.
    pub fn run(a: &Assumptions, seed: u64, run: u64) -> Draw {
        let mut rng = stream(seed, run);
        Draw::make(a, &mut |i, lo, hi| sample(&mut rng, i, lo, hi))
    }

    fn make(a: &Assumptions, f: &mut dyn FnMut(Interval, f64, f64) -> f64) -> Draw {
        let mut d = Draw {
            non_demographic: [0.0; 6],
            los_reduction: [0.0; 6],
            day_case: [0.0; 6],
            demography: vec![0.0; MAX_AGE + 1],
            avoided: Vec::new(),
            areas: Vec::new(),
        };
        for p in POOLS {
            let pa = a.pool(p);
            d.non_demographic[p.index()] = f(pa.non_demographic_growth, -1.0, 1.0);
            d.los_reduction[p.index()] = f(pa.los_reduction, 0.0, 1.0);
            d.day_case[p.index()] = f(pa.day_case_conversion, 0.0, 1.0);
        }
        let mut bands: Vec<_> = a.demography.band.iter().collect();
        bands.sort_by_key(|b| b.from);
        for b in &bands {
            let g = f(b.growth, -1.0, 1.0);
            for age in (b.from as usize)..(b.to as usize).min(MAX_AGE + 1) {
                d.demography[age] = g;
            }
        }
        d.avoided = a
            .mitigator
            .iter()
            .map(|m| f(m.admissions_avoided, 0.0, 1.0))
            .collect();
        // Areas last, so that adding one leaves every other draw of a seed as it was.
        for area in &a.demography.area {
            let mut by_age = vec![0.0; MAX_AGE + 1];
            for (b, growth) in bands.iter().zip(&area.growth) {
                let g = f(*growth, -1.0, 1.0);
                let (from, to) = (
                    (b.from as usize).min(MAX_AGE + 1),
                    (b.to as usize).min(MAX_AGE + 1),
                );
                by_age[from..to].fill(g);
            }
            d.areas.push(by_age);
        }
        d
    }
}

/// The steps of the waterfall, in order.
pub const STEPS: [&str; 5] = [
    "demography",
    "non_demographic_growth",
    "care_model_mitigation",
    "los_reduction",
    "day_case_conversion",
];

/// One provider-pool's projection in one draw.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PoolProjection {
    pub admissions: f64,
    /// Bed days (nights) a year after each step: [baseline, after each of `STEPS`].
    pub nights: [f64; 6],
    /// Beds the pool's method asks for at the projected mean load.
    pub beds: f64,
    /// Beds at the busiest month's load (the baseline's seasonal peak factor).
    pub beds_peak: f64,
}

/// The pools of a provider's baseline after critical care takes its share of non-elective
/// nights and admissions.
pub fn split_pools(a: &Assumptions, p: &Provider) -> Vec<PoolBase> {
    let mut pools = p.pools.clone();
    let share = a
        .pool(Pool::CriticalCare)
        .share_of_non_elective_bed_days
        .unwrap_or(0.0);
    if share > 0.0 {
        let ne = pools[Pool::GaNonElective.index()].clone();
        let cc = &mut pools[Pool::CriticalCare.index()];
        for age in 0..=MAX_AGE {
            cc.admissions_by_age[age] += ne.admissions_by_age[age] * share;
            cc.nights_by_age[age] += ne.nights_by_age[age] * share;
        }
        cc.peak_factor = ne.peak_factor;
        let ne = &mut pools[Pool::GaNonElective.index()];
        for age in 0..=MAX_AGE {
            ne.admissions_by_age[age] *= 1.0 - share;
            ne.nights_by_age[age] *= 1.0 - share;
        }
    }
    pools
}

/// Beds for a load by the pool's method.
///
/// `kh03` is, for the NHP method, the trust's occupied beds per unit of baseline load (KH03
/// occupied beds over the spells' mean nightly bed days, the same for every pool: the `beds`
/// table has no pools) and the pool's baseline load.
pub fn beds_for(a: &Assumptions, pool: Pool, load: f64, kh03: Option<(f64, f64)>) -> f64 {
    let pa = a.pool(pool);
    if load <= 0.0 {
        return 0.0;
    }
    match pa.method {
        Method::NhpBedScaling => match kh03 {
            Some((ratio, base)) if base > 0.0 => {
                let beds = crate::formula::bed_scaling(load, ratio * base, base, pa.target_occupancy);
                beds.round_ties_even()
            }
            // New activity at the pool: the same calibration on the load itself.
            Some((ratio, _)) => (load * ratio / pa.target_occupancy).round_ties_even(),
            None => (load / pa.target_occupancy).ceil(),
        },
        Method::FixedOccupancy => (load / pa.target_occupancy).ceil(),
        Method::ErlangB => erlang_b_beds(load, pa.target_blocking.unwrap_or(0.01)).0 as f64,
        Method::PoissonPeak => poisson_peak_beds(load, pa.target_blocking.unwrap_or(0.01)).0 as f64,
    }
}

/// The share of a pool's admissions avoided in `system` under its care models in this draw.
fn avoided(a: &Assumptions, d: &Draw, care: &[CareModel], system: Option<&str>, pool: Pool) -> f64 {
    let Some(system) = system else { return 0.0 };
    let mut total = 0.0;
    for c in care.iter().filter(|c| c.system == system) {
        for (i, m) in a.mitigator.iter().enumerate() {
            if m.pool == pool && m.care_model == c.care_model {
                total += c.share * d.avoided[i];
            }
        }
    }
    total.min(1.0)
}

/// Each age's demographic growth factor over `years` under draw `d`.
pub fn demography_factors(d: &Draw, years: f64) -> Vec<f64> {
    d.demography.iter().map(|g| (1.0 + g).powf(years)).collect()
}

/// Projects one provider-pool `years` years ahead under draw `d`; `factors` are
/// [`demography_factors`] of the same draw and years. The winter-peak beds are sized only
/// when `peak` is asked for (the central projection).
#[allow(clippy::too_many_arguments)]
pub fn project_pool(
    a: &Assumptions,
    d: &Draw,
    factors: &[f64],
    base: &PoolBase,
    pool: Pool,
    avoided_share: f64,
    years: f64,
    days: f64,
    peak: bool,
    kh03_ratio: Option<f64>,
) -> PoolProjection {
    let (mut adm1, mut n0, mut n1) = (0.0, 0.0, 0.0);
    for ((g, adm), nights) in factors
        .iter()
        .zip(&base.admissions_by_age)
        .zip(&base.nights_by_age)
    {
        adm1 += adm * g;
        n0 += nights;
        n1 += nights * g;
    }
    let demog_nights = if n0 > 0.0 { n1 / n0 } else { 1.0 };
    let growth = (1.0 + d.non_demographic[pool.index()]).powf(years);
    let mitigation = 1.0 - avoided_share;
    let los = 1.0 - d.los_reduction[pool.index()];
    let mut nights = [0.0; 6];
    nights[0] = n0;
    nights[1] = n1;
    nights[2] = nights[1] * growth;
    nights[3] = nights[2] * mitigation;
    nights[4] = nights[3] * los;
    let short = base.short_elective_nights * demog_nights * growth * mitigation * los;
    nights[5] = (nights[4] - d.day_case[pool.index()] * short).max(0.0);
    PoolProjection {
        admissions: adm1 * growth * mitigation,
        nights,
        beds: beds_for(a, pool, nights[5] / days, kh03_ratio.map(|r| (r, n0 / days))),
        beds_peak: if peak {
            beds_for(
                a,
                pool,
                nights[5] / days * base.peak_factor.max(1.0),
                kh03_ratio.map(|r| (r, n0 / days)),
            )
        } else {
            0.0
        },
    }
}

/// What a whole projection asks for.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub baseline: &'a Baseline,
    pub assumptions: &'a Assumptions,
    pub care_models: &'a [CareModel],
    /// Financial year projected to (start year).
    pub year: i32,
    pub runs: usize,
    pub seed: u64,
}

/// Every run's beds per provider and pool, and WTE per provider and staff group, plus the
/// central (every interval at its mean) projection for the waterfall.
#[derive(Debug, Clone)]
pub struct Projection {
    pub years: f64,
    pub runs: usize,
    /// Indexed `[run][provider][pool]`: beds.
    pub beds: Vec<Vec<[f64; 6]>>,
    /// Indexed `[run][provider][group]`: WTE (None where a "baseline" group has no baseline).
    pub wte: Vec<Vec<Vec<Option<f64>>>>,
    /// Indexed `[provider][pool]`: central projection.
    pub central: Vec<[PoolProjection; 6]>,
    /// Indexed `[provider][group]`: central WTE.
    pub central_wte: Vec<Vec<Option<f64>>>,
    /// Indexed `[provider][pool]`: baseline pools after the critical-care split.
    pub pools: Vec<Vec<PoolBase>>,
    /// Staff groups, in the assumptions' order.
    pub groups: Vec<String>,
}

/// Occupied bed days, admissions and registered catchment after projection.
fn drivers(proj: &[PoolProjection; 6], prov: &Provider, factors: &[f64]) -> (f64, f64, f64) {
    let nights: f64 = proj.iter().map(|p| p.nights[5]).sum();
    let admissions: f64 = proj.iter().map(|p| p.admissions).sum();
    let list: f64 = prov
        .catchment_by_age
        .iter()
        .zip(factors)
        .map(|(n, f)| n * f)
        .sum();
    (nights, admissions, list)
}

fn heads(a: &Assumptions, prov: &Provider, base: (f64, f64, f64), proj: (f64, f64, f64)) -> Vec<Option<f64>> {
    a.heads
        .group
        .iter()
        .map(|g| {
            let (b, p) = match g.driver {
                Driver::OccupiedBedDays => (base.0, proj.0),
                Driver::Admissions => (base.1, proj.1),
                Driver::RegisteredList => {
                    // No catchment (no `population` table): no requirement from this driver.
                    if prov.catchment_by_age.is_empty() {
                        return None;
                    }
                    (base.2, proj.2)
                }
            };
            match g.hours_per_unit {
                HoursPerUnit::Fixed(h) => Some(p * h / (a.heads.paid_hours_per_wte * (1.0 - g.headroom))),
                HoursPerUnit::Baseline(_) => {
                    let in_post = *prov.wte.get(&g.staff_group)?;
                    (b > 0.0).then(|| in_post * p / b)
                }
            }
        })
        .collect()
}

/// One run's beds per provider and pool, and WTE per provider and staff group.
type RunResult = (Vec<[f64; 6]>, Vec<Vec<Option<f64>>>);

/// Runs the projection.
pub fn project(r: &Request<'_>) -> Projection {
    let a = r.assumptions;
    let years = (r.year - r.baseline.year).max(0) as f64;
    let pools: Vec<Vec<PoolBase>> = r.baseline.providers.iter().map(|p| split_pools(a, p)).collect();
    let base_drivers: Vec<(f64, f64, f64)> = pools
        .iter()
        .zip(&r.baseline.providers)
        .map(|(ps, prov)| {
            (
                ps.iter().map(PoolBase::nights).sum(),
                ps.iter().map(PoolBase::admissions).sum(),
                prov.catchment_by_age.iter().sum(),
            )
        })
        .collect();
    // KH03 occupied beds per unit of the spells' baseline load, per trust (NHP bed scaling).
    let kh03: Vec<Option<f64>> = r
        .baseline
        .providers
        .iter()
        .zip(&base_drivers)
        .map(|(p, d)| {
            let load = d.0 / r.baseline.days;
            p.beds_occupied.filter(|_| load > 0.0).map(|o| o / load)
        })
        .collect();
    // Each provider's demography: its system's own, else its region's, else England's.
    let area_of: Vec<Option<usize>> = r
        .baseline
        .providers
        .iter()
        .map(|p| {
            let find = |code: Option<&String>| {
                code.and_then(|c| a.demography.area.iter().position(|x| &x.code == c))
            };
            find(p.system.as_ref()).or_else(|| find(p.region.as_ref()))
        })
        .collect();
    let one = |d: &Draw, peak: bool| -> (Vec<[PoolProjection; 6]>, Vec<Vec<Option<f64>>>) {
        let factors = demography_factors(d, years);
        let area_factors: Vec<Vec<f64>> = d
            .areas
            .iter()
            .map(|g| g.iter().map(|g| (1.0 + g).powf(years)).collect())
            .collect();
        let mut all = Vec::with_capacity(pools.len());
        let mut wte = Vec::with_capacity(pools.len());
        for (i, prov) in r.baseline.providers.iter().enumerate() {
            let factors = area_of[i].map_or(&factors, |k| &area_factors[k]);
            let mut out = [PoolProjection::default(); 6];
            for pool in POOLS {
                let share = avoided(a, d, r.care_models, prov.system.as_deref(), pool);
                out[pool.index()] = project_pool(
                    a,
                    d,
                    factors,
                    &pools[i][pool.index()],
                    pool,
                    share,
                    years,
                    r.baseline.days,
                    peak,
                    kh03[i],
                );
            }
            wte.push(heads(a, prov, base_drivers[i], drivers(&out, prov, factors)));
            all.push(out);
        }
        (all, wte)
    };
    let central_draw = Draw::central(a);
    let (central, central_wte) = one(&central_draw, true);
    let per_run: Vec<RunResult> = (0..r.runs)
        .into_par_iter()
        .map(|run| {
            let d = Draw::run(a, r.seed, run as u64);
            let (proj, wte) = one(&d, false);
            (
                proj.iter().map(|p| std::array::from_fn(|k| p[k].beds)).collect(),
                wte,
            )
        })
        .collect();
    let (beds, wte) = per_run.into_iter().unzip();
    Projection {
        years,
        runs: r.runs,
        beds,
        wte,
        central,
        central_wte,
        pools,
        groups: a.heads.group.iter().map(|g| g.staff_group.clone()).collect(),
    }
}

/// p10, mean and p90 of values (NumPy's default linear interpolation).
pub fn summary(values: &mut [f64]) -> Option<[f64; 3]> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let q = |p: f64| {
        let h = (values.len() - 1) as f64 * p;
        let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
        values[lo] + (h - lo as f64) * (values[hi] - values[lo])
    };
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    Some([q(0.1), mean, q(0.9)])
}

/// Reads a care-models file: CSV `system_code, care_model, share` (share of the system's
/// population under the model, 0–1). `systems` are the dataset's system codes.
pub fn read_care_models(
    bytes: &[u8],
    file: &str,
    systems: &std::collections::BTreeSet<String>,
    a: &Assumptions,
) -> Result<Vec<CareModel>, crate::Error> {
    let at = |line: u64, column: &str, value: &str, rule: &str| crate::Error::Located {
        file: file.to_string(),
        line,
        column: column.to_string(),
        value: value.to_string(),
        rule: rule.to_string(),
    };
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let header = rdr
        .headers()
        .map_err(|e| at(1, "(header)", "", &e.to_string()))?
        .clone();
    let col = |name: &str| {
        header.iter().position(|h| h.trim() == name).ok_or_else(|| {
            at(
                1,
                name,
                "",
                "the column is missing (system_code, care_model, share)",
            )
        })
    };
    let (s, c, sh) = (col("system_code")?, col("care_model")?, col("share")?);
    let known: std::collections::BTreeSet<&str> = a.mitigator.iter().map(|m| m.care_model.as_str()).collect();
    let mut out: Vec<CareModel> = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| at(e.position().map_or(0, |p| p.line()), "(row)", "", &e.to_string()))?;
        let line = rec.position().map_or(0, |p| p.line());
        let get = |i: usize| rec.get(i).unwrap_or("").trim();
        let system = get(s);
        if !systems.contains(system) {
            return Err(at(line, "system_code", system, "must be a system of the dataset"));
        }
        let model = get(c);
        if !known.contains(model) {
            let names: Vec<&str> = known.iter().copied().collect();
            return Err(at(
                line,
                "care_model",
                model,
                &format!(
                    "must be a care model the assumptions' mitigators name: {}",
                    names.join(", ")
                ),
            ));
        }
        let raw = get(sh);
        let share: f64 = raw
            .parse()
            .ok()
            .filter(|v: &f64| (0.0..=1.0).contains(v))
            .ok_or_else(|| at(line, "share", raw, "must be a number from 0 to 1"))?;
        let total: f64 = out
            .iter()
            .filter(|m| m.system == system)
            .map(|m| m.share)
            .sum::<f64>()
            + share;
        if total > 1.0 + 1e-9 {
            return Err(at(
                line,
                "share",
                raw,
                &format!("the system's shares add up to {total}, above 1"),
            ));
        }
        out.push(CareModel {
            system: system.to_string(),
            care_model: model.to_string(),
            share,
        });
    }
    Ok(out)
}
