//! The indicator engine: whole-health-economy indicators for every organisation, system,
//! region and England, for every period, computed as DataFusion plans over a dataset.
//!
//! This is the only crate that imports DataFusion. Indicator definitions are data
//! (`catalogue`); each becomes SQL over the dataset's tables for its attribution paths
//! (`plan`), reducing them to sums by unit and base period (and age–sex cell); `rollup` adds
//! those up to every entity and output period by the rules of the maps (`maps`), and one more
//! query publishes values with the stats crate's confidence intervals as SQL functions
//! (`udf`). Every query over the activity is a plan over registered tables, so the same
//! plans run on an Apache Ballista cluster (`Place::Cluster`, the `cluster` module behind the
//! `distributed` feature): there the activity's queries go to the executors and the small
//! tables of sums come back for the roll-up and publication here.

pub mod audit;
pub mod catalogue;
#[cfg(feature = "distributed")]
pub mod cluster;
pub mod disclosure;
pub mod external;
mod maps;
pub mod mart;
pub mod output;
mod plan;
mod rollup;
pub mod signals;
pub mod udf;

pub use catalogue::{Catalogue, Indicator};
pub use maps::{ENGLAND, entity_links, entity_map, members, rolling_label};

use arrow::array::{Array, AsArray, BooleanArray, RecordBatch};
use arrow::datatypes::{DataType, Field, Float64Type, Schema, SchemaRef};
use catalogue::Grain;
use datafusion::datasource::MemTable;
use datafusion::prelude::{SessionConfig, SessionContext};
use dataset::{Dataset, Form};
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{indicator}: needs table {table}, which the dataset does not have")]
    Missing { indicator: String, table: String },
    #[error("{indicator}: {message}")]
    Plan { indicator: String, message: String },
    #[error("{indicator}: query failed: {source}")]
    Query {
        indicator: String,
        #[source]
        source: datafusion::error::DataFusionError,
    },
    #[error("reading table {table}: {message}")]
    Read { table: String, message: String },
    #[error("{0}")]
    Runtime(String),
}

impl Error {
    /// Whether the indicator was skipped for want of an input table (not a failure).
    pub fn is_missing_input(&self) -> bool {
        matches!(self, Error::Missing { .. })
    }
}

/// The tidy output schema.
pub fn output_schema() -> SchemaRef {
    let f = |n: &str, t: DataType, null: bool| Field::new(n, t, null);
    Arc::new(Schema::new(vec![
        f("indicator_id", DataType::Utf8, false),
        f("entity_kind", DataType::Utf8, false),
        f("entity_code", DataType::Utf8, false),
        f("level", DataType::Utf8, false),
        f("grain", DataType::Utf8, false),
        f("period", DataType::Utf8, false),
        f("numerator", DataType::Float64, true),
        f("denominator", DataType::Float64, true),
        f("value", DataType::Float64, true),
        f("lower_95", DataType::Float64, true),
        f("upper_95", DataType::Float64, true),
        f("lower_998", DataType::Float64, true),
        f("upper_998", DataType::Float64, true),
    ]))
}

/// Where queries over a dataset's tables run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Place {
    /// In this process (the default).
    #[default]
    Embedded,
    /// On an Apache Ballista cluster: the scheduler's `df://HOST:PORT`. Needs the
    /// `distributed` feature.
    Cluster(String),
}

impl std::str::FromStr for Place {
    type Err = String;

    /// `embedded`, or a scheduler's `df://HOST:PORT`.
    fn from_str(s: &str) -> Result<Place, String> {
        if s == "embedded" {
            return Ok(Place::Embedded);
        }
        let Some(rest) = s.strip_prefix("df://") else {
            return Err(format!(
                "{s:?}: expected `embedded` or a Ballista scheduler's df://HOST:PORT"
            ));
        };
        match rest.rsplit_once(':') {
            Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0) => {
                Ok(Place::Cluster(s.to_string()))
            }
            _ => Err(format!(
                "{s:?}: expected df://HOST:PORT, with a port from 1 to 65535"
            )),
        }
    }
}

/// The words of a derived table's SQL (runs of letters, digits and `_`): the names of the
/// tables it may read among them.
fn sql_words(sql: &str) -> impl Iterator<Item = &str> {
    sql.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
}

/// How many times one reduction of `ind` reads its derived table `name`: once for each later
/// derived table whose SQL names it, and once for its measures (one scan when the numerator
/// and denominator are the same rows, `plan::aggregate`; counted twice otherwise).
fn readers(ind: &Indicator, name: &str) -> usize {
    let later = ind
        .derived
        .iter()
        .skip_while(|d| d.name != name)
        .skip(1)
        .filter(|d| sql_words(&d.sql).any(|w| w == name))
        .count();
    let measures = [Some(&ind.numerator), ind.denominator.as_ref()]
        .into_iter()
        .flatten()
        .filter(|m| m.table == name)
        .count();
    later
        + if plan::same_rows(ind) {
            measures.min(1)
        } else {
            measures
        }
}

