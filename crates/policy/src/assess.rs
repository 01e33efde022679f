//! Assessing every entity of a pack's kind for one period: metric scores, domain scores,
//! overrides and caps, the overall score, and the segment, rating or category, each with its
//! full derivation.

use crate::pack::{
    Aggregate, Band, Combine, Condition, Method, Metric, Op, Outcome, Override, Pack, Rounding,
};
use crate::table::{Table, Value};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// England's code in the indicator table.
pub const ENGLAND: &str = "E92000001";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MetricResult {
    pub indicator: String,
    pub value: Option<f64>,
    pub score: Option<f64>,
    /// The rule applied, in words: `2.61 ≥ 2.5 → 1`.
    pub rule: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DomainResult {
    pub title: String,
    pub score: Option<f64>,
    pub metrics: Vec<MetricResult>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Applied {
    pub id: String,
    pub text: String,
    /// What it did, or why it did not apply.
    pub effect: String,
    pub applied: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SignalNote {
    pub indicator: String,
    pub signal: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Reporting {
    pub frequency: String,
    pub metrics: Vec<String>,
    pub support: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Assessment {
    pub entity_kind: String,
    pub entity_code: String,
    pub org_kind: Option<String>,
    pub pack: String,
    pub period: String,
    pub domains: BTreeMap<String, DomainResult>,
    pub overall_score: Option<f64>,
    pub rating: Option<String>,
    pub segment: Option<u32>,
    pub category: Option<String>,
    pub overrides: Vec<Applied>,
    /// Early warning: the latest SPC special causes and funnel positions of the pack's
    /// indicators, finance and quality together.
    pub signals: Vec<SignalNote>,
    pub reporting: Option<Reporting>,
    pub explanation: String,
}

/// What an assessment run knows besides the table.
#[derive(Debug, Default)]
pub struct Context {
    /// Organisation kinds by code (from the dataset or the table's `org_kind` column).
    pub org_kinds: HashMap<String, String>,
    /// Each organisation's system.
    pub systems: HashMap<String, String>,
    /// Segments decided by hand (entity code → segment, reason): special measures (4) and
    /// the manual segment 5.
    pub decisions: HashMap<String, (u32, String)>,
    /// Earlier assessments of the same run, by pack id: what system packs count members in.
    pub earlier: HashMap<String, Vec<Assessment>>,
}

/// An open intervention of the register, as a pack's `[[decision]]` table reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenIntervention {
    pub id: i64,
    /// The organisation (or system) it targets.
    pub target_code: String,
    pub kind: String,
    pub regulator: String,
    pub start_date: String,
}

/// The segments `pack`'s `[[decision]]` table takes from the register's open interventions,
/// by target: the worst (highest) when several apply, the intervention named in the reason.
pub fn register_decisions(pack: &Pack, open: &[OpenIntervention]) -> HashMap<String, (u32, String)> {
    let mut out: HashMap<String, (u32, String)> = HashMap::new();
    for i in open {
        let Some(d) = pack.decisions.iter().find(|d| d.intervention_kind == i.kind) else {
            continue;
        };
        let why = format!(
            "{} opened by {} on {} (intervention {})",
            i.kind, i.regulator, i.start_date, i.id
        );
        match out.get(&i.target_code) {
            Some((s, _)) if *s >= d.segment => {}
            _ => {
                out.insert(i.target_code.clone(), (d.segment, why));
            }
        }
    }
    out
}

/// Adds `more` decisions to `ctx`'s, keeping the worse (higher) segment for an entity decided
/// twice.
pub fn add_decisions(ctx: &mut Context, more: HashMap<String, (u32, String)>) {
    for (code, (s, why)) in more {
        match ctx.decisions.get(&code) {
            Some((t, _)) if *t >= s => {}
            _ => {
                ctx.decisions.insert(code, (s, why));
            }
        }
    }
}

fn round(x: f64, r: Rounding) -> f64 {
    match r {
        Rounding::None => x,
        // Halves go to the worse (higher) score, as "rounded to the nearest" is read in the SOF.
        Rounding::Nearest => (x + 1e-9).round(),
        Rounding::Floor => (x + 1e-9).floor(),
        Rounding::Ceil => (x - 1e-9).ceil(),
        Rounding::Hundredths => (x * 100.0).round() / 100.0,
    }
}

fn combine(scores: &[(f64, f64)], c: &Combine) -> Option<f64> {
    if scores.is_empty() {
        return None;
    }
    let raw = match c.aggregate {
        Aggregate::Mean => scores.iter().map(|s| s.0).sum::<f64>() / scores.len() as f64,
        Aggregate::WeightedMean => {
            let w: f64 = scores.iter().map(|s| s.1).sum();
            if w <= 0.0 {
                return None;
            }
            scores.iter().map(|s| s.0 * s.1).sum::<f64>() / w
        }
        Aggregate::Worst => scores.iter().map(|s| s.0).fold(f64::MIN, f64::max),
    };
    Some(round(raw, c.rounding))
}

fn fmt(x: f64) -> String {
    let s = format!("{:.4}", x);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.to_string() }
}

/// Ranks of values among peers: (position from the best, 0-based with ties averaged, count).
fn position(value: f64, peers: &[f64], higher_better: bool) -> (f64, usize) {
    let better = peers
        .iter()
        .filter(|p| if higher_better { **p > value } else { **p < value })
        .count();
    let ties = peers.iter().filter(|p| **p == value).count().max(1);
    (better as f64 + (ties as f64 - 1.0) / 2.0, peers.len())
}

struct Scorer<'a> {
    pack: &'a Pack,
    table: &'a Table,
    period: &'a str,
    /// Peer values of each metric among the assessed entities.
    peers: HashMap<String, Vec<f64>>,
}

impl Scorer<'_> {
    fn value(&self, indicator: &str, kind: &str, code: &str) -> Option<Value> {
        self.table
            .get(indicator, kind, code, &self.pack.grain, self.period)
            .copied()
    }

    fn score(&self, m: &Metric, v: Option<Value>, england: Option<f64>) -> MetricResult {
        let value = v.and_then(|v| v.value);
        let mut r = MetricResult {
            indicator: m.indicator.clone(),
            value,
            score: None,
            rule: String::new(),
        };
        let Some(x) = value else {
            r.rule = "no value for the period: not scored".into();
            return r;
        };
        let higher = m.direction.as_deref() != Some("lower");
        match m.method {
            Method::Thresholds => {
                let bands: Vec<Band> = m.bands.iter().filter_map(|b| Band::parse(b)).collect();
                match bands.iter().position(|b| b.op.holds(x, b.value)) {
                    Some(i) => {
                        r.score = Some(i as f64 + 1.0);
                        r.rule = format!(
                            "{} {} {} → {}",
                            fmt(x),
                            bands[i].op.as_str(),
                            fmt(bands[i].value),
                            i + 1
                        );
                    }
                    None => {
                        let last = bands.last().copied();
                        r.score = Some(bands.len() as f64 + 1.0);
                        r.rule = match last {
                            Some(b) => format!(
                                "{} fails {} {} → {}",
                                fmt(x),
                                b.op.as_str(),
                                fmt(b.value),
                                bands.len() + 1
                            ),
                            None => "no bands".into(),
                        };
                    }
                }
            }
            Method::Quantile => {
                let peers = &self.peers[&m.indicator];
                let groups = m.groups.unwrap_or(4) as f64;
                let (pos, n) = position(x, peers, higher);
                let q = ((pos / n.max(1) as f64) * groups).floor().min(groups - 1.0);
                let s = 1.0 + 3.0 * q / (groups - 1.0);
                r.score = Some((s * 100.0).round() / 100.0);
                r.rule = format!(
                    "{} is in {} {} of {} of {} peers ({} is better) → {}",
                    fmt(x),
                    if groups == 4.0 { "quartile" } else { "group" },
                    q + 1.0,
                    groups,
                    n,
                    if higher { "higher" } else { "lower" },
                    fmt(s)
                );
            }
            Method::Rank => {
                let peers = &self.peers[&m.indicator];
                let (pos, n) = position(x, peers, higher);
                let s = if n > 1 {
                    1.0 + 3.0 * pos / (n as f64 - 1.0)
                } else {
                    1.0
                };
                r.score = Some((s * 100.0).round() / 100.0);
                r.rule = format!(
                    "rank {} of {n} ({} is better) → 1 + 3 × {}/{} = {:.2}",
                    fmt(pos + 1.0),
                    if higher { "higher" } else { "lower" },
                    fmt(pos),
                    n.saturating_sub(1),
                    s
                );
            }
            Method::Significance => {
                let Some(bench) = m.benchmark.or(england) else {
                    r.rule = "no benchmark (no England value for the period): not scored".into();
                    return r;
                };
                let v = v.unwrap_or_default();
                let worse = |lo: Option<f64>, hi: Option<f64>| -> Option<bool> {
                    Some(if higher { hi? < bench } else { lo? > bench })
                };
                let better = |lo: Option<f64>, hi: Option<f64>| -> Option<bool> {
                    Some(if higher { lo? > bench } else { hi? < bench })
                };
                let (Some(w95), Some(b95)) = (worse(v.lower_95, v.upper_95), better(v.lower_95, v.upper_95))
                else {
                    r.rule = "no confidence interval: not scored".into();
                    return r;
                };
                let w998 = worse(v.lower_998, v.upper_998).unwrap_or(false);
                let (s, what) = if w998 {
                    (4.0, "99.8% interval wholly worse than")
                } else if w95 {
                    (3.0, "95% interval wholly worse than")
                } else if b95 {
                    (1.0, "95% interval wholly better than")
                } else {
                    (2.0, "95% interval includes")
                };
                r.score = Some(s);
                r.rule = format!("{} ({what} the benchmark {}) → {}", fmt(x), fmt(bench), s);
            }
        }
        r
    }
}

/// The latest period of the pack's grain in the table.
fn latest_period(pack: &Pack, table: &Table) -> Option<String> {
    table
        .periods
        .get(&pack.grain)
        .and_then(|p| {
            p.iter()
                .max_by(|a, b| crate::period_order(a).cmp(&crate::period_order(b)))
        })
        .cloned()
}

/// Assesses every entity of the pack's kind for `period` (the latest period of the pack's
/// grain in the table if `None`).
pub fn assess(
    pack: &Pack,
    table: &Table,
    ctx: &Context,
    period: Option<&str>,
) -> Result<Vec<Assessment>, String> {
    let period = match period {
        Some(p) => p.to_string(),
        None => latest_period(pack, table)
            .ok_or_else(|| format!("pack {}: the table has no {} periods", pack.id, pack.grain))?,
    };
    let kind = pack.entity_kind.as_str();
    let used = pack.indicators();
    let org_kind = |code: &str| {
        ctx.org_kinds
            .get(code)
            .or_else(|| table.org_kinds.get(code))
            .cloned()
    };
    let entities: Vec<String> = table
        .entities
        .get(kind)
        .into_iter()
        .flatten()
        .filter(|code| {
            pack.org_kinds.is_empty() || org_kind(code).is_some_and(|k| pack.org_kinds.contains(&k))
        })
        .filter(|code| {
            used.iter().any(|i| {
                table
                    .get(i, kind, code, &pack.grain, &period)
                    .and_then(|v| v.value)
                    .is_some()
            })
        })
        .cloned()
        .collect();
    let mut scorer = Scorer {
        pack,
        table,
        period: &period,
        peers: HashMap::new(),
    };
    for d in &pack.domain {
        for m in &d.metric {
            let vals: Vec<f64> = entities
                .iter()
                .filter_map(|c| scorer.value(&m.indicator, kind, c).and_then(|v| v.value))
                .collect();
            scorer.peers.insert(m.indicator.clone(), vals);
        }
    }
    let mut out = Vec::with_capacity(entities.len());
    for code in &entities {
        out.push(assess_one(&scorer, ctx, code, org_kind(code))?);
    }
    outcome(pack, ctx, table, &period, &mut out);
    for a in &mut out {
        finish(pack, table, a);
    }
    Ok(out)
}

/// Something a pack could not assess in a table, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LeftOut {
    /// `domain`, `metric`, `override` or `trigger`.
    pub part: String,
    /// The domain id, override id or category name it belongs to.
    pub within: String,
    /// The indicator (or members' pack) it needed.
    pub needs: String,
    pub reason: String,
}

