//! What a person sees: one colour-blind-safe palette for the map and its key, a league table
//! whose ranks agree with its categories and say why, charts with titled axes and limits
//! inside the measure's range, and an organisation page with trends, peers and readable
//! explanations.

use crate::{App, app, call, get};
use axum::http::StatusCode;
use server::pages::CATEGORY_COLOURS;
use server::svg::Axis;

fn rgb(hex: &str) -> [f64; 3] {
    let h = hex.trim_start_matches('#');
    let c = |i: usize| u8::from_str_radix(&h[i..i + 2], 16).unwrap() as f64 / 255.0;
    [c(0), c(2), c(4)]
}

fn linear(c: f64) -> f64 {
    if c <= 0.04045 {
        c / 12.92
    } else {
        ((c + 0.055) / 1.055).powf(2.4)
    }
}

fn luminance(hex: &str) -> f64 {
    let [r, g, b] = rgb(hex).map(linear);
    0.2126 * r + 0.7152 * g + 0.0722 * b
}

/// WCAG 2 contrast ratio.
fn contrast(a: &str, b: &str) -> f64 {
    let (x, y) = (luminance(a), luminance(b));
    (x.max(y) + 0.05) / (x.min(y) + 0.05)
}

/// CIE L*a*b* (D65) of linear RGB.
fn lab([r, g, b]: [f64; 3]) -> [f64; 3] {
    let x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047;
    let y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
    let z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883;
    let f = |t: f64| {
        if t > 0.008856 {
            t.cbrt()
        } else {
            7.787 * t + 16.0 / 116.0
        }
    };
    [116.0 * f(y) - 16.0, 500.0 * (f(x) - f(y)), 200.0 * (f(y) - f(z))]
}

/// Machado, Oliveira and Fernandes (2009) full-severity dichromacy matrices, on linear RGB.
const VISION: [(&str, [[f64; 3]; 3]); 4] = [
    ("typical", [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]),
    (
        "protanopia",
        [
            [0.152286, 1.052583, -0.204868],
            [0.114503, 0.786281, 0.099216],
            [-0.003882, -0.048116, 1.051998],
        ],
    ),
    (
        "deuteranopia",
        [
            [0.367322, 0.860646, -0.227968],
            [0.280085, 0.672501, 0.047413],
            [-0.011820, 0.042940, 0.968881],
        ],
    ),
    (
        "tritanopia",
        [
            [1.255528, -0.076749, -0.178779],
            [-0.078411, 0.930809, 0.147602],
            [0.004733, 0.691367, 0.303900],
        ],
    ),
];

fn seen(hex: &str, m: &[[f64; 3]; 3]) -> [f64; 3] {
    let c = rgb(hex).map(linear);
    let v = |i: usize| (m[i][0] * c[0] + m[i][1] * c[1] + m[i][2] * c[2]).clamp(0.0, 1.0);
    lab([v(0), v(1), v(2)])
}

#[test]
fn the_category_palette_is_legible_and_stays_apart_for_colour_blind_readers() {
    for (name, fill, text) in CATEGORY_COLOURS {
        let c = contrast(fill, text);
        assert!(c >= 4.5, "{name}: text {text} on {fill} has contrast {c:.2}");
    }
    for (vision, m) in VISION {
        for (i, a) in CATEGORY_COLOURS.iter().enumerate() {
            for b in &CATEGORY_COLOURS[i + 1..] {
                let (x, y) = (seen(a.1, &m), seen(b.1, &m));
                let d = ((x[0] - y[0]).powi(2) + (x[1] - y[1]).powi(2) + (x[2] - y[2]).powi(2)).sqrt();
                assert!(
                    d >= 20.0,
                    "{vision}: {} and {} are only ΔE {d:.1} apart",
                    a.0,
                    b.0
                );
            }
        }
    }
}

fn style(body: &str) -> &str {
    let start = body.find("<style>").unwrap() + 7;
    &body[start..start + body[start..].find("</style>").unwrap()]
}

