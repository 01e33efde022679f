//! Funnel plots with over-dispersion, after Spiegelhalter (2005), as FunnelPlotR computes
//! them.
//!
//! Each unit's value is transformed to a scale on which it is roughly normal (log for SHMI
//! ratios, square root for the CQC's, arcsine-square-root for proportions, log for ratios of
//! counts) and z-scored against the target. The z-scores are Winsorised at the `trim_by`
//! quantiles (or, for SHMI, the top and bottom `trim_by` are truncated), the dispersion ratio
//! φ is their mean square, and when φ shows over-dispersion the between-unit variance τ² is
//! estimated by DerSimonian and Laird's method of moments and added to each unit's variance.
//!
//! Each unit gets Poisson limits (exact chi-square limits around the target for its
//! denominator) and over-dispersed limits, at 95% and 99.8%; a unit is an outlier at a level
//! when its value lies strictly outside the over-dispersed limits if τ² > 0, or the Poisson
//! limits otherwise.
//!
//! One deliberate difference from FunnelPlotR 0.3.9999: for the CQC method, FunnelPlotR
//! returns the limits on the square-root scale (`1 ± z·√(s²+τ²)`) without squaring them
//! back. Footprint squares them (the back-transform), clamping the lower bound at 0;
//! [`CqcLimits::FunnelPlotR`] reproduces the package's output for comparison.

use crate::dist::qchisq;
use crate::{Error, Result, check_counts, check_length};
use std::f64::consts::FRAC_PI_2;

/// The 95% z value as FunnelPlotR writes it.
pub const Z95: f64 = 1.959964;
/// The 99.8% z value as FunnelPlotR writes it.
pub const Z998: f64 = 3.090232;

/// How a standardised ratio is transformed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SrMethod {
    /// NHS Digital's SHMI: log scale, truncation of the extreme z-scores.
    Shmi,
    /// The CQC's: square-root scale, Winsorisation.
    Cqc,
}

/// What the numerator and denominator are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataType {
    /// A standardised ratio: observed / expected.
    Ratio(SrMethod),
    /// A proportion: events / people.
    Proportion,
    /// A ratio of two counts.
    RatioOfCounts,
}

/// How CQC-method limits are returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CqcLimits {
    /// Back-transformed to the ratio scale: `(1 ± z·sd)²` (the default).
    Squared,
    /// As FunnelPlotR 0.3.9999 returns them, on the square-root scale: `1 ± z·sd`.
    FunnelPlotR,
}

/// How to draw the funnel.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Options {
    pub data_type: DataType,
    /// The share Winsorised (or truncated) at each end before estimating φ.
    pub trim_by: f64,
    /// Values and limits are multiplied by this (e.g. 100 for percentages).
    pub multiplier: f64,
    pub cqc_limits: CqcLimits,
    /// Whether every unit gets its Poisson limits. When false they are computed only where
    /// they judge the unit (no over-dispersion, τ² = 0) and are NaN otherwise: for callers
    /// that read only the outlier flags and z-scores (each limit is a chi-square quantile,
    /// most of the cost of a large funnel).
    pub poisson_limits: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            data_type: DataType::Ratio(SrMethod::Shmi),
            trim_by: 0.1,
            multiplier: 1.0,
            cqc_limits: CqcLimits::Squared,
            poisson_limits: true,
        }
    }
}

/// Lower and upper limits at 95% and 99.8%.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    pub lower95: f64,
    pub upper95: f64,
    pub lower998: f64,
    pub upper998: f64,
}

/// One unit of the funnel.
#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    /// numerator / denominator.
    pub rr: f64,
    /// The transformed value.
    pub y: f64,
    /// Its standard error on the transformed scale.
    pub s: f64,
    /// The unadjusted z-score.
    pub uzscore: f64,
    /// The Winsorised z-score, or `None` where truncated.
    pub wuzscore: Option<f64>,
    pub poisson: Limits,
    pub overdispersed: Limits,
    pub outlier95: bool,
    pub outlier998: bool,
}

/// A computed funnel.
#[derive(Debug, Clone, PartialEq)]
pub struct Funnel {
    /// The centre line on the ratio scale.
    pub target: f64,
    pub phi: f64,
    pub tau2: f64,
    pub n_used_for_phi: usize,
    pub units: Vec<Unit>,
}

