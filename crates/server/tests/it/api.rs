//! Every route, the authorisation matrix, disclosure control and the one write.

use crate::{App, app, call, get};
use axum::http::StatusCode;
use serde_json::Value;
use server::openapi::{Access, ROUTES};

/// A route's path with its parameters filled in for `app` (in scope of every scoped token
/// when `inside`, else out of the scoped tokens' scope).
fn concrete(app: &App, path: &str, inside: bool) -> String {
    let (system, trust) = if inside {
        (&app.system, &app.trust)
    } else {
        (&app.other_system, &app.other_trust)
    };
    path.replace("/systems/{code}", &format!("/systems/{system}"))
        .replace("/organisations/{code}", &format!("/organisations/{trust}"))
        .replace("/indicators/{id}", "/indicators/ae_4h")
        .replace(
            "/cases/{id}",
            &format!("/cases/{}", if inside { app.case_id } else { 999_999 }),
        )
        .replace("{pack}", "system-2015")
        .replace("/evaluation/sites/{id}", "/evaluation/sites/vanguard-1")
}

fn body(app: &App, target: &str) -> String {
    serde_json::json!({
        "regulator": "nhs_england",
        "target_kind": "organisation",
        "target_code": target,
        "kind": "capacity_support",
        "provider": "management consultants",
        "cost": 250000.0,
        "legal_basis": "NHS Act 2006 s.13Z",
        "actions": ["share a chief executive"],
        "start_date": "2025-05-01",
        "deadline": "2025-12-31",
        // The case belongs with a target in its system.
        "case_id": (target == app.trust).then_some(app.case_id),
        "levers": [],
    })
    .to_string()
}

/// The writes that change a case or close an intervention: each call changes what the next
/// one finds, so `write.rs` walks them (answers, schemas and the matrix) on fresh cases.
pub(crate) fn changes_a_case(r: &server::openapi::Route) -> bool {
    r.access == Access::Write && r.id != "create_intervention" && !programme_write(r)
}

/// The programme office's writes: not scoped to a system or organisation, so not in the
/// generic matrices; `programme.rs` tests each with every role.
pub(crate) fn programme_write(r: &server::openapi::Route) -> bool {
    r.access == Access::Write && r.path.starts_with("/api/v1/programme/")
}

const TERMS: &str = include_str!("../../../../examples/terms/gain_loss_share.toml");

