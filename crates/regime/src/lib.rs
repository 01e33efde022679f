//! The whole-system intervention regime on top of the store: `sync` computes the indicators
//! and assessments a system pack needs and opens a case for every system whose trigger fires
//! (idempotently), and `case_file` writes a case as Markdown or HTML.

use std::collections::BTreeMap;

mod diagnosis;
pub use diagnosis::{Contribution, Diagnosis, Gap, Members, Metric, diagnose, diagnosis_text};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Engine(#[from] engine::Error),
    #[error("{0}")]
    Store(#[from] store::Error),
    #[error("{0}")]
    Policy(String),
}

/// What a sync did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Synced {
    pub period: String,
    /// Reporting schedules opened or changed (an outcome's frequency from today).
    pub schedules: usize,
    pub challenged: Vec<String>,
    pub opened: Vec<(String, i64)>,
    pub already_open: Vec<String>,
}

/// The organisation pack whose segments the system pack counts, then the system pack.
pub const PACKS: [&str; 2] = ["sof-2016", "system-2015"];

/// The published indicator table (with its published signals), keeping the `wanted`
/// indicators (all when empty), for assessment and tracking. Blocking.
///
/// The whole catalogue is computed at every grain, as `serve` publishes it: secondary
/// suppression depends on every relation the published table holds, so a table computed
/// for fewer indicators or grains could show a count the served table hides.
pub fn indicator_table(ds: &dataset::Dataset, wanted: Vec<String>) -> Result<policy::table::Table, Error> {
    let catalogue = engine::Catalogue::default_catalogue()
        .map_err(|p| Error::Policy(format!("the built-in catalogue: {} problems", p.len())))?;
    let computed = engine::compute(ds, &catalogue, &engine::Options::default(), &|_| {})?;
    policy::table::Table::from_batches(&computed.published, &computed.published_signals, &wanted)
        .map_err(|e| Error::Policy(e.to_string()))
}

/// A commitment's milestone on the tracking date.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Milestone {
    pub commitment_id: i64,
    pub stakeholder: String,
    pub description: String,
    pub due: Option<String>,
    /// `delivered`, `on_track` (due later), `overdue`, or `no_date`.
    pub status: String,
}

/// An indicator trajectory against the system's computed value.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrajectoryStatus {
    pub indicator: String,
    pub grain: String,
    pub period: String,
    pub target: f64,
    pub actual: Option<f64>,
    /// `on_track`, `off_track`, or `no_value` (the period is not in the data yet).
    pub status: String,
    /// The system's SPC result for the period, when the series is long enough.
    pub spc: Option<String>,
    pub explanation: String,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Tracking {
    pub case_id: i64,
    pub system_code: String,
    pub as_of: String,
    pub milestones: Vec<Milestone>,
    pub trajectories: Vec<TrajectoryStatus>,
    /// No milestone overdue and no trajectory off track.
    pub on_track: bool,
}

