//! An outcome's published monthly series by level and unit, read from the published indicator
//! table (so everything an evaluation serves is derived from what is published: suppressed
//! cells are missing, counts are the rounded ones).

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::Float64Type;
use model::Month;
use std::collections::BTreeMap;

/// A unit's numerators and denominators by month (None where suppressed or absent).
pub type Series = (Vec<Option<f64>>, Vec<Option<f64>>);

/// One outcome's monthly panel.
#[derive(Debug, Clone, Default)]
pub struct Panel {
    pub indicator: String,
    pub months: Vec<Month>,
    /// value = numerator / denominator × multiplier (read from the published rows).
    pub multiplier: f64,
    /// level → unit code → series.
    pub levels: BTreeMap<String, BTreeMap<String, Series>>,
}

fn column<'a>(b: &'a RecordBatch, name: &str) -> crate::Result<&'a arrow::array::ArrayRef> {
    b.schema()
        .index_of(name)
        .map(|i| b.column(i))
        .map_err(|_| crate::Error::Refused(format!("the published table has no column `{name}`")))
}

impl Panel {
    /// The monthly rows of `indicator` in the published table.
    pub fn from_published(batches: &[RecordBatch], indicator: &str) -> crate::Result<Panel> {
        // (level, code, month, numerator, denominator, value)
        type Row = (String, String, Month, Option<f64>, Option<f64>, Option<f64>);
        let mut rows: Vec<Row> = Vec::new();
        for b in batches {
            let id = column(b, "indicator_id")?.as_string::<i32>();
            let code = column(b, "entity_code")?.as_string::<i32>();
            let level = column(b, "level")?.as_string::<i32>();
            let grain = column(b, "grain")?.as_string::<i32>();
            let period = column(b, "period")?.as_string::<i32>();
            let num = column(b, "numerator")?.as_primitive::<Float64Type>();
            let den = column(b, "denominator")?.as_primitive::<Float64Type>();
            let value = column(b, "value")?.as_primitive::<Float64Type>();
            for i in 0..b.num_rows() {
                if id.value(i) != indicator || grain.value(i) != "month" {
                    continue;
                }
                let Ok(m) = period.value(i).parse::<Month>() else {
                    continue;
                };
                let get = |a: &arrow::array::PrimitiveArray<Float64Type>| (!a.is_null(i)).then(|| a.value(i));
                rows.push((
                    level.value(i).to_string(),
                    code.value(i).to_string(),
                    m,
                    get(num),
                    get(den),
                    get(value),
                ));
            }
        }
        if rows.is_empty() {
            return Err(crate::Error::Refused(format!(
                "outcome `{indicator}`: no monthly rows in the published table (an indicator with a month grain is needed)"
            )));
        }
        let mut months: Vec<Month> = rows.iter().map(|r| r.2).collect();
        months.sort_unstable();
        months.dedup();
        let first = months[0];
        let last = *months.last().unwrap_or(&first);
        let months: Vec<Month> = (0..=first.months_until(last)).map(|k| first.plus(k)).collect();
        let index = |m: Month| first.months_until(m) as usize;
        let mut ratios: Vec<f64> = rows
            .iter()
            .filter_map(|r| match (r.3, r.4, r.5) {
                (Some(n), Some(d), Some(v)) if n > 0.0 && d > 0.0 => Some(v / (n / d)),
                _ => None,
            })
            .collect();
        ratios.sort_by(f64::total_cmp);
        let multiplier = ratios.get(ratios.len() / 2).copied().unwrap_or(1.0);
        let mut levels: BTreeMap<String, BTreeMap<String, Series>> = BTreeMap::new();
        let n = months.len();
        for (level, code, m, num, den, _) in rows {
            let s = levels
                .entry(level)
                .or_default()
                .entry(code)
                .or_insert_with(|| (vec![None; n], vec![None; n]));
            s.0[index(m)] = num;
            s.1[index(m)] = den;
        }
        Ok(Panel {
            indicator: indicator.to_string(),
            months,
            multiplier,
            levels,
        })
    }

    /// The pooled series of some units of a level: sums where every unit is published, None
    /// otherwise.
    pub fn pooled(&self, level: &str, codes: &[String]) -> Option<Series> {
        let units = self.levels.get(level)?;
        let found: Vec<&Series> = codes.iter().filter_map(|c| units.get(c)).collect();
        if found.is_empty() {
            return None;
        }
        let n = self.months.len();
        let mut num = vec![Some(0.0); n];
        let mut den = vec![Some(0.0); n];
        for s in found {
            for t in 0..n {
                num[t] = num[t].zip(s.0[t]).map(|(a, b)| a + b);
                den[t] = den[t].zip(s.1[t]).map(|(a, b)| a + b);
            }
        }
        Some((num, den))
    }

    /// Rates of a series (None where missing).
    pub fn rates(&self, s: &Series) -> Vec<Option<f64>> {
        s.0.iter()
            .zip(&s.1)
            .map(|(n, d)| match (n, d) {
                (Some(n), Some(d)) if *d > 0.0 => Some(n / d * self.multiplier),
                _ => None,
            })
            .collect()
    }
}
