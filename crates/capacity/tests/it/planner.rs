//! The projection and the plan check on hand-built baselines: arithmetic by hand, determinism
//! whatever the thread count, and precise errors for bad assumptions and plans.

use std::collections::{BTreeMap, BTreeSet};

use capacity::assumptions::{Assumptions, DEFAULT, POOLS, Pool};
use capacity::baseline::{Baseline, MAX_AGE, PoolBase, Provider};
use capacity::plan::Plan;
use capacity::project::{self, CareModel, Draw, Request};

/// One acute trust in system S1 whose G&A non-elective spells are all of 70-year-olds.
pub(crate) fn baseline() -> Baseline {
    let mut pools: Vec<PoolBase> = POOLS
        .iter()
        .map(|_| PoolBase {
            admissions_by_age: vec![0.0; MAX_AGE + 1],
            nights_by_age: vec![0.0; MAX_AGE + 1],
            short_elective_nights: 0.0,
            peak_factor: 1.0,
            nights_by_month: vec![0.0; 12],
        })
        .collect();
    let ne = &mut pools[Pool::GaNonElective.index()];
    ne.admissions_by_age[70] = 20_000.0;
    ne.nights_by_age[70] = 120_000.0;
    let el = &mut pools[Pool::GaElective.index()];
    el.admissions_by_age[50] = 10_000.0;
    el.nights_by_age[50] = 20_000.0;
    el.short_elective_nights = 8_000.0;
    Baseline {
        year: 2024,
        days: 365.0,
        providers: vec![Provider {
            code: "RAA".into(),
            name: "A Trust".into(),
            kind: model::OrgKind::AcuteTrust,
            system: Some("S1".into()),
            region: Some("R1".into()),
            pools,
            beds_available: Some(450.0),
            beds_occupied: Some(400.0),
            wte: BTreeMap::from([("medical".to_string(), 300.0)]),
            catchment_by_age: Vec::new(),
        }],
        systems: BTreeMap::from([("S1".to_string(), ("System One".to_string(), "R1".to_string()))]),
        regions: BTreeMap::from([("R1".to_string(), "Region One".to_string())]),
        flows: Vec::new(),
        lists: BTreeMap::new(),
        bands: None,
    }
}

/// The projection of `b` to `year` (start year) under `a`, with no care models.
fn projected(b: &Baseline, a: &Assumptions, year: i32, runs: usize, seed: u64) -> project::Projection {
    project::project(&Request {
        baseline: b,
        assumptions: a,
        care_models: &[],
        year,
        runs,
        seed,
    })
}

#[test]
fn the_embedded_assumptions_are_valid_and_every_pool_is_given() {
    let a = Assumptions::default_set();
    for p in POOLS {
        assert!(a.pools.contains_key(&p), "{}", p.name());
    }
    assert!(a.heads.group.iter().any(|g| g.staff_group == "nursing"));
}

#[test]
fn bad_assumptions_are_refused_with_the_key_and_the_rule() {
    let broken = DEFAULT.replace("los_reduction = [0.00, 0.06]", "los_reduction = [0.06, 0.00]");
    let e = Assumptions::parse(&broken, "mine.toml")
        .expect_err("refused")
        .to_string();
    assert!(
        e.starts_with("mine.toml: pools.ga_elective.los_reduction: [0.06, 0]:"),
        "{e}"
    );
    let broken = DEFAULT.replace("from = 15\nto = 65", "from = 16\nto = 65");
    let e = Assumptions::parse(&broken, "mine.toml")
        .expect_err("refused")
        .to_string();
    assert!(e.contains("without gaps"), "{e}");
    let broken = DEFAULT.replace("headroom = 0.22", "headroom = 1.5");
    let e = Assumptions::parse(&broken, "mine.toml")
        .expect_err("refused")
        .to_string();
    assert!(e.contains("heads.group[0] (nursing).headroom: 1.5"), "{e}");
    let broken = DEFAULT.replace("version = 1", "version = 1\nsurprise = true");
    assert!(Assumptions::parse(&broken, "mine.toml").is_err());
}

