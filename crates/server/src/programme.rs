//! The new care models programme over HTTP and on the dashboard: care-model organisations,
//! applications with their peer-review ranking, appraisal and refusals, the selection and why,
//! the transformation fund's drawdown against decommissioning milestones (slipping milestones
//! and money drifting to deficit support flagged), and flexibilities.
//!
//! Reading needs a token (bids, reviews and financial positions are the programme's working
//! papers, not publications); writing (reviews, milestones met, tranches released,
//! flexibilities) needs a token that may write, and every change is audited under its name.
//! Nothing here is patient-level: financial positions are organisations' published accounts.

use std::fmt::Write as _;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use programme::fund::{self, Appraisal, Drawdown, FundRules, Milestone, Tranche};
use programme::office::{CareModel, Flexibility, NewApplication, Office, StoredSelection};
use programme::review::{Excluded, Reviewer};
use serde::{Deserialize, Serialize};

use crate::auth::{Caller, Principal};
use crate::pages::{esc, layout};
use crate::{ApiError, Shared};

impl From<programme::Error> for ApiError {
    fn from(e: programme::Error) -> ApiError {
        match e {
            programme::Error::Store(e) => e.into(),
            programme::Error::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "conflict", m),
            programme::Error::Refused(m) | programme::Error::Solver(m) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "refused", m)
            }
            e @ programme::Error::Cell { .. } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "refused", e.to_string())
            }
            e => ApiError::internal(e),
        }
    }
}

/// An application with where it stands.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ApplicationView {
    #[serde(flatten)]
    pub application: NewApplication,
    pub status: String,
    pub refusals: Vec<fund::Refusal>,
    pub requested: f64,
    /// Place in the peer-review ranking (z-scores).
    pub rank: usize,
    /// Mean z-score of the counted reviews (null: none counted).
    pub score: Option<f64>,
    pub reviews_used: usize,
    pub appraisal: Appraisal,
}

/// The programme as it stands.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ProgrammeView {
    /// The date drawdown is shown at.
    pub as_of: String,
    pub care_models: Vec<CareModel>,
    pub applications: Vec<ApplicationView>,
    pub excluded_reviews: Vec<Excluded>,
    pub reviewers: Vec<Reviewer>,
    pub selection: Option<StoredSelection>,
    pub drawdown: Vec<Drawdown>,
    pub milestones: Vec<Milestone>,
    pub tranches: Vec<Tranche>,
    pub flexibilities: Vec<Flexibility>,
    pub fund_rules: FundRules,
}

/// `?as_of=YYYY-MM-DD`.
#[derive(Debug, Deserialize)]
pub struct AsOf {
    pub as_of: Option<String>,
}

fn reader(who: &Principal) -> Result<(), ApiError> {
    if who.is_authenticated() {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "the programme needs a token",
        )
        .hint("send Authorization: Bearer <token>"))
    }
}

fn date(v: &str) -> Result<String, ApiError> {
    model::parse_date(v).map(model::format_date).map_err(|_| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "refused",
            format!("date {:?}: YYYY-MM-DD", v.chars().take(40).collect::<String>()),
        )
    })
}

/// Everything the programme holds, at `as_of`.
pub async fn view(s: &crate::State, as_of: Option<&str>) -> Result<ProgrammeView, ApiError> {
    let office = Office::new(s.db.clone());
    let rules = FundRules::builtin();
    let as_of = match as_of {
        Some(d) => model::parse_date(d).map(model::format_date).map_err(|_| {
            ApiError::bad(format!(
                "as_of {:?}: a date, YYYY-MM-DD",
                d.chars().take(40).collect::<String>()
            ))
        })?,
        None => s.results.programme.as_of.clone(),
    };
    let p = office.programme().await?;
    let applications = p
        .applications
        .iter()
        .map(|a| {
            let r = p.ranking.ranking.iter().find(|r| r.id == a.application.id);
            ApplicationView {
                requested: a.application.requested(),
                appraisal: fund::appraise(&a.application.proposal(), &rules.appraisal),
                rank: r.map_or(0, |r| r.rank),
                score: r.and_then(|r| r.score),
                reviews_used: r.map_or(0, |r| r.reviews_used),
                application: a.application.clone(),
                status: a.status.clone(),
                refusals: a.refusals.clone(),
            }
        })
        .collect();
    let drawdown = office
        .drawdown(&s.results.programme.positions, &rules, &as_of)
        .await?;
    Ok(ProgrammeView {
        as_of,
        care_models: p.care_models,
        applications,
        excluded_reviews: p.ranking.excluded,
        reviewers: p.ranking.reviewers,
        selection: p.selection,
        drawdown,
        milestones: p.milestones,
        tranches: p.tranches,
        flexibilities: p.flexibilities,
        fund_rules: rules,
    })
}

