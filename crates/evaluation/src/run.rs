//! Evaluating sites from the published table under pre-registered protocols.

use crate::did::{self, Cohort, Unit};
use crate::panel::{Panel, Series};
use crate::sites::{Site, Structure};
use crate::synth;
use crate::{Error, Result};
use model::Month;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};

/// What an evaluation will do, fixed before the results are seen: stored with its hash, and a
/// re-run as data arrive uses it unchanged.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Protocol {
    pub format: u32,
    pub site: String,
    pub outcome: String,
    /// The first treated month.
    pub start: String,
    /// The first month of the pre-period.
    pub pre_from: String,
    /// The site's practices (sorted).
    pub units: Vec<String>,
    pub methods: Vec<String>,
    /// Synthetic-control donors: the units of this level that host no site.
    pub synth_level: String,
    pub synth_v: String,
    /// Difference-in-differences units: `practice` when at least 80% of the site's practices
    /// are published every month, else `commissioner` (a system site's commissioners against
    /// commissioners hosting no site).
    pub did_level: String,
    /// Difference-in-differences options (comparators, months, confidence).
    pub did: did::Options,
    /// Newey–West lag (the default ⌊4 (T/100)^(2/9)⌋ when null).
    pub its_lag: Option<usize>,
    /// A method calls an effect when its interval excludes zero (DiD, ITS) or its placebo
    /// p-value is at most this (synthetic control).
    pub alpha: f64,
}

