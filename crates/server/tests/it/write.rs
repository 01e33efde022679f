//! The register's write path over HTTP: a regional token runs a whole case — opened, planned
//! with five kinds of stakeholder, criteria, trajectory, progress, milestones delivered,
//! the conflicting intervention closed, the case closed — and every write route keeps to
//! its token's role and scope, with refused changes leaving nothing in the register.

use crate::api::{changes_a_case, conforms};
use crate::{Answer, App, app, call, get};
use axum::http::StatusCode;
use serde_json::{Value, json};
use server::openapi::ROUTES;

async fn post(app: &App, uri: &str, token: Option<&str>, body: &Value) -> Answer {
    call(&app.router, "POST", uri, token, Some(&body.to_string())).await
}

/// The answer has the route's success status and the document's schema.
fn documented(doc: &Value, id: &str, a: &Answer) -> Value {
    let r = ROUTES.iter().find(|r| r.id == id).unwrap();
    assert_eq!(a.status.as_str(), r.ok_status(), "{id}: {}", a.body);
    let schema =
        &doc["paths"][r.path][r.method]["responses"][r.ok_status()]["content"]["application/json"]["schema"];
    if let Err(e) = conforms(doc, schema, &a.json(), "$") {
        panic!("{id}: the answer does not match its schema: {e}");
    }
    a.json()
}

