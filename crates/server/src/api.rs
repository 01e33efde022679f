//! The JSON API's handlers. Lists are `{"<name>": [...]}`, or CSV with `?format=csv`; every
//! parameter is checked (unknown ones are refused, codes must look like codes) so bad input
//! gets a 400 with a precise message, never a 500.

use crate::auth::Caller;
use crate::{ApiError, Shared};
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::HashMap;

/// A route's query parameters, taken one by one; whatever is left over is refused.
#[derive(Debug)]
pub struct Params(HashMap<String, String>);

impl Params {
    pub fn take(&mut self, name: &str) -> Option<String> {
        self.0.remove(name)
    }

    /// A code-like parameter: letters, digits, `_` and `-`, at most 32.
    pub fn code(&mut self, name: &str) -> Result<Option<String>, ApiError> {
        match self.take(name) {
            None => Ok(None),
            Some(v) => check_code(name, &v).map(Some),
        }
    }

    pub fn finish(self, allowed: &[&str]) -> Result<(), ApiError> {
        if let Some(k) = self.0.keys().min() {
            return Err(ApiError::bad(format!("unknown parameter {k:?}"))
                .hint(format!("this route takes: {}", allowed.join(", "))));
        }
        Ok(())
    }
}

pub fn check_code(name: &str, v: &str) -> Result<String, ApiError> {
    if v.is_empty()
        || v.len() > 32
        || !v
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(ApiError::bad(format!(
            "{name} {:?}: not a code (letters, digits, _ and -, at most 32)",
            v.chars().take(40).collect::<String>()
        )));
    }
    Ok(v.to_string())
}

/// A period like `2024/25`, `2024-06`, `2024/25 Q1` or `2024-07 to 2025-06`.
fn check_period(v: &str) -> Result<String, ApiError> {
    if v.is_empty()
        || v.len() > 24
        || !v
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b" /-".contains(&b))
    {
        return Err(ApiError::bad(format!(
            "period {:?}: not a period (e.g. 2024/25, 2024-06)",
            v.chars().take(40).collect::<String>()
        )));
    }
    Ok(v.to_string())
}

pub fn params(
    q: Result<Query<HashMap<String, String>>, axum::extract::rejection::QueryRejection>,
) -> Result<Params, ApiError> {
    q.map(|Query(m)| Params(m))
        .map_err(|e| ApiError::bad(format!("the query string: {}", e.body_text())))
}

pub type Q = Result<Query<HashMap<String, String>>, axum::extract::rejection::QueryRejection>;

/// CSV or JSON.
fn format(p: &mut Params) -> Result<bool, ApiError> {
    match p.take("format").as_deref() {
        None | Some("json") => Ok(false),
        Some("csv") => Ok(true),
        Some(other) => Err(ApiError::bad(format!("format {other:?}: json or csv"))),
    }
}

/// A CSV cell. Text that a spreadsheet would run as a formula (beginning `=`, `+`, `-`, `@`,
/// a tab or a carriage return) is neutralised with a leading apostrophe, as OWASP advises;
/// numbers stay numbers, negative ones included.
pub fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) if s.starts_with(['=', '+', '-', '@', '\t', '\r']) => format!("'{s}"),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A list as `{"<name>": rows}` or as CSV (columns from the first row's keys; nested values
/// as JSON text).
pub fn list(name: &str, rows: Vec<Value>, csv: bool) -> Response {
    if !csv {
        return axum::Json(json!({ name: rows })).into_response();
    }
    let mut columns: Vec<String> = Vec::new();
    for r in &rows {
        if let Value::Object(m) = r {
            for k in m.keys() {
                if !columns.contains(k) {
                    columns.push(k.clone());
                }
            }
        }
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(&columns);
    for r in &rows {
        let _ = w.write_record(columns.iter().map(|c| cell(r.get(c).unwrap_or(&Value::Null))));
    }
    let body = w.into_inner().unwrap_or_default();
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}.csv\""),
            ),
        ],
        body,
    )
        .into_response()
}

