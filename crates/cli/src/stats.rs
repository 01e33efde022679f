//! `footprint stats METHOD`: one JSON request in, one JSON response out.
//!
//! The request and response shapes are an interface other tools depend on: the field names
//! and value spellings are those of the reference vectors (NHSRplotthedots, FunnelPlotR,
//! PHEindicatormethods). Unknown request fields are refused, so a misspelt option is an
//! error rather than silently ignored.

use anyhow::{Context, Result, bail};
use clap::ValueEnum;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use stats::disclosure::{Cell, Level, Policy, Rounding};
use stats::{funnel, proportion, rate, spc, standardise};

/// The methods `footprint stats` answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Method {
    /// XmR chart to the Making Data Count rules.
    Spc,
    /// Funnel plot with over-dispersion.
    Funnel,
    /// Proportion with Wilson score interval.
    Proportion,
    /// Crude rate with exact (below 10) or Byars interval.
    Rate,
    /// Directly standardised rate with Dobson interval (ESP 2013 by default).
    Dsr,
    /// Indirectly standardised ratio.
    Isratio,
    /// Indirectly standardised rate.
    Israte,
    /// Disclosure control of a table of counts.
    Disclose,
}

impl Method {
    fn name(self) -> &'static str {
        match self {
            Method::Spc => "spc",
            Method::Funnel => "funnel",
            Method::Proportion => "proportion",
            Method::Rate => "rate",
            Method::Dsr => "dsr",
            Method::Isratio => "isratio",
            Method::Israte => "israte",
            Method::Disclose => "disclose",
        }
    }
}

/// Answers one request.
pub fn answer(method: Method, request: &str) -> Result<Value> {
    let what = || format!("reading the {} request", method.name());
    match method {
        Method::Spc => spc(parse(request).with_context(what)?),
        Method::Funnel => funnel(parse(request).with_context(what)?),
        Method::Proportion => proportion(parse(request).with_context(what)?),
        Method::Rate => rate(parse(request).with_context(what)?),
        Method::Dsr => dsr(parse(request).with_context(what)?),
        Method::Isratio | Method::Israte => isr(method, parse(request).with_context(what)?),
        Method::Disclose => disclose(parse(request).with_context(what)?),
    }
}

fn parse<T: DeserializeOwned>(request: &str) -> Result<T> {
    Ok(serde_json::from_str(request)?)
}

