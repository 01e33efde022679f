//! The programme office's records on the register's store (SQLite or PostgreSQL): care-model
//! organisations, applications and their reviews, selections, decommissioning milestones and
//! the fund's tranches, and flexibilities (procurement waivers, legal advice, conflicts of
//! interest). Every change is one transaction that starts with its audit row.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;
use store::Store;

use crate::fund::{self, Decommissioning, Flow, FundRules, Milestone, Position, Proposal, Refusal, Tranche};
use crate::review::{self, Method, Ranking};
use crate::select::{self, Bid, Rules, Selection};
use crate::{Error, Result};

/// The forms a new care model takes.
pub const FORMS: [&str; 2] = ["virtual", "contracted"];
/// How it is contracted.
pub const CONTRACT_FORMS: [&str; 3] = ["alliance", "prime_contractor", "capitated"];
/// Kinds of flexibility recorded.
pub const FLEXIBILITIES: [&str; 3] = ["procurement_waiver", "legal_advice", "conflict_of_interest"];

/// A new care model as an organisation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CareModel {
    pub code: String,
    pub name: String,
    /// One of the five care models (`multispecialty_community_provider`, …).
    pub model: String,
    /// `virtual` or `contracted`.
    pub form: String,
    /// `alliance`, `prime_contractor` or `capitated`.
    pub contract_form: String,
    /// The budget terms it settles under (a file of `examples/terms/`, without `.toml`).
    pub terms: Option<String>,
    pub system_code: Option<String>,
    pub start_date: String,
    pub population: f64,
    /// Member organisations (trusts, commissioners, local authorities, …).
    pub members: Vec<String>,
    /// Member practices.
    pub practices: Vec<String>,
}

/// An application as submitted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct NewApplication {
    pub id: String,
    pub model: String,
    pub lead_org_code: String,
    #[serde(default)]
    pub partners: Vec<String>,
    pub system_code: Option<String>,
    pub region_code: Option<String>,
    pub population: f64,
    /// Running costs and savings by financial year.
    pub flows: Vec<Flow>,
    /// The decommissioning plan: which services, when, and what each releases a year.
    pub decommissioning: Vec<Decommissioning>,
    pub benefits: String,
}

/// An application with where it stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Application {
    #[serde(flatten)]
    pub application: NewApplication,
    /// `submitted`, `refused`, `selected` or `not_selected`.
    pub status: String,
    pub refusals: Vec<Refusal>,
    pub submitted_at: String,
}

impl NewApplication {
    pub fn proposal(&self) -> Proposal {
        Proposal {
            id: self.id.clone(),
            lead_org_code: self.lead_org_code.clone(),
            partners: self.partners.clone(),
            flows: self.flows.clone(),
            decommissioning: self.decommissioning.clone(),
        }
    }

    /// What the bid asks of the fund: its running costs.
    pub fn requested(&self) -> f64 {
        self.flows.iter().map(|f| f.running_cost).sum()
    }

    fn check(&self) -> Result<()> {
        let bad = |field: &str, value: &str, rule: &str| {
            Err(Error::Refused(format!(
                "application {}: {field}: {value:?}: {rule}",
                self.id
            )))
        };
        if self.id.trim().is_empty() || self.id.len() > 64 {
            return bad("id", &self.id, "1 to 64 characters");
        }
        if !store::CARE_MODELS.contains(&self.model.as_str()) {
            return bad(
                "model",
                &self.model,
                &format!("one of {}", store::CARE_MODELS.join(", ")),
            );
        }
        if !(self.population.is_finite() && self.population >= 0.0) {
            return bad("population", &self.population.to_string(), "a number ≥ 0");
        }
        for f in &self.flows {
            if fund::fy_start(&f.year).is_none() {
                return bad("flows.year", &f.year, "a financial year, 2016/17");
            }
            if !(f.running_cost.is_finite() && f.running_cost >= 0.0) {
                return bad("flows.running_cost", &f.running_cost.to_string(), "a number ≥ 0");
            }
            if !f.savings.is_finite() {
                return bad("flows.savings", &f.savings.to_string(), "a finite number");
            }
        }
        for d in &self.decommissioning {
            if model::parse_date(&d.date).is_err() {
                return bad("decommissioning.date", &d.date, "a date, YYYY-MM-DD");
            }
            if !(d.released.is_finite() && d.released >= 0.0) {
                return bad(
                    "decommissioning.released",
                    &d.released.to_string(),
                    "a number ≥ 0",
                );
            }
            if d.service.trim().is_empty() {
                return bad("decommissioning.service", &d.service, "name the service");
            }
        }
        Ok(())
    }
}

