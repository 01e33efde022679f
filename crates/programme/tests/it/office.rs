//! The office on SQLite always, and on PostgreSQL when `FOOTPRINT_TEST_POSTGRES_URL` names a
//! server (a fresh database per run); without it prints `SKIPPED: programme on PostgreSQL`.

use std::collections::BTreeMap;

use programme::fund::{Decommissioning, Flow, FundRules, Position};
use programme::office::{CareModel, Flexibility, NewApplication, Office};
use programme::review::Review;
use programme::select::{Quota, Rules};

fn application(id: &str, lead: &str, model: &str, region: &str, running: f64) -> NewApplication {
    NewApplication {
        id: id.into(),
        model: model.into(),
        lead_org_code: lead.into(),
        partners: vec![],
        system_code: Some("QOX".into()),
        region_code: Some(region.into()),
        population: 250_000.0,
        flows: vec![
            Flow {
                year: "2016/17".into(),
                running_cost: running,
                savings: 0.0,
            },
            Flow {
                year: "2017/18".into(),
                running_cost: 0.0,
                savings: running * 1.5,
            },
        ],
        decommissioning: vec![
            Decommissioning {
                service: "walk-in centre".into(),
                date: "2017-03-31".into(),
                released: running * 0.75,
            },
            Decommissioning {
                service: "second laboratory".into(),
                date: "2017-03-31".into(),
                released: running * 0.75,
            },
        ],
        benefits: "care closer to home".into(),
    }
}

