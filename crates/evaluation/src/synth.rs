//! Synthetic control (Abadie, Diamond and Hainmueller 2010): donor weights on the simplex that
//! best reproduce the treated unit before it was treated, the gap after, and in-space placebo
//! inference. The interface of `footprint evaluate synth` (docs/evaluation.md).

use crate::linalg::Mat;
use crate::simplex;
use crate::{Error, Result};
use serde::de::{Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A JSON object read in its own order (predictor names pair with the diagonal of `V` by
/// position).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ordered<V>(pub Vec<(String, V)>);

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Ordered<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Vis<V>(std::marker::PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for Vis<V> {
            type Value = Ordered<V>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, V>()? {
                    if out.iter().any(|(x, _): &(String, V)| *x == k) {
                        return Err(serde::de::Error::custom(format!("`{k}` appears twice")));
                    }
                    out.push((k, v));
                }
                Ok(Ordered(out))
            }
        }
        d.deserialize_map(Vis(std::marker::PhantomData))
    }
}

impl<V> Ordered<V> {
    pub fn get(&self, k: &str) -> Option<&V> {
        self.0.iter().find(|(x, _)| x == k).map(|(_, v)| v)
    }
}

/// How predictors are weighted.
#[derive(Debug, Clone, PartialEq)]
pub enum VChoice {
    /// Fit the pre-period outcomes themselves (V = identity, unstandardised).
    Outcome,
    /// A fixed diagonal, one weight per predictor, in the predictors' order.
    Diagonal(Vec<f64>),
    /// The diagonal (normalised to sum to one) that minimises the pre-period outcome MSPE.
    Nested,
}

impl<'de> Deserialize<'de> for VChoice {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Name(String),
            Diagonal(Vec<f64>),
        }
        match Raw::deserialize(d)? {
            Raw::Name(s) if s == "outcome" => Ok(VChoice::Outcome),
            Raw::Name(s) if s == "nested" => Ok(VChoice::Nested),
            Raw::Name(s) => Err(serde::de::Error::custom(format!(
                "v: `{s}` is not \"outcome\", \"nested\" or a list of weights"
            ))),
            Raw::Diagonal(v) => Ok(VChoice::Diagonal(v)),
        }
    }
}

/// The request of `footprint evaluate synth`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    /// Each unit's outcome by period (every unit the same number of periods).
    pub outcome: Ordered<Vec<f64>>,
    pub treated: String,
    pub donors: Vec<String>,
    /// Periods before treatment (the first `pre_periods` values).
    pub pre_periods: usize,
    /// Predictor name → unit → value.
    #[serde(default)]
    pub predictors: Option<Ordered<Ordered<f64>>>,
    /// `"outcome"` (the default without predictors), a diagonal, or `"nested"` (the default
    /// with predictors).
    #[serde(default)]
    pub v: Option<VChoice>,
    #[serde(default)]
    pub placebo: bool,
    /// Fit de-meaned outcomes (each unit's pre-period mean taken off): for a treated unit
    /// outside the donors' hull (Ferman and Pinto 2021).
    #[serde(default)]
    pub demean: bool,
}

/// Placebo inference.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Placebo {
    /// Post/pre RMSPE ratio of every unit, the treated unit and each donor treated in turn from
    /// the other donors (null where it could not be fitted, or was fitted exactly: see
    /// `infinite`).
    pub ratios: BTreeMap<String, Option<f64>>,
    /// Units fitted exactly before but not after (an infinite ratio, at least any other).
    pub infinite: Vec<String>,
    /// Each unit's pre-period RMSPE in its placebo fit.
    pub pre_rmspe: BTreeMap<String, Option<f64>>,
    /// Units (treated included) whose ratio is at least the treated unit's, over donors + 1.
    pub p_value_rmspe_ratio: f64,
}

