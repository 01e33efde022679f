//! Every default indicator on `tests/data/tiny`, against values worked out by hand.
//!
//! The dataset: two systems (QMJ in London with commissioner 93C, practices F83004 and
//! F83010, acute trust RAL and mental health trust TAF; QHL in the Midlands with 15E,
//! practice M85001 and RRK), an independent provider NL7 in the Midlands, one financial
//! year (April 2024 to March 2025), and a handful of patients and spells.

use crate::{Row, Rows, close, data, rows};
use std::sync::OnceLock;

struct Computed {
    all: Rows,
    published: Rows,
    skipped: Vec<(String, String)>,
}

fn computed() -> &'static Computed {
    static C: OnceLock<Computed> = OnceLock::new();
    C.get_or_init(|| {
        let loaded =
            dataset::load(&data("tiny"), &dataset::Options::default()).expect("the tiny dataset is valid");
        let catalogue = engine::Catalogue::default_catalogue().expect("the default catalogue is valid");
        let c = engine::compute(&loaded.dataset, &catalogue, &engine::Options::default(), &|_| {})
            .expect("computes");
        Computed {
            all: rows(&c.unsuppressed),
            published: rows(&c.published),
            skipped: c.skipped,
        }
    })
}

fn row(indicator: &str, entity: &str, grain: &str, period: &str) -> &'static Row {
    let key = (
        indicator.to_string(),
        entity.to_string(),
        grain.to_string(),
        period.to_string(),
    );
    computed()
        .all
        .get(&key)
        .unwrap_or_else(|| panic!("no row {key:?}"))
}

#[track_caller]
fn value(indicator: &str, entity: &str, grain: &str, period: &str, expected: f64) {
    let r = row(indicator, entity, grain, period);
    let v = r
        .value
        .unwrap_or_else(|| panic!("{indicator} {entity} {period}: no value in {r:?}"));
    assert!(
        close(v, expected),
        "{indicator} {entity} {grain} {period}: {v} ≠ {expected}"
    );
}

#[track_caller]
fn absent(indicator: &str, entity: &str, grain: &str, period: &str) {
    let key = (
        indicator.to_string(),
        entity.to_string(),
        grain.to_string(),
        period.to_string(),
    );
    assert!(
        !computed().all.contains_key(&key),
        "unexpected row {key:?}: {:?}",
        computed().all.get(&key)
    );
}

const FY: (&str, &str) = ("financial_year", "2024/25");
const Q1: (&str, &str) = ("quarter", "FY2024-Q1");
const APRIL: (&str, &str) = ("month", "2024-04");
const ENGLAND: &str = engine::ENGLAND;

#[test]
fn every_default_indicator_computes_and_nothing_is_skipped() {
    let c = computed();
    assert!(c.skipped.is_empty(), "{:?}", c.skipped);
    let ids: std::collections::BTreeSet<&str> = c.all.keys().map(|k| k.0.as_str()).collect();
    assert_eq!(ids.len(), 27, "{ids:?}");
}

#[test]
fn spend_and_population_on_new_terms() {
    // 93C pays RAL £1,000,000 by capitation and TAF £250,000 as a block; 15E pays by tariff.
    value("new_terms_spend_share", "93C", FY.0, FY.1, 80.0);
    value("new_terms_spend_share", "15E", FY.0, FY.1, 0.0);
    value("new_terms_spend_share", "QMJ", FY.0, FY.1, 80.0);
    value("new_terms_spend_share", "Y60", FY.0, FY.1, 0.0);
    value(
        "new_terms_spend_share",
        ENGLAND,
        FY.0,
        FY.1,
        100.0 * 1_000_000.0 / 3_750_000.0,
    );
    // 93C's practices (250 people a month) are covered; 15E's (300) are not.
    value("new_terms_population_share", "93C", FY.0, FY.1, 100.0);
    value("new_terms_population_share", "15E", FY.0, FY.1, 0.0);
    value(
        "new_terms_population_share",
        ENGLAND,
        FY.0,
        FY.1,
        100.0 * 3_000.0 / 6_600.0,
    );
    value(
        "new_terms_population_share",
        ENGLAND,
        APRIL.0,
        APRIL.1,
        100.0 * 250.0 / 550.0,
    );
}

