//! Checking canonical chunks against the contract: value domains, references, the window of
//! months, row rules and unique keys. Parsing has already happened; this sees typed values.

use crate::chunk::Chunk;
use crate::refs::Refs;
use crate::report::Report;
use crate::schema::{ColType, ColumnSpec, Presence, Ref, RowRule, TableSpec, Window};
use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Float64Array, Int64Array, StringArray};
use arrow::datatypes::{DataType, Date32Type, Float64Type, Int64Type, TimestampMillisecondType};
use model::{Diagnostic, Grain, Location, Month, Period, format_date};
use std::collections::{BTreeSet, HashMap};

/// Canonical timestamps are milliseconds since 1970 (Parquet has no seconds unit).
const MS_PER_DAY: i64 = 86_400_000;

/// What a table holds, gathered while checking it.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    pub rows: u64,
    /// Distinct periods of the `period` column, if the table has one.
    pub periods: BTreeSet<Period>,
    /// Earliest and latest day (days since 1970-01-01) of the table's windowed date column.
    pub days: Option<(i32, i32)>,
}

pub(crate) struct Checker<'a> {
    spec: &'static TableSpec,
    names: &'a [String],
    refs: &'a Refs,
    /// The manifest's window; `None` when the manifest itself is broken.
    window: Option<(Month, Month)>,
    keys: Vec<[u64; 3]>,
    periods: HashMap<String, Result<Period, String>>,
    pub(crate) tally: Tally,
}

impl<'a> Checker<'a> {
    pub(crate) fn new(
        spec: &'static TableSpec,
        names: &'a [String],
        refs: &'a Refs,
        window: Option<(Month, Month)>,
    ) -> Self {
        Checker {
            spec,
            names,
            refs,
            window,
            keys: Vec::new(),
            periods: HashMap::new(),
            tally: Tally::default(),
        }
    }

    /// Makes room for the keys of `rows` rows up front, so the key table never rehashes.
    pub(crate) fn reserve(&mut self, rows: u64) {
        if !self.spec.key.is_empty() {
            self.keys.reserve(usize::try_from(rows).unwrap_or(0));
        }
    }

    pub(crate) fn check(&mut self, chunk: &Chunk, report: &mut Report) {
        self.tally.rows += chunk.data.num_rows() as u64;
        let mut bad = BadCells::default();
        for (i, col) in self.spec.columns.iter().enumerate() {
            let before = report.error_count;
            self.check_column(chunk, col, chunk.data.column(i), report);
            if report.error_count > before {
                bad.columns.insert(col.name);
            }
        }
        for rule in self.spec.rules {
            // A rule between columns is not checked where one of them already broke its
            // own rule in this chunk: one wrong value gives one message.
            let names = rule_columns(rule);
            if names.iter().any(|n| bad.columns.contains(n)) {
                continue;
            }
            self.check_rule(chunk, rule, report);
        }
        self.check_keys(chunk, report);
    }

    fn loc(&self, chunk: &Chunk, row: usize, column: &str) -> Location {
        Location::file(&self.names[chunk.file])
            .line(chunk.lines.line(row))
            .column(column)
    }

    fn column_index(&self, name: &str) -> usize {
        self.spec.columns.iter().position(|c| c.name == name).unwrap_or(0)
    }

