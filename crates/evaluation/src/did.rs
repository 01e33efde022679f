//! Difference-in-differences against matched comparators (docs/evaluation.md).
//!
//! Units are practices (or whatever the outcome is published for) with a monthly numerator and
//! denominator. Each cohort — the units that started in one month — is compared with units never
//! treated, matched by nearest neighbour on the pre-period level and trend of the outcome and on
//! need; never-treated comparators only, so units already treated never serve as controls
//! (Callaway and Sant'Anna's group-time design, with the whole pre-period as the base).
//!
//! The effect is on the log of the rate: for a cohort, the change in the treated units' pooled
//! rate from the pre-period to the post-period, less the same change in the comparators' pooled
//! rate. Cohorts are combined by their treated person-months. Standard errors are
//! cluster-robust by unit (each unit's whole series is one cluster, so serial correlation within
//! a unit is allowed): the linearised influence of each unit on the pooled log rates, summed over
//! the estimate's parts and squared, with the small-sample factor G/(G−1); intervals use
//! Student's t with (treated units − 1) degrees of freedom, capped below by the normal.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A unit's series.
#[derive(Debug, Clone)]
pub struct Unit {
    pub code: String,
    /// Numerator by period (None where not published).
    pub num: Vec<Option<f64>>,
    pub den: Vec<Option<f64>>,
    /// Need (for matching), e.g. the list's share aged 65 and over; optional.
    pub need: Option<f64>,
}

impl Unit {
    /// Whether every period in `range` has a numerator and a positive denominator.
    pub fn complete(&self, range: std::ops::Range<usize>) -> bool {
        range
            .into_iter()
            .all(|t| self.num[t].is_some() && self.den[t].is_some_and(|d| d > 0.0))
    }
}

/// A cohort: the units that start together.
#[derive(Debug, Clone)]
pub struct Cohort {
    pub start: usize,
    pub treated: Vec<usize>,
}

/// Options.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Options {
    /// Comparators per treated unit (nearest neighbours, with replacement).
    pub neighbours: usize,
    /// Pre-period months used (at most; fewer when the series starts later).
    pub pre_months: usize,
    /// Event-study months before and after the start.
    pub event_before: usize,
    pub event_after: usize,
    /// Confidence level of the intervals.
    pub confidence: f64,
    /// Widen the intervals by the variance of shocks shared by whole sites, estimated from
    /// never-treated peer groups ([`site_level`]). Protocols registered before it existed read
    /// as false and keep their hash.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub site_level: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            neighbours: 3,
            pre_months: 24,
            event_before: 12,
            event_after: 24,
            confidence: 0.95,
            site_level: true,
        }
    }
}

/// One point of the event study.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
pub struct EventPoint {
    /// Months from the start (0 = the first treated month).
    pub k: i64,
    /// Relative effect (exp of the log difference − 1).
    pub estimate: f64,
    pub lower: f64,
    pub upper: f64,
    /// Standard error of the log difference (what the interval is built from).
    #[serde(default)]
    pub se: f64,
}

/// A cohort's estimate.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
pub struct CohortEstimate {
    pub start: usize,
    pub treated: usize,
    pub comparators: usize,
    pub log_effect: f64,
    pub se: f64,
}

/// The estimate.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
pub struct Estimate {
    /// Effect on the log rate, post against pre, treated against comparators.
    pub log_effect: f64,
    pub se: f64,
    /// Relative effect `exp(log_effect) − 1` and its interval.
    pub relative_effect: f64,
    pub lower: f64,
    pub upper: f64,
    pub confidence: f64,
    pub degrees_of_freedom: f64,
    pub treated_units: usize,
    pub comparator_units: usize,
    /// Comparator codes with the times each was matched.
    pub comparators: BTreeMap<String, usize>,
    pub cohorts: Vec<CohortEstimate>,
    pub event_study: Vec<EventPoint>,
    /// Standardised difference of the pre-period log rate between treated and matched
    /// comparators after matching (balance).
    pub balance_pre_level: f64,
    /// The standard deviation (log scale) of shocks shared by a whole site (system or
    /// commissioner) beyond the units' own noise, estimated from never-treated peer groups and
    /// added to `se` (see [`site_level`]); None when not estimated.
    #[serde(default)]
    pub site_level_sd: Option<f64>,
    /// How many never-treated peer groups that estimate came from.
    #[serde(default)]
    pub peer_groups: usize,
}

