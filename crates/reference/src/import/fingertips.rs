//! `footprint import fingertips`: any Fingertips CSV export (OHID's standard 27-column
//! layout) as **external indicators**: values, counts, denominators and intervals kept as
//! published, with the file they came from, in `external_indicators`.

use super::sheet::{Grid, Header};
use super::{Imported, Target, column_sum, file_error, fmt_num, number};
use crate::Result;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Output column ← the export's column.
pub const COLUMNS: [(&str, &str); 22] = [
    ("indicator_id", "Indicator ID"),
    ("indicator_name", "Indicator Name"),
    ("parent_code", "Parent Code"),
    ("area_code", "Area Code"),
    ("area_name", "Area Name"),
    ("area_type", "Area Type"),
    ("sex", "Sex"),
    ("age", "Age"),
    ("category_type", "Category Type"),
    ("category", "Category"),
    ("period", "Time period"),
    ("period_sortable", "Time period Sortable"),
    ("period_range", "Time period range"),
    ("value", "Value"),
    ("lower_ci95", "Lower CI 95.0 limit"),
    ("upper_ci95", "Upper CI 95.0 limit"),
    ("lower_ci998", "Lower CI 99.8 limit"),
    ("upper_ci998", "Upper CI 99.8 limit"),
    ("count", "Count"),
    ("denominator", "Denominator"),
    ("value_note", "Value note"),
    ("compared_to_england", "Compared to England value or percentiles"),
];
const REQUIRED: [&str; 6] = [
    "Indicator ID",
    "Area Code",
    "Area Type",
    "Time period",
    "Value",
    "Sex",
];
const NUMERIC: [&str; 7] = [
    "value",
    "lower_ci95",
    "upper_ci95",
    "lower_ci998",
    "upper_ci998",
    "count",
    "denominator",
];

pub fn header() -> Vec<&'static str> {
    let mut h = vec!["source"];
    h.extend(COLUMNS.iter().map(|c| c.0));
    h
}

struct Read {
    rows: Vec<Vec<String>>,
    ids: BTreeSet<String>,
    totals: [f64; 2],
}

fn read_file(path: &Path) -> Result<Read> {
    let g = Grid::csv(path)?;
    let header = Header::new(&g, 0);
    let missing: Vec<&str> = REQUIRED
        .iter()
        .filter(|n| header.find(n).is_none())
        .copied()
        .collect();
    if !missing.is_empty() {
        return Err(file_error(
            path,
            format!(
                "not a Fingertips export: required columns missing: {}",
                missing.join(", ")
            ),
        ));
    }
    let cols: Vec<Option<usize>> = COLUMNS.iter().map(|(_, n)| header.find(n)).collect();
    let source = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_string();
    let mut rows = Vec::new();
    let mut ids = BTreeSet::new();
    let mut totals = [0.0; 2];
    let mut keys = BTreeSet::new();
    for r in 1..g.rows.len() {
        if g.rows[r].iter().all(|c| c.is_empty()) {
            continue;
        }
        let mut row = vec![source.clone()];
        for ((name, published), c) in COLUMNS.iter().zip(&cols) {
            let text = c.map_or("", |c| g.get(r, c));
            if NUMERIC.contains(name) {
                let c = c.unwrap_or(0);
                let v = number(text).map_err(|rule| g.error(r, c, published, rule))?;
                match *name {
                    "count" => totals[0] += v.unwrap_or(0.0),
                    "denominator" => totals[1] += v.unwrap_or(0.0),
                    _ => {}
                }
                row.push(v.map(fmt_num).unwrap_or_default());
            } else {
                row.push(text.to_string());
            }
        }
        let id_col = cols[0].unwrap_or(0);
        if row[1].is_empty() {
            return Err(g.error(r, id_col, "Indicator ID", "empty"));
        }
        // One value per indicator, area (under a parent), sex, age, category and period.
        let key = [1, 3, 4, 6, 7, 8, 9, 10, 11].map(|i| row[i].clone());
        if !keys.insert(key) {
            return Err(g.error(
                r,
                cols[3].unwrap_or(0),
                "Area Code",
                "a second row for this indicator, parent, area, sex, age, category and period",
            ));
        }
        ids.insert(row[1].clone());
        rows.push(row);
    }
    if rows.is_empty() {
        return Err(file_error(path, "has no rows"));
    }
    Ok(Read { rows, ids, totals })
}

/// Imports Fingertips exports into `dir`; an indicator's rows replace those already there.
pub fn import(files: &[PathBuf], dir: &Path) -> Result<Imported> {
    let read: Vec<Read> = files.iter().map(|f| read_file(f)).collect::<Result<_>>()?;
    let mut ids = BTreeSet::new();
    for (r, f) in read.iter().zip(files) {
        for id in &r.ids {
            if !ids.insert(id.clone()) {
                return Err(file_error(
                    f,
                    format!("indicator {id} is also in another file given"),
                ));
            }
        }
    }
    let mut target = Target::open(dir)?;
    let header = header();
    let mut rows: Vec<Vec<String>> = target
        .existing("external_indicators", &header)?
        .into_iter()
        .filter(|r| !ids.contains(&r[1]))
        .collect();
    let n: usize = read.iter().map(|r| r.rows.len()).sum();
    let published = [
        read.iter().map(|r| r.totals[0]).sum::<f64>(),
        read.iter().map(|r| r.totals[1]).sum::<f64>(),
    ];
    for r in read {
        rows.extend(r.rows);
    }
    rows.sort();
    let mut imported = Imported {
        files: files.to_vec(),
        periods: ids.iter().map(|i| format!("indicator {i}")).collect(),
        ..Default::default()
    };
    let col = |n: &str| header.iter().position(|h| *h == n).unwrap_or(0);
    for (i, what) in ["count", "denominator"].iter().enumerate() {
        let after = column_sum(&rows, col(what), |r| ids.contains(&r[1]));
        imported
            .totals
            .push((format!("external_indicators.{what}"), published[i], after));
    }
    target.stage("external_indicators", &header, &rows);
    imported.tables.push(("external_indicators".into(), n));
    target.commit()?;
    Ok(imported)
}
