//! `footprint info`.

use crate::Format;
use crate::output::thousands;
use serde_json::json;
use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

pub fn run(dir: &Path, format: Format) -> anyhow::Result<ExitCode> {
    if !dir.is_dir() {
        anyhow::bail!("{}: dataset folder does not exist", dir.display());
    }
    let seen = dataset::inspect(dir);
    match format {
        Format::Json => {
            let tables: Vec<_> = seen
                .tables
                .iter()
                .map(|t| {
                    json!({
                        "table": t.table,
                        "form": t.source.form.as_str(),
                        "files": t.source.names,
                        "bytes": t.source.bytes,
                        "rows": t.rows,
                        "columns": t.columns,
                    })
                })
                .collect();
            let out = json!({
                "manifest": seen.manifest.as_ref().map(|m| json!({
                    "name": m.name, "source": m.source, "licence": m.licence,
                    "from": m.from.to_string(), "to": m.to.to_string(),
                })),
                "tables": tables,
                "absent_tables": seen.absent,
                "problems": seen.report.errors.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
                "notes": seen.report.notes,
            });
            crate::output::emit(&format!("{}\n", serde_json::to_string_pretty(&out)?));
        }
        Format::Text => {
            let mut o = String::new();
            match &seen.manifest {
                Some(m) => {
                    let _ = writeln!(
                        o,
                        "dataset  {}  ({} to {})\nsource   {}\nlicence  {}",
                        m.name, m.from, m.to, m.source, m.licence
                    );
                }
                None => {
                    let _ = writeln!(o, "dataset  (manifest.toml missing or unreadable)");
                }
            }
            let _ = writeln!(o);
            for t in &seen.tables {
                let rows = t.rows.map_or("?".into(), thousands);
                let _ = writeln!(
                    o,
                    "{:<16} {:<14} {:>12} rows {:>10} KiB  {}",
                    t.table,
                    t.source.form.as_str(),
                    rows,
                    thousands(t.source.bytes.div_ceil(1024)),
                    t.source.names.join(", ")
                );
                let _ = writeln!(o, "{:<16} columns: {}", "", t.columns.join(", "));
            }
            if !seen.absent.is_empty() {
                let _ = writeln!(o, "absent: {}", seen.absent.join(", "));
            }
            for d in &seen.report.errors {
                let _ = writeln!(o, "problem: {d}");
            }
            for n in &seen.report.notes {
                let _ = writeln!(o, "note: {n}");
            }
            let _ = writeln!(
                o,
                "\nthis is a quick look; `footprint validate {}` checks every rule",
                dir.display()
            );
            crate::output::emit(&o);
        }
    }
    Ok(ExitCode::SUCCESS)
}
