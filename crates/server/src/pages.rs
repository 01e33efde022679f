//! The dashboard: server-rendered HTML that works without JavaScript. Headings in order,
//! labelled forms and tables with captions, a skip link, visible focus and NHS colours with
//! text contrast of at least 4.5:1. Suppressed numbers read "suppressed", never 0.

use crate::api::check_code;
use crate::auth::{Caller, Principal};
use crate::{ApiError, Shared, State};
use axum::Router;
use axum::extract::{Path, State as S};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use std::fmt::Write as _;

pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// The system categories' colours: one palette for the map, its key and every tag, from
/// Okabe and Ito's set for colour-blind readers (each pair stays apart under simulated
/// protanopia, deuteranopia and tritanopia; tested), each with the text colour that gives a
/// contrast of at least 4.5:1 on it.
pub const CATEGORY_COLOURS: [(&str, &str, &str); 4] = [
    ("challenged", "#d55e00", "#000000"),
    ("support", "#f0e442", "#000000"),
    ("fast-track", "#0072b2", "#ffffff"),
    ("none", "#bbbbbb", "#000000"),
];

/// The page style, with the category palette written in once for tags (`.challenged`) and
/// map areas (`.f-challenged`).
static STYLE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let mut s = String::from(BASE_STYLE);
    for (name, fill, text) in CATEGORY_COLOURS {
        let _ = write!(
            s,
            ".{name}{{background:{fill};color:{text}}}.f-{name}{{fill:{fill}}}"
        );
    }
    s
});

