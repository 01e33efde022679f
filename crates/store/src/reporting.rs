//! The reporting regime as a live calendar. Each pack gives an outcome its reporting
//! frequency (light touch for the strong, monthly or weekly for the challenged); a sync
//! records, for every organisation and system assessed, the frequency it reports at from
//! that day (a changed outcome closes the old schedule and opens a new one). The calendar
//! (`regime/reporting-calendar.toml`, a user's copy with `--calendar`) says what a period of
//! each frequency is and how many days after it ends its return is due. Returns are recorded
//! as submitted; one not recorded by its due date is overdue.

use crate::{Error, Result, Store, now};
use serde::{Deserialize, Serialize};
use sqlx::Row;

/// The built-in calendar's text.
pub const BUILTIN: &str = include_str!("../../../regime/reporting-calendar.toml");

/// What a period of a frequency is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodKind {
    /// An ISO week, Monday to Sunday: `2026-W49`.
    Week,
    /// A calendar month: `2026-11`.
    Month,
    /// A financial quarter: `FY2026-Q3`.
    Quarter,
    /// April to March: `2026/27`.
    FinancialYear,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Frequency {
    pub id: String,
    pub period: PeriodKind,
    /// Days after the period's last day by which its return is due.
    pub days_allowed: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calendar {
    pub format: u32,
    pub version: String,
    #[serde(rename = "frequency")]
    pub frequencies: Vec<Frequency>,
}

/// One period of a schedule: its name, first and last day (days since 1970-01-01) and due day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    pub period: String,
    pub start: i32,
    pub end: i32,
    pub due: i32,
}

impl Calendar {
    pub fn builtin() -> Calendar {
        // The built-in text is tested to parse (`tests/it/reporting.rs`).
        Calendar::parse(BUILTIN, "regime/reporting-calendar.toml").unwrap_or_else(|e| panic!("{e}"))
    }

    /// Reads a calendar, naming the file and what is wrong.
    pub fn parse(text: &str, file: &str) -> std::result::Result<Calendar, String> {
        let c: Calendar = toml::from_str(text).map_err(|e| format!("{file}: {e}"))?;
        if c.format != 1 {
            return Err(format!(
                "{file}: format {}: this Footprint reads format 1",
                c.format
            ));
        }
        let mut seen = std::collections::BTreeSet::new();
        for (i, f) in c.frequencies.iter().enumerate() {
            if f.id.trim().is_empty() {
                return Err(format!("{file}: frequency {}: id must not be empty", i + 1));
            }
            if !seen.insert(f.id.as_str()) {
                return Err(format!("{file}: frequency {:?} appears twice", f.id));
            }
            if f.days_allowed > 366 {
                return Err(format!(
                    "{file}: frequency {:?}: days_allowed {} is more than a year",
                    f.id, f.days_allowed
                ));
            }
        }
        Ok(c)
    }

    pub fn get(&self, id: &str) -> Option<&Frequency> {
        self.frequencies.iter().find(|f| f.id == id)
    }

    /// The periods of `frequency` that start on or after the period holding `from` and on or
    /// before `until` (days since 1970-01-01).
    pub fn slots(&self, frequency: &str, from: i32, until: i32) -> Option<Vec<Slot>> {
        let f = self.get(frequency)?;
        let mut out = Vec::new();
        let mut start = period_start(f.period, from);
        while start <= until {
            let (period, end) = period_of(f.period, start);
            out.push(Slot {
                period,
                start,
                end,
                due: end + f.days_allowed as i32,
            });
            start = end + 1;
        }
        Some(out)
    }
}

fn period_start(kind: PeriodKind, day: i32) -> i32 {
    let m = model::Month::of_day(day);
    match kind {
        // 1970-01-01 was a Thursday.
        PeriodKind::Week => day - (day + 3).rem_euclid(7),
        PeriodKind::Month => m.first_day(),
        PeriodKind::Quarter => {
            let fy = m.financial_year();
            let since_april = (m.year() * 12 + m.month() as i32 - 1) - (fy * 12 + 3);
            model::Period::Quarter(fy, (since_april / 3 + 1) as u8)
                .first_month()
                .first_day()
        }
        PeriodKind::FinancialYear => model::Period::Year(m.financial_year()).first_month().first_day(),
    }
}

