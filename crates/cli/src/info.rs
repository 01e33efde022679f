//! `footprint info`.

use crate::Format;
use crate::output::thousands;
use serde_json::json;
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
            println!("{}", serde_json::to_string_pretty(&out)?);
        }
        Format::Text => {
            match &seen.manifest {
                Some(m) => println!("dataset  {}  ({} to {})\nsource   {}\nlicence  {}", m.name, m.from, m.to, m.source, m.licence),
                None => println!("dataset  (manifest.toml missing or unreadable)"),
            }
            println!();
            for t in &seen.tables {
                let rows = t.rows.map_or("?".into(), thousands);
                println!(
                    "{:<16} {:<14} {:>12} rows {:>10} KiB  {}",
                    t.table,
                    t.source.form.as_str(),
                    rows,
                    thousands(t.source.bytes.div_ceil(1024)),
                    t.source.names.join(", ")
                );
                println!("{:<16} columns: {}", "", t.columns.join(", "));
            }
            if !seen.absent.is_empty() {
                println!("absent: {}", seen.absent.join(", "));
            }
            for d in &seen.report.errors {
                println!("problem: {d}");
            }
            for n in &seen.report.notes {
                println!("note: {n}");
            }
            println!("\nthis is a quick look; `footprint validate {}` checks every rule", dir.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}
