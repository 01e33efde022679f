//! NHS England's monthly A&E SitRep (provider-level CSVs) as the contract's `ae_monthly`, and
//! `footprint import sitrep`: adding SitRep months to a dataset.

use crate::raw::RawCsv;
use crate::{Error, Result};
use model::Month;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// One provider-month of the SitRep, in the contract's columns: attendances type 1 and
/// other, over four hours type 1 and other, emergency admissions, 12-hour waits from DTA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SitRow {
    pub month: Month,
    pub code: String,
    pub values: [i64; 6],
}

/// A reporting site: its name, its parent organisation as written, and its first month.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    pub name: String,
    pub parent: String,
    pub first: Month,
}

/// The SitRep files read.
#[derive(Debug, Clone, Default)]
pub struct SitRep {
    /// Sorted by month and site.
    pub rows: Vec<SitRow>,
    pub sites: BTreeMap<String, Site>,
    /// Type-1 attendances by site over every month.
    pub type1: HashMap<String, i64>,
}

/// `MSitAE-JUNE-2024` → 2024-06.
pub fn month(s: &str) -> Option<Month> {
    const NAMES: [&str; 12] = [
        "JANUARY",
        "FEBRUARY",
        "MARCH",
        "APRIL",
        "MAY",
        "JUNE",
        "JULY",
        "AUGUST",
        "SEPTEMBER",
        "OCTOBER",
        "NOVEMBER",
        "DECEMBER",
    ];
    let mut parts = s.trim().rsplitn(3, '-');
    let year: i32 = parts.next()?.parse().ok()?;
    let name = parts.next()?;
    let month = NAMES.iter().position(|n| n.eq_ignore_ascii_case(name))? as u32 + 1;
    Month::new(year, month)
}

const COLUMNS: [&str; 17] = [
    "A&E attendances Type 1",
    "A&E attendances Booked Appointments Type 1",
    "A&E attendances Type 2",
    "A&E attendances Other A&E Department",
    "A&E attendances Booked Appointments Type 2",
    "A&E attendances Booked Appointments Other Department",
    "Attendances over 4hrs Type 1",
    "Attendances over 4hrs Booked Appointments Type 1",
    "Attendances over 4hrs Type 2",
    "Attendances over 4hrs Other Department",
    "Attendances over 4hrs Booked Appointments Type 2",
    "Attendances over 4hrs Booked Appointments Other Department",
    "Emergency admissions via A&E - Type 1",
    "Emergency admissions via A&E - Type 2",
    "Emergency admissions via A&E - Other A&E department",
    "Other emergency admissions",
    "Patients who have waited 12+ hrs from DTA to admission",
];

