//! Heads and beds over HTTP and on the dashboard: every system's capacity against projected
//! demand (`/api/v1/capacity`, `/capacity`), one system's verdict with its trusts, fan chart
//! and waterfall (`/api/v1/capacity/systems/{code}`, `/capacity/{code}`), and a plan checked
//! on request (`POST /api/v1/capacity/check`, and the form on a system's page).
//!
//! Everything served, and every plan checked here, is computed from the published baseline
//! (`capacity::baseline::Baseline::published`: a provider's pool by age band, spells of 1–7
//! suppressed and standing in as a fixed count, other spells rounded to five, nights to ten),
//! never from the spells as they are: an attacker who asks for projections under every seed
//! and subtracts recovers at most the published cells. The report is then published
//! (`capacity::plan::publish`: bed days rounded to the nearest ten).

use std::collections::BTreeSet;
use std::fmt::Write as _;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use capacity::plan::{BedCheck, Report, Rollup, SystemReport};
use serde::{Deserialize, Serialize};

use crate::api::check_code;
use crate::auth::Caller;
use crate::pages::{esc, layout};
use crate::{ApiError, Shared};

/// Most Monte Carlo runs one check may ask for.
pub const MAX_RUNS: usize = 2000;
/// Largest plan accepted, in bytes.
pub const MAX_PLAN: usize = 256 * 1024;

/// One system in the England view.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct SystemRow {
    pub code: String,
    pub name: String,
    pub region_code: Option<String>,
    pub adds_up: bool,
    pub has_plan: bool,
    /// Beds planned (or current) across every pool, and the requirement's range.
    pub beds: Option<f64>,
    pub required_p10: f64,
    pub required_p90: f64,
    /// Trusts that fall short.
    pub short: Vec<String>,
    pub reasons: Vec<String>,
}

/// The England view of heads and beds.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct England {
    pub baseline_year: String,
    pub plan_year: String,
    pub runs: usize,
    pub seed: u64,
    pub method: String,
    pub england: Rollup,
    pub regions: Vec<Rollup>,
    pub systems: Vec<SystemRow>,
}

/// A plan to check.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckRequest {
    /// The plan as CSV: `period, org_code, measure, category, value` (see docs/capacity.md).
    pub plan: String,
    /// Monte Carlo runs (default 1,000; at most 2,000).
    #[serde(default)]
    #[schemars(range(min = 1, max = 2000))]
    pub runs: Option<usize>,
    /// The Monte Carlo seed (default 1; a JSON-safe integer).
    #[serde(default)]
    #[schemars(range(min = 0, max = 9_007_199_254_740_991u64))]
    pub seed: Option<u64>,
    /// Add the recovery plans' commitments of the open cases the caller may see (their
    /// `acute_beds`, `workforce_wte` and `activity_moved` levers) where the plan has no line
    /// of its own; the plan may then be empty.
    #[serde(default)]
    pub register: bool,
}

/// A checked plan: the systems it touches and England's roll-up.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Checked {
    pub baseline_year: String,
    pub plan_year: String,
    pub runs: usize,
    pub seed: u64,
    pub england: Rollup,
    pub systems: Vec<SystemReport>,
}

fn report(s: &Shared) -> Result<&Report, ApiError> {
    s.results.capacity.as_ref().ok_or_else(|| {
        ApiError::not_found(
            "heads and beds were not computed: the dataset has no spells or no whole financial year",
        )
    })
}

fn total(u: &capacity::plan::Unit) -> Option<&BedCheck> {
    u.beds.iter().find(|b| b.group == "all")
}

fn england_view(r: &Report) -> England {
    England {
        baseline_year: r.baseline_year.clone(),
        plan_year: r.plan_year.clone(),
        runs: r.runs,
        seed: r.seed,
        method: r.method.clone(),
        england: r.england.clone(),
        regions: r.regions.clone(),
        systems: r
            .systems
            .iter()
            .map(|s| {
                let t = total(&s.unit);
                SystemRow {
                    code: s.unit.code.clone(),
                    name: s.unit.name.clone(),
                    region_code: s.unit.region_code.clone(),
                    adds_up: s.unit.adds_up,
                    has_plan: s.has_plan,
                    beds: t.and_then(|b| b.planned_beds),
                    required_p10: t.map_or(0.0, |b| b.required_beds.p10),
                    required_p90: t.map_or(0.0, |b| b.required_beds.p90),
                    short: s.short.clone(),
                    reasons: s.unit.reasons.clone(),
                }
            })
            .collect(),
    }
}

