//! The person-level need model: annual hospital cost against age–sex band, deprivation and
//! long-term conditions (each condition, and the count of them), fitted as a Poisson GLM with a
//! log link by iteratively reweighted least squares.
//!
//! Why a Poisson (quasi-likelihood) GLM and not weighted least squares or a Tweedie GLM: costs
//! are skewed, most people cost nothing in a year, and the effects multiply (a condition raises
//! cost by a factor, whatever the age). The log link gives multiplicative effects and positive
//! predictions; the Poisson score equations are unbiased for the mean whatever the variance
//! really is, so zeros and very large costs need no special treatment, and the fitted total
//! equals the observed total exactly (every person has an age–sex cell, and the cells are the
//! intercepts). A Tweedie fit would weight large costs differently for efficiency, not
//! consistency; least squares on raw costs gives negative predictions and additive effects.
//!
//! The fit runs on sparse rows: each person has one age–sex cell, a deprivation score, and a
//! few conditions, so a Fisher scoring step costs a few dozen operations per person.

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Float64Type, Int64Type};
use model::Month;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// The 19 age bands of the data contract.
pub const BANDS: [&str; 19] = [
    "0-4", "5-9", "10-14", "15-19", "20-24", "25-29", "30-34", "35-39", "40-44", "45-49", "50-54", "55-59",
    "60-64", "65-69", "70-74", "75-79", "80-84", "85-89", "90+",
];
pub const SEXES: [&str; 2] = ["female", "male"];
/// Count-of-conditions terms beyond the conditions' own effects: 2, 3, and 4 or more.
pub const COUNTS: [&str; 3] = ["2", "3", "4+"];
const CELLS: usize = 38;

/// Casts a result column to the type the model reads.
fn cast(a: &arrow::array::ArrayRef, to: &DataType) -> Result<arrow::array::ArrayRef, NeedError> {
    arrow::compute::cast(a, to).map_err(|e| NeedError::Data(format!("reading the persons: {e}")))
}