const BASE_STYLE: &str = "body{font-family:Arial,Helvetica,sans-serif;margin:0;color:#212b32;background:#f0f4f5;line-height:1.4}
header{background:#005eb8;color:#fff;padding:.6rem 1rem;display:flex;gap:1.5rem;align-items:center;flex-wrap:wrap}
header a{color:#fff;font-weight:bold}main{max-width:72rem;margin:0 auto;padding:1rem;background:#fff}
a{color:#005eb8}a:focus,button:focus,input:focus{outline:3px solid #ffeb3b;outline-offset:1px;box-shadow:0 4px #212b32}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:#ffeb3b;color:#212b32;padding:.5rem}
table{border-collapse:collapse;margin:.5rem 0 1rem;width:100%}th,td{border-bottom:1px solid #d8dde0;padding:.3rem .5rem;text-align:left;vertical-align:top}
caption{text-align:left;font-weight:bold;padding:.3rem 0}.num{text-align:right;font-variant-numeric:tabular-nums}
.suppressed{font-style:italic;color:#4c6272}.tag{display:inline-block;padding:0 .4rem;border-radius:3px;font-weight:bold;border:1px solid #212b32}
svg.map path.area{stroke:#fff;stroke-width:.3}svg.map path.area:hover{opacity:.8}svg.map .borders{fill:none;stroke:#212b32;stroke-width:1.1}
nav{display:flex;gap:1rem}header form{margin:0}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(22rem,1fr));gap:1rem}figure{margin:0}svg.spc,svg.funnel{width:100%;height:auto;background:#fff;border:1px solid #d8dde0}
.note{background:#fff9c4;padding:.5rem;border-left:4px solid #ffeb3b}";

/// A whole page.
pub fn layout(title: &str, who: &Principal, body: &str) -> Html<String> {
    let account = match who.token() {
        None => "<a href=\"/login\">Sign in</a>".to_string(),
        Some(t) => format!(
            "<span>Signed in: {} ({}{})</span>{}",
            esc(&t.name),
            esc(&t.role),
            t.scope
                .as_deref()
                .map(|s| format!(", {}", esc(s)))
                .unwrap_or_default(),
            who.csrf()
                .map(|c| format!(
                    "<form method=\"post\" action=\"/logout\"><input type=\"hidden\" name=\"csrf\" value=\"{}\"><button type=\"submit\">Sign out</button></form>",
                    esc(c)
                ))
                .unwrap_or_default()
        ),
    };
    Html(format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{t} — Footprint</title><style>{style}</style></head><body><a class=\"skip\" href=\"#main\">Skip to content</a><header><a href=\"/\">Footprint</a><nav aria-label=\"Main\"><a href=\"/\">England</a> <a href=\"/capacity\">Heads and beds</a> <a href=\"/budgets\">Budgets</a> <a href=\"/programme\">New care models</a> <a href=\"/learning\">Learning library</a></nav>{account}</header><main id=\"main\">{body}</main></body></html>",
        t = esc(title),
        style = STYLE.as_str()
    ))
}

fn error_page(e: ApiError, who: &Principal) -> Response {
    let mut r = layout(
        "Error",
        who,
        &format!(
            "<h1>{}</h1><p>{}</p>{}",
            e.status.as_u16(),
            esc(&e.message),
            e.hint
                .as_deref()
                .map(|h| format!("<p>{}</p>", esc(h)))
                .unwrap_or_default()
        ),
    )
    .into_response();
    *r.status_mut() = e.status;
    r
}

fn category_tag(c: Option<&str>) -> String {
    let c = c.unwrap_or("none");
    let class = if ["challenged", "support", "fast-track"].contains(&c) {
        c
    } else {
        "none"
    };
    format!(
        "<span class=\"tag {class}\">{}</span>",
        esc(if c == "none" { "no category" } else { c })
    )
}

pub fn number(v: &crate::results::Value) -> String {
    match (v.suppressed, v.value) {
        (true, _) => "<span class=\"suppressed\">suppressed</span>".into(),
        (false, Some(x)) => format!("{x:.2}"),
        (false, None) => "<span class=\"suppressed\">not available</span>".into(),
    }
}

async fn england(S(s): S<Shared>, Caller(who): Caller) -> Response {
    let mut b = String::from("<h1>England: every system at a glance</h1>");
    let period = s
        .results
        .assessments
        .get("system-2015")
        .and_then(|v| v.first())
        .map(|a| a.period.clone())
        .unwrap_or_default();
    let _ = write!(
        b,
        "<p>Systems by their category in the whole-system pack (system-2015), {}. Select an area for its system.</p>",
        esc(&period)
    );
    b.push_str(&coverage_note(&s, "system-2015"));
    let m = &s.map;
    let _ = write!(
        b,
        "<figure><svg class=\"map\" viewBox=\"0 0 {} {}\" width=\"{}\" role=\"img\" aria-labelledby=\"map-title\"><title id=\"map-title\">Map of England's 106 sub-ICB locations coloured by their system's category</title>",
        crate::map::WIDTH,
        m.height,
        crate::map::WIDTH
    );
    for shape in &m.shapes {
        let category = shape
            .system_code
            .as_deref()
            .and_then(|c| s.results.category(c))
            .unwrap_or("none");
        let class = if ["challenged", "support", "fast-track"].contains(&category) {
            category
        } else {
            "none"
        };
        let system_name = shape
            .system_code
            .as_deref()
            .and_then(|c| s.results.system(c))
            .map(|x| x.name.as_str())
            .unwrap_or("no system");
        let path = format!(
            "<path class=\"area f-{class}\" data-system=\"{}\" d=\"{}\"><title>{} — {} ({})</title></path>",
            esc(shape.system_code.as_deref().unwrap_or("")),
            shape.d,
            esc(&shape.name),
            esc(system_name),
            esc(category)
        );
        match &shape.system_code {
            Some(c) => {
                let _ = write!(b, "<a href=\"/systems/{}\">{path}</a>", esc(c));
            }
            None => b.push_str(&path),
        }
    }
    let _ = write!(
        b,
        "<path class=\"borders\" d=\"{}\"/></svg><figcaption>Key: {} {} {} {}. Heavier lines are system borders.</figcaption></figure>",
        m.borders,
        category_tag(Some("challenged")),
        category_tag(Some("support")),
        category_tag(Some("fast-track")),
        category_tag(None)
    );
    b.push_str("<h2>League table</h2><p>Systems are ranked by category first, in the order the pack tests them (challenged, then fast-track, then support), and within a category by overall score (1 is best, 4 worst). A category comes from its trigger, not from the score: a system with a good score is still challenged when one trigger fires. The last column says which.</p><table class=\"league\"><caption>Systems by category, then overall score (system-2015)</caption><thead><tr><th scope=\"col\">Rank</th><th scope=\"col\">System</th><th scope=\"col\">Region</th><th scope=\"col\" class=\"num\">Score (1–4)</th><th scope=\"col\">Category</th><th scope=\"col\">Why this category</th></tr></thead><tbody>");
    for r in crate::api::league_rows(&s, "system-2015") {
        let code = r.entity_code.as_str();
        let region = s
            .results
            .system(code)
            .map(|x| x.region_code.clone())
            .unwrap_or_default();
        let _ = write!(
            b,
            "<tr><td class=\"num\">{}</td><td><a href=\"/systems/{c}\">{}</a> ({c})</td><td>{}</td><td class=\"num\">{}</td><td>{}</td><td class=\"trigger\">{}</td></tr>",
            r.rank,
            esc(r.name.as_deref().unwrap_or(code)),
            esc(&region),
            r.overall_score
                .map(|x| format!("{x:.2}"))
                .unwrap_or_else(|| "—".into()),
            category_tag(r.category.as_deref()),
            esc(r.category_trigger.as_deref().unwrap_or("—")),
            c = esc(code)
        );
    }
    b.push_str("</tbody></table><p>Download: <a href=\"/api/v1/league/system-2015?format=csv\">league table (CSV)</a>, <a href=\"/api/v1/systems?format=csv\">systems (CSV)</a>, <a href=\"/api/v1/openapi.json\">API</a>.</p>");
    layout("England", &who, &b).into_response()
}

/// What a pack could not assess in the served dataset, and why, as a note (empty when it
/// assessed everything).
fn coverage_note(s: &State, pack: &str) -> String {
    let Some(c) = s.results.coverage.get(pack) else {
        return String::new();
    };
    if let Some(why) = &c.not_assessed {
        return format!(
            "<p class=\"note coverage\" data-pack=\"{p}\"><strong>{p} not assessed:</strong> {}.</p>",
            esc(why),
            p = esc(pack)
        );
    }
    if c.left_out.is_empty() {
        return String::new();
    }
    let mut b = format!(
        "<div class=\"note coverage\" data-pack=\"{p}\"><p><strong>{p}: assessed without some parts</strong> (the dataset lacks what they need):</p><ul>",
        p = esc(pack)
    );
    for l in &c.left_out {
        let _ = write!(
            b,
            "<li>{} {} ({}): {}</li>",
            esc(&l.part),
            esc(&l.within),
            esc(&l.needs),
            esc(&l.reason)
        );
    }
    b.push_str("</ul></div>");
    b
}

/// The latest `grain` value of an entity's indicator.
fn latest<'a>(
    s: &'a State,
    ind: &str,
    kind: &str,
    code: &str,
    grain: &str,
) -> Option<&'a crate::results::Value> {
    s.results
        .series(ind, kind, code)
        .filter(|v| &*v.grain == grain)
        .last()
}

/// A value with its unit, or why there is none.
pub fn with_unit(v: &crate::results::Value, unit: &str) -> String {
    match (v.suppressed, v.value) {
        (false, Some(_)) => format!("{} {}", number(v), esc(&unit_text(unit))),
        _ => number(v),
    }
}

/// How a catalogue unit reads after a number.
pub fn unit_text(unit: &str) -> String {
    match unit {
        "percent" => "%".into(),
        "per1000" => "per 1,000".into(),
        "days" => "days".into(),
        "ratio100" => "(100 = expected)".into(),
        "times" => "times".into(),
        "percentage_points" | "percentagepoints" => "percentage points".into(),
        "score" => "(score)".into(),
        other => other.replace('_', " "),
    }
}

/// The funnel's horizontal axis for a data type.
fn denominator_title(dt: stats::funnel::DataType) -> &'static str {
    match dt {
        stats::funnel::DataType::Proportion => "Denominator (people or events)",
        stats::funnel::DataType::Ratio(_) => "Expected events",
        stats::funnel::DataType::RatioOfCounts => "Denominator",
    }
}

/// Each indicator's latest financial-year value with its unit, an SPC chart of its months and,
/// where it has an interval, a funnel plot of the entity among `peers` (same entity kind;
/// organisations of the same kind) at that year.
fn indicator_section(
    s: &State,
    kind: &str,
    code: &str,
    ids: &[String],
    peers: &dyn Fn(&str) -> bool,
) -> String {
    let mut b = String::from("<h2>Indicators</h2><div class=\"charts\">");
    for id in ids {
        let Some(meta) = s.results.indicator(id) else {
            continue;
        };
        let months: Vec<(String, Option<f64>)> = s
            .results
            .series(id, kind, code)
            .filter(|v| &*v.grain == "month")
            .map(|v| (v.period.to_string(), if v.suppressed { None } else { v.value }))
            .collect();
        let fy = latest(s, id, kind, code, "financial_year");
        let last_month = s
            .results
            .series(id, kind, code)
            .filter(|v| &*v.grain == "month")
            .last();
        if fy.is_none() && months.is_empty() {
            continue;
        }
        let axis = crate::svg::Axis::of_unit(&meta.unit);
        let _ = write!(
            b,
            "<figure class=\"indicator\" data-indicator=\"{}\"><figcaption><h3>{}</h3>",
            esc(id),
            esc(&meta.title)
        );
        let latest_value = fy.or(last_month);
        if let Some(v) = latest_value {
            let _ = write!(
                b,
                "<p>{}: {} {}</p>",
                esc(&v.period),
                with_unit(v, &meta.unit),
                crate::svg::variation_icon(last_month.and_then(|m| m.spc_variation.as_deref()))
            );
        }
        b.push_str("</figcaption>");
        let published = months.iter().filter(|m| m.1.is_some()).count();
        if published >= engine::signals::MIN_SPC_POINTS {
            let direction = match meta.direction.as_str() {
                "higher" => stats::spc::Direction::Increase,
                "lower" => stats::spc::Direction::Decrease,
                _ => stats::spc::Direction::Neutral,
            };
            b.push_str(&crate::svg::spc(&meta.title, &months, direction, &axis));
        } else if !months.is_empty() {
            let _ = write!(
                b,
                "<p class=\"no-chart\">No SPC chart: {published} of {} months published (at least {} are needed; the others are suppressed or missing).</p>",
                months.len(),
                engine::signals::MIN_SPC_POINTS
            );
        }
        // The funnel of every peer at the latest financial year.
        let data_type = match meta.ci.as_str() {
            "wilson" => Some(stats::funnel::DataType::Proportion),
            "isr" => Some(stats::funnel::DataType::Ratio(stats::funnel::SrMethod::Shmi)),
            "byars" => Some(stats::funnel::DataType::RatioOfCounts),
            _ => None,
        };
        if let (Some(dt), Some(v)) = (data_type, fy) {
            let units: Vec<(String, f64, f64, f64)> = s
                .results
                .section(id, "financial_year", &v.period, kind)
                .filter(|u| !u.suppressed && peers(u.entity_code.as_ref()))
                .filter_map(|u| {
                    Some((
                        u.entity_code.to_string(),
                        u.numerator?,
                        u.denominator.filter(|d| *d > 0.0)?,
                        u.value?,
                    ))
                })
                .collect();
            if units.len() >= 5 && units.iter().any(|u| u.0 == code) {
                let mult = if dt == stats::funnel::DataType::Proportion {
                    100.0
                } else {
                    meta.multiplier
                };
                // The position is read off the funnel drawn here, among these published peers.
                let f = crate::svg::funnel(
                    &format!("{} {}, {} peers", meta.title, v.period, units.len()),
                    &units,
                    dt,
                    mult,
                    code,
                    &axis,
                    denominator_title(dt),
                );
                b.push_str(&f.svg);
                if let Some(p) = f.position {
                    let _ = write!(b, "<p class=\"funnel-position\">Among peers: {}</p>", esc(&p));
                }
            }
        }
        b.push_str("</figure>");
    }
    b.push_str("</div>");
    b
}

fn system_indicators(s: &State) -> Vec<String> {
    let mut ids: Vec<String> = policy::load_pack("system-2015")
        .map(|p| p.indicators())
        .unwrap_or_default();
    ids.retain(|i| s.results.indicator(i).is_some());
    ids
}

async fn system_page(S(s): S<Shared>, Caller(who): Caller, Path(code): Path<String>) -> Response {
    let Ok(code) = check_code("system", &code) else {
        return error_page(ApiError::bad("not a system code"), &who);
    };
    let Some(sys) = s.results.system(&code) else {
        return error_page(
            ApiError::not_found(format!("system {code:?}: no such system")),
            &who,
        );
    };
    let public = cached(&s, code.clone(), || system_public(&s, sys, &code));
    let mut b = String::with_capacity(public.len() + 4096);
    b.push_str(&public);
    if who.sees_system(&s, &code) {
        if let Some(d) = s.results.regime.as_ref().and_then(|r| r.diagnoses.get(&code)) {
            b.push_str(&regime::html_fragment(&regime::diagnosis_text(d)));
        }
        match detail(&s, &code).await {
            Ok(h) => b.push_str(&h),
            Err(e) => return error_page(e, &who),
        }
        match reporting(&s, &who, &code).await {
            Ok(h) => b.push_str(&h),
            Err(e) => return error_page(e, &who),
        }
        let open_case = match s.db.cases().await {
            Ok(c) => c.iter().any(|c| c.system_code == code && c.status == "open"),
            Err(e) => return error_page(e.into(), &who),
        };
        b.push_str(&crate::forms::system_forms(&s, &who, &code, open_case));
    } else {
        b.push_str("<h2>Diagnosis, recovery plan, interventions and conflicts</h2><p class=\"note\">These are shown to tokens whose scope includes this system. <a href=\"/login\">Sign in</a>.</p>");
    }
    layout(&sys.name, &who, &b).into_response()
}

/// A page's public part, drawn once and kept: it depends only on the results, which never
/// change while serving.
fn cached(s: &State, key: String, draw: impl FnOnce() -> String) -> std::sync::Arc<String> {
    if let Some(p) = s.pages.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
        return p.clone();
    }
    let p = std::sync::Arc::new(draw());
    s.pages
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(key, p.clone());
    p
}

/// A system page's public part: heading, category, members and indicator charts.
fn system_public(s: &State, sys: &crate::results::System, code: &str) -> String {
    let mut b = format!("<h1>{} ({})</h1>", esc(&sys.name), esc(code));
    let a = s.results.assessment("system-2015", code);
    let _ = write!(
        b,
        "<p>Category: {}{}</p>",
        category_tag(a.and_then(|a| a.category.as_deref())),
        a.map(|a| format!(" — {}", esc(a.explanation.lines().next().unwrap_or(""))))
            .unwrap_or_default()
    );
    if let Some(why) = a.and_then(crate::api::category_trigger) {
        let _ = write!(
            b,
            "<p class=\"trigger\"><strong>Why this category:</strong> {}</p>",
            esc(&why)
        );
    }
    b.push_str(&coverage_note(s, "system-2015"));
    b.push_str("<h2>Members</h2><table><caption>Trusts and commissioners in the system, with their segment</caption><thead><tr><th scope=\"col\">Organisation</th><th scope=\"col\">Kind</th><th scope=\"col\">Segment</th></tr></thead><tbody>");
    for o in s.results.members(code) {
        let seg = s.results.segment(&o.code);
        let _ = write!(
            b,
            "<tr><td><a href=\"/organisations/{c}\">{}</a> ({c})</td><td>{}</td><td>{}</td></tr>",
            esc(&o.name),
            esc(&o.kind.replace('_', " ")),
            seg.map(|(x, p)| format!("{x} ({p})"))
                .unwrap_or_else(|| "—".into()),
            c = esc(&o.code)
        );
    }
    b.push_str("</tbody></table>");
    b.push_str(&indicator_section(
        s,
        "system",
        code,
        &system_indicators(s),
        &|_| true,
    ));
    b
}

async fn detail(s: &State, system: &str) -> Result<String, ApiError> {
    let mut b = String::new();
    let cases: Vec<store::Case> =
        s.db.cases()
            .await?
            .into_iter()
            .filter(|c| c.system_code == system)
            .collect();
    b.push_str("<h2>Cases and recovery plans</h2>");
    if cases.is_empty() {
        b.push_str("<p>No case.</p>");
    }
    for c in &cases {
        let _ = write!(
            b,
            "<h3><a href=\"/cases/{}\">Case {}</a> ({})</h3><p>{}</p>",
            c.id,
            c.id,
            esc(&c.status),
            esc(&c.reason)
        );
        b.push_str("<table class=\"plan\"><caption>Recovery plan: commitments and milestones</caption><thead><tr><th scope=\"col\">Stakeholder</th><th scope=\"col\">Care model</th><th scope=\"col\">Commitment</th><th scope=\"col\">Milestone due</th><th scope=\"col\">Delivered</th></tr></thead><tbody>");
        for m in &c.commitments {
            let _ = write!(
                b,
                "<tr><td>{} ({})</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&m.stakeholder),
                esc(&m.stakeholder_kind.replace('_', " ")),
                esc(&m.care_model.replace('_', " ")),
                esc(&m.description),
                esc(m.due.as_deref().unwrap_or("—")),
                esc(m.done_at.as_deref().unwrap_or("not yet"))
            );
        }
        b.push_str("</tbody></table>");
    }
    let interventions: Vec<store::Intervention> =
        s.db.interventions()
            .await?
            .into_iter()
            .filter(|i| i.system_code.as_deref() == Some(system))
            .collect();
    b.push_str("<h2>Interventions</h2>");
    if interventions.is_empty() {
        b.push_str("<p>None.</p>");
    } else {
        b.push_str("<table><caption>Interventions on the system and its members</caption><thead><tr><th scope=\"col\">Regulator</th><th scope=\"col\">Kind</th><th scope=\"col\">Target</th><th scope=\"col\">Status</th><th scope=\"col\">Deadline</th></tr></thead><tbody>");
        for i in &interventions {
            let _ = write!(
                b,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&i.regulator),
                esc(&i.kind.replace('_', " ")),
                esc(&i.target_code),
                esc(&i.status),
                esc(i.deadline.as_deref().unwrap_or("—"))
            );
        }
        b.push_str("</tbody></table>");
    }
    let conflicts: Vec<store::Conflict> =
        s.db.conflicts()
            .await?
            .into_iter()
            .chain(s.assessment_conflicts.iter().cloned())
            .filter(|c| c.system_code.as_deref() == Some(system))
            .collect();
    b.push_str("<h2 id=\"conflicts\">Conflicts</h2>");
    if conflicts.is_empty() {
        b.push_str("<p>None.</p>");
    } else {
        b.push_str("<ul class=\"conflicts\">");
        for c in &conflicts {
            let _ = write!(
                b,
                "<li data-kind=\"{}\"><strong>{}</strong>: {}</li>",
                esc(&c.kind),
                esc(&c.kind.replace('_', " ")),
                esc(&c.explanation)
            );
        }
        b.push_str("</ul>");
    }
    Ok(b)
}