/// `GET /api/v1/capacity`.
pub async fn england(State(s): State<Shared>) -> Result<Response, ApiError> {
    Ok(axum::Json(england_view(report(&s)?)).into_response())
}

/// `GET /api/v1/capacity/systems/{code}`.
pub async fn system(State(s): State<Shared>, Path(code): Path<String>) -> Result<Response, ApiError> {
    let code = check_code("system", &code)?;
    let r = report(&s)?;
    let sys = r
        .systems
        .iter()
        .find(|x| x.unit.code == code)
        .ok_or_else(|| ApiError::not_found(format!("system {code:?}: no such system")))?;
    Ok(axum::Json(sys).into_response())
}

/// Checks a plan against the server's baseline: the core of `POST /api/v1/capacity/check`
/// and of the form on a system's page. Blocking (the projection is CPU work).
pub fn check(
    s: &Shared,
    req: &CheckRequest,
    commitments: &[capacity::plan::Commitment],
) -> Result<Checked, ApiError> {
    let refused = |m: String| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "refused", m);
    let baseline = s.results.capacity_baseline.as_ref().ok_or_else(|| {
        ApiError::not_found(
            "heads and beds were not computed: the dataset has no spells or no whole financial year",
        )
    })?;
    if req.plan.len() > MAX_PLAN {
        return Err(refused(format!("plan: over {} KiB", MAX_PLAN / 1024)));
    }
    let runs = req.runs.unwrap_or(capacity::DEFAULT_RUNS);
    if runs == 0 || runs > MAX_RUNS {
        return Err(refused(format!("runs {runs}: must be from 1 to {MAX_RUNS}")));
    }
    let orgs: BTreeSet<String> = s.results.organisations.iter().map(|o| o.code.clone()).collect();
    let systems: BTreeSet<String> = s.results.systems.iter().map(|o| o.code.clone()).collect();
    let plan = if req.register && req.plan.trim().is_empty() {
        capacity::plan::Plan {
            year: baseline.year + 2,
            lines: Vec::new(),
            changes: Vec::new(),
        }
    } else {
        capacity::plan::Plan::parse(req.plan.as_bytes(), "plan", &orgs, &systems)
            .map_err(|e| refused(e.to_string()))?
    };
    let plan = plan
        .with_commitments(commitments, baseline)
        .map_err(|e| refused(e.to_string()))?;
    let a = capacity::assumptions::Assumptions::default_set();
    let r = capacity::assess(baseline, &a, &[], Some(&plan), None, runs, req.seed.unwrap_or(1))
        .map_err(|e| refused(e.to_string()))?;
    let r = capacity::plan::publish(r);
    Ok(Checked {
        baseline_year: r.baseline_year,
        plan_year: r.plan_year,
        runs: r.runs,
        seed: r.seed,
        england: r.england,
        systems: r.systems.into_iter().filter(|x| x.has_plan).collect(),
    })
}

/// The levers of the open cases `who` may see, when asked for.
async fn register_commitments(
    s: &Shared,
    who: &crate::auth::Principal,
    asked: bool,
) -> Result<Vec<capacity::plan::Commitment>, ApiError> {
    if !asked {
        return Ok(Vec::new());
    }
    who.require()?;
    Ok(s.db
        .cases()
        .await?
        .iter()
        .filter(|c| who.sees_system(s, &c.system_code))
        .flat_map(|c| c.levers_in_force())
        .map(|(source, l)| {
            capacity::plan::Commitment::new(source, &l.org_code, &l.lever, l.amount, l.to_org_code.as_deref())
        })
        .collect())
}

/// `POST /api/v1/capacity/check`.
pub async fn check_route(
    State(s): State<Shared>,
    Caller(who): Caller,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    crate::api::require_json(&headers)?;
    let req: CheckRequest = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad(format!("the body: {e}")).hint("a JSON object: plan (CSV text), runs, seed")
    })?;
    let commitments = register_commitments(&s, &who, req.register).await?;
    let answer = tokio::task::spawn_blocking(move || check(&s, &req, &commitments))
        .await
        .map_err(ApiError::internal)??;
    Ok(axum::Json(answer).into_response())
}

// ---------------------------------------------------------------- pages

fn pct(v: Option<f64>) -> String {
    v.map_or("–".into(), |o| format!("{:.1}%", o * 100.0))
}

