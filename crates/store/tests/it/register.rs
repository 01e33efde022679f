//! The register on both backends: writes, refusals that change nothing, idempotent cases,
//! the audit log, conflicts, and concurrent writers.

use crate::{rt, seeded, urls};
use store::{Lever, NewCommitment, NewIntervention};

fn intervention(regulator: &str, org: &str, levers: &[&str]) -> NewIntervention {
    NewIntervention {
        regulator: regulator.into(),
        target_kind: "organisation".into(),
        target_code: org.into(),
        kind: "enforcement_undertaking".into(),
        legal_basis: "Health and Social Care Act 2012 s.106".into(),
        actions: vec!["deliver a financial recovery plan".into()],
        start_date: "2025-04-01".into(),
        deadline: Some("2025-09-30".into()),
        case_id: None,
        levers: levers.iter().map(|l| Lever::parse(l).unwrap()).collect(),
        details: Default::default(),
    }
}

#[test]
fn refusals_change_nothing_and_every_change_is_audited() {
    let dir = tempfile::tempdir().unwrap();
    rt().block_on(async {
        for url in urls(dir.path(), "refusals").await {
            let s = seeded(&url).await;
            let before = s.audit().await.unwrap().len();
            let refused = [
                NewIntervention {
                    target_code: "RXX".into(),
                    ..intervention("monitor", "RAA", &[])
                },
                NewIntervention {
                    deadline: Some("2025-03-01".into()),
                    ..intervention("monitor", "RAA", &[])
                },
                NewIntervention {
                    kind: "a stern letter".into(),
                    ..intervention("monitor", "RAA", &[])
                },
                intervention("ofsted", "RAA", &[]),
                intervention("monitor", "RAA", &["RAA:beds:-10"]),
                intervention("monitor", "RAA", &["RAA:activity_moved:100"]),
                NewIntervention {
                    case_id: Some(99),
                    ..intervention("monitor", "RAA", &[])
                },
            ];
            let messages: Vec<String> = {
                let mut m = Vec::new();
                for r in &refused {
                    m.push(s.open_intervention(r, "analyst").await.unwrap_err().to_string());
                }
                m
            };
            assert_eq!(messages[0], "organisation \"RXX\": unknown", "{url}");
            assert_eq!(messages[1], "deadline 2025-03-01: before the start 2025-04-01");
            assert!(messages[2].starts_with("kind \"a stern letter\": not an intervention kind"));
            assert_eq!(messages[3], "regulator \"ofsted\": unknown (add it first)");
            assert!(messages[4].starts_with("lever \"beds\": not a lever"));
            assert!(messages[5].contains("needs the organisation it moves to"));
            assert_eq!(messages[6], "case 99: no such case");
            assert!(s.interventions().await.unwrap().is_empty());
            assert_eq!(
                s.audit().await.unwrap().len(),
                before,
                "{url}: a refusal left an audit row"
            );

            let id = s
                .open_intervention(
                    &intervention("monitor", "RAA", &["RAA:acute_beds:-20"]),
                    "analyst",
                )
                .await
                .unwrap();
            let all = s.interventions().await.unwrap();
            assert_eq!(all.len(), 1);
            assert_eq!(all[0].id, id);
            assert_eq!(all[0].system_code.as_deref(), Some("QAA"));
            assert_eq!(all[0].levers[0].amount, -20.0);
            assert!(s.close_intervention(id, "", "analyst").await.is_err());
            s.close_intervention(id, "undertakings met", "analyst")
                .await
                .unwrap();
            assert_eq!(
                s.close_intervention(id, "again", "analyst")
                    .await
                    .unwrap_err()
                    .to_string(),
                format!("intervention {id}: already closed")
            );
            let audit = s.audit().await.unwrap();
            let last = audit.last().unwrap();
            assert_eq!(
                (last.actor.as_str(), last.action.as_str(), last.entity_id),
                ("analyst", "close_intervention", Some(id))
            );
            assert_eq!(last.before.as_ref().unwrap()["status"], "open");
            assert_eq!(last.after.as_ref().unwrap()["status"], "closed");
            // A regulator of the user's own.
            s.add_regulator("ics_board", "ICS board", "analyst")
                .await
                .unwrap();
            assert!(s.add_regulator("ics_board", "again", "analyst").await.is_err());
        }
    });
}