/// A session with a dataset's tables registered.
pub struct Engine {
    /// Where roll-ups and publication run: the small in-memory tables of sums and maps.
    ctx: SessionContext,
    /// Where queries over the dataset's tables run: `ctx` itself when embedded, a Ballista
    /// cluster's session when connected (`Place::Cluster`).
    exec: SessionContext,
    /// On a cluster (and only there): the tables it reads that are not Parquet files of the
    /// dataset, removed when the engine is dropped.
    staging: Option<Staging>,
    schemas: plan::Schemas,
    /// The dataset's patients mart, when it matches the patients table and queries run here
    /// (its `fp_patient_*` functions are registered).
    patients: Option<Arc<mart::Mart>>,
    runtime: Arc<tokio::runtime::Runtime>,
    maps: rollup::Maps,
    from: model::Month,
    to: model::Month,
    /// Numbers the in-memory tables of paths' roll-ups, so indicators computed at the same
    /// time never share a table name.
    tables: std::sync::atomic::AtomicUsize,
}

/// Rows read above which an indicator runs beside no other such indicator
/// (`Engine::compute_many`): the registered-population indicators at scale 1 read about 90
/// million, and at scale 0.002 the costliest reads 5 million.
const BIG: u64 = 1 << 24;

/// One indicator's rows (or why not) and the seconds it took.
pub type Outcome = (Result<Vec<RecordBatch>, Error>, f64);