/// Tracks a case's delivery on `as_of` (YYYY-MM-DD): each commitment's milestone, and each
/// trajectory against the system's value in `table` with its SPC signal.
pub fn track(case: &store::Case, table: &policy::table::Table, as_of: &str) -> Tracking {
    let milestones: Vec<Milestone> = case
        .commitments
        .iter()
        .map(|c| Milestone {
            commitment_id: c.id,
            stakeholder: c.stakeholder.clone(),
            description: c.description.clone(),
            due: c.due.clone(),
            status: match (&c.done_at, &c.due) {
                (Some(_), _) => "delivered",
                (None, None) => "no_date",
                (None, Some(d)) if d.as_str() < as_of => "overdue",
                (None, Some(_)) => "on_track",
            }
            .to_string(),
        })
        .collect();
    let trajectories: Vec<TrajectoryStatus> = case
        .trajectories
        .iter()
        .map(|t| {
            let actual = table
                .get(&t.indicator, "system", &case.system_code, &t.grain, &t.period)
                .and_then(|v| v.value);
            let spc = table
                .signal(&t.indicator, "system", &case.system_code, &t.grain, &t.period)
                .and_then(|s| s.spc_point.clone().or(s.spc_variation.clone()));
            let higher = t.direction == "higher";
            let (status, explanation) = match actual {
                None => (
                    "no_value",
                    format!(
                        "no {} value for {} {} yet",
                        t.indicator, case.system_code, t.period
                    ),
                ),
                Some(v) => {
                    let met = if higher { v >= t.target } else { v <= t.target };
                    (
                        if met { "on_track" } else { "off_track" },
                        format!(
                            "{} {} is {v:.3} against a target of {} {:.3} ({} is better){}",
                            t.indicator,
                            t.period,
                            if higher { "at least" } else { "at most" },
                            t.target,
                            t.direction,
                            spc.as_ref()
                                .map(|s| format!("; SPC: {}", s.replace('_', " ")))
                                .unwrap_or_default()
                        ),
                    )
                }
            };
            TrajectoryStatus {
                indicator: t.indicator.clone(),
                grain: t.grain.clone(),
                period: t.period.clone(),
                target: t.target,
                actual,
                status: status.to_string(),
                spc,
                explanation,
            }
        })
        .collect();
    let on_track = milestones.iter().all(|m| m.status != "overdue")
        && trajectories.iter().all(|t| t.status != "off_track");
    Tracking {
        case_id: case.id,
        system_code: case.system_code.clone(),
        as_of: as_of.to_string(),
        milestones,
        trajectories,
        on_track,
    }
}

/// Every trust and system assessed, and the organisations, ready to sync into a store.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Assessed {
    pub organisations: Vec<store::Organisation>,
    pub systems: Vec<policy::assess::Assessment>,
    /// The member trusts' assessments (the organisation pack's), which set their reporting.
    #[serde(default)]
    pub trusts: Vec<policy::assess::Assessment>,
    pub pack: String,
    /// The diagnosis of every system, by code.
    pub diagnoses: BTreeMap<String, Diagnosis>,
}

/// Computes the indicators the packs read (financial years and months) and assesses every
/// trust and system. Blocking (the engine runs its own query runtime): call it outside an
/// async runtime, then [`sync`].
pub fn assess(ds: &dataset::Dataset, register: &[store::Intervention]) -> Result<Assessed, Error> {
    let wanted = wanted_indicators()?;
    let table = indicator_table(ds, wanted)?;
    assess_table_with(ds, &table, register)
}

/// The register's open interventions, as packs' `[[decision]]` tables read them.
pub fn open_interventions(register: &[store::Intervention]) -> Vec<policy::assess::OpenIntervention> {
    register
        .iter()
        .filter(|i| i.status == "open")
        .map(|i| policy::assess::OpenIntervention {
            id: i.id,
            target_code: i.target_code.clone(),
            kind: i.kind.clone(),
            regulator: i.regulator.clone(),
            start_date: i.start_date.clone(),
        })
        .collect()
}

/// The indicators [`assess`] needs: every pack's, and the margins the diagnosis splits.
pub fn wanted_indicators() -> Result<Vec<String>, Error> {
    let mut wanted = Vec::new();
    for p in PACKS {
        wanted.extend(
            policy::load_pack(p)
                .map_err(|e| Error::Policy(e.to_string()))?
                .indicators(),
        );
    }
    wanted.extend(["ie_margin".to_string(), "commissioner_margin".to_string()]);
    wanted.sort();
    wanted.dedup();
    Ok(wanted)
}

/// [`assess`] on indicators already computed (at least [`wanted_indicators`] by financial
/// year and month).
pub fn assess_table(ds: &dataset::Dataset, table: &policy::table::Table) -> Result<Assessed, Error> {
    assess_table_with(ds, table, &[])
}