#[test]
fn a_round_from_applications_to_drawdown() {
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        for url in store::testing::urls(dir.path(), "programme", "programme").await {
            let office = Office::new(store::Store::open(&url).await.unwrap());
            let rules = FundRules::builtin();
            office
                .put_care_model(
                    &CareModel {
                        code: "NCM01".into(),
                        name: "Northern PACS".into(),
                        model: "primary_and_acute_care_system".into(),
                        form: "contracted".into(),
                        contract_form: "capitated".into(),
                        terms: Some("multilateral_msr_stop_loss".into()),
                        system_code: Some("QOX".into()),
                        start_date: "2016-04-01".into(),
                        population: 250_000.0,
                        members: vec!["RA1".into(), "05A".into()],
                        practices: vec!["P1".into(), "P2".into()],
                    },
                    "tester",
                )
                .await
                .unwrap();
            let models = [
                "multispecialty_community_provider",
                "primary_and_acute_care_system",
                "urgent_and_emergency_care_network",
            ];
            for i in 1..=6 {
                let lead = if i == 6 {
                    "RDEF".to_string()
                } else {
                    format!("R{i}")
                };
                let a = application(
                    &i.to_string(),
                    &lead,
                    models[i % 3],
                    if i % 2 == 0 { "Y56" } else { "Y58" },
                    100.0 * i as f64,
                );
                office.submit(&a, "tester").await.unwrap();
            }
            // A second submission of an id is refused, and so is a bad model.
            assert!(
                office
                    .submit(&application("1", "R1", models[0], "Y56", 1.0), "tester")
                    .await
                    .is_err()
            );
            let bad = office
                .submit(&application("9", "R1", "hospital", "Y56", 1.0), "tester")
                .await
                .unwrap_err();
            assert!(bad.to_string().contains("model: \"hospital\""), "{bad}");
            // Reviews: each applicant scores every application; R2 is lenient; its own bid does not count.
            for r in 1..=5 {
                for a in 1..=6 {
                    let score = f64::from((a * 7 + r * 3) % 10) + if r == 2 { 3.0 } else { 0.0 };
                    office
                        .review(
                            &Review {
                                reviewer_org_code: format!("R{r}"),
                                application_id: a.to_string(),
                                score,
                                conflict: r == 3 && a == 4,
                                comment: format!("R{r} on {a}"),
                            },
                            "tester",
                        )
                        .await
                        .unwrap();
                }
            }
            assert!(
                office
                    .review(
                        &Review {
                            reviewer_org_code: "R1".into(),
                            application_id: "2".into(),
                            score: 1.0,
                            conflict: false,
                            comment: String::new()
                        },
                        "tester"
                    )
                    .await
                    .is_err()
            );
            let ranking = office.ranking(programme::review::Method::Zscore).await.unwrap();
            assert_eq!(ranking.excluded.len(), 6, "5 self-reviews and 1 conflict");
            assert_eq!(office.reviews().await.unwrap()[0].comment, "R1 on 1");
            // Eligibility: RDEF is in deficit.
            let positions: BTreeMap<String, Position> = [(
                "RDEF".to_string(),
                Position {
                    org_code: "RDEF".into(),
                    period: "2015/16".into(),
                    income: Some(1e8),
                    actual_surplus: Some(-4e6),
                    control_total: Some(0.0),
                    control_total_agreed: Some(true),
                },
            )]
            .into_iter()
            .collect();
            let refused = office
                .check_eligibility(&positions, &rules, "tester")
                .await
                .unwrap();
            assert_eq!(refused, ["6"]);
            let apps = office.applications().await.unwrap();
            assert!(apps[5].refusals[0].reason.contains("RDEF was in deficit"));
            // Selection among the five eligible, under a budget and a quota.
            let sel = office
                .select(
                    &Rules {
                        budget: 900.0,
                        quota: vec![Quota {
                            field: "region_code".into(),
                            value: "Y58".into(),
                            min: 1,
                            max: Some(2),
                        }],
                    },
                    "tester",
                )
                .await
                .unwrap();
            assert!(sel.result.feasible && sel.result.proven_optimal);
            assert!(!sel.result.selected.contains(&"6".to_string()));
            assert!(sel.result.total_cost <= 900.0);
            assert_eq!(office.selection().await.unwrap().unwrap().result, sel.result);
            // Drawdown: a tranche is not released before its milestone is met.
            let ms = office.milestones().await.unwrap();
            let ts = office.tranches().await.unwrap();
            assert_eq!(ms.len(), 2 * sel.result.selected.len());
            let e = office
                .release_tranche(ts[0].id, "2017-03-31", &rules, "tester")
                .await
                .unwrap_err();
            assert!(e.to_string().contains("which is not met"), "{e}");
            office
                .meet_milestone(ms[0].id, "2017-03-31", "tester")
                .await
                .unwrap();
            office
                .release_tranche(ts[0].id, "2017-03-31", &rules, "tester")
                .await
                .unwrap();
            assert!(
                office
                    .release_tranche(ts[0].id, "2017-03-31", &rules, "tester")
                    .await
                    .is_err()
            );
            let d = office.drawdown(&positions, &rules, "2017-09-30").await.unwrap();
            let first = d
                .iter()
                .find(|x| x.application_id == ms[0].application_id)
                .unwrap();
            assert_eq!(first.covered, ts[0].amount);
            assert_eq!(first.slipping.len(), 1);
            // Flexibilities and the conflicts of commissioners whose practices are members.
            office
                .flexibility(
                    &Flexibility {
                        id: 0,
                        care_model_code: "NCM01".into(),
                        kind: "legal_advice".into(),
                        subject: "May practices hold the contract?".into(),
                        detail: "Yes, if conflicted members stand aside".into(),
                        adviser: Some("counsel".into()),
                        on_date: "2016-05-01".into(),
                    },
                    "tester",
                )
                .await
                .unwrap();
            assert!(
                office
                    .flexibility(
                        &Flexibility {
                            id: 0,
                            care_model_code: "NOPE".into(),
                            kind: "legal_advice".into(),
                            subject: "x".into(),
                            detail: "y".into(),
                            adviser: None,
                            on_date: "2016-05-01".into()
                        },
                        "tester"
                    )
                    .await
                    .is_err()
            );
            let n = office
                .declare_conflicts(
                    &|p| (p == "P1" || p == "P2").then(|| "05A".to_string()),
                    &|o| o == "05A",
                    "2016-04-01",
                    "tester",
                )
                .await
                .unwrap();
            assert_eq!(n, 1);
            assert_eq!(
                office
                    .declare_conflicts(&|_| None, &|o| o == "05A", "2016-04-01", "tester")
                    .await
                    .unwrap(),
                0
            );
            let f = office.flexibilities().await.unwrap();
            assert!(f.iter().any(|f| f.kind == "conflict_of_interest"
                && f.subject == "05A"
                && f.detail.contains("2 of 05A's member practices")));
            // Every change is audited; refused changes leave nothing.
            let audit = office.db.audit().await.unwrap();
            let actions: Vec<&str> = audit.iter().map(|a| a.action.as_str()).collect();
            for a in [
                "put_care_model",
                "submit_application",
                "review_application",
                "application_status",
                "select_portfolio",
                "meet_milestone",
                "release_tranche",
                "record_flexibility",
            ] {
                assert!(actions.contains(&a), "{a} not audited");
            }
            assert_eq!(actions.iter().filter(|a| **a == "submit_application").count(), 6);
            assert_eq!(actions.iter().filter(|a| **a == "release_tranche").count(), 1);
        }
    });
}
