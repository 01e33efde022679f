//! Hand-computed settlements: every corridor and cap boundary, the pooled and alliance rules.

use budgets::settle::{Outturn, PartyOutturn, settle};
use budgets::terms::Terms;

fn terms(text: &str) -> Terms {
    Terms::parse(text, "test.toml").unwrap_or_else(|e| panic!("{e}"))
}

fn transfers(t: &Terms, actual: f64) -> Vec<f64> {
    settle(t, &Outturn::actual(actual))
        .expect("settles")
        .parties
        .iter()
        .map(|p| p.transfer)
        .collect()
}

fn close(got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{got:?} vs {want:?}");
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() < 1e-6, "{got:?} vs {want:?}");
    }
}

const GLS: &str = r#"
kind = "gain_loss_share"
target = 1000000
dead_band = 0.02
dead_band_mode = "MODE"
[[party]]
name = "Trust"
gain_share = 0.6
loss_share = 0.25
loss_cap = 10000
[[party]]
name = "Commissioner"
remainder = true
"#;

#[test]
fn gain_loss_share_threshold_shares_everything_once_outside_the_band() {
    let t = terms(&GLS.replace("MODE", "threshold"));
    // Inside the band (exactly on its edge too): nothing moves.
    close(&transfers(&t, 1_000_000.0), &[0.0, 0.0]);
    close(&transfers(&t, 980_000.0), &[0.0, 0.0]);
    close(&transfers(&t, 1_020_000.0), &[0.0, 0.0]);
    // £30,000 gain: 60% to the trust, the rest to the commissioner.
    close(&transfers(&t, 970_000.0), &[18_000.0, 12_000.0]);
    // £30,000 loss: the trust bears 25% (£7,500, under its £10,000 cap).
    close(&transfers(&t, 1_030_000.0), &[-7_500.0, -22_500.0]);
    // £40,000 loss: 25% is exactly the cap.
    close(&transfers(&t, 1_040_000.0), &[-10_000.0, -30_000.0]);
    // £100,000 loss: 25% would be £25,000; capped at £10,000, the commissioner takes the rest.
    let s = settle(&t, &Outturn::actual(1_100_000.0)).unwrap();
    close(
        &s.parties.iter().map(|p| p.transfer).collect::<Vec<_>>(),
        &[-10_000.0, -90_000.0],
    );
    assert!(s.parties[0].capped && !s.parties[1].capped);
    assert!(
        s.steps
            .iter()
            .any(|st| st.arithmetic.contains("capped at -£10,000.00"))
    );
}

#[test]
fn gain_loss_share_excess_shares_only_beyond_the_band() {
    let t = terms(&GLS.replace("MODE", "excess"));
    close(&transfers(&t, 1_020_000.0), &[0.0, 0.0]);
    // £30,000 gain, £20,000 inside the band: £10,000 shared.
    close(&transfers(&t, 970_000.0), &[6_000.0, 4_000.0]);
    // £80,000 loss: £60,000 shared; 25% = £15,000, capped at £10,000.
    close(&transfers(&t, 1_080_000.0), &[-10_000.0, -50_000.0]);
}

#[test]
fn the_issue_shapes_parse_as_written() {
    let t = terms(
        r#"
kind = "risk_corridor"
target = 1000
symmetric = true
[[corridor]]
from = 0.03
to = 0.08
share = 0.5
[[corridor]]
from = 0.08
share = 0.8
[[party]]
name = "Insurer"
[[party]]
name = "Government"
"#,
    );
    // Boundaries: 3% and below nothing; 8% = 50% of 5%; 10% = 2.5% + 80% of 2%.
    close(&transfers(&t, 1030.0), &[0.0, 0.0]);
    close(&transfers(&t, 1080.0), &[25.0, -25.0]);
    close(&transfers(&t, 1100.0), &[25.0 + 16.0, -41.0]);
    close(&transfers(&t, 1055.0), &[12.5, -12.5]);
    // Mirrored below target: the measured party pays.
    close(&transfers(&t, 900.0), &[-41.0, 41.0]);
    close(&transfers(&t, 970.0), &[0.0, 0.0]);
}

