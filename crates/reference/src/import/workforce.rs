//! `footprint import workforce`: NHS Digital's NHS workforce statistics, full-time equivalent
//! by organisation and staff group (the long layout: one row per month, organisation, staff
//! group and a further breakdown such as nationality, which is summed), into `workforce`
//! (`wte_in_post`; the publication has no vacancies or agency staff, which stay empty). Staff
//! groups are mapped to Footprint's by `[workforce.staff_groups]` in the mappings file.

use super::crosswalk;
use super::mapping::{Mappings, locate};
use super::sheet::{Grid, Header};
use super::{Imported, Target, column_sum, file_error, fmt_num, number};
use crate::Result;
use model::Month;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

pub const HEADER: [&str; 6] = [
    "period",
    "org_code",
    "staff_group",
    "wte_in_post",
    "wte_vacant",
    "wte_agency",
];

/// `2017-SEP`, `2017-09`, `September 2017`, `SEP-2017` → the month.
pub fn parse_month(text: &str) -> Option<Month> {
    let t = text.trim();
    if let Ok(m) = t.parse::<Month>() {
        return Some(m);
    }
    let (a, b) = t.split_once(['-', ' '])?;
    let (year, name) = if a.chars().all(|c| c.is_ascii_digit()) {
        (a, b)
    } else {
        (b, a)
    };
    super::rtt::parse_month(&format!("{name} {year}"))
}

struct Read {
    path: PathBuf,
    /// (month, org, group) → FTE
    fte: BTreeMap<(Month, String, String), f64>,
    names: BTreeMap<String, String>,
    published: f64,
}

fn read_file(path: &Path, m: &Mappings) -> Result<Read> {
    let grid = if super::sheet::is_spreadsheet(path) {
        Grid::sheet(path, &["Data"]).or_else(|_| Grid::sheet(path, &[]))?
    } else {
        Grid::csv(path)?
    };
    let cols = &m.workforce.columns;
    let h = grid
        .rows
        .iter()
        .take(30)
        .position(|r| cols["fte"].iter().any(|n| r.iter().any(|c| c.eq_ignore_ascii_case(n))) && cols["staff_group"].iter().any(|n| r.iter().any(|c| c.eq_ignore_ascii_case(n))))
        .ok_or_else(|| {
            file_error(
                path,
                format!(
                    "no header row with a staff group and an FTE column (looked for {} and {}{}): `import workforce` reads full-time equivalents by organisation and staff group; a headcount table by nationality is not FTE",
                    cols["staff_group"].join(" / "),
                    cols["fte"].join(" / "),
                    grid.sheet.as_ref().map_or(String::new(), |s| format!(" on sheet {s}"))
                ),
            )
        })?;
    let header = Header::new(&grid, h);
    let at = locate(path, &header, &m.workforce.required, cols)?;
    let c = |k: &str| at[k].unwrap_or(0);
    let (period, org, group, fte) = (c("period"), c("org_code"), c("staff_group"), c("fte"));
    let name = at.get("org_name").copied().flatten();
    let mut out = BTreeMap::new();
    let mut names = BTreeMap::new();
    let mut published = 0.0;
    for r in h + 1..grid.rows.len() {
        if grid.rows[r].iter().all(|c| c.is_empty()) {
            continue;
        }
        let month = parse_month(grid.get(r, period))
            .ok_or_else(|| grid.error(r, period, "Month", "not a month such as 2017-SEP"))?;
        let o = grid.get(r, org).to_string();
        if o.is_empty() {
            return Err(grid.error(r, org, "Organisation code", "empty"));
        }
        let g = grid.get(r, group);
        let mapped = m
            .workforce
            .staff_groups
            .iter()
            .find(|(k, _)| k.trim().eq_ignore_ascii_case(g.trim()))
            .map(|(_, v)| v.clone())
            .ok_or_else(|| {
                grid.error(
                    r,
                    group,
                    "Staff group",
                    "a staff group not in [workforce.staff_groups] of the mappings file; add it there",
                )
            })?;
        let v = number(grid.get(r, fte)).map_err(|rule| grid.error(r, fte, "FTE", rule))?;
        if let Some(x) = v {
            if x < 0.0 {
                return Err(grid.error(r, fte, "FTE", "cannot be negative"));
            }
            published += x;
            *out.entry((month, o.clone(), mapped)).or_insert(0.0) += x;
        } else {
            out.entry((month, o.clone(), mapped)).or_insert(0.0);
        }
        if let Some(n) = name {
            names.entry(o).or_insert_with(|| grid.get(r, n).to_string());
        }
    }
    if out.is_empty() {
        return Err(file_error(path, "has no data rows"));
    }
    Ok(Read {
        path: path.to_path_buf(),
        fte: out,
        names,
        published,
    })
}