/// `GET /api/v1/programme`.
pub async fn get_programme(
    State(s): State<Shared>,
    Caller(who): Caller,
    Query(q): Query<AsOf>,
) -> Result<Response, ApiError> {
    reader(&who)?;
    Ok(axum::Json(view(&s, q.as_of.as_deref()).await?).into_response())
}

/// A review as posted.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReview {
    /// The reviewing organisation's code.
    #[schemars(regex(pattern = r"^[A-Za-z0-9_-]{1,32}$"))]
    pub reviewer_org_code: String,
    #[schemars(regex(pattern = r"^[A-Za-z0-9_-]{1,64}$"))]
    pub application_id: String,
    /// The score (any scale the reviewer keeps to; normalised per reviewer).
    #[schemars(range(min = -1000000, max = 1000000))]
    pub score: f64,
    /// A declared conflict of interest: the review is recorded and not counted.
    #[serde(default)]
    pub conflict: bool,
    #[serde(default)]
    #[schemars(length(max = 2000))]
    pub comment: String,
}

/// A date for a milestone met or a tranche released.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OnDate {
    /// YYYY-MM-DD.
    pub date: String,
}

/// A flexibility as posted.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFlexibility {
    #[schemars(regex(pattern = r"^[A-Za-z0-9_-]{1,32}$"))]
    pub care_model_code: String,
    /// `procurement_waiver`, `legal_advice` or `conflict_of_interest`.
    pub kind: String,
    /// Not blank.
    #[schemars(length(min = 1, max = 2000), regex(pattern = r"\S"))]
    pub subject: String,
    #[schemars(length(max = 2000))]
    #[serde(default)]
    pub detail: String,
    #[serde(default)]
    #[schemars(length(max = 200))]
    pub adviser: Option<String>,
    pub on_date: String,
}

fn code(name: &str, v: &str, max: usize) -> Result<(), ApiError> {
    let ok = !v.is_empty()
        && v.len() <= max
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "refused",
            format!(
                "{name}: {:?}: letters, digits, _ and -, 1 to {max}",
                v.chars().take(40).collect::<String>()
            ),
        ))
    }
}

fn long(name: &str, v: &str, max: usize) -> Result<(), ApiError> {
    if v.chars().count() > max {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "refused",
            format!("{name}: at most {max} characters"),
        ));
    }
    Ok(())
}

/// `POST /api/v1/programme/reviews`.
pub async fn post_review(
    State(s): State<Shared>,
    Caller(who): Caller,
    headers: axum::http::HeaderMap,
    bytes: axum::body::Bytes,
) -> Result<Response, ApiError> {
    crate::write::writer(&who, &headers)?;
    let n: NewReview = crate::write::body(
        &bytes,
        "a JSON object: reviewer_org_code, application_id, score, conflict, comment",
    )?;
    code("reviewer_org_code", &n.reviewer_org_code, 32)?;
    code("application_id", &n.application_id, 64)?;
    long("comment", &n.comment, 2000)?;
    if !(n.score.is_finite() && n.score.abs() <= 1e6) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "refused",
            "score: a number from -1,000,000 to 1,000,000",
        ));
    }
    let r = programme::review::Review {
        reviewer_org_code: n.reviewer_org_code,
        application_id: n.application_id,
        score: n.score,
        conflict: n.conflict,
        comment: n.comment,
    };
    Office::new(s.db.clone()).review(&r, &who.name()).await?;
    Ok((StatusCode::CREATED, axum::Json(r)).into_response())
}

fn id(v: &str, what: &str) -> Result<i64, ApiError> {
    v.parse().ok().filter(|n| *n >= 1).ok_or_else(|| {
        ApiError::not_found(format!(
            "{what} {:?}: not a number",
            v.chars().take(40).collect::<String>()
        ))
    })
}

/// `POST /api/v1/programme/milestones/{id}/met`.
pub async fn post_milestone_met(
    State(s): State<Shared>,
    Caller(who): Caller,
    Path(m): Path<String>,
    headers: axum::http::HeaderMap,
    bytes: axum::body::Bytes,
) -> Result<Response, ApiError> {
    crate::write::writer(&who, &headers)?;
    let m = id(&m, "milestone")?;
    let n: OnDate = crate::write::body(&bytes, "a JSON object: date")?;
    let d = date(&n.date)?;
    let office = Office::new(s.db.clone());
    office.meet_milestone(m, &d, &who.name()).await?;
    let found = office.milestones().await?.into_iter().find(|x| x.id == m);
    Ok(axum::Json(found).into_response())
}

