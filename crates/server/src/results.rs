//! The results a server serves: computed once from a dataset into a folder (the published
//! indicators and their signals, every shipped pack's assessments, the regime's system
//! assessments and diagnoses, the reference tables and the catalogue), then loaded from it
//! on every later start.

use crate::Error;
use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::Float64Type;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

/// Packs assessed for the dashboard, in order (a system pack counts an earlier pack's
/// segments).
pub const PACKS: [&str; 4] = ["sof-2016", "nof-2025", "ccg-iaf-2016", "system-2015"];

/// Bumped when the folder's layout changes: older folders are recomputed.
const LAYOUT: u32 = 6;

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Region {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct System {
    pub code: String,
    pub name: String,
    pub region_code: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Organisation {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub system_code: Option<String>,
    pub region_code: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct IndicatorMeta {
    pub id: String,
    pub title: String,
    pub description: String,
    pub domain: String,
    pub unit: String,
    pub direction: String,
    pub multiplier: f64,
    /// The interval method (`wilson`, `byars`, `isr`, …): which funnel applies.
    pub ci: String,
    pub target: Option<f64>,
}

/// What the folder was computed from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub layout: u32,
    pub dataset: String,
    pub computed_at: String,
    pub footprint: String,
}

/// One published value with its signals. Strings are shared (interned).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Value {
    pub indicator_id: Arc<str>,
    pub entity_kind: Arc<str>,
    pub entity_code: Arc<str>,
    pub grain: Arc<str>,
    pub period: Arc<str>,
    pub numerator: Option<f64>,
    pub denominator: Option<f64>,
    pub value: Option<f64>,
    pub lower_95: Option<f64>,
    pub upper_95: Option<f64>,
    pub lower_998: Option<f64>,
    pub upper_998: Option<f64>,
    pub suppressed: bool,
    pub spc_point: Option<Arc<str>>,
    pub spc_variation: Option<Arc<str>>,
    pub spc_assurance: Option<Arc<str>>,
    pub funnel_z: Option<f64>,
    pub funnel_position: Option<Arc<str>>,
    pub funnel_side: Option<Arc<str>>,
}

/// (indicator, entity kind, entity code).
pub type EntityKey = (Arc<str>, Arc<str>, Arc<str>);
/// (indicator, grain, period, entity kind).
pub type SectionKey = (Arc<str>, Arc<str>, Arc<str>, Arc<str>);

/// Everything served, in memory.
#[derive(Debug, Default)]
pub struct Results {
    pub manifest: Option<Manifest>,
    pub regions: Vec<Region>,
    pub systems: Vec<System>,
    pub organisations: Vec<Organisation>,
    pub indicators: Vec<IndicatorMeta>,
    pub values: Vec<Value>,
    /// Rows of one entity's series: (indicator, entity kind, code) → positions, in period order.
    pub by_entity: HashMap<EntityKey, Vec<u32>>,
    /// Cross-sections: (indicator, grain, period, entity kind) → positions.
    pub by_section: HashMap<SectionKey, Vec<u32>>,
    /// Each pack's assessments (latest period), by pack id, in the pack's league order.
    pub assessments: BTreeMap<String, Vec<policy::assess::Assessment>>,
    /// What each pack assessed and left out (and why), by pack id.
    pub coverage: BTreeMap<String, policy::assess::Coverage>,
    pub regime: Option<regime::Assessed>,
    /// Heads and beds: every system's current capacity against projected demand, as
    /// published (bed days rounded); `None` when the dataset has no spells or no whole year.
    pub capacity: Option<capacity::plan::Report>,
    /// The published baseline the projection starts from (`Baseline::published`: age bands,
    /// spells under the disclosure rule, nights rounded), to check plans against.
    pub capacity_baseline: Option<capacity::baseline::Baseline>,
    /// What the programme office needs from the dataset: each organisation's financial
    /// position in the latest year (eligibility, drift to deficit support) and the window's
    /// last day (the default date drawdown is shown at).
    pub programme: ProgrammeInputs,
    /// Real-time evaluation of the dataset's sites (docs/evaluation.md): every protocol, every
    /// monthly run, and the learning library, all from the published table.
    pub evaluation: EvaluationResults,
}

/// What `evaluation.json` holds.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct EvaluationResults {
    pub evaluated: evaluation::run::Evaluated,
    pub library: evaluation::library::Library,
}

