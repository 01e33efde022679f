//! `footprint indicators list | compute`.

use crate::Format;
use anyhow::{Context, bail};
use engine::catalogue::Grain;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The default catalogue, or a folder of indicator files.
pub fn catalogue(dir: Option<&Path>) -> anyhow::Result<engine::Catalogue> {
    let result = match dir {
        Some(d) => engine::Catalogue::read_dir(d),
        None => engine::Catalogue::default_catalogue(),
    };
    result.map_err(|problems| {
        let lines: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        anyhow::anyhow!("the indicator catalogue is invalid:\n{}", lines.join("\n"))
    })
}

pub fn list(dir: Option<&Path>, format: Format) -> anyhow::Result<ExitCode> {
    let catalogue = catalogue(dir)?;
    let mut text = String::new();
    if format == Format::Json {
        let rows: Vec<serde_json::Value> = catalogue
            .indicators
            .iter()
            .map(|i| {
                serde_json::json!({
                    "id": i.id, "title": i.title, "domain": i.domain,
                    "unit": format!("{:?}", i.unit).to_lowercase(),
                    "direction": format!("{:?}", i.direction).to_lowercase(),
                    "grains": i.grains.iter().map(|g| g.as_str()).collect::<Vec<_>>(),
                    "levels": i.attribution.iter().flat_map(|a| a.levels.iter().map(|l| l.as_str())).collect::<Vec<_>>(),
                    "sources": sources(i),
                })
            })
            .collect();
        text = serde_json::to_string_pretty(&rows)? + "\n";
    } else {
        for i in &catalogue.indicators {
            text.push_str(&format!("{:<28} {:<28} {}\n", i.id, i.domain, i.title));
        }
        text.push_str(&format!("{} indicators\n", catalogue.indicators.len()));
    }
    crate::output::emit(&text);
    Ok(ExitCode::SUCCESS)
}

fn sources(i: &engine::Indicator) -> Vec<String> {
    let mut s: Vec<String> = std::iter::once(&i.numerator)
        .chain(i.denominator.as_ref())
        .map(|m| m.table.clone())
        .collect();
    s.dedup();
    s
}

/// The options of `footprint indicators compute`.
#[derive(Debug)]
pub struct Compute {
    pub dataset: PathBuf,
    pub out: PathBuf,
    pub catalogue: Option<PathBuf>,
    pub indicators: Vec<String>,
    pub grains: Vec<String>,
    pub from: Option<model::Month>,
    pub to: Option<model::Month>,
    pub json: bool,
    pub unsuppressed: bool,
    pub place: engine::Place,
}

fn grain(s: &str) -> anyhow::Result<Grain> {
    Ok(match s {
        "month" => Grain::Month,
        "quarter" => Grain::Quarter,
        "financial_year" => Grain::FinancialYear,
        "rolling_12_months" => Grain::Rolling12Months,
        other => bail!("--grain {other}: must be month, quarter, financial_year or rolling_12_months"),
    })
}

pub fn compute(c: &Compute, progress: bool) -> anyhow::Result<ExitCode> {
    let catalogue = catalogue(c.catalogue.as_deref())?;
    let grains = c
        .grains
        .iter()
        .map(|g| grain(g))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let loaded = match crate::validate::load_for_use(&c.dataset, &dataset::Options::default()) {
        Ok(l) => l,
        Err(report) => {
            crate::validate::print(&Err(report), Format::Text);
            return Ok(ExitCode::from(2));
        }
    };
    let options = engine::Options {
        indicators: c.indicators.clone(),
        grains,
        from: c.from,
        to: c.to,
        place: c.place.clone(),
    };
    let bar = progress.then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.enable_steady_tick(std::time::Duration::from_millis(200));
        bar
    });
    let started = std::time::Instant::now();
    let computed = engine::compute(&loaded.dataset, &catalogue, &options, &|id| {
        if let Some(bar) = &bar {
            bar.set_message(format!("computing {id}"));
        }
    })
    .with_context(|| format!("computing indicators for {}", c.dataset.display()))?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    // The files are written side by side: each is one thread's work (encoding Parquet,
    // formatting CSV), and a small run spends a sixth of its time writing.
    let mut tables = vec![
        ("indicators", engine::published_schema(), &computed.published),
        (
            "indicator_signals",
            engine::signals::schema(),
            &computed.published_signals,
        ),
    ];
    if c.unsuppressed {
        tables.push((
            "indicator_signals_unsuppressed",
            engine::signals::schema(),
            &computed.signals,
        ));
        tables.push((
            "indicators_unsuppressed",
            engine::output_schema(),
            &computed.unsuppressed,
        ));
    }
    std::thread::scope(|scope| {
        let writers: Vec<_> = tables
            .iter()
            .flat_map(|(name, schema, batches)| {
                [
                    scope.spawn(move || engine::output::write_parquet(&c.out, name, schema, batches)),
                    scope.spawn(move || engine::output::write_text(&c.out, name, schema, batches, c.json)),
                ]
            })
            .collect();
        writers
            .into_iter()
            .try_for_each(|w| w.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
    })?;
    let total: usize = computed.rows.iter().map(|(_, n)| n).sum();
    let mut text = format!(
        "computed {} indicators ({total} rows) in {:.1} s into {}\n",
        computed.rows.len(),
        started.elapsed().as_secs_f64(),
        c.out.join("indicators.parquet").display()
    );
    for (id, n) in &computed.rows {
        text.push_str(&format!("  {id:<28} {n:>9} rows\n"));
    }
    for (id, why) in &computed.skipped {
        text.push_str(&format!("skipped {id}: {why}\n"));
    }
    if c.unsuppressed {
        text.push_str("also wrote indicators_unsuppressed and indicator_signals_unsuppressed (no disclosure control: for your own use, not for publication)\n");
    }
    crate::output::emit(&text);
    Ok(ExitCode::SUCCESS)
}
