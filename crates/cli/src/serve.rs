//! `footprint serve` and `footprint tokens`, and the serving half of `footprint demo`.

use anyhow::{Context, bail};
use clap::Subcommand;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")
}

/// Makes sure `results` holds what the server serves (computing it from the dataset the
/// first time) and that the register has the organisations and the triggered cases. Returns
/// what the sync opened.
pub fn prepare(
    dataset: &Path,
    results: &Path,
    database: &str,
    recompute: bool,
    place: &engine::Place,
    progress: bool,
) -> anyhow::Result<regime::Synced> {
    // The register's open interventions: special measures places a trust in segment 4, so
    // results computed before it was opened (or closed) are computed again.
    // Its registered evaluation protocols govern their sites and outcomes (docs/evaluation.md).
    let (register, protocols) = runtime()?.block_on(async {
        let db = store::Store::open(database)
            .await
            .map_err(|e| anyhow::anyhow!("{database}: {e}"))?;
        let register = db.interventions().await.map_err(|e| anyhow::anyhow!("{e}"))?;
        let protocols = evaluation::library::protocols(&db)
            .await
            .map_err(|e| anyhow::anyhow!("{database}: {e}"))?;
        Ok::<_, anyhow::Error>((register, protocols))
    })?;
    let exists = server::results::exists(results);
    let mut changed = exists && server::results::decisions_changed(results, &register)?;
    if changed {
        tracing::info!(
            "the register's decisions (special measures) changed since the results were computed: computing them again"
        );
    } else if exists && server::results::protocols_changed(results, &protocols) {
        tracing::info!(
            "the register holds evaluation protocols the results were not computed under: computing them again"
        );
        changed = true;
    }
    if recompute || !exists || changed {
        let loaded = match crate::validate::load_for_use(dataset, &dataset::Options::default()) {
            Ok(l) => l,
            Err(report) => {
                crate::validate::print(&Err(report), crate::Format::Text);
                bail!("{}: the dataset was refused (see above)", dataset.display());
            }
        };
        let bar = progress.then(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.enable_steady_tick(std::time::Duration::from_millis(200));
            bar
        });
        let started = std::time::Instant::now();
        server::results::prepare_with(
            &loaded.dataset,
            dataset,
            results,
            &register,
            &protocols,
            place,
            &|id| {
                if let Some(bar) = &bar {
                    bar.set_message(format!("computing {id}"));
                }
            },
        )
        .with_context(|| {
            format!(
                "computing the results of {} into {}",
                dataset.display(),
                results.display()
            )
        })?;
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        tracing::info!(
            "computed indicators and assessments in {:.1} s into {}",
            started.elapsed().as_secs_f64(),
            results.display()
        );
    } else {
        tracing::info!("reusing the results in {}", results.display());
    }
    // Say plainly what the packs could not assess in this dataset, and why.
    if let Ok(text) = std::fs::read(results.join("coverage.json")) {
        let coverage: std::collections::BTreeMap<String, policy::assess::Coverage> =
            serde_json::from_slice(&text).context("coverage.json")?;
        for c in coverage.values() {
            if !c.is_complete() {
                eprintln!("note: {}", c.summary());
            }
        }
    }
    let assessed: regime::Assessed = {
        let text = std::fs::read(results.join("regime.json"))
            .with_context(|| format!("reading {}", results.join("regime.json").display()))?;
        serde_json::from_slice(&text).context("regime.json")?
    };
    let synced = runtime()?.block_on(async {
        let db = store::Store::open(database)
            .await
            .map_err(|e| anyhow::anyhow!("{database}: {e}"))?;
        let synced = regime::sync(&assessed, &db, "footprint serve")
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        // The evaluations' protocols are registered once, and each monthly run recorded.
        if let Ok(text) = std::fs::read(results.join("evaluation.json")) {
            let held: server::results::EvaluationResults =
                serde_json::from_slice(&text).context("evaluation.json")?;
            let written = evaluation::library::sync(&db, &held.evaluated, "footprint serve")
                .await
                .map_err(|e| anyhow::anyhow!("{database}: {e}"))?;
            tracing::info!(
                "evaluation: {} protocols registered, {} runs recorded",
                written.registered,
                written.recorded
            );
        }
        Ok::<_, anyhow::Error>(synced)
    })?;
    Ok(synced)
}

