//! The stats crate's interval methods as DataFusion SQL functions, so confidence intervals
//! are part of each indicator's plan:
//!
//! - `fp_wilson_lower(x, n, confidence)`, `fp_wilson_upper(x, n, confidence)`: the Wilson
//!   score interval of the proportion x / n (PHEindicatormethods `phe_proportion`);
//! - `fp_poisson_lower(count, confidence)`, `fp_poisson_upper(count, confidence)`: the
//!   Poisson interval of a count, exact below 10 and Byars from 10 (`phe_rate`), to be divided
//!   by a denominator or an expected count;
//! - `fp_byars_lower(count, confidence)`, `fp_byars_upper(count, confidence)`: Byars' limits
//!   at every count, for Dobson's interval of a directly standardised rate (`phe_dsr`).
//!
//! Each returns NULL where the method has no answer (a missing or invalid input).

use arrow::array::{Array, ArrayRef, AsArray, Float64Array};
use arrow::datatypes::{DataType, Float64Type};
use datafusion::error::Result;
use datafusion::logical_expr::{ColumnarValue, ScalarUDF, Volatility, create_udf};
use datafusion::prelude::SessionContext;
use std::sync::Arc;

fn float_args(args: &[ColumnarValue]) -> Result<(Vec<ArrayRef>, usize)> {
    let arrays = ColumnarValue::values_to_arrays(args)?;
    let len = arrays.first().map_or(0, |a| a.len());
    let arrays = arrays
        .into_iter()
        .map(|a| arrow::compute::cast(&a, &DataType::Float64))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok((arrays, len))
}

fn apply(args: &[ColumnarValue], f: impl Fn(&[f64]) -> Option<f64>) -> Result<ColumnarValue> {
    let (arrays, len) = float_args(args)?;
    let columns: Vec<&Float64Array> = arrays.iter().map(|a| a.as_primitive::<Float64Type>()).collect();
    let mut row = vec![0.0; columns.len()];
    let out: Float64Array = (0..len)
        .map(|i| {
            for (c, col) in columns.iter().enumerate() {
                if col.is_null(i) {
                    return None;
                }
                row[c] = col.value(i);
            }
            f(&row).filter(|v| v.is_finite())
        })
        .collect();
    Ok(ColumnarValue::Array(Arc::new(out)))
}

fn udf(name: &str, arity: usize, f: fn(&[f64]) -> Option<f64>) -> ScalarUDF {
    create_udf(
        name,
        vec![DataType::Float64; arity],
        DataType::Float64,
        Volatility::Immutable,
        Arc::new(move |args: &[ColumnarValue]| apply(args, f)),
    )
}

fn wilson(x: f64, n: f64, confidence: f64) -> Option<stats::proportion::Proportion> {
    stats::proportion::wilson(x, n, confidence).ok()
}

fn poisson(count: f64, confidence: f64) -> Option<(f64, f64)> {
    if !(count >= 0.0 && confidence > 0.0 && confidence < 1.0) {
        return None;
    }
    let (lower, upper, _) = stats::rate::poisson_limits(count, confidence);
    Some((lower, upper))
}

fn byars(count: f64, confidence: f64) -> Option<(f64, f64)> {
    (count >= 0.0 && confidence > 0.0 && confidence < 1.0)
        .then(|| stats::rate::byars_limits(count, confidence))
}

/// Every `fp_` function: the confidence limits the published values carry.
pub fn all() -> Vec<ScalarUDF> {
    vec![
        udf("fp_wilson_lower", 3, |a| {
            wilson(a[0], a[1], a[2]).map(|p| p.lower)
        }),
        udf("fp_wilson_upper", 3, |a| {
            wilson(a[0], a[1], a[2]).map(|p| p.upper)
        }),
        udf("fp_poisson_lower", 2, |a| poisson(a[0], a[1]).map(|l| l.0)),
        udf("fp_poisson_upper", 2, |a| poisson(a[0], a[1]).map(|l| l.1)),
        udf("fp_byars_lower", 2, |a| byars(a[0], a[1]).map(|l| l.0)),
        udf("fp_byars_upper", 2, |a| byars(a[0], a[1]).map(|l| l.1)),
    ]
}

/// Registers every `fp_` function with a session.
pub fn register(ctx: &SessionContext) {
    for f in all() {
        ctx.register_udf(f);
    }
}
