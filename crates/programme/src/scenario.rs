//! The programme on a dataset: financial positions from its finance table, new care models
//! from the vanguards synthetic England planted (`truth.toml`), and a worked round — forty
//! applications from real organisations, peer reviews with leniency, self-reviews and declared
//! conflicts, eligibility (two leads in deficit), selection under quotas, and tranches drawn
//! against decommissioning milestones, one of them slipping. Deterministic for a dataset.

use std::collections::{BTreeMap, HashMap};

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Float64Type};
use serde::Deserialize;

use crate::fund::{Decommissioning, Flow, FundRules, Position};
use crate::office::{CareModel, Flexibility, NewApplication, Office};
use crate::review::Review;
use crate::select::{Quota, Rules};
use crate::{Error, Result};

fn read_error(e: impl std::fmt::Display) -> Error {
    Error::Refused(format!("reading the dataset: {e}"))
}

/// Each organisation's position in the latest financial year the finance table has: the year's
/// own row when there is one, else its quarters' or months' rows added up (control total
/// agreed only if every row says so). Read with the dataset's own scan (no query engine).
pub fn positions(ds: &dataset::Dataset) -> Result<BTreeMap<String, Position>> {
    if !ds.tables.contains_key("finance") {
        return Ok(BTreeMap::new());
    }
    let batches = ds
        .scan("finance")
        .map_err(|r| Error::Refused(format!("reading finance: {} problems", r.error_count)))?;
    // (org, fy) -> grain rank (year 0, quarter 1, month 2) -> sums
    type Sums = (Option<f64>, Option<f64>, Option<f64>, Option<bool>);
    let mut by: BTreeMap<(String, i32), BTreeMap<u8, Sums>> = BTreeMap::new();
    for b in &batches {
        let col = |name: &str| {
            b.schema()
                .index_of(name)
                .map(|i| b.column(i).clone())
                .map_err(|_| Error::Refused(format!("finance has no column {name}")))
        };
        let text = |name: &str| -> Result<arrow::array::ArrayRef> {
            arrow::compute::cast(&col(name)?, &DataType::Utf8).map_err(read_error)
        };
        let num = |name: &str| -> Result<arrow::array::ArrayRef> {
            match col(name) {
                Ok(c) => arrow::compute::cast(&c, &DataType::Float64).map_err(read_error),
                Err(_) => Ok(arrow::array::new_null_array(&DataType::Float64, b.num_rows())),
            }
        };
        let (p, o) = (text("period")?, text("org_code")?);
        let (p, o) = (p.as_string::<i32>(), o.as_string::<i32>());
        let (inc, sur, ct) = (num("income")?, num("actual_surplus")?, num("control_total")?);
        let (inc, sur, ct) = (
            inc.as_primitive::<Float64Type>(),
            sur.as_primitive::<Float64Type>(),
            ct.as_primitive::<Float64Type>(),
        );
        let agreed = match col("control_total_agreed") {
            Ok(c) => arrow::compute::cast(&c, &DataType::Boolean).map_err(read_error)?,
            Err(_) => arrow::array::new_null_array(&DataType::Boolean, b.num_rows()),
        };
        let agreed = agreed.as_boolean();
        for i in 0..b.num_rows() {
            let s = p.value(i);
            let (fy, rank) = if let Ok(m) = s.parse::<model::Month>() {
                (m.financial_year(), 2)
            } else {
                match s.parse::<model::Period>() {
                    Ok(model::Period::Quarter(y, _)) => (y, 1),
                    Ok(model::Period::Year(y)) => (y, 0),
                    _ => continue,
                }
            };
            let get = |a: &arrow::array::PrimitiveArray<Float64Type>| (!a.is_null(i)).then(|| a.value(i));
            let add = |x: Option<f64>, y: Option<f64>| match (x, y) {
                (Some(a), Some(b)) => Some(a + b),
                (a, b) => a.or(b),
            };
            let e = by
                .entry((o.value(i).to_string(), fy))
                .or_default()
                .entry(rank)
                .or_insert((None, None, None, None));
            e.0 = add(e.0, get(inc));
            e.1 = add(e.1, get(sur));
            e.2 = add(e.2, get(ct));
            if !agreed.is_null(i) {
                e.3 = Some(e.3.unwrap_or(true) && agreed.value(i));
            }
        }
    }
    let latest = by.keys().map(|k| k.1).max();
    Ok(by
        .into_iter()
        .filter(|((_, fy), _)| Some(*fy) == latest)
        .filter_map(|((org, fy), grains)| {
            let (_, s) = grains.into_iter().next()?;
            Some((
                org.clone(),
                Position {
                    org_code: org,
                    period: model::Period::Year(fy).to_string(),
                    income: s.0,
                    actual_surplus: s.1,
                    control_total: s.2,
                    control_total_agreed: s.3,
                },
            ))
        })
        .collect())
}

