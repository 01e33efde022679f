//! Charts as inline SVG: SPC (XmR, NHS Making Data Count colours and icons) and funnel plots.
//! Every chart carries a `<title>` and a text alternative for screen readers.

use crate::pages::esc;

const W: f64 = 560.0;
const H: f64 = 220.0;
const PAD: (f64, f64, f64, f64) = (64.0, 12.0, 14.0, 40.0); // left, right, top, bottom

/// A chart's value axis: its title with the unit, and the range the measure can take (a
/// percentage lies in 0–100, a rate or a count is never negative). Process and funnel limits
/// are clipped to it, as the Making Data Count guidance does for limits a measure cannot reach.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    pub title: String,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

impl Axis {
    /// The axis of an indicator's unit, as the catalogue names it.
    pub fn of_unit(unit: &str) -> Axis {
        let (title, min, max) = match unit {
            "percent" => ("Per cent (%)", Some(0.0), Some(100.0)),
            "per1000" => ("Rate per 1,000", Some(0.0), None),
            "days" => ("Days", Some(0.0), None),
            "ratio100" => ("Ratio (100 = expected)", Some(0.0), None),
            "times" => ("Times", Some(0.0), None),
            "percentage_points" | "percentagepoints" => ("Percentage points", None, None),
            "score" => ("Score", None, None),
            other => (other, None, None),
        };
        Axis {
            title: title.to_string(),
            min,
            max,
        }
    }

    /// `v` inside the measure's possible range.
    pub fn clip(&self, v: f64) -> f64 {
        let v = self.min.map_or(v, |m| v.max(m));
        self.max.map_or(v, |m| v.min(m))
    }
}

/// Tick labels with as many decimals as the ticks' step needs (0.25 steps show 0.25, not 0.3).
fn tick_labels(ticks: &[f64]) -> Vec<String> {
    let step = ticks.windows(2).map(|w| w[1] - w[0]).fold(f64::MAX, f64::min);
    let mut decimals = 0;
    if step.is_finite() && step > 0.0 {
        while decimals < 6
            && ((step * 10f64.powi(decimals)).round() - step * 10f64.powi(decimals)).abs() > 1e-6
        {
            decimals += 1;
        }
    }
    let decimals = decimals as usize;
    ticks.iter().map(|v| format!("{v:.decimals$}")).collect()
}

/// Padding above and below a range of values, so a flat series still gets an axis.
fn padding(lo: f64, hi: f64) -> f64 {
    if hi - lo > 1e-9 {
        (hi - lo) * 0.08
    } else {
        hi.abs().max(1.0) * 0.1
    }
}

/// Round tick values covering `lo..=hi` (about five).
fn ticks(lo: f64, hi: f64) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite()) || hi <= lo {
        return vec![lo];
    }
    let raw = (hi - lo) / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let mut t = (lo / step).ceil() * step;
    let mut out = Vec::new();
    while t <= hi + step * 1e-9 && out.len() < 12 {
        out.push(if t.abs() < step * 1e-9 { 0.0 } else { t });
        t += step;
    }
    out
}

/// Axis lines, ticks and titles: `y` maps values to the vertical, `x_ticks` are (position,
/// label) pairs along the bottom.
fn axes(
    y: &dyn Fn(f64) -> f64,
    lo: f64,
    hi: f64,
    y_title: &str,
    x_ticks: &[(f64, String)],
    x_title: &str,
) -> String {
    let mut s = format!(
        "<g class=\"axes\" font-size=\"10\" fill=\"#212b32\"><line x1=\"{l}\" x2=\"{l}\" y1=\"{t}\" y2=\"{b}\" stroke=\"#4c6272\"/><line x1=\"{l}\" x2=\"{r}\" y1=\"{b}\" y2=\"{b}\" stroke=\"#4c6272\"/>",
        l = PAD.0,
        r = W - PAD.1,
        t = PAD.2,
        b = H - PAD.3
    );
    let values = ticks(lo, hi);
    for (v, label) in values.iter().zip(tick_labels(&values)) {
        let at = y(*v);
        s.push_str(&format!(
            "<line class=\"tick\" x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{at:.1}\" y2=\"{at:.1}\" stroke=\"#4c6272\"/><text class=\"y-tick\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            PAD.0 - 4.0,
            PAD.0,
            PAD.0 - 6.0,
            at + 3.5,
            label
        ));
    }
    for (at, label) in x_ticks {
        // Labels at the ends are anchored inside the chart, so none is cut off.
        let anchor = if *at <= PAD.0 + 1.0 {
            "start"
        } else if *at >= W - PAD.1 - 1.0 {
            "end"
        } else {
            "middle"
        };
        s.push_str(&format!(
            "<line class=\"tick\" x1=\"{at:.1}\" x2=\"{at:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#4c6272\"/><text class=\"x-tick\" x=\"{at:.1}\" y=\"{:.1}\" text-anchor=\"{anchor}\">{}</text>",
            H - PAD.3,
            H - PAD.3 + 4.0,
            H - PAD.3 + 14.0,
            esc(label)
        ));
    }
    s.push_str(&format!(
        "<text class=\"y-title\" transform=\"translate(12 {:.1}) rotate(-90)\" text-anchor=\"middle\">{}</text><text class=\"x-title\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text></g>",
        (PAD.2 + H - PAD.3) / 2.0,
        esc(y_title),
        (PAD.0 + W - PAD.1) / 2.0,
        H - 4.0,
        esc(x_title)
    ));
    s
}

