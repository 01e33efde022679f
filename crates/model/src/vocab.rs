//! The closed sets of values the data contract allows, spelled as they appear in files.

/// Five-year age bands of `population` and `survey`.
pub const AGE_BANDS: [&str; 19] = [
    "0-4", "5-9", "10-14", "15-19", "20-24", "25-29", "30-34", "35-39", "40-44", "45-49", "50-54", "55-59",
    "60-64", "65-69", "70-74", "75-79", "80-84", "85-89", "90+",
];

pub const SEXES: [&str; 2] = ["F", "M"];

pub const ADMISSION_METHODS: [&str; 4] = ["elective", "emergency", "maternity", "transfer"];

pub const DISCHARGE_DESTINATIONS: [&str; 5] =
    ["usual_residence", "care_home", "other_hospital", "died", "other"];

pub const SPEND_SETTINGS: [&str; 7] = [
    "acute",
    "community",
    "mental_health",
    "primary_care",
    "prescribing",
    "social_care",
    "other",
];

pub const PAYMENT_BASES: [&str; 5] = ["tariff", "block", "capitation", "alliance", "pooled"];

pub const CQC_RATINGS: [&str; 4] = ["outstanding", "good", "requires_improvement", "inadequate"];

pub const DEPARTMENT_TYPES: [&str; 3] = ["1", "2", "3"];

/// Survey answers: 1 (never) … 5 (always).
pub const SURVEY_ANSWERS: [&str; 5] = ["1", "2", "3", "4", "5"];

/// The age band a whole age in years falls in.
pub fn age_band(age: u32) -> &'static str {
    AGE_BANDS[(age / 5).min(18) as usize]
}

/// What a line of a capacity plan (`plans`) gives: beds or activity by bed group, or staff.
pub const PLAN_MEASURES: [&str; 4] = ["beds", "bed_days", "admissions", "wte"];

/// `rtt_specialty.pathway`: NHS England's RTT parts 2 (incomplete), 2A (incomplete with a
/// decision to admit), 1A (completed, admitted), 1B (completed, non-admitted) and 3 (new
/// clock starts).
pub const RTT_PATHWAYS: [&str; 5] = [
    "incomplete",
    "incomplete_dta",
    "admitted",
    "non_admitted",
    "new_periods",
];