fn n0(v: Option<f64>) -> String {
    v.map_or("–".into(), |x| format!("{x:.0}"))
}

fn verdict(adds_up: bool) -> &'static str {
    if adds_up {
        "<span class=\"tag fast-track\">adds up</span>"
    } else {
        "<span class=\"tag challenged\">does not add up</span>"
    }
}

/// The fan chart: each bed group's requirement p10–p90 as a band with its mean, beside the
/// planned (●) and current (◆) beds, on one scale per group.
pub fn fan_chart(beds: &[BedCheck]) -> String {
    let rows: Vec<&BedCheck> = beds.iter().filter(|b| b.group != "all").collect();
    let (w, row_h, left) = (640.0, 34.0, 110.0);
    let h = row_h * rows.len() as f64 + 30.0;
    let mut svg = format!(
        "<svg class=\"fan\" role=\"img\" aria-labelledby=\"fan-title\" viewBox=\"0 0 {w} {h}\" width=\"100%\"><title id=\"fan-title\">Beds required (p10 to p90, mean) against planned and current beds, by bed group</title>"
    );
    for (i, b) in rows.iter().enumerate() {
        let max = [
            b.required_beds.p90,
            b.planned_beds.unwrap_or(0.0),
            b.current_beds.unwrap_or(0.0),
        ]
        .into_iter()
        .fold(1.0, f64::max)
            * 1.1;
        let x = |v: f64| left + (w - left - 20.0) * v / max;
        let y = 10.0 + row_h * i as f64;
        let _ = write!(
            svg,
            "<text x=\"4\" y=\"{:.1}\" font-size=\"12\">{}</text><rect class=\"band\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"14\" fill=\"#aec7e8\"><title>required {:.0} to {:.0} beds</title></rect><line x1=\"{m:.1}\" x2=\"{m:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#005eb8\" stroke-width=\"2\"/>",
            y + 12.0,
            esc(&b.group),
            x(b.required_beds.p10),
            y,
            (x(b.required_beds.p90) - x(b.required_beds.p10)).max(1.0),
            b.required_beds.p10,
            b.required_beds.p90,
            y - 2.0,
            y + 16.0,
            m = x(b.required_beds.mean),
        );
        if let Some(c) = b.current_beds {
            let _ = write!(
                svg,
                "<path d=\"M{:.1} {:.1} l5 5 l-5 5 l-5 -5 z\" fill=\"#4c6272\"><title>current {:.0}</title></path>",
                x(c),
                y + 17.0,
                c
            );
        }
        if let Some(p) = b.planned_beds.filter(|_| b.beds_from_plan) {
            let colour = if b.flags.is_empty() { "#007f3b" } else { "#d5281b" };
            let _ = write!(
                svg,
                "<circle class=\"planned\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"5\" fill=\"{colour}\"><title>planned {:.0}</title></circle>",
                x(p),
                y + 7.0,
                p
            );
        }
    }
    let _ = write!(
        svg,
        "<text x=\"{left}\" y=\"{:.1}\" font-size=\"11\">band: required p10–p90, line: mean · ● planned (red: flagged) · ◆ current</text></svg>",
        h - 6.0
    );
    svg
}

/// The waterfall: baseline bed days, each step's change, the projection.
pub fn waterfall(steps: &[capacity::plan::Step]) -> String {
    let (w, h, pad) = (640.0, 220.0, 30.0);
    let mut running = 0.0;
    let mut bars = Vec::new();
    for (i, s) in steps.iter().enumerate() {
        let (from, to) = if i == 0 || i == steps.len() - 1 {
            (0.0, s.bed_days)
        } else {
            (running, running + s.bed_days)
        };
        if i != steps.len() - 1 {
            running = if i == 0 { s.bed_days } else { running + s.bed_days };
        }
        bars.push((s, from, to));
    }
    let max = bars.iter().map(|b| b.1.max(b.2)).fold(1.0, f64::max) * 1.05;
    let min = bars.iter().map(|b| b.1.min(b.2)).fold(max, f64::min) * 0.9;
    let y = |v: f64| h - pad - (h - 2.0 * pad) * (v - min) / (max - min).max(1.0);
    let bw = (w - 2.0 * pad) / bars.len() as f64;
    let mut svg = format!(
        "<svg class=\"waterfall\" role=\"img\" aria-labelledby=\"wf-title\" viewBox=\"0 0 {w} {h}\" width=\"100%\"><title id=\"wf-title\">From baseline to projected bed days, step by step</title>"
    );
    for (i, (s, from, to)) in bars.iter().enumerate() {
        let x = pad + bw * i as f64 + 4.0;
        let (top, bottom) = (y(from.max(*to)), y(from.min(*to)));
        let colour = if i == 0 || i == bars.len() - 1 {
            "#005eb8"
        } else if to >= from {
            "#d5281b"
        } else {
            "#007f3b"
        };
        let _ = write!(
            svg,
            "<rect x=\"{x:.1}\" y=\"{top:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{colour}\"><title>{}: {:+.0} bed days ({:+.1} occupied beds)</title></rect><text x=\"{x:.1}\" y=\"{:.1}\" font-size=\"9\">{}</text>",
            bw - 8.0,
            (bottom - top).max(1.0),
            esc(&s.step),
            s.bed_days,
            s.occupied_beds,
            h - 8.0,
            esc(&s.step.replace('_', " "))
        );
    }
    svg.push_str("</svg>");
    svg
}