impl Protocol {
    /// SHA-256 of the protocol's canonical JSON (fields in declaration order).
    pub fn hash(&self) -> String {
        let text = serde_json::to_string(self).unwrap_or_default();
        let digest = Sha256::digest(text.as_bytes());
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The protocol for a site and outcome, on the panel's months.
    pub fn new(site: &Site, outcome: &str, st: &Structure, panel: &Panel) -> Result<Protocol> {
        let start = site.start_month()?;
        let first = *panel
            .months
            .first()
            .ok_or_else(|| Error::Refused(format!("outcome {outcome}: no months")))?;
        let options = did::Options::default();
        let pre_from = first.max(start.plus(-(options.pre_months as i32)));
        let mut units = site.units(st);
        units.sort();
        let first_index = panel.months.iter().position(|m| *m == pre_from).unwrap_or(0);
        let complete = panel.levels.get("practice").map_or(0, |ps| {
            units
                .iter()
                .filter(|u| {
                    ps.get(*u).is_some_and(|x| {
                        x.0[first_index..].iter().all(Option::is_some)
                            && x.1[first_index..].iter().all(Option::is_some)
                    })
                })
                .count()
        });
        let did_level = if !units.is_empty() && complete * 5 >= units.len() * 4 {
            "practice"
        } else {
            "commissioner"
        };
        Ok(Protocol {
            format: 1,
            site: site.id.clone(),
            outcome: outcome.to_string(),
            start: start.to_string(),
            pre_from: pre_from.to_string(),
            units,
            methods: vec![
                "synthetic_control".into(),
                "difference_in_differences".into(),
                "interrupted_time_series".into(),
            ],
            synth_level: if site.system.is_some() {
                "system".into()
            } else {
                "commissioner".into()
            },
            synth_v: "outcome".into(),
            did_level: did_level.into(),
            did: options,
            its_lag: None,
            alpha: 0.05,
        })
    }
}

/// The synthetic-control summary of an evaluation.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
pub struct SynthSummary {
    pub level: String,
    pub donors: usize,
    /// Donors with weight at least 0.01, largest first.
    pub weights: Vec<(String, f64)>,
    pub att: f64,
    /// `att` over the synthetic post-period mean.
    pub relative_effect: f64,
    pub p_value: f64,
    pub pre_rmspe: f64,
    pub rmspe_ratio: Option<f64>,
    pub outside_hull: bool,
    pub unique: bool,
    pub treated: Vec<f64>,
    pub synthetic: Vec<f64>,
}

/// One evaluation of one site and outcome with data to `as_of`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
pub struct Evaluation {
    pub site: String,
    pub outcome: String,
    pub protocol_hash: String,
    pub as_of: String,
    pub months: Vec<String>,
    pub post_months: usize,
    pub synthetic_control: Option<SynthSummary>,
    pub difference_in_differences: Option<did::Estimate>,
    pub interrupted_time_series: Option<crate::its::Its>,
    /// Why a method gave no answer.
    pub problems: Vec<String>,
    /// Whether each method calls an effect (see `Protocol::alpha`).
    pub significant: BTreeMap<String, bool>,
    /// Diagnostics in words.
    pub diagnostics: Vec<String>,
}

/// Runs a protocol on a panel, with data up to `as_of` (inclusive).
pub fn evaluate(
    protocol: &Protocol,
    panel: &Panel,
    st: &Structure,
    all_sites: &[Site],
    as_of: Month,
) -> Result<Evaluation> {
    let bad = |m: String| Error::Refused(format!("protocol {}: {m}", protocol.site));
    let start: Month = protocol
        .start
        .parse()
        .map_err(|_| bad("start is not a month".into()))?;
    let pre_from: Month = protocol
        .pre_from
        .parse()
        .map_err(|_| bad("pre_from is not a month".into()))?;
    let first = panel.months.iter().position(|m| *m == pre_from).ok_or_else(|| {
        bad(format!(
            "the published table has no {pre_from} for {}",
            protocol.outcome
        ))
    })?;
    let last = panel
        .months
        .iter()
        .rposition(|m| *m <= as_of)
        .ok_or_else(|| bad(format!("no months up to {as_of}")))?;
    if start > panel.months[last] {
        return Err(bad(format!(
            "no month on or after the start {start} up to {as_of}"
        )));
    }
    let months: Vec<Month> = panel.months[first..=last].to_vec();
    let s = months[0].months_until(start) as usize;
    let cut = |x: &Series| -> Series { (x.0[first..=last].to_vec(), x.1[first..=last].to_vec()) };
    let mut problems = Vec::new();
    let mut diagnostics = Vec::new();
    let mut significant = BTreeMap::new();

    // Units hosting any site: never donors or comparators.
    let mut site_practices: BTreeSet<String> = BTreeSet::new();
    let mut site_systems: BTreeSet<String> = BTreeSet::new();
    for other in all_sites {
        site_practices.extend(other.units(st));
        if let Some(sys) = &other.system {
            site_systems.insert(sys.clone());
        }
    }
    let site_commissioners: BTreeSet<String> = site_practices
        .iter()
        .filter_map(|p| st.practice_commissioner.get(p).cloned())
        .collect();

    // The site's pooled series: its practices when published at practice level, else its system.
    let treated_series = panel
        .pooled("practice", &protocol.units)
        .filter(|s| s.0[first..=last].iter().all(Option::is_some))
        .or_else(|| {
            // A whole system's series is its system row; a list of practices has only its own.
            if protocol.synth_level != "system" {
                return None;
            }
            let sys = st.practice_system(protocol.units.first()?)?;
            panel.levels.get("system")?.get(sys).cloned()
        })
        .map(|x| cut(&x))
        .ok_or_else(|| {
            bad(format!(
                "{} is not published for every month for the site's practices{}",
                protocol.outcome,
                if protocol.synth_level == "system" {
                    " or its system"
                } else {
                    ""
                }
            ))
        });
    let rates = |x: &Series| -> Option<Vec<f64>> { panel.rates(x).into_iter().collect() };

    // Synthetic control on the donor level's rates.
    let sc = (|| -> Result<SynthSummary> {
        let y1 = rates(
            treated_series
                .as_ref()
                .map_err(|e| Error::Refused(e.to_string()))?,
        )
        .ok_or_else(|| bad("the site's series has suppressed months".into()))?;
        let level = panel.levels.get(&protocol.synth_level).ok_or_else(|| {
            bad(format!(
                "no {} rows for {}",
                protocol.synth_level, protocol.outcome
            ))
        })?;
        let mut outcome: Vec<(String, Vec<f64>)> = vec![("__site".into(), y1)];
        for (code, series) in level {
            let hosts = match protocol.synth_level.as_str() {
                "system" => site_systems.contains(code),
                _ => {
                    site_commissioners.contains(code)
                        || st
                            .commissioner_system
                            .get(code)
                            .is_some_and(|s| site_systems.contains(s))
                }
            };
            if hosts {
                continue;
            }
            if let Some(y) = rates(&cut(series)) {
                outcome.push((code.clone(), y));
            }
        }
        let donors: Vec<String> = outcome[1..].iter().map(|x| x.0.clone()).collect();
        if donors.len() < 2 {
            return Err(bad(format!(
                "{} donors with a complete series: too few",
                donors.len()
            )));
        }
        let req = synth::Request {
            outcome: synth::Ordered(outcome),
            treated: "__site".into(),
            donors: donors.clone(),
            pre_periods: s,
            predictors: None,
            v: Some(synth::VChoice::Outcome),
            placebo: true,
            demean: false,
        };
        let r = synth::run(&req)?;
        let post_mean = r.synthetic[s..].iter().sum::<f64>() / (r.synthetic.len() - s) as f64;
        let mut weights: Vec<(String, f64)> = r
            .weights
            .iter()
            .filter(|w| *w.1 >= 0.01)
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        weights.sort_by(|a, b| b.1.total_cmp(&a.1));
        let y1 = req.outcome.0[0].1.clone();
        Ok(SynthSummary {
            level: protocol.synth_level.clone(),
            donors: donors.len(),
            weights,
            att: r.att_mean_post_gap,
            relative_effect: r.att_mean_post_gap / post_mean,
            p_value: r.placebo.as_ref().map_or(1.0, |p| p.p_value_rmspe_ratio),
            pre_rmspe: r.pre_rmspe,
            rmspe_ratio: r.rmspe_ratio,
            outside_hull: r.outside_hull,
            unique: r.unique,
            treated: y1,
            synthetic: r.synthetic,
        })
    })();
    let sc = match sc {
        Ok(x) => {
            significant.insert("synthetic_control".into(), x.p_value <= protocol.alpha);
            if x.outside_hull {
                diagnostics.push("synthetic control: the site lies outside its donors' range before the start; read its effect with care".into());
            }
            Some(x)
        }
        Err(e) => {
            problems.push(format!("synthetic control: {e}"));
            None
        }
    };

    // Difference-in-differences: the site's practices (or its commissioners) against matched
    // never-treated ones.
    let did = (|| -> Result<did::Estimate> {
        let level = protocol.did_level.as_str();
        let rows = panel
            .levels
            .get(level)
            .ok_or_else(|| bad(format!("{} is not published by {level}", protocol.outcome)))?;
        let site_units: BTreeSet<String> = match level {
            "practice" => protocol.units.iter().cloned().collect(),
            _ => {
                let mine: BTreeSet<String> = protocol
                    .units
                    .iter()
                    .filter_map(|p| st.practice_commissioner.get(p).cloned())
                    .collect();
                // A site of some of a commissioner's practices cannot be told apart from it.
                let whole = mine.iter().all(|c| {
                    st.practice_commissioner
                        .iter()
                        .filter(|(_, x)| *x == c)
                        .all(|(p, _)| protocol.units.contains(p))
                });
                if !whole {
                    return Err(bad(
                        "the site's practices are too small to be published month by month, and it is part of a commissioner".into(),
                    ));
                }
                mine
            }
        };
        let hosts = |code: &String| match level {
            "practice" => site_practices.contains(code),
            _ => site_commissioners.contains(code),
        };
        // Peer groups for the site-level variance: never-treated units by the kind of group the
        // site is (its system, or the commissioner of a list of practices).
        let group_of = |code: &String| -> Option<String> {
            match (level, protocol.synth_level.as_str()) {
                ("practice", "system") => st.practice_system(code).cloned(),
                ("practice", _) => st.practice_commissioner.get(code).cloned(),
                _ => st.commissioner_system.get(code).cloned(),
            }
        };
        let mut units = Vec::new();
        let mut treated = Vec::new();
        let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (code, series) in rows {
            let x = cut(series);
            let is_site = site_units.contains(code);
            if !is_site && hosts(code) {
                continue;
            }
            if is_site {
                treated.push(units.len());
            } else if let Some(g) = group_of(code) {
                groups.entry(g).or_default().push(units.len());
            }
            units.push(Unit {
                code: code.clone(),
                num: x.0,
                den: x.1,
                need: None,
            });
        }
        let mut est = did::estimate(
            &units,
            &[Cohort { start: s, treated }],
            months.len(),
            &protocol.did,
        )?;
        if protocol.did.site_level {
            let groups: Vec<Vec<usize>> = groups.into_values().collect();
            match did::site_level(&units, &groups, s, months.len(), protocol.did.pre_months) {
                Some(sl) => est.widen(sl),
                None => diagnostics.push(
                    "difference-in-differences: fewer than 5 never-treated peer groups, so the interval allows for no shock shared by the whole site".into(),
                ),
            }
        }
        Ok(est)
    })();
    let did = match did {
        Ok(x) => {
            significant.insert("difference_in_differences".into(), x.upper < 0.0 || x.lower > 0.0);
            if x.balance_pre_level.abs() > 0.1 {
                diagnostics.push(format!(
                    "difference-in-differences: after matching, the site's pre-period level differs from its comparators' by {:.2} standard deviations",
                    x.balance_pre_level
                ));
            }
            Some(x)
        }
        Err(e) => {
            problems.push(format!("difference-in-differences: {e}"));
            None
        }
    };

    // Interrupted time series on the site's pooled log rate.
    let its = (|| -> Result<crate::its::Its> {
        let y = rates(
            treated_series
                .as_ref()
                .map_err(|e| Error::Refused(e.to_string()))?,
        )
        .ok_or_else(|| bad("the site's series has suppressed months".into()))?;
        if y.iter().any(|v| *v <= 0.0) {
            return Err(bad("a month with no events: the log rate is undefined".into()));
        }
        let logs: Vec<f64> = y.iter().map(|v| v.ln()).collect();
        let cal: Vec<u32> = months.iter().map(|m| m.month()).collect();
        crate::its::fit(&logs, &cal, s, protocol.its_lag, protocol.did.confidence)
    })();
    let its = match its {
        Ok(x) => {
            significant.insert("interrupted_time_series".into(), x.upper < 0.0 || x.lower > 0.0);
            Some(x)
        }
        Err(e) => {
            problems.push(format!("interrupted time series: {e}"));
            None
        }
    };
    if months.len() - s < 6 {
        diagnostics.push(format!(
            "only {} months since the start: early estimates move as data arrive",
            months.len() - s
        ));
    }
    Ok(Evaluation {
        site: protocol.site.clone(),
        outcome: protocol.outcome.clone(),
        protocol_hash: protocol.hash(),
        as_of: months[months.len() - 1].to_string(),
        months: months.iter().map(ToString::to_string).collect(),
        post_months: months.len() - s,
        synthetic_control: sc,
        difference_in_differences: did,
        interrupted_time_series: its,
        problems,
        significant,
        diagnostics,
    })
}

/// The outcomes evaluated when a site names none.
pub const DEFAULT_OUTCOMES: [&str; 1] = ["emergency_admissions_rate"];

/// Every site's protocols and runs.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
pub struct Evaluated {
    pub sites: Vec<Site>,
    pub protocols: Vec<Protocol>,
    pub runs: Vec<Evaluation>,
    /// Sites and outcomes that could not be evaluated, and why.
    pub problems: Vec<String>,
}

/// Evaluates every site and outcome on the published table: under the stored protocol of a
/// site and outcome when there is one (so the goalposts stay where they were registered),
/// otherwise under a new one. With `history`, once for every month of data from the second
/// month after the start to `as_of` (the monthly re-runs); otherwise once, at `as_of` (the
/// latest month when None).
pub fn evaluate_all(
    published: &[arrow::array::RecordBatch],
    sites: &[Site],
    st: &Structure,
    outcomes: &[String],
    stored: &[Protocol],
    as_of: Option<Month>,
    history: bool,
) -> Result<Evaluated> {
    let mut out = Evaluated {
        sites: sites.to_vec(),
        ..Default::default()
    };
    let mut panels: BTreeMap<String, Panel> = BTreeMap::new();
    for site in sites {
        let wanted: Vec<String> = if !site.outcomes.is_empty() {
            site.outcomes.clone()
        } else if !outcomes.is_empty() {
            outcomes.to_vec()
        } else {
            DEFAULT_OUTCOMES.iter().map(|s| s.to_string()).collect()
        };
        for outcome in wanted {
            if !panels.contains_key(&outcome) {
                match Panel::from_published(published, &outcome) {
                    Ok(p) => {
                        panels.insert(outcome.clone(), p);
                    }
                    Err(e) => {
                        out.problems.push(format!("{}: {e}", site.id));
                        continue;
                    }
                }
            }
            let panel = &panels[&outcome];
            let protocol = match stored.iter().find(|p| p.site == site.id && p.outcome == outcome) {
                Some(p) => p.clone(),
                None => match Protocol::new(site, &outcome, st, panel) {
                    Ok(p) => p,
                    Err(e) => {
                        out.problems.push(e.to_string());
                        continue;
                    }
                },
            };
            let Some(&last) = panel.months.last() else {
                continue;
            };
            let as_of = as_of.unwrap_or(last).min(last);
            let start: Month = site.start_month()?;
            let months: Vec<Month> = if history {
                let mut m = start.plus(1);
                let mut v = Vec::new();
                while m <= as_of {
                    v.push(m);
                    m = m.plus(1);
                }
                v
            } else {
                vec![as_of]
            };
            for m in months {
                match evaluate(&protocol, panel, st, sites, m) {
                    Ok(e) => out.runs.push(e),
                    Err(e) => out.problems.push(format!("{} {} to {m}: {e}", site.id, outcome)),
                }
            }
            out.protocols.push(protocol);
        }
    }
    Ok(out)
}
