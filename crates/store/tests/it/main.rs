//! The store's tests, run on SQLite always and on PostgreSQL when
//! `FOOTPRINT_TEST_POSTGRES_URL` names a server (each test gets a fresh database there).
//! Without the variable the PostgreSQL half prints `SKIPPED: store on PostgreSQL`, which
//! `.ci/run` treats as a failure.

mod crash;
mod kinds;
mod register;
mod reporting;

use store::Store;

pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A fresh database URL on each backend: a SQLite file in `dir`, and a new PostgreSQL
/// database if the variable is set.
pub async fn urls(dir: &std::path::Path, name: &str) -> Vec<String> {
    store::testing::urls(dir, name, "store").await
}

/// A store with a small system of organisations.
pub async fn seeded(url: &str) -> Store {
    let s = Store::open(url).await.unwrap();
    let org = |code: &str, kind: &str, system: &str| store::Organisation {
        code: code.into(),
        name: format!("{code} name"),
        kind: kind.into(),
        system_code: Some(system.into()),
    };
    s.set_organisations(
        &[
            org("RAA", "acute_trust", "QAA"),
            org("RBB", "acute_trust", "QAA"),
            org("RCC", "community_trust", "QAA"),
            org("C01", "commissioner", "QAA"),
            org("RZZ", "acute_trust", "QZZ"),
        ],
        "test",
    )
    .await
    .unwrap();
    s
}