/// Every site of the dataset (its `truth.toml`, else its contracts) evaluated on the published
/// table, once for every month since its start, and the learning library with the register's
/// interventions in each site's system.
pub fn evaluate(
    ds: &dataset::Dataset,
    published: &[arrow::array::RecordBatch],
    register: &[store::Intervention],
    protocols: &[evaluation::run::Protocol],
) -> Result<EvaluationResults, Error> {
    let st = evaluation::sites::Structure::of(ds);
    let sites = evaluation::sites::discover(ds, &st, None).map_err(|e| Error::Results(e.to_string()))?;
    let evaluated = evaluation::run::evaluate_all(published, &sites, &st, &[], protocols, None, true)
        .map_err(|e| Error::Results(e.to_string()))?;
    let interventions = |site: &evaluation::sites::Site| -> Vec<String> {
        let system = site.system.clone().or_else(|| {
            site.practices
                .first()
                .and_then(|p| st.practice_system(p).cloned())
        });
        register
            .iter()
            .filter(|i| i.system_code.is_some() && i.system_code == system)
            .map(|i| {
                format!(
                    "{} {} on {} ({}, from {})",
                    i.regulator,
                    i.kind.replace('_', " "),
                    i.target_code,
                    i.status,
                    i.start_date
                )
            })
            .collect()
    };
    let library = evaluation::library::Library::build(
        &evaluated.sites,
        &st,
        &evaluated.protocols,
        &evaluated.runs,
        &interventions,
        &evaluated.problems,
    );
    Ok(EvaluationResults { evaluated, library })
}

/// The dataset's part of the programme office.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ProgrammeInputs {
    pub positions: BTreeMap<String, programme::fund::Position>,
    pub as_of: String,
}

fn write_json(dir: &Path, name: &str, value: &impl Serialize) -> Result<(), Error> {
    let path = dir.join(name);
    let text = serde_json::to_vec(value).map_err(|e| Error::Results(format!("{name}: {e}")))?;
    std::fs::write(&path, text).map_err(|e| Error::Results(format!("writing {}: {e}", path.display())))
}

fn read_json<T: for<'de> Deserialize<'de>>(dir: &Path, name: &str) -> Result<T, Error> {
    let path = dir.join(name);
    let text =
        std::fs::read(&path).map_err(|e| Error::Results(format!("reading {}: {e}", path.display())))?;
    serde_json::from_slice(&text).map_err(|e| Error::Results(format!("{}: {e}", path.display())))
}

/// Whether `dir` holds results of this layout.
pub fn exists(dir: &Path) -> bool {
    read_json::<Manifest>(dir, "manifest.json").is_ok_and(|m| m.layout == LAYOUT)
}

/// Computes everything from a loaded dataset into `dir`. Blocking (the engine runs its own
/// query runtime): call it outside an async runtime.
pub fn prepare(
    ds: &dataset::Dataset,
    source: &Path,
    dir: &Path,
    progress: &dyn Fn(&str),
) -> Result<(), Error> {
    prepare_with(ds, source, dir, &[], &[], &engine::Place::Embedded, progress)
}

/// The segments the shipped packs take from the register's open interventions (special
/// measures → segment 4 in `sof-2016`), by pack and entity, as the results record them.
pub type Decisions = BTreeMap<String, BTreeMap<String, (u32, String)>>;