impl Funnel {
    /// Whether the over-dispersion adjustment changed the limits (τ² > 0).
    pub fn od_adjust_effective(&self) -> bool {
        self.tau2 > 0.0
    }
}

/// R's `quantile(x, p, type = 7)` of sorted values.
fn quantile7(sorted: &[f64], p: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// R's `rank(x, ties.method = "average")`, 1-based.
fn average_ranks(x: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..x.len()).collect();
    order.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let mut ranks = vec![0.0; x.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && x[order[j + 1]] == x[order[i]] {
            j += 1;
        }
        let r = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            ranks[k] = r;
        }
        i = j + 1;
    }
    ranks
}

fn check(numerator: &[f64], denominator: &[f64], options: &Options) -> Result<()> {
    if numerator.is_empty() {
        return Err(Error::Empty { field: "numerator" });
    }
    check_length("denominator", denominator.len(), "numerator", numerator.len())?;
    check_counts("numerator", numerator)?;
    check_counts("denominator", denominator)?;
    crate::check_positive("denominator", denominator)?;
    for (index, (&o, &d)) in numerator.iter().zip(denominator).enumerate() {
        let broken = match options.data_type {
            DataType::Ratio(SrMethod::Shmi) => {
                (o <= 0.0).then_some("the SHMI method's log scale needs a numerator above 0")
            }
            DataType::Proportion => {
                (o > d).then_some("a proportion's numerator must not exceed its denominator")
            }
            _ => None,
        };
        if let Some(rule) = broken {
            return Err(Error::Value {
                field: "numerator",
                index,
                value: o,
                rule,
            });
        }
    }
    if matches!(options.data_type, DataType::RatioOfCounts) && numerator.iter().sum::<f64>() <= 0.0 {
        return Err(Error::Option {
            field: "numerator",
            value: "0".into(),
            rule: "a ratio of counts needs at least one event in the numerator",
        });
    }
    if !(0.0..0.5).contains(&options.trim_by) {
        return Err(Error::Option {
            field: "trim_by",
            value: options.trim_by.to_string(),
            rule: "must be at least 0 and below 0.5",
        });
    }
    if !(options.multiplier > 0.0 && options.multiplier.is_finite()) {
        return Err(Error::Option {
            field: "multiplier",
            value: options.multiplier.to_string(),
            rule: "must be a finite number above 0",
        });
    }
    Ok(())
}