/// The body a POST route is called with.
fn post_body(app: &App, id: &str, target: &str) -> String {
    if id == "budgets_settle" {
        serde_json::json!({"terms": TERMS, "actual": 103_000_000.0}).to_string()
    } else if id == "capacity_check" {
        let year = app
            .state
            .results
            .capacity
            .as_ref()
            .map(|r| r.plan_year.clone())
            .unwrap_or_default();
        let plan = format!("period,org_code,measure,category,value\n{year},{target},beds,ga,10\n");
        serde_json::json!({"plan": plan, "runs": 20}).to_string()
    } else {
        body(app, target)
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_documented_route_answers_and_the_document_matches_the_router() {
    let app = app().await;
    let national = app.token("national").to_string();
    let doc = get(&app, "/api/v1/openapi.json", None).await.json();
    assert_eq!(doc["openapi"], "3.0.3");
    let paths = doc["paths"].as_object().unwrap();
    let mut documented: Vec<(String, String)> = paths
        .iter()
        .flat_map(|(p, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .map(move |m| (m.clone(), p.clone()))
        })
        .collect();
    documented.sort();
    let mut table: Vec<(String, String)> = ROUTES
        .iter()
        .map(|r| (r.method.to_string(), r.path.to_string()))
        .collect();
    table.sort();
    assert_eq!(documented, table);
    for r in ROUTES
        .iter()
        .filter(|r| !changes_a_case(r) && !programme_write(r))
    {
        let uri = concrete(&app, r.path, true);
        let a = if r.method == "post" {
            call(
                &app.router,
                "POST",
                &uri,
                Some(&national),
                Some(&post_body(&app, r.id, &app.trust)),
            )
            .await
        } else {
            get(&app, &uri, Some(&national)).await
        };
        assert!(
            a.status.is_success(),
            "{} {uri}: {} {}",
            r.method,
            a.status,
            a.body
        );
        assert!(a.content_type().starts_with("application/json"), "{uri}");
        // The answer is what the document says it is.
        let ok = r.ok_status();
        assert_eq!(a.status.as_str(), ok, "{} {uri}", r.method);
        let schema =
            &doc["paths"][r.path][r.method]["responses"][ok]["content"]["application/json"]["schema"];
        assert!(schema.is_object(), "{} {}: no schema for {ok}", r.method, r.path);
        if let Err(e) = conforms(&doc, schema, &a.json(), "$") {
            panic!("{} {uri}: the answer does not match its schema: {e}", r.method);
        }
        if r.csv {
            let a = get(&app, &format!("{uri}?format=csv"), Some(&national)).await;
            assert_eq!(a.status, StatusCode::OK, "{uri} csv: {}", a.body);
            assert!(a.content_type().starts_with("text/csv"), "{uri}");
            assert!(a.body.lines().count() >= 2, "{uri} csv has no rows: {}", a.body);
        }
    }
    // Not documented, not served; the error has the one shape.
    let a = get(&app, "/api/v1/nothing", None).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(a.json()["code"], "not_found");
    let a = call(&app.router, "DELETE", "/api/v1/systems", None, None).await;
    assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(a.json()["code"], "method_not_allowed");
}

#[tokio::test(flavor = "multi_thread")]
async fn indicator_values_are_tidy_published_and_carry_their_signals() {
    let app = app().await;
    let uri = format!(
        "/api/v1/indicators/ae_4h?entity_kind=system&entity_code={}&grain=month",
        app.system
    );
    let v = get(&app, &uri, None).await.json();
    let rows = v["values"].as_array().unwrap();
    assert!(rows.len() >= 12, "{v}");
    for r in rows {
        assert_eq!(r["entity_code"], app.system.as_str());
        assert_eq!(r["grain"], "month");
        assert!(
            r.get("suppressed").is_some()
                && r.get("spc_point").is_some()
                && r.get("funnel_position").is_some()
        );
    }
    // The same row as the results hold.
    let period = rows[0]["period"].as_str().unwrap();
    let held = app
        .state
        .results
        .series("ae_4h", "system", &app.system)
        .find(|x| &*x.grain == "month" && &*x.period == period)
        .unwrap();
    assert_eq!(rows[0]["value"].as_f64(), held.value);
    assert!(
        rows.iter().any(|r| r["spc_point"].is_string()),
        "SPC on a series of 12 or more"
    );
    // Funnel position beside the financial-year value.
    let fy = get(
        &app,
        "/api/v1/indicators/ae_4h?entity_kind=system&grain=financial_year",
        None,
    )
    .await
    .json();
    assert!(
        fy["values"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["funnel_position"].is_string()),
        "{fy}"
    );
    // Paged.
    let page = get(
        &app,
        "/api/v1/indicators/ae_4h?entity_kind=system&limit=5&offset=5",
        None,
    )
    .await
    .json();
    assert_eq!(page["values"].as_array().unwrap().len(), 5);
    assert_eq!(page["next_offset"], 10);
    assert!(page["total"].as_u64().unwrap() > 42);
    // An entity's code alone selects its rows whatever its kind.
    let by_code = get(
        &app,
        &format!("/api/v1/indicators/ae_4h?entity_code={}", app.system),
        None,
    )
    .await
    .json();
    let rows = by_code["values"].as_array().unwrap();
    assert!(!rows.is_empty());
    assert!(
        rows.iter()
            .all(|r| r["entity_code"] == app.system.as_str() && r["entity_kind"] == "system")
    );
    // Bad parameters: 400 with a precise message.
    for (uri, message) in [
        (
            "/api/v1/indicators/ae_4h?entity_kind=planet",
            "entity_kind \"planet\": one of organisation, system, region, england",
        ),
        (
            "/api/v1/indicators/ae_4h?grain=week",
            "grain \"week\": month, quarter, financial_year or rolling_12_months",
        ),
        (
            "/api/v1/indicators/ae_4h?limit=0",
            "limit \"0\": a whole number from 1 to 10000",
        ),
        (
            "/api/v1/indicators/ae_4h?period=",
            "period \"\": not a period (e.g. 2024/25, 2024-06)",
        ),
        (
            "/api/v1/organisations?kind=planet",
            "kind \"planet\": not an organisation kind",
        ),
        (
            "/api/v1/indicators/ae_4h?colour=red",
            "unknown parameter \"colour\"",
        ),
        ("/api/v1/systems?format=xml", "format \"xml\": json or csv"),
    ] {
        let a = get(&app, uri, None).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{uri}");
        assert_eq!(a.json()["code"], "bad_request");
        assert_eq!(a.json()["message"], message, "{uri}");
    }
    let a = get(&app, "/api/v1/indicators/no_such", None).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(a.json()["hint"], "GET /api/v1/indicators lists them");
}

/// Each role × each route × in-scope / out-of-scope entity → status.
#[tokio::test(flavor = "multi_thread")]
async fn the_authorisation_matrix_holds() {
    let app = app().await;
    let roles = ["anonymous", "national", "regional", "system", "organisation"];
    for r in ROUTES
        .iter()
        .filter(|r| !changes_a_case(r) && !programme_write(r))
    {
        for inside in [true, false] {
            for role in roles {
                let token = (role != "anonymous").then(|| app.token(role).to_string());
                let uri = concrete(&app, r.path, inside);
                let a = if r.method == "post" {
                    let target = if inside { &app.trust } else { &app.other_trust };
                    call(
                        &app.router,
                        "POST",
                        &uri,
                        token.as_deref(),
                        Some(&post_body(&app, r.id, target)),
                    )
                    .await
                } else {
                    get(&app, &uri, token.as_deref()).await
                };
                let expected = match (r.access, role, r.id) {
                    (Access::Public, _, _) => StatusCode::OK,
                    (_, "anonymous", _) => StatusCode::UNAUTHORIZED,
                    // A case that does not exist is 404 for everyone with a token.
                    (Access::Token, _, "case" | "plan") if !inside => StatusCode::NOT_FOUND,
                    // An organisation token does not see its system's case: as if there were none.
                    (Access::Token, "organisation", "case" | "plan") => StatusCode::NOT_FOUND,
                    (Access::Token, _, _) => StatusCode::OK,
                    (Access::Write, "system" | "organisation", _) => StatusCode::FORBIDDEN,
                    (Access::Write, "national", _) => StatusCode::CREATED,
                    (Access::Write, "regional", _) if inside => StatusCode::CREATED,
                    // Outside the scope is answered as if it did not exist.
                    (Access::Write, _, _) => StatusCode::NOT_FOUND,
                };
                assert_eq!(
                    a.status, expected,
                    "{role} {} {uri} (inside {inside}): {}",
                    r.method, a.body
                );
                if !a.status.is_success() {
                    assert!(a.json()["code"].is_string(), "{}", a.body);
                }
            }
        }
    }
    // Lists are cut to the token's scope.
    let ids = |v: serde_json::Value, key: &str| -> Vec<String> {
        v[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| {
                x["target_code"]
                    .as_str()
                    .unwrap_or(x["system_code"].as_str().unwrap_or(""))
                    .to_string()
            })
            .collect()
    };
    let national = ids(
        get(&app, "/api/v1/interventions", Some(app.token("national")))
            .await
            .json(),
        "interventions",
    );
    assert!(
        national.contains(&app.trust) && national.contains(&app.other_trust),
        "{national:?}"
    );
    let org = ids(
        get(&app, "/api/v1/interventions", Some(app.token("organisation")))
            .await
            .json(),
        "interventions",
    );
    assert!(org.iter().all(|c| c == &app.trust) && !org.is_empty(), "{org:?}");
    let cases = get(&app, "/api/v1/cases", Some(app.token("system"))).await.json();
    assert!(
        cases["cases"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["system_code"] == app.system.as_str())
    );
    assert_eq!(
        get(&app, "/api/v1/cases", Some(app.token("organisation")))
            .await
            .json()["cases"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    // Detail on public routes only in scope.
    let s = get(
        &app,
        &format!("/api/v1/systems/{}", app.system),
        Some(app.token("system")),
    )
    .await
    .json();
    assert!(
        s["diagnosis"].is_object() && s["cases"].as_array().is_some_and(|c| !c.is_empty()),
        "{s}"
    );
    let s = get(&app, &format!("/api/v1/systems/{}", app.system), None)
        .await
        .json();
    assert!(s.get("diagnosis").is_none() && s.get("cases").is_none());
    let s = get(
        &app,
        &format!("/api/v1/systems/{}", app.other_system),
        Some(app.token("regional")),
    )
    .await
    .json();
    assert!(s.get("cases").is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn writes_are_audited_under_the_token_and_conflicts_are_served() {
    let app = app().await;
    let a = get(
        &app,
        &format!("/api/v1/conflicts?system={}", app.system),
        Some(app.token("national")),
    )
    .await
    .json();
    let c = a["conflicts"].as_array().unwrap();
    let unlinked = c
        .iter()
        .find(|c| c["kind"] == "unlinked")
        .expect("the unlinked intervention is a conflict");
    assert_eq!(unlinked["org_code"], app.trust.as_str());
    assert_eq!(
        unlinked["intervention_ids"],
        serde_json::json!([app.intervention_id])
    );
    assert!(unlinked["explanation"].as_str().unwrap().contains(&app.system));

    let created = call(
        &app.router,
        "POST",
        "/api/v1/interventions",
        Some(app.token("regional")),
        Some(&body(&app, &app.trust)),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.json()["id"].as_i64().unwrap();
    let audit = app.state.db.audit().await.unwrap();
    let entry = audit
        .iter()
        .rev()
        .find(|e| e.action == "open_intervention")
        .unwrap();
    assert_eq!(entry.entity_id, Some(id));
    assert!(entry.actor.starts_with("token:regional"), "{}", entry.actor);
    // Refused by the register: 422 with its message, nothing changed.
    let bad = body(&app, &app.trust).replace("2025-12-31", "2025-01-01");
    let a = call(
        &app.router,
        "POST",
        "/api/v1/interventions",
        Some(app.token("national")),
        Some(&bad),
    )
    .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        a.json()["message"],
        "deadline 2025-01-01: before the start 2025-05-01"
    );
    assert_eq!(app.state.db.audit().await.unwrap().len(), audit.len());
}

#[tokio::test(flavor = "multi_thread")]
async fn budgets_settle_through_the_api_and_the_page() {
    let app = app().await;
    // 3m over a 100m target: beyond the 1% threshold, the whole variance is shared 50:50.
    let a = call(
        &app.router,
        "POST",
        "/api/v1/budgets/settle",
        None,
        Some(&post_body(&app, "budgets_settle", "")),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let v = a.json();
    let trust = v["parties"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["party"] == "Acute trust")
        .unwrap();
    assert_eq!(trust["transfer"].as_f64(), Some(-1_500_000.0), "{v}");
    let bad = serde_json::json!({"terms": "kind = \"lottery\"", "actual": 1.0}).to_string();
    let a = call(&app.router, "POST", "/api/v1/budgets/settle", None, Some(&bad)).await;
    // Well-formed JSON whose terms are not valid terms: 422.
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(a.json()["code"], "refused");
    assert!(
        a.json()["message"].as_str().unwrap().starts_with("terms"),
        "{}",
        a.body
    );
    let a = call(
        &app.router,
        "POST",
        "/api/v1/budgets/settle",
        None,
        Some("{\"terms\": \"\", \"colour\": 1}"),
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    // The page: a form, and the same numbers.
    let page = get(&app, "/budgets", None).await;
    assert!(page.body.contains("<label for=\"terms\">") && page.body.contains("Acute trust"));
    let form = format!(
        "terms={}&actual=103000000",
        TERMS
            .bytes()
            .map(|b| if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            })
            .collect::<String>()
    );
    let html = crate::post_form(&app, "/budgets", &form).await;
    assert!(
        html.contains("<td>Acute trust</td><td class=\"num\">-1500000</td>"),
        "{html}"
    );
}

/// Walks every public and token route (JSON and CSV) and checks that no count in 1–7 below
/// national level appears.
#[tokio::test(flavor = "multi_thread")]
async fn no_small_count_below_national_level_is_published() {
    let app = app().await;
    let mut uris: Vec<(String, Access)> = ROUTES
        .iter()
        .filter(|r| r.method == "get")
        .map(|r| (concrete(&app, r.path, true), r.access))
        .collect();
    for ind in &app.state.results.indicators {
        uris.push((
            format!("/api/v1/indicators/{}?limit=10000", ind.id),
            Access::Public,
        ));
    }
    // Which columns are counts of people or events, by the engine's own rule.
    let catalogue = engine::Catalogue::default_catalogue().unwrap();
    let counts = |indicator: &str| -> Vec<&'static str> {
        match catalogue.get(indicator).map(engine::Disclosure::of) {
            Some(engine::Disclosure::Both) => vec!["numerator", "denominator"],
            Some(engine::Disclosure::Numerator) => vec!["numerator"],
            _ => vec![],
        }
    };
    let mut checked = 0usize;
    for (uri, access) in uris {
        for token in [None, Some(app.token("national"))] {
            if token.is_none() && access != Access::Public {
                continue;
            }
            let a = get(&app, &uri, token).await;
            assert!(a.status.is_success(), "{uri}");
            let mut stack = vec![a.json()];
            while let Some(v) = stack.pop() {
                match v {
                    serde_json::Value::Object(m) => {
                        let national = m.get("entity_kind").and_then(|k| k.as_str()) == Some("england");
                        let indicator = m.get("indicator_id").and_then(|k| k.as_str()).unwrap_or("");
                        for key in counts(indicator) {
                            if let Some(x) = m.get(key).and_then(|x| x.as_f64())
                                && !national
                            {
                                checked += 1;
                                assert!(!(1.0..=7.0).contains(&x), "{uri}: {key} {x} in {m:?}");
                            }
                        }
                        stack.extend(m.into_iter().map(|(_, v)| v));
                    }
                    serde_json::Value::Array(a) => stack.extend(a),
                    _ => {}
                }
            }
            if uri.starts_with("/api/v1/indicators/") && uri.contains("?limit=") {
                let csv = get(&app, &format!("{uri}&format=csv"), token).await;
                let mut r = csv::Reader::from_reader(csv.body.as_bytes());
                let h = r.headers().unwrap().clone();
                let col = |n: &str| h.iter().position(|x| x == n).unwrap();
                let k = col("entity_kind");
                let indicator = uri.rsplit('/').next().unwrap().split('?').next().unwrap();
                let cols: Vec<usize> = counts(indicator).into_iter().map(col).collect();
                for rec in r.records() {
                    let rec = rec.unwrap();
                    if &rec[k] == "england" {
                        continue;
                    }
                    for &c in &cols {
                        if let Ok(x) = rec[c].parse::<f64>() {
                            checked += 1;
                            assert!(!(1.0..=7.0).contains(&x), "{uri} csv: {x}");
                        }
                    }
                }
            }
        }
    }
    assert!(checked > 10_000, "only {checked} counts checked");
}

/// The dashboard's pages through the router: the map, the league table, suppressed values,
/// and the regime's detail only for tokens in scope.
#[tokio::test(flavor = "multi_thread")]
async fn pages_render_for_people() {
    let app = app().await;
    let a = get(&app, "/", None).await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.content_type().starts_with("text/html"));
    assert_eq!(
        a.body.matches("<path class=\"area ").count(),
        106,
        "106 sub-ICB shapes"
    );
    assert!(a.body.contains("<path class=\"borders\" d=\"M"), "system borders");
    for s in &app.state.results.systems {
        assert!(
            a.body.contains(&format!("href=\"/systems/{}\"", s.code)),
            "{}",
            s.code
        );
    }
    assert!(a.body.contains("f-challenged"));
    let page = get(&app, &format!("/systems/{}", app.system), None).await;
    assert!(page.body.contains("<svg class=\"spc\"") && page.body.contains("<svg class=\"funnel\""));
    assert!(
        page.body
            .contains("shown to tokens whose scope includes this system")
    );
    assert!(!page.body.contains("class=\"conflicts\""));
    let page = get(
        &app,
        &format!("/systems/{}", app.system),
        Some(app.token("system")),
    )
    .await;
    assert!(
        page.body.contains("data-kind=\"unlinked\"")
            && !page.body.contains("## Diagnosis")
            && page.body.contains("<h2>Diagnosis"),
        "{}",
        page.body
    );
    // A suppressed value reads "suppressed", never 0.
    let r = &app.state.results;
    let suppressed = r
        .values
        .iter()
        .find(|v| {
            &*v.entity_kind == "organisation"
                && r.series(&v.indicator_id, "organisation", &v.entity_code)
                    .filter(|x| &*x.grain == "financial_year")
                    .last()
                    .is_some_and(|x| x.suppressed)
        })
        .expect("something is suppressed");
    let o = get(&app, &format!("/organisations/{}", suppressed.entity_code), None).await;
    assert!(
        o.body.contains("<span class=\"suppressed\">suppressed</span>"),
        "{}",
        suppressed.entity_code
    );
    assert_eq!(
        get(&app, &format!("/cases/{}", app.case_id), None).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        get(
            &app,
            &format!("/cases/{}", app.case_id),
            Some(app.token("organisation"))
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    let case = get(
        &app,
        &format!("/cases/{}", app.case_id),
        Some(app.token("regional")),
    )
    .await;
    assert!(case.body.contains("<h2>Recovery plan</h2>"));
}

/// Whether `v` matches an OpenAPI 3.0 schema (the subset the document uses: `$ref`, `type`,
/// `nullable`, `properties`, `required`, `additionalProperties`, `items`, `anyOf`, `enum`,
/// `minimum`). A check of the document's exactness independent of Schemathesis, which fuzzes
/// it in CI.
pub(crate) fn conforms(doc: &Value, schema: &Value, v: &Value, at: &str) -> Result<(), String> {
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.trim_start_matches("#/components/schemas/");
        let target = &doc["components"]["schemas"][name];
        if target.is_null() {
            return Err(format!("{at}: {r} is not in the components"));
        }
        return conforms(doc, target, v, at);
    }
    if v.is_null() && schema["nullable"] == true {
        return Ok(());
    }
    if let Some(any) = schema["anyOf"].as_array() {
        return any
            .iter()
            .any(|s| conforms(doc, s, v, at).is_ok())
            .then_some(())
            .ok_or_else(|| format!("{at}: {v} matches none of anyOf"));
    }
    if let Some(e) = schema["enum"].as_array()
        && !e.contains(v)
    {
        return Err(format!("{at}: {v} is not one of {e:?}"));
    }
    let ty = schema["type"].as_str();
    let ok = match ty {
        None => true,
        Some("object") => v.is_object(),
        Some("array") => v.is_array(),
        Some("string") => v.is_string(),
        Some("number") => v.is_number(),
        Some("integer") => v.is_i64() || v.is_u64(),
        Some("boolean") => v.is_boolean(),
        Some(other) => return Err(format!("{at}: unknown type {other}")),
    };
    if !ok {
        return Err(format!("{at}: {v} is not of type {}", ty.unwrap_or("-")));
    }
    if let Some(min) = schema["minimum"].as_f64()
        && v.as_f64().is_some_and(|x| x < min)
    {
        return Err(format!("{at}: {v} is below {min}"));
    }
    if let Value::Object(m) = v {
        for req in schema["required"].as_array().into_iter().flatten() {
            let k = req.as_str().unwrap_or_default();
            if !m.contains_key(k) {
                return Err(format!("{at}: {k} is required and missing"));
            }
        }
        let props = schema["properties"].as_object();
        for (k, x) in m {
            match props.and_then(|p| p.get(k)) {
                Some(s) => conforms(doc, s, x, &format!("{at}.{k}"))?,
                None => match &schema["additionalProperties"] {
                    Value::Bool(false) => return Err(format!("{at}: {k} is not in the schema")),
                    s if s.is_object() => conforms(doc, s, x, &format!("{at}.{k}"))?,
                    // A schema that names its properties describes all of them.
                    _ if props.is_some() => return Err(format!("{at}: {k} is not in the schema")),
                    _ => {}
                },
            }
        }
    }
    if let (Value::Array(items), Some(s)) = (v, schema.get("items")) {
        for (i, x) in items.iter().enumerate() {
            conforms(doc, s, x, &format!("{at}[{i}]"))?;
        }
    }
    Ok(())
}
