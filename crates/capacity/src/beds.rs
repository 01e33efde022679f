//! Beds for one pool from its activity: fixed occupancy, Erlang loss and the Poisson peak.
//!
//! A pool (adult G&A non-elective, maternity, critical care …) receives `admissions_per_year`
//! patients who stay `mean_los_days` on average, so it carries a mean load of
//! `A = admissions × LOS / days_per_year` occupied beds (the offered load, in erlangs).
//! Three ways to turn a load into beds, each a documented convention of NHS capacity planning:
//!
//! - **Fixed occupancy**: `N = A / ρ` for a target occupancy ρ (85% is the usual "safe"
//!   benchmark for G&A beds). Simple, and blind to size: a small unit at 85% turns patients
//!   away far more often than a large one.
//! - **Erlang loss** (M/G/N/N, insensitive to the length-of-stay distribution): the smallest N
//!   whose blocking probability `B(N, A)` is at most the target, by the stable recursion
//!   `B(0) = 1`, `B(n) = A·B(n−1) / (n + A·B(n−1))`. The occupancy it implies is
//!   `A(1 − B)/N` (carried load per bed).
//! - **Poisson peak**: the number of patients present is Poisson(A) in an infinite-server
//!   model; the smallest N with `P(Poisson(A) > N)` at most the target, via the regularised
//!   incomplete gamma function (`P(X > N) = P(N + 1, A)`, lower regularised).
//!
//! Pools are never pooled into one queue: a footprint's requirement is the sum over its pools
//! and providers, because one pooled Erlang queue of the whole footprint understates beds
//! (patients cannot use a maternity bed for a stroke, nor a bed forty miles away).

use serde::{Deserialize, Serialize};

use crate::Error;

/// The largest mean load accepted (occupied beds): ten times England's G&A stock. It bounds
/// the recursions' work on hostile input.
pub const MAX_LOAD: f64 = 1.0e6;

/// One pool's activity and the targets to size it to.
#[derive(Debug, Clone, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BedsRequest {
    pub admissions_per_year: f64,
    pub mean_los_days: f64,
    /// Target occupancy for the fixed-occupancy method, in (0, 1].
    #[serde(default = "default_occupancy")]
    pub target_occupancy: f64,
    /// Largest acceptable probability that an arriving patient finds every bed full.
    #[serde(default = "default_blocking")]
    pub erlang_b_target_blocking: f64,
    /// Largest acceptable probability that the patients present exceed the beds.
    #[serde(default = "default_blocking")]
    pub poisson_exceedance_target: f64,
    #[serde(default = "default_days")]
    pub days_per_year: f64,
}

fn default_occupancy() -> f64 {
    0.85
}
fn default_blocking() -> f64 {
    0.01
}
fn default_days() -> f64 {
    365.0
}

/// The beds one pool needs by each method.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BedsAnswer {
    pub bed_days: f64,
    pub mean_occupied_beds: f64,
    pub beds_fixed_occupancy_exact: f64,
    pub beds_fixed_occupancy_ceil: u64,
    pub beds_erlang_b: u64,
    pub erlang_b_blocking_at_beds_erlang_b: f64,
    pub erlang_b_blocking_at_fixed_occupancy_ceil: f64,
    pub implied_occupancy_erlang_b: f64,
    pub beds_poisson_peak: u64,
    pub poisson_exceedance_at_beds_poisson_peak: f64,
}

fn check(name: &str, value: f64, ok: bool, rule: &str) -> Result<(), Error> {
    if value.is_finite() && ok {
        Ok(())
    } else {
        Err(Error::Invalid {
            field: name.to_string(),
            value: value.to_string(),
            rule: rule.to_string(),
        })
    }
}

/// A probability target in (0, 1).
pub(crate) fn check_probability(name: &str, p: f64) -> Result<(), Error> {
    check(
        name,
        p,
        p > 0.0 && p < 1.0,
        "must be a probability above 0 and below 1",
    )
}

