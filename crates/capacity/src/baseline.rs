//! The baseline year's activity, beds and workforce per provider and pool, read from a dataset.
//!
//! Spells come from `admissions` joined to `patients` for age at admission. Each spell falls in
//! one pool: spells at a community trust are `community`; `maternity` spells are maternity;
//! other spells of patients under 16 are paediatric; elective spells are G&A elective and
//! emergency and transfer spells G&A non-elective. A spell's bed days are its nights
//! (discharge date − admission date: a bed counted at midnight), so day cases occupy none.
//! The contract has no critical-care flag, so critical care takes a share of non-elective
//! nights (`share_of_non_elective_bed_days` in the assumptions) when projected.
//!
//! Current beds come from the `beds` table (mean available and occupied over the year's months)
//! and workforce from `workforce` (mean WTE in post by staff group over the year's periods).

use std::collections::BTreeMap;

#[cfg(feature = "dataset")]
use arrow::array::{Array, AsArray};
#[cfg(feature = "dataset")]
use arrow::datatypes::{DataType, Float64Type, Int64Type};
use model::{Month, OrgKind};

#[cfg(feature = "dataset")]
use crate::Error;
#[cfg(feature = "dataset")]
use crate::assumptions::{POOLS, Pool};

/// Ages are capped here; the demography file's last band must reach it.
pub const MAX_AGE: usize = 100;

/// One pool's baseline at one provider.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PoolBase {
    /// Spells and nights by single year of age (0..=MAX_AGE; age unknown counts as 40).
    pub admissions_by_age: Vec<f64>,
    pub nights_by_age: Vec<f64>,
    /// Nights of elective spells of one or two nights (the ones day-case conversion removes).
    pub short_elective_nights: f64,
    /// The busiest month's nights over the mean month's (1 when flat), for winter peaks.
    pub peak_factor: f64,
    /// Nights by month of admission, April first (what `peak_factor` is computed from).
    #[serde(default)]
    pub nights_by_month: Vec<f64>,
}

impl PoolBase {
    /// A pool with no activity.
    pub fn empty() -> PoolBase {
        PoolBase {
            admissions_by_age: vec![0.0; MAX_AGE + 1],
            nights_by_age: vec![0.0; MAX_AGE + 1],
            short_elective_nights: 0.0,
            peak_factor: 1.0,
            nights_by_month: vec![0.0; 12],
        }
    }
    pub fn admissions(&self) -> f64 {
        self.admissions_by_age.iter().sum()
    }
    pub fn nights(&self) -> f64 {
        self.nights_by_age.iter().sum()
    }
}

/// One provider's baseline.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Provider {
    pub code: String,
    pub name: String,
    #[serde(with = "kind_text")]
    pub kind: OrgKind,
    pub system: Option<String>,
    pub region: Option<String>,
    /// Indexed by `Pool::index`.
    pub pools: Vec<PoolBase>,
    /// Mean beds available and occupied over the baseline year (the `beds` table).
    pub beds_available: Option<f64>,
    pub beds_occupied: Option<f64>,
    /// Mean WTE in post by staff group over the baseline year (the `workforce` table).
    pub wte: BTreeMap<String, f64>,
    /// The registered population the provider serves, by age (each five-year band of the
    /// `population` table at its first age): every practice's list shared over the providers
    /// its patients' spells went to ([`catchments`]). Empty without a `population` table.
    #[serde(default)]
    pub catchment_by_age: Vec<f64>,
}

/// The baseline of every provider with inpatient activity in the year. Patient-derived
/// (spells by single year of age at each trust): kept in the user's own results folder to
/// check plans against, never served as it stands.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Baseline {
    /// Financial year, as its start year (2023 = 2023/24).
    pub year: i32,
    pub days: f64,
    pub providers: Vec<Provider>,
    /// System code → (name, region code).
    pub systems: BTreeMap<String, (String, String)>,
    /// Region code → name.
    pub regions: BTreeMap<String, String>,
    /// Spells by the patient's practice and the provider (`(practice, provider, spells)`),
    /// which the catchments are computed from.
    #[serde(default)]
    pub flows: Vec<(String, String, f64)>,
    /// Each practice's mean registered list over the year by five-year band (the
    /// `population` table; published data, not patient records).
    #[serde(default)]
    pub lists: BTreeMap<String, Vec<f64>>,
    /// `None` for the baseline as read (by single year of age: the user's own); for a
    /// published baseline ([`Baseline::published`]), the age bands its counts are held at
    /// (each band's counts at its first age).
    #[serde(default)]
    pub bands: Option<Vec<(u32, u32)>>,
}

