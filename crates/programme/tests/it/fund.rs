use std::collections::BTreeMap;

use programme::fund::{
    AppraisalRules, Decommissioning, Flow, FundRules, Milestone, Position, Proposal, Tranche, appraise,
    drawdown, eligibility,
};

fn proposal() -> Proposal {
    Proposal {
        id: "1".into(),
        lead_org_code: "RXX".into(),
        partners: vec!["05A".into()],
        flows: vec![
            Flow {
                year: "2016/17".into(),
                running_cost: 100.0,
                savings: 0.0,
            },
            Flow {
                year: "2017/18".into(),
                running_cost: 50.0,
                savings: 60.0,
            },
            Flow {
                year: "2018/19".into(),
                running_cost: 0.0,
                savings: 120.0,
            },
        ],
        decommissioning: vec![Decommissioning {
            service: "walk-in centre".into(),
            date: "2018-03-31".into(),
            released: 120.0,
        }],
    }
}

fn position(org: &str, surplus: f64, control: Option<f64>) -> (String, Position) {
    (
        org.to_string(),
        Position {
            org_code: org.into(),
            period: "2015/16".into(),
            income: Some(1000.0),
            actual_surplus: Some(surplus),
            control_total: control,
            control_total_agreed: Some(true),
        },
    )
}

#[test]
fn npv_bcr_and_payback_by_hand() {
    let rules = AppraisalRules {
        discount_rate: 0.035,
        cost_optimism_bias: 0.0,
        savings_optimism_bias: 0.0,
        slips_months: vec![12],
    };
    let a = appraise(&proposal(), &rules);
    let d = 1.035f64;
    let pv_c = 100.0 + 50.0 / d;
    let pv_s = 60.0 / d + 120.0 / (d * d);
    assert!((a.pv_costs - pv_c).abs() < 1e-9);
    assert!((a.pv_savings - pv_s).abs() < 1e-9);
    assert!((a.npv - (pv_s - pv_c)).abs() < 1e-9);
    assert!((a.bcr.unwrap() - pv_s / pv_c).abs() < 1e-12);
    // Cumulative: -100, -90, +30.
    assert_eq!(a.payback_year.as_deref(), Some("2018/19"));
    // A 12-month slip: savings a year later, and 2017/18's running costs (50) for another year.
    let s = &a.sensitivity[0];
    let pv_c12 = 100.0 + 50.0 / d + 50.0 / (d * d);
    let pv_s12 = 60.0 / (d * d) + 120.0 / (d * d * d);
    assert!(
        (s.npv - (pv_s12 - pv_c12)).abs() < 1e-9,
        "{} vs {}",
        s.npv,
        pv_s12 - pv_c12
    );
    assert!(s.npv < a.npv);
}

#[test]
fn optimism_bias_and_half_year_slip() {
    let rules = AppraisalRules {
        discount_rate: 0.0,
        cost_optimism_bias: 0.2,
        savings_optimism_bias: 0.1,
        slips_months: vec![6],
    };
    let a = appraise(&proposal(), &rules);
    assert!((a.pv_costs - 150.0 * 1.2).abs() < 1e-9);
    assert!((a.pv_savings - 180.0 * 0.9).abs() < 1e-9);
    // Undiscounted, a slip moves money between years but adds half a year of 50 running.
    let s = &a.sensitivity[0];
    assert!((s.npv - (180.0 * 0.9 - (150.0 + 25.0) * 1.2)).abs() < 1e-9);
}

#[test]
fn deficit_support_is_refused_with_the_reason() {
    let rules = FundRules::builtin();
    let positions: BTreeMap<String, Position> = [position("RXX", -45.0, Some(10.0))].into_iter().collect();
    let why = eligibility(&proposal(), &positions, &rules);
    let rules_broken: Vec<&str> = why.iter().map(|r| r.rule.as_str()).collect();
    assert_eq!(rules_broken, ["deficit_support", "missed_control_total"]);
    assert!(
        why[0]
            .reason
            .contains("RXX was in deficit in 2015/16 (-£45 actual surplus, -4.5% of income)"),
        "{}",
        why[0].reason
    );
    let sound: BTreeMap<String, Position> = [position("RXX", 5.0, Some(0.0)), position("05A", -100.0, None)]
        .into_iter()
        .collect();
    assert!(eligibility(&proposal(), &sound, &rules).is_empty());
    // Partners count only when the rules say so.
    let mut with_partners = rules.clone();
    with_partners.eligibility.include_partners = true;
    assert_eq!(
        eligibility(&proposal(), &sound, &with_partners)[0].rule,
        "deficit_support"
    );
}

