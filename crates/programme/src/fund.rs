//! The transformation fund: eligibility (rules as data), Green Book appraisal, and drawdown
//! of tranches against decommissioning milestones.
//!
//! - Eligibility (`data/fund-rules.toml`, copied and edited by a user): a bid is refused, with
//!   the reason, when its lead (and, if the rules say so, its partners) was in deficit or off
//!   its control total in the latest financial year of the dataset's finance table — its money
//!   would fund an existing deficit or keep a service solvent — when it has no decommissioning
//!   plan, or when its running costs go on after its last decommissioning date.
//! - Appraisal: net present value of savings less running costs at the discount rate (3.5% by
//!   default), year 0 undiscounted; costs uplifted and savings cut by optimism bias;
//!   benefit–cost ratio = PV savings / PV costs; payback year (first year the cumulative,
//!   undiscounted net is ≥ 0) and discounted payback year; sensitivity to decommissioning
//!   slipped by whole months: each year's savings move later by the slip (split between the two
//!   years it then straddles) and the last year's running costs go on for the slip.
//! - Drawdown: a tranche is released only against its met milestone; double running costs
//!   covered (tranches released) are set against savings realised (each met milestone's
//!   released amount a year, from the day it was met); money drifting to deficit support is
//!   flagged: a recipient in deficit whose milestone is past its date and not met.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::input::{read_text, toml_error};
use crate::{Error, Result};

pub const BUILTIN_RULES: &str = include_str!("../data/fund-rules.toml");

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FundRules {
    pub version: u32,
    pub eligibility: Eligibility,
    pub appraisal: AppraisalRules,
    pub drawdown: DrawdownRules,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Eligibility {
    pub refuse_deficit: bool,
    pub deficit_tolerance: f64,
    pub refuse_missed_control_total: bool,
    pub include_partners: bool,
    pub require_decommissioning_plan: bool,
    pub running_costs_end_by_decommissioning: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AppraisalRules {
    pub discount_rate: f64,
    pub cost_optimism_bias: f64,
    pub savings_optimism_bias: f64,
    pub slips_months: Vec<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DrawdownRules {
    pub release_on_milestone: bool,
    pub drift_grace_days: u32,
}

impl FundRules {
    /// The built-in rules' text.
    pub const BUILTIN_FOR_TESTS: &'static str = BUILTIN_RULES;

    pub fn builtin() -> FundRules {
        FundRules::parse("fund-rules.toml (built in)", BUILTIN_RULES)
            .expect("the built-in fund rules are valid")
    }

    pub fn read(path: &Path) -> Result<FundRules> {
        FundRules::parse(&path.display().to_string(), &read_text(path)?)
    }

    pub fn parse(file: &str, text: &str) -> Result<FundRules> {
        let r: FundRules = toml::from_str(text).map_err(|e| toml_error(file, text, &e))?;
        let bad =
            |key: &str, value: String, rule: &str| Error::Refused(format!("{file}: {key} = {value}: {rule}"));
        if r.version != 1 {
            return Err(bad(
                "version",
                r.version.to_string(),
                "this Footprint reads version 1",
            ));
        }
        let a = &r.appraisal;
        if !(0.0..1.0).contains(&a.discount_rate) {
            return Err(bad(
                "appraisal.discount_rate",
                a.discount_rate.to_string(),
                "must be at least 0 and below 1",
            ));
        }
        for (k, v) in [
            ("appraisal.cost_optimism_bias", a.cost_optimism_bias),
            ("appraisal.savings_optimism_bias", a.savings_optimism_bias),
            ("eligibility.deficit_tolerance", r.eligibility.deficit_tolerance),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(bad(k, v.to_string(), "must be a share from 0 to 1"));
            }
        }
        if let Some(s) = a.slips_months.iter().find(|&&s| s == 0 || s > 120) {
            return Err(bad(
                "appraisal.slips_months",
                s.to_string(),
                "each slip is 1 to 120 months",
            ));
        }
        Ok(r)
    }
}

/// A year of a bid's money: what it asks the fund to cover, and what it expects to save.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Flow {
    /// Financial year, `2016/17`.
    pub year: String,
    /// Double running costs (pounds, ≥ 0).
    pub running_cost: f64,
    /// Expected savings (pounds).
    pub savings: f64,
}

/// A service to be decommissioned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Decommissioning {
    pub service: String,
    /// When (YYYY-MM-DD).
    pub date: String,
    /// What it releases, pounds a year.
    pub released: f64,
}

