//! Turns an indicator definition into SQL reducing the activity tables to sums by unit and
//! base period (and age–sex cell for a standardised indicator), for all its attribution
//! paths at once where `one_query` allows and one query per path otherwise, and the SQL
//! that publishes values and limits. Every query is a DataFusion plan over the registered
//! tables: no activity row is touched outside DataFusion, so the same plans can run on a
//! distributed engine. The roll-up of those sums to entities and output
//! periods is `rollup`'s.

use crate::Error;
use crate::catalogue::{Ci, Grain, Indicator, Measure, Path, Standardisation};
use crate::maps::{Base, Needed};
use arrow::datatypes::{DataType, SchemaRef};
use std::collections::BTreeMap;

/// The columns and types of every table a query may read (contract and derived tables).
pub type Schemas = BTreeMap<String, SchemaRef>;

fn column_type(schemas: &Schemas, table: &str, column: &str) -> Option<DataType> {
    schemas
        .get(table)?
        .field_with_name(column)
        .ok()
        .map(|f| f.data_type().clone())
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// What a run needs of the base periods: which (`Needed`, `None` for all), and how coarse
/// a base its dated rows are grouped on.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    pub needed: Option<&'a Needed>,
    pub base: Base,
    /// The dataset's first and last months.
    pub window: (model::Month, model::Month),
    /// The patients mart's functions are registered (`mart`): a row's patient is looked up
    /// instead of joined.
    pub patients: bool,
}

/// How a measure's rows are placed: the FROM clause (with the patients join if needed), the
/// unit expression of each path and the base-period expression.
struct Source {
    from: String,
    /// Each path's unit as grouped on.
    units: Vec<String>,
    /// The function labelling a unit grouped on as a number, after aggregation (a practice
    /// looked up in the patients mart is grouped on its number there).
    labels: Vec<Option<&'static str>>,
    /// The base period as grouped on: the month's first day for dates (cheap to compute per
    /// row), the text itself for period columns.
    base: String,
    /// The base period as text, computed from the grouped `base` after aggregation.
    base_text: &'static str,
    /// The condition keeping only the rows of the base periods the run needs, if it does
    /// not need them all.
    within: Option<String>,
    /// The row's patient is looked up in the patients mart (`patient`), not joined.
    lookup: bool,
    /// The condition standing for the join's, when patients are looked up: only rows of a
    /// known patient.
    known: Option<String>,
}

/// A unit column as a reduction outputs it: `name`, or its label if it was grouped on as
/// a number.
fn labelled(label: Option<&str>, name: &str) -> String {
    match label {
        Some(f) => format!("{f}({name}) AS {name}"),
        None => name.to_string(),
    }
}

/// A column of the row's patient: the patients mart's function of its id when `lookup`,
/// else the joined table's column.
fn patient(lookup: bool, column: &str) -> String {
    match lookup {
        false => format!("p.{column}"),
        true => format!("fp_patient_{column}(t.patient_id)"),
    }
}