/// The response.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Response {
    pub weights: BTreeMap<String, f64>,
    pub synthetic: Vec<f64>,
    /// Treated − synthetic, every period.
    pub gap: Vec<f64>,
    pub att_mean_post_gap: f64,
    pub pre_mspe: f64,
    pub pre_rmspe: f64,
    pub post_mspe: f64,
    pub post_rmspe: f64,
    /// Post/pre RMSPE; null when the pre-period fit is exact (infinite ratio, or no gap at all).
    pub rmspe_ratio: Option<f64>,
    /// The minimised `(X₁ − X₀w)ᵀ V (X₁ − X₀w)`: standardised predictors and the V used, or the
    /// sum of squared pre-period gaps with `"v": "outcome"`.
    pub loss_w: f64,
    /// The diagonal of V used (normalised to sum to one when nested); null with `"outcome"`.
    pub v: Option<Vec<f64>>,
    /// Whether the weights are identified. When they are not, the fit is what is identified
    /// (and the effect, wherever the tied donors agree after treatment); the weights shown are,
    /// with predictors, those among the optimal ones that best reproduce the pre-period
    /// outcomes, and otherwise (or still tied) the least-norm optimal ones.
    pub unique: bool,
    /// Whether the treated unit lies outside the donors' range before treatment (above the
    /// highest or below the lowest donor in more than half the pre-period, or a pre-period gap
    /// of one sign on average larger than half the RMSPE).
    pub outside_hull: bool,
    pub demeaned: bool,
    pub warnings: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub placebo: Option<Placebo>,
}

/// One fit.
#[derive(Debug, Clone)]
pub struct Fit {
    pub weights: Vec<f64>,
    pub synthetic: Vec<f64>,
    pub gap: Vec<f64>,
    pub pre_mspe: f64,
    pub post_mspe: f64,
    pub loss_w: f64,
    pub v: Option<Vec<f64>>,
    pub unique: bool,
}

impl Fit {
    pub fn pre_rmspe(&self) -> f64 {
        self.pre_mspe.sqrt()
    }
    pub fn post_rmspe(&self) -> f64 {
        self.post_mspe.sqrt()
    }
    /// Post/pre RMSPE. When the pre-period fit is exact (an RMSPE below 1e-9 of the outcome's
    /// scale) the ratio is infinite if the post-period gap is not also zero, and undefined
    /// (None: the unit is reproduced exactly throughout, no effect) if it is.
    pub fn ratio(&self) -> Option<f64> {
        let pre = self.pre_rmspe();
        let post = self.post_rmspe();
        let scale = self
            .synthetic
            .iter()
            .fold(0.0f64, |m, v| m.max(v.abs()))
            .max(1e-300);
        let tiny = 1e-9 * scale;
        if pre > tiny {
            Some(post / pre)
        } else if post > tiny {
            Some(f64::INFINITY)
        } else {
            None
        }
    }
    pub fn att(&self, t0: usize) -> f64 {
        let post = &self.gap[t0..];
        post.iter().sum::<f64>() / post.len() as f64
    }
}

/// A problem in matrix form: the treated unit's series, the donors' series, and predictors as
/// rows (one per predictor: treated value, then donors' values).
#[derive(Debug, Clone)]
pub struct Problem<'a> {
    pub y1: &'a [f64],
    pub y0: Vec<&'a [f64]>,
    pub t0: usize,
    /// (treated, donors) values of each predictor.
    pub x: Vec<(f64, Vec<f64>)>,
    pub v: VChoice,
    pub demean: bool,
}

fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

fn sd1(x: &[f64]) -> f64 {
    let m = mean(x);
    (x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (x.len() as f64 - 1.0)).sqrt()
}

