//! Standardised rates and ratios, as Fingertips (PHEindicatormethods `calculate_dsr`,
//! `calculate_ISRatio`, `calculate_ISRate`).
//!
//! Directly standardised rates use Dobson's method, with Byars' interval for the total
//! count, on the European Standard Population 2013 by default; the rate is not published
//! when the total count is below 10. Indirectly standardised ratios and rates use the exact
//! Poisson interval below 10 observed events and Byars' from 10.

use crate::rate::{Method, byars_limits, poisson_limits};
use crate::{Error, Result, check_confidence, check_counts, check_length, check_positive};

/// The European Standard Population 2013 in 19 five-year bands, 0–4 to 90+.
pub const ESP2013: [f64; 19] = [
    5000.0, 5500.0, 5500.0, 5500.0, 6000.0, 6000.0, 6500.0, 7000.0, 7000.0, 7000.0, 7000.0, 6500.0, 6000.0,
    5500.0, 5000.0, 4000.0, 2500.0, 1500.0, 1000.0,
];

/// The names of the ESP 2013 bands.
pub const ESP2013_BANDS: [&str; 19] = [
    "0-4", "5-9", "10-14", "15-19", "20-24", "25-29", "30-34", "35-39", "40-44", "45-49", "50-54", "55-59",
    "60-64", "65-69", "70-74", "75-79", "80-84", "85-89", "90+",
];

/// Below this total count a directly standardised rate is not published.
pub const DSR_MIN_COUNT: f64 = 10.0;

/// A directly standardised rate. `value`, `lower` and `upper` are `None` when the total
/// count is below [`DSR_MIN_COUNT`].
#[derive(Debug, Clone, PartialEq)]
pub struct Dsr {
    pub total_count: f64,
    pub total_pop: f64,
    /// One `(value, lower, upper)` per requested confidence level, or `None` if suppressed.
    pub estimate: Option<(f64, Vec<(f64, f64)>)>,
}

/// The directly standardised rate of events `x` in populations `n`, standardised to
/// `stdpop` (e.g. [`ESP2013`]), per `multiplier`, with Dobson intervals at each level of
/// `confidence`. Events are taken to be independent.
pub fn dsr(x: &[f64], n: &[f64], stdpop: &[f64], confidence: &[f64], multiplier: f64) -> Result<Dsr> {
    if x.is_empty() {
        return Err(Error::Empty { field: "x" });
    }
    check_length("n", n.len(), "x", x.len())?;
    check_length("stdpop", stdpop.len(), "x", x.len())?;
    check_counts("x", x)?;
    check_counts("n", n)?;
    check_positive("n", n)?;
    check_counts("stdpop", stdpop)?;
    for &c in confidence {
        check_confidence(c)?;
    }
    let total_count: f64 = x.iter().sum();
    let total_pop: f64 = n.iter().sum();
    let total_std: f64 = stdpop.iter().sum();
    if total_std.is_nan() || total_std <= 0.0 {
        return Err(Error::Option {
            field: "stdpop",
            value: total_std.to_string(),
            rule: "the standard population must not total 0",
        });
    }
    if total_count < DSR_MIN_COUNT {
        return Ok(Dsr {
            total_count,
            total_pop,
            estimate: None,
        });
    }
    let mut rate = 0.0;
    let mut var = 0.0;
    for ((&xi, &ni), &wi) in x.iter().zip(n).zip(stdpop) {
        rate += xi * wi / ni;
        var += xi * (wi / ni).powi(2);
    }
    rate /= total_std;
    var /= total_std * total_std;
    let scale = (var / total_count).sqrt();
    let limits = confidence
        .iter()
        .map(|&c| {
            let (lo, hi) = byars_limits(total_count, c);
            (
                (rate + scale * (lo - total_count)) * multiplier,
                (rate + scale * (hi - total_count)) * multiplier,
            )
        })
        .collect();
    Ok(Dsr {
        total_count,
        total_pop,
        estimate: Some((rate * multiplier, limits)),
    })
}

/// An indirectly standardised ratio or rate.
#[derive(Debug, Clone, PartialEq)]
pub struct Isr {
    pub observed: f64,
    pub expected: f64,
    /// The reference rate per multiplier (rates only).
    pub ref_rate: Option<f64>,
    pub value: f64,
    /// One `(lower, upper)` per requested confidence level.
    pub limits: Vec<(f64, f64)>,
    pub method: Method,
}

/// The expected count: the reference rates `x_ref / n_ref` applied to the local population.
fn expected(x: &[f64], n: &[f64], x_ref: &[f64], n_ref: &[f64]) -> Result<f64> {
    if x.is_empty() {
        return Err(Error::Empty { field: "x" });
    }
    check_length("n", n.len(), "x", x.len())?;
    check_length("x_ref", x_ref.len(), "x", x.len())?;
    check_length("n_ref", n_ref.len(), "x", x.len())?;
    check_counts("x", x)?;
    check_counts("n", n)?;
    check_counts("x_ref", x_ref)?;
    check_counts("n_ref", n_ref)?;
    check_positive("n_ref", n_ref)?;
    let e: f64 = n
        .iter()
        .zip(x_ref)
        .zip(n_ref)
        .map(|((&ni, &xr), &nr)| ni * xr / nr)
        .sum();
    if e.is_nan() || e <= 0.0 {
        return Err(Error::Option {
            field: "expected",
            value: e.to_string(),
            rule: "the expected count must be greater than 0 (no reference events in the local population's bands)",
        });
    }
    Ok(e)
}

/// The indirectly standardised ratio `observed / expected × refvalue`, with the Poisson
/// interval of the observed count divided by the expected.
pub fn isratio(
    x: &[f64],
    n: &[f64],
    x_ref: &[f64],
    n_ref: &[f64],
    confidence: &[f64],
    refvalue: f64,
) -> Result<Isr> {
    indirect(x, n, x_ref, n_ref, confidence, None, refvalue)
}

/// The indirectly standardised rate: the ratio times the reference rate
/// `sum(x_ref) / sum(n_ref) × multiplier`.
pub fn israte(
    x: &[f64],
    n: &[f64],
    x_ref: &[f64],
    n_ref: &[f64],
    confidence: &[f64],
    multiplier: f64,
) -> Result<Isr> {
    let ref_rate = x_ref.iter().sum::<f64>() / n_ref.iter().sum::<f64>() * multiplier;
    indirect(x, n, x_ref, n_ref, confidence, Some(ref_rate), ref_rate)
}

/// Observed over expected, scaled by `scale` (the reference value or rate).
fn indirect(
    x: &[f64],
    n: &[f64],
    x_ref: &[f64],
    n_ref: &[f64],
    confidence: &[f64],
    ref_rate: Option<f64>,
    scale: f64,
) -> Result<Isr> {
    for &c in confidence {
        check_confidence(c)?;
    }
    let e = expected(x, n, x_ref, n_ref)?;
    let o: f64 = x.iter().sum();
    let (limits, method) = observed_limits(o, confidence, e, scale);
    Ok(Isr {
        observed: o,
        expected: e,
        ref_rate,
        value: o / e * scale,
        limits,
        method,
    })
}

fn observed_limits(o: f64, confidence: &[f64], e: f64, scale: f64) -> (Vec<(f64, f64)>, Method) {
    let mut method = Method::for_count(o);
    let limits = confidence
        .iter()
        .map(|&c| {
            let (lo, hi, m) = poisson_limits(o, c);
            method = m;
            (lo / e * scale, hi / e * scale)
        })
        .collect();
    (limits, method)
}

#[cfg(test)]
mod tests;
