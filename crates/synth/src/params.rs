//! The generator's fixed parameters: the shape of England's population and of its use of
//! hospitals. Volumes are not set here: each activity's national rate is scaled at run time
//! so the expected national total meets its calibration target (`calibration.rs`). The
//! shapes are approximations of published figures (ONS mid-year estimates, QOF prevalence,
//! HES age profiles) and are documented as such in `docs/synthetic.md`.

/// The contract's age bands, in order.
pub const AGE_BANDS: [&str; 19] = [
    "0-4", "5-9", "10-14", "15-19", "20-24", "25-29", "30-34", "35-39", "40-44", "45-49", "50-54", "55-59",
    "60-64", "65-69", "70-74", "75-79", "80-84", "85-89", "90+",
];

/// Share of registered patients in each age band (England, ONS mid-2022, per cent).
pub const PYRAMID: [f64; 19] = [
    5.5, 5.9, 6.1, 5.7, 6.0, 6.6, 6.9, 6.7, 6.4, 6.2, 6.8, 6.7, 5.9, 5.1, 5.0, 3.9, 2.6, 1.6, 0.9,
];

/// Share of males in each age band.
pub const MALE_SHARE: [f64; 19] = [
    0.512, 0.512, 0.513, 0.514, 0.51, 0.5, 0.497, 0.496, 0.495, 0.494, 0.493, 0.49, 0.485, 0.48, 0.47, 0.455,
    0.43, 0.39, 0.32,
];

/// How strongly deprived areas are younger: a band's weight is multiplied by
/// `exp(YOUTH_TILT * (deprivation - 0.5) * (30 - band midpoint) / 30)`.
pub const YOUTH_TILT: f64 = 0.5;

/// The band of an age in whole years.
pub fn band_of_age(age: i32) -> usize {
    (age.max(0) as usize / 5).min(18)
}

/// The midpoint of a band, in years.
pub fn band_mid(band: usize) -> f64 {
    if band == 18 { 92.0 } else { band as f64 * 5.0 + 2.0 }
}

/// A long-term condition: its name as written to `conditions`, its prevalence model
/// (logit = `intercept + age_slope * (age - 50) / 10 + deprivation * dep`), and its effect on
/// the use of hospital care (a log rate ratio, shared by every kind of activity).
#[derive(Debug, Clone, Copy)]
pub struct Condition {
    pub name: &'static str,
    pub intercept: f64,
    pub age_slope: f64,
    pub deprivation: f64,
    pub log_rate_ratio: f64,
    /// Youngest age at which it is recorded.
    pub min_age: i32,
}

pub const CONDITIONS: [Condition; 12] = [
    Condition {
        name: "hypertension",
        intercept: -1.75,
        age_slope: 0.62,
        deprivation: 0.25,
        log_rate_ratio: 0.10,
        min_age: 18,
    },
    Condition {
        name: "diabetes",
        intercept: -2.55,
        age_slope: 0.45,
        deprivation: 0.7,
        log_rate_ratio: 0.30,
        min_age: 10,
    },
    Condition {
        name: "asthma",
        intercept: -2.7,
        age_slope: 0.0,
        deprivation: 0.35,
        log_rate_ratio: 0.20,
        min_age: 5,
    },
    Condition {
        name: "copd",
        intercept: -4.1,
        age_slope: 0.6,
        deprivation: 1.2,
        log_rate_ratio: 0.65,
        min_age: 35,
    },
    Condition {
        name: "coronary_heart_disease",
        intercept: -3.7,
        age_slope: 0.68,
        deprivation: 0.6,
        log_rate_ratio: 0.40,
        min_age: 30,
    },
    Condition {
        name: "heart_failure",
        intercept: -5.3,
        age_slope: 0.8,
        deprivation: 0.6,
        log_rate_ratio: 0.80,
        min_age: 30,
    },
    Condition {
        name: "chronic_kidney_disease",
        intercept: -3.6,
        age_slope: 0.85,
        deprivation: 0.3,
        log_rate_ratio: 0.35,
        min_age: 18,
    },
    Condition {
        name: "dementia",
        intercept: -7.2,
        age_slope: 1.25,
        deprivation: 0.2,
        log_rate_ratio: 0.60,
        min_age: 50,
    },
    Condition {
        name: "depression",
        intercept: -1.95,
        age_slope: -0.05,
        deprivation: 0.6,
        log_rate_ratio: 0.15,
        min_age: 18,
    },
    Condition {
        name: "cancer",
        intercept: -3.6,
        age_slope: 0.6,
        deprivation: -0.1,
        log_rate_ratio: 0.55,
        min_age: 18,
    },
    Condition {
        name: "atrial_fibrillation",
        intercept: -5.0,
        age_slope: 0.95,
        deprivation: 0.0,
        log_rate_ratio: 0.30,
        min_age: 30,
    },
    Condition {
        name: "stroke",
        intercept: -4.8,
        age_slope: 0.75,
        deprivation: 0.5,
        log_rate_ratio: 0.40,
        min_age: 30,
    },
];

/// The log rate ratio of deprivation (0 = least deprived LSOA in England, 1 = most), shared
/// by every kind of activity: the most deprived use hospitals `exp(0.45)` = 1.57 times as much
/// as the least deprived of the same age, sex and conditions.
pub const DEPRIVATION_LOG_RATE_RATIO: f64 = 0.45;

/// The kinds of activity a person generates on their own (readmissions and admissions
/// through A&E follow from these).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Emergency = 0,
    Elective = 1,
    Maternity = 2,
    Transfer = 3,
    AeOnly = 4,
    Outpatient = 5,
}

