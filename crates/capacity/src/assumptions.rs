//! The assumptions of a projection, as data: `data/assumptions.toml` is the embedded default;
//! a user copies it, edits it and passes it back. Every rule is checked with the key's path.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::Error;

/// The embedded default assumptions (every value a documented default).
pub const DEFAULT: &str = include_str!("../data/assumptions.toml");

/// The bed pools, in display order. Pools are sized separately and summed, never pooled.
pub const POOLS: [Pool; 6] = [
    Pool::GaElective,
    Pool::GaNonElective,
    Pool::Paediatric,
    Pool::Maternity,
    Pool::CriticalCare,
    Pool::Community,
];

/// A bed pool.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Deserialize,
    serde::Serialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Pool {
    GaElective,
    GaNonElective,
    Paediatric,
    Maternity,
    CriticalCare,
    Community,
}

impl Pool {
    pub fn name(self) -> &'static str {
        match self {
            Pool::GaElective => "ga_elective",
            Pool::GaNonElective => "ga_non_elective",
            Pool::Paediatric => "paediatric",
            Pool::Maternity => "maternity",
            Pool::CriticalCare => "critical_care",
            Pool::Community => "community",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Pool::GaElective => "Adult G&A elective",
            Pool::GaNonElective => "Adult G&A non-elective",
            Pool::Paediatric => "Paediatric",
            Pool::Maternity => "Maternity",
            Pool::CriticalCare => "Critical care",
            Pool::Community => "Community",
        }
    }
    pub fn parse(s: &str) -> Option<Pool> {
        POOLS.into_iter().find(|p| p.name() == s)
    }
    pub fn index(self) -> usize {
        self as usize
    }
    /// Pools whose beds are general and acute (G&A): the plan's `ga` beds split over them.
    pub fn is_ga(self) -> bool {
        matches!(self, Pool::GaElective | Pool::GaNonElective)
    }
}

/// How a pool's load becomes beds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    FixedOccupancy,
    ErlangB,
    PoissonPeak,
    /// The New Hospital Programme's bed scaling: the pool's share of the trust's KH03
    /// occupied beds (the `beds` table) grown with its bed days, at the target occupancy
    /// (`formula::bed_scaling`); fixed occupancy where the trust has no `beds` rows.
    NhpBedScaling,
}

