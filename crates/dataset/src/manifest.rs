//! `manifest.toml`: the dataset's name, source, licence and window of months.

use crate::report::Report;
use model::{Diagnostic, Location, Month};
use serde::Deserialize;
use std::path::Path;

/// A validated manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    pub name: String,
    /// `"synthetic"` or a description of the real source.
    pub source: String,
    pub licence: String,
    /// First month covered.
    pub from: Month,
    /// Last month covered.
    pub to: Month,
}

impl Manifest {
    pub fn is_synthetic(&self) -> bool {
        self.source == "synthetic"
    }

    /// Renders the manifest as TOML (used by the tools that write datasets).
    pub fn to_toml(&self) -> String {
        format!(
            "name = {:?}\nsource = {:?}\nlicence = {:?}\nfrom = \"{}\"\nto = \"{}\"\n",
            self.name, self.source, self.licence, self.from, self.to
        )
    }
}

/// The raw shape, as a TOML table; extra keys are kept and ignored like extra columns.
#[derive(Deserialize)]
struct Raw {
    name: Option<toml::Value>,
    source: Option<toml::Value>,
    licence: Option<toml::Value>,
    from: Option<toml::Value>,
    to: Option<toml::Value>,
}

const FILE: &str = "manifest.toml";

pub(crate) fn read(dir: &Path, report: &mut Report) -> Option<Manifest> {
    let path = dir.join(FILE);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            report.push(Diagnostic::error(
                Location::file(FILE),
                None,
                "required file is missing",
            ));
            return None;
        }
        Err(e) => {
            report.push(Diagnostic::error(
                Location::file(FILE),
                None,
                format!("cannot read file: {e}"),
            ));
            return None;
        }
    };
    let Ok(text) = std::str::from_utf8(&bytes) else {
        report.push(Diagnostic::error(
            Location::file(FILE),
            None,
            "file is not valid UTF-8",
        ));
        return None;
    };
    parse(text, report)
}

pub(crate) fn parse(text: &str, report: &mut Report) -> Option<Manifest> {
    let raw: Raw = match toml::from_str(text) {
        Ok(raw) => raw,
        Err(e) => {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() as u64 + 1);
            let mut loc = Location::file(FILE);
            loc.line = line;
            report.push(Diagnostic::error(
                loc,
                None,
                format!("not valid TOML: {}", e.message()),
            ));
            return None;
        }
    };
    let line_of = |key: &str| -> u64 {
        text.lines()
            .position(|l| l.trim_start().starts_with(key))
            .map_or(1, |i| i as u64 + 1)
    };
    let mut text_field = |key: &str, v: Option<toml::Value>| -> Option<String> {
        match v {
            None => {
                report.push(Diagnostic::error(
                    Location::file(FILE).column(key),
                    None,
                    "required key is missing",
                ));
                None
            }
            Some(toml::Value::String(s)) if !s.trim().is_empty() => Some(s),
            Some(other) => {
                report.push(Diagnostic::error(
                    Location::file(FILE).line(line_of(key)).column(key),
                    Some(other.to_string()),
                    "must be a non-empty string",
                ));
                None
            }
        }
    };
    let name = text_field("name", raw.name);
    let source = text_field("source", raw.source);
    let licence = text_field("licence", raw.licence);
    let from = text_field("from", raw.from);
    let to = text_field("to", raw.to);
    let mut month = |key: &str, v: Option<String>| -> Option<Month> {
        let v = v?;
        match v.parse::<Month>() {
            Ok(m) => Some(m),
            Err(_) => {
                report.push(Diagnostic::error(
                    Location::file(FILE).line(line_of(key)).column(key),
                    Some(v),
                    "not a month; expected YYYY-MM",
                ));
                None
            }
        }
    };
    let from = month("from", from);
    let to = month("to", to);
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        report.push(Diagnostic::error(
            Location::file(FILE).line(line_of("to")).column("to"),
            Some(t.to_string()),
            format!("window ends before it starts (from = {f})"),
        ));
        return None;
    }
    Some(Manifest {
        name: name?,
        source: source?,
        licence: licence?,
        from: from?,
        to: to?,
    })
}
