//! The dashboard's write path: forms on the case page (commitments with levers and
//! milestones, exit criteria, trajectories, progress, returns, milestones delivered, criteria
//! met, interventions and the case closed) and on the system page (a case opened by hand, an
//! intervention opened: special measures, a flexibility, buddying, capacity support).
//!
//! Every form carries the session's CSRF token and is refused without it; the caller must be
//! signed in with a token that may write. Each form calls the same core function as its JSON
//! route ([`crate::write`], [`crate::returns`]), so scope, validation, audit and refusals are
//! the API's: a refused form changes nothing and shows why above the form, with the status of
//! the API's answer. A change redirects back to the page (post/redirect/get).

use crate::auth::{Caller, Principal};
use crate::pages::{esc, layout};
use crate::write::{CloseCase, CloseIntervention, NewCase, NewExitCriterion, NewProgress, NewTrajectory};
use crate::{ApiError, Shared, State};
use axum::extract::{Path, State as S};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use std::fmt::Write as _;

/// Every field any form sends; each action reads its own.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct FormFields {
    csrf: String,
    item: String,
    reason: String,
    #[serde(rename = "override")]
    override_reason: String,
    stakeholder: String,
    stakeholder_kind: String,
    care_model: String,
    description: String,
    due: String,
    lever_org: String,
    lever: String,
    amount: String,
    to_org: String,
    text: String,
    indicator: String,
    grain: String,
    period: String,
    target: String,
    direction: String,
    note: String,
    #[serde(rename = "return")]
    return_key: String,
    regulator: String,
    target_code: String,
    kind: String,
    legal_basis: String,
    start_date: String,
    deadline: String,
    action: String,
    link_case: String,
    partner: String,
    provider: String,
    cost: String,
    conditions: String,
    expiry: String,
}

fn bad(m: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "refused", m.into())
}

/// A signed-in session whose token may write, and the form's CSRF token its session's.
fn form_writer(who: &Principal, csrf: &str) -> Result<(), ApiError> {
    let Principal::Session {
        token,
        csrf: expected,
        ..
    } = who
    else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "the dashboard's forms are for signed-in users",
        )
        .hint("sign in at /login"));
    };
    if !crate::auth::same_secret(csrf, expected) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "bad_csrf",
            "the form is not from this session",
        )
        .hint("send the form from a page of this dashboard"));
    }
    if !token.can_write() {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("a {} token cannot write", token.role),
        )
        .hint("national and regional tokens may change the register"));
    }
    Ok(())
}

fn opt(v: &str) -> Option<String> {
    let t = v.trim();
    (!t.is_empty()).then(|| t.to_string())
}

fn number(field: &str, v: &str) -> Result<Option<f64>, ApiError> {
    let t = v.trim().replace([',', '£', ' ', '_'], "");
    if t.is_empty() {
        return Ok(None);
    }
    match t.parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(Some(x)),
        _ => Err(bad(format!("{field}: {v:?}: not a number"))),
    }
}

/// The lever a form names (none when its organisation and lever are blank).
fn lever(f: &FormFields) -> Result<Vec<store::Lever>, ApiError> {
    if f.lever_org.trim().is_empty() && f.lever.trim().is_empty() {
        return Ok(Vec::new());
    }
    let amount = number("amount", &f.amount)?.ok_or_else(|| bad("amount: a lever needs one"))?;
    Ok(vec![store::Lever {
        org_code: f.lever_org.trim().to_string(),
        lever: f.lever.trim().to_string(),
        amount,
        to_org_code: opt(&f.to_org),
    }])
}

