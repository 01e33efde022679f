//! XmR statistical process control charts to NHS England's "Making Data Count" rules, as the
//! NHS-R Community's NHSRplotthedots computes them.
//!
//! For each limits period (the whole series, or each stretch between rebase points) the
//! chart takes the mean of the baseline points (the first `fix_after_n_points` of the period,
//! or all of them) and the mean moving range between consecutive baseline points. With
//! outlier screening (the package's default) moving ranges of 3.267 × the mean moving range
//! or more are dropped and the mean recomputed. The process limits are mean ± 2.66 × mean
//! moving range; the 2σ lines, mean ± 2 × (2.66 / 3) × mean moving range.
//!
//! Four special-cause rules are tested within each period, in this order of precedence:
//! a point outside the process limits; a trend of `trend_length` points each strictly above
//! (or below) the last; two of three consecutive points beyond the 2σ lines on one side;
//! a run of `run_length` points on one side of the mean (a point on the mean breaks a run).
//! Each special-cause point is then an improvement or a concern by the improvement direction.
//!
//! Missing values (`None`) keep their place and their period's limits but are not points:
//! the rules run over the observed points in order, as if the gaps were closed, and a
//! missing value has no rule, type or side of the mean. (NHSRplotthedots stops with an
//! error on a missing value inside a trend window; this is the documented extension.)

use crate::{Error, Result};

/// The process-limit multiplier of the mean moving range.
pub const LIMIT: f64 = 2.66;
/// Moving ranges at or above this multiple of the mean are screened out.
pub const MR_SCREEN: f64 = 3.267;

/// Which way is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Increase,
    Decrease,
    Neutral,
}

impl Direction {
    fn sign(self) -> i8 {
        match self {
            Direction::Increase => 1,
            Direction::Decrease => -1,
            Direction::Neutral => 0,
        }
    }
}

/// Which "two of three beyond 2σ" rule to apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TwoInThree {
    /// NHSRplotthedots: two of three consecutive points between the 2σ line and the process
    /// limit, all three on the same side of the mean; the two are flagged.
    Package,
    /// The newer Making Data Count Excel tool: two of three consecutive points beyond the 2σ
    /// line on the same side, counting points beyond the process limits too; every point
    /// beyond 2σ in such a window is flagged.
    Excel,
}

/// How to draw the chart. [`Options::default`] gives NHSRplotthedots' defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub direction: Direction,
    /// Drop moving ranges of 3.267 × the mean or more before computing limits.
    pub screen_outliers: bool,
    /// Compute each period's limits from its first N points only (N ≥ 12).
    pub fix_after_n_points: Option<usize>,
    /// 0-based positions where a new limits period starts.
    pub rebase_indices: Vec<usize>,
    /// A target for the assurance icon.
    pub target: Option<f64>,
    /// Points on one side of the mean that make a run (7, or 6 in some NHS guidance).
    pub run_length: usize,
    /// Points in a strictly rising or falling trend (7, or 6).
    pub trend_length: usize,
    pub two_in_three: TwoInThree,
    /// A period with fewer points than this gets a short-series warning.
    pub short_group_threshold: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            direction: Direction::Increase,
            screen_outliers: true,
            fix_after_n_points: None,
            rebase_indices: Vec::new(),
            target: None,
            run_length: 7,
            trend_length: 7,
            two_in_three: TwoInThree::Package,
            short_group_threshold: 13,
        }
    }
}

/// The rule a point breaks, by precedence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecialCause {
    CommonCause,
    AboveUcl,
    BelowLcl,
    TrendIncreasing,
    TrendDecreasing,
    TwoInThreeAbove,
    TwoInThreeBelow,
    RunAbove,
    RunBelow,
}

