//! Conflict detection over the register, explained in words and data:
//!
//! - `against_plan`: an intervention (on an organisation, or on a whole system) pulls a lever
//!   the opposite way from the system plan (the open case's commitments) on the same
//!   organisation;
//! - `magnitude`: an intervention pulls a lever the same way as the plan but demands more than
//!   [`MAGNITUDE`] times what the plan commits (a plan's −10 beds against a demand for −100):
//!   the plan cannot deliver it as written (a demand smaller than the plan is met by it);
//! - `capacity_against_activity`: one side cuts beds or workforce at an organisation the other
//!   side moves activity to (an intervention's cut where the plan sends activity, or the
//!   reverse);
//! - `cost_shift`: an organisation's intervention moves activity (and so cost) onto another
//!   member of the same system;
//! - `inconsistent_demands`: two regulators pull the same lever on the same organisation in
//!   opposite directions, or set deadlines for it more than 90 days apart (whether they target
//!   the organisation or its system);
//! - `unlinked`: an intervention opened on an organisation inside a system under an open case,
//!   or on the system itself, without being linked to the case;
//! - `flexibility_without_plan`: an intervention of a kind granted only in support of change
//!   (`needs_plan` in the registry of kinds: a flexibility) linked to neither a case nor a new
//!   care model.
//!
//! Conflicts are aggregated: one per intervention and case (`against_plan`, `unlinked`), one
//! per intervention (`cost_shift`) and one per pair of interventions (`inconsistent_demands`),
//! each naming every lever involved, so their number does not grow with the levers.

use crate::{Intervention, Lever, Result, Store};

/// How many times the plan's commitment an intervention's demand on
/// the same lever may be before it is a `magnitude` conflict.
pub const MAGNITUDE: f64 = 2.0;

/// Levers that are capacity: cutting them where activity is sent is a conflict.
const CAPACITY: [&str; 2] = ["acute_beds", "workforce_wte"];
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Conflict {
    pub id: String,
    /// Always `open`: conflicts are computed among open interventions and cases, and go
    /// away when either side closes.
    pub status: String,
    pub kind: String,
    pub system_code: Option<String>,
    pub org_code: String,
    pub intervention_ids: Vec<i64>,
    pub case_id: Option<i64>,
    pub explanation: String,
}

