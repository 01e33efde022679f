//! Scale-out on Apache Ballista (the `distributed` feature): the scheduler and executor
//! roles, and the client session the engine sends its queries through.
//!
//! The same catalogue runs on a cluster: `Engine::open` with `Place::Cluster` registers the
//! dataset's Parquet tables (by absolute path, which every executor must be able to read) in
//! a Ballista session, and the tables it cannot read in place (CSV, the engine's maps) as
//! Parquet written under the dataset's `.footprint/cluster/`, and every query over the activity (the per-unit sums, the derived
//! tables, the budgets' and capacity's reads) is planned on the client, sent to the
//! scheduler as a logical plan, and run by the executors stage by stage. What comes back is
//! the small table of sums by unit and period: roll-up to every entity and period,
//! publication with confidence intervals, disclosure control and signals stay on the client,
//! over tables of thousands of rows.
//!
//! Both roles register Footprint's SQL functions (`udf::all`), so a plan that calls them
//! decodes and runs on the cluster.

use crate::Error;
use ballista_core::registry::BallistaFunctionRegistry;
use datafusion::execution::FunctionRegistry;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};
use std::net::SocketAddr;
use std::sync::Arc;

/// The environment variable that sets how many partitions each stage is split into.
pub const PARTITIONS: &str = "FOOTPRINT_CLUSTER_PARTITIONS";

/// A session whose queries run on the Ballista cluster at `url` (`df://HOST:PORT`), with
/// the engine's settings (they travel with each job to the executors) and SQL functions.
///
/// Each stage is split into the session's target partitions: by default this machine's
/// cores, as embedded; `FOOTPRINT_CLUSTER_PARTITIONS` sets it to the cluster's task slots
/// (the executors' `--concurrency` summed), so every slot has a share of each stage.
pub(crate) async fn connect(url: &str, config: SessionConfig) -> Result<SessionContext, Error> {
    use ballista::extension::SessionContextExt;
    let config = match std::env::var(PARTITIONS) {
        Ok(v) => match v.trim().parse::<usize>() {
            Ok(n) if n > 0 => config.with_target_partitions(n),
            _ => {
                return Err(Error::Runtime(format!(
                    "{PARTITIONS}={v:?}: must be a whole number of partitions, 1 or more"
                )));
            }
        },
        Err(_) => config,
    };
    let state = SessionStateBuilder::new()
        .with_config(config)
        .with_default_features()
        .build();
    // The session connects lazily, at the first query; a scheduler that is not there is
    // reported now, before any work, with the address.
    let addr = url.trim_start_matches("df://");
    let reach = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        tokio::net::TcpStream::connect(addr),
    )
    .await;
    match reach {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => {
            return Err(Error::Runtime(format!(
                "cannot reach the Ballista scheduler at {url}: {e} (is `footprint cluster scheduler` running there?)"
            )));
        }
        Err(_) => {
            return Err(Error::Runtime(format!(
                "cannot reach the Ballista scheduler at {url}: no answer in 10 s"
            )));
        }
    }
    let ctx = SessionContext::remote_with_state(url, state)
        .await
        .map_err(|e| Error::Runtime(format!("the Ballista scheduler at {url}: {e}")))?;
    crate::udf::register(&ctx);
    Ok(ctx)
}

/// Footprint's SQL functions beside DataFusion's own, for an executor decoding plans.
fn registry() -> BallistaFunctionRegistry {
    let mut registry = BallistaFunctionRegistry::default();
    for f in crate::udf::all() {
        registry
            .scalar_functions
            .insert(f.name().to_string(), Arc::new(f));
    }
    registry
}

fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Runtime(format!("cannot start the runtime: {e}")))
}

/// The scheduler role: accepts jobs from clients and hands their stages to executors.
#[derive(Debug, Clone)]
pub struct SchedulerOptions {
    /// The address its gRPC service listens on.
    pub bind: SocketAddr,
    /// The host name executors and clients reach it by (default: the bound address).
    pub external_host: Option<String>,
}

/// Runs a scheduler until the process is stopped.
pub fn scheduler(opts: &SchedulerOptions) -> Result<(), Error> {
    use ballista_scheduler::cluster::BallistaCluster;
    use ballista_scheduler::config::SchedulerConfig;
    let fail = |e: ballista_core::error::BallistaError| Error::Runtime(format!("scheduler: {e}"));
    let session_builder: ballista_scheduler::scheduler_server::SessionBuilder = Arc::new(|config| {
        let mut state = ballista_core::utils::default_session_builder(config)?;
        for f in crate::udf::all() {
            state.register_udf(Arc::new(f))?;
        }
        Ok(state)
    });
    let config = SchedulerConfig {
        bind_host: opts.bind.ip().to_string(),
        bind_port: opts.bind.port(),
        external_host: opts
            .external_host
            .clone()
            .unwrap_or_else(|| opts.bind.ip().to_string()),
        override_session_builder: Some(session_builder),
        // A job's last stage (the sums a query returns) is fetched by the client as soon as
        // the job finishes; keeping it for Ballista's default five minutes filled 11 GB of
        // executor disk in three runs of the catalogue at scale 1.
        finished_job_data_clean_up_interval_seconds: 30,
        ..Default::default()
    };
    runtime()?.block_on(async {
        let cluster = BallistaCluster::new_from_config(&config).await.map_err(fail)?;
        ballista_scheduler::scheduler_process::start_server(cluster, opts.bind, Arc::new(config))
            .await
            .map_err(fail)
    })
}

/// The executor role: registers with a scheduler and runs the tasks it is given.
#[derive(Debug, Clone)]
pub struct ExecutorOptions {
    /// The scheduler's address.
    pub scheduler: SocketAddr,
    /// The address its Arrow Flight service (results and shuffle data) listens on; its gRPC
    /// service listens on the next port.
    pub bind: SocketAddr,
    /// The host name the scheduler and other executors reach it by (default: the bound
    /// address).
    pub external_host: Option<String>,
    /// Tasks run at once (default: the machine's cores).
    pub concurrency: Option<usize>,
    /// Where shuffle files are written (default: a temporary folder).
    pub work_dir: Option<std::path::PathBuf>,
}

/// Runs an executor until the process is stopped.
pub fn executor(opts: &ExecutorOptions) -> Result<(), Error> {
    use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
    let grpc_port = opts.bind.port().checked_add(1).ok_or_else(|| {
        Error::Runtime(format!(
            "executor: --bind {}: the gRPC service needs the next port",
            opts.bind
        ))
    })?;
    let defaults = ExecutorProcessConfig::default();
    let config = ExecutorProcessConfig {
        bind_host: opts.bind.ip().to_string(),
        external_host: opts.external_host.clone(),
        port: opts.bind.port(),
        grpc_port,
        scheduler_host: opts.scheduler.ip().to_string(),
        scheduler_port: opts.scheduler.port(),
        // Retry while a scheduler started at the same time comes up.
        scheduler_connect_timeout_seconds: 30,
        vcores: opts.concurrency.unwrap_or(defaults.vcores),
        work_dir: opts.work_dir.as_ref().map(|d| d.display().to_string()),
        override_function_registry: Some(Arc::new(registry())),
        // A safety net for shuffle files of jobs whose scheduler went away: removed hourly
        // once a day old (Ballista's default never removes them).
        job_data_clean_up_interval_seconds: 3600,
        job_data_ttl_seconds: 86_400,
        ..defaults
    };
    runtime()?.block_on(async {
        start_executor_process(Arc::new(config))
            .await
            .map_err(|e| Error::Runtime(format!("executor: {e}")))
    })
}