/// A bid to the fund.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Proposal {
    pub id: String,
    pub lead_org_code: String,
    #[serde(default)]
    pub partners: Vec<String>,
    #[serde(default)]
    pub flows: Vec<Flow>,
    #[serde(default)]
    pub decommissioning: Vec<Decommissioning>,
}

/// An organisation's financial position in a year.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Position {
    pub org_code: String,
    pub period: String,
    pub income: Option<f64>,
    pub actual_surplus: Option<f64>,
    pub control_total: Option<f64>,
    pub control_total_agreed: Option<bool>,
}

/// Why a bid is refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Refusal {
    /// `deficit_support`, `missed_control_total`, `no_decommissioning_plan`,
    /// `running_costs_after_decommissioning`.
    pub rule: String,
    pub reason: String,
}

/// The start year of a financial year label (`2016/17` or `2016-17` → 2016).
pub fn fy_start(label: &str) -> Option<i32> {
    let (a, b) = label.split_once(['/', '-'])?;
    let y: i32 = a.parse().ok()?;
    let next: i32 = b.parse().ok()?;
    (a.len() == 4 && b.len() == 2 && (y + 1) % 100 == next).then_some(y)
}

/// The financial year a date falls in.
fn fy_of(date: &str) -> Option<i32> {
    let d = model::parse_date(date).ok()?;
    let s = model::format_date(d);
    let y: i32 = s[..4].parse().ok()?;
    let m: i32 = s[5..7].parse().ok()?;
    Some(if m >= 4 { y } else { y - 1 })
}

/// Pounds with thousands separators, rounded to the pound (`-£1,234`).
pub fn money(x: f64) -> String {
    let neg = x < 0.0;
    let whole = x.abs().round() as u64;
    let digits = whole.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    format!("{}£{out}", if neg { "-" } else { "" })
}

/// Every rule the bid breaks (empty: eligible).
pub fn eligibility(p: &Proposal, positions: &BTreeMap<String, Position>, rules: &FundRules) -> Vec<Refusal> {
    let e = &rules.eligibility;
    let mut out = Vec::new();
    let mut who = vec![p.lead_org_code.as_str()];
    if e.include_partners {
        who.extend(p.partners.iter().map(String::as_str));
    }
    for org in who {
        let Some(pos) = positions.get(org) else { continue };
        if e.refuse_deficit
            && let Some(s) = pos.actual_surplus
            && s < -e.deficit_tolerance * pos.income.unwrap_or(0.0)
        {
            out.push(Refusal {
                rule: "deficit_support".into(),
                reason: format!(
                    "{org} was in deficit in {} ({} actual surplus{}): the fund's money would fund an existing deficit, not double running costs",
                    pos.period,
                    money(s),
                    pos.income
                        .filter(|i| *i > 0.0)
                        .map(|i| format!(", {:.1}% of income", 100.0 * s / i))
                        .unwrap_or_default()
                ),
            });
        }
        if e.refuse_missed_control_total {
            let missed = match (pos.actual_surplus, pos.control_total) {
                (Some(a), Some(c)) if a < c => Some(format!(
                    "{org} missed its control total in {}: {} against {}",
                    pos.period,
                    money(a),
                    money(c)
                )),
                _ if pos.control_total_agreed == Some(false) => Some(format!(
                    "{org} did not agree its control total for {}",
                    pos.period
                )),
                _ => None,
            };
            if let Some(reason) = missed {
                out.push(Refusal {
                    rule: "missed_control_total".into(),
                    reason: format!("{reason}: support for its position is not the fund's to give"),
                });
            }
        }
    }
    if e.require_decommissioning_plan && p.decommissioning.is_empty() {
        out.push(Refusal {
            rule: "no_decommissioning_plan".into(),
            reason: "the bid has no decommissioning plan: the fund covers double running only while an existing model is decommissioned".into(),
        });
    }
    if e.running_costs_end_by_decommissioning
        && let Some(last) = p.decommissioning.iter().filter_map(|d| fy_of(&d.date)).max()
        && let Some(f) = p
            .flows
            .iter()
            .filter(|f| f.running_cost > 0.0)
            .filter_map(|f| Some((fy_start(&f.year)?, f)))
            .filter(|(y, _)| *y > last)
            .min_by_key(|(y, _)| *y)
    {
        out.push(Refusal {
            rule: "running_costs_after_decommissioning".into(),
            reason: format!(
                "running costs of {} in {} go on after the last decommissioning date (in {})",
                money(f.1.running_cost),
                f.1.year,
                label(last)
            ),
        });
    }
    out
}

