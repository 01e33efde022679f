//! Protocols and runs on the register's store, and the learning library built from them.

use crate::run::{Evaluation, Protocol};
use crate::sites::Site;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use store::Store;

/// Registers a protocol (once: the same protocol again is a no-op). Returns its hash.
pub async fn register(store: &Store, p: &Protocol, actor: &str) -> Result<String> {
    let hash = p.hash();
    let existing = sqlx::query(&store.sql("SELECT body FROM evaluation_protocols WHERE hash = ?"))
        .bind(hash.clone())
        .fetch_optional(store.pool())
        .await?;
    if existing.is_some() {
        return Ok(hash);
    }
    let body = serde_json::to_string(p).map_err(|e| Error::Refused(e.to_string()))?;
    let mut c = store
        .change(actor, "register_protocol", "evaluation_protocol")
        .await?;
    sqlx::query(&store.sql(
        "INSERT INTO evaluation_protocols (hash, site_id, outcome, body, registered_at) VALUES (?, ?, ?, ?, ?)",
    ))
    .bind(hash.clone())
    .bind(p.site.clone())
    .bind(p.outcome.clone())
    .bind(body.clone())
    .bind(store::now())
    .execute(&mut *c.tx)
    .await?;
    store.commit(c, None, None, Some(body)).await?;
    Ok(hash)
}

/// The registered protocols, oldest first; each body is checked against its hash.
pub async fn protocols(store: &Store) -> Result<Vec<Protocol>> {
    let rows = sqlx::query("SELECT hash, body FROM evaluation_protocols ORDER BY registered_at, hash")
        .fetch_all(store.pool())
        .await?;
    let mut out = Vec::new();
    for r in rows {
        let (hash, body): (String, String) = (r.try_get(0)?, r.try_get(1)?);
        let p: Protocol = serde_json::from_str(&body)
            .map_err(|e| Error::Refused(format!("protocol {hash}: stored body does not read: {e}")))?;
        if p.hash() != hash {
            return Err(Error::Refused(format!(
                "protocol {hash}: the stored body no longer has its registered hash (changed after registration)"
            )));
        }
        out.push(p);
    }
    Ok(out)
}

/// Records a run (replacing a run of the same protocol with the same month of data).
pub async fn record(store: &Store, e: &Evaluation, actor: &str) -> Result<()> {
    let result = serde_json::to_string(e).map_err(|x| Error::Refused(x.to_string()))?;
    let mut c = store.change(actor, "record_evaluation", "evaluation_run").await?;
    sqlx::query(&store.sql("DELETE FROM evaluation_runs WHERE protocol_hash = ? AND as_of = ?"))
        .bind(e.protocol_hash.clone())
        .bind(e.as_of.clone())
        .execute(&mut *c.tx)
        .await?;
    sqlx::query(
        &store.sql("INSERT INTO evaluation_runs (protocol_hash, as_of, result, run_at) VALUES (?, ?, ?, ?)"),
    )
    .bind(e.protocol_hash.clone())
    .bind(e.as_of.clone())
    .bind(result)
    .bind(store::now())
    .execute(&mut *c.tx)
    .await?;
    store
        .commit(
            c,
            None,
            None,
            Some(format!("{} {} {}", e.site, e.outcome, e.as_of)),
        )
        .await?;
    Ok(())
}

/// What [`sync`] wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Synced {
    /// Protocols registered now (new to the store).
    pub registered: usize,
    /// Runs recorded now (new, or changed since they were recorded).
    pub recorded: usize,
}

