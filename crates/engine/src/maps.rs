//! The two lookup tables every indicator plan joins: which entities a unit counts for
//! (`entity_map`), and which output periods a base period falls in (`period_map`).

use crate::catalogue::{Grain, Level, Path};
use arrow::array::{ArrayRef, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use dataset::Dataset;
use model::{Month, OrgKind, Period};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// England's entity code.
pub const ENGLAND: &str = "E92000001";

fn strings(columns: &[(&str, Vec<String>)]) -> RecordBatch {
    let schema = Schema::new(
        columns
            .iter()
            .map(|(n, _)| Field::new(*n, DataType::Utf8, false))
            .collect::<Vec<_>>(),
    );
    let arrays: Vec<ArrayRef> = columns
        .iter()
        .map(|(_, v)| Arc::new(StringArray::from_iter_values(v)) as ArrayRef)
        .collect();
    RecordBatch::try_new(Arc::new(schema), arrays)
        .unwrap_or_else(|e| unreachable!("columns built alike: {e}"))
}

/// Calls `each(path, unit, level, entity_code)` for every unit a path can attribute a row to
/// and each entity it counts for: the one rule behind [`entity_map`] and [`members`].
pub fn entity_links(ds: &Dataset, mut each: impl FnMut(Path, &str, Level, &str)) {
    let system_region: HashMap<&str, &str> = ds
        .systems
        .iter()
        .map(|s| (s.code.as_str(), s.region.as_str()))
        .collect();
    let by_code: HashMap<&str, &dataset::Organisation> =
        ds.organisations.iter().map(|o| (o.code.as_str(), o)).collect();
    for o in &ds.organisations {
        let system = o.system.as_deref();
        let region = system
            .and_then(|s| system_region.get(s).copied())
            .or(o.region.as_deref());
        let mut upward = |path: Path, own: Level, system: Option<&str>, region: Option<&str>| {
            each(path, &o.code, own, &o.code);
            if let Some(s) = system {
                each(path, &o.code, Level::System, s);
            }
            if let Some(r) = region {
                each(path, &o.code, Level::Region, r);
            }
            each(path, &o.code, Level::England, ENGLAND);
        };
        if o.kind.is_provider() {
            upward(Path::Provider, Level::Provider, system, region);
        }
        if o.kind == OrgKind::Commissioner {
            upward(Path::Commissioner, Level::Commissioner, system, region);
        }
        upward(Path::Organisation, Level::Organisation, system, region);
        if o.kind == OrgKind::GpPractice {
            // A practice's patients count for the practice, its commissioner, and the
            // commissioner's system and region.
            let parent = o.parent.as_deref().and_then(|p| by_code.get(p));
            each(Path::Registered, &o.code, Level::Practice, &o.code);
            if let Some(c) = parent {
                each(Path::Registered, &o.code, Level::Commissioner, &c.code);
                let system = c.system.as_deref().or(system);
                if let Some(s) = system {
                    each(Path::Registered, &o.code, Level::System, s);
                    if let Some(r) = system_region.get(s) {
                        each(Path::Registered, &o.code, Level::Region, r);
                    }
                }
            }
            each(Path::Registered, &o.code, Level::England, ENGLAND);
        }
    }
}

/// `entity_map(path, unit, level, entity_kind, entity_code)`: for every unit a path can
/// attribute a row to, each entity it counts for.
pub fn entity_map(ds: &Dataset) -> RecordBatch {
    let mut cols: [Vec<String>; 5] = Default::default();
    entity_links(ds, |path, unit, level, code| {
        cols[0].push(path.as_str().into());
        cols[1].push(unit.into());
        cols[2].push(level.as_str().into());
        cols[3].push(level.entity_kind().into());
        cols[4].push(code.into());
    });
    let [path, unit, level, kind, code] = cols;
    strings(&[
        ("path", path),
        ("unit", unit),
        ("level", level),
        ("entity_kind", kind),
        ("entity_code", code),
    ])
}

/// The organisations a system's value is built from: for each attribution path, level below
/// the system (provider, practice, commissioner, organisation) and system, the entities of
/// that level whose units the path counts for the system. A system's numerator and
/// denominator on that path are the sums of these members' (the engine adds the same units).
pub fn members(ds: &Dataset) -> BTreeMap<(Path, Level, String), BTreeSet<String>> {
    // Each unit's entities by path, then joined on the unit.
    let mut systems: HashMap<(Path, String), Vec<String>> = HashMap::new();
    let mut below: Vec<(Path, String, Level, String)> = Vec::new();
    entity_links(ds, |path, unit, level, code| match level {
        Level::System => systems
            .entry((path, unit.to_string()))
            .or_default()
            .push(code.to_string()),
        Level::Region | Level::England => {}
        _ => below.push((path, unit.to_string(), level, code.to_string())),
    });
    let mut out: BTreeMap<(Path, Level, String), BTreeSet<String>> = BTreeMap::new();
    for (path, unit, level, code) in below {
        for s in systems.get(&(path, unit)).into_iter().flatten() {
            out.entry((path, level, s.clone()))
                .or_default()
                .insert(code.clone());
        }
    }
    out
}

/// The label of a rolling 12 months ending with `m`.
pub fn rolling_label(m: Month) -> String {
    format!("{} to {}", m.plus(-11), m)
}

/// `period_map(base, grain, period)`: each base period (a month, a quarter or a financial
/// year, as the tables write them) and the output periods of each grain it falls in. Only
/// output periods wholly inside the dataset's window are listed.
pub fn period_map(from: Month, to: Month) -> RecordBatch {
    let mut cols: [Vec<String>; 3] = Default::default();
    period_links(from, to, |base, grain, period| {
        cols[0].push(base.to_string());
        cols[1].push(grain.as_str().into());
        cols[2].push(period.to_string());
    });
    let [base, grain, period] = cols;
    strings(&[("base", base), ("grain", grain), ("period", period)])
}

/// Calls `each(base, grain, period)` for each base period and each output period it falls
/// in: the one rule behind [`period_map`] and the roll-up.
pub fn period_links(from: Month, to: Month, mut each: impl FnMut(&str, Grain, &str)) {
    let mut push = |base: String, grain: Grain, period: String| each(&base, grain, &period);
    let inside = |p: Period| p.first_month() >= from && p.last_month() <= to;
    let quarter_of = |m: Month| Period::Quarter(m.financial_year(), (((m.month() + 8) % 12) / 3 + 1) as u8);
    let mut m = from;
    while m <= to {
        let base = m.to_string();
        push(base.clone(), Grain::Month, base.clone());
        let q = quarter_of(m);
        if inside(q) {
            push(base.clone(), Grain::Quarter, q.to_string());
        }
        let y = Period::Year(m.financial_year());
        if inside(y) {
            push(base.clone(), Grain::FinancialYear, y.to_string());
        }
        for end in 0..12 {
            let last = m.plus(end);
            if last <= to && last.plus(-11) >= from {
                push(base.clone(), Grain::Rolling12Months, rolling_label(last));
            }
        }
        m = m.succ();
    }
    // Quarters and years as base periods (finance, allocations).
    let mut fy = from.financial_year();
    while fy <= to.financial_year() {
        for q in 1..=4u8 {
            let p = Period::Quarter(fy, q);
            if inside(p) {
                push(p.to_string(), Grain::Quarter, p.to_string());
                if inside(Period::Year(fy)) {
                    push(p.to_string(), Grain::FinancialYear, Period::Year(fy).to_string());
                }
            }
        }
        let y = Period::Year(fy);
        if inside(y) {
            push(y.to_string(), Grain::FinancialYear, y.to_string());
        }
        fy += 1;
    }
}

/// `period_days(period, days)`: the days in every month, quarter and financial year that
/// touches the window (for per-day measures such as liquidity).
pub fn period_days(from: Month, to: Month) -> RecordBatch {
    let mut periods = Vec::new();
    let mut days = Vec::new();
    let span = |p: Period| (p.last_month().last_day() - p.first_month().first_day() + 1) as i64;
    let mut m = from;
    while m <= to {
        periods.push(m.to_string());
        days.push(span(Period::Month(m)));
        m = m.succ();
    }
    for fy in from.financial_year()..=to.financial_year() {
        for q in 1..=4u8 {
            periods.push(Period::Quarter(fy, q).to_string());
            days.push(span(Period::Quarter(fy, q)));
        }
        periods.push(Period::Year(fy).to_string());
        days.push(span(Period::Year(fy)));
    }
    let schema = Schema::new(vec![
        Field::new("period", DataType::Utf8, false),
        Field::new("days", DataType::Int64, false),
    ]);
    RecordBatch::try_new(
        Arc::new(schema),
        vec![
            Arc::new(StringArray::from_iter_values(periods)),
            Arc::new(arrow::array::Int64Array::from(days)),
        ],
    )
    .unwrap_or_else(|e| unreachable!("columns built alike: {e}"))
}

/// `esp2013(band, weight)`: the European Standard Population 2013 in the contract's bands.
pub fn esp2013() -> RecordBatch {
    let schema = Schema::new(vec![
        Field::new("band", DataType::Utf8, false),
        Field::new("weight", DataType::Float64, false),
    ]);
    RecordBatch::try_new(
        Arc::new(schema),
        vec![
            Arc::new(StringArray::from_iter_values(stats::standardise::ESP2013_BANDS)),
            Arc::new(arrow::array::Float64Array::from(
                stats::standardise::ESP2013.to_vec(),
            )),
        ],
    )
    .unwrap_or_else(|e| unreachable!("columns built alike: {e}"))
}

/// The base periods a run's output periods are made from, when that is not every base
/// period in the window: a run at one grain (say financial years) needs only the months of
/// the whole years inside the window. Reductions then read only those rows, and derived
/// SQL sees their dates as `${period_start}` and `${period_end}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Needed {
    /// The first and last month needed, if any month is.
    pub months: Option<(Month, Month)>,
    /// Every base period needed, as the tables write them (months, quarters and years).
    pub bases: BTreeSet<String>,
}

