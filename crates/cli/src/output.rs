//! Rendering validation results as text or JSON.

use crate::Format;
use dataset::{Dataset, Report};
use model::{Diagnostic, OrgKind};
use serde_json::{Value, json};
use std::fmt::Write as _;

/// Writes results to stdout. A closed pipe (`footprint … | head`) ends output quietly.
pub fn emit(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        tracing::error!("cannot write results: {e}");
        std::process::exit(2);
    }
}

/// Reads a request's text from a file, or from stdin without one.
pub fn read_text(input: Option<&std::path::Path>) -> anyhow::Result<String> {
    use anyhow::Context;
    use std::io::Read;
    let mut text = String::new();
    match input {
        Some(p) => text = std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?,
        None => {
            std::io::stdin()
                .read_to_string(&mut text)
                .context("reading the request from stdin")?;
        }
    }
    Ok(text)
}

/// Reads one JSON request from a file, or from stdin without one.
pub fn read_request(input: Option<&std::path::Path>) -> anyhow::Result<Value> {
    use anyhow::Context;
    serde_json::from_str(&read_text(input)?).context("the request is not JSON")
}

/// Writes a value as pretty JSON with a final newline.
pub fn emit_json(v: &impl serde::Serialize) -> anyhow::Result<std::process::ExitCode> {
    emit(&(serde_json::to_string_pretty(v)? + "\n"));
    Ok(std::process::ExitCode::SUCCESS)
}

/// `12345` → `12,345`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn diagnostic_json(d: &Diagnostic) -> Value {
    json!({
        "file": d.location.file,
        "line": d.location.line,
        "column": d.location.column,
        "value": d.value,
        "rule": d.rule,
        "message": d.to_string(),
    })
}

/// The problems of a refused dataset.
pub fn refused(report: &Report, format: Format) -> String {
    match format {
        Format::Json => serde_json::to_string_pretty(&json!({
            "valid": false,
            "error_count": report.error_count,
            "errors": report.errors.iter().map(diagnostic_json).collect::<Vec<_>>(),
            "warning_count": report.warning_count,
            "warnings": report.warnings.iter().map(diagnostic_json).collect::<Vec<_>>(),
        }))
        .unwrap_or_default(),
        Format::Text => {
            let mut out = String::new();
            for d in &report.errors {
                let _ = writeln!(out, "{d}");
            }
            if report.errors_not_shown() > 0 {
                let _ = writeln!(
                    out,
                    "… and {} more problems",
                    thousands(report.errors_not_shown())
                );
            }
            let _ = writeln!(
                out,
                "dataset refused: {} problem{}; nothing was loaded",
                thousands(report.error_count),
                if report.error_count == 1 { "" } else { "s" }
            );
            out
        }
    }
}

/// Counts of the reference model that analysts check first.
fn headline(ds: &Dataset) -> Vec<(&'static str, usize)> {
    let kinds = ds.kinds();
    let k = |kind| kinds.get(&kind).copied().unwrap_or(0);
    vec![
        ("regions", ds.regions.len()),
        ("systems", ds.systems.len()),
        ("commissioners", k(OrgKind::Commissioner)),
        ("gp_practices", k(OrgKind::GpPractice)),
        ("pcns", k(OrgKind::Pcn)),
        ("nhs_trusts", OrgKind::TRUSTS.iter().map(|t| k(*t)).sum()),
    ]
}

/// The summary of a valid dataset.
pub fn summary(ds: &Dataset, report: &Report, format: Format) -> String {
    let absent: Vec<&str> = dataset::schema::TABLES
        .iter()
        .filter(|t| !ds.tables.contains_key(t.name))
        .map(|t| t.name)
        .collect();
    match format {
        Format::Json => {
            let tables: Vec<Value> = ds
                .tables_in_order()
                .map(|t| {
                    json!({
                        "table": t.spec.name,
                        "form": t.source.form.as_str(),
                        "files": t.source.names,
                        "rows": t.tally.rows,
                        "periods": t.tally.periods.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
                        "first_day": t.tally.days.map(|d| model::format_date(d.0)),
                        "last_day": t.tally.days.map(|d| model::format_date(d.1)),
                    })
                })
                .collect();
            let kinds: serde_json::Map<String, Value> = ds
                .kinds()
                .into_iter()
                .map(|(k, n)| (k.to_string(), json!(n)))
                .collect();
            let headline: serde_json::Map<String, Value> = headline(ds)
                .into_iter()
                .map(|(k, n)| (k.to_string(), json!(n)))
                .collect();
            serde_json::to_string_pretty(&json!({
                "valid": true,
                "name": ds.manifest.name,
                "source": ds.manifest.source,
                "licence": ds.manifest.licence,
                "from": ds.manifest.from.to_string(),
                "to": ds.manifest.to.to_string(),
                "tables": tables,
                "absent_tables": absent,
                "counts": headline,
                "organisations_by_kind": kinds,
                "warning_count": report.warning_count,
                "warnings": report.warnings.iter().map(diagnostic_json).collect::<Vec<_>>(),
                "notes": report.notes,
            }))
            .unwrap_or_default()
        }
        Format::Text => {
            let m = &ds.manifest;
            let mut out = String::new();
            let _ = writeln!(out, "dataset  {}  ({} to {})", m.name, m.from, m.to);
            let _ = writeln!(out, "source   {}", m.source);
            let _ = writeln!(out, "licence  {}", m.licence);
            let _ = writeln!(out, "\ntables");
            for t in ds.tables_in_order() {
                let mut span = String::new();
                if let (Some(a), Some(b)) = (t.tally.periods.first(), t.tally.periods.last()) {
                    span = format!("periods {a} to {b} ({})", t.tally.periods.len());
                } else if let Some((a, b)) = t.tally.days {
                    span = format!("dates {} to {}", model::format_date(a), model::format_date(b));
                }
                let _ = writeln!(
                    out,
                    "  {:<16} {:<14} {:>13} rows  {span}",
                    t.spec.name,
                    t.source.form.as_str(),
                    thousands(t.tally.rows)
                );
            }
            if !absent.is_empty() {
                let _ = writeln!(
                    out,
                    "  absent (optional; indicators that need them are switched off): {}",
                    absent.join(", ")
                );
            }
            let _ = writeln!(out, "\norganisations by kind");
            for (kind, n) in ds.kinds() {
                let _ = writeln!(out, "  {:<22} {:>7}", kind.as_str(), thousands(n as u64));
            }
            let _ = writeln!(out, "\nreference model");
            for (what, n) in headline(ds) {
                let _ = writeln!(out, "  {:<22} {:>7}", what, thousands(n as u64));
            }
            if report.warning_count > 0 {
                let _ = writeln!(out, "\nwarnings ({})", thousands(report.warning_count));
                for w in &report.warnings {
                    let _ = writeln!(out, "  {w}");
                }
                if report.warnings_not_shown() > 0 {
                    let _ = writeln!(out, "  … and {} more", thousands(report.warnings_not_shown()));
                }
            }
            for n in &report.notes {
                let _ = writeln!(out, "note: {n}");
            }
            let _ = writeln!(out, "\nvalid: every rule of the data contract holds");
            out
        }
    }
}