/// What `Engine::compute_many`'s workers share: the indicators not yet started, in the
/// order to start them, and what runs.
struct Schedule {
    pending: Vec<usize>,
    /// An indicator reading more than `BIG` rows runs.
    big: bool,
    /// An indicator with `[[derived]]` tables runs.
    derived: bool,
    failed: bool,
    /// Per group, its members computed so far.
    done: Vec<Vec<(usize, Outcome)>>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("tables", &self.schemas.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// Registers every table of the dataset. Parquet tables whose stored types are the
    /// canonical ones (or integer identifiers) are read in place; CSV tables, and Parquet
    /// tables stored in other types, are read once through the dataset's canonical scan.
    pub fn new(ds: &Dataset) -> Result<Engine, Error> {
        Engine::open(ds, &Place::Embedded)
    }

    /// Registers every table of the dataset where `place` says queries over them run. On a
    /// cluster the dataset must be at a path the scheduler and every executor can read:
    /// executors read its Parquet files themselves, and the tables not read in place (CSV,
    /// Parquet in other types, the maps) are written as Parquet under the dataset's
    /// `.footprint/cluster/` for the engine's lifetime.
    pub fn open(ds: &Dataset, place: &Place) -> Result<Engine, Error> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Runtime(format!("cannot start the query runtime: {e}")))?;
        let mut config = SessionConfig::new()
            .with_information_schema(false)
            .with_target_partitions(std::thread::available_parallelism().map_or(2, |n| n.get()));
        // Hash joins whose smaller side fits in 1 GiB (32 million rows) build one table and
        // stream the larger side through it where it is read, instead of hash-partitioning
        // both sides: the registered-population joins probe 69 million patients, and
        // repartitioning them cost more than the join (measured with EXPLAIN ANALYZE at
        // scale 1: admissions ⋈ patients 6.3 s → 3.1 s).
        let optimizer = &mut config.options_mut().optimizer;
        optimizer.hash_join_single_partition_threshold = 1 << 30;
        optimizer.hash_join_single_partition_threshold_rows = 1 << 25;
        // A join on one integer key looks its keys up in an array over their range (a
        // "perfect hash join") when at least 1 in 20 of the range is present, not DataFusion's
        // 1 in 7: emergency admissions in a year are 11% of the patient ids they join, and
        // probing 69 million patients through a hash table took 1.9 s against 0.24 s through
        // the array (scale 1, EXPLAIN ANALYZE). The array costs 4 bytes per key in the range,
        // at most 80 bytes per row at this density.
        config.options_mut().execution.perfect_hash_join_min_key_density = 0.05;
        // Parquet text as plain strings, not string views: a join's output taken from views
        // over thousands of decoded buffers cost more than the copy (readmission spells at
        // scale 1: 15–22 s against 8–12 s, and 1 GiB more memory).
        config.options_mut().execution.parquet.schema_force_view_types = false;
        let ctx = SessionContext::new_with_config(config.clone());
        udf::register(&ctx);
        let (exec, remote) = match place {
            Place::Embedded => (ctx.clone(), false),
            #[cfg(feature = "distributed")]
            Place::Cluster(url) => (runtime.block_on(cluster::connect(url, config))?, true),
            #[cfg(not(feature = "distributed"))]
            Place::Cluster(url) => {
                return Err(Error::Runtime(format!(
                    "--engine {url}: this build has no distributed engine; build footprint \
                     with `--features distributed` to run on a Ballista cluster"
                )));
            }
        };
        let staging = remote.then(|| Staging::new(&ds.root)).transpose()?;
        let patients = if remote { None } else { mart::Mart::open(ds) };
        if let Some(m) = &patients {
            m.register(&ctx);
        }
        let mut schemas = BTreeMap::new();
        for table in ds.tables_in_order() {
            let name = table.spec.name;
            let read = |message: String| Error::Read {
                table: name.to_string(),
                message,
            };
            let in_place =
                table.source.form != Form::Csv && parquet_is_canonical(table.spec, &table.source.files[0]);
            if in_place {
                let path = if table.source.form == Form::Parts {
                    ds.root.join(name)
                } else {
                    table.source.files[0].clone()
                };
                // Absolute, so a cluster's executors find the same files.
                let path = std::path::absolute(&path).unwrap_or(path);
                let mut path = path.display().to_string();
                if table.source.form == Form::Parts {
                    path.push('/');
                }
                query::register_parquet(&runtime, &exec, name, &path).map_err(|e| read(e.to_string()))?;
            } else {
                let batches = ds
                    .scan(name)
                    .map_err(|r| read(format!("{} problems", r.error_count)))?;
                if let Some(staging) = &staging {
                    // A cluster's executors cannot read this process's memory: the table
                    // goes to them as Parquet in its canonical types.
                    let schema = batches
                        .first()
                        .map_or_else(|| table.spec.schema(), |b| b.schema());
                    let path = staging.write(name, &schema, &batches).map_err(read)?;
                    query::register_parquet(&runtime, &exec, name, &path).map_err(|e| read(e.to_string()))?;
                } else {
                    let schema = batches
                        .first()
                        .map_or_else(|| Arc::new(Schema::empty()), |b| b.schema());
                    let mem = MemTable::try_new(schema, vec![batches]).map_err(|e| read(e.to_string()))?;
                    exec.register_table(name, Arc::new(mem))
                        .map_err(|e| read(e.to_string()))?;
                }
            }
            let schema = query::table_schema(&runtime, &exec, name).map_err(|e| read(e.to_string()))?;
            schemas.insert(name.to_string(), schema);
        }
        let entity = maps::entity_map(ds);
        let period = maps::period_map(ds.manifest.from, ds.manifest.to);
        let days = maps::period_days(ds.manifest.from, ds.manifest.to);
        for (name, batch) in [
            ("entity_map", entity),
            ("period_map", period),
            ("period_days", days),
            ("esp2013", maps::esp2013()),
        ] {
            if let Some(staging) = &staging {
                // Derived SQL may read the maps.
                let path = staging
                    .write(name, &batch.schema(), std::slice::from_ref(&batch))
                    .map_err(Error::Runtime)?;
                query::register_parquet(&runtime, &exec, name, &path)
                    .map_err(|e| Error::Runtime(e.to_string()))?;
            }
            let mem = MemTable::try_new(batch.schema(), vec![vec![batch]])
                .map_err(|e| Error::Runtime(e.to_string()))?;
            ctx.register_table(name, Arc::new(mem))
                .map_err(|e| Error::Runtime(e.to_string()))?;
        }
        Ok(Engine {
            ctx,
            exec,
            staging,
            schemas,
            patients,
            runtime: Arc::new(runtime),
            maps: rollup::Maps::new(ds),
            from: ds.manifest.from,
            to: ds.manifest.to,
            tables: std::sync::atomic::AtomicUsize::new(0),
        })
    }

    /// Replaces the placeholders of derived SQL: `${window_start}` and `${window_end}` (the
    /// dataset's first and last days), `${window_end_month}` (a `YYYY-MM` string), and
    /// `${period_start}` and `${period_end}`, the first and last days of the months the
    /// run's output periods are made from (the window's, unless `needed` narrows it).
    fn substitute(&self, sql: &str, needed: Option<&maps::Needed>) -> String {
        let date = |days: i32| format!("DATE '{}'", model::format_date(days));
        let (first, last) = match needed {
            None => (self.from, self.to),
            Some(n) => n.months.unwrap_or((self.to.succ(), self.to)),
        };
        sql.replace("${window_start}", &date(self.from.first_day()))
            .replace("${window_end_month}", &format!("'{}'", self.to))
            .replace("${window_end}", &date(self.to.last_day()))
            .replace("${period_start}", &date(first.first_day()))
            .replace("${period_end}", &date(last.last_day()))
    }

    /// The DataFusion session queries over the dataset's tables run in: the embedded one, or
    /// a Ballista cluster's (`Place::Cluster`).
    pub fn session(&self) -> &SessionContext {
        &self.exec
    }

    /// Runs one SQL query over the dataset's tables and collects the result.
    pub fn query(&self, sql: &str) -> Result<Vec<RecordBatch>, Error> {
        let run = |source| Error::Query {
            indicator: "(query)".into(),
            source,
        };
        query::sql_collect(&self.runtime, &self.exec, sql).map_err(run)
    }

    /// Runs one SQL query and hands each result batch to `each` as it comes, without holding
    /// the whole result: for reading tens of millions of rows into a compact structure.
    pub fn for_each_batch(&self, sql: &str, mut each: impl FnMut(&RecordBatch)) -> Result<(), Error> {
        let run = |source| Error::Query {
            indicator: "(query)".into(),
            source,
        };
        let df = query::sql(&self.runtime, &self.exec, sql).map_err(run)?;
        query::for_each_batch(&self.runtime, df, &mut each).map_err(run)
    }

    /// Whether rows' patients are looked up in the dataset's patients mart (`mart`) rather
    /// than joined.
    pub fn looks_patients_up(&self) -> bool {
        self.patients.is_some()
    }

    /// Whether the dataset has a table.
    pub fn has_table(&self, name: &str) -> bool {
        self.schemas.contains_key(name)
    }

    /// Computes one indicator at the given grains (its own grains if empty), every path and
    /// level it declares. Rows come sorted by grain, period, entity kind and code.
    pub fn compute(&self, ind: &Indicator, grains: &[Grain]) -> Result<Vec<RecordBatch>, Error> {
        let grains: Vec<Grain> = if grains.is_empty() {
            ind.grains.clone()
        } else {
            ind.grains
                .iter()
                .copied()
                .filter(|g| grains.contains(g))
                .collect()
        };
        if grains.is_empty() {
            return Ok(Vec::new());
        }
        // Only the base periods the grains' output periods are made from are read.
        // (None when they need them all; no base at all when no output period of these
        // grains fits in the window, and then every reduction is empty.)
        let needed = maps::Needed::of(self.from, self.to, &grains);
        let needed = needed.as_ref();
        let query = |source| Error::Query {
            indicator: ind.id.clone(),
            source,
        };
        let mut schemas = self.schemas.clone();
        // A derived table needs the contract tables its SQL names.
        for d in &ind.derived {
            for w in sql_words(&d.sql) {
                if dataset::schema::TABLES.iter().any(|t| t.name == w) && !schemas.contains_key(w) {
                    return Err(Error::Missing {
                        indicator: ind.id.clone(),
                        table: w.to_string(),
                    });
                }
            }
        }
        // A plain indicator is reduced in one query for all its paths (`plan::aggregate`),
        // unless a path reaches practices through `patients` and another does not: that
        // join would have to be a LEFT JOIN carrying the other paths' codes through a
        // 69-million-row probe (measured at scale 1: 26 s, against 11 s for a query per
        // path). Then, and for standardised indicators, one query per path. Derived tables
        // read by one query are views, planned into it: nothing is materialised, and the
        // optimiser can push the query's projection and joins into them. Read by several,
        // they are computed once and kept in memory, as a view would repeat their joins for
        // each.
        let mut temps = Vec::new();
        let mut derived = Vec::new();
        let result = (|| {
            // Each derived table as a view first: its schema decides the plans, and later
            // derived tables may read it.
            for d in &ind.derived {
                let view =
                    query::sql(&self.runtime, &self.exec, &self.substitute(&d.sql, needed)).map_err(query)?;
                schemas.insert(d.name.clone(), view.schema().inner().clone());
                self.exec
                    .register_table(d.name.as_str(), view.into_view())
                    .map_err(query)?;
                derived.push(d.name.clone());
            }
            let plans: Vec<Vec<usize>> = if plan::one_query(ind, &schemas, self.patients.is_some()) {
                vec![(0..ind.attribution.len()).collect()]
            } else {
                (0..ind.attribution.len()).map(|i| vec![i]).collect()
            };
            // On a cluster they stay views: executors cannot read the client's memory.
            let remote = self.staging.is_some();
            let materialised =
                !remote && (plans.len() > 1 || ind.derived.iter().any(|d| readers(ind, &d.name) > 1));
            for d in ind.derived.iter().filter(|_| materialised) {
                let _ = self.exec.deregister_table(d.name.as_str());
                let schema = self.materialise(&d.name, &self.substitute(&d.sql, needed), &query)?;
                schemas.insert(d.name.clone(), schema);
            }
            // A derived table only later derived tables read is not kept once they are made
            // (readmissions' candidate spells: the index spells are made from them in memory,
            // which saves reading the admissions again, and then they are freed).
            let measured = |name: &str| {
                [Some(&ind.numerator), ind.denominator.as_ref()]
                    .into_iter()
                    .flatten()
                    .any(|m| m.table == name)
            };
            for d in ind.derived.iter().filter(|d| materialised && !measured(&d.name)) {
                let _ = self.exec.deregister_table(d.name.as_str());
            }
            let scope = plan::Scope {
                needed,
                base: maps::Base::of(&grains),
                window: (self.from, self.to),
                patients: self.patients.is_some(),
            };
            let mut parts = Vec::new();
            for members in &plans {
                let paths: Vec<catalogue::Path> = members.iter().map(|&i| ind.attribution[i].path).collect();
                let plan = plan::aggregate(ind, &paths, &schemas, scope)?;
                let started = std::time::Instant::now();
                let sums = query::sql_collect(&self.runtime, &self.exec, &plan.sql).map_err(query)?;
                let reduced = started.elapsed().as_secs_f64();
                tracing::debug!(
                    indicator = %ind.id,
                    paths = ?paths.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
                    rows = sums.iter().map(RecordBatch::num_rows).sum::<usize>(),
                    reduced,
                    sql = %plan.sql,
                    "reduced"
                );
                for (&i, unit) in members.iter().zip(&plan.units) {
                    let a = &ind.attribution[i];
                    let started = std::time::Instant::now();
                    let sums = if plan.units.len() > 1 {
                        rollup::one_path(&sums, unit).map_err(|e| query(e.into()))?
                    } else {
                        sums.clone()
                    };
                    let rolled = match plan.rollup {
                        plan::Rollup::Plain => rollup::plain,
                        plan::Rollup::Indirect => rollup::indirect,
                        plan::Rollup::Direct => rollup::direct,
                    }(&self.maps, a.path, &a.levels, &grains, &sums)?;
                    tracing::debug!(
                        indicator = %ind.id,
                        path = a.path.as_str(),
                        rolled_up = started.elapsed().as_secs_f64(),
                        "rolled up"
                    );
                    let name = format!(
                        "fp_path_{}",
                        self.tables.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                    );
                    let table = MemTable::try_new(rolled.schema(), vec![vec![rolled]]).map_err(query)?;
                    self.ctx
                        .register_table(name.as_str(), Arc::new(table))
                        .map_err(query)?;
                    temps.push(name.clone());
                    parts.push(format!("SELECT * FROM {name}"));
                }
            }
            let sql = format!(
                "{} ORDER BY grain, period, entity_kind, entity_code, level",
                plan::publish(
                    ind,
                    &parts
                        .iter()
                        .enumerate()
                        .map(|(i, p)| format!("SELECT * FROM ({p}) path{i}"))
                        .collect::<Vec<_>>()
                        .join(" UNION ALL ")
                )
            );
            tracing::debug!(indicator = %ind.id, %sql, "plan");
            query::sql_collect(&self.runtime, &self.ctx, &sql).map_err(query)
        })();
        for name in temps {
            let _ = self.ctx.deregister_table(name.as_str());
        }
        for name in derived {
            let _ = self.exec.deregister_table(name.as_str());
        }
        result
    }

    /// Computes several indicators (`compute` at `grains` for each), as many at a time as
    /// there are cores, and hands each group of them (`groups`, indices into `indicators`
    /// that together cover it) to `finish` as soon as its last member is computed, on the
    /// worker that computed it: a group's disclosure control and signals run while other
    /// indicators are still being computed. Returns `finish`'s result per group.
    ///
    /// On a small dataset each indicator's cost is mostly fixed and serial (planning, the
    /// roll-up in Rust, every practice × month), so one at a time left a core idle: at scale
    /// 0.002 the catalogue took 3.4 s one at a time and 2.9 s two at a time. The costliest
    /// start first (`cost`), so the last to finish is a small one. Two rules keep it safe:
    ///
    /// - at most one indicator that reads more than `BIG` rows runs at a time, since each
    ///   fills the cores by itself and holds its own hash tables: two at once at scale 1 took
    ///   3.5 GiB at peak against 2.4 GiB one at a time;
    /// - at most one with `[[derived]]` tables, which are registered under the names its SQL
    ///   gives them, and another indicator may use the same names.
    ///
    /// Every indicator must be in one group: an indicator in none is computed and its
    /// outcome dropped. `progress` is called, on this thread, with each indicator's id as it
    /// starts. After a failure (other than a missing input table, which `finish` sees as
    /// such; a panic in an indicator's computation is a failure) no further indicator
    /// starts, and the groups not finished are `None`. On a cluster indicators go one at a
    /// time.
    pub fn compute_many<T: Send>(
        &self,
        ds: &Dataset,
        indicators: &[&Indicator],
        grains: &[Grain],
        groups: &[Vec<usize>],
        finish: &(dyn Fn(Vec<(usize, Outcome)>) -> T + Sync),
        progress: &dyn Fn(&str),
    ) -> Vec<Option<T>> {
        let workers = if self.staging.is_some() {
            1
        } else {
            std::thread::available_parallelism().map_or(2, |n| n.get())
        }
        .clamp(1, indicators.len().max(1));
        let costs: Vec<u64> = indicators.iter().map(|ind| cost(ds, ind)).collect();
        let mut order: Vec<usize> = (0..indicators.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(costs[i]));
        tracing::debug!(
            workers,
            order = ?order.iter().map(|&i| (&indicators[i].id, costs[i])).collect::<Vec<_>>(),
            "indicators"
        );
        let mut group_of = vec![usize::MAX; indicators.len()];
        for (g, members) in groups.iter().enumerate() {
            for &i in members {
                group_of[i] = g;
            }
        }
        let big = |i: usize| costs[i] > BIG;
        let derived = |i: usize| !indicators[i].derived.is_empty();
        let state = std::sync::Mutex::new(Schedule {
            pending: order,
            big: false,
            derived: false,
            failed: false,
            done: groups.iter().map(|_| Vec::new()).collect(),
        });
        let changed = std::sync::Condvar::new();
        let mut results: Vec<Option<T>> = groups.iter().map(|_| None).collect();
        enum Event<T> {
            Started(usize),
            Finished(usize, T),
        }
        std::thread::scope(|scope| {
            let (tx, rx) = std::sync::mpsc::channel();
            for _ in 0..workers {
                let tx = tx.clone();
                let (state, changed, big, derived, group_of) = (&state, &changed, &big, &derived, &group_of);
                scope.spawn(move || {
                    let lock = || state.lock().unwrap_or_else(|p| p.into_inner());
                    loop {
                        // The first pending indicator the rules let start; none may, only
                        // while another runs, which will wake this one when it ends.
                        let i = {
                            let mut s = lock();
                            loop {
                                if s.failed || s.pending.is_empty() {
                                    return;
                                }
                                let free = |&&i: &&usize| !(s.big && big(i) || s.derived && derived(i));
                                if let Some(at) = s.pending.iter().position(|i| free(&i)) {
                                    let i = s.pending.remove(at);
                                    s.big |= big(i);
                                    s.derived |= derived(i);
                                    break i;
                                }
                                s = changed.wait(s).unwrap_or_else(|p| p.into_inner());
                            }
                        };
                        let _ = tx.send(Event::Started(i));
                        let started = std::time::Instant::now();
                        // A panic in one indicator's computation is its error, not the
                        // run's: the other worker may be waiting for this one to finish.
                        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            self.compute(indicators[i], grains)
                        }))
                        .unwrap_or_else(|panic| {
                            let why = panic
                                .downcast_ref::<&str>()
                                .map(|s| s.to_string())
                                .or_else(|| panic.downcast_ref::<String>().cloned())
                                .unwrap_or_default();
                            Err(Error::Runtime(format!("{}: failed: {why}", indicators[i].id)))
                        });
                        let seconds = started.elapsed().as_secs_f64();
                        let g = group_of[i];
                        let complete = {
                            let mut s = lock();
                            s.big &= !big(i);
                            s.derived &= !derived(i);
                            s.failed |= result.as_ref().is_err_and(|e| !e.is_missing_input());
                            match s.done.get_mut(g) {
                                Some(done) => {
                                    done.push((i, (result, seconds)));
                                    (done.len() == groups[g].len()).then(|| std::mem::take(done))
                                }
                                None => None,
                            }
                        };
                        changed.notify_all();
                        if let Some(mut done) = complete {
                            done.sort_by_key(|(i, _)| *i);
                            let _ = tx.send(Event::Finished(g, finish(done)));
                        }
                    }
                });
            }
            drop(tx);
            for event in rx {
                match event {
                    Event::Started(i) => progress(&indicators[i].id),
                    Event::Finished(g, t) => results[g] = Some(t),
                }
            }
        });
        results
    }

    /// Runs `sql` and registers its result as the in-memory table `name`, spread over one
    /// partition per core; returns its schema.
    fn materialise(
        &self,
        name: &str,
        sql: &str,
        query: &dyn Fn(datafusion::error::DataFusionError) -> Error,
    ) -> Result<SchemaRef, Error> {
        let started = std::time::Instant::now();
        let view = query::sql(&self.runtime, &self.exec, sql).map_err(query)?;
        let planned = view.schema().inner().clone();
        let batches = query::collect(&self.runtime, view).map_err(query)?;
        // The batches' own schema: it may differ from the plan's in nullability.
        let schema = batches.first().map_or(planned, |b| b.schema());
        let n = std::thread::available_parallelism().map_or(2, |n| n.get());
        let mut partitions = vec![Vec::new(); n];
        for (i, b) in batches.into_iter().enumerate() {
            partitions[i % n].push(b);
        }
        let table = MemTable::try_new(schema.clone(), partitions).map_err(query)?;
        self.exec.register_table(name, Arc::new(table)).map_err(query)?;
        tracing::debug!(table = name, seconds = started.elapsed().as_secs_f64(), %sql, "materialised");
        Ok(schema)
    }
}