#[derive(Debug, thiserror::Error)]
pub enum NeedError {
    #[error("{0}")]
    Engine(#[from] engine::Error),
    #[error("the dataset needs table {0} for the need model")]
    Missing(&'static str),
    #[error("{0}")]
    Data(String),
    #[error("the fit did not converge: {0}")]
    Fit(String),
}

/// Every person registered for the whole base year, with what the model needs.
#[derive(Debug, Default)]
pub struct Persons {
    pub year: String,
    /// Condition names, in bit order of `mask`.
    pub conditions: Vec<String>,
    pub practices: Vec<String>,
    pub practice: Vec<u32>,
    /// `sex * 19 + band` (sex 0 female, 1 male; band of the age at the year's start).
    pub cell: Vec<u8>,
    /// 0 (least deprived LSOA in the dataset) to 1 (most).
    pub deprivation: Vec<f32>,
    pub mask: Vec<u64>,
    /// Cost of admissions and outpatient appointments in the base year, in pounds.
    pub cost: Vec<f64>,
    /// The patients' identifiers as the dataset writes them.
    pub ids: Vec<String>,
}

impl Persons {
    pub fn len(&self) -> usize {
        self.cost.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cost.is_empty()
    }

    /// Reads the base year starting at `fy_start` from the dataset through the engine.
    /// `keep_ids` keeps each patient's identifier, for person-level scores.
    ///
    /// The tables are streamed, not joined: the registered patients first (each gets a slot),
    /// then the year's spell and appointment costs and the conditions are added to the slots
    /// by patient. At full scale that is 60 million people and 300 million cost rows, which a
    /// SQL join and group-by would hold several times over in memory.
    pub fn read(engine: &engine::Engine, fy_start: Month, keep_ids: bool) -> Result<Persons, NeedError> {
        for t in ["patients", "lsoa", "admissions"] {
            if !engine.has_table(t) {
                return Err(NeedError::Missing(t));
            }
        }
        let (start, end) = (fy_start.first_day(), fy_start.plus(11).last_day());
        let (s, e) = (
            format!("DATE '{}'", model::format_date(start)),
            format!("DATE '{}'", model::format_date(end)),
        );
        let mut p = Persons {
            year: model::Period::Year(fy_start.financial_year()).to_string(),
            ..Persons::default()
        };
        let mut failure: Option<NeedError> = None;
        let mut fail = |e: NeedError| {
            if failure.is_none() {
                failure = Some(e);
            }
        };

        // Deprivation of every LSOA: 0 least deprived, 1 most.
        let mut deprivation: HashMap<String, f32> = HashMap::new();
        engine.for_each_batch(
            "SELECT CAST(lsoa_code AS VARCHAR), CAST(imd_rank AS DOUBLE) FROM lsoa",
            |b| match (
                cast(b.column(0), &DataType::Utf8),
                cast(b.column(1), &DataType::Float64),
            ) {
                (Ok(c), Ok(r)) => {
                    let (c, r) = (c.as_string::<i32>(), r.as_primitive::<Float64Type>());
                    for i in 0..b.num_rows() {
                        deprivation.insert(c.value(i).to_string(), r.value(i) as f32);
                    }
                }
                (Err(e), _) | (_, Err(e)) => fail(e),
            },
        )?;
        let n = deprivation.len().saturating_sub(1).max(1) as f32;
        for v in deprivation.values_mut() {
            *v = (1.0 - (*v - 1.0) / n).clamp(0.0, 1.0);
        }

        // Everyone registered for the whole year.
        let mut slots = Slots::default();
        let mut practices: HashMap<String, u32> = HashMap::new();
        let sql = format!(
            "SELECT patient_id, CAST(practice_code AS VARCHAR), CAST(sex AS VARCHAR),                 CAST({y} AS BIGINT) - CAST(birth_year AS BIGINT), CAST(lsoa_code AS VARCHAR)              FROM patients WHERE registered_from <= {s} AND (registered_to IS NULL OR registered_to >= {e})",
            y = fy_start.year(),
        );
        engine.for_each_batch(&sql, |b| {
            let cols = (
                cast(b.column(1), &DataType::Utf8),
                cast(b.column(2), &DataType::Utf8),
                cast(b.column(3), &DataType::Int64),
                cast(b.column(4), &DataType::Utf8),
            );
            let (Ok(pr), Ok(sex), Ok(age), Ok(lsoa)) = cols else {
                return fail(NeedError::Data("patients: unreadable columns".into()));
            };
            let (pr, sex, age, lsoa) = (
                pr.as_string::<i32>(),
                sex.as_string::<i32>(),
                age.as_primitive::<Int64Type>(),
                lsoa.as_string::<i32>(),
            );
            for i in 0..b.num_rows() {
                let next = practices.len() as u32;
                let code = pr.value(i);
                let k = match practices.get(code) {
                    Some(k) => *k,
                    None => {
                        practices.insert(code.to_string(), next);
                        p.practices.push(code.to_string());
                        next
                    }
                };
                p.practice.push(k);
                let band = (age.value(i).max(0) / 5).min(18) as u8;
                p.cell.push(if sex.value(i) == "M" { 19 + band } else { band });
                p.deprivation
                    .push(deprivation.get(lsoa.value(i)).copied().unwrap_or(0.5));
                p.mask.push(0);
                p.cost.push(0.0);
            }
            if let Err(e) = slots.add(b.column(0), keep_ids.then_some(&mut p.ids)) {
                fail(e);
            }
        })?;
        let slots = slots.finish();

        // The year's costs, added to their patients' slots (patients not registered all year
        // are not in the model).
        let mut costs = vec![format!(
            "SELECT patient_id, CAST(coalesce(cost, 0) AS DOUBLE) FROM admissions WHERE admission_date BETWEEN {s} AND {e}"
        )];
        if engine.has_table("outpatients") {
            costs.push(format!(
                "SELECT patient_id, CAST(coalesce(cost, 0) AS DOUBLE) FROM outpatients WHERE date BETWEEN {s} AND {e}"
            ));
        }
        for sql in &costs {
            engine.for_each_batch(sql, |b| match cast(b.column(1), &DataType::Float64) {
                Ok(c) => {
                    let c = c.as_primitive::<Float64Type>();
                    if let Err(e) = slots.each(b.column(0), |i, slot| p.cost[slot] += c.value(i)) {
                        fail(e);
                    }
                }
                Err(e) => fail(e),
            })?;
        }

        // Conditions diagnosed by the end of the year, as bits in the order of their names.
        if engine.has_table("conditions") {
            let mut names: Vec<String> = Vec::new();
            engine.for_each_batch(
                &format!(
                    "SELECT DISTINCT CAST(condition AS VARCHAR) FROM conditions WHERE diagnosed_on <= {e}"
                ),
                |b| match cast(b.column(0), &DataType::Utf8) {
                    Ok(c) => {
                        let c = c.as_string::<i32>();
                        names.extend(
                            (0..c.len())
                                .filter(|&i| c.is_valid(i))
                                .map(|i| c.value(i).to_string()),
                        );
                    }
                    Err(e) => fail(e),
                },
            )?;
            names.sort();
            if names.len() > 60 {
                return Err(NeedError::Data(format!(
                    "conditions: {} distinct conditions; the need model takes at most 60",
                    names.len()
                )));
            }
            let bit: HashMap<String, u64> = names
                .iter()
                .enumerate()
                .map(|(i, c)| (c.clone(), 1u64 << i))
                .collect();
            engine.for_each_batch(
                &format!(
                    "SELECT patient_id, CAST(condition AS VARCHAR) FROM conditions WHERE diagnosed_on <= {e}"
                ),
                |b| match cast(b.column(1), &DataType::Utf8) {
                    Ok(c) => {
                        let c = c.as_string::<i32>();
                        let r = slots.each(b.column(0), |i, slot| {
                            if c.is_valid(i) {
                                p.mask[slot] |= bit.get(c.value(i)).copied().unwrap_or(0);
                            }
                        });
                        if let Err(e) = r {
                            fail(e);
                        }
                    }
                    Err(e) => fail(e),
                },
            )?;
            p.conditions = names;
        }
        match failure {
            Some(e) => Err(e),
            None => Ok(p),
        }
    }
}

/// Where each registered patient's row is, by patient identifier: a dense table when the
/// identifiers are integers in a compact range (synthetic and most pseudonymised extracts),
/// a hash map otherwise.
#[derive(Default)]
struct Slots {
    ints: Vec<i64>,
    texts: Vec<String>,
}

enum Index {
    Dense { min: i64, slot: Vec<u32> },
    Ints(hashbrown::HashMap<i64, u32>),
    Texts(hashbrown::HashMap<String, u32>),
}

impl Slots {
    fn add(&mut self, ids: &arrow::array::ArrayRef, keep: Option<&mut Vec<String>>) -> Result<(), NeedError> {
        if let DataType::Int64 = ids.data_type() {
            let a = ids.as_primitive::<Int64Type>();
            self.ints.extend(a.values().iter().copied());
            if let Some(keep) = keep {
                keep.extend(a.values().iter().map(|v| v.to_string()));
            }
        } else {
            let a = cast(ids, &DataType::Utf8)?;
            let a = a.as_string::<i32>();
            for i in 0..a.len() {
                self.texts.push(a.value(i).to_string());
            }
            if let Some(keep) = keep {
                keep.extend((0..a.len()).map(|i| a.value(i).to_string()));
            }
        }
        Ok(())
    }

    fn finish(self) -> Index {
        if !self.texts.is_empty() {
            let mut m = hashbrown::HashMap::with_capacity(self.texts.len());
            for (i, t) in self.texts.into_iter().enumerate() {
                m.insert(t, i as u32);
            }
            return Index::Texts(m);
        }
        let (min, max) = self
            .ints
            .iter()
            .fold((i64::MAX, i64::MIN), |(a, b), &v| (a.min(v), b.max(v)));
        let span = (max as i128 - min as i128 + 1).max(0) as u128;
        if !self.ints.is_empty() && span <= 4 * self.ints.len() as u128 {
            let mut slot = vec![u32::MAX; span as usize];
            for (i, v) in self.ints.iter().enumerate() {
                slot[(v - min) as usize] = i as u32;
            }
            Index::Dense { min, slot }
        } else {
            let mut m = hashbrown::HashMap::with_capacity(self.ints.len());
            for (i, v) in self.ints.into_iter().enumerate() {
                m.insert(v, i as u32);
            }
            Index::Ints(m)
        }
    }
}

impl Index {
    /// Calls `f(row, slot)` for each row of `ids` whose patient has a slot.
    fn each(&self, ids: &arrow::array::ArrayRef, mut f: impl FnMut(usize, usize)) -> Result<(), NeedError> {
        match self {
            Index::Dense { min, slot } if ids.data_type() == &DataType::Int64 => {
                let a = ids.as_primitive::<Int64Type>();
                for (i, v) in a.values().iter().enumerate() {
                    if a.is_null(i) {
                        continue;
                    }
                    let k = v.wrapping_sub(*min);
                    if k >= 0
                        && let Some(&s) = slot.get(k as usize)
                        && s != u32::MAX
                    {
                        f(i, s as usize);
                    }
                }
            }
            Index::Ints(m) if ids.data_type() == &DataType::Int64 => {
                let a = ids.as_primitive::<Int64Type>();
                for (i, v) in a.values().iter().enumerate() {
                    if a.is_valid(i)
                        && let Some(&s) = m.get(v)
                    {
                        f(i, s as usize);
                    }
                }
            }
            Index::Texts(m) => {
                let a = cast(ids, &DataType::Utf8)?;
                let a = a.as_string::<i32>();
                for i in 0..a.len() {
                    if a.is_valid(i)
                        && let Some(&s) = m.get(a.value(i))
                    {
                        f(i, s as usize);
                    }
                }
            }
            _ => {
                // Integer patients, other identifiers here: compare as integers (text that is
                // not a number matches nobody).
                let a = cast(ids, &DataType::Int64)?;
                return self.each(&a, f);
            }
        }
        Ok(())
    }
}

/// A fitted need model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    pub format: u32,
    pub method: String,
    pub base_year: String,
    pub persons: u64,
    pub iterations: u32,
    /// Pearson dispersion φ: the variance of a person's cost is φ × its mean.
    pub dispersion: f64,
    /// Mean annual cost per person in the base year.
    pub mean_cost: f64,
    /// Log of the expected cost at deprivation 0 without conditions, by sex then band.
    pub age_sex: BTreeMap<String, BTreeMap<String, f64>>,
    pub deprivation: f64,
    pub conditions: BTreeMap<String, f64>,
    /// Extra log-cost for 2, 3, and 4 or more conditions.
    pub condition_count: BTreeMap<String, f64>,
    pub fit: Fit,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fit {
    /// Person-level R² of cost on predicted cost.
    pub r_squared: f64,
    /// Mean absolute error, pounds per person.
    pub mean_absolute_error: f64,
    /// By decile of predicted cost (1 lowest).
    pub deciles: Vec<Decile>,
    /// Observed over predicted cost by age band (both sexes).
    pub calibration_by_age: BTreeMap<String, f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decile {
    pub decile: u32,
    pub persons: u64,
    pub mean_predicted: f64,
    pub mean_observed: f64,
    pub mean_absolute_error: f64,
}

/// Column layout: 38 cells, deprivation, conditions, counts.
struct Layout {
    conditions: usize,
}

impl Layout {
    fn dep(&self) -> usize {
        CELLS
    }
    fn cond(&self, k: usize) -> usize {
        CELLS + 1 + k
    }
    fn count(&self, j: usize) -> usize {
        CELLS + 1 + self.conditions + j
    }
    fn width(&self) -> usize {
        CELLS + 1 + self.conditions + COUNTS.len()
    }
    /// The nonzero entries of a person's row.
    fn row(&self, cell: u8, dep: f32, mask: u64, out: &mut Vec<(usize, f64)>) {
        out.clear();
        out.push((cell as usize, 1.0));
        out.push((self.dep(), dep as f64));
        let mut m = mask;
        while m != 0 {
            let k = m.trailing_zeros() as usize;
            out.push((self.cond(k), 1.0));
            m &= m - 1;
        }
        let n = mask.count_ones();
        if n >= 2 {
            out.push((self.count((n.min(4) - 2) as usize), 1.0));
        }
    }
}

/// Σ over persons of the Fisher information and the score, for coefficients `beta`.
fn accumulate(p: &Persons, layout: &Layout, beta: &[f64]) -> (Vec<f64>, Vec<f64>, f64) {
    let w = layout.width();
    let chunk = 1 << 16;
    (0..p.len().div_ceil(chunk))
        .into_par_iter()
        .map(|c| {
            let mut h = vec![0.0; w * w];
            let mut g = vec![0.0; w];
            let mut dev = 0.0;
            let mut row = Vec::with_capacity(8);
            for i in c * chunk..((c + 1) * chunk).min(p.len()) {
                layout.row(p.cell[i], p.deprivation[i], p.mask[i], &mut row);
                let eta: f64 = row.iter().map(|&(j, v)| beta[j] * v).sum();
                let mu = eta.exp();
                let y = p.cost[i];
                dev += if y > 0.0 { y * (y / mu).ln() - (y - mu) } else { mu };
                for (a, &(ja, va)) in row.iter().enumerate() {
                    g[ja] += va * (y - mu);
                    for &(jb, vb) in &row[a..] {
                        h[ja * w + jb] += mu * va * vb;
                    }
                }
            }
            (h, g, dev)
        })
        .reduce(
            || (vec![0.0; w * w], vec![0.0; w], 0.0),
            |(mut h, mut g, d), (h2, g2, d2)| {
                h.iter_mut().zip(&h2).for_each(|(a, b)| *a += b);
                g.iter_mut().zip(&g2).for_each(|(a, b)| *a += b);
                (h, g, d + d2)
            },
        )
}

/// Solves the symmetric positive definite system `h x = g` (upper triangle of `h` filled) by
/// Cholesky; a column with no information (a condition nobody has) gets 0.
fn solve(mut h: Vec<f64>, g: &[f64], w: usize) -> Vec<f64> {
    for a in 0..w {
        for b in 0..a {
            h[a * w + b] = h[b * w + a];
        }
    }
    let scale = (0..w).map(|i| h[i * w + i]).fold(0.0_f64, f64::max).max(1e-300);
    let live: Vec<usize> = (0..w).filter(|&i| h[i * w + i] > scale * 1e-14).collect();
    let n = live.len();
    let mut l = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let mut s = h[live[i] * w + live[j]];
            for k in 0..j {
                s -= l[i * n + k] * l[j * n + k];
            }
            if i == j {
                l[i * n + i] = s.max(1e-300).sqrt();
            } else {
                l[i * n + j] = s / l[j * n + j];
            }
        }
    }
    let mut y = vec![0.0; n];
    for i in 0..n {
        let mut s = g[live[i]];
        for k in 0..i {
            s -= l[i * n + k] * y[k];
        }
        y[i] = s / l[i * n + i];
    }
    let mut x = vec![0.0; n];
    for i in (0..n).rev() {
        let mut s = y[i];
        for k in i + 1..n {
            s -= l[k * n + i] * x[k];
        }
        x[i] = s / l[i * n + i];
    }
    let mut out = vec![0.0; w];
    for (i, &j) in live.iter().enumerate() {
        out[j] = x[i];
    }
    out
}

/// Fits the model by Fisher scoring (IRLS) from each cell's log mean cost.
pub fn fit(p: &Persons) -> Result<Model, NeedError> {
    if p.is_empty() {
        return Err(NeedError::Data(format!(
            "nobody was registered for the whole of {}: nothing to fit",
            p.year
        )));
    }
    let layout = Layout {
        conditions: p.conditions.len(),
    };
    let w = layout.width();
    let mut beta = vec![0.0; w];
    let (mut sum, mut n) = ([0.0; CELLS], [0.0; CELLS]);
    for i in 0..p.len() {
        sum[p.cell[i] as usize] += p.cost[i];
        n[p.cell[i] as usize] += 1.0;
    }
    let total: f64 = sum.iter().sum();
    let overall = total / p.len() as f64;
    if overall.is_nan() || overall <= 0.0 {
        return Err(NeedError::Data(format!(
            "nobody had any cost in {}: nothing to fit",
            p.year
        )));
    }
    for c in 0..CELLS {
        beta[c] = if sum[c] > 0.0 {
            (sum[c] / n[c]).ln()
        } else {
            overall.ln()
        };
    }
    let mut iterations = 0;
    let mut last = f64::INFINITY;
    loop {
        iterations += 1;
        let (h, g, dev) = accumulate(p, &layout, &beta);
        let step = solve(h, &g, w);
        let size = step.iter().fold(0.0_f64, |m, s| m.max(s.abs()));
        for (b, s) in beta.iter_mut().zip(&step) {
            *b += s;
        }
        tracing::debug!(iterations, deviance = dev, step = size, "need model");
        if size < 1e-9 || (last - dev).abs() <= 1e-12 * dev.abs() {
            break;
        }
        last = dev;
        if iterations >= 50 || !size.is_finite() {
            return Err(NeedError::Fit(format!(
                "{iterations} iterations, last step {size}"
            )));
        }
    }
    let mut model = Model {
        format: 1,
        method: "Poisson GLM, log link, IRLS (quasi-likelihood)".into(),
        base_year: p.year.clone(),
        persons: p.len() as u64,
        iterations,
        dispersion: 0.0,
        mean_cost: overall,
        age_sex: BTreeMap::new(),
        deprivation: beta[layout.dep()],
        conditions: p
            .conditions
            .iter()
            .enumerate()
            .map(|(k, c)| (c.clone(), beta[layout.cond(k)]))
            .collect(),
        condition_count: COUNTS
            .iter()
            .enumerate()
            .map(|(j, c)| (c.to_string(), beta[layout.count(j)]))
            .collect(),
        fit: Fit {
            r_squared: 0.0,
            mean_absolute_error: 0.0,
            deciles: Vec::new(),
            calibration_by_age: BTreeMap::new(),
        },
    };
    for (s, sex) in SEXES.iter().enumerate() {
        let bands = BANDS
            .iter()
            .enumerate()
            .map(|(b, band)| (band.to_string(), beta[s * 19 + b]))
            .collect();
        model.age_sex.insert(sex.to_string(), bands);
    }
    let mu = score(&model, p);
    model.fit = assess(p, &mu, &mut model.dispersion, w);
    Ok(model)
}

/// The model's coefficients as a flat vector in the layout of `conditions`.
fn coefficients(model: &Model, conditions: &[String]) -> Vec<f64> {
    let layout = Layout {
        conditions: conditions.len(),
    };
    let mut beta = vec![0.0; layout.width()];
    for (s, sex) in SEXES.iter().enumerate() {
        for (b, band) in BANDS.iter().enumerate() {
            beta[s * 19 + b] = model
                .age_sex
                .get(*sex)
                .and_then(|m| m.get(*band))
                .copied()
                .unwrap_or(0.0);
        }
    }
    beta[layout.dep()] = model.deprivation;
    for (k, c) in conditions.iter().enumerate() {
        // A condition the model never saw adds nothing.
        beta[layout.cond(k)] = model.conditions.get(c).copied().unwrap_or(0.0);
    }
    for (j, c) in COUNTS.iter().enumerate() {
        beta[layout.count(j)] = model.condition_count.get(*c).copied().unwrap_or(0.0);
    }
    beta
}

/// Every person's expected annual cost under the model, in pounds.
pub fn score(model: &Model, p: &Persons) -> Vec<f64> {
    let layout = Layout {
        conditions: p.conditions.len(),
    };
    let beta = coefficients(model, &p.conditions);
    let base: Vec<f64> = (0..CELLS).map(|c| beta[c]).collect();
    let cond: Vec<f64> = (0..p.conditions.len()).map(|k| beta[layout.cond(k)]).collect();
    let counts: Vec<f64> = (0..COUNTS.len()).map(|j| beta[layout.count(j)]).collect();
    let dep = beta[layout.dep()];
    let mut mu = vec![0.0; p.len()];
    mu.par_chunks_mut(1 << 16).enumerate().for_each(|(c, out)| {
        let start = c << 16;
        for (o, i) in out.iter_mut().zip(start..) {
            let mask = p.mask[i];
            let mut eta = base[p.cell[i] as usize] + dep * p.deprivation[i] as f64;
            let mut m = mask;
            while m != 0 {
                eta += cond[m.trailing_zeros() as usize];
                m &= m - 1;
            }
            let n = mask.count_ones();
            if n >= 2 {
                eta += counts[(n.min(4) - 2) as usize];
            }
            *o = eta.exp();
        }
    });
    mu
}

fn assess(p: &Persons, mu: &[f64], dispersion: &mut f64, parameters: usize) -> Fit {
    let n = p.len() as f64;
    let mean = p.cost.iter().sum::<f64>() / n;
    let (mut ss_res, mut ss_tot, mut abs, mut pearson) = (0.0, 0.0, 0.0, 0.0);
    for (y, m) in p.cost.iter().zip(mu) {
        ss_res += (y - m) * (y - m);
        ss_tot += (y - mean) * (y - mean);
        abs += (y - m).abs();
        pearson += (y - m) * (y - m) / m;
    }
    *dispersion = pearson / (n - parameters as f64).max(1.0);
    // Deciles of predicted cost: the cut points by selection, not a full sort.
    let mut sorted = mu.to_vec();
    let mut cuts = Vec::with_capacity(9);
    for d in 1..10 {
        let k = ((d as f64 / 10.0) * (sorted.len() - 1) as f64) as usize;
        let (_, v, _) = sorted.select_nth_unstable_by(k, f64::total_cmp);
        cuts.push(*v);
    }
    drop(sorted);
    let mut dec = vec![(0u64, 0.0, 0.0, 0.0); 10];
    let mut by_age = [(0.0, 0.0); 19];
    for (i, &m) in mu.iter().enumerate() {
        let d = cuts.partition_point(|c| *c < m);
        let e = &mut dec[d];
        e.0 += 1;
        e.1 += m;
        e.2 += p.cost[i];
        e.3 += (p.cost[i] - m).abs();
        let band = p.cell[i] as usize % 19;
        by_age[band].0 += p.cost[i];
        by_age[band].1 += m;
    }
    Fit {
        r_squared: if ss_tot > 0.0 { 1.0 - ss_res / ss_tot } else { 0.0 },
        mean_absolute_error: abs / n,
        deciles: dec
            .iter()
            .enumerate()
            .map(|(d, &(k, m, y, a))| {
                let k1 = (k as f64).max(1.0);
                Decile {
                    decile: d as u32 + 1,
                    persons: k,
                    mean_predicted: m / k1,
                    mean_observed: y / k1,
                    mean_absolute_error: a / k1,
                }
            })
            .collect(),
        calibration_by_age: BANDS
            .iter()
            .zip(by_age)
            .filter(|(_, (_, m))| *m > 0.0)
            .map(|(b, (y, m))| (b.to_string(), y / m))
            .collect(),
    }
}

/// Need by practice: persons, expected and actual cost, and the need index (expected cost per
/// head over the national expected cost per head).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PracticeNeed {
    pub practice_code: String,
    pub persons: u64,
    pub expected_cost: f64,
    pub actual_cost: f64,
    pub need_index: f64,
}

pub fn by_practice(p: &Persons, mu: &[f64]) -> Vec<PracticeNeed> {
    let mut acc = vec![(0u64, 0.0, 0.0); p.practices.len()];
    for i in 0..p.len() {
        let a = &mut acc[p.practice[i] as usize];
        a.0 += 1;
        a.1 += mu[i];
        a.2 += p.cost[i];
    }
    let national = mu.iter().sum::<f64>() / p.len().max(1) as f64;
    let mut out: Vec<PracticeNeed> = p
        .practices
        .iter()
        .zip(acc)
        .map(|(code, (n, e, y))| PracticeNeed {
            practice_code: code.clone(),
            persons: n,
            expected_cost: e,
            actual_cost: y,
            need_index: if n > 0 && national > 0.0 {
                e / n as f64 / national
            } else {
                0.0
            },
        })
        .collect();
    out.sort_by(|a, b| a.practice_code.cmp(&b.practice_code));
    out
}
