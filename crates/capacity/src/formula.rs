//! The Strategy Unit's New Hospital Programme (NHP) demand-and-capacity conversions, as the
//! NHP model states them (github.com/The-Strategy-Unit/nhp_model, MIT):
//!
//! - **Bed scaling from KH03** (`nhp_bed_scaling`): the model's beds are today's occupied beds
//!   (KH03) scaled by the growth in bed days and divided by the target occupancy,
//!   `beds = model × kh03_occupied / (baseline × target_occupancy)` with model and baseline as
//!   mean daily bed days. Scaling occupied beds, not bed days ÷ 365, keeps each ward group's
//!   own relation between bed days counted at discharge and beds counted at midnight. The NHP
//!   model rounds half to even (NumPy's `round`); so does `beds_rounded`.
//! - **A&E spaces** (`nhp_aae_spaces`): hours of occupancy over hours open, at a utilisation,
//!   `spaces = attendances × LOS minutes / 60 / (weeks × hours per week × utilisation)`.
//! - **Interval to normal** (`nhp_interval_to_normal`): every NHP assumption is an 80%
//!   interval [p10, p90] read as a normal distribution with mean `(lo + hi)/2` and standard
//!   deviation `(hi − lo)/2.563103` (2.563103 = 2·Φ⁻¹(0.9), the NHP model's constant).

use serde::Deserialize;
use serde_json::{Value, json};

use crate::Error;

/// The NHP model's constant: the width of a standard normal's central 80% interval.
pub const Q80: f64 = 2.563103;

/// The formulas `footprint capacity formula NAME` answers.
pub const NAMES: [&str; 3] = ["nhp_bed_scaling", "nhp_aae_spaces", "nhp_interval_to_normal"];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BedScaling {
    model_mean_daily_beddays: f64,
    kh03_occupied: f64,
    baseline_mean_daily_beddays: f64,
    target_occupancy: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AaeSpaces {
    attendances: f64,
    assumed_los_mins: f64,
    operating_weeks_per_year: f64,
    operating_hours_per_week: f64,
    utilisation_rate: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Interval {
    low_p10: f64,
    high_p90: f64,
}

fn need(field: &str, value: f64, ok: bool, rule: &str) -> Result<(), Error> {
    if value.is_finite() && ok {
        Ok(())
    } else {
        Err(Error::Invalid {
            field: field.to_string(),
            value: value.to_string(),
            rule: rule.to_string(),
        })
    }
}

fn parse<T: serde::de::DeserializeOwned>(request: &Value) -> Result<T, Error> {
    serde_json::from_value(request.clone()).map_err(|e| Error::Request(e.to_string()))
}

/// Beds by scaling KH03 occupied beds with bed-day growth, at a target occupancy.
pub fn bed_scaling(model: f64, kh03_occupied: f64, baseline: f64, target_occupancy: f64) -> f64 {
    model * kh03_occupied / (baseline * target_occupancy)
}

/// A&E spaces (cubicles) for a year's attendances.
pub fn aae_spaces(attendances: f64, los_mins: f64, weeks: f64, hours_per_week: f64, utilisation: f64) -> f64 {
    attendances * los_mins / 60.0 / (weeks * hours_per_week * utilisation)
}

/// The normal distribution an 80% interval stands for: (mean, sd).
pub fn interval_to_normal(low_p10: f64, high_p90: f64) -> (f64, f64) {
    ((low_p10 + high_p90) / 2.0, (high_p90 - low_p10) / Q80)
}

/// Answers `footprint capacity formula NAME` for one JSON request.
pub fn answer(name: &str, request: &Value) -> Result<Value, Error> {
    match name {
        "nhp_bed_scaling" => {
            let r: BedScaling = parse(request)?;
            need(
                "model_mean_daily_beddays",
                r.model_mean_daily_beddays,
                r.model_mean_daily_beddays >= 0.0,
                "must be ≥ 0",
            )?;
            need(
                "kh03_occupied",
                r.kh03_occupied,
                r.kh03_occupied >= 0.0,
                "must be ≥ 0",
            )?;
            need(
                "baseline_mean_daily_beddays",
                r.baseline_mean_daily_beddays,
                r.baseline_mean_daily_beddays > 0.0,
                "must be > 0 (the baseline divides)",
            )?;
            need(
                "target_occupancy",
                r.target_occupancy,
                r.target_occupancy > 0.0 && r.target_occupancy <= 1.0,
                "must be above 0 and at most 1",
            )?;
            let beds = bed_scaling(
                r.model_mean_daily_beddays,
                r.kh03_occupied,
                r.baseline_mean_daily_beddays,
                r.target_occupancy,
            );
            Ok(json!({"beds": beds, "beds_rounded": beds.round_ties_even() as u64}))
        }
        "nhp_aae_spaces" => {
            let r: AaeSpaces = parse(request)?;
            need("attendances", r.attendances, r.attendances >= 0.0, "must be ≥ 0")?;
            need(
                "assumed_los_mins",
                r.assumed_los_mins,
                r.assumed_los_mins >= 0.0,
                "must be ≥ 0",
            )?;
            need(
                "operating_weeks_per_year",
                r.operating_weeks_per_year,
                r.operating_weeks_per_year > 0.0 && r.operating_weeks_per_year <= 53.0,
                "must be above 0 and at most 53",
            )?;
            need(
                "operating_hours_per_week",
                r.operating_hours_per_week,
                r.operating_hours_per_week > 0.0 && r.operating_hours_per_week <= 168.0,
                "must be above 0 and at most 168",
            )?;
            need(
                "utilisation_rate",
                r.utilisation_rate,
                r.utilisation_rate > 0.0 && r.utilisation_rate <= 1.0,
                "must be above 0 and at most 1",
            )?;
            let spaces = aae_spaces(
                r.attendances,
                r.assumed_los_mins,
                r.operating_weeks_per_year,
                r.operating_hours_per_week,
                r.utilisation_rate,
            );
            Ok(json!({"spaces": spaces}))
        }
        "nhp_interval_to_normal" => {
            let r: Interval = parse(request)?;
            need("low_p10", r.low_p10, true, "must be a finite number")?;
            need(
                "high_p90",
                r.high_p90,
                r.high_p90 >= r.low_p10,
                "must be a finite number ≥ low_p10",
            )?;
            let (mean, sd) = interval_to_normal(r.low_p10, r.high_p90);
            Ok(json!({"mean": mean, "sd": sd}))
        }
        other => Err(Error::Request(format!(
            "unknown formula {other:?}: one of {}",
            NAMES.join(", ")
        ))),
    }
}
