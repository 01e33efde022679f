//! `footprint import rtt`: NHS England's referral-to-treatment publications.
//!
//! Two layouts are read:
//! - the **commissioner-level workbook** (2015 and around: `.xls`; sheet `Commissioner`, a
//!   metadata block with `Period:` and `Summary:`, then a header row; one row per CCG and
//!   treatment function, codes prefixed `IP` incomplete, `AP` admitted, `NP` non-admitted,
//!   and a total row `…999` per CCG);
//! - today's **Full CSV** (provider × commissioner × RTT part × treatment function; week
//!   bands `Gt 00 To 01 Weeks SUM 1` …; treatment functions `C_100` …, total `C_999`).
//!
//! Incomplete pathways' totals (treatment function 999) go to the contract's `rtt` table; a
//! commissioner-level publication has no provider, so `provider_code` is empty there (the
//! contract's extension for commissioner-level publications). Every treatment function of
//! every pathway type goes to `rtt_specialty`, without the total rows (so its detail adds up
//! to them).

use super::sheet::{Grid, Header};
use super::{Imported, Resolution, Target, column_sum, count, file_error, fmt_num};
use crate::Result;
use model::Month;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

pub const RTT_HEADER: [&str; 6] = [
    "period",
    "provider_code",
    "commissioner_code",
    "waiting",
    "within_18_weeks",
    "over_52_weeks",
];

pub const SPECIALTY_HEADER: [&str; 10] = [
    "period",
    "provider_code",
    "commissioner_code",
    "pathway",
    "treatment_function",
    "treatment_function_name",
    "pathways",
    "within_18_weeks",
    "over_52_weeks",
    "unknown_clock_start",
];

use model::vocab::RTT_PATHWAYS as PATHWAYS;

/// One published row: a provider (or none) × commissioner × pathway × treatment function.
#[derive(Debug, Clone)]
struct Row {
    month: Month,
    provider: Option<(String, String)>,
    commissioner: (String, String),
    pathway: &'static str,
    /// `100`, `X01`, … `999` = all treatment functions.
    function: String,
    function_name: String,
    pathways: Option<f64>,
    within: Option<f64>,
    over52: Option<f64>,
    unknown: Option<f64>,
}

/// `March 2015`, `RTT-April-2024`, `RTT-APRIL-2024` → the month.
pub fn parse_month(text: &str) -> Option<Month> {
    const NAMES: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    let t = text.trim().trim_start_matches("RTT-").trim_start_matches("rtt-");
    let parts: Vec<&str> = t.split([' ', '-']).filter(|s| !s.is_empty()).collect();
    let [name, year] = parts.as_slice() else {
        return None;
    };
    let name = name.to_lowercase();
    let m = NAMES
        .iter()
        .position(|n| *n == name || (name.len() >= 3 && n.starts_with(&name)))?;
    Month::new(year.parse().ok()?, m as u32 + 1)
}

fn read_workbook(path: &Path) -> Result<Vec<Row>> {
    let g = Grid::sheet(path, &["Commissioner"])?;
    let meta = |label: &str| -> Option<(usize, usize)> {
        g.rows.iter().take(30).enumerate().find_map(|(r, row)| {
            let c = row.iter().position(|c| c.trim().eq_ignore_ascii_case(label))?;
            Some((r, c + 1))
        })
    };
    let (pr, pc) = meta("Period:").ok_or_else(|| {
        file_error(
            path,
            "sheet Commissioner has no `Period:` line in its metadata block",
        )
    })?;
    let month = parse_month(g.get(pr, pc))
        .ok_or_else(|| g.error(pr, pc, "Period", "not a month such as `March 2015`"))?;
    let h = g
        .find_header(&["CCG Code", "Treatment Function Code"])
        .ok_or_else(|| {
            file_error(
                path,
                "sheet Commissioner has no header row with `CCG Code` and `Treatment Function Code`",
            )
        })?;
    let header = Header::new(&g, h);
    let need = |names: &[&str]| -> Result<usize> {
        names.iter().find_map(|n| header.find(n)).ok_or_else(|| {
            file_error(
                path,
                format!("sheet Commissioner: required column {} is missing", names[0]),
            )
        })
    };
    let code = need(&["CCG Code", "Commissioner Code"])?;
    let name = need(&["CCG Name", "Commissioner Name"])?;
    let tf = need(&["Treatment Function Code"])?;
    let tf_name = need(&["Treatment Function"])?;
    let plus52 = need(&["52 plus", ">52"])?;
    // Incomplete pathways, or completed ones (with a known clock start).
    let total = need(&[
        "Total number of incomplete pathways",
        "Total number of completed pathways (with a known clock start)",
    ])?;
    let within = need(&[
        "Total within 18 weeks",
        "Total (with a known clock start) within 18 weeks",
    ])?;
    let unknown = header.find("Patients with unknown clock start date");
    let mut out = Vec::new();
    for r in h + 1..g.rows.len() {
        let c = g.get(r, code);
        let f = g.get(r, tf);
        if c.is_empty() && f.is_empty() {
            continue;
        }
        if c.is_empty() {
            return Err(g.error(
                r,
                code,
                "CCG Code",
                "a row with a treatment function has no commissioner code",
            ));
        }
        let pathway = match f.get(..2) {
            Some("IP") => "incomplete",
            Some("AP") => "admitted",
            Some("NP") => "non_admitted",
            _ => {
                return Err(g.error(
                    r,
                    tf,
                    "Treatment Function Code",
                    "not a treatment function code of the commissioner workbook (IP…, AP… or NP…)",
                ));
            }
        };
        let num = |col: usize, label: &str| -> Result<Option<f64>> {
            count(g.get(r, col)).map_err(|rule| g.error(r, col, label, rule))
        };
        out.push(Row {
            month,
            provider: None,
            commissioner: (c.to_string(), g.get(r, name).to_string()),
            pathway,
            function: f[2..].to_string(),
            function_name: g.get(r, tf_name).to_string(),
            pathways: num(total, "Total")?,
            within: num(within, "within 18 weeks")?,
            over52: num(plus52, "52 plus")?,
            unknown: unknown
                .map(|u| num(u, "unknown clock start"))
                .transpose()?
                .flatten(),
        });
    }
    if out.is_empty() {
        return Err(file_error(path, "sheet Commissioner has no data rows"));
    }
    Ok(out)
}

