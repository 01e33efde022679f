//! `footprint capacity ...`: heads and beds. Bed and formula calculators (one JSON request in,
//! one JSON response out, like `footprint stats`), and the planner that says whether each
//! system's plan adds up.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use capacity::assumptions::Assumptions;
use capacity::plan::{Plan, Report};
use clap::Subcommand;

use crate::Format;
use crate::output::{emit_json, read_request};

#[derive(Subcommand, Debug)]
pub enum CapacityCommand {
    /// Beds for one pool: fixed occupancy, Erlang loss and Poisson peak.
    ///
    /// Reads {"admissions_per_year", "mean_los_days", "target_occupancy",
    /// "erlang_b_target_blocking", "poisson_exceedance_target", "days_per_year"} from stdin
    /// (or --input) and writes the beds each method asks for.
    ///
    /// Example: echo '{"admissions_per_year": 20000, "mean_los_days": 5}' | footprint capacity beds
    Beds {
        #[arg(long)]
        input: Option<PathBuf>,
    },
    /// One of the New Hospital Programme's conversions: nhp_bed_scaling, nhp_aae_spaces,
    /// nhp_interval_to_normal (JSON request in, JSON response out).
    Formula {
        name: String,
        #[arg(long)]
        input: Option<PathBuf>,
    },
    /// Print the default assumptions (a TOML file to copy, edit and pass to `plan`).
    Assumptions,
    /// Check a plan file and add it to a dataset's `plans` table (replacing that year's lines).
    ///
    /// Nothing is written if any line is wrong; the table is written to a temporary file and
    /// renamed, so the dataset is never left half-changed.
    Import {
        plan: PathBuf,
        #[arg(long)]
        into: PathBuf,
    },
    /// Does each system's plan add up? Projects demand from the dataset (seeded Monte Carlo),
    /// sizes beds by pool and heads by staff group, and checks the plan against it.
    ///
    /// Without --plan, each system's current beds and workforce are checked as if they were
    /// the plan. Exit 0 whatever the verdicts; the verdicts are in the output.
    Plan {
        dataset: PathBuf,
        /// The plan: CSV `period, org_code, measure, category, value`.
        #[arg(long)]
        plan: Option<PathBuf>,
        /// The financial year to project to (default: the plan's, or two years after the
        /// baseline).
        #[arg(long)]
        year: Option<String>,
        /// The baseline financial year (default: the last whole one in the window).
        #[arg(long)]
        baseline: Option<String>,
        /// Assumptions file (default: the embedded one; see `footprint capacity assumptions`).
        #[arg(long)]
        assumptions: Option<PathBuf>,
        /// CSV `system_code, care_model, share`: populations under new care models.
        #[arg(long)]
        care_models: Option<PathBuf>,
        #[arg(long, default_value_t = 1000)]
        runs: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Only these systems in the output (repeatable).
        #[arg(long)]
        system: Vec<String>,
        /// Project from the spells as they are, not from the published baseline (spells by
        /// age band under disclosure control): for your own analysis, not for publication.
        #[arg(long)]
        exact: bool,
        /// Add the recovery plans' commitments from this register (`sqlite://PATH` or
        /// `postgres://…`): every open case's acute_beds, workforce_wte and activity_moved
        /// levers, where the plan has no line of its own for them.
        #[arg(long)]
        register: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

pub fn run(cmd: CapacityCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        CapacityCommand::Beds { input } => {
            let request = read_request(input.as_deref())?;
            let r: capacity::beds::BedsRequest =
                serde_json::from_value(request).context("reading the beds request")?;
            emit_json(&capacity::beds::beds(&r)?)
        }
        CapacityCommand::Formula { name, input } => {
            let request = read_request(input.as_deref())?;
            emit_json(&capacity::formula::answer(&name, &request)?)
        }
        CapacityCommand::Import { plan, into } => import(&plan, &into),
        CapacityCommand::Assumptions => {
            crate::output::emit(capacity::assumptions::DEFAULT);
            Ok(ExitCode::SUCCESS)
        }
        CapacityCommand::Plan {
            dataset,
            plan,
            year,
            baseline,
            assumptions,
            care_models,
            runs,
            seed,
            system,
            exact,
            register,
            format,
        } => {
            let report = plan_report(&PlanArgs {
                dataset: &dataset,
                plan: plan.as_deref(),
                year: year.as_deref(),
                baseline: baseline.as_deref(),
                assumptions: assumptions.as_deref(),
                care_models: care_models.as_deref(),
                runs,
                seed,
                exact,
                register: register.as_deref(),
            })?;
            let mut report = report;
            if !system.is_empty() {
                for s in &system {
                    if !report.systems.iter().any(|r| &r.unit.code == s) {
                        bail!("--system {s}: not a system of the dataset");
                    }
                }
                report.systems.retain(|r| system.contains(&r.unit.code));
            }
            match format {
                Format::Json => emit_json(&report),
                Format::Text => {
                    crate::output::emit(&text(&report));
                    Ok(ExitCode::SUCCESS)
                }
            }
        }
    }
}

/// What `footprint capacity plan` needs.
#[derive(Debug)]
pub struct PlanArgs<'a> {
    pub dataset: &'a Path,
    pub plan: Option<&'a Path>,
    pub year: Option<&'a str>,
    pub baseline: Option<&'a str>,
    pub assumptions: Option<&'a Path>,
    pub care_models: Option<&'a Path>,
    pub runs: usize,
    pub seed: u64,
    pub exact: bool,
    pub register: Option<&'a str>,
}

