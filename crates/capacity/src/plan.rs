//! Plans as data, and whether they add up.
//!
//! A plan file is CSV with the columns `period, org_code, measure, category, value`:
//! - `period`: the financial year planned for (`2026/27`); one year per file;
//! - `org_code`: a provider (trust) or a system;
//! - `measure`: `beds` (category a bed group: `ga`, `paediatric`, `maternity`,
//!   `critical_care`, `community`), `bed_days` or `admissions` (category a bed group: the
//!   activity planned there in the year), or `wte` (category a staff group);
//! - `value`: a number ≥ 0.
//!
//! A provider's bed group that the plan does not mention keeps its current beds (the `beds`
//! table's mean available beds in the baseline year, shared over its pools by their bed days:
//! the table has no pool). Activity the plan does not mention is the projection's central
//! figure. Every line is checked before anything is used; the first error names the file,
//! line, column, value and rule.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Serialize;

use crate::Error;
use crate::assumptions::{Assumptions, POOLS, Pool};
use crate::baseline::Baseline;
use crate::project::{Projection, summary};

/// The bed groups a plan speaks of, and their pools.
pub const GROUPS: [(&str, &[Pool]); 5] = [
    ("ga", &[Pool::GaElective, Pool::GaNonElective]),
    ("paediatric", &[Pool::Paediatric]),
    ("maternity", &[Pool::Maternity]),
    ("critical_care", &[Pool::CriticalCare]),
    ("community", &[Pool::Community]),
];

/// The measures of a plan line.
pub const MEASURES: [&str; 4] = ["beds", "bed_days", "admissions", "wte"];

/// One plan line.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Line {
    pub org_code: String,
    pub measure: String,
    pub category: String,
    pub value: f64,
}

/// A change to a provider's figure that a plan line does not state: a recovery plan's
/// commitment (a lever amount from the register), added to the current beds, the in-post
/// WTE, or the projected activity. Where the plan has a line for the same provider, measure
/// and category, the line stands: it is the fuller statement.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Change {
    pub org_code: String,
    /// `beds`, `admissions` or `wte`.
    pub measure: String,
    /// A bed group, or a staff group for `wte`.
    pub category: String,
    pub delta: f64,
    /// Where it comes from (`case 3, commitment 7: acute_beds -40`).
    pub source: String,
}

/// A whole plan.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Plan {
    /// Financial year (start year).
    pub year: i32,
    pub lines: Vec<Line>,
    /// Changes from the register's commitments (none in a plan file).
    #[serde(default)]
    pub changes: Vec<Change>,
}

/// One lever of a recovery plan's commitment, as the register holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Commitment {
    pub source: String,
    pub org_code: String,
    /// `acute_beds`, `workforce_wte`, `activity_moved`; other levers are not heads or beds.
    pub lever: String,
    pub amount: f64,
    pub to_org_code: Option<String>,
}

impl Commitment {
    pub fn new(
        source: String,
        org_code: &str,
        lever: &str,
        amount: f64,
        to_org_code: Option<&str>,
    ) -> Commitment {
        Commitment {
            source,
            org_code: org_code.to_string(),
            lever: lever.to_string(),
            amount,
            to_org_code: to_org_code.map(str::to_string),
        }
    }
}

fn at(file: &str, line: u64, column: &str, value: &str, rule: &str) -> Error {
    Error::Located {
        file: file.to_string(),
        line,
        column: column.to_string(),
        value: value.to_string(),
        rule: rule.to_string(),
    }
}

impl Plan {
    /// Reads and checks a plan file against the dataset's organisations and systems.
    pub fn read(path: &Path, orgs: &BTreeSet<String>, systems: &BTreeSet<String>) -> Result<Plan, Error> {
        let text = std::fs::read(path).map_err(|e| Error::Request(format!("{}: {e}", path.display())))?;
        Plan::parse(&text, &path.display().to_string(), orgs, systems)
    }

