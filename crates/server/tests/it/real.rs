//! The shipped real England dataset (the real skeleton with 13 months of the real A&E SitRep,
//! June 2024 to June 2025: no whole financial year, no activity tables) is served: its A&E
//! indicators, and a plain word on every page and route that the packs could not assess it.

use crate::{Answer, call};
use axum::http::StatusCode;
use std::path::Path;

fn copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_real_sitrep_dataset_is_served_with_what_the_packs_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("england");
    copy(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/england/contract"),
        &data,
    );
    let results = dir.path().join("results");
    // Computed on its own thread: the engine runs its own runtime.
    let (d, r) = (data.clone(), results.clone());
    std::thread::spawn(move || {
        let ds = dataset::load(&d, &dataset::Options::default())
            .expect("the real dataset is valid")
            .dataset;
        server::results::prepare(&ds, &d, &r, &|_| {}).expect("prepares without a financial year")
    })
    .join()
    .unwrap();
    let db = store::Store::open(&format!("sqlite://{}", dir.path().join("fp.db").display()))
        .await
        .unwrap();
    let assessed: regime::Assessed =
        serde_json::from_slice(&std::fs::read(results.join("regime.json")).unwrap()).unwrap();
    let synced = regime::sync(&assessed, &db, "test").await.unwrap();
    assert!(synced.opened.is_empty(), "no case without an assessment");
    let state = server::state(&results, db).await.unwrap();
    let router = server::router(state.clone());

    // Every pack says it was not assessed, and why.
    for c in state.results.coverage.values() {
        let why = c.not_assessed.as_deref().unwrap_or_else(|| panic!("{c:?}"));
        assert!(why.contains("financial year"), "{why}");
    }
    let packs: Answer = call(&router, "GET", "/api/v1/packs", None, None).await;
    assert_eq!(packs.status, StatusCode::OK);
    for p in packs.json()["packs"].as_array().unwrap() {
        assert!(p["not_assessed"].as_str().is_some(), "{p}");
        assert_eq!(p["assessed"], 0);
    }
    let a = call(&router, "GET", "/api/v1/assessments/sof-2016", None, None)
        .await
        .json();
    assert_eq!(a["assessments"].as_array().unwrap().len(), 0);
    assert!(a["coverage"]["not_assessed"].as_str().is_some());

    // The A&E indicators are served: England's four-hour performance for each of the 13 months.
    let v = call(
        &router,
        "GET",
        "/api/v1/indicators/ae_4h?entity_kind=england&grain=month",
        None,
        None,
    )
    .await;
    assert_eq!(v.status, StatusCode::OK, "{}", v.body);
    let rows = v.json()["values"].as_array().unwrap().clone();
    assert_eq!(rows.len(), 13, "{rows:?}");
    for r in &rows {
        let x = r["value"].as_f64().unwrap();
        assert!((50.0..100.0).contains(&x), "{r}");
    }

    // The pages answer, and say plainly what was left out.
    let home = call(&router, "GET", "/", None, None).await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(
        home.body.contains("<strong>system-2015 not assessed:</strong>"),
        "{}",
        home.body
    );
    let system = &state.results.systems[0].code;
    let page = call(&router, "GET", &format!("/systems/{system}"), None, None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("not assessed:"));
    let trust = state
        .results
        .organisations
        .iter()
        .find(|o| o.kind == "acute_trust")
        .unwrap()
        .code
        .clone();
    let page = call(&router, "GET", &format!("/organisations/{trust}"), None, None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<strong>sof-2016 not assessed:</strong>"));
    assert!(
        page.body.contains("data-indicator=\"ae_4h\""),
        "the trust's A&E charts"
    );
    assert_eq!(
        call(&router, "GET", "/api/v1/league/system-2015", None, None)
            .await
            .status,
        StatusCode::OK
    );
}
