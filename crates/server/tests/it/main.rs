//! The server's tests: every route through `router().oneshot(...)`, the authorisation matrix,
//! disclosure control, hostile input, and (when `FOOTPRINT_TEST_CHROMEDRIVER` names a
//! chromedriver binary) the dashboard in a real headless Chromium.

mod api;
mod attack;
mod browser;
mod capacity;
mod cycle;
mod dashboard;
mod evaluation;
mod hygiene;
mod programme;
mod real;
mod register;
mod security;
mod write;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use std::path::PathBuf;
use std::sync::OnceLock;
use tower::ServiceExt;

#[derive(Debug)]
pub struct Fixture {
    _dir: tempfile::TempDir,
    /// The synthetic dataset.
    pub data: PathBuf,
    pub results: PathBuf,
    pub truth: synth::Truth,
}

/// A small synthetic England with its results computed once for the whole binary. Computed
/// on its own thread: the engine runs its own runtime and cannot start inside a test's.
pub fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        std::thread::spawn(|| {
            let dir = tempfile::tempdir().unwrap();
            let data = dir.path().join("data");
            let config = synth::Config {
                scale: 0.002,
                seed: 7,
                ..synth::Config::default()
            };
            synth::generate(&data, &config, None, None).expect("generates");
            let truth = synth::Truth::read(&data).expect("truth");
            let ds = dataset::load(&data, &dataset::Options::default())
                .expect("valid")
                .dataset;
            let results = dir.path().join("results");
            server::results::prepare(&ds, &data, &results, &|_| {}).expect("prepares");
            Fixture {
                _dir: dir,
                data,
                results,
                truth,
            }
        })
        .join()
        .unwrap()
    })
}

/// The fixture's results, loaded once for the whole binary (as `server::state` loads them):
/// each app shares them, as the results never change while serving.
pub fn loaded() -> std::sync::Arc<server::results::Results> {
    static R: OnceLock<std::sync::Arc<server::results::Results>> = OnceLock::new();
    R.get_or_init(|| {
        let dir = fixture().results.clone();
        std::thread::spawn(move || std::sync::Arc::new(server::results::Results::load(&dir).expect("loads")))
            .join()
            .unwrap()
    })
    .clone()
}