async fn audit_len(app: &App) -> usize {
    app.state.db.audit().await.unwrap().len()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_regional_token_runs_a_whole_case_through_the_api() {
    let app = app().await;
    let t = Some(app.token("regional"));
    let doc = get(&app, "/api/v1/openapi.json", None).await.json();
    let case_uri = format!("/api/v1/cases/{}", app.case_id);

    // The case sync opened is diagnosed, and every metric's members add up to its gap.
    let case = get(&app, &case_uri, t).await.json();
    let diagnosis = &case["snapshots"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == "diagnosis")
        .expect("a diagnosis")["body"];
    assert!(crate::cycle::adds_up(diagnosis) >= 2, "{diagnosis}");

    // The system has its case: a second is refused, and nothing is written.
    let before = audit_len(&app).await;
    let a = post(
        &app,
        "/api/v1/cases",
        t,
        &json!({"system_code": app.system, "reason": "again"}),
    )
    .await;
    assert_eq!(a.status, StatusCode::CONFLICT, "{}", a.body);
    assert_eq!(audit_len(&app).await, before);
    // Another system of the region gets one by hand.
    let cases = app.state.db.cases().await.unwrap();
    let quiet = app
        .state
        .results
        .systems
        .iter()
        .find(|s| s.region_code == app.region && !cases.iter().any(|c| c.system_code == s.code))
        .expect("a system of the region without a case");
    let a = post(
        &app,
        "/api/v1/cases",
        t,
        &json!({"system_code": quiet.code, "reason": "a neighbour's plan depends on it"}),
    )
    .await;
    let opened = documented(&doc, "create_case", &a);
    assert_eq!(opened["system_code"], quiet.code.as_str());
    assert_eq!(opened["opened_by"], "hand");
    assert_eq!(opened["status"], "open");

    // The recovery plan: a trust, the commissioner, primary care, the council, the third sector.
    let commissioner = app
        .state
        .results
        .organisations
        .iter()
        .find(|o| o.system_code.as_deref() == Some(app.system.as_str()) && o.kind == "commissioner")
        .expect("a commissioner")
        .code
        .clone();
    let trust = &app.trust;
    let plan = [
        (
            trust.as_str(),
            "trust",
            "urgent_and_emergency_care_network",
            json!([{"org_code": trust, "lever": "acute_beds", "amount": 10.0}]),
        ),
        (
            commissioner.as_str(),
            "commissioner",
            "primary_and_acute_care_system",
            json!([{"org_code": commissioner, "lever": "spending", "amount": 1500000.0}]),
        ),
        (
            "Riverside GP federation",
            "primary_care",
            "multispecialty_community_provider",
            json!([]),
        ),
        (
            "County council",
            "local_government",
            "enhanced_health_in_care_homes",
            json!([{"org_code": trust, "lever": "spending", "amount": 250000.0}, {"org_code": trust, "lever": "spending", "amount": 50000.0}]),
        ),
        (
            "Hospice at home",
            "third_sector",
            "enhanced_health_in_care_homes",
            json!([]),
        ),
    ];
    let mut last = Value::Null;
    for (who, kind, model, levers) in plan {
        let a = post(
            &app,
            &format!("{case_uri}/commitments"),
            t,
            &json!({"stakeholder": who, "stakeholder_kind": kind, "care_model": model, "description": format!("{who}'s part"), "due": "2025-12-31", "levers": levers}),
        )
        .await;
        last = documented(&doc, "add_commitment", &a);
    }
    // Two from the fixture, five added; the council's two spending levers are one (300,000).
    let commitments = last["commitments"].as_array().unwrap().clone();
    assert_eq!(commitments.len(), 7);
    let council = commitments
        .iter()
        .find(|c| c["stakeholder"] == "County council" && c["description"] == "County council's part")
        .unwrap();
    assert_eq!(
        council["levers"],
        json!([{"org_code": trust, "lever": "spending", "amount": 300000.0, "to_org_code": null}])
    );
    assert_eq!(last["plan_totals"]["acute_beds"], 40.0);

    let a = post(
        &app,
        &format!("{case_uri}/exit-criteria"),
        t,
        &json!({"text": "combined deficit within 1% of allocation"}),
    )
    .await;
    let criterion = documented(&doc, "add_exit_criterion", &a)["exit_criteria"][0]["id"]
        .as_i64()
        .unwrap();
    let a = post(
        &app,
        &format!("{case_uri}/trajectories"),
        t,
        &json!({"indicator": "ae_4h", "grain": "financial_year", "period": "2025/26", "target": 90.0}),
    )
    .await;
    let traj = documented(&doc, "add_trajectory", &a);
    assert_eq!(
        traj["trajectories"][0]["direction"], "higher",
        "the indicator's own direction"
    );
    let a = post(
        &app,
        &format!("{case_uri}/progress"),
        t,
        &json!({"note": "plan agreed at the system board"}),
    )
    .await;
    assert_eq!(
        documented(&doc, "add_progress", &a)["progress"][0]["note"],
        "plan agreed at the system board"
    );

    // Closing with a criterion unmet is refused and changes nothing.
    let before = audit_len(&app).await;
    let a = post(
        &app,
        &format!("{case_uri}/close"),
        t,
        &json!({"reason": "recovered"}),
    )
    .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.body);
    assert_eq!(audit_len(&app).await, before);
    assert_eq!(get(&app, &case_uri, t).await.json()["status"], "open");

    // The fixture's intervention cuts the beds the plan adds: a conflict, until it is closed.
    let names_it = |v: &Value| {
        v["conflicts"].as_array().unwrap().iter().any(|c| {
            c["intervention_ids"]
                .as_array()
                .unwrap()
                .contains(&json!(app.intervention_id))
        })
    };
    assert!(names_it(&get(&app, "/api/v1/conflicts", t).await.json()));
    let a = post(
        &app,
        &format!("/api/v1/interventions/{}/close", app.intervention_id),
        t,
        &json!({"reason": "superseded by the system plan"}),
    )
    .await;
    assert_eq!(documented(&doc, "close_intervention", &a)["status"], "closed");
    assert!(!names_it(&get(&app, "/api/v1/conflicts", t).await.json()));

    // Milestones delivered, the criterion met, the case closed.
    for c in &commitments {
        let a = post(
            &app,
            &format!("{case_uri}/commitments/{}/delivered", c["id"]),
            t,
            &json!({}),
        )
        .await;
        let after = documented(&doc, "deliver_commitment", &a);
        let done = after["commitments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["id"] == c["id"])
            .unwrap();
        assert!(done["done_at"].is_string(), "{done}");
    }
    let a = post(
        &app,
        &format!("{case_uri}/exit-criteria/{criterion}/met"),
        t,
        &json!({}),
    )
    .await;
    assert!(documented(&doc, "meet_exit_criterion", &a)["exit_criteria"][0]["met_at"].is_string());
    let a = post(
        &app,
        &format!("{case_uri}/close"),
        t,
        &json!({"reason": "exit criteria met"}),
    )
    .await;
    let closed = documented(&doc, "close_case", &a);
    assert_eq!(closed["status"], "closed");
    assert_eq!(closed["close_reason"], "exit criteria met");

    // A closed case takes nothing more, and the refusal leaves nothing.
    let before = audit_len(&app).await;
    let a = post(&app, &format!("{case_uri}/progress"), t, &json!({"note": "late"})).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.body);
    assert_eq!(audit_len(&app).await, before);
    // Every change is in the audit under the token's name.
    let audit = app.state.db.audit().await.unwrap();
    let mine: Vec<&str> = audit
        .iter()
        .filter(|e| e.actor.starts_with("token:regional"))
        .map(|e| e.action.as_str())
        .collect();
    for action in [
        "open_case",
        "add_commitment",
        "add_exit_criterion",
        "add_trajectory",
        "record_progress",
        "close_intervention",
        "complete_commitment",
        "meet_exit_criterion",
        "close_case",
    ] {
        assert!(mine.contains(&action), "{action} not audited: {mine:?}");
    }
}