/// The name and last day of the period starting on `start`.
fn period_of(kind: PeriodKind, start: i32) -> (String, i32) {
    let m = model::Month::of_day(start);
    match kind {
        PeriodKind::Week => {
            // ISO: the week belongs to the year of its Thursday.
            let thursday = start + 3;
            let year = model::Month::of_day(thursday).year();
            let jan1 = model::Month::new(year, 1)
                .map(|m| m.first_day())
                .unwrap_or(thursday);
            (format!("{year:04}-W{:02}", (thursday - jan1) / 7 + 1), start + 6)
        }
        PeriodKind::Month => (model::Period::Month(m).to_string(), m.last_day()),
        PeriodKind::Quarter => {
            let fy = m.financial_year();
            let since_april = (m.year() * 12 + m.month() as i32 - 1) - (fy * 12 + 3);
            let p = model::Period::Quarter(fy, (since_april / 3 + 1) as u8);
            (p.to_string(), p.last_month().last_day())
        }
        PeriodKind::FinancialYear => {
            let p = model::Period::Year(m.financial_year());
            (p.to_string(), p.last_month().last_day())
        }
    }
}

/// What a sync says an organisation or system reports at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduleSpec {
    /// `organisation` or `system`.
    pub entity_kind: String,
    pub entity_code: String,
    pub pack: String,
    /// The outcome that sets the frequency (a segment, a category).
    pub outcome: String,
    pub frequency: String,
    /// The support that goes with the outcome.
    pub support: String,
}

/// A frequency an organisation or system reports at, from a day (to a day, once its outcome
/// changed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Schedule {
    pub id: i64,
    pub entity_kind: String,
    pub entity_code: String,
    pub pack: String,
    pub outcome: String,
    pub frequency: String,
    pub support: String,
    pub from_date: String,
    /// The day a new outcome replaced this one (the schedule owes the periods that ended
    /// before it).
    pub to_date: Option<String>,
}

/// A return recorded as submitted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Submission {
    pub id: i64,
    pub entity_code: String,
    pub pack: String,
    pub period: String,
    pub submitted_at: String,
    pub submitted_by: String,
    pub note: Option<String>,
}

/// One return of the calendar and where it stands on a day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Return {
    pub entity_kind: String,
    pub entity_code: String,
    pub pack: String,
    pub outcome: String,
    pub frequency: String,
    pub period: String,
    pub period_start: String,
    pub period_end: String,
    pub due: String,
    /// `submitted`, `overdue` (past its due day), `due` (the period has ended) or `open`
    /// (the period is under way; a return may be recorded early).
    pub status: String,
    pub submitted_at: Option<String>,
    pub submitted_by: Option<String>,
}

/// Every return of `schedules` with a period started by `today`, and where it stands.
pub fn returns(
    calendar: &Calendar,
    schedules: &[Schedule],
    submissions: &[Submission],
    today: i32,
) -> Vec<Return> {
    let mut out = Vec::new();
    for s in schedules {
        let Ok(from) = model::parse_date(&s.from_date) else {
            continue;
        };
        // A schedule a new outcome replaced owes the periods that ended before the change;
        // the period under way then is owed at the new frequency.
        let to = match s.to_date.as_deref().map(model::parse_date) {
            Some(Ok(to)) => Some(to),
            _ => None,
        };
        let until = to.map_or(today, |t| (t - 1).min(today));
        let Some(slots) = calendar.slots(&s.frequency, from, until) else {
            continue;
        };
        for slot in slots.into_iter().filter(|x| to.is_none_or(|t| x.end < t)) {
            let sub = submissions
                .iter()
                .find(|x| x.entity_code == s.entity_code && x.pack == s.pack && x.period == slot.period);
            let status = match sub {
                Some(_) => "submitted",
                None if today > slot.due => "overdue",
                None if today > slot.end => "due",
                None => "open",
            };
            out.push(Return {
                entity_kind: s.entity_kind.clone(),
                entity_code: s.entity_code.clone(),
                pack: s.pack.clone(),
                outcome: s.outcome.clone(),
                frequency: s.frequency.clone(),
                period: slot.period,
                period_start: model::format_date(slot.start),
                period_end: model::format_date(slot.end),
                due: model::format_date(slot.due),
                status: status.into(),
                submitted_at: sub.map(|x| x.submitted_at.clone()),
                submitted_by: sub.map(|x| x.submitted_by.clone()),
            });
        }
    }
    out
}

