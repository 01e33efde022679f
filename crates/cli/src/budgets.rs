//! `footprint budgets ...`: need model, capitated budgets, settlement and simulation.

use crate::Format;
use anyhow::{Context, bail};
use budgets::capitation::{self, Population};
use budgets::need::{self, Model, Persons};
use budgets::settle::{Outturn, PartyOutturn, Settlement};
use budgets::simulate;
use budgets::terms::Terms;
use clap::Subcommand;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Subcommand, Debug)]
pub enum BudgetsCommand {
    /// Check a terms file (risk-sharing, pooled or alliance budget) and say what it means.
    Validate { terms: PathBuf },
    /// Settle an arrangement: each party's transfer (positive when paid to the party) with
    /// the arithmetic shown.
    Settle {
        terms: PathBuf,
        /// The outturn: total costs (or, for a pooled budget, emergency admissions).
        #[arg(long, conflicts_with = "outturn", required_unless_present = "outturn")]
        actual: Option<f64>,
        /// A CSV of `party,outturn` rows (optional columns `target`, `activity`, `quality`).
        #[arg(long)]
        outturn: Option<PathBuf>,
        /// A CSV with a `cost` column: the annual costs of high-cost patients, for a stop-loss.
        #[arg(long)]
        high_cost: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Stress-test an arrangement before signing it: simulated years, each party's
    /// distribution of transfers, the chance of paying and of hitting caps.
    Simulate {
        terms: PathBuf,
        #[arg(long, default_value_t = 100_000)]
        years: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// A fitted need model: sets the demand variation from its dispersion and `--persons`.
        #[arg(long, requires = "persons")]
        model: Option<PathBuf>,
        /// The population's size, with `--model`.
        #[arg(long)]
        persons: Option<f64>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Fit the need model (annual hospital cost per person) on a base year of a dataset and
    /// write it with its fit report and each practice's need.
    Fit {
        dataset: PathBuf,
        #[arg(long)]
        out: PathBuf,
        /// The base financial year, e.g. 2024/25 (default: the last whole one in the window).
        #[arg(long)]
        year: Option<String>,
        /// Also write every person's expected cost (patient-level: your own file, keep it so).
        #[arg(long)]
        persons: bool,
        /// Where the queries over the dataset run: `embedded`, or a Ballista scheduler's
        /// `df://HOST:PORT` (see docs/distributed.md).
        #[arg(long, default_value = "embedded", value_name = "ENGINE")]
        engine: engine::Place,
    },
    /// Capitated budgets for populations (TOML files) from a fitted model.
    Capitation {
        dataset: PathBuf,
        #[arg(long)]
        model: PathBuf,
        /// Population files (practices or systems, scope, unavoidable-cost factor, pace).
        #[arg(required = true)]
        populations: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Capitated budgets from published weighted populations (the Carr-Hill weighted list of
    /// NHS Payments to General Practice, imported with `footprint import gp-payments`),
    /// beside what practices were actually paid per weighted patient, by system.
    ///
    /// Example: footprint budgets weighted footprint-demo/real --year 2022/23
    Weighted {
        dataset: PathBuf,
        /// The financial year of gp_payments (default: the latest in the table).
        #[arg(long)]
        year: Option<String>,
        /// The areas: system (the practice's commissioner that year, in its system),
        /// commissioner or region.
        #[arg(long, value_enum, default_value_t = WeightedBy::System)]
        by: WeightedBy,
        /// The payment compared: a column of gp_payments (total_payments, global_sum, …).
        #[arg(long, default_value = "total_payments")]
        paid: String,
        /// The pot shared by weighted population (default: the total paid).
        #[arg(long)]
        pot: Option<f64>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum WeightedBy {
    System,
    Commissioner,
    Region,
}

pub fn run(cmd: BudgetsCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        BudgetsCommand::Validate { terms } => {
            let t = read_terms(&terms)?;
            outln!(
                "{}: valid {} terms (format {}), parties: {}",
                terms.display(),
                t.kind.as_str(),
                t.format,
                t.party_names().join(", ")
            );
            Ok(ExitCode::SUCCESS)
        }
        BudgetsCommand::Settle {
            terms,
            actual,
            outturn,
            high_cost,
            format,
        } => {
            let t = read_terms(&terms)?;
            let mut o = match (actual, &outturn) {
                (Some(a), _) => Outturn::actual(a),
                (None, Some(path)) => read_outturn(path)?,
                (None, None) => bail!("give --actual AMOUNT or --outturn FILE"),
            };
            if let Some(path) = &high_cost {
                o.high_cost = read_costs(path)?;
            }
            let s = budgets::settle::settle(&t, &o).with_context(|| terms.display().to_string())?;
            match format {
                Format::Json => outln!("{}", serde_json::to_string_pretty(&s)?),
                Format::Text => out!("{}", text(&s)),
            }
            Ok(ExitCode::SUCCESS)
        }
        BudgetsCommand::Simulate {
            terms,
            years,
            seed,
            model,
            persons,
            format,
        } => {
            let t = read_terms(&terms)?;
            let mut u = t.simulation.clone().unwrap_or_default();
            if let (Some(path), Some(n)) = (&model, persons) {
                let m = read_model(path)?;
                u.demand_cv = (m.dispersion / (n * m.mean_cost)).sqrt();
                tracing::info!(demand_cv = u.demand_cv, "demand variation from the need model");
            }
            let started = std::time::Instant::now();
            let sim = simulate::simulate(&t, &u, years, seed).map_err(anyhow::Error::msg)?;
            tracing::info!(seconds = started.elapsed().as_secs_f64(), years, "simulated");
            match format {
                Format::Json => outln!("{}", serde_json::to_string_pretty(&sim)?),
                Format::Text => {
                    outln!(
                        "{} simulated years (seed {}), mean outturn {:.0}",
                        sim.years,
                        sim.seed,
                        sim.mean_outturn
                    );
                    outln!(
                        "{:<28} {:>14} {:>12} {:>14} {:>14} {:>14} {:>7} {:>7}",
                        "party",
                        "expected",
                        "sd",
                        "5%",
                        "median",
                        "95%",
                        "pays",
                        "capped"
                    );
                    for p in &sim.parties {
                        outln!(
                            "{:<28} {:>14.0} {:>12.0} {:>14.0} {:>14.0} {:>14.0} {:>6.1}% {:>6.1}%",
                            p.party,
                            p.expected_transfer,
                            p.sd,
                            p.p05,
                            p.p50,
                            p.p95,
                            p.probability_pays * 100.0,
                            p.probability_capped * 100.0
                        );
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        BudgetsCommand::Fit {
            dataset,
            out,
            year,
            persons,
            engine,
        } => fit(&dataset, &out, year.as_deref(), persons, &engine),
        BudgetsCommand::Capitation {
            dataset,
            model,
            populations,
            format,
        } => capitate(&dataset, &model, &populations, format),
        BudgetsCommand::Weighted {
            dataset,
            year,
            by,
            paid,
            pot,
            format,
        } => weighted(&dataset, year.as_deref(), by, &paid, pot, format),
    }
}

fn read_terms(path: &Path) -> anyhow::Result<Terms> {
    Terms::read(path).map_err(|e| anyhow::anyhow!("{e}"))
}

fn read_model(path: &Path) -> anyhow::Result<Model> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {}", path.display(), e.to_string().trim_end()))
}

fn number(path: &Path, line: usize, column: &str, value: &str) -> anyhow::Result<f64> {
    value
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| anyhow::anyhow!("{}:{line}:{column}: {value:?}: not a number", path.display()))
}

fn read_outturn(path: &Path) -> anyhow::Result<Outturn> {
    let mut r = csv::Reader::from_path(path).with_context(|| format!("reading {}", path.display()))?;
    let headers = r.headers()?.clone();
    let col = |name: &str| headers.iter().position(|h| h.trim() == name);
    let (Some(party), Some(outturn)) = (col("party"), col("outturn")) else {
        bail!("{}:1: needs columns party and outturn", path.display());
    };
    let (target, activity, quality) = (col("target"), col("activity"), col("quality"));
    let mut o = Outturn::default();
    for (i, row) in r.records().enumerate() {
        let row = row.with_context(|| format!("{}:{}", path.display(), i + 2))?;
        let line = i + 2;
        let opt = |c: Option<usize>, name: &str| -> anyhow::Result<Option<f64>> {
            match c.and_then(|c| row.get(c)).map(str::trim) {
                None | Some("") => Ok(None),
                Some(v) => number(path, line, name, v).map(Some),
            }
        };
        let p = PartyOutturn {
            party: row.get(party).unwrap_or_default().trim().to_string(),
            outturn: number(path, line, "outturn", row.get(outturn).unwrap_or_default())?,
            target: opt(target, "target")?,
            activity: opt(activity, "activity")?,
            quality: opt(quality, "quality")?,
        };
        if let Some(q) = p.quality
            && !(0.0..=1.0).contains(&q)
        {
            bail!("{}:{line}:quality: {q}: must be between 0 and 1", path.display());
        }
        o.total += p.outturn;
        o.parties.push(p);
    }
    if o.parties.is_empty() {
        bail!("{}: no rows", path.display());
    }
    Ok(o)
}

fn read_costs(path: &Path) -> anyhow::Result<Vec<f64>> {
    let mut r = csv::Reader::from_path(path).with_context(|| format!("reading {}", path.display()))?;
    let Some(c) = r.headers()?.iter().position(|h| h.trim() == "cost") else {
        bail!("{}:1: needs a cost column", path.display());
    };
    let mut out = Vec::new();
    for (i, row) in r.records().enumerate() {
        let row = row?;
        out.push(number(path, i + 2, "cost", row.get(c).unwrap_or_default())?);
    }
    Ok(out)
}

fn text(s: &Settlement) -> String {
    let mut out = format!(
        "{}{}: target {:.2}, outturn {:.2}\n\nsteps\n",
        s.kind,
        s.name.as_deref().map(|n| format!(" ({n})")).unwrap_or_default(),
        s.target,
        s.outturn
    );
    for st in &s.steps {
        out.push_str(&format!(
            "  {:<44} {:>16.2}  {}\n",
            st.step, st.amount, st.arithmetic
        ));
    }
    out.push_str("\ntransfers (positive: paid to the party)\n");
    for p in &s.parties {
        out.push_str(&format!(
            "  {:<30} {:>16.2}{}\n",
            p.party,
            p.transfer,
            if p.capped { "  (capped)" } else { "" }
        ));
    }
    out
}

/// The engine, the base year's first month, and the dataset, for the need model.
fn open(
    dataset: &Path,
    year: Option<&str>,
    place: &engine::Place,
) -> anyhow::Result<(dataset::Dataset, engine::Engine, model::Month)> {
    let loaded = match crate::validate::load_for_use(dataset, &dataset::Options::default()) {
        Ok(l) => l,
        Err(report) => {
            crate::validate::print(&Err(report), Format::Text);
            bail!("{}: the dataset was refused", dataset.display());
        }
    };
    let ds = loaded.dataset;
    let start = match year {
        Some(y) => match y.parse::<model::Period>() {
            Ok(model::Period::Year(fy)) => model::Month::new(fy, 4).context("year")?,
            _ => bail!("--year {y:?}: not a financial year like 2024/25"),
        },
        None => {
            // The last financial year wholly inside the window.
            let to = ds.manifest.to;
            let fy = if to.month() >= 3 {
                to.year() - 1
            } else {
                to.year() - 2
            };
            model::Month::new(fy, 4).context("year")?
        }
    };
    if start < ds.manifest.from || start.plus(11) > ds.manifest.to {
        bail!(
            "base year {}: not wholly inside the dataset's window ({} to {})",
            model::Period::Year(start.financial_year()),
            ds.manifest.from,
            ds.manifest.to
        );
    }
    let engine = engine::Engine::open(&ds, place)?;
    Ok((ds, engine, start))
}

fn fit(
    dataset: &Path,
    out: &Path,
    year: Option<&str>,
    keep_persons: bool,
    place: &engine::Place,
) -> anyhow::Result<ExitCode> {
    let (_, engine, start) = open(dataset, year, place)?;
    let t = std::time::Instant::now();
    let persons = Persons::read(&engine, start, keep_persons)?;
    let read_s = t.elapsed().as_secs_f64();
    let t = std::time::Instant::now();
    let model = need::fit(&persons)?;
    let fit_s = t.elapsed().as_secs_f64();
    let t = std::time::Instant::now();
    let mu = need::score(&model, &persons);
    let practices = need::by_practice(&persons, &mu);
    let score_s = t.elapsed().as_secs_f64();
    tracing::info!(persons = persons.len(), read_s, fit_s, score_s, "need model");
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    std::fs::write(out.join("model.toml"), toml::to_string(&model)?)?;
    let mut w = csv::Writer::from_path(out.join("need.csv"))?;
    for p in &practices {
        w.serialize(p)?;
    }
    w.flush()?;
    if keep_persons {
        let mut w = csv::Writer::from_path(out.join("persons.csv"))?;
        w.write_record(["patient_id", "practice_code", "cost", "expected_cost"])?;
        for (i, m) in mu.iter().enumerate() {
            w.write_record([
                persons.ids[i].as_str(),
                persons.practices[persons.practice[i] as usize].as_str(),
                &format!("{:.2}", persons.cost[i]),
                &format!("{m:.2}"),
            ])?;
        }
        w.flush()?;
    }
    outln!(
        "need model for {}: {} persons registered all year, {} iterations ({read_s:.1} s reading, {fit_s:.1} s fitting, {score_s:.1} s scoring)",
        model.base_year,
        model.persons,
        model.iterations
    );
    outln!(
        "R² {:.4}, mean absolute error £{:.0} a person, dispersion {:.0}, mean cost £{:.0}",
        model.fit.r_squared,
        model.fit.mean_absolute_error,
        model.dispersion,
        model.mean_cost
    );
    outln!(
        "deprivation (0 least to 1 most deprived): ×{:.3}",
        model.deprivation.exp()
    );
    for (c, b) in &model.conditions {
        outln!("  {c:<28} ×{:.3}", b.exp());
    }
    outln!("decile  persons  predicted  observed  MAE");
    for d in &model.fit.deciles {
        outln!(
            "{:>6} {:>8} {:>10.0} {:>9.0} {:>6.0}",
            d.decile,
            d.persons,
            d.mean_predicted,
            d.mean_observed,
            d.mean_absolute_error
        );
    }
    outln!("wrote {}", out.join("model.toml").display());
    Ok(ExitCode::SUCCESS)
}

fn capitate(
    dataset: &Path,
    model: &Path,
    populations: &[PathBuf],
    format: Format,
) -> anyhow::Result<ExitCode> {
    let m = read_model(model)?;
    let (ds, engine, start) = open(dataset, Some(&m.base_year), &engine::Place::Embedded)?;
    let pops = populations
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            Population::parse(&text, &p.display().to_string()).map_err(anyhow::Error::msg)
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let persons = Persons::read(&engine, start, false)?;
    let mu = need::score(&m, &persons);
    let need = need::by_practice(&persons, &mu);
    let inputs = capitation::inputs(&engine, &ds, start)?;
    let budgets = pops
        .iter()
        .map(|p| capitation::budget(p, &persons, &need, &inputs).map_err(anyhow::Error::msg))
        .collect::<anyhow::Result<Vec<_>>>()?;
    match format {
        Format::Json => outln!("{}", serde_json::to_string_pretty(&budgets)?),
        Format::Text => {
            for b in &budgets {
                outln!(
                    "{}: target £{:.0}, current £{:.0}, next year £{:.0}",
                    b.name,
                    b.target,
                    b.current,
                    b.next_year
                );
                for e in &b.explanation {
                    outln!("  {e}");
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A CSV table of the dataset as rows of named cells.
fn csv_rows(path: &Path) -> anyhow::Result<Vec<std::collections::HashMap<String, String>>> {
    let mut r = csv::Reader::from_path(path).with_context(|| format!("{}: cannot read", path.display()))?;
    let headers = r.headers()?.clone();
    let mut out = Vec::new();
    for rec in r.records() {
        let rec = rec.with_context(|| path.display().to_string())?;
        out.push(
            headers
                .iter()
                .zip(rec.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect(),
        );
    }
    Ok(out)
}

fn weighted(
    dataset: &Path,
    year: Option<&str>,
    by: WeightedBy,
    paid: &str,
    pot: Option<f64>,
    format: Format,
) -> anyhow::Result<ExitCode> {
    use budgets::weighted::{PracticeFigures, budgets};
    let path = dataset.join("gp_payments.csv");
    if !path.exists() {
        bail!(
            "{}: no gp_payments table; import NHS Payments to General Practice first (footprint import gp-payments FILE --into {})",
            path.display(),
            dataset.display()
        );
    }
    let rows = csv_rows(&path)?;
    if let Some(first) = rows.first() {
        for col in [
            "period",
            "practice_code",
            "commissioner_code",
            "registered_patients",
            "weighted_patients",
            paid,
        ] {
            if !first.contains_key(col) {
                bail!("{}: has no column {col}", path.display());
            }
        }
    }
    let year = match year {
        Some(y) => y.to_string(),
        None => rows
            .iter()
            .map(|r| r["period"].clone())
            .max()
            .with_context(|| format!("{}: has no rows", path.display()))?,
    };
    let orgs = csv_rows(&dataset.join("organisations.csv"))?;
    let system_of: std::collections::HashMap<&str, &str> = orgs
        .iter()
        .filter(|o| !o["system_code"].is_empty())
        .map(|o| (o["org_code"].as_str(), o["system_code"].as_str()))
        .collect();
    let systems = csv_rows(&dataset.join("systems.csv"))?;
    let region_of: std::collections::HashMap<&str, &str> = systems
        .iter()
        .map(|s| (s["system_code"].as_str(), s["region_code"].as_str()))
        .collect();
    let mut practices = Vec::new();
    for (i, r) in rows.iter().enumerate().filter(|(_, r)| r["period"] == year) {
        let num = |col: &str| -> anyhow::Result<f64> {
            let v = &r[col];
            if v.is_empty() {
                return Ok(0.0);
            }
            v.parse::<f64>()
                .map_err(|_| anyhow::anyhow!("{}:{}:{col}: {v:?}: not a number", path.display(), i + 2))
        };
        let commissioner = r["commissioner_code"].as_str();
        let area = match by {
            WeightedBy::Commissioner => Some(commissioner.to_string()),
            WeightedBy::System => system_of.get(commissioner).map(|s| s.to_string()),
            WeightedBy::Region => system_of
                .get(commissioner)
                .and_then(|s| region_of.get(s))
                .map(|s| s.to_string()),
        };
        practices.push(PracticeFigures {
            practice: r["practice_code"].clone(),
            area,
            registered: num("registered_patients")?,
            weighted: num("weighted_patients")?,
            paid: num(paid)?,
        });
    }
    if practices.is_empty() {
        bail!("{}: no rows for {year}", path.display());
    }
    let b = budgets(&practices, pot).map_err(anyhow::Error::msg)?;
    match format {
        Format::Json => outln!("{}", serde_json::to_string_pretty(&b)?),
        Format::Text => {
            outln!(
                "capitated budgets from weighted populations, {year}: pot £{:.0} shared by {} weighted patients; England paid £{:.2} per weighted patient ({paid})",
                b.pot,
                b.england_weighted.round(),
                b.england_paid_per_weighted
            );
            outln!(
                "{:<12} {:>9} {:>12} {:>12} {:>8} {:>15} {:>15} {:>9} {:>10} {:>7}",
                "area",
                "practices",
                "registered",
                "weighted",
                "share",
                "target £",
                "paid £",
                "distance",
                "£/weighted",
                "index"
            );
            for a in &b.areas {
                outln!(
                    "{:<12} {:>9} {:>12.0} {:>12.0} {:>7.2}% {:>15.0} {:>15.0} {:>8.1}% {:>10.2} {:>7.3}",
                    a.area,
                    a.practices,
                    a.registered,
                    a.weighted,
                    a.share * 100.0,
                    a.target,
                    a.paid,
                    a.distance_from_target * 100.0,
                    a.paid_per_weighted,
                    a.index
                );
            }
            if !b.without_weight.is_empty() {
                outln!(
                    "{} practices have no weighted population and are left out: {}",
                    b.without_weight.len(),
                    b.without_weight.join(", ")
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