fn source(
    ind: &Indicator,
    m: &Measure,
    paths: &[Path],
    schemas: &Schemas,
    need_person: bool,
    scope: Scope<'_>,
) -> Result<Source, Error> {
    let bad = |message: String| Error::Plan {
        indicator: ind.id.clone(),
        message,
    };
    let has = |c: &str| column_type(schemas, &m.table, c).is_some();
    if !schemas.contains_key(&m.table) {
        return Err(Error::Missing {
            indicator: ind.id.clone(),
            table: m.table.clone(),
        });
    }
    let mut from = format!("{} t", m.table);
    let mut join_patients = need_person && !(has("age_band") && has("sex"));
    // The mart's arrays are indexed by integer ids; other ids join.
    let lookup =
        scope.patients && column_type(schemas, &m.table, "patient_id").is_some_and(|t| t.is_integer());
    let mut units = Vec::with_capacity(paths.len());
    let mut labels = Vec::with_capacity(paths.len());
    let mut by_practice = false;
    for &path in paths {
        let unit = match path {
            Path::Provider | Path::Commissioner | Path::Organisation => {
                let column = match path {
                    Path::Provider => "provider_code",
                    Path::Commissioner => "commissioner_code",
                    _ => "org_code",
                };
                if !has(column) {
                    return Err(bad(format!(
                        "path \"{}\" needs column {column} in {}",
                        path.as_str(),
                        m.table
                    )));
                }
                format!("t.{column}")
            }
            Path::Registered if has("practice_code") => "t.practice_code".to_string(),
            Path::Registered if has("patient_id") && lookup => {
                join_patients = true;
                by_practice = true;
                units.push("fp_patient_practice_no(t.patient_id)".to_string());
                labels.push(Some("fp_practice_code"));
                continue;
            }
            Path::Registered if has("patient_id") => {
                join_patients = true;
                by_practice = true;
                "p.practice_code".to_string()
            }
            Path::Registered => {
                return Err(bad(format!(
                    "path \"registered\" needs practice_code or patient_id in {}",
                    m.table
                )));
            }
        };
        units.push(format!("CAST({unit} AS VARCHAR)"));
        labels.push(None);
    }
    if join_patients && !schemas.contains_key("patients") {
        return Err(Error::Missing {
            indicator: ind.id.clone(),
            table: "patients".into(),
        });
    }
    let known = if join_patients && lookup {
        // A row of an unknown patient has no practice, and a unit that is NULL reaches no
        // entity in the roll-up, as the join would have dropped it; only rows placed by
        // another path need the join's condition spelt out.
        (!by_practice).then(|| "fp_patient_known(t.patient_id)".to_string())
    } else {
        if join_patients {
            let left = column_type(schemas, &m.table, "patient_id");
            let right = column_type(schemas, "patients", "patient_id");
            let on = if left == right {
                "p.patient_id = t.patient_id".to_string()
            } else {
                "CAST(p.patient_id AS VARCHAR) = CAST(t.patient_id AS VARCHAR)".to_string()
            };
            from = format!("{from} JOIN patients p ON {on}");
        }
        None
    };
    let date = |days: i32| format!("DATE '{}'", model::format_date(days));
    // Financial quarters and years are grouped on a number (the year it starts in, or four
    // times that plus the quarter's index) found by comparing the date with each boundary in
    // the window, and labelled `FY2024-Q1` or `2024/25` afterwards: date arithmetic by
    // months on every row cost more than the smaller group-by saved.
    let boundaries = |step: i32| {
        let (from, to) = scope.window;
        let mut start = model::Month::new(from.financial_year(), 4).unwrap_or(from);
        let mut arms = vec![format!(
            "WHEN t.{} < {} THEN NULL",
            m.when,
            date(start.first_day())
        )];
        while start <= to {
            let number = match step {
                12 => i64::from(start.financial_year()),
                _ => i64::from(start.financial_year()) * 4 + i64::from((start.month() + 8) % 12 / 3),
            };
            start = start.plus(step);
            arms.push(format!(
                "WHEN t.{} < {} THEN {number}",
                m.when,
                date(start.first_day())
            ));
        }
        format!("CASE {} END", arms.join(" "))
    };
    let (base, base_text) = match scope.base {
        Base::Month => (
            format!("date_trunc('month', t.{})", m.when),
            "to_char(base, '%Y-%m')",
        ),
        Base::Quarter => (
            boundaries(3),
            "concat('FY', CAST(base / 4 AS VARCHAR), '-Q', CAST(base % 4 + 1 AS VARCHAR))",
        ),
        Base::Year => (
            boundaries(12),
            "concat(CAST(base AS VARCHAR), '/', lpad(CAST((base + 1) % 100 AS VARCHAR), 2, '0'))",
        ),
    };
    let needed = scope.needed;
    let (base, base_text, within) = match column_type(schemas, &m.table, &m.when) {
        Some(DataType::Date32 | DataType::Date64 | DataType::Timestamp(_, _)) => (
            base,
            base_text,
            needed.map(|n| match n.months {
                // From the first needed month's first day to before the day after the
                // last's, so a timestamp's whole last day is kept.
                Some((a, b)) => format!(
                    "t.{w} >= {} AND t.{w} < {}",
                    date(a.first_day()),
                    date(b.succ().first_day()),
                    w = m.when
                ),
                None => "FALSE".to_string(),
            }),
        ),
        Some(DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View) => (
            coarser_labels(&m.when, scope),
            "base",
            needed.map(|n| match n.bases.is_empty() {
                true => "FALSE".to_string(),
                false => format!(
                    "t.{} IN ({})",
                    m.when,
                    n.bases.iter().map(|b| quote(b)).collect::<Vec<_>>().join(", ")
                ),
            }),
        ),
        Some(other) => {
            return Err(bad(format!(
                "{}.{} has type {other}; when must be a date, a timestamp or a period",
                m.table, m.when
            )));
        }
        None => return Err(bad(format!("{} has no column {}", m.table, m.when))),
    };
    Ok(Source {
        from,
        units,
        labels,
        base,
        base_text,
        within,
        lookup: join_patients && lookup,
        known,
    })
}