    /// Parses a plan's bytes; `file` names it in errors.
    pub fn parse(
        bytes: &[u8],
        file: &str,
        orgs: &BTreeSet<String>,
        systems: &BTreeSet<String>,
    ) -> Result<Plan, Error> {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
        let header = rdr
            .headers()
            .map_err(|e| at(file, 1, "(header)", "", &format!("cannot read the header: {e}")))?
            .clone();
        const COLUMNS: [&str; 5] = ["period", "org_code", "measure", "category", "value"];
        let mut index = [0usize; 5];
        for (k, c) in COLUMNS.iter().enumerate() {
            index[k] = header.iter().position(|h| h.trim() == *c).ok_or_else(|| {
                at(
                    file,
                    1,
                    c,
                    "",
                    &format!(
                        "the column is missing (the header must have {})",
                        COLUMNS.join(", ")
                    ),
                )
            })?;
        }
        let mut year = None;
        let mut lines = Vec::new();
        let mut seen = BTreeMap::new();
        for rec in rdr.records() {
            let rec = rec.map_err(|e| {
                let line = e.position().map_or(0, |p| p.line());
                at(file, line, "(row)", "", &format!("not a CSV row: {e}"))
            })?;
            let line = rec.position().map_or(0, |p| p.line());
            if rec.iter().all(|c| c.trim().is_empty()) {
                continue;
            }
            if rec.len() != header.len() {
                return Err(at(
                    file,
                    line,
                    "(row)",
                    &rec.len().to_string(),
                    &format!(
                        "the row has {} fields but the header has {}",
                        rec.len(),
                        header.len()
                    ),
                ));
            }
            let cell = |k: usize| rec.get(index[k]).unwrap_or("").trim();
            let period = cell(0);
            let y = match period.parse::<model::Period>() {
                Ok(model::Period::Year(y)) => y,
                _ => {
                    return Err(at(
                        file,
                        line,
                        "period",
                        period,
                        "must be a financial year such as 2026/27",
                    ));
                }
            };
            match year {
                None => year = Some(y),
                Some(first) if first != y => {
                    return Err(at(
                        file,
                        line,
                        "period",
                        period,
                        "a plan file covers one financial year: an earlier line gave another",
                    ));
                }
                _ => {}
            }
            let org = cell(1);
            if !orgs.contains(org) && !systems.contains(org) {
                return Err(at(
                    file,
                    line,
                    "org_code",
                    org,
                    "must be an organisation or a system of the dataset",
                ));
            }
            let measure = cell(2);
            if !MEASURES.contains(&measure) {
                return Err(at(
                    file,
                    line,
                    "measure",
                    measure,
                    &format!("must be one of {}", MEASURES.join(", ")),
                ));
            }
            let category = cell(3);
            if measure == "wte" {
                if category.is_empty() {
                    return Err(at(
                        file,
                        line,
                        "category",
                        category,
                        "a wte line names its staff group",
                    ));
                }
            } else if !GROUPS.iter().any(|(g, _)| *g == category) {
                let names: Vec<&str> = GROUPS.iter().map(|g| g.0).collect();
                return Err(at(
                    file,
                    line,
                    "category",
                    category,
                    &format!("must be a bed group: one of {}", names.join(", ")),
                ));
            }
            let raw = cell(4);
            let value: f64 = raw
                .parse()
                .ok()
                .filter(|v: &f64| v.is_finite() && *v >= 0.0)
                .ok_or_else(|| at(file, line, "value", raw, "must be a number ≥ 0"))?;
            let key = (org.to_string(), measure.to_string(), category.to_string());
            if let Some(first) = seen.insert(key, line) {
                return Err(at(
                    file,
                    line,
                    "org_code",
                    org,
                    &format!("repeats line {first}'s organisation, measure and category"),
                ));
            }
            lines.push(Line {
                org_code: org.to_string(),
                measure: measure.to_string(),
                category: category.to_string(),
                value,
            });
        }
        let year = year.ok_or_else(|| at(file, 2, "(row)", "", "the plan has no lines"))?;
        Ok(Plan {
            year,
            lines,
            changes: Vec::new(),
        })
    }

    fn get(&self, org: &str, measure: &str, category: &str) -> Option<f64> {
        self.lines
            .iter()
            .find(|l| l.org_code == org && l.measure == measure && l.category == category)
            .map(|l| l.value)
    }

    /// A provider's figure: the plan's line, else `default` with the changes for it added
    /// (never below 0), else `default`. The flag says whether the plan or a change set it.
    fn value(&self, org: &str, measure: &str, category: &str, default: Option<f64>) -> (Option<f64>, bool) {
        if let Some(v) = self.get(org, measure, category) {
            return (Some(v), true);
        }
        let mut any = false;
        let delta: f64 = self
            .changes
            .iter()
            .filter(|c| c.org_code == org && c.measure == measure && c.category == category)
            .inspect(|_| any = true)
            .map(|c| c.delta)
            .sum();
        if any {
            (Some((default.unwrap_or(0.0) + delta).max(0.0)), true)
        } else {
            (default, false)
        }
    }

    /// Whether the plan says anything of `org`.
    fn mentions(&self, org: &str) -> bool {
        self.lines.iter().any(|l| l.org_code == org) || self.changes.iter().any(|c| c.org_code == org)
    }