#[test]
fn ae_four_hours_from_the_sitrep_by_provider_system_region_and_england() {
    // RAL April: 10,000 type 1 + 2,000 other, 3,000 + 100 over four hours.
    value("ae_4h", "RAL", APRIL.0, APRIL.1, 100.0 * 8_900.0 / 12_000.0);
    // RAL Q1 adds May: 10,000 type 1, 2,000 over.
    value("ae_4h", "RAL", Q1.0, Q1.1, 100.0 * 16_900.0 / 22_000.0);
    value("ae_4h", "QMJ", Q1.0, Q1.1, 100.0 * 16_900.0 / 22_000.0);
    // NL7 has no system: it counts for its region (Midlands) and England.
    value("ae_4h", "NL7", Q1.0, Q1.1, 100.0 * 1_490.0 / 1_500.0);
    value("ae_4h", "Y60", Q1.0, Q1.1, 100.0 * 1_490.0 / 1_500.0);
    value("ae_4h", ENGLAND, Q1.0, Q1.1, 100.0 * 18_390.0 / 23_500.0);
    let r = row("ae_4h", ENGLAND, Q1.0, Q1.1);
    let p = stats::proportion::wilson(18_390.0, 23_500.0, 0.95).expect("wilson");
    assert!(
        close(r.lower_95.expect("lower"), 100.0 * p.lower)
            && close(r.upper_95.expect("upper"), 100.0 * p.upper)
    );
    assert_eq!(r.kind, "england");
    // Type 1 only: NL7 has no type-1 department and drops out.
    value("ae_4h_type1", "RAL", APRIL.0, APRIL.1, 70.0);
    value("ae_4h_type1", ENGLAND, Q1.0, Q1.1, 75.0);
    absent("ae_4h_type1", "NL7", Q1.0, Q1.1);
    // 12-hour waits per emergency admission: 120 of 2,500 in April, 220 of 5,000 in Q1.
    value("ae_12h", "RAL", APRIL.0, APRIL.1, 4.8);
    value("ae_12h", "RAL", Q1.0, Q1.1, 4.4);
    // A quarter or year is only published when the window holds all of it; the window is
    // one financial year, so the rolling 12 months is that year.
    value(
        "ae_4h",
        "RAL",
        "rolling_12_months",
        "2024-04 to 2025-03",
        100.0 * 16_900.0 / 22_000.0,
    );
}

#[test]
fn emergency_admissions_per_1000_through_the_registered_practice() {
    // Emergency spells: P1 (F83004) twice in April, P2 (F83004) in June, P3 (M85001) in June.
    // Registered: F83004 200, F83010 50, M85001 300, every month.
    value(
        "emergency_admissions_rate",
        "F83004",
        FY.0,
        FY.1,
        3.0 / 2_400.0 * 12_000.0,
    );
    value("emergency_admissions_rate", "F83010", FY.0, FY.1, 0.0);
    value(
        "emergency_admissions_rate",
        "93C",
        FY.0,
        FY.1,
        3.0 / 3_000.0 * 12_000.0,
    );
    value(
        "emergency_admissions_rate",
        "15E",
        FY.0,
        FY.1,
        1.0 / 3_600.0 * 12_000.0,
    );
    value("emergency_admissions_rate", "QMJ", FY.0, FY.1, 12.0);
    value(
        "emergency_admissions_rate",
        ENGLAND,
        FY.0,
        FY.1,
        4.0 / 6_600.0 * 12_000.0,
    );
    value(
        "emergency_admissions_rate",
        "F83004",
        APRIL.0,
        APRIL.1,
        2.0 / 200.0 * 12_000.0,
    );
    // Fewer than 10 events: the exact Poisson interval.
    let r = row("emergency_admissions_rate", "F83004", FY.0, FY.1);
    let (lower, upper, _) = stats::rate::poisson_limits(3.0, 0.95);
    assert!(close(r.lower_95.expect("lower"), lower / 2_400.0 * 12_000.0));
    assert!(close(r.upper_95.expect("upper"), upper / 2_400.0 * 12_000.0));
    let (lower, _, _) = stats::rate::poisson_limits(3.0, 0.998);
    assert!(close(r.lower_998.expect("lower"), lower / 2_400.0 * 12_000.0));
    assert_eq!(r.kind, "organisation");
}

