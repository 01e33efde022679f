//! `footprint synth --report DIR`: recomputes the national figures from a generated dataset's
//! files (not from the generator's memory) and sets them beside their calibration targets.

use crate::calibration::{Figure, Report, TARGETS};
use crate::{Error, Truth};
use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{Date32Type, Int64Type};
use model::{Month, Period};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// Streams the named columns of a Parquet table, batch by batch.
fn scan(
    dir: &Path,
    table: &str,
    columns: &[&str],
    mut each: impl FnMut(&RecordBatch) -> Result<(), String>,
) -> Result<(), Error> {
    let path = dir.join(format!("{table}.parquet"));
    let bad = |message: String| Error::Read {
        path: path.clone(),
        message,
    };
    let file = std::fs::File::open(&path).map_err(|source| Error::Io {
        path: path.clone(),
        source,
    })?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| bad(e.to_string()))?;
    let schema = builder.parquet_schema();
    let mut indices = Vec::new();
    for name in columns {
        let i = (0..schema.num_columns())
            .find(|&i| schema.column(i).name() == *name)
            .ok_or_else(|| bad(format!("no column {name}")))?;
        indices.push(i);
    }
    let mask = ProjectionMask::leaves(schema, indices);
    let reader = builder
        .with_projection(mask)
        .with_batch_size(65_536)
        .build()
        .map_err(|e| bad(e.to_string()))?;
    for batch in reader {
        let batch = batch.map_err(|e| bad(e.to_string()))?;
        each(&batch).map_err(bad)?;
    }
    Ok(())
}

fn column<'a>(batch: &'a RecordBatch, name: &str) -> Result<&'a dyn Array, String> {
    batch
        .column_by_name(name)
        .map(|c| c.as_ref())
        .ok_or_else(|| format!("no column {name}"))
}

fn ints<'a>(batch: &'a RecordBatch, name: &str) -> Result<&'a arrow::array::Int64Array, String> {
    column(batch, name)?
        .as_primitive_opt::<Int64Type>()
        .ok_or_else(|| format!("{name} is not Int64 (not written by footprint synth)"))
}

fn dates<'a>(batch: &'a RecordBatch, name: &str) -> Result<&'a arrow::array::Date32Array, String> {
    column(batch, name)?
        .as_primitive_opt::<Date32Type>()
        .ok_or_else(|| format!("{name} is not Date32 (not written by footprint synth)"))
}

fn strings<'a>(batch: &'a RecordBatch, name: &str) -> Result<&'a arrow::array::StringArray, String> {
    column(batch, name)?
        .as_string_opt::<i32>()
        .ok_or_else(|| format!("{name} is not Utf8 (not written by footprint synth)"))
}

fn read_csv(dir: &Path, table: &str, mut each: impl FnMut(&HashMap<String, String>)) -> Result<(), Error> {
    let path = dir.join(format!("{table}.csv"));
    let bad = |e: csv::Error| Error::Read {
        path: path.clone(),
        message: e.to_string(),
    };
    let mut reader = csv::Reader::from_path(&path).map_err(bad)?;
    let headers = reader.headers().map_err(bad)?.clone();
    for record in reader.records() {
        let record = record.map_err(bad)?;
        let row: HashMap<String, String> = headers
            .iter()
            .zip(record.iter())
            .map(|(h, v)| (h.to_string(), v.to_string()))
            .collect();
        each(&row);
    }
    Ok(())
}

fn num(row: &HashMap<String, String>, key: &str) -> f64 {
    row.get(key).and_then(|v| v.parse().ok()).unwrap_or(0.0)
}

fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    // R's type 7, the default of quantile().
    let h = (sorted.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    Some(sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo]))
}