/// A case page form: `action` is `commitment`, `change`, `deliver`, `criterion`, `meet`, `trajectory`,
/// `progress`, `return`, `close` or `close_intervention`.
pub async fn case_form(
    S(s): S<Shared>,
    Caller(who): Caller,
    Path((id, action)): Path<(String, String)>,
    form: Result<axum::Form<FormFields>, axum::extract::rejection::FormRejection>,
) -> Response {
    let f = form.map(|f| f.0).unwrap_or_default();
    let done = async {
        form_writer(&who, &f.csrf)?;
        let w = crate::api::case_of(&s, &who, &id).await?;
        let id = w.id.to_string();
        match action.as_str() {
            "commitment" => {
                let n = store::NewCommitment {
                    stakeholder: f.stakeholder.trim().to_string(),
                    stakeholder_kind: f.stakeholder_kind.clone(),
                    care_model: f.care_model.clone(),
                    description: f.description.trim().to_string(),
                    due: opt(&f.due),
                    levers: lever(&f)?,
                };
                crate::write::commit(&s, &who, &id, n).await?;
            }
            "deliver" => {
                crate::write::deliver(&s, &who, &id, &f.item).await?;
            }
            "change" => {
                let n = store::CommitmentChange {
                    description: opt(&f.description),
                    due: opt(&f.due),
                    levers: if f.lever_org.trim().is_empty() {
                        None
                    } else {
                        Some(lever(&f)?)
                    },
                };
                crate::write::amend(&s, &who, &id, &f.item, n).await?;
            }
            "criterion" => {
                let n = NewExitCriterion {
                    text: f.text.trim().to_string(),
                };
                crate::write::criterion(&s, &who, &id, &n).await?;
            }
            "meet" => {
                crate::write::meet(&s, &who, &id, &f.item).await?;
            }
            "trajectory" => {
                let n = NewTrajectory {
                    indicator: f.indicator.trim().to_string(),
                    grain: f.grain.clone(),
                    period: f.period.trim().to_string(),
                    target: number("target", &f.target)?.ok_or_else(|| bad("target: a number is needed"))?,
                    direction: opt(&f.direction),
                };
                crate::write::trajectory(&s, &who, &id, &n).await?;
            }
            "progress" => {
                let n = NewProgress {
                    note: f.note.trim().to_string(),
                };
                crate::write::progress(&s, &who, &id, &n).await?;
            }
            "return" => {
                let mut parts = f.return_key.splitn(3, '|');
                let (Some(entity), Some(pack), Some(period)) = (parts.next(), parts.next(), parts.next())
                else {
                    return Err(bad("return: choose one of the returns listed"));
                };
                let n = crate::returns::NewReturn {
                    entity_code: entity.to_string(),
                    pack: pack.to_string(),
                    period: period.to_string(),
                    note: opt(&f.note),
                };
                crate::returns::record(&s, &who, &n).await?;
            }
            "close" => {
                let n = CloseCase {
                    reason: f.reason.trim().to_string(),
                    override_reason: opt(&f.override_reason),
                };
                crate::write::close(&s, &who, &id, &n).await?;
            }
            "close_intervention" => {
                let n = CloseIntervention {
                    reason: f.reason.trim().to_string(),
                };
                crate::write::end_intervention(&s, &who, &f.item, &n).await?;
            }
            other => {
                return Err(ApiError::not_found(format!(
                    "form {:?}: no such form",
                    other.chars().take(40).collect::<String>()
                )));
            }
        }
        Ok::<i64, ApiError>(w.id)
    }
    .await;
    match done {
        Ok(case) => Redirect::to(&format!("/cases/{case}")).into_response(),
        Err(e) => crate::pages::case_response(&s, &who, &id, Some(e)).await,
    }
}