    /// Adds a recovery plan's commitments as changes: `acute_beds` to the provider's G&A beds,
    /// `workforce_wte` shared over its staff groups by their WTE in post (the lever names no
    /// group), `activity_moved` as G&A spells taken from one provider and given to the other.
    /// A commitment naming an organisation the baseline has no provider for is refused.
    pub fn with_commitments(
        mut self,
        commitments: &[Commitment],
        baseline: &Baseline,
    ) -> Result<Plan, Error> {
        let provider = |code: &str, c: &Commitment| {
            baseline.providers.iter().find(|p| p.code == code).ok_or_else(|| {
                Error::Request(format!(
                    "{}: {} names {code}, which has no inpatient activity in the baseline",
                    c.source, c.lever
                ))
            })
        };
        for c in commitments {
            let change = |org: &str, measure: &str, category: &str, delta: f64| Change {
                org_code: org.to_string(),
                measure: measure.to_string(),
                category: category.to_string(),
                delta,
                source: format!("{}: {} {}", c.source, c.lever, c.amount),
            };
            match c.lever.as_str() {
                "acute_beds" => {
                    provider(&c.org_code, c)?;
                    self.changes.push(change(&c.org_code, "beds", "ga", c.amount));
                }
                "workforce_wte" => {
                    let p = provider(&c.org_code, c)?;
                    let total: f64 = p.wte.values().sum();
                    if total <= 0.0 {
                        return Err(Error::Request(format!(
                            "{}: workforce_wte at {} cannot be shared over staff groups: the workforce table has none in post there",
                            c.source, c.org_code
                        )));
                    }
                    for (group, wte) in &p.wte {
                        self.changes
                            .push(change(&c.org_code, "wte", group, c.amount * wte / total));
                    }
                }
                "activity_moved" => {
                    provider(&c.org_code, c)?;
                    let to = c.to_org_code.as_deref().ok_or_else(|| {
                        Error::Request(format!(
                            "{}: activity_moved names no receiving organisation",
                            c.source
                        ))
                    })?;
                    provider(to, c)?;
                    self.changes
                        .push(change(&c.org_code, "admissions", "ga", -c.amount));
                    self.changes.push(change(to, "admissions", "ga", c.amount));
                }
                _ => {}
            }
        }
        Ok(self)
    }
}

/// A range of requirement across runs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Range {
    pub p10: f64,
    pub mean: f64,
    pub p90: f64,
}

impl Range {
    fn of(mut values: Vec<f64>) -> Option<Range> {
        summary(&mut values).map(|[p10, mean, p90]| Range { p10, mean, p90 })
    }
}

/// One bed group at one provider or system.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct BedCheck {
    pub group: String,
    /// Bed days a year in the baseline, and projected (central).
    pub baseline_bed_days: f64,
    pub projected_bed_days: f64,
    /// Bed days the plan puts here (its own figure, or the projection).
    pub planned_bed_days: f64,
    pub current_beds: Option<f64>,
    pub planned_beds: Option<f64>,
    /// Whether the plan gave the beds (otherwise they are the current beds).
    pub beds_from_plan: bool,
    pub required_beds: Range,
    /// Beds the central projection needs in the busiest month (seasonal peak).
    pub winter_peak_beds: f64,
    /// Planned bed days ÷ days ÷ planned beds.
    pub implied_occupancy: Option<f64>,
    pub max_occupancy: f64,
    pub flags: Vec<String>,
}

/// One staff group at one provider or system.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct HeadsCheck {
    pub staff_group: String,
    pub in_post: Option<f64>,
    pub planned: Option<f64>,
    pub required: Option<Range>,
    pub flags: Vec<String>,
}

/// One waterfall step, in bed days a year and in mean occupied beds.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Step {
    pub step: String,
    pub bed_days: f64,
    pub occupied_beds: f64,
}

/// One provider's or system's verdict.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Unit {
    pub code: String,
    pub name: String,
    pub system_code: Option<String>,
    pub region_code: Option<String>,
    pub beds: Vec<BedCheck>,
    pub heads: Vec<HeadsCheck>,
    pub adds_up: bool,
    /// The arithmetic of every flag, in sentences.
    pub reasons: Vec<String>,
}

/// A system's verdict, with its providers and the waterfall.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct SystemReport {
    #[serde(flatten)]
    pub unit: Unit,
    pub has_plan: bool,
    pub providers: Vec<Unit>,
    /// Every pool's change from baseline, step by step (central projection), summed over the
    /// system's providers.
    pub waterfall: Vec<Step>,
    /// Trusts that fall short under the plan.
    pub short: Vec<String>,
}