#[test]
fn indirectly_standardised_ratio_against_national_age_sex_rates() {
    // National rates for the year: 70-74 F 2 / 2,400 person-months (P1's two spells; F83004
    // and M85001 have 100 each), 30-34 M 1 / 1,200 (P2), 80-84 F 1 / 2,400 (P3), 20-24 F 0 / 600.
    // F83004 expects 1,200 × 2/2,400 + 1,200 × 1/1,200 = 2 and saw 3: 150.
    value("emergency_admissions_isr", "F83004", FY.0, FY.1, 150.0);
    // M85001 expects 2,400 × 1/2,400 + 1,200 × 2/2,400 = 2 and saw 1: 50.
    value("emergency_admissions_isr", "M85001", FY.0, FY.1, 50.0);
    value("emergency_admissions_isr", "93C", FY.0, FY.1, 150.0);
    value("emergency_admissions_isr", "15E", FY.0, FY.1, 50.0);
    value("emergency_admissions_isr", ENGLAND, FY.0, FY.1, 100.0);
    let r = row("emergency_admissions_isr", "F83004", FY.0, FY.1);
    assert!(close(r.denominator.expect("expected"), 2.0));
    let (lower, upper, _) = stats::rate::poisson_limits(3.0, 0.95);
    assert!(
        close(r.lower_95.expect("lower"), lower / 2.0 * 100.0)
            && close(r.upper_95.expect("upper"), upper / 2.0 * 100.0)
    );
    // F83010 expects nothing (no 20-24 F events anywhere): no ratio.
    assert_eq!(row("emergency_admissions_isr", "F83010", FY.0, FY.1).value, None);
}

#[test]
fn readmissions_by_provider_and_by_registered_population() {
    // Index spells (live discharges, not maternity, followed up for 30 days): S1, S2, S3, S5,
    // S6. S1 (RAL, discharged 9 April) is readmitted by S2 (20 April). S4 died.
    value("readmissions_30d", "RAL", FY.0, FY.1, 100.0 / 3.0);
    value("readmissions_30d", "RAL", APRIL.0, APRIL.1, 50.0);
    value("readmissions_30d", "RRK", FY.0, FY.1, 0.0);
    value("readmissions_30d", "NL7", FY.0, FY.1, 0.0);
    // Through the registered practice: 93C's patients had all five index spells.
    value("readmissions_30d", "93C", FY.0, FY.1, 20.0);
    value("readmissions_30d", "QMJ", FY.0, FY.1, 20.0);
    value("readmissions_30d", ENGLAND, FY.0, FY.1, 20.0);
    // 15E's only spell ended in death: no index spells, no row.
    absent("readmissions_30d", "15E", FY.0, FY.1);
    // Systems are fed by the registered path only: RRK's index spell (a 93C patient) counts
    // for QMJ, not for RRK's system QHL.
    absent("readmissions_30d", "QHL", FY.0, FY.1);
}

#[test]
fn delayed_discharges_rtt_beds_and_workforce() {
    value("delayed_discharge_days", "RAL", FY.0, FY.1, 2.0);
    value("delayed_discharge_days", ENGLAND, FY.0, FY.1, 2.0);
    assert_eq!(row("delayed_discharge_days", "RAL", FY.0, FY.1).denominator, None);
    value("rtt_18w", "RAL", APRIL.0, APRIL.1, 60.0);
    value("rtt_18w", "RRK", APRIL.0, APRIL.1, 75.0);
    value("rtt_18w", "93C", APRIL.0, APRIL.1, 60.0);
    value("rtt_18w", ENGLAND, APRIL.0, APRIL.1, 100.0 * 45_000.0 / 70_000.0);
    value("rtt_52w", "RAL", APRIL.0, APRIL.1, 2.4);
    value("rtt_52w", ENGLAND, APRIL.0, APRIL.1, 100.0 * 1_300.0 / 70_000.0);
    value("bed_occupancy", "RAL", APRIL.0, APRIL.1, 100.0 * 850.0 / 900.0);
    value(
        "workforce_vacancy_rate",
        "RAL",
        APRIL.0,
        APRIL.1,
        100.0 * 310.0 / 3_510.5,
    );
    value(
        "workforce_vacancy_rate",
        "TAF",
        APRIL.0,
        APRIL.1,
        100.0 * 100.0 / 1_100.0,
    );
    value(
        "workforce_vacancy_rate",
        "QMJ",
        APRIL.0,
        APRIL.1,
        100.0 * 410.0 / 4_610.5,
    );
    value("agency_share", "RAL", APRIL.0, APRIL.1, 100.0 * 45.2 / 3_245.7);
}

