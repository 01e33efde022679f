//! The alerts feed: what changed in the register for a token's scope since a moment — cases
//! opened and closed, commitments added and delivered, exit criteria, trajectories, progress
//! notes, interventions opened and closed, returns recorded (from the audit log), milestones
//! and returns that fell overdue, trajectories the published values show off track, and the
//! conflicts standing now — as JSON, or Atom for people's feed readers.
//!
//! Every item is one the caller could read on its own: a case's items only when its system is
//! in scope, an intervention's when its target is, a conflict when everything it names is.

use crate::auth::{Caller, Principal};
use crate::{ApiError, Shared};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;

/// One change.
#[derive(Debug, Clone, PartialEq, serde::Serialize, schemars::JsonSchema)]
pub struct FeedItem {
    /// A stable identifier (`audit:N`, `overdue:N`, `conflict:…`).
    pub id: String,
    /// When it happened (UTC, RFC 3339); an overdue milestone, the start of the day after it
    /// was due.
    pub at: String,
    /// `case_opened`, `case_closed`, `progress_recorded`, `commitment_added`,
    /// `milestone_delivered`, `exit_criterion_added`, `exit_criterion_met`,
    /// `trajectory_added`, `intervention_opened`, `intervention_closed`, `milestone_overdue`,
    /// `return_recorded`, `return_overdue`, `trajectory_off_track` or `conflict`.
    pub kind: String,
    pub system_code: Option<String>,
    pub case_id: Option<i64>,
    pub intervention_id: Option<i64>,
    pub title: String,
    /// Where to read more in the API.
    pub link: String,
}

#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct FeedPage {
    /// When the feed was drawn.
    pub as_of: String,
    pub since: Option<String>,
    /// Newest first.
    pub items: Vec<FeedItem>,
    pub total: usize,
    pub next_offset: Option<usize>,
}

/// `since`: a date (`2025-06-01`) or a UTC instant (`2025-06-01T09:30:00Z`, seconds and
/// fractions optional).
pub fn check_since(v: &str) -> Result<String, ApiError> {
    if !since_shape(v) {
        return Err(ApiError::bad(format!(
            "since {:?}: a date (2025-06-01) or a UTC instant (2025-06-01T09:30:00Z)",
            v.chars().take(40).collect::<String>()
        )));
    }
    Ok(v.to_string())
}

/// `YYYY-MM-DD`, optionally `THH:MM[:SS[.f…]]Z` (at most nine fraction digits): exactly the
/// pattern the OpenAPI document gives. It is a lower bound compared as text with the register's
/// timestamps, so a shape is all it needs to be.
fn since_shape(v: &str) -> bool {
    let b = v.as_bytes();
    let digits =
        |from: usize, n: usize| b.len() >= from + n && b[from..from + n].iter().all(u8::is_ascii_digit);
    if !(digits(0, 4) && b.get(4) == Some(&b'-') && digits(5, 2) && b.get(7) == Some(&b'-') && digits(8, 2)) {
        return false;
    }
    if b.len() == 10 {
        return true;
    }
    if !(b.get(10) == Some(&b'T') && digits(11, 2) && b.get(13) == Some(&b':') && digits(14, 2)) {
        return false;
    }
    let mut i = 16;
    if b.get(i) == Some(&b':') {
        if !digits(i + 1, 2) {
            return false;
        }
        i += 3;
        if b.get(i) == Some(&b'.') {
            let n = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
            if !(1..=9).contains(&n) {
                return false;
            }
            i += 1 + n;
        }
    }
    i + 1 == b.len() && b[i] == b'Z'
}

