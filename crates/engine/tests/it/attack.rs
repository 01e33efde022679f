//! The differencing attacker (`engine::audit`) against the published indicator table, on
//! synthetic England and on the real A&E SitRep: it recovers no hidden count of 1–7 from
//! what is published, and it does recover them — each one right — from the table as it was
//! published before secondary suppression and rounding (primary suppression only).

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::Float64Type;
use engine::audit::{Published, attack};
use std::collections::HashMap;

/// The table as primary suppression alone publishes it: exact counts, 1–7 hidden.
fn primary_only(c: &engine::Computed, catalogue: &engine::Catalogue) -> Vec<Published> {
    let mut out = Vec::new();
    for b in &c.unsuppressed {
        let id = b.column(0).as_string::<i32>().value(0).to_string();
        let ind = catalogue.get(&id).expect("indicator");
        let hidden = engine::suppressed(b, engine::Disclosure::of(ind));
        for (i, mut r) in engine::audit::rows_of(std::slice::from_ref(b))
            .into_iter()
            .enumerate()
        {
            r.suppressed = hidden.value(i);
            if r.suppressed {
                r.numerator = None;
                r.denominator = None;
            }
            out.push(r);
        }
    }
    out
}

/// (indicator, level, code, grain, period).
type Place = (String, String, String, String, String);

/// Place → (numerator, denominator), unsuppressed.
fn truth(batches: &[RecordBatch]) -> HashMap<Place, (Option<f64>, Option<f64>)> {
    let mut out = HashMap::new();
    for b in batches {
        let s = |c: usize| b.column(c).as_string::<i32>();
        let f = |c: usize, i: usize| {
            let a = b.column(c).as_primitive::<Float64Type>();
            (!a.is_null(i)).then(|| a.value(i))
        };
        for i in 0..b.num_rows() {
            out.insert(
                (
                    s(0).value(i).to_string(),
                    s(3).value(i).to_string(),
                    s(2).value(i).to_string(),
                    s(4).value(i).to_string(),
                    s(5).value(i).to_string(),
                ),
                (f(6, i), f(7, i)),
            );
        }
    }
    out
}

/// Attacks the published table and the primary-only one; returns how many counts the
/// attacker recovered from the latter (each checked against the truth).
fn attack_both(ds: &dataset::Dataset, c: &engine::Computed, catalogue: &engine::Catalogue) -> usize {
    let map = engine::entity_map(ds);
    let published = engine::audit::rows_of(&c.published);
    let t = std::time::Instant::now();
    let report = attack(&published, catalogue, &map);
    eprintln!(
        "published: {} variables, {} hidden, {} relations, {} recovered ({:.1} s)",
        report.variables,
        report.hidden,
        report.relations,
        report.recovered.len(),
        t.elapsed().as_secs_f64()
    );
    assert!(report.hidden > 0, "nothing hidden to attack");
    assert!(report.relations > 0);
    assert!(
        report.recovered.is_empty(),
        "{} of {} hidden counts recovered from the published table, first {:?}",
        report.recovered.len(),
        report.hidden,
        report.recovered.first()
    );
    // Every published sub-national count of people is a multiple of 5.
    for r in &published {
        let ind = catalogue.get(&r.indicator).expect("indicator");
        if r.level != "england" && engine::Disclosure::of(ind) != engine::Disclosure::None {
            let x = r.numerator.unwrap_or(0.0);
            assert!((x / 5.0).fract() == 0.0, "{r:?}");
        }
    }

    // Switched off: primary suppression alone gives counts back, and the attacker's counts
    // are the true ones.
    let old = attack(&primary_only(c, catalogue), catalogue, &map);
    eprintln!(
        "primary suppression only: {} hidden, {} recovered",
        old.hidden,
        old.recovered.len()
    );
    let truth = truth(&c.unsuppressed);
    for r in &old.recovered {
        let (n, d) = truth[&(
            r.indicator.clone(),
            r.level.clone(),
            r.code.clone(),
            r.grain.clone(),
            r.period.clone(),
        )];
        let t = if r.column == "numerator" { n } else { d };
        assert_eq!(t.map(|t| t.round() as i64), Some(r.count), "{r:?}");
    }
    old.recovered.len()
}

#[test]
fn no_hidden_count_is_recovered_from_synthetic_england() {
    if !synth::testing::full("engine: no hidden count is recovered from synthetic England") {
        return;
    }
    let dir = tempfile::tempdir().expect("temporary folder");
    let config = synth::Config {
        scale: 0.002,
        seed: 11,
        ..synth::Config::default()
    };
    let t = std::time::Instant::now();
    synth::generate(dir.path(), &config, None, None).expect("generates");
    let loaded = dataset::load(dir.path(), &dataset::Options::default()).expect("valid");
    eprintln!("generated and loaded in {:.1} s", t.elapsed().as_secs_f64());
    let catalogue = engine::Catalogue::default_catalogue().expect("catalogue");
    let t = std::time::Instant::now();
    let c =
        engine::compute(&loaded.dataset, &catalogue, &engine::Options::default(), &|_| {}).expect("computes");
    eprintln!("computed in {:.1} s", t.elapsed().as_secs_f64());
    let recovered = attack_both(&loaded.dataset, &c, &catalogue);
    assert!(
        recovered > 0,
        "the attacker recovers nothing even from primary suppression alone"
    );
}

#[test]
fn no_hidden_count_is_recovered_from_the_real_sitrep() {
    let dir = crate::root().join("data/england/contract");
    let loaded = dataset::load(&dir, &dataset::Options::default()).expect("the reference data is valid");
    let catalogue = engine::Catalogue::default_catalogue().expect("catalogue");
    let c =
        engine::compute(&loaded.dataset, &catalogue, &engine::Options::default(), &|_| {}).expect("computes");
    let recovered = attack_both(&loaded.dataset, &c, &catalogue);
    assert!(
        recovered > 0,
        "the attacker recovers nothing even from primary suppression alone"
    );
}