#[derive(Deserialize)]
struct Truth {
    #[serde(default)]
    vanguard: Vec<TruthVanguard>,
}

#[derive(Deserialize)]
struct TruthVanguard {
    system_code: Option<String>,
    practice_codes: Option<Vec<String>>,
    model: String,
    start: String,
}

/// The new care models synthetic England planted, as organisations (none when the dataset has
/// no `truth.toml`).
pub fn vanguards(ds: &dataset::Dataset, lists: &HashMap<String, f64>) -> Result<Vec<CareModel>> {
    let path = ds.root.join("truth.toml");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(Vec::new());
    };
    let truth: Truth = toml::from_str(&text)
        .map_err(|e| crate::input::toml_error(&path.display().to_string(), &text, &e))?;
    let mut out = Vec::new();
    for (i, v) in truth.vanguard.iter().enumerate() {
        let practices: Vec<String> = match (&v.practice_codes, &v.system_code) {
            (Some(p), _) => p.clone(),
            (None, Some(s)) => ds
                .organisations
                .iter()
                .filter(|o| o.kind == model::OrgKind::GpPractice && o.system.as_deref() == Some(s))
                .map(|o| o.code.clone())
                .collect(),
            (None, None) => Vec::new(),
        };
        let system = v.system_code.clone().or_else(|| {
            practices
                .first()
                .and_then(|p| ds.organisations.iter().find(|o| &o.code == p))
                .and_then(|o| o.system.clone())
        });
        let members: Vec<String> = ds
            .organisations
            .iter()
            .filter(|o| o.system.is_some() && o.system == system)
            .filter(|o| match v.model.as_str() {
                "multispecialty_community_provider" => {
                    o.kind == model::OrgKind::CommunityTrust
                        || (o.kind == model::OrgKind::Commissioner
                            && practices.iter().any(|p| {
                                ds.organisations
                                    .iter()
                                    .any(|x| &x.code == p && x.parent.as_deref() == Some(&o.code))
                            }))
                }
                _ => matches!(
                    o.kind,
                    model::OrgKind::AcuteTrust
                        | model::OrgKind::CommunityTrust
                        | model::OrgKind::Commissioner
                ),
            })
            .map(|o| o.code.clone())
            .collect();
        let (contract_form, terms) = if v.model.contains("urgent") {
            ("alliance", "alliance_uec")
        } else if v.model.contains("community") {
            ("prime_contractor", "gain_loss_share")
        } else {
            ("capitated", "multilateral_msr_stop_loss")
        };
        let start = v
            .start
            .parse::<model::Month>()
            .map(|m| model::format_date(m.first_day()))
            .unwrap_or_else(|_| v.start.clone());
        out.push(CareModel {
            code: format!("NCM{:02}", i + 1),
            name: format!(
                "{} vanguard{}",
                v.model.replace('_', " "),
                system.as_ref().map(|s| format!(" ({s})")).unwrap_or_default()
            ),
            model: v.model.clone(),
            form: if contract_form == "alliance" {
                "virtual"
            } else {
                "contracted"
            }
            .into(),
            contract_form: contract_form.into(),
            terms: Some(terms.into()),
            system_code: system,
            start_date: start,
            population: practices
                .iter()
                .map(|p| lists.get(p).copied().unwrap_or(0.0))
                .sum(),
            members,
            practices,
        });
    }
    Ok(out)
}