/// The feed's items for `who`, newest first, after `since`.
pub async fn items(
    s: &crate::State,
    who: &Principal,
    since: Option<&str>,
) -> Result<Vec<FeedItem>, ApiError> {
    let cases = s.db.cases().await?;
    let interventions = s.db.interventions().await?;
    let case_by_id: HashMap<i64, &store::Case> = cases.iter().map(|c| (c.id, c)).collect();
    // Which case each commitment, criterion and trajectory belongs to.
    let mut owner: HashMap<(&str, i64), i64> = HashMap::new();
    for c in &cases {
        for x in &c.commitments {
            owner.insert(("commitment", x.id), c.id);
        }
        for x in &c.exit_criteria {
            owner.insert(("exit_criterion", x.id), c.id);
        }
        for x in &c.trajectories {
            owner.insert(("trajectory", x.id), c.id);
        }
    }
    let after = |at: &str| since.is_none_or(|x| at > x);
    let today = store::reporting::today();
    // The reporting calendar in scope, and the returns recorded.
    let calendar = crate::returns::visible(s, who, today).await?;
    let submissions = s.db.submissions().await?;
    let mut out = Vec::new();
    for e in s.db.audit().await? {
        if !after(&e.at) {
            continue;
        }
        let Some(id) = e.entity_id else { continue };
        let kind = match e.action.as_str() {
            "open_case" => "case_opened",
            "close_case" => "case_closed",
            "record_progress" => "progress_recorded",
            "add_commitment" => "commitment_added",
            "complete_commitment" => "milestone_delivered",
            "add_exit_criterion" => "exit_criterion_added",
            "meet_exit_criterion" => "exit_criterion_met",
            "add_trajectory" => "trajectory_added",
            "open_intervention" => "intervention_opened",
            "close_intervention" => "intervention_closed",
            "record_return" => "return_recorded",
            _ => continue,
        };
        if e.entity == "return" {
            let Some(r) = submissions.iter().find(|x| x.id == id) else {
                continue;
            };
            let Some(cal) = calendar
                .iter()
                .find(|c| c.entity_code == r.entity_code && c.pack == r.pack && c.period == r.period)
            else {
                continue;
            };
            out.push(FeedItem {
                id: format!("audit:{}", e.id),
                at: e.at.clone(),
                kind: kind.into(),
                system_code: crate::returns::system_of(s, cal),
                case_id: None,
                intervention_id: None,
                title: format!(
                    "{}'s {} return for {} recorded as submitted ({} reporting: {})",
                    r.entity_code, r.pack, r.period, cal.frequency, cal.outcome
                ),
                link: format!("/api/v1/returns?entity={}", r.entity_code),
            });
            continue;
        }
        if e.entity == "intervention" {
            let Some(i) = interventions
                .iter()
                .find(|i| i.id == id)
                .filter(|i| crate::api::visible_intervention(s, who, i))
            else {
                continue;
            };
            out.push(FeedItem {
                id: format!("audit:{}", e.id),
                at: e.at.clone(),
                kind: kind.into(),
                system_code: i.system_code.clone(),
                case_id: i.case_id,
                intervention_id: Some(i.id),
                title: format!(
                    "{} {} on {} ({})",
                    kind.replace('_', " "),
                    i.id,
                    i.target_code,
                    i.kind.replace('_', " ")
                ),
                link: format!(
                    "/api/v1/interventions?system={}",
                    i.system_code.as_deref().unwrap_or("")
                ),
            });
            continue;
        }
        let case_id = if e.entity == "case" {
            Some(id)
        } else {
            owner.get(&(e.entity.as_str(), id)).copied()
        };
        let Some(case) = case_id
            .and_then(|c| case_by_id.get(&c))
            .filter(|c| who.sees_system(s, &c.system_code))
        else {
            continue;
        };
        out.push(FeedItem {
            id: format!("audit:{}", e.id),
            at: e.at.clone(),
            kind: kind.into(),
            system_code: Some(case.system_code.clone()),
            case_id: Some(case.id),
            intervention_id: None,
            title: format!(
                "case {} ({}): {}",
                case.id,
                case.system_code,
                kind.replace('_', " ")
            ),
            link: format!("/api/v1/cases/{}", case.id),
        });
    }
    // Milestones that fell due undelivered, on open cases.
    let now = store::now();
    let today = &now[..10];
    for c in cases
        .iter()
        .filter(|c| c.status == "open" && who.sees_system(s, &c.system_code))
    {
        for m in &c.commitments {
            let Some(due) = m.due.as_deref() else { continue };
            if m.done_at.is_some() || due >= today {
                continue;
            }
            let Ok(d) = model::parse_date(due) else { continue };
            let at = format!("{}T00:00:00Z", model::format_date(d + 1));
            if !after(&at) {
                continue;
            }
            out.push(FeedItem {
                id: format!("overdue:{}", m.id),
                at,
                kind: "milestone_overdue".into(),
                system_code: Some(c.system_code.clone()),
                case_id: Some(c.id),
                intervention_id: None,
                title: format!(
                    "case {} ({}): {}'s milestone due {due} is overdue: {}",
                    c.id, c.system_code, m.stakeholder, m.description
                ),
                link: format!("/api/v1/cases/{}/plan", c.id),
            });
        }
    }
    // Returns that fell overdue.
    for r in calendar.iter().filter(|r| r.status == "overdue") {
        let Ok(d) = model::parse_date(&r.due) else {
            continue;
        };
        let at = format!("{}T00:00:00Z", model::format_date(d + 1));
        if !after(&at) {
            continue;
        }
        out.push(FeedItem {
            id: format!("return_overdue:{}:{}:{}", r.entity_code, r.pack, r.period),
            at,
            kind: "return_overdue".into(),
            system_code: crate::returns::system_of(s, r),
            case_id: None,
            intervention_id: None,
            title: format!(
                "{}'s {} return for {} was due {} and is overdue ({} reporting: {})",
                r.entity_code, r.pack, r.period, r.due, r.frequency, r.outcome
            ),
            link: format!("/api/v1/returns?entity={}&status=overdue", r.entity_code),
        });
    }
    // Trajectories off track: the published value for the committed period misses its target.
    let published = s
        .results
        .manifest
        .as_ref()
        .map(|m| m.computed_at.clone())
        .unwrap_or_else(|| now.clone());
    for c in cases
        .iter()
        .filter(|c| c.status == "open" && who.sees_system(s, &c.system_code))
    {
        for t in &c.trajectories {
            let Some(v) = s
                .results
                .series(&t.indicator, "system", &c.system_code)
                .find(|v| *v.grain == t.grain && *v.period == t.period)
                .filter(|v| !v.suppressed)
                .and_then(|v| v.value)
            else {
                continue;
            };
            let off = if t.direction == "lower" {
                v > t.target
            } else {
                v < t.target
            };
            let at = published.clone().max(c.opened_at.clone());
            if !off || !after(&at) {
                continue;
            }
            out.push(FeedItem {
                id: format!("off_track:{}", t.id),
                at,
                kind: "trajectory_off_track".into(),
                system_code: Some(c.system_code.clone()),
                case_id: Some(c.id),
                intervention_id: None,
                title: format!(
                    "case {} ({}): {} for {} is {}, off its trajectory of {} ({} is better)",
                    c.id,
                    c.system_code,
                    t.indicator,
                    t.period,
                    (v * 10.0).round() / 10.0,
                    t.target,
                    t.direction
                ),
                link: format!("/api/v1/cases/{}", c.id),
            });
        }
    }
    // Conflicts standing now, dated by the latest intervention or case they involve.
    for k in crate::api::visible_conflicts(s, who).await? {
        let at = k
            .intervention_ids
            .iter()
            .filter_map(|id| {
                interventions
                    .iter()
                    .find(|i| i.id == *id)
                    .map(|i| i.opened_at.clone())
            })
            .chain(
                k.case_id
                    .and_then(|c| case_by_id.get(&c))
                    .map(|c| c.opened_at.clone()),
            )
            .max()
            // Packs disagreeing: as old as the results they were published with.
            .or_else(|| s.results.manifest.as_ref().map(|m| m.computed_at.clone()))
            .unwrap_or_else(|| now.clone());
        if !after(&at) {
            continue;
        }
        out.push(FeedItem {
            id: format!("conflict:{}", k.id),
            at,
            kind: "conflict".into(),
            system_code: k.system_code.clone(),
            case_id: k.case_id,
            intervention_id: k.intervention_ids.first().copied(),
            title: k.explanation.clone(),
            link: format!(
                "/api/v1/conflicts?system={}",
                k.system_code.as_deref().unwrap_or("")
            ),
        });
    }
    out.sort_by(|a, b| b.at.cmp(&a.at).then_with(|| b.id.cmp(&a.id)));
    Ok(out)
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The items as an Atom 1.0 feed (RFC 4287).
pub fn atom(s: &crate::State, who: &Principal, page: &FeedPage) -> String {
    let base = s.options.public_url.clone().unwrap_or_default();
    let scope = who
        .token()
        .map(|t| format!("{} {}", t.role, t.scope.as_deref().unwrap_or("England")))
        .unwrap_or_default();
    let mut b = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n<title>Footprint: what changed ({})</title>\n<id>urn:footprint:feed:{}</id>\n<updated>{}</updated>\n<author><name>Footprint</name></author>\n",
        xml(&scope),
        xml(&scope.replace(' ', ":")),
        xml(&page.as_of)
    );
    for i in &page.items {
        b.push_str(&format!(
            "<entry>\n<id>urn:footprint:{}</id>\n<title>{}</title>\n<updated>{}</updated>\n<link href=\"{}{}\"/>\n<category term=\"{}\"/>\n<summary>{}</summary>\n</entry>\n",
            xml(&i.id),
            xml(&i.title),
            xml(&i.at),
            xml(&base),
            xml(&i.link),
            xml(&i.kind),
            xml(&i.title)
        ));
    }
    b.push_str("</feed>\n");
    b
}

pub async fn feed(
    State(s): State<Shared>,
    Caller(who): Caller,
    q: crate::api::Q,
) -> Result<Response, ApiError> {
    who.require()?;
    let mut p = crate::api::params(q)?;
    let atom_wanted = match p.take("format").as_deref() {
        None | Some("json") => false,
        Some("atom") => true,
        Some(other) => return Err(ApiError::bad(format!("format {other:?}: json or atom"))),
    };
    let since = p.take("since").map(|v| check_since(&v)).transpose()?;
    let (limit, offset) = crate::api::paging(&mut p)?;
    p.finish(&["since", "format", "limit", "offset"])?;
    let all = items(&s, &who, since.as_deref()).await?;
    let total = all.len();
    let page = FeedPage {
        as_of: store::now(),
        since,
        items: all.into_iter().skip(offset).take(limit).collect(),
        total,
        next_offset: (offset.saturating_add(limit) < total).then(|| offset + limit),
    };
    if atom_wanted {
        return Ok((
            [(
                axum::http::header::CONTENT_TYPE,
                "application/atom+xml; charset=utf-8",
            )],
            atom(&s, &who, &page),
        )
            .into_response());
    }
    Ok(axum::Json(page).into_response())
}
