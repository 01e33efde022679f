//! Writing assessments: JSON (the full derivation), CSV and Parquet (one row each), the league
//! table, what each entity reports next, and readable explanations.

use crate::assess::Assessment;
use crate::pack::Pack;
use arrow::array::{ArrayRef, Float64Array, StringArray, UInt32Array};
use arrow::datatypes::{Field, Schema};
use arrow::record_batch::RecordBatch;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

fn io(path: &Path, e: impl std::fmt::Display) -> String {
    format!("{}: {e}", path.display())
}

/// Writes every output for the assessments of a run (several packs).
pub fn write(dir: &Path, packs: &[Pack], runs: &[Vec<Assessment>]) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let all: Vec<&Assessment> = runs.iter().flatten().collect();
    let path = dir.join("assessments.json");
    let text = serde_json::to_string_pretty(&all).map_err(|e| io(&path, e))?;
    std::fs::write(&path, text).map_err(|e| io(&path, e))?;

    let domains = |a: &Assessment| {
        a.domains
            .iter()
            .map(|(id, d)| format!("{id}={}", d.score.map_or("".into(), |s| s.to_string())))
            .collect::<Vec<_>>()
            .join(";")
    };
    let overrides = |a: &Assessment| {
        a.overrides
            .iter()
            .filter(|o| o.applied)
            .map(|o| o.id.clone())
            .collect::<Vec<_>>()
            .join(";")
    };
    let columns: Vec<(&str, ArrayRef)> = vec![
        (
            "entity_kind",
            Arc::new(StringArray::from_iter_values(
                all.iter().map(|a| a.entity_kind.as_str()),
            )),
        ),
        (
            "entity_code",
            Arc::new(StringArray::from_iter_values(
                all.iter().map(|a| a.entity_code.as_str()),
            )),
        ),
        (
            "org_kind",
            Arc::new(StringArray::from(
                all.iter().map(|a| a.org_kind.clone()).collect::<Vec<_>>(),
            )),
        ),
        (
            "pack",
            Arc::new(StringArray::from_iter_values(all.iter().map(|a| a.pack.as_str()))),
        ),
        (
            "period",
            Arc::new(StringArray::from_iter_values(
                all.iter().map(|a| a.period.as_str()),
            )),
        ),
        (
            "domains",
            Arc::new(StringArray::from_iter_values(all.iter().map(|a| domains(a)))),
        ),
        (
            "overall_score",
            Arc::new(Float64Array::from(
                all.iter().map(|a| a.overall_score).collect::<Vec<_>>(),
            )),
        ),
        (
            "rating",
            Arc::new(StringArray::from(
                all.iter().map(|a| a.rating.clone()).collect::<Vec<_>>(),
            )),
        ),
        (
            "segment",
            Arc::new(UInt32Array::from(
                all.iter().map(|a| a.segment).collect::<Vec<_>>(),
            )),
        ),
        (
            "category",
            Arc::new(StringArray::from(
                all.iter().map(|a| a.category.clone()).collect::<Vec<_>>(),
            )),
        ),
        (
            "overrides",
            Arc::new(StringArray::from_iter_values(all.iter().map(|a| overrides(a)))),
        ),
        (
            "signals",
            Arc::new(StringArray::from_iter_values(
                all.iter().map(|a| a.signals.len().to_string()),
            )),
        ),
        (
            "reporting",
            Arc::new(StringArray::from(
                all.iter()
                    .map(|a| a.reporting.as_ref().map(|r| r.frequency.clone()))
                    .collect::<Vec<_>>(),
            )),
        ),
    ];
    let schema = Arc::new(Schema::new(
        columns
            .iter()
            .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
            .collect::<Vec<_>>(),
    ));
    let batch = RecordBatch::try_new(schema.clone(), columns.iter().map(|c| c.1.clone()).collect())
        .map_err(|e| e.to_string())?;
    let path = dir.join("assessments.parquet");
    let f = std::fs::File::create(&path).map_err(|e| io(&path, e))?;
    let mut w = parquet::arrow::ArrowWriter::try_new(f, schema, None).map_err(|e| io(&path, e))?;
    w.write(&batch).map_err(|e| io(&path, e))?;
    w.close().map_err(|e| io(&path, e))?;

    let path = dir.join("assessments.csv");
    let mut c = csv::Writer::from_path(&path).map_err(|e| io(&path, e))?;
    c.write_record(columns.iter().map(|x| x.0))
        .map_err(|e| io(&path, e))?;
    for i in 0..batch.num_rows() {
        let row: Vec<String> = batch
            .columns()
            .iter()
            .map(|col| {
                if col.is_null(i) {
                    String::new()
                } else {
                    arrow::util::display::array_value_to_string(col, i).unwrap_or_default()
                }
            })
            .collect();
        c.write_record(&row).map_err(|e| io(&path, e))?;
    }
    c.flush().map_err(|e| io(&path, e))?;

    for (pack, run) in packs.iter().zip(runs) {
        let path = dir.join(format!("league_{}.csv", pack.id));
        let mut c = csv::Writer::from_path(&path).map_err(|e| io(&path, e))?;
        c.write_record([
            "position",
            "entity_code",
            "org_kind",
            "outcome",
            "overall_score",
            "overrides",
        ])
        .map_err(|e| io(&path, e))?;
        let mut sorted = run.clone();
        crate::assess::league(pack, &mut sorted);
        for (i, a) in sorted.iter().enumerate() {
            let outcome = a
                .segment
                .map(|s| format!("segment {s}"))
                .or_else(|| a.rating.clone())
                .or_else(|| a.category.clone())
                .unwrap_or_default();
            c.write_record([
                (i + 1).to_string(),
                a.entity_code.clone(),
                a.org_kind.clone().unwrap_or_default(),
                outcome,
                a.overall_score.map_or(String::new(), |s| s.to_string()),
                overrides(a),
            ])
            .map_err(|e| io(&path, e))?;
        }
        c.flush().map_err(|e| io(&path, e))?;
    }

    let path = dir.join("reporting.csv");
    let mut c = csv::Writer::from_path(&path).map_err(|e| io(&path, e))?;
    c.write_record([
        "entity_kind",
        "entity_code",
        "pack",
        "outcome",
        "frequency",
        "metrics",
        "support",
    ])
    .map_err(|e| io(&path, e))?;
    for a in &all {
        if let Some(r) = &a.reporting {
            let outcome = a
                .segment
                .map(|s| s.to_string())
                .or_else(|| a.rating.clone())
                .or_else(|| a.category.clone())
                .unwrap_or_default();
            c.write_record([
                a.entity_kind.as_str(),
                &a.entity_code,
                &a.pack,
                &outcome,
                &r.frequency,
                &r.metrics.join(";"),
                &r.support,
            ])
            .map_err(|e| io(&path, e))?;
        }
    }
    c.flush().map_err(|e| io(&path, e))?;

    let path = dir.join("explanations.txt");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).map_err(|e| io(&path, e))?);
    for a in &all {
        writeln!(f, "{}\n", a.explanation).map_err(|e| io(&path, e))?;
    }
    f.flush().map_err(|e| io(&path, e))?;
    Ok(())
}