/// Each practice's list in the latest month of the population table.
pub fn latest_lists(engine: &engine::Engine) -> Result<HashMap<String, f64>> {
    let mut out = HashMap::new();
    if !engine.has_table("population") {
        return Ok(out);
    }
    for b in engine
        .query(
            "SELECT CAST(practice_code AS VARCHAR), sum(persons) FROM population \
             WHERE period = (SELECT max(period) FROM population) GROUP BY 1",
        )
        .map_err(read_error)?
    {
        let c = arrow::compute::cast(b.column(0), &DataType::Utf8).map_err(read_error)?;
        let v = arrow::compute::cast(b.column(1), &DataType::Float64).map_err(read_error)?;
        let (c, v) = (c.as_string::<i32>(), v.as_primitive::<Float64Type>());
        for i in 0..b.num_rows() {
            out.insert(
                c.value(i).to_string(),
                if v.is_null(i) { 0.0 } else { v.value(i) },
            );
        }
    }
    Ok(out)
}

/// A small deterministic generator (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// What the scenario did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Summary {
    pub care_models: usize,
    pub applications: usize,
    pub reviews: usize,
    pub refused: Vec<String>,
    pub selected: Vec<String>,
    pub tranches_released: usize,
    pub slipping: Vec<String>,
    pub as_of: String,
}

/// The scenario's date: the last day of the dataset's window (the programme runs inside it,
/// so the finance table speaks for its years).
pub fn as_of(ds: &dataset::Dataset) -> String {
    model::format_date(ds.manifest.to.last_day())
}

