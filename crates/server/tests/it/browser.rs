//! The dashboard in a real headless Chromium, driven through chromedriver (WebDriver) by
//! fantoccini. Switched on by `FOOTPRINT_TEST_CHROMEDRIVER` (the chromedriver binary;
//! `FOOTPRINT_TEST_CHROMIUM` names the browser, default `/usr/bin/chromium`); without it the
//! test prints `SKIPPED:`, which `.ci/run` treats as a failure. Screenshots are saved under
//! `target/tmp/screenshots/`.

use crate::app;
use fantoccini::{ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
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

/// The app served on a loopback port, and Chromium driven through chromedriver; `None`
/// (after printing `SKIPPED:`) without `FOOTPRINT_TEST_CHROMEDRIVER`.
pub struct Browser {
    pub app: crate::App,
    pub client: fantoccini::Client,
    pub base: String,
    shots: std::path::PathBuf,
    _driver: Driver,
}

impl Browser {
    pub async fn start() -> Option<Browser> {
        let Ok(chromedriver) = std::env::var("FOOTPRINT_TEST_CHROMEDRIVER") else {
            synth::testing::skipped(
                "dashboard in Chromium (set FOOTPRINT_TEST_CHROMEDRIVER to a chromedriver binary)",
            );
            return None;
        };
        let chromium =
            std::env::var("FOOTPRINT_TEST_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
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
        let driver = Driver(
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
            match ClientBuilder::new(HttpConnector::new())
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
        let shots = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
        std::fs::create_dir_all(&shots).unwrap();
        Some(Browser {
            app,
            client: client.expect("chromedriver answers"),
            base,
            shots,
            _driver: driver,
        })
    }

    /// Where screenshots go.
    pub fn shots_dir(&self) -> &std::path::Path {
        &self.shots
    }

    /// Ends the browser session (and so the browser chromedriver started).
    pub async fn close(self) {
        self.client.close().await.unwrap();
    }

    /// Signs in through the login form with the app's token of `role`.
    pub async fn sign_in(&self, role: &str) {
        let c = &self.client;
        c.goto(&format!("{}/login", self.base)).await.unwrap();
        c.find(Locator::Id("token"))
            .await
            .unwrap()
            .send_keys(self.app.token(role))
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
    }
}

async fn shot(b: &Browser, name: &str) {
    std::fs::write(b.shots.join(name), b.client.screenshot().await.unwrap()).unwrap();
}

async fn fill(form: &fantoccini::elements::Element, id: &str, text: &str) {
    let e = form
        .find(Locator::Id(id))
        .await
        .unwrap_or_else(|e| panic!("#{id}: {e}"));
    e.clear().await.unwrap();
    e.send_keys(text).await.unwrap();
}

async fn select(form: &fantoccini::elements::Element, id: &str, value: &str) {
    form.find(Locator::Id(id))
        .await
        .unwrap_or_else(|e| panic!("#{id}: {e}"))
        .select_by_value(value)
        .await
        .unwrap_or_else(|e| panic!("#{id} = {value}: {e}"));
}

/// A date input, set as the browser's date picker would (typing depends on the locale).
async fn date(c: &fantoccini::Client, id: &str, value: &str) {
    c.execute(
        "document.getElementById(arguments[0]).value = arguments[1];",
        vec![serde_json::json!(id), serde_json::json!(value)],
    )
    .await
    .unwrap();
}

async fn submit(c: &fantoccini::Client, form: &fantoccini::elements::Element) {
    let button = form.find(Locator::Css("button[type='submit']")).await.unwrap();
    click_through(c, &button).await;
}

/// Clicks a form's button and waits for the page it leads to: the old page's root goes stale.
async fn click_through(c: &fantoccini::Client, button: &fantoccini::elements::Element) {
    let old = c.find(Locator::Css("html")).await.unwrap();
    button.click().await.unwrap();
    for _ in 0..200 {
        if old.tag_name().await.is_err() {
            c.wait().for_element(Locator::Css("main")).await.unwrap();
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the form led nowhere: {}", c.source().await.unwrap_or_default());
}

async fn main_text(c: &fantoccini::Client) -> String {
    c.find(Locator::Css("main")).await.unwrap().text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_dashboard_renders_and_navigates_in_chromium() {
    let Some(b) = Browser::start().await else { return };
    let (app, c, base) = (&b.app, &b.client, &b.base);
    let shot = |name: &'static str, png: Vec<u8>| {
        std::fs::write(b.shots.join(name), png).unwrap();
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
    b.sign_in("national").await;

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
    b.close().await;
}

/// The whole cycle through the dashboard's forms in Chromium, as a regional user: special
/// measures recorded on the system page, the case the next sync opens, a plan with five kinds
/// of stakeholder, a flexibility granted without a plan (a conflict) and closed, a return
/// recorded, milestones delivered, a criterion met, the case closed.
#[tokio::test(flavor = "multi_thread")]
async fn a_regional_user_runs_the_whole_cycle_through_the_forms() {
    let Some(b) = Browser::start().await else { return };
    let (app, c, base) = (&b.app, &b.client, &b.base);
    let (system, trust) = crate::quiet_trust(app);
    b.sign_in("regional").await;

    // Special measures, through the system page's form.
    c.goto(&format!("{base}/systems/{system}")).await.unwrap();
    let form = c.find(Locator::Id("form-intervention")).await.unwrap();
    select(&form, "n-regulator", "monitor").await;
    select(&form, "n-target", &trust).await;
    select(&form, "n-kind", "special_measures").await;
    fill(&form, "n-basis", "Health and Social Care Act 2012 s.106").await;
    date(c, "n-start", "2025-04-01").await;
    fill(&form, "n-action", "appoint an improvement director").await;
    submit(c, &form).await;
    let body = main_text(c).await;
    assert!(body.contains("special measures"), "{body}");
    let sm = app
        .state
        .db
        .interventions()
        .await
        .unwrap()
        .into_iter()
        .find(|i| i.target_code == trust && i.kind == "special_measures")
        .expect("recorded");
    assert_eq!(sm.regulator, "monitor");

    // The next sync opens the case; its page shows it with its forms.
    let synced = crate::sync_now(app).await;
    let case_id = synced
        .opened
        .iter()
        .find(|(s, _)| *s == system)
        .expect("a case for the system")
        .1;
    c.goto(&format!("{base}/cases/{case_id}")).await.unwrap();
    let body = main_text(c).await;
    assert!(
        body.contains("special_measures") && body.contains("Reporting"),
        "{body}"
    );

    // The plan, one commitment per kind of stakeholder.
    for (who, kind, model, lever) in [
        (
            trust.as_str(),
            "trust",
            "urgent_and_emergency_care_network",
            Some(("acute_beds", "-10")),
        ),
        (
            "Clinical commissioning group",
            "commissioner",
            "primary_and_acute_care_system",
            None,
        ),
        (
            "Riverside GP federation",
            "primary_care",
            "multispecialty_community_provider",
            None,
        ),
        (
            "County council",
            "local_government",
            "enhanced_health_in_care_homes",
            None,
        ),
        (
            "Hospice at home",
            "third_sector",
            "enhanced_health_in_care_homes",
            None,
        ),
    ] {
        let form = c.find(Locator::Id("form-commitment")).await.unwrap();
        fill(&form, "c-stakeholder", who).await;
        select(&form, "c-kind", kind).await;
        select(&form, "c-model", model).await;
        fill(&form, "c-description", &format!("{who}'s part")).await;
        date(c, "c-due", "2026-03-31").await;
        if let Some((lever, amount)) = lever {
            select(&form, "c-lever-org", &trust).await;
            select(&form, "c-lever", lever).await;
            fill(&form, "c-amount", amount).await;
        }
        submit(c, &form).await;
    }
    let case = app
        .state
        .db
        .cases()
        .await
        .unwrap()
        .into_iter()
        .find(|x| x.id == case_id)
        .unwrap();
    assert_eq!(case.commitments.len(), 5);
    let kinds: Vec<&str> = case
        .commitments
        .iter()
        .map(|x| x.stakeholder_kind.as_str())
        .collect();
    assert_eq!(
        kinds,
        [
            "trust",
            "commissioner",
            "primary_care",
            "local_government",
            "third_sector"
        ]
    );
    assert_eq!(case.plan_totals.get("acute_beds").copied(), Some(-10.0));

    // The trust's milestone moves later.
    let form = c.find(Locator::Id("form-change")).await.unwrap();
    let first = case.commitments[0].id.to_string();
    select(&form, "g-item", &first).await;
    date(c, "g-due", "2026-06-30").await;
    submit(c, &form).await;
    let case = app
        .state
        .db
        .cases()
        .await
        .unwrap()
        .into_iter()
        .find(|x| x.id == case_id)
        .unwrap();
    assert_eq!(case.commitments[0].due.as_deref(), Some("2026-06-30"));
    assert_eq!(
        case.plan_totals.get("acute_beds").copied(),
        Some(-10.0),
        "levers kept"
    );

    // An exit criterion, a progress note.
    let form = c.find(Locator::Id("form-criterion")).await.unwrap();
    fill(&form, "e-text", "out of special measures").await;
    submit(c, &form).await;
    let form = c.find(Locator::Id("form-progress")).await.unwrap();
    fill(&form, "p-note", "plan agreed at the system board").await;
    submit(c, &form).await;

    // A flexibility without a plan: the system page shows the conflict.
    c.goto(&format!("{base}/systems/{system}")).await.unwrap();
    let form = c.find(Locator::Id("form-intervention")).await.unwrap();
    select(&form, "n-target", &trust).await;
    select(&form, "n-kind", "flexibility").await;
    fill(&form, "n-basis", "NHS Act 2006 s.115").await;
    date(c, "n-start", "2025-06-01").await;
    fill(
        &form,
        "n-conditions",
        "only while the network redesign is delivered",
    )
    .await;
    date(c, "n-expiry", "2026-03-31").await;
    submit(c, &form).await;
    let conflict = c
        .find(Locator::Css(
            "ul.conflicts li[data-kind='flexibility_without_plan']",
        ))
        .await
        .expect("the conflict is shown")
        .text()
        .await
        .unwrap();
    assert!(conflict.contains("only in support of change"), "{conflict}");
    shot(&b, "forms-system.png").await;

    // Resolved: closed from the case page.
    let flex = app
        .state
        .db
        .interventions()
        .await
        .unwrap()
        .into_iter()
        .find(|i| i.kind == "flexibility" && i.status == "open")
        .unwrap();
    c.goto(&format!("{base}/cases/{case_id}")).await.unwrap();
    let form = c
        .find(Locator::Css(&format!("form[data-intervention='{}']", flex.id)))
        .await
        .unwrap();
    fill(
        &form,
        &format!("i{}-reason", flex.id),
        "granted again under the case",
    )
    .await;
    submit(c, &form).await;
    assert!(
        !app.state
            .db
            .conflicts()
            .await
            .unwrap()
            .iter()
            .any(|k| k.kind == "flexibility_without_plan")
    );

    // A return recorded as submitted.
    let form = c.find(Locator::Id("form-return")).await.unwrap();
    fill(&form, "r-note", "month's return").await;
    submit(c, &form).await;
    let returns = app.state.db.submissions().await.unwrap();
    assert_eq!(returns.len(), 1, "{returns:?}");

    // Closing with the criterion unmet is refused, with the reason on the page.
    let form = c.find(Locator::Id("form-close")).await.unwrap();
    fill(&form, "x-reason", "recovered").await;
    submit(c, &form).await;
    let alert = c
        .find(Locator::Id("refused"))
        .await
        .expect("the refusal is shown")
        .text()
        .await
        .unwrap();
    assert!(alert.contains("exit criteri"), "{alert}");

    // Milestones delivered, the criterion met, special measures closed, the case closed.
    for _ in 0..5 {
        let button = c
            .find(Locator::Css("form[data-commitment] button"))
            .await
            .unwrap();
        click_through(c, &button).await;
    }
    let button = c.find(Locator::Css("form[data-criterion] button")).await.unwrap();
    click_through(c, &button).await;
    let form = c
        .find(Locator::Css(&format!("form[data-intervention='{}']", sm.id)))
        .await
        .unwrap();
    fill(&form, &format!("i{}-reason", sm.id), "quality recovered").await;
    submit(c, &form).await;
    let form = c.find(Locator::Id("form-close")).await.unwrap();
    fill(&form, "x-reason", "exit criteria met").await;
    submit(c, &form).await;
    shot(&b, "forms-case.png").await;
    let case = app
        .state
        .db
        .cases()
        .await
        .unwrap()
        .into_iter()
        .find(|x| x.id == case_id)
        .unwrap();
    assert_eq!(case.status, "closed");
    assert!(case.commitments.iter().all(|m| m.done_at.is_some()));
    let audit = app.state.db.audit().await.unwrap();
    assert!(
        audit
            .iter()
            .filter(|e| e.actor.starts_with("token:regional"))
            .count()
            >= 15
    );
    // Every change was made by the regional token, through its session.
    assert!(
        audit
            .iter()
            .filter(|e| e.action == "close_case")
            .all(|e| e.actor.starts_with("token:regional"))
    );
    b.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_programme_page_shows_the_round_in_chromium() {
    let Some(b) = Browser::start().await else { return };
    let summary = crate::programme_round(&b.app).await;
    let (c, base) = (&b.client, &b.base);
    b.sign_in("national").await;
    c.goto(&format!("{base}/programme")).await.unwrap();
    c.wait().for_element(Locator::Css("section#fund")).await.unwrap();
    let text = main_text(c).await;
    assert!(text.contains("New care models programme"), "{text}");
    for id in &summary.refused {
        let row = c.find(Locator::Id(&format!("application-{id}"))).await.unwrap();
        assert_eq!(row.attr("data-status").await.unwrap().as_deref(), Some("refused"));
        assert!(
            row.text()
                .await
                .unwrap()
                .contains("would fund an existing deficit")
        );
    }
    for id in &summary.selected {
        let row = c.find(Locator::Id(&format!("application-{id}"))).await.unwrap();
        assert_eq!(
            row.attr("data-status").await.unwrap().as_deref(),
            Some("selected")
        );
    }
    let selection = c
        .find(Locator::Css("section#selection"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        selection.contains("proven optimal") && selection.contains("Binds:"),
        "{selection}"
    );
    let slipping = c
        .find_all(Locator::Css("section#fund td.slipping"))
        .await
        .unwrap();
    assert_eq!(slipping.len(), 1);
    assert!(slipping[0].text().await.unwrap().contains("due"));
    let flex = c
        .find(Locator::Css("section#flexibilities"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        flex.contains("conflict of interest") && flex.contains("procurement waiver"),
        "{flex}"
    );
    shot(&b, "programme.png").await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_learning_library_has_an_entry_for_every_site_in_chromium() {
    let Some(b) = Browser::start().await else { return };
    let (c, base) = (&b.client, &b.base);
    c.goto(&format!("{base}/learning")).await.unwrap();
    c.wait().for_element(Locator::Css("section.site")).await.unwrap();
    let sites = c.find_all(Locator::Css("section.site")).await.unwrap();
    let truth = &crate::fixture().truth;
    assert_eq!(sites.len(), truth.vanguard.len());
    for (i, t) in truth.vanguard.iter().enumerate() {
        let s = c
            .find(Locator::Id(&format!("site-vanguard-{}", i + 1)))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(s.contains(&t.model.replace('_', " ")), "{s}");
        // Evaluated under a protocol, or (a site too small for the scale-0.002 fixture's
        // published table) saying why not.
        assert!(
            (s.contains("emergency admissions rate") && s.contains("protocol"))
                || s.contains("not published"),
            "{s}"
        );
    }
    // The search narrows to one care model.
    let m = &truth.vanguard[0].model;
    c.goto(&format!("{base}/learning?model={m}")).await.unwrap();
    let shown = c.find_all(Locator::Css("section.site")).await.unwrap();
    let want = truth.vanguard.iter().filter(|v| &v.model == m).count();
    assert_eq!(shown.len(), want);
    shot(&b, "learning.png").await;
    b.close().await;
}
