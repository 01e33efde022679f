//! `footprint import gp-lists`: NHS Digital's Patients Registered at a GP Practice.
//!
//! - Five-year age band by sex (`gp-reg-pat-prac-quin-age`: `ORG_CODE`, `SEX` FEMALE/MALE/ALL,
//!   `AGE_GROUP_5` `0_4` … `95+`/ALL) → the contract's `population` (bands `90_94` and `95+`
//!   make `90+`; the ALL rows are the totals the bands are checked against).
//! - Practice totals only (`gp-reg-pat-prac-all`: `CODE`, `CCG_CODE`, `SEX` = `AGE` = ALL) have
//!   no age or sex, which `population` needs, so they go to `list_sizes` (period, practice,
//!   commissioner named by the file, registered patients), and their practice → commissioner
//!   pairs feed the code crosswalk like a payments file's.

use super::crosswalk::{self, PracticeRow};
use super::sheet::{Grid, Header};
use super::{Imported, Target, column_sum, count, file_error, fmt_num};
use crate::Result;
use model::Month;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

pub const POPULATION_HEADER: [&str; 5] = ["period", "practice_code", "age_band", "sex", "persons"];
pub const LIST_SIZES_HEADER: [&str; 4] = [
    "period",
    "practice_code",
    "commissioner_code",
    "registered_patients",
];

/// `01SEP2017` → 2017-09.
pub fn extract_month(text: &str) -> Option<Month> {
    let t = text.trim();
    if t.len() != 9 {
        return None;
    }
    const M: [&str; 12] = [
        "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
    ];
    let m = M.iter().position(|m| t[2..5].eq_ignore_ascii_case(m))?;
    Month::new(t[5..].parse().ok()?, m as u32 + 1)
}

/// `0_4` → `0-4`; `90_94`, `95+`, `90+` → `90+`.
fn band(text: &str) -> Option<&'static str> {
    const BANDS: [&str; 19] = [
        "0-4", "5-9", "10-14", "15-19", "20-24", "25-29", "30-34", "35-39", "40-44", "45-49", "50-54",
        "55-59", "60-64", "65-69", "70-74", "75-79", "80-84", "85-89", "90+",
    ];
    let t = text.trim().replace('_', "-");
    if t == "95+" || t == "90-94" || t == "90+" {
        return Some("90+");
    }
    BANDS.iter().find(|b| **b == t).copied()
}

enum Layout {
    Quinary,
    Totals,
}

struct Read {
    path: PathBuf,
    month: Month,
    layout: Layout,
    /// population rows (quinary) or list_sizes rows (totals)
    rows: Vec<Vec<String>>,
    practices: Vec<PracticeRow>,
    /// The publication's total of persons (ALL rows).
    published: f64,
}

fn read_file(path: &Path) -> Result<Read> {
    let g = Grid::read(path, &[])?;
    let header = Header::new(&g, 0);
    let need = |n: &[&str]| {
        n.iter()
            .find_map(|x| header.find(x))
            .ok_or_else(|| file_error(path, format!("required column {} is missing", n.join(" or "))))
    };
    let date = need(&["EXTRACT_DATE"])?;
    let code = need(&["ORG_CODE", "CODE", "PRACTICE_CODE"])?;
    let sex = need(&["SEX"])?;
    let age = need(&["AGE_GROUP_5", "AGE"])?;
    let number = need(&["NUMBER_OF_PATIENTS"])?;
    let ccg = header.find("CCG_CODE");
    let kind = header.find("ORG_TYPE").or(header.find("TYPE"));
    let mut month = None;
    let mut population: BTreeMap<(String, &str, &str), f64> = BTreeMap::new();
    let mut totals: BTreeMap<String, (f64, usize)> = BTreeMap::new();
    let mut lists = Vec::new();
    let mut practices = Vec::new();
    let mut seen = BTreeSet::new();
    let mut any_band = false;
    for r in 1..g.rows.len() {
        if g.rows[r].iter().all(|c| c.is_empty()) {
            continue;
        }
        if let Some(k) = kind
            && !g.get(r, k).eq_ignore_ascii_case("GP")
        {
            return Err(g.error(
                r,
                k,
                "ORG_TYPE",
                "only practice rows (GP) are read; this file has other organisation types",
            ));
        }
        let m = extract_month(g.get(r, date))
            .ok_or_else(|| g.error(r, date, "EXTRACT_DATE", "not a date such as 01SEP2017"))?;
        match month {
            None => month = Some(m),
            Some(x) if x != m => {
                return Err(g.error(
                    r,
                    date,
                    "EXTRACT_DATE",
                    format!("a second extract date in one file (the first was {x})"),
                ));
            }
            _ => {}
        }
        let p = g.get(r, code).to_string();
        if p.is_empty() {
            return Err(g.error(r, code, "ORG_CODE", "empty"));
        }
        let n = count(g.get(r, number))
            .map_err(|rule| g.error(r, number, "NUMBER_OF_PATIENTS", rule))?
            .ok_or_else(|| {
                g.error(
                    r,
                    number,
                    "NUMBER_OF_PATIENTS",
                    "empty; a list size is never suppressed",
                )
            })?;
        let (s, a) = (
            g.get(r, sex).to_ascii_uppercase(),
            g.get(r, age).to_ascii_uppercase(),
        );
        if s == "ALL" && a == "ALL" {
            if !seen.insert(p.clone()) {
                return Err(g.error(r, code, "ORG_CODE", "a second ALL/ALL row for this practice"));
            }
            totals.entry(p.clone()).or_default().0 += n;
            if let Some(c) = ccg {
                let commissioner = g.get(r, c).to_string();
                lists.push(vec![String::new(), p.clone(), commissioner.clone(), fmt_num(n)]);
                practices.push(PracticeRow {
                    practice: p,
                    name: String::new(),
                    commissioner: commissioner.clone(),
                    commissioner_name: commissioner,
                    registered: n,
                    opened: None,
                    closed: None,
                });
            }
            continue;
        }
        if a == "ALL" {
            continue; // a sex's total: the bands are checked against the overall total
        }
        let sex = match s.as_str() {
            "FEMALE" | "F" => "F",
            "MALE" | "M" => "M",
            _ => return Err(g.error(r, sex, "SEX", "not FEMALE, MALE or ALL")),
        };
        let b = band(&a).ok_or_else(|| {
            g.error(
                r,
                age,
                "AGE_GROUP_5",
                "not a five-year age band such as 0_4 or 95+",
            )
        })?;
        any_band = true;
        *population.entry((p.clone(), b, sex)).or_default() += n;
        totals.entry(p).or_default().1 += 1;
    }
    let month = month.ok_or_else(|| file_error(path, "has no rows"))?;
    let published: f64 = totals.values().map(|t| t.0).sum();
    let layout = if any_band {
        // Every practice's bands must add up to its ALL row: nothing is lost or invented.
        let mut by: BTreeMap<&String, f64> = BTreeMap::new();
        for ((p, _, _), n) in &population {
            *by.entry(p).or_default() += n;
        }
        for (p, (all, _)) in &totals {
            let sum = by.get(p).copied().unwrap_or(0.0);
            if (sum - all).abs() > 0.5 {
                return Err(file_error(
                    path,
                    format!("practice {p}: its age bands add up to {sum}, its ALL row says {all}"),
                ));
            }
        }
        Layout::Quinary
    } else {
        if ccg.is_none() {
            return Err(file_error(path, "a practice-totals file needs a CCG_CODE column"));
        }
        Layout::Totals
    };
    let rows = match layout {
        Layout::Quinary => population
            .into_iter()
            .map(|((p, b, s), n)| vec![month.to_string(), p, b.to_string(), s.to_string(), fmt_num(n)])
            .collect(),
        Layout::Totals => lists
            .into_iter()
            .map(|mut r| {
                r[0] = month.to_string();
                r
            })
            .collect(),
    };
    Ok(Read {
        path: path.to_path_buf(),
        month,
        layout,
        rows,
        practices,
        published,
    })
}