/// Serves until Ctrl-C.
pub fn serve(
    results: &Path,
    database: &str,
    addr: &str,
    options: server::Options,
    kinds: Option<store::Kinds>,
) -> anyhow::Result<ExitCode> {
    let addr: std::net::SocketAddr = addr
        .parse()
        .with_context(|| format!("--addr {addr:?}: give HOST:PORT, e.g. 127.0.0.1:8080"))?;
    runtime()?.block_on(async {
        let mut db = store::Store::open(database).await.map_err(|e| anyhow::anyhow!("{database}: {e}"))?;
        if let Some(k) = kinds {
            db = db.with_kinds(k);
        }
        let state = server::state_with(results, db, options)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        server::serve(state, addr, |bound| {
            crate::output::emit(&format!("Footprint is serving the dashboard at http://{bound}/ (the API at http://{bound}/api/v1/openapi.json); Ctrl-C stops it\n"));
        })
        .await
        .with_context(|| format!("serving on {addr}"))
    })?;
    Ok(ExitCode::SUCCESS)
}

#[derive(Subcommand, Debug)]
pub enum TokensCommand {
    /// Create a token; its secret is printed once and only its hash is kept.
    Create {
        #[arg(long)]
        name: String,
        /// national, regional, system or organisation.
        #[arg(long)]
        role: String,
        /// The region, system or organisation code the token sees in detail (none for national).
        #[arg(long)]
        scope: Option<String>,
        /// A lifetime after which the token is refused: 90d, 12h, 30m or 2w.
        #[arg(long, value_parser = store::tokens::parse_lifetime)]
        expires: Option<std::time::Duration>,
        /// A regulator a writing token may open interventions as (repeat; any when absent).
        #[arg(long = "regulator")]
        regulators: Vec<String>,
    },
    /// List tokens (never their secrets).
    List,
    /// Revoke a token by id.
    Revoke { id: i64 },
}

pub fn tokens(database: &str, actor: Option<String>, cmd: TokensCommand) -> anyhow::Result<ExitCode> {
    let actor = actor
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "cli".into());
    runtime()?.block_on(async {
        let db = store::Store::open(database)
            .await
            .map_err(|e| anyhow::anyhow!("{database}: {e}"))?;
        match cmd {
            TokensCommand::Create {
                name,
                role,
                scope,
                expires,
                regulators,
            } => {
                let limits = store::tokens::TokenLimits {
                    expires_in: expires,
                    regulators,
                };
                let (t, secret) = db
                    .create_token_with(&name, &role, scope.as_deref(), &limits, &actor)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                crate::output::emit(&format!("{secret}\n"));
                tracing::info!(
                    "created token {} ({}, {}); the secret above is shown only once",
                    t.id,
                    t.name,
                    t.role
                );
            }
            TokensCommand::List => {
                let mut text = format!(
                    "{:>4}  {:<20} {:<12} {:<10} {:<24} {:<24} {:<24} {}\n",
                    "id", "name", "role", "scope", "created", "last used", "expires", "acts as"
                );
                let now = store::now();
                for t in db.tokens().await.map_err(|e| anyhow::anyhow!("{e}"))? {
                    let expires = match (&t.revoked_at, &t.expires_at) {
                        (Some(r), _) => format!("revoked {r}"),
                        (None, Some(e)) if *e <= now => format!("expired {e}"),
                        (None, Some(e)) => e.clone(),
                        (None, None) => "never".into(),
                    };
                    text.push_str(&format!(
                        "{:>4}  {:<20} {:<12} {:<10} {:<24} {:<24} {:<24} {}\n",
                        t.id,
                        t.name,
                        t.role,
                        t.scope.as_deref().unwrap_or("-"),
                        t.created_at,
                        t.last_used_at.as_deref().unwrap_or("never"),
                        expires,
                        if t.regulators.is_empty() {
                            "any".to_string()
                        } else {
                            t.regulators.join(", ")
                        }
                    ));
                }
                crate::output::emit(&text);
            }
            TokensCommand::Revoke { id } => {
                db.revoke_token(id, &actor)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                crate::output::emit(&format!("revoked token {id}\n"));
            }
        }
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Where `serve` keeps a dataset's results unless told.
pub fn default_results(dataset: &Path) -> PathBuf {
    dataset.join(".footprint").join("results")
}