/// An organisation kind as its contract spelling.
mod kind_text {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(k: &model::OrgKind, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(k.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<model::OrgKind, D::Error> {
        let t = String::deserialize(d)?;
        t.parse().map_err(serde::de::Error::custom)
    }
}

/// The last financial year the dataset's window covers whole, or its last twelve months'
/// financial year when none is whole.
pub fn baseline_year(from: Month, to: Month) -> i32 {
    let mut fy = to.financial_year();
    if Month::new(fy + 1, 3).is_some_and(|end| end > to) {
        fy -= 1;
    }
    if Month::new(fy, 4).is_some_and(|start| start < from) {
        to.financial_year()
    } else {
        fy
    }
}

#[cfg(feature = "dataset")]
fn runtime(e: impl std::fmt::Display) -> Error {
    Error::Request(format!("reading the baseline: {e}"))
}

#[cfg(feature = "dataset")]
fn text(b: &arrow::record_batch::RecordBatch, i: usize) -> Result<arrow::array::ArrayRef, Error> {
    arrow::compute::cast(b.column(i), &DataType::Utf8).map_err(runtime)
}

#[cfg(feature = "dataset")]
fn num(b: &arrow::record_batch::RecordBatch, i: usize) -> Result<arrow::array::ArrayRef, Error> {
    arrow::compute::cast(b.column(i), &DataType::Float64).map_err(runtime)
}

#[cfg(feature = "dataset")]
fn int(b: &arrow::record_batch::RecordBatch, i: usize) -> Result<arrow::array::ArrayRef, Error> {
    arrow::compute::cast(b.column(i), &DataType::Int64).map_err(runtime)
}

/// Each provider's registered catchment by age: every practice's list (by five-year band,
/// held at the band's first age) shared over the providers its patients' spells went to, in
/// proportion to the spells — the patient-flow method of OHID's NHS acute trust catchment
/// populations, with practices for areas. A practice none of whose patients had a spell is in
/// no catchment. Providers with no flows get an empty catchment.
pub fn catchments(
    providers: &mut [Provider],
    flows: &[(String, String, f64)],
    lists: &BTreeMap<String, Vec<f64>>,
) {
    for p in providers.iter_mut() {
        p.catchment_by_age.clear();
    }
    if lists.is_empty() {
        return;
    }
    let index: BTreeMap<String, usize> = providers
        .iter()
        .enumerate()
        .map(|(i, p)| (p.code.clone(), i))
        .collect();
    let mut totals: BTreeMap<&str, f64> = BTreeMap::new();
    for (practice, _, n) in flows {
        *totals.entry(practice.as_str()).or_default() += n;
    }
    for (practice, provider, n) in flows {
        let (Some(&i), Some(list), Some(&total)) = (
            index.get(provider),
            lists.get(practice),
            totals.get(practice.as_str()),
        ) else {
            continue;
        };
        if total <= 0.0 {
            continue;
        }
        let c = &mut providers[i].catchment_by_age;
        if c.is_empty() {
            c.resize(MAX_AGE + 1, 0.0);
        }
        for (k, persons) in list.iter().enumerate() {
            c[(k * 5).min(MAX_AGE)] += persons * n / total;
        }
    }
}

/// The busiest month's nights per day over the year's mean per day (1 when flat or empty):
/// `months` in financial-year order from `start` (April).
pub fn peak_factor(months: &[f64], start: Month) -> f64 {
    let lens: Vec<f64> = (0..12)
        .map(|i| {
            let m = start.plus(i);
            (m.last_day() - m.first_day() + 1) as f64
        })
        .collect();
    let total: f64 = months.iter().sum();
    let days: f64 = lens.iter().sum();
    if total <= 0.0 {
        return 1.0;
    }
    let peak = months.iter().zip(&lens).map(|(v, l)| v / l).fold(0.0, f64::max);
    (peak / (total / days)).max(1.0)
}

#[cfg(feature = "dataset")]
/// Reads the baseline for financial year `year` (start year).
pub fn read(engine: &engine::Engine, ds: &dataset::Dataset, year: i32) -> Result<Baseline, Error> {
    let start = Month::new(year, 4).ok_or_else(|| Error::Request(format!("year {year} is out of range")))?;
    let end = start.plus(11);
    let (d0, d1) = (
        model::format_date(start.first_day()),
        model::format_date(end.last_day()),
    );
    let days = (end.last_day() - start.first_day() + 1) as f64;
    if !engine.has_table("admissions") {
        return Err(Error::Request(
            "the dataset has no admissions table: the baseline needs spells".into(),
        ));
    }
    let orgs: BTreeMap<&str, &dataset::Organisation> =
        ds.organisations.iter().map(|o| (o.code.as_str(), o)).collect();
    let mut providers: BTreeMap<String, Provider> = BTreeMap::new();
    let new_provider = |code: &str| -> Option<Provider> {
        let o = orgs.get(code)?;
        Some(Provider {
            code: code.to_string(),
            name: o.name.clone(),
            kind: o.kind,
            system: o.system.clone(),
            region: o.region.clone(),
            pools: (0..POOLS.len()).map(|_| PoolBase::empty()).collect(),
            beds_available: None,
            beds_occupied: None,
            wte: BTreeMap::new(),
            catchment_by_age: Vec::new(),
        })
    };
    let pool_of = |kind: OrgKind, method: &str, age: i64| -> Pool {
        if kind == OrgKind::CommunityTrust {
            Pool::Community
        } else if method == "maternity" {
            Pool::Maternity
        } else if (0..16).contains(&age) {
            Pool::Paediatric
        } else if method == "elective" {
            Pool::GaElective
        } else {
            Pool::GaNonElective
        }
    };
    let has_patients = engine.has_table("patients");
    let age = if has_patients {
        format!(
            "coalesce(least(greatest(CAST(date_part('year', a.admission_date) AS BIGINT) - CAST(p.birth_year AS BIGINT), 0), {MAX_AGE}), -1)"
        )
    } else {
        "-1".to_string()
    };
    let join = if has_patients {
        "LEFT JOIN patients p ON p.patient_id = a.patient_id"
    } else {
        ""
    };
    let nights = "(CAST(a.discharge_date AS BIGINT) - CAST(a.admission_date AS BIGINT))";
    let sql = format!(
        "SELECT CAST(a.provider_code AS VARCHAR), CAST(a.method AS VARCHAR), {age} AS age, \
                CAST(date_part('month', a.admission_date) AS BIGINT) AS m, count(*), sum({nights}), \
                sum(CASE WHEN CAST(a.method AS VARCHAR) = 'elective' AND {nights} BETWEEN 1 AND 2 THEN {nights} ELSE 0 END) \
         FROM admissions a {join} \
         WHERE a.admission_date >= DATE '{d0}' AND a.admission_date <= DATE '{d1}' \
         GROUP BY 1, 2, 3, 4"
    );
    // Monthly nights per provider and pool, for the peak factor.
    let mut monthly: BTreeMap<(String, Pool), [f64; 12]> = BTreeMap::new();
    engine
        .for_each_batch(&sql, |b| {
            let (Ok(p), Ok(meth), Ok(ag), Ok(mo), Ok(n), Ok(ni), Ok(sh)) = (
                text(b, 0),
                text(b, 1),
                int(b, 2),
                int(b, 3),
                num(b, 4),
                num(b, 5),
                num(b, 6),
            ) else {
                return;
            };
            let (p, meth) = (p.as_string::<i32>(), meth.as_string::<i32>());
            let (ag, mo) = (ag.as_primitive::<Int64Type>(), mo.as_primitive::<Int64Type>());
            let (n, ni, sh) = (
                n.as_primitive::<Float64Type>(),
                ni.as_primitive::<Float64Type>(),
                sh.as_primitive::<Float64Type>(),
            );
            for i in 0..b.num_rows() {
                let code = p.value(i);
                if !providers.contains_key(code) {
                    let Some(new) = new_provider(code) else { continue };
                    providers.insert(code.to_string(), new);
                }
                let prov = providers.get_mut(code).expect("inserted above");
                let a = ag.value(i);
                let pool = pool_of(prov.kind, meth.value(i), a);
                let a = if a < 0 { 40 } else { a as usize };
                let base = &mut prov.pools[pool.index()];
                let nights = if ni.is_null(i) { 0.0 } else { ni.value(i) };
                base.admissions_by_age[a] += n.value(i);
                base.nights_by_age[a] += nights;
                if !sh.is_null(i) {
                    base.short_elective_nights += sh.value(i);
                }
                let m = (mo.value(i).clamp(1, 12) - 1) as usize;
                monthly.entry((code.to_string(), pool)).or_insert([0.0; 12])[m] += nights;
            }
        })
        .map_err(runtime)?;
    for ((code, pool), months) in monthly {
        if let Some(p) = providers.get_mut(&code) {
            // Calendar month (January = 0) to financial-year order (April = 0).
            let base = &mut p.pools[pool.index()];
            for (cal, v) in months.iter().enumerate() {
                base.nights_by_month[(cal + 12 - 3) % 12] = *v;
            }
            base.peak_factor = peak_factor(&base.nights_by_month, start);
        }
    }
    let periods: Vec<String> = (0..12)
        .map(|i| start.plus(i).to_string())
        .chain((1..=4).map(|q| model::Period::Quarter(year, q).to_string()))
        .collect();
    let list = periods
        .iter()
        .map(|p| format!("'{p}'"))
        .collect::<Vec<_>>()
        .join(", ");
    if engine.has_table("beds") {
        for b in engine
            .query(&format!(
                "SELECT CAST(provider_code AS VARCHAR), avg(beds_available), avg(beds_occupied) \
                 FROM beds WHERE CAST(period AS VARCHAR) IN ({list}) GROUP BY 1"
            ))
            .map_err(runtime)?
        {
            let (p, av, oc) = (text(&b, 0)?, num(&b, 1)?, num(&b, 2)?);
            let (p, av, oc) = (
                p.as_string::<i32>(),
                av.as_primitive::<Float64Type>(),
                oc.as_primitive::<Float64Type>(),
            );
            for i in 0..b.num_rows() {
                if let Some(prov) = providers.get_mut(p.value(i)) {
                    prov.beds_available = (!av.is_null(i)).then(|| av.value(i));
                    prov.beds_occupied = (!oc.is_null(i)).then(|| oc.value(i));
                }
            }
        }
    }
    if engine.has_table("workforce") {
        // Mean over the periods reported (months, or quarters where a trust reports those).
        for b in engine
            .query(&format!(
                "SELECT CAST(org_code AS VARCHAR), CAST(staff_group AS VARCHAR), avg(wte_in_post) \
                 FROM workforce WHERE CAST(period AS VARCHAR) IN ({list}) GROUP BY 1, 2"
            ))
            .map_err(runtime)?
        {
            let (o, g, w) = (text(&b, 0)?, text(&b, 1)?, num(&b, 2)?);
            let (o, g, w) = (
                o.as_string::<i32>(),
                g.as_string::<i32>(),
                w.as_primitive::<Float64Type>(),
            );
            for i in 0..b.num_rows() {
                if let Some(prov) = providers.get_mut(o.value(i))
                    && !w.is_null(i)
                {
                    prov.wte.insert(g.value(i).to_string(), w.value(i));
                }
            }
        }
    }
    let mut flows = Vec::new();
    let mut lists: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    if has_patients && engine.has_table("population") {
        for b in engine
            .query(&format!(
                "SELECT CAST(p.practice_code AS VARCHAR), CAST(a.provider_code AS VARCHAR), count(*) \
                 FROM admissions a JOIN patients p ON p.patient_id = a.patient_id \
                 WHERE a.admission_date >= DATE '{d0}' AND a.admission_date <= DATE '{d1}' GROUP BY 1, 2 ORDER BY 1, 2"
            ))
            .map_err(runtime)?
        {
            let (pr, pv, n) = (text(&b, 0)?, text(&b, 1)?, num(&b, 2)?);
            let (pr, pv, n) = (
                pr.as_string::<i32>(),
                pv.as_string::<i32>(),
                n.as_primitive::<Float64Type>(),
            );
            for i in 0..b.num_rows() {
                if providers.contains_key(pv.value(i)) {
                    flows.push((pr.value(i).to_string(), pv.value(i).to_string(), n.value(i)));
                }
            }
        }
        let months: Vec<String> = (0..12).map(|i| format!("'{}'", start.plus(i))).collect();
        for b in engine
            .query(&format!(
                "SELECT CAST(practice_code AS VARCHAR), CAST(age_band AS VARCHAR), \
                        CAST(sum(persons) AS DOUBLE) / count(DISTINCT CAST(period AS VARCHAR)) \
                 FROM population WHERE CAST(period AS VARCHAR) IN ({}) GROUP BY 1, 2",
                months.join(", ")
            ))
            .map_err(runtime)?
        {
            let (pr, band, n) = (text(&b, 0)?, text(&b, 1)?, num(&b, 2)?);
            let (pr, band, n) = (
                pr.as_string::<i32>(),
                band.as_string::<i32>(),
                n.as_primitive::<Float64Type>(),
            );
            for i in 0..b.num_rows() {
                if let Some(k) = model::vocab::AGE_BANDS.iter().position(|x| *x == band.value(i)) {
                    lists
                        .entry(pr.value(i).to_string())
                        .or_insert_with(|| vec![0.0; model::vocab::AGE_BANDS.len()])[k] += n.value(i);
                }
            }
        }
    }
    let mut providers: Vec<Provider> = providers.into_values().collect();
    catchments(&mut providers, &flows, &lists);
    let systems = ds
        .systems
        .iter()
        .map(|s| (s.code.clone(), (s.name.clone(), s.region.clone())))
        .collect();
    let regions = ds
        .regions
        .iter()
        .map(|r| (r.code.clone(), r.name.clone()))
        .collect();
    Ok(Baseline {
        year,
        days,
        providers,
        systems,
        regions,
        flows,
        lists,
        bands: None,
    })
}

/// Every line of the dataset's `plans` table with its financial year (empty when the dataset
/// has none). The loader has checked the periods, organisations and measures; the bed groups
/// are checked here.
#[cfg(feature = "dataset")]
pub fn read_plan_lines(ds: &dataset::Dataset) -> Result<Vec<(i32, crate::plan::Line)>, Error> {
    if !ds.tables.contains_key("plans") {
        return Ok(Vec::new());
    }
    let batches = ds.scan("plans").map_err(|r| {
        Error::Request(format!(
            "plans: {}",
            r.errors
                .first()
                .map_or("cannot be read".to_string(), |d| d.to_string())
        ))
    })?;
    let mut lines: Vec<(i32, crate::plan::Line)> = Vec::new();
    for b in &batches {
        let cols: Vec<arrow::array::ArrayRef> = (0..4).map(|i| text(b, i)).collect::<Result<_, _>>()?;
        let value = num(b, 4)?;
        let value = value.as_primitive::<Float64Type>();
        for i in 0..b.num_rows() {
            let cell = |k: usize| cols[k].as_string::<i32>().value(i).to_string();
            let period = cell(0);
            let Ok(model::Period::Year(y)) = period.parse::<model::Period>() else {
                return Err(Error::Request(format!(
                    "plans: period {period:?}: not a financial year"
                )));
            };
            let line = crate::plan::Line {
                org_code: cell(1),
                measure: cell(2),
                category: cell(3),
                value: value.value(i),
            };
            if line.measure != "wte" && !crate::plan::GROUPS.iter().any(|(g, _)| *g == line.category) {
                return Err(Error::Request(format!(
                    "plans: {} {} {}: {:?} is not a bed group ({})",
                    period,
                    line.org_code,
                    line.measure,
                    line.category,
                    crate::plan::GROUPS.map(|g| g.0).join(", ")
                )));
            }
            lines.push((y, line));
        }
    }
    Ok(lines)
}

/// The dataset's plan for financial year `year` (or its latest year when `None`); `None`
/// when the dataset has no plan lines for it.
#[cfg(feature = "dataset")]
pub fn read_plan(ds: &dataset::Dataset, year: Option<i32>) -> Result<Option<crate::plan::Plan>, Error> {
    let lines = read_plan_lines(ds)?;
    let Some(year) = year.or_else(|| lines.iter().map(|l| l.0).max()) else {
        return Ok(None);
    };
    let lines: Vec<crate::plan::Line> = lines.into_iter().filter(|l| l.0 == year).map(|l| l.1).collect();
    Ok((!lines.is_empty()).then_some(crate::plan::Plan {
        year,
        lines,
        changes: Vec::new(),
    }))
}

/// What stands in for a suppressed count of spells in a published baseline: the middle of
/// the suppressed range 1–7, whatever the count was.
pub const SUPPRESSED_STAND_IN: f64 = 4.0;

/// Nights (bed days) in a published baseline are rounded to a multiple of this.
pub const NIGHTS_ROUNDING: f64 = 10.0;

fn round_to(v: f64, step: f64) -> f64 {
    (v / step).round() * step
}

impl Baseline {
    /// The baseline as it may be published below national level, from which everything a
    /// server shows or answers is then computed (so that an attacker who asks for every
    /// projection and subtracts learns nothing the published cells do not say).
    ///
    /// Cells are a provider's pool in one age band of `bands` (`[from, to)`, the demography
    /// file's bands, so the projection is unchanged by the banding). Spells follow the
    /// indicator tables' rule (`policy`: a count of 1–7 is suppressed, others rounded to the
    /// nearest 5) and a suppressed count stands in as [`SUPPRESSED_STAND_IN`] spells with the
    /// pool's published length of stay (the provider's unsuppressed bands, else England's);
    /// nights, short elective nights and nights by month are rounded to ten, the peak factor
    /// recomputed from the rounded months. Totals are sums of published cells, never
    /// rounded on their own. Beds and workforce are not counts of people: unchanged.
    pub fn published(&self, bands: &[(u32, u32)], policy: &stats::disclosure::Policy) -> Baseline {
        use stats::disclosure::{Cell, Level};
        let band_of = |age: usize| {
            bands
                .iter()
                .position(|&(f, t)| (f as usize..t as usize).contains(&age))
        };
        let start = Month::new(self.year, 4);
        // Band sums per provider and pool: (spells, nights).
        let sums: Vec<Vec<Vec<(f64, f64)>>> = self
            .providers
            .iter()
            .map(|p| {
                p.pools
                    .iter()
                    .map(|pb| {
                        let mut cells = vec![(0.0, 0.0); bands.len()];
                        for age in 0..pb.admissions_by_age.len() {
                            // An age no band covers is left out of the projection too.
                            if let Some(b) = band_of(age) {
                                cells[b].0 += pb.admissions_by_age[age];
                                cells[b].1 += pb.nights_by_age.get(age).copied().unwrap_or(0.0);
                            }
                        }
                        cells
                    })
                    .collect()
            })
            .collect();
        let publish = |n: f64| policy.count(n.round().max(0.0) as u64, Level::Subnational);
        // England's published length of stay per pool, from unsuppressed cells.
        let pools = self.providers.first().map_or(0, |p| p.pools.len());
        let mut national = vec![(0.0, 0.0); pools];
        for prov in &sums {
            for (i, cells) in prov.iter().enumerate() {
                for &(n, ni) in cells {
                    if let Cell::Value(v) = publish(n) {
                        national[i].0 += v as f64;
                        national[i].1 += round_to(ni, NIGHTS_ROUNDING);
                    }
                }
            }
        }
        let los = |(n, ni): (f64, f64)| if n > 0.0 { ni / n } else { 0.0 };
        let providers = self
            .providers
            .iter()
            .zip(&sums)
            .map(|(p, prov)| {
                let pools = p
                    .pools
                    .iter()
                    .zip(prov)
                    .enumerate()
                    .map(|(i, (pb, cells))| {
                        let own = cells.iter().fold((0.0, 0.0), |acc, &(n, ni)| match publish(n) {
                            Cell::Value(v) => (acc.0 + v as f64, acc.1 + round_to(ni, NIGHTS_ROUNDING)),
                            Cell::Suppressed => acc,
                        });
                        let stay = if own.0 > 0.0 { los(own) } else { los(national[i]) };
                        let mut out = PoolBase::empty();
                        for (&(n, ni), &(from, _)) in cells.iter().zip(bands) {
                            let age = (from as usize).min(MAX_AGE);
                            let (a, nights) = match publish(n) {
                                Cell::Value(v) => (v as f64, round_to(ni, NIGHTS_ROUNDING)),
                                Cell::Suppressed => (SUPPRESSED_STAND_IN, SUPPRESSED_STAND_IN * stay),
                            };
                            out.admissions_by_age[age] += a;
                            out.nights_by_age[age] += nights;
                        }
                        out.short_elective_nights =
                            round_to(pb.short_elective_nights, NIGHTS_ROUNDING).min(out.nights());
                        out.nights_by_month = pb
                            .nights_by_month
                            .iter()
                            .map(|v| round_to(*v, NIGHTS_ROUNDING))
                            .collect();
                        out.peak_factor = start.map_or(1.0, |s| peak_factor(&out.nights_by_month, s));
                        out
                    })
                    .collect();
                Provider { pools, ..p.clone() }
            })
            .collect::<Vec<_>>();
        // Spells from a practice to a provider under the same rule; catchments recomputed.
        let flows: Vec<(String, String, f64)> = self
            .flows
            .iter()
            .map(|(pr, pv, n)| {
                let v = match publish(*n) {
                    Cell::Value(v) => v as f64,
                    Cell::Suppressed => SUPPRESSED_STAND_IN,
                };
                (pr.clone(), pv.clone(), v)
            })
            .collect();
        let mut providers = providers;
        catchments(&mut providers, &flows, &self.lists);
        Baseline {
            providers,
            flows,
            bands: Some(bands.to_vec()),
            ..self.clone()
        }
    }
}
