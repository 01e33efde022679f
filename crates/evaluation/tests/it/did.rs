//! Difference-in-differences and the site runner on a simulated panel with a planted effect:
//! Poisson counts for 600 practices over 24 months with list sizes, practice effects and
//! season, one site of 60 practices whose rate falls 12% from month 12, and a site of 60 with
//! no effect.

use evaluation::did::{Cohort, Options, Unit, estimate};

/// A small deterministic generator (SplitMix64) and Poisson draws.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.next().max(1e-300), self.next());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
    fn poisson(&mut self, lambda: f64) -> f64 {
        if lambda > 50.0 {
            return (lambda + lambda.sqrt() * self.normal()).round().max(0.0);
        }
        let l = (-lambda).exp();
        let (mut k, mut p) = (0.0, 1.0);
        loop {
            p *= self.next();
            if p <= l {
                return k;
            }
            k += 1.0;
        }
    }
}

fn panel(seed: u64, effect: f64) -> (Vec<Unit>, Vec<usize>, Vec<usize>) {
    let mut rng = Rng(seed);
    let mut units = Vec::new();
    for u in 0..600 {
        let list = 3000.0 + 9000.0 * rng.next();
        let practice = (0.15 * rng.normal()).exp();
        let site = u < 60;
        let mut num = Vec::new();
        let mut den = Vec::new();
        for t in 0..24 {
            let season = 1.0 + 0.1 * (2.0 * std::f64::consts::PI * t as f64 / 12.0).cos();
            let treated = if site && t >= 12 { 1.0 + effect } else { 1.0 };
            let rate = 0.1 / 12.0 * practice * season * treated;
            num.push(Some(rng.poisson(list * rate)));
            den.push(Some(list));
        }
        units.push(Unit {
            code: format!("P{u:04}"),
            num,
            den,
            need: None,
        });
    }
    ((units), (0..60).collect(), (60..120).collect())
}

#[test]
fn the_planted_effect_is_inside_the_interval_and_a_null_site_is_not_called() {
    for seed in [1, 2, 3] {
        let (units, site, null) = panel(seed, -0.12);
        let est = estimate(
            &units,
            &[Cohort {
                start: 12,
                treated: site.clone(),
            }],
            24,
            &Options::default(),
        )
        .unwrap();
        assert!(
            est.lower < -0.12 && est.upper > -0.12,
            "seed {seed}: -12% outside ({:.4}, {:.4})",
            est.lower,
            est.upper
        );
        assert!(est.upper < 0.0, "seed {seed}: the effect is not called");
        assert!(
            (est.relative_effect + 0.12).abs() < 0.03,
            "seed {seed}: {}",
            est.relative_effect
        );
        // Comparators are never site practices.
        assert!(est.comparators.keys().all(|c| c.as_str() >= "P0060"));
        // The event study is flat before and about −12% after.
        let before: Vec<f64> = est
            .event_study
            .iter()
            .filter(|p| p.k < 0)
            .map(|p| p.estimate)
            .collect();
        let after: Vec<f64> = est
            .event_study
            .iter()
            .filter(|p| p.k >= 0)
            .map(|p| p.estimate)
            .collect();
        assert!(before.iter().sum::<f64>().abs() / (before.len() as f64) < 0.02);
        assert!((after.iter().sum::<f64>() / after.len() as f64 + 0.12).abs() < 0.03);

        // A site with nothing planted: treat the next 60 practices as a site (the real site's
        // practices are left out of the comparators as already treated).
        let none = estimate(
            &units,
            &[
                Cohort {
                    start: 12,
                    treated: null.clone(),
                },
                Cohort {
                    start: 12,
                    treated: site,
                },
            ],
            24,
            &Options::default(),
        )
        .unwrap();
        let alone = &none.cohorts[0];
        assert!(
            alone.log_effect.abs() < 1.96 * alone.se,
            "seed {seed}: the null site's effect {} (se {})",
            alone.log_effect,
            alone.se
        );
    }
}

