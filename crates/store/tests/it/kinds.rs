//! Intervention kinds as data: the built-in registry, what each kind requires, a user's own
//! registry, and a flexibility with no plan as a conflict of its own kind.

use crate::{rt, seeded, urls};
use store::{Details, Kinds, NewIntervention};

fn new(kind: &str, details: Details) -> NewIntervention {
    NewIntervention {
        regulator: "monitor".into(),
        target_kind: "organisation".into(),
        target_code: "RAA".into(),
        kind: kind.into(),
        legal_basis: "NHS Act 2006".into(),
        actions: vec!["act".into()],
        start_date: "2025-04-01".into(),
        deadline: None,
        case_id: None,
        levers: Vec::new(),
        details,
    }
}

#[test]
fn the_built_in_registry_names_the_seeds_instruments() {
    let k = Kinds::builtin();
    assert_eq!(k.format, 1);
    for id in [
        "special_measures",
        "capacity_support",
        "buddying",
        "contingency_planning_team",
        "trust_special_administration",
        "flexibility",
    ] {
        assert!(k.get(id).is_some(), "{id}");
    }
    let flex = k.get("flexibility").unwrap();
    assert!(flex.needs_plan);
    assert_eq!(
        flex.requires,
        vec![store::kinds::Detail::Conditions, store::kinds::Detail::Expiry]
    );
    // Precise refusals of a user's registry.
    let bad = |text: &str| Kinds::parse(text, "my-kinds.toml").unwrap_err();
    let one = "format = 1\nversion = \"v\"\n[[kind]]\nid = \"a\"\ntitle = \"A\"\ndescription = \"d\"\n";
    assert!(Kinds::parse(one, "my-kinds.toml").is_ok());
    let e = bad(&format!(
        "{one}[[kind]]\nid = \"a\"\ntitle = \"A\"\ndescription = \"d\"\n"
    ));
    assert_eq!(e, "my-kinds.toml: kind[2] \"a\": id given twice");
    let e = bad(&one.replace("format = 1", "format = 2"));
    assert_eq!(e, "my-kinds.toml: format 2: this Footprint reads format 1");
    let e = bad(&one.replace("id = \"a\"", "id = \"A b\""));
    assert_eq!(
        e,
        "my-kinds.toml: kind[1] \"A b\": id must be lower-case letters, digits and _, at most 48"
    );
    let e = bad(&format!("{one}requries = [\"cost\"]\n"));
    assert!(e.starts_with("my-kinds.toml: ") && e.contains("requries"), "{e}");
    let e = bad(&format!("{one}requires = [\"budget\"]\n"));
    assert!(e.contains("budget"), "{e}");
}

#[test]
fn kinds_require_their_details_and_a_flexibility_without_a_plan_is_a_conflict() {
    let dir = tempfile::tempdir().unwrap();
    rt().block_on(async {
        for url in urls(dir.path(), "kinds").await {
            let s = seeded(&url).await;
            let before = s.audit().await.unwrap().len();
            let refused = |kind: &str, d: Details| {
                let s = s.clone();
                let n = new(kind, d);
                async move { s.open_intervention(&n, "t").await.unwrap_err().to_string() }
            };
            assert_eq!(
                refused("capacity_support", Details { cost: Some(250_000.0), ..Default::default() }).await,
                "kind capacity_support: must give its provider (Capacity support)"
            );
            assert_eq!(refused("buddying", Details::default()).await, "kind buddying: must give its partner (Buddying with a named partner)");
            assert_eq!(
                refused("buddying", Details { partner: Some("RXX".into()), ..Default::default() }).await,
                "partner \"RXX\": unknown organisation"
            );
            assert_eq!(
                refused("buddying", Details { partner: Some("RAA".into()), ..Default::default() }).await,
                "partner RAA: the target cannot be its own buddy"
            );
            let flex = |expiry: &str| Details {
                conditions: vec!["tariff waived for the frail elderly pathway".into()],
                expiry: Some(expiry.into()),
                ..Default::default()
            };
            assert_eq!(refused("flexibility", flex("2024-12-31")).await, "expiry 2024-12-31: before the start 2025-04-01");
            let e = refused("peer_review", Details::default()).await;
            assert!(e.starts_with("kind \"peer_review\": not an intervention kind of the registry (version 2016-04); one of enforcement_undertaking, "), "{e}");
            assert_eq!(s.audit().await.unwrap().len(), before, "refusals leave nothing");

            // Given what they require, they open and read back with their details.
            let support = Details { provider: Some("management consultants".into()), cost: Some(250_000.0), ..Default::default() };
            let id = s.open_intervention(&new("capacity_support", support.clone()), "t").await.unwrap();
            let buddy = s
                .open_intervention(&new("buddying", Details { partner: Some("RBB".into()), ..Default::default() }), "t")
                .await
                .unwrap();
            let all = s.interventions().await.unwrap();
            assert_eq!(all.iter().find(|i| i.id == id).unwrap().details, support);
            assert_eq!(all.iter().find(|i| i.id == buddy).unwrap().details.partner.as_deref(), Some("RBB"));

            // A flexibility granted with no plan to support is a conflict; linked to a case or
            // a new care model it is not.
            let loose = s.open_intervention(&new("flexibility", flex("2026-03-31")), "t").await.unwrap();
            let conflicts = s.conflicts().await.unwrap();
            let c = conflicts.iter().find(|c| c.kind == "flexibility_without_plan").expect("a conflict");
            assert_eq!(c.intervention_ids, vec![loose]);
            assert_eq!(
                c.explanation,
                format!("Flexibility granted under the regime (intervention {loose}, monitor: tariff waived for the frail elderly pathway) on RAA has no recovery plan or new care model linked: the regime grants flexibilities only in support of change")
            );
            let case = s.open_case("QAA", None, "plan", None, "t").await.unwrap().unwrap();
            let linked = NewIntervention { case_id: Some(case), ..new("flexibility", flex("2026-03-31")) };
            let vanguard = Details { care_model: Some("primary_and_acute_care_system".into()), ..flex("2026-03-31") };
            let a = s.open_intervention(&linked, "t").await.unwrap();
            let b = s.open_intervention(&new("flexibility", vanguard), "t").await.unwrap();
            let conflicts = s.conflicts().await.unwrap();
            let flagged: Vec<i64> = conflicts
                .iter()
                .filter(|c| c.kind == "flexibility_without_plan")
                .flat_map(|c| c.intervention_ids.clone())
                .collect();
            assert_eq!(flagged, vec![loose], "{a} and {b} support a plan");
            s.close_intervention(loose, "lapsed", "t").await.unwrap();
            assert!(!s.conflicts().await.unwrap().iter().any(|c| c.kind == "flexibility_without_plan"));

            // A user's registry adds a kind; the built-in one refuses it.
            let mine = format!(
                "{}\n[[kind]]\nid = \"peer_review\"\ntitle = \"Peer review\"\ndescription = \"A review by peers from another system.\"\n",
                store::kinds::BUILTIN
            );
            let extended = s.clone().with_kinds(Kinds::parse(&mine, "mine.toml").unwrap());
            assert!(extended.open_intervention(&new("peer_review", Details::default()), "t").await.is_ok());
            assert!(s.open_intervention(&new("peer_review", Details::default()), "t").await.is_err());
        }
    });
}