/// One slip's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Sensitivity {
    pub slip_months: u32,
    pub npv: f64,
    pub bcr: Option<f64>,
    pub payback_year: Option<String>,
}

/// A bid appraised the Green Book's way.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Appraisal {
    pub discount_rate: f64,
    pub cost_optimism_bias: f64,
    pub savings_optimism_bias: f64,
    /// Present value of the running costs (optimism-adjusted).
    pub pv_costs: f64,
    /// Present value of the savings (optimism-adjusted).
    pub pv_savings: f64,
    pub npv: f64,
    /// Benefit–cost ratio (null when there are no costs).
    pub bcr: Option<f64>,
    /// First year the cumulative undiscounted net saving is ≥ 0.
    pub payback_year: Option<String>,
    pub discounted_payback_year: Option<String>,
    pub sensitivity: Vec<Sensitivity>,
}

fn label(y: i32) -> String {
    model::Period::Year(y).to_string()
}

/// Spreads an amount over `[start, start + length)` (in years from year 0) into `into`.
fn spread(into: &mut Vec<f64>, start: f64, length: f64, amount: f64) {
    if length <= 0.0 {
        return;
    }
    let rate = amount / length;
    let end = start + length;
    let mut y = start.floor() as usize;
    while (y as f64) < end {
        let lo = start.max(y as f64);
        let hi = end.min(y as f64 + 1.0);
        if into.len() <= y {
            into.resize(y + 1, 0.0);
        }
        into[y] += rate * (hi - lo);
        y += 1;
    }
}

/// Costs and savings by year from year 0, with decommissioning slipped by `slip` years.
fn series(p: &Proposal, first: i32, slip: f64) -> (Vec<f64>, Vec<f64>) {
    let (mut costs, mut savings) = (Vec::new(), Vec::new());
    let mut last_cost: Option<(i32, f64)> = None;
    for f in &p.flows {
        let Some(y) = fy_start(&f.year) else { continue };
        let t = (y - first) as f64;
        spread(&mut costs, t, 1.0, f.running_cost);
        spread(&mut savings, t + slip, 1.0, f.savings);
        if f.running_cost > 0.0 && last_cost.is_none_or(|(l, _)| y > l) {
            last_cost = Some((y, f.running_cost));
        }
    }
    if let Some((y, rate)) = last_cost {
        spread(&mut costs, (y - first) as f64 + 1.0, slip, rate * slip);
    }
    let n = costs.len().max(savings.len());
    costs.resize(n, 0.0);
    savings.resize(n, 0.0);
    (costs, savings)
}

/// Appraises a bid.
pub fn appraise(p: &Proposal, rules: &AppraisalRules) -> Appraisal {
    let first = p
        .flows
        .iter()
        .filter_map(|f| fy_start(&f.year))
        .min()
        .unwrap_or(0);
    let r = rules.discount_rate;
    let at = |slip_months: u32| {
        let (costs, savings) = series(p, first, f64::from(slip_months) / 12.0);
        let (mut pv_c, mut pv_s) = (0.0, 0.0);
        let (mut cum, mut dcum) = (0.0, 0.0);
        let (mut payback, mut dpayback) = (None, None);
        for (t, (c, s)) in costs.iter().zip(&savings).enumerate() {
            let c = c * (1.0 + rules.cost_optimism_bias);
            let s = s * (1.0 - rules.savings_optimism_bias);
            let d = (1.0 + r).powi(t as i32);
            pv_c += c / d;
            pv_s += s / d;
            cum += s - c;
            dcum += (s - c) / d;
            if payback.is_none() && cum >= 0.0 && (c > 0.0 || s > 0.0) {
                payback = Some(label(first + t as i32));
            }
            if dpayback.is_none() && dcum >= 0.0 && (c > 0.0 || s > 0.0) {
                dpayback = Some(label(first + t as i32));
            }
        }
        (pv_c, pv_s, payback, dpayback)
    };
    let (pv_costs, pv_savings, payback_year, discounted_payback_year) = at(0);
    let bcr = |c: f64, s: f64| (c > 0.0).then(|| s / c);
    Appraisal {
        discount_rate: r,
        cost_optimism_bias: rules.cost_optimism_bias,
        savings_optimism_bias: rules.savings_optimism_bias,
        pv_costs,
        pv_savings,
        npv: pv_savings - pv_costs,
        bcr: bcr(pv_costs, pv_savings),
        payback_year,
        discounted_payback_year,
        sensitivity: rules
            .slips_months
            .iter()
            .map(|&m| {
                let (c, s, payback_year, _) = at(m);
                Sensitivity {
                    slip_months: m,
                    npv: s - c,
                    bcr: bcr(c, s),
                    payback_year,
                }
            })
            .collect(),
    }
}

