//! The patients mart: every patient's registered practice, birth year and sex in arrays
//! indexed by patient id, made once per dataset beside its validation receipt
//! (`.footprint/patients/`), so an indicator attributed through registered practices looks
//! each row's patient up instead of joining the patients table again in every query (at
//! scale 1, a join reads 69 million patients; the lookup reads 2 bytes a patient once).
//!
//! Queries read it through SQL functions, registered only when the mart matches the
//! patients table as it is now:
//!
//! - `fp_patient_known(id)`: whether the id is a patient's (the join's inner condition);
//! - `fp_patient_practice(id)`, `fp_patient_birth_year(id)`, `fp_patient_sex(id)`: that
//!   patient's columns, NULL for an unknown id or a missing value;
//! - `fp_patient_practice_no(id)` and `fp_practice_code(number)`: the practice as a small
//!   number, grouped on in place of its code, and the code of a number, after aggregation.
//!
//! The mart is made only when patient ids are integers spanning at most four times as many
//! values as there are patients (so an array over the range is at most 20 bytes a patient)
//! and there are fewer than 65,534 practices; otherwise, or when it is missing or stale (a
//! patients file resized or touched, another Footprint version), the plans join `patients`
//! as before. A cluster's executors cannot read this process's memory, so there the plans
//! always join.

use crate::Error;
use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Int64Array, StringArray, StringViewBuilder, UInt16Array,
};
use arrow::datatypes::{DataType, Int64Type, UInt16Type};
use datafusion::logical_expr::{ColumnarValue, Volatility, create_udf};
use datafusion::prelude::SessionContext;
use dataset::Dataset;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

/// Where the mart lives, relative to the dataset folder.
pub const DIR: &str = ".footprint/patients";
const FORMAT: u32 = 1;
/// A practice number meaning "no patient has this id".
const ABSENT: u16 = u16::MAX;
/// A practice number meaning "a patient with no practice code".
const NO_PRACTICE: u16 = u16::MAX - 1;
/// A sex number meaning "not recorded".
const NO_SEX: u8 = u8::MAX;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct Header {
    format: u32,
    footprint: String,
    /// `dataset::receipt::table_stamp` of the patients table the mart was made from.
    patients_files: String,
    /// The smallest patient id; position `i` of every column is patient `first_id + i`.
    first_id: i64,
    /// The length of every column (the id range).
    ids: u64,
    patients: u64,
    practices: Vec<String>,
    sexes: Vec<String>,
    /// Why no arrays were made for this patients table (then there are none, and the plans
    /// join), recorded so that it is not tried again while the table is unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    skipped: Option<String>,
}

/// A dataset's patients mart, its columns read from disk when a query first needs them.
#[derive(Debug)]
pub struct Mart {
    dir: PathBuf,
    header: Header,
    practice: OnceLock<Result<Vec<u16>, String>>,
    birth_year: OnceLock<Result<Vec<u16>, String>>,
    sex: OnceLock<Result<Vec<u8>, String>>,
}

/// Records why no arrays were made for a dataset's patients (not an error: the plans join
/// instead).
fn skip(ds: &Dataset, stamp: String, why: String) -> Result<Option<PathBuf>, Error> {
    tracing::info!("no patients mart: {why}; registered-population indicators join patients");
    let header = Header {
        format: FORMAT,
        footprint: env!("CARGO_PKG_VERSION").to_string(),
        patients_files: stamp,
        first_id: 0,
        ids: 0,
        patients: 0,
        practices: Vec::new(),
        sexes: Vec::new(),
        skipped: Some(why),
    };
    publish(ds, &header, &[])?;
    Ok(None)
}

/// Writes a mart's header and columns aside and renames them into place, so a reader never
/// sees half a mart.
fn publish(ds: &Dataset, header: &Header, columns: &[(&str, Vec<u8>)]) -> Result<PathBuf, Error> {
    let dir = ds.root.join(DIR);
    let part = aside(ds)?;
    for (name, bytes) in columns {
        std::fs::write(part.join(name), bytes).map_err(|e| io(name, e))?;
    }
    let text = toml::to_string(header).map_err(|e| Error::Runtime(e.to_string()))?;
    std::fs::write(part.join("mart.toml"), text).map_err(|e| io("mart.toml", e))?;
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::rename(&part, &dir).map_err(|e| io("rename", e))?;
    Ok(dir)
}

fn io(what: &str, e: std::io::Error) -> Error {
    Error::Runtime(format!("writing the patients mart ({what}): {e}"))
}

