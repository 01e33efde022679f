//! The register's write path for people: open a case by hand, add commitments (with levers
//! and milestones), exit criteria, trajectories and progress notes, mark milestones delivered
//! and criteria met, close cases and interventions. Everything the CLI can do to a case, a
//! writing token can do within its scope.
//!
//! Every route: a bearer token that may write (national or regional), a JSON body, the case
//! (or intervention) in the token's scope — out of scope answers exactly as missing, 404 —
//! and every organisation a lever names in scope too. The store makes each change in one
//! transaction with its audit entry, so a refused change leaves nothing behind.

use crate::api::{MAX_LEVERS, body_code, case_of, require_json};
use crate::auth::{Caller, Principal};
use crate::{ApiError, Shared};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

/// The longest free text accepted (a reason, a note, a criterion, a description).
pub const MAX_TEXT: usize = 4000;

/// Opening a case by hand.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCase {
    pub system_code: String,
    /// Why the case is opened (the trigger a sync would have named).
    pub reason: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewExitCriterion {
    pub text: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTrajectory {
    /// A catalogue indicator.
    pub indicator: String,
    pub grain: String,
    pub period: String,
    /// The value the system commits to reach, in the indicator's unit.
    pub target: f64,
    /// `higher` or `lower` is better; the indicator's own direction when left out.
    #[serde(default)]
    pub direction: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProgress {
    pub note: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseCase {
    pub reason: String,
    /// Closes a case whose exit criteria are not all met, saying why.
    #[serde(default, rename = "override")]
    pub override_reason: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseIntervention {
    pub reason: String,
}

/// An empty object: marking a milestone delivered or a criterion met takes nothing more.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Mark {}

/// A caller who may write, checked before anything else is read.
pub(crate) fn writer(who: &Principal, headers: &axum::http::HeaderMap) -> Result<(), ApiError> {
    let t = who.require_bearer()?;
    require_json(headers)?;
    if !t.can_write() {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("a {} token cannot write", t.role),
        )
        .hint("national and regional tokens may change the register"));
    }
    Ok(())
}

pub(crate) fn body<T: serde::de::DeserializeOwned>(bytes: &[u8], shape: &str) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| ApiError::bad(format!("the body: {e}")).hint(shape.to_string()))
}

/// Free text: present and not too long.
pub(crate) fn text(name: &str, v: &str) -> Result<(), ApiError> {
    if v.trim().is_empty() {
        return Err(refused(format!("{name}: must not be empty")));
    }
    if v.chars().count() > MAX_TEXT {
        return Err(refused(format!("{name}: at most {MAX_TEXT} characters")));
    }
    Ok(())
}

fn refused(message: String) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "refused", message)
}

fn hidden(what: &str, code: &str) -> ApiError {
    ApiError::not_found(format!("{what} {code:?}: none in this token's scope"))
}

/// Levers as sent: at most [`MAX_LEVERS`], deduplicated (the same organisation, lever and
/// counterparty once, amounts added), every organisation a code in the caller's scope.
pub fn levers_in_scope(
    s: &crate::State,
    who: &Principal,
    sent: Vec<store::Lever>,
) -> Result<Vec<store::Lever>, ApiError> {
    if sent.len() > MAX_LEVERS {
        return Err(refused(format!(
            "{} levers: at most {MAX_LEVERS} at once",
            sent.len()
        )));
    }
    let mut levers: Vec<store::Lever> = Vec::new();
    for l in sent {
        match levers
            .iter_mut()
            .find(|x| x.org_code == l.org_code && x.lever == l.lever && x.to_org_code == l.to_org_code)
        {
            Some(x) => x.amount += l.amount,
            None => levers.push(l),
        }
    }
    for l in &levers {
        for org in std::iter::once(&l.org_code).chain(l.to_org_code.as_ref()) {
            body_code("lever organisation", org)?;
            if !who.sees_org(s, org) {
                return Err(hidden("organisation", org));
            }
        }
    }
    Ok(levers)
}

/// A path's item number (a commitment or a criterion).
fn item(v: &str, what: &str) -> Result<i64, ApiError> {
    v.parse().ok().filter(|n| *n >= 1).ok_or_else(|| {
        ApiError::not_found(format!(
            "{what} {:?}: not a number",
            v.chars().take(40).collect::<String>()
        ))
    })
}