/// How much an indicator reads, to start the costliest first: the rows of every dataset
/// table it names (its measures' tables, those its derived SQL reads, and `patients` when a
/// path reaches practices through them), doubled when it is standardised by age and sex (its
/// sums are kept by cell, and its roll-up weighs every cell).
fn cost(ds: &Dataset, ind: &Indicator) -> u64 {
    let mut names: Vec<&str> = [Some(&ind.numerator), ind.denominator.as_ref()]
        .into_iter()
        .flatten()
        .map(|m| m.table.as_str())
        .collect();
    for d in &ind.derived {
        names.extend(sql_words(&d.sql));
    }
    if ind
        .attribution
        .iter()
        .any(|a| a.path == catalogue::Path::Registered)
    {
        names.push("patients");
    }
    let rows: u64 = ds
        .tables_in_order()
        .filter(|t| names.contains(&t.spec.name))
        .map(|t| t.tally.rows)
        .sum();
    if ind.standardisation == catalogue::Standardisation::None {
        rows
    } else {
        rows.saturating_mul(2)
    }
}

/// A folder of Parquet files for a cluster's executors to read: the dataset's tables that
/// are not read in place (CSV, or Parquet in other types) and the engine's maps, in their
/// canonical types. It is inside the dataset's folder (`.footprint/cluster/`), which the
/// executors can already read, in a subfolder of its own per engine, so engines on the same
/// dataset do not share files; it is removed when the engine is dropped.
#[derive(Debug)]
struct Staging(std::path::PathBuf);