/// A flexibility granted or sought for a new care model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Flexibility {
    #[serde(default)]
    pub id: i64,
    pub care_model_code: String,
    /// `procurement_waiver`, `legal_advice` or `conflict_of_interest`.
    pub kind: String,
    /// The rule waived, the question asked, or the conflicted commissioner.
    pub subject: String,
    /// The waiver's terms, the answer, or the interest.
    pub detail: String,
    /// Who advised (legal advice).
    pub adviser: Option<String>,
    /// When (YYYY-MM-DD).
    pub on_date: String,
}

/// A stored selection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StoredSelection {
    pub id: i64,
    pub rules: Rules,
    pub result: Selection,
    /// The value each bid was given (the peer-review ranking's points).
    pub values: BTreeMap<String, f64>,
    pub at: String,
    pub actor: String,
}

/// Everything the office holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Programme {
    pub care_models: Vec<CareModel>,
    pub applications: Vec<Application>,
    pub reviews: Vec<review::Review>,
    pub ranking: Ranking,
    pub selection: Option<StoredSelection>,
    pub milestones: Vec<Milestone>,
    pub tranches: Vec<Tranche>,
    pub flexibilities: Vec<Flexibility>,
}

fn json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

fn parse<T: serde::de::DeserializeOwned>(r: &AnyRow, i: usize) -> Result<T> {
    let s: String = r.try_get(i)?;
    serde_json::from_str(&s).map_err(|e| Error::Refused(format!("a stored record does not read: {e}")))
}

/// The programme office on a store.
#[derive(Debug, Clone)]
pub struct Office {
    pub db: Store,
}

impl Office {
    pub fn new(db: Store) -> Office {
        Office { db }
    }