/// `Gt 17 To 18 Weeks SUM 1` → (17, Some(18)); `Gt 104 Weeks SUM 1` → (104, None).
fn band(name: &str) -> Option<(u32, Option<u32>)> {
    let rest = name.trim().strip_prefix("Gt ")?;
    let rest = rest.strip_suffix(" Weeks SUM 1")?;
    match rest.split_once(" To ") {
        Some((lo, hi)) => Some((lo.trim().parse().ok()?, Some(hi.trim().parse().ok()?))),
        None => Some((rest.trim().parse().ok()?, None)),
    }
}

fn read_full_csv(path: &Path) -> Result<Vec<Row>> {
    let g = Grid::csv(path)?;
    let header = Header::new(&g, 0);
    let need = |n: &str| {
        header.find(n).ok_or_else(|| {
            file_error(
                path,
                format!("required column {n} is missing (not an RTT Full CSV?)"),
            )
        })
    };
    let period = need("Period")?;
    let (prov, prov_name) = (need("Provider Org Code")?, need("Provider Org Name")?);
    let (comm, comm_name) = (need("Commissioner Org Code")?, need("Commissioner Org Name")?);
    let part = need("RTT Part Type")?;
    let (tf, tf_name) = (need("Treatment Function Code")?, need("Treatment Function Name")?);
    let total = need("Total")?;
    let total_all = header.find("Total All");
    let unknown = header.find("Patients with unknown clock start date");
    let bands: Vec<(usize, u32, Option<u32>)> = header
        .names
        .iter()
        .enumerate()
        .filter_map(|(i, n)| band(n).map(|(lo, hi)| (i, lo, hi)))
        .collect();
    if bands.is_empty() {
        return Err(file_error(
            path,
            "has no week-band columns (`Gt 00 To 01 Weeks SUM 1` …)",
        ));
    }
    let mut out = Vec::new();
    for r in 1..g.rows.len() {
        if g.rows[r].iter().all(|c| c.is_empty()) {
            continue;
        }
        let month = parse_month(g.get(r, period))
            .ok_or_else(|| g.error(r, period, "Period", "not a period such as RTT-April-2024"))?;
        let pathway = match g.get(r, part).to_ascii_uppercase().as_str() {
            "PART_2" => "incomplete",
            "PART_2A" => "incomplete_dta",
            "PART_1A" => "admitted",
            "PART_1B" => "non_admitted",
            "PART_3" => "new_periods",
            _ => {
                return Err(g.error(
                    r,
                    part,
                    "RTT Part Type",
                    "not one of Part_1A, Part_1B, Part_2, Part_2A, Part_3",
                ));
            }
        };
        let num = |col: usize, label: &str| -> Result<Option<f64>> {
            count(g.get(r, col)).map_err(|rule| g.error(r, col, label, rule))
        };
        let mut within = 0.0;
        let mut over52 = 0.0;
        let mut any = false;
        for &(c, lo, hi) in &bands {
            if let Some(v) = num(c, &header.names[c])? {
                any = true;
                if hi.is_some_and(|h| h <= 18) {
                    within += v;
                }
                if lo >= 52 {
                    over52 += v;
                }
            }
        }
        let f = g.get(r, tf);
        let function = f.trim_start_matches("C_").trim_start_matches("c_").to_string();
        let pathways = if pathway == "new_periods" {
            total_all.map(|c| num(c, "Total All")).transpose()?.flatten()
        } else {
            num(total, "Total")?
        };
        let (p, c) = (g.get(r, prov), g.get(r, comm));
        if p.is_empty() {
            return Err(g.error(r, prov, "Provider Org Code", "empty"));
        }
        if c.is_empty() {
            return Err(g.error(r, comm, "Commissioner Org Code", "empty"));
        }
        out.push(Row {
            month,
            provider: Some((p.to_string(), g.get(r, prov_name).to_string())),
            commissioner: (c.to_string(), g.get(r, comm_name).to_string()),
            pathway,
            function,
            function_name: g.get(r, tf_name).to_string(),
            pathways,
            within: any.then_some(within),
            over52: any.then_some(over52),
            unknown: unknown
                .map(|u| num(u, "unknown clock start"))
                .transpose()?
                .flatten(),
        });
    }
    if out.is_empty() {
        return Err(file_error(path, "has no data rows"));
    }
    Ok(out)
}

