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
            for name in r.params.iter().filter(|p| p.at == "query").map(|p| p.name) {
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
    // Ten failures in a minute, then 429 for the next bad token from the same address; a
    // valid token is never refused for them.
    for _ in 0..server::auth::MAX_FAILURES {
        get(&app, "/api/v1/systems", Some("fp_bad")).await;
    }
    let a = get(&app, "/api/v1/systems", Some("fp_bad")).await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(a.json()["code"], "too_many_failures");
    let a = get(&app, "/api/v1/systems", Some(&national)).await;
    assert_eq!(a.status, StatusCode::OK);
    // Without a token nothing is limited.
    assert_eq!(get(&app, "/api/v1/systems", None).await.status, StatusCode::OK);
}

/// A request with any headers, through the router.
async fn send(router: &axum::Router, req: axum::http::Request<axum::body::Body>) -> crate::Answer {
    use tower::ServiceExt;
    let res = router.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap();
    crate::Answer {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

fn request(
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> axum::http::Request<axum::body::Body> {
    let mut r = axum::http::Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    r.body(axum::body::Body::from(body.to_string())).unwrap()
}

fn set_cookies(a: &crate::Answer) -> Vec<String> {
    a.headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn dashboard_sessions_csrf_and_same_origin() {
    let app = app().await;
    let national = app.token("national").to_string();
    let form = ("content-type", "application/x-www-form-urlencoded");

    // Signing in opens a server-side session: the cookie holds a random id, not the token.
    let a = send(
        &app.router,
        request("POST", "/login", &[form], &format!("token={national}")),
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let c = set_cookies(&a).pop().unwrap();
    assert!(c.starts_with("fp_session="), "{c}");
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(c.contains(attr), "{c}");
    }
    assert!(!c.contains(&national) && !c.contains("Secure"), "{c}");
    let id = c["fp_session=".len()..].split(';').next().unwrap().to_string();
    assert_eq!(id.len(), 64);
    let cookie = format!("fp_session={id}");

    // Pages know the caller, and the sign-out form carries the session's CSRF token.
    let page = send(&app.router, request("GET", "/", &[("cookie", &cookie)], "")).await;
    assert!(page.body.contains("Signed in: national"), "{}", page.body);
    let csrf = page
        .body
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_string();
    assert_eq!(csrf.len(), 64);

    // The session never authorises an API write: the browser would send its cookie with a
    // forged request too.
    let body = serde_json::json!({
        "regulator": "nhs_england", "target_kind": "organisation", "target_code": app.trust,
        "kind": "capacity_support", "provider": "management consultants", "cost": 250000.0, "legal_basis": "NHS Act 2006 s.13Z", "actions": ["x"],
        "start_date": "2025-05-01", "deadline": null, "case_id": null, "levers": []
    })
    .to_string();
    let a = send(
        &app.router,
        request(
            "POST",
            "/api/v1/interventions",
            &[("cookie", &cookie), ("content-type", "application/json")],
            &body,
        ),
    )
    .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{}", a.body);
    // API writes take JSON only.
    let bearer = format!("Bearer {national}");
    let a = send(
        &app.router,
        request(
            "POST",
            "/api/v1/interventions",
            &[("authorization", &bearer), ("content-type", "text/plain")],
            &body,
        ),
    )
    .await;
    assert_eq!(a.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{}", a.body);
    // Only the Bearer scheme is read.
    let a = send(
        &app.router,
        request(
            "GET",
            "/api/v1/cases",
            &[("authorization", &format!("Basic {national}"))],
            "",
        ),
    )
    .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);

    // Signing out needs the CSRF token; with it, the session is closed and the cookie cleared.
    let a = send(
        &app.router,
        request("POST", "/logout", &[form, ("cookie", &cookie)], "csrf=0"),
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.body);
    assert_eq!(app.state.sessions.len(), 1);
    let a = send(
        &app.router,
        request(
            "POST",
            "/logout",
            &[form, ("cookie", &cookie)],
            &format!("csrf={csrf}"),
        ),
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert!(
        set_cookies(&a)
            .iter()
            .any(|c| c.starts_with("fp_session=;") && c.contains("Max-Age=0"))
    );
    assert_eq!(app.state.sessions.len(), 0);

    // A stale or forged cookie is anonymous (every page answers) and is cleared.
    for stale in [
        cookie.as_str(),
        "fp_session=nonsense",
        &format!("fp_token={national}"),
    ] {
        let a = send(&app.router, request("GET", "/", &[("cookie", stale)], "")).await;
        assert_eq!(a.status, StatusCode::OK, "{stale}");
        assert!(a.body.contains("href=\"/login\""), "{stale}");
        assert!(set_cookies(&a).iter().any(|c| c.contains("Max-Age=0")), "{stale}");
        let a = send(
            &app.router,
            request("GET", "/api/v1/cases", &[("cookie", stale)], ""),
        )
        .await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{stale}");
    }

    // Changes come from this site only.
    for (k, v) in [
        ("sec-fetch-site", "cross-site"),
        ("origin", "https://evil.example"),
        ("sec-fetch-site", "same-site"),
    ] {
        let a = send(
            &app.router,
            request(
                "POST",
                "/login",
                &[form, (k, v), ("host", "footprint.test")],
                &format!("token={national}"),
            ),
        )
        .await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{k}: {v}");
        assert_eq!(a.json()["code"], "cross_site");
    }
    let a = send(
        &app.router,
        request(
            "POST",
            "/login",
            &[
                form,
                ("origin", "http://footprint.test"),
                ("host", "footprint.test"),
                ("sec-fetch-site", "same-origin"),
            ],
            &format!("token={national}"),
        ),
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn behind_https_the_cookie_is_host_prefixed_and_secure() {
    let app = app().await;
    let db = app.state.db.clone();
    let state = server::state_from(
        crate::loaded(),
        db,
        server::Options::new(Some("https://footprint.example.nhs.uk/".into()), None),
    );
    let router = server::router(state);
    let national = app.token("national");
    let a = send(
        &router,
        request(
            "POST",
            "/login",
            &[
                ("content-type", "application/x-www-form-urlencoded"),
                ("origin", "https://footprint.example.nhs.uk"),
            ],
            &format!("token={national}"),
        ),
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let c = set_cookies(&a).pop().unwrap();
    assert!(
        c.starts_with("__Host-fp_session=") && c.contains("; Secure") && c.contains("Path=/"),
        "{c}"
    );
    // The plain cookie name is not read there.
    let id = c["__Host-fp_session=".len()..].split(';').next().unwrap();
    let page = send(
        &router,
        request("GET", "/", &[("cookie", &format!("fp_session={id}"))], ""),
    )
    .await;
    assert!(page.body.contains("href=\"/login\""));
    let page = send(
        &router,
        request("GET", "/", &[("cookie", &format!("__Host-fp_session={id}"))], ""),
    )
    .await;
    assert!(page.body.contains("Signed in"));
}

#[tokio::test(flavor = "multi_thread")]
async fn tokens_expire_record_their_use_and_act_as_their_regulators() {
    let app = app().await;
    let db = &app.state.db;
    let (t, secret) = db
        .create_token_with(
            "short",
            "national",
            None,
            &store::tokens::TokenLimits {
                expires_in: Some(std::time::Duration::from_millis(30)),
                regulators: vec![],
            },
            "test",
        )
        .await
        .unwrap();
    assert!(t.expires_at.is_some());
    assert_eq!(
        get(&app, "/api/v1/cases", Some(&secret)).await.status,
        StatusCode::OK
    );
    let used = db
        .tokens()
        .await
        .unwrap()
        .into_iter()
        .find(|x| x.id == t.id)
        .unwrap();
    assert!(used.last_used_at.is_some(), "{used:?}");
    tokio::time::sleep(std::time::Duration::from_millis(60)).await;
    let a = get(&app, "/api/v1/cases", Some(&secret)).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED, "an expired token is refused");

    // A token limited to one regulator cannot open an intervention as another.
    let (_, monitor) = db
        .create_token_with(
            "monitor only",
            "national",
            None,
            &store::tokens::TokenLimits {
                expires_in: None,
                regulators: vec!["monitor".into()],
            },
            "test",
        )
        .await
        .unwrap();
    let body = |regulator: &str| {
        serde_json::json!({
            "regulator": regulator, "target_kind": "organisation", "target_code": app.trust,
            "kind": "capacity_support", "provider": "management consultants", "cost": 250000.0, "legal_basis": "NHS Act 2006 s.13Z", "actions": ["x"],
            "start_date": "2025-05-01", "deadline": null, "case_id": null, "levers": []
        })
        .to_string()
    };
    let a = call(
        &app.router,
        "POST",
        "/api/v1/interventions",
        Some(&monitor),
        Some(&body("nhs_england")),
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.body);
    let a = call(
        &app.router,
        "POST",
        "/api/v1/interventions",
        Some(&monitor),
        Some(&body("monitor")),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    // Unknown regulators are refused when the token is made.
    assert!(
        db.create_token_with(
            "x",
            "national",
            None,
            &store::tokens::TokenLimits {
                expires_in: None,
                regulators: vec!["nobody".into()],
            },
            "test"
        )
        .await
        .is_err()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_write_reaches_only_cases_and_levers_in_scope() {
    let app = app().await;
    let regional = app.token("regional").to_string();
    let body = |target: &str, case: Option<i64>, levers: serde_json::Value| {
        serde_json::json!({
            "regulator": "nhs_england", "target_kind": "organisation", "target_code": target,
            "kind": "capacity_support", "provider": "management consultants", "cost": 250000.0, "legal_basis": "NHS Act 2006 s.13Z", "actions": ["x"],
            "start_date": "2025-05-01", "deadline": null, "case_id": case, "levers": levers
        })
        .to_string()
    };
    let post = |b: String| {
        let r = app.router.clone();
        let t = regional.clone();
        async move { call(&r, "POST", "/api/v1/interventions", Some(&t), Some(&b)).await }
    };
    // Out of scope and missing answer alike.
    let outside = post(body(&app.other_trust, None, serde_json::json!([]))).await;
    let missing = post(body("ZZZ99", None, serde_json::json!([]))).await;
    assert_eq!(outside.status, StatusCode::NOT_FOUND, "{}", outside.body);
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", missing.body);
    let lever = serde_json::json!([{"org_code": app.other_trust, "lever": "acute_beds", "amount": -5.0}]);
    let a = post(body(&app.trust, None, lever)).await;
    assert_eq!(
        a.status,
        StatusCode::NOT_FOUND,
        "a lever outside the scope: {}",
        a.body
    );
    let a = post(body(&app.trust, Some(999_999), serde_json::json!([]))).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND, "{}", a.body);
    // Levers are deduplicated and capped.
    let many: Vec<serde_json::Value> = (0..(server::api::MAX_LEVERS + 1))
        .map(|i| serde_json::json!({"org_code": app.trust, "lever": format!("lever_{i}"), "amount": 1.0}))
        .collect();
    let a = post(body(&app.trust, None, serde_json::Value::Array(many))).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.body);
    let same: Vec<serde_json::Value> = (0..server::api::MAX_LEVERS)
        .map(|_| serde_json::json!({"org_code": app.trust, "lever": "acute_beds", "amount": -1.0}))
        .collect();
    let a = post(body(
        &app.trust,
        Some(app.case_id),
        serde_json::Value::Array(same),
    ))
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    let levers = a.json()["levers"].clone();
    assert_eq!(levers.as_array().map(Vec::len), Some(1), "{levers}");
    assert_eq!(levers[0]["amount"], -(server::api::MAX_LEVERS as f64));
}

#[test]
fn the_failure_limiter_is_bounded_and_keys_ipv6_by_its_64() {
    let limiter = server::auth::Limiter::default();
    for i in 0..(server::auth::MAX_TRACKED as u32 + 5_000) {
        limiter.fail(Some(std::net::IpAddr::V4(std::net::Ipv4Addr::from(i))));
    }
    assert!(limiter.len() <= server::auth::MAX_TRACKED, "{}", limiter.len());
    // Addresses within one /64 share a count; IPv4 mapped into IPv6 is IPv4.
    let key = |s: &str| server::client_key(Some(s.parse().unwrap()));
    assert_eq!(key("2001:db8:1:2::1"), key("2001:db8:1:2:ffff::9"));
    assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
    assert_eq!(key("::ffff:192.0.2.1"), key("192.0.2.1"));
}