#[test]
fn single_oversight_framework_finance_metrics() {
    // RAL, FY2024-Q1 (91 days): income 300m, expenditure 305m, planned -2m, actual -5m,
    // control total -2m, current assets 90m, liabilities 110m, inventories 5m, capital
    // service 12m, agency 9m against a cap of 8m.
    value("ie_margin", "RAL", Q1.0, Q1.1, -5.0 / 300.0 * 100.0);
    value("distance_from_plan", "RAL", Q1.0, Q1.1, -1.0);
    value("agency_vs_cap", "RAL", Q1.0, Q1.1, 12.5);
    value("capital_service_capacity", "RAL", Q1.0, Q1.1, 7.0 / 12.0);
    value("liquidity_days", "RAL", Q1.0, Q1.1, -25.0 * 91.0 / 305.0);
    value("control_total_delivery", "RAL", Q1.0, Q1.1, -1.0);
    // A commissioner is not a trust: the system's margin is RAL's alone.
    value("ie_margin", "QMJ", Q1.0, Q1.1, -5.0 / 300.0 * 100.0);
    absent("ie_margin", "93C", Q1.0, Q1.1);
    // The system's combined surplus (RAL -5m, 93C +10m) over its allocation (2.5bn).
    value("system_surplus_share", "QMJ", FY.0, FY.1, 5.0 / 2_500.0 * 100.0);
    value("system_surplus_share", ENGLAND, FY.0, FY.1, 5.0 / 5_400.0 * 100.0);
    // QHL made no finance return: missing, not zero.
    assert_eq!(row("system_surplus_share", "QHL", FY.0, FY.1).value, None);
}

#[test]
fn survey_cqc_and_cross_boundary_flows() {
    // F83004: answers 4, 5, 2 and one blank; M85001: 3.
    value("care_coordination", "F83004", FY.0, FY.1, 200.0 / 3.0);
    value("care_coordination", "M85001", FY.0, FY.1, 0.0);
    value("care_coordination", ENGLAND, FY.0, FY.1, 50.0);
    // Latest ratings at the end of the data: RAL good, RRK requires improvement, F83004 outstanding.
    value("cqc_rating_mix", "QMJ", "month", "2025-03", 100.0);
    value("cqc_rating_mix", "QHL", "month", "2025-03", 0.0);
    value("cqc_rating_mix", ENGLAND, "month", "2025-03", 200.0 / 3.0);
    // 93C's patients: S3 at RRK (QHL) and S5 at NL7 (no system) are outside, of five spells.
    value("cross_boundary_flow", "93C", FY.0, FY.1, 40.0);
    value("cross_boundary_flow", "QMJ", FY.0, FY.1, 40.0);
    value("cross_boundary_flow", "15E", FY.0, FY.1, 0.0);
}

#[test]
fn small_counts_are_suppressed_below_england() {
    let c = computed();
    let key = |e: &str| {
        (
            "readmissions_30d".to_string(),
            e.to_string(),
            FY.0.to_string(),
            FY.1.to_string(),
        )
    };
    let ral = &c.published[&key("RAL")];
    assert_eq!(ral.suppressed, Some(true));
    assert_eq!(
        (ral.value, ral.numerator, ral.denominator, ral.lower_95),
        (None, None, None, None)
    );
    let england = &c.published[&key(ENGLAND)];
    assert_eq!(england.suppressed, Some(false));
    assert!(close(england.value.expect("value"), 20.0));
    // Money is not a count of people: finance is never suppressed.
    let finance = &c.published[&(
        "ie_margin".to_string(),
        "RAL".to_string(),
        Q1.0.to_string(),
        Q1.1.to_string(),
    )];
    assert_eq!(finance.suppressed, Some(false));
    // A large count is published (RAL's A&E attendances).
    let ae = &c.published[&(
        "ae_4h".to_string(),
        "RAL".to_string(),
        Q1.0.to_string(),
        Q1.1.to_string(),
    )];
    assert_eq!(ae.suppressed, Some(false));
}