pub fn register_decisions(register: &[store::Intervention]) -> Result<Decisions, Error> {
    let open = regime::open_interventions(register);
    let mut out = Decisions::new();
    for id in PACKS {
        let pack = policy::load_pack(id).map_err(|e| Error::Results(e.to_string()))?;
        let d = policy::assess::register_decisions(&pack, &open);
        if !d.is_empty() {
            out.insert(pack.id.clone(), d.into_iter().collect());
        }
    }
    Ok(out)
}

/// Whether the results in `dir` were computed with other register decisions than `register`
/// holds now (so that a trust placed in special measures is assessed so at the next start).
pub fn decisions_changed(dir: &Path, register: &[store::Intervention]) -> Result<bool, Error> {
    let held: Decisions = read_json(dir, "decisions.json").unwrap_or_default();
    Ok(held != register_decisions(register)?)
}

/// Whether the register holds an evaluation protocol that would govern a site and outcome
/// differently from the one the results in `dir` were computed under.
pub fn protocols_changed(dir: &Path, protocols: &[evaluation::run::Protocol]) -> bool {
    read_json::<EvaluationResults>(dir, "evaluation.json")
        .is_ok_and(|held| evaluation::library::protocols_differ(protocols, &held.evaluated))
}

/// The regime's assessment (every trust and system, with diagnoses) on the published table
/// already in `dir`, with the register's decisions as they stand now: what `regime sync`
/// computes, without computing the indicators again. Blocking.
pub fn reassess(
    dir: &Path,
    ds: &dataset::Dataset,
    register: &[store::Intervention],
) -> Result<regime::Assessed, Error> {
    let values = read_parquet(&dir.join("indicators.parquet"))?;
    let signals = read_parquet(&dir.join("indicator_signals.parquet"))?;
    let table = policy::table::Table::from_batches(&values, &signals, &[])
        .map_err(|e| Error::Results(e.to_string()))?;
    Ok(regime::assess_table_with(ds, &table, register)?)
}