/// An 80% interval [p10, p90].
pub type Interval = [f64; 2];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolAssumptions {
    pub method: Method,
    pub target_occupancy: f64,
    #[serde(default)]
    pub target_blocking: Option<f64>,
    pub max_occupancy: f64,
    pub non_demographic_growth: Interval,
    pub los_reduction: Interval,
    pub day_case_conversion: Interval,
    #[serde(default)]
    pub share_of_non_elective_bed_days: Option<f64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Band {
    pub from: u32,
    pub to: u32,
    pub growth: Interval,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Demography {
    pub source: String,
    pub band: Vec<Band>,
    /// Subnational projections: a system's or a region's own growth per band (a system's
    /// overrides its region's; England's bands elsewhere).
    #[serde(default)]
    pub area: Vec<Area>,
}

/// One area's demographic growth: one interval per band of `demography.band`, youngest first.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Area {
    /// A system or region code of the dataset.
    pub code: String,
    pub source: String,
    pub growth: Vec<Interval>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mitigator {
    pub care_model: String,
    pub pool: Pool,
    pub admissions_avoided: Interval,
}

/// A staff group's driver of hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Driver {
    OccupiedBedDays,
    Admissions,
    /// The provider's registered catchment (`Provider::catchment_by_age`), grown by the
    /// demography: for staff whose work follows the population served rather than spells.
    RegisteredList,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum HoursPerUnit {
    Fixed(f64),
    Baseline(String),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    pub staff_group: String,
    pub driver: Driver,
    pub hours_per_unit: HoursPerUnit,
    pub headroom: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Heads {
    pub paid_hours_per_wte: f64,
    pub source: String,
    pub group: Vec<Group>,
}

/// A whole assumptions file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assumptions {
    pub version: u32,
    pub pools: BTreeMap<Pool, PoolAssumptions>,
    pub demography: Demography,
    #[serde(default)]
    pub mitigator: Vec<Mitigator>,
    pub heads: Heads,
}

fn bad(path: &str, key: &str, value: impl std::fmt::Display, rule: &str) -> Error {
    Error::Invalid {
        field: format!("{path}: {key}"),
        value: value.to_string(),
        rule: rule.to_string(),
    }
}

fn interval(path: &str, key: &str, i: Interval, lo: f64, hi: f64) -> Result<(), Error> {
    if !(i[0].is_finite() && i[1].is_finite() && i[0] <= i[1]) {
        return Err(bad(
            path,
            key,
            format!("[{}, {}]", i[0], i[1]),
            "must be [p10, p90] with p10 ≤ p90",
        ));
    }
    if i[0] < lo || i[1] > hi {
        return Err(bad(
            path,
            key,
            format!("[{}, {}]", i[0], i[1]),
            &format!("must lie within [{lo}, {hi}]"),
        ));
    }
    Ok(())
}

impl Assumptions {
    /// The demography's age bands `[from, to)`, youngest first: the cells a baseline is
    /// published at (`Baseline::published`).
    pub fn bands(&self) -> Vec<(u32, u32)> {
        let mut b: Vec<(u32, u32)> = self.demography.band.iter().map(|b| (b.from, b.to)).collect();
        b.sort_unstable();
        b
    }

    /// The embedded defaults.
    pub fn default_set() -> Assumptions {
        Assumptions::parse(DEFAULT, "assumptions.toml (embedded)")
            .expect("the embedded assumptions are valid (tested)")
    }

    /// Parses and validates a file's text; `path` names it in errors.
    pub fn parse(text: &str, path: &str) -> Result<Assumptions, Error> {
        let a: Assumptions = toml::from_str(text).map_err(|e| Error::Request(format!("{path}: {e}")))?;
        a.validate(path)?;
        Ok(a)
    }

    fn validate(&self, path: &str) -> Result<(), Error> {
        if self.version != 1 {
            return Err(bad(path, "version", self.version, "must be 1"));
        }
        for pool in POOLS {
            let Some(p) = self.pools.get(&pool) else {
                return Err(bad(
                    path,
                    &format!("pools.{}", pool.name()),
                    "missing",
                    "every pool must be given",
                ));
            };
            let k = |f: &str| format!("pools.{}.{f}", pool.name());
            if !(p.target_occupancy > 0.0 && p.target_occupancy <= 1.0) {
                return Err(bad(
                    path,
                    &k("target_occupancy"),
                    p.target_occupancy,
                    "must be above 0 and at most 1",
                ));
            }
            if !(p.max_occupancy >= p.target_occupancy && p.max_occupancy <= 1.0) {
                return Err(bad(
                    path,
                    &k("max_occupancy"),
                    p.max_occupancy,
                    "must be at least target_occupancy and at most 1",
                ));
            }
            match (p.method, p.target_blocking) {
                (Method::FixedOccupancy | Method::NhpBedScaling, _) => {}
                (_, None) => {
                    return Err(bad(
                        path,
                        &k("target_blocking"),
                        "missing",
                        "erlang_b and poisson_peak need a target_blocking",
                    ));
                }
                (_, Some(b)) if !(b > 0.0 && b < 1.0) => {
                    return Err(bad(
                        path,
                        &k("target_blocking"),
                        b,
                        "must be a probability above 0 and below 1",
                    ));
                }
                _ => {}
            }
            interval(
                path,
                &k("non_demographic_growth"),
                p.non_demographic_growth,
                -1.0,
                1.0,
            )?;
            interval(path, &k("los_reduction"), p.los_reduction, 0.0, 1.0)?;
            interval(path, &k("day_case_conversion"), p.day_case_conversion, 0.0, 1.0)?;
            if let Some(s) = p.share_of_non_elective_bed_days {
                if pool != Pool::CriticalCare {
                    return Err(bad(
                        path,
                        &k("share_of_non_elective_bed_days"),
                        s,
                        "only critical_care takes a share of non-elective bed days",
                    ));
                }
                if !(0.0..1.0).contains(&s) {
                    return Err(bad(
                        path,
                        &k("share_of_non_elective_bed_days"),
                        s,
                        "must be at least 0 and below 1",
                    ));
                }
            }
        }
        let mut bands: Vec<&Band> = self.demography.band.iter().collect();
        bands.sort_by_key(|b| b.from);
        let mut next = 0;
        for (i, b) in bands.iter().enumerate() {
            let key = format!("demography.band (from = {})", b.from);
            if b.from != next {
                return Err(bad(
                    path,
                    &key,
                    b.from,
                    &format!(
                        "bands must cover every age from 0 without gaps or overlaps: expected from = {next}"
                    ),
                ));
            }
            if b.to <= b.from {
                return Err(bad(path, &key, b.to, "to must be above from"));
            }
            interval(path, &format!("{key}.growth"), b.growth, -1.0, 1.0)?;
            next = b.to;
            if i + 1 == bands.len() && b.to < 120 {
                return Err(bad(path, &key, b.to, "the last band must reach at least age 120"));
            }
        }
        if bands.is_empty() {
            return Err(bad(
                path,
                "demography.band",
                "none",
                "at least one band is needed",
            ));
        }
        let mut codes = std::collections::BTreeSet::new();
        for (i, ar) in self.demography.area.iter().enumerate() {
            let key = format!("demography.area[{i}] (code = {:?})", ar.code);
            if !codes.insert(ar.code.as_str()) {
                return Err(bad(path, &key, &ar.code, "an area is given once"));
            }
            if ar.growth.len() != bands.len() {
                return Err(bad(
                    path,
                    &format!("{key}.growth"),
                    ar.growth.len(),
                    &format!(
                        "one interval per demography band, youngest first: {} bands",
                        bands.len()
                    ),
                ));
            }
            for (j, g) in ar.growth.iter().enumerate() {
                interval(path, &format!("{key}.growth[{j}]"), *g, -1.0, 1.0)?;
            }
        }
        for (i, m) in self.mitigator.iter().enumerate() {
            interval(
                path,
                &format!("mitigator[{i}].admissions_avoided"),
                m.admissions_avoided,
                0.0,
                1.0,
            )?;
            if m.care_model.trim().is_empty() {
                return Err(bad(
                    path,
                    &format!("mitigator[{i}].care_model"),
                    "\"\"",
                    "must name a care model",
                ));
            }
        }
        if !(self.heads.paid_hours_per_wte > 0.0 && self.heads.paid_hours_per_wte.is_finite()) {
            return Err(bad(
                path,
                "heads.paid_hours_per_wte",
                self.heads.paid_hours_per_wte,
                "must be above 0",
            ));
        }
        for (i, g) in self.heads.group.iter().enumerate() {
            let k = |f: &str| format!("heads.group[{i}] ({}).{f}", g.staff_group);
            if !(0.0..1.0).contains(&g.headroom) {
                return Err(bad(
                    path,
                    &k("headroom"),
                    g.headroom,
                    "must be at least 0 and below 1",
                ));
            }
            match &g.hours_per_unit {
                HoursPerUnit::Fixed(h) if !(*h > 0.0 && h.is_finite()) => {
                    return Err(bad(
                        path,
                        &k("hours_per_unit"),
                        h,
                        "must be above 0, or \"baseline\"",
                    ));
                }
                HoursPerUnit::Baseline(s) if s != "baseline" => {
                    return Err(bad(
                        path,
                        &k("hours_per_unit"),
                        s,
                        "must be a number of hours, or \"baseline\"",
                    ));
                }
                _ => {}
            }
            if self.heads.group[..i]
                .iter()
                .any(|o| o.staff_group == g.staff_group)
            {
                return Err(bad(path, &k("staff_group"), &g.staff_group, "is given twice"));
            }
        }
        Ok(())
    }

    pub fn pool(&self, p: Pool) -> &PoolAssumptions {
        &self.pools[&p]
    }
}
