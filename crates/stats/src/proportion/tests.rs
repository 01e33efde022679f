use super::*;
use proptest::prelude::*;

proptest! {
    #[test]
    fn wilson_bounds_stay_in_unit_interval(n in 1u32..100_000, frac in 0.0f64..=1.0, wide in any::<bool>()) {
        let x = (f64::from(n) * frac).floor();
        let confidence = if wide { 0.998 } else { 0.95 };
        let p = wilson(x, f64::from(n), confidence).unwrap();
        prop_assert!((0.0..=1.0).contains(&p.lower));
        prop_assert!((0.0..=1.0).contains(&p.upper));
        prop_assert!(p.lower <= p.value && p.value <= p.upper);
    }

    #[test]
    fn wilson_interval_narrows_as_n_grows(x in 1u32..1000, scale in 2u32..50) {
        let small = wilson(f64::from(x), f64::from(x) * 2.0, 0.95).unwrap();
        let big = wilson(f64::from(x * scale), f64::from(x * scale) * 2.0, 0.95).unwrap();
        prop_assert!(big.upper - big.lower < small.upper - small.lower);
    }
}

#[test]
fn refuses_impossible_proportions() {
    assert!(wilson(11.0, 10.0, 0.95).is_err());
    assert!(wilson(1.0, 0.0, 0.95).is_err());
    assert!(wilson(1.0, 10.0, 0.0).is_err());
}