/// Reads RTT publications of either layout.
fn read(files: &[PathBuf]) -> Result<Vec<(PathBuf, Vec<Row>)>> {
    files
        .iter()
        .map(|f| {
            let rows = if super::sheet::is_spreadsheet(f) {
                read_workbook(f)?
            } else {
                read_full_csv(f)?
            };
            Ok((f.clone(), rows))
        })
        .collect()
}

fn opt(v: Option<f64>) -> String {
    v.map(fmt_num).unwrap_or_default()
}

fn add(a: &mut Option<f64>, b: Option<f64>) {
    if let Some(b) = b {
        *a = Some(a.unwrap_or(0.0) + b);
    }
}

/// Imports RTT publications into the dataset folder `dir`: rows for the months and pathway
/// types the files bring replace those already there; nothing is written if anything is
/// wrong.
pub fn import(files: &[PathBuf], dir: &Path) -> Result<Imported> {
    let read = read(files)?;
    let mut target = Target::open(dir)?;
    let crosswalk = target.existing("code_crosswalk", &super::crosswalk::HEADER)?;
    // Each (month, pathway) from one file only.
    let mut seen: BTreeMap<(Month, &str), &PathBuf> = BTreeMap::new();
    for (f, rows) in &read {
        let months: BTreeSet<(Month, &str)> = rows.iter().map(|r| (r.month, r.pathway)).collect();
        for k in months {
            if let Some(other) = seen.insert(k, f) {
                return Err(file_error(
                    f,
                    format!("{} {} pathways are also in {}", k.0, k.1, other.display()),
                ));
            }
        }
        let first = rows.iter().map(|r| r.month).min();
        let last = rows.iter().map(|r| r.month).max();
        if let (Some(a), Some(b)) = (first, last) {
            target.check_window(f, a, b)?;
        }
    }
    let all: Vec<&Row> = read.iter().flat_map(|(_, r)| r).collect();
    // Codes not in the dataset.
    let mut resolved: Vec<Resolution> = Vec::new();
    let last = all.iter().map(|r| r.month).max();
    let first = all.iter().map(|r| r.month).min();
    for r in &all {
        let (c, n) = &r.commissioner;
        if !target.knows(c) {
            resolved.push(super::crosswalk::resolve_commissioner(
                &mut target,
                &crosswalk,
                c,
                n,
            ));
        }
        if let Some((p, n)) = &r.provider
            && !target.knows(p)
        {
            let first = first
                .map(|m| model::format_date(m.first_day()))
                .unwrap_or_default();
            let last = last.map(|m| model::format_date(m.last_day())).unwrap_or_default();
            resolved.push(super::crosswalk::resolve_other(&mut target, p, n, &first, &last));
        }
    }
    // rtt: incomplete pathways, all treatment functions.
    let mut totals: BTreeMap<(Month, String, String), [Option<f64>; 3]> = BTreeMap::new();
    let mut published = [0.0f64; 3];
    for r in all
        .iter()
        .filter(|r| r.pathway == "incomplete" && r.function == "999")
    {
        let key = (
            r.month,
            r.provider.as_ref().map(|p| p.0.clone()).unwrap_or_default(),
            r.commissioner.0.clone(),
        );
        let slot = totals.entry(key).or_default();
        add(&mut slot[0], r.pathways);
        add(&mut slot[1], r.within);
        add(&mut slot[2], r.over52);
        published[0] += r.pathways.unwrap_or(0.0);
        published[1] += r.within.unwrap_or(0.0);
        published[2] += r.over52.unwrap_or(0.0);
    }
    for (key, v) in &totals {
        let w = v[0].unwrap_or(0.0);
        if let Some(i) = [v[1], v[2]].into_iter().flatten().find(|i| *i > w) {
            return Err(file_error(
                files.first().map(PathBuf::as_path).unwrap_or(dir),
                format!(
                    "{} {} {}: {i} within 18 weeks or over 52 weeks exceeds {w} waiting",
                    key.0, key.1, key.2
                ),
            ));
        }
    }
    let months: BTreeSet<String> = totals.keys().map(|k| k.0.to_string()).collect();
    let mut imported = Imported {
        files: files.to_vec(),
        ..Default::default()
    };
    let mut tables = Vec::new();
    if !totals.is_empty() {
        let mut rows: Vec<Vec<String>> = target
            .existing("rtt", &RTT_HEADER)?
            .into_iter()
            .filter(|r| !months.contains(&r[0]))
            .collect();
        let n = totals.len();
        rows.extend(
            totals
                .into_iter()
                .map(|((m, p, c), v)| vec![m.to_string(), p, c, opt(v[0]), opt(v[1]), opt(v[2])]),
        );
        rows.sort();
        for (i, what) in ["waiting", "within_18_weeks", "over_52_weeks"].iter().enumerate() {
            let after = column_sum(&rows, 3 + i, |r| months.contains(&r[0]));
            imported
                .totals
                .push((format!("rtt.{what} (incomplete pathways)"), published[i], after));
        }
        tables.push(("rtt".to_string(), n, rows));
    }
    // rtt_specialty: every pathway type by treatment function, without the totals.
    let replaced: BTreeSet<(String, &str)> = all.iter().map(|r| (r.month.to_string(), r.pathway)).collect();
    let mut spec: Vec<Vec<String>> = target
        .existing("rtt_specialty", &SPECIALTY_HEADER)?
        .into_iter()
        .filter(|r| !replaced.iter().any(|(m, p)| *m == r[0] && *p == r[3]))
        .collect();
    let mut detail: BTreeMap<(Month, String, String, &str, String), Row> = BTreeMap::new();
    for r in all.iter().filter(|r| r.function != "999") {
        let key = (
            r.month,
            r.provider.as_ref().map(|p| p.0.clone()).unwrap_or_default(),
            r.commissioner.0.clone(),
            r.pathway,
            r.function.clone(),
        );
        match detail.get_mut(&key) {
            Some(d) => {
                add(&mut d.pathways, r.pathways);
                add(&mut d.within, r.within);
                add(&mut d.over52, r.over52);
                add(&mut d.unknown, r.unknown);
            }
            None => {
                detail.insert(key, (*r).clone());
            }
        }
    }
    let n = detail.len();
    for (pathway, label) in PATHWAYS.iter().map(|p| (*p, *p)) {
        let published: f64 = all
            .iter()
            .filter(|r| r.pathway == pathway && r.function == "999")
            .filter_map(|r| r.pathways)
            .sum();
        let has = all.iter().any(|r| r.pathway == pathway && r.function == "999");
        let detail_sum: f64 = detail
            .values()
            .filter(|r| r.pathway == pathway)
            .filter_map(|r| r.pathways)
            .sum();
        if has {
            imported.totals.push((
                format!("rtt_specialty.pathways ({label}, by treatment function)"),
                published,
                detail_sum,
            ));
        }
    }
    spec.extend(detail.into_iter().map(|((m, p, c, pw, f), r)| {
        vec![
            m.to_string(),
            p,
            c,
            pw.to_string(),
            f,
            r.function_name,
            opt(r.pathways),
            opt(r.within),
            opt(r.over52),
            opt(r.unknown),
        ]
    }));
    spec.sort();
    tables.push(("rtt_specialty".to_string(), n, spec));
    for (name, n, rows) in &tables {
        let header: &[&str] = if name == "rtt" {
            &RTT_HEADER
        } else {
            &SPECIALTY_HEADER
        };
        target.stage(name, header, rows);
        imported.tables.push((name.clone(), *n));
    }
    imported.periods = replaced
        .iter()
        .map(|(m, p)| format!("{m} {p}"))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    resolved.sort_by(|a, b| a.code.cmp(&b.code));
    resolved.dedup_by(|a, b| a.code == b.code);
    imported.resolved = resolved;
    target.commit()?;
    Ok(imported)
}
