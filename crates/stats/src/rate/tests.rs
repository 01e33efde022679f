use super::*;

#[test]
fn exact_matches_byars_closely_at_large_counts() {
    for count in [50.0, 500.0, 5000.0] {
        let (el, eu) = exact_limits(count, 0.95);
        let (bl, bu) = byars_limits(count, 0.95);
        assert!((el - bl).abs() / el < 1e-3, "{count}: {el} vs {bl}");
        assert!((eu - bu).abs() / eu < 1e-3, "{count}: {eu} vs {bu}");
    }
}

#[test]
fn method_switches_at_ten() {
    assert_eq!(Method::for_count(9.0), Method::Exact);
    assert_eq!(Method::for_count(10.0), Method::Byars);
}

#[test]
fn zero_count_has_zero_lower_limit() {
    let r = crude_rate(0.0, 1000.0, 0.95, 100_000.0).unwrap();
    assert_eq!(r.value, 0.0);
    assert_eq!(r.lower, 0.0);
    // qchisq(0.975, 2) / 2 = -log(0.025)
    assert!((r.upper - (-(0.025f64).ln()) * 100.0).abs() < 1e-9);
}

#[test]
fn bad_requests_are_refused() {
    assert!(crude_rate(-1.0, 10.0, 0.95, 1.0).is_err());
    assert!(crude_rate(1.0, 0.0, 0.95, 1.0).is_err());
    assert!(crude_rate(1.0, 10.0, 1.0, 1.0).is_err());
}

#[test]
fn tabled_exact_limits_are_the_computed_ones() {
    for confidence in [0.95, 0.998] {
        for x in 0..10 {
            let x = f64::from(x);
            assert_eq!(exact_limits(x, confidence), exact_limits_computed(x, confidence));
        }
    }
    // Outside the table: fractional counts and other levels are computed.
    assert_eq!(exact_limits(2.5, 0.95), exact_limits_computed(2.5, 0.95));
    assert_eq!(exact_limits(3.0, 0.9), exact_limits_computed(3.0, 0.9));
    // R: qchisq(0.025, 6) / 2 and qchisq(0.975, 8) / 2.
    let (lo, hi) = exact_limits(3.0, 0.95);
    assert!((lo - 0.618_672_2).abs() < 1e-6, "{lo}");
    assert!((hi - 8.767_273).abs() < 1e-6, "{hi}");
}
