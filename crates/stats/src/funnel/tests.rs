use super::*;
use proptest::prelude::*;

#[test]
fn quantile7_matches_r() {
    // R: quantile(c(1, 2, 3, 4, 10), c(0.1, 0.9)) = 1.4, 7.6
    let x = [1.0, 2.0, 3.0, 4.0, 10.0];
    assert!((quantile7(&x, 0.1) - 1.4).abs() < 1e-12);
    assert!((quantile7(&x, 0.9) - 7.6).abs() < 1e-12);
}

#[test]
fn ranks_average_ties() {
    assert_eq!(average_ranks(&[3.0, 1.0, 3.0, 2.0]), [3.5, 1.0, 3.5, 2.0]);
}

#[test]
fn cqc_limits_are_squared_back_and_clamped() {
    let o = [1.0, 30.0, 45.0, 60.0, 8.0];
    let e = [1.5, 28.2, 50.1, 48.3, 12.0];
    let squared = funnel(
        &o,
        &e,
        &Options {
            data_type: DataType::Ratio(SrMethod::Cqc),
            ..Options::default()
        },
    )
    .unwrap();
    let raw = funnel(
        &o,
        &e,
        &Options {
            data_type: DataType::Ratio(SrMethod::Cqc),
            cqc_limits: CqcLimits::FunnelPlotR,
            ..Options::default()
        },
    )
    .unwrap();
    for (a, b) in squared.units.iter().zip(&raw.units) {
        assert!((a.overdispersed.upper95 - b.overdispersed.upper95.powi(2)).abs() < 1e-12);
        assert!(a.overdispersed.lower998 >= 0.0);
    }
}

proptest! {
    /// Limits widen as the denominator shrinks, for every data type.
    #[test]
    fn limits_widen_as_denominator_shrinks(
        kind in 0usize..4,
        base in prop::collection::vec((5u32..500, 50u32..5000), 5..30),
    ) {
        let data_type = [
            DataType::Ratio(SrMethod::Shmi),
            DataType::Ratio(SrMethod::Cqc),
            DataType::Proportion,
            DataType::RatioOfCounts,
        ][kind];
        let o: Vec<f64> = base.iter().map(|b| f64::from(b.0)).collect();
        let e: Vec<f64> = base.iter().map(|b| f64::from(b.0.max(b.1))).collect();
        let f = funnel(&o, &e, &Options { data_type, ..Options::default() }).unwrap();
        for (i, a) in f.units.iter().enumerate() {
            for (j, b) in f.units.iter().enumerate() {
                if e[i] < e[j] {
                    prop_assert!(a.poisson.upper95 >= b.poisson.upper95);
                    prop_assert!(a.poisson.lower95 <= b.poisson.lower95);
                }
                if data_type != DataType::RatioOfCounts && e[i] < e[j] {
                    prop_assert!(a.overdispersed.upper998 >= b.overdispersed.upper998 - 1e-12);
                    prop_assert!(a.overdispersed.lower998 <= b.overdispersed.lower998 + 1e-12);
                }
            }
        }
    }
}

#[test]
fn a_single_unit_has_no_between_unit_variance() {
    let f = funnel(&[5.0], &[4.0], &Options::default()).unwrap();
    assert_eq!(f.tau2, 0.0);
    assert!(!f.od_adjust_effective());
    assert!(f.units[0].overdispersed.upper95.is_finite());
}

#[test]
fn bad_requests_are_refused() {
    let shmi = Options::default();
    assert_eq!(
        funnel(&[0.0, 2.0], &[1.0, 2.0], &shmi).unwrap_err().to_string(),
        "numerator[0] is 0: the SHMI method's log scale needs a numerator above 0"
    );
    assert_eq!(
        funnel(&[1.0, 2.0], &[1.0, 0.0], &shmi).unwrap_err().to_string(),
        "denominator[1] is 0: a denominator must be greater than 0"
    );
    let pr = Options {
        data_type: DataType::Proportion,
        ..Options::default()
    };
    assert!(funnel(&[3.0], &[2.0], &pr).is_err());
    assert!(funnel(&[], &[], &pr).is_err());
    assert!(funnel(&[1.0], &[2.0], &Options { trim_by: 0.5, ..pr }).is_err());
}
