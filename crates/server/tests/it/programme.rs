//! The new care models programme over HTTP: read with a token, written with a token that may
//! write, every refusal with its status.

use crate::{app, call, get, programme_round};
use axum::http::StatusCode;

#[tokio::test(flavor = "multi_thread")]
async fn the_programme_is_read_and_written_over_the_api() {
    let app = app().await;
    let summary = programme_round(&app).await;
    assert_eq!(summary.applications, 40);
    assert_eq!(summary.refused.len(), 2);
    assert_eq!(summary.slipping.len(), 1, "{:?}", summary.slipping);

    // Reading needs a token.
    assert_eq!(
        get(&app, "/api/v1/programme", None).await.status,
        StatusCode::UNAUTHORIZED
    );
    let a = get(&app, "/api/v1/programme", Some(app.token("system"))).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let v = a.json();
    let apps = v["applications"].as_array().unwrap();
    assert_eq!(apps.len(), 40);
    let refused: Vec<_> = apps.iter().filter(|a| a["status"] == "refused").collect();
    assert_eq!(refused.len(), 2);
    for r in &refused {
        assert_eq!(r["refusals"][0]["rule"], "deficit_support");
        assert!(
            r["refusals"][0]["reason"]
                .as_str()
                .unwrap()
                .contains("would fund an existing deficit")
        );
    }
    // Ranked 1 to 40, each counted application with a mean z-score; the appraisal's NPV.
    let mut ranks: Vec<u64> = apps.iter().map(|a| a["rank"].as_u64().unwrap()).collect();
    ranks.sort_unstable();
    assert_eq!(ranks, (1..=40).collect::<Vec<u64>>());
    assert!(apps.iter().all(|a| a["appraisal"]["npv"].is_number()));
    assert!(
        v["excluded_reviews"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["reason"] == "declared conflict")
    );
    let sel = &v["selection"]["result"];
    assert_eq!(sel["feasible"], true);
    assert_eq!(sel["proven_optimal"], true);
    assert!(
        sel["limits"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["binds"] == true)
    );
    let slipping: Vec<_> = v["drawdown"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| !d["slipping"].as_array().unwrap().is_empty())
        .collect();
    assert_eq!(slipping.len(), 1);
    let covered: f64 = v["drawdown"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["covered"].as_f64().unwrap())
        .sum();
    assert!(covered > 0.0);
    assert_eq!(
        get(
            &app,
            "/api/v1/programme?as_of=2025-13-45",
            Some(app.token("national"))
        )
        .await
        .status,
        StatusCode::BAD_REQUEST
    );
    // Earlier, nothing is slipping yet.
    let early = get(
        &app,
        "/api/v1/programme?as_of=2020-01-01",
        Some(app.token("national")),
    )
    .await
    .json();
    assert!(
        early["drawdown"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["slipping"].as_array().unwrap().is_empty())
    );

    // Writing: a review, once.
    let id = apps.iter().find(|a| a["status"] == "selected").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let body = format!(
        r#"{{"reviewer_org_code": "ASSESSOR1", "application_id": "{id}", "score": 7, "comment": "strong decommissioning plan"}}"#
    );
    let national = Some(app.token("national"));
    let r = call(
        &app.router,
        "POST",
        "/api/v1/programme/reviews",
        national,
        Some(&body),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = call(
        &app.router,
        "POST",
        "/api/v1/programme/reviews",
        national,
        Some(&body),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let r = call(
        &app.router,
        "POST",
        "/api/v1/programme/reviews",
        national,
        Some(r#"{"reviewer_org_code": "X", "application_id": "nope", "score": 1}"#),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    // A system token cannot write.
    let r = call(
        &app.router,
        "POST",
        "/api/v1/programme/reviews",
        Some(app.token("system")),
        Some(&body),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // The slipping milestone's tranche is not released until the milestone is met.
    let slipper = slipping[0]["application_id"].as_str().unwrap();
    let milestone = v["milestones"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["application_id"] == slipper && m["met_on"].is_null())
        .unwrap();
    let mid = milestone["id"].as_i64().unwrap();
    let tranche = v["tranches"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["milestone_id"] == mid)
        .unwrap();
    let tid = tranche["id"].as_i64().unwrap();
    let r = call(
        &app.router,
        "POST",
        &format!("/api/v1/programme/tranches/{tid}/release"),
        national,
        Some(r#"{"date": "2025-06-30"}"#),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.json()["message"].as_str().unwrap().contains("not met"));
    let r = call(
        &app.router,
        "POST",
        &format!("/api/v1/programme/milestones/{mid}/met"),
        national,
        Some(r#"{"date": "2025-06-01"}"#),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["met_on"], "2025-06-01");
    let r = call(
        &app.router,
        "POST",
        &format!("/api/v1/programme/tranches/{tid}/release"),
        national,
        Some(r#"{"date": "2025-06-30"}"#),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["status"], "released");
    let r = call(
        &app.router,
        "POST",
        "/api/v1/programme/tranches/999999/release",
        national,
        Some(r#"{"date": "2025-06-30"}"#),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // A legal-advice request for a care model.
    let model = v["care_models"][0]["code"].as_str().unwrap();
    let body = format!(
        r#"{{"care_model_code": "{model}", "kind": "legal_advice", "subject": "Is a prime contractor a procurement?", "detail": "Yes: advertise it", "adviser": "counsel", "on_date": "2025-05-01"}}"#
    );
    let r = call(
        &app.router,
        "POST",
        "/api/v1/programme/flexibilities",
        national,
        Some(&body),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let after = get(&app, "/api/v1/programme", national).await.json();
    assert!(
        after["drawdown"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["slipping"].as_array().unwrap().is_empty())
    );
    assert!(
        after["flexibilities"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["adviser"] == "counsel")
    );
    // Every change audited under the token's name.
    let audit = app.state.db.audit().await.unwrap();
    assert!(
        audit
            .iter()
            .any(|a| a.action == "release_tranche" && a.actor.starts_with("token:national"))
    );

    // Every write: 401 without a token, 403 for tokens that cannot write, nothing audited.
    let before = app.state.db.audit().await.unwrap().len();
    for r in server::openapi::ROUTES
        .iter()
        .filter(|r| crate::api::programme_write(r))
    {
        let uri = r.path.replace("{id}", &mid.to_string());
        for (role, expected) in [
            (None, StatusCode::UNAUTHORIZED),
            (Some("system"), StatusCode::FORBIDDEN),
            (Some("organisation"), StatusCode::FORBIDDEN),
        ] {
            let a = call(
                &app.router,
                "POST",
                &uri,
                role.map(|r| app.token(r)),
                Some(r#"{"date": "2025-06-30"}"#),
            )
            .await;
            assert_eq!(a.status, expected, "{role:?} {uri}: {}", a.body);
        }
        // The documented success status.
        assert_eq!(
            r.ok_status(),
            if r.id.starts_with("add_") { "201" } else { "200" }
        );
    }
    assert_eq!(app.state.db.audit().await.unwrap().len(), before);

    // The page: signed-out users are told to sign in; the programme is not shown.
    let page = get(&app, "/programme", None).await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    assert!(!page.body.contains("application-1"));
}