#[test]
fn cases_open_once_per_trigger_and_close_only_when_their_exit_criteria_are_met() {
    let dir = tempfile::tempdir().unwrap();
    rt().block_on(async {
        for url in urls(dir.path(), "cases").await {
            let s = seeded(&url).await;
            let snapshot = serde_json::json!({ "category": "challenged" });
            let id = s
                .open_case(
                    "QAA",
                    Some(("system-2015", "2024/25")),
                    "deficit 4.6%",
                    Some(&snapshot),
                    "sync",
                )
                .await
                .unwrap()
                .unwrap();
            assert_eq!(
                s.open_case("QAA", Some(("system-2015", "2024/25")), "again", None, "sync")
                    .await
                    .unwrap(),
                None
            );
            assert!(s.open_case("QNO", None, "x", None, "sync").await.is_err());
            // By hand, a system with an open case is refused: one plan per health economy.
            let again = s
                .open_case("QAA", None, "by hand", None, "lead")
                .await
                .unwrap_err()
                .to_string();
            assert!(again.contains("already has an open case (#"), "{again}");
            let c = s
                .add_commitment(
                    id,
                    &NewCommitment {
                        stakeholder: "Council".into(),
                        stakeholder_kind: "local_government".into(),
                        care_model: "enhanced_health_in_care_homes".into(),
                        description: "care-home support".into(),
                        due: Some("2025-12-31".into()),
                        levers: vec![Lever::parse("RAA:acute_beds:-30").unwrap()],
                    },
                    "lead",
                )
                .await
                .unwrap();
            assert!(c > 0);
            let e = s
                .add_exit_criterion(id, "system in balance for two quarters", "lead")
                .await
                .unwrap();
            let refused = s
                .close_case(id, "done", None, "lead")
                .await
                .unwrap_err()
                .to_string();
            assert!(
                refused.contains("exit criteria not met (system in balance for two quarters)"),
                "{refused}"
            );
            assert_eq!(s.cases().await.unwrap()[0].status, "open");
            s.meet_exit_criterion(e, "lead").await.unwrap();
            s.record_progress(id, "month 3: on track", "lead").await.unwrap();
            s.close_case(id, "exit criteria met", None, "lead").await.unwrap();
            let case = &s.cases().await.unwrap()[0];
            assert_eq!(case.status, "closed");
            assert_eq!(case.commitments[0].levers[0].amount, -30.0);
            assert_eq!(case.progress.len(), 1);
            assert!(s.record_progress(id, "after", "lead").await.is_err());
            // A second case closed early with an override reason.
            let id2 = s
                .open_case("QZZ", None, "by hand", None, "lead")
                .await
                .unwrap()
                .unwrap();
            s.add_exit_criterion(id2, "A&E at 95%", "lead").await.unwrap();
            s.close_case(
                id2,
                "merged into the regional programme",
                Some("superseded"),
                "lead",
            )
            .await
            .unwrap();
            let c2 = s
                .cases()
                .await
                .unwrap()
                .into_iter()
                .find(|c| c.id == id2)
                .unwrap();
            assert!(
                c2.close_reason
                    .unwrap()
                    .contains("override: superseded; unmet: A&E at 95%")
            );
        }
    });
}