impl SpecialCause {
    /// The label NHSRplotthedots prints, e.g. `7 Points Above CL`.
    pub fn label(self, options: &Options) -> String {
        match self {
            SpecialCause::CommonCause => "Common Cause".into(),
            SpecialCause::AboveUcl => "Above UCL".into(),
            SpecialCause::BelowLcl => "Below LCL".into(),
            SpecialCause::TrendIncreasing => format!("{} Point Trend (Increasing)", options.trend_length),
            SpecialCause::TrendDecreasing => format!("{} Point Trend (Decreasing)", options.trend_length),
            SpecialCause::TwoInThreeAbove => "2 in 3 Above CL".into(),
            SpecialCause::TwoInThreeBelow => "2 in 3 Below CL".into(),
            SpecialCause::RunAbove => format!("{} Points Above CL", options.run_length),
            SpecialCause::RunBelow => format!("{} Points Below CL", options.run_length),
        }
    }

    /// +1 for a high signal, -1 for a low one, 0 for common cause.
    fn side(self) -> i8 {
        match self {
            SpecialCause::CommonCause => 0,
            SpecialCause::AboveUcl
            | SpecialCause::TrendIncreasing
            | SpecialCause::TwoInThreeAbove
            | SpecialCause::RunAbove => 1,
            _ => -1,
        }
    }
}

/// A point's meaning, given the improvement direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PointType {
    CommonCause,
    Improvement,
    Concern,
    NeutralHigh,
    NeutralLow,
}

impl PointType {
    pub fn name(self) -> &'static str {
        match self {
            PointType::CommonCause => "common_cause",
            PointType::Improvement => "special_cause_improvement",
            PointType::Concern => "special_cause_concern",
            PointType::NeutralHigh => "special_cause_neutral_high",
            PointType::NeutralLow => "special_cause_neutral_low",
        }
    }

    fn of(cause: SpecialCause, direction: Direction) -> PointType {
        let v = cause.side();
        match (v, direction.sign()) {
            (0, _) => PointType::CommonCause,
            (v, 0) if v > 0 => PointType::NeutralHigh,
            (_, 0) => PointType::NeutralLow,
            (v, d) if v == d => PointType::Improvement,
            _ => PointType::Concern,
        }
    }
}

/// The variation icon, from the last point's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VariationIcon {
    CommonCause,
    ImprovementHigh,
    ImprovementLow,
    ConcernHigh,
    ConcernLow,
    NeutralHigh,
    NeutralLow,
}

impl VariationIcon {
    pub fn name(self) -> &'static str {
        match self {
            VariationIcon::CommonCause => "common_cause",
            VariationIcon::ImprovementHigh => "improvement_high",
            VariationIcon::ImprovementLow => "improvement_low",
            VariationIcon::ConcernHigh => "concern_high",
            VariationIcon::ConcernLow => "concern_low",
            VariationIcon::NeutralHigh => "neutral_high",
            VariationIcon::NeutralLow => "neutral_low",
        }
    }

    fn of(point: PointType, direction: Direction) -> VariationIcon {
        let increase = direction == Direction::Increase;
        match point {
            PointType::CommonCause => VariationIcon::CommonCause,
            PointType::NeutralHigh => VariationIcon::NeutralHigh,
            PointType::NeutralLow => VariationIcon::NeutralLow,
            PointType::Improvement if increase => VariationIcon::ImprovementHigh,
            PointType::Improvement => VariationIcon::ImprovementLow,
            PointType::Concern if increase => VariationIcon::ConcernLow,
            PointType::Concern => VariationIcon::ConcernHigh,
        }
    }
}

/// Whether the process will meet a target, from the last period's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assurance {
    ConsistentPass,
    ConsistentFail,
    Inconsistent,
}

impl Assurance {
    pub fn name(self) -> &'static str {
        match self {
            Assurance::ConsistentPass => "consistent_pass",
            Assurance::ConsistentFail => "consistent_fail",
            Assurance::Inconsistent => "inconsistent",
        }
    }
}

