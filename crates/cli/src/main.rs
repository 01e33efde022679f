//! `footprint`: whole-system oversight of local health economies in England.
//!
//! The binary is glue: it parses arguments, sets up logging and progress bars, calls the
//! library crates and prints their results. Results go to stdout, logs and progress to
//! stderr. Exit codes: 0 success, 2 error (including a refused dataset).

/// `println!` through [`output::emit`]: results to stdout, ending quietly on a closed pipe
/// (`footprint … | head`) instead of panicking.
macro_rules! outln {
    () => {
        $crate::output::emit("\n")
    };
    ($($arg:tt)*) => {
        $crate::output::emit(&format!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` through [`output::emit`].
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::output::emit(&format!($($arg)*))
    };
}

mod assess;
mod budgets;
mod capacity;
mod cluster;
mod demo;
mod evaluate;
mod indicators;
mod info;
mod output;
mod programme;
mod progress;
mod reference;
mod regime;
mod serve;
mod stats;
mod synth;
mod validate;

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "footprint",
    version,
    about = "Whole-system oversight of local health economies in England",
    long_about = "Footprint turns NHS data into one joined-up picture of every commissioner, provider \
                  and geographic system in England.\n\n\
                  A dataset is a folder of CSV or Parquet files laid out as docs/data-contract.md \
                  describes. Start with `footprint demo`, then `footprint validate YOUR-FOLDER`.",
    after_help = "Logs go to stderr; set FOOTPRINT_LOG=debug for more. Exit codes: 0 success, 2 error."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Print only results and errors, no progress or informational logs.
    #[arg(short, long, global = true)]
    quiet: bool,
}

// Parsed once per run: the size of the largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
enum Command {
    /// Run the demonstration: a synthetic England on the bundled real England skeleton.
    ///
    /// Writes the real England skeleton (7 regions, 42 systems, 106 commissioners, 6,527
    /// practices, every NHS trust and 13 months of the A&E SitRep) to OUT/england, generates
    /// a synthetic England on it in OUT/synthetic (a hundredth of England by default, in
    /// seconds; reused on later runs), validates it with the same loader your data goes
    /// through, and prints its summary and calibration.
    Demo {
        /// Where to write the demonstration datasets.
        #[arg(long, default_value = "footprint-demo")]
        out: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Scale of the synthetic England (1 = England's 63.9 million registered patients).
        #[arg(long, default_value_t = demo::DEMO_SCALE)]
        scale: f64,
        /// Write the results (indicators, assessments, cases in OUT/footprint.db) and exit
        /// instead of serving the dashboard.
        #[arg(long)]
        no_serve: bool,
        /// Where the dashboard listens.
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: String,
        /// Build and serve the real England dataset instead: the reference skeleton with every
        /// shipped real publication (RTT 2015, workforce 2017–18, registered lists, payments to
        /// general practice, Fingertips) imported, in OUT/real.
        #[arg(long)]
        real: bool,
        /// The shipped real publications (the repository's data/real).
        #[arg(long, default_value = "data/real")]
        real_data: PathBuf,
    },
    /// Serve the HTTP API and the dashboard for a dataset.
    ///
    /// On first start it computes the indicators, every shipped pack's assessments and the
    /// triggered system cases (into RESULTS and the database); later starts reuse them.
    Serve {
        #[arg(long)]
        dataset: PathBuf,
        /// `sqlite://PATH` (created on first use) or `postgres://USER@HOST/DB`.
        #[arg(long, default_value = "sqlite://footprint.db")]
        database: String,
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: String,
        /// Where the computed results are kept (default DATASET/.footprint/results).
        #[arg(long)]
        results: Option<PathBuf>,
        /// Compute the results again even if they exist.
        #[arg(long)]
        recompute: bool,
        /// The address users reach the server at (e.g. `https://footprint.example.nhs.uk`):
        /// with https the session cookie is Secure and __Host- prefixed, and state-changing
        /// requests must come from this origin.
        #[arg(long)]
        public_url: Option<String>,
        /// A header a trusted reverse proxy sets to the client's address (e.g.
        /// X-Forwarded-For; its last address is used). Only set this behind such a proxy.
        #[arg(long)]
        client_header: Option<String>,
        /// Failed authentications allowed from one client address a minute before they are
        /// answered 429 Too Many Requests (a valid token is never refused). Raise it when
        /// many users share one address.
        #[arg(long, default_value_t = server::auth::MAX_FAILURES)]
        auth_failures: u32,
        /// A registry of intervention kinds (TOML; a copy of `regime/intervention-kinds.toml`
        /// with kinds added); default: the built-in one.
        #[arg(long)]
        kinds: Option<PathBuf>,
        /// Where the queries over the dataset run when results are computed: `embedded`, or
        /// a Ballista scheduler's `df://HOST:PORT` (see docs/distributed.md).
        #[arg(long, default_value = "embedded", value_name = "ENGINE")]
        engine: engine::Place,
    },
    /// API access tokens: create (the secret is shown once), list, revoke.
    Tokens {
        #[arg(long, global = true, default_value = "sqlite://footprint.db")]
        database: String,
        /// Who is making the change (audit log); default: $USER.
        #[arg(long, global = true)]
        actor: Option<String>,
        #[command(subcommand)]
        command: serve::TokensCommand,
    },
    /// Check a dataset folder against every rule of the data contract.
    ///
    /// Prints a summary (tables, rows, periods, organisations by kind) if the dataset is
    /// valid, or every problem as `file:line:column: value: rule` if not (the first 50, then
    /// a count) and exits with code 2. Writes nothing unless asked for a receipt.
    Validate {
        /// The dataset folder.
        dataset: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// How many problems to print (all are counted).
        #[arg(long, default_value_t = dataset::DEFAULT_SHOWN)]
        max_shown: usize,
        /// If the dataset passes, write a validation receipt (`.footprint/validated.toml`
        /// inside it: each file's size and modification time), so computations from it check
        /// only the reference tables while every file is unchanged.
        #[arg(long)]
        receipt: bool,
    },
    /// Describe a dataset folder quickly, without validating it: its manifest, each table's
    /// files, size, columns and row count.
    Info {
        /// The dataset folder.
        dataset: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Build the contract's reference tables from the raw England files.
    ///
    /// Reads the raw ODS, ONS and A&E SitRep files and the bridging rules, and writes
    /// manifest.toml, regions.csv, systems.csv, organisations.csv, lsoa.csv and
    /// ae_monthly.csv. The output is deterministic.
    Reference {
        /// Folder of raw reference files.
        #[arg(long, default_value = "data/england/raw")]
        raw: PathBuf,
        /// The bridging rules.
        #[arg(long, default_value = "data/england/rules.toml")]
        rules: PathBuf,
        /// Where to write the contract tables.
        #[arg(long, default_value = "data/england/contract")]
        out: PathBuf,
        /// Write nothing; fail if the files in --out differ from what would be written.
        #[arg(long)]
        check: bool,
    },
    /// Bring real returns into a dataset.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Whole-health-economy indicators: list the catalogue, or compute it for a dataset.
    #[command(subcommand)]
    Indicators(IndicatorsCommand),
    /// Rate, segment and categorise every organisation and system with policy packs.
    Assess(assess::AssessArgs),
    /// The policy packs: list the shipped ones, validate a pack file.
    #[command(subcommand)]
    Packs(assess::PacksCommand),
    /// The whole-system intervention regime: interventions, system cases, plans, conflicts.
    Regime(regime::RegimeArgs),
    /// New payment systems: need model, capitated budgets, risk-sharing settlement and
    /// Monte Carlo stress tests.
    #[command(subcommand)]
    Budgets(budgets::BudgetsCommand),
    /// Heads and beds: beds by pool, workforce by staff group, and whether each system's
    /// plan adds up against projected demand.
    #[command(subcommand)]
    Capacity(capacity::CapacityCommand),
    /// The transformation fund: portfolio selection under budget and quotas, appraisal and
    /// eligibility of bids.
    #[command(subcommand)]
    Fund(programme::FundCommand),
    /// Vanguard applications: peer-review scoring with leniency normalised.
    #[command(subcommand)]
    Vanguards(programme::VanguardsCommand),
    /// The new care models programme office on the register's store: care models,
    /// applications, reviews, selection, drawdown, flexibilities, and coverage of new terms.
    Programme(programme::ProgrammeArgs),
    /// Real-time evaluation of new care models: synthetic control, difference-in-differences
    /// against matched comparators, interrupted time series, and the learning library.
    #[command(subcommand)]
    Evaluate(evaluate::EvaluateCommand),
    /// Run a role of an Apache Ballista cluster, for `--engine df://HOST:PORT` (a build with
    /// the `distributed` feature; see docs/distributed.md).
    #[command(subcommand)]
    Cluster(cluster::ClusterCommand),
    /// Generate a synthetic England, or report how a generated one compares with England.
    ///
    /// Writes a full dataset (every table of the data contract) on the real England skeleton:
    /// registered patients of every real practice, their conditions, hospital spells, A&E
    /// attendances and outpatient appointments, and the monthly, quarterly and yearly tables,
    /// calibrated to national figures, with planted signals listed in truth.toml. The same
    /// seed and scale give byte-identical files.
    ///
    /// Example: footprint synth --out synthetic --scale 0.01
    #[command(group(clap::ArgGroup::new("what").required(true).args(["out", "report"])))]
    Synth {
        /// Where to write the dataset (created; a previous synthetic dataset there is replaced).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Print a generated dataset's national figures beside their calibration targets.
        #[arg(long, value_name = "DIR", conflicts_with_all = ["scale", "seed", "from", "to", "threads"])]
        report: Option<PathBuf>,
        /// 1 = England's 63.9 million registered patients (tens of GB); 0.01 takes seconds.
        #[arg(long)]
        scale: Option<f64>,
        /// The random seed.
        #[arg(long)]
        seed: Option<u64>,
        /// First month (YYYY-MM).
        #[arg(long)]
        from: Option<model::Month>,
        /// Last month (YYYY-MM).
        #[arg(long)]
        to: Option<model::Month>,
        /// Generating threads (default: one per core); the output does not depend on it.
        #[arg(long)]
        threads: Option<usize>,
    },
    /// Run one of the NHS's statistical methods on a JSON request.
    ///
    /// Reads one JSON request from stdin (or --input) and writes one JSON response to stdout,
    /// with the field names of the NHS's reference implementations (NHSRplotthedots,
    /// FunnelPlotR, PHEindicatormethods). A bad request exits with code 2 and says why.
    ///
    /// Example: echo '{"x": 7, "n": 10}' | footprint stats proportion
    Stats {
        #[arg(value_enum)]
        method: stats::Method,
        /// Read the request from this file instead of stdin.
        #[arg(long)]
        input: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
enum ImportCommand {
    /// NHS England's monthly A&E SitRep CSVs → the dataset's ae_monthly.csv.
    ///
    /// Replaces ae_monthly.csv with the months of the files given, and adds reporting sites
    /// that are not yet organisations (independent providers, urgent treatment centres) to
    /// organisations.csv as independent providers attached to their region. The dataset's
    /// window must cover the months. Nothing is written if anything is wrong.
    ///
    /// Example: footprint import sitrep data/england/raw/ae_monthly_2024_25/*.csv --into my-dataset
    Sitrep {
        /// The SitRep CSV files (one or more months).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The dataset folder (with regions.csv, organisations.csv and manifest.toml).
        #[arg(long)]
        into: PathBuf,
    },
    /// NHS England's referral-to-treatment publications → rtt.csv and rtt_specialty.csv.
    ///
    /// Reads the commissioner-level workbooks (.xls/.xlsx: incomplete, admitted and
    /// non-admitted pathways by CCG and treatment function) and today's Full CSV (provider ×
    /// commissioner × RTT part × treatment function). Incomplete pathways' totals go to rtt
    /// (provider_code empty for a commissioner-level publication); every treatment function of
    /// every pathway type to rtt_specialty. Rows for the months and pathway types the files
    /// bring replace those already there; codes the dataset lacks are resolved through
    /// code_crosswalk.csv (written by gp-payments and gp-lists) and reported.
    ///
    /// Example: footprint import rtt Incomplete-Commissioner-Apr15.xls --into my-dataset
    Rtt {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[arg(long)]
        into: PathBuf,
    },
    /// NHS workforce statistics (FTE by organisation and staff group) → workforce.csv.
    ///
    /// Staff groups are mapped by `[workforce.staff_groups]` of the mappings file
    /// (data/import/mappings.toml; pass your own copy with --mapping).
    ///
    /// Example: footprint import workforce hchs-staff-by-staff-group-….xlsx --into my-dataset
    Workforce {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[arg(long)]
        into: PathBuf,
        /// A copy of data/import/mappings.toml to use instead of the built-in one.
        #[arg(long)]
        mapping: Option<PathBuf>,
    },
    /// Patients Registered at a GP Practice → population.csv (age band by sex) or
    /// list_sizes.csv (practice totals), and the code crosswalk.
    ///
    /// Example: footprint import gp-lists gp-reg-pat-prac-all.csv --into my-dataset
    GpLists {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[arg(long)]
        into: PathBuf,
    },
    /// NHS Payments to General Practice → gp_payments.csv, and the code crosswalk.
    ///
    /// Columns are mapped by name (`[gp_payments]` of the mappings file); a file lacking a
    /// required column is refused, naming it. Each file's financial year comes from its name
    /// (…14-15…) or --year. Practices and old commissioner codes the dataset lacks are added
    /// as organisations (closed, with their successor where the practices show one) and the
    /// old codes' shares of today's commissioners go to code_crosswalk.csv.
    ///
    /// Example: footprint import gp-payments gp-payments-22-23.csv --into my-dataset
    GpPayments {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[arg(long)]
        into: PathBuf,
        /// The financial year of every file given (2022/23), if their names do not say.
        #[arg(long)]
        year: Option<String>,
        /// A copy of data/import/mappings.toml to use instead of the built-in one.
        #[arg(long)]
        mapping: Option<PathBuf>,
    },
    /// Fingertips CSV exports → external_indicators.csv, kept as published.
    ///
    /// Example: footprint import fingertips indicator-data.csv --into my-dataset
    Fingertips {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[arg(long)]
        into: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
enum IndicatorsCommand {
    /// List the indicators of the catalogue.
    List {
        /// A folder of indicator TOML files instead of the built-in catalogue.
        #[arg(long)]
        catalogue: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Compute indicators for every organisation, system, region and England.
    ///
    /// Writes indicators.parquet and indicators.csv (the tidy table, with disclosure control:
    /// small counts below national level are suppressed) to --out, and says which indicators
    /// were skipped because the dataset lacks an input table.
    Compute {
        /// The dataset folder (validated first).
        dataset: PathBuf,
        /// Where to write the results.
        #[arg(long)]
        out: PathBuf,
        /// Only these indicators (repeat the option).
        #[arg(long = "indicator", value_name = "ID")]
        indicators: Vec<String>,
        /// Only these grains: month, quarter, financial_year, rolling_12_months.
        #[arg(long = "grain", value_name = "GRAIN")]
        grains: Vec<String>,
        /// Only periods overlapping this month or later.
        #[arg(long)]
        from: Option<model::Month>,
        /// Only periods overlapping this month or earlier.
        #[arg(long)]
        to: Option<model::Month>,
        /// A folder of indicator TOML files instead of the built-in catalogue.
        #[arg(long)]
        catalogue: Option<PathBuf>,
        /// Also write JSON lines.
        #[arg(long)]
        json: bool,
        /// Also write indicators_unsuppressed (no disclosure control; for your own use only).
        #[arg(long)]
        unsuppressed: bool,
        /// Where the queries run: `embedded` (this process), or a Ballista scheduler's
        /// `df://HOST:PORT` (a build with the `distributed` feature; the dataset must be
        /// Parquet on storage every executor reads; see docs/distributed.md).
        #[arg(long, default_value = "embedded", value_name = "ENGINE")]
        engine: engine::Place,
    },
}

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let default = if cli.quiet { "warn" } else { "info" };
    let filter = tracing_subscriber::EnvFilter::try_from_env("FOOTPRINT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .init();
    let progress = !cli.quiet;
    let result = match cli.command {
        Command::Demo {
            out,
            format,
            scale: _,
            no_serve,
            addr,
            real,
            real_data,
        } if real => demo::run_real(
            &out,
            &real_data,
            format,
            progress,
            (!no_serve).then_some(addr.as_str()),
        ),
        Command::Demo {
            out,
            format,
            scale,
            no_serve,
            addr,
            ..
        } => demo::run(
            &out,
            format,
            progress,
            scale,
            (!no_serve).then_some(addr.as_str()),
        ),
        Command::Serve {
            dataset,
            database,
            addr,
            results,
            recompute,
            public_url,
            client_header,
            auth_failures,
            kinds,
            engine,
        } => {
            let results = results.unwrap_or_else(|| serve::default_results(&dataset));
            let options = server::Options::new(public_url, client_header).auth_failures(auth_failures);
            // A registry that will not read stops before the results are computed.
            kinds
                .as_deref()
                .map(regime::read_kinds)
                .transpose()
                .and_then(|kinds| {
                    serve::prepare(&dataset, &results, &database, recompute, &engine, progress)?;
                    serve::serve(&results, &database, &addr, options, kinds)
                })
        }
        Command::Tokens {
            database,
            actor,
            command,
        } => serve::tokens(&database, actor, command),
        Command::Validate {
            dataset,
            format,
            max_shown,
            receipt,
        } => validate::run(&dataset, format, max_shown, receipt, progress),
        Command::Info { dataset, format } => info::run(&dataset, format),
        Command::Reference {
            raw,
            rules,
            out,
            check,
        } => reference::run(&raw, &rules, &out, check),
        Command::Budgets(cmd) => budgets::run(cmd),
        Command::Capacity(cmd) => capacity::run(cmd),
        Command::Fund(cmd) => programme::fund(cmd),
        Command::Vanguards(cmd) => programme::vanguards(cmd),
        Command::Programme(args) => programme::run(args),
        Command::Evaluate(cmd) => evaluate::run(cmd),
        Command::Cluster(cmd) => cluster::run(cmd),
        Command::Assess(args) => assess::run(args),
        Command::Regime(args) => regime::run(args),
        Command::Packs(cmd) => assess::packs(cmd),
        Command::Stats { method, input } => stats::run(method, input.as_deref()),
        Command::Import(ImportCommand::Sitrep { files, into }) => import_sitrep(&files, &into),
        Command::Import(cmd) => import_publication(cmd),
        Command::Indicators(IndicatorsCommand::List { catalogue, format }) => {
            indicators::list(catalogue.as_deref(), format)
        }
        Command::Indicators(IndicatorsCommand::Compute {
            dataset,
            out,
            indicators: ids,
            grains,
            from,
            to,
            catalogue,
            json,
            unsuppressed,
            engine,
        }) => indicators::compute(
            &indicators::Compute {
                dataset,
                out,
                catalogue,
                indicators: ids,
                grains,
                from,
                to,
                json,
                unsuppressed,
                place: engine,
            },
            progress,
        ),
        Command::Synth {
            out,
            report,
            scale,
            seed,
            from,
            to,
            threads,
        } => match (out, report) {
            (_, Some(dir)) => synth::report(&dir),
            (Some(out), None) => {
                let defaults = ::synth::Config::default();
                let config = ::synth::Config {
                    scale: scale.unwrap_or(defaults.scale),
                    seed: seed.unwrap_or(defaults.seed),
                    from: from.unwrap_or(defaults.from),
                    to: to.unwrap_or(defaults.to),
                };
                synth::generate(&out, &synth::Generate { config, threads }, progress)
            }
            (None, None) => unreachable!("clap requires --out or --report"),
        },
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn import_publication(cmd: ImportCommand) -> anyhow::Result<ExitCode> {
    use ::reference::import::{self, mapping::Mappings};
    let mappings = |m: &Option<PathBuf>| match m {
        Some(p) => Mappings::read(p),
        None => Ok(Mappings::builtin()),
    };
    let (done, into) = match cmd {
        ImportCommand::Sitrep { .. } => unreachable!("handled by import_sitrep"),
        ImportCommand::Rtt { files, into } => (import::rtt::import(&files, &into)?, into),
        ImportCommand::Workforce { files, into, mapping } => (
            import::workforce::import(&files, &into, &mappings(&mapping)?)?,
            into,
        ),
        ImportCommand::GpLists { files, into } => (import::lists::import(&files, &into)?, into),
        ImportCommand::GpPayments {
            files,
            into,
            year,
            mapping,
        } => (
            import::payments::import(&files, &into, year.as_deref(), &mappings(&mapping)?)?,
            into,
        ),
        ImportCommand::Fingertips { files, into } => (import::fingertips::import(&files, &into)?, into),
    };
    output::emit(&done.describe(&into));
    Ok(ExitCode::SUCCESS)
}

fn import_sitrep(files: &[PathBuf], into: &std::path::Path) -> anyhow::Result<ExitCode> {
    let mut files = files.to_vec();
    files.sort();
    let done = ::reference::sitrep::import(&files, into)?;
    output::emit(&format!(
        "imported {} provider-months ({} to {}) into {}; added {} sites as independent providers{}\n",
        done.rows,
        done.from,
        done.to,
        into.join("ae_monthly.csv").display(),
        done.added.len(),
        if done.added.is_empty() {
            String::new()
        } else {
            format!(": {}", done.added.join(", "))
        }
    ));
    Ok(ExitCode::SUCCESS)
}