fn beds_table(caption: &str, beds: &[BedCheck]) -> String {
    let mut t = format!(
        "<table><caption>{}</caption><thead><tr><th scope=\"col\">Bed group</th><th scope=\"col\" class=\"num\">Bed days baseline</th><th scope=\"col\" class=\"num\">projected</th><th scope=\"col\" class=\"num\">Beds now</th><th scope=\"col\" class=\"num\">planned</th><th scope=\"col\" class=\"num\">required p10</th><th scope=\"col\" class=\"num\">mean</th><th scope=\"col\" class=\"num\">p90</th><th scope=\"col\" class=\"num\">Occupancy implied</th><th scope=\"col\">Flags</th></tr></thead><tbody>",
        esc(caption)
    );
    for b in beds {
        let _ = write!(
            t,
            "<tr><th scope=\"row\">{}</th><td class=\"num\">{:.0}</td><td class=\"num\">{:.0}</td><td class=\"num\">{}</td><td class=\"num\">{}{}</td><td class=\"num\">{:.0}</td><td class=\"num\">{:.0}</td><td class=\"num\">{:.0}</td><td class=\"num\">{} (max {:.0}%)</td><td>{}</td></tr>",
            esc(&b.group),
            b.baseline_bed_days,
            b.projected_bed_days,
            n0(b.current_beds),
            n0(b.planned_beds),
            if b.beds_from_plan { "" } else { " (current)" },
            b.required_beds.p10,
            b.required_beds.mean,
            b.required_beds.p90,
            pct(b.implied_occupancy),
            b.max_occupancy * 100.0,
            esc(&b.flags.join(", "))
        );
    }
    t.push_str("</tbody></table>");
    t
}

fn system_body(sys: &SystemReport, r_plan_year: &str, baseline_year: &str, checked: bool) -> String {
    let mut b = String::new();
    let _ = write!(
        b,
        "<p>{} {} against demand projected from {} to {}.{}</p>",
        verdict(sys.unit.adds_up),
        if checked {
            "The plan checked here"
        } else if sys.has_plan {
            "The plan"
        } else {
            "Current capacity (no plan submitted)"
        },
        esc(baseline_year),
        esc(r_plan_year),
        if sys.short.is_empty() {
            String::new()
        } else {
            format!(" Falling short: {}.", esc(&sys.short.join(", ")))
        }
    );
    if !sys.unit.reasons.is_empty() {
        b.push_str("<h2>Why it does not add up</h2><ul class=\"reasons\">");
        for r in &sys.unit.reasons {
            let _ = write!(b, "<li>{}</li>", esc(r));
        }
        b.push_str("</ul>");
    }
    b.push_str("<h2>Beds: requirement against plan</h2><figure>");
    b.push_str(&fan_chart(&sys.unit.beds));
    b.push_str("</figure>");
    b.push_str(&beds_table(
        "The system's beds by group (summed over its trusts' pools; \"all\" is every group)",
        &sys.unit.beds,
    ));
    b.push_str("<h2>From baseline to projection</h2><figure>");
    b.push_str(&waterfall(&sys.waterfall));
    b.push_str("</figure><table><caption>Bed days a year, step by step (rounded to the nearest ten)</caption><thead><tr><th scope=\"col\">Step</th><th scope=\"col\" class=\"num\">Bed days</th><th scope=\"col\" class=\"num\">Occupied beds</th></tr></thead><tbody>");
    for s in &sys.waterfall {
        let _ = write!(
            b,
            "<tr><th scope=\"row\">{}</th><td class=\"num\">{:+.0}</td><td class=\"num\">{:+.1}</td></tr>",
            esc(&s.step.replace('_', " ")),
            s.bed_days,
            s.occupied_beds
        );
    }
    b.push_str("</tbody></table><h2>Heads by staff group</h2><table><caption>WTE in post, planned and required</caption><thead><tr><th scope=\"col\">Staff group</th><th scope=\"col\" class=\"num\">In post</th><th scope=\"col\" class=\"num\">Planned</th><th scope=\"col\" class=\"num\">Required p10</th><th scope=\"col\" class=\"num\">mean</th><th scope=\"col\" class=\"num\">p90</th></tr></thead><tbody>");
    for h in &sys.unit.heads {
        let _ = write!(
            b,
            "<tr><th scope=\"row\">{}</th><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            esc(&h.staff_group),
            n0(h.in_post),
            n0(h.planned),
            n0(h.required.map(|r| r.p10)),
            n0(h.required.map(|r| r.mean)),
            n0(h.required.map(|r| r.p90))
        );
    }
    b.push_str("</tbody></table><h2>Trusts</h2>");
    for p in &sys.providers {
        let _ = write!(
            b,
            "<h3>{} {} {}</h3>",
            esc(&p.code),
            esc(&p.name),
            verdict(p.adds_up)
        );
        b.push_str(&beds_table(&format!("{}: beds by group", p.code), &p.beds));
    }
    b
}

