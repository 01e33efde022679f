//! The data contract as data: every table, its columns, types, keys and row rules.
//!
//! The loader is generic over these specs; a new table or column is a new entry here, and
//! `docs/data-contract.md` is checked against this file by a test.

use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use model::vocab::{
    ADMISSION_METHODS, AGE_BANDS, CQC_RATINGS, DEPARTMENT_TYPES, DISCHARGE_DESTINATIONS, PAYMENT_BASES,
    PLAN_MEASURES, RTT_PATHWAYS, SEXES, SPEND_SETTINGS,
};
use model::{Grain, OrgKind};
use std::sync::Arc;

/// What a code column must refer to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ref {
    Region,
    System,
    /// An organisation of one of these kinds.
    Org(&'static [OrgKind]),
    /// An organisation of any kind.
    AnyOrg,
    /// An organisation of any kind, or a system (plans are made by both).
    OrgOrSystem,
    Lsoa,
}

/// The type and value domain of a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColType {
    /// An ODS/ONS code that must exist in a reference table (or is the table's own key).
    Code(Option<Ref>),
    /// A pseudonymous identifier; integers in Parquet are accepted and read as text.
    Id,
    /// Free text.
    Text,
    /// One of a closed set of values.
    Enum(&'static [&'static str]),
    /// A period of one of these grains, overlapping the manifest's window.
    Period(&'static [Grain]),
    /// An ICD-10 code: a letter, two digits, then optional further characters.
    Icd10,
    Date,
    Timestamp,
    Bool,
    /// A whole number in `min..=max`.
    Int {
        min: i64,
        max: i64,
    },
    /// A non-negative quantity that may be fractional (WTE, money flows, beds).
    NonNeg,
    /// A signed amount of money (surplus, cash).
    Amount,
}

impl ColType {
    pub fn data_type(self) -> DataType {
        match self {
            ColType::Code(_)
            | ColType::Id
            | ColType::Text
            | ColType::Enum(_)
            | ColType::Period(_)
            | ColType::Icd10 => DataType::Utf8,
            ColType::Date => DataType::Date32,
            ColType::Timestamp => DataType::Timestamp(TimeUnit::Millisecond, None),
            ColType::Bool => DataType::Boolean,
            ColType::Int { .. } => DataType::Int64,
            ColType::NonNeg | ColType::Amount => DataType::Float64,
        }
    }

    /// Whether a CSV cell of `*` means "suppressed" (numbers only).
    pub fn is_numeric(self) -> bool {
        matches!(self, ColType::Int { .. } | ColType::NonNeg | ColType::Amount)
    }

    pub fn describe(self) -> String {
        match self {
            ColType::Code(_) => "a code".into(),
            ColType::Id => "an identifier".into(),
            ColType::Text => "text".into(),
            ColType::Enum(values) => format!("one of {}", values.join(", ")),
            ColType::Period(grains) => grains
                .iter()
                .map(|g| g.describe())
                .collect::<Vec<_>>()
                .join(" or "),
            ColType::Icd10 => "an ICD-10 code".into(),
            ColType::Date => "a date (YYYY-MM-DD)".into(),
            ColType::Timestamp => "a timestamp (YYYY-MM-DDTHH:MM:SS)".into(),
            ColType::Bool => "true or false".into(),
            ColType::Int { min, max } if max == i64::MAX => format!("a whole number ≥ {min}"),
            ColType::Int { min, max } => format!("a whole number from {min} to {max}"),
            ColType::NonNeg => "a number ≥ 0".into(),
            ColType::Amount => "a number".into(),
        }
    }
}

/// Whether a column must be present and whether its cells may be empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// The column must exist and every cell must have a value.
    Required,
    /// The column must exist; an empty cell (or `*` for numbers) means not available.
    Nullable,
    /// The column may be absent; cells may be empty.
    Optional,
}