#[tokio::test(flavor = "multi_thread")]
async fn map_and_key_share_one_palette_and_the_league_says_why() {
    let app: App = app().await;
    let page = get(&app, "/", None).await;
    let css = style(&page.body);
    for (name, fill, text) in CATEGORY_COLOURS {
        // The key's tag and the map's area are drawn in the same colour, and nothing else
        // redefines either.
        assert!(
            css.contains(&format!(".{name}{{background:{fill};color:{text}}}")),
            "{name} tag"
        );
        assert!(css.contains(&format!(".f-{name}{{fill:{fill}}}")), "{name} area");
        assert_eq!(css.matches(&format!(".f-{name}{{")).count(), 1, "{name}");
        assert_eq!(css.matches(&format!(".{name}{{")).count(), 1, "{name}");
    }
    // The navigation's links are spaced apart, not run together.
    assert!(css.contains("nav{display:flex;gap:1rem}"));

    // The league table: ranks follow the pack's category order, and each row names its
    // trigger; the API gives the same order and trigger.
    let league = call(&app.router, "GET", "/api/v1/league/system-2015", None, None)
        .await
        .json();
    let rows = league["league"].as_array().expect("rows");
    let pack = policy::load_pack("system-2015").unwrap();
    let order = |c: &str| pack.category.iter().position(|x| x.name == c).unwrap();
    let mut last = (0, f64::MIN);
    for r in rows {
        let key = (
            order(r["category"].as_str().unwrap()),
            r["overall_score"].as_f64().unwrap_or(f64::MAX),
        );
        assert!(
            key >= last,
            "rank {} breaks the order: {key:?} after {last:?}",
            r["rank"]
        );
        last = key;
        let why = r["category_trigger"].as_str().expect("a trigger");
        assert!(!why.is_empty());
        if r["category"] == "challenged" {
            assert!(!why.starts_with("no trigger met"), "{why}");
        }
    }
    assert_eq!(rows[0]["category"], "challenged");
    assert!(page.body.contains("<th scope=\"col\">Why this category</th>"));
    for r in rows.iter().take(3) {
        let why = server::pages::esc(r["category_trigger"].as_str().unwrap());
        assert!(
            page.body.contains(&format!("<td class=\"trigger\">{why}</td>")),
            "{why}"
        );
    }
    // The system page says which trigger placed it.
    let code = rows[0]["entity_code"].as_str().unwrap();
    let sys = get(&app, &format!("/systems/{code}"), None).await;
    assert!(
        sys.body
            .contains("<p class=\"trigger\"><strong>Why this category:</strong>")
    );
}

#[test]
fn spc_charts_have_titled_axes_and_limits_inside_the_measures_range() {
    // A percentage near zero with wide variation: its lower process limit would be negative.
    let points: Vec<(String, Option<f64>)> = [
        0.1, 0.9, 0.2, 1.4, 0.3, 0.1, 1.2, 0.4, 0.2, 0.8, 0.1, 1.5, 0.3, 0.2,
    ]
    .iter()
    .enumerate()
    .map(|(i, v)| (format!("2024-{:02}", i % 12 + 1), Some(*v)))
    .collect();
    let values: Vec<Option<f64>> = points.iter().map(|p| p.1).collect();
    let raw = stats::spc::xmr(&values, &stats::spc::Options::default()).unwrap();
    assert!(
        raw.points.iter().any(|p| p.lpl.is_some_and(|l| l < 0.0)),
        "the raw limit is negative"
    );
    let axis = Axis::of_unit("percent");
    let svg = server::svg::spc("Readmissions", &points, stats::spc::Direction::Decrease, &axis);
    assert!(svg.contains("<text class=\"y-title\"") && svg.contains(">Per cent (%)</text>"));
    assert!(svg.contains("<text class=\"x-title\"") && svg.contains(">Month</text>"));
    assert!(svg.matches("class=\"y-tick\"").count() >= 3);
    assert!(
        svg.contains("(clipped to the measure&#39;s possible range)"),
        "{svg}"
    );
    // The lower limit is drawn at 0, the bottom of the chart, never below it.
    let lpl = svg.split("<path class=\"lpl\" d=\"").nth(1).unwrap();
    let d = &lpl[..lpl.find('"').unwrap()];
    let ys: Vec<f64> = d
        .split(['M', 'L'])
        .filter(|s| !s.is_empty())
        .map(|p| p.split(' ').nth(1).unwrap().parse().unwrap())
        .collect();
    let bottom = ys.iter().cloned().fold(f64::MIN, f64::max);
    assert!(
        ys.iter().all(|y| (*y - bottom).abs() < 1e-9),
        "a flat lower limit at 0: {d}"
    );
    assert!(
        svg.contains("<desc>") && svg.contains("process limits 0.00 to"),
        "{svg}"
    );
    assert_eq!(Axis::of_unit("percent").clip(-0.22), 0.0);
    assert_eq!(Axis::of_unit("percent").clip(100.3), 100.0);
    assert_eq!(Axis::of_unit("percentage_points").clip(-3.0), -3.0);
}

