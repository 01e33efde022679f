//! The indicator engine on a hand-made dataset (`tests/data/tiny`, values computed by hand
//! in the comments below), on the real England reference data, and against the catalogue's
//! validation rules.

mod attack;
mod catalogue;
mod external;
mod mart;
mod planted;
mod tiny;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::Float64Type;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

pub fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// One computed row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub numerator: Option<f64>,
    pub denominator: Option<f64>,
    pub value: Option<f64>,
    pub lower_95: Option<f64>,
    pub upper_95: Option<f64>,
    pub lower_998: Option<f64>,
    pub upper_998: Option<f64>,
    pub kind: String,
    pub suppressed: Option<bool>,
}

/// Rows by (indicator, entity code, grain, period).
pub type Rows = HashMap<(String, String, String, String), Row>;

pub fn rows(batches: &[RecordBatch]) -> Rows {
    let mut out = HashMap::new();
    for b in batches {
        let s = |c: usize| b.column(c).as_string::<i32>();
        let f = |c: usize, i: usize| {
            let a = b.column(c).as_primitive::<Float64Type>();
            (!a.is_null(i)).then(|| a.value(i))
        };
        for i in 0..b.num_rows() {
            let key = (
                s(0).value(i).to_string(),
                s(2).value(i).to_string(),
                s(4).value(i).to_string(),
                s(5).value(i).to_string(),
            );
            let row = Row {
                numerator: f(6, i),
                denominator: f(7, i),
                value: f(8, i),
                lower_95: f(9, i),
                upper_95: f(10, i),
                lower_998: f(11, i),
                upper_998: f(12, i),
                kind: s(1).value(i).to_string(),
                suppressed: (b.num_columns() > 13).then(|| b.column(13).as_boolean().value(i)),
            };
            assert!(out.insert(key.clone(), row).is_none(), "duplicate row {key:?}");
        }
    }
    out
}

pub fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}