impl Store {
    /// Every conflict among the open interventions and cases.
    pub async fn conflicts(&self) -> Result<Vec<Conflict>> {
        let interventions: Vec<Intervention> = self
            .interventions()
            .await?
            .into_iter()
            .filter(|i| i.status == "open")
            .collect();
        let cases: Vec<crate::Case> = self
            .cases()
            .await?
            .into_iter()
            .filter(|c| c.status == "open")
            .collect();
        let systems: BTreeMap<String, Option<String>> = self
            .organisations()
            .await?
            .into_iter()
            .map(|o| (o.code, o.system_code))
            .collect();
        let mut out = Vec::new();

        for i in &interventions {
            let Some(system) = &i.system_code else { continue };
            let on = if i.target_kind == "system" {
                format!("system {}", i.target_code)
            } else {
                i.target_code.clone()
            };
            for case in cases.iter().filter(|c| &c.system_code == system) {
                // The plan's net pull on each (organisation, lever).
                let mut plan: BTreeMap<(&str, &str), f64> = BTreeMap::new();
                for c in &case.commitments {
                    for l in &c.levers {
                        *plan.entry((l.org_code.as_str(), l.lever.as_str())).or_default() += l.amount;
                    }
                }
                // One conflict per intervention and case, naming every lever at odds.
                let against: Vec<(&Lever, f64)> = i
                    .levers
                    .iter()
                    .filter_map(|l| {
                        let p = *plan.get(&(l.org_code.as_str(), l.lever.as_str()))?;
                        (p * l.amount < 0.0).then_some((l, p))
                    })
                    .collect();
                let explanation = match against.as_slice() {
                    [] => None,
                    [(l, p)] => Some(format!(
                        "{} {} (intervention {}) asks {} to change {} by {}, but the recovery plan of case {} for {} needs {} (net commitments)",
                        i.regulator, i.kind, i.id, l.org_code, l.lever, l.amount, case.id, system, p
                    )),
                    many => {
                        let asks: Vec<String> = many
                            .iter()
                            .map(|(l, p)| {
                                format!(
                                    "{} to change {} by {} (the plan needs {p})",
                                    l.org_code, l.lever, l.amount
                                )
                            })
                            .collect();
                        Some(format!(
                            "{} {} (intervention {}) asks {}, against the recovery plan of case {} for {} (net commitments)",
                            i.regulator,
                            i.kind,
                            i.id,
                            asks.join(" and "),
                            case.id,
                            system
                        ))
                    }
                };
                if let Some(explanation) = explanation {
                    out.push(Conflict {
                        id: format!("against_plan:{}:{}", i.id, case.id),
                        status: "open".into(),
                        kind: "against_plan".into(),
                        system_code: Some(system.clone()),
                        org_code: i.target_code.clone(),
                        intervention_ids: vec![i.id],
                        case_id: Some(case.id),
                        explanation,
                    });
                }
                // The same direction, out of proportion.
                let scale: Vec<String> = i
                    .levers
                    .iter()
                    .filter_map(|l| {
                        let p = *plan.get(&(l.org_code.as_str(), l.lever.as_str()))?;
                        if p * l.amount <= 0.0 {
                            return None;
                        }
                        let ratio = l.amount / p;
                        (ratio > MAGNITUDE).then(|| {
                            format!(
                                "{} to change {} by {}, {:.1} times the plan's {p}",
                                l.org_code, l.lever, l.amount, ratio
                            )
                        })
                    })
                    .collect();
                if !scale.is_empty() {
                    out.push(Conflict {
                        id: format!("magnitude:{}:{}", i.id, case.id),
                        status: "open".into(),
                        kind: "magnitude".into(),
                        system_code: Some(system.clone()),
                        org_code: i.target_code.clone(),
                        intervention_ids: vec![i.id],
                        case_id: Some(case.id),
                        explanation: format!(
                            "{} {} (intervention {}) asks {}: the recovery plan of case {} for {} pulls the same way but cannot deliver it as written (more than {MAGNITUDE} times apart)",
                            i.regulator,
                            i.kind,
                            i.id,
                            scale.join(" and "),
                            case.id,
                            system
                        ),
                    });
                }
                // Capacity cut where the other side sends activity.
                let plan_levers: Vec<&Lever> = case.commitments.iter().flat_map(|c| &c.levers).collect();
                let mut clashes: Vec<String> = Vec::new();
                for cut in i.levers.iter().filter(|l| is_cut(l)) {
                    let into: f64 = plan_levers
                        .iter()
                        .filter(|m| moves_into(m, &cut.org_code))
                        .map(|m| m.amount)
                        .sum();
                    if into > 0.0 {
                        clashes.push(format!(
                            "the intervention cuts {} at {} by {} while the plan moves {into} spells a year to it",
                            cut.lever, cut.org_code, -cut.amount
                        ));
                    }
                }
                for mv in i
                    .levers
                    .iter()
                    .filter(|l| l.lever == "activity_moved" && l.amount > 0.0)
                {
                    let Some(to) = &mv.to_org_code else { continue };
                    let cuts: Vec<String> = plan_levers
                        .iter()
                        .filter(|l| is_cut(l) && &l.org_code == to)
                        .map(|l| format!("{} by {}", l.lever, -l.amount))
                        .collect();
                    if !cuts.is_empty() {
                        clashes.push(format!(
                            "the intervention moves {} spells a year to {to} while the plan cuts its {}",
                            mv.amount,
                            cuts.join(" and ")
                        ));
                    }
                }
                if !clashes.is_empty() {
                    out.push(Conflict {
                        id: format!("capacity_against_activity:{}:{}", i.id, case.id),
                        status: "open".into(),
                        kind: "capacity_against_activity".into(),
                        system_code: Some(system.clone()),
                        org_code: i.target_code.clone(),
                        intervention_ids: vec![i.id],
                        case_id: Some(case.id),
                        explanation: format!(
                            "{} {} (intervention {}) on {on} and the recovery plan of case {} for {system}: {}. Capacity must follow the activity",
                            i.regulator,
                            i.kind,
                            i.id,
                            case.id,
                            clashes.join("; and ")
                        ),
                    });
                }
                if i.case_id != Some(case.id) {
                    out.push(Conflict {
                        id: format!("unlinked:{}:{}", i.id, case.id),
                        status: "open".into(),
                        kind: "unlinked".into(),
                        system_code: Some(system.clone()),
                        org_code: i.target_code.clone(),
                        intervention_ids: vec![i.id],
                        case_id: Some(case.id),
                        explanation: format!(
                            "{} {} (intervention {}) on {on} was opened inside {}, which is under system case {}, without being linked to it",
                            i.regulator, i.kind, i.id, system, case.id
                        ),
                    });
                }
            }
            // One conflict per intervention, naming every move of activity within the system.
            let moves: Vec<String> = i
                .levers
                .iter()
                .filter(|l| l.lever == "activity_moved" && l.amount > 0.0)
                .filter_map(|l| {
                    let to = l.to_org_code.as_ref()?;
                    (systems.get(to).cloned().flatten().as_deref() == Some(system.as_str()) && to != &l.org_code)
                        .then(|| {
                            format!(
                                "{} move {} spells a year to {to}, another member of {system}: {}'s recovery shifts cost onto {to}",
                                l.org_code, l.amount, l.org_code
                            )
                        })
                })
                .collect();
            if !moves.is_empty() {
                out.push(Conflict {
                    id: format!("cost_shift:{}", i.id),
                    status: "open".into(),
                    kind: "cost_shift".into(),
                    system_code: Some(system.clone()),
                    org_code: i.target_code.clone(),
                    intervention_ids: vec![i.id],
                    case_id: cases.iter().find(|c| &c.system_code == system).map(|c| c.id),
                    explanation: format!(
                        "{} {} (intervention {}) has {}",
                        i.regulator,
                        i.kind,
                        i.id,
                        moves.join("; and has ")
                    ),
                });
            }
        }

        // Regulators at odds on one organisation: two interventions on it, or on its system
        // with levers on it.
        for (a_i, a) in interventions.iter().enumerate() {
            for b in interventions.iter().skip(a_i + 1) {
                if a.regulator == b.regulator {
                    continue;
                }
                let same_target = a.target_kind == b.target_kind && a.target_code == b.target_code;
                let touches = |x: &Intervention, org: &str| {
                    (x.target_kind == "organisation" && x.target_code == org)
                        || x.levers.iter().any(|l| l.org_code == org)
                };
                // The organisation they meet on: the common target, or one a system-level
                // intervention pulls a lever at.
                let Some(org) = (if same_target {
                    Some(a.target_code.clone())
                } else {
                    a.levers
                        .iter()
                        .map(|l| l.org_code.clone())
                        .chain((a.target_kind == "organisation").then(|| a.target_code.clone()))
                        .find(|o| touches(b, o))
                }) else {
                    continue;
                };
                // One conflict per pair of interventions: every lever they pull apart, and
                // their deadlines when far apart.
                let mut at_odds: Vec<String> = Vec::new();
                for la in &a.levers {
                    for lb in &b.levers {
                        if la.org_code == lb.org_code && la.lever == lb.lever && la.amount * lb.amount < 0.0 {
                            at_odds.push(format!(
                                "{} (intervention {}) asks {} to change {} by {}; {} (intervention {}) asks for {}",
                                a.regulator, a.id, la.org_code, la.lever, la.amount, b.regulator, b.id, lb.amount
                            ));
                        }
                    }
                }
                if let (Some(da), Some(db)) = (&a.deadline, &b.deadline)
                    && let (Ok(x), Ok(y)) = (model::parse_date(da), model::parse_date(db))
                    && (x - y).abs() > 90
                    && a.levers.iter().any(|la| {
                        b.levers
                            .iter()
                            .any(|lb| la.lever == lb.lever && (same_target || la.org_code == lb.org_code))
                    })
                {
                    at_odds.push(format!(
                        "{} (intervention {}, deadline {da}) and {} (intervention {}, deadline {db}) set deadlines {} days apart on the same lever at {org}",
                        a.regulator,
                        a.id,
                        b.regulator,
                        b.id,
                        (x - y).abs(),
                    ));
                }
                if !at_odds.is_empty() {
                    out.push(Conflict {
                        id: format!("inconsistent_demands:{}:{}", a.id, b.id),
                        status: "open".into(),
                        kind: "inconsistent_demands".into(),
                        system_code: a.system_code.clone(),
                        org_code: org,
                        intervention_ids: vec![a.id, b.id],
                        case_id: None,
                        explanation: at_odds.join(". "),
                    });
                }
            }
        }
        // A kind granted only in support of change (a flexibility), with neither a case nor a
        // new care model to support: one conflict per intervention, organisations and systems
        // alike.
        for i in &interventions {
            let needs_plan = self.kinds().get(&i.kind).is_some_and(|k| k.needs_plan);
            if !needs_plan || i.case_id.is_some() || i.details.care_model.is_some() {
                continue;
            }
            let title = self
                .kinds()
                .get(&i.kind)
                .map(|k| k.title.clone())
                .unwrap_or_default();
            out.push(Conflict {
                id: format!("flexibility_without_plan:{}", i.id),
                status: "open".into(),
                kind: "flexibility_without_plan".into(),
                system_code: i.system_code.clone(),
                org_code: i.target_code.clone(),
                intervention_ids: vec![i.id],
                case_id: None,
                explanation: format!(
                    "{title} (intervention {}, {}: {}) on {} has no recovery plan or new care model linked: the regime grants flexibilities only in support of change",
                    i.id,
                    i.regulator,
                    if i.details.conditions.is_empty() {
                        "no conditions".to_string()
                    } else {
                        i.details.conditions.join("; ")
                    },
                    i.target_code
                ),
            });
        }
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }
}

/// A cut in capacity (beds or workforce).
fn is_cut(l: &Lever) -> bool {
    CAPACITY.contains(&l.lever.as_str()) && l.amount < 0.0
}

/// Activity moved into `org` from elsewhere.
fn moves_into(l: &Lever, org: &str) -> bool {
    l.lever == "activity_moved"
        && l.amount > 0.0
        && l.to_org_code.as_deref() == Some(org)
        && l.org_code != org
}