    /// Adds or replaces a care-model organisation.
    pub async fn put_care_model(&self, m: &CareModel, actor: &str) -> Result<()> {
        let bad = |f: &str, v: &str, rule: String| {
            Error::Refused(format!("care model {}: {f}: {v:?}: {rule}", m.code))
        };
        if !store::CARE_MODELS.contains(&m.model.as_str()) {
            return Err(bad(
                "model",
                &m.model,
                format!("one of {}", store::CARE_MODELS.join(", ")),
            ));
        }
        if !FORMS.contains(&m.form.as_str()) {
            return Err(bad("form", &m.form, format!("one of {}", FORMS.join(", "))));
        }
        if !CONTRACT_FORMS.contains(&m.contract_form.as_str()) {
            return Err(bad(
                "contract_form",
                &m.contract_form,
                format!("one of {}", CONTRACT_FORMS.join(", ")),
            ));
        }
        if model::parse_date(&m.start_date).is_err() {
            return Err(bad("start_date", &m.start_date, "a date, YYYY-MM-DD".into()));
        }
        let db = &self.db;
        let mut c = db.change(actor, "put_care_model", "care_model").await?;
        let before: Option<String> = sqlx::query(&db.sql("SELECT name FROM care_models WHERE code = ?"))
            .bind(m.code.clone())
            .fetch_optional(&mut *c.tx)
            .await?
            .map(|r| r.try_get(0))
            .transpose()?;
        sqlx::query(&db.sql("DELETE FROM care_models WHERE code = ?"))
            .bind(m.code.clone())
            .execute(&mut *c.tx)
            .await?;
        sqlx::query(&db.sql(
            "INSERT INTO care_models (code, name, model, form, contract_form, terms, system_code, start_date, population, members, practices) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        ))
        .bind(m.code.clone())
        .bind(m.name.clone())
        .bind(m.model.clone())
        .bind(m.form.clone())
        .bind(m.contract_form.clone())
        .bind(m.terms.clone())
        .bind(m.system_code.clone())
        .bind(m.start_date.clone())
        .bind(m.population)
        .bind(json(&m.members))
        .bind(json(&m.practices))
        .execute(&mut *c.tx)
        .await?;
        db.commit(
            c,
            None,
            before.map(|n| json(&serde_json::json!({ "name": n }))),
            Some(json(m)),
        )
        .await?;
        Ok(())
    }

    pub async fn care_models(&self) -> Result<Vec<CareModel>> {
        let rows = sqlx::query(
            "SELECT code, name, model, form, contract_form, terms, system_code, start_date, population, members, practices \
             FROM care_models ORDER BY code",
        )
        .fetch_all(self.db.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(CareModel {
                    code: r.try_get(0)?,
                    name: r.try_get(1)?,
                    model: r.try_get(2)?,
                    form: r.try_get(3)?,
                    contract_form: r.try_get(4)?,
                    terms: r.try_get(5)?,
                    system_code: r.try_get(6)?,
                    start_date: r.try_get(7)?,
                    population: r.try_get(8)?,
                    members: parse(r, 9)?,
                    practices: parse(r, 10)?,
                })
            })
            .collect()
    }

    /// Records an application (refused if its id is taken or a field breaks a rule).
    pub async fn submit(&self, a: &NewApplication, actor: &str) -> Result<()> {
        a.check()?;
        let db = &self.db;
        let mut c = db.change(actor, "submit_application", "application").await?;
        let taken = sqlx::query(&db.sql("SELECT id FROM applications WHERE id = ?"))
            .bind(a.id.clone())
            .fetch_optional(&mut *c.tx)
            .await?;
        if taken.is_some() {
            return Err(Error::Conflict(format!(
                "application {} is already recorded",
                a.id
            )));
        }
        sqlx::query(&db.sql(
            "INSERT INTO applications (id, model, lead_org_code, partners, system_code, region_code, population, flows, decommissioning, benefits, status, refusals, submitted_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'submitted', '[]', ?)",
        ))
        .bind(a.id.clone())
        .bind(a.model.clone())
        .bind(a.lead_org_code.clone())
        .bind(json(&a.partners))
        .bind(a.system_code.clone())
        .bind(a.region_code.clone())
        .bind(a.population)
        .bind(json(&a.flows))
        .bind(json(&a.decommissioning))
        .bind(a.benefits.clone())
        .bind(store::now())
        .execute(&mut *c.tx)
        .await?;
        db.commit(c, None, None, Some(json(a))).await?;
        Ok(())
    }

    pub async fn applications(&self) -> Result<Vec<Application>> {
        let rows = sqlx::query(
            "SELECT id, model, lead_org_code, partners, system_code, region_code, population, flows, decommissioning, benefits, status, refusals, submitted_at \
             FROM applications",
        )
        .fetch_all(self.db.pool())
        .await?;
        let mut out: Vec<Application> = rows
            .iter()
            .map(|r| {
                Ok(Application {
                    application: NewApplication {
                        id: r.try_get(0)?,
                        model: r.try_get(1)?,
                        lead_org_code: r.try_get(2)?,
                        partners: parse(r, 3)?,
                        system_code: r.try_get(4)?,
                        region_code: r.try_get(5)?,
                        population: r.try_get(6)?,
                        flows: parse(r, 7)?,
                        decommissioning: parse(r, 8)?,
                        benefits: r.try_get(9)?,
                    },
                    status: r.try_get(10)?,
                    refusals: parse(r, 11)?,
                    submitted_at: r.try_get(12)?,
                })
            })
            .collect::<Result<_>>()?;
        out.sort_by(|a, b| review::id_order(&a.application.id, &b.application.id));
        Ok(out)
    }

    /// Records a review (one per reviewer and application; its score and comment kept).
    pub async fn review(&self, r: &review::Review, actor: &str) -> Result<()> {
        if !r.score.is_finite() {
            return Err(Error::Refused(format!("score {}: a finite number", r.score)));
        }
        if r.reviewer_org_code.trim().is_empty() {
            return Err(Error::Refused("reviewer_org_code: name the reviewer".into()));
        }
        let db = &self.db;
        let mut c = db.change(actor, "review_application", "review").await?;
        let known = sqlx::query(&db.sql("SELECT id FROM applications WHERE id = ?"))
            .bind(r.application_id.clone())
            .fetch_optional(&mut *c.tx)
            .await?;
        if known.is_none() {
            return Err(Error::Store(store::Error::NotFound(format!(
                "no application {}",
                r.application_id
            ))));
        }
        let again =
            sqlx::query(&db.sql("SELECT id FROM reviews WHERE application_id = ? AND reviewer_org_code = ?"))
                .bind(r.application_id.clone())
                .bind(r.reviewer_org_code.clone())
                .fetch_optional(&mut *c.tx)
                .await?;
        if again.is_some() {
            return Err(Error::Conflict(format!(
                "{} has already reviewed application {}",
                r.reviewer_org_code, r.application_id
            )));
        }
        sqlx::query(&db.sql(
            "INSERT INTO reviews (application_id, reviewer_org_code, score, conflict, comment, at) VALUES (?, ?, ?, ?, ?, ?)",
        ))
        .bind(r.application_id.clone())
        .bind(r.reviewer_org_code.clone())
        .bind(r.score)
        .bind(i64::from(r.conflict))
        .bind(r.comment.clone())
        .bind(store::now())
        .execute(&mut *c.tx)
        .await?;
        db.commit(c, None, None, Some(json(r))).await?;
        Ok(())
    }

    pub async fn reviews(&self) -> Result<Vec<review::Review>> {
        let rows = sqlx::query(
            "SELECT reviewer_org_code, application_id, score, conflict, comment FROM reviews ORDER BY id",
        )
        .fetch_all(self.db.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(review::Review {
                    reviewer_org_code: r.try_get(0)?,
                    application_id: r.try_get(1)?,
                    score: r.try_get(2)?,
                    conflict: r.try_get::<i64, _>(3)? != 0,
                    comment: r.try_get(4)?,
                })
            })
            .collect()
    }