/// The base period of a text period column as grouped on: the label itself, or at a year
/// or quarter base (`Base::of`) the label of the year or quarter each month (and, for
/// years, each quarter) falls in, so a population by practice, month, age band and sex is
/// summed to twelve times fewer rows before the roll-up adds them up. A label in no
/// whole period of the base's grain inside the window is kept as it is; the roll-up
/// leaves it out as before.
fn coarser_labels(when: &str, scope: Scope<'_>) -> String {
    let grain = match scope.base {
        Base::Month => return format!("t.{when}"),
        Base::Quarter => Grain::Quarter,
        Base::Year => Grain::FinancialYear,
    };
    let mut into: BTreeMap<String, Vec<String>> = BTreeMap::new();
    crate::maps::period_links(scope.window.0, scope.window.1, |base, g, period| {
        let wanted = scope.needed.is_none_or(|n| n.bases.contains(base));
        if g == grain && base != period && wanted {
            into.entry(period.to_string()).or_default().push(quote(base));
        }
    });
    if into.is_empty() {
        return format!("t.{when}");
    }
    let arms: Vec<String> = into
        .iter()
        .map(|(period, bases)| format!("WHEN t.{when} IN ({}) THEN {}", bases.join(", "), quote(period)))
        .collect();
    format!("CASE {} ELSE t.{when} END", arms.join(" "))
}

/// The WHERE clause of a measure read through `s`: its own filter and the needed periods.
fn filter(m: &Measure, s: &Source) -> String {
    let parts: Vec<String> = [m.filter.as_deref(), s.within.as_deref(), s.known.as_deref()]
        .into_iter()
        .flatten()
        .map(|f| format!("({f})"))
        .collect();
    match parts.is_empty() {
        true => String::new(),
        false => format!("WHERE {}", parts.join(" AND ")),
    }
}

/// The age band label (`0-4` … `85-89`, `90+`) of a band number 0–18.
fn band_label(b: &str) -> String {
    format!(
        "CASE WHEN {b} >= 18 THEN '90+' ELSE concat(CAST({b} * 5 AS VARCHAR), '-', CAST({b} * 5 + 4 AS VARCHAR)) END"
    )
}

/// How a plan's rows are rolled up to entities and output periods (`rollup`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rollup {
    /// `unit, base, numerator, denominator`: summed.
    Plain,
    /// Age–sex cells `unit, base, band, sex, o, n`: indirectly standardised.
    Indirect,
    /// Age–sex cells: directly standardised to the ESP 2013.
    Direct,
}

/// The plan of one indicator: a query reducing the dataset to sums by unit and base period
/// (and age–sex cell), and how to roll them up.
pub struct Plan {
    pub rollup: Rollup,
    pub sql: String,
    /// The unit column of each path, in the order the paths were given: `unit` for one
    /// path, `unit_0`, `unit_1`, … for several.
    pub units: Vec<String>,
}

/// Whether the indicator's numerator and denominator are over the same rows (same table,
/// time column and filter), reduced in one pass.
pub fn same_rows(ind: &Indicator) -> bool {
    ind.denominator.as_ref().is_some_and(|d| {
        d.table == ind.numerator.table && d.when == ind.numerator.when && d.filter == ind.numerator.filter
    })
}