#[test]
fn conflicts_are_found_and_explained() {
    let dir = tempfile::tempdir().unwrap();
    rt().block_on(async {
        for url in urls(dir.path(), "conflicts").await {
            let s = seeded(&url).await;
            let case = s.open_case("QAA", None, "challenged", None, "lead").await.unwrap().unwrap();
            s.add_commitment(
                case,
                &NewCommitment {
                    stakeholder: "RAA".into(),
                    stakeholder_kind: "trust".into(),
                    care_model: "urgent_and_emergency_care_network".into(),
                    description: "keep the beds the network needs".into(),
                    due: None,
                    levers: vec![Lever::parse("RAA:acute_beds:40").unwrap()],
                },
                "lead",
            )
            .await
            .unwrap();
            // Monitor tells RAA to cut 20 beds and move 500 spells to RBB; not linked to the case.
            let a = s
                .open_intervention(&intervention("monitor", "RAA", &["RAA:acute_beds:-20", "RAA:activity_moved:500:RBB"]), "reg")
                .await
                .unwrap();
            // The CQC asks RAA for more beds, linked to the case, with a far-off deadline.
            let b = s
                .open_intervention(
                    &NewIntervention {
                        case_id: Some(case),
                        deadline: Some("2026-06-30".into()),
                        ..intervention("cqc", "RAA", &["RAA:acute_beds:10"])
                    },
                    "reg",
                )
                .await
                .unwrap();
            // Elsewhere, nothing conflicts.
            s.open_intervention(&intervention("monitor", "RZZ", &["RZZ:spending:-1000000"]), "reg").await.unwrap();
            let conflicts = s.conflicts().await.unwrap();
            let kinds: Vec<(&str, &str)> = conflicts.iter().map(|c| (c.kind.as_str(), c.org_code.as_str())).collect();
            assert!(kinds.contains(&("against_plan", "RAA")), "{kinds:?}");
            assert!(kinds.contains(&("cost_shift", "RAA")), "{kinds:?}");
            assert!(kinds.contains(&("unlinked", "RAA")), "{kinds:?}");
            // One conflict for the pair, with both the lever and the deadlines at odds.
            assert_eq!(kinds.iter().filter(|k| k.0 == "inconsistent_demands").count(), 1, "{kinds:?}");
            assert!(!kinds.iter().any(|k| k.1 == "RZZ"));
            let against = conflicts.iter().find(|c| c.kind == "against_plan").unwrap();
            assert_eq!(against.intervention_ids, vec![a]);
            assert_eq!(
                against.explanation,
                format!("monitor enforcement_undertaking (intervention {a}) asks RAA to change acute_beds by -20, but the recovery plan of case {case} for QAA needs 40 (net commitments)")
            );
            let demands = conflicts.iter().find(|c| c.id.starts_with("inconsistent_demands")).unwrap();
            assert_eq!(demands.intervention_ids, vec![a, b]);
            assert_eq!(
                demands.explanation,
                format!("monitor (intervention {a}) asks RAA to change acute_beds by -20; cqc (intervention {b}) asks for 10. monitor (intervention {a}, deadline 2025-09-30) and cqc (intervention {b}, deadline 2026-06-30) set deadlines 273 days apart on the same lever at RAA")
            );
            assert!(conflicts.iter().find(|c| c.kind == "cost_shift").unwrap().explanation.contains("shifts cost onto RBB"));
            // Ids are unique: one conflict per intervention and case, intervention, or pair.
            let mut ids: Vec<&str> = conflicts.iter().map(|c| c.id.as_str()).collect();
            ids.sort_unstable();
            ids.dedup();
            assert_eq!(ids.len(), conflicts.len(), "{ids:?}");
            // Only the unlinked intervention is flagged as unlinked.
            assert_eq!(conflicts.iter().filter(|c| c.kind == "unlinked").count(), 1);
        }
    });
}