#[test]
fn the_central_projection_is_the_arithmetic_by_hand() {
    let a = Assumptions::default_set();
    let b = baseline();
    let care = vec![CareModel {
        system: "S1".into(),
        care_model: "pacs".into(),
        share: 0.5,
    }];
    let p = project::project(&Request {
        baseline: &b,
        assumptions: &a,
        care_models: &care,
        year: 2026,
        runs: 50,
        seed: 7,
    });
    assert_eq!(p.years, 2.0);
    // Non-elective: 4% of nights go to critical care; then demography for 65–84 (central
    // 1.9% a year), non-demographic growth 1.25%, PACS over half the population avoids 2%
    // (central of [0, 4%]) → 1%, LOS reduction 4% (central of [0, 8%]); no day cases.
    let ne = &p.central[0][Pool::GaNonElective.index()];
    let base = 120_000.0 * 0.96;
    let d = base * 1.019f64.powi(2);
    let g = d * 1.0125f64.powi(2);
    let m = g * (1.0 - 0.5 * 0.02);
    let l = m * (1.0 - 0.04);
    let want = [base, d, g, m, l, l];
    for (k, w) in want.iter().enumerate() {
        assert!(
            (ne.nights[k] - w).abs() < 1e-6,
            "step {k}: {} vs {w}",
            ne.nights[k]
        );
    }
    assert!((ne.beds - (l / 365.0 / 0.92).ceil()).abs() < 1e-9);
    // Elective at age 50 (15–64: 0.2%), LOS 3%, then 2.5% of the short-stay nights removed.
    let el = &p.central[0][Pool::GaElective.index()];
    let f = 1.002f64.powi(2) * 1.0125f64.powi(2) * 0.97;
    let want = 20_000.0 * f - 0.025 * 8_000.0 * f;
    assert!((el.nights[5] - want).abs() < 1e-6, "{} vs {want}", el.nights[5]);
    // Critical care: its share of non-elective nights at 2% growth, Erlang B at 1% blocking.
    let cc = &p.central[0][Pool::CriticalCare.index()];
    let load = 120_000.0 * 0.04 * 1.019f64.powi(2) * 1.02f64.powi(2) * 0.985 / 365.0;
    assert!((cc.nights[5] / 365.0 - load).abs() < 1e-9);
    assert_eq!(cc.beds, capacity::beds::erlang_b_beds(load, 0.01).0 as f64);
    // Heads: nursing from CHPPD 8 over 1,955 paid hours less 22% headroom; medical scales the
    // 300 WTE in post with admissions.
    let nights: f64 = p.central[0].iter().map(|x| x.nights[5]).sum();
    let nursing = p.central_wte[0][0].expect("nursing");
    assert!((nursing - nights * 8.0 / (1955.0 * 0.78)).abs() < 1e-6);
    let adm0: f64 = 30_000.0;
    let adm1: f64 = p.central[0].iter().map(|x| x.admissions).sum();
    let medical = p.central_wte[0][1].expect("medical");
    assert!((medical - 300.0 * adm1 / adm0).abs() < 1e-9);
    // No baseline for other_clinical: no figure rather than a made-up one.
    assert_eq!(p.central_wte[0][2], None);
}

#[test]
fn runs_are_the_same_whatever_the_thread_count() {
    let a = Assumptions::default_set();
    let b = baseline();
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool")
            .install(|| projected(&b, &a, 2027, 200, 42))
    };
    let (one, two) = (run(1), run(2));
    assert_eq!(one.beds, two.beds);
    assert_eq!(one.wte, two.wte);
    // A different seed gives different runs; the runs spread.
    let other = projected(&b, &a, 2027, 200, 43);
    assert_ne!(one.beds, other.beds);
    let mut ne: Vec<f64> = one
        .beds
        .iter()
        .map(|r| r[0][Pool::GaNonElective.index()])
        .collect();
    let [p10, mean, p90] = project::summary(&mut ne).expect("runs");
    assert!(p10 < mean && mean < p90, "{p10} {mean} {p90}");
    // The draws' mean of an interval is near its centre: 200 runs of a normal with sd
    // (0.02 − 0.005)/2.563 ≈ 0.0059 have a mean within 0.002 of 0.0125 (3.4 standard errors).
    let m: f64 = (0..200)
        .map(|r| Draw::run(&a, 42, r).non_demographic[0])
        .sum::<f64>()
        / 200.0;
    assert!((m - 0.0125).abs() < 0.002, "{m}");
}