/// `POST /api/v1/programme/tranches/{id}/release`.
pub async fn post_tranche_release(
    State(s): State<Shared>,
    Caller(who): Caller,
    Path(t): Path<String>,
    headers: axum::http::HeaderMap,
    bytes: axum::body::Bytes,
) -> Result<Response, ApiError> {
    crate::write::writer(&who, &headers)?;
    let t = id(&t, "tranche")?;
    let n: OnDate = crate::write::body(&bytes, "a JSON object: date")?;
    let d = date(&n.date)?;
    let office = Office::new(s.db.clone());
    office
        .release_tranche(t, &d, &FundRules::builtin(), &who.name())
        .await?;
    let found = office.tranches().await?.into_iter().find(|x| x.id == t);
    Ok(axum::Json(found).into_response())
}

/// `POST /api/v1/programme/flexibilities`.
pub async fn post_flexibility(
    State(s): State<Shared>,
    Caller(who): Caller,
    headers: axum::http::HeaderMap,
    bytes: axum::body::Bytes,
) -> Result<Response, ApiError> {
    crate::write::writer(&who, &headers)?;
    let n: NewFlexibility = crate::write::body(
        &bytes,
        "a JSON object: care_model_code, kind, subject, detail, adviser, on_date",
    )?;
    code("care_model_code", &n.care_model_code, 32)?;
    long("subject", &n.subject, 2000)?;
    long("detail", &n.detail, 2000)?;
    long("adviser", n.adviser.as_deref().unwrap_or(""), 200)?;
    let mut f = Flexibility {
        id: 0,
        care_model_code: n.care_model_code,
        kind: n.kind,
        subject: n.subject,
        detail: n.detail,
        adviser: n.adviser,
        on_date: date(&n.on_date)?,
    };
    f.id = Office::new(s.db.clone()).flexibility(&f, &who.name()).await?;
    Ok((StatusCode::CREATED, axum::Json(f)).into_response())
}

fn pounds(x: f64) -> String {
    fund::money(x).replace('-', "−")
}