/// [`prepare`] with the register's decisions applied to the packs that follow them, and the
/// evaluation protocols it holds governing their sites and outcomes; the queries over the
/// dataset run where `place` says (this process, or a Ballista cluster).
pub fn prepare_with(
    ds: &dataset::Dataset,
    source: &Path,
    dir: &Path,
    register: &[store::Intervention],
    protocols: &[evaluation::run::Protocol],
    place: &engine::Place,
    progress: &dyn Fn(&str),
) -> Result<(), Error> {
    let decisions = register_decisions(register)?;
    std::fs::create_dir_all(dir).map_err(|e| Error::Results(format!("creating {}: {e}", dir.display())))?;
    let catalogue = engine::Catalogue::default_catalogue()
        .map_err(|p| Error::Results(format!("the built-in catalogue: {} problems", p.len())))?;
    let options = engine::Options {
        place: place.clone(),
        ..engine::Options::default()
    };
    let computed = engine::compute(ds, &catalogue, &options, progress)?;
    // Indicators published by others (Fingertips), as published, beside the computed ones.
    let external = engine::external::published(ds)?;
    for (why, n) in &external.left_out {
        tracing::info!("external indicators: {n} rows left out: {why}");
    }
    let mut published = computed.published.clone();
    published.extend(external.batches.iter().cloned());
    engine::output::write(dir, "indicators", &engine::published_schema(), &published, false)?;
    engine::output::write(
        dir,
        "indicator_signals",
        &engine::signals::schema(),
        &computed.published_signals,
        false,
    )?;
    progress("assessing");
    // Assessed from the published table and its signals, so that every value, rule text,
    // explanation, league place and diagnosis served is one a caller could read anyway.
    let table = policy::table::Table::from_batches(&published, &computed.published_signals, &[])
        .map_err(|e| Error::Results(e.to_string()))?;
    let mut ctx = policy::assess::Context::default();
    for o in &ds.organisations {
        ctx.org_kinds.insert(o.code.clone(), o.kind.as_str().to_string());
        if let Some(s) = &o.system {
            ctx.systems.insert(o.code.clone(), s.clone());
        }
    }
    let mut assessments = BTreeMap::new();
    let mut coverage = BTreeMap::new();
    for id in PACKS {
        let pack = policy::load_pack(id).map_err(|e| Error::Results(e.to_string()))?;
        // A dataset may hold only some tables or part of a year: assess what it allows and
        // keep what was left out, and why, to say so on every page and route.
        // The register's decisions, for the packs that follow them.
        ctx.decisions = decisions
            .get(&pack.id)
            .map(|d| d.clone().into_iter().collect())
            .unwrap_or_default();
        let mut run = policy::assess::assess_available(&pack, &table, &ctx, None).map_err(Error::Results)?;
        tracing::info!("{}", run.coverage.summary());
        ctx.earlier.insert(pack.id.clone(), run.assessments.clone());
        // Kept in the pack's league order (outcome, then overall score), the order `footprint
        // assess` prints: league tables are read off it, so a rank never disagrees with its
        // category.
        policy::assess::league(&pack, &mut run.assessments);
        assessments.insert(pack.id.clone(), run.assessments);
        coverage.insert(pack.id.clone(), run.coverage);
    }
    write_json(dir, "assessments.json", &assessments)?;
    write_json(dir, "coverage.json", &coverage)?;
    let assessed = regime::assess_table_with(ds, &table, register)?;
    write_json(dir, "regime.json", &assessed)?;
    write_json(dir, "decisions.json", &decisions)?;
    write_json(
        dir,
        "programme.json",
        &ProgrammeInputs {
            positions: programme::scenario::positions(ds).map_err(|e| Error::Results(e.to_string()))?,
            as_of: model::format_date(ds.manifest.to.last_day()),
        },
    )?;
    progress("evaluation");
    write_json(
        dir,
        "evaluation.json",
        &evaluate(ds, &published, register, protocols)?,
    )?;
    progress("heads and beds");
    match capacity_for(ds, place)? {
        Some((baseline, report)) => {
            write_json(dir, "capacity_baseline.json", &baseline)?;
            write_json(dir, "capacity.json", &report)?;
        }
        None => {
            let _ = std::fs::remove_file(dir.join("capacity.json"));
            let _ = std::fs::remove_file(dir.join("capacity_baseline.json"));
        }
    }

    let system_region: HashMap<&str, &str> = ds
        .systems
        .iter()
        .map(|s| (s.code.as_str(), s.region.as_str()))
        .collect();
    let regions: Vec<Region> = ds
        .regions
        .iter()
        .map(|r| Region {
            code: r.code.clone(),
            name: r.name.clone(),
        })
        .collect();
    let systems: Vec<System> = ds
        .systems
        .iter()
        .map(|s| System {
            code: s.code.clone(),
            name: s.name.clone(),
            region_code: s.region.clone(),
        })
        .collect();
    let organisations: Vec<Organisation> = ds
        .organisations
        .iter()
        .map(|o| Organisation {
            code: o.code.clone(),
            name: o.name.clone(),
            kind: o.kind.as_str().to_string(),
            system_code: o.system.clone(),
            region_code: o
                .system
                .as_deref()
                .and_then(|s| system_region.get(s))
                .map(|r| r.to_string()),
        })
        .collect();
    write_json(dir, "reference.json", &(regions, systems, organisations))?;
    let indicators: Vec<IndicatorMeta> = catalogue
        .indicators
        .iter()
        .map(|i| IndicatorMeta {
            id: i.id.clone(),
            title: i.title.clone(),
            description: i.description.clone(),
            domain: i.domain.clone(),
            unit: format!("{:?}", i.unit).to_lowercase(),
            direction: format!("{:?}", i.direction).to_lowercase(),
            multiplier: i.multiplier,
            ci: format!("{:?}", i.ci).to_lowercase(),
            target: i.target,
        })
        .chain(external.meta.iter().map(|m| IndicatorMeta {
            id: m.id.clone(),
            title: m.title.clone(),
            description: m.source.clone(),
            domain: "external".into(),
            unit: String::new(),
            direction: "none".into(),
            multiplier: 1.0,
            ci: "none".into(),
            target: None,
        }))
        .collect();
    write_json(dir, "catalogue.json", &indicators)?;
    // The manifest last: a folder without it is recomputed.
    write_json(
        dir,
        "manifest.json",
        &Manifest {
            layout: LAYOUT,
            dataset: source.display().to_string(),
            computed_at: store::now(),
            footprint: env!("CARGO_PKG_VERSION").to_string(),
        },
    )
}