/// Whether one query can reduce every path of the indicator: it is plain, and it has one
/// path or no path joins `patients` to reach practices (the join would drop the rows of
/// patients not in `patients` from every path, not only the registered one). Looked up in
/// the patients mart (`patients`), an unknown patient's rows only have no practice.
pub fn one_query(ind: &Indicator, schemas: &Schemas, patients: bool) -> bool {
    if ind.standardisation != Standardisation::None {
        return false;
    }
    let via_patients = |m: &Measure| {
        column_type(schemas, &m.table, "practice_code").is_none()
            && !(patients && column_type(schemas, &m.table, "patient_id").is_some_and(|t| t.is_integer()))
    };
    ind.attribution.len() == 1
        || !ind.attribution.iter().any(|a| a.path == Path::Registered)
        || ![Some(&ind.numerator), ind.denominator.as_ref()]
            .into_iter()
            .flatten()
            .any(via_patients)
}

/// The plan of one indicator along its paths. A plain indicator may be reduced once for all
/// of them (`one_query`), grouping on every path's unit together (each path's roll-up sums
/// over the others' units), so its tables and derived tables are read once. A standardised
/// indicator is reduced one path at a time.
///
/// `scope` narrows every measure to the base periods a run needs (`Needed::of`) and sets
/// the base its dated rows are grouped on (`Base::of`).
pub fn aggregate(
    ind: &Indicator,
    paths: &[Path],
    schemas: &Schemas,
    scope: Scope<'_>,
) -> Result<Plan, Error> {
    let rollup = match ind.standardisation {
        Standardisation::IndirectAgeSex => Rollup::Indirect,
        Standardisation::DirectEsp2013 => Rollup::Direct,
        Standardisation::None => Rollup::Plain,
    };
    if rollup != Rollup::Plain {
        let [path] = paths else {
            return Err(Error::Plan {
                indicator: ind.id.clone(),
                message: "a standardised indicator is reduced one path at a time".into(),
            });
        };
        return Ok(Plan {
            rollup,
            sql: age_sex_cells(ind, *path, schemas, scope)?,
            units: vec!["unit".into()],
        });
    }
    if paths.len() > 1 && !one_query(ind, schemas, scope.patients) {
        return Err(Error::Plan {
            indicator: ind.id.clone(),
            message: "these paths cannot be reduced in one query".into(),
        });
    }
    let names: Vec<String> = if paths.len() == 1 {
        vec!["unit".into()]
    } else {
        (0..paths.len()).map(|i| format!("unit_{i}")).collect()
    };
    let list = |s: &Source| {
        names
            .iter()
            .zip(&s.labels)
            .map(|(n, l)| labelled(*l, n))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let group = (1..=paths.len() + 1)
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let units = |s: &Source| {
        s.units
            .iter()
            .zip(&names)
            .map(|(u, n)| format!("{u} AS {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let select = |s: &Source, m: &Measure, numerator: &str, denominator: &str| {
        format!(
            "SELECT {list}, {text} AS base, numerator, denominator FROM (\
             SELECT {units}, {base} AS base, CAST({numerator} AS DOUBLE) AS numerator, CAST({denominator} AS DOUBLE) AS denominator \
             FROM {from} {filter} GROUP BY {group}) x",
            list = list(s),
            text = s.base_text,
            units = units(s),
            base = s.base,
            from = s.from,
            filter = filter(m, s)
        )
    };
    let n = source(ind, &ind.numerator, paths, schemas, false, scope)?;
    // A numerator and denominator over the same rows (same table, time column and filter)
    // are one pass: both sums in one group-by, so the table (and any patients join) is read
    // once. Every group has at least one row, so each sum is what the separate query gives.
    if let Some(d) = ind.denominator.as_ref().filter(|_| same_rows(ind)) {
        return Ok(Plan {
            rollup,
            sql: select(&n, &ind.numerator, &ind.numerator.value, &d.value),
            units: names,
        });
    }
    let mut parts = vec![select(&n, &ind.numerator, &ind.numerator.value, "NULL")];
    if let Some(d) = &ind.denominator {
        let s = source(ind, d, paths, schemas, false, scope)?;
        parts.push(select(&s, d, "NULL", &d.value));
    }
    Ok(Plan {
        rollup,
        sql: parts.join(" UNION ALL "),
        units: names,
    })
}

/// Observed events (`o`) and population (`n`) by unit, base period, age band and sex: the
/// cells both standardisations start from.
fn age_sex_cells(ind: &Indicator, path: Path, schemas: &Schemas, scope: Scope<'_>) -> Result<String, Error> {
    let bad = |message: &str| Error::Plan {
        indicator: ind.id.clone(),
        message: message.to_string(),
    };
    let d = ind
        .denominator
        .as_ref()
        .ok_or_else(|| bad("standardisation needs a denominator"))?;
    let n = source(ind, &ind.numerator, &[path], schemas, true, scope)?;
    let has = |t: &str, c: &str| column_type(schemas, t, c).is_some();
    // A band computed from the birth year is grouped on as a number (0 for 0-4 … 18 for 90+)
    // and labelled after aggregation.
    let (n_band, n_sex, band_text) =
        if has(&ind.numerator.table, "age_band") && has(&ind.numerator.table, "sex") {
            ("t.age_band".to_string(), "t.sex".to_string(), "band".to_string())
        } else {
            let year = match column_type(schemas, &ind.numerator.table, &ind.numerator.when) {
                Some(DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View) => {
                    format!("CAST(substr(t.{}, 1, 4) AS BIGINT)", ind.numerator.when)
                }
                _ => format!("CAST(date_part('year', t.{}) AS BIGINT)", ind.numerator.when),
            };
            (
                format!(
                    "least(greatest({year} - CAST({} AS BIGINT), 0) / 5, 18)",
                    patient(n.lookup, "birth_year")
                ),
                patient(n.lookup, "sex"),
                band_label("band"),
            )
        };
    if !(has(&d.table, "age_band") && has(&d.table, "sex")) {
        return Err(bad(
            "the denominator of a standardised indicator needs age_band and sex (the population table)",
        ));
    }
    let s = source(ind, d, &[path], schemas, true, scope)?;
    let obs = format!(
        "SELECT {out}, {text} AS base, {band_text} AS band, sex, o, n FROM (\
         SELECT {unit} AS unit, {base} AS base, {n_band} AS band, {n_sex} AS sex, CAST({value} AS DOUBLE) AS o, CAST(NULL AS DOUBLE) AS n \
         FROM {from} {filter} GROUP BY 1, 2, 3, 4) x",
        out = labelled(n.labels[0], "unit"),
        text = n.base_text,
        unit = n.units[0],
        base = n.base,
        value = ind.numerator.value,
        from = n.from,
        filter = filter(&ind.numerator, &n)
    );
    let pop = format!(
        "SELECT {out}, {text} AS base, band, sex, o, n FROM (\
         SELECT {unit} AS unit, {base} AS base, t.age_band AS band, t.sex AS sex, CAST(NULL AS DOUBLE) AS o, CAST({value} AS DOUBLE) AS n \
         FROM {from} {filter} GROUP BY 1, 2, 3, 4) x",
        out = labelled(s.labels[0], "unit"),
        text = s.base_text,
        unit = s.units[0],
        base = s.base,
        value = d.value,
        from = s.from,
        filter = filter(d, &s)
    );
    // No group-by over the union: the roll-up sums the observed and population rows of a
    // cell wherever they come from, so one would only cost a hash of millions of rows.
    Ok(format!("{obs} UNION ALL {pop}"))
}

/// The published columns, computed from the aggregate: value and the 95% and 99.8% limits.
pub fn publish(ind: &Indicator, aggregate: &str) -> String {
    let mult = ind.multiplier;
    let has_denominator = ind.denominator.is_some();
    let zero = ind.numerator.absent == crate::catalogue::Absent::Zero;
    let numerator = if has_denominator && zero {
        "coalesce(numerator, 0)"
    } else {
        "numerator"
    };
    let value = if has_denominator {
        format!("CASE WHEN denominator > 0 THEN {numerator} / denominator * {mult:?} END")
    } else {
        format!("{numerator} * {mult:?}")
    };
    let direct = ind.standardisation == crate::catalogue::Standardisation::DirectEsp2013;
    let value = if direct {
        // phe_dsr: no value below 10 events.
        format!("CASE WHEN numerator >= 10 THEN dsr_rate * {mult:?} END")
    } else {
        value
    };
    let limit = |side: &str, conf: &str| match ind.ci {
        Ci::Dobson => format!(
            "CASE WHEN numerator >= 10 THEN (dsr_rate + sqrt(dsr_var / numerator) * (fp_byars_{side}(numerator, {conf}) - numerator)) * {mult:?} END"
        ),
        Ci::None => "CAST(NULL AS DOUBLE)".to_string(),
        Ci::Wilson => format!(
            "CASE WHEN denominator > 0 THEN fp_wilson_{side}({numerator}, denominator, {conf}) * {mult:?} END"
        ),
        Ci::Byars | Ci::Isr if has_denominator => {
            format!(
                "CASE WHEN denominator > 0 THEN fp_poisson_{side}({numerator}, {conf}) / denominator * {mult:?} END"
            )
        }
        Ci::Byars | Ci::Isr => format!("fp_poisson_{side}({numerator}, {conf}) * {mult:?}"),
    };
    format!(
        "SELECT {id} AS indicator_id, entity_kind, entity_code, level, grain, period, \
         {numerator} AS numerator, denominator, {value} AS value, \
         {l95} AS lower_95, {u95} AS upper_95, {l998} AS lower_998, {u998} AS upper_998 \
         FROM ({aggregate}) a",
        id = quote(&ind.id),
        l95 = limit("lower", "0.95"),
        u95 = limit("upper", "0.95"),
        l998 = limit("lower", "0.998"),
        u998 = limit("upper", "0.998"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn month(s: &str) -> model::Month {
        s.parse().expect("a month")
    }

    #[test]
    fn text_periods_are_grouped_on_the_year_or_quarter_they_fall_in() {
        let window = (month("2023-07"), month("2025-06"));
        let scope = |base| Scope {
            needed: None,
            base,
            window,
            patients: false,
        };
        assert_eq!(coarser_labels("period", scope(Base::Month)), "t.period");
        let years = coarser_labels("period", scope(Base::Year));
        // One whole financial year inside the window: its months and quarters become it.
        assert_eq!(
            years,
            "CASE WHEN t.period IN ('2024-04', '2024-05', '2024-06', '2024-07', '2024-08', \
             '2024-09', '2024-10', '2024-11', '2024-12', '2025-01', '2025-02', '2025-03', \
             'FY2024-Q1', 'FY2024-Q2', 'FY2024-Q3', 'FY2024-Q4') THEN '2024/25' ELSE t.period END"
        );
        let quarters = coarser_labels("period", scope(Base::Quarter));
        assert!(quarters.starts_with(
            "CASE WHEN t.period IN ('2023-07', '2023-08', '2023-09') THEN 'FY2023-Q2' \
             WHEN t.period IN ('2023-10', '2023-11', '2023-12') THEN 'FY2023-Q3'"
        ));
        assert_eq!(quarters.matches(" THEN ").count(), 8, "{quarters}");
        // A run that needs only some base periods maps only those.
        let needed = Needed::of(window.0, window.1, &[Grain::FinancialYear]).expect("narrower");
        let narrowed = coarser_labels(
            "period",
            Scope {
                needed: Some(&needed),
                ..scope(Base::Year)
            },
        );
        assert_eq!(narrowed, years);
        // Quarters for a run that needs only the whole year's months: its four quarters.
        let four = coarser_labels(
            "period",
            Scope {
                needed: Some(&needed),
                ..scope(Base::Quarter)
            },
        );
        assert_eq!(four.matches(" THEN ").count(), 4, "{four}");
        assert!(four.starts_with("CASE WHEN t.period IN ('2024-04', '2024-05', '2024-06') THEN 'FY2024-Q1'"));
        // A window holding no whole year leaves the labels as they are.
        let short = Scope {
            window: (month("2024-06"), month("2025-01")),
            ..scope(Base::Year)
        };
        assert_eq!(coarser_labels("period", short), "t.period");
    }
}