/// Who moved between two runs (matched by pack and entity), and why: the old and new outcome,
/// and the metric scores and overrides that changed.
pub fn diff(old: &[Assessment], new: &[Assessment]) -> Vec<String> {
    let outcome = |a: &Assessment| {
        a.segment
            .map(|s| format!("segment {s}"))
            .or_else(|| a.rating.clone())
            .or_else(|| a.category.clone())
            .unwrap_or_else(|| "none".into())
    };
    let mut out = Vec::new();
    for n in new {
        let Some(o) = old
            .iter()
            .find(|o| o.pack == n.pack && o.entity_code == n.entity_code && o.entity_kind == n.entity_kind)
        else {
            out.push(format!(
                "{} {} ({}): new, {} in {}",
                n.entity_kind,
                n.entity_code,
                n.pack,
                outcome(n),
                n.period
            ));
            continue;
        };
        if outcome(o) == outcome(n) {
            continue;
        }
        let mut why = Vec::new();
        for (id, d) in &n.domains {
            for m in &d.metrics {
                let before = o
                    .domains
                    .get(id)
                    .and_then(|d| d.metrics.iter().find(|x| x.indicator == m.indicator));
                if before.map(|b| b.score) != Some(m.score) {
                    why.push(format!(
                        "{}: {} → {}",
                        m.indicator,
                        before.map_or("none".into(), |b| b.rule.clone()),
                        m.rule
                    ));
                }
            }
        }
        let ids = |a: &Assessment| {
            a.overrides
                .iter()
                .filter(|x| x.applied)
                .map(|x| x.id.clone())
                .collect::<std::collections::BTreeSet<_>>()
        };
        for added in ids(n).difference(&ids(o)) {
            why.push(format!("now applies: {added}"));
        }
        for gone in ids(o).difference(&ids(n)) {
            why.push(format!("no longer applies: {gone}"));
        }
        out.push(format!(
            "{} {} ({}): {} ({}) → {} ({}){}",
            n.entity_kind,
            n.entity_code,
            n.pack,
            outcome(o),
            o.period,
            outcome(n),
            n.period,
            if why.is_empty() {
                String::new()
            } else {
                format!("\n    {}", why.join("\n    "))
            }
        ));
    }
    out
}