/// The heads-and-beds baseline and the published report of current capacity (no plan) for a
/// dataset with spells and a whole financial year in its window.
fn capacity_for(
    ds: &dataset::Dataset,
    place: &engine::Place,
) -> Result<Option<(capacity::baseline::Baseline, capacity::plan::Report)>, Error> {
    let year = capacity::baseline::baseline_year(ds.manifest.from, ds.manifest.to);
    let whole =
        model::Month::new(year, 4).is_some_and(|s| s >= ds.manifest.from && s.plus(11) <= ds.manifest.to);
    if !whole || !ds.tables.contains_key("admissions") {
        tracing::info!("heads and beds: no spells or no whole financial year in the dataset; not computed");
        return Ok(None);
    }
    let engine = engine::Engine::open(ds, place)?;
    let a = capacity::assumptions::Assumptions::default_set();
    // Only the published baseline is kept or used: every figure served, and every plan checked
    // over HTTP, is computed from disclosure-controlled cells.
    let baseline = capacity::baseline::read(&engine, ds, year)
        .map_err(|e| Error::Results(e.to_string()))?
        .published(&a.bands(), &stats::disclosure::Policy::default());
    // The dataset's own plans (its latest year), or current capacity when it has none.
    let plan = capacity::baseline::read_plan(ds, None).map_err(|e| Error::Results(e.to_string()))?;
    let report = capacity::assess(&baseline, &a, &[], plan.as_ref(), None, capacity::DEFAULT_RUNS, 1)
        .map_err(|e| Error::Results(e.to_string()))?;
    Ok(Some((baseline, capacity::plan::publish(report))))
}

#[derive(Default)]
struct Interner(HashMap<String, Arc<str>>);

impl Interner {
    fn get(&mut self, s: &str) -> Arc<str> {
        if let Some(a) = self.0.get(s) {
            return a.clone();
        }
        let a: Arc<str> = Arc::from(s);
        self.0.insert(s.to_string(), a.clone());
        a
    }
}

fn read_parquet(path: &Path) -> Result<Vec<RecordBatch>, Error> {
    let file =
        std::fs::File::open(path).map_err(|e| Error::Results(format!("reading {}: {e}", path.display())))?;
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(|b| b.with_batch_size(65_536).build())
        .map_err(|e| Error::Results(format!("{}: {e}", path.display())))?;
    reader
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Error::Results(format!("{}: {e}", path.display())))
}

fn column<'a>(b: &'a RecordBatch, name: &str, path: &Path) -> Result<&'a Arc<dyn Array>, Error> {
    b.column_by_name(name)
        .ok_or_else(|| Error::Results(format!("{}: no column {name}", path.display())))
}

