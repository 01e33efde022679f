//! The whole cycle over HTTP as a regional token, on synthetic England: special measures
//! recorded, the system challenged at the next sync, the case diagnosed (every metric adds
//! up), a plan with commitments from a trust, the commissioner, primary care, the council and
//! the third sector, a flexibility granted (first without a plan: a conflict, raised and
//! resolved), returns recorded, milestones delivered, the case closed; the feed saying so.

use crate::{Answer, App, app, call, get, quiet_trust, sync_now};
use axum::http::StatusCode;
use serde_json::{Value, json};

async fn post(app: &App, uri: &str, token: Option<&str>, body: &Value) -> Answer {
    call(&app.router, "POST", uri, token, Some(&body.to_string())).await
}

fn ok(a: Answer, status: StatusCode) -> Value {
    assert_eq!(a.status, status, "{}", a.body);
    a.json()
}

/// Every gap of a diagnosis is its members' contributions plus what is left unexplained.
pub fn adds_up(diagnosis: &Value) -> usize {
    let gaps: Vec<&Value> = diagnosis["performance"]
        .as_array()
        .unwrap()
        .iter()
        .chain(diagnosis["finance"].as_object().map(|_| &diagnosis["finance"]))
        .collect();
    for g in &gaps {
        let sum: f64 = g["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["points"].as_f64().unwrap())
            .sum();
        let (gap, rest) = (g["gap"].as_f64().unwrap(), g["unexplained"].as_f64().unwrap());
        assert!(
            (sum + rest - gap).abs() < 1e-9,
            "{}: {sum} + {rest} against {gap}",
            g["indicator"]
        );
    }
    gaps.len()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_regional_token_runs_the_whole_cycle_from_special_measures_to_closure() {
    let app = app().await;
    let t = Some(app.token("regional"));
    let (system, trust) = quiet_trust(&app);
    let cases_of = |v: Value| -> Vec<Value> {
        v["cases"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|c| c["system_code"] == system.as_str())
            .collect()
    };
    assert!(cases_of(get(&app, "/api/v1/cases", t).await.json()).is_empty());

    // Special measures, recorded by the regional team.
    let sm = ok(
        post(
            &app,
            "/api/v1/interventions",
            t,
            &json!({"regulator": "monitor", "target_kind": "organisation", "target_code": trust, "kind": "special_measures",
                    "legal_basis": "Health and Social Care Act 2012 s.106", "actions": ["appoint an improvement director"],
                    "start_date": "2025-04-01", "deadline": null, "case_id": null, "levers": []}),
        )
        .await,
        StatusCode::CREATED,
    );
    let sm_id = sm["id"].as_i64().unwrap();

    // The next sync challenges the trust's system and opens its case, naming the intervention.
    let synced = sync_now(&app).await;
    assert!(synced.challenged.contains(&system), "{synced:?}");
    let cases = cases_of(get(&app, "/api/v1/cases", t).await.json());
    assert_eq!(cases.len(), 1, "{cases:?}");
    let case_id = cases[0]["id"].as_i64().unwrap();
    let case_uri = format!("/api/v1/cases/{case_id}");
    let case = get(&app, &case_uri, t).await.json();
    let reason = case["reason"].as_str().unwrap();
    assert!(
        reason.contains(&format!(
            "{trust}: special_measures opened by monitor on 2025-04-01 (intervention {sm_id})"
        )),
        "{reason}"
    );
    let diagnosis = &case["snapshots"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == "diagnosis")
        .expect("diagnosed")["body"];
    assert!(adds_up(diagnosis) >= 2, "{diagnosis}");

    // The plan: a trust, the commissioner, primary care, the council, the third sector.
    let commissioner = app
        .state
        .results
        .organisations
        .iter()
        .find(|o| o.system_code.as_deref() == Some(system.as_str()) && o.kind == "commissioner")
        .map(|o| o.code.clone())
        .unwrap_or_else(|| trust.clone());
    for (who, kind, model, levers) in [
        (
            trust.as_str(),
            "trust",
            "urgent_and_emergency_care_network",
            json!([{"org_code": trust, "lever": "acute_beds", "amount": -10.0}]),
        ),
        (
            commissioner.as_str(),
            "commissioner",
            "primary_and_acute_care_system",
            json!([{"org_code": commissioner, "lever": "spending", "amount": 1000000.0}]),
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
            json!([]),
        ),
        (
            "Hospice at home",
            "third_sector",
            "enhanced_health_in_care_homes",
            json!([]),
        ),
    ] {
        ok(
            post(&app, &format!("{case_uri}/commitments"), t, &json!({"stakeholder": who, "stakeholder_kind": kind, "care_model": model, "description": format!("{who}'s part"), "due": "2026-03-31", "levers": levers})).await,
            StatusCode::CREATED,
        );
    }
    // The trust's commitment changes: a later milestone, and 25 beds closed instead of 10.
    let case = get(&app, &case_uri, t).await.json();
    let mine = case["commitments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["stakeholder"] == trust.as_str())
        .unwrap()["id"]
        .clone();
    let changed = ok(
        post(&app, &format!("{case_uri}/commitments/{mine}"), t, &json!({"due": "2026-06-30", "levers": [{"org_code": trust, "lever": "acute_beds", "amount": -25.0}]})).await,
        StatusCode::OK,
    );
    let c = changed["commitments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == mine)
        .unwrap();
    assert_eq!(c["due"], "2026-06-30");
    assert_eq!(changed["plan_totals"]["acute_beds"], -25.0);
    let audit = app.state.db.audit().await.unwrap();
    let entry = audit
        .iter()
        .rev()
        .find(|e| e.action == "change_commitment")
        .unwrap();
    assert_eq!(entry.before.as_ref().unwrap()["due"], "2026-03-31");
    let criterion = ok(
        post(
            &app,
            &format!("{case_uri}/exit-criteria"),
            t,
            &json!({"text": "out of special measures"}),
        )
        .await,
        StatusCode::CREATED,
    )["exit_criteria"][0]["id"]
        .as_i64()
        .unwrap();

    // A flexibility granted with no plan linked: a conflict of its own kind, raised...
    let flexibility = |case: Value| {
        json!({"regulator": "monitor", "target_kind": "organisation", "target_code": trust, "kind": "flexibility",
               "legal_basis": "NHS Act 2006 s.115", "actions": ["waive the A&E marginal rate"], "start_date": "2025-06-01",
               "deadline": null, "case_id": case, "levers": [],
               "conditions": ["only while the urgent care network redesign is delivered"], "expiry": "2026-03-31"})
    };
    let loose = ok(
        post(&app, "/api/v1/interventions", t, &flexibility(Value::Null)).await,
        StatusCode::CREATED,
    )["id"]
        .as_i64()
        .unwrap();
    let conflicts = get(&app, &format!("/api/v1/conflicts?system={system}"), t)
        .await
        .json();
    let raised = conflicts["conflicts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "flexibility_without_plan")
        .cloned()
        .expect("raised");
    assert_eq!(raised["intervention_ids"], json!([loose]));
    assert!(
        raised["explanation"]
            .as_str()
            .unwrap()
            .contains("only in support of change"),
        "{raised}"
    );
    // ...and resolved: closed, and granted again linked to the case.
    ok(
        post(
            &app,
            &format!("/api/v1/interventions/{loose}/close"),
            t,
            &json!({"reason": "granted again under the case"}),
        )
        .await,
        StatusCode::OK,
    );
    let linked = ok(
        post(&app, "/api/v1/interventions", t, &flexibility(json!(case_id))).await,
        StatusCode::CREATED,
    );
    assert_eq!(
        linked["conditions"],
        json!(["only while the urgent care network redesign is delivered"])
    );
    let conflicts = get(&app, &format!("/api/v1/conflicts?system={system}"), t)
        .await
        .json();
    assert!(
        !conflicts["conflicts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["kind"] == "flexibility_without_plan"),
        "{conflicts}"
    );

    // Returns: challenged, the system reports monthly from the sync; this month's is recorded.
    let returns = get(&app, &format!("/api/v1/returns?entity={system}"), t)
        .await
        .json();
    let own = returns["returns"].as_array().unwrap().clone();
    assert_eq!(own.len(), 1, "{returns}");
    assert_eq!(
        (own[0]["frequency"].as_str(), own[0]["outcome"].as_str()),
        (Some("monthly"), Some("challenged"))
    );
    let trust_returns = get(&app, &format!("/api/v1/returns?entity={trust}"), t)
        .await
        .json();
    assert_eq!(
        trust_returns["returns"][0]["outcome"], "segment 4",
        "{trust_returns}"
    );
    let recorded = ok(
        post(&app, "/api/v1/returns", t, &json!({"entity_code": system, "pack": "system-2015", "period": own[0]["period"], "note": "month's finance and performance"})).await,
        StatusCode::CREATED,
    );
    assert_eq!(recorded["status"], "submitted");
    // Again: refused, nothing written; another region's system: as missing.
    let before = app.state.db.audit().await.unwrap().len();
    let again = post(
        &app,
        "/api/v1/returns",
        t,
        &json!({"entity_code": system, "pack": "system-2015", "period": own[0]["period"]}),
    )
    .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", again.body);
    let elsewhere = post(
        &app,
        "/api/v1/returns",
        t,
        &json!({"entity_code": app.other_system, "pack": "system-2015", "period": own[0]["period"]}),
    )
    .await;
    assert_eq!(elsewhere.status, StatusCode::NOT_FOUND, "{}", elsewhere.body);
    assert_eq!(app.state.db.audit().await.unwrap().len(), before);

    // Milestones delivered, the criterion met, special measures lifted, the case closed.
    let case = get(&app, &case_uri, t).await.json();
    for c in case["commitments"].as_array().unwrap() {
        ok(
            post(
                &app,
                &format!("{case_uri}/commitments/{}/delivered", c["id"]),
                t,
                &json!({}),
            )
            .await,
            StatusCode::OK,
        );
    }
    ok(
        post(
            &app,
            &format!("{case_uri}/exit-criteria/{criterion}/met"),
            t,
            &json!({}),
        )
        .await,
        StatusCode::OK,
    );
    ok(
        post(
            &app,
            &format!("/api/v1/interventions/{sm_id}/close"),
            t,
            &json!({"reason": "quality recovered"}),
        )
        .await,
        StatusCode::OK,
    );
    let closed = ok(
        post(
            &app,
            &format!("{case_uri}/close"),
            t,
            &json!({"reason": "exit criteria met"}),
        )
        .await,
        StatusCode::OK,
    );
    assert_eq!(closed["status"], "closed");

    // The feed tells the story for the region.
    let feed = get(&app, "/api/v1/feed", t).await.json();
    let kinds: Vec<&str> = feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["system_code"] == system.as_str())
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    for k in [
        "intervention_opened",
        "case_opened",
        "commitment_added",
        "return_recorded",
        "milestone_delivered",
        "exit_criterion_met",
        "intervention_closed",
        "case_closed",
    ] {
        assert!(kinds.contains(&k), "{k} not in the feed: {kinds:?}");
    }
}
