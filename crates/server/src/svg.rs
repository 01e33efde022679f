//! Charts as inline SVG: SPC (XmR, NHS Making Data Count colours and icons) and funnel plots.
//! Every chart carries a `<title>` and a text alternative for screen readers.

use crate::pages::esc;

const W: f64 = 560.0;
const H: f64 = 220.0;
const PAD: (f64, f64, f64, f64) = (48.0, 12.0, 14.0, 28.0); // left, right, top, bottom

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

/// An XmR chart of `points` (label, value), limits from `stats::spc`.
pub fn spc(title: &str, points: &[(String, Option<f64>)], direction: stats::spc::Direction) -> String {
    let values: Vec<Option<f64>> = points.iter().map(|p| p.1).collect();
    let options = stats::spc::Options {
        direction,
        ..Default::default()
    };
    let Ok(chart) = stats::spc::xmr(&values, &options) else {
        return format!("<p>{}: too few values for an SPC chart.</p>", esc(title));
    };
    let mut lo = f64::MAX;
    let mut hi = f64::MIN;
    for p in &chart.points {
        for v in [p.value, p.lpl, p.upl, p.mean].into_iter().flatten() {
            lo = lo.min(v);
            hi = hi.max(v);
        }
    }
    if lo > hi {
        return format!("<p>{}: no values to chart.</p>", esc(title));
    }
    let pad = (hi - lo).max(1e-9) * 0.08;
    let (lo, hi) = (lo - pad, hi + pad);
    let n = points.len().max(2);
    let x = scale(0.0, (n - 1) as f64, PAD.0, W - PAD.1);
    let y = scale(lo, hi, H - PAD.3, PAD.2);
    let mut s = format!(
        "<svg class=\"spc\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"SPC chart: {t}\"><title>SPC chart: {t}</title>",
        t = esc(title)
    );
    s.push_str(&format!("<text x=\"4\" y=\"{:.1}\" font-size=\"10\">{}</text><text x=\"4\" y=\"{:.1}\" font-size=\"10\">{}</text>", y(hi) + 8.0, fmt(hi), y(lo), fmt(lo)));
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
        &|p| p.upl,
        "stroke=\"#231f20\" stroke-dasharray=\"4 3\"",
        "upl",
    ));
    s.push_str(&line(
        &|p| p.lpl,
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
    if let (Some(first), Some(last)) = (points.first(), points.last()) {
        s.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{H}\" font-size=\"10\">{}</text><text x=\"{:.1}\" y=\"{H}\" font-size=\"10\" text-anchor=\"end\">{}</text>",
            PAD.0,
            esc(&first.0),
            W - PAD.1,
            esc(&last.0)
        ));
    }
    s.push_str("</svg>");
    s
}

/// A funnel plot: every unit's value against its denominator, with 95% and 99.8% limits
/// from `stats::funnel` (drawn through the units), `highlight` in black.
pub fn funnel(
    title: &str,
    units: &[(String, f64, f64, f64)],
    data_type: stats::funnel::DataType,
    multiplier: f64,
    highlight: &str,
) -> String {
    // (code, numerator, denominator, value)
    let n: Vec<f64> = units.iter().map(|u| u.1).collect();
    let d: Vec<f64> = units.iter().map(|u| u.2).collect();
    let options = stats::funnel::Options {
        data_type,
        ..Default::default()
    };
    let Ok(f) = stats::funnel::funnel(&n, &d, &options) else {
        return format!("<p>{}: no funnel (too few units).</p>", esc(title));
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
        for v in [unit.3, l.lower998 * multiplier, l.upper998 * multiplier] {
            if v.is_finite() {
                lo = lo.min(v);
                hi = hi.max(v);
            }
        }
        dmin = dmin.min(unit.2);
        dmax = dmax.max(unit.2);
    }
    let pad = (hi - lo).max(1e-9) * 0.08;
    let x = scale(dmin * 0.9, dmax * 1.05, PAD.0, W - PAD.1);
    let y = scale(lo - pad, hi + pad, H - PAD.3, PAD.2);
    let mut s = format!(
        "<svg class=\"funnel\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"Funnel plot: {t}\"><title>Funnel plot: {t}</title>",
        t = esc(title)
    );
    let mut order: Vec<usize> = (0..units.len()).collect();
    order.sort_by(|&a, &b| units[a].2.total_cmp(&units[b].2));
    let mut path = |pick: &dyn Fn(&stats::funnel::Limits) -> f64, dash: &str| {
        let mut p = String::new();
        for &i in &order {
            let v = pick(&limits(&f.units[i])) * multiplier;
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
    s
}