#[test]
fn sixteen_concurrent_writers_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    rt().block_on(async {
        for url in urls(dir.path(), "concurrent").await {
            let s = seeded(&url).await;
            let case = s
                .open_case("QAA", None, "load", None, "lead")
                .await
                .unwrap()
                .unwrap();
            let version = s.cases().await.unwrap()[0].version;
            let mut tasks = Vec::new();
            for w in 0..16 {
                // Each writer on its own pool, as separate processes would be.
                let url = url.clone();
                tasks.push(tokio::spawn(async move {
                    let s = store::Store::open(&url).await.unwrap();
                    for k in 0..5 {
                        s.record_progress(case, &format!("writer {w} note {k}"), &format!("writer{w}"))
                            .await
                            .unwrap();
                        s.open_intervention(&intervention("monitor", "RBB", &[]), &format!("writer{w}"))
                            .await
                            .unwrap();
                    }
                }));
            }
            for t in tasks {
                t.await.unwrap();
            }
            let c = &s.cases().await.unwrap()[0];
            assert_eq!(c.progress.len(), 80, "{url}");
            assert_eq!(c.version, version + 80, "{url}: a version increment was lost");
            assert_eq!(s.interventions().await.unwrap().len(), 80, "{url}");
            let audit = s.audit().await.unwrap();
            assert_eq!(audit.iter().filter(|a| a.action == "record_progress").count(), 80);
        }
    });
}

#[test]
fn tokens_are_stored_hashed_checked_and_revoked() {
    let dir = tempfile::tempdir().unwrap();
    rt().block_on(async {
        for url in urls(dir.path(), "tokens").await {
            let s = seeded(&url).await;
            let (t, secret) = s
                .create_token("analyst", "system", Some("QAA"), "admin")
                .await
                .unwrap();
            assert!(secret.starts_with("fp_") && secret.len() == 67, "{secret}");
            assert_eq!(s.token(&secret).await.unwrap().as_ref(), Some(&t));
            assert_eq!(s.token("fp_0000").await.unwrap(), None);
            assert!(!t.can_write());
            // Neither the secret nor its hash is in the audit log.
            let audit = serde_json::to_string(&s.audit().await.unwrap()).unwrap();
            assert!(!audit.contains(&secret[3..]) && !audit.contains(&store::tokens::hash(&secret)));
            assert_eq!(
                s.create_token("x", "national", Some("QAA"), "admin")
                    .await
                    .unwrap_err()
                    .to_string(),
                "scope \"QAA\": a national token sees everything; give no scope"
            );
            assert_eq!(
                s.create_token("x", "regional", None, "admin")
                    .await
                    .unwrap_err()
                    .to_string(),
                "a regional token needs a scope (the region's code)"
            );
            assert!(s.create_token("x", "king", None, "admin").await.is_err());
            s.revoke_token(t.id, "admin").await.unwrap();
            assert_eq!(s.token(&secret).await.unwrap(), None);
            assert!(s.revoke_token(t.id, "admin").await.is_err());
        }
    });
}