fn to_json(v: impl serde::Serialize) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

pub async fn regions(State(s): State<Shared>, q: Q) -> Result<Response, ApiError> {
    let mut p = params(q)?;
    let csv = format(&mut p)?;
    p.finish(&["format"])?;
    Ok(list(
        "regions",
        s.results.regions.iter().map(to_json).collect(),
        csv,
    ))
}

/// A system with its category from the system pack.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct SystemRow {
    pub code: String,
    pub name: String,
    pub region_code: String,
    pub category: Option<String>,
    pub overall_score: Option<f64>,
    /// The period the system pack assessed.
    pub period: Option<String>,
}

fn system_row(s: &crate::State, sys: &crate::results::System) -> SystemRow {
    let a = s.results.assessment("system-2015", &sys.code);
    SystemRow {
        code: sys.code.clone(),
        name: sys.name.clone(),
        region_code: sys.region_code.clone(),
        category: a.and_then(|a| a.category.clone()),
        overall_score: a.and_then(|a| a.overall_score),
        period: a.map(|a| a.period.clone()),
    }
}

/// A system's member organisation with its oversight segment.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct Member {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub segment: Option<u32>,
}

/// A system: its members, its assessment, and for a caller who sees it in detail its
/// diagnosis and cases.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct SystemPage<'a> {
    #[serde(flatten)]
    pub system: SystemRow,
    pub members: Vec<Member>,
    pub assessment: Option<&'a policy::assess::Assessment>,
    /// Present when the caller sees the system in detail and it has been diagnosed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diagnosis: Option<&'a regime::Diagnosis>,
    /// Present when the caller sees the system in detail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cases: Option<Vec<store::Case>>,
}

pub async fn systems(State(s): State<Shared>, q: Q) -> Result<Response, ApiError> {
    let mut p = params(q)?;
    let csv = format(&mut p)?;
    let region = p.code("region")?;
    p.finish(&["region", "format"])?;
    let rows = s
        .results
        .systems
        .iter()
        .filter(|x| region.as_deref().is_none_or(|r| x.region_code == r))
        .map(|x| to_json(system_row(&s, x)))
        .collect();
    Ok(list("systems", rows, csv))
}

pub async fn system(
    State(s): State<Shared>,
    Caller(who): Caller,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    let code = check_code("system", &code)?;
    let sys = s
        .results
        .system(&code)
        .ok_or_else(|| ApiError::not_found(format!("system {code:?}: no such system")))?;
    let members = s
        .results
        .members(&code)
        .map(|o| Member {
            code: o.code.clone(),
            name: o.name.clone(),
            kind: o.kind.clone(),
            segment: s.results.segment(&o.code).map(|x| x.0),
        })
        .collect();
    let mut page = SystemPage {
        system: system_row(&s, sys),
        members,
        assessment: s.results.assessment("system-2015", &code),
        diagnosis: None,
        cases: None,
    };
    if who.sees_system(&s, &code) {
        page.diagnosis = s.results.regime.as_ref().and_then(|r| r.diagnoses.get(&code));
        page.cases = Some(
            s.db.cases()
                .await?
                .into_iter()
                .filter(|c| c.system_code == code)
                .collect(),
        );
    }
    Ok(axum::Json(page).into_response())
}

/// The organisation kinds of the data contract.
pub fn org_kinds() -> Vec<&'static str> {
    model::OrgKind::ALL.iter().map(|k| k.as_str()).collect()
}

pub async fn organisations(State(s): State<Shared>, q: Q) -> Result<Response, ApiError> {
    let mut p = params(q)?;
    let csv = format(&mut p)?;
    let kind = p.code("kind")?;
    let system = p.code("system")?;
    p.finish(&["kind", "system", "format"])?;
    if let Some(k) = &kind
        && k.parse::<model::OrgKind>().is_err()
    {
        return Err(ApiError::bad(format!("kind {k:?}: not an organisation kind"))
            .hint(format!("one of {}", org_kinds().join(", "))));
    }
    let rows = s
        .results
        .organisations
        .iter()
        .filter(|o| kind.as_deref().is_none_or(|k| o.kind == k))
        .filter(|o| {
            system
                .as_deref()
                .is_none_or(|x| o.system_code.as_deref() == Some(x))
        })
        .map(to_json)
        .collect();
    Ok(list("organisations", rows, csv))
}