#[test]
fn funnel_plots_have_a_denominator_scale_and_a_value_axis() {
    let units: Vec<(String, f64, f64, f64)> = (0..12)
        .map(|i| {
            let d = 500.0 + 400.0 * i as f64;
            let n = (d * 0.12).round() + (i % 3) as f64;
            (format!("U{i}"), n, d, 100.0 * n / d)
        })
        .collect();
    let svg = server::svg::funnel(
        "Readmissions",
        &units,
        stats::funnel::DataType::Proportion,
        100.0,
        "U3",
        &Axis::of_unit("percent"),
        "Denominator (people or events)",
    );
    let position = svg.position.clone().expect("U3 is among the units");
    let svg = svg.svg;
    assert!(svg.contains(">Denominator (people or events)</text>"));
    // The position in words is the one the text alternative gives, read off this funnel.
    assert!(svg.contains(&format!(", {position}.</desc>")), "{svg}");
    assert!(svg.contains(">Per cent (%)</text>"));
    assert!(svg.matches("class=\"x-tick\"").count() >= 3, "{svg}");
    assert!(svg.contains("<desc>12 units;") && svg.contains("U3: "), "{svg}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_organisation_page_has_trends_peers_units_and_readable_explanations() {
    let app = app().await;
    let page = get(&app, &format!("/organisations/{}", app.trust), None).await;
    assert_eq!(page.status, StatusCode::OK);
    let b = &page.body;
    assert!(
        b.matches("<svg class=\"spc\"").count() >= 3,
        "SPC charts per indicator"
    );
    assert!(b.contains("<svg class=\"funnel\""), "a funnel among peers");
    assert!(b.contains("<p class=\"funnel-position\">Among peers: "));
    // The explanation is a table of metric, value, rule and score, not a preformatted block.
    assert!(!b.contains("<pre>"));
    assert!(b.contains("<table class=\"explanation\">"));
    assert!(b.contains("<th scope=\"col\">Rule</th>"));
    // Values carry their unit.
    assert!(
        b.contains(" %</p>") || b.contains(" % <svg"),
        "a percentage with its unit"
    );
    assert!(b.contains(">Per cent (%)</text>"));
    // The peers in the funnel are trusts of the same kind only.
    let kind = &app.state.results.organisation(&app.trust).unwrap().kind;
    let peers = app
        .state
        .results
        .organisations
        .iter()
        .filter(|o| &o.kind == kind)
        .count();
    assert!(b.contains(" peers</title>") && peers >= 5);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_budgets_page_builds_common_terms_from_a_form() {
    let app = app().await;
    let page = get(&app, "/budgets", None).await;
    assert!(page.body.contains("<h2>Build common terms</h2>") && page.body.contains("name=\"shape\""));
    let post = |form: &'static str| crate::post_form(&app, "/budgets", form);
    // A 1% band, 50:50 shares, a £2m cap: £3m over £100m is shared whole, the trust's half
    // is £1.5m (under its cap).
    let html = post(
        "mode=build&shape=gain_loss_share&target=100%2C000%2C000&actual=103000000&provider=Acute+trust&commissioner=CCG&dead_band_pct=1&gain_share_pct=50&loss_share_pct=50&loss_cap=2000000",
    )
    .await;
    assert!(
        html.contains("<td>Acute trust</td><td class=\"num\">-1500000</td>"),
        "{html}"
    );
    assert!(
        html.contains("kind = &quot;gain_loss_share&quot;"),
        "the TOML is shown to edit"
    );
    // A risk corridor: 10% over £100m; the commissioner pays 50% of 3–8% and 80% beyond.
    let html = post(
        "mode=build&shape=risk_corridor&target=100000000&actual=110000000&provider=ACO&commissioner=CCG&band_from_pct=3&band_to_pct=8&band_share_pct=50&beyond_share_pct=80",
    )
    .await;
    // 0.5 × 5m + 0.8 × 2m = 4.1m paid to the ACO.
    assert!(
        html.contains("<td>ACO</td><td class=\"num\">4100000</td>"),
        "{html}"
    );
    // A bad number names the field.
    let html = post("mode=build&shape=gain_loss_share&target=lots&actual=1").await;
    assert!(html.contains("target: &quot;lots&quot;: not a number"), "{html}");
}

#[test]
fn a_flat_series_still_gets_a_readable_scale() {
    let points: Vec<(String, Option<f64>)> = (1..=14).map(|m| (format!("2024-{m:02}"), Some(0.0))).collect();
    let svg = server::svg::spc(
        "Flat",
        &points,
        stats::spc::Direction::Decrease,
        &Axis::of_unit("percent"),
    );
    let labels: Vec<&str> = svg
        .split("class=\"y-tick\"")
        .skip(1)
        .map(|t| &t[t.find('>').unwrap() + 1..t.find("</text>").unwrap()])
        .collect();
    assert!(labels.len() >= 3, "{labels:?}");
    let mut unique = labels.clone();
    unique.dedup();
    assert_eq!(unique.len(), labels.len(), "distinct tick labels: {labels:?}");
    // The last month's label is anchored inside the chart.
    assert!(svg.contains("text-anchor=\"end\">2024-14</text>"), "{svg}");
    assert_eq!(Axis::of_unit("percentagepoints").title, "Percentage points");
}