/// A region's or England's roll-up.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Rollup {
    pub code: String,
    pub name: String,
    pub systems: usize,
    pub systems_adding_up: usize,
    pub systems_not_adding_up: Vec<String>,
    pub planned_beds: f64,
    pub required_beds: Range,
    pub current_beds: f64,
}

/// The whole answer.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Report {
    pub baseline_year: String,
    pub plan_year: String,
    pub runs: usize,
    pub seed: u64,
    /// Days in the baseline year (bed days ÷ days = occupied beds).
    pub days: f64,
    pub systems: Vec<SystemReport>,
    pub regions: Vec<Rollup>,
    pub england: Rollup,
    pub method: String,
}

fn fy(y: i32) -> String {
    model::Period::Year(y).to_string()
}

/// Checks the plan (or, with none, the current capacity) against the projection.
pub fn check(
    baseline: &Baseline,
    a: &Assumptions,
    proj: &Projection,
    plan: Option<&Plan>,
    seed: u64,
) -> Report {
    let days = baseline.days;
    let empty = Plan {
        year: baseline.year + proj.years as i32,
        lines: Vec::new(),
        changes: Vec::new(),
    };
    let plan_ref = plan.unwrap_or(&empty);
    let runs = proj.beds.len();
    // Current beds per provider and pool: available beds shared by the pools' bed days.
    let current: Vec<[Option<f64>; 6]> = baseline
        .providers
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let total: f64 = proj.pools[i].iter().map(|b| b.nights()).sum();
            std::array::from_fn(|k| {
                let avail = p.beds_available?;
                (total > 0.0).then(|| avail * proj.pools[i][k].nights() / total)
            })
        })
        .collect();
    // England's projected stay per bed group (bed days per spell), for spells a plan moves to
    // a trust that has none of that group.
    let gi_of = |g: &str| GROUPS.iter().position(|(n, _)| *n == g).unwrap_or(0);
    let england_stay: Vec<f64> = GROUPS
        .iter()
        .map(|(_, pools)| {
            let (mut n, mut d) = (0.0, 0.0);
            for c in &proj.central {
                for k in pools.iter() {
                    n += c[k.index()].admissions;
                    d += c[k.index()].nights[5];
                }
            }
            if n > 0.0 { d / n } else { 0.0 }
        })
        .collect();
    let max_occ = |pools: &[Pool]| pools.iter().map(|p| a.pool(*p).max_occupancy).fold(0.0, f64::max);
    let ga_max = max_occ(&[Pool::GaElective, Pool::GaNonElective]);

    let provider_unit = |i: usize| -> ProviderUnit {
        let p = &baseline.providers[i];
        let mut beds = Vec::new();
        let mut reasons = Vec::new();
        let mut per_run_groups = Vec::new();
        let mut sums = Vec::new();
        for (g, pools) in GROUPS {
            let base: f64 = pools.iter().map(|k| proj.pools[i][k.index()].nights()).sum();
            let projected: f64 = pools.iter().map(|k| proj.central[i][k.index()].nights[5]).sum();
            let runs_beds: Vec<f64> = (0..runs)
                .map(|r| pools.iter().map(|k| proj.beds[r][i][k.index()]).sum())
                .collect();
            let cur: Option<f64> = pools
                .iter()
                .try_fold(0.0, |acc, k| Some(acc + current[i][k.index()]?));
            let (planned, beds_from_plan) = plan_ref.value(&p.code, "beds", g, cur);
            let planned_beds_line = planned.filter(|_| beds_from_plan);
            // Planned activity: bed days, else spells at the projected stay (England's where
            // the trust has none of this group), else the projection.
            let projected_spells: f64 = pools.iter().map(|k| proj.central[i][k.index()].admissions).sum();
            let (spells, spells_planned) = plan_ref.value(&p.code, "admissions", g, Some(projected_spells));
            let planned_days = plan_ref.get(&p.code, "bed_days", g).or_else(|| {
                let stay = if projected_spells > 0.0 {
                    projected / projected_spells
                } else {
                    england_stay[gi_of(g)]
                };
                // A group without spells (critical care is a share of bed days) keeps its
                // projected bed days.
                (spells_planned && stay > 0.0).then(|| spells.unwrap_or(0.0) * stay)
            });
            if base <= 0.0 && projected <= 0.0 && planned_beds_line.is_none() && planned_days.is_none() {
                per_run_groups.push(vec![0.0; runs]);
                sums.push([0.0, 0.0, 0.0, 0.0]);
                continue;
            }
            let planned_bed_days = planned_days.unwrap_or(projected);
            let peak: f64 = pools.iter().map(|k| proj.central[i][k.index()].beds_peak).sum();
            let required = Range::of(runs_beds.clone()).unwrap_or(Range {
                p10: 0.0,
                mean: 0.0,
                p90: 0.0,
            });
            let load = planned_bed_days / days;
            let occ = planned.and_then(|n| (n > 0.0).then(|| load / n));
            let max = max_occ(pools);
            let mut flags = Vec::new();
            // Beds apportioned from the trust's total are checked only in the total (below):
            // the `beds` table has no pools, so a pool's share of it is not a capacity.
            if let Some(n) = planned_beds_line {
                if n < required.p10 {
                    flags.push("below_requirement".to_string());
                    reasons.push(format!(
                        "{}: {g} beds {} {:.0}, below the projected requirement of {:.0} (p10) to {:.0} (p90), mean {:.0}",
                        p.code,
                        "planned",
                        n,
                        required.p10,
                        required.p90,
                        required.mean
                    ));
                }
                if let Some(o) = occ
                    && o > max
                {
                    flags.push("occupancy_above_max".to_string());
                    reasons.push(format!(
                        "{}: {g} — {:.0} bed days a year is {:.1} occupied beds a day; on {:.0} beds that is {:.1}% occupancy, above the {:.0}% maximum",
                        p.code,
                        planned_bed_days,
                        load,
                        n,
                        o * 100.0,
                        max * 100.0
                    ));
                }
            }
            if planned_days.is_some_and(|d| d < projected * 0.99) {
                flags.push("activity_below_projection".to_string());
            }
            per_run_groups.push(runs_beds);
            sums.push([base, projected, planned_bed_days, planned.unwrap_or(0.0)]);
            beds.push(BedCheck {
                group: g.to_string(),
                baseline_bed_days: base,
                projected_bed_days: projected,
                planned_bed_days,
                current_beds: cur,
                planned_beds: planned,
                beds_from_plan,
                required_beds: required,
                winter_peak_beds: peak,
                implied_occupancy: occ,
                max_occupancy: max,
                flags,
            });
        }
        add_total(&p.code, &mut beds, &per_run_groups, days, ga_max, &mut reasons);
        let mut heads = Vec::new();
        for (k, group) in proj.groups.iter().enumerate() {
            let runs_wte: Option<Vec<f64>> = (0..runs).map(|r| proj.wte[r][i][k]).collect();
            let required = runs_wte.and_then(Range::of);
            let in_post = p.wte.get(group).copied();
            let (planned, from_plan) = plan_ref.value(&p.code, "wte", group, in_post);
            let planned = planned.filter(|_| from_plan);
            if required.is_none() && in_post.is_none() && planned.is_none() {
                continue;
            }
            let mut flags = Vec::new();
            if let (Some(n), Some(req)) = (planned, required)
                && n < req.p10
            {
                flags.push("below_requirement".to_string());
                reasons.push(format!(
                    "{}: {group} WTE planned {n:.0}, below the projected requirement of {:.0} (p10) to {:.0} (p90)",
                    p.code, req.p10, req.p90
                ));
            }
            heads.push(HeadsCheck {
                staff_group: group.clone(),
                in_post,
                planned,
                required,
                flags,
            });
        }
        let adds_up = reasons.is_empty();
        (
            Unit {
                code: p.code.clone(),
                name: p.name.clone(),
                system_code: p.system.clone(),
                region_code: p.region.clone(),
                beds,
                heads,
                adds_up,
                reasons,
            },
            per_run_groups,
            sums,
        )
    };

    let units: Vec<ProviderUnit> = (0..baseline.providers.len()).map(provider_unit).collect();
    let mut systems = Vec::new();
    for (code, (name, region)) in &baseline.systems {
        let members: Vec<usize> = (0..baseline.providers.len())
            .filter(|&i| baseline.providers[i].system.as_deref() == Some(code.as_str()))
            .collect();
        let has_plan = plan.is_some_and(|p| {
            p.mentions(code) || members.iter().any(|&i| p.mentions(&baseline.providers[i].code))
        });
        let mut beds = Vec::new();
        let mut reasons: Vec<String> = members.iter().flat_map(|&i| units[i].0.reasons.clone()).collect();
        let mut short: Vec<String> = members
            .iter()
            .filter(|&&i| !units[i].0.adds_up)
            .map(|&i| baseline.providers[i].code.clone())
            .collect();
        let mut sys_runs: Vec<Vec<f64>> = Vec::new();
        for (gi, (g, pools)) in GROUPS.iter().enumerate() {
            let mut runs_beds = vec![0.0; runs];
            let (mut base, mut projected, mut planned_days, mut planned_beds) = (0.0, 0.0, 0.0, 0.0);
            let mut cur = 0.0;
            let mut any_cur = false;
            let mut peak = 0.0;
            for &i in &members {
                peak += pools
                    .iter()
                    .map(|k| proj.central[i][k.index()].beds_peak)
                    .sum::<f64>();
                for (r, v) in units[i].1[gi].iter().enumerate() {
                    runs_beds[r] += v;
                }
                let s = units[i].2[gi];
                base += s[0];
                projected += s[1];
                planned_days += s[2];
                planned_beds += s[3];
                for k in pools.iter() {
                    if let Some(c) = current[i][k.index()] {
                        cur += c;
                        any_cur = true;
                    }
                }
            }
            let sys_beds = plan_ref.get(code, "beds", g);
            let planned = sys_beds.unwrap_or(planned_beds);
            if base <= 0.0 && projected <= 0.0 && sys_beds.is_none() {
                continue;
            }
            let runs_for_total = runs_beds.clone();
            let required = Range::of(runs_beds).unwrap_or(Range {
                p10: 0.0,
                mean: 0.0,
                p90: 0.0,
            });
            let sys_days = plan_ref.get(code, "bed_days", g).unwrap_or(planned_days);
            let load = sys_days / days;
            let occ = (planned > 0.0).then(|| load / planned);
            let max = max_occ(pools);
            let mut flags = Vec::new();
            let from_plan = sys_beds.is_some()
                || members
                    .iter()
                    .any(|&i| units[i].0.beds.iter().any(|b| b.group == *g && b.beds_from_plan));
            if from_plan && planned < required.p10 {
                flags.push("below_requirement".to_string());
                reasons.push(format!(
                    "{code}: {g} beds across the system {planned:.0}, below the projected requirement of {:.0} (p10) to {:.0} (p90), summed over its trusts' pools",
                    required.p10, required.p90
                ));
            }
            if from_plan && occ.is_some_and(|o| o > max) {
                flags.push("occupancy_above_max".to_string());
                reasons.push(format!(
                    "{code}: {g} — {load:.1} occupied beds a day on {planned:.0} beds is {:.1}% occupancy, above the {:.0}% maximum",
                    occ.unwrap_or(0.0) * 100.0,
                    max * 100.0
                ));
            }
            if sys_days < projected * 0.99 {
                flags.push("unplaced_demand".to_string());
                reasons.push(format!(
                    "{code}: {g} — the plan places {sys_days:.0} bed days a year, {:.0} fewer than the {projected:.0} projected: demand the plan sends nowhere",
                    projected - sys_days
                ));
            }
            sys_runs.push(runs_for_total);
            beds.push(BedCheck {
                group: g.to_string(),
                baseline_bed_days: base,
                projected_bed_days: projected,
                planned_bed_days: sys_days,
                current_beds: any_cur.then_some(cur),
                planned_beds: Some(planned),
                beds_from_plan: from_plan,
                required_beds: required,
                winter_peak_beds: peak,
                implied_occupancy: occ,
                max_occupancy: max,
                flags,
            });
        }
        add_total(code, &mut beds, &sys_runs, days, ga_max, &mut reasons);
        let mut heads = Vec::new();
        for (k, group) in proj.groups.iter().enumerate() {
            let mut runs_wte = vec![0.0; runs];
            let mut any = false;
            for &i in &members {
                for (r, row) in proj.wte.iter().enumerate() {
                    if let Some(v) = row[i][k] {
                        runs_wte[r] += v;
                        any = true;
                    }
                }
            }
            let in_post: Option<f64> = members
                .iter()
                .filter_map(|&i| baseline.providers[i].wte.get(group))
                .fold(None, |a, v| Some(a.unwrap_or(0.0) + v));
            // The system's own line, else its members' plans (a member the plan leaves
            // alone keeps its WTE in post) when the plan or a change speaks of any of them.
            let planned = plan_ref.get(code, "wte", group).or_else(|| {
                let member = |i: usize| {
                    let p = &baseline.providers[i];
                    plan_ref.value(&p.code, "wte", group, p.wte.get(group).copied())
                };
                members
                    .iter()
                    .any(|&i| member(i).1)
                    .then(|| members.iter().filter_map(|&i| member(i).0).sum())
            });
            let required = if any { Range::of(runs_wte) } else { None };
            let mut flags = Vec::new();
            if let (Some(n), Some(req)) = (planned, required)
                && n < req.p10
            {
                flags.push("below_requirement".to_string());
                reasons.push(format!("{code}: {group} WTE planned {n:.0}, below the projected requirement of {:.0} (p10) to {:.0} (p90)", req.p10, req.p90));
            }
            if required.is_some() || in_post.is_some() || planned.is_some() {
                heads.push(HeadsCheck {
                    staff_group: group.clone(),
                    in_post,
                    planned,
                    required,
                    flags,
                });
            }
        }
        let mut waterfall = Vec::new();
        let mut prev = 0.0;
        for s in 0..=STEPS_LEN {
            let total: f64 = members
                .iter()
                .map(|&i| proj.central[i].iter().map(|p| p.nights[s]).sum::<f64>())
                .sum();
            let name = if s == 0 {
                "baseline".to_string()
            } else {
                crate::project::STEPS[s - 1].to_string()
            };
            let value = if s == 0 { total } else { total - prev };
            waterfall.push(Step {
                step: name,
                bed_days: value,
                occupied_beds: value / days,
            });
            prev = total;
        }
        waterfall.push(Step {
            step: "projected".into(),
            bed_days: prev,
            occupied_beds: prev / days,
        });
        reasons.dedup();
        short.dedup();
        let adds_up = reasons.is_empty();
        systems.push(SystemReport {
            unit: Unit {
                code: code.clone(),
                name: name.clone(),
                system_code: Some(code.clone()),
                region_code: Some(region.clone()),
                beds,
                heads,
                adds_up,
                reasons,
            },
            has_plan,
            providers: members.iter().map(|&i| units[i].0.clone()).collect(),
            waterfall,
            short,
        });
    }
    let rollup = |code: &str, name: &str, of: &[&SystemReport]| -> Rollup {
        let mut runs_total = vec![0.0; runs];
        for s in of {
            for p in &s.providers {
                if let Some(i) = baseline.providers.iter().position(|b| b.code == p.code) {
                    for gi in 0..GROUPS.len() {
                        for (r, v) in units[i].1[gi].iter().enumerate() {
                            runs_total[r] += v;
                        }
                    }
                }
            }
        }
        Rollup {
            code: code.to_string(),
            name: name.to_string(),
            systems: of.len(),
            systems_adding_up: of.iter().filter(|s| s.unit.adds_up).count(),
            systems_not_adding_up: of
                .iter()
                .filter(|s| !s.unit.adds_up)
                .map(|s| s.unit.code.clone())
                .collect(),
            planned_beds: of
                .iter()
                .flat_map(|s| &s.unit.beds)
                .filter(|b| b.group != "all")
                .filter_map(|b| b.planned_beds)
                .sum(),
            required_beds: Range::of(runs_total).unwrap_or(Range {
                p10: 0.0,
                mean: 0.0,
                p90: 0.0,
            }),
            current_beds: of
                .iter()
                .flat_map(|s| &s.unit.beds)
                .filter(|b| b.group != "all")
                .filter_map(|b| b.current_beds)
                .sum(),
        }
    };
    let regions = baseline
        .regions
        .iter()
        .map(|(code, name)| {
            let of: Vec<&SystemReport> = systems
                .iter()
                .filter(|s| s.unit.region_code.as_deref() == Some(code.as_str()))
                .collect();
            rollup(code, name, &of)
        })
        .collect();
    let all: Vec<&SystemReport> = systems.iter().collect();
    let england = rollup("ENG", "England", &all);
    let _ = POOLS;
    Report {
        baseline_year: fy(baseline.year),
        plan_year: fy(plan_ref.year),
        runs,
        seed,
        days,
        systems,
        regions,
        england,
        method: "Demand per trust and pool from the baseline year's spells, projected by demography (by single year of age), non-demographic growth, care-model mitigation, length-of-stay reduction and day-case conversion, each an 80% interval sampled in a seeded Monte Carlo; beds per pool by its method (fixed occupancy, Erlang loss, Poisson peak or NHP bed scaling) and summed over pools and trusts, never pooled into one queue; WTE by staff group from drivers".into(),
    }
}