/// Making Data Count colours.
pub const IMPROVEMENT: &str = "#41b6e6";
pub const CONCERN: &str = "#e46c0a";
pub const COMMON: &str = "#7f7f7f";

fn fmt(v: f64) -> String {
    if v.abs() >= 1000.0 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn scale(lo: f64, hi: f64, a: f64, b: f64) -> impl Fn(f64) -> f64 {
    let span = if hi > lo { hi - lo } else { 1.0 };
    move |v| a + (v - lo) / span * (b - a)
}

/// The Making Data Count variation icon as a small SVG: a circle with a letter, coloured
/// for improvement (blue), concern (orange) or common cause (grey).
pub fn variation_icon(variation: Option<&str>) -> String {
    let (colour, letter, label) = match variation {
        Some(v) if v.starts_with("improvement") => (
            IMPROVEMENT,
            if v.ends_with("high") { "H" } else { "L" },
            "special cause variation: improvement",
        ),
        Some(v) if v.starts_with("concern") => (
            CONCERN,
            if v.ends_with("high") { "H" } else { "L" },
            "special cause variation: concern",
        ),
        Some(v) if v.starts_with("neutral") => (
            "#490092",
            if v.ends_with("high") { "H" } else { "L" },
            "special cause variation: neither improvement nor concern",
        ),
        Some(_) => (COMMON, "~", "common cause variation"),
        None => return String::new(),
    };
    format!(
        "<svg class=\"icon\" width=\"28\" height=\"28\" viewBox=\"0 0 28 28\" role=\"img\" aria-label=\"{label}\"><title>{label}</title><circle cx=\"14\" cy=\"14\" r=\"12\" fill=\"#fff\" stroke=\"{colour}\" stroke-width=\"3\"/><text x=\"14\" y=\"19\" text-anchor=\"middle\" font-size=\"13\" font-weight=\"bold\" fill=\"{colour}\">{letter}</text></svg>"
    )
}

/// An XmR chart of `points` (label, value), limits from `stats::spc` clipped to the axis's
/// range, with titled axes and a text alternative (`<desc>`) that states what the chart shows.
pub fn spc(
    title: &str,
    points: &[(String, Option<f64>)],
    direction: stats::spc::Direction,
    axis: &Axis,
) -> String {
    let values: Vec<Option<f64>> = points.iter().map(|p| p.1).collect();
    let options = stats::spc::Options {
        direction,
        ..Default::default()
    };
    let Ok(chart) = stats::spc::xmr(&values, &options) else {
        return format!("<p>{}: too few values for an SPC chart.</p>", esc(title));
    };
    let clip = |v: Option<f64>| v.map(|v| axis.clip(v));
    let mut lo = f64::MAX;
    let mut hi = f64::MIN;
    for p in &chart.points {
        for v in [p.value, clip(p.lpl), clip(p.upl), p.mean].into_iter().flatten() {
            lo = lo.min(v);
            hi = hi.max(v);
        }
    }
    if lo > hi {
        return format!("<p>{}: no values to chart.</p>", esc(title));
    }
    let pad = padding(lo, hi);
    let (lo, hi) = (
        clip(Some(lo - pad)).unwrap_or(lo),
        clip(Some(hi + pad)).unwrap_or(hi),
    );
    let n = points.len().max(2);
    let x = scale(0.0, (n - 1) as f64, PAD.0, W - PAD.1);
    let y = scale(lo, hi, H - PAD.3, PAD.2);
    let last = chart.points.iter().rev().find(|p| p.value.is_some());
    let clipped = chart
        .points
        .iter()
        .any(|p| p.lpl.is_some_and(|v| v != axis.clip(v)) || p.upl.is_some_and(|v| v != axis.clip(v)));
    let desc = match last {
        Some(p) => format!(
            "{} values from {} to {}, in {}. Latest {}; mean {}; process limits {} to {}{}.",
            values.iter().flatten().count(),
            points.first().map_or("", |p| p.0.as_str()),
            points.last().map_or("", |p| p.0.as_str()),
            axis.title.to_lowercase(),
            p.value.map(fmt).unwrap_or_default(),
            p.mean.map(fmt).unwrap_or_default(),
            clip(p.lpl).map(fmt).unwrap_or_default(),
            clip(p.upl).map(fmt).unwrap_or_default(),
            if clipped {
                " (clipped to the measure's possible range)"
            } else {
                ""
            }
        ),
        None => String::new(),
    };
    let mut s = format!(
        "<svg class=\"spc\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"SPC chart: {t}\"><title>SPC chart: {t}</title><desc>{d}</desc>",
        t = esc(title),
        d = esc(&desc)
    );
    let mut at = vec![0, (points.len() - 1) / 2, points.len() - 1];
    at.dedup();
    let x_ticks: Vec<(f64, String)> = at.iter().map(|&i| (x(i as f64), points[i].0.clone())).collect();
    s.push_str(&axes(&y, lo, hi, &axis.title, &x_ticks, "Month"));
    let line = |f: &dyn Fn(&stats::spc::Point) -> Option<f64>, style: &str, class: &str| {
        let mut d = String::new();
        for (i, p) in chart.points.iter().enumerate() {
            if let Some(v) = f(p) {
                d.push_str(&format!(
                    "{}{:.1} {:.1}",
                    if d.is_empty() { "M" } else { "L" },
                    x(i as f64),
                    y(v)
                ));
            }
        }
        format!("<path class=\"{class}\" d=\"{d}\" fill=\"none\" {style}/>")
    };
    s.push_str(&line(
        &|p| clip(p.upl),
        "stroke=\"#231f20\" stroke-dasharray=\"4 3\"",
        "upl",
    ));
    s.push_str(&line(
        &|p| clip(p.lpl),
        "stroke=\"#231f20\" stroke-dasharray=\"4 3\"",
        "lpl",
    ));
    s.push_str(&line(&|p| p.mean, "stroke=\"#231f20\"", "mean"));
    s.push_str(&line(&|p| p.value, &format!("stroke=\"{COMMON}\""), "series"));
    for (i, (p, (label, _))) in chart.points.iter().zip(points).enumerate() {
        let Some(v) = p.value else { continue };
        let (colour, kind) = match p.point_type {
            Some(stats::spc::PointType::Improvement) => (IMPROVEMENT, "improvement"),
            Some(stats::spc::PointType::Concern) => (CONCERN, "concern"),
            Some(stats::spc::PointType::NeutralHigh | stats::spc::PointType::NeutralLow) => {
                ("#490092", "special cause")
            }
            _ => (COMMON, "common cause"),
        };
        s.push_str(&format!(
            "<circle class=\"point {k}\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"3.5\" fill=\"{colour}\"><title>{}: {} ({kind})</title></circle>",
            x(i as f64),
            y(v),
            esc(label),
            fmt(v),
            k = kind.replace(' ', "-")
        ));
    }
    s.push_str("</svg>");
    s
}

/// A drawn funnel plot, and where the highlighted unit lies in it, in words.
#[derive(Debug, Clone, PartialEq)]
pub struct Funnel {
    pub svg: String,
    /// `within the 95% limits`, `beyond the 95% limit (high)`, … (none when the highlighted
    /// unit is not among the units).
    pub position: Option<String>,
}

/// A funnel plot: every unit's value against its denominator, with 95% and 99.8% limits
/// from `stats::funnel` (drawn through the units), `highlight` in black.
pub fn funnel(
    title: &str,
    units: &[(String, f64, f64, f64)],
    data_type: stats::funnel::DataType,
    multiplier: f64,
    highlight: &str,
    axis: &Axis,
    x_title: &str,
) -> Funnel {
    // (code, numerator, denominator, value)
    let n: Vec<f64> = units.iter().map(|u| u.1).collect();
    let d: Vec<f64> = units.iter().map(|u| u.2).collect();
    let options = stats::funnel::Options {
        data_type,
        ..Default::default()
    };
    let Ok(f) = stats::funnel::funnel(&n, &d, &options) else {
        return Funnel {
            svg: format!("<p>{}: no funnel (too few units).</p>", esc(title)),
            position: None,
        };
    };
    let limits = |u: &stats::funnel::Unit| {
        if f.od_adjust_effective() {
            u.overdispersed
        } else {
            u.poisson
        }
    };
    let mut lo = f64::MAX;
    let mut hi = f64::MIN;
    let (mut dmin, mut dmax) = (f64::MAX, f64::MIN);
    for (u, unit) in f.units.iter().zip(units) {
        let l = limits(u);
        for v in [
            unit.3,
            axis.clip(l.lower998 * multiplier),
            axis.clip(l.upper998 * multiplier),
        ] {
            if v.is_finite() {
                lo = lo.min(v);
                hi = hi.max(v);
            }
        }
        dmin = dmin.min(unit.2);
        dmax = dmax.max(unit.2);
    }
    let pad = padding(lo, hi);
    let (lo, hi) = (axis.clip(lo - pad), axis.clip(hi + pad));
    let (x0, x1) = (dmin * 0.9, dmax * 1.05);
    let x = scale(x0, x1, PAD.0, W - PAD.1);
    let y = scale(lo, hi, H - PAD.3, PAD.2);
    let mine = units.iter().zip(&f.units).find(|(u, _)| u.0 == highlight);
    let position = mine.map(|(u, fu)| {
        let side = if u.3 > f.target * multiplier {
            "high"
        } else {
            "low"
        };
        if fu.outlier998 {
            format!("beyond the 99.8% limit ({side})")
        } else if fu.outlier95 {
            format!("beyond the 95% limit ({side})")
        } else {
            "within the 95% limits".to_string()
        }
    });
    let desc = format!(
        "{} units; target {}; {} beyond the 99.8% limits.{}",
        units.len(),
        fmt(f.target * multiplier),
        f.units.iter().filter(|u| u.outlier998).count(),
        match (mine, &position) {
            (Some((u, _)), Some(p)) =>
                format!(" {}: {} on a denominator of {}, {p}.", u.0, fmt(u.3), fmt(u.2)),
            _ => String::new(),
        }
    );
    let mut s = format!(
        "<svg class=\"funnel\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"Funnel plot: {t}\"><title>Funnel plot: {t}</title><desc>{d}</desc>",
        t = esc(title),
        d = esc(&desc)
    );
    let xs = ticks(x0, x1);
    let x_ticks: Vec<(f64, String)> = xs.iter().map(|v| x(*v)).zip(tick_labels(&xs)).collect();
    s.push_str(&axes(&y, lo, hi, &axis.title, &x_ticks, x_title));
    let mut order: Vec<usize> = (0..units.len()).collect();
    order.sort_by(|&a, &b| units[a].2.total_cmp(&units[b].2));
    let mut path = |pick: &dyn Fn(&stats::funnel::Limits) -> f64, dash: &str| {
        let mut p = String::new();
        for &i in &order {
            let v = axis.clip(pick(&limits(&f.units[i])) * multiplier);
            if v.is_finite() {
                p.push_str(&format!(
                    "{}{:.1} {:.1}",
                    if p.is_empty() { "M" } else { "L" },
                    x(units[i].2),
                    y(v)
                ));
            }
        }
        s.push_str(&format!(
            "<path d=\"{p}\" fill=\"none\" stroke=\"#231f20\" stroke-dasharray=\"{dash}\"/>"
        ));
    };
    path(&|l| l.lower95, "4 3");
    path(&|l| l.upper95, "4 3");
    path(&|l| l.lower998, "1 2");
    path(&|l| l.upper998, "1 2");
    let t = y(f.target * multiplier);
    s.push_str(&format!(
        "<line x1=\"{}\" x2=\"{}\" y1=\"{t:.1}\" y2=\"{t:.1}\" stroke=\"#231f20\"/>",
        PAD.0,
        W - PAD.1
    ));
    for (u, unit) in f.units.iter().zip(units) {
        let mine = unit.0 == highlight;
        let colour = if mine {
            "#000"
        } else if u.outlier998 {
            CONCERN
        } else {
            COMMON
        };
        s.push_str(&format!(
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"{}\" fill=\"{colour}\"><title>{}: {}{}</title></circle>",
            x(unit.2),
            y(unit.3),
            if mine { 5 } else { 3 },
            esc(&unit.0),
            fmt(unit.3),
            if u.outlier998 {
                " (beyond 99.8%)"
            } else if u.outlier95 {
                " (beyond 95%)"
            } else {
                ""
            }
        ));
    }
    s.push_str("</svg>");
    Funnel { svg: s, position }
}