/// Shocks shared by a whole site, estimated from never-treated peer groups of units (the
/// systems or commissioners that host no site): each group's change in its pooled log rate from
/// the pre-period to the post-period, less the same change in all other never-treated units,
/// is a placebo effect; the variance of the placebo effects beyond what their units' own noise
/// explains (a method-of-moments estimate, as DerSimonian and Laird's τ², with the spread taken
/// robustly as the scaled median absolute deviation so that a few peer groups with changes of
/// their own do not swamp it) is the variance a site's effect carries because it is assigned to
/// a whole group, which unit-clustered errors cannot see.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SiteLevel {
    /// τ² on the log scale (zero when the placebo effects vary no more than their noise).
    pub tau2: f64,
    pub groups: usize,
}

/// [`SiteLevel`] from `groups` (unit indices) over periods `pre` and `post`; groups with a unit
/// that is not complete, or with no events, are left out. None with fewer than 5 groups.
pub fn site_level(
    units: &[Unit],
    groups: &[Vec<usize>],
    start: usize,
    periods: usize,
    pre_months: usize,
) -> Option<SiteLevel> {
    let first = start.saturating_sub(pre_months);
    let pre: Vec<usize> = (first..start).collect();
    let post: Vec<usize> = (start..periods).collect();
    let groups: Vec<Vec<(usize, f64)>> = groups
        .iter()
        .map(|g| {
            g.iter()
                .filter(|&&u| units[u].complete(first..periods))
                .map(|&u| (u, 1.0))
                .collect::<Vec<_>>()
        })
        .filter(|g: &Vec<(usize, f64)>| {
            !g.is_empty() && pooled(units, g, &pre).0 > 0.0 && pooled(units, g, &post).0 > 0.0
        })
        .collect();
    if groups.len() < 5 {
        return None;
    }
    // Each unit's pre- and post-period sums, once; a group's contrast is against the totals
    // of all other groups (the linearised influence of a unit on log(N/D) is n/N − d/D).
    let sums = |set: &[(usize, f64)]| -> Vec<[f64; 4]> {
        set.iter()
            .map(|&(u, _)| {
                let (a, b) = pooled(units, &[(u, 1.0)], &pre);
                let (c, d) = pooled(units, &[(u, 1.0)], &post);
                [a, b, c, d]
            })
            .collect()
    };
    let per_group: Vec<Vec<[f64; 4]>> = groups.iter().map(|g| sums(g)).collect();
    let add = |x: &[[f64; 4]]| {
        x.iter().fold([0.0; 4], |t, s| {
            [t[0] + s[0], t[1] + s[1], t[2] + s[2], t[3] + s[3]]
        })
    };
    let group_totals: Vec<[f64; 4]> = per_group.iter().map(|g| add(g)).collect();
    let all = add(&group_totals);
    let infl = |s: &[f64; 4], t: &[f64; 4]| (s[2] / t[2] - s[3] / t[3]) - (s[0] / t[0] - s[1] / t[1]);
    let log_change = |t: &[f64; 4]| (t[2] / t[3]).ln() - (t[0] / t[1]).ln();
    let units_in_groups: f64 = per_group.iter().map(|h| h.len() as f64).sum();
    let mut effects = Vec::new();
    let mut variances = Vec::new();
    for (i, g) in per_group.iter().enumerate() {
        let mine = group_totals[i];
        let rest = [
            all[0] - mine[0],
            all[1] - mine[1],
            all[2] - mine[2],
            all[3] - mine[3],
        ];
        if rest.iter().any(|x| *x <= 0.0) {
            return None;
        }
        effects.push(log_change(&mine) - log_change(&rest));
        let mut ss: f64 = g.iter().map(|s| infl(s, &mine).powi(2)).sum();
        for (j, h) in per_group.iter().enumerate() {
            if j != i {
                ss += h.iter().map(|s| infl(s, &rest).powi(2)).sum::<f64>();
            }
        }
        variances.push(ss * units_in_groups / (units_in_groups - 1.0).max(1.0));
    }
    // Robust to the few peer groups with a change of their own (an intervention elsewhere, a
    // merger): the spread is the scaled median absolute deviation, the noise the median.
    let median = |mut x: Vec<f64>| -> f64 {
        x.sort_by(f64::total_cmp);
        let n = x.len();
        if n % 2 == 1 {
            x[n / 2]
        } else {
            (x[n / 2 - 1] + x[n / 2]) / 2.0
        }
    };
    let centre = median(effects.clone());
    let spread = 1.482_602_218_505_602 * median(effects.iter().map(|e| (e - centre).abs()).collect());
    let noise = median(variances);
    Some(SiteLevel {
        tau2: (spread * spread - noise).max(0.0),
        groups: effects.len(),
    })
}