    /// The peer-review ranking of every application.
    pub async fn ranking(&self, method: Method) -> Result<Ranking> {
        let apps: Vec<review::Application> = self
            .applications()
            .await?
            .into_iter()
            .map(|a| review::Application {
                id: a.application.id,
                applicant_org_code: a.application.lead_org_code,
            })
            .collect();
        Ok(review::score(&apps, &self.reviews().await?, method))
    }

    async fn set_status(&self, id: &str, status: &str, refusals: &[Refusal], actor: &str) -> Result<()> {
        let db = &self.db;
        let mut c = db.change(actor, "application_status", "application").await?;
        let before: Option<String> = sqlx::query(&db.sql(&format!(
            "SELECT status FROM applications WHERE id = ?{}",
            db_lock(db)
        )))
        .bind(id.to_string())
        .fetch_optional(&mut *c.tx)
        .await?
        .map(|r| r.try_get(0))
        .transpose()?;
        let Some(before) = before else {
            return Err(Error::Store(store::Error::NotFound(format!(
                "no application {id}"
            ))));
        };
        sqlx::query(&db.sql("UPDATE applications SET status = ?, refusals = ? WHERE id = ?"))
            .bind(status.to_string())
            .bind(json(&refusals))
            .bind(id.to_string())
            .execute(&mut *c.tx)
            .await?;
        let after = serde_json::json!({ "id": id, "status": status, "refusals": refusals });
        db.commit(
            c,
            None,
            Some(json(&serde_json::json!({ "id": id, "status": before }))),
            Some(json(&after)),
        )
        .await?;
        Ok(())
    }