/// Reads SitRep CSVs (the national TOTAL row is skipped). A site reported twice in one
/// month, a period that is not `MSitAE-MONTH-YYYY` and a count that is not a whole number
/// are errors naming the file and line.
pub fn read(files: &[PathBuf]) -> Result<SitRep> {
    let mut out = SitRep::default();
    for path in files {
        let f = RawCsv::read(path, None)?;
        let col = |n: &str| f.col(n);
        let (period, code, parent, name) = (
            col("Period")?,
            col("Org Code")?,
            col("Parent Org")?,
            col("Org name")?,
        );
        let cols: Vec<usize> = COLUMNS.iter().map(|n| col(n)).collect::<Result<_>>()?;
        for (row, line) in f.rows.iter().zip(&f.lines) {
            let org = f.get(row, code);
            if org.eq_ignore_ascii_case("total") || org.is_empty() {
                continue;
            }
            let month = month(f.get(row, period)).ok_or_else(|| Error::Csv {
                path: path.clone(),
                line: *line,
                message: format!("period {:?} is not MSitAE-MONTH-YYYY", f.get(row, period)),
            })?;
            let mut v = [0i64; 17];
            for (slot, &ci) in v.iter_mut().zip(&cols) {
                let text = f.get(row, ci);
                *slot = text.parse().map_err(|_| Error::Csv {
                    path: path.clone(),
                    line: *line,
                    message: format!("{text:?} is not a count"),
                })?;
            }
            let values = [
                v[0] + v[1],
                v[2] + v[3] + v[4] + v[5],
                v[6] + v[7],
                v[8] + v[9] + v[10] + v[11],
                v[12] + v[13] + v[14] + v[15],
                v[16],
            ];
            *out.type1.entry(org.to_string()).or_default() += values[0];
            out.sites
                .entry(org.to_string())
                .and_modify(|s| s.first = s.first.min(month))
                .or_insert(Site {
                    name: f.get(row, name).to_string(),
                    parent: f.get(row, parent).to_string(),
                    first: month,
                });
            out.rows.push(SitRow {
                month,
                code: org.to_string(),
                values,
            });
        }
    }
    if out.rows.is_empty() {
        let at = files.first().cloned().unwrap_or_default();
        return Err(Error::Inconsistent {
            path: at,
            message: "no SitRep months found".into(),
        });
    }
    let mut seen = BTreeSet::new();
    for r in &out.rows {
        if !seen.insert((r.month, r.code.clone())) {
            let at = files.first().cloned().unwrap_or_default();
            return Err(Error::Inconsistent {
                path: at,
                message: format!("{} appears twice in {}", r.code, r.month),
            });
        }
    }
    out.rows
        .sort_by(|a, b| (a.month, &a.code).cmp(&(b.month, &b.code)));
    Ok(out)
}

/// The region a site's parent names (`NHS ENGLAND MIDLANDS` → the region named Midlands).
pub fn region_of<'a>(parent: &str, regions: impl IntoIterator<Item = (&'a str, &'a str)>) -> Option<String> {
    let wanted = parent.trim().trim_start_matches("NHS ENGLAND").trim();
    regions
        .into_iter()
        .find(|(_, name)| name.eq_ignore_ascii_case(wanted))
        .map(|(code, _)| code.to_string())
}

/// The contract's `ae_monthly` table of SitRep rows.
pub fn table(sit_rows: Vec<SitRow>) -> crate::OutTable {
    crate::OutTable {
        name: "ae_monthly",
        header: vec![
            "period",
            "provider_code",
            "attendances_type1",
            "attendances_other",
            "over_4h_type1",
            "over_4h_other",
            "emergency_admissions",
            "over_12h_dta",
        ],
        rows: rows(sit_rows),
    }
}

/// `ae_monthly` rows in the contract's column order.
fn rows(rows: Vec<SitRow>) -> Vec<Vec<String>> {
    rows.into_iter()
        .map(|r| {
            let mut row = vec![r.month.to_string(), r.code];
            row.extend(r.values.iter().map(|v| v.to_string()));
            row
        })
        .collect()
}

/// What `import` did.
#[derive(Debug, Clone)]
pub struct Imported {
    pub rows: usize,
    pub from: Month,
    pub to: Month,
    /// Sites added to `organisations.csv` as independent providers of their region.
    pub added: Vec<String>,
}