impl Staging {
    fn new(root: &std::path::Path) -> Result<Staging, Error> {
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir = std::path::absolute(root.join(".footprint/cluster"))
            .map_err(|e| Error::Runtime(e.to_string()))?
            .join(format!("{}-{stamp}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| {
            Error::Runtime(format!(
                "cannot create {} for the cluster's executors to read: {e}",
                dir.display()
            ))
        })?;
        Ok(Staging(dir))
    }

    /// Writes a table and returns the path to register.
    fn write(&self, name: &str, schema: &SchemaRef, batches: &[RecordBatch]) -> Result<String, String> {
        let path = self.0.join(format!("{name}.parquet"));
        let fail = |e: &dyn std::fmt::Display| format!("writing {}: {e}", path.display());
        let file = std::fs::File::create(&path).map_err(|e| fail(&e))?;
        let mut writer =
            parquet::arrow::ArrowWriter::try_new(file, schema.clone(), None).map_err(|e| fail(&e))?;
        for b in batches {
            writer.write(b).map_err(|e| fail(&e))?;
        }
        writer.close().map_err(|e| fail(&e))?;
        Ok(path.display().to_string())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Whether every contract column of a Parquet file is stored in its canonical type (or,
/// for identifiers and codes, as a 64-bit integer), so DataFusion can read it in place.
fn parquet_is_canonical(spec: &dataset::schema::TableSpec, file: &std::path::Path) -> bool {
    let Ok(f) = std::fs::File::open(file) else {
        return false;
    };
    let Ok(builder) = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(f) else {
        return false;
    };
    let stored = builder.schema();
    spec.columns.iter().all(|c| match stored.field_with_name(c.name) {
        Ok(field) => {
            let canonical = c.ty.data_type();
            let identifier = matches!(
                c.ty,
                dataset::schema::ColType::Id | dataset::schema::ColType::Code(_)
            );
            field.data_type() == &canonical || (identifier && field.data_type() == &DataType::Int64)
        }
        Err(_) => c.presence == dataset::schema::Presence::Optional,
    })
}

/// Which counts of an indicator disclosure control looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disclosure {
    /// Numerator and denominator are counts of events or people (proportions).
    Both,
    /// The numerator counts events (rates, ratios, counts).
    Numerator,
    /// Money, beds, staff: nothing identifies a person.
    None,
}

impl Disclosure {
    pub fn of(ind: &Indicator) -> Disclosure {
        use catalogue::Unit;
        match ind.unit {
            Unit::Percent
                if ind.domain != "finance" && ind.domain != "workforce" && ind.domain != "capacity" =>
            {
                Disclosure::Both
            }
            Unit::Per1000 | Unit::Ratio100 | Unit::Count => Disclosure::Numerator,
            _ => Disclosure::None,
        }
    }
}

/// Whether each row of a computed table must be suppressed when published below national
/// level (`stats::disclosure::Policy`: counts of 1–7 are small).
pub fn suppressed(batch: &RecordBatch, rule: Disclosure) -> BooleanArray {
    let policy = stats::disclosure::Policy::default();
    let kind = batch.column(1).as_string::<i32>();
    let num = batch.column(6).as_primitive::<Float64Type>();
    let den = batch.column(7).as_primitive::<Float64Type>();
    let small = |a: &arrow::array::Float64Array, i: usize| {
        !a.is_null(i) && a.value(i) >= 0.0 && policy.is_small(a.value(i).round() as u64)
    };
    (0..batch.num_rows())
        .map(|i| {
            Some(
                kind.value(i) != "england"
                    && match rule {
                        Disclosure::Both => small(num, i) || small(den, i),
                        Disclosure::Numerator => small(num, i),
                        Disclosure::None => false,
                    },
            )
        })
        .collect()
}

/// What to compute.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Indicator ids (all when empty).
    pub indicators: Vec<String>,
    /// Grains (each indicator's own when empty).
    pub grains: Vec<Grain>,
    /// Keep only periods that overlap `from..=to` (months, inclusive).
    pub from: Option<model::Month>,
    pub to: Option<model::Month>,
    /// Where the queries over the dataset run (embedded by default).
    pub place: Place,
}

/// The result of computing a catalogue.
#[derive(Debug, Default)]
pub struct Computed {
    /// The tidy table with a `suppressed` column; suppressed values, numerators,
    /// denominators and limits are null.
    pub published: Vec<RecordBatch>,
    /// The same rows, nothing suppressed: for the analyst's own use.
    pub unsuppressed: Vec<RecordBatch>,
    /// Indicators not computed because the dataset lacks an input table: (id, reason).
    pub skipped: Vec<(String, String)>,
    /// Rows per indicator computed.
    pub rows: Vec<(String, usize)>,
    /// SPC and funnel positions of every value (`signals::schema`), from the unsuppressed
    /// values: for assessment inside the process, never for publication.
    pub signals: Vec<RecordBatch>,
    /// The same rows with every signal of a suppressed row null: a funnel z-score or an SPC
    /// point beside a hidden count, with the published denominator and the cross-section's
    /// published units, gives the count back. This is what is written and served.
    pub published_signals: Vec<RecordBatch>,
}

/// The tidy schema with `suppressed`.
pub fn published_schema() -> SchemaRef {
    let mut fields: Vec<Field> = output_schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    fields.push(Field::new("suppressed", DataType::Boolean, false));
    Arc::new(Schema::new(fields))
}

fn overlaps(period: &str, from: Option<model::Month>, to: Option<model::Month>) -> bool {
    let (first, last) = match period.parse::<model::Period>() {
        Ok(p) => (p.first_month(), p.last_month()),
        Err(_) => match period
            .split_once(" to ")
            .map(|(a, b)| (a.parse::<model::Month>(), b.parse::<model::Month>()))
        {
            Some((Ok(a), Ok(b))) => (a, b),
            _ => return true,
        },
    };
    from.is_none_or(|f| last >= f) && to.is_none_or(|t| first <= t)
}

/// Computes the catalogue's indicators over a dataset, applying disclosure control.
pub fn compute(
    ds: &Dataset,
    catalogue: &Catalogue,
    options: &Options,
    progress: &dyn Fn(&str),
) -> Result<Computed, Error> {
    for id in &options.indicators {
        if catalogue.get(id).is_none() {
            return Err(Error::Plan {
                indicator: id.clone(),
                message: "not in the catalogue (see `footprint indicators list`)".into(),
            });
        }
    }
    let engine = Engine::open(ds, &options.place)?;
    let wanted: Vec<&Indicator> = catalogue
        .indicators
        .iter()
        .filter(|ind| options.indicators.is_empty() || options.indicators.contains(&ind.id))
        .collect();
    // Disclosure control looks across indicators that count the same (a family), so each
    // family is published once all its members are computed; families and their signals are
    // independent, so each is finished while other indicators are still computed.
    let families = disclosure::families(&wanted);
    let nesting = std::sync::OnceLock::new();
    let nesting = || {
        nesting.get_or_init(|| {
            let started = std::time::Instant::now();
            let n = disclosure::Nesting::new(ds);
            tracing::debug!(seconds = started.elapsed().as_secs_f64(), "how entities nest");
            n
        })
    };
    let finish = |done: Vec<(usize, Outcome)>| finish_family(&wanted, done, options, &nesting);
    let finished = engine.compute_many(ds, &wanted, &options.grains, &families, &finish, progress);
    let mut each: Vec<Option<Finished>> = (0..wanted.len()).map(|_| None).collect();
    // The first failure in catalogue order, whichever finished first.
    let mut failure: Option<(usize, Error)> = None;
    for family in finished.into_iter().flatten() {
        match family {
            Ok(members) => {
                for (i, f) in members {
                    each[i] = Some(f);
                }
            }
            Err((i, e)) => {
                if failure.as_ref().is_none_or(|(j, _)| i < *j) {
                    failure = Some((i, e));
                }
            }
        }
    }
    if let Some((_, e)) = failure {
        return Err(e);
    }
    let mut out = Computed::default();
    for (ind, f) in wanted.iter().zip(each) {
        match f {
            Some(Finished::Skipped(why)) => out.skipped.push((ind.id.clone(), why)),
            Some(Finished::Published(p)) => {
                let rows: usize = p.rows.iter().map(RecordBatch::num_rows).sum();
                tracing::info!(indicator = %ind.id, rows, seconds = p.seconds, "computed");
                out.rows.push((ind.id.clone(), rows));
                out.signals.push(p.signals);
                out.published_signals.push(p.published_signals);
                out.unsuppressed.extend(p.rows);
                out.published.extend(p.published);
            }
            None => return Err(Error::Runtime(format!("{}: not computed", ind.id))),
        }
    }
    Ok(out)
}

/// One indicator once its family is finished.
enum Finished {
    /// Not computed for want of an input table: why.
    Skipped(String),
    Published(Box<Published>),
}

/// One indicator's rows, published rows and signals (`Computed`'s parts), and the seconds
/// its computation took.
struct Published {
    rows: Vec<RecordBatch>,
    published: Vec<RecordBatch>,
    signals: RecordBatch,
    published_signals: RecordBatch,
    seconds: f64,
}

/// A family's members computed (`done`, indices into `inds` in catalogue order): each
/// one's rows kept to the periods asked for, disclosure control over those computed, then
/// each one's signals. The error is the first member's that failed.
fn finish_family<'a>(
    inds: &[&Indicator],
    done: Vec<(usize, Outcome)>,
    options: &Options,
    nesting: &dyn Fn() -> &'a disclosure::Nesting,
) -> Result<Vec<(usize, Finished)>, (usize, Error)> {
    let mut finished = Vec::with_capacity(done.len());
    let mut computed: Vec<(usize, Vec<RecordBatch>, f64)> = Vec::new();
    for (i, (result, seconds)) in done {
        match result {
            Ok(batches) => computed.push((i, in_periods(batches, options).map_err(|e| (i, e))?, seconds)),
            Err(e) if e.is_missing_input() => finished.push((i, Finished::Skipped(e.to_string()))),
            Err(e) => return Err((i, e)),
        }
    }
    let started = std::time::Instant::now();
    // The family less its skipped members may fall apart: protect each part on its own,
    // as if the skipped indicators had not been asked for.
    let members: Vec<&Indicator> = computed.iter().map(|(i, _, _)| inds[*i]).collect();
    let mut published: Vec<Option<Vec<RecordBatch>>> = vec![None; computed.len()];
    for part in disclosure::families(&members) {
        let rows: Vec<Vec<RecordBatch>> = part.iter().map(|&k| computed[k].1.clone()).collect();
        let inds: Vec<&Indicator> = part.iter().map(|&k| members[k]).collect();
        let protected = disclosure::protect(&inds, &rows, nesting()).map_err(|e| (computed[part[0]].0, e))?;
        for (&k, p) in part.iter().zip(protected) {
            published[k] = Some(p);
        }
    }
    tracing::debug!(
        family = ?members.iter().map(|i| &i.id).collect::<Vec<_>>(),
        seconds = started.elapsed().as_secs_f64(),
        "disclosure control"
    );
    // Per indicator, its signals and those drawn from the published values only, side by
    // side (rayon: a large family finishes last, when the other worker may be idle).
    use rayon::prelude::*;
    let started = std::time::Instant::now();
    let drawn: Vec<Result<(usize, Finished), (usize, Error)>> = computed
        .into_par_iter()
        .zip(published)
        .zip(members)
        .map(|(((i, rows, seconds), published), ind)| {
            let published =
                published.ok_or_else(|| (i, Error::Runtime(format!("{}: not published", ind.id))))?;
            let (all, public) = rayon::join(
                || signals::signals(ind, &rows),
                || signals::published(&signals::signals(ind, &published)?, &published),
            );
            Ok((
                i,
                Finished::Published(Box::new(Published {
                    signals: all.map_err(|e| (i, e))?,
                    published_signals: public.map_err(|e| (i, e))?,
                    rows,
                    published,
                    seconds,
                })),
            ))
        })
        .collect();
    tracing::debug!(seconds = started.elapsed().as_secs_f64(), "signals");
    for d in drawn {
        finished.push(d?);
    }
    finished.sort_by_key(|(i, _)| *i);
    Ok(finished)
}

/// An indicator's rows in the periods `options` asks for (`from`, `to`), in the output
/// schema.
fn in_periods(batches: Vec<RecordBatch>, options: &Options) -> Result<Vec<RecordBatch>, Error> {
    let mut kept = Vec::with_capacity(batches.len());
    for batch in batches {
        let keep: BooleanArray = {
            let period = batch.column(5).as_string::<i32>();
            (0..batch.num_rows())
                .map(|i| Some(overlaps(period.value(i), options.from, options.to)))
                .collect()
        };
        let batch =
            arrow::compute::filter_record_batch(&batch, &keep).map_err(|e| Error::Runtime(e.to_string()))?;
        kept.push(
            RecordBatch::try_new(output_schema(), batch.columns().to_vec())
                .map_err(|e| Error::Runtime(e.to_string()))?,
        );
    }
    Ok(kept)
}