    fn check_column(&mut self, chunk: &Chunk, col: &ColumnSpec, array: &ArrayRef, report: &mut Report) {
        match col.ty {
            ColType::Code(r) => {
                let Some(strings) = array.as_string_opt::<i32>() else {
                    return;
                };
                let mut last: Option<(&str, Option<String>)> = None;
                for row in 0..strings.len() {
                    if strings.is_null(row) {
                        continue;
                    }
                    let v = strings.value(row);
                    if v.is_empty() {
                        self.empty(chunk, row, col, report);
                        continue;
                    }
                    let Some(r) = r else { continue };
                    let problem = match &last {
                        Some((prev, p)) if *prev == v => p.clone(),
                        _ => {
                            let p = self.refs.problem(r, v);
                            last = Some((v, p.clone()));
                            p
                        }
                    };
                    if let Some(rule) = problem {
                        report.push(Diagnostic::error(
                            self.loc(chunk, row, col.name),
                            Some(v.into()),
                            rule,
                        ));
                    }
                }
            }
            ColType::Id | ColType::Text => {
                if col.presence != Presence::Required {
                    return;
                }
                let Some(strings) = array.as_string_opt::<i32>() else {
                    return;
                };
                for row in 0..strings.len() {
                    if strings.is_valid(row) && strings.value(row).is_empty() {
                        self.empty(chunk, row, col, report);
                    }
                }
            }
            ColType::Enum(values) => {
                let Some(strings) = array.as_string_opt::<i32>() else {
                    return;
                };
                for row in 0..strings.len() {
                    if strings.is_null(row) {
                        continue;
                    }
                    let v = strings.value(row);
                    if v.is_empty() {
                        self.empty(chunk, row, col, report);
                    } else if !values.contains(&v) {
                        report.push(Diagnostic::error(
                            self.loc(chunk, row, col.name),
                            Some(v.into()),
                            format!("unknown value; expected one of {}", values.join(", ")),
                        ));
                    }
                }
            }
            ColType::Period(grains) => self.check_periods(chunk, col, grains, array, report),
            ColType::Icd10 => {
                let Some(strings) = array.as_string_opt::<i32>() else {
                    return;
                };
                for row in 0..strings.len() {
                    if strings.is_null(row) {
                        continue;
                    }
                    let v = strings.value(row);
                    if v.is_empty() {
                        self.empty(chunk, row, col, report);
                    } else if !is_icd10(v) {
                        report.push(Diagnostic::error(
                            self.loc(chunk, row, col.name),
                            Some(v.into()),
                            "not an ICD-10 code (a capital letter, two digits, then up to four more characters, e.g. J18.9 or I219)",
                        ));
                    }
                }
            }
            ColType::Date => self.check_window(chunk, col, array, 1, report),
            ColType::Timestamp => self.check_window(chunk, col, array, MS_PER_DAY, report),
            ColType::Int { min, max } => {
                let Some(ints) = array.as_primitive_opt::<Int64Type>() else {
                    return;
                };
                for row in 0..ints.len() {
                    if ints.is_valid(row) {
                        let v = ints.value(row);
                        if v < min || v > max {
                            report.push(Diagnostic::error(
                                self.loc(chunk, row, col.name),
                                Some(v.to_string()),
                                format!("out of range; expected {}", col.ty.describe()),
                            ));
                        }
                    }
                }
            }
            ColType::NonNeg | ColType::Amount => {
                let Some(floats) = array.as_primitive_opt::<Float64Type>() else {
                    return;
                };
                let nonneg = col.ty == ColType::NonNeg;
                for row in 0..floats.len() {
                    if floats.is_valid(row) {
                        let v = floats.value(row);
                        let rule = if !v.is_finite() {
                            Some("not a finite number")
                        } else if nonneg && v < 0.0 {
                            Some("negative; must be zero or more")
                        } else {
                            None
                        };
                        if let Some(rule) = rule {
                            report.push(Diagnostic::error(
                                self.loc(chunk, row, col.name),
                                Some(v.to_string()),
                                rule,
                            ));
                        }
                    }
                }
            }
            ColType::Bool => {}
        }
    }

    fn empty(&self, chunk: &Chunk, row: usize, col: &ColumnSpec, report: &mut Report) {
        if col.presence == Presence::Required {
            report.push(Diagnostic::error(
                self.loc(chunk, row, col.name),
                Some(String::new()),
                "missing value; this column is required",
            ));
        }
    }

    fn check_periods(
        &mut self,
        chunk: &Chunk,
        col: &ColumnSpec,
        grains: &[Grain],
        array: &ArrayRef,
        report: &mut Report,
    ) {
        let Some(strings) = array.as_string_opt::<i32>() else {
            return;
        };
        let window = self.window;
        for row in 0..strings.len() {
            if strings.is_null(row) {
                continue;
            }
            let v = strings.value(row);
            if v.is_empty() {
                self.empty(chunk, row, col, report);
                continue;
            }
            let verdict = match self.periods.get(v) {
                Some(r) => r.clone(),
                None => {
                    let r = match v.parse::<Period>() {
                        Err(e) => Err(e.to_string()),
                        Ok(p) if !grains.contains(&p.grain()) => Err(format!(
                            "wrong grain; expected {}",
                            grains
                                .iter()
                                .map(|g| g.describe())
                                .collect::<Vec<_>>()
                                .join(" or ")
                        )),
                        Ok(p) => match window {
                            Some((from, _)) if col.window == Window::NotBeforeStart => {
                                if p.last_month() < from {
                                    Err(format!(
                                        "before the dataset's window starts ({from}, manifest.toml)"
                                    ))
                                } else {
                                    Ok(p)
                                }
                            }
                            Some((from, to)) if !p.overlaps(from, to) => Err(format!(
                                "outside the dataset's window {from} to {to} (manifest.toml)"
                            )),
                            _ => Ok(p),
                        },
                    };
                    self.periods.insert(v.to_string(), r.clone());
                    r
                }
            };
            match verdict {
                Ok(p) => {
                    if self.tally.periods.len() < 10_000 {
                        self.tally.periods.insert(p);
                    }
                }
                Err(rule) => report.push(Diagnostic::error(
                    self.loc(chunk, row, col.name),
                    Some(v.into()),
                    rule,
                )),
            }
        }
    }

