//! `footprint import gp-payments`: NHS Digital's NHS Payments to General Practice, one row per
//! practice and financial year, into the `gp_payments` table. Columns are mapped by name
//! (`[gp_payments]` in the mappings file), because they change from year to year.

use super::crosswalk::{self, PracticeRow};
use super::mapping::{Mappings, locate};
use super::sheet::{Grid, Header};
use super::{Imported, Target, column_sum, file_error, fmt_num, number};
use crate::Result;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Columns written first, in this order; any further mapped columns follow by name.
const FIRST: [&str; 4] = ["period", "practice_code", "commissioner_code", "region_code"];
/// Mapped columns that are text, not money or patients.
const TEXT: [&str; 9] = [
    "practice_code",
    "practice_name",
    "practice_postcode",
    "commissioner_code",
    "commissioner_name",
    "region_code",
    "contract_type",
    "dispensing",
    "opened",
];

/// The financial year a payments file covers, from its name (`…14-15…`, `…2014-15…`,
/// `…201415…`) → `2014/15`.
pub fn year_from_name(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    let bytes = name.as_bytes();
    for i in 0..bytes.len() {
        // YYYY-YY or YY-YY
        for (len, century) in [(4usize, false), (2usize, true)] {
            let end = i + len;
            if end + 3 > bytes.len() {
                continue;
            }
            let a = &name[i..end];
            let sep = bytes[end];
            let b = &name[end + 1..end + 3];
            if (i > 0 && bytes[i - 1].is_ascii_digit())
                || !a.bytes().all(|c| c.is_ascii_digit())
                || !(sep == b'-' || sep == b'_')
                || !b.bytes().all(|c| c.is_ascii_digit())
                || bytes.get(end + 3).is_some_and(|c| c.is_ascii_digit())
            {
                continue;
            }
            let start: i32 = if century {
                2000 + a.parse::<i32>().ok()?
            } else {
                a.parse().ok()?
            };
            let next: i32 = b.parse().ok()?;
            if (start + 1) % 100 == next && (2000..2100).contains(&start) {
                return Some(format!("{start}/{next:02}"));
            }
        }
    }
    None
}

/// `01/04/1974` or `1974-04-01` → `1974-04-01`; `-` or empty → None.
pub fn date(text: &str) -> Option<String> {
    let t = text.trim();
    if let Some((d, rest)) = t.split_once('/') {
        let (m, y) = rest.split_once('/')?;
        let (d, m, y): (u32, u32, i32) = (d.parse().ok()?, m.parse().ok()?, y.parse().ok()?);
        let s = format!("{y:04}-{m:02}-{d:02}");
        return model::parse_date(&s).is_ok().then_some(s);
    }
    model::parse_date(t).is_ok().then(|| t.to_string())
}

struct Read {
    year: String,
    path: PathBuf,
    rows: Vec<BTreeMap<String, String>>,
    practices: Vec<PracticeRow>,
    totals: [f64; 3],
}

fn read_file(path: &Path, year: Option<&str>, m: &Mappings) -> Result<Read> {
    let year = match year {
        Some(y) => y.to_string(),
        None => year_from_name(path).ok_or_else(|| {
            file_error(path, "the financial year is not in the file name (e.g. `gp-payments-22-23.csv`); give it with --year 2022/23")
        })?,
    };
    let fy: model::Period = year
        .parse()
        .map_err(|_| file_error(path, format!("{year:?} is not a financial year such as 2022/23")))?;
    if fy.grain() != model::Grain::FinancialYear {
        return Err(file_error(
            path,
            format!("{year:?} is not a financial year such as 2022/23"),
        ));
    }
    let g = Grid::read(path, &[])?;
    let h = g
        .rows
        .iter()
        .take(20)
        .position(|r| {
            m.gp_payments.columns["practice_code"]
                .iter()
                .any(|n| r.iter().any(|c| c.eq_ignore_ascii_case(n)))
        })
        .ok_or_else(|| {
            file_error(
                path,
                "no header row with a practice code column (looked for Practice Code)",
            )
        })?;
    let header = Header::new(&g, h);
    let cols = locate(path, &header, &m.gp_payments.required, &m.gp_payments.columns)?;
    let mut rows = Vec::new();
    let mut practices = Vec::new();
    let mut seen = BTreeSet::new();
    let mut totals = [0.0; 3];
    for r in h + 1..g.rows.len() {
        if g.rows[r].iter().all(|c| c.is_empty()) {
            continue;
        }
        let mut out = BTreeMap::new();
        out.insert("period".to_string(), year.clone());
        for (name, col) in &cols {
            let Some(c) = *col else { continue };
            let text = g.get(r, c);
            let value = if TEXT.contains(&name.as_str()) {
                text.to_string()
            } else if name == "closed" {
                date(text).unwrap_or_default()
            } else {
                let v = number(text).map_err(|rule| g.error(r, c, &header.names[c], rule))?;
                if let Some(x) = v
                    && x < 0.0
                    && name.ends_with("patients")
                {
                    return Err(g.error(r, c, &header.names[c], "patients cannot be negative"));
                }
                v.map(fmt_num).unwrap_or_default()
            };
            out.insert(name.clone(), value);
        }
        let get = |k: &str| out.get(k).cloned().unwrap_or_default();
        let practice = get("practice_code");
        let pc = cols["practice_code"].unwrap_or(0);
        if practice.is_empty() {
            return Err(g.error(r, pc, "Practice Code", "empty"));
        }
        if !seen.insert(practice.clone()) {
            return Err(g.error(r, pc, "Practice Code", "appears twice in the file"));
        }
        let cc = cols["commissioner_code"].unwrap_or(0);
        if get("commissioner_code").is_empty() {
            return Err(g.error(r, cc, "commissioner code", "empty"));
        }
        let registered: f64 = get("registered_patients").parse().unwrap_or(0.0);
        totals[0] += registered;
        totals[1] += get("weighted_patients").parse::<f64>().unwrap_or(0.0);
        totals[2] += get("total_payments").parse::<f64>().unwrap_or(0.0);
        practices.push(PracticeRow {
            practice,
            name: get("practice_name"),
            commissioner: get("commissioner_code"),
            commissioner_name: get("commissioner_name"),
            registered,
            opened: cols
                .get("opened")
                .copied()
                .flatten()
                .and_then(|c| date(g.get(r, c))),
            closed: Some(get("closed")).filter(|s| !s.is_empty()),
        });
        rows.push(out);
    }
    if rows.is_empty() {
        return Err(file_error(path, "has no practice rows"));
    }
    Ok(Read {
        year,
        path: path.to_path_buf(),
        rows,
        practices,
        totals,
    })
}

