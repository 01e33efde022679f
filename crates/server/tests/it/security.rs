//! Hostile input: injection and traversal in every parameter, oversized and malformed
//! bodies, invalid tokens and their rate limit. All refused cleanly, never a 500.

use crate::{app, call, get};
use axum::http::StatusCode;
use server::openapi::ROUTES;

const HOSTILE: [&str; 6] = [
    "' OR '1'='1",
    "1; DROP TABLE cases; --",
    "../../../../etc/passwd",
    "..%2F..%2Fetc%2Fpasswd",
    "%00",
    "<script>alert(1)</script>",
];

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn injection_and_traversal_in_every_parameter_are_refused_cleanly() {
    let app = app().await;
    let national = app.token("national").to_string();
    let before = app.state.db.audit().await.unwrap().len();
    for r in ROUTES.iter().filter(|r| r.method == "get") {
        for h in HOSTILE {
            // In each path segment that is a parameter.
            if r.path.contains('{') {
                let mut uri = String::new();
                for seg in r.path.split('/').filter(|s| !s.is_empty()) {
                    uri.push('/');
                    uri.push_str(&if seg.starts_with('{') {
                        enc(h)
                    } else {
                        seg.to_string()
                    });
                }
                let a = get(&app, &uri, Some(&national)).await;
                assert!(
                    matches!(a.status, StatusCode::BAD_REQUEST | StatusCode::NOT_FOUND),
                    "{uri}: {}",
                    a.status
                );
                assert!(a.json()["code"].is_string());
                // Echoed only inside JSON, never as markup.
                assert!(a.content_type().starts_with("application/json"));
            }
            // In each query parameter.
            for (name, _, _, _) in r.params.iter().filter(|p| p.1 == "query") {
                let path = r
                    .path
                    .replace("{id}", "ae_4h")
                    .replace("{code}", &app.system)
                    .replace("{pack}", "system-2015");
                let uri = format!("{path}?{name}={}", enc(h));
                let a = get(&app, &uri, Some(&national)).await;
                assert_eq!(a.status, StatusCode::BAD_REQUEST, "{uri}: {}", a.body);
                assert_eq!(a.json()["code"], "bad_request");
            }
        }
    }
    // Pages too.
    for page in ["/systems/", "/organisations/", "/cases/"] {
        for h in HOSTILE {
            let a = get(&app, &format!("{page}{}", enc(h)), Some(&national)).await;
            assert!(
                matches!(a.status, StatusCode::BAD_REQUEST | StatusCode::NOT_FOUND),
                "{page}{h}: {}",
                a.status
            );
            assert!(!a.body.contains("<script>alert"));
        }
    }
    assert_eq!(
        app.state.db.audit().await.unwrap().len(),
        before,
        "nothing changed"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_bodies_and_bad_tokens_are_refused() {
    let app = app().await;
    let national = app.token("national").to_string();
    let big = format!("{{\"regulator\": \"{}\"}}", "x".repeat(server::BODY_LIMIT + 10));
    let a = call(
        &app.router,
        "POST",
        "/api/v1/interventions",
        Some(&national),
        Some(&big),
    )
    .await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(a.json()["code"], "too_large");
    for bad in ["{", "[]", "{\"regulator\": 5}", "null", ""] {
        let a = call(
            &app.router,
            "POST",
            "/api/v1/interventions",
            Some(&national),
            Some(bad),
        )
        .await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{bad:?}: {}", a.body);
        assert!(a.json()["message"].as_str().unwrap().starts_with("the body: "));
    }
    for bad in [
        "fp_0000",
        "Basic dXNlcjpwYXNz",
        &format!("fp_{}", "0".repeat(64)),
        "' OR 1=1 --",
    ] {
        let a = get(&app, "/api/v1/systems", Some(bad)).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{bad}");
        assert_eq!(a.json()["code"], "invalid_token");
        assert_eq!(a.headers.get("www-authenticate").unwrap(), "Bearer");
    }
    // Ten failures in a minute, then 429 even for a good token from the same address.
    for _ in 0..server::auth::MAX_FAILURES {
        get(&app, "/api/v1/systems", Some("fp_bad")).await;
    }
    let a = get(&app, "/api/v1/systems", Some(&national)).await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(a.json()["code"], "too_many_failures");
    // Without a token nothing is limited.
    assert_eq!(get(&app, "/api/v1/systems", None).await.status, StatusCode::OK);
}