impl Results {
    /// Loads a results folder written by [`prepare`].
    pub fn load(dir: &Path) -> Result<Results, Error> {
        let manifest: Manifest = read_json(dir, "manifest.json")?;
        let (regions, systems, organisations): (Vec<Region>, Vec<System>, Vec<Organisation>) =
            read_json(dir, "reference.json")?;
        let indicators: Vec<IndicatorMeta> = read_json(dir, "catalogue.json")?;
        let assessments = read_json(dir, "assessments.json")?;
        let coverage = read_json(dir, "coverage.json")?;
        let regime: regime::Assessed = read_json(dir, "regime.json")?;
        let (capacity, capacity_baseline) = if dir.join("capacity.json").exists() {
            (
                Some(read_json(dir, "capacity.json")?),
                Some(read_json(dir, "capacity_baseline.json")?),
            )
        } else {
            (None, None)
        };
        let programme: ProgrammeInputs = read_json(dir, "programme.json")?;
        let evaluation: EvaluationResults = read_json(dir, "evaluation.json")?;
        let mut strings = Interner::default();
        let mut values = Vec::new();
        let mut position: HashMap<[Arc<str>; 5], u32> = HashMap::new();
        let path = dir.join("indicators.parquet");
        for b in read_parquet(&path)? {
            let s = |n: &str| -> Result<_, Error> { Ok(column(&b, n, &path)?.as_string::<i32>()) };
            let f = |n: &str| -> Result<_, Error> { Ok(column(&b, n, &path)?.as_primitive::<Float64Type>()) };
            let (ind, kind, code, grain, period) = (
                s("indicator_id")?,
                s("entity_kind")?,
                s("entity_code")?,
                s("grain")?,
                s("period")?,
            );
            let cols = [
                f("numerator")?,
                f("denominator")?,
                f("value")?,
                f("lower_95")?,
                f("upper_95")?,
                f("lower_998")?,
                f("upper_998")?,
            ];
            let suppressed = column(&b, "suppressed", &path)?.as_boolean();
            for i in 0..b.num_rows() {
                let get = |c: usize| (!cols[c].is_null(i)).then(|| cols[c].value(i));
                let v = Value {
                    indicator_id: strings.get(ind.value(i)),
                    entity_kind: strings.get(kind.value(i)),
                    entity_code: strings.get(code.value(i)),
                    grain: strings.get(grain.value(i)),
                    period: strings.get(period.value(i)),
                    numerator: get(0),
                    denominator: get(1),
                    value: get(2),
                    lower_95: get(3),
                    upper_95: get(4),
                    lower_998: get(5),
                    upper_998: get(6),
                    suppressed: suppressed.value(i),
                    spc_point: None,
                    spc_variation: None,
                    spc_assurance: None,
                    funnel_z: None,
                    funnel_position: None,
                    funnel_side: None,
                };
                position.insert(
                    [
                        v.indicator_id.clone(),
                        v.entity_kind.clone(),
                        v.entity_code.clone(),
                        v.grain.clone(),
                        v.period.clone(),
                    ],
                    values.len() as u32,
                );
                values.push(v);
            }
        }
        let path = dir.join("indicator_signals.parquet");
        for b in read_parquet(&path)? {
            let s = |n: &str| -> Result<_, Error> { Ok(column(&b, n, &path)?.as_string::<i32>()) };
            let (ind, kind, code, grain, period) = (
                s("indicator_id")?,
                s("entity_kind")?,
                s("entity_code")?,
                s("grain")?,
                s("period")?,
            );
            let texts = [
                s("spc_point")?,
                s("spc_variation")?,
                s("spc_assurance")?,
                s("funnel_position")?,
                s("funnel_side")?,
            ];
            let z = column(&b, "funnel_z", &path)?.as_primitive::<Float64Type>();
            for i in 0..b.num_rows() {
                let key = [
                    strings.get(ind.value(i)),
                    strings.get(kind.value(i)),
                    strings.get(code.value(i)),
                    strings.get(grain.value(i)),
                    strings.get(period.value(i)),
                ];
                let Some(&p) = position.get(&key) else { continue };
                // Never a signal beside a suppressed value (the engine writes none; a folder
                // written otherwise is not trusted to).
                if values[p as usize].suppressed {
                    continue;
                }
                let mut t = texts
                    .iter()
                    .map(|c| (!c.is_null(i)).then(|| strings.get(c.value(i))));
                let v = &mut values[p as usize];
                v.spc_point = t.next().flatten();
                v.spc_variation = t.next().flatten();
                v.spc_assurance = t.next().flatten();
                v.funnel_position = t.next().flatten();
                v.funnel_side = t.next().flatten();
                v.funnel_z = (!z.is_null(i)).then(|| z.value(i));
            }
        }
        drop(position);
        let mut by_entity: HashMap<_, Vec<u32>> = HashMap::new();
        let mut by_section: HashMap<_, Vec<u32>> = HashMap::new();
        for (i, v) in values.iter().enumerate() {
            by_entity
                .entry((
                    v.indicator_id.clone(),
                    v.entity_kind.clone(),
                    v.entity_code.clone(),
                ))
                .or_default()
                .push(i as u32);
            by_section
                .entry((
                    v.indicator_id.clone(),
                    v.grain.clone(),
                    v.period.clone(),
                    v.entity_kind.clone(),
                ))
                .or_default()
                .push(i as u32);
        }
        for rows in by_entity.values_mut() {
            rows.sort_by(|&a, &b| {
                let (a, b) = (&values[a as usize], &values[b as usize]);
                (a.grain.as_ref(), policy::period_order(&a.period))
                    .cmp(&(b.grain.as_ref(), policy::period_order(&b.period)))
            });
        }
        Ok(Results {
            manifest: Some(manifest),
            regions,
            systems,
            organisations,
            indicators,
            values,
            by_entity,
            by_section,
            assessments,
            coverage,
            regime: Some(regime),
            capacity,
            capacity_baseline,
            programme,
            evaluation,
        })
    }

