//! Risk-sharing terms as data: versioned TOML files, validated with precise errors.
//!
//! Five kinds of arrangement (`kind = ...`), documented with examples in `docs/budgets.md`
//! and `examples/terms/`:
//!
//! - `gain_loss_share`: the variance of an outturn against a target, outside a dead band,
//!   split among parties by their gain and loss shares (with caps); one `remainder` party
//!   takes what the others do not.
//! - `risk_corridor`: ACA-style corridors on the first party's costs: a share of the costs in
//!   each band above the target is paid to it, mirrored below when `symmetric`.
//! - `pooled_budget`: Better Care Fund style: contributions, a minimum pool, a performance
//!   element earned by reducing emergency admissions against an ambition, and where the
//!   unearned money goes.
//! - `alliance_budget`: one budget for an alliance of providers, paid out by an agreed rule
//!   (fixed sums, activity shares, a quality payment) with the alliance's gain or loss
//!   shared among its members.
//!
//! Every kind may add a `[stop_loss]` (a high-cost patient pool), a `[minimum_savings_rate]`
//! (MSSP-style, interpolated by population size), and a `cap` / `collar` on transfers.

use serde::Deserialize;
use std::path::Path;

/// The terms format this version of Footprint reads.
pub const FORMAT: u32 = 1;