impl Estimate {
    /// Adds a site-level variance to the estimate's and every event-study point's, with
    /// Student's t on (peer groups − 1) degrees of freedom when fewer than the units'.
    pub fn widen(&mut self, site: SiteLevel) {
        self.degrees_of_freedom = self.degrees_of_freedom.min((site.groups as f64 - 1.0).max(1.0));
        let q = qt(0.5 + self.confidence / 2.0, self.degrees_of_freedom);
        self.se = (self.se * self.se + site.tau2).sqrt();
        self.lower = (self.log_effect - q * self.se).exp() - 1.0;
        self.upper = (self.log_effect + q * self.se).exp() - 1.0;
        for p in &mut self.event_study {
            let est = (1.0 + p.estimate).ln();
            p.se = (p.se * p.se + site.tau2).sqrt();
            p.lower = (est - q * p.se).exp() - 1.0;
            p.upper = (est + q * p.se).exp() - 1.0;
        }
        self.site_level_sd = Some(site.tau2.sqrt());
        self.peer_groups = site.groups;
    }
}

/// Sums of a set of units (with frequency weights) over periods.
fn pooled(units: &[Unit], set: &[(usize, f64)], periods: &[usize]) -> (f64, f64) {
    let mut n = 0.0;
    let mut d = 0.0;
    for &(u, c) in set {
        for &t in periods {
            n += c * units[u].num[t].unwrap_or(0.0);
            d += c * units[u].den[t].unwrap_or(0.0);
        }
    }
    (n, d)
}

/// Linearised influence of each unit of `set` on `log(Σn/Σd)` over `periods`.
fn influence(
    units: &[Unit],
    set: &[(usize, f64)],
    periods: &[usize],
    into: &mut BTreeMap<usize, f64>,
    sign: f64,
) -> f64 {
    let (n, d) = pooled(units, set, periods);
    // An empty pool (no events) has no log rate; callers refuse before this (see `estimate`).
    let r = if n > 0.0 && d > 0.0 {
        n / d
    } else {
        f64::MIN_POSITIVE
    };
    for &(u, c) in set {
        let (nu, du) = pooled(units, &[(u, c)], periods);
        *into.entry(u).or_insert(0.0) += sign * (nu - r * du) / (r * d);
    }
    r.ln()
}

fn log_rate(units: &[Unit], u: usize, periods: &[usize]) -> f64 {
    let (n, d) = pooled(units, &[(u, 1.0)], periods);
    ((n + 0.5) / d).ln()
}

/// The pre-period level and trend of a unit's log rate, and its need.
fn features(units: &[Unit], u: usize, pre: &[usize]) -> Vec<f64> {
    let half = pre.len() / 2;
    let early = log_rate(units, u, &pre[..half.max(1)]);
    let late = log_rate(units, u, &pre[half.min(pre.len() - 1)..]);
    let mut f = vec![log_rate(units, u, pre), late - early];
    if let Some(n) = units[u].need {
        f.push(n);
    }
    f
}

