//! Settling an arrangement: each party's transfer, with every step of the arithmetic.

use crate::terms::{DeadBandMode, Kind, Party, Terms, interpolate};
use serde::Serialize;

/// What happened in the year being settled.
#[derive(Debug, Clone, Default)]
pub struct Outturn {
    /// The arrangement's total outturn (costs, or for a pooled budget the emergency
    /// admissions). With per-party rows, their sum unless given.
    pub total: f64,
    pub parties: Vec<PartyOutturn>,
    /// Annual costs of individual patients, for a stop-loss pool.
    pub high_cost: Vec<f64>,
}

#[derive(Debug, Clone, Default)]
pub struct PartyOutturn {
    pub party: String,
    pub outturn: f64,
    pub target: Option<f64>,
    /// Alliance members: activity, for the variable and quality payments.
    pub activity: Option<f64>,
    /// Alliance members: quality score between 0 and 1.
    pub quality: Option<f64>,
}

impl Outturn {
    /// One total, no per-party detail.
    pub fn actual(amount: f64) -> Outturn {
        Outturn {
            total: amount,
            ..Outturn::default()
        }
    }

    fn party(&self, name: &str) -> Option<&PartyOutturn> {
        self.parties.iter().find(|p| p.party == name)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct PartyResult {
    pub party: String,
    /// The party's target (or budget), when it has one of its own or is the measured party.
    pub target: Option<f64>,
    pub outturn: Option<f64>,
    /// Paid to the party (negative: paid by it).
    pub transfer: f64,
    /// The share rate applied to this party.
    pub share: Option<f64>,
    /// A cap or collar limited this party's transfer.
    pub capped: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Step {
    pub step: String,
    pub amount: f64,
    pub arithmetic: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Settlement {
    pub kind: String,
    pub name: Option<String>,
    pub target: f64,
    pub outturn: f64,
    pub parties: Vec<PartyResult>,
    pub steps: Vec<Step>,
}

#[derive(Debug, thiserror::Error)]
pub enum SettleError {
    #[error("outturn: party {0:?} is not in the terms")]
    UnknownParty(String),
    #[error("outturn: {0}")]
    Missing(String),
}

fn money(x: f64) -> String {
    let sign = if x < 0.0 { "-" } else { "" };
    let s = format!("{:.2}", x.abs());
    let (whole, frac) = s.split_once('.').unwrap_or((&s, "00"));
    let mut out = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("{sign}£{out}.{frac}")
}

fn pct(x: f64) -> String {
    format!("{}%", (x * 1e6).round() / 1e4)
}

/// The steps of a settlement. A simulation settles the same terms a hundred thousand times
/// and reads only the transfers, so it does not record them (nothing is even formatted).
pub(crate) struct Book {
    record: bool,
    steps: Vec<Step>,
}

/// Records a step: its name, its amount and its arithmetic (format arguments), formatted only
/// when the book records.
macro_rules! step {
    ($book:expr, $name:expr, $amount:expr, $($arith:tt)+) => {
        if $book.record {
            let step = $name.to_string();
            let arithmetic = format!($($arith)+);
            $book.steps.push(Step { step, amount: $amount, arithmetic });
        }
    };
}

/// Settles `terms` against `outturn`, with every step of the arithmetic.
pub fn settle(terms: &Terms, outturn: &Outturn) -> Result<Settlement, SettleError> {
    settle_recording(terms, outturn, true)
}

/// Settles, recording the steps only if `record`.
pub(crate) fn settle_recording(
    terms: &Terms,
    outturn: &Outturn,
    record: bool,
) -> Result<Settlement, SettleError> {
    let names = terms.party_names();
    for p in &outturn.parties {
        if !names.contains(&p.party) {
            return Err(SettleError::UnknownParty(p.party.clone()));
        }
    }
    let mut book = Book {
        record,
        steps: Vec::new(),
    };
    let (target, actual, parties) = match terms.kind {
        Kind::GainLossShare => gain_loss(terms, outturn, &mut book),
        Kind::RiskCorridor => corridor(terms, outturn, &mut book),
        Kind::PooledBudget => pooled(terms, outturn, &mut book)?,
        Kind::AllianceBudget => alliance(terms, outturn, &mut book)?,
    };
    Ok(Settlement {
        kind: terms.kind.as_str().to_string(),
        name: terms.name.clone(),
        target,
        outturn: actual,
        parties,
        steps: book.steps,
    })
}

/// The stop-loss pool's payment and the outturn it leaves to be shared.
fn stop_loss(terms: &Terms, actual: f64, outturn: &Outturn, book: &mut Book) -> (f64, f64) {
    let Some(s) = &terms.stop_loss else {
        return (actual, 0.0);
    };
    let excess: f64 = outturn
        .high_cost
        .iter()
        .map(|c| (c - s.attachment).max(0.0))
        .sum();
    let pool = s.share * excess;
    let over = outturn.high_cost.iter().filter(|c| **c > s.attachment).count();
    step!(
        book,
        "stop-loss pool",
        pool,
        "{over} patients above {}: {} of {} above the attachment point = {}, paid by {}",
        money(s.attachment),
        pct(s.share),
        money(excess),
        money(pool),
        s.funder
    );
    step!(
        book,
        "outturn after stop-loss",
        actual - pool,
        "{} - {} = {}",
        money(actual),
        money(pool),
        money(actual - pool)
    );
    (actual - pool, pool)
}

/// Credits the stop-loss pool to the first party and debits the funder if it is a party.
fn apply_pool(terms: &Terms, pool: f64, parties: &mut [PartyResult]) {
    let Some(s) = &terms.stop_loss else { return };
    if pool == 0.0 {
        return;
    }
    if let Some(first) = parties.first_mut() {
        first.transfer += pool;
    }
    if let Some(funder) = parties.iter_mut().find(|p| p.party == s.funder) {
        funder.transfer -= pool;
    }
}

/// The variance to be shared under a dead band (and a minimum savings rate on the gain side),
/// capped and collared.
fn shared_variance(terms: &Terms, target: f64, actual: f64, book: &mut Book) -> f64 {
    let v = target - actual;
    step!(
        book,
        "variance",
        v,
        "target {} - outturn {} = {} ({} of target; positive is a gain)",
        money(target),
        money(actual),
        money(v),
        pct(if target > 0.0 { v / target } else { 0.0 })
    );
    let mut band_rate = terms.dead_band.unwrap_or(0.0);
    if v > 0.0
        && let Some(m) = &terms.minimum_savings_rate
    {
        let msr = interpolate(&m.points, m.population);
        step!(
            book,
            "minimum savings rate",
            msr * target,
            "population {} gives a minimum savings rate of {}: {}",
            m.population,
            pct(msr),
            money(msr * target)
        );
        band_rate = msr;
    }
    let band = band_rate * target;
    let mode = terms.dead_band_mode.unwrap_or(DeadBandMode::Threshold);
    let mut shared = if v.abs() <= band {
        step!(
            book,
            "inside the dead band",
            0.0,
            "|{}| ≤ {} × {} = {}: nothing is shared",
            money(v),
            pct(band_rate),
            money(target),
            money(band)
        );
        0.0
    } else if band > 0.0 && mode == DeadBandMode::Excess {
        let s = v - band * v.signum();
        step!(
            book,
            "shared (excess over the dead band)",
            s,
            "{} {} {} = {}",
            money(v),
            if v > 0.0 { "-" } else { "+" },
            money(band),
            money(s)
        );
        s
    } else {
        if band > 0.0 {
            step!(
                book,
                "shared (outside the dead band: all of it)",
                v,
                "|{}| > {}",
                money(v),
                money(band)
            );
        }
        v
    };
    if let Some(cap) = terms.cap
        && shared > cap
    {
        step!(
            book,
            "cap",
            cap,
            "shared gain {} capped at {}",
            money(shared),
            money(cap)
        );
        shared = cap;
    }
    if let Some(collar) = terms.collar
        && shared < -collar
    {
        step!(
            book,
            "collar",
            -collar,
            "shared loss {} collared at {}",
            money(shared),
            money(-collar)
        );
        shared = -collar;
    }
    shared
}

/// Splits a shared variance among parties: rates, per-party caps, then the remainder.
fn split(parties: &[Party], shared: f64, book: &mut Book) -> Vec<(f64, Option<f64>, bool)> {
    let gain = shared > 0.0;
    let mut out = Vec::with_capacity(parties.len());
    let mut allocated = 0.0;
    for p in parties {
        if p.remainder {
            out.push((0.0, None, false));
            continue;
        }
        let rate = if gain { p.gain_share } else { p.loss_share }.unwrap_or(0.0);
        let raw = rate * shared;
        let mut amount = raw;
        let mut capped = false;
        if let Some(c) = p.gain_cap
            && amount > c
        {
            amount = c;
            capped = true;
        }
        if let Some(c) = p.loss_cap
            && amount < -c
        {
            amount = -c;
            capped = true;
        }
        let note = if capped {
            format!(" = {}, capped at {}", money(raw), money(amount))
        } else {
            String::new()
        };
        step!(
            book,
            &format!("{}: {} share", p.name, if gain { "gain" } else { "loss" }),
            amount,
            "{} × {}{note} = {}",
            pct(rate),
            money(shared),
            money(amount)
        );
        allocated += amount;
        out.push((amount, Some(rate), capped));
    }
    if let Some(i) = parties.iter().position(|p| p.remainder) {
        let rest = shared - allocated;
        step!(
            book,
            &format!("{}: remainder", parties[i].name),
            rest,
            "{} - {} = {}",
            money(shared),
            money(allocated),
            money(rest)
        );
        out[i].0 = rest;
    } else if (shared - allocated).abs() > 0.005 {
        step!(
            book,
            "not shared (party caps)",
            shared - allocated,
            "{} - {} stays where it fell",
            money(shared),
            money(allocated)
        );
    }
    out
}

fn gain_loss(terms: &Terms, outturn: &Outturn, book: &mut Book) -> (f64, f64, Vec<PartyResult>) {
    let target = terms.target.unwrap_or(0.0);
    let (actual, pool) = stop_loss(terms, outturn.total, outturn, book);
    let shared = shared_variance(terms, target, actual, book);
    let split = split(&terms.party, shared, book);
    let mut parties: Vec<PartyResult> = terms
        .party
        .iter()
        .zip(split)
        .map(|(p, (transfer, share, capped))| {
            let own = outturn.party(&p.name);
            PartyResult {
                party: p.name.clone(),
                target: own.map_or(Some(target), |o| o.target),
                outturn: own.map_or(Some(outturn.total), |o| Some(o.outturn)),
                transfer,
                share,
                capped,
            }
        })
        .collect();
    apply_pool(terms, pool, &mut parties);
    (target, outturn.total, parties)
}

fn corridor(terms: &Terms, outturn: &Outturn, book: &mut Book) -> (f64, f64, Vec<PartyResult>) {
    let target = terms.target.unwrap_or(0.0);
    let first = &terms.party[0];
    let measured = outturn.party(&first.name).map_or(outturn.total, |o| o.outturn);
    let (actual, pool) = stop_loss(terms, measured, outturn, book);
    let d = if target > 0.0 {
        (actual - target) / target
    } else {
        0.0
    };
    step!(
        book,
        "deviation",
        actual - target,
        "outturn {} - target {} = {} ({} of target; positive: costs above target)",
        money(actual),
        money(target),
        money(actual - target),
        pct(d)
    );
    let symmetric = terms.symmetric.unwrap_or(true);
    let mut to_first = 0.0;
    if d > 0.0 || symmetric {
        let side = if d >= 0.0 { 1.0 } else { -1.0 };
        for c in &terms.corridor {
            let top = c.to.unwrap_or(f64::INFINITY);
            let overlap = (d.abs().min(top) - c.from).max(0.0);
            let amount = side * c.share * overlap * target;
            let band = match c.to {
                Some(to) => format!("{} to {}", pct(c.from), pct(to)),
                None => format!("beyond {}", pct(c.from)),
            };
            step!(
                book,
                &format!("corridor {band}"),
                amount,
                "{} × {} of target in the band × {} = {}{}",
                pct(c.share),
                pct(overlap),
                money(target),
                money(amount),
                if side < 0.0 {
                    " (below target: paid by the measured party)"
                } else {
                    ""
                }
            );
            to_first += amount;
        }
    } else {
        step!(
            book,
            "below target, not symmetric",
            0.0,
            "savings are kept by the measured party"
        );
    }
    let mut capped = false;
    if let Some(cap) = terms.cap
        && to_first > cap
    {
        step!(book, "cap", cap, "{} capped at {}", money(to_first), money(cap));
        to_first = cap;
        capped = true;
    }
    if let Some(collar) = terms.collar
        && to_first < -collar
    {
        step!(
            book,
            "collar",
            -collar,
            "{} collared at {}",
            money(to_first),
            money(-collar)
        );
        to_first = -collar;
        capped = true;
    }
    step!(
        book,
        &format!("transfer to {}", first.name),
        to_first,
        "sum of the corridors = {}",
        money(to_first)
    );
    let counter = &terms.party[1..];
    let equal = 1.0 / counter.len() as f64;
    let mut parties = vec![PartyResult {
        party: first.name.clone(),
        target: Some(target),
        outturn: Some(measured),
        transfer: to_first,
        share: None,
        capped,
    }];
    for p in counter {
        let s = p.share.unwrap_or(equal);
        let t = -to_first * s;
        step!(
            book,
            &format!("{}: funds its share", p.name),
            t,
            "-{} × {} = {}",
            pct(s),
            money(to_first),
            money(t)
        );
        let own = outturn.party(&p.name);
        parties.push(PartyResult {
            party: p.name.clone(),
            target: own.and_then(|o| o.target),
            outturn: own.map(|o| o.outturn),
            transfer: t,
            share: Some(s),
            capped: false,
        });
    }
    apply_pool(terms, pool, &mut parties);
    (target, measured, parties)
}

fn pooled(
    terms: &Terms,
    outturn: &Outturn,
    book: &mut Book,
) -> Result<(f64, f64, Vec<PartyResult>), SettleError> {
    let perf = terms
        .performance
        .as_ref()
        .ok_or_else(|| SettleError::Missing("a pooled budget needs [performance]".into()))?;
    let pool: f64 = terms.contribution.iter().map(|c| c.amount).sum();
    step!(
        book,
        "pool",
        pool,
        "{}",
        terms
            .contribution
            .iter()
            .map(|c| format!("{} {}", c.party, money(c.amount)))
            .collect::<Vec<_>>()
            .join(" + ")
            + &format!(" = {}", money(pool))
    );
    if let Some(min) = terms.minimum_pool {
        step!(book, "minimum pool", min, "{} ≥ {}: met", money(pool), money(min));
    }
    let admissions = outturn.total;
    let ambition = perf.baseline_admissions * perf.ambition;
    let achieved = (perf.baseline_admissions - admissions).max(0.0);
    step!(
        book,
        "admissions avoided",
        achieved,
        "baseline {} - actual {} = {} against an ambition of {} × {} = {}",
        perf.baseline_admissions,
        admissions,
        perf.baseline_admissions - admissions,
        pct(perf.ambition),
        perf.baseline_admissions,
        ambition
    );
    let earned = if perf.payment == "all_or_nothing" {
        if achieved >= ambition { perf.amount } else { 0.0 }
    } else {
        perf.amount * (achieved / ambition).min(1.0)
    };
    step!(
        book,
        "performance element earned",
        earned,
        "{} ({}): {}",
        money(perf.amount),
        perf.payment.replace('_', " "),
        money(earned)
    );
    let unearned = perf.amount - earned;
    step!(
        book,
        "unearned",
        unearned,
        "{} - {} = {}, to {}",
        money(perf.amount),
        money(earned),
        money(unearned),
        perf.unearned_to
    );
    let spent = pool - perf.amount + earned;
    step!(
        book,
        &format!("released to {}", perf.recipient),
        spent,
        "{} - {} + {} = {}",
        money(pool),
        money(perf.amount),
        money(earned),
        money(spent)
    );
    let parties = terms
        .party_names()
        .into_iter()
        .map(|name| {
            let paid_in: f64 = terms
                .contribution
                .iter()
                .filter(|c| c.party == name)
                .map(|c| c.amount)
                .sum();
            let mut transfer = -paid_in;
            if name == perf.recipient {
                transfer += spent;
            }
            if name == perf.unearned_to {
                transfer += unearned;
            }
            PartyResult {
                party: name,
                target: None,
                outturn: None,
                transfer,
                share: None,
                capped: false,
            }
        })
        .collect();
    Ok((perf.baseline_admissions - ambition, admissions, parties))
}

fn alliance(
    terms: &Terms,
    outturn: &Outturn,
    book: &mut Book,
) -> Result<(f64, f64, Vec<PartyResult>), SettleError> {
    let budget = terms.target.unwrap_or(0.0);
    let members = &terms.party;
    let mut rows = Vec::with_capacity(members.len());
    for m in members {
        let row = outturn.party(&m.name).ok_or_else(|| {
            SettleError::Missing(format!("alliance member {:?} has no outturn row", m.name))
        })?;
        rows.push(row);
    }
    let activity: Vec<f64> = rows.iter().map(|r| r.activity.unwrap_or(1.0)).collect();
    let total_activity: f64 = activity.iter().sum();
    let variable = terms.variable.unwrap_or(0.0);
    let quality = terms.quality.as_ref().map_or(0.0, |q| q.amount);
    let mut payments = Vec::with_capacity(members.len());
    let mut quality_paid = 0.0;
    for ((m, r), a) in members.iter().zip(&rows).zip(&activity) {
        let s = if total_activity > 0.0 {
            a / total_activity
        } else {
            0.0
        };
        let q = r.quality.unwrap_or(1.0).clamp(0.0, 1.0);
        let fixed = m.fixed.unwrap_or(0.0);
        let pay = fixed + variable * s + quality * s * q;
        quality_paid += quality * s * q;
        step!(
            book,
            &format!("{}: payment by the alliance rule", m.name),
            pay,
            "fixed {} + variable {} × activity share {} + quality {} × {} × score {} = {}",
            money(fixed),
            money(variable),
            pct(s),
            money(quality),
            pct(s),
            q,
            money(pay)
        );
        payments.push(pay);
    }
    if let Some(q) = &terms.quality {
        step!(
            book,
            "quality payment not earned",
            quality - quality_paid,
            "{} - {} = {}, kept by {}",
            money(quality),
            money(quality_paid),
            money(quality - quality_paid),
            q.unearned_to
        );
    }
    let costs: f64 = rows.iter().map(|r| r.outturn).sum();
    let (actual, pool) = stop_loss(terms, costs, outturn, book);
    // The alliance's variance is what its members were paid less what they spent (quality
    // money not earned was never paid, so it is not the alliance's to share).
    let paid: f64 = payments.iter().sum();
    let shared = shared_variance(terms, paid, actual, book);
    let variance = paid - actual;
    let split = split(members, shared, book);
    let mut parties = Vec::with_capacity(members.len());
    for (((m, r), pay), (allocated, share, capped)) in members.iter().zip(&rows).zip(&payments).zip(split) {
        // Each member's own variance against its payment; the shared part of the alliance's
        // variance is pooled and handed back by the shares.
        let own = pay - r.outturn;
        let pooled_out = if variance != 0.0 {
            own * shared / variance
        } else {
            0.0
        };
        let transfer = allocated - pooled_out;
        step!(
            book,
            &format!("{}: risk-share transfer", m.name),
            transfer,
            "its share {} - its own variance {} × shared/variance {} = {}",
            money(allocated),
            money(own),
            if variance != 0.0 {
                format!("{:.6}", shared / variance)
            } else {
                "0".into()
            },
            money(transfer)
        );
        parties.push(PartyResult {
            party: m.name.clone(),
            target: Some(*pay),
            outturn: Some(r.outturn),
            transfer,
            share,
            capped,
        });
    }
    apply_pool(terms, pool, &mut parties);
    Ok((budget, costs, parties))
}