/// Registers every protocol of `done` and records every run the store does not already hold
/// with the same result, so a server started again on the same results writes nothing (and
/// the audit trail shows only what changed).
pub async fn sync(store: &Store, done: &crate::run::Evaluated, actor: &str) -> Result<Synced> {
    let held: std::collections::BTreeSet<String> =
        protocols(store).await?.iter().map(Protocol::hash).collect();
    let mut out = Synced::default();
    for p in &done.protocols {
        if !held.contains(&p.hash()) {
            register(store, p, actor).await?;
            out.registered += 1;
        }
    }
    let rows = sqlx::query("SELECT protocol_hash, as_of, result FROM evaluation_runs")
        .fetch_all(store.pool())
        .await?;
    let mut recorded: std::collections::BTreeMap<(String, String), String> = Default::default();
    for r in rows {
        recorded.insert((r.try_get(0)?, r.try_get(1)?), r.try_get(2)?);
    }
    for e in &done.runs {
        let text = serde_json::to_string(e).map_err(|x| Error::Refused(x.to_string()))?;
        if recorded.get(&(e.protocol_hash.clone(), e.as_of.clone())) != Some(&text) {
            record(store, e, actor).await?;
            out.recorded += 1;
        }
    }
    Ok(out)
}

/// Whether a registered protocol would govern a site and outcome differently from the
/// protocols `done` was computed under (so the evaluation must be computed again).
pub fn protocols_differ(stored: &[Protocol], done: &crate::run::Evaluated) -> bool {
    done.protocols.iter().any(|p| {
        // The oldest registration governs (as in `run::evaluate_all`).
        stored
            .iter()
            .find(|s| s.site == p.site && s.outcome == p.outcome)
            .is_some_and(|s| s.hash() != p.hash())
    })
}

/// Every run, by protocol and month of data.
pub async fn runs(store: &Store) -> Result<Vec<Evaluation>> {
    let rows = sqlx::query("SELECT result FROM evaluation_runs ORDER BY protocol_hash, as_of")
        .fetch_all(store.pool())
        .await?;
    rows.into_iter()
        .map(|r| {
            let text: String = r.try_get(0)?;
            serde_json::from_str(&text)
                .map_err(|e| Error::Refused(format!("a stored run does not read: {e}")))
        })
        .collect()
}

/// One point of an estimate's history: the DiD relative effect with the data to `as_of`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
pub struct HistoryPoint {
    pub outcome: String,
    pub as_of: String,
    pub did: Option<(f64, f64, f64)>,
    pub synthetic_control: Option<f64>,
    pub its: Option<(f64, f64, f64)>,
}

/// A site's entry in the learning library.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
pub struct Entry {
    pub site: Site,
    pub system_name: Option<String>,
    pub practices: usize,
    /// What was tried: interventions the register records for the site's system.
    pub interventions: Vec<String>,
    /// The latest evaluation of each outcome.
    pub evaluations: Vec<Evaluation>,
    /// Every run, oldest first: how the estimates moved as data arrived.
    pub history: Vec<HistoryPoint>,
    /// Protocol hash of each outcome.
    pub protocols: Vec<(String, String)>,
    /// Why an outcome of this site could not be evaluated.
    pub problems: Vec<String>,
    /// Sites most like this one (same model first, then the nearest pre-period level of the
    /// first outcome).
    pub similar: Vec<String>,
}

/// The learning library.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
pub struct Library {
    pub entries: Vec<Entry>,
}

