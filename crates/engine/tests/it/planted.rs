//! The signals the synthetic generator planted (its `truth.toml`) show up in the computed
//! indicators and their SPC and funnel signals.

use crate::{close, rows};
use std::collections::HashMap;

/// (indicator, entity, grain, period).
type Key = (String, String, String, String);
/// (SPC point, funnel position, funnel side).
type Signal = (Option<String>, Option<String>, Option<String>);

struct Planted {
    truth: synth::Truth,
    values: crate::Rows,
    /// (indicator, entity, grain, period) → (spc point, funnel position, funnel side).
    signals: HashMap<Key, Signal>,
    /// The same indicators computed at the financial-year grain alone, which reads only the
    /// months of whole financial years (`engine::maps::Needed`) and groups dated rows by
    /// year (`engine::maps::Base`).
    years_alone: crate::Rows,
    /// And at the quarter grain alone: every month, grouped by quarter.
    quarters_alone: crate::Rows,
}

fn planted() -> &'static Planted {
    static P: std::sync::OnceLock<Planted> = std::sync::OnceLock::new();
    P.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temporary folder");
        let config = synth::Config {
            scale: 0.01,
            seed: 5,
            ..synth::Config::default()
        };
        synth::generate(dir.path(), &config, None, None).expect("generates");
        let truth = synth::Truth::read(dir.path()).expect("truth");
        let loaded = dataset::load(dir.path(), &dataset::Options::default()).expect("valid");
        let catalogue = engine::Catalogue::default_catalogue().expect("catalogue");
        let options = engine::Options {
            indicators: vec![
                "ae_4h".into(),
                "emergency_admissions_isr".into(),
                "readmissions_30d".into(),
            ],
            grains: vec![
                engine::catalogue::Grain::Month,
                engine::catalogue::Grain::Quarter,
                engine::catalogue::Grain::FinancialYear,
            ],
            ..Default::default()
        };
        let c = engine::compute(&loaded.dataset, &catalogue, &options, &|_| {}).expect("computes");
        let years = engine::Options {
            grains: vec![engine::catalogue::Grain::FinancialYear],
            ..options.clone()
        };
        let years_alone = engine::compute(&loaded.dataset, &catalogue, &years, &|_| {}).expect("computes");
        let quarters = engine::Options {
            grains: vec![engine::catalogue::Grain::Quarter],
            ..options.clone()
        };
        let quarters_alone =
            engine::compute(&loaded.dataset, &catalogue, &quarters, &|_| {}).expect("computes");
        let mut signals = HashMap::new();
        for b in &c.signals {
            let t = |col: &str, i: usize| engine::signals::text(b, col, i);
            for i in 0..b.num_rows() {
                let key = (
                    t("indicator_id", i),
                    t("entity_code", i),
                    t("grain", i),
                    t("period", i),
                );
                let key = (
                    key.0.unwrap_or_default(),
                    key.1.unwrap_or_default(),
                    key.2.unwrap_or_default(),
                    key.3.unwrap_or_default(),
                );
                signals.insert(
                    key,
                    (t("spc_point", i), t("funnel_position", i), t("funnel_side", i)),
                );
            }
        }
        Planted {
            truth,
            values: rows(&c.unsuppressed),
            signals,
            years_alone: rows(&years_alone.unsuppressed),
            quarters_alone: rows(&quarters_alone.unsuppressed),
        }
    })
}

#[test]
fn one_grain_alone_reads_only_its_months_and_gives_the_same_values() {
    // The window (July 2023 to June 2025) holds one whole financial year, so a run at that
    // grain alone narrows every reduction, the readmissions' derived table through
    // `${period_start}` and `${period_end}`, and groups dated rows by year; a run at the
    // quarter grain groups them by quarter. Their rows must be the full run's.
    let p = planted();
    for (grain, alone) in [("financial_year", &p.years_alone), ("quarter", &p.quarters_alone)] {
        let full: Vec<_> = p.values.iter().filter(|(k, _)| k.2 == grain).collect();
        assert_eq!(full.len(), alone.len(), "{grain}");
        let mut seen = std::collections::BTreeMap::new();
        for (key, r) in full {
            let a = alone.get(key).unwrap_or_else(|| panic!("no row {key:?} alone"));
            for (x, y) in [
                (r.numerator, a.numerator),
                (r.denominator, a.denominator),
                (r.value, a.value),
                (r.lower_998, a.lower_998),
                (r.upper_998, a.upper_998),
            ] {
                assert!(
                    x.zip(y).map_or(x.is_none() && y.is_none(), |(x, y)| close(x, y)),
                    "{key:?}: {r:?} against {a:?}"
                );
            }
            *seen.entry(key.0.as_str()).or_insert(0) += 1;
        }
        for id in ["ae_4h", "emergency_admissions_isr", "readmissions_30d"] {
            assert!(seen.get(id).is_some_and(|n| *n > 10), "{grain}: {seen:?}");
        }
    }
}