/// Which end of the manifest's window a date column is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// Not checked (historical dates such as a diagnosis or a CQC inspection).
    None,
    /// Must fall within the window.
    Within,
    /// Must not be after the window's end (the start of something that overlaps it).
    NotAfterEnd,
    /// Must not be before the window's start (the end of something that overlaps it).
    NotBeforeStart,
}

#[derive(Debug, Clone, Copy)]
pub struct ColumnSpec {
    pub name: &'static str,
    pub ty: ColType,
    pub presence: Presence,
    pub window: Window,
}

/// A rule relating two or more columns of one row.
#[derive(Debug, Clone, Copy)]
pub enum RowRule {
    /// `later >= earlier` (dates or timestamps); skipped when either is empty.
    NotBefore {
        later: &'static str,
        earlier: &'static str,
    },
    /// `small <= big` (numbers); skipped when either is empty.
    AtMost { small: &'static str, big: &'static str },
    /// `value` may have a value only when the boolean `flag` is true.
    OnlyWhen { value: &'static str, flag: &'static str },
    /// `value` may have a value only when `other` has one.
    OnlyWith {
        value: &'static str,
        other: &'static str,
    },
    /// `small <= big` is expected but not required: a breach is a warning.
    FlagAbove {
        small: &'static str,
        big: &'static str,
        why: &'static str,
    },
}

#[derive(Debug)]
pub struct TableSpec {
    pub name: &'static str,
    pub required: bool,
    /// The grain: these columns together identify a row.
    pub key: &'static [&'static str],
    pub columns: &'static [ColumnSpec],
    pub rules: &'static [RowRule],
    /// Small reference tables are kept in memory after loading.
    pub reference: bool,
}

impl TableSpec {
    pub fn column(&self, name: &str) -> Option<&ColumnSpec> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The canonical Arrow schema of the table: the contract's columns in contract order.
    ///
    /// Every field is nullable: presence is a rule the loader reports on, not a property of
    /// the Arrow type, so a bad cell never stops a chunk from being built and checked.
    pub fn schema(&self) -> Arc<Schema> {
        Arc::new(Schema::new(
            self.columns
                .iter()
                .map(|c| Field::new(c.name, c.ty.data_type(), true))
                .collect::<Vec<_>>(),
        ))
    }
}

pub fn table(name: &str) -> Option<&'static TableSpec> {
    TABLES.iter().find(|t| t.name == name)
}

const fn col(name: &'static str, ty: ColType) -> ColumnSpec {
    ColumnSpec {
        name,
        ty,
        presence: Presence::Required,
        window: Window::None,
    }
}

const fn nullable(name: &'static str, ty: ColType) -> ColumnSpec {
    ColumnSpec {
        name,
        ty,
        presence: Presence::Nullable,
        window: Window::None,
    }
}

const fn optional(name: &'static str, ty: ColType) -> ColumnSpec {
    ColumnSpec {
        name,
        ty,
        presence: Presence::Optional,
        window: Window::None,
    }
}

const fn windowed(name: &'static str, ty: ColType, window: Window) -> ColumnSpec {
    ColumnSpec {
        name,
        ty,
        presence: Presence::Required,
        window,
    }
}

const COMMISSIONER: ColType = ColType::Code(Some(Ref::Org(&[OrgKind::Commissioner])));
const PROVIDER: ColType = ColType::Code(Some(Ref::Org(&OrgKind::PROVIDERS)));
const PRACTICE: ColType = ColType::Code(Some(Ref::Org(&[OrgKind::GpPractice])));
const ANY_ORG: ColType = ColType::Code(Some(Ref::AnyOrg));
const OWN_CODE: ColType = ColType::Code(None);
const COUNT: ColType = ColType::Int {
    min: 0,
    max: i64::MAX,
};
const MONTH: ColType = ColType::Period(&[Grain::Month]);
const FIN_YEAR: ColType = ColType::Period(&[Grain::FinancialYear]);
const ANY_PERIOD: ColType = ColType::Period(&[Grain::Month, Grain::FinancialQuarter, Grain::FinancialYear]);
const MONTH_OR_QUARTER: ColType = ColType::Period(&[Grain::Month, Grain::FinancialQuarter]);
const ANSWER: ColType = ColType::Int { min: 1, max: 5 };
const RATING: ColType = ColType::Enum(&CQC_RATINGS);