/// [`assess_table`] with the register's decisions: an open intervention of a kind the trust
/// pack maps to a segment (special measures → 4) places its target there, and so counts
/// towards its system's category.
pub fn assess_table_with(
    ds: &dataset::Dataset,
    table: &policy::table::Table,
    register: &[store::Intervention],
) -> Result<Assessed, Error> {
    let packs = PACKS
        .iter()
        .map(|p| policy::load_pack(p).map_err(|e| Error::Policy(e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    let mut ctx = policy::assess::Context::default();
    let mut orgs = Vec::with_capacity(ds.organisations.len());
    for o in &ds.organisations {
        ctx.org_kinds.insert(o.code.clone(), o.kind.as_str().to_string());
        if let Some(s) = &o.system {
            ctx.systems.insert(o.code.clone(), s.clone());
        }
        orgs.push(store::Organisation {
            code: o.code.clone(),
            name: o.name.clone(),
            kind: o.kind.as_str().to_string(),
            system_code: o.system.clone(),
        });
    }
    let decided = policy::assess::register_decisions(&packs[0], &open_interventions(register));
    policy::assess::add_decisions(&mut ctx, decided);
    // What the table allows: a dataset without a whole financial year (or without the tables
    // a pack reads) assesses no one and so opens no case, rather than failing.
    let trusts = policy::assess::assess_available(&packs[0], table, &ctx, None)
        .map_err(Error::Policy)?
        .assessments;
    ctx.earlier.insert(packs[0].id.clone(), trusts.clone());
    let systems = policy::assess::assess_available(&packs[1], table, &ctx, None)
        .map_err(Error::Policy)?
        .assessments;
    // The diagnosis reads members at the level each metric's system value is built from.
    let members = engine::members(ds);
    let catalogue = engine::Catalogue::default_catalogue()
        .map_err(|p| Error::Policy(format!("the built-in catalogue: {} problems", p.len())))?;
    let metrics: Vec<Metric> = packs[1]
        .domain
        .iter()
        .flat_map(|d| &d.metric)
        .filter(|m| m.indicator != "system_surplus_share")
        .map(|m| {
            Metric::of(
                &m.indicator,
                m.direction.as_deref() != Some("lower"),
                catalogue.get(&m.indicator),
            )
        })
        .collect();
    let diagnoses = systems
        .iter()
        .map(|a| {
            (
                a.entity_code.clone(),
                diagnose(table, &members, &a.entity_code, &a.period, &metrics),
            )
        })
        .collect();
    Ok(Assessed {
        organisations: orgs,
        systems,
        trusts,
        pack: packs[1].id.clone(),
        diagnoses,
    })
}

/// Stores the organisations and opens a case (with the system's assessment as its snapshot)
/// for every system the system pack placed in `challenged`. A second run for the same period
/// opens nothing new.
pub async fn sync(assessed: &Assessed, db: &store::Store, actor: &str) -> Result<Synced, Error> {
    db.set_organisations(&assessed.organisations, actor).await?;
    let systems = &assessed.systems;
    let pack = &assessed.pack;
    let period = systems.first().map(|a| a.period.clone()).unwrap_or_default();
    let mut out = Synced {
        period: period.clone(),
        schedules: 0,
        challenged: Vec::new(),
        opened: Vec::new(),
        already_open: Vec::new(),
    };
    // The reporting each outcome asks for, from today.
    let specs = reporting_specs(assessed);
    out.schedules = db
        .set_reporting(&specs, &model::format_date(store::reporting::today()), actor)
        .await?;
    for a in systems
        .iter()
        .filter(|a| a.category.as_deref() == Some("challenged"))
    {
        out.challenged.push(a.entity_code.clone());
        let why = a
            .overrides
            .iter()
            .find(|o| o.id == "category")
            .map(|o| o.effect.clone())
            .unwrap_or_default();
        let snapshot = serde_json::to_value(a).unwrap_or_default();
        let reason = format!(
            "{pack} placed {} in \"challenged\" for {}: {why}",
            a.entity_code, a.period
        );
        match db
            .open_case(
                &a.entity_code,
                Some((pack, &a.period)),
                &reason,
                Some(&snapshot),
                actor,
            )
            .await?
        {
            Some(id) => {
                if let Some(d) = assessed.diagnoses.get(&a.entity_code) {
                    let body = serde_json::to_value(d).unwrap_or_default();
                    db.add_snapshot(id, "diagnosis", &body, actor).await?;
                }
                out.opened.push((a.entity_code.clone(), id))
            }
            None => out.already_open.push(a.entity_code.clone()),
        }
    }
    Ok(out)
}

/// The returns a system and its member organisations owe.
pub fn system_returns(
    system: &str,
    orgs: &[store::Organisation],
    returns: Vec<store::Return>,
) -> Vec<store::Return> {
    returns
        .into_iter()
        .filter(|r| {
            r.entity_code == system
                || orgs
                    .iter()
                    .any(|o| o.code == r.entity_code && o.system_code.as_deref() == Some(system))
        })
        .collect()
}

/// The reporting section of a case file: the returns the system and its members owe (the
/// caller passes theirs), overdue first.
pub fn reporting_text(returns: &[store::Return]) -> String {
    let mut md = String::from("\n## Reporting\n\n");
    if returns.is_empty() {
        md.push_str("No reporting schedule yet (a sync records one from each outcome).\n");
        return md;
    }
    let count = |s: &str| returns.iter().filter(|r| r.status == s).count();
    md.push_str(&format!(
        "{} overdue, {} due, {} open, {} submitted.\n\n| organisation or system | pack | outcome | frequency | period | due | status |\n| --- | --- | --- | --- | --- | --- | --- |\n",
        count("overdue"),
        count("due"),
        count("open"),
        count("submitted")
    ));
    let rank = |s: &str| {
        ["overdue", "due", "open", "submitted"]
            .iter()
            .position(|x| *x == s)
            .unwrap_or(4)
    };
    let mut sorted: Vec<&store::Return> = returns.iter().collect();
    sorted.sort_by(|a, b| {
        rank(&a.status)
            .cmp(&rank(&b.status))
            .then_with(|| b.due.cmp(&a.due))
    });
    for r in sorted {
        let status = match &r.submitted_at {
            Some(at) => format!("submitted {}", &at[..at.len().min(10)]),
            None => r.status.clone(),
        };
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {status} |\n",
            r.entity_code, r.pack, r.outcome, r.frequency, r.period, r.due
        ));
    }
    md
}

/// What every assessed trust and system reports at: its outcome's frequency in its pack.
pub fn reporting_specs(assessed: &Assessed) -> Vec<store::ScheduleSpec> {
    assessed
        .trusts
        .iter()
        .chain(&assessed.systems)
        .filter_map(|a| {
            let r = a.reporting.as_ref()?;
            let outcome = a
                .segment
                .map(|s| format!("segment {s}"))
                .or_else(|| a.rating.clone())
                .or_else(|| a.category.clone())?;
            Some(store::ScheduleSpec {
                entity_kind: a.entity_kind.clone(),
                entity_code: a.entity_code.clone(),
                pack: a.pack.clone(),
                outcome,
                frequency: r.frequency.clone(),
                support: r.support.clone(),
            })
        })
        .collect()
}

/// A case file: the case, its plan and totals, exit criteria, progress, the interventions in
/// its system and its conflicts, as Markdown (or HTML when `html`).
pub fn case_file(
    case: &store::Case,
    interventions: &[store::Intervention],
    conflicts: &[store::Conflict],
    returns: &[store::Return],
    html: bool,
) -> String {
    let mut md = format!(
        "# Case {} — system {}\n\nStatus: {}. Opened {} by {}{}.\n\nReason: {}\n",
        case.id,
        case.system_code,
        case.status,
        case.opened_at,
        case.opened_by,
        case.pack
            .as_ref()
            .map(|p| format!(" ({p}, {})", case.period.as_deref().unwrap_or("")))
            .unwrap_or_default(),
        case.reason
    );
    if let Some(r) = &case.close_reason {
        md.push_str(&format!(
            "\nClosed {}: {r}\n",
            case.closed_at.as_deref().unwrap_or("")
        ));
    }
    if let Some(d) = case.snapshots.iter().rev().find(|s| s.kind == "diagnosis")
        && let Ok(d) = serde_json::from_value::<Diagnosis>(d.body.clone())
    {
        md.push_str(&diagnosis_text(&d));
    }
    md.push_str("\n## Recovery plan\n\n| stakeholder | kind | care model | commitment | milestone due | delivered | levers |\n| --- | --- | --- | --- | --- | --- | --- |\n");
    for c in &case.commitments {
        let levers = c
            .levers
            .iter()
            .map(|l| format!("{} {} {:+}", l.org_code, l.lever, l.amount))
            .collect::<Vec<_>>()
            .join("; ");
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {levers} |\n",
            c.stakeholder,
            c.stakeholder_kind,
            c.care_model,
            c.description,
            c.due.as_deref().unwrap_or(""),
            c.done_at.as_deref().unwrap_or("not yet")
        ));
    }
    let totals: BTreeMap<&str, f64> = case.plan_totals.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    md.push_str(&format!(
        "\nPlan totals: beds {:+}, workforce {:+} WTE, spending £{:+.0}.\n",
        totals.get("acute_beds").copied().unwrap_or(0.0),
        totals.get("workforce_wte").copied().unwrap_or(0.0),
        totals.get("spending").copied().unwrap_or(0.0)
    ));
    md.push_str("\n## Exit criteria\n\n");
    for e in &case.exit_criteria {
        md.push_str(&format!(
            "- [{}] {}\n",
            if e.met_at.is_some() { "x" } else { " " },
            e.text
        ));
    }
    md.push_str("\n## Progress\n\n");
    for p in &case.progress {
        md.push_str(&format!("- {} ({}): {}\n", p.at, p.actor, p.note));
    }
    md.push_str("\n## Interventions in the system\n\n");
    let inside: Vec<&store::Intervention> = interventions
        .iter()
        .filter(|i| i.system_code.as_deref() == Some(case.system_code.as_str()))
        .collect();
    if inside.is_empty() {
        md.push_str("None.\n");
    } else {
        md.push_str("| id | regulator | kind | target | status | legal basis | start | deadline | required actions | levers | case |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
    }
    for i in inside {
        let levers = i
            .levers
            .iter()
            .map(|l| match &l.to_org_code {
                Some(to) => format!("{} {} {:+} to {to}", l.org_code, l.lever, l.amount),
                None => format!("{} {} {:+}", l.org_code, l.lever, l.amount),
            })
            .collect::<Vec<_>>()
            .join("; ");
        let status = match (&i.closed_at, &i.close_reason) {
            (Some(at), Some(r)) => format!("{} ({at}: {r})", i.status),
            _ => i.status.clone(),
        };
        md.push_str(&format!(
            "| {} | {} | {} | {} {} | {status} | {} | {} | {} | {} | {levers} | {} |\n",
            i.id,
            i.regulator,
            i.kind,
            i.target_kind,
            i.target_code,
            i.legal_basis,
            i.start_date,
            i.deadline.as_deref().unwrap_or(""),
            i.actions.join("; "),
            match i.case_id {
                Some(id) if id == case.id => "linked to this case".to_string(),
                Some(id) => format!("case {id}"),
                None => "not linked".to_string(),
            }
        ));
    }
    md.push_str(&reporting_text(returns));
    md.push_str("\n## Conflicts\n\n");
    let mine: Vec<&store::Conflict> = conflicts
        .iter()
        .filter(|c| c.case_id == Some(case.id) || c.system_code.as_deref() == Some(case.system_code.as_str()))
        .collect();
    if mine.is_empty() {
        md.push_str("None.\n");
    }
    for c in mine {
        md.push_str(&format!("- **{}**: {}\n", c.kind, c.explanation));
    }
    if html { to_html(&md) } else { md }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The case file's Markdown as a small accessible HTML page.
fn to_html(md: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Case file</title></head><body>\n{}</body></html>\n",
        html_fragment(md)
    )
}

