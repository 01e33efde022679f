//! The API's route table: the router is built from it and the OpenAPI 3 document is generated
//! from it, so the two cannot drift apart.

use crate::{Shared, api, results, returns, write};
use axum::Router;
use axum::routing::{MethodRouter, get, post};
use schemars::JsonSchema;
use schemars::generate::{SchemaGenerator, SchemaSettings};
use serde_json::{Value, json};

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone: published, disclosure-controlled aggregates.
    Public,
    /// A token; answers are limited to its scope.
    Token,
    /// A token with write permission (national, regional).
    Write,
}

/// What a parameter takes; the handlers check the same rules ([`api::check_code`] and the
/// rest), so a value the document allows is never refused as malformed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Letters, digits, `_` and `-`, at most 32.
    Code,
    /// `json` or `csv`.
    Format,
    EntityKind,
    /// An organisation kind of the data contract.
    OrgKind,
    Grain,
    /// `2024/25`, `2024-06`, `2024/25 Q1`, `2024-07 to 2025-06`.
    Period,
    /// 1 to [`api::MAX_LIMIT`].
    Limit,
    Offset,
    /// A case number.
    Id,
    /// `json` or `atom`.
    FeedFormat,
    /// A date or a UTC instant.
    Since,
    /// A return's status.
    ReturnStatus,
    /// A date, YYYY-MM-DD.
    Date,
}

#[derive(Debug)]
pub struct Param {
    pub name: &'static str,
    /// `query` or `path`.
    pub at: &'static str,
    pub description: &'static str,
    pub kind: Kind,
}

const fn query(name: &'static str, kind: Kind, description: &'static str) -> Param {
    Param {
        name,
        at: "query",
        description,
        kind,
    }
}

const fn path(name: &'static str, kind: Kind, description: &'static str) -> Param {
    Param {
        name,
        at: "path",
        description,
        kind,
    }
}

const FORMAT: Param = query("format", Kind::Format, "json (default) or csv");

/// A schema built by the generator (so that shared types become components).
type Schema = fn(&mut SchemaGenerator) -> schemars::Schema;

fn schema<T: JsonSchema>(g: &mut SchemaGenerator) -> schemars::Schema {
    g.subschema_for::<T>()
}

/// What a route answers with on success.
#[derive(Debug)]
pub enum Answer {
    /// Any JSON object (the OpenAPI document itself).
    Object,
    /// `{"<name>": [item, ...]}`, or CSV with `?format=csv`.
    List(&'static str, Schema),
    /// One JSON value of the schema.
    One(Schema),
}

#[derive(Debug)]
pub struct Route {
    pub id: &'static str,
    pub method: &'static str,
    pub path: &'static str,
    pub summary: &'static str,
    pub access: Access,
    pub params: &'static [Param],
    /// Whether `?format=csv` gives the table as CSV.
    pub csv: bool,
    pub answer: Answer,
}

impl Route {
    /// The status of a successful answer: 201 when a write creates something, else 200
    /// (the settlement calculator stores nothing).
    pub fn ok_status(&self) -> &'static str {
        // Writes that add something (an intervention, a case, a commitment, …) create it;
        // marking and closing change what is there.
        let adds = self.id.starts_with("create_") || self.id.starts_with("add_");
        if self.access == Access::Write && adds {
            "201"
        } else {
            "200"
        }
    }
}

