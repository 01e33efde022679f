//! Capitated budgets for defined populations: need-weighted persons × the national base rate
//! for the services in scope × an unavoidable-cost factor, against current spend, with a
//! pace-of-change rule.

use crate::need::{Persons, PracticeNeed};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// A population to budget for, as written in a TOML file (`docs/budgets.md`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Population {
    pub name: String,
    /// `mcp`, `pacs` or `aco`: documentation only; the scope decides the services.
    #[serde(default)]
    pub model: Option<String>,
    /// Practices whose registered lists make up the population.
    #[serde(default)]
    pub practices: Vec<String>,
    /// Or whole systems (every practice in them): an accountable care organisation.
    #[serde(default)]
    pub systems: Vec<String>,
    /// Settings of the spend table the budget covers.
    pub scope: Vec<String>,
    #[serde(default = "one")]
    pub unavoidable_cost_factor: f64,
    /// Most a budget may rise towards its target in a year, as a share of current spend.
    #[serde(default = "default_gain")]
    pub max_increase: f64,
    /// Most a budget may fall towards its target in a year.
    #[serde(default = "default_loss")]
    pub max_decrease: f64,
}

fn one() -> f64 {
    1.0
}
fn default_gain() -> f64 {
    0.035
}
fn default_loss() -> f64 {
    0.01
}

pub const SETTINGS: [&str; 7] = [
    "acute",
    "community",
    "mental_health",
    "primary_care",
    "prescribing",
    "social_care",
    "other",
];

impl Population {
    pub fn parse(text: &str, file: &str) -> Result<Population, String> {
        let p: Population = toml::from_str(text)
            .map_err(|e| format!("{file}: {}", e.to_string().trim_end().replace('\n', " ")))?;
        let mut problems = Vec::new();
        if p.practices.is_empty() && p.systems.is_empty() {
            problems
                .push("practices: []: name the practices or the systems the population covers".to_string());
        }
        for s in &p.scope {
            if !SETTINGS.contains(&s.as_str()) {
                problems.push(format!(
                    "scope: {s:?}: not a setting of the spend table ({})",
                    SETTINGS.join(", ")
                ));
            }
        }
        if p.scope.is_empty() {
            problems.push("scope: []: at least one setting is needed".into());
        }
        for (k, v) in [
            ("unavoidable_cost_factor", p.unavoidable_cost_factor),
            ("max_increase", p.max_increase),
            ("max_decrease", p.max_decrease),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                problems.push(format!("{k}: {v}: must be a number ≥ 0"));
            }
        }
        if problems.is_empty() {
            Ok(p)
        } else {
            Err(format!("{file}: {}", problems.join("; ")))
        }
    }
}