#[test]
fn a_dataset_without_a_table_skips_its_indicators_and_says_why() {
    let dir = tempfile::tempdir().expect("temporary folder");
    for e in std::fs::read_dir(data("tiny")).expect("fixture") {
        let p = e.expect("entry").path();
        let name = p.file_name().expect("name").to_string_lossy().into_owned();
        if name != "rtt.csv" {
            std::fs::copy(&p, dir.path().join(&name)).expect("copy");
        }
    }
    let loaded = dataset::load(dir.path(), &dataset::Options::default()).expect("valid without rtt");
    let catalogue = engine::Catalogue::default_catalogue().expect("catalogue");
    let options = engine::Options {
        indicators: vec!["rtt_18w".into(), "ae_4h".into()],
        ..Default::default()
    };
    let c = engine::compute(&loaded.dataset, &catalogue, &options, &|_| {}).expect("computes");
    assert_eq!(
        c.skipped,
        vec![(
            "rtt_18w".to_string(),
            "rtt_18w: needs table rtt, which the dataset does not have".to_string()
        )]
    );
    assert_eq!(c.rows.len(), 1);
    // An unknown indicator is an error naming it.
    let options = engine::Options {
        indicators: vec!["no_such".into()],
        ..Default::default()
    };
    let e = engine::compute(&loaded.dataset, &catalogue, &options, &|_| {}).expect_err("unknown");
    assert!(e.to_string().contains("no_such: not in the catalogue"), "{e}");
}

#[test]
fn the_real_england_sitrep_computes() {
    // The bundled reference data holds only the A&E SitRep: the A&E indicators run on it
    // and the rest are skipped.
    let dir = crate::root().join("data/england/contract");
    let loaded = dataset::load(&dir, &dataset::Options::default()).expect("the reference data is valid");
    let catalogue = engine::Catalogue::default_catalogue().expect("catalogue");
    let options = engine::Options {
        grains: vec![engine::catalogue::Grain::Rolling12Months],
        ..Default::default()
    };
    let c = engine::compute(&loaded.dataset, &catalogue, &options, &|_| {}).expect("computes");
    let all = rows(&c.unsuppressed);
    let england = &all[&(
        "ae_4h".to_string(),
        ENGLAND.to_string(),
        "rolling_12_months".to_string(),
        "2024-07 to 2025-06".to_string(),
    )];
    // calibration.md: 74.1% for June 2024 – May 2025; July – June is within a few tenths.
    let v = england.value.expect("value");
    assert!((73.0..75.5).contains(&v), "England 4-hour {v}");
    assert!(c.rows.iter().any(|(id, n)| id == "ae_12h" && *n > 0));
    assert!(c.skipped.iter().any(|(id, _)| id == "readmissions_30d"));
}

