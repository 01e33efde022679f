//! The API's route table: the router is built from it and the OpenAPI 3 document is generated
//! from it, so the two cannot drift apart.

use crate::{Shared, api};
use axum::Router;
use axum::routing::{MethodRouter, get, post};
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

#[derive(Debug)]
pub struct Route {
    pub id: &'static str,
    pub method: &'static str,
    pub path: &'static str,
    pub summary: &'static str,
    pub access: Access,
    /// (name, where, required, description)
    pub params: &'static [(&'static str, &'static str, bool, &'static str)],
    /// Whether `?format=csv` gives the table as CSV.
    pub csv: bool,
}

const FORMAT: (&str, &str, bool, &str) = ("format", "query", false, "json (default) or csv");

pub const ROUTES: &[Route] = &[
    Route {
        id: "openapi",
        method: "get",
        path: "/api/v1/openapi.json",
        summary: "This document",
        access: Access::Public,
        params: &[],
        csv: false,
    },
    Route {
        id: "regions",
        method: "get",
        path: "/api/v1/regions",
        summary: "NHS England's regions",
        access: Access::Public,
        params: &[FORMAT],
        csv: true,
    },
    Route {
        id: "systems",
        method: "get",
        path: "/api/v1/systems",
        summary: "Systems (ICB footprints) with their category from the system pack",
        access: Access::Public,
        params: &[("region", "query", false, "a region code"), FORMAT],
        csv: true,
    },
    Route {
        id: "system",
        method: "get",
        path: "/api/v1/systems/{code}",
        summary: "A system: members and their segments, its assessment; with a token in scope, its diagnosis and cases",
        access: Access::Public,
        params: &[("code", "path", true, "system code")],
        csv: false,
    },
    Route {
        id: "organisations",
        method: "get",
        path: "/api/v1/organisations",
        summary: "Organisations, by kind and system",
        access: Access::Public,
        params: &[
            ("kind", "query", false, "organisation kind, e.g. acute_trust"),
            ("system", "query", false, "a system code"),
            FORMAT,
        ],
        csv: true,
    },
    Route {
        id: "organisation",
        method: "get",
        path: "/api/v1/organisations/{code}",
        summary: "An organisation and its assessments; with a token in scope, its interventions",
        access: Access::Public,
        params: &[("code", "path", true, "organisation code")],
        csv: false,
    },
    Route {
        id: "indicators",
        method: "get",
        path: "/api/v1/indicators",
        summary: "The indicator catalogue",
        access: Access::Public,
        params: &[FORMAT],
        csv: true,
    },
    Route {
        id: "indicator",
        method: "get",
        path: "/api/v1/indicators/{id}",
        summary: "Published values of one indicator in the tidy schema, with SPC and funnel signals",
        access: Access::Public,
        params: &[
            ("id", "path", true, "indicator id"),
            (
                "entity_kind",
                "query",
                false,
                "organisation, system, region or england",
            ),
            (
                "entity_code",
                "query",
                false,
                "the entity's code (needs entity_kind)",
            ),
            (
                "grain",
                "query",
                false,
                "month, quarter, financial_year or rolling_12_months",
            ),
            ("period", "query", false, "e.g. 2024/25 or 2025-03"),
            (
                "limit",
                "query",
                false,
                "rows per answer (default and most 10,000); `total` and `next_offset` page on",
            ),
            ("offset", "query", false, "rows to skip"),
            FORMAT,
        ],
        csv: true,
    },
    Route {
        id: "packs",
        method: "get",
        path: "/api/v1/packs",
        summary: "The assessment packs",
        access: Access::Public,
        params: &[],
        csv: false,
    },
    Route {
        id: "assessments",
        method: "get",
        path: "/api/v1/assessments/{pack}",
        summary: "A pack's assessments with their explanations",
        access: Access::Public,
        params: &[
            ("pack", "path", true, "pack id"),
            ("entity_code", "query", false, "one entity"),
            ("period", "query", false, "the period assessed"),
            FORMAT,
        ],
        csv: true,
    },
    Route {
        id: "league",
        method: "get",
        path: "/api/v1/league/{pack}",
        summary: "A pack's league table, best first",
        access: Access::Public,
        params: &[("pack", "path", true, "pack id"), FORMAT],
        csv: true,
    },
    Route {
        id: "cases",
        method: "get",
        path: "/api/v1/cases",
        summary: "System cases in the token's scope",
        access: Access::Token,
        params: &[("system", "query", false, "a system code"), FORMAT],
        csv: true,
    },
    Route {
        id: "case",
        method: "get",
        path: "/api/v1/cases/{id}",
        summary: "A system case: diagnosis, recovery plan, exit criteria, progress, trajectories and conflicts",
        access: Access::Token,
        params: &[("id", "path", true, "case number")],
        csv: false,
    },
    Route {
        id: "plan",
        method: "get",
        path: "/api/v1/cases/{id}/plan",
        summary: "A case's recovery plan: every stakeholder's commitments with levers and milestones",
        access: Access::Token,
        params: &[("id", "path", true, "case number"), FORMAT],
        csv: true,
    },
    Route {
        id: "interventions",
        method: "get",
        path: "/api/v1/interventions",
        summary: "Interventions in the token's scope",
        access: Access::Token,
        params: &[("system", "query", false, "a system code"), FORMAT],
        csv: true,
    },
    Route {
        id: "create_intervention",
        method: "post",
        path: "/api/v1/interventions",
        summary: "Open an intervention (audited under the token's name)",
        access: Access::Write,
        params: &[],
        csv: false,
    },
    Route {
        id: "budgets_settle",
        method: "post",
        path: "/api/v1/budgets/settle",
        summary: "Settle a risk-share, pooled or alliance budget: each party's transfer with the arithmetic",
        access: Access::Public,
        params: &[],
        csv: false,
    },
    Route {
        id: "conflicts",
        method: "get",
        path: "/api/v1/conflicts",
        summary: "Conflicting interventions in the token's scope (every organisation, system, case and intervention a conflict names), explained",
        access: Access::Token,
        params: &[
            ("system", "query", false, "a system code"),
            (
                "limit",
                "query",
                false,
                "conflicts per answer (default and most 10,000); `total` and `next_offset` page on",
            ),
            ("offset", "query", false, "conflicts to skip"),
            FORMAT,
        ],
        csv: true,
    },
];

