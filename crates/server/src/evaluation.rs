//! Real-time evaluation and the learning library (docs/evaluation.md): `GET
//! /api/v1/evaluation/library`, `GET /api/v1/evaluation/sites/{id}` and the page `/learning`.
//! Everything here was computed from the published indicator table when the results were
//! prepared (suppressed cells missing, counts rounded), so it is public like that table.

use std::fmt::Write as _;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use evaluation::library::Entry;
use serde::{Deserialize, Serialize};

use crate::api::check_code;
use crate::auth::Caller;
use crate::pages::{esc, layout};
use crate::{ApiError, Shared};

/// Search terms.
#[derive(Debug, Default, Deserialize)]
pub struct Search {
    pub model: Option<String>,
    pub outcome: Option<String>,
    /// `lower`, `higher` or `none`: the difference-in-differences call.
    pub effect: Option<String>,
}

/// The library's answer.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct LibraryView {
    pub entries: Vec<Entry>,
    /// Sites and outcomes that could not be evaluated, and why.
    pub problems: Vec<String>,
}

fn checked(s: &Search) -> Result<(), ApiError> {
    for (name, v) in [
        ("model", &s.model),
        ("outcome", &s.outcome),
        ("effect", &s.effect),
    ] {
        if let Some(v) = v {
            check_code(name, v)?;
        }
    }
    Ok(())
}

pub async fn library(State(s): State<Shared>, Query(q): Query<Search>) -> Result<Response, ApiError> {
    checked(&q)?;
    let e = &s.results.evaluation;
    let entries = e
        .library
        .search(
            q.model.as_deref(),
            q.outcome.as_deref(),
            q.effect.as_deref(),
            None,
        )
        .into_iter()
        .cloned()
        .collect();
    Ok(axum::Json(LibraryView {
        entries,
        problems: e.evaluated.problems.clone(),
    })
    .into_response())
}

pub async fn site(State(s): State<Shared>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let id = check_code("id", &id)?;
    let entry = s
        .results
        .evaluation
        .library
        .entries
        .iter()
        .find(|e| e.site.id == id)
        .ok_or_else(|| ApiError::not_found(format!("site {id:?}: no such site in the learning library")))?;
    Ok(axum::Json(entry).into_response())
}

fn pct(x: f64) -> String {
    format!("{:+.1}%", 100.0 * x)
}

/// The event study as a small SVG: relative effects by month from the start, with intervals.
fn event_svg(points: &[evaluation::did::EventPoint]) -> String {
    if points.is_empty() {
        return String::new();
    }
    let (w, h, pad) = (560.0, 180.0, 30.0);
    let lo = points.iter().map(|p| p.lower).fold(0.0f64, f64::min).min(-0.05);
    let hi = points.iter().map(|p| p.upper).fold(0.0f64, f64::max).max(0.05);
    let (k0, k1) = (points[0].k as f64, points[points.len() - 1].k as f64);
    let x = |k: f64| pad + (k - k0) / (k1 - k0).max(1.0) * (w - 2.0 * pad);
    let y = |v: f64| pad / 2.0 + (hi - v) / (hi - lo) * (h - pad);
    let mut s = format!(
        "<svg class=\"event-study\" role=\"img\" aria-label=\"Event study: effect by month from the start\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\"><line x1=\"{pad}\" x2=\"{}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#888\"/><line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"0\" y2=\"{h}\" stroke=\"#888\" stroke-dasharray=\"4 3\"/>",
        w - pad,
        y(0.0),
        y(0.0),
        x(-0.5),
        x(-0.5)
    );
    for p in points {
        let _ = write!(
            s,
            "<line x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"{1:.1}\" y2=\"{2:.1}\" stroke=\"#5a7fb5\"/><circle cx=\"{0:.1}\" cy=\"{3:.1}\" r=\"2.5\" fill=\"#1d3f72\"><title>month {4}: {5} ({6} to {7})</title></circle>",
            x(p.k as f64),
            y(p.lower),
            y(p.upper),
            y(p.estimate),
            p.k,
            pct(p.estimate),
            pct(p.lower),
            pct(p.upper)
        );
    }
    let _ = write!(
        s,
        "<text x=\"{pad}\" y=\"{:.1}\" font-size=\"10\">{}</text><text x=\"{pad}\" y=\"{:.1}\" font-size=\"10\">{}</text></svg>",
        y(hi) + 10.0,
        pct(hi),
        y(lo) - 2.0,
        pct(lo)
    );
    s
}