/// Writes the SitRep `files` into the dataset folder `dir` as `ae_monthly.csv` (replacing
/// it), adding sites that are not yet organisations as independent providers attached to
/// their region. The dataset must keep its reference tables as CSV (`regions.csv`,
/// `organisations.csv`) and its manifest window must cover the months imported. Nothing is
/// written if anything is wrong.
pub fn import(files: &[PathBuf], dir: &Path) -> Result<Imported> {
    let sitrep = read(files)?;
    let io = |path: PathBuf| move |source| Error::Io { path, source };
    let regions_path = dir.join("regions.csv");
    let orgs_path = dir.join("organisations.csv");
    let regions = RawCsv::read(&regions_path, None)?;
    let (rc, rn) = (regions.col("region_code")?, regions.col("name")?);
    let region_names: Vec<(String, String)> = regions
        .rows
        .iter()
        .map(|r| (regions.get(r, rc).to_string(), regions.get(r, rn).to_string()))
        .collect();
    let orgs = RawCsv::read(&orgs_path, None)?;
    let oc = orgs.col("org_code")?;
    let known: BTreeSet<&str> = orgs.rows.iter().map(|r| orgs.get(r, oc)).collect();
    let orgs_text = std::fs::read_to_string(&orgs_path).map_err(io(orgs_path.clone()))?;
    let header: Vec<String> = {
        let first = orgs_text
            .trim_start_matches('\u{feff}')
            .lines()
            .next()
            .unwrap_or_default()
            .to_string();
        first.split(',').map(|s| s.trim().to_string()).collect()
    };
    if !header.iter().any(|h| h == "region_code") {
        return Err(Error::Inconsistent {
            path: orgs_path,
            message: "has no region_code column, which sites without a system need; add it (it may be empty for other organisations)".into(),
        });
    }
    let mut added = Vec::new();
    let mut lines = Vec::new();
    for (code, site) in &sitrep.sites {
        if known.contains(code.as_str()) {
            continue;
        }
        let region = region_of(
            &site.parent,
            region_names.iter().map(|(c, n)| (c.as_str(), n.as_str())),
        )
        .ok_or_else(|| Error::Inconsistent {
            path: files.first().cloned().unwrap_or_default(),
            message: format!(
                "site {code}: parent {:?} is not a region of {}",
                site.parent,
                regions_path.display()
            ),
        })?;
        let cells: Vec<String> = header
            .iter()
            .map(|h| match h.as_str() {
                "org_code" => code.clone(),
                "name" => site.name.clone(),
                "kind" => "independent_provider".into(),
                "opened" => format!("{}-01", site.first),
                "region_code" => region.clone(),
                _ => String::new(),
            })
            .collect();
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(Vec::new());
        let _ = w.write_record(&cells);
        lines.push(String::from_utf8_lossy(&w.into_inner().unwrap_or_default()).into_owned());
        added.push(code.clone());
    }
    let from = sitrep.rows.first().map(|r| r.month);
    let to = sitrep.rows.last().map(|r| r.month);
    let (Some(from), Some(to)) = (from, to) else {
        return Err(Error::Inconsistent {
            path: dir.to_path_buf(),
            message: "no SitRep months found".into(),
        });
    };
    let manifest_path = dir.join("manifest.toml");
    let manifest = std::fs::read_to_string(&manifest_path).map_err(io(manifest_path.clone()))?;
    let window = |key: &str| -> Option<Month> {
        manifest.lines().find_map(|l| {
            let (k, v) = l.split_once('=')?;
            (k.trim() == key)
                .then(|| v.trim().trim_matches('"').parse().ok())
                .flatten()
        })
    };
    match (window("from"), window("to")) {
        (Some(f), Some(t)) if f <= from && to <= t => {}
        (f, t) => {
            return Err(Error::Inconsistent {
                path: manifest_path,
                message: format!(
                    "the window {}..{} does not cover the SitRep's {from}..{to}; widen from and to first",
                    f.map_or("?".into(), |m| m.to_string()),
                    t.map_or("?".into(), |m| m.to_string())
                ),
            });
        }
    }
    let n = sitrep.rows.len();
    let table = table(sitrep.rows);
    // Both files are written to temporary files and renamed together: a failure leaves the
    // dataset as it was.
    let mut files = vec![(dir.join("ae_monthly.csv"), table.to_csv())];
    if !lines.is_empty() {
        let mut text = orgs_text;
        if !text.ends_with('\n') {
            text.push('\n');
        }
        text.extend(lines);
        files.push((orgs_path, text.into_bytes()));
    }
    crate::import::write_all(&files)?;
    Ok(Imported {
        rows: n,
        from,
        to,
        added,
    })
}