    /// Applies the fund's eligibility rules to every submitted application: those that break a
    /// rule are refused with their reasons. Returns the refused ids.
    pub async fn check_eligibility(
        &self,
        positions: &BTreeMap<String, Position>,
        rules: &FundRules,
        actor: &str,
    ) -> Result<Vec<String>> {
        let mut refused = Vec::new();
        for a in self.applications().await? {
            if a.status != "submitted" {
                continue;
            }
            let why = fund::eligibility(&a.application.proposal(), positions, rules);
            if !why.is_empty() {
                self.set_status(&a.application.id, "refused", &why, actor).await?;
                refused.push(a.application.id);
            }
        }
        Ok(refused)
    }

    /// Selects the portfolio among the eligible applications: each bid's value is its Borda
    /// points in the peer-review ranking among them (best of n: n; worst: 1; no counted
    /// review: 0), its cost what it asks of the fund. Selected applications get their
    /// decommissioning milestones and one tranche per milestone (the running costs shared
    /// equally).
    pub async fn select(&self, rules: &Rules, actor: &str) -> Result<StoredSelection> {
        let apps = self.applications().await?;
        let eligible: Vec<&Application> = apps.iter().filter(|a| a.status != "refused").collect();
        let ranking = self.ranking(Method::Zscore).await?;
        let scored: Vec<&review::Ranked> = ranking
            .ranking
            .iter()
            .filter(|r| r.score.is_some() && eligible.iter().any(|a| a.application.id == r.id))
            .collect();
        let n = scored.len();
        let mut values = BTreeMap::new();
        for (i, r) in scored.iter().enumerate() {
            values.insert(r.id.clone(), (n - i) as f64);
        }
        let bids: Vec<Bid> = eligible
            .iter()
            .map(|a| {
                let a = &a.application;
                let mut fields = BTreeMap::new();
                fields.insert("lead_org_code".to_string(), a.lead_org_code.clone());
                fields.insert(
                    "system_code".to_string(),
                    a.system_code.clone().unwrap_or_default(),
                );
                Bid {
                    id: a.id.clone(),
                    model: a.model.clone(),
                    region_code: a.region_code.clone().unwrap_or_default(),
                    cost: a.requested(),
                    value: values.get(&a.id).copied().unwrap_or(0.0),
                    fields,
                }
            })
            .collect();
        for b in &bids {
            values.entry(b.id.clone()).or_insert(0.0);
        }
        let result = select::select(&bids, rules)?;
        let db = &self.db;
        let mut c = db.change(actor, "select_portfolio", "selection").await?;
        let at = store::now();
        let id: i64 = sqlx::query(
            &db.sql("INSERT INTO selections (rules, result, at, actor) VALUES (?, ?, ?, ?) RETURNING id"),
        )
        .bind(json(&serde_json::json!({ "rules": rules, "values": values })))
        .bind(json(&result))
        .bind(at.clone())
        .bind(actor.to_string())
        .fetch_one(&mut *c.tx)
        .await?
        .try_get(0)?;
        for a in &eligible {
            let a = &a.application;
            let chosen = result.selected.contains(&a.id);
            sqlx::query(&db.sql("UPDATE applications SET status = ? WHERE id = ?"))
                .bind(if chosen { "selected" } else { "not_selected" })
                .bind(a.id.clone())
                .execute(&mut *c.tx)
                .await?;
            if !chosen {
                continue;
            }
            sqlx::query(&db.sql("DELETE FROM tranches WHERE application_id = ?"))
                .bind(a.id.clone())
                .execute(&mut *c.tx)
                .await?;
            sqlx::query(&db.sql("DELETE FROM milestones WHERE application_id = ?"))
                .bind(a.id.clone())
                .execute(&mut *c.tx)
                .await?;
            let k = a.decommissioning.len().max(1) as f64;
            for d in &a.decommissioning {
                let m: i64 = sqlx::query(&db.sql(
                    "INSERT INTO milestones (application_id, service, due, released) VALUES (?, ?, ?, ?) RETURNING id",
                ))
                .bind(a.id.clone())
                .bind(d.service.clone())
                .bind(d.date.clone())
                .bind(d.released)
                .fetch_one(&mut *c.tx)
                .await?
                .try_get(0)?;
                sqlx::query(&db.sql(
                    "INSERT INTO tranches (application_id, milestone_id, amount, status) VALUES (?, ?, ?, 'planned')",
                ))
                .bind(a.id.clone())
                .bind(m)
                .bind(a.requested() / k)
                .execute(&mut *c.tx)
                .await?;
            }
        }
        db.commit(c, Some(id), None, Some(json(&result))).await?;
        Ok(StoredSelection {
            id,
            rules: rules.clone(),
            result,
            values,
            at,
            actor: actor.to_string(),
        })
    }

