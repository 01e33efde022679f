//! The regime's system of record on SQLite (embedded default: a file, WAL mode) or
//! PostgreSQL (shared deployments), through sqlx's runtime-generic driver: one code path, the
//! dialect differences (auto-increment keys, placeholders, row locks) handled here.
//!
//! Every change runs in one transaction (`BEGIN IMMEDIATE` on SQLite, so writers queue on the
//! busy timeout instead of failing on a lock upgrade; row locks on PostgreSQL where a change
//! reads before it writes) that starts by writing its audit row and fills in the row's
//! before/after states before committing: no change without its audit entry, no audit entry
//! without its change.

pub mod conflicts;
pub mod kinds;
mod register;
pub mod reporting;
pub mod testing;
pub mod tokens;

pub use conflicts::Conflict;
pub use kinds::{Kind, Kinds};
pub use register::*;
pub use reporting::{Calendar, Return, Schedule, ScheduleSpec, Submission};
pub use tokens::Token;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Row};
use std::str::FromStr;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    NotFound(String),
}

pub type Result<T> = std::result::Result<T, Error>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

const MIGRATIONS: [(i64, &str); 8] = [
    (1, include_str!("../migrations/0001_register.sql")),
    (2, include_str!("../migrations/0002_tracking.sql")),
    (3, include_str!("../migrations/0003_tokens.sql")),
    (4, include_str!("../migrations/0004_token_limits.sql")),
    (5, include_str!("../migrations/0005_intervention_details.sql")),
    (6, include_str!("../migrations/0006_reporting.sql")),
    (7, include_str!("../migrations/0007_programme.sql")),
    (8, include_str!("../migrations/0008_evaluation.sql")),
];

/// A connection pool to the register.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    pub backend: Backend,
    /// The intervention kinds the register accepts (the built-in registry unless
    /// [`Store::with_kinds`]).
    kinds: std::sync::Arc<Kinds>,
    /// The reporting calendar (the built-in one unless [`Store::with_calendar`]).
    calendar: std::sync::Arc<Calendar>,
}

/// Now, as an ISO 8601 UTC timestamp with milliseconds.
pub fn now() -> String {
    stamp(std::time::SystemTime::now())
}

/// An instant as an ISO 8601 UTC timestamp with milliseconds.
pub fn stamp(t: std::time::SystemTime) -> String {
    let d = t.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let days = secs.div_euclid(86_400) as i32;
    let rem = secs.rem_euclid(86_400);
    format!(
        "{}T{:02}:{:02}:{:02}.{:03}Z",
        model::format_date(days),
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_millis()
    )
}

impl Store {
    /// The same register, accepting the kinds of `kinds` (a user's registry) from now on.
    pub fn with_kinds(mut self, kinds: Kinds) -> Store {
        self.kinds = std::sync::Arc::new(kinds);
        self
    }

    /// The same register, with a user's reporting calendar.
    pub fn with_calendar(mut self, calendar: Calendar) -> Store {
        self.calendar = std::sync::Arc::new(calendar);
        self
    }

    /// The reporting calendar.
    pub fn calendar(&self) -> &Calendar {
        &self.calendar
    }

    /// The intervention kinds this store accepts.
    pub fn kinds(&self) -> &Kinds {
        &self.kinds
    }

    /// Opens (and on first use creates and migrates) the database at `url`: `sqlite://PATH`
    /// or `postgres://...`.
    pub async fn open(url: &str) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let (backend, url) = if let Some(path) = url.strip_prefix("sqlite://") {
            let path = path.split('?').next().unwrap_or(path);
            if let Some(parent) = std::path::Path::new(path).parent()
                && !parent.as_os_str().is_empty()
            {
                std::fs::create_dir_all(parent)
                    .map_err(|e| Error::Refused(format!("{url}: cannot create its folder: {e}")))?;
            }
            (Backend::Sqlite, format!("sqlite://{path}?mode=rwc"))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Backend::Postgres, url.to_string())
        } else {
            return Err(Error::Refused(format!(
                "--database {url:?}: give sqlite://PATH or postgres://USER@HOST/DB"
            )));
        };
        let options = AnyConnectOptions::from_str(&url)?;
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 8 } else { 16 })
            .acquire_timeout(std::time::Duration::from_secs(60))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL for concurrent readers, a long busy timeout so writers wait
                        // rather than fail, FULL sync so an acknowledged commit survives a
                        // crash, and foreign keys enforced.
                        for pragma in [
                            "PRAGMA busy_timeout = 30000",
                            "PRAGMA journal_mode = WAL",
                            "PRAGMA synchronous = FULL",
                            "PRAGMA foreign_keys = ON",
                        ] {
                            sqlx::query(pragma).execute(&mut *conn).await?;
                        }
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        let store = Store {
            pool,
            backend,
            kinds: std::sync::Arc::new(Kinds::builtin()),
            calendar: std::sync::Arc::new(Calendar::builtin()),
        };
        store.migrate().await?;
        Ok(store)
    }

    /// `?` placeholders in the dialect's form (public for the crates that keep their records
    /// in this store, such as the programme office).
    pub fn sql(&self, sql: &str) -> String {
        match self.backend {
            Backend::Sqlite => sql.to_string(),
            Backend::Postgres => {
                let mut out = String::with_capacity(sql.len() + 8);
                let mut n = 0;
                for c in sql.chars() {
                    if c == '?' {
                        n += 1;
                        out.push_str(&format!("${n}"));
                    } else {
                        out.push(c);
                    }
                }
                out
            }
        }
    }

    /// ` FOR UPDATE` on PostgreSQL (a row lock for read-modify-write); nothing on SQLite,
    /// whose write transactions are already exclusive.
    pub(crate) fn for_update(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE",
        }
    }

    /// Begins a write transaction: `BEGIN IMMEDIATE` on SQLite, so the write lock is taken
    /// (waiting on the busy timeout) before anything is read.
    pub async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    async fn migrate(&self) -> Result<()> {
        let mut tx = self.begin_write().await?;
        match self.backend {
            Backend::Sqlite => {
                sqlx::query("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at TEXT NOT NULL)")
                    .execute(&mut *tx)
                    .await?;
            }
            Backend::Postgres => {
                sqlx::query("SELECT pg_advisory_xact_lock(7041962)")
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at TEXT NOT NULL)")
                    .execute(&mut *tx)
                    .await?;
            }
        }
        let applied: Vec<i64> = sqlx::query("SELECT version FROM schema_migrations")
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| r.try_get::<i64, _>(0))
            .collect::<std::result::Result<_, _>>()?;
        let id = match self.backend {
            Backend::Sqlite => "INTEGER PRIMARY KEY AUTOINCREMENT",
            Backend::Postgres => "BIGSERIAL PRIMARY KEY",
        };
        for (version, sql) in MIGRATIONS {
            if applied.contains(&version) {
                continue;
            }
            let sql = sql.replace("{id}", id);
            for statement in sql.split(';').map(str::trim).filter(|s| !s.is_empty()) {
                let statement: String = statement
                    .lines()
                    .filter(|l| !l.trim_start().starts_with("--"))
                    .collect::<Vec<_>>()
                    .join("\n");
                if statement.trim().is_empty() {
                    continue;
                }
                sqlx::query(&statement).execute(&mut *tx).await?;
            }
            sqlx::query(&self.sql("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)"))
                .bind(version)
                .bind(now())
                .execute(&mut *tx)
                .await?;
            tracing::info!(version, "database migrated");
        }
        tx.commit().await?;
        Ok(())
    }

    /// The connection pool, for reads by the crates that keep their records here.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }
}