/// A trust's verdict, each bed group's beds run by run, and each group's sums (baseline,
/// projected and planned bed days, planned beds).
type ProviderUnit = (Unit, Vec<Vec<f64>>, Vec<[f64; 4]>);

const STEPS_LEN: usize = crate::project::STEPS.len();

/// The whole trust's or system's beds (`group = "all"`): every group's beds (planned, or
/// current where the plan is silent) against the sum of every pool's requirement, run by run.
/// `runs_by_group` are the runs of the groups in `groups`' order.
fn total_check(groups: &[BedCheck], runs_by_group: &[Vec<f64>], days: f64, max: f64) -> Option<BedCheck> {
    if groups.is_empty() {
        return None;
    }
    let runs = runs_by_group.iter().map(Vec::len).max().unwrap_or(0);
    let mut total_runs = vec![0.0; runs];
    for g in runs_by_group {
        for (r, v) in g.iter().enumerate() {
            total_runs[r] += v;
        }
    }
    let planned: Option<f64> = groups.iter().try_fold(0.0, |acc, g| Some(acc + g.planned_beds?));
    let current: Option<f64> = groups.iter().try_fold(0.0, |acc, g| Some(acc + g.current_beds?));
    let sum = |f: fn(&BedCheck) -> f64| groups.iter().map(f).sum::<f64>();
    let planned_bed_days = sum(|g| g.planned_bed_days);
    let required = Range::of(total_runs).unwrap_or(Range {
        p10: 0.0,
        mean: 0.0,
        p90: 0.0,
    });
    let occ = planned.and_then(|n| (n > 0.0).then(|| planned_bed_days / days / n));
    let mut flags = Vec::new();
    if planned.is_some_and(|n| n < required.p10) {
        flags.push("below_requirement".to_string());
    }
    if occ.is_some_and(|o| o > max) {
        flags.push("occupancy_above_max".to_string());
    }
    Some(BedCheck {
        group: "all".into(),
        baseline_bed_days: sum(|g| g.baseline_bed_days),
        projected_bed_days: sum(|g| g.projected_bed_days),
        planned_bed_days,
        current_beds: current,
        planned_beds: planned,
        beds_from_plan: groups.iter().any(|g| g.beds_from_plan),
        required_beds: required,
        winter_peak_beds: sum(|g| g.winter_peak_beds),
        implied_occupancy: occ,
        max_occupancy: max,
        flags,
    })
}