/// Draws the funnel of `numerator / denominator` for each unit.
pub fn funnel(numerator: &[f64], denominator: &[f64], options: &Options) -> Result<Funnel> {
    check(numerator, denominator, options)?;
    let total = numerator.iter().sum::<f64>() / denominator.iter().sum::<f64>();
    let (target, target_t) = match options.data_type {
        DataType::Ratio(SrMethod::Shmi) => (1.0, 0.0),
        DataType::Ratio(SrMethod::Cqc) => (1.0, 1.0),
        DataType::Proportion => (total, total.sqrt().asin()),
        DataType::RatioOfCounts => (total, total.ln()),
    };
    // Transform each unit.
    let mut units: Vec<(f64, f64, f64, f64)> = Vec::with_capacity(numerator.len());
    for (&o, &e) in numerator.iter().zip(denominator) {
        let rr = o / e;
        let (y, s) = match options.data_type {
            DataType::Ratio(SrMethod::Shmi) => (rr.ln(), 1.0 / e.sqrt()),
            DataType::Ratio(SrMethod::Cqc) => (rr.sqrt(), 1.0 / (2.0 * e.sqrt())),
            DataType::Proportion => (rr.sqrt().asin(), 1.0 / (2.0 * e.sqrt())),
            DataType::RatioOfCounts => (
                ((o + 0.5) / (e + 0.5)).ln(),
                (o / (o + 0.5).powi(2) + e / (e + 0.5).powi(2)).sqrt(),
            ),
        };
        let z = match options.data_type {
            DataType::Ratio(SrMethod::Shmi) => e.sqrt() * rr.ln(),
            _ => (y - target_t) / s,
        };
        units.push((rr, y, s, z));
    }
    let z: Vec<f64> = units.iter().map(|u| u.3).collect();
    let wz: Vec<Option<f64>> = match options.data_type {
        DataType::Ratio(SrMethod::Shmi) => {
            let k = 1.0 / options.trim_by;
            let ranks = average_ranks(&z);
            let n1 = z.len() as f64 + 1.0;
            z.iter()
                .zip(&ranks)
                .map(|(&zi, &r)| {
                    let sp = (r * k / n1).floor();
                    (sp > 0.0 && sp < k - 1.0).then_some(zi)
                })
                .collect()
        }
        _ => {
            let mut sorted = z.clone();
            sorted.sort_by(f64::total_cmp);
            let lz = quantile7(&sorted, options.trim_by);
            let uz = quantile7(&sorted, 1.0 - options.trim_by);
            z.iter().map(|&zi| Some(zi.clamp(lz, uz))).collect()
        }
    };
    let kept: Vec<(f64, f64)> = wz
        .iter()
        .zip(&units)
        .filter_map(|(w, u)| w.map(|w| (w, u.2)))
        .collect();
    let n = kept.len() as f64;
    let phi = if kept.is_empty() {
        f64::NAN
    } else {
        kept.iter().map(|(w, _)| w * w).sum::<f64>() / n
    };
    let tau2 = if kept.is_empty() || n * phi < n - 1.0 {
        0.0
    } else {
        let w: Vec<f64> = kept.iter().map(|(_, s)| 1.0 / (s * s)).collect();
        let sw: f64 = w.iter().sum();
        let sw2: f64 = w.iter().map(|x| x * x).sum();
        let spread = sw - sw2 / sw;
        // One unit (or units of equal weight only) carries no between-unit information.
        if spread > 0.0 {
            ((n * phi - (n - 1.0)) / spread).max(0.0)
        } else {
            0.0
        }
    };

    let m = options.multiplier;
    let units = units
        .into_iter()
        .zip(wz)
        .zip(denominator)
        .map(|(((rr, y, s, uz), wuz), &e)| {
            let poisson = if tau2 > 0.0 && !options.poisson_limits {
                Limits {
                    lower95: f64::NAN,
                    upper95: f64::NAN,
                    lower998: f64::NAN,
                    upper998: f64::NAN,
                }
            } else {
                Limits {
                    lower95: m * target * qchisq(0.975, 2.0 * e, false) / 2.0 / e,
                    upper95: m * target * qchisq(0.025, 2.0 * (e + 1.0), false) / 2.0 / e,
                    lower998: m * target * qchisq(0.999, 2.0 * e, false) / 2.0 / e,
                    upper998: m * target * qchisq(0.001, 2.0 * (e + 1.0), false) / 2.0 / e,
                }
            };
            let sd = (s * s + tau2).sqrt();
            let back = |z: f64| -> f64 {
                m * match options.data_type {
                    DataType::Ratio(SrMethod::Shmi) => (target_t + z * sd).exp(),
                    DataType::Ratio(SrMethod::Cqc) => match options.cqc_limits {
                        CqcLimits::Squared => (target_t + z * sd).max(0.0).powi(2),
                        CqcLimits::FunnelPlotR => target_t + z * sd,
                    },
                    DataType::Proportion => (target_t + z * sd).clamp(0.0, FRAC_PI_2).sin().powi(2),
                    DataType::RatioOfCounts => (target_t + z * sd).exp(),
                }
            };
            let overdispersed = Limits {
                lower95: back(-Z95),
                upper95: back(Z95),
                lower998: back(-Z998),
                upper998: back(Z998),
            };
            let judged = if tau2 > 0.0 { overdispersed } else { poisson };
            let v = m * rr;
            Unit {
                rr,
                y,
                s,
                uzscore: uz,
                wuzscore: wuz,
                poisson,
                overdispersed,
                outlier95: v < judged.lower95 || v > judged.upper95,
                outlier998: v < judged.lower998 || v > judged.upper998,
            }
        })
        .collect();
    Ok(Funnel {
        target,
        phi,
        tau2,
        n_used_for_phi: kept.len(),
        units,
    })
}

#[cfg(test)]
mod tests;