#[test]
fn decommissioning_rules() {
    let rules = FundRules::builtin();
    let mut p = proposal();
    p.decommissioning.clear();
    assert_eq!(
        eligibility(&p, &BTreeMap::new(), &rules)[0].rule,
        "no_decommissioning_plan"
    );
    let mut p = proposal();
    p.decommissioning[0].date = "2017-02-28".into();
    let why = eligibility(&p, &BTreeMap::new(), &rules);
    assert_eq!(why[0].rule, "running_costs_after_decommissioning");
    assert!(why[0].reason.contains("2017/18"), "{}", why[0].reason);
}

#[test]
fn rules_file_errors_are_precise() {
    let text = FundRules::BUILTIN_FOR_TESTS.replace("discount_rate = 0.035", "discount_rate = 1.5");
    let e = FundRules::parse("my-rules.toml", &text).unwrap_err().to_string();
    assert_eq!(
        e,
        "my-rules.toml: appraisal.discount_rate = 1.5: must be at least 0 and below 1"
    );
    let text = FundRules::BUILTIN_FOR_TESTS.replace(
        "refuse_deficit = true",
        "refuse_deficit = true\nrefuse_everything = true",
    );
    let e = FundRules::parse("my-rules.toml", &text).unwrap_err().to_string();
    assert!(
        e.starts_with("my-rules.toml:13:1: refuse_everything") && e.contains("unknown field"),
        "{e}"
    );
}

#[test]
fn drawdown_flags_drift_to_deficit_support() {
    let milestones = vec![
        Milestone {
            id: 1,
            application_id: "1".into(),
            service: "a".into(),
            due: "2017-09-30".into(),
            met_on: Some("2017-09-30".into()),
            released: 365.0,
        },
        Milestone {
            id: 2,
            application_id: "1".into(),
            service: "b".into(),
            due: "2018-03-31".into(),
            met_on: None,
            released: 100.0,
        },
    ];
    let tranches = vec![
        Tranche {
            id: 1,
            application_id: "1".into(),
            amount: 75.0,
            milestone_id: 1,
            status: "released".into(),
            released_on: Some("2017-09-30".into()),
        },
        Tranche {
            id: 2,
            application_id: "1".into(),
            amount: 75.0,
            milestone_id: 2,
            status: "planned".into(),
            released_on: None,
        },
    ];
    let awards = vec![("1".to_string(), "RXX".to_string(), 150.0)];
    let rules = FundRules::builtin();
    let sound = drawdown(
        &awards,
        &milestones,
        &tranches,
        &BTreeMap::new(),
        &rules.drawdown,
        "2018-09-30",
    );
    assert_eq!(sound[0].covered, 75.0);
    assert!((sound[0].savings_realised - 365.0).abs() < 1e-9);
    assert_eq!(sound[0].slipping, ["b (due 2018-03-31)"]);
    assert!(sound[0].drift.is_none());
    let positions: BTreeMap<String, Position> = [position("RXX", -10.0, None)].into_iter().collect();
    let d = drawdown(
        &awards,
        &milestones,
        &tranches,
        &positions,
        &rules.drawdown,
        "2018-09-30",
    );
    assert!(d[0].drift.as_ref().unwrap().contains("deficit support"));
    let early = drawdown(
        &awards,
        &milestones,
        &tranches,
        &positions,
        &rules.drawdown,
        "2018-03-31",
    );
    assert!(early[0].slipping.is_empty() && early[0].drift.is_none());
}
