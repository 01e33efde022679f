//! How much of each footprint is on new terms: the share of contract spend paid by capitation,
//! through an alliance or from a pooled budget (`contracts.payment_basis`), and the share of
//! the registered population covered, by financial year for every system, region and England.
//!
//! A practice's registered population is covered in a year when its commissioner pays at least
//! one provider on those terms that year, or when the practice is a member of a new care model
//! that settles under them (the office's care-model organisations). Population is the
//! practice's list in the latest month of the year the `population` table has.

use std::collections::{BTreeMap, HashMap, HashSet};

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Float64Type};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The payment bases that count as new terms.
pub const NEW_TERMS: [&str; 3] = ["capitation", "alliance", "pooled"];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Coverage {
    /// `system`, `region` or `england`.
    pub level: String,
    pub code: String,
    pub name: String,
    /// Financial year, `2016/17`.
    pub year: String,
    pub spend: f64,
    pub spend_new_terms: f64,
    /// Share of spend on new terms (null when there is no contract spend).
    pub spend_share: Option<f64>,
    /// Spend by payment basis.
    pub by_basis: BTreeMap<String, f64>,
    pub population: f64,
    pub population_covered: f64,
    pub population_share: Option<f64>,
}

fn engine_error(e: impl std::fmt::Display) -> Error {
    Error::Refused(format!("reading the dataset: {e}"))
}

fn text_col(b: &arrow::record_batch::RecordBatch, i: usize) -> Result<arrow::array::ArrayRef> {
    arrow::compute::cast(b.column(i), &DataType::Utf8).map_err(engine_error)
}

fn num_col(b: &arrow::record_batch::RecordBatch, i: usize) -> Result<arrow::array::ArrayRef> {
    arrow::compute::cast(b.column(i), &DataType::Float64).map_err(engine_error)
}

