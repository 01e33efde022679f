//! Indicators published by others (`external_indicators`, imported from Fingertips) beside
//! the computed ones: rows whose area is an organisation of the dataset or England, for
//! persons, without a category breakdown, and whose period is a month or a financial year,
//! become rows of the indicator table as `fingertips_<id>`, values, counts, denominators and
//! intervals **as published**. They are published data already: no disclosure control is
//! added, and nothing finer than the published rows is derived from them.

use crate::Error;
use arrow::array::{Array, ArrayRef, BooleanArray, Float64Array, RecordBatch, StringArray};
use arrow::datatypes::Float64Type;
use dataset::Dataset;
use model::{Grain, OrgKind};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// The prefix of external indicators' ids in the indicator table.
pub const PREFIX: &str = "fingertips_";

/// What an external indicator is, for the catalogue beside the computed ones.
#[derive(Debug, Clone, PartialEq)]
pub struct ExternalMeta {
    pub id: String,
    pub title: String,
    /// Where it came from: the publisher, its indicator id and the file imported.
    pub source: String,
}

/// The published rows and the indicators they belong to; rows left out are counted by reason.
#[derive(Debug, Default)]
pub struct External {
    pub batches: Vec<RecordBatch>,
    pub meta: Vec<ExternalMeta>,
    pub left_out: BTreeMap<&'static str, usize>,
}

const ENGLAND: &str = "E92000001";

fn text(a: &StringArray, i: usize) -> &str {
    if a.is_null(i) { "" } else { a.value(i) }
}

/// The dataset's external indicators in the published schema (`published_schema`), or
/// nothing if it has no `external_indicators` table.
pub fn published(ds: &Dataset) -> Result<External, Error> {
    let mut out = External::default();
    if !ds.tables.contains_key("external_indicators") {
        return Ok(out);
    }
    let batches = ds.scan("external_indicators").map_err(|r| Error::Read {
        table: "external_indicators".into(),
        message: format!("{} problems", r.error_count),
    })?;
    let levels: HashMap<&str, &'static str> = ds
        .organisations
        .iter()
        .filter_map(|o| {
            let level = match o.kind {
                OrgKind::GpPractice => "practice",
                OrgKind::Commissioner => "commissioner",
                OrgKind::Pcn | OrgKind::LocalAuthority => return None,
                _ => "provider",
            };
            Some((o.code.as_str(), level))
        })
        .collect();
    let mut cols: [Vec<String>; 6] = Default::default();
    let mut nums: [Vec<Option<f64>>; 7] = Default::default();
    let mut seen = BTreeSet::new();
    let mut meta: BTreeMap<String, ExternalMeta> = BTreeMap::new();
    for b in &batches {
        let s = |name: &str| -> Result<&StringArray, Error> {
            b.column_by_name(name)
                .and_then(|c| c.as_any().downcast_ref::<StringArray>())
                .ok_or_else(|| Error::Runtime(format!("external_indicators.{name}: not text")))
        };
        let f = |name: &str| -> Result<&Float64Array, Error> {
            b.column_by_name(name)
                .and_then(|c| {
                    c.as_any()
                        .downcast_ref::<arrow::array::PrimitiveArray<Float64Type>>()
                })
                .ok_or_else(|| Error::Runtime(format!("external_indicators.{name}: not a number")))
        };
        let (id, name, area, sex, cat_type, period, source) = (
            s("indicator_id")?,
            s("indicator_name")?,
            s("area_code")?,
            s("sex")?,
            s("category_type")?,
            s("period")?,
            s("source")?,
        );
        let values = [
            f("count")?,
            f("denominator")?,
            f("value")?,
            f("lower_ci95")?,
            f("upper_ci95")?,
            f("lower_ci998")?,
            f("upper_ci998")?,
        ];
        for i in 0..b.num_rows() {
            let mut skip = |why: &'static str| *out.left_out.entry(why).or_default() += 1;
            if !matches!(text(sex, i), "" | "Persons") || !text(cat_type, i).is_empty() {
                skip("a breakdown by sex or category");
                continue;
            }
            let code = text(area, i);
            let (kind, level) = if code == ENGLAND {
                ("england", "england")
            } else if let Some(level) = levels.get(code) {
                ("organisation", *level)
            } else {
                skip("an area that is not an organisation of the dataset or England");
                continue;
            };
            let grain = match text(period, i).parse::<model::Period>().map(|p| p.grain()) {
                Ok(Grain::FinancialYear) => "financial_year",
                Ok(Grain::Month) => "month",
                _ => {
                    skip("a period that is not a month or a financial year");
                    continue;
                }
            };
            let ind = format!("{PREFIX}{}", text(id, i));
            if !seen.insert((ind.clone(), code.to_string(), text(period, i).to_string())) {
                // England appears twice in an export (with and without its parent): the same row.
                skip("a second row for the same area and period");
                continue;
            }
            meta.entry(ind.clone()).or_insert_with(|| ExternalMeta {
                id: ind.clone(),
                title: text(name, i).to_string(),
                source: format!(
                    "OHID Fingertips, indicator {}, as published (imported from {})",
                    text(id, i),
                    text(source, i)
                ),
            });
            for (c, v) in cols
                .iter_mut()
                .zip([ind.as_str(), kind, code, level, grain, text(period, i)])
            {
                c.push(v.to_string());
            }
            for (n, a) in nums.iter_mut().zip(values) {
                n.push(if a.is_null(i) { None } else { Some(a.value(i)) });
            }
        }
    }
    let n = cols[0].len();
    if n > 0 {
        let mut arrays: Vec<ArrayRef> = cols
            .into_iter()
            .map(|c| Arc::new(StringArray::from(c)) as ArrayRef)
            .collect();
        arrays.extend(
            nums.into_iter()
                .map(|n| Arc::new(Float64Array::from(n)) as ArrayRef),
        );
        arrays.push(Arc::new(BooleanArray::from(vec![false; n])));
        out.batches.push(
            RecordBatch::try_new(crate::published_schema(), arrays)
                .map_err(|e| Error::Runtime(e.to_string()))?,
        );
    }
    out.meta = meta.into_values().collect();
    Ok(out)
}