/// One point of the chart. Limits are `None` where NHSRplotthedots has NaN (a period whose
/// every moving range was screened out, such as a constant series).
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub value: Option<f64>,
    pub mean: Option<f64>,
    pub lpl: Option<f64>,
    pub upl: Option<f64>,
    pub outside_limits: Option<bool>,
    pub relative_to_mean: Option<i8>,
    pub close_to_limits: Option<bool>,
    /// `None` for a missing value.
    pub special_cause: Option<SpecialCause>,
    pub point_type: Option<PointType>,
    /// 0 for the first limits period, 1 after the first rebase, ….
    pub rebase_group: usize,
    pub short_group_warning: bool,
}

/// The chart's headline.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// The type of the last observed point.
    pub last_point_type: PointType,
    pub variation_icon: VariationIcon,
    /// `None` without a target or with a neutral direction.
    pub assurance: Option<Assurance>,
}

/// A computed chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    pub points: Vec<Point>,
    pub summary: Summary,
}

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// The mean as R's `mean()` computes it: the sum over the count, corrected by the mean of
/// the residuals, so that a value equal to the mean compares equal as it does in R.
fn mean(values: impl Iterator<Item = f64> + Clone) -> f64 {
    let (sum, n) = values.clone().fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    if n == 0 {
        return f64::NAN;
    }
    let m = sum / n as f64;
    if !m.is_finite() {
        return m;
    }
    m + values.map(|v| v - m).sum::<f64>() / n as f64
}

fn check(values: &[Option<f64>], options: &Options) -> Result<()> {
    if values.is_empty() {
        return Err(Error::Empty { field: "values" });
    }
    for (index, v) in values.iter().enumerate() {
        if let Some(v) = *v
            && !v.is_finite()
        {
            return Err(Error::Value {
                field: "values",
                index,
                value: v,
                rule: "must be a finite number or null",
            });
        }
    }
    if values.iter().all(Option::is_none) {
        return Err(Error::Option {
            field: "values",
            value: format!("{} nulls", values.len()),
            rule: "a chart needs at least one value",
        });
    }
    if let Some(n) = options.fix_after_n_points
        && n < 12
    {
        return Err(Error::Option {
            field: "fix_after_n_points",
            value: n.to_string(),
            rule: "limits need at least 12 points to be fixed",
        });
    }
    for &i in &options.rebase_indices {
        if i >= values.len() {
            return Err(Error::Option {
                field: "rebase_indices",
                value: i.to_string(),
                rule: "a rebase position must be a 0-based index into values",
            });
        }
    }
    for (field, n) in [
        ("run_length", options.run_length),
        ("trend_length", options.trend_length),
    ] {
        if n < 2 {
            return Err(Error::Option {
                field,
                value: n.to_string(),
                rule: "must be at least 2",
            });
        }
    }
    if let Some(t) = options.target
        && !t.is_finite()
    {
        return Err(Error::Option {
            field: "target",
            value: t.to_string(),
            rule: "must be a finite number or null",
        });
    }
    Ok(())
}

/// Draws the XmR chart of `values` (in time order; `None` for a missing value).
pub fn xmr(values: &[Option<f64>], options: &Options) -> Result<Chart> {
    check(values, options)?;
    let n = values.len();
    let mut starts: Vec<usize> = options
        .rebase_indices
        .iter()
        .copied()
        .filter(|&i| i > 0)
        .collect();
    starts.push(0);
    starts.sort_unstable();
    starts.dedup();
    let mut points = Vec::with_capacity(n);
    for (group, &start) in starts.iter().enumerate() {
        let end = starts.get(group + 1).copied().unwrap_or(n);
        period(&values[start..end], group, options, &mut points);
    }
    let summary = summarise(&points, options);
    Ok(Chart { points, summary })
}

