//! `footprint cluster scheduler | executor`: the roles of an Apache Ballista cluster that
//! `--engine df://HOST:PORT` sends the catalogue's queries to. Built with the `distributed`
//! feature; without it the commands say so.

use clap::Subcommand;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand, Debug)]
pub enum ClusterCommand {
    /// Run the scheduler: it accepts queries from `--engine df://HOST:PORT` and hands their
    /// stages to the executors. Runs until stopped.
    Scheduler {
        /// The address it listens on (clients use df://THIS).
        #[arg(long, default_value = "127.0.0.1:50050")]
        bind: SocketAddr,
        /// The host name executors and clients reach it by, if not the bound address.
        #[arg(long)]
        external_host: Option<String>,
    },
    /// Run an executor: it registers with the scheduler and runs the tasks it is given,
    /// reading the dataset's Parquet files from their path (shared storage). Runs until
    /// stopped.
    Executor {
        /// The scheduler's address.
        #[arg(long, default_value = "127.0.0.1:50050")]
        scheduler: SocketAddr,
        /// The address its Arrow Flight service listens on; its gRPC service takes the next
        /// port.
        #[arg(long, default_value = "127.0.0.1:50051")]
        bind: SocketAddr,
        /// The host name the scheduler and other executors reach it by, if not the bound
        /// address.
        #[arg(long)]
        external_host: Option<String>,
        /// Tasks it runs at once (default: its cores).
        #[arg(long)]
        concurrency: Option<usize>,
        /// Where it writes shuffle files (default: a temporary folder).
        #[arg(long)]
        work_dir: Option<PathBuf>,
    },
}

#[cfg(feature = "distributed")]
pub fn run(cmd: ClusterCommand) -> anyhow::Result<ExitCode> {
    use engine::cluster;
    match cmd {
        ClusterCommand::Scheduler { bind, external_host } => {
            tracing::info!(%bind, "Ballista scheduler starting");
            cluster::scheduler(&cluster::SchedulerOptions { bind, external_host })?;
        }
        ClusterCommand::Executor {
            scheduler,
            bind,
            external_host,
            concurrency,
            work_dir,
        } => {
            if concurrency == Some(0) {
                anyhow::bail!("--concurrency 0: an executor needs at least one task slot");
            }
            tracing::info!(%scheduler, %bind, "Ballista executor starting");
            cluster::executor(&cluster::ExecutorOptions {
                scheduler,
                bind,
                external_host,
                concurrency,
                work_dir,
            })?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(not(feature = "distributed"))]
pub fn run(cmd: ClusterCommand) -> anyhow::Result<ExitCode> {
    let role = match cmd {
        ClusterCommand::Scheduler { .. } => "scheduler",
        ClusterCommand::Executor { .. } => "executor",
    };
    anyhow::bail!(
        "cluster {role}: this build has no distributed engine; build footprint with \
         `cargo build --release --features distributed` (see docs/distributed.md)"
    )
}