/// A system page form: `open_case` or `intervention`.
pub async fn system_form(
    S(s): S<Shared>,
    Caller(who): Caller,
    Path((code, action)): Path<(String, String)>,
    form: Result<axum::Form<FormFields>, axum::extract::rejection::FormRejection>,
) -> Response {
    let f = form.map(|f| f.0).unwrap_or_default();
    let done = async {
        form_writer(&who, &f.csrf)?;
        crate::api::check_code("system", &code)?;
        if !who.sees_system(&s, &code) || s.results.system(&code).is_none() {
            return Err(ApiError::not_found(format!(
                "system {code:?}: none in this token's scope"
            )));
        }
        match action.as_str() {
            "open_case" => {
                let n = NewCase {
                    system_code: code.clone(),
                    reason: f.reason.trim().to_string(),
                };
                let id = crate::write::open_case(&s, &who, &n).await?;
                Ok(format!("/cases/{id}"))
            }
            "intervention" => {
                let target = f.target_code.trim().to_string();
                let case_id = if f.link_case == "yes" {
                    s.db.cases()
                        .await?
                        .into_iter()
                        .find(|c| c.system_code == code && c.status == "open")
                        .map(|c| c.id)
                } else {
                    None
                };
                let n = store::NewIntervention {
                    regulator: f.regulator.trim().to_string(),
                    target_kind: if target == code {
                        "system".into()
                    } else {
                        "organisation".into()
                    },
                    target_code: target,
                    kind: f.kind.clone(),
                    legal_basis: f.legal_basis.trim().to_string(),
                    actions: opt(&f.action).into_iter().collect(),
                    start_date: f.start_date.trim().to_string(),
                    deadline: opt(&f.deadline),
                    case_id,
                    levers: lever(&f)?,
                    details: store::Details {
                        partner: opt(&f.partner),
                        provider: opt(&f.provider),
                        cost: number("cost", &f.cost)?,
                        conditions: f
                            .conditions
                            .lines()
                            .map(str::trim)
                            .filter(|l| !l.is_empty())
                            .map(str::to_string)
                            .collect(),
                        expiry: opt(&f.expiry),
                        care_model: opt(&f.care_model),
                    },
                };
                crate::api::open_intervention(&s, &who, n).await?;
                Ok(format!("/systems/{code}#regime"))
            }
            other => Err(ApiError::not_found(format!(
                "form {:?}: no such form",
                other.chars().take(40).collect::<String>()
            ))),
        }
    }
    .await;
    match done {
        Ok(to) => Redirect::to(&to).into_response(),
        Err(e) => {
            let status = e.status;
            let body = format!(
                "<h1>Not changed</h1><p class=\"note\" role=\"alert\">{}{}</p><p><a href=\"/systems/{}\">Back to the system</a></p>",
                esc(&e.message),
                e.hint
                    .as_deref()
                    .map(|h| format!(" ({})", esc(h)))
                    .unwrap_or_default(),
                esc(&code)
            );
            (status, layout("Not changed", &who, &body)).into_response()
        }
    }
}

fn options(values: &[&str], selected: &str) -> String {
    values
        .iter()
        .map(|v| {
            format!(
                "<option value=\"{}\"{}>{}</option>",
                esc(v),
                if *v == selected { " selected" } else { "" },
                esc(&v.replace('_', " "))
            )
        })
        .collect()
}

fn field(id: &str, label: &str, input: &str) -> String {
    format!("<p><label for=\"{id}\">{label}</label><br>{input}</p>")
}

fn text_input(id: &str, name: &str, required: bool) -> String {
    format!(
        "<input id=\"{id}\" name=\"{name}\" size=\"50\"{}>",
        if required { " required" } else { "" }
    )
}

/// The lever fields of a form, prefixed `prefix`.
fn lever_fields(prefix: &str, orgs: &[&crate::results::Organisation]) -> String {
    let org_options: String = std::iter::once("<option value=\"\">(no lever)</option>".to_string())
        .chain(orgs.iter().map(|o| {
            format!(
                "<option value=\"{}\">{} ({})</option>",
                esc(&o.code),
                esc(&o.name),
                esc(&o.code)
            )
        }))
        .collect();
    let to_options: String = std::iter::once("<option value=\"\">(none)</option>".to_string())
        .chain(orgs.iter().map(|o| {
            format!(
                "<option value=\"{}\">{} ({})</option>",
                esc(&o.code),
                esc(&o.name),
                esc(&o.code)
            )
        }))
        .collect();
    let levers: Vec<&str> = store::LEVERS.iter().map(|l| l.0).collect();
    format!(
        "<fieldset><legend>Lever (optional)</legend>{}{}{}{}</fieldset>",
        field(
            &format!("{prefix}-lever-org"),
            "Organisation",
            &format!("<select id=\"{prefix}-lever-org\" name=\"lever_org\">{org_options}</select>")
        ),
        field(
            &format!("{prefix}-lever"),
            "Lever",
            &format!(
                "<select id=\"{prefix}-lever\" name=\"lever\"><option value=\"\">(none)</option>{}</select>",
                options(&levers, "")
            )
        ),
        field(
            &format!("{prefix}-amount"),
            "Amount (negative cuts, closes or saves)",
            &format!("<input id=\"{prefix}-amount\" name=\"amount\" inputmode=\"decimal\">")
        ),
        field(
            &format!("{prefix}-to-org"),
            "To (activity moved or management merged)",
            &format!("<select id=\"{prefix}-to-org\" name=\"to_org\">{to_options}</select>")
        ),
    )
}

fn csrf_input(who: &Principal) -> String {
    format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        esc(who.csrf().unwrap_or(""))
    )
}

/// Whether `who` sees the dashboard's forms: a signed-in session whose token may write.
pub fn can_write(who: &Principal) -> bool {
    matches!(who, Principal::Session { token, .. } if token.can_write())
}