    /// Checks a date (`per_day` = 1) or timestamp (`per_day` = [`MS_PER_DAY`]) column against the
    /// manifest's window, and tallies its range.
    fn check_window(
        &mut self,
        chunk: &Chunk,
        col: &ColumnSpec,
        array: &ArrayRef,
        per_day: i64,
        report: &mut Report,
    ) {
        if col.window == Window::None {
            return;
        }
        let values: Vec<Option<i64>> = match array.data_type() {
            DataType::Date32 => array
                .as_primitive::<Date32Type>()
                .iter()
                .map(|v| v.map(i64::from))
                .collect(),
            DataType::Timestamp(..) => array.as_primitive::<TimestampMillisecondType>().iter().collect(),
            _ => return,
        };
        let (start, end) = match self.window {
            Some((from, to)) => (
                i64::from(from.first_day()) * per_day,
                (i64::from(to.last_day()) + 1) * per_day - 1,
            ),
            None => (i64::MIN, i64::MAX),
        };
        let (lo, hi) = self.tally.days.unwrap_or((i32::MAX, i32::MIN));
        let (mut lo, mut hi) = (lo, hi);
        for (row, v) in values.into_iter().enumerate() {
            let Some(v) = v else { continue };
            let day = v.div_euclid(per_day) as i32;
            lo = lo.min(day);
            hi = hi.max(day);
            let bad = match col.window {
                Window::Within => v < start || v > end,
                Window::NotAfterEnd => v > end,
                Window::NotBeforeStart => v < start,
                Window::None => false,
            };
            if bad {
                let (from, to) = self
                    .window
                    .map(|(f, t)| (f.to_string(), t.to_string()))
                    .unwrap_or_default();
                let shown = if per_day == 1 {
                    format_date(day)
                } else {
                    crate::cell::format_timestamp(v.div_euclid(1_000))
                };
                let rule = match col.window {
                    Window::NotAfterEnd => format!("after the dataset's window ends ({to}, manifest.toml)"),
                    Window::NotBeforeStart => {
                        format!("before the dataset's window starts ({from}, manifest.toml)")
                    }
                    _ => format!("outside the dataset's window {from} to {to} (manifest.toml)"),
                };
                report.push(Diagnostic::error(
                    self.loc(chunk, row, col.name),
                    Some(shown),
                    rule,
                ));
            }
        }
        if lo <= hi {
            self.tally.days = Some((lo, hi));
        }
    }