/// The system's and its members' returns that are overdue or due, from the reporting calendar.
async fn reporting(s: &State, who: &Principal, system: &str) -> Result<String, ApiError> {
    let owed: Vec<store::Return> = crate::returns::visible(s, who, store::reporting::today())
        .await?
        .into_iter()
        .filter(|r| crate::returns::system_of(s, r).as_deref() == Some(system))
        .collect();
    let mut b = String::from("<h2 id=\"reporting\">Reporting</h2>");
    if owed.is_empty() {
        b.push_str("<p>No reporting schedule yet (a sync records one from each outcome).</p>");
        return Ok(b);
    }
    let late: Vec<&store::Return> = owed
        .iter()
        .filter(|r| matches!(r.status.as_str(), "overdue" | "due"))
        .collect();
    let current: Vec<String> = {
        let mut seen: Vec<String> = Vec::new();
        for r in owed.iter().rev() {
            let line = format!(
                "{} reports {} under {} ({})",
                r.entity_code, r.frequency, r.pack, r.outcome
            );
            if !seen
                .iter()
                .any(|x| x.starts_with(&format!("{} reports", r.entity_code)) && x.contains(&r.pack))
            {
                seen.push(line);
            }
        }
        seen
    };
    let _ = write!(b, "<p>{}.</p>", esc(&current.join("; ")));
    if late.is_empty() {
        b.push_str("<p>No return overdue or due.</p>");
        return Ok(b);
    }
    b.push_str("<table class=\"returns\"><caption>Returns overdue or due</caption><thead><tr><th scope=\"col\">Organisation or system</th><th scope=\"col\">Pack</th><th scope=\"col\">Period</th><th scope=\"col\">Due</th><th scope=\"col\">Status</th></tr></thead><tbody>");
    for r in late {
        let _ = write!(
            b,
            "<tr data-status=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&r.status),
            esc(&r.entity_code),
            esc(&r.pack),
            esc(&r.period),
            esc(&r.due),
            esc(&r.status)
        );
    }
    b.push_str("</tbody></table>");
    Ok(b)
}