/// An organisation, its assessments, and for a caller who sees it in detail its
/// interventions.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct OrganisationPage<'a> {
    #[serde(flatten)]
    pub organisation: &'a crate::results::Organisation,
    pub assessments: Vec<&'a policy::assess::Assessment>,
    /// Present when the caller sees the organisation in detail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interventions: Option<Vec<store::Intervention>>,
}

pub async fn organisation(
    State(s): State<Shared>,
    Caller(who): Caller,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    let code = check_code("organisation", &code)?;
    let o = s
        .results
        .organisation(&code)
        .ok_or_else(|| ApiError::not_found(format!("organisation {code:?}: no such organisation")))?;
    let mut page = OrganisationPage {
        organisation: o,
        assessments: crate::results::PACKS
            .iter()
            .filter_map(|p| s.results.assessment(p, &code))
            .collect(),
        interventions: None,
    };
    if who.sees_org(&s, &code) {
        page.interventions = Some(
            s.db.interventions()
                .await?
                .into_iter()
                .filter(|i| i.target_code == code)
                .collect(),
        );
    }
    Ok(axum::Json(page).into_response())
}

pub async fn indicators(State(s): State<Shared>, q: Q) -> Result<Response, ApiError> {
    let mut p = params(q)?;
    let csv = format(&mut p)?;
    p.finish(&["format"])?;
    Ok(list(
        "indicators",
        s.results.indicators.iter().map(to_json).collect(),
        csv,
    ))
}

/// Rows an indicator answer holds unless `limit` says otherwise, and at most.
pub const DEFAULT_LIMIT: usize = 10_000;
pub const MAX_LIMIT: usize = 10_000;

/// The most rows an answer may skip.
pub const MAX_OFFSET: usize = 1_000_000_000;

pub const ENTITY_KINDS: [&str; 4] = ["organisation", "system", "region", "england"];
pub const GRAINS: [&str; 4] = ["month", "quarter", "financial_year", "rolling_12_months"];

/// A page of an indicator's published values.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct ValuesPage<'a> {
    pub values: Vec<&'a crate::results::Value>,
    /// Rows that match, on every page.
    pub total: usize,
    /// The `offset` of the next page, if there is one.
    pub next_offset: Option<usize>,
}

/// `limit` (1 to [`MAX_LIMIT`], default [`DEFAULT_LIMIT`]) and `offset` (at most
/// [`MAX_OFFSET`]).
pub(crate) fn paging(p: &mut Params) -> Result<(usize, usize), ApiError> {
    let number =
        |p: &mut Params, name: &str, min: usize, default: usize, max: usize| -> Result<usize, ApiError> {
            match p.take(name) {
                None => Ok(default),
                Some(v) => v
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (min..=max).contains(n))
                    .ok_or_else(|| {
                        ApiError::bad(format!(
                            "{name} {:?}: a whole number from {min} to {max}",
                            v.chars().take(40).collect::<String>()
                        ))
                    }),
            }
        };
    Ok((
        number(p, "limit", 1, DEFAULT_LIMIT, MAX_LIMIT)?,
        number(p, "offset", 0, 0, MAX_OFFSET)?,
    ))
}

