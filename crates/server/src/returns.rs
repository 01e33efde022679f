//! The reporting calendar over HTTP: the returns each organisation and system in the token's
//! scope owes at its outcome's frequency, where each stands (submitted, overdue, due, open),
//! and recording one as submitted.

use crate::auth::{Caller, Principal};
use crate::{ApiError, Shared};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

/// The statuses a return can have.
pub const STATUSES: [&str; 4] = ["submitted", "overdue", "due", "open"];

/// Recording a return as submitted.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReturn {
    /// The organisation or system that owes it.
    pub entity_code: String,
    /// The pack whose outcome set its frequency (`GET /api/v1/returns` lists them).
    pub pack: String,
    /// The period as the calendar names it: `2026-11`, `FY2026-Q3`, `2026/27`, `2026-W49`.
    pub period: String,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct ReturnsPage {
    /// The calendar's day.
    pub as_of: String,
    pub returns: Vec<store::Return>,
    pub total: usize,
    pub next_offset: Option<usize>,
}

/// Whether `who` may see an organisation's or a system's returns.
pub fn sees(s: &crate::State, who: &Principal, r: &store::Return) -> bool {
    if r.entity_kind == "system" {
        who.sees_system(s, &r.entity_code)
    } else {
        who.sees_org(s, &r.entity_code)
    }
}

/// The system an entity's returns belong to: itself, or the organisation's system.
pub fn system_of(s: &crate::State, r: &store::Return) -> Option<String> {
    if r.entity_kind == "system" {
        Some(r.entity_code.clone())
    } else {
        s.results
            .organisation(&r.entity_code)
            .and_then(|o| o.system_code.clone())
    }
}

/// The returns `who` may see, on `today`.
pub async fn visible(s: &crate::State, who: &Principal, today: i32) -> Result<Vec<store::Return>, ApiError> {
    Ok(s.db
        .returns(today)
        .await?
        .into_iter()
        .filter(|r| sees(s, who, r))
        .collect())
}

pub async fn list(
    State(s): State<Shared>,
    Caller(who): Caller,
    q: crate::api::Q,
) -> Result<Response, ApiError> {
    who.require()?;
    let mut p = crate::api::params(q)?;
    let status = p.take("status");
    if let Some(v) = &status
        && !STATUSES.contains(&v.as_str())
    {
        return Err(ApiError::bad(format!(
            "status {:?}: submitted, overdue, due or open",
            v.chars().take(40).collect::<String>()
        )));
    }
    let system = p.code("system")?;
    let entity = p.code("entity")?;
    let (limit, offset) = crate::api::paging(&mut p)?;
    p.finish(&["status", "system", "entity", "limit", "offset"])?;
    let today = store::reporting::today();
    let all: Vec<store::Return> = visible(&s, &who, today)
        .await?
        .into_iter()
        .filter(|r| status.as_ref().is_none_or(|x| &r.status == x))
        .filter(|r| entity.as_ref().is_none_or(|x| &r.entity_code == x))
        .filter(|r| system.is_none() || system_of(&s, r) == system)
        .collect();
    let total = all.len();
    Ok(axum::Json(ReturnsPage {
        as_of: model::format_date(today),
        returns: all.into_iter().skip(offset).take(limit).collect(),
        total,
        next_offset: (offset.saturating_add(limit) < total).then(|| offset + limit),
    })
    .into_response())
}

/// Checks a return to record and records it for `who` (a caller already allowed to write):
/// the entity in scope (out of scope answers as missing), the calendar owing that return.
pub async fn record(s: &crate::State, who: &Principal, n: &NewReturn) -> Result<store::Return, ApiError> {
    crate::api::body_code("entity_code", &n.entity_code)?;
    crate::api::body_code("pack", &n.pack)?;
    if n.period.trim().is_empty() || n.period.chars().count() > 24 {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "refused",
            "period: 1 to 24 characters (2026-11, FY2026-Q3, 2026/27, 2026-W49)",
        ));
    }
    if let Some(note) = &n.note {
        crate::write::text("note", note)?;
    }
    let in_scope = if s.results.system(&n.entity_code).is_some() {
        who.sees_system(s, &n.entity_code)
    } else {
        who.sees_org(s, &n.entity_code)
    };
    if !in_scope {
        return Err(ApiError::not_found(format!(
            "organisation or system {:?}: none in this token's scope",
            n.entity_code
        )));
    }
    let today = store::reporting::today();
    s.db.record_return(
        &n.entity_code,
        &n.pack,
        &n.period,
        n.note.as_deref(),
        today,
        &who.name(),
    )
    .await?;
    s.db.returns(today)
        .await?
        .into_iter()
        .find(|r| r.entity_code == n.entity_code && r.pack == n.pack && r.period == n.period)
        .ok_or_else(|| ApiError::internal("the return was recorded but cannot be read back"))
}

pub async fn create(
    State(s): State<Shared>,
    Caller(who): Caller,
    headers: axum::http::HeaderMap,
    bytes: axum::body::Bytes,
) -> Result<Response, ApiError> {
    crate::write::writer(&who, &headers)?;
    let n: NewReturn = crate::write::body(&bytes, "a JSON object: entity_code, pack, period, note")?;
    let r = record(&s, &who, &n).await?;
    Ok((StatusCode::CREATED, axum::Json(r)).into_response())
}
