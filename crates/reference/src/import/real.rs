//! The real England dataset: the England skeleton (`data/england/contract`, built in) with
//! every shipped real publication (`data/real/`, OGL) imported by the same importers a user
//! runs, in the order the crosswalk needs (practice-level files first, so that the 2015 RTT
//! workbooks and the 2017–18 workforce files find their old commissioner codes).

use super::{Imported, file_error, mapping::Mappings};
use crate::{Error, Result};
use std::path::{Path, PathBuf};

/// The first month any shipped real file covers (payments 2014/15).
pub const FROM: &str = "2014-04";

fn files(dir: &Path, sub: &str, keep: impl Fn(&str) -> bool) -> Result<Vec<PathBuf>> {
    let d = dir.join(sub);
    let mut out: Vec<PathBuf> = std::fs::read_dir(&d)
        .map_err(|source| Error::Io {
            path: d.clone(),
            source,
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(&keep))
        .collect();
    out.sort();
    if out.is_empty() {
        return Err(file_error(&d, "has no files to import"));
    }
    Ok(out)
}

/// Builds the real dataset in `out` from the real files in `real` (the repository's
/// `data/real`). Returns each import's account.
pub fn build(real: &Path, out: &Path) -> Result<Vec<(&'static str, Imported)>> {
    if !real.join("SOURCES.md").exists() {
        return Err(file_error(
            real,
            "is not the folder of shipped real publications (data/real in the repository, with SOURCES.md); run from a clone or pass --real-data DIR",
        ));
    }
    let io = |path: PathBuf| move |source| Error::Io { path, source };
    std::fs::create_dir_all(out).map_err(io(out.into()))?;
    for (name, bytes) in crate::embedded::FILES {
        let text = if *name == "manifest.toml" {
            let t = String::from_utf8_lossy(bytes).into_owned();
            t.lines()
                .map(|l| match l.split_once('=').map(|(k, _)| k.trim()) {
                    Some("name") => "name = \"england-real\"".to_string(),
                    Some("source") => "source = \"NHS England / NHS Digital / OHID publications (data/real/SOURCES.md) on the England reference skeleton\"".to_string(),
                    Some("from") => format!("from = \"{FROM}\""),
                    _ => l.to_string(),
                })
                .collect::<Vec<_>>()
                .join("\n")
                + "\n"
        } else {
            String::from_utf8_lossy(bytes).into_owned()
        };
        std::fs::write(out.join(name), text).map_err(io(out.join(name)))?;
    }
    // Tables a previous build left are replaced, not merged.
    for t in [
        "gp_payments",
        "code_crosswalk",
        "list_sizes",
        "population",
        "rtt",
        "rtt_specialty",
        "workforce",
        "external_indicators",
    ] {
        let _ = std::fs::remove_file(out.join(format!("{t}.csv")));
    }
    let m = Mappings::builtin();
    let csv = |n: &str| n.ends_with(".csv");
    let done = vec![
        (
            "gp-payments",
            super::payments::import(&files(real, "gp_payments", csv)?, out, None, &m)?,
        ),
        (
            "gp-lists",
            super::lists::import(&files(real, "gp_lists", csv)?, out)?,
        ),
        (
            "rtt",
            super::rtt::import(
                &files(real, "rtt", |n| n.ends_with(".xls") || n.ends_with(".xlsx"))?,
                out,
            )?,
        ),
        (
            "workforce",
            super::workforce::import(
                &files(real, "workforce", |n| n.starts_with("hchs-staff-by-staff-group"))?,
                out,
                &m,
            )?,
        ),
        (
            "fingertips",
            super::fingertips::import(&files(real, "fingertips", csv)?, out)?,
        ),
    ];
    Ok(done)
}