    fn check_rule(&self, chunk: &Chunk, rule: &RowRule, report: &mut Report) {
        let col = |name: &str| chunk.data.column(self.column_index(name));
        match *rule {
            RowRule::NotBefore { later, earlier } => {
                let (a, b) = (col(later), col(earlier));
                let (Some(a), Some(b)) = (instants(a), instants(b)) else {
                    return;
                };
                let per_day = if chunk.data.column(self.column_index(later)).data_type() == &DataType::Date32
                {
                    1
                } else {
                    MS_PER_DAY
                };
                let show = |v: i64| {
                    if per_day == 1 {
                        format_date(v as i32)
                    } else {
                        crate::cell::format_timestamp(v.div_euclid(1_000))
                    }
                };
                for row in 0..a.len() {
                    if let (Some(x), Some(y)) = (a[row], b[row])
                        && x < y
                    {
                        report.push(Diagnostic::error(
                            self.loc(chunk, row, later),
                            Some(show(x)),
                            format!("before {earlier} ({})", show(y)),
                        ));
                    }
                }
            }
            RowRule::AtMost { small, big } | RowRule::FlagAbove { small, big, .. } => {
                let (Some(a), Some(b)) = (numbers(col(small)), numbers(col(big))) else {
                    return;
                };
                for row in 0..a.len() {
                    if let (Some(x), Some(y)) = (a[row], b[row])
                        && x > y
                    {
                        let loc = self.loc(chunk, row, small);
                        let d = match rule {
                            RowRule::FlagAbove { why, .. } => Diagnostic::warning(
                                loc,
                                Some(fmt_num(x)),
                                format!("{why}: {big} is {}", fmt_num(y)),
                            ),
                            _ => Diagnostic::error(
                                loc,
                                Some(fmt_num(x)),
                                format!("more than {big} ({})", fmt_num(y)),
                            ),
                        };
                        report.push(d);
                    }
                }
            }
            RowRule::OnlyWhen { value, flag } => {
                let v = col(value);
                let Some(f) = col(flag).as_any().downcast_ref::<BooleanArray>() else {
                    return;
                };
                for row in 0..v.len() {
                    if v.is_valid(row) && f.is_valid(row) && !f.value(row) {
                        report.push(Diagnostic::error(
                            self.loc(chunk, row, value),
                            None,
                            format!("given although {flag} is false"),
                        ));
                    }
                }
            }
            RowRule::OnlyWith { value, other } => {
                let (v, o) = (col(value), col(other));
                let strings = v.as_any().downcast_ref::<StringArray>();
                for row in 0..v.len() {
                    let given = v.is_valid(row) && strings.is_none_or(|s| !s.value(row).is_empty());
                    if given && o.is_null(row) {
                        let shown = strings.map(|s| s.value(row).to_string());
                        report.push(Diagnostic::error(
                            self.loc(chunk, row, value),
                            shown,
                            format!("given although {other} is empty"),
                        ));
                    }
                }
            }
        }
    }

    fn check_keys(&mut self, chunk: &Chunk, _report: &mut Report) {
        let cols: Vec<&ArrayRef> = self
            .spec
            .key
            .iter()
            .map(|k| chunk.data.column(self.column_index(k)))
            .collect();
        let mut buf = Vec::with_capacity(64);
        for row in 0..chunk.data.num_rows() {
            buf.clear();
            let mut complete = true;
            for c in &cols {
                if c.is_null(row) {
                    complete = false;
                    break;
                }
                key_part(c, row, &mut buf);
                buf.push(0x1f);
            }
            if !complete {
                continue;
            }
            let hash = xxhash_rust::xxh3::xxh3_128(&buf);
            let here = ((chunk.file as u64) << 48) | (chunk.lines.line(row) & ((1 << 48) - 1));
            self.keys.push([(hash >> 64) as u64, hash as u64, here]);
        }
    }

    /// Every row whose key an earlier row already had, as (row, first row with that key)
    /// positions in file order. The keys are a flat list of (128-bit hash, position) sorted
    /// once at the end: 24 bytes a row, about half of what a hash table needs, so the 260
    /// million outpatient appointments of a full-scale England fit in 6 GiB. Sorting puts
    /// equal keys side by side, earliest first.
    pub(crate) fn duplicate_keys(&mut self) -> Vec<(u64, u64)> {
        let mut keys = std::mem::take(&mut self.keys);
        keys.sort_unstable();
        let mut dups = Vec::new();
        let mut run = 0;
        for i in 1..keys.len() {
            if keys[i][..2] == keys[run][..2] {
                dups.push((keys[i][2], keys[run][2]));
            } else {
                run = i;
            }
        }
        dups.sort_unstable();
        dups
    }

    /// The shown key of every row of `chunk` at one of `wanted`'s positions.
    pub(crate) fn key_values(
        &self,
        chunk: &Chunk,
        wanted: &std::collections::HashSet<u64>,
        out: &mut HashMap<u64, String>,
    ) {
        for row in 0..chunk.data.num_rows() {
            let here = ((chunk.file as u64) << 48) | (chunk.lines.line(row) & ((1 << 48) - 1));
            if wanted.contains(&here) {
                let shown: Vec<String> = self
                    .spec
                    .key
                    .iter()
                    .map(|k| show(chunk.data.column(self.column_index(k)), row))
                    .collect();
                out.insert(here, shown.join(" + "));
            }
        }
    }