#[test]
fn corridors_one_sided_capped_and_collared() {
    let t = terms(
        r#"
kind = "risk_corridor"
target = 1000
symmetric = false
cap = 30
collar = 5
[[corridor]]
from = 0.0
to = 0.1
share = 0.5
[[corridor]]
from = 0.1
share = 1.0
[[party]]
name = "ACO"
[[party]]
name = "A"
share = 0.75
[[party]]
name = "B"
share = 0.25
"#,
    );
    close(&transfers(&t, 1040.0), &[20.0, -15.0, -5.0]);
    // 50 + 50 = 100 over, capped at 30.
    let s = settle(&t, &Outturn::actual(1150.0)).unwrap();
    close(
        &s.parties.iter().map(|p| p.transfer).collect::<Vec<_>>(),
        &[30.0, -22.5, -7.5],
    );
    assert!(s.parties[0].capped);
    // Not symmetric: savings are kept.
    close(&transfers(&t, 900.0), &[0.0, 0.0, 0.0]);
}

#[test]
fn minimum_savings_rate_interpolates_and_gates_gains() {
    let t = terms(
        r#"
kind = "gain_loss_share"
target = 1000000
dead_band = 0.0
dead_band_mode = "threshold"
[minimum_savings_rate]
population = 7500
points = [[5000, 0.039], [10000, 0.030]]
[[party]]
name = "ACO"
gain_share = 0.5
loss_share = 0.0
[[party]]
name = "Payer"
remainder = true
"#,
    );
    // MSR at 7,500 = 3.45%: a 3.4% saving earns nothing, 3.5% is shared from the first pound.
    assert!(
        (budgets::terms::interpolate(&[[5000.0, 0.039], [10000.0, 0.03]], 7500.0) - 0.0345).abs() < 1e-12
    );
    close(&transfers(&t, 966_000.0), &[0.0, 0.0]);
    close(&transfers(&t, 965_000.0), &[17_500.0, 17_500.0]);
    assert_eq!(
        budgets::terms::interpolate(&[[5000.0, 0.039], [10000.0, 0.03]], 100.0),
        0.039
    );
    assert_eq!(
        budgets::terms::interpolate(&[[5000.0, 0.039], [10000.0, 0.03]], 1e6),
        0.03
    );
}

#[test]
fn stop_loss_pool_pays_above_the_attachment_point() {
    let t = terms(
        r#"
kind = "gain_loss_share"
target = 1000000
[stop_loss]
attachment = 100000
share = 0.9
funder = "Reinsurer"
[[party]]
name = "Provider"
gain_share = 0.5
loss_share = 0.5
[[party]]
name = "Reinsurer"
remainder = true
"#,
    );
    let mut o = Outturn::actual(1_100_000.0);
    o.high_cost = vec![150_000.0, 90_000.0, 300_000.0];
    let s = settle(&t, &o).unwrap();
    // Pool: 90% × (50,000 + 200,000) = 225,000; outturn 875,000: a 125,000 gain shared 50:50.
    // The pool's 225,000 goes to the first party and is paid by the reinsurer.
    close(
        &s.parties.iter().map(|p| p.transfer).collect::<Vec<_>>(),
        &[62_500.0 + 225_000.0, 62_500.0 - 225_000.0],
    );
}

#[test]
fn pooled_budget_pays_the_performance_element_for_admissions_avoided() {
    let t = terms(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../examples/terms/pooled_bcf.toml"
        ))
        .unwrap(),
    );
    // Ambition: 3.5% of 20,000 = 700 fewer. 350 fewer earns half of £3m.
    let s = settle(&t, &Outturn::actual(19_650.0)).unwrap();
    let by = |n: &str| s.parties.iter().find(|p| p.party == n).unwrap().transfer;
    close(
        &[by("CCG"), by("Council"), by("Pooled fund")],
        &[-18e6 + 1.5e6, -6e6, 24e6 - 3e6 + 1.5e6],
    );
    // More than the ambition earns all of it, never more; more admissions earn nothing.
    let s = settle(&t, &Outturn::actual(19_000.0)).unwrap();
    assert_eq!(
        s.parties
            .iter()
            .find(|p| p.party == "Pooled fund")
            .unwrap()
            .transfer,
        24e6
    );
    let s = settle(&t, &Outturn::actual(21_000.0)).unwrap();
    assert_eq!(
        s.parties.iter().find(|p| p.party == "CCG").unwrap().transfer,
        -15e6
    );
    assert!(s.parties.iter().map(|p| p.transfer).sum::<f64>().abs() < 1e-6);
}