impl Needed {
    /// `None` when the grains need every month of the window (nothing worth narrowing: the
    /// roll-up leaves out the rest).
    pub fn of(from: Month, to: Month, grains: &[Grain]) -> Option<Needed> {
        let mut bases = BTreeSet::new();
        period_links(from, to, |base, grain, _| {
            if grains.contains(&grain) {
                bases.insert(base.to_string());
            }
        });
        let months = bases.iter().filter_map(|b| b.parse::<Month>().ok()).fold(
            None,
            |r: Option<(Month, Month)>, m| match r {
                None => Some((m, m)),
                Some((a, b)) => Some((a.min(m), b.max(m))),
            },
        );
        (months != Some((from, to))).then_some(Needed { months, bases })
    }
}

/// The base period a run groups dated rows on: the coarsest that every requested grain's
/// output periods are whole numbers of. A run at the financial-year grain alone groups on
/// years, twelve times fewer sums than months for the roll-up to add back together (the
/// measures are sums, so the totals are the same).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Base {
    Month,
    Quarter,
    Year,
}

impl Base {
    pub fn of(grains: &[Grain]) -> Base {
        if grains.iter().all(|g| *g == Grain::FinancialYear) {
            Base::Year
        } else if grains
            .iter()
            .all(|g| matches!(g, Grain::Quarter | Grain::FinancialYear))
        {
            Base::Quarter
        } else {
            Base::Month
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn month(s: &str) -> Month {
        s.parse().expect("a month")
    }

    #[test]
    fn a_grain_needs_the_months_of_its_whole_periods_only() {
        let (from, to) = (month("2023-07"), month("2025-06"));
        let years = Needed::of(from, to, &[Grain::FinancialYear]).expect("narrower");
        assert_eq!(years.months, Some((month("2024-04"), month("2025-03"))));
        assert!(years.bases.contains("2024-04") && years.bases.contains("2025-03"));
        assert!(years.bases.contains("2024/25") && !years.bases.contains("2025-04"));
        assert!(!years.bases.contains("2024-03"));
        let quarters = Needed::of(from, to, &[Grain::Quarter]);
        assert_eq!(quarters, None, "July 2023 to June 2025 is eight whole quarters");
        // From May, the first whole quarter starts in July; rolling periods need May too.
        let may = month("2023-05");
        let q = Needed::of(may, to, &[Grain::Quarter]).expect("narrower");
        assert_eq!(q.months, Some((from, to)));
        assert_eq!(
            Needed::of(may, to, &[Grain::Quarter, Grain::Rolling12Months]),
            None
        );
        assert_eq!(Needed::of(from, to, &[Grain::Month]), None);
        let all = [
            Grain::Month,
            Grain::Quarter,
            Grain::FinancialYear,
            Grain::Rolling12Months,
        ];
        assert_eq!(Needed::of(from, to, &all), None);
        // A window shorter than a financial year holds no period of that grain.
        let none = Needed::of(month("2024-06"), month("2025-01"), &[Grain::FinancialYear]).expect("narrower");
        assert_eq!(none.months, None);
        assert!(none.bases.is_empty());
    }

    #[test]
    fn the_base_is_the_coarsest_period_every_grain_is_made_of() {
        assert_eq!(Base::of(&[Grain::FinancialYear]), Base::Year);
        assert_eq!(Base::of(&[Grain::FinancialYear, Grain::Quarter]), Base::Quarter);
        assert_eq!(Base::of(&[Grain::Quarter]), Base::Quarter);
        assert_eq!(Base::of(&[Grain::Quarter, Grain::Rolling12Months]), Base::Month);
        assert_eq!(Base::of(&[Grain::Month, Grain::FinancialYear]), Base::Month);
    }
}