impl Problem<'_> {
    /// The predictors standardised by their SD across the treated unit and the donors (ddof 1).
    fn standardised(&self) -> Vec<(f64, Vec<f64>)> {
        self.x
            .iter()
            .map(|(x1, x0)| {
                let all: Vec<f64> = std::iter::once(*x1).chain(x0.iter().copied()).collect();
                let sd = sd1(&all);
                let s = if sd > 0.0 && sd.is_finite() { sd } else { 1.0 };
                (x1 / s, x0.iter().map(|v| v / s).collect())
            })
            .collect()
    }

    /// The outcome series used for the fit (de-meaned when asked).
    fn series(&self) -> (Vec<f64>, Vec<Vec<f64>>) {
        let adjust = |y: &[f64]| -> Vec<f64> {
            if self.demean {
                let m = mean(&y[..self.t0]);
                y.iter().map(|v| v - m).collect()
            } else {
                y.to_vec()
            }
        };
        (adjust(self.y1), self.y0.iter().map(|y| adjust(y)).collect())
    }

    /// Solves for the weights given V's diagonal over the standardised predictors, or on the
    /// pre-period outcomes when `v` is None.
    fn weights(&self, v: Option<&[f64]>, xs: &[(f64, Vec<f64>)]) -> (Vec<f64>, f64, bool) {
        let j = self.y0.len();
        let (a, b) = match v {
            None => {
                let (y1, y0) = self.series();
                let cols: Vec<Vec<f64>> = y0.iter().map(|y| y[..self.t0].to_vec()).collect();
                (Mat::from_cols(&cols, self.t0), y1[..self.t0].to_vec())
            }
            Some(v) => {
                let mut a = Mat::zeros(xs.len(), j);
                let mut b = vec![0.0; xs.len()];
                for (k, ((x1, x0), vk)) in xs.iter().zip(v).enumerate() {
                    let s = vk.sqrt();
                    b[k] = s * x1;
                    for (d, x) in x0.iter().enumerate() {
                        a.set(k, d, s * x);
                    }
                }
                (a, b)
            }
        };
        let sol = simplex::solve(&a, &b);
        let w = if sol.unique {
            sol.w
        } else if v.is_some() {
            // Predictor weights that tie (the treated unit inside the donors' hull in predictor
            // space): among them, the ones that best reproduce the pre-period outcomes — the
            // predictor fit kept to a relative 1e-9 by weighting it 1e5 times the outcomes.
            let (y1, y0) = self.series();
            let norm = |m: &Mat| m.data.iter().map(|x| x * x).sum::<f64>().sqrt().max(1e-300);
            let z = Mat::from_cols(
                &y0.iter().map(|y| y[..self.t0].to_vec()).collect::<Vec<_>>(),
                self.t0,
            );
            let k = 1e5 * norm(&z) / norm(&a);
            let rows = a.rows + self.t0;
            let mut stacked = Mat::zeros(rows, j);
            for d in 0..j {
                let col = stacked.col_mut(d);
                for (i, x) in a.col(d).iter().enumerate() {
                    col[i] = k * x;
                }
                col[a.rows..].copy_from_slice(z.col(d));
            }
            let mut rhs: Vec<f64> = b.iter().map(|x| k * x).collect();
            rhs.extend_from_slice(&y1[..self.t0]);
            let tie = simplex::solve(&stacked, &rhs);
            let support: Vec<usize> = (0..j).collect();
            if tie.unique {
                tie.w
            } else {
                simplex::least_norm_optimal(&stacked, &tie.w, &support)
            }
        } else {
            let support: Vec<usize> = (0..j).collect();
            simplex::least_norm_optimal(&a, &sol.w, &support)
        };
        let r: Vec<f64> = a.mul_vec(&w).iter().zip(&b).map(|(p, q)| p - q).collect();
        (w, crate::linalg::dot(&r, &r), sol.unique)
    }

    fn outcome_fit(&self, w: &[f64]) -> (Vec<f64>, Vec<f64>, f64, f64) {
        let t = self.y1.len();
        let (m1, m0): (f64, Vec<f64>) = if self.demean {
            (
                mean(&self.y1[..self.t0]),
                self.y0.iter().map(|y| mean(&y[..self.t0])).collect(),
            )
        } else {
            (0.0, vec![0.0; self.y0.len()])
        };
        let synthetic: Vec<f64> = (0..t)
            .map(|p| {
                m1 + self
                    .y0
                    .iter()
                    .zip(w)
                    .zip(&m0)
                    .map(|((y, w), m)| w * (y[p] - m))
                    .sum::<f64>()
            })
            .collect();
        let gap: Vec<f64> = self.y1.iter().zip(&synthetic).map(|(a, b)| a - b).collect();
        let pre = gap[..self.t0].iter().map(|g| g * g).sum::<f64>() / self.t0 as f64;
        let post = gap[self.t0..].iter().map(|g| g * g).sum::<f64>() / (t - self.t0) as f64;
        (synthetic, gap, pre, post)
    }

    fn fit_with(&self, v: Option<&[f64]>, xs: &[(f64, Vec<f64>)]) -> Fit {
        let (w, loss_w, unique) = self.weights(v, xs);
        let (synthetic, gap, pre_mspe, post_mspe) = self.outcome_fit(&w);
        Fit {
            weights: w,
            synthetic,
            gap,
            pre_mspe,
            post_mspe,
            loss_w,
            v: v.map(<[f64]>::to_vec),
            unique,
        }
    }

    /// Fits the problem.
    pub fn fit(&self) -> Fit {
        match &self.v {
            VChoice::Outcome => self.fit_with(None, &[]),
            VChoice::Diagonal(v) => self.fit_with(Some(v), &self.standardised()),
            VChoice::Nested => self.nested(),
        }
    }

    /// V chosen to minimise the pre-period outcome MSPE of the weights it gives: Nelder–Mead
    /// over `|x| / Σ|x|` from several starts (equal weights, the regression start of the Synth
    /// package, and each predictor favoured in turn), keeping the best.
    fn nested(&self) -> Fit {
        let xs = self.standardised();
        let k = xs.len();
        let normal = |x: &[f64]| -> Vec<f64> {
            let s: f64 = x.iter().map(|v| v.abs()).sum();
            if s > 0.0 {
                x.iter().map(|v| v.abs() / s).collect()
            } else {
                vec![1.0 / k as f64; k]
            }
        };
        let objective = |x: &[f64]| -> f64 {
            let v = normal(x);
            self.fit_with(Some(&v), &xs).pre_mspe
        };
        let mut starts: Vec<Vec<f64>> = vec![vec![1.0 / k as f64; k]];
        if let Some(s) = self.regression_start(&xs) {
            starts.push(s);
        }
        if k > 1 {
            for i in 0..k {
                let mut s = vec![0.5 / (k - 1) as f64; k];
                s[i] = 0.5;
                starts.push(s);
            }
        }
        let mut best: Option<(f64, Vec<f64>)> = None;
        for s in starts {
            let (x, f) = crate::optim::nelder_mead(&objective, &s, 1e-9, 1500);
            if best.as_ref().is_none_or(|b| f < b.0 - 1e-15) {
                best = Some((f, x));
            }
        }
        let v = normal(&best.map(|b| b.1).unwrap_or_else(|| vec![1.0; k]));
        self.fit_with(Some(&v), &xs)
    }

    /// Synth's regression start: the squared coefficients of the pre-period outcomes regressed
    /// on the standardised predictors across units, normalised.
    fn regression_start(&self, xs: &[(f64, Vec<f64>)]) -> Option<Vec<f64>> {
        let units = self.y0.len() + 1;
        let k = xs.len();
        if units <= k + 1 {
            return None;
        }
        let mut x = Mat::zeros(units, k + 1);
        for u in 0..units {
            x.set(u, 0, 1.0);
            for (p, (x1, x0)) in xs.iter().enumerate() {
                x.set(u, p + 1, if u == 0 { *x1 } else { x0[u - 1] });
            }
        }
        let d = crate::linalg::svd(&x);
        if d.rank(crate::linalg::RANK_TOL) < k + 1 {
            return None;
        }
        let mut diag = vec![0.0; k];
        for t in 0..self.t0 {
            let z: Vec<f64> = (0..units)
                .map(|u| if u == 0 { self.y1[t] } else { self.y0[u - 1][t] })
                .collect();
            let beta = d.solve(&z, crate::linalg::RANK_TOL);
            for p in 0..k {
                diag[p] += beta[p + 1] * beta[p + 1];
            }
        }
        let s: f64 = diag.iter().sum();
        (s > 0.0).then(|| diag.iter().map(|d| d / s).collect())
    }

    /// Whether the treated unit is outside the donors' range before treatment.
    fn outside(&self, fit: &Fit) -> bool {
        if self.y0.is_empty() {
            return false;
        }
        let beyond = (0..self.t0)
            .filter(|&t| {
                let (lo, hi) = self
                    .y0
                    .iter()
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), y| {
                        (lo.min(y[t]), hi.max(y[t]))
                    });
                self.y1[t] > hi || self.y1[t] < lo
            })
            .count();
        let bias = mean(&fit.gap[..self.t0]).abs();
        2 * beyond > self.t0 || (fit.pre_rmspe() > 0.0 && bias > 0.5 * fit.pre_rmspe())
    }
}