/// `GET /capacity`: which footprints' plans add up.
pub async fn england_page(State(s): State<Shared>, Caller(who): Caller) -> Response {
    let Some(r) = s.results.capacity.as_ref() else {
        return layout("Heads and beds", &who, "<h1>Heads and beds</h1><p class=\"note\">Not computed: the dataset has no spells or no whole financial year.</p>").into_response();
    };
    let v = england_view(r);
    let mut b = format!(
        "<h1>Heads and beds: does each system's plan add up?</h1><p>{} of {} systems add up for {} (demand projected from {}, {} Monte Carlo runs). England: {:.0} beds against a requirement of {:.0} (p10) to {:.0} (p90).</p><p class=\"note\">{}</p>",
        v.england.systems_adding_up,
        v.england.systems,
        esc(&v.plan_year),
        esc(&v.baseline_year),
        v.runs,
        v.england.planned_beds,
        v.england.required_beds.p10,
        v.england.required_beds.p90,
        esc(&v.method)
    );
    b.push_str("<table><caption>Systems: beds against the projected requirement</caption><thead><tr><th scope=\"col\">System</th><th scope=\"col\">Verdict</th><th scope=\"col\" class=\"num\">Beds</th><th scope=\"col\" class=\"num\">Required p10</th><th scope=\"col\" class=\"num\">p90</th><th scope=\"col\">Falling short</th></tr></thead><tbody>");
    for s in &v.systems {
        let _ = write!(
            b,
            "<tr><th scope=\"row\"><a href=\"/capacity/{c}\">{c}</a> {}</th><td>{}{}</td><td class=\"num\">{}</td><td class=\"num\">{:.0}</td><td class=\"num\">{:.0}</td><td>{}</td></tr>",
            esc(&s.name),
            verdict(s.adds_up),
            if s.has_plan { "" } else { " (current capacity)" },
            n0(s.beds),
            s.required_p10,
            s.required_p90,
            esc(&s.short.join(", ")),
            c = esc(&s.code),
        );
    }
    b.push_str("</tbody></table><h2>Regions</h2><table><caption>Systems adding up by region</caption><thead><tr><th scope=\"col\">Region</th><th scope=\"col\" class=\"num\">Systems</th><th scope=\"col\" class=\"num\">Adding up</th></tr></thead><tbody>");
    for r in &v.regions {
        let _ = write!(
            b,
            "<tr><th scope=\"row\">{}</th><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            esc(&r.name),
            r.systems,
            r.systems_adding_up
        );
    }
    b.push_str("</tbody></table>");
    layout("Heads and beds", &who, &b).into_response()
}