#[test]
fn staggered_cohorts_are_compared_with_never_treated_units_only() {
    // Two waves: the first 60 practices from month 8, the next 60 from month 16, each −10%.
    let mut rng = Rng(9);
    let mut units = Vec::new();
    for u in 0..500 {
        let list = 5000.0;
        let start = if u < 60 {
            Some(8)
        } else if u < 120 {
            Some(16)
        } else {
            None
        };
        let mut num = Vec::new();
        for t in 0..24 {
            let f = if start.is_some_and(|s| t >= s) { 0.9 } else { 1.0 };
            num.push(Some(rng.poisson(list * 0.01 * f)));
        }
        units.push(Unit {
            code: format!("U{u:03}"),
            num,
            den: vec![Some(list); 24],
            need: None,
        });
    }
    let est = estimate(
        &units,
        &[
            Cohort {
                start: 8,
                treated: (0..60).collect(),
            },
            Cohort {
                start: 16,
                treated: (60..120).collect(),
            },
        ],
        24,
        &Options::default(),
    )
    .unwrap();
    assert_eq!(est.cohorts.len(), 2);
    // No treated unit of either wave is a comparator of the other.
    assert!(est.comparators.keys().all(|c| c.as_str() >= "U120"));
    assert!(
        est.lower < -0.10 && est.upper > -0.10,
        "({}, {})",
        est.lower,
        est.upper
    );
}

/// 40 groups of 15 practices (a site is a whole group), each group's rate moved after month 12
/// by a shock shared by its practices, log-normal with SD `shock`; the first group is the site,
/// with effect `effect`.
fn grouped(seed: u64, shock: f64, effect: f64) -> (Vec<Unit>, Vec<Vec<usize>>) {
    let mut rng = Rng(seed);
    let mut units = Vec::new();
    let mut groups = Vec::new();
    for g in 0..40 {
        let moved = (shock * rng.normal()).exp() * if g == 0 { 1.0 + effect } else { 1.0 };
        let mut members = Vec::new();
        for _ in 0..15 {
            let list = 6000.0 + 6000.0 * rng.next();
            let practice = (0.15 * rng.normal()).exp();
            let (mut num, mut den) = (Vec::new(), Vec::new());
            for t in 0..24 {
                let rate = 0.1 / 12.0 * practice * if t >= 12 { moved } else { 1.0 };
                num.push(Some(rng.poisson(list * rate)));
                den.push(Some(list));
            }
            members.push(units.len());
            units.push(Unit {
                code: format!("G{g:02}P{:02}", members.len()),
                num,
                den,
                need: None,
            });
        }
        groups.push(members);
    }
    (units, groups)
}

#[test]
fn shocks_shared_by_a_whole_site_are_estimated_from_peer_groups_and_widen_the_interval() {
    use evaluation::did::site_level;
    // Without shared shocks the peer groups vary no more than their noise.
    let mut quiet = Vec::new();
    let mut loud = Vec::new();
    for seed in 1..=10 {
        let (units, groups) = grouped(seed, 0.0, 0.0);
        quiet.push(site_level(&units, &groups[1..], 12, 24, 24).unwrap().tau2.sqrt());
        let (units, groups) = grouped(100 + seed, 0.04, 0.0);
        let sl = site_level(&units, &groups[1..], 12, 24, 24).unwrap();
        assert_eq!(sl.groups, 39);
        loud.push(sl.tau2.sqrt());
    }
    let mean = |x: &[f64]| x.iter().sum::<f64>() / x.len() as f64;
    assert!(
        mean(&quiet) < 0.01,
        "no shared shock, estimated SD {}",
        mean(&quiet)
    );
    assert!(
        (mean(&loud) - 0.04).abs() < 0.012,
        "shared shock SD 0.04, estimated {}",
        mean(&loud)
    );

    // A null site (a whole group) with shared shocks: unit-clustered intervals alone call it
    // far more often than 5%; widened, about 5%.
    let (mut narrow, mut wide) = (0, 0);
    let runs = 60;
    for seed in 0..runs {
        let (units, groups) = grouped(1000 + seed, 0.04, 0.0);
        let mut est = estimate(
            &units,
            &[Cohort {
                start: 12,
                treated: groups[0].clone(),
            }],
            24,
            &Options::default(),
        )
        .unwrap();
        narrow += usize::from(est.upper < 0.0 || est.lower > 0.0);
        est.widen(site_level(&units, &groups[1..], 12, 24, 24).unwrap());
        wide += usize::from(est.upper < 0.0 || est.lower > 0.0);
        assert!(est.site_level_sd.is_some() && est.peer_groups == 39);
    }
    assert!(
        narrow > runs as usize / 4,
        "unwidened: {narrow} of {runs} null sites called"
    );
    assert!(wide <= 8, "widened: {wide} of {runs} null sites called");
}
