//! A shared generated dataset and plain readers of its files.

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{Date32Type, Int64Type};
use model::Month;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use synth::{Config, Truth};

/// The scale of the shared dataset: 3.2 million patients, enough for every planted signal to
/// stand out of the noise.
pub const SCALE: f64 = 0.05;

pub struct Fixture {
    _dir: tempfile::TempDir,
    pub path: PathBuf,
    pub truth: Truth,
}

pub fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temporary folder");
        let path = dir.path().join("england");
        let config = Config {
            scale: SCALE,
            seed: 7,
            ..Config::default()
        };
        synth::generate(&path, &config, None, None).expect("generates");
        let truth = Truth::read(&path).expect("truth.toml reads back");
        Fixture {
            _dir: dir,
            path,
            truth,
        }
    })
}

pub fn batches(dir: &Path, table: &str) -> Vec<RecordBatch> {
    let file = std::fs::File::open(dir.join(format!("{table}.parquet"))).expect("table exists");
    ParquetRecordBatchReaderBuilder::try_new(file)
        .expect("Parquet")
        .with_batch_size(1 << 16)
        .build()
        .expect("reader")
        .map(|b| b.expect("batch"))
        .collect()
}

pub fn ints(b: &RecordBatch, name: &str) -> Vec<i64> {
    b.column_by_name(name)
        .expect(name)
        .as_primitive::<Int64Type>()
        .values()
        .to_vec()
}

pub fn dates(b: &RecordBatch, name: &str) -> Vec<i32> {
    b.column_by_name(name)
        .expect(name)
        .as_primitive::<Date32Type>()
        .values()
        .to_vec()
}

pub fn texts(b: &RecordBatch, name: &str) -> Vec<String> {
    let a = b.column_by_name(name).expect(name).as_string::<i32>();
    (0..a.len()).map(|i| a.value(i).to_string()).collect()
}

pub fn csv(dir: &Path, table: &str) -> Vec<HashMap<String, String>> {
    let mut reader = ::csv::Reader::from_path(dir.join(format!("{table}.csv"))).expect("csv");
    let headers = reader.headers().expect("header").clone();
    reader
        .records()
        .map(|r| {
            let r = r.expect("record");
            headers
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

pub fn num(row: &HashMap<String, String>, key: &str) -> f64 {
    row[key]
        .parse()
        .unwrap_or_else(|_| panic!("{key} = {:?} is not a number", row[key]))
}

/// One hospital spell, with the patient's practice.
#[derive(Debug, Clone)]
pub struct Spell {
    pub patient: i64,
    pub practice: u32,
    pub provider: String,
    pub admitted: i32,
    pub discharged: i32,
    pub method: String,
    pub destination: String,
}

/// The people and spells of a dataset, joined by patient.
pub struct People {
    pub practice_codes: Vec<String>,
    /// By patient id (ids run from 1): practice index, birth year, male.
    pub patients: Vec<(u32, i32, bool)>,
    /// Sorted by patient, then admission date.
    pub spells: Vec<Spell>,
    /// Practice → commissioner.
    pub commissioner: HashMap<String, String>,
    /// Commissioner → system.
    pub system: HashMap<String, String>,
}

pub fn people(dir: &Path) -> People {
    let mut practice_index: HashMap<String, u32> = HashMap::new();
    let mut practice_codes = Vec::new();
    let mut patients = vec![(0, 0, false)];
    for b in batches(dir, "patients") {
        let (ids, practice, birth, sex) = (
            ints(&b, "patient_id"),
            texts(&b, "practice_code"),
            ints(&b, "birth_year"),
            texts(&b, "sex"),
        );
        for i in 0..b.num_rows() {
            assert_eq!(
                ids[i] as usize,
                patients.len(),
                "patient ids run from 1 without gaps"
            );
            let next = practice_codes.len() as u32;
            let p = *practice_index.entry(practice[i].clone()).or_insert_with(|| {
                practice_codes.push(practice[i].clone());
                next
            });
            patients.push((p, birth[i] as i32, sex[i] == "M"));
        }
    }
    let mut spells = Vec::new();
    for b in batches(dir, "admissions") {
        let (patient, provider) = (ints(&b, "patient_id"), texts(&b, "provider_code"));
        let (adm, dis) = (dates(&b, "admission_date"), dates(&b, "discharge_date"));
        let (method, dest) = (texts(&b, "method"), texts(&b, "discharge_destination"));
        for i in 0..b.num_rows() {
            spells.push(Spell {
                patient: patient[i],
                practice: patients[patient[i] as usize].0,
                provider: provider[i].clone(),
                admitted: adm[i],
                discharged: dis[i],
                method: method[i].clone(),
                destination: dest[i].clone(),
            });
        }
    }
    spells.sort_by_key(|s| (s.patient, s.admitted, s.discharged));
    let mut commissioner = HashMap::new();
    let mut system = HashMap::new();
    for row in csv(dir, "organisations") {
        match row["kind"].as_str() {
            "gp_practice" => {
                commissioner.insert(row["org_code"].clone(), row["parent_code"].clone());
            }
            "commissioner" => {
                system.insert(row["org_code"].clone(), row["system_code"].clone());
            }
            _ => {}
        }
    }
    People {
        practice_codes,
        patients,
        spells,
        commissioner,
        system,
    }
}

/// Registered person-months by practice and month, from `population`.
pub fn person_months(dir: &Path) -> HashMap<(String, Month), f64> {
    let mut out = HashMap::new();
    for b in batches(dir, "population") {
        let (period, practice, persons) = (
            texts(&b, "period"),
            texts(&b, "practice_code"),
            ints(&b, "persons"),
        );
        for i in 0..b.num_rows() {
            *out.entry((practice[i].clone(), period[i].parse().expect("month")))
                .or_insert(0.0) += persons[i] as f64;
        }
    }
    out
}

/// NHS Outcomes Framework 3b: (readmitted, index spells) by discharging provider.
pub fn readmissions(spells: &[Spell], last_day: i32) -> HashMap<String, (f64, f64)> {
    let mut out: HashMap<String, (f64, f64)> = HashMap::new();
    for (i, s) in spells.iter().enumerate() {
        if s.method == "maternity" || s.destination == "died" || s.discharged > last_day - 30 {
            continue;
        }
        let hit = spells[i + 1..]
            .iter()
            .take_while(|n| n.patient == s.patient && n.admitted <= s.discharged + 30)
            .any(|n| n.method == "emergency" && n.admitted >= s.discharged);
        let e = out.entry(s.provider.clone()).or_default();
        e.0 += hit as u8 as f64;
        e.1 += 1.0;
    }
    out
}