fn refuse(msg: impl Into<String>) -> Error {
    Error::Refused(msg.into())
}

fn series<'a>(req: &'a Request, unit: &str) -> Result<&'a [f64]> {
    let y = req
        .outcome
        .get(unit)
        .ok_or_else(|| refuse(format!("outcome: unit `{unit}` has no series")))?;
    if let Some(p) = y.iter().position(|v| !v.is_finite()) {
        return Err(refuse(format!("outcome.{unit}[{p}]: not a finite number")));
    }
    Ok(y)
}

/// Checks a request and builds the problem for one treated unit and its donors.
fn problem<'a>(req: &'a Request, treated: &str, donors: &[&str]) -> Result<Problem<'a>> {
    let y1 = series(req, treated)?;
    let t = y1.len();
    if req.pre_periods == 0 || req.pre_periods >= t {
        return Err(refuse(format!(
            "pre_periods: {} must be at least 1 and less than the {t} periods of `{treated}`",
            req.pre_periods
        )));
    }
    let mut y0 = Vec::new();
    for d in donors {
        let y = series(req, d)?;
        if y.len() != t {
            return Err(refuse(format!(
                "outcome.{d}: {} periods, but `{treated}` has {t}",
                y.len()
            )));
        }
        y0.push(y);
    }
    let mut x = Vec::new();
    if let Some(preds) = &req.predictors {
        for (name, values) in &preds.0 {
            let get = |u: &str| -> Result<f64> {
                let v = values
                    .get(u)
                    .ok_or_else(|| refuse(format!("predictors.{name}: no value for unit `{u}`")))?;
                if v.is_finite() {
                    Ok(*v)
                } else {
                    Err(refuse(format!("predictors.{name}.{u}: not a finite number")))
                }
            };
            let x1 = get(treated)?;
            let x0 = donors.iter().map(|d| get(d)).collect::<Result<Vec<_>>>()?;
            x.push((x1, x0));
        }
    }
    let v = match (&req.v, x.is_empty()) {
        (None, true) | (Some(VChoice::Outcome), _) => VChoice::Outcome,
        (None, false) => VChoice::Nested,
        (Some(VChoice::Nested), true) | (Some(VChoice::Diagonal(_)), true) => {
            return Err(refuse("v: a diagonal or \"nested\" needs predictors"));
        }
        (Some(VChoice::Diagonal(d)), false) => {
            if d.len() != x.len() {
                return Err(refuse(format!(
                    "v: {} weights for {} predictors (one per predictor, in the predictors' order)",
                    d.len(),
                    x.len()
                )));
            }
            if let Some(bad) = d.iter().find(|v| !v.is_finite() || **v < 0.0) {
                return Err(refuse(format!("v: {bad} is not a non-negative number")));
            }
            if d.iter().all(|v| *v == 0.0) {
                return Err(refuse("v: every weight is zero"));
            }
            VChoice::Diagonal(d.clone())
        }
        (Some(VChoice::Nested), false) => VChoice::Nested,
    };
    Ok(Problem {
        y1,
        y0,
        t0: req.pre_periods,
        x,
        v,
        demean: req.demean,
    })
}