/// A served app on a fresh SQLite register, with one token of each role and an
/// intervention that conflicts with a case.
#[derive(Debug)]
pub struct App {
    _dir: tempfile::TempDir,
    pub state: server::Shared,
    pub router: Router,
    /// The challenged system with a case, a trust in it, its region; and an unrelated
    /// system, trust and region (out of every scoped token's scope).
    pub system: String,
    pub trust: String,
    pub region: String,
    pub other_system: String,
    pub other_trust: String,
    pub case_id: i64,
    pub intervention_id: i64,
    /// role → secret
    pub tokens: Vec<(&'static str, String)>,
}

impl App {
    pub fn token(&self, role: &str) -> &str {
        &self.tokens.iter().find(|t| t.0 == role).unwrap().1
    }
}

pub async fn app() -> App {
    let f = fixture();
    let dir = tempfile::tempdir().unwrap();
    let db = store::Store::open(&format!("sqlite://{}", dir.path().join("fp.db").display()))
        .await
        .unwrap();
    let assessed: regime::Assessed =
        serde_json::from_slice(&std::fs::read(f.results.join("regime.json")).unwrap()).unwrap();
    let synced = regime::sync(&assessed, &db, "test").await.unwrap();
    let (system, case_id) = synced.opened[0].clone();
    let state = server::state_from(loaded(), db.clone(), Default::default());
    let r = &state.results;
    let region = r.system(&system).unwrap().region_code.clone();
    let trust = r
        .organisations
        .iter()
        .find(|o| o.system_code.as_deref() == Some(system.as_str()) && o.kind == "acute_trust")
        .unwrap()
        .code
        .clone();
    let other = r.systems.iter().find(|s| s.region_code != region).unwrap();
    let other_system = other.code.clone();
    let other_trust = r
        .organisations
        .iter()
        .find(|o| o.system_code.as_deref() == Some(other_system.as_str()) && o.kind == "acute_trust")
        .unwrap()
        .code
        .clone();
    // An intervention on the trust, inside a system under a case, not linked to it.
    let intervention_id = db
        .open_intervention(
            &store::NewIntervention {
                regulator: "monitor".into(),
                target_kind: "organisation".into(),
                target_code: trust.clone(),
                kind: "enforcement_undertaking".into(),
                legal_basis: "Health and Social Care Act 2012 s.106".into(),
                actions: vec!["deliver a financial recovery plan".into()],
                start_date: "2025-04-01".into(),
                deadline: Some("2025-09-30".into()),
                case_id: None,
                levers: vec![store::Lever::parse(&format!("{trust}:acute_beds:-20")).unwrap()],
                details: Default::default(),
            },
            "regulator",
        )
        .await
        .unwrap();
    // A recovery plan: the trust keeps 30 more beds; the council funds care-home support.
    for (who, kind, model, lever) in [
        (
            trust.as_str(),
            "trust",
            "urgent_and_emergency_care_network",
            format!("{trust}:acute_beds:30"),
        ),
        (
            "County council",
            "local_government",
            "enhanced_health_in_care_homes",
            format!("{trust}:spending:250000"),
        ),
    ] {
        db.add_commitment(
            case_id,
            &store::NewCommitment {
                stakeholder: who.into(),
                stakeholder_kind: kind.into(),
                care_model: model.into(),
                description: format!("{who}'s part of the plan"),
                due: Some("2025-12-31".into()),
                levers: vec![store::Lever::parse(&lever).unwrap()],
            },
            "lead",
        )
        .await
        .unwrap();
    }
    let mut tokens = Vec::new();
    for (role, scope) in [
        ("national", None),
        ("regional", Some(region.clone())),
        ("system", Some(system.clone())),
        ("organisation", Some(trust.clone())),
    ] {
        let (_, secret) = db
            .create_token(role, role, scope.as_deref(), "test")
            .await
            .unwrap();
        tokens.push((role, secret));
    }
    let router = server::router(state.clone());
    App {
        _dir: dir,
        state,
        router,
        system,
        trust,
        region,
        other_system,
        other_trust,
        case_id,
        intervention_id,
        tokens,
    }
}

#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
    pub fn content_type(&self) -> &str {
        self.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

pub async fn call(
    router: &Router,
    method: &str,
    uri: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> Answer {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    if body.is_some() {
        req = req.header("content-type", "application/json");
    }
    let req = req
        .body(
            body.map(|b| Body::from(b.to_string()))
                .unwrap_or_else(Body::empty),
        )
        .unwrap();
    let res = router.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap();
    Answer {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

pub async fn get(app: &App, uri: &str, token: Option<&str>) -> Answer {
    call(&app.router, "GET", uri, token, None).await
}

/// Posts a dashboard form (`application/x-www-form-urlencoded`) and returns the page.
pub async fn post_form(app: &App, uri: &str, form: &str) -> String {
    let req = Request::post(uri)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(form.to_string()))
        .unwrap();
    let res = app.router.clone().oneshot(req).await.unwrap();
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The next sync: the regime's assessment on the fixture's published table with the register
/// as it now stands (special measures place a trust in segment 4), synced into the app's
/// register, as `footprint regime sync` does.
pub async fn sync_now(app: &App) -> regime::Synced {
    let register = app.state.db.interventions().await.unwrap();
    let f = fixture();
    let assessed = std::thread::spawn(move || {
        let ds = dataset::load(&f.data, &dataset::Options::default())
            .expect("valid")
            .dataset;
        server::results::reassess(&f.results, &ds, &register).expect("reassesses")
    })
    .join()
    .unwrap();
    regime::sync(&assessed, &app.state.db, "sync").await.unwrap()
}

/// A system of the app's region that is not challenged and has no case, and one of its acute
/// trusts the trust pack assessed: where special measures will make a case.
pub fn quiet_trust(app: &App) -> (String, String) {
    let r = &app.state.results;
    let regime = r.regime.as_ref().unwrap();
    let sof = &r.assessments["sof-2016"];
    for s in r
        .systems
        .iter()
        .filter(|s| s.region_code == app.region && s.code != app.system)
    {
        let challenged = regime
            .systems
            .iter()
            .any(|a| a.entity_code == s.code && a.category.as_deref() == Some("challenged"));
        if challenged {
            continue;
        }
        if let Some(t) = r.organisations.iter().find(|o| {
            o.system_code.as_deref() == Some(s.code.as_str())
                && o.kind == "acute_trust"
                && sof.iter().any(|a| a.entity_code == o.code && a.segment.is_some())
        }) {
            return (s.code.clone(), t.code.clone());
        }
    }
    panic!("no quiet system with an assessed acute trust in {}", app.region);
}

/// The new care models programme's worked round (`footprint programme scenario`) in the app's
/// register: the dataset is read on its own thread (the engine runs its own runtime).
pub async fn programme_round(app: &App) -> ::programme::scenario::Summary {
    let f = fixture();
    let (ds, positions, lists, models) = std::thread::spawn(move || {
        let ds = dataset::load(&f.data, &dataset::Options::default())
            .expect("valid")
            .dataset;
        let engine = engine::Engine::new(&ds).unwrap();
        let positions = ::programme::scenario::positions(&ds).unwrap();
        let lists = ::programme::scenario::latest_lists(&engine).unwrap();
        let models = ::programme::scenario::vanguards(&ds, &lists).unwrap();
        (ds, positions, lists, models)
    })
    .join()
    .unwrap();
    let office = ::programme::office::Office::new(app.state.db.clone());
    ::programme::scenario::build(
        &ds,
        &office,
        &positions,
        &models,
        &lists,
        &::programme::fund::FundRules::builtin(),
        "test",
    )
    .await
    .unwrap()
}