impl Library {
    /// Builds the library from sites, their protocols and runs.
    pub fn build(
        sites: &[Site],
        st: &crate::sites::Structure,
        protocols: &[Protocol],
        runs: &[Evaluation],
        interventions: &dyn Fn(&Site) -> Vec<String>,
        problems: &[String],
    ) -> Library {
        let mut entries: Vec<Entry> = sites
            .iter()
            .map(|s| {
                let mine: Vec<&Evaluation> = runs.iter().filter(|e| e.site == s.id).collect();
                let mut latest: Vec<Evaluation> = Vec::new();
                for e in &mine {
                    match latest.iter_mut().find(|l| l.outcome == e.outcome) {
                        Some(l) if l.as_of < e.as_of => *l = (*e).clone(),
                        Some(_) => {}
                        None => latest.push((*e).clone()),
                    }
                }
                let mut history: Vec<HistoryPoint> = mine
                    .iter()
                    .map(|e| HistoryPoint {
                        outcome: e.outcome.clone(),
                        as_of: e.as_of.clone(),
                        did: e
                            .difference_in_differences
                            .as_ref()
                            .map(|d| (d.relative_effect, d.lower, d.upper)),
                        synthetic_control: e.synthetic_control.as_ref().map(|x| x.relative_effect),
                        its: e
                            .interrupted_time_series
                            .as_ref()
                            .map(|d| (d.relative_effect, d.lower, d.upper)),
                    })
                    .collect();
                history.sort_by(|a, b| (&a.outcome, &a.as_of).cmp(&(&b.outcome, &b.as_of)));
                Entry {
                    site: s.clone(),
                    system_name: s
                        .system
                        .as_ref()
                        .or_else(|| s.practices.first().and_then(|p| st.practice_system(p)))
                        .and_then(|x| st.system_names.get(x).cloned()),
                    practices: s.units(st).len(),
                    interventions: interventions(s),
                    evaluations: latest,
                    history,
                    protocols: protocols
                        .iter()
                        .filter(|p| p.site == s.id)
                        .map(|p| (p.outcome.clone(), p.hash()))
                        .collect(),
                    problems: problems
                        .iter()
                        .filter(|p| {
                            p.starts_with(&format!("{} ", s.id))
                                || p.starts_with(&format!("{}: ", s.id))
                                || p.starts_with(&format!("protocol {}: ", s.id))
                        })
                        .cloned()
                        .collect(),
                    similar: Vec::new(),
                }
            })
            .collect();
        let level = |e: &Entry| -> Option<f64> {
            let sc = e.evaluations.first()?.synthetic_control.as_ref()?;
            let n = sc.treated.len() - e.evaluations.first()?.post_months;
            Some(sc.treated[..n].iter().sum::<f64>() / n as f64)
        };
        let snapshot: Vec<(String, String, Option<f64>)> = entries
            .iter()
            .map(|e| (e.site.id.clone(), e.site.model.clone(), level(e)))
            .collect();
        for e in &mut entries {
            let mine = level(e);
            let mut others: Vec<&(String, String, Option<f64>)> =
                snapshot.iter().filter(|o| o.0 != e.site.id).collect();
            others.sort_by(|a, b| {
                let same = |o: &(String, String, Option<f64>)| o.1 != e.site.model;
                let dist = |o: &(String, String, Option<f64>)| match (mine, o.2) {
                    (Some(x), Some(y)) => (x - y).abs(),
                    _ => f64::INFINITY,
                };
                same(a).cmp(&same(b)).then(dist(a).total_cmp(&dist(b)))
            });
            e.similar = others.iter().take(3).map(|o| o.0.clone()).collect();
        }
        Library { entries }
    }

    /// Entries matching a search: care model, outcome, and direction of effect (`lower`,
    /// `higher`, `none`: the DiD call), each optional; text matches the id, name or notes.
    pub fn search(
        &self,
        model: Option<&str>,
        outcome: Option<&str>,
        effect: Option<&str>,
        text: Option<&str>,
    ) -> Vec<&Entry> {
        self.entries
            .iter()
            .filter(|e| model.is_none_or(|m| e.site.model == m))
            .filter(|e| outcome.is_none_or(|o| e.evaluations.iter().any(|x| x.outcome == o)))
            .filter(|e| {
                effect.is_none_or(|want| {
                    e.evaluations.iter().any(|x| {
                        let d = x.difference_in_differences.as_ref();
                        let call = match d {
                            Some(d) if d.upper < 0.0 => "lower",
                            Some(d) if d.lower > 0.0 => "higher",
                            _ => "none",
                        };
                        call == want
                    })
                })
            })
            .filter(|e| {
                text.is_none_or(|t| {
                    let t = t.to_lowercase();
                    [&e.site.id, &e.site.name, &e.site.notes, &e.site.model]
                        .iter()
                        .any(|x| x.to_lowercase().contains(&t))
                })
            })
            .collect()
    }
}