fn orgs() -> (BTreeSet<String>, BTreeSet<String>) {
    (
        BTreeSet::from(["RAA".to_string()]),
        BTreeSet::from(["S1".to_string()]),
    )
}

#[test]
fn bad_plans_are_refused_with_file_line_column_value_and_rule() {
    let (o, s) = orgs();
    let parse = |text: &str| {
        Plan::parse(text.as_bytes(), "plan.csv", &o, &s)
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    let head = "period,org_code,measure,category,value\n";
    assert_eq!(
        parse(&format!("{head}2026/27,RAA,beds,ga,-4\n")),
        Err("plan.csv:2:value: -4: must be a number ≥ 0".into())
    );
    let e = parse(&format!("{head}2026/27,RAA,beds,ga,400\n2026/27,RZZ,beds,ga,1\n")).expect_err("refused");
    assert!(e.starts_with("plan.csv:3:org_code: RZZ:"), "{e}");
    let e = parse(&format!("{head}2026/27,RAA,beds,surgery,4\n")).expect_err("refused");
    assert!(
        e.starts_with("plan.csv:2:category: surgery: must be a bed group"),
        "{e}"
    );
    let e = parse(&format!(
        "{head}2026/27,RAA,beds,ga,4\n2027/28,RAA,wte,medical,4\n"
    ))
    .expect_err("refused");
    assert!(e.starts_with("plan.csv:3:period: 2027/28"), "{e}");
    let e = parse(&format!("{head}2026/27,RAA,beds,ga,4\n2026/27,RAA,beds,ga,5\n")).expect_err("refused");
    assert!(e.contains("repeats line 2"), "{e}");
    let e = parse("period,org_code,measure,value\n").expect_err("refused");
    assert!(e.starts_with("plan.csv:1:category:"), "{e}");
    assert!(parse(&format!("\u{feff}{head}2026/27,S1,beds,ga,400\n")).is_ok());
}

#[test]
fn a_plan_that_cuts_beds_does_not_add_up_and_says_why() {
    let a = Assumptions::default_set();
    let b = baseline();
    let (o, s) = orgs();
    let p = projected(&b, &a, 2026, 300, 3);
    // G&A now: 450 available beds shared by bed days (140,000 of the 144,800 after critical
    // care takes 4,800) → 435.1 G&A beds. Demand grows: cut to 380 and occupancy passes 95%.
    let cut = Plan::parse(
        b"period,org_code,measure,category,value\n2026/27,RAA,beds,ga,380\n",
        "p.csv",
        &o,
        &s,
    )
    .expect("plan");
    let r = capacity::plan::check(&b, &a, &p, Some(&cut), 3);
    let sys = &r.systems[0];
    assert!(!sys.unit.adds_up);
    assert_eq!(sys.short, vec!["RAA".to_string()]);
    let ga = sys.providers[0]
        .beds
        .iter()
        .find(|x| x.group == "ga")
        .expect("ga");
    let projected: f64 = p.central[0][..2].iter().map(|x| x.nights[5]).sum();
    assert!((ga.implied_occupancy.expect("occupancy") - projected / 365.0 / 380.0).abs() < 1e-12);
    assert!(
        ga.flags.contains(&"occupancy_above_max".to_string()),
        "{:?}",
        ga.flags
    );
    assert!(
        sys.unit
            .reasons
            .iter()
            .any(|x| x.starts_with("RAA: ga") && x.contains("occupancy")),
        "{:?}",
        sys.unit.reasons
    );
    assert_eq!(r.england.systems_adding_up, 0);
    // Enough beds for the p90 requirement and no other change adds up.
    let enough = ga.required_beds.p90.ceil() + 5.0;
    let text = format!("period,org_code,measure,category,value\n2026/27,RAA,beds,ga,{enough}\n");
    let ok = Plan::parse(text.as_bytes(), "p.csv", &o, &s).expect("plan");
    let r = capacity::plan::check(&b, &a, &p, Some(&ok), 3);
    let ga = r.systems[0].providers[0]
        .beds
        .iter()
        .find(|x| x.group == "ga")
        .expect("ga");
    assert!(ga.flags.is_empty(), "{:?}", ga.flags);
    // The waterfall adds up: baseline plus every step is the projection.
    let w = &r.systems[0].waterfall;
    let total: f64 = w[..w.len() - 1].iter().map(|s| s.bed_days).sum();
    assert!((total - w[w.len() - 1].bed_days).abs() < 1e-6);
    assert_eq!(w[0].step, "baseline");
}

#[test]
fn care_models_files_are_checked() {
    let a = Assumptions::default_set();
    let s = BTreeSet::from(["S1".to_string()]);
    let ok = project::read_care_models(
        b"system_code,care_model,share\nS1,pacs,0.3\nS1,mcp,0.2\n",
        "cm.csv",
        &s,
        &a,
    )
    .expect("reads");
    assert_eq!(ok.len(), 2);
    let e = project::read_care_models(
        b"system_code,care_model,share\nS1,pacs,0.7\nS1,mcp,0.4\n",
        "cm.csv",
        &s,
        &a,
    )
    .expect_err("refused")
    .to_string();
    assert!(e.starts_with("cm.csv:3:share: 0.4:"), "{e}");
    let e = project::read_care_models(
        b"system_code,care_model,share\nS1,hospice,0.1\n",
        "cm.csv",
        &s,
        &a,
    )
    .expect_err("refused")
    .to_string();
    assert!(e.starts_with("cm.csv:2:care_model: hospice:"), "{e}");
}

#[test]
fn activity_moved_to_a_trust_without_beds_for_it_leaves_that_trust_short() {
    let a = Assumptions::default_set();
    let mut b = baseline();
    let mut second = b.providers[0].clone();
    second.code = "RBB".into();
    second.name = "B Trust".into();
    b.providers.push(second);
    let o = BTreeSet::from(["RAA".to_string(), "RBB".to_string()]);
    let s = BTreeSet::from(["S1".to_string()]);
    let p = projected(&b, &a, 2024, 100, 5);
    // In the baseline year itself (no growth): move 30% of A's G&A bed days to B, and give A
    // and B their current beds.
    let ga: f64 = p.central[0][..2].iter().map(|x| x.nights[5]).sum();
    let moved = ga * 0.3;
    let text = format!(
        "period,org_code,measure,category,value\n2024/25,RAA,bed_days,ga,{}\n2024/25,RBB,bed_days,ga,{}\n",
        ga - moved,
        ga + moved
    );
    let plan = Plan::parse(text.as_bytes(), "shift.csv", &o, &s).expect("plan");
    let r = capacity::plan::check(&b, &a, &p, Some(&plan), 5);
    let sys = &r.systems[0];
    let rbb = sys.providers.iter().find(|x| x.code == "RBB").expect("RBB");
    let all = rbb.beds.iter().find(|x| x.group == "all").expect("all");
    assert!(all.flags.contains(&"occupancy_above_max".to_string()), "{all:?}");
    assert!(sys.short.contains(&"RBB".to_string()));
    // A gave its activity away; nothing is unplaced across the system.
    let raa = sys.providers.iter().find(|x| x.code == "RAA").expect("RAA");
    assert!(
        raa.beds
            .iter()
            .any(|x| x.flags.contains(&"activity_below_projection".to_string()))
    );
    assert!(
        !sys.unit
            .beds
            .iter()
            .any(|x| x.flags.contains(&"unplaced_demand".to_string()))
    );
    // Moving it to nobody is unplaced demand.
    let text = format!(
        "period,org_code,measure,category,value\n2024/25,RAA,bed_days,ga,{}\n",
        ga - moved
    );
    let plan = Plan::parse(text.as_bytes(), "drop.csv", &o, &s).expect("plan");
    let r = capacity::plan::check(&b, &a, &p, Some(&plan), 5);
    let ga_sys = r.systems[0]
        .unit
        .beds
        .iter()
        .find(|x| x.group == "ga")
        .expect("ga");
    assert!(
        ga_sys.flags.contains(&"unplaced_demand".to_string()),
        "{ga_sys:?}"
    );
    assert!(
        r.systems[0]
            .unit
            .reasons
            .iter()
            .any(|x| x.contains("demand the plan sends nowhere"))
    );
}

#[test]
fn register_commitments_change_beds_staff_and_activity_where_the_plan_is_silent() {
    use capacity::plan::Commitment;
    let a = Assumptions::default_set();
    let mut b = baseline();
    let mut second = b.providers[0].clone();
    second.code = "RBB".into();
    second.wte = BTreeMap::from([("medical".to_string(), 100.0), ("nursing".to_string(), 300.0)]);
    b.providers.push(second);
    let p = projected(&b, &a, 2024, 100, 5);
    let none = capacity::plan::check(&b, &a, &p, None, 5);
    let ga_of = |u: &capacity::plan::Unit| u.beds.iter().find(|x| x.group == "ga").cloned().expect("ga");
    let current = ga_of(&none.systems[0].providers[0])
        .current_beds
        .expect("current");
    let commitments = vec![
        Commitment::new(
            "case 1 (S1), commitment 1".into(),
            "RAA",
            "acute_beds",
            -40.0,
            None,
        ),
        Commitment::new(
            "case 1 (S1), commitment 2".into(),
            "RBB",
            "workforce_wte",
            20.0,
            None,
        ),
        Commitment::new(
            "case 1 (S1), commitment 3".into(),
            "RAA",
            "activity_moved",
            2_000.0,
            Some("RBB"),
        ),
        Commitment::new("case 1 (S1), commitment 4".into(), "RAA", "spending", -1e6, None),
    ];
    // The plan itself states B's G&A beds: that line stands.
    let plan = Plan::parse(
        b"period,org_code,measure,category,value\n2024/25,RBB,beds,ga,600\n",
        "p.csv",
        &BTreeSet::from(["RAA".to_string(), "RBB".to_string()]),
        &BTreeSet::from(["S1".to_string()]),
    )
    .expect("plan")
    .with_commitments(&commitments, &b)
    .expect("commitments");
    // Four changes: beds at A, WTE shared 1:3 over B's groups, spells out of A and into B.
    assert_eq!(plan.changes.len(), 5);
    let r = capacity::plan::check(&b, &a, &p, Some(&plan), 5);
    let sys = &r.systems[0];
    assert!(sys.has_plan);
    let (raa, rbb) = (&sys.providers[0], &sys.providers[1]);
    let ga = ga_of(raa);
    assert!(ga.beds_from_plan);
    assert!((ga.planned_beds.expect("planned") - (current - 40.0)).abs() < 1e-9);
    assert_eq!(ga_of(rbb).planned_beds, Some(600.0));
    let wte = |u: &capacity::plan::Unit, g: &str| {
        u.heads
            .iter()
            .find(|h| h.staff_group == g)
            .and_then(|h| h.planned)
    };
    assert_eq!(wte(rbb, "medical"), Some(105.0));
    assert_eq!(wte(rbb, "nursing"), Some(315.0));
    // The system's medical WTE: A keeps its 300 in post, B plans 105.
    assert_eq!(wte(&sys.unit, "medical"), Some(405.0));
    // 2,000 G&A spells at the projected stay (A and B are alike) leave A and reach B.
    let spells: f64 = p.central[0][..2].iter().map(|x| x.admissions).sum();
    let nights: f64 = p.central[0][..2].iter().map(|x| x.nights[5]).sum();
    let moved = 2_000.0 * nights / spells;
    assert!(
        (ga.planned_bed_days - (nights - moved)).abs() < 1e-6,
        "{}",
        ga.planned_bed_days
    );
    assert!((ga_of(rbb).planned_bed_days - (nights + moved)).abs() < 1e-6);
    assert!(ga.flags.contains(&"activity_below_projection".to_string()));
    // A commitment naming a trust the baseline does not have is refused, naming it.
    let e = Plan::parse(
        b"period,org_code,measure,category,value\n2024/25,RBB,beds,ga,600\n",
        "p.csv",
        &BTreeSet::from(["RBB".to_string()]),
        &BTreeSet::new(),
    )
    .expect("plan")
    .with_commitments(
        &[Commitment::new(
            "case 2 (S1), commitment 9".into(),
            "RZZ",
            "acute_beds",
            5.0,
            None,
        )],
        &b,
    )
    .expect_err("unknown trust");
    assert!(
        e.to_string()
            .contains("case 2 (S1), commitment 9: acute_beds names RZZ"),
        "{e}"
    );
}

#[test]
fn planned_spells_become_bed_days_at_the_projected_stay() {
    let a = Assumptions::default_set();
    let b = baseline();
    let (o, s) = orgs();
    let p = projected(&b, &a, 2025, 50, 2);
    let spells: f64 = p.central[0][..2].iter().map(|x| x.admissions).sum();
    let nights: f64 = p.central[0][..2].iter().map(|x| x.nights[5]).sum();
    let plan = Plan::parse(
        b"period,org_code,measure,category,value\n2025/26,RAA,admissions,ga,15000\n",
        "p.csv",
        &o,
        &s,
    )
    .expect("plan");
    let r = capacity::plan::check(&b, &a, &p, Some(&plan), 2);
    let ga = r.systems[0].providers[0]
        .beds
        .iter()
        .find(|x| x.group == "ga")
        .expect("ga");
    assert!((ga.planned_bed_days - 15_000.0 * nights / spells).abs() < 1e-6);
}

#[test]
fn catchments_share_each_practice_list_by_its_patients_spells() {
    use capacity::baseline::catchments;
    let mut b = baseline();
    let mut second = b.providers[0].clone();
    second.code = "RBB".into();
    b.providers.push(second);
    // Practice A: 100 aged 0–4 and 200 aged 65–69; 30 spells at RAA, 10 at RBB.
    // Practice B: 50 aged 5–9; 5 spells at RBB. Practice C: a list and no spells.
    let mut a = vec![0.0; 19];
    a[0] = 100.0;
    a[13] = 200.0;
    let mut bl = vec![0.0; 19];
    bl[1] = 50.0;
    let lists = BTreeMap::from([
        ("A".to_string(), a),
        ("B".to_string(), bl),
        ("C".to_string(), vec![10.0; 19]),
    ]);
    let flows = vec![
        ("A".to_string(), "RAA".to_string(), 30.0),
        ("A".to_string(), "RBB".to_string(), 10.0),
        ("B".to_string(), "RBB".to_string(), 5.0),
        ("B".to_string(), "RZZ".to_string(), 5.0),
    ];
    catchments(&mut b.providers, &flows, &lists);
    let (raa, rbb) = (&b.providers[0].catchment_by_age, &b.providers[1].catchment_by_age);
    assert_eq!((raa[0], raa[65], raa.iter().sum::<f64>()), (75.0, 150.0, 225.0));
    // B's spells went half to a provider the baseline does not have: half its list is RBB's.
    assert_eq!(
        (rbb[0], rbb[5], rbb[65], rbb.iter().sum::<f64>()),
        (25.0, 25.0, 50.0, 100.0)
    );
}

#[test]
fn a_staff_group_driven_by_the_registered_list_grows_with_its_demography() {
    let text = format!(
        "{DEFAULT}\n[[heads.group]]\nstaff_group = \"district_nursing\"\ndriver = \"registered_list\"\nhours_per_unit = 2.0\nheadroom = 0.2\n"
    );
    let a = Assumptions::parse(&text, "a.toml").expect("valid");
    let mut b = baseline();
    let mut c = vec![0.0; MAX_AGE + 1];
    c[0] = 75.0;
    c[65] = 150.0;
    b.providers[0].catchment_by_age = c;
    let p = projected(&b, &a, 2026, 10, 1);
    let k = p
        .groups
        .iter()
        .position(|g| g == "district_nursing")
        .expect("group");
    // Central: each band's growth at its interval's mean, two years on.
    let list = 75.0 * (1.0f64 - 0.001).powi(2) + 150.0 * (1.0f64 + 0.019).powi(2);
    let expected = list * 2.0 / (1955.0 * 0.8);
    let got = p.central_wte[0][k].expect("wte");
    assert!((got - expected).abs() < 1e-9, "{got} {expected}");
    // Without a catchment the driver gives no requirement.
    b.providers[0].catchment_by_age.clear();
    let p = projected(&b, &a, 2026, 10, 1);
    assert_eq!(p.central_wte[0][k], None);
}

#[test]
fn the_nhp_bed_scaling_method_grows_kh03_occupied_beds_with_bed_days() {
    let text = DEFAULT.replacen(
        "[pools.ga_non_elective]\nmethod = \"fixed_occupancy\"",
        "[pools.ga_non_elective]\nmethod = \"nhp_bed_scaling\"",
        1,
    );
    assert_ne!(text, DEFAULT);
    let a = Assumptions::parse(&text, "a.toml").expect("valid");
    let mut b = baseline();
    let req = |b: &Baseline| projected(b, &a, 2026, 5, 1);
    let p = req(&b);
    let ne = Pool::GaNonElective.index();
    // KH03: 400 occupied beds over the trust's mean nightly bed days (every pool).
    let load_all: f64 = p.pools[0].iter().map(|x| x.nights()).sum::<f64>() / 365.0;
    let base = p.pools[0][ne].nights() / 365.0;
    let kh03_pool = 400.0 / load_all * base;
    let model = p.central[0][ne].nights[5] / 365.0;
    let expected = capacity::formula::bed_scaling(model, kh03_pool, base, 0.92).round_ties_even();
    assert_eq!(p.central[0][ne].beds, expected);
    // Without KH03 figures the pool falls back to fixed occupancy.
    b.providers[0].beds_occupied = None;
    let p = req(&b);
    assert_eq!(p.central[0][ne].beds, (model / 0.92).ceil());
}

#[test]
fn a_systems_own_demography_replaces_englands_for_its_trusts() {
    let area = "\n[[demography.area]]\ncode = \"S1\"\nsource = \"a local authority's projection\"\ngrowth = [[0.0, 0.0], [0.0, 0.0], [0.05, 0.05], [0.0, 0.0]]\n";
    let text = DEFAULT.replacen(
        "\n# Mitigators by care model",
        &format!("{area}\n# Mitigators by care model"),
        1,
    );
    assert_ne!(text, DEFAULT);
    let a = Assumptions::parse(&text, "a.toml").expect("valid");
    let b = baseline();
    let p = projected(&b, &a, 2026, 5, 1);
    // The non-elective spells are all of 70-year-olds: 5% a year for two years.
    let ne = Pool::GaNonElective.index();
    let step = p.central[0][ne].nights;
    assert!((step[1] / step[0] - 1.05f64.powi(2)).abs() < 1e-12, "{step:?}");
    // An area the dataset does not have is refused by name; so is a wrong number of bands.
    let other = text.replace("code = \"S1\"", "code = \"S9\"");
    let a9 = Assumptions::parse(&other, "a.toml").expect("valid");
    let e = capacity::assess(&b, &a9, &[], None, None, 5, 1).expect_err("unknown area");
    assert!(
        e.to_string().contains("\"S9\" is neither a system nor a region"),
        "{e}"
    );
    let short = text.replace("[0.05, 0.05], [0.0, 0.0]]", "[0.05, 0.05]]");
    let e = Assumptions::parse(&short, "a.toml").expect_err("three bands");
    assert!(e.to_string().contains("one interval per demography band"), "{e}");
}
