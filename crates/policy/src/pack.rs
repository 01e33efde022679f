//! Policy packs: versioned TOML files that say how organisations and systems are scored,
//! rated, segmented and categorised, and what reporting each outcome brings. The format is
//! documented in `docs/policy-pack.md`; the shipped packs are in `packs/`.

use serde::Deserialize;
use std::path::Path;

pub const FORMAT: u32 = 1;

#[derive(Debug, thiserror::Error)]
#[error("{file}: {message}")]
pub struct PackError {
    pub file: String,
    pub message: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pack {
    #[serde(default = "one")]
    pub format: u32,
    pub id: String,
    pub title: String,
    /// What the pack encodes and where it comes from.
    pub source: String,
    /// Where the pack approximates its source.
    #[serde(default)]
    pub approximations: Vec<String>,
    /// Entity kinds assessed (`organisation`, `system`).
    pub entity_kind: String,
    /// For organisations: the organisation kinds assessed (all if empty).
    #[serde(default)]
    pub org_kinds: Vec<String>,
    /// The grain of the period assessed (`financial_year`, `quarter`, `month`).
    pub grain: String,
    #[serde(default)]
    pub domain: Vec<Domain>,
    /// How domain scores combine into the overall score.
    #[serde(default)]
    pub overall: Combine,
    /// `segment`, `rating` or `category`.
    pub outcome: Outcome,
    #[serde(default)]
    pub rating: Vec<RatingBand>,
    #[serde(default)]
    pub segments: Option<Segments>,
    #[serde(default)]
    pub category: Vec<Category>,
    /// For system packs: the pack whose organisation segments `members_in_segment` counts
    /// (assessed in the same run, before this one).
    #[serde(default)]
    pub members: Option<String>,
    #[serde(default, rename = "override")]
    pub overrides: Vec<Override>,
    #[serde(default)]
    pub regime: Vec<Regime>,
    /// Segments decided by the intervention register: an open intervention of a kind listed
    /// here places its target in the segment at the next assessment.
    #[serde(default, rename = "decision")]
    pub decisions: Vec<RegisterDecision>,
}

/// `[[decision]] intervention_kind = "special_measures"`, `segment = 4`: the register's
/// decisions a segment pack follows.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterDecision {
    /// An intervention kind of the register (`special_measures`, ...).
    pub intervention_kind: String,
    /// The segment an open intervention of this kind places its target in.
    pub segment: u32,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Segment,
    Rating,
    Category,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Domain {
    pub id: String,
    pub title: String,
    #[serde(default = "unit_weight")]
    pub weight: f64,
    #[serde(default)]
    pub combine: Combine,
    #[serde(default)]
    pub metric: Vec<Metric>,
}

fn unit_weight() -> f64 {
    1.0
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Combine {
    #[serde(default)]
    pub aggregate: Aggregate,
    #[serde(default)]
    pub rounding: Rounding,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Aggregate {
    #[default]
    Mean,
    WeightedMean,
    /// The worst (highest) score.
    Worst,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Rounding {
    #[default]
    None,
    /// To the nearest whole score, halves up (towards worse).
    Nearest,
    Floor,
    Ceil,
    /// To two decimal places.
    Hundredths,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metric {
    pub indicator: String,
    #[serde(default = "unit_weight")]
    pub weight: f64,
    pub method: Method,
    /// `higher` or `lower` is better (quantile, rank and significance).
    #[serde(default)]
    pub direction: Option<String>,
    /// Thresholds: conditions like ">= 2.5", checked in order; the first met gives score
    /// 1, the second 2, and so on; none met gives one more than their number.
    #[serde(default)]
    pub bands: Vec<String>,
    /// Quantile: how many groups (4 quartiles, 10 deciles).
    #[serde(default)]
    pub groups: Option<u32>,
    /// Significance: the benchmark (default: England's value for the same period).
    #[serde(default)]
    pub benchmark: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    Thresholds,
    Quantile,
    Rank,
    Significance,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RatingBand {
    pub name: String,
    /// The highest overall score with this rating.
    pub max_score: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Segments {
    /// `round` (the overall score rounded) or `quartile` (quartile of the overall score
    /// among peers of the same group).
    pub method: String,
    /// Peer groups for `quartile`: organisation kinds mapped to a group name.
    #[serde(default)]
    pub groups: std::collections::BTreeMap<String, String>,
    /// The worst segment the scores can give; worse ones only by override or decision.
    #[serde(default = "three")]
    pub worst_scored: u32,
}

fn three() -> u32 {
    3
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Category {
    pub name: String,
    /// Any of these conditions puts the entity in the category.
    #[serde(default)]
    pub any: Vec<Condition>,
    /// All of these conditions must hold.
    #[serde(default)]
    pub all: Vec<Condition>,
}

/// A condition on an entity's indicators, signals or members.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// An indicator of the entity compared with a value: `indicator`, `op`, `value`.
    #[serde(default)]
    pub indicator: Option<String>,
    #[serde(default)]
    pub op: Option<String>,
    #[serde(default)]
    pub value: Option<f64>,
    /// Members (organisations of a system) assessed by `member_pack` with a segment in this
    /// list: counted against `at_least` / `at_most`.
    #[serde(default)]
    pub members_in_segment: Vec<u32>,
    /// These indicators significantly worse than England: beyond the funnel's 99.8% limit on
    /// the worse side when the signals table is there, else the 95% interval wholly on the
    /// worse side. Counted against `at_least` / `at_most`.
    #[serde(default)]
    pub worse_than_england: Vec<String>,
    #[serde(default)]
    pub at_least: Option<u32>,
    #[serde(default)]
    pub at_most: Option<u32>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Override {
    pub id: String,
    /// What it says, in words (shown in explanations).
    pub text: String,
    /// `metric_score_floor` (a metric of `domain` scoring `metric_score` or worse makes the
    /// domain no better than `floor`); `control_total` (no agreed control total: no better
    /// than `deficit_floor` when planning a deficit, `surplus_floor` when planning a surplus);
    /// `indicator_floor` (when `indicator op value`, the `target` — `overall`, `segment` or
    /// a domain id — is no better than `floor`); `domain_floor` (a domain scoring `at_least`
    /// or worse makes the overall score no better than `floor`).
    pub kind: String,
    #[serde(default)]
    pub domain: Option<String>,
    #[serde(default)]
    pub metric_score: Option<f64>,
    #[serde(default)]
    pub floor: Option<f64>,
    #[serde(default)]
    pub indicator: Option<String>,
    #[serde(default)]
    pub op: Option<String>,
    #[serde(default)]
    pub value: Option<f64>,
    #[serde(default)]
    pub target: Option<String>,
    #[serde(default)]
    pub at_least: Option<f64>,
    /// control_total: the agreement indicator (100 agreed, 0 not).
    #[serde(default)]
    pub agreed: Option<String>,
    /// control_total: the planned margin is `margin` less `distance` (both indicators).
    #[serde(default)]
    pub margin: Option<String>,
    #[serde(default)]
    pub distance: Option<String>,
    #[serde(default)]
    pub deficit_floor: Option<f64>,
    /// indicator_floor: read the indicator at its latest period of this grain instead of the
    /// assessed period (e.g. the latest CQC rating).
    #[serde(default)]
    pub grain: Option<String>,
    #[serde(default)]
    pub surplus_floor: Option<f64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Regime {
    /// The outcome it applies to: a segment number, rating or category name.
    pub outcome: String,
    /// How often the organisation reports.
    pub frequency: String,
    /// Which indicators it submits (all of the pack's if empty).
    #[serde(default)]
    pub metrics: Vec<String>,
    pub support: String,
}

/// A comparison written as text: `>= 2.5`, `< -1`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Band {
    pub op: Op,
    pub value: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Ge,
    Gt,
    Le,
    Lt,
}

impl Op {
    pub fn parse(s: &str) -> Option<Op> {
        match s.trim() {
            ">=" | "≥" => Some(Op::Ge),
            ">" => Some(Op::Gt),
            "<=" | "≤" => Some(Op::Le),
            "<" => Some(Op::Lt),
            _ => None,
        }
    }

    pub fn holds(self, x: f64, v: f64) -> bool {
        match self {
            Op::Ge => x >= v,
            Op::Gt => x > v,
            Op::Le => x <= v,
            Op::Lt => x < v,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Op::Ge => "≥",
            Op::Gt => ">",
            Op::Le => "≤",
            Op::Lt => "<",
        }
    }
}

impl Band {
    pub fn parse(s: &str) -> Option<Band> {
        let s = s.trim();
        let split = s.find(|c: char| c == '-' || c == '+' || c == '.' || c.is_ascii_digit())?;
        let op = Op::parse(&s[..split])?;
        let value = s[split..].trim().parse::<f64>().ok().filter(|v| v.is_finite())?;
        Some(Band { op, value })
    }
}

impl Pack {
    pub fn read(path: &Path) -> Result<Pack, PackError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| PackError {
            file: file.clone(),
            message: format!("cannot read: {e}"),
        })?;
        Pack::parse(&text, &file)
    }

    pub fn parse(text: &str, file: &str) -> Result<Pack, PackError> {
        let pack: Pack = toml::from_str(text).map_err(|e| PackError {
            file: file.to_string(),
            message: e.to_string().trim_end().replace('\n', " "),
        })?;
        let problems = pack.problems();
        if problems.is_empty() {
            Ok(pack)
        } else {
            Err(PackError {
                file: file.to_string(),
                message: problems.join("; "),
            })
        }
    }

    fn problems(&self) -> Vec<String> {
        let mut p = Vec::new();
        if self.format != FORMAT {
            p.push(format!(
                "format: {}: this version of Footprint reads pack format 1",
                self.format
            ));
        }
        if !matches!(self.entity_kind.as_str(), "organisation" | "system") {
            p.push(format!(
                "entity_kind: {:?}: must be \"organisation\" or \"system\"",
                self.entity_kind
            ));
        }
        if !matches!(
            self.grain.as_str(),
            "month" | "quarter" | "financial_year" | "rolling_12_months"
        ) {
            p.push(format!("grain: {:?}: not a period grain", self.grain));
        }
        let mut ids = std::collections::BTreeSet::new();
        for (d, dom) in self.domain.iter().enumerate() {
            if !ids.insert(dom.id.as_str()) {
                p.push(format!(
                    "domain[{}].id: {:?}: two domains have this id",
                    d + 1,
                    dom.id
                ));
            }
            if !(dom.weight.is_finite() && dom.weight >= 0.0) {
                p.push(format!("domain[{}].weight: {}: must be ≥ 0", d + 1, dom.weight));
            }
            for (m, met) in dom.metric.iter().enumerate() {
                let key = |k: &str| format!("domain[{}].metric[{}].{k}", d + 1, m + 1);
                match met.method {
                    Method::Thresholds => {
                        if met.bands.is_empty() {
                            p.push(format!("{}: []: thresholds need at least one band", key("bands")));
                        }
                        for b in &met.bands {
                            if Band::parse(b).is_none() {
                                p.push(format!(
                                    "{}: {b:?}: not a comparison like \">= 2.5\"",
                                    key("bands")
                                ));
                            }
                        }
                    }
                    Method::Quantile if !matches!(met.groups, Some(2..=100)) => {
                        p.push(format!(
                            "{}: {:?}: quantile scoring needs groups between 2 and 100",
                            key("groups"),
                            met.groups
                        ));
                    }
                    _ => {}
                }
                if met.method != Method::Thresholds
                    && !matches!(met.direction.as_deref(), Some("higher" | "lower"))
                {
                    p.push(format!(
                        "{}: {:?}: say \"higher\" or \"lower\" is better",
                        key("direction"),
                        met.direction
                    ));
                }
            }
        }
        match self.outcome {
            Outcome::Rating if self.rating.is_empty() => {
                p.push("rating: []: a rating outcome needs [[rating]] bands".into())
            }
            Outcome::Segment => match &self.segments {
                None => p.push("segments: missing: a segment outcome needs [segments]".into()),
                Some(s) if !matches!(s.method.as_str(), "round" | "quartile") => {
                    p.push(format!(
                        "segments.method: {:?}: must be \"round\" or \"quartile\"",
                        s.method
                    ));
                }
                _ => {}
            },
            Outcome::Category if self.category.is_empty() => {
                p.push("category: []: a category outcome needs [[category]] tables".into())
            }
            _ => {}
        }
        for (i, d) in self.decisions.iter().enumerate() {
            if self.outcome != Outcome::Segment {
                p.push(format!(
                    "decision[{}]: only a segment pack follows the register's decisions",
                    i + 1
                ));
            }
            if d.intervention_kind.trim().is_empty() {
                p.push(format!("decision[{}].intervention_kind: empty", i + 1));
            }
            if !(1..=5).contains(&d.segment) {
                p.push(format!(
                    "decision[{}].segment: {}: must be 1 to 5",
                    i + 1,
                    d.segment
                ));
            }
            if self.decisions[..i]
                .iter()
                .any(|e| e.intervention_kind == d.intervention_kind)
            {
                p.push(format!(
                    "decision[{}].intervention_kind: {:?} is listed twice",
                    i + 1,
                    d.intervention_kind
                ));
            }
        }
        if self.rating.windows(2).any(|w| w[1].max_score <= w[0].max_score) {
            p.push("rating: the bands' max_score must increase".into());
        }
        for (i, c) in self.category.iter().enumerate() {
            for (j, cond) in c.any.iter().chain(&c.all).enumerate() {
                let key = format!("category[{}].condition[{}]", i + 1, j + 1);
                let kinds = [
                    cond.indicator.is_some(),
                    !cond.members_in_segment.is_empty(),
                    !cond.worse_than_england.is_empty(),
                ];
                if kinds.iter().filter(|k| **k).count() != 1 {
                    p.push(format!(
                        "{key}: give exactly one of indicator, members_in_segment, worse_than_england"
                    ));
                }
                if cond.indicator.is_some()
                    && (cond.op.as_deref().and_then(Op::parse).is_none() || cond.value.is_none())
                {
                    p.push(format!(
                        "{key}: an indicator condition needs op (>=, >, <=, <) and value"
                    ));
                }
                if cond.indicator.is_none() && cond.at_least.is_none() && cond.at_most.is_none() {
                    p.push(format!("{key}: a count condition needs at_least or at_most"));
                }
            }
        }
        for (i, o) in self.overrides.iter().enumerate() {
            let key = format!("override[{}] ({})", i + 1, o.id);
            let need = |p: &mut Vec<String>, what: &str, ok: bool| {
                if !ok {
                    p.push(format!("{key}: kind {:?} needs {what}", o.kind));
                }
            };
            match o.kind.as_str() {
                "metric_score_floor" => {
                    need(&mut p, "domain, metric_score and floor", o.domain.is_some() && o.metric_score.is_some() && o.floor.is_some());
                }
                "control_total" => need(
                    &mut p,
                    "domain, agreed, margin, distance, deficit_floor and surplus_floor",
                    o.domain.is_some() && o.agreed.is_some() && o.margin.is_some() && o.distance.is_some() && o.deficit_floor.is_some() && o.surplus_floor.is_some(),
                ),
                "indicator_floor" => need(
                    &mut p,
                    "indicator, op, value, target and floor",
                    o.indicator.is_some() && o.op.as_deref().and_then(Op::parse).is_some() && o.value.is_some() && o.target.is_some() && o.floor.is_some(),
                ),
                "domain_floor" => need(&mut p, "domain, at_least and floor", o.domain.is_some() && o.at_least.is_some() && o.floor.is_some()),
                other => p.push(format!(
                    "{key}: kind {other:?}: must be metric_score_floor, control_total, indicator_floor or domain_floor"
                )),
            }
            if let Some(d) = &o.domain
                && !self.domain.iter().any(|x| &x.id == d)
            {
                p.push(format!("{key}: domain {d:?}: not a domain of this pack"));
            }
        }
        p
    }

    /// Every indicator the pack reads.
    pub fn indicators(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut add = |s: &str| {
            if !out.iter().any(|x| x == s) {
                out.push(s.to_string());
            }
        };
        for d in &self.domain {
            for m in &d.metric {
                add(&m.indicator);
            }
        }
        for o in &self.overrides {
            for s in [&o.indicator, &o.agreed, &o.margin, &o.distance]
                .into_iter()
                .flatten()
            {
                add(s);
            }
        }
        for c in &self.category {
            for cond in c.any.iter().chain(&c.all) {
                if let Some(i) = &cond.indicator {
                    add(i);
                }
                for i in &cond.worse_than_england {
                    add(i);
                }
            }
        }
        out
    }
}
