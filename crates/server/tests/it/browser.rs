//! The dashboard in a real headless Chromium, driven through chromedriver (WebDriver) by
//! fantoccini. Switched on by `FOOTPRINT_TEST_CHROMEDRIVER` (the chromedriver binary;
//! `FOOTPRINT_TEST_CHROMIUM` names the browser, default `/usr/bin/chromium`); without it the
//! test prints `SKIPPED:`, which `.ci/run` treats as a failure. Screenshots are saved under
//! `target/tmp/screenshots/`.

use crate::app;
use fantoccini::{ClientBuilder, Locator};
use std::time::Duration;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Driver(std::process::Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_dashboard_renders_and_navigates_in_chromium() {
    let Ok(chromedriver) = std::env::var("FOOTPRINT_TEST_CHROMEDRIVER") else {
        println!("SKIPPED: dashboard in Chromium (set FOOTPRINT_TEST_CHROMEDRIVER to a chromedriver binary)");
        return;
    };
    let chromium = std::env::var("FOOTPRINT_TEST_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let app = app().await;
    // The server on a loopback port.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = app.router.clone();
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
        .unwrap();
    });
    let port = free_port();
    let _driver = Driver(
        std::process::Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {chromedriver}: {e}")),
    );
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1800"],
        }),
    );
    let mut client = None;
    for _ in 0..50 {
        match ClientBuilder::rustls()
            .unwrap()
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(c) => {
                client = Some(c);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
    let c = client.expect("chromedriver answers");
    let shots = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let shot = |name: &'static str, png: Vec<u8>| {
        std::fs::write(shots.join(name), png).unwrap();
    };

    // England: the map of 106 sub-ICB locations and the league table.
    c.goto(&format!("{base}/")).await.unwrap();
    assert_eq!(c.title().await.unwrap(), "England — Footprint");
    let areas = c.find_all(Locator::Css("svg.map path.area")).await.unwrap();
    assert_eq!(areas.len(), 106);
    let challenged = c
        .find_all(Locator::Css("svg.map path.f-challenged"))
        .await
        .unwrap();
    assert!(!challenged.is_empty(), "the challenged systems are coloured");
    let rows = c.find_all(Locator::Css("main table tbody tr")).await.unwrap();
    assert_eq!(rows.len(), app.state.results.systems.len());
    shot("england.png", c.screenshot().await.unwrap());

    // Sign in with a national token, so the system page shows the regime's detail.
    c.goto(&format!("{base}/login")).await.unwrap();
    c.find(Locator::Id("token"))
        .await
        .unwrap()
        .send_keys(app.token("national"))
        .await
        .unwrap();
    c.find(Locator::Css("main form button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    if let Err(e) = c.wait().for_element(Locator::Css("svg.map")).await {
        panic!("after signing in: {e}: {}", c.source().await.unwrap_or_default());
    }

    // Click through to the challenged system from the league table.
    c.find(Locator::Css(&format!(
        "main table a[href='/systems/{}']",
        app.system
    )))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    let h1 = c
        .wait()
        .for_element(Locator::Css("h1"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(h1.contains(&app.system), "{h1}");
    let charts = c.find_all(Locator::Css("svg.spc")).await.unwrap();
    assert!(!charts.is_empty(), "SPC charts");
    let points = c.find_all(Locator::Css("svg.spc circle.point")).await.unwrap();
    assert!(points.len() >= 12, "{} points", points.len());
    assert!(
        !c.find_all(Locator::Css("svg.funnel circle"))
            .await
            .unwrap()
            .is_empty(),
        "funnel plot"
    );
    let conflict = c
        .find(Locator::Css("ul.conflicts li[data-kind='unlinked']"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        conflict.contains(&app.trust) && conflict.contains("unlinked"),
        "{conflict}"
    );
    let plan = c
        .find(Locator::Css("table.plan"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        plan.contains("County council") && plan.contains("2025-12-31"),
        "{plan}"
    );
    shot("system.png", c.screenshot().await.unwrap());

    // And to a trust.
    c.find(Locator::Css(&format!(
        "main a[href='/organisations/{}']",
        app.trust
    )))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    let h1 = c
        .wait()
        .for_element(Locator::Css("h1"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(h1.contains(&app.trust), "{h1}");
    let body = c.find(Locator::Css("main")).await.unwrap().text().await.unwrap();
    assert!(
        body.contains("Assessments") && body.contains("enforcement undertaking"),
        "{body}"
    );
    shot("trust.png", c.screenshot().await.unwrap());

    // The case page.
    c.goto(&format!("{base}/cases/{}", app.case_id)).await.unwrap();
    let body = c.find(Locator::Css("main")).await.unwrap().text().await.unwrap();
    assert!(
        body.contains("Recovery plan") && body.contains("Interventions in the system"),
        "{body}"
    );
    shot("case.png", c.screenshot().await.unwrap());

    // The session: the cookie holds a random id, not the token, and scripts cannot read it.
    let cookie = c.get_named_cookie("fp_session").await.unwrap();
    assert_eq!(cookie.http_only(), Some(true));
    assert_eq!(cookie.value().len(), 64);
    assert_ne!(cookie.value(), app.token("national"));
    assert_eq!(app.state.sessions.len(), 1);

    // Sign out through the page's form (it carries the session's CSRF token): the session
    // is closed on the server, and the case is no longer shown.
    c.find(Locator::Css("form[action='/logout'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("a[href='/login']"))
        .await
        .unwrap();
    assert_eq!(app.state.sessions.len(), 0, "signing out closes the session");
    c.goto(&format!("{base}/cases/{}", app.case_id)).await.unwrap();
    let body = c.find(Locator::Css("main")).await.unwrap().text().await.unwrap();
    assert!(!body.contains("Recovery plan"), "{body}");
    c.close().await.unwrap();
}