/// One pack's assessment as tables: each domain's metrics (value with unit, rule, score),
/// then the overrides and what they did.
fn assessment_table(s: &State, pack: &str, a: &policy::assess::Assessment) -> String {
    let mut b = format!(
        "<h3>{}, {}</h3><p>Segment: {} · rating: {} · overall score: {}</p>",
        esc(pack),
        esc(&a.period),
        a.segment.map(|x| x.to_string()).unwrap_or_else(|| "—".into()),
        esc(a.rating.as_deref().unwrap_or("—")),
        a.overall_score
            .map(|x| format!("{x:.2}"))
            .unwrap_or_else(|| "—".into()),
    );
    let _ = write!(
        b,
        "<table class=\"explanation\"><caption>{} {}: how each metric was scored</caption><thead><tr><th scope=\"col\">Domain</th><th scope=\"col\">Metric</th><th scope=\"col\" class=\"num\">Value</th><th scope=\"col\">Rule</th><th scope=\"col\" class=\"num\">Score</th></tr></thead><tbody>",
        esc(pack),
        esc(&a.period)
    );
    for d in a.domains.values() {
        for m in &d.metrics {
            let meta = s.results.indicator(&m.indicator);
            let value = match m.value {
                Some(v) => format!(
                    "{v:.2} {}",
                    esc(&meta.map(|x| unit_text(&x.unit)).unwrap_or_default())
                ),
                None => "<span class=\"suppressed\">no value</span>".into(),
            };
            let _ = write!(
                b,
                "<tr><td>{}</td><td>{}</td><td class=\"num\">{value}</td><td>{}</td><td class=\"num\">{}</td></tr>",
                esc(&d.title),
                esc(meta.map_or(m.indicator.as_str(), |x| x.title.as_str())),
                esc(&m.rule),
                m.score.map(|x| format!("{x:.2}")).unwrap_or_else(|| "—".into())
            );
        }
        let _ = write!(
            b,
            "<tr class=\"domain\"><th scope=\"row\" colspan=\"4\">{} (domain score)</th><td class=\"num\">{}</td></tr>",
            esc(&d.title),
            d.score.map(|x| format!("{x:.2}")).unwrap_or_else(|| "—".into())
        );
    }
    b.push_str("</tbody></table>");
    if !a.overrides.is_empty() {
        let _ = write!(
            b,
            "<table class=\"overrides\"><caption>{} {}: overrides, caps and outcome</caption><thead><tr><th scope=\"col\">Rule</th><th scope=\"col\">Applied</th><th scope=\"col\">Effect</th></tr></thead><tbody>",
            esc(pack),
            esc(&a.period)
        );
        for o in &a.overrides {
            let _ = write!(
                b,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&o.text),
                if o.applied { "yes" } else { "no" },
                esc(&o.effect)
            );
        }
        b.push_str("</tbody></table>");
    }
    b
}