fn num(x: Option<f64>) -> Value {
    x.filter(|v| v.is_finite()).map_or(Value::Null, Value::from)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SpcRequest {
    #[serde(alias = "y")]
    values: Vec<Option<f64>>,
    #[serde(default)]
    improvement_direction: Option<String>,
    #[serde(default)]
    screen_outliers: Option<bool>,
    #[serde(default)]
    fix_after_n_points: Option<usize>,
    #[serde(default)]
    rebase_indices: Vec<usize>,
    #[serde(default)]
    target: Option<f64>,
    #[serde(default)]
    run_length: Option<usize>,
    #[serde(default)]
    trend_length: Option<usize>,
    #[serde(default)]
    two_in_three: Option<String>,
}

fn spc(r: SpcRequest) -> Result<Value> {
    let d = spc::Options::default();
    let options = spc::Options {
        direction: match r.improvement_direction.as_deref() {
            None | Some("increase") => spc::Direction::Increase,
            Some("decrease") => spc::Direction::Decrease,
            Some("neutral") => spc::Direction::Neutral,
            Some(other) => bail!("improvement_direction is {other:?}: must be increase, decrease or neutral"),
        },
        screen_outliers: r.screen_outliers.unwrap_or(d.screen_outliers),
        fix_after_n_points: r.fix_after_n_points,
        rebase_indices: r.rebase_indices,
        target: r.target,
        run_length: r.run_length.unwrap_or(d.run_length),
        trend_length: r.trend_length.unwrap_or(d.trend_length),
        two_in_three: match r.two_in_three.as_deref() {
            None | Some("package") => spc::TwoInThree::Package,
            Some("excel") => spc::TwoInThree::Excel,
            Some(other) => bail!("two_in_three is {other:?}: must be package or excel"),
        },
        short_group_threshold: d.short_group_threshold,
    };
    let chart = spc::xmr(&r.values, &options)?;
    let p = &chart.points;
    let col = |f: &dyn Fn(&spc::Point) -> Value| Value::Array(p.iter().map(f).collect());
    Ok(json!({
        "per_point": {
            "mean": col(&|p| num(p.mean)),
            "lpl": col(&|p| num(p.lpl)),
            "upl": col(&|p| num(p.upl)),
            "outside_limits": col(&|p| json!(p.outside_limits)),
            "relative_to_mean": col(&|p| json!(p.relative_to_mean)),
            "close_to_limits": col(&|p| json!(p.close_to_limits)),
            "special_cause_type": col(&|p| json!(p.special_cause.map(|c| c.label(&options)))),
            "point_type": col(&|p| json!(p.point_type.map(spc::PointType::name))),
            "rebase_group": col(&|p| json!(p.rebase_group)),
            "short_group_warning": col(&|p| json!(p.short_group_warning)),
        },
        "summary": {
            "last_point_type": chart.summary.last_point_type.name(),
            "variation_icon": chart.summary.variation_icon.name(),
            "assurance_type": chart.summary.assurance.map(spc::Assurance::name),
        }
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FunnelRequest {
    #[serde(default)]
    group: Option<Vec<Value>>,
    numerator: Vec<f64>,
    denominator: Vec<f64>,
    data_type: String,
    #[serde(default)]
    sr_method: Option<String>,
    #[serde(default)]
    trim_by: Option<f64>,
    #[serde(default)]
    multiplier: Option<f64>,
    #[serde(default)]
    cqc_limits: Option<String>,
}

fn funnel(r: FunnelRequest) -> Result<Value> {
    let d = funnel::Options::default();
    let data_type = match (r.data_type.as_str(), r.sr_method.as_deref()) {
        ("SR", None | Some("SHMI")) => funnel::DataType::Ratio(funnel::SrMethod::Shmi),
        ("SR", Some("CQC")) => funnel::DataType::Ratio(funnel::SrMethod::Cqc),
        ("SR", Some(other)) => bail!("sr_method is {other:?}: must be SHMI or CQC"),
        ("PR" | "RC", Some(m)) => bail!("sr_method is {m:?}: it applies only to data_type SR"),
        ("PR", None) => funnel::DataType::Proportion,
        ("RC", None) => funnel::DataType::RatioOfCounts,
        (other, _) => bail!("data_type is {other:?}: must be SR, PR or RC"),
    };
    let options = funnel::Options {
        data_type,
        trim_by: r.trim_by.unwrap_or(d.trim_by),
        multiplier: r.multiplier.unwrap_or(d.multiplier),
        cqc_limits: match r.cqc_limits.as_deref() {
            None | Some("squared") => funnel::CqcLimits::Squared,
            Some("funnelplotr") => funnel::CqcLimits::FunnelPlotR,
            Some(other) => bail!("cqc_limits is {other:?}: must be squared or funnelplotr"),
        },
        poisson_limits: true,
    };
    let group = match r.group {
        Some(g) if g.len() != r.numerator.len() => {
            bail!(
                "group has {} values but numerator has {}",
                g.len(),
                r.numerator.len()
            )
        }
        Some(g) => g,
        None => (1..=r.numerator.len()).map(Value::from).collect(),
    };
    let f = funnel::funnel(&r.numerator, &r.denominator, &options)?;
    let u = &f.units;
    let col = |g: &dyn Fn(&funnel::Unit) -> Value| Value::Array(u.iter().map(g).collect());
    Ok(json!({
        "target": f.target,
        "phi": num(Some(f.phi)),
        "tau2": f.tau2,
        "n_used_for_phi": f.n_used_for_phi,
        "od_adjust_effective": f.od_adjust_effective(),
        "per_unit": {
            "group": group,
            "numerator": r.numerator,
            "denominator": r.denominator,
            "rr": col(&|u| num(Some(u.rr))),
            "Y": col(&|u| num(Some(u.y))),
            "s": col(&|u| num(Some(u.s))),
            "Uzscore": col(&|u| num(Some(u.uzscore))),
            "Wuzscore": col(&|u| num(u.wuzscore)),
            "LCL95": col(&|u| num(Some(u.poisson.lower95))),
            "UCL95": col(&|u| num(Some(u.poisson.upper95))),
            "LCL99": col(&|u| num(Some(u.poisson.lower998))),
            "UCL99": col(&|u| num(Some(u.poisson.upper998))),
            "OD95LCL": col(&|u| num(Some(u.overdispersed.lower95))),
            "OD95UCL": col(&|u| num(Some(u.overdispersed.upper95))),
            "OD99LCL": col(&|u| num(Some(u.overdispersed.lower998))),
            "OD99UCL": col(&|u| num(Some(u.overdispersed.upper998))),
            "outlier95": col(&|u| json!(u8::from(u.outlier95))),
            "outlier99": col(&|u| json!(u8::from(u.outlier998))),
        }
    }))
}

/// A lower and upper limit, either of which may be unpublished.
type Limits = (Option<f64>, Option<f64>);

/// One confidence level or several; PHEindicatormethods names the limits `lowercl` for one
/// and `lower95_0cl`, `lower99_8cl`, … for several.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Confidence {
    One(f64),
    Many(Vec<f64>),
}

impl Confidence {
    fn levels(&self) -> Vec<f64> {
        match self {
            Confidence::One(c) => vec![*c],
            Confidence::Many(c) => c.clone(),
        }
    }

    /// Adds the limits to `out` under PHEindicatormethods' names.
    fn put(&self, out: &mut Map<String, Value>, limits: &[Limits]) {
        match self {
            Confidence::One(_) => {
                out.insert("lowercl".into(), num(limits[0].0));
                out.insert("uppercl".into(), num(limits[0].1));
            }
            Confidence::Many(levels) => {
                for (c, (lo, hi)) in levels.iter().zip(limits) {
                    let pct = c * 100.0;
                    let suffix = format!("{}_{}", pct.trunc(), ((pct - pct.trunc()) * 10.0).round());
                    out.insert(format!("lower{suffix}cl"), num(*lo));
                    out.insert(format!("upper{suffix}cl"), num(*hi));
                }
            }
        }
    }
}

fn default_confidence() -> Confidence {
    Confidence::One(0.95)
}

fn per_100k() -> f64 {
    100_000.0
}

fn one() -> f64 {
    1.0
}

fn check_levels(c: &Confidence) -> Result<Vec<f64>> {
    let levels = c.levels();
    if levels.is_empty() {
        bail!("confidence is empty: give a level such as 0.95, or a list such as [0.95, 0.998]");
    }
    Ok(levels)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CountRequest {
    x: f64,
    n: f64,
    #[serde(default = "default_confidence")]
    confidence: Confidence,
    #[serde(default)]
    multiplier: Option<f64>,
}

fn proportion(r: CountRequest) -> Result<Value> {
    let m = r.multiplier.unwrap_or(1.0);
    let mut limits = Vec::new();
    let mut value = 0.0;
    for c in check_levels(&r.confidence)? {
        let p = proportion::wilson(r.x, r.n, c)?;
        value = p.value * m;
        limits.push((Some(p.lower * m), Some(p.upper * m)));
    }
    let mut out = Map::new();
    out.insert("value".into(), num(Some(value)));
    r.confidence.put(&mut out, &limits);
    Ok(Value::Object(out))
}

fn rate(r: CountRequest) -> Result<Value> {
    let m = r.multiplier.unwrap_or(per_100k());
    let rates = check_levels(&r.confidence)?
        .into_iter()
        .map(|c| rate::crude_rate(r.x, r.n, c, m))
        .collect::<Result<Vec<_>, _>>()?;
    let limits: Vec<_> = rates.iter().map(|i| (Some(i.lower), Some(i.upper))).collect();
    let mut out = Map::new();
    out.insert("value".into(), num(Some(rates[0].value)));
    r.confidence.put(&mut out, &limits);
    out.insert("method".into(), rates[0].method.name().into());
    Ok(Value::Object(out))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DsrRequest {
    x: Vec<f64>,
    n: Vec<f64>,
    #[serde(default)]
    stdpop: Option<Vec<f64>>,
    #[serde(default)]
    ageband: Option<Vec<String>>,
    #[serde(default = "default_confidence")]
    confidence: Confidence,
    #[serde(default = "per_100k")]
    multiplier: f64,
    #[serde(default)]
    independent_events: Option<bool>,
}

fn dsr(r: DsrRequest) -> Result<Value> {
    if r.independent_events == Some(false) {
        bail!(
            "independent_events is false: Dobson intervals for non-independent events need each person's event frequency, which this request cannot carry; only independent events are supported"
        );
    }
    let stdpop = r.stdpop.unwrap_or_else(|| standardise::ESP2013.to_vec());
    if let Some(bands) = &r.ageband
        && bands.len() != r.x.len()
    {
        bail!("ageband has {} values but x has {}", bands.len(), r.x.len());
    }
    let levels = check_levels(&r.confidence)?;
    let d = standardise::dsr(&r.x, &r.n, &stdpop, &levels, r.multiplier)?;
    let mut out = Map::new();
    out.insert("total_count".into(), num(Some(d.total_count)));
    out.insert("total_pop".into(), num(Some(d.total_pop)));
    let (value, limits): (Option<f64>, Vec<Limits>) = match &d.estimate {
        Some((v, l)) => (Some(*v), l.iter().map(|(a, b)| (Some(*a), Some(*b))).collect()),
        None => (None, vec![(None, None); levels.len()]),
    };
    out.insert("value".into(), num(value));
    r.confidence.put(&mut out, &limits);
    let statistic = if d.estimate.is_some() {
        format!("dsr per {}", r.multiplier)
    } else {
        format!("dsr NA for total count < {}", standardise::DSR_MIN_COUNT)
    };
    out.insert("statistic".into(), statistic.into());
    Ok(Value::Object(out))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IsrRequest {
    x: Vec<f64>,
    n: Vec<f64>,
    x_ref: Vec<f64>,
    n_ref: Vec<f64>,
    #[serde(default = "default_confidence")]
    confidence: Confidence,
    #[serde(default)]
    multiplier: Option<f64>,
    #[serde(default)]
    refvalue: Option<f64>,
}

fn isr(method: Method, r: IsrRequest) -> Result<Value> {
    let levels = check_levels(&r.confidence)?;
    let i = if method == Method::Isratio {
        if r.multiplier.is_some() {
            bail!("multiplier applies to israte; an isratio takes refvalue");
        }
        standardise::isratio(
            &r.x,
            &r.n,
            &r.x_ref,
            &r.n_ref,
            &levels,
            r.refvalue.unwrap_or(one()),
        )?
    } else {
        if r.refvalue.is_some() {
            bail!("refvalue applies to isratio; an israte takes multiplier");
        }
        standardise::israte(
            &r.x,
            &r.n,
            &r.x_ref,
            &r.n_ref,
            &levels,
            r.multiplier.unwrap_or(per_100k()),
        )?
    };
    let mut out = Map::new();
    out.insert("observed".into(), num(Some(i.observed)));
    out.insert("expected".into(), num(Some(i.expected)));
    if let Some(rr) = i.ref_rate {
        out.insert("ref_rate".into(), num(Some(rr)));
    }
    out.insert("value".into(), num(Some(i.value)));
    let limits: Vec<_> = i.limits.iter().map(|(a, b)| (Some(*a), Some(*b))).collect();
    r.confidence.put(&mut out, &limits);
    out.insert("method".into(), i.method.name().into());
    Ok(Value::Object(out))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DiscloseRequest {
    /// Rows of counts of people or events.
    cells: Vec<Vec<u64>>,
    #[serde(default)]
    national: bool,
    #[serde(default)]
    rounding: Option<String>,
}

fn disclose(r: DiscloseRequest) -> Result<Value> {
    if let Some(row) = r.cells.iter().position(|row| row.len() != r.cells[0].len()) {
        bail!(
            "cells[{row}] has {} values but cells[0] has {}",
            r.cells[row].len(),
            r.cells[0].len()
        );
    }
    let policy = Policy {
        rounding: match r.rounding.as_deref() {
            None | Some("nearest") => Rounding::Nearest,
            Some("midpoint6") => Rounding::Midpoint6,
            Some(other) => bail!("rounding is {other:?}: must be nearest or midpoint6"),
        },
        ..Policy::default()
    };
    let level = if r.national {
        Level::National
    } else {
        Level::Subnational
    };
    let t = policy.table(&r.cells, level);
    let cell = |c: &Cell<u64>| c.value().map_or(Value::Null, Value::from);
    let flag = |c: &Cell<u64>| Value::from(c.is_suppressed());
    let line = |cs: &[Cell<u64>], f: &dyn Fn(&Cell<u64>) -> Value| Value::Array(cs.iter().map(f).collect());
    Ok(json!({
        "cells": t.cells.iter().map(|r| line(r, &cell)).collect::<Vec<_>>(),
        "suppressed": t.cells.iter().map(|r| line(r, &flag)).collect::<Vec<_>>(),
        "row_totals": line(&t.row_totals, &cell),
        "row_totals_suppressed": line(&t.row_totals, &flag),
        "col_totals": line(&t.col_totals, &cell),
        "col_totals_suppressed": line(&t.col_totals, &flag),
        "grand_total": cell(&t.grand_total),
        "grand_total_suppressed": flag(&t.grand_total),
        "rule": if r.national { "national figures are exempt".to_string() } else { policy.rounding.label(&policy) },
    }))
}

/// `footprint stats METHOD`: reads the request from `input` (or stdin) and prints the
/// response.
pub fn run(method: Method, input: Option<&std::path::Path>) -> Result<std::process::ExitCode> {
    use std::io::Read;
    let mut request = String::new();
    match input {
        Some(path) => {
            request = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        }
        None => {
            std::io::stdin()
                .read_to_string(&mut request)
                .context("reading the request from stdin")?;
        }
    }
    let response = answer(method, &request)?;
    crate::output::emit(&(serde_json::to_string_pretty(&response)? + "\n"));
    Ok(std::process::ExitCode::SUCCESS)
}
