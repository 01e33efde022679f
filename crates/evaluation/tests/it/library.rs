//! Protocols and runs on the register's store: SQLite always, PostgreSQL when
//! `FOOTPRINT_TEST_POSTGRES_URL` names a server (a fresh database per run).

use evaluation::did::Options;
use evaluation::library;
use evaluation::run::{Evaluation, Protocol};

fn protocol() -> Protocol {
    Protocol {
        format: 1,
        site: "vanguard-1".into(),
        outcome: "emergency_admissions_rate".into(),
        start: "2024-07".into(),
        pre_from: "2023-07".into(),
        units: vec!["A81001".into(), "A81002".into()],
        methods: vec!["difference_in_differences".into()],
        synth_level: "system".into(),
        synth_v: "outcome".into(),
        did_level: "practice".into(),
        did: Options::default(),
        its_lag: None,
        alpha: 0.05,
    }
}

fn run(p: &Protocol, as_of: &str) -> Evaluation {
    Evaluation {
        site: p.site.clone(),
        outcome: p.outcome.clone(),
        protocol_hash: p.hash(),
        as_of: as_of.into(),
        months: vec![],
        post_months: 3,
        synthetic_control: None,
        difference_in_differences: None,
        interrupted_time_series: None,
        problems: vec!["a note".into()],
        significant: Default::default(),
        diagnostics: vec![],
    }
}

#[tokio::test]
async fn protocols_are_registered_once_and_runs_recorded_by_month() {
    let dir = tempfile::tempdir().unwrap();
    for url in store::testing::urls(dir.path(), "evaluation", "evaluation protocols").await {
        let store = store::Store::open(&url).await.unwrap();
        let p = protocol();
        // The hash is the SHA-256 of the body: 64 hex digits, and any change moves it.
        let h = library::register(&store, &p, "test").await.unwrap();
        assert_eq!(h.len(), 64);
        assert_eq!(library::register(&store, &p, "test").await.unwrap(), h);
        let mut moved = p.clone();
        moved.alpha = 0.1;
        assert_ne!(moved.hash(), h);
        assert_eq!(library::protocols(&store).await.unwrap(), vec![p.clone()]);
        library::record(&store, &run(&p, "2024-10"), "test")
            .await
            .unwrap();
        library::record(&store, &run(&p, "2024-11"), "test")
            .await
            .unwrap();
        // The same month again replaces the run.
        library::record(&store, &run(&p, "2024-11"), "test")
            .await
            .unwrap();
        let runs = library::runs(&store).await.unwrap();
        assert_eq!(
            runs.iter().map(|r| r.as_of.as_str()).collect::<Vec<_>>(),
            ["2024-10", "2024-11"]
        );
        // A stored body changed behind the register's back is refused.
        sqlx::query("UPDATE evaluation_protocols SET body = REPLACE(body, '0.05', '0.5')")
            .execute(store.pool())
            .await
            .unwrap();
        let err = library::protocols(&store).await.unwrap_err().to_string();
        assert!(err.contains("changed after registration"), "{url}: {err}");
        // Every change is audited.
        let audited: i64 = sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM audit WHERE action IN ('register_protocol', 'record_evaluation')",
        )
        .fetch_one(store.pool())
        .await
        .unwrap();
        assert_eq!(audited, 4, "{url}");
    }
}

#[tokio::test]
async fn sync_writes_only_what_is_new_and_changed_protocols_are_seen() {
    let dir = tempfile::tempdir().unwrap();
    for url in store::testing::urls(dir.path(), "evaluation", "evaluation protocols").await {
        let store = store::Store::open(&url).await.unwrap();
        let p = protocol();
        let done = evaluation::run::Evaluated {
            protocols: vec![p.clone()],
            runs: vec![run(&p, "2024-10"), run(&p, "2024-11")],
            ..Default::default()
        };
        let first = library::sync(&store, &done, "test").await.unwrap();
        assert_eq!((first.registered, first.recorded), (1, 2), "{url}");
        // The same results again (a server started again) write nothing.
        let again = library::sync(&store, &done, "test").await.unwrap();
        assert_eq!((again.registered, again.recorded), (0, 0), "{url}");
        // A run whose answer changed for the same month is recorded again.
        let mut changed = done.clone();
        changed.runs[1].problems = vec!["another note".into()];
        let third = library::sync(&store, &changed, "test").await.unwrap();
        assert_eq!((third.registered, third.recorded), (0, 1), "{url}");
        assert_eq!(library::runs(&store).await.unwrap().len(), 2);
        // Results computed under another protocol for a registered site and outcome differ.
        let stored = library::protocols(&store).await.unwrap();
        assert!(!library::protocols_differ(&stored, &done));
        let mut other = done.clone();
        other.protocols[0].alpha = 0.1;
        assert!(library::protocols_differ(&stored, &other));
    }
}

#[test]
fn a_protocol_registered_before_the_site_level_variance_keeps_its_hash() {
    // Its body has no `site_level`: it reads as false and writes the same JSON again.
    let mut old = protocol();
    old.did.site_level = false;
    let body = serde_json::to_string(&old).unwrap();
    assert!(!body.contains("site_level"), "{body}");
    let read: Protocol = serde_json::from_str(&body).unwrap();
    assert_eq!(read.hash(), old.hash());
    assert!(!read.did.site_level);
    // New protocols use it.
    assert!(Options::default().site_level);
    assert!(
        serde_json::to_string(&protocol())
            .unwrap()
            .contains("\"site_level\":true")
    );
}
