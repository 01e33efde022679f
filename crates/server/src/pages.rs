//! The dashboard: server-rendered HTML that works without JavaScript. Headings in order,
//! labelled forms and tables with captions, a skip link, visible focus and NHS colours with
//! text contrast of at least 4.5:1. Suppressed numbers read "suppressed", never 0.

use crate::api::check_code;
use crate::auth::{COOKIE, Caller, Principal};
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

const STYLE: &str = "body{font-family:Arial,Helvetica,sans-serif;margin:0;color:#212b32;background:#f0f4f5;line-height:1.4}
header{background:#005eb8;color:#fff;padding:.6rem 1rem;display:flex;gap:1.5rem;align-items:center;flex-wrap:wrap}
header a{color:#fff;font-weight:bold}main{max-width:72rem;margin:0 auto;padding:1rem;background:#fff}
a{color:#005eb8}a:focus,button:focus,input:focus{outline:3px solid #ffeb3b;outline-offset:1px;box-shadow:0 4px #212b32}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:#ffeb3b;color:#212b32;padding:.5rem}
table{border-collapse:collapse;margin:.5rem 0 1rem;width:100%}th,td{border-bottom:1px solid #d8dde0;padding:.3rem .5rem;text-align:left;vertical-align:top}
caption{text-align:left;font-weight:bold;padding:.3rem 0}.num{text-align:right;font-variant-numeric:tabular-nums}
.suppressed{font-style:italic;color:#4c6272}.tag{display:inline-block;padding:0 .4rem;border-radius:3px;color:#fff;font-weight:bold}
.challenged{background:#d5281b}.support{background:#e8a5b4;color:#212b32}.fast-track{background:#007f3b}.none{background:#4c6272}
svg.map path.area{stroke:#fff;stroke-width:.3}svg.map path.area:hover{opacity:.8}svg.map .borders{fill:none;stroke:#212b32;stroke-width:1.1}
.f-challenged{fill:#d5281b}.f-support{fill:#e8a5b4}.f-fast-track{fill:#78be20}.f-none{fill:#aeb7bd}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(22rem,1fr));gap:1rem}figure{margin:0}svg.spc,svg.funnel{width:100%;height:auto;background:#fff;border:1px solid #d8dde0}
.note{background:#fff9c4;padding:.5rem;border-left:4px solid #ffeb3b}";

/// A whole page.
pub fn layout(title: &str, who: &Principal, body: &str) -> Html<String> {
    let account = match who {
        Principal::Anonymous => "<a href=\"/login\">Sign in</a>".to_string(),
        Principal::Token(t) => format!(
            "<span>Signed in: {} ({}{})</span><form method=\"post\" action=\"/logout\"><button type=\"submit\">Sign out</button></form>",
            esc(&t.name),
            esc(&t.role),
            t.scope
                .as_deref()
                .map(|s| format!(", {}", esc(s)))
                .unwrap_or_default()
        ),
    };
    Html(format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{t} — Footprint</title><style>{STYLE}</style></head><body><a class=\"skip\" href=\"#main\">Skip to content</a><header><a href=\"/\">Footprint</a><nav aria-label=\"Main\"><a href=\"/\">England</a> <a href=\"/budgets\">Budgets</a></nav>{account}</header><main id=\"main\">{body}</main></body></html>",
        t = esc(title)
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
    b.push_str("<h2>League table</h2><table><caption>Systems, best overall score first (system-2015)</caption><thead><tr><th scope=\"col\">Rank</th><th scope=\"col\">System</th><th scope=\"col\">Region</th><th scope=\"col\" class=\"num\">Score</th><th scope=\"col\">Category</th></tr></thead><tbody>");
    for r in crate::api::league_rows(&s, "system-2015") {
        let code = r["entity_code"].as_str().unwrap_or("");
        let region = s
            .results
            .system(code)
            .map(|x| x.region_code.clone())
            .unwrap_or_default();
        let _ = write!(
            b,
            "<tr><td class=\"num\">{}</td><td><a href=\"/systems/{c}\">{}</a> ({c})</td><td>{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            r["rank"],
            esc(r["name"].as_str().unwrap_or(code)),
            esc(&region),
            r["overall_score"]
                .as_f64()
                .map(|x| format!("{x:.2}"))
                .unwrap_or_else(|| "—".into()),
            category_tag(r["category"].as_str()),
            c = esc(code)
        );
    }
    b.push_str("</tbody></table><p>Download: <a href=\"/api/v1/league/system-2015?format=csv\">league table (CSV)</a>, <a href=\"/api/v1/systems?format=csv\">systems (CSV)</a>, <a href=\"/api/v1/openapi.json\">API</a>.</p>");
    layout("England", &who, &b).into_response()
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

fn indicator_section(s: &State, kind: &str, code: &str, ids: &[String]) -> String {
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
        let _ = write!(
            b,
            "<figure class=\"indicator\" data-indicator=\"{}\"><figcaption><h3>{}</h3>",
            esc(id),
            esc(&meta.title)
        );
        if let Some(v) = fy {
            let _ = write!(
                b,
                "<p>{}: {} {} {}</p>",
                esc(&v.period),
                number(v),
                esc(&meta.unit),
                crate::svg::variation_icon(last_month.and_then(|m| m.spc_variation.as_deref()))
            );
        }
        b.push_str("</figcaption>");
        if months.len() >= engine::signals::MIN_SPC_POINTS {
            let direction = match meta.direction.as_str() {
                "higher" => stats::spc::Direction::Increase,
                "lower" => stats::spc::Direction::Decrease,
                _ => stats::spc::Direction::Neutral,
            };
            b.push_str(&crate::svg::spc(&meta.title, &months, direction));
        }
        // The funnel of every peer at the latest financial year.
        let data_type = match meta.ci.as_str() {
            "wilson" => Some(stats::funnel::DataType::Proportion),
            "isr" => Some(stats::funnel::DataType::Ratio(stats::funnel::SrMethod::Shmi)),
            "byars" => Some(stats::funnel::DataType::RatioOfCounts),
            _ => None,
        };
        if let (Some(dt), Some(v), true) = (data_type, fy, kind == "system") {
            let units: Vec<(String, f64, f64, f64)> = s
                .results
                .section(id, "financial_year", &v.period, kind)
                .filter_map(|u| {
                    Some((
                        u.entity_code.to_string(),
                        u.numerator?,
                        u.denominator.filter(|d| *d > 0.0)?,
                        u.value?,
                    ))
                })
                .collect();
            if units.len() >= 5 {
                let mult = if dt == stats::funnel::DataType::Proportion {
                    100.0
                } else {
                    meta.multiplier
                };
                b.push_str(&crate::svg::funnel(
                    &format!("{} {}, systems", meta.title, v.period),
                    &units,
                    dt,
                    mult,
                    code,
                ));
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
    // The public part depends only on the results, which never change while serving: drawn
    // once per system and kept.
    let public = {
        let cached = s
            .pages
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&code)
            .cloned();
        match cached {
            Some(p) => p,
            None => {
                let p = std::sync::Arc::new(system_public(&s, sys, &code));
                s.pages
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(code.clone(), p.clone());
                p
            }
        }
    };
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
    } else {
        b.push_str("<h2>Diagnosis, recovery plan, interventions and conflicts</h2><p class=\"note\">These are shown to tokens whose scope includes this system. <a href=\"/login\">Sign in</a>.</p>");
    }
    layout(&sys.name, &who, &b).into_response()
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
    b.push_str(&indicator_section(s, "system", code, &system_indicators(s)));
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
    let mut b = format!(
        "<h1>{} ({})</h1><p>{}",
        esc(&o.name),
        esc(&code),
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
        if let Some(a) = s.results.assessment(p, &code) {
            any = true;
            let _ = write!(
                b,
                "<h3>{}, {}</h3><p>Segment: {} · rating: {} · score: {}</p><pre>{}</pre>",
                esc(p),
                esc(&a.period),
                a.segment.map(|x| x.to_string()).unwrap_or_else(|| "—".into()),
                esc(a.rating.as_deref().unwrap_or("—")),
                a.overall_score
                    .map(|x| format!("{x:.2}"))
                    .unwrap_or_else(|| "—".into()),
                esc(&a.explanation)
            );
        }
    }
    if !any {
        b.push_str("<p>Not assessed by a shipped pack.</p>");
    }
    b.push_str("<h2>Latest values</h2><table><caption>Financial-year values published for this organisation</caption><thead><tr><th scope=\"col\">Indicator</th><th scope=\"col\">Period</th><th scope=\"col\" class=\"num\">Value</th><th scope=\"col\">Funnel</th></tr></thead><tbody>");
    for meta in &s.results.indicators {
        if let Some(v) = latest(&s, &meta.id, "organisation", &code, "financial_year") {
            let _ = write!(
                b,
                "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
                esc(&meta.title),
                esc(&v.period),
                number(v),
                esc(v.funnel_position.as_deref().unwrap_or("—"))
            );
        }
    }
    b.push_str("</tbody></table>");
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
    if !who.is_authenticated() {
        return error_page(
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "cases are shown to signed-in users",
            )
            .hint("sign in with an access token at /login"),
            &who,
        );
    }
    let Ok(n) = id.parse::<i64>() else {
        return error_page(ApiError::bad("not a case number"), &who);
    };
    let cases = match s.db.cases().await {
        Ok(c) => c,
        Err(e) => return error_page(e.into(), &who),
    };
    let Some(case) = cases.into_iter().find(|c| c.id == n) else {
        return error_page(ApiError::not_found(format!("case {n}: no such case")), &who);
    };
    if !who.sees_system(&s, &case.system_code) {
        return error_page(
            ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "this case is outside your token's scope",
            ),
            &who,
        );
    }
    let (interventions, conflicts) = match (s.db.interventions().await, s.db.conflicts().await) {
        (Ok(i), Ok(c)) => (i, c),
        (Err(e), _) | (_, Err(e)) => return error_page(e.into(), &who),
    };
    let md = regime::case_file(&case, &interventions, &conflicts, false);
    layout(&format!("Case {n}"), &who, &regime::html_fragment(&md)).into_response()
}

async fn login_form(Caller(who): Caller) -> Response {
    layout("Sign in", &who, "<h1>Sign in</h1><form method=\"post\" action=\"/login\"><p><label for=\"token\">Access token</label><br><input id=\"token\" name=\"token\" type=\"password\" autocomplete=\"off\" size=\"70\" required></p><p><button type=\"submit\">Sign in</button></p></form><p>Tokens are made with <code>footprint tokens create</code>.</p>").into_response()
}

const EXAMPLE_TERMS: &str = include_str!("../../../examples/terms/gain_loss_share.toml");

fn budgets_page(terms: &str, actual: &str, result: &str) -> String {
    format!(
        "<h1>Settle a risk share</h1><p>Terms for a gain/loss share, risk corridor, pooled or alliance budget, as TOML (see docs/budgets.md), and the year's total outturn. Nothing is stored.</p><form method=\"post\" action=\"/budgets\"><p><label for=\"terms\">Terms (TOML)</label><br><textarea id=\"terms\" name=\"terms\" rows=\"18\" cols=\"90\">{}</textarea></p><p><label for=\"actual\">Total outturn (£)</label><br><input id=\"actual\" name=\"actual\" inputmode=\"decimal\" value=\"{}\" required></p><p><button type=\"submit\">Settle</button></p></form>{result}",
        esc(terms),
        esc(actual)
    )
}

async fn budgets_form(Caller(who): Caller) -> Response {
    layout("Budgets", &who, &budgets_page(EXAMPLE_TERMS, "103000000", "")).into_response()
}

#[derive(serde::Deserialize)]
struct SettleForm {
    terms: String,
    actual: String,
}

async fn budgets_settle(
    Caller(who): Caller,
    form: Result<axum::Form<SettleForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(axum::Form(f)) = form else {
        return error_page(ApiError::bad("the form needs terms and a total outturn"), &who);
    };
    let result = match f.actual.trim().replace([',', '£'], "").parse::<f64>() {
        Err(_) => Err(ApiError::bad(format!(
            "total outturn {:?}: not a number",
            f.actual
        ))),
        Ok(a) => crate::api::settle(crate::api::SettleRequest {
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
        Ok(Principal::Token(_)) => {
            let mut r = Redirect::to("/").into_response();
            if let Ok(c) = HeaderValue::from_str(&format!(
                "{COOKIE}={}; HttpOnly; SameSite=Strict; Path=/",
                form.token.trim()
            )) {
                r.headers_mut().insert(header::SET_COOKIE, c);
            }
            r
        }
        Ok(Principal::Anonymous) => error_page(ApiError::bad("the sign-in form needs a token"), &anonymous),
        Err(e) => error_page(e, &anonymous),
    }
}

async fn logout() -> Response {
    let mut r = Redirect::to("/").into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("fp_token=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"),
    );
    r
}

pub fn router() -> Router<Shared> {
    Router::new()
        .route("/", get(england))
        .route("/systems/{code}", get(system_page))
        .route("/organisations/{code}", get(organisation_page))
        .route("/cases/{id}", get(case_page))
        .route("/budgets", get(budgets_form).post(budgets_settle))
        .route("/login", get(login_form).post(login))
        .route("/logout", axum::routing::post(logout))
}