/// An empty folder beside the mart's to write a new one into; made before the patients are
/// read, so a dataset folder that cannot be written to costs nothing.
fn aside(ds: &Dataset) -> Result<PathBuf, Error> {
    let part = ds.root.join(DIR).with_extension("part");
    let _ = std::fs::remove_dir_all(&part);
    std::fs::create_dir_all(&part).map_err(|e| io("folder", e))?;
    Ok(part)
}

/// Whether the dataset's mart (or its record of why there is none) matches its patients
/// table as it is now; `false` means `write` should run.
pub fn current(ds: &Dataset) -> bool {
    header(ds).is_some()
}

/// The header of the dataset's mart if it matches the patients table as it is now and its
/// columns are whole.
fn header(ds: &Dataset) -> Option<Header> {
    let dir = ds.root.join(DIR);
    let text = std::fs::read_to_string(dir.join("mart.toml")).ok()?;
    let header: Header = toml::from_str(&text).ok()?;
    let current = dataset::receipt::table_stamp(ds, "patients")?;
    if header.format != FORMAT
        || header.footprint != env!("CARGO_PKG_VERSION")
        || header.patients_files != current
    {
        return None;
    }
    if header.skipped.is_none() {
        for (name, width) in [("practice.u16", 2), ("birth_year.u16", 2), ("sex.u8", 1)] {
            let bytes = std::fs::metadata(dir.join(name)).map_or(0, |m| m.len());
            if bytes != header.ids * width {
                tracing::warn!(
                    "the patients mart's {name} has {bytes} bytes, not {}; it will be made again",
                    header.ids * width
                );
                return None;
            }
        }
    }
    Some(header)
}

/// Makes the dataset's patients mart from its patients table and writes it under
/// `.footprint/patients/`, replacing any earlier one. Returns where it was written, or
/// `None` (logged) when the dataset has no patients or its ids do not suit an array.
pub fn write(ds: &Dataset) -> Result<Option<PathBuf>, Error> {
    let Some(stamp) = dataset::receipt::table_stamp(ds, "patients") else {
        return Ok(None);
    };
    aside(ds)?;
    let engine = crate::Engine::new(ds)?;
    let fail = |e: String| Error::Read {
        table: "patients".into(),
        message: e,
    };
    let Some(schema) = engine.schemas.get("patients") else {
        return Ok(None);
    };
    let id_type = schema
        .field_with_name("patient_id")
        .map_err(|e| fail(e.to_string()))?
        .data_type();
    if !id_type.is_integer() {
        return skip(ds, stamp, format!("patient ids are {id_type}, not integers"));
    }
    let range = engine.query("SELECT min(patient_id), max(patient_id), count(*) FROM patients")?;
    let ints = |c: usize| -> Option<i64> {
        let b = range.first()?;
        let a = arrow::compute::cast(b.column(c), &DataType::Int64).ok()?;
        let a = a.as_primitive::<Int64Type>();
        (!a.is_null(0)).then(|| a.value(0))
    };
    let (Some(first), Some(last), Some(count)) = (ints(0), ints(1), ints(2)) else {
        return skip(ds, stamp, "the patients table is empty".into());
    };
    let ids = u64::try_from(i128::from(last) - i128::from(first) + 1).unwrap_or(u64::MAX);
    let limit = 4 * u64::try_from(count).unwrap_or(0) + 1024;
    if ids > limit || ids > u64::from(u32::MAX) {
        return skip(
            ds,
            stamp,
            format!("{count} patient ids span {ids} values, too sparse for an array"),
        );
    }
    let len = ids as usize;
    let mut practice = vec![ABSENT; len];
    let mut birth_year = vec![0u16; len];
    let mut sex = vec![NO_SEX; len];
    let mut practices: Vec<String> = Vec::new();
    let mut practice_no: HashMap<String, u16> = HashMap::new();
    let mut sexes: Vec<String> = Vec::new();
    let mut problem = None;
    engine.for_each_batch(
        "SELECT patient_id, practice_code, birth_year, sex FROM patients",
        |b| {
            if problem.is_some() {
                return;
            }
            let cast = |c: usize, t: &DataType| arrow::compute::cast(b.column(c), t);
            let (Ok(id), Ok(code), Ok(year), Ok(s)) = (
                cast(0, &DataType::Int64),
                cast(1, &DataType::Utf8),
                cast(2, &DataType::Int64),
                cast(3, &DataType::Utf8),
            ) else {
                problem = Some("a column cannot be read as its contract type".to_string());
                return;
            };
            let (id, code, year, s) = (
                id.as_primitive::<Int64Type>(),
                code.as_string::<i32>(),
                year.as_primitive::<Int64Type>(),
                s.as_string::<i32>(),
            );
            for r in 0..b.num_rows() {
                if id.is_null(r) {
                    continue;
                }
                let at = match id.value(r).checked_sub(first).map(usize::try_from) {
                    Some(Ok(at)) if at < len => at,
                    _ => {
                        problem = Some("the patients table changed while it was read".to_string());
                        return;
                    }
                };
                practice[at] = if code.is_null(r) {
                    NO_PRACTICE
                } else {
                    let c = code.value(r);
                    match practice_no.get(c) {
                        Some(&n) => n,
                        None if practices.len() < usize::from(NO_PRACTICE) => {
                            let n = practices.len() as u16;
                            practices.push(c.to_string());
                            practice_no.insert(c.to_string(), n);
                            n
                        }
                        None => {
                            problem = Some(format!("more than {NO_PRACTICE} practices"));
                            return;
                        }
                    }
                };
                if !year.is_null(r) {
                    birth_year[at] = u16::try_from(year.value(r)).unwrap_or(0);
                }
                if !s.is_null(r) {
                    let v = s.value(r);
                    sex[at] = match sexes.iter().position(|x| x == v) {
                        Some(n) => n as u8,
                        None if sexes.len() < usize::from(NO_SEX) => {
                            sexes.push(v.to_string());
                            (sexes.len() - 1) as u8
                        }
                        None => {
                            problem = Some(format!("more than {NO_SEX} values of sex"));
                            return;
                        }
                    };
                }
            }
        },
    )?;
    if let Some(why) = problem {
        return skip(ds, stamp, why);
    }
    let header = Header {
        format: FORMAT,
        footprint: env!("CARGO_PKG_VERSION").to_string(),
        patients_files: stamp,
        first_id: first,
        ids,
        patients: u64::try_from(count).unwrap_or(0),
        practices,
        sexes,
        skipped: None,
    };
    let columns = [
        (
            "practice.u16",
            practice.iter().flat_map(|v| v.to_le_bytes()).collect(),
        ),
        (
            "birth_year.u16",
            birth_year.iter().flat_map(|v| v.to_le_bytes()).collect(),
        ),
        ("sex.u8", sex),
    ];
    publish(ds, &header, &columns).map(Some)
}

