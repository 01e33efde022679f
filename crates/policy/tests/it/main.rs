//! The policy crate's tests: every scoring method, override and cap on hand-made tables,
//! each shipped pack on boundary values, and the planted signals of a synthetic England.

mod coverage;
mod packs;
mod planted;
mod scoring;

use std::io::Write;

/// A row of a hand-made indicator table.
#[derive(Debug)]
pub struct Row<'a> {
    pub indicator: &'a str,
    pub kind: &'a str,
    pub code: &'a str,
    pub value: f64,
    pub ci: Option<(f64, f64)>,
    pub org_kind: &'a str,
    pub grain: &'a str,
    pub period: &'a str,
}

pub fn row<'a>(indicator: &'a str, code: &'a str, value: f64) -> Row<'a> {
    Row {
        indicator,
        kind: "organisation",
        code,
        value,
        ci: None,
        org_kind: "acute_trust",
        grain: "financial_year",
        period: "2024/25",
    }
}

/// Writes rows as a CSV in the engine's output schema and reads it.
pub fn table(rows: &[Row<'_>]) -> policy::table::Table {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.csv");
    let mut f = std::fs::File::create(&path).unwrap();
    writeln!(f, "indicator_id,entity_kind,entity_code,level,grain,period,numerator,denominator,value,lower_95,upper_95,lower_998,upper_998,org_kind").unwrap();
    for r in rows {
        let (lo, hi) = r.ci.map_or((String::new(), String::new()), |(a, b)| {
            (a.to_string(), b.to_string())
        });
        writeln!(
            f,
            "{},{},{},{},{},{},,,{},{lo},{hi},{lo},{hi},{}",
            r.indicator, r.kind, r.code, r.kind, r.grain, r.period, r.value, r.org_kind
        )
        .unwrap();
    }
    drop(f);
    policy::table::Table::read(&path).unwrap()
}

pub fn shipped(id: &str) -> policy::pack::Pack {
    policy::load_pack(id).unwrap()
}

pub fn assess(pack: &policy::pack::Pack, t: &policy::table::Table) -> Vec<policy::assess::Assessment> {
    policy::assess::assess(pack, t, &policy::assess::Context::default(), Some("2024/25")).unwrap()
}

pub fn one<'a>(out: &'a [policy::assess::Assessment], code: &str) -> &'a policy::assess::Assessment {
    out.iter()
        .find(|a| a.entity_code == code)
        .unwrap_or_else(|| panic!("{code} not assessed"))
}