/// Every open case's levers in a register, as the planner reads them.
fn register_commitments(database: &str) -> anyhow::Result<Vec<capacity::plan::Commitment>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let cases = runtime.block_on(async {
        let db = store::Store::open(database)
            .await
            .map_err(|e| anyhow::anyhow!("{database}: {e}"))?;
        db.cases().await.map_err(|e| anyhow::anyhow!("{database}: {e}"))
    })?;
    Ok(cases
        .iter()
        .flat_map(|c| c.levers_in_force())
        .map(|(source, l)| {
            capacity::plan::Commitment::new(source, &l.org_code, &l.lever, l.amount, l.to_org_code.as_deref())
        })
        .collect())
}

fn financial_year(flag: &str, y: &str) -> anyhow::Result<i32> {
    match y.parse::<model::Period>() {
        Ok(model::Period::Year(fy)) => Ok(fy),
        _ => bail!("{flag} {y:?}: not a financial year like 2026/27"),
    }
}

/// Loads the dataset, reads the baseline, projects and checks the plan.
pub fn plan_report(args: &PlanArgs<'_>) -> anyhow::Result<Report> {
    let a = match args.assumptions {
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            Assumptions::parse(&text, &p.display().to_string())?
        }
        None => Assumptions::default_set(),
    };
    let loaded = match crate::validate::load_for_use(args.dataset, &dataset::Options::default()) {
        Ok(l) => l,
        Err(report) => {
            crate::validate::print(&Err(report), Format::Text);
            bail!("{}: the dataset was refused", args.dataset.display());
        }
    };
    let ds = loaded.dataset;
    let orgs: BTreeSet<String> = ds.organisations.iter().map(|o| o.code.clone()).collect();
    let systems: BTreeSet<String> = ds.systems.iter().map(|s| s.code.clone()).collect();
    let plan = match args.plan {
        Some(p) => Some(Plan::read(p, &orgs, &systems)?),
        None => {
            let year = args.year.map(|y| financial_year("--year", y)).transpose()?;
            capacity::baseline::read_plan(&ds, year)?
        }
    };
    let care = match args.care_models {
        Some(p) => {
            let bytes = std::fs::read(p).with_context(|| format!("reading {}", p.display()))?;
            capacity::project::read_care_models(&bytes, &p.display().to_string(), &systems, &a)?
        }
        None => Vec::new(),
    };
    let base_year = match args.baseline {
        Some(y) => financial_year("--baseline", y)?,
        None => capacity::baseline::baseline_year(ds.manifest.from, ds.manifest.to),
    };
    let start = model::Month::new(base_year, 4).context("baseline year")?;
    if start < ds.manifest.from || start.plus(11) > ds.manifest.to {
        bail!(
            "baseline {}: not wholly inside the dataset's window ({} to {})",
            model::Period::Year(base_year),
            ds.manifest.from,
            ds.manifest.to
        );
    }
    let year = args.year.map(|y| financial_year("--year", y)).transpose()?;
    let engine = engine::Engine::new(&ds)?;
    let read = capacity::baseline::read(&engine, &ds, base_year)?;
    // What is written is for others to read: computed from the published baseline unless the
    // user asks for the spells as they are.
    let baseline = if args.exact {
        read
    } else {
        read.published(&a.bands(), &stats::disclosure::Policy::default())
    };
    let plan = match args.register {
        Some(db) => {
            let commitments = register_commitments(db)?;
            let plan = plan.unwrap_or(Plan {
                year: year.unwrap_or(baseline.year + 2),
                lines: Vec::new(),
                changes: Vec::new(),
            });
            Some(plan.with_commitments(&commitments, &baseline)?)
        }
        None => plan,
    };
    Ok(capacity::plan::publish(capacity::assess(
        &baseline,
        &a,
        &care,
        plan.as_ref(),
        year,
        args.runs,
        args.seed,
    )?))
}

