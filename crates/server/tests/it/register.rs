//! The register's decisions reach the served results: a trust under special measures is in
//! segment 4 and its system is challenged, the intervention named.

use crate::fixture;

#[test]
fn special_measures_in_the_register_reach_the_served_assessments() {
    let f = fixture();
    std::thread::spawn(move || {
        let ds = dataset::load(&f.data, &dataset::Options::default())
            .expect("valid")
            .dataset;
        // A trust whose system the pack did not place in "challenged".
        let assessed: regime::Assessed =
            serde_json::from_slice(&std::fs::read(f.results.join("regime.json")).unwrap()).unwrap();
        let calm: Vec<&str> = assessed
            .systems
            .iter()
            .filter(|a| a.category.as_deref() != Some("challenged"))
            .map(|a| a.entity_code.as_str())
            .collect();
        let trust = ds
            .organisations
            .iter()
            .find(|o| {
                o.kind == model::OrgKind::AcuteTrust && o.system.as_deref().is_some_and(|s| calm.contains(&s))
            })
            .expect("an acute trust in a system that is not challenged");
        let system = trust.system.clone().unwrap();
        let register = vec![store::Intervention {
            id: 12,
            regulator: "monitor".into(),
            target_kind: "organisation".into(),
            target_code: trust.code.clone(),
            system_code: Some(system.clone()),
            kind: "special_measures".into(),
            legal_basis: "Health and Social Care Act 2012 s.106".into(),
            actions: vec!["appoint an improvement director".into()],
            start_date: "2025-04-01".into(),
            deadline: None,
            status: "open".into(),
            case_id: None,
            levers: vec![],
            opened_at: "2025-04-01T09:00:00Z".into(),
            closed_at: None,
            close_reason: None,
            details: Default::default(),
        }];
        // The fixture's results were computed without it: they are stale now.
        assert!(server::results::decisions_changed(&f.results, &register).unwrap());
        assert!(!server::results::decisions_changed(&f.results, &[]).unwrap());
        let dir = tempfile::tempdir().unwrap();
        server::results::prepare_with(
            &ds,
            &f.data,
            dir.path(),
            &register,
            &[],
            &engine::Place::Embedded,
            &|_| {},
        )
        .expect("prepares");
        assert!(!server::results::decisions_changed(dir.path(), &register).unwrap());
        let r = server::results::Results::load(dir.path()).expect("loads");
        let a = r.assessment("sof-2016", &trust.code).expect("assessed");
        assert_eq!(a.segment, Some(4), "{}", a.explanation);
        let why = "special_measures opened by monitor on 2025-04-01 (intervention 12)";
        assert!(
            a.overrides
                .iter()
                .any(|o| o.id == "decision" && o.text == format!("segment decided: {why}")),
            "{:?}",
            a.overrides
        );
        let s = r.assessment("system-2015", &system).expect("assessed");
        assert_eq!(s.category.as_deref(), Some("challenged"), "{}", s.explanation);
        let trigger = server::api::category_trigger(s).unwrap_or_default();
        assert!(trigger.contains(&format!("{}: {why}", trust.code)), "{trigger}");
        // And the regime's assessment, from which sync opens cases.
        let regime: regime::Assessed =
            serde_json::from_slice(&std::fs::read(dir.path().join("regime.json")).unwrap()).unwrap();
        assert!(
            regime
                .systems
                .iter()
                .any(|a| a.entity_code == system && a.category.as_deref() == Some("challenged"))
        );
    })
    .join()
    .unwrap();
}