/// Answers a request.
pub fn run(req: &Request) -> Result<Response> {
    if req.donors.is_empty() {
        return Err(refuse("donors: at least one donor is needed"));
    }
    for (i, d) in req.donors.iter().enumerate() {
        if *d == req.treated {
            return Err(refuse(format!("donors: `{d}` is the treated unit")));
        }
        if req.donors[..i].contains(d) {
            return Err(refuse(format!("donors: `{d}` is listed twice")));
        }
    }
    let donors: Vec<&str> = req.donors.iter().map(String::as_str).collect();
    let p = problem(req, &req.treated, &donors)?;
    let fit = p.fit();
    let t0 = req.pre_periods;
    let outside_hull = p.outside(&fit);
    let mut warnings = Vec::new();
    if outside_hull && !req.demean {
        warnings.push(format!(
            "`{}` lies outside the donors' hull before treatment (pre-period RMSPE {:.4}): no weighted average of donors reproduces it; consider the de-meaned variant (\"demean\": true), which matches changes rather than levels",
            req.treated,
            fit.pre_rmspe()
        ));
    }
    if !fit.unique {
        warnings.push(
            "the optimal weights are not unique (donors that are exact combinations of others): the weights shown are the least-norm optimal ones; the fit is identified, and so is the effect wherever tied donors agree after treatment".into(),
        );
    }
    let placebo = req.placebo.then(|| placebos(req, &fit)).transpose()?;
    Ok(Response {
        weights: req
            .donors
            .iter()
            .cloned()
            .zip(fit.weights.iter().copied())
            .collect(),
        synthetic: fit.synthetic.clone(),
        gap: fit.gap.clone(),
        att_mean_post_gap: fit.att(t0),
        pre_mspe: fit.pre_mspe,
        pre_rmspe: fit.pre_rmspe(),
        post_mspe: fit.post_mspe,
        post_rmspe: fit.post_rmspe(),
        rmspe_ratio: fit.ratio().filter(|r| r.is_finite()),
        loss_w: fit.loss_w,
        v: fit.v.clone(),
        unique: fit.unique,
        outside_hull,
        demeaned: req.demean,
        warnings,
        placebo,
    })
}