#[test]
fn a_numerator_and_denominator_over_the_same_rows_give_what_separate_queries_give() {
    // The same proportion twice: once with the numerator's condition inside its sum (both
    // sums over the same rows, so the engine computes them in one pass) and once as a
    // filter (two queries). A unit without 30-34s has a null sum in the first and no
    // numerator rows in the second; both must publish 0.
    let indicator = |id: &str, numerator: &str| {
        format!(
            r#"
format = 1
id = "{id}"
title = "Share aged 30-34"
description = "A test of one-pass sums."
domain = "test"
unit = "percent"
direction = "none"
grains = ["month", "financial_year", "rolling_12_months"]
multiplier = 100.0
ci = "wilson"

[numerator]
table = "population"
when = "period"
{numerator}

[denominator]
table = "population"
when = "period"
value = "sum(persons)"

[[attribution]]
path = "registered"
levels = ["practice", "commissioner", "england"]
"#
        )
    };
    let catalogue = engine::Catalogue::from_texts([
        (
            std::path::PathBuf::from("one_pass.toml"),
            indicator(
                "one_pass",
                "value = \"sum(CASE WHEN age_band = '30-34' THEN persons END)\"",
            ),
        ),
        (
            std::path::PathBuf::from("two_queries.toml"),
            indicator(
                "two_queries",
                "filter = \"age_band = '30-34'\"\nvalue = \"sum(persons)\"",
            ),
        ),
    ])
    .expect("valid");
    let loaded = dataset::load(&data("tiny"), &dataset::Options::default()).expect("valid");
    let c =
        engine::compute(&loaded.dataset, &catalogue, &engine::Options::default(), &|_| {}).expect("computes");
    let all = rows(&c.unsuppressed);
    let (mut compared, mut zeros, mut some) = (0, 0, 0);
    for ((id, entity, grain, period), a) in &all {
        if id != "one_pass" {
            continue;
        }
        let b = &all[&(
            "two_queries".to_string(),
            entity.clone(),
            grain.clone(),
            period.clone(),
        )];
        assert_eq!(
            (a.numerator, a.denominator, a.value, a.lower_95, a.upper_998),
            (b.numerator, b.denominator, b.value, b.lower_95, b.upper_998),
            "{entity} {grain} {period}"
        );
        compared += 1;
        match a.numerator {
            Some(0.0) => zeros += 1,
            Some(_) => some += 1,
            None => panic!("{entity} {grain} {period}: no numerator"),
        }
    }
    let count = |id: &str| all.keys().filter(|k| k.0 == id).count();
    assert_eq!(compared, count("two_queries"));
    // Only F83004 has people aged 30-34 (1,200 person-months of 2,400): F83010's numerator
    // is 0, not missing.
    assert!(
        zeros > 0 && some > 0,
        "{zeros} zero and {some} positive numerators"
    );
    let fy = |entity: &str| {
        all[&(
            "one_pass".to_string(),
            entity.to_string(),
            FY.0.to_string(),
            FY.1.to_string(),
        )]
            .value
    };
    assert!(close(fy("F83004").expect("value"), 50.0));
    assert_eq!(
        all[&(
            "one_pass".to_string(),
            "F83010".to_string(),
            FY.0.to_string(),
            FY.1.to_string()
        )]
            .numerator,
        Some(0.0)
    );
}

#[test]
fn direct_standardisation_matches_phe_dsr_on_the_bands_present() {
    // A made-up indicator: female person-months per 100,000 person-months, directly
    // standardised to ESP 2013, from the population table alone (so counts pass 10).
    let toml = r#"
format = 1
id = "female_dsr"
title = "Female share, directly standardised"
description = "A test of direct standardisation."
domain = "test"
unit = "per1000"
direction = "none"
grains = ["financial_year"]
multiplier = 100000.0
ci = "dobson"
standardisation = "direct_esp2013"

[numerator]
table = "population"
when = "period"
filter = "sex = 'F'"
value = "sum(persons)"

[denominator]
table = "population"
when = "period"
value = "sum(persons)"

[[attribution]]
path = "registered"
levels = ["practice", "england"]
"#;
    let catalogue =
        engine::Catalogue::from_texts([(std::path::PathBuf::from("female_dsr.toml"), toml.to_string())])
            .expect("valid");
    let loaded = dataset::load(&data("tiny"), &dataset::Options::default()).expect("valid");
    let c =
        engine::compute(&loaded.dataset, &catalogue, &engine::Options::default(), &|_| {}).expect("computes");
    let all = rows(&c.unsuppressed);
    let england = &all[&(
        "female_dsr".to_string(),
        ENGLAND.to_string(),
        FY.0.to_string(),
        FY.1.to_string(),
    )];
    // England's bands, person-months over the year: 20-24 (600 F of 600), 30-34 (0 of
    // 1,200), 70-74 (2,400 of 2,400), 80-84 (2,400 of 2,400).
    let bands = ["20-24", "30-34", "70-74", "80-84"];
    let weight = |b: &str| {
        let i = stats::standardise::ESP2013_BANDS
            .iter()
            .position(|x| *x == b)
            .expect("band");
        stats::standardise::ESP2013[i]
    };
    let x = [600.0, 0.0, 2_400.0, 2_400.0];
    let n = [600.0, 1_200.0, 2_400.0, 2_400.0];
    let w: Vec<f64> = bands.iter().map(|b| weight(b)).collect();
    let phe = stats::standardise::dsr(&x, &n, &w, &[0.95, 0.998], 100_000.0).expect("dsr");
    let (value, limits) = phe.estimate.expect("enough events");
    // phe_dsr divides by the weights of the bands given; the engine by the whole standard.
    let share = w.iter().sum::<f64>() / stats::standardise::ESP2013.iter().sum::<f64>();
    assert!(
        close(england.value.expect("value"), value * share),
        "{:?} vs {}",
        england.value,
        value * share
    );
    assert!(close(england.lower_95.expect("lower"), limits[0].0 * share));
    assert!(close(england.upper_95.expect("upper"), limits[0].1 * share));
    assert!(close(england.upper_998.expect("upper"), limits[1].1 * share));
    assert!(close(england.numerator.expect("count"), 5_400.0));
    // F83010 has 600 female person-months: a value; no practice has fewer than 10 events here.
    assert!(
        all[&(
            "female_dsr".to_string(),
            "F83010".to_string(),
            FY.0.to_string(),
            FY.1.to_string()
        )]
            .value
            .is_some()
    );
}

