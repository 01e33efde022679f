//! Proportions with Wilson score intervals, as Fingertips (PHEindicatormethods
//! `phe_proportion`).

use crate::dist::z_for;
use crate::{Error, Result, check_confidence, check_counts};

/// A proportion with its Wilson score interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Proportion {
    pub value: f64,
    pub lower: f64,
    pub upper: f64,
}

/// The Wilson score interval for `x` events out of `n`.
///
/// Bounds stay within [0, 1]; `x = 0` gives a lower bound of exactly 0 and `x = n` an
/// upper bound of exactly 1, as PHEindicatormethods does.
pub fn wilson(x: f64, n: f64, confidence: f64) -> Result<Proportion> {
    check_confidence(confidence)?;
    check_counts("x", &[x])?;
    check_counts("n", &[n])?;
    if n <= 0.0 {
        return Err(Error::Value {
            field: "n",
            index: 0,
            value: n,
            rule: "the denominator must be greater than 0",
        });
    }
    if x > n {
        return Err(Error::Value {
            field: "x",
            index: 0,
            value: x,
            rule: "the numerator must not exceed the denominator",
        });
    }
    let z = z_for(confidence);
    let p = x / n;
    let q = 1.0 - p;
    let z2 = z * z;
    let centre = 2.0 * x + z2;
    let spread = z * (z2 + 4.0 * x * q).sqrt();
    let denominator = 2.0 * (n + z2);
    let lower = if x == 0.0 {
        0.0
    } else {
        (centre - spread) / denominator
    };
    let upper = if x == n {
        1.0
    } else {
        (centre + spread) / denominator
    };
    Ok(Proportion {
        value: p,
        lower: lower.clamp(0.0, 1.0),
        upper: upper.clamp(0.0, 1.0),
    })
}

#[cfg(test)]
mod tests;