/// What the budget is built from, national and local.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    /// Spend in the base year by commissioner and setting.
    pub spend: BTreeMap<(String, String), f64>,
    /// Each practice's commissioner and system.
    pub practice_parent: BTreeMap<String, (String, String)>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScopeLine {
    pub setting: String,
    /// National spend per registered person in the setting.
    pub national_per_head: f64,
    pub target: f64,
    pub current: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Budget {
    pub name: String,
    pub practices: usize,
    pub persons: u64,
    pub need_index: f64,
    pub need_weighted_persons: f64,
    pub unavoidable_cost_factor: f64,
    pub lines: Vec<ScopeLine>,
    pub target: f64,
    pub current: f64,
    /// (current − target) / target: positive is over target.
    pub distance_from_target: f64,
    /// Next year's budget under the pace-of-change rule.
    pub next_year: f64,
    pub explanation: Vec<String>,
}

/// The budget for `pop`.
pub fn budget(
    pop: &Population,
    persons: &Persons,
    need: &[PracticeNeed],
    inputs: &Inputs,
) -> Result<Budget, String> {
    let national_persons = persons.len() as f64;
    let national_expected: f64 = need.iter().map(|n| n.expected_cost).sum();
    let mean = national_expected / national_persons.max(1.0);
    let systems: BTreeSet<&str> = pop.systems.iter().map(String::as_str).collect();
    let mut wanted: BTreeSet<&str> = pop.practices.iter().map(String::as_str).collect();
    for (code, (_, system)) in &inputs.practice_parent {
        if systems.contains(system.as_str()) {
            wanted.insert(code);
        }
    }
    let known: BTreeSet<&str> = need.iter().map(|n| n.practice_code.as_str()).collect();
    if let Some(missing) = pop.practices.iter().find(|p| !known.contains(p.as_str())) {
        return Err(format!(
            "{}: practice {missing:?} has nobody registered for the whole base year",
            pop.name
        ));
    }
    let rows: Vec<&PracticeNeed> = need
        .iter()
        .filter(|n| wanted.contains(n.practice_code.as_str()))
        .collect();
    let n: u64 = rows.iter().map(|r| r.persons).sum();
    let expected: f64 = rows.iter().map(|r| r.expected_cost).sum();
    let weighted = if mean > 0.0 { expected / mean } else { 0.0 };
    let need_index = if n > 0 { weighted / n as f64 } else { 0.0 };
    // Each commissioner's registered persons, to apportion its spend to the population.
    let mut commissioner_persons: BTreeMap<&str, (f64, f64)> = BTreeMap::new();
    for r in need {
        if let Some((c, _)) = inputs.practice_parent.get(&r.practice_code) {
            let e = commissioner_persons.entry(c.as_str()).or_default();
            e.0 += r.persons as f64;
            if wanted.contains(r.practice_code.as_str()) {
                e.1 += r.persons as f64;
            }
        }
    }
    let mut lines = Vec::new();
    let mut explanation = vec![format!(
        "{} persons registered all year at {} practices; need index {:.4} (expected hospital cost per head over England's) gives {:.1} need-weighted persons",
        n,
        rows.len(),
        need_index,
        weighted
    )];
    for setting in &pop.scope {
        let national: f64 = inputs
            .spend
            .iter()
            .filter(|((_, s), _)| s == setting)
            .map(|(_, v)| v)
            .sum();
        let per_head = national / national_persons.max(1.0);
        let target = weighted * per_head * pop.unavoidable_cost_factor;
        let current: f64 = inputs
            .spend
            .iter()
            .filter(|((_, s), _)| s == setting)
            .map(|((c, _), v)| {
                let (all, ours) = commissioner_persons
                    .get(c.as_str())
                    .copied()
                    .unwrap_or((0.0, 0.0));
                if all > 0.0 { v * ours / all } else { 0.0 }
            })
            .sum();
        explanation.push(format!(
            "{setting}: England spent £{national:.0} on {national_persons} persons, £{per_head:.2} a head; × {weighted:.1} need-weighted persons × unavoidable-cost factor {} = £{target:.0}; current spend (commissioners' spend apportioned by registered persons) £{current:.0}",
            pop.unavoidable_cost_factor
        ));
        lines.push(ScopeLine {
            setting: setting.clone(),
            national_per_head: per_head,
            target,
            current,
        });
    }
    let target: f64 = lines.iter().map(|l| l.target).sum();
    let current: f64 = lines.iter().map(|l| l.current).sum();
    let distance = if target > 0.0 {
        (current - target) / target
    } else {
        0.0
    };
    let next_year = if current < target {
        target.min(current * (1.0 + pop.max_increase))
    } else {
        target.max(current * (1.0 - pop.max_decrease))
    };
    explanation.push(format!(
        "target £{target:.0}, current £{current:.0}: {:.2}% {} target; pace of change (up to +{:.1}% / -{:.1}% a year) sets next year at £{next_year:.0}",
        distance.abs() * 100.0,
        if distance >= 0.0 { "over" } else { "under" },
        pop.max_increase * 100.0,
        pop.max_decrease * 100.0
    ));
    Ok(Budget {
        name: pop.name.clone(),
        practices: rows.len(),
        persons: n,
        need_index,
        need_weighted_persons: weighted,
        unavoidable_cost_factor: pop.unavoidable_cost_factor,
        lines,
        target,
        current,
        distance_from_target: distance,
        next_year,
        explanation,
    })
}

/// Reads the base year's spend by commissioner and setting, and each practice's commissioner
/// and system, from the dataset.
pub fn inputs(
    engine: &engine::Engine,
    ds: &dataset::Dataset,
    fy_start: model::Month,
) -> Result<Inputs, engine::Error> {
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::Float64Type;
    let fy = fy_start.financial_year();
    let mut periods: Vec<String> = (0..12).map(|i| fy_start.plus(i).to_string()).collect();
    for q in 1..=4 {
        periods.push(model::Period::Quarter(fy, q).to_string());
    }
    periods.push(model::Period::Year(fy).to_string());
    let list = periods
        .iter()
        .map(|p| format!("'{p}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut spend = BTreeMap::new();
    if engine.has_table("spend") {
        for b in engine.query(&format!(
            "SELECT CAST(commissioner_code AS VARCHAR), CAST(setting AS VARCHAR), sum(coalesce(spend, 0)) \
             FROM spend WHERE period IN ({list}) GROUP BY 1, 2"
        ))? {
            let text = |i: usize| {
                arrow::compute::cast(b.column(i), &arrow::datatypes::DataType::Utf8)
                    .map_err(|e| engine::Error::Runtime(e.to_string()))
            };
            let (c, s) = (text(0)?, text(1)?);
            let (c, s) = (c.as_string::<i32>(), s.as_string::<i32>());
            let v = arrow::compute::cast(b.column(2), &arrow::datatypes::DataType::Float64)
                .map_err(|e| engine::Error::Runtime(e.to_string()))?;
            let v = v.as_primitive::<Float64Type>();
            for i in 0..b.num_rows() {
                if !v.is_null(i) {
                    spend.insert((c.value(i).to_string(), s.value(i).to_string()), v.value(i));
                }
            }
        }
    }
    let practice_parent = ds
        .organisations
        .iter()
        .filter(|o| o.kind == model::OrgKind::GpPractice)
        .filter_map(|o| Some((o.code.clone(), (o.parent.clone()?, o.system.clone()?))))
        .collect();
    Ok(Inputs {
        spend,
        practice_parent,
    })
}