/// An organisation page's public part: heading, assessments as tables, indicator charts.
fn organisation_public(s: &State, o: &crate::results::Organisation, code: &str) -> String {
    let mut b = format!(
        "<h1>{} ({})</h1><p>{}",
        esc(&o.name),
        esc(code),
        esc(&o.kind.replace('_', " "))
    );
    if let Some(sys) = o.system_code.as_deref().and_then(|c| s.results.system(c)) {
        let _ = write!(
            b,
            " in <a href=\"/systems/{c}\">{}</a>",
            esc(&sys.name),
            c = esc(&sys.code)
        );
    }
    b.push_str(".</p><h2>Assessments</h2>");
    let mut any = false;
    for p in crate::results::PACKS {
        if let Some(a) = s.results.assessment(p, code) {
            any = true;
            b.push_str(&assessment_table(s, p, a));
        }
    }
    if !any {
        b.push_str("<p>Not assessed by a shipped pack.</p>");
    }
    for p in crate::results::PACKS {
        b.push_str(&coverage_note(s, p));
    }
    // Every indicator published for the organisation: trend, latest value, place among peers
    // of the same kind.
    let ids: Vec<String> = s.results.indicators.iter().map(|m| m.id.clone()).collect();
    let kind = o.kind.clone();
    let same_kind = |c: &str| s.results.organisation(c).is_some_and(|x| x.kind == kind);
    b.push_str(&indicator_section(s, "organisation", code, &ids, &same_kind));
    b
}

