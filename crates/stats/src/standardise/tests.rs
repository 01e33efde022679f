use super::*;
use proptest::prelude::*;

proptest! {
    /// Standardising a population against its own age structure returns its crude rate.
    #[test]
    fn standardising_against_itself_gives_the_crude_rate(
        bands in prop::collection::vec((1u32..500, 1000u32..100_000), 1..19)
    ) {
        let x: Vec<f64> = bands.iter().map(|b| f64::from(b.0)).collect();
        let n: Vec<f64> = bands.iter().map(|b| f64::from(b.1)).collect();
        prop_assume!(x.iter().sum::<f64>() >= 10.0);
        let crude = x.iter().sum::<f64>() / n.iter().sum::<f64>() * 100_000.0;
        let d = dsr(&x, &n, &n, &[0.95], 100_000.0).unwrap();
        let (value, _) = d.estimate.unwrap();
        prop_assert!((value - crude).abs() <= 1e-9 * crude);
        // Indirect standardisation against itself: ratio 1, rate = crude.
        let r = isratio(&x, &n, &x, &n, &[0.95], 1.0).unwrap();
        prop_assert!((r.value - 1.0).abs() < 1e-12);
        let r = israte(&x, &n, &x, &n, &[0.95], 100_000.0).unwrap();
        prop_assert!((r.value - crude).abs() <= 1e-9 * crude);
    }

    /// Limits widen as the population (and so the count) shrinks.
    #[test]
    fn dsr_limits_widen_as_population_shrinks(rate in 0.001f64..0.05, scale in 2.0f64..20.0) {
        let n_big: Vec<f64> = ESP2013.iter().map(|w| w * 10.0 * scale).collect();
        let n_small: Vec<f64> = ESP2013.iter().map(|w| w * 10.0).collect();
        let x_big: Vec<f64> = n_big.iter().map(|n| (n * rate).round()).collect();
        let x_small: Vec<f64> = n_small.iter().map(|n| (n * rate).round()).collect();
        let big = dsr(&x_big, &n_big, &ESP2013, &[0.95], 1e5).unwrap().estimate.unwrap().1[0];
        let small = dsr(&x_small, &n_small, &ESP2013, &[0.95], 1e5).unwrap().estimate.unwrap().1[0];
        prop_assert!(small.1 - small.0 > big.1 - big.0);
    }
}

#[test]
fn dsr_is_withheld_below_ten_events() {
    let x = [0.0, 3.0, 6.0];
    let n = [100.0, 200.0, 300.0];
    let d = dsr(&x, &n, &[1.0, 1.0, 1.0], &[0.95], 1e5).unwrap();
    assert_eq!(d.total_count, 9.0);
    assert_eq!(d.estimate, None);
}

#[test]
fn refuses_mismatched_bands() {
    let e = dsr(&[1.0, 2.0], &[10.0], &[1.0, 1.0], &[0.95], 1.0).unwrap_err();
    assert_eq!(e.to_string(), "n has 1 values but x has 2");
    let e = isratio(&[1.0], &[10.0], &[1.0], &[0.0], &[0.95], 1.0).unwrap_err();
    assert_eq!(
        e.to_string(),
        "n_ref[0] is 0: a denominator must be greater than 0"
    );
}