/// Today, as days since 1970-01-01 (UTC).
pub fn today() -> i32 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    (secs / 86_400) as i32
}

impl Store {
    /// Records what each organisation and system reports at from `as_of` (a date): a new
    /// entity gets a schedule, one whose frequency changed has its schedule closed on `as_of`
    /// and a new one opened. One audited change for the lot; nothing when nothing changed.
    /// Returns how many schedules were opened.
    pub async fn set_reporting(&self, specs: &[ScheduleSpec], as_of: &str, actor: &str) -> Result<usize> {
        model::parse_date(as_of)
            .map_err(|_| Error::Refused(format!("as of {as_of:?}: not a date (YYYY-MM-DD)")))?;
        for s in specs {
            if self.calendar().get(&s.frequency).is_none() {
                return Err(Error::Refused(format!(
                    "{} {} ({}): reporting frequency {:?} is not in the calendar (frequencies: {})",
                    s.entity_kind,
                    s.entity_code,
                    s.pack,
                    s.frequency,
                    self.calendar()
                        .frequencies
                        .iter()
                        .map(|f| f.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
        let current: Vec<Schedule> = self
            .schedules()
            .await?
            .into_iter()
            .filter(|s| s.to_date.is_none())
            .collect();
        let changed: Vec<(&ScheduleSpec, Option<&Schedule>)> = specs
            .iter()
            .filter_map(|spec| {
                let held = current
                    .iter()
                    .find(|s| s.entity_code == spec.entity_code && s.pack == spec.pack);
                match held {
                    Some(h) if h.frequency == spec.frequency && h.outcome == spec.outcome => None,
                    _ => Some((spec, held)),
                }
            })
            .collect();
        if changed.is_empty() {
            return Ok(0);
        }
        let mut c = self.change(actor, "set_reporting", "reporting").await?;
        for (spec, held) in &changed {
            if let Some(h) = held {
                sqlx::query(&self.sql("UPDATE reporting SET to_date = ? WHERE id = ? AND to_date IS NULL"))
                    .bind(as_of.to_string())
                    .bind(h.id)
                    .execute(&mut *c.tx)
                    .await?;
            }
            sqlx::query(&self.sql("INSERT INTO reporting (entity_kind, entity_code, pack, outcome, frequency, support, from_date) VALUES (?, ?, ?, ?, ?, ?, ?)"))
                .bind(spec.entity_kind.clone())
                .bind(spec.entity_code.clone())
                .bind(spec.pack.clone())
                .bind(spec.outcome.clone())
                .bind(spec.frequency.clone())
                .bind(spec.support.clone())
                .bind(as_of.to_string())
                .execute(&mut *c.tx)
                .await?;
        }
        let after = serde_json::json!({
            "as_of": as_of,
            "schedules": changed.iter().map(|(s, held)| serde_json::json!({
                "entity_code": s.entity_code, "pack": s.pack, "frequency": s.frequency,
                "was": held.map(|h| h.frequency.clone()),
            })).collect::<Vec<_>>(),
        })
        .to_string();
        self.commit(c, None, None, Some(after)).await?;
        Ok(changed.len())
    }

    pub async fn schedules(&self) -> Result<Vec<Schedule>> {
        let rows = sqlx::query("SELECT id, entity_kind, entity_code, pack, outcome, frequency, support, from_date, to_date FROM reporting ORDER BY id")
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Schedule {
                    id: r.try_get(0)?,
                    entity_kind: r.try_get(1)?,
                    entity_code: r.try_get(2)?,
                    pack: r.try_get(3)?,
                    outcome: r.try_get(4)?,
                    frequency: r.try_get(5)?,
                    support: r.try_get(6)?,
                    from_date: r.try_get(7)?,
                    to_date: r.try_get(8)?,
                })
            })
            .collect()
    }

    pub async fn submissions(&self) -> Result<Vec<Submission>> {
        let rows = sqlx::query(
            "SELECT id, entity_code, pack, period, submitted_at, submitted_by, note FROM returns ORDER BY id",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Submission {
                    id: r.try_get(0)?,
                    entity_code: r.try_get(1)?,
                    pack: r.try_get(2)?,
                    period: r.try_get(3)?,
                    submitted_at: r.try_get(4)?,
                    submitted_by: r.try_get(5)?,
                    note: r.try_get(6)?,
                })
            })
            .collect()
    }

    /// The calendar's returns on `today` (days since 1970-01-01).
    pub async fn returns(&self, today: i32) -> Result<Vec<Return>> {
        Ok(returns(
            self.calendar(),
            &self.schedules().await?,
            &self.submissions().await?,
            today,
        ))
    }

    /// Records the return of `entity_code` under `pack` for `period` as submitted. Refused
    /// unless the calendar has that return (its period started by `today`) and it is not
    /// already recorded.
    pub async fn record_return(
        &self,
        entity_code: &str,
        pack: &str,
        period: &str,
        note: Option<&str>,
        today: i32,
        actor: &str,
    ) -> Result<i64> {
        let calendar = self.returns(today).await?;
        let Some(r) = calendar
            .iter()
            .find(|r| r.entity_code == entity_code && r.pack == pack && r.period == period)
        else {
            let periods: Vec<&str> = calendar
                .iter()
                .filter(|r| r.entity_code == entity_code && r.pack == pack)
                .map(|r| r.period.as_str())
                .collect();
            return Err(Error::NotFound(if periods.is_empty() {
                format!("{entity_code} has no reporting schedule under {pack} (a sync records one)")
            } else {
                format!(
                    "{entity_code} owes no {pack} return for {period:?} (its returns so far: {})",
                    periods.join(", ")
                )
            }));
        };
        if r.status == "submitted" {
            return Err(Error::Refused(format!(
                "{entity_code}'s {pack} return for {period} was recorded as submitted on {}",
                r.submitted_at.as_deref().unwrap_or("")
            )));
        }
        let mut c = self.change(actor, "record_return", "return").await?;
        let id: i64 = sqlx::query(&self.sql("INSERT INTO returns (entity_code, pack, period, submitted_at, submitted_by, note) VALUES (?, ?, ?, ?, ?, ?) RETURNING id"))
            .bind(entity_code.to_string())
            .bind(pack.to_string())
            .bind(period.to_string())
            .bind(now())
            .bind(actor.to_string())
            .bind(note.map(str::to_string))
            .fetch_one(&mut *c.tx)
            .await
            .map_err(|e| match e {
                sqlx::Error::Database(d) if d.message().to_lowercase().contains("unique") => Error::Refused(format!(
                    "{entity_code}'s {pack} return for {period} is already recorded as submitted"
                )),
                e => e.into(),
            })?
            .try_get(0)?;
        let after = serde_json::json!({
            "entity_code": entity_code, "pack": pack, "period": period, "due": r.due, "note": note,
        })
        .to_string();
        self.commit(c, Some(id), None, Some(after)).await?;
        Ok(id)
    }
}
