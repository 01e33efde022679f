//! The register: interventions on organisations and systems, system cases with their plans'
//! commitments and exit criteria, progress, snapshots, and the audit log.

use crate::{Error, Result, Store, now};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

/// Levers an intervention or a commitment pulls, each with a signed amount.
pub const LEVERS: [(&str, &str); 6] = [
    ("acute_beds", "acute beds (number; negative closes beds)"),
    ("workforce_wte", "workforce, whole-time equivalents"),
    (
        "activity_moved",
        "activity moved to `to_org_code` (spells a year; from `org_code`)",
    ),
    ("spending", "spending, pounds a year (negative is a saving)"),
    ("service_closure", "services closed (number)"),
    (
        "management_merger",
        "management shared or merged with `to_org_code` (1)",
    ),
];

pub const CARE_MODELS: [&str; 5] = [
    "multispecialty_community_provider",
    "primary_and_acute_care_system",
    "urgent_and_emergency_care_network",
    "acute_care_collaboration",
    "enhanced_health_in_care_homes",
];

pub const STAKEHOLDER_KINDS: [&str; 6] = [
    "trust",
    "commissioner",
    "primary_care",
    "local_government",
    "third_sector",
    "national_body",
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Lever {
    pub org_code: String,
    pub lever: String,
    pub amount: f64,
    #[serde(default)]
    pub to_org_code: Option<String>,
}

impl Lever {
    /// Parses `ORG:LEVER:AMOUNT[:TO_ORG]`.
    pub fn parse(s: &str) -> Result<Lever> {
        let parts: Vec<&str> = s.split(':').collect();
        let bad = || {
            Error::Refused(format!(
                "lever {s:?}: write ORG:LEVER:AMOUNT[:TO_ORG], LEVER one of {}",
                LEVERS.map(|l| l.0).join(", ")
            ))
        };
        if !(3..=4).contains(&parts.len()) {
            return Err(bad());
        }
        let amount = parts[2]
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(bad)?;
        Ok(Lever {
            org_code: parts[0].to_string(),
            lever: parts[1].to_string(),
            amount,
            to_org_code: parts.get(3).map(|s| s.to_string()),
        })
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct NewIntervention {
    pub regulator: String,
    /// `organisation` or `system`.
    pub target_kind: String,
    pub target_code: String,
    pub kind: String,
    pub legal_basis: String,
    pub actions: Vec<String>,
    pub start_date: String,
    pub deadline: Option<String>,
    pub case_id: Option<i64>,
    pub levers: Vec<Lever>,
    /// What the kind requires (`partner`, `provider`, `cost`, `conditions`, `expiry`; see the
    /// registry of kinds) and a linked new care model.
    #[serde(default, flatten)]
    pub details: Details,
}

/// What an intervention of some kinds records beyond the common fields.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Details {
    /// The buddy: an organisation code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner: Option<String>,
    /// Who gives capacity support (for example management consultants).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// Its cost, in pounds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<f64>,
    /// A flexibility's terms.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<String>,
    /// When a flexibility lapses (YYYY-MM-DD).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry: Option<String>,
    /// The new care model the intervention supports (a flexibility granted to a vanguard).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub care_model: Option<String>,
}

impl Details {
    fn is_empty(&self) -> bool {
        *self == Details::default()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Intervention {
    pub id: i64,
    pub regulator: String,
    pub target_kind: String,
    pub target_code: String,
    pub system_code: Option<String>,
    pub kind: String,
    pub legal_basis: String,
    pub actions: Vec<String>,
    pub start_date: String,
    pub deadline: Option<String>,
    pub status: String,
    pub case_id: Option<i64>,
    pub levers: Vec<Lever>,
    pub opened_at: String,
    pub closed_at: Option<String>,
    pub close_reason: Option<String>,
    #[serde(default, flatten)]
    pub details: Details,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct NewCommitment {
    pub stakeholder: String,
    pub stakeholder_kind: String,
    pub care_model: String,
    pub description: String,
    pub due: Option<String>,
    pub levers: Vec<Lever>,
}

/// A change to a commitment: what is given replaces what was there.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CommitmentChange {
    #[serde(default)]
    pub description: Option<String>,
    /// The milestone's new date (YYYY-MM-DD).
    #[serde(default)]
    pub due: Option<String>,
    /// The commitment's levers, replaced as a whole.
    #[serde(default)]
    pub levers: Option<Vec<Lever>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Commitment {
    pub id: i64,
    pub stakeholder: String,
    pub stakeholder_kind: String,
    pub care_model: String,
    pub description: String,
    pub due: Option<String>,
    pub done_at: Option<String>,
    pub levers: Vec<Lever>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ExitCriterion {
    pub id: i64,
    pub text: String,
    pub met_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Case {
    pub id: i64,
    pub system_code: String,
    pub status: String,
    /// `trigger` (a pack's trigger fired) or `hand`.
    pub opened_by: String,
    pub pack: Option<String>,
    pub period: Option<String>,
    pub reason: String,
    pub opened_at: String,
    pub closed_at: Option<String>,
    pub close_reason: Option<String>,
    pub commitments: Vec<Commitment>,
    pub exit_criteria: Vec<ExitCriterion>,
    pub progress: Vec<Progress>,
    /// The recovery plan's commitments summed by lever: the system's heads (workforce WTE),
    /// beds and money (spending), and the rest.
    pub plan_totals: std::collections::BTreeMap<String, f64>,
    /// What decisions on the case were based on (assessment, diagnosis), oldest first.
    pub snapshots: Vec<Snapshot>,
    /// Indicator values the plan commits the system to reach.
    pub trajectories: Vec<Trajectory>,
    pub version: i64,
}

impl Case {
    /// The levers of an open case's recovery plan, each with where it comes from
    /// (`case 3 (S01), commitment 7`); none for a closed case.
    pub fn levers_in_force(&self) -> Vec<(String, &Lever)> {
        if self.status != "open" {
            return Vec::new();
        }
        self.commitments
            .iter()
            .flat_map(|c| {
                c.levers.iter().map(move |l| {
                    (
                        format!("case {} ({}), commitment {}", self.id, self.system_code, c.id),
                        l,
                    )
                })
            })
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Trajectory {
    pub id: i64,
    pub indicator: String,
    pub grain: String,
    pub period: String,
    pub target: f64,
    /// `higher` or `lower` is better.
    pub direction: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Snapshot {
    pub kind: String,
    pub at: String,
    pub body: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Progress {
    pub at: String,
    pub actor: String,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<i64>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Organisation {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub system_code: Option<String>,
}

/// One change in progress: its transaction and its audit row (written first).
#[allow(missing_debug_implementations)]
pub struct Change {
    pub tx: Transaction<'static, Any>,
    audit: i64,
}

fn date(field: &str, s: &str) -> Result<i32> {
    model::parse_date(s).map_err(|_| Error::Refused(format!("{field}: {s:?}: not a date (YYYY-MM-DD)")))
}

fn text(r: &AnyRow, i: usize) -> Result<String> {
    Ok(r.try_get::<String, _>(i)?)
}

fn opt(r: &AnyRow, i: usize) -> Result<Option<String>> {
    Ok(r.try_get::<Option<String>, _>(i)?)
}

impl Store {
    /// Starts a change: a write transaction that begins with its audit row.
    pub async fn change(&self, actor: &str, action: &str, entity: &str) -> Result<Change> {
        if actor.trim().is_empty() {
            return Err(Error::Refused(
                "every change needs an actor (who is doing it)".into(),
            ));
        }
        let mut tx = self.begin_write().await?;
        let audit: i64 = sqlx::query(
            &self.sql("INSERT INTO audit (at, actor, action, entity) VALUES (?, ?, ?, ?) RETURNING id"),
        )
        .bind(now())
        .bind(actor.to_string())
        .bind(action.to_string())
        .bind(entity.to_string())
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        Ok(Change { tx, audit })
    }

    /// Commits a change, recording the entity's id and its states before and after.
    pub async fn commit(
        &self,
        mut c: Change,
        id: Option<i64>,
        before: Option<String>,
        after: Option<String>,
    ) -> Result<()> {
        sqlx::query(
            &self.sql("UPDATE audit SET entity_id = ?, before_state = ?, after_state = ? WHERE id = ?"),
        )
        .bind(id)
        .bind(before)
        .bind(after)
        .bind(c.audit)
        .execute(&mut *c.tx)
        .await?;
        c.tx.commit().await?;
        Ok(())
    }

    /// Replaces the organisations (from a dataset).
    pub async fn set_organisations(&self, orgs: &[Organisation], actor: &str) -> Result<()> {
        let mut c = self.change(actor, "set_organisations", "organisations").await?;
        sqlx::query("DELETE FROM organisations")
            .execute(&mut *c.tx)
            .await?;
        for chunk in orgs.chunks(500) {
            let mut sql = String::from("INSERT INTO organisations (code, name, kind, system_code) VALUES ");
            sql.push_str(&vec!["(?, ?, ?, ?)"; chunk.len()].join(", "));
            let sql = self.sql(&sql);
            let mut q = sqlx::query(&sql);
            for o in chunk {
                q = q
                    .bind(o.code.clone())
                    .bind(o.name.clone())
                    .bind(o.kind.clone())
                    .bind(o.system_code.clone());
            }
            q.execute(&mut *c.tx).await?;
        }
        let after = serde_json::json!({ "organisations": orgs.len() }).to_string();
        self.commit(c, None, None, Some(after)).await
    }

    pub async fn organisations(&self) -> Result<Vec<Organisation>> {
        let rows = sqlx::query("SELECT code, name, kind, system_code FROM organisations ORDER BY code")
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Organisation {
                    code: text(r, 0)?,
                    name: text(r, 1)?,
                    kind: text(r, 2)?,
                    system_code: opt(r, 3)?,
                })
            })
            .collect()
    }

    /// Adds a user-defined regulator.
    pub async fn add_regulator(&self, id: &str, name: &str, actor: &str) -> Result<()> {
        if id.trim().is_empty() || name.trim().is_empty() {
            return Err(Error::Refused("a regulator needs an id and a name".into()));
        }
        let mut c = self.change(actor, "add_regulator", "regulator").await?;
        let exists = sqlx::query(&self.sql("SELECT id FROM regulators WHERE id = ?"))
            .bind(id.to_string())
            .fetch_optional(&mut *c.tx)
            .await?;
        if exists.is_some() {
            return Err(Error::Refused(format!("regulator {id:?} already exists")));
        }
        sqlx::query(&self.sql("INSERT INTO regulators (id, name, builtin) VALUES (?, ?, 0)"))
            .bind(id.to_string())
            .bind(name.to_string())
            .execute(&mut *c.tx)
            .await?;
        let after = serde_json::json!({ "id": id, "name": name }).to_string();
        self.commit(c, None, None, Some(after)).await
    }

    async fn org_system(
        &self,
        tx: &mut Transaction<'static, Any>,
        code: &str,
    ) -> Result<Option<Option<String>>> {
        let row = sqlx::query(&self.sql("SELECT system_code FROM organisations WHERE code = ?"))
            .bind(code.to_string())
            .fetch_optional(&mut **tx)
            .await?;
        row.map(|r| opt(&r, 0)).transpose()
    }

    async fn check_levers(&self, tx: &mut Transaction<'static, Any>, levers: &[Lever]) -> Result<()> {
        for l in levers {
            if !LEVERS.iter().any(|x| x.0 == l.lever) {
                return Err(Error::Refused(format!(
                    "lever {:?}: not a lever; one of {}",
                    l.lever,
                    LEVERS.map(|x| x.0).join(", ")
                )));
            }
            for code in std::iter::once(&l.org_code).chain(l.to_org_code.iter()) {
                if self.org_system(tx, code).await?.is_none() {
                    return Err(Error::Refused(format!("lever on {code:?}: unknown organisation")));
                }
            }
            if matches!(l.lever.as_str(), "activity_moved" | "management_merger") && l.to_org_code.is_none() {
                return Err(Error::Refused(format!(
                    "lever {}: needs the organisation it moves to (ORG:{}:AMOUNT:TO_ORG)",
                    l.lever, l.lever
                )));
            }
        }
        Ok(())
    }

    async fn insert_levers(
        &self,
        tx: &mut Transaction<'static, Any>,
        owner: (&str, i64),
        levers: &[Lever],
    ) -> Result<()> {
        for l in levers {
            let sql = self.sql(&format!(
                "INSERT INTO levers ({}, org_code, lever, amount, to_org_code) VALUES (?, ?, ?, ?, ?)",
                owner.0
            ));
            sqlx::query(&sql)
                .bind(owner.1)
                .bind(l.org_code.clone())
                .bind(l.lever.clone())
                .bind(l.amount)
                .bind(l.to_org_code.clone())
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    /// Opens an intervention. Refused, changing nothing, if the regulator, organisation or
    /// system is unknown, the kind is not in the store's registry ([`crate::Kinds`]) or lacks what the kind
    /// requires, the deadline is before
    /// the start, a lever is malformed, or the case is not open.
    pub async fn open_intervention(&self, n: &NewIntervention, actor: &str) -> Result<i64> {
        let Some(kind) = self.kinds.get(&n.kind) else {
            return Err(Error::Refused(format!(
                "kind {:?}: not an intervention kind of the registry (version {}); one of {}",
                n.kind,
                self.kinds.version,
                self.kinds.ids().join(", ")
            )));
        };
        let start = date("start", &n.start_date)?;
        let d = &n.details;
        for need in &kind.requires {
            let given = match need {
                crate::kinds::Detail::Partner => d.partner.is_some(),
                crate::kinds::Detail::Provider => d.provider.is_some(),
                crate::kinds::Detail::Cost => d.cost.is_some(),
                crate::kinds::Detail::Conditions => !d.conditions.is_empty(),
                crate::kinds::Detail::Expiry => d.expiry.is_some(),
            };
            if !given {
                return Err(Error::Refused(format!(
                    "kind {}: must give its {} ({})",
                    kind.id,
                    need.as_str(),
                    kind.title
                )));
            }
        }
        if let Some(cost) = d.cost
            && !(cost.is_finite() && cost >= 0.0)
        {
            return Err(Error::Refused(format!("cost {cost}: pounds, at least 0")));
        }
        for (name, v) in [("provider", &d.provider), ("care_model", &d.care_model)] {
            if v.as_deref().is_some_and(|x| x.trim().is_empty()) {
                return Err(Error::Refused(format!("{name}: must not be empty")));
            }
        }
        if d.conditions.iter().any(|c| c.trim().is_empty()) {
            return Err(Error::Refused("conditions: none may be empty".into()));
        }
        if let Some(e) = &d.expiry
            && date("expiry", e)? < start
        {
            return Err(Error::Refused(format!(
                "expiry {e}: before the start {}",
                n.start_date
            )));
        }
        if let Some(d) = &n.deadline
            && date("deadline", d)? < start
        {
            return Err(Error::Refused(format!(
                "deadline {d}: before the start {}",
                n.start_date
            )));
        }
        if n.legal_basis.trim().is_empty() {
            return Err(Error::Refused("an intervention needs its legal basis".into()));
        }
        let mut c = self.change(actor, "open_intervention", "intervention").await?;
        let reg = sqlx::query(&self.sql("SELECT id FROM regulators WHERE id = ?"))
            .bind(n.regulator.clone())
            .fetch_optional(&mut *c.tx)
            .await?;
        if reg.is_none() {
            return Err(Error::Refused(format!(
                "regulator {:?}: unknown (add it first)",
                n.regulator
            )));
        }
        let system = match n.target_kind.as_str() {
            "organisation" => self
                .org_system(&mut c.tx, &n.target_code)
                .await?
                .ok_or_else(|| Error::Refused(format!("organisation {:?}: unknown", n.target_code)))?,
            "system" => {
                let known = sqlx::query(&self.sql("SELECT code FROM organisations WHERE system_code = ?"))
                    .bind(n.target_code.clone())
                    .fetch_optional(&mut *c.tx)
                    .await?;
                if known.is_none() {
                    return Err(Error::Refused(format!(
                        "system {:?}: unknown (no organisation is in it)",
                        n.target_code
                    )));
                }
                Some(n.target_code.clone())
            }
            other => {
                return Err(Error::Refused(format!(
                    "target kind {other:?}: organisation or system"
                )));
            }
        };
        if let Some(case) = n.case_id {
            let row = sqlx::query(&self.sql("SELECT status FROM cases WHERE id = ?"))
                .bind(case)
                .fetch_optional(&mut *c.tx)
                .await?;
            match row {
                None => return Err(Error::Refused(format!("case {case}: no such case"))),
                Some(r) if text(&r, 0)? != "open" => {
                    return Err(Error::Refused(format!("case {case}: closed")));
                }
                _ => {}
            }
        }
        if let Some(p) = &d.partner {
            if p == &n.target_code {
                return Err(Error::Refused(format!(
                    "partner {p}: the target cannot be its own buddy"
                )));
            }
            if self.org_system(&mut c.tx, p).await?.is_none() {
                return Err(Error::Refused(format!("partner {p:?}: unknown organisation")));
            }
        }
        self.check_levers(&mut c.tx, &n.levers).await?;
        let id: i64 = sqlx::query(&self.sql(
            "INSERT INTO interventions (regulator, target_kind, target_code, system_code, kind, legal_basis, actions, start_date, deadline, status, case_id, opened_at, version, details) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, 1, ?) RETURNING id",
        ))
        .bind(n.regulator.clone())
        .bind(n.target_kind.clone())
        .bind(n.target_code.clone())
        .bind(system)
        .bind(n.kind.clone())
        .bind(n.legal_basis.clone())
        .bind(serde_json::to_string(&n.actions).unwrap_or_default())
        .bind(n.start_date.clone())
        .bind(n.deadline.clone())
        .bind(n.case_id)
        .bind(now())
        .bind((!d.is_empty()).then(|| serde_json::to_string(d).unwrap_or_default()))
        .fetch_one(&mut *c.tx)
        .await?
        .try_get(0)?;
        self.insert_levers(&mut c.tx, ("intervention_id", id), &n.levers)
            .await?;
        let after = serde_json::to_string(n).ok();
        self.commit(c, Some(id), None, after).await?;
        Ok(id)
    }

    /// Closes an open intervention.
    pub async fn close_intervention(&self, id: i64, reason: &str, actor: &str) -> Result<()> {
        if reason.trim().is_empty() {
            return Err(Error::Refused("closing needs a reason".into()));
        }
        let mut c = self.change(actor, "close_intervention", "intervention").await?;
        let row = sqlx::query(&self.sql(&format!(
            "SELECT status FROM interventions WHERE id = ?{}",
            self.for_update()
        )))
        .bind(id)
        .fetch_optional(&mut *c.tx)
        .await?
        .ok_or_else(|| Error::NotFound(format!("intervention {id}: no such intervention")))?;
        let status = text(&row, 0)?;
        if status != "open" {
            return Err(Error::Refused(format!("intervention {id}: already {status}")));
        }
        sqlx::query(&self.sql("UPDATE interventions SET status = 'closed', closed_at = ?, close_reason = ?, version = version + 1 WHERE id = ?"))
            .bind(now())
            .bind(reason.to_string())
            .bind(id)
            .execute(&mut *c.tx)
            .await?;
        let after = serde_json::json!({ "status": "closed", "reason": reason }).to_string();
        self.commit(
            c,
            Some(id),
            Some(serde_json::json!({ "status": status }).to_string()),
            Some(after),
        )
        .await
    }

    /// Opens a case on a system. With a `pack` and `period` (a trigger), a second call for
    /// the same system, pack and period opens nothing and returns `None`. By hand (no
    /// trigger), a system with an open case is refused: a health economy has one recovery
    /// plan, and a new concern is added to the case it has.
    pub async fn open_case(
        &self,
        system_code: &str,
        trigger: Option<(&str, &str)>,
        reason: &str,
        snapshot: Option<&serde_json::Value>,
        actor: &str,
    ) -> Result<Option<i64>> {
        let mut c = self.change(actor, "open_case", "case").await?;
        let known = sqlx::query(&self.sql("SELECT code FROM organisations WHERE system_code = ?"))
            .bind(system_code.to_string())
            .fetch_optional(&mut *c.tx)
            .await?;
        if known.is_none() {
            return Err(Error::Refused(format!(
                "system {system_code:?}: unknown (no organisation is in it)"
            )));
        }
        if trigger.is_none() {
            let open =
                sqlx::query(&self.sql("SELECT id FROM cases WHERE system_code = ? AND status = 'open'"))
                    .bind(system_code.to_string())
                    .fetch_optional(&mut *c.tx)
                    .await?;
            if let Some(row) = open {
                let id: i64 = row.try_get(0)?;
                return Err(Error::Refused(format!(
                    "system {system_code}: already has an open case (#{id}); add to it"
                )));
            }
        }
        if let Some((pack, period)) = trigger {
            let existing = sqlx::query(
                &self.sql("SELECT id FROM cases WHERE system_code = ? AND pack = ? AND period = ?"),
            )
            .bind(system_code.to_string())
            .bind(pack.to_string())
            .bind(period.to_string())
            .fetch_optional(&mut *c.tx)
            .await?;
            if existing.is_some() {
                c.tx.rollback().await?;
                return Ok(None);
            }
        }
        let id: i64 = sqlx::query(&self.sql(
            "INSERT INTO cases (system_code, status, opened_by, pack, period, reason, opened_at, version) VALUES (?, 'open', ?, ?, ?, ?, ?, 1) RETURNING id",
        ))
        .bind(system_code.to_string())
        .bind(if trigger.is_some() { "trigger" } else { "hand" })
        .bind(trigger.map(|t| t.0.to_string()))
        .bind(trigger.map(|t| t.1.to_string()))
        .bind(reason.to_string())
        .bind(now())
        .fetch_one(&mut *c.tx)
        .await?
        .try_get(0)?;
        if let Some(body) = snapshot {
            sqlx::query(
                &self.sql("INSERT INTO snapshots (case_id, kind, body, at) VALUES (?, 'assessment', ?, ?)"),
            )
            .bind(id)
            .bind(body.to_string())
            .bind(now())
            .execute(&mut *c.tx)
            .await?;
        }
        let after = serde_json::json!({ "system_code": system_code, "trigger": trigger, "reason": reason })
            .to_string();
        self.commit(c, Some(id), None, Some(after)).await?;
        Ok(Some(id))
    }

    async fn open_case_row(&self, tx: &mut Transaction<'static, Any>, case: i64) -> Result<String> {
        let row = sqlx::query(&self.sql(&format!(
            "SELECT status, system_code FROM cases WHERE id = ?{}",
            self.for_update()
        )))
        .bind(case)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| Error::NotFound(format!("case {case}: no such case")))?;
        if text(&row, 0)? != "open" {
            return Err(Error::Refused(format!("case {case}: closed")));
        }
        text(&row, 1)
    }

    /// Adds a stakeholder's commitment to a case's recovery plan.
    pub async fn add_commitment(&self, case: i64, n: &NewCommitment, actor: &str) -> Result<i64> {
        if !CARE_MODELS.contains(&n.care_model.as_str()) {
            return Err(Error::Refused(format!(
                "care model {:?}: one of {}",
                n.care_model,
                CARE_MODELS.join(", ")
            )));
        }
        if !STAKEHOLDER_KINDS.contains(&n.stakeholder_kind.as_str()) {
            return Err(Error::Refused(format!(
                "stakeholder kind {:?}: one of {}",
                n.stakeholder_kind,
                STAKEHOLDER_KINDS.join(", ")
            )));
        }
        if let Some(d) = &n.due {
            date("due", d)?;
        }
        let mut c = self.change(actor, "add_commitment", "commitment").await?;
        self.open_case_row(&mut c.tx, case).await?;
        self.check_levers(&mut c.tx, &n.levers).await?;
        let id: i64 = sqlx::query(&self.sql(
            "INSERT INTO commitments (case_id, stakeholder, stakeholder_kind, care_model, description, due) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        ))
        .bind(case)
        .bind(n.stakeholder.clone())
        .bind(n.stakeholder_kind.clone())
        .bind(n.care_model.clone())
        .bind(n.description.clone())
        .bind(n.due.clone())
        .fetch_one(&mut *c.tx)
        .await?
        .try_get(0)?;
        self.insert_levers(&mut c.tx, ("commitment_id", id), &n.levers)
            .await?;
        sqlx::query(&self.sql("UPDATE cases SET version = version + 1 WHERE id = ?"))
            .bind(case)
            .execute(&mut *c.tx)
            .await?;
        let after = serde_json::to_string(n).ok();
        self.commit(c, Some(id), None, after).await?;
        Ok(id)
    }

    /// Changes a commitment of an open case: its description, its milestone date, and its
    /// levers (replaced as a whole when given). What is left out stays as it was; before and
    /// after go to the audit.
    pub async fn change_commitment(&self, id: i64, change: &CommitmentChange, actor: &str) -> Result<()> {
        if let Some(d) = &change.due {
            date("due", d)?;
        }
        if change.description.as_deref().is_some_and(|d| d.trim().is_empty()) {
            return Err(Error::Refused("description: must not be empty".into()));
        }
        if change.description.is_none() && change.due.is_none() && change.levers.is_none() {
            return Err(Error::Refused(format!(
                "commitment {id}: nothing to change (give a description, a due date or levers)"
            )));
        }
        let mut c = self.change(actor, "change_commitment", "commitment").await?;
        let row = sqlx::query(&self.sql(&format!(
            "SELECT case_id, description, due, done_at FROM commitments WHERE id = ?{}",
            self.for_update()
        )))
        .bind(id)
        .fetch_optional(&mut *c.tx)
        .await?
        .ok_or_else(|| Error::NotFound(format!("commitment {id}: no such commitment")))?;
        let case: i64 = row.try_get(0)?;
        let (description, due, done): (String, Option<String>, Option<String>) =
            (text(&row, 1)?, opt(&row, 2)?, opt(&row, 3)?);
        self.open_case_row(&mut c.tx, case).await?;
        if done.is_some() {
            return Err(Error::Refused(format!(
                "commitment {id}: delivered; a delivered milestone does not change"
            )));
        }
        let levers_before: Vec<Lever> = sqlx::query(&self.sql(
            "SELECT org_code, lever, amount, to_org_code FROM levers WHERE commitment_id = ? ORDER BY id",
        ))
        .bind(id)
        .fetch_all(&mut *c.tx)
        .await?
        .iter()
        .map(|r| {
            Ok(Lever {
                org_code: text(r, 0)?,
                lever: text(r, 1)?,
                amount: r.try_get(2)?,
                to_org_code: opt(r, 3)?,
            })
        })
        .collect::<Result<_>>()?;
        let before = serde_json::json!({ "description": description, "due": due, "levers": levers_before });
        sqlx::query(&self.sql("UPDATE commitments SET description = ?, due = ? WHERE id = ?"))
            .bind(change.description.clone().unwrap_or(description))
            .bind(change.due.clone().or(due))
            .bind(id)
            .execute(&mut *c.tx)
            .await?;
        if let Some(levers) = &change.levers {
            self.check_levers(&mut c.tx, levers).await?;
            sqlx::query(&self.sql("DELETE FROM levers WHERE commitment_id = ?"))
                .bind(id)
                .execute(&mut *c.tx)
                .await?;
            self.insert_levers(&mut c.tx, ("commitment_id", id), levers)
                .await?;
        }
        sqlx::query(&self.sql("UPDATE cases SET version = version + 1 WHERE id = ?"))
            .bind(case)
            .execute(&mut *c.tx)
            .await?;
        let after = serde_json::to_string(change).ok();
        self.commit(c, Some(id), Some(before.to_string()), after).await
    }

    /// Stores what a decision on a case was based on (an assessment, a diagnosis, indicator
    /// values).
    pub async fn add_snapshot(
        &self,
        case: i64,
        kind: &str,
        body: &serde_json::Value,
        actor: &str,
    ) -> Result<()> {
        let mut c = self.change(actor, "add_snapshot", "case").await?;
        self.open_case_row(&mut c.tx, case).await?;
        sqlx::query(&self.sql("INSERT INTO snapshots (case_id, kind, body, at) VALUES (?, ?, ?, ?)"))
            .bind(case)
            .bind(kind.to_string())
            .bind(body.to_string())
            .bind(now())
            .execute(&mut *c.tx)
            .await?;
        self.commit(
            c,
            Some(case),
            None,
            Some(serde_json::json!({ "snapshot": kind }).to_string()),
        )
        .await
    }

    /// Commits the case's plan to an indicator value for the system by a period.
    pub async fn add_trajectory(
        &self,
        case: i64,
        indicator: &str,
        (grain, period): (&str, &str),
        target: f64,
        direction: &str,
        actor: &str,
    ) -> Result<i64> {
        if !matches!(
            grain,
            "month" | "quarter" | "financial_year" | "rolling_12_months"
        ) {
            return Err(Error::Refused(format!(
                "grain {grain:?}: month, quarter, financial_year or rolling_12_months"
            )));
        }
        if !matches!(direction, "higher" | "lower") {
            return Err(Error::Refused(format!(
                "direction {direction:?}: higher or lower (which is better)"
            )));
        }
        if !target.is_finite() || indicator.trim().is_empty() || period.trim().is_empty() {
            return Err(Error::Refused(
                "a trajectory needs an indicator, a period and a finite target".into(),
            ));
        }
        let mut c = self.change(actor, "add_trajectory", "trajectory").await?;
        self.open_case_row(&mut c.tx, case).await?;
        let id: i64 = sqlx::query(&self.sql(
            "INSERT INTO trajectories (case_id, indicator, grain, period, target, direction) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        ))
        .bind(case)
        .bind(indicator.to_string())
        .bind(grain.to_string())
        .bind(period.to_string())
        .bind(target)
        .bind(direction.to_string())
        .fetch_one(&mut *c.tx)
        .await?
        .try_get(0)?;
        let after =
            serde_json::json!({ "indicator": indicator, "grain": grain, "period": period, "target": target })
                .to_string();
        self.commit(c, Some(id), None, Some(after)).await?;
        Ok(id)
    }

    /// Marks a commitment's milestone delivered.
    pub async fn complete_commitment(&self, id: i64, actor: &str) -> Result<()> {
        let mut c = self.change(actor, "complete_commitment", "commitment").await?;
        let n = sqlx::query(&self.sql("UPDATE commitments SET done_at = ? WHERE id = ? AND done_at IS NULL"))
            .bind(now())
            .bind(id)
            .execute(&mut *c.tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(Error::Refused(format!(
                "commitment {id}: no such commitment, or already delivered"
            )));
        }
        self.commit(c, Some(id), None, Some("{\"done\": true}".into()))
            .await
    }

    pub async fn add_exit_criterion(&self, case: i64, criterion: &str, actor: &str) -> Result<i64> {
        let mut c = self.change(actor, "add_exit_criterion", "exit_criterion").await?;
        self.open_case_row(&mut c.tx, case).await?;
        let id: i64 =
            sqlx::query(&self.sql("INSERT INTO exit_criteria (case_id, text) VALUES (?, ?) RETURNING id"))
                .bind(case)
                .bind(criterion.to_string())
                .fetch_one(&mut *c.tx)
                .await?
                .try_get(0)?;
        let after = serde_json::json!({ "case": case, "text": criterion }).to_string();
        self.commit(c, Some(id), None, Some(after)).await?;
        Ok(id)
    }

    pub async fn meet_exit_criterion(&self, id: i64, actor: &str) -> Result<()> {
        let mut c = self
            .change(actor, "meet_exit_criterion", "exit_criterion")
            .await?;
        let n = sqlx::query(&self.sql("UPDATE exit_criteria SET met_at = ? WHERE id = ? AND met_at IS NULL"))
            .bind(now())
            .bind(id)
            .execute(&mut *c.tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(Error::Refused(format!(
                "exit criterion {id}: no such criterion, or already met"
            )));
        }
        self.commit(c, Some(id), None, Some("{\"met\": true}".into()))
            .await
    }

    /// Records progress on a case (and bumps its version).
    pub async fn record_progress(&self, case: i64, note: &str, actor: &str) -> Result<()> {
        let mut c = self.change(actor, "record_progress", "case").await?;
        self.open_case_row(&mut c.tx, case).await?;
        sqlx::query(&self.sql("INSERT INTO progress (case_id, at, actor, note) VALUES (?, ?, ?, ?)"))
            .bind(case)
            .bind(now())
            .bind(actor.to_string())
            .bind(note.to_string())
            .execute(&mut *c.tx)
            .await?;
        sqlx::query(&self.sql("UPDATE cases SET version = version + 1 WHERE id = ?"))
            .bind(case)
            .execute(&mut *c.tx)
            .await?;
        self.commit(
            c,
            Some(case),
            None,
            Some(serde_json::json!({ "progress": note }).to_string()),
        )
        .await
    }

    /// Closes a case. Refused while an exit criterion is unmet, unless `override_reason` says
    /// why it closes anyway.
    pub async fn close_case(
        &self,
        case: i64,
        reason: &str,
        override_reason: Option<&str>,
        actor: &str,
    ) -> Result<()> {
        if reason.trim().is_empty() {
            return Err(Error::Refused("closing needs a reason".into()));
        }
        let mut c = self.change(actor, "close_case", "case").await?;
        self.open_case_row(&mut c.tx, case).await?;
        let unmet = sqlx::query(
            &self.sql("SELECT text FROM exit_criteria WHERE case_id = ? AND met_at IS NULL ORDER BY id"),
        )
        .bind(case)
        .fetch_all(&mut *c.tx)
        .await?
        .iter()
        .map(|r| text(r, 0))
        .collect::<Result<Vec<_>>>()?;
        if !unmet.is_empty() && override_reason.is_none_or(|r| r.trim().is_empty()) {
            return Err(Error::Refused(format!(
                "case {case}: exit criteria not met ({}); give an override reason to close it anyway",
                unmet.join("; ")
            )));
        }
        let why = match override_reason {
            Some(o) if !unmet.is_empty() => format!("{reason} (override: {o}; unmet: {})", unmet.join("; ")),
            _ => reason.to_string(),
        };
        sqlx::query(&self.sql("UPDATE cases SET status = 'closed', closed_at = ?, close_reason = ?, version = version + 1 WHERE id = ?"))
            .bind(now())
            .bind(why.clone())
            .bind(case)
            .execute(&mut *c.tx)
            .await?;
        self.commit(
            c,
            Some(case),
            Some("{\"status\": \"open\"}".into()),
            Some(serde_json::json!({ "status": "closed", "reason": why }).to_string()),
        )
        .await
    }

    async fn levers_of(&self, column: &str, id: i64) -> Result<Vec<Lever>> {
        let rows = sqlx::query(&self.sql(&format!(
            "SELECT org_code, lever, amount, to_org_code FROM levers WHERE {column} = ? ORDER BY id"
        )))
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Lever {
                    org_code: text(r, 0)?,
                    lever: text(r, 1)?,
                    amount: r.try_get::<f64, _>(2)?,
                    to_org_code: opt(r, 3)?,
                })
            })
            .collect()
    }

    pub async fn interventions(&self) -> Result<Vec<Intervention>> {
        let rows = sqlx::query(
            "SELECT id, regulator, target_kind, target_code, system_code, kind, legal_basis, actions, start_date, deadline, status, case_id, opened_at, closed_at, close_reason, details FROM interventions ORDER BY id",
        )
        .fetch_all(self.pool())
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let id: i64 = r.try_get(0)?;
            out.push(Intervention {
                id,
                regulator: text(r, 1)?,
                target_kind: text(r, 2)?,
                target_code: text(r, 3)?,
                system_code: opt(r, 4)?,
                kind: text(r, 5)?,
                legal_basis: text(r, 6)?,
                actions: serde_json::from_str(&text(r, 7)?).unwrap_or_default(),
                start_date: text(r, 8)?,
                deadline: opt(r, 9)?,
                status: text(r, 10)?,
                case_id: r.try_get::<Option<i64>, _>(11)?,
                levers: self.levers_of("intervention_id", id).await?,
                opened_at: text(r, 12)?,
                closed_at: opt(r, 13)?,
                close_reason: opt(r, 14)?,
                details: opt(r, 15)?
                    .and_then(|t| serde_json::from_str(&t).ok())
                    .unwrap_or_default(),
            });
        }
        Ok(out)
    }

    pub async fn cases(&self) -> Result<Vec<Case>> {
        let rows = sqlx::query(
            "SELECT id, system_code, status, opened_by, pack, period, reason, opened_at, closed_at, close_reason, version FROM cases ORDER BY id",
        )
        .fetch_all(self.pool())
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let id: i64 = r.try_get(0)?;
            let commitments = sqlx::query(&self.sql(
                "SELECT id, stakeholder, stakeholder_kind, care_model, description, due, done_at FROM commitments WHERE case_id = ? ORDER BY id",
            ))
            .bind(id)
            .fetch_all(self.pool())
            .await?;
            let mut cs = Vec::new();
            for c in &commitments {
                let cid: i64 = c.try_get(0)?;
                cs.push(Commitment {
                    id: cid,
                    stakeholder: text(c, 1)?,
                    stakeholder_kind: text(c, 2)?,
                    care_model: text(c, 3)?,
                    description: text(c, 4)?,
                    due: opt(c, 5)?,
                    done_at: opt(c, 6)?,
                    levers: self.levers_of("commitment_id", cid).await?,
                });
            }
            let exit = sqlx::query(
                &self.sql("SELECT id, text, met_at FROM exit_criteria WHERE case_id = ? ORDER BY id"),
            )
            .bind(id)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|e| {
                Ok(ExitCriterion {
                    id: e.try_get(0)?,
                    text: text(e, 1)?,
                    met_at: opt(e, 2)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
            let progress =
                sqlx::query(&self.sql("SELECT at, actor, note FROM progress WHERE case_id = ? ORDER BY id"))
                    .bind(id)
                    .fetch_all(self.pool())
                    .await?
                    .iter()
                    .map(|p| {
                        Ok(Progress {
                            at: text(p, 0)?,
                            actor: text(p, 1)?,
                            note: text(p, 2)?,
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
            let snapshots =
                sqlx::query(&self.sql("SELECT kind, at, body FROM snapshots WHERE case_id = ? ORDER BY id"))
                    .bind(id)
                    .fetch_all(self.pool())
                    .await?
                    .iter()
                    .map(|p| {
                        Ok(Snapshot {
                            kind: text(p, 0)?,
                            at: text(p, 1)?,
                            body: serde_json::from_str(&text(p, 2)?).unwrap_or_default(),
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
            let trajectories = sqlx::query(&self.sql(
                "SELECT id, indicator, grain, period, target, direction FROM trajectories WHERE case_id = ? ORDER BY id",
            ))
            .bind(id)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|t| {
                Ok(Trajectory {
                    id: t.try_get(0)?,
                    indicator: text(t, 1)?,
                    grain: text(t, 2)?,
                    period: text(t, 3)?,
                    target: t.try_get(4)?,
                    direction: text(t, 5)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
            let mut plan_totals = std::collections::BTreeMap::new();
            for c in &cs {
                for l in &c.levers {
                    *plan_totals.entry(l.lever.clone()).or_insert(0.0) += l.amount;
                }
            }
            out.push(Case {
                id,
                system_code: text(r, 1)?,
                status: text(r, 2)?,
                opened_by: text(r, 3)?,
                pack: opt(r, 4)?,
                period: opt(r, 5)?,
                reason: text(r, 6)?,
                opened_at: text(r, 7)?,
                closed_at: opt(r, 8)?,
                close_reason: opt(r, 9)?,
                commitments: cs,
                exit_criteria: exit,
                progress,
                plan_totals,
                snapshots,
                trajectories,
                version: r.try_get(10)?,
            });
        }
        Ok(out)
    }

    pub async fn audit(&self) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query("SELECT id, at, actor, action, entity, entity_id, before_state, after_state FROM audit ORDER BY id")
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| {
                let json = |i: usize| -> Result<Option<serde_json::Value>> {
                    Ok(opt(r, i)?.and_then(|s| serde_json::from_str(&s).ok()))
                };
                Ok(AuditEntry {
                    id: r.try_get(0)?,
                    at: text(r, 1)?,
                    actor: text(r, 2)?,
                    action: text(r, 3)?,
                    entity: text(r, 4)?,
                    entity_id: r.try_get::<Option<i64>, _>(5)?,
                    before: json(6)?,
                    after: json(7)?,
                })
            })
            .collect()
    }
}