async fn organisation_page(S(s): S<Shared>, Caller(who): Caller, Path(code): Path<String>) -> Response {
    let Ok(code) = check_code("organisation", &code) else {
        return error_page(ApiError::bad("not an organisation code"), &who);
    };
    let Some(o) = s.results.organisation(&code) else {
        return error_page(
            ApiError::not_found(format!("organisation {code:?}: no such organisation")),
            &who,
        );
    };
    let public = cached(&s, format!("organisation:{code}"), || {
        organisation_public(&s, o, &code)
    });
    let mut b = String::with_capacity(public.len() + 1024);
    b.push_str(&public);
    if who.sees_org(&s, &code) {
        match s.db.interventions().await {
            Ok(list) => {
                b.push_str("<h2>Interventions</h2><ul>");
                for i in list.iter().filter(|i| i.target_code == code) {
                    let _ = write!(
                        b,
                        "<li>{} {} ({}), {}</li>",
                        esc(&i.regulator),
                        esc(&i.kind.replace('_', " ")),
                        esc(&i.status),
                        esc(&i.actions.join("; "))
                    );
                }
                b.push_str("</ul>");
            }
            Err(e) => return error_page(e.into(), &who),
        }
    }
    layout(&o.name, &who, &b).into_response()
}

async fn case_page(S(s): S<Shared>, Caller(who): Caller, Path(id): Path<String>) -> Response {
    case_response(&s, &who, &id, None).await
}

/// The case page, with a refused form's error above the forms (and its status) when given.
pub(crate) async fn case_response(
    s: &State,
    who: &Principal,
    id: &str,
    refused: Option<ApiError>,
) -> Response {
    if !who.is_authenticated() {
        return error_page(
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "cases are shown to signed-in users",
            )
            .hint("sign in with an access token at /login"),
            who,
        );
    }
    let Ok(n) = id.parse::<i64>() else {
        return error_page(ApiError::bad("not a case number"), who);
    };
    let cases = match s.db.cases().await {
        Ok(c) => c,
        Err(e) => return error_page(e.into(), who),
    };
    let Some(case) = cases
        .into_iter()
        .find(|c| c.id == n && who.sees_system(s, &c.system_code))
    else {
        return error_page(
            refused.unwrap_or_else(|| ApiError::not_found(format!("case {n}: none in your token's scope"))),
            who,
        );
    };
    let (interventions, conflicts) = match (
        s.db.interventions().await,
        crate::api::visible_conflicts(s, who).await,
    ) {
        (Ok(i), Ok(c)) => (i, c),
        (Err(e), _) => return error_page(e.into(), who),
        (_, Err(e)) => return error_page(e, who),
    };
    let interventions: Vec<store::Intervention> = interventions
        .into_iter()
        .filter(|i| crate::api::visible_intervention(s, who, i))
        .collect();
    let returns = match crate::returns::visible(s, who, store::reporting::today()).await {
        Ok(r) => r
            .into_iter()
            .filter(|r| crate::returns::system_of(s, r).as_deref() == Some(case.system_code.as_str()))
            .collect::<Vec<_>>(),
        Err(e) => return error_page(e, who),
    };
    let md = regime::case_file(&case, &interventions, &conflicts, &returns, false);
    let mut b = String::new();
    let status = match &refused {
        Some(e) => {
            let _ = write!(
                b,
                "<p class=\"note\" role=\"alert\" id=\"refused\">Not changed: {}{}</p>",
                esc(&e.message),
                e.hint
                    .as_deref()
                    .map(|h| format!(" ({})", esc(h)))
                    .unwrap_or_default()
            );
            e.status
        }
        None => StatusCode::OK,
    };
    b.push_str(&regime::html_fragment(&md));
    b.push_str(&crate::forms::case_forms(s, who, &case, &interventions, &returns));
    (status, layout(&format!("Case {n}"), who, &b)).into_response()
}

async fn login_form(Caller(who): Caller) -> Response {
    layout("Sign in", &who, "<h1>Sign in</h1><form method=\"post\" action=\"/login\"><p><label for=\"token\">Access token</label><br><input id=\"token\" name=\"token\" type=\"password\" autocomplete=\"off\" size=\"70\" required></p><p><button type=\"submit\">Sign in</button></p></form><p>Tokens are made with <code>footprint tokens create</code>.</p>").into_response()
}

const EXAMPLE_TERMS: &str = include_str!("../../../examples/terms/gain_loss_share.toml");