fn plan_form(code: &str, plan: &str) -> String {
    format!(
        "<h2>Check a plan</h2><form method=\"post\" action=\"/capacity/{c}\"><p><label for=\"plan\">Plan (CSV: period, org_code, measure, category, value)</label><br><textarea id=\"plan\" name=\"plan\" rows=\"8\" cols=\"70\">{}</textarea></p><p><label for=\"runs\">Monte Carlo runs</label> <input id=\"runs\" name=\"runs\" value=\"1000\" size=\"6\"></p><p><input type=\"checkbox\" id=\"register\" name=\"register\" value=\"on\"> <label for=\"register\">with the register's open commitments (beds, WTE, activity moved) where the plan is silent</label></p><p><button type=\"submit\">Check the plan</button></p></form>",
        esc(plan),
        c = esc(code)
    )
}

fn example_plan(r: &Report, sys: &SystemReport) -> String {
    let mut out = String::from("period,org_code,measure,category,value\n");
    for p in &sys.providers {
        if let Some(b) = p.beds.iter().find(|b| b.group == "ga")
            && let Some(c) = b.current_beds
        {
            let _ = writeln!(out, "{},{},beds,ga,{:.0}", r.plan_year, p.code, c);
        }
    }
    out
}

/// `GET /capacity/{code}`: one system's heads and beds.
pub async fn system_page(State(s): State<Shared>, Caller(who): Caller, Path(code): Path<String>) -> Response {
    let found = check_code("system", &code).ok().and_then(|code| {
        let r = s.results.capacity.as_ref()?;
        Some((r, r.systems.iter().find(|x| x.unit.code == code)?))
    });
    let Some((r, sys)) = found else {
        let mut resp = layout(
            "Not found",
            &who,
            "<h1>404</h1><p>No heads-and-beds figures for that system.</p>",
        )
        .into_response();
        *resp.status_mut() = StatusCode::NOT_FOUND;
        return resp;
    };
    let mut b = format!(
        "<h1>Heads and beds: {} {}</h1>",
        esc(&sys.unit.code),
        esc(&sys.unit.name)
    );
    b.push_str(&system_body(sys, &r.plan_year, &r.baseline_year, false));
    b.push_str(&plan_form(&sys.unit.code, &example_plan(r, sys)));
    layout(&format!("Heads and beds: {}", sys.unit.name), &who, &b).into_response()
}

/// The plan form's fields.
#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct PlanForm {
    plan: String,
    runs: String,
    #[serde(default)]
    register: Option<String>,
}

/// `POST /capacity/{code}`: the plan typed into the system page, checked.
pub async fn system_check(
    State(s): State<Shared>,
    Caller(who): Caller,
    Path(code): Path<String>,
    form: Result<axum::Form<PlanForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(axum::Form(f)) = form else {
        return layout(
            "Heads and beds",
            &who,
            "<h1>Heads and beds</h1><p class=\"note\" role=\"alert\">The form needs a plan.</p>",
        )
        .into_response();
    };
    let Ok(code) = check_code("system", &code) else {
        return layout(
            "Heads and beds",
            &who,
            "<h1>Heads and beds</h1><p class=\"note\" role=\"alert\">Not a system code.</p>",
        )
        .into_response();
    };
    let runs = f.runs.trim().parse::<usize>().ok();
    let req = CheckRequest {
        plan: f.plan.clone(),
        runs,
        seed: None,
        register: f.register.is_some(),
    };
    let commitments = match register_commitments(&s, &who, req.register).await {
        Ok(c) => c,
        Err(e) => {
            let body = format!(
                "<h1>Heads and beds: {}</h1><p class=\"note\" role=\"alert\">Not checked: {}</p>",
                esc(&code),
                esc(&e.message)
            );
            return layout("Heads and beds", &who, &body).into_response();
        }
    };
    let shared = s.clone();
    let result = tokio::task::spawn_blocking(move || check(&shared, &req, &commitments)).await;
    let mut b = format!("<h1>Heads and beds: {} — a plan checked</h1>", esc(&code));
    match result {
        Ok(Ok(c)) => match c.systems.iter().find(|x| x.unit.code == code) {
            Some(sys) => b.push_str(&system_body(sys, &c.plan_year, &c.baseline_year, true)),
            None => b.push_str("<p class=\"note\" role=\"alert\">The plan names nothing in this system.</p>"),
        },
        Ok(Err(e)) => {
            let _ = write!(
                b,
                "<p class=\"note\" role=\"alert\">Not checked: {}</p>",
                esc(&e.message)
            );
        }
        Err(e) => {
            let _ = write!(
                b,
                "<p class=\"note\" role=\"alert\">Not checked: {}</p>",
                esc(&e.to_string())
            );
        }
    }
    b.push_str(&plan_form(&code, &f.plan));
    layout("Heads and beds", &who, &b).into_response()
}
