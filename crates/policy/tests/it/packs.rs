//! The shipped packs on hand-computed fixtures, boundary values exactly on each threshold.

use crate::{Row, assess, one, row, shipped, table};

/// A trust's five SOF finance metrics (and an agreed control total).
fn trust<'a>(code: &'a str, [csc, liq, margin, dist, agency]: [f64; 5]) -> Vec<Row<'a>> {
    vec![
        row("capital_service_capacity", code, csc),
        row("liquidity_days", code, liq),
        row("ie_margin", code, margin),
        row("distance_from_plan", code, dist),
        row("agency_vs_cap", code, agency),
        row("control_total_agreed", code, 100.0),
    ]
}

fn metric(a: &policy::assess::Assessment, id: &str) -> f64 {
    a.domains["finance"]
        .metrics
        .iter()
        .find(|m| m.indicator == id)
        .unwrap()
        .score
        .unwrap()
}

#[test]
fn sof_2016_scores_every_threshold_exactly_on_its_boundary() {
    let mut rows = Vec::new();
    // On each boundary: ≥ 2.5, ≥ 0, > 1 (1 itself is not > 1), ≥ 0, ≤ 0.
    rows.extend(trust("A", [2.5, 0.0, 1.0, 0.0, 0.0]));
    rows.extend(trust("B", [1.75, -7.0, 0.0, -1.0, 25.0]));
    rows.extend(trust("C", [1.25, -14.0, -1.0, -2.0, 50.0]));
    rows.extend(trust("D", [1.2499, -14.01, -1.01, -2.01, 50.01]));
    rows.extend(trust("E", [2.51, 0.01, 1.01, -0.99, -5.0]));
    let out = assess(&shipped("sof-2016"), &table(&rows));
    let scores = |c: &str| {
        let a = one(&out, c);
        [
            "capital_service_capacity",
            "liquidity_days",
            "ie_margin",
            "distance_from_plan",
            "agency_vs_cap",
        ]
        .map(|m| metric(a, m))
    };
    assert_eq!(scores("A"), [1.0, 1.0, 2.0, 1.0, 1.0]);
    assert_eq!(scores("B"), [2.0, 2.0, 3.0, 3.0, 2.0]);
    assert_eq!(scores("C"), [3.0, 3.0, 4.0, 4.0, 3.0]);
    assert_eq!(scores("D"), [4.0, 4.0, 4.0, 4.0, 4.0]);
    assert_eq!(scores("E"), [1.0, 1.0, 1.0, 2.0, 1.0]);
    // Means: A 1.2 → 1; B 2.4 → 2; E 1.2 → 1, segment 1.
    assert_eq!(one(&out, "A").domains["finance"].score, Some(1.0));
    assert_eq!(one(&out, "B").domains["finance"].score, Some(2.0));
    assert_eq!(one(&out, "E").segment, Some(1));
    // C: mean 3.4 → 3; two 4s trigger the cap, already 3. D: 4, segment capped at 3 (4 is
    // special measures, by decision only).
    let c = one(&out, "C");
    assert_eq!(c.domains["finance"].score, Some(3.0));
    assert!(c.overrides.iter().any(|o| o.id == "finance-4-caps" && !o.applied));
    assert_eq!(one(&out, "D").domains["finance"].score, Some(4.0));
    assert_eq!(one(&out, "D").segment, Some(3));
    // The explanation answers "why": every metric's value, rule and score.
    assert!(
        c.explanation.contains("ie_margin: -1 fails > -1 → 4"),
        "{}",
        c.explanation
    );
    assert!(c.explanation.contains("segment: 3"));
}

#[test]
fn sof_2016_a_four_caps_the_theme_at_three_and_halves_round_up() {
    // Scores 1, 1, 1, 1, 4: mean 1.6 → 2, but a 4 means no better than 3.
    let mut rows = trust("F", [3.0, 5.0, 2.0, 0.5, 60.0]);
    // Scores 2, 2, 1, 1, 1 ... mean 1.4 → 1; scores 2,2,2,1,1 mean 1.6 → 2; exactly 2.5 → 3.
    rows.extend(trust("G", [2.0, -1.0, 2.0, 0.5, -1.0]));
    rows.extend(trust("H", [2.0, -1.0, 0.5, 0.5, 30.0]));
    let out = assess(&shipped("sof-2016"), &table(&rows));
    let f = one(&out, "F");
    assert_eq!(f.domains["finance"].score, Some(3.0));
    assert!(
        f.overrides
            .iter()
            .any(|o| o.id == "finance-4-caps" && o.applied && o.effect.contains("2 → 3")),
        "{:?}",
        f.overrides
    );
    assert_eq!(one(&out, "G").domains["finance"].score, Some(1.0));
    // H: 2, 2, 2, 1, 3 → 2.0; nearest 2.
    assert_eq!(one(&out, "H").domains["finance"].score, Some(2.0));
}