#[test]
fn alliance_budget_pays_by_the_rule_and_shares_the_alliance_variance() {
    let t = terms(
        r#"
kind = "alliance_budget"
target = 1000
variable = 300
[quality]
amount = 100
unearned_to = "Commissioner"
[[party]]
name = "A"
fixed = 400
gain_share = 0.5
loss_share = 0.5
[[party]]
name = "B"
fixed = 200
remainder = true
"#,
    );
    let o = Outturn {
        total: 0.0,
        parties: vec![
            PartyOutturn {
                party: "A".into(),
                outturn: 650.0,
                activity: Some(3.0),
                quality: Some(1.0),
                ..Default::default()
            },
            PartyOutturn {
                party: "B".into(),
                outturn: 350.0,
                activity: Some(1.0),
                quality: Some(0.5),
                ..Default::default()
            },
        ],
        high_cost: Vec::new(),
    };
    let s = settle(&t, &o).unwrap();
    // Payments: A 400 + 300×¾ + 100×¾×1 = 700; B 200 + 75 + 100×¼×0.5 = 287.5 (12.5 unearned).
    close(
        &s.parties.iter().map(|p| p.target.unwrap()).collect::<Vec<_>>(),
        &[700.0, 287.5],
    );
    // Paid 987.5, spent 1,000: the alliance lost 12.5, A's share 50% (6.25), B the rest. A's own
    // variance was +50 and B's −62.5, so A pays 56.25 and B receives 56.25: each ends at −6.25.
    close(
        &s.parties.iter().map(|p| p.transfer).collect::<Vec<_>>(),
        &[-56.25, 56.25],
    );
}

#[test]
fn bad_terms_are_refused_with_the_key_and_the_rule() {
    let err = Terms::parse(
        "kind = \"gain_loss_share\"\ntarget = -5\n[[party]]\nname = \"A\"\ngain_share = 1.5\nloss_share = 1\n",
        "bad.toml",
    )
    .unwrap_err()
    .to_string();
    assert!(err.starts_with("bad.toml: "), "{err}");
    assert!(err.contains("target: -5: must be an amount ≥ 0"), "{err}");
    assert!(
        err.contains("party[1].gain_share: 1.5: must be a share between 0 and 1"),
        "{err}"
    );
    let err = Terms::parse("kind = \"barter\"\n", "k.toml")
        .unwrap_err()
        .to_string();
    assert!(err.contains("barter"), "{err}");
    let err = Terms::parse(
        "kind = \"risk_corridor\"\ntarget = 1\n[[corridor]]\nfrom = 0.05\nto = 0.03\nshare = 0.5\n[[party]]\nname = \"A\"\n",
        "c.toml",
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("corridor[1].to: 0.03: must be above from"), "{err}");
    assert!(
        err.contains("a risk corridor needs the measured party first"),
        "{err}"
    );
}

#[test]
fn every_example_is_valid_and_simulates_deterministically() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/terms");
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        let t = Terms::read(&path).unwrap_or_else(|e| panic!("{e}"));
        let u = t.simulation.clone().unwrap_or_default();
        let a = budgets::simulate::simulate(&t, &u, 3000, 7).unwrap();
        let b = budgets::simulate::simulate(&t, &u, 3000, 7).unwrap();
        assert_eq!(a, b, "{}", path.display());
        assert_eq!(a.parties.len(), t.party_names().len());
        n += 1;
    }
    assert!(n >= 5);
}

#[test]
fn simulation_without_uncertainty_is_the_settlement_of_the_expected_outturn() {
    let t = terms(&GLS.replace("MODE", "threshold"));
    let u = budgets::simulate::Uncertainty {
        expected: Some(970_000.0),
        ..Default::default()
    };
    let s = budgets::simulate::simulate(&t, &u, 100, 1).unwrap();
    close(
        &[s.parties[0].expected_transfer, s.parties[0].p05, s.parties[0].p95],
        &[18_000.0, 18_000.0, 18_000.0],
    );
    // A symmetric shock half the time: the trust gains a little less on average.
    let u = budgets::simulate::Uncertainty {
        expected: Some(970_000.0),
        shock: vec![budgets::simulate::Shock {
            name: "x".into(),
            probability: 0.5,
            size: 0.05,
        }],
        ..Default::default()
    };
    let s = budgets::simulate::simulate(&t, &u, 20_000, 1).unwrap();
    // Without the shock +18,000; with it (1,018,500: inside the band) 0.
    assert!(
        (s.parties[0].expected_transfer - 9_000.0).abs() < 300.0,
        "{:?}",
        s.parties[0]
    );
}