#[test]
fn control_total_agreement_and_cqc_rating_scores() {
    // RAL agreed its control total in Q1; the commissioner's row does not count.
    value("control_total_agreed", "RAL", Q1.0, Q1.1, 100.0);
    value("control_total_agreed", ENGLAND, Q1.0, Q1.1, 100.0);
    // Latest ratings by the end of the data: RAL good (its 2020 inadequate is superseded),
    // RRK requires improvement, F83004 outstanding; England is their mean.
    value("cqc_rating", "RAL", "month", "2025-03", 2.0);
    value("cqc_rating", "RRK", "month", "2025-03", 3.0);
    value("cqc_rating", ENGLAND, "month", "2025-03", 2.0);
    // The commissioner's own surplus: £10m on £600m income.
    value("commissioner_margin", "93C", Q1.0, Q1.1, 100.0 * 10.0 / 600.0);
}

#[test]
fn indicators_computed_side_by_side_give_what_each_alone_gives() {
    // `compute` runs indicators two (or more) at a time; each one's rows must not depend on
    // what ran beside it (table names, derived tables, the session's state).
    let loaded = dataset::load(&data("tiny"), &dataset::Options::default()).expect("valid");
    let catalogue = engine::Catalogue::default_catalogue().expect("catalogue");
    let all = computed();
    let mut compared = 0;
    for ind in &catalogue.indicators {
        let options = engine::Options {
            indicators: vec![ind.id.clone()],
            ..Default::default()
        };
        let alone = engine::compute(&loaded.dataset, &catalogue, &options, &|_| {}).expect("computes");
        let alone = rows(&alone.unsuppressed);
        let together: Rows = all
            .all
            .iter()
            .filter(|(k, _)| k.0 == ind.id)
            .map(|(k, r)| (k.clone(), r.clone()))
            .collect();
        assert_eq!(alone.len(), together.len(), "{}", ind.id);
        for (k, r) in &alone {
            assert_eq!(Some(r), together.get(k), "{k:?}");
            compared += 1;
        }
    }
    assert!(compared > 500, "{compared}");
}

#[test]
fn a_failing_indicator_is_the_error_whichever_finishes_first() {
    // One indicator's query fails (an unknown column) among good ones computed beside it:
    // the run fails with that indicator's error, not a half-computed table.
    let broken = r#"
format = 1
id = "broken"
title = "Broken"
description = "A filter on a column no table has."
domain = "test"
unit = "count"
direction = "none"
grains = ["financial_year"]
ci = "none"

[numerator]
table = "admissions"
when = "admission_date"
filter = "no_such_column = 1"
value = "count(*)"

[[attribution]]
path = "provider"
levels = ["provider", "england"]
"#;
    let mut texts: Vec<(std::path::PathBuf, String)> =
        std::fs::read_dir(crate::root().join("catalogue/indicators"))
            .expect("catalogue")
            .map(|e| {
                let p = e.expect("entry").path();
                let text = std::fs::read_to_string(&p).expect("read");
                (p, text)
            })
            .collect();
    texts.push(("broken.toml".into(), broken.to_string()));
    let catalogue = engine::Catalogue::from_texts(texts).expect("valid");
    let loaded = dataset::load(&data("tiny"), &dataset::Options::default()).expect("valid");
    let e = engine::compute(&loaded.dataset, &catalogue, &engine::Options::default(), &|_| {})
        .expect_err("the broken indicator fails");
    assert!(e.to_string().starts_with("broken: query failed"), "{e}");
}