fn entry_html(b: &mut String, e: &Entry) {
    let s = &e.site;
    let _ = write!(
        b,
        "<section class=\"site\" id=\"site-{}\"><h2>{}</h2><p>{} · {} · {} practices · started {} · from {}{}</p>",
        esc(&s.id),
        esc(&s.name),
        esc(&s.model.replace('_', " ")),
        esc(e.system_name.as_deref().unwrap_or("")),
        e.practices,
        esc(&s.start),
        esc(&s.source),
        s.terms
            .as_deref()
            .map(|t| format!(" · terms: {}", esc(t)))
            .unwrap_or_default()
    );
    if !s.notes.is_empty() {
        let _ = write!(b, "<p class=\"notes\">{}</p>", esc(&s.notes));
    }
    if e.interventions.is_empty() {
        b.push_str("<p>No interventions in the register for this site's system.</p>");
    } else {
        b.push_str("<p>Also in this system:</p><ul>");
        for i in &e.interventions {
            let _ = write!(b, "<li>{}</li>", esc(i));
        }
        b.push_str("</ul>");
    }
    if e.evaluations.is_empty() {
        b.push_str("<p class=\"diagnostic\">Not evaluated yet.</p>");
    }
    for p in &e.problems {
        let _ = write!(b, "<p class=\"diagnostic\">{}</p>", esc(p));
    }
    for ev in &e.evaluations {
        let _ = write!(
            b,
            "<h3>{}</h3><p>Data to {} ({} months since the start); protocol <code>{}</code>.</p><table class=\"effects\"><thead><tr><th>Method</th><th>Effect</th><th>95% interval or p</th><th>Called</th></tr></thead><tbody>",
            esc(&ev.outcome.replace('_', " ")),
            esc(&ev.as_of),
            ev.post_months,
            esc(&ev.protocol_hash[..16.min(ev.protocol_hash.len())])
        );
        let called = |m: &str| {
            if ev.significant.get(m).copied().unwrap_or(false) {
                "yes"
            } else {
                "no"
            }
        };
        if let Some(d) = &ev.difference_in_differences {
            let _ = write!(
                b,
                "<tr class=\"did\"><td>Difference-in-differences ({} site units, {} matched comparators{})</td><td>{}</td><td>{} to {}</td><td>{}</td></tr>",
                d.treated_units,
                d.comparator_units,
                match d.site_level_sd {
                    Some(sd) => format!(
                        "; the interval allows for shocks shared by a whole site, SD {:.1}% from {} peer groups",
                        100.0 * sd,
                        d.peer_groups
                    ),
                    None => String::new(),
                },
                pct(d.relative_effect),
                pct(d.lower),
                pct(d.upper),
                called("difference_in_differences")
            );
        }
        if let Some(x) = &ev.synthetic_control {
            let _ = write!(
                b,
                "<tr class=\"sc\"><td>Synthetic control ({} donor {}s)</td><td>{}</td><td>placebo p = {:.3}</td><td>{}</td></tr>",
                x.donors,
                esc(&x.level),
                pct(x.relative_effect),
                x.p_value,
                called("synthetic_control")
            );
        }
        if let Some(x) = &ev.interrupted_time_series {
            let _ = write!(
                b,
                "<tr class=\"its\"><td>Interrupted time series</td><td>{}</td><td>{} to {}</td><td>{}</td></tr>",
                pct(x.relative_effect),
                pct(x.lower),
                pct(x.upper),
                called("interrupted_time_series")
            );
        }
        b.push_str("</tbody></table>");
        if let Some(d) = &ev.difference_in_differences {
            b.push_str(&event_svg(&d.event_study));
        }
        for n in ev.problems.iter().chain(&ev.diagnostics) {
            let _ = write!(b, "<p class=\"diagnostic\">{}</p>", esc(n));
        }
        let hist: Vec<_> = e.history.iter().filter(|h| h.outcome == ev.outcome).collect();
        if hist.len() > 1 {
            b.push_str("<details><summary>How the estimate moved as data arrived</summary><table><thead><tr><th>Data to</th><th>DiD</th><th>Synthetic control</th></tr></thead><tbody>");
            for h in hist {
                let _ = write!(
                    b,
                    "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                    esc(&h.as_of),
                    h.did
                        .map(|d| format!("{} ({} to {})", pct(d.0), pct(d.1), pct(d.2)))
                        .unwrap_or_default(),
                    h.synthetic_control.map(pct).unwrap_or_default()
                );
            }
            b.push_str("</tbody></table></details>");
        }
    }
    if !e.similar.is_empty() {
        b.push_str("<p>Similar sites: ");
        for (i, x) in e.similar.iter().enumerate() {
            let _ = write!(
                b,
                "{}<a href=\"#site-{}\">{}</a>",
                if i > 0 { ", " } else { "" },
                esc(x),
                esc(x)
            );
        }
        b.push_str("</p>");
    }
    b.push_str("</section>");
}

pub async fn page(State(s): State<Shared>, Caller(who): Caller, Query(q): Query<Search>) -> Response {
    if checked(&q).is_err() {
        let mut r = layout(
            "Learning library",
            &who,
            "<h1>Learning library</h1><p>That search is not valid.</p>",
        )
        .into_response();
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        return r;
    }
    let lib = &s.results.evaluation.library;
    let entries = lib.search(
        q.model.as_deref(),
        q.outcome.as_deref(),
        q.effect.as_deref(),
        None,
    );
    let mut b = String::from(
        "<h1>Learning library</h1><p>Every new care model site evaluated each month against comparators, under a protocol registered before its results: difference-in-differences against matched practices, synthetic control with placebo inference, and an interrupted time series. Effects are relative changes; a method calls an effect when its 95% interval excludes no change (or its placebo p is at most 0.05).</p>",
    );
    let mut models: Vec<&str> = lib.entries.iter().map(|e| e.site.model.as_str()).collect();
    models.sort_unstable();
    models.dedup();
    b.push_str("<form method=\"get\" action=\"/learning\" class=\"search\"><label>Care model <select name=\"model\"><option value=\"\">any</option>");
    for m in models {
        let _ = write!(
            b,
            "<option value=\"{0}\"{1}>{2}</option>",
            esc(m),
            if q.model.as_deref() == Some(m) {
                " selected"
            } else {
                ""
            },
            esc(&m.replace('_', " "))
        );
    }
    b.push_str("</select></label> <label>Effect <select name=\"effect\"><option value=\"\">any</option><option value=\"lower\">lower</option><option value=\"higher\">higher</option><option value=\"none\">none called</option></select></label> <button>Search</button></form>");
    let _ = write!(
        b,
        "<p class=\"count\">{} of {} sites.</p>",
        entries.len(),
        lib.entries.len()
    );
    for e in entries {
        entry_html(&mut b, e);
    }
    layout("Learning library", &who, &b).into_response()
}