#[derive(Debug, thiserror::Error)]
#[error("{file}: {message}")]
pub struct TermsError {
    pub file: String,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadBandMode {
    /// Once the variance is outside the band, all of it is shared.
    Threshold,
    /// Only the part of the variance beyond the band is shared.
    Excess,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Party {
    pub name: String,
    /// Share of a gain (outturn below target) paid to this party.
    #[serde(default)]
    pub gain_share: Option<f64>,
    /// Share of a loss (outturn above target) this party bears.
    #[serde(default)]
    pub loss_share: Option<f64>,
    /// The most this party can lose, in pounds.
    #[serde(default)]
    pub loss_cap: Option<f64>,
    /// The most this party can gain, in pounds.
    #[serde(default)]
    pub gain_cap: Option<f64>,
    /// Takes whatever the other parties' shares leave (including what caps cut off).
    #[serde(default)]
    pub remainder: bool,
    /// Risk corridor counterparties: the share of the transfer this party funds.
    #[serde(default)]
    pub share: Option<f64>,
    /// Alliance members: a fixed payment, in pounds.
    #[serde(default)]
    pub fixed: Option<f64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Corridor {
    /// Lower edge, as a share of the target (0.03 = 3% over target).
    pub from: f64,
    /// Upper edge; open-ended when absent.
    #[serde(default)]
    pub to: Option<f64>,
    /// Share of the costs in the band that is paid to (or, below target, by) the first party.
    pub share: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StopLoss {
    /// A patient's annual cost above which the pool pays, in pounds.
    pub attachment: f64,
    /// The share of the cost above the attachment point that the pool pays.
    pub share: f64,
    /// Who funds the pool (a party name or an outside body).
    pub funder: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MinimumSavingsRate {
    /// Registered population the rate is looked up for.
    pub population: f64,
    /// `[population, rate]` points, increasing in population; interpolated linearly and held
    /// flat beyond the ends.
    pub points: Vec<[f64; 2]>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contribution {
    pub party: String,
    pub amount: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Performance {
    /// The performance element, in pounds, held back from the pool.
    pub amount: f64,
    /// Emergency admissions in the baseline year.
    pub baseline_admissions: f64,
    /// The ambition: the share by which admissions are to fall (0.035 = 3.5%).
    pub ambition: f64,
    /// `pro_rata` (paid in proportion to the reduction achieved, up to the ambition) or
    /// `all_or_nothing`.
    #[serde(default = "pro_rata")]
    pub payment: String,
    /// Who receives the earned money (spent through the pool).
    pub recipient: String,
    /// Who receives the unearned money (to pay for the admissions not avoided).
    pub unearned_to: String,
}

fn pro_rata() -> String {
    "pro_rata".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Quality {
    /// The quality payment, in pounds, paid by each member's quality score (0–1) times its
    /// activity share.
    pub amount: f64,
    /// Who keeps quality money not earned.
    pub unearned_to: String,
}

/// One arrangement, as written in a terms file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Terms {
    /// Terms format version (1, the default).
    #[serde(default = "format_one")]
    pub format: u32,
    pub kind: Kind,
    #[serde(default)]
    pub name: Option<String>,
    /// What the arrangement is about, for people reading it.
    #[serde(default)]
    pub description: Option<String>,
    /// The target (or budget), in pounds.
    #[serde(default)]
    pub target: Option<f64>,
    #[serde(default)]
    pub dead_band: Option<f64>,
    #[serde(default)]
    pub dead_band_mode: Option<DeadBandMode>,
    #[serde(default)]
    pub symmetric: Option<bool>,
    /// The most paid to the measured party / shared as a gain overall, in pounds.
    #[serde(default)]
    pub cap: Option<f64>,
    /// The most paid by the measured party / shared as a loss overall, in pounds.
    #[serde(default)]
    pub collar: Option<f64>,
    #[serde(default)]
    pub party: Vec<Party>,
    #[serde(default)]
    pub corridor: Vec<Corridor>,
    #[serde(default)]
    pub stop_loss: Option<StopLoss>,
    #[serde(default)]
    pub minimum_savings_rate: Option<MinimumSavingsRate>,
    #[serde(default)]
    pub contribution: Vec<Contribution>,
    #[serde(default)]
    pub minimum_pool: Option<f64>,
    #[serde(default)]
    pub performance: Option<Performance>,
    /// Alliance: the part of the budget paid by activity share.
    #[serde(default)]
    pub variable: Option<f64>,
    #[serde(default)]
    pub quality: Option<Quality>,
    /// How outturns vary, for `footprint budgets simulate`.
    #[serde(default)]
    pub simulation: Option<crate::simulate::Uncertainty>,
}

fn format_one() -> u32 {
    1
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    GainLossShare,
    RiskCorridor,
    PooledBudget,
    AllianceBudget,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::GainLossShare => "gain_loss_share",
            Kind::RiskCorridor => "risk_corridor",
            Kind::PooledBudget => "pooled_budget",
            Kind::AllianceBudget => "alliance_budget",
        }
    }
}

impl Terms {
    /// Reads and validates a terms file.
    pub fn read(path: &Path) -> Result<Terms, TermsError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| TermsError {
            file: file.clone(),
            message: format!("cannot read: {e}"),
        })?;
        Terms::parse(&text, &file)
    }

    /// Parses and validates terms; `file` names them in errors.
    pub fn parse(text: &str, file: &str) -> Result<Terms, TermsError> {
        let terms: Terms = toml::from_str(text).map_err(|e| TermsError {
            file: file.to_string(),
            message: e.to_string().trim_end().replace('\n', " "),
        })?;
        let problems = terms.problems();
        if problems.is_empty() {
            Ok(terms)
        } else {
            Err(TermsError {
                file: file.to_string(),
                message: problems.join("; "),
            })
        }
    }

    /// Every rule the terms break, as `key: value: rule`.
    fn problems(&self) -> Vec<String> {
        let mut p = Vec::new();
        let mut bad = |key: &str, value: String, rule: &str| p.push(format!("{key}: {value}: {rule}"));
        if self.format != FORMAT {
            bad(
                "format",
                self.format.to_string(),
                "this version of Footprint reads terms format 1",
            );
        }
        let share = |v: f64| (0.0..=1.0).contains(&v);
        let money = |v: f64| v.is_finite() && v >= 0.0;
        for (key, v) in [
            ("target", self.target),
            ("cap", self.cap),
            ("collar", self.collar),
            ("minimum_pool", self.minimum_pool),
            ("variable", self.variable),
        ] {
            if let Some(v) = v
                && !money(v)
            {
                bad(key, v.to_string(), "must be an amount ≥ 0");
            }
        }
        if let Some(v) = self.dead_band
            && !share(v)
        {
            bad(
                "dead_band",
                v.to_string(),
                "must be a share of the target between 0 and 1",
            );
        }
        let needs_target = matches!(
            self.kind,
            Kind::GainLossShare | Kind::RiskCorridor | Kind::AllianceBudget
        );
        if needs_target && self.target.is_none() {
            bad(
                "target",
                "missing".into(),
                "this kind of arrangement needs a target",
            );
        }
        let mut names = std::collections::BTreeSet::new();
        for (i, party) in self.party.iter().enumerate() {
            let key = |k: &str| format!("party[{}].{k}", i + 1);
            if party.name.trim().is_empty() {
                bad(&key("name"), "\"\"".into(), "a party needs a name");
            } else if !names.insert(party.name.as_str()) {
                bad(
                    &key("name"),
                    format!("{:?}", party.name),
                    "two parties have this name",
                );
            }
            for (k, v) in [
                ("gain_share", party.gain_share),
                ("loss_share", party.loss_share),
                ("share", party.share),
            ] {
                if let Some(v) = v
                    && !share(v)
                {
                    bad(&key(k), v.to_string(), "must be a share between 0 and 1");
                }
            }
            for (k, v) in [
                ("loss_cap", party.loss_cap),
                ("gain_cap", party.gain_cap),
                ("fixed", party.fixed),
            ] {
                if let Some(v) = v
                    && !money(v)
                {
                    bad(&key(k), v.to_string(), "must be an amount ≥ 0");
                }
            }
            if party.remainder && (party.gain_share.is_some() || party.loss_share.is_some()) {
                bad(
                    &key("remainder"),
                    "true".into(),
                    "the remainder party takes what is left; give it no gain_share or loss_share",
                );
            }
        }
        match self.kind {
            Kind::GainLossShare | Kind::AllianceBudget => {
                if self.party.is_empty() {
                    bad("party", "none".into(), "at least one [[party]] is needed");
                }
                let remainders = self.party.iter().filter(|p| p.remainder).count();
                if remainders > 1 {
                    bad(
                        "party",
                        format!("{remainders} remainder parties"),
                        "at most one party may be the remainder",
                    );
                }
                for (side, total) in [
                    (
                        "gain_share",
                        self.party.iter().filter_map(|p| p.gain_share).sum::<f64>(),
                    ),
                    (
                        "loss_share",
                        self.party.iter().filter_map(|p| p.loss_share).sum::<f64>(),
                    ),
                ] {
                    if total > 1.0 + 1e-9 {
                        bad(
                            &format!("party.{side}"),
                            format!("{total}"),
                            "the shares add up to more than 1",
                        );
                    } else if remainders == 0 && (total - 1.0).abs() > 1e-9 {
                        bad(
                            &format!("party.{side}"),
                            format!("{total}"),
                            "without a remainder party the shares must add up to 1",
                        );
                    }
                }
                if self.kind == Kind::GainLossShare
                    && self.dead_band.is_some()
                    && self.dead_band_mode.is_none()
                {
                    bad(
                        "dead_band_mode",
                        "missing".into(),
                        "say \"threshold\" or \"excess\" with a dead_band",
                    );
                }
            }
            Kind::RiskCorridor => {
                if self.party.len() < 2 {
                    bad(
                        "party",
                        format!("{} parties", self.party.len()),
                        "a risk corridor needs the measured party first and at least one counterparty",
                    );
                }
                if self.corridor.is_empty() {
                    bad("corridor", "none".into(), "at least one [[corridor]] is needed");
                }
                let mut last = 0.0;
                for (i, c) in self.corridor.iter().enumerate() {
                    let key = |k: &str| format!("corridor[{}].{k}", i + 1);
                    if c.from.is_nan() || c.from < last - 1e-12 {
                        bad(
                            &key("from"),
                            c.from.to_string(),
                            "corridors must not overlap and must be in increasing order",
                        );
                    }
                    if !share(c.share) {
                        bad(
                            &key("share"),
                            c.share.to_string(),
                            "must be a share between 0 and 1",
                        );
                    }
                    match c.to {
                        Some(to) if to <= c.from => {
                            bad(&key("to"), to.to_string(), "must be above from");
                        }
                        Some(to) => last = to,
                        None if i + 1 < self.corridor.len() => {
                            bad(
                                &key("to"),
                                "missing".into(),
                                "only the last corridor may be open-ended",
                            );
                        }
                        None => {}
                    }
                }
                let counter: Vec<Option<f64>> = self.party.iter().skip(1).map(|p| p.share).collect();
                if counter.iter().any(Option::is_some) {
                    let total: f64 = counter.iter().map(|s| s.unwrap_or(0.0)).sum();
                    if counter.iter().any(Option::is_none) || (total - 1.0).abs() > 1e-9 {
                        bad(
                            "party.share",
                            format!("{total}"),
                            "give every counterparty a share, adding up to 1 (or none, for equal shares)",
                        );
                    }
                }
            }
            Kind::PooledBudget => {
                if self.contribution.is_empty() {
                    bad(
                        "contribution",
                        "none".into(),
                        "at least one [[contribution]] is needed",
                    );
                }
                for (i, c) in self.contribution.iter().enumerate() {
                    if !money(c.amount) {
                        bad(
                            &format!("contribution[{}].amount", i + 1),
                            c.amount.to_string(),
                            "must be an amount ≥ 0",
                        );
                    }
                }
                let pool: f64 = self.contribution.iter().map(|c| c.amount).sum();
                if let Some(min) = self.minimum_pool
                    && pool < min
                {
                    bad(
                        "contribution",
                        format!("{pool}"),
                        &format!("the contributions are below the minimum pool of {min}"),
                    );
                }
                match &self.performance {
                    None => bad(
                        "performance",
                        "missing".into(),
                        "a pooled budget needs a [performance] element",
                    ),
                    Some(perf) => {
                        if !money(perf.amount) || perf.amount > pool {
                            bad(
                                "performance.amount",
                                perf.amount.to_string(),
                                "must be ≥ 0 and within the pool",
                            );
                        }
                        if !positive(perf.baseline_admissions) {
                            bad(
                                "performance.baseline_admissions",
                                perf.baseline_admissions.to_string(),
                                "must be > 0",
                            );
                        }
                        if !(positive(perf.ambition) && perf.ambition < 1.0) {
                            bad(
                                "performance.ambition",
                                perf.ambition.to_string(),
                                "must be a share between 0 and 1",
                            );
                        }
                        if perf.payment != "pro_rata" && perf.payment != "all_or_nothing" {
                            bad(
                                "performance.payment",
                                format!("{:?}", perf.payment),
                                "must be \"pro_rata\" or \"all_or_nothing\"",
                            );
                        }
                    }
                }
            }
        }
        if self.kind == Kind::AllianceBudget {
            let fixed: f64 = self.party.iter().filter_map(|p| p.fixed).sum();
            let quality = self.quality.as_ref().map_or(0.0, |q| q.amount);
            let paid = fixed + self.variable.unwrap_or(0.0) + quality;
            if let Some(target) = self.target
                && (paid - target).abs() > 0.5
            {
                bad(
                    "target",
                    format!("{target}"),
                    &format!(
                        "the fixed payments, variable part and quality payment add up to {paid}, not the budget"
                    ),
                );
            }
        }
        if let Some(s) = &self.stop_loss {
            if !positive(s.attachment) {
                bad("stop_loss.attachment", s.attachment.to_string(), "must be > 0");
            }
            if !share(s.share) {
                bad(
                    "stop_loss.share",
                    s.share.to_string(),
                    "must be a share between 0 and 1",
                );
            }
        }
        if let Some(m) = &self.minimum_savings_rate {
            if m.points.is_empty() {
                bad(
                    "minimum_savings_rate.points",
                    "[]".into(),
                    "at least one [population, rate] point is needed",
                );
            }
            if m.points.windows(2).any(|w| w[1][0] <= w[0][0]) {
                bad(
                    "minimum_savings_rate.points",
                    format!("{:?}", m.points),
                    "populations must increase",
                );
            }
            if m.points.iter().any(|p| !share(p[1])) {
                bad(
                    "minimum_savings_rate.points",
                    format!("{:?}", m.points),
                    "rates must be shares between 0 and 1",
                );
            }
            if !positive(m.population) {
                bad(
                    "minimum_savings_rate.population",
                    m.population.to_string(),
                    "must be > 0",
                );
            }
        }
        p
    }

    /// The party names, in order.
    pub fn party_names(&self) -> Vec<String> {
        match self.kind {
            Kind::PooledBudget => {
                let mut names: Vec<String> = Vec::new();
                let mut add = |n: &str| {
                    if !names.iter().any(|x| x == n) {
                        names.push(n.to_string());
                    }
                };
                for c in &self.contribution {
                    add(&c.party);
                }
                if let Some(p) = &self.performance {
                    add(&p.recipient);
                    add(&p.unearned_to);
                }
                names
            }
            _ => self.party.iter().map(|p| p.name.clone()).collect(),
        }
    }
}

/// Greater than zero (and so not NaN).
fn positive(x: f64) -> bool {
    x > 0.0
}

/// The minimum savings rate for a population: linear between the points, flat beyond.
pub fn interpolate(points: &[[f64; 2]], population: f64) -> f64 {
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return 0.0;
    };
    if population <= first[0] {
        return first[1];
    }
    if population >= last[0] {
        return last[1];
    }
    for w in points.windows(2) {
        let ([x0, y0], [x1, y1]) = (w[0], w[1]);
        if population <= x1 {
            return y0 + (y1 - y0) * (population - x0) / (x1 - x0);
        }
    }
    last[1]
}
