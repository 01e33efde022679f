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
    let mut out = vec![format!("sqlite://{}", dir.join(format!("{name}.db")).display())];
    match std::env::var("FOOTPRINT_TEST_POSTGRES_URL") {
        Ok(base) if !base.is_empty() => {
            sqlx::any::install_default_drivers();
            let db = format!(
                "fp_{name}_{}_{}",
                std::process::id(),
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos()
                    % 1_000_000_000
            );
            let mut admin = <sqlx::AnyConnection as sqlx::Connection>::connect(&base)
                .await
                .unwrap();
            sqlx::query(&format!("CREATE DATABASE {db}"))
                .execute(&mut admin)
                .await
                .unwrap();
            let (head, _) = base.rsplit_once('/').unwrap();
            out.push(format!("{head}/{db}"));
        }
        _ => println!("SKIPPED: store on PostgreSQL (set FOOTPRINT_TEST_POSTGRES_URL)"),
    }
    out
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
