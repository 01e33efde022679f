//! `footprint fund ...`, `footprint vanguards ...` and `footprint programme ...`: the new care
//! models programme office (crates/programme, docs/programme.md).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use programme::fund::FundRules;
use programme::office::Office;
use programme::review::Method;

use crate::Format;
use crate::output::emit_json;

#[derive(Subcommand, Debug)]
pub enum FundCommand {
    /// Choose the portfolio of bids that maximises total value within the budget under the
    /// quotas (solved exactly), and say what binds and what the best excluded bids would need.
    ///
    /// BIDS.csv has at least `id, model, region_code, cost, value` (other columns may be
    /// named by quotas). RULES.toml has `budget = N` and `[[quota]]` tables with `field` (a
    /// column of the CSV), `value`, `min`, `max`. No feasible selection: `"feasible": false`
    /// with the reason, exit 0.
    Select {
        #[arg(long)]
        bids: PathBuf,
        #[arg(long)]
        rules: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Appraise applications the Green Book's way and check them against the fund's rules.
    ///
    /// APPLICATIONS is a JSON list of applications (`id`, `model`, `lead_org_code`,
    /// `partners`, `population`, `flows` [{year, running_cost, savings}], `decommissioning`
    /// [{service, date, released}], `benefits`). With --dataset, each lead's financial position
    /// comes from its finance table.
    Appraise {
        applications: PathBuf,
        #[arg(long)]
        dataset: Option<PathBuf>,
        /// Fund rules (TOML; default the built-in ones, see `footprint fund rules`).
        #[arg(long)]
        fund_rules: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Print the built-in fund rules (a TOML file to copy, edit and pass with --fund-rules).
    Rules,
}

#[derive(Subcommand, Debug)]
pub enum VanguardsCommand {
    /// Rank applications by peer review: self-review not counted, declared conflicts
    /// excluded (and listed), each reviewer's leniency normalised.
    ///
    /// APPS.csv: `id, applicant_org_code`; REVIEWS.csv: `reviewer_org_code, application_id,
    /// score, conflict` (and optionally `comment`).
    Score {
        #[arg(long)]
        applications: PathBuf,
        #[arg(long)]
        reviews: PathBuf,
        /// zscore (default: per-reviewer z-scores, mean per application), borda, eurovision.
        #[arg(long, default_value = "zscore")]
        method: String,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

#[derive(clap::Args, Debug)]
pub struct ProgrammeArgs {
    /// `sqlite://PATH` (created and migrated on first use) or `postgres://USER@HOST/DB`.
    #[arg(long, global = true, default_value = "sqlite://footprint.db")]
    pub database: String,
    /// Who is making the change (recorded in the audit log); default: $USER.
    #[arg(long, global = true)]
    pub actor: Option<String>,
    #[command(subcommand)]
    pub command: ProgrammeCommand,
}

#[derive(Subcommand, Debug)]
pub enum ProgrammeCommand {
    /// Load a dataset's new care models (synthetic England's vanguards) and run a worked
    /// round: forty applications, peer review, eligibility, selection under quotas, and
    /// tranches drawn against decommissioning milestones.
    Scenario {
        dataset: PathBuf,
        #[arg(long)]
        fund_rules: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// What the office holds: care models, applications and their ranking, the selection,
    /// milestones, tranches and flexibilities.
    Show {
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Share of spend and of registered population under capitated, alliance or pooled
    /// terms, by system, region and England, for each financial year.
    Coverage {
        dataset: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

fn fund_rules(path: Option<&std::path::Path>) -> anyhow::Result<FundRules> {
    Ok(match path {
        Some(p) => FundRules::read(p)?,
        None => FundRules::builtin(),
    })
}

pub fn fund(cmd: FundCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        FundCommand::Select { bids, rules, format } => {
            let table = programme::input::Table::read(&bids)?;
            let list = programme::select::bids_from(&table)?;
            let rules = programme::select::read_rules(&rules, &table.header)?;
            let s = programme::select::select(&list, &rules)?;
            match format {
                Format::Json => emit_json(&s),
                Format::Text => {
                    let mut out = String::new();
                    if s.feasible {
                        out.push_str(&format!(
                            "selected {} of {} bids: total value {}, cost {} of a budget of {} ({} left){}\n",
                            s.selected.len(),
                            s.bids,
                            s.total_value,
                            s.total_cost,
                            s.budget,
                            s.budget_left,
                            if s.proven_optimal {
                                ", proven optimal"
                            } else {
                                ", NOT proven optimal"
                            }
                        ));
                        out.push_str(&format!("  {}\n", s.selected.join(", ")));
                        for l in &s.limits {
                            out.push_str(&format!(
                                "{} {}: {}\n",
                                if l.binds { "binds " } else { "at limit" },
                                l.constraint,
                                l.note
                            ));
                        }
                        for m in &s.next_best {
                            out.push_str(&format!(
                                "excluded {} (value {}, cost {}): {}\n",
                                m.id, m.value, m.cost, m.note
                            ));
                        }
                    } else {
                        out.push_str(&format!(
                            "no selection meets the rules: {}\n",
                            s.reason.as_deref().unwrap_or("")
                        ));
                    }
                    crate::output::emit(&out);
                    Ok(ExitCode::SUCCESS)
                }
            }
        }
        FundCommand::Rules => {
            crate::output::emit(programme::fund::BUILTIN_RULES);
            Ok(ExitCode::SUCCESS)
        }
        FundCommand::Appraise {
            applications,
            dataset,
            fund_rules: path,
            format,
        } => {
            let rules = fund_rules(path.as_deref())?;
            let text = std::fs::read_to_string(&applications)
                .with_context(|| format!("reading {}", applications.display()))?;
            let apps: Vec<programme::office::NewApplication> = serde_json::from_str(&text).map_err(|e| {
                anyhow::anyhow!("{}:{}:{}: {e}", applications.display(), e.line(), e.column())
            })?;
            let positions = match &dataset {
                Some(d) => {
                    let loaded =
                        crate::validate::load_for_use(d, &dataset::Options::default()).map_err(|r| {
                            anyhow::anyhow!(
                                "{}: the dataset has {} problems; run footprint validate",
                                d.display(),
                                r.error_count
                            )
                        })?;
                    programme::scenario::positions(&loaded.dataset)?
                }
                None => Default::default(),
            };
            let rows: Vec<serde_json::Value> = apps
                .iter()
                .map(|a| {
                    let refusals = programme::fund::eligibility(&a.proposal(), &positions, &rules);
                    serde_json::json!({
                        "id": a.id,
                        "eligible": refusals.is_empty(),
                        "refusals": refusals,
                        "requested": a.requested(),
                        "appraisal": programme::fund::appraise(&a.proposal(), &rules.appraisal),
                    })
                })
                .collect();
            match format {
                Format::Json => emit_json(&rows),
                Format::Text => {
                    let mut out = String::new();
                    for r in &rows {
                        let a = &r["appraisal"];
                        out.push_str(&format!(
                            "{}: NPV {:.0}, BCR {}, payback {}{}\n",
                            r["id"].as_str().unwrap_or(""),
                            a["npv"].as_f64().unwrap_or(0.0),
                            a["bcr"].as_f64().map_or("-".into(), |b| format!("{b:.2}")),
                            a["payback_year"].as_str().unwrap_or("never"),
                            if r["eligible"].as_bool() == Some(true) {
                                String::new()
                            } else {
                                "; REFUSED".into()
                            }
                        ));
                        for f in r["refusals"].as_array().into_iter().flatten() {
                            out.push_str(&format!("  {}\n", f["reason"].as_str().unwrap_or("")));
                        }
                    }
                    crate::output::emit(&out);
                    Ok(ExitCode::SUCCESS)
                }
            }
        }
    }
}

pub fn vanguards(cmd: VanguardsCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        VanguardsCommand::Score {
            applications,
            reviews,
            method,
            format,
        } => {
            let method: Method = method.parse()?;
            let apps = programme::review::read_applications(&applications)?;
            let reviews = programme::review::read_reviews(&reviews, &apps)?;
            let r = programme::review::score(&apps, &reviews, method);
            match format {
                Format::Json => emit_json(&r),
                Format::Text => {
                    let mut out = String::new();
                    for x in &r.ranking {
                        out.push_str(&format!(
                            "{:>4}  {:<12} {:>9}  {} reviews\n",
                            x.rank,
                            x.id,
                            x.score.map_or("-".into(), |s| format!("{s:.4}")),
                            x.reviews_used
                        ));
                    }
                    for e in &r.excluded {
                        out.push_str(&format!(
                            "not counted: {} on {} ({})\n",
                            e.reviewer_org_code, e.application_id, e.reason
                        ));
                    }
                    crate::output::emit(&out);
                    Ok(ExitCode::SUCCESS)
                }
            }
        }
    }
}

/// Loads the dataset's new care models and runs the worked round into the register at
/// `database` (used by `programme scenario` and by `demo`).
pub fn scenario(
    runtime: &tokio::runtime::Runtime,
    ds: &dataset::Dataset,
    database: &str,
    rules: &FundRules,
    actor: &str,
) -> anyhow::Result<programme::scenario::Summary> {
    let engine = engine::Engine::new(ds)?;
    let positions = programme::scenario::positions(ds)?;
    let lists = programme::scenario::latest_lists(&engine)?;
    let care_models = programme::scenario::vanguards(ds, &lists)?;
    drop(engine);
    runtime.block_on(async {
        let office = store::Store::open(database)
            .await
            .map(Office::new)
            .map_err(|e| anyhow::anyhow!("{database}: {e}"))?;
        programme::scenario::build(ds, &office, &positions, &care_models, &lists, rules, actor)
            .await
            .map_err(anyhow::Error::from)
    })
}

/// The worked round into a fresh register (the demo's): nothing when it already has
/// applications.
pub fn scenario_if_empty(
    dataset: &std::path::Path,
    database: &str,
) -> anyhow::Result<Option<programme::scenario::Summary>> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let empty = runtime.block_on(async {
        let office = store::Store::open(database)
            .await
            .map(Office::new)
            .map_err(|e| anyhow::anyhow!("{database}: {e}"))?;
        anyhow::Ok(office.applications().await?.is_empty())
    })?;
    if !empty {
        return Ok(None);
    }
    let loaded = crate::validate::load_for_use(dataset, &dataset::Options::default())
        .map_err(|r| anyhow::anyhow!("{}: {} problems", dataset.display(), r.error_count))?;
    scenario(
        &runtime,
        &loaded.dataset,
        database,
        &FundRules::builtin(),
        "footprint demo",
    )
    .map(Some)
}

fn actor(a: Option<String>) -> String {
    a.or_else(|| std::env::var("USER").ok())
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| "footprint".into())
}

pub fn run(args: ProgrammeArgs) -> anyhow::Result<ExitCode> {
    let actor = actor(args.actor);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let open = |db: &str| {
        let db = db.to_string();
        runtime.block_on(async move {
            store::Store::open(&db)
                .await
                .map(Office::new)
                .map_err(|e| anyhow::anyhow!("{db}: {e}"))
        })
    };
    let load = |d: &std::path::Path| {
        crate::validate::load_for_use(d, &dataset::Options::default()).map_err(|r| {
            anyhow::anyhow!(
                "{}: the dataset has {} problems; run footprint validate",
                d.display(),
                r.error_count
            )
        })
    };
    match args.command {
        ProgrammeCommand::Scenario {
            dataset,
            fund_rules: path,
            format,
        } => {
            let rules = fund_rules(path.as_deref())?;
            let loaded = load(&dataset)?;
            let summary = scenario(&runtime, &loaded.dataset, &args.database, &rules, &actor)?;
            match format {
                Format::Json => emit_json(&summary),
                Format::Text => {
                    crate::output::emit(&format!(
                        "{} care models, {} applications, {} reviews into {}\nrefused: {}\nselected: {}\ntranches released: {}; slipping at {}: {}\n",
                        summary.care_models,
                        summary.applications,
                        summary.reviews,
                        args.database,
                        summary.refused.join(", "),
                        summary.selected.join(", "),
                        summary.tranches_released,
                        summary.as_of,
                        summary.slipping.join("; ")
                    ));
                    Ok(ExitCode::SUCCESS)
                }
            }
        }
        ProgrammeCommand::Show { format } => {
            let office = open(&args.database)?;
            let p = runtime.block_on(office.programme())?;
            match format {
                Format::Json => emit_json(&p),
                Format::Text => {
                    let mut out = format!(
                        "{} care models, {} applications, {} reviews, {} milestones, {} tranches, {} flexibilities\n",
                        p.care_models.len(),
                        p.applications.len(),
                        p.reviews.len(),
                        p.milestones.len(),
                        p.tranches.len(),
                        p.flexibilities.len()
                    );
                    for a in &p.applications {
                        out.push_str(&format!(
                            "{:<6} {:<36} {:<8} {}\n",
                            a.application.id, a.application.model, a.application.lead_org_code, a.status
                        ));
                        for r in &a.refusals {
                            out.push_str(&format!("         refused: {}\n", r.reason));
                        }
                    }
                    crate::output::emit(&out);
                    Ok(ExitCode::SUCCESS)
                }
            }
        }
        ProgrammeCommand::Coverage { dataset, format } => {
            let loaded = load(&dataset)?;
            let ds = &loaded.dataset;
            let engine = engine::Engine::new(ds)?;
            let office = open(&args.database)?;
            let members: std::collections::HashSet<String> = runtime
                .block_on(office.care_models())?
                .into_iter()
                .filter(|m| m.contract_form != "prime_contractor" || m.terms.is_some())
                .flat_map(|m| m.practices)
                .collect();
            let rows = programme::coverage::coverage(ds, &engine, &members)?;
            match format {
                Format::Json => emit_json(&rows),
                Format::Text => {
                    let mut out = String::from(
                        "level    code        year     spend on new terms  population covered\n",
                    );
                    for r in rows.iter().filter(|r| r.level != "system") {
                        out.push_str(&format!(
                            "{:<8} {:<11} {:<8} {:>18} {:>19}\n",
                            r.level,
                            r.code,
                            r.year,
                            r.spend_share.map_or("-".into(), |s| format!("{:.1}%", 100.0 * s)),
                            r.population_share
                                .map_or("-".into(), |s| format!("{:.1}%", 100.0 * s)),
                        ));
                    }
                    crate::output::emit(&out);
                    Ok(ExitCode::SUCCESS)
                }
            }
        }
    }
}