impl BedsRequest {
    /// Every field's rule; the first broken one is the error.
    pub fn validate(&self) -> Result<(), Error> {
        check(
            "admissions_per_year",
            self.admissions_per_year,
            self.admissions_per_year >= 0.0,
            "must be a number ≥ 0",
        )?;
        check(
            "mean_los_days",
            self.mean_los_days,
            self.mean_los_days >= 0.0,
            "must be a number ≥ 0",
        )?;
        check(
            "target_occupancy",
            self.target_occupancy,
            self.target_occupancy > 0.0 && self.target_occupancy <= 1.0,
            "must be above 0 and at most 1",
        )?;
        check_probability("erlang_b_target_blocking", self.erlang_b_target_blocking)?;
        check_probability("poisson_exceedance_target", self.poisson_exceedance_target)?;
        check(
            "days_per_year",
            self.days_per_year,
            self.days_per_year > 0.0,
            "must be a number > 0",
        )?;
        let load = self.admissions_per_year * self.mean_los_days / self.days_per_year;
        check(
            "mean_occupied_beds",
            load,
            load <= MAX_LOAD,
            &format!("admissions × LOS / days must be at most {MAX_LOAD} occupied beds"),
        )
    }
}

/// Erlang's loss formula B(n, A) by the stable recursion.
pub fn erlang_b(n: u64, load: f64) -> f64 {
    let mut b = 1.0;
    for k in 1..=n {
        b = load * b / (k as f64 + load * b);
    }
    b
}

/// The smallest n with B(n, A) ≤ `target`, and B there.
pub fn erlang_b_beds(load: f64, target: f64) -> (u64, f64) {
    let mut n = 0u64;
    let mut b = 1.0;
    while b > target {
        n += 1;
        b = load * b / (n as f64 + load * b);
    }
    (n, b)
}

/// P(Poisson(A) > n).
pub fn poisson_exceedance(n: u64, load: f64) -> f64 {
    if load <= 0.0 {
        return 0.0;
    }
    stats::dist::gamma_pq(n as f64 + 1.0, load).0
}

/// The smallest n with P(Poisson(A) > n) ≤ `target`, and the exceedance there.
pub fn poisson_peak_beds(load: f64, target: f64) -> (u64, f64) {
    if load <= 0.0 {
        return (0, 0.0);
    }
    // Bracket by doubling above the mean, then bisect: the exceedance falls as n grows.
    let mut lo = 0u64; // exceedance(lo) may be above the target
    if poisson_exceedance(lo, load) <= target {
        return (0, poisson_exceedance(0, load));
    }
    let mut step = (load.sqrt().ceil() as u64).max(1);
    let mut hi = load.ceil() as u64;
    while poisson_exceedance(hi, load) > target {
        lo = hi;
        hi += step;
        step *= 2;
    }
    // exceedance(lo) > target ≥ exceedance(hi)
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if poisson_exceedance(mid, load) > target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (hi, poisson_exceedance(hi, load))
}

/// The beds one pool needs by every method.
pub fn beds(r: &BedsRequest) -> Result<BedsAnswer, Error> {
    r.validate()?;
    let bed_days = r.admissions_per_year * r.mean_los_days;
    let load = bed_days / r.days_per_year;
    let exact = load / r.target_occupancy;
    let ceil = exact.ceil() as u64;
    let (n_erlang, b_erlang) = erlang_b_beds(load, r.erlang_b_target_blocking);
    let (n_poisson, p_poisson) = poisson_peak_beds(load, r.poisson_exceedance_target);
    Ok(BedsAnswer {
        bed_days,
        mean_occupied_beds: load,
        beds_fixed_occupancy_exact: exact,
        beds_fixed_occupancy_ceil: ceil,
        beds_erlang_b: n_erlang,
        erlang_b_blocking_at_beds_erlang_b: b_erlang,
        erlang_b_blocking_at_fixed_occupancy_ceil: erlang_b(ceil, load),
        implied_occupancy_erlang_b: if n_erlang == 0 {
            0.0
        } else {
            load * (1.0 - b_erlang) / n_erlang as f64
        },
        beds_poisson_peak: n_poisson,
        poisson_exceedance_at_beds_poisson_peak: p_poisson,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erlang_b_small_cases_by_hand() {
        // B(1, A) = A / (1 + A); B(2, A) = (A²/2) / (1 + A + A²/2).
        let a = 2.0;
        assert!((erlang_b(1, a) - 2.0 / 3.0).abs() < 1e-15);
        assert!((erlang_b(2, a) - 2.0 / 5.0).abs() < 1e-15);
        assert_eq!(erlang_b(0, a), 1.0);
    }

    #[test]
    fn poisson_exceedance_by_hand() {
        // P(Poisson(1) > 1) = 1 − 2/e.
        let expect = 1.0 - 2.0 / std::f64::consts::E;
        assert!((poisson_exceedance(1, 1.0) - expect).abs() < 1e-14);
    }
}