/// The case page's forms, for a caller who may write.
pub fn case_forms(
    s: &State,
    who: &Principal,
    case: &store::Case,
    interventions: &[store::Intervention],
    owed: &[store::Return],
) -> String {
    if !can_write(who) {
        return String::new();
    }
    let csrf = csrf_input(who);
    let act = |a: &str| format!("/cases/{}/forms/{a}", case.id);
    let mut b = String::from("<section id=\"forms\" class=\"forms\"><h2>Change the case</h2>");
    if case.status != "open" {
        b.push_str("<p>The case is closed.</p></section>");
        return b;
    }
    let orgs: Vec<&crate::results::Organisation> = s
        .results
        .organisations
        .iter()
        .filter(|o| o.system_code.as_deref() == Some(case.system_code.as_str()) && who.sees_org(s, &o.code))
        .collect();
    // Milestones to deliver and criteria to meet.
    for c in case.commitments.iter().filter(|c| c.done_at.is_none()) {
        let _ = write!(
            b,
            "<form method=\"post\" action=\"{}\" class=\"inline\" data-commitment=\"{}\">{csrf}<input type=\"hidden\" name=\"item\" value=\"{}\"><button type=\"submit\">Mark delivered: {} — {}</button></form>",
            act("deliver"),
            c.id,
            c.id,
            esc(&c.stakeholder),
            esc(&c.description)
        );
    }
    for e in case.exit_criteria.iter().filter(|e| e.met_at.is_none()) {
        let _ = write!(
            b,
            "<form method=\"post\" action=\"{}\" class=\"inline\" data-criterion=\"{}\">{csrf}<input type=\"hidden\" name=\"item\" value=\"{}\"><button type=\"submit\">Mark met: {}</button></form>",
            act("meet"),
            e.id,
            e.id,
            esc(&e.text)
        );
    }
    let _ = write!(
        b,
        "<h3>Add a commitment</h3><form method=\"post\" action=\"{}\" id=\"form-commitment\">{csrf}{}{}{}{}{}{}<p><button type=\"submit\">Add the commitment</button></p></form>",
        act("commitment"),
        field(
            "c-stakeholder",
            "Stakeholder",
            &text_input("c-stakeholder", "stakeholder", true)
        ),
        field(
            "c-kind",
            "Kind",
            &format!(
                "<select id=\"c-kind\" name=\"stakeholder_kind\">{}</select>",
                options(&store::STAKEHOLDER_KINDS, "trust")
            )
        ),
        field(
            "c-model",
            "Care model",
            &format!(
                "<select id=\"c-model\" name=\"care_model\">{}</select>",
                options(&store::CARE_MODELS, "")
            )
        ),
        field(
            "c-description",
            "Commitment",
            &text_input("c-description", "description", true)
        ),
        field(
            "c-due",
            "Milestone due",
            "<input id=\"c-due\" name=\"due\" type=\"date\">"
        ),
        lever_fields("c", &orgs),
    );
    let open_items: Vec<&store::Commitment> =
        case.commitments.iter().filter(|c| c.done_at.is_none()).collect();
    if !open_items.is_empty() {
        let items: String = open_items
            .iter()
            .map(|c| {
                format!(
                    "<option value=\"{}\">{} — {} (due {})</option>",
                    c.id,
                    esc(&c.stakeholder),
                    esc(&c.description),
                    esc(c.due.as_deref().unwrap_or("—"))
                )
            })
            .collect();
        let _ = write!(
            b,
            "<h3>Change a commitment</h3><p>Leave a field blank to keep it; a lever given replaces the commitment's levers.</p><form method=\"post\" action=\"{}\" id=\"form-change\">{csrf}{}{}{}{}<p><button type=\"submit\">Change the commitment</button></p></form>",
            act("change"),
            field(
                "g-item",
                "Commitment",
                &format!("<select id=\"g-item\" name=\"item\">{items}</select>")
            ),
            field(
                "g-description",
                "New wording",
                &text_input("g-description", "description", false)
            ),
            field(
                "g-due",
                "New milestone date",
                "<input id=\"g-due\" name=\"due\" type=\"date\">"
            ),
            lever_fields("g", &orgs),
        );
    }
    let _ = write!(
        b,
        "<h3>Add an exit criterion</h3><form method=\"post\" action=\"{}\" id=\"form-criterion\">{csrf}{}<p><button type=\"submit\">Add the criterion</button></p></form>",
        act("criterion"),
        field("e-text", "Criterion", &text_input("e-text", "text", true)),
    );
    let indicators: Vec<&str> = s.results.indicators.iter().map(|i| i.id.as_str()).collect();
    let _ = write!(
        b,
        "<h3>Add a trajectory</h3><form method=\"post\" action=\"{}\" id=\"form-trajectory\">{csrf}{}{}{}{}{}<p><button type=\"submit\">Add the trajectory</button></p></form>",
        act("trajectory"),
        field(
            "t-indicator",
            "Indicator",
            &format!(
                "<select id=\"t-indicator\" name=\"indicator\">{}</select>",
                options(&indicators, "ae_4h")
            )
        ),
        field(
            "t-grain",
            "Grain",
            &format!(
                "<select id=\"t-grain\" name=\"grain\">{}</select>",
                options(
                    &["financial_year", "quarter", "month", "rolling_12_months"],
                    "financial_year"
                )
            )
        ),
        field(
            "t-period",
            "Period (2025/26, 2025-06)",
            "<input id=\"t-period\" name=\"period\" required>"
        ),
        field(
            "t-target",
            "Target value",
            "<input id=\"t-target\" name=\"target\" inputmode=\"decimal\" required>"
        ),
        field(
            "t-direction",
            "Better is",
            &format!(
                "<select id=\"t-direction\" name=\"direction\"><option value=\"\">(the indicator's own)</option>{}</select>",
                options(&["higher", "lower"], "")
            )
        ),
    );
    let _ = write!(
        b,
        "<h3>Record progress</h3><form method=\"post\" action=\"{}\" id=\"form-progress\">{csrf}{}<p><button type=\"submit\">Record</button></p></form>",
        act("progress"),
        field(
            "p-note",
            "Note",
            "<textarea id=\"p-note\" name=\"note\" rows=\"3\" cols=\"70\" required></textarea>"
        ),
    );
    let pending: Vec<&store::Return> = owed.iter().filter(|r| r.status != "submitted").collect();
    if !pending.is_empty() {
        let opts: String = pending
            .iter()
            .map(|r| {
                format!(
                    "<option value=\"{}|{}|{}\">{} {} {} ({}, due {})</option>",
                    esc(&r.entity_code),
                    esc(&r.pack),
                    esc(&r.period),
                    esc(&r.entity_code),
                    esc(&r.pack),
                    esc(&r.period),
                    esc(&r.status),
                    esc(&r.due)
                )
            })
            .collect();
        let _ = write!(
            b,
            "<h3>Record a return as submitted</h3><form method=\"post\" action=\"{}\" id=\"form-return\">{csrf}{}{}<p><button type=\"submit\">Record the return</button></p></form>",
            act("return"),
            field(
                "r-return",
                "Return",
                &format!("<select id=\"r-return\" name=\"return\">{opts}</select>")
            ),
            field("r-note", "Note (optional)", &text_input("r-note", "note", false)),
        );
    }
    for i in interventions
        .iter()
        .filter(|i| i.status == "open" && i.system_code.as_deref() == Some(case.system_code.as_str()))
    {
        let _ = write!(
            b,
            "<h3>Close intervention {} ({} {} on {})</h3><form method=\"post\" action=\"{}\" data-intervention=\"{}\">{csrf}<input type=\"hidden\" name=\"item\" value=\"{}\">{}<p><button type=\"submit\">Close intervention {}</button></p></form>",
            i.id,
            esc(&i.regulator),
            esc(&i.kind.replace('_', " ")),
            esc(&i.target_code),
            act("close_intervention"),
            i.id,
            i.id,
            field(
                &format!("i{}-reason", i.id),
                "Why",
                &text_input(&format!("i{}-reason", i.id), "reason", true)
            ),
            i.id
        );
    }
    let _ = write!(
        b,
        "<h3>Close the case</h3><form method=\"post\" action=\"{}\" id=\"form-close\">{csrf}{}{}<p><button type=\"submit\">Close the case</button></p></form></section>",
        act("close"),
        field("x-reason", "Why", &text_input("x-reason", "reason", true)),
        field(
            "x-override",
            "Override (only to close with exit criteria unmet: say why)",
            &text_input("x-override", "override", false)
        ),
    );
    b
}

