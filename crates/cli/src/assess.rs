//! `footprint assess` and `footprint packs`: policy packs over the indicator table.

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use policy::assess::{Assessment, Context as Ctx};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct AssessArgs {
    #[command(subcommand)]
    pub command: Option<AssessCommand>,
    /// The indicator table: a folder from `indicators compute --unsuppressed`, or a CSV or
    /// Parquet file in the engine's output schema (optionally with an `org_kind` column).
    #[arg(long)]
    pub indicators: Option<PathBuf>,
    /// A shipped pack id (sof-2016, nof-2025, ccg-iaf-2016, system-2015) or a pack file;
    /// repeat for several, in order (a system pack counts the segments of an earlier one).
    #[arg(long = "pack")]
    pub packs: Vec<String>,
    /// The period assessed (default: the latest of each pack's grain).
    #[arg(long)]
    pub period: Option<String>,
    /// A dataset folder, for organisation kinds and systems.
    #[arg(long)]
    pub dataset: Option<PathBuf>,
    /// A CSV of decided segments: `entity_code,segment,reason` (special measures, segment 5).
    #[arg(long)]
    pub decisions: Option<PathBuf>,
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum AssessCommand {
    /// Who moved between two assessment folders, and why.
    Diff { old: PathBuf, new: PathBuf },
}

#[derive(Subcommand, Debug)]
pub enum PacksCommand {
    /// The shipped packs.
    List,
    /// Check a pack file and say what it assesses.
    Validate { pack: PathBuf },
}

pub fn packs(cmd: PacksCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        PacksCommand::List => {
            for (id, _) in policy::SHIPPED {
                let p = policy::load_pack(id).map_err(|e| anyhow::anyhow!("{e}"))?;
                outln!("{id:<14} {:<52} {} ({})", p.title, p.entity_kind, p.grain);
            }
        }
        PacksCommand::Validate { pack } => {
            let p = policy::pack::Pack::read(&pack).map_err(|e| anyhow::anyhow!("{e}"))?;
            outln!(
                "{}: valid pack {} ({}): {} domains, {} overrides, reads {}",
                pack.display(),
                p.id,
                p.title,
                p.domain.len(),
                p.overrides.len(),
                p.indicators().join(", ")
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn read_assessments(dir: &Path) -> anyhow::Result<Vec<Assessment>> {
    let path = if dir.is_dir() {
        dir.join("assessments.json")
    } else {
        dir.to_path_buf()
    };
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{}: not an assessments.json", path.display()))
}

pub fn run(args: AssessArgs) -> anyhow::Result<ExitCode> {
    if let Some(AssessCommand::Diff { old, new }) = args.command {
        let lines = policy::output::diff(&read_assessments(&old)?, &read_assessments(&new)?);
        if lines.is_empty() {
            outln!("nobody moved");
        }
        for l in lines {
            outln!("{l}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let (Some(indicators), Some(out)) = (&args.indicators, &args.out) else {
        bail!("give --indicators PATH, at least one --pack and --out DIR (or `assess diff OLD NEW`)");
    };
    if args.packs.is_empty() {
        bail!("give at least one --pack (shipped: sof-2016, nof-2025, ccg-iaf-2016, system-2015)");
    }
    let packs = args
        .packs
        .iter()
        .map(|p| policy::load_pack(p).map_err(|e| anyhow::anyhow!("{e}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let started = std::time::Instant::now();
    let wanted: Vec<String> = packs.iter().flat_map(|p| p.indicators()).collect();
    let table = policy::table::Table::read_only(indicators, &wanted).map_err(|e| anyhow::anyhow!("{e}"))?;
    tracing::info!(
        seconds = started.elapsed().as_secs_f64(),
        "read the indicator table"
    );
    let mut ctx = Ctx::default();
    if let Some(dir) = &args.dataset {
        let loaded = match crate::validate::load_for_use(dir, &dataset::Options::default()) {
            Ok(l) => l,
            Err(report) => {
                crate::validate::print(&Err(report), crate::Format::Text);
                return Ok(ExitCode::from(2));
            }
        };
        for o in &loaded.dataset.organisations {
            ctx.org_kinds.insert(o.code.clone(), o.kind.as_str().to_string());
            if let Some(s) = &o.system {
                ctx.systems.insert(o.code.clone(), s.clone());
            }
        }
    }
    if let Some(path) = &args.decisions {
        let mut r = csv::Reader::from_path(path).with_context(|| format!("reading {}", path.display()))?;
        for (i, rec) in r.records().enumerate() {
            let rec = rec?;
            let line = i + 2;
            let code = rec.get(0).unwrap_or_default().trim().to_string();
            let seg: u32 = rec
                .get(1)
                .and_then(|s| s.trim().parse().ok())
                .filter(|s| (1..=5).contains(s))
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "{}:{line}:segment: {:?}: not a segment 1-5",
                        path.display(),
                        rec.get(1).unwrap_or_default()
                    )
                })?;
            ctx.decisions
                .insert(code, (seg, rec.get(2).unwrap_or_default().trim().to_string()));
        }
    }
    tracing::info!(
        seconds = started.elapsed().as_secs_f64(),
        "read organisations and decisions"
    );
    // A system pack counts its members' segments from an earlier pack of the same run, and
    // finds each organisation's system in the dataset: without either it would silently count
    // no members (making fast-track easier and the member trigger unreachable).
    for (i, pack) in packs.iter().enumerate() {
        let Some(members) = &pack.members else { continue };
        if !packs[..i].iter().any(|p| &p.id == members) {
            bail!(
                "pack {} counts its members' segments from pack {members}, which is not in this run: give --pack {members} before --pack {}",
                pack.id,
                pack.id
            );
        }
        if ctx.systems.is_empty() {
            bail!(
                "pack {} counts members of each system: give --dataset DIR so each organisation's system is known",
                pack.id
            );
        }
    }
    let mut runs = Vec::new();
    let mut coverage = Vec::new();
    for pack in &packs {
        if !pack.org_kinds.is_empty() && ctx.org_kinds.is_empty() && table.org_kinds.is_empty() {
            bail!(
                "pack {} assesses {}: give --dataset DIR or an org_kind column so organisations' kinds are known",
                pack.id,
                pack.org_kinds.join(", ")
            );
        }
        // Whatever the table holds: a pack without its grain or some of its indicators
        // assesses what it can, and says what it left out and why.
        let run = policy::assess::assess_available(pack, &table, &ctx, args.period.as_deref())
            .map_err(anyhow::Error::msg)?;
        if !run.coverage.is_complete() {
            eprintln!("note: {}", run.coverage.summary());
        }
        ctx.earlier.insert(pack.id.clone(), run.assessments.clone());
        coverage.push(run.coverage);
        runs.push(run.assessments);
    }
    tracing::info!(seconds = started.elapsed().as_secs_f64(), "assessed");
    policy::output::write(out, &packs, &runs).map_err(anyhow::Error::msg)?;
    std::fs::write(
        out.join("coverage.json"),
        serde_json::to_vec_pretty(&coverage).context("coverage")?,
    )
    .with_context(|| format!("writing {}", out.join("coverage.json").display()))?;
    for (pack, run) in packs.iter().zip(&runs) {
        let mut counts: HashMap<String, usize> = HashMap::new();
        for a in run {
            let o = a
                .segment
                .map(|s| format!("segment {s}"))
                .or_else(|| a.rating.clone())
                .or_else(|| a.category.clone())
                .unwrap_or_else(|| "not scored".into());
            *counts.entry(o).or_default() += 1;
        }
        let mut counts: Vec<_> = counts.into_iter().collect();
        counts.sort();
        outln!(
            "{}: {} assessed for {}: {}",
            pack.id,
            run.len(),
            run.first().map_or("-", |a| a.period.as_str()),
            counts
                .iter()
                .map(|(o, n)| format!("{n} {o}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    outln!(
        "wrote {} in {:.2} s",
        out.join("assessments.json").display(),
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}