/// `GET /programme`: the programme's page.
pub async fn page(State(s): State<Shared>, Caller(who): Caller, Query(q): Query<AsOf>) -> Response {
    if !who.is_authenticated() {
        let body = "<h1>New care models programme</h1><p>The programme's applications, reviews and fund are for signed-in users. <a href=\"/login\">Sign in</a> with a token.</p>";
        return (
            StatusCode::UNAUTHORIZED,
            layout("New care models programme", &who, body),
        )
            .into_response();
    }
    let v = match view(&s, q.as_of.as_deref()).await {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    let mut b = String::new();
    let _ = write!(
        b,
        "<h1>New care models programme</h1><p>At {}. Applications ranked by peer review (each reviewer's scores as z-scores; self-reviews and declared conflicts not counted), checked against the transformation fund's rules, and selected for the most useful spread within the budget.</p>",
        esc(&v.as_of)
    );
    // Care models.
    let _ = write!(
        b,
        "<section id=\"care-models\"><h2>New care models ({})</h2><table><thead><tr><th>Code</th><th>Name</th><th>Model</th><th>Contract</th><th>Terms</th><th>Started</th><th>Population</th><th>Members</th></tr></thead><tbody>",
        v.care_models.len()
    );
    for m in &v.care_models {
        let _ = write!(
            b,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{} ({})</td><td>{}</td><td>{}</td><td>{:.0}</td><td>{} organisations, {} practices</td></tr>",
            esc(&m.code),
            esc(&m.name),
            esc(&m.model.replace('_', " ")),
            esc(&m.contract_form.replace('_', " ")),
            esc(&m.form),
            esc(m.terms.as_deref().unwrap_or("")),
            esc(&m.start_date),
            m.population,
            m.members.len(),
            m.practices.len()
        );
    }
    b.push_str("</tbody></table></section>");
    // Selection.
    if let Some(sel) = &v.selection {
        let r = &sel.result;
        let _ = write!(b, "<section id=\"selection\"><h2>Selection</h2>");
        if r.feasible {
            let _ = write!(
                b,
                "<p class=\"verdict\">{} of {} eligible bids selected: total value {}, cost {} of a budget of {} ({} left){}.</p><ul>",
                r.selected.len(),
                r.bids,
                r.total_value,
                pounds(r.total_cost),
                pounds(r.budget),
                pounds(r.budget_left),
                if r.proven_optimal {
                    ", proven optimal"
                } else {
                    ", not proven optimal"
                }
            );
            for l in &r.limits {
                let _ = write!(
                    b,
                    "<li>{} <strong>{}</strong>: {}</li>",
                    if l.binds { "Binds:" } else { "At its limit:" },
                    esc(&l.constraint),
                    esc(&l.note)
                );
            }
            for m in &r.next_best {
                let _ = write!(
                    b,
                    "<li>Excluded bid {} (value {}): {}</li>",
                    esc(&m.id),
                    m.value,
                    esc(&m.note)
                );
            }
            b.push_str("</ul>");
        } else {
            let _ = write!(
                b,
                "<p class=\"verdict\">No selection meets the rules: {}</p>",
                esc(r.reason.as_deref().unwrap_or(""))
            );
        }
        b.push_str("</section>");
    }
    // Applications.
    let _ = write!(
        b,
        "<section id=\"applications\"><h2>Applications ({})</h2><table><thead><tr><th>Rank</th><th>Id</th><th>Model</th><th>Lead</th><th>Region</th><th>Score</th><th>Reviews</th><th>Asks</th><th>NPV</th><th>BCR</th><th>Status</th></tr></thead><tbody>",
        v.applications.len()
    );
    let mut apps: Vec<&ApplicationView> = v.applications.iter().collect();
    apps.sort_by_key(|a| a.rank);
    for a in apps {
        let why: Vec<String> = a.refusals.iter().map(|r| esc(&r.reason)).collect();
        let _ = write!(
            b,
            "<tr id=\"application-{}\" data-status=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}{}</td></tr>",
            esc(&a.application.id),
            esc(&a.status),
            a.rank,
            esc(&a.application.id),
            esc(&a.application.model.replace('_', " ")),
            esc(&a.application.lead_org_code),
            esc(a.application.region_code.as_deref().unwrap_or("")),
            a.score.map_or("–".into(), |x| format!("{x:.3}")),
            a.reviews_used,
            pounds(a.requested),
            pounds(a.appraisal.npv),
            a.appraisal.bcr.map_or("–".into(), |x| format!("{x:.2}")),
            esc(&a.status.replace('_', " ")),
            if why.is_empty() {
                String::new()
            } else {
                format!("<br><span class=\"refusal\">{}</span>", why.join("<br>"))
            }
        );
    }
    b.push_str("</tbody></table>");
    if !v.excluded_reviews.is_empty() {
        let _ = write!(
            b,
            "<details><summary>{} reviews not counted</summary><ul>",
            v.excluded_reviews.len()
        );
        for e in &v.excluded_reviews {
            let _ = write!(
                b,
                "<li>{} on {}: {}</li>",
                esc(&e.reviewer_org_code),
                esc(&e.application_id),
                esc(&e.reason)
            );
        }
        b.push_str("</ul></details>");
    }
    b.push_str("</section>");
    // Fund.
    let covered: f64 = v.drawdown.iter().map(|d| d.covered).sum();
    let realised: f64 = v.drawdown.iter().map(|d| d.savings_realised).sum();
    let _ = write!(
        b,
        "<section id=\"fund\"><h2>Transformation fund</h2><p>Double running costs covered {}; savings realised {}.</p><table><thead><tr><th>Bid</th><th>Lead</th><th>Awarded</th><th>Released</th><th>Savings realised</th><th>Milestones met</th><th>Slipping</th></tr></thead><tbody>",
        pounds(covered),
        pounds(realised)
    );
    for d in &v.drawdown {
        let _ = write!(
            b,
            "<tr id=\"drawdown-{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} of {}</td><td class=\"{}\">{}{}</td></tr>",
            esc(&d.application_id),
            esc(&d.application_id),
            esc(&d.lead_org_code),
            pounds(d.awarded),
            pounds(d.covered),
            pounds(d.savings_realised),
            d.milestones_met,
            d.milestones,
            if d.slipping.is_empty() { "" } else { "slipping" },
            esc(&d.slipping.join("; ")),
            d.drift
                .as_ref()
                .map(|x| format!(
                    "<br><strong class=\"drift\">Drifting to deficit support:</strong> {}",
                    esc(x)
                ))
                .unwrap_or_default()
        );
    }
    b.push_str("</tbody></table></section>");
    // Flexibilities.
    let _ = write!(
        b,
        "<section id=\"flexibilities\"><h2>Flexibilities, advice and conflicts ({})</h2><table><thead><tr><th>Care model</th><th>Kind</th><th>Subject</th><th>Detail</th><th>Adviser</th><th>Date</th></tr></thead><tbody>",
        v.flexibilities.len()
    );
    for f in &v.flexibilities {
        let _ = write!(
            b,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&f.care_model_code),
            esc(&f.kind.replace('_', " ")),
            esc(&f.subject),
            esc(&f.detail),
            esc(f.adviser.as_deref().unwrap_or("")),
            esc(&f.on_date)
        );
    }
    b.push_str("</tbody></table></section>");
    layout("New care models programme", &who, &b).into_response()
}
