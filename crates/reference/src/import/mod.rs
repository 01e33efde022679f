//! `footprint import …`: NHS England's and NHS Digital's published files into a dataset.
//!
//! Every importer reads and checks all of its input before it writes anything, then writes
//! each changed file to a temporary file in the dataset folder and renames it into place
//! (see [`Target::commit`]); a refused import leaves the dataset byte for byte unchanged.
//! Codes the dataset does not know are resolved by [`crosswalk`] and every resolution is
//! reported; no row is dropped, and each importer reports the publication's totals beside
//! the totals it wrote, which the tests check are equal on every shipped real file.

pub mod crosswalk;
pub mod fingertips;
pub mod lists;
pub mod mapping;
pub mod payments;
pub mod real;
pub mod rtt;
pub mod sheet;
pub mod workforce;

use crate::{Error, Result};
use model::{Month, OrgKind};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// An error in a cell of an input file: `file:line:column: value: rule` for CSV files,
/// `file:sheet!cell: value: rule` for spreadsheets.
pub(crate) fn cell_error(
    path: &Path,
    at: impl Into<String>,
    value: impl AsRef<str>,
    rule: impl Into<String>,
) -> Error {
    Error::Cell {
        path: path.to_path_buf(),
        at: at.into(),
        value: value.as_ref().to_string(),
        rule: rule.into(),
    }
}