pub async fn indicator(State(s): State<Shared>, Path(id): Path<String>, q: Q) -> Result<Response, ApiError> {
    let id = check_code("indicator", &id)?;
    if s.results.indicator(&id).is_none() {
        return Err(
            ApiError::not_found(format!("indicator {id:?}: not in the catalogue"))
                .hint("GET /api/v1/indicators lists them"),
        );
    }
    let mut p = params(q)?;
    let csv = format(&mut p)?;
    let kind = p.code("entity_kind")?;
    let code = p.code("entity_code")?;
    let grain = p.code("grain")?;
    let period = p.take("period").map(|v| check_period(&v)).transpose()?;
    let (limit, offset) = paging(&mut p)?;
    p.finish(&[
        "entity_kind",
        "entity_code",
        "grain",
        "period",
        "limit",
        "offset",
        "format",
    ])?;
    if let Some(k) = &kind
        && !ENTITY_KINDS.contains(&k.as_str())
    {
        return Err(ApiError::bad(format!(
            "entity_kind {k:?}: one of {}",
            ENTITY_KINDS.join(", ")
        )));
    }
    if let Some(g) = &grain
        && !GRAINS.contains(&g.as_str())
    {
        return Err(ApiError::bad(format!(
            "grain {g:?}: month, quarter, financial_year or rolling_12_months"
        )));
    }
    // Selecting among every row of an indicator (hundreds of thousands at national scale) and
    // writing them out is done off the async workers, and the rows are serialised straight
    // into the answer (no JSON value tree).
    let state = s.clone();
    tokio::task::spawn_blocking(move || {
        let r = &state.results;
        let rows: Vec<&crate::results::Value> = match (&kind, &code) {
            (Some(k), Some(c)) => r.series(&id, k, c).collect(),
            _ => r
                .values
                .iter()
                .filter(|v| *v.indicator_id == *id)
                .filter(|v| kind.as_deref().is_none_or(|k| *v.entity_kind == *k))
                .filter(|v| code.as_deref().is_none_or(|c| *v.entity_code == *c))
                .collect(),
        };
        let rows: Vec<&crate::results::Value> = rows
            .into_iter()
            .filter(|v| grain.as_deref().is_none_or(|g| *v.grain == *g))
            .filter(|v| period.as_deref().is_none_or(|x| *v.period == *x))
            .collect();
        let total = rows.len();
        let page: Vec<&crate::results::Value> = rows.into_iter().skip(offset).take(limit).collect();
        let next = (offset.saturating_add(limit) < total).then(|| offset + limit);
        if csv {
            let mut r = list("values", page.into_iter().map(to_json).collect(), true);
            if let Ok(v) = axum::http::HeaderValue::from_str(&total.to_string()) {
                r.headers_mut().insert("x-total-count", v);
            }
            return Ok(r);
        }
        let body = serde_json::to_vec(&ValuesPage {
            values: page,
            total,
            next_offset: next,
        })
        .map_err(ApiError::internal)?;
        Ok(([(axum::http::header::CONTENT_TYPE, "application/json")], body).into_response())
    })
    .await
    .map_err(ApiError::internal)?
}

/// A shipped pack and what it assessed here.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct PackRow {
    pub id: String,
    pub title: String,
    pub entity_kind: String,
    pub source: String,
    pub period: Option<String>,
    pub assessed: usize,
    /// Why nothing was assessed, when nothing was.
    pub not_assessed: Option<String>,
    pub left_out: Vec<policy::assess::LeftOut>,
}

/// The shipped packs, with what each assessed in the served dataset and what it left out
/// (and why): a dataset may hold only some tables or part of a year.
pub async fn packs(State(s): State<Shared>) -> Result<Response, ApiError> {
    let rows = policy::SHIPPED
        .iter()
        .filter_map(|(id, _)| policy::load_pack(id).ok())
        .map(|p| {
            let c = s.results.coverage.get(&p.id);
            to_json(PackRow {
                period: c.and_then(|c| c.period.clone()),
                assessed: c.map_or(0, |c| c.assessed),
                not_assessed: c.map_or_else(
                    || Some("not assessed by this server".to_string()),
                    |c| c.not_assessed.clone(),
                ),
                left_out: c.map(|c| c.left_out.clone()).unwrap_or_default(),
                id: p.id,
                title: p.title,
                entity_kind: p.entity_kind,
                source: p.source,
            })
        })
        .collect();
    Ok(list("packs", rows, false))
}