/// The case file's Markdown (headings, tables, lists, paragraphs) as HTML to embed in a page.
pub fn html_fragment(md: &str) -> String {
    let mut out = String::new();
    let mut in_table = false;
    let mut in_list = false;
    for line in md.lines() {
        let close = |out: &mut String, t: &mut bool, l: &mut bool| {
            if *t {
                out.push_str("</table>\n");
                *t = false;
            }
            if *l {
                out.push_str("</ul>\n");
                *l = false;
            }
        };
        if let Some(h) = line.strip_prefix("## ") {
            close(&mut out, &mut in_table, &mut in_list);
            out.push_str(&format!("<h2>{}</h2>\n", escape(h)));
        } else if let Some(h) = line.strip_prefix("# ") {
            out.push_str(&format!("<h1>{}</h1>\n", escape(h)));
        } else if line.starts_with("| ---") {
        } else if let Some(row) = line.strip_prefix("| ") {
            let cells: Vec<&str> = row.trim_end_matches(" |").split(" | ").collect();
            let tag = if in_table { "td" } else { "th" };
            if !in_table {
                out.push_str("<table>\n");
                in_table = true;
            }
            out.push_str("<tr>");
            for c in cells {
                out.push_str(&format!("<{tag}>{}</{tag}>", escape(c)));
            }
            out.push_str("</tr>\n");
        } else if let Some(item) = line.strip_prefix("- ") {
            if !in_list {
                out.push_str("<ul>\n");
                in_list = true;
            }
            out.push_str(&format!("<li>{}</li>\n", escape(item)));
        } else if line.trim().is_empty() {
            close(&mut out, &mut in_table, &mut in_list);
        } else {
            out.push_str(&format!("<p>{}</p>\n", escape(line)));
        }
    }
    if in_table {
        out.push_str("</table>\n");
    }
    if in_list {
        out.push_str("</ul>\n");
    }
    out
}

