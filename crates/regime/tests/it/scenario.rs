//! A scenario on a small synthetic England: a planted challenged system gets a case (once);
//! a trust intervention that cuts the beds the system plan needs is flagged with the right
//! explanation; the plan's commitments roll up to the system's heads, beds and money.

#[test]
fn a_challenged_system_gets_a_case_and_a_conflicting_intervention_is_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = synth::Config {
        scale: 0.01,
        seed: 7,
        ..synth::Config::default()
    };
    synth::generate(&data, &config, None, None).expect("generates");
    let truth = synth::Truth::read(&data).expect("truth");
    let ds = dataset::load(&data, &dataset::Options::default())
        .expect("valid")
        .dataset;
    // The published table, computed once (blocking: before the store's runtime starts), for
    // the assessment and for delivery tracking, as `regime::assess` computes it.
    let tracked = regime::indicator_table(&ds, Vec::new()).expect("indicators");
    let assessed = regime::assess_table(&ds, &tracked).expect("assesses");
    let url = format!("sqlite://{}", dir.path().join("regime.db").display());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let db = store::Store::open(&url).await.unwrap();
        let first = regime::sync(&assessed, &db, "sync").await.unwrap();
        for c in &truth.challenged_system {
            assert!(first.challenged.contains(&c.system_code), "{} not challenged: {:?}", c.system_code, first.challenged);
        }
        assert_eq!(first.opened.len(), first.challenged.len());
        let second = regime::sync(&assessed, &db, "sync").await.unwrap();
        assert!(second.opened.is_empty());
        assert_eq!(second.already_open.len(), first.challenged.len());

        let system = &truth.challenged_system[0].system_code;
        let case = db.cases().await.unwrap().into_iter().find(|c| &c.system_code == system).unwrap();
        assert!(case.reason.contains("system_surplus_share"), "{}", case.reason);
        // The diagnosis: every member's surplus over the system's allocation accounts for the
        // combined deficit; each performance gap splits into members' weighted gaps.
        let diagnosis = case.snapshots.iter().find(|s| s.kind == "diagnosis").expect("diagnosis stored");
        let d: regime::Diagnosis = serde_json::from_value(diagnosis.body.clone()).unwrap();
        let f = d.finance.as_ref().expect("finance gap");
        assert!(f.system_value < -2.0 && f.gap > 2.0, "{f:?}");
        let explained: f64 = f.members.iter().map(|m| m.points).sum();
        assert!((explained - f.gap).abs() < 1e-6, "members {explained} against the gap {}", f.gap);
        assert!(f.unexplained.abs() < 1e-6);
        // The biggest contributor is in deficit.
        assert!(f.members[0].value < 0.0 && f.members[0].points > 0.0);
        // Every metric of the pack, each at its own level (`diagnosis.rs` checks the levels).
        assert_eq!(d.performance.len(), 4, "{:?}", d.performance.iter().map(|g| &g.indicator).collect::<Vec<_>>());
        for g in &d.performance {
            let sum: f64 = g.members.iter().map(|m| m.points).sum();
            assert!((sum + g.unexplained - g.gap).abs() < 1e-9, "{} members {sum} against {}", g.indicator, g.gap);
            if g.suppressed.is_empty() {
                assert!(g.unexplained.abs() < 1e-9, "{}: {}", g.indicator, g.unexplained);
            }
        }
        assert!(case.snapshots.iter().any(|s| s.kind == "assessment"));
        // Two of the system's trusts.
        let trusts: Vec<store::Organisation> = db
            .organisations()
            .await
            .unwrap()
            .into_iter()
            .filter(|o| o.system_code.as_deref() == Some(system.as_str()) && o.kind == "acute_trust")
            .collect();
        let (a, b) = (&trusts[0].code, &trusts[1].code);
        let commit = |who: &str, kind: &str, model: &str, levers: Vec<String>| store::NewCommitment {
            stakeholder: who.into(),
            stakeholder_kind: kind.into(),
            care_model: model.into(),
            description: format!("{who}'s part"),
            due: Some("2025-12-31".into()),
            levers: levers.iter().map(|l| store::Lever::parse(l).unwrap()).collect(),
        };
        db.add_commitment(case.id, &commit(a, "trust", "urgent_and_emergency_care_network", vec![format!("{a}:acute_beds:25"), format!("{a}:workforce_wte:40")]), "lead").await.unwrap();
        db.add_commitment(case.id, &commit(b, "trust", "acute_care_collaboration", vec![format!("{b}:spending:-2000000"), format!("{b}:workforce_wte:-10")]), "lead").await.unwrap();
        db.add_commitment(case.id, &commit("County council", "local_government", "enhanced_health_in_care_homes", vec![format!("{a}:acute_beds:-5")]), "lead").await.unwrap();
        db.add_commitment(case.id, &commit("Hospice trust", "third_sector", "enhanced_health_in_care_homes", vec![format!("{b}:spending:500000")]), "lead").await.unwrap();
        let case = db.cases().await.unwrap().into_iter().find(|c| c.id == case.id).unwrap();
        assert_eq!(case.plan_totals["acute_beds"], 20.0);
        assert_eq!(case.plan_totals["workforce_wte"], 30.0);
        assert_eq!(case.plan_totals["spending"], -1_500_000.0);

        // Monitor tells trust A to close 30 beds: against the plan (net +20 beds at A).
        let id = db
            .open_intervention(
                &store::NewIntervention {
                    regulator: "monitor".into(),
                    target_kind: "organisation".into(),
                    target_code: a.clone(),
                    kind: "financial_special_measures".into(),
                    legal_basis: "Health and Social Care Act 2012 s.106".into(),
                    actions: vec!["close a ward".into()],
                    start_date: "2025-04-01".into(),
                    deadline: Some("2025-10-01".into()),
                    case_id: Some(case.id),
                    levers: vec![store::Lever::parse(&format!("{a}:acute_beds:-30")).unwrap()],
                    details: Default::default(),
                },
                "regulator",
            )
            .await
            .unwrap();
        let conflicts = db.conflicts().await.unwrap();
        let c = conflicts.iter().find(|c| c.kind == "against_plan").expect("flagged");
        assert_eq!(c.org_code, *a);
        assert_eq!(c.intervention_ids, vec![id]);
        assert_eq!(
            c.explanation,
            format!(
                "monitor financial_special_measures (intervention {id}) asks {a} to change acute_beds by -30, but the recovery plan of case {} for {system} needs 20 (net commitments)",
                case.id
            )
        );
        // Linked to the case: not "unlinked".
        assert!(!conflicts.iter().any(|c| c.kind == "unlinked"));
        // The reporting calendar the sync set: the challenged system reports monthly from today,
        // its members at their segments' frequencies.
        let returns = regime::system_returns(
            system,
            &db.organisations().await.unwrap(),
            db.returns(store::reporting::today()).await.unwrap(),
        );
        let own: Vec<&store::Return> = returns.iter().filter(|r| r.entity_code == *system).collect();
        assert_eq!(own.len(), 1, "{returns:?}");
        assert_eq!((own[0].frequency.as_str(), own[0].status.as_str()), ("monthly", "open"));
        assert!(returns.iter().any(|r| r.entity_code == *a), "{returns:?}");
        let file = regime::case_file(&case, &db.interventions().await.unwrap(), &conflicts, &returns, false);
        assert!(file.contains("## Reporting") && file.contains(&format!("| {system} | system-2015 | challenged | monthly |")), "{file}");
        assert!(file.contains("Plan totals: beds +20, workforce +30 WTE, spending £-1500000."), "{file}");
        assert!(file.contains("**against_plan**"));
        // Every intervention in the system with its full detail.
        assert!(
            file.contains(&format!(
                "| {id} | monitor | financial_special_measures | organisation {a} | open | Health and Social Care Act 2012 s.106 | 2025-04-01 | 2025-10-01 | close a ward | {a} acute_beds -30 | linked to this case |"
            )),
            "{file}"
        );
        assert!(file.contains("| milestone due | delivered |"), "{file}");
        assert!(file.contains("## Diagnosis (2024/25)"), "{file}");
        assert!(file.contains("Combined surplus -"), "{file}");
        let html = regime::case_file(&case, &db.interventions().await.unwrap(), &conflicts, &returns, true);
        assert!(html.contains("<h2>Recovery plan</h2>") && html.contains("<th>stakeholder</th>"));

        // Delivery tracking: milestones by date, trajectories against the computed values.
        let actual = tracked.get("ae_4h", "system", system, "financial_year", "2024/25").unwrap().value.unwrap();
        db.add_trajectory(case.id, "ae_4h", ("financial_year", "2024/25"), actual + 5.0, "higher", "lead").await.unwrap();
        db.add_trajectory(case.id, "emergency_admissions_isr", ("financial_year", "2024/25"), 1000.0, "lower", "lead").await.unwrap();
        db.add_trajectory(case.id, "ae_4h", ("financial_year", "2026/27"), 95.0, "higher", "lead").await.unwrap();
        assert!(db.add_trajectory(case.id, "ae_4h", ("year", "2026"), 95.0, "higher", "lead").await.is_err());
        let first_commitment = case.commitments[0].id;
        db.complete_commitment(first_commitment, "lead").await.unwrap();
        let case = db.cases().await.unwrap().into_iter().find(|c| c.id == case.id).unwrap();
        let t = regime::track(&case, &tracked, "2026-01-15");
        assert_eq!(t.milestones[0].status, "delivered");
        assert!(t.milestones[1..].iter().all(|m| m.status == "overdue"), "{:?}", t.milestones);
        assert_eq!(regime::track(&case, &tracked, "2025-06-01").milestones[1].status, "on_track");
        let statuses: Vec<&str> = t.trajectories.iter().map(|x| x.status.as_str()).collect();
        assert_eq!(statuses, ["off_track", "on_track", "no_value"]);
        assert!(t.trajectories[0].explanation.contains(&format!("against a target of at least {:.3}", actual + 5.0)), "{}", t.trajectories[0].explanation);
        assert!(!t.on_track);
    });
}