/// The system page's forms (open a case; open an intervention), for a caller who may write.
pub fn system_forms(s: &State, who: &Principal, code: &str, has_open_case: bool) -> String {
    if !can_write(who) {
        return String::new();
    }
    let csrf = csrf_input(who);
    let mut b = String::from("<section id=\"regime-forms\" class=\"forms\"><h2>Change the register</h2>");
    if !has_open_case {
        let _ = write!(
            b,
            "<h3>Open a case by hand</h3><form method=\"post\" action=\"/systems/{}/forms/open_case\" id=\"form-open-case\">{csrf}{}<p><button type=\"submit\">Open the case</button></p></form>",
            esc(code),
            field("o-reason", "Why", &text_input("o-reason", "reason", true)),
        );
    }
    let orgs: Vec<&crate::results::Organisation> = s
        .results
        .organisations
        .iter()
        .filter(|o| o.system_code.as_deref() == Some(code) && who.sees_org(s, &o.code))
        .collect();
    let targets: String = std::iter::once(format!(
        "<option value=\"{}\">the whole system ({})</option>",
        esc(code),
        esc(code)
    ))
    .chain(orgs.iter().map(|o| {
        format!(
            "<option value=\"{}\">{} ({})</option>",
            esc(&o.code),
            esc(&o.name),
            esc(&o.code)
        )
    }))
    .collect();
    let kinds: String =
        s.db.kinds()
            .kinds
            .iter()
            .map(|k| format!("<option value=\"{}\">{}</option>", esc(&k.id), esc(&k.title)))
            .collect();
    let regulators: Vec<&str> = match who.token() {
        Some(t) if !t.regulators.is_empty() => t.regulators.iter().map(String::as_str).collect(),
        _ => vec!["nhs_england", "monitor", "nhs_tda", "cqc", "local_government"],
    };
    let _ = write!(
        b,
        "<h3>Open an intervention</h3><p>Special measures, buddying, capacity support, a flexibility and the other kinds of the registry. A flexibility is granted only in support of change: link it to the case or name a new care model.</p><form method=\"post\" action=\"/systems/{}/forms/intervention\" id=\"form-intervention\">{csrf}{}{}{}{}{}{}{}<p><input type=\"checkbox\" id=\"n-link\" name=\"link_case\" value=\"yes\"> <label for=\"n-link\">Link it to the system's open case</label></p><fieldset><legend>What the kind requires</legend>{}{}{}{}{}{}</fieldset>{}<p><button type=\"submit\">Open the intervention</button></p></form></section>",
        esc(code),
        field(
            "n-regulator",
            "Regulator",
            &format!(
                "<select id=\"n-regulator\" name=\"regulator\">{}</select>",
                options(&regulators, "monitor")
            )
        ),
        field(
            "n-target",
            "Target",
            &format!("<select id=\"n-target\" name=\"target_code\">{targets}</select>")
        ),
        field(
            "n-kind",
            "Kind",
            &format!("<select id=\"n-kind\" name=\"kind\">{kinds}</select>")
        ),
        field(
            "n-basis",
            "Legal basis",
            &text_input("n-basis", "legal_basis", true)
        ),
        field(
            "n-start",
            "Start",
            "<input id=\"n-start\" name=\"start_date\" type=\"date\" required>"
        ),
        field(
            "n-deadline",
            "Deadline",
            "<input id=\"n-deadline\" name=\"deadline\" type=\"date\">"
        ),
        field(
            "n-action",
            "Required action",
            &text_input("n-action", "action", false)
        ),
        field(
            "n-partner",
            "Buddy (an organisation code)",
            &text_input("n-partner", "partner", false)
        ),
        field(
            "n-provider",
            "Capacity support provider",
            &text_input("n-provider", "provider", false)
        ),
        field(
            "n-cost",
            "Cost (£)",
            "<input id=\"n-cost\" name=\"cost\" inputmode=\"decimal\">"
        ),
        field(
            "n-conditions",
            "Conditions (one a line)",
            "<textarea id=\"n-conditions\" name=\"conditions\" rows=\"3\" cols=\"60\"></textarea>"
        ),
        field(
            "n-expiry",
            "Expires",
            "<input id=\"n-expiry\" name=\"expiry\" type=\"date\">"
        ),
        field(
            "n-model",
            "New care model supported",
            &format!(
                "<select id=\"n-model\" name=\"care_model\"><option value=\"\">(none)</option>{}</select>",
                options(&store::CARE_MODELS, "")
            )
        ),
        lever_fields("n", &orgs),
    );
    b
}