/// Builds the worked round into the office.
pub async fn build(
    ds: &dataset::Dataset,
    office: &Office,
    positions: &BTreeMap<String, Position>,
    care_models: &[CareModel],
    lists: &HashMap<String, f64>,
    rules: &FundRules,
    actor: &str,
) -> Result<Summary> {
    use model::OrgKind;
    let mut rng = Rng(0x5EED_2015);
    for m in care_models {
        office.put_care_model(m, actor).await?;
    }
    // Services are decommissioned nine and three months before the window ends; double running
    // in the year of the last decommissioning and the year before; savings from then on.
    let to = ds.manifest.to;
    let first_date = model::format_date(to.plus(-9).last_day());
    let last_date = model::format_date(to.plus(-3).last_day());
    let fy = to.plus(-3).financial_year() - 1;
    let label = |y: i32| model::Period::Year(y).to_string();
    let in_trouble = |o: &str| {
        positions.get(o).is_some_and(|p| {
            p.actual_surplus.is_some_and(|s| s < 0.0)
                || matches!((p.actual_surplus, p.control_total), (Some(a), Some(c)) if a < c)
                || p.control_total_agreed == Some(false)
        })
    };
    let region_of: HashMap<&str, &str> = ds
        .systems
        .iter()
        .map(|s| (s.code.as_str(), s.region.as_str()))
        .collect();
    let open = |o: &&dataset::Organisation| o.closed.is_none() && o.system.is_some();
    // Two leads in deficit (the deepest deficits among trusts), the rest sound.
    let mut deficit: Vec<(&dataset::Organisation, f64)> = ds
        .organisations
        .iter()
        .filter(open)
        .filter(|o| {
            matches!(
                o.kind,
                OrgKind::AcuteTrust | OrgKind::CommunityTrust | OrgKind::MentalHealthTrust
            )
        })
        .filter_map(|o| Some((o, positions.get(&o.code)?.actual_surplus.filter(|s| *s < 0.0)?)))
        .collect();
    deficit.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.code.cmp(&b.0.code)));
    let mut leads: Vec<&dataset::Organisation> = deficit.iter().take(2).map(|d| d.0).collect();
    let mut sound: Vec<&dataset::Organisation> = ds
        .organisations
        .iter()
        .filter(open)
        .filter(|o| {
            matches!(
                o.kind,
                OrgKind::AcuteTrust | OrgKind::CommunityTrust | OrgKind::Commissioner
            )
        })
        .filter(|o| !in_trouble(&o.code))
        .collect();
    // Spread over systems: one per system in turn.
    sound.sort_by(|a, b| (a.system.as_deref(), &a.code).cmp(&(b.system.as_deref(), &b.code)));
    let mut by_system: BTreeMap<&str, Vec<&dataset::Organisation>> = BTreeMap::new();
    for o in sound {
        by_system
            .entry(o.system.as_deref().unwrap_or(""))
            .or_default()
            .push(o);
    }
    'fill: for k in 0.. {
        let mut any = false;
        for v in by_system.values() {
            if let Some(o) = v.get(k) {
                any = true;
                if !leads.iter().any(|l| l.code == o.code) {
                    leads.push(o);
                }
                if leads.len() >= 40 {
                    break 'fill;
                }
            }
        }
        if !any {
            break;
        }
    }
    let mut quality = BTreeMap::new();
    for (i, lead) in leads.iter().enumerate() {
        let model = store::CARE_MODELS[i % store::CARE_MODELS.len()];
        let system = lead.system.clone();
        let population: f64 = ds
            .organisations
            .iter()
            .filter(|o| o.kind == OrgKind::GpPractice && o.system == system)
            .map(|o| lists.get(&o.code).copied().unwrap_or(0.0))
            .sum::<f64>()
            .round();
        let partners: Vec<String> = ds
            .organisations
            .iter()
            .filter(|o| o.system == system && o.code != lead.code && o.closed.is_none())
            .filter(|o| {
                matches!(
                    o.kind,
                    OrgKind::AcuteTrust
                        | OrgKind::CommunityTrust
                        | OrgKind::Commissioner
                        | OrgKind::LocalAuthority
                )
            })
            .take(3)
            .map(|o| o.code.clone())
            .collect();
        let scale = (population / 1000.0).max(50.0);
        let running = (scale * (8_000.0 + 6_000.0 * rng.next())).round();
        let saving = (running * (0.6 + 0.5 * rng.next())).round();
        let flows = vec![
            Flow {
                year: label(fy),
                running_cost: running,
                savings: 0.0,
            },
            Flow {
                year: label(fy + 1),
                running_cost: (running * 0.6).round(),
                savings: (saving * 0.5).round(),
            },
            Flow {
                year: label(fy + 2),
                running_cost: 0.0,
                savings: saving,
            },
            Flow {
                year: label(fy + 3),
                running_cost: 0.0,
                savings: saving,
            },
            Flow {
                year: label(fy + 4),
                running_cost: 0.0,
                savings: saving,
            },
        ];
        let services = match model {
            "multispecialty_community_provider" => [
                "separate community nursing contract",
                "outpatient clinics moved to the hub",
            ],
            "primary_and_acute_care_system" => ["acute medical beds", "duplicated diagnostics"],
            "urgent_and_emergency_care_network" => ["walk-in centre", "out-of-hours base"],
            "acute_care_collaboration" => ["duplicated back office", "second pathology laboratory"],
            _ => ["care home admissions beds", "reactive visiting service"],
        };
        let decommissioning = vec![
            Decommissioning {
                service: services[0].into(),
                date: first_date.clone(),
                released: (saving * 0.5).round(),
            },
            Decommissioning {
                service: services[1].into(),
                date: last_date.clone(),
                released: (saving * 0.5).round(),
            },
        ];
        let id = format!("{}", i + 1);
        quality.insert(id.clone(), rng.next() * 4.0 - 2.0);
        office
            .submit(
                &NewApplication {
                    id,
                    model: model.into(),
                    lead_org_code: lead.code.clone(),
                    partners,
                    system_code: system.clone(),
                    region_code: system
                        .as_deref()
                        .and_then(|s| region_of.get(s))
                        .map(|r| r.to_string()),
                    population,
                    flows,
                    decommissioning,
                    benefits: format!(
                        "{} for {} people: fewer emergency admissions, care closer to home",
                        model.replace('_', " "),
                        population
                    ),
                },
                actor,
            )
            .await?;
    }
    // Reviews: every applicant scores eight others and its own bid (not counted); reviewers in
    // the same system declare a conflict; each reviewer has a leniency of its own.
    let apps = office.applications().await?;
    let mut reviews = 0;
    for (r, reviewer) in apps.iter().enumerate() {
        let reviewer = &reviewer.application;
        let leniency = rng.next() * 3.0 - 1.0;
        let spread = 0.6 + rng.next();
        for k in 0..9 {
            let target = &apps[(r + k * 4) % apps.len()].application;
            let conflict = k > 0 && target.system_code == reviewer.system_code;
            let q = quality.get(&target.id).copied().unwrap_or(0.0);
            let score = (5.5 + leniency + spread * q + (rng.next() - 0.5)).clamp(1.0, 10.0);
            office
                .review(
                    &Review {
                        reviewer_org_code: reviewer.lead_org_code.clone(),
                        application_id: target.id.clone(),
                        score: (score * 2.0).round() / 2.0,
                        conflict,
                        comment: if conflict {
                            "declared: same system as the applicant".into()
                        } else if k == 0 {
                            "own bid".into()
                        } else {
                            format!("scored {:.1}", score)
                        },
                    },
                    actor,
                )
                .await?;
            reviews += 1;
        }
    }
    let refused = office.check_eligibility(positions, rules, actor).await?;
    let eligible: Vec<_> = office
        .applications()
        .await?
        .into_iter()
        .filter(|a| a.status != "refused")
        .collect();
    let total: f64 = eligible.iter().map(|a| a.application.requested()).sum();
    let mut quota: Vec<Quota> = store::CARE_MODELS
        .iter()
        .map(|m| Quota {
            field: "model".into(),
            value: m.to_string(),
            min: 2,
            max: Some(5),
        })
        .collect();
    for r in &ds.regions {
        if eligible
            .iter()
            .any(|a| a.application.region_code.as_deref() == Some(&r.code))
        {
            quota.push(Quota {
                field: "region_code".into(),
                value: r.code.clone(),
                min: 1,
                max: Some(4),
            });
        }
    }
    let rules_select = Rules {
        budget: (total * 0.4).round(),
        quota,
    };
    let selection = office.select(&rules_select, actor).await?;
    // Drawdown: milestones met on time and their tranches released, except the last selected
    // bid's second milestone, which slips.
    let milestones = office.milestones().await?;
    let tranches = office.tranches().await?;
    let slipper = selection.result.selected.last().cloned();
    let mut released = 0;
    for m in &milestones {
        let slips = Some(&m.application_id) == slipper.as_ref()
            && m.service
                != milestones
                    .iter()
                    .find(|x| x.application_id == m.application_id)
                    .map_or(String::new(), |x| x.service.clone());
        // Nothing is met after the scenario's date.
        if slips || m.due > as_of(ds) {
            continue;
        }
        office.meet_milestone(m.id, &m.due, actor).await?;
        for t in tranches.iter().filter(|t| t.milestone_id == m.id) {
            office.release_tranche(t.id, &m.due, rules, actor).await?;
            released += 1;
        }
    }
    // A procurement waiver and a legal-advice request for the first care model; conflicts of
    // interest for commissioners whose practices are members.
    if let Some(m) = care_models.first() {
        office
            .flexibility(
                &Flexibility {
                    id: 0,
                    care_model_code: m.code.clone(),
                    kind: "procurement_waiver".into(),
                    subject: "competitive tender for the integrated contract".into(),
                    detail: "waived for the vanguard period: the most capable provider test applied instead"
                        .into(),
                    adviser: None,
                    on_date: m.start_date.clone(),
                },
                actor,
            )
            .await?;
        office
            .flexibility(
                &Flexibility {
                    id: 0,
                    care_model_code: m.code.clone(),
                    kind: "legal_advice".into(),
                    subject: "Can member practices hold the contract their commissioner awards?".into(),
                    detail:
                        "Yes, with the conflicted members excluded from the decision and the award published"
                            .into(),
                    adviser: Some("national legal advice service".into()),
                    on_date: m.start_date.clone(),
                },
                actor,
            )
            .await?;
    }
    let org: HashMap<&str, &dataset::Organisation> =
        ds.organisations.iter().map(|o| (o.code.as_str(), o)).collect();
    let date = care_models
        .first()
        .map_or_else(|| format!("{fy}-04-01"), |m| m.start_date.clone());
    office
        .declare_conflicts(
            &|p| org.get(p).and_then(|o| o.parent.clone()),
            &|o| org.get(o).is_some_and(|o| o.kind == OrgKind::Commissioner),
            &date,
            actor,
        )
        .await?;
    let as_of = as_of(ds);
    let slipping = office
        .drawdown(positions, rules, &as_of)
        .await?
        .into_iter()
        .flat_map(|d| {
            d.slipping
                .into_iter()
                .map(move |s| format!("{}: {s}", d.application_id))
        })
        .collect();
    Ok(Summary {
        care_models: care_models.len(),
        applications: apps.len(),
        reviews,
        refused,
        selected: selection.result.selected,
        tranches_released: released,
        slipping,
        as_of,
    })
}
