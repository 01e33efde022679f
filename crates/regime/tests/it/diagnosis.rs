//! The diagnosis is right at every level: for every metric of the system pack, members come
//! from the level the system's value is built from (providers for `rtt_18w` and `ae_4h`,
//! commissioners of the registered population for `readmissions_30d` and
//! `emergency_admissions_isr`), their numerators and denominators sum to the system's, and
//! their contributions add up exactly to the system's gap — on the unsuppressed table and on
//! the published (rounded, suppressed) one.

use std::collections::BTreeMap;

fn close(a: f64, b: f64, what: &str) {
    assert!((a - b).abs() <= 1e-9 * (1.0 + b.abs()), "{what}: {a} against {b}");
}

#[test]
fn every_metric_adds_up_at_the_level_its_system_value_is_built_from() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = synth::Config {
        scale: 0.01,
        seed: 11,
        ..synth::Config::default()
    };
    synth::generate(&data, &config, None, None).expect("generates");
    let ds = dataset::load(&data, &dataset::Options::default())
        .expect("valid")
        .dataset;
    let catalogue = engine::Catalogue::default_catalogue().expect("catalogue");
    // The system pack's indicators and the margins the finance gap splits, by financial
    // year: what a diagnosis reads (the whole catalogue unoptimised takes minutes).
    let options = engine::Options {
        indicators: [
            "system_surplus_share",
            "ie_margin",
            "commissioner_margin",
            "ae_4h",
            "rtt_18w",
            "readmissions_30d",
            "emergency_admissions_isr",
        ]
        .map(String::from)
        .to_vec(),
        grains: vec![engine::catalogue::Grain::FinancialYear],
        ..engine::Options::default()
    };
    let computed = engine::compute(&ds, &catalogue, &options, &|_| {}).expect("computes");
    let unsuppressed =
        policy::table::Table::from_batches(&computed.unsuppressed, &computed.signals, &[]).unwrap();
    let published =
        policy::table::Table::from_batches(&computed.published, &computed.published_signals, &[]).unwrap();
    let org: BTreeMap<&str, &dataset::Organisation> =
        ds.organisations.iter().map(|o| (o.code.as_str(), o)).collect();
    type Holds = fn(&dataset::Organisation) -> bool;
    let provider: Holds = |o| o.kind.is_provider();
    let commissioner: Holds = |o| o.kind.as_str() == "commissioner";
    // The level each metric of the pack must be read at, and what that level holds.
    let expected: BTreeMap<&str, (&str, Holds)> = [
        ("ae_4h", ("provider", provider)),
        ("rtt_18w", ("provider", provider)),
        ("readmissions_30d", ("commissioner", commissioner)),
        ("emergency_admissions_isr", ("commissioner", commissioner)),
    ]
    .into_iter()
    .collect();

    let exact = regime::assess_table(&ds, &unsuppressed).expect("assesses");
    assert!(!exact.diagnoses.is_empty());
    let mut seen = BTreeMap::<String, usize>::new();
    for d in exact.diagnoses.values() {
        for g in &d.performance {
            let (level, holds) = expected[g.indicator.as_str()];
            assert_eq!(
                g.level.as_deref(),
                Some(level),
                "{} {}",
                d.system_code,
                g.indicator
            );
            assert!(
                g.suppressed.is_empty(),
                "nothing is suppressed in the unsuppressed table"
            );
            assert_eq!(g.adjustment, 0.0, "{} {}", d.system_code, g.indicator);
            let sum: f64 = g.members.iter().map(|m| m.points).sum();
            close(
                sum,
                g.gap,
                &format!("{} {}: members against the gap", d.system_code, g.indicator),
            );
            assert!(
                g.unexplained.abs() < 1e-9,
                "{} {}: {}",
                d.system_code,
                g.indicator,
                g.unexplained
            );
            assert!(
                !g.members.is_empty(),
                "{} {} has members",
                d.system_code,
                g.indicator
            );
            // The members are the system's own at that level: their counts are the system's.
            let (mut n, mut den) = (0.0, 0.0);
            for m in &g.members {
                let o = org[m.org_code.as_str()];
                assert!(
                    holds(o),
                    "{} {}: member {} is a {}",
                    d.system_code,
                    g.indicator,
                    m.org_code,
                    o.kind.as_str()
                );
                let v = unsuppressed
                    .get(
                        &g.indicator,
                        "organisation",
                        &m.org_code,
                        "financial_year",
                        &d.period,
                    )
                    .unwrap();
                n += v.numerator.unwrap_or(0.0);
                den += v.denominator.unwrap();
            }
            let sys = unsuppressed
                .get(
                    &g.indicator,
                    "system",
                    &d.system_code,
                    "financial_year",
                    &d.period,
                )
                .unwrap();
            close(
                n,
                sys.numerator.unwrap(),
                &format!("{} {} numerator", d.system_code, g.indicator),
            );
            close(
                den,
                sys.denominator.unwrap(),
                &format!("{} {} denominator", d.system_code, g.indicator),
            );
            *seen.entry(g.indicator.clone()).or_default() += 1;
        }
        let f = d.finance.as_ref().expect("finance");
        let sum: f64 = f.members.iter().map(|m| m.points).sum();
        close(sum, f.gap, &format!("{} finance", d.system_code));
    }
    // Every metric of the pack was diagnosed, for every system.
    assert_eq!(seen.len(), expected.len(), "{seen:?}");
    assert!(seen.values().all(|n| *n == exact.diagnoses.len()), "{seen:?}");

    // On the published table: rounding is shared, suppressed members named, and the parts
    // still add up exactly to the published gap.
    let served = regime::assess_table(&ds, &published).expect("assesses");
    let mut adjusted = 0;
    for d in served.diagnoses.values() {
        for g in &d.performance {
            let sum: f64 = g.members.iter().map(|m| m.points).sum();
            close(
                sum + g.unexplained,
                g.gap,
                &format!("{} {}", d.system_code, g.indicator),
            );
            if g.suppressed.is_empty() {
                assert!(
                    g.unexplained.abs() < 1e-9,
                    "{} {}: {}",
                    d.system_code,
                    g.indicator,
                    g.unexplained
                );
            } else {
                assert_eq!(g.adjustment, 0.0);
            }
            // Rounding to 5 moves a system's rate by little.
            assert!(
                g.adjustment.abs() < 0.5,
                "{} {}: {}",
                d.system_code,
                g.indicator,
                g.adjustment
            );
            if g.adjustment != 0.0 {
                adjusted += 1;
            }
            for m in &g.members {
                let v = published
                    .get(
                        &g.indicator,
                        "organisation",
                        &m.org_code,
                        "financial_year",
                        &d.period,
                    )
                    .unwrap();
                assert_eq!(v.value, Some(m.value), "a member's value is its published value");
            }
        }
    }
    // Patient-level counts are rounded, so some gaps carry an adjustment.
    assert!(adjusted > 0);
}

#[test]
fn the_member_level_is_the_one_nearest_the_system_on_the_path_that_feeds_it() {
    use engine::catalogue::{Level, Path};
    let catalogue = engine::Catalogue::default_catalogue().expect("catalogue");
    let at = |id: &str| regime::Metric::of(id, true, catalogue.get(id)).members_at;
    assert_eq!(at("rtt_18w"), Some((Path::Provider, Level::Provider)));
    assert_eq!(at("ae_4h"), Some((Path::Provider, Level::Provider)));
    assert_eq!(
        at("readmissions_30d"),
        Some((Path::Registered, Level::Commissioner))
    );
    assert_eq!(
        at("emergency_admissions_isr"),
        Some((Path::Registered, Level::Commissioner))
    );
    // Not in the catalogue: no members, so the whole gap is unexplained rather than guessed.
    assert_eq!(at("no_such_indicator"), None);
}
