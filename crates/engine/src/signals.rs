//! `indicator_signals`: beside each computed value, its statistical position, from the
//! unsuppressed values:
//!
//! - **SPC** (Making Data Count XmR rules, `stats::spc`) on every monthly and quarterly series
//!   of at least 12 points: the point's type, and the series' variation icon and assurance
//!   against the indicator's target (from the latest point);
//! - **funnel position** (`stats::funnel`) of every cross-section of organisations or systems
//!   (one indicator, grain, period and level): the z-score and whether the unit lies within
//!   the funnel, beyond 95% or beyond 99.8%, high or low. Proportions use FunnelPlotR's
//!   proportion method, standardised ratios its SHMI method and rates its ratio of counts;
//!   indicators without a count-based interval (money, beds, staff) have no funnel.

use crate::Error;
use crate::catalogue::{Ci, Direction, Grain, Indicator};
use arrow::array::{Array, ArrayRef, AsArray, Float64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Float64Type, Schema, SchemaRef};
use foldhash::HashMap;
use std::sync::Arc;

/// The fewest points an SPC chart is drawn on.
pub const MIN_SPC_POINTS: usize = 12;

pub fn schema() -> SchemaRef {
    let s = |n: &str| {
        Field::new(
            n,
            DataType::Utf8,
            n != "indicator_id"
                && n != "entity_kind"
                && n != "entity_code"
                && n != "level"
                && n != "grain"
                && n != "period",
        )
    };
    Arc::new(Schema::new(vec![
        s("indicator_id"),
        s("entity_kind"),
        s("entity_code"),
        s("level"),
        s("grain"),
        s("period"),
        s("spc_point"),
        s("spc_variation"),
        s("spc_assurance"),
        Field::new("funnel_z", DataType::Float64, true),
        s("funnel_position"),
        s("funnel_side"),
    ]))
}

#[derive(Debug, Clone, Default)]
struct Signal {
    spc_point: Option<&'static str>,
    spc_variation: Option<&'static str>,
    spc_assurance: Option<&'static str>,
    funnel_z: Option<f64>,
    funnel_position: Option<&'static str>,
    funnel_side: Option<&'static str>,
}

/// One computed row: where it is and its numbers; texts point into the batches.
struct Value<'a> {
    key: [&'a str; 6],
    numerator: Option<f64>,
    denominator: Option<f64>,
    value: Option<f64>,
}

fn read(batches: &[RecordBatch]) -> Vec<Value<'_>> {
    let mut out = Vec::with_capacity(batches.iter().map(RecordBatch::num_rows).sum());
    for b in batches {
        let texts: [&StringArray; 6] = std::array::from_fn(|c| b.column(c).as_string::<i32>());
        let numbers: [&Float64Array; 3] =
            std::array::from_fn(|c| b.column(6 + c).as_primitive::<Float64Type>());
        let f = |c: usize, i: usize| (!numbers[c].is_null(i)).then(|| numbers[c].value(i));
        for i in 0..b.num_rows() {
            out.push(Value {
                key: std::array::from_fn(|c| texts[c].value(i)),
                numerator: f(0, i),
                denominator: f(1, i),
                value: f(2, i),
            });
        }
    }
    out
}

/// `x` to 12 significant figures.
fn significant(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let scale = 10f64.powi(11 - x.abs().log10().floor() as i32);
    (x * scale).round() / scale
}

fn spc_direction(d: Direction) -> stats::spc::Direction {
    match d {
        Direction::Higher => stats::spc::Direction::Increase,
        Direction::Lower => stats::spc::Direction::Decrease,
        Direction::None => stats::spc::Direction::Neutral,
    }
}