    pub(crate) fn report_duplicates(
        &self,
        dups: &[(u64, u64)],
        values: &HashMap<u64, String>,
        report: &mut Report,
    ) {
        let split = |pos: u64| ((pos >> 48) as usize, pos & ((1 << 48) - 1));
        let column = self.spec.key.join("+");
        for (dup, first) in dups {
            let ((file, line), (first_file, first_line)) = (split(*dup), split(*first));
            let where_ = if file == first_file {
                format!("line {first_line}")
            } else {
                format!("{}:{first_line}", self.names[first_file])
            };
            report.push(Diagnostic::error(
                Location::file(&self.names[file]).line(line).column(&column),
                values.get(dup).cloned(),
                format!("duplicate key; first seen at {where_}"),
            ));
        }
    }
}

/// Columns of a chunk in which some value broke its column's rule.
#[derive(Default)]
struct BadCells {
    columns: std::collections::HashSet<&'static str>,
}

fn rule_columns(rule: &RowRule) -> [&'static str; 2] {
    match *rule {
        RowRule::NotBefore { later, earlier } => [later, earlier],
        RowRule::AtMost { small, big } | RowRule::FlagAbove { small, big, .. } => [small, big],
        RowRule::OnlyWhen { value, flag } => [value, flag],
        RowRule::OnlyWith { value, other } => [value, other],
    }
}

fn key_part(a: &ArrayRef, row: usize, buf: &mut Vec<u8>) {
    match a.data_type() {
        DataType::Utf8 => buf.extend_from_slice(a.as_string::<i32>().value(row).as_bytes()),
        DataType::Date32 => buf.extend_from_slice(&a.as_primitive::<Date32Type>().value(row).to_le_bytes()),
        _ => buf.extend_from_slice(show(a, row).as_bytes()),
    }
}

fn show(a: &ArrayRef, row: usize) -> String {
    match a.data_type() {
        DataType::Utf8 => a.as_string::<i32>().value(row).to_string(),
        DataType::Date32 => format_date(a.as_primitive::<Date32Type>().value(row)),
        _ => arrow::util::display::array_value_to_string(a, row).unwrap_or_default(),
    }
}

fn instants(a: &ArrayRef) -> Option<Vec<Option<i64>>> {
    match a.data_type() {
        DataType::Date32 => Some(
            a.as_primitive::<Date32Type>()
                .iter()
                .map(|v| v.map(i64::from))
                .collect(),
        ),
        DataType::Timestamp(..) => Some(a.as_primitive::<TimestampMillisecondType>().iter().collect()),
        _ => None,
    }
}

fn numbers(a: &ArrayRef) -> Option<Vec<Option<f64>>> {
    if let Some(i) = a.as_any().downcast_ref::<Int64Array>() {
        return Some(i.iter().map(|v| v.map(|v| v as f64)).collect());
    }
    a.as_any()
        .downcast_ref::<Float64Array>()
        .map(|f| f.iter().collect())
}

fn fmt_num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        v.to_string()
    }
}

/// An ICD-10 code as HES records it: a capital letter, two digits, then up to four more
/// characters (digits, `X`, `-`, `.`, or a capital letter for dagger/asterisk and
/// fifth-character extensions).
pub(crate) fn is_icd10(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() >= 3
        && b.len() <= 7
        && b[0].is_ascii_uppercase()
        && b[1].is_ascii_digit()
        && b[2].is_ascii_digit()
        && b[3..]
            .iter()
            .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase() || *c == b'.' || *c == b'-')
}

impl Refs {
    /// Why `code` is not a valid reference of kind `r`, or `None` if it is.
    pub(crate) fn problem(&self, r: Ref, code: &str) -> Option<String> {
        match r {
            Ref::Region => {
                (!self.regions.contains(code)).then(|| "unknown region_code; not in regions.csv".into())
            }
            Ref::System => {
                (!self.systems.contains_key(code)).then(|| "unknown system_code; not in systems.csv".into())
            }
            Ref::Lsoa => (!self.lsoas.contains(code)).then(|| "unknown lsoa_code; not in lsoa.csv".into()),
            Ref::AnyOrg => (!self.orgs.contains_key(code))
                .then(|| "unknown organisation; not in organisations.csv".into()),
            Ref::OrgOrSystem => (!self.orgs.contains_key(code) && !self.systems.contains_key(code))
                .then(|| "unknown organisation or system; not in organisations.csv or systems.csv".into()),
            Ref::Org(kinds) => match self.orgs.get(code) {
                None => Some("unknown organisation; not in organisations.csv".into()),
                Some(None) => None,
                Some(Some(k)) if kinds.contains(k) => None,
                Some(Some(k)) => Some(format!(
                    "organisation is {k}; expected {}",
                    kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(" or ")
                )),
            },
        }
    }
}
