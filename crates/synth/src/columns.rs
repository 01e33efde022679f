//! The person-level tables as columns, and their Arrow schemas. Identifiers are written as
//! 64-bit integers (the contract accepts integer identifiers in Parquet), which keeps files
//! small and generation fast; codes and enumerations are text.

use arrow::array::{
    ArrayRef, BooleanArray, Date32Array, Float64Array, Int64Array, RecordBatch, StringArray,
    TimestampMillisecondArray,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use std::sync::{Arc, LazyLock};

fn schema(fields: &[(&str, DataType, bool)]) -> SchemaRef {
    Arc::new(Schema::new(
        fields
            .iter()
            .map(|(n, t, null)| Field::new(*n, t.clone(), *null))
            .collect::<Vec<_>>(),
    ))
}

/// Timestamps are written in milliseconds with Parquet's timestamp type, so any reader sees
/// times (Parquet has no seconds unit: Arrow's seconds would be stored as bare integers).
const TS: DataType = DataType::Timestamp(TimeUnit::Millisecond, None);

/// Seconds since 1970 as the milliseconds the files hold.
fn ms(secs: &[i64]) -> ArrayRef {
    Arc::new(TimestampMillisecondArray::from_iter_values(
        secs.iter().map(|s| s * 1_000),
    ))
}

pub static PATIENTS: LazyLock<SchemaRef> = LazyLock::new(|| {
    schema(&[
        ("patient_id", DataType::Int64, false),
        ("practice_code", DataType::Utf8, false),
        ("birth_year", DataType::Int64, false),
        ("sex", DataType::Utf8, false),
        ("lsoa_code", DataType::Utf8, false),
        ("registered_from", DataType::Date32, false),
        ("registered_to", DataType::Date32, true),
    ])
});
pub static CONDITIONS: LazyLock<SchemaRef> = LazyLock::new(|| {
    schema(&[
        ("patient_id", DataType::Int64, false),
        ("condition", DataType::Utf8, false),
        ("diagnosed_on", DataType::Date32, false),
    ])
});
pub static ADMISSIONS: LazyLock<SchemaRef> = LazyLock::new(|| {
    schema(&[
        ("spell_id", DataType::Int64, false),
        ("patient_id", DataType::Int64, false),
        ("provider_code", DataType::Utf8, false),
        ("commissioner_code", DataType::Utf8, false),
        ("admission_date", DataType::Date32, false),
        ("discharge_date", DataType::Date32, false),
        ("method", DataType::Utf8, false),
        ("primary_diagnosis", DataType::Utf8, false),
        ("discharge_destination", DataType::Utf8, false),
        ("delayed_days", DataType::Int64, true),
        ("cost", DataType::Float64, true),
    ])
});
pub static AE: LazyLock<SchemaRef> = LazyLock::new(|| {
    schema(&[
        ("attendance_id", DataType::Int64, false),
        ("patient_id", DataType::Int64, false),
        ("provider_code", DataType::Utf8, false),
        ("department_type", DataType::Utf8, false),
        ("arrival", TS, false),
        ("departure", TS, false),
        ("admitted", DataType::Boolean, false),
        ("decision_to_admit", TS, true),
    ])
});
pub static OUTPATIENTS: LazyLock<SchemaRef> = LazyLock::new(|| {
    schema(&[
        ("appointment_id", DataType::Int64, false),
        ("patient_id", DataType::Int64, false),
        ("provider_code", DataType::Utf8, false),
        ("commissioner_code", DataType::Utf8, false),
        ("date", DataType::Date32, false),
        ("attended", DataType::Boolean, false),
        ("first", DataType::Boolean, false),
        ("cost", DataType::Float64, true),
    ])
});
pub static POPULATION: LazyLock<SchemaRef> = LazyLock::new(|| {
    schema(&[
        ("period", DataType::Utf8, false),
        ("practice_code", DataType::Utf8, false),
        ("age_band", DataType::Utf8, false),
        ("sex", DataType::Utf8, false),
        ("persons", DataType::Int64, false),
    ])
});
pub static SURVEY: LazyLock<SchemaRef> = LazyLock::new(|| {
    schema(&[
        ("response_id", DataType::Int64, false),
        ("period", DataType::Utf8, false),
        ("practice_code", DataType::Utf8, false),
        ("age_band", DataType::Utf8, true),
        ("care_coordinated", DataType::Int64, true),
        ("information_shared", DataType::Int64, true),
        ("discharge_timely", DataType::Int64, true),
    ])
});

fn batch(schema: &SchemaRef, columns: Vec<ArrayRef>) -> RecordBatch {
    // The columns are built here to match the schema, so this cannot fail.
    RecordBatch::try_new(schema.clone(), columns).unwrap_or_else(|e| unreachable!("schema mismatch: {e}"))
}

fn strings(values: &[&'static str]) -> ArrayRef {
    Arc::new(StringArray::from_iter_values(values.iter().copied()))
}

fn codes(values: &[u32], table: &[String]) -> ArrayRef {
    Arc::new(StringArray::from_iter_values(
        values.iter().map(|&i| table[i as usize].as_str()),
    ))
}

/// Patients of a block.
#[derive(Debug, Default)]
pub struct Patients {
    pub patient_id: Vec<i64>,
    pub practice: Vec<u32>,
    pub birth_year: Vec<i64>,
    pub sex: Vec<&'static str>,
    pub lsoa: Vec<u32>,
    pub registered_from: Vec<i32>,
    pub registered_to: Vec<Option<i32>>,
}

impl Patients {
    pub fn batch(&self, practices: &[String], lsoas: &[String]) -> RecordBatch {
        batch(
            &PATIENTS,
            vec![
                Arc::new(Int64Array::from(self.patient_id.clone())),
                codes(&self.practice, practices),
                Arc::new(Int64Array::from(self.birth_year.clone())),
                strings(&self.sex),
                codes(&self.lsoa, lsoas),
                Arc::new(Date32Array::from(self.registered_from.clone())),
                Arc::new(Date32Array::from(self.registered_to.clone())),
            ],
        )
    }
}

#[derive(Debug, Default)]
pub struct Conditions {
    pub patient_id: Vec<i64>,
    pub condition: Vec<&'static str>,
    pub diagnosed_on: Vec<i32>,
}

impl Conditions {
    pub fn batch(&self) -> RecordBatch {
        batch(
            &CONDITIONS,
            vec![
                Arc::new(Int64Array::from(self.patient_id.clone())),
                strings(&self.condition),
                Arc::new(Date32Array::from(self.diagnosed_on.clone())),
            ],
        )
    }
}

#[derive(Debug, Default)]
pub struct Admissions {
    pub patient_id: Vec<i64>,
    pub provider: Vec<u32>,
    pub commissioner: Vec<u32>,
    pub admission_date: Vec<i32>,
    pub discharge_date: Vec<i32>,
    pub method: Vec<&'static str>,
    pub diagnosis: Vec<&'static str>,
    pub destination: Vec<&'static str>,
    pub delayed_days: Vec<i64>,
    pub cost: Vec<f64>,
}

impl Admissions {
    pub fn len(&self) -> usize {
        self.patient_id.len()
    }

    pub fn batch(&self, first_id: i64, providers: &[String], commissioners: &[String]) -> RecordBatch {
        batch(
            &ADMISSIONS,
            vec![
                ids(first_id, self.len()),
                Arc::new(Int64Array::from(self.patient_id.clone())),
                codes(&self.provider, providers),
                codes(&self.commissioner, commissioners),
                Arc::new(Date32Array::from(self.admission_date.clone())),
                Arc::new(Date32Array::from(self.discharge_date.clone())),
                strings(&self.method),
                strings(&self.diagnosis),
                strings(&self.destination),
                Arc::new(Int64Array::from(self.delayed_days.clone())),
                Arc::new(Float64Array::from(self.cost.clone())),
            ],
        )
    }
}

#[derive(Debug, Default)]
pub struct Attendances {
    pub patient_id: Vec<i64>,
    pub provider: Vec<u32>,
    pub department_type: Vec<&'static str>,
    pub arrival: Vec<i64>,
    pub departure: Vec<i64>,
    pub admitted: Vec<bool>,
    pub decision_to_admit: Vec<Option<i64>>,
}

impl Attendances {
    pub fn len(&self) -> usize {
        self.patient_id.len()
    }

    pub fn batch(&self, first_id: i64, providers: &[String]) -> RecordBatch {
        batch(
            &AE,
            vec![
                ids(first_id, self.len()),
                Arc::new(Int64Array::from(self.patient_id.clone())),
                codes(&self.provider, providers),
                strings(&self.department_type),
                ms(&self.arrival),
                ms(&self.departure),
                Arc::new(BooleanArray::from(self.admitted.clone())),
                Arc::new(TimestampMillisecondArray::from(
                    self.decision_to_admit
                        .iter()
                        .map(|t| t.map(|s| s * 1_000))
                        .collect::<Vec<_>>(),
                )),
            ],
        )
    }
}

#[derive(Debug, Default)]
pub struct Outpatients {
    pub patient_id: Vec<i64>,
    pub provider: Vec<u32>,
    pub commissioner: Vec<u32>,
    pub date: Vec<i32>,
    pub attended: Vec<bool>,
    pub first: Vec<bool>,
    pub cost: Vec<f64>,
}

impl Outpatients {
    pub fn len(&self) -> usize {
        self.patient_id.len()
    }

    pub fn batch(&self, first_id: i64, providers: &[String], commissioners: &[String]) -> RecordBatch {
        batch(
            &OUTPATIENTS,
            vec![
                ids(first_id, self.len()),
                Arc::new(Int64Array::from(self.patient_id.clone())),
                codes(&self.provider, providers),
                codes(&self.commissioner, commissioners),
                Arc::new(Date32Array::from(self.date.clone())),
                Arc::new(BooleanArray::from(self.attended.clone())),
                Arc::new(BooleanArray::from(self.first.clone())),
                Arc::new(Float64Array::from(self.cost.clone())),
            ],
        )
    }
}

#[derive(Debug, Default)]
pub struct Population {
    pub period: Vec<u32>,
    pub practice: Vec<u32>,
    pub band: Vec<u32>,
    pub sex: Vec<&'static str>,
    pub persons: Vec<i64>,
}

impl Population {
    pub fn batch(&self, periods: &[String], practices: &[String], bands: &[String]) -> RecordBatch {
        batch(
            &POPULATION,
            vec![
                codes(&self.period, periods),
                codes(&self.practice, practices),
                codes(&self.band, bands),
                strings(&self.sex),
                Arc::new(Int64Array::from(self.persons.clone())),
            ],
        )
    }
}

#[derive(Debug, Default)]
pub struct Survey {
    pub period: Vec<u32>,
    pub practice: Vec<u32>,
    pub band: Vec<Option<u32>>,
    pub care_coordinated: Vec<Option<i64>>,
    pub information_shared: Vec<Option<i64>>,
    pub discharge_timely: Vec<Option<i64>>,
}

impl Survey {
    pub fn batch(&self, periods: &[String], practices: &[String], bands: &[String]) -> RecordBatch {
        batch(
            &SURVEY,
            vec![
                ids(1, self.period.len()),
                codes(&self.period, periods),
                codes(&self.practice, practices),
                Arc::new(StringArray::from_iter(
                    self.band.iter().map(|b| b.map(|b| bands[b as usize].as_str())),
                )),
                Arc::new(Int64Array::from(self.care_coordinated.clone())),
                Arc::new(Int64Array::from(self.information_shared.clone())),
                Arc::new(Int64Array::from(self.discharge_timely.clone())),
            ],
        )
    }
}

pub(crate) fn ids(first: i64, n: usize) -> ArrayRef {
    Arc::new(Int64Array::from_iter_values(first..first + n as i64))
}