/// The signals of one indicator's computed (unsuppressed) rows, one row per value row.
pub fn signals(ind: &Indicator, batches: &[RecordBatch]) -> Result<RecordBatch, Error> {
    let values = read(batches);
    let mut signals: Vec<Signal> = vec![Signal::default(); values.len()];

    // SPC: series by (entity kind, code, level, grain), monthly and quarterly.
    let mut series: HashMap<(&str, &str, &str, &str), Vec<usize>> = HashMap::default();
    for (i, v) in values.iter().enumerate() {
        if v.key[4] == Grain::Month.as_str() || v.key[4] == Grain::Quarter.as_str() {
            series
                .entry((v.key[1], v.key[2], v.key[3], v.key[4]))
                .or_default()
                .push(i);
        }
    }
    for rows in series.values_mut() {
        rows.sort_by(|a, b| values[*a].key[5].cmp(values[*b].key[5]));
        if rows.len() < MIN_SPC_POINTS {
            continue;
        }
        // Values are sums of decimals (money, whole-time equivalents) divided: the same
        // total reached in another order differs in the last bit, which would make or break
        // a run of equal points. The chart reads them to 12 significant figures.
        let points: Vec<Option<f64>> = rows.iter().map(|&r| values[r].value.map(significant)).collect();
        let options = stats::spc::Options {
            direction: spc_direction(ind.direction),
            target: ind.target,
            ..Default::default()
        };
        let Ok(chart) = stats::spc::xmr(&points, &options) else {
            continue;
        };
        for (p, &r) in chart.points.iter().zip(rows.iter()) {
            signals[r].spc_point = p.point_type.map(|t| t.name());
            signals[r].spc_variation = Some(chart.summary.variation_icon.name());
            signals[r].spc_assurance = chart.summary.assurance.map(|a| a.name());
        }
    }

    // Funnels: cross-sections by (grain, period, level), below region level.
    let data_type = match ind.ci {
        Ci::Wilson => Some(stats::funnel::DataType::Proportion),
        Ci::Isr => Some(stats::funnel::DataType::Ratio(stats::funnel::SrMethod::Shmi)),
        Ci::Byars if ind.denominator.is_some() => Some(stats::funnel::DataType::RatioOfCounts),
        _ => None,
    };
    if let Some(data_type) = data_type {
        let mut sections: HashMap<(&str, &str, &str), Vec<usize>> = HashMap::default();
        for (i, v) in values.iter().enumerate() {
            let usable = matches!((v.numerator, v.denominator), (Some(n), Some(d)) if n >= 0.0 && d > 0.0);
            if usable && v.key[1] != "region" && v.key[1] != "england" {
                sections
                    .entry((v.key[4], v.key[5], v.key[3]))
                    .or_default()
                    .push(i);
            }
        }
        for rows in sections.values() {
            if rows.len() < 3 {
                continue;
            }
            let n: Vec<f64> = rows.iter().map(|&r| values[r].numerator.unwrap_or(0.0)).collect();
            let d: Vec<f64> = rows
                .iter()
                .map(|&r| values[r].denominator.unwrap_or(0.0))
                .collect();
            let options = stats::funnel::Options {
                data_type,
                // Only the outlier flags and z-scores are kept.
                poisson_limits: false,
                ..Default::default()
            };
            let Ok(funnel) = stats::funnel::funnel(&n, &d, &options) else {
                continue;
            };
            for (u, &r) in funnel.units.iter().zip(rows.iter()) {
                let s = &mut signals[r];
                s.funnel_z = u.wuzscore.or(Some(u.uzscore)).filter(|z| z.is_finite());
                s.funnel_position = Some(if u.outlier998 {
                    "beyond_998"
                } else if u.outlier95 {
                    "beyond_95"
                } else {
                    "within"
                });
                s.funnel_side = (u.outlier95 || u.outlier998).then_some(if u.rr > funnel.target {
                    "high"
                } else {
                    "low"
                });
            }
        }
    }

    let text = |f: &dyn Fn(&Signal) -> Option<&'static str>| -> ArrayRef {
        Arc::new(signals.iter().map(f).collect::<StringArray>())
    };
    // The row's place is the computed rows' own columns.
    let mut columns: Vec<ArrayRef> = (0..6)
        .map(|c| {
            let parts: Vec<&dyn Array> = batches.iter().map(|b| b.column(c).as_ref()).collect();
            if parts.is_empty() {
                Ok(Arc::new(StringArray::from(Vec::<&str>::new())) as ArrayRef)
            } else {
                arrow::compute::concat(&parts)
            }
        })
        .collect::<Result<_, _>>()
        .map_err(|e| Error::Runtime(e.to_string()))?;
    columns.push(text(&|s| s.spc_point));
    columns.push(text(&|s| s.spc_variation));
    columns.push(text(&|s| s.spc_assurance));
    columns.push(Arc::new(
        signals.iter().map(|s| s.funnel_z).collect::<Float64Array>(),
    ));
    columns.push(text(&|s| s.funnel_position));
    columns.push(text(&|s| s.funnel_side));
    RecordBatch::try_new(schema(), columns).map_err(|e| Error::Runtime(e.to_string()))
}

/// `signals` with every signal of a row that `published` marks suppressed set to null: the
/// signals that may leave the process. Signals have one row per value row, in order
/// ([`signals`]), and the published rows are the same rows, so the rows match by position.
pub fn published(signals: &RecordBatch, published: &[RecordBatch]) -> Result<RecordBatch, Error> {
    let mut hidden = Vec::with_capacity(signals.num_rows());
    for b in published {
        let suppressed = b
            .column_by_name("suppressed")
            .and_then(|c| c.as_boolean_opt())
            .ok_or_else(|| Error::Runtime("published rows without a suppressed column".into()))?;
        hidden.extend(suppressed.iter().map(|x| Some(x == Some(true))));
    }
    if hidden.len() != signals.num_rows() {
        return Err(Error::Runtime(format!(
            "{} signals for {} published rows",
            signals.num_rows(),
            hidden.len()
        )));
    }
    let mask = arrow::array::BooleanArray::from(hidden);
    let mut columns = signals.columns().to_vec();
    for c in columns.iter_mut().skip(6) {
        *c = arrow::compute::nullif(c, &mask).map_err(|e| Error::Runtime(e.to_string()))?;
    }
    RecordBatch::try_new(schema(), columns).map_err(|e| Error::Runtime(e.to_string()))
}

/// Reads a signals batch's text column (for tests and tools).
pub fn text(batch: &RecordBatch, column: &str, row: usize) -> Option<String> {
    let a = batch.column_by_name(column)?.as_string_opt::<i32>()?;
    (!a.is_null(row)).then(|| a.value(row).to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn significant_figures_remove_last_bit_noise_only() {
        use super::significant;
        assert_eq!(significant(43.400000000000006), 43.4);
        assert_eq!(significant(0.1 + 0.2), 0.3);
        assert_eq!(significant(6.329113924050633), 6.32911392405);
        assert_eq!(significant(-1234.5678901234567), -1234.56789012);
        assert_eq!(significant(0.0), 0.0);
        assert!(significant(f64::NAN).is_nan());
        assert_ne!(significant(1.000000001), significant(1.000000002));
    }
}
