//! The learning library over HTTP: every planted vanguard is a site with an entry, evaluated
//! under a registered protocol with a monthly history, from the published table.

use crate::{app, fixture, get};
use axum::http::StatusCode;
use serde_json::Value;

#[tokio::test]
async fn every_vanguard_has_a_library_entry() {
    let a = app().await;
    let f = fixture();
    let r = get(&a, "/api/v1/evaluation/library", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let v: Value = serde_json::from_str(&r.body).unwrap();
    let entries = v["entries"].as_array().unwrap();
    assert_eq!(entries.len(), f.truth.vanguard.len());
    for (e, t) in entries.iter().zip(&f.truth.vanguard) {
        assert_eq!(e["site"]["model"], t.model.as_str());
        assert_eq!(e["site"]["start"], t.start.as_str());
        // One protocol per outcome, its hash the SHA-256 of its body.
        let protocols = e["protocols"].as_array().unwrap();
        assert_eq!(protocols.len(), 1);
        assert_eq!(protocols[0][1].as_str().unwrap().len(), 64);
        // A run for every month since the start.
        assert_eq!(e["history"].as_array().unwrap().len(), 11, "{}", e["site"]["id"]);
    }
    // Search by care model.
    let m = &f.truth.vanguard[0].model;
    let r = get(&a, &format!("/api/v1/evaluation/library?model={m}"), None).await;
    let v: Value = serde_json::from_str(&r.body).unwrap();
    assert!(
        v["entries"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["site"]["model"] == m.as_str())
    );
    assert!(!v["entries"].as_array().unwrap().is_empty());
    let r = get(&a, "/api/v1/evaluation/library?model=no_such_model", None).await;
    let v: Value = serde_json::from_str(&r.body).unwrap();
    assert!(v["entries"].as_array().unwrap().is_empty());
    // One site; an unknown one is 404; a malformed id 400.
    let r = get(&a, "/api/v1/evaluation/sites/vanguard-1", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        get(&a, "/api/v1/evaluation/sites/nope", None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&a, "/api/v1/evaluation/sites/a%20b", None).await.status,
        StatusCode::BAD_REQUEST
    );
    // Every DiD that allowed for shocks shared by a whole site says how, on the page too.
    let r = get(&a, "/api/v1/evaluation/library", None).await;
    let v: Value = serde_json::from_str(&r.body).unwrap();
    let widened: Vec<(f64, u64)> = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| e["evaluations"].as_array().unwrap().clone())
        .filter_map(|ev| {
            let d = &ev["difference_in_differences"];
            Some((d["site_level_sd"].as_f64()?, d["peer_groups"].as_u64()?))
        })
        .collect();
    let page = get(&a, "/learning", None).await.body;
    for (sd, groups) in &widened {
        assert!(*groups >= 5, "peer groups {groups}");
        let said = format!("SD {:.1}% from {groups} peer groups", 100.0 * sd);
        assert!(page.contains(&said), "{said}");
    }
    // The page lists every site.
    let r = get(&a, "/learning", None).await;
    assert_eq!(r.status, StatusCode::OK);
    for i in 1..=f.truth.vanguard.len() {
        assert!(
            r.body.contains(&format!("id=\"site-vanguard-{i}\"")),
            "vanguard-{i}"
        );
    }
}