/// The conflicts that see more than signs: a demand out of proportion to the plan, capacity
/// cut where activity is sent (both ways round), and interventions on a whole system.
#[test]
fn conflicts_see_magnitude_capacity_and_whole_systems() {
    let dir = tempfile::tempdir().unwrap();
    rt().block_on(async {
        for url in urls(dir.path(), "conflicts_more").await {
            let s = seeded(&url).await;
            let case = s.open_case("QAA", None, "challenged", None, "lead").await.unwrap().unwrap();
            // The plan: RAA closes 10 beds and sends 800 spells a year to RCC; RBB cuts 15 WTE.
            for (who, levers) in [
                ("RAA", vec!["RAA:acute_beds:-10", "RAA:activity_moved:800:RCC"]),
                ("RBB", vec!["RBB:workforce_wte:-15"]),
            ] {
                s.add_commitment(
                    case,
                    &NewCommitment {
                        stakeholder: who.into(),
                        stakeholder_kind: "trust".into(),
                        care_model: "primary_and_acute_care_system".into(),
                        description: "the plan".into(),
                        due: None,
                        levers: levers.iter().map(|l| Lever::parse(l).unwrap()).collect(),
                    },
                    "lead",
                )
                .await
                .unwrap();
            }
            let linked = |n: NewIntervention| NewIntervention {
                case_id: Some(case),
                deadline: None,
                ..n
            };
            // Monitor demands RAA close 100 beds: the plan's -10 cannot deliver it.
            let big = s
                .open_intervention(&linked(intervention("monitor", "RAA", &["RAA:acute_beds:-100"])), "reg")
                .await
                .unwrap();
            // A demand within twice the plan is not out of proportion.
            s.open_intervention(&linked(intervention("monitor", "RAA", &["RAA:acute_beds:-15"])), "reg")
                .await
                .unwrap();
            // The CQC cuts RCC's workforce, where the plan sends 800 spells.
            let cut = s
                .open_intervention(&linked(intervention("cqc", "RCC", &["RCC:workforce_wte:-30"])), "reg")
                .await
                .unwrap();
            // NHS England, on the whole system, moves activity to RBB, whose workforce the plan
            // cuts; and asks RAA to add beds (against the plan's -10); not linked to the case.
            let whole = s
                .open_intervention(
                    &NewIntervention {
                        regulator: "nhs_england".into(),
                        target_kind: "system".into(),
                        target_code: "QAA".into(),
                        deadline: None,
                        ..intervention("nhs_england", "QAA", &["RCC:activity_moved:300:RBB", "RAA:acute_beds:5"])
                    },
                    "reg",
                )
                .await
                .unwrap();
            let conflicts = s.conflicts().await.unwrap();
            let of = |kind: &str, id: i64| {
                conflicts
                    .iter()
                    .filter(|c| c.kind == kind && c.intervention_ids.contains(&id))
                    .collect::<Vec<_>>()
            };
            let m = of("magnitude", big);
            assert_eq!(m.len(), 1, "{conflicts:#?}");
            assert_eq!(
                m[0].explanation,
                format!("monitor enforcement_undertaking (intervention {big}) asks RAA to change acute_beds by -100, 10.0 times the plan's -10: the recovery plan of case {case} for QAA pulls the same way but cannot deliver it as written (more than 2 times apart)")
            );
            assert_eq!(conflicts.iter().filter(|c| c.kind == "magnitude").count(), 1, "-15 against -10 is in proportion");
            let c = of("capacity_against_activity", cut);
            assert_eq!(c.len(), 1, "{conflicts:#?}");
            assert_eq!(
                c[0].explanation,
                format!("cqc enforcement_undertaking (intervention {cut}) on RCC and the recovery plan of case {case} for QAA: the intervention cuts workforce_wte at RCC by 30 while the plan moves 800 spells a year to it. Capacity must follow the activity")
            );
            let w = of("capacity_against_activity", whole);
            assert_eq!(w.len(), 1, "{conflicts:#?}");
            assert!(
                w[0].explanation.contains("on system QAA")
                    && w[0].explanation.contains("the intervention moves 300 spells a year to RBB while the plan cuts its workforce_wte by 15"),
                "{}",
                w[0].explanation
            );
            // A system-level intervention is held to the plan and to the case like any other.
            assert_eq!(of("against_plan", whole).len(), 1, "{conflicts:#?}");
            assert!(of("against_plan", whole)[0].explanation.contains("asks RAA to change acute_beds by 5"));
            let u = of("unlinked", whole);
            assert_eq!(u.len(), 1);
            assert!(u[0].explanation.contains("on system QAA was opened inside QAA"), "{}", u[0].explanation);
            assert_eq!(of("cost_shift", whole).len(), 1, "RCC to RBB moves cost within QAA");
            // And it meets the organisation-level ones at RAA: NHS England's +5 beds against
            // Monitor's -100 and -15.
            let d: Vec<_> = conflicts.iter().filter(|c| c.kind == "inconsistent_demands").collect();
            assert_eq!(d.len(), 2, "{d:#?}");
            assert!(d.iter().all(|c| c.org_code == "RAA" && c.intervention_ids.contains(&whole)));
            // Closing the big demand ends its conflicts.
            s.close_intervention(big, "replaced", "reg").await.unwrap();
            let after = s.conflicts().await.unwrap();
            assert!(!after.iter().any(|c| c.intervention_ids.contains(&big)));
        }
    });
}

