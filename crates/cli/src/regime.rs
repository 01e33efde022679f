//! `footprint regime`: the register of interventions and system cases, on SQLite or PostgreSQL.

use crate::Format;
use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use store::{Lever, NewCommitment, NewIntervention, Store};

#[derive(Args, Debug)]
pub struct RegimeArgs {
    /// `sqlite://PATH` (created and migrated on first use) or `postgres://USER@HOST/DB`.
    #[arg(long, global = true, default_value = "sqlite://footprint.db")]
    pub database: String,
    /// Who is making the change (recorded in the audit log); default: $USER.
    #[arg(long, global = true)]
    pub actor: Option<String>,
    /// A registry of intervention kinds (TOML; a copy of `regime/intervention-kinds.toml`
    /// with kinds added); default: the built-in one.
    #[arg(long, global = true)]
    pub kinds: Option<PathBuf>,
    /// A reporting calendar (TOML; a copy of `regime/reporting-calendar.toml`); default: the
    /// built-in one.
    #[arg(long, global = true)]
    pub calendar: Option<PathBuf>,
    #[command(subcommand)]
    pub command: RegimeCommand,
}

// Parsed once per run: the size of the largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
pub enum RegimeCommand {
    /// Compute indicators and assessments for a dataset and open a case for every system whose
    /// pack trigger fires (a second run opens nothing new).
    Sync {
        #[arg(long)]
        dataset: PathBuf,
    },
    /// List cases, or open, update and close them.
    Cases {
        #[command(subcommand)]
        command: Option<CaseCommand>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// List interventions, or open and close them.
    Interventions {
        #[command(subcommand)]
        command: Option<InterventionCommand>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Conflicts among the open interventions and cases, explained.
    Conflicts {
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Delivery tracking for a case: milestones by date, and trajectories against the
    /// indicators computed from a dataset (with their SPC signals).
    Track {
        case: i64,
        #[arg(long)]
        dataset: PathBuf,
        /// The tracking date (default: today).
        #[arg(long)]
        as_of: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// The reporting calendar: every return owed by the organisations and systems a sync
    /// assessed (at their outcome's frequency), and where each stands; or record one as
    /// submitted.
    Returns {
        #[command(subcommand)]
        command: Option<ReturnCommand>,
        /// Only returns of this status: submitted, overdue, due or open.
        #[arg(long)]
        status: Option<String>,
        /// Only this organisation's or system's returns.
        #[arg(long)]
        entity: Option<String>,
        /// The calendar's day (default: today).
        #[arg(long)]
        as_of: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Add a regulator of your own.
    Regulator { id: String, name: String },
    /// The audit log.
    Audit {
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

#[derive(Subcommand, Debug)]
pub enum ReturnCommand {
    /// Record a return as submitted.
    Submit {
        /// The organisation or system code.
        #[arg(long)]
        entity: String,
        /// The pack whose outcome set the frequency (for example system-2015, sof-2016).
        #[arg(long)]
        pack: String,
        /// The period, as the calendar names it (2026-11, FY2026-Q3, 2026/27, 2026-W49).
        #[arg(long)]
        period: String,
        #[arg(long)]
        note: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum CaseCommand {
    /// Open a case by hand.
    Open {
        #[arg(long)]
        system: String,
        #[arg(long)]
        reason: String,
    },
    /// Add a stakeholder's commitment to the case's recovery plan.
    Commit {
        case: i64,
        #[arg(long)]
        stakeholder: String,
        /// trust, commissioner, primary_care, local_government, third_sector, national_body.
        #[arg(long)]
        kind: String,
        /// multispecialty_community_provider, primary_and_acute_care_system,
        /// urgent_and_emergency_care_network, acute_care_collaboration,
        /// enhanced_health_in_care_homes.
        #[arg(long)]
        care_model: String,
        #[arg(long)]
        description: String,
        #[arg(long)]
        due: Option<String>,
        /// `ORG:LEVER:AMOUNT[:TO_ORG]`, repeatable.
        #[arg(long = "lever")]
        levers: Vec<String>,
    },
    /// Add an exit criterion.
    Criterion {
        case: i64,
        #[arg(long)]
        text: String,
    },
    /// Commit the plan to an indicator value for the system by a period.
    Trajectory {
        case: i64,
        #[arg(long)]
        indicator: String,
        /// month, quarter, financial_year or rolling_12_months.
        #[arg(long)]
        grain: String,
        #[arg(long)]
        period: String,
        #[arg(long, allow_hyphen_values = true)]
        target: f64,
        /// higher or lower (which is better).
        #[arg(long)]
        direction: String,
    },
    /// Change a commitment not yet delivered: its wording, its milestone date, its levers
    /// (replaced as a whole when any is given).
    Change {
        commitment: i64,
        #[arg(long)]
        description: Option<String>,
        #[arg(long)]
        due: Option<String>,
        /// `ORG:LEVER:AMOUNT[:TO_ORG]`, repeatable; replaces the commitment's levers.
        #[arg(long = "lever")]
        levers: Vec<String>,
    },
    /// Mark a commitment's milestone delivered.
    Done { commitment: i64 },
    /// Mark an exit criterion met.
    Met { criterion: i64 },
    /// Record progress.
    Progress {
        case: i64,
        #[arg(long)]
        note: String,
    },
    /// Close a case (refused while exit criteria are unmet, unless --override says why).
    Close {
        case: i64,
        #[arg(long)]
        reason: String,
        #[arg(long = "override")]
        override_reason: Option<String>,
    },
    /// Write a case file.
    Export {
        case: i64,
        /// `markdown` or `html`.
        #[arg(long, default_value = "markdown")]
        to: String,
    },
}

// Parsed once per run: the size of the largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
pub enum InterventionCommand {
    /// Open an intervention on an organisation (--org) or a system (--system).
    Open {
        #[arg(long)]
        regulator: String,
        #[arg(long, conflicts_with = "system", required_unless_present = "system")]
        org: Option<String>,
        #[arg(long)]
        system: Option<String>,
        #[arg(long)]
        kind: String,
        #[arg(long)]
        legal_basis: String,
        /// A required action, repeatable.
        #[arg(long = "action")]
        actions: Vec<String>,
        #[arg(long)]
        start: String,
        #[arg(long)]
        deadline: Option<String>,
        #[arg(long)]
        case: Option<i64>,
        /// `ORG:LEVER:AMOUNT[:TO_ORG]`, repeatable.
        #[arg(long = "lever")]
        levers: Vec<String>,
        /// The buddy organisation (kinds that require a partner).
        #[arg(long)]
        partner: Option<String>,
        /// Who gives capacity support (kinds that require a provider).
        #[arg(long)]
        provider: Option<String>,
        /// Its cost in pounds.
        #[arg(long)]
        cost: Option<f64>,
        /// A condition of a flexibility, repeatable.
        #[arg(long = "condition")]
        conditions: Vec<String>,
        /// When a flexibility lapses (YYYY-MM-DD).
        #[arg(long)]
        expiry: Option<String>,
        /// The new care model the intervention supports.
        #[arg(long)]
        care_model: Option<String>,
    },
    Close {
        id: i64,
        #[arg(long)]
        reason: String,
    },
}

/// A user's registry of intervention kinds (`--kinds FILE`), validated.
pub fn read_calendar(file: &std::path::Path) -> anyhow::Result<store::Calendar> {
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    store::Calendar::parse(&text, &file.display().to_string()).map_err(|e| anyhow::anyhow!("{e}"))
}

pub fn read_kinds(file: &std::path::Path) -> anyhow::Result<store::Kinds> {
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    store::Kinds::parse(&text, &file.display().to_string()).map_err(|e| anyhow::anyhow!("{e}"))
}

fn print_json<T: serde::Serialize>(v: &T) -> anyhow::Result<()> {
    outln!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

fn levers(v: &[String]) -> anyhow::Result<Vec<Lever>> {
    v.iter()
        .map(|l| Lever::parse(l).map_err(|e| anyhow::anyhow!("{e}")))
        .collect()
}

pub fn run(args: RegimeArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    // Sync computes indicators first, outside the store's runtime (the engine runs its own),
    // with the register's decisions (special measures places a trust in segment 4).
    let assessed = match &args.command {
        RegimeCommand::Sync { dataset } => {
            let loaded = match crate::validate::load_for_use(dataset, &dataset::Options::default()) {
                Ok(l) => l,
                Err(report) => {
                    crate::validate::print(&Err(report), Format::Text);
                    return Ok(ExitCode::from(2));
                }
            };
            let register = runtime.block_on(async {
                let db = Store::open(&args.database)
                    .await
                    .map_err(|e| anyhow::anyhow!("{}: {e}", args.database))?;
                db.interventions().await.map_err(|e| anyhow::anyhow!("{e}"))
            })?;
            Some(regime::assess(&loaded.dataset, &register).map_err(|e| anyhow::anyhow!("{e}"))?)
        }
        _ => None,
    };
    if let RegimeCommand::Track {
        case,
        dataset,
        as_of,
        format,
    } = &args.command
    {
        return track(
            &runtime,
            &args.database,
            *case,
            dataset,
            as_of.as_deref(),
            *format,
        );
    }
    runtime.block_on(run_async(args, assessed))
}

fn track(
    runtime: &tokio::runtime::Runtime,
    database: &str,
    id: i64,
    dataset: &std::path::Path,
    as_of: Option<&str>,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let case = runtime.block_on(async {
        let db = Store::open(database)
            .await
            .map_err(|e| anyhow::anyhow!("{database}: {e}"))?;
        let cases = db.cases().await.map_err(|e| anyhow::anyhow!("{e}"))?;
        cases
            .into_iter()
            .find(|c| c.id == id)
            .ok_or_else(|| anyhow::anyhow!("case {id}: no such case"))
    })?;
    let loaded = match crate::validate::load_for_use(dataset, &dataset::Options::default()) {
        Ok(l) => l,
        Err(report) => {
            crate::validate::print(&Err(report), Format::Text);
            return Ok(ExitCode::from(2));
        }
    };
    let mut wanted: Vec<String> = case.trajectories.iter().map(|t| t.indicator.clone()).collect();
    wanted.sort();
    wanted.dedup();
    let table = if wanted.is_empty() {
        policy::table::Table::default()
    } else {
        regime::indicator_table(&loaded.dataset, wanted).map_err(|e| anyhow::anyhow!("{e}"))?
    };
    let today = store::now();
    let as_of = as_of.unwrap_or(&today[..10]);
    let t = regime::track(&case, &table, as_of);
    match format {
        Format::Json => print_json(&t)?,
        Format::Text => {
            outln!(
                "case #{} ({}) on {}: {}",
                t.case_id,
                t.system_code,
                t.as_of,
                if t.on_track { "on track" } else { "off track" }
            );
            for m in &t.milestones {
                outln!(
                    "  milestone #{} {} ({}): {}",
                    m.commitment_id,
                    m.stakeholder,
                    m.due.as_deref().unwrap_or("no date"),
                    m.status
                );
            }
            for x in &t.trajectories {
                outln!("  {}: {}", x.status, x.explanation);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn run_async(args: RegimeArgs, assessed: Option<regime::Assessed>) -> anyhow::Result<ExitCode> {
    let actor = args
        .actor
        .clone()
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "cli".into());
    let mut db = Store::open(&args.database)
        .await
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.database))?;
    if let Some(file) = &args.kinds {
        db = db.with_kinds(read_kinds(file)?);
    }
    if let Some(file) = &args.calendar {
        db = db.with_calendar(read_calendar(file)?);
    }
    let refused = |e: store::Error| anyhow::anyhow!("{e}");
    match args.command {
        RegimeCommand::Sync { .. } => {
            let Some(assessed) = &assessed else {
                bail!("nothing assessed")
            };
            let s = regime::sync(assessed, &db, &actor)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            outln!(
                "{}: {} systems challenged; opened {} cases{}; {} already open; {} reporting schedules set",
                s.period,
                s.challenged.len(),
                s.opened.len(),
                if s.opened.is_empty() {
                    String::new()
                } else {
                    format!(
                        " ({})",
                        s.opened
                            .iter()
                            .map(|(c, id)| format!("{c} #{id}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                },
                s.already_open.len(),
                s.schedules
            );
        }
        RegimeCommand::Cases {
            command: None,
            format,
        } => {
            let cases = db.cases().await.map_err(refused)?;
            match format {
                Format::Json => print_json(&cases)?,
                Format::Text => {
                    for c in &cases {
                        outln!(
                            "#{} {} {} ({}): {}",
                            c.id,
                            c.system_code,
                            c.status,
                            c.opened_by,
                            c.reason
                        );
                    }
                }
            }
        }
        RegimeCommand::Cases {
            command: Some(cmd), ..
        } => match cmd {
            CaseCommand::Open { system, reason } => {
                let id = db
                    .open_case(&system, None, &reason, None, &actor)
                    .await
                    .map_err(refused)?;
                outln!("opened case #{}", id.unwrap_or_default());
            }
            CaseCommand::Commit {
                case,
                stakeholder,
                kind,
                care_model,
                description,
                due,
                levers: l,
            } => {
                let n = NewCommitment {
                    stakeholder,
                    stakeholder_kind: kind,
                    care_model,
                    description,
                    due,
                    levers: levers(&l)?,
                };
                let id = db.add_commitment(case, &n, &actor).await.map_err(refused)?;
                outln!("added commitment #{id} to case #{case}");
            }
            CaseCommand::Criterion { case, text } => {
                let id = db
                    .add_exit_criterion(case, &text, &actor)
                    .await
                    .map_err(refused)?;
                outln!("added exit criterion #{id} to case #{case}");
            }
            CaseCommand::Trajectory {
                case,
                indicator,
                grain,
                period,
                target,
                direction,
            } => {
                let id = db
                    .add_trajectory(case, &indicator, (&grain, &period), target, &direction, &actor)
                    .await
                    .map_err(refused)?;
                outln!("added trajectory #{id} to case #{case}");
            }
            CaseCommand::Change {
                commitment,
                description,
                due,
                levers: given,
            } => {
                let change = store::CommitmentChange {
                    description,
                    due,
                    levers: if given.is_empty() {
                        None
                    } else {
                        Some(levers(&given)?)
                    },
                };
                db.change_commitment(commitment, &change, &actor)
                    .await
                    .map_err(refused)?;
                outln!("changed commitment #{commitment}");
            }
            CaseCommand::Done { commitment } => {
                db.complete_commitment(commitment, &actor)
                    .await
                    .map_err(refused)?;
                outln!("commitment #{commitment} delivered");
            }
            CaseCommand::Met { criterion } => {
                db.meet_exit_criterion(criterion, &actor).await.map_err(refused)?;
                outln!("exit criterion #{criterion} met");
            }
            CaseCommand::Progress { case, note } => {
                db.record_progress(case, &note, &actor).await.map_err(refused)?;
                outln!("recorded progress on case #{case}");
            }
            CaseCommand::Close {
                case,
                reason,
                override_reason,
            } => {
                db.close_case(case, &reason, override_reason.as_deref(), &actor)
                    .await
                    .map_err(refused)?;
                outln!("closed case #{case}");
            }
            CaseCommand::Export { case, to } => {
                let cases = db.cases().await.map_err(refused)?;
                let Some(c) = cases.iter().find(|c| c.id == case) else {
                    bail!("case {case}: no such case");
                };
                let html = match to.as_str() {
                    "markdown" | "md" => false,
                    "html" => true,
                    other => bail!("--to {other:?}: markdown or html"),
                };
                let returns = regime::system_returns(
                    &c.system_code,
                    &db.organisations().await.map_err(refused)?,
                    db.returns(store::reporting::today()).await.map_err(refused)?,
                );
                let file = regime::case_file(
                    c,
                    &db.interventions().await.map_err(refused)?,
                    &db.conflicts().await.map_err(refused)?,
                    &returns,
                    html,
                );
                out!("{file}");
            }
        },
        RegimeCommand::Interventions {
            command: None,
            format,
        } => {
            let all = db.interventions().await.map_err(refused)?;
            match format {
                Format::Json => print_json(&all)?,
                Format::Text => {
                    for i in &all {
                        outln!(
                            "#{} {} {} on {} {} ({}){}",
                            i.id,
                            i.regulator,
                            i.kind,
                            i.target_kind,
                            i.target_code,
                            i.status,
                            i.case_id.map(|c| format!(", case #{c}")).unwrap_or_default()
                        );
                    }
                }
            }
        }
        RegimeCommand::Interventions {
            command: Some(cmd), ..
        } => match cmd {
            InterventionCommand::Open {
                regulator,
                org,
                system,
                kind,
                legal_basis,
                actions,
                start,
                deadline,
                case,
                levers: l,
                partner,
                provider,
                cost,
                conditions,
                expiry,
                care_model,
            } => {
                let (target_kind, target_code) = match (org, system) {
                    (Some(o), _) => ("organisation".to_string(), o),
                    (None, Some(s)) => ("system".to_string(), s),
                    (None, None) => bail!("give --org or --system"),
                };
                let n = NewIntervention {
                    regulator,
                    target_kind,
                    target_code,
                    kind,
                    legal_basis,
                    actions,
                    start_date: start,
                    deadline,
                    case_id: case,
                    levers: levers(&l)?,
                    details: store::Details {
                        partner,
                        provider,
                        cost,
                        conditions,
                        expiry,
                        care_model,
                    },
                };
                let id = db.open_intervention(&n, &actor).await.map_err(refused)?;
                outln!("opened intervention #{id}");
                for c in db
                    .conflicts()
                    .await
                    .map_err(refused)?
                    .iter()
                    .filter(|c| c.intervention_ids.contains(&id))
                {
                    outln!("conflict ({}): {}", c.kind, c.explanation);
                }
            }
            InterventionCommand::Close { id, reason } => {
                db.close_intervention(id, &reason, &actor)
                    .await
                    .map_err(refused)?;
                outln!("closed intervention #{id}");
            }
        },
        RegimeCommand::Conflicts { format } => {
            let all = db.conflicts().await.map_err(refused)?;
            match format {
                Format::Json => print_json(&all)?,
                Format::Text => {
                    if all.is_empty() {
                        outln!("no conflicts");
                    }
                    for c in &all {
                        outln!("{} ({}): {}", c.kind, c.org_code, c.explanation);
                    }
                }
            }
        }
        RegimeCommand::Track { .. } => bail!("tracking runs before the store's runtime"),
        RegimeCommand::Regulator { id, name } => {
            db.add_regulator(&id, &name, &actor).await.map_err(refused)?;
            outln!("added regulator {id}");
        }
        RegimeCommand::Returns {
            command,
            status,
            entity,
            as_of,
            format,
        } => {
            let today = match &as_of {
                None => store::reporting::today(),
                Some(d) => model::parse_date(d)
                    .map_err(|_| anyhow::anyhow!("--as-of {d:?}: not a date (YYYY-MM-DD)"))?,
            };
            match command {
                Some(ReturnCommand::Submit {
                    entity,
                    pack,
                    period,
                    note,
                }) => {
                    let id = db
                        .record_return(&entity, &pack, &period, note.as_deref(), today, &actor)
                        .await
                        .map_err(refused)?;
                    outln!("recorded return #{id}: {entity} {pack} {period}");
                }
                None => {
                    if let Some(s) = &status
                        && !["submitted", "overdue", "due", "open"].contains(&s.as_str())
                    {
                        bail!("--status {s:?}: choose submitted, overdue, due or open");
                    }
                    let all: Vec<store::Return> = db
                        .returns(today)
                        .await
                        .map_err(refused)?
                        .into_iter()
                        .filter(|r| status.as_ref().is_none_or(|s| &r.status == s))
                        .filter(|r| entity.as_ref().is_none_or(|e| &r.entity_code == e))
                        .collect();
                    match format {
                        Format::Json => print_json(&all)?,
                        Format::Text => {
                            for r in &all {
                                outln!(
                                    "{} {} {} {} ({}) due {} {}",
                                    r.entity_code,
                                    r.pack,
                                    r.period,
                                    r.frequency,
                                    r.outcome,
                                    r.due,
                                    r.status
                                );
                            }
                        }
                    }
                }
            }
        }
        RegimeCommand::Audit { format } => {
            let all = db.audit().await.map_err(refused)?;
            match format {
                Format::Json => print_json(&all)?,
                Format::Text => {
                    for a in &all {
                        outln!(
                            "{} {} {} {} {}",
                            a.at,
                            a.actor,
                            a.action,
                            a.entity,
                            a.entity_id.map(|i| i.to_string()).unwrap_or_default()
                        );
                    }
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
