//! Finding each table's files in a dataset folder: `T.csv`, `T.parquet` or a folder `T/` of
//! Parquet parts, and never two of these at once.

use crate::report::Report;
use crate::schema::{TABLES, TableSpec};
use model::{Diagnostic, Location};
use std::path::{Path, PathBuf};

/// How a table is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    Csv,
    Parquet,
    /// A folder of Parquet parts.
    Parts,
}

impl Form {
    pub fn as_str(self) -> &'static str {
        match self {
            Form::Csv => "csv",
            Form::Parquet => "parquet",
            Form::Parts => "parquet parts",
        }
    }
}

/// Where a table's data lives.
#[derive(Debug, Clone)]
pub struct Source {
    pub form: Form,
    /// The files to read, in order (sorted by name for parts).
    pub files: Vec<PathBuf>,
    /// How the files are named in messages (relative to the dataset folder).
    pub names: Vec<String>,
    pub bytes: u64,
}

/// Finds the source of every contract table. Missing required tables, ambiguous forms and
/// unreadable folders are reported; unknown files are returned as notes.
pub(crate) fn discover(
    dir: &Path,
    report: &mut Report,
) -> (Vec<(&'static TableSpec, Option<Source>)>, Vec<String>) {
    let mut found = Vec::new();
    for spec in TABLES {
        found.push((spec, find(dir, spec, report)));
    }
    let mut unknown = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        let mut names: Vec<String> = entries
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        for name in names {
            let stem = name
                .strip_suffix(".csv")
                .or_else(|| name.strip_suffix(".parquet"))
                .unwrap_or(&name);
            if name != "manifest.toml" && !name.starts_with('.') && !TABLES.iter().any(|t| t.name == stem) {
                unknown.push(name);
            }
        }
    }
    (found, unknown)
}

fn find(dir: &Path, spec: &TableSpec, report: &mut Report) -> Option<Source> {
    let csv = dir.join(format!("{}.csv", spec.name));
    let parquet = dir.join(format!("{}.parquet", spec.name));
    let folder = dir.join(spec.name);
    let mut forms = Vec::new();
    if csv.is_file() {
        forms.push((Form::Csv, csv));
    }
    if parquet.is_file() {
        forms.push((Form::Parquet, parquet));
    }
    if folder.is_dir() {
        forms.push((Form::Parts, folder));
    }
    match forms.len() {
        0 => {
            if spec.required {
                report.push(Diagnostic::error(
                    Location::file(format!("{}.csv", spec.name)),
                    None,
                    "required table is missing",
                ));
            }
            None
        }
        1 => {
            let (form, path) = forms.pop()?;
            let display = |p: &Path| p.strip_prefix(dir).unwrap_or(p).to_string_lossy().into_owned();
            let files = if form == Form::Parts {
                let mut parts: Vec<PathBuf> = match std::fs::read_dir(&path) {
                    Ok(entries) => entries
                        .flatten()
                        .map(|e| e.path())
                        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "parquet"))
                        .collect(),
                    Err(e) => {
                        report.push(Diagnostic::error(
                            Location::file(display(&path)),
                            None,
                            format!("cannot read folder: {e}"),
                        ));
                        return None;
                    }
                };
                parts.sort();
                if parts.is_empty() {
                    report.push(Diagnostic::error(
                        Location::file(format!("{}/", display(&path))),
                        None,
                        "folder holds no .parquet parts",
                    ));
                    return None;
                }
                parts
            } else {
                vec![path]
            };
            let bytes = files
                .iter()
                .map(|f| std::fs::metadata(f).map_or(0, |m| m.len()))
                .sum();
            let names = files.iter().map(|f| display(f)).collect();
            Some(Source {
                form,
                files,
                names,
                bytes,
            })
        }
        _ => {
            let names: Vec<String> = forms
                .iter()
                .map(|(f, p)| {
                    let n = p
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    if *f == Form::Parts { format!("{n}/") } else { n }
                })
                .collect();
            report.push(Diagnostic::error(
                Location::file(names[0].clone()),
                None,
                format!(
                    "table {} is stored more than once ({}); keep one",
                    spec.name,
                    names.join(", ")
                ),
            ));
            None
        }
    }
}