/// The case as it now stands.
async fn answer(
    s: &crate::State,
    who: &Principal,
    id: i64,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let case = case_of(s, who, &id.to_string()).await?;
    Ok((status, axum::Json(case)).into_response())
}

// Each change is a core function (the checks and the change, for a caller already allowed
// to write) used by the JSON routes here and by the dashboard's forms (`pages`).

/// Opens a case by hand; the new case's number.
pub(crate) async fn open_case(s: &crate::State, who: &Principal, n: &NewCase) -> Result<i64, ApiError> {
    body_code("system_code", &n.system_code)?;
    if !who.sees_system(s, &n.system_code) || s.results.system(&n.system_code).is_none() {
        return Err(hidden("system", &n.system_code));
    }
    text("reason", &n.reason)?;
    // One open case per system (the register refuses a second one too, atomically).
    if let Some(open) =
        s.db.cases()
            .await?
            .into_iter()
            .find(|c| c.system_code == n.system_code && c.status == "open")
    {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            format!("{} already has an open case (#{})", n.system_code, open.id),
        )
        .hint("add to the open case"));
    }
    s.db.open_case(&n.system_code, None, &n.reason, None, &who.name())
        .await?
        .ok_or_else(|| ApiError::internal(format!("case for {} not opened", n.system_code)))
}

pub(crate) async fn commit(
    s: &crate::State,
    who: &Principal,
    id: &str,
    mut n: store::NewCommitment,
) -> Result<i64, ApiError> {
    let case = case_of(s, who, id).await?;
    text("stakeholder", &n.stakeholder)?;
    text("description", &n.description)?;
    n.levers = levers_in_scope(s, who, std::mem::take(&mut n.levers))?;
    s.db.add_commitment(case.id, &n, &who.name()).await?;
    Ok(case.id)
}

pub(crate) async fn amend(
    s: &crate::State,
    who: &Principal,
    id: &str,
    commitment: &str,
    mut n: store::CommitmentChange,
) -> Result<i64, ApiError> {
    let case = case_of(s, who, id).await?;
    let commitment = item(commitment, "commitment")?;
    if !case.commitments.iter().any(|c| c.id == commitment) {
        return Err(hidden("commitment", &commitment.to_string()));
    }
    if let Some(d) = &n.description {
        text("description", d)?;
    }
    if let Some(l) = n.levers.take() {
        n.levers = Some(levers_in_scope(s, who, l)?);
    }
    s.db.change_commitment(commitment, &n, &who.name()).await?;
    Ok(case.id)
}

pub(crate) async fn deliver(
    s: &crate::State,
    who: &Principal,
    id: &str,
    commitment: &str,
) -> Result<i64, ApiError> {
    let case = case_of(s, who, id).await?;
    let commitment = item(commitment, "commitment")?;
    // Only the case's own commitments: an id from another case (perhaps another system's)
    // answers as missing.
    if !case.commitments.iter().any(|c| c.id == commitment) {
        return Err(hidden("commitment", &commitment.to_string()));
    }
    if case.status != "open" {
        return Err(refused(format!("case {} is closed", case.id)));
    }
    s.db.complete_commitment(commitment, &who.name()).await?;
    Ok(case.id)
}

pub(crate) async fn criterion(
    s: &crate::State,
    who: &Principal,
    id: &str,
    n: &NewExitCriterion,
) -> Result<i64, ApiError> {
    let case = case_of(s, who, id).await?;
    text("text", &n.text)?;
    s.db.add_exit_criterion(case.id, &n.text, &who.name()).await?;
    Ok(case.id)
}

pub(crate) async fn meet(
    s: &crate::State,
    who: &Principal,
    id: &str,
    criterion: &str,
) -> Result<i64, ApiError> {
    let case = case_of(s, who, id).await?;
    let criterion = item(criterion, "exit criterion")?;
    if !case.exit_criteria.iter().any(|c| c.id == criterion) {
        return Err(hidden("exit criterion", &criterion.to_string()));
    }
    if case.status != "open" {
        return Err(refused(format!("case {} is closed", case.id)));
    }
    s.db.meet_exit_criterion(criterion, &who.name()).await?;
    Ok(case.id)
}