/// Computes every calibration figure of the synthetic dataset in `dir`.
pub fn report(dir: &Path) -> Result<Report, Error> {
    let truth = Truth::read(dir)?;
    let scale = truth.generator.scale;
    let to: Month = truth
        .generator
        .to
        .parse()
        .map_err(|_| Error::Config(format!("truth.toml: bad month {}", truth.generator.to)))?;
    let first = to.plus(-11);
    let (start, end) = (first.first_day(), to.last_day());
    let in_year = |day: i32| day >= start && day <= end;
    let mut values: BTreeMap<&'static str, f64> = BTreeMap::new();

    let last = to.to_string();
    let mut registered = 0.0;
    let mut practices = std::collections::HashSet::new();
    scan(dir, "population", &["period", "practice_code", "persons"], |b| {
        let (period, practice, persons) = (
            strings(b, "period")?,
            strings(b, "practice_code")?,
            ints(b, "persons")?,
        );
        for i in 0..b.num_rows() {
            if period.value(i) == last {
                registered += persons.value(i) as f64;
                practices.insert(practice.value(i).to_string());
            }
        }
        Ok(())
    })?;
    values.insert("registered", registered);
    values.insert("practices", practices.len() as f64);

    let (mut t1, mut other, mut b1, mut bo, mut twelve) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let mut trusts: HashMap<String, [f64; 3]> = HashMap::new();
    read_csv(dir, "ae_monthly", |r| {
        let Some(Ok(month)) = r.get("period").map(|p| p.parse::<Month>()) else {
            return;
        };
        if month < first || month > to {
            return;
        }
        t1 += num(r, "attendances_type1");
        other += num(r, "attendances_other");
        b1 += num(r, "over_4h_type1");
        bo += num(r, "over_4h_other");
        twelve += num(r, "over_12h_dta");
        let e = trusts
            .entry(r.get("provider_code").cloned().unwrap_or_default())
            .or_default();
        e[0] += num(r, "attendances_type1");
        e[1] += num(r, "attendances_type1") + num(r, "attendances_other");
        e[2] += num(r, "over_4h_type1") + num(r, "over_4h_other");
    })?;
    if t1 + other > 0.0 {
        values.insert("ae_attendances", t1 + other);
        values.insert("ae_type1_share", 100.0 * t1 / (t1 + other));
        values.insert("ae_4h", 100.0 * (1.0 - (b1 + bo) / (t1 + other)));
        values.insert("ae_4h_type1", 100.0 * (1.0 - b1 / t1.max(1.0)));
        values.insert("ae_12h_dta", twelve);
    }
    let mut spread: Vec<f64> = trusts
        .values()
        .filter(|t| t[0] > 0.0)
        .map(|t| 100.0 * (1.0 - t[2] / t[1]))
        .collect();
    spread.sort_by(f64::total_cmp);
    for (id, q) in [
        ("ae_4h_trust_p10", 0.1),
        ("ae_4h_trust_median", 0.5),
        ("ae_4h_trust_p90", 0.9),
    ] {
        if let Some(v) = quantile(&spread, q) {
            values.insert(id, v);
        }
    }

    // Spells: counts, lengths of stay and 30-day readmissions (NHS Outcomes Framework 3b:
    // index spells end in a live discharge and are not maternity; readmitted when the patient
    // has an emergency admission from the discharge date to 30 days after it).
    struct Spell {
        patient: i64,
        admitted: i32,
        discharged: i32,
        emergency: bool,
        index: bool,
    }
    let mut spells: Vec<Spell> = Vec::new();
    let (mut all, mut emergency, mut elective, mut day_cases, mut emergency_nights) =
        (0.0, 0.0, 0.0, 0.0, 0.0);
    scan(
        dir,
        "admissions",
        &[
            "patient_id",
            "admission_date",
            "discharge_date",
            "method",
            "discharge_destination",
        ],
        |b| {
            let patient = ints(b, "patient_id")?;
            let (adm, dis) = (dates(b, "admission_date")?, dates(b, "discharge_date")?);
            let (method, dest) = (strings(b, "method")?, strings(b, "discharge_destination")?);
            for i in 0..b.num_rows() {
                let (a, d, m) = (adm.value(i), dis.value(i), method.value(i));
                if in_year(a) {
                    all += 1.0;
                    match m {
                        "emergency" => {
                            emergency += 1.0;
                            emergency_nights += (d - a) as f64;
                        }
                        "elective" => {
                            elective += 1.0;
                            day_cases += (d == a) as u8 as f64;
                        }
                        _ => {}
                    }
                }
                spells.push(Spell {
                    patient: patient.value(i),
                    admitted: a,
                    discharged: d,
                    emergency: m == "emergency",
                    index: m != "maternity" && dest.value(i) != "died" && d >= start && d <= end - 30,
                });
            }
            Ok(())
        },
    )?;
    spells.sort_unstable_by_key(|s| (s.patient, s.admitted, s.discharged));
    let (mut index, mut readmitted) = (0.0, 0.0);
    for (i, s) in spells.iter().enumerate() {
        if !s.index {
            continue;
        }
        index += 1.0;
        let hit = spells[i + 1..]
            .iter()
            .take_while(|n| n.patient == s.patient && n.admitted <= s.discharged + 30)
            .any(|n| n.emergency && n.admitted >= s.discharged);
        readmitted += hit as u8 as f64;
    }
    drop(spells);
    values.insert("admissions", all);
    values.insert("emergency_admissions", emergency);
    values.insert("elective_admissions", elective);
    if elective > 0.0 {
        values.insert("day_case_share", 100.0 * day_cases / elective);
    }
    if emergency > 0.0 {
        values.insert("los_emergency", emergency_nights / emergency);
    }
    if index > 0.0 {
        values.insert("readmissions_30d", 100.0 * readmitted / index);
    }

    let (mut appointments, mut attended) = (0.0, 0.0);
    scan(dir, "outpatients", &["date", "attended"], |b| {
        let date = dates(b, "date")?;
        let att = column(b, "attended")?
            .as_boolean_opt()
            .ok_or("attended is not Boolean")?;
        for i in 0..b.num_rows() {
            if in_year(date.value(i)) {
                appointments += 1.0;
                attended += att.value(i) as u8 as f64;
            }
        }
        Ok(())
    })?;
    values.insert("outpatient_appointments", appointments);
    if appointments > 0.0 {
        values.insert("outpatient_attended", 100.0 * attended / appointments);
    }

    let (mut waiting, mut within) = (0.0, 0.0);
    read_csv(dir, "rtt", |r| {
        if r.get("period") == Some(&last) {
            waiting += num(r, "waiting");
            within += num(r, "within_18_weeks");
        }
    })?;
    values.insert("rtt_waiting", waiting);
    if waiting > 0.0 {
        values.insert("rtt_18w", 100.0 * within / waiting);
    }
    let (mut available, mut occupied) = (0.0, 0.0);
    read_csv(dir, "beds", |r| {
        if let Some(Ok(m)) = r.get("period").map(|p| p.parse::<Month>())
            && m >= first
            && m <= to
        {
            available += num(r, "beds_available");
            occupied += num(r, "beds_occupied");
        }
    })?;
    if available > 0.0 {
        values.insert("bed_occupancy", 100.0 * occupied / available);
    }
    let year = Period::Year(2024).to_string();
    let mut allocations = None;
    read_csv(dir, "allocations", |r| {
        if r.get("period") == Some(&year) {
            *allocations.get_or_insert(0.0) += num(r, "allocation");
        }
    })?;
    if let Some(a) = allocations {
        values.insert("allocations", a);
    }

    let figures = TARGETS
        .iter()
        .map(|t| {
            let generated = values.get(t.id).copied();
            Figure {
                target: *t,
                generated,
                england: generated.map(|v| if t.scaled { v / scale } else { v }),
            }
        })
        .collect();
    Ok(Report { scale, figures })
}