fn budgets_page(terms: &str, actual: &str, result: &str) -> String {
    format!(
        "<h1>Settle a risk share</h1><p>Nothing is stored. Build the terms of the two common shapes with the first form, or write any arrangement (gain/loss share, risk corridor, pooled or alliance budget) as TOML in the second (see docs/budgets.md).</p>\
<h2>Build common terms</h2><form method=\"post\" action=\"/budgets\" class=\"builder\"><input type=\"hidden\" name=\"mode\" value=\"build\">\
<fieldset><legend>Shape</legend><p><input type=\"radio\" id=\"shape-gls\" name=\"shape\" value=\"gain_loss_share\" checked> <label for=\"shape-gls\">Gain/loss share between a provider and a commissioner</label></p><p><input type=\"radio\" id=\"shape-rc\" name=\"shape\" value=\"risk_corridor\"> <label for=\"shape-rc\">Risk corridor on a provider's costs (commissioner pays a share above target, symmetric)</label></p></fieldset>\
<p><label for=\"b-target\">Target (£)</label><br><input id=\"b-target\" name=\"target\" inputmode=\"decimal\" value=\"100000000\" required></p>\
<p><label for=\"b-actual\">Total outturn (£)</label><br><input id=\"b-actual\" name=\"actual\" inputmode=\"decimal\" value=\"{actual}\" required></p>\
<p><label for=\"b-provider\">Provider</label><br><input id=\"b-provider\" name=\"provider\" value=\"Acute trust\" required></p>\
<p><label for=\"b-commissioner\">Commissioner</label><br><input id=\"b-commissioner\" name=\"commissioner\" value=\"Commissioner\" required></p>\
<fieldset><legend>Gain/loss share</legend><p><label for=\"b-band\">Dead band (% of target)</label><br><input id=\"b-band\" name=\"dead_band_pct\" inputmode=\"decimal\" value=\"1\"></p><p><label for=\"b-gain\">Provider's share of a gain (%)</label><br><input id=\"b-gain\" name=\"gain_share_pct\" inputmode=\"decimal\" value=\"50\"></p><p><label for=\"b-loss\">Provider's share of a loss (%)</label><br><input id=\"b-loss\" name=\"loss_share_pct\" inputmode=\"decimal\" value=\"50\"></p><p><label for=\"b-cap\">Provider's loss cap (£, blank for none)</label><br><input id=\"b-cap\" name=\"loss_cap\" inputmode=\"decimal\" value=\"2000000\"></p></fieldset>\
<fieldset><legend>Risk corridor</legend><p><label for=\"b-from\">First band from (% above target)</label><br><input id=\"b-from\" name=\"band_from_pct\" inputmode=\"decimal\" value=\"3\"></p><p><label for=\"b-to\">First band to (%)</label><br><input id=\"b-to\" name=\"band_to_pct\" inputmode=\"decimal\" value=\"8\"></p><p><label for=\"b-share1\">Commissioner's share in the first band (%)</label><br><input id=\"b-share1\" name=\"band_share_pct\" inputmode=\"decimal\" value=\"50\"></p><p><label for=\"b-share2\">Commissioner's share beyond it (%)</label><br><input id=\"b-share2\" name=\"beyond_share_pct\" inputmode=\"decimal\" value=\"80\"></p></fieldset>\
<p><button type=\"submit\">Write the terms and settle</button></p></form>\
<h2>Terms as TOML</h2><form method=\"post\" action=\"/budgets\"><p><label for=\"terms\">Terms (TOML)</label><br><textarea id=\"terms\" name=\"terms\" rows=\"18\" cols=\"90\">{}</textarea></p><p><label for=\"actual\">Total outturn (£)</label><br><input id=\"actual\" name=\"actual\" inputmode=\"decimal\" value=\"{actual}\" required></p><p><button type=\"submit\">Settle</button></p></form>{result}",
        esc(terms),
        actual = esc(actual)
    )
}

async fn budgets_form(Caller(who): Caller) -> Response {
    layout("Budgets", &who, &budgets_page(EXAMPLE_TERMS, "103000000", "")).into_response()
}

/// The budgets page's forms: TOML terms, or the fields of a common shape (`mode=build`).
#[derive(serde::Deserialize, Default, Debug)]
#[serde(default)]
struct SettleForm {
    terms: String,
    actual: String,
    mode: String,
    shape: String,
    target: String,
    provider: String,
    commissioner: String,
    dead_band_pct: String,
    gain_share_pct: String,
    loss_share_pct: String,
    loss_cap: String,
    band_from_pct: String,
    band_to_pct: String,
    band_share_pct: String,
    beyond_share_pct: String,
}

/// A number typed into a form (`£`, commas and spaces allowed); `None` when blank.
fn form_number(field: &str, text: &str) -> Result<Option<f64>, String> {
    let t = text.trim().replace([',', '£', ' ', '_'], "");
    if t.is_empty() {
        return Ok(None);
    }
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(Some(v)),
        _ => Err(format!("{field}: {text:?}: not a number")),
    }
}

/// A TOML basic string (JSON's string escapes are TOML's).
fn toml_string(s: &str) -> String {
    serde_json::Value::String(s.trim().to_string()).to_string()
}

/// Writes the TOML terms of a common shape from the builder form's fields.
fn build_terms(f: &SettleForm) -> Result<String, String> {
    let need = |field: &str, text: &str| {
        form_number(field, text)?.ok_or_else(|| format!("{field}: a number is needed"))
    };
    let pct = |field: &str, text: &str| need(field, text).map(|v| v / 100.0);
    let target = need("target", &f.target)?;
    let (provider, commissioner) = (toml_string(&f.provider), toml_string(&f.commissioner));
    match f.shape.as_str() {
        "gain_loss_share" => {
            let cap = form_number("loss cap", &f.loss_cap)?
                .map(|c| format!("loss_cap = {c}\n"))
                .unwrap_or_default();
            Ok(format!(
                "# Written by the budgets page's builder: a gain/loss share.\nkind = \"gain_loss_share\"\nname = \"Gain/loss share\"\ntarget = {target}\ndead_band = {}\ndead_band_mode = \"threshold\"\n\n[[party]]\nname = {provider}\ngain_share = {}\nloss_share = {}\n{cap}\n[[party]]\nname = {commissioner}\nremainder = true\n",
                pct("dead band", &f.dead_band_pct)?,
                pct("gain share", &f.gain_share_pct)?,
                pct("loss share", &f.loss_share_pct)?,
            ))
        }
        "risk_corridor" => Ok(format!(
            "# Written by the budgets page's builder: a symmetric risk corridor.\nkind = \"risk_corridor\"\nname = \"Risk corridor\"\ntarget = {target}\nsymmetric = true\n\n[[corridor]]\nfrom = {}\nto = {}\nshare = {}\n\n[[corridor]]\nfrom = {}\nshare = {}\n\n[[party]]\nname = {provider}\n\n[[party]]\nname = {commissioner}\nshare = 1.0\n",
            pct("band from", &f.band_from_pct)?,
            pct("band to", &f.band_to_pct)?,
            pct("first band's share", &f.band_share_pct)?,
            pct("band to", &f.band_to_pct)?,
            pct("share beyond", &f.beyond_share_pct)?,
        )),
        other => Err(format!(
            "shape: {other:?}: choose gain_loss_share or risk_corridor"
        )),
    }
}