fn pack_arg(s: &crate::State, pack: &str) -> Result<String, ApiError> {
    let pack = check_code("pack", pack)?;
    if !s.results.assessments.contains_key(&pack) {
        return Err(
            ApiError::not_found(format!("pack {pack:?}: not assessed here")).hint(format!(
                "one of {}",
                s.results
                    .assessments
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        );
    }
    Ok(pack)
}

/// A pack's assessments, with what it could not assess in this dataset and why.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct AssessmentsPage<'a> {
    pub assessments: Vec<&'a policy::assess::Assessment>,
    pub coverage: Option<&'a policy::assess::Coverage>,
}

pub async fn assessments(
    State(s): State<Shared>,
    Path(pack): Path<String>,
    q: Q,
) -> Result<Response, ApiError> {
    let pack = pack_arg(&s, &pack)?;
    let mut p = params(q)?;
    let csv = format(&mut p)?;
    let code = p.code("entity_code")?;
    let period = p.take("period").map(|v| check_period(&v)).transpose()?;
    p.finish(&["entity_code", "period", "format"])?;
    let rows = s.results.assessments[&pack]
        .iter()
        .filter(|a| code.as_deref().is_none_or(|c| a.entity_code == c))
        .filter(|a| period.as_deref().is_none_or(|x| a.period == x));
    if csv {
        return Ok(list("assessments", rows.map(to_json).collect(), csv));
    }
    // With what the pack could not assess in this dataset, and why.
    Ok(axum::Json(AssessmentsPage {
        assessments: rows.collect(),
        coverage: s.results.coverage.get(&pack),
    })
    .into_response())
}

/// Which trigger placed an assessment in its category (or that none did), as the pack's
/// category step recorded it.
pub fn category_trigger(a: &policy::assess::Assessment) -> Option<String> {
    a.category.as_ref()?;
    a.overrides
        .iter()
        .find(|o| o.id == "category")
        .map(|o| o.effect.clone())
}

/// A row of a league table.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct LeagueRow {
    /// 1 is first.
    pub rank: usize,
    pub entity_kind: String,
    pub entity_code: String,
    pub name: Option<String>,
    pub period: String,
    pub overall_score: Option<f64>,
    pub segment: Option<u32>,
    pub rating: Option<String>,
    pub category: Option<String>,
    /// Which trigger placed it in its category.
    pub category_trigger: Option<String>,
    pub explanation: String,
}

/// A league table in the pack's order (outcome, then overall score, ties by code), with rank
/// and the trigger behind each category.
pub fn league_rows(s: &crate::State, pack: &str) -> Vec<LeagueRow> {
    // The results keep each pack's assessments in its league order.
    s.results
        .assessments
        .get(pack)
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(i, a)| {
            let name = s
                .results
                .system(&a.entity_code)
                .map(|x| x.name.clone())
                .or_else(|| s.results.organisation(&a.entity_code).map(|o| o.name.clone()));
            LeagueRow {
                rank: i + 1,
                entity_kind: a.entity_kind.clone(),
                entity_code: a.entity_code.clone(),
                name,
                period: a.period.clone(),
                overall_score: a.overall_score,
                segment: a.segment,
                rating: a.rating.clone(),
                category: a.category.clone(),
                category_trigger: category_trigger(a),
                explanation: a.explanation.clone(),
            }
        })
        .collect()
}

pub async fn league(State(s): State<Shared>, Path(pack): Path<String>, q: Q) -> Result<Response, ApiError> {
    let pack = pack_arg(&s, &pack)?;
    let mut p = params(q)?;
    let csv = format(&mut p)?;
    p.finish(&["format"])?;
    Ok(list(
        "league",
        league_rows(&s, &pack).into_iter().map(to_json).collect(),
        csv,
    ))
}

pub async fn cases(State(s): State<Shared>, Caller(who): Caller, q: Q) -> Result<Response, ApiError> {
    who.require()?;
    let mut p = params(q)?;
    let csv = format(&mut p)?;
    let system = p.code("system")?;
    p.finish(&["system", "format"])?;
    let rows =
        s.db.cases()
            .await?
            .into_iter()
            .filter(|c| who.sees_system(&s, &c.system_code))
            .filter(|c| system.as_deref().is_none_or(|x| c.system_code == x))
            .map(to_json)
            .collect();
    Ok(list("cases", rows, csv))
}