fn handler(id: &str) -> MethodRouter<Shared> {
    match id {
        "openapi" => get(|| async { axum::Json(document()) }),
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
        "conflicts" => get(api::conflicts),
        "budgets_settle" => post(api::budgets_settle),
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

/// The OpenAPI 3.0 document.
pub fn document() -> Value {
    let error = json!({"$ref": "#/components/schemas/Error"});
    let mut paths = serde_json::Map::new();
    for r in ROUTES {
        let mut responses = serde_json::Map::new();
        let ok = if r.method == "post" { "201" } else { "200" };
        let mut content = json!({"application/json": {"schema": {"type": "object"}}});
        if r.csv {
            content["text/csv"] = json!({"schema": {"type": "string"}});
        }
        responses.insert(ok.into(), json!({"description": "OK", "content": content}));
        let mut errors = vec!["400", "404"];
        if r.access != Access::Public {
            errors.extend(["401", "403", "429"]);
        }
        if r.method == "post" {
            errors.extend(["413", "422"]);
        }
        for e in errors {
            responses.insert(
                e.into(),
                json!({"description": "Error", "content": {"application/json": {"schema": error}}}),
            );
        }
        let mut op = json!({
            "operationId": r.id,
            "summary": r.summary,
            "parameters": r.params.iter().map(|(n, at, req, d)| json!({"name": n, "in": at, "required": req, "description": d, "schema": {"type": "string"}})).collect::<Vec<_>>(),
            "responses": responses,
            "x-access": format!("{:?}", r.access).to_lowercase(),
        });
        if r.access != Access::Public {
            op["security"] = json!([{"bearer": []}]);
        }
        if r.method == "post" {
            let schema = if r.id == "budgets_settle" {
                "SettleRequest"
            } else {
                "NewIntervention"
            };
            op["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}});
        }
        paths
            .entry(r.path)
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .map(|m| m.insert(r.method.into(), op));
    }
    json!({
        "openapi": "3.0.3",
        "info": {"title": "Footprint", "version": "1", "description": "Whole-system oversight of local health economies in England. Unauthenticated callers see published, disclosure-controlled aggregates; tokens see the register's detail within their scope."},
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "SettleRequest": {"type": "object", "required": ["terms"], "properties": {
                    "terms": {"type": "string", "description": "the arrangement's terms as TOML (docs/budgets.md)"},
                    "actual": {"type": "number"},
                    "outturn": {"type": "array", "items": {"type": "object", "required": ["party", "outturn"], "properties": {"party": {"type": "string"}, "outturn": {"type": "number"}, "target": {"type": "number"}, "activity": {"type": "number"}, "quality": {"type": "number"}}}},
                    "high_cost": {"type": "array", "items": {"type": "number"}}
                }},
                "Error": {"type": "object", "required": ["code", "message"], "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "hint": {"type": "string"}}},
                "NewIntervention": {"type": "object", "required": ["regulator", "target_kind", "target_code", "kind", "legal_basis", "actions", "start_date", "levers"], "properties": {
                    "regulator": {"type": "string"}, "target_kind": {"type": "string", "enum": ["organisation", "system"]}, "target_code": {"type": "string"},
                    "kind": {"type": "string", "enum": store::INTERVENTION_KINDS}, "legal_basis": {"type": "string"}, "actions": {"type": "array", "items": {"type": "string"}},
                    "start_date": {"type": "string", "format": "date"}, "deadline": {"type": "string", "format": "date"}, "case_id": {"type": "integer"},
                    "levers": {"type": "array", "items": {"type": "object", "required": ["org_code", "lever", "amount"], "properties": {"org_code": {"type": "string"}, "lever": {"type": "string"}, "amount": {"type": "number"}, "to_org_code": {"type": "string"}}}}
                }}
            }
        }
    })
}