/// The highest segment in which a framework offers at most targeted support, and the lowest in
/// which it mandates intensive support: packs placing one organisation on either side of the
/// gap disagree (`inconsistent_assessments`).
pub const AT_MOST_TARGETED: u32 = 2;
pub const INTENSIVE: u32 = 4;

/// Two packs disagreeing about the same organisation: one places it in segment 1 or 2 (at
/// most targeted support), another in segment 4 or 5 (mandated or intensive support), for
/// example SOF segment 1 while NOF segment 4. One conflict per organisation and pair of packs,
/// in words a board paper can quote. `system_of` gives an organisation's system.
pub fn inconsistent_assessments(
    assessments: &BTreeMap<String, Vec<policy::assess::Assessment>>,
    system_of: impl Fn(&str) -> Option<String>,
) -> Vec<store::Conflict> {
    // organisation → (pack, segment, period)
    let mut by_org: BTreeMap<&str, Vec<(&str, u32, &str)>> = BTreeMap::new();
    for (pack, list) in assessments {
        for a in list {
            if let Some(seg) = a.segment {
                by_org.entry(a.entity_code.as_str()).or_default().push((
                    pack.as_str(),
                    seg,
                    a.period.as_str(),
                ));
            }
        }
    }
    let mut out = Vec::new();
    for (org, seen) in by_org {
        for (i, a) in seen.iter().enumerate() {
            for b in &seen[i + 1..] {
                let (low, high) = if a.1 <= b.1 { (a, b) } else { (b, a) };
                if low.1 > AT_MOST_TARGETED || high.1 < INTENSIVE {
                    continue;
                }
                out.push(store::Conflict {
                    id: format!("inconsistent_assessments:{org}:{}:{}", a.0, b.0),
                    status: "open".into(),
                    kind: "inconsistent_assessments".into(),
                    system_code: system_of(org),
                    org_code: org.to_string(),
                    intervention_ids: Vec::new(),
                    case_id: None,
                    explanation: format!(
                        "{} places {org} in segment {} for {} (at most targeted support) while {} places it in segment {} for {} (mandated or intensive support): the frameworks disagree on whether {org} needs intervention, so regulators acting on one would contradict the other; agree one view before acting",
                        low.0, low.1, low.2, high.0, high.1, high.2
                    ),
                });
            }
        }
    }
    out
}