/// In-space placebos: each donor treated in turn from the other donors (never the real treated
/// unit), with the same V rule.
fn placebos(req: &Request, fit: &Fit) -> Result<Placebo> {
    let mut ratios: BTreeMap<String, Option<f64>> = BTreeMap::new();
    let mut pre = BTreeMap::new();
    ratios.insert(req.treated.clone(), fit.ratio());
    pre.insert(req.treated.clone(), Some(fit.pre_rmspe()));
    for d in &req.donors {
        let others: Vec<&str> = req
            .donors
            .iter()
            .filter(|x| *x != d)
            .map(String::as_str)
            .collect();
        if others.is_empty() {
            ratios.insert(d.clone(), None);
            pre.insert(d.clone(), None);
            continue;
        }
        let p = problem(req, d, &others)?;
        let f = p.fit();
        ratios.insert(d.clone(), f.ratio());
        pre.insert(d.clone(), Some(f.pre_rmspe()));
    }
    // An undefined ratio (no gap before or after) counts as zero: no sign of an effect.
    let treated = fit.ratio().unwrap_or(0.0);
    let at_least = |r: &Option<f64>| -> bool { r.unwrap_or(0.0) >= treated * (1.0 - 1e-9) };
    // The treated unit always counts itself.
    let count = 1 + req.donors.iter().filter(|d| at_least(&ratios[*d])).count();
    let infinite = ratios
        .iter()
        .filter(|(_, r)| r.is_some_and(f64::is_infinite))
        .map(|(k, _)| k.clone())
        .collect();
    // JSON has no infinity: infinite ratios are written as null and listed in `infinite`.
    let ratios = ratios
        .into_iter()
        .map(|(k, r)| (k, r.filter(|x| x.is_finite())))
        .collect();
    Ok(Placebo {
        infinite,
        ratios,
        pre_rmspe: pre,
        p_value_rmspe_ratio: count as f64 / (req.donors.len() + 1) as f64,
    })
}