/// A column as read from disk, or why it could not be.
fn loaded<T>(column: &Result<Vec<T>, String>) -> datafusion::error::Result<&[T]> {
    column
        .as_deref()
        .map_err(|e| datafusion::error::DataFusionError::Execution(format!("the patients mart: {e}")))
}

impl Mart {
    /// The dataset's mart if one matches its patients table as it is now.
    pub fn open(ds: &Dataset) -> Option<Arc<Mart>> {
        let Some(header) = header(ds) else {
            tracing::debug!("no current patients mart; registered-population indicators join patients");
            return None;
        };
        if header.skipped.is_some() {
            return None;
        }
        let dir = ds.root.join(DIR);
        Some(Arc::new(Mart {
            dir,
            header,
            practice: OnceLock::new(),
            birth_year: OnceLock::new(),
            sex: OnceLock::new(),
        }))
    }

    fn read(&self, name: &str, width: usize) -> Result<Vec<u8>, String> {
        let path = self.dir.join(name);
        let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        if bytes.len() as u64 != self.header.ids * width as u64 {
            return Err(format!(
                "{}: {} bytes, expected {}",
                path.display(),
                bytes.len(),
                self.header.ids * width as u64
            ));
        }
        Ok(bytes)
    }

    fn u16s(&self, name: &str) -> Result<Vec<u16>, String> {
        let bytes = self.read(name, 2)?;
        Ok(bytes
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect())
    }

    fn practice(&self) -> datafusion::error::Result<&[u16]> {
        loaded(self.practice.get_or_init(|| self.u16s("practice.u16")))
    }

    fn birth_year(&self) -> datafusion::error::Result<&[u16]> {
        loaded(self.birth_year.get_or_init(|| self.u16s("birth_year.u16")))
    }

    fn sex(&self) -> datafusion::error::Result<&[u8]> {
        loaded(self.sex.get_or_init(|| self.read("sex.u8", 1)))
    }

    /// The position of `id` in the columns, if inside the range.
    fn at(&self, id: i64) -> Option<usize> {
        let i = id.checked_sub(self.header.first_id)?;
        (0..self.header.ids as i64).contains(&i).then_some(i as usize)
    }