/// Coverage from the dataset, with `members` the practices of new care models on new terms.
pub fn coverage(
    ds: &dataset::Dataset,
    engine: &engine::Engine,
    members: &HashSet<String>,
) -> Result<Vec<Coverage>> {
    // Contract spend by year, commissioner and basis.
    let mut spend: BTreeMap<(String, String, String), f64> = BTreeMap::new();
    if engine.has_table("contracts") {
        for b in engine
            .query(
                "SELECT period, commissioner_code, payment_basis, sum(coalesce(value, 0)) \
                 FROM contracts GROUP BY 1, 2, 3",
            )
            .map_err(engine_error)?
        {
            let (p, c, k, v) = (
                text_col(&b, 0)?,
                text_col(&b, 1)?,
                text_col(&b, 2)?,
                num_col(&b, 3)?,
            );
            let (p, c, k, v) = (
                p.as_string::<i32>(),
                c.as_string::<i32>(),
                k.as_string::<i32>(),
                v.as_primitive::<Float64Type>(),
            );
            for i in 0..b.num_rows() {
                if !v.is_null(i) {
                    *spend
                        .entry((
                            p.value(i).to_string(),
                            c.value(i).to_string(),
                            k.value(i).to_string(),
                        ))
                        .or_default() += v.value(i);
                }
            }
        }
    }
    let years: Vec<String> = spend
        .keys()
        .map(|k| k.0.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    // Practice lists: the latest month of each financial year.
    let mut lists: BTreeMap<String, BTreeMap<String, HashMap<String, f64>>> = BTreeMap::new();
    if engine.has_table("population") {
        for b in engine
            .query("SELECT period, practice_code, sum(persons) FROM population GROUP BY 1, 2")
            .map_err(engine_error)?
        {
            let (p, c, v) = (text_col(&b, 0)?, text_col(&b, 1)?, num_col(&b, 2)?);
            let (p, c, v) = (
                p.as_string::<i32>(),
                c.as_string::<i32>(),
                v.as_primitive::<Float64Type>(),
            );
            for i in 0..b.num_rows() {
                let Ok(month) = p.value(i).parse::<model::Month>() else {
                    continue;
                };
                let fy = month.financial_year();
                let label = model::Period::Year(fy).to_string();
                lists
                    .entry(label)
                    .or_default()
                    .entry(p.value(i).to_string())
                    .or_default()
                    .insert(
                        c.value(i).to_string(),
                        if v.is_null(i) { 0.0 } else { v.value(i) },
                    );
            }
        }
    }
    let org: HashMap<&str, &dataset::Organisation> =
        ds.organisations.iter().map(|o| (o.code.as_str(), o)).collect();
    let system_region: HashMap<&str, &str> = ds
        .systems
        .iter()
        .map(|s| (s.code.as_str(), s.region.as_str()))
        .collect();
    let place = |commissioner: &str| -> (Option<String>, Option<String>) {
        let o = org.get(commissioner);
        let system = o.and_then(|o| o.system.clone());
        let region = system
            .as_deref()
            .and_then(|s| system_region.get(s).map(|r| r.to_string()))
            .or_else(|| o.and_then(|o| o.region.clone()));
        (system, region)
    };
    // (level, code) -> year -> accumulators
    #[derive(Default, Clone)]
    struct Acc {
        spend: f64,
        new_terms: f64,
        by_basis: BTreeMap<String, f64>,
        population: f64,
        covered: f64,
    }
    let mut acc: BTreeMap<(u8, String), BTreeMap<String, Acc>> = BTreeMap::new();
    let keys = |commissioner: &str| {
        let (s, r) = place(commissioner);
        let mut k = vec![(2u8, "E92000001".to_string())];
        if let Some(r) = r {
            k.push((1, r));
        }
        if let Some(s) = s {
            k.push((0, s));
        }
        k
    };
    let mut on_new_terms: HashSet<(String, String)> = HashSet::new();
    for ((year, commissioner, basis), v) in &spend {
        let new = NEW_TERMS.contains(&basis.as_str());
        if new && *v > 0.0 {
            on_new_terms.insert((year.clone(), commissioner.clone()));
        }
        for k in keys(commissioner) {
            let a = acc.entry(k).or_default().entry(year.clone()).or_default();
            a.spend += v;
            if new {
                a.new_terms += v;
            }
            *a.by_basis.entry(basis.clone()).or_default() += v;
        }
    }
    for year in &years {
        let Some(months) = lists.get(year) else { continue };
        let Some((_, practices)) = months.iter().next_back() else {
            continue;
        };
        for (practice, persons) in practices {
            let Some(commissioner) = org.get(practice.as_str()).and_then(|o| o.parent.clone()) else {
                continue;
            };
            let covered =
                members.contains(practice) || on_new_terms.contains(&(year.clone(), commissioner.clone()));
            for k in keys(&commissioner) {
                let a = acc.entry(k).or_default().entry(year.clone()).or_default();
                a.population += persons;
                if covered {
                    a.covered += persons;
                }
            }
        }
    }
    let names: HashMap<&str, &str> = ds
        .systems
        .iter()
        .map(|s| (s.code.as_str(), s.name.as_str()))
        .chain(ds.regions.iter().map(|r| (r.code.as_str(), r.name.as_str())))
        .collect();
    let mut out = Vec::new();
    for ((level, code), by_year) in acc {
        for (year, a) in by_year {
            out.push(Coverage {
                level: ["system", "region", "england"][level as usize].into(),
                name: if level == 2 {
                    "England".into()
                } else {
                    names
                        .get(code.as_str())
                        .map_or_else(|| code.clone(), |n| n.to_string())
                },
                code: code.clone(),
                year,
                spend: a.spend,
                spend_new_terms: a.new_terms,
                spend_share: (a.spend > 0.0).then(|| a.new_terms / a.spend),
                by_basis: a.by_basis,
                population: a.population,
                population_covered: a.covered,
                population_share: (a.population > 0.0).then(|| a.covered / a.population),
            });
        }
    }
    out.sort_by(|a, b| {
        let rank = |l: &str| match l {
            "england" => 0,
            "region" => 1,
            _ => 2,
        };
        (rank(&a.level), &a.code, &a.year).cmp(&(rank(&b.level), &b.code, &b.year))
    });
    Ok(out)
}