/// A commitment changes while it is open and undelivered; before and after are audited.
#[test]
fn commitments_change_until_delivered() {
    let dir = tempfile::tempdir().unwrap();
    rt().block_on(async {
        for url in urls(dir.path(), "change_commitment").await {
            let s = seeded(&url).await;
            let case = s
                .open_case("QAA", None, "challenged", None, "lead")
                .await
                .unwrap()
                .unwrap();
            let id = s
                .add_commitment(
                    case,
                    &NewCommitment {
                        stakeholder: "RAA".into(),
                        stakeholder_kind: "trust".into(),
                        care_model: "urgent_and_emergency_care_network".into(),
                        description: "close a ward".into(),
                        due: Some("2026-03-31".into()),
                        levers: vec![Lever::parse("RAA:acute_beds:-10").unwrap()],
                    },
                    "lead",
                )
                .await
                .unwrap();
            let change = store::CommitmentChange {
                due: Some("2026-06-30".into()),
                levers: Some(vec![
                    Lever::parse("RAA:acute_beds:-25").unwrap(),
                    Lever::parse("RAA:workforce_wte:-12").unwrap(),
                ]),
                ..Default::default()
            };
            s.change_commitment(id, &change, "lead").await.unwrap();
            let c = s
                .cases()
                .await
                .unwrap()
                .into_iter()
                .find(|c| c.id == case)
                .unwrap();
            let m = &c.commitments[0];
            assert_eq!(
                (m.description.as_str(), m.due.as_deref()),
                ("close a ward", Some("2026-06-30"))
            );
            assert_eq!(m.levers.len(), 2);
            assert_eq!(c.plan_totals.get("acute_beds").copied(), Some(-25.0));
            let entry = s
                .audit()
                .await
                .unwrap()
                .into_iter()
                .rev()
                .find(|e| e.action == "change_commitment")
                .unwrap();
            assert_eq!(entry.before.as_ref().unwrap()["levers"][0]["amount"], -10.0);
            assert_eq!(entry.after.as_ref().unwrap()["due"], "2026-06-30");
            // Refused, and nothing written: nothing to change, a bad date, an unknown lever,
            // a missing commitment, a delivered one.
            let before = s.audit().await.unwrap().len();
            let refused = |e: store::Error| e.to_string();
            assert!(
                refused(
                    s.change_commitment(id, &Default::default(), "lead")
                        .await
                        .unwrap_err()
                )
                .contains("nothing to change")
            );
            let bad_date = store::CommitmentChange {
                due: Some("31/03/2026".into()),
                ..Default::default()
            };
            assert!(
                refused(s.change_commitment(id, &bad_date, "lead").await.unwrap_err()).contains("not a date")
            );
            let bad_lever = store::CommitmentChange {
                levers: Some(vec![Lever {
                    org_code: "RAA".into(),
                    lever: "wards".into(),
                    amount: 1.0,
                    to_org_code: None,
                }]),
                ..Default::default()
            };
            assert!(s.change_commitment(id, &bad_lever, "lead").await.is_err());
            assert!(matches!(
                s.change_commitment(id + 100, &change, "lead").await.unwrap_err(),
                store::Error::NotFound(_)
            ));
            assert_eq!(s.audit().await.unwrap().len(), before);
            let c = s
                .cases()
                .await
                .unwrap()
                .into_iter()
                .find(|c| c.id == case)
                .unwrap();
            assert_eq!(
                c.commitments[0].levers.len(),
                2,
                "the refused lever change left the levers"
            );
            s.complete_commitment(id, "lead").await.unwrap();
            assert!(
                refused(s.change_commitment(id, &change, "lead").await.unwrap_err()).contains("delivered")
            );
        }
    });
}