    /// The position of each known patient's id (`None` for a null or unknown id).
    fn each(
        &self,
        args: &[ColumnarValue],
        mut f: impl FnMut(Option<usize>),
    ) -> datafusion::error::Result<usize> {
        let arrays = ColumnarValue::values_to_arrays(args)?;
        let ids = arrow::compute::cast(&arrays[0], &DataType::Int64)?;
        let ids: &Int64Array = ids.as_primitive::<Int64Type>();
        let practice = self.practice()?;
        for r in 0..ids.len() {
            let at = match ids.is_null(r) {
                true => None,
                false => self.at(ids.value(r)).filter(|&i| practice[i] != ABSENT),
            };
            f(at);
        }
        Ok(ids.len())
    }

    /// Registers one SQL function of one argument over this mart.
    fn function(
        self: &Arc<Mart>,
        ctx: &SessionContext,
        name: &str,
        input: DataType,
        output: DataType,
        f: impl Fn(&Mart, &[ColumnarValue]) -> datafusion::error::Result<ArrayRef> + Send + Sync + 'static,
    ) {
        let m = Arc::clone(self);
        ctx.register_udf(create_udf(
            name,
            vec![input],
            output,
            Volatility::Immutable,
            Arc::new(move |args: &[ColumnarValue]| f(&m, args).map(ColumnarValue::Array)),
        ));
    }

    /// Registers the mart's SQL functions over this mart.
    pub fn register(self: &Arc<Mart>, ctx: &SessionContext) {
        self.function(
            ctx,
            "fp_patient_known",
            DataType::Int64,
            DataType::Boolean,
            |m, args| {
                let mut out = Vec::new();
                m.each(args, |at| out.push(at.is_some()))?;
                Ok(Arc::new(BooleanArray::from(out)) as ArrayRef)
            },
        );
        self.function(
            ctx,
            "fp_patient_practice",
            DataType::Int64,
            DataType::Utf8View,
            |m, args| {
                let practice = m.practice()?;
                let codes = &m.header.practices;
                let mut out = StringViewBuilder::new();
                m.each(args, |at| {
                    match at.map(|i| practice[i]).filter(|&p| p != NO_PRACTICE) {
                        Some(p) => out.append_value(&codes[usize::from(p)]),
                        None => out.append_null(),
                    }
                })?;
                Ok(Arc::new(out.finish()) as ArrayRef)
            },
        );
        self.function(
            ctx,
            "fp_patient_practice_no",
            DataType::Int64,
            DataType::UInt16,
            |m, args| {
                let practice = m.practice()?;
                let mut out = Vec::new();
                m.each(args, |at| {
                    out.push(at.map(|i| practice[i]).filter(|&p| p != NO_PRACTICE))
                })?;
                Ok(Arc::new(UInt16Array::from(out)) as ArrayRef)
            },
        );
        self.function(
            ctx,
            "fp_practice_code",
            DataType::UInt16,
            DataType::Utf8View,
            |m, args| {
                let arrays = ColumnarValue::values_to_arrays(args)?;
                let numbers = arrays[0].as_primitive::<UInt16Type>();
                let codes = &m.header.practices;
                let mut out = StringViewBuilder::with_capacity(numbers.len());
                for n in numbers.iter() {
                    match n.and_then(|n| codes.get(usize::from(n))) {
                        Some(code) => out.append_value(code),
                        None => out.append_null(),
                    }
                }
                Ok(Arc::new(out.finish()) as ArrayRef)
            },
        );
        self.function(
            ctx,
            "fp_patient_birth_year",
            DataType::Int64,
            DataType::Int64,
            |m, args| {
                let years = m.birth_year()?;
                let mut out = Vec::new();
                m.each(args, |at| {
                    out.push(at.map(|i| years[i]).filter(|&y| y != 0).map(i64::from))
                })?;
                Ok(Arc::new(Int64Array::from(out)) as ArrayRef)
            },
        );
        self.function(
            ctx,
            "fp_patient_sex",
            DataType::Int64,
            DataType::Utf8,
            |m, args| {
                let sex = m.sex()?;
                let names = &m.header.sexes;
                let mut out = Vec::new();
                m.each(args, |at| {
                    out.push(
                        at.map(|i| sex[i])
                            .filter(|&s| s != NO_SEX)
                            .map(|s| names[usize::from(s)].as_str()),
                    )
                })?;
                Ok(Arc::new(StringArray::from(out)) as ArrayRef)
            },
        );
    }
}