/// A whole-file problem (a missing column, a layout not recognised).
pub(crate) fn file_error(path: &Path, message: impl Into<String>) -> Error {
    Error::Inconsistent {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// How an import resolved a code the dataset did not have.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolution {
    pub code: String,
    /// What the code was added as, and why (`closed commissioner, successor 15N (share 0.97
    /// of 2014/15 registered patients)`).
    pub how: String,
}

/// What an import did: rows written, the publication's totals beside the dataset's totals
/// after import, and every code resolved.
#[derive(Debug, Clone, Default)]
pub struct Imported {
    /// The tables written (`rtt`, `rtt_specialty`, …) and their row counts from these files.
    pub tables: Vec<(String, usize)>,
    /// Each checked total: (what, the publication's total, the dataset's total for the same
    /// periods after import).
    pub totals: Vec<(String, f64, f64)>,
    pub resolved: Vec<Resolution>,
    pub periods: Vec<String>,
    pub files: Vec<PathBuf>,
}

impl Imported {
    /// The account without one line per resolved code.
    pub fn summary(&self, dir: &Path) -> String {
        let full = self.describe(dir);
        let lines: Vec<&str> = full.lines().filter(|l| !l.starts_with("  ")).collect();
        lines.join("\n") + "\n"
    }

    /// A plain-text account for the CLI.
    pub fn describe(&self, dir: &Path) -> String {
        let mut s = String::new();
        for (t, n) in &self.tables {
            s.push_str(&format!(
                "wrote {n} rows to {}\n",
                dir.join(format!("{t}.csv")).display()
            ));
        }
        if !self.periods.is_empty() {
            s.push_str(&format!("periods: {}\n", self.periods.join(", ")));
        }
        for (what, published, imported) in &self.totals {
            let mark = if (published - imported).abs() <= 1e-6 * published.abs().max(1.0) {
                "equal"
            } else {
                "DIFFERENT"
            };
            s.push_str(&format!(
                "total {what}: published {} · in the dataset {} ({mark})\n",
                fmt_num((published * 100.0).round() / 100.0),
                fmt_num((imported * 100.0).round() / 100.0)
            ));
        }
        if self.resolved.is_empty() {
            s.push_str("every code was already in the dataset\n");
        } else {
            s.push_str(&format!(
                "{} codes not in the dataset, resolved:\n",
                self.resolved.len()
            ));
            for r in &self.resolved {
                s.push_str(&format!("  {}: {}\n", r.code, r.how));
            }
        }
        s
    }
}

/// An organisation of the dataset, as much as the importers need.
#[derive(Debug, Clone)]
pub struct Org {
    pub kind: OrgKind,
    pub system: Option<String>,
    pub parent: Option<String>,
    pub closed: bool,
}

/// An organisation an import adds to `organisations.csv`.
#[derive(Debug, Clone, Default)]
pub struct NewOrg {
    pub code: String,
    pub name: String,
    pub kind: Option<OrgKind>,
    pub system: Option<String>,
    pub parent: Option<String>,
    pub opened: String,
    pub closed: Option<String>,
    pub successor: Option<String>,
}

/// The dataset folder an import writes into: its window, its organisations, and the files
/// staged for writing.
#[derive(Debug)]
pub struct Target {
    pub dir: PathBuf,
    pub from: Month,
    pub to: Month,
    pub orgs: BTreeMap<String, Org>,
    pub systems: BTreeSet<String>,
    orgs_text: String,
    orgs_header: Vec<String>,
    added: Vec<NewOrg>,
    staged: BTreeMap<String, Vec<u8>>,
}

impl Target {
    /// Reads the dataset's manifest window and `organisations.csv` (which must be CSV: the
    /// import may add organisations to it).
    pub fn open(dir: &Path) -> Result<Target> {
        let manifest_path = dir.join("manifest.toml");
        let manifest = std::fs::read_to_string(&manifest_path).map_err(|source| Error::Io {
            path: manifest_path.clone(),
            source,
        })?;
        let value: toml::Table = manifest
            .parse()
            .map_err(|e: toml::de::Error| file_error(&manifest_path, e.message().to_string()))?;
        let month = |key: &str| -> Result<Month> {
            let text = value.get(key).and_then(|v| v.as_str()).unwrap_or_default();
            text.parse().map_err(|_| {
                file_error(
                    &manifest_path,
                    format!("{key} = {text:?} is not a month (YYYY-MM)"),
                )
            })
        };
        let (from, to) = (month("from")?, month("to")?);
        let orgs_path = dir.join("organisations.csv");
        let orgs_text = std::fs::read_to_string(&orgs_path).map_err(|source| Error::Io {
            path: orgs_path.clone(),
            source,
        })?;
        let raw = crate::raw::RawCsv::read(&orgs_path, None)?;
        let (code, kind, system, parent, closed) = (
            raw.col("org_code")?,
            raw.col("kind")?,
            raw.col("system_code")?,
            raw.col("parent_code")?,
            raw.col("closed").ok(),
        );
        let mut orgs = BTreeMap::new();
        for (row, line) in raw.rows.iter().zip(&raw.lines) {
            let k = raw.get(row, kind);
            let kind = k.parse::<OrgKind>().map_err(|_| {
                cell_error(
                    &orgs_path,
                    format!("{line}:kind"),
                    k,
                    "not a kind of organisation",
                )
            })?;
            let opt = |c: usize| Some(raw.get(row, c).to_string()).filter(|s| !s.is_empty());
            orgs.insert(
                raw.get(row, code).to_string(),
                Org {
                    kind,
                    system: opt(system),
                    parent: opt(parent),
                    closed: closed.is_some_and(|c| !raw.get(row, c).is_empty()),
                },
            );
        }
        let orgs_header = orgs_text
            .trim_start_matches('\u{feff}')
            .lines()
            .next()
            .unwrap_or_default()
            .split(',')
            .map(|s| s.trim().to_string())
            .collect();
        let systems_path = dir.join("systems.csv");
        let sys = crate::raw::RawCsv::read(&systems_path, None)?;
        let sc = sys.col("system_code")?;
        let systems = sys.rows.iter().map(|r| sys.get(r, sc).to_string()).collect();
        Ok(Target {
            dir: dir.to_path_buf(),
            from,
            to,
            orgs,
            systems,
            orgs_text,
            orgs_header,
            added: Vec::new(),
            staged: BTreeMap::new(),
        })
    }

    /// Refuses periods outside the manifest's window, naming the file.
    pub fn check_window(&self, file: &Path, first: Month, last: Month) -> Result<()> {
        if first < self.from || last > self.to {
            return Err(file_error(
                file,
                format!(
                    "covers {first}..{last}, outside the dataset's window {}..{} (manifest.toml); widen from and to first",
                    self.from, self.to
                ),
            ));
        }
        Ok(())
    }

    pub fn knows(&self, code: &str) -> bool {
        self.orgs.contains_key(code)
    }

    /// Adds an organisation (written to `organisations.csv` on commit).
    pub fn add(&mut self, org: NewOrg) {
        self.orgs.insert(
            org.code.clone(),
            Org {
                kind: org.kind.unwrap_or(OrgKind::Commissioner),
                system: org.system.clone(),
                parent: org.parent.clone(),
                closed: org.closed.is_some(),
            },
        );
        self.added.push(org);
    }

    /// The rows of an existing CSV table of the dataset in `header`'s column order (columns
    /// it lacks are empty), or none if the table is absent. A table kept as Parquet is
    /// refused: imports write CSV.
    pub fn existing(&self, table: &str, header: &[&str]) -> Result<Vec<Vec<String>>> {
        for other in [format!("{table}.parquet"), table.to_string()] {
            let p = self.dir.join(&other);
            if p.exists() {
                return Err(file_error(
                    &p,
                    format!(
                        "the dataset keeps {table} as Parquet; imports write {table}.csv, so convert or move it first"
                    ),
                ));
            }
        }
        let path = self.dir.join(format!("{table}.csv"));
        if !path.exists() {
            return Ok(Vec::new());
        }
        let raw = crate::raw::RawCsv::read(&path, None)?;
        let cols: Vec<Option<usize>> = header.iter().map(|h| raw.col(h).ok()).collect();
        Ok(raw
            .rows
            .iter()
            .map(|r| {
                cols.iter()
                    .map(|c| c.map_or(String::new(), |c| raw.get(r, c).to_string()))
                    .collect()
            })
            .collect())
    }

    /// Stages a table to be written as `{table}.csv`.
    pub fn stage(&mut self, table: &str, header: &[&str], rows: &[Vec<String>]) {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(Vec::new());
        // Writing to a Vec cannot fail.
        let _ = w.write_record(header);
        for r in rows {
            let _ = w.write_record(r);
        }
        self.staged
            .insert(format!("{table}.csv"), w.into_inner().unwrap_or_default());
    }

    /// Writes every staged file and the added organisations: each to a temporary file in the
    /// dataset folder first, then all renamed into place, so a failure while writing leaves
    /// the dataset as it was.
    pub fn commit(mut self) -> Result<()> {
        if !self.added.is_empty() {
            for needed in ["closed", "successor_code"] {
                if !self.orgs_header.iter().any(|h| h == needed) {
                    return Err(file_error(
                        &self.dir.join("organisations.csv"),
                        format!(
                            "has no {needed} column, which organisations added by an import need; add it (it may be empty)"
                        ),
                    ));
                }
            }
            let mut text = std::mem::take(&mut self.orgs_text);
            if !text.ends_with('\n') {
                text.push('\n');
            }
            let mut w = csv::WriterBuilder::new()
                .terminator(csv::Terminator::Any(b'\n'))
                .from_writer(Vec::new());
            for o in &self.added {
                let cells: Vec<String> = self
                    .orgs_header
                    .iter()
                    .map(|h| match h.as_str() {
                        "org_code" => o.code.clone(),
                        "name" => o.name.clone(),
                        "kind" => o.kind.unwrap_or(OrgKind::Commissioner).as_str().to_string(),
                        "system_code" => o.system.clone().unwrap_or_default(),
                        "parent_code" => o.parent.clone().unwrap_or_default(),
                        "opened" => o.opened.clone(),
                        "closed" => o.closed.clone().unwrap_or_default(),
                        "successor_code" => o.successor.clone().unwrap_or_default(),
                        _ => String::new(),
                    })
                    .collect();
                let _ = w.write_record(&cells);
            }
            text.push_str(&String::from_utf8_lossy(&w.into_inner().unwrap_or_default()));
            self.staged.insert("organisations.csv".into(), text.into_bytes());
        }
        let files: Vec<(PathBuf, Vec<u8>)> = std::mem::take(&mut self.staged)
            .into_iter()
            .map(|(name, bytes)| (self.dir.join(name), bytes))
            .collect();
        write_all(&files)
    }
}

/// Writes every file to a temporary file beside it, then renames them all into place: a
/// failure while writing leaves every destination as it was.
pub(crate) fn write_all(files: &[(PathBuf, Vec<u8>)]) -> Result<()> {
    let mut temps: Vec<(PathBuf, &PathBuf)> = Vec::new();
    let cleanup = |temps: &[(PathBuf, &PathBuf)]| {
        for (t, _) in temps {
            let _ = std::fs::remove_file(t);
        }
    };
    for (dest, bytes) in files {
        let name = dest.file_name().and_then(|n| n.to_str()).unwrap_or("file");
        let temp = dest.with_file_name(format!(".{name}.footprint-import"));
        if let Err(source) = write_synced(&temp, bytes) {
            cleanup(&temps);
            let _ = std::fs::remove_file(&temp);
            return Err(Error::Io { path: temp, source });
        }
        temps.push((temp, dest));
    }
    for (i, (temp, dest)) in temps.iter().enumerate() {
        if let Err(source) = std::fs::rename(temp, dest) {
            cleanup(&temps[i..]);
            return Err(Error::Io {
                path: (*dest).clone(),
                source,
            });
        }
    }
    Ok(())
}

fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut f = std::fs::File::create(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// A whole number from a published cell: `1,234`, `1234.0`; empty, `*`, `-` and `..` are
/// "not available" (None). Anything else is an error message.
pub(crate) fn count(text: &str) -> std::result::Result<Option<f64>, &'static str> {
    number(text).and_then(|v| match v {
        Some(x) if x < 0.0 => Err("a count cannot be negative"),
        Some(x) if x.fract() != 0.0 => Err("not a whole number"),
        other => Ok(other),
    })
}

/// A number from a published cell (thousands separators and a leading `£` allowed); empty,
/// `*`, `-`, `..` and `x` are "not available".
pub(crate) fn number(text: &str) -> std::result::Result<Option<f64>, &'static str> {
    let t = text.trim();
    if matches!(t, "" | "*" | "-" | ".." | "x" | "X" | "NA" | "n/a") {
        return Ok(None);
    }
    let cleaned: String = t.trim_start_matches('£').chars().filter(|c| *c != ',').collect();
    match cleaned.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(Some(v)),
        _ => Err("not a number"),
    }
}

/// A number written back without spurious decimals (`12`, `12.5`).
pub(crate) fn fmt_num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        let s = format!("{v:.6}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// Sum of a column of staged rows (empty cells count as nothing).
pub(crate) fn column_sum(rows: &[Vec<String>], col: usize, keep: impl Fn(&[String]) -> bool) -> f64 {
    rows.iter()
        .filter(|r| keep(r))
        .filter_map(|r| r.get(col).and_then(|v| v.parse::<f64>().ok()))
        .sum()
}

/// The kind of a trust added from its name (the skeleton's own rules in `rules.toml`).
pub(crate) fn trust_kind(name: &str) -> OrgKind {
    // The skeleton's rules, parsed once (a test checks the built-in file parses).
    static RULES: std::sync::OnceLock<Option<crate::Rules>> = std::sync::OnceLock::new();
    let rules =
        RULES.get_or_init(|| crate::Rules::parse(include_str!("../../../../data/england/rules.toml")).ok());
    let upper = name.to_uppercase();
    if upper.contains("CCG") || upper.contains("CLINICAL COMMISSIONING") {
        return OrgKind::Commissioner;
    }
    match rules {
        Some(r) => r.trust_kind(name),
        None => OrgKind::MentalHealthTrust,
    }
}