/// Adds the `all` row of a trust or system to its groups, with the reasons for its flags.
fn add_total(
    code: &str,
    beds: &mut Vec<BedCheck>,
    runs_by_group: &[Vec<f64>],
    days: f64,
    max: f64,
    reasons: &mut Vec<String>,
) {
    if let Some(total) = total_check(beds, runs_by_group, days, max) {
        for f in &total.flags {
            reasons.push(total_reason(code, &total, f));
        }
        beds.push(total);
    }
}

fn total_reason(code: &str, t: &BedCheck, flag: &str) -> String {
    let n = t.planned_beds.unwrap_or(0.0);
    if flag == "below_requirement" {
        format!(
            "{code}: all beds {n:.0}, below the projected requirement of {:.0} (p10) to {:.0} (p90), summed over every pool",
            t.required_beds.p10, t.required_beds.p90
        )
    } else {
        format!(
            "{code}: all beds — {:.1} occupied beds a day on {n:.0} beds is {:.1}% occupancy, above the {:.0}% maximum",
            t.implied_occupancy.unwrap_or(0.0) * n,
            t.implied_occupancy.unwrap_or(0.0) * 100.0,
            t.max_occupancy * 100.0
        )
    }
}

/// Bed days are rounded to this in everything served or written for others.
pub const BED_DAYS_ROUNDING: f64 = 10.0;