/// Imports payments files into the dataset folder `dir`: each file's year replaces that year's
/// rows; practices and commissioners the dataset lacks are resolved (see [`crosswalk`]) and the
/// crosswalk of old commissioner codes is written to `code_crosswalk.csv`.
pub fn import(files: &[PathBuf], dir: &Path, year: Option<&str>, mappings: &Mappings) -> Result<Imported> {
    let read: Vec<Read> = files
        .iter()
        .map(|f| read_file(f, year, mappings))
        .collect::<Result<_>>()?;
    let mut target = Target::open(dir)?;
    let mut years = BTreeSet::new();
    for r in &read {
        if !years.insert(r.year.clone()) {
            return Err(file_error(&r.path, format!("a second file for {}", r.year)));
        }
        let fy: model::Period = r.year.parse().map_err(|_| file_error(&r.path, "bad year"))?;
        if fy.last_month() < target.from || fy.first_month() > target.to {
            return Err(file_error(
                &r.path,
                format!(
                    "{} lies outside the dataset's window {}..{} (manifest.toml); widen from and to first",
                    r.year, target.from, target.to
                ),
            ));
        }
    }
    let mut header: Vec<String> = FIRST.iter().map(|s| s.to_string()).collect();
    for k in mappings.gp_payments.columns.keys() {
        if !header.contains(k) {
            header.push(k.clone());
        }
    }
    let hdr: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut rows: Vec<Vec<String>> = target
        .existing("gp_payments", &hdr)?
        .into_iter()
        .filter(|r| !years.contains(&r[0]))
        .collect();
    let mut walk: Vec<Vec<String>> = target.existing("code_crosswalk", &crosswalk::HEADER)?;
    let mut imported = Imported {
        files: files.to_vec(),
        periods: years.iter().cloned().collect(),
        ..Default::default()
    };
    // Older years first, so a practice closed by a later year is added under its old parent.
    let mut order: Vec<&Read> = read.iter().collect();
    order.sort_by(|a, b| a.year.cmp(&b.year));
    for r in &order {
        let resolved = crosswalk::merge_file(&mut target, &mut walk, &r.practices, &r.path, &r.year);
        imported.resolved.extend(resolved);
        for row in &r.rows {
            rows.push(
                header
                    .iter()
                    .map(|h| row.get(h).cloned().unwrap_or_default())
                    .collect(),
            );
        }
    }
    rows.sort();
    let n = read.iter().map(|r| r.rows.len()).sum();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap_or(0);
    for (i, what) in ["registered_patients", "weighted_patients", "total_payments"]
        .iter()
        .enumerate()
    {
        let published: f64 = read.iter().map(|r| r.totals[i]).sum();
        let after = column_sum(&rows, col(what), |r| years.contains(&r[0]));
        imported
            .totals
            .push((format!("gp_payments.{what}"), published, after));
    }
    target.stage("gp_payments", &hdr, &rows);
    imported.tables.push(("gp_payments".into(), n));
    crosswalk::stage(&mut target, walk, &mut imported);
    target.commit()?;
    Ok(imported)
}
