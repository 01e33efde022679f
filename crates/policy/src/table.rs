//! The indicator table an assessment reads: the engine's unsuppressed output (or a CSV in its
//! schema that a user brings), with the signals table when there is one.

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Float64Type};
use arrow::record_batch::RecordBatch;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Value {
    pub numerator: Option<f64>,
    pub denominator: Option<f64>,
    pub value: Option<f64>,
    pub lower_95: Option<f64>,
    pub upper_95: Option<f64>,
    pub lower_998: Option<f64>,
    pub upper_998: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Signal {
    pub spc_point: Option<String>,
    pub spc_variation: Option<String>,
    pub funnel_position: Option<String>,
    pub funnel_side: Option<String>,
}

/// (indicator, entity kind, entity code, grain, period).
pub type Key = (String, String, String, String, String);

/// Values by indicator, entity kind, entity code, grain and period, nested so that a lookup
/// by borrowed text allocates nothing.
#[derive(Debug)]
pub struct Nest<T>(HashMap<String, ByKind<T>>);

type ByPeriod<T> = HashMap<String, T>;
type ByGrain<T> = HashMap<String, ByPeriod<T>>;
type ByCode<T> = HashMap<String, ByGrain<T>>;
type ByKind<T> = HashMap<String, ByCode<T>>;

impl<T> Default for Nest<T> {
    fn default() -> Self {
        Nest(HashMap::new())
    }
}

impl<T> Nest<T> {
    pub fn get(&self, k: [&str; 5]) -> Option<&T> {
        self.0.get(k[0])?.get(k[1])?.get(k[2])?.get(k[3])?.get(k[4])
    }

    /// Inserts; returns the value it replaced.
    pub fn insert(&mut self, k: &Key, v: T) -> Option<T> {
        self.0
            .entry(k.0.clone())
            .or_default()
            .entry(k.1.clone())
            .or_default()
            .entry(k.2.clone())
            .or_default()
            .entry(k.3.clone())
            .or_default()
            .insert(k.4.clone(), v)
    }
}

#[derive(Debug, Default)]
pub struct Table {
    /// Only these indicators are kept (all if empty).
    pub wanted: std::collections::BTreeSet<String>,
    pub values: Nest<Value>,
    pub signals: Nest<Signal>,
    /// Organisation kinds given in the table's optional `org_kind` column.
    pub org_kinds: HashMap<String, String>,
    /// The entities of each kind, in code order.
    pub entities: std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
    /// Periods present, by grain.
    pub periods: std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
}

#[derive(Debug, thiserror::Error)]
#[error("{file}: {message}")]
pub struct TableError {
    pub file: String,
    pub message: String,
}

fn err(file: &Path, message: impl Into<String>) -> TableError {
    TableError {
        file: file.display().to_string(),
        message: message.into(),
    }
}

impl Table {
    pub fn get(&self, indicator: &str, kind: &str, code: &str, grain: &str, period: &str) -> Option<&Value> {
        self.values.get([indicator, kind, code, grain, period])
    }

    pub fn signal(
        &self,
        indicator: &str,
        kind: &str,
        code: &str,
        grain: &str,
        period: &str,
    ) -> Option<&Signal> {
        self.signals.get([indicator, kind, code, grain, period])
    }

    /// The value at the latest period of `grain` that has one.
    pub fn latest(&self, indicator: &str, kind: &str, code: &str, grain: &str) -> Option<f64> {
        let periods = self.periods.get(grain)?;
        let mut sorted: Vec<&String> = periods.iter().collect();
        sorted.sort_by_key(|p| crate::period_order(p));
        sorted
            .into_iter()
            .rev()
            .find_map(|p| self.get(indicator, kind, code, grain, p).and_then(|v| v.value))
    }

    /// The table of batches already in memory (the engine's unsuppressed output and its
    /// signals), keeping only the `wanted` indicators (all if empty): no files.
    pub fn from_batches(
        values: &[RecordBatch],
        signals: &[RecordBatch],
        wanted: &[String],
    ) -> Result<Table, TableError> {
        let mut t = Table {
            wanted: wanted.iter().cloned().collect(),
            ..Table::default()
        };
        let source = Path::new("(computed indicators)");
        let mut row = 0;
        for b in values {
            t.add_value_batch(b, source, &mut row)?;
        }
        for b in signals {
            t.add_signal_batch(b, source)?;
        }
        Ok(t)
    }

    /// Reads a folder written by `footprint indicators compute --unsuppressed`, or one file
    /// (CSV or Parquet) in the engine's output schema.
    pub fn read(path: &Path) -> Result<Table, TableError> {
        Table::read_only(path, &[])
    }

    /// Reads only the rows of the `wanted` indicators (all if empty).
    pub fn read_only(path: &Path, wanted: &[String]) -> Result<Table, TableError> {
        let mut t = Table {
            wanted: wanted.iter().cloned().collect(),
            ..Table::default()
        };
        if path.is_dir() {
            let find = |stem: &str| -> Option<PathBuf> {
                ["parquet", "csv"]
                    .iter()
                    .map(|x| path.join(format!("{stem}.{x}")))
                    .find(|p| p.is_file())
            };
            let Some(values) = find("indicators_unsuppressed") else {
                let published = find("indicators").is_some();
                return Err(err(
                    path,
                    if published {
                        "has only published (disclosure-controlled, rounded) indicators; assessment reads unsuppressed values: compute with --unsuppressed"
                    } else {
                        "no indicators_unsuppressed.parquet or .csv: compute with `footprint indicators compute --unsuppressed`"
                    },
                ));
            };
            t.read_values(&values)?;
            // The signals of every row (the published file nulls those of suppressed rows).
            if let Some(signals) =
                find("indicator_signals_unsuppressed").or_else(|| find("indicator_signals"))
            {
                t.read_signals(&signals)?;
            }
        } else if path.is_file() {
            t.read_values(path)?;
        } else {
            return Err(err(path, "no such file or folder"));
        }
        Ok(t)
    }

    fn read_values(&mut self, path: &Path) -> Result<(), TableError> {
        if path.extension().is_some_and(|x| x == "parquet") {
            return self.read_values_parquet(path);
        }
        let rows = rows(path)?;
        for (line, r) in rows.into_iter().enumerate() {
            let line = line + 2;
            let text = |c: &str| -> Result<String, TableError> {
                r.get(c)
                    .cloned()
                    .flatten()
                    .filter(|s| !s.is_empty())
                    .ok_or_else(|| err(path, format!("line {line}: column {c}: missing")))
            };
            let num = |c: &str| -> Result<Option<f64>, TableError> {
                match r.get(c).cloned().flatten().filter(|s| !s.is_empty()) {
                    None => Ok(None),
                    Some(s) => s
                        .parse::<f64>()
                        .ok()
                        .filter(|v| v.is_finite())
                        .map(Some)
                        .ok_or_else(|| err(path, format!("line {line}: column {c}: {s:?}: not a number"))),
                }
            };
            let key = (
                text("indicator_id")?,
                text("entity_kind")?,
                text("entity_code")?,
                text("grain")?,
                text("period")?,
            );
            if !self.keep(&key.0) {
                continue;
            }
            let v = Value {
                numerator: num("numerator")?,
                denominator: num("denominator")?,
                value: num("value")?,
                lower_95: num("lower_95")?,
                upper_95: num("upper_95")?,
                lower_998: num("lower_998")?,
                upper_998: num("upper_998")?,
            };
            let org_kind = r.get("org_kind").cloned().flatten();
            self.add_value(key, v, org_kind, path, &format!("line {line}"))?;
        }
        Ok(())
    }

    /// Keeps one value (and the entity, period and organisation kind it brings); a key seen
    /// twice is refused.
    fn add_value(
        &mut self,
        key: Key,
        v: Value,
        org_kind: Option<String>,
        path: &Path,
        at: &str,
    ) -> Result<(), TableError> {
        if let Some(k) = org_kind.filter(|k| !k.is_empty()) {
            self.org_kinds.insert(key.2.clone(), k);
        }
        self.entities
            .entry(key.1.clone())
            .or_default()
            .insert(key.2.clone());
        self.periods
            .entry(key.3.clone())
            .or_default()
            .insert(key.4.clone());
        if self.values.insert(&key, v).is_some() {
            return Err(err(
                path,
                format!(
                    "{at}: {} {} {} {} {}: appears twice",
                    key.0, key.1, key.2, key.3, key.4
                ),
            ));
        }
        Ok(())
    }

    /// The engine's own Parquet output, column by column (no per-row maps).
    fn read_values_parquet(&mut self, path: &Path) -> Result<(), TableError> {
        let mut row = 0;
        for batch in parquet_reader(path)? {
            let batch = batch.map_err(|e| err(path, e.to_string()))?;
            self.add_value_batch(&batch, path, &mut row)?;
        }
        Ok(())
    }

    /// Keeps the values of one batch in the engine's output schema.
    fn add_value_batch(
        &mut self,
        batch: &RecordBatch,
        path: &Path,
        row: &mut usize,
    ) -> Result<(), TableError> {
        let text = |c: &str| -> Result<arrow::array::ArrayRef, TableError> {
            let a = batch
                .column_by_name(c)
                .ok_or_else(|| err(path, format!("no column {c}")))?;
            arrow::compute::cast(a, &DataType::Utf8).map_err(|e| err(path, format!("column {c}: {e}")))
        };
        let num = |c: &str| -> Result<Option<arrow::array::ArrayRef>, TableError> {
            match batch.column_by_name(c) {
                None => Ok(None),
                Some(a) => arrow::compute::cast(a, &DataType::Float64)
                    .map(Some)
                    .map_err(|e| err(path, format!("column {c}: {e}"))),
            }
        };
        let keys = ["indicator_id", "entity_kind", "entity_code", "grain", "period"].map(text);
        let [Ok(ind), Ok(kind), Ok(code), Ok(grain), Ok(period)] = keys else {
            return Err(err(
                path,
                "needs columns indicator_id, entity_kind, entity_code, grain, period",
            ));
        };
        let (ind, kind, code, grain, period) = (
            ind.as_string::<i32>().clone(),
            kind.as_string::<i32>().clone(),
            code.as_string::<i32>().clone(),
            grain.as_string::<i32>().clone(),
            period.as_string::<i32>().clone(),
        );
        let nums = [
            "value",
            "lower_95",
            "upper_95",
            "lower_998",
            "upper_998",
            "numerator",
            "denominator",
        ]
        .map(num);
        let mut cols = Vec::with_capacity(7);
        for n in nums {
            cols.push(n?);
        }
        let get = |c: &Option<arrow::array::ArrayRef>, i: usize| {
            c.as_ref().and_then(|a| {
                let a = a.as_primitive::<Float64Type>();
                (!a.is_null(i)).then(|| a.value(i))
            })
        };
        let org_kind = batch
            .column_by_name("org_kind")
            .and_then(|a| arrow::compute::cast(a, &DataType::Utf8).ok());
        for i in 0..batch.num_rows() {
            *row += 1;
            if !self.keep(ind.value(i)) {
                continue;
            }
            let key = (
                ind.value(i).to_string(),
                kind.value(i).to_string(),
                code.value(i).to_string(),
                grain.value(i).to_string(),
                period.value(i).to_string(),
            );
            let v = Value {
                numerator: get(&cols[5], i),
                denominator: get(&cols[6], i),
                value: get(&cols[0], i),
                lower_95: get(&cols[1], i),
                upper_95: get(&cols[2], i),
                lower_998: get(&cols[3], i),
                upper_998: get(&cols[4], i),
            };
            let kind_of = org_kind.as_ref().and_then(|k| {
                let k = k.as_string::<i32>();
                k.is_valid(i).then(|| k.value(i).to_string())
            });
            self.add_value(key, v, kind_of, path, &format!("row {row}"))?;
        }
        Ok(())
    }

    fn keep(&self, indicator: &str) -> bool {
        self.wanted.is_empty() || self.wanted.contains(indicator)
    }

    fn read_signals(&mut self, path: &Path) -> Result<(), TableError> {
        if path.extension().is_some_and(|x| x == "parquet") {
            return self.read_signals_parquet(path);
        }
        for (line, r) in rows(path)?.into_iter().enumerate() {
            let get = |c: &str| r.get(c).cloned().flatten().filter(|s| !s.is_empty());
            let text =
                |c: &str| get(c).ok_or_else(|| err(path, format!("line {}: column {c}: missing", line + 2)));
            let key = (
                text("indicator_id")?,
                text("entity_kind")?,
                text("entity_code")?,
                text("grain")?,
                text("period")?,
            );
            if !self.keep(&key.0) {
                continue;
            }
            self.signals.insert(
                &key,
                Signal {
                    spc_point: get("spc_point"),
                    spc_variation: get("spc_variation"),
                    funnel_position: get("funnel_position"),
                    funnel_side: get("funnel_side"),
                },
            );
        }
        Ok(())
    }
}

impl Table {
    fn read_signals_parquet(&mut self, path: &Path) -> Result<(), TableError> {
        for batch in parquet_reader(path)? {
            let batch = batch.map_err(|e| err(path, e.to_string()))?;
            self.add_signal_batch(&batch, path)?;
        }
        Ok(())
    }

    /// Keeps the signals of one batch in the engine's signals schema.
    fn add_signal_batch(&mut self, batch: &RecordBatch, path: &Path) -> Result<(), TableError> {
        let text = |c: &str| -> Result<Option<arrow::array::ArrayRef>, TableError> {
            match batch.column_by_name(c) {
                None => Ok(None),
                Some(a) => arrow::compute::cast(a, &DataType::Utf8)
                    .map(Some)
                    .map_err(|e| err(path, format!("column {c}: {e}"))),
            }
        };
        let names = [
            "indicator_id",
            "entity_kind",
            "entity_code",
            "grain",
            "period",
            "spc_point",
            "spc_variation",
            "funnel_position",
            "funnel_side",
        ];
        let mut cols = Vec::with_capacity(names.len());
        for n in names {
            cols.push(text(n)?);
        }
        if cols[..5].iter().any(Option::is_none) {
            return Err(err(
                path,
                "needs columns indicator_id, entity_kind, entity_code, grain, period",
            ));
        }
        let cell = |c: usize, i: usize| -> Option<&str> {
            let a = cols[c].as_ref()?.as_string::<i32>();
            (a.is_valid(i) && !a.value(i).is_empty()).then(|| a.value(i))
        };
        for i in 0..batch.num_rows() {
            let Some(ind) = cell(0, i) else { continue };
            if !self.keep(ind) {
                continue;
            }
            let key = (
                ind.to_string(),
                cell(1, i).unwrap_or_default().to_string(),
                cell(2, i).unwrap_or_default().to_string(),
                cell(3, i).unwrap_or_default().to_string(),
                cell(4, i).unwrap_or_default().to_string(),
            );
            let own = |c: usize| cell(c, i).map(str::to_string);
            self.signals.insert(
                &key,
                Signal {
                    spc_point: own(5),
                    spc_variation: own(6),
                    funnel_position: own(7),
                    funnel_side: own(8),
                },
            );
        }
        Ok(())
    }
}

/// A Parquet file's record batches.
fn parquet_reader(path: &Path) -> Result<parquet::arrow::arrow_reader::ParquetRecordBatchReader, TableError> {
    let f = std::fs::File::open(path).map_err(|e| err(path, e.to_string()))?;
    parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(f)
        .and_then(|b| b.build())
        .map_err(|e| err(path, e.to_string()))
}

type Row = HashMap<String, Option<String>>;

/// Every row of a CSV or Parquet file as text cells by column name.
fn rows(path: &Path) -> Result<Vec<Row>, TableError> {
    if path.extension().is_some_and(|x| x == "parquet") {
        let reader = parquet_reader(path)?;
        let mut out = Vec::new();
        for batch in reader {
            let batch = batch.map_err(|e| err(path, e.to_string()))?;
            let schema = batch.schema();
            let cols: Vec<(String, arrow::array::ArrayRef)> = schema
                .fields()
                .iter()
                .zip(batch.columns())
                .map(|(f, c)| (f.name().clone(), c.clone()))
                .collect();
            for i in 0..batch.num_rows() {
                let mut row = Row::new();
                for (name, c) in &cols {
                    let cell = if c.is_null(i) {
                        None
                    } else if c.data_type() == &DataType::Float64 {
                        Some(c.as_primitive::<Float64Type>().value(i).to_string())
                    } else {
                        arrow::util::display::array_value_to_string(c, i).ok()
                    };
                    row.insert(name.clone(), cell);
                }
                out.push(row);
            }
        }
        Ok(out)
    } else {
        let mut r = csv::Reader::from_path(path).map_err(|e| err(path, e.to_string()))?;
        let headers: Vec<String> = r
            .headers()
            .map_err(|e| err(path, e.to_string()))?
            .iter()
            .map(|h| h.trim().to_string())
            .collect();
        for need in ["indicator_id", "entity_kind", "entity_code", "grain", "period"] {
            if !headers.iter().any(|h| h == need) {
                return Err(err(path, format!("line 1: no column {need}")));
            }
        }
        let mut out = Vec::new();
        for rec in r.records() {
            let rec = rec.map_err(|e| err(path, e.to_string()))?;
            out.push(
                headers
                    .iter()
                    .cloned()
                    .zip(rec.iter().map(|s| Some(s.trim().to_string())))
                    .collect(),
            );
        }
        Ok(out)
    }
}