/// Each write route × role × a case inside and outside the scope → status; a refused write
/// leaves the audit log as it was.
#[tokio::test(flavor = "multi_thread")]
async fn every_write_keeps_to_its_role_and_scope() {
    let app = app().await;
    let db = &app.state.db;
    // A case outside the regional token's scope, with a commitment and a criterion.
    let outside = db
        .open_case(&app.other_system, None, "elsewhere", None, "test")
        .await
        .unwrap()
        .unwrap();
    let inside = app.case_id;
    for case in [inside, outside] {
        db.add_exit_criterion(case, "a criterion", "test").await.unwrap();
    }
    let item = |case: i64, what: &str| {
        let db = db.clone();
        let what = what.to_string();
        async move {
            let c = db
                .cases()
                .await
                .unwrap()
                .into_iter()
                .find(|c| c.id == case)
                .unwrap();
            match what.as_str() {
                "commitment" => c.commitments.first().map(|x| x.id),
                _ => c.exit_criteria.first().map(|x| x.id),
            }
        }
    };
    // An intervention outside the scope, to close.
    let far = db
        .open_intervention(
            &store::NewIntervention {
                regulator: "monitor".into(),
                target_kind: "organisation".into(),
                target_code: app.other_trust.clone(),
                kind: "warning_notice".into(),
                legal_basis: "s.106".into(),
                actions: vec!["improve".into()],
                start_date: "2025-04-01".into(),
                ..Default::default()
            },
            "test",
        )
        .await
        .unwrap();
    db.add_commitment(
        outside,
        &store::NewCommitment {
            stakeholder: "x".into(),
            stakeholder_kind: "trust".into(),
            care_model: "acute_care_collaboration".into(),
            description: "x".into(),
            ..Default::default()
        },
        "test",
    )
    .await
    .unwrap();
    let roles = ["anonymous", "system", "organisation", "regional"];
    for r in ROUTES.iter().filter(|r| changes_a_case(r)) {
        for (case, in_scope) in [(inside, true), (outside, false)] {
            let uri = r
                .path
                .replace(
                    "/interventions/{id}",
                    &format!(
                        "/interventions/{}",
                        if in_scope { app.intervention_id } else { far }
                    ),
                )
                .replace("{id}", &case.to_string())
                .replace(
                    "commitments/{item}",
                    &format!("commitments/{}", item(case, "commitment").await.unwrap()),
                )
                .replace(
                    "exit-criteria/{item}",
                    &format!("exit-criteria/{}", item(case, "criterion").await.unwrap()),
                );
            let body = match r.id {
                "create_case" => {
                    json!({"system_code": if in_scope { &app.system } else { &app.other_system }, "reason": "r"})
                }
                "add_commitment" => {
                    json!({"stakeholder": "s", "stakeholder_kind": "trust", "care_model": "acute_care_collaboration", "description": "d", "due": null, "levers": []})
                }
                "add_exit_criterion" => json!({"text": "t"}),
                "change_commitment" => json!({"due": "2026-06-30"}),
                "add_trajectory" => {
                    json!({"indicator": "ae_4h", "grain": "financial_year", "period": "2025/26", "target": 90.0})
                }
                "add_progress" => json!({"note": "n"}),
                // Unmet criteria: refused by the register for whoever may ask.
                "close_case" => json!({"reason": "r"}),
                "close_intervention" => json!({"reason": "r"}),
                // The sync set every system's reporting from today: this month's return.
                "create_return" => {
                    json!({"entity_code": if in_scope { &app.system } else { &app.other_system }, "pack": "system-2015", "period": &store::now()[..7]})
                }
                _ => json!({}),
            };
            for role in roles {
                let token = (role != "anonymous").then(|| app.token(role));
                let before = audit_len(&app).await;
                let a = post(&app, &uri, token, &body).await;
                let expected = match (role, in_scope, r.id) {
                    ("anonymous", _, _) => StatusCode::UNAUTHORIZED,
                    ("system" | "organisation", _, _) => StatusCode::FORBIDDEN,
                    // Outside the scope answers as missing.
                    ("regional", false, _) => StatusCode::NOT_FOUND,
                    (_, true, "create_case") => StatusCode::CONFLICT,
                    (_, true, "close_case") => StatusCode::UNPROCESSABLE_ENTITY,
                    (_, true, _) => r
                        .ok_status()
                        .parse::<u16>()
                        .map(|s| StatusCode::from_u16(s).unwrap())
                        .unwrap(),
                    _ => unreachable!(),
                };
                assert_eq!(
                    a.status, expected,
                    "{role} {uri} (in scope {in_scope}): {}",
                    a.body
                );
                assert!(
                    a.json()["code"].is_string() || a.status.is_success(),
                    "{}",
                    a.body
                );
                if !a.status.is_success() {
                    assert_eq!(
                        audit_len(&app).await,
                        before,
                        "{role} {uri}: a refused write left an audit entry"
                    );
                }
            }
        }
    }
    // Nothing changed outside the scope.
    let c = db
        .cases()
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.id == outside)
        .unwrap();
    assert_eq!(
        (
            c.commitments.len(),
            c.exit_criteria.len(),
            c.progress.len(),
            c.trajectories.len()
        ),
        (1, 1, 0, 0)
    );
    assert!(c.commitments[0].done_at.is_none() && c.exit_criteria[0].met_at.is_none());
    assert_eq!(c.status, "open");

    // A lever on an organisation outside the scope is refused as missing, and leaves nothing.
    let before = audit_len(&app).await;
    let a = post(
        &app,
        &format!("/api/v1/cases/{inside}/commitments"),
        Some(app.token("regional")),
        &json!({"stakeholder": "s", "stakeholder_kind": "trust", "care_model": "acute_care_collaboration", "description": "d", "levers": [{"org_code": app.other_trust, "lever": "acute_beds", "amount": -5.0}]}),
    )
    .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND, "{}", a.body);
    assert_eq!(audit_len(&app).await, before);
    // Another case's commitment through this case's path: missing.
    let theirs = item(outside, "commitment").await.unwrap();
    let a = post(
        &app,
        &format!("/api/v1/cases/{inside}/commitments/{theirs}/delivered"),
        Some(app.token("national")),
        &json!({}),
    )
    .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND, "{}", a.body);
    // Unknown fields and bad values are refused with a reason.
    let a = post(
        &app,
        &format!("/api/v1/cases/{inside}/progress"),
        Some(app.token("national")),
        &json!({"note": "n", "extra": 1}),
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
    let a = post(
        &app,
        &format!("/api/v1/cases/{inside}/progress"),
        Some(app.token("national")),
        &json!({"note": "  "}),
    )
    .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.body);
    let a = post(
        &app,
        &format!("/api/v1/cases/{inside}/trajectories"),
        Some(app.token("national")),
        &json!({"indicator": "no_such", "grain": "financial_year", "period": "2025/26", "target": 1.0}),
    )
    .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.body);
    assert_eq!(audit_len(&app).await, before);
}