    pub async fn selection(&self) -> Result<Option<StoredSelection>> {
        let row = sqlx::query("SELECT id, rules, result, at, actor FROM selections ORDER BY id DESC LIMIT 1")
            .fetch_optional(self.db.pool())
            .await?;
        let Some(r) = row else { return Ok(None) };
        #[derive(Deserialize)]
        struct Stored {
            rules: Rules,
            values: BTreeMap<String, f64>,
        }
        let s: Stored = parse(&r, 1)?;
        Ok(Some(StoredSelection {
            id: r.try_get(0)?,
            rules: s.rules,
            values: s.values,
            result: parse(&r, 2)?,
            at: r.try_get(3)?,
            actor: r.try_get(4)?,
        }))
    }

    pub async fn milestones(&self) -> Result<Vec<Milestone>> {
        let rows = sqlx::query(
            "SELECT id, application_id, service, due, released, met_on FROM milestones ORDER BY id",
        )
        .fetch_all(self.db.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Milestone {
                    id: r.try_get(0)?,
                    application_id: r.try_get(1)?,
                    service: r.try_get(2)?,
                    due: r.try_get(3)?,
                    released: r.try_get(4)?,
                    met_on: r.try_get(5)?,
                })
            })
            .collect()
    }

    pub async fn tranches(&self) -> Result<Vec<Tranche>> {
        let rows = sqlx::query(
            "SELECT id, application_id, amount, milestone_id, status, released_on FROM tranches ORDER BY id",
        )
        .fetch_all(self.db.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Tranche {
                    id: r.try_get(0)?,
                    application_id: r.try_get(1)?,
                    amount: r.try_get(2)?,
                    milestone_id: r.try_get(3)?,
                    status: r.try_get(4)?,
                    released_on: r.try_get(5)?,
                })
            })
            .collect()
    }

    /// Records a decommissioning milestone as met on `date`.
    pub async fn meet_milestone(&self, id: i64, date: &str, actor: &str) -> Result<()> {
        if model::parse_date(date).is_err() {
            return Err(Error::Refused(format!("date {date:?}: a date, YYYY-MM-DD")));
        }
        let db = &self.db;
        let mut c = db.change(actor, "meet_milestone", "milestone").await?;
        let row = sqlx::query(&db.sql(&format!(
            "SELECT met_on FROM milestones WHERE id = ?{}",
            db_lock(db)
        )))
        .bind(id)
        .fetch_optional(&mut *c.tx)
        .await?;
        let Some(row) = row else {
            return Err(Error::Store(store::Error::NotFound(format!("no milestone {id}"))));
        };
        if let Some(met) = row.try_get::<Option<String>, _>(0)? {
            return Err(Error::Conflict(format!("milestone {id} was met on {met}")));
        }
        sqlx::query(&db.sql("UPDATE milestones SET met_on = ? WHERE id = ?"))
            .bind(date.to_string())
            .bind(id)
            .execute(&mut *c.tx)
            .await?;
        db.commit(
            c,
            Some(id),
            None,
            Some(json(&serde_json::json!({ "met_on": date }))),
        )
        .await?;
        Ok(())
    }

    /// Releases a tranche: only against its met milestone when the rules say so.
    pub async fn release_tranche(&self, id: i64, date: &str, rules: &FundRules, actor: &str) -> Result<()> {
        if model::parse_date(date).is_err() {
            return Err(Error::Refused(format!("date {date:?}: a date, YYYY-MM-DD")));
        }
        let db = &self.db;
        let mut c = db.change(actor, "release_tranche", "tranche").await?;
        let row = sqlx::query(&db.sql(&format!(
            "SELECT t.status, m.met_on, m.service FROM tranches t JOIN milestones m ON m.id = t.milestone_id WHERE t.id = ?{}",
            db_lock(db)
        )))
        .bind(id)
        .fetch_optional(&mut *c.tx)
        .await?;
        let Some(row) = row else {
            return Err(Error::Store(store::Error::NotFound(format!("no tranche {id}"))));
        };
        let status: String = row.try_get(0)?;
        let met: Option<String> = row.try_get(1)?;
        let service: String = row.try_get(2)?;
        if status == "released" {
            return Err(Error::Conflict(format!("tranche {id} is already released")));
        }
        if rules.drawdown.release_on_milestone && met.is_none() {
            return Err(Error::Conflict(format!(
                "tranche {id} is released against its milestone ({service} decommissioned), which is not met"
            )));
        }
        sqlx::query(&db.sql("UPDATE tranches SET status = 'released', released_on = ? WHERE id = ?"))
            .bind(date.to_string())
            .bind(id)
            .execute(&mut *c.tx)
            .await?;
        db.commit(
            c,
            Some(id),
            Some(json(&serde_json::json!({ "status": status }))),
            Some(json(
                &serde_json::json!({ "status": "released", "released_on": date }),
            )),
        )
        .await?;
        Ok(())
    }

    /// Records a procurement waiver, a legal-advice request or a conflict of interest.
    pub async fn flexibility(&self, f: &Flexibility, actor: &str) -> Result<i64> {
        if !FLEXIBILITIES.contains(&f.kind.as_str()) {
            return Err(Error::Refused(format!(
                "kind {:?}: one of {}",
                f.kind,
                FLEXIBILITIES.join(", ")
            )));
        }
        if model::parse_date(&f.on_date).is_err() {
            return Err(Error::Refused(format!(
                "on_date {:?}: a date, YYYY-MM-DD",
                f.on_date
            )));
        }
        if f.subject.trim().is_empty() {
            return Err(Error::Refused(
                "subject: say what is waived, asked or conflicted".into(),
            ));
        }
        let db = &self.db;
        let mut c = db.change(actor, "record_flexibility", "flexibility").await?;
        let known = sqlx::query(&db.sql("SELECT code FROM care_models WHERE code = ?"))
            .bind(f.care_model_code.clone())
            .fetch_optional(&mut *c.tx)
            .await?;
        if known.is_none() {
            return Err(Error::Store(store::Error::NotFound(format!(
                "no care model {}",
                f.care_model_code
            ))));
        }
        let id: i64 = sqlx::query(&db.sql(
            "INSERT INTO flexibilities (care_model_code, kind, subject, detail, adviser, on_date, at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        ))
        .bind(f.care_model_code.clone())
        .bind(f.kind.clone())
        .bind(f.subject.clone())
        .bind(f.detail.clone())
        .bind(f.adviser.clone())
        .bind(f.on_date.clone())
        .bind(store::now())
        .fetch_one(&mut *c.tx)
        .await?
        .try_get(0)?;
        db.commit(c, Some(id), None, Some(json(f))).await?;
        Ok(id)
    }

    pub async fn flexibilities(&self) -> Result<Vec<Flexibility>> {
        let rows = sqlx::query("SELECT id, care_model_code, kind, subject, detail, adviser, on_date FROM flexibilities ORDER BY id")
            .fetch_all(self.db.pool())
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Flexibility {
                    id: r.try_get(0)?,
                    care_model_code: r.try_get(1)?,
                    kind: r.try_get(2)?,
                    subject: r.try_get(3)?,
                    detail: r.try_get(4)?,
                    adviser: r.try_get(5)?,
                    on_date: r.try_get(6)?,
                })
            })
            .collect()
    }

    /// Records a conflict of interest for every commissioner that is a member of a care model,
    /// or whose member practices are (practices bidding to provide what their commissioner
    /// buys), unless one is already recorded. `parent` gives a practice's commissioner.
    pub async fn declare_conflicts(
        &self,
        parent: &dyn Fn(&str) -> Option<String>,
        is_commissioner: &dyn Fn(&str) -> bool,
        on_date: &str,
        actor: &str,
    ) -> Result<usize> {
        let existing = self.flexibilities().await?;
        let mut added = 0;
        for m in self.care_models().await? {
            let mut found: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for o in m.members.iter().filter(|o| is_commissioner(o)) {
                found.entry(o.clone()).or_default();
            }
            for p in &m.practices {
                if let Some(c) = parent(p) {
                    found.entry(c).or_default().push(p.clone());
                }
            }
            for (commissioner, practices) in found {
                if existing.iter().any(|f| {
                    f.care_model_code == m.code
                        && f.kind == "conflict_of_interest"
                        && f.subject == commissioner
                }) {
                    continue;
                }
                let detail = if practices.is_empty() {
                    format!(
                        "{commissioner} is a member of {} and commissions its services",
                        m.code
                    )
                } else {
                    format!(
                        "{} of {commissioner}'s member practices are in {} ({}{}), which {commissioner} commissions",
                        practices.len(),
                        m.code,
                        practices.iter().take(5).cloned().collect::<Vec<_>>().join(", "),
                        if practices.len() > 5 { ", …" } else { "" }
                    )
                };
                self.flexibility(
                    &Flexibility {
                        id: 0,
                        care_model_code: m.code.clone(),
                        kind: "conflict_of_interest".into(),
                        subject: commissioner,
                        detail,
                        adviser: None,
                        on_date: on_date.to_string(),
                    },
                    actor,
                )
                .await?;
                added += 1;
            }
        }
        Ok(added)
    }

    /// Everything the office holds.
    pub async fn programme(&self) -> Result<Programme> {
        Ok(Programme {
            care_models: self.care_models().await?,
            applications: self.applications().await?,
            reviews: self.reviews().await?,
            ranking: self.ranking(Method::Zscore).await?,
            selection: self.selection().await?,
            milestones: self.milestones().await?,
            tranches: self.tranches().await?,
            flexibilities: self.flexibilities().await?,
        })
    }

    /// The fund's drawdown at `as_of`, for every selected application.
    pub async fn drawdown(
        &self,
        positions: &BTreeMap<String, Position>,
        rules: &FundRules,
        as_of: &str,
    ) -> Result<Vec<fund::Drawdown>> {
        let apps = self.applications().await?;
        let awards: Vec<(String, String, f64)> = apps
            .iter()
            .filter(|a| a.status == "selected")
            .map(|a| {
                (
                    a.application.id.clone(),
                    a.application.lead_org_code.clone(),
                    a.application.requested(),
                )
            })
            .collect();
        Ok(fund::drawdown(
            &awards,
            &self.milestones().await?,
            &self.tranches().await?,
            positions,
            &rules.drawdown,
            as_of,
        ))
    }
}

fn db_lock(db: &Store) -> &'static str {
    match db.backend {
        store::Backend::Sqlite => "",
        store::Backend::Postgres => " FOR UPDATE",
    }
}