#[test]
fn sof_2016_control_total_rule_and_its_absence() {
    let mut rows = Vec::new();
    // All 1s, no agreed control total, planning a surplus (margin 2 - distance 0.5 = 1.5): ≤ 2.
    rows.extend(trust("S", [3.0, 5.0, 2.0, 0.5, -1.0]));
    // Planning a deficit: margin 2, distance 3 → planned -1: no better than 3.
    rows.extend(trust("T", [3.0, 5.0, 2.0, 3.0, -1.0]));
    // No control-total metric at all: the cap is not applied, and the output says so.
    rows.extend(trust("U", [3.0, 5.0, 2.0, 0.5, -1.0]));
    let mut rows: Vec<Row<'_>> = rows
        .into_iter()
        .filter(|r| !(r.indicator == "control_total_agreed" && r.code == "U"))
        .map(|mut r| {
            if r.indicator == "control_total_agreed" {
                r.value = 0.0;
            }
            r
        })
        .collect();
    rows.push(row("cqc_rating", "S", 2.0));
    let out = assess(&shipped("sof-2016"), &table(&rows));
    assert_eq!(one(&out, "S").domains["finance"].score, Some(2.0));
    assert!(
        one(&out, "S")
            .overrides
            .iter()
            .any(|o| o.id == "control-total" && o.effect.contains("planning a surplus"))
    );
    assert_eq!(one(&out, "T").domains["finance"].score, Some(3.0));
    assert!(
        one(&out, "T")
            .overrides
            .iter()
            .any(|o| o.id == "control-total" && o.effect.contains("planning a deficit"))
    );
    let u = one(&out, "U");
    assert_eq!(u.domains["finance"].score, Some(1.0));
    assert!(u.overrides.iter().any(|o| o.id == "control-total"
        && !o.applied
        && o.effect.contains("not applied: no control_total_agreed")));
}

#[test]
fn sof_2016_cqc_inadequate_and_decisions_set_segments() {
    let mut rows = trust("V", [3.0, 5.0, 2.0, 0.5, -1.0]);
    rows.extend(trust("W", [3.0, 5.0, 2.0, 0.5, -1.0]));
    // CQC ratings are monthly: the latest month's is read. X's rating is only at the
    // financial year, so the rule says it could not apply.
    let cqc = |code: &'static str, v: f64, period: &'static str| Row {
        grain: "month",
        period,
        ..row("cqc_rating", code, v)
    };
    rows.push(cqc("V", 2.0, "2024-12"));
    rows.push(cqc("V", 4.0, "2025-03"));
    rows.push(cqc("W", 3.0, "2025-03"));
    rows.extend(trust("X", [3.0, 5.0, 2.0, 0.5, -1.0]));
    rows.push(row("cqc_rating", "X", 4.0));
    let t = table(&rows);
    let mut ctx = policy::assess::Context::default();
    ctx.decisions
        .insert("W".into(), (4, "special measures, CQC recommendation".into()));
    let out = policy::assess::assess(&shipped("sof-2016"), &t, &ctx, Some("2024/25")).unwrap();
    let v = one(&out, "V");
    assert_eq!(v.segment, Some(3), "{}", v.explanation);
    assert!(
        v.overrides
            .iter()
            .any(|o| o.id == "cqc-inadequate" && o.applied && o.effect.contains("cqc_rating 4 ≥ 4: 1 → 3")),
        "{:?}",
        v.overrides
    );
    let x = one(&out, "X");
    assert_eq!(x.segment, Some(1));
    assert!(
        x.overrides
            .iter()
            .any(|o| o.id == "cqc-inadequate" && o.effect.contains("not applied"))
    );
    let w = one(&out, "W");
    assert_eq!(w.segment, Some(4));
    assert!(
        w.overrides
            .iter()
            .any(|o| o.id == "decision" && o.effect == "segment 1 → 4")
    );
}