/// Every table of the data contract, in the order the loader validates them: reference
/// tables first, because the others refer to them.
pub static TABLES: &[TableSpec] = &[
    TableSpec {
        name: "regions",
        required: true,
        key: &["region_code"],
        columns: &[col("region_code", OWN_CODE), col("name", ColType::Text)],
        rules: &[],
        reference: true,
    },
    TableSpec {
        name: "systems",
        required: true,
        key: &["system_code"],
        columns: &[
            col("system_code", OWN_CODE),
            col("name", ColType::Text),
            col("region_code", ColType::Code(Some(Ref::Region))),
        ],
        rules: &[],
        reference: true,
    },
    TableSpec {
        name: "organisations",
        required: true,
        key: &["org_code"],
        columns: &[
            col("org_code", OWN_CODE),
            col("name", ColType::Text),
            col("kind", ColType::Enum(&ORG_KINDS)),
            // Emptiness is checked by kind in `references.rs`.
            nullable("system_code", ColType::Code(Some(Ref::System))),
            // Kinds are checked after the whole table is read (it refers to itself).
            nullable("parent_code", OWN_CODE),
            optional("pcn_code", OWN_CODE),
            col("opened", ColType::Date),
            optional("closed", ColType::Date),
            optional("successor_code", OWN_CODE),
            // Footprint's addition: the NHS England region of an organisation without a
            // system (independent providers); must agree with the system's when both given.
            optional("region_code", ColType::Code(Some(Ref::Region))),
        ],
        rules: &[
            RowRule::NotBefore {
                later: "closed",
                earlier: "opened",
            },
            RowRule::OnlyWith {
                value: "successor_code",
                other: "closed",
            },
        ],
        reference: true,
    },
    TableSpec {
        name: "lsoa",
        required: false,
        key: &["lsoa_code"],
        columns: &[
            col("lsoa_code", OWN_CODE),
            col("commissioner_code", COMMISSIONER),
            col(
                "local_authority_code",
                ColType::Code(Some(Ref::Org(&[OrgKind::LocalAuthority]))),
            ),
            col("imd_rank", ColType::Int { min: 1, max: 32_844 }),
        ],
        rules: &[],
        reference: true,
    },
    TableSpec {
        name: "population",
        required: false,
        key: &["period", "practice_code", "age_band", "sex"],
        columns: &[
            col("period", MONTH),
            col("practice_code", PRACTICE),
            col("age_band", ColType::Enum(&AGE_BANDS)),
            col("sex", ColType::Enum(&SEXES)),
            col("persons", COUNT),
        ],
        rules: &[],
        reference: false,
    },
    TableSpec {
        name: "patients",
        required: false,
        key: &["patient_id"],
        columns: &[
            col("patient_id", ColType::Id),
            col("practice_code", PRACTICE),
            col("birth_year", ColType::Int { min: 1880, max: 2200 }),
            col("sex", ColType::Enum(&SEXES)),
            col("lsoa_code", ColType::Code(Some(Ref::Lsoa))),
            col("registered_from", ColType::Date),
            optional("registered_to", ColType::Date),
        ],
        rules: &[RowRule::NotBefore {
            later: "registered_to",
            earlier: "registered_from",
        }],
        reference: false,
    },
    TableSpec {
        name: "conditions",
        required: false,
        key: &["patient_id", "condition"],
        columns: &[
            col("patient_id", ColType::Id),
            col("condition", ColType::Text),
            col("diagnosed_on", ColType::Date),
        ],
        rules: &[],
        reference: false,
    },
    TableSpec {
        name: "admissions",
        required: false,
        key: &["spell_id"],
        columns: &[
            col("spell_id", ColType::Id),
            col("patient_id", ColType::Id),
            col("provider_code", PROVIDER),
            col("commissioner_code", COMMISSIONER),
            windowed("admission_date", ColType::Date, Window::NotAfterEnd),
            windowed("discharge_date", ColType::Date, Window::NotBeforeStart),
            col("method", ColType::Enum(&ADMISSION_METHODS)),
            col("primary_diagnosis", ColType::Icd10),
            col("discharge_destination", ColType::Enum(&DISCHARGE_DESTINATIONS)),
            nullable("delayed_days", COUNT),
            nullable("cost", ColType::NonNeg),
        ],
        rules: &[RowRule::NotBefore {
            later: "discharge_date",
            earlier: "admission_date",
        }],
        reference: false,
    },
    TableSpec {
        name: "outpatients",
        required: false,
        key: &["appointment_id"],
        columns: &[
            col("appointment_id", ColType::Id),
            col("patient_id", ColType::Id),
            col("provider_code", PROVIDER),
            col("commissioner_code", COMMISSIONER),
            windowed("date", ColType::Date, Window::Within),
            col("attended", ColType::Bool),
            col("first", ColType::Bool),
            nullable("cost", ColType::NonNeg),
        ],
        rules: &[],
        reference: false,
    },
    TableSpec {
        name: "spend",
        required: false,
        key: &["period", "commissioner_code", "setting"],
        columns: &[
            col("period", ANY_PERIOD),
            col("commissioner_code", COMMISSIONER),
            col("setting", ColType::Enum(&SPEND_SETTINGS)),
            nullable("spend", ColType::NonNeg),
        ],
        rules: &[],
        reference: false,
    },
    TableSpec {
        name: "allocations",
        required: false,
        key: &["period", "commissioner_code"],
        columns: &[
            col("period", FIN_YEAR),
            col("commissioner_code", COMMISSIONER),
            nullable("allocation", ColType::NonNeg),
        ],
        rules: &[],
        reference: false,
    },
    TableSpec {
        name: "ae_attendances",
        required: false,
        key: &["attendance_id"],
        columns: &[
            col("attendance_id", ColType::Id),
            col("patient_id", ColType::Id),
            col("provider_code", PROVIDER),
            col("department_type", ColType::Enum(&DEPARTMENT_TYPES)),
            windowed("arrival", ColType::Timestamp, Window::Within),
            col("departure", ColType::Timestamp),
            col("admitted", ColType::Bool),
            optional("decision_to_admit", ColType::Timestamp),
        ],
        rules: &[
            RowRule::NotBefore {
                later: "departure",
                earlier: "arrival",
            },
            RowRule::OnlyWhen {
                value: "decision_to_admit",
                flag: "admitted",
            },
            RowRule::NotBefore {
                later: "decision_to_admit",
                earlier: "arrival",
            },
            RowRule::NotBefore {
                later: "departure",
                earlier: "decision_to_admit",
            },
        ],
        reference: false,
    },
    TableSpec {
        name: "ae_monthly",
        required: false,
        key: &["period", "provider_code"],
        columns: &[
            col("period", MONTH),
            col("provider_code", PROVIDER),
            nullable("attendances_type1", COUNT),
            nullable("attendances_other", COUNT),
            nullable("over_4h_type1", COUNT),
            nullable("over_4h_other", COUNT),
            nullable("emergency_admissions", COUNT),
            nullable("over_12h_dta", COUNT),
        ],
        rules: &[
            RowRule::AtMost {
                small: "over_4h_type1",
                big: "attendances_type1",
            },
            RowRule::AtMost {
                small: "over_4h_other",
                big: "attendances_other",
            },
        ],
        reference: false,
    },
    TableSpec {
        name: "rtt",
        required: false,
        key: &["period", "provider_code", "commissioner_code"],
        columns: &[
            col("period", MONTH),
            // Empty in a commissioner-level publication (all providers together).
            nullable("provider_code", PROVIDER),
            col("commissioner_code", COMMISSIONER),
            nullable("waiting", COUNT),
            nullable("within_18_weeks", COUNT),
            nullable("over_52_weeks", COUNT),
        ],
        rules: &[
            RowRule::AtMost {
                small: "within_18_weeks",
                big: "waiting",
            },
            RowRule::AtMost {
                small: "over_52_weeks",
                big: "waiting",
            },
        ],
        reference: false,
    },
    TableSpec {
        name: "rtt_specialty",
        required: false,
        key: &[
            "period",
            "provider_code",
            "commissioner_code",
            "pathway",
            "treatment_function",
        ],
        columns: &[
            col("period", MONTH),
            nullable("provider_code", PROVIDER),
            col("commissioner_code", COMMISSIONER),
            col("pathway", ColType::Enum(&RTT_PATHWAYS)),
            col("treatment_function", ColType::Text),
            nullable("treatment_function_name", ColType::Text),
            nullable("pathways", COUNT),
            nullable("within_18_weeks", COUNT),
            nullable("over_52_weeks", COUNT),
            nullable("unknown_clock_start", COUNT),
        ],
        rules: &[
            RowRule::AtMost {
                small: "within_18_weeks",
                big: "pathways",
            },
            RowRule::AtMost {
                small: "over_52_weeks",
                big: "pathways",
            },
        ],
        reference: false,
    },
    TableSpec {
        name: "finance",
        required: false,
        key: &["period", "org_code"],
        columns: &[
            col("period", ANY_PERIOD),
            col("org_code", ANY_ORG),
            nullable("income", ColType::NonNeg),
            nullable("expenditure", ColType::NonNeg),
            nullable("plan_surplus", ColType::Amount),
            nullable("actual_surplus", ColType::Amount),
            nullable("control_total", ColType::Amount),
            nullable("control_total_agreed", ColType::Bool),
            nullable("cash", ColType::Amount),
            nullable("current_assets", ColType::NonNeg),
            nullable("current_liabilities", ColType::NonNeg),
            nullable("inventories", ColType::NonNeg),
            nullable("capital_service", ColType::NonNeg),
            nullable("agency_spend", ColType::NonNeg),
            nullable("agency_cap", ColType::NonNeg),
        ],
        rules: &[],
        reference: false,
    },
    TableSpec {
        name: "contracts",
        required: false,
        key: &["period", "commissioner_code", "provider_code"],
        columns: &[
            col("period", FIN_YEAR),
            col("commissioner_code", COMMISSIONER),
            col("provider_code", PROVIDER),
            nullable("value", ColType::NonNeg),
            col("payment_basis", ColType::Enum(&PAYMENT_BASES)),
        ],
        rules: &[],
        reference: false,
    },
    TableSpec {
        name: "workforce",
        required: false,
        key: &["period", "org_code", "staff_group"],
        columns: &[
            col("period", MONTH_OR_QUARTER),
            col("org_code", ANY_ORG),
            col("staff_group", ColType::Text),
            nullable("wte_in_post", ColType::NonNeg),
            nullable("wte_vacant", ColType::NonNeg),
            nullable("wte_agency", ColType::NonNeg),
        ],
        rules: &[],
        reference: false,
    },
    TableSpec {
        name: "gp_payments",
        required: false,
        key: &["period", "practice_code"],
        columns: &[
            col("period", FIN_YEAR),
            // Usually a practice; a few contracts are held by sites the reference data lists
            // as other organisations (walk-in centres run as independent providers).
            col("practice_code", ANY_ORG),
            col("commissioner_code", COMMISSIONER),
            nullable("registered_patients", ColType::NonNeg),
            nullable("weighted_patients", ColType::NonNeg),
            nullable("global_sum", ColType::Amount),
            nullable("qof", ColType::Amount),
            nullable("total_payments", ColType::Amount),
        ],
        rules: &[],
        reference: false,
    },
    TableSpec {
        name: "list_sizes",
        required: false,
        key: &["period", "practice_code"],
        columns: &[
            col("period", MONTH),
            col("practice_code", PRACTICE),
            col("commissioner_code", COMMISSIONER),
            col("registered_patients", COUNT),
        ],
        rules: &[],
        reference: false,
    },
    TableSpec {
        name: "code_crosswalk",
        required: false,
        key: &["old_code", "new_code"],
        columns: &[
            col("old_code", ANY_ORG),
            col("new_code", COMMISSIONER),
            col("share", ColType::NonNeg),
            nullable("registered_patients", ColType::NonNeg),
            nullable("basis", ColType::Text),
        ],
        rules: &[],
        reference: false,
    },
    TableSpec {
        name: "external_indicators",
        required: false,
        key: &[
            "indicator_id",
            "parent_code",
            "area_code",
            "area_type",
            "sex",
            "age",
            "category_type",
            "category",
            "period",
        ],
        columns: &[
            col("source", ColType::Text),
            col("indicator_id", ColType::Text),
            nullable("indicator_name", ColType::Text),
            nullable("parent_code", ColType::Text),
            col("area_code", ColType::Text),
            nullable("area_name", ColType::Text),
            col("area_type", ColType::Text),
            nullable("sex", ColType::Text),
            nullable("age", ColType::Text),
            nullable("category_type", ColType::Text),
            nullable("category", ColType::Text),
            col("period", ColType::Text),
            nullable("value", ColType::Amount),
            nullable("lower_ci95", ColType::Amount),
            nullable("upper_ci95", ColType::Amount),
            nullable("lower_ci998", ColType::Amount),
            nullable("upper_ci998", ColType::Amount),
            nullable("count", ColType::NonNeg),
            nullable("denominator", ColType::NonNeg),
        ],
        rules: &[],
        reference: false,
    },
    TableSpec {
        name: "plans",
        required: false,
        key: &["period", "org_code", "measure", "category"],
        columns: &[
            // A plan is for a year to come: it may lie after the window, not before it.
            windowed("period", FIN_YEAR, Window::NotBeforeStart),
            col("org_code", ColType::Code(Some(Ref::OrgOrSystem))),
            col("measure", ColType::Enum(&PLAN_MEASURES)),
            col("category", ColType::Text),
            col("value", ColType::NonNeg),
        ],
        rules: &[],
        reference: false,
    },
    TableSpec {
        name: "beds",
        required: false,
        key: &["period", "provider_code"],
        columns: &[
            col("period", MONTH_OR_QUARTER),
            col("provider_code", PROVIDER),
            nullable("beds_available", ColType::NonNeg),
            nullable("beds_occupied", ColType::NonNeg),
        ],
        rules: &[RowRule::FlagAbove {
            small: "beds_occupied",
            big: "beds_available",
            why: "more beds occupied than available (escalation beds in use)",
        }],
        reference: false,
    },
    TableSpec {
        name: "cqc_ratings",
        required: false,
        key: &["org_code", "rated_on"],
        columns: &[
            col("org_code", ANY_ORG),
            col("rated_on", ColType::Date),
            col("overall", RATING),
            nullable("safe", RATING),
            nullable("effective", RATING),
            nullable("caring", RATING),
            nullable("responsive", RATING),
            nullable("well_led", RATING),
        ],
        rules: &[],
        reference: false,
    },
    TableSpec {
        name: "survey",
        required: false,
        key: &["response_id"],
        columns: &[
            col("response_id", ColType::Id),
            col("period", ANY_PERIOD),
            col("practice_code", PRACTICE),
            nullable("age_band", ColType::Enum(&AGE_BANDS)),
            nullable("care_coordinated", ANSWER),
            nullable("information_shared", ANSWER),
            nullable("discharge_timely", ANSWER),
        ],
        rules: &[],
        reference: false,
    },
];

const ORG_KINDS: [&str; 10] = [
    "commissioner",
    "acute_trust",
    "community_trust",
    "mental_health_trust",
    "ambulance_trust",
    "gp_practice",
    "pcn",
    "local_authority",
    "independent_provider",
    "third_sector",
];

#[cfg(test)]
mod tests;