    pub fn system(&self, code: &str) -> Option<&System> {
        self.systems.iter().find(|s| s.code == code)
    }

    pub fn organisation(&self, code: &str) -> Option<&Organisation> {
        self.organisations.iter().find(|o| o.code == code)
    }

    pub fn indicator(&self, id: &str) -> Option<&IndicatorMeta> {
        self.indicators.iter().find(|i| i.id == id)
    }

    /// One entity's values of an indicator (every grain, in period order).
    pub fn series(&self, indicator: &str, kind: &str, code: &str) -> impl Iterator<Item = &Value> {
        self.by_entity
            .get(&(Arc::from(indicator), Arc::from(kind), Arc::from(code)))
            .into_iter()
            .flatten()
            .map(|&i| &self.values[i as usize])
    }

    /// Every entity of `kind` for one indicator, grain and period.
    pub fn section(
        &self,
        indicator: &str,
        grain: &str,
        period: &str,
        kind: &str,
    ) -> impl Iterator<Item = &Value> {
        self.by_section
            .get(&(
                Arc::from(indicator),
                Arc::from(grain),
                Arc::from(period),
                Arc::from(kind),
            ))
            .into_iter()
            .flatten()
            .map(|&i| &self.values[i as usize])
    }

    /// The assessment of an entity by a pack.
    pub fn assessment(&self, pack: &str, code: &str) -> Option<&policy::assess::Assessment> {
        self.assessments.get(pack)?.iter().find(|a| a.entity_code == code)
    }

    /// A system's members shown as its members: trusts, commissioners and other providers
    /// (not practices, networks or councils).
    pub fn members<'a>(&'a self, system: &'a str) -> impl Iterator<Item = &'a Organisation> {
        self.organisations.iter().filter(move |o| {
            o.system_code.as_deref() == Some(system)
                && !matches!(o.kind.as_str(), "gp_practice" | "pcn" | "local_authority")
        })
    }

    /// An organisation's segment and the pack that gave it (the first pack that segments it).
    pub fn segment(&self, code: &str) -> Option<(u32, &'static str)> {
        PACKS
            .iter()
            .find_map(|p| self.assessment(p, code).and_then(|a| a.segment.map(|x| (x, *p))))
    }

    /// A system's category from the system pack.
    pub fn category(&self, system: &str) -> Option<&str> {
        self.assessment("system-2015", system)?.category.as_deref()
    }
}