#[test]
fn four_hour_step_changes_are_in_the_monthly_series_and_spc_sees_the_large_ones() {
    let p = planted();
    let steps: Vec<_> = p
        .truth
        .step_change
        .iter()
        .filter(|s| s.indicator == "ae_4h")
        .collect();
    assert_eq!(steps.len(), 4);
    for s in steps {
        let mut before = (0.0, 0.0);
        let mut after = (0.0, 0.0);
        let mut special_after = 0;
        for ((id, code, grain, period), r) in &p.values {
            if id != "ae_4h" || code != &s.org_code || grain != "month" {
                continue;
            }
            let side = if period.as_str() >= s.month.as_str() {
                &mut after
            } else {
                &mut before
            };
            side.0 += r.numerator.expect("numerator");
            side.1 += r.denominator.expect("denominator");
            if period.as_str() >= s.month.as_str()
                && p.signals[&(id.clone(), code.clone(), grain.clone(), period.clone())]
                    .0
                    .as_deref()
                    == Some("special_cause_concern")
            {
                special_after += 1;
            }
        }
        let (p0, p1) = (before.0 / before.1, after.0 / after.1);
        let ratio = p1 / p0;
        let se = ratio * ((1.0 - p0) / (p0 * before.1) + (1.0 - p1) / (p1 * after.1)).sqrt();
        assert!(
            (ratio - (1.0 + s.relative_change)).abs() < 4.0 * se + 0.005,
            "{}: {ratio:.3} against {}",
            s.org_code,
            1.0 + s.relative_change
        );
        if s.relative_change <= -0.12 {
            assert!(
                special_after >= 3,
                "{}: SPC flags only {special_after} months after a fall of {}",
                s.org_code,
                s.relative_change
            );
        }
    }
}

#[test]
fn emergency_admission_outliers_are_beyond_the_funnel_on_their_side() {
    let p = planted();
    let outliers: Vec<_> = p
        .truth
        .outlier
        .iter()
        .filter(|o| o.indicator == "emergency_admissions_isr")
        .collect();
    assert_eq!(outliers.len(), 4);
    for o in outliers {
        let key = (
            "emergency_admissions_isr".to_string(),
            o.org_code.clone(),
            "financial_year".to_string(),
            "2024/25".to_string(),
        );
        let (_, position, side) = &p.signals[&key];
        assert_eq!(position.as_deref(), Some("beyond_998"), "{}", o.org_code);
        assert_eq!(side.as_deref(), Some(o.direction.as_str()), "{}", o.org_code);
        let ratio = p.values[&key].value.expect("ratio") / 100.0;
        assert!(
            (ratio / o.factor - 1.0).abs() < 0.3,
            "{}: ISR {ratio:.2} planted {}",
            o.org_code,
            o.factor
        );
    }
    // England is 100 by construction.
    let england = &p.values[&(
        "emergency_admissions_isr".to_string(),
        engine::ENGLAND.to_string(),
        "financial_year".to_string(),
        "2024/25".to_string(),
    )];
    assert!(close(england.value.expect("value"), 100.0));
}

#[test]
fn readmission_outliers_are_beyond_the_funnel_on_their_side() {
    let p = planted();
    let outliers: Vec<_> = p
        .truth
        .outlier
        .iter()
        .filter(|o| o.indicator == "readmissions_30d")
        .collect();
    assert_eq!(outliers.len(), 4);
    for o in outliers {
        let key = (
            "readmissions_30d".to_string(),
            o.org_code.clone(),
            "financial_year".to_string(),
            "2024/25".to_string(),
        );
        let (_, position, side) = &p.signals[&key];
        assert!(
            matches!(position.as_deref(), Some("beyond_998" | "beyond_95")),
            "{}: {position:?}",
            o.org_code
        );
        assert_eq!(side.as_deref(), Some(o.direction.as_str()), "{}", o.org_code);
    }
}