/// Imports registered-list files into the dataset folder `dir`; each file's month replaces
/// that month's rows of the table it feeds.
pub fn import(files: &[PathBuf], dir: &Path) -> Result<Imported> {
    let read: Vec<Read> = files.iter().map(|f| read_file(f)).collect::<Result<_>>()?;
    let mut target = Target::open(dir)?;
    let mut imported = Imported {
        files: files.to_vec(),
        ..Default::default()
    };
    let mut months = [BTreeSet::new(), BTreeSet::new()];
    for r in &read {
        target.check_window(&r.path, r.month, r.month)?;
        let i = matches!(r.layout, Layout::Totals) as usize;
        if !months[i].insert(r.month.to_string()) {
            return Err(file_error(&r.path, format!("a second file for {}", r.month)));
        }
    }
    let mut walk = target.existing("code_crosswalk", &crosswalk::HEADER)?;
    for r in read.iter().filter(|r| matches!(r.layout, Layout::Totals)) {
        let resolved = crosswalk::merge_file(
            &mut target,
            &mut walk,
            &r.practices,
            &r.path,
            &r.month.to_string(),
        );
        imported.resolved.extend(resolved);
    }
    for r in read.iter().filter(|r| matches!(r.layout, Layout::Quinary)) {
        for row in &r.rows {
            if !target.knows(&row[1]) {
                return Err(file_error(
                    &r.path,
                    format!(
                        "practice {} is not in the dataset and this file does not name its commissioner; import a practice-totals or payments file that names it first",
                        row[1]
                    ),
                ));
            }
        }
    }
    for (i, (table, header)) in [
        ("population", &POPULATION_HEADER[..]),
        ("list_sizes", &LIST_SIZES_HEADER[..]),
    ]
    .into_iter()
    .enumerate()
    {
        if months[i].is_empty() {
            continue;
        }
        let mut rows: Vec<Vec<String>> = target
            .existing(table, header)?
            .into_iter()
            .filter(|r| !months[i].contains(&r[0]))
            .collect();
        let mut n = 0;
        let mut published = 0.0;
        for r in read
            .iter()
            .filter(|r| (matches!(r.layout, Layout::Totals) as usize) == i)
        {
            n += r.rows.len();
            published += r.published;
            rows.extend(r.rows.iter().cloned());
        }
        rows.sort();
        let value = header.len() - 1;
        let after = column_sum(&rows, value, |r| months[i].contains(&r[0]));
        imported
            .totals
            .push((format!("{table}.{}", header[value]), published, after));
        target.stage(table, header, &rows);
        imported.tables.push((table.to_string(), n));
        imported.periods.extend(months[i].iter().cloned());
    }
    crosswalk::stage(&mut target, walk, &mut imported);
    target.commit()?;
    Ok(imported)
}
