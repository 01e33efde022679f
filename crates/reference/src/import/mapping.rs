//! The column and staff-group mappings of the importers, as data (`data/import/mappings.toml`,
//! built in; a user's copy is passed with `--mapping`).

use super::file_error;
use super::sheet::Header;
use crate::{Error, Result};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// The built-in mappings.
pub const DEFAULT: &str = include_str!("../../../../data/import/mappings.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mappings {
    pub format: u32,
    pub gp_payments: Columns,
    pub workforce: Workforce,
}

/// Output columns and the publication's names for each.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Columns {
    pub required: Vec<String>,
    pub columns: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workforce {
    pub required: Vec<String>,
    pub columns: BTreeMap<String, Vec<String>>,
    pub staff_groups: BTreeMap<String, String>,
}

impl Mappings {
    pub fn builtin() -> Mappings {
        // The built-in file is checked by a test; parsing it cannot fail at run time.
        Mappings::parse(DEFAULT, Path::new("data/import/mappings.toml")).unwrap_or_else(|e| panic!("{e}"))
    }

    pub fn read(path: &Path) -> Result<Mappings> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.into(),
            source,
        })?;
        Mappings::parse(&text, path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<Mappings> {
        let m: Mappings = toml::from_str(text).map_err(|e| Error::Rules {
            path: path.into(),
            message: e.to_string(),
        })?;
        if m.format != 1 {
            return Err(Error::Rules {
                path: path.into(),
                message: format!("format {} is not supported; expected 1", m.format),
            });
        }
        for (table, req, cols) in [
            ("gp_payments", &m.gp_payments.required, &m.gp_payments.columns),
            ("workforce", &m.workforce.required, &m.workforce.columns),
        ] {
            for r in req {
                if !cols.contains_key(r) {
                    return Err(Error::Rules {
                        path: path.into(),
                        message: format!("[{table}] requires {r}, which has no entry in [{table}.columns]"),
                    });
                }
            }
            for (c, names) in cols {
                if names.is_empty() {
                    return Err(Error::Rules {
                        path: path.into(),
                        message: format!("[{table}.columns] {c} lists no column names"),
                    });
                }
            }
        }
        Ok(m)
    }
}

/// Where each output column is in a file's header (None: the file lacks it). A file that
/// lacks a required column is refused, naming every missing one and the names looked for.
pub fn locate(
    file: &Path,
    header: &Header,
    required: &[String],
    columns: &BTreeMap<String, Vec<String>>,
) -> Result<BTreeMap<String, Option<usize>>> {
    let found: BTreeMap<String, Option<usize>> = columns
        .iter()
        .map(|(out, names)| (out.clone(), header.find_any(names)))
        .collect();
    let missing: Vec<String> = required
        .iter()
        .filter(|r| found.get(*r).copied().flatten().is_none())
        .map(|r| {
            format!(
                "{r} (looked for {})",
                columns[r]
                    .iter()
                    .map(|n| format!("{n:?}"))
                    .collect::<Vec<_>>()
                    .join(" or ")
            )
        })
        .collect();
    if !missing.is_empty() {
        return Err(file_error(
            file,
            format!("required columns missing: {}", missing.join("; ")),
        ));
    }
    Ok(found)
}