pub(crate) async fn trajectory(
    s: &crate::State,
    who: &Principal,
    id: &str,
    n: &NewTrajectory,
) -> Result<i64, ApiError> {
    let case = case_of(s, who, id).await?;
    body_code("indicator", &n.indicator)?;
    let Some(ind) = s.results.indicator(&n.indicator) else {
        return Err(refused(format!(
            "indicator {:?}: not in the catalogue (GET /api/v1/indicators)",
            n.indicator
        )));
    };
    let direction = match n.direction.as_deref().filter(|d| !d.is_empty()) {
        Some(d) => d.to_string(),
        None if matches!(ind.direction.as_str(), "higher" | "lower") => ind.direction.clone(),
        None => {
            return Err(refused(format!(
                "indicator {}: has no better direction; say which with direction",
                n.indicator
            )));
        }
    };
    if n.period.chars().count() > 24 {
        return Err(refused("period: at most 24 characters".into()));
    }
    s.db.add_trajectory(
        case.id,
        &n.indicator,
        (&n.grain, &n.period),
        n.target,
        &direction,
        &who.name(),
    )
    .await?;
    Ok(case.id)
}

pub(crate) async fn progress(
    s: &crate::State,
    who: &Principal,
    id: &str,
    n: &NewProgress,
) -> Result<i64, ApiError> {
    let case = case_of(s, who, id).await?;
    text("note", &n.note)?;
    s.db.record_progress(case.id, &n.note, &who.name()).await?;
    Ok(case.id)
}

pub(crate) async fn close(
    s: &crate::State,
    who: &Principal,
    id: &str,
    n: &CloseCase,
) -> Result<i64, ApiError> {
    let case = case_of(s, who, id).await?;
    text("reason", &n.reason)?;
    if let Some(o) = &n.override_reason {
        text("override", o)?;
    }
    s.db.close_case(case.id, &n.reason, n.override_reason.as_deref(), &who.name())
        .await?;
    Ok(case.id)
}

/// Closes an intervention in scope, as its regulator.
pub(crate) async fn end_intervention(
    s: &crate::State,
    who: &Principal,
    id: &str,
    n: &CloseIntervention,
) -> Result<i64, ApiError> {
    let id = item(id, "intervention")?;
    let found =
        s.db.interventions()
            .await?
            .into_iter()
            .find(|i| i.id == id)
            .filter(|i| crate::api::visible_intervention(s, who, i));
    let Some(i) = found else {
        return Err(hidden("intervention", &id.to_string()));
    };
    text("reason", &n.reason)?;
    let t = who
        .token()
        .ok_or_else(|| ApiError::internal("a writer without a token"))?;
    acting_as(t, &i.regulator)?;
    s.db.close_intervention(i.id, &n.reason, &who.name()).await?;
    Ok(id)
}

pub async fn create_case(
    State(s): State<Shared>,
    Caller(who): Caller,
    headers: axum::http::HeaderMap,
    bytes: axum::body::Bytes,
) -> Result<Response, ApiError> {
    writer(&who, &headers)?;
    let n: NewCase = body(&bytes, "a JSON object: system_code, reason")?;
    let id = open_case(&s, &who, &n).await?;
    answer(&s, &who, id, StatusCode::CREATED).await
}

pub async fn add_commitment(
    State(s): State<Shared>,
    Caller(who): Caller,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
    bytes: axum::body::Bytes,
) -> Result<Response, ApiError> {
    writer(&who, &headers)?;
    case_of(&s, &who, &id).await?;
    let n: store::NewCommitment = body(
        &bytes,
        "a JSON object: stakeholder, stakeholder_kind, care_model, description, due, levers",
    )?;
    let case = commit(&s, &who, &id, n).await?;
    answer(&s, &who, case, StatusCode::CREATED).await
}

pub async fn deliver_commitment(
    State(s): State<Shared>,
    Caller(who): Caller,
    Path((id, commitment)): Path<(String, String)>,
    headers: axum::http::HeaderMap,
    bytes: axum::body::Bytes,
) -> Result<Response, ApiError> {
    writer(&who, &headers)?;
    case_of(&s, &who, &id).await?;
    item(&commitment, "commitment")?;
    let _: Mark = body(&bytes, "an empty JSON object: {}")?;
    let case = deliver(&s, &who, &id, &commitment).await?;
    answer(&s, &who, case, StatusCode::OK).await
}