pub(crate) async fn case_of(
    s: &crate::State,
    who: &crate::auth::Principal,
    id: &str,
) -> Result<store::Case, ApiError> {
    who.require()?;
    // A path that names no case is Not Found, whatever it holds ("None" from a client that
    // followed a null link included).
    let id: i64 = id.parse().ok().filter(|n| *n >= 1).ok_or_else(|| {
        ApiError::not_found(format!(
            "case {:?}: not a case number",
            id.chars().take(40).collect::<String>()
        ))
    })?;
    let case =
        s.db.cases()
            .await?
            .into_iter()
            .find(|c| c.id == id)
            .filter(|c| who.sees_system(s, &c.system_code))
            // A case outside the token's scope answers as one that does not exist.
            .ok_or_else(|| ApiError::not_found(format!("case {id}: none in this token's scope")))?;
    Ok(case)
}

/// A case with the conflicts that touch it.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct CasePage {
    #[serde(flatten)]
    pub case: store::Case,
    pub conflicts: Vec<store::Conflict>,
}

/// A commitment of a case's recovery plan.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct PlanRow<'a> {
    pub case_id: i64,
    #[serde(flatten)]
    pub commitment: &'a store::Commitment,
}

pub async fn case(
    State(s): State<Shared>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let case = case_of(&s, &who, &id).await?;
    let conflicts: Vec<store::Conflict> = s
        .db
        .conflicts()
        .await?
        .into_iter()
        .filter(|c| c.case_id == Some(case.id) || c.system_code.as_deref() == Some(case.system_code.as_str()))
        .collect();
    Ok(axum::Json(CasePage { case, conflicts }).into_response())
}

pub async fn plan(
    State(s): State<Shared>,
    Caller(who): Caller,
    Path(id): Path<String>,
    q: Q,
) -> Result<Response, ApiError> {
    who.require()?;
    let mut p = params(q)?;
    let csv = format(&mut p)?;
    p.finish(&["format"])?;
    let case = case_of(&s, &who, &id).await?;
    let rows = case
        .commitments
        .iter()
        .map(|commitment| {
            to_json(PlanRow {
                case_id: case.id,
                commitment,
            })
        })
        .collect();
    Ok(list("commitments", rows, csv))
}

pub async fn interventions(State(s): State<Shared>, Caller(who): Caller, q: Q) -> Result<Response, ApiError> {
    who.require()?;
    let mut p = params(q)?;
    let csv = format(&mut p)?;
    let system = p.code("system")?;
    p.finish(&["system", "format"])?;
    let rows =
        s.db.interventions()
            .await?
            .into_iter()
            .filter(|i| visible_intervention(&s, &who, i))
            .filter(|i| {
                system
                    .as_deref()
                    .is_none_or(|x| i.system_code.as_deref() == Some(x))
            })
            .map(to_json)
            .collect();
    Ok(list("interventions", rows, csv))
}

pub(crate) fn visible_intervention(
    s: &crate::State,
    who: &crate::auth::Principal,
    i: &store::Intervention,
) -> bool {
    if i.target_kind == "system" {
        who.sees_system(s, &i.target_code)
    } else {
        who.sees_org(s, &i.target_code)
    }
}

/// A JSON body must say so: `Content-Type: application/json` (which a cross-site HTML form
/// cannot send).
/// A code sent in a request body: [`check_code`]'s rule, but a body that parsed and breaks a
/// rule on its values is 422 Unprocessable Entity (the request itself was well formed).
pub(crate) fn body_code(name: &str, v: &str) -> Result<String, ApiError> {
    check_code(name, v).map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "refused", e.message))
}

pub(crate) fn require_json(headers: &axum::http::HeaderMap) -> Result<(), ApiError> {
    let json = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !json {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send Content-Type: application/json",
        ));
    }
    Ok(())
}