fn round_to(v: f64, step: f64) -> f64 {
    (v / step).round() * step
}

/// The report as it is published: every bed-day figure below England rounded to the nearest
/// ten (`BED_DAYS_ROUNDING`), and the waterfall's steps rounded the same way, so that a pool
/// of a handful of spells at one trust does not show its exact nights and differences of
/// published figures do not recover them. Beds, occupancy and requirements are capacity, not
/// counts of patients, and are shown as computed. Verdicts are computed before rounding.
pub fn publish(mut r: Report) -> Report {
    let round_beds = |b: &mut BedCheck| {
        b.baseline_bed_days = round_to(b.baseline_bed_days, BED_DAYS_ROUNDING);
        b.projected_bed_days = round_to(b.projected_bed_days, BED_DAYS_ROUNDING);
        b.planned_bed_days = round_to(b.planned_bed_days, BED_DAYS_ROUNDING);
    };
    for s in &mut r.systems {
        s.unit.beds.iter_mut().for_each(round_beds);
        for p in &mut s.providers {
            p.beds.iter_mut().for_each(round_beds);
        }
        // Steps are differences of rounded running totals, so they still add up.
        let mut total = 0.0;
        let mut shown = 0.0;
        let days = r.days;
        let last = s.waterfall.len().saturating_sub(1);
        for (i, st) in s.waterfall.iter_mut().enumerate() {
            if i == last {
                st.bed_days = round_to(st.bed_days, BED_DAYS_ROUNDING);
            } else {
                total += st.bed_days;
                let rounded_total = round_to(total, BED_DAYS_ROUNDING);
                st.bed_days = rounded_total - shown;
                shown = rounded_total;
            }
            st.occupied_beds = st.bed_days / days;
        }
    }
    r
}