async fn budgets_settle(
    Caller(who): Caller,
    form: Result<axum::Form<SettleForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(axum::Form(mut f)) = form else {
        return error_page(ApiError::bad("the form needs terms and a total outturn"), &who);
    };
    if f.mode == "build" {
        match build_terms(&f) {
            Ok(t) => f.terms = t,
            Err(e) => {
                let html = format!(
                    "<h2>Not settled</h2><p class=\"note\" role=\"alert\">{}</p>",
                    esc(&e)
                );
                return layout("Budgets", &who, &budgets_page(&f.terms, &f.actual, &html)).into_response();
            }
        }
    }
    let result = match form_number("total outturn", &f.actual) {
        Err(e) => Err(ApiError::bad(e)),
        Ok(None) => Err(ApiError::bad("total outturn: a number is needed")),
        Ok(Some(a)) => crate::api::settle(crate::api::SettleRequest {
            terms: f.terms.clone(),
            actual: Some(a),
            outturn: None,
            high_cost: Vec::new(),
        }),
    };
    let html = match result {
        Err(e) => format!(
            "<h2>Not settled</h2><p class=\"note\" role=\"alert\">{}</p>",
            esc(&e.message)
        ),
        Ok(s) => {
            let mut b = format!(
                "<h2>Settlement</h2><p>Target £{:.0}, outturn £{:.0}.</p><table class=\"settlement\"><caption>Transfers (positive when paid to the party)</caption><thead><tr><th scope=\"col\">Party</th><th scope=\"col\" class=\"num\">Transfer (£)</th><th scope=\"col\">Capped</th></tr></thead><tbody>",
                s.target, s.outturn
            );
            for p in &s.parties {
                let _ = write!(
                    b,
                    "<tr><td>{}</td><td class=\"num\">{:.0}</td><td>{}</td></tr>",
                    esc(&p.party),
                    p.transfer,
                    if p.capped { "yes" } else { "no" }
                );
            }
            b.push_str("</tbody></table><h3>Arithmetic</h3><ol>");
            for st in &s.steps {
                let _ = write!(b, "<li>{}: {}</li>", esc(&st.step), esc(&st.arithmetic));
            }
            b.push_str("</ol>");
            b
        }
    };
    layout("Budgets", &who, &budgets_page(&f.terms, &f.actual, &html)).into_response()
}

#[derive(serde::Deserialize)]
struct LoginForm {
    token: String,
}

async fn login(
    S(s): S<Shared>,
    ext: axum::http::Extensions,
    form: Result<axum::Form<LoginForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let client = ext
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    let anonymous = Principal::Anonymous;
    let Ok(axum::Form(form)) = form else {
        return error_page(ApiError::bad("the sign-in form needs a token"), &anonymous);
    };
    let mut h = axum::http::HeaderMap::new();
    let Ok(v) = HeaderValue::from_str(&format!("Bearer {}", form.token.trim())) else {
        return error_page(
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "the access token is not valid",
            ),
            &anonymous,
        );
    };
    h.insert(header::AUTHORIZATION, v);
    match crate::auth::principal(&s, &h, client).await {
        Ok((Principal::Token(_), _)) => {
            // The session keeps the token on the server; the cookie holds only the session's
            // random id.
            let Some((id, _)) = s.sessions.open(form.token.trim()) else {
                return error_page(ApiError::internal("no randomness for a session id"), &anonymous);
            };
            let mut r = Redirect::to("/").into_response();
            if let Ok(c) = HeaderValue::from_str(&crate::auth::session_cookie(&s, Some(&id))) {
                r.headers_mut().insert(header::SET_COOKIE, c);
            }
            r
        }
        Ok(_) => error_page(ApiError::bad("the sign-in form needs a token"), &anonymous),
        Err(e) => error_page(e, &anonymous),
    }
}

#[derive(serde::Deserialize)]
struct LogoutForm {
    #[serde(default)]
    csrf: String,
}

/// Signs out: the session is closed on the server and the cookie cleared. The form must
/// carry the session's CSRF token.
async fn logout(
    S(s): S<Shared>,
    Caller(who): Caller,
    form: Result<axum::Form<LogoutForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    if let Principal::Session { id, csrf, .. } = &who {
        let given = form.map(|f| f.0.csrf).unwrap_or_default();
        if !crate::auth::same_secret(&given, csrf) {
            return error_page(
                ApiError::new(
                    StatusCode::FORBIDDEN,
                    "bad_csrf",
                    "the form is not from this session",
                )
                .hint("sign out from a page of this dashboard"),
                &who,
            );
        }
        s.sessions.close(id);
    }
    let mut r = Redirect::to("/").into_response();
    if let Ok(v) = HeaderValue::from_str(&crate::auth::session_cookie(&s, None)) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

pub fn router() -> Router<Shared> {
    Router::new()
        .route("/", get(england))
        .route("/systems/{code}", get(system_page))
        .route("/organisations/{code}", get(organisation_page))
        .route("/cases/{id}", get(case_page))
        .route(
            "/cases/{id}/forms/{action}",
            axum::routing::post(crate::forms::case_form),
        )
        .route(
            "/systems/{code}/forms/{action}",
            axum::routing::post(crate::forms::system_form),
        )
        .route("/budgets", get(budgets_form).post(budgets_settle))
        .route("/capacity", get(crate::capacity::england_page))
        .route("/programme", get(crate::programme::page))
        .route("/learning", get(crate::evaluation::page))
        .route(
            "/capacity/{code}",
            get(crate::capacity::system_page).post(crate::capacity::system_check),
        )
        .route("/login", get(login_form).post(login))
        .route("/logout", axum::routing::post(logout))
}
