//! Interrupted time series for a single site with no comparators: segmented regression of the
//! log rate on time, a level change and a slope change at the start, and calendar month
//! (season), by ordinary least squares with Newey–West (Bartlett kernel) standard errors.
//!
//! `log y_t = β₀ + β₁ t + β₂ post_t + β₃ (t − s) post_t + season_t + ε_t`, season being a
//! dummy per calendar month when two years precede the start, one harmonic pair (sine and
//! cosine of the calendar month) with one to two years, and nothing with less.
//! The effect reported is the mean over the post-period of `β₂ + β₃ (t − s)` (the average
//! post-period change against the extrapolated pre-period line), as a relative change.

use crate::linalg::{Mat, ols};
use serde::{Deserialize, Serialize};

/// The fit.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
pub struct Its {
    /// Coefficient names, in order.
    pub terms: Vec<String>,
    pub coefficients: Vec<f64>,
    /// Newey–West standard errors.
    pub se: Vec<f64>,
    /// Bartlett lag used.
    pub lag: usize,
    /// Average post-period effect on the log scale and its standard error.
    pub log_effect: f64,
    pub log_effect_se: f64,
    /// Relative effect `exp(log_effect) − 1` and its interval.
    pub relative_effect: f64,
    pub lower: f64,
    pub upper: f64,
    pub confidence: f64,
}

/// The Newey–West default lag: ⌊4 (T/100)^(2/9)⌋.
pub fn default_lag(n: usize) -> usize {
    (4.0 * (n as f64 / 100.0).powf(2.0 / 9.0)).floor() as usize
}

/// Fits the model to `y` (already on the scale to model, e.g. log rates), with `months` the
/// calendar month (1–12) of each period, the start index `s` and the lag (default when None).
pub fn fit(y: &[f64], months: &[u32], s: usize, lag: Option<usize>, confidence: f64) -> crate::Result<Its> {
    let n = y.len();
    if months.len() != n {
        return Err(crate::Error::Refused(format!(
            "interrupted time series: {} calendar months for {n} values",
            months.len()
        )));
    }
    if s < 3 || s >= n {
        return Err(crate::Error::Refused(format!(
            "interrupted time series: the start is period {s} of {n}; it needs at least three periods before and one after"
        )));
    }
    if let Some(bad) = y.iter().position(|v| !v.is_finite()) {
        return Err(crate::Error::Refused(format!(
            "interrupted time series: period {bad} has no value"
        )));
    }
    let present: Vec<u32> = {
        let mut m: Vec<u32> = months.to_vec();
        m.sort_unstable();
        m.dedup();
        m
    };
    // Season: a dummy for every calendar month present but the first when two years precede
    // the start; with one to two years, one harmonic pair (a year of dummies beside a level
    // change after exactly a year would be collinear with time); with less, none.
    let season_kind = if s >= 24 {
        2
    } else if s >= 12 {
        1
    } else {
        0
    };
    let dummies: Vec<u32> = if season_kind == 2 {
        present.iter().copied().skip(1).collect()
    } else {
        Vec::new()
    };
    let mut terms: Vec<String> = ["intercept", "time", "level_change", "slope_change"]
        .map(String::from)
        .to_vec();
    terms.extend(dummies.iter().map(|m| format!("month_{m:02}")));
    if season_kind == 1 {
        terms.push("season_sin".into());
        terms.push("season_cos".into());
    }
    let p = terms.len();
    let mut x = Mat::zeros(n, p);
    for (t, &month) in months.iter().enumerate().take(n) {
        let post = if t >= s { 1.0 } else { 0.0 };
        x.set(t, 0, 1.0);
        x.set(t, 1, t as f64);
        x.set(t, 2, post);
        x.set(t, 3, post * (t as f64 - s as f64));
        for (j, m) in dummies.iter().enumerate() {
            x.set(t, 4 + j, if month == *m { 1.0 } else { 0.0 });
        }
        if season_kind == 1 {
            let angle = 2.0 * std::f64::consts::PI * (month as f64 - 1.0) / 12.0;
            x.set(t, 4, angle.sin());
            x.set(t, 5, angle.cos());
        }
    }
    let (beta, xtx_inv, rank) = ols(&x, y);
    if rank < p || n <= p {
        return Err(crate::Error::Refused(format!(
            "interrupted time series: {n} periods cannot identify {p} terms"
        )));
    }
    let fitted = x.mul_vec(&beta);
    let e: Vec<f64> = y.iter().zip(&fitted).map(|(a, b)| a - b).collect();
    let lag = lag.unwrap_or_else(|| default_lag(n));
    // Meat: Σ_l w_l Σ_t e_t e_{t−l} (x_t x_{t−l}ᵀ + x_{t−l} x_tᵀ).
    let mut meat = vec![0.0; p * p];
    for l in 0..=lag.min(n - 1) {
        let w = if l == 0 {
            1.0
        } else {
            1.0 - l as f64 / (lag as f64 + 1.0)
        };
        for t in l..n {
            let f = w * e[t] * e[t - l];
            for i in 0..p {
                for j in 0..p {
                    let v = x.at(t, i) * x.at(t - l, j);
                    meat[i * p + j] += if l == 0 {
                        f * v
                    } else {
                        f * (v + x.at(t - l, i) * x.at(t, j))
                    };
                }
            }
        }
    }
    let mut cov = vec![0.0; p * p];
    for i in 0..p {
        for j in 0..p {
            let mut s = 0.0;
            for a in 0..p {
                for b in 0..p {
                    s += xtx_inv.at(i, a) * meat[a * p + b] * xtx_inv.at(b, j);
                }
            }
            cov[i * p + j] = s;
        }
    }
    let se: Vec<f64> = (0..p).map(|i| cov[i * p + i].max(0.0).sqrt()).collect();
    // Average post effect: β₂ + β₃ · mean(t − s) over the post-period.
    let mean_offset = (0..n - s).map(|k| k as f64).sum::<f64>() / (n - s) as f64;
    let c = {
        let mut c = vec![0.0; p];
        c[2] = 1.0;
        c[3] = mean_offset;
        c
    };
    let effect: f64 = c.iter().zip(&beta).map(|(a, b)| a * b).sum();
    let mut var = 0.0;
    for i in 0..p {
        for j in 0..p {
            var += c[i] * cov[i * p + j] * c[j];
        }
    }
    let effect_se = var.max(0.0).sqrt();
    let q = crate::did::qt(0.5 + confidence / 2.0, (n - p) as f64);
    Ok(Its {
        terms,
        coefficients: beta,
        se,
        lag,
        log_effect: effect,
        log_effect_se: effect_se,
        relative_effect: effect.exp() - 1.0,
        lower: (effect - q * effect_se).exp() - 1.0,
        upper: (effect + q * effect_se).exp() - 1.0,
        confidence,
    })
}