/// Computes one limits period and appends its points.
fn period(y: &[Option<f64>], group: usize, options: &Options, out: &mut Vec<Point>) {
    let fix = options.fix_after_n_points.unwrap_or(usize::MAX);
    let baseline = |i: usize| if i < fix { y[i] } else { None };
    let centre = mean((0..y.len()).filter_map(baseline));
    let ranges: Vec<f64> = (1..y.len())
        .filter_map(|i| Some((baseline(i)? - baseline(i - 1)?).abs()))
        .collect();
    let mut amr = mean(ranges.iter().copied());
    if options.screen_outliers {
        let cut = MR_SCREEN * amr;
        amr = mean(ranges.iter().copied().filter(|&r| r < cut));
    }
    let (lpl, upl) = (centre - LIMIT * amr, centre + LIMIT * amr);
    let close = 2.0 * (LIMIT / 3.0);
    let (nlpl, nupl) = (centre - close * amr, centre + close * amr);
    let limits_known = lpl.is_finite() && upl.is_finite();

    // The observed points of the period, in order, with their facts.
    let observed: Vec<usize> = (0..y.len()).filter(|&i| y[i].is_some()).collect();
    let obs_y: Vec<f64> = observed.iter().filter_map(|&i| y[i]).collect();
    let outside: Vec<bool> = obs_y
        .iter()
        .map(|&v| limits_known && (v > upl || v < lpl))
        .collect();
    let rtm: Vec<i8> = obs_y
        .iter()
        .map(|&v| match (v - centre).partial_cmp(&0.0) {
            Some(std::cmp::Ordering::Greater) => 1,
            Some(std::cmp::Ordering::Less) => -1,
            _ => 0,
        })
        .collect();
    let near: Vec<bool> = obs_y
        .iter()
        .zip(&outside)
        .map(|(&v, &o)| limits_known && !o && (v < nlpl || v > nupl))
        .collect();
    let beyond_2s: Vec<bool> = obs_y
        .iter()
        .map(|&v| limits_known && (v < nlpl || v > nupl))
        .collect();
    let causes = special_causes(&obs_y, &rtm, &near, &beyond_2s, &outside, options);

    let short = y.len() < options.short_group_threshold;
    let mut k = 0;
    for (i, v) in y.iter().enumerate() {
        let mut p = Point {
            value: *v,
            mean: finite(centre),
            lpl: finite(lpl),
            upl: finite(upl),
            outside_limits: None,
            relative_to_mean: None,
            close_to_limits: None,
            special_cause: None,
            point_type: None,
            rebase_group: group,
            short_group_warning: short,
        };
        if v.is_some() {
            debug_assert_eq!(observed[k], i);
            if limits_known {
                p.outside_limits = Some(outside[k]);
                p.close_to_limits = Some(near[k]);
            }
            p.relative_to_mean = centre.is_finite().then_some(rtm[k]);
            p.special_cause = Some(causes[k]);
            p.point_type = Some(PointType::of(causes[k], options.direction));
            k += 1;
        }
        out.push(p);
    }
}

/// Marks every point inside a window of `len` points that ends at a flagged position.
fn part_of(flags: &[bool], len: usize) -> Vec<bool> {
    let mut part = vec![false; flags.len()];
    for (i, _) in flags.iter().enumerate().filter(|(_, f)| **f) {
        for p in &mut part[(i + 1).saturating_sub(len)..=i] {
            *p = true;
        }
    }
    part
}