/// A decommissioning milestone as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Milestone {
    pub id: i64,
    pub application_id: String,
    pub service: String,
    /// When it is due (YYYY-MM-DD).
    pub due: String,
    /// When it was met.
    pub met_on: Option<String>,
    /// Pounds a year it releases.
    pub released: f64,
}

/// A tranche of the fund's money.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Tranche {
    pub id: i64,
    pub application_id: String,
    pub amount: f64,
    /// The milestone it is released against.
    pub milestone_id: i64,
    /// `planned`, `released` or `withheld`.
    pub status: String,
    pub released_on: Option<String>,
}

/// One recipient's drawdown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Drawdown {
    pub application_id: String,
    pub lead_org_code: String,
    pub awarded: f64,
    /// Tranches released: double running costs covered.
    pub covered: f64,
    /// Savings realised to `as_of` from the milestones met.
    pub savings_realised: f64,
    pub milestones_met: usize,
    pub milestones: usize,
    /// Milestones past their date and not met.
    pub slipping: Vec<String>,
    /// Set when the recipient is in deficit and a milestone slips: the fund's money is drifting
    /// to deficit support.
    pub drift: Option<String>,
}

/// The fund's position at `as_of` (YYYY-MM-DD).
pub fn drawdown(
    awards: &[(String, String, f64)],
    milestones: &[Milestone],
    tranches: &[Tranche],
    positions: &BTreeMap<String, Position>,
    rules: &DrawdownRules,
    as_of: &str,
) -> Vec<Drawdown> {
    let today = model::parse_date(as_of).unwrap_or(0);
    awards
        .iter()
        .map(|(id, lead, awarded)| {
            let ms: Vec<&Milestone> = milestones.iter().filter(|m| &m.application_id == id).collect();
            let covered = tranches
                .iter()
                .filter(|t| &t.application_id == id && t.status == "released")
                .map(|t| t.amount)
                .sum();
            let savings_realised = ms
                .iter()
                .filter_map(|m| {
                    let met = model::parse_date(m.met_on.as_deref()?).ok()?;
                    Some(m.released * f64::from((today - met).max(0)) / 365.0)
                })
                .sum();
            let slipping: Vec<String> = ms
                .iter()
                .filter(|m| m.met_on.is_none())
                .filter(|m| {
                    model::parse_date(&m.due)
                        .is_ok_and(|d| today > d + rules.drift_grace_days as i32)
                })
                .map(|m| format!("{} (due {})", m.service, m.due))
                .collect();
            let deficit = positions.get(lead).and_then(|p| p.actual_surplus).filter(|s| *s < 0.0);
            let drift = match (deficit, slipping.is_empty()) {
                (Some(s), false) => Some(format!(
                    "{lead} is in deficit ({}) and its decommissioning has slipped ({}): the fund is paying running costs with nothing decommissioned, which is deficit support",
                    money(s),
                    slipping.join("; ")
                )),
                _ => None,
            };
            Drawdown {
                application_id: id.clone(),
                lead_org_code: lead.clone(),
                awarded: *awarded,
                covered,
                savings_realised,
                milestones_met: ms.iter().filter(|m| m.met_on.is_some()).count(),
                milestones: ms.len(),
                slipping,
                drift,
            }
        })
        .collect()
}