/// The alerts feed: what changed for a scope since a moment, as JSON and Atom; a regional
/// token sees its own region's changes and nothing of another's.
#[tokio::test(flavor = "multi_thread")]
async fn the_feed_shows_what_changed_in_scope_since_a_moment() {
    let app = app().await;
    let t = Some(app.token("regional"));
    let db = &app.state.db;
    // Changes outside the regional scope, which it must never see.
    let far = db
        .open_case(&app.other_system, None, "elsewhere", None, "test")
        .await
        .unwrap()
        .unwrap();
    db.record_progress(far, "a note from elsewhere", "test")
        .await
        .unwrap();
    let a = get(&app, "/api/v1/feed", t).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let all = a.json();
    let items = all["items"].as_array().unwrap();
    let kinds: Vec<&str> = items.iter().map(|i| i["kind"].as_str().unwrap()).collect();
    // The synced case, the fixture's plan, its intervention and the conflict it raises.
    for k in [
        "case_opened",
        "commitment_added",
        "intervention_opened",
        "conflict",
    ] {
        assert!(kinds.contains(&k), "{k} missing: {kinds:?}");
    }
    assert!(
        items
            .iter()
            .all(|i| i["system_code"] != app.other_system.as_str()),
        "{all}"
    );
    assert!(items.iter().all(|i| i["case_id"] != far), "{all}");
    // Newest first.
    let ats: Vec<&str> = items.iter().map(|i| i["at"].as_str().unwrap()).collect();
    assert!(ats.windows(2).all(|w| w[0] >= w[1]), "{ats:?}");
    // Since the latest item, only what comes after: a progress note, and a milestone due in
    // the past, now overdue.
    let mark = ats[0].to_string();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    db.record_progress(app.case_id, "board met", "lead")
        .await
        .unwrap();
    let a = get(&app, &format!("/api/v1/feed?since={mark}"), t).await;
    let after = a.json();
    let kinds: Vec<&str> = after["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, vec!["progress_recorded"], "{after}");
    assert_eq!(after["items"][0]["case_id"], app.case_id);
    assert_eq!(
        after["items"][0]["link"],
        format!("/api/v1/cases/{}", app.case_id)
    );
    db.add_commitment(
        app.case_id,
        &store::NewCommitment {
            stakeholder: "County council".into(),
            stakeholder_kind: "local_government".into(),
            care_model: "enhanced_health_in_care_homes".into(),
            description: "care-home beds".into(),
            due: Some("2020-01-31".into()),
            levers: Vec::new(),
        },
        "lead",
    )
    .await
    .unwrap();
    let a = get(&app, "/api/v1/feed?since=2020-01-01", t).await.json();
    // The fixture's milestones (due 2025-12-31) are overdue too; this one fell due first.
    let overdue: Vec<&Value> = a["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["kind"] == "milestone_overdue")
        .collect();
    assert_eq!(overdue.len(), 3, "{a}");
    let overdue: Vec<&&Value> = overdue
        .iter()
        .filter(|i| i["title"].as_str().unwrap().contains("care-home beds"))
        .collect();
    assert_eq!(overdue.len(), 1, "{a}");
    assert_eq!(overdue[0]["at"], "2020-02-01T00:00:00Z");
    // Atom for feed readers: the same items.
    let a = get(&app, &format!("/api/v1/feed?format=atom&since={mark}"), t).await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(
        a.content_type().starts_with("application/atom+xml"),
        "{}",
        a.content_type()
    );
    assert!(
        a.body.starts_with(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">"
        ),
        "{}",
        a.body
    );
    assert_eq!(a.body.matches("<entry>").count(), 2, "{}", a.body);
    assert!(
        a.body.contains("<category term=\"progress_recorded\"/>"),
        "{}",
        a.body
    );
    // Anonymous callers get nothing; a bad `since` is a 400.
    assert_eq!(
        get(&app, "/api/v1/feed", None).await.status,
        StatusCode::UNAUTHORIZED
    );
    for bad in [
        "yesterday",
        "2025-6-01",
        "2025-06-01T09:30",
        "2025-06-01T09:30:00.1234567890Z",
        "2025-06-01T09:30:00+01:00",
    ] {
        let a = get(&app, &format!("/api/v1/feed?since={bad}"), t).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{bad}: {}", a.body);
    }
    // The national token sees the other region's changes too.
    let national = get(&app, "/api/v1/feed", Some(app.token("national")))
        .await
        .json();
    assert!(
        national["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["case_id"] == far),
        "{national}"
    );
}
