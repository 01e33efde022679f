//! Heads and beds: does a system's plan add up?
//!
//! - [`beds`]: beds for one pool by fixed occupancy, Erlang loss and the Poisson peak.
//! - [`formula`]: the New Hospital Programme's conversions (bed scaling from KH03, A&E
//!   spaces, 80% intervals as normal distributions).
//! - [`assumptions`]: the projection's assumptions as data (`data/assumptions.toml`).
//! - [`baseline`]: the baseline year per provider and pool, read from a dataset.
//! - [`project`]: the seeded Monte Carlo projection of demand, beds and heads.
//! - [`plan`]: plans as data and whether they add up, rolled up to systems, regions, England.

pub mod assumptions;
pub mod baseline;
pub mod beds;
pub mod formula;
pub mod plan;
pub mod project;

/// What is wrong with a request or a file.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{field}: {value}: {rule}")]
    Invalid {
        field: String,
        value: String,
        rule: String,
    },
    #[error("{file}:{line}:{column}: {value}: {rule}")]
    Located {
        file: String,
        line: u64,
        column: String,
        value: String,
        rule: String,
    },
    #[error("{0}")]
    Request(String),
}

/// The default number of Monte Carlo runs.
pub const DEFAULT_RUNS: usize = 1000;

/// Projects from `baseline` to the plan's year (or `year`, or two years on) and checks the
/// plan, or the current capacity when there is none.
pub fn assess(
    baseline: &baseline::Baseline,
    a: &assumptions::Assumptions,
    care_models: &[project::CareModel],
    plan: Option<&plan::Plan>,
    year: Option<i32>,
    runs: usize,
    seed: u64,
) -> Result<plan::Report, Error> {
    let year = match (plan, year) {
        (Some(p), Some(y)) if p.year != y => {
            return Err(Error::Request(format!(
                "the plan is for {} but {} was asked for",
                model::Period::Year(p.year),
                model::Period::Year(y)
            )));
        }
        (Some(p), _) => p.year,
        (None, Some(y)) => y,
        (None, None) => baseline.year + 2,
    };
    if year < baseline.year {
        return Err(Error::Request(format!(
            "the plan year {} is before the baseline {}",
            model::Period::Year(year),
            model::Period::Year(baseline.year)
        )));
    }
    if let Some(bands) = &baseline.bands {
        let own = a.bands();
        if &own != bands {
            return Err(Error::Request(format!(
                "the baseline is published at age bands {bands:?} and the assumptions' demography bands are {own:?}: a published baseline is projected with the bands it was published at"
            )));
        }
    }
    for (i, ar) in a.demography.area.iter().enumerate() {
        if !baseline.systems.contains_key(&ar.code) && !baseline.regions.contains_key(&ar.code) {
            return Err(Error::Request(format!(
                "demography.area[{i}]: code {:?} is neither a system nor a region of the dataset",
                ar.code
            )));
        }
    }
    if runs == 0 || runs > 100_000 {
        return Err(Error::Request(format!("runs {runs}: must be from 1 to 100000")));
    }
    let projection = project::project(&project::Request {
        baseline,
        assumptions: a,
        care_models,
        year,
        runs,
        seed,
    });
    Ok(plan::check(baseline, a, &projection, plan, seed))
}