fn text(r: &Report) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Heads and beds: plan {} against a projection from {} ({} runs, seed {})",
        r.plan_year, r.baseline_year, r.runs, r.seed
    );
    let _ = writeln!(
        out,
        "England: {} of {} systems' plans add up; beds planned {:.0} against a requirement of {:.0} (p10) to {:.0} (p90)\n",
        r.england.systems_adding_up,
        r.england.systems,
        r.england.planned_beds,
        r.england.required_beds.p10,
        r.england.required_beds.p90
    );
    for s in &r.systems {
        let _ = writeln!(
            out,
            "{} {} — {}{}",
            s.unit.code,
            s.unit.name,
            if s.unit.adds_up {
                "adds up"
            } else {
                "DOES NOT ADD UP"
            },
            if s.has_plan {
                ""
            } else {
                " (no plan: current capacity checked)"
            }
        );
        for b in &s.unit.beds {
            let _ = writeln!(
                out,
                "  {:<14} beds planned {:>7.0}  required {:>7.0} – {:>7.0}  occupancy {}",
                b.group,
                b.planned_beds.unwrap_or(0.0),
                b.required_beds.p10,
                b.required_beds.p90,
                b.implied_occupancy
                    .map_or("-".to_string(), |o| format!("{:.1}%", o * 100.0))
            );
        }
        for reason in &s.unit.reasons {
            let _ = writeln!(out, "  ! {reason}");
        }
    }
    out
}

/// `footprint capacity import PLAN --into DATASET`.
fn import(plan: &Path, into: &Path) -> anyhow::Result<ExitCode> {
    let loaded = match crate::validate::load_for_use(into, &dataset::Options::default()) {
        Ok(l) => l,
        Err(report) => {
            crate::validate::print(&Err(report), Format::Text);
            bail!("{}: the dataset was refused", into.display());
        }
    };
    let ds = loaded.dataset;
    for other in ["plans.parquet", "plans"] {
        if into.join(other).exists() {
            bail!(
                "{}: the dataset keeps its plans as {other}; import writes plans.csv, so add the lines there yourself",
                into.display()
            );
        }
    }
    let orgs: BTreeSet<String> = ds.organisations.iter().map(|o| o.code.clone()).collect();
    let systems: BTreeSet<String> = ds.systems.iter().map(|s| s.code.clone()).collect();
    let new = Plan::read(plan, &orgs, &systems)?;
    let first = ds.manifest.from.financial_year();
    if new.year < first {
        bail!(
            "{}: the plan is for {}, before the dataset's window starts ({})",
            plan.display(),
            model::Period::Year(new.year),
            ds.manifest.from
        );
    }
    // Keep the other years' lines.
    let kept: Vec<(i32, capacity::plan::Line)> = capacity::baseline::read_plan_lines(&ds)?
        .into_iter()
        .filter(|(y, _)| *y != new.year)
        .collect();
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["period", "org_code", "measure", "category", "value"])?;
    let mut rows: Vec<(i32, &capacity::plan::Line)> = kept.iter().map(|(y, l)| (*y, l)).collect();
    rows.extend(new.lines.iter().map(|l| (new.year, l)));
    rows.sort_by(|a, b| {
        (a.0, &a.1.org_code, &a.1.measure, &a.1.category).cmp(&(
            b.0,
            &b.1.org_code,
            &b.1.measure,
            &b.1.category,
        ))
    });
    for (y, l) in &rows {
        w.write_record([
            model::Period::Year(*y).to_string(),
            l.org_code.clone(),
            l.measure.clone(),
            l.category.clone(),
            l.value.to_string(),
        ])?;
    }
    let bytes = w.into_inner().context("writing the plans")?;
    let target = into.join("plans.csv");
    let tmp = into.join(".plans.csv.tmp");
    std::fs::write(&tmp, &bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, &target)
        .with_context(|| format!("renaming {} to {}", tmp.display(), target.display()))?;
    crate::output::emit(&format!(
        "imported {} plan lines for {} into {} ({} lines of other years kept)\n",
        new.lines.len(),
        model::Period::Year(new.year),
        target.display(),
        kept.len()
    ));
    Ok(ExitCode::SUCCESS)
}