/// Imports workforce files into `dir`; the months they bring replace those months' rows.
pub fn import(files: &[PathBuf], dir: &Path, mappings: &Mappings) -> Result<Imported> {
    let read: Vec<Read> = files
        .iter()
        .map(|f| read_file(f, mappings))
        .collect::<Result<_>>()?;
    let mut target = Target::open(dir)?;
    let mut months = BTreeSet::new();
    let mut imported = Imported {
        files: files.to_vec(),
        ..Default::default()
    };
    for r in &read {
        let ms: BTreeSet<Month> = r.fte.keys().map(|k| k.0).collect();
        let (Some(a), Some(b)) = (ms.first(), ms.last()) else {
            continue;
        };
        target.check_window(&r.path, *a, *b)?;
        for m in ms {
            if !months.insert(m) {
                return Err(file_error(&r.path, format!("{m} is also in another file given")));
            }
        }
    }
    let crosswalk_rows = target.existing("code_crosswalk", &crosswalk::HEADER)?;
    for r in &read {
        let first = r.fte.keys().map(|k| k.0).min();
        let last = r.fte.keys().map(|k| k.0).max();
        for (month, org, _) in r.fte.keys() {
            if target.knows(org) {
                continue;
            }
            let name = r.names.get(org).cloned().unwrap_or_default();
            let upper = name.to_uppercase();
            let res = if upper.contains("CCG") || upper.contains("CLINICAL COMMISSIONING") {
                crosswalk::resolve_commissioner(&mut target, &crosswalk_rows, org, &name)
            } else {
                let _ = month;
                crosswalk::resolve_other(
                    &mut target,
                    org,
                    &name,
                    &first
                        .map(|m| model::format_date(m.first_day()))
                        .unwrap_or_default(),
                    &last.map(|m| model::format_date(m.last_day())).unwrap_or_default(),
                )
            };
            imported.resolved.push(res);
        }
    }
    let month_text: BTreeSet<String> = months.iter().map(|m| m.to_string()).collect();
    let mut rows: Vec<Vec<String>> = target
        .existing("workforce", &HEADER)?
        .into_iter()
        .filter(|r| !month_text.contains(&r[0]))
        .collect();
    let mut n = 0;
    for r in &read {
        for ((m, o, g), v) in &r.fte {
            rows.push(vec![
                m.to_string(),
                o.clone(),
                g.clone(),
                fmt_num((v * 1e5).round() / 1e5),
                String::new(),
                String::new(),
            ]);
            n += 1;
        }
    }
    rows.sort();
    let published: f64 = read.iter().map(|r| r.published).sum();
    let after = column_sum(&rows, 3, |r| month_text.contains(&r[0]));
    imported
        .totals
        .push(("workforce.wte_in_post".into(), published, after));
    imported.periods = month_text.into_iter().collect();
    target.stage("workforce", &HEADER, &rows);
    imported.tables.push(("workforce".into(), n));
    target.commit()?;
    Ok(imported)
}