/// What a pack assessed in a table and what it left out: a dataset may hold only some tables,
/// or only part of a year.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Coverage {
    pub pack: String,
    pub period: Option<String>,
    /// Entities assessed.
    pub assessed: usize,
    /// Why nothing was assessed, when nothing was.
    pub not_assessed: Option<String>,
    pub left_out: Vec<LeftOut>,
}

impl Coverage {
    /// Whether the pack assessed the dataset with nothing left out.
    pub fn is_complete(&self) -> bool {
        self.not_assessed.is_none() && self.left_out.is_empty()
    }

    /// One line for a person: what was assessed and what was left out.
    pub fn summary(&self) -> String {
        if let Some(why) = &self.not_assessed {
            return format!("pack {}: not assessed: {why}", self.pack);
        }
        let mut t = format!(
            "pack {}: {} assessed for {}",
            self.pack,
            self.assessed,
            self.period.as_deref().unwrap_or("-")
        );
        for l in &self.left_out {
            t.push_str(&format!(
                "; left out {} {} ({}): {}",
                l.part, l.within, l.needs, l.reason
            ));
        }
        t
    }
}

/// An assessment run with its coverage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    pub assessments: Vec<Assessment>,
    pub coverage: Coverage,
}

/// Assesses what the table allows: like [`assess`], but a table without the pack's grain, or
/// without some of its indicators, gives an empty or partial run with every part left out
/// named, instead of an error. Metrics without a value are already scored as "no value"; this
/// says so once for the pack. A pack whose members' pack was not assessed in this run has its
/// member triggers left out.
pub fn assess_available(
    pack: &Pack,
    table: &Table,
    ctx: &Context,
    period: Option<&str>,
) -> Result<Run, String> {
    let kind = pack.entity_kind.as_str();
    let mut coverage = Coverage {
        pack: pack.id.clone(),
        period: None,
        assessed: 0,
        not_assessed: None,
        left_out: Vec::new(),
    };
    let period = match period {
        Some(p) => Some(p.to_string()),
        None => latest_period(pack, table),
    };
    let Some(period) = period else {
        coverage.not_assessed = Some(format!(
            "no indicator has a {} value (the dataset covers no whole {} of the tables the pack reads)",
            pack.grain.replace('_', " "),
            pack.grain.replace('_', " ")
        ));
        return Ok(Run {
            assessments: Vec::new(),
            coverage,
        });
    };
    coverage.period = Some(period.clone());
    let has_values = |indicator: &str| {
        table.entities.get(kind).into_iter().flatten().any(|code| {
            table
                .get(indicator, kind, code, &pack.grain, &period)
                .and_then(|v| v.value)
                .is_some()
        })
    };
    let missing = |indicator: &str| {
        format!("no {kind} has a {indicator} value for {period} (the dataset lacks what it is computed from)")
    };
    for d in &pack.domain {
        let mut gone = 0;
        for m in &d.metric {
            if !has_values(&m.indicator) {
                gone += 1;
                coverage.left_out.push(LeftOut {
                    part: "metric".into(),
                    within: d.id.clone(),
                    needs: m.indicator.clone(),
                    reason: missing(&m.indicator),
                });
            }
        }
        if gone == d.metric.len() && gone > 0 {
            coverage.left_out.push(LeftOut {
                part: "domain".into(),
                within: d.id.clone(),
                needs: d
                    .metric
                    .iter()
                    .map(|m| m.indicator.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                reason: "none of its metrics has a value: the domain is not scored".into(),
            });
        }
    }
    for o in &pack.overrides {
        let needs: Vec<&String> = [&o.indicator, &o.agreed, &o.margin, &o.distance]
            .into_iter()
            .flatten()
            .collect();
        // An override reading another grain (e.g. the latest CQC month) is checked there.
        let at_other_grain = o.grain.is_some();
        for i in needs {
            let present = if at_other_grain {
                table.entities.get(kind).into_iter().flatten().any(|c| {
                    table
                        .latest(i, kind, c, o.grain.as_deref().unwrap_or_default())
                        .is_some()
                })
            } else {
                has_values(i)
            };
            if !present {
                coverage.left_out.push(LeftOut {
                    part: "override".into(),
                    within: o.id.clone(),
                    needs: i.clone(),
                    reason: missing(i),
                });
            }
        }
    }
    for c in &pack.category {
        for cond in c.any.iter().chain(&c.all) {
            if let Some(i) = &cond.indicator
                && !has_values(i)
            {
                coverage.left_out.push(LeftOut {
                    part: "trigger".into(),
                    within: c.name.clone(),
                    needs: i.clone(),
                    reason: missing(i),
                });
            }
            if !cond.members_in_segment.is_empty() {
                let members = pack.members.as_deref().unwrap_or_default();
                let assessed = ctx.earlier.get(members).is_some_and(|v| !v.is_empty());
                if !assessed {
                    coverage.left_out.push(LeftOut {
                        part: "trigger".into(),
                        within: c.name.clone(),
                        needs: members.to_string(),
                        reason: format!(
                            "members' segments come from pack {members}, which assessed no one in this run: members in segment {:?} cannot be counted",
                            cond.members_in_segment
                        ),
                    });
                }
            }
            for i in &cond.worse_than_england {
                if !has_values(i) {
                    coverage.left_out.push(LeftOut {
                        part: "trigger".into(),
                        within: c.name.clone(),
                        needs: i.clone(),
                        reason: missing(i),
                    });
                }
            }
        }
    }
    let assessments = assess(pack, table, ctx, Some(&period))?;
    coverage.assessed = assessments.len();
    if assessments.is_empty() {
        coverage.not_assessed = Some(format!(
            "no {kind} has a value of any of the pack's indicators for {period}"
        ));
    }
    Ok(Run {
        assessments,
        coverage,
    })
}

fn cmp(op: Op, x: f64, v: f64) -> bool {
    op.holds(x, v)
}

fn assess_one(
    s: &Scorer<'_>,
    ctx: &Context,
    code: &str,
    org_kind: Option<String>,
) -> Result<Assessment, String> {
    let pack = s.pack;
    let kind = pack.entity_kind.as_str();
    let mut a = Assessment {
        entity_kind: kind.to_string(),
        entity_code: code.to_string(),
        org_kind,
        pack: pack.id.clone(),
        period: s.period.to_string(),
        domains: BTreeMap::new(),
        overall_score: None,
        rating: None,
        segment: None,
        category: None,
        overrides: Vec::new(),
        signals: Vec::new(),
        reporting: None,
        explanation: String::new(),
    };
    let _ = ctx;
    let value = |i: &str, grain: Option<&str>| match grain {
        None => s.value(i, kind, code).and_then(|v| v.value),
        Some(g) => s.table.latest(i, kind, code, g),
    };
    for d in &pack.domain {
        let mut metrics = Vec::new();
        let mut scores = Vec::new();
        for m in &d.metric {
            let england = s.value(&m.indicator, "england", ENGLAND).and_then(|v| v.value);
            let r = s.score(m, s.value(&m.indicator, kind, code), england);
            if let Some(sc) = r.score {
                scores.push((sc, m.weight));
            }
            metrics.push(r);
        }
        let mut score = combine(&scores, &d.combine);
        for o in pack.overrides.iter().filter(|o| {
            o.domain.as_deref() == Some(d.id.as_str()) || o.target.as_deref() == Some(d.id.as_str())
        }) {
            score = domain_override(o, score, &metrics, &value, &mut a.overrides);
        }
        a.domains.insert(
            d.id.clone(),
            DomainResult {
                title: d.title.clone(),
                score,
                metrics,
            },
        );
    }
    let domain_scores: Vec<(f64, f64)> = pack
        .domain
        .iter()
        .filter_map(|d| a.domains[&d.id].score.map(|s| (s, d.weight)))
        .collect();
    let mut overall = combine(&domain_scores, &pack.overall);
    for o in &pack.overrides {
        match o.kind.as_str() {
            "domain_floor" => {
                let (Some(d), Some(at), Some(floor)) = (&o.domain, o.at_least, o.floor) else {
                    continue;
                };
                let ds = a.domains.get(d).and_then(|x| x.score);
                match (ds, overall) {
                    (Some(ds), Some(ov)) if ds >= at => {
                        let applied = ov < floor;
                        if applied {
                            overall = Some(floor);
                        }
                        a.overrides.push(Applied {
                            id: o.id.clone(),
                            text: o.text.clone(),
                            effect: if applied {
                                format!(
                                    "{d} scored {} (≥ {}): overall {} → {}",
                                    fmt(ds),
                                    fmt(at),
                                    fmt(ov),
                                    fmt(floor)
                                )
                            } else {
                                format!(
                                    "{d} scored {} (≥ {}): overall {} already no better than {}",
                                    fmt(ds),
                                    fmt(at),
                                    fmt(ov),
                                    fmt(floor)
                                )
                            },
                            applied,
                        });
                    }
                    _ => {}
                }
            }
            "indicator_floor" if o.target.as_deref() == Some("overall") => {
                overall = indicator_floor(o, overall, &value, &mut a.overrides);
            }
            _ => {}
        }
    }
    a.overall_score = overall;
    Ok(a)
}

fn domain_override(
    o: &Override,
    score: Option<f64>,
    metrics: &[MetricResult],
    value: &dyn Fn(&str, Option<&str>) -> Option<f64>,
    log: &mut Vec<Applied>,
) -> Option<f64> {
    let Some(sc) = score else { return score };
    let push = |log: &mut Vec<Applied>, effect: String, applied: bool| {
        log.push(Applied {
            id: o.id.clone(),
            text: o.text.clone(),
            effect,
            applied,
        })
    };
    match o.kind.as_str() {
        "metric_score_floor" => {
            let (Some(at), Some(floor)) = (o.metric_score, o.floor) else {
                return score;
            };
            let hit: Vec<&MetricResult> = metrics
                .iter()
                .filter(|m| m.score.is_some_and(|s| s >= at))
                .collect();
            if hit.is_empty() {
                return score;
            }
            let names = hit
                .iter()
                .map(|m| m.indicator.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            if sc < floor {
                push(
                    log,
                    format!(
                        "{names} scored {}: {} {} → {}",
                        fmt(at),
                        o.domain.as_deref().unwrap_or(""),
                        fmt(sc),
                        fmt(floor)
                    ),
                    true,
                );
                Some(floor)
            } else {
                push(
                    log,
                    format!(
                        "{names} scored {}: {} already {}",
                        fmt(at),
                        o.domain.as_deref().unwrap_or(""),
                        fmt(sc)
                    ),
                    false,
                );
                score
            }
        }
        "control_total" => {
            let (Some(agreed), Some(margin), Some(distance)) = (&o.agreed, &o.margin, &o.distance) else {
                return score;
            };
            let Some(ag) = value(agreed, None) else {
                push(
                    log,
                    format!("not applied: no {agreed} value for the period"),
                    false,
                );
                return score;
            };
            if ag >= 100.0 {
                return score;
            }
            let (Some(m), Some(d)) = (value(margin, None), value(distance, None)) else {
                push(
                    log,
                    format!(
                        "not applied: control total not agreed, but no {margin} or {distance} to tell a planned deficit from a surplus"
                    ),
                    false,
                );
                return score;
            };
            let planned = m - d;
            let (floor, what) = if planned < 0.0 {
                (o.deficit_floor.unwrap_or(3.0), "a deficit")
            } else {
                (o.surplus_floor.unwrap_or(2.0), "a surplus")
            };
            let applied = sc < floor;
            push(
                log,
                format!(
                    "control total not agreed, planning {what} ({margin} {} - {distance} {} = {} planned): no better than {}{}",
                    fmt(m),
                    fmt(d),
                    fmt(planned),
                    fmt(floor),
                    if applied {
                        format!(", {} → {}", fmt(sc), fmt(floor))
                    } else {
                        format!(", already {}", fmt(sc))
                    }
                ),
                applied,
            );
            Some(sc.max(floor))
        }
        "indicator_floor" => indicator_floor(o, score, value, log),
        _ => score,
    }
}

fn indicator_floor(
    o: &Override,
    score: Option<f64>,
    value: &dyn Fn(&str, Option<&str>) -> Option<f64>,
    log: &mut Vec<Applied>,
) -> Option<f64> {
    let (Some(ind), Some(op), Some(v), Some(floor)) = (
        &o.indicator,
        o.op.as_deref().and_then(Op::parse),
        o.value,
        o.floor,
    ) else {
        return score;
    };
    let Some(x) = value(ind, o.grain.as_deref()) else {
        log.push(Applied {
            id: o.id.clone(),
            text: o.text.clone(),
            effect: format!("not applied: no {ind} value for the period"),
            applied: false,
        });
        return score;
    };
    if !cmp(op, x, v) {
        return score;
    }
    let sc = score?;
    let applied = sc < floor;
    log.push(Applied {
        id: o.id.clone(),
        text: o.text.clone(),
        effect: format!(
            "{ind} {} {} {}: {}",
            fmt(x),
            op.as_str(),
            fmt(v),
            if applied {
                format!("{} → {}", fmt(sc), fmt(floor))
            } else {
                format!("already {}", fmt(sc))
            }
        ),
        applied,
    });
    Some(sc.max(floor))
}

/// Segments, ratings or categories, which may depend on the other entities.
fn outcome(pack: &Pack, ctx: &Context, table: &Table, period: &str, out: &mut [Assessment]) {
    match pack.outcome {
        Outcome::Rating => {
            for a in out.iter_mut() {
                a.rating = a.overall_score.map(|s| {
                    pack.rating
                        .iter()
                        .find(|b| s <= b.max_score + 1e-9)
                        .or(pack.rating.last())
                        .map(|b| b.name.clone())
                        .unwrap_or_default()
                });
            }
        }
        Outcome::Segment => {
            let Some(seg) = &pack.segments else { return };
            if seg.method == "quartile" {
                let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
                for (i, a) in out.iter().enumerate() {
                    if a.overall_score.is_some() {
                        let k = a.org_kind.clone().unwrap_or_default();
                        let g = seg.groups.get(&k).cloned().unwrap_or(k);
                        groups.entry(g).or_default().push(i);
                    }
                }
                for (g, members) in groups {
                    let scores: Vec<f64> = members.iter().filter_map(|&i| out[i].overall_score).collect();
                    for &i in &members {
                        let s = out[i].overall_score.unwrap_or(0.0);
                        let (pos, n) = position(s, &scores, false);
                        let q = ((pos / n.max(1) as f64) * 4.0).floor().min(3.0) as u32;
                        out[i].segment = Some((q + 1).min(seg.worst_scored));
                        out[i].overrides.push(Applied {
                            id: "quartile".into(),
                            text: format!("segment by quartile of the average score among {n} {g} peers"),
                            effect: format!(
                                "average {} is in quartile {} → segment {}",
                                fmt(s),
                                q + 1,
                                (q + 1).min(seg.worst_scored)
                            ),
                            applied: true,
                        });
                    }
                }
            } else {
                for a in out.iter_mut() {
                    a.segment = a
                        .overall_score
                        .map(|s| (round(s, Rounding::Nearest) as u32).clamp(1, seg.worst_scored));
                }
            }
            for a in out.iter_mut() {
                let Some(mut segment) = a.segment else { continue };
                let (kind, code) = (a.entity_kind.clone(), a.entity_code.clone());
                let value = |i: &str, grain: Option<&str>| match grain {
                    None => table
                        .get(i, &kind, &code, &pack.grain, period)
                        .and_then(|v| v.value),
                    Some(g) => table.latest(i, &kind, &code, g),
                };
                for o in pack
                    .overrides
                    .iter()
                    .filter(|o| o.kind == "indicator_floor" && o.target.as_deref() == Some("segment"))
                {
                    let before = Some(segment as f64);
                    if let Some(s) = indicator_floor(o, before, &value, &mut a.overrides) {
                        segment = s.round() as u32;
                    }
                }
                if let Some((s, why)) = ctx.decisions.get(&a.entity_code) {
                    a.overrides.push(Applied {
                        id: "decision".into(),
                        text: format!("segment decided: {why}"),
                        effect: format!("segment {segment} → {s}"),
                        applied: true,
                    });
                    segment = *s;
                }
                a.segment = Some(segment);
            }
        }
        Outcome::Category => {
            let members = pack.members.as_ref().and_then(|m| ctx.earlier.get(m));
            for a in out.iter_mut() {
                let mut chosen = None;
                let mut why = Vec::new();
                // Why each category tested before the chosen one did not apply.
                let mut missed = Vec::new();
                for c in &pack.category {
                    let test = |cond: &Condition| condition(cond, pack, ctx, table, period, a, members);
                    let any: Vec<(bool, String)> = c.any.iter().map(test).collect();
                    let all: Vec<(bool, String)> = c.all.iter().map(test).collect();
                    let hit = (c.any.is_empty() || any.iter().any(|x| x.0)) && all.iter().all(|x| x.0);
                    if hit {
                        why = any.into_iter().filter(|x| x.0).chain(all).map(|x| x.1).collect();
                        chosen = Some(c.name.clone());
                        break;
                    }
                    let failed: Vec<String> = if any.iter().any(|x| x.0) {
                        all.into_iter().filter(|x| !x.0).map(|x| x.1).collect()
                    } else {
                        any.into_iter()
                            .chain(all.into_iter().filter(|x| !x.0))
                            .map(|x| x.1)
                            .collect()
                    };
                    missed.push(format!("not {}: {}", c.name, failed.join(", ")));
                }
                a.category = chosen.clone();
                a.overrides.push(Applied {
                    id: "category".into(),
                    text: format!("category {}", chosen.as_deref().unwrap_or("none")),
                    effect: if why.is_empty() {
                        let mut t = "no trigger met: the default category".to_string();
                        if !missed.is_empty() {
                            t.push_str(&format!(" ({})", missed.join("; ")));
                        }
                        t
                    } else {
                        why.join("; ")
                    },
                    applied: true,
                });
            }
        }
    }
}

fn condition(
    c: &Condition,
    pack: &Pack,
    ctx: &Context,
    table: &Table,
    period: &str,
    a: &Assessment,
    members: Option<&Vec<Assessment>>,
) -> (bool, String) {
    let count_ok = |n: u32| c.at_least.is_none_or(|k| n >= k) && c.at_most.is_none_or(|k| n <= k);
    let bounds = || match (c.at_least, c.at_most) {
        (Some(l), Some(m)) => format!("between {l} and {m}"),
        (Some(l), None) => format!("at least {l}"),
        (None, Some(m)) => format!("at most {m}"),
        (None, None) => String::new(),
    };
    if let Some(ind) = &c.indicator {
        let op = c.op.as_deref().and_then(Op::parse).unwrap_or(Op::Ge);
        let v = c.value.unwrap_or(0.0);
        return match table
            .get(ind, &a.entity_kind, &a.entity_code, &pack.grain, period)
            .and_then(|x| x.value)
        {
            Some(x) => {
                let hit = cmp(op, x, v);
                (
                    hit,
                    format!(
                        "{ind} {} {} {}: {}",
                        fmt(x),
                        op.as_str(),
                        fmt(v),
                        if hit { "met" } else { "not met" }
                    ),
                )
            }
            None => (false, format!("no {ind} value")),
        };
    }
    if !c.members_in_segment.is_empty() {
        // A member placed in its segment by a decision (the register's special measures) is
        // named with the decision, as its own assessment records it.
        let hits: Vec<String> = members
            .into_iter()
            .flatten()
            .filter(|m| ctx.systems.get(&m.entity_code) == Some(&a.entity_code))
            .filter(|m| m.segment.is_some_and(|s| c.members_in_segment.contains(&s)))
            .map(
                |m| match m.overrides.iter().find(|o| o.id == "decision" && o.applied) {
                    Some(o) => format!(
                        "{}: {}",
                        m.entity_code,
                        o.text.trim_start_matches("segment decided: ")
                    ),
                    None => m.entity_code.clone(),
                },
            )
            .collect();
        let n = hits.len() as u32;
        return (
            count_ok(n),
            format!(
                "{n} member{} in segment {} ({}), {} needed: {}",
                if n == 1 { "" } else { "s" },
                c.members_in_segment
                    .iter()
                    .map(|s| s.to_string())
                    .collect::<Vec<_>>()
                    .join(" or "),
                if hits.is_empty() {
                    "none".into()
                } else {
                    hits.join(", ")
                },
                bounds(),
                if count_ok(n) { "met" } else { "not met" }
            ),
        );
    }
    let mut worse = Vec::new();
    for ind in &c.worse_than_england {
        let Some(v) = table.get(ind, &a.entity_kind, &a.entity_code, &pack.grain, period) else {
            continue;
        };
        let Some(e) = table
            .get(ind, "england", ENGLAND, &pack.grain, period)
            .and_then(|x| x.value)
        else {
            continue;
        };
        let lower_better = pack
            .domain
            .iter()
            .flat_map(|d| &d.metric)
            .find(|m| &m.indicator == ind)
            .and_then(|m| m.direction.as_deref())
            == Some("lower");
        // With the signals table, the funnel (over-dispersion allowed for) decides: beyond the
        // 99.8% limit on the worse side. Without it, the 95% interval wholly on the worse side.
        let w = match table.signal(ind, &a.entity_kind, &a.entity_code, &pack.grain, period) {
            Some(s) if s.funnel_position.is_some() => {
                s.funnel_position.as_deref() == Some("beyond_998")
                    && s.funnel_side.as_deref() == Some(if lower_better { "high" } else { "low" })
            }
            _ => {
                if lower_better {
                    v.lower_95.is_some_and(|l| l > e)
                } else {
                    v.upper_95.is_some_and(|u| u < e)
                }
            }
        };
        if w {
            worse.push(ind.as_str());
        }
    }
    let n = worse.len() as u32;
    (
        count_ok(n),
        format!(
            "{n} indicator{} significantly worse than England ({}), {} needed: {}",
            if n == 1 { "" } else { "s" },
            if worse.is_empty() {
                "none".into()
            } else {
                worse.join(", ")
            },
            bounds(),
            if count_ok(n) { "met" } else { "not met" }
        ),
    )
}

/// Signals, reporting regime and the readable explanation.
fn finish(pack: &Pack, table: &Table, a: &mut Assessment) {
    for ind in pack.indicators() {
        if let Some(s) = table.signal(&ind, &a.entity_kind, &a.entity_code, &pack.grain, &a.period) {
            if let Some(p) = &s.spc_point
                && p.starts_with("special_cause")
            {
                a.signals.push(SignalNote {
                    indicator: ind.clone(),
                    signal: format!("SPC {}", p.replace('_', " ")),
                });
            }
            if let Some(f) = &s.funnel_position
                && f.starts_with("beyond")
            {
                a.signals.push(SignalNote {
                    indicator: ind.clone(),
                    signal: format!(
                        "funnel {} ({})",
                        f.replace("beyond_95", "beyond 95%")
                            .replace("beyond_998", "beyond 99.8%"),
                        s.funnel_side.as_deref().unwrap_or("")
                    ),
                });
            }
        }
    }
    let outcome = a
        .segment
        .map(|s| s.to_string())
        .or_else(|| a.rating.clone())
        .or_else(|| a.category.clone());
    if let Some(o) = &outcome {
        a.reporting = pack.regime.iter().find(|r| &r.outcome == o).map(|r| Reporting {
            frequency: r.frequency.clone(),
            metrics: if r.metrics.is_empty() {
                pack.indicators()
            } else {
                r.metrics.clone()
            },
            support: r.support.clone(),
        });
    }
    let mut t = format!(
        "{} {} under {} for {}:",
        a.entity_kind, a.entity_code, pack.title, a.period
    );
    for (id, d) in &a.domains {
        t.push_str(&format!(
            "\n  {} ({id}): {}",
            d.title,
            d.score.map_or("not scored".into(), fmt)
        ));
        for m in &d.metrics {
            t.push_str(&format!("\n    {}: {}", m.indicator, m.rule));
        }
    }
    for o in &a.overrides {
        t.push_str(&format!("\n  {} [{}]: {}", o.text, o.id, o.effect));
    }
    t.push_str(&format!(
        "\n  overall score: {}",
        a.overall_score.map_or("not scored".into(), fmt)
    ));
    if let Some(o) = &outcome {
        t.push_str(&format!(
            "\n  {}: {o}",
            match pack.outcome {
                Outcome::Segment => "segment",
                Outcome::Rating => "rating",
                Outcome::Category => "category",
            }
        ));
    }
    if let Some(r) = &a.reporting {
        t.push_str(&format!("\n  reporting: {}; {}", r.frequency, r.support));
    }
    for s in &a.signals {
        t.push_str(&format!("\n  early warning: {} {}", s.indicator, s.signal));
    }
    a.explanation = t;
}

/// The league table order: segment (or rating band, or category order), then overall score,
/// then code.
pub fn league(pack: &Pack, out: &mut [Assessment]) {
    let rank = |a: &Assessment| -> (u32, f64) {
        let first = match pack.outcome {
            Outcome::Segment => a.segment.unwrap_or(99),
            Outcome::Rating => a
                .rating
                .as_ref()
                .and_then(|r| pack.rating.iter().position(|b| &b.name == r))
                .map_or(99, |p| p as u32),
            Outcome::Category => a
                .category
                .as_ref()
                .and_then(|c| pack.category.iter().position(|b| &b.name == c))
                .map_or(99, |p| p as u32),
        };
        (first, a.overall_score.unwrap_or(f64::MAX))
    };
    out.sort_by(|a, b| {
        let (x, y) = (rank(a), rank(b));
        x.0.cmp(&y.0)
            .then(x.1.total_cmp(&y.1))
            .then(a.entity_code.cmp(&b.entity_code))
    });
}