/// The most levers one intervention may carry.
pub const MAX_LEVERS: usize = 50;

pub async fn create_intervention(
    State(s): State<Shared>,
    Caller(who): Caller,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let t = who.require_bearer()?;
    require_json(&headers)?;
    if !t.can_write() {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("a {} token cannot write", t.role),
        )
        .hint("national and regional tokens may open interventions"));
    }
    let n: store::NewIntervention = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad(format!("the body: {e}")).hint("a JSON object: regulator, target_kind, target_code, kind, legal_basis, actions, start_date, deadline, case_id, levers")
    })?;
    let id = open_intervention(&s, &who, n).await?;
    crate::write::intervention_answer(&s, id, StatusCode::CREATED).await
}

/// Opens an intervention for a caller already allowed to write: its target, levers and case
/// in scope (out of scope answers as missing), acting as a regulator its token may.
pub(crate) async fn open_intervention(
    s: &crate::State,
    who: &crate::auth::Principal,
    mut n: store::NewIntervention,
) -> Result<i64, ApiError> {
    let t = who
        .token()
        .ok_or_else(|| ApiError::internal("a writer without a token"))?;
    body_code("target_code", &n.target_code)?;
    crate::write::acting_as(t, &n.regulator)?;
    // Out of scope and not there answer alike: a caller learns nothing about what it may
    // not see.
    let hidden =
        |what: &str, code: &str| ApiError::not_found(format!("{what} {code:?}: none in this token's scope"));
    let system_of_target = if n.target_kind == "system" {
        if !who.sees_system(s, &n.target_code) {
            return Err(hidden("system", &n.target_code));
        }
        Some(n.target_code.clone())
    } else {
        if !who.sees_org(s, &n.target_code) {
            return Err(hidden("organisation", &n.target_code));
        }
        s.results
            .organisation(&n.target_code)
            .and_then(|o| o.system_code.clone())
    };
    n.levers = crate::write::levers_in_scope(s, who, std::mem::take(&mut n.levers))?;
    if let Some(case_id) = n.case_id {
        let case = s.db.cases().await?.into_iter().find(|c| c.id == case_id);
        let Some(case) = case.filter(|c| who.sees_system(s, &c.system_code)) else {
            return Err(hidden("case", &case_id.to_string()));
        };
        if system_of_target.as_deref() != Some(case.system_code.as_str()) {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "refused",
                format!(
                    "case {case_id} is {}'s; the intervention's target is in {}",
                    case.system_code,
                    system_of_target.as_deref().unwrap_or("no system")
                ),
            ));
        }
    }
    Ok(s.db.open_intervention(&n, &who.name()).await?)
}

/// A page of conflicts.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct ConflictsPage {
    pub conflicts: Vec<store::Conflict>,
    pub total: usize,
    pub next_offset: Option<usize>,
}

/// The conflicts `who` may see. A conflict names an organisation, a system, a case and
/// interventions: it is shown only to a caller who may see every one of them.
pub(crate) async fn visible_conflicts(
    s: &crate::State,
    who: &crate::auth::Principal,
) -> Result<Vec<store::Conflict>, ApiError> {
    let interventions: std::collections::HashMap<i64, store::Intervention> =
        s.db.interventions()
            .await?
            .into_iter()
            .map(|i| (i.id, i))
            .collect();
    let cases: std::collections::HashMap<i64, String> =
        s.db.cases()
            .await?
            .into_iter()
            .map(|c| (c.id, c.system_code))
            .collect();
    let visible = |c: &store::Conflict| {
        // A system-level intervention's conflict names the system where an organisation goes.
        (who.sees_org(s, &c.org_code)
            || (s.results.system(&c.org_code).is_some() && who.sees_system(s, &c.org_code)))
            && c.system_code.as_deref().is_none_or(|x| who.sees_system(s, x))
            && c.case_id
                .is_none_or(|id| cases.get(&id).is_some_and(|x| who.sees_system(s, x)))
            && c.intervention_ids.iter().all(|id| {
                interventions
                    .get(id)
                    .is_some_and(|i| visible_intervention(s, who, i))
            })
    };
    let mut all: Vec<store::Conflict> =
        s.db.conflicts()
            .await?
            .into_iter()
            .chain(s.assessment_conflicts.iter().cloned())
            .filter(|c| visible(c))
            .collect();
    all.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(all)
}