/// The special cause of each observed point, by NHSRplotthedots' precedence.
fn special_causes(
    y: &[f64],
    rtm: &[i8],
    near: &[bool],
    beyond_2s: &[bool],
    outside: &[bool],
    options: &Options,
) -> Vec<SpecialCause> {
    let n = y.len();
    // Trends: the window of `trend_length` points ending at i rises (or falls) at every step.
    let tl = options.trend_length;
    let trend_end: Vec<bool> = (0..n)
        .map(|i| {
            i + 1 >= tl && {
                let w = &y[i + 1 - tl..=i];
                w.windows(2).all(|p| p[1] > p[0]) || w.windows(2).all(|p| p[1] < p[0])
            }
        })
        .collect();
    let in_trend = part_of(&trend_end, tl);
    // Runs: `run_length` points on the same side of the mean, none on it.
    let rl = options.run_length;
    let run_end: Vec<bool> = (0..n)
        .map(|i| i + 1 >= rl && rtm[i] != 0 && rtm[i + 1 - rl..=i].iter().all(|&r| r == rtm[i]))
        .collect();
    let in_run = part_of(&run_end, rl);
    let in_two_of_three = two_of_three(rtm, near, beyond_2s, options.two_in_three);

    (0..n)
        .map(|i| {
            let above = rtm[i] > 0;
            if outside[i] {
                if rtm[i] == 1 {
                    SpecialCause::AboveUcl
                } else {
                    SpecialCause::BelowLcl
                }
            } else if in_trend[i] {
                // The direction of the step into the trend's next point, or from the previous.
                let forward = i + 1 < n && in_trend[i + 1];
                let step = if forward {
                    y[i + 1] - y[i]
                } else if i > 0 {
                    y[i] - y[i - 1]
                } else {
                    0.0
                };
                if step > 0.0 {
                    SpecialCause::TrendIncreasing
                } else {
                    SpecialCause::TrendDecreasing
                }
            } else if in_two_of_three[i] {
                if above {
                    SpecialCause::TwoInThreeAbove
                } else {
                    SpecialCause::TwoInThreeBelow
                }
            } else if in_run[i] {
                if above {
                    SpecialCause::RunAbove
                } else {
                    SpecialCause::RunBelow
                }
            } else {
                SpecialCause::CommonCause
            }
        })
        .collect()
}

/// Points that are part of "two of three beyond 2σ".
fn two_of_three(rtm: &[i8], near: &[bool], beyond_2s: &[bool], rule: TwoInThree) -> Vec<bool> {
    let n = rtm.len();
    let mut part = vec![false; n];
    if n < 3 {
        return part;
    }
    for s in 0..=n - 3 {
        let w = s..s + 3;
        match rule {
            TwoInThree::Package => {
                let count = near[w.clone()].iter().filter(|&&b| b).count();
                let side: i32 = rtm[w.clone()].iter().map(|&r| i32::from(r)).sum();
                if count >= 2 && side.abs() == 3 {
                    for i in w {
                        part[i] |= near[i];
                    }
                }
            }
            TwoInThree::Excel => {
                for side in [1i8, -1] {
                    let hits: Vec<usize> = w.clone().filter(|&i| beyond_2s[i] && rtm[i] == side).collect();
                    if hits.len() >= 2 {
                        for i in hits {
                            part[i] = true;
                        }
                    }
                }
            }
        }
    }
    part
}

fn summarise(points: &[Point], options: &Options) -> Summary {
    let last_point_type = points
        .iter()
        .rev()
        .find_map(|p| p.point_type)
        .unwrap_or(PointType::CommonCause);
    let assurance = match (options.target, options.direction) {
        (None, _) | (_, Direction::Neutral) => None,
        (Some(target), direction) => {
            let last = points.last();
            let increasing = direction == Direction::Increase;
            let upl = last.and_then(|p| p.upl);
            let lpl = last.and_then(|p| p.lpl);
            Some(match (upl, lpl) {
                (Some(u), _) if target > u => {
                    if increasing {
                        Assurance::ConsistentFail
                    } else {
                        Assurance::ConsistentPass
                    }
                }
                (_, Some(l)) if target < l => {
                    if increasing {
                        Assurance::ConsistentPass
                    } else {
                        Assurance::ConsistentFail
                    }
                }
                _ => Assurance::Inconsistent,
            })
        }
    };
    Summary {
        last_point_type,
        variation_icon: VariationIcon::of(last_point_type, options.direction),
        assurance,
    }
}

#[cfg(test)]
mod tests;