/// The register's open special-measures intervention places its target in segment 4 (the
/// pack's `[[decision]]` table), named in the override; other kinds and closed ones do not;
/// a hand decision and a register decision keep the worse segment.
#[test]
fn sof_2016_takes_special_measures_from_the_register() {
    use policy::assess::{OpenIntervention, add_decisions, register_decisions};
    let mut rows = trust("V", [3.0, 5.0, 2.0, 0.5, -1.0]);
    rows.extend(trust("W", [3.0, 5.0, 2.0, 0.5, -1.0]));
    rows.extend(trust("Z", [3.0, 5.0, 2.0, 0.5, -1.0]));
    let t = table(&rows);
    let pack = shipped("sof-2016");
    let open = |id: i64, target: &str, kind: &str| OpenIntervention {
        id,
        target_code: target.into(),
        kind: kind.into(),
        regulator: "monitor".into(),
        start_date: "2025-04-01".into(),
    };
    let decided = register_decisions(
        &pack,
        &[
            open(7, "V", "special_measures"),
            open(8, "W", "warning_notice"),
            open(9, "Z", "special_measures"),
        ],
    );
    assert_eq!(
        decided.get("V"),
        Some(&(
            4,
            "special_measures opened by monitor on 2025-04-01 (intervention 7)".to_string()
        ))
    );
    assert!(!decided.contains_key("W"), "a warning notice decides no segment");
    let mut ctx = policy::assess::Context::default();
    // Z was decided segment 4 by hand too; V by hand only segment 2: the worse stays.
    ctx.decisions.insert("V".into(), (2, "by hand".into()));
    add_decisions(&mut ctx, decided);
    assert_eq!(ctx.decisions["V"].0, 4);
    let out = policy::assess::assess(&pack, &t, &ctx, Some("2024/25")).unwrap();
    let v = one(&out, "V");
    assert_eq!(v.segment, Some(4), "{}", v.explanation);
    assert!(
        v.overrides.iter().any(|o| o.id == "decision"
            && o.text
                == "segment decided: special_measures opened by monitor on 2025-04-01 (intervention 7)"
            && o.effect == "segment 1 → 4"),
        "{:?}",
        v.overrides
    );
    assert_eq!(one(&out, "W").segment, Some(1));
    assert_eq!(one(&out, "Z").segment, Some(4));
}

#[test]
fn nof_2025_segments_by_quartile_within_trust_type_and_caps_deficits() {
    // Eight acute trusts, each metric ranked the same way: A best … H worst; H in deficit.
    let codes = ["A", "B", "C", "D", "E", "F", "G", "H"];
    let mut rows = Vec::new();
    for (i, c) in codes.iter().enumerate() {
        let i = i as f64;
        rows.push(row("ae_4h", c, 90.0 - i));
        rows.push(row("readmissions_30d", c, 10.0 + i));
        rows.push(row("ie_margin", c, if *c == "B" { -0.5 } else { 2.0 - i * 0.1 }));
    }
    // Two ambulance trusts: their own peer group.
    rows.push(Row {
        org_kind: "ambulance_trust",
        ..row("ie_margin", "X", 1.0)
    });
    rows.push(Row {
        org_kind: "ambulance_trust",
        ..row("ie_margin", "Y", 0.5)
    });
    let out = assess(&shipped("nof-2025"), &table(&rows));
    // A scores 1 on everything; its average is the best: segment 1. H: 4 everywhere.
    assert_eq!(one(&out, "A").overall_score, Some(1.0));
    assert_eq!(one(&out, "A").segment, Some(1));
    assert_eq!(one(&out, "H").segment, Some(4));
    // B is in the top quartile on performance but in deficit: no better than segment 3.
    let b = one(&out, "B");
    assert_eq!(b.segment, Some(3), "{}", b.explanation);
    assert!(b.overrides.iter().any(|o| o.id == "deficit" && o.applied));
    // Ambulance trusts are ranked among themselves: the better is segment 1.
    assert_eq!(one(&out, "X").segment, Some(1));
    assert_eq!(one(&out, "Y").segment, Some(3));
    // League table: segment, then average score.
    let mut league = out.clone();
    policy::assess::league(&shipped("nof-2025"), &mut league);
    assert_eq!(league[0].entity_code, "A");
    assert_eq!(league.last().unwrap().entity_code, "H");
}

#[test]
fn ccg_iaf_2016_rates_and_an_inadequate_finance_domain_limits_the_headline() {
    let mut rows = Vec::new();
    for (i, c) in ["P", "Q", "R", "S"].iter().enumerate() {
        let i = i as f64;
        let r = |ind: &'static str, v: f64| Row {
            org_kind: "commissioner",
            ..row(ind, c, v)
        };
        rows.push(r("emergency_admissions_isr", 90.0 + 5.0 * i));
        rows.push(r("readmissions_30d", 10.0 + i));
        rows.push(r("rtt_18w", 90.0 - i));
        // P is the best on everything but in deep deficit.
        rows.push(r("commissioner_margin", if *c == "P" { -2.0 } else { 1.0 }));
    }
    let out = assess(&shipped("ccg-iaf-2016"), &table(&rows));
    let p = one(&out, "P");
    // Better health 1, better care 1, sustainability 4: mean 2 → good, but finance inadequate.
    assert_eq!(p.domains["sustainability"].score, Some(4.0));
    assert_eq!(p.overall_score, Some(2.51));
    assert_eq!(p.rating.as_deref(), Some("requires improvement"));
    let s = one(&out, "S");
    // S: 4, 4, 1 → 3.0: requires improvement (≤ 3.25).
    assert_eq!(s.overall_score, Some(3.0));
    assert_eq!(s.rating.as_deref(), Some("requires improvement"));
    assert_eq!(one(&out, "Q").rating.as_deref(), Some("good"));
}

