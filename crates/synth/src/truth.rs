//! `truth.toml`: what was planted, in a form other tools read (indicator and metric ids are
//! those of the indicator catalogue).

use crate::finance::Finance;
use crate::generate::stay;
use crate::params::{self, AGE_BANDS, CONDITIONS, KINDS};
use crate::world::World;
use crate::{Error, Names};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Generator {
    pub version: String,
    pub seed: u64,
    pub scale: f64,
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChallengedSystem {
    pub system_code: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepChange {
    pub org_code: String,
    pub indicator: String,
    /// The first month at the new level.
    pub month: String,
    pub relative_change: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Outlier {
    pub org_code: String,
    pub indicator: String,
    /// `high` or `low`.
    pub direction: String,
    /// The factor applied to the underlying rate.
    pub factor: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vanguard {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub system_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub practice_codes: Option<Vec<String>>,
    pub model: String,
    /// The first month with the effect.
    pub start: String,
    /// The relative change in emergency admissions from `start`.
    pub relative_effect: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FinanceBreach {
    pub org_code: String,
    pub metric: String,
    pub value: f64,
    /// The period the value is for (every quarter of the window has the same ratios).
    pub period: String,
}

/// The generator's expected annual cost of a person:
/// `exp(age_sex[sex][band] + deprivation * d + sum of conditions[c])`, with `d` from 0 (least
/// deprived LSOA in England) to 1 (most), in pounds a year. Excluded: readmissions, the
/// practice's random effect (mean one), season, and planted signals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CostModel {
    pub link: String,
    pub unit: String,
    pub deprivation: f64,
    pub conditions: BTreeMap<String, f64>,
    /// Log of the expected annual cost at deprivation 0 without conditions, by sex then band.
    pub age_sex: BTreeMap<String, BTreeMap<String, f64>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Truth {
    pub generator: Generator,
    #[serde(default)]
    pub challenged_system: Vec<ChallengedSystem>,
    #[serde(default)]
    pub step_change: Vec<StepChange>,
    #[serde(default)]
    pub outlier: Vec<Outlier>,
    #[serde(default)]
    pub vanguard: Vec<Vanguard>,
    #[serde(default)]
    pub finance_breach: Vec<FinanceBreach>,
    pub cost_model: CostModel,
}

impl Truth {
    pub fn new(world: &World<'_>, names: &Names, finance: &Finance) -> Truth {
        let sk = world.sk;
        let s = &world.signals;
        let direction = |f: f64| if f > 1.0 { "high" } else { "low" }.to_string();
        let mut step_change: Vec<StepChange> = s
            .step_4h
            .iter()
            .map(|&(p, month, relative_change)| StepChange {
                org_code: names.providers[p].clone(),
                indicator: "ae_4h".into(),
                month: month.to_string(),
                relative_change,
            })
            .collect();
        step_change.extend(
            s.step_emergency
                .iter()
                .map(|&(c, month, relative_change)| StepChange {
                    org_code: names.commissioners[c].clone(),
                    indicator: "emergency_admissions_rate".into(),
                    month: month.to_string(),
                    relative_change,
                }),
        );
        let mut outlier: Vec<Outlier> = s
            .outlier_emergency
            .iter()
            .map(|o| Outlier {
                org_code: names.commissioners[o.index].clone(),
                indicator: "emergency_admissions_isr".into(),
                direction: direction(o.factor),
                factor: o.factor,
            })
            .collect();
        outlier.extend(s.outlier_readmission.iter().map(|o| Outlier {
            org_code: names.providers[o.index].clone(),
            indicator: "readmissions_30d".into(),
            direction: direction(o.factor),
            factor: o.factor,
        }));
        let vanguard = s
            .vanguards
            .iter()
            .map(|v| Vanguard {
                system_code: v.system.map(|i| sk.systems[i].code.clone()),
                practice_codes: v
                    .system
                    .is_none()
                    .then(|| v.practices.iter().map(|&p| names.practices[p].clone()).collect()),
                model: v.model.into(),
                start: v.start.to_string(),
                relative_effect: v.relative_effect,
            })
            .collect();
        let finance_breach = finance
            .breaches
            .iter()
            .map(|(org, metric, value, period)| FinanceBreach {
                org_code: org.clone(),
                metric: metric.to_string(),
                value: (value * 1e6).round() / 1e6,
                period: period.clone(),
            })
            .collect();
        Truth {
            generator: Generator {
                version: env!("CARGO_PKG_VERSION").into(),
                seed: world.config.seed,
                scale: world.config.scale,
                from: world.config.from.to_string(),
                to: world.config.to.to_string(),
            },
            challenged_system: s
                .challenged
                .iter()
                .map(|&i| ChallengedSystem {
                    system_code: sk.systems[i].code.clone(),
                })
                .collect(),
            step_change,
            outlier,
            vanguard,
            finance_breach,
            cost_model: cost_model(world),
        }
    }

    pub fn write(&self, out: &Path) -> Result<(), Error> {
        let path = out.join("truth.toml");
        let text = toml::to_string(self).map_err(|e| Error::Config(format!("truth.toml: {e}")))?;
        let header = "# What the synthetic generator planted (see docs/synthetic.md).\n";
        std::fs::write(&path, format!("{header}{text}")).map_err(|source| Error::Io { path, source })
    }

    pub fn read(dir: &Path) -> Result<Truth, Error> {
        let path = dir.join("truth.toml");
        let text = std::fs::read_to_string(&path).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        toml::from_str(&text).map_err(|e| Error::Read {
            path,
            message: e.to_string(),
        })
    }
}

fn cost_model(world: &World<'_>) -> CostModel {
    let mut age_sex = BTreeMap::new();
    for (sex, male) in [("female", false), ("male", true)] {
        let mut bands = BTreeMap::new();
        for (b, band) in AGE_BANDS.iter().enumerate() {
            let monthly: f64 = KINDS
                .iter()
                .map(|&k| {
                    world.rate[k as usize] * params::age_profile(k, b, male) * stay::mean_cost(k, b >= 15)
                })
                .sum();
            bands.insert(band.to_string(), ((12.0 * monthly).ln() * 1e6).round() / 1e6);
        }
        age_sex.insert(sex.to_string(), bands);
    }
    CostModel {
        link: "log".into(),
        unit: "pounds per person-year".into(),
        deprivation: params::DEPRIVATION_LOG_RATE_RATIO,
        conditions: CONDITIONS
            .iter()
            .map(|c| (c.name.to_string(), c.log_rate_ratio))
            .collect(),
        age_sex,
    }
}