pub async fn conflicts(State(s): State<Shared>, Caller(who): Caller, q: Q) -> Result<Response, ApiError> {
    who.require()?;
    let mut p = params(q)?;
    let csv = format(&mut p)?;
    let system = p.code("system")?;
    let (limit, offset) = paging(&mut p)?;
    p.finish(&["system", "format", "limit", "offset"])?;
    let all: Vec<store::Conflict> = visible_conflicts(&s, &who)
        .await?
        .into_iter()
        .filter(|c| {
            system
                .as_deref()
                .is_none_or(|x| c.system_code.as_deref() == Some(x))
        })
        .collect();
    let total = all.len();
    let page: Vec<store::Conflict> = all.into_iter().skip(offset).take(limit).collect();
    if csv {
        return Ok(list("conflicts", page.into_iter().map(to_json).collect(), true));
    }
    let next = (offset.saturating_add(limit) < total).then(|| offset + limit);
    Ok(axum::Json(ConflictsPage {
        conflicts: page,
        total,
        next_offset: next,
    })
    .into_response())
}

/// A settlement request: risk-share, pooled or alliance terms as TOML (the format of
/// `docs/budgets.md`) and the year's outturn.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SettleRequest {
    pub terms: String,
    /// The total outturn; with `outturn` rows, their sum unless given.
    pub actual: Option<f64>,
    pub outturn: Option<Vec<PartyOutturnIn>>,
    /// Annual costs of high-cost patients, for a stop-loss pool.
    #[serde(default)]
    pub high_cost: Vec<f64>,
}

#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PartyOutturnIn {
    pub party: String,
    pub outturn: f64,
    pub target: Option<f64>,
    pub activity: Option<f64>,
    pub quality: Option<f64>,
}

/// Settles an arrangement: a calculator over the caller's own terms and figures.
pub fn settle(req: SettleRequest) -> Result<budgets::settle::Settlement, ApiError> {
    // The body is well-formed JSON by now; what is wrong with the terms or the figures is
    // a 422.
    let refused = |m: String| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "refused", m);
    if req.terms.len() > 32 * 1024 {
        return Err(refused("terms: over 32 KiB".into()));
    }
    let terms = budgets::terms::Terms::parse(&req.terms, "terms").map_err(|e| refused(e.to_string()))?;
    let parties: Vec<budgets::settle::PartyOutturn> = req
        .outturn
        .unwrap_or_default()
        .into_iter()
        .map(|p| budgets::settle::PartyOutturn {
            party: p.party,
            outturn: p.outturn,
            target: p.target,
            activity: p.activity,
            quality: p.quality,
        })
        .collect();
    if req.actual.is_none() && parties.is_empty() {
        return Err(refused(
            "give `actual` (the total outturn) or `outturn` rows".into(),
        ));
    }
    let total = req
        .actual
        .unwrap_or_else(|| parties.iter().map(|p| p.outturn).sum());
    if !total.is_finite() || req.high_cost.iter().any(|c| !c.is_finite() || *c < 0.0) {
        return Err(refused(
            "amounts must be finite, and high-cost patients' costs not negative".into(),
        ));
    }
    let outturn = budgets::settle::Outturn {
        total,
        parties,
        high_cost: req.high_cost,
    };
    budgets::settle::settle(&terms, &outturn).map_err(|e| refused(e.to_string()))
}

pub async fn budgets_settle(
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    require_json(&headers)?;
    let req: SettleRequest = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad(format!("the body: {e}"))
            .hint("a JSON object: terms (TOML text), actual or outturn rows, high_cost")
    })?;
    Ok(axum::Json(settle(req)?).into_response())
}