#[test]
fn system_2015_places_systems_by_their_triggers_and_members() {
    let sys = |ind: &'static str, code: &'static str, v: f64, ci: Option<(f64, f64)>| Row {
        kind: "system",
        ci,
        ..row(ind, code, v)
    };
    let eng = |ind: &'static str, v: f64| Row {
        kind: "england",
        ..row(ind, policy::assess::ENGLAND, v)
    };
    let rows = vec![
        sys("system_surplus_share", "S1", -2.5, None),
        sys("system_surplus_share", "S2", 0.5, None),
        sys("system_surplus_share", "S3", -0.5, None),
        sys("system_surplus_share", "S4", 1.0, None),
        // S4: three metrics significantly worse than England (95% intervals, no signals).
        sys("ae_4h", "S4", 70.0, Some((69.0, 71.0))),
        sys("emergency_admissions_isr", "S4", 110.0, Some((108.0, 112.0))),
        sys("readmissions_30d", "S4", 16.0, Some((15.5, 16.5))),
        sys("ae_4h", "S2", 80.0, Some((74.0, 86.0))),
        // Support, three ways: in surplus but one metric significantly worse (S5); a deficit
        // within 2% (S6); in surplus but two members in segment 3 (S7).
        sys("system_surplus_share", "S5", 0.5, None),
        sys("rtt_18w", "S5", 80.0, Some((79.0, 81.0))),
        sys("system_surplus_share", "S6", -1.0, None),
        sys("system_surplus_share", "S7", 0.2, None),
        eng("rtt_18w", 85.0),
        eng("ae_4h", 75.0),
        eng("emergency_admissions_isr", 100.0),
        eng("readmissions_30d", 14.0),
    ];
    let t = table(&rows);
    let mut ctx = policy::assess::Context::default();
    // S3 has a trust in segment 4 (special measures).
    let member = |code: &str, seg: u32| policy::assess::Assessment {
        entity_kind: "organisation".into(),
        entity_code: code.into(),
        org_kind: Some("acute_trust".into()),
        pack: "sof-2016".into(),
        period: "2024/25".into(),
        domains: Default::default(),
        overall_score: Some(seg as f64),
        rating: None,
        segment: Some(seg),
        category: None,
        overrides: Vec::new(),
        signals: Vec::new(),
        reporting: None,
        explanation: String::new(),
    };
    ctx.earlier.insert(
        "sof-2016".into(),
        vec![
            member("T3", 4),
            member("T2", 2),
            member("T7a", 3),
            member("T7b", 3),
        ],
    );
    ctx.systems.insert("T3".into(), "S3".into());
    ctx.systems.insert("T2".into(), "S2".into());
    ctx.systems.insert("T7a".into(), "S7".into());
    ctx.systems.insert("T7b".into(), "S7".into());
    let out = policy::assess::assess(&shipped("system-2015"), &t, &ctx, Some("2024/25")).unwrap();
    assert_eq!(one(&out, "S1").category.as_deref(), Some("challenged"));
    assert_eq!(one(&out, "S2").category.as_deref(), Some("fast-track"));
    assert_eq!(one(&out, "S3").category.as_deref(), Some("challenged"));
    assert_eq!(one(&out, "S4").category.as_deref(), Some("challenged"));
    for s in ["S5", "S6", "S7"] {
        let a = one(&out, s);
        assert_eq!(a.category.as_deref(), Some("support"), "{s}: {}", a.explanation);
        let r = a.reporting.as_ref().unwrap();
        assert_eq!(r.frequency, "quarterly", "{s}");
        assert!(r.support.contains("shared vision"), "{s}: {}", r.support);
    }
    let why = &one(&out, "S4")
        .overrides
        .iter()
        .find(|o| o.id == "category")
        .unwrap()
        .effect;
    assert!(
        why.contains("3 indicators significantly worse than England"),
        "{why}"
    );
    // S3's reporting: whole-system intervention.
    assert!(
        one(&out, "S3")
            .reporting
            .as_ref()
            .unwrap()
            .support
            .contains("whole-system intervention")
    );
}
