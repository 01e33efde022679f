//! Crude rates with Poisson confidence intervals, as Fingertips (PHEindicatormethods
//! `phe_rate`): the exact chi-square method below 10 events, Byars' approximation from 10.

use crate::dist::{qchisq, z_for};
use crate::{Result, check_confidence, check_counts};

/// Below this many events the exact method is used, from it Byars'.
pub const BYARS_FROM: f64 = 10.0;

/// Which method produced an interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// The exact interval from the chi-square distribution.
    Exact,
    /// Byars' approximation to the exact interval.
    Byars,
}

impl Method {
    /// The method Fingertips uses for `count` events.
    pub fn for_count(count: f64) -> Method {
        if count < BYARS_FROM {
            Method::Exact
        } else {
            Method::Byars
        }
    }

    /// The name PHEindicatormethods prints.
    pub fn name(self) -> &'static str {
        match self {
            Method::Exact => "Exact",
            Method::Byars => "Byars",
        }
    }
}

/// The exact Poisson interval for an observed count: `qchisq(α/2, 2x)/2` and
/// `qchisq(1-α/2, 2x+2)/2` (0 for the lower limit of a zero count).
///
/// Whole counts below [`BYARS_FROM`] at 95% and 99.8% (every small count of every published
/// indicator) come from a table computed once by the same function, so they are the same
/// numbers without the chi-square quantiles each time.
pub fn exact_limits(count: f64, confidence: f64) -> (f64, f64) {
    static TABLES: std::sync::OnceLock<[[(f64, f64); 10]; 2]> = std::sync::OnceLock::new();
    let level = if confidence == 0.95 {
        Some(0)
    } else if confidence == 0.998 {
        Some(1)
    } else {
        None
    };
    if let Some(level) = level
        && (0.0..BYARS_FROM).contains(&count)
        && count.fract() == 0.0
    {
        let tables = TABLES.get_or_init(|| {
            [0.95, 0.998].map(|c| std::array::from_fn(|x| exact_limits_computed(x as f64, c)))
        });
        return tables[level][count as usize];
    }
    exact_limits_computed(count, confidence)
}

fn exact_limits_computed(count: f64, confidence: f64) -> (f64, f64) {
    let alpha = 1.0 - confidence;
    let lower = if count == 0.0 {
        0.0
    } else {
        qchisq(alpha / 2.0, 2.0 * count, true) / 2.0
    };
    let upper = qchisq(1.0 - alpha / 2.0, 2.0 * count + 2.0, true) / 2.0;
    (lower, upper)
}

/// Byars' approximation to the Poisson interval for an observed count.
pub fn byars_limits(count: f64, confidence: f64) -> (f64, f64) {
    let z = z_for(confidence);
    let lower = if count == 0.0 {
        0.0
    } else {
        count * (1.0 - 1.0 / (9.0 * count) - z / (3.0 * count.sqrt())).powi(3)
    };
    let c1 = count + 1.0;
    let upper = c1 * (1.0 - 1.0 / (9.0 * c1) + z / (3.0 * c1.sqrt())).powi(3);
    (lower, upper)
}

/// The Poisson interval Fingertips uses for `count`: exact below 10, Byars from 10.
pub fn poisson_limits(count: f64, confidence: f64) -> (f64, f64, Method) {
    let method = Method::for_count(count);
    let (lower, upper) = match method {
        Method::Exact => exact_limits(count, confidence),
        Method::Byars => byars_limits(count, confidence),
    };
    (lower, upper, method)
}

/// A value with its confidence interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    pub value: f64,
    pub lower: f64,
    pub upper: f64,
    pub method: Method,
}

/// The crude rate `count / denominator × multiplier` with its Poisson interval.
pub fn crude_rate(count: f64, denominator: f64, confidence: f64, multiplier: f64) -> Result<Interval> {
    check_confidence(confidence)?;
    check_counts("x", &[count])?;
    check_counts("n", &[denominator])?;
    crate::check_positive("n", &[denominator])?;
    let (lower, upper, method) = poisson_limits(count, confidence);
    Ok(Interval {
        value: count / denominator * multiplier,
        lower: lower / denominator * multiplier,
        upper: upper / denominator * multiplier,
        method,
    })
}

#[cfg(test)]
mod tests;