pub const KINDS: [Kind; 6] = [
    Kind::Emergency,
    Kind::Elective,
    Kind::Maternity,
    Kind::Transfer,
    Kind::AeOnly,
    Kind::Outpatient,
];

/// Relative rate by age band (before conditions and deprivation; the national level is set
/// by calibration). Index: kind, band.
pub fn age_profile(kind: Kind, band: usize, male: bool) -> f64 {
    const EMERGENCY: [f64; 19] = [
        1.3, 0.45, 0.4, 0.6, 0.6, 0.65, 0.65, 0.65, 0.65, 0.7, 0.8, 0.9, 1.0, 1.25, 1.55, 2.1, 2.9, 3.9, 5.0,
    ];
    const ELECTIVE: [f64; 19] = [
        0.25, 0.2, 0.2, 0.3, 0.35, 0.45, 0.55, 0.6, 0.7, 0.85, 1.05, 1.25, 1.5, 1.8, 2.1, 2.2, 2.0, 1.5, 1.0,
    ];
    const AE_ONLY: [f64; 19] = [
        1.9, 1.0, 1.0, 1.4, 1.5, 1.35, 1.2, 1.1, 1.0, 0.95, 0.95, 0.95, 0.9, 0.9, 0.95, 1.1, 1.35, 1.6, 1.8,
    ];
    const OUTPATIENT: [f64; 19] = [
        0.6, 0.45, 0.45, 0.5, 0.6, 0.75, 0.85, 0.85, 0.85, 0.95, 1.1, 1.25, 1.45, 1.7, 1.95, 2.1, 2.1, 1.8,
        1.4,
    ];
    const MATERNITY: [f64; 19] = [
        0.0, 0.0, 0.0, 0.15, 0.8, 1.4, 1.6, 1.0, 0.3, 0.03, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
    ];
    const TRANSFER: [f64; 19] = [
        0.2, 0.05, 0.05, 0.1, 0.1, 0.1, 0.1, 0.15, 0.2, 0.25, 0.35, 0.5, 0.7, 1.0, 1.4, 2.0, 2.8, 3.5, 4.0,
    ];
    let (table, male_ratio) = match kind {
        Kind::Emergency => (&EMERGENCY, 1.05),
        Kind::Elective => (&ELECTIVE, 0.95),
        Kind::Maternity => (&MATERNITY, 0.0),
        Kind::Transfer => (&TRANSFER, 1.1),
        Kind::AeOnly => (&AE_ONLY, 1.08),
        Kind::Outpatient => (&OUTPATIENT, 0.85),
    };
    table[band] * if male { male_ratio } else { 1.0 }
}

/// Seasonal factor of each kind in a calendar month (1 = January).
pub fn season(kind: Kind, month: u32) -> f64 {
    let angle = |peak: u32| (2.0 * std::f64::consts::PI * (month as f64 - peak as f64) / 12.0).cos();
    match kind {
        Kind::Emergency | Kind::Transfer => 1.0 + 0.07 * angle(1),
        Kind::AeOnly => 1.0 + 0.06 * angle(7),
        Kind::Maternity => 1.0 + 0.03 * angle(8),
        Kind::Elective | Kind::Outpatient => match month {
            8 => 0.9,
            12 => 0.84,
            4 => 0.95,
            _ => 1.03,
        },
    }
}

/// Yearly growth of each kind (emergency demand grows a little each year).
pub fn yearly_growth(kind: Kind) -> f64 {
    match kind {
        Kind::Emergency | Kind::Transfer => 0.015,
        Kind::AeOnly => 0.01,
        Kind::Elective | Kind::Outpatient => 0.02,
        Kind::Maternity => -0.01,
    }
}

/// ICD-10 primary diagnoses, with relative frequencies, by method.
pub const EMERGENCY_DIAGNOSES: [(&str, f64); 14] = [
    ("R07.4", 8.0),
    ("J18.9", 7.0),
    ("N39.0", 6.0),
    ("R10.4", 6.0),
    ("J44.1", 4.0),
    ("I50.9", 3.5),
    ("S72.0", 2.5),
    ("I21.4", 2.5),
    ("K35.8", 2.0),
    ("A41.9", 3.0),
    ("R55.X", 3.0),
    ("J22.X", 4.0),
    ("I48.9", 2.5),
    ("E87.1", 1.5),
];
pub const ELECTIVE_DIAGNOSES: [(&str, f64); 10] = [
    ("H25.9", 6.0),
    ("K80.2", 3.0),
    ("M17.1", 3.0),
    ("C50.9", 2.0),
    ("Z51.1", 6.0),
    ("K57.3", 2.0),
    ("N40.X", 1.5),
    ("D12.6", 3.0),
    ("M16.1", 2.0),
    ("K40.9", 2.0),
];
pub const MATERNITY_DIAGNOSES: [(&str, f64); 3] = [("O80.0", 6.0), ("O82.9", 3.0), ("O70.1", 1.0)];

/// Costs in pounds (2024/25 prices, roughly the national tariff's shape).
pub mod cost {
    /// Emergency spell: fixed part and per night.
    pub const EMERGENCY_BASE: f64 = 1_450.0;
    pub const EMERGENCY_PER_NIGHT: f64 = 390.0;
    pub const ELECTIVE_DAY_CASE: f64 = 950.0;
    pub const ELECTIVE_BASE: f64 = 2_900.0;
    pub const ELECTIVE_PER_NIGHT: f64 = 420.0;
    pub const MATERNITY_BASE: f64 = 2_300.0;
    pub const MATERNITY_PER_NIGHT: f64 = 350.0;
    pub const TRANSFER_BASE: f64 = 1_800.0;
    pub const OUTPATIENT_FIRST: f64 = 195.0;
    pub const OUTPATIENT_FOLLOW_UP: f64 = 115.0;
}