/// Student's t quantile (Cornish–Fisher expansion; exact for 1 and 2 degrees of freedom).
pub fn qt(p: f64, df: f64) -> f64 {
    if df >= 1e6 {
        return stats::dist::qnorm(p);
    }
    if (df - 1.0).abs() < 1e-12 {
        return (std::f64::consts::PI * (p - 0.5)).tan();
    }
    if (df - 2.0).abs() < 1e-12 {
        return (2.0 * p - 1.0) / (2.0 * p * (1.0 - p)).sqrt();
    }
    let z = stats::dist::qnorm(p);
    let (z2, v) = (z * z, df);
    let g1 = (z2 + 1.0) * z / 4.0;
    let g2 = ((5.0 * z2 + 16.0) * z2 + 3.0) * z / 96.0;
    let g3 = (((3.0 * z2 + 19.0) * z2 + 17.0) * z2 - 15.0) * z / 384.0;
    let g4 = ((((79.0 * z2 + 776.0) * z2 + 1482.0) * z2 - 1920.0) * z2 - 945.0) * z / 92160.0;
    z + g1 / v + g2 / (v * v) + g3 / (v * v * v) + g4 / (v * v * v * v)
}

/// Estimates the effect for the cohorts against never-treated comparators. `periods` is the
/// number of periods of every unit.
pub fn estimate(
    units: &[Unit],
    cohorts: &[Cohort],
    periods: usize,
    options: &Options,
) -> crate::Result<Estimate> {
    let refuse = |m: String| crate::Error::Refused(m);
    let treated_any: std::collections::BTreeSet<usize> =
        cohorts.iter().flat_map(|c| c.treated.iter().copied()).collect();
    let mut parts = Vec::new();
    let mut weights = Vec::new();
    let mut all_comparators: BTreeMap<usize, usize> = BTreeMap::new();
    // Influence of each unit on the combined estimate, accumulated per cohort weight later.
    let mut per_cohort_influence: Vec<BTreeMap<usize, f64>> = Vec::new();
    let mut cohort_out = Vec::new();
    let mut balance = Vec::new();
    // Month from the start → each cohort's (estimate, weight, influence of each unit).
    type Parts = Vec<(f64, f64, BTreeMap<usize, f64>)>;
    let mut event: BTreeMap<i64, Parts> = BTreeMap::new();
    for c in cohorts {
        if c.start == 0 || c.start >= periods {
            return Err(refuse(format!(
                "a cohort starts at period {} of {periods}: it needs periods before and after",
                c.start
            )));
        }
        let first = c.start.saturating_sub(options.pre_months);
        let pre: Vec<usize> = (first..c.start).collect();
        let post: Vec<usize> = (c.start..periods).collect();
        let treated: Vec<usize> = c
            .treated
            .iter()
            .copied()
            .filter(|&u| units[u].complete(first..periods))
            .collect();
        if treated.is_empty() {
            return Err(refuse(format!(
                "no treated unit starting at period {} has a complete series",
                c.start
            )));
        }
        let pool: Vec<usize> = (0..units.len())
            .filter(|u| !treated_any.contains(u))
            .filter(|&u| units[u].complete(first..periods))
            .collect();
        if pool.len() < options.neighbours.max(1) {
            return Err(refuse(format!(
                "{} never-treated units with a complete series: too few comparators",
                pool.len()
            )));
        }
        // Nearest neighbours on standardised features.
        let feats: BTreeMap<usize, Vec<f64>> = treated
            .iter()
            .chain(&pool)
            .map(|&u| (u, features(units, u, &pre)))
            .collect();
        let k = feats.values().next().map_or(0, Vec::len);
        let sds: Vec<f64> = (0..k)
            .map(|j| {
                let xs: Vec<f64> = feats.values().map(|f| f[j]).collect();
                let m = xs.iter().sum::<f64>() / xs.len() as f64;
                let v = xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (xs.len() as f64 - 1.0).max(1.0);
                if v > 0.0 { v.sqrt() } else { 1.0 }
            })
            .collect();
        let mut matched: BTreeMap<usize, usize> = BTreeMap::new();
        // The pool's standardised features, in pool order (the inner loop runs treated × pool).
        let scaled = |u: usize| -> Vec<f64> { (0..k).map(|j| feats[&u][j] / sds[j]).collect() };
        let pool_feats: Vec<Vec<f64>> = pool.iter().map(|&p| scaled(p)).collect();
        let mut dist: Vec<(f64, usize)> = Vec::with_capacity(pool.len());
        let by_distance = |a: &(f64, usize), b: &(f64, usize)| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1));
        for &u in &treated {
            let fu = scaled(u);
            dist.clear();
            dist.extend(pool.iter().zip(&pool_feats).map(|(&p, fp)| {
                let d: f64 = fu.iter().zip(fp).map(|(a, b)| (a - b) * (a - b)).sum();
                (d, p)
            }));
            // The nearest `neighbours` (ties to the lower index), without sorting the pool.
            let n = options.neighbours.min(dist.len());
            if n > 0 && n < dist.len() {
                dist.select_nth_unstable_by(n - 1, by_distance);
            }
            dist[..n].sort_by(by_distance);
            for &(_, p) in &dist[..n] {
                *matched.entry(p).or_insert(0) += 1;
            }
        }
        let tset: Vec<(usize, f64)> = treated.iter().map(|&u| (u, 1.0)).collect();
        let cset: Vec<(usize, f64)> = matched.iter().map(|(&u, &n)| (u, n as f64)).collect();
        for (who, set) in [("treated", &tset), ("comparator", &cset)] {
            for t in c.start.saturating_sub(options.pre_months)..periods {
                if pooled(units, set, &[t]).0 <= 0.0 {
                    return Err(refuse(format!(
                        "the {who} units have no events in period {t}: too small to estimate on the log scale"
                    )));
                }
            }
        }
        {
            let lt: Vec<f64> = treated.iter().map(|&u| feats[&u][0]).collect();
            let lc: Vec<f64> = cset.iter().map(|&(u, _)| feats[&u][0]).collect();
            let mt = lt.iter().sum::<f64>() / lt.len() as f64;
            let mc = cset.iter().map(|&(u, w)| w * feats[&u][0]).sum::<f64>()
                / cset.iter().map(|x| x.1).sum::<f64>();
            let sd = ((variance(&lt) + variance(&lc)) / 2.0).sqrt();
            balance.push(if sd > 0.0 { (mt - mc) / sd } else { 0.0 });
        }
        let mut infl = BTreeMap::new();
        let lt_post = influence(units, &tset, &post, &mut infl, 1.0);
        let lt_pre = influence(units, &tset, &pre, &mut infl, -1.0);
        let lc_post = influence(units, &cset, &post, &mut infl, -1.0);
        let lc_pre = influence(units, &cset, &pre, &mut infl, 1.0);
        let att = (lt_post - lt_pre) - (lc_post - lc_pre);
        let g = infl.len() as f64;
        let var: f64 = infl.values().map(|x| x * x).sum::<f64>() * g / (g - 1.0).max(1.0);
        // Event study, relative to the whole pre-period.
        let before = options.event_before.min(c.start) as i64;
        let after = options.event_after.min(periods - 1 - c.start) as i64;
        for kk in -before..=after {
            let t = (c.start as i64 + kk) as usize;
            let mut ei = BTreeMap::new();
            let a = influence(units, &tset, &[t], &mut ei, 1.0);
            let b = influence(units, &tset, &pre, &mut ei, -1.0);
            let cc = influence(units, &cset, &[t], &mut ei, -1.0);
            let d = influence(units, &cset, &pre, &mut ei, 1.0);
            let w = pooled(units, &tset, &post).1;
            event.entry(kk).or_default().push(((a - b) - (cc - d), w, ei));
        }
        let tw = pooled(units, &tset, &post).1;
        for (&u, &n) in &matched {
            *all_comparators.entry(u).or_insert(0) += n;
        }
        cohort_out.push(CohortEstimate {
            start: c.start,
            treated: treated.len(),
            comparators: matched.len(),
            log_effect: att,
            se: var.sqrt(),
        });
        parts.push(att);
        weights.push(tw);
        per_cohort_influence.push(infl);
    }
    let total: f64 = weights.iter().sum();
    let pi: Vec<f64> = weights.iter().map(|w| w / total).collect();
    let att: f64 = parts.iter().zip(&pi).map(|(a, p)| a * p).sum();
    let combined = combine(&per_cohort_influence, &pi);
    let g = combined.len() as f64;
    let var: f64 = combined.values().map(|x| x * x).sum::<f64>() * g / (g - 1.0).max(1.0);
    let se = var.sqrt();
    let treated_units: usize = cohort_out.iter().map(|c| c.treated).sum();
    let df = (treated_units.min(all_comparators.len()) as f64 - 1.0).max(1.0);
    let q = qt(0.5 + options.confidence / 2.0, df);
    let event_study = event
        .into_iter()
        .map(|(k, parts)| {
            let tw: f64 = parts.iter().map(|p| p.1).sum();
            let pis: Vec<f64> = parts.iter().map(|p| p.1 / tw).collect();
            let est: f64 = parts.iter().zip(&pis).map(|(p, w)| p.0 * w).sum();
            let infl: Vec<BTreeMap<usize, f64>> = parts.into_iter().map(|p| p.2).collect();
            let comb = combine(&infl, &pis);
            let g = comb.len() as f64;
            let se = (comb.values().map(|x| x * x).sum::<f64>() * g / (g - 1.0).max(1.0)).sqrt();
            EventPoint {
                k,
                estimate: est.exp() - 1.0,
                lower: (est - q * se).exp() - 1.0,
                upper: (est + q * se).exp() - 1.0,
                se,
            }
        })
        .collect();
    Ok(Estimate {
        log_effect: att,
        se,
        relative_effect: att.exp() - 1.0,
        lower: (att - q * se).exp() - 1.0,
        upper: (att + q * se).exp() - 1.0,
        confidence: options.confidence,
        degrees_of_freedom: df,
        treated_units,
        comparator_units: all_comparators.len(),
        comparators: all_comparators
            .into_iter()
            .map(|(u, n)| (units[u].code.clone(), n))
            .collect(),
        cohorts: cohort_out,
        event_study,
        balance_pre_level: balance
            .iter()
            .fold(0.0f64, |m, b| if b.abs() > m.abs() { *b } else { m }),
        site_level_sd: None,
        peer_groups: 0,
    })
}

fn combine(parts: &[BTreeMap<usize, f64>], pi: &[f64]) -> BTreeMap<usize, f64> {
    let mut out = BTreeMap::new();
    for (m, p) in parts.iter().zip(pi) {
        for (&u, &x) in m {
            *out.entry(u).or_insert(0.0) += p * x;
        }
    }
    out
}

fn variance(x: &[f64]) -> f64 {
    if x.len() < 2 {
        return 0.0;
    }
    let m = x.iter().sum::<f64>() / x.len() as f64;
    x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (x.len() as f64 - 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles() {
        // R: qt(0.975, c(1, 2, 5, 14, 30, 120))
        for (df, want) in [
            (1.0, 12.706204736174705),
            (2.0, 4.302652729749464),
            (5.0, 2.570581835636314),
            (14.0, 2.1447866879169277),
            (30.0, 2.0422724563012373),
            (120.0, 1.9799304050824413),
        ] {
            let got = qt(0.975, df);
            assert!((got - want).abs() < 2e-3 * want, "df {df}: {got} vs {want}");
        }
    }
}