pub async fn change_commitment(
    State(s): State<Shared>,
    Caller(who): Caller,
    Path((id, commitment)): Path<(String, String)>,
    headers: axum::http::HeaderMap,
    bytes: axum::body::Bytes,
) -> Result<Response, ApiError> {
    writer(&who, &headers)?;
    case_of(&s, &who, &id).await?;
    item(&commitment, "commitment")?;
    let n: store::CommitmentChange = body(&bytes, "a JSON object: description, due, levers (each optional)")?;
    let case = amend(&s, &who, &id, &commitment, n).await?;
    answer(&s, &who, case, StatusCode::OK).await
}

pub async fn add_exit_criterion(
    State(s): State<Shared>,
    Caller(who): Caller,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
    bytes: axum::body::Bytes,
) -> Result<Response, ApiError> {
    writer(&who, &headers)?;
    case_of(&s, &who, &id).await?;
    let n: NewExitCriterion = body(&bytes, "a JSON object: text")?;
    let case = criterion(&s, &who, &id, &n).await?;
    answer(&s, &who, case, StatusCode::CREATED).await
}

pub async fn meet_exit_criterion(
    State(s): State<Shared>,
    Caller(who): Caller,
    Path((id, criterion)): Path<(String, String)>,
    headers: axum::http::HeaderMap,
    bytes: axum::body::Bytes,
) -> Result<Response, ApiError> {
    writer(&who, &headers)?;
    case_of(&s, &who, &id).await?;
    item(&criterion, "exit criterion")?;
    let _: Mark = body(&bytes, "an empty JSON object: {}")?;
    let case = meet(&s, &who, &id, &criterion).await?;
    answer(&s, &who, case, StatusCode::OK).await
}

pub async fn add_trajectory(
    State(s): State<Shared>,
    Caller(who): Caller,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
    bytes: axum::body::Bytes,
) -> Result<Response, ApiError> {
    writer(&who, &headers)?;
    case_of(&s, &who, &id).await?;
    let n: NewTrajectory = body(
        &bytes,
        "a JSON object: indicator, grain, period, target, direction",
    )?;
    let case = trajectory(&s, &who, &id, &n).await?;
    answer(&s, &who, case, StatusCode::CREATED).await
}

pub async fn add_progress(
    State(s): State<Shared>,
    Caller(who): Caller,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
    bytes: axum::body::Bytes,
) -> Result<Response, ApiError> {
    writer(&who, &headers)?;
    case_of(&s, &who, &id).await?;
    let n: NewProgress = body(&bytes, "a JSON object: note")?;
    let case = progress(&s, &who, &id, &n).await?;
    answer(&s, &who, case, StatusCode::CREATED).await
}

pub async fn close_case(
    State(s): State<Shared>,
    Caller(who): Caller,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
    bytes: axum::body::Bytes,
) -> Result<Response, ApiError> {
    writer(&who, &headers)?;
    case_of(&s, &who, &id).await?;
    let n: CloseCase = body(
        &bytes,
        "a JSON object: reason, and override to close with exit criteria unmet",
    )?;
    let case = close(&s, &who, &id, &n).await?;
    answer(&s, &who, case, StatusCode::OK).await
}

pub async fn close_intervention(
    State(s): State<Shared>,
    Caller(who): Caller,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
    bytes: axum::body::Bytes,
) -> Result<Response, ApiError> {
    writer(&who, &headers)?;
    let n: CloseIntervention = body(&bytes, "a JSON object: reason")?;
    let id = end_intervention(&s, &who, &id, &n).await?;
    intervention_answer(&s, id, StatusCode::OK).await
}

/// A token limited to some regulators may act only as one of them.
pub(crate) fn acting_as(t: &store::Token, regulator: &str) -> Result<(), ApiError> {
    if t.may_act_as(regulator) {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        "forbidden",
        format!(
            "this token may act as {} only, not {regulator:?}",
            t.regulators.join(", ")
        ),
    ))
}

/// The intervention as the register now holds it, read back after a change.
pub(crate) async fn intervention_answer(
    s: &crate::State,
    id: i64,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let i =
        s.db.interventions()
            .await?
            .into_iter()
            .find(|x| x.id == id)
            .ok_or_else(|| {
                ApiError::internal(format!("intervention {id} was changed but cannot be read back"))
            })?;
    Ok((status, axum::Json(i)).into_response())
}