pub const ROUTES: &[Route] = &[
    Route {
        id: "openapi",
        method: "get",
        path: "/api/v1/openapi.json",
        summary: "This document",
        access: Access::Public,
        params: &[],
        csv: false,
        answer: Answer::Object,
    },
    Route {
        id: "regions",
        method: "get",
        path: "/api/v1/regions",
        summary: "NHS England's regions",
        access: Access::Public,
        params: &[FORMAT],
        csv: true,
        answer: Answer::List("regions", schema::<results::Region>),
    },
    Route {
        id: "systems",
        method: "get",
        path: "/api/v1/systems",
        summary: "Systems (ICB footprints) with their category from the system pack",
        access: Access::Public,
        params: &[query("region", Kind::Code, "a region code"), FORMAT],
        csv: true,
        answer: Answer::List("systems", schema::<api::SystemRow>),
    },
    Route {
        id: "system",
        method: "get",
        path: "/api/v1/systems/{code}",
        summary: "A system: members and their segments, its assessment; with a token in scope, its diagnosis and cases",
        access: Access::Public,
        params: &[path("code", Kind::Code, "system code")],
        csv: false,
        answer: Answer::One(schema::<api::SystemPage<'static>>),
    },
    Route {
        id: "organisations",
        method: "get",
        path: "/api/v1/organisations",
        summary: "Organisations, by kind and system",
        access: Access::Public,
        params: &[
            query("kind", Kind::OrgKind, "organisation kind, e.g. acute_trust"),
            query("system", Kind::Code, "a system code"),
            FORMAT,
        ],
        csv: true,
        answer: Answer::List("organisations", schema::<results::Organisation>),
    },
    Route {
        id: "organisation",
        method: "get",
        path: "/api/v1/organisations/{code}",
        summary: "An organisation and its assessments; with a token in scope, its interventions",
        access: Access::Public,
        params: &[path("code", Kind::Code, "organisation code")],
        csv: false,
        answer: Answer::One(schema::<api::OrganisationPage<'static>>),
    },
    Route {
        id: "indicators",
        method: "get",
        path: "/api/v1/indicators",
        summary: "The indicator catalogue",
        access: Access::Public,
        params: &[FORMAT],
        csv: true,
        answer: Answer::List("indicators", schema::<results::IndicatorMeta>),
    },
    Route {
        id: "indicator",
        method: "get",
        path: "/api/v1/indicators/{id}",
        summary: "Published values of one indicator in the tidy schema, with SPC and funnel signals",
        access: Access::Public,
        params: &[
            path("id", Kind::Code, "indicator id"),
            query(
                "entity_kind",
                Kind::EntityKind,
                "organisation, system, region or england",
            ),
            query("entity_code", Kind::Code, "the entity's code"),
            query(
                "grain",
                Kind::Grain,
                "month, quarter, financial_year or rolling_12_months",
            ),
            query("period", Kind::Period, "e.g. 2024/25 or 2025-03"),
            query(
                "limit",
                Kind::Limit,
                "rows per answer (default and most 10,000); `total` and `next_offset` page on",
            ),
            query("offset", Kind::Offset, "rows to skip"),
            FORMAT,
        ],
        csv: true,
        answer: Answer::One(schema::<api::ValuesPage<'static>>),
    },
    Route {
        id: "packs",
        method: "get",
        path: "/api/v1/packs",
        summary: "The assessment packs",
        access: Access::Public,
        params: &[],
        csv: false,
        answer: Answer::List("packs", schema::<api::PackRow>),
    },
    Route {
        id: "assessments",
        method: "get",
        path: "/api/v1/assessments/{pack}",
        summary: "A pack's assessments with their explanations",
        access: Access::Public,
        params: &[
            path("pack", Kind::Code, "pack id"),
            query("entity_code", Kind::Code, "one entity"),
            query("period", Kind::Period, "the period assessed"),
            FORMAT,
        ],
        csv: true,
        answer: Answer::One(schema::<api::AssessmentsPage<'static>>),
    },
    Route {
        id: "league",
        method: "get",
        path: "/api/v1/league/{pack}",
        summary: "A pack's league table, best first",
        access: Access::Public,
        params: &[path("pack", Kind::Code, "pack id"), FORMAT],
        csv: true,
        answer: Answer::List("league", schema::<api::LeagueRow>),
    },
    Route {
        id: "cases",
        method: "get",
        path: "/api/v1/cases",
        summary: "System cases in the token's scope",
        access: Access::Token,
        params: &[query("system", Kind::Code, "a system code"), FORMAT],
        csv: true,
        answer: Answer::List("cases", schema::<store::Case>),
    },
    Route {
        id: "case",
        method: "get",
        path: "/api/v1/cases/{id}",
        summary: "A system case: diagnosis, recovery plan, exit criteria, progress, trajectories and conflicts",
        access: Access::Token,
        params: &[path("id", Kind::Id, "case number")],
        csv: false,
        answer: Answer::One(schema::<api::CasePage>),
    },
    Route {
        id: "plan",
        method: "get",
        path: "/api/v1/cases/{id}/plan",
        summary: "A case's recovery plan: every stakeholder's commitments with levers and milestones",
        access: Access::Token,
        params: &[path("id", Kind::Id, "case number"), FORMAT],
        csv: true,
        answer: Answer::List("commitments", schema::<api::PlanRow<'static>>),
    },
    Route {
        id: "interventions",
        method: "get",
        path: "/api/v1/interventions",
        summary: "Interventions in the token's scope",
        access: Access::Token,
        params: &[query("system", Kind::Code, "a system code"), FORMAT],
        csv: true,
        answer: Answer::List("interventions", schema::<store::Intervention>),
    },
    Route {
        id: "create_intervention",
        method: "post",
        path: "/api/v1/interventions",
        summary: "Open an intervention (audited under the token's name)",
        access: Access::Write,
        params: &[],
        csv: false,
        answer: Answer::One(schema::<store::Intervention>),
    },
    Route {
        id: "close_intervention",
        method: "post",
        path: "/api/v1/interventions/{id}/close",
        summary: "Close an intervention, saying why (audited)",
        access: Access::Write,
        params: &[path("id", Kind::Id, "intervention number")],
        csv: false,
        answer: Answer::One(schema::<store::Intervention>),
    },
    Route {
        id: "create_case",
        method: "post",
        path: "/api/v1/cases",
        summary: "Open a case for a system by hand (audited); 409 when it has one open",
        access: Access::Write,
        params: &[],
        csv: false,
        answer: Answer::One(schema::<store::Case>),
    },
    Route {
        id: "add_commitment",
        method: "post",
        path: "/api/v1/cases/{id}/commitments",
        summary: "Add a stakeholder's commitment to a case's recovery plan: care model, levers, milestone date",
        access: Access::Write,
        params: &[path("id", Kind::Id, "case number")],
        csv: false,
        answer: Answer::One(schema::<store::Case>),
    },
    Route {
        id: "change_commitment",
        method: "post",
        path: "/api/v1/cases/{id}/commitments/{item}",
        summary: "Change a commitment not yet delivered: its description, milestone date or levers (replaced as a whole); audited with before and after",
        access: Access::Write,
        params: &[
            path("id", Kind::Id, "case number"),
            path("item", Kind::Id, "commitment number"),
        ],
        csv: false,
        answer: Answer::One(schema::<store::Case>),
    },
    Route {
        id: "deliver_commitment",
        method: "post",
        path: "/api/v1/cases/{id}/commitments/{item}/delivered",
        summary: "Mark a commitment's milestone delivered",
        access: Access::Write,
        params: &[
            path("id", Kind::Id, "case number"),
            path("item", Kind::Id, "commitment number"),
        ],
        csv: false,
        answer: Answer::One(schema::<store::Case>),
    },
    Route {
        id: "add_exit_criterion",
        method: "post",
        path: "/api/v1/cases/{id}/exit-criteria",
        summary: "Add an exit criterion to a case",
        access: Access::Write,
        params: &[path("id", Kind::Id, "case number")],
        csv: false,
        answer: Answer::One(schema::<store::Case>),
    },
    Route {
        id: "meet_exit_criterion",
        method: "post",
        path: "/api/v1/cases/{id}/exit-criteria/{item}/met",
        summary: "Mark an exit criterion met",
        access: Access::Write,
        params: &[
            path("id", Kind::Id, "case number"),
            path("item", Kind::Id, "exit criterion number"),
        ],
        csv: false,
        answer: Answer::One(schema::<store::Case>),
    },
    Route {
        id: "add_trajectory",
        method: "post",
        path: "/api/v1/cases/{id}/trajectories",
        summary: "Add a trajectory: an indicator value the system commits to reach by a period",
        access: Access::Write,
        params: &[path("id", Kind::Id, "case number")],
        csv: false,
        answer: Answer::One(schema::<store::Case>),
    },
    Route {
        id: "add_progress",
        method: "post",
        path: "/api/v1/cases/{id}/progress",
        summary: "Record a progress note on a case",
        access: Access::Write,
        params: &[path("id", Kind::Id, "case number")],
        csv: false,
        answer: Answer::One(schema::<store::Case>),
    },
    Route {
        id: "close_case",
        method: "post",
        path: "/api/v1/cases/{id}/close",
        summary: "Close a case: every exit criterion met, or an override saying why not",
        access: Access::Write,
        params: &[path("id", Kind::Id, "case number")],
        csv: false,
        answer: Answer::One(schema::<store::Case>),
    },
    Route {
        id: "returns",
        method: "get",
        path: "/api/v1/returns",
        summary: "The reporting calendar: every return the organisations and systems in the token's scope owe at their outcome's frequency, and where each stands (submitted, overdue, due, open)",
        access: Access::Token,
        params: &[
            query("status", Kind::ReturnStatus, "only returns of this status"),
            query(
                "system",
                Kind::Code,
                "a system: its own returns and its organisations'",
            ),
            query("entity", Kind::Code, "an organisation or system code"),
            query(
                "limit",
                Kind::Limit,
                "returns per answer (default and most 10,000)",
            ),
            query("offset", Kind::Offset, "returns to skip"),
        ],
        csv: false,
        answer: Answer::One(schema::<returns::ReturnsPage>),
    },
    Route {
        id: "create_return",
        method: "post",
        path: "/api/v1/returns",
        summary: "Record a return as submitted (audited); 422 when the calendar does not owe it or it is already recorded",
        access: Access::Write,
        params: &[],
        csv: false,
        answer: Answer::One(schema::<store::Return>),
    },
    Route {
        id: "feed",
        method: "get",
        path: "/api/v1/feed",
        summary: "What changed in the register for the token's scope since a moment: cases, commitments, criteria, trajectories, progress, interventions, overdue milestones and standing conflicts; JSON or Atom",
        access: Access::Token,
        params: &[
            query(
                "since",
                Kind::Since,
                "only what happened after this date or UTC instant",
            ),
            query("format", Kind::FeedFormat, "json (default) or atom"),
            query("limit", Kind::Limit, "items per answer (default and most 10,000)"),
            query("offset", Kind::Offset, "items to skip"),
        ],
        csv: false,
        answer: Answer::One(schema::<crate::feed::FeedPage>),
    },
    Route {
        id: "budgets_settle",
        method: "post",
        path: "/api/v1/budgets/settle",
        summary: "Settle a risk-share, pooled or alliance budget: each party's transfer with the arithmetic",
        access: Access::Public,
        params: &[],
        csv: false,
        answer: Answer::One(schema::<budgets::settle::Settlement>),
    },
    Route {
        id: "conflicts",
        method: "get",
        path: "/api/v1/conflicts",
        summary: "Conflicting interventions in the token's scope (every organisation, system, case and intervention a conflict names), explained",
        access: Access::Token,
        params: &[
            query("system", Kind::Code, "a system code"),
            query(
                "limit",
                Kind::Limit,
                "conflicts per answer (default and most 10,000); `total` and `next_offset` page on",
            ),
            query("offset", Kind::Offset, "conflicts to skip"),
            FORMAT,
        ],
        csv: true,
        answer: Answer::One(schema::<api::ConflictsPage>),
    },
    Route {
        id: "capacity",
        method: "get",
        path: "/api/v1/capacity",
        summary: "Heads and beds: every system's beds and workforce against projected demand, which add up, rolled up to regions and England",
        access: Access::Public,
        params: &[],
        csv: false,
        answer: Answer::One(schema::<crate::capacity::England>),
    },
    Route {
        id: "capacity_system",
        method: "get",
        path: "/api/v1/capacity/systems/{code}",
        summary: "One system's heads and beds: each bed group and staff group against the requirement (p10, mean, p90), its trusts, the waterfall from baseline, and why it does or does not add up",
        access: Access::Public,
        params: &[path("code", Kind::Code, "a system code")],
        csv: false,
        answer: Answer::One(schema::<capacity::plan::SystemReport>),
    },
    Route {
        id: "capacity_check",
        method: "post",
        path: "/api/v1/capacity/check",
        summary: "Check a plan (CSV of beds, bed days, admissions and WTE by organisation; with register: true, also the open cases' commitments a token may see) against projected demand from the published baseline: the systems it touches, with every flag's arithmetic",
        access: Access::Public,
        params: &[],
        csv: false,
        answer: Answer::One(schema::<crate::capacity::Checked>),
    },
    Route {
        id: "evaluation_library",
        method: "get",
        path: "/api/v1/evaluation/library",
        summary: "The learning library: every new care model site with what was tried (model, terms, the register's interventions in its system), its evaluated effects (difference-in-differences against matched practices with the event study, synthetic control with placebo p, interrupted time series) under a registered protocol, how each estimate moved month by month, and similar sites; from the published table",
        access: Access::Public,
        params: &[
            query(
                "model",
                Kind::Code,
                "a care model, e.g. multispecialty_community_provider",
            ),
            query("outcome", Kind::Code, "an outcome indicator id"),
            query(
                "effect",
                Kind::Code,
                "lower, higher or none (the difference-in-differences call)",
            ),
        ],
        csv: false,
        answer: Answer::One(schema::<crate::evaluation::LibraryView>),
    },
    Route {
        id: "evaluation_site",
        method: "get",
        path: "/api/v1/evaluation/sites/{id}",
        summary: "One site's learning-library entry",
        access: Access::Public,
        params: &[path("id", Kind::Code, "a site id")],
        csv: false,
        answer: Answer::One(schema::<evaluation::library::Entry>),
    },
    Route {
        id: "programme",
        method: "get",
        path: "/api/v1/programme",
        summary: "The new care models programme: care models, applications with their peer-review ranking, appraisal and refusals, the selection and what binds, the transformation fund's drawdown against decommissioning milestones (slipping and drift to deficit support flagged), flexibilities",
        access: Access::Token,
        params: &[query(
            "as_of",
            Kind::Date,
            "the date drawdown is shown at (default: the dataset's last day)",
        )],
        csv: false,
        answer: Answer::One(schema::<crate::programme::ProgrammeView>),
    },
    Route {
        id: "add_programme_review",
        method: "post",
        path: "/api/v1/programme/reviews",
        summary: "Record a peer review of an application (audited; one per reviewer and application; a declared conflict is recorded and not counted)",
        access: Access::Write,
        params: &[],
        csv: false,
        answer: Answer::One(schema::<programme::review::Review>),
    },
    Route {
        id: "programme_milestone_met",
        method: "post",
        path: "/api/v1/programme/milestones/{id}/met",
        summary: "Record a decommissioning milestone as met (audited)",
        access: Access::Write,
        params: &[path("id", Kind::Id, "a milestone number")],
        csv: false,
        answer: Answer::One(schema::<programme::fund::Milestone>),
    },
    Route {
        id: "programme_tranche_release",
        method: "post",
        path: "/api/v1/programme/tranches/{id}/release",
        summary: "Release a tranche of the transformation fund (audited); 422 unless its decommissioning milestone is met",
        access: Access::Write,
        params: &[path("id", Kind::Id, "a tranche number")],
        csv: false,
        answer: Answer::One(schema::<programme::fund::Tranche>),
    },
    Route {
        id: "add_programme_flexibility",
        method: "post",
        path: "/api/v1/programme/flexibilities",
        summary: "Record a procurement waiver, a legal-advice request and its answer, or a conflict of interest for a new care model (audited)",
        access: Access::Write,
        params: &[],
        csv: false,
        answer: Answer::One(schema::<programme::office::Flexibility>),
    },
];

fn handler(id: &str) -> MethodRouter<Shared> {
    match id {
        "openapi" => get(
            |axum::extract::State(s): axum::extract::State<Shared>| async move {
                let body = s
                    .openapi
                    .get_or_init(|| serde_json::to_vec(&document_for(&s)).unwrap_or_default().into())
                    .clone();
                ([(axum::http::header::CONTENT_TYPE, "application/json")], body)
            },
        ),
        "regions" => get(api::regions),
        "systems" => get(api::systems),
        "system" => get(api::system),
        "organisations" => get(api::organisations),
        "organisation" => get(api::organisation),
        "indicators" => get(api::indicators),
        "indicator" => get(api::indicator),
        "packs" => get(api::packs),
        "assessments" => get(api::assessments),
        "league" => get(api::league),
        "cases" => get(api::cases),
        "case" => get(api::case),
        "plan" => get(api::plan),
        "interventions" => get(api::interventions),
        "create_intervention" => post(api::create_intervention),
        "close_intervention" => post(write::close_intervention),
        "create_case" => post(write::create_case),
        "add_commitment" => post(write::add_commitment),
        "deliver_commitment" => post(write::deliver_commitment),
        "change_commitment" => post(write::change_commitment),
        "add_exit_criterion" => post(write::add_exit_criterion),
        "meet_exit_criterion" => post(write::meet_exit_criterion),
        "add_trajectory" => post(write::add_trajectory),
        "add_progress" => post(write::add_progress),
        "close_case" => post(write::close_case),
        "conflicts" => get(api::conflicts),
        "feed" => get(crate::feed::feed),
        "returns" => get(returns::list),
        "create_return" => post(returns::create),
        "budgets_settle" => post(api::budgets_settle),
        "capacity" => get(crate::capacity::england),
        "capacity_system" => get(crate::capacity::system),
        "capacity_check" => post(crate::capacity::check_route),
        "programme" => get(crate::programme::get_programme),
        "evaluation_library" => get(crate::evaluation::library),
        "evaluation_site" => get(crate::evaluation::site),
        "add_programme_review" => post(crate::programme::post_review),
        "programme_milestone_met" => post(crate::programme::post_milestone_met),
        "programme_tranche_release" => post(crate::programme::post_tranche_release),
        "add_programme_flexibility" => post(crate::programme::post_flexibility),
        other => unreachable!("route {other} in ROUTES has no handler"),
    }
}

/// The API, built from [`ROUTES`].
pub fn api_router() -> Router<Shared> {
    let mut by_path: Vec<(&str, MethodRouter<Shared>)> = Vec::new();
    for r in ROUTES {
        match by_path.iter_mut().find(|(p, _)| *p == r.path) {
            Some((_, m)) => *m = std::mem::take(m).merge(handler(r.id)),
            None => by_path.push((r.path, handler(r.id))),
        }
    }
    by_path
        .into_iter()
        .fold(Router::new(), |router, (p, m)| router.route(p, m))
}

/// The document with an example of every code parameter taken from the served results (a
/// system, an acute trust, a region, an indicator, a pack), so that a reader, or a client
/// that tries the examples, reaches real answers.
pub fn document_for(s: &crate::State) -> Value {
    let mut doc = document();
    // The kinds this register accepts: its registry, which a deployment may have extended.
    doc["components"]["schemas"]["NewIntervention"]["properties"]["kind"]["enum"] = json!(s.db.kinds().ids());
    let r = &s.results;
    let system = r.systems.first().map(|x| x.code.clone());
    let trust = r
        .organisations
        .iter()
        .find(|o| o.kind == "acute_trust")
        .or(r.organisations.first())
        .map(|o| o.code.clone());
    let region = r.regions.first().map(|x| x.code.clone());
    let indicator = r
        .indicator("ae_4h")
        .or(r.indicators.first())
        .map(|i| i.id.clone());
    let pack = r
        .assessments
        .keys()
        .find(|p| *p == "system-2015")
        .or(r.assessments.keys().next())
        .cloned();
    for route in ROUTES {
        for (i, p) in route.params.iter().enumerate() {
            let example = match (route.id, p.name) {
                (
                    "system" | "systems" | "capacity_system" | "cases" | "interventions" | "conflicts"
                    | "organisations" | "returns",
                    "code" | "system",
                ) => system.clone(),
                (_, "region") => region.clone(),
                ("organisation", "code") => trust.clone(),
                ("indicator", "entity_code") => system.clone(),
                ("indicator", "entity_kind") => Some("system".into()),
                ("indicator", "id") => indicator.clone(),
                (_, "pack") => pack.clone(),
                _ => None,
            };
            if let Some(e) = example {
                doc["paths"][route.path][route.method]["parameters"][i]["example"] = json!(e);
            }
        }
    }
    doc
}

/// A parameter's schema: exactly what its handler accepts.
fn param_schema(kind: Kind) -> Value {
    match kind {
        Kind::Code => json!({"type": "string", "pattern": "^[A-Za-z0-9_-]{1,32}$"}),
        Kind::Format => json!({"type": "string", "enum": ["json", "csv"]}),
        Kind::EntityKind => json!({"type": "string", "enum": api::ENTITY_KINDS}),
        Kind::OrgKind => json!({"type": "string", "enum": api::org_kinds()}),
        Kind::Grain => json!({"type": "string", "enum": api::GRAINS}),
        Kind::Period => json!({"type": "string", "pattern": "^[A-Za-z0-9 /-]{1,24}$"}),
        Kind::Limit => json!({"type": "integer", "minimum": 1, "maximum": api::MAX_LIMIT}),
        Kind::Offset => json!({"type": "integer", "minimum": 0, "maximum": api::MAX_OFFSET}),
        Kind::Id => json!({"type": "integer", "format": "int64", "minimum": 1, "maximum": i64::MAX}),
        Kind::FeedFormat => json!({"type": "string", "enum": ["json", "atom"]}),
        Kind::ReturnStatus => json!({"type": "string", "enum": returns::STATUSES}),
        Kind::Date => json!({"type": "string", "format": "date"}),
        Kind::Since => {
            json!({"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]{1,9})?)?Z)?$"})
        }
    }
}

/// A request body's schema, every part inline.
fn request_schema<T: JsonSchema>() -> Value {
    let mut g = SchemaSettings::openapi3()
        .for_deserialize()
        .with(|s| s.inline_subschemas = true)
        .into_generator();
    let mut v = g.root_schema_for::<T>().to_value();
    if let Some(m) = v.as_object_mut() {
        m.remove("$schema");
        m.remove("title");
    }
    v
}

/// A POST route's request body: its schema's name and the schema (deserialize contract).
fn request_body(id: &str) -> (&'static str, fn() -> Value) {
    match id {
        "budgets_settle" => ("SettleRequest", request_schema::<api::SettleRequest>),
        "capacity_check" => ("CapacityCheck", request_schema::<crate::capacity::CheckRequest>),
        "add_programme_review" => ("NewReview", request_schema::<crate::programme::NewReview>),
        "programme_milestone_met" | "programme_tranche_release" => {
            ("OnDate", request_schema::<crate::programme::OnDate>)
        }
        "add_programme_flexibility" => (
            "NewFlexibility",
            request_schema::<crate::programme::NewFlexibility>,
        ),
        "create_intervention" => ("NewIntervention", request_schema::<store::NewIntervention>),
        "close_intervention" => ("CloseIntervention", request_schema::<write::CloseIntervention>),
        "create_case" => ("NewCase", request_schema::<write::NewCase>),
        "add_commitment" => ("NewCommitment", request_schema::<store::NewCommitment>),
        "add_exit_criterion" => ("NewExitCriterion", request_schema::<write::NewExitCriterion>),
        "add_trajectory" => ("NewTrajectory", request_schema::<write::NewTrajectory>),
        "add_progress" => ("NewProgress", request_schema::<write::NewProgress>),
        "close_case" => ("CloseCase", request_schema::<write::CloseCase>),
        "create_return" => ("NewReturn", request_schema::<returns::NewReturn>),
        "change_commitment" => ("CommitmentChange", request_schema::<store::CommitmentChange>),
        "deliver_commitment" | "meet_exit_criterion" => ("Mark", request_schema::<write::Mark>),
        other => unreachable!("POST route {other} has no request body"),
    }
}

/// The error statuses a route can answer with.
fn error_statuses(r: &Route) -> Vec<&'static str> {
    // Every route: a malformed request, a bad token (401, then 429 when repeated), and an
    // overloaded or slow server (503).
    let mut out = vec!["400", "401", "429", "503"];
    if r.params.iter().any(|p| p.at == "path") {
        out.push("404");
    }
    if r.access == Access::Write {
        out.extend(["403", "404"]);
    }
    if r.method == "post" {
        out.extend(["413", "415", "422"]);
    }
    if r.id.starts_with("capacity") {
        // A dataset without spells or a whole year has no heads-and-beds figures.
        out.push("404");
    }
    if r.id == "create_case" || (r.access == Access::Write && r.path.starts_with("/api/v1/programme/")) {
        // The system already has an open case; a review already recorded, a milestone already
        // met, a tranche already released or its milestone not yet met.
        out.push("409");
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// The OpenAPI 3.0 document: every parameter with the rules its handler checks, and every
/// answer with its schema, derived from the types the handlers serialise.
pub fn document() -> Value {
    let error = json!({"$ref": "#/components/schemas/Error"});
    let mut g = SchemaSettings::openapi3().for_serialize().into_generator();
    let mut paths = serde_json::Map::new();
    for r in ROUTES {
        let mut responses = serde_json::Map::new();
        let ok = r.ok_status();
        let body = match &r.answer {
            Answer::Object => json!({"type": "object"}),
            Answer::List(name, item) => json!({
                "type": "object",
                "required": [name],
                "properties": {*name: {"type": "array", "items": item(&mut g).to_value()}},
            }),
            Answer::One(s) => s(&mut g).to_value(),
        };
        let mut content = json!({"application/json": {"schema": body}});
        if r.csv {
            content["text/csv"] = json!({"schema": {"type": "string"}});
        }
        if r.id == "feed" {
            content["application/atom+xml"] = json!({"schema": {"type": "string"}});
        }
        responses.insert(ok.into(), json!({"description": "OK", "content": content}));
        for e in error_statuses(r) {
            responses.insert(
                e.into(),
                json!({"description": "Error", "content": {"application/json": {"schema": error}}}),
            );
        }
        let parameters: Vec<Value> = r
            .params
            .iter()
            .map(|p| {
                json!({
                    "name": p.name,
                    "in": p.at,
                    "required": p.at == "path",
                    "description": p.description,
                    "schema": param_schema(p.kind),
                })
            })
            .collect();
        let mut op = json!({
            "operationId": r.id,
            "summary": r.summary,
            "parameters": parameters,
            "responses": responses,
            "x-access": format!("{:?}", r.access).to_lowercase(),
        });
        if r.access != Access::Public {
            op["security"] = json!([{"bearer": []}]);
        }
        if r.method == "post" {
            let schema = request_body(r.id).0;
            let mut media = json!({"schema": {"$ref": format!("#/components/schemas/{schema}")}});
            if r.id == "budgets_settle" {
                // Terms are TOML inside the JSON; an example shows the shape of a valid one.
                media["example"] = json!({
                    "terms": "kind = \"gain_loss_share\"\ntarget = 100000000\ndead_band = 0.01\ndead_band_mode = \"threshold\"\n[[party]]\nname = \"Acute trust\"\ngain_share = 0.5\nloss_share = 0.5\n[[party]]\nname = \"Commissioner\"\nremainder = true\n",
                    "actual": 104000000.0,
                });
            }
            op["requestBody"] = json!({"required": true, "content": {"application/json": media}});
        }
        paths
            .entry(r.path)
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .map(|m| m.insert(r.method.into(), op));
    }
    let mut schemas = g.take_definitions(true);
    schemas.insert(
        "Error".into(),
        json!({"type": "object", "required": ["code", "message"], "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "hint": {"type": "string"}}}),
    );
    for r in ROUTES.iter().filter(|r| r.method == "post") {
        let (name, body) = request_body(r.id);
        schemas.insert(name.into(), body());
    }
    let mut new = schemas["NewIntervention"].clone();
    // What the register checks beyond the types: the kinds, levers and dates it accepts.
    let props = &mut new["properties"];
    props["target_kind"]["enum"] = json!(["organisation", "system"]);
    props["kind"]["enum"] = json!(store::Kinds::builtin().ids());
    props["expiry"]["format"] = json!("date");
    props["partner"] = param_schema(Kind::Code);
    props["start_date"]["format"] = json!("date");
    props["deadline"]["format"] = json!("date");
    props["levers"]["items"]["properties"]["lever"]["enum"] =
        json!(store::LEVERS.iter().map(|l| l.0).collect::<Vec<_>>());
    props["target_code"] = param_schema(Kind::Code);
    let lever = &mut props["levers"]["items"]["properties"];
    lever["org_code"] = param_schema(Kind::Code);
    lever["to_org_code"] = param_schema(Kind::Code);
    lever["to_org_code"]["nullable"] = json!(true);
    props["levers"]["maxItems"] = json!(api::MAX_LEVERS);
    let levers = new["properties"]["levers"].clone();
    schemas.insert("NewIntervention".into(), new);
    let mut commitment = schemas["NewCommitment"].clone();
    let props = &mut commitment["properties"];
    props["stakeholder_kind"]["enum"] = json!(store::STAKEHOLDER_KINDS);
    props["care_model"]["enum"] = json!(store::CARE_MODELS);
    props["due"]["format"] = json!("date");
    props["levers"] = levers;
    schemas.insert("NewCommitment".into(), commitment);
    // The programme's dates and kinds of flexibility.
    for (name, field) in [("OnDate", "date"), ("NewFlexibility", "on_date")] {
        schemas[name]["properties"][field]["format"] = json!("date");
    }
    schemas["NewFlexibility"]["properties"]["kind"]["enum"] = json!(programme::office::FLEXIBILITIES);
    let mut trajectory = schemas["NewTrajectory"].clone();
    let props = &mut trajectory["properties"];
    props["indicator"] = param_schema(Kind::Code);
    props["grain"] = param_schema(Kind::Grain);
    props["period"] = param_schema(Kind::Period);
    props["direction"]["enum"] = json!(["higher", "lower", null]);
    schemas.insert("NewTrajectory".into(), trajectory);
    if let Some(case) = schemas.get_mut("NewCase") {
        case["properties"]["system_code"] = param_schema(Kind::Code);
    }
    json!({
        "openapi": "3.0.3",
        "info": {"title": "Footprint", "version": "1", "description": "Whole-system oversight of local health economies in England. Unauthenticated callers see published, disclosure-controlled aggregates; tokens see the register's detail within their scope."},
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": schemas,
        }
    })
}
