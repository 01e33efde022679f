//! The published baseline (what a server computes everything from): the cells by hand, and a
//! differencing attacker's view — two baselines that differ only inside a suppressed cell, or
//! within one rounding step, give the same published baseline and so the same answer to every
//! projection, seed and plan a caller can ask for.

use capacity::assumptions::{Assumptions, Pool};
use capacity::baseline::{Baseline, PoolBase, SUPPRESSED_STAND_IN};
use stats::disclosure::Policy;

fn pool() -> PoolBase {
    PoolBase::empty()
}

/// The planner's trust (RAA in S1: 450 beds, 300 medical WTE) with these pools: G&A
/// non-elective spells of 30- and 40-year-olds (one band), `small` spells of 90-year-olds
/// staying `small_nights`, and paediatric spells at age 5.
fn baseline(small: f64, small_nights: f64) -> Baseline {
    let mut b = crate::planner::baseline();
    let pools = &mut b.providers[0].pools;
    pools.iter_mut().for_each(|p| *p = pool());
    let ne = &mut pools[Pool::GaNonElective.index()];
    ne.admissions_by_age[30] = 1_000.0;
    ne.nights_by_age[30] = 4_004.0;
    ne.admissions_by_age[40] = 233.0;
    ne.nights_by_age[40] = 996.0;
    ne.admissions_by_age[90] = small;
    ne.nights_by_age[90] = small_nights;
    // 5,000 nights, January busiest.
    ne.nights_by_month = vec![
        400.0, 400.0, 400.0, 400.0, 400.0, 400.0, 400.0, 400.0, 400.0, 604.0, 396.0, 400.0,
    ];
    let pa = &mut pools[Pool::Paediatric.index()];
    pa.admissions_by_age[5] = 52.0;
    pa.nights_by_age[5] = 88.0;
    b
}

#[test]
fn cells_are_bands_with_small_counts_suppressed_and_the_rest_rounded() {
    let a = Assumptions::default_set();
    let b = a.bands();
    assert_eq!(b, vec![(0, 15), (15, 65), (65, 85), (85, 200)]);
    let p = baseline(3.0, 41.0).published(&b, &Policy::default());
    assert_eq!(p.bands.as_ref(), Some(&b));
    let ne = &p.providers[0].pools[Pool::GaNonElective.index()];
    // 15–65: 1,233 spells → 1,235; 5,000 nights → 5,000; held at age 15.
    assert_eq!(ne.admissions_by_age[15], 1_235.0);
    assert_eq!(ne.nights_by_age[15], 5_000.0);
    assert_eq!(ne.admissions_by_age[30], 0.0);
    // 85+: 3 spells are suppressed: 4 spells at the pool's published stay, 5,000 / 1,235.
    assert_eq!(ne.admissions_by_age[85], SUPPRESSED_STAND_IN);
    assert!((ne.nights_by_age[85] - 4.0 * 5_000.0 / 1_235.0).abs() < 1e-9);
    assert_eq!(ne.admissions_by_age[90], 0.0);
    // Months rounded to ten; January 604 → 600 over the rounded year's mean per day.
    assert_eq!(ne.nights_by_month[9], 600.0);
    let total: f64 = ne.nights_by_month.iter().sum();
    assert_eq!(total, 400.0 * 11.0 + 600.0);
    let expected = (600.0 / 31.0) / (total / 365.0);
    assert!((ne.peak_factor - expected).abs() < 1e-12, "{}", ne.peak_factor);
    // Paediatric: 52 → 50 spells, 88 → 90 nights, at age 0.
    let pa = &p.providers[0].pools[Pool::Paediatric.index()];
    assert_eq!((pa.admissions_by_age[0], pa.nights_by_age[0]), (50.0, 90.0));
    // Beds and workforce are not counts of people.
    assert_eq!(p.providers[0].beds_available, Some(450.0));
    assert_eq!(p.providers[0].wte["medical"], 300.0);
}

#[test]
fn a_pool_with_every_cell_suppressed_takes_englands_published_stay() {
    let mut base = baseline(0.0, 0.0);
    // A second trust whose only G&A non-elective spells are 2 stays of 30 nights in all.
    let mut other = base.providers[0].clone();
    other.code = "RBB".into();
    for p in other.pools.iter_mut() {
        *p = pool();
    }
    other.pools[Pool::GaNonElective.index()].admissions_by_age[50] = 2.0;
    other.pools[Pool::GaNonElective.index()].nights_by_age[50] = 30.0;
    base.providers.push(other);
    let p = base.published(&Assumptions::default_set().bands(), &Policy::default());
    let ne = &p.providers[1].pools[Pool::GaNonElective.index()];
    assert_eq!(ne.admissions_by_age[15], SUPPRESSED_STAND_IN);
    // England's published stay: the first trust's 5,000 nights over 1,235 spells.
    assert!((ne.nights_by_age[15] - 4.0 * 5_000.0 / 1_235.0).abs() < 1e-9);
}

#[test]
fn what_is_hidden_cannot_be_recovered_by_asking_again() {
    let a = Assumptions::default_set();
    let b = a.bands();
    let policy = Policy::default();
    // 1 spell of 2 nights, or 7 spells of 90 nights: both suppressed.
    let one = baseline(1.0, 2.0).published(&b, &policy);
    let seven = baseline(7.0, 90.0).published(&b, &policy);
    assert_eq!(one, seven);
    // Within one rounding step of spells and nights (1,233 → 1,234 spells, 5,000 → 5,003 nights).
    let mut near = baseline(1.0, 2.0);
    let ne = &mut near.providers[0].pools[Pool::GaNonElective.index()];
    ne.admissions_by_age[40] += 1.0;
    ne.nights_by_age[40] += 3.0;
    assert_eq!(near.published(&b, &policy), one);
    // The spells themselves differ, and so do their projections: the attacker's target.
    let raw = |x: &Baseline, seed| capacity::assess(x, &a, &[], None, None, 50, seed).expect("assessed");
    let (r1, r7) = (raw(&baseline(1.0, 2.0), 3), raw(&baseline(7.0, 90.0), 3));
    assert_ne!(
        serde_json::to_string(&r1).expect("json"),
        serde_json::to_string(&r7).expect("json")
    );
    // What is served is computed from the published baseline: the same for every seed.
    for seed in [1, 2, 99] {
        let (p1, p7) = (raw(&one, seed), raw(&seven, seed));
        assert_eq!(
            serde_json::to_string(&capacity::plan::publish(p1)).expect("json"),
            serde_json::to_string(&capacity::plan::publish(p7)).expect("json")
        );
    }
}

#[test]
fn a_published_baseline_is_projected_only_with_its_own_bands() {
    let a = Assumptions::default_set();
    let p = baseline(3.0, 9.0).published(&[(0, 50), (50, 200)], &Policy::default());
    let e = capacity::assess(&p, &a, &[], None, None, 10, 1).expect_err("bands differ");
    let text = e.to_string();
    assert!(
        text.contains("published at age bands [(0, 50), (50, 200)]"),
        "{text}"
    );
    assert!(
        text.contains("[(0, 15), (15, 65), (65, 85), (85, 200)]"),
        "{text}"
    );
}
